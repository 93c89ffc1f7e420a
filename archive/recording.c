/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reading recordings: the JSON that the command line (`list --json`,
 * `show --json`) and the HTTP API print alike, and the facts the other
 * modules need.  Every answer passes through prl_access_decide(): a
 * recording a viewer may not know of is never counted, listed or shown.
 *
 * Expected workload: listings of up to a few hundred recordings and
 * single recordings with a few thousand segments, many times a second from
 * the web server; every statement is prepared once per handle.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

/* ,"origin":"machine"|null and, for a tier a tool made (machine.c; still
 * so, or reviewed since), ,"origin_tool" and ,"origin_settings" from
 * columns col.. of a tier row (ST_TIERS_OF). */
static void machine_tier_json(sqlite3_stmt *st, int col, struct prl_buf *out)
{
	const char *settings = (const char *)sqlite3_column_text(st, col + 2);

	prl_buf_addstr(out, ",\"origin\":");
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(out, "null");
	else
		prl_json_str(out, (const char *)sqlite3_column_text(st, col));
	if (sqlite3_column_type(st, col + 1) == SQLITE_NULL)
		return;
	prl_buf_addstr(out, ",\"origin_tool\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, col + 1));
	/* written by this file from the tool's own JSON writer */
	prl_buf_addf(out, ",\"origin_settings\":%s", settings && *settings ? settings : "null");
}

/* The same for a segment row (origin, confidence, doubtful from col). */
static void machine_segment_json(sqlite3_stmt *st, int col, struct prl_buf *out)
{
	prl_buf_addstr(out, ",\"origin\":");
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		prl_buf_addstr(out, "null");
		return;
	}
	prl_json_str(out, (const char *)sqlite3_column_text(st, col));
	if (sqlite3_column_type(st, col + 1) != SQLITE_NULL)
		prl_buf_addf(out, ",\"confidence\":%.2f", sqlite3_column_double(st, col + 1));
	prl_buf_addf(out, ",\"doubtful\":%s", sqlite3_column_int(st, col + 2) ? "true" : "false");
}

static void add_num(struct prl_buf *out, const char *key, sqlite3_stmt *st, int col, int real)
{
	prl_buf_addf(out, ",\"%s\":", key);
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		prl_buf_addstr(out, "null");
	else if (real)
		prl_buf_addf(out, "%.2f", sqlite3_column_double(st, col));
	else
		prl_buf_addf(out, "%lld", (long long)sqlite3_column_int64(st, col));
}

static void add_str(struct prl_buf *out, const char *key, sqlite3_stmt *st, int col)
{
	prl_buf_addf(out, ",\"%s\":", key);
	prl_json_str(out, (const char *)sqlite3_column_text(st, col));
}

/* all: 1 for a viewer who reads withheld passages, else those are left out */
static int write_segments(struct prl_archive *a, int64_t tier_id, int all,
			  const struct archive_segment_themes *themes, struct prl_buf *out)
{
	sqlite3_stmt *ss = archive_stmt(a, all ? ST_SEGMENTS_OF_TIER : ST_SEGMENTS_OF_TIER_SHOWN);
	int rc, first = 1;

	if (!ss)
		return -PRL_ESQL;
	sqlite3_bind_int64(ss, 1, tier_id);
	while ((rc = sqlite3_step(ss)) == SQLITE_ROW) {
		prl_buf_addf(out, "%s{\"id\":%lld,\"start_ms\":%lld,\"end_ms\":%lld,\"text\":",
			     first ? "" : ",", (long long)sqlite3_column_int64(ss, 0),
			     (long long)sqlite3_column_int64(ss, 1),
			     (long long)sqlite3_column_int64(ss, 2));
		prl_json_str(out, (const char *)sqlite3_column_text(ss, 3));
		add_num(out, "parent_id", ss, 4, 0);
		add_num(out, "version", ss, 9, 0);
		machine_segment_json(ss, 10, out);
		archive_segment_themes_json(themes, sqlite3_column_int64(ss, 0), out);
		prl_buf_addch(out, '}');
		first = 0;
	}
	sqlite3_reset(ss);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "listing segments");
}

/* Tiers with their segments.  The tier rows are read first (a recording
 * has a handful), then each tier's segments, one statement at a time. */
