/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Editing annotations: segments added, changed and deleted one at a time,
 * tiers added and renamed, a recording's access level changed, and the
 * audit history that records each change and can undo it.
 *
 * Always holds: every change is one transaction that also writes its audit
 * row (so the history is never missing a change, nor tells of one that did
 * not happen); a change is checked completely before anything is written,
 * and a failed check changes nothing; a segment changes only from the
 * version its editor read (optimistic concurrency: the UPDATE itself says
 * "AND version = ?", so two editors can never both win); a tier keeps its
 * segments in time order.
 *
 * Durability: the archive runs WAL with synchronous=NORMAL, under which a
 * commit is in the WAL file (the kernel's page cache) before it returns:
 * it survives the process being killed, but a power cut may lose the last
 * commits.  An annotator's acknowledged edit must not be lost either way,
 * so edits commit with synchronous=FULL (one fsync of the WAL each; edits
 * come at human pace).
 *
 * Expected workload: a few edits a second across all annotators; a tier
 * of up to some tens of thousands of segments (renumbering it after a
 * time change is one UPDATE over the tier).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive-internal.h"

#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000

struct seg {
	int64_t id;
	int64_t tier_id;
	int64_t start_ms;
	int64_t end_ms;
	char *text; /* owned */
	int64_t version;
	int64_t rec_id;
	int is_point;
	int machine;	   /* made by a tool, not yet edited nor accepted */
	double confidence; /* the tool's, when machine; -1: none */
	int doubtful;	   /* the tool says: check this one first */
};

static void seg_clear(struct seg *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

static int may_edit(struct prl_archive *a, const struct prl_viewer *v)
{
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins may change this");
	return 0;
}

/* The write gate for recording rec_id, asked as soon as a change knows
 * its recording, so that a refusal comes before any other answer (422,
 * 409); archive_audit() asks it again for every change. */
static int may_write(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id)
{
	return prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL);
}

/* ---- JSON of what is ---- */

static void seg_json(struct prl_buf *b, const struct seg *s)
{
	prl_buf_addf(b, "{\"id\":%lld,\"tier_id\":%lld,\"start_ms\":%lld,\"end_ms\":%lld,\"text\":",
		     (long long)s->id, (long long)s->tier_id, (long long)s->start_ms,
		     (long long)s->end_ms);
	prl_json_str(b, s->text ? s->text : "");
	prl_buf_addf(b, ",\"version\":%lld", (long long)s->version);
	/* a machine-made segment says so, as the recording JSON does, so that
	 * the history keeps the marks a revert gives back */
	if (s->machine) {
		prl_buf_addstr(b, ",\"origin\":\"machine\",\"confidence\":");
		if (s->confidence >= 0)
			prl_buf_addf(b, "%.3f", s->confidence);
		else
			prl_buf_addstr(b, "null");
		prl_buf_addf(b, ",\"doubtful\":%s", s->doubtful ? "true" : "false");
	}
	prl_buf_addch(b, '}');
}

/* The marks of s as the trigger of schema 9 leaves them after a change
 * of its times or text: none. */
static void seg_unmark(struct seg *s)
{
	s->machine = 0;
	s->confidence = -1;
	s->doubtful = 0;
}

/* The marks a history row's segment (o, from seg_json) had, into s. */
static void seg_marks_of(struct seg *s, json_t *o)
{
	json_t *c = json_object_get(o, "confidence");
	const char *origin = json_string_value(json_object_get(o, "origin"));

	seg_unmark(s);
	if (!origin || strcmp(origin, "machine") != 0)
		return;
	s->machine = 1;
	s->doubtful = json_is_true(json_object_get(o, "doubtful"));
	if (json_is_number(c) && json_number_value(c) >= 0 && json_number_value(c) <= 1)
		s->confidence = json_number_value(c);
}

/* Gives s (just restored by a revert) the marks it carries, when its tier
 * still waits for review; s says what it has after. */
static int seg_marks_back(struct prl_archive *a, struct seg *s)
{
	sqlite3_stmt *st;
	int ret;

	if (!s->machine)
		return 0;
	if (!(st = archive_stmt(a, ST_SEGMENT_MARKS_BACK)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, s->id);
	if (s->confidence >= 0)
		sqlite3_bind_double(st, 2, s->confidence);
	sqlite3_bind_int(st, 3, s->doubtful);
	if ((ret = archive_step_done(a, st, "marking a segment machine-made")) < 0)
		return ret;
	if (sqlite3_changes(a->db) != 1)
		seg_unmark(s);
	return 0;
}

static int seg_load(struct prl_archive *a, int64_t sid, struct seg *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SEGMENT_GET);
	struct seg s;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, sid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no segment %lld", (long long)sid)
			       : archive_sql_fail(a, "reading a segment");
	}
	memset(&s, 0, sizeof(s));
	s.id = sqlite3_column_int64(st, 0);
	s.tier_id = sqlite3_column_int64(st, 1);
	s.start_ms = sqlite3_column_int64(st, 2);
	s.end_ms = sqlite3_column_int64(st, 3);
	s.text = archive_col_strdup(st, 4);
	s.version = sqlite3_column_int64(st, 5);
	s.rec_id = sqlite3_column_int64(st, 6);
	s.is_point = sqlite3_column_int(st, 7);
	s.machine = sqlite3_column_type(st, 8) != SQLITE_NULL;
	s.confidence =
		sqlite3_column_type(st, 9) != SQLITE_NULL ? sqlite3_column_double(st, 9) : -1;
	s.doubtful = sqlite3_column_int(st, 10) != 0;
	sqlite3_reset(st);
	if (!s.text) {
		seg_clear(&s);
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

struct tier {
	int64_t id;
	int64_t rec_id;
	char *name;	/* owned */
	char *type;	/* owned */
	char *language; /* owned, may be NULL */
	char *speaker;	/* owned, may be NULL */
	int is_point;
};

static void tier_clear(struct tier *t)
{
	free(t->name);
	free(t->type);
	free(t->language);
	free(t->speaker);
	memset(t, 0, sizeof(*t));
}

static int tier_load(struct prl_archive *a, int64_t tid, struct tier *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TIER_GET);
	struct tier t;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, tid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no tier %lld", (long long)tid)
			       : archive_sql_fail(a, "reading a tier");
	}
	memset(&t, 0, sizeof(t));
	t.id = sqlite3_column_int64(st, 0);
	t.rec_id = sqlite3_column_int64(st, 1);
	t.name = archive_col_strdup(st, 2);
	t.type = archive_col_strdup(st, 3);
	t.language = archive_col_strdup(st, 4);
	t.speaker = archive_col_strdup(st, 5);
	t.is_point = sqlite3_column_int(st, 6);
	sqlite3_reset(st);
	if (!t.name || !t.type) {
		tier_clear(&t);
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	}
	*out = t;
	return 0;
}

