/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * JSON, read (jansson) and written (the project buffer and its tested
 * escaper).  The one format besides EAF that holds the whole model, so it
 * is what the web editor and scripts exchange.  The document (FORMATS.md
 * says the same):
 *
 *   { "format": "parlers-annotations", "version": 1,
 *     "xmin_ms": 0, "xmax_ms": 1869,          (-1: unknown)
 *     "author": null, "date": null,
 *     "tiers": [ { "name", "type", "language", "participant", "annotator",
 *                  "linguistic_type", "default_locale",
 *                  "origin": "machine", "origin_tool", "origin_settings"
 *                  (an object; written for tiers a tool made),
 *                  "parent": 0-based tier index or null,
 *                  "constraint": "Time_Subdivision"... or null,
 *                  "points": false, "may_overlap": false,
 *                  "segments": [ { "start_ms", "end_ms", "text",
 *                                  "parent": 0-based index or null,
 *                                  "id", "cve_ref",
 *                                  "start_unaligned", "end_unaligned",
 *                                  "origin": "machine", "confidence",
 *                                  "doubtful" (written for machine-made
 *                                  segments) } ] } ],
 *     "linguistic_types": [ { "id", "constraint", "time_alignable",
 *                             "graphic_references", "cv_ref" } ],
 *     "controlled_vocabularies": [ { "id", "description", "ext_ref",
 *                                    "entries": [ { "id", "value",
 *                                                   "description", "lang" } ] } ],
 *     "properties": [ { "key", "value" } ] }
 *
 * Only "tiers", and in a segment "start_ms", "end_ms" and "text", are
 * required; everything else defaults to null/false/0.  The machine marks
 * read back as written, so a machine-made tier exported and imported is
 * still machine-made; a segment without "origin" is a person's, and its
 * "confidence" and "doubtful", if any, are not read.  Workload: editor
 * round trips of one recording; jansson holds the tree while reading.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "annot-internal.h"

/* An optional string member in NFC; *bad set when present but not a
 * string, *failed on ENOMEM. */
static char *opt_str(json_t *o, const char *key, int *bad, int *failed)
{
	json_t *v = json_object_get(o, key);
	char *r;

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	if (!(r = prl_annot_text_nfc(json_string_value(v), json_string_length(v)))) {
		/* jansson guarantees UTF-8, so only NUL or memory can fail */
		if (memchr(json_string_value(v), '\0', json_string_length(v)))
			*bad = 1;
		else
			*failed = 1;
	}
	return r;
}

static int opt_int(json_t *o, const char *key, long long dflt, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int opt_bool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* "origin" of o: 1 for "machine", 0 when absent or null, -1 otherwise. */
static int read_origin(json_t *o)
{
	json_t *v = json_object_get(o, "origin");

	if (!v || json_is_null(v))
		return 0;
	return json_is_string(v) && !strcmp(json_string_value(v), "machine") ? 1 : -1;
}

static int read_constraint(json_t *o, const char *where, size_t i, struct prl_buf *err,
			   enum prl_constraint *out)
{
	json_t *v = json_object_get(o, "constraint");
	int c;

	*out = PRL_CONSTRAINT_NONE;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || (c = prl_annot_constraint_parse(json_string_value(v))) < 0)
		return annot_fail(err, PRL_EFORMAT,
				  "%s[%zu].constraint is not one of ELAN's "
				  "constraints",
				  where, i);
	*out = (enum prl_constraint)c;
	return 0;
}

/* A machine-made segment's marks ("origin", "confidence", "doubtful")
 * into s; a person's segment (no "origin") has none. */
static int read_segment_marks(json_t *js, struct prl_segment *s, size_t i, size_t j,
			      struct prl_buf *err)
{
	json_t *c = json_object_get(js, "confidence");
	int machine = read_origin(js);

	if (machine < 0)
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu].origin is not \"machine\"", i, j);
	if (!machine)
		return 0;
	s->machine = 1;
	s->doubtful = opt_bool(js, "doubtful");
	s->confidence = -1.0f;
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_number(c) || !(json_number_value(c) >= 0 && json_number_value(c) <= 1))
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu].confidence is not a number from 0 to 1",
				  i, j);
	s->confidence = (float)json_number_value(c);
	return 0;
}

