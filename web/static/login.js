// SPDX-License-Identifier: GPL-3.0-or-later
// The sign-in page: posts the form to /api/login as JSON and goes back to
// the page the visitor came from (?next=, a path on this site only).
(() => {
  const { t } = PRL;
  const $ = (id) => document.getElementById(id);

  // Only a path of this site: "/recordings/3", never "//elsewhere" or "/\elsewhere".
  function nextPage() {
    const next = new URLSearchParams(location.search).get('next') || '/';
    return /^\/(?![/\\])/.test(next) ? next : '/';
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = $('login-error');
    const submit = $('login-submit');
    err.textContent = '';
    submit.disabled = true;
    try {
      const r = await fetch('/api/login', {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ login: $('login-name').value.trim(), password: $('login-pass').value }),
      });
      if (r.ok) {
        PRL.signedIn(true);
        location.assign(nextPage());
        return;
      }
      err.textContent = r.status === 429 ? t('ed_login_slow')
        : r.status === 401 || r.status === 403 ? t('ed_login_wrong') : t('ed_login_failed');
      $('login-pass').select();
    } catch (e) {
      err.textContent = t('ed_login_offline');
    } finally {
      submit.disabled = false;
    }
  });
  $('login-name').focus();
})();
