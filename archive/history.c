/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The change path's transactions and its history rows: every change to
 * annotations, access levels and withheld spans (edit.c, withheld.c,
 * annotations.c) runs between archive_edit_begin() and archive_edit_end()
 * and writes its row with archive_audit() inside that transaction;
 * archive_audit() asks the write gate (prl_archive_recording_open() with
 * PRL_MAY_WRITE) for the recording, so a change no one may make never
 * commits, whichever path made it.
 *
 * Always holds: a change and its history row commit together or not at
 * all; while a change runs the connection is at synchronous=FULL (an
 * acknowledged edit survives a power cut), and it is back at NORMAL once
 * the change has committed or rolled back.
 * Expected workload: a few changes a second; one fsync of the WAL each.
 */
#include "archive-internal.h"

/* ---- transactions of the edit path ---- */

static int pragma(struct prl_archive *a, enum stmt_id id)
{
	sqlite3_stmt *st = archive_stmt(a, id);

	return st ? archive_step_done(a, st, "setting durability") : -PRL_ESQL;
}

int archive_edit_begin(struct prl_archive *a)
{
	int ret;

	if ((ret = pragma(a, ST_SYNC_FULL)) < 0)
		return ret;
	if ((ret = archive_begin(a)) < 0)
		pragma(a, ST_SYNC_NORMAL);
	return ret;
}

/* Commits when ret is 0, else rolls back; gives ret or the commit's error. */
int archive_edit_end(struct prl_archive *a, int ret)
{
	if (ret == 0 && (ret = archive_commit(a)) < 0)
		archive_rollback(a);
	else if (ret < 0)
		archive_rollback(a);
	pragma(a, ST_SYNC_NORMAL);
	return ret;
}

/* ---- the history ---- */

int archive_audit(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
		  int64_t tier_id, int64_t seg_id, const char *action, const char *before,
		  const char *after, int64_t reverts)
{
	sqlite3_stmt *st;
	int ret;

	/* the write gate, asked again by every change as it writes its row:
	 * a change whose row is refused rolls back, so no write path, old
	 * or new, commits a change its author may not make */
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL)) < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_AUDIT_ADD)))
		return -PRL_ESQL;
	if (v && v->user_id > 0)
		sqlite3_bind_int64(st, 1, v->user_id);
	/* no account: the command line, acting as staff on the archive's machine */
	archive_bind_text(st, 2, v && v->user_id > 0 ? NULL : "(command line)");
	sqlite3_bind_int64(st, 3, rec_id);
	if (tier_id > 0)
		sqlite3_bind_int64(st, 4, tier_id);
	if (seg_id > 0)
		sqlite3_bind_int64(st, 5, seg_id);
	archive_bind_text(st, 6, action);
	archive_bind_text(st, 7, before);
	archive_bind_text(st, 8, after);
	if (reverts > 0)
		sqlite3_bind_int64(st, 9, reverts);
	archive_bind_text(st, 10, a->audit_contributor);
	return archive_step_done(a, st, "writing the history");
}
