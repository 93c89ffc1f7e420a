/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The listing an OAI-PMH harvester walks: recordings by update time, a
 * page at a time after the last id given, and the earliest datestamp.
 *
 * Always holds: a harvester is an anonymous visitor; what it may know of
 * comes from prl_access_decide(), never from a level written here.
 * Expected workload: pages of a few hundred rows, as a harvester asks.
 */
#include <stdio.h>

#include "archive-internal.h"

/* The highest level an anonymous visitor may know of, from the one rule. */
static int harvest_level(void)
{
	return archive_visible_level(NULL);
}

int prl_archive_harvest(struct prl_archive *a, const char *from, const char *until,
			int64_t collection_id, int64_t after_id, struct prl_harvest_item *items,
			size_t max, size_t *n, int64_t *total)
{
	sqlite3_stmt *st;
	size_t got = 0;
	int rc;

	for (int pass = total ? 0 : 1; pass < 2; pass++) {
		if (!(st = archive_stmt(a, pass ? ST_HARVEST_PAGE : ST_HARVEST_COUNT)))
			return -PRL_ESQL;
		sqlite3_bind_int(st, 1, harvest_level());
		archive_bind_text(st, 2, from);
		archive_bind_text(st, 3, until);
		sqlite3_bind_int64(st, 4, collection_id);
		sqlite3_bind_int64(st, 5, after_id);
		if (pass)
			sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (!pass) {
				*total = sqlite3_column_int64(st, 0);
				continue;
			}
			if (got >= max)
				continue;
			items[got].id = sqlite3_column_int64(st, 0);
			snprintf(items[got].updated_at, sizeof(items[got].updated_at), "%s",
				 (const char *)sqlite3_column_text(st, 1));
			items[got].collection_id = sqlite3_column_int64(st, 2);
			items[got].deleted = sqlite3_column_int(st, 3);
			got++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "listing recordings to harvest");
	}
	*n = got;
	return 0;
}

int prl_archive_harvest_earliest(struct prl_archive *a, char out[24])
{
	sqlite3_stmt *st = archive_stmt(a, ST_HARVEST_EARLIEST);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int(st, 1, harvest_level());
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "finding the earliest datestamp");
	}
	snprintf(out, 24, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return 0;
}
