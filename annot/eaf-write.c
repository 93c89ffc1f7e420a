/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ELAN EAF 3.0 writer.  Elements come in the order the EAF 3.0 schema
 * requires (LICENSE, HEADER, TIME_ORDER, TIER, LINGUISTIC_TYPE, LOCALE,
 * LANGUAGE, CONSTRAINT, CONTROLLED_VOCABULARY, LEXICON_REF, EXTERNAL_REF);
 * every attribute and text goes through prl_xml_escape, so the output is
 * well-formed whatever the text holds.  What the reader kept as props
 * (header, media, properties, locales, languages, external refs) is given
 * back in place.
 *
 * Time slots: one per segment boundary, shared between neighbours of a
 * tier that meet at the same time (as ELAN does), sorted by time; an
 * unaligned boundary gets a slot without TIME_VALUE.  Symbolic tiers are
 * written as REF_ANNOTATIONs (Symbolic_Subdivision with its
 * PREVIOUS_ANNOTATION chain).  Annotation ids are the source's when all
 * are present and unique, else a1..aN.  Workload: millions of segments
 * stream through the sink; memory is 24 bytes per slot for the sort.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "annot-internal.h"

struct slot {
	int64_t t;	    /* time (interpolated for unaligned ones) */
	uint32_t n;	    /* creation order, for a stable sort */
	uint32_t unaligned; /* written without TIME_VALUE */
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int is_symbolic(enum prl_constraint c)
{
	return c == PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION || c == PRL_CONSTRAINT_SYMBOLIC_ASSOCIATION;
}

/* A symbolic tier needs a parent to hang its REF_ANNOTATIONs on. */
static int writes_refs(const struct prl_annot_doc *d, const struct prl_tier *t)
{
	return is_symbolic(t->constraint) && t->parent && t->parent <= d->ntiers;
}

/* Walks the boundaries in a fixed order (tiers, then segments), calling
 * back with whether a new slot starts there; the same walk serves to
 * create the slots and to name them while writing. */
static int share_start(const struct prl_tier *t, size_t j)
{
	return j > 0 && t->segs[j - 1].end_ms == t->segs[j].start_ms &&
	       t->segs[j - 1].end_unaligned == t->segs[j].start_unaligned;
}

static int put_attr(struct prl_buf *b, const char *name, const char *v)
{
	int ret;

	if (!v)
		return 0;
	if ((ret = prl_buf_addf(b, " %s=\"", name)) < 0 || (ret = prl_xml_escape(b, v)) < 0)
		return ret;
	return prl_buf_addch(b, '"');
}

/* A kept element back from its prop: NAME=value pairs split on U+001F. */
static int put_kept(struct prl_buf *b, const char *indent, const char *elem, const char *v,
		    int close)
{
	const char *text = NULL;
	int ret;

	if ((ret = prl_buf_addf(b, "%s<%s", indent, elem)) < 0)
		return ret;
	while (*v) {
		const char *end = strchr(v, '\x1f'), *eq;
		size_t n = end ? (size_t)(end - v) : strlen(v);
		char name[64], *val;
		eq = memchr(v, '=', n);
		if (eq && (size_t)(eq - v) < sizeof(name)) {
			memcpy(name, v, (size_t)(eq - v));
			name[eq - v] = '\0';
			if (!strcmp(name, "#text")) {
				text = eq + 1;
			} else {
				if (!(val = strndup(eq + 1, n - (size_t)(eq - v) - 1)))
					return -PRL_ENOMEM;
				ret = put_attr(b, name, val);
				free(val);
				if (ret < 0)
					return ret;
			}
		}
		v += n + (end ? 1 : 0);
		if (text)
			break; /* #text is always last */
	}
	if (text) {
		if ((ret = prl_buf_addch(b, '>')) < 0 || (ret = prl_xml_escape(b, text)) < 0)
			return ret;
		return prl_buf_addf(b, "</%s>\n", elem);
	}
	return prl_buf_addstr(b, close ? "/>\n" : ">\n");
}

static int put_props(struct prl_buf *b, const struct prl_annot_doc *d, const char *key,
		     const char *indent, const char *elem)
{
	size_t i;
	int ret;

	for (i = 0; i < d->nprops; i++)
		if (!strcmp(d->props[i].key, key) &&
		    (ret = put_kept(b, indent, elem, d->props[i].value, 1)) < 0)
			return ret;
	return 0;
}

static int has_prop(const struct prl_annot_doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->nprops; i++)
		if (!strcmp(d->props[i].key, key))
			return 1;
	return 0;
}

