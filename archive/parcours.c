/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Thematic routes ("parcours"): an ordered series of stops, each a span of
 * a recording of any institution with a short commentary, under a title
 * and an introduction, written by staff.  The URLs and the command line
 * say "route"; the code says "parcours" so that it is never taken for the
 * server's table of URL routes.
 *
 * Always holds: a route is written whole or not at all (its stops in the
 * same transaction, a replaced route's old stops gone with it); every
 * stop names a recording that existed and a span inside it when written;
 * what a viewer is shown of a route passes through the access gate stop
 * by stop: a stop whose recording the viewer may not hear, or whose span
 * touches a passage withheld from them, is left out (and counted as
 * hidden), and a route with no stop left is as if it did not exist.
 * Every change (import, a save on the web, a deletion, a revert) is
 * written by staff who may hear every stop of the route before and after
 * it, and leaves a history row with the route as it was before and after
 * (its import form) in the same transaction, so that any change can be
 * undone.
 * Expected workload: tens of routes of tens of stops, read far more often
 * than written; a route of a few thousand stops still answers.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

#define PARCOURS_TITLE_MAX 1000
#define PARCOURS_INTRO_MAX 16384
#define PARCOURS_NOTE_MAX 4096
#define PARCOURS_STOPS_MAX 2000
#define HEARD_MEMO 64 /* recordings whose gate answer a check keeps */

int prl_parcours_slug_valid(const char *s)
{
	return prl_institution_short_valid(s);
}

/* A text field of o: NULL when absent or null; 0 or -PRL_EINVAL (with the
 * field named) when it is there but no string of at most max bytes of
 * UTF-8. */
static int text_field(struct prl_archive *a, json_t *o, const char *key, const char *where,
		      size_t max, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    !prl_utf8_valid(json_string_value(v), json_string_length(v)) ||
	    memchr(json_string_value(v), '\0', json_string_length(v)))
		return archive_fail(a, -PRL_EINVAL, "%s%s: a text of at most %zu bytes of UTF-8",
				    where, key, max);
	*out = json_string_value(v);
	return 0;
}

static int int_field(struct prl_archive *a, json_t *o, const char *key, const char *where,
		     int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return archive_fail(a, -PRL_EINVAL,
				    "%s%s: a whole number of at least 0 is required", where, key);
	*out = json_integer_value(v);
	return 0;
}

/* Checks stop i of a route against the archive and writes it. */
static int stop_write(struct prl_archive *a, int64_t route_id, size_t i, json_t *stop)
{
	struct prl_recording_brief brief;
	const char *title, *note;
	char where[48];
	int64_t rid, start, end;
	sqlite3_stmt *st;
	int ret;

	snprintf(where, sizeof(where), "stops[%zu].", i);
	if (!json_is_object(stop))
		return archive_fail(a, -PRL_EINVAL, "stops[%zu]: an object is required", i);
	if ((ret = int_field(a, stop, "recording_id", where, &rid)) < 0 ||
	    (ret = int_field(a, stop, "start_ms", where, &start)) < 0 ||
	    (ret = int_field(a, stop, "end_ms", where, &end)) < 0 ||
	    (ret = text_field(a, stop, "title", where, PARCOURS_TITLE_MAX, &title)) < 0 ||
	    (ret = text_field(a, stop, "note", where, PARCOURS_NOTE_MAX, &note)) < 0)
		return ret;
	memset(&brief, 0, sizeof(brief));
	if (archive_recording_brief(a, rid, &brief) < 0)
		return archive_fail(a, -PRL_EINVAL, "stops[%zu]: no recording %lld", i,
				    (long long)rid);
	ret = 0;
	if (end <= start || end > brief.duration_ms)
		ret = archive_fail(a, -PRL_EINVAL,
				   "stops[%zu]: the span %lld-%lld ms is not inside recording %lld "
				   "(0-%lld ms)",
				   i, (long long)start, (long long)end, (long long)rid,
				   (long long)brief.duration_ms);
	prl_recording_brief_clear(&brief);
	if (ret < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_PARCOURS_STOP_ADD)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, route_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1);
	sqlite3_bind_int64(st, 3, rid);
	sqlite3_bind_int64(st, 4, start);
	sqlite3_bind_int64(st, 5, end);
	archive_bind_text(st, 6, title);
	archive_bind_text(st, 7, note);
	return archive_step_done(a, st, "adding a stop");
}

