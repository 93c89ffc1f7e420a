/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The catalogue: a recording's metadata corrected after ingest (title,
 * date, collection, place, variety, language, collector, device, rights,
 * description, keywords, speakers, access), and speakers and places as
 * records of their own, edited once for all their recordings and merged
 * when one person or one village was entered twice.
 *
 * Always holds: a change is checked as ingest checks a metadata sidecar
 * (sidecar_parse(), so the same sentences) before anything is written;
 * it is one transaction of the edit path (history.c) with its history
 * row, whose before and after are the recording's metadata as a sidecar
 * gives it (ST_CAT_SNAPSHOT), so that a revert applies "before" exactly as
 * an edit would; a recording changes only from the version its editor
 * read; its search index rows and filter tokens follow in the same
 * transaction, and OAI-PMH sees the new updated_at.
 *
 * Expected workload: corrections at human pace, a few a minute; a merge
 * touches the recordings of two people or two places (tens to hundreds).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive-internal.h"
#include "sidecar.h"

/* The fields an edit may give, in the order of the bits of change.given. */
enum field {
	F_TITLE = 0,
	F_DATE,
	F_COLLECTION,
	F_PLACE,
	F_VARIETY,
	F_LANGUAGE,
	F_COLLECTOR,
	F_DEVICE,
	F_RIGHTS,
	F_DESCRIPTION,
	F_KEYWORDS,
	F_ACCESS,
	F_SPEAKERS,
	NFIELDS
};

static const char *const field_names[NFIELDS] = {
	"title",  "date",   "collection",  "place",    "variety", "language", "collector",
	"device", "rights", "description", "keywords", "access",  "speakers",
};

/* What the search index files a recording under: a change to one of
 * these re-indexes it (INDEX_META_SQL, INDEX_KEY4_SQL). */
#define INDEXED_FIELDS                                                                             \
	((1u << F_COLLECTION) | (1u << F_PLACE) | (1u << F_VARIETY) | (1u << F_SPEAKERS) |         \
	 (1u << F_ACCESS))

struct change {
	struct sidecar sc; /* the values, checked as a sidecar's */
	unsigned given;	   /* bit (1 << enum field) per field the edit names */
	int64_t version;   /* the version edited, or -1 when not said */
};

static void change_clear(struct change *c)
{
	sidecar_clear(&c->sc);
	memset(c, 0, sizeof(*c));
}

static int may_edit(struct prl_archive *a, const struct prl_viewer *v)
{
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins may change this");
	return 0;
}

/* Reads json into *c: an object of the fields above (and "version"),
 * their values checked by the sidecar parser.  -PRL_EFORMAT with the
 * sentence in errmsg. */
static int change_parse(struct prl_archive *a, const char *json, size_t len, struct change *c)
{
	struct prl_buf err = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int ret = 0, i;

	memset(c, 0, sizeof(*c));
	c->version = -1;
	c->sc.access = -1;
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return archive_fail(a, -PRL_EFORMAT, "invalid JSON at line %d: %s", jerr.line,
				    jerr.text);
	if (!json_is_object(root)) {
		ret = archive_fail(a, -PRL_EFORMAT, "must be a JSON object");
		goto end;
	}
	json_object_foreach(root, key, v)
	{
		if (!strcmp(key, "version")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				ret = archive_fail(a, -PRL_EFORMAT,
						   "field 'version' must be a whole number");
				goto end;
			}
			c->version = (int64_t)json_integer_value(v);
			continue;
		}
		for (i = 0; i < NFIELDS && strcmp(key, field_names[i]); i++)
			;
		if (i == NFIELDS) {
			ret = archive_fail(a, -PRL_EFORMAT, "field '%s' cannot be changed here",
					   key);
			goto end;
		}
		c->given |= 1u << i;
	}
	if ((ret = sidecar_parse(json, len, &c->sc, &err, &warn)) < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&err));
		goto end;
	}
	if ((c->given & (1u << F_ACCESS)) && c->sc.access < 0)
		ret = archive_fail(a, -PRL_EFORMAT,
				   "field 'access' must be \"public\", \"restricted\" or "
				   "\"private\"");
	else if ((c->given & (1u << F_TITLE)) && (!c->sc.title || !c->sc.title[0]))
		ret = archive_fail(a, -PRL_EINVAL, "field 'title' cannot be empty");
