// SPDX-License-Identifier: GPL-3.0-or-later
// The list of themes (/themes): each theme with its description and the
// number of recordings the viewer may hear under it, linking to its page.
// For staff signed in (annotators and admins: the server says so in the
// page's data) the controls that change the list, through the API: add a
// theme (POST /api/themes), edit its name, slug or description in place
// (PATCH /api/themes/{slug}; the link follows a new slug) and delete it
// (DELETE), after a confirmation in the page that says how many
// recordings and segments lose the tag.  An error is the API's own
// sentence.  Everything is a button, a form or a link: the keyboard does
// all of it, and focus goes where the work goes on.  Text from the
// archive only ever becomes text nodes.
'use strict';
(() => {
  const { t, el, pageData, getJSON } = PRL;
  const $ = (id) => document.getElementById(id);
  const data = pageData('themes-data') || {};
  const staff = !!data.staff;
  let themes = (data.list && data.list.themes) || [];
  let me = null;

  function status(msg, bad) {
    $('th-status').textContent = msg || '';
    $('th-status').classList.toggle('bad', !!bad);
  }

  const recordingsLabel = (n) => t(n === 1 ? 'inst_recordings_one' : 'inst_recordings_n', { n });
  const themeHref = (slug) => '/themes/' + encodeURIComponent(slug);

  // A slug suggested by a name: lowercase ASCII letters, digits, hyphens.
  function slugOf(name) {
    return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/['’]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  }

  async function send(method, url, body) {
    if (!me) {
      try { me = await getJSON('/api/me'); } catch (e) { me = null; }
    }
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (me && me.csrf_token) headers['X-CSRF-Token'] = me.csrf_token;
    let r;
    try {
      r = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { ok: false, status: 0, body: { error: t('th_offline') } };
    }
    let j = null;
    try { j = await r.json(); } catch (e) { /* no body */ }
    return { ok: r.ok, status: r.status, body: j || {} };
  }

  const failure = (r) => (r.body && r.body.error) || t('th_failed', { status: r.status });

  // The fields of a theme (for the add form and the edit form alike).
  function fields(prefix, theme) {
    const name = el('input', { id: prefix + '-name', class: 'th-f-name', maxlength: 200, required: true, autocomplete: 'off', value: theme.name || '' });
    const slug = el('input', { id: prefix + '-slug', class: 'th-f-slug', maxlength: 64, pattern: '[a-z0-9-]{1,64}', required: true, autocomplete: 'off', 'aria-describedby': prefix + '-slug-help', value: theme.slug || '' });
    const desc = el('textarea', { id: prefix + '-description', class: 'th-f-description', rows: 2, cols: 60, maxlength: 4000 }, theme.description || '');
    const box = el('div', { class: 'th-fields' },
      el('p', {}, el('label', { for: prefix + '-name' }, t('th_name')), name),
      el('p', {}, el('label', { for: prefix + '-slug' }, t('th_slug')), slug,
        el('span', { id: prefix + '-slug-help', class: 'help' }, t('th_slug_help_edit'))),
      el('p', { class: 'th-wide' }, el('label', { for: prefix + '-description' }, t('th_description')), desc));
    return { box, name, slug, desc };
  }

  function item(th) {
    const li = el('li', { class: 'card th-item', dataset: { slug: th.slug } });
    const body = el('div', { class: 'th-body' },
      el('h2', {}, el('a', { href: themeHref(th.slug) }, th.name)),
      th.description ? el('p', { class: 'th-description' }, th.description) : null,
      el('p', { class: 'n th-n' }, recordingsLabel(th.recordings || 0)));
    li.append(body);
    if (!staff) return li;
    const edit = el('button', { type: 'button', class: 'secondary th-edit-button', 'aria-label': t('th_edit_named', { name: th.name }) }, t('th_edit'));
    const del = el('button', { type: 'button', class: 'secondary th-delete-button', 'aria-label': t('th_delete_named', { name: th.name }) }, t('th_delete'));
    const actions = el('div', { class: 'th-actions' }, edit, del);
    li.append(actions);
    edit.addEventListener('click', () => editForm(li, th, body, actions, edit));
    del.addEventListener('click', () => confirmDelete(li, th, actions, del));
    return li;
  }

  function editForm(li, th, body, actions, opener) {
    const f = fields('th-edit-' + th.slug, th);
    const error = el('p', { class: 'th-error', role: 'alert' });
    const save = el('button', { type: 'submit', class: 'th-save' }, t('th_save'));
    const cancel = el('button', { type: 'button', class: 'secondary th-cancel' }, t('th_cancel'));
    const form = el('form', { class: 'th-edit', 'aria-label': t('th_edit_named', { name: th.name }), novalidate: true },
      f.box, error, el('p', { class: 'th-actions' }, save, cancel));
    body.hidden = true;
    actions.hidden = true;
    status('');
    li.append(form);
    f.name.focus();
    const close = () => {
      form.remove();
      body.hidden = false;
      actions.hidden = false;
      opener.focus();
    };
    cancel.addEventListener('click', close);
    form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const change = {};
      if (f.name.value !== th.name) change.name = f.name.value;
      if (f.slug.value !== th.slug) change.slug = f.slug.value;
      if (f.desc.value !== (th.description || '')) change.description = f.desc.value;
      if (!Object.keys(change).length) { close(); return; }
      save.disabled = true;
      const r = await send('PATCH', '/api/themes/' + encodeURIComponent(th.slug), change);
      save.disabled = false;
      if (!r.ok) {
        error.textContent = failure(r);
        (change.slug && r.status !== 403 ? f.slug : f.name).focus();
        return;
      }
      status(t('th_saved', { name: r.body.name || f.name.value }));
      await reload(r.body.slug || f.slug.value, '.th-edit-button');
    });
  }

  function confirmDelete(li, th, actions, opener) {
    if (li.querySelector('.th-confirm')) return;
    const tagged = th.tagged || { recordings: 0, segments: 0 };
    const yes = el('button', { type: 'button', class: 'danger th-confirm-delete' }, t('th_delete_yes'));
    const no = el('button', { type: 'button', class: 'secondary th-confirm-cancel' }, t('th_cancel'));
    const box = el('div', { class: 'th-confirm', role: 'alertdialog', 'aria-labelledby': 'th-confirm-q' },
      el('p', { id: 'th-confirm-q' }, t('th_delete_question', { name: th.name }) + ' ' +
        t('th_delete_loses', { r: tagged.recordings, s: tagged.segments })),
      el('p', { class: 'th-error', role: 'alert' }),
      el('p', { class: 'th-actions' }, yes, no));
    actions.hidden = true;
    status('');
    li.append(box);
    yes.focus();
    const close = () => { box.remove(); actions.hidden = false; opener.focus(); };
    no.addEventListener('click', close);
    box.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      const r = await send('DELETE', '/api/themes/' + encodeURIComponent(th.slug));
      yes.disabled = false;
      if (!r.ok) { box.querySelector('.th-error').textContent = failure(r); return; }
      status(t('th_deleted', { name: th.name }));
      await reload(null);
      $('th-status').focus();
    });
  }

  function render() {
    $('th-list').replaceChildren(...themes.map(item));
    $('th-none').hidden = themes.length > 0;
    $('th-count').textContent = themes.length ? t(themes.length === 1 ? 'th_count_one' : 'th_count_n', { n: themes.length }) : '';
  }

  // The list again from the API; focus on slug's button named by sel.
  async function reload(slug, sel) {
    try {
      const j = await getJSON('/api/themes');
      themes = j.themes || [];
    } catch (e) { /* the list shown stays */ }
    render();
    if (slug && sel) {
      const li = [...$('th-list').children].find((x) => x.dataset.slug === slug);
      const b = li && li.querySelector(sel);
      if (b) b.focus();
    }
  }

  function addForm() {
    const form = $('th-add');
    const name = $('th-add-name'), slug = $('th-add-slug'), desc = $('th-add-description');
    let slugTouched = false;
    slug.addEventListener('input', () => { slugTouched = slug.value !== ''; });
    name.addEventListener('input', () => { if (!slugTouched) slug.value = slugOf(name.value); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { slug: slug.value, name: name.value };
      if (desc.value) body.description = desc.value;
      $('th-add-button').disabled = true;
      $('th-add-error').textContent = '';
      const r = await send('POST', '/api/themes', body);
      $('th-add-button').disabled = false;
      if (!r.ok) {
        $('th-add-error').textContent = failure(r);
        (r.status === 409 || /slug/.test(failure(r)) ? slug : name).focus();
        return;
      }
      status(t('th_added', { name: r.body.name || name.value }));
      $('th-add-error').textContent = '';
      form.reset();
      slugTouched = false;
      await reload(r.body.slug, '.th-edit-button');
    });
    $('th-add-box').hidden = false;
  }

  $('th-status').tabIndex = -1;
  render();
  if (staff) addForm();
})();
