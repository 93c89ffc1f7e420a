/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Institutions: the depositors of a network (museums, associations,
 * archives, libraries, research centres) and their JSON.
 *
 * Always holds: a short name is lowercase ASCII letters, digits and
 * hyphens, so it goes into a URL or a shell line as it is; an archive has
 * at least one institution (schema 8 makes the first), and the first is
 * where a recording goes when nothing names its depositor.  What is
 * counted for a viewer passes through the same access levels as listings.
 * Expected workload: a few hundred institutions at most, read far more
 * often than written.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

#define FIELD_MAX 1000	      /* bytes of a name, kind, address... */
#define DESCRIPTION_MAX 16384 /* bytes of a description */

int prl_institution_short_valid(const char *s)
{
	size_t n;

	if (!s || !*s || (n = strlen(s)) > PRL_SHORT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int check_text(struct prl_archive *a, const char *field, const char *s, size_t max)
{
	if (!s)
		return 0;
	if (strlen(s) > max || !prl_utf8_valid(s, strlen(s)))
		return archive_fail(a, -PRL_EINVAL, "%s: at most %zu bytes of UTF-8", field, max);
	return 0;
}

/* Checks what c gives; adding: the short name and the name are required. */
static int check_fields(struct prl_archive *a, const struct prl_institution *c, int adding)
{
	static const char *const fields[] = {"kind", "address", "commune", "contact", "rights"};
	const char *values[] = {c->kind, c->address, c->commune, c->contact, c->rights};
	int ret;

	if ((adding || c->short_name) && !prl_institution_short_valid(c->short_name))
		return archive_fail(a, -PRL_EINVAL,
				    "a short name is 1 to %d lowercase letters, digits or '-'",
				    PRL_SHORT_MAX);
	if ((adding && !c->name) || (c->name && !*c->name))
		return archive_fail(a, -PRL_EINVAL, "an institution needs a name");
	if ((ret = check_text(a, "name", c->name, FIELD_MAX)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((ret = check_text(a, fields[i], values[i], FIELD_MAX)) < 0)
			return ret;
	if ((ret = check_text(a, "description (fr)", c->description_fr, DESCRIPTION_MAX)) < 0 ||
	    (ret = check_text(a, "description (en)", c->description_en, DESCRIPTION_MAX)) < 0 ||
	    (ret = check_text(a, "website", c->website, FIELD_MAX)) < 0)
		return ret;
	if (c->website && *c->website && strncmp(c->website, "http://", 7) != 0 &&
	    strncmp(c->website, "https://", 8) != 0)
		return archive_fail(a, -PRL_EINVAL, "website: an http:// or https:// address");
	if (c->has_coords &&
	    !(isfinite(c->lat) && isfinite(c->lon) && fabs(c->lat) <= 90 && fabs(c->lon) <= 180))
		return archive_fail(a, -PRL_EINVAL,
				    "coordinates: latitude -90 to 90, longitude -180 to 180");
	return 0;
}

/* Binds c's fields 2-12 of ST_INST_ADD and ST_INST_EDIT. */
static void bind_fields(sqlite3_stmt *st, const struct prl_institution *c)
{
	archive_bind_text(st, 2, c->name);
	archive_bind_text(st, 3, c->kind);
	archive_bind_text(st, 4, c->description_fr);
	archive_bind_text(st, 5, c->description_en);
	archive_bind_text(st, 6, c->address);
	archive_bind_text(st, 7, c->commune);
	archive_bind_text(st, 8, c->website);
	archive_bind_text(st, 9, c->contact);
	archive_bind_text(st, 10, c->rights);
	if (c->has_coords) {
		sqlite3_bind_double(st, 11, c->lat);
		sqlite3_bind_double(st, 12, c->lon);
	}
}

/* Steps a write; a UNIQUE violation is the short name taken. */
static int step_write(struct prl_archive *a, sqlite3_stmt *st, const char *short_name,
		      const char *what)
{
	int rc = sqlite3_step(st), constraint = sqlite3_errcode(a->db) == SQLITE_CONSTRAINT;

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (constraint)
		return archive_fail(a, -PRL_EEXIST, "institution '%s' already exists", short_name);
	return archive_sql_fail(a, what);
}

int prl_archive_institution_add(struct prl_archive *a, const struct prl_institution *in)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = check_fields(a, in, 1)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_INST_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, in->short_name);
	bind_fields(st, in);
	/* "" says nothing when adding: no empty strings are stored */
	{
		const char *vals[] = {in->kind,	   in->description_fr, in->description_en,
				      in->address, in->commune,	       in->website,
				      in->contact, in->rights};

		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			if (vals[i] && !*vals[i])
				sqlite3_bind_null(st, (int)i + 3);
	}
	return step_write(a, st, in->short_name, "adding an institution");
}

int prl_archive_institution_edit(struct prl_archive *a, const char *short_name,
				 const struct prl_institution *c)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = check_fields(a, c, 0)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_INST_EDIT)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, c->short_name);
	bind_fields(st, c);
	sqlite3_bind_int(st, 13, c->has_coords);
	archive_bind_text(st, 14, short_name);
	if ((ret = step_write(a, st, c->short_name ? c->short_name : short_name,
			      "changing an institution")) < 0)
		return ret;
	if (sqlite3_changes(a->db) == 0)
		return archive_fail(a, -PRL_ENOTFOUND, "no institution '%s'", short_name);
	return 0;
}

