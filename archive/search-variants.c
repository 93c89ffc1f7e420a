/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search: what each query word stands for.  The forms the staff declared
 * equivalent (the table of equivalent spellings, imported and exported as
 * CSV here) count as exact; close spellings come from the index's own
 * vocabulary (edit distance, or the same sound key) and are "variant"
 * hits.  The vocabulary also bounds how many segments a query can match,
 * which decides how a count is run (search-count.c).
 *
 * Always holds: a close spelling is a word the index holds; the word
 * itself and its equivalents are never its variants.
 * Expected workload: the vocabulary read once (about a second for a
 * million segments), then a few binary searches and edit distances per
 * query word.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"
#include "search-internal.h"

#define MAX_VARIANTS_PER_WORD 8

/* ---- the vocabulary of the index, for close spellings ----
 *
 * Reading the vocabulary means walking the whole index (about a second
 * for a million segments), so it is read once per search cache and shared
 * by every handle given that cache: reloaded when the index changed, but
 * not more than once a minute.  A vocabulary a minute old only means a brand-new word is not
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
	struct prl_search_cache *cache;	  /* the cache that holds it */
	uint64_t signature;		  /* of the index's structure record when loaded */
	time_t loaded_at;
	int refs; /* users, plus one while it is the current one */
};

/* qsort has no context argument: the terms being sorted by key are a
 * file-scope pointer, so one sort runs at a time, whatever the cache */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

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
	pthread_mutex_lock(&sort_lock);
	sorting_terms = v->terms;
	qsort(v->by_key, v->n, sizeof(*v->by_key), cmp_key_index);
	pthread_mutex_unlock(&sort_lock);
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
	struct prl_search_cache *c;

	if (!v)
		return;
	c = v->cache;
	pthread_mutex_lock(&c->vocab_lock);
	if (--v->refs == 0)
		vocab_destroy(v);
	pthread_mutex_unlock(&c->vocab_lock);
}

uint64_t search_index_signature(struct prl_archive *a)
{
	return search_signature(archive_stmt(a, ST_INDEX_SIGNATURE));
}

static struct search_vocab *vocab_load(struct prl_archive *a, uint64_t sig)
{
	struct search_vocab *v = calloc(1, sizeof(*v));
	sqlite3_stmt *st;
	size_t cap = 0;

	if (!v || !(st = archive_stmt(a, ST_VOCAB_ALL))) {
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
	v->cache = a->search_cache;
	v->signature = sig;
	v->loaded_at = time(NULL);
	return v;
}

/* The vocabulary for a's archive, whose index has signature sig; the
 * caller releases it with search_vocab_free().  NULL when it cannot be had
 * (no close spellings). */
struct search_vocab *search_vocab_get(struct prl_archive *a, uint64_t sig)
{
	struct prl_search_cache *c = a->search_cache;
	struct search_vocab *v, *fresh;

	pthread_mutex_lock(&c->vocab_lock);
	v = c->vocab;
	if (v && (v->signature == sig || time(NULL) - v->loaded_at < VOCAB_MAX_AGE_S)) {
		v->refs++;
		pthread_mutex_unlock(&c->vocab_lock);
		return v;
	}
	/* loaded under the lock: two threads never walk the index at once */
	fresh = vocab_load(a, sig);
	if (fresh) {
		if (c->vocab && --c->vocab->refs == 0)
			vocab_destroy(c->vocab);
		c->vocab = fresh;
		fresh->refs = 2; /* current, and the caller */
	}
	pthread_mutex_unlock(&c->vocab_lock);
	return fresh;
}

void search_vocab_drop(struct prl_search_cache *c)
{
	pthread_mutex_lock(&c->vocab_lock);
	if (c->vocab && --c->vocab->refs == 0)
		vocab_destroy(c->vocab);
	c->vocab = NULL;
	pthread_mutex_unlock(&c->vocab_lock);
}

void prl_archive_search_warm(struct prl_archive *a)
{
	search_vocab_free(search_vocab_get(a, search_index_signature(a)));
}

/* ---- terms: what each query word stands for ---- */

int search_term_add(struct term_list *l, const char *t)
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

void search_term_list_clear(struct term_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Forms the staff declared equivalent to a folded word. */
int search_add_equivalents(struct prl_archive *a, const char *word, struct term_list *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_VARIANT_GROUP_OF);
	int ret = 0;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, word);
	while (ret >= 0 && sqlite3_step(st) == SQLITE_ROW)
		ret = search_term_add(out, (const char *)sqlite3_column_text(st, 0));
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
 * within an edit distance that grows with the word (1 up to 5 bytes, 2 up
 * to 11, 3 from 12: a long word typed by ear slips in more places), and words
 * with the same sound key.  Only lengths that can be that close are
 * looked at, and the sound key is a binary search.  A word in more than
 * 2% of all segments (and over a thousand) is not proposed as a variant of
 * a word the archive holds: it would drown the hits (a misspelt query
 * still gets it).
 */
int search_add_close_spellings(struct search_vocab *v, const char *word,
			       const struct term_list *exact, struct term_list *out)
{
	const struct vocab_term *found[256], *self;
	size_t nfound = 0, len = strlen(word), i, l, lo, hi;
	uint64_t chars = char_set(word);
	int64_t too_common;
	char key[32];
	int k = len <= 5 ? 1 : len <= 11 ? 2 : 3, ret;

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
		if ((ret = search_term_add(out, found[i]->term)) < 0)
			return ret;
	return 0;
}

/* The most segments the query can match, from the vocabulary (an upper
 * bound for words, 0 when unknown: prefixes and phrases are bounded by
 * their rarest word). */
int64_t search_estimate_matches(const struct plan *p)
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
			ret = search_term_add(out, f.data);
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
		search_term_list_clear(&fields);
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
	search_term_list_clear(&fields);
	if ((ret = archive_commit(a)) < 0)
		goto fail;
	return 0;
fail:
	search_term_list_clear(&fields);
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
