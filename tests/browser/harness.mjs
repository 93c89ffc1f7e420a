// SPDX-License-Identifier: GPL-3.0-or-later
// What the browser tests share: TAP output, waiting, a parlers server on a
// free loopback port, and Debian's Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { chromium } from 'playwright-core';

let n = 0;
let failed = 0;

// One TAP line; a failure's detail follows as comments (15 lines at most).
export function ok(cond, what, detail) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  if (!cond && detail !== undefined) {
    for (const line of String(typeof detail === 'string' ? detail : JSON.stringify(detail)).split('\n').slice(0, 15)) console.log('#   ' + line);
  }
  return cond;
}

export const diag = (m) => console.log('# ' + m);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The plan, and the exit status: 1 when a check failed.
export function done() {
  console.log(`1..${n}`);
  process.exitCode = failed ? 1 : 0;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// fn's first truthy answer, polled every step ms; its last answer after ms.
export async function waitFor(fn, ms = 5000, step = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await sleep(step);
  }
}

// `parlers serve` on port (a free one by default): {proc, port, base, up,
// errors()}, up once /api/health answers (15 s at most).
export async function serve(parlers, data, port) {
  port = port || await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(parlers, ['-d', data, 'serve', '--listen', `127.0.0.1:${port}`, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const up = await waitFor(async () => {
    try { return (await fetch(base + '/api/health')).ok; } catch (e) { return false; }
  }, 15000, 100);
  return { proc, port, base, up, errors: () => err };
}

// Stops a server started by serve(), waiting for it to exit.
export async function stop(server) {
  if (!server || server.proc.exitCode !== null) return;
  server.proc.kill('SIGTERM');
  await new Promise((r) => server.proc.once('exit', r));
}

// Debian's Chromium, headless; never a downloaded browser.
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}
