/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access copies: one encoder (libopus or libmp3lame through libavcodec)
 * muxed by libavformat into one file (Ogg Opus, or MP3 with an ID3v2 and a
 * Xing header).  The source's interleaved float blocks are multiplied by
 * the one gain, folded to mono or stereo and resampled by libswresample,
 * queued in a FIFO and cut into the encoder's frame size.
 *
 * Always holds: the copy has the source's channel count when it is mono or
 * stereo, stereo otherwise (the downmix matrix is normalised so folding
 * never adds up above unity); Opus is 48 kHz; MP3 is 48 kHz for sources
 * whose rate is a multiple of 8 kHz and 44.1 kHz otherwise, so the common
 * 48k and 44.1k masters are never resampled.  Output is bit-exact (no
 * version strings, fixed Ogg serial) so rebuilding a copy from its
 * original gives the same bytes.  Memory: one FIFO of a few frames.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "transcode-internal.h"

struct encoder {
	enum encoder_kind kind; /* which copy this is */
	const char *what;	/* "Opus" or "MP3", for messages */
	char *path;		/* the file written, owned */
	AVFormatContext *oc;	/* muxer, with its AVIOContext */
	AVCodecContext *enc;	/* the encoder */
	SwrContext *swr;	/* gain-applied float in, encoder format out; NULL if same */
	AVAudioFifo *fifo;	/* converted samples waiting for a full frame */
	uint8_t **tmp;		/* swr output, planar or packed as the encoder takes */
	int tmp_cap;		/* frames tmp holds */
	AVFrame *frame;		/* the frame handed to the encoder */
	AVPacket *pkt;		/* packets coming out of it */
	int in_channels;	/* channels of the blocks written */
	int64_t pts;		/* samples sent to the encoder so far */
};

static int fail(struct prl_buf *err, int ret, const struct encoder *e, const char *doing, int averr)
{
	if (err && !err->len)
		prl_buf_addf(err, "cannot %s the %s copy: %s", doing, e->what, av_err2str(averr));
	return ret;
}

static int copy_rate(enum encoder_kind kind, int rate)
{
	if (kind == ENCODER_OPUS)
		return 48000;
	return rate % 11025 == 0 ? 44100 : 48000;
}

int transcode_swr_new(SwrContext **out, const AVChannelLayout *in, int in_rate,
		      const AVChannelLayout *out_layout, int out_fmt, int out_rate)
{
	AVChannelLayout nominal = {0}, dst = {0};
	SwrContext *swr = NULL;
	double *matrix = NULL;
	int ret, n = in->nb_channels, i;

	*out = NULL;
	/* Copies, because swr_alloc_set_opts2() takes non-const layouts.  A
	 * layout that is not a plain speaker mask (unnamed, custom order,
	 * ambisonics) gets the default one for its count as a stand-in, and
	 * the fold below by position. */
	if (in->order != AV_CHANNEL_ORDER_NATIVE)
		av_channel_layout_default(&nominal, n);
	else if ((ret = av_channel_layout_copy(&nominal, in)) < 0)
		goto end;
	if ((ret = av_channel_layout_copy(&dst, out_layout)) < 0)
		goto end;
	if (out_fmt == AV_SAMPLE_FMT_FLT && in_rate == out_rate &&
	    !av_channel_layout_compare(&nominal, &dst)) {
		ret = 0; /* already what is wanted: no copy, no conversion */
		goto end;
	}
	ret = swr_alloc_set_opts2(&swr, &dst, (enum AVSampleFormat)out_fmt, out_rate, &nominal,
				  AV_SAMPLE_FMT_FLT, in_rate, 0, NULL);
	if (ret < 0)
		goto end;
	if (n > 2)
		av_opt_set_double(swr, "rematrix_maxval", 1.0, 0);
	if (n > 2 && in->order != AV_CHANNEL_ORDER_NATIVE) {
		int left = (n + 1) / 2, right = n / 2;

		if (!(matrix = calloc(2 * (size_t)n, sizeof(*matrix)))) {
			ret = AVERROR(ENOMEM);
			goto end;
		}
		for (i = 0; i < n; i++) {
			if (i % 2 == 0)
				matrix[i] = 1.0 / left;
			else
				matrix[n + i] = 1.0 / right;
		}
		if ((ret = swr_set_matrix(swr, matrix, n)) < 0)
			goto end;
	}
	if ((ret = swr_init(swr)) < 0)
		goto end;
	*out = swr;
	swr = NULL;
end:
	swr_free(&swr);
	free(matrix);
	av_channel_layout_uninit(&dst);
	av_channel_layout_uninit(&nominal);
	return ret;
}

/* The encoder's converter: gain-applied float at the source's layout and
 * rate in, the encoder's format out. */
