// SPDX-License-Identifier: GPL-3.0-or-later
// The search page: asks /api/search and lists each passage with its
// place and voice, and a link that opens the recording ready to play that
// very passage (#t=start,end).  The matched words are marked from the
// plain-text keyword-in-context the API gives, never from HTML.
'use strict';

(() => {
  const { t, el, getJSON, clock } = PRL;
  const status = document.getElementById('search-status');
  const hits = document.getElementById('hits');
  const q = new URLSearchParams(location.search).get('q');
  if (!q || !q.trim()) return;

  function passage(h) {
    if (h.kwic && typeof h.kwic.match === 'string') {
      return el('span', { class: 'tx main' }, h.kwic.left || '', el('mark', {}, h.kwic.match), h.kwic.right || '');
    }
    return el('span', { class: 'tx main' }, h.text || '');
  }

  (async () => {
    status.textContent = t('loading');
    try {
      const res = await getJSON('/api/search?' + new URLSearchParams({ q, limit: '50' }).toString());
      const list = res.hits || [];
      status.textContent = list.length ? t('search_hits', { n: res.total ?? list.length }) : t('search_none');
      hits.replaceChildren(...list.map((h) => {
        const frag = '#t=' + (h.start_ms / 1000) + ',' + (h.end_ms / 1000);
        const where = [h.place, h.speaker, h.variety].filter(Boolean).join(' · ');
        return el('li', {},
          el('a', { href: '/recordings/' + h.recording_id + frag }, (h.recording_title || ('#' + h.recording_id)) + ' — ' + clock(h.start_ms)),
          where ? el('span', { class: 'n' }, ' (' + where + ')') : null,
          el('br'), passage(h),
          h.translation ? el('span', { class: 'tx other' }, el('br'), h.translation) : null);
      }));
    } catch (err) {
      status.textContent = err.status === 404 ? t('search_soon') : t('load_failed');
    }
  })();
})();
