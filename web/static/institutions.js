// SPDX-License-Identifier: GPL-3.0-or-later
// The institutions' pages.  /institutions: every institution as a list
// (links, for keyboard and screen readers) and as points on a Leaflet map
// whose background is the outline shipped with parlers (Normandy's
// départements and the Channel Islands), under the operator's tiles when
// they load; with no tiles the outline alone is the map.
// /institutions/{short}: its description in the page's language, its
// details, recordings, collections, places and speakers.  Everything
// comes inside the page, counted for the viewer by the server; text from
// the archive only ever becomes text nodes.
'use strict';

(() => {
  const { t, el, pageData, date, clock } = PRL;
  const SEP = PRL.lang === 'fr' ? '\u00a0: ' : ': ';

  function recordingsLabel(n) {
    return t(n === 1 ? 'inst_recordings_one' : 'inst_recordings_n', { n });
  }

  // ---- /institutions ----

  function institutionItem(i) {
    const where = [i.kind, i.commune].filter(Boolean).join(' · ');
    return el('li', { class: 'inst-card', id: 'inst-' + i.short },
      el('h3', {}, el('a', { href: '/institutions/' + encodeURIComponent(i.short) }, i.name)),
      where ? el('p', {}, where) : null,
      el('p', { class: 'n' }, recordingsLabel(i.recordings || 0)));
  }

  async function drawMap(node, list, cfg) {
    if (typeof L === 'undefined') return;
    const map = L.map(node, { scrollWheelZoom: false, zoomSnap: 0.25 });
    // the outline lies under the tiles: tiles that load cover it, and
    // where none load (offline, or none configured) it is the map
    map.createPane('outline');
    map.getPane('outline').style.zIndex = 150;
    if (cfg && cfg.tiles) {
      L.tileLayer(cfg.tiles, { attribution: cfg.attribution || '', maxZoom: 18 }).addTo(map);
    }
    const points = [];
    for (const i of list) {
      if (typeof i.lat !== 'number' || typeof i.lon !== 'number') continue;
      const m = L.circleMarker([i.lat, i.lon], {
        radius: 8, color: '#123542', weight: 2, fillColor: '#b3411b', fillOpacity: 0.9,
      }).addTo(map);
      m.bindTooltip(i.name + ' — ' + recordingsLabel(i.recordings || 0));
      m.on('click', () => { location.href = '/institutions/' + encodeURIComponent(i.short); });
      points.push([i.lat, i.lon]);
    }
    // Normandy and the islands always show, with every point however far
    const bounds = L.latLngBounds([[48.15, -2.75], [50.15, 1.85]]);
    for (const p of points) bounds.extend(p);
    map.fitBounds(bounds, { padding: [12, 12] });
    try {
      const r = await fetch(node.dataset.outline, { credentials: 'same-origin' });
      if (!r.ok) return;
      L.geoJSON(await r.json(), {
        pane: 'outline',
        interactive: false,
        style: { color: '#6b7f86', weight: 1, fillColor: '#f4e9d8', fillOpacity: 1 },
      }).addTo(map);
      node.classList.add('outlined');
    } catch (err) { /* the points alone still say where */ }
  }

  function institutionsPage(data) {
    const list = data.institutions || [];
    const ul = document.getElementById('institutions');
    ul.replaceChildren(...list.map(institutionItem));
    document.getElementById('inst-count').textContent = t('institutions_count', { n: list.length });
    const node = document.getElementById('map');
    drawMap(node, list, pageData('map-data') || {});
  }

  // ---- /institutions/{short} ----

  function card(r) {
    const where = r.place ? r.place.name + (r.place.commune && r.place.commune !== r.place.name ? ', ' + r.place.commune : '') : '';
    const line = [where, date(r.date), r.variety].filter(Boolean).join(' · ');
    const speakers = (r.speakers || []).map((s) => s.name).join(', ');
    return el('li', { class: 'card' },
      el('h3', {},
        el('a', { href: '/recordings/' + r.id }, r.title || ('#' + r.id)),
        r.access === 'restricted' ? el('span', { class: 'badge' }, t('restricted_badge')) : null),
      line ? el('p', {}, line) : null,
      speakers ? el('p', {}, speakers) : null,
      r.duration_ms ? el('p', {}, t('meta_duration') + SEP + clock(r.duration_ms)) : null);
  }

  function addMeta(dl, key, value) {
    if (!value) return;
    dl.append(el('dt', {}, t(key)), el('dd', {}, value));
  }

  function institutionPage(inst) {
    const short = inst.short;
    document.getElementById('inst-kind').textContent = inst.kind || '';
    const d = inst.description || {};
    const text = (PRL.lang === 'en' ? d.en || d.fr : d.fr || d.en) || '';
    const desc = document.getElementById('inst-description');
    for (const para of text.split(/\n\s*\n/)) if (para.trim()) desc.append(el('p', {}, para.trim()));
    const dl = document.getElementById('inst-meta');
    addMeta(dl, 'inst_address', inst.address);
    addMeta(dl, 'inst_commune', inst.commune);
    if (inst.website) {
      dl.append(el('dt', {}, t('inst_website')),
        el('dd', {}, el('a', { href: inst.website, rel: 'noopener' }, inst.website)));
    }
    addMeta(dl, 'inst_contact', inst.contact);
    addMeta(dl, 'inst_rights', inst.rights);

    const list = pageData('list-data') || { total: 0, recordings: [] };
    document.getElementById('results').replaceChildren(...(list.recordings || []).map(card));
    document.getElementById('count').textContent = list.total
      ? recordingsLabel(list.total) : t('results_none_here');
    const more = document.getElementById('more');
    more.hidden = !(list.total > (list.recordings || []).length);

    const facets = pageData('facets-data') || {};
    const groups = { collection: facets.collections, place: facets.places, speaker: facets.speakers };
    for (const [kind, items] of Object.entries(groups)) {
      const ul = document.getElementById('facet-' + kind);
      for (const it of items || []) {
        const label = kind === 'place' && it.commune && it.commune !== it.name
          ? it.name + ' (' + it.commune + ')' : it.name;
        const q = new URLSearchParams({ institution: short, [kind]: String(it.id) });
        ul.append(el('li', {}, el('a', { href: '/?' + q.toString() }, label), ' ',
          el('span', { class: 'n' }, '(' + it.count + ')')));
      }
      if (!ul.children.length) ul.append(el('li', { class: 'n' }, t('inst_none')));
    }
  }

  const all = pageData('institutions-data');
  if (all) institutionsPage(all);
  const one = pageData('institution-data');
  if (one) institutionPage(one);
})();
