// SPDX-License-Identifier: GPL-3.0-or-later
// The upload page in a real Chromium with the real tus client: an
// annotator signs in, finds "Déposer" in the header, chooses two WAV files
// and the metadata sidecar of one of them; the page groups them into two
// records (the sidecar's title filled in), the other's title is typed;
// both are sent over tus with their progress shown, ingested as jobs, and
// the jobs list links each recording.  Then the title of one is corrected
// on its recording page.  A researcher gets no form.  Screenshots go to
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-upload-'));
const data = path.join(tmp, 'data');
const USERS = [['anne', 'anne-upload-pass-1', 'annotator'], ['remi', 'remi-upload-pass-1', 'researcher']];
let server = null;
let browser = null;

async function signIn(login, pw) {
  const ctx = await browser.newContext({ locale: 'fr-FR' });
  const page = await ctx.newPage();
  await page.goto(server.base + '/login?next=' + encodeURIComponent('/upload'));
  await page.fill('#login-name', login);
  await page.fill('#login-pass', pw);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/upload', { timeout: 10000 }).catch(() => {}),
    page.click('#login-submit'),
  ]);
  return page;
}

async function main() {
  const init = spawnSync(PARLERS, ['-d', data, 'init'], { encoding: 'utf8' });
  ok(init.status === 0, 'init', init.stderr);
  for (const [login, pw, role] of USERS) {
    const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', login, '--role', role], { input: pw + '\n', encoding: 'utf8' });
    ok(u.status === 0, `user add ${login}`, u.stderr);
  }
  // the files as a deposit brings them: two recordings, one with its sidecar
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  const a = path.join(src, 'la-mezoun.wav');
  const aJson = path.join(src, 'la-mezoun.json');
  const b = path.join(src, 'foins.wav');
  fs.copyFileSync(path.join(CORPUS, 'cotentin-1976-la-mezoun.wav'), a);
  fs.writeFileSync(aJson, JSON.stringify({ title: 'La mézoun (déposée)', date: '1976-06-14', place: 'La Hague', access: 'public' }));
  fs.copyFileSync(path.join(CORPUS, 'caux-1981-le-temps-des-foins.wav'), b);

  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  browser = await launchChromium();

  const remi = await signIn(USERS[1][0], USERS[1][1]);
  const refused = await waitFor(async () => !(await remi.locator('#up-refused').isHidden()), 8000);
  ok(refused && await remi.locator('#up-work').isHidden(), 'a researcher gets a sentence, no form',
    await remi.textContent('#up-refused'));

  const anne = await signIn(USERS[0][0], USERS[0][1]);
  const form = await waitFor(async () => !(await anne.locator('#up-work').isHidden()), 8000);
  if (!ok(form, 'an annotator gets the upload form')) return;
  ok(await waitFor(async () => (await anne.locator('#nav-upload a').count()) > 0, 5000),
    'the header links the upload page for staff');
  await anne.setInputFiles('#up-files', [a, aJson, b]);
  const two = await waitFor(async () => (await anne.locator('#up-list li.up-item').count()) === 2, 5000);
  ok(two, 'three files make two records (the sidecar goes with its audio)', await anne.locator('#up-list li.up-item').count());
  const cardA = anne.locator('li.up-item[data-stem="la-mezoun"]');
  const cardB = anne.locator('li.up-item[data-stem="foins"]');
  ok(await cardA.locator('input[name=title]').inputValue() === 'La mézoun (déposée)', 'the sidecar\'s title fills the record');
  ok(/la-mezoun\.json/.test(await cardA.locator('.up-side').textContent()), 'the record names its sidecar');
  await cardB.locator('input[name=title]').fill('Le temps des foins (dépôt)');
  await cardB.locator('input[name=date]').fill('1981');
  await anne.screenshot({ path: path.join(OUT, 'upload-ready.png'), fullPage: true });

  // the progress the page shows, sampled as it goes
  const seen = new Set();
  const sampler = setInterval(async () => {
    try { seen.add(await cardA.locator('progress').getAttribute('value')); } catch (e) { /* page closing */ }
  }, 20);
  await anne.click('#up-start');
  const both = await waitFor(async () => (await anne.locator('#up-jobs li.done').count()) === 2, 30000, 100);
  clearInterval(sampler);
  ok(both, 'both files are sent and ingested: two jobs done', await anne.textContent('#up-jobs'));
  ok(seen.has('100') && [...seen].some((v) => v !== '100'), 'the progress bar moved to 100', [...seen].join(','));
  ok(/Versé dans l’archive/.test(await cardA.locator('.up-state').textContent()), 'each record says it is in the archive',
    await cardA.locator('.up-state').textContent());
  await anne.screenshot({ path: path.join(OUT, 'upload-done.png'), fullPage: true });

  const links = await anne.locator('#up-jobs a.up-rec').evaluateAll((as) => as.map((x) => x.getAttribute('href')));
  ok(links.length === 2 && links.every((h) => /^\/recordings\/\d+$/.test(h)), 'the jobs list links both recordings', links);
  const recs = [];
  for (const h of links) recs.push(await (await fetch(server.base + '/api' + h, { headers: { Cookie: (await anne.context().cookies()).map((c) => c.name + '=' + c.value).join('; ') } })).json());
  const titles = recs.map((r) => r.title).sort();
  ok(JSON.stringify(titles) === JSON.stringify(['La mézoun (déposée)', 'Le temps des foins (dépôt)']),
    'the recordings have the titles of the sidecar and of the form', titles);
  const pub = recs.find((r) => r.title === 'La mézoun (déposée)');
  ok(pub && pub.access === 'public' && pub.place && pub.place.name === 'La Hague', 'and the sidecar\'s access and place',
    pub && [pub.access, pub.place]);

  // a reload keeps the jobs list (this browser's deposits)
  await anne.reload();
  const kept = await waitFor(async () => (await anne.locator('#up-jobs li.done').count()) === 2, 8000);
  ok(kept, 'after a reload the jobs list still shows both');

  // then a title corrected on the recording page
  const id = pub.id;
  await anne.goto(server.base + '/recordings/' + id);
  const edit = await waitFor(async () => (await anne.locator('#cat-edit').count()) > 0, 8000);
  if (!ok(edit, 'the recording page offers its correction form')) return;
  await anne.click('#cat-edit summary');
  await anne.fill('#cat-title', 'La mézoun de ma grand-mère');
  await anne.click('#cat-form button[type=submit]');
  const saved = await waitFor(async () => (await anne.textContent('#cat-status')) === 'Notice enregistrée.', 8000);
  ok(saved, 'the title is corrected', await anne.textContent('#cat-status'));
  await anne.screenshot({ path: path.join(OUT, 'upload-title-edited.png'), fullPage: true });
  const rec = await (await fetch(server.base + '/api/recordings/' + id)).json();
  ok(rec.title === 'La mézoun de ma grand-mère', 'the API gives the corrected title', rec.title);
  ok(!fs.readdirSync(path.join(data, 'uploads')).length, 'nothing is left in uploads/', fs.readdirSync(path.join(data, 'uploads')));
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
