/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The search index's postings, kept in memory by the server.
 *
 * FTS5 answers "which segments hold this word" by walking the word's
 * doclist on disk, and counting every match of a word that is in most
 * segments, or of a phrase of two such words, or of a prefix shared by
 * hundreds of words, means walking hundreds of thousands of entries with
 * their positions: tens of milliseconds each time.  Every answer carries
 * its total, so those walks are the cost of a search.
 *
 * So the server keeps a copy of the postings, read once from FTS5 itself
 * (fts5vocab's instance table, in one read transaction): for each term of
 * the body column, the segments that hold it, in index order, each with a
 * 64-bit mask of the positions it is at (bit 63 standing for every
 * position from 63 on); for each filter token of the meta column, the
 * segments only.  Segments are numbered densely in rowid order, so the
 * access levels and tier classes (the rowid's top bits, see schema.c) are
 * ranges of numbers and a result set is a bitmap: a word is its list, a
 * phrase is the lists merged with their masks shifted, a prefix is the
 * union of a range of terms, and AND, OR, NOT, the filters and the access
 * rule are word-wide bit operations.  Counting a million matches is a
 * popcount.  Relevance is FTS5's own bm25, computed from the same lists.
 *
 * The copy is only ever used while it describes the index exactly: it
 * carries the signature of the FTS5 structure record it was read under,
 * and a query whose index has another signature, a query inside a
 * transaction, a date filter, or a prefix inside a phrase goes to FTS5 as
 * before.  A stale copy is re-read in the background (at most once every
 * few seconds while the index keeps changing), on its own read-only
 * connection, and replaces the old one when complete: for that while, two
 * copies are held.
 *
 * Memory: about 12 bytes per (term, segment) pair and 16 per segment:
 * 147 MB for a million segments of ten words (190 MB of the process's,
 * with the allocator's share), read in 2-3 s.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"
#include "search-internal.h"

#define OVERFLOW_BIT (UINT64_C(1) << 63)
/* A re-read starts RELOAD_EVERY_S seconds, plus twice the last reading's
 * duration, after the last one started: while the index keeps changing,
 * reading it takes under a third of one core. */
#define RELOAD_EVERY_S 5

struct mterm {
	char *term;	 /* as FTS5 stores it (folded, lower case) */
	uint32_t n;	 /* segments that hold it */
	uint32_t *docs;	 /* their dense numbers, ascending */
	uint64_t *masks; /* body terms: positions in each of them */
};

struct search_memory {
	struct prl_search_cache *cache; /* the cache that holds it */
	uint64_t signature;		/* of the index's structure record when read */
	int refs;			/* users, plus one while it is the current copy */
	uint32_t ndocs;			/* rows of the index */
	int64_t *rowid;			/* dense number -> index rowid, ascending */
	uint32_t *recording;		/* dense number -> recording id */
	uint32_t *length;		/* dense number -> tokens in the row, every column (bm25) */
	double avgdl;			/* mean of length */
	struct mterm *body, *meta;	/* sorted by term */
	size_t nbody, nmeta;
	size_t bytes; /* memory held, roughly */
};

/* for the process, whatever the cache */
static long memory_answers; /* searches answered here (tests look) */
static int memory_unused;   /* tests: FTS5 answers everything */

static uint64_t search_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; b && i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void memory_destroy(struct search_memory *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbody; i++) {
		free(m->body[i].term);
		free(m->body[i].docs);
		free(m->body[i].masks);
	}
	for (size_t i = 0; i < m->nmeta; i++) {
		free(m->meta[i].term);
		free(m->meta[i].docs);
	}
	free(m->body);
	free(m->meta);
	free(m->rowid);
	free(m->recording);
	free(m->length);
	free(m);
}

static void memory_release(struct search_memory *m)
{
	struct prl_search_cache *c;

	if (!m)
		return;
	c = m->cache;
	pthread_mutex_lock(&c->memory_lock);
	if (--m->refs == 0)
		memory_destroy(m);
	pthread_mutex_unlock(&c->memory_lock);
}

/* ---- reading the postings ---- */

/* The postings of one term while the index is read. */
struct building {
	char *term;
	size_t len;
	uint64_t hash;
	uint32_t *docs;
	uint64_t *masks; /* body terms only */
	uint32_t n, cap;
};

/* Terms of one column being read: an open-addressing hash table. */
struct term_hash {
	struct building *b;
	size_t n, cap; /* cap a power of two, at most half full */
	int body;
	int failed;
};

static struct building *hash_find(struct term_hash *h, const char *t, size_t len)
{
	uint64_t hv = search_hash_bytes(t, len);
	size_t i;

	if (2 * (h->n + 1) > h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		struct building *nb = calloc(cap, sizeof(*nb));

		if (!nb)
			return NULL;
		for (size_t k = 0; k < h->cap; k++) {
			if (!h->b[k].term)
				continue;
			for (i = h->b[k].hash & (cap - 1); nb[i].term; i = (i + 1) & (cap - 1))
				;
			nb[i] = h->b[k];
		}
		free(h->b);
		h->b = nb;
		h->cap = cap;
	}
	for (i = hv & (h->cap - 1); h->b[i].term; i = (i + 1) & (h->cap - 1))
		if (h->b[i].hash == hv && h->b[i].len == len && !memcmp(h->b[i].term, t, len))
			return &h->b[i];
	if (!(h->b[i].term = strndup(t, len)))
		return NULL;
	h->b[i].len = len;
	h->b[i].hash = hv;
	h->n++;
	return &h->b[i];
}

static int building_add(struct building *b, uint32_t doc, int pos, int body)
{
	uint64_t bit = pos >= 63 ? OVERFLOW_BIT : UINT64_C(1) << pos;

	if (b->n && b->docs[b->n - 1] == doc) {
		if (body)
			b->masks[b->n - 1] |= bit;
		return 0;
	}
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 4;
		uint32_t *d = realloc(b->docs, cap * sizeof(*d));
		uint64_t *m = NULL;

		if (d)
			b->docs = d;
		if (!d || (body && !(m = realloc(b->masks, cap * sizeof(*m)))))
			return -PRL_ENOMEM;
		if (body)
			b->masks = m;
		b->cap = cap;
	}
	b->docs[b->n] = doc;
	if (body)
		b->masks[b->n] = bit;
	b->n++;
	return 0;
}

/* What the tokenizer's callback needs while one column of one row is cut. */
struct cutting {
	struct term_hash *h;
	uint32_t doc;
	int pos;
};

static int on_index_token(void *ctx, int flags, const char *tok, int n, int start, int end)
{
	struct cutting *c = ctx;
	struct building *b;

	(void)start;
	(void)end;
	if (flags & FTS5_TOKEN_COLOCATED)
		c->pos--; /* the same position as the token before (not from unicode61) */
	if (n <= 0 || !(b = hash_find(c->h, tok, (size_t)n)) ||
	    building_add(b, c->doc, c->pos, c->h->body) < 0) {
		c->h->failed = 1;
		return SQLITE_NOMEM;
	}
	c->pos++;
	return SQLITE_OK;
}

static int cmp_term(const void *x, const void *y)
{
	return strcmp(((const struct mterm *)x)->term, ((const struct mterm *)y)->term);
}

/* The hash table's terms as a sorted array, their lists trimmed. */
static int hash_to_terms(struct term_hash *h, struct mterm **out, size_t *n, size_t *bytes)
{
	struct mterm *t = malloc((h->n ? h->n : 1) * sizeof(*t));
	size_t k = 0;

	if (!t)
		return -PRL_ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		struct building *b = &h->b[i];
		uint32_t *d;
		uint64_t *m;

		if (!b->term)
			continue;
		if ((d = realloc(b->docs, b->n * sizeof(*d))))
			b->docs = d;
		if (b->masks && (m = realloc(b->masks, b->n * sizeof(*m))))
			b->masks = m;
		t[k].term = b->term;
		t[k].n = b->n;
		t[k].docs = b->docs;
		t[k].masks = b->masks;
		*bytes += b->n * (b->masks ? 12u : 4u) + b->len + 1 + sizeof(*t);
		memset(b, 0, sizeof(*b));
		k++;
	}
	qsort(t, k, sizeof(*t), cmp_term);
	*out = t;
	*n = k;
	return 0;
}

