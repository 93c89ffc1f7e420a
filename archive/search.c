/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search across every transcript.
 *
 * The visitor's query is parsed (query.c) into folded terms; each term
 * becomes a quoted FTS5 string, widened by the staff's table of equivalent
 * spellings (which count as exact), and, for single words, by close
 * spellings found in the index's own vocabulary (edit distance, or the same
 * sound key): those are "variant" hits, counted in total and ranked after
 * every exact hit.  Filters, including the access rule, are FTS5 tokens in
 * the index's meta column (see schema.c), so a filter is a doclist merge.
 *
 * Invariants: a hit, a count or a snippet only ever comes from a segment
 * whose recording the viewer may read (prl_access_decide() == SEE_ALL);
 * no visitor text is ever FTS5 syntax.
 * Expected workload: a million segments, tens of queries a second, each
 * answering in milliseconds with its total.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "archive-internal.h"
#include "search-internal.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 200
#define MAX_VARIANTS_PER_WORD 8
#define GROUPS_UP_TO 20000 /* per-recording counts for result sets up to this size */

/* ---- the vocabulary of the index, for close spellings ----
 *
 * Reading the vocabulary means walking the whole index (about a second
 * for a million segments), so it is read once per process and shared by
 * every handle: reloaded when the index changed, but not more than once a
 * minute.  A vocabulary a minute old only means a brand-new word is not
 * yet proposed as a close spelling; exact search is never stale. */

#define VOCAB_MAX_AGE_S 60

struct vocab_term {
	char *term;	/* folded, as indexed */
	size_t len;	/* strlen(term) */
	uint64_t chars; /* which bytes occur (hashed to 64 bits): a cheap distance bound */
	int64_t docs;	/* segments that hold it */
	char key[32];	/* sound key */
};

#define VOCAB_MAX_LEN 64

struct search_vocab {
	struct vocab_term *terms; /* sorted by length, then term */
	size_t n;
	size_t by_len[VOCAB_MAX_LEN + 2]; /* terms of length l: [by_len[l], by_len[l + 1]) */
	size_t *by_key;			  /* indexes of terms sorted by sound key */
	int64_t segments;		  /* segments in the archive when loaded */
	char *db_path;			  /* the archive it describes */
	uint64_t signature;		  /* of the index's structure record when loaded */
	time_t loaded_at;
	int refs; /* users, plus one while it is the current one */
};

static pthread_mutex_t vocab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct search_vocab *vocab_current;

/* One bit per byte value (folded mod 64).  An edit changes at most two
 * bits, so words whose sets differ in more than 2k bits are more than k
 * edits apart and need no edit-distance computation. */
static uint64_t char_set(const char *s)
{
	uint64_t set = 0;

	for (; *s; s++)
		set |= UINT64_C(1) << ((unsigned char)*s & 63);
	return set;
}

static void vocab_destroy(struct search_vocab *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->terms[i].term);
	free(v->terms);
	free(v->by_key);
	free(v->db_path);
	free(v);
}

static int cmp_len_term(const void *x, const void *y)
{
	const struct vocab_term *a = x, *b = y;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return strcmp(a->term, b->term);
}

/* qsort has no context argument: the array being sorted by key */
static const struct vocab_term *sorting_terms;

static int cmp_key_index(const void *x, const void *y)
{
	return strcmp(sorting_terms[*(const size_t *)x].key, sorting_terms[*(const size_t *)y].key);
}

/* Sorts the terms and builds the length and sound-key indexes. */
static int vocab_index(struct search_vocab *v)
{
	size_t i, l;

	if (!v->n)
		return 0; /* an index without words (no segment yet): nothing to sort */
	qsort(v->terms, v->n, sizeof(*v->terms), cmp_len_term);
	for (l = 0, i = 0; l <= VOCAB_MAX_LEN + 1; l++) {
		while (i < v->n && v->terms[i].len < l)
			i++;
		v->by_len[l] = i;
	}
	if (!(v->by_key = malloc(v->n * sizeof(*v->by_key))))
		return -PRL_ENOMEM;
	for (i = 0; i < v->n; i++)
		v->by_key[i] = i;
	sorting_terms = v->terms; /* under vocab_lock: one sort at a time */
	qsort(v->by_key, v->n, sizeof(*v->by_key), cmp_key_index);
	return 0;
}

static const struct vocab_term *vocab_find(const struct search_vocab *v, const char *w)
{
	struct vocab_term probe = {(char *)w, strlen(w), 0, 0, ""};
	size_t lo, hi;

	if (probe.len > VOCAB_MAX_LEN)
		return NULL;
	lo = v->by_len[probe.len];
	hi = v->by_len[probe.len + 1];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_len_term(&v->terms[mid], &probe);

		if (c == 0)
			return &v->terms[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void search_vocab_free(struct search_vocab *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&vocab_lock);
	if (--v->refs == 0)
		vocab_destroy(v);
	pthread_mutex_unlock(&vocab_lock);
}

static uint64_t index_signature(struct prl_archive *a)
{
	return search_signature(archive_stmt(a, ST_INDEX_SIGNATURE));
}

static struct search_vocab *vocab_load(struct prl_archive *a, uint64_t sig)
{
	struct search_vocab *v = calloc(1, sizeof(*v));
	sqlite3_stmt *st;
	size_t cap = 0;

	if (!v || !(v->db_path = strdup(a->dir)) || !(st = archive_stmt(a, ST_VOCAB_ALL))) {
		vocab_destroy(v);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		struct vocab_term *vt;

		/* short words have too many neighbours to be worth proposing */
		if (!t || strlen(t) < 3 || strlen(t) > VOCAB_MAX_LEN)
			continue;
		if (v->n == cap) {
			struct vocab_term *g;

			cap = cap ? cap * 2 : 1024;
			if (!(g = realloc(v->terms, cap * sizeof(*g))))
				break;
			v->terms = g;
		}
		vt = &v->terms[v->n];
		if (!(vt->term = strdup(t)))
			break;
		vt->docs = sqlite3_column_int64(st, 1);
		vt->len = strlen(t);
		vt->chars = char_set(t);
		search_sound_key(t, vt->key, sizeof(vt->key));
		v->n++;
	}
	sqlite3_reset(st);
	if (vocab_index(v) < 0) {
		vocab_destroy(v);
		return NULL;
	}
	if ((st = archive_stmt(a, ST_SEGMENT_COUNT))) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v->segments = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	v->signature = sig;
	v->loaded_at = time(NULL);
	return v;
}

/* The vocabulary for a's archive, whose index has signature sig; the
 * caller releases it with search_vocab_free().  NULL when it cannot be had
 * (no close spellings). */
static struct search_vocab *vocab_get(struct prl_archive *a, uint64_t sig)
{
	struct search_vocab *v, *fresh;

	pthread_mutex_lock(&vocab_lock);
	v = vocab_current;
	if (v && !strcmp(v->db_path, a->dir) &&
	    (v->signature == sig || time(NULL) - v->loaded_at < VOCAB_MAX_AGE_S)) {
		v->refs++;
		pthread_mutex_unlock(&vocab_lock);
		return v;
	}
	/* loaded under the lock: two threads never walk the index at once */
	fresh = vocab_load(a, sig);
	if (fresh) {
		if (vocab_current && --vocab_current->refs == 0)
			vocab_destroy(vocab_current);
		vocab_current = fresh;
		fresh->refs = 2; /* current, and the caller */
	}
	pthread_mutex_unlock(&vocab_lock);
	return fresh;
}

void prl_archive_search_warm(struct prl_archive *a)
{
	search_vocab_free(vocab_get(a, index_signature(a)));
}

/* ---- terms: what each query word stands for ---- */

static int term_add(struct term_list *l, const char *t)
{
	char **g;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], t))
			return 0;
	if (!(g = realloc(l->items, (l->n + 1) * sizeof(*g))))
		return -PRL_ENOMEM;
	l->items = g;
	if (!(l->items[l->n] = strdup(t)))
		return -PRL_ENOMEM;
	l->n++;
	return 1;
}

