/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Progress for the public: how much of a recording, a collection or the
 * whole archive is transcribed, translated and awaiting review, and the
 * list of public recordings that most need transcribing.
 *
 * "Transcribed" is the time covered by at least one non-empty segment of
 * a transcription tier (overlapping segments of several speakers count
 * once), "translated" the same for translation tiers; both are bounded by
 * the recording's duration.  A machine-made segment still without text
 * counts as waiting for text, not as transcribed.  "Awaiting review" counts
 * pending proposals other than notes.
 *
 * Always holds: only what the viewer may hear is counted: recordings
 * above the viewer's level are left out, and for whoever may not read a
 * withheld passage, the segments and proposals overlapping one are left
 * out too; the help list is what an anonymous visitor hears, whoever asks.
 * Expected workload: one recording's figures with each recording JSON (a
 * window over its segments); a collection's or the help list at page
 * loads, one pass over the segments of the recordings counted.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

#define HELP_DEFAULT 24
#define HELP_MAX 200

/* The figures of one row of ST_PROGRESS, or of their sum. */
struct figures {
	int64_t recordings;
	int64_t duration_ms;
	int64_t transcribed_ms;
	int64_t translated_ms;
	int64_t pending;
	int64_t untranscribed_segments; /* machine segments still without text */
};

/* A collection's sum, for the archive's breakdown. */
struct per_collection {
	char *name; /* owned; NULL: recordings in no collection */
	struct figures f;
};

static void figures_add(struct figures *sum, const struct figures *f)
{
	sum->recordings += f->recordings;
	sum->duration_ms += f->duration_ms;
	sum->transcribed_ms += f->transcribed_ms;
	sum->translated_ms += f->translated_ms;
	sum->pending += f->pending;
	sum->untranscribed_segments += f->untranscribed_segments;
}

static void figures_of_row(sqlite3_stmt *st, struct figures *f)
{
	f->recordings = 1;
	f->duration_ms = sqlite3_column_int64(st, 4);
	f->transcribed_ms = sqlite3_column_int64(st, 5);
	f->translated_ms = sqlite3_column_int64(st, 6);
	f->pending = sqlite3_column_int64(st, 7);
	f->untranscribed_segments = sqlite3_column_int64(st, 8);
}

static double share(int64_t part, int64_t whole)
{
	return whole > 0 ? (double)part / (double)whole : 0.0;
}

/* The members of a progress object, without its braces. */
static void figures_json(struct prl_buf *b, const struct figures *f, int with_count)
{
	if (with_count)
		prl_buf_addf(b, "\"recordings\":%lld,", (long long)f->recordings);
	prl_buf_addf(b,
		     "\"duration_ms\":%lld,\"transcribed_ms\":%lld,\"translated_ms\":%lld,"
		     "\"transcribed\":%.3f,\"translated\":%.3f,\"pending\":%lld,"
		     "\"untranscribed_segments\":%lld",
		     (long long)f->duration_ms, (long long)f->transcribed_ms,
		     (long long)f->translated_ms, share(f->transcribed_ms, f->duration_ms),
		     share(f->translated_ms, f->duration_ms), (long long)f->pending,
		     (long long)f->untranscribed_segments);
}

/* ST_PROGRESS bound for v (level, withheld) and the selection. */
static sqlite3_stmt *progress_stmt(struct prl_archive *a, const struct prl_viewer *v,
				   const char *collection, int64_t rec_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PROGRESS);

	if (!st)
		return NULL;
	sqlite3_bind_int(st, 1, archive_heard_level(v));
	archive_bind_text(st, 2, collection);
	if (rec_id > 0)
		sqlite3_bind_int64(st, 3, rec_id);
	sqlite3_bind_int(st, 4, prl_access_sees_withheld(v));
	return st;
}

int archive_progress_of_recording(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				  struct prl_buf *out)
{
	sqlite3_stmt *st = progress_stmt(a, v, NULL, id);
	struct figures f;
	int rc;

	if (!st)
		return -PRL_ESQL;
	memset(&f, 0, sizeof(f));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		figures_of_row(st, &f);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "measuring a recording's progress");
	prl_buf_addch(out, '{');
	figures_json(out, &f, 0);
	return prl_buf_addch(out, '}');
}

