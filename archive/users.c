/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Accounts, sessions and the login check.
 *
 * Passwords are stored only as libsodium's Argon2id strings (interactive
 * limits: about 64 MiB and a tenth of a second per check, which is what
 * makes a stolen database slow to attack).  A session id is 256 bits from
 * libsodium's CSPRNG, handed to the browser once and stored only as its
 * SHA-256, so the table alone opens no session; each session carries its
 * own CSRF token.  Failed logins are rows of login_failures, counted per
 * account and per client address over a sliding window; past the limit a
 * login is refused before the password is even hashed, so a guesser cannot
 * use the server as an Argon2 oracle nor make it burn memory.  An attempt
 * is written down as a failure in the transaction that counts, before its
 * check (a success then clears it): guesses sent all at once cannot slip
 * past the limit while the first ones are being hashed.
 *
 * Always holds: a password never reaches the database, a log or an error
 * message; an unknown login costs the same hashing as a known one (no
 * timing difference tells which logins exist); output parameters are
 * written only on success.
 * Expected workload: a login now and then; a session lookup on every
 * request that carries a cookie (one indexed read, a write at most once a
 * minute per session).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <utf8proc.h>

#include "archive-internal.h"

/* last_seen is refreshed when older than this: a lookup is not a write */
#define TOUCH_EVERY_S 60

static int sodium_ready(struct prl_archive *a)
{
	if (sodium_init() < 0)
		return archive_fail(a, -PRL_EIO, "libsodium cannot start");
	return 0;
}

int prl_login_valid(const char *s)
{
	size_t n;

	if (!s || !*s || (n = strlen(s)) > PRL_LOGIN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._-@", c)))
			return 0;
	}
	return 1;
}

/* True when s holds nothing but white space (ASCII's, or any Unicode
 * space separator: a no-break space pasted from a document counts too).
 * Bytes that are not UTF-8 are not white space. */
static int only_white_space(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t c;
	utf8proc_ssize_t n;

	while (*p) {
		if ((n = utf8proc_iterate(p, -1, &c)) <= 0)
			return 0;
		if (!(c == ' ' || (c >= '\t' && c <= '\r') ||
		      utf8proc_category(c) == UTF8PROC_CATEGORY_ZS))
			return 0;
		p += n;
	}
	return 1;
}

static int check_password(struct prl_archive *a, const char *pw)
{
	size_t n = pw ? strlen(pw) : 0;

	if (n < PRL_PASSWORD_MIN)
		return archive_fail(a, -PRL_EINVAL, "a password needs at least %d characters",
				    PRL_PASSWORD_MIN);
	if (n > PRL_PASSWORD_MAX)
		return archive_fail(a, -PRL_EINVAL, "a password has at most %d bytes",
				    PRL_PASSWORD_MAX);
	if (only_white_space(pw))
		return archive_fail(a, -PRL_EINVAL, "a password cannot be only spaces");
	return 0;
}

static int hash_password(struct prl_archive *a, const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return archive_fail(a, -PRL_ENOMEM, "hashing the password: out of memory");
	return 0;
}

_Static_assert(ARCHIVE_PWHASH_BYTES == crypto_pwhash_STRBYTES, "the hash's size");

int archive_password_hash(struct prl_archive *a, const char *pw, char *out)
{
	int ret;

	if ((ret = check_password(a, pw)) < 0 || (ret = sodium_ready(a)) < 0)
		return ret;
	return hash_password(a, pw, out);
}

/* The id, role and hash of login into the caller's variables (and its
 * institution, 0 for the network's, when institution is not NULL); 0 or
 * -PRL_ENOTFOUND. */
