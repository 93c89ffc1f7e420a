// SPDX-License-Identifier: GPL-3.0-or-later
// Browser tests of what the editor does with speech tools, in a real
// headless Chromium (Debian's, driven by playwright-core): a tier made by
// forced alignment (the real binary, on real French speech) is drawn apart
// on the timeline and in the list, its doubtful lines flagged, and an
// annotator accepts one segment, then the whole tier; a visitor's page says
// the transcript is machine-made and not reviewed until then; the
// transcription mode's loop and keys; Proposer des segments and Aligner un
// texte (a file uploaded, a text pasted) run as jobs on the server with
// their progress shown, their result opened as a new tier, cancel honoured.  Screenshots
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
  const sg = cli('segment', String(id), '--json');
  if (!ok(sg.status === 0, 'parlers segment proposes the stretches of speech as a tier', sg.stderr)) return;
  const proposed = JSON.parse(sg.stdout).segments;
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
  const e = await newPage();
  await e.goto(`${base}/embed/${id}?transcript=1`);
  const enote = await waitFor(() => e.$eval('#machine-note', (n) => (n.hidden ? null : n.textContent)).catch(() => null), 10000);
  ok(enote && /non relue/.test(enote), 'so does the embeddable player with its transcript', enote);

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
  // the server may have it before the page has read the answer
  const left = aligned.segments.length - 1;
  ok(await waitFor(() => a.evaluate((n) => document.querySelectorAll('#ed-segs .ed-seg.machine').length === n, left), 5000),
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

  /* ---- transcription mode on the proposed segments ---- */
  const segKey = await a.evaluate(() => window.parlersEditor.tiers().find((t) => t.name === 'segments').key);
  await a.selectOption('#ed-tier', segKey);
  await a.click('#ed-tm-btn');
  const tmState = () => a.evaluate(() => window.parlersEditor.tm());
  let st = await waitFor(async () => { const x = await tmState(); return x.on && x.key ? x : null; }, 5000);
  const firstId = (await stored()).tiers.find((x) => x.name === 'segments').segments[0].id;
  ok(st && st.id === firstId && await a.evaluate(() => !document.getElementById('ed-tm').hidden &&
    document.activeElement.classList.contains('ed-tm-text')),
  'Mode transcription opens on the first segment, its text field focused', st);
  ok(await a.$$eval('#ed-tm-list .ed-tm-row', (r) => r.length) === proposed.length &&
    await a.$$eval('#ed-tm-list .ed-tm-row .ed-play', (b) => b.length) === proposed.length,
  'one row per segment, each with its own play button');
  ok(st && Math.abs(st.rate - 0.75) < 1e-6, 'it plays slower (0.75× by default)', st);
  await a.selectOption('#ed-tm-loops', '2');
  await a.selectOption('#ed-tm-pause', '250');
  await a.selectOption('#ed-tm-rate', '0.5');
  // start the loop again with these settings: play button of the first row
  await a.click('#ed-tm-list .ed-tm-row:first-child .ed-play');
  const seg0 = proposed[0];
  const looped = await waitFor(async () => {
    const x = await tmState();
    return x.done >= 2 && !x.waiting ? x : null;
  }, 20000 + 6 * (seg0.end_ms - seg0.start_ms));
  const at = await a.evaluate(() => Math.round(document.getElementById('audio').currentTime * 1000));
  ok(looped && looped.rate === 0.5 && await a.evaluate(() => document.getElementById('audio').paused) &&
    at >= seg0.end_ms - 50 && at <= seg0.end_ms + 400,
  `the current segment played twice at 0.5× and stopped at its end (${at} ms, end ${seg0.end_ms})`, looped);
  await a.$eval('#ed-tm-list .ed-tm-row.current', (li) => li.scrollIntoView({ block: 'center' }));
  await a.screenshot({ path: path.join(OUT, 'speech-transcription-mode.png') });
  // Enter saves and goes to the next
  await a.focus('#ed-tm-list .ed-tm-row:first-child .ed-tm-text');
  await a.keyboard.type('Premier segment');
  await a.keyboard.press('Shift+Enter');
  await a.keyboard.type('sur deux lignes');
  await a.keyboard.press('Enter');
  st = await waitFor(async () => { const x = await tmState(); return x.id && x.id !== firstId ? x : null; }, 5000);
  const secondId = (await stored()).tiers.find((x) => x.name === 'segments').segments[1].id;
  ok(st && st.id === secondId && await a.evaluate(() => document.activeElement.closest('.ed-tm-row') &&
    document.activeElement.closest('.ed-tm-row').classList.contains('current')),
  'Enter goes to the next segment, which becomes the current one', st);
  const savedText = await waitFor(async () => {
    const t = (await stored()).tiers.find((x) => x.name === 'segments');
    return t.segments[0].text === 'Premier segment\nsur deux lignes' ? t : null;
  }, 10000);
  ok(savedText && savedText.segments[0].origin === null, 'and the text is saved on the server (Shift+Enter kept as a new line), the segment no longer the machine\'s');
  ok(await waitFor(() => a.evaluate(() => !document.getElementById('audio').paused), 3000), 'the next segment plays');
  await a.keyboard.press('Escape');
  ok(await waitFor(() => a.evaluate(() => document.getElementById('audio').paused), 3000), 'Escape pauses it');
  await a.keyboard.press('Escape');
  ok(await waitFor(() => a.evaluate(() => !document.getElementById('audio').paused), 3000), 'Escape again plays it from its start');
  await a.click('#ed-tm-btn');
  st = await tmState();
  ok(!st.on && st.rate === 1 && await a.evaluate(() => document.getElementById('ed-tm').hidden && !document.getElementById('ed-segs').hidden),
    'leaving the mode brings back the list and the speed', st);

  /* ---- the automatic tools, as jobs on the server ---- */
  const jobText = () => a.$eval('#ed-job-text', (p) => p.textContent);
  await a.click('#ed-propose');
  const running = await waitFor(() => a.evaluate(() => !document.getElementById('ed-job').hidden &&
    document.getElementById('ed-propose').disabled), 5000, 20);
  ok(running, 'Proposer des segments starts a job: its progress shows, the buttons wait');
  const doneText = await waitFor(async () => { const x = await jobText(); return /Terminé/.test(x) ? x : null; }, 60000, 100);
  ok(doneText && /segments proposés/.test(doneText), 'it ends with a new tier to review', doneText || await jobText());
  let active = await a.evaluate(() => document.getElementById('ed-tier').selectedOptions[0].textContent);
  ok(active.startsWith('segments proposés') && await a.evaluate(() => document.querySelectorAll('#ed-segs .ed-seg.machine').length) === proposed.length,
    'the new tier opens, every segment marked as the machine\'s', active);

  // Aligner un texte: the transcript uploaded as a file
  await a.click('#ed-align');
  await a.waitForSelector('#ed-align-dlg[open]');
  await a.setInputFiles('#ed-align-file', path.join(SPEECH, 'fr-prompts.txt'));
  await waitFor(() => a.$eval('#ed-align-text', (t) => t.value.length > 100), 3000);
  await a.screenshot({ path: path.join(OUT, 'speech-align-dialog.png') });
  await a.click('#ed-align-go');
  const alignDone = await waitFor(async () => { const x = await jobText(); return /Terminé|Échec/.test(x) ? x : null; }, 180000, 100);
  ok(alignDone && /Terminé/.test(alignDone) && /texte aligné/.test(alignDone), 'the alignment ends with its new tier', alignDone);
  rec = await stored();
  const at2 = rec.tiers.find((x) => x.name === 'texte aligné');
  ok(at2 && at2.segments.length === aligned.segments.length - 1 && at2.origin === 'machine',
    'the tier holds the file\'s lines, machine-made', at2 && at2.segments.length);
  active = await a.evaluate(() => document.getElementById('ed-tier').selectedOptions[0].textContent);
  ok(active.startsWith('texte aligné'), 'and opens in the editor', active);

  // pasted text, then cancelled: on the prompts said twenty times over, a
  // job that runs for seconds on any machine, so the cancel comes while it runs
  const longFlac = path.join(tmp, 'fr-prompts-long.flac');
  const sox = spawnSync('sox', [...Array(20).fill(path.join(SPEECH, 'fr-prompts.flac')), longFlac], { encoding: 'utf8' });
  const ingLong = cli('ingest', '--json', '--access', 'public', longFlac);
  const longLine = (ingLong.stdout || '').split('\n').filter(Boolean).map((l) => JSON.parse(l))[0];
  if (!ok(sox.status === 0 && longLine && longLine.status === 'ingested', 'a long recording is ingested', sox.stderr + ingLong.stderr)) return;
  await a.goto(`${base}/recordings/${longLine.id}`);
  await a.waitForSelector('#editor', { timeout: 10000 });
  await a.click('#ed-align');
  await a.waitForSelector('#ed-align-dlg[open]');
  await a.click('#ed-align-go');
  ok(await a.$eval('#ed-align-error', (p) => !p.hidden && /vide/.test(p.textContent)), 'an empty text is refused in the dialog');
  await a.fill('#ed-align-text', fs.readFileSync(path.join(SPEECH, 'fr-prompts.txt'), 'utf8').repeat(20));
  await a.click('#ed-align-go');
  const moving = await waitFor(() => a.evaluate(() => {
    const bar = document.getElementById('ed-job-bar');
    return !document.getElementById('ed-job-cancel').hidden && bar.value > 0 && bar.value < 1 ? bar.value : null;
  }), 60000, 50);
  ok(moving, `the progress bar moves while the text is aligned (${moving && moving.toFixed(2)})`);
  await a.$eval('#ed-job', (n) => n.scrollIntoView({ block: 'center' }));
  await a.screenshot({ path: path.join(OUT, 'speech-job-progress.png') });
  await a.click('#ed-job-cancel');
  const cancelled = await waitFor(async () => { const x = await jobText(); return /Annulé|Terminé/.test(x) ? x : null; }, 60000, 100);
  ok(cancelled && /Annulé/.test(cancelled), 'Annuler stops the job, and says no tier was made', cancelled);
  rec = await (await fetch(`${base}/api/recordings/${longLine.id}`)).json();
  ok(!rec.tiers.some((x) => /texte aligné/.test(x.name)), 'no tier was made', rec.tiers.map((x) => x.name));
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