end:
	json_decref(root);
	prl_buf_release(&err);
	prl_buf_release(&warn);
	if (ret < 0)
		change_clear(c);
	return ret;
}

/* Recording id's metadata as a sidecar gives it (caller frees *json), its
 * version and institution.  -PRL_ENOTFOUND for an unknown or deleted one. */
static int snapshot(struct prl_archive *a, int64_t id, char **json, int64_t *version,
		    int64_t *institution)
{
	sqlite3_stmt *st = archive_stmt(a, ST_CAT_SNAPSHOT);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no recording %lld", (long long)id)
			       : archive_sql_fail(a, "reading a recording");
	}
	*json = archive_col_strdup(st, 0);
	if (version)
		*version = sqlite3_column_int64(st, 1);
	if (institution)
		*institution = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return *json ? 0 : archive_fail(a, -PRL_ENOMEM, "out of memory");
}

/* A text field's value: NULL clears ("" too). */
static void bind_field(sqlite3_stmt *st, const struct change *c, enum field f, const char *s)
{
	int given = (c->given >> f) & 1u;

	sqlite3_bind_int(st, 2 + 2 * (int)f, given);
	if (given)
		archive_bind_text(st, 3 + 2 * (int)f, s && s[0] ? s : NULL);
}

static void bind_id(sqlite3_stmt *st, const struct change *c, enum field f, int64_t id)
{
	int given = (c->given >> f) & 1u;

	sqlite3_bind_int(st, 2 + 2 * (int)f, given);
	if (given && id > 0)
		sqlite3_bind_int64(st, 3 + 2 * (int)f, id);
}

/* The speaker an edit names by name alone (no birth year): the one of
 * that name the archive knows, so that correcting a recording's speakers
 * never makes a second record of a known person; 0 when none. */
