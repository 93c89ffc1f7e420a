/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers speech: audio analysis that needs no database.  Audio in,
 * numbers out: the features of a recording, where its speech and its
 * pauses are (segmentation), and where each line of an untimed transcript
 * is said (forced alignment against a voice synthesised from the text).
 *
 * Nothing here knows the archive: the command line and the server call
 * these functions and hand what they return to archive/ to store.  Times
 * are integer milliseconds.  Memory: a recording's features take about
 * 12 MB per hour; alignment adds the warping band, under 200 MB for an
 * hour with 600 lines.
 */
#ifndef PARLERS_SPEECH_H
#define PARLERS_SPEECH_H

#include <stddef.h>
#include <stdint.h>

#include "parlers/common.h"

/* The features of one recording, frame by frame (10 ms apart). */
struct prl_speech_feats;

/*
 * Decodes path (any format transcode reads) and computes its features.
 * *out gets a new handle, freed with prl_speech_feats_free().  Errors:
 * the decoder's (-PRL_EIO, -PRL_EFORMAT, -PRL_ECODEC), -PRL_ENOMEM, with
 * one line in err.
 */
int prl_speech_analyse_file(const char *path, struct prl_speech_feats **out, struct prl_buf *err);
/* The same for n samples of one channel at rate Hz held in memory. */
int prl_speech_analyse(const float *samples, size_t n, int rate, struct prl_speech_feats **out);
void prl_speech_feats_free(struct prl_speech_feats **f);
/* The length the features cover, in milliseconds. */
int64_t prl_speech_duration_ms(const struct prl_speech_feats *f);

/* ---- segmentation ---- */

struct prl_speech_seg_opts {
	int min_pause_ms;    /* shorter pauses are bridged; 0: the default (200) */
	int min_speech_ms;   /* shorter bursts are dropped; 0: the default (120) */
	double threshold_db; /* over the noise floor where speech starts; 0: default (8) */
};

struct prl_span {
	int64_t start_ms;
	int64_t end_ms;
};

/*
 * The stretches of speech in f: band-limited (100-4000 Hz) energy against
 * a noise floor that follows the recording, with hysteresis, then pauses
 * shorter than min_pause bridged and bursts shorter than min_speech
 * dropped.  *spans gets a new array (the caller frees it; NULL when *n is
 * 0).  Returns 0 or -PRL_ENOMEM.
 */
int prl_speech_segment(const struct prl_speech_feats *f, const struct prl_speech_seg_opts *o,
		       struct prl_span **spans, size_t *n);
/* The options with every 0 replaced by its default. */
struct prl_speech_seg_opts prl_speech_seg_defaults(const struct prl_speech_seg_opts *o);

/* ---- transcripts ---- */

#define PRL_SPEECH_LINE_MAX 4096 /* bytes of one transcript line */

/*
 * The lines of a plain-text transcript of len bytes: UTF-8, with or
 * without a byte-order mark, LF or CRLF; blank lines (only spaces) are
 * skipped and each line is trimmed.  *lines gets a new array of new
 * strings (free with prl_speech_lines_free()).  Errors: -PRL_EFORMAT (not
 * UTF-8, a NUL byte, a line over PRL_SPEECH_LINE_MAX), -PRL_EINVAL (no
 * line at all), -PRL_ENOMEM; one line in err.
 */
int prl_speech_lines_parse(const char *data, size_t len, char ***lines, size_t *n,
			   struct prl_buf *err);
void prl_speech_lines_free(char **lines, size_t n);

/* ---- forced alignment ---- */

struct prl_speech_align_opts {
	const char *language;		   /* an espeak-ng voice ("fr", "en"...); NULL: "fr" */
	struct prl_speech_seg_opts pauses; /* how pauses are found for snapping */
	int snap_ms;			   /* how far a boundary moves to a pause; 0: 250 */
	unsigned no_snap : 1;		   /* keep the warped boundaries as they are */
	/* Called now and then, when not NULL: the work done of total, in
	 * steps (a line said, then the warping as one step); for a progress
	 * line or a job's state. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

struct prl_aligned {
	int64_t start_ms;
	int64_t end_ms;
	double confidence; /* 0 (no evidence) to 1 (the voices match well) */
	int doubtful;	   /* confidence under PRL_SPEECH_DOUBTFUL, or a span implausible
			    * for the text's length */
};

#define PRL_SPEECH_DOUBTFUL 0.5

/*
 * Places the n lines, in order, on f: each line is synthesised with
 * espeak-ng, the features of the synthetic and the real speech are warped
 * onto each other (multi-resolution banded DTW over the speech only, so
 * pauses cost nothing), and the boundaries mapped through the path and
 * snapped to a nearby pause.  *out gets n entries (the caller frees).
 * Errors: -PRL_ENOTFOUND (no such voice), -PRL_EINVAL (no speech in the
 * recording, or more text than it can hold), -PRL_ECODEC (synthesis
 * failed), -PRL_ENOMEM; one line in err.
 */
int prl_speech_align(const struct prl_speech_feats *f, char *const *lines, size_t n,
		     const struct prl_speech_align_opts *o, struct prl_aligned **out,
		     struct prl_buf *err);

/* The settings of o as a JSON object (for the record a machine-made tier
 * keeps), appended to b. */
void prl_speech_align_settings_json(const struct prl_speech_align_opts *o, struct prl_buf *b);
void prl_speech_seg_settings_json(const struct prl_speech_seg_opts *o, struct prl_buf *b);

#endif
