/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dynamic time warping that fits an hour in memory: multi-resolution, as
 * FastDTW does.  Both sequences are halved by averaging pairs of frames
 * until their matrix is under COARSEST squared cells; the path is found there over
 * the whole matrix, then projected onto the next finer level and widened
 * by radius cells, and only that band is searched; and so on down to the
 * frames themselves.
 *
 * Always holds: the path starts at (0, 0), ends at (na - 1, nb - 1) and
 * every step moves by (1,1), (1,0) or (0,1); the band at each level
 * contains the projection of the coarser path, so a path always exists.
 * Memory: one byte per band cell for the way back plus two rows of costs;
 * for an hour of 10 ms frames with radius 16, about 25 MB.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speech-internal.h"

#define COARSEST 1500

static float dist(const float *x, const float *y, int dim)
{
	float s = 0;

	for (int k = 0; k < dim; k++) {
		float d = x[k] - y[k];

		s += d * d;
	}
	return sqrtf(s);
}

/* A new sequence of (n + 1) / 2 rows, each the mean of two. */
static float *halve(const float *x, size_t n, int dim)
{
	size_t m = (n + 1) / 2;
	float *y = malloc(m * (size_t)dim * sizeof(*y));

	if (!y)
		return NULL;
	for (size_t i = 0; i < m; i++) {
		const float *p = x + 2 * i * (size_t)dim;
		const float *q = 2 * i + 1 < n ? p + dim : p;

		for (int k = 0; k < dim; k++)
			y[i * (size_t)dim + (size_t)k] = 0.5f * (p[k] + q[k]);
	}
	return y;
}

/* The path within the band lo[i]..hi[i] (inclusive, both non-decreasing,
 * lo[0] = 0, hi[na - 1] = nb - 1). */
static int dtw_band(const float *a, size_t na, const float *b, size_t nb, int dim,
		    const int32_t *lo, const int32_t *hi, float skip, struct dtw_step **path,
		    size_t *len)
{
	size_t *off = malloc((na + 1) * sizeof(*off)), cells = 0, i, n = 0;
	float *prev = NULL, *cur = NULL;
	unsigned char *way = NULL;
	struct dtw_step *p = NULL;
	int32_t j, width = 0;
	int ret = -PRL_ENOMEM;

	if (!off)
		return ret;
	for (i = 0; i < na; i++) {
		off[i] = cells;
		cells += (size_t)(hi[i] - lo[i] + 1);
		if (hi[i] - lo[i] + 1 > width)
			width = hi[i] - lo[i] + 1;
	}
	off[na] = cells;
	way = malloc(cells);
	prev = malloc((size_t)width * sizeof(*prev));
	cur = malloc((size_t)width * sizeof(*cur));
	p = malloc((na + nb) * sizeof(*p));
	if (!way || !prev || !cur || !p)
		goto end;
	for (i = 0; i < na; i++) {
		const float *x = a + i * (size_t)dim;

		for (j = lo[i]; j <= hi[i]; j++) {
			float d = dist(x, b + (size_t)j * (size_t)dim, dim), best = FLT_MAX;
			float dh = skip > 0 && d > skip ? skip : d;
			unsigned char w = 0;

			if (i == 0 && j == 0) {
				best = 0;
				w = 3;
			}
			if (i > 0 && j - 1 >= lo[i - 1] && j - 1 <= hi[i - 1] &&
			    prev[j - 1 - lo[i - 1]] < best) {
				best = prev[j - 1 - lo[i - 1]];
				w = 0; /* diagonal */
			}
			if (i > 0 && j >= lo[i - 1] && j <= hi[i - 1] &&
			    prev[j - lo[i - 1]] + dh - d < best) {
				best = prev[j - lo[i - 1]] + dh - d;
				w = 1; /* from the row above: a advances */
			}
			if (j > lo[i] && cur[j - 1 - lo[i]] < best) {
				best = cur[j - 1 - lo[i]];
				w = 2; /* from the left: b advances */
			}
			cur[j - lo[i]] = best == FLT_MAX ? FLT_MAX : best + d;
			if (w == 1 && dh < d)
				w = 4; /* a advances, passed over */
			way[off[i] + (size_t)(j - lo[i])] = w;
		}
		float *t = prev;

		prev = cur;
		cur = t;
	}
	/* back from the end */
	i = na - 1;
	j = (int32_t)nb - 1;
	for (;;) {
		unsigned char w = way[off[i] + (size_t)(j - lo[i])];

		p[n].i = (int32_t)i;
		p[n].j = j;
		p[n].d = dist(a + i * (size_t)dim, b + (size_t)j * (size_t)dim, dim);
		p[n].skipped = w == 4;
		n++;
		if (w == 3)
			break;
		if (w == 0) {
			i--;
			j--;
		} else if (w == 1 || w == 4) {
			i--;
		} else {
			j--;
		}
	}
	for (size_t k = 0; k < n / 2; k++) {
		struct dtw_step t = p[k];

		p[k] = p[n - 1 - k];
		p[n - 1 - k] = t;
	}
	*path = p;
	*len = n;
	p = NULL;
	ret = 0;
end:
	free(off);
	free(way);
	free(prev);
	free(cur);
	free(p);
	return ret;
}

