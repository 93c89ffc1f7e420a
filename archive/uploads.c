/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Uploads: the rows and files of recordings sent from the browser in
 * pieces (the web's tus endpoint writes the bytes; this file keeps what is
 * known of them), their expiry, and their ingest.
 *
 * An upload's file is DIR/uploads/ID, outside media/: it is not the
 * archive's yet, so fsck, backups and the staging sweeps never see it, and
 * it outlives a restart of the server (an upload resumes a day later).
 * The row's offset is what was stored and hashed; the file may hold more
 * after a crash, and the writer cuts it back to the offset before it
 * appends.  Ingesting an upload gives the file its name in a folder of its
 * own (DIR/uploads/ID.d, a hard link, and the sidecar written as
 * NAME.json), runs the ingest every other file goes through, and removes
 * the folder whatever happens.
 *
 * Always holds: a file of uploads/ that no row names is removed by the
 * next sweep; an upload past its age limit is never served, even before a
 * sweep removes it.  Workload: a handful of uploads at a time, a row write
 * per request of bytes, a sweep every few minutes over a small folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive-internal.h"
#include <jansson.h>

#include "parlers/jobs.h"
#include "parlers/transcode.h"

_Static_assert(PRL_UPLOAD_STATE_SIZE == PRL_SHA256_STATE_SIZE,
	       "an upload keeps a SHA-256 state as transcode saves it");

#define UPLOADS "uploads"

int prl_upload_filename_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 255 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/' ||
		    name[i] == '\\')
			return 0;
	return prl_utf8_valid(name, n);
}

static int uploads_dir(struct prl_archive *a, struct prl_buf *out)
{
	return prl_buf_addf(out, "%s/" UPLOADS, a->dir);
}

int prl_upload_path(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	return prl_buf_addf(out, "%s/" UPLOADS "/%lld", a->dir, (long long)id);
}

int prl_upload_create(struct prl_archive *a, int64_t length, const char *filename, int64_t user_id,
		      int64_t *id)
{
	struct prl_buf path = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t new_id;
	int fd, ret;

	if (length < 0 || !prl_upload_filename_valid(filename))
		return archive_fail(a, -PRL_EINVAL, "not a file name or a length");
	uploads_dir(a, &path);
	if (mkdir(path.data, 0755) != 0 && errno != EEXIST) {
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
				   "cannot make %s: %s", path.data, strerror(errno));
		goto end;
	}
	if (!(st = archive_stmt(a, ST_UPLOAD_ADD))) {
		ret = -PRL_ESQL;
		goto end;
	}
	sqlite3_bind_int64(st, 1, length);
	archive_bind_text(st, 2, filename);
	if (user_id > 0)
		sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	if ((ret = archive_step_done(a, st, "recording an upload")) < 0)
		goto end;
	new_id = sqlite3_last_insert_rowid(a->db);
	prl_buf_reset(&path);
	prl_upload_path(a, new_id, &path);
	/* a file left by a crash under the same number is not this upload's */
	unlink(path.data);
	if ((fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
				   "cannot make %s: %s", path.data, strerror(errno));
		if ((st = archive_stmt(a, ST_UPLOAD_DELETE))) {
			sqlite3_bind_int64(st, 1, new_id);
			archive_step_done(a, st, "forgetting an upload");
		}
		goto end;
	}
	close(fd);
	*id = new_id;
end:
	prl_buf_release(&path);
	return ret;
}

int prl_upload_get(struct prl_archive *a, int64_t id, int64_t max_age_s, struct prl_upload *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_UPLOAD_GET);
	const char *name;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, max_age_s > 0 ? (int64_t)time(NULL) - max_age_s : INT64_MIN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = archive_fail(a, -PRL_ENOTFOUND, "no such upload");
		goto end;
	}
	if (rc != SQLITE_ROW) {
		ret = archive_sql_fail(a, "reading an upload");
		goto end;
	}
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->length = sqlite3_column_int64(st, 1);
	out->offset = sqlite3_column_int64(st, 2);
	out->user_id = sqlite3_column_int64(st, 3);
	out->created = sqlite3_column_int64(st, 4);
	name = (const char *)sqlite3_column_text(st, 5);
	snprintf(out->filename, sizeof(out->filename), "%s", name ? name : "");
	if (sqlite3_column_bytes(st, 6) == PRL_UPLOAD_STATE_SIZE) {
		memcpy(out->state, sqlite3_column_blob(st, 6), PRL_UPLOAD_STATE_SIZE);
		out->has_state = 1;
	}
end:
	sqlite3_reset(st);
	return ret;
}

