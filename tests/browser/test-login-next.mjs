// SPDX-License-Identifier: GPL-3.0-or-later
// Where the sign-in page goes once signed in, in a real Chromium: the page
// of this site named by ?next=, and never another site, whatever the link
// hides in it (a tab, a newline, a backslash, their encoded forms), which
// the browser's URL parser drops or turns into "//host".  Checked twice:
// as the server renders the page, and with the server's verdict taken out
// of the page, so that the page's own script is checked alone.  Requests
// to any other host are answered by the test, never sent.  TAP on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { done, launchChromium, ok, serve, stop } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PARLERS = process.env.PARLERS || 'parlers';
const CORPUS = process.env.PARLERS_CORPUS || path.join(here, '..', '..', 'corpus');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parlers-browser-next-'));
const data = path.join(tmp, 'data');
let server = null;
let browser = null;

// [what the link carries (already percent-encoded), where it must land]
const CASES = [
  ['%2Frecordings%2F1', '/recordings/1'],
  ['%2Fsearch%3Fq%3Dmezoun', '/search?q=mezoun'],
  ['/%09/evil.example/x', '/'],
  ['/%0A/evil.example/x', '/'],
  ['/%0D/evil.example/x', '/'],
  ['/%5Cevil.example/x', '/'],
  ['%5C%5Cevil.example/x', '/'],
  ['%2F%09%2Fevil.example%2Fx', '/'],
  ['//evil.example/x', '/'],
  ['/%09%09/evil.example', '/'],
  ['%09//evil.example', '/'],
  ['https://evil.example/', '/'],
  ['javascript:alert(1)', '/'],
];

async function main() {
  const src = path.join(tmp, 'in');
  fs.mkdirSync(src);
  for (const f of fs.readdirSync(CORPUS)) {
    if (f.startsWith('cotentin-1976-la-mezoun.')) fs.copyFileSync(path.join(CORPUS, f), path.join(src, f));
  }
  spawnSync(PARLERS, ['-d', data, 'ingest', '--access', 'public', src], { encoding: 'utf8' });
  const add = spawnSync(PARLERS, ['-d', data, 'user', 'add', 'marie', '--role', 'researcher'],
    { input: 'marie-pass-1\n', encoding: 'utf8' });
  ok(add.status === 0, 'an account is made', add.stderr);
  server = await serve(PARLERS, data);
  if (!ok(server.up, 'the server starts', server.errors())) return;
  const own = new URL(server.base).host;

  browser = await launchChromium();
  for (const scriptAlone of [false, true]) {
    for (const [next, want] of CASES) {
      const ctx = await browser.newContext();
      const offsite = [];
      // nothing leaves the machine: another host is answered here
      await ctx.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.host === own) return route.continue();
        offsite.push(u.href);
        return route.fulfill({ status: 200, contentType: 'text/html', body: 'elsewhere' });
      });
      const page = await ctx.newPage();
      await page.goto(server.base + '/login?next=' + next);
      if (scriptAlone) {
        await page.evaluate(() => { delete document.getElementById('login-form').dataset.next; });
      }
      await page.fill('#login-name', 'marie');
      await page.fill('#login-pass', 'marie-pass-1');
      await Promise.all([
        page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 10000 }).catch(() => {}),
        page.click('#login-submit'),
      ]);
      const landed = new URL(page.url());
      const where = landed.host === own ? landed.pathname + landed.search : landed.href;
      ok(landed.host === own && where === want && offsite.length === 0,
        `${scriptAlone ? 'the page script alone' : 'the page as served'}: next=${next} lands on ${want}`,
        { landed: page.url(), offsite });
      await ctx.close();
    }
  }
}

try {
  await main();
} catch (e) {
  ok(false, 'the browser test ran to the end', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  await stop(server);
  fs.rmSync(tmp, { recursive: true, force: true });
  done();
}
