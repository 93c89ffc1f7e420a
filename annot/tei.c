/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ISO 24624:2016 (TEI for transcriptions of spoken language), written.
 * The shape the standard and its reference tools (TEI Drop, EXMARaLDA)
 * use: a <timeline> of <when> points in seconds since T0; a
 * <particDesc> with one <person> per speaker; in the body one
 * <annotationBlock who start end> per segment of a top-level tier, its
 * text in <u>, and the segments of its descendant tiers that belong to it
 * as <spanGrp type="tier name"> of <span from to>.  Blocks are in time
 * order across tiers.
 *
 * What always holds: the output is well-formed XML (all text through
 * prl_xml_escape) and every start/end/from/to names a <when>.  Not read
 * back: TEI is an export for corpora, the archive keeps EAF/JSON for
 * round trips.  Workload: one recording's transcript.
 */
#include <stdlib.h>
#include <string.h>

#include "annot-internal.h"

struct block {
	int64_t start; /* ms */
	size_t tier;   /* top-level tier */
	size_t seg;    /* its segment */
};

static int block_cmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	return x->seg < y->seg ? -1 : x->seg > y->seg;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of time t in the sorted distinct times, for "#T<n>". */
static size_t when_of(const int64_t *times, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (times[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo + 1; /* T0 is the origin */
}

/* Top-level ancestor of segment seg of tier ti: (tier, seg), following
 * parent links; returns 0 when a link is missing. */
static int root_of(const struct prl_annot_doc *d, size_t ti, size_t seg, size_t *rt, size_t *rs)
{
	size_t guard = 0;

	while (d->tiers[ti].parent) {
		size_t p = d->tiers[ti].segs[seg].parent;
		if (!p || guard++ > d->ntiers)
			return 0;
		ti = d->tiers[ti].parent - 1;
		seg = p - 1;
		if (seg >= d->tiers[ti].nsegs)
			return 0;
	}
	*rt = ti;
	*rs = seg;
	return 1;
}

static int put_sec(struct prl_buf *b, int64_t ms)
{
	return prl_buf_addf(b, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

/* What annot_tei_write works out before it writes, and where it writes. */
struct tei_writer {
	const struct prl_annot_doc *d;
	struct annot_sink *sk;
	struct prl_buf *b;     /* sk->b */
	int64_t *times;	       /* every start and end, sorted, once each */
	size_t ntimes;	       /* the last is <when> T<ntimes> */
	struct block *blocks;  /* the segments of top-level tiers, in time order */
	size_t nblocks;	       /* blocks in blocks */
	const char **speakers; /* the tiers' participants, once each: SPK0... */
	size_t nspeakers;      /* speakers in speakers */
	size_t *base;	       /* base[i]: the segments of the tiers before tier i */
	size_t *blk_of;	       /* the block of a top-level segment, by base + seg */
	size_t *head;	       /* head[blk]: its first dependent segment, or -1 */
	size_t *tail;	       /* tail[blk]: its last dependent segment, or -1 */
	size_t *next;	       /* next[seg]: the block's dependent segment after seg, or -1 */
	size_t *dep_tier;      /* dep_tier[seg]: the tier of dependent segment seg */
	size_t orphans;	       /* dependent segments without a top-level ancestor */
};

static void tei_writer_release(struct tei_writer *w)
{
	free(w->times);
	free(w->blocks);
	free(w->speakers);
	free(w->base);
	free(w->blk_of);
	free(w->next);
	free(w->head);
	free(w->tail);
	free(w->dep_tier);
}

static int tei_alloc(struct tei_writer *w, size_t total)
{
	size_t ntiers = w->d->ntiers;

	if (!(w->times = malloc((2 * total + 1) * sizeof(*w->times))) ||
	    !(w->blocks = malloc((total + 1) * sizeof(*w->blocks))) ||
	    !(w->speakers = malloc((ntiers + 1) * sizeof(*w->speakers))) ||
	    !(w->base = malloc((ntiers + 1) * sizeof(*w->base))) ||
	    !(w->blk_of = malloc((total + 1) * sizeof(*w->blk_of))) ||
	    !(w->next = malloc((total + 1) * sizeof(*w->next))) ||
	    !(w->dep_tier = malloc((total + 1) * sizeof(*w->dep_tier))) ||
	    !(w->head = malloc((total + 1) * sizeof(*w->head))) ||
	    !(w->tail = malloc((total + 1) * sizeof(*w->tail))))
		return -PRL_ENOMEM;
	return 0;
}

/* The timeline, the blocks in time order, and the speakers. */
static void tei_collect(struct tei_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	size_t i, j, k;

	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		for (j = 0; j < t->nsegs; j++) {
			int64_t s = t->segs[j].start_ms < 0 ? 0 : t->segs[j].start_ms;
			int64_t e = t->segs[j].end_ms < s ? s : t->segs[j].end_ms;
			w->times[w->ntimes++] = s;
			w->times[w->ntimes++] = e;
			if (!t->parent) {
				w->blocks[w->nblocks].start = s;
				w->blocks[w->nblocks].tier = i;
				w->blocks[w->nblocks].seg = j;
				w->nblocks++;
			}
		}
		if (t->participant && *t->participant) {
			for (k = 0; k < w->nspeakers && strcmp(w->speakers[k], t->participant); k++)
				;
			if (k == w->nspeakers)
				w->speakers[w->nspeakers++] = t->participant;
		}
	}
	qsort(w->times, w->ntimes, sizeof(*w->times), cmp_i64);
	for (i = 0, k = 0; i < w->ntimes; i++)
		if (!k || w->times[k - 1] != w->times[i])
			w->times[k++] = w->times[i];
	w->ntimes = k;
	qsort(w->blocks, w->nblocks, sizeof(*w->blocks), block_cmp);
}

/* Each dependent segment hangs on the block of its top-level ancestor,
 * in tier then segment order (one pass, no block scans). */
static void tei_hang_dependents(struct tei_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	size_t i, j, k, ti;

	for (i = 0, k = 0; i < d->ntiers; i++) {
		w->base[i] = k;
		k += d->tiers[i].nsegs;
	}
	for (i = 0; i < w->nblocks; i++) {
		w->blk_of[w->base[w->blocks[i].tier] + w->blocks[i].seg] = i;
		w->head[i] = w->tail[i] = (size_t)-1;
	}
	for (ti = 0; ti < d->ntiers; ti++) {
		if (!d->tiers[ti].parent)
			continue;
		for (j = 0; j < d->tiers[ti].nsegs; j++) {
			size_t rt, rs, bi, me = w->base[ti] + j;
			if (!root_of(d, ti, j, &rt, &rs)) {
				w->orphans++;
				continue;
			}
			bi = w->blk_of[w->base[rt] + rs];
			w->next[me] = (size_t)-1;
			w->dep_tier[me] = ti;
			if (w->tail[bi] == (size_t)-1)
				w->head[bi] = me;
			else
				w->next[w->tail[bi]] = me;
			w->tail[bi] = me;
		}
	}
}

/* The teiHeader: title and who transcribed, recording, speakers. */
static int tei_write_header(struct tei_writer *w, const struct prl_annot_write_opts *o)
{
	struct prl_buf *b = w->b;
	size_t k;
	int ret;

	if ((ret = prl_buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\n <teiHeader>\n"
				     "  <fileDesc>\n   <titleStmt><title>")) < 0 ||
	    (ret = prl_xml_escape(b, o->title ? o->title : "Transcription")) < 0 ||
	    (ret = prl_buf_addstr(b, "</title>")) < 0)
		return ret;
	/* who transcribed each tier: its annotator, credited contributors
	 * included, as the tier's type says what they did */
	for (k = 0; k < w->d->ntiers; k++) {
		const struct prl_tier *t = &w->d->tiers[k];

		if (!t->annotator || !*t->annotator)
			continue;
		if ((ret = prl_buf_addstr(b, "<respStmt><resp>")) < 0 ||
		    (ret = prl_xml_escape(b, t->name ? t->name : "transcription")) < 0 ||
		    (ret = prl_buf_addstr(b, "</resp><name>")) < 0 ||
		    (ret = prl_xml_escape(b, t->annotator)) < 0 ||
		    (ret = prl_buf_addstr(b, "</name></respStmt>")) < 0)
			return ret;
	}
	if ((ret = prl_buf_addstr(b, "</titleStmt>\n   <publicationStmt><p>Exported by "
				     "parlers</p></publicationStmt>\n   <sourceDesc>\n"
				     "    <recordingStmt><recording type=\"audio\"")) < 0)
		return ret;
	if (o->duration_ms >= 0 &&
	    (ret = prl_buf_addf(b, " dur=\"PT%lld.%03lldS\"", (long long)(o->duration_ms / 1000),
				(long long)(o->duration_ms % 1000))) < 0)
		return ret;
	if ((ret = prl_buf_addch(b, '>')) < 0)
		return ret;
	if (o->media_url &&
	    ((ret = prl_buf_addstr(b, "<media mimeType=\"audio\" url=\"")) < 0 ||
	     (ret = prl_xml_escape(b, o->media_url)) < 0 || (ret = prl_buf_addstr(b, "\"/>")) < 0))
		return ret;
	if ((ret = prl_buf_addstr(b, "</recording></recordingStmt>\n   </sourceDesc>\n"
				     "  </fileDesc>\n  <profileDesc>\n   <particDesc>\n")) < 0)
		return ret;
	for (k = 0; k < w->nspeakers; k++)
		if ((ret = prl_buf_addf(b, "    <person xml:id=\"SPK%zu\"><persName>", k)) < 0 ||
		    (ret = prl_xml_escape(b, w->speakers[k])) < 0 ||
		    (ret = prl_buf_addstr(b, "</persName></person>\n")) < 0)
			return ret;
	return prl_buf_addstr(b, "   </particDesc>\n  </profileDesc>\n </teiHeader>\n");
}

static int tei_write_timeline(struct tei_writer *w)
{
	struct prl_buf *b = w->b;
	size_t i;
	int ret;

	if ((ret = prl_buf_addstr(b, "  <timeline unit=\"s\" origin=\"#T0\">\n"
				     "   <when xml:id=\"T0\"/>\n")) < 0)
		return ret;
	for (i = 0; i < w->ntimes; i++)
		if ((ret = prl_buf_addf(b, "   <when xml:id=\"T%zu\" interval=\"", i + 1)) < 0 ||
		    (ret = put_sec(b, w->times[i])) < 0 ||
		    (ret = prl_buf_addstr(b, "\" since=\"#T0\"/>\n")) < 0 ||
		    (ret = annot_sink_maybe_flush(w->sk)) < 0)
			return ret;
	return prl_buf_addstr(b, "  </timeline>\n");
}

/* The dependent segments of block i, one spanGrp per tier. */
static int tei_write_spans(struct tei_writer *w, size_t i)
{
	struct prl_buf *b = w->b;
	size_t k, prev_tier = (size_t)-1;
	int ret;

	for (k = w->head[i]; k != (size_t)-1; k = w->next[k]) {
		const struct prl_tier *c = &w->d->tiers[w->dep_tier[k]];
		const struct prl_segment *cs = &c->segs[k - w->base[w->dep_tier[k]]];
		int64_t cst = cs->start_ms < 0 ? 0 : cs->start_ms;
		int64_t cen = cs->end_ms < cst ? cst : cs->end_ms;
		if (k == w->head[i] || prev_tier != w->dep_tier[k]) {
			if (k != w->head[i] && (ret = prl_buf_addstr(b, "    </spanGrp>\n")) < 0)
				return ret;
			if ((ret = prl_buf_addstr(b, "    <spanGrp type=\"")) < 0 ||
			    (ret = prl_xml_escape(b, c->name)) < 0 ||
			    (ret = prl_buf_addstr(b, "\">\n")) < 0)
				return ret;
		}
		prev_tier = w->dep_tier[k];
		if ((ret = prl_buf_addf(b, "     <span from=\"#T%zu\" to=\"#T%zu\">",
					when_of(w->times, w->ntimes, cst),
					when_of(w->times, w->ntimes, cen))) < 0 ||
		    (ret = prl_xml_escape(b, cs->text)) < 0 ||
		    (ret = prl_buf_addstr(b, "</span>\n")) < 0)
			return ret;
	}
	if (w->head[i] != (size_t)-1)
		return prl_buf_addstr(b, "    </spanGrp>\n");
	return 0;
}

/* Block i: the segment in <u>, then its dependents. */
static int tei_write_block(struct tei_writer *w, size_t i)
{
	const struct prl_tier *t = &w->d->tiers[w->blocks[i].tier];
	const struct prl_segment *s = &t->segs[w->blocks[i].seg];
	int64_t st = s->start_ms < 0 ? 0 : s->start_ms, en = s->end_ms < st ? st : s->end_ms;
	struct prl_buf *b = w->b;
	size_t k;
	int ret;

	if ((ret = prl_buf_addstr(b, "   <annotationBlock")) < 0)
		return ret;
	if (t->participant && *t->participant) {
		for (k = 0; strcmp(w->speakers[k], t->participant); k++)
			;
		if ((ret = prl_buf_addf(b, " who=\"#SPK%zu\"", k)) < 0)
			return ret;
	}
	if ((ret = prl_buf_addf(b, " start=\"#T%zu\" end=\"#T%zu\">\n    <u xml:lang=\"",
				when_of(w->times, w->ntimes, st),
				when_of(w->times, w->ntimes, en))) < 0 ||
	    (ret = prl_xml_escape(b, t->language ? t->language : "und")) < 0 ||
	    (ret = prl_buf_addstr(b, "\">")) < 0 || (ret = prl_xml_escape(b, s->text)) < 0 ||
	    (ret = prl_buf_addstr(b, "</u>\n")) < 0 || (ret = tei_write_spans(w, i)) < 0)
		return ret;
	return prl_buf_addstr(b, "   </annotationBlock>\n");
}

int annot_tei_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *sk, struct prl_buf *warn)
{
	struct tei_writer w = {.d = d, .sk = sk, .b = sk->b};
	size_t i, total = 0;
	int ret;

	for (i = 0; i < d->ntiers; i++)
		total += d->tiers[i].nsegs;
	if ((ret = tei_alloc(&w, total)) < 0)
		goto end;
	tei_collect(&w);
	tei_hang_dependents(&w);
	if ((ret = tei_write_header(&w, o)) < 0 || (ret = prl_buf_addstr(w.b, " <text>\n")) < 0 ||
	    (ret = tei_write_timeline(&w)) < 0 || (ret = prl_buf_addstr(w.b, "  <body>\n")) < 0)
		goto end;
	for (i = 0; i < w.nblocks; i++)
		if ((ret = tei_write_block(&w, i)) < 0 || (ret = annot_sink_maybe_flush(sk)) < 0)
			goto end;
	if (w.orphans)
		annot_warn(warn,
			   "TEI: %zu segments of dependent tiers have no parent segment and "
			   "are not written",
			   w.orphans);
	annot_warn_lost(d, "TEI", 1, warn);
	ret = prl_buf_addstr(w.b, "  </body>\n </text>\n</TEI>\n");
end:
	tei_writer_release(&w);
	return ret;
}
