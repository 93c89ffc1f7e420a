// SPDX-License-Identifier: GPL-3.0-or-later
// The sign-in page: posts the form to /api/login as JSON and goes back to
// the page the visitor came from (?next=, a path on this site only).
(() => {
  const { t } = PRL;
  const $ = (id) => document.getElementById(id);

  // Only a page of this site.  The server already checked ?next= (the
  // form's data-next); it is read again here as the browser will read it:
  // resolved against this page's origin, which must stay the same (a tab
  // or a backslash can turn "/\t/elsewhere" into "//elsewhere").
  function nextPage() {
    const given = $('login-form').dataset.next
      || new URLSearchParams(location.search).get('next') || '/';
    try {
      const u = new URL(given, location.origin);
      if (u.origin === location.origin && given.startsWith('/')) return u.pathname + u.search + u.hash;
    } catch (e) { /* not a URL at all */ }
    return '/';
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
