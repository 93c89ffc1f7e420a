// SPDX-License-Identifier: GPL-3.0-or-later
// The record corrected on the recording page, in a real Chromium: an
// annotator signs in, opens "Correct the record", changes the title and
// keywords, variety and place and saves; the page and the API show them
// at once.  A second
// annotator's page, read before that, is told of the conflict instead of
// overwriting it.  An anonymous visitor gets no form.  Screenshots go to
// out/.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const PARLERS = process.env.PARLERS ||
  (fs.existsSync(path.join(root, 'build', 'cli', 'parlers')) ? path.join(root, 'build', 'cli', 'parlers') : 'parlers');
const CORPUS = process.env.PARLERS_CORPUS || path.join(root, 'corpus');
const OUT = path.join(here, 'out');
fs.mkdirSync(OUT, { recursive: true });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-catalogue-'));
const data = path.join(tmp, 'data');
const USERS = [['anne', 'anne-catalogue-1'], ['basile', 'basile-catalogue-1']];
let server = null;
let browser = null;

async function signIn(id, login, pw) {
  const ctx = await browser.newContext({ locale: 'fr-FR' });
  const page = await ctx.newPage();
  await page.goto(server.base + '/login?next=' + encodeURIComponent('/recordings/' + id));
  await page.fill('#login-name', login);
  await page.fill('#login-pass', pw);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/recordings/' + id, { timeout: 10000 }).catch(() => {}),
    page.click('#login-submit'),
  ]);
  return page;
}

async function main() {
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith('cotentin-1976-la-mezoun.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  const ing = spawnSync(PARLERS, ['-d', data, 'ingest', '--json', '--access', 'public', src], { encoding: 'utf8' });
  const id = JSON.parse((ing.stdout || '{}').split('\n')[0] || '{}').id;
  if (!ok(id > 0, 'a recording is ingested', ing.stderr)) return;
  for (const [login, pw] of USERS) {
    const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', login, '--role', 'annotator'], { input: pw + '\n', encoding: 'utf8' });
    ok(u.status === 0, `user add ${login}`, u.stderr);
  }
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  browser = await launchChromium();

  const anon = await (await browser.newContext()).newPage();
  await anon.goto(server.base + '/recordings/' + id);
  await anon.waitForSelector('#meta dt');
  ok(await anon.locator('#cat-edit').count() === 0, 'an anonymous visitor gets no form');

  const anne = await signIn(id, ...USERS[0]);
  const basile = await signIn(id, ...USERS[1]);
  const seen = await waitFor(async () => (await anne.locator('#cat-edit').count()) > 0, 8000);
  if (!ok(seen, 'an annotator gets "Corriger la notice" on the recording page')) return;
  await waitFor(async () => (await basile.locator('#cat-edit').count()) > 0, 8000);
  await anne.click('#cat-edit summary');
  ok(await anne.inputValue('#cat-title') === 'La mézoun de ma grand-mère', 'the form holds the current title');
  await anne.fill('#cat-title', 'La mézoun de ma grand-mère (Vauville)');
  await anne.fill('#cat-keywords', 'maison, famille, Vauville');
  await anne.fill('#cat-variety', 'Haguais');
  await anne.fill('#cat-place', 'Vauville');
  await anne.click('#cat-form button[type=submit]');
  const saved = await waitFor(async () => (await anne.textContent('#cat-status')) === 'Notice enregistrée.', 8000);
  ok(saved, 'saving says so', await anne.textContent('#cat-status'));
  ok(await anne.textContent('#rec-title') === 'La mézoun de ma grand-mère (Vauville)', 'the page title follows at once');
  await anne.screenshot({ path: path.join(OUT, 'catalogue-saved.png'), fullPage: true });
  const rec = await (await fetch(server.base + '/api/recordings/' + id)).json();
  ok(rec.title === 'La mézoun de ma grand-mère (Vauville)' && rec.keywords.join(',') === 'maison,famille,Vauville' &&
     rec.version === 2, 'the API gives the new title and keywords at version 2', rec.version);
  ok(rec.variety === 'Haguais' && rec.place && rec.place.name === 'Vauville', 'and the new variety and place',
     JSON.stringify([rec.variety, rec.place]));
  ok(/Vauville/.test(await anne.textContent('#meta')) && /Haguais/.test(await anne.textContent('#meta')),
     'the metadata beside the form shows them at once');

  // basile read version 1: his save is a conflict, not an overwrite
  await basile.click('#cat-edit summary');
  await basile.fill('#cat-title', 'Autre titre');
  await basile.click('#cat-form button[type=submit]');
  const told = await waitFor(async () => /modifié cette notice/.test(await basile.textContent('#cat-status')), 8000);
  ok(told, 'a second editor who read the old version is told of the conflict', await basile.textContent('#cat-status'));
  await basile.screenshot({ path: path.join(OUT, 'catalogue-conflict.png'), fullPage: true });
  const after = await (await fetch(server.base + '/api/recordings/' + id)).json();
  ok(after.title === 'La mézoun de ma grand-mère (Vauville)', 'and the first edit stands');

  // an invalid date: the sidecar's sentence in the status line
  await anne.fill('#cat-date', '1976-13');
  await anne.click('#cat-form button[type=submit]');
  const refused = await waitFor(async () => /YYYY-MM-DD/.test(await anne.textContent('#cat-status')), 8000);
  ok(refused, 'an invalid date is refused with the sidecar\'s sentence', await anne.textContent('#cat-status'));
}

try {
  await main();
} catch (err) {
  ok(false, 'the test ran to the end', err && err.stack);
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
}
done();
