/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ELAN EAF reader (EAF 2.6 to 3.0), streamed through libxml2's xmlReader
 * with the network off and no entity expansion or DTD loading, so a
 * hostile file costs no more than its bytes and a big one is never held
 * as a tree.  Annotations are stored as they come; references (time
 * slots, ANNOTATION_REF, PREVIOUS_ANNOTATION, PARENT_REF, linguistic
 * types) are resolved once the document has been read, because EAF puts
 * the tiers before the types and a child tier may precede its parent.
 *
 * Times: a TIME_SLOT without TIME_VALUE is interpolated along its chain
 * (the run of annotations of one tier joined by shared slots, as ELAN
 * builds them for Time_Subdivision) between the nearest valued slots, and
 * the segment is marked unaligned so the writer gives the slot back
 * without a value.  REF_ANNOTATION times come from the nearest aligned
 * ancestor: Symbolic_Subdivision children split their parent's span
 * evenly in PREVIOUS_ANNOTATION order (what ELAN draws), Symbolic_
 * Association children take the parent's span.  Tiers are resolved
 * parents first, and stored so: a tier that comes before its parent in
 * the file (EAF does not order tiers) moves after it.
 *
 * Errors name the element and id: a missing time slot, a missing parent
 * annotation, a duplicate id.  Workload: up to millions of annotations;
 * per annotation this keeps 16 bytes of bookkeeping besides the segment.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "annot-internal.h"

#define NONE UINT32_MAX

/* One annotation as read, before its references are resolved. */
struct pend {
	uint32_t tier; /* tier index */
	uint32_t seg;  /* segment index in that tier */
	uint32_t a;    /* alignable: TIME_SLOT_REF1 slot; ref: index in refs */
	uint32_t b;    /* alignable: TIME_SLOT_REF2 slot; ref: NONE */
};

/* What a REF_ANNOTATION names: resolved on the spot when the target was
 * already read (the usual case: ELAN writes parents first), else kept as
 * text until every id is known. */
struct ref {
	uint32_t tq;  /* pend of ANNOTATION_REF, or NONE while unresolved */
	uint32_t pq;  /* pend of PREVIOUS_ANNOTATION, or NONE */
	char *target; /* ANNOTATION_REF while unresolved, else NULL */
	char *prev;   /* PREVIOUS_ANNOTATION while unresolved, else NULL */
};

struct eaf_reader {
	xmlTextReaderPtr xr;	 /* the libxml2 reader */
	struct prl_annot_doc *d; /* the document being filled */
	struct prl_buf *err;	 /* one error line */
	struct prl_buf *warn;	 /* warnings */
	char xml_error[256];	 /* the first message libxml2 gave */
	int xml_error_line;	 /* and its line */

	int64_t *slot_val; /* TIME_VALUE per slot, -1 when absent */
	size_t nslots, alloc_slots;
	struct annot_idmap *slot_ids; /* TIME_SLOT_ID -> slot */

	struct pend *pends; /* every annotation in document order */
	size_t npends, alloc_pends;
	struct annot_idmap *ann_ids; /* ANNOTATION_ID -> pend */
	struct ref *refs;	     /* REF_ANNOTATION targets */
	size_t nrefs, alloc_refs;

	char **parent_refs; /* PARENT_REF per tier (owned) or NULL */
	size_t alloc_parent_refs;
	struct annot_idmap *tier_ids; /* TIER_ID -> tier */

	struct prl_buf overlap_tiers; /* TIER_IDs whose annotations may overlap, NUL-separated */

	int cur_tier;	      /* tier being read, -1 outside */
	int cur_cv;	      /* controlled vocabulary being read, -1 outside */
	size_t lost_ext_refs; /* EXT_REF/LANG_REF on annotations, not kept */
};

static void xml_error_handler(void *arg, xmlErrorPtr e)
{
	struct eaf_reader *r = arg;
	size_t n;

	if (!e || r->xml_error[0] || e->level < XML_ERR_ERROR)
		return;
	snprintf(r->xml_error, sizeof(r->xml_error), "%s", e->message ? e->message : "error");
	n = strlen(r->xml_error);
	while (n && (r->xml_error[n - 1] == '\n' || r->xml_error[n - 1] == ' '))
		r->xml_error[--n] = '\0';
	r->xml_error_line = e->line;
}

static const char *attr(struct eaf_reader *r, const char *name)
{
	/* xmlTextReaderGetAttribute allocates; the const variant does not
	 * exist, so the names are looked up by walking the attributes */
	const char *v = NULL;

	if (xmlTextReaderMoveToAttribute(r->xr, (const xmlChar *)name) == 1) {
		v = (const char *)xmlTextReaderConstValue(r->xr);
		xmlTextReaderMoveToElement(r->xr);
	}
	return v;
}

/* An attribute copied in NFC (NULL when absent); *failed on ENOMEM. */
static char *attr_dup(struct eaf_reader *r, const char *name, int *failed)
{
	const char *v = attr(r, name);
	char *c;

	if (!v)
		return NULL;
	if (!(c = annot_strdup_nfc(v, strlen(v))))
		*failed = 1;
	return c;
}

/* Reads the next node inside the element whose start tag stood at depth:
 * returns 1 with its node type in *type, 0 on the element's end tag, or
 * -PRL_EFORMAT when the document breaks or ends first. */
static int next_inside(struct eaf_reader *r, int depth, int *type)
{
	if (xmlTextReaderRead(r->xr) != 1)
		return -PRL_EFORMAT;
	*type = xmlTextReaderNodeType(r->xr);
	return !(*type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r->xr) == depth);
}

/* Element text up to its end tag (the reader is on the start tag).  Only
 * text, CDATA and white space count; entity references are not expanded. */
static int element_text(struct eaf_reader *r, struct prl_buf *out)
{
	int depth, ret, t;

	prl_buf_reset(out);
	if (xmlTextReaderIsEmptyElement(r->xr))
		return 0;
	depth = xmlTextReaderDepth(r->xr);
	while ((ret = next_inside(r, depth, &t)) > 0) {
		if (t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA ||
		    t == XML_READER_TYPE_WHITESPACE ||
		    t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
			const char *v = (const char *)xmlTextReaderConstValue(r->xr);
			if (v && (ret = prl_buf_addstr(out, v)) < 0)
				return ret;
		}
	}
	return ret;
}

