/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the MPEG audio frame-chain check (transcode/mpa.c), the
 * proof that a file too short for FFmpeg's probe is MP3: any bytes give a
 * count or 0, reading nothing outside them; a chain found in a file is
 * still found once an ID3v1 tag is appended to it.
 */
#include <stdlib.h>
#include <string.h>

#include "transcode-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;
	size_t n;

	/* a copy of exactly size bytes, so that ASan sees any read past them */
	if (!(copy = malloc(size + 128)))
		return 0;
	memcpy(copy, data, size);
	n = mpa_whole_chain(copy, size);
	if (n) {
		memset(copy + size, 0, 128);
		memcpy(copy + size, "TAG", 3);
		if (mpa_whole_chain(copy, size + 128) != n)
			abort();
	}
	free(copy);
	return 0;
}