static void tier_json(struct prl_buf *b, const struct tier *t)
{
	prl_buf_addf(b, "{\"id\":%lld,\"recording_id\":%lld,\"name\":", (long long)t->id,
		     (long long)t->rec_id);
	prl_json_str(b, t->name);
	prl_buf_addstr(b, ",\"type\":");
	prl_json_str(b, t->type);
	prl_buf_addstr(b, ",\"language\":");
	prl_json_str(b, t->language);
	prl_buf_addstr(b, ",\"speaker\":");
	prl_json_str(b, t->speaker);
	prl_buf_addf(b, ",\"point\":%s}", t->is_point ? "true" : "false");
}

/* ---- checks ---- */

/* The NFC form of text into *out (caller frees); -PRL_EINVAL when text is
 * not UTF-8 or too long. */
static int clean_text(struct prl_archive *a, const char *text, size_t max, const char *what,
		      char **out)
{
	size_t n = strlen(text);
	char *t;

	if (n > max)
		return archive_fail(a, -PRL_EINVAL, "%s is longer than %zu bytes", what, max);
	if (!prl_utf8_valid(text, n))
		return archive_fail(a, -PRL_EINVAL, "%s is not valid UTF-8", what);
	if (!(t = prl_annot_text_nfc(text, n)))
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	if (strlen(t) > max) {
		free(t);
		return archive_fail(a, -PRL_EINVAL, "%s is longer than %zu bytes", what, max);
	}
	*out = t;
	return 0;
}

/* The checks prl_annot_validate() makes on a document, for one segment:
 * in order, within the recording, a point on a point tier, and no overlap
 * in a tier of intervals; and, for an edit, no interval of zero length
 * unless keeps_span (a revert, or the segment's span unchanged). */
static int check_segment(struct prl_archive *a, const struct seg *s, int64_t duration_ms,
			 int keeps_span)
{
	sqlite3_stmt *st;
	int rc;

	if (s->start_ms < 0)
		return archive_fail(a, -PRL_EINVAL, "the segment starts before 0 (%lld ms)",
				    (long long)s->start_ms);
	if (s->end_ms < s->start_ms)
		return archive_fail(a, -PRL_EINVAL,
				    "the segment ends (%lld ms) before it starts (%lld ms)",
				    (long long)s->end_ms, (long long)s->start_ms);
	if (s->end_ms > duration_ms)
		return archive_fail(a, -PRL_EINVAL,
				    "the segment ends at %lld ms, after the recording (%lld ms)",
				    (long long)s->end_ms, (long long)duration_ms);
	if (s->is_point) {
		if (s->end_ms != s->start_ms)
			return archive_fail(a, -PRL_EINVAL,
					    "this tier holds points: end_ms must equal start_ms");
		return 0;
	}
	/* an interval of no length has no place in a tier of intervals:
	 * TextGrid cannot hold it, so an export would have to drop it.  One
	 * that an import brought keeps its span through text edits and
	 * reverts; no edit makes a new one. */
	if (s->end_ms == s->start_ms && keeps_span)
		return 0;
	if (s->end_ms == s->start_ms)
		return archive_fail(
			a, -PRL_EINVAL,
			"a segment of this tier lasts at least 1 ms (an instant belongs "
			"on a tier of points)");
	if (!(st = archive_stmt(a, ST_SEGMENT_OVERLAP)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, s->tier_id);
	sqlite3_bind_int64(st, 2, s->start_ms);
	sqlite3_bind_int64(st, 3, s->end_ms);
	if (s->id > 0)
		sqlite3_bind_int64(st, 4, s->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int ret =
			archive_fail(a, -PRL_EINVAL,
				     "the segment overlaps segment %lld (%lld-%lld ms) in its tier",
				     (long long)sqlite3_column_int64(st, 0),
				     (long long)sqlite3_column_int64(st, 1),
				     (long long)sqlite3_column_int64(st, 2));
		sqlite3_reset(st);
		return ret;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "checking overlaps");
}

static int renumber(struct prl_archive *a, int64_t tier_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SEGMENTS_RENUMBER);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, tier_id);
	return archive_step_done(a, st, "ordering segments");
}