/* The route's id and version by slug: 0 (and *id 0) when there is none. */
static int parcours_find(struct prl_archive *a, const char *slug, int64_t *id, int64_t *version)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_BY_SLUG);
	int rc;

	*id = 0;
	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (version)
			*version = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding a route");
}

/* Writes the route root describes (checked first) inside a transaction. */
static int parcours_write(struct prl_archive *a, json_t *root, int replace, const char **slug)
{
	const char *title, *intro;
	json_t *stops = json_object_get(root, "stops"), *stop;
	int64_t old = 0, version = 0, route_id;
	sqlite3_stmt *st;
	size_t i;
	int ret;

	if ((ret = text_field(a, root, "slug", "", PRL_SHORT_MAX, slug)) < 0 ||
	    (ret = text_field(a, root, "title", "", PARCOURS_TITLE_MAX, &title)) < 0 ||
	    (ret = text_field(a, root, "intro", "", PARCOURS_INTRO_MAX, &intro)) < 0)
		return ret;
	if (!prl_parcours_slug_valid(*slug))
		return archive_fail(
			a, -PRL_EINVAL,
			"slug: 1 to %d lowercase letters, digits and hyphens are required",
			PRL_SHORT_MAX);
	if (!title || !*title)
		return archive_fail(a, -PRL_EINVAL, "title: a route has a title");
	if (!json_is_array(stops) || json_array_size(stops) == 0 ||
	    json_array_size(stops) > PARCOURS_STOPS_MAX)
		return archive_fail(a, -PRL_EINVAL, "stops: a list of 1 to %d stops is required",
				    PARCOURS_STOPS_MAX);
	if ((ret = parcours_find(a, *slug, &old, &version)) < 0)
		return ret;
	if (old && !replace)
		return archive_fail(a, -PRL_EEXIST, "a route '%s' exists (--replace to replace it)",
				    *slug);
	if (old) {
		if (!(st = archive_stmt(a, ST_PARCOURS_DELETE)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, old);
		if ((ret = archive_step_done(a, st, "replacing a route")) < 0)
			return ret;
	}
	if (!(st = archive_stmt(a, ST_PARCOURS_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, *slug);
	archive_bind_text(st, 2, title);
	archive_bind_text(st, 3, intro);
	sqlite3_bind_int64(st, 4, version + 1);
	if ((ret = archive_step_done(a, st, "adding a route")) < 0)
		return ret;
	route_id = sqlite3_last_insert_rowid(a->db);
	json_array_foreach(stops, i, stop)
	{
		if ((ret = stop_write(a, route_id, i, stop)) < 0)
			return ret;
	}
	return 0;
}

/* ---- what a viewer is shown ---- */

/* What the gate said of the recordings a walk over a route's stops met:
 * a route comes back to the same recordings, and each answer costs a few
 * statements.  Past HEARD_MEMO recordings the gate is asked each time. */
struct heard_memo {
	struct heard {
		int64_t rid;
		int open;	/* v may hear the recording */
		int64_t *spans; /* the passages withheld from v, start and end */
		size_t n;
	} e[HEARD_MEMO];
	size_t n;
};

static void heard_memo_release(struct heard_memo *m)
{
	for (size_t k = 0; k < m->n; k++)
		free(m->e[k].spans);
	m->n = 0;
}

/* True when viewer v may hear [start, end) of recording rid: the gate at
 * PRL_SEE_ALL, and no passage withheld from v touching the span. */
static int stop_audible(struct prl_archive *a, const struct prl_viewer *v, struct heard_memo *m,
			int64_t rid, int64_t start, int64_t end)
{
	struct heard *h = NULL, one = {0, 0, NULL, 0};
	int yes;

	for (size_t k = 0; k < m->n && !h; k++)
		if (m->e[k].rid == rid)
			h = &m->e[k];
	if (!h) {
		h = m->n < HEARD_MEMO ? &m->e[m->n++] : &one;
		h->rid = rid;
		h->spans = NULL;
		h->n = 0;
		h->open = prl_archive_recording_open(a, v, rid, PRL_SEE_ALL, NULL) == 0 &&
			  prl_archive_withheld_from(a, v, rid, &h->spans, &h->n) == 0;
	}
	yes = h->open;
	for (size_t k = 0; k < h->n && yes; k++)
		if (start < h->spans[2 * k + 1] && end > h->spans[2 * k])
			yes = 0;
	free(one.spans);
	return yes;
}

/* Appends to out the stops of route id that v may hear, as JSON objects
 * apart by commas; *shown and *hidden count them. */
static int stops_json(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      struct prl_buf *out, int *shown, int *hidden)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_STOPS);
	struct stop {
		int64_t n, rid, start, end;
		char *title, *note;
	} *stops = NULL;
	size_t count = 0, cap = 0;
	struct heard_memo memo;
	int rc, ret = 0;

	memo.n = 0;
	*shown = *hidden = 0;
	if (!st)
		return -PRL_ESQL;
	/* read them all first: the gate below runs statements of its own */
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct stop *grown =
				realloc(stops, (cap = cap ? 2 * cap : 16) * sizeof(*stops));

			if (!grown) {
				ret = -PRL_ENOMEM;
				break;
			}
			stops = grown;
		}
		stops[count].n = sqlite3_column_int64(st, 0);
		stops[count].rid = sqlite3_column_int64(st, 1);
		stops[count].start = sqlite3_column_int64(st, 2);
		stops[count].end = sqlite3_column_int64(st, 3);
		stops[count].title = archive_col_strdup(st, 4);
		stops[count].note = archive_col_strdup(st, 5);
		count++;
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = archive_sql_fail(a, "reading a route's stops");
	for (size_t i = 0; i < count; i++) {
		int audible = ret == 0 &&
			      stop_audible(a, v, &memo, stops[i].rid, stops[i].start, stops[i].end);

		if (audible && out) {
			prl_buf_addf(out,
				     "%s{\"n\":%lld,\"recording_id\":%lld,\"start_ms\":%lld,"
				     "\"end_ms\":%lld,\"title\":",
				     *shown ? "," : "", (long long)stops[i].n,
				     (long long)stops[i].rid, (long long)stops[i].start,
				     (long long)stops[i].end);
			prl_json_str(out, stops[i].title);
			prl_buf_addstr(out, ",\"note\":");
			prl_json_str(out, stops[i].note);
			ret = prl_buf_addstr(out, "}");
		}
		if (audible)
			++*shown;
		else
			++*hidden;
		free(stops[i].title);
		free(stops[i].note);
	}
	free(stops);
	heard_memo_release(&memo);
	return ret;
}

