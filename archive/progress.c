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
 * Expected workload: one recording's figures with each recording JSON; a
 * collection's or the help list at page loads: one pass over the
 * recordings counted and one over their segments with text, read from
 * their index and sorted here one recording at a time (SQL's window
 * functions would sort them all at once, several times slower).
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

/* One recording counted, with its figures. */
struct row {
	int64_t id;
	char *title;	  /* owned */
	char *collection; /* owned, NULL: none */
	char *place;	  /* owned, NULL: none */
	struct figures f;
};

/* The recordings counted for a viewer, by id. */
struct measured {
	struct row *rows;
	size_t n;
};

/* A segment's span; its kind is the array it is in. */
struct span {
	int64_t start, end;
};

/* Growable arrays of one recording's spans, transcription and translation. */
struct spans {
	struct span *s[2];
	size_t n[2], cap[2];
};

static void measured_clear(struct measured *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->rows[i].title);
		free(m->rows[i].collection);
		free(m->rows[i].place);
	}
	free(m->rows);
	memset(m, 0, sizeof(*m));
}

static void bind_selection(sqlite3_stmt *st, const struct prl_viewer *v, const char *collection,
			   int64_t rec_id)
{
	sqlite3_bind_int(st, 1, archive_heard_level(v));
	archive_bind_text(st, 2, collection);
	if (rec_id > 0)
		sqlite3_bind_int64(st, 3, rec_id);
	sqlite3_bind_int(st, 4, prl_access_sees_withheld(v));
}

static int by_start(const void *p, const void *q)
{
	const struct span *x = p, *y = q;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The time n spans cover, each instant once (sorts them). */
static int64_t covered(struct span *s, size_t n)
{
	int64_t total = 0, reach = 0;

	if (!n)
		return 0;
	qsort(s, n, sizeof(*s), by_start);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || s[i].start >= reach) {
			total += s[i].end - s[i].start;
			reach = s[i].end;
		} else if (s[i].end > reach) {
			total += s[i].end - reach;
			reach = s[i].end;
		}
	}
	return total;
}