static int write_tiers(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		       struct prl_buf *out)
{
	struct archive_segment_themes themes;
	struct prl_buf *heads = NULL, *g;
	sqlite3_stmt *st;
	int64_t *tids = NULL, *gi;
	size_t n = 0, i;
	int rc, ret = 0;

	if ((ret = archive_segment_themes_load(a, id, &themes)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_TIERS_OF))) {
		archive_segment_themes_clear(&themes);
		return -PRL_ESQL;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct prl_buf *h;

		g = realloc(heads, (n + 1) * sizeof(*heads));
		if (g)
			heads = g;
		gi = realloc(tids, (n + 1) * sizeof(*tids));
		if (gi)
			tids = gi;
		if (!g || !gi) {
			ret = -PRL_ENOMEM;
			break;
		}
		h = &heads[n];
		prl_buf_init(h);
		tids[n++] = sqlite3_column_int64(st, 0);
		prl_buf_addf(h, "{\"id\":%lld,\"name\":", (long long)tids[n - 1]);
		prl_json_str(h, (const char *)sqlite3_column_text(st, 1));
		add_str(h, "type", st, 2);
		add_str(h, "language", st, 3);
		prl_buf_addstr(h, ",\"speaker\":");
		prl_json_str(h, (const char *)(sqlite3_column_type(st, 11) != SQLITE_NULL
						       ? sqlite3_column_text(st, 11)
						       : sqlite3_column_text(st, 4)));
		add_num(h, "parent_id", st, 7, 0);
		prl_buf_addstr(h, ",\"constraint\":");
		prl_json_str(h, prl_annot_constraint_name(
					(enum prl_constraint)sqlite3_column_int(st, 8)));
		prl_buf_addf(h, ",\"point\":%s", sqlite3_column_int(st, 9) ? "true" : "false");
		machine_tier_json(st, 14, h);
		prl_buf_addstr(h, ",\"segments\":[");
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing tiers");
	prl_buf_addstr(out, ",\"tiers\":[");
	for (i = 0; ret == 0 && i < n; i++) {
		prl_buf_addstr(out, i ? "," : "");
		prl_buf_add(out, heads[i].data, heads[i].len);
		if ((ret = write_segments(a, tids[i], prl_access_sees_withheld(v), &themes, out)) ==
		    0)
			prl_buf_addstr(out, "]}");
	}
	prl_buf_addch(out, ']');
	for (i = 0; i < n; i++)
		prl_buf_release(&heads[i]);
	free(heads);
	free(tids);
	archive_segment_themes_clear(&themes);
	return ret;
}

/* One recording object. with_tiers: 1 to add tiers when the viewer may read. */
/* ,"place":{id, name, commune, lat, lon} or null, from columns 4-8 of
 * ST_REC_FULL. */
static void write_place(struct prl_buf *out, sqlite3_stmt *st)
{
	prl_buf_addstr(out, ",\"place\":");
	if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
		prl_buf_addstr(out, "null");
		return;
	}
	prl_buf_addf(out, "{\"id\":%lld", (long long)sqlite3_column_int64(st, 4));
	add_str(out, "name", st, 5);
	add_str(out, "commune", st, 6);
	prl_buf_addf(out, ",\"lat\":");
	if (sqlite3_column_type(st, 7) == SQLITE_NULL)
		prl_buf_addstr(out, "null,\"lon\":null");
	else
		prl_buf_addf(out, "%.6f,\"lon\":%.6f", sqlite3_column_double(st, 7),
			     sqlite3_column_double(st, 8));
	prl_buf_addch(out, '}');
}

/* ,"speakers":[...] of recording id. */
static int write_speakers(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_REC_SPEAKERS);
	int first = 1, rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	prl_buf_addstr(out, ",\"speakers\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(out, "%s{\"id\":%lld,\"name\":", first ? "" : ",",
			     (long long)sqlite3_column_int64(st, 0));
		prl_json_str(out, (const char *)sqlite3_column_text(st, 1));
		add_str(out, "role", st, 2);
		add_num(out, "birth_year", st, 3, 0);
		add_str(out, "sex", st, 4);
		add_str(out, "occupation", st, 5);
		add_str(out, "origin", st, 6);
		prl_buf_addf(out, ",\"pseudonym\":%s}",
			     sqlite3_column_int(st, 7) ? "true" : "false");
		first = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "reading speakers");
	prl_buf_addch(out, ']');
	return 0;
}

