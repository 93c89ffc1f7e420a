// SPDX-License-Identifier: GPL-3.0-or-later
// The review queue for staff: proposals filtered by status, kind,
// recording and contributor; for the one selected, its span to play, the
// current text, the proposal as a word diff against it, and accept, accept
// with changes, or decline with a message.  Keyboard: j / k next and
// previous, a accept, e edit the text to keep (Ctrl+Enter accepts it),
// d decline.  A segment changed since the proposal comes back as 409 with
// both texts: the reviewer chooses, nothing is overwritten.  Text from the
// archive reaches the page as text only.
'use strict';

(() => {
  const { t, el, clock } = PRL;
  const $ = (id) => document.getElementById(id);
  let me = null;
  let items = [];
  let cur = -1;

  // Words of a and b marked kept, removed or added (longest common subsequence).
  function wordDiff(a, b) {
    const x = (a || '').split(/\s+/).filter(Boolean);
    const y = (b || '').split(/\s+/).filter(Boolean);
    const n = x.length, m = y.length;
    const L = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    const out = [];
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) { out.push(['=', x[i]]); i++; j++; }
      else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) { out.push(['+', y[j]]); j++; }
      else { out.push(['-', x[i]]); i++; }
    }
    return out;
  }

  function showDiff(node, a, b) {
    node.replaceChildren();
    for (const [op, w] of wordDiff(a, b)) {
      const tag = op === '+' ? 'ins' : op === '-' ? 'del' : 'span';
      node.append(el(tag, {}, w), ' ');
    }
  }

  async function load() {
    const q = new URLSearchParams({ status: $('rv-status').value, limit: '200' });
    if ($('rv-kind').value) q.set('kind', $('rv-kind').value);
    if ($('rv-recording').value.trim()) q.set('recording', $('rv-recording').value.trim());
    if ($('rv-contributor').value.trim()) q.set('contributor', $('rv-contributor').value.trim());
    let d;
    try {
      d = await PRL.getJSON('/api/proposals?' + q);
    } catch (e) {
      $('rv-total').textContent = e.status === 400 ? t('rv_bad_filter') : t('ed_login_failed');
      return;
    }
    items = d.proposals;
    $('rv-total').textContent = t('rv_total', { n: d.total });
    const list = $('rv-queue');
    list.replaceChildren(...items.map((p, i) => el('li', { id: 'rv-item-' + p.id, dataset: { i: String(i) }, onclick: () => select(i) },
      el('strong', {}, p.recording_title + ' · ' + clock(p.start_ms)), ' ',
      el('span', { class: 'kind' }, t('pr_kind_' + p.kind)),
      el('div', { class: 'who' }, p.contributor_name + ' (' + p.contributor + ')'))));
    select(items.length ? 0 : -1);
  }

  function select(i) {
    cur = i;
    for (const li of $('rv-queue').children) li.setAttribute('aria-current', String(Number(li.dataset.i) === i));
    const p = items[i];
    $('rv-detail').hidden = !p;
    if (!p) return;
    $('rv-item-' + p.id).scrollIntoView({ block: 'nearest' });
    $('rv-head').textContent = p.recording_title;
    $('rv-meta').textContent = t('rv_meta', {
      kind: t('pr_kind_' + p.kind), tier: p.tier || '', start: clock(p.start_ms, true),
      end: clock(p.end_ms, true), who: p.contributor_name,
    }) + (p.message ? ' — ' + p.message : '');
    $('rv-audio').src = '/api/recordings/' + p.recording_id + '/clip.opus?start=' + (p.start_ms / 1000) + '&end=' + (p.end_ms / 1000);
    const current = p.current_text === null ? '' : p.current_text;
    $('rv-current').textContent = p.kind === 'note' ? (p.base_text || '') : current;
    showDiff($('rv-diff'), p.kind === 'note' ? '' : current, p.text);
    $('rv-conflict').textContent = p.changed ? t('rv_changed', { text: p.base_text || '' }) : '';
    $('rv-edit').value = p.text;
    $('rv-message').value = '';
    const pending = p.status === 'pending';
    for (const b of ['rv-accept', 'rv-accept-edit', 'rv-decline']) $(b).disabled = !pending;
  }

  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify(body),
    });
    let d = null;
    try { d = await r.json(); } catch (e) { /* not JSON */ }
    return { status: r.status, d };
  }

  async function review(action, body) {
    const p = items[cur];
    if (!p || p.status !== 'pending') return;
    const { status, d } = await post('/api/proposals/' + p.id + '/' + action, body);
    if (status === 409 && d && d.current) {
      // changed since: show what is there now, keep the proposal in the box
      $('rv-current').textContent = d.current.text;
      showDiff($('rv-diff'), d.current.text, d.proposed !== undefined ? d.proposed : p.text);
      $('rv-conflict').textContent = t('rv_conflict');
      $('rv-edit').focus();
      return;
    }
    if (status !== 200) {
      $('rv-conflict').textContent = (d && d.error) || t('ed_login_failed');
      return;
    }
    p.status = d.status;
    const li = $('rv-item-' + p.id);
    if (li) li.classList.add('done');
    items.splice(cur, 1);
    if (li) li.remove();
    [...$('rv-queue').children].forEach((x, k) => { x.dataset.i = String(k); });
    $('rv-total').textContent = t('rv_done_one', { n: items.length });
    select(Math.min(cur, items.length - 1));
  }

  $('rv-accept').addEventListener('click', () => review('accept', {}));
  $('rv-accept-edit').addEventListener('click', () => review('accept', { text: $('rv-edit').value }));
  $('rv-decline').addEventListener('click', () => review('decline', { message: $('rv-message').value.trim() || null }));
  $('rv-filters').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  $('rv-edit').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); review('accept', { text: $('rv-edit').value }); }
  });
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target.closest && ev.target.closest('input, textarea, select');
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey || !me) {
      if (ev.key === 'Escape' && typing) ev.target.blur();
      return;
    }
    if (ev.key === 'j') select(Math.min(cur + 1, items.length - 1));
    else if (ev.key === 'k') select(Math.max(cur - 1, 0));
    else if (ev.key === 'a') review('accept', {});
    else if (ev.key === 'e') { ev.preventDefault(); $('rv-edit').focus(); }
    else if (ev.key === 'd') review('decline', { message: $('rv-message').value.trim() || null });
    else if (ev.key === 'p') { const a = $('rv-audio'); if (a.paused) a.play(); else a.pause(); }
    else return;
    ev.preventDefault();
  });

  (async () => {
    try {
      const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) me = await r.json();
    } catch (e) { /* offline */ }
    if (!me || (me.role !== 'annotator' && me.role !== 'admin')) {
      $('rv-refused').hidden = false;
      $('rv-refused').textContent = t('rv_staff_only');
      $('rv-filters').hidden = true;
      return;
    }
    load();
  })();
})();
