/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Themes and the map of voices.  Themes are a controlled list staff edit
 * (a slug, a name, a description); a recording or one of its segments is
 * tagged with a theme.  The map counts, per place with coordinates, the
 * recordings a viewer may hear and their seconds of speech, under filters
 * by variety, decade, theme and institution; a place's voices list those
 * recordings.
 *
 * Always holds: what a viewer is shown (a theme's count or recordings, a
 * point of the map, a place's voices) holds only recordings the viewer
 * may hear: the level the access gate gives the viewer's role, and a
 * researcher's granted institution, bound into one WHERE (MAP_WHERE in
 * sql.c) shared by every statement here; a private or restricted
 * recording never makes a place appear for a visitor.  A tag is written
 * only for a viewer the gate lets change the recording.  A segment's tag
 * carries its recording's id so that the map filters by theme without
 * walking tiers; both go with the segment.  A filter naming nothing known
 * is refused with a sentence, never answered as an empty map.
 * Expected workload: a few dozen themes; the map's one grouped walk of up
 * to 50,000 recordings over 5,000 places per request, then cached by the
 * server.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

int prl_theme_slug_valid(const char *s)
{
	return prl_institution_short_valid(s);
}

/* 0, or -PRL_EINVAL with the field named when s is given but empty
 * (unless may_be_empty), longer than max bytes or not UTF-8. */
static int text_ok(struct prl_archive *a, const char *field, const char *s, size_t max,
		   int may_be_empty)
{
	size_t n = s ? strlen(s) : 0;

	if (!s)
		return 0;
	if ((!n && !may_be_empty) || n > max || !prl_utf8_valid(s, n))
		return archive_fail(a, -PRL_EINVAL, "%s: %s text of at most %zu bytes of UTF-8",
				    field, may_be_empty ? "a" : "a non-empty", max);
	return 0;
}

static int slug_ok(struct prl_archive *a, const char *slug)
{
	if (!slug || !prl_theme_slug_valid(slug))
		return archive_fail(a, -PRL_EINVAL,
				    "slug: 1 to %d lowercase letters, digits and hyphens",
				    PRL_SHORT_MAX);
	return 0;
}

/* The id of theme slug in *id (0 when there is none). */
static int theme_find(struct prl_archive *a, const char *slug, int64_t *id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_THEME_BY_SLUG);
	int rc;

	*id = 0;
	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding a theme");
}

static int no_theme(struct prl_archive *a, const char *slug)
{
	return archive_fail(a, -PRL_ENOTFOUND, "no theme '%.64s'",
			    slug && prl_theme_slug_valid(slug) ? slug : "");
}

