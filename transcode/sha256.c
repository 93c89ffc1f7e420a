/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fixity: the SHA-256 of a file's bytes, streamed in 256 KiB reads.
 *
 * OpenSSL's libcrypto does the hashing: it uses the CPU's SHA extensions
 * where there are some, which hashes a 600 MB master in about half a
 * second where a portable implementation (libsodium's) takes seven, and
 * the hash runs beside every ingest.  Memory is one read buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "parlers/transcode.h"

#define CHUNK (256 * 1024)

int prl_sha256_file(const char *path, uint8_t out[32], struct prl_buf *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *chunk = NULL;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	FILE *f = NULL;
	size_t n;
	int ret = 0;

	if (!(f = fopen(path, "rb"))) {
		if (err)
			prl_buf_addf(err, "cannot open: %s", strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	if (!(chunk = malloc(CHUNK)) || !(ctx = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	while ((n = fread(chunk, 1, CHUNK, f)) > 0) {
		if (!EVP_DigestUpdate(ctx, chunk, n)) {
			ret = -PRL_ENOMEM;
			goto end;
		}
	}
	if (ferror(f)) {
		if (err)
			prl_buf_addf(err, "cannot read: %s", strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	if (!EVP_DigestFinal_ex(ctx, digest, &len) || len != 32) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	memcpy(out, digest, 32);
end:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	if (f)
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
