/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the reading of a date in a file's tags (RIFF ICRD, BWF
 * origination date, ID3, Vorbis DATE) as ISO 8601: any text gives either
 * a date the sidecar rules accept (YYYY, YYYY-MM or YYYY-MM-DD) or a
 * refusal, and never reads past its terminator.
 */
#include <stdlib.h>
#include <string.h>

#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[11];
	size_t n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(out, 'x', sizeof(out));
	if (sidecar_date_from_tag(s, out) == 0) {
		n = strnlen(out, sizeof(out));
		if (n != 4 && n != 7 && n != 10)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((i == 4 || i == 7) ? out[i] != '-' : (out[i] < '0' || out[i] > '9'))
				abort();
	}
	free(s);
	return 0;
}
