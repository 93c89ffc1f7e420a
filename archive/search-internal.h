/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Private to the archive module: search's folding (fold.c) and query
 * parser (query.c), declared here so the fuzz target can reach the parser
 * without a database.
 */
#ifndef PARLERS_SEARCH_INTERNAL_H
#define PARLERS_SEARCH_INTERNAL_H

#include <sqlite3.h>

#include "parlers/common.h"

/* Folded copy of s (len bytes): case-folded, accents and combining marks
 * removed, œ/æ spelt out, apostrophes made plain.  Caller frees; NULL only
 * when memory is exhausted. */
char *search_fold(const char *s, size_t len);
/* The first step of search_fold (utf8proc_map) by its fast path: 0 with
 * the mapped text appended to out, or -1 when the text needs the slow one.
 * Declared for the test that holds it to utf8proc_map. */
int search_fold_map_fast(const char *s, size_t len, struct prl_buf *out);
/* A spelling-independent key of a folded word into out (NUL-terminated). */
void search_sound_key(const char *folded_word, char *out, size_t outlen);
/* True when the edit distance between a and b is at most k. */
int search_edit_distance_within(const char *a, const char *b, int k);
/* Registers prl_fold() with a connection (the index triggers use it). */
int search_register_functions(sqlite3 *db);

enum query_kind {
	QUERY_WORD = 0,	  /* a word: exact, variants allowed */
	QUERY_PHRASE = 1, /* "words in a row" */
	QUERY_PREFIX = 2, /* maiso* */
};

struct query_item {
	enum query_kind kind;
	char *text;  /* folded; for a phrase, its words separated by spaces */
	int negated; /* -word / NOT word */
	int group;   /* items with the same group are ORed; groups are ANDed */
};

struct query {
	struct query_item *items;
	size_t n;
	int ngroups;
};

#define QUERY_MAX_BYTES 1000
#define QUERY_MAX_ITEMS 32

/*
 * Parses what a visitor typed: words are ANDed; "a phrase"; prefix*; OR
 * between two terms; -word or NOT word excludes.  Stray quotes close at
 * the end, stray operators and punctuation are ignored, control characters
 * are spaces.  Returns 0, or -PRL_EINVAL with one sentence for a visitor in
 * err (empty query, nothing but exclusions, too long).  The caller frees
 * with query_clear().
 */
int query_parse(const char *s, size_t len, struct query *q, struct prl_buf *err);
void query_clear(struct query *q);
/* Appends the FTS5 expression of a single item (quoted, always valid). */
void query_item_fts(struct prl_buf *out, const struct query_item *it);

/* ---- what search.c and search-memory.c share ---- */

struct prl_archive;
struct prl_search_opts;
struct search_vocab;

struct term_list {
	char **items;
	size_t n;
};

#define PLAN_MAX_FILTERS 4

/* A parsed query with everything it stands for, ready to run. */
struct plan {
	struct query q;
	struct term_list *exact;   /* per item: the forms the staff declared equivalent */
	struct term_list *variant; /* per item: close spellings */
	struct prl_buf filter;	   /* meta : (...) AND ...: place, speaker... */
	struct term_list filters[PLAN_MAX_FILTERS]; /* the same, as groups of meta tokens */
	int nfilters;				    /* each group ORed, the groups ANDed */
	int empty_filter;			    /* a filter that names nothing: no result */
	int has_variants;
	int64_t key_below;	    /* index rowids below this are readable (access) */
	int tier_class;		    /* -1, or the tier class asked for */
	int sees_withheld;	    /* the viewer may read withheld passages */
	struct search_vocab *vocab; /* NULL when not used */
	struct term_list seen;	    /* close spellings met in the hits written */
};

/*
 * The index's postings kept in memory (search-memory.c): a second way to
 * answer a query, used only while it describes exactly the index on disk.
 *
 * search_memory_run() answers p for a viewer outside any transaction:
 * 1 with *out set (released with search_memory_done()), 0 when the copy
 * cannot answer (not loaded, older than the index, or a query it does not
 * evaluate: the caller asks FTS5), or a negative error.
 */
struct memory_answer;

/* The index's signature: FNV-1a of what st (INDEX_SIGNATURE_SQL) reads,
 * the FTS5 structure record; st is reset. */
uint64_t search_signature(sqlite3_stmt *st);

int search_memory_run(struct prl_archive *a, const struct prl_search_opts *o, const struct plan *p,
		      uint64_t signature, struct memory_answer **out);
/* Matches of the exact forms (exact) or of every form, close spellings too. */
int64_t search_memory_total(const struct memory_answer *m, int exact);
/* Up to limit segment ids from offset, appended to ids[*n...]: which 0 the
 * exact hits, 1 those of close spellings only; by relevance (FTS5's bm25)
 * or in archive order.  1 when done, 0 when FTS5 must rank this page (a
 * hit too long for the position masks), or a negative error. */
int search_memory_page(struct memory_answer *m, int which, int by_rank, int64_t offset,
		       int64_t limit, int64_t *ids, size_t *n);
/* Hits per recording, most first then by id, at most max: which as above
 * but 2 for every hit.  Returns how many were written to recs and counts. */
size_t search_memory_groups(const struct memory_answer *m, size_t max, int64_t *recs,
			    int64_t *counts);
void search_memory_done(struct memory_answer *m);

#endif
