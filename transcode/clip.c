/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clips: a span of an original cut out as WAV, FLAC, Ogg Opus or MP3.
 *
 * WAV and FLAC are the researcher's formats: when the original is linear
 * PCM in a container libsndfile reads (WAV/RF64/BW64, AIFF, FLAC), the span
 * is copied sample for sample with libsndfile (seek to the first frame,
 * integer or float samples as stored, same rate, channels and bit depth),
 * so a clip's samples are the original's.  Any other original (MP3, Ogg,
 * M4A...) is decoded by the module's reader and written as 16-bit PCM at
 * its decoded rate.  Opus and MP3 are for listening: the span goes through
 * the access-copy encoder with the recording's one stored gain, so a clip
 * sounds as loud as the access copy it was heard in.
 *
 * Always holds: the clip starts at frame round(start_ms * rate / 1000) and
 * holds exactly round(end_ms * rate / 1000) minus that many frames in WAV
 * and FLAC (an end past the audio is cut at the end); memory is one block
 * whatever the span; on failure the output path is removed.
 *
 * Expected workload: clips of seconds to minutes from masters of up to a
 * few hours, one at a time per request.  Reaching a span in a lossy
 * original decodes from the start, which is a fraction of real time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "transcode-internal.h"

#define CLIP_BLOCK 4096

const char *prl_clip_format_ext(enum prl_clip_format f)
{
	switch (f) {
	case PRL_CLIP_WAV:
		return "wav";
	case PRL_CLIP_FLAC:
		return "flac";
	case PRL_CLIP_OPUS:
		return "opus";
	case PRL_CLIP_MP3:
		return "mp3";
	}
	return "bin";
}

int prl_clip_format_parse(const char *s)
{
	static const char *const names[] = {"wav", "flac", "opus", "mp3"};

	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int64_t ms_to_frame(int64_t ms, int rate)
{
	return (int64_t)llround((double)ms * rate / 1000.0);
}

/* True when the file starts like a container libsndfile reads well; the
 * same bytes reader.c trusts it with (never MP3: see there). */
static int sndfile_container(const char *path)
{
	unsigned char h[4];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(h, 1, 4, f);
	fclose(f);
	return n == 4 && (!memcmp(h, "RIFF", 4) || !memcmp(h, "RF64", 4) || !memcmp(h, "BW64", 4) ||
			  !memcmp(h, "FORM", 4) || !memcmp(h, "fLaC", 4));
}

/* The output subformat keeping the source's samples as they are, or 0 when
 * the source is not linear PCM (A-law, mu-law, ADPCM...). */
static int pcm_subformat(int src_format, enum prl_clip_format out)
{
	int sub = src_format & SF_FORMAT_SUBMASK;

	switch (sub) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
		/* WAV spells 8-bit unsigned, FLAC signed: the same samples */
		return out == PRL_CLIP_FLAC ? SF_FORMAT_PCM_S8 : SF_FORMAT_PCM_U8;
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_PCM_24:
		return sub;
	case SF_FORMAT_PCM_32:
	case SF_FORMAT_FLOAT:
	case SF_FORMAT_DOUBLE:
		/* FLAC holds at most 24 bits: those three cannot go there whole */
		return out == PRL_CLIP_FLAC ? 0 : sub;
	default:
		return 0;
	}
}

