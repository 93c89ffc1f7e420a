/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Proposals: the texts contributors propose for a segment or for a new
 * segment, their review by staff, and the credit of what was accepted.
 *
 * A proposal is asked through the same access gate as the transcript: on
 * a recording the proposer may not hear (restricted to them, private) or
 * over a span withheld from them, there is nothing to propose on, and a
 * listing never shows a proposal whose recording or span its reader may
 * no longer hear.  A proposal never changes a tier: only its acceptance
 * does, through the editing path (edit.c), in the same transaction that
 * marks it accepted, so that the history row (naming the reviewer and the
 * contributor) and the proposal's status commit together or not at all.
 * A proposal keeps the version of the segment it was made against: when
 * the segment changed since, accepting it as is is a conflict the reviewer
 * settles by sending the text to keep.
 *
 * Always holds: the limits (per hour, pending) are counted in the write
 * transaction that adds, so proposals sent at once cannot pass them; a
 * failed check writes nothing; the text is kept as sent (plain text,
 * escaped by whoever shows it).
 * Expected workload: proposals at human pace; a review queue of up to some
 * hundred thousand pending proposals, listed by pages of 50 in id order
 * through the (status, id) index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500
#define HOUR_S 3600

static const char *const statuses[] = {"pending", "accepted", "declined"};
static const char *const kinds[] = {"transcription", "translation", "correction", "note"};

static int one_of(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static int is_staff(const struct prl_viewer *v)
{
	return v && v->role >= PRL_ROLE_ANNOTATOR;
}

/* text of at most max bytes, UTF-8, not blank; what says what it is. */
static int check_text(struct prl_archive *a, const char *text, size_t max, const char *what)
{
	size_t n = text ? strlen(text) : 0, blank = 0;

	if (n > max)
		return archive_fail(a, -PRL_EINVAL, "%s is longer than %zu bytes", what, max);
	if (!prl_utf8_valid(text ? text : "", n))
		return archive_fail(a, -PRL_EINVAL, "%s is not valid UTF-8", what);
	while (blank < n && strchr(" \t\r\n", text[blank]))
		blank++;
	if (blank == n)
		return archive_fail(a, -PRL_EINVAL, "%s is empty", what);
	return 0;
}

static void add_time(struct prl_buf *b, sqlite3_stmt *st, int col)
{
	time_t t;
	struct tm tm;
	char s[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		prl_buf_addstr(b, "null");
		return;
	}
	t = (time_t)sqlite3_column_int64(st, col);
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
	prl_buf_addstr(b, s);
}

static void add_text_or_null(struct prl_buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(b, "null");
	else
		prl_json_str(b, (const char *)sqlite3_column_text(st, col));
}

static void add_int_or_null(struct prl_buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(b, "null");
	else
		prl_buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, col));
}

/* ---- proposing ---- */

/* What a proposal is made on: the segment (when there is one) or the
 * stretch of a tier. */
struct target {
	int64_t rec_id;
	int64_t tier_id;
	int64_t segment_id; /* 0: a new segment */
	int64_t start_ms;
	int64_t end_ms;
	char *type;	 /* the tier's type (owned) */
	char *base_text; /* the segment's text (owned), NULL for a new one */
	int64_t base_version;
};

static void target_clear(struct target *t)
{
	free(t->type);
	free(t->base_text);
	memset(t, 0, sizeof(*t));
}

