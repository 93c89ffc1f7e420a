/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of what the archive says of themes and of the map's decades,
 * through its public header, on rows written straight into a scratch
 * archive (so that dates no sidecar would let in are tried too): the
 * decades a viewer is offered hold only recordings that viewer hears,
 * never a deleted one, and no date that is not a year of 1800 to 2999;
 * the other filters narrow them and the decade filter does not; an
 * archive with nothing dated offers none.  The list of themes tells the
 * network's staff, and no one else, what deleting a theme would untag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "archive-internal.h"
#include "parlers/archive.h"
#include "scratch.h"
#include "tap.h"

static char tmpdir[256];

/* The decades v is offered under f, as the JSON text, or "error N". */
static void decades(struct prl_archive *a, const struct prl_viewer *v,
		    const struct prl_map_filter *f, char *out, size_t n)
{
	struct prl_buf b = PRL_BUF_INIT;
	int ret = prl_archive_map_decades_json(a, v, f, &b);

	if (ret < 0)
		snprintf(out, n, "error %d", ret);
	else
		snprintf(out, n, "%s", prl_buf_str(&b));
	prl_buf_release(&b);
}

static void add(struct prl_archive *a, const char *title, const char *date, int access,
		const char *variety, int deleted)
{
	sqlite3_stmt *st;
	static int n;
	char sha[65];

	sqlite3_prepare_v2(a->db,
			   "INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
			   " original_format, original_name, sha256, date, access, institution_id,"
			   " variety, deleted_at) VALUES (?1, 60000, 48000, 1, 'wav', 'x.wav', ?2,"
			   " ?3, ?4, 1, ?5, ?6)",
			   -1, &st, NULL);
	snprintf(sha, sizeof(sha), "%064d", ++n);
	sqlite3_bind_text(st, 1, title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_TRANSIENT);
	if (date)
		sqlite3_bind_text(st, 3, date, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, access);
	if (variety)
		sqlite3_bind_text(st, 5, variety, -1, SQLITE_TRANSIENT);
	if (deleted)
		sqlite3_bind_text(st, 6, "2026-01-01T00:00:00Z", -1, SQLITE_STATIC);
	ok(sqlite3_step(st) == SQLITE_DONE, "a recording %s dated %s", title,
	   date ? date : "(none)");
	sqlite3_finalize(st);
}

/* The list of themes: what deleting la-mer would untag, for staff only. */
static void test_tag_counts(struct prl_archive *a)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	struct prl_viewer inst_staff = {PRL_ROLE_ANNOTATOR, 1, 1, 0};
	struct prl_buf b = PRL_BUF_INIT;
	char *sql = "INSERT INTO recording_themes(theme_id, recording_id)"
		    " SELECT t.id, r.id FROM themes t, recordings r WHERE t.slug = 'la-mer'"
		    " AND r.title IN ('public 1976', 'private 1952', 'deleted 2024')";

	ok(sqlite3_exec(a->db, sql, NULL, NULL, NULL) == SQLITE_OK, "la mer tagged on three");
	ok(prl_archive_themes_json(a, &staff, &b) == 0 &&
		   strstr(prl_buf_str(&b), "\"slug\":\"la-mer\",\"name\":\"La mer\"") &&
		   strstr(prl_buf_str(&b), "\"recordings\":2,\"tagged\":{\"recordings\":2,"
					   "\"segments\":0}}"),
	   "staff: la mer counts 2 recordings heard, and 2 that would lose the tag (not the "
	   "deleted one)");
	prl_buf_release(&b);
	ok(prl_archive_themes_json(a, &anon, &b) == 0 &&
		   strstr(prl_buf_str(&b), "\"recordings\":1}") &&
		   !strstr(prl_buf_str(&b), "tagged"),
	   "a visitor: 1 recording heard, and no tag counts");
	prl_buf_release(&b);
	ok(prl_archive_themes_json(a, &inst_staff, &b) == 0 && !strstr(prl_buf_str(&b), "tagged"),
	   "an institution's annotator, who may not change the list: no tag counts");
	prl_buf_release(&b);
}

static void test_decades(void)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	struct prl_viewer res = {PRL_ROLE_RESEARCHER, 1, 0, 0};
	struct prl_map_filter f;
	struct prl_archive *a = NULL;
	struct prl_buf err = PRL_BUF_INIT;
	char dir[300], got[256];

	snprintf(dir, sizeof(dir), "%s/decades", tmpdir);
	if (!ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "create an archive")) {
		prl_buf_release(&err);
		return;
	}
	memset(&f, 0, sizeof(f));
	decades(a, &staff, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[]}", "an empty archive offers no decade");
	add(a, "undated", NULL, 0, NULL, 0);
	add(a, "empty date", "", 0, NULL, 0);
	add(a, "too early", "1799-12-31", 0, NULL, 0);
	add(a, "too late", "3001", 0, NULL, 0);
	add(a, "no year", "19x5", 0, NULL, 0);
	add(a, "short", "19", 0, NULL, 0);
	decades(a, &staff, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[]}", "nothing dated in a year the filter takes: no decade");
	add(a, "public 1976", "1976-06-14", 0, "Cotentinais", 0);
	add(a, "public 1981", "1981", 0, "Cauchois", 0);
	add(a, "public 1804", "1804-05", 0, "Cauchois", 0);
	add(a, "restricted 1963", "1963", 1, "Cotentinais", 0);
	add(a, "private 1952", "1952-05-01", 2, "Cotentinais", 0);
	add(a, "deleted 2024", "2024-01", 0, "Cotentinais", 1);
	add(a, "public 2999", "2999-12-31", 0, "Cauchois", 0);
	decades(a, &anon, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[1800,1970,1980,2990]}",
	       "a visitor: the decades of public recordings, in order");
	decades(a, &res, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[1800,1960,1970,1980,2990]}",
	       "a researcher: the restricted recording's too");
	decades(a, &staff, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[1800,1950,1960,1970,1980,2990]}",
	       "staff: every decade but the deleted recording's");
	f.variety = "cauchois";
	decades(a, &anon, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[1800,1980,2990]}", "a variety narrows them");
	f.decade = 1970;
	decades(a, &anon, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[1800,1980,2990]}", "the decade filter does not");
	f.variety = "Picard";
	ok(prl_archive_map_decades_json(a, &anon, &f, &err) == -PRL_EINVAL &&
		   strstr(prl_archive_errmsg(a), "variety") != NULL,
	   "an unknown variety is refused with a sentence naming it");
	memset(&f, 0, sizeof(f));
	f.theme = "la-mer";
	decades(a, &staff, &f, got, sizeof(got));
	is_str(got, "{\"decades\":[]}", "a theme nothing is tagged with: no decade");
	test_tag_counts(a);
	prl_archive_close(a);
	prl_buf_release(&err);
}

int main(void)
{
	if (scratch_make(tmpdir, sizeof(tmpdir), "test-themes") < 0)
		return 1;
	test_decades();
	scratch_remove(tmpdir);
	return done_testing();
}
