/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * How the transcode module fails and keeps quiet: FFmpeg's logging
 * silenced for the whole process (a library never prints), libav errors
 * mapped to prl_err, and the one-line reason that the first cause writes.
 *
 * Always holds: transcode_fail() never overwrites a reason already given,
 * so the message the user reads names the first thing that went wrong.
 * Called on every error path of every reader, encoder and clip; cheap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>

#include <libavutil/error.h>
#include <libavutil/log.h>

#include "transcode-internal.h"

static void quiet_log(void *avcl, int level, const char *fmt, va_list vl)
{
	(void)avcl;
	(void)level;
	(void)fmt;
	(void)vl;
}

static void set_quiet(void)
{
	av_log_set_level(AV_LOG_QUIET);
	av_log_set_callback(quiet_log);
}

void transcode_quiet(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_quiet);
}

int transcode_fail(struct prl_buf *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && !err->len) {
		va_start(ap, fmt);
		prl_buf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int transcode_averr(int averr, int fallback)
{
	switch (averr) {
	case AVERROR(ENOSPC):
	case AVERROR(EDQUOT):
		return -PRL_ENOSPC;
	case AVERROR(ENOMEM):
		return -PRL_ENOMEM;
	case AVERROR(EIO):
	case AVERROR(EACCES):
	case AVERROR(EPERM):
	case AVERROR(ENOENT):
	case AVERROR(ENOTDIR):
	case AVERROR(EISDIR):
	case AVERROR(EROFS):
		return -PRL_EIO;
	default:
		return fallback;
	}
}
