/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Staging folders: where an ingest builds its files before they join
 * media/, and how what an interrupted ingest left is told apart from
 * damage and cleared.
 *
 * A staging folder (media/.staging-XXXXXX) is locked with flock() by the
 * run that made it for as long as that run lives; the kernel lets go of
 * the lock when the process ends, however it ends.  So a staging folder
 * whose lock can be taken belongs to a run that is over: a leftover.
 * Before moving its files into media/, a run writes their names into its
 * folder's journal (fsynced); a crash between those moves and the commit
 * leaves files in media/ that no row names, and the journal says they are
 * the interrupted run's, not damage.  A sweep removes a journal's file
 * only when no row names it: a run killed after its commit left files
 * that are the archive's now.
 *
 * A run that replaces a file a row names (rebuild: a new file renamed over
 * the old one, then the row gets its size and SHA-256) writes down first,
 * in its folder's "replaced" list (fsynced), the path and the new file's
 * size and SHA-256.  Killed between the rename and its row, it leaves a
 * file whose bytes are the new ones under a row that still has the old:
 * the list says so, fsck calls it a leftover rather than damage, and a
 * sweep that removes leftovers brings the row in step with the file (made
 * from a checked original, it is the one the run meant to record).
 *
 * Always holds: a live run's folder is never touched; an original that a
 * row names is never removed.  Workload: one sweep per ingest and per
 * fsck, a readdir of media/'s top level (at most 256 folders and the
 * staging folders of runs in flight).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-internal.h"
#include "parlers/transcode.h"

#define STAGING_PREFIX ".staging-"
#define JOURNAL "journal"
#define REPLACED "replaced"

void archive_staging_init(struct archive_staging *s)
{
	prl_buf_init(&s->dir);
	s->fd = -1;
}

int archive_staging_make(struct prl_archive *a, struct archive_staging *s, struct prl_buf *err)
{
	int ret;

	prl_buf_addf(&s->dir, "%s/" STAGING_PREFIX "XXXXXX", a->media_dir);
	if (!mkdtemp(s->dir.data)) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "cannot write to %s: %s", a->media_dir, strerror(errno));
		prl_buf_release(&s->dir);
		return ret;
	}
	/* a fresh folder no one else knows of: the lock cannot be held */
	if ((s->fd = open(s->dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
		prl_buf_addf(err, "cannot lock %s: %s", s->dir.data, strerror(errno));
		archive_staging_remove(s);
		return -PRL_EIO;
	}
	return 0;
}

int archive_staging_journal(struct archive_staging *s, const char *const *rel, size_t n,
			    struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, text = PRL_BUF_INIT;
	int fd = -1, ret = 0;

	for (size_t i = 0; i < n; i++)
		prl_buf_addf(&text, "%s\n", rel[i]);
	prl_buf_addf(&path, "%s/" JOURNAL, s->dir.data);
	if ((fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, text.data, text.len) != (ssize_t)text.len || fsync(fd) != 0) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "cannot write %s: %s", path.data, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	prl_buf_release(&path);
	prl_buf_release(&text);
	return ret;
}

int archive_staging_note_replaced(struct archive_staging *s, const char *rel, int64_t bytes,
				  const char *sha256, struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, line = PRL_BUF_INIT;
	int fd, ret = 0;

	prl_buf_addf(&line, "%s\t%lld\t%s\n", rel, (long long)bytes, sha256);
	prl_buf_addf(&path, "%s/" REPLACED, s->dir.data);
	if ((fd = open(path.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, line.data, line.len) != (ssize_t)line.len || fsync(fd) != 0) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "cannot write %s: %s", path.data, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	prl_buf_release(&path);
	prl_buf_release(&line);
	return ret;
}

/* One line of a "replaced" list: the path, the new size and SHA-256.
 * Returns 0, or -1 for a line that is not one a run writes. */
static int replaced_line(char *line, const char **rel, int64_t *bytes, const char **sha)
{
	char *t1 = strchr(line, '\t'), *t2, *end;

	if (!t1 || !(t2 = strchr(t1 + 1, '\t')))
		return -1;
	*t1 = *t2 = '\0';
	*rel = line;
	*bytes = strtoll(t1 + 1, &end, 10);
	*sha = t2 + 1;
	/* only what a run writes: media/xx/<name>, nothing that climbs */
	if (end != t2 || strncmp(line, "media/", 6) || strstr(line, "..") || strlen(*sha) != 64)
		return -1;
	return 0;
}

/* 1 when the file rel holds the bytes (bytes, sha) while the row that
 * names it has others; 0 when not; or a negative prl_err. */
static int replaced_under_old_row(struct prl_archive *a, const char *rel, int64_t bytes,
				  const char *sha)
{
	struct prl_buf abs = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_MEDIA_OF_PATH);
	uint8_t d[32];
	char hex[65];
	struct stat sb;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, rel);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = strcmp((const char *)sqlite3_column_text(st, 1), sha) != 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "looking up a media file");
	if (!ret)
		return 0;
	prl_buf_addf(&abs, "%s/%s", a->dir, rel);
	ret = stat(abs.data, &sb) == 0 && (int64_t)sb.st_size == bytes &&
	      prl_sha256_file(abs.data, d, NULL) == 0;
	if (ret) {
		prl_sha256_hex(d, hex);
		ret = strcmp(hex, sha) == 0;
	}
	prl_buf_release(&abs);
	return ret;
}

