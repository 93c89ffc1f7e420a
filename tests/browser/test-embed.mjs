// SPDX-License-Identifier: GPL-3.0-or-later
// The embeddable player in a real Chromium, framed by a page of another
// origin (a second loopback server, as a museum's site would be): it
// shows the recording, its credit and the span's transcript, plays only
// the span, draws the waveform, and weighs under 30 KB before the audio.
// A private recording does not embed; a server that allows no other site
// to frame it is obeyed by the browser; the recording page hands out the
// snippet.  Screenshots go to tests/browser/out/.  TAP on stdout.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, freePort, launchChromium, ok, serve, stop, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');
const OUT = path.join(here, 'out');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-embed-'));
const data = path.join(tmp, 'data');
let server = null, strict = null, host = null, browser = null;

// A museum's page: one frame per src, on its own origin.
function museum(port, frames) {
  const page = '<!doctype html><meta charset="utf-8"><title>Musée</title>' +
    '<body style="font-family:serif;background:#efe9dc;padding:16px"><h1>Le musée du cidre</h1>' +
    frames.map((f, i) => `<p>Extrait ${i + 1}</p><iframe id="f${i}" src="${f.src}" width="480" ` +
      `height="${f.height}" style="border:0" title="extrait ${i + 1}"></iframe>`).join('') + '</body>';
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((r) => srv.listen(port, '127.0.0.1', () => r(srv)));
}

async function frameOf(page, id) {
  const el = await page.waitForSelector('#' + id);
  return waitFor(async () => {
    const f = await el.contentFrame();
    return f && (await f.$('#embed')) ? f : null;
  }, 10000);
}