/* Sample-exact copy of [first, last) with libsndfile. */
static int copy_pcm(SNDFILE *in, const SF_INFO *ii, int sub, enum prl_clip_format f, int64_t first,
		    int64_t last, const char *out_path, int64_t *frames_out, struct prl_buf *err)
{
	SF_INFO oi;
	SNDFILE *out = NULL;
	void *buf = NULL;
	int use_double = sub == SF_FORMAT_DOUBLE || sub == SF_FORMAT_FLOAT;
	int64_t done = 0;
	int ret = 0;

	memset(&oi, 0, sizeof(oi));
	oi.samplerate = ii->samplerate;
	oi.channels = ii->channels;
	oi.format = (f == PRL_CLIP_FLAC ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | sub;
	if (!sf_format_check(&oi))
		return transcode_fail(err, -PRL_EUNSUPPORTED,
				      "this sample format cannot be written as %s",
				      prl_clip_format_ext(f));
	if (!(buf = malloc((size_t)CLIP_BLOCK * (size_t)ii->channels * sizeof(double))))
		return -PRL_ENOMEM;
	if (sf_seek(in, first, SEEK_SET) != first) {
		ret = transcode_fail(err, -PRL_EIO, "cannot seek in the original: %s",
				     sf_strerror(in));
		goto end;
	}
	if (!(out = sf_open(out_path, SFM_WRITE, &oi))) {
		ret = transcode_fail(err, -PRL_EIO, "cannot create the clip: %s",
				     sf_strerror(NULL));
		goto end;
	}
	while (done < last - first) {
		sf_count_t want =
			last - first - done < CLIP_BLOCK ? last - first - done : CLIP_BLOCK;
		sf_count_t got, put;

		/* integers go through as integers, floats as doubles: no rounding */
		got = use_double ? sf_readf_double(in, buf, want) : sf_readf_int(in, buf, want);
		if (got <= 0)
			break;
		put = use_double ? sf_writef_double(out, buf, got) : sf_writef_int(out, buf, got);
		if (put != got) {
			ret = transcode_fail(err, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
					     "cannot write the clip: %s", sf_strerror(out));
			goto end;
		}
		done += got;
	}
	if (sf_close(out) != 0) {
		out = NULL;
		ret = transcode_fail(err, -PRL_EIO, "cannot finish the clip");
		goto end;
	}
	out = NULL;
	*frames_out = done;
end:
	if (out)
		sf_close(out);
	free(buf);
	return ret;
}

/* Decodes from the start, drops what comes before first, and hands
 * [first, last) to a 16-bit WAV/FLAC writer or an encoder. */
static int decode_span(const struct prl_clip_job *job, const char *out_path, int64_t *frames_out,
		       struct prl_buf *err)
{
	struct prl_audio_info info;
	struct reader *r = NULL;
	struct encoder *enc = NULL;
	SNDFILE *out = NULL;
	int64_t pos = 0, first, last = INT64_MAX, done = 0, bytes = 0;
	float gain = 1.0f, *data;
	int ret, n, ch;

	if ((ret = reader_open(&r, job->src_path, &info, NULL, err)) < 0)
		return ret;
	ch = info.channels;
	first = ms_to_frame(job->start_ms, info.sample_rate);
	if (job->end_ms >= 0)
		last = ms_to_frame(job->end_ms, info.sample_rate);
	if (job->format == PRL_CLIP_OPUS || job->format == PRL_CLIP_MP3) {
		gain = (float)pow(10.0, job->gain_db / 20.0);
		ret = encoder_open(&enc, job->format == PRL_CLIP_OPUS ? ENCODER_OPUS : ENCODER_MP3,
				   out_path, reader_layout(r), info.sample_rate, err);
		if (ret < 0)
			goto end;
	} else {
		SF_INFO oi;

		memset(&oi, 0, sizeof(oi));
		oi.samplerate = info.sample_rate;
		oi.channels = ch;
		oi.format = (job->format == PRL_CLIP_FLAC ? SF_FORMAT_FLAC : SF_FORMAT_WAV) |
			    SF_FORMAT_PCM_16;
		if (!(out = sf_open(out_path, SFM_WRITE, &oi))) {
			ret = transcode_fail(err, -PRL_EIO, "cannot create the clip: %s",
					     sf_strerror(NULL));
			goto end;
		}
		/* decoded lossy audio may overshoot full scale: clip, never wrap */
		sf_command(out, SFC_SET_CLIPPING, NULL, SF_TRUE);
	}
	while (pos < last && (n = reader_next(r, &data, err)) != 0) {
		int64_t from = 0, to = n;

		if (n < 0) {
			ret = n;
			goto end;
		}
		if (pos + n <= first) {
			pos += n;
			continue;
		}
		if (first > pos)
			from = first - pos;
		if (last - pos < to)
			to = last - pos;
		if (enc) {
			ret = encoder_write(enc, data + from * ch, (size_t)(to - from), gain, err);
			if (ret < 0)
				goto end;
		} else if (sf_writef_float(out, data + from * ch, to - from) != to - from) {
			ret = transcode_fail(err, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
					     "cannot write the clip: %s", sf_strerror(out));
			goto end;
		}
		done += to - from;
		pos += n;
	}
	if (done == 0) {
		ret = transcode_fail(err, -PRL_EINVAL, "the span holds no audio");
		goto end;
	}
	if (enc) {
		ret = encoder_finish(enc, &bytes, err);
		if (ret < 0)
			goto end;
	} else {
		ret = sf_close(out) ? transcode_fail(err, -PRL_EIO, "cannot finish the clip") : 0;
		out = NULL;
		if (ret < 0)
			goto end;
	}
	*frames_out = done;
end:
	if (out)
		sf_close(out);
	encoder_free(&enc);
	reader_free(&r);
	return ret;
}

int prl_clip_write(const struct prl_clip_job *job, const char *out_path, int64_t *frames,
		   struct prl_buf *err)
{
	SF_INFO ii;
	SNDFILE *in = NULL;
	int64_t first, last, got = 0;
	int ret, sub = 0;

	if (!job || !job->src_path || !out_path || job->start_ms < 0 ||
	    (job->end_ms >= 0 && job->end_ms <= job->start_ms) ||
	    (unsigned)job->format > PRL_CLIP_MP3)
		return transcode_fail(err, -PRL_EINVAL, "a clip needs 0 <= start < end");
	transcode_quiet();
	memset(&ii, 0, sizeof(ii));
	if ((job->format == PRL_CLIP_WAV || job->format == PRL_CLIP_FLAC) &&
	    sndfile_container(job->src_path) && (in = sf_open(job->src_path, SFM_READ, &ii)) &&
	    (sub = pcm_subformat(ii.format, job->format)) != 0) {
		first = ms_to_frame(job->start_ms, ii.samplerate);
		last = job->end_ms < 0 ? ii.frames : ms_to_frame(job->end_ms, ii.samplerate);
		if (last > ii.frames)
			last = ii.frames;
		if (first >= last)
			ret = transcode_fail(err, -PRL_EINVAL,
					     "the span is past the end of the audio");
		else
			ret = copy_pcm(in, &ii, sub, job->format, first, last, out_path, &got, err);
	} else {
		ret = decode_span(job, out_path, &got, err);
	}
	if (in)
		sf_close(in);
	if (ret < 0) {
		/* an anonymous file handed in as /proc/self/fd/N cannot be and
		 * need not be removed; a named one must not stay half-written */
		if (strncmp(out_path, "/proc/", 6) != 0)
			unlink(out_path);
		return ret;
	}
	if (frames)
		*frames = got;
	return 0;
}