static int64_t speaker_by_name(struct prl_archive *a, const struct sidecar_speaker *sp)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (sp->birth_year)
		return 0;
	if (!(st = archive_stmt(a, ST_CAT_SPEAKER_BY_NAME)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, sp->name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id
						     : archive_sql_fail(a, "finding a speaker");
}

/* The place an edit names by its name alone (no commune, no coordinates):
 * the one of that name the archive knows, so that naming a known village
 * never makes a second record of it; 0 when none. */
static int64_t place_by_name(struct prl_archive *a, const struct sidecar *sc)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (sc->place_commune || sc->has_coords)
		return 0;
	if (!(st = archive_stmt(a, ST_CAT_PLACE_BY_NAME)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, sc->place_name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : archive_sql_fail(a, "finding a place");
}

static int relink_speakers(struct prl_archive *a, int64_t id, const struct sidecar *sc)
{
	sqlite3_stmt *st;
	int64_t sid;
	int ret;

	if (!(st = archive_stmt(a, ST_CAT_UNLINK_SPEAKERS)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((ret = archive_step_done(a, st, "unlinking speakers")) < 0)
		return ret;
	for (size_t i = 0; i < sc->nspeakers; i++) {
		if ((sid = speaker_by_name(a, &sc->speakers[i])) < 0)
			return (int)sid;
		if (!sid && (sid = archive_find_or_add_speaker(a, &sc->speakers[i])) < 0)
			return (int)sid;
		if (!(st = archive_stmt(a, ST_REC_SPEAKER_ADD)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, sid);
		archive_bind_text(st, 3, sc->speakers[i].role ? sc->speakers[i].role : "speaker");
		sqlite3_bind_int(st, 4, (int)i);
		if ((ret = archive_step_done(a, st, "linking a speaker")) < 0)
			return ret;
	}
	return 0;
}

/* What recording id's index rows are made of besides their text, into out. */
static int index_state(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_CAT_INDEX_STATE);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		prl_buf_addstr(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : archive_sql_fail(a, "reading the index state");
}

/* Refreshes recording id's filter tokens, and re-indexes its segments
 * when those or its level differ from was (index_state() before the
 * change): a form that sends every field re-indexes nothing unless one
 * the index files it under changed. */
static int reindex_if_changed(struct prl_archive *a, int64_t id, const struct prl_buf *was)
{
	struct prl_buf now = PRL_BUF_INIT;
	int ret;

	if ((ret = archive_refresh_index_meta(a, id)) == 0 &&
	    (ret = index_state(a, id, &now)) == 0 && strcmp(prl_buf_str(was), prl_buf_str(&now)))
		ret = archive_reindex_recording(a, id);
	prl_buf_release(&now);
	return ret;
}

/*
 * Applies c to recording id inside the caller's transaction, with its
 * history row (action, reverts).  Returns 0, 1 when it changes nothing
 * (the caller rolls back: no version spent, no row), -PRL_ECONFLICT when
 * c names another version, or a negative prl_err.
 */
static int apply(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		 const struct change *c, const char *action, int64_t reverts)
{
	const struct sidecar *sc = &c->sc;
	char *before = NULL, *after = NULL;
	int64_t version, institution, collection = 0, place = 0;
	struct prl_buf indexed = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int ret;

	if ((ret = snapshot(a, id, &before, &version, &institution)) < 0)
		return ret;
	if ((c->given & INDEXED_FIELDS) && (ret = index_state(a, id, &indexed)) < 0)
		goto end;
	if (c->version >= 0 && c->version != version) {
		ret = archive_fail(a, -PRL_ECONFLICT,
				   "recording %lld was changed since version %lld (it is at %lld)",
				   (long long)id, (long long)c->version, (long long)version);
		goto end;
	}
	if ((c->given & (1u << F_COLLECTION)) && sc->collection && sc->collection[0] &&
	    (collection = archive_find_or_add_collection(a, sc->collection, institution)) < 0) {
		ret = (int)collection;
		goto end;
	}
	if ((c->given & (1u << F_PLACE)) && sc->place_name && sc->place_name[0] &&
	    ((place = place_by_name(a, sc)) < 0 ||
	     (!place && (place = archive_find_or_add_place(a, sc)) < 0))) {
		ret = (int)place;
		goto end;
	}
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_CAT_UPDATE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	bind_field(st, c, F_TITLE, sc->title);
	bind_field(st, c, F_DATE, sc->date);
	bind_id(st, c, F_COLLECTION, collection);
	bind_id(st, c, F_PLACE, place);
	bind_field(st, c, F_VARIETY, sc->variety);
	bind_field(st, c, F_LANGUAGE, sc->language);
	bind_field(st, c, F_COLLECTOR, sc->collector);
	bind_field(st, c, F_DEVICE, sc->device);
	bind_field(st, c, F_RIGHTS, sc->rights);
	bind_field(st, c, F_DESCRIPTION, sc->description);
	bind_field(st, c, F_KEYWORDS, sc->keywords_json);
	sqlite3_bind_int(st, 2 + 2 * F_ACCESS, (c->given >> F_ACCESS) & 1u);
	sqlite3_bind_int(st, 3 + 2 * F_ACCESS, sc->access);
	sqlite3_bind_int64(st, 26, version);
	if ((ret = archive_step_done(a, st, "changing a recording")) < 0)
		goto end;
	if (sqlite3_changes(a->db) != 1) {
		ret = archive_fail(a, -PRL_ECONFLICT, "recording %lld was changed meanwhile",
				   (long long)id);
		goto end;
	}
	if ((c->given & (1u << F_SPEAKERS)) && (ret = relink_speakers(a, id, sc)) < 0)
		goto end;
	if ((c->given & INDEXED_FIELDS) && (ret = reindex_if_changed(a, id, &indexed)) < 0)
		goto end;
	if ((ret = snapshot(a, id, &after, NULL, NULL)) < 0)
		goto end;
	if (!strcmp(before, after))
		ret = 1;
	else
		ret = archive_audit(a, v, id, 0, 0, action, before, after, reverts);
end:
	free(before);
	free(after);
	prl_buf_release(&indexed);
	return ret;
}

int prl_archive_recording_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       const char *json, size_t len, struct prl_buf *out)
{
	struct change c;
	int ret;

	memset(&c, 0, sizeof(c));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	/* the gate first: a refusal comes before any other answer (400, 409) */
	if ((ret = prl_archive_recording_open(a, v, id, PRL_MAY_WRITE, NULL)) == 0 &&
	    (ret = change_parse(a, json, len, &c)) == 0)
		ret = apply(a, v, id, &c, "recording.edit", 0);
	/* nothing changed: roll back the version spent for nothing */
	ret = archive_edit_end(a, ret == 1 ? -PRL_EEXIST : ret);
	if (ret == -PRL_EEXIST)
		ret = 0;
	if (ret == 0 || ret == -PRL_ECONFLICT) {
		struct prl_buf msg = PRL_BUF_INIT;

		/* the recording as it is now, keeping a conflict's sentence */
		prl_buf_addstr(&msg, prl_archive_errmsg(a));
		if (prl_archive_recording_json(a, v, id, out) < 0 && ret == 0)
			ret = -PRL_ESQL;
		if (ret == -PRL_ECONFLICT)
			archive_fail(a, ret, "%s", prl_buf_str(&msg));
		prl_buf_release(&msg);
	}
	change_clear(&c);
	return ret;
}

int archive_catalogue_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			     int64_t rec_id, const char *before, const char *after,
			     struct prl_buf *out)
{
	struct change c;
	char *now = NULL;
	int ret;

	if (!before || !after)
		return archive_fail(a, -PRL_EINVAL, "history entry %lld is damaged",
				    (long long)hid);
	if ((ret = snapshot(a, rec_id, &now, NULL, NULL)) < 0)
		return ret;
	if (strcmp(now, after) != 0) {
		free(now);
		return archive_fail(
			a, -PRL_ECONFLICT,
			"history entry %lld cannot be undone: what it changed has changed since",
			(long long)hid);
	}
	free(now);
	if ((ret = change_parse(a, before, strlen(before), &c)) < 0)
		return ret;
	ret = apply(a, v, rec_id, &c, "recording.revert", hid);
	change_clear(&c);
	if (ret == 0)
		ret = prl_archive_recording_json(a, v, rec_id, out);
	return ret == 1 ? 0 : ret;
}

/* ---- speakers and places as records ---- */

static void add_col_str(struct prl_buf *b, const char *key, sqlite3_stmt *st, int col)
{
	prl_buf_addf(b, ",\"%s\":", key);
	prl_json_str(b, (const char *)sqlite3_column_text(st, col));
}

static void add_col_num(struct prl_buf *b, const char *key, sqlite3_stmt *st, int col, int real)
{
	prl_buf_addf(b, ",\"%s\":", key);
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(b, "null");
	else if (real)
		prl_buf_addf(b, "%.6f", sqlite3_column_double(st, col));
	else
		prl_buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, col));
}

/* The rows of a list statement (speakers or places) as objects; with id
 * > 0 the one object alone (-PRL_ENOTFOUND when none). */
static int records_json(struct prl_archive *a, enum stmt_id sid, const char *key, int64_t id,
			struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, sid);
	int rc, n = 0, ret;

	if (!st)
		return -PRL_ESQL;
	if (id > 0)
		sqlite3_bind_int64(st, 1, id);
	else
		prl_buf_addf(&b, "{\"%s\":[", key);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(&b, "%s{\"id\":%lld", n++ ? "," : "",
			     (long long)sqlite3_column_int64(st, 0));
		add_col_str(&b, "name", st, 1);
		if (sid == ST_CAT_SPEAKER_LIST) {
			add_col_str(&b, "pseudonym", st, 2);
			prl_buf_addf(&b, ",\"pseudonymised\":%s",
				     sqlite3_column_type(st, 2) != SQLITE_NULL ? "true" : "false");
			prl_buf_addf(&b, ",\"name_is_pseudonym\":%s",
				     sqlite3_column_int(st, 3) ? "true" : "false");
			add_col_num(&b, "birth_year", st, 4, 0);
			add_col_str(&b, "sex", st, 5);
			add_col_str(&b, "occupation", st, 6);
			add_col_str(&b, "origin", st, 7);
			add_col_str(&b, "consent", st, 8);
			add_col_num(&b, "recordings", st, 9, 0);
		} else {
			add_col_str(&b, "commune", st, 2);
			add_col_num(&b, "lat", st, 3, 1);
			add_col_num(&b, "lon", st, 4, 1);
			add_col_num(&b, "recordings", st, 5, 0);
		}
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing the catalogue");
	else if (id > 0 && !n)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no %s %lld",
				   sid == ST_CAT_SPEAKER_LIST ? "speaker" : "place", (long long)id);
	else
		ret = prl_buf_addstr(&b, id > 0 ? "" : "]}");
	if (ret == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_speakers_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	return records_json(a, ST_CAT_SPEAKER_LIST, "speakers", id, out);
}

