/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers export: a selection of recordings as a zipped BagIt bag (see
 * archive/export.c for what the bag holds).  The command line has staff
 * rights; --public makes the bag an anonymous visitor would get.
 *
 * Always holds: the zip goes straight to OUT as it is built (or to
 * standard output with -o -); when the export fails, OUT is removed, so
 * a file left at OUT is always a whole bag.
 *
 * Expected workload: one bag of up to tens of gigabytes, at disk speed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct sink {
	FILE *f;       /* OUT or stdout */
	int64_t bytes; /* written so far */
	int err;       /* errno of the first failed write */
};

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	if (fwrite(data, 1, len, s->f) != len) {
		s->err = errno ? errno : EIO;
		return s->err == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
	}
	s->bytes += (int64_t)len;
	return 0;
}

/* "1,2,3" into a new array (caller frees); -1 on a bad list. */
static int parse_ids(const char *s, int64_t **out, size_t *n)
{
	int64_t *ids = NULL, *t;
	size_t count = 0;
	char *copy = strdup(s), *tok, *save = NULL;
	int ret = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int64_t id;

		if (cli_parse_id(tok, &id) < 0 || !(t = realloc(ids, (count + 1) * sizeof(*ids)))) {
			ret = -1;
			break;
		}
		ids = t;
		ids[count++] = id;
	}
	free(copy);
	if (ret < 0 || !count) {
		free(ids);
		return -1;
	}
	*out = ids;
	*n = count;
	return 0;
}

static const char export_usage[] =
	"usage: parlers [-d DIR] export [--query Q] [--collection NAME] [--ids 1,2,3]\n"
	"         [--institution SHORT] [--route SLUG] [--audio original|flac|opus|none]\n"
	"         [--public] -o OUT.zip\n\n"
	"Writes the recordings selected (all of them when nothing is said)\n"
	"as a BagIt bag in a zip: audio, annotations (EAF, TextGrid, TEI,\n"
	"CSV), metadata tables and checksums.  With --query, the matching\n"
	"spans as clips and a concordance.  With --route, the recordings of a\n"
	"thematic route's stops and the route itself (data/routes/SLUG.json).\n"
	"--public: only what an\n"
	"anonymous visitor may have (original and FLAC audio are not).\n"
	"-o - writes to standard output.\n";

/* Reads export's options into *o, *v and *out; the ids of --ids go to
 * *ids (the caller frees them).  Returns -1 to go on, else the exit status. */
static int export_options(int argc, char **argv, struct prl_export_opts *o, struct prl_viewer *v,
			  const char **out, int64_t **ids)
{
	static const struct option opts[] = {
		{"query", required_argument, NULL, 'q'},
		{"collection", required_argument, NULL, 'c'},
		{"institution", required_argument, NULL, 'I'},
		{"ids", required_argument, NULL, 'i'},
		{"route", required_argument, NULL, 'R'},
		{"audio", required_argument, NULL, 'a'},
		{"public", no_argument, NULL, 'P'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, audio;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o->query = optarg;
			break;
		case 'c':
			o->collection = optarg;
			break;
		case 'I':
			o->institution = optarg;
			break;
		case 'R':
			o->route = optarg;
			break;
		case 'i':
			free(*ids);
			*ids = NULL;
			if (parse_ids(optarg, ids, &o->nids) < 0)
				return cli_usage_error("export",
						       "--ids takes ids separated by commas");
			o->ids = *ids;
			break;
		case 'a':
			if ((audio = prl_export_audio_parse(optarg)) < 0)
				return cli_usage_error(
					"export", "--audio must be original, flac, opus or none");
			o->audio = (enum prl_export_audio)audio;
			break;
		case 'P':
			*v = PRL_VIEWER_ANONYMOUS;
			break;
		case 'o':
			*out = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return 0;
		default:
			return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (!*out)
		return cli_usage_error("export", "say where the bundle goes with -o OUT.zip");
	return -1;
}

/* Steps export x to its end into s->f (OUT, or standard output); says
 * what was written.  Returns the exit status. */
static int export_write(struct prl_export *x, struct sink *s, const char *out)
{
	int ret;

	/* a large stdio buffer: the bag arrives in pieces of up to 1 MiB */
	setvbuf(s->f, NULL, _IOFBF, 1 << 20);
	while ((ret = prl_export_step(x)) > 0)
		;
	if (ret == 0 && fflush(s->f) != 0) {
		s->err = errno;
		ret = -PRL_EIO;
	}
	if (ret < 0)
		return cli_error("export: %s", s->err ? strerror(s->err) : prl_export_errmsg(x));
	fprintf(stderr, "parlers: %zu recordings, %lld bytes written to %s\n", prl_export_count(x),
		(long long)s->bytes, out);
	return 0;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	struct prl_viewer v = PRL_VIEWER_STAFF;
	struct prl_export_opts o;
	struct prl_export *x = NULL;
	struct prl_archive *a = NULL;
	struct sink s = {NULL, 0, 0};
	int64_t *ids = NULL;
	const char *out = NULL;
	int status;

	memset(&o, 0, sizeof(o));
	o.audio = PRL_EXPORT_ORIGINAL;
	if ((status = export_options(argc, argv, &o, &v, &out, &ids)) >= 0) {
		free(ids);
		return status;
	}
	if ((status = cli_open(c, 0, &a)) != 0)
		goto end;
	/* chosen before OUT exists: an export that cannot start leaves no file */
	o.tmp_dir = getenv("TMPDIR"); /* the library reads no environment */
	o.write = sink_write;
	o.ctx = &s;
	if (prl_export_open(a, &v, &o, &x) < 0) {
		status = cli_error("export: %s", prl_archive_errmsg(a));
		goto end;
	}
	if (strcmp(out, "-") == 0) {
		s.f = stdout;
	} else if (!(s.f = fopen(out, "wb"))) {
		status = cli_error("%s: %s", out, strerror(errno));
		goto end;
	}
	status = export_write(x, &s, out);
end:
	if (s.f && s.f != stdout) {
		if (fclose(s.f) != 0 && status == 0)
			status = cli_error("%s: %s", out, strerror(errno));
		if (status != 0)
			unlink(out); /* never leave half a bag that looks like one */
	}
	prl_export_free(x);
	prl_archive_close(a);
	free(ids);
	return status;
}
