/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers transcode: audio in, audio out, no database.
 *
 * Decodes anything libsndfile or libavformat reads, computes the SHA-256 of
 * the original bytes, measures EBU R128 / BS.1770-4 loudness and true peak,
 * computes waveform peaks, and encodes gain-normalised access copies (Ogg
 * Opus at 48 kHz, MP3 at 44.1 or 48 kHz) with one linear gain, never any
 * dynamic processing.  Memory stays bounded whatever the input's length:
 * audio flows through in blocks from a reader to its sinks.
 *
 * Output files are written to the exact paths the caller gives; on failure
 * every output file this module started is removed again.
 */
#ifndef PARLERS_TRANSCODE_H
#define PARLERS_TRANSCODE_H

#include <stdint.h>

#include "parlers/common.h"

/* What the decoder found in a file. */
struct prl_audio_info {
	int sample_rate;	 /* Hz, as stored */
	int channels;		 /* as stored */
	int64_t frames;		 /* decoded sample frames */
	int64_t duration_ms;	 /* frames * 1000 / sample_rate, rounded */
	int64_t declared_frames; /* a truncated file's header promised this many
				  * frames (more than it holds); 0 when whole */
	int bits_per_sample;	 /* stored sample width, 0 for lossy codecs */
	char container[32];	 /* "wav", "rf64", "flac", "mp3", "ogg", "mp4", "aiff"... */
	char codec[48];		 /* "pcm_s24le", "pcm_alaw", "flac", "mp3", "opus", "aac"... */
};

/* One metadata tag read from the file.  Keys are lower case and named the
 * same whatever the container: "title", "artist", "album", "date",
 * "comment", "genre"; BWF gives "bext_description", "bext_originator",
 * "bext_originator_reference", "bext_origination_date",
 * "bext_origination_time". */
struct prl_tag {
	char *key;   /* owned */
	char *value; /* owned, UTF-8 */
};

struct prl_tags {
	struct prl_tag *items; /* owned array */
	size_t count;	       /* items used */
};

/* Frees the tags and empties t. Accepts NULL. */
void prl_tags_clear(struct prl_tags *t);
/* The value for key, or NULL. */
const char *prl_tags_get(const struct prl_tags *t, const char *key);

struct prl_loudness {
	double integrated_lufs;	 /* BS.1770-4 gated integrated loudness; -HUGE_VAL for silence */
	double range_lu;	 /* EBU Tech 3342 loudness range */
	double true_peak_dbtp;	 /* max over channels, 4x oversampled */
	double sample_peak_dbfs; /* max over channels */
};

/* One ingest's work on one file. */
struct prl_transcode_job {
	const char *src_path;	   /* the original; read only */
	const char *opus_path;	   /* Ogg Opus access copy to write, or NULL */
	const char *mp3_path;	   /* MP3 access copy to write, or NULL */
	const char *peaks_path;	   /* waveform peaks file to write, or NULL */
	double target_lufs;	   /* loudness the copies aim at, e.g. -18 */
	double max_true_peak_dbtp; /* the gain never pushes the true peak above this, e.g. -1 */
	/* Called now and then with the work done and to do, in source frames
	 * (each pass counts; total is twice the frames when copies are made). */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
};

struct prl_transcode_result {
	struct prl_audio_info info;
	struct prl_loudness loudness;
	uint8_t sha256[32];   /* of the original file's bytes */
	struct prl_tags tags; /* owned; free with prl_transcode_result_clear() */
	double gain_db;	      /* the one gain applied to the access copies */
	int64_t opus_bytes;   /* size of what was written, 0 when not asked */
	int64_t mp3_bytes;
	int64_t peaks_bytes;
};

void prl_transcode_result_clear(struct prl_transcode_result *r);

/* Runs the job: decode, hash, measure, peaks, then encode the copies.
 * On success fills *res (the caller clears it).  On failure returns a
 * negative prl_err, writes one line saying why into err (when not NULL),
 * and leaves no output file behind. */
int prl_transcode_run(const struct prl_transcode_job *job, struct prl_transcode_result *res,
		      struct prl_buf *err);

/* The kinds of access copy prl_transcode_muted() writes. */
enum prl_copy_kind {
	PRL_COPY_OPUS = 0, /* Ogg Opus, 48 kHz */
	PRL_COPY_MP3 = 1,  /* MP3, 44.1 or 48 kHz */
};

/*
 * Writes to dst_path an access copy of src_path (kind, gain_db applied as
 * ingest applies it) in which the nspans spans of spans_ms (pairs of start
 * and end in milliseconds) are silent.  *bytes gets the copy's size.  On
 * failure returns a negative prl_err, writes one line into err and leaves
 * no file at dst_path.
 */
int prl_transcode_muted(const char *src_path, const char *dst_path, enum prl_copy_kind kind,
			double gain_db, const int64_t *spans_ms, size_t nspans, int64_t *bytes,
			struct prl_buf *err);

