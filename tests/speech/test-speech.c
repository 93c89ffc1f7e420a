/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The speech module on real human speech: segmentation of recordings
 * with measured speech extents (tests/speech/data, see its README), the
 * transcript reader, and alignment against the reference boundaries.
 * The thresholds are the goals of issue 14; a method that does not reach
 * them fails here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/annot.h"
#include "speech/eval.h"
#include "tap.h"

static char data_dir[512];

static const char *data(const char *name, const char *ext)
{
	static char path[4][600];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s%s", data_dir, name, ext);
	return path[k];
}

static void test_segmentation(const char *name)
{
	struct prl_speech_feats *f = NULL;
	struct prl_buf err = PRL_BUF_INIT;
	struct ref_line *ref = calloc(256, sizeof(*ref));
	struct prl_span *s = NULL;
	size_t n = 0;
	int nr, ret;
	double acc, hits;

	nr = ref ? ref_read(data(name, ".speech.tsv"), ref, 256) : -1;
	ok(nr > 0, "%s: reference read", name);
	ret = prl_speech_analyse_file(data(name, ".flac"), &f, &err);
	ok(ret == 0, "%s: analysed %s", name, prl_buf_str(&err));
	if (!f || nr <= 0)
		goto end;
	ok(prl_speech_segment(f, NULL, &s, &n) == 0, "%s: segmented", name);
	acc = seg_frame_accuracy(s, n, ref, nr, (long)prl_speech_duration_ms(f));
	hits = seg_boundary_hits(s, n, ref, nr, 100);
	diag("%s: %zu spans for %d, %.1f%% of frames right, %.1f%% of boundaries within 100 ms",
	     name, n, nr, 100 * acc, 100 * hits);
	ok(acc >= 0.90, "%s: at least 90%% of frames right (%.3f)", name, acc);
	ok(hits >= 0.75, "%s: at least 75%% of boundaries hit (%.3f)", name, hits);
	for (size_t i = 1; i < n; i++)
		if (s[i].start_ms < s[i - 1].end_ms || s[i].end_ms <= s[i].start_ms) {
			ok(0, "%s: spans in order and apart", name);
			break;
		}
end:
	free(s);
	free(ref);
	prl_speech_feats_free(&f);
	prl_buf_release(&err);
}

/* Parselmouth's "north wind and the sun" (../shared/interop), whose
 * TextGrid gives hand-set phoneme boundaries: speech runs from the end of
 * its first empty interval to the end of its last phoneme.  Segmented,
 * and its one line aligned with the English voice. */
static void test_north_wind(void)
{
	const char *interop = getenv("PARLERS_INTEROP");
	char wav[600], tg[600];
	struct prl_buf text = PRL_BUF_INIT, err = PRL_BUF_INIT;
	struct prl_annot_doc *doc = NULL;
	struct prl_speech_feats *f = NULL;
	struct prl_speech_align_opts o = {0};
	struct prl_aligned *al = NULL;
	struct prl_span *s = NULL;
	struct ref_line ref = {0};
	char *line[] = {"The north wind and the sun"};
	size_t n = 0;
	int ret;

	snprintf(wav, sizeof(wav), "%s/audio/parselmouth/the_north_wind_and_the_sun.wav",
		 interop ? interop : "../shared/interop");
	snprintf(tg, sizeof(tg), "%s/textgrid/parselmouth/the_north_wind_and_the_sun.TextGrid",
		 interop ? interop : "../shared/interop");
	if (prl_read_file(tg, 0, &text) < 0 ||
	    prl_annot_read(PRL_FMT_TEXTGRID, text.data, text.len, &doc, &err, NULL) < 0 ||
	    doc->ntiers == 0 || doc->tiers[0].nsegs < 2) {
		ok(0, "north wind: the TextGrid is read");
		goto end;
	}
	for (size_t i = 0; i < doc->tiers[0].nsegs; i++) {
		const struct prl_segment *g = &doc->tiers[0].segs[i];

		if (!*g->text)
			continue;
		if (!ref.end_ms)
			ref.start_ms = (long)g->start_ms;
		ref.end_ms = (long)g->end_ms;
	}
	ret = prl_speech_analyse_file(wav, &f, &err);
	ok(ret == 0, "north wind: analysed %s", prl_buf_str(&err));
	if (!f)
		goto end;
	ret = prl_speech_segment(f, NULL, &s, &n);
	ok(ret == 0 && n == 1, "north wind: one stretch (%zu)", n);
	if (n >= 1) {
		double acc = seg_frame_accuracy(s, n, &ref, 1, (long)prl_speech_duration_ms(f));

		diag("north wind: speech %ld-%ld ms by hand, %lld-%lld ms found, %.1f%% of frames "
		     "right",
		     ref.start_ms, ref.end_ms, (long long)s[0].start_ms, (long long)s[n - 1].end_ms,
		     100 * acc);
		ok(acc >= 0.9 && seg_boundary_hits(s, n, &ref, 1, 100) >= 0.99,
		   "north wind: frames right and both boundaries within 100 ms");
	}
	o.language = "en";
	ret = prl_speech_align(f, line, 1, &o, &al, &err);
	if (ret == 0)
		diag("north wind: aligned %lld-%lld ms", (long long)al[0].start_ms,
		     (long long)al[0].end_ms);
	ok(ret == 0 && labs((long)al[0].start_ms - ref.start_ms) <= 100 &&
		   labs((long)al[0].end_ms - ref.end_ms) <= 100,
	   "north wind: the line aligned within 100 ms of both ends");
end:
	free(al);
	free(s);
	prl_speech_feats_free(&f);
	prl_annot_doc_free(doc);
	prl_buf_release(&text);
	prl_buf_release(&err);
}

