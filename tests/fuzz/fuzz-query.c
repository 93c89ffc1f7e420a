/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the search query parser.  Whatever a visitor types, the
 * parser either refuses it with a message or gives items whose FTS5 form
 * is valid syntax: each accepted query is run against a small in-memory
 * FTS5 table laid out like the archive's index, and an FTS5 error aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "search-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static sqlite3_stmt *st;

static void setup(void)
{
	if (db)
		return;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "CREATE VIRTUAL TABLE segment_index USING fts5(body, meta,"
			 " tokenize = 'unicode61 remove_diacritics 2');"
			 "INSERT INTO segment_index(rowid, body, meta) VALUES"
			 " (1, 'ch''est la mezoun', 'p1'), (2, 'l''vuus maisoun', 'p2');",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM segment_index WHERE segment_index MATCH ?1",
			       -1, &st, NULL) != SQLITE_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_buf err = PRL_BUF_INIT, expr = PRL_BUF_INIT;
	struct query q;
	size_t i;
	int g;

	setup();
	if (query_parse((const char *)data, size, &q, &err) != 0) {
		if (!err.len)
			abort(); /* a refusal always says why */
		prl_buf_release(&err);
		return 0;
	}
	/* the same shape search.c builds: groups ANDed, items ORed, NOTs last */
	prl_buf_addstr(&expr, "body : (");
	for (g = 0; g < q.ngroups; g++) {
		int first = 1;

		prl_buf_addstr(&expr, g ? " AND (" : "(");
		for (i = 0; i < q.n; i++) {
			if (q.items[i].negated || q.items[i].group != g)
				continue;
			if (!first)
				prl_buf_addstr(&expr, " OR ");
			first = 0;
			query_item_fts(&expr, &q.items[i]);
		}
		prl_buf_addch(&expr, ')');
	}
	for (i = 0; i < q.n; i++)
		if (q.items[i].negated) {
			prl_buf_addstr(&expr, " NOT ");
			query_item_fts(&expr, &q.items[i]);
		}
	prl_buf_addch(&expr, ')');
	sqlite3_bind_text(st, 1, expr.data, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "FTS5 refused %s: %s\n", expr.data, sqlite3_errmsg(db));
		abort();
	}
	sqlite3_reset(st);
	query_clear(&q);
	prl_buf_release(&expr);
	prl_buf_release(&err);
	return 0;
}