/* SHA-256 of a whole file, streamed. Returns 0, -PRL_EIO. */
int prl_sha256_file(const char *path, uint8_t out[32], struct prl_buf *err);
/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void prl_sha256_hex(const uint8_t digest[32], char out[65]);

/*
 * A SHA-256 in progress whose state can be kept and taken up again: an
 * upload that stops after any number of bytes resumes its hash from the
 * saved state instead of reading back what it stored.  The state is plain
 * bytes (PRL_SHA256_STATE_SIZE of them, for a database column or a file);
 * it is only valid for the same build on the same machine, which is where
 * a resumed upload continues.
 */
#define PRL_SHA256_STATE_SIZE 112
struct prl_sha256 {
	union {
		uint64_t align;
		unsigned char bytes[128];
	} u; /* the library's context, opaque here */
};
void prl_sha256_init(struct prl_sha256 *h);
void prl_sha256_update(struct prl_sha256 *h, const void *data, size_t n);
/* The digest of what was given so far; h is left as it was. */
void prl_sha256_peek(const struct prl_sha256 *h, uint8_t out[32]);
/* The state as PRL_SHA256_STATE_SIZE bytes, and back.  _load returns
 * -PRL_EFORMAT for bytes that are not a state _save made. */
void prl_sha256_save(const struct prl_sha256 *h, unsigned char out[PRL_SHA256_STATE_SIZE]);
int prl_sha256_load(struct prl_sha256 *h, const void *state, size_t n);

/* The gain in dB that brings measured loudness to target while keeping the
 * true peak at or under max_tp.  Silence gives 0. */
double prl_gain_for(const struct prl_loudness *l, double target_lufs, double max_tp);

/*
 * Waveform peaks file.  The layout follows BBC audiowaveform's .dat
 * version 2 (little endian int32 fields: version=2, flags (0: 16-bit
 * samples), sample_rate, samples_per_pixel, length (pixels), channels=1,
 * then length min/max int16 pairs), with one such block per zoom level,
 * finest first, one after the other in the same file.
 */
/* Writes the peaks of zoom level `level` (0 = finest) as JSON
 * {"sample_rate", "samples_per_pixel", "length", "bits": 16, "data": [min,max,...]}
 * into out. Returns 0, -PRL_EIO, -PRL_EFORMAT, -PRL_ENOTFOUND (no such level). */
int prl_peaks_json(const char *peaks_path, int level, struct prl_buf *out);

/* ---- clips (clip.c) ---- */

enum prl_clip_format {
	PRL_CLIP_WAV = 0,  /* sample-exact from PCM originals, else 16-bit */
	PRL_CLIP_FLAC = 1, /* as WAV, losslessly packed (at most 24 bits) */
	PRL_CLIP_OPUS = 2, /* Ogg Opus at 48 kHz, with the gain */
	PRL_CLIP_MP3 = 3,  /* MP3, with the gain */
};

const char *prl_clip_format_ext(enum prl_clip_format f); /* "wav"... */
int prl_clip_format_parse(const char *s);		 /* the format, or -1 */

struct prl_clip_job {
	const char *src_path; /* the original; read only */
	int64_t start_ms;     /* >= 0 */
	int64_t end_ms;	      /* > start_ms, or -1 for the end of the audio */
	enum prl_clip_format format;
	double gain_db; /* applied to Opus and MP3 only (the stored gain) */
};

/*
 * Cuts job's span into out_path (created or truncated; "/proc/self/fd/N"
 * writes into an anonymous file the caller holds open).  WAV and FLAC from
 * a linear PCM original keep its rate, channels and samples exactly.
 * *frames (may be NULL) gets the frames written at the source's rate.
 * Errors: -PRL_EINVAL (bad or empty span), -PRL_EIO, -PRL_ENOSPC,
 * -PRL_EFORMAT, -PRL_ECODEC, -PRL_ENOMEM, with one line in err; a named
 * output path is removed on failure.
 */
int prl_clip_write(const struct prl_clip_job *job, const char *out_path, int64_t *frames,
		   struct prl_buf *err);

/* ---- one channel for analysis (mono.c) ---- */

/*
 * Decodes path, averages its channels and converts it to rate Hz, and
 * hands the float samples to sink in blocks (the pointer is valid during
 * the call only).  A negative return from sink stops the reading and is
 * returned.  *info (may be NULL) gets what the decoder found.  Errors as
 * the reader's (-PRL_EIO, -PRL_EFORMAT, -PRL_ECODEC, -PRL_ENOMEM) with one
 * line in err, or -PRL_EINVAL for a rate out of range.
 */
int prl_audio_read_mono(const char *path, int rate,
			int (*sink)(void *ctx, const float *samples, size_t n), void *ctx,
			struct prl_audio_info *info, struct prl_buf *err);

#endif
