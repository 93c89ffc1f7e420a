// SPDX-License-Identifier: GPL-3.0-or-later
// The list of themes and the map's decade filter in a real Chromium: a
// visitor sees the themes, their counts and links, and no control; an
// annotator signs in, adds a theme from the keyboard (its slug suggested
// by its name), is told in the API's own sentence that a slug is taken or
// is none, renames it (the link follows the new slug), and deletes it
// after a confirmation that says how many recordings and passages lose
// the tag (Escape first closes it); the map's decade select holds exactly
// the decades of what each viewer may hear, and is not shown when nothing
// is dated.  Screenshots go to $PARLERS_SCREENSHOTS (default:
// tests/browser/out) to be looked at.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-themes-'));
const shots = process.env.PARLERS_SCREENSHOTS || path.join(here, 'out');
const data = path.join(tmp, 'data');
const PASSWORD = 'anno-themes-1';
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

function watch(page, errors) {
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // the API's refusals the test provokes (409, 422) are logged as failed loads
    if (m.type() === 'error' && !/ERR_FAILED|net::|status of 4[0-9][0-9]/.test(m.text())) errors.push(m.text());
  });
}

// The values of the map's decade select, once the page has filled it.
async function decadeOptions(page) {
  await page.goto(server.base + '/map');
  await waitFor(() => page.evaluate(() => document.querySelector('.voices-map.loaded') !== null), 10000);
  return page.$$eval('#m-decade option', (os) => os.map((o) => o.value));
}

