/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Any recording as one channel of float samples at a rate the caller
 * picks: what audio analysis (speech/) reads.  The reader decodes, the
 * channels are averaged and the rate converted by libswresample, and the
 * result is pushed to the caller in blocks, so an hour-long master never
 * sits in memory whole.
 *
 * Always holds: the sink sees every sample once, in order; the number of
 * samples is the source's duration at the new rate, give or take the
 * resampler's few samples of delay, which are flushed at the end.
 * Memory: one block of the source and one of the output.
 */
#include <stdlib.h>

#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>

#include "transcode-internal.h"

int prl_audio_read_mono(const char *path, int rate,
			int (*sink)(void *ctx, const float *samples, size_t n), void *ctx,
			struct prl_audio_info *info_out, struct prl_buf *err)
{
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	struct prl_audio_info info;
	struct reader *r = NULL;
	SwrContext *swr = NULL;
	float *data, *out = NULL;
	int n = 1, ret, cap = 0, got;

	if (rate < TRANSCODE_MIN_RATE || rate > TRANSCODE_MAX_RATE) {
		ret = -PRL_EINVAL;
		if (err)
			prl_buf_addf(err, "unsupported analysis rate %d Hz", rate);
		goto end;
	}
	if ((ret = reader_open(&r, path, &info, NULL, err)) < 0)
		goto end;
	if ((ret = transcode_swr_new(&swr, reader_layout(r), info.sample_rate, &mono,
				     AV_SAMPLE_FMT_FLT, rate)) < 0) {
		ret = -PRL_ECODEC;
		if (err)
			prl_buf_addstr(err, "cannot convert the audio to one channel");
		goto end;
	}
	for (;;) {
		const uint8_t *in[1];
		uint8_t *o[1];
		int want;

		if (n > 0 && (n = reader_next(r, &data, err)) < 0) {
			ret = n;
			goto end;
		}
		if (!swr) {
			if (n == 0)
				break;
			if ((ret = sink(ctx, data, (size_t)n)) < 0)
				goto end;
			continue;
		}
		want = swr_get_out_samples(swr, n);
		if (want > cap) {
			float *grown = realloc(out, (size_t)want * sizeof(*out));

			if (!grown) {
				ret = -PRL_ENOMEM;
				goto end;
			}
			out = grown;
			cap = want;
		}
		in[0] = (const uint8_t *)data;
		o[0] = (uint8_t *)out;
		got = swr_convert(swr, o, want, n ? in : NULL, n);
		if (got < 0) {
			ret = -PRL_ECODEC;
			if (err)
				prl_buf_addstr(err, "resampling failed");
			goto end;
		}
		if (got > 0 && (ret = sink(ctx, out, (size_t)got)) < 0)
			goto end;
		if (n == 0 && got == 0)
			break;
	}
	if (info_out)
		*info_out = info;
	ret = 0;
end:
	free(out);
	swr_free(&swr);
	reader_free(&r);
	return ret;
}
