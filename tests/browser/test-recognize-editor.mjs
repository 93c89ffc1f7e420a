// SPDX-License-Identifier: GPL-3.0-or-later
// Browser test of « Transcrire automatiquement » in the editor, in a real
// headless Chromium (Debian's, driven by playwright-core) against the real
// binary: a server started without a recognizers file shows no button; with
// two recognizers declared, a list beside the button chooses one, the job's
// progress shows while the recognizer runs, its result opens as a new
// machine-made tier; Annuler stops a recognizer that would run on, and no
// tier is made.  The recognizers are small shell commands behind the real
// contract (a WAV in, JSON out), so that the test takes seconds; the real
// recognizer is tested over HTTP in tests/speech/test-recognize-jobs.py.
// Screenshots go to out/ (recognize-*.png).  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, freePort, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const PARLERS = process.env.PARLERS ||
  (fs.existsSync(path.join(root, 'build', 'cli', 'parlers')) ? path.join(root, 'build', 'cli', 'parlers') : 'parlers');
const SPEECH = path.join(process.env.PARLERS_TESTS || path.join(root, 'tests'), 'speech', 'data');
const OUT = path.join(here, 'out');
fs.mkdirSync(OUT, { recursive: true });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-recognize-editor-'));
const data = path.join(tmp, 'data');
const USER = ['rene', 'la-maison-du-bout-1981'];
let server = null;
let browser = null;

const cli = (...args) => spawnSync(PARLERS, ['-d', data, ...args], { encoding: 'utf8' });

async function main() {
  const ing = cli('ingest', '--json', '--access', 'public', path.join(SPEECH, 'fr-prompts.flac'));
  const line = (ing.stdout || '').split('\n').filter(Boolean).map((l) => JSON.parse(l))[0];
  if (!ok(line && line.status === 'ingested', 'a French recording is ingested', ing.stderr)) return;
  const id = line.id;
  const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', USER[0], '--role', 'annotator'], { input: USER[1] + '\n', encoding: 'utf8' });
  if (!ok(u.status === 0, 'an annotator is added', u.stderr)) return;

  const port = await freePort();
  server = await serve(PARLERS, data, port);
  const { base } = server;
  if (!ok(server.up, 'the server starts without a recognizers file', server.errors())) return;

  browser = await launchChromium();
  const problems = [];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const a = await ctx.newPage();
  a.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  a.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console: ' + m.text()); });
  await a.goto(`${base}/recordings/${id}`);
  await a.waitForSelector('#ed-signin');
  await a.click('#ed-signin');
  await a.waitForSelector('#ed-login[open]');
  await a.keyboard.type(USER[0]);
  await a.keyboard.press('Tab');
  await a.keyboard.type(USER[1]);
  await a.keyboard.press('Enter');
  await a.waitForSelector('#editor', { timeout: 10000 });
  await a.waitForSelector('#ed-propose');
  await a.waitForTimeout(300);
  ok(await a.$eval('#ed-recognize-box', (b) => b.hidden), 'no recognizer declared: no « Transcrire automatiquement » button');
  await stop(server);

  // two recognizers: one that answers after a second, one that would run on
  const cues = path.join(tmp, 'cues.json');
  fs.writeFileSync(cues, JSON.stringify({ segments: [
    { start: 0.5, end: 2.0, text: 'bonjour' }, { start: 2.5, end: 4.0, text: 'à tous' }] }));
  fs.writeFileSync(path.join(data, 'recognizers'), `[cues]
command = test -s {wav} && sleep 1 && cat '${cues}'
language = fr

[lent]
command = sleep 30 # {wav}
`);
  server = await serve(PARLERS, data, port);
  if (!ok(server.up, 'the server starts again with two recognizers declared', server.errors())) return;
  await a.reload();
  await a.waitForSelector('#editor', { timeout: 10000 });
  const shown = await waitFor(() => a.evaluate(() => {
    const box = document.getElementById('ed-recognize-box');
    const sel = document.getElementById('ed-recognizer');
    return !box.hidden && !sel.hidden ? [...sel.options].map((o) => o.value) : null;
  }), 5000);
  ok(shown && shown.join() === 'cues,lent', 'the button shows, with a list of the declared recognizers', shown);
  ok(await a.$eval('#ed-recognize', (b) => b.textContent) === 'Transcrire automatiquement' &&
    await a.$eval('label[for=ed-recognizer]', (l) => !l.hidden && l.textContent === 'Outil'), 'labelled in French');
  await a.$eval('.ed-tools', (n) => n.scrollIntoView({ block: 'center' }));
  await a.screenshot({ path: path.join(OUT, 'recognize-button.png') });

  const jobText = () => a.$eval('#ed-job-text', (p) => p.textContent);
  await a.selectOption('#ed-recognizer', 'cues');
  await a.click('#ed-recognize');
  const running = await waitFor(() => a.evaluate(() => !document.getElementById('ed-job').hidden &&
    document.getElementById('ed-recognize').disabled && document.getElementById('ed-propose').disabled), 5000, 20);
  ok(running, 'it starts a job: its progress shows, the buttons wait');
  const doneText = await waitFor(async () => { const x = await jobText(); return /Terminé|Échec/.test(x) ? x : null; }, 30000, 100);
  ok(doneText && /Terminé/.test(doneText) && /« cues »/.test(doneText), 'it ends with a new tier named after the recognizer', doneText);
  const active = await a.evaluate(() => document.getElementById('ed-tier').selectedOptions[0].textContent);
  const rows = await a.evaluate(() => [...document.querySelectorAll('#ed-segs .ed-seg.machine')].length);
  ok(active.startsWith('cues') && rows === 2, 'the new tier opens, its two segments marked as the machine\'s', { active, rows });
  const rec = await (await fetch(`${base}/api/recordings/${id}`)).json();
  const t = rec.tiers.find((x) => x.name === 'cues');
  ok(t && t.origin === 'machine' && t.segments.map((s) => s.text).join('|') === 'bonjour|à tous', 'the server has the tier, machine-made', t);
  await a.screenshot({ path: path.join(OUT, 'recognize-done.png'), fullPage: true });

  // one that runs on: Annuler stops it
  await a.selectOption('#ed-recognizer', 'lent');
  await a.click('#ed-recognize');
  const moving = await waitFor(() => a.evaluate(() => {
    const bar = document.getElementById('ed-job-bar');
    return !document.getElementById('ed-job-cancel').hidden && bar.value > 0 && bar.value < 1 ? bar.value : null;
  }), 10000, 50);
  ok(moving, `the progress bar moves while the recognizer runs (${moving && moving.toFixed(2)})`);
  await a.$eval('#ed-job', (n) => n.scrollIntoView({ block: 'center' }));
  await a.screenshot({ path: path.join(OUT, 'recognize-progress.png') });
  await a.click('#ed-job-cancel');
  const cancelled = await waitFor(async () => { const x = await jobText(); return /Annulé|Terminé|Échec/.test(x) ? x : null; }, 10000, 100);
  ok(cancelled && /Annulé/.test(cancelled), 'Annuler stops it, and says no tier was made', cancelled);
  const rec2 = await (await fetch(`${base}/api/recordings/${id}`)).json();
  ok(!rec2.tiers.some((x) => x.name.startsWith('lent')), 'no tier was made', rec2.tiers.map((x) => x.name));
  ok(!problems.length, 'no script error in the page', problems.join('\n'));
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
