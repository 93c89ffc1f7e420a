/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The search query parser.  What a visitor types never reaches FTS5 as
 * syntax: every term is folded and written as a quoted FTS5 string, so no
 * input, however odd (unbalanced quotes, NEAR(, a lone *, SQL), can raise
 * an FTS5 syntax error.  Operators are recognised only in the forms the
 * help describes; anything else is text.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "search-internal.h"

void query_clear(struct query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->items[i].text);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

/* True when the folded text holds something the tokenizer keeps. */
static int has_token_chars(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int add_item(struct query *q, enum query_kind kind, const char *raw, size_t len, int negated,
		    int group)
{
	struct query_item *g;
	char *folded;

	if (!(folded = search_fold(raw, len)))
		return -PRL_ENOMEM;
	if (!has_token_chars(folded)) {
		free(folded);
		return 0; /* punctuation alone: nothing to look for */
	}
	/* a prefix of one or two letters would match half the archive: it is
	 * taken as the word it is */
	if (kind == QUERY_PREFIX && utf8_chars(folded) < 3)
		kind = QUERY_WORD;
	if (q->n == QUERY_MAX_ITEMS) {
		free(folded);
		return 0;
	}
	if (!(g = realloc(q->items, (q->n + 1) * sizeof(*g)))) {
		free(folded);
		return -PRL_ENOMEM;
	}
	q->items = g;
	g[q->n].kind = kind;
	g[q->n].text = folded;
	g[q->n].negated = negated;
	g[q->n].group = group;
	q->n++;
	return 1;
}

int query_parse(const char *s, size_t len, struct query *q, struct prl_buf *err)
{
	struct query out = {NULL, 0, 0};
	size_t i = 0;
	int gi, pending_or = 0, pending_not = 0, ret = 0, positives = 0;

	if (len > QUERY_MAX_BYTES) {
		prl_buf_addf(err, "the query is too long (at most %d characters)", QUERY_MAX_BYTES);
		return -PRL_EINVAL;
	}
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t start, end;
		enum query_kind kind = QUERY_WORD;
		int negated = pending_not;

		if (c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == '+' || c == ',') {
			i++;
			continue;
		}
		if (c == '-' && i + 1 < len && s[i + 1] != ' ') {
			negated = 1;
			i++;
			c = (unsigned char)s[i];
		}
		if (c == '"') {
			start = ++i;
			while (i < len && s[i] != '"')
				i++;
			end = i;
			if (i < len)
				i++; /* the closing quote; a missing one closes at the end */
			kind = QUERY_PHRASE;
		} else {
			start = i;
			while (i < len && (unsigned char)s[i] > ' ' && s[i] != '"' && s[i] != '(' &&
			       s[i] != ')')
				i++;
			end = i;
			if (end - start == 2 && !strncmp(s + start, "OR", 2)) {
				pending_or = out.n > 0;
				continue;
			}
			if ((end - start == 3 && !strncmp(s + start, "AND", 3)))
				continue;
			if (end - start == 3 && !strncmp(s + start, "NOT", 3)) {
				pending_not = 1;
				continue;
			}
			if (end > start && s[end - 1] == '*') {
				while (end > start && s[end - 1] == '*')
					end--;
				kind = QUERY_PREFIX;
			}
		}
		pending_not = 0;
		if (end == start)
			continue;
		/* OR joins this item to the previous one's group */
		if (negated)
			gi = -1;
		else if (pending_or && out.n && !out.items[out.n - 1].negated)
			gi = out.items[out.n - 1].group;
		else
			gi = out.ngroups;
		pending_or = 0;
		if ((ret = add_item(&out, kind, s + start, end - start, negated, gi)) < 0)
			goto fail;
		if (ret > 0 && !negated) {
			positives++;
			if (gi == out.ngroups)
				out.ngroups++;
		}
	}
	if (out.n == 0) {
		prl_buf_addstr(err, "the query is empty: type one or more words");
		ret = -PRL_EINVAL;
		goto fail;
	}
	if (positives == 0) {
		prl_buf_addstr(err, "the query only excludes words: add a word to look for");
		ret = -PRL_EINVAL;
		goto fail;
	}
	*q = out;
	return 0;
fail:
	query_clear(&out);
	return ret;
}

void query_item_fts(struct prl_buf *out, const struct query_item *it)
{
	prl_buf_addch(out, '"');
	for (const char *p = it->text; *p; p++) {
		if (*p == '"')
			prl_buf_addch(out, '"');
		prl_buf_addch(out, *p);
	}
	prl_buf_addch(out, '"');
	if (it->kind == QUERY_PREFIX)
		prl_buf_addch(out, '*');
}
