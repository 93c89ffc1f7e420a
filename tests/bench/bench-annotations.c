/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Benchmark of the annotation formats at archive scale: a document of
 * 1,000,000 segments (a transcription tier and its translation, as the
 * ethnologists' files have) is written as TextGrid and as EAF, then each
 * file is read back.  Each step runs in its own child process so its peak
 * memory (getrusage ru_maxrss) is its own.  Prints segments per second and
 * peak memory per step; the goal is >= 200,000 segments/s and < 200 MB.
 *
 *   bench-annotations [SEGMENTS [DIR]]     (defaults: 1000000, /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parlers/annot.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct prl_annot_doc *generate(size_t n)
{
	struct prl_annot_doc *d = prl_annot_doc_new();
	char text[64];
	size_t i;
	int t, u;

	if (!d)
		return NULL;
	t = prl_annot_add_tier(d, "Cotentinais", "transcription");
	u = prl_annot_add_tier(d, "Français", "translation");
	if (t < 0 || u < 0)
		return NULL;
	d->tiers[u].parent = (size_t)t + 1;
	d->tiers[u].constraint = PRL_CONSTRAINT_SYMBOLIC_ASSOCIATION;
	for (i = 0; i < n / 2; i++) {
		snprintf(text, sizeof(text), "ch'est la mézoun n°%zu", i);
		if (prl_annot_add_segment(&d->tiers[t], (int64_t)i * 1000, (int64_t)i * 1000 + 1000,
					  text, 0) < 0)
			return NULL;
		snprintf(text, sizeof(text), "c'est la maison n°%zu", i);
		if (prl_annot_add_segment(&d->tiers[u], (int64_t)i * 1000, (int64_t)i * 1000 + 1000,
					  text, i + 1) < 0)
			return NULL;
	}
	d->xmax_ms = (int64_t)n * 500;
	return d;
}

/* Runs one step in a child; prints its rate and peak memory. */
static int step(const char *what, size_t n, int (*fn)(size_t n, const char *path), const char *path)
{
	int fds[2], status;
	double secs = 0;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		double t0;
		int ret;
		close(fds[0]);
		t0 = now();
		ret = fn(n, path);
		secs = now() - t0;
		if (write(fds[1], &secs, sizeof(secs)) != (ssize_t)sizeof(secs))
			_exit(3);
		_exit(ret < 0 ? 1 : 0);
	}
	close(fds[1]);
	if (read(fds[0], &secs, sizeof(secs)) != (ssize_t)sizeof(secs))
		secs = -1;
	close(fds[0]);
	{
		struct rusage ru;
		if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("%-16s FAILED\n", what);
			return -1;
		}
		printf("%-16s %9zu segments in %6.2f s = %9.0f segments/s, peak %6.1f MB\n", what,
		       n, secs, secs > 0 ? (double)n / secs : 0.0, (double)ru.ru_maxrss / 1024.0);
	}
	return 0;
}

static int do_write(size_t n, const char *path, enum prl_annot_format f)
{
	struct prl_annot_doc *d = generate(n);
	FILE *fp;
	int ret;

	if (!d || !(fp = fopen(path, "wb")))
		return -1;
	ret = prl_annot_write_file(f, d, NULL, fp, NULL);
	if (fclose(fp) != 0)
		ret = -1;
	prl_annot_doc_free(d);
	return ret;
}

static int do_read(size_t n, const char *path, enum prl_annot_format f)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;
	size_t got;
	int ret;

	ret = prl_annot_read_file(f, path, NULL, &d, &err, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", path, prl_buf_str(&err));
		prl_buf_release(&err);
		return ret;
	}
	got = d->ntiers == 2 ? d->tiers[0].nsegs + d->tiers[1].nsegs : 0;
	prl_annot_doc_free(d);
	prl_buf_release(&err);
	if (got < n) {
		fprintf(stderr, "%s: read %zu segments of %zu\n", path, got, n);
		return -1;
	}
	return 0;
}

static int write_tg(size_t n, const char *p)
{
	return do_write(n, p, PRL_FMT_TEXTGRID);
}
static int read_tg(size_t n, const char *p)
{
	return do_read(n, p, PRL_FMT_TEXTGRID);
}
static int write_eaf(size_t n, const char *p)
{
	return do_write(n, p, PRL_FMT_EAF);
}
static int read_eaf(size_t n, const char *p)
{
	return do_read(n, p, PRL_FMT_EAF);
}
static int gen_only(size_t n, const char *p)
{
	struct prl_annot_doc *d = generate(n);
	(void)p;
	prl_annot_doc_free(d);
	return d ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char tg[1024], eaf[1024];
	int bad = 0;

	snprintf(tg, sizeof(tg), "%s/bench-annotations-%d.TextGrid", dir, (int)getpid());
	snprintf(eaf, sizeof(eaf), "%s/bench-annotations-%d.eaf", dir, (int)getpid());
	bad |= step("model only", n, gen_only, NULL);
	bad |= step("TextGrid write", n, write_tg, tg);
	bad |= step("TextGrid read", n, read_tg, tg);
	bad |= step("EAF write", n, write_eaf, eaf);
	bad |= step("EAF read", n, read_eaf, eaf);
	unlink(tg);
	unlink(eaf);
	return bad ? 1 : 0;
}
