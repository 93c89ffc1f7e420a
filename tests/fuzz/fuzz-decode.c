/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the transcode module's decoding and analysis: the bytes
 * are written to a temporary file (both decoders open files by name) and
 * go through prl_transcode_run() without access copies: container sniffing,
 * libsndfile or libavformat/libavcodec, tags, the loudness meter, the
 * hash, and the peaks file, which is then read back with prl_peaks_json()
 * so the peaks reader is fuzzed on whatever the writer made.  Any result
 * is fine; a crash, a leak or undefined behaviour is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parlers/transcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char src_path[4096];
static char peaks_path[4200];

static void remove_files(void)
{
	unlink(src_path);
	unlink(peaks_path);
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(src_path, sizeof(src_path), "%s/fuzz-decode-XXXXXX", tmp ? tmp : "/tmp");
	if ((fd = mkstemp(src_path)) < 0)
		return -1;
	close(fd);
	snprintf(peaks_path, sizeof(peaks_path), "%s.dat", src_path);
	atexit(remove_files);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct prl_transcode_job job;
	struct prl_transcode_result res;
	struct prl_buf err = PRL_BUF_INIT, json = PRL_BUF_INIT;
	FILE *f;
	int level;

	if (!ready) {
		if (setup() < 0)
			abort();
		ready = 1;
	}
	if (!(f = fopen(src_path, "wb")))
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src_path;
	job.peaks_path = peaks_path;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	if (prl_transcode_run(&job, &res, &err) == 0) {
		/* What a success promises, whatever the input. */
		if (res.info.channels < 1 || res.info.sample_rate < 1 || res.info.frames < 1)
			abort();
		for (level = 0; level < 4; level++) {
			prl_buf_reset(&json);
			if (prl_peaks_json(peaks_path, level, &json) < 0 && level < 3)
				abort();
		}
	} else if (!err.len || strchr(prl_buf_str(&err), '\n')) {
		abort(); /* a failure always says why, on one line */
	}
	unlink(peaks_path);
	prl_transcode_result_clear(&res);
	prl_buf_release(&json);
	prl_buf_release(&err);
	return 0;
}
