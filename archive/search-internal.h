/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Private to the archive module: search's folding (fold.c) and query
 * parser (query.c), declared here so the fuzz target can reach the parser
 * without a database; and the names the files of search share
 * (search*.c).
 */
#ifndef PARLERS_SEARCH_INTERNAL_H
#define PARLERS_SEARCH_INTERNAL_H

#include <pthread.h>
#include <time.h>

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
struct prl_viewer;
struct search_vocab;
struct memory_answer;

struct term_list {
	char **items;
	size_t n;
};

#define PLAN_MAX_FILTERS 5

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

/* ---- the search cache (search-cache.c) ----
 *
 * What searches share between queries and between the handles given the
 * same cache (prl_archive_set_search_cache()): each part belongs to the
 * file named beside it, which alone reads and writes it under its lock.
 * A cache serves one archive (dir), bound when the first handle is given
 * it. */

#define COUNT_CACHE_SLOTS 1024

struct count_entry {
	char *key; /* expression and filters; NULL when free */
	int64_t count;
};

struct search_memory;

struct prl_search_cache {
	char *dir;		       /* the archive it serves; NULL until bound */
	struct prl_search_cache *next; /* the process's live caches (search-cache.c) */

	pthread_mutex_t vocab_lock; /* guards vocab and its refs (search-variants.c) */
	struct search_vocab *vocab; /* the current vocabulary, or NULL */

	pthread_mutex_t count_lock; /* guards counts (search-count.c) */
	struct count_entry *counts; /* COUNT_CACHE_SLOTS, made by the first count kept */
	uint64_t count_signature;   /* of the index the counts were read in */

	pthread_mutex_t
		memory_lock; /* guards what follows and the copies' refs (search-memory.c) */
	struct search_memory *memory; /* the current copy of the postings, or NULL */
	int keeping;		      /* the postings were asked for (prl_archive_search_keep) */
	pthread_t loader;	      /* the reading in the background */
	int loader_started;	      /* loader must be joined */
	int loader_running;
	int loader_cancel; /* atomic: the reading stops early (forget) */
	time_t loader_last_start;
	time_t loader_last_took; /* seconds the last reading took */
	char *memory_last_error; /* why the last reading failed, for the log */
};

/* Binds c to the archive in dir: 0, or -PRL_EINVAL when c serves another
 * archive, -PRL_ENOMEM. */
int search_cache_bind(struct prl_search_cache *c, const char *dir);
/* Releases c's vocabulary (search-variants.c). */
void search_vocab_drop(struct prl_search_cache *c);
/* Forgets c's remembered counts (search-count.c); _free also frees their
 * table, when nothing else uses c. */
void search_counts_forget(struct prl_search_cache *c);
void search_counts_free(struct prl_search_cache *c);
/* The estimated matches from which counts are split across two threads,
 * for the process (a test's tuning). */
void search_count_tuning(int64_t parallel_from);
/* Stops c's reading of the postings and frees its copy (search-memory.c). */
void search_memory_forget(struct prl_search_cache *c);
/* 1 when c holds a copy, with its size; *why as prl_archive_search_memory_state(). */
int search_memory_state(struct prl_search_cache *c, size_t *bytes, int64_t *rows, char **why);

/* ---- the forms a word stands for (search-variants.c) ---- */

/* Adds t to l unless it is there: 1 added, 0 there, -PRL_ENOMEM. */
int search_term_add(struct term_list *l, const char *t);
void search_term_list_clear(struct term_list *l);
/* The signature of a's index as it is now (search_signature()). */
uint64_t search_index_signature(struct prl_archive *a);
/* The vocabulary for a's archive, whose index has signature sig; the
 * caller releases it with search_vocab_free().  NULL when it cannot be had
 * (no close spellings). */
struct search_vocab *search_vocab_get(struct prl_archive *a, uint64_t sig);
/* Appends to out the forms the staff declared equivalent to a folded word. */
int search_add_equivalents(struct prl_archive *a, const char *word, struct term_list *out);
/* Appends to out the close spellings of word in v (none when v is NULL),
 * most frequent first, leaving out the forms in exact. */
int search_add_close_spellings(struct search_vocab *v, const char *word,
			       const struct term_list *exact, struct term_list *out);
/* The most segments p can match, from its vocabulary (0 when unknown). */
int64_t search_estimate_matches(const struct plan *p);

/* ---- the plan (search-plan.c) ---- */

/* Parses o's query and resolves its words and filters for viewer v, for
 * the index of signature sig.  p is always initialised: the caller clears
 * it with search_plan_clear(), whatever the result. */
int search_build_plan(struct prl_archive *a, const struct prl_viewer *v,
		      const struct prl_search_opts *o, uint64_t sig, struct plan *p);
void search_plan_clear(struct plan *p);
/* Appends p's FTS5 expression; with_variants adds the close spellings. */
void search_full_expr(struct prl_buf *out, const struct plan *p, int with_variants);

/* ---- counting (search-count.c) ---- */

/* True when o filters on the recording's date (FTS5 alone can answer). */
int search_dated(const struct prl_search_opts *o);
/* Binds o's date range to st from parameter first on. */
void search_bind_dates(sqlite3_stmt *st, int first, const struct prl_search_opts *o);
/* Matches of expr for p, in the index whose signature is sig, into *out. */
int search_count_matches(struct prl_archive *a, const struct prl_search_opts *o,
			 const struct plan *p, uint64_t sig, const char *expr, int64_t *out);

/* ---- the answer's rows (search-hits.c) ---- */

enum order { ORDER_RANK, ORDER_ARCHIVE, ORDER_DATE, ORDER_PLACE };

/* The names of enum order, as the answer says them. */
extern const char *const search_order_names[];
/* The order of a result set of total matches, as o asks where it may. */
enum order search_choose_order(const struct prl_search_opts *o, int64_t total);
/* Appends up to limit ids from offset to ids[*n...]: from the postings in
 * memory m when they answered and the order is theirs, else from FTS5
 * (expr, less the rows of exclude when given). */
int search_page_of(struct prl_archive *a, struct memory_answer *m, int which,
		   const struct prl_search_opts *o, const struct plan *p, enum order ord,
		   const char *expr, const char *exclude, int64_t offset, int64_t limit,
		   int64_t *ids, size_t *n);
/* Appends segment sid as a hit (first: no comma before it). */
int search_write_hit(struct prl_archive *a, struct plan *p, int64_t sid, int variant, int first,
		     struct prl_buf *out);
/* Appends ,"groups":[...]: hits per recording, from FTS5 or from m. */
int search_write_groups(struct prl_archive *a, const struct prl_search_opts *o,
			const struct plan *p, const char *expr, struct prl_buf *out);
int search_write_memory_groups(struct prl_archive *a, const struct memory_answer *m,
			       struct prl_buf *out);

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

/* A copy of the postings (search-postings.c), read by search-memory.c. */
#define OVERFLOW_BIT (UINT64_C(1) << 63)

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

/* The current copy for a's archive at signature sig, with a reference
 * (released with search_postings_release()); NULL when there is none,
 * and then a fresh reading may be started. */
struct search_memory *search_postings_get(struct prl_archive *a, uint64_t sig);
void search_postings_release(struct search_memory *m);
/* The dense number of the first row of m whose rowid is >= rowid. */
uint32_t search_postings_dense_at(const struct search_memory *m, int64_t rowid);

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
