/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the embed's ?t= (a Media Fragments time span): any text
 * gives either a span inside the recording and not empty, or a refusal,
 * and never reads past its terminator.
 */
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t t0 = -1, t1 = -1;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (web_parse_span(s, 3600000, &t0, &t1) && !(0 <= t0 && t0 < t1 && t1 <= 3600000))
		abort();
	free(s);
	return 0;
}
