// SPDX-License-Identifier: GPL-3.0-or-later
// The search page: asks /api/search and lists each passage with a link
// that opens the recording ready to play it (#t=start,end).  Until the
// search API exists the page says so.
'use strict';

(() => {
  const { t, el, getJSON, clock } = PRL;
  const status = document.getElementById('search-status');
  const hits = document.getElementById('hits');
  const q = new URLSearchParams(location.search).get('q');
  if (!q || !q.trim()) return;

  (async () => {
    status.textContent = t('loading');
    try {
      const res = await getJSON('/api/search?' + new URLSearchParams({ q, limit: '50' }).toString());
      const list = res.hits || [];
      status.textContent = list.length ? t('search_hits', { n: res.total ?? list.length }) : t('search_none');
      hits.replaceChildren(...list.map((h) => {
        const frag = '#t=' + (h.start_ms / 1000) + ',' + (h.end_ms / 1000);
        return el('li', {},
          el('a', { href: '/recordings/' + h.recording_id + frag }, h.recording_title || ('#' + h.recording_id)),
          ' ', el('span', { class: 'n' }, clock(h.start_ms)),
          el('br'), el('span', {}, h.text || ''),
          h.translation ? el('span', { class: 'tx other' }, ' — ' + h.translation) : null);
      }));
    } catch (err) {
      status.textContent = err.status === 404 ? t('search_soon') : t('load_failed');
    }
  })();
})();
