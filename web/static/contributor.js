// SPDX-License-Identifier: GPL-3.0-or-later
// A contributor's page: the credit name they chose and what staff accepted
// from them, each item linked to its moment in the recording.  Text from the
// archive reaches the page as text only.
'use strict';

(() => {
  const { t, el, pageData, clock } = PRL;
  const d = pageData('co-data');
  if (!d) return;
  const $ = (id) => document.getElementById(id);
  $('co-name').textContent = d.name;
  document.title = d.name + ' · ' + document.title.split(' · ').slice(1).join(' · ');
  $('co-count').textContent = t('co_count', { n: d.accepted.length }) +
    (d.notes ? ' · ' + t('co_notes', { n: d.notes }) : '');
  for (const p of d.accepted) {
    const href = '/recordings/' + p.recording_id + '#t=' + (p.start_ms / 1000) + ',' + (p.end_ms / 1000);
    $('co-list').append(el('li', { class: 'co-item' },
      el('a', { href }, p.recording_title + ' — ' + clock(p.start_ms)), ' ',
      el('span', { class: 'kind' }, t('pr_kind_' + p.kind)),
      el('p', { class: 'co-text' }, p.text)));
  }
})();
