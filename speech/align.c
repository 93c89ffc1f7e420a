/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Forced alignment of an untimed transcript, with no acoustic model: each
 * line is said by espeak-ng, and the synthetic voice is warped onto the
 * recording.
 *
 * Both signals are reduced to their speech (the segmenter's frames for
 * the recording, the frames within 35 dB of each line's loudest for the
 * voice), so that pauses, however long, cost nothing and cannot pull the
 * path.  Each frame becomes 12 cepstral coefficients of its 100-4000 Hz
 * log mel spectrum, normalised to zero mean and unit variance over its
 * own signal: that takes away most of what differs between two voices
 * and two microphones (spectral tilt, level, the channel).  Where a pause
 * was taken out, a mark stands in its place (between lines in the voice,
 * between stretches of speech in the recording: a 13th coefficient that
 * speech frames do not have), so the warping prefers to put a line's ends
 * at a pause.  The best monotonic path between the two (dtw.c,
 * multi-resolution) may pass over speech of the recording at a bounded
 * price; a line runs from where the path leaves its first synthetic frame
 * to where it reaches its last.  A stretch set apart from a line by a long
 * pause that makes the line far slower than the recording's usual pace is
 * left out (an aside the transcript does not hold); a boundary that lands
 * inside speech moves to the nearest pause when one is within snap_ms.
 *
 * Confidence compares the distance along a line's stretch of path with
 * the distance between unrelated frames of the same two signals: a line
 * that was not said, or said very differently, gets little.  A line whose
 * span is implausible for its text's length is flagged as doubtful too.
 *
 * Always holds: the result has one span per line, in order, not
 * overlapping, each at least 10 ms and within the recording.
 * Expected workload: a few minutes to an hour of recording, tens to
 * hundreds of lines; the work is linear in both.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "speech-internal.h"

#define SYNTH_FLOOR_DB 35.0   /* a synthetic frame is speech within this of its line's peak */
#define RADIUS 16	      /* DTW band half-width at each level, in frames */
#define SNAP_PAUSE_MS 60      /* the shortest pause a boundary snaps to */
#define DIM (SPEECH_NCEP + 1) /* the cepstra, and the pause mark */
#define MARK 5.0f	      /* the pause mark's value: as far from speech as unrelated frames */
#define MARKS_SYNTH 3	      /* marks between two lines of the voice */
#define SKIP_SHARE 0.85	      /* passing over a frame costs this share of unrelated frames */
#define ASIDE_PAUSE 50	      /* frames of pause that may set an aside apart from a line */
#define ASIDE_GAIN 0.25	      /* how much nearer the usual pace a line must get to drop one */

struct seq {
	float *x; /* n x DIM */
	size_t n;
	size_t cap;
};

/* Appends a frame: row's cepstra (row NULL: a pause mark). */
static int seq_push(struct seq *s, const float *row)
{
	float *x;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		float *g = realloc(s->x, cap * DIM * sizeof(*g));

		if (!g)
			return -PRL_ENOMEM;
		s->x = g;
		s->cap = cap;
	}
	x = s->x + s->n * DIM;
	if (row) {
		memcpy(x, row, SPEECH_NCEP * sizeof(*row));
		x[SPEECH_NCEP] = 0;
	} else {
		memset(x, 0, SPEECH_NCEP * sizeof(*x));
		x[SPEECH_NCEP] = MARK;
	}
	s->n++;
	return 0;
}

static int is_mark(const struct seq *s, size_t i)
{
	return s->x[i * DIM + SPEECH_NCEP] != 0;
}

/* Zero mean, unit variance per coefficient over the speech frames. */
static void normalise(struct seq *s)
{
	for (int k = 0; k < SPEECH_NCEP; k++) {
		double sum = 0, sq = 0, sd;
		size_t m = 0;

		for (size_t i = 0; i < s->n; i++)
			if (!is_mark(s, i)) {
				sum += s->x[i * DIM + (size_t)k];
				m++;
			}
		if (!m)
			return;
		sum /= (double)m;
		for (size_t i = 0; i < s->n; i++) {
			double d = s->x[i * DIM + (size_t)k] - sum;

			if (!is_mark(s, i))
				sq += d * d;
		}
		sd = sqrt(sq / (double)m);
		if (sd < 1e-6)
			sd = 1;
		for (size_t i = 0; i < s->n; i++)
			if (!is_mark(s, i))
				s->x[i * DIM + (size_t)k] =
					(float)((s->x[i * DIM + (size_t)k] - sum) / sd);
	}
}

