/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of accounts, sessions, edits and withheld spans at the archive's
 * level: what a user relies on (a wrong password opens nothing, an
 * expired or forged session is nobody, an edit from a stale version is a
 * conflict, a refused edit changes nothing, every change has its history
 * row, a withheld passage reaches no visitor by any way out).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "parlers/archive.h"
#include "tap.h"

static char tmpdir[256];

static int64_t count(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;

	if (sqlite3_open(db, &h) != SQLITE_OK ||
	    sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		diag("exec failed: %s", h ? sqlite3_errmsg(h) : "open");
	sqlite3_close(h);
}

static void test_accounts(struct prl_archive *a, const char *db)
{
	struct prl_session s, t;
	int retry = 0, ret;

	is_int(prl_archive_user_add(a, "marie", PRL_ROLE_ANNOTATOR, "correct horse"), 0,
	       "an annotator is added");
	is_int(prl_archive_user_add(a, "marie", PRL_ROLE_ADMIN, "correct horse"), -PRL_EEXIST,
	       "the same login twice is refused");
	is_int(prl_archive_user_add(a, "-x", PRL_ROLE_ADMIN, "correct horse"), -PRL_EINVAL,
	       "a login starting with '-' is refused");
	is_int(prl_archive_user_add(a, "jean", PRL_ROLE_RESEARCHER, "short"), -PRL_EINVAL,
	       "a password under 8 bytes is refused");
	is_int(prl_archive_user_add(a, "jean", PRL_ROLE_RESEARCHER, "        "), -PRL_EINVAL,
	       "a password of eight spaces is refused");
	is_int(prl_archive_user_add(a, "jean", PRL_ROLE_RESEARCHER, " \t \xc2\xa0 \xe3\x80\x80 "),
	       -PRL_EINVAL, "a password of tabs and Unicode spaces is refused");
	is_int(prl_archive_user_update(a, "marie", -1, "         "), -PRL_EINVAL,
	       "a new password of spaces is refused");
	is_int(prl_archive_user_add(a, "jean", PRL_ROLE_RESEARCHER, "long enough"), 0,
	       "a researcher is added");
	is_int(count(db, "SELECT count(*) FROM users WHERE pwhash LIKE '$argon2id$%'"), 2,
	       "passwords are kept as Argon2id strings");
	is_int(count(db, "SELECT count(*) FROM users WHERE pwhash LIKE '%horse%'"), 0,
	       "no password in clear");

	memset(&s, 0, sizeof(s));
	is_int(prl_archive_login(a, "marie", "correct horse", "10.0.0.1", &s, &retry), 0,
	       "the right password opens a session");
	is_int(s.viewer.role, PRL_ROLE_ANNOTATOR, "the session carries the role");
	is_int((int64_t)strlen(s.token), PRL_TOKEN_CHARS, "the token is 256 bits in base64url");
	is_int(count(db, "SELECT count(*) FROM sessions WHERE length(id_hash) = 32"), 1,
	       "the session is kept as a SHA-256");
	is_int(prl_archive_session_get(a, s.token, &t), 0, "the token finds the session");
	is_str(t.login, "marie", "as its user");
	is_str(t.csrf, s.csrf, "with its CSRF token");
	{
		char forged[PRL_TOKEN_CHARS + 1];

		memcpy(forged, s.token, sizeof(forged));
		forged[0] = forged[0] == 'A' ? 'B' : 'A';
		is_int(prl_archive_session_get(a, forged, &t), -PRL_ENOTFOUND,
		       "a forged token is nobody");
	}
	is_int(prl_archive_session_get(a, "short", &t), -PRL_ENOTFOUND,
	       "a malformed token is nobody");
	exec(db, "UPDATE sessions SET last_seen = last_seen - 13 * 3600");
	is_int(prl_archive_session_get(a, s.token, &t), -PRL_ENOTFOUND,
	       "a session idle for 13 hours has expired");

	is_int(prl_archive_login(a, "marie", "correct horse", "10.0.0.1", &s, &retry), 0,
	       "a new login");
	exec(db, "UPDATE sessions SET created_at = created_at - 8 * 86400");
	is_int(prl_archive_session_get(a, s.token, &t), -PRL_ENOTFOUND,
	       "a session older than 7 days has expired, however busy");

	is_int(prl_archive_login(a, "marie", "correct horse", "10.0.0.1", &s, &retry), 0, "login");
	is_int(prl_archive_logout(a, s.token), 0, "logout");
	is_int(prl_archive_session_get(a, s.token, &t), -PRL_ENOTFOUND,
	       "a logged-out token is nobody");

	is_int(prl_archive_login(a, "jean", "long enough", "10.0.0.2", &s, &retry), 0,
	       "jean logs in");
	is_int(prl_archive_user_update(a, "jean", -1, "another password"), 0,
	       "jean's password changes");
	is_int(prl_archive_session_get(a, s.token, &t), -PRL_ENOTFOUND,
	       "a new password ends the old sessions");
	is_int(prl_archive_login(a, "jean", "long enough", "10.0.0.2", &s, &retry), -PRL_EACCESS,
	       "the old password no longer works");
	is_int(prl_archive_login(a, "nobody", "long enough", "10.0.0.2", &s, &retry), -PRL_EACCESS,
	       "an unknown login gets the same answer as a wrong password");

	for (int i = 0; i < 5; i++)
		prl_archive_login(a, "marie", "wrong", "10.0.0.3", &s, &retry);
	retry = 0;
	ret = prl_archive_login(a, "marie", "correct horse", "10.0.0.4", &s, &retry);
	is_int(ret, -PRL_ELIMIT, "after 5 failures the account is locked for a while");
	ok(retry > 0 && retry <= PRL_LOGIN_WINDOW_S, "with a time to wait (%d s)", retry);
	exec(db, "UPDATE login_failures SET at = at - 3600");
	is_int(prl_archive_login(a, "marie", "correct horse", "10.0.0.4", &s, &retry), 0,
	       "once the window passed, the login works again");
	for (int i = 0; i < PRL_LOGIN_FAILS_PER_ADDR; i++) {
		char login[32];

		snprintf(login, sizeof(login), "guess%d", i);
		prl_archive_login(a, login, "wrong pass", "10.0.0.9", &s, &retry);
	}
	is_int(prl_archive_login(a, "marie", "correct horse", "10.0.0.9", &s, &retry), -PRL_ELIMIT,
	       "an address that failed %d times is held back, whatever the login",
	       PRL_LOGIN_FAILS_PER_ADDR);
	exec(db, "DELETE FROM login_failures");

	is_int(prl_archive_user_add(a, "gone", PRL_ROLE_ADMIN, "to be removed"), 0, "add");
	is_int(prl_archive_user_del(a, "gone"), 0, "del");
	is_int(prl_archive_user_del(a, "gone"), -PRL_ENOTFOUND, "del of an unknown login");
}

static int has_text(const char *json, const char *needle)
{
	return json && strstr(json, needle) != NULL;
}

static void test_edits(struct prl_archive *a, const char *db, int64_t rec)
{
	struct prl_viewer ann = {PRL_ROLE_ANNOTATOR, 1}, res = {PRL_ROLE_RESEARCHER, 2};
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_segment_change c;
	int64_t segs = count(db, "SELECT count(*) FROM segments"), sid, audit;
	char q[200];

	memset(&c, 0, sizeof(c));
	c.tier_id = count(db, "SELECT min(id) FROM tiers");
	c.start_ms = 100;
	c.end_ms = 900;
	c.text = "  nouvé <b>sègment</b>";
	c.has_tier = c.has_start = c.has_end = c.has_text = 1;
	is_int(prl_archive_segment_add(a, &res, rec, &c, &out), -PRL_EACCESS,
	       "a researcher may not add a segment");
	is_int(prl_archive_segment_add(a, &ann, rec, &c, &out), 0, "an annotator adds a segment");
	ok(has_text(out.data, "\"version\":1") && has_text(out.data, "<b>s"),
	   "it comes back at version 1 with its text as given: %s", prl_buf_str(&out));
	sid = count(db, "SELECT max(id) FROM segments");
	audit = count(db, "SELECT count(*) FROM audit");
	is_int(audit, 1, "one history row");

	c.end_ms = 50;
	prl_buf_reset(&out);
	is_int(prl_archive_segment_add(a, &ann, rec, &c, &out), -PRL_EINVAL,
	       "a segment ending before it starts is refused");
	c.end_ms = 10 * 3600 * 1000;
	is_int(prl_archive_segment_add(a, &ann, rec, &c, &out), -PRL_EINVAL,
	       "a segment past the end is refused");
	c.start_ms = 500;
	c.end_ms = 1000;
	is_int(prl_archive_segment_add(a, &ann, rec, &c, &out), -PRL_EINVAL,
	       "an overlapping segment is refused");
	ok(strstr(prl_archive_errmsg(a), "overlaps") != NULL, "saying so: %s",
	   prl_archive_errmsg(a));
	c.start_ms = 0;
	c.end_ms = 10;
	c.text = "bad \xff byte";
	is_int(prl_archive_segment_add(a, &ann, rec, &c, &out), -PRL_EINVAL,
	       "text that is not UTF-8 is refused");
	is_int(count(db, "SELECT count(*) FROM segments"), segs + 1, "refused edits added nothing");
	is_int(count(db, "SELECT count(*) FROM audit"), audit, "nor history rows");

	memset(&c, 0, sizeof(c));
	c.text = "changé";
	c.has_text = 1;
	prl_buf_reset(&out);
	is_int(prl_archive_segment_update(a, &ann, sid, 1, &c, &out), 0, "an edit from version 1");
	ok(has_text(out.data, "\"version\":2"), "makes version 2");
	prl_buf_reset(&out);
	c.text = "mine";
	is_int(prl_archive_segment_update(a, &ann, sid, 1, &c, &out), -PRL_ECONFLICT,
	       "a second edit from version 1 is a conflict");
	ok(has_text(out.data, "changé") && has_text(out.data, "\"version\":2"),
	   "which gives the current segment: %s", prl_buf_str(&out));
	snprintf(q, sizeof(q), "SELECT count(*) FROM segments WHERE id = %lld AND text = 'changé'",
		 (long long)sid);
	is_int(count(db, q), 1, "and the first edit stays");
	prl_buf_reset(&out);
	is_int(prl_archive_segment_delete(a, &ann, sid, 1, &out), -PRL_ECONFLICT,
	       "a delete from a stale version is a conflict");
	prl_buf_reset(&out);
	is_int(prl_archive_segment_delete(a, &ann, sid, 2, &out), 0,
	       "a delete from the current one");
	is_int(count(db, "SELECT count(*) FROM audit"), audit + 2, "two more history rows");

	/* undo the delete: the segment comes back */
	prl_buf_reset(&out);
	{
		int64_t hid = count(db, "SELECT max(id) FROM audit");

		is_int(prl_archive_revert(a, &ann, hid, &out), 0, "the delete is reverted");
		is_int(count(db, q), 1, "the segment is back");
		is_int(prl_archive_revert(a, &ann, hid, &out), -PRL_ECONFLICT,
		       "reverting it twice is a conflict");
		is_int(prl_archive_revert(a, &res, hid, &out), -PRL_EACCESS,
		       "a researcher may not revert");
	}

	/* access level: search follows at once */
	{
		struct prl_search_opts o;
		struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;

		memset(&o, 0, sizeof(o));
		o.query = "changé";
		prl_buf_reset(&out);
		prl_archive_search_json(a, &anon, &o, &out);
		ok(has_text(out.data, "\"total\":1"), "a public recording's edit is found at once");
		prl_buf_reset(&out);
		is_int(prl_archive_set_access(a, &ann, rec, PRL_ACCESS_PRIVATE, &out), 0,
		       "the recording is made private");
		prl_buf_reset(&out);
		prl_archive_search_json(a, &anon, &o, &out);
		ok(has_text(out.data, "\"total\":0"), "and anonymous search no longer finds it");
		prl_buf_reset(&out);
		prl_archive_search_json(a, &ann, &o, &out);
		ok(has_text(out.data, "\"total\":1"), "staff still do");
		prl_buf_reset(&out);
		is_int(prl_archive_set_access(a, &ann, rec, PRL_ACCESS_PUBLIC, &out), 0,
		       "public again");
	}
	/* an import that replaces the tiers keeps them in the history */
	{
		struct prl_viewer staff = PRL_VIEWER_STAFF;
		struct prl_annot_doc *doc = NULL;

		if (ok(prl_archive_annotations_load(a, &staff, rec, &doc) == 0, "the tiers load")) {
			is_int(prl_archive_annotations_import(a, rec, doc, 1), 0,
			       "they are imported again with replace");
			is_int(count(db, "SELECT count(*) FROM audit WHERE action = "
					 "'annotations.import'"
					 " AND before LIKE '%ANNOTATION_DOCUMENT%' AND before LIKE "
					 "'%chang%'"),
			       1, "the replaced tiers are in the history as EAF, edits included");
		}
		prl_annot_doc_free(doc);
	}
	prl_buf_release(&out);
}

static void test_withheld(struct prl_archive *a, const char *db, int64_t rec)
{
	struct prl_viewer ann = {PRL_ROLE_ANNOTATOR, 1}, res = {PRL_ROLE_RESEARCHER, 2};
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_search_opts o;
	struct prl_media m1, m2;
	struct prl_annot_doc *doc = NULL;
	int64_t s0, s1;
	char text[400], sql[400];
	size_t found = 0;

	/* the second segment of the first tier: withhold exactly its span */
	s0 = count(db, "SELECT start_ms FROM segments WHERE tier_id = (SELECT min(id) FROM tiers)"
		       " ORDER BY start_ms LIMIT 1 OFFSET 2");
	s1 = count(db, "SELECT end_ms FROM segments WHERE tier_id = (SELECT min(id) FROM tiers)"
		       " ORDER BY start_ms LIMIT 1 OFFSET 2");
	snprintf(sql, sizeof(sql), "SELECT substr(text, 1, 12) FROM segments WHERE start_ms = %lld",
		 (long long)s0);
	{
		sqlite3 *h;
		sqlite3_stmt *st;

		text[0] = '\0';
		sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
		if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			snprintf(text, sizeof(text), "%s",
				 (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
	ok(text[0] != '\0', "the passage to withhold: \"%s\" (%lld-%lld ms)", text, (long long)s0,
	   (long long)s1);
	is_int(prl_archive_withheld_add(a, &res, rec, s0, s1, "asked", &out), -PRL_EACCESS,
	       "a researcher may not withhold");
	is_int(prl_archive_withheld_add(a, &ann, rec, s1, s0, "asked", &out), -PRL_EINVAL,
	       "an empty span is refused");
	is_int(prl_archive_withheld_add(a, &ann, rec, s0, s1, "asked by the speaker", &out), 0,
	       "staff withhold the span");

	prl_buf_reset(&out);
	prl_archive_recording_json(a, &anon, rec, &out);
	ok(!has_text(out.data, text), "its text is gone from the visitor's recording JSON");
	ok(!has_text(out.data, "asked by"), "so is the reason");
	prl_buf_reset(&out);
	prl_archive_recording_json(a, &ann, rec, &out);
	ok(has_text(out.data, text), "staff still read it");

	memset(&o, 0, sizeof(o));
	o.query = text;
	prl_buf_reset(&out);
	prl_archive_search_json(a, &res, &o, &out);
	ok(has_text(out.data, "\"total\":0"), "a researcher's search does not find it");
	prl_buf_reset(&out);
	prl_archive_search_json(a, &ann, &o, &out);
	ok(!has_text(out.data, "\"total\":0"), "staff search does");
	is_int(prl_archive_reindex(a), 0, "the whole index is rebuilt");
	prl_buf_reset(&out);
	prl_archive_search_json(a, &res, &o, &out);
	ok(has_text(out.data, "\"total\":0"), "and the passage is still withheld from search");

	if (prl_archive_annotations_load(a, &anon, rec, &doc) == 0) {
		for (size_t i = 0; i < doc->ntiers; i++)
			for (size_t j = 0; j < doc->tiers[i].nsegs; j++)
				if (doc->tiers[i].segs[j].start_ms < s1 &&
				    doc->tiers[i].segs[j].end_ms > s0)
					found++;
		prl_annot_doc_free(doc);
	}
	is_int((int64_t)found, 0, "exports for visitors hold no segment in the span");

	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	is_int(prl_archive_media(a, &anon, rec, PRL_MEDIA_OPUS, &m1), 0, "visitors get a copy");
	is_int(prl_archive_media(a, &ann, rec, PRL_MEDIA_OPUS, &m2), 0, "staff get a copy");
	ok(m1.path && m2.path && strcmp(m1.path, m2.path) != 0 && access(m1.path, R_OK) == 0,
	   "the visitors' copy is the muted one (%s)", m1.path ? m1.path : "none");
	prl_media_clear(&m1);
	prl_media_clear(&m2);
	is_int(prl_archive_media(a, &res, rec, PRL_MEDIA_ORIGINAL, &m1), -PRL_EACCESS,
	       "the original, which holds the passage, is for staff only");
	prl_media_clear(&m1);
	is_int(count(db, "SELECT count(*) FROM audit WHERE action = 'withheld.add'"), 1,
	       "the change has its history row");

	prl_buf_reset(&out);
	is_int(prl_archive_withheld_delete(a, &ann, rec,
					   count(db, "SELECT max(id) FROM withheld_spans"), &out),
	       0, "the span is released");
	prl_buf_reset(&out);
	prl_archive_recording_json(a, &anon, rec, &out);
	ok(has_text(out.data, text), "and the text is back for visitors");
	prl_buf_release(&out);
}

/* Many wrong passwords at once, each on a handle of its own as the
 * server's threads have: no more of them reach the password check than
 * the limit allows; the rest are refused as too many. */
#define RACERS 16

struct racer {
	pthread_barrier_t *start;
	int ret; /* what prl_archive_login() answered */
};

static void *race_login(void *arg)
{
	struct racer *r = arg;
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_archive *h = NULL;
	struct prl_session s;
	int retry = 0;

	r->ret = 1;
	if (prl_archive_open(tmpdir, 0, &h, &err) == 0) {
		pthread_barrier_wait(r->start);
		r->ret = prl_archive_login(h, "racer", "not the password", "192.0.2.7", &s, &retry);
	} else {
		pthread_barrier_wait(r->start);
	}
	prl_archive_close(h);
	prl_buf_release(&err);
	return NULL;
}

static void test_login_race(struct prl_archive *a)
{
	pthread_barrier_t start;
	pthread_t tid[RACERS];
	struct racer racers[RACERS];
	int checked = 0, limited = 0, other = 0, i;

	if (!ok(prl_archive_user_add(a, "racer", PRL_ROLE_RESEARCHER, "the password") == 0,
		"an account for the race is added"))
		return;
	pthread_barrier_init(&start, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		racers[i].start = &start;
		pthread_create(&tid[i], NULL, race_login, &racers[i]);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(tid[i], NULL);
		if (racers[i].ret == -PRL_EACCESS)
			checked++;
		else if (racers[i].ret == -PRL_ELIMIT)
			limited++;
		else
			other++;
	}
	pthread_barrier_destroy(&start);
	is_int(checked, PRL_LOGIN_FAILS_PER_ACCOUNT,
	       "%d wrong passwords at once: only the limit's worth are checked", RACERS);
	is_int(limited, RACERS - PRL_LOGIN_FAILS_PER_ACCOUNT, "the others are refused as too many");
	is_int(other, 0, "no login answered anything else");
}

int main(void)
{
	const char *corpus = getenv("PARLERS_CORPUS");
	struct prl_buf err = PRL_BUF_INIT, path = PRL_BUF_INIT, db = PRL_BUF_INIT;
	struct prl_ingest_opts opts;
	struct prl_ingest_result r;
	struct prl_archive *a = NULL;
	char cmd[300];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/parlers-test-users-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	prl_buf_addf(&db, "%s/archive.db", tmpdir);
	if (!ok(prl_archive_open(tmpdir, PRL_OPEN_CREATE, &a, &err) == 0, "an archive is made"))
		diag("%s", prl_buf_str(&err));
	if (a) {
		test_accounts(a, db.data);
		test_login_race(a);
		prl_buf_addf(&path, "%s/cotentin-1976-la-mezoun.wav", corpus ? corpus : "corpus");
		memset(&opts, 0, sizeof(opts));
		opts.access = PRL_ACCESS_PUBLIC;
		prl_ingest_result_init(&r);
		if (ok(prl_archive_ingest(a, path.data, &opts, &r) == 0 && r.id > 0,
		       "a recording with tiers is ingested")) {
			test_edits(a, db.data, r.id);
			test_withheld(a, db.data, r.id);
		} else {
			diag("%s", prl_buf_str(&r.error));
		}
		prl_ingest_result_release(&r);
	}
	prl_archive_close(a);
	prl_buf_release(&err);
	prl_buf_release(&path);
	prl_buf_release(&db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
