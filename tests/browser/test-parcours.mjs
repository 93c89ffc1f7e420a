// SPDX-License-Identifier: GPL-3.0-or-later
// A thematic route in a real Chromium: "Play the route" plays each stop's
// span and goes on to the next after a short pause, the transcript line
// being heard is highlighted, the route stops after its last stop, and
// #stop=N opens stop N.  A stop on a restricted recording is not offered
// to an anonymous visitor.  The route's map shows its stops numbered (a
// click goes to one); staff reorder the stops in the editor by drag and
// drop and by the keyboard, save, and undo the save from the history.
// Screenshots go to tests/browser/out/.  TAP.
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
  const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', 'chef', '--role', 'admin'], { input: 'chef-pass-1\n', encoding: 'utf8' });
  ok(u.status === 0, 'an admin account is made', u.stderr);
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

  await checkMap(ctx);
  await checkEditor(browser, route);
}

// The route page's map: the outline drawn offline, a numbered marker per
// place, a click on one goes to its next stop.
async function checkMap(ctx) {
  const page = await ctx.newPage();
  await page.goto(`${server.base}/routes/la-ferme`);
  const drawn = await waitFor(() => page.evaluate(() =>
    document.getElementById('route-map').classList.contains('outlined') &&
    document.querySelectorAll('.stop-marker').length > 0), 8000);
  ok(drawn, 'the route page draws its map with the outline parlers ships, offline');
  const labels = await page.$$eval('.stop-marker', (els) => els.map((e) => e.textContent));
  ok(JSON.stringify(labels) === JSON.stringify(['1, 2, 3']),
    'one marker for the place of the three stops heard, numbered (the restricted one left out)', labels);
  ok(await page.$eval('.stop-marker', (e) => e.classList.contains('current')), 'the current stop\'s marker stands out');
  await page.click('.stop-marker');
  ok(/2\D+3/.test(await page.textContent('#stop-count')), 'a click on the marker goes to its next stop');
  await page.screenshot({ path: path.join(OUT, 'route-map.png'), fullPage: true });
  await page.close();
}

// The editor: staff reorder the stops by drag and drop and by the
// keyboard, save, see the history, undo the save.
async function checkEditor(browser, route) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await ctx.newPage();
  await page.goto(`${server.base}/routes/la-ferme/edit`);
  ok(await page.isVisible('#re-signin') && !(await page.isVisible('#re-form')),
    'an anonymous visitor is asked to sign in, and gets no form');
  const login = await ctx.request.post(`${server.base}/api/login`, { data: { login: 'chef', password: 'chef-pass-1' } });
  ok(login.status() === 200, 'the admin signs in');
  await page.evaluate(() => localStorage.setItem('parlers-signed-in', '1'));
  await page.goto(`${server.base}/routes/la-ferme/edit`);
  await page.waitForSelector('#re-stops li');
  const titles = () => page.$$eval('#re-stops .re-stop-title', (els) => els.map((e) => e.value));
  ok(JSON.stringify(await titles()) === JSON.stringify(route.stops.map((s) => s.title)),
    'the editor lists every stop, staff hear them all', await titles());
  // drag the last stop's handle onto the first stop
  await page.dragAndDrop('#re-stops li:nth-child(4) .re-handle', '#re-stops li:nth-child(1)',
    { targetPosition: { x: 40, y: 5 } });
  const moved = await waitFor(async () => (await titles())[0] === 'Le pressoir', 3000);
  ok(moved, 'a stop dragged by its handle moves up the list', await titles());
  ok((await page.textContent('#re-stops li:nth-child(1) .re-n')) === '1', 'and the stops are numbered again');
  // the keyboard: the second stop's handle, arrow down
  await page.focus('#re-stops li:nth-child(2) .re-handle');
  await page.keyboard.press('ArrowDown');
  ok(JSON.stringify(await titles()) === JSON.stringify(['Le pressoir', 'Réservé', 'Les pommes', 'Les foins']),
    'the arrow keys on a handle move its stop', await titles());
  ok(await page.evaluate(() => document.activeElement.closest('li') === document.querySelector('#re-stops li:nth-child(3)')),
    'the focus moves with it');
  await page.fill('#re-stops li:nth-child(1) .re-note', '<b>Le pressoir</b> & le cidre');
  await page.selectOption('#re-cover', { index: 1 });
  await page.click('#re-save');
  const saved = await waitFor(async () => /2/.test(await page.textContent('#re-status')), 5000);
  ok(saved, 'saving answers with the new version', await page.textContent('#re-status'));
  const api = await (await ctx.request.get(`${server.base}/api/routes/la-ferme`)).json();
  ok(JSON.stringify(api.stops.map((s) => s.title)) === JSON.stringify(['Le pressoir', 'Réservé', 'Les pommes', 'Les foins']) &&
    api.stops[0].note === '<b>Le pressoir</b> & le cidre' && api.cover_recording_id > 0,
    'the route is saved in its new order, the note as text, with its cover', api.stops.map((s) => s.title));
  await page.waitForSelector('#re-history li');
  ok((await page.$$('#re-history li')).length === 2, 'the history lists the import and the save');
  await page.screenshot({ path: path.join(OUT, 'route-edit.png'), fullPage: true });
  await page.click('#re-history li:nth-child(1) .re-revert');
  const undone = await waitFor(async () => (await titles())[0] === 'Les pommes', 5000);
  ok(undone, 'undoing the save brings the first order back', await titles());
  const view = await ctx.newPage();
  await view.goto(`${server.base}/routes/la-ferme`);
  ok(await waitFor(() => view.isVisible('#route-edit'), 5000), 'the route page offers staff a link to the editor');
  await ctx.close();
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
