// SPDX-License-Identifier: GPL-3.0-or-later
// The upload page in a real Chromium with the real tus client: an
// annotator signs in, finds "Déposer" in the header, chooses two WAV files
// and the metadata sidecar of one of them; the page groups them into two
// records (the sidecar's title filled in), the other's title is typed;
// both are sent over tus with their progress shown, ingested as jobs, and
// the jobs list links each recording.  Then the title of one is corrected
// on its recording page.  A larger file sent over a throttled link is
// paused (the bar stops), the page reloaded as after a closed laptop, the
// same file chosen again: it resumes where the server stopped ("Repris")
// and goes in whole (its SHA-256 is the file's).  A researcher gets no form.  Screenshots go to
// out/.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
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
  await pauseReloadResume(anne);
}

// A 2-minute WAV (about 23 MB) over a link throttled to 2 MB/s.
async function pauseReloadResume(page) {
  const big = path.join(tmp, 'in', 'long.wav');
  const sox = spawnSync('sox', ['-n', '-r', '48000', '-c', '2', '-b', '16', big, 'synth', '120', 'pinknoise', 'vol', '0.3']);
  if (!ok(sox.status === 0, 'a 2-minute WAV is made', String(sox.stderr))) return;
  const sha = crypto.createHash('sha256').update(fs.readFileSync(big)).digest('hex');
  const cdp = await page.context().newCDPSession(page);
  const slow = async () => {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 5, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
  };
  await page.goto(server.base + '/upload');
  await waitFor(async () => !(await page.locator('#up-work').isHidden()), 8000);
  await slow();
  await page.setInputFiles('#up-files', [big]);
  const card = page.locator('li.up-item[data-stem="long"]');
  await card.locator('input[name=title]').fill('Long enregistrement');
  await page.click('#up-start');
  const moving = await waitFor(async () => Number(await card.locator('progress').getAttribute('value')) >= 45, 30000, 100);
  if (!ok(moving, 'the long file is on its way', await card.locator('progress').getAttribute('value'))) return;
  await card.locator('button.up-pause').click();
  const p1 = Number(await card.locator('progress').getAttribute('value'));
  await new Promise((r) => setTimeout(r, 1200));
  const p2 = Number(await card.locator('progress').getAttribute('value'));
  ok(p1 === p2 && /En pause/.test(await card.locator('.up-state').textContent()), 'pause stops it where it is',
    [p1, p2, await card.locator('.up-state').textContent()]);
  await page.screenshot({ path: path.join(OUT, 'upload-paused.png'), fullPage: true });

  // the laptop closed: the page is gone, the file chosen again later
  await page.reload();
  await waitFor(async () => !(await page.locator('#up-work').isHidden()), 8000);
  await slow();
  await page.setInputFiles('#up-files', [big]);
  const again = page.locator('li.up-item[data-stem="long"]');
  await again.locator('input[name=title]').fill('Long enregistrement');
  await page.click('#up-start');
  const resumed = await waitFor(async () => /Repris/.test(await again.locator('.up-state').textContent()), 15000, 50);
  ok(resumed, 'after a reload the same file resumes where it stopped', await again.locator('.up-state').textContent());
  const first = Number(await again.locator('progress').getAttribute('value'));
  ok(first >= 30, 'it starts again from the bytes already sent, not from 0 (' + first + ' %)', first);
  await page.screenshot({ path: path.join(OUT, 'upload-resumed.png'), fullPage: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const inArchive = await waitFor(async () => /Versé/.test(await again.locator('.up-state').textContent()), 90000, 200);
  ok(inArchive, 'and goes into the archive', await again.locator('.up-state').textContent());
  const link = await page.locator('#up-jobs li.done a.up-rec').first().getAttribute('href');
  const cookie = (await page.context().cookies()).map((c) => c.name + '=' + c.value).join('; ');
  const rec = await (await fetch(server.base + '/api' + link, { headers: { Cookie: cookie } })).json();
  ok(rec.title === 'Long enregistrement' && rec.sha256 === sha, 'whole: the stored original\'s SHA-256 is the file\'s',
    [rec.title, rec.sha256, sha]);
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
