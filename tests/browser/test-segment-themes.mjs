// SPDX-License-Identifier: GPL-3.0-or-later
// A segment's themes in the annotation editor, in a real Chromium: an
// annotator signs in on a recording's page, picks the second segment with
// Alt+↓, opens its themes with Alt+T (the key the help lists), ticks
// "Les veillées" with the keyboard and closes with Escape; the row shows the
// label at once, the server's JSON carries the slug, the label is still
// there after a reload, and /themes/les-veillees lists the recording (tagged
// through its segment only).  The label's × button, reached by Tab and
// pressed with Enter, takes the theme away: the row, the JSON and the
// theme's page all lose it.  Meanwhile a visitor's transcript shows the
// passage's theme as a link to the theme's page.  A theme's hostile name is
// text in both.  Screenshots go to $PARLERS_SCREENSHOTS
// (default: tests/browser/out) to be looked at.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, done, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const PARLERS = process.env.PARLERS ||
  (fs.existsSync(path.join(root, 'build', 'cli', 'parlers')) ? path.join(root, 'build', 'cli', 'parlers') : 'parlers');
const CORPUS = process.env.PARLERS_CORPUS || path.join(root, 'corpus');
const STEM = 'cotentin-1976-la-mezoun';
const SLUG = 'les-veillees';
const PASSWORD = 'anno-segtheme-1';
const HOSTILE = '<img src=x onerror="window.pwned=1"> & <b>noces</b>';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-segtheme-'));
const shots = process.env.PARLERS_SCREENSHOTS || path.join(here, 'out');
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

function run(...args) {
  return spawnSync(PARLERS, ['-d', data, ...args], { encoding: 'utf8' });
}

