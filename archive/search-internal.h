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
/* A spelling-independent key of a folded word into out (NUL-terminated). */
void search_sound_key(const char *folded_word, char *out, size_t outlen);
/* True when the edit distance between a and b is at most k. */
int search_edit_distance_within(const char *a, const char *b, int k);
/* Registers prl_fold() with a connection (the index triggers use it). */
int search_register_functions(sqlite3 *db);

enum query_kind {
	QUERY_WORD = 0,   /* a word: exact, variants allowed */
	QUERY_PHRASE = 1, /* "words in a row" */
	QUERY_PREFIX = 2, /* maiso* */
};

struct query_item {
	enum query_kind kind;
	char *text;      /* folded; for a phrase, its words separated by spaces */
	int negated;     /* -word / NOT word */
	int group;       /* items with the same group are ORed; groups are ANDed */
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

#endif
