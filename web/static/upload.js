// SPDX-License-Identifier: GPL-3.0-or-later
// The upload page for staff: files dropped (or chosen) are grouped by
// name, an audio file with its sidecars (NAME.json for the metadata,
// NAME.eaf / .TextGrid / .vtt / .srt for the annotations); each recording
// gets a card with its metadata form, a progress bar, pause and resume.
// The bytes go over tus 1.0 (tus-js-client, served by parlers) in chunks;
// the client keeps each upload's URL in localStorage under the file's
// fingerprint, so the same file dropped again after a reload or a lost
// connection resumes where the server says it stopped.  A complete upload
// is ingested as a job; the jobs started from this browser are listed with
// their result.  Text from files and the archive reaches the page as text.
'use strict';

(() => {
  const { t, el } = PRL;
  const $ = (id) => document.getElementById(id);
  const SIDECARS = ['json', 'eaf', 'textgrid', 'vtt', 'srt'];
  const CHUNK = 8 * 1024 * 1024;
  const JOBS_KEY = 'parlers-upload-jobs';
  let me = null;
  const items = new Map(); // stem -> item

  function extOf(name) {
    const i = name.lastIndexOf('.');
    return i > 0 ? name.slice(i + 1).toLowerCase() : '';
  }
  function stemOf(name) {
    const i = name.lastIndexOf('.');
    return i > 0 ? name.slice(0, i) : name;
  }
  function pct(done, total) {
    return total ? Math.floor((done * 100) / total) : 100;
  }

  function item(stem) {
    if (!items.has(stem)) {
      items.set(stem, { stem, audio: null, json: null, jsonName: '', annot: null, uploads: {}, state: 'new' });
    }
    return items.get(stem);
  }

  async function addFiles(list) {
    for (const f of list) {
      const ext = extOf(f.name);
      const it = item(stemOf(f.name));
      if (ext === 'json') {
        try {
          it.json = JSON.parse(await f.text());
          it.jsonName = f.name;
        } catch (err) {
          it.jsonError = t('up_bad_json', { name: f.name });
        }
      } else if (SIDECARS.includes(ext)) {
        it.annot = f;
      } else {
        it.audio = f;
      }
    }
    render();
  }

  function field(it, key, label, value) {
    const input = el('input', { name: key, value: value == null ? '' : String(value) });
    input.addEventListener('input', () => { it.form[key] = input.value; });
    it.form[key] = input.value;
    return el('label', {}, label, input);
  }

  function card(it) {
    if (it.node) return it.node;
    const j = it.json || {};
    const place = typeof j.place === 'string' ? j.place : (j.place && j.place.name) || '';
    it.form = {};
    const bar = el('progress', { class: 'up-bar', max: '100', value: '0' });
    const state = el('p', { class: 'up-state', role: 'status' });
    const pause = el('button', { type: 'button', class: 'up-pause', disabled: '' }, t('up_pause'));
    const resume = el('button', { type: 'button', class: 'up-resume', disabled: '' }, t('up_resume'));
    pause.addEventListener('click', () => pauseItem(it));
    resume.addEventListener('click', () => startItem(it));
    const side = [];
    if (it.jsonName) side.push(it.jsonName);
    if (it.annot) side.push(it.annot.name);
    it.node = el('li', { class: 'up-item', 'data-stem': it.stem },
      el('h3', {}, it.audio.name),
      el('p', { class: 'up-side' }, side.length ? t('up_with', { files: side.join(', ') }) : t('up_no_sidecar')),
      el('div', { class: 'up-meta' },
        field(it, 'title', t('up_f_title'), j.title),
        field(it, 'date', t('up_f_date'), j.date),
        field(it, 'place', t('up_f_place'), place),
        field(it, 'collection', t('up_f_collection'), j.collection || $('up-collection').value)),
      bar, state, el('div', { class: 'up-buttons' }, pause, resume));
    it.bar = bar;
    it.stateNode = state;
    it.pauseBtn = pause;
    it.resumeBtn = resume;
    if (it.jsonError) say(it, it.jsonError, true);
    return it.node;
  }

  function render() {
    const list = $('up-list');
    for (const it of items.values()) {
      if (!it.audio) continue;
      if (!it.node) list.append(card(it));
    }
    $('up-start').disabled = ![...items.values()].some((it) => it.audio && it.state === 'new');
  }

  function say(it, text, error) {
    it.stateNode.textContent = text;
    it.stateNode.classList.toggle('error', !!error);
  }

  // One tus upload of file; resolves with its URL once every byte is in.
  function send(it, file, key, onProgress) {
    return new Promise((resolve, reject) => {
      const meta = { filename: file.name, filetype: file.type || '' };
      const coll = it.form.collection || $('up-collection').value;
      if (coll) meta.collection = coll;
      const up = new tus.Upload(file, {
        endpoint: location.origin + '/api/uploads',
        chunkSize: CHUNK,
        // past the server's idle timeout (30 s), after which a connection lost
        // without a word has ended and its bytes are counted
        retryDelays: [0, 1000, 3000, 5000, 10000, 15000, 20000],
        metadata: meta,
        headers: { 'X-CSRF-Token': me.csrf_token },
        removeFingerprintOnSuccess: true,
        onProgress,
        onSuccess: () => resolve(up.url),
        onError: (err) => reject(err),
        // a refusal (4xx but 409 and 423) is final: no retry
        onShouldRetry: (err) => {
          const s = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
          return !(s >= 400 && s < 500 && s !== 409 && s !== 423);
        },
      });
      it.uploads[key] = up;
      up.findPreviousUploads().then((prev) => {
        if (prev.length) {
          up.resumeFromPreviousUpload(prev[0]);
          it.resumed = true;
        }
        up.start();
      }).catch(() => up.start());
    });
  }

  function refusal(err) {
    const r = err && err.originalResponse;
    if (r) {
      try {
        const j = JSON.parse(r.getBody() || '{}');
        if (j.error) return j.error;
      } catch (e) { /* not JSON */ }
      return 'HTTP ' + r.getStatus();
    }
    return t('up_network');
  }

  function uid(url) {
    return url ? url.split('/').pop() : '';
  }

  async function startItem(it) {
    it.state = 'sending';
    it.pauseBtn.disabled = false;
    it.resumeBtn.disabled = true;
    if (it.uploads.audio) {
      // paused: take up the same uploads again
      for (const up of Object.values(it.uploads)) up.start();
      return;
    }
    say(it, t('up_sending'));
    try {
      const total = it.audio.size + (it.annot ? it.annot.size : 0);
      let annotDone = 0;
      if (it.annot) {
        it.annotUrl = await send(it, it.annot, 'annot', (d) => { annotDone = d; });
      }
      it.audioUrl = await send(it, it.audio, 'audio', (d) => {
        const p = pct(d + annotDone, total);
        it.bar.value = p;
        say(it, t(it.resumed ? 'up_resumed' : 'up_progress', { p }));
      });
    } catch (err) {
      it.state = 'failed';
      it.pauseBtn.disabled = true;
      say(it, t('up_failed', { why: refusal(err) }), true);
      return;
    }
    it.bar.value = 100;
    it.pauseBtn.disabled = true;
    await ingest(it);
  }

  function pauseItem(it) {
    for (const up of Object.values(it.uploads)) up.abort();
    it.state = 'paused';
    it.pauseBtn.disabled = true;
    it.resumeBtn.disabled = false;
    say(it, t('up_paused', { p: it.bar.value }));
  }

  async function ingest(it) {
    const body = Object.assign({}, it.json || {});
    for (const k of ['title', 'date', 'place', 'collection']) {
      const v = (it.form[k] || '').trim();
      if (v) body[k] = k === 'place' && body.place && typeof body.place === 'object' && body.place.name === v ? body.place : v;
      else delete body[k];
    }
    if (!body.access) body.access = $('up-access').value;
    if (it.annotUrl) body.annotations = Number(uid(it.annotUrl));
    say(it, t('up_ingesting'));
    let r;
    try {
      r = await fetch('/api/uploads/' + uid(it.audioUrl) + '/ingest', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify(body),
      });
    } catch (err) {
      say(it, t('up_network'), true);
      return;
    }
    const j = await r.json().catch(() => ({}));
    if (r.status !== 202) {
      it.state = 'failed';
      say(it, t('up_failed', { why: j.error || 'HTTP ' + r.status }), true);
      return;
    }
    it.state = 'ingesting';
    rememberJob(j.job, it.audio.name);
    const job = await follow(j.job);
    it.state = job.status;
    if (job.status === 'done') say(it, t('up_done'));
    else say(it, t('up_failed', { why: job.error || job.status }), true);
  }

  // ---- the jobs started from this browser ----

  function jobsKept() {
    try { return JSON.parse(localStorage.getItem(JOBS_KEY) || '[]'); } catch (err) { return []; }
  }
  function rememberJob(id, name) {
    const list = jobsKept().filter((x) => x.id !== id);
    list.unshift({ id, name });
    try { localStorage.setItem(JOBS_KEY, JSON.stringify(list.slice(0, 50))); } catch (err) { /* private mode */ }
    showJob({ id, name, status: 'queued' });
  }

  function showJob(job, name) {
    let li = document.querySelector('#up-jobs li[data-job="' + job.id + '"]');
    if (!li) {
      li = el('li', { 'data-job': String(job.id) });
      $('up-jobs').prepend(li);
    }
    if (name) li.dataset.name = name;
    if (job.name) li.dataset.name = job.name;
    const label = li.dataset.name || ('#' + job.id);
    const parts = [label, ' — ', t('up_job_' + job.status) || job.status];
    if (job.status === 'done' && job.recording_id) {
      parts.push(' ', el('a', { href: '/recordings/' + job.recording_id, class: 'up-rec' }, t('up_open', { id: job.recording_id })));
      if (job.result && job.result.status === 'duplicate') parts.push(' (' + t('up_duplicate') + ')');
    }
    if (job.status === 'failed' && job.error) parts.push(' : ', el('span', { class: 'up-why' }, job.error));
    if (job.status === 'running' && job.progress != null) parts.push(' ' + Math.round(job.progress * 100) + ' %');
    li.className = job.status;
    li.replaceChildren(...parts);
  }

  async function follow(id) {
    for (;;) {
      let job;
      try {
        job = await PRL.getJSON('/api/jobs/' + id);
      } catch (err) {
        if (err.status === 404) return { id, status: 'failed', error: t('up_job_gone') };
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      showJob(job);
      if (job.status !== 'queued' && job.status !== 'running') return job;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  // ---- the page ----

  async function init() {
    try {
      const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) me = await r.json();
    } catch (err) { /* offline */ }
    if (!me || (me.role !== 'annotator' && me.role !== 'admin')) {
      $('up-refused').textContent = t('up_staff_only');
      $('up-refused').hidden = false;
      return;
    }
    $('up-work').hidden = false;
    const drop = $('up-drop');
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      addFiles([...e.dataTransfer.files]);
    });
    drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('up-files').click(); });
    $('up-files').addEventListener('change', (e) => addFiles([...e.target.files]));
    $('up-start').addEventListener('click', () => {
      $('up-start').disabled = true;
      for (const it of items.values()) if (it.audio && it.state === 'new') startItem(it);
    });
    for (const j of jobsKept()) {
      showJob({ id: j.id, status: 'queued' }, j.name);
      follow(j.id);
    }
  }
  init();
})();