static int duration_of(struct prl_archive *a, int64_t rec_id, int64_t *out)
{
	struct prl_recording_brief b;
	int ret;

	if ((ret = archive_recording_brief(a, rec_id, &b)) < 0)
		return ret;
	*out = b.duration_ms;
	prl_recording_brief_clear(&b);
	return 0;
}

/* ---- segments, inside the caller's transaction ---- */

/* Inserts s (s->id 0 for a new id) at version, audits it, and fills s->id. */
static int seg_insert(struct prl_archive *a, const struct prl_viewer *v, struct seg *s,
		      int64_t version, const char *action, const char *before, int64_t reverts)
{
	struct prl_buf after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t duration;
	int ret;

	if ((ret = duration_of(a, s->rec_id, &duration)) < 0 ||
	    (ret = check_segment(a, s, duration, reverts > 0)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_SEGMENT_INSERT)))
		return -PRL_ESQL;
	if (s->id > 0)
		sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, s->tier_id);
	sqlite3_bind_int64(st, 3, s->start_ms);
	sqlite3_bind_int64(st, 4, s->end_ms);
	archive_bind_text(st, 5, s->text);
	sqlite3_bind_int64(st, 6, version);
	if ((ret = archive_step_done(a, st, "adding a segment")) < 0)
		return ret;
	s->id = sqlite3_last_insert_rowid(a->db);
	s->version = version;
	if ((ret = renumber(a, s->tier_id)) < 0)
		return ret;
	if (!reverts)
		seg_unmark(s);
	else if ((ret = seg_marks_back(a, s)) < 0)
		return ret;
	seg_json(&after, s);
	ret = archive_audit(a, v, s->rec_id, s->tier_id, s->id, action, before, after.data,
			    reverts);
	prl_buf_release(&after);
	return ret;
}

