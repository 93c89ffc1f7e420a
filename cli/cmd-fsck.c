/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers fsck: re-reads every stored file and reports each whose bytes no
 * longer match their SHA-256, each missing file and each stray one.  Exit
 * status 1 when anything is wrong, so a cron job can watch an archive.
 * What a killed ingest left is told apart (leftover, exit 0); --repair
 * removes it and makes damaged or missing derivatives again from their
 * originals.  An original is never written: a damaged one is reported
 * with the backup folders (--backups) that hold a good copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct fsck_ctx {
	int json;
	int leftovers; /* reported, not problems */
};

static void removed(void *ctx, const char *path)
{
	struct fsck_ctx *c = ctx;

	if (c->json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addstr(&b, "{\"removed\":");
		prl_json_str(&b, path);
		prl_buf_addch(&b, '}');
		puts(b.data);
		prl_buf_release(&b);
	} else {
		printf("removed\t%s\n", path);
	}
}

static void report(void *ctx, enum prl_fsck_problem p, const char *path, int64_t rid)
{
	struct fsck_ctx *c = ctx;

	if (p == PRL_FSCK_LEFTOVER)
		c->leftovers++;
	if (c->json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addf(&b, "{\"problem\":\"%s\",\"path\":", prl_fsck_problem_name(p));
		prl_json_str(&b, path);
		if (rid)
			prl_buf_addf(&b, ",\"recording_id\":%lld}", (long long)rid);
		else
			prl_buf_addstr(&b, ",\"recording_id\":null}");
		puts(b.data);
		prl_buf_release(&b);
	} else if (rid) {
		printf("%s\t%s\trecording %lld\n", prl_fsck_problem_name(p), path, (long long)rid);
	} else {
		printf("%s\t%s\n", prl_fsck_problem_name(p), path);
	}
}

static void repaired(void *ctx, enum prl_repair_outcome o, const char *path, int64_t rid,
		     const char *detail)
{
	struct fsck_ctx *c = ctx;
	struct prl_buf b = PRL_BUF_INIT;

	if (c->json) {
		prl_buf_addf(&b, "{\"repair\":\"%s\",\"path\":", prl_repair_outcome_name(o));
		prl_json_str(&b, path);
		prl_buf_addf(&b, ",\"recording_id\":%lld,\"detail\":", (long long)rid);
		prl_json_str(&b, detail);
		prl_buf_addch(&b, '}');
	} else {
		prl_buf_addf(&b, "%s\t%s\trecording %lld", prl_repair_outcome_name(o), path,
			     (long long)rid);
		if (detail)
			prl_buf_addf(&b, "\t%s", detail);
	}
	puts(b.data);
	prl_buf_release(&b);
}

static const char fsck_usage[] =
	"usage: parlers [-d DIR] fsck [--repair] [--backups DIR]... [--json]\n\n"
	"Re-reads every stored file and reports, one per line, each whose bytes\n"
	"no longer match their SHA-256 (checksum-mismatch), whose size changed\n"
	"(size-mismatch), that is missing, or that nothing in the archive names\n"
	"(stray). What an interrupted ingest left (its staging folder, files it\n"
	"was moving) is reported as leftover: no damage, and the next ingest\n"
	"clears it. --repair removes leftovers first (removed, one per line),\n"
	"then makes each damaged or missing derivative (Opus, MP3, peaks, muted\n"
	"copy) again from its original (rebuilt, or not-rebuilt with why).\n"
	"An original is never written: a damaged or missing one is reported as\n"
	"original-damaged, naming the backup folders given with --backups DIR\n"
	"(repeatable; with or without --repair) that hold a copy with its\n"
	"SHA-256; parlers restore, or a copy of that one file, brings it back.\n"
	"Then every file is checked again. With --json, one JSON object per\n"
	"line. Exit status 1 when anything is wrong after the repair.\n";

int cmd_fsck(struct cli *c, int argc, char **argv)
{
	struct fsck_ctx ctx = {0, 0};
	struct prl_archive *a;
	const char **g;
	int64_t checked = 0;
	const char **backups = NULL;
	int n, repair = 0, ret = EXIT_WORK_FAILED;
	size_t nbackups = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(fsck_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			ctx.json = 1;
		} else if (!strcmp(argv[i], "--repair")) {
			repair = 1;
		} else if (!strcmp(argv[i], "--backups")) {
			if (i + 1 == argc) {
				free(backups);
				return cli_usage_error("fsck", "--backups needs a folder");
			}
			if (!(g = realloc(backups, (nbackups + 1) * sizeof(*g)))) {
				free(backups);
				cli_error("fsck: out of memory");
				return EXIT_WORK_FAILED;
			}
			backups = g;
			backups[nbackups++] = argv[++i];
		} else {
			free(backups);
			return cli_usage_error("fsck", "unexpected argument '%s'", argv[i]);
		}
	}
	if (cli_open(c, 0, &a)) {
		free(backups);
		return EXIT_WORK_FAILED;
	}
	if (repair && prl_archive_clear_leftovers(a, removed, &ctx) < 0)
		goto fail;
	if (repair || nbackups) {
		struct prl_repair_opts ro = {repair, backups, nbackups};

		if (prl_archive_repair(a, &ro, repaired, &ctx) < 0)
			goto fail;
	}
	n = prl_archive_fsck(a, report, &ctx, &checked);
	if (n < 0)
		goto fail;
	prl_archive_close(a);
	free(backups);
	fprintf(stderr, "%lld file%s checked, %d problem%s", (long long)checked,
		checked == 1 ? "" : "s", n, n == 1 ? "" : "s");
	if (ctx.leftovers)
		fprintf(stderr,
			", %d leftover%s of interrupted ingests (fsck --repair clears them)",
			ctx.leftovers, ctx.leftovers == 1 ? "" : "s");
	fputc('\n', stderr);
	return n ? EXIT_WORK_FAILED : 0;
fail:
	cli_error("fsck: %s", prl_archive_errmsg(a));
	prl_archive_close(a);
	free(backups);
	return ret;
}