static void term_list_clear(struct term_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Forms the staff declared equivalent to a folded word. */
static int add_equivalents(struct prl_archive *a, const char *word, struct term_list *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_VARIANT_GROUP_OF);
	int ret = 0;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, word);
	while (ret >= 0 && sqlite3_step(st) == SQLITE_ROW)
		ret = term_add(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return ret < 0 ? ret : 0;
}

static int cmp_docs_desc(const void *x, const void *y)
{
	const struct vocab_term *const *a = x, *const *b = y;

	return (*a)->docs < (*b)->docs ? 1 : (*a)->docs > (*b)->docs ? -1 : 0;
}

static int is_own_form(const struct term_list *exact, const char *t)
{
	for (size_t j = 0; j < exact->n; j++)
		if (!strcmp(exact->items[j], t))
			return 1;
	return 0;
}

/*
 * Close spellings of word from the vocabulary, most frequent first: words
 * within an edit distance of 1 (up to 5 letters) or 2 (longer), and words
 * with the same sound key.  Only lengths that can be that close are
 * looked at, and the sound key is a binary search.  A word in more than
 * 2% of all segments (and over a thousand) is not proposed as a variant of
 * a word the archive holds: it would drown the hits (a misspelt query
 * still gets it).
 */
static int add_close_spellings(struct search_vocab *v, const char *word,
			       const struct term_list *exact, struct term_list *out)
{
	const struct vocab_term *found[256], *self;
	size_t nfound = 0, len = strlen(word), i, l, lo, hi;
	uint64_t chars = char_set(word);
	int64_t too_common;
	char key[32];
	int k = len <= 5 ? 1 : 2, ret;

	if (!v || len < 4 || len > VOCAB_MAX_LEN || strchr(word, ' ') || strchr(word, '\''))
		return 0;
	self = vocab_find(v, word);
	too_common = self && self->docs > 0 ? (v->segments / 50 > 1000 ? v->segments / 50 : 1000)
					    : INT64_MAX;
	for (l = len - (size_t)k; l <= len + (size_t)k && l <= VOCAB_MAX_LEN && nfound < 256; l++) {
		for (i = v->by_len[l]; i < v->by_len[l + 1] && nfound < 256; i++) {
			const struct vocab_term *t = &v->terms[i];

			if (__builtin_popcountll(chars ^ t->chars) > 2 * k)
				continue;
			if (t->docs <= too_common &&
			    search_edit_distance_within(word, t->term, k) &&
			    !is_own_form(exact, t->term))
				found[nfound++] = t;
		}
	}
	search_sound_key(word, key, sizeof(key));
	if (strlen(key) >= 3) {
		lo = 0;
		hi = v->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (strcmp(v->terms[v->by_key[mid]].key, key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < v->n && nfound < 256 && !strcmp(v->terms[v->by_key[i]].key, key);
		     i++) {
			const struct vocab_term *t = &v->terms[v->by_key[i]];
			size_t f;

			for (f = 0; f < nfound && found[f] != t; f++)
				;
			if (f == nfound && t->docs <= too_common && !is_own_form(exact, t->term))
				found[nfound++] = t;
		}
	}
	qsort(found, nfound, sizeof(found[0]), cmp_docs_desc);
	for (i = 0; i < nfound && i < MAX_VARIANTS_PER_WORD; i++)
		if ((ret = term_add(out, found[i]->term)) < 0)
			return ret;
	return 0;
}

/* ---- building the FTS5 expressions ---- */

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->q.n; i++) {
		if (p->exact)
			term_list_clear(&p->exact[i]);
		if (p->variant)
			term_list_clear(&p->variant[i]);
	}
	free(p->exact);
	free(p->variant);
	search_vocab_free(p->vocab);
	term_list_clear(&p->seen);
	for (int f = 0; f < p->nfilters; f++)
		term_list_clear(&p->filters[f]);
	query_clear(&p->q);
	prl_buf_release(&p->filter);
}

/* One item as an FTS5 expression; with_variants adds the close spellings. */
static void item_expr(struct prl_buf *out, const struct plan *p, size_t i, int with_variants)
{
	const struct query_item *it = &p->q.items[i];
	struct query_item one = *it;
	size_t k, n = 0;

	prl_buf_addch(out, '(');
	query_item_fts(out, it);
	n++;
	for (k = 0; k < p->exact[i].n; k++) {
		one.text = p->exact[i].items[k];
		prl_buf_addstr(out, " OR ");
		query_item_fts(out, &one);
	}
	for (k = 0; with_variants && k < p->variant[i].n; k++) {
		one.text = p->variant[i].items[k];
		prl_buf_addstr(out, " OR ");
		query_item_fts(out, &one);
	}
	prl_buf_addch(out, ')');
}

/* body : (groups ANDed, exclusions NOTed) AND filter */
static void full_expr(struct prl_buf *out, const struct plan *p, int with_variants)
{
	int g, first = 1;
	size_t i;

	prl_buf_addstr(out, "(body : (");
	for (g = 0; g < p->q.ngroups; g++) {
		int gfirst = 1;

		prl_buf_addstr(out, first ? "(" : " AND (");
		first = 0;
		for (i = 0; i < p->q.n; i++) {
			if (p->q.items[i].negated || p->q.items[i].group != g)
				continue;
			if (!gfirst)
				prl_buf_addstr(out, " OR ");
			gfirst = 0;
			item_expr(out, p, i, with_variants);
		}
		prl_buf_addch(out, ')');
	}
	for (i = 0; i < p->q.n; i++) {
		if (!p->q.items[i].negated)
			continue;
		prl_buf_addstr(out, " NOT ");
		item_expr(out, p, i, 0);
	}
	prl_buf_addstr(out, "))");
	if (p->filter.len) {
		prl_buf_addstr(out, " AND ");
		prl_buf_add(out, p->filter.data, p->filter.len);
	}
}

