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

/* "lastUsedAnnotationId" is recomputed; other PROPERTYs go back as read. */
static int put_properties(struct prl_buf *b, const struct prl_annot_doc *d, size_t last_id)
{
	size_t i;
	int ret;

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
							: prl_constraint_name(t->constraint));
	return buf;
}

static char *ann_id(char *buf, size_t size, const struct prl_tier *t, size_t j, size_t base,
		    int keep_ids)
{
	if (keep_ids)
		return t->segs[j].ext_id;
	snprintf(buf, size, "a%zu", base + j + 1);
	return buf;
}

int annot_eaf_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *sk, struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	struct slot *slots = NULL;
	uint32_t *rank = NULL;
	size_t *base = NULL, nslots = 0, i, j, total = 0, last_id = 0, nunnamed_langs = 0;
	struct annot_idmap *ids = NULL;
	char **tname = NULL; /* unique TIER_IDs: EAF requires them, Praat does not */
	int keep_ids = 1, ret = 0, need_und = 0;
	char date[40], tbuf[64], idbuf[32], pbuf[32], prevbuf[32];

	if (!(tname = calloc(d->ntiers + 1, sizeof(*tname)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < d->ntiers; i++) {
		size_t k, n = 1, size;
		const char *want = d->tiers[i].name;
		for (;;) {
			for (k = 0; k < i; k++)
				if (!strcmp(tname[k], want))
					break;
			if (k == i)
				break;
			free(tname[i]);
			n++;
			size = strlen(d->tiers[i].name) + 24;
			if (!(tname[i] = malloc(size))) {
				ret = -PRL_ENOMEM;
				goto end;
			}
			snprintf(tname[i], size, "%s-%zu", d->tiers[i].name, n);
			want = tname[i];
		}
		if (!tname[i] && !(tname[i] = strdup(want))) {
			ret = -PRL_ENOMEM;
			goto end;
		}
		if (n > 1)
			annot_warn(warn,
				   "EAF: tier ids must be unique: tier %zu \"%s\" written as "
				   "\"%s\"",
				   i + 1, d->tiers[i].name, tname[i]);
	}
	/* annotation ids: the source's if usable */
	if (!(base = malloc((d->ntiers + 1) * sizeof(*base))) || !(ids = annot_idmap_new())) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < d->ntiers; i++) {
		base[i] = total;
		total += d->tiers[i].nsegs;
		for (j = 0; keep_ids && j < d->tiers[i].nsegs; j++) {
			const char *e = d->tiers[i].segs[j].ext_id;
			if (!e || !*e || strlen(e) > 60 || strpbrk(e, " \t\n\"<>&'") ||
			    (e[0] >= '0' && e[0] <= '9') ||
			    (ret = annot_idmap_put(ids, e, 0)) != 0) {
				if (ret < 0)
					goto end;
				keep_ids = 0;
			}
		}
	}
	ret = 0;
	if (keep_ids) {
		for (i = 0; i < d->ntiers; i++)
			for (j = 0; j < d->tiers[i].nsegs; j++) {
				const char *e = d->tiers[i].segs[j].ext_id;
				size_t k = strcspn(e, "0123456789");
				size_t v = e[k] ? strtoul(e + k, NULL, 10) : 0;
				if (v > last_id)
					last_id = v;
			}
	} else {
		last_id = total;
	}
	/* slots */
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if (writes_refs(d, t))
			continue;
		nslots += 2 * t->nsegs;
	}
	if (nslots > UINT32_MAX - 2) {
		ret = -PRL_EINVAL;
		goto end;
	}
	if (nslots && (!(slots = malloc(nslots * sizeof(*slots))) ||
		       !(rank = malloc(nslots * sizeof(*rank))))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	nslots = 0;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if (writes_refs(d, t))
			continue;
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			if (!share_start(t, j)) {
				slots[nslots].t = s->start_ms;
				slots[nslots].n = (uint32_t)nslots;
				slots[nslots].unaligned = s->start_unaligned;
				nslots++;
			}
			slots[nslots].t = s->end_ms;
			slots[nslots].n = (uint32_t)nslots;
			slots[nslots].unaligned = s->end_unaligned;
			nslots++;
		}
	}
	if (nslots)
		qsort(slots, nslots, sizeof(*slots), slot_cmp);
	for (i = 0; i < nslots; i++)
		rank[slots[i].n] = (uint32_t)i + 1;

	/* document and header */
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
		goto end;
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
		goto end;
	if (o->media_url && !has_prop(d, "eaf:MEDIA_DESCRIPTOR")) {
		const char *dot = strrchr(o->media_url, '.');
		const char *mime = !dot			      ? "audio/*"
				   : !strcasecmp(dot, ".wav") ? "audio/x-wav"
				   : !strcasecmp(dot, ".mp3") ? "audio/mpeg"
				   : !strcasecmp(dot, ".ogg") || !strcasecmp(dot, ".opus")
					   ? "audio/ogg"
					   : "audio/*";
		if ((ret = prl_buf_addstr(b, "        <MEDIA_DESCRIPTOR")) < 0 ||
		    (ret = put_attr(b, "MEDIA_URL", o->media_url)) < 0 ||
		    (ret = put_attr(b, "MIME_TYPE", mime)) < 0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			goto end;
	}
	if ((ret = put_props(b, d, "eaf:MEDIA_DESCRIPTOR", "        ", "MEDIA_DESCRIPTOR")) < 0 ||
	    (ret = put_props(b, d, "eaf:LINKED_FILE_DESCRIPTOR", "        ",
			     "LINKED_FILE_DESCRIPTOR")) < 0 ||
	    (ret = put_properties(b, d, last_id)) < 0 ||
	    (ret = prl_buf_addstr(b, "    </HEADER>\n    <TIME_ORDER>\n")) < 0)
		goto end;
	for (i = 0; i < nslots; i++) {
		if (slots[i].unaligned)
			ret = prl_buf_addf(b, "        <TIME_SLOT TIME_SLOT_ID=\"ts%zu\"/>\n",
					   i + 1);
		else
			ret = prl_buf_addf(b,
					   "        <TIME_SLOT TIME_SLOT_ID=\"ts%zu\" "
					   "TIME_VALUE=\"%lld\"/>\n",
					   i + 1, (long long)(slots[i].t < 0 ? 0 : slots[i].t));
		if (ret < 0 || (ret = annot_sink_maybe_flush(sk)) < 0)
			goto end;
	}
	if ((ret = prl_buf_addstr(b, "    </TIME_ORDER>\n")) < 0)
		goto end;

	/* tiers */
	nslots = 0;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		const struct prl_tier *pt =
			t->parent && t->parent <= d->ntiers ? &d->tiers[t->parent - 1] : NULL;
		int refs = writes_refs(d, t);
		size_t skipped = 0, backwards = 0;

		if ((ret = prl_buf_addstr(b, "    <TIER")) < 0 ||
		    (ret = put_attr(b, "LINGUISTIC_TYPE_REF",
				    tier_type_id(d, t, tbuf, sizeof(tbuf)))) < 0 ||
		    (ret = put_attr(b, "TIER_ID", tname[i])) < 0 ||
		    (ret = put_attr(b, "PARTICIPANT", t->participant)) < 0 ||
		    (ret = put_attr(b, "ANNOTATOR", t->annotator)) < 0 ||
		    (ret = put_attr(b, "PARENT_REF", pt ? tname[t->parent - 1] : NULL)) < 0 ||
		    (ret = put_attr(b, "DEFAULT_LOCALE", t->default_locale)) < 0 ||
		    (ret = put_attr(b, "LANG_REF", t->language)) < 0)
			goto end;
		if (t->language)
			nunnamed_langs++;
		if (!t->nsegs) {
			if ((ret = prl_buf_addstr(b, "/>\n")) < 0)
				goto end;
			continue;
		}
		if ((ret = prl_buf_addstr(b, ">\n")) < 0)
			goto end;
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			const char *id = ann_id(idbuf, sizeof(idbuf), t, j, base[i], keep_ids);
			if (refs) {
				const char *prev = NULL;
				if (!s->parent || s->parent > pt->nsegs) {
					skipped++;
					continue;
				}
				if (t->constraint == PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION && j > 0 &&
				    t->segs[j - 1].parent == s->parent)
					prev = ann_id(prevbuf, sizeof(prevbuf), t, j - 1, base[i],
						      keep_ids);
				if ((ret = prl_buf_addstr(b, "        <ANNOTATION>\n            "
							     "<REF_ANNOTATION")) < 0 ||
				    (ret = put_attr(b, "ANNOTATION_ID", id)) < 0 ||
				    (ret = put_attr(b, "ANNOTATION_REF",
						    ann_id(pbuf, sizeof(pbuf), pt, s->parent - 1,
							   base[t->parent - 1], keep_ids))) < 0 ||
				    (ret = put_attr(b, "CVE_REF", s->cve_ref)) < 0 ||
				    (ret = put_attr(b, "PREVIOUS_ANNOTATION", prev)) < 0 ||
				    (ret = prl_buf_addstr(
					     b, ">\n                <ANNOTATION_VALUE>")) < 0 ||
				    (ret = prl_xml_escape(b, s->text)) < 0 ||
				    (ret = prl_buf_addstr(b, "</ANNOTATION_VALUE>\n            "
							     "</REF_ANNOTATION>\n        "
							     "</ANNOTATION>\n")) < 0)
					goto end;
			} else {
				uint32_t s1, s2;
				if (!share_start(t, j))
					nslots++;
				s1 = rank[nslots - 1];
				s2 = rank[nslots];
				nslots++;
				backwards += s->end_ms < s->start_ms;
				if ((ret = prl_buf_addstr(b, "        <ANNOTATION>\n            "
							     "<ALIGNABLE_ANNOTATION")) < 0 ||
				    (ret = put_attr(b, "ANNOTATION_ID", id)) < 0 ||
				    (ret = prl_buf_addf(b,
							" TIME_SLOT_REF1=\"ts%u\" "
							"TIME_SLOT_REF2=\"ts%u\"",
							s1, s2)) < 0 ||
				    (ret = put_attr(b, "CVE_REF", s->cve_ref)) < 0 ||
				    (ret = prl_buf_addstr(
					     b, ">\n                <ANNOTATION_VALUE>")) < 0 ||
				    (ret = prl_xml_escape(b, s->text)) < 0 ||
				    (ret = prl_buf_addstr(b, "</ANNOTATION_VALUE>\n            "
							     "</ALIGNABLE_ANNOTATION>\n        "
							     "</ANNOTATION>\n")) < 0)
					goto end;
			}
			if ((ret = annot_sink_maybe_flush(sk)) < 0)
				goto end;
		}
		if ((ret = prl_buf_addstr(b, "    </TIER>\n")) < 0)
			goto end;
		if (skipped)
			annot_warn(warn,
				   "EAF: tier \"%s\": %zu segments have no parent segment, which "
				   "a symbolic tier needs; not written",
				   t->name, skipped);
		if (backwards)
			annot_warn(warn, "EAF: tier \"%s\": %zu segments end before they start",
				   t->name, backwards);
		if (t->is_point)
			annot_warn(warn,
				   "EAF: tier \"%s\" holds points, written as annotations of "
				   "zero length",
				   t->name);
		if (is_symbolic(t->constraint) && !refs)
			annot_warn(warn,
				   "EAF: symbolic tier \"%s\" has no parent tier; written "
				   "time-aligned",
				   t->name);
	}

	/* linguistic types: the document's, then those made for tiers */
	for (i = 0; i < d->nling_types; i++) {
		const struct prl_ling_type *lt = &d->ling_types[i];
		const char *c = prl_constraint_name(lt->constraint);
		if ((ret = prl_buf_addstr(b, "    <LINGUISTIC_TYPE")) < 0 ||
		    (ret = put_attr(b, "CONSTRAINTS", c)) < 0 ||
		    (ret = put_attr(b, "CONTROLLED_VOCABULARY_REF", lt->cv_ref)) < 0 ||
		    (ret = put_attr(b, "GRAPHIC_REFERENCES",
				    lt->graphic_references ? "true" : "false")) < 0 ||
		    (ret = put_attr(b, "LINGUISTIC_TYPE_ID", lt->id)) < 0 ||
		    (ret = put_attr(b, "TIME_ALIGNABLE", lt->time_alignable ? "true" : "false")) <
			    0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			goto end;
	}
	for (i = 0; i < d->ntiers; i++) {
		const char *id = tier_type_id(d, &d->tiers[i], tbuf, sizeof(tbuf));
		const char *c;
		size_t k;
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
			goto end;
	}
	if ((ret = put_props(b, d, "eaf:LOCALE", "    ", "LOCALE")) < 0 ||
	    (ret = put_props(b, d, "eaf:LANGUAGE", "    ", "LANGUAGE")) < 0)
		goto end;
	/* EAF 3.0 wants a LANG_REF on every CV value and CV description, and
	 * each must name a LANGUAGE: 2.x vocabularies get "und" */
	for (i = 0; i < d->ncvs; i++) {
		need_und |= d->cvs[i].description != NULL;
		for (j = 0; j < d->cvs[i].nentries; j++)
			need_und |= d->cvs[i].entries[j].lang == NULL;
	}
	if ((ret = put_missing_langs(b, d)) < 0)
		goto end;
	if (need_und && !lang_declared(d, "und", NULL, 0) &&
	    (ret = prl_buf_addstr(b, "    <LANGUAGE LANG_ID=\"und\" "
				     "LANG_LABEL=\"undetermined (und)\"/>\n")) < 0)
		goto end;
	for (i = 0; i < 4; i++)
		if ((ret = prl_buf_addstr(b, "    <CONSTRAINT")) < 0 ||
		    (ret = put_attr(b, "DESCRIPTION", constraint_desc[i][1])) < 0 ||
		    (ret = put_attr(b, "STEREOTYPE", constraint_desc[i][0])) < 0 ||
		    (ret = prl_buf_addstr(b, "/>\n")) < 0)
			goto end;
	for (i = 0; i < d->ncvs; i++) {
		const struct prl_cv *cv = &d->cvs[i];
		if ((ret = prl_buf_addstr(b, "    <CONTROLLED_VOCABULARY")) < 0 ||
		    (ret = put_attr(b, "CV_ID", cv->id)) < 0 ||
		    (ret = put_attr(b, "EXT_REF", cv->ext_ref)) < 0)
			goto end;
		if (!cv->description && !cv->nentries) {
			if ((ret = prl_buf_addstr(b, "/>\n")) < 0)
				goto end;
			continue;
		}
		if ((ret = prl_buf_addstr(b, ">\n")) < 0)
			goto end;
		if (cv->description &&
		    ((ret = prl_buf_addstr(b, "        <DESCRIPTION LANG_REF=\"und\">")) < 0 ||
		     (ret = prl_xml_escape(b, cv->description)) < 0 ||
		     (ret = prl_buf_addstr(b, "</DESCRIPTION>\n")) < 0))
			goto end;
		for (j = 0; j < cv->nentries;) {
			const struct prl_cv_entry *e = &cv->entries[j];
			size_t k;
			char gen[48];
			const char *id = e->id;
			if (!id) {
				snprintf(gen, sizeof(gen), "cveid_%zu_%zu", i, j);
				id = gen;
			}
			if ((ret = prl_buf_addstr(b, "        <CV_ENTRY_ML")) < 0 ||
			    (ret = put_attr(b, "CVE_ID", id)) < 0 ||
			    (ret = prl_buf_addstr(b, ">\n")) < 0)
				goto end;
			/* one CVE_VALUE per language of this entry */
			for (k = j;
			     k < cv->nentries && (k == j || (e->id && cv->entries[k].id &&
							     !strcmp(cv->entries[k].id, e->id)));
			     k++) {
				const struct prl_cv_entry *v = &cv->entries[k];
				if ((ret = prl_buf_addstr(b, "            <CVE_VALUE")) < 0 ||
				    (ret = put_attr(b, "DESCRIPTION", v->description)) < 0 ||
				    (ret = put_attr(b, "LANG_REF", v->lang ? v->lang : "und")) <
					    0 ||
				    (ret = prl_buf_addch(b, '>')) < 0 ||
				    (ret = prl_xml_escape(b, v->value ? v->value : "")) < 0 ||
				    (ret = prl_buf_addstr(b, "</CVE_VALUE>\n")) < 0)
					goto end;
			}
			if ((ret = prl_buf_addstr(b, "        </CV_ENTRY_ML>\n")) < 0)
				goto end;
			j = k;
		}
		if ((ret = prl_buf_addstr(b, "    </CONTROLLED_VOCABULARY>\n")) < 0)
			goto end;
	}
	if ((ret = put_props(b, d, "eaf:LEXICON_REF", "    ", "LEXICON_REF")) < 0 ||
	    (ret = put_props(b, d, "eaf:EXTERNAL_REF", "    ", "EXTERNAL_REF")) < 0 ||
	    (ret = prl_buf_addstr(b, "</ANNOTATION_DOCUMENT>\n")) < 0)
		goto end;
	(void)nunnamed_langs;
end:
	for (i = 0; tname && i < d->ntiers; i++)
		free(tname[i]);
	free(tname);
	free(slots);
	free(rank);
	free(base);
	annot_idmap_free(ids);
	return ret;
}