int prl_archive_places_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	return records_json(a, ST_CAT_PLACE_LIST, "places", id, out);
}

/* The live recordings of record a_id or b_id (ST_CAT_*_RECORDINGS) into
 * *ids (caller frees). */
static int recordings_of(struct prl_archive *a, enum stmt_id sid, int64_t a_id, int64_t b_id,
			 int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = archive_stmt(a, sid);
	int64_t *v = NULL, *g;
	size_t k = 0;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, a_id);
	sqlite3_bind_int64(st, 2, b_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(v, (k + 1) * sizeof(*v)))) {
			sqlite3_reset(st);
			free(v);
			return archive_fail(a, -PRL_ENOMEM, "out of memory");
		}
		v = g;
		v[k++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return archive_sql_fail(a, "finding recordings");
	}
	*ids = v;
	*n = k;
	return 0;
}

/* After a change to a record: the history row on each recording it is
 * on (through each one's write gate), and their index rows with reindex
 * (their filter tokens name the record). */
static int touch_recordings(struct prl_archive *a, const struct prl_viewer *v, enum stmt_id sid,
			    int64_t a_id, int64_t b_id, const char *action, const char *before,
			    const char *after, int reindex)
{
	int64_t *ids = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int ret;

	if ((ret = recordings_of(a, sid, a_id, b_id, &ids, &n)) < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		ret = archive_audit(a, v, ids[i], 0, 0, action, before, after, 0);
		/* what OAI-PMH gives of it changed: a new datestamp, so that
		 * harvesters take it again (a pseudonym must reach them too) */
		if (ret == 0 && (st = archive_stmt(a, ST_CAT_TOUCH))) {
			sqlite3_bind_int64(st, 1, ids[i]);
			ret = archive_step_done(a, st, "dating a change");
		} else if (ret == 0) {
			ret = -PRL_ESQL;
		}
		if (ret == 0 && reindex && (ret = archive_refresh_index_meta(a, ids[i])) == 0)
			ret = archive_reindex_recording(a, ids[i]);
	}
	free(ids);
	return ret;
}