static int collection_find_or_add(struct per_collection **list, size_t *n, const char *name)
{
	struct per_collection *grown;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((!name && !(*list)[i].name) ||
		    (name && (*list)[i].name && !strcmp(name, (*list)[i].name)))
			return (int)i;
	if (!(grown = realloc(*list, (*n + 1) * sizeof(**list))))
		return -1;
	*list = grown;
	memset(&grown[*n], 0, sizeof(grown[*n]));
	if (name && !(grown[*n].name = strdup(name)))
		return -1;
	return (int)(*n)++;
}

static int by_name(const void *x, const void *y)
{
	const struct per_collection *p = x, *q = y;

	if (!p->name || !q->name)
		return !p->name - !q->name;
	return strcmp(p->name, q->name);
}

int prl_archive_progress_json(struct prl_archive *a, const struct prl_viewer *v,
			      const char *collection, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct per_collection *colls = NULL;
	struct figures sum, f;
	char *name = NULL; /* the collection's, as stored */
	sqlite3_stmt *st;
	size_t ncolls = 0;
	int rc, ret = 0;

	if (collection && !*collection)
		collection = NULL;
	if (!(st = progress_stmt(a, v, collection, 0)))
		return -PRL_ESQL;
	memset(&sum, 0, sizeof(sum));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i;

		figures_of_row(st, &f);
		figures_add(&sum, &f);
		if (collection) {
			if (!name && !(name = archive_col_strdup(st, 2))) {
				ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
				break;
			}
			continue;
		}
		if ((i = collection_find_or_add(&colls, &ncolls,
						(const char *)sqlite3_column_text(st, 2))) < 0) {
			ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			break;
		}
		figures_add(&colls[i].f, &f);
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "measuring progress");
	/* a collection the viewer hears nothing of is none to them */
	if (ret == 0 && collection && sum.recordings == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no collection '%s'", collection);
	if (ret < 0)
		goto end;
	prl_buf_addstr(&b, "{\"collection\":");
	if (name)
		prl_json_str(&b, name);
	else
		prl_buf_addstr(&b, "null");
	prl_buf_addch(&b, ',');
	figures_json(&b, &sum, 1);
	if (!collection) {
		qsort(colls, ncolls, sizeof(*colls), by_name);
		prl_buf_addstr(&b, ",\"collections\":[");
		for (size_t i = 0; i < ncolls; i++) {
			prl_buf_addstr(&b, i ? ",{\"name\":" : "{\"name\":");
			if (colls[i].name)
				prl_json_str(&b, colls[i].name);
			else
				prl_buf_addstr(&b, "null");
			prl_buf_addch(&b, ',');
			figures_json(&b, &colls[i].f, 1);
			prl_buf_addch(&b, '}');
		}
		prl_buf_addch(&b, ']');
	}
	prl_buf_addch(&b, '}');
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	for (size_t i = 0; i < ncolls; i++)
		free(colls[i].name);
	free(colls);
	free(name);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_help_transcribe_json(struct prl_archive *a, const char *collection, int64_t limit,
				     int64_t offset, struct prl_buf *out)
{
	const struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT;
	struct figures f;
	sqlite3_stmt *st;
	int64_t total = 0;
	int rc, ret;

	if (limit == 0)
		limit = HELP_DEFAULT;
	if (limit < 0 || limit > HELP_MAX || offset < 0)
		return archive_fail(a, -PRL_EINVAL, "limit is 1 to %d, offset 0 or more", HELP_MAX);
	if (collection && !*collection)
		collection = NULL;
	/* least transcribed first (the statement's order); fully transcribed
	 * recordings need no help and are left out */
	if (!(st = progress_stmt(a, &anon, collection, 0)))
		return -PRL_ESQL;
	prl_buf_addstr(&b, "\"recordings\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		figures_of_row(st, &f);
		if (f.duration_ms <= 0 || f.transcribed_ms >= f.duration_ms)
			continue;
		if (total++ < offset || total > offset + limit)
			continue;
		prl_buf_addf(&b, "%s{\"id\":%lld,\"title\":", total > offset + 1 ? "," : "",
			     (long long)sqlite3_column_int64(st, 0));
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addstr(&b, ",\"collection\":");
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			prl_buf_addstr(&b, "null");
		else
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addstr(&b, ",\"place\":");
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			prl_buf_addstr(&b, "null");
		else
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addstr(&b, ",\"progress\":{");
		figures_json(&b, &f, 0);
		prl_buf_addstr(&b, "}}");
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prl_buf_release(&b);
		return archive_sql_fail(a, "listing recordings to transcribe");
	}
	prl_buf_addstr(&b, "]}");
	prl_buf_addf(out, "{\"total\":%lld,\"offset\":%lld,", (long long)total, (long long)offset);
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