static int user_find(struct prl_archive *a, const char *login, int64_t *id, int *role,
		     char hash[crypto_pwhash_STRBYTES], int64_t *institution, int *suspended)
{
	sqlite3_stmt *st = archive_stmt(a, ST_USER_BY_LOGIN);
	int rc;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, login);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no account '%s'", login)
					 : archive_sql_fail(a, "finding an account");
	}
	*id = sqlite3_column_int64(st, 0);
	*role = sqlite3_column_int(st, 1);
	if (institution)
		*institution = sqlite3_column_int64(st, 3);
	if (suspended)
		*suspended = sqlite3_column_int(st, 4);
	if (hash)
		snprintf(hash, crypto_pwhash_STRBYTES, "%s",
			 (const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	return 0;
}

/* ---- researcher grants (schema 11) ---- */

/* The grant of account user_id into *grant: an institution's id, 0 for
 * all of them, PRL_GRANT_NONE when it has none. */
static int user_grant(struct prl_archive *a, int64_t user_id, int64_t *grant)
{
	sqlite3_stmt *st = archive_stmt(a, ST_GRANTS_OF);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, user_id);
	rc = sqlite3_step(st);
	*grant = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : PRL_GRANT_NONE;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "reading a grant");
}

/* Writes (institution_id >= 0) or removes (PRL_GRANT_NONE) account
 * user_id's grant. */
static int set_grant(struct prl_archive *a, int64_t user_id, int64_t institution_id)
{
	sqlite3_stmt *st = archive_stmt(a, institution_id >= 0 ? ST_GRANT_ADD : ST_GRANT_DEL);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, user_id);
	if (institution_id >= 0)
		sqlite3_bind_int64(st, 2, institution_id);
	return archive_step_done(a, st, "recording a grant");
}

int prl_archive_user_grant(struct prl_archive *a, const char *login, const char *institution)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t id, inst = 0, home;
	int role, ret;

	if ((ret = user_find(a, login, &id, &role, hash, &home, NULL)) < 0)
		return ret;
	if (role != PRL_ROLE_RESEARCHER)
		return archive_fail(a, -PRL_EINVAL,
				    "'%s' is %s: only researchers are granted restricted material"
				    " (staff hear it all)",
				    login, prl_role_name((enum prl_role)role));
	if (institution && (ret = archive_institution_find(a, institution, &inst, NULL)) < 0)
		return ret;
	return set_grant(a, id, inst);
}

int prl_archive_user_revoke(struct prl_archive *a, const char *login)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t id, home;
	int role, ret;

	if ((ret = user_find(a, login, &id, &role, hash, &home, NULL)) < 0)
		return ret;
	return set_grant(a, id, PRL_GRANT_NONE);
}

int prl_archive_user_grant_json(struct prl_archive *a, const char *login, struct prl_buf *out)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t id, home, grant;
	int role, ret;
	sqlite3_stmt *st;

	if ((ret = user_find(a, login, &id, &role, hash, &home, NULL)) < 0 ||
	    (ret = user_grant(a, id, &grant)) < 0)
		return ret;
	prl_buf_addstr(out, "{\"login\":");
	prl_json_str(out, login);
	prl_buf_addf(out, ",\"role\":\"%s\",\"grant\":", prl_role_name((enum prl_role)role));
	if (role != PRL_ROLE_RESEARCHER || grant == PRL_GRANT_NONE)
		return prl_buf_addstr(out, role == PRL_ROLE_RESEARCHER ? "null}" : "\"staff\"}");
	if (grant == 0)
		return prl_buf_addstr(out, "\"all\"}");
	if (!(st = archive_stmt(a, ST_COLLECTION_INSTITUTION)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, grant);
	if (sqlite3_step(st) == SQLITE_ROW)
		prl_json_str(out, (const char *)sqlite3_column_text(st, 0));
	else
		prl_buf_addstr(out, "null");
	sqlite3_reset(st);
	return prl_buf_addch(out, '}');
}

int prl_archive_user_add(struct prl_archive *a, const char *login, enum prl_role role,
			 const char *password)
{
	return prl_archive_user_add_to(a, login, role, password, NULL);
}