int prl_archive_theme_add(struct prl_archive *a, const char *slug, const char *name,
			  const char *description)
{
	sqlite3_stmt *st;
	int64_t id;
	int ret;

	if ((ret = slug_ok(a, slug)) < 0 ||
	    (ret = text_ok(a, "name", name ? name : "", PRL_THEME_NAME_MAX, 0)) < 0 ||
	    (ret = text_ok(a, "description", description, PRL_THEME_DESC_MAX, 1)) < 0 ||
	    (ret = theme_find(a, slug, &id)) < 0)
		return ret;
	if (id)
		return archive_fail(a, -PRL_EEXIST, "a theme '%s' exists", slug);
	if (!(st = archive_stmt(a, ST_THEME_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	archive_bind_text(st, 2, name);
	archive_bind_text(st, 3, description && *description ? description : NULL);
	return archive_step_done(a, st, "adding a theme");
}

int prl_archive_theme_edit(struct prl_archive *a, const char *slug, const char *new_slug,
			   const char *name, const char *description)
{
	sqlite3_stmt *st;
	int64_t id, other;
	int ret;

	if ((ret = theme_find(a, slug && prl_theme_slug_valid(slug) ? slug : "", &id)) < 0)
		return ret;
	if (!id)
		return no_theme(a, slug);
	if ((new_slug && (ret = slug_ok(a, new_slug)) < 0) ||
	    (ret = text_ok(a, "name", name, PRL_THEME_NAME_MAX, 0)) < 0 ||
	    (ret = text_ok(a, "description", description, PRL_THEME_DESC_MAX, 1)) < 0)
		return ret;
	if (new_slug && strcmp(new_slug, slug)) {
		if ((ret = theme_find(a, new_slug, &other)) < 0)
			return ret;
		if (other)
			return archive_fail(a, -PRL_EEXIST, "a theme '%s' exists", new_slug);
	}
	if (!(st = archive_stmt(a, ST_THEME_EDIT)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	archive_bind_text(st, 2, new_slug);
	archive_bind_text(st, 3, name);
	archive_bind_text(st, 4, description && *description ? description : NULL);
	sqlite3_bind_int(st, 5, description != NULL);
	return archive_step_done(a, st, "changing a theme");
}

int prl_archive_theme_delete(struct prl_archive *a, const char *slug)
{
	sqlite3_stmt *st;
	int64_t id;
	int ret;

	if ((ret = theme_find(a, slug && prl_theme_slug_valid(slug) ? slug : "", &id)) < 0)
		return ret;
	if (!id)
		return no_theme(a, slug);
	if (!(st = archive_stmt(a, ST_THEME_DELETE)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	return archive_step_done(a, st, "deleting a theme");
}

/* The recording segment sid belongs to, in *rid (0: no such segment). */
static int segment_recording(struct prl_archive *a, int64_t sid, int64_t *rid)
{
	sqlite3_stmt *st = archive_stmt(a, ST_THEME_SEGMENT_RECORDING);
	int rc;

	*rid = 0;
	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, sid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*rid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding a segment");
}

int prl_archive_theme_tag(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			  enum prl_theme_target target, int64_t id, int untag)
{
	int64_t theme, rid = id;
	sqlite3_stmt *st;
	int ret;

	if ((ret = theme_find(a, slug && prl_theme_slug_valid(slug) ? slug : "", &theme)) < 0)
		return ret;
	if (!theme)
		return no_theme(a, slug);
	if (target == PRL_THEME_SEGMENT) {
		if ((ret = segment_recording(a, id, &rid)) < 0)
			return ret;
		if (!rid)
			return archive_fail(a, -PRL_ENOTFOUND, "no segment %lld", (long long)id);
	}
	if ((ret = prl_archive_recording_open(a, v, rid, PRL_MAY_WRITE, NULL)) < 0) {
		if (ret == -PRL_ENOTFOUND && target == PRL_THEME_SEGMENT)
			return archive_fail(a, ret, "no segment %lld", (long long)id);
		return ret;
	}
	if (target == PRL_THEME_RECORDING)
		st = archive_stmt(a, untag ? ST_THEME_UNTAG_RECORDING : ST_THEME_TAG_RECORDING);
	else
		st = archive_stmt(a, untag ? ST_THEME_UNTAG_SEGMENT : ST_THEME_TAG_SEGMENT);
	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, theme);
	sqlite3_bind_int64(st, 2, id);
	if (target == PRL_THEME_SEGMENT && !untag)
		sqlite3_bind_int64(st, 3, rid);
	return archive_step_done(a, st, untag ? "untagging" : "tagging");
}

/* ---- what a viewer is shown ---- */

/* Binds ?1 to ?3 of MAP_WHERE: the levels viewer v hears. */
static void bind_levels(sqlite3_stmt *st, const struct prl_viewer *v)
{
	int level = -1, granted = -1;

	for (int l = PRL_ACCESS_PUBLIC; l <= PRL_ACCESS_PRIVATE; l++)
		if (prl_access_decide(v, (enum prl_access)l) == PRL_SEE_ALL)
			level = l;
	/* a researcher granted one institution hears its restricted ones */
	if (v && v->role == PRL_ROLE_RESEARCHER && v->grant > 0 && level < PRL_ACCESS_RESTRICTED &&
	    prl_access_decide_in(v, PRL_ACCESS_RESTRICTED, v->grant) == PRL_SEE_ALL)
		granted = PRL_ACCESS_RESTRICTED;
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int(st, 2, granted);
	sqlite3_bind_int64(st, 3, granted >= 0 ? v->grant : 0);
}

/* Binds ?1 to ?8 of MAP_WHERE for viewer v and filter f (whose names were
 * resolved to ids: institution inst, theme theme, 0 for none). */
static void bind_where(sqlite3_stmt *st, const struct prl_viewer *v, const struct prl_map_filter *f,
		       int64_t inst, int64_t theme)
{
	char from[16], to[16];

	bind_levels(st, v);
	archive_bind_text(st, 4, f && f->variety && *f->variety ? f->variety : NULL);
	if (f && f->decade) {
		snprintf(from, sizeof(from), "%04d", f->decade);
		snprintf(to, sizeof(to), "%04d", f->decade + 10);
		archive_bind_text(st, 5, from);
		archive_bind_text(st, 6, to);
	} else {
		sqlite3_bind_null(st, 5);
		sqlite3_bind_null(st, 6);
	}
	if (inst)
		sqlite3_bind_int64(st, 7, inst);
	else
		sqlite3_bind_null(st, 7);
	if (theme)
		sqlite3_bind_int64(st, 8, theme);
	else
		sqlite3_bind_null(st, 8);
}

/* Resolves f's names to ids; -PRL_EINVAL with a sentence for one that
 * names nothing known. */
static int filter_resolve(struct prl_archive *a, const struct prl_map_filter *f, int64_t *inst,
			  int64_t *theme)
{
	sqlite3_stmt *st;
	int rc, ret;

	*inst = *theme = 0;
	if (!f)
		return 0;
	if (f->decade && (f->decade % 10 || f->decade < 1800 || f->decade > 2990))
		return archive_fail(a, -PRL_EINVAL, "decade: a year ending in 0, such as 1970");
	if (f->variety && *f->variety) {
		if (!(st = archive_stmt(a, ST_MAP_VARIETY_KNOWN)))
			return -PRL_ESQL;
		archive_bind_text(st, 1, f->variety);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return archive_sql_fail(a, "finding a variety");
		if (rc == SQLITE_DONE)
			return archive_fail(a, -PRL_EINVAL, "variety: no variety is called '%.64s'",
					    f->variety);
	}
	if (f->theme && *f->theme) {
		if ((ret = theme_find(a, prl_theme_slug_valid(f->theme) ? f->theme : "", theme)) <
		    0)
			return ret;
		if (!*theme)
			return archive_fail(a, -PRL_EINVAL, "theme: no theme '%.64s'", f->theme);
	}
	if (f->institution && *f->institution) {
		if (!prl_institution_short_valid(f->institution) ||
		    prl_archive_institution_id(a, f->institution, inst) < 0 || !*inst)
			return archive_fail(a, -PRL_EINVAL, "institution: no institution '%.64s'",
					    f->institution);
	}
	return 0;
}

/* The opening of a recording in a list (a theme's, a place's voices):
 * {"id", "title", "date", "duration_ms", "variety" from columns 0 to 4 of
 * st, after a comma unless it is the first; the caller adds the rest. */
static void voice_head(struct prl_buf *b, sqlite3_stmt *st, int first)
{
	prl_buf_addf(b, "%s{\"id\":%lld,\"title\":", first ? "" : ",",
		     (long long)sqlite3_column_int64(st, 0));
	prl_json_str(b, (const char *)sqlite3_column_text(st, 1));
	prl_buf_addstr(b, ",\"date\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 2));
	prl_buf_addf(b,
		     ",\"duration_ms\":%lld,\"variety\":", (long long)sqlite3_column_int64(st, 3));
	prl_json_str(b, (const char *)sqlite3_column_text(st, 4));
}

int prl_archive_themes_json(struct prl_archive *a, const struct prl_viewer *v, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_THEME_LIST);
	struct prl_buf b = PRL_BUF_INIT;
	int rc, first = 1, ret, staff = prl_access_may_write(v, 0);

	if (!st)
		return -PRL_ESQL;
	bind_levels(st, v);
	prl_buf_addstr(&b, "{\"themes\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(&b, first ? "{\"slug\":" : ",{\"slug\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		prl_buf_addstr(&b, ",\"name\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addstr(&b, ",\"description\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addf(&b, ",\"recordings\":%lld", (long long)sqlite3_column_int64(st, 3));
		/* what deleting the theme would untag: for those who may */
		if (staff)
			prl_buf_addf(&b, ",\"tagged\":{\"recordings\":%lld,\"segments\":%lld}",
				     (long long)sqlite3_column_int64(st, 4),
				     (long long)sqlite3_column_int64(st, 5));
		prl_buf_addch(&b, '}');
		first = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing the themes");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_theme_json(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			   int limit, struct prl_buf *out)
{
	struct prl_map_filter f = {NULL, 0, slug, NULL};
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t inst, theme, total = 0;
	int rc, ret;

	if (!slug || !prl_theme_slug_valid(slug))
		return no_theme(a, slug);
	if ((ret = filter_resolve(a, &f, &inst, &theme)) < 0)
		return ret == -PRL_EINVAL ? no_theme(a, slug) : ret;
	if (!(st = archive_stmt(a, ST_THEME_BY_SLUG)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, slug);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(&b, "{\"slug\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addstr(&b, ",\"name\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addstr(&b, ",\"description\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		prl_buf_release(&b);
		return rc == SQLITE_DONE ? no_theme(a, slug)
					 : archive_sql_fail(a, "reading a theme");
	}
	if (!(st = archive_stmt(a, ST_THEME_RECORDINGS))) {
		prl_buf_release(&b);
		return -PRL_ESQL;
	}
	bind_where(st, v, &f, inst, theme);
	sqlite3_bind_int(st, 9, limit < 1 ? 1 : limit > 1000 ? 1000 : limit);
	prl_buf_addstr(&b, ",\"recordings\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		voice_head(&b, st, total++ == 0);
		prl_buf_addstr(&b, ",\"place\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 5));
		prl_buf_addstr(&b, ",\"commune\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 6));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing a theme's recordings");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* ---- the map ---- */

/* Degrees with five decimals (a metre), as "%.5f" writes them, from whole
 * numbers: the map writes ten thousand of them, and the C library's
 * floating-point printing was a fifth of its time. */
static void add_degrees(struct prl_buf *b, double x)
{
	long long v = isfinite(x) ? llround(x * 1e5) : 0;

	prl_buf_addf(b, "%s%lld.%05lld", v < 0 ? "-" : "", llabs(v) / 100000, llabs(v) % 100000);
}

int prl_archive_map_json(struct prl_archive *a, const struct prl_viewer *v,
			 const struct prl_map_filter *f, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t inst, theme;
	int rc, ret, first = 1;

	if ((ret = filter_resolve(a, f, &inst, &theme)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_MAP_PLACES)))
		return -PRL_ESQL;
	bind_where(st, v, f, inst, theme);
	prl_buf_addstr(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(&b,
			       first ? "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
				       "\"coordinates\":["
				     : ",{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
				       "\"coordinates\":[");
		add_degrees(&b, sqlite3_column_double(st, 4));
		prl_buf_addch(&b, ',');
		add_degrees(&b, sqlite3_column_double(st, 3));
		prl_buf_addf(&b, "]},\"properties\":{\"id\":%lld,\"name\":",
			     (long long)sqlite3_column_int64(st, 0));
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			prl_buf_addstr(&b, ",\"commune\":");
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		}
		prl_buf_addf(&b, ",\"recordings\":%lld,\"seconds\":%lld}}",
			     (long long)sqlite3_column_int64(st, 5),
			     (long long)((sqlite3_column_int64(st, 6) + 500) / 1000));
		first = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading the map");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_map_decades_json(struct prl_archive *a, const struct prl_viewer *v,
				 const struct prl_map_filter *f, struct prl_buf *out)
{
	struct prl_map_filter other;
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t inst, theme;
	int rc, ret, first = 1;

	/* the decades offered beside the other filters: never by a decade */
	memset(&other, 0, sizeof(other));
	if (f) {
		other = *f;
		other.decade = 0;
	}
	if ((ret = filter_resolve(a, &other, &inst, &theme)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_MAP_DECADES)))
		return -PRL_ESQL;
	bind_where(st, v, &other, inst, theme);
	prl_buf_addstr(&b, "{\"decades\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_text(st, 0);

		/* a date that does not open with a year is no decade */
		if (!d || sqlite3_column_bytes(st, 0) != 3 || d[1] < '0' || d[1] > '9' ||
		    d[2] < '0' || d[2] > '9')
			continue;
		prl_buf_addf(&b, "%s%c%c%c0", first ? "" : ",", d[0], d[1], d[2]);
		first = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading the decades of the map");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_map_place_json(struct prl_archive *a, const struct prl_viewer *v,
			       const struct prl_map_filter *f, int64_t place_id,
			       struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t inst, theme, n = 0;
	int rc, ret;

	if ((ret = filter_resolve(a, f, &inst, &theme)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_MAP_PLACE_VOICES)))
		return -PRL_ESQL;
	bind_where(st, v, f, inst, theme);
	sqlite3_bind_int64(st, 9, place_id);
	sqlite3_bind_int(st, 10, PRL_MAP_VOICES_MAX);
	prl_buf_addf(&b, "{\"place\":%lld,\"recordings\":[", (long long)place_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		voice_head(&b, st, n++ == 0);
		prl_buf_addstr(&b, ",\"speakers\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 5));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading a place's voices");
	else if ((ret = prl_buf_addf(&b, "],\"total\":%lld}", (long long)n)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