const liOf = (slug) => `#th-list li[data-slug="${slug}"]`;

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  diag('screenshots in ' + shots);
  let r = run('init', '--institution', 'musee-hague', '--name', 'Musée de la Hague');
  ok(r.status === 0, 'init', r.stderr);
  const idBere = ingest('caux-1981-le-bere-et-les-pommiers');
  const idMezoun = ingest('cotentin-1976-la-mezoun');
  const idPrivate = ingest('cotentin-1994-souvenirs-de-couturiere');
  // the private recording alone in its decade: staff's, never a visitor's
  r = run('edit', String(idPrivate), '--set', 'date=1952-05-01');
  ok(r.status === 0, 'the private recording dated 1952', r.stderr);
  r = run('theme', 'tag', 'la-mer', '--recording', String(idMezoun));
  ok(r.status === 0, 'a recording tagged la mer', r.stderr);
  r = spawnSync(PARLERS, ['-d', data, 'user', 'add', 'anno', '--role', 'annotator'], { input: PASSWORD + '\n', encoding: 'utf8' });
  ok(r.status === 0, 'user add anno (annotator)', r.stderr);

  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  browser = await launchChromium();
  const errors = [];

  // ---- a visitor ----
  const vctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'fr-FR' });
  const visitor = await vctx.newPage();
  watch(visitor, errors);
  await visitor.goto(server.base + '/themes');
  const names = await visitor.$$eval('#th-list li h2 a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
  ok(names.length === 5 && names.some(([n, h]) => n === 'La mer' && h === '/themes/la-mer'),
    'a visitor sees the five themes, each linking to its page', names);
  const merCount = await visitor.textContent(liOf('la-mer') + ' .th-n');
  ok(merCount === '1 enregistrement', 'la mer: the one recording a visitor hears', merCount);
  ok(!(await visitor.isVisible('#th-add')) && (await visitor.$$('.th-edit-button')).length === 0 &&
    (await visitor.$$('.th-delete-button')).length === 0, 'a visitor gets no control');
  await visitor.screenshot({ path: path.join(shots, 'themes-visitor.png'), fullPage: true });
  ok(await visitor.isVisible('header a[href="/themes"]'), "the site's header links the list");
  await visitor.click(liOf('la-mer') + ' h2 a');
  await visitor.waitForURL((u) => u.pathname === '/themes/la-mer');
  ok(await visitor.isVisible('.crumbs a[href="/themes"]'), "a theme's page links back to the list");
  const vDecades = await decadeOptions(visitor);
  ok(JSON.stringify(vDecades) === JSON.stringify(['', '1970', '1980']),
    "a visitor's decade select: exactly the 1970s and 1980s (not the private 1950s)", vDecades);
  ok(await visitor.isVisible('.map-filters a[href="/themes"]'), 'the theme filter links the list');
  await visitor.screenshot({ path: path.join(shots, 'themes-map-decades-visitor.png') });

  // ---- an annotator ----
  const actx = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'fr-FR' });
  const page = await actx.newPage();
  watch(page, errors);
  await page.goto(server.base + '/login?next=' + encodeURIComponent('/themes'));
  await page.fill('#login-name', 'anno');
  await page.fill('#login-pass', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/themes', { timeout: 10000 }).catch(() => {}),
    page.click('#login-submit'),
  ]);
  ok(new URL(page.url()).pathname === '/themes', 'signed in, back on /themes', page.url());
  ok(await page.isVisible('#th-add'), 'staff see the form that adds a theme');
  ok((await page.$$('.th-edit-button')).length === 5, 'and an edit button per theme');

  // add, from the keyboard
  await page.focus('#th-add-name');
  await page.keyboard.type('Les contes');
  ok(await page.inputValue('#th-add-slug') === 'les-contes', 'the slug is suggested from the name',
    await page.inputValue('#th-add-slug'));
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Contes & légendes du soir.');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await waitFor(() => page.$(liOf('les-contes')));
  const added = await page.textContent('#th-status');
  ok(/Les contes/.test(added) && await page.getAttribute(liOf('les-contes') + ' h2 a', 'href') === '/themes/les-contes',
    'Enter adds the theme: it is in the list, linking to its page', added);
  ok(await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('th-edit-button') &&
    document.activeElement.closest('li').dataset.slug === 'les-contes'), "focus on the new theme's edit button");
  ok(await page.inputValue('#th-add-name') === '', 'the form is emptied');
  // the same slug again: the API's sentence
  await page.fill('#th-add-name', 'Encore des contes');
  await page.fill('#th-add-slug', 'les-contes');
  await page.click('#th-add-button');
  await waitFor(async () => (await page.textContent('#th-add-error')) !== '');
  const taken = await page.textContent('#th-add-error');
  ok(taken === "a theme 'les-contes' exists", 'a slug taken: the API sentence is shown', taken);
  await page.fill('#th-add-slug', 'Les Contes!');
  await page.click('#th-add-button');
  await waitFor(async () => /slug:/.test(await page.textContent('#th-add-error')));
  const bad = await page.textContent('#th-add-error');
  ok(/^slug: 1 to 64 lowercase letters/.test(bad), 'a bad slug: the API sentence is shown', bad);
  await page.fill('#th-add-name', '');
  await page.fill('#th-add-slug', '');

  // rename: name and slug; the link follows
  await page.focus(liOf('les-contes') + ' .th-edit-button');
  await page.keyboard.press('Enter');
  ok(await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('th-f-name')),
    'Enter on Modifier opens the form, focus on the name');
  await page.fill(liOf('les-contes') + ' .th-f-name', 'Contes et légendes');
  await page.fill(liOf('les-contes') + ' .th-f-slug', 'contes');
  await page.screenshot({ path: path.join(shots, 'themes-edit.png'), fullPage: true });
  await page.press(liOf('les-contes') + ' .th-f-slug', 'Enter');
  await waitFor(() => page.$(liOf('contes')));
  const link = await page.$eval(liOf('contes') + ' h2 a', (a) => [a.textContent, a.getAttribute('href')]).catch(() => null);
  ok(link && link[0] === 'Contes et légendes' && link[1] === '/themes/contes', 'renamed: the name and the link follow', link);
  ok(!(await page.$(liOf('les-contes'))), 'the old slug is gone from the list');
  const st = (await page.request.get(server.base + '/themes/contes')).status();
  ok(st === 200, 'the theme page is at its new address', st);
  // a slug another theme has, from the edit form: the sentence in the form
  await page.click(liOf('contes') + ' .th-edit-button');
  await page.fill(liOf('contes') + ' .th-f-slug', 'la-mer');
  await page.click(liOf('contes') + ' .th-save');
  await waitFor(async () => (await page.textContent(liOf('contes') + ' .th-error')) !== '');
  const clash = await page.textContent(liOf('contes') + ' .th-error');
  ok(clash === "a theme 'la-mer' exists", 'renamed onto another slug: the sentence in the form', clash);
  await page.press(liOf('contes') + ' .th-f-slug', 'Escape');
  ok(!(await page.$(liOf('contes') + ' form')) &&
    await page.evaluate(() => document.activeElement.classList.contains('th-edit-button')),
  'Escape closes the form, focus back on Modifier');

  // delete, with the count of what loses the tag
  r = run('theme', 'tag', 'contes', '--recording', String(idBere));
  const seg = JSON.parse(run('show', String(idMezoun), '--json').stdout).tiers[0].segments[0].id;
  const r2 = run('theme', 'tag', 'contes', '--segment', String(seg));
  ok(r.status === 0 && r2.status === 0, 'the theme given to a recording and a passage', r.stderr + r2.stderr);
  await page.reload();
  await page.click(liOf('contes') + ' .th-delete-button');
  const question = await page.textContent(liOf('contes') + ' .th-confirm p');
  ok(/Supprimer le thème « Contes et légendes » \?/.test(question) && /1 enregistrement\(s\) et 1 passage\(s\) perdront ce thème/.test(question),
    'the confirmation says what loses the tag: 1 recording, 1 passage', question);
  ok(await page.evaluate(() => document.activeElement.classList.contains('th-confirm-delete')), 'focus on the confirming button');
  await page.screenshot({ path: path.join(shots, 'themes-delete-confirm.png'), fullPage: true });
  await page.keyboard.press('Escape');
  ok(!(await page.$(liOf('contes') + ' .th-confirm')) && await page.$(liOf('contes')), 'Escape: nothing deleted');
  await page.click(liOf('contes') + ' .th-delete-button');
  await page.click(liOf('contes') + ' .th-confirm-delete');
  await waitFor(async () => !(await page.$(liOf('contes'))));
  ok(!(await page.$(liOf('contes'))), 'confirmed: the theme is gone from the list');
  const gone = (await page.request.get(server.base + '/api/themes/contes')).status();
  ok(gone === 404 && /supprimé/.test(await page.textContent('#th-status')), 'and from the archive', gone);
  await page.screenshot({ path: path.join(shots, 'themes-staff.png'), fullPage: true });

  // the recording's themes, from its page
  await page.goto(server.base + '/recordings/' + idBere);
  await page.click('#cat-edit summary');
  const mer = page.locator('#rec-themes label', { hasText: 'La mer' }).locator('input');
  await mer.waitFor({ timeout: 10000 });
  ok(!(await mer.isChecked()), 'the recording page lists the themes for staff, la mer unticked');
  await mer.focus();
  await page.keyboard.press('Space');
  await waitFor(async () => /donné/.test(await page.textContent('#rt-status')));
  ok(await page.isVisible('#meta dd.themes a[href="/themes/la-mer"]'), "ticked from the keyboard: la mer in the recording's record");
  await page.screenshot({ path: path.join(shots, 'themes-recording.png') });
  await page.reload();
  await page.click('#cat-edit summary');
  await page.locator('#rec-themes input').first().waitFor({ timeout: 10000 });
  ok(await page.locator('#rec-themes label', { hasText: 'La mer' }).locator('input').isChecked(), 'reloaded: still tagged');
  const tagged = JSON.parse(run('show', String(idBere), '--json').stdout).themes || [];
  ok(tagged.some((x) => x.slug === 'la-mer'), 'and in the archive', tagged);
  await page.locator('#rec-themes label', { hasText: 'La mer' }).locator('input').uncheck();
  await waitFor(async () => /retiré/.test(await page.textContent('#rt-status')));
  ok(!(await page.isVisible('#meta dd.themes')), 'unticked: the tag is gone from the record');
  await visitor.goto(server.base + '/recordings/' + idBere);
  await visitor.waitForLoadState('networkidle');
  ok(!(await visitor.$('#rec-themes')), 'a visitor gets no theme control on a recording');

  const aDecades = await decadeOptions(page);
  ok(JSON.stringify(aDecades) === JSON.stringify(['', '1950', '1970', '1980']),
    "an annotator's decade select: the private 1950s too", aDecades);
  await page.selectOption('#m-decade', '1950');
  await page.click('#map-filters button[type="submit"]');
  await waitFor(async () => (await page.textContent('.map-count')) === '1 lieu');
  ok(/decade=1950/.test(page.url()), 'a decade offered filters the map', page.url());

  // nothing dated: no decade filter
  for (const id of [idBere, idMezoun, idPrivate]) run('edit', String(id), '--set', 'date=');
  await decadeOptions(visitor);
  ok(!(await visitor.isVisible('#m-decade')) && await visitor.isVisible('#m-theme'),
    'nothing dated: the map shows no decade filter, the others stay');
  await visitor.screenshot({ path: path.join(shots, 'themes-map-undated.png') });
  ok(errors.length === 0, 'no script error on any page', errors);
}

main().catch((e) => ok(false, 'the test ran to the end', e.stack)).finally(async () => {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
});