static void test_silence(void)
{
	int ret;
	size_t rate = 16000, len = rate * 5, n = 9;
	float *x = calloc(len, sizeof(*x));
	struct prl_speech_feats *f = NULL;
	struct prl_span *s = NULL;

	if (!x)
		return;
	ok(prl_speech_analyse(x, len, (int)rate, &f) == 0, "digital silence analysed");
	ok(f && prl_speech_segment(f, NULL, &s, &n) == 0 && n == 0, "no speech in silence");
	free(s);
	prl_speech_feats_free(&f);
	/* steady hiss only */
	srand(3);
	for (size_t i = 0; i < len; i++)
		x[i] = 0.01f * ((float)rand() / (float)RAND_MAX - 0.5f);
	ok(prl_speech_analyse(x, len, (int)rate, &f) == 0, "hiss analysed");
	ret = f ? prl_speech_segment(f, NULL, &s, &n) : -1;
	ok(ret == 0 && n == 0, "no speech in hiss (%zu)", n);
	free(s);
	prl_speech_feats_free(&f);
	free(x);
}

/* Every boundary error of the sets aligned so far. */
static long pooled[1024];
static int npooled;

/* Aligns NAME.txt on NAME.flac and measures the boundaries against
 * NAME.ref.tsv. */
static void test_alignment(const char *name, const char *lang, long max_median, long max_p90,
			   long max_worst)
{
	struct prl_speech_feats *f = NULL;
	struct prl_buf err = PRL_BUF_INIT, text = PRL_BUF_INIT;
	struct ref_line *ref = calloc(256, sizeof(*ref));
	struct prl_speech_align_opts o = {0};
	struct prl_aligned *al = NULL;
	struct align_errors e;
	char **lines = NULL;
	size_t n = 0;
	int nr, ret, doubtful = 0;

	o.language = lang;
	nr = ref ? ref_read(data(name, ".ref.tsv"), ref, 256) : -1;
	ok(prl_read_file(data(name, ".txt"), 0, &text) == 0, "%s: transcript read", name);
	ok(prl_speech_lines_parse(text.data, text.len, &lines, &n, &err) == 0 && (int)n == nr,
	   "%s: %zu lines for %d in the reference", name, n, nr);
	ok(prl_speech_analyse_file(data(name, ".flac"), &f, &err) == 0, "%s: analysed", name);
	if (!f || (int)n != nr)
		goto end;
	ret = prl_speech_align(f, lines, n, &o, &al, &err);
	ok(ret == 0, "%s: aligned %s", name, prl_buf_str(&err));
	if (!al)
		goto end;
	e = align_errors(al, ref, nr);
	for (int k = 0; k < nr && npooled + 2 <= 1024; k++) {
		pooled[npooled++] = labs((long)al[k].start_ms - ref[k].start_ms);
		pooled[npooled++] = labs((long)al[k].end_ms - ref[k].end_ms);
	}
	for (size_t k = 0; k < n; k++) {
		doubtful += al[k].doubtful;
		if (getenv("SPEECH_VERBOSE"))
			diag("%5ld %5ld | %5ld %5ld  %.2f%s  %s", (long)al[k].start_ms,
			     (long)al[k].end_ms, ref[k].start_ms, ref[k].end_ms, al[k].confidence,
			     al[k].doubtful ? " ?" : "", lines[k]);
	}
	diag("%s: boundary error median %ld ms, 90th percentile %ld ms, worst %ld ms; %d of %zu "
	     "lines doubtful",
	     name, e.median, e.p90, e.worst, doubtful, n);
	ok(e.median <= max_median, "%s: median error %ld ms <= %ld", name, e.median, max_median);
	ok(e.p90 <= max_p90, "%s: 90th percentile %ld ms <= %ld", name, e.p90, max_p90);
	ok(e.worst <= max_worst, "%s: worst error %ld ms <= %ld", name, e.worst, max_worst);
end:
	free(al);
	free(ref);
	prl_speech_lines_free(lines, n);
	prl_speech_feats_free(&f);
	prl_buf_release(&err);
	prl_buf_release(&text);
}

