/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search: the query plan.  A parsed query (query.c) with, for each word,
 * its equivalent forms and close spellings (search-variants.c), the
 * filters as FTS5 meta tokens and the access rule as a bound on the
 * index's rowids; and the FTS5 expression that says all of it.
 *
 * Always holds: no visitor text is ever FTS5 syntax (every term is a
 * quoted string); a viewer's plan never reaches a row above the access
 * levels they may read.
 * Expected workload: once per query, a few statements.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "search-internal.h"

/* ---- building the FTS5 expressions ---- */

void search_plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->q.n; i++) {
		if (p->exact)
			search_term_list_clear(&p->exact[i]);
		if (p->variant)
			search_term_list_clear(&p->variant[i]);
	}
	free(p->exact);
	free(p->variant);
	search_vocab_free(p->vocab);
	search_term_list_clear(&p->seen);
	for (int f = 0; f < p->nfilters; f++)
		search_term_list_clear(&p->filters[f]);
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
void search_full_expr(struct prl_buf *out, const struct plan *p, int with_variants)
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
		if (search_term_add(&p->filters[p->nfilters], token) < 0) {
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
	ret = search_term_add(&p->filters[p->nfilters++], prl_buf_str(&token));
	prl_buf_release(&token);
	return ret < 0 ? ret : 0;
}

int search_build_plan(struct prl_archive *a, const struct prl_viewer *v,
		      const struct prl_search_opts *o, uint64_t sig, struct plan *p)
{
	struct prl_buf perr = PRL_BUF_INIT;
	struct search_vocab *vocab = NULL;
	int64_t inst = 0;
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
		vocab = p->vocab = search_vocab_get(a, sig);
	for (i = 0; i < p->q.n; i++) {
		const struct query_item *it = &p->q.items[i];

		if (it->kind != QUERY_WORD)
			continue;
		if ((ret = search_add_equivalents(a, it->text, &p->exact[i])) < 0)
			return ret;
		if (it->negated || o->no_variants)
			continue;
		{
			struct term_list mine = {NULL, 0};

			/* the word itself and its equivalents are not variants */
			search_term_add(&mine, it->text);
			for (size_t k = 0; k < p->exact[i].n; k++)
				search_term_add(&mine, p->exact[i].items[k]);
			ret = search_add_close_spellings(vocab, it->text, &mine, &p->variant[i]);
			search_term_list_clear(&mine);
			if (ret < 0)
				return ret;
		}
		if (p->variant[i].n)
			p->has_variants = 1;
	}
	/* the access rule: the levels are the top bits of the index's rowids,
	 * and the levels a viewer may read are always 0..n (see schema.c).  A
	 * search kept to one institution is decided for that institution, so
	 * a researcher granted it reads its restricted transcripts there. */
	if (o->institution && *o->institution &&
	    prl_archive_institution_id(a, o->institution, &inst) < 0)
		inst = 0;
	p->key_below = 0;
	for (int l = PRL_ACCESS_PUBLIC; l <= PRL_ACCESS_PRIVATE; l++) {
		if (prl_access_decide_in(v, (enum prl_access)l, inst) != PRL_SEE_ALL)
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
	    (ret = filter_ids(a, p, ST_FILTER_COLLECTIONS, o->collection, 'c')) < 0 ||
	    (ret = filter_ids(a, p, ST_FILTER_INSTITUTIONS, o->institution, 'i')) < 0)
		return ret;
	return 0;
}