int prl_archive_user_add_to(struct prl_archive *a, const char *login, enum prl_role role,
			    const char *password, const char *institution)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t institution_id = 0;
	sqlite3_stmt *st;
	int ret;

	if (!prl_login_valid(login))
		return archive_fail(a, -PRL_EINVAL,
				    "a login is 1 to %d letters, digits, '.', '_', '-' or '@'",
				    PRL_LOGIN_MAX);
	if (role != PRL_ROLE_CONTRIBUTOR && (role < PRL_ROLE_RESEARCHER || role > PRL_ROLE_ADMIN))
		return archive_fail(a, -PRL_EINVAL,
				    "a role is admin, annotator, researcher or contributor");
	if (institution &&
	    (ret = archive_institution_find(a, institution, &institution_id, NULL)) < 0)
		return ret;
	if ((ret = check_password(a, password)) < 0 || (ret = sodium_ready(a)) < 0 ||
	    (ret = hash_password(a, password, hash)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_USER_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, login);
	sqlite3_bind_int(st, 2, (int)role);
	archive_bind_text(st, 3, hash);
	if (institution_id > 0)
		sqlite3_bind_int64(st, 4, institution_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		int constraint = sqlite3_errcode(a->db) == SQLITE_CONSTRAINT;

		sqlite3_reset(st);
		if (constraint)
			return archive_fail(a, -PRL_EEXIST, "account '%s' already exists", login);
		return archive_sql_fail(a, "adding an account");
	}
	sqlite3_reset(st);
	/* a researcher hears the restricted material of its institution, or
	 * of every one when it is the network's ('user grant' changes it) */
	if (role == PRL_ROLE_RESEARCHER)
		return set_grant(a, sqlite3_last_insert_rowid(a->db), institution_id);
	return 0;
}

int prl_archive_user_update(struct prl_archive *a, const char *login, int role,
			    const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	sqlite3_stmt *st;
	int64_t id, home;
	int old_role, ret;

	if (role >= 0 && (role < PRL_ROLE_RESEARCHER || role > PRL_ROLE_ADMIN))
		return archive_fail(a, -PRL_EINVAL, "a role is admin, annotator or researcher");
	if (password && ((ret = check_password(a, password)) < 0 || (ret = sodium_ready(a)) < 0 ||
			 (ret = hash_password(a, password, hash)) < 0))
		return ret;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = user_find(a, login, &id, &old_role, NULL, &home, NULL)) < 0)
		goto end;
	ret = -PRL_ESQL;
	/* an account that becomes a researcher is granted as a new one would
	 * be (its institution's, or every one's); one that was a researcher
	 * keeps its grant, and staff need none */
	if (role == PRL_ROLE_RESEARCHER && old_role != PRL_ROLE_RESEARCHER &&
	    set_grant(a, id, home) < 0)
		goto end;
	if (role > PRL_ROLE_RESEARCHER && set_grant(a, id, PRL_GRANT_NONE) < 0)
		goto end;
	if (password) {
		if (!(st = archive_stmt(a, ST_USER_SET_PASSWORD)))
			goto end;
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, hash);
		if (archive_step_done(a, st, "changing a password") < 0)
			goto end;
	}
	if (role >= 0) {
		if (!(st = archive_stmt(a, ST_USER_SET_ROLE)))
			goto end;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, role);
		if (archive_step_done(a, st, "changing a role") < 0)
			goto end;
	}
	/* a new password or role: whoever held the old one is signed out */
	if (!(st = archive_stmt(a, ST_SESSIONS_OF_USER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "ending sessions") < 0)
		goto end;
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	return ret;
}

int prl_archive_user_del(struct prl_archive *a, const char *login)
{
	sqlite3_stmt *st;
	int64_t id;
	int role, ret;

	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = user_find(a, login, &id, &role, NULL, NULL, NULL)) < 0)
		goto end;
	ret = -PRL_ESQL;
	/* sessions go with the account (ON DELETE CASCADE) */
	if (!(st = archive_stmt(a, ST_USER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "removing an account") < 0)
		goto end;
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	return ret;
}

int archive_window_full(struct prl_archive *a, enum stmt_id count, const char *key, int64_t now,
			int64_t window_s, int64_t limit, int64_t *until)
{
	sqlite3_stmt *st = archive_stmt(a, count);
	int64_t n, oldest;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now - window_s);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "counting recent attempts");
	}
	n = sqlite3_column_int64(st, 0);
	oldest = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (n < limit)
		return 0;
	if (until && oldest + window_s > *until)
		*until = oldest + window_s;
	return 1;
}