static void hash_clear(struct term_hash *h)
{
	for (size_t i = 0; i < h->cap; i++) {
		free(h->b[i].term);
		free(h->b[i].docs);
		free(h->b[i].masks);
	}
	free(h->b);
	memset(h, 0, sizeof(*h));
}

uint64_t search_signature(sqlite3_stmt *st)
{
	uint64_t sig = search_hash_bytes(NULL, 0);

	if (st && sqlite3_step(st) == SQLITE_ROW)
		sig = search_hash_bytes(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0));
	if (st)
		sqlite3_reset(st);
	return sig;
}

static uint64_t read_signature(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	uint64_t sig;

	sqlite3_prepare_v2(db, INDEX_SIGNATURE_SQL, -1, &st, NULL);
	sig = search_signature(st);
	sqlite3_finalize(st);
	return sig;
}

/*
 * Every row of the index in rowid order, its two columns cut into tokens
 * by the index's own tokenizer (as FTS5 cut them when it indexed them: the
 * same tokens at the same positions), into lists per term.
 */
static int read_index(sqlite3 *db, struct search_memory *m)
{
	static const char *const args[] = {"remove_diacritics", "2"};
	struct term_hash body = {NULL, 0, 0, 1, 0}, meta = {NULL, 0, 0, 0, 0};
	sqlite3_stmt *st = NULL, *api_st = NULL;
	fts5_api *api = NULL;
	fts5_tokenizer tk;
	Fts5Tokenizer *tok = NULL;
	void *ctx = NULL;
	size_t cap = 0;
	double total = 0;
	int rc, ret = -PRL_ESQL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &api_st, NULL) != SQLITE_OK)
		goto end;
	sqlite3_bind_pointer(api_st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(api_st);
	if (!api || api->xFindTokenizer(api, "unicode61", &ctx, &tk) != SQLITE_OK ||
	    tk.xCreate(ctx, (const char **)args, 2, &tok) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT rowid, body, meta FROM segment_index ORDER BY rowid", -1,
			       &st, NULL) != SQLITE_OK)
		goto end;
	ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cutting cb = {&body, m->ndocs, 0}, cm = {&meta, m->ndocs, 0};
		const char *text;

		if ((m->ndocs & 0xffff) == 0 &&
		    __atomic_load_n(&m->cache->loader_cancel, __ATOMIC_RELAXED)) {
			ret = -PRL_EINVAL;
			break;
		}
		if (m->ndocs == cap) {
			size_t c = cap ? cap * 2 : 65536;
			int64_t *r = realloc(m->rowid, c * sizeof(*r));
			uint32_t *l;

			if (r)
				m->rowid = r;
			if (!r || !(l = realloc(m->length, c * sizeof(*l)))) {
				ret = -PRL_ENOMEM;
				break;
			}
			m->length = l;
			cap = c;
		}
		if ((text = (const char *)sqlite3_column_text(st, 1)))
			tk.xTokenize(tok, &cb, FTS5_TOKENIZE_DOCUMENT, text,
				     sqlite3_column_bytes(st, 1), on_index_token);
		if ((text = (const char *)sqlite3_column_text(st, 2)))
			tk.xTokenize(tok, &cm, FTS5_TOKENIZE_DOCUMENT, text,
				     sqlite3_column_bytes(st, 2), on_index_token);
		if (body.failed || meta.failed) {
			ret = -PRL_ENOMEM;
			break;
		}
		m->rowid[m->ndocs] = sqlite3_column_int64(st, 0);
		m->length[m->ndocs++] = (uint32_t)(cb.pos + cm.pos);
		total += cb.pos + cm.pos;
		if (m->ndocs == UINT32_MAX) {
			ret = -PRL_ENOMEM;
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -PRL_ESQL;
	m->avgdl = m->ndocs ? total / m->ndocs : 0;
	m->bytes += cap * 12;
	if (ret == 0 && (ret = hash_to_terms(&body, &m->body, &m->nbody, &m->bytes)) == 0)
		ret = hash_to_terms(&meta, &m->meta, &m->nmeta, &m->bytes);
end:
	hash_clear(&body);
	hash_clear(&meta);
	if (tok)
		tk.xDelete(tok);
	sqlite3_finalize(st);
	sqlite3_finalize(api_st);
	return ret;
}