/* The route's own fields from a row of ST_PARCOURS_LIST / ST_PARCOURS_GET
 * (id, slug, title, intro, version, updated_at), without the closing brace. */
static void route_head_json(sqlite3_stmt *st, struct prl_buf *out)
{
	prl_buf_addstr(out, "{\"slug\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 1));
	prl_buf_addstr(out, ",\"title\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 2));
	prl_buf_addstr(out, ",\"intro\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 3));
	prl_buf_addf(out,
		     ",\"version\":%lld,\"updated_at\":", (long long)sqlite3_column_int64(st, 4));
	prl_json_str(out, (const char *)sqlite3_column_text(st, 5));
}

int prl_archive_parcours_list_json(struct prl_archive *a, const struct prl_viewer *v,
				   struct prl_buf *out)
{
	struct row {
		int64_t id;
		struct prl_buf head;
	} *rows = NULL;
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_LIST);
	size_t count = 0, cap = 0, listed = 0;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct row *grown =
				realloc(rows, (cap = cap ? 2 * cap : 16) * sizeof(*rows));

			if (!grown) {
				ret = -PRL_ENOMEM;
				break;
			}
			rows = grown;
		}
		rows[count].id = sqlite3_column_int64(st, 0);
		prl_buf_init(&rows[count].head);
		route_head_json(st, &rows[count].head);
		count++;
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = archive_sql_fail(a, "listing the routes");
	prl_buf_addstr(out, "{\"routes\":[");
	for (size_t i = 0; i < count; i++) {
		int shown = 0, hidden = 0;

		if (ret == 0 && (ret = stops_json(a, v, rows[i].id, NULL, &shown, &hidden)) == 0 &&
		    shown > 0) {
			prl_buf_addstr(out, listed++ ? "," : "");
			prl_buf_add(out, prl_buf_str(&rows[i].head), rows[i].head.len);
			prl_buf_addf(out, ",\"stops\":%d}", shown);
		}
		prl_buf_release(&rows[i].head);
	}
	free(rows);
	if (ret == 0)
		ret = prl_buf_addstr(out, "]}");
	return ret;
}

/* The cover recording of route id (schema 18), or 0. */
static int64_t cover_of(struct prl_archive *a, int64_t id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_SOURCE);
	int64_t cover = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		cover = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	return cover;
}