static int write_recording(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			   int with_tiers, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_REC_FULL);
	enum prl_visibility vis;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "reading a recording");
		return archive_fail(a, -PRL_ENOTFOUND, "no recording %lld", (long long)id);
	}
	vis = prl_access_decide_in(v, (enum prl_access)sqlite3_column_int(st, 11),
				   sqlite3_column_int64(st, 35));
	if (vis == PRL_SEE_NOTHING) {
		sqlite3_reset(st);
		return archive_fail(a, -PRL_ENOTFOUND, "no recording %lld", (long long)id);
	}
	prl_buf_addf(out, "{\"id\":%lld", (long long)id);
	add_str(out, "title", st, 1);
	add_str(out, "date", st, 2);
	add_str(out, "collection", st, 3);
	add_num(out, "collection_id", st, 30, 0);
	write_place(out, st);
	add_str(out, "variety", st, 9);
	add_str(out, "language", st, 10);
	prl_buf_addf(out, ",\"access\":\"%s\"",
		     prl_access_name((enum prl_access)sqlite3_column_int(st, 11)));
	add_num(out, "duration_ms", st, 12, 0);
	add_num(out, "sample_rate", st, 13, 0);
	add_num(out, "channels", st, 14, 0);
	add_num(out, "bits_per_sample", st, 26, 0);
	add_str(out, "sha256", st, 15);
	add_str(out, "original_name", st, 16);
	add_str(out, "original_format", st, 17);
	add_str(out, "original_codec", st, 27);
	add_num(out, "loudness_lufs", st, 18, 1);
	add_num(out, "loudness_range_lu", st, 24, 1);
	add_num(out, "true_peak_dbtp", st, 19, 1);
	add_num(out, "gain_db", st, 25, 1);
	add_str(out, "collector", st, 20);
	add_str(out, "device", st, 31);
	prl_buf_addstr(out, ",\"institution\":{\"short\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 32));
	add_str(out, "name", st, 33);
	prl_buf_addch(out, '}');
	add_str(out, "description", st, 21);
	prl_buf_addstr(out, ",\"keywords\":");
	/* stored as a JSON array by ingest, so it goes out as is */
	prl_buf_addstr(out, sqlite3_column_type(st, 22) == SQLITE_NULL
				    ? "[]"
				    : (const char *)sqlite3_column_text(st, 22));
	add_str(out, "rights", st, 23);
	add_str(out, "ingested_at", st, 28);
	add_str(out, "updated_at", st, 29);
	add_num(out, "version", st, 34, 0);
	prl_buf_addf(out, ",\"can_listen\":%s", vis == PRL_SEE_ALL ? "true" : "false");
	sqlite3_reset(st);

	if ((ret = write_speakers(a, id, out)) < 0 ||
	    (ret = prl_archive_recording_themes_json(a, id, out)) < 0)
		return ret;
	if (with_tiers && vis == PRL_SEE_ALL) {
		if ((ret = write_tiers(a, v, id, out)) < 0)
			return ret;
		prl_buf_addstr(out, ",\"withheld\":");
		if ((ret = archive_withheld_json(a, v, id, out)) < 0)
			return ret;
		prl_buf_addstr(out, ",\"progress\":");
		if ((ret = archive_progress_of_recording(a, v, id, out)) < 0)
			return ret;
	} else if (with_tiers) {
		prl_buf_addstr(out, ",\"tiers\":[]");
	}
	return prl_buf_addch(out, '}');
}

