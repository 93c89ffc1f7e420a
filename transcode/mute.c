/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access copies with spans made silent: the copy a visitor hears when
 * passages of a recording are withheld.  The original is decoded once,
 * the frames inside the spans are set to zero, and the rest goes to the
 * same encoder, with the same one gain, that ingest's copies use, so the
 * muted copy differs from the full one only inside the spans.
 *
 * Always holds: every frame whose time falls in a span, from the frame at
 * or before its start to the frame at or after its end, is exactly zero
 * before encoding (a lossy codec may still let a few milliseconds of its
 * neighbours' pre-echo through, never any of the passage itself); on
 * failure no output file is left.  Memory: one block and the encoder's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "transcode-internal.h"

int prl_transcode_muted(const char *src_path, const char *dst_path, enum prl_copy_kind kind,
			double gain_db, const int64_t *spans_ms, size_t nspans, int64_t *bytes,
			struct prl_buf *err)
{
	struct prl_audio_info info;
	struct reader *r = NULL;
	struct encoder *e = NULL;
	struct prl_buf why = PRL_BUF_INIT;
	float gain = (float)pow(10.0, gain_db / 20.0), *data;
	int64_t pos = 0, written = 0;
	int n, ret, started = 0;

	if (kind != PRL_COPY_OPUS && kind != PRL_COPY_MP3) {
		ret = -PRL_EINVAL;
		goto end;
	}
	if ((ret = reader_open(&r, src_path, &info, NULL, &why)) < 0)
		goto end;
	if ((ret = encoder_open(&e, kind == PRL_COPY_OPUS ? ENCODER_OPUS : ENCODER_MP3, dst_path,
				reader_layout(r), info.sample_rate, &why)) < 0)
		goto end;
	started = 1;
	while ((n = reader_next(r, &data, &why)) > 0) {
		for (size_t i = 0; i < nspans; i++) {
			/* the span in frames, widened to whole frames outwards */
			int64_t from = spans_ms[2 * i] * info.sample_rate / 1000;
			int64_t to = (spans_ms[2 * i + 1] * info.sample_rate + 999) / 1000;
			int64_t lo = from > pos ? from : pos, hi = to < pos + n ? to : pos + n;

			if (lo < hi)
				memset(data + (size_t)(lo - pos) * (size_t)info.channels, 0,
				       (size_t)(hi - lo) * (size_t)info.channels * sizeof(*data));
		}
		if ((ret = encoder_write(e, data, (size_t)n, gain, &why)) < 0)
			goto end;
		pos += n;
	}
	if ((ret = n) < 0)
		goto end;
	if ((ret = encoder_finish(e, &written, &why)) < 0)
		goto end;
	*bytes = written;
end:
	encoder_free(&e);
	reader_free(&r);
	if (ret < 0) {
		if (started)
			unlink(dst_path);
		if (err)
			prl_buf_addstr(err, why.len ? why.data : prl_strerror(ret));
	}
	prl_buf_release(&why);
	return ret;
}