int archive_window_prune(struct prl_archive *a, enum stmt_id prune, int64_t now, int64_t window_s)
{
	sqlite3_stmt *st = archive_stmt(a, prune);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, now - window_s);
	return archive_step_done(a, st, "forgetting old attempts");
}

static void random_token(char out[PRL_TOKEN_CHARS + 1], unsigned char raw[32])
{
	randombytes_buf(raw, 32);
	sodium_bin2base64(out, PRL_TOKEN_CHARS + 1, raw, 32,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int open_session(struct prl_archive *a, int64_t user_id, int64_t now, struct prl_session *s)
{
	unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
	sqlite3_stmt *st;
	int ret;

	random_token(s->token, raw);
	crypto_hash_sha256(digest, (const unsigned char *)s->token, PRL_TOKEN_CHARS);
	random_token(s->csrf, raw);
	sodium_memzero(raw, sizeof(raw));
	if ((ret = archive_begin(a)) < 0)
		return ret;
	ret = -PRL_ESQL;
	/* the table stays as small as the live sessions */
	if (!(st = archive_stmt(a, ST_SESSIONS_EXPIRE)))
		goto end;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, PRL_SESSION_IDLE_S);
	sqlite3_bind_int64(st, 3, PRL_SESSION_MAX_S);
	if (archive_step_done(a, st, "ending old sessions") < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_SESSION_ADD)))
		goto end;
	sqlite3_bind_blob(st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, user_id);
	archive_bind_text(st, 3, s->csrf);
	sqlite3_bind_int64(st, 4, now);
	if (archive_step_done(a, st, "opening a session") < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_FAILURES_CLEAR_LOGIN)))
		goto end;
	archive_bind_text(st, 1, s->login);
	if (archive_step_done(a, st, "forgetting failures") < 0)
		goto end;
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	return ret;
}

/* Hashed once per process: what an unknown login is checked against, so
 * that it costs what a known one costs. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	if (crypto_pwhash_str(dummy_hash, "parlers", 7, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

/*
 * Counts the failures of login and of addr and, when both are under their
 * limits, records this attempt as a failure before its password is
 * checked, in one write transaction: concurrent attempts on other handles
 * wait for it, so however many arrive at once, no more than the limit are
 * checked.  A login that then succeeds clears its failures, this one with
 * them.  -PRL_ELIMIT (with *retry_after_s) past a limit.
 */
static int reserve_attempt(struct prl_archive *a, const char *login, const char *addr, int64_t now,
			   int *retry_after_s)
{
	int64_t until = 0;
	sqlite3_stmt *st;
	int ret, by_login, by_addr;

	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = by_login =
		     archive_window_full(a, ST_FAILURES_BY_LOGIN, login, now, PRL_LOGIN_WINDOW_S,
					 PRL_LOGIN_FAILS_PER_ACCOUNT, &until)) < 0 ||
	    (ret = by_addr =
		     archive_window_full(a, ST_FAILURES_BY_ADDR, addr, now, PRL_LOGIN_WINDOW_S,
					 PRL_LOGIN_FAILS_PER_ADDR, &until)) < 0)
		goto end;
	if (by_login || by_addr) {
		if (retry_after_s)
			*retry_after_s = until > now ? (int)(until - now) : 1;
		ret = archive_fail(a, -PRL_ELIMIT, "too many failed logins; try again later");
		goto end;
	}
	ret = -PRL_ESQL;
	if (archive_window_prune(a, ST_FAILURES_PRUNE, now, PRL_LOGIN_WINDOW_S) < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_FAILURE_ADD)))
		goto end;
	archive_bind_text(st, 1, login);
	archive_bind_text(st, 2, addr);
	sqlite3_bind_int64(st, 3, now);
	if (archive_step_done(a, st, "counting a login attempt") < 0)
		goto end;
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	return ret;
}