/* A string member: 0 absent, 1 a string (*s, "" allowed) or null (*s
 * ""), -PRL_EFORMAT otherwise with the sidecar's sentence. */
static int member_str(struct prl_archive *a, json_t *o, const char *key, const char **s)
{
	json_t *j = json_object_get(o, key);

	*s = NULL;
	if (!j)
		return 0;
	if (json_is_null(j)) {
		*s = "";
		return 1;
	}
	if (!json_is_string(j) || strlen(json_string_value(j)) != json_string_length(j))
		return archive_fail(a, -PRL_EFORMAT, "field '%s' must be a string", key);
	*s = json_string_value(j);
	return 1;
}

/* Checks json as an object whose keys are all in known (NULL-ended). */
static json_t *record_body(struct prl_archive *a, const char *json, size_t len,
			   const char *const *known, int *err)
{
	json_error_t jerr;
	const char *key;
	json_t *o, *v;

	if (!(o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
		*err = archive_fail(a, -PRL_EFORMAT, "invalid JSON at line %d: %s", jerr.line,
				    jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*err = archive_fail(a, -PRL_EFORMAT, "must be a JSON object");
		return NULL;
	}
	json_object_foreach(o, key, v)
	{
		const char *const *k;

		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			/* the message names the key before the object is freed */
			*err = archive_fail(a, -PRL_EFORMAT, "field '%s' cannot be changed here",
					    key);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int record_exists(struct prl_archive *a, enum stmt_id sid, int64_t id, const char *what)
{
	sqlite3_stmt *st = archive_stmt(a, sid);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE
		       ? archive_fail(a, -PRL_ENOTFOUND, "no %s %lld", what, (long long)id)
		       : archive_sql_fail(a, "reading the catalogue");
}

int prl_archive_speaker_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			     const char *json, size_t len, struct prl_buf *out)
{
	static const char *const known[] = {"name",	  "pseudonym", "birth_year", "sex",
					    "occupation", "origin",    "consent",    NULL};
	static const char *const texts[] = {"pseudonym", "sex", "occupation", "origin", "consent"};
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	const char *name = NULL, *text[5];
	sqlite3_stmt *st;
	json_t *o, *y;
	int64_t year = -1;
	int ret = 0;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if (!(o = record_body(a, json, len, known, &ret)))
		return ret;
	if ((ret = member_str(a, o, "name", &name)) < 0)
		goto end;
	if (name && !name[0]) {
		ret = archive_fail(a, -PRL_EFORMAT, "field 'name' is required");
		goto end;
	}
	for (size_t i = 0; i < 5; i++)
		if ((ret = member_str(a, o, texts[i], &text[i])) < 0)
			goto end;
	if ((y = json_object_get(o, "birth_year"))) {
		if (json_is_null(y)) {
			year = 0;
		} else if (!json_is_integer(y)) {
			ret = archive_fail(a, -PRL_EFORMAT,
					   "field 'birth_year' must be a whole year");
			goto end;
		} else if ((year = (int64_t)json_integer_value(y)) < 1800 || year > 2100) {
			ret = archive_fail(a, -PRL_EFORMAT,
					   "field 'birth_year' is out of range (1800 to 2100)");
			goto end;
		}
	}
	if ((ret = archive_edit_begin(a)) < 0)
		goto end;
	if ((ret = prl_archive_speakers_json(a, id, &before)) < 0)
		goto done;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_CAT_SPEAKER_UPDATE)))
		goto done;
	sqlite3_bind_int64(st, 1, id);
	archive_bind_text(st, 2, name);
	archive_bind_text(st, 3, text[0]);
	if (year >= 0)
		sqlite3_bind_int64(st, 4, year);
	for (int i = 1; i < 5; i++)
		archive_bind_text(st, 4 + i, text[i]);
	if ((ret = archive_step_done(a, st, "changing a speaker")) < 0 ||
	    (ret = prl_archive_speakers_json(a, id, &after)) < 0)
		goto done;
	/* the name and pseudonym are in what every recording of theirs
	 * shows, and a pseudonym must reach every way out at once */
	if (strcmp(prl_buf_str(&before), prl_buf_str(&after)))
		ret = touch_recordings(a, v, ST_CAT_SPEAKER_RECORDINGS, id, id, "speaker.edit",
				       before.data, after.data, 0);
done:
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&after), after.len);
end:
	json_decref(o);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}