static int withheld_overlap(struct prl_archive *a, int64_t rec, int64_t start, int64_t end,
			    int *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_WITHHELD_OVERLAPS);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, end);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "checking withheld spans");
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* Segment sid as viewer v may read it, into *t. */
static int target_segment(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			  struct target *t)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PROPOSAL_SEGMENT);
	int rc, ret, hidden = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, sid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->segment_id = sqlite3_column_int64(st, 0);
		t->tier_id = sqlite3_column_int64(st, 1);
		t->rec_id = sqlite3_column_int64(st, 2);
		t->type = archive_col_strdup(st, 3);
		t->start_ms = sqlite3_column_int64(st, 4);
		t->end_ms = sqlite3_column_int64(st, 5);
		t->base_text = archive_col_strdup(st, 6);
		t->base_version = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no segment %lld", (long long)sid)
			       : archive_sql_fail(a, "reading a segment");
	if (!t->type || !t->base_text)
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	if ((ret = prl_archive_recording_open(a, v, t->rec_id, PRL_SEE_ALL, NULL)) < 0)
		return ret;
	/* a withheld segment does not exist for whoever may not read it */
	if (!prl_access_sees_withheld(v) &&
	    ((ret = withheld_overlap(a, t->rec_id, t->start_ms, t->end_ms, &hidden)) < 0 || hidden))
		return ret < 0 ? ret
			       : archive_fail(a, -PRL_ENOTFOUND, "no segment %lld", (long long)sid);
	return 0;
}

/* A new segment of p's tier as viewer v may propose it, into *t. */
static int target_stretch(struct prl_archive *a, const struct prl_viewer *v,
			  const struct prl_proposal_new *p, struct target *t)
{
	struct prl_recording_brief b;
	sqlite3_stmt *st;
	int64_t duration;
	int rc, ret, hidden = 0;

	if ((ret = prl_archive_recording_open(a, v, p->recording_id, PRL_SEE_ALL, &b)) < 0)
		return ret;
	duration = b.duration_ms;
	prl_recording_brief_clear(&b);
	if (!(st = archive_stmt(a, ST_TIER_GET)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, p->tier_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 1) == p->recording_id &&
	    !(t->type = archive_col_strdup(st, 3)))
		rc = SQLITE_NOMEM;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "reading a tier");
	if (!t->type)
		return archive_fail(a, -PRL_EINVAL, "tier %lld is not one of recording %lld's",
				    (long long)p->tier_id, (long long)p->recording_id);
	if (p->start_ms < 0 || p->end_ms <= p->start_ms || p->end_ms > duration)
		return archive_fail(a, -PRL_EINVAL,
				    "a new segment lies within the recording (0 to %lld ms) and "
				    "ends after it starts",
				    (long long)duration);
	if (!prl_access_sees_withheld(v) &&
	    ((ret = withheld_overlap(a, p->recording_id, p->start_ms, p->end_ms, &hidden)) < 0 ||
	     hidden))
		return ret < 0 ? ret
			       : archive_fail(
					 a, -PRL_EACCESS,
					 "this stretch overlaps a passage that is not published");
	if (!(st = archive_stmt(a, ST_SEGMENT_OVERLAP)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, p->tier_id);
	sqlite3_bind_int64(st, 2, p->start_ms);
	sqlite3_bind_int64(st, 3, p->end_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = archive_fail(a, -PRL_EINVAL,
				   "the stretch overlaps segment %lld (%lld-%lld ms): propose a "
				   "text for that segment instead",
				   (long long)sqlite3_column_int64(st, 0),
				   (long long)sqlite3_column_int64(st, 1),
				   (long long)sqlite3_column_int64(st, 2));
		sqlite3_reset(st);
		return ret;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "checking overlaps");
	t->rec_id = p->recording_id;
	t->tier_id = p->tier_id;
	t->start_ms = p->start_ms;
	t->end_ms = p->end_ms;
	return 0;
}