int prl_upload_advance(struct prl_archive *a, int64_t id, int64_t offset,
		       const unsigned char state[PRL_UPLOAD_STATE_SIZE])
{
	sqlite3_stmt *st = archive_stmt(a, ST_UPLOAD_ADVANCE);
	int ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, offset);
	sqlite3_bind_blob(st, 3, state, PRL_UPLOAD_STATE_SIZE, SQLITE_TRANSIENT);
	if ((ret = archive_step_done(a, st, "recording an upload's progress")) < 0)
		return ret;
	return sqlite3_changes(a->db) == 1 ? 0 : archive_fail(a, -PRL_ENOTFOUND, "no such upload");
}

int prl_upload_remove(struct prl_archive *a, int64_t id)
{
	struct prl_buf path = PRL_BUF_INIT;
	sqlite3_stmt *st = archive_stmt(a, ST_UPLOAD_DELETE);
	int ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((ret = archive_step_done(a, st, "removing an upload")) < 0)
		return ret;
	if (sqlite3_changes(a->db) != 1)
		return archive_fail(a, -PRL_ENOTFOUND, "no such upload");
	/* the row goes first: a file without its row is the sweep's */
	prl_upload_path(a, id, &path);
	unlink(path.data);
	prl_buf_release(&path);
	return 0;
}

/* Removes path, a file or a folder of files. */
static void remove_entry(const char *path)
{
	struct prl_buf p = PRL_BUF_INIT;
	struct dirent *de;
	DIR *d;

	if (unlink(path) == 0 || errno != EISDIR)
		return;
	if ((d = opendir(path))) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			prl_buf_reset(&p);
			prl_buf_addf(&p, "%s/%s", path, de->d_name);
			unlink(p.data);
		}
		closedir(d);
	}
	rmdir(path);
	prl_buf_release(&p);
}

/* True when an entry of uploads/ is a live upload's file: its whole name
 * is the id of a row.  An ingest's folder (ID.d) is never live here: the
 * sweep runs in the server, and an ingest removes its folder itself. */
static int entry_live(struct prl_archive *a, const char *name)
{
	sqlite3_stmt *st;
	char *end;
	long long id;
	int live;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	id = strtoll(name, &end, 10);
	if (errno || *end || !(st = archive_stmt(a, ST_UPLOAD_EXISTS)))
		return 1; /* not a name of ours, or no way to tell: kept */
	sqlite3_bind_int64(st, 1, id);
	live = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return live;
}

int prl_upload_expire(struct prl_archive *a, int64_t max_age_s, int *removed)
{
	struct prl_buf path = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int64_t *ids = NULL, *g;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int rc, count = 0, ret = 0;

	if (max_age_s > 0) {
		if (!(st = archive_stmt(a, ST_UPLOAD_EXPIRED)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, (int64_t)time(NULL) - max_age_s);
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
			ret = archive_sql_fail(a, "listing old uploads");
		for (size_t i = 0; ret == 0 && i < n; i++)
			if ((rc = prl_upload_remove(a, ids[i])) == 0)
				count++;
			else if (rc != -PRL_ENOTFOUND)
				ret = rc;
		free(ids);
		if (ret < 0)
			return ret;
	}
	uploads_dir(a, &path);
	if ((d = opendir(path.data))) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			    entry_live(a, de->d_name))
				continue;
			prl_buf_reset(&path);
			uploads_dir(a, &path);
			prl_buf_addf(&path, "/%s", de->d_name);
			remove_entry(path.data);
			count++;
		}
		closedir(d);
	}
	prl_buf_release(&path);
	if (removed)
		*removed = count;
	return 0;
}

int prl_upload_may_deposit(struct prl_archive *a, const struct prl_viewer *v,
			   const char *collection, const char *institution,
			   struct prl_buf *inst_out)
{
	sqlite3_stmt *st;
	int64_t inst_id = 0;
	int rc, ret;

