/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Features of one channel of audio, frame by frame: a Hamming window of
 * 25 ms every 10 ms, its power spectrum (FFTW), log mel energies between
 * 100 and 4000 Hz, and the energy of that band.  Samples stream in, so an
 * hour of audio needs only its features in memory (about 108 bytes per
 * frame, 39 MB an hour).
 *
 * Always holds: frame i starts at sample i * hop; the features do not
 * depend on how the samples were split into calls.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "parlers/transcode.h"
#include "speech-internal.h"

struct analyser {
	int rate;
	size_t hop, win, nfft;
	float *window;		    /* win */
	float *buf;		    /* pending samples */
	size_t have;		    /* samples pending in buf */
	float *in;		    /* nfft, FFTW's input */
	fftwf_complex *spec;	    /* nfft / 2 + 1 */
	fftwf_plan plan;	    /* in -> spec */
	float *fb;		    /* SPEECH_NMEL x (nfft / 2 + 1) mel weights */
	size_t fb_lo[SPEECH_NMEL];  /* the first bin of each filter with weight */
	size_t fb_hi[SPEECH_NMEL];  /* one past its last */
	size_t band_lo, band_hi;    /* bins of the 100-4000 Hz band */
	float prev;		    /* last sample, for pre-emphasis */
	struct prl_speech_feats *f; /* not owned */
};

struct prl_speech_feats *feats_new(void)
{
	return calloc(1, sizeof(struct prl_speech_feats));
}

void prl_speech_feats_free(struct prl_speech_feats **f)
{
	if (!f || !*f)
		return;
	free((*f)->mel);
	free((*f)->band_db);
	free(*f);
	*f = NULL;
}

int64_t prl_speech_duration_ms(const struct prl_speech_feats *f)
{
	return (int64_t)f->n * SPEECH_HOP_MS;
}

static double hz_to_mel(double hz)
{
	return 2595.0 * log10(1.0 + hz / 700.0);
}

static double mel_to_hz(double mel)
{
	return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
}

void analyser_free(struct analyser **pa)
{
	struct analyser *a;

	if (!pa || !(a = *pa))
		return;
	if (a->plan)
		fftwf_destroy_plan(a->plan);
	fftwf_free(a->in);
	fftwf_free(a->spec);
	free(a->window);
	free(a->buf);
	free(a->fb);
	free(a);
	*pa = NULL;
}

int analyser_new(struct analyser **out, int rate, struct prl_speech_feats *f)
{
	struct analyser *a = calloc(1, sizeof(*a));
	size_t nbins, i;
	int m;

	if (!a)
		return -PRL_ENOMEM;
	a->rate = rate;
	a->f = f;
	a->hop = (size_t)lround(rate * SPEECH_HOP_MS / 1000.0);
	a->win = (size_t)lround(rate * 0.025);
	for (a->nfft = 256; a->nfft < a->win; a->nfft *= 2)
		;
	nbins = a->nfft / 2 + 1;
	a->window = malloc(a->win * sizeof(*a->window));
	a->buf = malloc(a->win * sizeof(*a->buf));
	a->in = fftwf_alloc_real(a->nfft);
	a->spec = fftwf_alloc_complex(nbins);
	a->fb = calloc(SPEECH_NMEL * nbins, sizeof(*a->fb));
	if (!a->window || !a->buf || !a->in || !a->spec || !a->fb) {
		analyser_free(&a);
		return -PRL_ENOMEM;
	}
	/* FFTW's planner keeps global state and is not thread-safe; one
	 * analysis at a time runs in a process (the CLI, or the server's
	 * one job), and ESTIMATE plans in microseconds */
	a->plan = fftwf_plan_dft_r2c_1d((int)a->nfft, a->in, a->spec, FFTW_ESTIMATE);
	if (!a->plan) {
		analyser_free(&a);
		return -PRL_ENOMEM;
	}
	for (i = 0; i < a->win; i++)
		a->window[i] =
			(float)(0.54 - 0.46 * cos(2 * M_PI * (double)i / (double)(a->win - 1)));
	/* triangular filters evenly spaced on the mel scale */
	{
		double lo = hz_to_mel(SPEECH_FMIN), hi = hz_to_mel(SPEECH_FMAX);
		double hz_per_bin = (double)rate / (double)a->nfft;

		for (m = 0; m < SPEECH_NMEL; m++) {
			double f0 = mel_to_hz(lo + (hi - lo) * m / (SPEECH_NMEL + 1));
			double f1 = mel_to_hz(lo + (hi - lo) * (m + 1) / (SPEECH_NMEL + 1));
			double f2 = mel_to_hz(lo + (hi - lo) * (m + 2) / (SPEECH_NMEL + 1));

			for (i = 0; i < nbins; i++) {
				double hz = (double)i * hz_per_bin, w = 0;

				if (hz > f0 && hz < f1)
					w = (hz - f0) / (f1 - f0);
				else if (hz >= f1 && hz < f2)
					w = (f2 - hz) / (f2 - f1);
				a->fb[(size_t)m * nbins + i] = (float)w;
				if (w > 0 && !a->fb_hi[m])
					a->fb_lo[m] = i;
				if (w > 0)
					a->fb_hi[m] = i + 1;
			}
		}
		a->band_lo = (size_t)ceil(SPEECH_FMIN / hz_per_bin);
		a->band_hi = (size_t)floor(SPEECH_FMAX / hz_per_bin);
		if (a->band_hi >= nbins)
			a->band_hi = nbins - 1;
	}
	*out = a;
	return 0;
}