static int count_of(struct prl_archive *a, enum stmt_id id, int64_t user, int64_t since,
		    int64_t *out)
{
	sqlite3_stmt *st = archive_stmt(a, id);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, user);
	if (since)
		sqlite3_bind_int64(st, 2, since);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "counting proposals");
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int check_limits(struct prl_archive *a, const struct prl_viewer *v,
			const struct prl_proposal_limits *lim, int64_t now)
{
	int per_hour = lim && lim->per_hour > 0 ? lim->per_hour : PRL_PROPOSALS_PER_HOUR;
	int max_pending = lim && lim->max_pending > 0 ? lim->max_pending : PRL_PROPOSALS_PENDING;
	int64_t n;
	int ret;

	if ((ret = count_of(a, ST_PROPOSALS_RECENT, v->user_id, now - HOUR_S, &n)) < 0)
		return ret;
	if (n >= per_hour)
		return archive_fail(a, -PRL_ELIMIT,
				    "%d proposals in an hour is the most an account may make; "
				    "try again later",
				    per_hour);
	if ((ret = count_of(a, ST_PROPOSALS_PENDING, v->user_id, 0, &n)) < 0)
		return ret;
	if (n >= max_pending)
		return archive_fail(a, -PRL_ELIMIT,
				    "%d proposals are waiting for review: wait until some are "
				    "reviewed",
				    max_pending);
	return 0;
}

static const char *kind_of(const struct prl_proposal_new *p, const struct target *t)
{
	if (p->note)
		return "note";
	if (t->base_text && t->base_text[0])
		return "correction";
	return !strcmp(t->type, "translation") ? "translation" : "transcription";
}

int prl_archive_proposal_add(struct prl_archive *a, const struct prl_viewer *v,
			     const struct prl_proposal_new *p,
			     const struct prl_proposal_limits *lim, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct target t;
	sqlite3_stmt *st;
	int64_t now = (int64_t)time(NULL), id;
	const char *kind;
	int ret;

	memset(&t, 0, sizeof(t));
	if (!v || v->user_id <= 0)
		return archive_fail(a, -PRL_EACCESS, "sign in to propose");
	if ((ret = check_text(a, p->text, PRL_PROPOSAL_TEXT_MAX, "the text")) < 0)
		return ret;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	ret = p->segment_id > 0 ? target_segment(a, v, p->segment_id, &t)
				: target_stretch(a, v, p, &t);
	if (ret < 0 || (ret = check_limits(a, v, lim, now)) < 0)
		goto end;
	kind = kind_of(p, &t);
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_PROPOSAL_ADD)))
		goto end;
	sqlite3_bind_int64(st, 1, v->user_id);
	sqlite3_bind_int64(st, 2, t.rec_id);
	sqlite3_bind_int64(st, 3, t.tier_id);
	if (t.segment_id > 0) {
		sqlite3_bind_int64(st, 4, t.segment_id);
		sqlite3_bind_int64(st, 10, t.base_version);
	}
	archive_bind_text(st, 5, kind);
	sqlite3_bind_int64(st, 6, t.start_ms);
	sqlite3_bind_int64(st, 7, t.end_ms);
	archive_bind_text(st, 8, p->text);
	archive_bind_text(st, 9, t.base_text);
	sqlite3_bind_int64(st, 11, now);
	if (archive_step_done(a, st, "adding a proposal") < 0)
		goto end;
	id = sqlite3_last_insert_rowid(a->db);
	if ((ret = archive_commit(a)) < 0)
		goto end;
	prl_buf_addf(&res,
		     "{\"id\":%lld,\"status\":\"pending\",\"kind\":\"%s\",\"recording_id\":%lld,"
		     "\"tier_id\":%lld,\"segment_id\":",
		     (long long)id, kind, (long long)t.rec_id, (long long)t.tier_id);
	if (t.segment_id > 0)
		prl_buf_addf(&res, "%lld", (long long)t.segment_id);
	else
		prl_buf_addstr(&res, "null");
	prl_buf_addf(&res, ",\"start_ms\":%lld,\"end_ms\":%lld,\"text\":", (long long)t.start_ms,
		     (long long)t.end_ms);
	prl_json_str(&res, p->text);
	if (t.segment_id > 0)
		prl_buf_addf(&res, ",\"base_version\":%lld}", (long long)t.base_version);
	else
		prl_buf_addstr(&res, ",\"base_version\":null}");
	ret = prl_buf_add(out, prl_buf_str(&res), res.len);
