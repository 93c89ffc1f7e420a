/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Withheld spans as JSON: the one writer of a span's object, for the
 * recording JSON (recording.c) and for the history rows of the change path
 * (withheld.c).  Reading and writing only: the rules that make and serve
 * the muted copies live in withheld.c, above this file.
 *
 * Always holds: everyone may learn that a passage is withheld and where;
 * only staff read why.
 * Expected workload: once per recording JSON; a handful of spans each.
 */
#include "archive-internal.h"

void archive_span_json(struct prl_buf *b, int64_t id, int64_t start, int64_t end,
		       const char *reason, int with_reason)
{
	prl_buf_addf(b, "{\"id\":%lld,\"start_ms\":%lld,\"end_ms\":%lld", (long long)id,
		     (long long)start, (long long)end);
	if (with_reason) {
		prl_buf_addstr(b, ",\"reason\":");
		prl_json_str(b, reason);
	}
	prl_buf_addch(b, '}');
}

int archive_withheld_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			  struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_WITHHELD_OF_REC);
	int rc, first = 1, staff = prl_access_sees_withheld(v);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	prl_buf_addch(out, '[');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!first)
			prl_buf_addch(out, ',');
		first = 0;
		/* everyone may know that a passage is withheld (the player
		 * shows the silence); why is for staff */
		archive_span_json(out, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
				  sqlite3_column_int64(st, 2),
				  (const char *)sqlite3_column_text(st, 3), staff);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "reading withheld spans");
	return prl_buf_addch(out, ']');
}