int prl_archive_parcours_json(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			      struct prl_buf *out)
{
	struct prl_buf head = PRL_BUF_INIT, stops = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc, ret = 0, shown = 0, hidden = 0;

	if (!prl_parcours_slug_valid(slug))
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug ? slug : "");
	if (!(st = archive_stmt(a, ST_PARCOURS_GET)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		route_head_json(st, &head);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading a route");
	if (ret == 0 && id)
		ret = stops_json(a, v, id, &stops, &shown, &hidden);
	/* a route with nothing v may hear does not exist for v */
	if (ret == 0 && shown == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug);
	if (ret == 0) {
		int64_t cover = cover_of(a, id);

		prl_buf_add(out, prl_buf_str(&head), head.len);
		/* the cover is one of the route's recordings, shown to those who hear it */
		if (cover > 0 && prl_archive_recording_open(a, v, cover, PRL_SEE_ALL, NULL) == 0)
			prl_buf_addf(out, ",\"cover_recording_id\":%lld", (long long)cover);
		prl_buf_addf(out, ",\"hidden\":%d,\"stops\":[", hidden);
		prl_buf_add(out, prl_buf_str(&stops), stops.len);
		ret = prl_buf_addstr(out, "]}");
	}
	prl_buf_release(&head);
	prl_buf_release(&stops);
	return ret;
}

/* ---- changes and their history ---- */

/* The stops of route id in import form into arr (a JSON array). */
static int source_stops(struct prl_archive *a, int64_t id, json_t *arr)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_STOPS);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_pack("{s:I,s:I,s:I}", "recording_id",
				      (json_int_t)sqlite3_column_int64(st, 1), "start_ms",
				      (json_int_t)sqlite3_column_int64(st, 2), "end_ms",
				      (json_int_t)sqlite3_column_int64(st, 3));

		if (!o)
			break;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(o, "title",
					    json_string((const char *)sqlite3_column_text(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(o, "note",
					    json_string((const char *)sqlite3_column_text(st, 5)));
		json_array_append_new(arr, o);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return -PRL_ENOMEM;
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "reading a route's stops");
}

/* Route id in its import form ({slug, title, intro, cover_recording_id,
 * stops: [every stop]}) in *out, the caller's reference; its version in
 * *version (or NULL). */
static int parcours_source(struct prl_archive *a, int64_t id, json_t **out, int64_t *version)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_SOURCE);
	json_t *o = NULL, *stops;
	int rc, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_pack("{s:s,s:s}", "slug", (const char *)sqlite3_column_text(st, 0),
			      "title", (const char *)sqlite3_column_text(st, 1));
		if (o && sqlite3_column_type(st, 2) != SQLITE_NULL)
			json_object_set_new(o, "intro",
					    json_string((const char *)sqlite3_column_text(st, 2)));
		if (o && sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(o, "cover_recording_id",
					    json_integer(sqlite3_column_int64(st, 3)));
		if (version)
			*version = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND, "no route %lld", (long long)id)
			       : archive_sql_fail(a, "reading a route");
	if (!o || !(stops = json_array()) || json_object_set_new(o, "stops", stops) < 0) {
		json_decref(o);
		return -PRL_ENOMEM;
	}
	if ((ret = source_stops(a, id, stops)) < 0) {
		json_decref(o);
		return ret;
	}
	*out = o;
	return 0;
}

