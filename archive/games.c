/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Listening games for classes and visitors, drawn from the archive's own
 * material: "Qu'est-ce qu'i dit ?" (hear a sentence, choose its French
 * meaning among four) and "Où qu'ch'est ?" (hear a voice, say where it was
 * recorded).
 *
 * Always holds: a round is drawn from public recordings only, whoever
 * asks (a game is played by anyone, and its rounds are shared by a
 * class), from transcribed segments that touch no withheld passage; the
 * meaning game's answer is the translation said over that segment, its
 * three other choices translations of other segments of a similar length
 * and distinct from it and from each other.  A round never comes from a
 * segment the caller says was played already; when no such round is
 * left, or too little material exists, the answer says so
 * (-PRL_ENOTFOUND) rather than repeat itself.
 * Expected workload: a round a few seconds per player; a draw is a few
 * index lookups from a random segment id, under a millisecond on a
 * million segments where material is not too sparse.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

#define GAME_TRIES 24	  /* random starts before the draw gives up */
#define GAME_SEEN_MAX 500 /* segments a caller may say were played */
#define GAME_CHOICES 4	  /* the answer and three others */
#define GAME_DISTRACTOR_ROWS 12

static int64_t max_segment_id(struct prl_archive *a)
{
	sqlite3_stmt *st = archive_stmt(a, ST_GAME_MAX_SEGMENT);
	int64_t max = 0;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return max;
}

static int64_t random_id(int64_t max)
{
	uint64_t r;

	if (max <= 1)
		return 1;
	randombytes_buf(&r, sizeof(r));
	return 1 + (int64_t)(r % (uint64_t)max);
}

static int was_seen(const int64_t *seen, size_t nseen, int64_t id)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i] == id)
			return 1;
	return 0;
}

struct round {
	int64_t segment_id, recording_id, start_ms, end_ms;
	char *text;	   /* what is said */
	char *translation; /* its translation (meaning game) */
	char *place;	   /* where (where game) */
	double lat, lon;
};

static void round_clear(struct round *r)
{
	free(r->text);
	free(r->translation);
	free(r->place);
	memset(r, 0, sizeof(*r));
}

/* The first playable segment from a random id on (then from the start),
 * skipping those seen.  0 and *out, or -PRL_ENOTFOUND. */
static int draw(struct prl_archive *a, enum stmt_id sid, const int64_t *seen, size_t nseen,
		struct round *out)
{
	sqlite3_stmt *st = archive_stmt(a, sid);
	int64_t max = max_segment_id(a);

	if (!st)
		return -PRL_ESQL;
	for (int t = 0; t < GAME_TRIES; t++) {
		/* the last try walks from the start: a sparse archive is still found */
		int64_t from = t == GAME_TRIES - 1 ? 1 : random_id(max);
		int rc;

		sqlite3_bind_int64(st, 1, from);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);

			if (was_seen(seen, nseen, id) ||
			    (sid == ST_GAME_MEANING && sqlite3_column_type(st, 5) == SQLITE_NULL))
				continue;
			out->segment_id = id;
			out->recording_id = sqlite3_column_int64(st, 1);
			out->start_ms = sqlite3_column_int64(st, 2);
			out->end_ms = sqlite3_column_int64(st, 3);
			out->text = archive_col_strdup(st, 4);
			if (sid == ST_GAME_MEANING) {
				out->translation = archive_col_strdup(st, 5);
			} else {
				out->place = archive_col_strdup(st, 5);
				out->lat = sqlite3_column_double(st, 6);
				out->lon = sqlite3_column_double(st, 7);
			}
			sqlite3_reset(st);
			return out->text ? 0 : -PRL_ENOMEM;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "drawing a round");
		if (from == 1)
			break;
	}
	return archive_fail(a, -PRL_ENOTFOUND,
			    nseen ? "every round this archive has was played"
				  : "too little public, translated material for this game");
}

/* Three translations of other segments, of a length near the answer's,
 * distinct from it and from each other, into choices[1..3]. */
