/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Differential fuzz target for search.  Every input is a query, asked of
 * a small archive (tests/archive/search-corpus.c) by a visitor and by
 * staff, with options drawn from the input's hash (tier, place, sort,
 * offset, close spellings on or off); each is answered once by FTS5 and
 * once by the postings in memory, and the two answers must be the same
 * bytes.  A refused query must be refused by both with the same message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "search-corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prl_archive *archive;
static char dir[256];

static void remove_archive(void)
{
	char cmd[300];

	prl_archive_search_forget();
	prl_archive_close(archive);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz-search: could not remove %s\n", dir);
}

static void setup(void)
{
	struct prl_buf err = PRL_BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	char data[300];

	if (archive)
		return;
	snprintf(dir, sizeof(dir), "%s/parlers-fuzz-search-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(data, sizeof(data), "%s/data", dir);
	if (prl_archive_open(data, PRL_OPEN_CREATE, &archive, &err) < 0)
		abort();
	search_corpus_fill(archive);
	prl_archive_variants_import_csv(archive, "maisoun,maison\n", strlen("maisoun,maison\n"));
	prl_archive_search_keep(archive, 1);
	if (!prl_archive_search_memory_state(NULL, NULL, NULL))
		abort();
	atexit(remove_archive);
	prl_buf_release(&err);
}

static char *answer(const struct prl_viewer *v, const struct prl_search_opts *o, int memory)
{
	struct prl_buf out = PRL_BUF_INIT;
	int ret;

	archive_search_memory_use(memory);
	ret = prl_archive_search_json(archive, v, o, &out);
	if (ret < 0) {
		prl_buf_reset(&out);
		prl_buf_addf(&out, "error %d: %s", ret, prl_archive_errmsg(archive));
	}
	return prl_buf_detach(&out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tiers[] = {NULL, "transcription", "translation", NULL};
	static const char *const places[] = {NULL, "Hague", NULL, "Saire"};
	const struct prl_viewer viewers[] = {PRL_VIEWER_ANONYMOUS, PRL_VIEWER_STAFF};
	struct prl_search_opts o;
	uint64_t h = 1469598103934665603ull;
	char *q;

	if (size > 1100)
		return 0;
	setup();
	if (!(q = malloc(size + 1)))
		return 0;
	memcpy(q, data, size);
	q[size] = 0;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	memset(&o, 0, sizeof(o));
	o.query = q;
	o.tier_type = tiers[h & 3];
	o.place = places[(h >> 2) & 3];
	o.sort = (enum prl_search_sort)((h >> 4) % 3);
	o.no_variants = (h >> 6) & 1;
	o.offset = (int64_t)((h >> 7) % 4) * 7;
	o.limit = (int64_t)((h >> 9) % 3) * 15;
	o.with_groups = 1;
	for (int v = 0; v < 2; v++) {
		char *fts = answer(&viewers[v], &o, 0), *mem = answer(&viewers[v], &o, 1);

		if (strcmp(fts, mem) != 0) {
			fprintf(stderr,
				"fuzz-search: the answers differ for %s (viewer %d)\n"
				"FTS5:   %s\nmemory: %s\n",
				q, v, fts, mem);
			abort();
		}
		free(fts);
		free(mem);
	}
	free(q);
	return 0;
}
