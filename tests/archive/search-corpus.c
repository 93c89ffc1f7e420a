/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "search-corpus.h"

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 0x9e3779b97f4a7c15ull) >> 33) % n;
}

int search_corpus_exec(struct prl_archive *a, const char *sql)
{
	return sqlite3_exec(a->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static const char *corpus_word(void)
{
	static const char *const words[] = {
		"la",	      "est",	      "de",    "ch'est", "mézoun",  "i",      "l'vuus",
		"byin",	      "d'la",	      "pas",   "mézon",	 "maisoun", "maison", "maisounette",
		"caoud",      "bouonhoumme",  "Pèthe", "MÉZOUN", "cH'Est",  "vuus",   "auspi",
		"grande",     "nou-s-allait", "œuvre", "cœur",	 "p1",	    "s2",     "hardi",
		"caoudement", "mezzoun",      "l'iau", "iau",	 "quique",  "1977",
	};
	size_t n = sizeof(words) / sizeof(words[0]);
	unsigned r = rnd(100);

	return words[r < 50 ? rnd(4) : r < 80 ? rnd(12) : rnd((unsigned)n)];
}

void search_corpus_fill(struct prl_archive *a)
{
	struct prl_buf text = PRL_BUF_INIT, sql = PRL_BUF_INIT;
	sqlite3_stmt *st = NULL;

	rng = 0x2545f4914f6cdd1dull;
	search_corpus_exec(a, "BEGIN");
	search_corpus_exec(a, "INSERT INTO places(name, commune) VALUES ('Hague', 'Beaumont'),"
			      " ('Saire', 'Vaast')");
	search_corpus_exec(a, "INSERT INTO speakers(name) VALUES ('Ann'), ('Bob'), ('Cid')");
	for (int r = 1; r <= 12; r++) {
		prl_buf_reset(&sql);
		prl_buf_addf(
			&sql,
			"INSERT INTO recordings(title, date, place_id, variety, access, "
			"duration_ms,"
			" sample_rate, channels, original_format, original_name, sha256)"
			" VALUES ('Rec %d', '19%02d', %d, '%s', %d, 600000, 48000, 1, 'wav', "
			"'x.wav',"
			" 'sha%d');"
			"INSERT INTO recording_speakers(recording_id, speaker_id) VALUES (%d, %d);",
			r, 50 + r, 1 + r % 2, r % 3 ? "Cotentinais" : "Cauchois", r % 3, r, r,
			1 + r % 3);
		search_corpus_exec(a, sql.data);
		archive_refresh_index_meta(a, r);
		for (int t = 0; t < 2; t++) {
			prl_buf_reset(&sql);
			prl_buf_addf(&sql,
				     "INSERT INTO tiers(recording_id, name, type, ord)"
				     " VALUES (%d, '%s', '%s', %d)",
				     r, t ? "traduction" : "transcription",
				     t ? "translation" : "transcription", t);
			search_corpus_exec(a, sql.data);
		}
	}
	sqlite3_prepare_v2(a->db,
			   "INSERT INTO segments(tier_id, start_ms, end_ms, text, ord)"
			   " VALUES (?1, ?2, ?3, ?4, ?5)",
			   -1, &st, NULL);
	for (int i = 0; i < 900; i++) {
		/* some segments longer than 63 words: positions past the masks */
		int nw = i % 25 == 0 ? 60 + (int)rnd(40) : 1 + (int)rnd(14);

		prl_buf_reset(&text);
		for (int w = 0; w < nw; w++)
			prl_buf_addf(&text, "%s%s", w ? (rnd(9) ? " " : ", ") : "", corpus_word());
		if (i % 50 == 3) /* a phrase past position 63 */
			prl_buf_addstr(&text, " hardi caoudement");
		sqlite3_bind_int(st, 1, 1 + (int)rnd(24));
		sqlite3_bind_int(st, 2, i * 1000);
		sqlite3_bind_int(st, 3, i * 1000 + 900);
		sqlite3_bind_text(st, 4, text.data, (int)text.len, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, i);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	search_corpus_exec(a, "COMMIT");
	prl_buf_release(&text);
	prl_buf_release(&sql);
}

static struct prl_archive *scratch;
static char scratch_dir[256];

static void scratch_remove(void)
{
	char cmd[300];

	prl_archive_close(scratch);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", scratch_dir);
}

struct prl_archive *search_corpus_scratch(const char *who)
{
	struct prl_buf err = PRL_BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	char data[300];

	if (scratch)
		return scratch;
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	snprintf(scratch_dir, sizeof(scratch_dir), "%s/parlers-%s-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", who);
	if (!mkdtemp(scratch_dir))
		abort();
	snprintf(data, sizeof(data), "%s/data", scratch_dir);
	if (prl_archive_open(data, PRL_OPEN_CREATE, &scratch, &err) < 0)
		abort();
	prl_buf_release(&err);
	search_corpus_fill(scratch);
	atexit(scratch_remove);
	return scratch;
}