/* Changes cur into want (times and text) if cur is still at version. */
static int seg_change(struct prl_archive *a, const struct prl_viewer *v, const struct seg *cur,
		      struct seg *want, int64_t version, int64_t reverts, struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t duration;
	int ret;

	if (cur->version != version) {
		seg_json(out, cur);
		return archive_fail(a, -PRL_ECONFLICT,
				    "segment %lld was changed by someone else (now version %lld)",
				    (long long)cur->id, (long long)cur->version);
	}
	if ((ret = duration_of(a, cur->rec_id, &duration)) < 0 ||
	    (ret = check_segment(a, want, duration,
				 reverts > 0 || (want->start_ms == cur->start_ms &&
						 want->end_ms == cur->end_ms))) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_SEGMENT_UPDATE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, cur->id);
	sqlite3_bind_int64(st, 2, want->start_ms);
	sqlite3_bind_int64(st, 3, want->end_ms);
	archive_bind_text(st, 4, want->text);
	sqlite3_bind_int64(st, 5, version);
	if ((ret = archive_step_done(a, st, "changing a segment")) < 0)
		return ret;
	if (sqlite3_changes(a->db) != 1) /* cannot happen inside the transaction */
		return archive_fail(a, -PRL_ECONFLICT, "segment %lld was changed by someone else",
				    (long long)cur->id);
	want->version = version + 1;
	if ((cur->start_ms != want->start_ms || cur->end_ms != want->end_ms) &&
	    (ret = renumber(a, cur->tier_id)) < 0)
		return ret;
	/* the update took the marks away; a revert gives back those the
	 * segment had before the change it undoes */
	if (!reverts)
		seg_unmark(want);
	else if ((ret = seg_marks_back(a, want)) < 0)
		return ret;
	seg_json(&before, cur);
	seg_json(&after, want);
	ret = archive_audit(a, v, cur->rec_id, cur->tier_id, cur->id,
			    reverts ? "segment.revert" : "segment.update", before.data, after.data,
			    reverts);
	if (ret == 0)
		seg_json(out, want);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

static int seg_remove(struct prl_archive *a, const struct prl_viewer *v, const struct seg *cur,
		      int64_t version, int64_t reverts, struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t children;
	int ret;

	if (cur->version != version) {
		seg_json(out, cur);
		return archive_fail(a, -PRL_ECONFLICT,
				    "segment %lld was changed by someone else (now version %lld)",
				    (long long)cur->id, (long long)cur->version);
	}
	/* dependent segments would go with it (ON DELETE CASCADE) without a
	 * line in the history each: they are deleted first, one by one */
	if (!(st = archive_stmt(a, ST_SEGMENT_CHILDREN)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, cur->id);
	children = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (children)
		return archive_fail(a, -PRL_EINVAL,
				    "segment %lld has %lld dependent segments in other tiers: "
				    "delete those first",
				    (long long)cur->id, (long long)children);
	if (!(st = archive_stmt(a, ST_SEGMENT_DELETE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, cur->id);
	sqlite3_bind_int64(st, 2, version);
	if ((ret = archive_step_done(a, st, "deleting a segment")) < 0)
		return ret;
	seg_json(&before, cur);
	ret = archive_audit(a, v, cur->rec_id, cur->tier_id, cur->id,
			    reverts ? "segment.revert" : "segment.delete", before.data, NULL,
			    reverts);
	if (ret == 0)
		prl_buf_addf(out, "{\"id\":%lld,\"deleted\":true}", (long long)cur->id);
	prl_buf_release(&before);
	return ret;
}

/* ---- segments: the public calls ---- */

int prl_archive_segment_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    const struct prl_segment_change *c, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct tier t;
	struct seg s;
	int ret;

	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if (!c->has_tier || !c->has_start || !c->has_end)
		return archive_fail(a, -PRL_EINVAL,
				    "a new segment needs tier_id, start_ms, end_ms");
	if ((ret = clean_text(a, c->has_text && c->text ? c->text : "", PRL_TEXT_MAX, "the text",
			      &s.text)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		goto end;
	if ((ret = may_write(a, v, rec_id)) == 0 && (ret = tier_load(a, c->tier_id, &t)) == 0 &&
	    t.rec_id != rec_id)
		ret = archive_fail(a, -PRL_EINVAL, "tier %lld is not one of recording %lld's",
				   (long long)c->tier_id, (long long)rec_id);
	if (ret == 0) {
		s.tier_id = t.id;
		s.rec_id = rec_id;
		s.is_point = t.is_point;
		s.start_ms = c->start_ms;
		s.end_ms = c->end_ms;
		ret = seg_insert(a, v, &s, 1, "segment.add", NULL, 0);
	}
	if (ret == 0)
		seg_json(&res, &s);
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
end:
	prl_buf_release(&res);
	tier_clear(&t);
	seg_clear(&s);
	return ret;
}

int prl_archive_segment_update(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			       int64_t version, const struct prl_segment_change *c,
			       struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct seg cur, want;
	char *text = NULL;
	int ret;

	memset(&cur, 0, sizeof(cur));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if (c->has_text &&
	    (ret = clean_text(a, c->text ? c->text : "", PRL_TEXT_MAX, "the text", &text)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		goto end;
	if ((ret = seg_load(a, sid, &cur)) == 0 && (ret = may_write(a, v, cur.rec_id)) == 0) {
		if (c->has_tier && c->tier_id != cur.tier_id) {
			ret = archive_fail(a, -PRL_EINVAL,
					   "a segment stays in its tier: delete it "
					   "and add it to the other one");
		} else {
			want = cur;
			want.start_ms = c->has_start ? c->start_ms : cur.start_ms;
			want.end_ms = c->has_end ? c->end_ms : cur.end_ms;
			want.text = text ? text : cur.text;
			ret = seg_change(a, v, &cur, &want, version, 0, &res);
		}
	}
	ret = archive_edit_end(a, ret);
	if (ret == 0 || ret == -PRL_ECONFLICT)
		prl_buf_add(out, prl_buf_str(&res), res.len);
end:
	prl_buf_release(&res);
	seg_clear(&cur);
	free(text);
	return ret;
}

int prl_archive_segment_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			       int64_t version, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct seg cur;
	int ret;

	memset(&cur, 0, sizeof(cur));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = seg_load(a, sid, &cur)) == 0 && (ret = may_write(a, v, cur.rec_id)) == 0)
		ret = seg_remove(a, v, &cur, version, 0, &res);
	ret = archive_edit_end(a, ret);
	if (ret == 0 || ret == -PRL_ECONFLICT)
		prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	seg_clear(&cur);
	return ret;
}

/* ---- segments: inside the caller's transaction (proposals.c) ---- */

int archive_segment_text_set(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			     int64_t version, const char *text, struct prl_buf *out)
{
	struct seg cur, want;
	char *clean = NULL;
	int ret;

	memset(&cur, 0, sizeof(cur));
	if ((ret = may_edit(a, v)) < 0 ||
	    (ret = clean_text(a, text ? text : "", PRL_TEXT_MAX, "the text", &clean)) < 0)
		return ret;
	if ((ret = seg_load(a, sid, &cur)) == 0 && (ret = may_write(a, v, cur.rec_id)) == 0) {
		want = cur;
		want.text = clean;
		ret = seg_change(a, v, &cur, &want, version, 0, out);
	}
	seg_clear(&cur);
	free(clean);
	return ret;
}

int archive_segment_insert(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			   int64_t tier_id, int64_t start_ms, int64_t end_ms, const char *text,
			   struct prl_buf *out)
{
	struct tier t;
	struct seg s;
	int ret;

	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	if ((ret = may_edit(a, v)) < 0 ||
	    (ret = clean_text(a, text ? text : "", PRL_TEXT_MAX, "the text", &s.text)) < 0)
		return ret;
	if ((ret = may_write(a, v, rec_id)) == 0 && (ret = tier_load(a, tier_id, &t)) == 0 &&
	    t.rec_id != rec_id)
		ret = archive_fail(a, -PRL_EINVAL, "tier %lld is not one of recording %lld's",
				   (long long)tier_id, (long long)rec_id);
	if (ret == 0) {
		s.tier_id = t.id;
		s.rec_id = rec_id;
		s.is_point = t.is_point;
		s.start_ms = start_ms;
		s.end_ms = end_ms;
		if ((ret = seg_insert(a, v, &s, 1, "segment.add", NULL, 0)) == 0)
			seg_json(out, &s);
	}
	tier_clear(&t);
	seg_clear(&s);
	return ret;
}

/* ---- tiers ---- */

static const char *const tier_types[] = {"transcription", "translation", "gloss", "note"};

static int tier_name_free(struct prl_archive *a, int64_t rec_id, const char *name)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TIER_BY_NAME);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return archive_fail(a, -PRL_EEXIST, "the recording already has a tier named '%s'",
				    name);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding a tier");
}

static int clean_name(struct prl_archive *a, const char *name, char **out)
{
	int ret;

	if (!name)
		return archive_fail(a, -PRL_EINVAL, "a tier needs a name");
	if ((ret = clean_text(a, name, PRL_NAME_MAX, "the tier's name", out)) < 0)
		return ret;
	for (const unsigned char *c = (const unsigned char *)*out; *c; c++)
		if (*c < 0x20) {
			free(*out);
			*out = NULL;
			return archive_fail(a, -PRL_EINVAL,
					    "a tier's name has no control characters");
		}
	if (!(*out)[0] || (*out)[0] == ' ') {
		free(*out);
		*out = NULL;
		return archive_fail(a, -PRL_EINVAL, "a tier needs a name");
	}
	return 0;
}

int prl_archive_tier_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			 const char *name, const char *type, const char *language,
			 const char *speaker, struct prl_buf *out)
{
	struct prl_buf after = PRL_BUF_INIT;
	char *nm = NULL;
	struct tier t;
	sqlite3_stmt *st;
	int64_t ord = 0, sid = 0, duration;
	int ret, ok = 0;

	memset(&t, 0, sizeof(t));
	if ((ret = may_edit(a, v)) < 0 || (ret = clean_name(a, name, &nm)) < 0)
		return ret;
	if (!type || !*type)
		type = "transcription";
	for (size_t i = 0; i < sizeof(tier_types) / sizeof(tier_types[0]); i++)
		ok |= !strcmp(type, tier_types[i]);
	if (!ok) {
		ret = archive_fail(a, -PRL_EINVAL,
				   "a tier's type is transcription, translation, gloss or note");
		goto end;
	}
	if ((language && (strlen(language) > 32 || !prl_utf8_valid(language, strlen(language)))) ||
	    (speaker &&
	     (strlen(speaker) > PRL_NAME_MAX || !prl_utf8_valid(speaker, strlen(speaker))))) {
		ret = archive_fail(a, -PRL_EINVAL, "language or speaker: too long or not UTF-8");
		goto end;
	}
	if ((ret = archive_edit_begin(a)) < 0)
		goto end;
	if ((ret = may_write(a, v, rec_id)) < 0 || (ret = duration_of(a, rec_id, &duration)) < 0 ||
	    (ret = tier_name_free(a, rec_id, nm)) < 0)
		goto done;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_NEXT_ORD)))
		goto done;
	sqlite3_bind_int64(st, 1, rec_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		ord = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (speaker && *speaker && (st = archive_stmt(a, ST_SPEAKER_OF_REC_BY_NAME))) {
		sqlite3_bind_int64(st, 1, rec_id);
		archive_bind_text(st, 2, speaker);
		if (sqlite3_step(st) == SQLITE_ROW)
			sid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (!(st = archive_stmt(a, ST_TIER_ADD)))
		goto done;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, nm);
	archive_bind_text(st, 3, type);
	archive_bind_text(st, 4, language && *language ? language : NULL);
	archive_bind_text(st, 5, speaker && *speaker ? speaker : NULL);
	if (sid > 0)
		sqlite3_bind_int64(st, 6, sid);
	sqlite3_bind_int(st, 10, 0);
	sqlite3_bind_int(st, 11, 0);
	sqlite3_bind_int64(st, 12, ord);
	if ((ret = archive_step_done(a, st, "adding a tier")) < 0)
		goto done;
	if ((ret = tier_load(a, sqlite3_last_insert_rowid(a->db), &t)) < 0)
		goto done;
	tier_json(&after, &t);
	ret = archive_audit(a, v, rec_id, t.id, 0, "tier.add", NULL, after.data, 0);
done:
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&after), after.len);
end:
	prl_buf_release(&after);
	tier_clear(&t);
	free(nm);
	return ret;
}

