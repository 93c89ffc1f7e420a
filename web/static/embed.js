// SPDX-License-Identifier: GPL-3.0-or-later
// The embeddable player: one recording (or one span of it, ?t=START,END)
// in a frame on another site.  Plays only that span, draws its waveform
// from the stored peaks, highlights the segment being heard, and links
// back to the recording's page.  Everything it shows came with the page
// (public material only); it asks the server for the peaks alone, without
// cookies.  Text goes into the page as text, never as markup.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const root = $('embed');
  const rec = JSON.parse($('embed-data').textContent);
  const audio = $('audio'), wave = $('wave'), play = $('play');
  const t0 = rec.t[0] / 1000, t1 = rec.t[1] / 1000;
  const tl = rec.translation || [];
  const segs = (rec.transcript || []).map((s) => ({
    s: s.s / 1000, e: s.e / 1000, text: s.text,
    tr: tl.filter((x) => x.s < s.e && x.e > s.s).map((x) => x.text).join(' '),
  }));
  let peaks = null, current = -1;

  const clock = (t) => {
    t = Math.max(0, Math.floor(t));
    const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(s).padStart(2, '0');
  };

  /* ---- what the recording is and where it comes from ---- */
  const page = '/recordings/' + rec.id + (rec.t[0] > 0 || rec.t[1] < rec.duration_ms
    ? '#t=' + t0 + ',' + t1 : '');
  $('title').href = page;
  $('back').href = page;
  $('where').textContent = [rec.place, rec.date].filter(Boolean).join(' · ');
  $('credit').textContent = [rec.institution && rec.institution.name, rec.collector,
    rec.rights].filter(Boolean).join(' · ');

  /* ---- the audio: Opus where the browser plays it, else MP3 ---- */
  const media = rec.media || {};
  const opus = media.opus && audio.canPlayType('audio/ogg; codecs=opus');
  audio.src = (opus ? media.opus : media.mp3 || media.opus) + '#t=' + t0 + ',' + t1;
  audio.addEventListener('loadedmetadata', () => { play.disabled = false; });
  play.disabled = !audio.src;

  const setPlaying = (on) => {
    play.classList.toggle('playing', on);
    play.setAttribute('aria-label', on ? root.dataset.pause : root.dataset.play);
  };
  play.addEventListener('click', () => {
    if (audio.paused) {
      if (audio.currentTime < t0 || audio.currentTime >= t1 - 0.05) audio.currentTime = t0;
      audio.play();
    } else {
      audio.pause();
    }
  });
  audio.addEventListener('play', () => setPlaying(true));
  audio.addEventListener('pause', () => setPlaying(false));

  /* ---- the transcript of the span ---- */
  const list = $('transcript');
  if (segs.length) {
    list.hidden = false;
    $('machine-note').hidden = !rec.machine;
    document.body.classList.add('with-text');
    segs.forEach((g, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      const tx = document.createElement('span');
      tx.className = 'e-text';
      tx.textContent = g.text;
      b.appendChild(tx);
      if (g.tr) {
        const tl = document.createElement('span');
        tl.className = 'e-tr';
        tl.textContent = g.tr;
        b.appendChild(tl);
      }
      b.addEventListener('click', () => { audio.currentTime = Math.max(g.s, t0); audio.play(); });
      li.appendChild(b);
      li.dataset.i = i;
      list.appendChild(li);
    });
  }
  const follow = (t) => {
    let k = -1;
    for (let i = 0; i < segs.length; i++) if (t >= segs[i].s && t < segs[i].e) { k = i; break; }
    if (k === current) return;
    if (current >= 0) list.children[current].classList.remove('now');
    current = k;
    if (k >= 0) {
      const li = list.children[k];
      li.classList.add('now');
      list.scrollTop = li.offsetTop - list.offsetTop - list.clientHeight / 3;
    }
  };

  /* ---- the waveform of the span, the position on it ---- */
  const draw = () => {
    const dpr = window.devicePixelRatio || 1;
    const w = wave.clientWidth, h = wave.clientHeight;
    if (wave.width !== Math.round(w * dpr)) { wave.width = Math.round(w * dpr); wave.height = Math.round(h * dpr); }
    const g = wave.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const at = (audio.currentTime - t0) / (t1 - t0);
    const style = getComputedStyle(wave);
    for (let x = 0; x < w; x++) {
      let v = 0.04;
      if (peaks) {
        const pps = peaks.sample_rate / peaks.samples_per_pixel;
        const a = Math.floor((t0 + (t1 - t0) * x / w) * pps);
        const b = Math.max(a + 1, Math.floor((t0 + (t1 - t0) * (x + 1) / w) * pps));
        const full = 1 << ((peaks.bits || 16) - 1);
        for (let k = a; k < b && k < peaks.length; k++)
          v = Math.max(v, Math.abs(peaks.data[2 * k]) / full, Math.abs(peaks.data[2 * k + 1]) / full);
      }
      g.fillStyle = x / w < at ? style.color : style.getPropertyValue('--rest');
      const bar = Math.max(1, v * (h - 2));
      g.fillRect(x, (h - bar) / 2, 1, bar);
    }
    wave.setAttribute('aria-valuenow', String(Math.round(audio.currentTime - t0)));
    wave.setAttribute('aria-valuetext', clock(audio.currentTime - t0) + ' / ' + clock(t1 - t0));
  };
  wave.setAttribute('aria-valuemax', String(Math.round(t1 - t0)));
  const seekTo = (frac) => { audio.currentTime = t0 + Math.min(1, Math.max(0, frac)) * (t1 - t0); };
  wave.addEventListener('click', (ev) => {
    const r = wave.getBoundingClientRect();
    seekTo((ev.clientX - r.left) / r.width);
  });
  wave.addEventListener('keydown', (ev) => {
    const step = { ArrowLeft: -5, ArrowRight: 5, Home: -Infinity, End: Infinity }[ev.key];
    if (ev.key === ' ' || ev.key === 'Enter') { ev.preventDefault(); play.click(); return; }
    if (step === undefined) return;
    ev.preventDefault();
    audio.currentTime = Math.min(t1, Math.max(t0, audio.currentTime + step));
  });

  const tick = () => {
    const t = audio.currentTime;
    if (t >= t1 && !audio.paused) { audio.pause(); audio.currentTime = t1; }
    $('time').textContent = clock(t - t0) + ' / ' + clock(t1 - t0);
    follow(t);
    draw();
  };
  audio.addEventListener('timeupdate', tick);
  audio.addEventListener('seeked', tick);
  window.addEventListener('resize', draw);
  tick();
  fetch('/api/recordings/' + rec.id + '/peaks.json', { credentials: 'omit' })
    .then((r) => (r.ok ? r.json() : null))
    .then((p) => { peaks = p; draw(); })
    .catch(() => {});
})();
