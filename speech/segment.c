/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Speech and pauses: which 10 ms frames of a recording hold speech.
 *
 * Field recordings hiss, hum, click, and change level as the microphone
 * moves, so no fixed level separates speech from pause.  The energy of
 * the 100-4000 Hz band (above mains hum and its first harmonics, below
 * most hiss) is compared with a noise floor that follows the recording:
 * the quiet end (a low percentile) of each half second, the lowest of
 * those within a few seconds around.  A frame starts speech when it rises
 * threshold dB over that floor and speech goes on until the energy falls
 * below a lower mark (hysteresis); frames far under the loudest speech are
 * never speech.  Then the edges are widened a little (the first and last
 * sounds of a breath group are weak), pauses shorter than min_pause are
 * bridged and bursts shorter than min_speech (clicks, a cough) dropped.
 *
 * Always holds: spans are in order, do not overlap, and lie within the
 * recording; the result depends only on the features and the options.
 * Work and memory are linear in the number of frames.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speech-internal.h"

#define BLOCK 50	  /* frames per floor estimate (0.5 s) */
#define FLOOR_REACH 10	  /* blocks either side whose lowest is the floor (5 s) */
#define HYSTERESIS_DB 4.0 /* speech goes on until this far under the threshold */
#define BELOW_PEAK_DB 50  /* never speech this far under the loudest speech */
#define PAD_BEFORE 3	  /* frames added before each stretch */
#define PAD_AFTER 5	  /* frames added after each stretch */

struct prl_speech_seg_opts prl_speech_seg_defaults(const struct prl_speech_seg_opts *o)
{
	struct prl_speech_seg_opts d = {200, 120, 8.0};

	if (o) {
		if (o->min_pause_ms > 0)
			d.min_pause_ms = o->min_pause_ms;
		if (o->min_speech_ms > 0)
			d.min_speech_ms = o->min_speech_ms;
		if (o->threshold_db > 0)
			d.threshold_db = o->threshold_db;
	}
	return d;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The value at fraction q of the n values of v (sorted copy in tmp). */
static float quantile(const float *v, size_t n, double q, float *tmp)
{
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_float);
	return tmp[(size_t)(q * (double)(n - 1))];
}

unsigned char *segment_frames(const struct prl_speech_feats *f,
			      const struct prl_speech_seg_opts *opts)
{
	struct prl_speech_seg_opts o = prl_speech_seg_defaults(opts);
	size_t n = f->n, nb = (n + BLOCK - 1) / BLOCK, i, b, run;
	float *low = NULL, *floor_b = NULL, *tmp = NULL, peak;
	unsigned char *sp = NULL, *out = NULL;
	size_t min_pause = (size_t)o.min_pause_ms / SPEECH_HOP_MS;
	size_t min_speech = (size_t)o.min_speech_ms / SPEECH_HOP_MS;
	int on = 0;

	if (!(out = calloc(n ? n : 1, 1)))
		return NULL;
	if (n == 0)
		return out;
	low = malloc(nb * sizeof(*low));
	floor_b = malloc(nb * sizeof(*floor_b));
	tmp = malloc((n > BLOCK ? n : BLOCK) * sizeof(*tmp));
	sp = calloc(n, 1);
	if (!low || !floor_b || !tmp || !sp) {
		free(out);
		out = NULL;
		goto end;
	}
	for (b = 0; b < nb; b++) {
		size_t from = b * BLOCK, len = from + BLOCK <= n ? BLOCK : n - from;

		low[b] = quantile(f->band_db + from, len, 0.1, tmp);
	}
	for (b = 0; b < nb; b++) {
		size_t lo = b >= FLOOR_REACH ? b - FLOOR_REACH : 0;
		size_t hi = b + FLOOR_REACH < nb ? b + FLOOR_REACH : nb - 1;
		float m = low[lo];

		for (size_t k = lo + 1; k <= hi; k++)
			if (low[k] < m)
				m = low[k];
		floor_b[b] = m;
	}
	peak = quantile(f->band_db, n, 0.98, tmp);
	for (i = 0; i < n; i++) {
		/* the floor between block centres, linearly, so it has no steps */
		double pos = ((double)i - BLOCK / 2.0) / BLOCK, fl;
		size_t b0 = pos <= 0 ? 0 : (size_t)pos;
		size_t b1 = b0 + 1 < nb ? b0 + 1 : b0;
		double t = pos <= 0 ? 0 : pos - (double)b0;
		double e = f->band_db[i];

		fl = floor_b[b0] * (1 - t) + floor_b[b1] * t;
		if (e < peak - BELOW_PEAK_DB)
			on = 0;
		else if (on)
			on = e > fl + o.threshold_db - HYSTERESIS_DB;
		else
			on = e > fl + o.threshold_db;
		sp[i] = (unsigned char)on;
	}
	/* widen each stretch */
	for (i = 0; i < n; i++) {
		if (!sp[i])
			continue;
		size_t lo = i >= PAD_BEFORE ? i - PAD_BEFORE : 0;
		size_t hi = i + PAD_AFTER < n ? i + PAD_AFTER : n - 1;

		for (size_t k = lo; k <= hi; k++)
			out[k] = 1;
	}
	/* bridge short pauses (not at the very start or end) */
	for (i = 0; i < n;) {
		if (out[i]) {
			i++;
			continue;
		}
		for (run = i; run < n && !out[run]; run++)
			;
		if (i > 0 && run < n && run - i < min_pause)
			memset(out + i, 1, run - i);
		i = run;
	}
	/* drop short bursts */
	for (i = 0; i < n;) {
		if (!out[i]) {
			i++;
			continue;
		}
		for (run = i; run < n && out[run]; run++)
			;
		if (run - i < min_speech)
			memset(out + i, 0, run - i);
		i = run;
	}
end:
	free(low);
	free(floor_b);
	free(tmp);
	free(sp);
	return out;
}

int prl_speech_segment(const struct prl_speech_feats *f, const struct prl_speech_seg_opts *o,
		       struct prl_span **spans, size_t *count)
{
	unsigned char *sp = segment_frames(f, o);
	struct prl_span *v = NULL;
	size_t n = 0, cap = 0, i, j;

	if (!sp)
		return -PRL_ENOMEM;
	for (i = 0; i < f->n;) {
		if (!sp[i]) {
			i++;
			continue;
		}
		for (j = i; j < f->n && sp[j]; j++)
			;
		if (n == cap) {
			struct prl_span *g;

			cap = cap ? cap * 2 : 64;
			if (!(g = realloc(v, cap * sizeof(*v)))) {
				free(v);
				free(sp);
				return -PRL_ENOMEM;
			}
			v = g;
		}
		v[n].start_ms = (int64_t)i * SPEECH_HOP_MS;
		v[n].end_ms = (int64_t)j * SPEECH_HOP_MS;
		n++;
		i = j;
	}
	free(sp);
	*spans = v;
	*count = n;
	return 0;
}

void prl_speech_seg_settings_json(const struct prl_speech_seg_opts *opts, struct prl_buf *b)
{
	struct prl_speech_seg_opts o = prl_speech_seg_defaults(opts);

	prl_buf_addf(b, "{\"min_pause_ms\":%d,\"min_speech_ms\":%d,\"threshold_db\":%.1f}",
		     o.min_pause_ms, o.min_speech_ms, o.threshold_db);
}