end:
	if (ret < 0 && sqlite3_get_autocommit(a->db) == 0)
		archive_rollback(a);
	prl_buf_release(&res);
	target_clear(&t);
	return ret;
}

/* ---- listing ---- */

/* The one author a listing is limited to, or 0: the viewer for anyone
 * but staff and for ?mine=1, else the account ?contributor= names (-1
 * when none has that login: nothing matches). */
static int64_t author_of(struct prl_archive *a, const struct prl_viewer *v,
			 const struct prl_proposal_filter *f)
{
	sqlite3_stmt *st;
	int64_t id = -1;

	if (f->mine || !is_staff(v))
		return v->user_id;
	if (!f->contributor)
		return 0;
	if (!(st = archive_stmt(a, ST_USER_BY_LOGIN)))
		return -1;
	archive_bind_text(st, 1, f->contributor);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static void bind_filter(sqlite3_stmt *st, const struct prl_viewer *v,
			const struct prl_proposal_filter *f, int64_t author)
{
	archive_bind_text(st, 1, f->status);
	if (f->recording_id > 0)
		sqlite3_bind_int64(st, 2, f->recording_id);
	if (author)
		sqlite3_bind_int64(st, 3, author);
	/* an author other than the viewer: the login must match it too */
	if (f->contributor && (f->mine || !is_staff(v)))
		archive_bind_text(st, 4, f->contributor);
	archive_bind_text(st, 5, f->kind);
	/* staff of an institution: its recordings only */
	if (is_staff(v) && v->institution_id != 0 && !f->mine)
		sqlite3_bind_int64(st, 6, v->institution_id);
	sqlite3_bind_int(st, 7, archive_heard_level(v));
	sqlite3_bind_int(st, 8, prl_access_sees_withheld(v));
}

static void proposal_row_json(struct prl_buf *b, sqlite3_stmt *st, int staff)
{
	int has_segment = sqlite3_column_type(st, 4) != SQLITE_NULL;
	int changed = has_segment && (sqlite3_column_type(st, 18) == SQLITE_NULL ||
				      sqlite3_column_int64(st, 18) != sqlite3_column_int64(st, 10));

	prl_buf_addf(b, "{\"id\":%lld,\"recording_id\":%lld,\"recording_title\":",
		     (long long)sqlite3_column_int64(st, 0),
		     (long long)sqlite3_column_int64(st, 1));
	prl_json_str(b, (const char *)sqlite3_column_text(st, 2));
	prl_buf_addf(b, ",\"tier_id\":%lld,\"tier\":", (long long)sqlite3_column_int64(st, 3));
	add_text_or_null(b, st, 19);
	prl_buf_addstr(b, ",\"segment_id\":");
	add_int_or_null(b, st, 4);
	prl_buf_addstr(b, ",\"kind\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 5));
	prl_buf_addf(b, ",\"start_ms\":%lld,\"end_ms\":%lld,\"text\":",
		     (long long)sqlite3_column_int64(st, 6),
		     (long long)sqlite3_column_int64(st, 7));
	prl_json_str(b, (const char *)sqlite3_column_text(st, 8));
	prl_buf_addstr(b, ",\"base_text\":");
	add_text_or_null(b, st, 9);
	prl_buf_addstr(b, ",\"base_version\":");
	add_int_or_null(b, st, 10);
	prl_buf_addstr(b, ",\"current_text\":");
	add_text_or_null(b, st, 17);
	prl_buf_addstr(b, ",\"current_version\":");
	add_int_or_null(b, st, 18);
	prl_buf_addf(b, ",\"changed\":%s,\"status\":", changed ? "true" : "false");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 11));
	prl_buf_addstr(b, ",\"message\":");
	add_text_or_null(b, st, 12);
	prl_buf_addstr(b, ",\"created_at\":");
	add_time(b, st, 13);
	prl_buf_addstr(b, ",\"reviewed_at\":");
	add_time(b, st, 14);
	prl_buf_addstr(b, ",\"contributor\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 15));
	prl_buf_addstr(b, ",\"contributor_name\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 16));
	if (staff) {
		prl_buf_addstr(b, ",\"reviewer\":");
		add_text_or_null(b, st, 20);
	}
	prl_buf_addch(b, '}');
}

int prl_archive_proposals_json(struct prl_archive *a, const struct prl_viewer *v,
			       const struct prl_proposal_filter *f, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int64_t limit = f->limit > 0 ? f->limit : LIST_DEFAULT, total, author;
	sqlite3_stmt *st;
	int rc, first = 1, ret;

	if (!v || v->user_id <= 0)
		return archive_fail(a, -PRL_EACCESS, "sign in to see proposals");
	if (f->status && !one_of(f->status, statuses, sizeof(statuses) / sizeof(statuses[0])))
		return archive_fail(a, -PRL_EINVAL, "status is pending, accepted or declined");
	if (f->kind && !one_of(f->kind, kinds, sizeof(kinds) / sizeof(kinds[0])))
		return archive_fail(a, -PRL_EINVAL,
				    "kind is transcription, translation, correction or note");
	if (limit > LIST_MAX || f->offset < 0)
		return archive_fail(a, -PRL_EINVAL, "limit is 1 to %d, offset 0 or more", LIST_MAX);
	/* staff's queue without an author: the kept counts (what makes the
	 * total cheap however long the queue); one author's: their rows */
	author = author_of(a, v, f);
	if (!(st = archive_stmt(a, author ? ST_PROPOSALS_COUNT_USER : ST_PROPOSALS_COUNT_KEPT)))
		return -PRL_ESQL;
	bind_filter(st, v, f, author);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "counting proposals");
	}
	total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(st = archive_stmt(a, author      ? ST_PROPOSALS_PAGE_USER
				   : f->status ? ST_PROPOSALS_PAGE
					       : ST_PROPOSALS_PAGE_ANY)))
		return -PRL_ESQL;
	bind_filter(st, v, f, author);
	sqlite3_bind_int64(st, 9, limit);
	sqlite3_bind_int64(st, 10, f->offset);
	if (f->after_id > 0)
		sqlite3_bind_int64(st, 11, f->after_id);
	prl_buf_addf(&b, "{\"total\":%lld,\"offset\":%lld,\"proposals\":[", (long long)total,
		     (long long)f->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!first)
			prl_buf_addch(&b, ',');
		first = 0;
		proposal_row_json(&b, st, is_staff(v));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "listing proposals");
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* ---- review ---- */