/* Adds "meta : (pfx1 OR pfx2 ...)" for the ids a name resolves to. */
static int filter_ids(struct prl_archive *a, struct plan *p, enum stmt_id sid, const char *value,
		      char prefix)
{
	sqlite3_stmt *st;
	int n = 0;

	if (!value || !*value)
		return 0;
	if (!(st = archive_stmt(a, sid)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, value);
	prl_buf_addstr(&p->filter, p->filter.len ? " AND meta : (" : "meta : (");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char token[32];

		snprintf(token, sizeof(token), "%c%lld", prefix,
			 (long long)sqlite3_column_int64(st, 0));
		prl_buf_addf(&p->filter, "%s\"%s\"", n ? " OR " : "", token);
		if (term_add(&p->filters[p->nfilters], token) < 0) {
			sqlite3_reset(st);
			return -PRL_ENOMEM;
		}
		n++;
	}
	p->nfilters++;
	sqlite3_reset(st);
	if (!n) {
		p->empty_filter = 1;
		prl_buf_addstr(&p->filter, "\"none\"");
	}
	prl_buf_addch(&p->filter, ')');
	return 0;
}

/* "meta : (t<hex>)" for a text value folded as the index folds it. */
static int filter_hex(struct plan *p, const char *value, char prefix)
{
	struct prl_buf token = PRL_BUF_INIT;
	char *f;
	int ret;

	if (!value || !*value)
		return 0;
	if (!(f = search_fold(value, strlen(value))))
		return -PRL_ENOMEM;
	prl_buf_addch(&token, prefix);
	for (const unsigned char *c = (const unsigned char *)f; *c; c++)
		prl_buf_addf(&token, "%02X", *c);
	free(f);
	prl_buf_addf(&p->filter, "%smeta : (\"%s\")", p->filter.len ? " AND " : "",
		     prl_buf_str(&token));
	ret = term_add(&p->filters[p->nfilters++], prl_buf_str(&token));
	prl_buf_release(&token);
	return ret < 0 ? ret : 0;
}

static int build_plan(struct prl_archive *a, const struct prl_viewer *v,
		      const struct prl_search_opts *o, uint64_t sig, struct plan *p)
{
	struct prl_buf perr = PRL_BUF_INIT;
	struct search_vocab *vocab = NULL;
	int ret;
	size_t i;

	memset(p, 0, sizeof(*p));
	if ((ret = query_parse(o->query ? o->query : "", o->query ? strlen(o->query) : 0, &p->q,
			       &perr)) < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&perr));
		prl_buf_release(&perr);
		return ret;
	}
	prl_buf_release(&perr);
	p->exact = calloc(p->q.n, sizeof(*p->exact));
	p->variant = calloc(p->q.n, sizeof(*p->variant));
	if (!p->exact || !p->variant)
		return -PRL_ENOMEM;
	if (!o->no_variants)
		vocab = p->vocab = vocab_get(a, sig);
	for (i = 0; i < p->q.n; i++) {
		const struct query_item *it = &p->q.items[i];

		if (it->kind != QUERY_WORD)
			continue;
		if ((ret = add_equivalents(a, it->text, &p->exact[i])) < 0)
			return ret;
		if (it->negated || o->no_variants)
			continue;
		{
			struct term_list mine = {NULL, 0};

			/* the word itself and its equivalents are not variants */
			term_add(&mine, it->text);
			for (size_t k = 0; k < p->exact[i].n; k++)
				term_add(&mine, p->exact[i].items[k]);
			ret = add_close_spellings(vocab, it->text, &mine, &p->variant[i]);
			term_list_clear(&mine);
			if (ret < 0)
				return ret;
		}
		if (p->variant[i].n)
			p->has_variants = 1;
	}
	/* the access rule: the levels are the top bits of the index's rowids,
	 * and the levels a viewer may read are always 0..n (see schema.c) */
	p->key_below = 0;
	for (int l = PRL_ACCESS_PUBLIC; l <= PRL_ACCESS_PRIVATE; l++) {
		if (prl_access_decide(v, (enum prl_access)l) != PRL_SEE_ALL)
			break;
		p->key_below = (int64_t)(l + 1) << INDEX_ACCESS_BITS;
	}
	if (!p->key_below)
		p->empty_filter = 1;
	p->sees_withheld = prl_access_sees_withheld(v);
	p->tier_class = -1;
	if (o->tier_type && *o->tier_type)
		p->tier_class = !strcmp(o->tier_type, "transcription") ? 0
				: !strcmp(o->tier_type, "translation") ? 1
				: !strcmp(o->tier_type, "gloss")       ? 2
								       : 3;
	if ((ret = filter_hex(p, o->variety, 'v')) < 0 ||
	    (ret = filter_ids(a, p, ST_FILTER_PLACES, o->place, 'p')) < 0 ||
	    (ret = filter_ids(a, p, ST_FILTER_SPEAKERS, o->speaker, 's')) < 0 ||
	    (ret = filter_ids(a, p, ST_FILTER_COLLECTIONS, o->collection, 'c')) < 0)
		return ret;
	return 0;
}

/* ---- running the expressions ---- */

/* Result sets larger than these are given in archive order: ranking or
 * sorting hundreds of thousands of matches costs far more than it tells
 * anyone (the answer says "order": "archive"). */
#define RANK_UP_TO 5000
#define SORT_UP_TO 50000

static int dated(const struct prl_search_opts *o)
{
	return (o->date_from && *o->date_from) || (o->date_to && *o->date_to);
}

/* An inclusive upper bound: "1980" must take "1980-12-31". */
static void date_upper(const char *to, char out[16])
{
	snprintf(out, 16, "%.10s~", to);
}

static void bind_dates(sqlite3_stmt *st, int first, const struct prl_search_opts *o)
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
 * those, so counts are kept per expression and filter, for the process,
 * and forgotten as soon as the index changes (its signature, as for the
 * vocabulary).  A count is never stale.
 */
#define COUNT_CACHE_SLOTS 1024