/* Brings the row naming rel in step with its file (bytes, sha). */
static int replaced_set_row(struct prl_archive *a, const char *rel, int64_t bytes, const char *sha)
{
	static const enum stmt_id ids[] = {ST_MEDIA_SET_BY_PATH, ST_WITHHELD_SET_BY_PATH};
	sqlite3_stmt *st;
	int ret = 0;

	for (size_t i = 0; i < 2 && ret == 0; i++) {
		if (!(st = archive_stmt(a, ids[i])))
			return -PRL_ESQL;
		archive_bind_text(st, 1, rel);
		sqlite3_bind_int64(st, 2, bytes);
		archive_bind_text(st, 3, sha);
		ret = archive_step_done(a, st, "bringing a replaced file's row in step");
	}
	return ret;
}

/* The files a leftover folder's "replaced" list names that hold the new
 * bytes under a row with the old ones: each is reported or, with remove,
 * its row brought in step.  Returns how many, or a negative prl_err. */
static int replaced_leftovers(struct prl_archive *a, const char *dir, int remove,
			      void (*report)(void *, const char *), void *ctx)
{
	struct prl_buf list = PRL_BUF_INIT, path = PRL_BUF_INIT;
	const char *rel, *sha;
	char *line, *next;
	int64_t bytes;
	int n = 0, k;

	prl_buf_addf(&path, "%s/" REPLACED, dir);
	if (prl_read_file(path.data, 1 << 20, &list) < 0) {
		prl_buf_release(&path);
		return 0; /* the run replaced nothing */
	}
	for (line = list.data; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (replaced_line(line, &rel, &bytes, &sha) < 0)
			continue;
		if ((k = replaced_under_old_row(a, rel, bytes, sha)) < 0) {
			n = k;
			break;
		}
		if (!k)
			continue;
		/* reported as found; when removing, nothing is removed: the
		 * row is brought in step, finishing the run's work */
		if (report && !remove)
			report(ctx, rel);
		if (remove && (k = replaced_set_row(a, rel, bytes, sha)) < 0) {
			n = k;
			break;
		}
		n++;
	}
	prl_buf_release(&list);
	prl_buf_release(&path);
	return n;
}

int archive_staging_replaced(struct prl_archive *a, const char *rel, const char *sha256)
{
	struct prl_buf list = PRL_BUF_INIT, path = PRL_BUF_INIT;
	const char *r, *sha;
	struct dirent *de;
	char *line, *next;
	int64_t bytes;
	int found = 0;
	DIR *top;

	if (!(top = opendir(a->media_dir)))
		return 0;
	while (!found && (de = readdir(top))) {
		if (strncmp(de->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)))
			continue;
		prl_buf_reset(&path);
		prl_buf_reset(&list);
		prl_buf_addf(&path, "%s/%s/" REPLACED, a->media_dir, de->d_name);
		if (prl_read_file(path.data, 1 << 20, &list) < 0)
			continue;
		for (line = list.data; !found && line && *line; line = next) {
			if ((next = strchr(line, '\n')))
				*next++ = '\0';
			found = replaced_line(line, &r, &bytes, &sha) == 0 && !strcmp(r, rel) &&
				!strcmp(sha, sha256);
		}
	}
	closedir(top);
	prl_buf_release(&list);
	prl_buf_release(&path);
	return found;
}

