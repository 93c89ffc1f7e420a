/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tiers made by a tool (speech segmentation, forced alignment): stored
 * with the mark "machine", the tool and its settings on the tier, and a
 * confidence on each segment, until a person edits the segment (a trigger
 * of schema 9 takes the segment's mark away on any change of its times or
 * text, whichever path makes it).
 *
 * Always holds: a machine-made tier lands whole or not at all, in one
 * transaction with its history row; a tier it replaces leaves a
 * "tier.delete" row with its snapshot in the same transaction, so a revert
 * can bring it back.  A reviewer accepts a tier whole or one segment at a
 * time: the marks go, the tool and settings stay on the tier as its
 * provenance, and a history row says who accepted what.  Expected
 * workload: one tier of up to some thousands of segments at a time, one
 * prepared insert each.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

/* Removes tier tid (of rec_id) with its segments, leaving its snapshot in
 * a "tier.delete" history row.  Inside the caller's transaction. */
static int replace_old(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
		       int64_t tid, const char *name)
{
	sqlite3_stmt *st;
	char *snapshot = NULL;
	int64_t dependents = 0;
	int ret;

	if (!(st = archive_stmt(a, ST_TIER_DEPENDENTS)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, tid);
	if (sqlite3_step(st) == SQLITE_ROW)
		dependents = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (dependents)
		return archive_fail(a, -PRL_EINVAL,
				    "tier \"%s\" has tiers or segments that depend on it: it is "
				    "not replaced",
				    name);
	if (!(st = archive_stmt(a, ST_TIER_SNAPSHOT)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, tid);
	if (sqlite3_step(st) == SQLITE_ROW)
		snapshot = archive_col_strdup(st, 0);
	sqlite3_reset(st);
	if (!snapshot)
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_DELETE_SEGMENTS)))
		goto end;
	sqlite3_bind_int64(st, 1, tid);
	if ((ret = archive_step_done(a, st, "deleting a tier's segments")) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, tid);
	if ((ret = archive_step_done(a, st, "deleting a tier")) < 0)
		goto end;
	ret = archive_audit(a, v, rec_id, tid, 0, "tier.delete", snapshot, NULL, 0);
end:
	free(snapshot);
	return ret;
}

static int check_tier(struct prl_archive *a, const struct prl_machine_tier *t, int64_t duration_ms)
{
	size_t i;

	if (!t->name || !*t->name || strlen(t->name) > PRL_NAME_MAX ||
	    !prl_utf8_valid(t->name, strlen(t->name)))
		return archive_fail(a, -PRL_EINVAL, "a tier needs a name of 1 to %d bytes of UTF-8",
				    PRL_NAME_MAX);
	if (t->type && strcmp(t->type, "transcription") != 0 && strcmp(t->type, "translation") != 0)
		return archive_fail(a, -PRL_EINVAL,
				    "a machine-made tier is a transcription or a translation");
	for (i = 0; i < t->nsegs; i++) {
		const struct prl_machine_segment *s = &t->segs[i];
		const char *text = s->text ? s->text : "";

		if (s->start_ms < 0 || s->end_ms <= s->start_ms || s->end_ms > duration_ms)
			return archive_fail(
				a, -PRL_EINVAL,
				"segment %zu (%lld-%lld ms) is not within the recording "
				"(%lld ms)",
				i + 1, (long long)s->start_ms, (long long)s->end_ms,
				(long long)duration_ms);
		if (i > 0 && s->start_ms < t->segs[i - 1].end_ms)
			return archive_fail(a, -PRL_EINVAL, "segment %zu overlaps the one before",
					    i + 1);
		if (strlen(text) > PRL_TEXT_MAX || !prl_utf8_valid(text, strlen(text)))
			return archive_fail(a, -PRL_EINVAL,
					    "the text of segment %zu is not UTF-8 of at most %d "
					    "bytes",
					    i + 1, PRL_TEXT_MAX);
	}
	return 0;
}

