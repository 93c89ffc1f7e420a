// SPDX-License-Identifier: GPL-3.0-or-later
// The recording page's part for contributors: who helped transcribe it
// (their credit names, linked to their pages), and, once signed in, a form
// to propose a text for a segment (an untranscribed one, a correction, a
// translation) or a note (I recognise this speaker, this place), with the
// status of one's own proposals and any message staff left.  Nothing here
// changes the transcript: staff review every proposal first.  Text from
// the archive reaches the page as text only.
'use strict';

(() => {
  const { t, el, pageData, clock } = PRL;
  const rec = pageData('rec-data');
  if (!rec || !rec.id) return;
  const transcript = document.getElementById('transcript-area');
  const host = transcript ? transcript.parentNode : document.getElementById('main');

  async function credit() {
    // who wrote a transcript is for whoever may read it
    if (!rec.tiers || !rec.tiers.length) return;
    let d;
    try { d = await PRL.getJSON('/api/recordings/' + rec.id + '/contributors'); } catch (e) { return; }
    if (!d.contributors.length) return;
    const p = el('p', { class: 'credit', id: 'rec-contributors' }, t('pr_credit') + ' ');
    d.contributors.forEach((c, i) => {
      if (i) p.append(', ');
      p.append(el('a', { href: '/contributors/' + encodeURIComponent(c.login) }, c.name));
    });
    host.append(p);
  }

  // how far the transcript has come, as the visitor hears it
  function progress() {
    if (!rec.progress || !rec.progress.duration_ms) return;
    host.append(PRL.progress(rec.progress, 'rec-progress'));
  }

  // a visitor: where to go to help (the help list links here, #propose)
  function invite() {
    const tiers = (rec.tiers || []).filter((x) => x.segments && x.segments.length);
    if (!tiers.length) return;
    host.append(el('section', { class: 'propose', id: 'propose', 'aria-labelledby': 'pr-h' },
      el('h2', { id: 'pr-h' }, t('pr_title')),
      el('p', { id: 'pr-invite' }, t('pr_signin_to_help'), ' ',
        el('a', { href: '/login?next=' + encodeURIComponent(location.pathname + '#propose') }, t('nav_signin')), ' · ',
        el('a', { href: '/signup' }, t('pr_open_account')))));
  }

  async function me() {
    if (!PRL.signedInBefore()) return null;
    try {
      const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      return r.ok ? r.json() : null;
    } catch (e) { return null; }
  }

  async function mine(list) {
    let d;
    try { d = await PRL.getJSON('/api/proposals?mine=1&recording=' + rec.id + '&limit=500'); } catch (e) { return; }
    list.replaceChildren(...d.proposals.map((p) => el('li', { id: 'mine-' + p.id },
      el('span', { class: 'kind' }, clock(p.start_ms) + ' · ' + t('pr_kind_' + p.kind) + ' · '),
      el('strong', { class: 'status-' + p.status }, t('pr_status_' + p.status)), ' ',
      el('span', {}, p.text),
      p.message ? el('p', { class: 'hint' }, t('pr_message', { message: p.message })) : null)));
  }

  async function form(who) {
    if (!who) { invite(); return; }
    if (who.role === 'annotator' || who.role === 'admin') return; // staff edit directly
    const tiers = (rec.tiers || []).filter((x) => x.segments && x.segments.length);
    if (!tiers.length) return;
    const select = el('select', { id: 'pr-segment' });
    for (const tier of tiers) {
      const g = el('optgroup', { label: tier.name });
      for (const s of tier.segments) {
        const text = s.text && s.text.trim() ? s.text.slice(0, 60) : t('pr_untranscribed');
        g.append(el('option', { value: String(s.id) }, clock(s.start_ms) + ' — ' + text));
      }
      select.append(g);
    }
    const text = el('textarea', { id: 'pr-text', rows: '3', maxlength: '4096' });
    const note = el('input', { id: 'pr-note', type: 'checkbox' });
    const status = el('p', { id: 'pr-status', role: 'status' });
    const list = el('ol', { id: 'pr-mine', class: 'mine' });
    const send = el('button', { type: 'submit', id: 'pr-send' }, t('pr_send'));
    const f = el('form', { id: 'pr-form' },
      el('label', { for: 'pr-segment' }, t('pr_segment')), select,
      el('label', { for: 'pr-text' }, t('pr_text')), text,
      el('label', { class: 'check' }, note, ' ', t('pr_note')), status, send);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      status.textContent = '';
      const body = { text: text.value };
      if (note.checked) body.kind = 'note';
      send.disabled = true;
      try {
        const r = await fetch('/api/segments/' + select.value + '/proposals', {
          method: 'POST', credentials: 'same-origin', cache: 'no-store',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': who.csrf_token },
          body: JSON.stringify(body),
        });
        let d = null;
        try { d = await r.json(); } catch (e) { /* not JSON */ }
        if (r.status === 201) {
          status.textContent = t('pr_sent');
          text.value = '';
          mine(list);
        } else {
          status.textContent = (d && d.error) || t('ed_login_failed');
        }
      } catch (e) {
        status.textContent = t('ed_login_offline');
      } finally {
        send.disabled = false;
      }
    });
    host.append(el('section', { class: 'propose', id: 'propose', 'aria-labelledby': 'pr-h' },
      el('h2', { id: 'pr-h' }, t('pr_title')), el('p', {}, t('pr_intro')), f,
      el('h3', {}, t('pr_mine')), list));
    mine(list);
    // a segment of the transcript picked by a double click
    document.addEventListener('dblclick', (ev) => {
      const li = ev.target.closest && ev.target.closest('li.seg');
      if (li && li.id.startsWith('seg-')) { select.value = li.id.slice(4); text.focus(); }
    });
  }

  progress();
  credit();
  me().then(form).then(() => {
    if (location.hash === '#propose' && document.getElementById('propose')) document.getElementById('propose').scrollIntoView();
  });
})();
