/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Deleting a recording through a trash: it leaves every way out at once
 * and can be brought back until the trash is purged.
 *
 * A deletion marks the recording (deleted_at), makes it private (the
 * level it had is kept in its trash row, and comes back with it), takes
 * its segments out of the search index, and, when a harvester could see
 * it, leaves a tombstone that OAI-PMH reports as deleted for good.  The
 * access gate (ST_REC_BRIEF), the recording JSON, listings, facets,
 * institution counts and the index all leave deleted recordings out, so
 * pages, API, media, clips, exports and IIIF follow from them.  Rows and
 * files stay untouched (fsck checks them as any other) until the purge
 * removes both: rows first, in one transaction, then the files.
 *
 * Always holds: a deletion and its history row commit together; the
 * history row is written before the recording leaves the gate (the row
 * asks the gate), a restore's after it is back.  A purge never removes a
 * file before the rows naming it are gone; a purge cut short leaves at
 * worst files nothing names, which fsck reports as stray.
 * Expected workload: a few deletions a week; a purge at each server start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"

#define REASON_MAX 2000 /* bytes */

static int may_edit(struct prl_archive *a, const struct prl_viewer *v)
{
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins may change this");
	return 0;
}

static int run_id(struct prl_archive *a, enum stmt_id sid, int64_t id, const char *what)
{
	sqlite3_stmt *st = archive_stmt(a, sid);

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	return archive_step_done(a, st, what);
}

int prl_archive_recording_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				 const char *reason, struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT, res = PRL_BUF_INIT;
	struct prl_recording_brief b;
	sqlite3_stmt *st;
	int ret;

	memset(&b, 0, sizeof(b));
	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = prl_archive_recording_open(a, v, id, PRL_MAY_WRITE, &b)) < 0)
		goto end;
	/* after the gate: whoever may not delete it learns nothing more */
	if (!reason || !reason[0] || strlen(reason) > REASON_MAX ||
	    !prl_utf8_valid(reason, strlen(reason))) {
		ret = archive_fail(a, -PRL_EINVAL,
				   "a reason is required (UTF-8 text of at most %d bytes)",
				   REASON_MAX);
		goto end;
	}
	prl_buf_addf(&before, "{\"id\":%lld,\"title\":", (long long)id);
	prl_json_str(&before, b.title);
	prl_buf_addf(&before, ",\"access\":\"%s\",\"reason\":", prl_access_name(b.access));
	prl_json_str(&before, reason);
	prl_buf_addch(&before, '}');
	/* the history row asks the gate: while the recording still passes it */
	if ((ret = archive_audit(a, v, id, 0, 0, "recording.delete", before.data, NULL, 0)) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_TRASH_ADD)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	archive_bind_text(st, 2, reason);
	if (v->user_id > 0)
		sqlite3_bind_int64(st, 3, v->user_id);
	archive_bind_text(st, 4, "(command line)");
	sqlite3_bind_int(st, 5, (int)b.access);
	if ((ret = archive_step_done(a, st, "putting a recording in the trash")) < 0 ||
	    (ret = run_id(a, ST_REINDEX_DELETE, id, "taking it out of the index")) < 0 ||
	    (ret = run_id(a, ST_TRASH_MARK, id, "deleting a recording")) < 0)
		goto end;
	/* a harvester may have seen it: it is reported deleted from now on */
	if (prl_access_decide(&PRL_VIEWER_ANONYMOUS, b.access) != PRL_SEE_NOTHING &&
	    (ret = run_id(a, ST_TOMBSTONE_ADD, id, "recording a deletion")) < 0)
		goto end;
	prl_buf_addf(&res, "{\"id\":%lld,\"deleted\":true,\"reason\":", (long long)id);
	prl_json_str(&res, reason);
	prl_buf_addch(&res, '}');
end:
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_recording_brief_clear(&b);
	prl_buf_release(&before);
	prl_buf_release(&res);
	return ret;
}

/* Brings rec_id back inside the caller's transaction (reverts: the
 * history row undone, or 0). */
static int restore(struct prl_archive *a, const struct prl_viewer *v, int64_t id, int64_t reverts)
{
	struct prl_buf after = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_TRASH_GET);
	int64_t institution;
	int access, rc, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND,
					      "recording %lld is not in the trash", (long long)id)
			       : archive_sql_fail(a, "reading the trash");
	}
	access = sqlite3_column_int(st, 4);
	institution = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	if (!prl_access_may_write(v, institution))
		return archive_fail(a, -PRL_EACCESS,
				    "recording %lld belongs to another institution: only its own "
				    "staff and the network's may restore it",
				    (long long)id);
	if (!(st = archive_stmt(a, ST_TRASH_UNMARK)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, access);
	if ((ret = archive_step_done(a, st, "restoring a recording")) < 0 ||
	    (ret = run_id(a, ST_TRASH_REMOVE, id, "emptying the trash row")) < 0 ||
	    (ret = run_id(a, ST_TOMBSTONE_REMOVE, id, "forgetting the deletion")) < 0 ||
	    (ret = archive_refresh_index_meta(a, id)) < 0 ||
	    (ret = archive_reindex_recording(a, id)) < 0)
		return ret;
	prl_buf_addf(&after, "{\"id\":%lld,\"access\":\"%s\"}", (long long)id,
		     prl_access_name((enum prl_access)access));
	ret = archive_audit(a, v, id, 0, 0, "recording.restore", NULL, after.data, reverts);
	prl_buf_release(&after);
	return ret;
}

