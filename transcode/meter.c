/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * EBU R128 / ITU-R BS.1770-4 loudness with libebur128, the reference meter:
 * gated integrated loudness, loudness range (EBU Tech 3342), true peak and
 * sample peak; and the one gain the access copies get.
 *
 * The work is split in two, because true peak (libebur128 oversamples 4x
 * with a 49-tap polyphase filter) costs about five times the rest of the
 * meter and pass 1 is on the ingest's critical path:
 *
 *  - one libebur128 state over all channels measures loudness and range;
 *  - one single-channel state per channel measures true peak, and is only
 *    fed the stretches of audio that could raise it.  An interpolated
 *    sample is a weighted sum of its 13 neighbours, so it cannot exceed
 *    B times their largest magnitude, B being the largest sum of absolute
 *    coefficients of one filter phase.  A run of 256 samples whose values
 *    (and the 32 before them) are all below running_true_peak / B is
 *    skipped; before the next run that is fed, zeros clear the filter's
 *    memory and the 32 real samples before the run restore it, so every
 *    interpolated value computed is the one an unbroken pass computes, and
 *    every value not computed is provably below the maximum.  The result
 *    is libebur128's true peak to the last digit (checked on every interop
 *    file and on 5-minute masters); on speech-like material most runs are
 *    skipped.
 *
 * The loudness state and the odd channels' true peak run on a worker
 * thread, the even channels' true peak on the caller's (which also
 * decodes and draws the peaks), both reading the same block.  Memory
 * stays bounded whatever the length: libebur128 runs in histogram mode (its
 * block list would grow by some 30 bytes per 100 ms otherwise) and blocks
 * are copied into two buffers that take turns.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ebur128.h>

#include "transcode-internal.h"

#define PREROLL 32 /* samples kept before each block: above the filter's 13 (25 at 2x) */
#ifndef GATE_CHUNK
#define GATE_CHUNK 256 /* samples per skip-or-feed decision (measured best on speech) */
#endif

struct peak_gate {
	ebur128_state *st;   /* one channel, true peak only, owned */
	float tail[PREROLL]; /* the last samples seen, fed or not */
	int have_tail;	     /* tail holds real samples */
	int skipping;	     /* the last block was not fed */
	float *mono;	     /* this channel's samples of the block, owned */
	size_t mono_cap;     /* samples mono holds */
};

struct meter {
	ebur128_state *st;	 /* all channels: I, LRA, sample peak; owned */
	unsigned channels;	 /* interleaved channels fed */
	double bound;		 /* B: interpolated value / max neighbour */
	struct peak_gate *gates; /* one per channel */

	/* the worker: loudness and some channels' true peak (on_worker()) */
	pthread_t tid;	      /* valid while running */
	int running;	      /* the worker was started and not joined */
	pthread_mutex_t mu;   /* guards what follows */
	pthread_cond_t cv;    /* signalled on every change */
	float *buf[2];	      /* blocks taking turns, owned */
	size_t cap[2];	      /* frames each holds */
	size_t len[2];	      /* frames in each */
	unsigned long posted; /* blocks handed to the worker */
	unsigned long taken;  /* blocks it has finished */
	int quit;	      /* no more blocks will come */
	int failed;	      /* the worker ran out of memory */
};

/* BS.1770 weights: LFE is left out, surround and back channels count
 * +1.5 dB, the rest 1.0.  When the file does not say which channel is
 * which, all count 1.0. */
static int bs1770_channel(const AVChannelLayout *layout, unsigned i)
{
	if (layout->order == AV_CHANNEL_ORDER_UNSPEC)
		return EBUR128_LEFT;
	switch (av_channel_layout_channel_from_index(layout, i)) {
	case AV_CHAN_LOW_FREQUENCY:
	case AV_CHAN_LOW_FREQUENCY_2:
		return EBUR128_UNUSED;
	case AV_CHAN_BACK_LEFT:
	case AV_CHAN_BACK_RIGHT:
	case AV_CHAN_BACK_CENTER:
	case AV_CHAN_SIDE_LEFT:
	case AV_CHAN_SIDE_RIGHT:
	case AV_CHAN_TOP_BACK_LEFT:
	case AV_CHAN_TOP_BACK_RIGHT:
	case AV_CHAN_TOP_BACK_CENTER:
	case AV_CHAN_SURROUND_DIRECT_LEFT:
	case AV_CHAN_SURROUND_DIRECT_RIGHT:
		/* The same channels FFmpeg's ebur128 filter weights up, so the
		 * two meters agree on the same file. */
		return EBUR128_LEFT_SURROUND;
	default:
		return EBUR128_LEFT;
	}
}