void prl_speech_align_settings_json(const struct prl_speech_align_opts *o, struct prl_buf *b)
{
	prl_buf_addstr(b, "{\"language\":");
	prl_json_str(b, o && o->language ? o->language : "fr");
	prl_buf_addf(b, ",\"snap_ms\":%d,\"pauses\":", o && o->snap_ms > 0 ? o->snap_ms : 250);
	prl_speech_seg_settings_json(o ? &o->pauses : NULL, b);
	prl_buf_addf(b, ",\"method\":\"espeak-ng voice, CMVN cepstra, multi-resolution DTW\"}");
}

/* The synthetic voice of every line, as one sequence with pause marks
 * between lines; line k starts at frame first[k] (at least one frame
 * each, then the marks); first[n] is the end. */
static int synth_lines(const char *lang, char *const *lines, size_t n, struct seq *s, size_t *first,
		       const struct prl_speech_align_opts *o, struct prl_buf *err)
{
	float row[SPEECH_NCEP];
	int ret = 0;

	for (size_t k = 0; k < n; k++) {
		struct prl_speech_feats *f = NULL;
		float *x = NULL, peak = -200;
		size_t len = 0, kept = 0;
		int rate = 0;

		for (int m = 0; k > 0 && m < MARKS_SYNTH; m++)
			if ((ret = seq_push(s, NULL)) < 0)
				return ret;
		first[k] = s->n;
		if ((ret = synth_text(lang, lines[k], &x, &len, &rate, err)) < 0)
			return ret;
		ret = prl_speech_analyse(x, len, rate, &f);
		free(x);
		if (ret < 0)
			return ret;
		for (size_t i = 0; i < f->n; i++)
			if (f->band_db[i] > peak)
				peak = f->band_db[i];
		for (size_t i = 0; i < f->n && ret == 0; i++) {
			if (f->band_db[i] < peak - SYNTH_FLOOR_DB)
				continue;
			feats_cepstrum(f, i, row);
			ret = seq_push(s, row);
			kept++;
		}
		/* a line of punctuation says nothing: it still gets one frame */
		if (ret == 0 && kept == 0) {
			memset(row, 0, sizeof(row));
			ret = seq_push(s, row);
		}
		prl_speech_feats_free(&f);
		if (ret < 0)
			return ret;
		if (o && o->progress)
			o->progress(o->progress_ctx, k + 1, n + 1);
	}
	first[n] = s->n;
	return 0;
}

/* The pause (in frames, [*g0, *g1)) nearest to frame at, among the
 * pauses of sp; 0 when none is within reach frames. */
static int nearest_pause(const unsigned char *sp, size_t n, size_t at, size_t reach, size_t *g0,
			 size_t *g1)
{
	for (size_t d = 0; d <= reach; d++) {
		for (int side = 0; side < 2; side++) {
			size_t i;

			if (side == 0 && d > at)
				continue;
			i = side ? at + d : at - d;
			if (i >= n || sp[i])
				continue;
			size_t a = i, b = i;

			while (a > 0 && !sp[a - 1])
				a--;
			while (b < n && !sp[b])
				b++;
			if (a == 0 || b == n)
				continue; /* silence before the first word or after the last */
			*g0 = a;
			*g1 = b;
			return 1;
		}
	}
	return 0;
}

/* The mean distance of unrelated speech frames of a and b (a fixed
 * sample of pairs): the scale of confidence and of the skip cost. */