struct proposal {
	int64_t id;
	int64_t user_id;
	int64_t rec_id;
	int64_t tier_id;
	int64_t segment_id; /* 0: a new segment */
	char kind[16];
	int64_t start_ms;
	int64_t end_ms;
	char *text; /* owned */
	int64_t base_version;
	char status[16];
	char login[PRL_LOGIN_MAX + 1];
};

/* Proposal pid, and the write gate of its recording for v. */
static int proposal_load(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
			 struct proposal *p)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PROPOSAL_GET);
	int rc, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, pid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->id = sqlite3_column_int64(st, 0);
		p->user_id = sqlite3_column_int64(st, 1);
		p->rec_id = sqlite3_column_int64(st, 2);
		p->tier_id = sqlite3_column_int64(st, 3);
		p->segment_id = sqlite3_column_int64(st, 4);
		snprintf(p->kind, sizeof(p->kind), "%s", (const char *)sqlite3_column_text(st, 5));
		p->start_ms = sqlite3_column_int64(st, 6);
		p->end_ms = sqlite3_column_int64(st, 7);
		p->text = archive_col_strdup(st, 8);
		p->base_version = sqlite3_column_int64(st, 9);
		snprintf(p->status, sizeof(p->status), "%s",
			 (const char *)sqlite3_column_text(st, 10));
		snprintf(p->login, sizeof(p->login), "%s",
			 (const char *)sqlite3_column_text(st, 11));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no proposal %lld", (long long)pid)
			       : archive_sql_fail(a, "reading a proposal");
	if (!p->text)
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	/* staff of another institution: as if it did not exist, when the
	 * recording is hidden from them; else 403 */
	if ((ret = prl_archive_recording_open(a, v, p->rec_id, PRL_MAY_WRITE, NULL)) < 0)
		return ret;
	if (strcmp(p->status, "pending"))
		return archive_fail(a, -PRL_EINVAL, "proposal %lld was already %s", (long long)pid,
				    p->status);
	return 0;
}