static int setup_swr(struct encoder *e, const AVChannelLayout *in, int in_rate, struct prl_buf *err)
{
	int ret = transcode_swr_new(&e->swr, in, in_rate, &e->enc->ch_layout, e->enc->sample_fmt,
				    e->enc->sample_rate);

	if (ret < 0)
		return fail(err, transcode_averr(ret, -PRL_ECODEC), e, "resample for", ret);
	return 0;
}

int encoder_open(struct encoder **out, enum encoder_kind kind, const char *path,
		 const AVChannelLayout *layout, int rate, struct prl_buf *err)
{
	const char *name = kind == ENCODER_OPUS ? "libopus" : "libmp3lame";
	const AVCodec *codec;
	struct encoder *e;
	AVStream *st;
	int stereo = layout->nb_channels > 1, ret;

	transcode_quiet();
	if (!(e = calloc(1, sizeof(*e))))
		return -PRL_ENOMEM;
	e->kind = kind;
	e->what = kind == ENCODER_OPUS ? "Opus" : "MP3";
	e->in_channels = layout->nb_channels;
	if (!(e->path = strdup(path)) || !(e->frame = av_frame_alloc()) ||
	    !(e->pkt = av_packet_alloc())) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if (!(codec = avcodec_find_encoder_by_name(name))) {
		ret = -PRL_EUNSUPPORTED;
		if (err)
			prl_buf_addf(err, "FFmpeg was built without %s", name);
		goto end;
	}
	ret = avformat_alloc_output_context2(&e->oc, NULL, kind == ENCODER_OPUS ? "ogg" : "mp3",
					     path);
	if (ret < 0 || !(e->enc = avcodec_alloc_context3(codec))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	e->enc->sample_rate = copy_rate(kind, rate);
	e->enc->ch_layout = stereo ? (AVChannelLayout)AV_CHANNEL_LAYOUT_STEREO
				   : (AVChannelLayout)AV_CHANNEL_LAYOUT_MONO;
	/* libopus takes packed float, libmp3lame planar float: either way no
	 * precision is lost before the encoder's own quantisation. */
	e->enc->sample_fmt = kind == ENCODER_OPUS ? AV_SAMPLE_FMT_FLT : AV_SAMPLE_FMT_FLTP;
	/* Speech and song from the field: 64/96 kb/s Opus is transparent for
	 * them; MP3 needs more for the same, 96 kb/s mono, 128 kb/s stereo. */
	if (kind == ENCODER_OPUS)
		e->enc->bit_rate = stereo ? 96000 : 64000;
	else
		e->enc->bit_rate = stereo ? 128000 : 96000;
	e->enc->time_base = (AVRational){1, e->enc->sample_rate};
	e->enc->flags |= AV_CODEC_FLAG_BITEXACT;
	if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
		e->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if ((ret = avcodec_open2(e->enc, codec, NULL)) < 0) {
		ret = fail(err, transcode_averr(ret, -PRL_ECODEC), e, "set up the encoder for",
			   ret);
		goto end;
	}
	if (!(st = avformat_new_stream(e->oc, NULL))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if ((ret = avcodec_parameters_from_context(st->codecpar, e->enc)) < 0) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	st->time_base = e->enc->time_base;
	e->oc->flags |= AVFMT_FLAG_BITEXACT;
	if ((ret = avio_open(&e->oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
		ret = fail(err, transcode_averr(ret, -PRL_EIO), e, "create", ret);
		goto end;
	}
	if ((ret = avformat_write_header(e->oc, NULL)) < 0) {
		ret = fail(err, transcode_averr(ret, -PRL_EIO), e, "write", ret);
		goto end;
	}
	if ((ret = setup_swr(e, layout, rate, err)) < 0)
		goto end;
	e->frame->format = e->enc->sample_fmt;
	e->frame->sample_rate = e->enc->sample_rate;
	e->frame->nb_samples = e->enc->frame_size;
	if (av_channel_layout_copy(&e->frame->ch_layout, &e->enc->ch_layout) < 0 ||
	    av_frame_get_buffer(e->frame, 0) < 0 ||
	    !(e->fifo = av_audio_fifo_alloc(e->enc->sample_fmt, e->enc->ch_layout.nb_channels,
					    4 * e->enc->frame_size))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	*out = e;
	return 0;
end:
	encoder_free(&e);
	return ret;
}

/* Hands everything the encoder has ready to the muxer. */
static int drain_packets(struct encoder *e, struct prl_buf *err)
{
	AVStream *st = e->oc->streams[0];
	int ret;

	for (;;) {
		ret = avcodec_receive_packet(e->enc, e->pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return fail(err, transcode_averr(ret, -PRL_ECODEC), e, "encode", ret);
		av_packet_rescale_ts(e->pkt, e->enc->time_base, st->time_base);
		e->pkt->stream_index = 0;
		/* Takes the packet's reference whether it succeeds or not. */
		if ((ret = av_interleaved_write_frame(e->oc, e->pkt)) < 0)
			return fail(err, transcode_averr(ret, -PRL_EIO), e, "write", ret);
	}
}

static int send_frame(struct encoder *e, int nb, struct prl_buf *err)
{
	int ret;

	if ((ret = av_frame_make_writable(e->frame)) < 0)
		return -PRL_ENOMEM;
	e->frame->nb_samples = nb;
	if (av_audio_fifo_read(e->fifo, (void **)e->frame->data, nb) != nb)
		return fail(err, -PRL_ECODEC, e, "queue samples for", AVERROR_BUG);
	e->frame->pts = e->pts;
	e->pts += nb;
	if ((ret = avcodec_send_frame(e->enc, e->frame)) < 0)
		return fail(err, transcode_averr(ret, -PRL_ECODEC), e, "encode", ret);
	return drain_packets(e, err);
}

static int queue(struct encoder *e, void **data, int n)
{
	if (n > 0 && av_audio_fifo_write(e->fifo, data, n) != n)
		return -PRL_ENOMEM;
	return 0;
}

/* Runs swr on n input frames (in == NULL flushes) and queues the result. */
static int convert(struct encoder *e, const float *in, int n, struct prl_buf *err)
{
	const uint8_t *inp[1] = {(const uint8_t *)in};
	int want = swr_get_out_samples(e->swr, n), got, ret;

	if (want > e->tmp_cap) {
		if (e->tmp)
			av_freep(&e->tmp[0]);
		av_freep(&e->tmp);
		e->tmp_cap = 0;
		if (av_samples_alloc_array_and_samples(&e->tmp, NULL, e->enc->ch_layout.nb_channels,
						       want, e->enc->sample_fmt, 0) < 0)
			return -PRL_ENOMEM;
		e->tmp_cap = want;
	}
	if (want <= 0)
		return 0;
	got = swr_convert(e->swr, e->tmp, want, in ? inp : NULL, in ? n : 0);
	if (got < 0)
		return fail(err, -PRL_ECODEC, e, "resample for", got);
	if ((ret = queue(e, (void **)e->tmp, got)) < 0)
		return ret;
	return got;
}

int encoder_write(struct encoder *e, float *data, size_t n, float gain, struct prl_buf *err)
{
	size_t i, count = n * (size_t)e->in_channels;
	int ret;

	if (gain != 1.0f)
		for (i = 0; i < count; i++)
			data[i] *= gain;
	if (e->swr)
		ret = convert(e, data, (int)n, err);
	else
		ret = queue(e, (void **)&data, (int)n);
	if (ret < 0)
		return ret;
	while (av_audio_fifo_size(e->fifo) >= e->enc->frame_size)
		if ((ret = send_frame(e, e->enc->frame_size, err)) < 0)
			return ret;
	return 0;
}

int encoder_finish(struct encoder *e, int64_t *bytes, struct prl_buf *err)
{
	struct stat st;
	int ret, left;

	/* The resampler holds back its filter's tail until told to flush. */
	if (e->swr)
		while ((ret = convert(e, NULL, 0, err)) > 0)
			;
	while ((left = av_audio_fifo_size(e->fifo)) > 0)
		if ((ret = send_frame(e, left < e->enc->frame_size ? left : e->enc->frame_size,
				      err)) < 0)
			return ret;
	if ((ret = avcodec_send_frame(e->enc, NULL)) < 0)
		return fail(err, transcode_averr(ret, -PRL_ECODEC), e, "finish", ret);
	if ((ret = drain_packets(e, err)) < 0)
		return ret;
	if ((ret = av_write_trailer(e->oc)) < 0)
		return fail(err, transcode_averr(ret, -PRL_EIO), e, "finish", ret);
	/* Closing flushes the last buffer: a full disk may only show here. */
	if ((ret = avio_closep(&e->oc->pb)) < 0)
		return fail(err, transcode_averr(ret, -PRL_EIO), e, "write", ret);
	if (stat(e->path, &st) < 0)
		return fail(err, -PRL_EIO, e, "find", AVERROR(errno));
	*bytes = (int64_t)st.st_size;
	return 0;
}

int encoder_channels(const struct encoder *e)
{
	return e->enc->ch_layout.nb_channels;
}

void encoder_free(struct encoder **pe)
{
	struct encoder *e;

	if (!pe || !(e = *pe))
		return;
	if (e->tmp)
		av_freep(&e->tmp[0]);
	av_freep(&e->tmp);
	av_audio_fifo_free(e->fifo);
	swr_free(&e->swr);
	av_packet_free(&e->pkt);
	av_frame_free(&e->frame);
	avcodec_free_context(&e->enc);
	if (e->oc) {
		avio_closep(&e->oc->pb);
		avformat_free_context(e->oc);
	}
	free(e->path);
	free(e);
	*pe = NULL;
}
