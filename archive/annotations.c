/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tiers and segments in the store: a document (annot.h) goes in as
 * rows, and comes back out as the same document.
 *
 * What the tiers table cannot hold (EAF linguistic types, controlled
 * vocabularies, header properties, the TextGrid domain) is kept per
 * recording in annotation_docs as JSON, so an EAF comes back out the way
 * it went in.  An import is one transaction: it all lands or none of it.
 * Expected workload: a recording has a handful of tiers and up to some
 * tens of thousands of segments; inserts use one prepared statement.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive-internal.h"

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static char *doc_extras_json(const struct prl_annot_doc *d, int what)
{
	json_t *arr = json_array();
	size_t i, j;
	char *s;

	if (!arr)
		return NULL;
	if (what == 0) {
		for (i = 0; i < d->nling_types; i++) {
			const struct prl_ling_type *lt = &d->ling_types[i];

			json_array_append_new(
				arr, json_pack("{s:o, s:i, s:b, s:b, s:o}", "id", jstr(lt->id),
					       "constraint", (int)lt->constraint, "time_alignable",
					       lt->time_alignable, "graphic_references",
					       lt->graphic_references, "cv_ref", jstr(lt->cv_ref)));
		}
	} else if (what == 1) {
		for (i = 0; i < d->ncvs; i++) {
			const struct prl_cv *cv = &d->cvs[i];
			json_t *entries = json_array();

			for (j = 0; j < cv->nentries; j++)
				json_array_append_new(entries,
						      json_pack("{s:o, s:o, s:o, s:o}", "id",
								jstr(cv->entries[j].id), "value",
								jstr(cv->entries[j].value),
								"description",
								jstr(cv->entries[j].description),
								"lang", jstr(cv->entries[j].lang)));
			json_array_append_new(
				arr, json_pack("{s:o, s:o, s:o, s:o}", "id", jstr(cv->id),
					       "description", jstr(cv->description), "ext_ref",
					       jstr(cv->ext_ref), "entries", entries));
		}
	} else {
		for (i = 0; i < d->nprops; i++)
			json_array_append_new(arr, json_pack("[o, o]", jstr(d->props[i].key),
							     jstr(d->props[i].value)));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

static char *jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? strdup(s) : NULL;
}

/* Restores what doc_extras_json() kept; anything malformed is skipped
 * (it was written by this file, so that means a hand-edited database). */
static void doc_extras_load(struct prl_annot_doc *d, const char *lt_json, const char *cv_json,
			    const char *props_json)
{
	json_t *arr, *v, *e;
	size_t i, j, n;

	if (lt_json && (arr = json_loads(lt_json, 0, NULL))) {
		n = json_array_size(arr);
		if (n && (d->ling_types = calloc(n, sizeof(*d->ling_types)))) {
			json_array_foreach(arr, i, v)
			{
				struct prl_ling_type *lt = &d->ling_types[d->nling_types++];

				lt->id = jdup(v, "id");
				lt->constraint = (enum prl_constraint)json_integer_value(
					json_object_get(v, "constraint"));
				lt->time_alignable =
					json_is_true(json_object_get(v, "time_alignable"));
				lt->graphic_references =
					json_is_true(json_object_get(v, "graphic_references"));
				lt->cv_ref = jdup(v, "cv_ref");
			}
		}
		json_decref(arr);
	}
	if (cv_json && (arr = json_loads(cv_json, 0, NULL))) {
		n = json_array_size(arr);
		if (n && (d->cvs = calloc(n, sizeof(*d->cvs)))) {
			json_array_foreach(arr, i, v)
			{
				struct prl_cv *cv = &d->cvs[d->ncvs++];
				json_t *entries = json_object_get(v, "entries");
				size_t m = json_array_size(entries);

				cv->id = jdup(v, "id");
				cv->description = jdup(v, "description");
				cv->ext_ref = jdup(v, "ext_ref");
				if (m && (cv->entries = calloc(m, sizeof(*cv->entries)))) {
					json_array_foreach(entries, j, e)
					{
						struct prl_cv_entry *ce =
							&cv->entries[cv->nentries++];

						ce->id = jdup(e, "id");
						ce->value = jdup(e, "value");
						ce->description = jdup(e, "description");
						ce->lang = jdup(e, "lang");
					}
				}
			}
		}
		json_decref(arr);
	}
	if (props_json && (arr = json_loads(props_json, 0, NULL))) {
		n = json_array_size(arr);
		if (n && (d->props = calloc(n, sizeof(*d->props)))) {
			json_array_foreach(arr, i, v)
			{
				const char *k = json_string_value(json_array_get(v, 0));
				const char *val = json_string_value(json_array_get(v, 1));

				d->props[d->nprops].key = k ? strdup(k) : NULL;
				d->props[d->nprops].value = val ? strdup(val) : NULL;
				d->nprops++;
			}
		}
		json_decref(arr);
	}
}

/* A tier's type when the file did not say it: from its name or its
 * linguistic type, the words annotators use ("traduction", "French",
 * "gloss", "notes"...).  Everything else is a transcription. */
static const char *tier_type_of(const struct prl_tier *t)
{
	static const struct {
		const char *word, *type;
	} words[] = {
		{"tradu", "translation"},
		{"transl", "translation"},
		{"french", "translation"},
		{"fran\xc3\xa7"
		 "ais",
		 "translation"},
		{"francais", "translation"},
		{"english", "translation"},
		{"anglais", "translation"},
		{"free", "translation"},
		{"gloss", "gloss"},
		{"glose", "gloss"},
		{"note", "note"},
		{"comment", "note"},
		{"remarque", "note"},
	};
	const char *names[2] = {t->name, t->ling_type};

	if (t->type && t->type[0] && strcmp(t->type, "transcription") != 0)
		return t->type;
	for (int n = 0; n < 2; n++) {
		if (!names[n])
			continue;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcasestr(names[n], words[i].word))
				return words[i].type;
	}
	return "transcription";
}

