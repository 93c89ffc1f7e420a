// SPDX-License-Identifier: GPL-3.0-or-later
// "Qu'est-ce qu'i dit ?" in a real Chromium: a round plays its clip and
// offers four meanings; choosing says right or wrong, shows both texts and
// where the voice comes from, and counts the score, which survives a
// reload (it stays in the browser); keys 1-4 answer.  Screenshot in
// tests/browser/out/.  TAP on stdout.
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-games-'));
const data = path.join(tmp, 'data');
let server = null, browser = null;

async function main() {
  spawnSync(PARLERS, ['-d', data, 'init'], { encoding: 'utf8' });
  const ing = spawnSync(PARLERS, ['-d', data, 'ingest', CORPUS], { encoding: 'utf8' });
  ok(ing.status === 0, 'the sample corpus is ingested', ing.stderr);
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await ctx.newPage();
  const rounds = [];
  page.on('response', async (r) => { if (r.url().includes('/api/games/round')) rounds.push(await r.json()); });
  await page.goto(`${server.base}/games`);
  await page.click('#new-round');
  await page.waitForSelector('.choice');
  ok((await page.$$('.choice')).length === 4, 'a round offers four meanings');
  const playing = await waitFor(() => page.evaluate(() => {
    const a = document.getElementById('audio');
    return !a.paused && a.currentTime > 0;
  }), 6000);
  ok(playing, 'its clip plays');
  const round = rounds[0];
  const c = round.clip;
  const inSpan = await page.evaluate(([s, e]) => {
    const t = document.getElementById('audio').currentTime * 1000;
    return t >= s - 300 && t <= e + 300;
  }, [c.start_ms, c.end_ms]);
  ok(inSpan, 'from the round\'s own span');
  const wrong = (round.answer + 1) % 4;
  await page.click(`.choice >> nth=${wrong}`);
  ok((await page.textContent('#verdict')).length > 0 && await page.isVisible('#result'), 'a wrong choice is said');
  ok(await page.$eval(`.choice >> nth=${round.answer}`, (b) => b.classList.contains('right')), 'and the right one shown');
  ok((await page.textContent('#said')) === round.text && (await page.textContent('#meant')) === round.translation,
    'with what was said and what it means');
  ok((await page.textContent('#from')).includes(round.place), 'and where it comes from');
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'games.png'), fullPage: true });

  await page.click('#new-round');
  await waitFor(() => rounds.length === 2, 5000);
  await page.waitForFunction(() => !document.querySelector('.choice').disabled);
  await page.keyboard.press(String(rounds[1].answer + 1));
  ok(await page.$eval(`.choice >> nth=${rounds[1].answer}`, (b) => b.classList.contains('right')), 'a key answers');
  ok(/1\D+2/.test(await page.textContent('#score')), 'the score counts one right out of two', await page.textContent('#score'));
  ok(rounds[1].segment_id !== rounds[0].segment_id, 'the second round is another sentence');
  await page.reload();
  ok(/1\D+2/.test(await page.textContent('#score')), 'the score stays in the browser');
  await checkWhere(ctx);
}

// "Où qu'ch'est ?": a voice, a click on the map, the distance and the answer.
async function checkWhere(ctx) {
  const page = await ctx.newPage();
  const rounds = [];
  page.on('response', async (r) => { if (r.url().includes('/api/games/round?game=where')) rounds.push(await r.json()); });
  await page.goto(`${server.base}/games`);
  ok(await waitFor(() => page.evaluate(() => document.getElementById('where-map').classList.contains('outlined')), 8000),
    'the where game\'s map draws the outline parlers ships, offline');
  await page.click('#where-new');
  await waitFor(() => rounds.length === 1, 5000);
  ok(rounds.length === 1 && rounds[0].answer && typeof rounds[0].answer.lat === 'number', 'a where round is drawn');
  const playing = await waitFor(() => page.evaluate(() => {
    const a = document.getElementById('where-audio');
    return !a.paused && a.currentTime > 0;
  }), 6000);
  ok(playing, 'its voice plays');
  const box = await page.$eval('#where-map', (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; });
  await page.mouse.click(box[0] + box[2] * 0.3, box[1] + box[3] * 0.5);
  await page.waitForSelector('#where-result:not([hidden])');
  const verdict = await page.textContent('#where-verdict');
  ok(/\d+(\.\d)? km\D+\d+ points/.test(verdict), 'a click answers with the distance in km and the points', verdict);
  const r = rounds[0];
  ok((await page.textContent('#where-place')).startsWith(r.answer.place), 'the answer names the place', await page.textContent('#where-place'));
  ok((await page.textContent('#where-said')) === r.text, 'and what was said');
  const speaker = await waitFor(async () => (await page.textContent('#where-speaker')).length > 0, 5000);
  ok(speaker, 'and who said it', await page.textContent('#where-speaker'));
  ok(await page.$('.where-truth') !== null, 'the map shows where it was recorded');
  ok(/\d+\D+1/.test(await page.textContent('#where-score')), 'the score counts the round', await page.textContent('#where-score'));
  await page.screenshot({ path: path.join(OUT, 'games-where.png'), fullPage: true });
  // the keyboard: a new round answered at the map's centre
  await page.click('#where-new');
  await waitFor(() => rounds.length === 2, 5000);
  await page.waitForFunction(() => !document.getElementById('where-centre').disabled);
  await page.focus('#where-centre');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#where-result:not([hidden])');
  ok(/km/.test(await page.textContent('#where-verdict')), 'the keyboard answers at the map\'s centre');
  ok(await page.$$eval('#where-list option', (o) => o.length) >= 1, 'the places heard make a list to answer with');
  await page.reload();
  ok(/\d+\D+2/.test(await page.textContent('#where-score')), 'the score stays in the browser', await page.textContent('#where-score'));
  await page.close();
}

try {
  await main();
} catch (e) {
  ok(false, 'the games test ran to its end', e.stack);
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
