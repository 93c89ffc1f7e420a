// SPDX-License-Identifier: GPL-3.0-or-later
// "Où qu'ch'est ?": hear a voice, click on the map where it was recorded;
// the score is the distance in km (100 points at the spot, none from
// 100 km), and the answer shows the place, the speaker and what was said.
// The map draws the outline parlers ships (and the operator's tiles when
// they load), so it plays offline.  Keyboard: the places of the rounds
// already played (and of this one, once answered) make a list to answer
// with, and Leaflet's own keys pan the map before answering its centre.  The score and the rounds
// heard stay in this browser (localStorage), never on the server.
'use strict';
(() => {
  const { t, el, pageData, getJSON } = PRL;
  const $ = (id) => document.getElementById(id);
  const KEY = 'parlers-game-where';
  const audio = $('where-audio');
  const node = $('where-map');
  if (!node || typeof L === 'undefined') return;
  let round = null, answered = false, layer = null;

  const load = () => {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  };
  const state = Object.assign({ points: 0, played: 0, seen: [], places: [] }, load() || {});
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ } };
  const showScore = () => {
    $('where-score').textContent = state.played ? t('game_where_score', { points: state.points, played: state.played }) : '';
  };

  // Great-circle distance in km.
  function km(a, b) {
    const r = Math.PI / 180, dlat = (b[0] - a[0]) * r, dlon = (b[1] - a[1]) * r;
    const h = Math.sin(dlat / 2) ** 2 + Math.cos(a[0] * r) * Math.cos(b[0] * r) * Math.sin(dlon / 2) ** 2;
    return 6371 * 2 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  const cfg = pageData('map-data') || {};
  const map = L.map(node, { zoomSnap: 0.25 });
  map.createPane('outline');
  map.getPane('outline').style.zIndex = 150;
  if (cfg.tiles) L.tileLayer(cfg.tiles, { attribution: cfg.attribution || '', maxZoom: 18 }).addTo(map);
  map.fitBounds(L.latLngBounds([[48.15, -2.75], [50.15, 1.85]]));
  fetch(node.dataset.outline, { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : null)).then((g) => {
    if (!g) return;
    L.geoJSON(g, { pane: 'outline', interactive: false, style: { color: '#6b7f86', weight: 1, fillColor: '#f4e9d8', fillOpacity: 1 } }).addTo(map);
    node.classList.add('outlined');
  }).catch(() => {});

  function fillPlaces() {
    const sel = $('where-list');
    sel.replaceChildren(...state.places.slice().sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => el('option', { value: p.lat + ',' + p.lon }, p.name)));
    sel.disabled = $('where-choose').disabled = !round || answered || state.places.length === 0;
    $('where-centre').disabled = !round || answered;
  }

  function playClip() {
    if (!round) return;
    const c = round.clip, m = c.media || {};
    const src = m.opus && audio.canPlayType('audio/ogg; codecs=opus') ? m.opus : m.mp3 || m.opus;
    const start = () => { audio.currentTime = c.start_ms / 1000; audio.play().catch(() => {}); };
    if (audio.dataset.src !== src) {
      audio.dataset.src = src;
      audio.src = src;
      audio.addEventListener('loadedmetadata', start, { once: true });
    } else {
      start();
    }
  }
  audio.addEventListener('timeupdate', () => {
    if (round && audio.currentTime * 1000 >= round.clip.end_ms) audio.pause();
  });

  async function answer(guess) {
    if (!round || answered) return;
    answered = true;
    const a = round.answer, truth = [a.lat, a.lon];
    const d = km(guess, truth), points = Math.max(0, Math.round(100 - d));
    state.played++;
    state.points += points;
    if (!state.places.some((p) => p.name === a.place)) state.places.push({ name: a.place, lat: a.lat, lon: a.lon });
    save();
    showScore();
    layer.clearLayers();
    L.circleMarker(guess, { radius: 7, color: '#123542', weight: 2, fillColor: '#fff', fillOpacity: 1 }).addTo(layer);
    L.circleMarker(truth, { radius: 9, color: '#123542', weight: 2, fillColor: '#b3411b', fillOpacity: 0.9, className: 'where-truth' })
      .bindTooltip(a.place, { permanent: true, direction: 'top' }).addTo(layer);
    L.polyline([guess, truth], { color: '#b3411b', dashArray: '4 6' }).addTo(layer);
    map.fitBounds(L.latLngBounds([guess, truth]).pad(0.5), { maxZoom: 10 });
    $('where-verdict').textContent = t('game_where_km', { km: d < 10 ? d.toFixed(1) : Math.round(d), points });
    $('where-place').textContent = [a.place, round.title, round.date, round.institution && round.institution.name].filter(Boolean).join(' · ');
    $('where-said').textContent = round.text || '';
    $('where-speaker').textContent = '';
    $('where-result').hidden = false;
    $('where-ask').hidden = true;
    fillPlaces();
    playClip();
    // the speaker, as the public may know them
    try {
      const rec = await getJSON('/api/recordings/' + round.clip.recording_id);
      const names = (rec.speakers || []).map((s) => s.name).filter(Boolean);
      $('where-speaker').textContent = names.join(', ');
    } catch (e) { /* the place and the words are the answer */ }
  }

  map.on('click', (ev) => answer([ev.latlng.lat, ev.latlng.lng]));
  // the keyboard's way: pan the map with the arrow keys, then answer its centre
  $('where-centre').addEventListener('click', () => { const c = map.getCenter(); answer([c.lat, c.lng]); });
  $('where-choose').addEventListener('click', () => {
    const v = $('where-list').value.split(',').map(Number);
    if (v.length === 2) answer(v);
  });

  async function newRound() {
    const next = await PRL.gameRound('where', state, save, $('where-empty'));
    if (!next) return;
    round = next;
    answered = false;
    if (layer) layer.clearLayers();
    else layer = L.layerGroup().addTo(map);
    map.fitBounds(L.latLngBounds([[48.15, -2.75], [50.15, 1.85]]));
    $('where-result').hidden = true;
    $('where-ask').hidden = false;
    $('where-replay').hidden = false;
    fillPlaces();
    playClip();
  }

  $('where-new').addEventListener('click', newRound);
  $('where-replay').addEventListener('click', playClip);
  showScore();
  fillPlaces();
})();
