// SPDX-License-Identifier: GPL-3.0-or-later
// The recording page: the player, the waveform drawn from the stored
// peaks, the transcript tiers side by side following the sound, one
// sentence on loop, keyboard control, and "share this moment" links with
// Media Fragments (#t=start,end) that open ready to play that span.
//
// Always holds: text from the archive is put in the page with textContent
// only; the transcript scrolls inside its own box, never the page, and not
// at all for a few seconds after the visitor scrolled it themselves.
'use strict';

(() => {
  const { t, el, pageData, clock, date, getJSON } = PRL;
  const rec = pageData('rec-data');
  if (!rec) return;

  const $ = (id) => document.getElementById(id);
  const audio = $('audio');
  const wave = $('wave');
  const list = $('transcript');
  const AUTOSCROLL_PAUSE_MS = 4000;
  const SEEK_STEP = 5;

  /* ---- metadata ---- */

  function addMeta(dl, key, value) {
    if (value === null || value === undefined || value === '') return;
    dl.append(el('dt', {}, t(key)), el('dd', {}, value));
  }

  function renderMeta() {
    const dl = $('meta');
    if (rec.speakers && rec.speakers.length) {
      const dd = el('dd');
      rec.speakers.forEach((s, i) => {
        if (i) dd.append(el('br'));
        const role = s.role && s.role !== 'speaker' ? ' (' + t('role_' + s.role) + ')' : '';
        const about = [s.birth_year ? String(s.birth_year) : '', s.occupation || '', s.origin || '']
          .filter(Boolean).join(', ');
        dd.append(s.name + role + (about ? ' — ' + about : ''));
      });
      dl.append(el('dt', {}, t('meta_speakers')), dd);
    }
    if (rec.place) {
      const p = rec.place;
      addMeta(dl, 'meta_place', p.name + (p.commune && p.commune !== p.name ? ', ' + p.commune : ''));
    }
    addMeta(dl, 'meta_date', date(rec.date));
    addMeta(dl, 'meta_variety', rec.variety);
    addMeta(dl, 'meta_language', rec.language);
    addMeta(dl, 'meta_collection', rec.collection);
    addMeta(dl, 'meta_collector', rec.collector);
    addMeta(dl, 'meta_duration', rec.duration_ms ? clock(rec.duration_ms) : '');
    addMeta(dl, 'meta_rights', rec.rights);
    // the depositor, linked to its page, and the line to credit it with
    const inst = rec.institution;
    if (inst && inst.short) {
      dl.append(el('dt', {}, t('meta_institution')),
        el('dd', {}, el('a', { href: '/institutions/' + encodeURIComponent(inst.short) }, inst.name || inst.short)));
      const year = /^\d{4}/.exec(rec.date || '');
      const who = [inst.name, rec.collection, rec.collector, year && year[0]].filter(Boolean).join(', ');
      addMeta(dl, 'meta_credit', who + (rec.rights ? ' — ' + rec.rights : ''));
    }
    addMeta(dl, 'meta_access', t('access_' + rec.access));
    addMeta(dl, 'meta_description', rec.description);
    if (Array.isArray(rec.keywords) && rec.keywords.length) addMeta(dl, 'meta_keywords', rec.keywords.join(', '));
    if (Array.isArray(rec.themes) && rec.themes.length) {
      const dd = el('dd', { class: 'themes' });
      rec.themes.forEach((th, i) => dd.append(i ? ', ' : '',
        el('a', { href: '/themes/' + encodeURIComponent(th.slug) }, th.name)));
      dl.append(el('dt', {}, t('meta_themes')), dd);
    }
  }

  /* ---- staff: the record corrected in place (PATCH from its version) ---- */

  async function editForm() {
    if (!PRL.signedInBefore()) return;
    let me = null;
    try {
      const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) me = await r.json();
    } catch (err) { return; }
    if (!me || (me.role !== 'annotator' && me.role !== 'admin')) return;
    const field = (name, value, big) => {
      const id = 'cat-' + name;
      const input = big ? el('textarea', { id, name, rows: '3' }) : el('input', { id, name, type: 'text' });
      input.value = value || '';
      return el('p', {}, el('label', { for: id }, t('cat_' + name)), el('br'), input);
    };
    const status = el('p', { id: 'cat-status', role: 'status', 'aria-live': 'polite' });
    const form = el('form', { id: 'cat-form' },
      field('title', rec.title), field('date', rec.date), field('collection', rec.collection),
      field('place', rec.place ? rec.place.name : ''), field('variety', rec.variety),
      field('language', rec.language), field('collector', rec.collector), field('rights', rec.rights),
      field('description', rec.description, true), field('keywords', (rec.keywords || []).join(', ')),
      el('p', {}, el('button', { type: 'submit' }, t('cat_save'))), status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const v = (n) => form.elements[n].value.trim();
      const body = {
        version: rec.version, title: v('title'), date: v('date') || null, collection: v('collection'),
        variety: v('variety'), language: v('language'), collector: v('collector'), rights: v('rights'),
        description: v('description'),
        keywords: v('keywords') ? v('keywords').split(',').map((k) => k.trim()).filter(Boolean) : [],
      };
      // a place renamed here is another place record (same name: the same
      // one); its commune and coordinates are the place's own, edited there
      if (v('place') !== (rec.place ? rec.place.name : '')) {
        body.place = v('place') ? { name: v('place') } : null;
      }
      const r = await fetch('/api/recordings/' + rec.id, {
        method: 'PATCH', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify(body),
      });
      const answer = await r.json().catch(() => ({}));
      if (r.ok) {
        for (const k of ['version', 'title', 'date', 'collection', 'place', 'variety', 'language', 'collector',
          'rights', 'description', 'keywords']) rec[k] = answer[k];
        document.getElementById('rec-title').textContent = answer.title;
        $('meta').replaceChildren();
        renderMeta();
        status.textContent = t('cat_saved');
      } else {
        status.textContent = r.status === 409 ? t('cat_conflict') : (answer.error || String(r.status));
      }
    });
    const details = el('details', { id: 'cat-edit' }, el('summary', {}, t('cat_edit')), form);
    document.getElementById('meta').after(details);
    themesControl(me, details);
  }

  /* ---- staff: the recording's themes, a checkbox each; a change tags or
   * untags at once (POST /api/recordings/{id}/themes, DELETE .../{slug}) ---- */

  async function themesControl(me, details) {
    let list;
    try { list = (await getJSON('/api/themes')).themes || []; } catch (err) { return; }
    const status = el('p', { id: 'rt-status', role: 'status', 'aria-live': 'polite' });
    const has = new Set((rec.themes || []).map((x) => x.slug));
    const boxes = list.map((th) => {
      const cb = el('input', { type: 'checkbox', class: 'rt-theme', value: th.slug, checked: has.has(th.slug) });
      cb.addEventListener('change', async () => {
        const on = cb.checked;
        cb.disabled = true;
        const url = '/api/recordings/' + rec.id + '/themes' + (on ? '' : '/' + encodeURIComponent(th.slug));
        let r = null, answer = {};
        try {
          r = await fetch(url, {
            method: on ? 'POST' : 'DELETE', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': me.csrf_token },
            body: on ? JSON.stringify({ theme: th.slug }) : undefined,
          });
          answer = await r.json().catch(() => ({}));
        } catch (err) { /* offline: undone below */ }
        cb.disabled = false;
        if (!r || !r.ok) {
          cb.checked = !on;
          status.textContent = answer.error || t('th_offline');
          return;
        }
        const others = (rec.themes || []).filter((x) => x.slug !== th.slug);
        rec.themes = on ? [...others, { slug: th.slug, name: th.name }].sort((a, b) => a.name.localeCompare(b.name)) : others;
        $('meta').replaceChildren();
        renderMeta();
        status.textContent = t(on ? 'rt_tagged' : 'rt_untagged', { name: th.name });
      });
      return el('label', { class: 'rt-label' }, cb, ' ', th.name);
    });
    details.append(el('fieldset', { id: 'rec-themes' }, el('legend', {}, t('rt_legend')), ...boxes,
      el('p', {}, el('a', { href: '/themes' }, t('rt_manage'))), status));
  }

  renderMeta();
  editForm();
  if (!rec.can_listen) {
    $('restricted-note').hidden = false;
    return;
  }

  /* ---- transcript: rows of the main tier, other tiers aligned by time ---- */

  const tiers = Array.isArray(rec.tiers) ? rec.tiers : [];
  const main = tiers.find((x) => x.type === 'transcription' && !x.parent_id) ||
    tiers.find((x) => !x.parent_id) || tiers[0];
  const others = tiers.filter((x) => x !== main && x.segments && x.segments.some((s) => s.text))
    .sort((a, b) => (a.type === 'translation' ? 0 : 1) - (b.type === 'translation' ? 0 : 1));
  const rows = main ? main.segments.filter((s) => s.text && s.text.trim())
    .map((s) => ({ seg: s, start: s.start_ms, end: Math.max(s.end_ms, s.start_ms), cells: others.map(() => []) }))
    .sort((a, b) => a.start - b.start) : [];

  // A child's segment goes to the row of its parent; anything else to the
  // row it overlaps most (a point to the row that contains it).
  const rowById = new Map(rows.map((r, i) => [r.seg.id, i]));
  others.forEach((tier, col) => {
    for (const s of tier.segments) {
      if (!s.text || !s.text.trim()) continue;
      let at = s.parent_id && rowById.has(s.parent_id) ? rowById.get(s.parent_id) : -1;
      if (at < 0) {
        let best = 0;
        rows.forEach((r, i) => {
          const ov = s.end_ms > s.start_ms
            ? Math.min(r.end, s.end_ms) - Math.max(r.start, s.start_ms)
            : (s.start_ms >= r.start && s.start_ms < r.end ? 1 : 0);
          if (ov > best) { best = ov; at = i; }
        });
      }
      if (at >= 0) rows[at].cells[col].push(s.text);
    }
  });

  // A segment's themes, a link each to the theme's page (named by its slug
  // until nameSegThemes() has the names), or null.
  function segThemes(seg) {
    if (!Array.isArray(seg.themes) || !seg.themes.length) return null;
    return el('ul', { class: 'seg-themes', 'aria-label': t('seg_themes') }, ...seg.themes.map((slug) =>
      el('li', {}, el('a', { href: '/themes/' + encodeURIComponent(slug), dataset: { slug } }, slug))));
  }
  // The themes' names, read once and only when a segment has a theme.
  async function nameSegThemes() {
    const links = list.querySelectorAll('.seg-themes a');
    if (!links.length) return;
    let names;
    try { names = new Map(((await getJSON('/api/themes')).themes || []).map((x) => [x.slug, x.name])); } catch (err) { return; }
    for (const a of links) if (names.has(a.dataset.slug)) a.textContent = names.get(a.dataset.slug);
  }

  function tierLabel(tier) {
    if (tier.type === 'transcription') return t('tier_transcription') + (tier.language ? ' (' + tier.language + ')' : '');
    if (tier.type === 'translation') return t('tier_translation') + (tier.language ? ' (' + tier.language + ')' : '');
    return tier.name;
  }

  const area = $('transcript-area');
  area.hidden = false;
  if (!rows.length) {
    list.replaceWith(el('p', { id: 'transcript' }, t('transcript_none')));
  } else {
    const cols = 1 + others.length;
    area.style.setProperty('--cols', String(cols));
    $('tier-heads').append(el('span'), el('span', {}, tierLabel(main)),
      ...others.map((x) => el('span', {}, tierLabel(x))));
    // a tier a tool made and no one has reviewed yet says so
    const machine = [main, ...others].filter((x) => x.origin === 'machine');
    if (machine.length) {
      const all = machine.length === 1 + others.length;
      $('tier-heads').before(el('p', { id: 'machine-note', class: 'machine-note', role: 'note' },
        all ? t('machine_note') : t('machine_note_tiers', { tiers: machine.map(tierLabel).join(', ') })));
    }
    rows.forEach((r, i) => {
      const time = clock(r.start, false);
      r.li = el('li', { class: 'seg', id: 'seg-' + r.seg.id, dataset: { i: String(i) } },
        el('button', { type: 'button', class: 't', 'aria-label': t('play_from', { time }) }, time),
        el('p', { class: 'tx main', lang: main.language || null }, r.seg.text),
        ...r.cells.map((c, k) => el('p', { class: 'tx other', lang: others[k].language || null }, c.join(' '))),
        segThemes(r.seg));
      list.append(r.li);
    });
    nameSegThemes();
  }

  /* ---- the player ---- */

  $('player').hidden = false;
  // the API names the bytes this visitor gets (?v=), which the browser
  // keeps; the plain URL is asked again each time
  const media = rec.media || {};
  audio.prepend(
    el('source', { src: media.opus || '/media/' + rec.id + '.opus', type: 'audio/ogg; codecs=opus' }),
    el('source', { src: media.mp3 || '/media/' + rec.id + '.mp3', type: 'audio/mpeg' }));
  audio.load();

  const durationMs = () => (Number.isFinite(audio.duration) && audio.duration > 0
    ? audio.duration * 1000 : (rec.duration_ms || 0));
  const nowMs = () => audio.currentTime * 1000;

  let loopRow = -1;      // the row played again and again, or -1
  let stopAtMs = -1;     // end of a #t= span, or -1
  let current = -1;      // the highlighted row
  let pendingStartMs = -1; // a #t= start waiting for the metadata

  // The row whose span holds ms (binary search on starts), or -1.
  function rowAt(ms) {
    let lo = 0, hi = rows.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].start <= ms) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && ms < rows[found].end ? found : -1;
  }

  // The row to go to from ms for "previous" and "next".
  function neighbour(ms, dir) {
    if (!rows.length) return -1;
    if (dir > 0) {
      const i = rows.findIndex((r) => r.start > ms + 50);
      return i;
    }
    const here = rowAt(ms);
    // within the first second of a sentence, "previous" goes one back
    if (here >= 0 && ms - rows[here].start > 1000) return here;
    let i = -1;
    for (let k = 0; k < rows.length; k++) if (rows[k].start < ms - 50 && k !== here) i = k;
    return i;
  }

  function seekMs(ms) {
    const d = durationMs();
    ms = Math.max(0, d ? Math.min(ms, d - 1) : ms);
    audio.currentTime = ms / 1000;
    update();
  }

  function playRow(i) {
    if (i < 0 || i >= rows.length) return;
    if (loopRow >= 0 && loopRow !== i) setLoop(i);
    stopAtMs = -1;
    seekMs(rows[i].start);
    audio.play().catch(() => {});
  }

  /* ---- keeping the current sentence in view, politely ---- */

  let userScrollUntil = 0;
  let ownScrollUntil = 0;
  const note = $('autoscroll');

  function userScrolled() {
    userScrollUntil = performance.now() + AUTOSCROLL_PAUSE_MS;
    if (!audio.paused) note.textContent = t('autoscroll_paused');
  }
  list.addEventListener('wheel', userScrolled, { passive: true });
  list.addEventListener('touchmove', userScrolled, { passive: true });
  list.addEventListener('scroll', () => {
    if (performance.now() > ownScrollUntil) userScrolled();
  }, { passive: true });

  // Scrolls the transcript box (and only it) so that row i is in its upper third.
  function keepInView(i) {
    if (performance.now() < userScrollUntil) return;
    if (note.textContent) note.textContent = '';
    const li = rows[i].li;
    const top = li.offsetTop;
    const bottom = top + li.offsetHeight;
    if (top >= list.scrollTop && bottom <= list.scrollTop + list.clientHeight) return;
    const target = Math.max(0, top - list.clientHeight / 3);
    ownScrollUntil = performance.now() + 1000;
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    list.scrollTo({ top: target, behavior: reduce ? 'auto' : 'smooth' });
  }

  function highlight(i) {
    if (i === current) return;
    if (current >= 0 && rows[current]) {
      rows[current].li.classList.remove('current');
      rows[current].li.removeAttribute('aria-current');
    }
    current = i;
    if (i >= 0) {
      rows[i].li.classList.add('current');
      rows[i].li.setAttribute('aria-current', 'true');
      keepInView(i);
    }
  }

  /* ---- waveform ---- */

  let peaks = null; // {data: [min,max,...], length, bits}
  let region = null; // [startMs, endMs] drawn as a band (loop or #t= span)

  function drawWave() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(wave.clientWidth * dpr));
    const h = Math.max(1, Math.round(wave.clientHeight * dpr));
    if (wave.width !== w || wave.height !== h) { wave.width = w; wave.height = h; }
    const g = wave.getContext('2d');
    const d = durationMs();
    const pos = d ? Math.min(1, nowMs() / d) : 0;
    const css = getComputedStyle(document.documentElement);
    g.clearRect(0, 0, w, h);
    if (region && d) {
      g.fillStyle = css.getPropertyValue('--mark').trim() || '#fff0b8';
      const x0 = (region[0] / d) * w, x1 = (region[1] / d) * w;
      g.fillRect(x0, 0, Math.max(2, x1 - x0), h);
    }
    const mid = h / 2;
    if (peaks && peaks.length) {
      const full = (1 << ((peaks.bits || 16) - 1));
      const n = peaks.length;
      const unplayed = css.getPropertyValue('--wave').trim() || '#9bb5bf';
      const played = css.getPropertyValue('--wave-played').trim() || '#1d4e5f';
      for (let x = 0; x < w; x++) {
        const a = Math.floor((x / w) * n);
        const b = Math.max(a + 1, Math.floor(((x + 1) / w) * n));
        let lo = 0, hi = 0;
        for (let k = a; k < b && k < n; k++) {
          const mn = peaks.data[2 * k], mx = peaks.data[2 * k + 1];
          if (mn < lo) lo = mn;
          if (mx > hi) hi = mx;
        }
        const y0 = mid - (hi / full) * mid * 0.95;
        const y1 = mid - (lo / full) * mid * 0.95;
        g.fillStyle = x / w <= pos ? played : unplayed;
        g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
      }
    } else {
      g.fillStyle = css.getPropertyValue('--wave').trim() || '#9bb5bf';
      g.fillRect(0, mid - 1, w, 2);
    }
    g.fillStyle = css.getPropertyValue('--focus').trim() || '#b3411b';
    g.fillRect(Math.min(w - 2 * dpr, pos * w), 0, 2 * dpr, h);
    wave.setAttribute('aria-valuemax', String(Math.round(d / 1000)));
    wave.setAttribute('aria-valuenow', String(Math.round(nowMs() / 1000)));
    wave.setAttribute('aria-valuetext', clock(nowMs()) + ' / ' + clock(d));
  }

  async function loadPeaks() {
    // the finest level that still fits a few thousand pixels
    const rate = rec.sample_rate || 44100;
    const frames = ((rec.duration_ms || 0) / 1000) * rate;
    let level = 0;
    for (const spp of [256, 1024, 4096]) {
      if (frames / spp <= 8000) break;
      level++;
    }
    try {
      peaks = await getJSON('/api/recordings/' + rec.id + '/peaks.json?level=' + Math.min(level, 2));
    } catch (err) {
      peaks = null;
    }
    drawWave();
  }

  function waveSeek(ev) {
    const r = wave.getBoundingClientRect();
    const x = Math.min(Math.max(0, ev.clientX - r.left), r.width);
    stopAtMs = -1;
    seekMs((x / r.width) * durationMs());
  }
  wave.addEventListener('click', waveSeek);
  if (window.ResizeObserver) new ResizeObserver(() => drawWave()).observe(wave);
  else window.addEventListener('resize', drawWave);

  /* ---- following the sound ---- */

  function update() {
    const ms = nowMs();
    if (stopAtMs >= 0 && ms >= stopAtMs) {
      audio.pause();
      stopAtMs = -1;
    }
    if (loopRow >= 0 && !audio.paused && ms >= rows[loopRow].end) {
      audio.currentTime = rows[loopRow].start / 1000;
    }
    highlight(rowAt(audio.currentTime * 1000));
    drawWave();
    $('play').textContent = audio.paused ? t('play') : t('pause');
  }

  let raf = 0;
  function tick() {
    update();
    raf = audio.paused ? 0 : requestAnimationFrame(tick);
  }
  audio.addEventListener('play', () => { if (!raf) raf = requestAnimationFrame(tick); update(); });
  audio.addEventListener('pause', update);
  audio.addEventListener('seeked', update);
  audio.addEventListener('timeupdate', () => { if (!raf) update(); });
  audio.addEventListener('loadedmetadata', () => {
    if (pendingStartMs >= 0) {
      audio.currentTime = pendingStartMs / 1000;
      pendingStartMs = -1;
    }
    update();
  });

  /* ---- controls ---- */

  function togglePlay() {
    if (audio.paused) audio.play().catch(() => {});
    else audio.pause();
  }

  function setLoop(i) {
    if (loopRow >= 0 && rows[loopRow]) rows[loopRow].li.classList.remove('looping');
    loopRow = i;
    const on = i >= 0;
    $('loop').setAttribute('aria-pressed', on ? 'true' : 'false');
    if (on) {
      rows[i].li.classList.add('looping');
      region = [rows[i].start, rows[i].end];
    } else {
      region = null;
    }
    drawWave();
  }

  function toggleLoop() {
    if (loopRow >= 0) { setLoop(-1); return; }
    let i = rowAt(nowMs());
    if (i < 0) i = neighbour(nowMs(), 1);
    if (i < 0 && rows.length) i = rows.length - 1;
    if (i >= 0) {
      setLoop(i);
      if (rowAt(nowMs()) !== i) seekMs(rows[i].start);
    }
  }

  list.addEventListener('click', (ev) => {
    const li = ev.target.closest('li.seg');
    if (!li || ev.target.closest('a')) return;
    // selecting text to copy it is not a request to jump
    const sel = window.getSelection && window.getSelection();
    if (sel && String(sel).length && ev.target.tagName !== 'BUTTON') return;
    playRow(Number(li.dataset.i));
  });

  $('play').addEventListener('click', togglePlay);
  $('prev-seg').addEventListener('click', () => playRow(neighbour(nowMs(), -1)));
  $('next-seg').addEventListener('click', () => playRow(neighbour(nowMs(), 1)));
  $('loop').addEventListener('click', toggleLoop);

  /* ---- share this moment (Media Fragments, #t=start,end in seconds) ---- */

  const secs = (ms) => String(Math.round(ms / 100) / 10);

  function shareUrl() {
    const ms = nowMs();
    const i = loopRow >= 0 ? loopRow : rowAt(ms);
    const frag = i >= 0 ? 't=' + secs(rows[i].start) + ',' + secs(rows[i].end) : 't=' + secs(ms);
    return location.origin + '/recordings/' + rec.id + '#' + frag;
  }

  $('share').addEventListener('click', () => {
    const box = $('share-box');
    const open = box.hidden;
    box.hidden = !open;
    $('share').setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      $('share-url').value = shareUrl();
      $('copied').textContent = '';
      $('share-url').focus();
      $('share-url').select();
    }
  });
  $('copy').addEventListener('click', async () => {
    const input = $('share-url');
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (err) {
      input.select();
      document.execCommand && document.execCommand('copy');
    }
    $('copied').textContent = t('copied');
  });

  /* ---- embed: the <iframe> a museum pastes (public recordings only) ---- */

  function embedCode() {
    const ms = nowMs();
    const i = loopRow >= 0 ? loopRow : rowAt(ms);
    const q = [];
    if (i >= 0) q.push('t=' + secs(rows[i].start) + ',' + secs(rows[i].end));
    if ($('embed-text').checked) q.push('transcript=1');
    const src = location.origin + '/embed/' + rec.id + (q.length ? '?' + q.join('&') : '');
    const attr = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    return '<iframe src="' + attr(src) + '" width="480" height="' + ($('embed-text').checked ? 300 : 168) +
      '" title="' + attr(rec.title) + '" loading="lazy" style="border:0"></iframe>';
  }

  if (rec.access === 'public' && rec.can_listen) {
    $('embed').hidden = false;
    $('embed').addEventListener('click', () => {
      const box = $('embed-box');
      const open = box.hidden;
      box.hidden = !open;
      $('embed').setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) {
        $('embed-code').value = embedCode();
        $('embed-code').focus();
        $('embed-code').select();
      }
    });
    $('embed-text').addEventListener('change', () => { $('embed-code').value = embedCode(); });
  }

  // "t=10", "t=10,20", "t=,20", "t=npt:1:02.5,1:10" -> [startMs, endMs|-1]
  function parseFragment(hash) {
    const m = /(?:^#|&)t=(?:npt:)?([0-9:.]*)(?:,([0-9:.]+))?/.exec(hash || '');
    if (!m) return null;
    const toMs = (s) => {
      if (!s) return NaN;
      const parts = s.split(':').map(Number);
      if (parts.some((x) => !Number.isFinite(x)) || parts.length > 3) return NaN;
      return Math.round(parts.reduce((acc, x) => acc * 60 + x, 0) * 1000);
    };
    const a = m[1] ? toMs(m[1]) : 0;
    const b = m[2] ? toMs(m[2]) : -1;
    if (!Number.isFinite(a) || (m[2] && !Number.isFinite(b)) || (b >= 0 && b <= a)) return null;
    return [a, b];
  }

  function applyFragment() {
    const f = parseFragment(location.hash);
    if (!f) return;
    const [a, b] = f;
    pendingStartMs = audio.readyState >= 1 ? -1 : a;
    audio.currentTime = a / 1000;
    stopAtMs = b;
    region = b >= 0 ? [a, b] : null;
    const noteBox = $('fragment-note');
    $('fragment-text').textContent = b >= 0
      ? t('fragment_note', { start: clock(a, true), end: clock(b, true) })
      : t('play_from', { time: clock(a, true) });
    noteBox.hidden = false;
    const i = rowAt(a);
    if (i >= 0) highlight(i);
    drawWave();
  }
  $('fragment-play').addEventListener('click', () => {
    const f = parseFragment(location.hash);
    if (f) {
      seekMs(f[0]);
      stopAtMs = f[1];
    }
    audio.play().catch(() => {});
  });
  window.addEventListener('hashchange', applyFragment);

  /* ---- keyboard ---- */

  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tgt = ev.target;
    const tag = tgt && tgt.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (tgt && tgt.isContentEditable)) return;
    // the browser's own audio controls keep their keys
    if (tgt === audio) return;
    const onControl = tag === 'BUTTON' || tag === 'A';
    switch (ev.key) {
      case ' ':
      case 'Spacebar':
        if (onControl) return; // Space presses the focused button
        ev.preventDefault();
        togglePlay();
        break;
      case 'ArrowLeft':
        ev.preventDefault();
        stopAtMs = -1;
        seekMs(nowMs() - SEEK_STEP * 1000);
        break;
      case 'ArrowRight':
        ev.preventDefault();
        stopAtMs = -1;
        seekMs(nowMs() + SEEK_STEP * 1000);
        break;
      case 'ArrowUp':
        ev.preventDefault();
        playRow(neighbour(nowMs(), -1));
        break;
      case 'ArrowDown':
        ev.preventDefault();
        playRow(neighbour(nowMs(), 1));
        break;
      case 'Home':
        if (tgt !== wave) return;
        ev.preventDefault();
        seekMs(0);
        break;
      case 'End':
        if (tgt !== wave) return;
        ev.preventDefault();
        seekMs(durationMs());
        break;
      case 'b':
      case 'B':
        toggleLoop();
        break;
      default:
    }
  });

  /* ---- downloads ---- */

  const dl = $('downloads');
  for (const [ext, label] of [['eaf', 'ELAN (.eaf)'], ['TextGrid', 'Praat (.TextGrid)'], ['vtt', 'WebVTT'], ['srt', 'SRT'], ['csv', 'CSV'], ['tei', 'TEI']]) {
    dl.append(el('li', {}, el('a', { class: 'button secondary', href: '/api/recordings/' + rec.id + '/annotations.' + ext, download: '' }, label)));
  }
  $('downloads-box').hidden = !tiers.length;

  // for tests and for whoever wants to script the page
  window.parlers = { rows: rows.map((r) => ({ id: r.seg.id, start: r.start, end: r.end })), current: () => current, audio };

  applyFragment();
  update();
  loadPeaks();
})();