struct count_entry {
	char *key; /* expression and filters; NULL when free */
	int64_t count;
};

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct count_entry count_cache[COUNT_CACHE_SLOTS];
static uint64_t count_signature;
static char *count_db;

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
static int count_cache_get(const char *db, uint64_t sig, const char *key, int64_t *out)
{
	size_t slot = fnv(key) % COUNT_CACHE_SLOTS;
	int found = 0;

	pthread_mutex_lock(&count_lock);
	if (count_db && !strcmp(count_db, db) && count_signature == sig && count_cache[slot].key &&
	    !strcmp(count_cache[slot].key, key)) {
		*out = count_cache[slot].count;
		found = 1;
	}
	pthread_mutex_unlock(&count_lock);
	return found;
}

static void count_cache_put(const char *db, uint64_t sig, const char *key, int64_t n)
{
	size_t slot = fnv(key) % COUNT_CACHE_SLOTS, i;

	pthread_mutex_lock(&count_lock);
	if (!count_db || strcmp(count_db, db) || count_signature != sig) {
		for (i = 0; i < COUNT_CACHE_SLOTS; i++) {
			free(count_cache[i].key);
			count_cache[i].key = NULL;
		}
		free(count_db);
		count_db = strdup(db);
		count_signature = sig;
	}
	free(count_cache[slot].key);
	count_cache[slot].key = strdup(key);
	count_cache[slot].count = n;
	pthread_mutex_unlock(&count_lock);
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
	sqlite3 *db; /* the connection this half runs on */
	const char *expr;
	int64_t ranges[12][2];
	int nranges;
	int64_t count;
	int rc; /* SQLITE_OK or the failure */
};

static void *count_half_run(void *arg)
{
	struct count_half *h = arg;
	sqlite3_stmt *st = NULL;

	h->count = 0;
	h->rc = sqlite3_prepare_v2(h->db,
				   "SELECT count(*) FROM segment_index WHERE segment_index MATCH ?1"
				   " AND rowid >= ?2 AND rowid < ?3",
				   -1, &st, NULL);
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
	sqlite3_finalize(st);
	return NULL;
}

/* The most segments the query can match, from the vocabulary (an upper
 * bound for words, 0 when unknown: prefixes and phrases are bounded by
 * their rarest word). */
static int64_t estimate_matches(const struct plan *p)
{
	int64_t best = -1;

	if (!p->vocab)
		return 0;
	for (int g = 0; g < p->q.ngroups; g++) {
		int64_t group = 0;

		for (size_t i = 0; i < p->q.n; i++) {
			const struct query_item *it = &p->q.items[i];
			const struct vocab_term *t;

			if (it->negated || it->group != g)
				continue;
			if (it->kind == QUERY_PREFIX)
				return 0;
			if (it->kind == QUERY_PHRASE) {
				/* bounded by its rarest word */
				int64_t least = INT64_MAX;
				char word[VOCAB_MAX_LEN + 1];
				const char *s = it->text;

				while (*s) {
					size_t n = strcspn(s, " '");

					if (n && n <= VOCAB_MAX_LEN) {
						memcpy(word, s, n);
						word[n] = 0;
						t = vocab_find(p->vocab, word);
						if (t && t->docs < least)
							least = t->docs;
						else if (!t && n >= 3)
							least = 0;
					}
					s += n;
					if (*s)
						s++;
				}
				group += least == INT64_MAX ? 0 : least;
			} else {
				t = vocab_find(p->vocab, it->text);
				group += t ? t->docs : 0;
			}
			for (size_t k = 0; k < p->variant[i].n; k++)
				if ((t = vocab_find(p->vocab, p->variant[i].items[k])))
					group += t->docs;
		}
		if (best < 0 || group < best)
			best = group;
	}
	return best < 0 ? 0 : best;
}

static int count_in_parallel(struct prl_archive *a, const struct plan *p, const char *expr,
			     int64_t *out)
{
	struct count_half half[2];
	sqlite3_stmt *st;
	pthread_t worker;
	int64_t max_id = 0, split;
	int levels, cls_from, cls_to;

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
	half[0].db = a->db;
	half[1].db = a->db_reader;
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

void archive_search_tuning(int64_t parallel_from)
{
	pthread_mutex_lock(&count_lock);
	parallel_count_from = parallel_from;
	for (size_t i = 0; i < COUNT_CACHE_SLOTS; i++) {
		free(count_cache[i].key);
		count_cache[i].key = NULL;
	}
	pthread_mutex_unlock(&count_lock);
}

/* Matches of expr, in the index whose signature is sig. */
static int count_matches(struct prl_archive *a, const struct prl_search_opts *o,
			 const struct plan *p, uint64_t sig, const char *expr, int64_t *out)
{
	sqlite3_stmt *st;
	struct prl_buf key = PRL_BUF_INIT;
	int rc;

	count_cache_key(&key, o, p, expr);
	if (key.data && count_cache_get(a->dir, sig, key.data, out)) {
		prl_buf_release(&key);
		return 0;
	}
	if (!dated(o) && sqlite3_get_autocommit(a->db) && p->key_below &&
	    estimate_matches(p) >= parallel_count_from && count_in_parallel(a, p, expr, out) == 0) {
		if (key.data)
			count_cache_put(a->dir, sig, key.data, *out);
		prl_buf_release(&key);
		return 0;
	}
	st = archive_stmt(a, dated(o) ? ST_SEARCH_COUNT_DATED : ST_SEARCH_COUNT);
	if (!st) {
		prl_buf_release(&key);
		return -PRL_ESQL;
	}
	archive_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, p->key_below);
	sqlite3_bind_int(st, 3, p->tier_class);
	if (dated(o))
		bind_dates(st, 4, o);
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
		count_cache_put(a->dir, sig, key.data, *out);
	prl_buf_release(&key);
	return 0;
}

enum order { ORDER_RANK, ORDER_ARCHIVE, ORDER_DATE, ORDER_PLACE };

static const char *const order_names[] = {"relevance", "archive", "date", "place"};

static enum order choose_order(const struct prl_search_opts *o, int64_t total)
{
	if (o->sort == PRL_SORT_DATE && total <= SORT_UP_TO)
		return ORDER_DATE;
	if (o->sort == PRL_SORT_PLACE && total <= SORT_UP_TO)
		return ORDER_PLACE;
	if (o->sort == PRL_SORT_RELEVANCE && total <= RANK_UP_TO)
		return ORDER_RANK;
	return ORDER_ARCHIVE;
}

/*
 * Appends up to limit segment ids matching expr, from offset.  When
 * exclude is given, the rows it matches are left out: the close spellings'
 * hits are ranked by the expression of every form, not by "every form NOT
 * exact forms", where FTS5 would also count a string under the NOT when its
 * iterator happens to rest on the row.
 */