int prl_archive_recording_json(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int ret;

	if ((ret = write_recording(a, v, id, 1, &b)) < 0) {
		prl_buf_release(&b);
		return ret;
	}
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

static void bind_filter(sqlite3_stmt *st, const struct prl_viewer *v,
			const struct prl_recording_filter *f)
{
	sqlite3_bind_int(st, 1, archive_visible_level(v));
	archive_bind_text(st, 2, f->place && f->place[0] ? f->place : NULL);
	archive_bind_text(st, 3, f->speaker && f->speaker[0] ? f->speaker : NULL);
	archive_bind_text(st, 4, f->variety && f->variety[0] ? f->variety : NULL);
	archive_bind_text(st, 5, f->collection && f->collection[0] ? f->collection : NULL);
	archive_bind_text(st, 8, f->institution && f->institution[0] ? f->institution : NULL);
}

int prl_archive_list_json(struct prl_archive *a, const struct prl_viewer *v,
			  const struct prl_recording_filter *f, struct prl_buf *out)
{
	static const struct prl_recording_filter none;
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *cnt, *page;
	int64_t total = 0, limit, offset, *ids = NULL;
	size_t nids = 0, i;
	int rc, ret = -PRL_ESQL;

	if (!f)
		f = &none;
	if ((ret = archive_filter_institution(a, f->institution)) < 0)
		return ret;
	/* an institution's recordings alone: from their own index */
	if (f->institution && *f->institution && !(f->place && *f->place) &&
	    !(f->speaker && *f->speaker) && !(f->variety && *f->variety) &&
	    !(f->collection && *f->collection))
		return prl_archive_institution_recordings_json(a, v, f->institution, f->offset,
							       f->limit, out);
	ret = -PRL_ESQL;
	limit = f->limit > 0 ? (f->limit > 500 ? 500 : f->limit) : 50;
	offset = f->offset > 0 ? f->offset : 0;
	if (!(cnt = archive_stmt(a, ST_LIST_COUNT)))
		goto end;
	bind_filter(cnt, v, f);
	if (sqlite3_step(cnt) != SQLITE_ROW) {
		sqlite3_reset(cnt);
		archive_sql_fail(a, "counting recordings");
		goto end;
	}
	total = sqlite3_column_int64(cnt, 0);
	sqlite3_reset(cnt);
	if (!(page = archive_stmt(a, ST_LIST_PAGE)))
		goto end;
	bind_filter(page, v, f);
	sqlite3_bind_int64(page, 6, limit);
	sqlite3_bind_int64(page, 7, offset);
	if (!(ids = malloc((size_t)limit * sizeof(*ids)))) {
		sqlite3_reset(page);
		ret = -PRL_ENOMEM;
		goto end;
	}
	while ((rc = sqlite3_step(page)) == SQLITE_ROW && nids < (size_t)limit)
		ids[nids++] = sqlite3_column_int64(page, 0);
	sqlite3_reset(page);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		archive_sql_fail(a, "listing recordings");
		goto end;
	}
	prl_buf_addf(&b, "{\"total\":%lld,\"offset\":%lld,\"limit\":%lld,\"recordings\":[",
		     (long long)total, (long long)offset, (long long)limit);
	for (i = 0; i < nids; i++) {
		if (i)
			prl_buf_addch(&b, ',');
		if ((ret = write_recording(a, v, ids[i], 0, &b)) < 0)
			goto end;
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	free(ids);
	prl_buf_release(&b);
	return ret;
}

int archive_recording_listed(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			     struct prl_buf *out)
{
	return write_recording(a, v, id, 0, out);
}

int archive_recording_brief(struct prl_archive *a, int64_t id, struct prl_recording_brief *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_REC_BRIEF);
	struct prl_recording_brief b;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return archive_sql_fail(a, "reading a recording");
		return archive_fail(a, -PRL_ENOTFOUND, "no recording %lld", (long long)id);
	}
	memset(&b, 0, sizeof(b));
	b.id = sqlite3_column_int64(st, 0);
	b.title = archive_col_strdup(st, 1);
	b.access = (enum prl_access)sqlite3_column_int(st, 2);
	b.duration_ms = sqlite3_column_int64(st, 3);
	b.sample_rate = sqlite3_column_int(st, 4);
	b.channels = sqlite3_column_int(st, 5);
	snprintf(b.sha256, sizeof(b.sha256), "%s", (const char *)sqlite3_column_text(st, 6));
	b.original_name = archive_col_strdup(st, 7);
	b.institution_id = sqlite3_column_int64(st, 8);
	sqlite3_reset(st);
	*out = b;
	return 0;
}

int prl_archive_recording_open(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       enum prl_visibility need, struct prl_recording_brief *out)
{
	struct prl_recording_brief b;
	enum prl_visibility vis;
	int ret;

	if ((ret = archive_recording_brief(a, id, &b)) < 0)
		return ret;
	vis = prl_access_decide_in(v, b.access, b.institution_id);
	if (vis == PRL_SEE_NOTHING)
		ret = archive_fail(a, -PRL_ENOTFOUND, "no recording %lld", (long long)id);
	else if (vis < need && need <= PRL_SEE_ALL)
		ret = archive_fail(a, -PRL_EACCESS, "recording %lld is restricted", (long long)id);
	else if (need == PRL_MAY_WRITE && v && v->role >= PRL_ROLE_ANNOTATOR &&
		 !prl_access_may_write(v, b.institution_id))
		ret = archive_fail(a, -PRL_EACCESS,
				   "recording %lld belongs to another institution: only its own "
				   "staff and the network's may change it",
				   (long long)id);
	else if (need == PRL_MAY_WRITE && !prl_access_may_write(v, b.institution_id))
		ret = archive_fail(a, -PRL_EACCESS, "only annotators and admins may change this");
	if (ret < 0 || !out)
		prl_recording_brief_clear(&b);
	else
		*out = b;
	return ret;
}

