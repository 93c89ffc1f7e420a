/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Machine-made tiers in the store (archive/machine.c, schema 9): an
 * archive of schema 8 with data upgrades and keeps it; a tier lands whole
 * with its history row, or not at all; a name already there is refused
 * unless replaced; the mark shows in the JSON and as the EAF annotator,
 * and goes from a segment once a person edits it, and comes back when
 * that edit is reverted while the tier waits for review; a machine tier
 * deleted and put back by a revert is machine-made again, segment by
 * segment.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive-internal.h"
#include "scratch.h"
#include "tap.h"

static int64_t count_where(const char *dir, const char *table, const char *where)
{
	char path[512], sql[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/archive.db", dir);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", table, where);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* The first column of the first row of sql, or -1. */
static int64_t first_int(const char *dir, const char *sql)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/archive.db", dir);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* The search index's triggers call prl_fold(), which the archive
 * registers; here the text goes in as it is. */
static void fold_as_is(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_result_value(ctx, argv[0]);
}

static int exec_sql(const char *dir, const char *sql)
{
	char path[512];
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof(path), "%s/archive.db", dir);
	sqlite3_open(path, &db);
	sqlite3_create_function(db, "prl_fold", 1, SQLITE_UTF8, NULL, fold_as_is, NULL, NULL);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

int main(void)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_machine_segment segs[3] = {
		{100, 900, "", 0.8, 0},
		{1200, 2500, "bonjour", 0.3, 1},
		{2600, 2900, NULL, -1, 0},
	};
	struct prl_machine_tier t = {0};
	struct prl_archive *a = NULL;
	struct prl_annot_doc *doc = NULL;
	struct prl_segment_change ch = {0};
	char dir[256], media[300], sql[256];
	int64_t sid, tid, hid;

	if (scratch_make(dir, sizeof(dir), "machine") < 0)
		return 1;
	/* schema 8, with a recording and a tier a person made */
	ok(archive_create_at_version(dir, 8) == 0, "make a version-8 archive");
	is_int(exec_sql(dir,
			"INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
			" original_format, original_name, sha256) VALUES"
			" ('one', 3000, 16000, 1, 'wav', 'one.wav', 'a1');"
			"INSERT INTO tiers(recording_id, name, ord) VALUES (1, 'transcription', 0);"
			"INSERT INTO segments(tier_id, start_ms, end_ms, text, ord)"
			" VALUES (1, 0, 1000, 'la mézoun', 0);"),
	       SQLITE_OK, "with a recording, a tier and a segment");
	snprintf(media, sizeof(media), "%s/media", dir);
	mkdir(media, 0755);
	ok(prl_archive_open(dir, 0, &a, &err) == 0, "open it: %s", prl_buf_str(&err));
	if (!a)
		return done_testing();
	ok(prl_archive_schema_version(a) >= 9, "upgraded past schema 9 (%d)",
	   prl_archive_schema_version(a));
	is_int(count_where(dir, "segments", "text = 'la mézoun' AND origin IS NULL"), 1,
	       "the person's segment survived, unmarked");
	is_int(count_where(dir, "tiers", "name = 'transcription' AND origin IS NULL"), 1,
	       "so did the person's tier");

	t.name = "segments";
	t.tool = "parlers segment";
	t.annotator = "parlers segment (machine, not reviewed)";
	t.settings = "{\"min_pause_ms\":200}";
	t.segs = segs;
	t.nsegs = 3;
	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, &out) == 0, "a machine tier: %s",
	   prl_buf_str(&out));
	is_int(count_where(dir, "tiers",
			   "name = 'segments' AND origin = 'machine' AND origin_tool = 'parlers "
			   "segment' AND origin_settings = '{\"min_pause_ms\":200}'"),
	       1, "the tier carries the mark, the tool and its settings");
	is_int(count_where(dir, "segments", "origin = 'machine'"), 3, "every segment the mark");
	is_int(count_where(dir, "segments", "origin = 'machine' AND confidence IS NULL"), 1,
	       "no confidence where the tool gave none");
	is_int(count_where(dir, "segments", "text = 'bonjour' AND doubtful = 1"), 1,
	       "the doubtful one is flagged");
	is_int(count_where(dir, "audit", "action = 'tier.machine'"), 1, "one history row");

	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, NULL) == -PRL_EEXIST,
	   "the same name again is refused: %s", prl_archive_errmsg(a));
	t.replace = 1;
	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, NULL) == 0,
	   "replaced with --replace");
	is_int(count_where(dir, "tiers", "name = 'segments'"), 1, "one tier of that name");
	is_int(count_where(dir, "audit", "action = 'tier.delete'"), 1,
	       "the old one is kept in its history row");

	/* bad segments: nothing changes */
	segs[2].end_ms = 3500;
	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, NULL) == -PRL_EINVAL,
	   "a segment past the end: %s", prl_archive_errmsg(a));
	segs[2].end_ms = 2900;
	segs[1].start_ms = 800;
	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, NULL) == -PRL_EINVAL,
	   "overlapping segments: %s", prl_archive_errmsg(a));
	segs[1].start_ms = 1200;
	is_int(count_where(dir, "segments", "origin = 'machine'"), 3,
	       "the tier there is whole after the refusals");
	is_int(count_where(dir, "audit", "action = 'tier.machine'"), 2, "and no row was added");

	/* the JSON and the EAF annotator */
	prl_buf_reset(&out);
	ok(prl_archive_recording_json(a, &staff, 1, &out) == 0 &&
		   strstr(prl_buf_str(&out),
			  "\"origin\":\"machine\",\"origin_tool\":\"parlers "
			  "segment\",\"origin_settings\":{\"min_pause_ms\":200}") &&
		   strstr(prl_buf_str(&out), "\"origin\":\"machine\",\"confidence\":0.30,"
					     "\"doubtful\":true"),
	   "the recording JSON shows the marks");
	ok(prl_archive_annotations_load(a, &staff, 1, &doc) == 0 && doc->ntiers == 2 &&
		   doc->tiers[1].annotator &&
		   strcmp(doc->tiers[1].annotator, "parlers segment (machine, not reviewed)") == 0,
	   "exports name the tool as the tier's annotator");
	prl_annot_doc_free(doc);

	/* a person edits a segment: its mark goes, the others keep theirs */
	sid = count_where(dir, "segments", "text = 'bonjour'") == 1 ? 0 : -1;
	{
		sqlite3 *db;
		sqlite3_stmt *st;
		char path[300];

		snprintf(path, sizeof(path), "%s/archive.db", dir);
		if (sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "SELECT id FROM segments WHERE text = 'bonjour'", -1,
				       &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				sid = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		sqlite3_close(db);
	}
	ch.text = "bonjour à vous";
	ch.has_text = 1;
	prl_buf_reset(&out);
	ok(sid > 0 && prl_archive_segment_update(a, &staff, sid, 1, &ch, &out) == 0,
	   "a person corrects the text");
	is_int(count_where(dir, "segments",
			   "text = 'bonjour à vous' AND origin IS NULL AND confidence IS NULL AND "
			   "doubtful = 0"),
	       1, "that segment is no longer marked");
	is_int(count_where(dir, "segments", "origin = 'machine'"), 2, "the others still are");

	/* the correction reverted: the tool's words come back with its marks */
	hid = first_int(dir, "SELECT max(id) FROM audit WHERE action = 'segment.update'");
	prl_buf_reset(&out);
	ok(hid > 0 && prl_archive_revert(a, &staff, hid, &out) == 0, "the correction reverted: %s",
	   prl_archive_errmsg(a));
	snprintf(sql, sizeof(sql),
		 "id = %lld AND text = 'bonjour' AND origin = 'machine' AND"
		 " abs(confidence - 0.3) < 0.001 AND doubtful = 1",
		 (long long)sid);
	is_int(count_where(dir, "segments", sql), 1,
	       "the segment is machine-made again, doubtful, with its confidence");
	ok(strstr(prl_buf_str(&out), "\"origin\":\"machine\"") != NULL,
	   "and the answer says so: %s", prl_buf_str(&out));

	/* deleted, and the deletion reverted: the same */
	prl_buf_reset(&out);
	snprintf(sql, sizeof(sql), "SELECT version FROM segments WHERE id = %lld", (long long)sid);
	ok(prl_archive_segment_delete(a, &staff, sid, first_int(dir, sql), &out) == 0,
	   "the machine segment deleted: %s", prl_archive_errmsg(a));
	hid = first_int(dir, "SELECT max(id) FROM audit WHERE action = 'segment.delete'");
	prl_buf_reset(&out);
	ok(hid > 0 && prl_archive_revert(a, &staff, hid, &out) == 0, "the deletion reverted: %s",
	   prl_archive_errmsg(a));
	snprintf(sql, sizeof(sql),
		 "id = %lld AND origin = 'machine' AND abs(confidence - 0.3) < 0.001 AND"
		 " doubtful = 1",
		 (long long)sid);
	is_int(count_where(dir, "segments", sql), 1, "back with its marks");

	/* once the tier is accepted, a revert leaves the segment reviewed */
	ch.text = "bonjour à tous";
	snprintf(sql, sizeof(sql), "SELECT version FROM segments WHERE id = %lld", (long long)sid);
	prl_buf_reset(&out);
	ok(prl_archive_segment_update(a, &staff, sid, first_int(dir, sql), &ch, &out) == 0,
	   "corrected again");
	hid = first_int(dir, "SELECT max(id) FROM audit WHERE action = 'segment.update'");
	prl_buf_reset(&out);
	ok(prl_archive_tier_accept(a, &staff,
				   first_int(dir, "SELECT tier_id FROM segments WHERE"
						  " text = 'bonjour à tous'"),
				   &out) == 0,
	   "the tier accepted: %s", prl_archive_errmsg(a));
	prl_buf_reset(&out);
	ok(prl_archive_revert(a, &staff, hid, &out) == 0, "the correction reverted");
	snprintf(sql, sizeof(sql),
		 "id = %lld AND text = 'bonjour' AND origin IS NULL AND doubtful = 0",
		 (long long)sid);
	is_int(count_where(dir, "segments", sql), 1,
	       "the tool's words, no mark: the tier was reviewed");

	/* a machine tier deleted, and the deletion reverted: the tier and
	 * each segment come back with the marks they had */
	t.name = "pauses";
	t.replace = 0;
	ok(prl_archive_machine_tier_put(a, &staff, 1, &t, NULL, NULL) == 0, "another machine tier");
	tid = first_int(dir, "SELECT id FROM tiers WHERE name = 'pauses'");
	prl_buf_reset(&out);
	ok(tid > 0 && prl_archive_tier_delete(a, &staff, tid, &out) == 0, "deleted: %s",
	   prl_buf_str(&out));
	is_int(count_where(dir, "tiers", "name = 'pauses'"), 0, "the tier is gone");
	hid = first_int(dir, "SELECT max(id) FROM audit WHERE action = 'tier.delete'");
	prl_buf_reset(&out);
	ok(hid > 0 && prl_archive_revert(a, &staff, hid, &out) == 0, "the deletion reverted: %s",
	   hid > 0 ? prl_archive_errmsg(a) : "no history row");
	is_int(count_where(dir, "tiers",
			   "name = 'pauses' AND origin = 'machine' AND origin_tool = 'parlers "
			   "segment' AND origin_settings = '{\"min_pause_ms\":200}'"),
	       1, "the tier is back with its mark, its tool and its settings");
	snprintf(sql, sizeof(sql), "tier_id = %lld AND origin = 'machine'", (long long)tid);
	is_int(count_where(dir, "segments", sql), 3, "every segment is machine-made again");
	snprintf(sql, sizeof(sql),
		 "tier_id = %lld AND text = 'bonjour' AND doubtful = 1 AND confidence = 0.3",
		 (long long)tid);
	is_int(count_where(dir, "segments", sql), 1, "the doubtful one is flagged again");
	snprintf(sql, sizeof(sql), "tier_id = %lld AND confidence IS NULL", (long long)tid);
	is_int(count_where(dir, "segments", sql), 1, "no confidence where there was none");
	prl_buf_reset(&out);
	ok(prl_archive_tier_accept(a, &staff, tid, &out) == 0,
	   "the restored tier can be reviewed as a machine tier: %s", prl_archive_errmsg(a));

	/* a snapshot written before the marks were kept in it restores as a
	 * tier a person made, never a failure */
	prl_buf_reset(&out);
	ok(prl_archive_tier_delete(a, &staff, tid, &out) == 0, "deleted again");
	hid = first_int(dir, "SELECT max(id) FROM audit WHERE action = 'tier.delete'");
	is_int(exec_sql(dir,
			"UPDATE audit SET before = json_remove(before, '$.origin',"
			" '$.origin_tool', '$.origin_settings', '$.segments[0].origin',"
			" '$.segments[0].confidence', '$.segments[0].doubtful')"
			" WHERE id = (SELECT max(id) FROM audit WHERE action = 'tier.delete')"),
	       SQLITE_OK, "its snapshot without the marks");
	prl_buf_reset(&out);
	ok(prl_archive_revert(a, &staff, hid, &out) == 0, "still reverts: %s",
	   prl_archive_errmsg(a));
	snprintf(sql, sizeof(sql), "tier_id = %lld AND doubtful = 0", (long long)tid);
	is_int(count_where(dir, "segments", sql), 3, "its segments whole");

	prl_archive_close(a);
	prl_buf_release(&err);
	prl_buf_release(&out);
	scratch_remove(dir);
	return done_testing();
}