/* "lastUsedAnnotationId" is recomputed; other PROPERTYs go back as read;
 * a tier whose annotations may overlap is named in a PROPERTY of its own
 * (tname: the TIER_IDs written). */
static int put_properties(struct prl_buf *b, const struct prl_annot_doc *d, char *const *tname,
			  size_t last_id)
{
	size_t i;
	int ret;

	for (i = 0; i < d->ntiers; i++)
		if (d->tiers[i].may_overlap &&
		    ((ret = prl_buf_addstr(b, "        <PROPERTY NAME=\"" ANNOT_EAF_OVERLAP_PROPERTY
					      "\">")) < 0 ||
		     (ret = prl_xml_escape(b, tname[i])) < 0 ||
		     (ret = prl_buf_addstr(b, "</PROPERTY>\n")) < 0))
			return ret;
	for (i = 0; i < d->nprops; i++) {
		if (strcmp(d->props[i].key, "eaf:PROPERTY") ||
		    strstr(d->props[i].value, "NAME=lastUsedAnnotationId\x1f"))
			continue;
		if ((ret = put_kept(b, "        ", "PROPERTY", d->props[i].value, 1)) < 0)
			return ret;
	}
	return prl_buf_addf(b, "        <PROPERTY NAME=\"lastUsedAnnotationId\">%zu</PROPERTY>\n",
			    last_id);
}

/* Whether a LANGUAGE element (kept from the source, or written earlier
 * in this run: seen[0..nseen)) declares lang. */
static int lang_declared(const struct prl_annot_doc *d, const char *lang, const char **seen,
			 size_t nseen)
{
	size_t i, n = strlen(lang);

	for (i = 0; i < nseen; i++)
		if (!strcmp(seen[i], lang))
			return 1;
	for (i = 0; i < d->nprops; i++) {
		const char *v = d->props[i].value, *p;
		if (strcmp(d->props[i].key, "eaf:LANGUAGE"))
			continue;
		for (p = strstr(v, "LANG_ID="); p; p = strstr(p + 1, "LANG_ID="))
			if ((p == v || p[-1] == '\x1f') && !strncmp(p + 8, lang, n) &&
			    (p[8 + n] == '\x1f' || p[8 + n] == '\0'))
				return 1;
	}
	return 0;
}

/* LANGUAGE elements for the LANG_REFs of tiers and CV values that no
 * kept LANGUAGE declares: ELAN 3.0 resolves every LANG_REF. */
static int put_missing_langs(struct prl_buf *b, const struct prl_annot_doc *d)
{
	const char **seen = NULL;
	size_t nseen = 0, i, j, cap = d->ntiers + 1;
	int ret = 0;

	for (i = 0; i < d->ncvs; i++)
		cap += d->cvs[i].nentries;
	if (!(seen = malloc(cap * sizeof(*seen))))
		return -PRL_ENOMEM;
	for (i = 0; i < d->ntiers + d->ncvs && ret >= 0; i++) {
		size_t n = i < d->ntiers ? 1 : d->cvs[i - d->ntiers].nentries;
		for (j = 0; j < n && ret >= 0; j++) {
			const char *l = i < d->ntiers ? d->tiers[i].language
						      : d->cvs[i - d->ntiers].entries[j].lang;
			if (!l || lang_declared(d, l, seen, nseen))
				continue;
			seen[nseen++] = l;
			if ((ret = prl_buf_addstr(b, "    <LANGUAGE")) >= 0 &&
			    (ret = put_attr(b, "LANG_ID", l)) >= 0)
				ret = prl_buf_addstr(b, "/>\n");
		}
	}
	free(seen);
	return ret;
}

static const char *const constraint_desc[][2] = {
	{"Time_Subdivision", "Time subdivision of parent annotation's time interval, no time gaps "
			     "allowed within this interval"},
	{"Symbolic_Subdivision", "Symbolic subdivision of a parent annotation. Annotations "
				 "refering to the same parent are ordered"},
	{"Symbolic_Association", "1-1 association with a parent annotation"},
	{"Included_In", "Time alignable annotations within the parent annotation's time interval, "
			"gaps are allowed"},
};