/* libebur128 oversamples 4x below 96 kHz and 2x below 192 kHz with a
 * 49-tap Hann-windowed sinc; the largest sum of |coefficients| over one
 * phase is 1.864 and 2.307 respectively (rounded up here).  At 192 kHz and
 * above it does not oversample and the true peak is the sample peak. */
static double interpolation_bound(int rate)
{
	if (rate < 96000)
		return 1.87;
	if (rate < 192000)
		return 2.31;
	return 1.0;
}

static int grow(float **buf, size_t *cap, size_t n, size_t width)
{
	float *b;

	if (n <= *cap)
		return 0;
	if (!(b = realloc(*buf, n * width * sizeof(float))))
		return -PRL_ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/* Feeds one channel's n samples (already in g->mono) to its gate,
 * skipping them when they cannot raise the true peak. */
static int gate_chunk(struct meter *m, struct peak_gate *g, const float *mono, size_t n)
{
	static const float zeros[2 * PREROLL];
	float peak = 0, v;
	double tp;
	size_t i;
	int ret = EBUR128_SUCCESS;

	for (i = 0; i < n; i++) {
		v = fabsf(mono[i]);
		if (v > peak)
			peak = v;
	}
	if (g->have_tail)
		for (i = 0; i < PREROLL; i++)
			if (fabsf(g->tail[i]) > peak)
				peak = fabsf(g->tail[i]);
	if (ebur128_true_peak(g->st, 0, &tp) != EBUR128_SUCCESS)
		tp = HUGE_VAL;

	if (m->bound * peak <= tp) {
		g->skipping = 1;
	} else {
		if (g->skipping) {
			ret = ebur128_add_frames_float(g->st, zeros, 2 * PREROLL);
			if (!ret && g->have_tail)
				ret = ebur128_add_frames_float(g->st, g->tail, PREROLL);
			g->skipping = 0;
		}
		if (!ret)
			ret = ebur128_add_frames_float(g->st, mono, n);
	}
	/* Keep the last PREROLL samples, even across short chunks. */
	if (n >= PREROLL) {
		memcpy(g->tail, mono + n - PREROLL, sizeof(g->tail));
	} else {
		memmove(g->tail, g->tail + n, (PREROLL - n) * sizeof(float));
		memcpy(g->tail + PREROLL - n, mono, n * sizeof(float));
	}
	g->have_tail = 1;
	return ret == EBUR128_SUCCESS ? 0 : -PRL_ENOMEM;
}

/* Feeds one channel of n interleaved frames to its gate in short chunks:
 * the shorter the chunk, the more of a loud passage's quieter moments
 * are skipped, until the pre-roll fed on each resumption costs more than
 * it saves. */
static int gate_add(struct meter *m, unsigned c, const float *block, size_t n)
{
	struct peak_gate *g = &m->gates[c];
	size_t i, nch = m->channels;
	int ret = 0;

	if (grow(&g->mono, &g->mono_cap, n, 1) < 0)
		return -PRL_ENOMEM;
	for (i = 0; i < n; i++)
		g->mono[i] = block[i * nch + c];
	for (i = 0; i < n && ret == 0; i += GATE_CHUNK)
		ret = gate_chunk(m, g, g->mono + i, n - i < GATE_CHUNK ? n - i : GATE_CHUNK);
	return ret;
}

/* Which thread measures channel c's true peak: the odd channels go to the
 * worker, beside the loudness state. */
static int on_worker(unsigned c)
{
	return c % 2 == 1;
}

static void *worker(void *arg)
{
	struct meter *m = arg;
	unsigned c;
	int bad;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		const float *block;
		size_t n;

		while (m->taken == m->posted && !m->quit)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->taken == m->posted)
			break;
		block = m->buf[m->taken % 2];
		n = m->len[m->taken % 2];
		pthread_mutex_unlock(&m->mu);

		bad = ebur128_add_frames_float(m->st, block, n) != EBUR128_SUCCESS;
		for (c = 0; c < m->channels && !bad; c++)
			if (on_worker(c))
				bad = gate_add(m, c, block, n) < 0;

		pthread_mutex_lock(&m->mu);
		if (bad)
			m->failed = 1;
		m->taken++;
		pthread_cond_broadcast(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int meter_new(struct meter **out, const AVChannelLayout *layout, int rate)
{
	struct meter *m;
	unsigned i;

	if (!(m = calloc(1, sizeof(*m))))
		return -PRL_ENOMEM;
	m->channels = (unsigned)layout->nb_channels;
	m->bound = interpolation_bound(rate);
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->st = ebur128_init(m->channels, (unsigned long)rate,
			     EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_SAMPLE_PEAK |
				     EBUR128_MODE_HISTOGRAM);
	if (!m->st || !(m->gates = calloc(m->channels, sizeof(*m->gates))))
		goto fail;
	for (i = 0; i < m->channels; i++) {
		m->gates[i].st = ebur128_init(1, (unsigned long)rate,
					      EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_HISTOGRAM);
		if (!m->gates[i].st)
			goto fail;
		ebur128_set_channel(m->st, i, bs1770_channel(layout, i));
	}
	if (pthread_create(&m->tid, NULL, worker, m) != 0)
		goto fail;
	m->running = 1;
	*out = m;
	return 0;
fail:
	meter_free(&m);
	return -PRL_ENOMEM;
}

int meter_add(struct meter *m, const float *data, size_t n)
{
	unsigned long k;
	unsigned c;
	float *block;
	int ret;

	/* Wait until the buffer this block goes into is free again. */
	pthread_mutex_lock(&m->mu);
	while (m->posted - m->taken >= 2)
		pthread_cond_wait(&m->cv, &m->mu);
	ret = m->failed ? -PRL_ENOMEM : 0;
	pthread_mutex_unlock(&m->mu);
	if (ret < 0)
		return ret;

	k = m->posted % 2;
	if ((ret = grow(&m->buf[k], &m->cap[k], n, m->channels)) < 0)
		return ret;
	block = m->buf[k];
	memcpy(block, data, n * m->channels * sizeof(float));
	m->len[k] = n;
	pthread_mutex_lock(&m->mu);
	m->posted++;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);

	for (c = 0; c < m->channels; c++)
		if (!on_worker(c) && (ret = gate_add(m, c, block, n)) < 0)
			return ret;
	return 0;
}

static void stop_worker(struct meter *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->mu);
	m->quit = 1;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->tid, NULL);
	m->running = 0;
}

