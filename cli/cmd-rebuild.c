/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers rebuild: makes the derivatives (access copies, peaks, muted
 * copies) again from the originals (archive/rebuild.c does the work).  One
 * line per recording; on a terminal a progress line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char rebuild_usage[] =
	"usage: parlers [-d DIR] rebuild [--ids 1,2,3] [--what opus,mp3,peaks,muted] [--json]\n\n"
	"Makes the derivatives of the recordings (all, or --ids) again from their\n"
	"originals: the Opus and MP3 access copies with the gain they were made\n"
	"with, the waveform peaks, and the copies in which withheld passages are\n"
	"silent (--what picks some; default all). An original is checked against\n"
	"its SHA-256 first and never written. Each new file replaces the old one\n"
	"by a rename, then its row gets the new size and SHA-256. One line per\n"
	"recording, ID<TAB>rebuilt<TAB>KINDS or ID<TAB>failed<TAB>REASON (--json:\n"
	"{id, status, rebuilt, error}). Exit status 1 when any failed.\n";

struct rebuild_ctx {
	int json;
	int tty; /* a progress line on stderr */
};

/* The kinds in done as "opus,mp3" (or a JSON array) into b. */
static void kinds_list(struct prl_buf *b, unsigned done, int json)
{
	int first = 1;

	if (json)
		prl_buf_addch(b, '[');
	for (unsigned bit = 1; bit <= PRL_REBUILD_MUTED; bit <<= 1) {
		if (!(done & bit))
			continue;
		if (!first)
			prl_buf_addch(b, ',');
		prl_buf_addf(b, json ? "\"%s\"" : "%s", prl_rebuild_kind_name(bit));
		first = 0;
	}
	if (json)
		prl_buf_addch(b, ']');
	else if (first)
		prl_buf_addstr(b, "-");
}

static void report(void *ctx, int64_t id, unsigned done, const char *error)
{
	struct rebuild_ctx *c = ctx;
	struct prl_buf b = PRL_BUF_INIT;

	if (c->tty)
		fputs("\r\033[K", stderr);
	if (c->json) {
		prl_buf_addf(&b, "{\"id\":%lld,\"status\":\"%s\",\"rebuilt\":", (long long)id,
			     error ? "failed" : "rebuilt");
		kinds_list(&b, done, 1);
		prl_buf_addstr(&b, ",\"error\":");
		prl_json_str(&b, error);
		prl_buf_addch(&b, '}');
	} else {
		prl_buf_addf(&b, "%lld\t%s\t", (long long)id, error ? "failed" : "rebuilt");
		if (error)
			prl_buf_addstr(&b, error);
		else
			kinds_list(&b, done, 0);
	}
	puts(b.data);
	fflush(stdout);
	prl_buf_release(&b);
}

static void on_progress(void *ctx, int64_t done, int64_t total)
{
	struct rebuild_ctx *c = ctx;

	if (!c->tty)
		return;
	fprintf(stderr, "\r\033[Krebuild: %lld/%lld recordings", (long long)done, (long long)total);
	fflush(stderr);
}

/* "1,2,3" into *ids (caller frees); -1 on an empty or bad list. */
static int ids_parse(const char *list, int64_t **ids, size_t *n)
{
	size_t count = 1, k = 0;
	int64_t *v;

	for (const char *p = list; *p; p++)
		count += *p == ',';
	if (!(v = calloc(count, sizeof(*v))))
		return -1;
	for (const char *p = list; k < count; k++) {
		size_t len = strcspn(p, ",");
		char one[24];

		if (!len || len >= sizeof(one)) {
			free(v);
			return -1;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (cli_parse_id(one, &v[k]) < 0) {
			free(v);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	*ids = v;
	*n = count;
	return 0;
}

int cmd_rebuild(struct cli *c, int argc, char **argv)
{
	struct prl_rebuild_opts o = {0};
	struct rebuild_ctx ctx = {0, 0};
	struct prl_archive *a;
	int64_t *ids = NULL;
	int n;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(rebuild_usage, stdout);
			free(ids);
			return 0;
		} else if (!strcmp(arg, "--json")) {
			ctx.json = 1;
		} else if (!strcmp(arg, "--ids") && i + 1 < argc) {
			free(ids);
			ids = NULL;
			if (ids_parse(argv[++i], &ids, &o.nids) < 0)
				return cli_usage_error("rebuild", "--ids wants ids like 1,2,3");
		} else if (!strcmp(arg, "--what") && i + 1 < argc) {
			if (prl_rebuild_what_parse(argv[++i], &o.what) < 0) {
				free(ids);
				return cli_usage_error("rebuild",
						       "--what takes opus, mp3, peaks, muted "
						       "(comma-separated)");
			}
		} else {
			free(ids);
			return cli_usage_error("rebuild", "unexpected argument '%s'", arg);
		}
	}
	o.ids = ids;
	ctx.tty = isatty(STDERR_FILENO) && !ctx.json;
	o.progress = on_progress;
	o.progress_ctx = &ctx;
	if (cli_open(c, 0, &a)) {
		free(ids);
		return EXIT_WORK_FAILED;
	}
	n = prl_archive_rebuild(a, &o, report, &ctx);
	if (ctx.tty)
		fputs("\r\033[K", stderr);
	if (n < 0)
		cli_error("rebuild: %s", prl_archive_errmsg(a));
	else if (n > 0)
		cli_error("rebuild: %d recording%s failed", n, n == 1 ? "" : "s");
	prl_archive_close(a);
	free(ids);
	return n ? EXIT_WORK_FAILED : 0;
}