static int set_status(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
		      const char *status, const char *message, const char *text, int64_t segment_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PROPOSAL_SET_STATUS);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, pid);
	archive_bind_text(st, 2, status);
	archive_bind_text(st, 3, message);
	if (v->user_id > 0)
		sqlite3_bind_int64(st, 4, v->user_id);
	sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
	archive_bind_text(st, 6, text);
	if (segment_id > 0)
		sqlite3_bind_int64(st, 7, segment_id);
	return archive_step_done(a, st, "recording the review");
}

static int may_review(struct prl_archive *a, const struct prl_viewer *v)
{
	if (!is_staff(v))
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins review proposals");
	return 0;
}

/* The segment id of a segment's JSON {"id":N,...}. */
static int64_t json_id(const struct prl_buf *b)
{
	const char *s = b->len ? strstr(b->data, "\"id\":") : NULL;

	return s ? strtoll(s + 5, NULL, 10) : 0;
}

int prl_archive_proposal_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
				const char *text, struct prl_buf *out)
{
	struct prl_buf seg = PRL_BUF_INIT, res = PRL_BUF_INIT;
	struct target cur;
	struct proposal p;
	const char *keep;
	int64_t seg_id = 0;
	int ret;

	memset(&p, 0, sizeof(p));
	memset(&cur, 0, sizeof(cur));
	if ((ret = may_review(a, v)) < 0)
		return ret;
	if (text && (ret = check_text(a, text, PRL_TEXT_MAX, "the text")) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = proposal_load(a, v, pid, &p)) < 0)
		goto end;
	keep = text ? text : p.text;
	a->audit_contributor = p.login;
	if (!strcmp(p.kind, "note")) {
		ret = 0; /* read by staff: nothing to change */
	} else if (p.segment_id > 0) {
		if ((ret = target_segment(a, v, p.segment_id, &cur)) < 0) {
			if (ret == -PRL_ENOTFOUND)
				ret = archive_fail(a, -PRL_EINVAL,
						   "segment %lld was deleted since the proposal",
						   (long long)p.segment_id);
		} else if (cur.base_version != p.base_version && !text) {
			/* changed since: the reviewer decides, nothing is overwritten */
			prl_buf_addf(
				&res,
				"{\"id\":%lld,\"tier_id\":%lld,\"start_ms\":%lld,\"end_ms\":%lld,"
				"\"text\":",
				(long long)cur.segment_id, (long long)cur.tier_id,
				(long long)cur.start_ms, (long long)cur.end_ms);
			prl_json_str(&res, cur.base_text);
			prl_buf_addf(&res, ",\"version\":%lld},\"proposed\":",
				     (long long)cur.base_version);
			prl_json_str(&res, p.text);
			ret = archive_fail(a, -PRL_ECONFLICT,
					   "segment %lld changed since the proposal was made: send "
					   "the text to keep",
					   (long long)p.segment_id);
		} else {
			ret = archive_segment_text_set(a, v, p.segment_id, cur.base_version, keep,
						       &seg);
			seg_id = p.segment_id;
		}
	} else {
		if ((ret = archive_segment_insert(a, v, p.rec_id, p.tier_id, p.start_ms, p.end_ms,
						  keep, &seg)) == 0)
			seg_id = json_id(&seg);
	}
	a->audit_contributor = NULL;
	if (ret == 0)
		ret = set_status(a, v, pid, "accepted", NULL, text, seg_id);
	if (ret == 0) {
		prl_buf_addf(&res,
			     "{\"id\":%lld,\"status\":\"accepted\",\"kind\":\"%s\",\"segment\":",
			     (long long)pid, p.kind);
		prl_buf_addstr(&res, seg.len ? prl_buf_str(&seg) : "null");
		prl_buf_addch(&res, '}');
	}