static double to_db(double linear)
{
	return linear > 0 ? 20 * log10(linear) : -HUGE_VAL;
}

int meter_finish(struct meter *m, struct prl_loudness *out)
{
	double v, tp = 0, sp = 0;
	unsigned i;

	stop_worker(m);
	if (m->failed)
		return -PRL_ENOMEM;
	if (ebur128_loudness_global(m->st, &v) != EBUR128_SUCCESS || !isfinite(v))
		v = -HUGE_VAL;
	out->integrated_lufs = v;
	if (ebur128_loudness_range(m->st, &v) != EBUR128_SUCCESS || !isfinite(v))
		v = 0;
	out->range_lu = v;
	for (i = 0; i < m->channels; i++) {
		if (ebur128_true_peak(m->gates[i].st, 0, &v) == EBUR128_SUCCESS && v > tp)
			tp = v;
		if (ebur128_sample_peak(m->st, i, &v) == EBUR128_SUCCESS && v > sp)
			sp = v;
	}
	/* Skipped blocks are below the true peak, but a channel whose blocks
	 * were all skipped (digital silence) has a true peak of 0: the
	 * sample peak is then the answer, and it never exceeds true peak. */
	if (sp > tp)
		tp = sp;
	out->true_peak_dbtp = to_db(tp);
	out->sample_peak_dbfs = to_db(sp);
	return 0;
}

void meter_free(struct meter **pm)
{
	struct meter *m;
	unsigned i;

	if (!pm || !(m = *pm))
		return;
	stop_worker(m);
	if (m->gates) {
		for (i = 0; i < m->channels; i++) {
			if (m->gates[i].st)
				ebur128_destroy(&m->gates[i].st);
			free(m->gates[i].mono);
		}
		free(m->gates);
	}
	if (m->st)
		ebur128_destroy(&m->st);
	free(m->buf[0]);
	free(m->buf[1]);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
	*pm = NULL;
}

double prl_gain_for(const struct prl_loudness *l, double target_lufs, double max_tp)
{
	double gain;

	/* Silence (or audio too quiet to pass the -70 LUFS gate) has no
	 * loudness to correct: leave it as it is rather than amplify noise. */
	if (!l || !isfinite(l->integrated_lufs))
		return 0;
	gain = target_lufs - l->integrated_lufs;
	/* One linear gain and nothing else: when reaching the target would
	 * push the loudest true peak above max_tp, stop short of it instead of
	 * limiting, so the copy stays the same performance, only quieter. */
	if (isfinite(l->true_peak_dbtp) && l->true_peak_dbtp + gain > max_tp)
		gain = max_tp - l->true_peak_dbtp;
	return gain;
}