// The chosen segment's row, and the slugs its labels show.
const rowOf = (sid) => `#ed-segs li[data-key="s${sid}"]`;
const labels = (page, sid) => page.$$eval(rowOf(sid) + ' .ed-seg-theme', (ls) => ls.map((l) => l.dataset.slug));

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  diag('screenshots in ' + shots);
  const src = path.join(tmp, STEM);
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith(STEM + '.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  let r = run('ingest', '--json', src);
  const line = JSON.parse(r.stdout.split('\n')[0] || '{}');
  if (!ok(r.status === 0 && line.status === 'ingested', `${STEM} is ingested`, r.stderr)) return;
  const id = line.id;
  r = spawnSync(PARLERS, ['-d', data, 'user', 'add', 'anno', '--role', 'annotator'], { input: PASSWORD + '\n', encoding: 'utf8' });
  if (!ok(r.status === 0, 'user add anno (annotator)', r.stderr)) return;

  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const { base } = server;
  const stored = async () => (await fetch(`${base}/api/recordings/${id}`, { headers: { Accept: 'application/json' } })).json();
  const themePage = async () => (await fetch(`${base}/api/themes/${SLUG}`, { headers: { Accept: 'application/json' } })).json();
  const rec0 = await stored();
  const tier = (rec0.tiers || []).find((x) => !x.parent_id && x.segments.length >= 2);
  if (!ok(tier, 'the recording has a tier of two segments or more')) return;
  const sid = tier.segments[1].id;
  // a theme with a hostile name, on the third segment: always text
  const sid3 = tier.segments[2].id;
  r = run('theme', 'add', 'les-noces', HOSTILE);
  const r2 = run('theme', 'tag', 'les-noces', '--segment', String(sid3));
  ok(r.status === 0 && r2.status === 0, 'a theme with a hostile name tags the third segment', r.stderr + r2.stderr);
  const inTheme = (th) => (th.recordings || []).some((x) => x.id === id);
  ok(!inTheme(await themePage()), 'before: the theme lists no recording of ours');

  browser = await launchChromium();
  const errors = [];
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'fr-FR' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });

  await page.goto(`${base}/login?next=` + encodeURIComponent(`/recordings/${id}`));
  await page.fill('#login-name', 'anno');
  await page.fill('#login-pass', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/recordings/${id}`, { timeout: 10000 }).catch(() => {}),
    page.click('#login-submit'),
  ]);
  await page.waitForSelector('#editor', { timeout: 10000 });
  ok(true, 'signed in, the editor is open');
  const help = await page.$$eval('#ed-help tbody tr', (rs) => rs.map((x) => x.textContent));
  ok(help.some((x) => x.startsWith('Alt+T') && /Thèmes/.test(x)), 'the list of keys tells of Alt+T', help);

  // the first segment's text, then Alt+↓ to the second
  await page.focus(`${rowOf(tier.segments[0].id)} textarea`);
  await page.keyboard.press('Alt+ArrowDown');
  await waitFor(() => page.evaluate((s) => document.activeElement && document.activeElement.id === `ed-seg-s${s}-t`, sid), 3000);
  await page.keyboard.press('Alt+t');
  const dlg = await page.waitForSelector('#ed-theme-dlg[open] input[type=checkbox]', { timeout: 5000 }).catch(() => null);
  if (!ok(dlg, 'Alt+T opens the themes of the chosen segment, a checkbox each')) return;
  const title = await page.textContent('#ed-theme-h');
  ok(/^Thèmes du segment 2 /.test(title), 'the dialog names segment 2', title);
  // through the list with the keyboard to "Les veillées", ticked with Space
  const boxes = await page.$$eval('#ed-theme-dlg input[type=checkbox]', (bs) => bs.map((b) => b.value));
  const at = boxes.indexOf(SLUG);
  if (!ok(at >= 0, 'the list holds Les veillées', boxes)) return;
  for (let i = 0; i < at; i++) await page.keyboard.press('Tab');
  ok(await page.evaluate((s) => document.activeElement.value === s, SLUG), 'Tab reaches its checkbox');
  await page.keyboard.press('Space');
  const tagged = await waitFor(async () => (await labels(page, sid)).includes(SLUG), 5000);
  ok(tagged, 'the row shows the label at once');
  ok(await page.isChecked(`#ed-theme-dlg input[value="${SLUG}"]`), 'the checkbox stays ticked');
  await page.screenshot({ path: path.join(shots, 'segtheme-dialog.png') });
  await page.keyboard.press('Escape');
  ok(await waitFor(() => page.evaluate(() => !document.querySelector('#ed-theme-dlg[open]')), 2000), 'Escape closes it');
  ok(await page.evaluate((s) => document.activeElement.id === `ed-seg-s${s}-t`, sid), 'and gives the focus back to the segment');
  const chip = await page.textContent(`${rowOf(sid)} .ed-seg-theme span`);
  ok(chip === 'Les veillées', "the label reads the theme's name", chip);
  await page.$eval(rowOf(sid), (e) => e.scrollIntoView({ block: 'center' }));
  await page.screenshot({ path: path.join(shots, 'segtheme-row.png') });

  let rec = await stored();
  let seg = rec.tiers.flatMap((x) => x.segments).find((x) => x.id === sid);
  ok(seg && JSON.stringify(seg.themes) === JSON.stringify([SLUG]), "the recording's JSON carries the slug", seg);
  ok(inTheme(await themePage()), 'the theme lists the recording');

  await page.reload();
  await page.waitForSelector('#editor', { timeout: 10000 });
  ok(await waitFor(async () => (await labels(page, sid)).includes(SLUG), 5000), 'the label is still there after a reload');
  ok(await page.evaluate(() => window.parlersEditor.tiers().flatMap((x) => x.segs).filter((s) => s.themes.length).length) === 2,
    'and on that segment alone (besides the third, tagged before)');
  const hostile = await page.$eval(`${rowOf(sid3)} .ed-seg-theme span`, (e) => e.textContent).catch(() => null);
  ok(hostile === HOSTILE && (await page.$$('#editor img')).length === 0 && !(await page.evaluate(() => window.pwned)),
    "the hostile name is the label's text, never markup", hostile);

  const tpage = await ctx.newPage();
  await tpage.goto(`${base}/themes/${SLUG}`);
  const links = await tpage.$$eval('#theme-recordings a', (as) => as.map((a) => a.getAttribute('href')));
  ok(links.includes(`/recordings/${id}`), '/themes/les-veillees lists the recording', links);
  await tpage.screenshot({ path: path.join(shots, 'segtheme-theme-page.png') });
  await tpage.close();

  // a visitor's transcript: the passage's theme as a link to its page
  const vctx = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'fr-FR' });
  const visitor = await vctx.newPage();
  visitor.on('pageerror', (e) => errors.push(String(e)));
  await visitor.goto(`${base}/recordings/${id}`);
  const vlink = `#seg-${sid} .seg-themes a`;
  await visitor.waitForSelector(vlink, { timeout: 5000 }).catch(() => null);
  const named = await waitFor(() => visitor.$eval(vlink, (a) => a.textContent === 'Les veillées' && a.getAttribute('href')).catch(() => null), 5000);
  ok(named === `/themes/${SLUG}`, "a visitor's transcript links the passage to the theme's page, by its name", named);
  ok((await visitor.$$('.seg-themes')).length === 2, 'under that passage alone (besides the third)');
  const vhostile = await visitor.$eval(`#seg-${sid3} .seg-themes a`, (a) => a.textContent).catch(() => null);
  ok(vhostile === HOSTILE && (await visitor.$$('#transcript img')).length === 0, 'the hostile name is text there too', vhostile);
  await visitor.$eval(`#seg-${sid}`, (e) => e.scrollIntoView({ block: 'center' }));
  await visitor.screenshot({ path: path.join(shots, 'segtheme-visitor.png') });
  await Promise.all([visitor.waitForURL((u) => u.pathname === `/themes/${SLUG}`, { timeout: 5000 }).catch(() => {}), visitor.click(vlink)]);
  ok(new URL(visitor.url()).pathname === `/themes/${SLUG}`, 'the link leads there', visitor.url());
  await vctx.close();

  // the label's × button, by keyboard: Tab from the end time field
  await page.focus(`#ed-seg-s${sid}-e`);
  for (let i = 0; i < 6; i++) {
    if (await page.evaluate(() => document.activeElement.classList.contains('ed-untheme'))) break;
    await page.keyboard.press('Tab');
  }
  const aria = await page.evaluate(() => document.activeElement.getAttribute('aria-label') || '');
  ok(aria === 'Retirer le thème « Les veillées » du segment 2', 'Tab reaches the label’s remove button', aria);
  await page.keyboard.press('Enter');
  ok(await waitFor(async () => (await labels(page, sid)).length === 0, 5000), 'Enter takes the label away');
  rec = await stored();
  seg = rec.tiers.flatMap((x) => x.segments).find((x) => x.id === sid);
  ok(seg && !seg.themes, "the recording's JSON no longer names it", seg);
  ok(!inTheme(await themePage()), 'the theme no longer lists the recording');
  await page.reload();
  await page.waitForSelector('#editor', { timeout: 10000 });
  await page.waitForSelector(rowOf(sid), { timeout: 5000 });
  ok((await labels(page, sid)).length === 0, 'nor does the row after a reload');
  await page.screenshot({ path: path.join(shots, 'segtheme-removed.png') });
  ok(errors.length === 0, 'no error in the page', errors);
}

try {
  await main();
} catch (e) {
  ok(false, 'the test ran to its end', e && e.stack);
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
