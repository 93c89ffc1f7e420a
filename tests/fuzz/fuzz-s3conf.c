/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for what names an object store: the input's first line is
 * the address (as --media or media.conf give it), the rest the file of
 * NAME=VALUE lines that PARLERS_S3_CREDENTIALS names (and nothing else
 * set).  Each call either
 * makes a client or refuses with a sentence; nothing is sent (a client is
 * made, never used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char file[64];
	static struct prl_store_config config;
	struct prl_buf err = PRL_BUF_INIT;
	struct archive_s3 *s = NULL;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ulen = nl ? (size_t)(nl - data) : size;
	char *url = strndup((const char *)data, ulen);
	FILE *f;
	int ret;

	if (!file[0]) {
		int fd;

		snprintf(file, sizeof(file), "/tmp/fuzz-s3conf-XXXXXX");
		if ((fd = mkstemp(file)) < 0)
			abort();
		close(fd);
		config.credentials_file = file;
	}
	if (!url || !(f = fopen(file, "wb")))
		abort();
	if (nl)
		fwrite(nl + 1, 1, size - ulen - 1, f);
	fclose(f);
	ret = archive_s3_open(url, &config, &s, &err);
	if (ret < 0 && (s || !err.len || strchr(err.data, '\n')))
		abort(); /* a refusal is one sentence, and leaves nothing made */
	if (ret == 0 && !s)
		abort();
	archive_s3_free(s);
	prl_buf_release(&err);
	free(url);
	return 0;
}