int dtw_banded(const float *a, size_t na, const float *b, size_t nb, int dim, int radius,
	       float skip, struct dtw_step **path, size_t *len)
{
	struct dtw_step *coarse = NULL;
	float *ha = NULL, *hb = NULL;
	int32_t *lo = NULL, *hi = NULL;
	size_t nc = 0, i, mb;
	int ret = -PRL_ENOMEM;

	if (na == 0 || nb == 0)
		return -PRL_EINVAL;
	if (!(lo = malloc(na * sizeof(*lo))) || !(hi = malloc(na * sizeof(*hi))))
		goto end;
	if ((double)na * (double)nb <= (double)COARSEST * COARSEST || na < 8 || nb < 8) {
		/* small enough: the whole matrix */
		for (i = 0; i < na; i++) {
			lo[i] = 0;
			hi[i] = (int32_t)nb - 1;
		}
		ret = dtw_band(a, na, b, nb, dim, lo, hi, skip, path, len);
		goto end;
	}
	if (!(ha = halve(a, na, dim)) || !(hb = halve(b, nb, dim)))
		goto end;
	mb = (nb + 1) / 2;
	if ((ret = dtw_banded(ha, (na + 1) / 2, hb, mb, dim, radius, skip, &coarse, &nc)) < 0)
		goto end;
	/* the coarse path's cells, doubled, widened by radius */
	for (i = 0; i < na; i++) {
		lo[i] = INT32_MAX;
		hi[i] = -1;
	}
	for (size_t k = 0; k < nc; k++) {
		int32_t ci = coarse[k].i, cj = coarse[k].j;

		for (int32_t r = 2 * ci; r <= 2 * ci + 1 && (size_t)r < na; r++) {
			int32_t l = 2 * cj - radius, h = 2 * cj + 1 + radius;

			if (l < lo[r])
				lo[r] = l;
			if (h > hi[r])
				hi[r] = h;
		}
	}
	/* lo non-decreasing (suffix minimum), hi non-decreasing (prefix
	 * maximum), both within 0..nb-1, and the corners included */
	for (i = na - 1; i-- > 0;)
		if (lo[i + 1] < lo[i])
			lo[i] = lo[i + 1];
	for (i = 1; i < na; i++)
		if (hi[i - 1] > hi[i])
			hi[i] = hi[i - 1];
	for (i = 0; i < na; i++) {
		if (lo[i] < 0)
			lo[i] = 0;
		if (hi[i] > (int32_t)nb - 1)
			hi[i] = (int32_t)nb - 1;
	}
	lo[0] = 0;
	hi[na - 1] = (int32_t)nb - 1;
	ret = dtw_band(a, na, b, nb, dim, lo, hi, skip, path, len);
end:
	free(coarse);
	free(ha);
	free(hb);
	free(lo);
	free(hi);
	return ret;
}
