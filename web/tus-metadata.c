/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The tus Upload-Metadata header: pairs "KEY BASE64" apart by commas, as a
 * browser's tus client sends the file's name and what goes with it.  A
 * pure function (no MHD, no archive), fuzzed by tests/fuzz/fuzz-tus.c.
 *
 * Always holds: the whole header is checked, not only the pair asked for
 * (a malformed header is refused, whichever key is asked); a value is
 * decoded by libsodium's base64 decoder into a buffer sized from its
 * length, so nothing is read or written past either.  Workload: one header
 * of a few hundred bytes per upload created.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "web-internal.h"

int web_tus_metadata(const char *header, const char *key, struct prl_buf *out)
{
	size_t klen = strlen(key), val_len = 0, cap, bin_len = 0;
	const char *val = NULL;
	unsigned char *bin;
	int found = 0;

	if (!header)
		return 0;
	for (const char *p = header; *p;) {
		const char *end = strchr(p, ','), *sp;
		size_t n, name_len, vlen;

		while (*p == ' ')
			p++;
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		sp = memchr(p, ' ', n);
		name_len = sp ? (size_t)(sp - p) : n;
		/* a key: printable ASCII but space and comma, never empty */
		if (name_len == 0)
			return -1;
		for (size_t i = 0; i < name_len; i++)
			if (p[i] <= ' ' || p[i] > '~')
				return -1;
		vlen = sp ? n - name_len - 1 : 0;
		if (sp && (vlen == 0 || memchr(sp + 1, ' ', vlen)))
			return -1;
		/* every value must be base64; the one asked for is decoded last */
		for (size_t i = 0; i < vlen; i++)
			if (!isalnum((unsigned char)sp[1 + i]) && !strchr("+/=", sp[1 + i]))
				return -1;
		if (!found && name_len == klen && !memcmp(p, key, klen)) {
			val = vlen ? sp + 1 : "";
			val_len = vlen;
			found = 1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!found)
		return 0;
	/* base64 of val_len characters decodes to at most 3/4 of them */
	cap = val_len / 4 * 3 + 3;
	if (!(bin = malloc(cap)))
		return -1;
	if (val_len && sodium_base642bin(bin, cap, val, val_len, NULL, &bin_len, NULL,
					 sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(bin);
		return -1;
	}
	prl_buf_add(out, (const char *)bin, bin_len);
	free(bin);
	return 1;
}
