// SPDX-License-Identifier: GPL-3.0-or-later
// Browser tests of the annotation editor in a real headless Chromium
// (Debian's, driven by playwright-core; no browser is ever downloaded).
// Builds a data folder from the sample corpus with the real binary, adds
// two annotators, serves it, and checks what an annotator relies on:
// transcribing a recording from scratch with the keyboard only while it
// plays, every segment stored on the server; undo and redo saved like any
// edit; boundaries dragged on the timeline; two annotators editing the same
// segment end in a conflict where the second chooses, never a lost edit;
// edits made offline are kept (across a reload too) and arrive once the
// connection is back; text with markup stays text; English at phone width.
// Screenshots go to out/.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, launchChromium, ok, serve, sleep, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const PARLERS = process.env.PARLERS ||
  (fs.existsSync(path.join(root, 'build', 'cli', 'parlers')) ? path.join(root, 'build', 'cli', 'parlers') : 'parlers');
const CORPUS = process.env.PARLERS_CORPUS || path.join(root, 'corpus');
const OUT = path.join(here, 'out');
fs.mkdirSync(OUT, { recursive: true });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-editor-'));
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

const USERS = [['anne', 'le-vent-d-amont-1976'], ['bertrand', 'la-mezoun-de-Vauville']];

async function main() {
  const ing = spawnSync(PARLERS, ['-d', data, 'ingest', '--json', CORPUS], { encoding: 'utf8' });
  const lines = (ing.stdout || '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (!ok(lines.some((l) => l.status === 'ingested'), 'the sample corpus is ingested', ing.stderr || ing.error)) return;
  for (const [login, pw] of USERS) {
    const u = spawnSync(PARLERS, ['-d', data, 'user', 'add', login, '--role', 'annotator'], { input: pw + '\n', encoding: 'utf8' });
    if (!ok(u.status === 0, `parlers user add ${login} --role annotator (password on stdin)`, u.stderr)) return;
  }
  // the public recording with the most transcribed sentences
  const list = JSON.parse(spawnSync(PARLERS, ['-d', data, 'list', '--json'], { encoding: 'utf8' }).stdout);
  let best = null;
  for (const r of list.recordings.filter((x) => x.access === 'public')) {
    const j = JSON.parse(spawnSync(PARLERS, ['-d', data, 'show', '--json', String(r.id)], { encoding: 'utf8' }).stdout || '{}');
    const main = (j.tiers || []).find((t) => t.type === 'transcription' && !t.parent_id);
    const rows = main ? main.segments.filter((s) => s.text.trim()).length : 0;
    if (rows >= 3 && (!best || rows > best.rows)) best = { id: r.id, rows, rec: j, main };
  }
  if (!ok(best, 'a public recording with a transcription tier')) return;
  const id = best.id;

  server = await serve(PARLERS, data);
  const { port, base } = server;
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const probe = await fetch(base + '/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: USERS[0][0], password: USERS[0][1] }) });
  if (!ok(probe.status === 200, 'POST /api/login signs an annotator in', probe.status)) return;

  // the recording as the server has it now (the editing API adds versions)
  async function stored() {
    const r = await fetch(`${base}/api/recordings/${id}`, { headers: { Accept: 'application/json' } });
    return r.json();
  }
  const tierNamed = (rec, name) => (rec.tiers || []).find((t) => t.name === name);

  browser = await launchChromium();
  const problems = [];
  async function newPage(opts = {}) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR', ...opts });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    page.on('console', (m) => {
      // a 409 or a fetch while offline is logged by Chromium itself: expected here
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console: ' + m.text());
    });
    return page;
  }
  const saved = (page, ms = 10000) => waitFor(() => page.evaluate(() => {
    const s = document.getElementById('ed-status');
    return s && s.dataset.pending === '0' && s.dataset.state === 'saved';
  }), ms, 100);
  const statusText = (page) => page.$eval('#ed-status', (s) => s.textContent);
  const nowMs = (page) => page.evaluate(() => Math.round(document.getElementById('audio').currentTime * 1000));

  // Signs in through the page's own dialog, with the keyboard.
  async function signIn(page, [login, pw]) {
    await page.focus('#ed-signin');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#ed-login[open]');
    await page.keyboard.type(login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(pw);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#editor', { timeout: 10000 });
  }

  /* ---- 1. transcribing from scratch with the keyboard only ---- */
  const a = await newPage();
  await a.goto(`${base}/recordings/${id}`);
  await a.waitForSelector('#ed-signin');
  ok(await a.$('#editor') === null, 'a visitor sees no editor, only a staff sign-in button');
  await signIn(a, USERS[0]);
  ok(await a.$eval('#ed-h', (h) => h.textContent) === 'Édition de la transcription', 'signed in as an annotator, the editor opens, in French');
  ok(await saved(a) && /Tout est enregistré/.test(await statusText(a)), 'the save indicator says everything is saved', await statusText(a));
  await waitFor(() => a.evaluate(() => document.getElementById('audio').readyState >= 1), 10000);
  await a.screenshot({ path: path.join(OUT, 'editor.png'), fullPage: true });

  // a new tier, from the keyboard
  const TIER = 'Essai au clavier';
  await a.focus('#ed-tier-new');
  await a.keyboard.press('Enter');
  await a.waitForSelector('#ed-tier-dlg[open]');
  ok(await a.evaluate(() => document.activeElement.id) === 'ed-tier-name', 'the new tier dialog opens with its name field focused');
  await a.keyboard.type(TIER);
  await a.keyboard.press('Enter');
  await saved(a);
  let rec = await stored();
  const newTier = tierNamed(rec, TIER);
  ok(newTier && newTier.type === 'transcription' && newTier.segments.length === 0, 'the new tier is stored, empty', rec.tiers.map((t) => t.name));
  ok(await a.$eval('#ed-tier', (s, name) => s.selectedOptions[0].textContent.startsWith(name), TIER), 'the new tier is the one being edited');

  // play, and make segments at the play head while typing
  const TEXTS = ["Ch'est byin <b>gras</b> & co", 'La mézoun était byin p’tite', '<img src=x onerror="window.__xss=1">'];
  await a.keyboard.press('Escape');
  ok(await waitFor(() => a.evaluate(() => !document.getElementById('audio').paused), 3000), 'Escape starts the sound');
  const starts = [];
  let at = 800;
  for (const text of TEXTS) {
    // (waitForFunction would need eval, which the page's Content-Security-Policy forbids)
    await waitFor(() => a.evaluate((ms) => document.getElementById('audio').currentTime * 1000 >= ms, at), 15000, 20);
    starts.push(await nowMs(a));
    await a.keyboard.press('Alt+n');
    await a.keyboard.type(text);
    at = starts[starts.length - 1] + 1600;
  }
  await a.keyboard.press('Escape');
  ok(await a.evaluate(() => document.getElementById('audio').paused), 'Escape pauses the sound, even while typing');
  ok(await saved(a), 'every segment is saved without a save button', await statusText(a));
  rec = await stored();
  let segs = (tierNamed(rec, TIER) || { segments: [] }).segments;
  ok(segs.length === 3 && segs.every((s, i) => s.text === TEXTS[i]), 'the three segments typed while playing are stored, text for text', segs);
  ok(segs.length === 3 && segs.every((s, i) => Math.abs(s.start_ms - starts[i]) < 400) &&
     segs[0].end_ms === segs[1].start_ms && segs[1].end_ms === segs[2].start_ms && segs[2].end_ms > segs[2].start_ms,
  'each segment starts at the play head and ends where the next begins', { starts, segs });
  ok(await a.evaluate(() => window.__xss === undefined), 'text with markup is kept as text, never run');
  const rowTexts = await a.$$eval('#ed-segs textarea', (t) => t.map((x) => x.value));
  ok(JSON.stringify(rowTexts) === JSON.stringify(TEXTS), 'the list shows the texts as typed', rowTexts);
  await a.screenshot({ path: path.join(OUT, 'editor-typed.png'), fullPage: true });

  // undo and redo, each saved
  await a.keyboard.press('Alt+z');
  await saved(a);
  rec = await stored();
  segs = tierNamed(rec, TIER).segments;
  ok(segs.length === 3 && segs[2].text === '', 'Alt+Z undoes the last typing, and the undo is saved', segs.map((s) => s.text));
  await a.keyboard.press('Alt+z');
  await saved(a);
  rec = await stored();
  segs = tierNamed(rec, TIER).segments;
  ok(segs.length === 2 && segs[1].end_ms > starts[2], 'a second Alt+Z undoes the segment, and gives its time back to the previous one', segs);
  await a.keyboard.press('Alt+y');
  await a.keyboard.press('Alt+y');
  await saved(a);
  rec = await stored();
  segs = tierNamed(rec, TIER).segments;
  ok(segs.length === 3 && segs[2].text === TEXTS[2] && segs[1].end_ms === segs[2].start_ms, 'Alt+Y twice redoes both, saved', segs);

  // slower playback, replay, previous and next
  const rates = [];
  for (let i = 0; i < 3; i++) {
    await a.keyboard.press('Alt+v');
    rates.push(await a.evaluate(() => document.getElementById('audio').playbackRate));
  }
  ok(JSON.stringify(rates) === '[0.75,0.5,1]', 'Alt+V slows to 0.75×, 0.5×, then back to 1×', rates);
  await a.evaluate(() => { document.getElementById('audio').currentTime = 10; });
  await a.keyboard.press('Alt+r');
  const replayAt = await nowMs(a);
  const replaying = await a.evaluate(() => !document.getElementById('audio').paused);
  await a.keyboard.press('Escape');
  ok(replaying && replayAt >= 6900 && replayAt < 7600, 'Alt+R replays from 3 s back', replayAt);
  await a.keyboard.press('Alt+ArrowUp');
  await a.keyboard.press('Alt+ArrowUp');
  await a.keyboard.press('Alt+ArrowUp');
  const focusedFirst = await a.evaluate(() => document.activeElement && document.activeElement.value);
  ok(focusedFirst === TEXTS[0], 'Alt+↑ goes back to the first segment and focuses its text', focusedFirst);

  // split at the play head, then merge back
  rec = await stored();
  const first = tierNamed(rec, TIER).segments[0];
  const mid = Math.round((first.start_ms + first.end_ms) / 2);
  await a.evaluate((ms) => { document.getElementById('audio').currentTime = ms / 1000; }, mid);
  await a.keyboard.press('Alt+s');
  await saved(a);
  rec = await stored();
  segs = tierNamed(rec, TIER).segments;
  ok(segs.length === 4 && Math.abs(segs[0].end_ms - mid) < 30 && segs[1].start_ms === segs[0].end_ms && segs[1].end_ms === first.end_ms,
    'Alt+S splits the segment at the play head', segs);
  await a.keyboard.press('Alt+ArrowUp');
  await a.keyboard.press('Alt+j');
  await saved(a);
  rec = await stored();
  segs = tierNamed(rec, TIER).segments;
  ok(segs.length === 3 && segs[0].end_ms === first.end_ms && segs[0].text === TEXTS[0], 'Alt+J merges it back with the next', segs);

  // the help panel
  await a.keyboard.press('Alt+h');
  const help = await a.$eval('#ed-help', (h) => ({ shown: !h.hidden, rows: h.querySelectorAll('tbody tr').length, text: h.textContent }));
  ok(help.shown && help.rows >= 12 && /Alt\+N/.test(help.text) && /Réécouter les 3 dernières secondes/.test(help.text) && /0,5/.test(help.text),
    'Alt+H shows the shortcuts, in French', help);
  ok(await a.$eval('#ed-help-btn', (b) => b.getAttribute('aria-expanded')) === 'true', 'the help button says it is expanded');
  await a.$eval('#ed-help', (h) => h.scrollIntoView());
  await a.screenshot({ path: path.join(OUT, 'editor-help.png'), fullPage: true });
  await a.keyboard.press('Alt+h');

  // dragging the last segment's end on the timeline
  const last = segs[2];
  await a.evaluate((s) => window.parlersEditor.view(Math.max(0, s.start_ms - 2000), 10000), last);
  await a.$eval('#ed-canvas', (c) => c.scrollIntoView({ block: 'center' }));
  const box = await a.$eval('#ed-canvas', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width }; });
  const tierKey = await a.evaluate((name) => window.parlersEditor.tiers().find((t) => t.name === name).key, TIER);
  const gx = box.x + await a.evaluate((ms) => window.parlersEditor.xOf(ms), last.end_ms);
  const gy = box.y + await a.evaluate((k) => window.parlersEditor.yOfTier(k), tierKey);
  await a.mouse.move(gx, gy);
  await a.mouse.down();
  await a.mouse.move(gx + 20, gy, { steps: 3 });
  await a.mouse.move(gx + 60, gy, { steps: 3 });
  await a.mouse.up();
  await saved(a);
  rec = await stored();
  const dragged = tierNamed(rec, TIER).segments[2];
  const want = last.end_ms + (60 / box.w) * 10000;
  ok(dragged && Math.abs(dragged.end_ms - want) < 150 && dragged.start_ms === last.start_ms,
    'dragging a boundary on the waveform moves it, saved', { before: last, after: dragged, want });
  await a.screenshot({ path: path.join(OUT, 'editor-dragged.png') });

  // renaming the tier
  const TIER2 = 'Essai renommé';
  await a.focus('#ed-tier-rename');
  await a.keyboard.press('Enter');
  await a.waitForSelector('#ed-tier-dlg[open]');
  await a.keyboard.type(TIER2); // the field's text is selected: typing replaces it
  await a.keyboard.press('Enter');
  await saved(a);
  rec = await stored();
  ok(tierNamed(rec, TIER2) && !tierNamed(rec, TIER), 'the tier is renamed', rec.tiers.map((t) => t.name));

  // times typed in the fields: a good one is saved, an impossible one refused on the spot
  const startField = '#ed-segs li:first-child input.ed-time >> nth=0'; // made in the page: keyed by the page, not by id
  await a.fill(startField, '0:00,50');
  await a.press(startField, 'Enter');
  await saved(a);
  rec = await stored();
  ok(tierNamed(rec, TIER2).segments[0].start_ms === 500, 'a start typed as 0:00,50 is saved as 500 ms', tierNamed(rec, TIER2).segments[0]);
  await a.fill(startField, '9:59');
  await a.press(startField, 'Enter');
  const refused = { field: await a.$eval(startField, (i) => i.value), said: await a.$eval('#ed-say', (p) => p.textContent) };
  await saved(a);
  rec = await stored();
  ok(refused.field === '0:00,50' && /Temps impossibles/.test(refused.said) && tierNamed(rec, TIER2).segments[0].start_ms === 500,
    'a start after the end is refused with a reason, and nothing is sent', refused);

  /* ---- 2. two annotators on the same segment ---- */
  const b = await newPage();
  await b.goto(`${base}/recordings/${id}`);
  await b.waitForSelector('#ed-signin');
  await signIn(b, USERS[1]);
  const target = best.main.segments.find((s) => s.text.trim());
  const field = `#ed-seg-s${target.id}-t`;
  await a.selectOption('#ed-tier', 't' + best.main.id);
  await b.selectOption('#ed-tier', 't' + best.main.id);
  const B_TEXT = 'Version de Bertrand';
  const A_TEXT = 'Version d’Anne';
  await b.fill(field, B_TEXT);
  await b.focus('#ed-tier');
  ok(await saved(b), 'the first annotator\'s change is saved');
  await a.fill(field, A_TEXT); // a's page still has the version it loaded
  await a.focus('#ed-tier');
  const conflict = await waitFor(() => a.$('#ed-conflict[open]'), 10000);
  ok(conflict, 'the second annotator gets the conflict dialog, not a silent overwrite');
  rec = await stored();
  ok(rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === B_TEXT, 'the first annotator\'s text is still stored');
  if (conflict) {
    const shown = await a.$eval('#ed-conflict', (d) => ({ theirs: d.querySelector('.theirs').textContent, mine: d.querySelector('.mine').textContent, focus: document.activeElement.id }));
    ok(shown.theirs.includes(B_TEXT) && shown.mine.includes(A_TEXT), 'the dialog shows the other person\'s version beside one\'s own', shown);
    ok(shown.focus === 'ed-keep-theirs', 'the dialog takes the focus');
    ok(/Conflit/.test(await statusText(a)), 'the save indicator says a conflict waits', await statusText(a));
    await a.screenshot({ path: path.join(OUT, 'editor-conflict.png') });
    await a.click('#ed-reapply-mine');
    await saved(a);
    rec = await stored();
    ok(rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === A_TEXT, '"reapply mine" stores one\'s own version over theirs, knowingly');
  }
  // and the other way round: b edits the version it has, now stale, and keeps a's
  await b.fill(field, B_TEXT + ' encore');
  await b.focus('#ed-tier');
  const conflict2 = await waitFor(() => b.$('#ed-conflict[open]'), 10000);
  ok(conflict2, 'the first annotator, now behind, gets the conflict in turn');
  if (conflict2) {
    await b.keyboard.press('Enter'); // the focused "keep theirs"
    await saved(b);
    const bText = await b.$eval(field, (t) => t.value);
    rec = await stored();
    ok(bText === A_TEXT && rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === A_TEXT,
      '"keep theirs" shows and keeps the other person\'s version', bText);
  }

  /* ---- 3. offline ---- */
  await a.reload();
  await a.waitForSelector('#editor');
  await a.selectOption('#ed-tier', 't' + best.main.id);
  const second = best.main.segments.filter((s) => s.text.trim())[1];
  const OFF1 = 'Écrit hors ligne, un';
  const OFF2 = 'Écrit hors ligne, deux';
  await a.context().setOffline(true);
  await a.fill(field, OFF1);
  await a.fill(`#ed-seg-s${second.id}-t`, OFF2);
  await a.focus('#ed-tier');
  const pendingShown = await waitFor(async () => /2 modifications pas encore enregistrées/.test(await statusText(a)) &&
    await a.$eval('#ed-status', (s) => s.dataset.state === 'offline'), 8000);
  ok(pendingShown, 'offline, the indicator says 2 changes are not yet saved', await statusText(a));
  const kept = await a.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('parlers-outbox:'))
    .map((k) => JSON.parse(localStorage.getItem(k)).ops.length).filter(Boolean));
  ok(kept.length === 1 && kept[0] === 2, 'the unsent changes are kept in localStorage, in order', kept);
  await a.screenshot({ path: path.join(OUT, 'editor-offline.png') });
  rec = await stored();
  ok(rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === A_TEXT, 'nothing reached the server while offline');
  await a.context().setOffline(false);
  ok(await saved(a, 20000), 'back online, the changes are sent by themselves', await statusText(a));
  rec = await stored();
  const all = rec.tiers.flatMap((t) => t.segments);
  ok(all.find((s) => s.id === target.id).text === OFF1 && all.find((s) => s.id === second.id).text === OFF2,
    'both offline edits arrived, in order');

  // unsent edits survive a reload: writes fail while the page is reloaded
  const blockWrites = (route) => (route.request().method() === 'GET' ? route.continue() : route.abort('internetdisconnected'));
  await a.route('**/api/segments/**', blockWrites);
  const OFF3 = 'Gardé pendant le rechargement';
  await a.fill(field, OFF3);
  await a.focus('#ed-tier');
  await waitFor(async () => /1 modification pas encore enregistrée/.test(await statusText(a)), 5000);
  await a.reload();
  await a.waitForSelector('#editor');
  await a.selectOption('#ed-tier', 't' + best.main.id);
  const afterReload = { status: await statusText(a), text: await a.$eval(field, (t) => t.value) };
  ok(/1 modification pas encore enregistrée/.test(afterReload.status) && afterReload.text === OFF3,
    'after a reload the unsent edit is still there, shown and waiting', afterReload);
  await a.unroute('**/api/segments/**', blockWrites);
  ok(await saved(a, 30000), 'the retry with backoff sends it once the server is reachable again', await statusText(a));
  rec = await stored();
  ok(rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === OFF3, 'the edit kept across the reload is stored');

  /* ---- 4. the audit history, and undoing one change from it ---- */
  await a.click('#ed-history-btn');
  await waitFor(() => a.$$eval('#ed-history-list li', (l) => l.length), 10000);
  const hist = await a.$$eval('#ed-history-list li', (l) => l.map((x) => x.textContent));
  ok(hist.length >= 10 && /anne/.test(hist[0]) && hist[0].includes(OFF3) && hist[0].includes(OFF1) && hist.some((h) => /bertrand/.test(h)),
    'the history lists who changed what, newest first, before and after', hist.slice(0, 3));
  await a.$eval('#ed-history', (h) => h.scrollIntoView());
  await a.screenshot({ path: path.join(OUT, 'editor-history.png') });
  await a.click('#ed-history-list li:first-child .ed-h-revert');
  await waitFor(async () => (await stored()).tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === OFF1, 5000);
  rec = await stored();
  ok(rec.tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === OFF1, 'undoing the newest entry brings the text before it back');
  ok(await waitFor(() => a.$eval(field, (t, want) => t.value === want, OFF1), 5000), 'the editor shows the restored text');
  await a.fill(field, OFF1 + ' !');
  await a.focus('#ed-tier');
  ok(await saved(a) && (await stored()).tiers.flatMap((t) => t.segments).find((s) => s.id === target.id).text === OFF1 + ' !',
    'editing goes on after an undo from the history, without a conflict');

  /* ---- 4b. a tier deleted, then put back from the history ---- */
  const SPARE = 'Couche à jeter';
  await a.click('#ed-tier-new');
  await a.waitForSelector('#ed-tier-dlg[open]');
  await a.fill('#ed-tier-name', SPARE);
  await a.keyboard.press('Enter');
  await saved(a);
  const spare = tierNamed(await stored(), SPARE);
  ok(spare, 'a tier to delete is made', (await stored()).tiers.map((t) => t.name));
  await waitFor(() => a.$eval('#ed-tier', (s, name) => s.selectedOptions[0].textContent.startsWith(name), SPARE), 5000);
  await a.click('#ed-tier-delete');
  await a.waitForSelector('#ed-tier-del-dlg[open]');
  ok((await a.$eval('#ed-tier-del-q', (p) => p.textContent)).includes(SPARE), 'deleting asks first, naming the tier');
  await a.click('#ed-tier-del-ok');
  ok(await waitFor(async () => !tierNamed(await stored(), SPARE), 5000), 'the tier is deleted on the server');
  ok(await waitFor(() => a.$$eval('#ed-tier option', (o, name) => !o.some((x) => x.textContent.startsWith(name)), SPARE), 5000),
    'and is gone from the page');
  await waitFor(() => a.$eval('#ed-history-list li:first-child', (li) => /supprimée/.test(li.textContent)).catch(() => false), 5000);
  await a.click('#ed-history-list li:first-child .ed-h-revert');
  ok(await waitFor(async () => tierNamed(await stored(), SPARE), 5000), 'undoing it from the history puts it back');
  ok(await waitFor(() => a.$$eval('#ed-tier option', (o, name) => o.some((x) => x.textContent.startsWith(name)), SPARE), 5000),
    'in the page too');

  /* ---- 5. the access level, changed in the page ---- */
  await a.selectOption('#ed-access', 'restricted');
  const anonymous = async () => (await (await fetch(`${base}/api/recordings/${id}`)).json());
  const restrictedNow = await waitFor(async () => (await anonymous()).access === 'restricted', 5000);
  ok(restrictedNow && !(await anonymous()).can_listen, 'choosing "restricted" applies at once: a visitor may no longer listen');
  ok(await a.$eval('#meta', (d) => d.textContent.includes('réservé aux chercheurs')), 'the page\'s own access line follows');
  await a.selectOption('#ed-access', 'public');
  ok(await waitFor(async () => (await anonymous()).access === 'public', 5000), 'and back to public');

  /* ---- 6. two tabs: one closed with an unsent edit, the other sends it ---- */
  const third = best.main.segments.filter((x) => x.text.trim())[2];
  const tab1 = await a.context().newPage();
  await tab1.route('**/api/segments/**', blockWrites);
  await tab1.goto(`${base}/recordings/${id}`);
  await tab1.waitForSelector('#editor');
  await tab1.selectOption('#ed-tier', 't' + best.main.id);
  const TAB_TEXT = 'Écrit dans un onglet fermé depuis';
  await tab1.fill(`#ed-seg-s${third.id}-t`, TAB_TEXT);
  await tab1.focus('#ed-tier');
  await waitFor(async () => /1 modification/.test(await statusText(tab1)), 5000);
  await sleep(1500);
  const entries = await a.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('parlers-outbox:'))
    .map((k) => JSON.parse(localStorage.getItem(k)).ops.length).filter(Boolean));
  ok(JSON.stringify(entries) === '[1]' && await saved(a, 1000), 'each tab keeps its own unsent edits; the other tab leaves them alone while it lives', entries);
  await tab1.close({ runBeforeUnload: true });
  const adopted = await waitFor(async () => (await stored()).tiers.flatMap((t) => t.segments).find((x) => x.id === third.id).text === TAB_TEXT, 25000, 250);
  ok(adopted, 'once that tab is closed, the tab still open sends its edit');
  ok(await waitFor(() => a.$eval(`#ed-seg-s${third.id}-t`, (t, want) => t.value === want, TAB_TEXT), 5000) && await saved(a),
    'and shows it, saved');

  /* ---- 7. the session ends while editing ---- */
  await a.evaluate(async () => {
    const me = await (await fetch('/api/me', { cache: 'no-store' })).json();
    await fetch('/api/logout', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: '{}' });
  });
  const LATE = 'Écrit après la fin de la session';
  await a.fill(field, LATE);
  await a.focus('#ed-tier');
  const relog = await waitFor(() => a.$('#ed-login[open]'), 8000);
  ok(relog && /session a expiré/.test(await a.$eval('#ed-login-why', (p) => p.textContent)) &&
     await a.$eval('#ed-login-name', (i) => i.value) === USERS[0][0] && /1 modification|Session expirée/.test(await statusText(a)),
  'when the session has ended, the edit waits and the sign-in dialog says why', await statusText(a));
  if (relog) {
    await a.keyboard.type(USERS[0][1]); // the password field has the focus
    await a.keyboard.press('Enter');
    ok(await saved(a) && (await stored()).tiers.flatMap((t) => t.segments).find((x) => x.id === target.id).text === LATE,
      'signed in again, the waiting edit is sent');
  }

  /* ---- 8. the server is killed while edits are being saved ---- */
  const burst = best.main.segments.filter((x) => x.text.trim()).slice(0, 5);
  const BURST = burst.map((x, i) => `Rafale ${i + 1} : ${x.text.slice(0, 20)}`);
  const killed = new Promise((r) => server.proc.once('exit', r));
  for (let i = 0; i < burst.length; i++) {
    await a.fill(`#ed-seg-s${burst[i].id}-t`, BURST[i]);
    await a.focus('#ed-tier');
    if (i === 1) server.proc.kill('SIGKILL');
  }
  await killed;
  const waiting = await waitFor(async () => /pas encore enregistrée/.test(await statusText(a)), 8000);
  ok(waiting, 'with the server gone, the indicator counts the changes still to send', await statusText(a));
  server = await serve(PARLERS, data, port);
  ok(server.up, 'the server starts again on the same data', server.errors());
  ok(await saved(a, 30000), 'the page sends what was left by itself, the session still valid', await statusText(a));
  rec = await stored();
  const got = burst.map((x) => rec.tiers.flatMap((t) => t.segments).find((y) => y.id === x.id).text);
  ok(JSON.stringify(got) === JSON.stringify(BURST), 'every edit of the burst is stored, none lost, none doubled', got);

  // a new segment whose answer is lost on the way back: made once, not twice
  await a.selectOption('#ed-tier', { label: await a.$eval('#ed-tier', (sel, name) => [...sel.options].find((o) => o.textContent.startsWith(name)).textContent, TIER2) });
  const beforeCut = tierNamed(await stored(), TIER2).segments.length;
  let cut = 0;
  const cutAnswer = async (route) => {
    if (route.request().method() !== 'POST' || cut) return route.continue();
    cut++;
    await route.fetch(); // the server makes it...
    return route.abort('connectionreset'); // ...and the page never hears so
  };
  await a.route('**/api/recordings/*/segments', cutAnswer);
  await a.evaluate(() => { document.getElementById('audio').currentTime = 20; });
  await a.keyboard.press('Alt+n');
  await a.keyboard.type('Réponse perdue');
  await a.focus('#ed-tier');
  ok(await saved(a, 30000), 'a creation whose answer was cut is settled by itself', await statusText(a));
  await a.unroute('**/api/recordings/*/segments', cutAnswer);
  const afterCut = tierNamed(await stored(), TIER2).segments;
  ok(cut === 1 && afterCut.length === beforeCut + 1 && afterCut.filter((x) => x.text === 'Réponse perdue').length === 1,
    'the segment is stored once, not twice, with its text', { cut, n: afterCut.length, beforeCut });

  /* ---- 9. English, phone width ---- */
  const p = await newPage({ viewport: { width: 390, height: 844 }, locale: 'en-GB', isMobile: true, hasTouch: true });
  await p.goto(`${base}/recordings/${id}?lang=en`);
  await p.waitForSelector('#ed-signin');
  ok(await p.$eval('#ed-signin', (x) => x.textContent) === 'Staff sign-in', 'the sign-in button speaks English');
  await signIn(p, USERS[0]);
  ok(await p.$eval('#ed-h', (h) => h.textContent) === 'Editing the transcript' && /All changes saved/.test(await statusText(p)),
    'the editor speaks English');
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(overflow <= 0, 'nothing sticks out sideways at phone width', overflow);
  const small = await p.$$eval('#editor button, #editor select, #editor input', (els) => els
    .filter((e) => e.offsetParent && e.getBoundingClientRect().height < 36).map((e) => e.id || e.className));
  ok(small.length === 0, 'every control of the editor is big enough to touch', small);
  await p.$eval('#editor', (e) => e.scrollIntoView());
  await p.screenshot({ path: path.join(OUT, 'editor-phone-en.png'), fullPage: true });

  // labels: every field of the editor has one
  const unlabelled = await a.$$eval('#editor input, #editor textarea, #editor select', (els) => els
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id));
  ok(unlabelled.length === 0, 'every field of the editor has a label', unlabelled);

  // the sign-in page: from a restricted recording's header link, and back
  const restricted = list.recordings.find((r) => r.access === 'restricted');
  if (ok(restricted, 'the sample corpus has a restricted recording')) {
    const s = await newPage({ locale: 'en-GB' });
    // the transcript, or for an annotator the editor in its place
    const shown = () => s.$$eval('#transcript-area:not([hidden]), #editor', (e) => e.length > 0);
    await s.goto(`${base}/recordings/${restricted.id}?lang=en`);
    ok(!(await shown()), 'a visitor does not see the restricted recording\'s transcript');
    ok((await s.$eval('#nav-account a', (l) => l.getAttribute('href'))) ===
       `/login?next=${encodeURIComponent(`/recordings/${restricted.id}?lang=en`)}`,
    'the header\'s sign-in link comes back to this page');
    await s.click('#nav-account a');
    await s.waitForURL(/\/login\?next=/);
    await s.fill('#login-name', USERS[0][0]);
    await s.fill('#login-pass', 'not-the-password');
    await s.click('#login-submit');
    const said = await waitFor(() => s.$eval('#login-error', (e) => e.textContent), 5000, 100);
    ok(said && /\/login/.test(s.url()), 'a wrong password is said on the page, which stays', said);
    await s.fill('#login-pass', USERS[0][1]);
    await s.keyboard.press('Enter');
    await s.waitForURL(new RegExp(`/recordings/${restricted.id}`));
    await s.waitForSelector('#nav-who');
    ok((await s.$eval('#nav-who', (e) => e.textContent)) === USERS[0][0],
      'signed in, the visitor is back on the recording and the header names them');
    ok(await waitFor(shown, 5000, 100), 'and the transcript is there (in the editor, for an annotator)');
    await s.screenshot({ path: path.join(OUT, 'signed-in-en.png') });
    await s.click('#nav-signout');
    await s.waitForSelector('#nav-account a');
    ok(!(await shown()), 'signed out from the header, the transcript is gone again');
    // ?next= leads back into this site only
    await s.goto(`${base}/login?next=${encodeURIComponent('//example.org/')}`);
    await s.fill('#login-name', USERS[0][0]);
    await s.fill('#login-pass', USERS[0][1]);
    await s.click('#login-submit');
    await s.waitForURL(`${base}/`);
    ok(new URL(s.url()).host === `127.0.0.1:${port}`, 'a next= pointing elsewhere leads to the home page', s.url());
    await s.context().close();
  }

  ok(problems.length === 0, 'no script error and no Content-Security-Policy violation', problems);
}

try {
  await main();
} catch (e) {
  ok(false, 'the editor tests ran to the end', e && e.stack);
} finally {
  if (browser) await browser.close().catch(() => {});
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
