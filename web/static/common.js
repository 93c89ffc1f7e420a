// SPDX-License-Identifier: GPL-3.0-or-later
// What every page shares: the string table of the page's language, safe
// element building (text only, never markup from data), time formatting,
// and the language switch that keeps the visitor where they are.
'use strict';

const PRL = (() => {
  const node = document.getElementById('i18n');
  const strings = node ? JSON.parse(node.textContent) : {};
  const lang = document.documentElement.lang || 'fr';

  // A string of the table with {name} filled in; the key itself when missing.
  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    }
    return s;
  }

  // Builds an element; children are nodes or strings (always text nodes).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  // JSON that the server put in the page, or null.
  function pageData(id) {
    const e = document.getElementById(id);
    if (!e) return null;
    const s = e.textContent.trim();
    if (!s) return null;
    try { return JSON.parse(s); } catch (err) { return null; }
  }

  // m:ss or h:mm:ss from milliseconds; with tenths when asked.
  function clock(ms, tenths) {
    if (!Number.isFinite(ms) || ms < 0) ms = 0;
    const total = tenths ? Math.floor(ms / 100) / 10 : Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    let s = total % 60;
    let ss = tenths ? s.toFixed(1) : String(Math.floor(s));
    if (s < 10) ss = '0' + ss;
    if (tenths && lang === 'fr') ss = ss.replace('.', ',');
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + ss;
  }

  function date(iso) {
    if (!iso) return '';
    const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(iso);
    if (!m) return iso;
    try {
      if (m[3]) {
        return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).toLocaleDateString(lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
      }
      if (m[2]) {
        return new Date(Date.UTC(+m[1], +m[2] - 1, 1)).toLocaleDateString(lang, { year: 'numeric', month: 'long', timeZone: 'UTC' });
      }
    } catch (err) { /* an engine without Intl: the ISO form will do */ }
    return iso;
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!r.ok) {
      const e = new Error('HTTP ' + r.status);
      e.status = r.status;
      throw e;
    }
    return r.json();
  }

  // The switch keeps the page's own query (filters, search) and its #t=.
  function fixLanguageSwitch() {
    for (const a of document.querySelectorAll('a.lang-switch')) {
      const target = new URL(a.getAttribute('href'), location.href);
      const here = new URL(location.href);
      here.searchParams.set('lang', target.searchParams.get('lang'));
      a.href = here.pathname + here.search + here.hash;
      a.addEventListener('click', () => {
        a.href = location.pathname + (() => {
          const u = new URL(location.href);
          u.searchParams.set('lang', target.searchParams.get('lang'));
          return u.search;
        })() + location.hash;
      });
    }
  }
  fixLanguageSwitch();

  // Whether this browser signed in before: anonymous visitors are not sent
  // to /api/me for a 401 on every page (the session cookie itself is
  // HttpOnly, out of the script's reach).
  const HINT = 'parlers-signed-in';
  function signedIn(on) {
    try { if (on) localStorage.setItem(HINT, '1'); else localStorage.removeItem(HINT); } catch (err) { /* private mode */ }
  }
  function signedInBefore() {
    try { return localStorage.getItem(HINT) === '1'; } catch (err) { return false; }
  }

  // The header's account item: "Sign in" (to /login, and back here after),
  // or who is signed in with a button to sign out.
  async function accountItem() {
    const li = document.getElementById('nav-account');
    if (!li) return;
    const link = li.querySelector('a');
    if (location.pathname === '/login') {
      li.hidden = true;
      return;
    }
    link.href = '/login?next=' + encodeURIComponent(location.pathname + location.search + location.hash);
    if (!signedInBefore()) return;
    let me = null;
    try {
      const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) me = await r.json();
      else if (r.status === 401) signedIn(false);
    } catch (err) { /* offline: the link stays */ }
    if (!me || !me.login) return;
    const out = el('button', { type: 'button', class: 'nav-signout', id: 'nav-signout' }, t('ed_signout'));
    out.addEventListener('click', async () => {
      try {
        await fetch('/api/logout', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body: '{}',
        });
      } catch (err) { /* the page reloads anonymous either way */ }
      signedIn(false);
      location.reload();
    });
    li.replaceChildren(el('span', { class: 'nav-who', id: 'nav-who', title: t('ed_role_' + me.role) }, me.login), ' ', out);
    // staff deposit recordings from any page
    if ((me.role === 'annotator' || me.role === 'admin') && !document.getElementById('nav-upload')) {
      li.before(el('li', { id: 'nav-upload' }, el('a', { href: '/upload' }, t('nav_upload'))));
    }
  }
  accountItem();

  // A progress object ({transcribed, translated, pending, ...}) as an
  // element: a bar of the transcribed share and one line of words.
  function progress(p, id) {
    const pct = (x) => Math.round((x || 0) * 100);
    const bar = el('progress', { max: '100', value: String(pct(p.transcribed)), 'aria-hidden': 'true' });
    return el('p', { class: 'progress-line', id }, bar, ' ',
      t('progress_line', { transcribed: pct(p.transcribed), translated: pct(p.translated), pending: p.pending || 0 }));
  }

  return { t, el, pageData, clock, date, getJSON, lang, signedIn, signedInBefore, progress };
})();
