/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The index's postings in memory, read and kept current: one copy per
 * search cache, read from FTS5 itself in one read transaction on a
 * read-only connection of its own, in the background, and read again when
 * the index changed (see search-memory.c for what the copy holds and how
 * a query is answered from it).
 *
 * Always holds: a copy carries the signature of the FTS5 structure record
 * it was read under and is only handed out for that signature; a copy in
 * use is freed by its last user; a reading that is forgotten stops early.
 * Expected workload: a reading of 2-3 s per million segments, at most
 * every few seconds while the index keeps changing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"
#include "search-internal.h"

/* A re-read starts RELOAD_EVERY_S seconds, plus twice the last reading's
 * duration, after the last one started: while the index keeps changing,
 * reading it takes under a third of one core. */
#define RELOAD_EVERY_S 5

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

void search_postings_release(struct search_memory *m)
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
uint32_t search_postings_dense_at(const struct search_memory *m, int64_t rowid)
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
struct search_memory *search_postings_get(struct prl_archive *a, uint64_t sig)
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