static int feats_grow(struct prl_speech_feats *f)
{
	size_t cap = f->cap ? f->cap * 2 : 4096;
	float *mel = realloc(f->mel, cap * SPEECH_NMEL * sizeof(*mel));
	float *band;

	if (!mel)
		return -PRL_ENOMEM;
	f->mel = mel;
	if (!(band = realloc(f->band_db, cap * sizeof(*band))))
		return -PRL_ENOMEM;
	f->band_db = band;
	f->cap = cap;
	return 0;
}

/* One frame from a->buf[0..win). */
static int frame(struct analyser *a)
{
	struct prl_speech_feats *f = a->f;
	size_t nbins = a->nfft / 2 + 1, i;
	double band = 0;
	float *mel;
	int m, ret;

	if (f->n == f->cap && (ret = feats_grow(f)) < 0)
		return ret;
	/* pre-emphasis inside the frame: tilts the spectrum towards the
	 * consonants and away from hum, as speech features usually do */
	a->in[0] = a->window[0] * a->buf[0];
	for (i = 1; i < a->win; i++)
		a->in[i] = a->window[i] * (a->buf[i] - 0.97f * a->buf[i - 1]);
	memset(a->in + a->win, 0, (a->nfft - a->win) * sizeof(*a->in));
	fftwf_execute(a->plan);
	/* power, normalised by the window so rates compare */
	for (i = 0; i < nbins; i++) {
		float re = a->spec[i][0], im = a->spec[i][1];

		a->in[i] = (re * re + im * im) / (float)a->win;
	}
	for (i = a->band_lo; i <= a->band_hi; i++)
		band += a->in[i];
	mel = f->mel + f->n * SPEECH_NMEL;
	for (m = 0; m < SPEECH_NMEL; m++) {
		const float *w = a->fb + (size_t)m * nbins;
		double e = 0;

		for (i = a->fb_lo[m]; i < a->fb_hi[m]; i++)
			e += w[i] * a->in[i];
		mel[m] = (float)(10.0 * log10(e + 1e-10));
	}
	f->band_db[f->n] = (float)(10.0 * log10(band + 1e-10));
	f->n++;
	return 0;
}

int analyser_add(struct analyser *a, const float *x, size_t n)
{
	int ret;

	while (n > 0) {
		size_t take = a->win - a->have;

		if (take > n)
			take = n;
		memcpy(a->buf + a->have, x, take * sizeof(*x));
		a->have += take;
		x += take;
		n -= take;
		if (a->have < a->win)
			break;
		if ((ret = frame(a)) < 0)
			return ret;
		memmove(a->buf, a->buf + a->hop, (a->win - a->hop) * sizeof(*a->buf));
		a->have = a->win - a->hop;
	}
	return 0;
}

int prl_speech_analyse(const float *samples, size_t n, int rate, struct prl_speech_feats **out)
{
	struct prl_speech_feats *f = feats_new();
	struct analyser *a = NULL;
	int ret;

	if (!f)
		return -PRL_ENOMEM;
	if ((ret = analyser_new(&a, rate, f)) < 0 || (ret = analyser_add(a, samples, n)) < 0)
		goto end;
	*out = f;
	f = NULL;
end:
	analyser_free(&a);
	prl_speech_feats_free(&f);
	return ret;
}

static int sink(void *ctx, const float *x, size_t n)
{
	return analyser_add(ctx, x, n);
}

int prl_speech_analyse_file(const char *path, struct prl_speech_feats **out, struct prl_buf *err)
{
	struct prl_speech_feats *f = feats_new();
	struct analyser *a = NULL;
	int ret;

	if (!f)
		return -PRL_ENOMEM;
	if ((ret = analyser_new(&a, SPEECH_RATE, f)) < 0)
		goto end;
	if ((ret = prl_audio_read_mono(path, SPEECH_RATE, sink, a, NULL, err)) < 0)
		goto end;
	*out = f;
	f = NULL;
end:
	analyser_free(&a);
	prl_speech_feats_free(&f);
	return ret;
}

static float dct[SPEECH_NCEP][SPEECH_NMEL];
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void dct_init(void)
{
	for (int k = 0; k < SPEECH_NCEP; k++)
		for (int m = 0; m < SPEECH_NMEL; m++)
			dct[k][m] = (float)cos(M_PI * (k + 1) * (m + 0.5) / SPEECH_NMEL);
}

void feats_cepstrum(const struct prl_speech_feats *f, size_t i, float *out)
{
	const float *mel = f->mel + i * SPEECH_NMEL;
	int k, m;

	pthread_once(&dct_once, dct_init);
	for (k = 0; k < SPEECH_NCEP; k++) {
		float s = 0;

		for (m = 0; m < SPEECH_NMEL; m++)
			s += dct[k][m] * mel[m];
		out[k] = s;
	}
}