static int unrelated(const struct seq *a, const struct seq *b, double *out)
{
	size_t pairs = 0;
	double sum = 0;

	for (size_t s = 0; s < 8192; s++) {
		size_t i = (s * 2654435761u) % a->n, j = (s * 40503u + 7) % b->n;
		float d = 0;

		if (is_mark(a, i) || is_mark(b, j))
			continue;
		for (int c = 0; c < SPEECH_NCEP; c++) {
			float t = a->x[i * DIM + (size_t)c] - b->x[j * DIM + (size_t)c];

			d += t * t;
		}
		sum += sqrtf(d);
		pairs++;
	}
	*out = pairs ? sum / (double)pairs : 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* How far line k's pace (span over the voice's length) is from the
 * usual pace, in log units. */
static double off_pace(int64_t start_ms, int64_t end_ms, double voice_frames, double usual)
{
	double said = (double)(end_ms - start_ms) / SPEECH_HOP_MS;

	return fabs(log((said > 1 ? said : 1) / voice_frames) - usual);
}

/*
 * Speech the transcript does not hold (an interviewer's aside) that the
 * warping gave to the line before or after it: when a line's span starts
 * (or ends) with a stretch of speech set apart by a long pause, and the
 * line's pace comes much nearer the recording's usual pace without it,
 * the stretch is left out.  Line k's voice is first[k + 1] - first[k]
 * frames long (its marks included, a constant).
 */
static int drop_asides(struct prl_aligned *res, size_t n, const size_t *first,
		       const unsigned char *sp, size_t nf)
{
	double *pace = malloc(n * sizeof(*pace)), usual;
	size_t k;

	if (!pace)
		return -PRL_ENOMEM;
	for (k = 0; k < n; k++)
		pace[k] = log((double)(res[k].end_ms - res[k].start_ms + SPEECH_HOP_MS) /
			      SPEECH_HOP_MS / (double)(first[k + 1] - first[k]));
	qsort(pace, n, sizeof(*pace), cmp_double);
	usual = pace[n / 2];
	free(pace);
	for (k = 0; k < n; k++) {
		double voice = (double)(first[k + 1] - first[k]);

		for (int side = 0; side < 2; side++) {
			for (;;) {
				size_t s0 = (size_t)(res[k].start_ms / SPEECH_HOP_MS);
				size_t s1 = (size_t)(res[k].end_ms / SPEECH_HOP_MS), i, g0, g1;
				int64_t a, b;

				if (s1 > nf)
					s1 = nf;
				/* the first (side 0) or last (side 1) long pause inside */
				g0 = g1 = 0;
				if (side == 0) {
					for (i = s0; i < s1 && sp[i]; i++)
						;
					for (g0 = i; i < s1 && !sp[i]; i++)
						;
					g1 = i;
				} else {
					for (i = s1; i > s0 && sp[i - 1]; i--)
						;
					for (g1 = i; i > s0 && !sp[i - 1]; i--)
						;
					g0 = i;
				}
				if (g1 - g0 < ASIDE_PAUSE || g0 <= s0 || g1 >= s1)
					break;
				a = side == 0 ? (int64_t)g1 * SPEECH_HOP_MS : res[k].start_ms;
				b = side == 0 ? res[k].end_ms : (int64_t)g0 * SPEECH_HOP_MS;
				if (off_pace(a, b, voice, usual) + ASIDE_GAIN >
				    off_pace(res[k].start_ms, res[k].end_ms, voice, usual))
					break;
				res[k].start_ms = a;
				res[k].end_ms = b;
			}
		}
	}
	return 0;
}

int prl_speech_align(const struct prl_speech_feats *f, char *const *lines, size_t n,
		     const struct prl_speech_align_opts *o, struct prl_aligned **out,
		     struct prl_buf *err)
{
	const char *lang = o && o->language ? o->language : "fr";
	struct prl_speech_seg_opts po = prl_speech_seg_defaults(o ? &o->pauses : NULL);
	struct prl_speech_seg_opts fine = po;
	size_t snap = (size_t)(o && o->snap_ms > 0 ? o->snap_ms : 250) / SPEECH_HOP_MS;
	unsigned char *sp = NULL, *sp_fine = NULL;
	struct seq real = {0}, syn = {0};
	size_t *keep = NULL, *first = NULL, *fi = NULL, *la = NULL, plen = 0, k, i;
	struct dtw_step *path = NULL;
	struct prl_aligned *res = NULL;
	double *dsum = NULL, rand_d = 0;
	size_t *dcnt = NULL;
	float row[SPEECH_NCEP];
	int ret = -PRL_ENOMEM;