int prl_archive_login(struct prl_archive *a, const char *login, const char *password,
		      const char *addr, struct prl_session *out, int *retry_after_s)
{
	char hash[crypto_pwhash_STRBYTES];
	struct prl_session s;
	int64_t now = (int64_t)time(NULL), id = 0, institution = 0;
	int role = 0, ret, known, suspended = 0;

	if ((ret = sodium_ready(a)) < 0)
		return ret;
	if (!addr)
		addr = "";
	if (!login || !password || !prl_login_valid(login) || strlen(password) > PRL_PASSWORD_MAX)
		login = "";
	if ((ret = reserve_attempt(a, login, addr, now, retry_after_s)) < 0)
		return ret;
	pthread_once(&dummy_once, dummy_init);
	if (!dummy_hash[0])
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	known = login[0] && user_find(a, login, &id, &role, hash, &institution, &suspended) == 0;
	if (!known)
		memcpy(hash, dummy_hash, sizeof(hash));
	if (crypto_pwhash_str_verify(hash, password ? password : "",
				     password ? strlen(password) : 0) != 0 ||
	    !known)
		return archive_fail(a, -PRL_EACCESS, "wrong login or password");
	/* told only to whoever knows the password */
	if (suspended)
		return archive_fail(a, -PRL_EACCESS, "this account is suspended");
	memset(&s, 0, sizeof(s));
	s.viewer.role = (enum prl_role)role;
	s.viewer.user_id = id;
	s.viewer.institution_id = institution;
	if ((ret = user_grant(a, id, &s.viewer.grant)) < 0)
		return ret;
	snprintf(s.login, sizeof(s.login), "%s", login);
	if ((ret = open_session(a, id, now, &s)) < 0)
		return ret;
	*out = s;
	return 0;
}

/* The SHA-256 of a well-formed token; -PRL_ENOTFOUND for anything else. */
static int token_digest(const char *token, unsigned char digest[crypto_hash_sha256_BYTES])
{
	if (!token || strlen(token) != PRL_TOKEN_CHARS)
		return -PRL_ENOTFOUND;
	for (const char *c = token; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return -PRL_ENOTFOUND;
	crypto_hash_sha256(digest, (const unsigned char *)token, PRL_TOKEN_CHARS);
	return 0;
}

int prl_archive_session_get(struct prl_archive *a, const char *token, struct prl_session *out)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	struct prl_session s;
	sqlite3_stmt *st;
	int64_t now = (int64_t)time(NULL), last;
	int rc;

	if (sodium_ready(a) < 0 || token_digest(token, digest) < 0)
		return -PRL_ENOTFOUND;
	if (!(st = archive_stmt(a, ST_SESSION_GET)))
		return -PRL_ESQL;
	/* the lookup is by the digest's equality in the index: a timing
	 * difference could only tell about a hash, never about the token */
	sqlite3_bind_blob(st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, PRL_SESSION_IDLE_S);
	sqlite3_bind_int64(st, 4, PRL_SESSION_MAX_S);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -PRL_ENOTFOUND
					 : archive_sql_fail(a, "finding a session");
	}
	memset(&s, 0, sizeof(s));
	s.viewer.user_id = sqlite3_column_int64(st, 0);
	snprintf(s.login, sizeof(s.login), "%s", (const char *)sqlite3_column_text(st, 1));
	s.viewer.role = (enum prl_role)sqlite3_column_int(st, 2);
	snprintf(s.csrf, sizeof(s.csrf), "%s", (const char *)sqlite3_column_text(st, 3));
	last = sqlite3_column_int64(st, 4);
	s.viewer.institution_id = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	if (user_grant(a, s.viewer.user_id, &s.viewer.grant) < 0)
		return -PRL_ESQL;
	if (now - last >= TOUCH_EVERY_S && (st = archive_stmt(a, ST_SESSION_TOUCH))) {
		/* best effort: a busy database only shortens the idle time */
		sqlite3_bind_blob(st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		archive_step_done(a, st, "refreshing a session");
	}
	*out = s;
	return 0;
}

int prl_archive_logout(struct prl_archive *a, const char *token)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	sqlite3_stmt *st;

	if (sodium_ready(a) < 0 || token_digest(token, digest) < 0)
		return 0;
	if (!(st = archive_stmt(a, ST_SESSION_DELETE)))
		return -PRL_ESQL;
	sqlite3_bind_blob(st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
	return archive_step_done(a, st, "ending a session");
}
