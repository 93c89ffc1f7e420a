// SPDX-License-Identifier: GPL-3.0-or-later
// The map of voices.  Every .voices-map node of a page becomes a Leaflet
// map of the places with recordings the viewer may hear (GET /api/map,
// filtered by the node's data-institution and, on /map, by the filters'
// form), clustered where they crowd, each point sized by its hours of
// speech.  A click on a point, or on the place in the list beside (the
// same places, for keyboard and screen readers), lists its voices with a
// play button each.  The background is the outline shipped with parlers
// (static/normandy.geojson) under the operator's tiles when they load;
// with no tiles the outline alone is the map, as it always is in the
// panels of the home and institution pages.  The decade filter offers the
// decades the viewer's recordings are dated in (GET /api/map/decades),
// and is not shown when none is dated.  On /themes/{slug} it draws the
// theme's recordings.  Text from the archive only ever becomes text
// nodes.
'use strict';

(() => {
  const { t, el, pageData, clock, date } = PRL;

  function hours(seconds) {
    const h = Math.floor(seconds / 3600), m = Math.round((seconds % 3600) / 60);
    return h ? t('map_hours', { h, m: String(m).padStart(2, '0') }) : t('map_minutes', { m: Math.max(m, seconds > 0 ? 1 : 0) });
  }

  function recordingsLabel(n) {
    return t(n === 1 ? 'inst_recordings_one' : 'inst_recordings_n', { n });
  }

  // A point's radius in pixels: grows with the square root of its hours.
  function radius(seconds) {
    return Math.min(28, 6 + 5 * Math.sqrt(seconds / 3600));
  }

  function query(filters) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  // One shared player per map: a button plays its recording, or pauses it.
  function player() {
    const audio = new Audio();
    audio.preload = 'none';
    let current = null;
    function press(btn, on) {
      btn.setAttribute('aria-pressed', on ? 'true' : 'false');
      btn.textContent = on ? '❚❚' : '▶';
    }
    audio.addEventListener('ended', () => { if (current) press(current, false); current = null; });
    audio.addEventListener('pause', () => { if (current) press(current, false); });
    audio.addEventListener('play', () => { if (current) press(current, true); });
    return {
      audio,
      button(rec) {
        const btn = el('button', {
          type: 'button', class: 'play', 'aria-pressed': 'false',
          'aria-label': t('map_play', { title: rec.title || ('#' + rec.id) }),
          dataset: { id: String(rec.id) },
        }, '▶');
        btn.addEventListener('click', () => {
          if (current === btn && !audio.paused) { audio.pause(); return; }
          if (current && current !== btn) press(current, false);
          current = btn;
          const ogg = audio.canPlayType('audio/ogg; codecs=opus');
          const src = '/media/' + rec.id + (ogg ? '.opus' : '.mp3');
          if (audio.dataset.src !== src) { audio.dataset.src = src; audio.src = src; }
          audio.play().catch(() => press(btn, false));
        });
        return btn;
      },
    };
  }

  function voiceItem(rec, play) {
    const line = [date(rec.date), rec.variety, rec.duration_ms ? clock(rec.duration_ms) : '']
      .filter(Boolean).join(' · ');
    return el('li', {},
      play.button(rec),
      el('a', { href: '/recordings/' + rec.id }, rec.title || ('#' + rec.id)),
      el('p', {}, [rec.speakers, line].filter(Boolean).join(' — ')));
  }

  function placeName(p) {
    return p.name + (p.commune && p.commune !== p.name ? ' (' + p.commune + ')' : '');
  }

  async function showVoices(root, place, filters, play) {
    const box = root.querySelector('.voices');
    const name = placeName(place);
    box.replaceChildren(el('h3', {}, name), el('p', { class: 'n' }, t('map_loading')));
    let data;
    try {
      data = await PRL.getJSON('/api/map/places/' + place.id + query(filters));
    } catch (err) {
      box.replaceChildren(el('h3', {}, name), el('p', { class: 'n' }, t('map_error')));
      return;
    }
    const recs = data.recordings || [];
    box.replaceChildren(
      el('h3', { tabindex: '-1' }, name),
      el('p', { class: 'n' }, recordingsLabel(place.recordings) + ' · ' + hours(place.seconds)),
      el('ul', {}, ...recs.map((r) => voiceItem(r, play))));
    root.dataset.place = String(place.id);
  }

  async function drawOutline(map, url, node) {
    try {
      const r = await fetch(url, { credentials: 'same-origin' });
      if (!r.ok) return;
      L.geoJSON(await r.json(), {
        pane: 'outline',
        interactive: false,
        style: { color: '#6b7f86', weight: 1, fillColor: '#f4e9d8', fillOpacity: 1 },
      }).addTo(map);
      node.classList.add('outlined');
    } catch (err) { /* the points alone still say where */ }
  }

  function filterForm(root) {
    const form = document.getElementById('map-filters');
    if (!form || !root.dataset.full) return null;
    return form;
  }

  function currentFilters(root, form) {
    const f = { institution: root.dataset.institution || '' };
    if (form) {
      for (const k of ['variety', 'decade', 'theme', 'institution']) {
        const v = form.elements[k] && form.elements[k].value;
        if (v) f[k] = v;
      }
    }
    return f;
  }

  async function fillFilters(form) {
    const params = new URLSearchParams(location.search);
    const add = (name, items) => {
      const sel = form.elements[name];
      for (const [value, label] of items) sel.append(el('option', { value }, label));
      if (params.get(name)) sel.value = params.get(name);
    };
    const [facets, themes, insts, dated] = await Promise.all([
      PRL.getJSON('/api/facets').catch(() => ({})),
      PRL.getJSON('/api/themes').catch(() => ({})),
      PRL.getJSON('/api/institutions').catch(() => ({})),
      PRL.getJSON('/api/map/decades').catch(() => null),
    ]);
    // the decades the viewer's recordings are dated in; none dated: no
    // decade filter at all
    const decades = dated ? dated.decades || [] : [];
    add('decade', decades.map((y) => [String(y), t('map_decade', { y })]));
    const field = document.getElementById('m-decade-field');
    if (field && dated && !decades.length) {
      field.hidden = true;
      form.elements.decade.disabled = true;
    }
    add('variety', (facets.varieties || []).map((v) => [v.name, v.name]));
    add('theme', (themes.themes || []).map((x) => [x.slug, x.name]));
    add('institution', (insts.institutions || []).map((i) => [i.short, i.name]));
  }

  async function voicesMap(root, cfg) {
    if (typeof L === 'undefined') return;
    const node = root.querySelector('.map');
    const list = root.querySelector('.place-list');
    const count = root.querySelector('.map-count');
    const play = player();
    const map = L.map(node, { scrollWheelZoom: false, zoomSnap: 0.25, keyboard: true, maxZoom: 18 });
    map.createPane('outline');
    map.getPane('outline').style.zIndex = 150;
    // the panels of the home and institution pages draw the outline alone:
    // no page but the map's own asks a tile server for anything
    if (root.dataset.full && cfg && cfg.tiles) {
      L.tileLayer(cfg.tiles, { attribution: cfg.attribution || '', maxZoom: 18 }).addTo(map);
    }
    map.fitBounds(L.latLngBounds([[48.15, -2.75], [50.15, 1.85]]), { padding: [8, 8] });
    drawOutline(map, root.dataset.outline, node);
    const clusters = typeof L.markerClusterGroup === 'function'
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 })
      : L.layerGroup();
    clusters.addTo(map);
    const form = filterForm(root);

    async function load() {
      const filters = currentFilters(root, form);
      let data;
      try {
        data = await PRL.getJSON('/api/map' + query(filters));
      } catch (err) {
        if (count) count.textContent = (err && err.message) || t('map_error');
        return;
      }
      const features = (data.features || []).filter((f) => f.geometry && f.geometry.type === 'Point');
      clusters.clearLayers();
      const markers = [];
      const items = [];
      for (const f of features) {
        const [lon, lat] = f.geometry.coordinates;
        const p = f.properties || {};
        const m = L.circleMarker([lat, lon], {
          radius: radius(p.seconds || 0), color: '#123542', weight: 2,
          fillColor: '#b3411b', fillOpacity: 0.85, className: 'voice-point',
        });
        m.bindTooltip(placeName(p) + ' — ' + recordingsLabel(p.recordings) + ', ' + hours(p.seconds || 0));
        m.on('click', () => showVoices(root, p, filters, play));
        m.placeId = p.id;
        markers.push(m);
        if (list) {
          items.push(el('li', {},
            el('button', { type: 'button', dataset: { place: String(p.id) }, onclick: () => {
              showVoices(root, p, filters, play).then(() => {
                const h = root.querySelector('.voices h3');
                if (h) h.focus();
              });
            } }, placeName(p)),
            ' ', el('span', { class: 'n' }, recordingsLabel(p.recordings) + ', ' + hours(p.seconds || 0))));
        }
      }
      if (clusters.addLayers) clusters.addLayers(markers);
      else for (const m of markers) clusters.addLayer(m);
      if (list) list.replaceChildren(...items);
      if (count) count.textContent = t(features.length === 1 ? 'map_places_one' : 'map_places_n', { n: features.length });
      root.dataset.places = String(features.length);
      root.classList.add('loaded');
    }

    if (form) {
      await fillFilters(form);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const q = query(currentFilters(root, form));
        history.replaceState(null, '', '/map' + q);
        load();
      });
    }
    root.voicesMap = { map, clusters, player: play };
    await load();
  }

  // ---- /themes/{slug} ----

  function themePage(theme) {
    const desc = document.getElementById('theme-description');
    desc.textContent = theme.description || '';
    const recs = theme.recordings || [];
    document.getElementById('theme-count').textContent = recs.length
      ? recordingsLabel(recs.length) : t('results_none_here');
    document.getElementById('theme-map').href = '/map?theme=' + encodeURIComponent(theme.slug);
    document.getElementById('theme-recordings').replaceChildren(...recs.map((r) => {
      const where = r.place ? r.place + (r.commune && r.commune !== r.place ? ', ' + r.commune : '') : '';
      const line = [where, date(r.date), r.variety].filter(Boolean).join(' · ');
      return el('li', { class: 'card' },
        el('h3', {}, el('a', { href: '/recordings/' + r.id }, r.title || ('#' + r.id))),
        line ? el('p', {}, line) : null,
        r.duration_ms ? el('p', {}, clock(r.duration_ms)) : null);
    }));
  }

  const theme = pageData('theme-data');
  if (theme) themePage(theme);
  const cfg = pageData('map-data') || {};
  for (const root of document.querySelectorAll('.voices-map')) voicesMap(root, cfg);
})();
