/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers transcode, private: the pieces prl_transcode_run() wires together.
 *
 * A reader decodes one file into blocks of interleaved float samples; sinks
 * (the loudness meter, the peaks writer, the encoders) consume those blocks
 * and never hold more than a block or an encoder frame.  Every piece has an
 * open/new function that either succeeds completely or leaves nothing
 * behind, and a free function that takes a pointer to its handle, accepts
 * NULL and sets the handle to NULL.  Only this folder includes this header;
 * it may include libav* and libsndfile headers, the public one may not.
 */
#ifndef PARLERS_TRANSCODE_INTERNAL_H
#define PARLERS_TRANSCODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/channel_layout.h>

#include "parlers/transcode.h"

/* Frames per block handed from a reader to its sinks: big enough that the
 * per-call overhead of libebur128 and the encoders vanishes, small enough
 * that eight channels of float stay at 128 KiB. */
#define TRANSCODE_BLOCK 4096

/* What a reader accepts: field and studio masters are up to 8 channels at
 * up to 192 kHz; these bounds leave room while keeping the meter's memory
 * (3 s of every channel as doubles) far from what a hostile header could
 * otherwise ask for. */
#define TRANSCODE_MAX_CHANNELS 16
#define TRANSCODE_MIN_RATE 1000
#define TRANSCODE_MAX_RATE 384000

/* Silences FFmpeg's logging for the whole process, once.  libsndfile keeps
 * its log in the handle and never prints; the mpg123 decoder it links does
 * print, which is why reader.c never hands it anything that might be MP3. */
void transcode_quiet(void);

/* ---- reader.c: one file in, interleaved float blocks out ---- */

struct reader;

/* Opens path with libsndfile when it is a container libsndfile reads well
 * (RIFF/RF64/BW64 WAV, AIFF, FLAC, W64, CAF, AU), else with libavformat.
 * Fills *info (frames is an estimate until the file was read through; for
 * libavformat it may be 0) and, when tags is not NULL, appends the file's
 * metadata to *tags.  The caller frees the reader with reader_free().
 * Errors: -PRL_EIO (cannot open), -PRL_EFORMAT (not audio we can read),
 * -PRL_ECODEC (no decoder), -PRL_ENOMEM; one line in err. */
int reader_open(struct reader **out, const char *path, struct prl_audio_info *info,
		struct prl_tags *tags, struct prl_buf *err);

/* Decodes the next block.  *data points into the reader's own buffer (the
 * caller may modify it in place, it stays valid until the next call).
 * Returns the number of frames (> 0), 0 at the end, or a negative prl_err
 * with one line in err. */
int reader_next(struct reader *r, float **data, struct prl_buf *err);

/* The channel layout the reader decodes to, as libavutil names it
 * (AV_CHANNEL_ORDER_UNSPEC when the file does not say). */
const AVChannelLayout *reader_layout(const struct reader *r);

/* When the header promised more audio than the file holds: the frames it
 * promised (> frames actually present), else 0.  Valid after reading. */
int64_t reader_declared_frames(const struct reader *r);

void reader_free(struct reader **r);

/* ---- tags.c ---- */

/* Appends key=value (len bytes of value, not necessarily NUL-terminated)
 * unless key is already there or value is blank.  The key is lower-cased;
 * the value is trimmed, cut at its first NUL, and converted from Latin-1
 * when it is not valid UTF-8.  Returns 0 or -PRL_ENOMEM. */
int tags_add(struct prl_tags *t, const char *key, const char *value, size_t len);

/* ---- meter.c: EBU R128 with libebur128 ---- */

struct meter;

/* A meter for channels at rate, weighting channels as BS.1770 says for
 * layout (LFE ignored, surrounds +1.5 dB).  Starts a worker thread that
 * meter_finish() or meter_free() stops.  Returns 0, -PRL_ENOMEM. */
