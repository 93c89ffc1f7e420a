// SPDX-License-Identifier: GPL-3.0-or-later
// The sign-up page: opens a contributor account (POST /api/accounts, JSON),
// then signs in with it and goes to the home page.  The hidden "website"
// field is a trap for robots: a person never sees it, so never fills it.
'use strict';

(() => {
  const { t } = PRL;
  const $ = (id) => document.getElementById(id);
  const licenceText = $('su-licence-text');
  licenceText.textContent = t('su_licence', { licence: licenceText.dataset.licence });

  const messages = { 409: 'su_taken', 429: 'su_slow' };

  $('signup-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = $('signup-error');
    const submit = $('signup-submit');
    err.textContent = '';
    const body = {
      login: $('su-login').value.trim(),
      password: $('su-pass').value,
      display_name: $('su-name').value.trim(),
      credit_name: $('su-credit').value.trim() || null,
      email: $('su-email').value.trim() || null,
      accept_licence: $('su-licence').checked,
    };
    if ($('su-website').value) body.website = $('su-website').value;
    submit.disabled = true;
    try {
      const r = await fetch('/api/accounts', {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) {
        let why = '';
        try { why = (await r.json()).error || ''; } catch (e) { /* not JSON */ }
        err.textContent = messages[r.status] ? t(messages[r.status]) : why || t('ed_login_failed');
        return;
      }
      const login = await fetch('/api/login', {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ login: body.login, password: body.password }),
      });
      if (login.ok) PRL.signedIn(true);
      $('signup-form').hidden = true;
      const done = $('signup-done');
      done.hidden = false;
      done.textContent = t('su_done', { login: body.login });
    } catch (e) {
      err.textContent = t('ed_login_offline');
    } finally {
      submit.disabled = false;
    }
  });
})();
