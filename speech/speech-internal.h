/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers speech, private: the features every part shares, the
 * synthesiser, and the warping.  Only this folder includes this header.
 *
 * Frames are 25 ms windows 10 ms apart, whatever the rate; frame i covers
 * the samples from i * hop.  A frame's features are the log energies of
 * SPEECH_NMEL mel bands between 100 and 4000 Hz (the band a telephone, a
 * cassette and a distant microphone all keep, above mains hum) and the
 * energy of that band in dB.
 */
#ifndef PARLERS_SPEECH_INTERNAL_H
#define PARLERS_SPEECH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "parlers/speech.h"

#define SPEECH_RATE 16000 /* what recordings are analysed at */
#define SPEECH_HOP_MS 10
#define SPEECH_NMEL 26
#define SPEECH_NCEP 12 /* cepstral coefficients c1..c12 used for warping */
#define SPEECH_FMIN 100.0
#define SPEECH_FMAX 4000.0

struct prl_speech_feats {
	size_t n;	/* frames */
	size_t cap;	/* frames allocated */
	float *mel;	/* n * SPEECH_NMEL log mel energies (dB) */
	float *band_db; /* n: energy of 100-4000 Hz in dB */
};

/* ---- features.c ---- */

struct analyser;

/* An analyser of one channel at rate Hz that appends frames to f. */
int analyser_new(struct analyser **out, int rate, struct prl_speech_feats *f);
/* Feeds n samples. Returns 0 or -PRL_ENOMEM. */
int analyser_add(struct analyser *a, const float *x, size_t n);
void analyser_free(struct analyser **a);
/* An empty feature set. */
struct prl_speech_feats *feats_new(void);

/* Cepstra c1..c12 of frame i of f into out (DCT-II of its log mel). */
void feats_cepstrum(const struct prl_speech_feats *f, size_t i, float *out);

/* ---- segment.c ---- */

/* Per frame of f, 1 where speech is, with the options o (defaults
 * filled in).  Returns a new array of f->n bytes, or NULL. */
unsigned char *segment_frames(const struct prl_speech_feats *f,
			      const struct prl_speech_seg_opts *o);

/* ---- synth.c ---- */

/* Synthesises text with espeak-ng's voice for language into a new array
 * of samples at *rate Hz.  Errors: -PRL_ENOTFOUND (no such voice),
 * -PRL_ECODEC, -PRL_ENOMEM, with one line in err. */
int synth_text(const char *language, const char *text, float **samples, size_t *n, int *rate,
	       struct prl_buf *err);

/* ---- dtw.c ---- */

/* One step of a warping path: row i of a matched to row j of b. */
struct dtw_step {
	int32_t i, j;
	float d;     /* their distance */
	int skipped; /* row i of a was passed over at the skip cost */
};

/*
 * The best monotonic path from (0, 0) to (na - 1, nb - 1) between the
 * rows of a (na x dim) and b (nb x dim): Euclidean distance, steps (1,1),
 * (1,0), (0,1).  Multi-resolution: the sequences are halved (by averaging
 * neighbours) until short, the path is found there in full, then at each
 * finer level only within radius cells of the coarser path, so memory and
 * time grow with na + nb, not na * nb.  *path gets a new array of *len
 * steps in order (the caller frees).  skip > 0 caps what a row of a that
 * stays on the same row of b costs: speech in a that b does not hold (an
 * aside) is passed over at that price instead of being forced onto b.
 * Returns 0 or -PRL_ENOMEM.
 */
int dtw_banded(const float *a, size_t na, const float *b, size_t nb, int dim, int radius,
	       float skip, struct dtw_step **path, size_t *len);

#endif
