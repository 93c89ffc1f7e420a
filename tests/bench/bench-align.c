/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Benchmark of segmentation and forced alignment (speech/), in one run:
 *
 * 1. Accuracy on real speech (tests/speech/data): parlers's alignment
 *    beside the naive baseline issue 14 describes (40 ms frames, plain
 *    MFCC, full DTW between the whole recording and the whole synthetic
 *    voice, no pause handling, no snapping), boundary errors (median, 90th
 *    percentile, worst) and the ratio between the two.
 * 2. Speed: a 60-minute recording made of the French set 30 times over
 *    (each copy followed by 28 s of its hiss), with its 600 lines: decoded,
 *    analysed and segmented, then aligned, each in a child process whose
 *    wall time, CPU time and peak memory are measured; real-time factor
 *    beside.  Goals: segmentation <= 10 s, alignment <= 60 s and <= 300 MB.
 *
 * Usage: bench-align [TESTS_DIR]  (default: tests); BENCH_ALIGN_COPIES=N
 * repeats the French set N times instead of 30 (90: three hours).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "speech-internal.h"
#include "speech/eval.h"

#define NAIVE_STEP 4 /* 10 ms frames per naive frame: 40 ms steps */
/* copies of the French set in the long recording: 30 make an hour;
 * BENCH_ALIGN_COPIES=90 makes the three hours the issue names */
static int hour_copies = 30;

static char dir[512];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Plain MFCC every 40 ms of f (c1..c12, no normalisation), into a new
 * array of *n rows. */
static float *naive_feats(const struct prl_speech_feats *f, size_t *n)
{
	size_t m = f->n / NAIVE_STEP;
	float *x = malloc((m ? m : 1) * SPEECH_NCEP * sizeof(*x));

	for (size_t i = 0; x && i < m; i++)
		feats_cepstrum(f, i * NAIVE_STEP, x + i * SPEECH_NCEP);
	*n = m;
	return x;
}

static float dist(const float *a, const float *b)
{
	float s = 0;

	for (int k = 0; k < SPEECH_NCEP; k++)
		s += (a[k] - b[k]) * (a[k] - b[k]);
	return sqrtf(s);
}

/* The naive aligner: every line said by the same voice, one after the
 * other with the voice's own silences, full DTW, each line from the first
 * real frame its first synthetic frame meets to the last its last meets. */
static int naive_align(const struct prl_speech_feats *real, char **lines, size_t n,
		       const char *lang, struct prl_aligned *out)
{
	size_t na, nb = 0, cap = 0, *first = calloc(n + 1, sizeof(*first)), i, j;
	float *a = naive_feats(real, &na), *b = NULL;
	unsigned char *way;
	float *prev, *cur;

	for (size_t k = 0; k < n; k++) {
		struct prl_speech_feats *f = NULL;
		float *x = NULL, *row;
		size_t len = 0, m;
		int rate;

		first[k] = nb;
		if (synth_text(lang, lines[k], &x, &len, &rate, NULL) < 0 ||
		    prl_speech_analyse(x, len, rate, &f) < 0)
			return -1;
		free(x);
		row = naive_feats(f, &m);
		if (nb + m > cap) {
			cap = (nb + m) * 2;
			b = realloc(b, cap * SPEECH_NCEP * sizeof(*b));
		}
		memcpy(b + nb * SPEECH_NCEP, row, m * SPEECH_NCEP * sizeof(*row));
		nb += m;
		free(row);
		prl_speech_feats_free(&f);
	}
	first[n] = nb;
	way = malloc(na * nb);
	prev = malloc(nb * sizeof(*prev));
	cur = malloc(nb * sizeof(*cur));
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			float d = dist(a + i * SPEECH_NCEP, b + j * SPEECH_NCEP), best = INFINITY;
			unsigned char w = 3;

			if (i == 0 && j == 0)
				best = 0;
			if (i > 0 && j > 0 && prev[j - 1] < best)
				best = prev[j - 1], w = 0;
			if (i > 0 && prev[j] < best)
				best = prev[j], w = 1;
			if (j > 0 && cur[j - 1] < best)
				best = cur[j - 1], w = 2;
			cur[j] = best + d;
			way[i * nb + j] = w;
		}
		float *t = prev;
		prev = cur;
		cur = t;
	}
	for (size_t k = 0; k < n; k++) {
		out[k].start_ms = -1;
		out[k].end_ms = -1;
	}
	i = na - 1;
	j = nb - 1;
	for (;;) {
		size_t line = 0;
		unsigned char w = way[i * nb + j];

		while (line + 1 < n && j >= first[line + 1])
			line++;
		if (j == first[line])
			out[line].start_ms = (int64_t)(i * NAIVE_STEP * SPEECH_HOP_MS);
		if (j == first[line + 1] - 1 && out[line].end_ms < 0)
			out[line].end_ms = (int64_t)((i + 1) * NAIVE_STEP * SPEECH_HOP_MS);
		if (w == 3)
			break;
		if (w == 0)
			i--, j--;
		else if (w == 1)
			i--;
		else
			j--;
	}
	free(way);
	free(prev);
	free(cur);
	free(a);
	free(b);
	free(first);
	return 0;
}

