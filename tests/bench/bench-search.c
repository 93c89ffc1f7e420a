/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Search benchmark, part one: builds an archive of N segments (default
 * 1,000,000) whose words follow a Zipf law, so the commonest words are in
 * most segments, times how long the index takes to build, and writes the
 * fixed mix of 200 queries the HTTP part sends (bench-search.sh).
 *
 *   bench-search DIR [N] > queries.tsv
 *
 * Each query line: kind TAB query-string (URL parameters, already encoded)
 * TAB bare FTS5 expression for the same words.  Recordings are rows written
 * straight into the store (no audio is needed to search text); segments go
 * in through the same statements and triggers as any import.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"

/* recordings the segments are spread over: BENCH_RECORDINGS, else 1000 */
static long nrecordings = 1000;
#define VOCAB 30000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fast, repeatable */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double rndf(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static char *words[VOCAB];
static double cdf[VOCAB];

static const char *const syllables[] = {
	"ma",  "mé", "zou",  "soun", "la",    "ch'", "est", "byin", "caou", "vu",  "us",
	"bè",  "re", "pom",  "mi",   "er",    "hî",  "tre", "vra",  "ic",   "gar", "çon",
	"fil", "le", "mè",   "the",  "pè",    "no",  "ué",  "qu",   "ieu",  "ra",  "tè",
	"ri",  "co", "ume",  "dé",   "bouon", "hou", "mme", "fé",   "cam",  "pa",  "gne",
	"sa",  "lo", "ta",   "vi",   "ll",    "age", "ma",  "rin",  "pê",   "que", "ter",
	"neu", "ve", "foin", "ch",   "aud",   "fro", "id",  "yi",   "vent",
};

static void make_vocabulary(void)
{
	static const char *const top[] = {
		"la",	 "est",	 "de",	   "à",	  "ch'est", "et",  "i",	 "no", "mézoun", "byin",
		"coume", "d'la", "l'vuus", "pas", "tout",   "cha", "en", "le", "nou",	 "y"};
	size_t nsyl = sizeof(syllables) / sizeof(syllables[0]), i;
	double h = 0;

	for (i = 0; i < VOCAB; i++) {
		char w[64] = "";

		if (i < sizeof(top) / sizeof(top[0])) {
			snprintf(w, sizeof(w), "%s", top[i]);
		} else {
			int n = 2 + (int)(rnd() % 3);

			for (int k = 0; k < n; k++)
				strncat(w, syllables[rnd() % nsyl], sizeof(w) - strlen(w) - 1);
			/* distinct spellings, as a transcriber would make them */
			snprintf(w + strlen(w), sizeof(w) - strlen(w), "%c", "aeiounrst"[i % 9]);
		}
		words[i] = strdup(w);
		h += 1.0 / (double)(i + 1);
		cdf[i] = h;
	}
	for (i = 0; i < VOCAB; i++)
		cdf[i] /= h;
}

static const char *zipf_word(void)
{
	double u = rndf();
	size_t lo = 0, hi = VOCAB - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return words[lo];
}

