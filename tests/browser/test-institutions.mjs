// SPDX-License-Identifier: GPL-3.0-or-later
// The institutions' pages in a real Chromium, with no network but the
// server's: /institutions draws its Leaflet map (served by parlers) with a
// point per institution over the shipped outline of Normandy while the
// tiles it asks for never arrive, and lists the same institutions as
// links; an institution's page shows its description in the page's
// language, its recordings and facets, and its search box keeps the search
// to it; a recording's page names and links its institution and gives a
// credit line; the home page shows the day's featured recordings.
// Screenshots go to $PARLERS_SCREENSHOTS (default: a temporary folder,
// named in a comment line) to be looked at.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-institutions-'));
const shots = process.env.PARLERS_SCREENSHOTS || path.join(tmp, 'shots');
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

function run(...args) {
  return spawnSync(PARLERS, ['-d', data, ...args], { encoding: 'utf8' });
}

function ingest(stem, institution) {
  const src = path.join(tmp, stem);
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith(stem + '.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  const r = run('ingest', '--json', '--institution', institution, src);
  const line = JSON.parse(r.stdout.split('\n')[0] || '{}');
  ok(r.status === 0 && line.status === 'ingested', `${stem} is ingested for ${institution}`, r.stderr);
  return line.id;
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  let r = run('init', '--institution', 'musee-hague', '--name', 'Musée de la Hague');
  ok(r.status === 0, 'init names the first institution', r.stderr);
  r = run('institution', 'edit', 'musee-hague', '--kind', 'musée', '--commune', 'Beaumont-Hague',
    '--lat', '49.664', '--lon', '-1.838', '--description-fr', 'Le musée des gens de la Hague.',
    '--description-en', 'The museum of the people of La Hague.', '--rights', 'CC BY-NC 4.0');
  ok(r.status === 0, 'its details', r.stderr);
  r = run('institution', 'add', 'caux', '--name', 'Association du Caux', '--kind', 'association',
    '--commune', 'Yvetot', '--lat', '49.617', '--lon', '0.754');
  ok(r.status === 0, 'a second institution', r.stderr);
  const idHague = ingest('cotentin-1976-la-mezoun', 'musee-hague');
  const idCaux = ingest('caux-1981-le-temps-des-foins', 'caux');

  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const own = new URL(server.base).host;
  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
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
  page.on('console', (m) => { if (m.type() === 'error' && !/ERR_FAILED|net::/.test(m.text())) errors.push(m.text()); });

  // /institutions: the list and the map
  await page.goto(server.base + '/institutions?lang=fr');
  const items = await page.$$eval('#institutions li a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
  ok(JSON.stringify(items) === JSON.stringify([['Association du Caux', '/institutions/caux'],
    ['Musée de la Hague', '/institutions/musee-hague']]), 'the list links every institution', items);
  const outlined = await waitFor(() => page.$eval('#map', (m) => m.classList.contains('outlined')), 5000);
  ok(outlined, 'the map draws the shipped outline');
  const shapes = await page.$$eval('#map .leaflet-outline-pane path', (ps) => ps.length);
  const points = await page.$$eval('#map path.leaflet-interactive', (ps) => ps.length);
  ok(points === 2, 'a point per institution on the map', points);
  ok(shapes === 9, 'with the five départements and four islands under them', shapes);
  ok(offsite.some((h) => h.endsWith('tile.openstreetmap.org')), 'it asked for the tiles, which never came', offsite);
  const credit = await page.$eval('.leaflet-control-attribution', (e) => e.textContent);
  ok(/OpenStreetMap/.test(credit), 'the tiles are credited', credit);
  const land = await page.$eval('#map .leaflet-pane.leaflet-outline-pane path', (p) => p.getAttribute('fill')).catch(() => null);
  ok(land === '#f4e9d8', 'the outline is filled as land, under where the tiles would be', land);
  await page.focus('#map');
  ok(await page.evaluate(() => document.activeElement.id === 'map'), 'the map takes the keyboard');
  await page.screenshot({ path: path.join(shots, 'institutions.png'), fullPage: true });

  // a point leads to the institution's page
  await Promise.all([page.waitForNavigation(), page.click('#map path.leaflet-interactive >> nth=1', { force: true })]);
  ok(/\/institutions\/(caux|musee-hague)$/.test(page.url()), 'a point opens its institution', page.url());

  // an institution's page, in French then in English
  await page.goto(server.base + '/institutions/musee-hague?lang=fr');
  ok(await page.textContent('h1') === 'Musée de la Hague', 'its page is titled with its name');
  ok((await page.textContent('#inst-description')).includes('Le musée des gens de la Hague.'), 'its description in French');
  const cards = await page.$$eval('#results li h3 a', (as) => as.map((a) => a.getAttribute('href')));
  ok(JSON.stringify(cards) === JSON.stringify([`/recordings/${idHague}`]), 'its recordings, and only its own', cards);
  const facets = await page.$$eval('#facet-place li a', (as) => as.map((a) => a.textContent));
  ok(facets.length === 1 && facets[0].startsWith('La Hague'), 'its places', facets);
  ok((await page.textContent('#inst-meta')).includes('CC BY-NC 4.0'), 'its default rights');
  await page.screenshot({ path: path.join(shots, 'institution.png'), fullPage: true });
  await page.fill('#q', 'la');
  await Promise.all([page.waitForNavigation(), page.press('#q', 'Enter')]);
  ok(new URL(page.url()).searchParams.get('institution') === 'musee-hague', 'its search box searches in it', page.url());
  await waitFor(() => page.$$eval('#hits li', (l) => l.length), 5000);
  const hitLinks = await page.$$eval('#hits a[href^="/recordings/"]', (as) => [...new Set(as.map((a) => a.getAttribute('href').split(/[?#]/)[0]))]);
  ok(hitLinks.length > 0 && hitLinks.every((h) => h === `/recordings/${idHague}`), 'and finds its recordings alone', hitLinks);
  await page.goto(server.base + '/institutions/musee-hague?lang=en');
  ok((await page.textContent('#inst-description')).includes('The museum of the people of La Hague.'), 'its description in English');

  // a recording's page names, links and credits its institution
  await page.goto(server.base + `/recordings/${idCaux}?lang=fr`);
  const link = await waitFor(() => page.$eval('#meta a[href^="/institutions/"]', (a) => [a.textContent, a.getAttribute('href')]).catch(() => null));
  ok(link && link[0] === 'Association du Caux' && link[1] === '/institutions/caux', 'a recording page links its institution', link);
  const meta = await page.textContent('#meta');
  ok(/Crédit\s*Association du Caux, .*1981/.test(meta), 'and gives a credit line', meta);
  await page.screenshot({ path: path.join(shots, 'recording.png'), fullPage: false });

  // the home page: the day's featured recordings and the institutions
  await page.goto(server.base + '/?lang=fr');
  const featured = await page.$$eval('#featured li', (l) => l.length);
  const pills = await page.$$eval('#featured-institutions a', (as) => as.map((a) => a.textContent).sort());
  ok(featured === 2, 'the home page features a recording of each institution', featured);
  ok(JSON.stringify(pills) === JSON.stringify(['Association du Caux', 'Musée de la Hague']), 'and names every institution', pills);
  await page.selectOption('#f-institution', 'caux');
  await waitFor(async () => (await page.$$eval('#results li', (l) => l.length)) === 1, 5000);
  ok(new URL(page.url()).searchParams.get('institution') === 'caux', 'browsing filters by institution', page.url());
  await page.screenshot({ path: path.join(shots, 'home.png'), fullPage: true });

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