static void test_lines(void)
{
	static const char crlf[] =
		"\xef\xbb\xbf  premi\xc3\xa8re ligne \r\n\r\n   \r\nseconde\tligne\r\nfin";
	struct prl_buf err = PRL_BUF_INIT;
	char **lines = NULL;
	size_t n = 0;
	int ret;

	ok(prl_speech_lines_parse(crlf, sizeof(crlf) - 1, &lines, &n, &err) == 0 && n == 3,
	   "BOM, CRLF, blank lines: %zu lines", n);
	if (n == 3) {
		is_str(lines[0], "premi\xc3\xa8re ligne", "the BOM and the spaces go");
		is_str(lines[1], "seconde\tligne", "a tab inside stays");
		is_str(lines[2], "fin", "a last line without a newline counts");
	}
	prl_speech_lines_free(lines, n);
	lines = NULL;
	n = 0;
	ret = prl_speech_lines_parse("\n \r\n", 4, &lines, &n, &err);
	ok(ret == -PRL_EINVAL && !lines, "only blank lines: %s", prl_buf_str(&err));
	prl_buf_reset(&err);
	ok(prl_speech_lines_parse("", 0, &lines, &n, &err) == -PRL_EINVAL, "an empty file");
	prl_buf_reset(&err);
	ret = prl_speech_lines_parse("a\0b\n", 4, &lines, &n, &err);
	ok(ret == -PRL_EFORMAT, "a NUL byte: %s", prl_buf_str(&err));
	prl_buf_reset(&err);
	ret = prl_speech_lines_parse("caf\xe9\n", 5, &lines, &n, &err);
	ok(ret == -PRL_EFORMAT, "Latin-1 is not UTF-8: %s", prl_buf_str(&err));
	prl_buf_reset(&err);
	ret = prl_speech_lines_parse("\x7f"
				     "ELF\x02\x01\x01\n",
				     8, &lines, &n, &err);
	ok(ret == -PRL_EFORMAT, "binary: %s", prl_buf_str(&err));
	prl_buf_release(&err);
}

/* What alignment refuses, with a sentence: no speech, more text than the
 * speech can hold, a language espeak-ng has no voice for. */
static void test_align_refusals(void)
{
	struct prl_speech_feats *f = NULL;
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_speech_align_opts o = {0};
	struct prl_aligned *al = NULL;
	char *one[] = {"bonjour"}, **many;
	size_t len = 16000 * 4;
	int ret;
	float *x = calloc(len, sizeof(*x));

	if (!x || prl_speech_analyse(x, len, 16000, &f) < 0)
		return;
	ret = prl_speech_align(f, one, 1, &o, &al, &err);
	ok(ret == -PRL_EINVAL && !al, "silence: %s", prl_buf_str(&err));
	prl_speech_feats_free(&f);
	prl_buf_reset(&err);
	ok(prl_speech_analyse_file(data("en-librivox", ".flac"), &f, &err) == 0, "analysed");
	o.language = "xx-nowhere";
	ret = f ? prl_speech_align(f, one, 1, &o, &al, &err) : -1;
	ok(ret == -PRL_ENOTFOUND && !al, "unknown language: %s", prl_buf_str(&err));
	prl_buf_reset(&err);
	o.language = "en";
	many = calloc(5000, sizeof(*many));
	for (int i = 0; many && i < 5000; i++)
		many[i] = "and mister john dashwood had then leisure to consider";
	ret = f && many ? prl_speech_align(f, many, 5000, &o, &al, &err) : -1;
	ok(ret == -PRL_EINVAL && !al, "5000 lines on 30 s: %s", prl_buf_str(&err));
	prl_buf_reset(&err);
	ret = f && many ? prl_speech_align(f, many, 60, &o, &al, &err) : -1;
	ok(ret == -PRL_EINVAL && !al, "60 long lines on 25 s of speech: %s", prl_buf_str(&err));
	free(many);
	free(x);
	prl_speech_feats_free(&f);
	prl_buf_release(&err);
}

int main(void)
{
	const char *t = getenv("PARLERS_TESTS");

	snprintf(data_dir, sizeof(data_dir), "%s/speech/data", t ? t : "tests");
	test_segmentation("fr-prompts");
	test_segmentation("en-librivox");
	test_north_wind();
	test_silence();
	test_lines();
	test_align_refusals();
	/* each set with some margin over the goals, and the goals
	 * themselves (median <= 50 ms, 90th percentile <= 250 ms, none over
	 * 1 s) on all boundaries together */
	test_alignment("fr-prompts", "fr", 75, 300, 1000);
	test_alignment("en-librivox", "en", 75, 300, 1000);
	qsort(pooled, (size_t)npooled, sizeof(*pooled), cmp_long);
	if (npooled > 0) {
		long med = pooled[npooled / 2], p90 = pooled[(int)(0.9 * (npooled - 1))];
		long worst = pooled[npooled - 1];

		diag("all: %d boundaries, median %ld ms, 90th percentile %ld ms, worst %ld ms",
		     npooled, med, p90, worst);
		ok(med <= 50 && p90 <= 250 && worst <= 1000,
		   "all boundaries: median %ld <= 50, 90th percentile %ld <= 250, worst %ld <= "
		   "1000",
		   med, p90, worst);
	}
	return done_testing();
}