/* 0 when v hears every stop of route src (an import form); else
 * -PRL_EACCESS naming the first one, or -PRL_ENOTFOUND when v hears none
 * and none_unknown (such a route does not exist for v).  Malformed stops
 * are left to parcours_write(). */
static int hears_all_in(struct prl_archive *a, const struct prl_viewer *v, json_t *src,
			int none_unknown, struct heard_memo *memo)
{
	size_t i, heard = 0, first = 0;
	int64_t first_rid = 0;
	json_t *stop;

	json_array_foreach(json_object_get(src, "stops"), i, stop)
	{
		json_int_t rid = json_integer_value(json_object_get(stop, "recording_id"));

		if (stop_audible(a, v, memo, rid,
				 json_integer_value(json_object_get(stop, "start_ms")),
				 json_integer_value(json_object_get(stop, "end_ms"))))
			heard++;
		else if (!first_rid) {
			first_rid = rid ? rid : -1;
			first = i;
		}
	}
	if (!first_rid)
		return 0;
	if (none_unknown && heard == 0)
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'",
				    json_string_value(json_object_get(src, "slug")));
	return archive_fail(
		a, -PRL_EACCESS,
		none_unknown ? "the route has stops you may not hear (stop %zu, recording %lld): "
			       "only staff who hear them all may change it"
			     : "stops[%zu]: recording %lld is not one you may hear",
		none_unknown ? first + 1 : first, (long long)first_rid);
}

static int hears_all(struct prl_archive *a, const struct prl_viewer *v, json_t *src,
		     int none_unknown)
{
	struct heard_memo memo;
	int ret;

	memo.n = 0;
	ret = hears_all_in(a, v, src, none_unknown, &memo);
	heard_memo_release(&memo);
	return ret;
}

/* The cover of route id from src's cover_recording_id: one of its stops'
 * recordings, or none. */