static int tier_set_name(struct prl_archive *a, const struct prl_viewer *v, struct tier *t,
			 const char *name, int64_t reverts, struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int ret;

	tier_json(&before, t);
	if (strcmp(t->name, name) != 0 && (ret = tier_name_free(a, t->rec_id, name)) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_RENAME)))
		goto end;
	sqlite3_bind_int64(st, 1, t->id);
	archive_bind_text(st, 2, name);
	if ((ret = archive_step_done(a, st, "renaming a tier")) < 0)
		goto end;
	free(t->name);
	if (!(t->name = strdup(name))) {
		ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
		goto end;
	}
	tier_json(&after, t);
	if ((ret = archive_audit(a, v, t->rec_id, t->id, 0, reverts ? "tier.revert" : "tier.rename",
				 before.data, after.data, reverts)) == 0)
		prl_buf_add(out, after.data, after.len);
end:
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

int prl_archive_tier_rename(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    const char *name, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	char *nm = NULL;
	struct tier t;
	int ret;

	memset(&t, 0, sizeof(t));
	if ((ret = may_edit(a, v)) < 0 || (ret = clean_name(a, name, &nm)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) == 0) {
		if ((ret = tier_load(a, tier_id, &t)) == 0 &&
		    (ret = may_write(a, v, t.rec_id)) == 0)
			ret = tier_set_name(a, v, &t, nm, 0, &res);
		if ((ret = archive_edit_end(a, ret)) == 0)
			ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	}
	prl_buf_release(&res);
	tier_clear(&t);
	free(nm);
	return ret;
}

/* ---- access level ---- */

