/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search benchmark, in-process part: runs the query mix written by
 * bench-search through prl_archive_search_json() as an anonymous visitor,
 * and the bare FTS5 query (MATCH ? ORDER BY rank LIMIT 20) on the same
 * index, and prints p50, p99 and the worst query of each.  The HTTP part
 * (bench-search.sh) measures the same mix through the server.  Like the
 * server, it reads the index's postings into memory first, unless
 * BENCH_FTS5_ONLY is set; BENCH_DUMP=file writes every answer there, so
 * that the two ways can be compared answer for answer.
 *
 *   bench-search-query DIR queries.tsv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"

struct timing {
	double ms;
	char what[800];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = ((const struct timing *)a)->ms, y = ((const struct timing *)b)->ms;

	return x < y ? -1 : x > y;
}

static void url_decode(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 1 < n; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};

			out[o++] = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = 0;
}

static void report(const char *who, struct timing *t, size_t n)
{
	qsort(t, n, sizeof(*t), cmp);
	printf("%-22s p50 %7.2f ms   p99 %7.2f ms   worst %7.2f ms (%s)\n", who, t[n / 2].ms,
	       t[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100].ms, t[n - 1].ms, t[n - 1].what);
}

int main(int argc, char **argv)
{
	static struct timing ours[1000], bare[1000];
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_archive *a;
	sqlite3_stmt *st;
	char line[1024];
	size_t n = 0;
	FILE *f, *dump = getenv("BENCH_DUMP") ? fopen(getenv("BENCH_DUMP"), "w") : NULL;

	if (argc < 3 || prl_archive_open(argv[1], 0, &a, &err) < 0 || !(f = fopen(argv[2], "r"))) {
		fprintf(stderr, "usage: bench-search-query DIR queries.tsv (%s)\n",
			prl_buf_str(&err));
		return 2;
	}
	sqlite3_prepare_v2(a->db,
			   "SELECT rowid FROM segment_index WHERE segment_index MATCH ?1"
			   " ORDER BY rank LIMIT 20",
			   -1, &st, NULL);
	{
		/* a server reads the vocabulary once, before its first visitor,
		 * and the index's postings into memory */
		struct prl_search_opts w;
		size_t bytes = 0;
		int64_t rows = 0;
		double t;

		memset(&w, 0, sizeof(w));
		w.query = "warmup";
		prl_archive_search_json(a, &anon, &w, &out);
		t = now();
		if (!getenv("BENCH_FTS5_ONLY"))
			prl_archive_search_keep(a, 1);
		if (prl_archive_search_memory_state(&bytes, &rows, NULL))
			printf("postings read into memory in %.2f s: %lld rows, %.0f MB\n",
			       (now() - t) / 1e3, (long long)rows, (double)bytes / 1048576.0);
	}
	while (n < 1000 && fgets(line, sizeof(line), f)) {
		char *kind = strtok(line, "\t"), *params = strtok(NULL, "\t"),
		     *fts = strtok(NULL, "\n");
		char q[512], place[64] = "", tier[64] = "", *amp;
		struct prl_search_opts o;
		double t;
		int ret;

		if (!kind || !params || !fts)
			continue;
		if ((amp = strstr(params, "&place=")))
			url_decode(amp + 7, place, sizeof(place));
		if ((amp = strstr(params, "&tier=")))
			url_decode(amp + 6, tier, sizeof(tier));
		if ((amp = strchr(params, '&')))
			*amp = 0;
		url_decode(params, q, sizeof(q));
		memset(&o, 0, sizeof(o));
		o.query = q;
		o.place = place[0] ? place : NULL;
		o.tier_type = tier[0] ? tier : NULL;
		prl_buf_reset(&out);
		t = now();
		ret = prl_archive_search_json(a, &anon, &o, &out);
		ours[n].ms = now() - t;
		snprintf(ours[n].what, sizeof(ours[n].what), "%s %s%s%s", kind, q, place, tier);
		if (ret < 0)
			fprintf(stderr, "query %s: %s\n", q, prl_archive_errmsg(a));
		if (dump) /* the answers, to compare two runs */
			fprintf(dump, "%s\n", prl_buf_str(&out));
		t = now();
		sqlite3_bind_text(st, 1, fts, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_reset(st);
		bare[n].ms = now() - t;
		snprintf(bare[n].what, sizeof(bare[n].what), "%s %s", kind, fts);
		n++;
	}
	fclose(f);
	if (dump)
		fclose(dump);
	printf("%zu queries\n", n);
	if (getenv("BENCH_VERBOSE"))
		for (size_t i = 0; i < n; i++)
			printf("%8.2f ms  %8.2f ms bare  %s\n", ours[i].ms, bare[i].ms,
			       ours[i].what);
	report("parlers (in process)", ours, n);
	report("bare FTS5 rank LIMIT 20", bare, n);
	sqlite3_finalize(st);
	prl_buf_release(&out);
	prl_buf_release(&err);
	prl_archive_close(a);
	prl_archive_search_forget();
	return 0;
}