static int cover_write(struct prl_archive *a, int64_t id, json_t *src)
{
	json_t *c = json_object_get(src, "cover_recording_id"), *stop;
	sqlite3_stmt *st;
	int found = 0;
	size_t i;

	if (c && !json_is_null(c)) {
		json_array_foreach(json_object_get(src, "stops"), i, stop) found |=
			json_is_integer(c) &&
			json_integer_value(json_object_get(stop, "recording_id")) ==
				json_integer_value(c);
		if (!found)
			return archive_fail(a, -PRL_EINVAL,
					    "cover_recording_id: one of the route's recordings, "
					    "or null");
	}
	if (!(st = archive_stmt(a, ST_PARCOURS_SET_COVER)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if (found)
		sqlite3_bind_int64(st, 2, json_integer_value(c));
	return archive_step_done(a, st, "setting a route's cover");
}

static int history_add(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
		       const char *action, json_t *before, json_t *after, int64_t reverts)
{
	char *b = before ? json_dumps(before, JSON_COMPACT) : NULL;
	char *f = after ? json_dumps(after, JSON_COMPACT) : NULL;
	sqlite3_stmt *st;
	int ret;

	if ((before && !b) || (after && !f))
		ret = -PRL_ENOMEM;
	else if (!(st = archive_stmt(a, ST_PARCOURS_HISTORY_ADD)))
		ret = -PRL_ESQL;
	else {
		if (v->user_id > 0)
			sqlite3_bind_int64(st, 1, v->user_id);
		archive_bind_text(st, 2, v->user_id > 0 ? NULL : "(command line)");
		archive_bind_text(st, 3, slug);
		archive_bind_text(st, 4, action);
		archive_bind_text(st, 5, b);
		archive_bind_text(st, 6, f);
		if (reverts > 0)
			sqlite3_bind_int64(st, 7, reverts);
		ret = archive_step_done(a, st, "writing a route's history");
	}
	free(b);
	free(f);
	return ret;
}

enum change {
	CHANGE_CREATE, /* a new route: its slug is free */
	CHANGE_PUT,    /* an existing route, replaced */
	CHANGE_IMPORT, /* created, or replaced when it exists */
	CHANGE_DELETE, /* an existing route, gone */
	CHANGE_REVERT, /* back to target: created, replaced or deleted */
};

static const char *const change_action[] = {
	[CHANGE_CREATE] = "create", [CHANGE_PUT] = "update",	[CHANGE_IMPORT] = "import",
	[CHANGE_DELETE] = "delete", [CHANGE_REVERT] = "revert",
};

/* Route slug made what target (an import form, or NULL: no route) says,
 * by v, inside the caller's transaction, with its history row.
 * base_version > 0: the version the change was made on (else 409). */
static int parcours_change(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			   json_t *target, enum change how, int64_t base_version, int64_t reverts)
{
	json_t *before = NULL, *after = NULL;
	int64_t id = 0, version = 0;
	const char *written;
	sqlite3_stmt *st;
	int ret;

	if (v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins write routes");
	if ((ret = parcours_find(a, slug, &id, &version)) < 0)
		return ret;
	if (id && how == CHANGE_CREATE)
		return archive_fail(a, -PRL_EEXIST, "a route '%s' exists", slug);
	if (!id && (how == CHANGE_PUT || how == CHANGE_DELETE))
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug);
	if (id && ((ret = parcours_source(a, id, &before, NULL)) < 0 ||
		   (ret = hears_all(a, v, before, 1)) < 0))
		goto end;
	if (base_version > 0 && base_version != version) {
		ret = archive_fail(a, -PRL_ECONFLICT,
				   "the route was saved meanwhile (version %lld, not %lld): "
				   "reload it and make the change again",
				   (long long)version, (long long)base_version);
		goto end;
	}
	if (how == CHANGE_REVERT && before && target && json_equal(before, target)) {
		ret = archive_fail(a, -PRL_ECONFLICT, "the route '%s' is already as it was", slug);
		goto end;
	}
	if (target) {
		/* written first, so that a malformed stop is named as such; the
		 * transaction takes it back if v may not use a stop */
		if ((ret = parcours_write(a, target, id != 0, &written)) < 0 ||
		    (ret = hears_all(a, v, target, 0)) < 0 ||
		    (ret = parcours_find(a, slug, &id, NULL)) < 0 ||
		    (ret = cover_write(a, id, target)) < 0 ||
		    (ret = parcours_source(a, id, &after, NULL)) < 0)
			goto end;
	} else if (id) {
		if (!(st = archive_stmt(a, ST_PARCOURS_DELETE))) {
			ret = -PRL_ESQL;
			goto end;
		}
		sqlite3_bind_int64(st, 1, id);
		if ((ret = archive_step_done(a, st, "deleting a route")) < 0)
			goto end;
	} else {
		ret = archive_fail(a, -PRL_ECONFLICT, "the route '%s' is already as it was", slug);
		goto end;
	}
	ret = history_add(a, v, slug, change_action[how], before, after, reverts);
end:
	json_decref(before);
	json_decref(after);
	return ret;
}

/* A route's import form from json: the object, with slug filled in (or
 * checked) when slug is given. */
static int parse_route(struct prl_archive *a, const char *json, size_t len, const char *slug,
		       json_t **out)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr), *s;

	if (!root)
		return archive_fail(a, -PRL_EFORMAT, "line %d: %s", jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return archive_fail(a, -PRL_EFORMAT, "a route is a JSON object");
	}
	s = json_object_get(root, "slug");
	if (slug && (!s || json_is_null(s)))
		json_object_set_new(root, "slug", json_string(slug));
	else if (slug && (!json_is_string(s) || strcmp(json_string_value(s), slug))) {
		json_decref(root);
		return archive_fail(a, -PRL_EINVAL, "slug: a route's slug does not change");
	} else if (!json_is_string(s) || !prl_parcours_slug_valid(json_string_value(s))) {
		json_decref(root);
		return archive_fail(
			a, -PRL_EINVAL,
			"slug: 1 to %d lowercase letters, digits and hyphens are required",
			PRL_SHORT_MAX);
	}
	*out = root;
	return 0;
}

