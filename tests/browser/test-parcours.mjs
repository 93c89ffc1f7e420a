// SPDX-License-Identifier: GPL-3.0-or-later
// A thematic route in a real Chromium: "Play the route" plays each stop's
// span and goes on to the next after a short pause, the transcript line
// being heard is highlighted, the route stops after its last stop, and
// #stop=N opens stop N.  A stop on a restricted recording is not offered
// to an anonymous visitor.  Screenshots go to tests/browser/out/.  TAP.
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-parcours-'));
const data = path.join(tmp, 'data');
let server = null, browser = null;

async function main() {
  spawnSync(PARLERS, ['-d', data, 'init'], { encoding: 'utf8' });
  const ing = spawnSync(PARLERS, ['-d', data, 'ingest', CORPUS], { encoding: 'utf8' });
  ok(ing.status === 0, 'the sample corpus is ingested', ing.stderr);
  const recs = JSON.parse(spawnSync(PARLERS, ['-d', data, 'list', '--json'], { encoding: 'utf8' }).stdout).recordings;
  const id = (prefix) => recs.find((r) => r.title.startsWith(prefix)).id;
  const route = {
    slug: 'la-ferme', title: 'À la ferme', intro: 'Les pommes, les foins.',
    stops: [
      { recording_id: id('Le bère'), start_ms: 6500, end_ms: 8500, title: 'Les pommes', note: 'À la gaule.' },
      { recording_id: recs.find((r) => r.access === 'restricted').id, start_ms: 0, end_ms: 2000, title: 'Réservé' },
      { recording_id: id('Le temps des foins'), start_ms: 1000, end_ms: 3000, title: 'Les foins' },
      { recording_id: id('Le bère'), start_ms: 11000, end_ms: 13000, title: 'Le pressoir' },
    ],
  };
  const file = path.join(tmp, 'route.json');
  fs.writeFileSync(file, JSON.stringify(route));
  const imp = spawnSync(PARLERS, ['-d', data, 'route', 'import', file], { encoding: 'utf8' });
  ok(imp.status === 0, 'the route is imported', imp.stderr);
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;

  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${server.base}/routes`);
  await page.click('text=À la ferme');
  await page.waitForSelector('#stops li');
  const names = await page.$$eval('#stops .stop-name', (els) => els.map((e) => e.textContent));
  ok(JSON.stringify(names) === JSON.stringify(['Les pommes', 'Les foins', 'Le pressoir']),
    'the stops are listed, the restricted one left out', names);
  ok((await page.textContent('#stop-count')).match(/1\D+3/), 'the first stop is shown');

  await page.click('#route-play');
  const line = await waitFor(() => page.evaluate(() => {
    const li = document.querySelector('#stop-lines li.now .line-text');
    return li && li.textContent;
  }), 5000);
  ok(line && line.startsWith('À la Saint-Michel'), 'the line being heard is highlighted', line);
  const second = await waitFor(async () => /2\D+3/.test(await page.textContent('#stop-count')), 10000);
  ok(second, 'at the end of the first stop the route goes on to the second');
  ok(await page.evaluate(() => location.hash) === '#stop=3', 'the address names the stop (its place in the route)');
  const playing = await waitFor(() => page.evaluate(() => {
    const a = document.getElementById('audio');
    return !a.paused && a.currentTime > 1.1 && a.currentTime < 3.1;
  }), 6000);
  ok(playing, 'the second stop plays its own span');
  const third = await waitFor(async () => /3\D+3/.test(await page.textContent('#stop-count')), 10000);
  ok(third, 'and then the third');
  const ended = await waitFor(() => page.evaluate(() => {
    const a = document.getElementById('audio');
    return a.paused && a.currentTime >= 12.9;
  }), 8000);
  ok(ended, 'the route stops after its last stop');
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'route.png'), fullPage: true });

  const p2 = await ctx.newPage();
  await p2.goto(`${server.base}/routes/la-ferme#stop=4`);
  await p2.waitForSelector('#stop-title');
  ok((await p2.textContent('#stop-title')) === 'Le pressoir', '#stop=4 opens that stop');
  await p2.click('#stop-prev');
  ok((await p2.textContent('#stop-title')) === 'Les foins', 'the previous stop is one click away');
}

try {
  await main();
} catch (e) {
  ok(false, 'the route test ran to its end', e.stack);
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