end:
	a->audit_contributor = NULL;
	ret = archive_edit_end(a, ret);
	if (ret == 0 || ret == -PRL_ECONFLICT)
		prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&seg);
	prl_buf_release(&res);
	target_clear(&cur);
	free(p.text);
	return ret;
}

int prl_archive_proposal_decline(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
				 const char *message, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	struct proposal p;
	int ret;

	memset(&p, 0, sizeof(p));
	if ((ret = may_review(a, v)) < 0)
		return ret;
	if (message && message[0] &&
	    (ret = check_text(a, message, PRL_DECLINE_MESSAGE_MAX, "the message")) < 0)
		return ret;
	if (message && !message[0])
		message = NULL;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = proposal_load(a, v, pid, &p)) == 0 &&
	    (ret = set_status(a, v, pid, "declined", message, NULL, 0)) == 0)
		ret = archive_commit(a);
	if (ret < 0) {
		archive_rollback(a);
	} else {
		prl_buf_addf(&res,
			     "{\"id\":%lld,\"status\":\"declined\",\"message\":", (long long)pid);
		if (message)
			prl_json_str(&res, message);
		else
			prl_buf_addstr(&res, "null");
		prl_buf_addch(&res, '}');
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	}
	prl_buf_release(&res);
	free(p.text);
	return ret;
}

/* ---- credit ---- */

int prl_archive_contributor_json(struct prl_archive *a, const char *login, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int rc, first = 1, ret;

	if (!login || !prl_login_valid(login))
		return archive_fail(a, -PRL_ENOTFOUND, "no such contributor");
	if (!(st = archive_stmt(a, ST_CONTRIBUTOR_CREDIT)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, login);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		prl_buf_addstr(&b, "{\"login\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		prl_buf_addstr(&b, ",\"name\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		prl_buf_release(&b);
		return rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no such contributor")
					 : archive_sql_fail(a, "finding a contributor");
	}
	if (!(st = archive_stmt(a, ST_CONTRIBUTOR_ACCEPTED))) {
		prl_buf_release(&b);
		return -PRL_ESQL;
	}
	archive_bind_text(st, 1, login);
	prl_buf_addstr(&b, ",\"accepted\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(&b, "%s{\"id\":%lld,\"recording_id\":%lld,\"recording_title\":",
			     first ? "" : ",", (long long)sqlite3_column_int64(st, 0),
			     (long long)sqlite3_column_int64(st, 1));
		first = 0;
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addstr(&b, ",\"kind\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addf(&b, ",\"start_ms\":%lld,\"end_ms\":%lld,\"text\":",
			     (long long)sqlite3_column_int64(st, 4),
			     (long long)sqlite3_column_int64(st, 5));
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 6));
		prl_buf_addstr(&b, ",\"reviewed_at\":");
		add_time(&b, st, 7);
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "listing accepted proposals");
	}
	prl_buf_addch(&b, ']');
	if (!(st = archive_stmt(a, ST_CONTRIBUTOR_NOTES))) {
		prl_buf_release(&b);
		return -PRL_ESQL;
	}
	archive_bind_text(st, 1, login);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		prl_buf_addf(&b, ",\"notes\":%lld}", (long long)sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "counting accepted notes");
	}
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_recording_contributors_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_RECORDING_CONTRIBUTORS);
	int rc, first = 1, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	prl_buf_addch(&b, '[');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(&b, first ? "{\"name\":" : ",{\"name\":");
		first = 0;
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		prl_buf_addstr(&b, ",\"login\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "listing contributors");
	}
	prl_buf_addch(&b, ']');
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
