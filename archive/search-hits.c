/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search: the answer's rows.  A page of segment ids in the order asked
 * (relevance, archive, date or place), from FTS5 or from the postings in
 * memory; then each hit as JSON with its snippet (matches in <mark>), its
 * keyword in context and the translation of its span; and the hits per
 * recording.
 *
 * Always holds: a translation shown is never a passage withheld from the
 * viewer; a close spelling is named only when a hit written holds it.
 * Expected workload: up to 200 hits per answer, a few statements each.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "archive-internal.h"
#include "search-internal.h"

/* Result sets larger than these are given in archive order: ranking or
 * sorting hundreds of thousands of matches costs far more than it tells
 * anyone (the answer says "order": "archive"). */
#define RANK_UP_TO 5000
#define SORT_UP_TO 50000

const char *const search_order_names[] = {"relevance", "archive", "date", "place"};

enum order search_choose_order(const struct prl_search_opts *o, int64_t total)
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
		sid = search_dated(o) ? ST_SEARCH_PAGE_RANK_DATED
		      : exclude	      ? ST_SEARCH_PAGE_RANK_REST
				      : ST_SEARCH_PAGE_RANK;
		break;
	default:
		sid = search_dated(o) ? ST_SEARCH_PAGE_ROWID_DATED : ST_SEARCH_PAGE_ROWID;
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
		search_bind_dates(st, 6, o);
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
				search_term_add(&p->seen, w);
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

int search_write_hit(struct prl_archive *a, struct plan *p, int64_t sid, int variant, int first,
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

int search_write_groups(struct prl_archive *a, const struct prl_search_opts *o,
			const struct plan *p, const char *expr, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SEARCH_GROUPS);
	int rc, first = 1;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, p->key_below);
	sqlite3_bind_int(st, 3, p->tier_class);
	search_bind_dates(st, 4, o);
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
int search_write_memory_groups(struct prl_archive *a, const struct memory_answer *m,
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
int search_page_of(struct prl_archive *a, struct memory_answer *m, int which,
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
