// SPDX-License-Identifier: GPL-3.0-or-later
// The home page: the day's featured recordings and institutions (chosen
// and ordered by the server, never by size), facets (collections, places,
// voices, varieties), and the filtered list of recordings.  The first
// screen comes inside the page; changing a filter asks /api/recordings and
// keeps the filters in the URL so that a filtered view can be bookmarked
// and shared.
'use strict';

(() => {
  const { t, el, pageData, date, clock, getJSON } = PRL;
  const LIMIT = 50;
  const FILTERS = ['institution', 'collection', 'place', 'speaker', 'variety'];
  const form = document.getElementById('filters');
  const results = document.getElementById('results');
  const count = document.getElementById('count');
  const prev = document.getElementById('prev');
  const next = document.getElementById('next');

  function currentFilters() {
    const p = new URLSearchParams(location.search);
    const f = {};
    for (const k of FILTERS) if (p.get(k)) f[k] = p.get(k);
    f.offset = Math.max(0, parseInt(p.get('offset') || '0', 10) || 0);
    return f;
  }

  function query(f) {
    const p = new URLSearchParams();
    for (const k of FILTERS) if (f[k]) p.set(k, f[k]);
    if (f.offset) p.set('offset', String(f.offset));
    return p;
  }

  function facetOption(kind, item) {
    if (kind === 'institution') return { value: item.short, label: item.name, count: null };
    const value = kind === 'variety' ? item.name : String(item.id);
    const label = kind === 'place' && item.commune && item.commune !== item.name
      ? item.name + ' (' + item.commune + ')' : item.name;
    return { value, label, count: item.count };
  }

  function renderFacets(facets, institutions) {
    const groups = {
      institution: institutions.slice().sort((a, b) => a.name.localeCompare(b.name, PRL.lang)),
      collection: facets.collections || [],
      place: facets.places || [],
      speaker: facets.speakers || [],
      variety: facets.varieties || [],
    };
    const f = currentFilters();
    for (const kind of FILTERS) {
      const select = document.getElementById('f-' + kind);
      const list = document.getElementById('facet-' + kind);
      const opts = groups[kind].map((it) => facetOption(kind, it));
      for (const o of opts) {
        select.append(el('option', { value: o.value }, o.label + (o.count === null ? '' : ' (' + o.count + ')')));
        if (!list) continue;
        const href = '/?' + query({ [kind]: o.value }).toString();
        list.append(el('li', {},
          el('a', { href, 'aria-current': f[kind] === o.value ? 'true' : null }, o.label),
          ' ', el('span', { class: 'n' }, '(' + o.count + ')')));
      }
      select.value = f[kind] || '';
    }
  }

  function card(r) {
    const speakers = (r.speakers || []).map((s) => s.name).join(', ');
    const where = r.place ? r.place.name + (r.place.commune && r.place.commune !== r.place.name ? ', ' + r.place.commune : '') : '';
    const line = [where, date(r.date), r.variety].filter(Boolean).join(' · ');
    return el('li', { class: 'card' },
      el('h3', {},
        el('a', { href: '/recordings/' + r.id }, r.title || ('#' + r.id)),
        r.access === 'restricted' ? el('span', { class: 'badge' }, t('restricted_badge')) : null),
      line ? el('p', {}, line) : null,
      speakers ? el('p', {}, speakers) : null,
      r.duration_ms ? el('p', {}, t('meta_duration') + (PRL.lang === 'fr' ? '\u00a0: ' : ': ') + clock(r.duration_ms)) : null);
  }

  function renderFeatured(featured) {
    // an archive with nothing to show yet shows no empty section
    document.querySelector('section.featured').hidden =
      !(featured.recordings || []).length && !(featured.institutions || []).length;
    document.getElementById('featured').replaceChildren(...(featured.recordings || []).map((r) => {
      const c = card(r);
      if (r.institution && r.institution.name) {
        c.append(el('p', { class: 'inst' },
          el('a', { href: '/institutions/' + encodeURIComponent(r.institution.short) }, r.institution.name)));
      }
      return c;
    }));
    document.getElementById('featured-institutions').replaceChildren(
      ...(featured.institutions || []).slice(0, 12).map((i) => el('li', {},
        el('a', { href: '/institutions/' + encodeURIComponent(i.short) }, i.name))));
  }

  // a collection's page: how far its transcription has come
  async function collectionProgress(f) {
    const old = document.getElementById('collection-progress');
    if (old) old.remove();
    if (!f.collection) return;
    let p;
    try { p = await getJSON('/api/progress?collection=' + encodeURIComponent(f.collection)); } catch (err) { return; }
    count.after(PRL.progress(p, 'collection-progress'));
  }

  function renderList(list, f) {
    collectionProgress(f);
    results.replaceChildren(...(list.recordings || []).map(card));
    const total = list.total || 0;
    if (!total) {
      count.textContent = t('results_none');
    } else {
      const from = (list.offset || 0) + 1;
      const to = (list.offset || 0) + (list.recordings || []).length;
      count.textContent = t('results_count', { n: total }) +
        (total > to || from > 1 ? ' — ' + t('results_range', { from, to, total }) : '');
    }
    const limit = list.limit || LIMIT;
    const off = list.offset || 0;
    prev.hidden = off <= 0;
    next.hidden = off + limit >= total;
    prev.href = '/?' + query({ ...f, offset: Math.max(0, off - limit) }).toString();
    next.href = '/?' + query({ ...f, offset: off + limit }).toString();
  }

  async function load(f, push) {
    const q = query(f);
    count.textContent = t('loading');
    try {
      const list = await getJSON('/api/recordings?' + q.toString() + '&limit=' + LIMIT);
      renderList(list, f);
      const url = '/' + (q.toString() ? '?' + q.toString() : '');
      if (push) history.pushState(null, '', url);
    } catch (err) {
      count.textContent = err.status === 400 ? t('results_none') : t('load_failed');
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = { offset: 0 };
    for (const k of FILTERS) {
      const v = document.getElementById('f-' + k).value;
      if (v) f[k] = v;
    }
    load(f, true);
  });
  for (const k of FILTERS) {
    document.getElementById('f-' + k).addEventListener('change', () => form.requestSubmit());
  }
  window.addEventListener('popstate', () => {
    const f = currentFilters();
    for (const k of FILTERS) document.getElementById('f-' + k).value = f[k] || '';
    load(f, false);
  });

  const featured = pageData('featured-data') || {};
  renderFeatured(featured);
  const facets = pageData('facets-data');
  if (facets) renderFacets(facets, featured.institutions || []);
  const first = pageData('list-data');
  if (first) renderList(first, currentFilters());
  else load(currentFilters(), false);
})();