static int64_t speaker_for(struct prl_archive *a, int64_t rec, const char *participant)
{
	sqlite3_stmt *st;
	int64_t sid = 0;

	if (!participant || !participant[0] || !(st = archive_stmt(a, ST_SPEAKER_OF_REC_BY_NAME)))
		return 0;
	sqlite3_bind_int64(st, 1, rec);
	archive_bind_text(st, 2, participant);
	if (sqlite3_step(st) == SQLITE_ROW)
		sid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return sid;
}

/* With replace, removes recording id's tiers; without, refuses a tier of
 * doc whose name the recording already has. */
static int make_room(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc,
		     int replace)
{
	sqlite3_stmt *st;

	if (replace) {
		if (!(st = archive_stmt(a, ST_TIERS_DELETE)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		return archive_step_done(a, st, "removing the old tiers") < 0 ? -PRL_ESQL : 0;
	}
	for (size_t i = 0; i < doc->ntiers; i++) {
		if (!(st = archive_stmt(a, ST_TIER_BY_NAME)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, doc->tiers[i].name);
		if (sqlite3_step(st) == SQLITE_ROW) {
			sqlite3_reset(st);
			return archive_fail(a, -PRL_EEXIST,
					    "tier '%s' is already there (use --replace)",
					    doc->tiers[i].name);
		}
		sqlite3_reset(st);
	}
	return 0;
}

/* Stores doc's tier i of recording id and its segments; tier_ids[i] and
 * seg_ids[i] (caller frees) get their row ids, for the tiers after it. */
static int store_tier(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc, size_t i,
		      int64_t *tier_ids, int64_t **seg_ids)
{
	const struct prl_tier *t = &doc->tiers[i];
	sqlite3_stmt *st;
	int64_t sid;

	if (t->parent > i) {
		/* parents come first in every format parlers reads */
		return archive_fail(a, -PRL_EINVAL, "tier '%s': parent tier comes after it",
				    t->name);
	}
	sid = speaker_for(a, id, t->participant);
	if (!(st = archive_stmt(a, ST_TIER_ADD)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	archive_bind_text(st, 2, t->name);
	archive_bind_text(st, 3, tier_type_of(t));
	archive_bind_text(st, 4, t->language);
	archive_bind_text(st, 5, t->participant);
	if (sid > 0)
		sqlite3_bind_int64(st, 6, sid);
	archive_bind_text(st, 7, t->annotator);
	archive_bind_text(st, 8, t->ling_type);
	if (t->parent)
		sqlite3_bind_int64(st, 9, tier_ids[t->parent - 1]);
	sqlite3_bind_int(st, 10, (int)t->constraint);
	sqlite3_bind_int(st, 11, t->is_point);
	sqlite3_bind_int64(st, 12, (int64_t)i);
	archive_bind_text(st, 13, t->default_locale);
	sqlite3_bind_int(st, 14, t->may_overlap);
	if (t->machine)
		archive_bind_text(st, 15, "machine");
	archive_bind_text(st, 16, t->origin_tool);
	archive_bind_text(st, 17, t->origin_settings);
	if (archive_step_done(a, st, "adding a tier") < 0)
		return -PRL_ESQL;
	tier_ids[i] = sqlite3_last_insert_rowid(a->db);
	if (t->nsegs && !(seg_ids[i] = malloc(t->nsegs * sizeof(**seg_ids))))
		return archive_fail(a, -PRL_ENOMEM, "out of memory");
	for (size_t j = 0; j < t->nsegs; j++) {
		const struct prl_segment *s = &t->segs[j];

		if (!(st = archive_stmt(a, ST_SEGMENT_ADD)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, tier_ids[i]);
		sqlite3_bind_int64(st, 2, s->start_ms);
		sqlite3_bind_int64(st, 3, s->end_ms);
		archive_bind_text(st, 4, s->text ? s->text : "");
		if (s->parent && t->parent && s->parent <= doc->tiers[t->parent - 1].nsegs)
			sqlite3_bind_int64(st, 5, seg_ids[t->parent - 1][s->parent - 1]);
		sqlite3_bind_int64(st, 6, (int64_t)j);
		archive_bind_text(st, 7, s->ext_id);
		archive_bind_text(st, 8, s->cve_ref);
		sqlite3_bind_int(st, 9, s->start_unaligned);
		sqlite3_bind_int(st, 10, s->end_unaligned);
		if (s->machine) {
			archive_bind_text(st, 11, "machine");
			if (s->confidence >= 0)
				sqlite3_bind_double(st, 12, s->confidence);
			sqlite3_bind_int(st, 13, s->doubtful);
		}
		if (archive_step_done(a, st, "adding a segment") < 0)
			return -PRL_ESQL;
		seg_ids[i][j] = sqlite3_last_insert_rowid(a->db);
	}
	return 0;
}

/* The document's own fields (span, author, date, EAF extras). */
static int store_doc_fields(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc)
{
	char *lt = doc_extras_json(doc, 0), *cv = doc_extras_json(doc, 1);
	char *props = doc_extras_json(doc, 2);
	sqlite3_stmt *st;
	int ret = -PRL_ESQL;

	if (!(st = archive_stmt(a, ST_ANNDOC_PUT)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, doc->xmin_ms);
	sqlite3_bind_int64(st, 3, doc->xmax_ms);
	archive_bind_text(st, 4, doc->author);
	archive_bind_text(st, 5, doc->date);
	archive_bind_text(st, 6, lt);
	archive_bind_text(st, 7, cv);
	archive_bind_text(st, 8, props);
	if (archive_step_done(a, st, "storing the document header") < 0)
		goto end;
	ret = 0;
end:
	free(lt);
	free(cv);
	free(props);
	return ret;
}

int archive_store_annotations(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc,
			      int replace)
{
	int64_t *tier_ids = NULL, **seg_ids = NULL;
	size_t i;
	int ret;

	if ((ret = make_room(a, id, doc, replace)) < 0)
		goto end;
	tier_ids = calloc(doc->ntiers + 1, sizeof(*tier_ids));
	seg_ids = calloc(doc->ntiers + 1, sizeof(*seg_ids));
	if (!tier_ids || !seg_ids) {
		ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
		goto end;
	}
	for (i = 0; i < doc->ntiers; i++)
		if ((ret = store_tier(a, id, doc, i, tier_ids, seg_ids)) < 0)
			goto end;
	ret = store_doc_fields(a, id, doc);
end:
	if (seg_ids)
		for (i = 0; i < doc->ntiers; i++)
			free(seg_ids[i]);
	free(seg_ids);
	free(tier_ids);
	return ret;
}

/* The history row of an import, inside its transaction: with replace, the
 * tiers it replaces go into "before" as an EAF document (the most complete
 * of the formats), so that work done in the editor is never lost to an
 * import: it can be imported back from there. */
static int import_audit(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc,
			int replace)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT, eaf = PRL_BUF_INIT,
		       warn = PRL_BUF_INIT;
	struct prl_annot_doc *old = NULL;
	size_t nsegs = 0;
	int ret = 0;

	if (replace && (ret = prl_archive_annotations_load(a, &staff, id, &old)) < 0)
		goto end;
	if (old && old->ntiers) {
		if ((ret = prl_annot_write(PRL_FMT_EAF, old, NULL, &eaf, &warn)) < 0) {
			ret = archive_fail(a, ret, "keeping the replaced tiers: %s",
					   prl_buf_str(&warn));
			goto end;
		}
		prl_buf_addstr(&before, "{\"format\":\"eaf\",\"document\":");
		prl_json_str(&before, prl_buf_str(&eaf));
		prl_buf_addch(&before, '}');
	}
	for (size_t i = 0; i < doc->ntiers; i++)
		nsegs += doc->tiers[i].nsegs;
	prl_buf_addf(&after, "{\"tiers\":%zu,\"segments\":%zu,\"replace\":%s}", doc->ntiers, nsegs,
		     replace ? "true" : "false");
	ret = archive_audit(a, &staff, id, 0, 0, "annotations.import",
			    before.len ? before.data : NULL, after.data, 0);
end:
	prl_annot_doc_free(old);
	prl_buf_release(&before);
	prl_buf_release(&after);
	prl_buf_release(&eaf);
	prl_buf_release(&warn);
	return ret;
}

int prl_archive_annotations_import(struct prl_archive *a, int64_t id,
				   const struct prl_annot_doc *doc, int replace)
{
	struct prl_recording_brief b;
	struct prl_buf err = PRL_BUF_INIT;
	int ret;

	if ((ret = archive_recording_brief(a, id, &b)) < 0)
		return ret;
	ret = prl_annot_validate(doc, b.duration_ms, &err);
	prl_recording_brief_clear(&b);
	if (ret < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&err));
		prl_buf_release(&err);
		return ret;
	}
	prl_buf_release(&err);
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = import_audit(a, id, doc, replace)) == 0)
		ret = archive_store_annotations(a, id, doc, replace);
	return archive_edit_end(a, ret);
}

static char *colstr(sqlite3_stmt *st, int i)
{
	return archive_col_strdup(st, i);
}

/* The document's own fields (its span, author, date, EAF extras), when
 * they were stored. */
static int load_doc_fields(struct prl_archive *a, int64_t id, struct prl_annot_doc *d)
{
	sqlite3_stmt *st = archive_stmt(a, ST_ANNDOC_GET);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		d->xmin_ms = sqlite3_column_int64(st, 0);
		d->xmax_ms = sqlite3_column_type(st, 1) == SQLITE_NULL
				     ? -1
				     : sqlite3_column_int64(st, 1);
		d->author = colstr(st, 2);
		d->date = colstr(st, 3);
		doc_extras_load(d, (const char *)sqlite3_column_text(st, 4),
				(const char *)sqlite3_column_text(st, 5),
				(const char *)sqlite3_column_text(st, 6));
	}
	sqlite3_reset(st);
	return 0;
}

/* Recording id's tiers into d, in order, and their row ids into
 * *tier_ids (the caller frees it, also after a failure). */
static int load_tiers(struct prl_archive *a, int64_t id, struct prl_annot_doc *d,
		      int64_t **tier_ids, size_t *ntier_ids)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TIERS_OF);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t parent = sqlite3_column_int64(st, 7);
		struct prl_tier *t;
		int64_t *grown;
		int ti;

		ti = prl_annot_add_tier(d, (const char *)sqlite3_column_text(st, 1),
					(const char *)sqlite3_column_text(st, 2));
		grown = realloc(*tier_ids, (*ntier_ids + 1) * sizeof(**tier_ids));
		if (grown)
			*tier_ids = grown;
		if (ti < 0 || !grown)
			return -PRL_ENOMEM;
		(*tier_ids)[(*ntier_ids)++] = sqlite3_column_int64(st, 0);
		t = &d->tiers[ti];
		t->language = colstr(st, 3);
		/* a speaker with a pseudonym is named by it alone (schema 10) */
		if (sqlite3_column_int(st, 17))
			t->participant = colstr(st, 11);
		else
			t->participant = colstr(st, 4);
		if (!t->participant && sqlite3_column_type(st, 11) != SQLITE_NULL)
			t->participant = colstr(st, 11);
		t->annotator = colstr(st, 5);
		t->ling_type = colstr(st, 6);
		t->constraint = (enum prl_constraint)sqlite3_column_int(st, 8);
		t->is_point = sqlite3_column_int(st, 9) != 0;
		t->default_locale = colstr(st, 12);
		t->may_overlap = sqlite3_column_int(st, 13) != 0;
		t->machine = sqlite3_column_type(st, 14) != SQLITE_NULL;
		t->origin_tool = colstr(st, 15);
		t->origin_settings = colstr(st, 16);
		for (size_t j = 0; parent && j + 1 < *ntier_ids; j++)
			if ((*tier_ids)[j] == parent)
				t->parent = j + 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -PRL_ESQL;
}