int prl_archive_machine_tier_put(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
				 const struct prl_machine_tier *t, int64_t *tier_id,
				 struct prl_buf *out)
{
	struct prl_recording_brief b = {0};
	struct prl_buf after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t old = 0, tid = 0;
	size_t i;
	int ret, rc;

	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL)) < 0 ||
	    (ret = archive_recording_brief(a, rec_id, &b)) < 0 ||
	    (ret = check_tier(a, t, b.duration_ms)) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_BY_NAME)))
		goto end;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, t->name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		old = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = archive_sql_fail(a, "looking for a tier");
		goto end;
	}
	if (old && !t->replace) {
		ret = archive_fail(
			a, -PRL_EEXIST,
			"recording %lld already has a tier \"%s\" (--replace replaces it)",
			(long long)rec_id, t->name);
		goto end;
	}
	if (old && (ret = replace_old(a, v, rec_id, old, t->name)) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_MACHINE_TIER_ADD)))
		goto end;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, t->name);
	archive_bind_text(st, 3, t->type ? t->type : "transcription");
	archive_bind_text(st, 4, t->language);
	/* the annotator EAF shows: the mark survives a trip through ELAN */
	archive_bind_text(st, 5, t->annotator ? t->annotator : t->tool);
	archive_bind_text(st, 6, t->tool);
	archive_bind_text(st, 7, t->settings);
	if ((ret = archive_step_done(a, st, "adding a tier")) < 0)
		goto end;
	tid = sqlite3_last_insert_rowid(a->db);
	for (i = 0; i < t->nsegs; i++) {
		const struct prl_machine_segment *s = &t->segs[i];

		ret = -PRL_ESQL;
		if (!(st = archive_stmt(a, ST_MACHINE_SEGMENT_ADD)))
			goto end;
		sqlite3_bind_int64(st, 1, tid);
		sqlite3_bind_int64(st, 2, s->start_ms);
		sqlite3_bind_int64(st, 3, s->end_ms);
		archive_bind_text(st, 4, s->text ? s->text : "");
		sqlite3_bind_int64(st, 5, (int64_t)i);
		if (s->confidence >= 0)
			sqlite3_bind_double(st, 6, s->confidence);
		sqlite3_bind_int(st, 7, s->doubtful ? 1 : 0);
		if ((ret = archive_step_done(a, st, "adding a segment")) < 0)
			goto end;
	}
	prl_buf_addf(&after, "{\"id\":%lld,\"recording_id\":%lld,\"name\":", (long long)tid,
		     (long long)rec_id);
	prl_json_str(&after, t->name);
	prl_buf_addstr(&after, ",\"type\":");
	prl_json_str(&after, t->type ? t->type : "transcription");
	prl_buf_addstr(&after, ",\"origin\":\"machine\",\"origin_tool\":");
	prl_json_str(&after, t->tool);
	prl_buf_addf(&after, ",\"origin_settings\":%s,\"segments\":%zu,\"replaced\":%s}",
		     t->settings ? t->settings : "null", t->nsegs, old ? "true" : "false");
	if ((ret = archive_audit(a, v, rec_id, tid, 0, "tier.machine", NULL, after.data, 0)) < 0)
		goto end;
end:
	if ((ret = archive_edit_end(a, ret)) == 0) {
		if (tier_id)
			*tier_id = tid;
		if (out)
			prl_buf_add(out, after.data, after.len);
	}
	prl_recording_brief_clear(&b);
	prl_buf_release(&after);
	return ret;
}

/* ---- review: a person accepts what a tool made ---- */

static int may_review(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id)
{
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins may accept this");
	return prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL);
}

/* Runs st (bound to id) and gives the rows it changed, or -PRL_ESQL. */
static int64_t run_update(struct prl_archive *a, enum stmt_id id, int64_t key, const char *what)
{
	sqlite3_stmt *st = archive_stmt(a, id);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, key);
	if (archive_step_done(a, st, what) < 0)
		return -PRL_ESQL;
	return sqlite3_changes(a->db);
}

/* The tier's mark after the change: "machine" or null, into b. */
static int tier_origin_after(struct prl_archive *a, int64_t tier_id, int64_t rec_id,
			     int64_t accepted, struct prl_buf *b)
{
	sqlite3_stmt *st = archive_stmt(a, ST_ACCEPT_TIER_INFO);
	int machine = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, tier_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		machine = sqlite3_column_type(st, 2) != SQLITE_NULL;
	sqlite3_reset(st);
	return prl_buf_addf(b,
			    "{\"tier_id\":%lld,\"recording_id\":%lld,\"accepted\":%lld,"
			    "\"tier_origin\":%s}",
			    (long long)tier_id, (long long)rec_id, (long long)accepted,
			    machine ? "\"machine\"" : "null");
}

