// SPDX-License-Identifier: GPL-3.0-or-later
// The route editor (/routes/new, /routes/{slug}/edit), for staff: title,
// introduction, cover (one of the route's recordings, shown as its
// waveform) and the stops, each a span of a recording with a title and a
// note, reordered by drag and drop (SortableJS, by the handle) or by the
// keyboard (the handle's arrow keys, or the buttons beside it).  Saving
// sends the whole route (POST /api/routes, or PUT with the version it
// edits: someone else's save in between is a 409 that says so); the
// history below lists every save, each one undone by its button.  The
// server decides everything: what is shown here of a route is what the
// signed-in account may hear, and text goes in as text only.
'use strict';
(() => {
  const { t, el, pageData, getJSON } = PRL;
  const $ = (id) => document.getElementById(id);
  const data = pageData('route-edit-data') || {};
  let me = null;
  let route = data.route;
  let recordings = [];

  if (!data.staff) {
    $('re-signin').hidden = false;
    $('re-signin-link').href = '/login?next=' + encodeURIComponent(location.pathname);
    return;
  }

  const sec = (ms) => (ms / 1000).toFixed(1);
  const ms = (s) => Math.round(parseFloat(String(s).replace(',', '.')) * 1000);
  const list = $('re-stops');
  const status = (msg, bad) => {
    $('re-status').textContent = msg;
    $('re-status').classList.toggle('bad', !!bad);
  };

  function recTitle(id) {
    const r = recordings.find((x) => x.id === id);
    return r ? r.title || ('#' + id) : '#' + id;
  }

  // Renumbers the stops and their labels after any move.
  function renumber() {
    [...list.children].forEach((li, i) => {
      li.querySelector('.re-n').textContent = String(i + 1);
      li.querySelector('.re-handle').setAttribute('aria-label', t('re_move', { n: i + 1 }));
    });
    fillCover();
  }

  function move(li, by) {
    const items = [...list.children], i = items.indexOf(li), j = i + by;
    if (j < 0 || j >= items.length) return;
    if (by < 0) list.insertBefore(li, items[j]);
    else list.insertBefore(li, items[j].nextSibling);
    renumber();
    li.querySelector('.re-handle').focus();
    status(t('re_moved', { n: j + 1 }));
  }

  function stopItem(s) {
    const li = el('li', { class: 're-stop' });
    const field = (cls, label, input) => el('label', { class: 're-field ' + cls }, el('span', null, label), input);
    const handle = el('button', { type: 'button', class: 're-handle', title: t('re_move_help') }, '⠿');
    handle.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowUp' || ev.key === 'ArrowDown') {
        ev.preventDefault();
        move(li, ev.key === 'ArrowUp' ? -1 : 1);
      }
    });
    const rec = el('input', { class: 're-rec', type: 'number', min: 1, step: 1, list: 're-recordings', required: true, value: s.recording_id || '' });
    const recName = el('span', { class: 're-rec-name' }, s.recording_id ? recTitle(s.recording_id) : '');
    rec.addEventListener('change', () => { recName.textContent = recTitle(Number(rec.value)); fillCover(); });
    li.append(
      el('div', { class: 're-stop-head' }, handle, el('span', { class: 're-n' }, ''),
        el('button', { type: 'button', class: 're-up', onclick: () => move(li, -1) }, t('re_up')),
        el('button', { type: 'button', class: 're-down', onclick: () => move(li, 1) }, t('re_down')),
        el('button', { type: 'button', class: 're-remove', onclick: () => { li.remove(); renumber(); } }, t('re_remove'))),
      el('div', { class: 're-stop-body' },
        field('re-f-rec', t('re_recording'), rec), recName,
        field('re-f-start', t('re_start'), el('input', { class: 're-start', inputmode: 'decimal', size: 7, value: s.start_ms !== undefined ? sec(s.start_ms) : '0' })),
        field('re-f-end', t('re_end'), el('input', { class: 're-end', inputmode: 'decimal', size: 7, value: s.end_ms !== undefined ? sec(s.end_ms) : '' })),
        field('re-f-title', t('re_stop_title'), el('input', { class: 're-stop-title', maxlength: 1000, value: s.title || '' })),
        field('re-f-note', t('re_note'), el('textarea', { class: 're-note', rows: 2, maxlength: 4096 }, s.note || ''))));
    return li;
  }

  function fillCover() {
    const sel = $('re-cover'), keep = sel.value || (route && route.cover_recording_id ? String(route.cover_recording_id) : '');
    const ids = [...new Set([...list.querySelectorAll('.re-rec')].map((x) => Number(x.value)).filter((x) => x > 0))];
    sel.replaceChildren(el('option', { value: '' }, t('re_no_cover')),
      ...ids.map((id) => el('option', { value: id }, t('re_cover_of', { title: recTitle(id) }))));
    sel.value = ids.includes(Number(keep)) ? keep : '';
  }

  function collect() {
    const out = {
      title: $('re-route-title').value,
      intro: $('re-intro').value || null,
      cover_recording_id: $('re-cover').value ? Number($('re-cover').value) : null,
      stops: [...list.children].map((li) => ({
        recording_id: Number(li.querySelector('.re-rec').value),
        start_ms: ms(li.querySelector('.re-start').value),
        end_ms: ms(li.querySelector('.re-end').value),
        title: li.querySelector('.re-stop-title').value || null,
        note: li.querySelector('.re-note').value || null,
      })),
    };
    if (route) out.version = route.version;
    else out.slug = $('re-slug').value;
    return out;
  }

  async function send(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (me && me.csrf_token) headers['X-CSRF-Token'] = me.csrf_token;
    const r = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    let j = null;
    try { j = await r.json(); } catch (e) { /* no body */ }
    return { status: r.status, ok: r.ok, body: j || {} };
  }

  function show(r) {
    route = r;
    $('re-heading').textContent = r ? t('re_editing', { title: r.title }) : t('re_title');
    $('re-slug').value = r ? r.slug : (data.slug || '');
    $('re-slug').disabled = !!r;
    $('re-route-title').value = r ? r.title : '';
    $('re-intro').value = r ? r.intro || '' : '';
    list.replaceChildren(...(r ? r.stops : []).map(stopItem));
    renumber();
    $('re-delete').hidden = !r;
    $('re-view').hidden = !r;
    if (r) $('re-view').href = '/routes/' + encodeURIComponent(r.slug);
    if (r) loadHistory();
  }

  async function loadHistory() {
    if (!route) return;
    let h;
    try { h = await getJSON('/api/route-history/' + encodeURIComponent(route.slug)); } catch (e) { return; }
    $('re-history-box').hidden = false;
    $('re-history').replaceChildren(...(h.history || []).map((row) => el('li', null,
      el('span', { class: 're-h-what' }, t('re_h_' + row.action) + ' · ' + (row.login || '') + ' · ' + String(row.at || '').replace('T', ' ').slice(0, 19)),
      row.after ? el('span', { class: 're-h-after' }, ' — ' + row.after.title + ' (' + t('route_n_stops', { n: row.after.stops }) + ')') : null,
      ' ',
      el('button', { type: 'button', class: 're-revert', dataset: { id: row.id }, onclick: () => revert(row.id) }, t('re_revert')))));
  }

  async function revert(id) {
    const r = await send('POST', '/api/route-history/' + id + '/revert', {});
    if (!r.ok) { status(r.body.error || t('re_failed'), true); return; }
    if (r.body.deleted) { location.href = '/routes'; return; }
    show(r.body);
    status(t('re_reverted', { version: r.body.version }));
  }

  async function save(ev) {
    ev.preventDefault();
    const body = collect();
    status(t('re_saving'));
    const r = route ? await send('PUT', '/api/routes/' + encodeURIComponent(route.slug), body)
      : await send('POST', '/api/routes', body);
    if (!r.ok) {
      status(r.body.error || t('re_failed'), true);
      return;
    }
    if (!route) history.replaceState(null, '', '/routes/' + encodeURIComponent(r.body.slug) + '/edit');
    show(r.body);
    status(t('re_saved', { version: r.body.version }));
  }

  async function remove() {
    if (!route || !confirm(t('re_delete_confirm', { title: route.title }))) return;
    const r = await send('DELETE', '/api/routes/' + encodeURIComponent(route.slug));
    if (!r.ok) { status(r.body.error || t('re_failed'), true); return; }
    location.href = '/routes';
  }

  async function start() {
    try { me = await getJSON('/api/me'); } catch (e) { me = null; }
    try {
      const all = await getJSON('/api/recordings?limit=1000');
      recordings = all.recordings || [];
    } catch (e) { recordings = []; }
    $('re-recordings').replaceChildren(...recordings.map((r) => el('option', { value: r.id }, r.title || '')));
    $('re-form').hidden = false;
    show(route);
    if (typeof Sortable !== 'undefined') {
      Sortable.create(list, { handle: '.re-handle', animation: 150, onEnd: renumber });
    }
  }

  $('re-add').addEventListener('click', () => {
    const li = stopItem({ recording_id: recordings.length ? recordings[0].id : '' });
    list.append(li);
    renumber();
    li.querySelector('.re-rec').focus();
  });
  $('re-form').addEventListener('submit', save);
  $('re-delete').addEventListener('click', remove);
  start();
})();
