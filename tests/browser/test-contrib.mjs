// SPDX-License-Identifier: GPL-3.0-or-later
// Contributions in a real Chromium: a visitor finds the recording on
// /help-transcribe (its progress, a "Proposer" link that invites them to
// sign in), opens a contributor account on /signup (the licence checkbox,
// the hidden trap left empty), follows the link back and proposes a text
// for a segment (the progress line counts it awaiting review), an annotator reviews it on
// /review (the word diff, the keyboard: a accepts), the contributor sees it
// accepted and the recording page and /contributors/{login} credit them.
// Screenshots go to tests/browser/out/.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');
const OUT = path.join(here, 'out');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-contrib-'));
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith('cotentin-1976-la-mezoun.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  spawnSync(PARLERS, ['-d', data, 'ingest', '--access', 'public', src], { encoding: 'utf8' });
  const add = spawnSync(PARLERS, ['-d', data, 'user', 'add', 'ann', '--role', 'annotator'],
    { input: 'ann-pass-123\n', encoding: 'utf8' });
  ok(add.status === 0, 'an annotator account is made', add.stderr);
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  browser = await launchChromium();

  // the visitor looks for something to transcribe
  const visitor = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const v = await visitor.newPage();
  const errors = [];
  v.on('pageerror', (e) => errors.push(String(e)));
  await v.goto(server.base + '/');
  await v.click('header.site a[href="/help-transcribe"]');
  ok(await waitFor(() => v.isVisible('#ht-1'), 10000), 'the header leads to the help list, which lists the recording');
  ok(/\d+\s?%/.test(await v.textContent('#ht-1 .progress-line')), 'with its progress', await v.textContent('#ht-1'));
  ok(await waitFor(async () => (await v.$$('#ht-collections tbody tr')).length === 1, 5000), 'and the collections\' progress');
  await v.screenshot({ path: path.join(OUT, 'contrib-help.png'), fullPage: true });
  await v.click('#ht-1 a.button');
  ok(await waitFor(() => v.isVisible('#pr-invite'), 10000), 'Proposer leads a visitor to an invitation to sign in');
  ok(new URL(v.url()).hash === '#propose', 'at the proposal form\'s place', v.url());
  ok(await v.isVisible('#rec-progress'), 'the recording page shows its progress');
  await v.screenshot({ path: path.join(OUT, 'contrib-invite.png'), fullPage: true });

  // signs up
  await v.goto(server.base + '/signup');
  ok((await v.textContent('#su-licence-text')).includes('CC BY-SA 4.0'), 'the sign-up page names the licence');
  ok(await v.$eval('#su-website', (e) => e.getBoundingClientRect().right < 0), 'the trap field is off the screen');
  await v.fill('#su-login', 'marie');
  await v.fill('#su-name', 'Marie');
  await v.fill('#su-pass', 'marie-pass-1');
  await v.fill('#su-credit', 'Marie Lebas');
  await v.check('#su-licence');
  await v.screenshot({ path: path.join(OUT, 'contrib-signup.png'), fullPage: true });
  await v.click('#signup-submit');
  ok(await waitFor(() => v.isVisible('#signup-done'), 10000), 'the account is opened and signed in',
    await v.textContent('#signup-error'));

  // proposes on the first segment, from the help list
  await v.goto(server.base + '/help-transcribe');
  ok(await waitFor(() => v.isVisible('#ht-1 a.button'), 10000), 'back on the help list');
  await v.click('#ht-1 a.button');
  ok(await waitFor(() => v.isVisible('#pr-form'), 10000), 'the recording page offers to propose');
  const first = await v.$eval('#pr-segment option', (o) => o.value);
  await v.selectOption('#pr-segment', first);
  await v.fill('#pr-text', "Ch'est dans chutte mézoun-là que j'sis nè");
  await v.click('#pr-send');
  ok(await waitFor(async () => (await v.$$('#pr-mine li')).length === 1, 10000), 'the proposal shows among mine');
  ok((await v.$$('#pr-mine li .status-pending')).length === 1, 'as pending');
  await v.reload();
  ok(await waitFor(async () => / 1 /.test((await v.textContent('#rec-progress').catch(() => '')) || ''), 10000),
    'the progress line counts one proposal awaiting review', await v.textContent('#rec-progress').catch(() => ''));
  await v.screenshot({ path: path.join(OUT, 'contrib-proposed.png'), fullPage: true });

  // the annotator reviews
  const staff = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const s = await staff.newPage();
  s.on('pageerror', (e) => errors.push(String(e)));
  await s.goto(server.base + '/login?next=/review');
  await s.fill('#login-name', 'ann');
  await s.fill('#login-pass', 'ann-pass-123');
  await Promise.all([s.waitForURL((u) => u.pathname === '/review', { timeout: 10000 }), s.click('#login-submit')]);
  ok(await waitFor(async () => (await s.$$('#rv-queue li')).length === 1, 10000), 'the queue lists the proposal');
  const ins = await s.$$eval('#rv-diff ins', (x) => x.map((e) => e.textContent));
  const del = await s.$$eval('#rv-diff del', (x) => x.map((e) => e.textContent));
  ok(ins.includes('nè') && del.length > 0, 'the word diff marks what changes', { ins, del });
  ok((await s.getAttribute('#rv-audio', 'src')).includes('/clip.opus?start='), 'the span is there to play');
  await s.screenshot({ path: path.join(OUT, 'contrib-review.png'), fullPage: true });
  await s.keyboard.press('a');
  ok(await waitFor(async () => (await s.$$('#rv-queue li')).length === 0, 10000), 'a accepts: the queue empties');

  // the contributor sees it accepted, and the credit
  await v.goto(server.base + '/recordings/1');
  ok(await waitFor(async () => (await v.$$('#pr-mine li .status-accepted')).length === 1, 10000),
    'the contributor sees the proposal accepted');
  ok(await waitFor(async () => ((await v.textContent('#rec-contributors').catch(() => '')) || '').includes('Marie Lebas'), 10000),
    'the recording page names its contributor');
  ok((await v.textContent('#transcript')).includes("que j'sis nè"), 'the transcript has the accepted text');
  await v.screenshot({ path: path.join(OUT, 'contrib-accepted.png'), fullPage: true });
  await v.goto(server.base + '/contributors/marie');
  ok(await waitFor(async () => (await v.$$('#co-list li')).length === 1, 5000), 'the contributor page lists the accepted work');
  ok((await v.textContent('h1')) === 'Marie Lebas', 'under the credit name');
  await v.screenshot({ path: path.join(OUT, 'contrib-credit.png'), fullPage: true });
  await v.goto(server.base + '/help-transcribe');
  ok(await waitFor(async () => /\b0 /.test((await v.textContent('#ht-1 .progress-line').catch(() => '')) || ''), 10000),
    'after review, nothing awaits review on the help list', await v.textContent('#ht-1').catch(() => ''));
  ok(errors.length === 0, 'no script error on any page', errors);
}

try {
  await main();
} catch (e) {
  ok(false, 'the browser test ran to the end', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
