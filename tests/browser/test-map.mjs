// SPDX-License-Identifier: GPL-3.0-or-later
// The map of voices in a real Chromium, with no network but the server's:
// /map draws its Leaflet map (served by parlers) over the shipped outline
// of Normandy while the tiles it asks for never arrive; a point per place
// with recordings a visitor may hear, sized by hours, two neighbours
// grouped into a cluster that opens on a click; a click on a point lists
// the place's voices and a play button plays one; the list of places
// under the map gives the same places to the keyboard; the filters keep
// their places; a private recording's place is nowhere; the home page and
// an institution's page carry a map panel; a theme's page lists its
// recordings.  Screenshots go to $PARLERS_SCREENSHOTS (default: a
// temporary folder, named in a comment line) to be looked at.  TAP on
// stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-map-'));
const shots = process.env.PARLERS_SCREENSHOTS || path.join(tmp, 'shots');
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

function run(...args) {
  return spawnSync(PARLERS, ['-d', data, ...args], { encoding: 'utf8' });
}

function ingest(stem) {
  const src = path.join(tmp, stem);
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith(stem + '.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  const r = run('ingest', '--json', src);
  const line = JSON.parse(r.stdout.split('\n')[0] || '{}');
  ok(r.status === 0 && line.status === 'ingested', `${stem} is ingested`, r.stderr);
  return line.id;
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  let r = run('init', '--institution', 'musee-hague', '--name', 'Musée de la Hague');
  ok(r.status === 0, 'init', r.stderr);
  const idBere = ingest('caux-1981-le-bere-et-les-pommiers');
  const idFoins = ingest('caux-1981-le-temps-des-foins');
  const idMezoun = ingest('cotentin-1976-la-mezoun');
  const idPrivate = ingest('cotentin-1994-souvenirs-de-couturiere');
  // a second place a stone's throw from Yvetot: the two crowd together
  r = run('edit', String(idFoins), '--set',
    'place={"name":"Yvetot-le-Bourg","commune":"Yvetot-le-Bourg","lat":49.625,"lon":0.765}');
  ok(r.status === 0, 'a recording moved next door', r.stderr);
  r = run('theme', 'tag', 'la-mer', '--recording', String(idMezoun));
  ok(r.status === 0, 'a recording tagged la mer', r.stderr);

  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const own = new URL(server.base).host;
  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'fr-FR' });
  const offsite = [];
  // no network but the server: the tiles never come, as on a machine offline
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.host === own) return route.continue();
    offsite.push(u.host);
    return route.abort();
  });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/ERR_FAILED|net::|404/.test(m.text())) errors.push(m.text()); });

  // /map: the outline, the points, a cluster
  await page.goto(server.base + '/map?lang=fr');
  const loaded = await waitFor(() => page.$eval('.voices-map', (m) => m.classList.contains('loaded')), 8000);
  ok(loaded, 'the map loads its places');
  const outlined = await waitFor(() => page.$eval('.voices-map .map', (m) => m.classList.contains('outlined')), 5000);
  ok(outlined, 'the map draws the shipped outline');
  const shapes = await page.$$eval('.voices-map .leaflet-outline-pane path', (ps) => ps.length);
  ok(shapes === 9, 'the five départements and four islands', shapes);
  ok(offsite.some((h) => h.endsWith('tile.openstreetmap.org')), 'it asked for the tiles, which never came', offsite);
  const places = await page.$$eval('.place-list li button', (bs) => bs.map((b) => b.textContent));
  ok(places.length === 3, 'three places listed (the private one is not)', places);
  ok(!places.some((p) => /Valognes|Clos du Cotentin/.test(p)), 'the private recording\'s place is nowhere', places);
  const clusters = await page.$$eval('.voices-map .marker-cluster', (cs) => cs.map((c) => c.textContent.trim()));
  ok(clusters.length === 1 && clusters[0] === '2', 'the two neighbours are one cluster of 2', clusters);
  const points = await page.$$eval('.voices-map path.voice-point', (ps) => ps.length);
  ok(points === 1, 'the place far from them is a point of its own', points);
  await page.screenshot({ path: path.join(shots, 'map.png'), fullPage: true });

  // the cluster opens on a click: the map zooms to its two points (the
  // far one leaves the view)
  await page.click('.voices-map .marker-cluster');
  const opened = await waitFor(async () => (await page.$$eval('.voices-map path.voice-point', (ps) => ps.length)) === 2 &&
    (await page.$$eval('.voices-map .marker-cluster', (cs) => cs.length)) === 0, 5000);
  ok(opened, 'a click on the cluster opens it into its two points');
  const radii = await page.$$eval('.voices-map path.voice-point', (ps) => ps.map((p) => p.getBoundingClientRect().width));
  ok(radii.every((w) => w >= 12), 'every point is drawn big enough to click', radii);
  await page.screenshot({ path: path.join(shots, 'map-open.png'), fullPage: false });

  // a click on a point lists its voices; a play button plays one
  await page.click('.voices-map path.voice-point >> nth=0', { force: true });
  const voices = await waitFor(() => page.$$eval('.voices li', (l) => l.length), 5000);
  ok(voices >= 1, 'a click on a point lists its voices', voices);
  const title = await page.textContent('.voices li a');
  ok(title && title.length > 3, 'each voice with its title and a link', title);
  await page.click('.voices li button.play');
  const playing = await waitFor(() => page.evaluate(() => {
    const a = document.querySelector('.voices-map').voicesMap.player.audio;
    return !a.paused && a.currentTime > 0.2;
  }), 8000);
  ok(playing, 'its play button plays the voice');
  const pressed = await page.getAttribute('.voices li button.play', 'aria-pressed');
  ok(pressed === 'true', 'the button says it is playing', pressed);
  await page.screenshot({ path: path.join(shots, 'map-voices.png'), fullPage: false });
  await page.click('.voices li button.play');
  const paused = await waitFor(() => page.evaluate(() => document.querySelector('.voices-map').voicesMap.player.audio.paused), 3000);
  ok(paused, 'and a second press pauses it');

  // the list, by keyboard alone
  await page.focus('.place-list li button >> nth=2');
  await page.keyboard.press('Enter');
  const focused = await waitFor(() => page.evaluate(() => document.activeElement && document.activeElement.tagName === 'H3' &&
    document.activeElement.closest('.voices') !== null), 5000);
  ok(focused, 'a place of the list opens its voices and the focus follows');
  const listed = await page.textContent('.voices h3');
  const third = (await page.$$eval('.place-list li button', (bs) => bs.map((b) => b.textContent)))[2];
  ok(third.startsWith(listed), 'the voices of that place', [listed, third]);

  // the filters
  await page.selectOption('#m-variety', 'Cotentinais');
  await page.click('#map-filters button[type=submit]');
  const filtered = await waitFor(async () => (await page.$$eval('.place-list li', (l) => l.length)) === 1, 5000);
  ok(filtered, 'variety=Cotentinais keeps its one public place');
  ok(new URL(page.url()).searchParams.get('variety') === 'Cotentinais', 'the address keeps the filter', page.url());
  await page.goto(server.base + '/map?theme=la-mer&lang=fr');
  await waitFor(() => page.$eval('.voices-map', (m) => m.classList.contains('loaded')), 8000);
  const themed = await page.$$eval('.place-list li button', (bs) => bs.map((b) => b.textContent));
  ok(themed.length === 1 && /Hague/.test(themed[0]), 'theme=la-mer: the tagged recording\'s place', themed);
  ok(await page.$eval('#m-theme', (s) => s.value) === 'la-mer', 'the filter shows it');

  // the home page's and an institution's map panels
  await page.goto(server.base + '/?lang=fr');
  const home = await waitFor(() => page.$eval('.map-panel .voices-map', (m) => m.classList.contains('loaded')), 8000);
  ok(home, 'the home page has its map panel');
  const homeMarks = await page.$$eval('.map-panel .marker-cluster, .map-panel path.voice-point', (l) => l.length);
  ok(homeMarks === 2, 'with the same places (a cluster and a point)', homeMarks);
  await page.screenshot({ path: path.join(shots, 'home.png'), fullPage: true });
  await page.goto(server.base + '/institutions/musee-hague?lang=fr');
  const inst = await waitFor(() => page.$eval('.map-panel .voices-map', (m) => m.classList.contains('loaded')), 8000);
  ok(inst, 'an institution\'s page has its map panel');
  const instPlaces = await page.$eval('.map-panel .voices-map', (m) => m.dataset.places);
  ok(instPlaces === '3', 'with the institution\'s places', instPlaces);

  // a theme's page
  await page.goto(server.base + '/themes/la-mer?lang=fr');
  ok(await page.textContent('h1') === 'La mer', 'a theme\'s page is titled with its name');
  const recs = await page.$$eval('#theme-recordings li h3 a', (as) => as.map((a) => a.getAttribute('href')));
  ok(JSON.stringify(recs) === JSON.stringify([`/recordings/${idMezoun}`]), 'it lists its recording', recs);
  ok(await page.getAttribute('#theme-map', 'href') === '/map?theme=la-mer', 'and links the theme on the map');
  await page.screenshot({ path: path.join(shots, 'theme.png'), fullPage: true });

  // a recording's page names its themes, each a link to the theme's page
  await page.goto(server.base + `/recordings/${idMezoun}?lang=fr`);
  const themeLink = await waitFor(() => page.$eval('#meta a[href^="/themes/"]', (a) => [a.textContent, a.getAttribute('href')]).catch(() => null));
  ok(themeLink && themeLink[0] === 'La mer' && themeLink[1] === '/themes/la-mer', 'a recording\'s page links its themes', themeLink);

  // English
  await page.goto(server.base + '/map?lang=en');
  await waitFor(() => page.$eval('.voices-map', (m) => m.classList.contains('loaded')), 8000);
  ok(await page.textContent('h1') === 'The map of voices', 'the page in English');
  ok(idBere > 0 && idPrivate > 0, 'ids');

  ok(errors.length === 0, 'no script error on any page', errors);
  diag(`screenshots in ${shots}`);
}

try {
  await main();
} catch (e) {
  ok(false, 'the test ran to the end', e.stack);
} finally {
  if (browser) await browser.close();
  await stop(server);
  if (!process.env.PARLERS_SCREENSHOTS) fs.rmSync(tmp, { recursive: true, force: true });
  else fs.rmSync(data, { recursive: true, force: true });
  done();
}