	if (n == 0) {
		prl_buf_addstr(err, "no line to align");
		return -PRL_EINVAL;
	}
	if (!(sp = segment_frames(f, &po)))
		goto end;
	fine.min_pause_ms = SNAP_PAUSE_MS;
	if (!(sp_fine = segment_frames(f, &fine)))
		goto end;
	if (!(keep = malloc((2 * f->n + 1) * sizeof(*keep))))
		goto end;
	/* the speech, with a pause mark (one, three for a long pause) in
	 * place of each pause between words */
	for (i = 0; i < f->n; i++) {
		if (!sp[i])
			continue;
		if (real.n > 0 && !sp[i - 1]) {
			size_t g = i;

			while (g > 0 && !sp[g - 1])
				g--;
			for (size_t m = 0; m < (i - g >= 40 ? 3u : 1u); m++) {
				keep[real.n] = g;
				if ((ret = seq_push(&real, NULL)) < 0)
					goto end;
			}
		}
		keep[real.n] = i;
		feats_cepstrum(f, i, row);
		if ((ret = seq_push(&real, row)) < 0)
			goto end;
	}
	if (real.n == 0) {
		ret = -PRL_EINVAL;
		prl_buf_addstr(err, "no speech found in the recording: nothing to align to");
		goto end;
	}
	/* a line needs some speech: 100 ms each at the very least */
	if (real.n < 10 * n) {
		ret = -PRL_EINVAL;
		prl_buf_addf(err,
			     "the transcript has %zu lines but the recording holds only %.1f s of "
			     "speech: more text than it can hold",
			     n, (double)real.n * SPEECH_HOP_MS / 1000.0);
		goto end;
	}
	ret = -PRL_ENOMEM;
	if (!(first = malloc((n + 1) * sizeof(*first))))
		goto end;
	if ((ret = synth_lines(lang, lines, n, &syn, first, o, err)) < 0)
		goto end;
	if (syn.n > 4 * real.n) {
		ret = -PRL_EINVAL;
		prl_buf_addf(
			err,
			"the transcript takes %.0f s to say but the recording holds only %.1f s "
			"of speech: more text than it can hold",
			(double)syn.n * SPEECH_HOP_MS / 1000.0,
			(double)real.n * SPEECH_HOP_MS / 1000.0);
		goto end;
	}
	normalise(&real);
	normalise(&syn);
	if ((ret = unrelated(&real, &syn, &rand_d)) < 0 ||
	    (ret = dtw_banded(real.x, real.n, syn.x, syn.n, DIM, RADIUS,
			      (float)(SKIP_SHARE * rand_d), &path, &plen)) < 0)
		goto end;
	if (o && o->progress)
		o->progress(o->progress_ctx, n + 1, n + 1);
	ret = -PRL_ENOMEM;
	fi = malloc(n * sizeof(*fi));
	la = malloc(n * sizeof(*la));
	dsum = calloc(n, sizeof(*dsum));
	dcnt = calloc(n, sizeof(*dcnt));
	res = calloc(n, sizeof(*res));
	if (!fi || !la || !dsum || !dcnt || !res)
		goto end;
	/* each line's first and last real (kept) frame along the path: where
	 * the path leaves the line's first synthetic frame, and where it
	 * reaches its last, so that speech the path held on either (an aside,
	 * a noise) stays out of the line */
	for (k = 0; k < n; k++) {
		fi[k] = SIZE_MAX;
		la[k] = SIZE_MAX;
	}
	for (size_t s = 0, line = 0; s < plen; s++) {
		size_t j = (size_t)path[s].j, ii = (size_t)path[s].i, last;

		while (line + 1 < n && j >= first[line + 1])
			line++;
		if (is_mark(&syn, j) || is_mark(&real, ii))
			continue;
		if (!path[s].skipped) {
			dsum[line] += path[s].d;
			dcnt[line]++;
		}
		for (last = (line + 1 < n ? first[line + 1] : syn.n) - 1;
		     last > first[line] && is_mark(&syn, last); last--)
			;
		if (j == first[line] && !path[s].skipped)
			fi[line] = ii;
		if (j == last && la[line] == SIZE_MAX)
			la[line] = ii;
	}
	for (k = 0; k < n; k++) {
		if (fi[k] == SIZE_MAX)
			fi[k] = la[k] != SIZE_MAX ? la[k] : 0;
		if (la[k] == SIZE_MAX || la[k] < fi[k])
			la[k] = fi[k];
	}
	for (k = 0; k < n; k++) {
		size_t s0 = keep[fi[k]], s1 = keep[la[k]] + 1;
		double q = dcnt[k] ? dsum[k] / (double)dcnt[k] / rand_d : 1;
		double said = (double)(s1 - s0), text = (double)(first[k + 1] - first[k]);
		double conf = (1.0 - q) / 0.35;

		res[k].start_ms = (int64_t)s0 * SPEECH_HOP_MS;
		res[k].end_ms = (int64_t)s1 * SPEECH_HOP_MS;
		if (conf > 1)
			conf = 1;
		if (conf < 0)
			conf = 0;
		if (said < 0.33 * text || said > 3.0 * text) {
			conf *= 0.5;
			res[k].doubtful = 1;
		}
		res[k].confidence = conf;
		if (conf < PRL_SPEECH_DOUBTFUL)
			res[k].doubtful = 1;
	}
	if ((ret = drop_asides(res, n, first, sp, f->n)) < 0)
		goto end;
	/* boundaries between lines: no overlap, then the nearest pause */
	for (k = 0; k + 1 < n; k++) {
		int64_t b = res[k + 1].start_ms;
		size_t g0, g1, at;

		if (res[k].end_ms > b)
			res[k].end_ms = b;
		/* lines already apart have their pause; only a boundary inside
		 * speech moves */
		if ((!o || !o->no_snap) && res[k + 1].start_ms - res[k].end_ms < 100) {
			at = (size_t)((res[k].end_ms + res[k + 1].start_ms) / 2 / SPEECH_HOP_MS);
			if (at < f->n && nearest_pause(sp_fine, f->n, at, snap, &g0, &g1) &&
			    (int64_t)g0 * SPEECH_HOP_MS > res[k].start_ms &&
			    (int64_t)g1 * SPEECH_HOP_MS < res[k + 1].end_ms) {
				res[k].end_ms = (int64_t)g0 * SPEECH_HOP_MS;
				res[k + 1].start_ms = (int64_t)g1 * SPEECH_HOP_MS;
			}
		}
	}
	/* every span at least one frame, in order */
	for (k = 0; k < n; k++) {
		if (k > 0 && res[k].start_ms < res[k - 1].end_ms)
			res[k].start_ms = res[k - 1].end_ms;
		if (res[k].end_ms <= res[k].start_ms)
			res[k].end_ms = res[k].start_ms + SPEECH_HOP_MS;
	}
	if (res[n - 1].end_ms > prl_speech_duration_ms(f)) {
		/* only when the lines were squeezed against the end */
		for (k = n; k-- > 0;) {
			int64_t lim = k + 1 < n ? res[k + 1].start_ms : prl_speech_duration_ms(f);

			if (res[k].end_ms > lim)
				res[k].end_ms = lim;
			if (res[k].start_ms >= res[k].end_ms)
				res[k].start_ms = res[k].end_ms - SPEECH_HOP_MS;
		}
	}
	*out = res;
	res = NULL;
	ret = 0;
end:
	free(sp);
	free(sp_fine);
	free(keep);
	free(first);
	free(fi);
	free(la);
	free(dsum);
	free(dcnt);
	free(res);
	free(path);
	free(real.x);
	free(syn.x);
	return ret;
}
