/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The home page's featured recordings and institutions, for equal
 * visibility across a network: an order that changes with the day and is
 * never by size, with at most a few slots per institution.
 *
 * Always holds: the same day gives the same order (a permutation of ids
 * keyed by the day's text); only what the viewer may know of is listed.
 * Expected workload: once a day per viewer level (the server keeps it).
 */
#include <stdlib.h>

#include "archive-internal.h"

/* The two seeds of a day: FNV-1a of its text, folded below the prime the
 * statements take residues by; the multiplier is never 0, so each day
 * orders ids by a permutation of its own. */
static void day_seeds(const char *day, int64_t *add, int64_t *mul)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = day ? day : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	*add = (int64_t)(h % 1000003u);
	*mul = (int64_t)((h >> 24) % 2147483646u) + 1;
}

int prl_archive_featured_json(struct prl_archive *a, const struct prl_viewer *v, const char *day,
			      const struct prl_featured_opts *o, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int64_t add, mul, *ids = NULL;
	size_t nids = 0;
	sqlite3_stmt *st;
	int rc, ret = -PRL_ESQL;
	int per = o && o->per_institution > 0 ? o->per_institution : 2;
	int nrec = o && o->recordings > 0 ? o->recordings : 12;
	int ninst = o && o->institutions > 0 ? o->institutions : 12;

	if (nrec > 200)
		nrec = 200;
	day_seeds(day, &add, &mul);
	if (!(st = archive_stmt(a, ST_FEATURED_RECORDINGS)))
		goto end;
	if (!(ids = malloc((size_t)nrec * sizeof(*ids)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	sqlite3_bind_int(st, 1, archive_visible_level(v));
	sqlite3_bind_int64(st, 2, add);
	sqlite3_bind_int64(st, 3, mul);
	sqlite3_bind_int(st, 4, per);
	sqlite3_bind_int(st, 5, nrec);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nids < (size_t)nrec)
		ids[nids++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		archive_sql_fail(a, "choosing the featured recordings");
		goto end;
	}
	prl_buf_addstr(&b, "{\"day\":");
	prl_json_str(&b, day ? day : "");
	prl_buf_addf(&b, ",\"per_institution\":%d,\"recordings\":[", per);
	for (size_t i = 0; i < nids; i++) {
		if (i)
			prl_buf_addch(&b, ',');
		if ((ret = archive_recording_listed(a, v, ids[i], &b)) < 0)
			goto end;
	}
	prl_buf_addstr(&b, "],\"institutions\":[");
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_FEATURED_INSTITUTIONS)))
		goto end;
	sqlite3_bind_int64(st, 1, add);
	sqlite3_bind_int64(st, 2, mul);
	sqlite3_bind_int(st, 3, ninst);
	for (int n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		prl_buf_addstr(&b, n ? ",{\"short\":" : "{\"short\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		archive_json_text_field(&b, "name", st, 1);
		archive_json_text_field(&b, "kind", st, 2);
		archive_json_text_field(&b, "commune", st, 3);
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		archive_sql_fail(a, "choosing the featured institutions");
		goto end;
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	free(ids);
	prl_buf_release(&b);
	return ret;
}