int meter_new(struct meter **out, const AVChannelLayout *layout, int rate);
/* Feeds n interleaved frames (copied; data may change once this returns).
 * Returns 0 or -PRL_ENOMEM. */
int meter_add(struct meter *m, const float *data, size_t n);
/* Waits for the worker and gives the loudness of everything fed.
 * Returns 0 or -PRL_ENOMEM. */
int meter_finish(struct meter *m, struct prl_loudness *out);
void meter_free(struct meter **m);

/* ---- peaks.c: audiowaveform .dat v2 blocks at several zooms ---- */

struct peaks;

/* Creates path and starts writing peaks for a rate Hz source with channels
 * channels.  Returns 0, -PRL_EIO, -PRL_ENOSPC, -PRL_ENOMEM (one line in err). */
int peaks_open(struct peaks **out, const char *path, int rate, int channels, struct prl_buf *err);
/* Folds n interleaved frames into the finest zoom level. */
int peaks_add(struct peaks *p, const float *data, size_t n, struct prl_buf *err);
/* Writes the last pixel, the lengths and the coarser levels; closes the
 * file.  *bytes gets the file's size.  Returns 0, -PRL_EIO, -PRL_ENOSPC. */
int peaks_finish(struct peaks *p, int64_t *bytes, struct prl_buf *err);
/* Closes without finishing (the caller removes the file). */
void peaks_free(struct peaks **p);

/* ---- encode.c: access copies ---- */

enum encoder_kind {
	ENCODER_OPUS, /* Ogg Opus, 48 kHz */
	ENCODER_MP3,  /* MP3, 44.1 or 48 kHz */
};

struct encoder;

/* Creates path and prepares an encoder for audio in layout at rate
 * (interleaved float).  Mono stays mono; two or more channels come out as
 * stereo, folded with a downmix matrix that never adds up above unity.
 * Returns 0, -PRL_EIO, -PRL_ENOSPC, -PRL_ECODEC, -PRL_ENOMEM. */
int encoder_open(struct encoder **out, enum encoder_kind kind, const char *path,
		 const AVChannelLayout *layout, int rate, struct prl_buf *err);
/* Encodes n interleaved frames (multiplied by gain first, in place). */
int encoder_write(struct encoder *e, float *data, size_t n, float gain, struct prl_buf *err);
/* Flushes the encoder, writes the trailer and closes the file.  *bytes gets
 * the file's size. */
int encoder_finish(struct encoder *e, int64_t *bytes, struct prl_buf *err);
/* Channels the copy has (1 or 2). */
int encoder_channels(const struct encoder *e);
void encoder_free(struct encoder **e);

struct SwrContext;

/* A libswresample context from interleaved float at in/in_rate to
 * out_layout/out_fmt (an AVSampleFormat)/out_rate, or *out = NULL when no
 * conversion is needed.  Two channels or more fold down with a matrix
 * normalised so no output exceeds unity; sources without named speakers
 * fold by position (first, third... left; second, fourth... right) with a
 * matrix set by hand, since libswresample only builds one for named
 * speakers.  The caller frees it with swr_free().  Returns 0 or an
 * AVERROR. */
int transcode_swr_new(struct SwrContext **out, const AVChannelLayout *in, int in_rate,
		      const AVChannelLayout *out_layout, int out_fmt, int out_rate);

/* ---- mpa.c ---- */

/* The number of MPEG audio frames when buf (a whole file of len bytes) is
 * nothing but a chain of them, between an optional ID3v2 tag at the front
 * and an optional ID3v1 tag at the end; 0 when it is not, or holds fewer
 * than two.  The proof that a file too short for FFmpeg's probe is MP3. */
size_t mpa_whole_chain(const unsigned char *buf, size_t len);

/* Maps a libav error to a prl_err (ENOSPC, EIO, ENOMEM, else fallback). */
int transcode_averr(int averr, int fallback);

/* Says why into err, unless it already says something (the first cause
 * is the one told); returns ret unchanged. */
int transcode_fail(struct prl_buf *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