void prl_recording_brief_clear(struct prl_recording_brief *b)
{
	if (!b)
		return;
	free(b->title);
	free(b->original_name);
	memset(b, 0, sizeof(*b));
}

int prl_archive_facets_json(struct prl_archive *a, const struct prl_viewer *v, struct prl_buf *out)
{
	static const struct {
		const char *key;
		enum stmt_id sid;
	} facets[] = {
		{"collections", ST_FACET_COLLECTIONS},
		{"places", ST_FACET_PLACES},
		{"speakers", ST_FACET_SPEAKERS},
		{"varieties", ST_FACET_VARIETIES},
	};
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	size_t i;
	int rc, first, ret = -PRL_ESQL;

	prl_buf_addch(&b, '{');
	for (i = 0; i < sizeof(facets) / sizeof(facets[0]); i++) {
		if (!(st = archive_stmt(a, facets[i].sid)))
			goto end;
		sqlite3_bind_int(st, 1, archive_visible_level(v));
		prl_buf_addf(&b, "%s\"%s\":[", i ? "," : "", facets[i].key);
		first = 1;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			prl_buf_addstr(&b, first ? "{" : ",{");
			first = 0;
			if (sqlite3_column_type(st, 0) != SQLITE_NULL)
				prl_buf_addf(&b, "\"id\":%lld,",
					     (long long)sqlite3_column_int64(st, 0));
			prl_buf_addstr(&b, "\"name\":");
			prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
			prl_buf_addf(&b, ",\"count\":%lld", (long long)sqlite3_column_int64(st, 2));
			if (i == 1) {
				add_str(&b, "commune", st, 3);
				add_num(&b, "lat", st, 4, 1);
				/* coordinates want more than two decimals */
				if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
					b.len -= strlen(strrchr(b.data, ':') + 1);
					prl_buf_addf(&b, "%.6f,\"lon\":%.6f",
						     sqlite3_column_double(st, 4),
						     sqlite3_column_double(st, 5));
				} else {
					prl_buf_addstr(&b, ",\"lon\":null");
				}
			}
			prl_buf_addch(&b, '}');
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			archive_sql_fail(a, "counting");
			goto end;
		}
		prl_buf_addch(&b, ']');
	}
	prl_buf_addch(&b, '}');
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	prl_buf_release(&b);
	return ret;
}

/* ---- an institution's recordings, listed as the home page lists them ---- */

int prl_archive_institution_recordings_json(struct prl_archive *a, const struct prl_viewer *v,
					    const char *short_name, int64_t offset, int64_t limit,
					    struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	int64_t inst, total = 0, *ids = NULL;
	int level = archive_visible_level(v), rc, ret;
	size_t n = 0;
	sqlite3_stmt *st;

	if ((ret = prl_archive_institution_id(a, short_name, &inst)) < 0)
		return ret;
	limit = limit > 0 ? (limit > 500 ? 500 : limit) : 50;
	offset = offset > 0 ? offset : 0;
	if (!(st = archive_stmt(a, ST_INST_RECORDINGS_COUNT)))
		return -PRL_ESQL;
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int64(st, 2, inst);
	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_INST_RECORDINGS_PAGE)))
		goto end;
	if (!(ids = malloc((size_t)limit * sizeof(*ids)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int64(st, 2, inst);
	sqlite3_bind_int64(st, 3, limit);
	sqlite3_bind_int64(st, 4, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < (size_t)limit)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		archive_sql_fail(a, "listing an institution's recordings");
		goto end;
	}
	prl_buf_addf(&b, "{\"total\":%lld,\"offset\":%lld,\"limit\":%lld,\"recordings\":[",
		     (long long)total, (long long)offset, (long long)limit);
	for (size_t i = 0; i < n; i++) {
		if (i)
			prl_buf_addch(&b, ',');
		if ((ret = archive_recording_listed(a, v, ids[i], &b)) < 0)
			goto end;
	}
	prl_buf_addstr(&b, "]}");
	ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	free(ids);
	prl_buf_release(&b);
	return ret;
}
