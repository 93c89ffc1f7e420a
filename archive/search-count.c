/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search: counting the matches of an expression.  Counts are kept per
 * expression and filter in the search cache, and forgotten as soon as the
 * index changes; a count the vocabulary says is large is split across two
 * connections and two threads.
 *
 * Always holds: a count is never stale (it carries the index's signature),
 * and only counts read outside a transaction are shared.
 * Expected workload: one or two counts per query; walking a doclist of a
 * million entries for the commonest words.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "search-internal.h"

/* ---- running the expressions ---- */

int search_dated(const struct prl_search_opts *o)
{
	return (o->date_from && *o->date_from) || (o->date_to && *o->date_to);
}

/* An inclusive upper bound: "1980" must take "1980-12-31". */
static void date_upper(const char *to, char out[16])
{
	snprintf(out, 16, "%.10s~", to);
}

void search_bind_dates(sqlite3_stmt *st, int first, const struct prl_search_opts *o)
{
	char upper[16];

	archive_bind_text(st, first, o->date_from && *o->date_from ? o->date_from : NULL);
	if (o->date_to && *o->date_to) {
		date_upper(o->date_to, upper);
		archive_bind_text(st, first + 1, upper);
	}
}

/*
 * Counts, remembered.  Counting every match of a word that is in most
 * segments means walking its whole doclist; the words people ask most are
 * those, so counts are kept per expression and filter, in the search
 * cache, and forgotten as soon as the index changes (its signature, as for
 * the vocabulary).  A count is never stale.
 */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void count_cache_key(struct prl_buf *k, const struct prl_search_opts *o,
			    const struct plan *p, const char *expr)
{
	prl_buf_addf(k, "%lld|%d|%s|%s|%s", (long long)p->key_below, p->tier_class,
		     o->date_from ? o->date_from : "", o->date_to ? o->date_to : "", expr);
}

/* 1 and *out when known for this index signature. */
static int count_cache_get(struct prl_search_cache *c, uint64_t sig, const char *key, int64_t *out)
{
	size_t slot = fnv(key) % COUNT_CACHE_SLOTS;
	int found = 0;

	pthread_mutex_lock(&c->count_lock);
	if (c->counts && c->count_signature == sig && c->counts[slot].key &&
	    !strcmp(c->counts[slot].key, key)) {
		*out = c->counts[slot].count;
		found = 1;
	}
	pthread_mutex_unlock(&c->count_lock);
	return found;
}

/* Every remembered count of c forgotten; under c->count_lock. */
static void counts_clear(struct prl_search_cache *c)
{
	for (size_t i = 0; c->counts && i < COUNT_CACHE_SLOTS; i++) {
		free(c->counts[i].key);
		c->counts[i].key = NULL;
	}
}

static void count_cache_put(struct prl_search_cache *c, uint64_t sig, const char *key, int64_t n)
{
	size_t slot = fnv(key) % COUNT_CACHE_SLOTS;

	pthread_mutex_lock(&c->count_lock);
	if (!c->counts && !(c->counts = calloc(COUNT_CACHE_SLOTS, sizeof(*c->counts)))) {
		pthread_mutex_unlock(&c->count_lock);
		return;
	}
	if (c->count_signature != sig) {
		counts_clear(c);
		c->count_signature = sig;
	}
	free(c->counts[slot].key);
	c->counts[slot].key = strdup(key);
	c->counts[slot].count = n;
	pthread_mutex_unlock(&c->count_lock);
}

void search_counts_forget(struct prl_search_cache *c)
{
	pthread_mutex_lock(&c->count_lock);
	counts_clear(c);
	pthread_mutex_unlock(&c->count_lock);
}

void search_counts_free(struct prl_search_cache *c)
{
	counts_clear(c);
	free(c->counts);
	c->counts = NULL;
}

/*
 * Counting a word that is in most segments means walking a doclist of
 * hundreds of thousands of entries.  When the vocabulary says a query may
 * match that many, the count is split in two halves by segment id, one on
 * this thread and one on a second thread with its own read-only
 * connection, so both cores walk the index.  The halves are rowid ranges
 * inside each readable (access level, tier class) range, which FTS5 seeks
 * to directly.  Both connections read the last committed state; a commit
 * landing between the two starts could make the sum off by the segments
 * it changed, for that one answer only (the cache then sees a new index).
 */
static int64_t parallel_count_from = 100000;

struct count_half {
	sqlite3_stmt *st; /* ST_SEARCH_COUNT_RANGE on the connection this half runs on */
	const char *expr;
	int64_t ranges[12][2];
	int nranges;
	int64_t count;
	int rc; /* SQLITE_OK or the failure */
};

static void *count_half_run(void *arg)
{
	struct count_half *h = arg;
	sqlite3_stmt *st = h->st;

	h->count = 0;
	h->rc = SQLITE_OK;
	for (int i = 0; h->rc == SQLITE_OK && i < h->nranges; i++) {
		sqlite3_bind_text(st, 1, h->expr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, h->ranges[i][0]);
		sqlite3_bind_int64(st, 3, h->ranges[i][1]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			h->count += sqlite3_column_int64(st, 0);
			h->rc = SQLITE_OK;
		} else {
			h->rc = SQLITE_ERROR;
		}
		sqlite3_reset(st);
	}
	return NULL;
}

/* The second, read-only connection and its count statement, made on
 * first use and kept with the handle. */
static int reader_open(struct prl_archive *a)
{
	if (a->reader_count)
		return 0;
	if (!a->db_reader) {
		struct prl_buf path = PRL_BUF_INIT;

		prl_buf_addf(&path, "%s/archive.db", a->dir);
		if (sqlite3_open_v2(path.data, &a->db_reader,
				    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK) {
			sqlite3_close(a->db_reader);
			a->db_reader = NULL;
		} else {
			sqlite3_busy_timeout(a->db_reader, 10000);
		}
		prl_buf_release(&path);
		if (!a->db_reader)
			return -PRL_ESQL;
	}
	if (archive_stmt_prepare_on(a->db_reader, ST_SEARCH_COUNT_RANGE, &a->reader_count) !=
	    SQLITE_OK) {
		sqlite3_finalize(a->reader_count);
		a->reader_count = NULL;
		return -PRL_ESQL;
	}
	return 0;
}

static int count_in_parallel(struct prl_archive *a, const struct plan *p, const char *expr,
			     int64_t *out)
{
	struct count_half half[2];
	sqlite3_stmt *st;
	pthread_t worker;
	int64_t max_id = 0, split;
	int levels, cls_from, cls_to;

	if (reader_open(a) < 0)
		return -PRL_ESQL;
	if ((st = archive_stmt(a, ST_SEGMENT_MAX_ID))) {
		if (sqlite3_step(st) == SQLITE_ROW)
			max_id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	split = max_id / 2 + 1;
	levels = (int)(p->key_below >> INDEX_ACCESS_BITS);
	cls_from = p->tier_class < 0 ? 0 : p->tier_class;
	cls_to = p->tier_class < 0 ? 3 : p->tier_class;
	memset(half, 0, sizeof(half));
	if (!(half[0].st = archive_stmt(a, ST_SEARCH_COUNT_RANGE)))
		return -PRL_ESQL;
	half[1].st = a->reader_count;
	for (int l = 0; l < levels; l++)
		for (int c = cls_from; c <= cls_to; c++) {
			int64_t base = ((int64_t)l << INDEX_ACCESS_BITS) |
				       ((int64_t)c << INDEX_CLASS_BITS);

			half[0].ranges[half[0].nranges][0] = base;
			half[0].ranges[half[0].nranges++][1] = base + split;
			half[1].ranges[half[1].nranges][0] = base + split;
			half[1].ranges[half[1].nranges++][1] =
				base + (INT64_C(1) << INDEX_CLASS_BITS);
		}
	half[0].expr = half[1].expr = expr;
	if (pthread_create(&worker, NULL, count_half_run, &half[1]) != 0)
		return -PRL_ENOMEM;
	count_half_run(&half[0]);
	pthread_join(worker, NULL);
	if (half[0].rc != SQLITE_OK || half[1].rc != SQLITE_OK)
		return archive_fail(a, -PRL_ESQL, "counting matches: %s",
				    sqlite3_errmsg(half[0].rc != SQLITE_OK ? a->db : a->db_reader));
	*out = half[0].count + half[1].count;
	return 0;
}

void search_count_tuning(int64_t parallel_from)
{
	__atomic_store_n(&parallel_count_from, parallel_from, __ATOMIC_RELAXED);
}

/* Matches of expr, in the index whose signature is sig. */
int search_count_matches(struct prl_archive *a, const struct prl_search_opts *o,
			 const struct plan *p, uint64_t sig, const char *expr, int64_t *out)
{
	sqlite3_stmt *st;
	struct prl_buf key = PRL_BUF_INIT;
	int rc;

	count_cache_key(&key, o, p, expr);
	if (key.data && count_cache_get(a->search_cache, sig, key.data, out)) {
		prl_buf_release(&key);
		return 0;
	}
	if (!search_dated(o) && sqlite3_get_autocommit(a->db) && p->key_below &&
	    search_estimate_matches(p) >= __atomic_load_n(&parallel_count_from, __ATOMIC_RELAXED) &&
	    count_in_parallel(a, p, expr, out) == 0) {
		if (key.data)
			count_cache_put(a->search_cache, sig, key.data, *out);
		prl_buf_release(&key);
		return 0;
	}
	st = archive_stmt(a, search_dated(o) ? ST_SEARCH_COUNT_DATED : ST_SEARCH_COUNT);
	if (!st) {
		prl_buf_release(&key);
		return -PRL_ESQL;
	}
	archive_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, p->key_below);
	sqlite3_bind_int(st, 3, p->tier_class);
	if (search_dated(o))
		search_bind_dates(st, 4, o);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		prl_buf_release(&key);
		return archive_sql_fail(a, "counting matches");
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* a transaction of this handle may hold writes the signature does not
	 * show yet: only counts read outside one are shared */
	if (key.data && sqlite3_get_autocommit(a->db))
		count_cache_put(a->search_cache, sig, key.data, *out);
	prl_buf_release(&key);
	return 0;
}