/* The steps of a merge of record from into record into: statements run
 * with (from, into), then from's row goes. */
static int merge(struct prl_archive *a, const struct prl_viewer *v, const char *what,
		 enum stmt_id get, enum stmt_id recordings, const enum stmt_id *steps,
		 size_t nsteps, enum stmt_id del, int64_t from, int64_t into,
		 int (*json)(struct prl_archive *, int64_t, struct prl_buf *), struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, res = PRL_BUF_INIT;
	char action[32];
	sqlite3_stmt *st;
	int ret;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if (from == into)
		return archive_fail(a, -PRL_EINVAL, "a %s cannot be merged with itself", what);
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = record_exists(a, get, from, what)) < 0 ||
	    (ret = record_exists(a, get, into, what)) < 0)
		goto end;
	prl_buf_addstr(&before, "{\"from\":");
	if ((ret = json(a, from, &before)) < 0)
		goto end;
	prl_buf_addstr(&before, ",\"into\":");
	if ((ret = json(a, into, &before)) < 0)
		goto end;
	prl_buf_addch(&before, '}');
	/* the history rows first, while both records' recordings are known */
	snprintf(action, sizeof(action), "%s.merge", what);
	if ((ret = touch_recordings(a, v, recordings, from, into, action, before.data, NULL, 0)) <
	    0)
		goto end;
	for (size_t i = 0; i < nsteps; i++) {
		ret = -PRL_ESQL;
		if (!(st = archive_stmt(a, steps[i])))
			goto end;
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, into);
		if ((ret = archive_step_done(a, st, "merging")) < 0)
			goto end;
	}
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, del)))
		goto end;
	sqlite3_bind_int64(st, 1, from);
	if ((ret = archive_step_done(a, st, "merging")) < 0)
		goto end;
	/* the filter tokens name the record: the merged recordings move */
	{
		int64_t *ids = NULL;
		size_t n = 0;

		if ((ret = recordings_of(a, recordings, into, into, &ids, &n)) < 0)
			goto end;
		for (size_t i = 0; i < n && ret == 0; i++)
			if ((ret = archive_refresh_index_meta(a, ids[i])) == 0)
				ret = archive_reindex_recording(a, ids[i]);
		free(ids);
	}
	if (ret == 0)
		ret = json(a, into, &res);