/* Word pairs that occur in the generated text, for phrase queries. */
static char pairs[64][128];
static int npairs;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(struct prl_archive *a, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(a->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench-search: %s: %s\n", sql, err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* One query of the mix on stdout: kind, URL parameters, FTS5 expression. */
static void emit(const char *kind, const char *q, const char *extra, const char *fts)
{
	printf("%s\t", kind);
	for (const unsigned char *p = (const unsigned char *)q; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '*')
			putchar(*p);
		else
			printf("%%%02X", *p);
	}
	printf("%s\t%s\n", extra, fts);
}

int main(int argc, char **argv)
{
	struct prl_buf err = PRL_BUF_INIT, text = PRL_BUF_INIT;
	struct prl_archive *a;
	sqlite3_stmt *rec, *tier, *seg;
	long nseg = argc > 2 ? atol(argv[2]) : 1000000;
	double t0, t1;
	long i;
	long r;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-search DIR [N] > queries.tsv\n");
		return 2;
	}
	if (prl_archive_open(argv[1], PRL_OPEN_CREATE, &a, &err) < 0) {
		fprintf(stderr, "bench-search: %s\n", prl_buf_str(&err));
		return 1;
	}
	if (getenv("BENCH_RECORDINGS") && atol(getenv("BENCH_RECORDINGS")) > 0)
		nrecordings = atol(getenv("BENCH_RECORDINGS"));
	make_vocabulary();
	exec(a, "BEGIN");
	exec(a, "INSERT INTO places(name, commune) VALUES ('La Hague', 'Beaumont-Hague'),"
		" ('Val de Saire', 'Saint-Vaast'), ('Pays de Caux', 'Yvetot'), ('Jersey', "
		"'Saint-Hélier')");
	exec(a, "INSERT INTO speakers(name) VALUES ('A'), ('B'), ('C'), ('D'), ('E')");
	sqlite3_prepare_v2(
		a->db,
		"INSERT INTO recordings(title, date, place_id, variety, access, duration_ms,"
		" sample_rate, channels, original_format, original_name, sha256)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 3600000, 48000, 1, 'wav', 'x.wav', ?1)",
		-1, &rec, NULL);
	sqlite3_prepare_v2(
		a->db, "INSERT INTO tiers(recording_id, name, type, ord) VALUES (?1, ?2, ?3, ?4)",
		-1, &tier, NULL);
	sqlite3_prepare_v2(a->db,
			   "INSERT INTO segments(tier_id, start_ms, end_ms, text, ord) VALUES (?1, "
			   "?2, ?3, ?4, ?5)",
			   -1, &seg, NULL);
	for (r = 1; r <= nrecordings; r++) {
		char title[32], date[16];

		snprintf(title, sizeof(title), "Enquête %ld", r);
		snprintf(date, sizeof(date), "19%02ld", 50 + r % 50);
		sqlite3_bind_text(rec, 1, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(rec, 2, date, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(rec, 3, 1 + r % 4);
		sqlite3_bind_text(rec, 4, r % 3 ? "Cotentinais" : "Cauchois", -1, SQLITE_STATIC);
		sqlite3_bind_int(rec, 5, r % 10 == 0 ? 2 : (r % 10 == 1 ? 1 : 0));
		sqlite3_step(rec);
		sqlite3_reset(rec);
		exec(a, "INSERT INTO recording_speakers(recording_id, speaker_id)"
			" VALUES (last_insert_rowid(), 1 + abs(random()) % 5)");
		archive_refresh_index_meta(a, r);
		for (int t = 0; t < 2; t++) {
			sqlite3_bind_int64(tier, 1, r);
			sqlite3_bind_text(tier, 2, t ? "traduction" : "transcription", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(tier, 3, t ? "translation" : "transcription", -1,
					  SQLITE_STATIC);
			sqlite3_bind_int(tier, 4, t);
			sqlite3_step(tier);
			sqlite3_reset(tier);
		}
	}
	exec(a, "COMMIT");
	t0 = now();
	exec(a, "BEGIN");
	for (i = 0; i < nseg; i++) {
		int nw = 5 + (int)(rnd() % 11);
		/* as imports write them: recording by recording, tier by tier */
		long per = nseg / nrecordings, rr = i / per % nrecordings, k = i % per;
		int tr = k >= per * 3 / 4;

		prl_buf_reset(&text);
		for (int w = 0; w < nw; w++) {
			const char *word = zipf_word();

			/* every 20,000th segment gives the phrase mix a pair it holds */
			if (w == 1 && i % 20000 == 7 && npairs < 64)
				snprintf(pairs[npairs++], sizeof(pairs[0]), "%s %s",
					 strrchr(text.data, ' ') ? strrchr(text.data, ' ') + 1
								 : text.data,
					 word);
			prl_buf_addf(&text, "%s%s", w ? " " : "", word);
		}
		if (tr)
			k -= per * 3 / 4;
		sqlite3_bind_int64(seg, 1, 2 * rr + 1 + tr);
		sqlite3_bind_int64(seg, 2, k * 3000);
		sqlite3_bind_int64(seg, 3, k * 3000 + 2500);
		sqlite3_bind_text(seg, 4, text.data, (int)text.len, SQLITE_STATIC);
		sqlite3_bind_int64(seg, 5, k);
		if (sqlite3_step(seg) != SQLITE_DONE) {
			fprintf(stderr, "bench-search: %s\n", sqlite3_errmsg(a->db));
			return 1;
		}
		sqlite3_reset(seg);
	}
	exec(a, "COMMIT");
	t1 = now();
	fprintf(stderr,
		"import: %ld segments written and indexed as they came in %.1f s (%.0f/s)\n", nseg,
		t1 - t0, (double)nseg / (t1 - t0));
	t0 = now();
	if (prl_archive_reindex(a) < 0) {
		fprintf(stderr, "bench-search: %s\n", prl_archive_errmsg(a));
		return 1;
	}
	t1 = now();
	fprintf(stderr, "index: built from scratch over %ld segments in %.1f s (goal: 20 s)\n",
		nseg, t1 - t0);
	sqlite3_finalize(rec);
	sqlite3_finalize(tier);
	sqlite3_finalize(seg);

	/* the fixed mix of 200 queries */
	rng_state = 42;
	for (i = 0; i < 40; i++) { /* rare words */
		const char *w = words[5000 + rnd() % 25000];

		emit("rare", w, "", w);
	}
	for (i = 0; i < 40; i++) { /* the commonest words */
		const char *w = words[i % 20];

		emit("common", w, "", w);
	}
	for (i = 0; i < 30; i++) { /* phrases: word pairs as they occur in the text */
		char q[160];

		snprintf(q, sizeof(q), "\"%s\"", npairs ? pairs[i % npairs] : "la mezoun");
		emit("phrase", q, "", q);
	}
	for (i = 0; i < 30; i++) { /* prefixes: the first four letters of a word, as in maiso* */
		const char *w = words[100 + rnd() % 2000];
		size_t b = 0;
		char q[32];

		for (int c = 0; c < 4 && w[b]; c++)
			for (b++; ((unsigned char)w[b] & 0xc0) == 0x80; b++)
				;
		snprintf(q, sizeof(q), "%.*s*", (int)b, w);
		emit("prefix", q, "", q);
	}
	for (i = 0; i < 30; i++) { /* a spelling one letter off */
		char q[64];
		const char *w = words[50 + rnd() % 3000];

		snprintf(q, sizeof(q), "%s", w);
		q[strlen(q) - 1] = q[strlen(q) - 1] == 'x' ? 'y' : 'x';
		emit("variant", q, "", q);
	}
	for (i = 0; i < 30; i++) { /* filters */
		const char *w = words[i % 3 ? 5 + rnd() % 500 : rnd() % 20];

		emit("filter", w, i % 2 ? "&place=La%20Hague" : "&tier=translation", w);
	}
	prl_buf_release(&text);
	prl_buf_release(&err);
	prl_archive_close(a);
	for (i = 0; i < VOCAB; i++)
		free(words[i]);
	return 0;
}