/* The recording of every row, through the segment's tier. */
static int read_recordings(sqlite3 *db, struct search_memory *m)
{
	sqlite3_stmt *st;
	uint32_t *by_id = NULL;
	int64_t max_id = 0;
	int rc;

	for (uint32_t d = 0; d < m->ndocs; d++)
		if ((m->rowid[d] & INDEX_ID_MASK) > max_id)
			max_id = m->rowid[d] & INDEX_ID_MASK;
	if (max_id >= UINT32_MAX || !(by_id = calloc((size_t)max_id + 1, sizeof(*by_id))) ||
	    !(m->recording = malloc((m->ndocs ? m->ndocs : 1) * sizeof(*m->recording)))) {
		free(by_id);
		return -PRL_ENOMEM;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT s.id, t.recording_id FROM segments s"
			       " JOIN tiers t ON t.id = s.tier_id WHERE s.id <= ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		free(by_id);
		return -PRL_ESQL;
	}
	sqlite3_bind_int64(st, 1, max_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		by_id[sqlite3_column_int64(st, 0)] = (uint32_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	for (uint32_t d = 0; d < m->ndocs; d++)
		m->recording[d] = by_id[m->rowid[d] & INDEX_ID_MASK];
	free(by_id);
	m->bytes += (size_t)m->ndocs * 4;
	return rc == SQLITE_DONE ? 0 : -PRL_ESQL;
}

/* The dense number of the first row whose rowid is >= rowid. */
static uint32_t dense_at(const struct search_memory *m, int64_t rowid)
{
	uint32_t lo = 0, hi = m->ndocs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->rowid[mid] < rowid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct search_memory *memory_read(struct prl_search_cache *c, char **why)
{
	struct search_memory *m = calloc(1, sizeof(*m));
	struct prl_buf path = PRL_BUF_INIT;
	sqlite3 *db = NULL;
	int ret = -PRL_ENOMEM;

	prl_buf_addf(&path, "%s/archive.db", c->dir);
	if (!m)
		goto fail;
	m->cache = c;
	ret = -PRL_ESQL;
	if (sqlite3_open_v2(prl_buf_str(&path), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 10000);
	/* one snapshot: the signature, the rows and the postings agree */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	m->signature = read_signature(db);
	if ((ret = read_index(db, m)) < 0 || (ret = read_recordings(db, m)) < 0)
		goto fail;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	prl_buf_release(&path);
	m->refs = 1;
	return m;
fail:
	if (why) {
		free(*why);
		*why = strdup(ret == -PRL_ENOMEM ? "out of memory"
			      : db		 ? sqlite3_errmsg(db)
						 : "cannot open the archive");
	}
	sqlite3_close(db);
	prl_buf_release(&path);
	memory_destroy(m);
	return NULL;
}

static void *loader_run(void *arg)
{
	struct prl_search_cache *c = arg;
	char *why = NULL;
	struct search_memory *fresh = memory_read(c, &why);

	pthread_mutex_lock(&c->memory_lock);
	c->loader_last_took = time(NULL) - c->loader_last_start;
	if (fresh && !__atomic_load_n(&c->loader_cancel, __ATOMIC_RELAXED) && c->keeping) {
		if (c->memory && --c->memory->refs == 0)
			memory_destroy(c->memory);
		c->memory = fresh;
		fresh = NULL;
	}
	if (why) {
		free(c->memory_last_error);
		c->memory_last_error = why;
	}
	c->loader_running = 0;
	pthread_mutex_unlock(&c->memory_lock);
	memory_destroy(fresh);
	return NULL;
}

/* Starts a reading of c's archive in the background; under c->memory_lock. */
static void loader_start(struct prl_search_cache *c)
{
	if (c->loader_running)
		return;
	if (c->loader_started) {
		pthread_join(c->loader, NULL); /* finished: loader_running is 0 */
		c->loader_started = 0;
	}
	__atomic_store_n(&c->loader_cancel, 0, __ATOMIC_RELAXED);
	c->loader_running = 1;
	c->loader_last_start = time(NULL);
	if (pthread_create(&c->loader, NULL, loader_run, c) != 0) {
		c->loader_running = 0;
		return;
	}
	c->loader_started = 1;
}

void prl_archive_search_keep(struct prl_archive *a, int wait)
{
	struct prl_search_cache *c = a->search_cache;

	pthread_mutex_lock(&c->memory_lock);
	c->keeping = 1;
	loader_start(c);
	pthread_mutex_unlock(&c->memory_lock);
	if (wait) {
		pthread_mutex_lock(&c->memory_lock);
		if (c->loader_started) {
			pthread_mutex_unlock(&c->memory_lock);
			pthread_join(c->loader, NULL);
			pthread_mutex_lock(&c->memory_lock);
			c->loader_started = 0;
		}
		pthread_mutex_unlock(&c->memory_lock);
	}
}

void search_memory_forget(struct prl_search_cache *c)
{
	pthread_mutex_lock(&c->memory_lock);
	__atomic_store_n(&c->loader_cancel, 1, __ATOMIC_RELAXED);
	c->keeping = 0;
	if (c->loader_started) {
		pthread_mutex_unlock(&c->memory_lock);
		pthread_join(c->loader, NULL);
		pthread_mutex_lock(&c->memory_lock);
		c->loader_started = 0;
	}
	if (c->memory && --c->memory->refs == 0)
		memory_destroy(c->memory);
	c->memory = NULL;
	free(c->memory_last_error);
	c->memory_last_error = NULL;
	pthread_mutex_unlock(&c->memory_lock);
}

int search_memory_state(struct prl_search_cache *c, size_t *bytes, int64_t *rows, char **why)
{
	int ready;

	pthread_mutex_lock(&c->memory_lock);
	ready = c->memory != NULL;
	if (bytes)
		*bytes = c->memory ? c->memory->bytes : 0;
	if (rows)
		*rows = c->memory ? c->memory->ndocs : 0;
	if (why)
		*why = c->memory_last_error ? strdup(c->memory_last_error) : NULL;
	pthread_mutex_unlock(&c->memory_lock);
	return ready;
}

/* The current copy for a's archive at signature sig, with a reference;
 * NULL when there is none, and then a fresh reading may be started. */
static struct search_memory *memory_get(struct prl_archive *a, uint64_t sig)
{
	struct prl_search_cache *c = a->search_cache;
	struct search_memory *m = NULL;

	pthread_mutex_lock(&c->memory_lock);
	if (c->keeping) {
		if (c->memory && c->memory->signature == sig) {
			m = c->memory;
			m->refs++;
		} else if (!c->loader_running && time(NULL) - c->loader_last_start >=
							 RELOAD_EVERY_S + 2 * c->loader_last_took) {
			loader_start(c);
		}
	}
	pthread_mutex_unlock(&c->memory_lock);
	return m;
}

/* ---- sets of rows ---- */

/* Bits set in x.  Without -mpopcnt, __builtin_popcountll is a call into
 * libgcc's table; this inlines to a dozen instructions. */
static inline int popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (int)((x * 0x0101010101010101ull) >> 56);
}

struct bitmap {
	uint64_t *w;
	size_t nw;
};

static int bm_init(struct bitmap *b, uint32_t ndocs)
{
	b->nw = ((size_t)ndocs + 63) / 64;
	b->w = calloc(b->nw ? b->nw : 1, sizeof(*b->w));
	return b->w ? 0 : -PRL_ENOMEM;
}

static void bm_add_docs(struct bitmap *b, const uint32_t *docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b->w[docs[i] >> 6] |= UINT64_C(1) << (docs[i] & 63);
}

static void bm_set_range(struct bitmap *b, uint32_t from, uint32_t to)
{
	for (uint32_t d = from; d < to && (d & 63); d++)
		b->w[d >> 6] |= UINT64_C(1) << (d & 63);
	for (uint32_t d = (from + 63) & ~63u; d + 64 <= to; d += 64)
		b->w[d >> 6] = ~UINT64_C(0);
	for (uint32_t d = to & ~63u; d < to && d >= from; d++)
		b->w[d >> 6] |= UINT64_C(1) << (d & 63);
}

static int bm_has(const struct bitmap *b, uint32_t d)
{
	return (b->w[d >> 6] >> (d & 63)) & 1;
}

static int64_t bm_count(const struct bitmap *b)
{
	int64_t n = 0;

	for (size_t i = 0; i < b->nw; i++)
		n += popcount64(b->w[i]);
	return n;
}

/* ---- evaluating a query ---- */

enum form_kind { FORM_NONE, FORM_TERM, FORM_PHRASE, FORM_PREFIX };

/* One quoted string of the FTS5 expression (a "phrase" in bm25's words). */
struct form {
	enum form_kind kind;
	const struct mterm *term; /* FORM_TERM */
	uint32_t *docs;		  /* FORM_PHRASE: owned */
	uint64_t *masks;
	size_t n;
	size_t first, last; /* FORM_PREFIX: body terms [first, last) */
	int64_t hits;	    /* rows holding it, in the whole index (idf) */
	int variant;	    /* a close spelling */
	int meta;	    /* a filter token */
};

struct memory_answer {
	struct search_memory *m;
	struct bitmap exact, any; /* readable matches */
	int64_t total_exact, total;
	struct form *forms; /* in the order the FTS5 expression names them */
	size_t nforms;
};

struct tokens {
	char **t;
	size_t n;
	int failed;
};

static int on_token(void *ctx, int flags, const char *tok, int n, int start, int end)
{
	struct tokens *ts = ctx;
	char **g;

	(void)flags;
	(void)start;
	(void)end;
	if (!(g = realloc(ts->t, (ts->n + 1) * sizeof(*g))) ||
	    !(g[ts->n] = strndup(tok, (size_t)n))) {
		if (g)
			ts->t = g;
		ts->failed = 1;
		return SQLITE_NOMEM;
	}
	ts->t = g;
	ts->n++;
	return SQLITE_OK;
}

static void tokens_clear(struct tokens *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->t[i]);
	free(ts->t);
	memset(ts, 0, sizeof(*ts));
}

/* The index's own tokenizer, so that a query's words are cut exactly as
 * the index cut the text. */
struct tokenizer {
	fts5_tokenizer api;
	Fts5Tokenizer *tok;
};

static int tokenizer_open(struct prl_archive *a, struct tokenizer *tz)
{
	static const char *const args[] = {"remove_diacritics", "2"};
	sqlite3_stmt *st = archive_stmt(a, ST_FTS5_API);
	fts5_api *api = NULL;
	void *ctx = NULL;

	memset(tz, 0, sizeof(*tz));
	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_reset(st);
	if (!api || api->xFindTokenizer(api, "unicode61", &ctx, &tz->api) != SQLITE_OK ||
	    tz->api.xCreate(ctx, (const char **)args, 2, &tz->tok) != SQLITE_OK)
		return -PRL_ESQL;
	return 0;
}

static int tokenize(struct tokenizer *tz, const char *text, struct tokens *out)
{
	memset(out, 0, sizeof(*out));
	if (tz->api.xTokenize(tz->tok, out, FTS5_TOKENIZE_QUERY, text, (int)strlen(text),
			      on_token) != SQLITE_OK ||
	    out->failed) {
		tokens_clear(out);
		return -PRL_ENOMEM;
	}
	return 0;
}

static const struct mterm *find_term(const struct mterm *terms, size_t n, const char *t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(terms[mid].term, t);

		if (c == 0)
			return &terms[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* First index in [lo, n) of docs whose value is >= d (docs ascending). */
static size_t gallop(const uint32_t *docs, size_t lo, size_t n, uint32_t d)
{
	size_t step = 1, hi;

	while (lo + step < n && docs[lo + step] < d) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < n ? lo + step + 1 : n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (docs[mid] < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does the phrase text occur in row doc?  Asked of FTS5 for the rare rows
 * where a position past 62 leaves the masks unsure. */
static int phrase_in_row(struct prl_archive *a, const char *text, int64_t rowid)
{
	struct query_item it = {QUERY_PHRASE, (char *)text, 0, 0};
	struct prl_buf expr = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_SEARCH_IN_ROW);
	int found = 0;

	if (!st)
		return 0;
	prl_buf_addstr(&expr, "body : ");
	query_item_fts(&expr, &it);
	archive_bind_text(st, 1, prl_buf_str(&expr));
	sqlite3_bind_int64(st, 2, rowid);
	found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_reset(st);
	prl_buf_release(&expr);
	return found;
}

/*
 * The rows holding tokens t[0..n) in a row: the lists merged, the masks
 * shifted one position per word.  A row where a mask reaches past
 * position 62 is checked by FTS5.
 */
static int eval_phrase(struct prl_archive *a, const struct search_memory *m, const char *text,
		       const struct mterm **t, size_t n, struct form *f)
{
	size_t cap = t[0]->n, k, i, j, nout, nunsure = 0;
	uint32_t *docs = malloc((cap ? cap : 1) * sizeof(*docs)), *unsure = NULL;
	uint64_t *masks = malloc((cap ? cap : 1) * sizeof(*masks));

	if (!docs || !masks)
		goto nomem;
	memcpy(docs, t[0]->docs, cap * sizeof(*docs));
	memcpy(masks, t[0]->masks, cap * sizeof(*masks));
	nout = cap;
	for (k = 1; k < n && nout; k++) {
		const struct mterm *next = t[k];
		size_t kept = 0;

		for (i = 0, j = 0; i < nout && j < next->n; i++) {
			j = gallop(next->docs, j, next->n, docs[i]);
			if (j == next->n)
				break;
			if (next->docs[j] != docs[i])
				continue;
			if ((masks[i] & (UINT64_C(3) << 62)) || (next->masks[j] & OVERFLOW_BIT)) {
				uint32_t *g = realloc(unsure, (nunsure + 1) * sizeof(*g));

				if (!g)
					goto nomem;
				unsure = g;
				unsure[nunsure++] = docs[i];
				continue;
			}
			if ((masks[i] << 1) & next->masks[j]) {
				docs[kept] = docs[i];
				masks[kept++] = (masks[i] << 1) & next->masks[j];
			}
		}
		nout = kept;
	}
	/* the unsure rows that FTS5 confirms join the list, in order */
	for (i = 0; i < nunsure; i++) {
		size_t at;

		if (!phrase_in_row(a, text, m->rowid[unsure[i]]))
			continue;
		at = nout ? gallop(docs, 0, nout, unsure[i]) : 0;
		if (at < nout && docs[at] == unsure[i])
			continue;
		memmove(docs + at + 1, docs + at, (nout - at) * sizeof(*docs));
		memmove(masks + at + 1, masks + at, (nout - at) * sizeof(*masks));
		docs[at] = unsure[i];
		masks[at] = OVERFLOW_BIT; /* there, but how often is unknown */
		nout++;
	}
	free(unsure);
	f->kind = FORM_PHRASE;
	f->docs = docs;
	f->masks = masks;
	f->n = nout;
	f->hits = (int64_t)nout;
	return 0;
nomem:
	free(docs);
	free(masks);
	free(unsure);
	return -PRL_ENOMEM;
}

/*
 * One quoted string of the expression, its rows added to set.  Returns 0,
 * 1 when the copy cannot evaluate it (FTS5 will), or a negative error.
 */
static int eval_form(struct prl_archive *a, struct memory_answer *ans, struct tokenizer *tz,
		     const char *text, int prefix, struct form *f, struct bitmap *set)
{
	const struct search_memory *m = ans->m;
	const struct mterm *t[QUERY_MAX_BYTES / 2 + 1];
	struct tokens ts;
	size_t i;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	if ((ret = tokenize(tz, text, &ts)) < 0)
		return ret;
	if (ts.n == 0 || ts.n > sizeof(t) / sizeof(t[0]) || (prefix && ts.n > 1)) {
		tokens_clear(&ts);
		return 1; /* nothing to look for, or a prefix inside a phrase */
	}
	if (prefix) {
		size_t len = strlen(ts.t[0]), lo = 0, hi = m->nbody;
		struct bitmap own;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (strcmp(m->body[mid].term, ts.t[0]) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		f->kind = FORM_PREFIX;
		f->first = f->last = lo;
		while (f->last < m->nbody && !strncmp(m->body[f->last].term, ts.t[0], len))
			f->last++;
		if ((ret = bm_init(&own, m->ndocs)) == 0) {
			for (i = f->first; i < f->last; i++)
				bm_add_docs(&own, m->body[i].docs, m->body[i].n);
			f->hits = bm_count(&own);
			for (i = 0; i < own.nw; i++)
				set->w[i] |= own.w[i];
			free(own.w);
		}
		tokens_clear(&ts);
		return ret;
	}
	for (i = 0; i < ts.n; i++)
		if (!(t[i] = find_term(m->body, m->nbody, ts.t[i])))
			break;
	if (i < ts.n) {
		f->kind = FORM_NONE; /* a word the index does not hold: no rows */
	} else if (ts.n == 1) {
		f->kind = FORM_TERM;
		f->term = t[0];
		f->hits = t[0]->n;
		bm_add_docs(set, t[0]->docs, t[0]->n);
	} else if ((ret = eval_phrase(a, m, text, t, ts.n, f)) == 0) {
		bm_add_docs(set, f->docs, f->n);
	}
	tokens_clear(&ts);
	return ret;
}

static int add_form(struct memory_answer *ans, struct form *f)
{
	struct form *g = realloc(ans->forms, (ans->nforms + 1) * sizeof(*g));

	if (!g) {
		free(f->docs);
		free(f->masks);
		return -PRL_ENOMEM;
	}
	ans->forms = g;
	g[ans->nforms++] = *f;
	return 0;
}

/* Item i of the plan: its rows with its exact forms, and with every form. */
static int eval_item(struct prl_archive *a, struct memory_answer *ans, struct tokenizer *tz,
		     const struct plan *p, size_t i, struct bitmap *exact, struct bitmap *any)
{
	const struct query_item *it = &p->q.items[i];
	struct form f;
	int ret;

	if ((ret = eval_form(a, ans, tz, it->text, it->kind == QUERY_PREFIX, &f, exact)) != 0 ||
	    (ret = add_form(ans, &f)) < 0)
		return ret;
	/* the staff's equivalents are quoted like the item itself */
	for (size_t k = 0; k < p->exact[i].n; k++)
		if ((ret = eval_form(a, ans, tz, p->exact[i].items[k], it->kind == QUERY_PREFIX, &f,
				     exact)) != 0 ||
		    (ret = add_form(ans, &f)) < 0)
			return ret;
	for (size_t w = 0; w < exact->nw; w++)
		any->w[w] |= exact->w[w];
	if (it->negated)
		return 0;
	for (size_t k = 0; k < p->variant[i].n; k++) {
		if ((ret = eval_form(a, ans, tz, p->variant[i].items[k], it->kind == QUERY_PREFIX,
				     &f, any)) != 0)
			return ret;
		f.variant = 1;
		if ((ret = add_form(ans, &f)) < 0)
			return ret;
	}
	return 0;
}

static int evaluate(struct prl_archive *a, const struct plan *p, struct memory_answer *ans)
{
	const struct search_memory *m = ans->m;
	struct bitmap ge = {NULL, 0}, ga = {NULL, 0}, ie = {NULL, 0}, ia = {NULL, 0};
	struct bitmap visible = {NULL, 0};
	struct tokenizer tz;
	size_t w, i;
	int ret, levels, cls_from, cls_to;

	if ((ret = tokenizer_open(a, &tz)) < 0)
		return ret;
	if ((ret = bm_init(&ans->exact, m->ndocs)) < 0 ||
	    (ret = bm_init(&ans->any, m->ndocs)) < 0 || (ret = bm_init(&ge, m->ndocs)) < 0 ||
	    (ret = bm_init(&ga, m->ndocs)) < 0 || (ret = bm_init(&ie, m->ndocs)) < 0 ||
	    (ret = bm_init(&ia, m->ndocs)) < 0 || (ret = bm_init(&visible, m->ndocs)) < 0)
		goto end;
	/* what the viewer may read: whole levels, one tier class or all */
	levels = (int)(p->key_below >> INDEX_ACCESS_BITS);
	cls_from = p->tier_class < 0 ? 0 : p->tier_class;
	cls_to = p->tier_class < 0 ? 3 : p->tier_class;
	for (int l = 0; l < levels; l++)
		for (int c = cls_from; c <= cls_to; c++) {
			int64_t base = ((int64_t)l << INDEX_ACCESS_BITS) |
				       ((int64_t)c << INDEX_CLASS_BITS);
			bm_set_range(&visible, dense_at(m, base),
				     dense_at(m, base + (INT64_C(1) << INDEX_CLASS_BITS)));
		}
	memcpy(ans->exact.w, visible.w, visible.nw * sizeof(*visible.w));
	memcpy(ans->any.w, visible.w, visible.nw * sizeof(*visible.w));
	/* groups are ANDed, the items of a group ORed */
	for (int g = 0; g < p->q.ngroups; g++) {
		memset(ge.w, 0, ge.nw * sizeof(*ge.w));
		memset(ga.w, 0, ga.nw * sizeof(*ga.w));
		for (i = 0; i < p->q.n; i++) {
			if (p->q.items[i].negated || p->q.items[i].group != g)
				continue;
			memset(ie.w, 0, ie.nw * sizeof(*ie.w));
			memset(ia.w, 0, ia.nw * sizeof(*ia.w));
			if ((ret = eval_item(a, ans, &tz, p, i, &ie, &ia)) != 0)
				goto end;
			for (w = 0; w < ge.nw; w++) {
				ge.w[w] |= ie.w[w];
				ga.w[w] |= ia.w[w];
			}
		}
		for (w = 0; w < ge.nw; w++) {
			ans->exact.w[w] &= ge.w[w];
			ans->any.w[w] &= ga.w[w];
		}
	}
	for (i = 0; i < p->q.n; i++) {
		if (!p->q.items[i].negated)
			continue;
		memset(ie.w, 0, ie.nw * sizeof(*ie.w));
		memset(ia.w, 0, ia.nw * sizeof(*ia.w));
		if ((ret = eval_item(a, ans, &tz, p, i, &ie, &ia)) != 0)
			goto end;
		for (w = 0; w < ie.nw; w++) {
			ans->exact.w[w] &= ~ie.w[w];
			ans->any.w[w] &= ~ie.w[w];
		}
	}
	/* the filters: meta tokens, each group ORed */
	for (int fg = 0; fg < p->nfilters; fg++) {
		memset(ge.w, 0, ge.nw * sizeof(*ge.w));
		for (i = 0; i < p->filters[fg].n; i++) {
			struct tokens ts;
			struct form f;

			if ((ret = tokenize(&tz, p->filters[fg].items[i], &ts)) < 0)
				goto end;
			memset(&f, 0, sizeof(f));
			f.meta = 1;
			if (ts.n == 1 && (f.term = find_term(m->meta, m->nmeta, ts.t[0]))) {
				f.kind = FORM_TERM;
				f.hits = f.term->n;
				bm_add_docs(&ge, f.term->docs, f.term->n);
			}
			tokens_clear(&ts);
			if ((ret = add_form(ans, &f)) < 0)
				goto end;
		}
		for (w = 0; w < ge.nw; w++) {
			ans->exact.w[w] &= ge.w[w];
			ans->any.w[w] &= ge.w[w];
		}
	}
	ans->total_exact = bm_count(&ans->exact);
	ans->total = bm_count(&ans->any);
	ret = 0;
end:
	free(ge.w);
	free(ga.w);
	free(ie.w);
	free(ia.w);
	free(visible.w);
	if (tz.tok)
		tz.api.xDelete(tz.tok);
	return ret;
}

void search_memory_done(struct memory_answer *ans)
{
	if (!ans)
		return;
	for (size_t i = 0; i < ans->nforms; i++) {
		free(ans->forms[i].docs);
		free(ans->forms[i].masks);
	}
	free(ans->forms);
	free(ans->exact.w);
	free(ans->any.w);
	memory_release(ans->m);
	free(ans);
}

int search_memory_run(struct prl_archive *a, const struct prl_search_opts *o, const struct plan *p,
		      uint64_t signature, struct memory_answer **out)
{
	struct memory_answer *ans;
	struct search_memory *m;
	int ret;

	*out = NULL;
	/* dates are the recording's, not the index's: FTS5 joins them */
	if ((o->date_from && *o->date_from) || (o->date_to && *o->date_to) ||
	    !sqlite3_get_autocommit(a->db) || __atomic_load_n(&memory_unused, __ATOMIC_RELAXED))
		return 0;
	if (!(m = memory_get(a, signature)))
		return 0;
	if (!(ans = calloc(1, sizeof(*ans)))) {
		memory_release(m);
		return -PRL_ENOMEM;
	}
	ans->m = m;
	if ((ret = evaluate(a, p, ans)) != 0) {
		search_memory_done(ans);
		return ret < 0 ? ret : 0;
	}
	*out = ans;
	__atomic_add_fetch(&memory_answers, 1, __ATOMIC_RELAXED);
	return 1;
}

void archive_search_memory_use(int on)
{
	__atomic_store_n(&memory_unused, !on, __ATOMIC_RELAXED);
}

long archive_search_memory_answers(void)
{
	return __atomic_load_n(&memory_answers, __ATOMIC_RELAXED);
}

int64_t search_memory_total(const struct memory_answer *ans, int exact)
{
	return exact ? ans->total_exact : ans->total;
}

/* ---- pages and groups ---- */

struct scored {
	uint32_t doc;
	double rank; /* FTS5's: minus the bm25 score */
};

static int cmp_scored(const void *x, const void *y)
{
	const struct scored *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->doc < b->doc ? -1 : a->doc > b->doc;
}

static size_t find_doc(const uint32_t *docs, size_t n, uint32_t d)
{
	size_t at = n ? gallop(docs, 0, n, d) : 0;

	return at < n && docs[at] == d ? at : SIZE_MAX;
}

/* Occurrences of form f in each candidate row c[0..n) (sorted), added to
 * tf.  Returns 1 when a row holds it past position 62, where the masks do
 * not say how often. */
static int form_frequencies(const struct search_memory *m, const struct form *f,
			    const struct bitmap *set, const uint32_t *c, size_t n, double *tf)
{
	int unsure = 0;

	const uint32_t *docs = NULL;
	const uint64_t *masks = NULL;
	size_t len = 0;

	switch (f->kind) {
	case FORM_TERM:
		docs = f->term->docs;
		masks = f->term->masks;
		len = f->term->n;
		break;
	case FORM_PHRASE:
		docs = f->docs;
		masks = f->masks;
		len = f->n;
		break;
	case FORM_PREFIX:
		for (size_t t = f->first; t < f->last; t++) {
			struct form one = {.kind = FORM_TERM, .term = &m->body[t]};

			unsure |= form_frequencies(m, &one, set, c, n, tf);
		}
		return unsure;
	default:
		return 0;
	}
	if (len > 8 * n) {
		/* a long list: look each candidate up in it */
		for (size_t i = 0; i < n; i++) {
			size_t at = find_doc(docs, len, c[i]);

			if (at == SIZE_MAX)
				continue;
			tf[i] += masks ? popcount64(masks[at]) : 1;
			unsure |= masks && (masks[at] & OVERFLOW_BIT);
		}
	} else {
		/* a short one: walk it, keeping the rows of the set */
		for (size_t k = 0; k < len; k++) {
			size_t at;

			if (!bm_has(set, docs[k]) || (at = find_doc(c, n, docs[k])) == SIZE_MAX)
				continue;
			tf[at] += masks ? popcount64(masks[k]) : 1;
			unsure |= masks && (masks[k] & OVERFLOW_BIT);
		}
	}
	return unsure;
}

/*
 * FTS5's bm25 (k1 1.2, b 0.75, every column weighing 1) over the quoted
 * strings of the expression: the exact forms and the filter tokens for
 * exact hits, every form too for the close spellings' (an excluded form is
 * never in a hit).
 */
static int rank_rows(const struct memory_answer *ans, const struct bitmap *set, int which,
		     struct scored *out, size_t n)
{
	const struct search_memory *m = ans->m;
	const double k1 = 1.2, b = 0.75;
	uint32_t *c = malloc((n ? n : 1) * sizeof(*c));
	double *tf = malloc((n ? n : 1) * sizeof(*tf));
	size_t i;
	int ret = 0;

	if (!c || !tf) {
		free(c);
		free(tf);
		return -PRL_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		c[i] = out[i].doc;
		out[i].rank = 0;
	}
	for (size_t k = 0; k < ans->nforms && ret == 0; k++) {
		const struct form *f = &ans->forms[k];
		double idf;

		if (f->variant && which == 0)
			continue; /* not in the exact expression */
		idf = log(((double)m->ndocs - (double)f->hits + 0.5) / ((double)f->hits + 0.5));
		if (idf <= 0.0)
			idf = 1e-6;
		memset(tf, 0, n * sizeof(*tf));
		if (form_frequencies(m, f, set, c, n, tf)) {
			ret = 1; /* a row too long for the masks: FTS5 ranks this one */
			continue;
		}
		for (i = 0; i < n; i++)
			if (tf[i] > 0) {
				double d = (double)m->length[c[i]];

				out[i].rank -= idf * (tf[i] * (k1 + 1.0)) /
					       (tf[i] + k1 * (1.0 - b + b * d / m->avgdl));
			}
	}
	free(c);
	free(tf);
	return ret;
}

int search_memory_page(struct memory_answer *ans, int which, int by_rank, int64_t offset,
		       int64_t limit, int64_t *ids, size_t *n)
{
	const struct search_memory *m = ans->m;
	struct bitmap rest = {NULL, 0};
	const struct bitmap *set = &ans->exact;
	int ret = 0;
	size_t w;

	if (which == 1) {
		if (bm_init(&rest, m->ndocs) < 0)
			return -PRL_ENOMEM;
		for (w = 0; w < rest.nw; w++)
			rest.w[w] = ans->any.w[w] & ~ans->exact.w[w];
		set = &rest;
	}
	if (by_rank) {
		int64_t count = bm_count(set);
		struct scored *all = malloc((size_t)(count ? count : 1) * sizeof(*all));
		size_t k = 0;

		if (!all) {
			free(rest.w);
			return -PRL_ENOMEM;
		}
		for (w = 0; w < set->nw; w++)
			for (uint64_t bits = set->w[w]; bits; bits &= bits - 1)
				all[k++].doc = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
		if ((ret = rank_rows(ans, set, which, all, k)) == 0) {
			qsort(all, k, sizeof(*all), cmp_scored);
			for (size_t i = (size_t)offset; i < k && (int64_t)*n < limit; i++)
				ids[(*n)++] = m->rowid[all[i].doc] & INDEX_ID_MASK;
		}
		free(all);
		free(rest.w);
		return ret < 0 ? ret : ret == 0;
	}
	{
		int64_t skip = offset;

		for (w = 0; w < set->nw && (int64_t)*n < limit; w++) {
			uint64_t bits = set->w[w];
			int c = popcount64(bits);

			if (skip >= c) {
				skip -= c;
				continue;
			}
			for (; bits && (int64_t)*n < limit; bits &= bits - 1) {
				if (skip > 0) {
					skip--;
					continue;
				}
				ids[(*n)++] = m->rowid[w * 64 + (size_t)__builtin_ctzll(bits)] &
					      INDEX_ID_MASK;
			}
		}
	}
	free(rest.w);
	return 1;
}

struct rec_count {
	int64_t rec, count;
};

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int cmp_rec_count(const void *x, const void *y)
{
	const struct rec_count *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->rec < b->rec ? -1 : a->rec > b->rec;
}

size_t search_memory_groups(const struct memory_answer *ans, size_t max, int64_t *recs,
			    int64_t *counts)
{
	const struct bitmap *set = &ans->any;
	int64_t count = bm_count(set);
	uint32_t *r = malloc((size_t)(count ? count : 1) * sizeof(*r));
	struct rec_count *g = malloc((size_t)(count ? count : 1) * sizeof(*g));
	size_t k = 0, ng = 0, n = 0;

	if (!r || !g) {
		free(r);
		free(g);
		return 0;
	}
	for (size_t w = 0; w < set->nw; w++)
		for (uint64_t bits = set->w[w]; bits; bits &= bits - 1)
			r[k++] = ans->m->recording[w * 64 + (size_t)__builtin_ctzll(bits)];
	qsort(r, k, sizeof(*r), cmp_u32);
	for (size_t i = 0; i < k; i++) {
		if (ng && g[ng - 1].rec == r[i]) {
			g[ng - 1].count++;
		} else {
			g[ng].rec = r[i];
			g[ng++].count = 1;
		}
	}
	qsort(g, ng, sizeof(*g), cmp_rec_count);
	for (n = 0; n < ng && n < max; n++) {
		recs[n] = g[n].rec;
		counts[n] = g[n].count;
	}
	free(r);
	free(g);
	return n;
}
