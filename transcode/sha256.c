/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fixity: the SHA-256 of a file's bytes, streamed in 256 KiB reads.
 *
 * OpenSSL's libcrypto does the hashing: it uses the CPU's SHA extensions
 * where there are some, which hashes a 600 MB master in about half a
 * second where a portable implementation (libsodium's) takes seven, and
 * the hash runs beside every ingest.  Memory is one read buffer.
 *
 * The resumable hash of uploads uses OpenSSL's SHA256_CTX: the one
 * interface of the library whose state is a plain struct that can be
 * saved and loaded (EVP's contexts cannot be).  It runs the same
 * instructions; OpenSSL 3 marks it deprecated, hence the define below.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

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

_Static_assert(sizeof(SHA256_CTX) == PRL_SHA256_STATE_SIZE, "SHA256_CTX is the saved state");
_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct prl_sha256 *)0)->u.bytes),
	       "struct prl_sha256 holds a SHA256_CTX");

void prl_sha256_init(struct prl_sha256 *h)
{
	memset(h, 0, sizeof(*h));
	SHA256_Init((SHA256_CTX *)h->u.bytes);
}

void prl_sha256_update(struct prl_sha256 *h, const void *data, size_t n)
{
	SHA256_Update((SHA256_CTX *)h->u.bytes, data, n);
}

void prl_sha256_peek(const struct prl_sha256 *h, uint8_t out[32])
{
	SHA256_CTX copy;

	memcpy(&copy, h->u.bytes, sizeof(copy));
	SHA256_Final(out, &copy);
}

void prl_sha256_save(const struct prl_sha256 *h, unsigned char out[PRL_SHA256_STATE_SIZE])
{
	memcpy(out, h->u.bytes, PRL_SHA256_STATE_SIZE);
}

int prl_sha256_load(struct prl_sha256 *h, const void *state, size_t n)
{
	SHA256_CTX c;

	if (!state || n != PRL_SHA256_STATE_SIZE)
		return -PRL_EFORMAT;
	memcpy(&c, state, sizeof(c));
	/* what SHA256_Init and SHA256_Update leave: a digest length of 32
	 * and fewer than a block's bytes waiting */
	if (c.md_len != SHA256_DIGEST_LENGTH || c.num >= SHA_CBLOCK)
		return -PRL_EFORMAT;
	memset(h, 0, sizeof(*h));
	memcpy(h->u.bytes, &c, sizeof(c));
	return 0;
}