int prl_archive_parcours_save(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			      const char *json, size_t len, struct prl_buf *slug_out)
{
	json_t *root = NULL;
	const char *s;
	int64_t base = 0;
	int ret;

	if (slug && !prl_parcours_slug_valid(slug))
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug);
	if ((ret = parse_route(a, json, len, slug, &root)) < 0)
		return ret;
	s = json_string_value(json_object_get(root, "slug"));
	if (json_object_get(root, "version")) {
		json_t *ver = json_object_get(root, "version");

		if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
			json_decref(root);
			return archive_fail(a, -PRL_EINVAL,
					    "version: the version being edited is expected");
		}
		base = json_integer_value(ver);
	}
	if (!slug && !strcmp(s, "new")) {
		json_decref(root);
		return archive_fail(a, -PRL_EINVAL, "slug: 'new' names the page of a new route");
	}
	if ((ret = archive_edit_begin(a)) == 0)
		ret = archive_edit_end(
			a,
			parcours_change(a, v, s, root, slug ? CHANGE_PUT : CHANGE_CREATE, base, 0));
	if (ret == 0 && slug_out)
		ret = prl_buf_addstr(slug_out, s);
	json_decref(root);
	return ret;
}

int prl_archive_parcours_import(struct prl_archive *a, const char *json, size_t len, int replace,
				struct prl_buf *slug_out)
{
	const struct prl_viewer staff = PRL_VIEWER_STAFF;
	json_t *root = NULL;
	const char *s;
	int ret;

	if ((ret = parse_route(a, json, len, NULL, &root)) < 0)
		return ret;
	s = json_string_value(json_object_get(root, "slug"));
	if ((ret = archive_edit_begin(a)) == 0)
		ret = archive_edit_end(a, parcours_change(a, &staff, s, root,
							  replace ? CHANGE_IMPORT : CHANGE_CREATE,
							  0, 0));
	if (ret == -PRL_EEXIST)
		archive_fail(a, ret, "a route '%s' exists (--replace to replace it)", s);
	if (ret == 0 && slug_out)
		ret = prl_buf_addstr(slug_out, s);
	json_decref(root);
	return ret;
}

int prl_archive_parcours_remove(struct prl_archive *a, const struct prl_viewer *v, const char *slug)
{
	int ret;

	if (!prl_parcours_slug_valid(slug))
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug ? slug : "");
	if ((ret = archive_edit_begin(a)) == 0)
		ret = archive_edit_end(a, parcours_change(a, v, slug, NULL, CHANGE_DELETE, 0, 0));
	return ret;
}

int prl_archive_parcours_delete(struct prl_archive *a, const char *slug)
{
	const struct prl_viewer staff = PRL_VIEWER_STAFF;

	return prl_archive_parcours_remove(a, &staff, slug);
}

int prl_archive_parcours_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
				struct prl_buf *slug_out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_HISTORY_GET);
	json_t *target = NULL;
	char *slug = NULL, *before = NULL;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, hid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		slug = archive_col_strdup(st, 0);
		before = archive_col_strdup(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no history row %lld",
							(long long)hid)
					 : archive_sql_fail(a, "reading a route's history");
	if (!slug || (before && !(target = json_loads(before, 0, NULL))))
		ret = -PRL_ENOMEM;
	/* the row itself must be one v may read: every stop it held */
	if (ret == 0 && v->role < PRL_ROLE_ANNOTATOR)
		ret = archive_fail(a, -PRL_EACCESS, "only annotators and admins write routes");
	if (ret == 0 && target)
		ret = hears_all(a, v, target, 0);
	if (ret == 0 && (ret = archive_edit_begin(a)) == 0)
		ret = archive_edit_end(a,
				       parcours_change(a, v, slug, target, CHANGE_REVERT, 0, hid));
	if (ret == 0 && slug_out)
		ret = prl_buf_addstr(slug_out, slug);
	json_decref(target);
	free(slug);
	free(before);
	return ret;
}

