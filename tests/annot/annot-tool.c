/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A small driver over the annotation formats for the client test
 * (test-clients.sh): it reads a file, prints what it found, and writes it
 * again in another format, so real programs (Praat, ffmpeg, xmllint) can
 * be asked to read what parlers writes.
 *
 *   annot-tool info FILE            tier and segment counts, one line each
 *   annot-tool convert IN FMT OUT   IN (format from its extension) to OUT
 *
 * Exit status: 0 on success, 1 on a read or write failure (the reason on
 * stderr), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/annot.h"

static int format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? prl_annot_format_parse(dot + 1) : -1;
}

static struct prl_annot_doc *load(const char *path)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;
	int f = format_of(path), ret;

	if (f < 0) {
		fprintf(stderr, "%s: unknown format\n", path);
		return NULL;
	}
	ret = prl_annot_read_file((enum prl_annot_format)f, path, NULL, &d, &err, NULL);
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", path, prl_buf_str(&err));
	prl_buf_release(&err);
	return ret < 0 ? NULL : d;
}

int main(int argc, char **argv)
{
	struct prl_annot_doc *d;
	size_t i;

	if (argc == 3 && !strcmp(argv[1], "info")) {
		if (!(d = load(argv[2])))
			return 1;
		printf("tiers %zu\n", d->ntiers);
		for (i = 0; i < d->ntiers; i++)
			printf("tier %zu %zu %s\n", i + 1, d->tiers[i].nsegs, d->tiers[i].name);
		prl_annot_doc_free(d);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "convert")) {
		struct prl_buf warn = PRL_BUF_INIT;
		int f = prl_annot_format_parse(argv[3]), ret;
		FILE *fp;
		if (f < 0)
			return 2;
		if (!(d = load(argv[2])))
			return 1;
		if (!(fp = fopen(argv[4], "wb"))) {
			perror(argv[4]);
			prl_annot_doc_free(d);
			return 1;
		}
		ret = prl_annot_write_file((enum prl_annot_format)f, d, NULL, fp, &warn);
		if (fclose(fp) != 0 && ret >= 0)
			ret = -PRL_EIO;
		prl_annot_doc_free(d);
		prl_buf_release(&warn);
		if (ret < 0) {
			fprintf(stderr, "%s: %s\n", argv[4], prl_strerror(ret));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: annot-tool info FILE | convert IN FORMAT OUT\n");
	return 2;
}
