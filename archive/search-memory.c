/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The search index's postings, kept in memory by the server, and queries
 * answered from them (reading them is search-postings.c).
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
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "search-internal.h"

/* for the process, whatever the cache */
static long memory_answers; /* searches answered here (tests look) */
static int memory_unused;   /* tests: FTS5 answers everything */

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

/* Sets in visible what the viewer of p may read: whole levels, one tier
 * class or all. */
static void mark_visible(const struct search_memory *m, const struct plan *p,
			 struct bitmap *visible)
{
	int levels = (int)(p->key_below >> INDEX_ACCESS_BITS);
	int cls_from = p->tier_class < 0 ? 0 : p->tier_class;
	int cls_to = p->tier_class < 0 ? 3 : p->tier_class;

	for (int l = 0; l < levels; l++)
		for (int c = cls_from; c <= cls_to; c++) {
			int64_t base = ((int64_t)l << INDEX_ACCESS_BITS) |
				       ((int64_t)c << INDEX_CLASS_BITS);
			bm_set_range(visible, search_postings_dense_at(m, base),
				     search_postings_dense_at(
					     m, base + (INT64_C(1) << INDEX_CLASS_BITS)));
		}
}

/* The filters of p (meta tokens, each group ORed, the groups ANDed) taken
 * out of ans's sets; ge is scratch of the same size. */
static int apply_filters(struct memory_answer *ans, struct tokenizer *tz, const struct plan *p,
			 struct bitmap *ge)
{
	const struct search_memory *m = ans->m;
	int ret;

	for (int fg = 0; fg < p->nfilters; fg++) {
		memset(ge->w, 0, ge->nw * sizeof(*ge->w));
		for (size_t i = 0; i < p->filters[fg].n; i++) {
			struct tokens ts;
			struct form f;

			if ((ret = tokenize(tz, p->filters[fg].items[i], &ts)) < 0)
				return ret;
			memset(&f, 0, sizeof(f));
			f.meta = 1;
			if (ts.n == 1 && (f.term = find_term(m->meta, m->nmeta, ts.t[0]))) {
				f.kind = FORM_TERM;
				f.hits = f.term->n;
				bm_add_docs(ge, f.term->docs, f.term->n);
			}
			tokens_clear(&ts);
			if ((ret = add_form(ans, &f)) < 0)
				return ret;
		}
		for (size_t w = 0; w < ge->nw; w++) {
			ans->exact.w[w] &= ge->w[w];
			ans->any.w[w] &= ge->w[w];
		}
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
	int ret;

	if ((ret = tokenizer_open(a, &tz)) < 0)
		return ret;
	if ((ret = bm_init(&ans->exact, m->ndocs)) < 0 ||
	    (ret = bm_init(&ans->any, m->ndocs)) < 0 || (ret = bm_init(&ge, m->ndocs)) < 0 ||
	    (ret = bm_init(&ga, m->ndocs)) < 0 || (ret = bm_init(&ie, m->ndocs)) < 0 ||
	    (ret = bm_init(&ia, m->ndocs)) < 0 || (ret = bm_init(&visible, m->ndocs)) < 0)
		goto end;
	mark_visible(m, p, &visible);
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
	if ((ret = apply_filters(ans, &tz, p, &ge)) < 0)
		goto end;
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
	search_postings_release(ans->m);
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
	if (!(m = search_postings_get(a, signature)))
		return 0;
	if (!(ans = calloc(1, sizeof(*ans)))) {
		search_postings_release(m);
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
