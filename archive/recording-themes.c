/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A recording's themes as its JSON carries them: the themes it is tagged
 * with ({slug, name}) and, segment by segment, the slugs its segments are
 * tagged with, read once per recording and looked up by segment id.
 *
 * Always holds: only what is tagged is written; a segment without tags
 * gets no "themes" member.  Who may see the recording is decided before
 * (the JSON is built for a viewer the gate let through); nothing here
 * reads an access level.
 * Expected workload: once per recording JSON built, a handful of tags.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

int prl_archive_recording_themes_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_THEMES_OF_RECORDING);
	int rc, first = 1;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	prl_buf_addstr(out, ",\"themes\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addstr(out, first ? "{\"slug\":" : ",{\"slug\":");
		prl_json_str(out, (const char *)sqlite3_column_text(st, 0));
		prl_buf_addstr(out, ",\"name\":");
		prl_json_str(out, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addch(out, '}');
		first = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "reading a recording's themes");
	return prl_buf_addch(out, ']');
}

int archive_segment_themes_load(struct prl_archive *a, int64_t rid,
				struct archive_segment_themes *t)
{
	sqlite3_stmt *st = archive_stmt(a, ST_THEMES_OF_SEGMENTS);
	int rc, ret = 0;

	memset(t, 0, sizeof(*t));
	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 8;
			struct archive_segment_theme *grown =
				realloc(t->tags, cap * sizeof(*grown));

			if (!grown) {
				ret = -PRL_ENOMEM;
				break;
			}
			t->tags = grown;
			t->cap = cap;
		}
		t->tags[t->n].segment_id = sqlite3_column_int64(st, 0);
		if (!(t->tags[t->n].slug = archive_col_strdup(st, 1))) {
			ret = -PRL_ENOMEM;
			break;
		}
		t->n++;
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading segments' themes");
	if (ret < 0)
		archive_segment_themes_clear(t);
	return ret;
}

void archive_segment_themes_clear(struct archive_segment_themes *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->tags[i].slug);
	free(t->tags);
	memset(t, 0, sizeof(*t));
}

int archive_segment_themes_json(const struct archive_segment_themes *t, int64_t sid,
				struct prl_buf *out)
{
	size_t lo = 0, hi = t ? t->n : 0;
	int first = 1;

	/* the tags are sorted by segment: find the first of sid */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->tags[mid].segment_id < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!t || lo >= t->n || t->tags[lo].segment_id != sid)
		return 0;
	prl_buf_addstr(out, ",\"themes\":[");
	for (size_t i = lo; i < t->n && t->tags[i].segment_id == sid; i++) {
		prl_buf_addstr(out, first ? "" : ",");
		prl_json_str(out, t->tags[i].slug);
		first = 0;
	}
	return prl_buf_addch(out, ']');
}
