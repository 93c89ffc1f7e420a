// SPDX-License-Identifier: GPL-3.0-or-later
// The annotation editor of the recording page, for annotators and admins
// once signed in (anyone else gets a discreet "staff sign-in" button).
// Segments are created, retimed, split, merged and deleted on a zoomed
// timeline drawn from the stored peaks and in a list of text fields; tiers
// are added and renamed; the sound is driven from the keyboard while typing.
// Staff also set the recording's access level and read its audit history,
// where any change can be undone.
//
// Always holds:
// - every change is an operation appended to an outbox that is written to
//   localStorage (one entry per tab) before it is sent, and sent strictly in
//   order, one at a time; an operation leaves the outbox only when the
//   server acknowledged it or refused it for good.  A lost connection keeps
//   the outbox (a reload or a crash too) and sending resumes on the "online"
//   event or after a growing delay; a creation whose answer was lost is
//   looked for on the server before it is sent again;
// - operations name segments and tiers by a key made in the page, mapped to
//   the server's id once the server gave one, so that edits made offline to
//   a segment created offline follow it;
// - each undo or redo is itself a set of operations, saved like any edit;
// - a 409 stops the outbox until the annotator chooses between the other
//   person's version and their own: nothing is overwritten silently;
// - text from the archive or from the server reaches the page as text only
//   (textContent, input values, canvas fillText), never as markup.
//
// Expected workload: one annotator on a recording of up to a few thousand
// segments, a change every second or so while transcribing.
'use strict';

