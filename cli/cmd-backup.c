/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers backup, restore and verify-backup: a consistent copy of the
 * archive while the server runs, its check against its manifest, and its
 * restore into a new data folder (archive/backup.c does the work).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char backup_usage[] =
	"usage: parlers [-d DIR] backup [--copy] [--json] DEST\n\n"
	"Copies the archive into the folder DEST while it may be in use: the\n"
	"database through SQLite's online backup, then the media files that copy\n"
	"names, then DEST/MANIFEST with every file's SHA-256 and size. DEST is\n"
	"made when missing; else it must be empty or hold a backup of this same\n"
	"archive, which is brought up to date: files it has already are not\n"
	"copied again. Media files are hard-linked where DEST is on the same\n"
	"filesystem (--copy: always copied). Every byte is checked against its\n"
	"SHA-256 on its way. Prints one summary line (--json: one object).\n";

static const char restore_usage[] =
	"usage: parlers -d DIR restore [--json] SRC\n\n"
	"Restores the backup in folder SRC into the data folder DIR, which must\n"
	"be missing or empty. Every file is checked against the manifest first;\n"
	"a damaged or incomplete backup is refused and nothing is written.\n"
	"Prints one summary line (--json: one object).\n";

static const char verify_usage[] =
	"usage: parlers verify-backup [--json] SRC\n\n"
	"Re-reads every file of the backup in folder SRC against its manifest,\n"
	"and the manifest against the database in it. One line per problem:\n"
	"manifest, missing, size-mismatch, checksum-mismatch, unlisted (the\n"
	"database names a file the manifest does not hold). With --json, one\n"
	"object per problem and a last one with the totals. Exit status 1 when\n"
	"anything is wrong.\n";

/* Parses [--json] [--copy when copy is not NULL] ONE-PATH. */
static int parse_args(const char *cmd, const char *usage, int argc, char **argv, int *json,
		      int *copy, const char **path)
{
	int dashdash = 0;

	*path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!dashdash && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			fputs(usage, stdout);
			return -1;
		} else if (!dashdash && !strcmp(argv[i], "--json")) {
			*json = 1;
		} else if (!dashdash && copy && !strcmp(argv[i], "--copy")) {
			*copy = 1;
		} else if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = 1;
		} else if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
		} else if (*path) {
			return cli_usage_error(cmd, "one folder only ('%s' is another)", argv[i]);
		} else {
			*path = argv[i];
		}
	}
	if (!*path)
		return cli_usage_error(cmd, "which folder?");
	return 0;
}

static void print_json_str_field(struct prl_buf *b, const char *name, const char *v)
{
	prl_buf_addf(b, "\"%s\":", name);
	prl_json_str(b, v);
	prl_buf_addch(b, ',');
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
	struct prl_backup_opts o = {0};
	struct prl_backup_stats s;
	struct prl_archive *a;
	const char *dest;
	int json = 0, ret;

	if ((ret = parse_args("backup", backup_usage, argc, argv, &json, &o.copy_only, &dest)))
		return ret < 0 ? 0 : ret;
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (prl_archive_backup(a, dest, &o, &s) < 0) {
		cli_error("backup: %s", prl_archive_errmsg(a));
		prl_archive_close(a);
		return EXIT_WORK_FAILED;
	}
	prl_archive_close(a);
	if (json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addch(&b, '{');
		print_json_str_field(&b, "dest", dest);
		print_json_str_field(&b, "archive_id", s.archive_id);
		prl_buf_addf(&b,
			     "\"files\":%lld,\"bytes\":%lld,\"copied\":%lld,\"linked\":%lld,"
			     "\"kept\":%lld,\"bytes_copied\":%lld}",
			     (long long)s.files, (long long)s.bytes, (long long)s.copied,
			     (long long)s.linked, (long long)s.kept, (long long)s.bytes_copied);
		puts(b.data);
		prl_buf_release(&b);
	} else {
		printf("backup of %lld files (%.1f MB) in %s: %lld copied, %lld linked, %lld "
		       "there already\n",
		       (long long)s.files, s.bytes / 1e6, dest, (long long)s.copied,
		       (long long)s.linked, (long long)s.kept);
	}
	return 0;
}

int cmd_restore(struct cli *c, int argc, char **argv)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_backup_stats s;
	const char *src;
	int json = 0, ret;

	if ((ret = parse_args("restore", restore_usage, argc, argv, &json, NULL, &src)))
		return ret < 0 ? 0 : ret;
	if (prl_backup_restore(src, c->data_dir, &s, &err) < 0) {
		cli_error("restore: %s", prl_buf_str(&err));
		prl_buf_release(&err);
		return EXIT_WORK_FAILED;
	}
	prl_buf_release(&err);
	if (json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addch(&b, '{');
		print_json_str_field(&b, "source", src);
		print_json_str_field(&b, "data", c->data_dir);
		print_json_str_field(&b, "archive_id", s.archive_id);
		prl_buf_addf(&b, "\"files\":%lld,\"bytes\":%lld}", (long long)s.files,
			     (long long)s.bytes);
		puts(b.data);
		prl_buf_release(&b);
	} else {
		printf("restored %lld files (%.1f MB) from %s into %s\n", (long long)s.files,
		       s.bytes / 1e6, src, c->data_dir);
	}
	return 0;
}

static void report(void *ctx, enum prl_backup_problem p, const char *path, const char *detail)
{
	int *json = ctx;

	if (*json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addf(&b, "{\"problem\":\"%s\",", prl_backup_problem_name(p));
		print_json_str_field(&b, "path", path);
		prl_buf_addstr(&b, "\"detail\":");
		prl_json_str(&b, detail);
		prl_buf_addch(&b, '}');
		puts(b.data);
		prl_buf_release(&b);
	} else {
		printf("%s\t%s\t%s\n", prl_backup_problem_name(p), path, detail);
	}
}

int cmd_verify_backup(struct cli *c, int argc, char **argv)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_backup_stats s;
	const char *src;
	int json = 0, ret, n;

	(void)c;
	if ((ret = parse_args("verify-backup", verify_usage, argc, argv, &json, NULL, &src)))
		return ret < 0 ? 0 : ret;
	n = prl_backup_verify(src, report, &json, &s, &err);
	if (n < 0) {
		cli_error("verify-backup: %s", prl_buf_str(&err));
		prl_buf_release(&err);
		return EXIT_WORK_FAILED;
	}
	prl_buf_release(&err);
	if (json)
		printf("{\"ok\":%s,\"files\":%lld,\"bytes\":%lld,\"problems\":%d}\n",
		       n ? "false" : "true", (long long)s.files, (long long)s.bytes, n);
	fprintf(stderr, "%lld file%s checked (%.1f MB), %d problem%s\n", (long long)s.files,
		s.files == 1 ? "" : "s", s.bytes / 1e6, n, n == 1 ? "" : "s");
	return n ? EXIT_WORK_FAILED : 0;
}
