/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers: the one program.  Global options, then a subcommand from the
 * table below (git's git.c layout).  Exit status: 0 success, 1 the work
 * failed, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *summary;
} commands[] = {
	{"init", cmd_init, "create an empty archive"},
	{"ingest", cmd_ingest, "add recordings (files or folders) with their sidecars"},
	{"list", cmd_list, "list the recordings"},
	{"show", cmd_show, "show one recording"},
	{"annotations", cmd_annotations, "import or export a recording's tiers"},
	{"search", cmd_search, "search every transcript"},
	{"variants", cmd_variants, "import or export the table of equivalent spellings"},
	{"reindex", cmd_reindex, "rebuild the search index"},
	{"serve", cmd_serve, "serve the archive over HTTP"},
	{"user", cmd_user, "add, change or remove the accounts of the web pages"},
	{"institution", cmd_institution, "add, change or show the institutions of the network"},
	{"fsck", cmd_fsck, "check every stored file against its SHA-256"},
	{"export", cmd_export, "write recordings as a BagIt bag in a zip"},
	{"backup", cmd_backup, "copy the archive, consistent while it runs, into a folder"},
	{"restore", cmd_restore, "restore a backup into a new data folder"},
	{"verify-backup", cmd_verify_backup, "check a backup against its manifest"},
	{"rebuild", cmd_rebuild, "make access copies and peaks again from the originals"},
	{"route", cmd_route, "add, list, show or delete the thematic routes"},
	{"segment", cmd_segment, "propose a segment per stretch of speech, as a new tier"},
	{"align", cmd_align, "place the lines of a transcript on a recording, as a new tier"},
	{"edit", cmd_edit, "correct a recording's metadata"},
	{"delete", cmd_delete, "delete a recording (it waits in the trash)"},
	{"restore-deleted", cmd_restore_deleted, "bring a deleted recording back from the trash"},
	{"trash", cmd_trash, "list the deleted recordings in the trash"},
	{"purge-trash", cmd_purge_trash, "remove for good what the trash kept long enough"},
	{"speaker", cmd_speaker, "list, edit or merge the speakers"},
	{"place", cmd_place, "list, edit or merge the places"},
	{"harvest", cmd_harvest, "add partners and harvest their catalogues over OAI-PMH"},
	{"theme", cmd_theme, "add, list, edit or delete the themes; tag recordings and segments"},
	{"recognize", cmd_recognize, "run a recognizer the operator declared, as a new tier"},
	{"accept", cmd_accept, "accept a machine-made tier or segment as reviewed"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: parlers [-d DIR] COMMAND [ARGS]\n\n"
		   "An archive for the sound heritage of regional dialects.\n\n"
		   "  -d DIR    the data folder (default: $PARLERS_DATA, else ./parlers-data)\n"
		   "  --media s3://BUCKET/PREFIX\n"
		   "            with init: keep the media in an S3-compatible object store\n"
		   "            (default: $PARLERS_MEDIA, else DIR/media)\n"
		   "  --version print the version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'parlers COMMAND --help' tells more about each.\n");
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("parlers: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_WORK_FAILED;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "parlers %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'parlers %s --help')\n", cmd);
	return EXIT_USAGE;
}

int cli_unknown_option(const char *cmd, char **argv)
{
	/* a short option inside a cluster ("-mezoun") leaves optind on the
	 * cluster: optopt names the letter; a long one is argv[optind - 1] */
	if (optopt)
		return cli_usage_error(cmd,
				       "unknown option '-%c' (a word starting with '-' "
				       "goes after '--')",
				       optopt);
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_open(struct cli *c, int create, struct prl_archive **out)
{
	struct prl_buf err = PRL_BUF_INIT, db = PRL_BUF_INIT;
	int ret, fresh;

	/* $PARLERS_MEDIA is for archives made now; --media for any */
	prl_buf_addf(&db, "%s/archive.db", c->data_dir);
	fresh = create && access(db.data, F_OK) != 0;
	prl_buf_release(&db);
	ret = prl_archive_open(c->data_dir, create ? PRL_OPEN_CREATE : 0, out, &err);
	if (ret < 0)
		cli_error("%s", prl_buf_str(&err));
	prl_buf_release(&err);
	if (ret < 0)
		return EXIT_WORK_FAILED;
	/* a new archive takes --media or $PARLERS_MEDIA; an archive without
	 * media yet takes --media; any other command given --media only
	 * checks it is the same */
	if (c->media && (fresh || c->media_given)) {
		const char *now = prl_archive_media_store(*out);
		int set = fresh || (create && !now);

		if (set ? prl_archive_media_store_set(*out, c->media) < 0
			: !now || strcmp(now, c->media) != 0) {
			if (set)
				cli_error("%s", prl_archive_errmsg(*out));
			else
				cli_error("this archive keeps its media in %s, not %s",
					  now ? now : "its media/ folder", c->media);
			prl_archive_close(*out);
			*out = NULL;
			return EXIT_WORK_FAILED;
		}
	}
	return 0;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

int cli_parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* How an archive's object store is reached: the environment's word. */
static void store_config_from_env(void)
{
	static struct prl_store_config sc;
	const char *v;

	sc.endpoint = getenv("PARLERS_S3_ENDPOINT");
	sc.region = getenv("AWS_REGION");
	sc.access_key = getenv("AWS_ACCESS_KEY_ID");
	sc.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	sc.credentials_file = getenv("PARLERS_S3_CREDENTIALS");
	if ((v = getenv("PARLERS_S3_TIMEOUT")))
		sc.timeout_s = strtol(v, NULL, 10);
	if ((v = getenv("PARLERS_MEDIA_CACHE_MB")))
		sc.cache_mb = strtoll(v, NULL, 10);
	prl_archive_store_config(&sc);
}

int main(int argc, char **argv)
{
	struct cli c = {NULL, "parlers", NULL, 0};
	const char *env = getenv("PARLERS_DATA");
	int i = 1;

	c.data_dir = env && *env ? env : "parlers-data";
	env = getenv("PARLERS_MEDIA");
	c.media = env && *env ? env : NULL;
	store_config_from_env();
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--data")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "parlers: -d needs a folder\n");
				return EXIT_USAGE;
			}
			c.data_dir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--data=", 7)) {
			c.data_dir = argv[i] + 7;
			i++;
		} else if (!strcmp(argv[i], "--media") || !strncmp(argv[i], "--media=", 8)) {
			if (argv[i][7] == '=') {
				c.media = argv[i] + 8;
				i++;
			} else if (i + 1 < argc) {
				c.media = argv[i + 1];
				i += 2;
			} else {
				fprintf(stderr, "parlers: --media needs s3://bucket/prefix\n");
				return EXIT_USAGE;
			}
			c.media_given = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("parlers %s\n", PARLERS_VERSION);
			return 0;
		} else {
			fprintf(stderr, "parlers: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(&c, argc - i, argv + i);
	fprintf(stderr, "parlers: '%s' is not a command\n", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