void archive_json_text_field(struct prl_buf *b, const char *key, sqlite3_stmt *st, int col)
{
	prl_buf_addf(b, ",\"%s\":", key);
	prl_json_str(b, (const char *)sqlite3_column_text(st, col));
}

/* One row of ST_INST_LIST as an object. */
static void institution_object(struct prl_buf *b, sqlite3_stmt *st)
{
	prl_buf_addstr(b, "{\"short\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 0));
	archive_json_text_field(b, "name", st, 1);
	archive_json_text_field(b, "kind", st, 2);
	prl_buf_addstr(b, ",\"description\":{\"fr\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 3));
	prl_buf_addstr(b, ",\"en\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 4));
	prl_buf_addch(b, '}');
	archive_json_text_field(b, "address", st, 5);
	archive_json_text_field(b, "commune", st, 6);
	if (sqlite3_column_type(st, 7) == SQLITE_NULL)
		prl_buf_addstr(b, ",\"lat\":null,\"lon\":null");
	else
		prl_buf_addf(b, ",\"lat\":%.6f,\"lon\":%.6f", sqlite3_column_double(st, 7),
			     sqlite3_column_double(st, 8));
	archive_json_text_field(b, "website", st, 9);
	archive_json_text_field(b, "contact", st, 10);
	archive_json_text_field(b, "rights", st, 11);
	prl_buf_addf(b, ",\"collections\":%lld,\"recordings\":%lld}",
		     (long long)sqlite3_column_int64(st, 12),
		     (long long)sqlite3_column_int64(st, 13));
}

/* The institutions (short_name NULL: all) into out; one: the object alone. */
static int institutions_json(struct prl_archive *a, const struct prl_viewer *v,
			     const char *short_name, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_INST_LIST);
	int rc, n = 0, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int(st, 1, archive_visible_level(v));
	archive_bind_text(st, 2, short_name);
	if (!short_name)
		prl_buf_addstr(&b, "{\"institutions\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++)
			prl_buf_addch(&b, ',');
		institution_object(&b, st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing institutions");
	else if (short_name && n == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no institution '%s'", short_name);
	else if (!short_name)
		ret = prl_buf_addstr(&b, "]}");
	else
		ret = 0;
	if (ret == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

int prl_archive_institutions_json(struct prl_archive *a, const struct prl_viewer *v,
				  struct prl_buf *out)
{
	return institutions_json(a, v, NULL, out);
}

int prl_archive_institution_json(struct prl_archive *a, const struct prl_viewer *v,
				 const char *short_name, struct prl_buf *out)
{
	if (!prl_institution_short_valid(short_name))
		return archive_fail(a, -PRL_ENOTFOUND, "no institution '%s'",
				    short_name ? short_name : "");
	return institutions_json(a, v, short_name, out);
}

int archive_institution_find(struct prl_archive *a, const char *short_name, int64_t *id,
			     struct prl_buf *rights)
{
	sqlite3_stmt *st = archive_stmt(a, short_name ? ST_INST_BY_SHORT : ST_INST_FIRST);
	int rc;

	if (!st)
		return -PRL_ESQL;
	if (short_name)
		archive_bind_text(st, 1, short_name);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "finding an institution");
		return archive_fail(a, -PRL_ENOTFOUND,
				    "no institution '%s' (see 'parlers institution list')",
				    short_name ? short_name : "");
	}
	*id = sqlite3_column_int64(st, 0);
	if (rights)
		prl_buf_addstr(rights, (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return 0;
}

int prl_archive_institution_id(struct prl_archive *a, const char *short_name, int64_t *id)
{
	if (!prl_institution_short_valid(short_name))
		return archive_fail(a, -PRL_ENOTFOUND, "no institution '%s'",
				    short_name ? short_name : "");
	return archive_institution_find(a, short_name, id, NULL);
}

int archive_filter_institution(struct prl_archive *a, const char *short_name)
{
	int64_t id;
	int ret;

	if (!short_name || !*short_name)
		return 0;
	if (!prl_institution_short_valid(short_name))
		return archive_fail(a, -PRL_EINVAL,
				    "no institution '%s' (see 'parlers institution list')",
				    short_name);
	ret = archive_institution_find(a, short_name, &id, NULL);
	return ret == -PRL_ENOTFOUND ? -PRL_EINVAL : ret;
}

int prl_archive_institution_first(struct prl_archive *a, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_INST_FIRST);
	int rc, ret;

	if (!st)
		return -PRL_ESQL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = prl_buf_addstr(out, (const char *)sqlite3_column_text(st, 2));
	else
		ret = rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no institution")
					: archive_sql_fail(a, "finding an institution");
	sqlite3_reset(st);
	return ret;
}

/* Appends {"collections":[...],"places":[...],"speakers":[...]} of the
 * recordings of institution inst that level lets be known. */
static int institution_facets(struct prl_archive *a, int level, int64_t inst, struct prl_buf *b)
{
	static const struct {
		const char *key;
		enum stmt_id sid;
	} facets[] = {
		{"collections", ST_INST_FACET_COLLECTIONS},
		{"places", ST_INST_FACET_PLACES},
		{"speakers", ST_INST_FACET_SPEAKERS},
	};
	sqlite3_stmt *st;
	int rc;

	prl_buf_addch(b, '{');
	for (size_t i = 0; i < sizeof(facets) / sizeof(facets[0]); i++) {
		if (!(st = archive_stmt(a, facets[i].sid)))
			return -PRL_ESQL;
		sqlite3_bind_int(st, 1, level);
		sqlite3_bind_int64(st, 2, inst);
		prl_buf_addf(b, "%s\"%s\":[", i ? "," : "", facets[i].key);
		for (int n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			prl_buf_addf(b, "%s{\"id\":%lld,\"name\":", n ? "," : "",
				     (long long)sqlite3_column_int64(st, 0));
			prl_json_str(b, (const char *)sqlite3_column_text(st, 1));
			prl_buf_addf(b, ",\"count\":%lld", (long long)sqlite3_column_int64(st, 2));
			if (facets[i].sid == ST_INST_FACET_PLACES) {
				archive_json_text_field(b, "commune", st, 3);
				if (sqlite3_column_type(st, 4) == SQLITE_NULL ||
				    sqlite3_column_type(st, 5) == SQLITE_NULL)
					prl_buf_addstr(b, ",\"lat\":null,\"lon\":null");
				else
					prl_buf_addf(b, ",\"lat\":%.6f,\"lon\":%.6f",
						     sqlite3_column_double(st, 4),
						     sqlite3_column_double(st, 5));
			}
			prl_buf_addch(b, '}');
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "counting an institution's recordings");
		prl_buf_addch(b, ']');
	}
	return prl_buf_addch(b, '}');
}

int prl_archive_institution_facets_json(struct prl_archive *a, const struct prl_viewer *v,
					const char *short_name, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int64_t inst;
	int ret;

	if (!prl_institution_short_valid(short_name))
		return archive_fail(a, -PRL_ENOTFOUND, "no institution '%s'",
				    short_name ? short_name : "");
	if ((ret = archive_institution_find(a, short_name, &inst, NULL)) < 0)
		return ret;
	if ((ret = institution_facets(a, archive_visible_level(v), inst, &b)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}