/* Segment j of tiers[i] (js) appended to t. */
static int read_segment(json_t *js, struct prl_tier *t, size_t i, size_t j, struct prl_buf *err,
			struct prl_buf *warn)
{
	long long st, en, p;
	json_t *tx = json_object_get(js, "text");
	struct prl_segment *s;
	char *text;
	int bad = 0, failed = 0, ret;

	if (!json_is_object(js) || opt_int(js, "start_ms", -1, &st) < 0 ||
	    opt_int(js, "end_ms", -1, &en) < 0 || !json_object_get(js, "start_ms") ||
	    !json_object_get(js, "end_ms"))
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu]: start_ms "
				  "and end_ms must be integers",
				  i, j);
	if (st < -(long long)1e15 || en > (long long)1e15)
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu]: a time "
				  "is out of range",
				  i, j);
	/* kept as written (WebVTT allows it); validation refuses it */
	if (en < st)
		annot_warn(warn, "tiers[%zu].segments[%zu] ends before it starts", i, j);
	if (!json_is_string(tx))
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu].text is "
				  "not a string",
				  i, j);
	if (opt_int(js, "parent", -1, &p) < 0 || p < -1)
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu].parent "
				  "is not an index",
				  i, j);
	if (!(text = prl_annot_text_nfc(json_string_value(tx), json_string_length(tx))))
		return memchr(json_string_value(tx), '\0', json_string_length(tx))
			       ? annot_fail(err, PRL_EFORMAT,
					    "tiers[%zu].segments[%zu]"
					    ".text holds a NUL",
					    i, j)
			       : -PRL_ENOMEM;
	if ((ret = annot_push_segment(t, st, en, text, (size_t)(p + 1))) < 0)
		return ret;
	s = &t->segs[t->nsegs - 1];
	s->ext_id = opt_str(js, "id", &bad, &failed);
	s->cve_ref = opt_str(js, "cve_ref", &bad, &failed);
	s->start_unaligned = opt_bool(js, "start_unaligned");
	s->end_unaligned = opt_bool(js, "end_unaligned");
	if (failed)
		return -PRL_ENOMEM;
	if (bad)
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].segments[%zu]: id or "
				  "cve_ref is not a string",
				  i, j);
	return read_segment_marks(js, s, i, j, err);
}

/* A tier's "origin" and "origin_settings" (an object, kept as its
 * compact text) into t. */
static int read_tier_origin(json_t *jt, struct prl_tier *t, size_t i, struct prl_buf *err)
{
	json_t *set = json_object_get(jt, "origin_settings");
	int machine = read_origin(jt);

	if (machine < 0)
		return annot_fail(err, PRL_EFORMAT, "tiers[%zu].origin is not \"machine\"", i);
	t->machine = machine == 1;
	if (!set || json_is_null(set))
		return 0;
	if (!json_is_object(set))
		return annot_fail(err, PRL_EFORMAT, "tiers[%zu].origin_settings is not an object",
				  i);
	if (!(t->origin_settings = json_dumps(set, JSON_COMPACT)))
		return -PRL_ENOMEM;
	return 0;
}

/* tiers[i] (jt) of nt, with its segments, appended to d. */
static int read_tier(json_t *jt, struct prl_annot_doc *d, size_t i, size_t nt, struct prl_buf *err,
		     struct prl_buf *warn)
{
	struct prl_tier *t;
	json_t *segs, *js;
	char *name, *type;
	long long parent;
	size_t j;
	int bad = 0, failed = 0, idx, ret;