end:
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&before);
	prl_buf_release(&res);
	return ret;
}

int prl_archive_speaker_merge(struct prl_archive *a, const struct prl_viewer *v, int64_t from,
			      int64_t into, struct prl_buf *out)
{
	static const enum stmt_id steps[] = {ST_CAT_SPEAKER_MERGE_LINKS, ST_CAT_SPEAKER_MERGE_TIERS,
					     ST_CAT_SPEAKER_UNLINK_ALL};

	return merge(a, v, "speaker", ST_CAT_SPEAKER_GET, ST_CAT_SPEAKER_RECORDINGS, steps, 3,
		     ST_CAT_SPEAKER_DELETE, from, into, prl_archive_speakers_json, out);
}

int prl_archive_place_merge(struct prl_archive *a, const struct prl_viewer *v, int64_t from,
			    int64_t into, struct prl_buf *out)
{
	static const enum stmt_id steps[] = {ST_CAT_PLACE_MERGE, ST_CAT_PLACE_MERGE_ORIGINS};

	return merge(a, v, "place", ST_CAT_PLACE_GET, ST_CAT_PLACE_RECORDINGS, steps, 2,
		     ST_CAT_PLACE_DELETE, from, into, prl_archive_places_json, out);
}

int prl_archive_place_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			   const char *json, size_t len, struct prl_buf *out)
{
	static const char *const known[] = {"name", "commune", "lat", "lon", NULL};
	struct prl_buf before = PRL_BUF_INIT, after = PRL_BUF_INIT;
	const char *name = NULL, *commune = NULL;
	json_t *o, *lat, *lon;
	sqlite3_stmt *st;
	int ret;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if (!(o = record_body(a, json, len, known, &ret)))
		return ret;
	if ((ret = member_str(a, o, "name", &name)) < 0 ||
	    (ret = member_str(a, o, "commune", &commune)) < 0)
		goto end;
	if (name && !name[0]) {
		ret = archive_fail(a, -PRL_EFORMAT, "place: field 'name' is required");
		goto end;
	}
	lat = json_object_get(o, "lat");
	lon = json_object_get(o, "lon");
	if (!lat != !lon || (lat && !json_is_null(lat) != !json_is_null(lon))) {
		ret = archive_fail(a, -PRL_EFORMAT, "place: 'lat' and 'lon' go together");
		goto end;
	}
	if (lat && !json_is_null(lat) &&
	    (!json_is_number(lat) || !json_is_number(lon) || json_number_value(lat) < -90 ||
	     json_number_value(lat) > 90 || json_number_value(lon) < -180 ||
	     json_number_value(lon) > 180)) {
		ret = archive_fail(a, -PRL_EFORMAT,
				   "place: 'lat' and 'lon' must be numbers in range (-90 to 90, "
				   "-180 to 180)");
		goto end;
	}
	if ((ret = archive_edit_begin(a)) < 0)
		goto end;
	if ((ret = prl_archive_places_json(a, id, &before)) < 0)
		goto done;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_CAT_PLACE_UPDATE)))
		goto done;
	sqlite3_bind_int64(st, 1, id);
	archive_bind_text(st, 2, name);
	archive_bind_text(st, 3, commune);
	if (lat && !json_is_null(lat)) {
		sqlite3_bind_double(st, 4, json_number_value(lat));
		sqlite3_bind_double(st, 5, json_number_value(lon));
	}
	sqlite3_bind_int(st, 6, lat != NULL);
	if ((ret = archive_step_done(a, st, "changing a place")) < 0 ||
	    (ret = prl_archive_places_json(a, id, &after)) < 0)
		goto done;
	if (strcmp(prl_buf_str(&before), prl_buf_str(&after)))
		ret = touch_recordings(a, v, ST_CAT_PLACE_RECORDINGS, id, id, "place.edit",
				       before.data, after.data, 0);
done:
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&after), after.len);
end:
	json_decref(o);
	prl_buf_release(&before);
	prl_buf_release(&after);
	return ret;
}
