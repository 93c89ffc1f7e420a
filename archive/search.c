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
 *
 * This file answers a query from its parts: the plan (search-plan.c),
 * the close spellings (search-variants.c), the count (search-count.c), the
 * rows (search-hits.c) and the postings in memory (search-memory.c); and
 * it rebuilds the index.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "search-internal.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 200
#define GROUPS_UP_TO 20000 /* per-recording counts for result sets up to this size */

/* ,"variants":[{term, of}]: the close spellings met in the hits written. */
static void write_variants(struct prl_buf *b, const struct plan *p)
{
	int nv = 0;

	prl_buf_addstr(b, ",\"variants\":[");
	for (size_t i = 0; i < p->q.n; i++)
		for (size_t k = 0; k < p->variant[i].n; k++) {
			size_t m;

			for (m = 0;
			     m < p->seen.n && strcmp(p->seen.items[m], p->variant[i].items[k]); m++)
				;
			if (m == p->seen.n)
				continue;
			prl_buf_addstr(b, nv++ ? ",{\"term\":" : "{\"term\":");
			prl_json_str(b, p->variant[i].items[k]);
			prl_buf_addstr(b, ",\"of\":");
			prl_json_str(b, p->q.items[i].text);
			prl_buf_addch(b, '}');
		}
	prl_buf_addch(b, ']');
}

int prl_archive_search_json(struct prl_archive *a, const struct prl_viewer *v,
			    const struct prl_search_opts *o, struct prl_buf *out)
{
	struct prl_buf exact = PRL_BUF_INIT, any = PRL_BUF_INIT, rest = PRL_BUF_INIT;
	struct prl_buf b = PRL_BUF_INIT, hb = PRL_BUF_INIT;
	struct memory_answer *mem = NULL;
	uint64_t sig;
	int64_t total_exact = 0, total = 0, limit, offset, ids[MAX_LIMIT];
	size_t nids = 0, nexact_ids = 0, i;
	enum order ord = ORDER_RANK;
	struct plan p;
	int ret;

	limit = o->limit > 0 ? (o->limit > MAX_LIMIT ? MAX_LIMIT : o->limit) : DEFAULT_LIMIT;
	offset = o->offset > 0 ? o->offset : 0;
	/* read once: the plan, the count cache and the postings in memory
	 * all describe this state of the index */
	sig = search_index_signature(a);
	if ((ret = archive_filter_institution(a, o->institution)) < 0) {
		memset(&p, 0, sizeof(p));
		goto end;
	}
	if ((ret = search_build_plan(a, v, o, sig, &p)) < 0)
		goto end;
	search_full_expr(&exact, &p, 0);
	if (p.has_variants) {
		search_full_expr(&any, &p, 1);
		/* variant-only hits: match with variants, not without */
		prl_buf_addf(&rest, "(%s) NOT (%s)", any.data, exact.data);
	}
	if (!p.empty_filter && (ret = search_memory_run(a, o, &p, sig, &mem)) < 0)
		goto end;
	if (mem) {
		total_exact = search_memory_total(mem, 1);
		total = search_memory_total(mem, 0);
	} else if (!p.empty_filter) {
		if ((ret = search_count_matches(a, o, &p, sig, exact.data, &total_exact)) < 0)
			goto end;
		total = total_exact;
		if (p.has_variants &&
		    (ret = search_count_matches(a, o, &p, sig, any.data, &total)) < 0)
			goto end;
	}
	/* exact hits first, then the close spellings, each in its order */
	ord = search_choose_order(o, total_exact);
	if (!p.empty_filter && offset < total_exact &&
	    (ret = search_page_of(a, mem, 0, o, &p, ord, exact.data, NULL, offset, limit, ids,
				  &nids)) < 0)
		goto end;
	nexact_ids = nids;
	if (!p.empty_filter && p.has_variants && (int64_t)nids < limit &&
	    offset + (int64_t)nids < total) {
		int64_t voff = offset + (int64_t)nids - total_exact;
		enum order rord = search_choose_order(o, total - total_exact);
		int by_rank = rord == ORDER_RANK && !search_dated(o);

		if ((ret = search_page_of(a, mem, 1, o, &p, rord, by_rank ? any.data : rest.data,
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
		     search_order_names[ord]);
	/* hits first, into their own buffer: the close spellings reported are
	 * those met in them, so a word of a recording the viewer may not read
	 * is never named */
	prl_buf_addstr(&hb, ",\"hits\":[");
	for (i = 0; i < nids; i++)
		if ((ret = search_write_hit(a, &p, ids[i], i >= nexact_ids, i == 0, &hb)) < 0)
			goto end;
	write_variants(&b, &p);
	prl_buf_add(&b, hb.data, hb.len);
	prl_buf_addch(&b, ']');
	if (o->with_groups && total <= GROUPS_UP_TO && !p.empty_filter) {
		if ((ret = mem ? search_write_memory_groups(a, mem, &b)
			       : search_write_groups(
					 a, o, &p, p.has_variants ? any.data : exact.data, &b)) < 0)
			goto end;
	}
	prl_buf_addch(&b, '}');
	ret = prl_buf_add(out, b.data, b.len);
end:
	search_memory_done(mem);
	search_plan_clear(&p);
	prl_buf_release(&exact);
	prl_buf_release(&any);
	prl_buf_release(&rest);
	prl_buf_release(&b);
	prl_buf_release(&hb);
	return ret;
}

/* ---- re-indexing ---- */

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
				    "WHERE r.deleted_at IS NULL ORDER BY k",
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
