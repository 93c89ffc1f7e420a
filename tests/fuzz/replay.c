/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A stand-in for libFuzzer when the build has no -Dfuzz=true: main()
 * feeds the target every seed file (files or folders given as arguments,
 * walked one level deep plus their subfolders), then a fixed number of
 * deterministic mutations of them — bit flips, byte changes, truncations,
 * splices of two seeds, inserted tokens — so every parser is exercised by
 * the ordinary test suite, and under ASan/UBSan in that build.  The same
 * arguments always give the same inputs.
 *
 *   replay [-n MUTATIONS] PATH...     (default 3000 mutations)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parlers/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Mutations work on at most this much of a seed, so a 100 KB file does
 * not make a few thousand runs slow. */
#define MUTATE_MAX 16384

struct seeds {
	struct prl_buf *v; /* the seed files */
	size_t n;	   /* how many */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int add_seed(struct seeds *s, const char *path)
{
	struct prl_buf *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	s->v = v;
	prl_buf_init(&s->v[s->n]);
	if (prl_read_file(path, 8u << 20, &s->v[s->n]) < 0)
		return 0; /* unreadable or huge: not a seed */
	s->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files under path, sorted so runs are reproducible. */
static int walk(struct seeds *s, const char *path, int depth)
{
	struct stat st;
	struct dirent *e;
	char **names = NULL, full[4096];
	size_t n = 0, i;
	DIR *dir;
	int ret = 0;

	if (stat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return add_seed(s, path);
	if (depth > 3 || !(dir = opendir(path)))
		return 0;
	while ((e = readdir(dir))) {
		char **p;
		if (e->d_name[0] == '.')
			continue;
		if (!(p = realloc(names, (n + 1) * sizeof(*p))) || !(p[n] = strdup(e->d_name))) {
			free(p ? p : names);
			closedir(dir);
			return -1;
		}
		names = p;
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (ret == 0)
			ret = walk(s, full, depth + 1);
		free(names[i]);
	}
	free(names);
	return ret;
}

static const char *const tokens[] = {
	"\"",
	"\"\"",
	"<",
	">",
	"&",
	"&amp;",
	"-->",
	"\n\n",
	"\r",
	"\0",
	"\xff\xfe",
	"\xef\xbb\xbf",
	"<exists>",
	"size = 99999999",
	"-1",
	"1e308",
	"nan",
	"<v x>",
	"00:00:00,000 --> 00:00:01,000",
	"<REF_ANNOTATION ANNOTATION_ID=\"a1\" ANNOTATION_REF=\"a1\">",
	"TIME_SLOT_REF1=\"ts1\"",
	"{\"tiers\":[",
	"\"parent\":0",
	",\"",
	"\xc3",
	"\xe2\x80\x99",
	"]]>",
	"<!ENTITY",
};

static void mutate_and_run(const struct seeds *s, size_t count)
{
	struct prl_buf m = PRL_BUF_INIT;
	size_t i;

	for (i = 0; i < count && s->n; i++) {
		const struct prl_buf *a = &s->v[rng() % s->n];
		size_t len = a->len < MUTATE_MAX ? a->len : MUTATE_MAX, k, pos;
		prl_buf_reset(&m);
		prl_buf_add(&m, a->data ? a->data : "", len);
		switch (rng() % 6) {
		case 0: /* bit flips */
			for (k = 1 + rng() % 8; k > 0 && m.len; k--) {
				pos = rng() % m.len;
				m.data[pos] ^= (char)(1u << (rng() % 8));
			}
			break;
		case 1: /* random bytes */
			for (k = 1 + rng() % 4; k > 0 && m.len; k--)
				m.data[rng() % m.len] = (char)rng();
			break;
		case 2: /* truncation */
			if (m.len)
				m.len = rng() % m.len;
			break;
		case 3: { /* splice: the head of one seed, the tail of another */
			const struct prl_buf *b = &s->v[rng() % s->n];
			size_t cut = m.len ? rng() % m.len : 0;
			size_t from =
				b->len ? rng() % (b->len < MUTATE_MAX ? b->len : MUTATE_MAX) : 0;
			size_t blen = (b->len < MUTATE_MAX ? b->len : MUTATE_MAX) - from;
			m.len = cut;
			prl_buf_add(&m, b->data ? b->data + from : "", b->data ? blen : 0);
			break;
		}
		case 4: { /* an interesting token inserted */
			const char *t = tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = t[0] ? strlen(t) : 1;
			struct prl_buf n2 = PRL_BUF_INIT;
			pos = m.len ? rng() % m.len : 0;
			prl_buf_add(&n2, m.data ? m.data : "", pos);
			prl_buf_add(&n2, t, tl);
			prl_buf_add(&n2, m.data ? m.data + pos : "", m.len - pos);
			prl_buf_release(&m);
			m = n2;
			break;
		}
		default: /* a run duplicated (lists that grow) */
			if (m.len > 2) {
				size_t from = rng() % (m.len - 1), n = 1 + rng() % (m.len - from);
				char *copy = malloc(n);
				if (copy) {
					memcpy(copy, m.data + from, n);
					prl_buf_add(&m, copy, n);
					free(copy);
				}
			}
			break;
		}
		/* an exactly sized copy, so ASan sees reads past the end */
		{
			uint8_t *exact = malloc(m.len ? m.len : 1);
			if (exact) {
				memcpy(exact, m.data ? m.data : "", m.len);
				LLVMFuzzerTestOneInput(exact, m.len);
				free(exact);
			}
		}
	}
	prl_buf_release(&m);
}

int main(int argc, char **argv)
{
	struct seeds s = {NULL, 0};
	size_t count = 3000, i;
	int a = 1;

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		count = strtoul(argv[2], NULL, 10);
		a = 3;
	}
	for (; a < argc; a++)
		if (walk(&s, argv[a], 0) < 0) {
			fprintf(stderr, "replay: out of memory\n");
			return 1;
		}
	if (!s.n) {
		fprintf(stderr, "replay: no seed found\n");
		return 1;
	}
	for (i = 0; i < s.n; i++) {
		uint8_t *exact = malloc(s.v[i].len ? s.v[i].len : 1);
		if (!exact)
			return 1;
		memcpy(exact, s.v[i].data ? s.v[i].data : "", s.v[i].len);
		LLVMFuzzerTestOneInput(exact, s.v[i].len);
		free(exact);
	}
	mutate_and_run(&s, count);
	printf("replayed %zu seeds and %zu mutations\n", s.n, count);
	for (i = 0; i < s.n; i++)
		prl_buf_release(&s.v[i]);
	free(s.v);
	return 0;
}