/* The LINGUISTIC_TYPE a tier is written with: its own when the document
 * defines it, else one made for its constraint. */
static const char *tier_type_id(const struct prl_annot_doc *d, const struct prl_tier *t, char *buf,
				size_t size)
{
	size_t i;

	if (t->ling_type)
		for (i = 0; i < d->nling_types; i++)
			if (!strcmp(d->ling_types[i].id, t->ling_type))
				return t->ling_type;
	snprintf(buf, size, "parlers-%s",
		 t->constraint == PRL_CONSTRAINT_NONE && t->parent ? "Included_In"
		 : t->constraint == PRL_CONSTRAINT_NONE		   ? "default"
							: prl_annot_constraint_name(t->constraint));
	return buf;
}

/* What annot_eaf_write works out before it writes, and where it writes. */
struct eaf_writer {
	const struct prl_annot_doc *d;
	struct annot_sink *sk;
	struct prl_buf *b;    /* sk->b */
	struct prl_buf *warn; /* may be NULL */
	char **tname;	      /* unique TIER_IDs: EAF requires them, Praat does not */
	size_t *base;	      /* base[i]: the segments of the tiers before tier i */
	int keep_ids;	      /* annotation ids are the source's (else a1..aN) */
	size_t last_id;	      /* the highest annotation number written */
	struct slot *slots;   /* the time slots, sorted by time */
	uint32_t *rank;	      /* rank[n]: the number of the n-th slot made */
	size_t nslots;
};

static void eaf_writer_release(struct eaf_writer *w)
{
	size_t i;

	for (i = 0; w->tname && i < w->d->ntiers; i++)
		free(w->tname[i]);
	free(w->tname);
	free(w->slots);
	free(w->rank);
	free(w->base);
}

/* The id of segment j of tier ti. */
static const char *ann_id(const struct eaf_writer *w, char *buf, size_t size, size_t ti, size_t j)
{
	if (w->keep_ids)
		return w->d->tiers[ti].segs[j].ext_id;
	snprintf(buf, size, "a%zu", w->base[ti] + j + 1);
	return buf;
}

/* A tier named like an earlier one gets "-2", "-3"... and a warning. */
static int eaf_tier_ids(struct eaf_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	size_t i;

	if (!(w->tname = calloc(d->ntiers + 1, sizeof(*w->tname))))
		return -PRL_ENOMEM;
	for (i = 0; i < d->ntiers; i++) {
		size_t k, n = 1, size;
		const char *want = d->tiers[i].name;
		for (;;) {
			for (k = 0; k < i; k++)
				if (!strcmp(w->tname[k], want))
					break;
			if (k == i)
				break;
			free(w->tname[i]);
			n++;
			size = strlen(d->tiers[i].name) + 24;
			if (!(w->tname[i] = malloc(size)))
				return -PRL_ENOMEM;
			snprintf(w->tname[i], size, "%s-%zu", d->tiers[i].name, n);
			want = w->tname[i];
		}
		if (!w->tname[i] && !(w->tname[i] = strdup(want)))
			return -PRL_ENOMEM;
		if (n > 1)
			annot_warn(w->warn,
				   "EAF: tier ids must be unique: tier %zu \"%s\" written as "
				   "\"%s\"",
				   i + 1, d->tiers[i].name, w->tname[i]);
	}
	return 0;
}

/* The highest number in the source's annotation ids ("a12" is 12). */
static size_t highest_ext_id(const struct prl_annot_doc *d)
{
	size_t i, j, last = 0;

	for (i = 0; i < d->ntiers; i++)
		for (j = 0; j < d->tiers[i].nsegs; j++) {
			const char *e = d->tiers[i].segs[j].ext_id;
			size_t k = strcspn(e, "0123456789");
			size_t v = e[k] ? strtoul(e + k, NULL, 10) : 0;
			if (v > last)
				last = v;
		}
	return last;
}

/* Annotation ids: the source's when every segment has one that is
 * unique and safe to write as an XML id, else a1..aN. */
