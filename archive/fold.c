/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text folding for search: what makes `mezoun` find `MÉZOUN`.
 *
 * fold: Unicode case folding, compatibility decomposition and removal of
 * combining marks (utf8proc), then the ligatures Norman and French spelling
 * use (œ, æ) spelt out, and every apostrophe-like character made the plain
 * one.  The FTS5 tokenizer then splits on the apostrophe, so `l'vuus` is
 * indexed as `l` `vuus`: the elided word alone and the whole form (a phrase)
 * are both found.
 *
 * sound key: a rough spelling-independent key for Norman words as
 * transcribers write them (ai/ei/é → e, ou → u, au/eau → o, qu/c → k,
 * doubled letters single, silent final letters dropped), used with edit
 * distance to find close spellings of a dialect word.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "search-internal.h"

#define FOLD_OPTIONS                                                                               \
	(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |           \
	 UTF8PROC_IGNORE | UTF8PROC_STRIPCC)

/*
 * utf8proc_map(s, FOLD_OPTIONS), character by character: ASCII letters
 * lowered in place, every other character decomposed on its own.  That is
 * what utf8proc_map does as long as no character is a control (which it
 * turns into a space or drops, looking at its neighbours) and nothing
 * with a combining class is left after the marks are stripped (which it
 * would reorder); for those, -1 and the caller maps the whole text.
 * Folding is most of the cost of building the index, and this path is
 * several times faster than the whole-text map.
 */
int search_fold_map_fast(const char *s, size_t len, struct prl_buf *out)
{
	const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	while (i < len) {
		utf8proc_int32_t cp, d[32];
		utf8proc_ssize_t k, n;
		size_t run = i;
		int last = 0;

		/* a run of printable ASCII */
		while (run < len && u[run] >= 0x20 && u[run] < 0x7f)
			run++;
		if (run > i) {
			size_t at = out->len;

			if (prl_buf_add(out, s + i, run - i) < 0)
				return -1;
			for (char *c = out->data + at; c < out->data + out->len; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + ('a' - 'A'));
			i = run;
			continue;
		}
		if (u[i] < 0x80)
			return -1; /* a control character */
		k = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0)
			return -1;
		n = utf8proc_decompose_char(cp, d, 32, FOLD_OPTIONS, &last);
		if (n < 0 || n > 32)
			return -1;
		for (utf8proc_ssize_t j = 0; j < n; j++) {
			utf8proc_uint8_t enc[4];
			utf8proc_ssize_t m;

			if (d[j] < 0x20 || (d[j] >= 0x7f && d[j] < 0xa0) ||
			    utf8proc_get_property(d[j])->combining_class != 0)
				return -1;
			m = utf8proc_encode_char(d[j], enc);
			if (m <= 0 || prl_buf_add(out, enc, (size_t)m) < 0)
				return -1;
		}
		i += (size_t)k;
	}
	return 0;
}

char *search_fold(const char *s, size_t len)
{
	struct prl_buf fast = PRL_BUF_INIT, b = PRL_BUF_INIT;
	utf8proc_uint8_t *mapped = NULL;
	const unsigned char *m;
	utf8proc_ssize_t n;
	size_t i;

	if (search_fold_map_fast(s, len, &fast) == 0) {
		m = (const unsigned char *)prl_buf_str(&fast);
		n = (utf8proc_ssize_t)fast.len;
	} else {
		prl_buf_release(&fast); /* what the fast path wrote before it gave up */
		n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &mapped,
				 FOLD_OPTIONS);
		if (n < 0) {
			/* invalid UTF-8 cannot be in the store; as a query, it folds
			 * to nothing rather than failing */
			return strdup("");
		}
		m = mapped;
	}
	/* nothing to replace: the mapped text is the answer */
	if (!memchr(m, 0xc5, (size_t)n) && !memchr(m, 0xc3, (size_t)n) &&
	    !memchr(m, 0xe2, (size_t)n) && !memchr(m, 0xca, (size_t)n)) {
		if (mapped)
			return (char *)mapped;
		return prl_buf_detach(&fast, NULL);
	}
	for (i = 0; i < (size_t)n; i++) {
		const unsigned char *p = m + i;

		if (p[0] == 0xc5 && p[1] == 0x93) { /* œ */
			prl_buf_addstr(&b, "oe");
			i++;
		} else if (p[0] == 0xc3 && p[1] == 0xa6) { /* æ */
			prl_buf_addstr(&b, "ae");
			i++;
		} else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99)) {
			prl_buf_addch(&b, '\''); /* ‘ ’ */
			i += 2;
		} else if (p[0] == 0xca && (p[1] == 0xbc || p[1] == 0xbb)) {
			prl_buf_addch(&b, '\''); /* ʼ ʻ */
			i++;
		} else {
			prl_buf_addch(&b, (char)p[0]);
		}
	}
	free(mapped);
	prl_buf_release(&fast);
	return prl_buf_detach(&b, NULL);
}