(() => {
  const { t, el, pageData, clock } = PRL;
  const rec0 = pageData('rec-data');
  if (!rec0 || !rec0.id) return;
  const recId = rec0.id;
  const $ = (id) => document.getElementById(id);
  const audio = $('audio');

  const EDIT_ROLES = ['annotator', 'admin'];
  const MIN_SEG_MS = 20;          // shortest interval the editor makes
  const NEW_SEG_MS = 4000;        // length of a segment made at the play head
  const REPLAY_MS = 3000;         // "replay the last 3 s"
  const TEXT_COMMIT_MS = 800;     // idle time after which typed text is saved
  const MAX_BACKOFF_MS = 15000;   // longest wait between two retries
  const SPEEDS = [1, 0.75, 0.5];

  let me = null;                  // {login, role, csrf_token} of the signed-in user

  /* ---------------------------------------------------------------- */
  /* small helpers                                                      */
  /* ---------------------------------------------------------------- */

  const lang = PRL.lang;
  // m:ss,cc (French) or m:ss.cc (English) from milliseconds.
  function fmtTime(ms) {
    ms = Math.max(0, Math.round(ms || 0));
    const cs = Math.floor(ms / 10) % 100;
    const s = Math.floor(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0') + (lang === 'fr' ? ',' : '.') + String(cs).padStart(2, '0');
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + ss;
  }
  // "12", "12.5", "1:02,35", "1:02:03.5" -> milliseconds, or NaN.
  function parseTime(str) {
    const s = String(str || '').trim().replace(',', '.');
    if (!/^(\d+:){0,2}\d+(\.\d*)?$/.test(s)) return NaN;
    const parts = s.split(':').map(Number);
    return Math.round(parts.reduce((acc, x) => acc * 60 + x, 0) * 1000);
  }
  const durationMs = () => (Number.isFinite(audio && audio.duration) && audio.duration > 0
    ? Math.round(audio.duration * 1000) : (rec0.duration_ms || 0));
  const nowMs = () => (audio ? Math.round(audio.currentTime * 1000) : 0);
  const cssVar = (name, dflt) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || dflt;

  // The letter of a shortcut: the layout's own letter (AZERTY users press
  // the key labelled Z for Alt+Z), or the physical key where Option on a
  // Mac turned the letter into another character.
  function keyName(ev) {
    if (ev.key && ev.key.length === 1 && /[a-z]/i.test(ev.key)) return ev.key.toLowerCase();
    if (/^Key[A-Z]$/.test(ev.code || '')) return ev.code.slice(3).toLowerCase();
    return ev.key;
  }

  async function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && me && me.csrf_token) headers['X-CSRF-Token'] = me.csrf_token;
    const r = await fetch(url, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (err) { data = null; }
    return { status: r.status, ok: r.ok, data };
  }

  // whether this browser signed in before (common.js)
  const hint = PRL.signedIn;
  const hinted = PRL.signedInBefore;

  async function fetchMe() {
    try {
      const r = await api('GET', '/api/me');
      if (r.status === 401) hint(false);
      return r.ok && r.data && r.data.login ? r.data : null;
    } catch (err) {
      return null;
    }
  }

  /* ---------------------------------------------------------------- */
  /* signing in and out                                                 */
  /* ---------------------------------------------------------------- */

  let loginDone = null;   // what to do after a successful sign-in

  function buildLoginDialog() {
    if ($('ed-login')) return $('ed-login');
    const err = el('p', { id: 'ed-login-error', class: 'ed-error', role: 'alert' });
    const why = el('p', { id: 'ed-login-why', class: 'ed-why' });
    const form = el('form', { method: 'dialog', class: 'ed-form' },
      el('h2', { id: 'ed-login-h' }, t('ed_login_title')),
      why,
      el('label', { for: 'ed-login-name' }, t('ed_login_name')),
      el('input', { id: 'ed-login-name', name: 'login', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' }),
      el('label', { for: 'ed-login-pass' }, t('ed_login_password')),
      el('input', { id: 'ed-login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
      err,
      el('div', { class: 'ed-buttons' },
        el('button', { type: 'submit', id: 'ed-login-submit' }, t('ed_login_submit')),
        el('button', { type: 'button', class: 'secondary', id: 'ed-login-cancel' }, t('ed_cancel'))));
    const dlg = el('dialog', { id: 'ed-login', class: 'ed-dialog', 'aria-labelledby': 'ed-login-h' }, form);
    document.body.append(dlg);
    $('ed-login-cancel').addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const submit = $('ed-login-submit');
      submit.disabled = true;
      try {
        const r = await api('POST', '/api/login', { login: $('ed-login-name').value.trim(), password: $('ed-login-pass').value });
        if (r.ok && r.data && r.data.login) {
          me = r.data;
          hint(true);
          $('ed-login-pass').value = '';
          dlg.close();
          if (loginDone) loginDone();
          return;
        }
        err.textContent = r.status === 429 ? t('ed_login_slow') : r.status === 401 || r.status === 403 ? t('ed_login_wrong') : t('ed_login_failed');
      } catch (e) {
        err.textContent = t('ed_login_offline');
      } finally {
        submit.disabled = false;
      }
    });
    return dlg;
  }

  function askLogin(reason, then) {
    const dlg = buildLoginDialog();
    loginDone = then;
    $('ed-login-why').textContent = reason || '';
    $('ed-login-why').hidden = !reason;
    $('ed-login-error').textContent = '';
    if (me && me.login) $('ed-login-name').value = me.login;
    if (!dlg.open) dlg.showModal();
    ($('ed-login-name').value ? $('ed-login-pass') : $('ed-login-name')).focus();
  }

  // Signing in again after the session ended; someone else signing in here
  // gets a fresh page, and the first person's unsent edits stay theirs
  // (kept under their login for their next visit).
  function reauth(then) {
    const before = me && me.login;
    askLogin(t('ed_session_expired'), () => {
      if (before && me.login !== before) { location.reload(); return; }
      renderAccountBox();
      then();
    });
  }

  async function logout() {
    commitText();
    try { await api('POST', '/api/logout', {}); } catch (err) { /* gone anyway once reloaded */ }
    hint(false);
    location.reload();
  }

  // The box in the page's side column: a sign-in button, or who is signed in.
  function renderAccountBox() {
    const aside = document.querySelector('aside.meta');
    if (!aside) return;
    let box = $('ed-account');
    if (!box) {
      box = el('div', { id: 'ed-account', class: 'ed-account' });
      aside.append(box);
    }
    box.replaceChildren();
    if (!me) {
      box.append(el('button', { type: 'button', class: 'secondary', id: 'ed-signin',
        onclick: () => askLogin('', () => location.reload()) }, t('ed_signin')));
    } else {
      box.append(el('p', {}, t('ed_signed_in_as', { login: me.login, role: t('ed_role_' + me.role) })),
        el('button', { type: 'button', class: 'secondary', id: 'ed-signout', onclick: logout }, t('ed_signout')));
    }
  }

  /* ---------------------------------------------------------------- */
  /* the model: tiers and segments under keys made in the page          */
  /* ---------------------------------------------------------------- */

  let tiers = [];                 // [{key, name, type, language, speaker, parent_id, constraint, segs: []}]
  const tierByKey = new Map();
  const segByKey = new Map();     // key -> {key, tierKey, start_ms, end_ms, text, parent_id}
  const segIds = new Map();       // segment key -> server id
  const tierIds = new Map();      // tier key -> server id
  const versions = new Map();     // segment key -> last version the server gave
  let keySeq = 0;
  const newKey = (kind) => kind + Date.now().toString(36) + '-' + (++keySeq) + Math.random().toString(36).slice(2, 6);

  const editableTier = (tier) => tier && !tier.parent_id;

  function sortTier(tier) {
    tier.segs.sort((a, b) => a.start_ms - b.start_ms || a.end_ms - b.end_ms);
  }

  // Builds the model from a recording's JSON; keys made in the page that
  // the server already knows keep their key.
  function loadModel(data, savedSegIds, savedTierIds) {
    const revSeg = new Map(Object.entries(savedSegIds || {}).map(([k, id]) => [id, k]));
    const revTier = new Map(Object.entries(savedTierIds || {}).map(([k, id]) => [id, k]));
    tiers = [];
    tierByKey.clear(); segByKey.clear(); segIds.clear(); tierIds.clear(); versions.clear();
    for (const tr of (data.tiers || [])) {
      const key = revTier.get(tr.id) || 't' + tr.id;
      const tier = { key, name: tr.name, type: tr.type, language: tr.language, speaker: tr.speaker,
        parent_id: tr.parent_id || null, constraint: tr.constraint || null, segs: [],
        origin: tr.origin || null, tool: tr.origin_tool || null };
      tierIds.set(key, tr.id);
      for (const s of (tr.segments || [])) {
        const skey = revSeg.get(s.id) || 's' + s.id;
        const seg = { key: skey, tierKey: key, start_ms: s.start_ms, end_ms: s.end_ms, text: s.text || '', parent_id: s.parent_id || null,
          origin: s.origin || null, confidence: s.confidence == null ? null : s.confidence, doubtful: !!s.doubtful,
          themes: Array.isArray(s.themes) ? s.themes.slice() : [] };
        segIds.set(skey, s.id);
        versions.set(skey, s.version || 1);
        segByKey.set(skey, seg);
        tier.segs.push(seg);
      }
      sortTier(tier);
      tiers.push(tier);
      tierByKey.set(key, tier);
    }
  }

  function addSegToModel(seg) {
    const tier = tierByKey.get(seg.tierKey);
    if (!tier) return;
    segByKey.set(seg.key, seg);
    tier.segs.push(seg);
    sortTier(tier);
  }

  function removeSegFromModel(key) {
    const seg = segByKey.get(key);
    if (!seg) return;
    segByKey.delete(key);
    const tier = tierByKey.get(seg.tierKey);
    if (tier) tier.segs = tier.segs.filter((s) => s !== seg);
  }

  // Applies an operation to the model (when made, and again for the
  // operations found in the outbox after a reload).
  function applyLocal(op) {
    switch (op.op) {
      case 'seg-create':
        if (!segByKey.has(op.key)) {
          addSegToModel({ key: op.key, tierKey: op.tier, start_ms: op.start_ms, end_ms: op.end_ms, text: op.text, parent_id: null, themes: [] });
        }
        break;
      case 'seg-patch': {
        const seg = segByKey.get(op.key);
        if (!seg) break;
        Object.assign(seg, op.fields);
        // a person's change takes the machine's mark away (the server's trigger does the same)
        if (['start_ms', 'end_ms', 'text'].some((f) => f in op.fields)) { seg.origin = null; seg.doubtful = false; seg.confidence = null; }
        sortTier(tierByKey.get(seg.tierKey));
        break;
      }
      case 'seg-delete':
        removeSegFromModel(op.key);
        break;
      case 'tier-create':
        if (!tierByKey.has(op.key)) {
          const tier = { key: op.key, name: op.name, type: op.type, language: op.language, speaker: op.speaker, parent_id: null, segs: [] };
          tiers.push(tier);
          tierByKey.set(op.key, tier);
        }
        break;
      case 'tier-rename': {
        const tier = tierByKey.get(op.key);
        if (tier) tier.name = op.name;
        break;
      }
      default:
    }
  }

  /* ---------------------------------------------------------------- */
  /* the outbox: operations kept in localStorage, sent in order         */
  /* ---------------------------------------------------------------- */

  let outbox = [];                // [{op, key, ...}] oldest first
  let inflight = null;            // the operation being sent
  let sending = false;
  let paused = null;              // null, 'conflict' or 'auth'
  let backoff = 0;
  let retryTimer = 0;
  let failing = false;            // the last attempt could not reach the server
  let needResync = false;         // the server refused something: reload its truth once idle
  let lastError = '';
  let ackData = null;             // the server's answer to the last operation acknowledged
  let drag = null;                // {key, edge, min, max, before} while a boundary is dragged
  // One entry per tab (its id lives in sessionStorage, which a reload
  // keeps), so that two tabs on one recording never overwrite each other's
  // unsent edits; a live tab adopts the entries of tabs gone for good.  A
  // tab holds a Web Lock named after its entry for as long as it lives,
  // which tells exactly which entries are orphans; where the browser has no
  // Web Locks, a heartbeat older than TAB_GONE_MS does.
  const TAB_GONE_MS = 30000;
  const newTabId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  let tabId = (() => {
    try {
      let x = sessionStorage.getItem('parlers-tab');
      if (!x) { x = newTabId(); sessionStorage.setItem('parlers-tab', x); }
      return x;
    } catch (err) {
      return newTabId();
    }
  })();
  const locks = navigator.locks && navigator.locks.request ? navigator.locks : null;
  const lockName = (key) => 'parlers-tab:' + key;

  // Holds this tab's lock; a duplicated tab (same sessionStorage) finds it
  // taken and becomes a tab of its own.
  async function holdTabLock() {
    if (!locks) return;
    for (let tries = 0; tries < 5; tries++) {
      const got = await new Promise((resolve) => {
        locks.request(lockName(storeKey()), { ifAvailable: true }, (lock) => {
          resolve(!!lock);
          return lock ? new Promise(() => {}) : undefined;
        }).catch(() => resolve(true));
      });
      if (got) return;
      tabId = newTabId();
      try { sessionStorage.setItem('parlers-tab', tabId); } catch (err) { /* this page keeps it */ }
    }
  }
  const storePrefix = () => 'parlers-outbox:v1:' + (me ? me.login : '') + ':' + recId + ':';
  const storeKey = () => storePrefix() + tabId;

  function persist() {
    const sIds = {};
    for (const [k, id] of segIds) if (k !== 's' + id) sIds[k] = id;
    const tIds = {};
    for (const [k, id] of tierIds) if (k !== 't' + id) tIds[k] = id;
    try {
      if (!outbox.length && !Object.keys(sIds).length && !Object.keys(tIds).length) localStorage.removeItem(storeKey());
      else localStorage.setItem(storeKey(), JSON.stringify({ v: 1, alive: Date.now(), ops: outbox, segIds: sIds, tierIds: tIds }));
    } catch (err) {
      lastError = t('ed_storage_full');
    }
  }

  function readEntry(key) {
    try {
      const s = JSON.parse(localStorage.getItem(key) || 'null');
      if (s && s.v === 1 && Array.isArray(s.ops)) return { segIds: {}, tierIds: {}, ...s };
    } catch (err) { /* a damaged entry is worth less than a working page */ }
    return null;
  }
  const readStore = () => readEntry(storeKey()) || { v: 1, ops: [], segIds: {}, tierIds: {} };

  // The entries of this recording left by tabs that are gone.
  async function orphans() {
    const found = [];
    let held = null;
    if (locks && locks.query) {
      try { held = new Set(((await locks.query()).held || []).map((l) => l.name)); } catch (err) { held = null; }
    }
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (!k || !k.startsWith(storePrefix()) || k === storeKey()) continue;
        const e = readEntry(k);
        if (!e) continue;
        if (held ? !held.has(lockName(k)) : !(Date.now() - (e.alive || 0) < TAB_GONE_MS)) found.push([k, e]);
      }
    } catch (err) { /* no storage: nothing to adopt */ }
    return found;
  }

  // Takes over what a closed or crashed tab had not sent: its operations
  // (older than this tab's, so first) and the ids it had been given.
  async function adoptOrphans(replay, known) {
    const found = known || await orphans();
    if (!found.length) return false;
    const adopted = [];
    for (const [k, e] of found) {
      for (const [key, id] of Object.entries(e.segIds)) if (!segIds.has(key)) segIds.set(key, id);
      for (const [key, id] of Object.entries(e.tierIds)) if (!tierIds.has(key)) tierIds.set(key, id);
      adopted.push(...e.ops);
      try { localStorage.removeItem(k); } catch (err) { /* removed next time */ }
    }
    if (replay) for (const op of adopted) applyLocal(op);
    const head = inflight ? [outbox[0]] : [];
    outbox = [...head, ...adopted, ...outbox.slice(head.length)];
    persist();
    return adopted.length > 0;
  }

  function enqueue(op) {
    lastError = '';
    applyLocal(op);
    // a change to what the previous, unsent operation made or changed is folded into it
    const last = outbox.length ? outbox[outbox.length - 1] : null;
    if (op.op === 'seg-patch' && last && last !== inflight && last.key === op.key &&
        (last.op === 'seg-patch' || (last.op === 'seg-create' && !last.uncertain))) {
      if (last.op === 'seg-patch') Object.assign(last.fields, op.fields);
      else Object.assign(last, op.fields);
    } else {
      outbox.push(op);
    }
    persist();
    render();
    pump();
  }

  function dropOpsOf(key) {
    outbox = outbox.filter((o) => o.key !== key || o === inflight);
  }

  function scheduleRetry() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, MAX_BACKOFF_MS);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { retryTimer = 0; pump(); }, Math.round(backoff * (0.8 + Math.random() * 0.4)));
  }

  const segFields = (s) => ({ start_ms: s.start_ms, end_ms: s.end_ms, text: s.text });

  // A creation sent without an answer (the connection cut after the
  // request left) may have been made: before sending it again, the server's
  // tiers are searched for it, so that a retry never makes it twice.
  async function findCreated(op) {
    const r = await api('GET', '/api/recordings/' + recId);
    if (!r.ok || !r.data) throw new Error('HTTP ' + r.status);
    const known = new Set(op.op === 'seg-create' ? segIds.values() : tierIds.values());
    for (const tr of r.data.tiers || []) {
      if (op.op === 'tier-create') {
        if (!known.has(tr.id) && tr.name === op.name && (tr.type || null) === (op.type || null)) return tr.id;
        continue;
      }
      if (tr.id !== tierIds.get(op.tier)) continue;
      for (const sg of tr.segments || []) {
        if (!known.has(sg.id) && sg.start_ms === op.start_ms && sg.end_ms === op.end_ms && sg.text === op.text) {
          versions.set(op.key, sg.version || 1);
          return sg.id;
        }
      }
    }
    return 0;
  }

  // Sends one operation; answers 'ok', 'retry', 'auth', 'csrf',
  // {conflict: current-or-null} or {rejected: message}.
  async function send(op) {
    let r;
    ackData = null;
    try {
      if (op.uncertain && (op.op === 'seg-create' || op.op === 'tier-create')) {
        const found = await findCreated(op);
        delete op.uncertain;
        if (found) {
          (op.op === 'seg-create' ? segIds : tierIds).set(op.key, found);
          return 'ok';
        }
      }
      switch (op.op) {
        case 'seg-create': {
          const tid = tierIds.get(op.tier);
          if (tid === undefined) return { rejected: t('ed_err_no_tier') };
          r = await api('POST', '/api/recordings/' + recId + '/segments',
            { tier_id: tid, start_ms: op.start_ms, end_ms: op.end_ms, text: op.text });
          if (r.ok && r.data && r.data.id) {
            segIds.set(op.key, r.data.id);
            versions.set(op.key, r.data.version || 1);
          }
          break;
        }
        case 'seg-patch': {
          const id = segIds.get(op.key);
          if (id === undefined) return 'ok'; // its creation was refused: nothing to change
          r = await api('PATCH', '/api/segments/' + id, { version: versions.get(op.key) || 1, ...op.fields });
          if (r.ok && r.data) versions.set(op.key, r.data.version);
          if (r.status === 409 && r.data && r.data.current &&
              Object.entries(op.fields).every(([k, v]) => r.data.current[k] === v)) {
            // already there (sent before a crash, or the same change by someone else)
            versions.set(op.key, r.data.current.version);
            return 'ok';
          }
          break;
        }
        case 'seg-delete': {
          const id = segIds.get(op.key);
          if (id === undefined) return 'ok';
          r = await api('DELETE', '/api/segments/' + id + '?version=' + (versions.get(op.key) || 1));
          if (r.ok || r.status === 404) {
            segIds.delete(op.key);
            versions.delete(op.key);
            return 'ok';
          }
          break;
        }
        case 'tier-create':
          r = await api('POST', '/api/recordings/' + recId + '/tiers',
            { name: op.name, type: op.type, language: op.language, speaker: op.speaker });
          if (r.ok && r.data && r.data.id) tierIds.set(op.key, r.data.id);
          break;
        case 'tier-rename': {
          const id = tierIds.get(op.key);
          if (id === undefined) return 'ok';
          r = await api('PATCH', '/api/tiers/' + id, { name: op.name });
          break;
        }
        default:
          return { rejected: 'unknown operation' };
      }
    } catch (err) {
      // no answer: offline, refused connection, server down, or cut after sending
      if ((op.op === 'seg-create' || op.op === 'tier-create') && r === undefined) {
        op.uncertain = true;
        persist();
      }
      return 'retry';
    }
    if (r.ok) { ackData = r.data; return 'ok'; }
    // a conflict over a segment is the annotator's to settle; over a tier (a name taken) it is a refusal
    if (r.status === 409 && (op.op === 'seg-patch' || op.op === 'seg-delete')) return { conflict: (r.data && r.data.current) || null };
    if (r.status === 404 && op.op === 'seg-patch') return { conflict: null };
    if (r.status === 401) return 'auth';
    if (r.status === 403) return 'csrf';
    if (r.status === 408 || r.status === 429 || r.status >= 500) return 'retry';
    return { rejected: (r.data && r.data.error) || ('HTTP ' + r.status) };
  }

  async function pump() {
    if (sending || paused || !me) return;
    sending = true;
    try {
      while (outbox.length && !paused) {
        inflight = outbox[0];
        render.status();
        const res = await send(inflight);
        const op = inflight;
        inflight = null;
        if (res === 'ok') {
          failing = false;
          backoff = 0;
          outbox.shift();
          // the server's word wins where nothing newer is waiting for this key
          const seg = op.key && op.op.startsWith('seg') && segByKey.get(op.key);
          if (seg && ackData && ackData.id && !outbox.some((o) => o.key === op.key) && !(editing && editing.key === op.key) &&
              !(drag && drag.key === op.key)) {
            Object.assign(seg, segFields(ackData));
            sortTier(tierByKey.get(seg.tierKey));
          }
          persist();
          continue;
        }
        if (res === 'retry') { failing = true; scheduleRetry(); break; }
        if (res === 'auth') {
          paused = 'auth';
          reauth(() => { paused = null; pump(); });
          break;
        }
        if (res === 'csrf') {
          const fresh = await fetchMe();
          if (!fresh) { paused = 'auth'; reauth(() => { paused = null; pump(); }); break; }
          if (fresh.csrf_token !== me.csrf_token && !op.csrfRetried) {
            me = fresh;
            op.csrfRetried = true;
            continue;
          }
          outbox.shift();
          lastError = t('ed_err_forbidden');
          needResync = true;
          persist();
          continue;
        }
        if (res.conflict !== undefined) {
          paused = 'conflict';
          showConflict(op, res.conflict);
          break;
        }
        // refused for good: said once, dropped with what depended on it
        outbox.shift();
        if (op.op === 'seg-create') { dropOpsOf(op.key); removeSegFromModel(op.key); }
        if (op.op === 'tier-create') {
          const gone = new Set(tierByKey.get(op.key) ? tierByKey.get(op.key).segs.map((s) => s.key) : []);
          outbox = outbox.filter((o) => o.key !== op.key && o.tier !== op.key && !gone.has(o.key));
        }
        lastError = t('ed_err_refused', { why: res.rejected });
        needResync = true;
        persist();
      }
    } finally {
      sending = false;
      inflight = null;
      render();
    }
    if (!outbox.length && !paused && needResync) {
      needResync = false;
      resync();
    }
  }

  async function resync() {
    try {
      const r = await api('GET', '/api/recordings/' + recId);
      if (!r.ok || !r.data || outbox.length) return;
      const store = readStore();
      loadModel(r.data, store.segIds, store.tierIds);
      persist();
      render();
    } catch (err) { /* the next change will try again */ }
  }

  window.addEventListener('online', () => {
    clearTimeout(retryTimer);
    retryTimer = 0;
    backoff = 0;
    pump();
  });
  window.addEventListener('offline', () => render.status());

  /* ---------------------------------------------------------------- */
  /* conflicts                                                          */
  /* ---------------------------------------------------------------- */

  function describe(s) {
    if (!s) return null;
    return [fmtTime(s.start_ms) + ' – ' + fmtTime(s.end_ms), s.text ? '« ' + s.text + ' »' : t('ed_empty_text')];
  }

  function showConflict(op, current) {
    const mine = segByKey.get(op.key);
    const dlg = $('ed-conflict') || (() => {
      const d = el('dialog', { id: 'ed-conflict', class: 'ed-dialog', 'aria-labelledby': 'ed-conflict-h', 'aria-describedby': 'ed-conflict-what' });
      document.body.append(d);
      // Escape would leave the outbox stopped with no choice made
      d.addEventListener('cancel', (ev) => ev.preventDefault());
      return d;
    })();
    const theirsLines = current ? describe(current) : [t('ed_conflict_deleted')];
    const mineLines = op.op === 'seg-delete' ? [t('ed_conflict_you_deleted')] : describe(mine) || [t('ed_conflict_deleted')];
    const block = (title, lines, cls) => el('div', { class: 'ed-version ' + cls },
      el('h3', {}, title), ...lines.map((l) => el('p', {}, l)));
    dlg.replaceChildren(
      el('h2', { id: 'ed-conflict-h' }, t('ed_conflict_title')),
      el('p', { id: 'ed-conflict-what' }, current ? t('ed_conflict_what') : t('ed_conflict_what_deleted')),
      el('div', { class: 'ed-versions' },
        block(t('ed_conflict_theirs'), theirsLines, 'theirs'),
        block(t('ed_conflict_mine'), mineLines, 'mine')),
      el('div', { class: 'ed-buttons' },
        el('button', { type: 'button', id: 'ed-keep-theirs', onclick: () => resolve('theirs') }, t('ed_conflict_keep_theirs')),
        el('button', { type: 'button', id: 'ed-reapply-mine', class: 'secondary', onclick: () => resolve('mine') }, t('ed_conflict_reapply'))));

    function resolve(choice) {
      dlg.close();
      const key = op.key;
      if (choice === 'theirs') {
        outbox = outbox.filter((o) => o.key !== key);
        if (current) {
          versions.set(key, current.version);
          const seg = segByKey.get(key);
          if (seg) Object.assign(seg, segFields(current));
          else addSegToModel({ key, tierKey: op.tier || (mine && mine.tierKey) || keyOfTierId(current.tier_id), ...segFields(current), parent_id: current.parent_id || null });
          const tier = segByKey.get(key) && tierByKey.get(segByKey.get(key).tierKey);
          if (tier) sortTier(tier);
        } else {
          removeSegFromModel(key);
          segIds.delete(key);
        }
      } else if (current) {
        versions.set(key, current.version);
        if (op.op === 'seg-patch' && mine) {
          // what the annotator sees is what gets saved
          op.fields = segFields(mine);
          outbox = outbox.filter((o) => o === op || o.key !== key || o.op !== 'seg-patch');
        }
      } else if (mine) {
        // deleted by the other person: made again from what the annotator sees
        segIds.delete(key);
        outbox[0] = { op: 'seg-create', key, tier: mine.tierKey, ...segFields(mine) };
      }
      paused = null;
      persist();
      render();
      focusSeg(key);
      pump();
    }

    render.status();
    dlg.showModal();
    $('ed-keep-theirs').focus();
  }

  function keyOfTierId(id) {
    for (const [k, v] of tierIds) if (v === id) return k;
    return null;
  }

  /* ---------------------------------------------------------------- */
  /* edits, undo and redo                                               */
  /* ---------------------------------------------------------------- */

  const undoStack = [];
  const redoStack = [];

  function snapshot(seg) {
    return { key: seg.key, tierKey: seg.tierKey, start_ms: seg.start_ms, end_ms: seg.end_ms, text: seg.text };
  }

  function doCreate(snap) {
    enqueue({ op: 'seg-create', key: snap.key, tier: snap.tierKey, start_ms: snap.start_ms, end_ms: snap.end_ms, text: snap.text });
  }
  function doPatch(key, fields) {
    if (!segByKey.has(key) || !Object.keys(fields).length) return;
    enqueue({ op: 'seg-patch', key, fields: { ...fields } });
  }
  function doDelete(key) {
    if (segByKey.has(key)) enqueue({ op: 'seg-delete', key });
  }
  function doRename(key, name) {
    if (tierByKey.has(key)) enqueue({ op: 'tier-rename', key, name });
  }

  function runStep(step, backwards) {
    switch (step.k) {
      case 'create': if (backwards) doDelete(step.snap.key); else doCreate(step.snap); break;
      case 'delete': if (backwards) doCreate(step.snap); else doDelete(step.snap.key); break;
      case 'update': doPatch(step.key, backwards ? step.before : step.after); break;
      case 'rename': doRename(step.key, backwards ? step.before : step.after); break;
      default:
    }
  }

  // One user action: its steps run now and are kept for undo.
  function act(label, steps, focusKey) {
    if (!steps.length) return;
    for (const s of steps) runStep(s, false);
    undoStack.push({ label, steps, focusKey });
    if (undoStack.length > 500) undoStack.shift();
    redoStack.length = 0;
    render();
  }

  // An update step for the fields of seg that change.
  function updateStep(seg, after) {
    const before = {};
    const changed = {};
    for (const [k, v] of Object.entries(after)) {
      if (seg[k] !== v) { before[k] = seg[k]; changed[k] = v; }
    }
    return Object.keys(changed).length ? { k: 'update', key: seg.key, before, after: changed } : null;
  }

  function undo() {
    commitText();
    const e = undoStack.pop();
    if (!e) { say(t('ed_nothing_to_undo')); return; }
    for (const s of [...e.steps].reverse()) runStep(s, true);
    redoStack.push(e);
    say(t('ed_undone', { what: t(e.label) }));
    render();
    if (e.focusKey && segByKey.has(e.focusKey)) focusSeg(e.focusKey);
  }

  function redo() {
    commitText();
    const e = redoStack.pop();
    if (!e) { say(t('ed_nothing_to_redo')); return; }
    for (const s of e.steps) runStep(s, false);
    undoStack.push(e);
    say(t('ed_redone', { what: t(e.label) }));
    render();
    if (e.focusKey && segByKey.has(e.focusKey)) focusSeg(e.focusKey);
  }

  /* ---- text typed in a segment: saved after a pause, on leaving, or before any other action ---- */

  let editing = null;  // {key, before} while text typed is not yet a change
  let textTimer = 0;

  function textInput(key, value) {
    const seg = segByKey.get(key);
    if (!seg) return;
    if (editing && editing.key !== key) commitText();
    if (!editing) { editing = { key, before: seg.text }; render.status(); }
    seg.text = value;
    clearTimeout(textTimer);
    textTimer = setTimeout(commitText, TEXT_COMMIT_MS);
    render.canvas();
  }

  function commitText() {
    clearTimeout(textTimer);
    textTimer = 0;
    if (!editing) return;
    const { key, before } = editing;
    editing = null;
    const seg = segByKey.get(key);
    if (!seg || seg.text === before) { render.status(); return; }
    const after = seg.text;
    seg.text = before; // the step below makes the change, as any other
    act('ed_label_text', [{ k: 'update', key, before: { text: before }, after: { text: after } }], key);
  }

  /* ---- the actions ---- */

  let activeTierKey = null;
  let selKey = null;

  const activeTier = () => tierByKey.get(activeTierKey) || null;

  function requireEditableTier() {
    const tier = activeTier();
    if (!tier) { say(t('ed_need_tier')); return null; }
    if (!editableTier(tier)) { say(t('ed_tier_dependent')); return null; }
    return tier;
  }

  // The segment of tier holding ms (the selected one first), or null.
  function segAt(tier, ms) {
    const sel = segByKey.get(selKey);
    if (sel && sel.tierKey === tier.key && sel.start_ms <= ms && ms < sel.end_ms) return sel;
    return tier.segs.find((s) => s.start_ms <= ms && ms < s.end_ms) || null;
  }

  function newSegmentAtPlayhead() {
    commitText();
    const tier = requireEditableTier();
    if (!tier) return;
    const p = nowMs();
    const d = durationMs();
    const steps = [];
    const here = segAt(tier, p);
    if (here) {
      if (p - here.start_ms < 200) { selectSeg(here.key, true); say(t('ed_already_here')); return; }
      steps.push(updateStep(here, { end_ms: p }));
    }
    const next = tier.segs.find((s) => s.start_ms >= p && s !== here);
    let end = Math.min(p + NEW_SEG_MS, d || p + NEW_SEG_MS);
    if (here) end = Math.min(Math.max(end, here.end_ms), d || here.end_ms);
    if (next) end = Math.min(end, next.start_ms);
    if (end - p < MIN_SEG_MS) { say(t('ed_no_room')); return; }
    const snap = { key: newKey('ns'), tierKey: tier.key, start_ms: p, end_ms: end, text: '' };
    steps.push({ k: 'create', snap });
    act('ed_label_new', steps.filter(Boolean), snap.key);
    focusSeg(snap.key);
    say(t('ed_created_at', { time: fmtTime(p) }));
  }

  function splitAtPlayhead() {
    commitText();
    const tier = requireEditableTier();
    if (!tier) return;
    const p = nowMs();
    const seg = segAt(tier, p);
    if (!seg) { say(t('ed_split_none')); return; }
    if (p - seg.start_ms < MIN_SEG_MS || seg.end_ms - p < MIN_SEG_MS) { say(t('ed_no_room')); return; }
    // the text is cut at the caret when the annotator is typing in that segment
    let first = seg.text;
    let second = '';
    const ta = document.activeElement;
    if (ta && ta.tagName === 'TEXTAREA' && ta.dataset.key === seg.key && ta.selectionStart > 0 && ta.selectionStart < ta.value.length) {
      first = ta.value.slice(0, ta.selectionStart).trimEnd();
      second = ta.value.slice(ta.selectionStart).trimStart();
    }
    const snap = { key: newKey('ns'), tierKey: tier.key, start_ms: p, end_ms: seg.end_ms, text: second };
    act('ed_label_split', [updateStep(seg, { end_ms: p, text: first }), { k: 'create', snap }].filter(Boolean), snap.key);
    focusSeg(snap.key);
    say(t('ed_split_done', { time: fmtTime(p) }));
  }

  function mergeWithNext() {
    commitText();
    const tier = requireEditableTier();
    if (!tier) return;
    const seg = segByKey.get(selKey) && segByKey.get(selKey).tierKey === tier.key ? segByKey.get(selKey) : segAt(tier, nowMs());
    if (!seg) { say(t('ed_select_first')); return; }
    const i = tier.segs.indexOf(seg);
    const next = tier.segs[i + 1];
    if (!next) { say(t('ed_merge_none')); return; }
    const text = [seg.text.trim(), next.text.trim()].filter(Boolean).join(' ');
    act('ed_label_merge', [{ k: 'delete', snap: snapshot(next) }, updateStep(seg, { end_ms: Math.max(seg.end_ms, next.end_ms), text })].filter(Boolean), seg.key);
    focusSeg(seg.key);
    say(t('ed_merged'));
  }

  function deleteSelected() {
    commitText();
    const seg = segByKey.get(selKey);
    if (!seg) { say(t('ed_select_first')); return; }
    const tier = tierByKey.get(seg.tierKey);
    if (!editableTier(tier)) { say(t('ed_tier_dependent')); return; }
    const i = tier.segs.indexOf(seg);
    const neighbour = tier.segs[i + 1] || tier.segs[i - 1];
    act('ed_label_delete', [{ k: 'delete', snap: snapshot(seg) }], neighbour ? neighbour.key : null);
    selKey = null;
    if (neighbour) focusSeg(neighbour.key);
    say(t('ed_deleted'));
  }

  // Sets the start or the end of the selected segment to the play head.
  function boundaryAtPlayhead(edge) {
    commitText();
    const seg = segByKey.get(selKey);
    if (!seg) { say(t('ed_select_first')); return; }
    setTimes(seg, edge === 'start' ? nowMs() : seg.start_ms, edge === 'end' ? nowMs() : seg.end_ms);
  }

  // Checks new times against the recording and the neighbours on the tier.
  function setTimes(seg, start, end) {
    const tier = tierByKey.get(seg.tierKey);
    if (!editableTier(tier)) { say(t('ed_tier_dependent')); return false; }
    const d = durationMs();
    if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || (d && end > d) || end - start < MIN_SEG_MS) {
      say(t('ed_bad_times'));
      render();
      return false;
    }
    if (tier.segs.some((s) => s !== seg && s.start_ms < end && start < s.end_ms)) {
      say(t('ed_overlap'));
      render();
      return false;
    }
    const step = updateStep(seg, { start_ms: start, end_ms: end });
    if (step) act('ed_label_times', [step], seg.key);
    return true;
  }

  function neighbourSeg(dir) {
    commitText();
    const tier = activeTier();
    if (!tier || !tier.segs.length) return;
    const cur = segByKey.get(selKey);
    let i;
    if (cur && cur.tierKey === tier.key) i = tier.segs.indexOf(cur) + dir;
    else {
      const p = nowMs();
      i = dir > 0 ? tier.segs.findIndex((s) => s.start_ms > p) : tier.segs.map((s) => s.start_ms < p).lastIndexOf(true);
    }
    if (i < 0 || i >= tier.segs.length) { say(dir > 0 ? t('ed_last') : t('ed_first')); return; }
    const seg = tier.segs[i];
    seekMs(seg.start_ms);
    focusSeg(seg.key);
  }

  /* ---- tiers ---- */

  function tierDialog(mode) {
    commitText();
    const tier = activeTier();
    if (mode === 'rename' && !tier) { say(t('ed_need_tier')); return; }
    const dlg = $('ed-tier-dlg') || (() => {
      const d = el('dialog', { id: 'ed-tier-dlg', class: 'ed-dialog', 'aria-labelledby': 'ed-tier-h' });
      document.body.append(d);
      return d;
    })();
    const speakers = (rec0.speakers || []).map((s) => s.name);
    const fields = [
      el('label', { for: 'ed-tier-name' }, t('ed_tier_name')),
      el('input', { id: 'ed-tier-name', required: true, maxlength: '200', autocomplete: 'off' }),
    ];
    if (mode === 'new') {
      fields.push(
        el('label', { for: 'ed-tier-type' }, t('ed_tier_type')),
        el('select', { id: 'ed-tier-type' }, ...['transcription', 'translation', 'gloss', 'note'].map((x) => el('option', { value: x }, t('ed_type_' + x)))),
        el('label', { for: 'ed-tier-lang' }, t('ed_tier_language')),
        el('input', { id: 'ed-tier-lang', maxlength: '20', autocomplete: 'off', 'aria-describedby': 'ed-tier-lang-hint' }),
        el('p', { id: 'ed-tier-lang-hint', class: 'ed-hint' }, t('ed_tier_language_hint')),
        el('label', { for: 'ed-tier-speaker' }, t('ed_tier_speaker')),
        el('select', { id: 'ed-tier-speaker' }, el('option', { value: '' }, t('ed_tier_no_speaker')), ...speakers.map((n) => el('option', { value: n }, n))));
    }
    const form = el('form', { method: 'dialog', class: 'ed-form' },
      el('h2', { id: 'ed-tier-h' }, mode === 'new' ? t('ed_tier_new') : t('ed_tier_rename')),
      ...fields,
      el('div', { class: 'ed-buttons' },
        el('button', { type: 'submit' }, mode === 'new' ? t('ed_tier_create') : t('ed_tier_rename_ok')),
        el('button', { type: 'button', class: 'secondary', onclick: () => dlg.close() }, t('ed_cancel'))));
    dlg.replaceChildren(form);
    if (mode === 'rename') $('ed-tier-name').value = tier.name;
    else {
      $('ed-tier-lang').value = rec0.language || '';
      if (speakers.length === 1) $('ed-tier-speaker').value = speakers[0];
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = $('ed-tier-name').value.trim();
      if (!name) { $('ed-tier-name').focus(); return; }
      dlg.close();
      if (mode === 'new') {
        const key = newKey('nt');
        enqueue({ op: 'tier-create', key, name, type: $('ed-tier-type').value,
          language: $('ed-tier-lang').value.trim() || null, speaker: $('ed-tier-speaker').value || null });
        activeTierKey = key;
        selKey = null;
        render();
        say(t('ed_tier_created', { name }));
      } else if (name !== tier.name) {
        act('ed_label_rename', [{ k: 'rename', key: tier.key, before: tier.name, after: name }]);
        say(t('ed_tier_renamed', { name }));
      }
      $('ed-tier').focus();
    });
    dlg.showModal();
    $('ed-tier-name').focus();
    $('ed-tier-name').select();
  }

  // the history panel's reload, once the panel is built (below)
  let refreshHistory = () => {};

  // Deleting the tier shown, with its segments: one change on the server,
  // which the history can undo; asked once more first, and only with every
  // edit saved (an edit still on its way could be to this tier).
  function tierDelete() {
    commitText();
    const tier = activeTier();
    const tierId = tier && tierIds.get(tier.key);
    if (!tierId) { say(t(tier ? 'ed_tier_delete_wait' : 'ed_need_tier')); return; }
    if (outbox.length) { say(t('ed_tier_delete_wait')); return; }
    const dlg = $('ed-tier-del-dlg') || (() => {
      const d = el('dialog', { id: 'ed-tier-del-dlg', class: 'ed-dialog', 'aria-labelledby': 'ed-tier-del-h' },
        el('form', { method: 'dialog', class: 'ed-form' },
          el('h2', { id: 'ed-tier-del-h' }, t('ed_tier_delete')),
          el('p', { id: 'ed-tier-del-q' }),
          el('p', { id: 'ed-tier-del-error', class: 'ed-error', role: 'alert' }),
          el('div', { class: 'ed-buttons' },
            el('button', { type: 'submit', id: 'ed-tier-del-ok' }, t('ed_tier_delete_ok')),
            el('button', { type: 'button', class: 'secondary', id: 'ed-tier-del-cancel' }, t('ed_cancel')))));
      document.body.append(d);
      $('ed-tier-del-cancel').addEventListener('click', () => d.close());
      return d;
    })();
    const form = dlg.querySelector('form');
    $('ed-tier-del-q').textContent = t('ed_tier_delete_q', { name: tier.name, n: tier.segs.length });
    $('ed-tier-del-error').textContent = '';
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      let r = null;
      try { r = await api('DELETE', '/api/tiers/' + tierId); } catch (err) { r = null; }
      if (r && r.ok) {
        dlg.close();
        activeTierKey = null;
        // the steps to undo may name its segments: the history undoes this one
        undoStack.length = 0;
        redoStack.length = 0;
        await resync();
        say(t('ed_tier_deleted', { name: tier.name }));
        refreshHistory();
        $('ed-tier').focus();
      } else if (r && r.status === 401) {
        dlg.close();
        reauth(() => tierDelete());
      } else {
        $('ed-tier-del-error').textContent = (r && r.data && r.data.error) || t('ed_login_offline');
      }
    };
    dlg.showModal();
    $('ed-tier-del-cancel').focus();
  }

  /* ---------------------------------------------------------------- */
  /* the sound                                                          */
  /* ---------------------------------------------------------------- */

  function seekMs(ms) {
    const d = durationMs();
    audio.currentTime = Math.max(0, d ? Math.min(ms, d - 1) : ms) / 1000;
    render.canvas();
  }
  function togglePlay() {
    if (audio.paused) audio.play().catch(() => {});
    else audio.pause();
  }
  function replay() {
    seekMs(nowMs() - REPLAY_MS);
    audio.play().catch(() => {});
  }
  function setSpeed(rate) {
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    const sel = $('ed-speed');
    if (sel) sel.value = String(rate);
    say(t('ed_speed_now', { rate: String(rate).replace('.', lang === 'fr' ? ',' : '.') }));
  }
  function slower() {
    const i = SPEEDS.indexOf(audio.playbackRate);
    setSpeed(SPEEDS[(i + 1) % SPEEDS.length]);
  }

  /* ---------------------------------------------------------------- */
  /* the page                                                           */
  /* ---------------------------------------------------------------- */

  // what each shortcut does; the help panel is made from this table
  const SHORTCUTS = [
    { keys: ['Échap'], en: ['Esc'], match: (e, k) => k === 'Escape' && !e.altKey && !e.ctrlKey, label: 'ed_k_play', run: () => (tmToggle ? tmToggle() : togglePlay()) },
    { keys: ['Alt+R'], match: (e, k) => e.altKey && k === 'r', label: 'ed_k_replay', run: replay },
    { keys: ['Alt+N'], match: (e, k) => e.altKey && k === 'n', label: 'ed_k_new', run: newSegmentAtPlayhead },
    { keys: ['Alt+S'], match: (e, k) => e.altKey && k === 's', label: 'ed_k_split', run: splitAtPlayhead },
    { keys: ['Alt+J'], match: (e, k) => e.altKey && k === 'j', label: 'ed_k_merge', run: mergeWithNext },
    { keys: ['Alt+X'], match: (e, k) => e.altKey && k === 'x', label: 'ed_k_delete', run: deleteSelected },
    { keys: ['Alt+↑'], match: (e, k) => e.altKey && k === 'ArrowUp', label: 'ed_k_prev', run: () => neighbourSeg(-1) },
    { keys: ['Alt+↓'], match: (e, k) => e.altKey && k === 'ArrowDown', label: 'ed_k_next', run: () => neighbourSeg(1) },
    { keys: ['Alt+B'], match: (e, k) => e.altKey && k === 'b', label: 'ed_k_start', run: () => boundaryAtPlayhead('start') },
    { keys: ['Alt+E'], match: (e, k) => e.altKey && k === 'e', label: 'ed_k_end', run: () => boundaryAtPlayhead('end') },
    { keys: ['Alt+V'], match: (e, k) => e.altKey && k === 'v', label: 'ed_k_slower', run: slower },
    { keys: ['Alt+Z', 'Ctrl+Z'], match: (e, k) => k === 'z' && !e.shiftKey && (e.altKey || ((e.ctrlKey || e.metaKey) && !inText(e))), label: 'ed_k_undo', run: undo },
    { keys: ['Alt+Y', 'Ctrl+Y'], match: (e, k) => (e.altKey && k === 'y') || ((e.ctrlKey || e.metaKey) && !inText(e) && (k === 'y' || (k === 'z' && e.shiftKey))), label: 'ed_k_redo', run: redo },
    { keys: ['Alt+H'], match: (e, k) => e.altKey && k === 'h', label: 'ed_k_help', run: () => toggleHelp() },
    { keys: ['Alt+T'], match: (e, k) => e.altKey && k === 't', label: 'ed_k_themes', run: () => themeDialog() },
  ];
  function inText(e) {
    const tg = e.target;
    return tg && (tg.tagName === 'TEXTAREA' || tg.tagName === 'INPUT' || tg.isContentEditable);
  }

  // the network's themes, [{slug, name}] once read from /api/themes
  let themeList = null;
  const themeNames = new Map();
  const themeName = (slug) => themeNames.get(slug) || slug;
  async function loadThemes() {
    try {
      const r = await api('GET', '/api/themes');
      if (!r.ok || !r.data || !Array.isArray(r.data.themes)) return;
      themeList = r.data.themes.map((x) => ({ slug: x.slug, name: x.name || x.slug }));
      for (const x of themeList) themeNames.set(x.slug, x.name);
    } catch (err) { /* the dialog says so when it opens */ }
  }

  let say = () => {};
  let render = () => {};
  render.status = () => {};
  render.canvas = () => {};
  let focusSeg = () => {};
  let selectSeg = () => {};
  let toggleHelp = () => {};
  let themeDialog = () => {};
  let tmToggle = null; // the transcription mode's play/pause, while it is open

  function buildEditor() {
    const lbl = (k) => t(k);
    const btn = (id, key, onclick, cls, shortcut) => el('button', {
      type: 'button', id, class: cls || 'secondary', onclick,
      'aria-keyshortcuts': shortcut || null, title: shortcut ? t(key) + ' (' + shortcut + ')' : null,
    }, lbl(key));

    // silent: it changes at every pause in typing; what matters is announced by say()
    const status = el('p', { id: 'ed-status', class: 'ed-status' });
    const announce = el('p', { id: 'ed-say', class: 'ed-say', role: 'status', 'aria-live': 'polite' });
    const canvas = el('canvas', { id: 'ed-canvas', class: 'ed-canvas', role: 'img', 'aria-label': t('ed_timeline_label') });
    const helpRows = SHORTCUTS.map((s) => el('tr', {},
      el('th', { scope: 'row' }, ...((lang === 'en' && s.en) || s.keys).flatMap((k, i) => [i ? ' / ' : null, el('kbd', {}, k)]).filter(Boolean)),
      el('td', {}, t(s.label))));
    const help = el('div', { id: 'ed-help', class: 'ed-help', hidden: true },
      el('h3', { id: 'ed-help-h' }, t('ed_help_title')),
      el('table', { 'aria-labelledby': 'ed-help-h' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('ed_help_keys')), el('th', { scope: 'col' }, t('ed_help_action')))),
        el('tbody', {}, ...helpRows)),
      el('p', { class: 'ed-hint' }, t('ed_help_more')));

    const section = el('section', { id: 'editor', class: 'editor', 'aria-labelledby': 'ed-h' },
      el('div', { class: 'ed-head' },
        el('h2', { id: 'ed-h' }, t('ed_title')),
        status,
        el('button', { type: 'button', id: 'ed-relogin', hidden: true,
          onclick: () => reauth(() => { paused = null; pump(); }) }, t('ed_relogin'))),
      el('div', { class: 'ed-toolbar', role: 'group', 'aria-label': t('ed_tools') },
        el('div', { class: 'ed-group' },
          btn('ed-undo', 'ed_undo', undo, null, 'Alt+Z'),
          btn('ed-redo', 'ed_redo', redo, null, 'Alt+Y')),
        el('div', { class: 'ed-group' },
          btn('ed-new', 'ed_new_segment', newSegmentAtPlayhead, null, 'Alt+N'),
          btn('ed-split', 'ed_split', splitAtPlayhead, null, 'Alt+S'),
          btn('ed-merge', 'ed_merge', mergeWithNext, null, 'Alt+J'),
          btn('ed-delete', 'ed_delete', deleteSelected, null, 'Alt+X'),
          btn('ed-themes', 'ed_themes', () => themeDialog(), null, 'Alt+T')),
        el('div', { class: 'ed-group' },
          el('label', { for: 'ed-speed', class: 'ed-inline-label' }, t('ed_speed')),
          el('select', { id: 'ed-speed', 'aria-keyshortcuts': 'Alt+V' },
            ...SPEEDS.map((r) => el('option', { value: String(r) }, String(r).replace('.', lang === 'fr' ? ',' : '.') + ' ×'))),
          el('button', { type: 'button', id: 'ed-help-btn', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'ed-help', 'aria-keyshortcuts': 'Alt+H' }, t('ed_help_button')),
          el('button', { type: 'button', id: 'ed-tm-btn', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'ed-tm' }, t('ed_tm_open')))),
      help,
      el('section', { id: 'ed-tm', class: 'ed-tm', hidden: true, 'aria-labelledby': 'ed-tm-h' },
        el('div', { class: 'ed-tm-head' },
          el('h3', { id: 'ed-tm-h' }, t('ed_tm_title')),
          el('span', { class: 'ed-pair' }, el('label', { for: 'ed-tm-loops', class: 'ed-inline-label' }, t('ed_tm_loops')),
            el('select', { id: 'ed-tm-loops' }, ...[1, 2, 3, 5, 10, 0].map((n) => el('option', { value: String(n) }, n ? String(n) : t('ed_tm_loops_inf'))))),
          el('span', { class: 'ed-pair' }, el('label', { for: 'ed-tm-pause', class: 'ed-inline-label' }, t('ed_tm_pause')),
            el('select', { id: 'ed-tm-pause' }, ...[0, 250, 500, 1000, 2000].map((ms) => el('option', { value: String(ms) }, String(ms / 1000).replace('.', lang === 'fr' ? ',' : '.') + ' s')))),
          el('span', { class: 'ed-pair' }, el('label', { for: 'ed-tm-rate', class: 'ed-inline-label' }, t('ed_tm_rate')),
            el('select', { id: 'ed-tm-rate' }, ...[1, 0.9, 0.75, 0.6, 0.5].map((r) => el('option', { value: String(r) }, String(r).replace('.', lang === 'fr' ? ',' : '.') + ' ×'))))),
        el('canvas', { id: 'ed-tm-wave', class: 'ed-tm-wave', role: 'img', 'aria-label': t('ed_tm_wave') }),
        el('p', { class: 'ed-hint', id: 'ed-tm-hint' }, t('ed_tm_hint')),
        el('ol', { id: 'ed-tm-list', class: 'ed-tm-list', 'aria-labelledby': 'ed-tm-h' }),
        el('p', { id: 'ed-tm-none', class: 'ed-hint', hidden: true }, t('ed_tm_none'))),
      el('div', { class: 'ed-timeline' },
        canvas,
        el('div', { class: 'ed-zoom', role: 'group', 'aria-label': t('ed_zoom') },
          el('button', { type: 'button', class: 'secondary', id: 'ed-zoom-out', 'aria-label': t('ed_zoom_out') }, '−'),
          el('button', { type: 'button', class: 'secondary', id: 'ed-zoom-in', 'aria-label': t('ed_zoom_in') }, '+'),
          el('span', { id: 'ed-view', class: 'ed-view' }))),
      el('div', { class: 'ed-tierbar' },
        el('label', { for: 'ed-tier', class: 'ed-inline-label' }, t('ed_tier')),
        el('select', { id: 'ed-tier' }),
        btn('ed-tier-rename', 'ed_tier_rename', () => tierDialog('rename')),
        btn('ed-tier-new', 'ed_tier_new', () => tierDialog('new')),
        btn('ed-tier-delete', 'ed_tier_delete', () => tierDelete(), 'secondary ed-danger'),
        btn('ed-tier-accept', 'ed_accept_tier', () => acceptTier())),
      el('div', { class: 'ed-tools', role: 'group', 'aria-label': t('ed_tools_auto') },
        btn('ed-propose', 'ed_propose', () => startJob('segment')),
        btn('ed-align', 'ed_align', () => alignDialog()),
        el('span', { id: 'ed-recognize-box', class: 'ed-pair', hidden: true },
          el('label', { for: 'ed-recognizer', id: 'ed-recognizer-label', class: 'ed-inline-label', hidden: true }, t('ed_recognizer')),
          el('select', { id: 'ed-recognizer', hidden: true }),
          btn('ed-recognize', 'ed_recognize', () => startRecognize()))),
      el('div', { id: 'ed-job', class: 'ed-job', hidden: true },
        el('p', { id: 'ed-job-text', class: 'ed-job-text', role: 'status', 'aria-live': 'polite' }),
        el('progress', { id: 'ed-job-bar', max: '1', value: '0', 'aria-labelledby': 'ed-job-text' }),
        el('button', { type: 'button', id: 'ed-job-cancel', class: 'secondary', onclick: () => cancelJob() }, t('ed_job_cancel'))),
      el('p', { id: 'ed-tier-note', class: 'ed-hint', hidden: true }, t('ed_tier_dependent')),
      el('p', { id: 'ed-machine-note', class: 'ed-machine-note', hidden: true }),
      el('ol', { id: 'ed-segs', class: 'ed-segs', 'aria-labelledby': 'ed-segs-h' }),
      el('p', { id: 'ed-segs-h', class: 'visually-hidden' }),
      el('p', { id: 'ed-none', class: 'ed-hint', hidden: true }),
      announce,
      el('div', { class: 'ed-more' },
        el('div', { class: 'ed-access' },
          el('span', { class: 'ed-pair' },
            el('label', { for: 'ed-access', class: 'ed-inline-label' }, t('ed_access')),
            el('select', { id: 'ed-access', 'aria-describedby': 'ed-access-hint' },
              ...['public', 'restricted', 'private'].map((x) => el('option', { value: x }, t('access_' + x))))),
          el('p', { id: 'ed-access-hint', class: 'ed-hint' }, t('ed_access_hint'))),
        el('button', { type: 'button', id: 'ed-history-btn', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'ed-history' }, t('ed_history'))),
      el('div', { id: 'ed-history', class: 'ed-history', hidden: true },
        el('h3', { id: 'ed-history-h' }, t('ed_history')),
        el('p', { id: 'ed-history-status', class: 'ed-hint', role: 'status', 'aria-live': 'polite' }),
        el('ol', { id: 'ed-history-list', class: 'ed-history-list', 'aria-labelledby': 'ed-history-h' }),
        el('button', { type: 'button', id: 'ed-history-more', class: 'secondary', hidden: true }, t('ed_history_more'))));

    // in the main column, under the player: beside the side column on a
    // wide screen, before it on a phone
    const player = $('player');
    if (player) player.after(section);
    else document.querySelector('main').append(section);
    const reading = $('transcript-area');
    if (reading) reading.hidden = true;

    /* ---- announcements ---- */
    let sayTimer = 0;
    say = (msg) => {
      announce.textContent = msg;
      clearTimeout(sayTimer);
      sayTimer = setTimeout(() => { announce.textContent = ''; }, 6000);
    };

    /* ---- the status line ---- */
    render.status = () => {
      // text being typed counts: it is not saved until its pause is over
      const n = outbox.length + (editing ? 1 : 0);
      let state = 'saved';
      let text;
      if (paused === 'conflict') { state = 'conflict'; text = t('ed_status_conflict', { n }); }
      else if (paused === 'auth') { state = 'error'; text = t('ed_status_auth', { n }); }
      else if (!n) text = t('ed_status_saved');
      else {
        state = failing || !navigator.onLine ? 'offline' : 'pending';
        text = (n === 1 ? t('ed_status_pending_one') : t('ed_status_pending', { n }));
        if (state === 'offline') text += ' — ' + t('ed_status_offline');
      }
      if (lastError) { text += ' · ' + lastError; }
      $('ed-relogin').hidden = paused !== 'auth';
      const was = status.dataset.state;
      if (was && was !== state && (state === 'offline' || state === 'conflict' || (state === 'saved' && was !== 'pending'))) say(text);
      status.dataset.state = state;
      status.dataset.pending = String(n);
      if (status.textContent !== text) status.textContent = text;
      $('ed-undo').disabled = !undoStack.length;
      $('ed-redo').disabled = !redoStack.length;
    };

    /* ---- the tier picker ---- */
    const tierSel = $('ed-tier');
    tierSel.addEventListener('change', () => {
      commitText();
      activeTierKey = tierSel.value;
      selKey = null;
      render();
    });
    function renderTiers() {
      if (!tierByKey.has(activeTierKey)) {
        const first = tiers.find(editableTier) || tiers[0];
        activeTierKey = first ? first.key : null;
      }
      const want = tiers.map((x) => x.key + '\u0000' + x.name + '\u0000' + (x.type || '')).join('\u0001');
      if (tierSel.dataset.sig !== want) {
        tierSel.replaceChildren(...tiers.map((x) => el('option', { value: x.key },
          x.name + (x.type ? ' — ' + t('ed_type_' + x.type) : '') + (editableTier(x) ? '' : ' ' + t('ed_tier_dependent_short')))));
        tierSel.dataset.sig = want;
      }
      if (activeTierKey) tierSel.value = activeTierKey;
      tierSel.disabled = !tiers.length;
      $('ed-tier-rename').disabled = !activeTierKey;
      $('ed-tier-delete').disabled = !activeTierKey;
      const tier = activeTier();
      $('ed-tier-note').hidden = !tier || editableTier(tier);
      // a tier a tool made: how many segments are left to review
      const marked = tier ? tier.segs.filter((x) => x.origin === 'machine') : [];
      const doubtful = marked.filter((x) => x.doubtful).length;
      const machine = !!tier && (tier.origin === 'machine' || marked.length > 0);
      $('ed-tier-accept').hidden = !machine;
      $('ed-tier-accept').disabled = !machine || !tierIds.get(tier.key);
      const note = $('ed-machine-note');
      note.hidden = !machine;
      if (machine) note.textContent = t('ed_machine_note', { tool: tier.tool || '?', n: marked.length, d: doubtful });
      for (const id of ['ed-new', 'ed-split', 'ed-merge', 'ed-delete']) $(id).disabled = !tier || !editableTier(tier);
    }

    /* ---- the list of segments of the active tier ---- */
    const list = $('ed-segs');
    const rows = new Map(); // key -> {li, start, end, ta, label}

    function makeRow(seg) {
      const id = 'ed-seg-' + seg.key;
      const start = el('input', { class: 'ed-time', id: id + '-s', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
      const end = el('input', { class: 'ed-time', id: id + '-e', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
      const ta = el('textarea', { class: 'ed-text', id: id + '-t', rows: '2', dataset: { key: seg.key } });
      const label = el('label', { for: id + '-t', class: 'visually-hidden' });
      const play = el('button', { type: 'button', class: 'ed-play secondary' });
      const mark = el('span', { class: 'ed-mark', hidden: true });
      const accept = el('button', { type: 'button', class: 'ed-accept secondary', hidden: true,
        onclick: () => acceptSeg(seg.key) }, t('ed_accept_seg'));
      const themes = el('ul', { class: 'ed-seg-themes', hidden: true });
      const li = el('li', { class: 'ed-seg', dataset: { key: seg.key } },
        el('div', { class: 'ed-times' },
          play,
          el('span', { class: 'ed-pair' }, el('label', { for: id + '-s', class: 'ed-inline-label' }, t('ed_start')), start),
          el('span', { class: 'ed-pair' }, el('label', { for: id + '-e', class: 'ed-inline-label' }, t('ed_end')), end),
          mark, accept, themes),
        label, ta);
      const row = { li, start, end, ta, label, play, mark, accept, themes };
      play.addEventListener('click', () => {
        const s = segByKey.get(seg.key);
        if (!s) return;
        seekMs(s.start_ms);
        audio.play().catch(() => {});
        ta.focus();
      });
      ta.addEventListener('input', () => textInput(seg.key, ta.value));
      ta.addEventListener('blur', commitText);
      for (const [inp, edge] of [[start, 'start'], [end, 'end']]) {
        const apply = () => {
          const s = segByKey.get(seg.key);
          if (!s) return;
          const v = parseTime(inp.value);
          const cur = edge === 'start' ? s.start_ms : s.end_ms;
          if (v === cur || inp.value === fmtTime(cur)) return;
          if (!setTimes(s, edge === 'start' ? v : s.start_ms, edge === 'end' ? v : s.end_ms)) inp.value = fmtTime(cur);
        };
        inp.addEventListener('change', apply);
        inp.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); apply(); } });
      }
      li.addEventListener('focusin', () => selectSeg(seg.key, false));
      return row;
    }

    function fillRow(row, seg, tier, n) {
      const editable = editableTier(tier);
      // a render touches only what changed: a recording may have thousands of rows
      const sig = n + ':' + seg.start_ms + ':' + seg.end_ms;
      if (row.sig !== sig) {
        row.sig = sig;
        row.label.textContent = t('ed_seg_label', { n, times: fmtTime(seg.start_ms) + ' – ' + fmtTime(seg.end_ms) });
        row.play.textContent = '▶';
        row.play.setAttribute('aria-label', t('ed_play_seg', { n }));
      }
      for (const [inp, v] of [[row.start, seg.start_ms], [row.end, seg.end_ms]]) {
        if (document.activeElement !== inp && inp.value !== fmtTime(v)) inp.value = fmtTime(v);
        if (inp.readOnly !== !editable) inp.readOnly = !editable;
      }
      if (!(editing && editing.key === seg.key) && row.ta.value !== seg.text) row.ta.value = seg.text;
      const lang3 = tier.language && tier.language.length <= 3 ? tier.language : '';
      if (row.ta.lang !== lang3) row.ta.lang = lang3;
      if (row.li.classList.contains('selected') !== (seg.key === selKey)) row.li.classList.toggle('selected');
      // made by a machine and not reviewed: marked, the doubtful ones flagged
      const machine = seg.origin === 'machine';
      const msig = machine ? (seg.doubtful ? 'd' : 'm') + (seg.confidence == null ? '' : seg.confidence) : '';
      if (row.msig !== msig) {
        row.msig = msig;
        row.li.classList.toggle('machine', machine);
        row.li.classList.toggle('doubtful', machine && seg.doubtful);
        row.mark.hidden = !machine;
        row.accept.hidden = !machine;
        row.accept.setAttribute('aria-label', t('ed_accept_seg_label', { n }));
        if (machine) {
          const c = seg.confidence == null ? '' : ' ' + Math.round(seg.confidence * 100) + ' %';
          row.mark.textContent = (seg.doubtful ? t('ed_doubtful') : t('ed_machine')) + c;
        }
      }
      // its themes, a small label each with the button that takes it away
      const tsig = n + ':' + themeNames.size + ':' + (seg.themes || []).join(',');
      if (row.tsig !== tsig) {
        row.tsig = tsig;
        row.themes.hidden = !(seg.themes || []).length;
        row.themes.setAttribute('aria-label', t('ed_seg_themes', { n }));
        row.themes.replaceChildren(...(seg.themes || []).map((slug) => {
          const name = themeName(slug);
          return el('li', { class: 'ed-seg-theme', dataset: { slug } },
            el('span', {}, name),
            el('button', { type: 'button', class: 'ed-untheme', 'aria-label': t('ed_theme_remove', { name, n }),
              title: t('ed_theme_remove', { name, n }), onclick: () => setSegTheme(seg.key, slug, false) }, '×'));
        }));
      }
    }

    /* ---- the segments' themes (the network's list, /api/themes) ---- */

    // Tags (on) or untags the segment key with the theme slug at once,
    // through the API (not the outbox: a tag names a segment the server
    // knows); answers '' when it is done, else the sentence said.
    async function setSegTheme(key, slug, on) {
      const id = segIds.get(key);
      const seg = segByKey.get(key);
      const fail = (msg) => { say(msg); return msg; };
      if (!seg) return fail(t('ed_select_first'));
      if (!id) return fail(t('ed_theme_unsaved'));
      let r;
      try {
        r = on ? await api('POST', '/api/segments/' + id + '/themes', { theme: slug })
          : await api('DELETE', '/api/segments/' + id + '/themes/' + encodeURIComponent(slug));
      } catch (err) {
        return fail(t('ed_theme_failed', { why: t('ed_status_offline') }));
      }
      if (r.status === 401) {
        reauth(() => setSegTheme(key, slug, on));
        return fail(t('ed_session_expired'));
      }
      if (!r.ok) return fail(t('ed_theme_failed', { why: (r.data && r.data.error) || r.status }));
      const had = new Set(seg.themes || []);
      if (on) had.add(slug); else had.delete(slug);
      seg.themes = [...had].sort();
      const tier = tierByKey.get(seg.tierKey);
      const n = tier ? tier.segs.indexOf(seg) + 1 : 0;
      say(t(on ? 'ed_theme_added' : 'ed_theme_removed', { name: themeName(slug), n }));
      render();
      return '';
    }

    // The themes of the selected segment: a checkbox each, a tick tags it
    // at once; Escape or "Fermer" closes and gives the focus back to the row.
    themeDialog = async () => {
      commitText();
      const seg = segByKey.get(selKey);
      if (!seg) { say(t('ed_select_first')); return; }
      const tier = tierByKey.get(seg.tierKey);
      const n = tier ? tier.segs.indexOf(seg) + 1 : 0;
      const dlg = $('ed-theme-dlg') || (() => {
        const d = el('dialog', { id: 'ed-theme-dlg', class: 'ed-dialog', 'aria-labelledby': 'ed-theme-h' });
        d.addEventListener('close', () => { const row = rows.get(d.dataset.key); if (row) row.ta.focus(); });
        document.body.append(d);
        return d;
      })();
      dlg.dataset.key = seg.key;
      const err = el('p', { id: 'ed-theme-error', class: 'ed-error', role: 'alert' });
      const box = el('fieldset', { class: 'ed-theme-list' },
        el('legend', { class: 'visually-hidden' }, t('ed_themes')));
      dlg.replaceChildren(el('form', { method: 'dialog', class: 'ed-form' },
        el('h2', { id: 'ed-theme-h' }, t('ed_theme_title', { n, times: fmtTime(seg.start_ms) + ' – ' + fmtTime(seg.end_ms) })),
        box, err,
        el('p', { class: 'ed-hint' }, el('a', { href: '/themes' }, t('ed_theme_manage'))),
        el('div', { class: 'ed-buttons' },
          el('button', { type: 'submit', id: 'ed-theme-close' }, t('ed_theme_close')))));
      dlg.showModal();
      if (!themeList) await loadThemes();
      if (!themeList || !themeList.length) {
        err.textContent = themeList ? t('ed_theme_none') : t('ed_theme_list_failed');
        $('ed-theme-close').focus();
        return;
      }
      box.append(...themeList.map((th, i) => {
        const cid = 'ed-theme-' + i;
        const cb = el('input', { type: 'checkbox', id: cid, value: th.slug, checked: (seg.themes || []).includes(th.slug) });
        cb.addEventListener('change', async () => {
          err.textContent = '';
          cb.disabled = true;
          const why = await setSegTheme(seg.key, th.slug, cb.checked);
          cb.disabled = false;
          if (why) {
            cb.checked = !cb.checked;
            err.textContent = why;
          }
          cb.focus();
        });
        return el('div', { class: 'ed-theme-choice' }, cb, el('label', { for: cid }, th.name));
      }));
      box.querySelector('input').focus();
    };

    async function acceptSeg(key) {
      const id = segIds.get(key);
      const seg = segByKey.get(key);
      if (!id || !seg) return;
      const r = await api('POST', '/api/segments/' + id + '/accept', {});
      if (r.status === 401) { reauth(() => acceptSeg(key)); return; }
      if (!r.ok) { say((r.data && r.data.error) || t('ed_accept_failed')); return; }
      Object.assign(seg, { origin: null, doubtful: false, confidence: null });
      const tier = tierByKey.get(seg.tierKey);
      if (tier && r.data) tier.origin = r.data.tier_origin || null;
      say(t('ed_accepted_one'));
      render();
    }

    async function acceptTier() {
      const tier = activeTier();
      const id = tier && tierIds.get(tier.key);
      if (!id) return;
      const r = await api('POST', '/api/tiers/' + id + '/accept', {});
      if (r.status === 401) { reauth(() => acceptTier()); return; }
      if (!r.ok) { say((r.data && r.data.error) || t('ed_accept_failed')); return; }
      for (const x of tier.segs) Object.assign(x, { origin: null, doubtful: false, confidence: null });
      tier.origin = null;
      say(t('ed_accepted_tier', { name: tier.name, n: r.data ? r.data.accepted : 0 }));
      render();
    }

    function renderList() {
      const tier = activeTier();
      const segs = tier ? tier.segs : [];
      $('ed-segs-h').textContent = tier ? t('ed_segs_of', { name: tier.name }) : '';
      const none = $('ed-none');
      none.hidden = !!segs.length;
      none.textContent = !tier ? t('ed_need_tier') : t('ed_no_segments');
      const keep = new Set(segs.map((s) => s.key));
      for (const [k, row] of rows) if (!keep.has(k)) { row.li.remove(); rows.delete(k); }
      let prev = null;
      segs.forEach((seg, i) => {
        let row = rows.get(seg.key);
        if (!row) { row = makeRow(seg); rows.set(seg.key, row); }
        fillRow(row, seg, tier, i + 1);
        // moved only when out of place, so that a focused field keeps its focus
        const want = prev ? prev.nextSibling : list.firstChild;
        if (want !== row.li) list.insertBefore(row.li, want);
        prev = row.li;
      });
    }

    selectSeg = (key, focus) => {
      if (selKey === key && !focus) return;
      const old = rows.get(selKey);
      if (old) old.li.classList.remove('selected');
      selKey = key;
      const seg = segByKey.get(key);
      if (seg && seg.tierKey !== activeTierKey) { activeTierKey = seg.tierKey; render(); }
      const row = rows.get(key);
      if (row) {
        row.li.classList.add('selected');
        if (focus) {
          row.ta.focus();
          row.li.scrollIntoView({ block: 'nearest' });
        }
      }
      render.canvas();
    };
    focusSeg = (key) => {
      if (!segByKey.has(key)) return;
      render();
      selectSeg(key, true);
    };

    /* ---- the timeline: waveform of a zoomed span, one lane per tier ---- */
    const WAVE_H = 72;
    const LANE_H = 30;
    const GRAB_PX = 7;
    let peaks = null;
    let viewStart = 0;
    let viewSpan = 15000;
    let hover = null;

    const xOf = (ms, w) => ((ms - viewStart) / viewSpan) * w;
    const msOf = (x, w) => viewStart + (x / w) * viewSpan;

    // about 15 s on a desktop, a third of that on a phone
    viewSpan = Math.round(Math.min(15000, Math.max(5000, ((canvas.clientWidth || 800) / 800) * 15000)));

    function clampView() {
      const d = durationMs();
      if (d) {
        viewSpan = Math.min(Math.max(viewSpan, 1000), Math.max(d, 1000));
        viewStart = Math.min(Math.max(0, viewStart), Math.max(0, d - viewSpan));
      }
    }

    // The waveform of [from, from + span) ms across w × h css pixels of g.
    function drawWave(g, w, h, from, span) {
      const mid = h / 2;
      g.fillStyle = cssVar('--wave', '#9bb5bf');
      if (!peaks || !peaks.length) {
        g.fillRect(0, mid - 1, w, 2);
        return;
      }
      const full = 1 << ((peaks.bits || 16) - 1);
      const perMs = (peaks.sample_rate || rec0.sample_rate || 44100) / (peaks.samples_per_pixel || 256) / 1000;
      for (let x = 0; x < w; x++) {
        let a = Math.floor((from + (x / w) * span) * perMs);
        let b = Math.floor((from + ((x + 1) / w) * span) * perMs);
        if (b <= a) b = a + 1;
        a = Math.max(0, a); b = Math.min(peaks.length, b);
        let lo = 0, hi = 0;
        for (let k = a; k < b; k++) {
          const mn = peaks.data[2 * k], mx = peaks.data[2 * k + 1];
          if (mn < lo) lo = mn;
          if (mx > hi) hi = mx;
        }
        const y0 = mid - (hi / full) * mid * 0.92;
        const y1 = mid - (lo / full) * mid * 0.92;
        g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
      }
    }

    function drawCanvas() {
      const dpr = window.devicePixelRatio || 1;
      const cssW = canvas.clientWidth || 600;
      const cssH = WAVE_H + Math.max(1, tiers.length) * LANE_H;
      if (canvas.style.height !== cssH + 'px') canvas.style.height = cssH + 'px';
      const w = Math.round(cssW * dpr);
      const h = Math.round(cssH * dpr);
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      const g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, cssW, cssH);
      // follow the play head while the sound plays
      const p = nowMs();
      if (!audio.paused && !drag && (p < viewStart || p > viewStart + viewSpan * 0.92)) viewStart = p - viewSpan * 0.08;
      clampView();
      const ink = cssVar('--ink', '#1c2226');
      const sea = cssVar('--sea', '#1d4e5f');
      g.fillStyle = cssVar('--sea-light', '#e3eef1');
      g.fillRect(0, 0, cssW, WAVE_H);
      drawWave(g, cssW, WAVE_H, viewStart, viewSpan);
      // a tick every second (every 5 or 10 when zoomed out)
      const step = viewSpan > 60000 ? 10000 : viewSpan > 20000 ? 5000 : 1000;
      g.fillStyle = ink;
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'top';
      for (let s = Math.ceil(viewStart / step) * step; s < viewStart + viewSpan; s += step) {
        const x = Math.round(xOf(s, cssW)) + 0.5;
        g.fillRect(x, 0, 1, 5);
        if (s % (step * 2) === 0 || step > 1000) g.fillText(clock(s), x + 2, 2);
      }
      // the lanes
      const sel = cssVar('--mark', '#fff0b8');
      const selLine = cssVar('--mark-line', '#b7791f');
      tiers.forEach((tier, i) => {
        const y = WAVE_H + i * LANE_H;
        const active = tier.key === activeTierKey;
        g.fillStyle = active ? '#ffffff' : '#f4f1ea';
        g.fillRect(0, y, cssW, LANE_H);
        g.fillStyle = cssVar('--line', '#d9d2c5');
        g.fillRect(0, y, cssW, 1);
        for (const s of tier.segs) {
          if (s.end_ms < viewStart || s.start_ms > viewStart + viewSpan) continue;
          const x0 = xOf(s.start_ms, cssW);
          const x1 = Math.max(x0 + 2, xOf(s.end_ms, cssW));
          const isSel = s.key === selKey;
          const machine = s.origin === 'machine';
          g.fillStyle = isSel ? sel : machine ? (s.doubtful ? '#f8d9cf' : '#fbeccc') : active ? '#d5e5ea' : '#e6e1d6';
          g.fillRect(x0, y + 3, x1 - x0, LANE_H - 6);
          if (machine) {
            // a machine's proposal: a dashed outline, a doubtful one a "?" on its left
            g.save();
            g.setLineDash([4, 3]);
            g.strokeStyle = s.doubtful ? '#b3411b' : '#b7791f';
            g.lineWidth = 1;
            g.strokeRect(x0 + 0.5, y + 3.5, x1 - x0 - 1, LANE_H - 7);
            g.restore();
            if (s.doubtful && x1 - x0 > 10) {
              g.fillStyle = '#b3411b';
              g.font = '700 12px system-ui, sans-serif';
              g.textBaseline = 'middle';
              g.fillText('?', x1 - 10, y + LANE_H / 2);
            }
          }
          g.fillStyle = isSel ? selLine : active ? sea : '#8a8172';
          g.fillRect(x0, y + 3, 2, LANE_H - 6);
          g.fillRect(x1 - 2, y + 3, 2, LANE_H - 6);
          if (x1 - x0 > 16) {
            g.save();
            g.beginPath();
            g.rect(x0 + 4, y, x1 - x0 - 8, LANE_H);
            g.clip();
            g.fillStyle = ink;
            g.font = (active ? '600 ' : '') + '12px system-ui, sans-serif';
            g.textBaseline = 'middle';
            g.fillText(s.text || '…', x0 + 5, y + LANE_H / 2);
            g.restore();
          }
        }
        // the tier's name, on a veil so it stays legible over segments
        g.font = '600 11px system-ui, sans-serif';
        g.textBaseline = 'top';
        const name = tier.name;
        const tw = g.measureText(name).width;
        g.fillStyle = 'rgba(255,255,255,.85)';
        g.fillRect(cssW - tw - 10, y + 1, tw + 8, 14);
        g.fillStyle = active ? sea : cssVar('--muted', '#4f5b62');
        g.fillText(name, cssW - tw - 6, y + 2);
      });
      if (hover) {
        g.fillStyle = cssVar('--focus', '#b3411b');
        const x = xOf(hover.ms, cssW);
        g.fillRect(x - 1, hover.y, 3, LANE_H);
      }
      markPlaying(p);
      // the play head
      g.fillStyle = cssVar('--focus', '#b3411b');
      const px = xOf(p, cssW);
      if (px >= 0 && px <= cssW) g.fillRect(Math.round(px) - 1, 0, 2, cssH);
      $('ed-view').textContent = t('ed_view', { from: clock(viewStart), to: clock(viewStart + viewSpan) });
    }

    // the row of the active tier under the play head
    let playingKey = null;
    function markPlaying(p) {
      const tier = activeTier();
      const s = tier ? tier.segs.find((x) => x.start_ms <= p && p < x.end_ms) : null;
      const key = s ? s.key : null;
      if (key === playingKey) return;
      const old = rows.get(playingKey);
      if (old) old.li.classList.remove('playing');
      playingKey = key;
      const row = rows.get(key);
      if (row) row.li.classList.add('playing');
    }

    let rafPending = false;
    render.canvas = () => {
      if (rafPending) return;
      rafPending = true;
      requestAnimationFrame(() => { rafPending = false; drawCanvas(); });
    };

    // The boundary under (x, y), or null: the selected segment's first.
    function boundaryAt(x, y) {
      const lane = Math.floor((y - WAVE_H) / LANE_H);
      if (lane < 0 || lane >= tiers.length) return null;
      const tier = tiers[lane];
      if (!editableTier(tier)) return { tier, lane, seg: null };
      const w = canvas.clientWidth;
      let best = null;
      for (const s of tier.segs) {
        for (const edge of ['start', 'end']) {
          const ms = edge === 'start' ? s.start_ms : s.end_ms;
          const dx = Math.abs(xOf(ms, w) - x);
          const bonus = s.key === selKey ? 0.5 : 0;
          if (dx <= GRAB_PX && (!best || dx - bonus < best.dx)) best = { seg: s, edge, dx: dx - bonus };
        }
      }
      return { tier, lane, seg: best && best.seg, edge: best && best.edge };
    }

    function segUnder(tier, ms) {
      return tier.segs.find((s) => s.start_ms <= ms && ms <= s.end_ms) || null;
    }

    canvas.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      commitText();
      const r = canvas.getBoundingClientRect();
      const x = ev.clientX - r.left;
      const y = ev.clientY - r.top;
      const ms = Math.round(msOf(x, r.width));
      const hit = boundaryAt(x, y);
      if (hit && hit.seg) {
        const tier = hit.tier;
        const i = tier.segs.indexOf(hit.seg);
        const prev = tier.segs[i - 1];
        const next = tier.segs[i + 1];
        const d = durationMs() || Infinity;
        drag = hit.edge === 'start'
          ? { key: hit.seg.key, edge: 'start', min: prev ? prev.end_ms : 0, max: hit.seg.end_ms - MIN_SEG_MS, before: hit.seg.start_ms }
          : { key: hit.seg.key, edge: 'end', min: hit.seg.start_ms + MIN_SEG_MS, max: next ? next.start_ms : d, before: hit.seg.end_ms };
        canvas.setPointerCapture(ev.pointerId);
        ev.preventDefault();
        if (activeTierKey !== tier.key) { activeTierKey = tier.key; }
        selKey = hit.seg.key;
        render();
        return;
      }
      if (hit && hit.tier) {
        const s = segUnder(hit.tier, ms);
        if (activeTierKey !== hit.tier.key) { activeTierKey = hit.tier.key; selKey = null; render(); }
        if (s) { selectSeg(s.key, false); }
      }
      seekMs(ms);
    });
    canvas.addEventListener('pointermove', (ev) => {
      const r = canvas.getBoundingClientRect();
      const x = ev.clientX - r.left;
      const y = ev.clientY - r.top;
      if (drag) {
        const seg = segByKey.get(drag.key);
        if (!seg) { drag = null; return; }
        const ms = Math.round(Math.min(Math.max(msOf(x, r.width), drag.min), drag.max));
        if (drag.edge === 'start') seg.start_ms = ms; else seg.end_ms = ms;
        render.canvas();
        return;
      }
      const hit = boundaryAt(x, y);
      canvas.style.cursor = hit && hit.seg ? 'ew-resize' : 'pointer';
    });
    function endDrag(ev, cancel) {
      if (!drag) return;
      const d = drag;
      drag = null;
      const seg = segByKey.get(d.key);
      if (!seg) return;
      const now = d.edge === 'start' ? seg.start_ms : seg.end_ms;
      if (d.edge === 'start') seg.start_ms = d.before; else seg.end_ms = d.before;
      if (!cancel && now !== d.before) {
        act('ed_label_times', [updateStep(seg, d.edge === 'start' ? { start_ms: now } : { end_ms: now })], seg.key);
        say(t(d.edge === 'start' ? 'ed_moved_start' : 'ed_moved_end', { time: fmtTime(now) }));
      }
      render();
    }
    canvas.addEventListener('pointerup', (ev) => endDrag(ev, false));
    canvas.addEventListener('pointercancel', (ev) => endDrag(ev, true));
    canvas.addEventListener('wheel', (ev) => {
      // sideways scrolling (or Shift+wheel) moves the view; the page keeps vertical scrolling
      const dx = ev.deltaX || (ev.shiftKey ? ev.deltaY : 0);
      if (!dx) return;
      ev.preventDefault();
      viewStart += (dx / (canvas.clientWidth || 600)) * viewSpan;
      clampView();
      render.canvas();
    }, { passive: false });

    function zoom(f) {
      const centre = audio.paused ? viewStart + viewSpan / 2 : nowMs();
      viewSpan *= f;
      clampView();
      viewStart = centre - viewSpan / 2;
      clampView();
      render.canvas();
    }
    $('ed-zoom-in').addEventListener('click', () => zoom(0.5));
    $('ed-zoom-out').addEventListener('click', () => zoom(2));

    async function loadPeaks() {
      const rate = rec0.sample_rate || 44100;
      const frames = ((rec0.duration_ms || 0) / 1000) * rate;
      let level = 0;
      for (const spp of [256, 1024, 4096]) {
        if (frames / spp <= 400000) break;
        level++;
      }
      try {
        const r = await api('GET', '/api/recordings/' + recId + '/peaks.json?level=' + Math.min(level, 2));
        peaks = r.ok ? r.data : null;
      } catch (err) {
        peaks = null;
      }
      render.canvas();
    }
    loadPeaks();

    /* ---- the speech tools as background jobs on the server ---- */
    const job = { id: null, kind: null, timer: 0 };

    // a tier name the recording does not have yet: "segments", "segments 2"...
    function freeTierName(base) {
      const names = new Set(tiers.map((x) => x.name));
      if (!names.has(base)) return base;
      for (let i = 2; ; i++) if (!names.has(base + ' ' + i)) return base + ' ' + i;
    }

    function showJob(text, fraction, running) {
      $('ed-job').hidden = false;
      $('ed-job-text').textContent = text;
      const bar = $('ed-job-bar');
      bar.hidden = !running;
      if (fraction == null) bar.removeAttribute('value');
      else bar.value = fraction;
      $('ed-job-cancel').hidden = !running;
      $('ed-propose').disabled = running;
      $('ed-align').disabled = running;
      $('ed-recognize').disabled = running;
      $('ed-recognizer').disabled = running;
    }

    const jobText = (kind, pct) => t('ed_job_' + kind, { pct });

    async function startJob(kind, body) {
      commitText();
      const params = Object.assign({ tier: freeTierName(kind === 'segment' ? t('ed_tier_proposed') : t('ed_tier_aligned')) }, body || {});
      const r = await api('POST', '/api/recordings/' + recId + '/' + kind, params);
      if (r.status === 401) { reauth(() => startJob(kind, body)); return; }
      if (r.status !== 202 || !r.data) {
        showJob((r.data && r.data.error) || t('ed_job_failed', { why: r.status }), null, false);
        return;
      }
      followJob(r.data.job, kind);
    }

    function followJob(id, kind) {
      job.id = id;
      job.kind = kind;
      showJob(jobText(kind, 0), 0, true);
      say(t('ed_job_' + kind + '_started'));
      pollJob();
    }

    async function pollJob() {
      clearTimeout(job.timer);
      if (!job.id) return;
      let r;
      try { r = await api('GET', '/api/jobs/' + job.id); } catch (err) { r = null; }
      const j = r && r.ok ? r.data : null;
      if (!j) { job.timer = setTimeout(pollJob, 2000); return; }
      if (j.status === 'queued' || j.status === 'running') {
        const pct = Math.round((j.progress || 0) * 100);
        showJob(jobText(job.kind, pct), j.progress || 0, true);
        job.timer = setTimeout(pollJob, 500);
        return;
      }
      job.id = null;
      if (j.status === 'done') {
        const res = j.result || {};
        await reloadFromServer();
        const key = res.tier_id ? keyOfTierId(res.tier_id) : null;
        if (key) { activeTierKey = key; selKey = null; }
        render();
        const n = (res.segments || []).length;
        const msg = t('ed_job_done', { name: res.tier || '', n });
        showJob(msg, 1, false);
        say(msg);
      } else {
        const msg = j.status === 'cancelled' ? t('ed_job_cancelled') : t('ed_job_failed', { why: j.error || '' });
        showJob(msg, null, false);
        say(msg);
      }
    }

    async function cancelJob() {
      if (!job.id) return;
      const r = await api('POST', '/api/jobs/' + job.id + '/cancel', {});
      if (r.status === 401) { reauth(() => cancelJob()); return; }
      pollJob();
    }

    // the server's truth with the new tier, what is still unsent replayed on top
    async function reloadFromServer() {
      try {
        const r = await api('GET', '/api/recordings/' + recId);
        if (!r.ok || !r.data) return;
        const store = readStore();
        loadModel(r.data, store.segIds, store.tierIds);
        for (const op of outbox) applyLocal(op);
      } catch (err) { /* the page keeps what it has */ }
    }

    function alignDialog() {
      commitText();
      const dlg = $('ed-align-dlg') || (() => {
        const d = el('dialog', { id: 'ed-align-dlg', class: 'ed-dialog', 'aria-labelledby': 'ed-align-h' });
        document.body.append(d);
        return d;
      })();
      const file = el('input', { id: 'ed-align-file', type: 'file', accept: '.txt,text/plain' });
      const text = el('textarea', { id: 'ed-align-text', rows: '10', 'aria-describedby': 'ed-align-hint' });
      const form = el('form', { method: 'dialog', class: 'ed-form' },
        el('h2', { id: 'ed-align-h' }, t('ed_align_title')),
        el('p', { id: 'ed-align-hint', class: 'ed-hint' }, t('ed_align_hint')),
        el('label', { for: 'ed-align-text' }, t('ed_align_text')),
        text,
        el('label', { for: 'ed-align-file' }, t('ed_align_file')),
        file,
        el('label', { for: 'ed-align-lang' }, t('ed_align_language')),
        el('input', { id: 'ed-align-lang', maxlength: '16', autocomplete: 'off', value: 'fr' }),
        el('p', { id: 'ed-align-error', class: 'ed-hint ed-error', role: 'alert', hidden: true }),
        el('div', { class: 'ed-buttons' },
          el('button', { type: 'submit', id: 'ed-align-go' }, t('ed_align_go')),
          el('button', { type: 'button', class: 'secondary', onclick: () => dlg.close() }, t('ed_cancel'))));
      dlg.replaceChildren(form);
      file.addEventListener('change', async () => {
        const f = file.files && file.files[0];
        if (f) text.value = await f.text();
      });
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const value = text.value.replace(/^\uFEFF/, '');
        if (!value.trim()) {
          $('ed-align-error').hidden = false;
          $('ed-align-error').textContent = t('ed_align_empty');
          text.focus();
          return;
        }
        dlg.close();
        startJob('align', { text: value, language: $('ed-align-lang').value.trim() || 'fr' });
      });
      dlg.showModal();
      text.focus();
    }

    // the recognizers the operator declared: none, no button; several, a list to choose from
    async function loadRecognizers() {
      let r = null;
      try { r = await api('GET', '/api/recognizers'); } catch (err) { r = null; }
      const list = r && r.ok && r.data ? r.data.recognizers || [] : [];
      if (!list.length) return;
      const sel = $('ed-recognizer');
      sel.replaceChildren(...list.map((x) => el('option', { value: x.name }, x.language ? x.name + ' (' + x.language + ')' : x.name)));
      sel.hidden = list.length < 2;
      $('ed-recognizer-label').hidden = list.length < 2;
      $('ed-recognize-box').hidden = false;
    }
    loadRecognizers();

    function startRecognize() {
      const name = $('ed-recognizer').value;
      if (name) startJob('recognize', { with: name, tier: freeTierName(name) });
    }

    // a job left running (another tab, a reload): followed again
    (async () => {
      try {
        const r = await api('GET', '/api/jobs?recording=' + recId + '&limit=5');
        const open = r.ok && r.data ? (r.data.jobs || []).find((j) => (j.status === 'queued' || j.status === 'running') &&
          (j.kind === 'segment' || j.kind === 'align' || j.kind === 'recognize')) : null;
        if (open) followJob(open.id, open.kind);
      } catch (err) { /* nothing to follow */ }
    })();

    /* ---- transcription mode: one segment a row, the current one looped ---- */
    const tm = { on: false, key: null, loops: 3, pauseMs: 500, rate: 0.75, done: 0, timer: 0, waiting: false, sig: '', before: 1 };
    const tmList = $('ed-tm-list');
    const tmWave = $('ed-tm-wave');
    const tmRows = new Map(); // key -> {li, ta, play, time}
    $('ed-tm-loops').value = String(tm.loops);
    $('ed-tm-pause').value = String(tm.pauseMs);
    $('ed-tm-rate').value = String(tm.rate);
    $('ed-tm-loops').addEventListener('change', () => { tm.loops = Number($('ed-tm-loops').value); });
    $('ed-tm-pause').addEventListener('change', () => { tm.pauseMs = Number($('ed-tm-pause').value); });
    $('ed-tm-rate').addEventListener('change', () => {
      tm.rate = Number($('ed-tm-rate').value);
      if (tm.on) { audio.playbackRate = tm.rate; audio.defaultPlaybackRate = tm.rate; }
    });

    function tmStop() {
      clearTimeout(tm.timer);
      tm.waiting = false;
      if (!audio.paused) audio.pause();
    }
    // plays segment key from its start, its loops counted again
    function tmPlay(key) {
      const seg = segByKey.get(key);
      if (!seg) return;
      tmStop();
      tm.key = key;
      tm.done = 0;
      audio.playbackRate = tm.rate;
      audio.defaultPlaybackRate = tm.rate;
      seekMs(seg.start_ms);
      audio.play().catch(() => {});
      tmMark();
      tmTick();
    }
    tmToggle = () => {
      if (!tm.on) { togglePlay(); return; }
      if (audio.paused && !tm.waiting) tmPlay(tm.key || (activeTier() && activeTier().segs[0] ? activeTier().segs[0].key : null));
      else tmStop();
    };
    // at the segment's end: a pause, then again, until its loops are done
    function tmTick() {
      if (!tm.on) return;
      const seg = segByKey.get(tm.key);
      if (seg && !audio.paused && !tm.waiting && nowMs() >= seg.end_ms) {
        audio.pause();
        tm.done++;
        if (!tm.loops || tm.done < tm.loops) {
          tm.waiting = true;
          tm.timer = setTimeout(() => {
            tm.waiting = false;
            if (!tm.on || tm.key !== seg.key) return;
            seekMs(seg.start_ms);
            audio.play().catch(() => {});
          }, tm.pauseMs);
        }
      }
      drawTm();
      if (!audio.paused || tm.waiting) requestAnimationFrame(tmTick);
    }
    audio.addEventListener('play', () => { if (tm.on) requestAnimationFrame(tmTick); });

    // the current segment's waveform, with a little of what surrounds it
    function drawTm() {
      const dpr = window.devicePixelRatio || 1;
      const w = tmWave.clientWidth || 600;
      const h = 90;
      if (tmWave.width !== Math.round(w * dpr)) { tmWave.width = Math.round(w * dpr); tmWave.height = Math.round(h * dpr); }
      tmWave.style.height = h + 'px';
      const g = tmWave.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const seg = segByKey.get(tm.key);
      if (!seg) return;
      const margin = Math.max(200, (seg.end_ms - seg.start_ms) * 0.1);
      const from = Math.max(0, seg.start_ms - margin);
      const span = Math.max(200, seg.end_ms + margin - from);
      const x = (ms) => ((ms - from) / span) * w;
      g.fillStyle = cssVar('--sea-light', '#e3eef1');
      g.fillRect(0, 0, w, h);
      g.fillStyle = cssVar('--mark', '#fff0b8');
      g.fillRect(x(seg.start_ms), 0, x(seg.end_ms) - x(seg.start_ms), h);
      drawWave(g, w, h, from, span);
      g.fillStyle = cssVar('--mark-line', '#b7791f');
      g.fillRect(x(seg.start_ms) - 1, 0, 2, h);
      g.fillRect(x(seg.end_ms) - 1, 0, 2, h);
      const p = nowMs();
      if (p >= from && p <= from + span) {
        g.fillStyle = cssVar('--focus', '#b3411b');
        g.fillRect(Math.round(x(p)) - 1, 0, 2, h);
      }
    }

    function tmMark() {
      for (const [k, row] of tmRows) row.li.classList.toggle('current', k === tm.key);
    }

    function tmNext(key, dir) {
      const tier = activeTier();
      if (!tier) return;
      const i = tier.segs.findIndex((x) => x.key === key);
      const next = tier.segs[i + dir];
      if (!next) { tmStop(); say(t('ed_tm_end')); return; }
      const row = tmRows.get(next.key);
      if (row) { row.ta.focus(); row.li.scrollIntoView({ block: 'nearest' }); }
      tmPlay(next.key);
    }

    function tmRow(seg) {
      const ta = el('textarea', { class: 'ed-tm-text', rows: '2', dataset: { key: seg.key }, 'aria-label': '' });
      const play = el('button', { type: 'button', class: 'ed-play secondary', onclick: () => { tmPlay(seg.key); ta.focus(); } }, '▶');
      const time = el('span', { class: 'ed-tm-time' });
      const li = el('li', { class: 'ed-tm-row', dataset: { key: seg.key } }, el('div', { class: 'ed-tm-side' }, play, time), ta);
      ta.addEventListener('input', () => textInput(seg.key, ta.value));
      ta.addEventListener('focus', () => { if (tm.key !== seg.key) tmPlay(seg.key); });
      ta.addEventListener('keydown', (ev) => {
        // Enter saves and goes on; Shift+Enter is a new line
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
          ev.preventDefault();
          commitText();
          tmNext(seg.key, 1);
        }
      });
      ta.addEventListener('blur', commitText);
      return { li, ta, play, time };
    }

    function renderTm() {
      if (!tm.on) return;
      const tier = activeTier();
      const segs = tier ? tier.segs : [];
      $('ed-tm-none').hidden = segs.length > 0;
      const sig = segs.map((x) => x.key).join(',');
      if (sig !== tm.sig) {
        tm.sig = sig;
        const keep = new Set(segs.map((x) => x.key));
        for (const [k, row] of tmRows) if (!keep.has(k)) { row.li.remove(); tmRows.delete(k); }
        segs.forEach((seg) => { if (!tmRows.has(seg.key)) tmRows.set(seg.key, tmRow(seg)); });
        tmList.replaceChildren(...segs.map((x) => tmRows.get(x.key).li));
      }
      segs.forEach((seg, i) => {
        const row = tmRows.get(seg.key);
        const label = t('ed_tm_play', { n: i + 1 });
        if (row.play.getAttribute('aria-label') !== label) row.play.setAttribute('aria-label', label);
        row.ta.setAttribute('aria-label', t('ed_seg_label', { n: i + 1, times: fmtTime(seg.start_ms) + ' – ' + fmtTime(seg.end_ms) }));
        row.time.textContent = fmtTime(seg.start_ms) + ' – ' + fmtTime(seg.end_ms);
        if (document.activeElement !== row.ta && row.ta.value !== seg.text) row.ta.value = seg.text;
        row.li.classList.toggle('machine', seg.origin === 'machine');
        row.li.classList.toggle('doubtful', seg.origin === 'machine' && !!seg.doubtful);
      });
      tmMark();
      drawTm();
    }

    function setTm(on) {
      if (tm.on === on) return;
      commitText();
      tm.on = on;
      $('ed-tm').hidden = !on;
      $('ed-tm-btn').setAttribute('aria-expanded', on ? 'true' : 'false');
      $('ed-tm-btn').textContent = on ? t('ed_tm_close') : t('ed_tm_open');
      $('ed-segs').hidden = on;
      if (on) {
        tm.before = audio.playbackRate;
        tm.sig = '';
        renderTm();
        const tier = activeTier();
        const first = tier && (tier.segs.find((x) => !x.text.trim()) || tier.segs[0]);
        if (first) {
          const row = tmRows.get(first.key);
          row.li.scrollIntoView({ block: 'nearest' });
          row.ta.focus(); // starts its loop
        }
      } else {
        tmStop();
        tm.key = null;
        setSpeed(tm.before || 1);
      }
    }
    $('ed-tm-btn').addEventListener('click', () => setTm(!tm.on));

    /* ---- help ---- */
    toggleHelp = (open) => {
      const box = $('ed-help');
      const show = open === undefined ? box.hidden : open;
      box.hidden = !show;
      $('ed-help-btn').setAttribute('aria-expanded', show ? 'true' : 'false');
    };
    $('ed-help-btn').addEventListener('click', () => toggleHelp());
    $('ed-speed').addEventListener('change', () => setSpeed(Number($('ed-speed').value)));

    /* ---- the recording's access level: applied at once, never queued ---- */
    const access = $('ed-access');
    access.value = rec0.access || 'private';
    access.dataset.was = access.value;
    access.addEventListener('change', async () => {
      const level = access.value;
      let r = null;
      try { r = await api('PATCH', '/api/recordings/' + recId, { access: level }); } catch (err) { r = null; }
      if (r && r.ok) {
        access.dataset.was = level;
        say(t('ed_access_set', { level: t('access_' + level) }));
        // the page's own "Access" line
        for (const dt of document.querySelectorAll('#meta dt')) {
          if (dt.textContent === t('meta_access') && dt.nextElementSibling) dt.nextElementSibling.textContent = t('access_' + level);
        }
        if (!$('ed-history').hidden) loadHistory(false);
      } else {
        access.value = access.dataset.was;
        say(t('ed_access_failed', { why: (r && r.data && r.data.error) || t('ed_status_offline') }));
      }
    });

    /* ---- the audit history: who changed what, and undoing one change ---- */
    const HISTORY_PAGE = 50;
    let historyOffset = 0;
    const REVERTIBLE = /^(segment\.|tier\.rename|tier\.revert|tier\.delete|tier\.undelete|tier\.redelete|access\.)/;
    const quote = (x) => '« ' + x + ' »';
    const atOf = (s) => {
      const d = new Date(/^\d{4}-\d\d-\d\d \d/.test(s || '') ? s.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? '' : 'Z') : s);
      if (Number.isNaN(d.getTime())) return s || '';
      try { return d.toLocaleString(lang, { dateStyle: 'short', timeStyle: 'medium' }); } catch (err) { return d.toISOString(); }
    };
    function tierNameOf(id) {
      const k = keyOfTierId(id);
      return k && tierByKey.get(k) ? tierByKey.get(k).name : '';
    }
    function changeText(e) {
      const b = e.before || {};
      const a = e.after || {};
      const span = (x) => fmtTime(x.start_ms) + '–' + fmtTime(x.end_ms);
      if (e.action.startsWith('segment.')) {
        if (!e.before) return quote(a.text || '') + ' (' + span(a) + ')';
        if (!e.after) return quote(b.text || '') + ' (' + span(b) + ')';
        const parts = [];
        if (b.text !== a.text) parts.push(quote(b.text || '') + ' → ' + quote(a.text || ''));
        if (b.start_ms !== a.start_ms || b.end_ms !== a.end_ms) parts.push(span(b) + ' → ' + span(a));
        return parts.join(' ; ') || quote(a.text || '');
      }
      if (e.action.startsWith('tier.')) {
        if (e.before && e.after) return quote(b.name || '') + ' → ' + quote(a.name || '');
        const x = e.before || e.after;
        return quote(x.name || '') + (Array.isArray(x.segments) ? ' · ' + t('ed_tier_segments', { n: x.segments.length }) : '');
      }
      if (e.action.startsWith('access.')) return t('access_' + b.access) + ' → ' + t('access_' + a.access);
      if (e.action.startsWith('withheld.')) return span(e.after || e.before || {});
      return '';
    }
    function historyItem(e) {
      const what = t('ed_act_' + e.action.replace('.', '_'));
      const where = e.tier_id ? tierNameOf(e.tier_id) : '';
      const li = el('li', { class: 'ed-h-item', dataset: { id: String(e.id) } },
        el('p', { class: 'ed-h-meta' },
          el('time', { datetime: e.at || '' }, atOf(e.at)), ' · ', el('strong', {}, e.login || '?'), ' · ', what,
          where ? ' · ' + t('ed_history_tier', { name: where }) : ''),
        el('p', { class: 'ed-h-change' }, changeText(e)));
      if (REVERTIBLE.test(e.action)) {
        li.append(el('button', { type: 'button', class: 'secondary ed-h-revert', 'aria-label': t('ed_history_revert_label', { what, when: atOf(e.at) }),
          onclick: () => revertEntry(e.id) }, t('ed_history_revert')));
      }
      return li;
    }
    refreshHistory = () => { if (!$('ed-history').hidden) loadHistory(false); };
    async function loadHistory(more) {
      const list = $('ed-history-list');
      const st = $('ed-history-status');
      if (!more) historyOffset = 0;
      st.textContent = t('loading');
      let r = null;
      try { r = await api('GET', '/api/recordings/' + recId + '/history?limit=' + HISTORY_PAGE + '&offset=' + historyOffset); } catch (err) { r = null; }
      if (!r || !r.ok || !r.data || !Array.isArray(r.data.history)) {
        st.textContent = t('ed_history_failed');
        return;
      }
      const items = r.data.history.map(historyItem);
      if (more) list.append(...items); else list.replaceChildren(...items);
      historyOffset += r.data.history.length;
      st.textContent = list.children.length ? '' : t('ed_history_empty');
      $('ed-history-more').hidden = r.data.history.length < HISTORY_PAGE;
    }
    async function revertEntry(hid) {
      commitText();
      let r = null;
      try { r = await api('POST', '/api/history/' + hid + '/revert', {}); } catch (err) { r = null; }
      if (r && r.ok) {
        say(t('ed_history_reverted'));
        if (outbox.length) { needResync = true; pump(); } else await resync();
        if (r.data && r.data.access) access.value = access.dataset.was = r.data.access;
        loadHistory(false);
      } else if (r && r.status === 401) {
        reauth(() => revertEntry(hid));
      } else {
        say(t('ed_history_revert_failed', { why: (r && r.data && r.data.error) || t('ed_status_offline') }));
      }
    }
    $('ed-history-btn').addEventListener('click', () => {
      const box = $('ed-history');
      box.hidden = !box.hidden;
      $('ed-history-btn').setAttribute('aria-expanded', box.hidden ? 'false' : 'true');
      if (!box.hidden) loadHistory(false);
    });
    $('ed-history-more').addEventListener('click', () => loadHistory(true));

    /* ---- the sound drives the drawing ---- */
    let raf = 0;
    const tick = () => {
      drawCanvas();
      raf = audio.paused ? 0 : requestAnimationFrame(tick);
    };
    audio.addEventListener('play', () => { if (!raf) raf = requestAnimationFrame(tick); });
    for (const e of ['pause', 'seeked', 'loadedmetadata']) audio.addEventListener(e, () => render.canvas());
    if (window.ResizeObserver) new ResizeObserver(() => render.canvas()).observe(canvas);
    else window.addEventListener('resize', () => render.canvas());

    /* ---- keyboard ---- */
    document.addEventListener('keydown', (ev) => {
      if (document.querySelector('dialog[open]')) return;
      const k = keyName(ev);
      const sc = SHORTCUTS.find((s) => s.match(ev, k));
      if (!sc) return;
      ev.preventDefault();
      ev.stopPropagation();
      sc.run();
    }, true);

    const status_ = render.status;
    const canvas_ = render.canvas;
    render = () => {
      renderTiers();
      renderList();
      renderTm();
      status_();
      canvas_();
    };
    render.status = status_;
    render.canvas = canvas_;

    // for tests and scripts
    window.parlersEditor = {
      pending: () => outbox.length,
      paused: () => paused,
      tiers: () => tiers.map((x) => ({ key: x.key, id: tierIds.get(x.key) || null, name: x.name,
        origin: x.origin,
        segs: x.segs.map((s) => ({ key: s.key, id: segIds.get(s.key) || null, start_ms: s.start_ms, end_ms: s.end_ms, text: s.text,
          origin: s.origin, doubtful: s.doubtful, themes: (s.themes || []).slice() })) })),
      xOf: (ms) => xOf(ms, canvas.clientWidth),
      yOfTier: (key) => WAVE_H + tiers.findIndex((x) => x.key === key) * LANE_H + LANE_H / 2,
      render: () => render(),
      job: () => ({ id: job.id, kind: job.kind }),
      tm: () => ({ on: tm.on, key: tm.key, id: segIds.get(tm.key) || null, done: tm.done, loops: tm.loops, waiting: tm.waiting, rate: audio.playbackRate }),
      view: (start, span) => { viewStart = start; if (span) viewSpan = span; clampView(); drawCanvas(); },
    };
  }

  /* ---------------------------------------------------------------- */
  /* start                                                              */
  /* ---------------------------------------------------------------- */

  async function startEditor() {
    let data;
    try {
      const r = await api('GET', '/api/recordings/' + recId);
      if (!r.ok || !r.data) return;
      data = r.data;
    } catch (err) {
      return;
    }
    await holdTabLock();
    const store = readStore();
    const gone = await orphans();
    const sIds = Object.assign({}, ...gone.map(([, e]) => e.segIds), store.segIds);
    const tIds = Object.assign({}, ...gone.map(([, e]) => e.tierIds), store.tierIds);
    loadModel(data, sIds, tIds);
    outbox = store.ops;
    for (const op of outbox) applyLocal(op);
    await adoptOrphans(true, gone);
    buildEditor();
    render();
    persist();
    loadThemes().then(() => render());
    // what typing left unsaved goes to the outbox before the page goes
    window.addEventListener('pagehide', commitText);
    // the heartbeat that tells other tabs this one still holds its entry
    setInterval(async () => {
      if (outbox.length) persist();
      if (await adoptOrphans(true)) { render(); pump(); }
    }, TAB_GONE_MS / 3);
    document.addEventListener('visibilitychange', () => { if (document.hidden) commitText(); });
    pump();
  }

  async function boot() {
    me = hinted() ? await fetchMe() : null;
    renderAccountBox();
    if (me && EDIT_ROLES.includes(me.role) && rec0.can_listen && audio) await startEditor();
  }

  boot();
})();