static int eaf_annotation_ids(struct eaf_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	struct annot_idmap *ids = NULL;
	size_t i, j, total = 0;
	int ret = 0;

	if (!(w->base = malloc((d->ntiers + 1) * sizeof(*w->base))) || !(ids = annot_idmap_new()))
		return -PRL_ENOMEM;
	w->keep_ids = 1;
	for (i = 0; i < d->ntiers; i++) {
		w->base[i] = total;
		total += d->tiers[i].nsegs;
		for (j = 0; w->keep_ids && j < d->tiers[i].nsegs; j++) {
			const char *e = d->tiers[i].segs[j].ext_id;
			if (!e || !*e || strlen(e) > 60 || strpbrk(e, " \t\n\"<>&'") ||
			    (e[0] >= '0' && e[0] <= '9') ||
			    (ret = annot_idmap_put(ids, e, 0)) != 0) {
				if (ret < 0)
					goto end;
				w->keep_ids = 0;
			}
		}
	}
	ret = 0;
	w->last_id = w->keep_ids ? highest_ext_id(d) : total;
end:
	annot_idmap_free(ids);
	return ret;
}

/* The time slots of every time-aligned tier, in the order of the walk
 * share_start describes, then sorted by time; rank numbers them. */
static int eaf_make_slots(struct eaf_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	struct slot *slots;
	size_t i, j, n = 0;

	for (i = 0; i < d->ntiers; i++)
		if (!writes_refs(d, &d->tiers[i]))
			n += 2 * d->tiers[i].nsegs;
	if (n > UINT32_MAX - 2)
		return -PRL_EINVAL;
	if (n && (!(w->slots = malloc(n * sizeof(*w->slots))) ||
		  !(w->rank = malloc(n * sizeof(*w->rank)))))
		return -PRL_ENOMEM;
	slots = w->slots;
	n = 0;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if (writes_refs(d, t))
			continue;
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			if (!share_start(t, j)) {
				slots[n].t = s->start_ms;
				slots[n].n = (uint32_t)n;
				slots[n].unaligned = s->start_unaligned;
				n++;
			}
			slots[n].t = s->end_ms;
			slots[n].n = (uint32_t)n;
			slots[n].unaligned = s->end_unaligned;
			n++;
		}
	}
	if (n)
		qsort(slots, n, sizeof(*slots), slot_cmp);
	for (i = 0; i < n; i++)
		w->rank[slots[i].n] = (uint32_t)i + 1;
	w->nslots = n;
	return 0;
}

/* The MIME type ELAN expects for a media file, from its extension. */
static const char *media_mime(const char *url)
{
	const char *dot = strrchr(url, '.');

	return !dot						       ? "audio/*"
	       : !strcasecmp(dot, ".wav")			       ? "audio/x-wav"
	       : !strcasecmp(dot, ".mp3")			       ? "audio/mpeg"
	       : !strcasecmp(dot, ".ogg") || !strcasecmp(dot, ".opus") ? "audio/ogg"
								       : "audio/*";
}