static int page_ids(struct prl_archive *a, const struct prl_search_opts *o, const struct plan *p,
		    enum order ord, const char *expr, const char *exclude, int64_t offset,
		    int64_t limit, int64_t *ids, size_t *n)
{
	enum stmt_id sid;
	sqlite3_stmt *st;
	int rc;

	switch (ord) {
	case ORDER_DATE:
		sid = ST_SEARCH_PAGE_DATE;
		break;
	case ORDER_PLACE:
		sid = ST_SEARCH_PAGE_PLACE;
		break;
	case ORDER_RANK:
		sid = dated(o)	? ST_SEARCH_PAGE_RANK_DATED
		      : exclude ? ST_SEARCH_PAGE_RANK_REST
				: ST_SEARCH_PAGE_RANK;
		break;
	default:
		sid = dated(o) ? ST_SEARCH_PAGE_ROWID_DATED : ST_SEARCH_PAGE_ROWID;
		break;
	}
	if (!(st = archive_stmt(a, sid)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, p->key_below);
	sqlite3_bind_int(st, 3, p->tier_class);
	sqlite3_bind_int64(st, 4, limit);
	sqlite3_bind_int64(st, 5, offset);
	if (sid == ST_SEARCH_PAGE_RANK_REST)
		archive_bind_text(st, 6, exclude);
	else if (sid != ST_SEARCH_PAGE_RANK && sid != ST_SEARCH_PAGE_ROWID)
		bind_dates(st, 6, o);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0) & INDEX_ID_MASK;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "searching");
}

/* ---- what a hit shows ---- */

/* True when w equals one of the words of text (split at spaces and
 * apostrophes, as the index splits them). */
static int is_part_of(const char *text, const char *w)
{
	size_t wl = strlen(w);

	while (*text) {
		const char *e = text;

		while (*e && *e != ' ' && *e != '\'')
			e++;
		if ((size_t)(e - text) == wl && !strncmp(text, w, wl))
			return 1;
		text = *e ? e + 1 : e;
	}
	return 0;
}

/* True when the folded word w is one the query looked for; a close
 * spelling met is remembered in p->seen. */
static int word_matches(struct plan *p, const char *w, int *variant)
{
	size_t i, k;

	for (i = 0; i < p->q.n; i++) {
		const struct query_item *it = &p->q.items[i];

		if (it->negated)
			continue;
		if (it->kind == QUERY_PREFIX) {
			if (!strncmp(w, it->text, strlen(it->text)))
				return 1;
		} else if (is_part_of(it->text, w)) {
			/* each word of a phrase or an elided form is marked */
			return 1;
		}
		for (k = 0; k < p->exact[i].n; k++)
			if (is_part_of(p->exact[i].items[k], w))
				return 1;
		for (k = 0; k < p->variant[i].n; k++)
			if (!strcmp(w, p->variant[i].items[k])) {
				*variant = 1;
				term_add(&p->seen, w);
				return 1;
			}
	}
	return 0;
}

static int is_word_char(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO);
}

struct span {
	size_t start, end; /* byte offsets in the text */
};

/* Finds the words of text the query matched (at most 64). */
static size_t find_marks(struct plan *p, const char *text, struct span *marks, size_t max)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
	size_t len = strlen(text), i = 0, n = 0;

	while (i < len && n < max) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
		size_t start;

		if (k <= 0) {
			i++;
			continue;
		}
		if (!is_word_char(cp)) {
			i += (size_t)k;
			continue;
		}
		start = i;
		while (i < len) {
			k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
			if (k <= 0 || !is_word_char(cp))
				break;
			i += (size_t)k;
		}
		{
			char *f = search_fold(text + start, i - start);
			int variant = 0;

			if (f && *f && word_matches(p, f, &variant)) {
				marks[n].start = start;
				marks[n].end = i;
				n++;
			}
			free(f);
		}
	}
	return n;
}

/* Moves a byte offset back to the start of a UTF-8 character. */
static size_t utf8_floor(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static void add_escaped_html(struct prl_buf *b, const char *s, size_t n)
{
	struct prl_buf tmp = PRL_BUF_INIT;

	prl_buf_add(&tmp, s, n);
	prl_xml_escape(b, prl_buf_str(&tmp));
	prl_buf_release(&tmp);
}

#define SNIPPET_BEFORE 80
#define SNIPPET_AFTER 160
#define KWIC_SIDE 60

/* snippet: HTML-escaped text around the first match, matches in <mark>;
 * kwic: {left, match, right} as plain text. */
static void write_snippet(struct prl_buf *out, struct plan *p, const char *text)
{
	struct span marks[64];
	size_t n = find_marks(p, text, marks, 64), len = strlen(text), from = 0, to = len, at, i;
	struct prl_buf html = PRL_BUF_INIT, tmp = PRL_BUF_INIT;

	if (n && marks[0].start > SNIPPET_BEFORE)
		from = utf8_floor(text, marks[0].start - SNIPPET_BEFORE);
	if (n && len - marks[0].start > SNIPPET_AFTER)
		to = utf8_floor(text, marks[0].start + SNIPPET_AFTER);
	else if (!n && len > SNIPPET_AFTER)
		to = utf8_floor(text, SNIPPET_AFTER);
	if (from > 0)
		prl_buf_addstr(&html, "…");
	at = from;
	for (i = 0; i < n; i++) {
		if (marks[i].start < from || marks[i].end > to)
			continue;
		add_escaped_html(&html, text + at, marks[i].start - at);
		prl_buf_addstr(&html, "<mark>");
		add_escaped_html(&html, text + marks[i].start, marks[i].end - marks[i].start);
		prl_buf_addstr(&html, "</mark>");
		at = marks[i].end;
	}
	add_escaped_html(&html, text + at, to - at);
	if (to < len)
		prl_buf_addstr(&html, "…");
	prl_buf_addstr(out, ",\"snippet\":");
	prl_json_str(out, prl_buf_str(&html));

	prl_buf_addstr(out, ",\"kwic\":{\"left\":");
	if (n) {
		size_t l = marks[0].start > KWIC_SIDE ? utf8_floor(text, marks[0].start - KWIC_SIDE)
						      : 0;
		size_t r = len - marks[0].end > KWIC_SIDE
				   ? utf8_floor(text, marks[0].end + KWIC_SIDE)
				   : len;

		prl_json_strn(out, text + l, marks[0].start - l);
		prl_buf_addstr(out, ",\"match\":");
		prl_json_strn(out, text + marks[0].start, marks[0].end - marks[0].start);
		prl_buf_addstr(out, ",\"right\":");
		prl_json_strn(out, text + marks[0].end, r - marks[0].end);
	} else {
		prl_buf_addstr(out, "\"\",\"match\":\"\",\"right\":");
		prl_json_str(out, text);
	}
	prl_buf_addch(out, '}');
	prl_buf_release(&html);
	prl_buf_release(&tmp);
}

/* True when [start, end) of recording rec touches a withheld span. */
static int span_withheld(struct prl_archive *a, int64_t rec, int64_t start, int64_t end)
{
	sqlite3_stmt *st = archive_stmt(a, ST_WITHHELD_OVERLAPS);
	int hidden = 1; /* when in doubt, withheld */

	if (!st)
		return 1;
	sqlite3_bind_int64(st, 1, rec);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, end);
	if (sqlite3_step(st) == SQLITE_ROW)
		hidden = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return hidden;
}

