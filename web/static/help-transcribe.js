// SPDX-License-Identifier: GPL-3.0-or-later
// "Help transcribe": the public recordings that most need a transcription,
// least transcribed first, each with its progress and a link to propose
// on it; then how far each collection has come.  Only what the visitor
// hears is counted.  Text from the archive reaches the page as text only.
'use strict';

(() => {
  const { t, el, getJSON, clock } = PRL;
  const $ = (id) => document.getElementById(id);
  const collection = new URL(location.href).searchParams.get('collection') || '';
  const q = collection ? '?collection=' + encodeURIComponent(collection) : '';

  async function list() {
    let d;
    try { d = await getJSON('/api/help-transcribe' + q + (q ? '&' : '?') + 'limit=50'); } catch (e) { return; }
    $('ht-none').hidden = d.recordings.length > 0;
    $('ht-list').replaceChildren(...d.recordings.map((r) => el('li', { class: 'ht-item', id: 'ht-' + r.id },
      el('a', { href: '/recordings/' + r.id }, r.title), ' ',
      el('span', { class: 'hint' }, [r.place, r.collection, clock(r.progress.duration_ms)].filter(Boolean).join(' · ')),
      PRL.progress(r.progress),
      r.progress.untranscribed_segments
        ? el('p', { class: 'hint' }, t('ht_waiting', { n: r.progress.untranscribed_segments })) : null,
      el('a', { class: 'button', href: '/recordings/' + r.id + '#propose' }, t('ht_propose')))));
  }

  async function collections() {
    let d;
    try { d = await getJSON('/api/progress' + q); } catch (e) { return; }
    $('ht-total').replaceChildren(el('strong', {}, t(collection ? 'ht_this_collection' : 'ht_all')), ' ',
      PRL.progress(d, 'ht-progress'));
    const rows = d.collections || [Object.assign({ name: d.collection }, d)];
    const pct = (x) => Math.round(x * 100) + (PRL.lang === 'fr' ? '\u00a0%' : '%');
    $('ht-collections').tBodies[0].replaceChildren(...rows.map((c) => el('tr', {},
      el('th', { scope: 'row' }, c.name
        ? el('a', { href: '/?collection=' + encodeURIComponent(c.name) }, c.name) : t('ht_no_collection')),
      el('td', {}, String(c.recordings)), el('td', {}, pct(c.transcribed)),
      el('td', {}, pct(c.translated)), el('td', {}, String(c.pending)))));
  }

  list();
  collections();
})();