static struct row *row_of(struct measured *m, int64_t id)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->rows[mid].id == id)
			return &m->rows[mid];
		if (m->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Adds the time sp covers to recording id's figures, and empties sp.  A
 * recording's segments come one recording after another; should they not,
 * each part adds its own and the duration bounds the sum. */
static void spans_flush(struct measured *m, int64_t id, struct spans *sp)
{
	struct row *r = row_of(m, id);

	if (r) {
		r->f.transcribed_ms += covered(sp->s[0], sp->n[0]);
		r->f.translated_ms += covered(sp->s[1], sp->n[1]);
		if (r->f.transcribed_ms > r->f.duration_ms)
			r->f.transcribed_ms = r->f.duration_ms;
		if (r->f.translated_ms > r->f.duration_ms)
			r->f.translated_ms = r->f.duration_ms;
	}
	sp->n[0] = sp->n[1] = 0;
}

static int spans_add(struct spans *sp, int kind, int64_t start, int64_t end)
{
	if (sp->n[kind] == sp->cap[kind]) {
		size_t cap = sp->cap[kind] ? 2 * sp->cap[kind] : 1024;
		struct span *grown = realloc(sp->s[kind], cap * sizeof(*grown));

		if (!grown)
			return -PRL_ENOMEM;
		sp->s[kind] = grown;
		sp->cap[kind] = cap;
	}
	sp->s[kind][sp->n[kind]].start = start;
	sp->s[kind][sp->n[kind]++].end = end;
	return 0;
}

/* The recordings of the selection v hears, with their figures, into *m:
 * one pass over the recordings, one over their segments with text (in
 * index order, sorted here one recording at a time). */
static int measure(struct prl_archive *a, const struct prl_viewer *v, const char *collection,
		   int64_t rec_id, struct measured *m)
{
	struct spans sp;
	sqlite3_stmt *st;
	int64_t cur = 0;
	int rc, ret = 0;

	memset(m, 0, sizeof(*m));
	memset(&sp, 0, sizeof(sp));
	if (!(st = archive_stmt(a, ST_PROGRESS)))
		return -PRL_ESQL;
	bind_selection(st, v, collection, rec_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row *grown = realloc(m->rows, (m->n + 1) * sizeof(*grown)), *r;

		if (!grown) {
			ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			break;
		}
		m->rows = grown;
		r = &m->rows[m->n++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		figures_of_row(st, &r->f);
		if (!(r->title = archive_col_strdup(st, 1)) ||
		    (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		     !(r->collection = archive_col_strdup(st, 2))) ||
		    (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		     !(r->place = archive_col_strdup(st, 3)))) {
			ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "measuring progress");
	if (ret == 0 && m->n && !(st = archive_stmt(a, ST_PROGRESS_SEGMENTS)))
		ret = -PRL_ESQL;
	if (ret == 0 && m->n) {
		bind_selection(st, v, collection, rec_id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);

			if (id != cur && cur)
				spans_flush(m, cur, &sp);
			cur = id;
			if (spans_add(&sp, sqlite3_column_int(st, 1) ? 1 : 0,
				      sqlite3_column_int64(st, 2),
				      sqlite3_column_int64(st, 3)) < 0) {
				ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
				break;
			}
		}
		sqlite3_reset(st);
		if (ret == 0 && rc != SQLITE_DONE)
			ret = archive_sql_fail(a, "measuring progress");
		if (ret == 0 && cur)
			spans_flush(m, cur, &sp);
	}
	free(sp.s[0]);
	free(sp.s[1]);
	if (ret < 0)
		measured_clear(m);
	return ret;
}

int archive_progress_of_recording(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				  struct prl_buf *out)
{
	struct measured m;
	struct figures f;
	int ret;

	if ((ret = measure(a, v, NULL, id, &m)) < 0)
		return ret;
	memset(&f, 0, sizeof(f));
	if (m.n)
		f = m.rows[0].f;
	measured_clear(&m);
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
	struct measured m;
	struct figures sum;
	char *name = NULL; /* the collection's, as stored */
	size_t ncolls = 0;
	int ret = 0;

	if (collection && !*collection)
		collection = NULL;
	if ((ret = measure(a, v, collection, 0, &m)) < 0)
		return ret;
	memset(&sum, 0, sizeof(sum));
	for (size_t k = 0; k < m.n && ret == 0; k++) {
		int i;

		figures_add(&sum, &m.rows[k].f);
		if (collection) {
			if (!name && !(name = strdup(m.rows[k].collection ? m.rows[k].collection
									  : collection)))
				ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			continue;
		}
		if ((i = collection_find_or_add(&colls, &ncolls, m.rows[k].collection)) < 0) {
			ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			break;
		}
		figures_add(&colls[i].f, &m.rows[k].f);
	}
	measured_clear(&m);
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

/* Least transcribed first, then the longest, then by id. */
static int by_need(const void *p, const void *q)
{
	const struct row *x = p, *y = q;
	double sx = share(x->f.transcribed_ms, x->f.duration_ms),
	       sy = share(y->f.transcribed_ms, y->f.duration_ms);

	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (x->f.duration_ms != y->f.duration_ms)
		return x->f.duration_ms > y->f.duration_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void str_or_null(struct prl_buf *b, const char *s)
{
	if (s)
		prl_json_str(b, s);
	else
		prl_buf_addstr(b, "null");
}

int prl_archive_help_transcribe_json(struct prl_archive *a, const char *collection, int64_t limit,
				     int64_t offset, struct prl_buf *out)
{
	const struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT;
	struct measured m;
	int64_t total = 0;
	int ret;

	if (limit == 0)
		limit = HELP_DEFAULT;
	if (limit < 0 || limit > HELP_MAX || offset < 0)
		return archive_fail(a, -PRL_EINVAL, "limit is 1 to %d, offset 0 or more", HELP_MAX);
	if (collection && !*collection)
		collection = NULL;
	if ((ret = measure(a, &anon, collection, 0, &m)) < 0)
		return ret;
	/* fully transcribed recordings need no help and are left out */
	if (m.n)
		qsort(m.rows, m.n, sizeof(*m.rows), by_need);
	prl_buf_addstr(&b, "\"recordings\":[");
	for (size_t i = 0; i < m.n; i++) {
		const struct row *r = &m.rows[i];

		if (r->f.duration_ms <= 0 || r->f.transcribed_ms >= r->f.duration_ms)
			continue;
		if (total++ < offset || total > offset + limit)
			continue;
		prl_buf_addf(&b, "%s{\"id\":%lld,\"title\":", total > offset + 1 ? "," : "",
			     (long long)r->id);
		prl_json_str(&b, r->title);
		prl_buf_addstr(&b, ",\"collection\":");
		str_or_null(&b, r->collection);
		prl_buf_addstr(&b, ",\"place\":");
		str_or_null(&b, r->place);
		prl_buf_addstr(&b, ",\"progress\":{");
		figures_json(&b, &r->f, 0);
		prl_buf_addstr(&b, "}}");
	}
	measured_clear(&m);
	prl_buf_addstr(&b, "]}");
	prl_buf_addf(out, "{\"total\":%lld,\"offset\":%lld,", (long long)total, (long long)offset);
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