int prl_archive_tier_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t rec_id = 0, marked = 0, n;
	int ret, rc, machine = 0;
	char *name = NULL, *tool = NULL;

	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_ACCEPT_TIER_INFO)))
		goto end;
	sqlite3_bind_int64(st, 1, tier_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rec_id = sqlite3_column_int64(st, 0);
		name = archive_col_strdup(st, 1);
		machine = sqlite3_column_type(st, 2) != SQLITE_NULL;
		tool = archive_col_strdup(st, 3);
		marked = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no such tier")
					: archive_sql_fail(a, "looking for a tier");
		goto end;
	}
	if ((ret = may_review(a, v, rec_id)) < 0)
		goto end;
	if (!machine && marked == 0) {
		ret = archive_fail(a, -PRL_EINVAL,
				   "tier \"%s\" is not machine-made, or was accepted already",
				   name ? name : "");
		goto end;
	}
	if ((n = run_update(a, ST_ACCEPT_TIER_SEGMENTS, tier_id, "accepting segments")) < 0 ||
	    run_update(a, ST_ACCEPT_TIER, tier_id, "accepting a tier") < 0) {
		ret = -PRL_ESQL;
		goto end;
	}
	prl_buf_addstr(&before, "{\"name\":");
	prl_json_str(&before, name);
	prl_buf_addstr(&before, ",\"origin\":\"machine\",\"origin_tool\":");
	prl_json_str(&before, tool);
	prl_buf_addf(&before, ",\"machine_segments\":%lld}", (long long)marked);
	if ((ret = tier_origin_after(a, tier_id, rec_id, n, &after)) < 0 ||
	    (ret = archive_audit(a, v, rec_id, tier_id, 0, "tier.accept", before.data, after.data,
				 0)) < 0)
		goto end;
end:
	if ((ret = archive_edit_end(a, ret)) == 0 && out)
		prl_buf_add(out, after.data, after.len);
	free(name);
	free(tool);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

int prl_archive_segment_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t seg_id,
			       struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t rec_id = 0, tier_id = 0;
	int ret, rc, machine = 0, doubtful = 0, has_conf = 0;
	double conf = 0;

	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_ACCEPT_SEGMENT_INFO)))
		goto end;
	sqlite3_bind_int64(st, 1, seg_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tier_id = sqlite3_column_int64(st, 0);
		rec_id = sqlite3_column_int64(st, 1);
		machine = sqlite3_column_type(st, 2) != SQLITE_NULL;
		has_conf = sqlite3_column_type(st, 3) != SQLITE_NULL;
		conf = sqlite3_column_double(st, 3);
		doubtful = sqlite3_column_int(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no such segment")
					: archive_sql_fail(a, "looking for a segment");
		goto end;
	}
	if ((ret = may_review(a, v, rec_id)) < 0)
		goto end;
	if (!machine) {
		ret = archive_fail(a, -PRL_EINVAL,
				   "segment %lld is not machine-made, or was accepted already",
				   (long long)seg_id);
		goto end;
	}
	if (run_update(a, ST_ACCEPT_SEGMENT, seg_id, "accepting a segment") < 0 ||
	    run_update(a, ST_ACCEPT_TIER, tier_id, "accepting a tier") < 0) {
		ret = -PRL_ESQL;
		goto end;
	}
	prl_buf_addstr(&before, "{\"origin\":\"machine\",\"confidence\":");
	if (has_conf)
		prl_buf_addf(&before, "%.3f", conf);
	else
		prl_buf_addstr(&before, "null");
	prl_buf_addf(&before, ",\"doubtful\":%s}", doubtful ? "true" : "false");
	if ((ret = tier_origin_after(a, tier_id, rec_id, 1, &after)) < 0 ||
	    (ret = archive_audit(a, v, rec_id, tier_id, seg_id, "segment.accept", before.data,
				 after.data, 0)) < 0)
		goto end;
end:
	if ((ret = archive_edit_end(a, ret)) == 0 && out)
		prl_buf_add(out, after.data, after.len);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

int prl_archive_tier_id(struct prl_archive *a, int64_t rec_id, const char *name, int64_t *tier_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TIER_BY_NAME);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*tier_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return archive_fail(a, -PRL_ENOTFOUND, "recording %lld has no tier \"%s\"",
				    (long long)rec_id, name);
	return rc == SQLITE_ROW ? 0 : archive_sql_fail(a, "looking for a tier");
}
