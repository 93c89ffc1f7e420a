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

int prl_archive_parcours_import(struct prl_archive *a, const char *json, size_t len, int replace,
				struct prl_buf *slug_out)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *slug = NULL;
	int ret;

	if (!root)
		return archive_fail(a, -PRL_EFORMAT, "line %d: %s", jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return archive_fail(a, -PRL_EFORMAT, "a route is a JSON object");
	}
	if ((ret = archive_begin(a)) == 0) {
		if ((ret = parcours_write(a, root, replace, &slug)) == 0)
			ret = archive_commit(a);
		if (ret < 0)
			archive_rollback(a);
	}
	if (ret == 0 && slug_out)
		ret = prl_buf_addstr(slug_out, slug);
	json_decref(root);
	return ret;
}

int prl_archive_parcours_delete(struct prl_archive *a, const char *slug)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int ret;

	if (!prl_parcours_slug_valid(slug) || (ret = parcours_find(a, slug, &id, NULL)) < 0 || !id)
		return archive_fail(a, -PRL_ENOTFOUND, "no route '%s'", slug ? slug : "");
	if (!(st = archive_stmt(a, ST_PARCOURS_DELETE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	return archive_step_done(a, st, "deleting a route");
}

/* ---- what a viewer is shown ---- */

/* True when viewer v may hear [start, end) of recording rid: the gate at
 * PRL_SEE_ALL, and no passage withheld from v touching the span. */
static int stop_audible(struct prl_archive *a, const struct prl_viewer *v, int64_t rid,
			int64_t start, int64_t end)
{
	int64_t *spans = NULL;
	size_t n = 0;
	int yes;

	if (prl_archive_recording_open(a, v, rid, PRL_SEE_ALL, NULL) < 0 ||
	    prl_archive_withheld_from(a, v, rid, &spans, &n) < 0)
		return 0;
	yes = 1;
	for (size_t i = 0; i < n && yes; i++)
		if (start < spans[2 * i + 1] && end > spans[2 * i])
			yes = 0;
	free(spans);
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
	int rc, ret = 0;

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
		int audible =
			ret == 0 && stop_audible(a, v, stops[i].rid, stops[i].start, stops[i].end);

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
		prl_buf_add(out, prl_buf_str(&head), head.len);
		prl_buf_addf(out, ",\"hidden\":%d,\"stops\":[", hidden);
		prl_buf_add(out, prl_buf_str(&stops), stops.len);
		ret = prl_buf_addstr(out, "]}");
	}
	prl_buf_release(&head);
	prl_buf_release(&stops);
	return ret;
}