/* Appends a history row's route (src, JSON text or NULL) as v is shown
 * it: null, or its slug, title, version-free fields and stop count. */
static int history_side(struct prl_archive *a, const struct prl_viewer *v, const char *src,
			struct heard_memo *memo, struct prl_buf *out)
{
	json_t *o = src ? json_loads(src, 0, NULL) : NULL;
	int ret;

	if (!o)
		return prl_buf_addstr(out, "null");
	if (hears_all_in(a, v, o, 0, memo) < 0) {
		json_decref(o);
		return 1; /* not v's to read */
	}
	prl_buf_addstr(out, "{\"title\":");
	prl_json_str(out, json_string_value(json_object_get(o, "title")));
	ret = prl_buf_addf(out, ",\"stops\":%zu}", json_array_size(json_object_get(o, "stops")));
	json_decref(o);
	return ret;
}

int prl_archive_parcours_history_json(struct prl_archive *a, const struct prl_viewer *v,
				      const char *slug, struct prl_buf *out)
{
	struct row {
		int64_t id, reverts;
		char *at, *login, *action, *before, *after;
	} rows[PRL_PARCOURS_HISTORY_MAX];
	sqlite3_stmt *st = archive_stmt(a, ST_PARCOURS_HISTORY_OF);
	struct prl_buf body = PRL_BUF_INIT; /* out gets it whole, or nothing */
	struct heard_memo memo;
	size_t n = 0, listed = 0;
	int rc, ret = 0;

	memo.n = 0;
	if (!prl_parcours_slug_valid(slug))
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug ? slug : "");
	if (v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "the history is for annotators and admins");
	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	sqlite3_bind_int(st, 2, PRL_PARCOURS_HISTORY_MAX);
	while (n < PRL_PARCOURS_HISTORY_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].at = archive_col_strdup(st, 1);
		rows[n].login = archive_col_strdup(st, 2);
		rows[n].action = archive_col_strdup(st, 3);
		rows[n].before = archive_col_strdup(st, 4);
		rows[n].after = archive_col_strdup(st, 5);
		rows[n].reverts = sqlite3_column_int64(st, 6);
		n++;
	}
	sqlite3_reset(st);
	if (n == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug);
	prl_buf_addstr(&body, "{\"slug\":");
	prl_json_str(&body, slug);
	prl_buf_addstr(&body, ",\"history\":[");
	for (size_t i = 0; i < n; i++) {
		struct prl_buf row = PRL_BUF_INIT;

		prl_buf_addf(&row, "{\"id\":%lld,\"at\":", (long long)rows[i].id);
		prl_json_str(&row, rows[i].at);
		prl_buf_addstr(&row, ",\"login\":");
		prl_json_str(&row, rows[i].login);
		prl_buf_addstr(&row, ",\"action\":");
		prl_json_str(&row, rows[i].action);
		if (rows[i].reverts > 0)
			prl_buf_addf(&row, ",\"reverts\":%lld", (long long)rows[i].reverts);
		prl_buf_addstr(&row, ",\"before\":");
		/* a row with a stop v may not hear is left out whole */
		if (ret == 0 && history_side(a, v, rows[i].before, &memo, &row) == 0 &&
		    prl_buf_addstr(&row, ",\"after\":") == 0 &&
		    history_side(a, v, rows[i].after, &memo, &row) == 0) {
			prl_buf_addstr(&body, listed++ ? "," : "");
			prl_buf_add(&body, prl_buf_str(&row), row.len);
			prl_buf_addch(&body, '}');
		}
		prl_buf_release(&row);
		free(rows[i].at);
		free(rows[i].login);
		free(rows[i].action);
		free(rows[i].before);
		free(rows[i].after);
	}
	heard_memo_release(&memo);
	if (ret == 0 && n > 0 && listed == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug);
	if (ret == 0 && (ret = prl_buf_addstr(&body, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&body), body.len);
	prl_buf_release(&body);
	return ret;
}