/* The element's attributes (and text, as "#text") as one prop value:
 * NAME=value pairs joined by U+001F, which XML cannot contain. */
static int keep_element(struct eaf_reader *r, const char *key, int with_text)
{
	struct prl_buf v = PRL_BUF_INIT, text = PRL_BUF_INIT;
	char *nfc = NULL;
	int ret = 0;

	if (xmlTextReaderMoveToFirstAttribute(r->xr) == 1) {
		do {
			const char *n = (const char *)xmlTextReaderConstName(r->xr);
			const char *val = (const char *)xmlTextReaderConstValue(r->xr);
			if (!n || !strncmp(n, "xmlns", 5) || !strncmp(n, "xsi:", 4))
				continue;
			if (v.len)
				prl_buf_addch(&v, '\x1f');
			prl_buf_addf(&v, "%s=%s", n, val ? val : "");
		} while (xmlTextReaderMoveToNextAttribute(r->xr) == 1);
		xmlTextReaderMoveToElement(r->xr);
	}
	if (with_text) {
		if ((ret = element_text(r, &text)) < 0)
			goto end;
		if (v.len)
			prl_buf_addch(&v, '\x1f');
		prl_buf_addf(&v, "#text=%s", prl_buf_str(&text));
	}
	if (!(nfc = annot_strdup_nfc(prl_buf_str(&v), v.len))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	ret = annot_add_prop(r->d, key, nfc);
end:
	free(nfc);
	prl_buf_release(&v);
	prl_buf_release(&text);
	return ret;
}

static int read_time_slot(struct eaf_reader *r)
{
	const char *id = attr(r, "TIME_SLOT_ID"), *v = attr(r, "TIME_VALUE");
	int64_t val = -1;
	int ret;

	if (!id)
		return annot_fail(r->err, PRL_EFORMAT, "TIME_SLOT (line %d) has no TIME_SLOT_ID",
				  xmlTextReaderGetParserLineNumber(r->xr));
	if (v) {
		char *end;
		long long x = strtoll(v, &end, 10);
		if (end == v || *end || x < 0 || x > (long long)1e15)
			return annot_fail(r->err, PRL_EFORMAT,
					  "TIME_SLOT %s: TIME_VALUE \"%.30s\" is "
					  "not a time in milliseconds",
					  id, v);
		val = x;
	}
	if (r->nslots >= UINT32_MAX - 1)
		return annot_fail(r->err, PRL_EFORMAT, "too many time slots");
	if (r->nslots == r->alloc_slots) {
		size_t n = r->alloc_slots ? r->alloc_slots * 2 : 256;
		int64_t *p = realloc(r->slot_val, n * sizeof(*p));
		if (!p)
			return -PRL_ENOMEM;
		r->slot_val = p;
		r->alloc_slots = n;
	}
	if ((ret = annot_idmap_put(r->slot_ids, id, (uint32_t)r->nslots)) < 0)
		return ret;
	if (ret == 1)
		return annot_fail(r->err, PRL_EFORMAT, "TIME_SLOT %s: the id is used twice", id);
	r->slot_val[r->nslots++] = val;
	return 0;
}

static const char *const type_hints[][2] = {
	{"transl", "translation"}, {"tradu", "translation"}, {"free", "translation"},
	{"gloss", "gloss"},	   {"note", "note"},	     {"comment", "note"},
};

/* "transcription" unless the tier's name or type says otherwise. */
static const char *guess_type(const char *name, const char *lt)
{
	size_t i;

	for (i = 0; i < sizeof(type_hints) / sizeof(type_hints[0]); i++)
		if ((name && strcasestr(name, type_hints[i][0])) ||
		    (lt && strcasestr(lt, type_hints[i][0])))
			return type_hints[i][1];
	return "transcription";
}

static int read_tier(struct eaf_reader *r)
{
	const char *id = attr(r, "TIER_ID");
	struct prl_tier *t;
	int idx, ret, failed = 0;
	char *name;

	if (!id)
		return annot_fail(r->err, PRL_EFORMAT, "TIER (line %d) has no TIER_ID",
				  xmlTextReaderGetParserLineNumber(r->xr));
	if (!(name = annot_strdup_nfc(id, strlen(id))))
		return -PRL_ENOMEM;
	idx = prl_annot_add_tier(r->d, name, guess_type(name, attr(r, "LINGUISTIC_TYPE_REF")));
	free(name);
	if (idx < 0)
		return idx;
	if ((ret = annot_idmap_put(r->tier_ids, id, (uint32_t)idx)) < 0)
		return ret;
	if (ret == 1)
		return annot_fail(r->err, PRL_EFORMAT, "TIER \"%s\": the TIER_ID is used twice",
				  id);
	t = &r->d->tiers[idx];
	t->participant = attr_dup(r, "PARTICIPANT", &failed);
	t->annotator = attr_dup(r, "ANNOTATOR", &failed);
	t->ling_type = attr_dup(r, "LINGUISTIC_TYPE_REF", &failed);
	t->language = attr_dup(r, "LANG_REF", &failed);
	t->default_locale = attr_dup(r, "DEFAULT_LOCALE", &failed);
	if ((size_t)idx >= r->alloc_parent_refs) {
		size_t n = r->alloc_parent_refs ? r->alloc_parent_refs * 2 : 16;
		char **p = realloc(r->parent_refs, n * sizeof(*p));
		if (!p)
			return -PRL_ENOMEM;
		memset(p + r->alloc_parent_refs, 0, (n - r->alloc_parent_refs) * sizeof(*p));
		r->parent_refs = p;
		r->alloc_parent_refs = n;
	}
	r->parent_refs[idx] = attr_dup(r, "PARENT_REF", &failed);
	if (failed)
		return -PRL_ENOMEM;
	r->cur_tier = xmlTextReaderIsEmptyElement(r->xr) ? -1 : idx;
	return 0;
}

static int add_pend(struct eaf_reader *r, const char *id, uint32_t a, uint32_t b)
{
	struct prl_tier *t = &r->d->tiers[r->cur_tier];
	struct pend *p;
	int ret;

	if (r->npends >= UINT32_MAX - 1)
		return annot_fail(r->err, PRL_EFORMAT, "too many annotations");
	if (r->npends == r->alloc_pends) {
		size_t n = r->alloc_pends ? r->alloc_pends + r->alloc_pends / 2 : 256;
		if (!(p = realloc(r->pends, n * sizeof(*p))))
			return -PRL_ENOMEM;
		r->pends = p;
		r->alloc_pends = n;
	}
	if ((ret = annot_idmap_put(r->ann_ids, id, (uint32_t)r->npends)) < 0)
		return ret;
	if (ret == 1)
		return annot_fail(r->err, PRL_EFORMAT,
				  "ANNOTATION %s: the ANNOTATION_ID is used "
				  "twice (ids must be unique in a document)",
				  id);
	p = &r->pends[r->npends++];
	p->tier = (uint32_t)r->cur_tier;
	p->seg = (uint32_t)t->nsegs;
	p->a = a;
	p->b = b;
	return 0;
}

/* ALIGNABLE_ANNOTATION or REF_ANNOTATION with its ANNOTATION_VALUE. */
/* What the REF_ANNOTATION id names: its target and previous sibling,
 * resolved when already read, else kept by id.  *a is its index in
 * refs. */
static int read_ref(struct eaf_reader *r, const char *id, uint32_t *a)
{
	const char *target = attr(r, "ANNOTATION_REF");
	struct ref *rf;
	int failed = 0;

	if (!target)
		return annot_fail(r->err, PRL_EFORMAT,
				  "REF_ANNOTATION %s has no "
				  "ANNOTATION_REF",
				  id);
	if (r->nrefs == r->alloc_refs) {
		size_t n = r->alloc_refs ? r->alloc_refs * 2 : 64;
		if (!(rf = realloc(r->refs, n * sizeof(*rf))))
			return -PRL_ENOMEM;
		r->refs = rf;
		r->alloc_refs = n;
	}
	rf = &r->refs[r->nrefs];
	rf->target = rf->prev = NULL;
	rf->tq = annot_idmap_get(r->ann_ids, target);
	if (rf->tq == NONE)
		rf->target = annot_strdup_or_null(target, &failed);
	rf->pq = NONE;
	if ((target = attr(r, "PREVIOUS_ANNOTATION")) &&
	    (rf->pq = annot_idmap_get(r->ann_ids, target)) == NONE)
		rf->prev = annot_strdup_or_null(target, &failed);
	if (failed) {
		free(rf->target);
		free(rf->prev);
		return -PRL_ENOMEM;
	}
	*a = (uint32_t)r->nrefs++;
	return 0;
}

/* The value of the annotation element the reader stands on (its one
 * ANNOTATION_VALUE child) into text; the reader ends on its end tag. */
static int read_annotation_value(struct eaf_reader *r, struct prl_buf *text)
{
	int ret, depth, type;

	prl_buf_reset(text);
	if (xmlTextReaderIsEmptyElement(r->xr))
		return 0;
	depth = xmlTextReaderDepth(r->xr);
	while ((ret = next_inside(r, depth, &type)) > 0)
		if (type == XML_READER_TYPE_ELEMENT &&
		    xmlStrEqual(xmlTextReaderConstLocalName(r->xr),
				(const xmlChar *)"ANNOTATION_VALUE") &&
		    (ret = element_text(r, text)) < 0)
			return ret;
	return ret;
}

static int read_annotation(struct eaf_reader *r, int alignable, struct prl_buf *text)
{
	const char *id = attr(r, "ANNOTATION_ID");
	struct prl_tier *t = &r->d->tiers[r->cur_tier];
	uint32_t a = NONE, b = NONE;
	char *cve = NULL, *txt = NULL, *idcopy = NULL;
	int ret, failed = 0;

	if (!id)
		return annot_fail(r->err, PRL_EFORMAT,
				  "%s on tier \"%s\" (line %d) has no "
				  "ANNOTATION_ID",
				  alignable ? "ALIGNABLE_ANNOTATION" : "REF_ANNOTATION", t->name,
				  xmlTextReaderGetParserLineNumber(r->xr));
	if (alignable) {
		const char *s1 = attr(r, "TIME_SLOT_REF1"), *s2 = attr(r, "TIME_SLOT_REF2");
		if (!s1 || (a = annot_idmap_get(r->slot_ids, s1)) == NONE)
			return annot_fail(r->err, PRL_EFORMAT,
					  "ALIGNABLE_ANNOTATION %s: "
					  "TIME_SLOT_REF1 \"%.40s\" names no TIME_SLOT",
					  id, s1 ? s1 : "");
		if (!s2 || (b = annot_idmap_get(r->slot_ids, s2)) == NONE)
			return annot_fail(r->err, PRL_EFORMAT,
					  "ALIGNABLE_ANNOTATION %s: "
					  "TIME_SLOT_REF2 \"%.40s\" names no TIME_SLOT",
					  id, s2 ? s2 : "");
	} else if ((ret = read_ref(r, id, &a)) < 0) {
		return ret;
	}
	if (attr(r, "EXT_REF") || attr(r, "LANG_REF"))
		r->lost_ext_refs++;
	cve = attr_dup(r, "CVE_REF", &failed);
	idcopy = attr_dup(r, "ANNOTATION_ID", &failed);
	if (failed) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if ((ret = add_pend(r, id, a, b)) < 0)
		goto end;
	if ((ret = read_annotation_value(r, text)) < 0)
		goto end;
	if (!(txt = annot_strdup_nfc(prl_buf_str(text), text->len))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	ret = annot_push_segment(t, 0, 0, txt, 0);
	txt = NULL;
	if (ret < 0)
		goto end;
	t->segs[t->nsegs - 1].cve_ref = cve;
	t->segs[t->nsegs - 1].ext_id = idcopy;
	cve = idcopy = NULL;
end:
	free(cve);
	free(idcopy);
	return ret;
}

static int read_ling_type(struct eaf_reader *r)
{
	struct prl_ling_type *lt;
	const char *c, *ta, *gr;
	int failed = 0;

	lt = realloc(r->d->ling_types, (r->d->nling_types + 1) * sizeof(*lt));
	if (!lt)
		return -PRL_ENOMEM;
	r->d->ling_types = lt;
	lt = &r->d->ling_types[r->d->nling_types];
	memset(lt, 0, sizeof(*lt));
	lt->id = attr_dup(r, "LINGUISTIC_TYPE_ID", &failed);
	lt->cv_ref = attr_dup(r, "CONTROLLED_VOCABULARY_REF", &failed);
	if (failed || !lt->id) {
		free(lt->id);
		free(lt->cv_ref);
		return failed ? -PRL_ENOMEM
			      : annot_fail(r->err, PRL_EFORMAT,
					   "LINGUISTIC_TYPE (line %d) has no "
					   "LINGUISTIC_TYPE_ID",
					   xmlTextReaderGetParserLineNumber(r->xr));
	}
	r->d->nling_types++;
	c = attr(r, "CONSTRAINTS");
	if (c && *c) {
		int k = prl_annot_constraint_parse(c);
		if (k < 0)
			annot_warn(r->warn,
				   "LINGUISTIC_TYPE %s: unknown constraint \"%s\", read as "
				   "none",
				   lt->id, c);
		else
			lt->constraint = (enum prl_constraint)k;
	}
	ta = attr(r, "TIME_ALIGNABLE");
	gr = attr(r, "GRAPHIC_REFERENCES");
	lt->time_alignable = ta ? !strcmp(ta, "true") : 1;
	lt->graphic_references = gr ? !strcmp(gr, "true") : 0;
	if (attr(r, "EXT_REF") || attr(r, "LEXICON_REF"))
		annot_warn(r->warn, "LINGUISTIC_TYPE %s: its EXT_REF/LEXICON_REF link is not kept",
			   lt->id);
	return 0;
}

static int read_cv(struct eaf_reader *r)
{
	struct prl_cv *cv;
	int failed = 0;

	cv = realloc(r->d->cvs, (r->d->ncvs + 1) * sizeof(*cv));
	if (!cv)
		return -PRL_ENOMEM;
	r->d->cvs = cv;
	cv = &r->d->cvs[r->d->ncvs];
	memset(cv, 0, sizeof(*cv));
	cv->id = attr_dup(r, "CV_ID", &failed);
	cv->description = attr_dup(r, "DESCRIPTION", &failed);
	cv->ext_ref = attr_dup(r, "EXT_REF", &failed);
	if (failed || !cv->id) {
		free(cv->id);
		free(cv->description);
		free(cv->ext_ref);
		return failed ? -PRL_ENOMEM
			      : annot_fail(r->err, PRL_EFORMAT,
					   "CONTROLLED_VOCABULARY (line %d) "
					   "has no CV_ID",
					   xmlTextReaderGetParserLineNumber(r->xr));
	}
	r->cur_cv = xmlTextReaderIsEmptyElement(r->xr) ? -1 : (int)r->d->ncvs;
	r->d->ncvs++;
	return 0;
}

static int add_cv_entry(struct prl_cv *cv, char *id, char *value, char *desc, char *lang)
{
	struct prl_cv_entry *e = realloc(cv->entries, (cv->nentries + 1) * sizeof(*e));

	if (!e) {
		free(id);
		free(value);
		free(desc);
		free(lang);
		return -PRL_ENOMEM;
	}
	cv->entries = e;
	e = &cv->entries[cv->nentries++];
	e->id = id;
	e->value = value;
	e->description = desc;
	e->lang = lang;
	return 0;
}

/* CV_ENTRY (2.x: the value is the text) or CV_ENTRY_ML (3.0: one
 * CVE_VALUE per language, each kept as an entry sharing the CVE_ID). */
static int read_cv_entry(struct eaf_reader *r, int ml, struct prl_buf *text)
{
	struct prl_cv *cv = &r->d->cvs[r->cur_cv];
	char *id, *desc, *value;
	int failed = 0, ret, depth, type;

	id = attr_dup(r, ml ? "CVE_ID" : "CVE_ID", &failed);
	if (!ml) {
		desc = attr_dup(r, "DESCRIPTION", &failed);
		if ((ret = element_text(r, text)) < 0) {
			free(id);
			free(desc);
			return ret;
		}
		value = annot_strdup_nfc(prl_buf_str(text), text->len);
		if (failed || !value) {
			free(id);
			free(desc);
			free(value);
			return -PRL_ENOMEM;
		}
		return add_cv_entry(cv, id, value, desc, NULL);
	}
	if (failed)
		return -PRL_ENOMEM;
	if (xmlTextReaderIsEmptyElement(r->xr)) {
		free(id);
		return 0;
	}
	depth = xmlTextReaderDepth(r->xr);
	while ((ret = next_inside(r, depth, &type)) > 0) {
		char *lang, *idc;
		if (type != XML_READER_TYPE_ELEMENT ||
		    !xmlStrEqual(xmlTextReaderConstLocalName(r->xr), (const xmlChar *)"CVE_VALUE"))
			continue;
		desc = attr_dup(r, "DESCRIPTION", &failed);
		lang = attr_dup(r, "LANG_REF", &failed);
		idc = annot_strdup_or_null(id, &failed);
		if ((ret = element_text(r, text)) < 0 || failed ||
		    !(value = annot_strdup_nfc(prl_buf_str(text), text->len))) {
			free(desc);
			free(lang);
			free(idc);
			free(id);
			return ret < 0 ? ret : -PRL_ENOMEM;
		}
		if ((ret = add_cv_entry(cv, idc, value, desc, lang)) < 0) {
			free(id);
			return ret;
		}
	}
	free(id);
	return ret;
}

/* ---- resolution ------------------------------------------------------ */

/* Tier parents: PARENT_REF when it names a tier; else (a dangling or
 * missing PARENT_REF) the tier the first ANNOTATION_REF points into. */
static int resolve_tiers(struct eaf_reader *r)
{
	struct prl_annot_doc *d = r->d;
	size_t i, j;

	for (i = 0; i < d->ntiers; i++) {
		struct prl_tier *t = &d->tiers[i];
		const char *pr = i < r->alloc_parent_refs ? r->parent_refs[i] : NULL;
		for (j = 0; t->ling_type && j < d->nling_types; j++)
			if (!strcmp(d->ling_types[j].id, t->ling_type)) {
				t->constraint = d->ling_types[j].constraint;
				break;
			}
		if (t->ling_type && j == d->nling_types)
			annot_warn(r->warn,
				   "TIER \"%s\": LINGUISTIC_TYPE_REF \"%s\" names no "
				   "LINGUISTIC_TYPE; read as a top-level type",
				   t->name, t->ling_type);
		if (pr && *pr) {
			uint32_t p = annot_idmap_get(r->tier_ids, pr);
			if (p == NONE)
				annot_warn(r->warn, "TIER \"%s\": PARENT_REF \"%s\" names no tier",
					   t->name, pr);
			else if (p == i)
				return annot_fail(r->err, PRL_EFORMAT,
						  "TIER \"%s\" is its own parent", t->name);
			else
				t->parent = p + 1;
		}
		if (!t->parent && t->constraint != PRL_CONSTRAINT_NONE && !(pr && *pr))
			annot_warn(r->warn, "TIER \"%s\": its type is %s but it has no PARENT_REF",
				   t->name, prl_annot_constraint_name(t->constraint));
	}
	return 0;
}

static int resolve_refs(struct eaf_reader *r)
{
	struct prl_annot_doc *d = r->d;
	size_t i;

	for (i = 0; i < r->npends; i++) {
		struct pend *p = &r->pends[i];
		struct ref *rf;
		struct prl_tier *t;
		const char *id, *target;
		uint32_t q;

		if (p->b != NONE)
			continue;
		rf = &r->refs[p->a];
		t = &d->tiers[p->tier];
		id = t->segs[p->seg].ext_id;
		q = rf->tq != NONE ? rf->tq : annot_idmap_get(r->ann_ids, rf->target);
		if (q == NONE)
			return annot_fail(r->err, PRL_EFORMAT,
					  "REF_ANNOTATION %s: ANNOTATION_REF "
					  "\"%.40s\" names no annotation",
					  id, rf->target);
		target = d->tiers[r->pends[q].tier].segs[r->pends[q].seg].ext_id;
		if (r->pends[q].tier == p->tier)
			return annot_fail(r->err, PRL_EFORMAT,
					  "REF_ANNOTATION %s refers to %s on its "
					  "own tier",
					  id, target);
		if (!t->parent) {
			t->parent = r->pends[q].tier + 1;
			annot_warn(r->warn,
				   "TIER \"%s\": parent tier taken from its annotations: "
				   "\"%s\"",
				   t->name, d->tiers[r->pends[q].tier].name);
		} else if (t->parent != r->pends[q].tier + 1) {
			return annot_fail(r->err, PRL_EFORMAT,
					  "REF_ANNOTATION %s: its parent %s is on "
					  "tier \"%s\", not on its tier's parent \"%s\"",
					  id, target, d->tiers[r->pends[q].tier].name,
					  d->tiers[t->parent - 1].name);
		}
		t->segs[p->seg].parent = (size_t)r->pends[q].seg + 1;
	}
	return 0;
}

/* Depth of each tier in the hierarchy; a cycle is an error. */
static int tier_depths(struct eaf_reader *r, size_t *depth)
{
	struct prl_annot_doc *d = r->d;
	size_t i, k, p;

	for (i = 0; i < d->ntiers; i++) {
		for (k = 0, p = i; d->tiers[p].parent; k++) {
			p = d->tiers[p].parent - 1;
			if (k > d->ntiers)
				return annot_fail(r->err, PRL_EFORMAT,
						  "TIER \"%s\": its PARENT_REFs "
						  "form a cycle",
						  d->tiers[i].name);
		}
		depth[i] = k;
	}
	return 0;
}

/* Interpolates slots without TIME_VALUE.  Along a chain first (ELAN's
 * own rule: unaligned slots of a subdivision share the gap evenly), then,
 * for slots a chain cannot place, between the neighbouring valued slots
 * of TIME_ORDER. */
static void interpolate(struct eaf_reader *r, int64_t *t_of, unsigned char *known)
{
	size_t i, j, k, n;

	for (i = 0; i < r->nslots; i++) {
		t_of[i] = r->slot_val[i];
		known[i] = r->slot_val[i] >= 0;
	}
	for (i = 0; i < r->npends; i = j) {
		/* a chain: annotations of one tier whose slots follow one another */
		struct pend *p = &r->pends[i];
		size_t first_unknown = NONE;
		for (j = i + 1;
		     j < r->npends && r->pends[j].tier == p->tier && r->pends[j].b != NONE &&
		     p->b != NONE && r->pends[j].a == r->pends[j - 1].b;
		     j++)
			;
		if (p->b == NONE)
			continue;
		/* slots of the chain: pends[i].a, then each .b */
		for (k = i; k < j && first_unknown == NONE; k++)
			if (!known[r->pends[k].a] || !known[r->pends[k].b])
				first_unknown = k;
		if (first_unknown == NONE)
			continue;
		n = j - i + 1;
		for (k = 0; k < n; k++) {
			uint32_t s = k == 0 ? r->pends[i].a : r->pends[i + k - 1].b;
			size_t lo, hi;
			uint32_t sl = NONE, sh = NONE;
			if (known[s])
				continue;
			for (lo = k; lo-- > 0;) {
				uint32_t x = lo == 0 ? r->pends[i].a : r->pends[i + lo - 1].b;
				if (known[x]) {
					sl = x;
					break;
				}
			}
			for (hi = k + 1; hi < n; hi++) {
				uint32_t x = r->pends[i + hi - 1].b;
				if (known[x]) {
					sh = x;
					break;
				}
			}
			if (sl != NONE && sh != NONE)
				t_of[s] = t_of[sl] + (t_of[sh] - t_of[sl]) * (int64_t)(k - lo) /
							     (int64_t)(hi - lo);
		}
		for (k = 0; k < n; k++) {
			uint32_t s = k == 0 ? r->pends[i].a : r->pends[i + k - 1].b;
			if (!known[s] && t_of[s] >= 0)
				known[s] = 2;
		}
	}
	/* whatever is left: between the valued neighbours in TIME_ORDER */
	for (i = 0; i < r->nslots; i++) {
		size_t lo, hi;
		if (known[i])
			continue;
		for (lo = i; lo-- > 0 && !known[lo];)
			;
		for (hi = i + 1; hi < r->nslots && !known[hi]; hi++)
			;
		if (lo != (size_t)-1 && hi < r->nslots)
			t_of[i] = t_of[lo] +
				  (t_of[hi] - t_of[lo]) * (int64_t)(i - lo) / (int64_t)(hi - lo);
		else if (lo != (size_t)-1)
			t_of[i] = t_of[lo];
		else if (hi < r->nslots)
			t_of[i] = t_of[hi];
		else
			t_of[i] = 0;
		known[i] = 2;
	}
}

/* The segment of parent tier pt whose span holds [s, e], or 0. */
static size_t find_container(const struct prl_tier *pt, const size_t *order, int64_t s, int64_t e)
{
	size_t lo = 0, hi = pt->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pt->segs[order[mid]].start_ms <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct prl_segment *c = &pt->segs[order[lo - 1]];
		if (c->start_ms <= s && c->end_ms >= e)
			return order[lo - 1] + 1;
		if (c->end_ms < s)
			break;
		lo--;
	}
	return 0;
}

static const struct prl_segment *sort_segs;

static int by_start_ms(const void *a, const void *b)
{
	int64_t x = sort_segs[*(const size_t *)a].start_ms,
		y = sort_segs[*(const size_t *)b].start_ms;

	return x < y ? -1 : x > y;
}

/* Times of every segment, tiers taken parents first. */
/* Times of the time-aligned annotations, from their slots. */
static void time_aligned(struct eaf_reader *r, const int64_t *t_of, const unsigned char *known)
{
	size_t i;

	for (i = 0; i < r->npends; i++) {
		struct pend *p = &r->pends[i];
		struct prl_segment *s;
		if (p->b == NONE)
			continue;
		s = &r->d->tiers[p->tier].segs[p->seg];
		s->start_ms = t_of[p->a];
		s->end_ms = t_of[p->b];
		s->start_unaligned = known[p->a] != 1;
		s->end_unaligned = known[p->b] != 1;
	}
}

/* The segments of aligned child tier t (no parent yet) find their parent
 * segment by time; *orphans counts those that lie in none. */
static int parent_by_time(struct prl_tier *t, const struct prl_tier *pt, size_t *orphans)
{
	size_t j, *order = malloc((pt->nsegs + 1) * sizeof(*order));

	if (!order)
		return -PRL_ENOMEM;
	for (j = 0; j < pt->nsegs; j++)
		order[j] = j;
	sort_segs = pt->segs;
	qsort(order, pt->nsegs, sizeof(*order), by_start_ms);
	for (j = 0; j < t->nsegs; j++) {
		struct prl_segment *s = &t->segs[j];
		if (s->parent)
			continue;
		s->parent = find_container(pt, order, s->start_ms, s->end_ms);
		*orphans += s->parent == 0;
	}
	free(order);
	return 0;
}

/* Ranks the children of Symbolic_Subdivision tier ti among their
 * siblings along PREVIOUS_ANNOTATION: rank[j] is the place of segment j,
 * NONE where no chain reaches it; next is scratch (next sibling).
 * *bad_chain counts the links that name no sibling. */
static int rank_along_chain(struct eaf_reader *r, size_t ti, size_t *rank, size_t *next,
			    size_t *bad_chain)
{
	const struct prl_tier *t = &r->d->tiers[ti];
	size_t j, *prev = calloc(t->nsegs + 1, sizeof(*prev));

	if (!prev)
		return -PRL_ENOMEM;
	for (j = 0; j < r->npends; j++) {
		const struct pend *p = &r->pends[j];
		uint32_t q;
		if (p->tier != ti || p->b != NONE)
			continue;
		prev[p->seg] = NONE;
		q = r->refs[p->a].pq;
		if (q == NONE && !r->refs[p->a].prev)
			continue;
		if (q == NONE)
			q = annot_idmap_get(r->ann_ids, r->refs[p->a].prev);
		if (q == NONE || r->pends[q].tier != ti ||
		    t->segs[r->pends[q].seg].parent != t->segs[p->seg].parent) {
			(*bad_chain)++;
			continue;
		}
		prev[p->seg] = r->pends[q].seg;
		next[r->pends[q].seg] = p->seg;
	}
	for (j = 0; j < t->nsegs; j++) {
		size_t k = 0, c = j, guard = 0;
		if (prev[j] != NONE)
			continue;
		while (c != NONE && rank[c] == NONE && guard++ <= t->nsegs) {
			rank[c] = k++;
			c = next[c];
		}
	}
	free(prev);
	return 0;
}

/* Times of the children of symbolic tier t, taken as constraint as: a
 * Symbolic_Association child has its parent's span; Symbolic_Subdivision
 * children share it evenly, in chain order (rank), those the chain did
 * not reach in document order.  count[p]: the children of parent segment
 * p. */
static int share_parent_span(struct prl_tier *t, const struct prl_tier *pt, enum prl_constraint as,
			     const size_t *count, const size_t *rank)
{
	size_t j, *seen = calloc(pt->nsegs + 1, sizeof(*seen));

	if (!seen)
		return -PRL_ENOMEM;
	for (j = 0; j < t->nsegs; j++) {
		struct prl_segment *s = &t->segs[j];
		const struct prl_segment *ps;
		size_t n, k;
		if (!s->parent)
			continue;
		ps = &pt->segs[s->parent - 1];
		s->start_unaligned = ps->start_unaligned;
		s->end_unaligned = ps->end_unaligned;
		if (as != PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION) {
			s->start_ms = ps->start_ms;
			s->end_ms = ps->end_ms;
			continue;
		}
		n = count[s->parent - 1];
		k = rank[j] != NONE && rank[j] < n ? rank[j] : seen[s->parent - 1];
		seen[s->parent - 1]++;
		s->start_ms =
			ps->start_ms +
			((ps->end_ms - ps->start_ms) * (int64_t)k + (int64_t)n / 2) / (int64_t)n;
		s->end_ms = ps->start_ms +
			    ((ps->end_ms - ps->start_ms) * (int64_t)(k + 1) + (int64_t)n / 2) /
				    (int64_t)n;
	}
	free(seen);
	return 0;
}

/* Times of the REF_ANNOTATIONs of tier ti from its parent tier's, as the
 * children of a tier of constraint as. */
static int time_symbolic(struct eaf_reader *r, size_t ti, enum prl_constraint as, size_t *bad_chain)
{
	struct prl_tier *t = &r->d->tiers[ti];
	const struct prl_tier *pt = &r->d->tiers[t->parent - 1];
	size_t j, *count = calloc(pt->nsegs + 1, sizeof(*count));
	size_t *next = malloc((t->nsegs + 1) * sizeof(*next));
	size_t *rank = malloc((t->nsegs + 1) * sizeof(*rank));
	int ret = -PRL_ENOMEM;

	if (!count || !next || !rank)
		goto end;
	for (j = 0; j < t->nsegs; j++) {
		next[j] = NONE;
		rank[j] = NONE;
		if (t->segs[j].parent)
			count[t->segs[j].parent - 1]++;
	}
	if (as == PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION &&
	    (ret = rank_along_chain(r, ti, rank, next, bad_chain)) < 0)
		goto end;
	ret = share_parent_span(t, pt, as, count, rank);
end:
	free(count);
	free(next);
	free(rank);
	return ret;
}

/*
 * A tier whose type says it is time-aligned (Time_Subdivision,
 * Included_In, or none) may still hold REF_ANNOTATIONs: real files have
 * thousands.  A referring annotation takes its times from the one it
 * refers to whatever the type claims: those referring to one annotation
 * share its span evenly in PREVIOUS_ANNOTATION order, as a subdivision
 * would (a lone one takes the whole span).  Until parent_by_time runs,
 * only REF_ANNOTATIONs have a parent, so they are the ones timed here;
 * then the aligned ones find their parent by time.
 */
static int time_refs_of_aligned_tier(struct eaf_reader *r, size_t ti, size_t *orphans,
				     size_t *bad_chain)
{
	struct prl_tier *t = &r->d->tiers[ti];
	size_t j, nrefs = 0;
	int ret;

	for (j = 0; j < t->nsegs; j++)
		nrefs += t->segs[j].parent != 0;
	if (nrefs) {
		annot_warn(r->warn,
			   "TIER \"%s\": its type says %s, yet %zu of its annotations are "
			   "REF_ANNOTATIONs; they take the times of the annotations they refer to",
			   t->name,
			   t->constraint ? prl_annot_constraint_name(t->constraint)
					 : "time-aligned",
			   nrefs);
		if ((ret = time_symbolic(r, ti, PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION, bad_chain)) <
		    0)
			return ret;
	}
	if (nrefs == t->nsegs)
		return 0;
	return parent_by_time(t, &r->d->tiers[t->parent - 1], orphans);
}

static int resolve_times(struct eaf_reader *r)
{
	struct prl_annot_doc *d = r->d;
	int64_t *t_of = NULL;
	unsigned char *known = NULL;
	size_t *depth = NULL;
	size_t i, lvl, maxdepth = 0, orphans = 0, bad_chain = 0;
	int ret = 0;

	if (!(t_of = malloc((r->nslots + 1) * sizeof(*t_of))) || !(known = malloc(r->nslots + 1)) ||
	    !(depth = malloc((d->ntiers + 1) * sizeof(*depth)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if ((ret = tier_depths(r, depth)) < 0)
		goto end;
	interpolate(r, t_of, known);
	time_aligned(r, t_of, known);
	for (i = 0; i < d->ntiers; i++)
		if (depth[i] > maxdepth)
			maxdepth = depth[i];
	/* then level by level: parents, aligned children, symbolic children */
	for (lvl = 1; lvl <= maxdepth; lvl++)
		for (i = 0; i < d->ntiers; i++) {
			struct prl_tier *t = &d->tiers[i];
			if (depth[i] != lvl || !t->nsegs)
				continue;
			if (t->constraint == PRL_CONSTRAINT_TIME_SUBDIVISION ||
			    t->constraint == PRL_CONSTRAINT_INCLUDED_IN ||
			    t->constraint == PRL_CONSTRAINT_NONE)
				ret = time_refs_of_aligned_tier(r, i, &orphans, &bad_chain);
			else
				ret = time_symbolic(r, i, t->constraint, &bad_chain);
			if (ret < 0)
				goto end;
		}
	if (orphans)
		annot_warn(r->warn,
			   "%zu time-aligned annotations lie outside every annotation of "
			   "their parent tier; kept without a parent",
			   orphans);
	if (bad_chain)
		annot_warn(r->warn,
			   "%zu PREVIOUS_ANNOTATION links do not name a sibling; those "
			   "annotations keep document order",
			   bad_chain);
end:
	free(t_of);
	free(known);
	free(depth);
	return ret;
}

/* ---- the document loop ----------------------------------------------- */

/* parlers' own PROPERTY naming a tier whose annotations may overlap
 * (subtitle cues): not kept as a prop, the writer makes it again. */
static int read_overlap_property(struct eaf_reader *r, struct prl_buf *text)
{
	int ret;

	if ((ret = element_text(r, text)) < 0)
		return ret;
	if (!text->len)
		return 0;
	if ((ret = prl_buf_add(&r->overlap_tiers, text->data, text->len)) < 0)
		return ret;
	return prl_buf_add(&r->overlap_tiers, "", 1);
}

/* Marks the tiers the overlap properties name. */
static void mark_overlap_tiers(struct eaf_reader *r)
{
	size_t off = 0;

	while (off < r->overlap_tiers.len) {
		const char *id = r->overlap_tiers.data + off;
		uint32_t t = annot_idmap_get(r->tier_ids, id);
		if (t == NONE)
			annot_warn(r->warn, "PROPERTY %s: \"%s\" names no tier",
				   ANNOT_EAF_OVERLAP_PROPERTY, id);
		else
			r->d->tiers[t].may_overlap = 1;
		off += strlen(id) + 1;
	}
}

static int on_element(struct eaf_reader *r, const char *name, int depth, struct prl_buf *text)
{
	int failed = 0;

	if (depth == 0) {
		const char *v;
		if (strcmp(name, "ANNOTATION_DOCUMENT"))
			return annot_fail(r->err, PRL_EFORMAT,
					  "the root element is <%.40s>, not "
					  "<ANNOTATION_DOCUMENT>: not an EAF file",
					  name);
		r->d->author = attr_dup(r, "AUTHOR", &failed);
		r->d->date = attr_dup(r, "DATE", &failed);
		v = attr(r, "VERSION");
		if (v && strcmp(v, "2.6") && strcmp(v, "2.7") && strcmp(v, "2.8") &&
		    strcmp(v, "3.0") && strncmp(v, "2.", 2))
			annot_warn(r->warn, "EAF version %s: read as 3.0", v);
		return failed ? -PRL_ENOMEM : 0;
	}
	if (depth == 1) {
		r->cur_tier = r->cur_cv = -1;
		if (!strcmp(name, "TIER"))
			return read_tier(r);
		if (!strcmp(name, "LINGUISTIC_TYPE"))
			return read_ling_type(r);
		if (!strcmp(name, "CONTROLLED_VOCABULARY"))
			return read_cv(r);
		if (!strcmp(name, "HEADER")) {
			const char *u = attr(r, "TIME_UNITS");
			if (u && strcmp(u, "milliseconds"))
				annot_warn(r->warn,
					   "HEADER: TIME_UNITS \"%s\" read as milliseconds", u);
			return keep_element(r, "eaf:HEADER", 0);
		}
		if (!strcmp(name, "LICENSE"))
			return keep_element(r, "eaf:LICENSE", 1);
		if (!strcmp(name, "LOCALE") || !strcmp(name, "LANGUAGE") ||
		    !strcmp(name, "LEXICON_REF") || !strcmp(name, "EXTERNAL_REF")) {
			char key[32];
			snprintf(key, sizeof(key), "eaf:%s", name);
			return keep_element(r, key, 0);
		}
		if (!strcmp(name, "TIME_ORDER") || !strcmp(name, "CONSTRAINT"))
			return 0; /* the four CONSTRAINTs are fixed; the writer gives them back */
		annot_warn(r->warn, "<%s> is not kept", name);
		return 0;
	}
	if (!strcmp(name, "TIME_SLOT"))
		return read_time_slot(r);
	if (!strcmp(name, "MEDIA_DESCRIPTOR") || !strcmp(name, "LINKED_FILE_DESCRIPTOR")) {
		char key[40];
		snprintf(key, sizeof(key), "eaf:%s", name);
		return keep_element(r, key, 0);
	}
	if (!strcmp(name, "PROPERTY")) {
		const char *n = attr(r, "NAME");
		if (n && !strcmp(n, ANNOT_EAF_OVERLAP_PROPERTY))
			return read_overlap_property(r, text);
		return keep_element(r, "eaf:PROPERTY", 1);
	}
	if (r->cur_tier >= 0 && !strcmp(name, "ALIGNABLE_ANNOTATION"))
		return read_annotation(r, 1, text);
	if (r->cur_tier >= 0 && !strcmp(name, "REF_ANNOTATION"))
		return read_annotation(r, 0, text);
	if (r->cur_cv >= 0 && (!strcmp(name, "CV_ENTRY") || !strcmp(name, "CV_ENTRY_ML")))
		return read_cv_entry(r, name[8] == '_', text);
	if (r->cur_cv >= 0 && !strcmp(name, "DESCRIPTION") && depth == 2) {
		struct prl_cv *cv = &r->d->cvs[r->cur_cv];
		int ret = element_text(r, text);
		if (ret < 0)
			return ret;
		if (!cv->description &&
		    !(cv->description = annot_strdup_nfc(prl_buf_str(text), text->len)))
			return -PRL_ENOMEM;
	}
	return 0;
}

int annot_eaf_read(const char *data, size_t len, const char *path, struct prl_annot_doc *d,
		   struct prl_buf *err, struct prl_buf *warn)
{
	/* no NOENT (entities stay unexpanded), no DTDLOAD, no network */
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			 XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
	struct eaf_reader r;
	struct prl_buf text = PRL_BUF_INIT;
	int ret = 0, rd, seen_root = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.err = err;
	r.warn = warn;
	r.cur_tier = r.cur_cv = -1;
	if (!path && len > INT_MAX)
		return annot_fail(err, PRL_EINVAL, "the file is too large for the XML reader");
	if (!(r.slot_ids = annot_idmap_new()) || !(r.ann_ids = annot_idmap_new()) ||
	    !(r.tier_ids = annot_idmap_new())) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	r.xr = path ? xmlReaderForFile(path, NULL, opts)
		    : xmlReaderForMemory(data, (int)len, NULL, NULL, opts);
	if (!r.xr) {
		ret = path ? annot_fail(err, PRL_EIO, "cannot open the file")
			   : annot_fail(err, PRL_EFORMAT, "line 1: not an XML document");
		goto end;
	}
	xmlTextReaderSetStructuredErrorHandler(r.xr, xml_error_handler, &r);
	while ((rd = xmlTextReaderRead(r.xr)) == 1) {
		int type = xmlTextReaderNodeType(r.xr);
		if (type == XML_READER_TYPE_ELEMENT) {
			const char *name = (const char *)xmlTextReaderConstLocalName(r.xr);
			int depth = xmlTextReaderDepth(r.xr);
			seen_root = 1;
			if ((ret = on_element(&r, name ? name : "", depth, &text)) < 0)
				break;
		} else if (type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r.xr) == 1) {
			r.cur_tier = r.cur_cv = -1;
		} else if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			annot_warn(warn, "the document type declaration is ignored");
		}
	}
	if (ret == 0 && (rd < 0 || r.xml_error[0])) {
		if (r.xml_error[0])
			ret = annot_fail(err, PRL_EFORMAT, "line %d: not well-formed XML: %s",
					 r.xml_error_line, r.xml_error);
		else
			ret = annot_fail(err, PRL_EFORMAT, "line %d: not well-formed XML",
					 xmlTextReaderGetParserLineNumber(r.xr));
	}
	if (ret < 0)
		goto end;
	if (!seen_root) {
		ret = annot_fail(err, PRL_EFORMAT, "line 1: no ANNOTATION_DOCUMENT element");
		goto end;
	}
	if (r.lost_ext_refs)
		annot_warn(warn,
			   "%zu annotations carry EXT_REF or LANG_REF attributes that are not "
			   "kept",
			   r.lost_ext_refs);
	mark_overlap_tiers(&r);
	if ((ret = resolve_tiers(&r)) < 0 || (ret = resolve_refs(&r)) < 0 ||
	    (ret = resolve_times(&r)) < 0 || (ret = annot_parents_first(d, warn)) < 0)
		goto end;
end:
	if (r.xr)
		xmlFreeTextReader(r.xr);
	for (i = 0; i < r.nrefs; i++) {
		free(r.refs[i].target);
		free(r.refs[i].prev);
	}
	free(r.refs);
	for (i = 0; i < r.alloc_parent_refs; i++)
		free(r.parent_refs[i]);
	free(r.parent_refs);
	free(r.slot_val);
	free(r.pends);
	annot_idmap_free(r.slot_ids);
	annot_idmap_free(r.ann_ids);
	annot_idmap_free(r.tier_ids);
	prl_buf_release(&text);
	prl_buf_release(&r.overlap_tiers);
	return ret;
}
