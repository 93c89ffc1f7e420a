/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the C test programs make on disk: a scratch folder (kept when KEEP
 * is set), text files, and WAV files of a tone, written byte by byte so
 * that the tests depend on no encoder.
 */
#ifndef PARLERS_SCRATCH_H
#define PARLERS_SCRATCH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* mkdtemp of /tmp/parlers-<name>-XXXXXX into dir: 0, or -1. */
static inline int scratch_make(char *dir, size_t n, const char *name)
{
	snprintf(dir, n, "/tmp/parlers-%s-XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* Removes the scratch folder, unless KEEP is set (to look at it). */
static inline void scratch_remove(const char *dir)
{
	char cmd[600];

	if (getenv("KEEP")) {
		printf("# kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static inline void scratch_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

/* A 16-bit PCM mono WAV: seconds of a freq Hz tone at amplitude amp (0..1),
 * its loudness swelling slowly as a voice's does. */
static inline void scratch_wav(const char *path, double seconds, double freq, double amp,
			       uint32_t rate)
{
	FILE *f = fopen(path, "wb");
	uint32_t frames = (uint32_t)(seconds * rate), data = frames * 2, v32;
	uint16_t v16;

	if (!f)
		return;
	fwrite("RIFF", 1, 4, f);
	v32 = 36 + data;
	fwrite(&v32, 4, 1, f);
	fwrite("WAVEfmt ", 1, 8, f);
	v32 = 16;
	fwrite(&v32, 4, 1, f);
	v16 = 1;
	fwrite(&v16, 2, 1, f); /* PCM */
	fwrite(&v16, 2, 1, f); /* mono */
	fwrite(&rate, 4, 1, f);
	v32 = rate * 2;
	fwrite(&v32, 4, 1, f);
	v16 = 2;
	fwrite(&v16, 2, 1, f);
	v16 = 16;
	fwrite(&v16, 2, 1, f);
	fwrite("data", 1, 4, f);
	fwrite(&data, 4, 1, f);
	for (uint32_t i = 0; i < frames; i++) {
		int16_t s = (int16_t)(amp * 32767.0 * sin(2 * M_PI * freq * i / rate) *
				      (0.6 + 0.4 * sin(2 * M_PI * 0.5 * i / rate)));

		fwrite(&s, 2, 1, f);
	}
	fclose(f);
}

#endif
