/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers annotations import|export: a recording's tiers in and out of the
 * interchange formats.  An import is one transaction (all or nothing); an
 * export to a file is written beside it and renamed into place, so a failed
 * export never leaves half a file.  What the target format cannot hold is
 * said as warnings on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void print_warnings(const char *what, struct prl_buf *w)
{
	char *line = w->data, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line)
			fprintf(stderr, "parlers: warning: %s: %s\n", what, line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

static void help(void)
{
	printf("usage: parlers [-d DIR] annotations import ID FILE [--replace] [--format F]\n"
	       "       parlers [-d DIR] annotations export ID --format F [-o FILE] [--tier "
	       "NAME]\n\n"
	       "import reads FILE (format from its extension, or --format) into recording ID's\n"
	       "tiers; with --replace the recording's tiers are replaced, otherwise a tier name\n"
	       "already there is an error. Formats: eaf, textgrid, vtt, srt, csv, json.\n\n"
	       "export writes the tiers as eaf, textgrid, vtt, srt, csv, json or tei to FILE\n"
	       "(default: standard output). vtt and srt write --tier NAME alone, by default\n"
	       "every top-level transcription tier in time order (vtt voices each cue with\n"
	       "its tier's speaker). What a format cannot hold is reported as a warning on\n"
	       "stderr.\n");
}

static int do_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"replace", no_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct prl_buf data = PRL_BUF_INIT, err = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	struct prl_annot_doc *doc = NULL;
	struct prl_archive *a = NULL;
	const char *dot, *path;
	int64_t id;
	int replace = 0, fmt = -1, opt, ret, status = 0;
	size_t t, nseg = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			replace = 1;
			break;
		case 'f':
			if ((fmt = prl_annot_format_parse(optarg)) < 0 || fmt == PRL_FMT_TEI)
				return cli_usage_error("annotations", "cannot import format '%s'",
						       optarg);
			break;
		default:
			return cli_unknown_option("annotations", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("annotations", "import needs ID and FILE");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("annotations", "'%s' is not a recording id", argv[optind]);
	path = argv[optind + 1];
	if (fmt < 0) {
		dot = strrchr(path, '.');
		if (!dot || (fmt = prl_annot_format_parse(dot)) < 0 || fmt == PRL_FMT_TEI)
			return cli_usage_error("annotations",
					       "cannot tell the format of '%s' (use --format)",
					       path);
	}
	if ((ret = prl_read_file(path, 0, &data)) < 0) {
		status = cli_error("%s: cannot read: %s", path, strerror(errno));
		goto end;
	}
	if ((ret = prl_annot_read((enum prl_annot_format)fmt, data.data, data.len, &doc, &err,
				  &warn)) < 0) {
		status = cli_error("%s: %s", path, err.len ? err.data : prl_strerror(ret));
		goto end;
	}
	print_warnings(path, &warn);
	if (cli_open(c, 0, &a)) {
		status = EXIT_WORK_FAILED;
		goto end;
	}
	if ((ret = prl_archive_annotations_import(a, id, doc, replace)) < 0) {
		status = cli_error("%s: %s", path, prl_archive_errmsg(a));
		goto end;
	}
	for (t = 0; t < doc->ntiers; t++)
		nseg += doc->tiers[t].nsegs;
	printf("%zu tier%s, %zu segment%s imported into recording %lld\n", doc->ntiers,
	       doc->ntiers == 1 ? "" : "s", nseg, nseg == 1 ? "" : "s", (long long)id);
end:
	prl_annot_doc_free(doc);
	prl_archive_close(a);
	prl_buf_release(&data);
	prl_buf_release(&err);
	prl_buf_release(&warn);
	return status;
}

static int write_out(const char *path, const struct prl_buf *b)
{
	struct prl_buf tmp = PRL_BUF_INIT;
	FILE *f;
	int ok;

	if (!path) {
		ok = fwrite(prl_buf_str(b), 1, b->len, stdout) == b->len && fflush(stdout) == 0;
		return ok ? 0 : cli_error("cannot write to standard output: %s", strerror(errno));
	}
	prl_buf_addf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (!(f = fopen(tmp.data, "wb"))) {
		cli_error("%s: cannot write: %s", path, strerror(errno));
		prl_buf_release(&tmp);
		return EXIT_WORK_FAILED;
	}
	ok = fwrite(prl_buf_str(b), 1, b->len, f) == b->len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp.data, path) != 0) {
		cli_error("%s: cannot write: %s", path, strerror(errno));
		unlink(tmp.data);
		prl_buf_release(&tmp);
		return EXIT_WORK_FAILED;
	}
	prl_buf_release(&tmp);
	return 0;
}

static int do_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"tier", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct prl_viewer v = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	struct prl_annot_write_opts wo;
	struct prl_recording_brief brief;
	struct prl_annot_doc *doc = NULL;
	struct prl_archive *a = NULL;
	const char *output = NULL;
	int64_t id;
	int fmt = -1, opt, ret, status = 0, have_brief = 0;

	memset(&wo, 0, sizeof(wo));
	wo.duration_ms = -1;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if ((fmt = prl_annot_format_parse(optarg)) < 0)
				return cli_usage_error("annotations", "unknown format '%s'",
						       optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			wo.tier = optarg;
			break;
		default:
			return cli_unknown_option("annotations", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("annotations", "export needs one recording ID");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("annotations", "'%s' is not a recording id", argv[optind]);
	if (fmt < 0)
		return cli_usage_error("annotations", "export needs --format");
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (prl_archive_recording_open(a, &v, id, PRL_SEE_ALL, &brief) < 0 ||
	    prl_archive_annotations_load(a, &v, id, &doc) < 0) {
		status = cli_error("export: %s", prl_archive_errmsg(a));
		goto end;
	}
	have_brief = 1;
	wo.title = brief.title;
	wo.duration_ms = brief.duration_ms;
	if ((ret = prl_annot_write((enum prl_annot_format)fmt, doc, &wo, &out, &warn)) < 0) {
		status = cli_error("export: %s", warn.len ? warn.data : prl_strerror(ret));
		goto end;
	}
	print_warnings(output ? output : "export", &warn);
	status = write_out(output, &out);
end:
	if (have_brief)
		prl_recording_brief_clear(&brief);
	prl_annot_doc_free(doc);
	prl_archive_close(a);
	prl_buf_release(&out);
	prl_buf_release(&warn);
	return status;
}

int cmd_annotations(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc < 2) {
			help();
			return EXIT_USAGE;
		}
		help();
		return 0;
	}
	if (cli_wants_help(argc, argv)) {
		help();
		return 0;
	}
	if (!strcmp(argv[1], "import"))
		return do_import(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return do_export(c, argc - 1, argv + 1);
	return cli_usage_error("annotations", "'%s': expected import or export", argv[1]);
}