/*
 * Deletes tier t and its segments, in the caller's edit transaction.  The
 * history row keeps the whole tier, every column and every segment, so
 * that a revert puts it back as it was.  A tier other tiers depend on
 * (child tiers, segments linked to its segments) is refused: the cascade
 * would take them along without a line in the history.
 */
static int tier_remove(struct prl_archive *a, const struct prl_viewer *v, const struct tier *t,
		       int64_t reverts, struct prl_buf *out)
{
	sqlite3_stmt *st;
	char *snapshot = NULL;
	int64_t dependents = 0, nseg = 0;
	int ret;

	if (!(st = archive_stmt(a, ST_TIER_DEPENDENTS)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, t->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		dependents = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (dependents)
		return archive_fail(
			a, -PRL_EINVAL,
			"tier \"%s\" has tiers or segments in other tiers that depend on it"
			" (%lld): delete those first",
			t->name, (long long)dependents);
	if (!(st = archive_stmt(a, ST_TIER_SNAPSHOT)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, t->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snapshot = archive_col_strdup(st, 0);
		nseg = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (!snapshot)
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	/* the segments one statement before the tier, so that the search
	 * index's triggers see each of them go */
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_DELETE_SEGMENTS)))
		goto end;
	sqlite3_bind_int64(st, 1, t->id);
	if ((ret = archive_step_done(a, st, "deleting a tier's segments")) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TIER_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, t->id);
	if ((ret = archive_step_done(a, st, "deleting a tier")) < 0)
		goto end;
	if ((ret = archive_audit(a, v, t->rec_id, t->id, 0,
				 reverts ? "tier.redelete" : "tier.delete", snapshot, NULL,
				 reverts)) == 0)
		prl_buf_addf(out, "{\"id\":%lld,\"deleted\":true,\"segments\":%lld}",
			     (long long)t->id, (long long)nseg);
end:
	free(snapshot);
	return ret;
}

int prl_archive_tier_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct tier t;
	int ret;

	memset(&t, 0, sizeof(t));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = tier_load(a, tier_id, &t)) == 0 && (ret = may_write(a, v, t.rec_id)) == 0)
		ret = tier_remove(a, v, &t, 0, &res);
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	tier_clear(&t);
	return ret;
}

static int access_set(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
		      enum prl_access from, enum prl_access to, int64_t reverts,
		      struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_REC_SET_ACCESS);
	int ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	sqlite3_bind_int(st, 2, (int)to);
	if ((ret = archive_step_done(a, st, "changing the access level")) < 0)
		return ret;
	/* the index files segments under their access level: in the same
	 * transaction, or search would show or miss them */
	if ((ret = archive_reindex_recording(a, rec_id)) < 0)
		return ret;
	prl_buf_addf(&before, "{\"id\":%lld,\"access\":\"%s\"}", (long long)rec_id,
		     prl_access_name(from));
	prl_buf_addf(&after, "{\"id\":%lld,\"access\":\"%s\"}", (long long)rec_id,
		     prl_access_name(to));
	if ((ret = archive_audit(a, v, rec_id, 0, 0, reverts ? "access.revert" : "access.set",
				 before.data, after.data, reverts)) == 0)
		prl_buf_add(out, after.data, after.len);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

int prl_archive_set_access(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			   enum prl_access level, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct prl_recording_brief b;
	int ret;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((unsigned)level > PRL_ACCESS_PRIVATE)
		return archive_fail(a, -PRL_EINVAL, "access is public, restricted or private");
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	/* through the write gate even when nothing changes: "already so" is
	 * no answer for someone who may not change it */
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, &b)) == 0) {
		if (b.access == level)
			prl_buf_addf(&res, "{\"id\":%lld,\"access\":\"%s\"}", (long long)rec_id,
				     prl_access_name(level));
		else
			ret = access_set(a, v, rec_id, b.access, level, 0, &res);
		prl_recording_brief_clear(&b);
	}
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	return ret;
}

/* ---- history ---- */

static void add_raw_or_null(struct prl_buf *b, sqlite3_stmt *st, int col)
{
	/* written by this file as JSON, so it goes out as is */
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(b, "null");
	else
		prl_buf_addstr(b, (const char *)sqlite3_column_text(st, col));
}

static void add_int_or_null(struct prl_buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(b, "null");
	else
		prl_buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, col));
}

int prl_archive_history_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			     int64_t offset, int64_t limit, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int64_t duration;
	sqlite3_stmt *st;
	int rc, ret, first = 1;

	if ((ret = may_edit(a, v)) < 0 || (ret = duration_of(a, rec_id, &duration)) < 0)
		return ret;
	if (limit <= 0)
		limit = HISTORY_DEFAULT;
	if (limit > HISTORY_MAX)
		limit = HISTORY_MAX;
	if (!(st = archive_stmt(a, ST_AUDIT_OF_REC)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset > 0 ? offset : 0);
	prl_buf_addf(&b, "{\"recording_id\":%lld,\"history\":[", (long long)rec_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(&b, "%s{\"id\":%lld,\"at\":", first ? "" : ",",
			     (long long)sqlite3_column_int64(st, 0));
		first = 0;
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addstr(&b, ",\"user_id\":");
		add_int_or_null(&b, st, 2);
		prl_buf_addstr(&b, ",\"login\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addstr(&b, ",\"tier_id\":");
		add_int_or_null(&b, st, 4);
		prl_buf_addstr(&b, ",\"segment_id\":");
		add_int_or_null(&b, st, 5);
		prl_buf_addstr(&b, ",\"action\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 6));
		prl_buf_addstr(&b, ",\"before\":");
		add_raw_or_null(&b, st, 7);
		prl_buf_addstr(&b, ",\"after\":");
		add_raw_or_null(&b, st, 8);
		prl_buf_addstr(&b, ",\"reverts\":");
		add_int_or_null(&b, st, 9);
		/* an accepted proposal: its author, beside the reviewer (login) */
		prl_buf_addstr(&b, ",\"contributor\":");
		if (sqlite3_column_type(st, 10) == SQLITE_NULL)
			prl_buf_addstr(&b, "null");
		else
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 10));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "reading the history");
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* A whole number member of a JSON object, or -1. */
static int64_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static int conflict(struct prl_archive *a, int64_t hid)
{
	return archive_fail(
		a, -PRL_ECONFLICT,
		"history entry %lld cannot be undone: what it changed has changed since",
		(long long)hid);
}