/* Considers one candidate row of st (text, start_ms, end_ms): keeps it in
 * *best when it overlaps the hit more than what is there. */
static void consider(sqlite3_stmt *st, struct prl_archive *a, const struct plan *p, int64_t rec,
		     int64_t start, int64_t end, int64_t *best_overlap, char **best)
{
	int64_t s = sqlite3_column_int64(st, 1), e = sqlite3_column_int64(st, 2);
	int64_t overlap = (e < end ? e : end) - (s > start ? s : start);

	if (overlap <= 0 && !(s == e && s >= start && s < end))
		return;
	if (overlap <= *best_overlap && *best)
		return;
	if (!p->sees_withheld && span_withheld(a, rec, s, e))
		return;
	free(*best);
	*best = archive_col_strdup(st, 0);
	*best_overlap = overlap;
}

/*
 * The translation of a hit's span: on each translation tier of the
 * recording (other than the hit's), a segment linked to the hit (an EAF
 * child), else the segment overlapping the span the most.  Every lookup is
 * bounded by the (tier_id, start_ms) index: the segment starting at or
 * before the span and those starting inside it.  *out is owned by the
 * caller (NULL when there is none).
 */
static int find_translation(struct prl_archive *a, const struct plan *p, int64_t rec, int64_t tier,
			    int64_t sid, int64_t start, int64_t end, char **out)
{
	int64_t tiers[8], best_overlap = 0;
	sqlite3_stmt *st = archive_stmt(a, ST_TRANSLATION_TIERS);
	size_t ntiers = 0, i;
	char *best = NULL;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec);
	sqlite3_bind_int64(st, 2, tier);
	while (ntiers < 8 && sqlite3_step(st) == SQLITE_ROW)
		tiers[ntiers++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (i = 0; i < ntiers && !best; i++) {
		if (!(st = archive_stmt(a, ST_TRANSLATION_LINKED)))
			break;
		sqlite3_bind_int64(st, 1, tiers[i]);
		sqlite3_bind_int64(st, 2, sid);
		if (sqlite3_step(st) == SQLITE_ROW)
			consider(st, a, p, rec, start, end, &best_overlap, &best);
		sqlite3_reset(st);
	}
	for (i = 0; i < ntiers && !best; i++) {
		if ((st = archive_stmt(a, ST_TRANSLATION_BEFORE))) {
			sqlite3_bind_int64(st, 1, tiers[i]);
			sqlite3_bind_int64(st, 2, start);
			if (sqlite3_step(st) == SQLITE_ROW)
				consider(st, a, p, rec, start, end, &best_overlap, &best);
			sqlite3_reset(st);
		}
		if ((st = archive_stmt(a, ST_TRANSLATION_WITHIN))) {
			sqlite3_bind_int64(st, 1, tiers[i]);
			sqlite3_bind_int64(st, 2, start);
			sqlite3_bind_int64(st, 3, end);
			while (sqlite3_step(st) == SQLITE_ROW)
				consider(st, a, p, rec, start, end, &best_overlap, &best);
			sqlite3_reset(st);
		}
	}
	*out = best;
	return 0;
}

static int write_hit(struct prl_archive *a, struct plan *p, int64_t sid, int variant, int first,
		     struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SEARCH_HIT);
	int64_t rec, tier, start, end;
	char *type = NULL;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, sid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "reading a hit");
	}
	start = sqlite3_column_int64(st, 1);
	end = sqlite3_column_int64(st, 2);
	tier = sqlite3_column_int64(st, 4);
	rec = sqlite3_column_int64(st, 7);
	prl_buf_addf(out, "%s{\"recording_id\":%lld,\"recording_title\":", first ? "" : ",",
		     (long long)rec);
	prl_json_str(out, (const char *)sqlite3_column_text(st, 8));
	prl_buf_addf(out, ",\"segment_id\":%lld,\"tier_id\":%lld,\"tier\":", (long long)sid,
		     (long long)tier);
	prl_json_str(out, (const char *)sqlite3_column_text(st, 5));
	prl_buf_addstr(out, ",\"tier_type\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 6));
	prl_buf_addf(out, ",\"start_ms\":%lld,\"end_ms\":%lld,\"text\":", (long long)start,
		     (long long)end);
	prl_json_str(out, (const char *)sqlite3_column_text(st, 3));
	write_snippet(out, p, (const char *)sqlite3_column_text(st, 3));
	prl_buf_addstr(out, ",\"place\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 9));
	prl_buf_addstr(out, ",\"speaker\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 10));
	prl_buf_addstr(out, ",\"date\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 11));
	prl_buf_addstr(out, ",\"variety\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 12));
	prl_buf_addf(out, ",\"match\":\"%s\"", variant ? "variant" : "exact");
	type = archive_col_strdup(st, 6);
	sqlite3_reset(st);

	/* the translation of the same span, when the hit is not one itself */
	prl_buf_addstr(out, ",\"translation\":");
	if (type && strcmp(type, "translation") != 0) {
		char *text = NULL;

		if (find_translation(a, p, rec, tier, sid, start, end, &text) == 0 && text)
			prl_json_str(out, text);
		else
			prl_buf_addstr(out, "null");
		free(text);
	} else {
		prl_buf_addstr(out, "null");
	}
	free(type);
	return prl_buf_addch(out, '}');
}

static int write_groups(struct prl_archive *a, const struct prl_search_opts *o,
			const struct plan *p, const char *expr, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SEARCH_GROUPS);
	int rc, first = 1;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, p->key_below);
	sqlite3_bind_int(st, 3, p->tier_class);
	bind_dates(st, 4, o);
	prl_buf_addstr(out, ",\"groups\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(out, "%s{\"recording_id\":%lld,\"recording_title\":", first ? "" : ",",
			     (long long)sqlite3_column_int64(st, 0));
		prl_json_str(out, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addf(out, ",\"count\":%lld}", (long long)sqlite3_column_int64(st, 2));
		first = 0;
	}
	sqlite3_reset(st);
	prl_buf_addch(out, ']');
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "grouping hits");
}

/* The groups of an answer from the postings in memory, titles from the store. */
static int write_memory_groups(struct prl_archive *a, const struct memory_answer *m,
			       struct prl_buf *out)
{
	int64_t recs[200], counts[200];
	size_t n = search_memory_groups(m, 200, recs, counts);

	prl_buf_addstr(out, ",\"groups\":[");
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = archive_stmt(a, ST_RECORDING_TITLE);

		if (!st)
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, recs[i]);
		prl_buf_addf(out, "%s{\"recording_id\":%lld,\"recording_title\":", i ? "," : "",
			     (long long)recs[i]);
		prl_json_str(out, sqlite3_step(st) == SQLITE_ROW
					  ? (const char *)sqlite3_column_text(st, 0)
					  : NULL);
		sqlite3_reset(st);
		prl_buf_addf(out, ",\"count\":%lld}", (long long)counts[i]);
	}
	return prl_buf_addch(out, ']');
}