	if (!json_is_object(jt))
		return annot_fail(err, PRL_EFORMAT, "tiers[%zu] is not an object", i);
	name = opt_str(jt, "name", &bad, &failed);
	type = opt_str(jt, "type", &bad, &failed);
	if (failed || bad || !name) {
		free(name);
		free(type);
		return failed ? -PRL_ENOMEM
			      : annot_fail(err, PRL_EFORMAT,
					   "tiers[%zu].name is missing or "
					   "not a string",
					   i);
	}
	idx = prl_annot_add_tier(d, name, type ? type : "transcription");
	free(name);
	free(type);
	if (idx < 0)
		return idx;
	t = &d->tiers[idx];
	t->language = opt_str(jt, "language", &bad, &failed);
	t->participant = opt_str(jt, "participant", &bad, &failed);
	t->annotator = opt_str(jt, "annotator", &bad, &failed);
	t->ling_type = opt_str(jt, "linguistic_type", &bad, &failed);
	t->default_locale = opt_str(jt, "default_locale", &bad, &failed);
	t->is_point = opt_bool(jt, "points");
	t->may_overlap = opt_bool(jt, "may_overlap");
	t->origin_tool = opt_str(jt, "origin_tool", &bad, &failed);
	if (failed)
		return -PRL_ENOMEM;
	if (bad)
		return annot_fail(err, PRL_EFORMAT, "tiers[%zu]: a text member is not a string", i);
	if ((ret = read_tier_origin(jt, t, i, err)) < 0)
		return ret;
	if (opt_int(jt, "parent", -1, &parent) < 0 || parent < -1 || parent >= (long long)nt ||
	    parent == (long long)i)
		return annot_fail(err, PRL_EFORMAT,
				  "tiers[%zu].parent is not the index of "
				  "another tier",
				  i);
	t->parent = (size_t)(parent + 1);
	if ((ret = read_constraint(jt, "tiers", i, err, &t->constraint)) < 0)
		return ret;
	segs = json_object_get(jt, "segments");
	if (segs && !json_is_array(segs))
		return annot_fail(err, PRL_EFORMAT, "tiers[%zu].segments is not an array", i);
	json_array_foreach(segs, j, js)
	{
		if ((ret = read_segment(js, t, i, j, err, warn)) < 0)
			return ret;
	}
	return 0;
}

static int read_tiers(json_t *root, struct prl_annot_doc *d, struct prl_buf *err,
		      struct prl_buf *warn)
{
	json_t *tiers = json_object_get(root, "tiers"), *jt;
	size_t i, j;
	int ret;

	if (!json_is_array(tiers))
		return annot_fail(err, PRL_EFORMAT, "\"tiers\" is missing or not an array");
	json_array_foreach(tiers, i, jt)
	{
		if ((ret = read_tier(jt, d, i, json_array_size(tiers), err, warn)) < 0)
			return ret;
	}
	/* segment parents must exist in the parent tier */
	for (i = 0; i < d->ntiers; i++)
		for (j = 0; j < d->tiers[i].nsegs; j++) {
			size_t p = d->tiers[i].segs[j].parent;
			if (p &&
			    (!d->tiers[i].parent || p > d->tiers[d->tiers[i].parent - 1].nsegs))
				return annot_fail(err, PRL_EFORMAT,
						  "tiers[%zu].segments[%zu].parent "
						  "names no segment of the parent tier",
						  i, j);
		}
	return annot_parents_first(d, warn);
}