/* Undoes a segment's change: what was before comes back if the segment is
 * still as the change left it. */
static int revert_segment(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			  int64_t rec_id, int64_t seg_id, json_t *before, json_t *after,
			  const char *before_text, struct prl_buf *out)
{
	struct seg cur, want;
	int ret;

	memset(&cur, 0, sizeof(cur));
	ret = seg_load(a, seg_id, &cur);
	if (ret < 0 && ret != -PRL_ENOTFOUND)
		return ret;
	if (!after) {
		/* a deletion: the segment comes back, unless its id was taken */
		if (ret == 0) {
			seg_clear(&cur);
			return conflict(a, hid);
		}
		memset(&want, 0, sizeof(want));
		want.id = seg_id;
		want.rec_id = rec_id;
		want.tier_id = jint(before, "tier_id");
		want.start_ms = jint(before, "start_ms");
		want.end_ms = jint(before, "end_ms");
		want.text = (char *)json_string_value(json_object_get(before, "text"));
		seg_marks_of(&want, before);
		if (!want.text || want.tier_id <= 0)
			return archive_fail(a, -PRL_EINVAL, "history entry %lld is damaged",
					    (long long)hid);
		{
			struct tier t;

			if ((ret = tier_load(a, want.tier_id, &t)) < 0)
				return ret == -PRL_ENOTFOUND ? conflict(a, hid) : ret;
			want.is_point = t.is_point;
			tier_clear(&t);
		}
		/* a version above any a client may hold for the old one */
		if ((ret = seg_insert(a, v, &want, jint(before, "version") + 1, "segment.revert",
				      before_text, hid)) == 0)
			seg_json(out, &want);
		return ret;
	}
	if (ret < 0 || cur.version != jint(after, "version")) {
		seg_clear(&cur);
		return conflict(a, hid);
	}
	if (!before) { /* an addition: the segment goes */
		ret = seg_remove(a, v, &cur, cur.version, hid, out);
	} else {
		want = cur;
		want.start_ms = jint(before, "start_ms");
		want.end_ms = jint(before, "end_ms");
		want.text = (char *)json_string_value(json_object_get(before, "text"));
		seg_marks_of(&want, before);
		if (!want.text)
			ret = archive_fail(a, -PRL_EINVAL, "history entry %lld is damaged",
					   (long long)hid);
		else
			ret = seg_change(a, v, &cur, &want, cur.version, hid, out);
	}
	seg_clear(&cur);
	return ret;
}

/* Puts back a tier from its snapshot (a deletion's history row), with its
 * segments and their ids; a conflict when its id or name was taken since. */
static int tier_restore(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			int64_t rec_id, int64_t tier_id, const char *snapshot, json_t *snap,
			struct prl_buf *out)
{
	const char *name = json_string_value(json_object_get(snap, "name"));
	struct tier t;
	sqlite3_stmt *st;
	int ret;