async function main() {
  spawnSync(PARLERS, ['-d', data, 'init'], { encoding: 'utf8' });
  const ing = spawnSync(PARLERS, ['-d', data, 'ingest', CORPUS], { encoding: 'utf8' });
  ok(ing.status === 0, 'the sample corpus is ingested', ing.stderr);
  const list = JSON.parse(spawnSync(PARLERS, ['-d', data, 'list', '--json'], { encoding: 'utf8' }).stdout);
  const recs = list.recordings || list;
  const pub = recs.find((r) => r.title.startsWith('Le bère'));
  const priv = recs.find((r) => r.access === 'private');
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;

  const port = await freePort();
  host = await museum(port, [
    { src: `${server.base}/embed/${pub.id}?t=5,16&transcript=1`, height: 300 },
    { src: `${server.base}/embed/${priv.id}`, height: 168 },
  ]);
  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 560, height: 720 } });
  const page = await ctx.newPage();
  const weight = { doc: 0, js: 0, css: 0 };
  page.on('response', async (resp) => {
    const u = new URL(resp.url());
    if (u.origin !== server.base || !resp.ok()) return;
    // the public embed's own page and what it loads, not the second frame's 404 page
    let frameUrl = '';
    try { frameUrl = resp.frame().url(); } catch (e) { frameUrl = ''; }
    if (u.pathname !== `/embed/${pub.id}` && !frameUrl.includes(`/embed/${pub.id}`)) return;
    const len = Number((await resp.allHeaders())['content-length'] || 0);
    if (u.pathname.startsWith('/embed/')) weight.doc += len;
    else if (u.pathname.endsWith('.js')) weight.js += len;
    else if (u.pathname.endsWith('.css')) weight.css += len;
  });
  await page.goto(`http://localhost:${port}/`);
  const f = await frameOf(page, 'f0');
  if (!ok(f, 'the embed loads inside a frame of another origin')) return;
  ok((await f.textContent('#title')).includes('Le bère et les pommiers'), 'the frame names the recording');
  const credit = await f.textContent('#credit');
  ok(credit.includes('Henri Duboc') && credit.includes('CC BY-NC 4.0'), 'the credit line names collector and rights', credit);
  ok((await f.getAttribute('#back', 'href')) === `/recordings/${pub.id}#t=5,16`, 'the link back opens the same span');
  const lines = await f.$$eval('#transcript li .e-text', (els) => els.map((e) => e.textContent));
  ok(lines.length === 3 && lines[1].startsWith('À la Saint-Michel'), 'the transcript holds the span\'s segments only', lines);
  ok((await f.$$('#transcript .e-tr')).length === 3, 'each line has its translation');

  const painted = await waitFor(() => f.evaluate(() => {
    const c = document.getElementById('wave');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n > c.width * 8 ? n : 0;
  }), 5000);
  ok(painted, 'the waveform of the span is drawn from the peaks');

  await waitFor(() => f.evaluate(() => !document.getElementById('play').disabled), 5000);
  await f.click('#play');
  const heard = await waitFor(() => f.evaluate(() => {
    const a = document.getElementById('audio');
    return !a.paused && a.currentTime > 6.7 ? a.currentTime : 0;
  }), 8000);
  ok(heard >= 5, 'play starts at the span\'s start and plays', heard);
  const now = await waitFor(() => f.evaluate(() => {
    const li = document.querySelector('#transcript li.now .e-text');
    return li && li.textContent;
  }), 3000);
  ok(now && now.startsWith('À la Saint-Michel'), 'the segment being heard is highlighted', now);
  await f.evaluate(() => { document.getElementById('audio').currentTime = 15.2; });
  const stopped = await waitFor(() => f.evaluate(() => {
    const a = document.getElementById('audio');
    return a.paused ? a.currentTime : 0;
  }), 5000);
  ok(stopped >= 15.5 && stopped <= 16.5, 'playing stops at the span\'s end', stopped);
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'embed-museum.png'), fullPage: true });
  const total = weight.doc + weight.js + weight.css;
  ok(total > 0 && total < 30 * 1024, `the embed weighs under 30 KB before the audio (${total} bytes: ` +
    `page ${weight.doc}, script ${weight.js}, style ${weight.css})`);

  const second = await page.$('#f1');
  const inner = await second.contentFrame();
  ok(!(await inner.$('#embed')) && /404/.test(await inner.textContent('body')),
    'a private recording does not embed: the frame says it is not there');

  // an operator who allows only its own site: the browser refuses the frame
  const strictPort = await freePort();
  strict = spawn(PARLERS, ['-d', data, 'serve', '--listen', `127.0.0.1:${strictPort}`, '--quiet',
    '--frame-ancestors', "'self'"], { stdio: 'ignore' });
  await waitFor(async () => { try { return (await fetch(`http://127.0.0.1:${strictPort}/api/health`)).ok; } catch (e) { return false; } }, 15000, 100);
  const p2 = await ctx.newPage();
  const host2 = await museum(await freePort(), [{ src: `http://127.0.0.1:${strictPort}/embed/${pub.id}`, height: 168 }]);
  await p2.goto(`http://localhost:${host2.address().port}/`);
  await p2.waitForTimeout(1500);
  const blocked = await (await p2.$('#f0')).contentFrame();
  ok(!blocked || !(await blocked.$('#embed').catch(() => null)), 'a site the operator did not allow cannot frame it');
  host2.close();

  // the recording page hands out the snippet
  const p3 = await ctx.newPage();
  await p3.goto(`${server.base}/recordings/${pub.id}`);
  await p3.click('#embed');
  await p3.check('#embed-text');
  const code = await p3.inputValue('#embed-code');
  ok(code.includes(`src="${server.base}/embed/${pub.id}`) && code.includes('transcript=1') && code.includes('height="300"'),
    'the recording page gives the <iframe> to paste', code);
  await p3.screenshot({ path: path.join(OUT, 'embed-snippet.png') });
  const p4 = await ctx.newPage();
  await p4.goto(`${server.base}/recordings/${recs.find((r) => r.access === 'restricted').id}`);
  ok(await p4.isHidden('#embed'), 'a restricted recording offers no embed');
}

try {
  await main();
} catch (e) {
  ok(false, 'the embed test ran to its end', e.stack);
} finally {
  if (browser) await browser.close();
  if (host) host.close();
  if (strict && strict.kill) strict.kill('SIGTERM');
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