/* The document element and HEADER: the kept one, else one made here. */
static int eaf_write_header(struct eaf_writer *w, const struct prl_annot_write_opts *o)
{
	const struct prl_annot_doc *d = w->d;
	struct prl_buf *b = w->b;
	char date[40];
	size_t i;
	int ret = 0;

	if (d->date) {
		snprintf(date, sizeof(date), "%s", d->date);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if ((ret = prl_buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<ANNOTATION_DOCUMENT")) < 0 ||
	    (ret = put_attr(b, "AUTHOR", d->author ? d->author : "")) < 0 ||
	    (ret = put_attr(b, "DATE", date)) < 0 ||
	    (ret = prl_buf_addstr(b, " FORMAT=\"3.0\" VERSION=\"3.0\" "
				     "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
				     "xsi:noNamespaceSchemaLocation=\"http://www.mpi.nl/tools/elan/"
				     "EAFv3.0.xsd\">\n")) < 0 ||
	    (ret = put_props(b, d, "eaf:LICENSE", "    ", "LICENSE")) < 0)
		return ret;
	if (has_prop(d, "eaf:HEADER")) {
		for (i = 0; i < d->nprops; i++)
			if (!strcmp(d->props[i].key, "eaf:HEADER")) {
				ret = put_kept(b, "    ", "HEADER", d->props[i].value, 0);
				break;
			}
	} else {
		ret = prl_buf_addstr(b,
				     "    <HEADER MEDIA_FILE=\"\" TIME_UNITS=\"milliseconds\">\n");
	}
	if (ret < 0)
		return ret;
	if (o->media_url && !has_prop(d, "eaf:MEDIA_DESCRIPTOR") &&
	    ((ret = prl_buf_addstr(b, "        <MEDIA_DESCRIPTOR")) < 0 ||
	     (ret = put_attr(b, "MEDIA_URL", o->media_url)) < 0 ||
	     (ret = put_attr(b, "MIME_TYPE", media_mime(o->media_url))) < 0 ||
	     (ret = prl_buf_addstr(b, "/>\n")) < 0))
		return ret;
	if ((ret = put_props(b, d, "eaf:MEDIA_DESCRIPTOR", "        ", "MEDIA_DESCRIPTOR")) < 0 ||
	    (ret = put_props(b, d, "eaf:LINKED_FILE_DESCRIPTOR", "        ",
			     "LINKED_FILE_DESCRIPTOR")) < 0 ||
	    (ret = put_properties(b, d, w->tname, w->last_id)) < 0)
		return ret;
	return prl_buf_addstr(b, "    </HEADER>\n");
}

static int eaf_write_time_order(struct eaf_writer *w)
{
	struct prl_buf *b = w->b;
	size_t i;
	int ret;

	if ((ret = prl_buf_addstr(b, "    <TIME_ORDER>\n")) < 0)
		return ret;
	for (i = 0; i < w->nslots; i++) {
		if (w->slots[i].unaligned)
			ret = prl_buf_addf(b, "        <TIME_SLOT TIME_SLOT_ID=\"ts%zu\"/>\n",
					   i + 1);
		else
			ret = prl_buf_addf(b,
					   "        <TIME_SLOT TIME_SLOT_ID=\"ts%zu\" "
					   "TIME_VALUE=\"%lld\"/>\n",
					   i + 1,
					   (long long)(w->slots[i].t < 0 ? 0 : w->slots[i].t));
		if (ret < 0 || (ret = annot_sink_maybe_flush(w->sk)) < 0)
			return ret;
	}
	return prl_buf_addstr(b, "    </TIME_ORDER>\n");
}

/* An annotation's value and the closing tags of its elem. */
static int put_value(struct prl_buf *b, const char *text, const char *elem)
{
	int ret;

	if ((ret = prl_buf_addstr(b, ">\n                <ANNOTATION_VALUE>")) < 0 ||
	    (ret = prl_xml_escape(b, text)) < 0 ||
	    (ret = prl_buf_addstr(b, "</ANNOTATION_VALUE>\n            </")) < 0 ||
	    (ret = prl_buf_addstr(b, elem)) < 0)
		return ret;
	return prl_buf_addstr(b, ">\n        </ANNOTATION>\n");
}

/* Segment j of symbolic tier ti, which has a parent segment. */
static int eaf_write_ref_annotation(struct eaf_writer *w, size_t ti, size_t j)
{
	const struct prl_tier *t = &w->d->tiers[ti];
	const struct prl_segment *s = &t->segs[j];
	const char *prev = NULL;
	char idbuf[32], pbuf[32], prevbuf[32];
	int ret;

	if (t->constraint == PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION && j > 0 &&
	    t->segs[j - 1].parent == s->parent)
		prev = ann_id(w, prevbuf, sizeof(prevbuf), ti, j - 1);
	if ((ret = prl_buf_addstr(w->b, "        <ANNOTATION>\n            "
					"<REF_ANNOTATION")) < 0 ||
	    (ret = put_attr(w->b, "ANNOTATION_ID", ann_id(w, idbuf, sizeof(idbuf), ti, j))) < 0 ||
	    (ret = put_attr(w->b, "ANNOTATION_REF",
			    ann_id(w, pbuf, sizeof(pbuf), t->parent - 1, s->parent - 1))) < 0 ||
	    (ret = put_attr(w->b, "CVE_REF", s->cve_ref)) < 0 ||
	    (ret = put_attr(w->b, "PREVIOUS_ANNOTATION", prev)) < 0)
		return ret;
	return put_value(w->b, s->text, "REF_ANNOTATION");
}

/* Segment j of time-aligned tier ti, between slots s1 and s2. */
static int eaf_write_alignable_annotation(struct eaf_writer *w, size_t ti, size_t j, uint32_t s1,
					  uint32_t s2)
{
	const struct prl_segment *s = &w->d->tiers[ti].segs[j];
	char idbuf[32];
	int ret;

	if ((ret = prl_buf_addstr(w->b, "        <ANNOTATION>\n            "
					"<ALIGNABLE_ANNOTATION")) < 0 ||
	    (ret = put_attr(w->b, "ANNOTATION_ID", ann_id(w, idbuf, sizeof(idbuf), ti, j))) < 0 ||
	    (ret = prl_buf_addf(w->b, " TIME_SLOT_REF1=\"ts%u\" TIME_SLOT_REF2=\"ts%u\"", s1, s2)) <
		    0 ||
	    (ret = put_attr(w->b, "CVE_REF", s->cve_ref)) < 0)
		return ret;
	return put_value(w->b, s->text, "ALIGNABLE_ANNOTATION");
}

/* Tier ti and its annotations; *made counts the time slots walked so
 * far (the walk of eaf_make_slots). */
static int eaf_write_tier(struct eaf_writer *w, size_t ti, size_t *made)
{
	const struct prl_annot_doc *d = w->d;
	const struct prl_tier *t = &d->tiers[ti];
	const struct prl_tier *pt =
		t->parent && t->parent <= d->ntiers ? &d->tiers[t->parent - 1] : NULL;
	struct prl_buf *b = w->b;
	int refs = writes_refs(d, t), ret;
	size_t j, skipped = 0, backwards = 0, overlapping = 0;
	int64_t reach = INT64_MIN;
	char tbuf[64];

	if ((ret = prl_buf_addstr(b, "    <TIER")) < 0 ||
	    (ret = put_attr(b, "LINGUISTIC_TYPE_REF", tier_type_id(d, t, tbuf, sizeof(tbuf)))) <
		    0 ||
	    (ret = put_attr(b, "TIER_ID", w->tname[ti])) < 0 ||
	    (ret = put_attr(b, "PARTICIPANT", t->participant)) < 0 ||
	    (ret = put_attr(b, "ANNOTATOR", t->annotator)) < 0 ||
	    (ret = put_attr(b, "PARENT_REF", pt ? w->tname[t->parent - 1] : NULL)) < 0 ||
	    (ret = put_attr(b, "DEFAULT_LOCALE", t->default_locale)) < 0 ||
	    (ret = put_attr(b, "LANG_REF", t->language)) < 0)
		return ret;
	if (!t->nsegs)
		return prl_buf_addstr(b, "/>\n");
	if ((ret = prl_buf_addstr(b, ">\n")) < 0)
		return ret;
	for (j = 0; j < t->nsegs; j++) {
		const struct prl_segment *s = &t->segs[j];
		if (refs && (!s->parent || s->parent > pt->nsegs)) {
			skipped++;
			continue;
		}
		if (refs) {
			ret = eaf_write_ref_annotation(w, ti, j);
		} else {
			uint32_t s1, s2;
			if (!share_start(t, j))
				(*made)++;
			s1 = w->rank[*made - 1];
			s2 = w->rank[*made];
			(*made)++;
			backwards += s->end_ms < s->start_ms;
			overlapping += s->start_ms < reach;
			if (s->end_ms > reach)
				reach = s->end_ms;
			ret = eaf_write_alignable_annotation(w, ti, j, s1, s2);
		}
		if (ret < 0 || (ret = annot_sink_maybe_flush(w->sk)) < 0)
			return ret;
	}
	if ((ret = prl_buf_addstr(b, "    </TIER>\n")) < 0)
		return ret;
	if (skipped)
		annot_warn(w->warn,
			   "EAF: tier \"%s\": %zu segments have no parent segment, which "
			   "a symbolic tier needs; not written",
			   t->name, skipped);
	if (backwards)
		annot_warn(w->warn, "EAF: tier \"%s\": %zu segments end before they start", t->name,
			   backwards);
	if (overlapping && !t->is_point)
		annot_warn(w->warn,
			   "EAF: tier \"%s\": %zu annotations overlap an earlier one; ELAN shows "
			   "them but its editor keeps a tier's annotations apart",
			   t->name, overlapping);
	if (t->is_point)
		annot_warn(w->warn,
			   "EAF: tier \"%s\" holds points, written as annotations of "
			   "zero length",
			   t->name);
	if (is_symbolic(t->constraint) && !refs)
		annot_warn(w->warn,
			   "EAF: symbolic tier \"%s\" has no parent tier; written "
			   "time-aligned",
			   t->name);
	return 0;
}

/* Linguistic types: the document's, then those made for tiers. */
static int eaf_write_ling_types(struct eaf_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	struct prl_buf *b = w->b;
	char tbuf[64], pbuf[64];
	size_t i, k;
	int ret;

	for (i = 0; i < d->nling_types; i++) {
		const struct prl_ling_type *lt = &d->ling_types[i];
		const char *c = prl_annot_constraint_name(lt->constraint);
		if ((ret = prl_buf_addstr(b, "    <LINGUISTIC_TYPE")) < 0 ||
		    (ret = put_attr(b, "CONSTRAINTS", c)) < 0 ||
		    (ret = put_attr(b, "CONTROLLED_VOCABULARY_REF", lt->cv_ref)) < 0 ||
		    (ret = put_attr(b, "GRAPHIC_REFERENCES",
				    lt->graphic_references ? "true" : "false")) < 0 ||
		    (ret = put_attr(b, "LINGUISTIC_TYPE_ID", lt->id)) < 0 ||
		    (ret = put_attr(b, "TIME_ALIGNABLE", lt->time_alignable ? "true" : "false")) <
			    0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			return ret;
	}
	for (i = 0; i < d->ntiers; i++) {
		const char *id = tier_type_id(d, &d->tiers[i], tbuf, sizeof(tbuf));
		const char *c;
		if (id != tbuf)
			continue;
		for (k = 0; k < i; k++) /* once per made-up type */
			if (!strcmp(tier_type_id(d, &d->tiers[k], pbuf, sizeof(pbuf)), id))
				break;
		if (k < i)
			continue;
		c = strcmp(id, "parlers-default") ? id + 8 : NULL;
		if ((ret = prl_buf_addstr(b, "    <LINGUISTIC_TYPE")) < 0 ||
		    (ret = put_attr(b, "CONSTRAINTS", c)) < 0 ||
		    (ret = prl_buf_addstr(b, " GRAPHIC_REFERENCES=\"false\"")) < 0 ||
		    (ret = put_attr(b, "LINGUISTIC_TYPE_ID", id)) < 0 ||
		    (ret = put_attr(b, "TIME_ALIGNABLE",
				    c && !strncmp(c, "Symbolic", 8) ? "false" : "true")) < 0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			return ret;
	}
	return 0;
}

/* LOCALE and LANGUAGE: the kept ones, then one for every LANG_REF that
 * none declares.  EAF 3.0 wants a LANG_REF on every CV value and CV
 * description, and each must name a LANGUAGE: 2.x vocabularies get
 * "und". */
static int eaf_write_languages(struct eaf_writer *w)
{
	const struct prl_annot_doc *d = w->d;
	size_t i, j;
	int ret, need_und = 0;

	if ((ret = put_props(w->b, d, "eaf:LOCALE", "    ", "LOCALE")) < 0 ||
	    (ret = put_props(w->b, d, "eaf:LANGUAGE", "    ", "LANGUAGE")) < 0)
		return ret;
	for (i = 0; i < d->ncvs; i++) {
		need_und |= d->cvs[i].description != NULL;
		for (j = 0; j < d->cvs[i].nentries; j++)
			need_und |= d->cvs[i].entries[j].lang == NULL;
	}
	if ((ret = put_missing_langs(w->b, d)) < 0)
		return ret;
	if (need_und && !lang_declared(d, "und", NULL, 0))
		return prl_buf_addstr(w->b, "    <LANGUAGE LANG_ID=\"und\" "
					    "LANG_LABEL=\"undetermined (und)\"/>\n");
	return 0;
}

static int eaf_write_constraints(struct prl_buf *b)
{
	size_t i;
	int ret;

	for (i = 0; i < 4; i++)
		if ((ret = prl_buf_addstr(b, "    <CONSTRAINT")) < 0 ||
		    (ret = put_attr(b, "DESCRIPTION", constraint_desc[i][1])) < 0 ||
		    (ret = put_attr(b, "STEREOTYPE", constraint_desc[i][0])) < 0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			return ret;
	return 0;
}

/* The CV_ENTRY_ML of entry j of vocabulary ci: one CVE_VALUE per language,
 * from the entries after j that share its id.  *next is the entry after
 * them. */
static int eaf_write_cv_entry(struct prl_buf *b, const struct prl_cv *cv, size_t ci, size_t j,
			      size_t *next)
{
	const struct prl_cv_entry *e = &cv->entries[j];
	const char *id = e->id;
	char gen[48];
	size_t k;
	int ret;

	if (!id) {
		snprintf(gen, sizeof(gen), "cveid_%zu_%zu", ci, j);
		id = gen;
	}
	if ((ret = prl_buf_addstr(b, "        <CV_ENTRY_ML")) < 0 ||
	    (ret = put_attr(b, "CVE_ID", id)) < 0 || (ret = prl_buf_addstr(b, ">\n")) < 0)
		return ret;
	for (k = j; k < cv->nentries &&
		    (k == j || (e->id && cv->entries[k].id && !strcmp(cv->entries[k].id, e->id)));
	     k++) {
		const struct prl_cv_entry *v = &cv->entries[k];
		if ((ret = prl_buf_addstr(b, "            <CVE_VALUE")) < 0 ||
		    (ret = put_attr(b, "DESCRIPTION", v->description)) < 0 ||
		    (ret = put_attr(b, "LANG_REF", v->lang ? v->lang : "und")) < 0 ||
		    (ret = prl_buf_addch(b, '>')) < 0 ||
		    (ret = prl_xml_escape(b, v->value ? v->value : "")) < 0 ||
		    (ret = prl_buf_addstr(b, "</CVE_VALUE>\n")) < 0)
			return ret;
	}
	*next = k;
	return prl_buf_addstr(b, "        </CV_ENTRY_ML>\n");
}

static int eaf_write_cvs(struct eaf_writer *w)
{
	struct prl_buf *b = w->b;
	size_t i, j;
	int ret;

	for (i = 0; i < w->d->ncvs; i++) {
		const struct prl_cv *cv = &w->d->cvs[i];
		if ((ret = prl_buf_addstr(b, "    <CONTROLLED_VOCABULARY")) < 0 ||
		    (ret = put_attr(b, "CV_ID", cv->id)) < 0 ||
		    (ret = put_attr(b, "EXT_REF", cv->ext_ref)) < 0)
			return ret;
		if (!cv->description && !cv->nentries) {
			if ((ret = prl_buf_addstr(b, "/>\n")) < 0)
				return ret;
			continue;
		}
		if ((ret = prl_buf_addstr(b, ">\n")) < 0)
			return ret;
		if (cv->description &&
		    ((ret = prl_buf_addstr(b, "        <DESCRIPTION LANG_REF=\"und\">")) < 0 ||
		     (ret = prl_xml_escape(b, cv->description)) < 0 ||
		     (ret = prl_buf_addstr(b, "</DESCRIPTION>\n")) < 0))
			return ret;
		for (j = 0; j < cv->nentries;)
			if ((ret = eaf_write_cv_entry(b, cv, i, j, &j)) < 0)
				return ret;
		if ((ret = prl_buf_addstr(b, "    </CONTROLLED_VOCABULARY>\n")) < 0)
			return ret;
	}
	return 0;
}

int annot_eaf_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *sk, struct prl_buf *warn)
{
	struct eaf_writer w = {d, sk, sk->b, warn, NULL, NULL, 0, 0, NULL, NULL, 0};
	size_t i, made = 0;
	int ret;

	if ((ret = eaf_tier_ids(&w)) < 0 || (ret = eaf_annotation_ids(&w)) < 0 ||
	    (ret = eaf_make_slots(&w)) < 0 || (ret = eaf_write_header(&w, o)) < 0 ||
	    (ret = eaf_write_time_order(&w)) < 0)
		goto end;
	for (i = 0; i < d->ntiers; i++)
		if ((ret = eaf_write_tier(&w, i, &made)) < 0)
			goto end;
	if ((ret = eaf_write_ling_types(&w)) < 0 || (ret = eaf_write_languages(&w)) < 0 ||
	    (ret = eaf_write_constraints(w.b)) < 0 || (ret = eaf_write_cvs(&w)) < 0 ||
	    (ret = put_props(w.b, d, "eaf:LEXICON_REF", "    ", "LEXICON_REF")) < 0 ||
	    (ret = put_props(w.b, d, "eaf:EXTERNAL_REF", "    ", "EXTERNAL_REF")) < 0)
		goto end;
	ret = prl_buf_addstr(w.b, "</ANNOTATION_DOCUMENT>\n");
end:
	eaf_writer_release(&w);
	return ret;
}