static char **read_lines(const char *path, size_t *n)
{
	struct prl_buf text = PRL_BUF_INIT, err = PRL_BUF_INIT;
	char **lines = NULL;

	if (prl_read_file(path, 0, &text) < 0 ||
	    prl_speech_lines_parse(text.data, text.len, &lines, n, &err) < 0)
		lines = NULL;
	prl_buf_release(&text);
	prl_buf_release(&err);
	return lines;
}

static void add_errors(const struct prl_aligned *al, const struct ref_line *ref, int n, long *v,
		       int *nv)
{
	for (int k = 0; k < n; k++) {
		v[(*nv)++] = labs((long)al[k].start_ms - ref[k].start_ms);
		v[(*nv)++] = labs((long)al[k].end_ms - ref[k].end_ms);
	}
}

static void stats(const char *what, long *v, int n, long *med)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	*med = v[n / 2];
	printf("  %-28s median %4ld ms   90th percentile %5ld ms   worst %5ld ms   (%d "
	       "boundaries)\n",
	       what, v[n / 2], v[(int)(0.9 * (n - 1))], v[n - 1], n);
}

static void accuracy(void)
{
	static const char *sets[][2] = {{"fr-prompts", "fr"}, {"en-librivox", "en"}};
	long ours[1024], base[1024], mo, mb, po, pb;
	int no = 0, nb = 0;

	printf("Alignment on real speech (tests/speech/data), parlers beside the naive "
	       "baseline:\n");
	for (size_t s = 0; s < 2; s++) {
		char path[700];
		struct prl_speech_feats *f = NULL;
		struct prl_speech_align_opts o = {0};
		struct ref_line *ref = calloc(256, sizeof(*ref));
		struct prl_aligned *al = NULL, *nv;
		size_t n = 0;
		char **lines;
		int nr;

		snprintf(path, sizeof(path), "%s/speech/data/%s.ref.tsv", dir, sets[s][0]);
		nr = ref_read(path, ref, 256);
		snprintf(path, sizeof(path), "%s/speech/data/%s.txt", dir, sets[s][0]);
		lines = read_lines(path, &n);
		snprintf(path, sizeof(path), "%s/speech/data/%s.flac", dir, sets[s][0]);
		if (!lines || nr != (int)n || prl_speech_analyse_file(path, &f, NULL) < 0) {
			fprintf(stderr, "bench-align: cannot read the set %s\n", sets[s][0]);
			exit(1);
		}
		o.language = sets[s][1];
		nv = calloc(n, sizeof(*nv));
		if (prl_speech_align(f, lines, n, &o, &al, NULL) < 0 ||
		    naive_align(f, lines, n, sets[s][1], nv) < 0) {
			fprintf(stderr, "bench-align: alignment failed on %s\n", sets[s][0]);
			exit(1);
		}
		{
			long one[512], med;
			int k = 0;

			printf(" %s (%s, %zu lines):\n", sets[s][0], sets[s][1], n);
			add_errors(al, ref, nr, one, &k);
			stats("parlers", one, k, &med);
			k = 0;
			add_errors(nv, ref, nr, one, &k);
			stats("naive (40 ms, MFCC, DTW)", one, k, &med);
		}
		add_errors(al, ref, nr, ours, &no);
		add_errors(nv, ref, nr, base, &nb);
		free(al);
		free(nv);
		free(ref);
		prl_speech_lines_free(lines, n);
		prl_speech_feats_free(&f);
	}
	printf(" both sets:\n");
	stats("parlers", ours, no, &mo);
	stats("naive (40 ms, MFCC, DTW)", base, nb, &mb);
	po = ours[(int)(0.9 * (no - 1))];
	pb = base[(int)(0.9 * (nb - 1))];
	printf("  ratio naive/parlers: median %.1fx, 90th percentile %.1fx\n\n",
	       (double)mb / (double)(mo ? mo : 1), (double)pb / (double)(po ? po : 1));
}

/* The hour: the French set hour_copies times, each copy followed by the
 * quietest 28 s stretch the set offers (its hiss), as 16-bit WAV. */