/* Where segment pid is in parent tier pt, whose segments' row ids are
 * ids: its index plus one, or 0 when it is not there. */
static size_t parent_segment(const struct prl_tier *pt, const int64_t *ids, int64_t pid)
{
	size_t lo = 0, hi = pt->nsegs, parent = 0;

	/* parents' ids are in document order: a binary search */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pt->nsegs && ids[lo] == pid)
		return lo + 1;
	for (size_t j = 0; j < pt->nsegs; j++)
		if (ids[j] == pid)
			parent = j + 1;
	return parent;
}

/* The segments of d's tier i (row tier_id) as v may read them, their row
 * ids into seg_ids[i] (the caller frees them, also after a failure). */
static int load_segments(struct prl_archive *a, const struct prl_viewer *v, struct prl_annot_doc *d,
			 size_t i, int64_t tier_id, int64_t **seg_ids)
{
	struct prl_tier *t = &d->tiers[i];
	sqlite3_stmt *ss;
	size_t cap = 0;
	int rc;

	/* withheld passages stay out of exports for who may not read them */
	if (!(ss = archive_stmt(a, prl_access_sees_withheld(v) ? ST_SEGMENTS_OF_TIER
							       : ST_SEGMENTS_OF_TIER_SHOWN)))
		return -PRL_ESQL;
	sqlite3_bind_int64(ss, 1, tier_id);
	while ((rc = sqlite3_step(ss)) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(ss, 4);
		struct prl_segment *s;
		size_t parent = 0;

		if (t->parent && pid)
			parent = parent_segment(&d->tiers[t->parent - 1], seg_ids[t->parent - 1],
						pid);
		if (prl_annot_add_segment(t, sqlite3_column_int64(ss, 1),
					  sqlite3_column_int64(ss, 2),
					  (const char *)sqlite3_column_text(ss, 3), parent) < 0)
			return -PRL_ENOMEM;
		s = &t->segs[t->nsegs - 1];
		s->ext_id = colstr(ss, 5);
		s->cve_ref = colstr(ss, 6);
		s->start_unaligned = sqlite3_column_int(ss, 7) != 0;
		s->end_unaligned = sqlite3_column_int(ss, 8) != 0;
		s->machine = sqlite3_column_type(ss, 10) != SQLITE_NULL;
		s->confidence = sqlite3_column_type(ss, 11) != SQLITE_NULL
					? (float)sqlite3_column_double(ss, 11)
					: -1.0f;
		s->doubtful = sqlite3_column_int(ss, 12) != 0;
		if (t->nsegs > cap) {
			int64_t *g;

			cap = cap ? cap * 2 : 64;
			if (!(g = realloc(seg_ids[i], cap * sizeof(*g))))
				return -PRL_ENOMEM;
			seg_ids[i] = g;
		}
		seg_ids[i][t->nsegs - 1] = sqlite3_column_int64(ss, 0);
	}
	sqlite3_reset(ss);
	return rc == SQLITE_DONE ? 0 : -PRL_ESQL;
}