static int read_extras(json_t *root, struct prl_annot_doc *d, struct prl_buf *err)
{
	json_t *a, *o, *e;
	size_t i, j;
	int bad = 0, failed = 0, ret;

	a = json_object_get(root, "linguistic_types");
	if (json_is_array(a) && json_array_size(a)) {
		if (!(d->ling_types = calloc(json_array_size(a), sizeof(*d->ling_types))))
			return -PRL_ENOMEM;
		json_array_foreach(a, i, o)
		{
			struct prl_ling_type *lt = &d->ling_types[i];
			d->nling_types = i + 1;
			lt->id = opt_str(o, "id", &bad, &failed);
			lt->cv_ref = opt_str(o, "cv_ref", &bad, &failed);
			lt->time_alignable = json_object_get(o, "time_alignable")
						     ? opt_bool(o, "time_alignable")
						     : 1;
			lt->graphic_references = opt_bool(o, "graphic_references");
			if (failed)
				return -PRL_ENOMEM;
			if (bad || !lt->id)
				return annot_fail(err, PRL_EFORMAT,
						  "linguistic_types[%zu] needs a "
						  "string id",
						  i);
			if ((ret = read_constraint(o, "linguistic_types", i, err,
						   &lt->constraint)) < 0)
				return ret;
		}
	}
	a = json_object_get(root, "controlled_vocabularies");
	if (json_is_array(a) && json_array_size(a)) {
		if (!(d->cvs = calloc(json_array_size(a), sizeof(*d->cvs))))
			return -PRL_ENOMEM;
		json_array_foreach(a, i, o)
		{
			struct prl_cv *cv = &d->cvs[i];
			json_t *ents = json_object_get(o, "entries");
			d->ncvs = i + 1;
			cv->id = opt_str(o, "id", &bad, &failed);
			cv->description = opt_str(o, "description", &bad, &failed);
			cv->ext_ref = opt_str(o, "ext_ref", &bad, &failed);
			if (failed)
				return -PRL_ENOMEM;
			if (bad || !cv->id)
				return annot_fail(err, PRL_EFORMAT,
						  "controlled_vocabularies[%zu] needs "
						  "a string id",
						  i);
			if (!json_is_array(ents) || !json_array_size(ents))
				continue;
			if (!(cv->entries = calloc(json_array_size(ents), sizeof(*cv->entries))))
				return -PRL_ENOMEM;
			json_array_foreach(ents, j, e)
			{
				struct prl_cv_entry *ce = &cv->entries[j];
				cv->nentries = j + 1;
				ce->id = opt_str(e, "id", &bad, &failed);
				ce->value = opt_str(e, "value", &bad, &failed);
				ce->description = opt_str(e, "description", &bad, &failed);
				ce->lang = opt_str(e, "lang", &bad, &failed);
				if (failed)
					return -PRL_ENOMEM;
				if (bad)
					return annot_fail(err, PRL_EFORMAT,
							  "controlled_vocabularies[%zu]"
							  ".entries[%zu]: a member is not a string",
							  i, j);
			}
		}
	}
	a = json_object_get(root, "properties");
	json_array_foreach(a, i, o)
	{
		char *k = opt_str(o, "key", &bad, &failed), *v = opt_str(o, "value", &bad, &failed);
		ret = failed	  ? -PRL_ENOMEM
		      : bad || !k ? annot_fail(err, PRL_EFORMAT,
					       "properties[%zu] needs a string key", i)
				  : annot_add_prop(d, k, v);
		free(k);
		free(v);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int annot_json_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		    struct prl_buf *warn)
{
	json_error_t je;
	json_t *root;
	long long x;
	int ret, bad = 0, failed = 0;

	root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return annot_fail(err, PRL_EFORMAT, "line %d: %s", je.line, je.text);
	if (!json_is_object(root)) {
		ret = annot_fail(err, PRL_EFORMAT, "line 1: the document is not a JSON object");
		goto end;
	}
	if (json_object_get(root, "version") && (opt_int(root, "version", 1, &x) < 0 || x > 1))
		annot_warn(warn, "JSON annotation version is newer than 1; read as version 1");
	if (opt_int(root, "xmin_ms", 0, &x) < 0) {
		ret = annot_fail(err, PRL_EFORMAT, "xmin_ms is not an integer");
		goto end;
	}
	d->xmin_ms = x;
	if (opt_int(root, "xmax_ms", -1, &x) < 0) {
		ret = annot_fail(err, PRL_EFORMAT, "xmax_ms is not an integer");
		goto end;
	}
	d->xmax_ms = x;
	d->author = opt_str(root, "author", &bad, &failed);
	d->date = opt_str(root, "date", &bad, &failed);
	if (failed) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if (bad) {
		ret = annot_fail(err, PRL_EFORMAT, "author or date is not a string");
		goto end;
	}
	if ((ret = read_tiers(root, d, err, warn)) < 0 || (ret = read_extras(root, d, err)) < 0)
		goto end;
end:
	json_decref(root);
	return ret;
}

/* ---- writer ---------------------------------------------------------- */

static int kv_str(struct prl_buf *b, const char *key, const char *v, int comma)
{
	int ret;

	if ((ret = prl_buf_addf(b, "%s\"%s\":", comma ? "," : "", key)) < 0)
		return ret;
	return prl_json_str(b, v);
}

/* One segment, as an element of "segments". */
static int json_write_segment(struct prl_buf *b, const struct prl_segment *s, int first)
{
	int ret;

	if ((ret = prl_buf_addf(b, "%s{\"start_ms\":%lld,\"end_ms\":%lld,", first ? "\n" : ",\n",
				(long long)s->start_ms, (long long)s->end_ms)) < 0 ||
	    (ret = kv_str(b, "text", s->text, 0)) < 0)
		return ret;
	if (s->parent && (ret = prl_buf_addf(b, ",\"parent\":%zu", s->parent - 1)) < 0)
		return ret;
	if (s->ext_id && (ret = kv_str(b, "id", s->ext_id, 1)) < 0)
		return ret;
	if (s->cve_ref && (ret = kv_str(b, "cve_ref", s->cve_ref, 1)) < 0)
		return ret;
	if (s->start_unaligned && (ret = prl_buf_addstr(b, ",\"start_unaligned\":true")) < 0)
		return ret;
	if (s->end_unaligned && (ret = prl_buf_addstr(b, ",\"end_unaligned\":true")) < 0)
		return ret;
	/* a machine-made segment says so, as the recording JSON does */
	if (s->machine && ((ret = prl_buf_addf(b, ",\"origin\":\"machine\",\"doubtful\":%s",
					       s->doubtful ? "true" : "false")) < 0 ||
			   (s->confidence >= 0 &&
			    (ret = prl_buf_addf(b, ",\"confidence\":%.2f", s->confidence)) < 0)))
		return ret;
	return prl_buf_addch(b, '}');
}

/* One tier with its segments, as an element of "tiers". */
static int json_write_tier(struct annot_sink *sk, const struct prl_tier *t, int first)
{
	struct prl_buf *b = sk->b;
	size_t j;
	int ret;

	if ((ret = prl_buf_addstr(b, first ? "\n{" : ",\n{")) < 0 ||
	    (ret = kv_str(b, "name", t->name, 0)) < 0 ||
	    (ret = kv_str(b, "type", t->type, 1)) < 0 ||
	    (ret = kv_str(b, "language", t->language, 1)) < 0 ||
	    (ret = kv_str(b, "participant", t->participant, 1)) < 0 ||
	    (ret = kv_str(b, "annotator", t->annotator, 1)) < 0 ||
	    (ret = kv_str(b, "linguistic_type", t->ling_type, 1)) < 0 ||
	    (ret = kv_str(b, "default_locale", t->default_locale, 1)) < 0)
		return ret;
	/* a tool's tier says so, as the recording JSON does; the settings are
	 * a JSON object's text, written as it is */
	if ((t->machine && (ret = prl_buf_addstr(b, ",\"origin\":\"machine\"")) < 0) ||
	    (t->origin_tool && (ret = kv_str(b, "origin_tool", t->origin_tool, 1)) < 0) ||
	    (t->origin_settings &&
	     (ret = prl_buf_addf(b, ",\"origin_settings\":%s", t->origin_settings)) < 0))
		return ret;
	if ((ret = t->parent ? prl_buf_addf(b, ",\"parent\":%zu", t->parent - 1)
			     : prl_buf_addstr(b, ",\"parent\":null")) < 0 ||
	    (ret = kv_str(b, "constraint", prl_annot_constraint_name(t->constraint), 1)) < 0 ||
	    (ret = prl_buf_addf(b, ",\"points\":%s,\"may_overlap\":%s,\"segments\":[",
				t->is_point ? "true" : "false",
				t->may_overlap ? "true" : "false")) < 0)
		return ret;
	for (j = 0; j < t->nsegs; j++)
		if ((ret = json_write_segment(b, &t->segs[j], j == 0)) < 0 ||
		    (ret = annot_sink_maybe_flush(sk)) < 0)
			return ret;
	return prl_buf_addstr(b, "]}");
}

/* The "controlled_vocabularies" array's elements. */
static int json_write_cvs(struct prl_buf *b, const struct prl_annot_doc *d)
{
	size_t i, j;
	int ret;

	for (i = 0; i < d->ncvs; i++) {
		const struct prl_cv *cv = &d->cvs[i];
		if ((ret = prl_buf_addstr(b, i ? ",{" : "{")) < 0 ||
		    (ret = kv_str(b, "id", cv->id, 0)) < 0 ||
		    (ret = kv_str(b, "description", cv->description, 1)) < 0 ||
		    (ret = kv_str(b, "ext_ref", cv->ext_ref, 1)) < 0 ||
		    (ret = prl_buf_addstr(b, ",\"entries\":[")) < 0)
			return ret;
		for (j = 0; j < cv->nentries; j++) {
			const struct prl_cv_entry *e = &cv->entries[j];
			if ((ret = prl_buf_addstr(b, j ? ",{" : "{")) < 0 ||
			    (ret = kv_str(b, "id", e->id, 0)) < 0 ||
			    (ret = kv_str(b, "value", e->value, 1)) < 0 ||
			    (ret = kv_str(b, "description", e->description, 1)) < 0 ||
			    (ret = kv_str(b, "lang", e->lang, 1)) < 0 ||
			    (ret = prl_buf_addch(b, '}')) < 0)
				return ret;
		}
		if ((ret = prl_buf_addstr(b, "]}")) < 0)
			return ret;
	}
	return 0;
}

int annot_json_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		     struct annot_sink *sk, struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	size_t i;
	int ret;

	if ((ret = prl_buf_addf(b,
				"{\"format\":\"parlers-annotations\",\"version\":1,"
				"\"xmin_ms\":%lld,\"xmax_ms\":%lld,",
				(long long)d->xmin_ms, (long long)d->xmax_ms)) < 0 ||
	    (ret = kv_str(b, "author", d->author, 0)) < 0 ||
	    (ret = kv_str(b, "date", d->date, 1)) < 0 ||
	    (ret = prl_buf_addstr(b, ",\"tiers\":[")) < 0)
		return ret;
	for (i = 0; i < d->ntiers; i++)
		if ((ret = json_write_tier(sk, &d->tiers[i], i == 0)) < 0)
			return ret;
	if ((ret = prl_buf_addstr(b, "],\n\"linguistic_types\":[")) < 0)
		return ret;
	for (i = 0; i < d->nling_types; i++) {
		const struct prl_ling_type *lt = &d->ling_types[i];
		if ((ret = prl_buf_addstr(b, i ? ",{" : "{")) < 0 ||
		    (ret = kv_str(b, "id", lt->id, 0)) < 0 ||
		    (ret = kv_str(b, "constraint", prl_annot_constraint_name(lt->constraint), 1)) <
			    0 ||
		    (ret = prl_buf_addf(b, ",\"time_alignable\":%s,\"graphic_references\":%s",
					lt->time_alignable ? "true" : "false",
					lt->graphic_references ? "true" : "false")) < 0 ||
		    (ret = kv_str(b, "cv_ref", lt->cv_ref, 1)) < 0 ||
		    (ret = prl_buf_addch(b, '}')) < 0)
			return ret;
	}
	if ((ret = prl_buf_addstr(b, "],\n\"controlled_vocabularies\":[")) < 0 ||
	    (ret = json_write_cvs(b, d)) < 0 ||
	    (ret = prl_buf_addstr(b, "],\n\"properties\":[")) < 0)
		return ret;
	for (i = 0; i < d->nprops; i++)
		if ((ret = prl_buf_addstr(b, i ? ",{" : "{")) < 0 ||
		    (ret = kv_str(b, "key", d->props[i].key, 0)) < 0 ||
		    (ret = kv_str(b, "value", d->props[i].value, 1)) < 0 ||
		    (ret = prl_buf_addch(b, '}')) < 0)
			return ret;
	(void)o;
	(void)warn;
	return prl_buf_addstr(b, "]}\n");
}
