// SPDX-License-Identifier: GPL-3.0-or-later
// Browser tests of what the editor does with speech tools, in a real
// headless Chromium (Debian's, driven by playwright-core): a tier made by
// forced alignment (the real binary, on real French speech) is drawn apart
// on the timeline and in the list, its doubtful lines flagged, and an
// annotator accepts one segment, then the whole tier; a visitor's page says
// the transcript is machine-made and not reviewed until then.  Screenshots
// go to out/ (speech-*.png).  TAP on stdout.
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
const SPEECH = path.join(process.env.PARLERS_TESTS || path.join(root, 'tests'), 'speech', 'data');
const OUT = path.join(here, 'out');
fs.mkdirSync(OUT, { recursive: true });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-speech-editor-'));
const data = path.join(tmp, 'data');
const USER = ['anne', 'le-vent-d-amont-1976'];
let server = null;
let browser = null;

const cli = (...args) => spawnSync(PARLERS, ['-d', data, ...args], { encoding: 'utf8' });

async function main() {
  const ing = cli('ingest', '--json', '--access', 'public', path.join(SPEECH, 'fr-prompts.flac'));
  const line = (ing.stdout || '').split('\n').filter(Boolean).map((l) => JSON.parse(l))[0];
  if (!ok(line && line.status === 'ingested', 'the French recording is ingested', ing.stderr)) return;
  const id = line.id;
  const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', USER[0], '--role', 'annotator'], { input: USER[1] + '\n', encoding: 'utf8' });
  if (!ok(u.status === 0, 'an annotator is added', u.stderr)) return;
  // the transcript with one line that is not said, so that one is doubtful
  const txt = path.join(tmp, 'lines.txt');
  fs.writeFileSync(txt, fs.readFileSync(path.join(SPEECH, 'fr-prompts.txt'), 'utf8') +
    'Une phrase que personne ne prononce jamais dans cet enregistrement\n');
  const al = cli('align', String(id), txt, '--json');
  if (!ok(al.status === 0, 'parlers align makes a machine-made tier', al.stderr)) return;
  const aligned = JSON.parse(al.stdout);
  const nDoubtful = aligned.segments.filter((s) => s.doubtful).length;
  ok(nDoubtful >= 1, `some lines are doubtful (${nDoubtful})`);

  server = await serve(PARLERS, data);
  const { base } = server;
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const stored = async () => (await fetch(`${base}/api/recordings/${id}`)).json();

  browser = await launchChromium();
  const problems = [];
  async function newPage(opts = {}) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR', ...opts });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console: ' + m.text()); });
    return page;
  }

  /* ---- a visitor is told ---- */
  const v = await newPage();
  await v.goto(`${base}/recordings/${id}`);
  const note = await waitFor(() => v.$eval('#machine-note', (n) => n.textContent).catch(() => null), 10000);
  ok(note && /alignée automatiquement, non relue/.test(note), 'the public page says the transcript is machine-made and not reviewed', note);
  await v.screenshot({ path: path.join(OUT, 'speech-public-note.png') });

  /* ---- the annotator's editor ---- */
  const a = await newPage();
  await a.goto(`${base}/recordings/${id}`);
  await a.waitForSelector('#ed-signin');
  await a.focus('#ed-signin');
  await a.keyboard.press('Enter');
  await a.waitForSelector('#ed-login[open]');
  await a.keyboard.type(USER[0]);
  await a.keyboard.press('Tab');
  await a.keyboard.type(USER[1]);
  await a.keyboard.press('Enter');
  await a.waitForSelector('#editor', { timeout: 10000 });
  const tierKey = await a.evaluate(() => window.parlersEditor.tiers().find((t) => t.name === 'aligned').key);
  await a.selectOption('#ed-tier', tierKey);
  const counts = await waitFor(() => a.evaluate(() => ({
    rows: document.querySelectorAll('#ed-segs .ed-seg').length,
    machine: document.querySelectorAll('#ed-segs .ed-seg.machine').length,
    doubtful: document.querySelectorAll('#ed-segs .ed-seg.doubtful').length,
  })).then((c) => (c.machine ? c : null)), 5000);
  ok(counts && counts.machine === aligned.segments.length && counts.doubtful === nDoubtful,
    'every row of the aligned tier is marked as the machine\'s, the doubtful ones flagged', counts);
  const noteText = await a.$eval('#ed-machine-note', (n) => (n.hidden ? '' : n.textContent));
  ok(/parlers align/.test(noteText) && noteText.includes(String(aligned.segments.length)), 'the editor says which tool proposed the tier and how much is left to review', noteText);
  await a.evaluate(() => window.parlersEditor.view(0, 20000));
  await a.screenshot({ path: path.join(OUT, 'speech-editor-machine.png'), fullPage: true });
  // the rows are drawn only when on screen (content-visibility): one doubtful row in view
  await a.$eval('#ed-segs .ed-seg.doubtful', (li) => li.scrollIntoView({ block: 'center' }));
  await a.screenshot({ path: path.join(OUT, 'speech-editor-doubtful.png') });

  // one segment accepted from its row
  await a.click('#ed-segs .ed-seg.machine .ed-accept');
  let rec = await waitFor(async () => {
    const r = await stored();
    const t = r.tiers.find((x) => x.name === 'aligned');
    return t.segments.filter((s) => s.origin === null).length === 1 ? r : null;
  }, 5000);
  ok(rec, 'Accepter on a row accepts that segment on the server');
  ok(await a.evaluate(() => document.querySelectorAll('#ed-segs .ed-seg.machine').length) === aligned.segments.length - 1,
    'and its row is no longer marked');
  // the whole tier
  await a.click('#ed-tier-accept');
  rec = await waitFor(async () => {
    const r = await stored();
    const t = r.tiers.find((x) => x.name === 'aligned');
    return t.origin === null && t.segments.every((s) => s.origin === null) ? r : null;
  }, 5000);
  ok(rec, 'Accepter la couche accepts the rest of the tier');
  ok(await a.evaluate(() => document.querySelectorAll('#ed-segs .ed-seg.machine').length === 0 &&
    document.getElementById('ed-machine-note').hidden && document.getElementById('ed-tier-accept').hidden),
  'no mark, note or accept button is left in the editor');
  await v.reload();
  await v.waitForSelector('#transcript .seg');
  ok(await v.$('#machine-note') === null, 'the public page no longer says "non relue"');
  ok(!problems.length, 'no script error in the pages', problems.join('\n'));
}

try {
  await main();
} catch (e) {
  ok(false, 'the test ran to its end', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