/* Removes the files of folder dir (it holds no folders) and dir itself. */
static void remove_flat(const char *dir)
{
	struct prl_buf p = PRL_BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			prl_buf_reset(&p);
			prl_buf_addf(&p, "%s/%s", dir, de->d_name);
			unlink(p.data);
		}
		closedir(d);
	}
	prl_buf_release(&p);
	rmdir(dir);
}

void archive_staging_remove(struct archive_staging *s)
{
	if (s->dir.len)
		remove_flat(s->dir.data);
	if (s->fd >= 0)
		close(s->fd); /* and so lets go of the lock */
	s->fd = -1;
	prl_buf_release(&s->dir);
}

/* 1 when a row names the file rel (relative to the data folder), 0 when
 * none does, or a negative prl_err. */
static int row_names(struct prl_archive *a, const char *rel)
{
	sqlite3_stmt *st = archive_stmt(a, ST_MEDIA_NAMED);
	int rc;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, rel);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "looking up a media file");
	return rc == SQLITE_ROW;
}

/* The files a leftover folder's journal lists that no row names: each is
 * reported and, with remove, deleted.  Returns how many, or a negative
 * prl_err. */
static int journal_leftovers(struct prl_archive *a, const char *dir, int remove,
			     void (*report)(void *, const char *), void *ctx)
{
	struct prl_buf journal = PRL_BUF_INIT, abs = PRL_BUF_INIT;
	char *line, *next;
	int n = 0, named;

	prl_buf_addf(&abs, "%s/" JOURNAL, dir);
	if (prl_read_file(abs.data, 1 << 20, &journal) < 0) {
		prl_buf_release(&abs);
		return 0; /* killed before it moved anything */
	}
	for (line = journal.data; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		/* only what a run writes: media/xx/<name>, nothing that climbs */
		if (strncmp(line, "media/", 6) || strstr(line, ".."))
			continue;
		if ((named = row_names(a, line)) < 0) {
			n = named;
			break;
		}
		prl_buf_reset(&abs);
		prl_buf_addf(&abs, "%s/%s", a->dir, line);
		if (named || access(abs.data, F_OK) != 0)
			continue;
		if (report)
			report(ctx, line);
		if (remove)
			unlink(abs.data);
		n++;
	}
	prl_buf_release(&journal);
	prl_buf_release(&abs);
	return n;
}

int archive_staging_sweep(struct prl_archive *a, int remove,
			  void (*report)(void *ctx, const char *rel), void *ctx)
{
	struct prl_buf dir = PRL_BUF_INIT, rel = PRL_BUF_INIT;
	struct dirent *de;
	DIR *top;
	int n = 0, k, fd;

	if (!(top = opendir(a->media_dir)))
		return 0;
	while ((de = readdir(top))) {
		if (strncmp(de->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)))
			continue;
		prl_buf_reset(&dir);
		prl_buf_addf(&dir, "%s/%s", a->media_dir, de->d_name);
		if ((fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd); /* a run in flight holds it */
			continue;
		}
		if ((k = journal_leftovers(a, dir.data, remove, report, ctx)) < 0 ||
		    (n += k, k = replaced_leftovers(a, dir.data, remove, report, ctx)) < 0) {
			close(fd);
			n = k;
			break;
		}
		n += k;
		prl_buf_reset(&rel);
		prl_buf_addf(&rel, "media/%s", de->d_name);
		if (report)
			report(ctx, rel.data);
		n++;
		if (remove)
			remove_flat(dir.data);
		close(fd);
	}
	closedir(top);
	prl_buf_release(&dir);
	prl_buf_release(&rel);
	return n;
}
