/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Measures of segmentation and alignment against a reference, shared by
 * the speech tests and the alignment benchmark: the share of 10 ms frames
 * classed as the reference classes them, the share of reference
 * boundaries with a proposed one within 100 ms, and the absolute errors
 * of aligned boundaries (median, 90th percentile, worst).
 */
#ifndef PARLERS_TESTS_SPEECH_EVAL_H
#define PARLERS_TESTS_SPEECH_EVAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/speech.h"

struct ref_line {
	long start_ms, end_ms;
	char text[1024];
};

/* Reads "start\tend[\ttext]" lines; returns the count or -1. */
static inline int ref_read(const char *path, struct ref_line *out, int max)
{
	FILE *f = fopen(path, "r");
	char line[1200];
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *tab;

		line[strcspn(line, "\r\n")] = '\0';
		out[n].text[0] = '\0';
		if (sscanf(line, "%ld\t%ld", &out[n].start_ms, &out[n].end_ms) != 2)
			continue;
		if ((tab = strchr(line, '\t')) && (tab = strchr(tab + 1, '\t')))
			snprintf(out[n].text, sizeof(out[n].text), "%s", tab + 1);
		n++;
	}
	fclose(f);
	return n;
}

/* Share of 10 ms frames of [0, dur_ms) on which spans and ref agree. */
static inline double seg_frame_accuracy(const struct prl_span *s, size_t ns,
					const struct ref_line *r, int nr, long dur_ms)
{
	long frames = dur_ms / 10, agree = 0;

	for (long i = 0; i < frames; i++) {
		long t = i * 10 + 5;
		int a = 0, b = 0;

		for (size_t k = 0; k < ns && !a; k++)
			a = t >= s[k].start_ms && t < s[k].end_ms;
		for (int k = 0; k < nr && !b; k++)
			b = t >= r[k].start_ms && t < r[k].end_ms;
		agree += a == b;
	}
	return frames ? (double)agree / (double)frames : 0;
}

/* Share of reference boundaries (starts and ends) with a proposed
 * boundary within tol_ms. */
static inline double seg_boundary_hits(const struct prl_span *s, size_t ns,
				       const struct ref_line *r, int nr, long tol_ms)
{
	int hits = 0;

	for (int k = 0; k < 2 * nr; k++) {
		long t = k % 2 ? r[k / 2].end_ms : r[k / 2].start_ms;

		for (size_t j = 0; j < 2 * ns; j++) {
			long p = j % 2 ? s[j / 2].end_ms : s[j / 2].start_ms;

			if (labs(p - t) <= tol_ms) {
				hits++;
				break;
			}
		}
	}
	return nr ? (double)hits / (2.0 * nr) : 0;
}

static inline int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

struct align_errors {
	long median, p90, worst;
};

/* The errors of every start and end of got against ref (n lines each). */
static inline struct align_errors align_errors(const struct prl_aligned *got,
					       const struct ref_line *ref, int n)
{
	struct align_errors e = {0, 0, 0};
	long *v = calloc(2 * (size_t)n, sizeof(*v));

	if (!v || n == 0) {
		free(v);
		return e;
	}
	for (int k = 0; k < n; k++) {
		v[2 * k] = labs((long)got[k].start_ms - ref[k].start_ms);
		v[2 * k + 1] = labs((long)got[k].end_ms - ref[k].end_ms);
	}
	qsort(v, 2 * (size_t)n, sizeof(*v), cmp_long);
	e.median = v[n - 1 + (2 * n) % 2];
	e.median = (v[n - 1] + v[n]) / 2;
	e.p90 = v[(size_t)(0.9 * (2 * n - 1))];
	e.worst = v[2 * n - 1];
	free(v);
	return e;
}

#endif