static int make_hour(const char *wav, const char *txt, double *seconds)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "set -e; d=$(mktemp -d); sox '%s/speech/data/fr-prompts.flac' $d/one.wav; "
		 "sox $d/one.wav $d/hiss.wav trim 0 0.75 repeat 36; "
		 "sox $d/one.wav $d/hiss.wav $d/block.wav; "
		 "sox $d/block.wav '%s' repeat %d; "
		 "for i in $(seq %d); do cat '%s/speech/data/fr-prompts.txt'; done > '%s'; "
		 "rm -r $d",
		 dir, wav, hour_copies - 1, hour_copies, dir, txt);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "soxi -D '%s'", wav);
	{
		FILE *p = popen(cmd, "r");

		if (!p || fscanf(p, "%lf", seconds) != 1)
			*seconds = 0;
		if (p)
			pclose(p);
	}
	return 0;
}

/* Runs what in a child; prints its wall and CPU time and peak memory. */
static void measure(const char *name, double audio_s, double goal_s, int (*what)(void *), void *ctx)
{
	struct rusage ru;
	double t0 = now(), wall;
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(what(ctx) == 0 ? 0 : 1);
	wait4(pid, &status, 0, &ru);
	wall = now() - t0;
	printf("  %-34s %6.1f s wall  %6.1f s CPU  %5ld MB peak  %6.0fx real time  goal <= %.0f "
	       "s: %s%s\n",
	       name, wall, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_maxrss / 1024, audio_s / wall, goal_s, wall <= goal_s ? "met" : "NOT met",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : " (FAILED)");
}

struct hour {
	const char *wav, *txt;
	double seconds; /* the whole recording */
};

static int do_segment(void *ctx)
{
	struct hour *h = ctx;
	struct prl_speech_feats *f = NULL;
	struct prl_span *s = NULL;
	size_t n = 0;

	if (prl_speech_analyse_file(h->wav, &f, NULL) < 0 ||
	    prl_speech_segment(f, NULL, &s, &n) < 0)
		return 1;
	fprintf(stderr, "  (%zu stretches of speech)\n", n);
	return 0;
}

static int do_align(void *ctx)
{
	struct hour *h = ctx;
	struct prl_speech_feats *f = NULL;
	struct prl_speech_align_opts o = {0};
	struct prl_aligned *al = NULL;
	struct prl_buf err = PRL_BUF_INIT;
	size_t n = 0, doubtful = 0;
	char **lines = read_lines(h->txt, &n);

	if (!lines || prl_speech_analyse_file(h->wav, &f, NULL) < 0 ||
	    prl_speech_align(f, lines, n, &o, &al, &err) < 0) {
		fprintf(stderr, "bench-align: %s\n", err.data);
		return 1;
	}
	for (size_t k = 0; k < n; k++)
		doubtful += al[k].doubtful != 0;
	{
		/* the reference: the French set's, shifted by each copy's start */
		struct ref_line *one = calloc(64, sizeof(*one));
		long *v = calloc(2 * n, sizeof(*v)),
		     block = lround(h->seconds * 1000 / hour_copies);
		char path[700];
		int nr, nv = 0;

		snprintf(path, sizeof(path), "%s/speech/data/fr-prompts.ref.tsv", dir);
		nr = one ? ref_read(path, one, 64) : -1;
		for (size_t k = 0; v && nr > 0 && k < n; k++) {
			const struct ref_line *r = &one[k % (size_t)nr];
			long shift = (long)(k / (size_t)nr) * block;

			v[nv++] = labs((long)al[k].start_ms - (r->start_ms + shift));
			v[nv++] = labs((long)al[k].end_ms - (r->end_ms + shift));
		}
		if (nv) {
			qsort(v, (size_t)nv, sizeof(*v), cmp_long);
			fprintf(stderr,
				"  (%zu lines, %zu doubtful; boundary error median %ld ms, 90th "
				"percentile %ld ms, worst %ld ms)\n",
				n, doubtful, v[nv / 2], v[(int)(0.9 * (nv - 1))], v[nv - 1]);
		}
		free(one);
		free(v);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hour h = {"/tmp/parlers-bench-align-hour.wav", "/tmp/parlers-bench-align-hour.txt",
			 0};
	double seconds = 0;

	snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "tests");
	if (getenv("BENCH_ALIGN_COPIES") && atoi(getenv("BENCH_ALIGN_COPIES")) > 0)
		hour_copies = atoi(getenv("BENCH_ALIGN_COPIES"));
	accuracy();
	if (make_hour(h.wav, h.txt, &seconds) < 0) {
		fprintf(stderr, "bench-align: cannot make the hour-long recording (sox?)\n");
		return 1;
	}
	h.seconds = seconds;
	printf("Speed on %.1f minutes of recording with %d lines (2-core machine):\n", seconds / 60,
	       hour_copies * 20);
	fflush(stdout);
	measure("decode + analyse + segment", seconds, 10.0 * hour_copies / 30, do_segment, &h);
	fflush(stdout);
	measure("decode + analyse + align", seconds, 60.0 * hour_copies / 30, do_align, &h);
	unlink(h.wav);
	unlink(h.txt);
	return 0;
}
