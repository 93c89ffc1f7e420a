// SPDX-License-Identifier: GPL-3.0-or-later
// The search page: asks /api/search with the visitor's words and filters
// and lists each passage with its keyword in context (the matched words
// marked from the plain-text kwic the API gives, never from HTML), its
// translation, place, voice and time; a play button plays exactly that
// passage from the access copy (Media Fragments, stopped at its end), a
// link opens the recording ready to play it.  Passages are counted and
// grouped by recording, paged, and sorted as asked.
'use strict';

(() => {
  const { t, el, getJSON, clock, date } = PRL;
  const params = new URLSearchParams(location.search);
  const status = document.getElementById('search-status');
  const note = document.getElementById('search-note');
  const hits = document.getElementById('hits');
  const groups = document.getElementById('groups');
  const groupList = document.getElementById('group-list');
  const pager = document.getElementById('pager');
  const player = document.getElementById('player');
  const PAGE = 20;
  const q = params.get('q');
  const offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);

  // the form shows what was asked
  for (const [name, id] of [['tier', 'f-tier'], ['sort', 'f-sort']]) {
    const v = params.get(name);
    if (v) document.getElementById(id).value = v;
  }
  document.getElementById('f-exact').checked = params.has('exact');
  // a search begun on an institution's page stays in it
  if (params.get('institution')) {
    document.querySelector('form.search-form').append(
      el('input', { type: 'hidden', name: 'institution', value: params.get('institution') }));
  }

  // place and variety choices come from the archive's facets
  getJSON('/api/facets').then((f) => {
    const fill = (id, items, value) => {
      const sel = document.getElementById(id);
      for (const it of items || []) sel.append(el('option', { value: it.name }, it.name + ' (' + it.count + ')'));
      const want = params.get(value);
      if (want) sel.value = want;
    };
    fill('f-place', f.places, 'place');
    fill('f-variety', f.varieties, 'variety');
  }).catch(() => {});

  // A choice in a filter applies at once.
  for (const id of ['f-tier', 'f-place', 'f-variety', 'f-sort', 'f-exact']) {
    document.getElementById(id).addEventListener('change', (e) => {
      if (document.getElementById('q').value.trim()) e.target.form.submit();
    });
  }

  if (!q || !q.trim()) return;

  // One player for the page: the passage's span of the Opus copy (MP3 where
  // the browser has no Opus), stopped at the passage's end.
  const canOpus = player.canPlayType('audio/ogg; codecs=opus') !== '';
  let playing = null;
  function stop() {
    player.pause();
    if (playing) {
      playing.button.textContent = '▶';
      playing.button.setAttribute('aria-label', t('search_play'));
      playing.button.setAttribute('aria-pressed', 'false');
    }
    playing = null;
  }
  player.addEventListener('timeupdate', () => {
    if (playing && player.currentTime >= playing.end) stop();
  });
  player.addEventListener('ended', stop);
  function play(h, button) {
    if (playing && playing.button === button) { stop(); return; }
    stop();
    const start = h.start_ms / 1000;
    const end = h.end_ms / 1000;
    player.src = '/media/' + h.recording_id + (canOpus ? '.opus' : '.mp3') + '#t=' + start + ',' + end;
    playing = { button, end };
    button.textContent = '■';
    button.setAttribute('aria-label', t('search_stop'));
    button.setAttribute('aria-pressed', 'true');
    player.currentTime = start;
    player.play().catch(stop);
  }

  function passage(h) {
    const k = h.kwic;
    if (k && typeof k.match === 'string' && k.match) {
      return el('span', { class: 'tx main' }, (k.left && k.left.length >= 60 ? '…' : '') + (k.left || ''),
        el('mark', {}, k.match), (k.right || '') + (k.right && k.right.length >= 60 ? '…' : ''));
    }
    return el('span', { class: 'tx main' }, h.text || '');
  }

  function hitItem(h) {
    const frag = '#t=' + (h.start_ms / 1000) + ',' + (h.end_ms / 1000);
    const where = [h.place, h.speaker, date(h.date), h.variety].filter(Boolean).join(' · ');
    const button = el('button', { type: 'button', class: 'play', 'aria-pressed': 'false',
      'aria-label': t('search_play'), title: t('search_play') }, '▶');
    button.addEventListener('click', () => play(h, button));
    return el('li', { class: h.match === 'variant' ? 'variant' : null },
      button, ' ',
      el('a', { href: '/recordings/' + h.recording_id + frag },
        (h.recording_title || ('#' + h.recording_id)) + ' — ' + clock(h.start_ms) + '–' + clock(h.end_ms)),
      where ? el('span', { class: 'n' }, ' (' + where + ')') : null,
      h.match === 'variant' ? el('span', { class: 'badge' }, ' ' + t('search_variant')) : null,
      el('br'), passage(h),
      h.translation ? el('span', { class: 'tx other' }, el('br'), h.translation) : null);
  }

  // The partners' records that match: their title links out to the
  // partner's own page, with the partner's name; nothing here plays.
  function showHarvested(h) {
    const box = document.getElementById('harvested');
    if (!box || !h || !h.records || !h.records.length) return;
    box.hidden = false;
    document.getElementById('harvested-list').replaceChildren(...h.records.map((r) => {
      const where = [r.place, r.date, r.speakers].filter(Boolean).join(' · ');
      const title = r.title || r.identifier;
      return el('li', { class: 'harvested-item' },
        r.url ? el('a', { href: r.url, rel: 'external noopener' }, title) : el('span', {}, title),
        ' ', el('span', { class: 'badge' }, t('search_harvested_from', { name: r.partner })),
        where ? el('span', { class: 'n' }, ' (' + where + ')') : null);
    }));
  }

  function pageLink(off, label) {
    const p = new URLSearchParams(params);
    if (off) p.set('offset', String(off)); else p.delete('offset');
    return el('a', { href: '/search?' + p.toString(), rel: off < offset ? 'prev' : 'next' }, label);
  }

  (async () => {
    status.textContent = t('loading');
    const ask = new URLSearchParams({ q, limit: String(PAGE), offset: String(offset), groups: '1' });
    for (const name of ['tier', 'place', 'variety', 'sort', 'institution']) {
      const v = params.get(name);
      if (v) ask.set(name, v);
    }
    if (params.has('exact')) ask.set('exact', '1');
    let res;
    try {
      res = await getJSON('/api/search?' + ask.toString());
    } catch (err) {
      if (err.status === 400) {
        try {
          const r = await fetch('/api/search?' + ask.toString());
          const body = await r.json();
          status.textContent = t('search_error', { msg: body.error || '' });
        } catch (e) { status.textContent = t('load_failed'); }
      } else {
        status.textContent = t('load_failed');
      }
      return;
    }
    const list = res.hits || [];
    showHarvested(res.harvested);
    if (!res.total) {
      status.textContent = t('search_none');
      return;
    }
    status.textContent = (res.total !== res.total_exact
      ? t('search_hits_exact', { n: res.total, e: res.total_exact })
      : t('search_hits', { n: res.total })) + ' — ' +
      t('search_range', { from: offset + 1, to: offset + list.length });
    const notes = [];
    if (res.variants && res.variants.length) {
      notes.push(t('search_variants_used', { list: [...new Set(res.variants.map((v) => v.term))].join(', ') }));
    }
    if (res.order === 'archive') notes.push(t('search_archive_order'));
    note.textContent = notes.join(' ');
    hits.setAttribute('start', String(offset + 1));
    hits.replaceChildren(...list.map(hitItem));
    if (res.groups && res.groups.length > 1) {
      groups.hidden = false;
      groupList.replaceChildren(...res.groups.map((g) => el('li', {},
        el('a', { href: '/recordings/' + g.recording_id }, g.recording_title || ('#' + g.recording_id)),
        el('span', { class: 'n' }, ' ' + g.count))));
    }
    const links = [];
    if (offset > 0) links.push(pageLink(Math.max(0, offset - PAGE), '← ' + t('search_prev')));
    if (offset + list.length < res.total) links.push(pageLink(offset + PAGE, t('search_next') + ' →'));
    pager.replaceChildren(...links);
  })();
})();