/* A page of ids: from the postings in memory when they answered and the
 * order is theirs (relevance or archive), else from FTS5. */
static int page_of(struct prl_archive *a, struct memory_answer *m, int which,
		   const struct prl_search_opts *o, const struct plan *p, enum order ord,
		   const char *expr, const char *exclude, int64_t offset, int64_t limit,
		   int64_t *ids, size_t *n)
{
	if (m && (ord == ORDER_RANK || ord == ORDER_ARCHIVE)) {
		size_t had = *n;
		int ret = search_memory_page(m, which, ord == ORDER_RANK, offset, had + limit, ids,
					     n);

		if (ret != 0)
			return ret < 0 ? ret : 0;
		*n = had;
	}
	return page_ids(a, o, p, ord, expr, exclude, offset, limit, ids, n);
}

int prl_archive_search_json(struct prl_archive *a, const struct prl_viewer *v,
			    const struct prl_search_opts *o, struct prl_buf *out)
{
	struct prl_buf exact = PRL_BUF_INIT, any = PRL_BUF_INIT, rest = PRL_BUF_INIT;
	struct prl_buf b = PRL_BUF_INIT, hb = PRL_BUF_INIT;
	struct memory_answer *mem = NULL;
	uint64_t sig;
	int64_t total_exact = 0, total = 0, limit, offset, ids[MAX_LIMIT];
	size_t nids = 0, nexact_ids = 0, i, k;
	enum order ord = ORDER_RANK;
	struct plan p;
	int ret, nv = 0;

	limit = o->limit > 0 ? (o->limit > MAX_LIMIT ? MAX_LIMIT : o->limit) : DEFAULT_LIMIT;
	offset = o->offset > 0 ? o->offset : 0;
	/* read once: the plan, the count cache and the postings in memory
	 * all describe this state of the index */
	sig = index_signature(a);
	if ((ret = build_plan(a, v, o, sig, &p)) < 0)
		goto end;
	full_expr(&exact, &p, 0);
	if (p.has_variants) {
		full_expr(&any, &p, 1);
		/* variant-only hits: match with variants, not without */
		prl_buf_addf(&rest, "(%s) NOT (%s)", any.data, exact.data);
	}
	if (!p.empty_filter && (ret = search_memory_run(a, o, &p, sig, &mem)) < 0)
		goto end;
	if (mem) {
		total_exact = search_memory_total(mem, 1);
		total = search_memory_total(mem, 0);
	} else if (!p.empty_filter) {
		if ((ret = count_matches(a, o, &p, sig, exact.data, &total_exact)) < 0)
			goto end;
		total = total_exact;
		if (p.has_variants && (ret = count_matches(a, o, &p, sig, any.data, &total)) < 0)
			goto end;
	}
	/* exact hits first, then the close spellings, each in its order */
	ord = choose_order(o, total_exact);
	if (!p.empty_filter && offset < total_exact &&
	    (ret = page_of(a, mem, 0, o, &p, ord, exact.data, NULL, offset, limit, ids, &nids)) < 0)
		goto end;
	nexact_ids = nids;
	if (!p.empty_filter && p.has_variants && (int64_t)nids < limit &&
	    offset + (int64_t)nids < total) {
		int64_t voff = offset + (int64_t)nids - total_exact;
		enum order rord = choose_order(o, total - total_exact);
		int by_rank = rord == ORDER_RANK && !dated(o);

		if ((ret = page_of(a, mem, 1, o, &p, rord, by_rank ? any.data : rest.data,
				   by_rank ? exact.data : NULL, voff < 0 ? 0 : voff,
				   limit - (int64_t)nids, ids, &nids)) < 0)
			goto end;
	}
	prl_buf_addstr(&b, "{\"query\":");
	prl_json_str(&b, o->query);
	prl_buf_addf(&b,
		     ",\"total\":%lld,\"total_exact\":%lld,\"offset\":%lld,\"limit\":%lld"
		     ",\"order\":\"%s\"",
		     (long long)total, (long long)total_exact, (long long)offset, (long long)limit,
		     order_names[ord]);
	/* hits first, into their own buffer: the close spellings reported are
	 * those met in them, so a word of a recording the viewer may not read
	 * is never named */
	prl_buf_addstr(&hb, ",\"hits\":[");
	for (i = 0; i < nids; i++)
		if ((ret = write_hit(a, &p, ids[i], i >= nexact_ids, i == 0, &hb)) < 0)
			goto end;
	prl_buf_addstr(&b, ",\"variants\":[");
	for (i = 0; i < p.q.n; i++)
		for (k = 0; k < p.variant[i].n; k++) {
			size_t m;

			for (m = 0; m < p.seen.n && strcmp(p.seen.items[m], p.variant[i].items[k]);
			     m++)
				;
			if (m == p.seen.n)
				continue;
			prl_buf_addstr(&b, nv++ ? ",{\"term\":" : "{\"term\":");
			prl_json_str(&b, p.variant[i].items[k]);
			prl_buf_addstr(&b, ",\"of\":");
			prl_json_str(&b, p.q.items[i].text);
			prl_buf_addch(&b, '}');
		}
	prl_buf_addch(&b, ']');
	prl_buf_add(&b, hb.data, hb.len);
	prl_buf_addch(&b, ']');
	if (o->with_groups && total <= GROUPS_UP_TO && !p.empty_filter) {
		if ((ret = mem ? write_memory_groups(a, mem, &b)
			       : write_groups(a, o, &p, p.has_variants ? any.data : exact.data,
					      &b)) < 0)
			goto end;
	}
	prl_buf_addch(&b, '}');
	ret = prl_buf_add(out, b.data, b.len);
end:
	search_memory_done(mem);
	plan_clear(&p);
	prl_buf_release(&exact);
	prl_buf_release(&any);
	prl_buf_release(&rest);
	prl_buf_release(&b);
	prl_buf_release(&hb);
	return ret;
}

/* ---- re-indexing and the table of equivalent spellings ---- */