	memset(&t, 0, sizeof(t));
	if (!name || jint(snap, "id") != tier_id)
		return archive_fail(a, -PRL_EINVAL, "history entry %lld is damaged",
				    (long long)hid);
	if (tier_load(a, tier_id, &t) == 0) {
		tier_clear(&t);
		return conflict(a, hid);
	}
	if ((ret = tier_name_free(a, rec_id, name)) < 0)
		return ret == -PRL_EEXIST ? conflict(a, hid) : ret;
	if (!(st = archive_stmt(a, ST_TIER_RESTORE)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, snapshot);
	if ((ret = archive_step_done(a, st, "putting a tier back")) < 0)
		return sqlite3_errcode(a->db) == SQLITE_CONSTRAINT ? conflict(a, hid) : ret;
	if (!(st = archive_stmt(a, ST_TIER_RESTORE_SEGMENTS)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, snapshot);
	sqlite3_bind_int64(st, 2, tier_id);
	if ((ret = archive_step_done(a, st, "putting a tier's segments back")) < 0)
		return sqlite3_errcode(a->db) == SQLITE_CONSTRAINT ? conflict(a, hid) : ret;
	if ((ret = archive_audit(a, v, rec_id, tier_id, 0, "tier.undelete", NULL, snapshot, hid)) <
	    0)
		return ret;
	if ((ret = tier_load(a, tier_id, &t)) == 0) {
		tier_json(out, &t);
		tier_clear(&t);
	}
	return ret;
}

/* Undoes a rename of tier tier_id (history row hid) when the tier still
 * has the name it was given. */
static int revert_tier_rename(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			      int64_t tier_id, json_t *before, json_t *after, struct prl_buf *res)
{
	const char *was = json_string_value(json_object_get(before, "name"));
	const char *now = json_string_value(json_object_get(after, "name"));
	struct tier t;
	int ret;

	if ((ret = tier_load(a, tier_id, &t)) == 0) {
		if (!was || !now || strcmp(t.name, now) != 0)
			ret = conflict(a, hid);
		else
			ret = tier_set_name(a, v, &t, was, hid, res);
		tier_clear(&t);
	} else if (ret == -PRL_ENOTFOUND) {
		ret = conflict(a, hid);
	}
	return ret;
}

/* Undoes the putting back of tier tier_id: the tier goes again, as it is
 * now. */
static int revert_tier_undelete(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
				int64_t tier_id, struct prl_buf *res)
{
	struct tier t;
	int ret;

	if ((ret = tier_load(a, tier_id, &t)) == 0) {
		ret = tier_remove(a, v, &t, hid, res);
		tier_clear(&t);
	} else if (ret == -PRL_ENOTFOUND) {
		ret = conflict(a, hid);
	}
	return ret;
}

/* Undoes a change of withheld spans: a span added goes; a span removed
 * comes back, with its id. */
static int revert_withheld(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			   int64_t rec_id, json_t *before, json_t *after, struct prl_buf *res)
{
	json_t *span = after ? after : before;
	int64_t span_id = jint(span, "id");
	int ret;

	if (after)
		ret = archive_withheld_remove(a, v, rec_id, span_id, hid, res);
	else
		ret = archive_withheld_insert(
			a, v, rec_id, span_id, jint(span, "start_ms"), jint(span, "end_ms"),
			json_string_value(json_object_get(span, "reason")), hid, res);
	if (ret == -PRL_ENOTFOUND ||
	    (ret < 0 && !after && sqlite3_errcode(a->db) == SQLITE_CONSTRAINT))
		ret = conflict(a, hid);
	return ret;
}

int prl_archive_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
		       struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	json_t *before = NULL, *after = NULL;
	char *action = NULL, *before_text = NULL, *after_text = NULL;
	int64_t rec_id = 0, tier_id, seg_id;
	sqlite3_stmt *st;
	int ret, rc, spans_changed = 0;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_AUDIT_GET)))
		goto end;
	sqlite3_bind_int64(st, 1, hid);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		ret = rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no history entry %lld",
						       (long long)hid)
					: archive_sql_fail(a, "reading the history");
		goto end;
	}
	rec_id = sqlite3_column_int64(st, 1);
	tier_id = sqlite3_column_int64(st, 2);
	seg_id = sqlite3_column_int64(st, 3);
	action = archive_col_strdup(st, 4);
	before_text = archive_col_strdup(st, 5);
	if (before_text)
		before = json_loads(before_text, 0, NULL);
	after_text = archive_col_strdup(st, 6);
	if (after_text)
		after = json_loads(after_text, 0, NULL);
	sqlite3_reset(st);
	if (!action) {
		ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
		goto end;
	}
	if (!strcmp(action, "recording.delete")) {
		/* a deleted recording is past the gate: the restore asks itself */
		ret = archive_trash_revert(a, v, hid, rec_id, &res);
		goto end;
	}
	if ((ret = may_write(a, v, rec_id)) < 0)
		goto end;
	if (!strcmp(action, "recording.edit") || !strcmp(action, "recording.revert")) {
		ret = archive_catalogue_revert(a, v, hid, rec_id, before_text, after_text, &res);
	} else if (!strncmp(action, "segment.", 8) && seg_id > 0 && (before || after)) {
		ret = revert_segment(a, v, hid, rec_id, seg_id, before, after, before_text, &res);
	} else if ((!strcmp(action, "tier.rename") || !strcmp(action, "tier.revert")) && before &&
		   after) {
		ret = revert_tier_rename(a, v, hid, tier_id, before, after, &res);
	} else if ((!strcmp(action, "tier.delete") || !strcmp(action, "tier.redelete")) && before &&
		   !after) {
		ret = tier_restore(a, v, hid, rec_id, tier_id, before_text, before, &res);
	} else if (!strcmp(action, "tier.undelete") && after && !before) {
		ret = revert_tier_undelete(a, v, hid, tier_id, &res);
	} else if ((!strcmp(action, "access.set") || !strcmp(action, "access.revert")) && before &&
		   after) {
		struct prl_recording_brief b;
		int was = prl_access_parse(json_string_value(json_object_get(before, "access")));
		int now = prl_access_parse(json_string_value(json_object_get(after, "access")));

		if ((ret = archive_recording_brief(a, rec_id, &b)) == 0) {
			if (was < 0 || now < 0 || (int)b.access != now)
				ret = conflict(a, hid);
			else
				ret = access_set(a, v, rec_id, b.access, (enum prl_access)was, hid,
						 &res);
			prl_recording_brief_clear(&b);
		}
	} else if (!strncmp(action, "withheld.", 9) && (before || after)) {
		ret = revert_withheld(a, v, hid, rec_id, before, after, &res);
		spans_changed = ret == 0;
	} else {
		ret = archive_fail(a, -PRL_EINVAL, "history entry %lld (%s) cannot be undone here",
				   (long long)hid, action);
	}
end:
	if ((ret = archive_edit_end(a, ret)) == 0 && spans_changed)
		ret = archive_withheld_refresh_media(a, rec_id);
	if (ret == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	json_decref(before);
	json_decref(after);
	free(action);
	free(before_text);
	free(after_text);
	return ret;
}