	if (institution && *institution) {
		if ((ret = archive_institution_find(a, institution, &inst_id, NULL)) < 0)
			return ret;
		if (!prl_access_may_write(v, inst_id))
			return archive_fail(a, -PRL_EACCESS,
					    "you may not deposit recordings for institution '%s'",
					    institution);
		prl_buf_addstr(inst_out, institution);
	} else if (v->institution_id > 0) {
		if (!(st = archive_stmt(a, ST_COLLECTION_INSTITUTION)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, v->institution_id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			prl_buf_addstr(inst_out, (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return archive_sql_fail(a, "finding an institution");
	}
	if (!collection || !*collection)
		return 0;
	if (!(st = archive_stmt(a, ST_COLLECTION_FIND)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, collection);
	rc = sqlite3_step(st);
	inst_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "finding a collection");
	if (inst_id >= 0 && !prl_access_may_write(v, inst_id))
		return archive_fail(a, -PRL_EACCESS,
				    "collection '%s' belongs to another institution", collection);
	return 0;
}

/* Gives upload u's file the name it came with in folder dir (a hard link,
 * or a copy-free symbolic link where the file system has none). */
static int name_file(struct prl_archive *a, const struct prl_upload *u, const char *dir,
		     struct prl_buf *named)
{
	struct prl_buf src = PRL_BUF_INIT;
	int ret = 0;

	prl_upload_path(a, u->id, &src);
	prl_buf_addf(named, "%s/%s", dir, u->filename);
	if (link(src.data, named->data) != 0 && symlink(src.data, named->data) != 0)
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
				   "cannot name the upload's file: %s", strerror(errno));
	prl_buf_release(&src);
	return ret;
}

/* Writes text as file stem.json in dir (the sidecar). */
static int write_sidecar(struct prl_archive *a, const char *dir, const char *filename,
			 const char *text)
{
	struct prl_buf path = PRL_BUF_INIT;
	const char *dot = strrchr(filename, '.');
	size_t stem = dot && dot != filename ? (size_t)(dot - filename) : strlen(filename);
	size_t len = strlen(text);
	FILE *f;
	int ret = 0;

	prl_buf_addf(&path, "%s/%.*s.json", dir, (int)stem, filename);
	if (!(f = fopen(path.data, "wbx")) || fwrite(text, 1, len, f) != len) {
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
				   "cannot write the sidecar: %s", strerror(errno));
	}
	if (f && fclose(f) != 0 && ret == 0)
		ret = archive_fail(a, -PRL_EIO, "cannot write the sidecar: %s", strerror(errno));
	prl_buf_release(&path);
	return ret;
}

/* The stem of name (up to its last dot) is the same as audio's. */
static int same_stem(const char *audio, const char *name)
{
	const char *d1 = strrchr(audio, '.'), *d2 = strrchr(name, '.');
	size_t n1 = d1 && d1 != audio ? (size_t)(d1 - audio) : strlen(audio);
	size_t n2 = d2 && d2 != name ? (size_t)(d2 - name) : strlen(name);

	return n1 == n2 && !memcmp(audio, name, n1);
}

static int upload_complete(struct prl_archive *a, int64_t id, struct prl_upload *u,
			   struct prl_ingest_result *res, const char *what)
{
	int ret;

	if ((ret = prl_upload_get(a, id, 0, u)) < 0) {
		prl_buf_addf(&res->error, "%s: no such upload", what);
		return ret;
	}
	if (u->offset != u->length) {
		prl_buf_addf(&res->error,
			     "%s is not complete: %lld of %lld bytes received; resume it first",
			     what, (long long)u->offset, (long long)u->length);
		return archive_fail(a, -PRL_EINVAL, "%s", res->error.data);
	}
	return 0;
}

int prl_upload_ingest(struct prl_archive *a, int64_t id, const char *sidecar_json, int64_t annot_id,
		      const struct prl_ingest_opts *opts, struct prl_ingest_result *res)
{
	struct prl_buf dir = PRL_BUF_INIT, named = PRL_BUF_INIT, side = PRL_BUF_INIT;
	struct prl_upload u, an;
	struct prl_sha256 h;
	uint8_t digest[32], want[32];
	int ret;

	if ((ret = upload_complete(a, id, &u, res, "the upload")) < 0)
		goto end;
	if (annot_id > 0) {
		if ((ret = upload_complete(a, annot_id, &an, res, "the annotation upload")) < 0)
			goto end;
		if (!same_stem(u.filename, an.filename) || prl_archive_is_audio_name(an.filename)) {
			prl_buf_addf(&res->error,
				     "the annotation file %s must have the audio's name with "
				     "another extension (%s)",
				     an.filename, u.filename);
			ret = archive_fail(a, -PRL_EINVAL, "%s", res->error.data);
			goto end;
		}
	}
	prl_upload_path(a, id, &dir);
	prl_buf_addstr(&dir, ".d");
	remove_entry(dir.data); /* a folder a killed ingest left */
	if (mkdir(dir.data, 0755) != 0) {
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
				   "cannot make %s: %s", dir.data, strerror(errno));
		prl_buf_addf(&res->error, "%s", prl_archive_errmsg(a));
		goto end;
	}
	if ((ret = name_file(a, &u, dir.data, &named)) < 0 ||
	    (annot_id > 0 && (ret = name_file(a, &an, dir.data, &side)) < 0) ||
	    (sidecar_json && (ret = write_sidecar(a, dir.data, u.filename, sidecar_json)) < 0)) {
		prl_buf_addf(&res->error, "%s", prl_archive_errmsg(a));
		goto cleanup;
	}
	/* the bytes ingest reads are the bytes that were received */
	if (u.has_state && prl_sha256_load(&h, u.state, sizeof(u.state)) == 0) {
		prl_sha256_peek(&h, want);
		if ((ret = prl_sha256_file(named.data, digest, NULL)) < 0 ||
		    memcmp(want, digest, sizeof(digest)) != 0) {
			prl_buf_addstr(&res->error,
				       "the stored upload no longer holds the bytes "
				       "received (its SHA-256 differs); send it again");
			ret = archive_fail(a, -PRL_EINVAL, "%s", res->error.data);
			goto cleanup;
		}
	}
	ret = prl_archive_ingest(a, named.data, opts, res);
	/* the sentence names the file, not the server's folder */
	prl_buf_addch(&dir, '/');
	if (ret < 0 && !strncmp(prl_buf_str(&res->error), dir.data, dir.len)) {
		struct prl_buf shown = PRL_BUF_INIT;

		prl_buf_addstr(&shown, res->error.data + dir.len);
		prl_buf_reset(&res->error);
		prl_buf_addstr(&res->error, shown.data);
		prl_buf_release(&shown);
	}
	dir.data[--dir.len] = '\0';
	if (ret == 0) {
		prl_upload_remove(a, id);
		if (annot_id > 0)
			prl_upload_remove(a, annot_id);
	}
cleanup:
	remove_entry(dir.data);
end:
	prl_buf_release(&dir);
	prl_buf_release(&named);
	prl_buf_release(&side);
	return ret;
}

/* ---- the "ingest" job ---- */

struct ingest_job {
	struct prl_job_run *run;
};

static void ingest_progress(void *ctx, int64_t done, int64_t total)
{
	struct ingest_job *j = ctx;

	/* an ingest is one transaction: a cancel asked now waits for its end */
	if (total > 0)
		prl_job_progress(j->run, (double)done / (double)total * 0.99, "ingesting");
}

int prl_job_ingest(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		   const char *params, void *user)
{
	struct prl_ingest_opts opts = {.access = -1};
	struct prl_ingest_result res;
	struct prl_buf out = PRL_BUF_INIT;
	struct ingest_job j = {run};
	json_t *p = NULL, *side;
	char *side_text = NULL;
	int64_t upload, annot;
	int ret;

	(void)recording_id;
	(void)user;
	prl_ingest_result_init(&res);
	if (!params || !(p = json_loads(params, 0, NULL)) || !json_is_object(p) ||
	    !json_is_integer(json_object_get(p, "upload"))) {
		prl_job_fail_reason(run, "an ingest job names its upload");
		ret = -PRL_EINVAL;
		goto end;
	}
	upload = json_integer_value(json_object_get(p, "upload"));
	annot = json_is_integer(json_object_get(p, "annotations"))
			? json_integer_value(json_object_get(p, "annotations"))
			: 0;
	if (json_is_string(json_object_get(p, "institution")))
		opts.institution = json_string_value(json_object_get(p, "institution"));
	side = json_object_get(p, "sidecar");
	if (json_is_object(side) && !(side_text = json_dumps(side, JSON_COMPACT))) {
		ret = -PRL_ENOMEM;
		prl_job_fail_reason(run, "out of memory");
		goto end;
	}
	opts.progress = ingest_progress;
	opts.progress_ctx = &j;
	prl_job_progress(run, 0, "ingesting");
	if ((ret = prl_upload_ingest(a, upload, side_text, annot, &opts, &res)) < 0) {
		prl_job_fail_reason(
			run, "%s", res.error.len ? prl_buf_str(&res.error) : prl_archive_errmsg(a));
		goto end;
	}
	prl_buf_addf(&out,
		     "{\"status\":\"%s\",\"id\":%lld,\"sha256\":\"%s\",\"duration_ms\":%lld,"
		     "\"warnings\":",
		     prl_ingest_status_name(res.status), (long long)res.id, res.sha256,
		     (long long)res.duration_ms);
	prl_json_str(&out, prl_buf_str(&res.warnings));
	prl_buf_addstr(&out, "}");
	ret = prl_job_result(run, out.data, res.id);
end:
	json_decref(p);
	free(side_text);
	prl_buf_release(&out);
	prl_ingest_result_release(&res);
	return ret;
}
