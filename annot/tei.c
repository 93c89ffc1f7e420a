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

int annot_tei_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *sk, struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	struct block *blocks = NULL;
	int64_t *times = NULL;
	size_t nblocks = 0, ntimes = 0, total = 0, i, j, k, orphans = 0;
	const char **speakers = NULL;
	size_t nspeakers = 0, ti, *base = NULL, *blk_of = NULL, *next = NULL, *head = NULL,
	       *tail = NULL, *dep_tier = NULL;
	int ret = 0;

	for (i = 0; i < d->ntiers; i++)
		total += d->tiers[i].nsegs;
	if (!(times = malloc((2 * total + 1) * sizeof(*times))) ||
	    !(blocks = malloc((total + 1) * sizeof(*blocks))) ||
	    !(speakers = malloc((d->ntiers + 1) * sizeof(*speakers))) ||
	    !(base = malloc((d->ntiers + 1) * sizeof(*base))) ||
	    !(blk_of = malloc((total + 1) * sizeof(*blk_of))) ||
	    !(next = malloc((total + 1) * sizeof(*next))) ||
	    !(dep_tier = malloc((total + 1) * sizeof(*dep_tier))) ||
	    !(head = malloc((total + 1) * sizeof(*head))) ||
	    !(tail = malloc((total + 1) * sizeof(*tail)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		for (j = 0; j < t->nsegs; j++) {
			int64_t s = t->segs[j].start_ms < 0 ? 0 : t->segs[j].start_ms;
			int64_t e = t->segs[j].end_ms < s ? s : t->segs[j].end_ms;
			times[ntimes++] = s;
			times[ntimes++] = e;
			if (!t->parent) {
				blocks[nblocks].start = s;
				blocks[nblocks].tier = i;
				blocks[nblocks].seg = j;
				nblocks++;
			}
		}
		if (t->participant && *t->participant) {
			for (k = 0; k < nspeakers && strcmp(speakers[k], t->participant); k++)
				;
			if (k == nspeakers)
				speakers[nspeakers++] = t->participant;
		}
	}
	qsort(times, ntimes, sizeof(*times), cmp_i64);
	for (i = 0, k = 0; i < ntimes; i++)
		if (!k || times[k - 1] != times[i])
			times[k++] = times[i];
	ntimes = k;
	qsort(blocks, nblocks, sizeof(*blocks), block_cmp);
	/* each dependent segment hangs on the block of its top-level
	 * ancestor, in tier then segment order (one pass, no block scans) */
	for (i = 0, k = 0; i < d->ntiers; i++) {
		base[i] = k;
		k += d->tiers[i].nsegs;
	}
	for (i = 0; i < nblocks; i++) {
		blk_of[base[blocks[i].tier] + blocks[i].seg] = i;
		head[i] = tail[i] = (size_t)-1;
	}
	for (ti = 0; ti < d->ntiers; ti++) {
		if (!d->tiers[ti].parent)
			continue;
		for (j = 0; j < d->tiers[ti].nsegs; j++) {
			size_t rt, rs, bi, me = base[ti] + j;
			if (!root_of(d, ti, j, &rt, &rs)) {
				orphans++;
				continue;
			}
			bi = blk_of[base[rt] + rs];
			next[me] = (size_t)-1;
			dep_tier[me] = ti;
			if (tail[bi] == (size_t)-1)
				head[bi] = me;
			else
				next[tail[bi]] = me;
			tail[bi] = me;
		}
	}

	if ((ret = prl_buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\n <teiHeader>\n"
				     "  <fileDesc>\n   <titleStmt><title>")) < 0 ||
	    (ret = prl_xml_escape(b, o->title ? o->title : "Transcription")) < 0 ||
	    (ret = prl_buf_addstr(b, "</title></titleStmt>\n   <publicationStmt><p>Exported by "
				     "parlers</p></publicationStmt>\n   <sourceDesc>\n"
				     "    <recordingStmt><recording type=\"audio\"")) < 0)
		goto end;
	if (o->duration_ms >= 0 &&
	    (ret = prl_buf_addf(b, " dur=\"PT%lld.%03lldS\"", (long long)(o->duration_ms / 1000),
				(long long)(o->duration_ms % 1000))) < 0)
		goto end;
	if ((ret = prl_buf_addch(b, '>')) < 0)
		goto end;
	if (o->media_url &&
	    ((ret = prl_buf_addstr(b, "<media mimeType=\"audio\" url=\"")) < 0 ||
	     (ret = prl_xml_escape(b, o->media_url)) < 0 || (ret = prl_buf_addstr(b, "\"/>")) < 0))
		goto end;
	if ((ret = prl_buf_addstr(b, "</recording></recordingStmt>\n   </sourceDesc>\n"
				     "  </fileDesc>\n  <profileDesc>\n   <particDesc>\n")) < 0)
		goto end;
	for (k = 0; k < nspeakers; k++)
		if ((ret = prl_buf_addf(b, "    <person xml:id=\"SPK%zu\"><persName>", k)) < 0 ||
		    (ret = prl_xml_escape(b, speakers[k])) < 0 ||
		    (ret = prl_buf_addstr(b, "</persName></person>\n")) < 0)
			goto end;
	if ((ret = prl_buf_addstr(b, "   </particDesc>\n  </profileDesc>\n </teiHeader>\n <text>\n"
				     "  <timeline unit=\"s\" origin=\"#T0\">\n"
				     "   <when xml:id=\"T0\"/>\n")) < 0)
		goto end;
	for (i = 0; i < ntimes; i++)
		if ((ret = prl_buf_addf(b, "   <when xml:id=\"T%zu\" interval=\"", i + 1)) < 0 ||
		    (ret = put_sec(b, times[i])) < 0 ||
		    (ret = prl_buf_addstr(b, "\" since=\"#T0\"/>\n")) < 0 ||
		    (ret = annot_sink_maybe_flush(sk)) < 0)
			goto end;
	if ((ret = prl_buf_addstr(b, "  </timeline>\n  <body>\n")) < 0)
		goto end;
	for (i = 0; i < nblocks; i++) {
		const struct prl_tier *t = &d->tiers[blocks[i].tier];
		const struct prl_segment *s = &t->segs[blocks[i].seg];
		int64_t st = s->start_ms < 0 ? 0 : s->start_ms,
			en = s->end_ms < st ? st : s->end_ms;
		size_t prev_tier = (size_t)-1;
		if ((ret = prl_buf_addstr(b, "   <annotationBlock")) < 0)
			goto end;
		if (t->participant && *t->participant) {
			for (k = 0; strcmp(speakers[k], t->participant); k++)
				;
			if ((ret = prl_buf_addf(b, " who=\"#SPK%zu\"", k)) < 0)
				goto end;
		}
		if ((ret = prl_buf_addf(b, " start=\"#T%zu\" end=\"#T%zu\">\n    <u xml:lang=\"",
					when_of(times, ntimes, st), when_of(times, ntimes, en))) <
			    0 ||
		    (ret = prl_xml_escape(b, t->language ? t->language : "und")) < 0 ||
		    (ret = prl_buf_addstr(b, "\">")) < 0 ||
		    (ret = prl_xml_escape(b, s->text)) < 0 ||
		    (ret = prl_buf_addstr(b, "</u>\n")) < 0)
			goto end;
		/* dependent segments, one spanGrp per tier */
		for (k = head[i]; k != (size_t)-1; k = next[k]) {
			const struct prl_tier *c = &d->tiers[dep_tier[k]];
			const struct prl_segment *cs = &c->segs[k - base[dep_tier[k]]];
			int64_t cst = cs->start_ms < 0 ? 0 : cs->start_ms;
			int64_t cen = cs->end_ms < cst ? cst : cs->end_ms;
			if (k == head[i] || prev_tier != dep_tier[k]) {
				if (k != head[i] &&
				    (ret = prl_buf_addstr(b, "    </spanGrp>\n")) < 0)
					goto end;
				if ((ret = prl_buf_addstr(b, "    <spanGrp type=\"")) < 0 ||
				    (ret = prl_xml_escape(b, c->name)) < 0 ||
				    (ret = prl_buf_addstr(b, "\">\n")) < 0)
					goto end;
			}
			prev_tier = dep_tier[k];
			if ((ret = prl_buf_addf(b, "     <span from=\"#T%zu\" to=\"#T%zu\">",
						when_of(times, ntimes, cst),
						when_of(times, ntimes, cen))) < 0 ||
			    (ret = prl_xml_escape(b, cs->text)) < 0 ||
			    (ret = prl_buf_addstr(b, "</span>\n")) < 0)
				goto end;
		}
		if (head[i] != (size_t)-1 && (ret = prl_buf_addstr(b, "    </spanGrp>\n")) < 0)
			goto end;
		if ((ret = prl_buf_addstr(b, "   </annotationBlock>\n")) < 0 ||
		    (ret = annot_sink_maybe_flush(sk)) < 0)
			goto end;
	}
	if (orphans)
		annot_warn(warn,
			   "TEI: %zu segments of dependent tiers have no parent segment and "
			   "are not written",
			   orphans);
	annot_warn_lost(d, "TEI", 1, warn);
	ret = prl_buf_addstr(b, "  </body>\n </text>\n</TEI>\n");
end:
	free(times);
	free(blocks);
	free(speakers);
	free(base);
	free(blk_of);
	free(next);
	free(head);
	free(tail);
	free(dep_tier);
	return ret;
}