static int distractors(struct prl_archive *a, const struct round *r, char **choices)
{
	sqlite3_stmt *st = archive_stmt(a, ST_GAME_DISTRACTORS);
	int64_t max = max_segment_id(a), len = (int64_t)strlen(r->translation);
	int have = 1;

	if (!st)
		return -PRL_ESQL;
	for (int t = 0; t < GAME_TRIES && have < GAME_CHOICES; t++) {
		/* the bounds widen as tries fail: a small archive still plays */
		int64_t lo = t < GAME_TRIES / 2 ? len / 2 : 0,
			hi = t < GAME_TRIES / 2 ? len * 2 + 8 : INT64_MAX / 2;
		int64_t from = t == GAME_TRIES - 1 ? 1 : random_id(max);
		int rc = SQLITE_DONE;

		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		sqlite3_bind_int64(st, 4, GAME_DISTRACTOR_ROWS);
		while (have < GAME_CHOICES && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *s = (const char *)sqlite3_column_text(st, 0);
			int dup = !s || !strcmp(s, r->translation);

			for (int i = 1; i < have && !dup; i++)
				dup = !strcmp(s, choices[i]);
			if (!dup && !(choices[have++] = strdup(s)))
				rc = SQLITE_NOMEM;
		}
		sqlite3_reset(st);
		if (rc == SQLITE_NOMEM)
			return -PRL_ENOMEM;
	}
	if (have < GAME_CHOICES)
		return archive_fail(a, -PRL_ENOTFOUND,
				    "too little public, translated material for this game");
	return 0;
}

static int meaning_json(struct prl_archive *a, const struct round *r, struct prl_buf *out)
{
	char *choices[GAME_CHOICES] = {NULL};
	unsigned order[GAME_CHOICES] = {0, 1, 2, 3}, answer = 0;
	int ret;

	choices[0] = r->translation;
	if ((ret = distractors(a, r, choices)) == 0) {
		/* the answer's place among the four, drawn fairly */
		for (unsigned i = GAME_CHOICES - 1; i > 0; i--) {
			unsigned j = randombytes_uniform(i + 1), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		prl_buf_addstr(out, ",\"choices\":[");
		for (unsigned i = 0; i < GAME_CHOICES; i++) {
			if (order[i] == 0)
				answer = i;
			prl_buf_addstr(out, i ? "," : "");
			prl_json_str(out, choices[order[i]]);
		}
		ret = prl_buf_addf(out, "],\"answer\":%u", answer);
	}
	for (int i = 1; i < GAME_CHOICES; i++)
		free(choices[i]);
	return ret;
}

/* ,"title","date","place","institution":{short,name} of recording id. */
static int facts_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_GAME_FACTS);
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		static const char *const keys[] = {"title", "date", "place"};

		for (int i = 0; i < 3; i++) {
			prl_buf_addf(out, ",\"%s\":", keys[i]);
			prl_json_str(out, (const char *)sqlite3_column_text(st, i));
		}
		prl_buf_addstr(out, ",\"institution\":{\"short\":");
		prl_json_str(out, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addstr(out, ",\"name\":");
		prl_json_str(out, (const char *)sqlite3_column_text(st, 4));
		ret = prl_buf_addch(out, '}');
	} else if (rc != SQLITE_DONE) {
		ret = archive_sql_fail(a, "reading a round's recording");
	}
	sqlite3_reset(st);
	return ret;
}

int prl_archive_game_round(struct prl_archive *a, const char *game, const int64_t *seen,
			   size_t nseen, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct round r;
	int meaning, ret;

	if (!game || (strcmp(game, "meaning") && strcmp(game, "where")))
		return archive_fail(a, -PRL_EINVAL, "game: 'meaning' or 'where'");
	if (nseen > GAME_SEEN_MAX)
		nseen = GAME_SEEN_MAX;
	meaning = !strcmp(game, "meaning");
	memset(&r, 0, sizeof(r));
	if ((ret = draw(a, meaning ? ST_GAME_MEANING : ST_GAME_WHERE, seen, nseen, &r)) < 0)
		return ret;
	prl_buf_addf(&b,
		     "{\"game\":\"%s\",\"segment_id\":%lld,\"clip\":{\"recording_id\":%lld,"
		     "\"start_ms\":%lld,\"end_ms\":%lld},\"text\":",
		     game, (long long)r.segment_id, (long long)r.recording_id,
		     (long long)r.start_ms, (long long)r.end_ms);
	prl_json_str(&b, r.text);
	if (meaning) {
		prl_buf_addstr(&b, ",\"translation\":");
		prl_json_str(&b, r.translation);
		ret = meaning_json(a, &r, &b);
	} else {
		prl_buf_addstr(&b, ",\"answer\":{\"place\":");
		prl_json_str(&b, r.place);
		ret = prl_buf_addf(&b, ",\"lat\":%.6f,\"lon\":%.6f}", r.lat, r.lon);
	}
	if (ret == 0)
		ret = facts_json(a, r.recording_id, &b);
	if (ret == 0 && (ret = prl_buf_addstr(&b, "}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	round_clear(&r);
	return ret;
}
