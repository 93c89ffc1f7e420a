// SPDX-License-Identifier: GPL-3.0-or-later
// The thematic routes: the list (/routes) and one route (/routes/{slug}).
// A route plays stop after stop: each stop is a span of a recording, heard
// with its transcript and translation following the sound, its place,
// institution and commentary; a short pause between stops; #stop=N opens
// (and shares) stop N.  Everything shown came with the page, as the
// server decided this visitor may hear it; text goes in as text only.
'use strict';
(() => {
  const { t, el, pageData } = PRL;
  const $ = (id) => document.getElementById(id);
  const PAUSE_MS = 1500;

  /* ---- the list ---- */
  const all = pageData('routes-data');
  if (all) {
    const ul = $('route-list');
    for (const r of all.routes || []) {
      ul.append(el('li', { class: 'route-card' },
        el('h2', null, el('a', { href: '/routes/' + encodeURIComponent(r.slug) }, r.title)),
        r.intro ? el('p', null, r.intro) : null,
        el('p', { class: 'meta-line' }, t('route_n_stops', { n: r.stops }))));
    }
    $('routes-none').hidden = (all.routes || []).length > 0;
    return;
  }

  /* ---- one route ---- */
  const route = pageData('route-data');
  if (!route) return;
  const stops = route.stops;
  const audio = $('audio');
  let cur = -1, playingRoute = false, nextTimer = 0, lineNow = -1;

  $('route-intro').textContent = route.intro || '';
  const list = $('stops');
  stops.forEach((s, i) => {
    const rec = s.recording || {};
    const where = [rec.place && rec.place.name, rec.institution && rec.institution.name].filter(Boolean).join(' · ');
    list.append(el('li', { dataset: { i } },
      el('a', { href: '#stop=' + s.n, onclick: (ev) => { ev.preventDefault(); go(i, true); } },
        el('span', { class: 'stop-name' }, s.title || rec.title || ''),
        where ? el('span', { class: 'stop-place' }, where) : null)));
  });

  function lines(s) {
    const tr = s.translation || [];
    return (s.transcript || []).map((x) => ({
      s: x.s, e: x.e, text: x.text,
      tr: tr.filter((y) => y.s < x.e && y.e > x.s).map((y) => y.text).join(' '),
    }));
  }

  // Shows stop i; plays it when play is set.
  let go = function (i, play) {
    if (i < 0 || i >= stops.length) return;
    clearTimeout(nextTimer);
    cur = i;
    lineNow = -1;
    const s = stops[i], rec = s.recording || {};
    $('stop-count').textContent = t('route_stop_n', { n: i + 1, total: stops.length });
    $('stop-title').textContent = s.title || rec.title || '';
    $('stop-where').textContent = [rec.title !== s.title ? rec.title : null, rec.place && rec.place.name,
      rec.date, rec.institution && rec.institution.name].filter(Boolean).join(' · ');
    $('stop-note').textContent = s.note || '';
    $('stop-link').href = '/recordings/' + s.recording_id + '#t=' + s.start_ms / 1000 + ',' + s.end_ms / 1000;
    const ol = $('stop-lines');
    ol.replaceChildren(...lines(s).map((x) => el('li', { dataset: { s: x.s, e: x.e } },
      el('span', { class: 'line-text' }, x.text), x.tr ? el('span', { class: 'line-tr' }, x.tr) : null)));
    for (const li of list.children) li.classList.toggle('current', Number(li.dataset.i) === i);
    const cur_li = list.children[i];
    if (cur_li) cur_li.querySelector('a').setAttribute('aria-current', 'step');
    for (const li of list.children) if (li !== cur_li) li.querySelector('a').removeAttribute('aria-current');
    $('stop-prev').disabled = i === 0;
    $('stop-next').disabled = i === stops.length - 1;
    const media = s.media || {};
    const src = (media.opus && audio.canPlayType('audio/ogg; codecs=opus') ? media.opus : media.mp3 || media.opus);
    const start = s.start_ms / 1000;
    const seekAndPlay = () => {
      audio.currentTime = start;
      if (play) audio.play().catch(() => {});
    };
    if (audio.dataset.src !== src) {
      audio.dataset.src = src;
      audio.src = src;
      audio.addEventListener('loadedmetadata', seekAndPlay, { once: true });
    } else {
      seekAndPlay();
    }
    history.replaceState(null, '', '#stop=' + s.n);
  };

  audio.addEventListener('timeupdate', () => {
    if (cur < 0) return;
    const s = stops[cur], ms = audio.currentTime * 1000;
    if (ms >= s.end_ms && !audio.paused) {
      audio.pause();
      if (playingRoute && cur < stops.length - 1) nextTimer = setTimeout(() => go(cur + 1, true), PAUSE_MS);
      else playingRoute = false;
    }
    const ol = $('stop-lines');
    let k = -1;
    [...ol.children].forEach((li, j) => { if (ms >= Number(li.dataset.s) && ms < Number(li.dataset.e)) k = j; });
    if (k !== lineNow) {
      if (lineNow >= 0 && ol.children[lineNow]) ol.children[lineNow].classList.remove('now');
      if (k >= 0) ol.children[k].classList.add('now');
      lineNow = k;
    }
  });
  audio.addEventListener('play', () => { $('route-play').textContent = t('pause'); });
  audio.addEventListener('pause', () => { $('route-play').textContent = t('route_play'); });

  $('route-play').addEventListener('click', () => {
    if (!audio.paused) { playingRoute = false; audio.pause(); return; }
    playingRoute = true;
    const s = stops[cur];
    if (audio.currentTime * 1000 >= s.end_ms - 50 || audio.currentTime * 1000 < s.start_ms) go(cur, true);
    else audio.play().catch(() => {});
  });
  $('stop-prev').addEventListener('click', () => go(cur - 1, !audio.paused || playingRoute));
  $('stop-next').addEventListener('click', () => go(cur + 1, !audio.paused || playingRoute));

  // #stop=N: the stop whose place in the route is N (or the first after it)
  function fromHash() {
    const m = /(?:^#|&)stop=(\d+)/.exec(location.hash);
    const n = m ? Number(m[1]) : 0;
    let i = stops.findIndex((s) => s.n >= n);
    if (i < 0) i = 0;
    return i;
  }
  window.addEventListener('hashchange', () => { const i = fromHash(); if (i !== cur) go(i, !audio.paused); });
  go(fromHash(), false);

  /* ---- the stops on the map: one numbered marker per place, a click
   * goes to its stop (the next one there after the current stop) ---- */
  const markers = [];
  async function drawMap() {
    const node = $('route-map');
    if (typeof L === 'undefined' || !node) return;
    const cfg = pageData('map-data') || {};
    const map = L.map(node, { scrollWheelZoom: false, zoomSnap: 0.25 });
    map.createPane('outline');
    map.getPane('outline').style.zIndex = 150;
    if (cfg.tiles) L.tileLayer(cfg.tiles, { attribution: cfg.attribution || '', maxZoom: 18 }).addTo(map);
    const places = new Map();
    stops.forEach((s, i) => {
      const p = (s.recording || {}).place || {};
      if (typeof p.lat !== 'number' || typeof p.lon !== 'number') return;
      // places a few km apart share a marker: apart, one would hide the other
      let key = null;
      for (const [k, q] of places) if (Math.abs(q.lat - p.lat) < 0.05 && Math.abs(q.lon - p.lon) < 0.07) key = k;
      if (key === null) {
        key = p.lat + ',' + p.lon;
        places.set(key, { lat: p.lat, lon: p.lon, name: p.name || '', idx: [] });
      } else if (p.name && !places.get(key).name.split(', ').includes(p.name)) {
        places.get(key).name += ', ' + p.name;
      }
      places.get(key).idx.push(i);
    });
    const bounds = L.latLngBounds([[48.15, -2.75], [50.15, 1.85]]);
    for (const pl of places.values()) bounds.extend([pl.lat, pl.lon]);
    // a view first: markers added to a map without one have no element yet
    map.fitBounds(bounds, { padding: [12, 12] });
    const line = [];
    for (const pl of places.values()) {
      const label = pl.idx.map((i) => i + 1).join(', ');
      const m = L.marker([pl.lat, pl.lon], {
        icon: L.divIcon({ className: 'stop-marker', html: '', iconSize: null }),
        title: pl.name + ' — ' + t('route_stops') + ' ' + label,
        keyboard: true,
      }).addTo(map);
      m.getElement().textContent = label;
      m.getElement().dataset.stops = pl.idx.join(',');
      m.on('click', () => {
        const next = pl.idx.find((i) => i > cur);
        go(next !== undefined ? next : pl.idx[0], true);
      });
      markers.push({ m, idx: pl.idx });
    }
    stops.forEach((s) => {
      const p = (s.recording || {}).place || {};
      if (typeof p.lat === 'number' && typeof p.lon === 'number') line.push([p.lat, p.lon]);
    });
    if (line.length > 1) L.polyline(line, { color: '#b3411b', weight: 2, opacity: 0.6, dashArray: '4 6', interactive: false }).addTo(map);
    node.classList.add('drawn');
    try {
      const r = await fetch(node.dataset.outline, { credentials: 'same-origin' });
      if (!r.ok) return;
      L.geoJSON(await r.json(), {
        pane: 'outline', interactive: false,
        style: { color: '#6b7f86', weight: 1, fillColor: '#f4e9d8', fillOpacity: 1 },
      }).addTo(map);
      node.classList.add('outlined');
    } catch (err) { /* the markers alone still say where */ }
  }
  function markCurrent() {
    for (const x of markers) x.m.getElement().classList.toggle('current', x.idx.includes(cur));
  }
  drawMap().then(markCurrent);
  const go0 = go;
  go = (i, play) => { go0(i, play); markCurrent(); };

  /* ---- the cover: the waveform of one of the route's recordings ---- */
  async function drawCover() {
    const id = route.cover_recording_id, cv = $('route-cover');
    if (!id || !cv) return;
    let pk;
    try { pk = await PRL.getJSON('/api/recordings/' + id + '/peaks.json?level=2'); } catch (e) { return; }
    if (!pk || !pk.length) return;
    const g = cv.getContext('2d'), w = cv.width, h = cv.height, full = 1 << ((pk.bits || 16) - 1);
    g.fillStyle = '#b3411b';
    for (let x = 0; x < w; x++) {
      const k = Math.floor(x * pk.length / w);
      const mn = pk.data[2 * k] / full, mx = pk.data[2 * k + 1] / full;
      g.fillRect(x, h / 2 - mx * h / 2, 1, Math.max(1, (mx - mn) * h / 2));
    }
    cv.hidden = false;
  }
  drawCover();

  /* ---- staff: a link to the editor ---- */
  if (PRL.signedInBefore()) {
    PRL.getJSON('/api/me').then((me) => {
      if (me && (me.role === 'annotator' || me.role === 'admin')) {
        $('route-edit').href = '/routes/' + encodeURIComponent(route.slug) + '/edit';
        $('route-edit').hidden = false;
      }
    }).catch(() => {});
  }
})();
