/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Contributor accounts: the sign-up anyone may make from the site, the
 * batches of accounts staff make for a workshop, and suspension; the list
 * of every account for the command line.
 *
 * A sign-up is counted per client address over an hour in the signups
 * table (the sliding window of the failed logins, users.c), in a
 * transaction of its own that commits before the account is
 * made: a flood from one address is refused before any password is hashed,
 * and attempts that fail (a taken login) count too.  A contributor is an
 * account of role PRL_ROLE_CONTRIBUTOR, below anonymous in the role order:
 * whatever "at least" a check asks, it gets what a visitor gets.
 *
 * Always holds: a batch is made whole or not at all; a suspended account
 * has no session, cannot sign in and keeps no pending proposal; an e-mail
 * address is stored, never returned by any call (the list included); output parameters are
 * written only on success.
 * Expected workload: a few sign-ups an hour; a batch of some tens of
 * accounts now and then (each password hashed, about 0.1 s each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "archive-internal.h"

#define SIGNUP_WINDOW_S 3600

/* True when s is a name fit to show: 1 to PRL_DISPLAY_NAME_MAX bytes of
 * UTF-8 with no control character. */
static int name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > PRL_DISPLAY_NAME_MAX || !prl_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int check_signup(struct prl_archive *a, const struct prl_signup *s)
{
	if (!prl_login_valid(s->login))
		return archive_fail(a, -PRL_EINVAL,
				    "a login is 1 to %d letters, digits, '.', '_', '-' or '@'",
				    PRL_LOGIN_MAX);
	if (!name_valid(s->display_name))
		return archive_fail(a, -PRL_EINVAL,
				    "a display name is 1 to %d bytes of text on one line",
				    PRL_DISPLAY_NAME_MAX);
	if (s->credit_name && !name_valid(s->credit_name))
		return archive_fail(a, -PRL_EINVAL,
				    "a credit name is 1 to %d bytes of text on one line",
				    PRL_DISPLAY_NAME_MAX);
	if (s->email && (strlen(s->email) > PRL_EMAIL_MAX || !strchr(s->email, '@') ||
			 strpbrk(s->email, " \t\r\n<>\"") || !name_valid(s->email)))
		return archive_fail(a, -PRL_EINVAL, "the e-mail address does not look like one");
	return 0;
}

/* Counts the sign-ups from addr and records this one, in one transaction:
 * -PRL_ELIMIT (with *retry_after_s) past per_hour. */
static int count_signup(struct prl_archive *a, const char *addr, int per_hour, int64_t now,
			int *retry_after_s)
{
	sqlite3_stmt *st;
	int64_t until = 0;
	int ret;

	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = archive_window_full(a, ST_SIGNUPS_COUNT, addr, now, SIGNUP_WINDOW_S, per_hour,
				       &until)) < 0)
		goto end;
	if (ret > 0) {
		if (retry_after_s)
			*retry_after_s = until > now ? (int)(until - now) : 1;
		ret = archive_fail(a, -PRL_ELIMIT,
				   "too many accounts opened from this address; try again later");
		goto end;
	}
	ret = -PRL_ESQL;
	if (archive_window_prune(a, ST_SIGNUPS_PRUNE, now, SIGNUP_WINDOW_S) < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_SIGNUP_ADD)))
		goto end;
	archive_bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, now);
	if (archive_step_done(a, st, "counting a sign-up") < 0)
		goto end;
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	return ret;
}

/* Inserts one account inside the caller's transaction. */
static int insert_account(struct prl_archive *a, const char *login, enum prl_role role,
			  const char *hash, int64_t institution_id, const struct prl_signup *s)
{
	sqlite3_stmt *st = archive_stmt(a, ST_CONTRIBUTOR_ADD);

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, login);
	sqlite3_bind_int(st, 2, (int)role);
	archive_bind_text(st, 3, hash);
	if (institution_id > 0)
		sqlite3_bind_int64(st, 4, institution_id);
	archive_bind_text(st, 5, s ? s->display_name : login);
	archive_bind_text(st, 6, s ? s->credit_name : NULL);
	archive_bind_text(st, 7, s ? s->email : NULL);
	archive_bind_text(st, 8, s ? s->licence : NULL);
	if (sqlite3_step(st) != SQLITE_DONE) {
		int constraint = sqlite3_errcode(a->db) == SQLITE_CONSTRAINT;

		sqlite3_reset(st);
		if (constraint)
			return archive_fail(a, -PRL_EEXIST, "the login '%s' is taken", login);
		return archive_sql_fail(a, "adding an account");
	}
	sqlite3_reset(st);
	return 0;
}

int prl_archive_signup(struct prl_archive *a, const struct prl_signup *s, const char *addr,
		       int per_hour, int *retry_after_s)
{
	char hash[ARCHIVE_PWHASH_BYTES];
	int ret;

	if ((ret = count_signup(a, addr ? addr : "", per_hour > 0 ? per_hour : PRL_SIGNUPS_PER_HOUR,
				(int64_t)time(NULL), retry_after_s)) < 0)
		return ret;
	if ((ret = check_signup(a, s)) < 0 ||
	    (ret = archive_password_hash(a, s->password, hash)) < 0)
		return ret;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = insert_account(a, s->login, PRL_ROLE_CONTRIBUTOR, hash, 0, s)) == 0)
		ret = archive_commit(a);
	if (ret < 0)
		archive_rollback(a);
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

