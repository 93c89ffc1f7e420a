/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the routes' request bodies (POST and PUT /api/routes):
 * every input is saved, as staff, as a new route and as a replacement of
 * route "r", on a small archive (tests/archive/search-corpus.c).  Each
 * save either writes the route with one history row or refuses it with a
 * sentence and writes nothing; a written route always reads back.  The
 * archive lives in /dev/shm when there is one: saves commit with
 * synchronous=FULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"
#include "search-corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prl_archive *archive;

static void setup(void)
{
	if (archive)
		return;
	archive = search_corpus_scratch("fuzz-route");
	search_corpus_exec(archive, "INSERT INTO parcours(slug, title) VALUES ('r', 'R');"
				    "INSERT INTO parcours_stops(parcours_id, ord, recording_id,"
				    " start_ms, end_ms) VALUES (1, 1, 1, 0, 1000)");
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(archive->db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* One save of data (slug NULL: a new route); checks what it left. */
static void save(const uint8_t *data, size_t size, const char *slug)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf written = PRL_BUF_INIT, out = PRL_BUF_INIT;
	int64_t rows = count("SELECT count(*) FROM parcours_history");
	int64_t stops = count("SELECT count(*) FROM parcours_stops");
	int ret = prl_archive_parcours_save(archive, &staff, slug, (const char *)data, size,
					    &written);

	if (ret < 0) {
		if (!prl_archive_errmsg(archive)[0])
			abort(); /* a refusal always says why */
		if (count("SELECT count(*) FROM parcours_history") != rows ||
		    count("SELECT count(*) FROM parcours_stops") != stops)
			abort(); /* and writes nothing */
	} else {
		if (count("SELECT count(*) FROM parcours_history") != rows + 1)
			abort(); /* a save is one history row */
		if (prl_archive_parcours_json(archive, &staff, prl_buf_str(&written), &out) < 0)
			abort(); /* and reads back */
		if (!slug &&
		    prl_archive_parcours_remove(archive, &staff, prl_buf_str(&written)) < 0)
			abort();
	}
	prl_buf_release(&written);
	prl_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	setup();
	save(data, size, NULL);
	save(data, size, "r");
	return 0;
}
