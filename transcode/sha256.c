/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fixity: streamed SHA-256 of a file with libsodium's audited implementation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "parlers/transcode.h"

int prl_sha256_file(const char *path, uint8_t out[32], struct prl_buf *err)
{
	crypto_hash_sha256_state st;
	unsigned char chunk[1 << 16];
	size_t n;
	FILE *f;
	int ret = 0;

	if (!(f = fopen(path, "rb"))) {
		if (err)
			prl_buf_addf(err, "cannot open: %s", strerror(errno));
		return -PRL_EIO;
	}
	crypto_hash_sha256_init(&st);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		crypto_hash_sha256_update(&st, chunk, n);
	if (ferror(f)) {
		if (err)
			prl_buf_addf(err, "cannot read: %s", strerror(errno));
		ret = -PRL_EIO;
	} else {
		crypto_hash_sha256_final(&st, out);
	}
	fclose(f);
	return ret;
}

void prl_sha256_hex(const uint8_t digest[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}