void prl_passwords_free(char **passwords, int n)
{
	if (!passwords)
		return;
	for (int i = 0; i < n; i++)
		if (passwords[i]) {
			sodium_memzero(passwords[i], strlen(passwords[i]));
			free(passwords[i]);
		}
	free(passwords);
}

/* A password easy to read aloud and copy from paper: no 0/O, 1/l/I. */
static void one_time_password(char out[PRL_ONE_TIME_PASSWORD_CHARS + 1])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

	for (int i = 0; i < PRL_ONE_TIME_PASSWORD_CHARS; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[PRL_ONE_TIME_PASSWORD_CHARS] = '\0';
}

int prl_archive_user_add_batch(struct prl_archive *a, const char *prefix, int n, enum prl_role role,
			       const char *institution, char ***passwords)
{
	char **pw = NULL, (*hashes)[ARCHIVE_PWHASH_BYTES] = NULL, login[PRL_LOGIN_MAX + 16];
	int64_t institution_id = 0;
	int ret, began = 0;

	if (n < 1 || n > PRL_BATCH_MAX)
		return archive_fail(a, -PRL_EINVAL, "a batch makes 1 to %d accounts",
				    PRL_BATCH_MAX);
	snprintf(login, sizeof(login), "%s-%d", prefix ? prefix : "", n);
	if (!prl_login_valid(login))
		return archive_fail(
			a, -PRL_EINVAL,
			"'%s' cannot begin a login (letters, digits, '.', '_', '-', '@'; "
			"%d bytes with the number)",
			prefix ? prefix : "", PRL_LOGIN_MAX);
	if (role != PRL_ROLE_CONTRIBUTOR && (role < PRL_ROLE_RESEARCHER || role > PRL_ROLE_ADMIN))
		return archive_fail(a, -PRL_EINVAL,
				    "a role is admin, annotator, researcher or contributor");
	if (institution &&
	    (ret = archive_institution_find(a, institution, &institution_id, NULL)) < 0)
		return ret;
	if (sodium_init() < 0)
		return archive_fail(a, -PRL_EIO, "libsodium cannot start");
	ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
	if (!(pw = calloc((size_t)n, sizeof(*pw))) ||
	    !(hashes = calloc((size_t)n, sizeof(*hashes))))
		goto end;
	/* hashed before the transaction: the write lock is held for the inserts only */
	for (int i = 0; i < n; i++) {
		if (!(pw[i] = malloc(PRL_ONE_TIME_PASSWORD_CHARS + 1)))
			goto end;
		one_time_password(pw[i]);
		if ((ret = archive_password_hash(a, pw[i], hashes[i])) < 0)
			goto end;
	}
	if ((ret = archive_begin(a)) < 0)
		goto end;
	began = 1;
	for (int i = 0; i < n && ret == 0; i++) {
		snprintf(login, sizeof(login), "%s-%d", prefix, i + 1);
		ret = insert_account(a, login, role, hashes[i], institution_id, NULL);
	}
	if (ret == 0)
		ret = archive_commit(a);
end:
	if (ret < 0 && began)
		archive_rollback(a);
	if (hashes)
		sodium_memzero(hashes, (size_t)n * sizeof(*hashes));
	free(hashes);
	if (ret < 0)
		prl_passwords_free(pw, n);
	else
		*passwords = pw;
	return ret;
}

int prl_archive_user_suspend(struct prl_archive *a, const char *login, int64_t *removed)
{
	sqlite3_stmt *st;
	int64_t id = 0, gone = 0;
	int ret, rc;

	if ((ret = archive_begin(a)) < 0)
		return ret;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_USER_BY_LOGIN)))
		goto end;
	archive_bind_text(st, 1, login);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no account '%s'", login)
					: archive_sql_fail(a, "finding an account");
		goto end;
	}
	if (!(st = archive_stmt(a, ST_USER_SUSPEND)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "suspending an account") < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_SESSIONS_OF_USER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "ending sessions") < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_PROPOSALS_OF_USER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "removing pending proposals") < 0)
		goto end;
	gone = sqlite3_changes(a->db);
	ret = archive_commit(a);
end:
	if (ret < 0)
		archive_rollback(a);
	else if (removed)
		*removed = gone;
	return ret;
}

int prl_archive_users_json(struct prl_archive *a, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_USERS_LIST);
	int rc, first = 1, ret;

	if (!st)
		return -PRL_ESQL;
	prl_buf_addstr(&b, "{\"users\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(&b, first ? "{\"login\":" : ",{\"login\":");
		first = 0;
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		prl_buf_addstr(&b, ",\"role\":");
		prl_json_str(&b, prl_role_name((enum prl_role)sqlite3_column_int(st, 1)));
		prl_buf_addstr(&b, ",\"institution\":");
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			prl_buf_addstr(&b, "null");
		else
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addstr(&b, ",\"display_name\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addstr(&b, ",\"credit_name\":");
		if (sqlite3_column_type(st, 4) == SQLITE_NULL)
			prl_buf_addstr(&b, "null");
		else
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 4));
		prl_buf_addf(&b, ",\"suspended\":%s,\"created_at\":",
			     sqlite3_column_int(st, 5) ? "true" : "false");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 6));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "listing accounts");
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