int prl_archive_recording_restore(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				  struct prl_buf *out)
{
	int ret;

	if ((ret = may_edit(a, v)) < 0)
		return ret;
	if ((ret = archive_edit_begin(a)) < 0)
		return ret;
	ret = restore(a, v, id, 0);
	if ((ret = archive_edit_end(a, ret)) == 0)
		ret = prl_archive_recording_json(a, v, id, out);
	return ret;
}

int archive_trash_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			 int64_t rec_id, struct prl_buf *out)
{
	int ret = restore(a, v, rec_id, hid);

	if (ret == -PRL_ENOTFOUND)
		return archive_fail(a, -PRL_ECONFLICT,
				    "history entry %lld cannot be undone: the recording is no "
				    "longer in the trash",
				    (long long)hid);
	return ret == 0 ? prl_archive_recording_json(a, v, rec_id, out) : ret;
}

int prl_archive_trash_json(struct prl_archive *a, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_TRASH_LIST);
	int rc, n = 0, ret;

	if (!st)
		return -PRL_ESQL;
	prl_buf_addstr(&b, "{\"trash\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		prl_buf_addf(&b, "%s{\"id\":%lld,\"title\":", n++ ? "," : "",
			     (long long)sqlite3_column_int64(st, 0));
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 1));
		prl_buf_addstr(&b, ",\"deleted_at\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 2));
		prl_buf_addstr(&b, ",\"reason\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 3));
		prl_buf_addstr(&b, ",\"login\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(st, 4));
		prl_buf_addf(&b, ",\"access\":\"%s\",\"history_id\":%lld}",
			     prl_access_name((enum prl_access)sqlite3_column_int(st, 5)),
			     (long long)sqlite3_column_int64(st, 6));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading the trash");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* The files of rec_id (relative paths, one after another, NUL-separated)
 * appended to files, and its title into title. */
static int files_of(struct prl_archive *a, int64_t id, struct prl_buf *files, struct prl_buf *title)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TRASH_FILES);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		prl_buf_add(files, (const char *)sqlite3_column_text(st, 0),
			    (size_t)sqlite3_column_bytes(st, 0) + 1);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "listing a recording's files");
	if (!(st = archive_stmt(a, ST_TRASH_GET)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		prl_buf_addstr(title, (const char *)sqlite3_column_text(st, 6));
	sqlite3_reset(st);
	return 0;
}

/* Purges one recording: its rows in one transaction, then its files. */
static int purge_one(struct prl_archive *a, int64_t id,
		     void (*report)(void *ctx, int64_t id, const char *title), void *ctx)
{
	struct prl_buf files = PRL_BUF_INIT, title = PRL_BUF_INIT, path = PRL_BUF_INIT;
	int ret;

	if ((ret = archive_begin(a)) < 0)
		return ret;
	if ((ret = files_of(a, id, &files, &title)) == 0)
		ret = run_id(a, ST_TRASH_PURGE, id, "purging a recording");
	if (ret == 0 && (ret = archive_commit(a)) < 0)
		archive_rollback(a);
	else if (ret < 0)
		archive_rollback(a);
	for (size_t off = 0; ret == 0 && off < files.len;) {
		const char *rel = files.data + off;

		prl_buf_reset(&path);
		prl_buf_addf(&path, "%s/%s", a->dir, rel);
		if (unlink(path.data) != 0 && errno != ENOENT)
			ret = archive_fail(a, -PRL_EIO, "%s: %s", rel, strerror(errno));
		else
			ret = archive_media_forget(a, rel);
		off += strlen(rel) + 1;
	}
	if (ret == 0 && report)
		report(ctx, id, prl_buf_str(&title));
	prl_buf_release(&files);
	prl_buf_release(&title);
	prl_buf_release(&path);
	return ret;
}

int prl_archive_trash_purge(struct prl_archive *a, int days,
			    void (*report)(void *ctx, int64_t id, const char *title), void *ctx)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TRASH_EXPIRED);
	int64_t *ids = NULL, *g;
	size_t n = 0, i;
	char age[32];
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	if (days < 0)
		return archive_fail(a, -PRL_EINVAL, "the trash keeps recordings 0 days or more");
	snprintf(age, sizeof(age), "-%d days", days);
	archive_bind_text(st, 1, age);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(ids, (n + 1) * sizeof(*ids)))) {
			ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
			break;
		}
		ids = g;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "reading the trash");
	for (i = 0; ret == 0 && i < n; i++)
		ret = purge_one(a, ids[i], report, ctx);
	free(ids);
	return ret < 0 ? ret : (int)n;
}

int prl_archive_harvest_deleted(struct prl_archive *a, int64_t id, char stamp[24],
				int64_t *collection_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_TOMBSTONE_GET);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(stamp, 24, "%s", (const char *)sqlite3_column_text(st, 0));
		*collection_id = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "reading a deletion");
	return rc == SQLITE_ROW;
}
