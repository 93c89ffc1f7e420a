/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers ingest: files and folders into the archive.
 *
 * Folders are walked (sorted, so runs are repeatable) and every file whose
 * extension is audio is taken; sidecars beside it are read by the archive.
 * Each file is its own transaction: a bad file is reported and the next one
 * goes on.  One result line per file on stdout (tab-separated id, path,
 * status[, reason]), or one JSON object per line with --json; a failure is
 * also said on stderr.  On a terminal, a progress line on stderr shows the
 * files done of total, the current file and the speed in × real time.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct file_list {
	char **paths;
	int *unreadable; /* 1: a folder that could not be read (reported as failed) */
	size_t n, alloc;
};

static int list_add(struct file_list *l, const char *path, int unreadable)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 32;
		char **p = realloc(l->paths, na * sizeof(*p));
		int *u;

		if (!p)
			return -1;
		l->paths = p;
		if (!(u = realloc(l->unreadable, na * sizeof(*u))))
			return -1;
		l->unreadable = u;
		l->alloc = na;
	}
	if (!(l->paths[l->n] = strdup(path)))
		return -1;
	l->unreadable[l->n++] = unreadable;
	return 0;
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Collects the audio files under dir, depth first, names sorted. */
static int walk(const char *dir, struct file_list *out, int depth)
{
	struct prl_buf p = PRL_BUF_INIT;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	DIR *d;
	int ret = 0;

	if (depth > 32 || !(d = opendir(dir)))
		return list_add(out, dir, 1);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* hidden files and the staging folders of other tools */
		if (n == cap) {
			char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*g));

			if (!g) {
				ret = -1;
				goto end;
			}
			names = g;
		}
		if (!(names[n] = strdup(de->d_name))) {
			ret = -1;
			goto end;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && ret == 0; i++) {
		struct stat sb;

		prl_buf_reset(&p);
		prl_buf_addf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		if (stat(p.data, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			ret = walk(p.data, out, depth + 1);
		else if (S_ISREG(sb.st_mode) && prl_archive_is_audio_name(p.data))
			ret = list_add(out, p.data, 0);
	}
end:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	prl_buf_release(&p);
	return ret;
}

struct progress {
	int tty;
	size_t index, total;
	const char *path;
	double started;	   /* when the run began */
	double audio_done; /* seconds of audio in the files finished so far */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_progress(void *ctx, int64_t done, int64_t total)
{
	struct progress *p = ctx;
	const char *base = strrchr(p->path, '/') ? strrchr(p->path, '/') + 1 : p->path;
	double pct = total > 0 ? 100.0 * (double)done / (double)total : 0;

	if (!p->tty)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %.40s %3.0f%%", p->index + 1, p->total, base, pct);
	if (p->audio_done > 0 && now() > p->started)
		fprintf(stderr, "  %.1f× real time", p->audio_done / (now() - p->started));
	fflush(stderr);
}

static void print_result(int json, const char *path, const struct prl_ingest_result *r)
{
	if (json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addstr(&b, "{\"path\":");
		prl_json_str(&b, path);
		if (r->id)
			prl_buf_addf(&b, ",\"id\":%lld", (long long)r->id);
		else
			prl_buf_addstr(&b, ",\"id\":null");
		prl_buf_addf(&b,
			     ",\"status\":\"%s\",\"error\":", prl_ingest_status_name(r->status));
		prl_json_str(&b, r->status == PRL_FAILED ? prl_buf_str(&r->error) : NULL);
		if (r->sha256[0])
			prl_buf_addf(&b, ",\"sha256\":\"%s\"", r->sha256);
		if (r->status == PRL_INGESTED) {
			prl_buf_addf(&b, ",\"duration_ms\":%lld,\"loudness_lufs\":",
				     (long long)r->duration_ms);
			/* silence has no loudness: null, never -inf */
			if (isfinite(r->loudness_lufs))
				prl_buf_addf(&b, "%.2f", r->loudness_lufs);
			else
				prl_buf_addstr(&b, "null");
			prl_buf_addf(&b, ",\"gain_db\":%.2f",
				     isfinite(r->gain_db) ? r->gain_db : 0.0);
		}
		prl_buf_addstr(&b, "}\n");
		fputs(b.data, stdout);
		prl_buf_release(&b);
	} else if (r->status == PRL_FAILED) {
		printf("-\t%s\tfailed\t%s\n", path, prl_buf_str(&r->error));
	} else {
		printf("%lld\t%s\t%s\n", (long long)r->id, path, prl_ingest_status_name(r->status));
	}
	fflush(stdout);
}

static void help(void)
{
	printf("usage: parlers [-d DIR] ingest [--access public|restricted|private]\n"
	       "                          [--collection NAME] [--institution SHORT]\n"
	       "                          [--target-lufs L] [--json] PATH...\n\n"
	       "Adds recordings to the archive. PATH is an audio file or a folder (walked).\n"
	       "Beside an audio file NAME.ext, these sidecars are read when present:\n"
	       "  NAME.json                    metadata (see README, 'Metadata sidecar')\n"
	       "  NAME.eaf NAME.TextGrid NAME.vtt NAME.srt   annotation tiers\n\n"
	       "The original is kept byte for byte under its SHA-256; a file already in the\n"
	       "archive is reported as a duplicate. Loudness (EBU R128) is measured and access\n"
	       "copies (Ogg Opus, MP3) are made at the target loudness (default -18 LUFS),\n"
	       "with the true peak kept at or below -1 dBTP.\n\n"
	       "  --access LEVEL     used when a sidecar names none (default: private)\n"
	       "  --collection NAME  used when a sidecar names none\n"
	       "  --institution SHORT  the depositor when a sidecar names none (default:\n"
	       "                     the archive's first institution)\n"
	       "  --target-lufs L    loudness of the access copies (default -18)\n"
	       "  --json             one JSON object per file: {path, id, status, error}\n"
	       "  --accept-truncated keep a file cut short (a header promising more audio\n"
	       "                     than the file holds) with the audio it holds\n\n"
	       "Exit status: 0 when every file went in or was already there, 1 when any\n"
	       "failed, 2 on a usage error.\n");
}

/* Reads ingest's options into *io and *json (optind is left at the first
 * path).  Returns -1 to go on, else the exit status. */
static int ingest_options(int argc, char **argv, struct prl_ingest_opts *io, int *json)
{
	static const struct option opts[] = {
		{"access", required_argument, NULL, 'a'},
		{"collection", required_argument, NULL, 'c'},
		{"institution", required_argument, NULL, 'i'},
		{"target-lufs", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"accept-truncated", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if ((io->access = prl_access_parse(optarg)) < 0)
				return cli_usage_error("ingest", "--access must be public, "
								 "restricted or private");
			break;
		case 'c':
			io->collection = optarg;
			break;
		case 'i':
			if (!prl_institution_short_valid(optarg))
				return cli_usage_error("ingest",
						       "--institution: '%s' is no short name "
						       "(lowercase letters, digits, '-')",
						       optarg);
			io->institution = optarg;
			break;
		case 't':
			io->target_lufs = strtod(optarg, &end);
			if (*end || io->target_lufs > -5 || io->target_lufs < -70)
				return cli_usage_error("ingest", "--target-lufs must be a number "
								 "between -70 and -5");
			break;
		case 'j':
			*json = 1;
			break;
		case 'T':
			io->accept_truncated = 1;
			break;
		case 'h':
			help();
			return 0;
		default:
			return cli_unknown_option("ingest", argv);
		}
	}
	return -1;
}

/* The files the paths name: a folder is walked, anything else is taken as
 * it is (a missing path gets its own failed line later). */
static int collect_files(int argc, char **argv, int first, struct file_list *files)
{
	int i;

	for (i = first; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (walk(argv[i], files, 0) < 0)
				return -PRL_ENOMEM;
		} else if (list_add(files, argv[i], 0) < 0) {
			return -PRL_ENOMEM;
		}
	}
	return 0;
}

static void file_list_release(struct file_list *files)
{
	size_t i;

	for (i = 0; i < files->n; i++)
		free(files->paths[i]);
	free(files->paths);
	free(files->unreadable);
}

/* One "parlers: warning: PATH: ..." line per line of warnings. */
static void print_warnings(const char *path, char *warnings)
{
	char *line = warnings, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		fprintf(stderr, "parlers: warning: %s: %s\n", path, line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

/* What a run did, for its last line. */
struct tally {
	size_t ingested, duplicates, failed;
	double audio_s; /* seconds of audio ingested */
};

static void print_tally(const struct tally *t, double took)
{
	fprintf(stderr, "%zu ingested, %zu duplicate%s, %zu failed", t->ingested, t->duplicates,
		t->duplicates == 1 ? "" : "s", t->failed);
	if (t->audio_s > 0 && took > 0)
		fprintf(stderr, " (%.0f s of audio in %.1f s, %.1f× real time)", t->audio_s, took,
			t->audio_s / took);
	fputc('\n', stderr);
}

/* Ingests files->paths[i], prints its result line and counts it. */
static void ingest_one(struct prl_archive *a, const struct file_list *files, size_t i,
		       const struct prl_ingest_opts *io, int json, struct progress *prog,
		       struct tally *t)
{
	struct prl_ingest_result r;

	prl_ingest_result_init(&r);
	prog->index = i;
	prog->path = files->paths[i];
	if (files->unreadable[i])
		prl_buf_addf(&r.error, "cannot read folder: %s", strerror(EACCES));
	else
		prl_archive_ingest(a, files->paths[i], io, &r);
	if (prog->tty)
		fputs("\r\033[K", stderr);
	switch (r.status) {
	case PRL_INGESTED:
		t->ingested++;
		t->audio_s += (double)r.duration_ms / 1000.0;
		prog->audio_done = t->audio_s;
		break;
	case PRL_DUPLICATE:
		t->duplicates++;
		break;
	case PRL_FAILED:
		t->failed++;
		fprintf(stderr, "parlers: %s: %s\n", files->paths[i], prl_buf_str(&r.error));
		break;
	}
	if (r.warnings.len && !json)
		print_warnings(files->paths[i], r.warnings.data);
	print_result(json, files->paths[i], &r);
	prl_ingest_result_release(&r);
}

int cmd_ingest(struct cli *c, int argc, char **argv)
{
	struct prl_ingest_opts io = {-1, NULL, 0, NULL, NULL};
	struct file_list files = {NULL, NULL, 0, 0};
	struct tally tally = {0, 0, 0, 0};
	struct progress prog;
	struct prl_archive *a = NULL;
	double started = now();
	int json = 0, status;
	size_t i;

	if ((status = ingest_options(argc, argv, &io, &json)) >= 0)
		return status;
	if (optind >= argc)
		return cli_usage_error("ingest", "no file or folder given");
	if (collect_files(argc, argv, optind, &files) < 0) {
		file_list_release(&files);
		return cli_error("out of memory");
	}
	if (cli_open(c, 1, &a)) {
		file_list_release(&files);
		return EXIT_WORK_FAILED;
	}
	if (io.institution) {
		struct prl_viewer staff = PRL_VIEWER_STAFF;
		struct prl_buf inst = PRL_BUF_INIT;

		/* an unknown depositor would fail every file: say it once */
		status = prl_archive_institution_json(a, &staff, io.institution, &inst);
		prl_buf_release(&inst);
		if (status < 0) {
			status = cli_error("ingest: %s", prl_archive_errmsg(a));
			prl_archive_close(a);
			file_list_release(&files);
			return status;
		}
	}
	memset(&prog, 0, sizeof(prog));
	prog.started = started;
	prog.tty = isatty(STDERR_FILENO) && !json;
	prog.total = files.n;
	io.progress = on_progress;
	io.progress_ctx = &prog;
	for (i = 0; i < files.n; i++)
		ingest_one(a, &files, i, &io, json, &prog, &tally);
	if (!json)
		print_tally(&tally, now() - started);
	prl_archive_close(a);
	file_list_release(&files);
	return tally.failed ? EXIT_WORK_FAILED : 0;
}
