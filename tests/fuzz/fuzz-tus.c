/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the tus Upload-Metadata header parser: any text is
 * either refused or gives, for each key asked, a value no longer than
 * the header, and never reads past its terminator.
 */
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"filename", "filetype", "collection", "a"};
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct prl_buf v = PRL_BUF_INIT;
		int r = web_tus_metadata(s, keys[i], &v);

		if (r < -1 || r > 1 || (r != 1 && v.len) || v.len > size)
			abort();
		prl_buf_release(&v);
	}
	free(s);
	return 0;
}