int prl_archive_annotations_load(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				 struct prl_annot_doc **out)
{
	struct prl_annot_doc *d = NULL;
	int64_t *tier_ids = NULL, **seg_ids = NULL;
	size_t ntier_ids = 0, i;
	int ret;

	/* a transcript: for whom may read it */
	if ((ret = prl_archive_recording_open(a, v, id, PRL_SEE_ALL, NULL)) < 0)
		return ret;
	if (!(d = prl_annot_doc_new()))
		return -PRL_ENOMEM;
	if ((ret = load_doc_fields(a, id, d)) < 0 ||
	    (ret = load_tiers(a, id, d, &tier_ids, &ntier_ids)) < 0)
		goto end;
	if (d->ntiers && !(seg_ids = calloc(d->ntiers, sizeof(*seg_ids)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < d->ntiers; i++)
		if ((ret = load_segments(a, v, d, i, tier_ids[i], seg_ids)) < 0)
			goto end;
	*out = d;
	d = NULL;
	ret = 0;
end:
	if (ret == -PRL_ESQL)
		archive_sql_fail(a, "loading tiers");
	if (seg_ids)
		for (i = 0; i < ntier_ids; i++)
			free(seg_ids[i]);
	free(seg_ids);
	free(tier_ids);
	prl_annot_doc_free(d);
	return ret;
}