static int is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

void search_sound_key(const char *w, char *out, size_t outlen)
{
	size_t n = strlen(w), i = 0, o = 0;

	if (outlen == 0)
		return;
	while (i < n && o + 1 < outlen) {
		const char *p = w + i;
		char c = 0;
		size_t adv = 1;

		if (!strncmp(p, "eau", 3)) {
			c = 'o';
			adv = 3;
		} else if (!strncmp(p, "au", 2)) {
			c = 'o';
			adv = 2;
		} else if (!strncmp(p, "ai", 2) || !strncmp(p, "ei", 2)) {
			c = 'e';
			adv = 2;
		} else if (!strncmp(p, "ou", 2)) {
			c = 'u';
			adv = 2;
		} else if (!strncmp(p, "qu", 2)) {
			c = 'k';
			adv = 2;
		} else if (!strncmp(p, "ch", 2)) {
			c = 'x';
			adv = 2;
		} else if (p[0] == 'c' &&
			   (p[1] == 'a' || p[1] == 'o' || p[1] == 'u' || p[1] == 'k')) {
			c = 'k';
		} else if (p[0] == 'h') {
			c = 0; /* silent */
		} else if (p[0] == 'y') {
			c = 'i';
		} else if (p[0] == '\'' || p[0] == '-') {
			c = 0;
		} else if (p[0] == 's' && o > 0 && is_vowel(out[o - 1]) && is_vowel(p[1])) {
			c = 'z'; /* mésoun, mézoun */
		} else {
			c = p[0];
		}
		i += adv;
		if (c && (o == 0 || out[o - 1] != c))
			out[o++] = c;
	}
	/* silent final letters: -e, -s, -t, -x, -d, -z (mézoun/mézouns) */
	while (o > 2 &&
	       (out[o - 1] == 'e' || out[o - 1] == 's' || out[o - 1] == 't' || out[o - 1] == 'x' ||
		out[o - 1] == 'd' || out[o - 1] == 'z') &&
	       !(out[o - 1] == 'e' && !is_vowel(out[o - 2]) && o <= 3))
		o--;
	out[o] = '\0';
}

int search_edit_distance_within(const char *a, const char *b, int k)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int prev[64], cur[64];

	if (la > 62 || lb > 62)
		return 0;
	if ((la > lb ? la - lb : lb - la) > (size_t)k)
		return 0;
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int rowmin;

		cur[0] = (int)i;
		rowmin = cur[0];
		for (j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			if (cur[j] < rowmin)
				rowmin = cur[j];
		}
		if (rowmin > k)
			return 0;
		memcpy(prev, cur, (lb + 1) * sizeof(int));
	}
	return prev[lb] <= k;
}

static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s = sqlite3_value_text(argv[0]);
	char *f;

	(void)argc;
	if (!s) {
		sqlite3_result_null(ctx);
		return;
	}
	if (!(f = search_fold((const char *)s, (size_t)sqlite3_value_bytes(argv[0])))) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text(ctx, f, -1, free);
}

int search_register_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "prl_fold", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       sql_fold, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -PRL_ESQL;
}