int prl_archive_reindex(struct prl_archive *a)
{
	static const char *const steps[] = {
		"DELETE FROM recording_index_meta",
		"INSERT INTO recording_index_meta(recording_id, meta) SELECT r.id, " INDEX_META_SQL
		" FROM recordings r",
		/* a new table is faster than deleting a million rows one by one */
		"DROP TABLE segment_index",
		INDEX_CREATE_SQL,
		/* no merging while loading: one merge of everything at the end */
		"INSERT INTO segment_index(segment_index, rank) VALUES ('automerge', 0)",
		"INSERT INTO segment_index(segment_index, rank) VALUES ('crisismerge', 64)",
		/* in rowid order: FTS5 appends to its pending doclists only while
		 * rowids grow, so an ordered load is much faster */
		"INSERT INTO segment_index(rowid, body, meta)"
		" SELECT " INDEX_KEY4_SQL(
			"s.id", "s.start_ms",
			"s.end_ms") " AS k, prl_fold(s.text), ifnull(m.meta, '')"
				    " FROM segments s JOIN tiers t ON t.id = s.tier_id"
				    " JOIN recordings r ON r.id = t.recording_id"
				    " LEFT JOIN recording_index_meta m ON m.recording_id = r.id "
				    "ORDER BY k",
		"INSERT INTO segment_index(segment_index) VALUES ('optimize')",
		"INSERT INTO segment_index(segment_index, rank) VALUES ('automerge', 4)",
		"INSERT INTO segment_index(segment_index, rank) VALUES ('crisismerge', 16)",
	};
	int ret;

	/* DROP TABLE needs every statement of the connection at rest */
	for (int i = 0; i < ST_COUNT; i++)
		if (a->stmts[i])
			sqlite3_reset(a->stmts[i]);
	if ((ret = archive_begin(a)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (sqlite3_exec(a->db, steps[i], NULL, NULL, NULL) != SQLITE_OK) {
			ret = archive_sql_fail(a, "rebuilding the search index");
			archive_rollback(a);
			return ret;
		}
	}
	return archive_commit(a);
}

int archive_refresh_index_meta(struct prl_archive *a, int64_t id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_META_REFRESH);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	return archive_step_done(a, st, "indexing a recording");
}

int archive_reindex_recording(struct prl_archive *a, int64_t id)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = archive_refresh_index_meta(a, id)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_REINDEX_DELETE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "re-indexing") < 0)
		return -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_REINDEX_INSERT)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	return archive_step_done(a, st, "re-indexing");
}

/* Splits one CSV line into fields (RFC 4180 quoting). */
static int csv_fields(const char *line, size_t len, struct term_list *out)
{
	struct prl_buf f = PRL_BUF_INIT;
	size_t i = 0;
	int ret = 0;

	while (i <= len && ret >= 0) {
		prl_buf_reset(&f);
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && line[i] == '"') {
			i++;
			while (i < len) {
				if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
					prl_buf_addch(&f, '"');
					i += 2;
				} else if (line[i] == '"') {
					i++;
					break;
				} else {
					prl_buf_addch(&f, line[i++]);
				}
			}
			while (i < len && line[i] != ',')
				i++;
		} else {
			while (i < len && line[i] != ',')
				prl_buf_addch(&f, line[i++]);
			while (f.len && (f.data[f.len - 1] == ' ' || f.data[f.len - 1] == '\t'))
				f.data[--f.len] = '\0';
		}
		if (f.len)
			ret = term_add(out, f.data);
		i++;
	}
	prl_buf_release(&f);
	return ret < 0 ? ret : 0;
}

int prl_archive_variants_import_csv(struct prl_archive *a, const char *data, size_t len)
{
	struct term_list fields = {NULL, 0};
	size_t pos = 0, lineno = 0;
	int64_t group = 0;
	sqlite3_stmt *st;
	int ret;

	if (!prl_utf8_valid(data, len))
		return archive_fail(a, -PRL_EFORMAT, "not valid UTF-8");
	if ((ret = archive_begin(a)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_VARIANT_CLEAR)) ||
	    archive_step_done(a, st, "clearing spellings") < 0) {
		ret = -PRL_ESQL;
		goto fail;
	}
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len, llen = end - pos;

		lineno++;
		if (llen && data[pos + llen - 1] == '\r')
			llen--;
		term_list_clear(&fields);
		if ((ret = csv_fields(data + pos, llen, &fields)) < 0)
			goto fail;
		pos = end + 1;
		if (fields.n == 0 || fields.items[0][0] == '#')
			continue;
		if (fields.n < 2) {
			ret = archive_fail(a, -PRL_EFORMAT,
					   "line %zu: a group needs at least two spellings",
					   lineno);
			goto fail;
		}
		group++;
		for (size_t i = 0; i < fields.n; i++) {
			char *f = search_fold(fields.items[i], strlen(fields.items[i]));

			if (!f || !(st = archive_stmt(a, ST_VARIANT_ADD))) {
				free(f);
				ret = -PRL_ESQL;
				goto fail;
			}
			sqlite3_bind_int64(st, 1, group);
			archive_bind_text(st, 2, fields.items[i]);
			archive_bind_text(st, 3, f);
			if (sqlite3_step(st) != SQLITE_DONE) {
				int constraint = sqlite3_errcode(a->db) == SQLITE_CONSTRAINT;

				sqlite3_reset(st);
				ret = constraint ? archive_fail(a, -PRL_EFORMAT,
								"line %zu: '%s' is already in "
								"another group "
								"(accents and case do not count)",
								lineno, fields.items[i])
						 : archive_sql_fail(a, "storing a spelling");
				free(f);
				goto fail;
			}
			sqlite3_reset(st);
			free(f);
		}
	}
	term_list_clear(&fields);
	if ((ret = archive_commit(a)) < 0)
		goto fail;
	return 0;
fail:
	term_list_clear(&fields);
	archive_rollback(a);
	return ret;
}

int prl_archive_variants_export_csv(struct prl_archive *a, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_VARIANT_ALL);
	int64_t group = -1;
	int rc;

	if (!st)
		return -PRL_ESQL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *form = (const char *)sqlite3_column_text(st, 1);
		int64_t g = sqlite3_column_int64(st, 0);

		if (group >= 0)
			prl_buf_addch(out, g == group ? ',' : '\n');
		group = g;
		if (strpbrk(form, ",\"\n\r")) {
			prl_buf_addch(out, '"');
			for (; *form; form++) {
				if (*form == '"')
					prl_buf_addch(out, '"');
				prl_buf_addch(out, *form);
			}
			prl_buf_addch(out, '"');
		} else {
			prl_buf_addstr(out, form);
		}
	}
	if (group >= 0)
		prl_buf_addch(out, '\n');
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "listing spellings");
}
