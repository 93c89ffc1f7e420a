// SPDX-License-Identifier: GPL-3.0-or-later
// The partner archives whose catalogues are harvested over OAI-PMH: each
// with its institution, how many records it gave, how its last harvest
// went, and its records on demand, each linking out to the partner's own
// page.  Text from partners reaches the page as text only.
'use strict';

(() => {
  const { t, el, pageData, getJSON } = PRL;
  const d = pageData('pa-data');
  if (!d) return;
  const $ = (id) => document.getElementById(id);
  if (!d.partners.length) $('pa-none').hidden = false;

  async function showRecords(p) {
    const res = await getJSON('/api/partners/' + encodeURIComponent(p.name) + '/records?limit=100');
    $('pa-records').hidden = false;
    $('pa-records-h').textContent = (p.institution ? p.institution.name : p.name) + ' — ' +
      t('pa_records', { n: res.total });
    $('pa-records-list').replaceChildren(...res.records.map((r) => {
      const title = r.title || r.identifier;
      const where = [r.place, r.date, r.speakers].filter(Boolean).join(' · ');
      return el('li', {},
        r.url ? el('a', { href: r.url, rel: 'external noopener' }, title) : el('span', {}, title),
        where ? el('span', { class: 'n' }, ' (' + where + ')') : null,
        r.iiif_manifest ? el('span', {}, ' ', el('a', { href: r.iiif_manifest, rel: 'external noopener' }, 'IIIF')) : null);
    }));
  }

  $('pa-list').replaceChildren(...d.partners.map((p) => {
    const state = p.last_status === 'error'
      ? t('pa_failed', { msg: p.last_error || '' })
      : p.last_run_at ? t('pa_last', { when: p.last_run_at }) : t('pa_never');
    const button = el('button', { type: 'button' }, t('pa_show'));
    button.addEventListener('click', () => showRecords(p));
    return el('li', { class: 'inst-card' },
      el('h3', {}, p.institution ? p.institution.name : p.name),
      el('p', { class: 'n' }, t('pa_records', { n: p.records }) + ' · ' + state),
      el('p', {}, button));
  }));
})();
