/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Rebuilding derivatives: the Opus and MP3 access copies, the waveform
 * peaks and the copies with withheld passages silent, made again from the
 * original (after an encoder upgrade, or when one was lost or damaged).
 *
 * Always holds: an original is only read, and only after its bytes were
 * checked against its SHA-256 (a derivative is never made from a damaged
 * original); each new file is made in a staging folder of media/ (locked
 * while the run lives, so fsck, the next ingest and the next rebuild know
 * an interrupted run's files as leftovers and clear them), renamed over
 * the old one, and then its row
 * gets the new size and SHA-256.  A reader sees the old file or the new
 * one, never part of one.  The access copies keep the gain the recording
 * was ingested with; muted copies are remade for the spans they silence.
 *
 * fsck --repair (prl_archive_repair) finds the damaged or missing files
 * with fsck's own check and makes the derivatives among them again, one
 * recording at a time, through the same path; an original is only
 * reported, with the backup folders named to it that hold a copy whose
 * bytes match its SHA-256.
 *
 * Expected workload: rare, by hand, over the whole archive or a few
 * recordings; as slow as ingest's second pass (decode and encode).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-internal.h"
#include "parlers/jobs.h"
#include "parlers/transcode.h"

/* The one statement this file adds.  Kept here rather than in sql.c's
 * table while another change adds statements there; it belongs in the
 * table (ST_MEDIA_UPDATE) once both are merged. */
#define MEDIA_UPDATE_SQL                                                                           \
	"UPDATE media_files SET bytes = ?3, sha256 = ?4 WHERE recording_id = ?1 AND kind = ?2"

static const struct {
	unsigned bit;
	const char *name;
} kinds[] = {
	{PRL_REBUILD_OPUS, "opus"},
	{PRL_REBUILD_MP3, "mp3"},
	{PRL_REBUILD_PEAKS, "peaks"},
	{PRL_REBUILD_MUTED, "muted"},
};

int prl_rebuild_what_parse(const char *list, unsigned *out)
{
	unsigned what = 0;
	const char *p = list;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strlen(kinds[i].name) == n && !strncmp(p, kinds[i].name, n))
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			return -PRL_EINVAL;
		what |= kinds[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!what)
		return -PRL_EINVAL;
	*out = what;
	return 0;
}

/* One run's shared state. */
struct rebuild_run {
	struct prl_archive *a;
	struct archive_staging staging; /* where new files are made */
	sqlite3_stmt *update;		/* MEDIA_UPDATE_SQL */
	struct prl_buf err;		/* the current failure's detail */
	int64_t n;			/* a counter for temporary names */
};

/* The SHA-256 (hex) and size of path. */
static int hash_file(const char *path, char hex[65], struct prl_buf *err)
{
	uint8_t d[32];
	int ret;

	if ((ret = prl_sha256_file(path, d, err)) < 0)
		return ret;
	prl_sha256_hex(d, hex);
	return 0;
}

/* Moves the new file tmp over rel (relative to the data folder) and
 * records its size and hash: in media_files (kind), or, when spans is
 * not NULL, in withheld_media. */
static int put_in_place(struct rebuild_run *r, int64_t id, const char *kind, const char *rel,
			const char *tmp, const char *spans)
{
	struct prl_buf abs = PRL_BUF_INIT;

	sqlite3_stmt *st;
	char hex[65];
	struct stat sb;
	int64_t bytes;
	int ret;

	if ((ret = hash_file(tmp, hex, &r->err)) < 0)
		goto end;
	if (stat(tmp, &sb) != 0) {
		ret = -PRL_EIO;
		prl_buf_addf(&r->err, "%s: %s", tmp, strerror(errno));
		goto end;
	}
	bytes = (int64_t)sb.st_size;
	/* written down first: killed after the rename, before the row, the
	 * run leaves a file the next sweep knows as its own */
	if ((ret = archive_staging_note_replaced(&r->staging, rel, bytes, hex, &r->err)) < 0)
		goto end;
	prl_buf_addf(&abs, "%s/%s", r->a->dir, rel);
	if (rename(tmp, abs.data) != 0 && errno == ENOENT) {
		/* the media/xx folder itself was lost: made again */
		char *slash = strrchr(abs.data, '/');

		*slash = '\0';
		mkdir(abs.data, 0755);
		*slash = '/';
		errno = rename(tmp, abs.data) == 0 ? 0 : errno;
	} else {
		errno = 0;
	}
	if (errno) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(&r->err, "%s: %s", abs.data, strerror(errno));
		goto end;
	}
	if ((ret = archive_begin(r->a)) < 0)
		goto sqlfail;
	if (spans) {
		if (!(st = archive_stmt(r->a, ST_WITHHELD_MEDIA_PUT))) {
			ret = -PRL_ESQL;
			goto rollback;
		}
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, kind);
		archive_bind_text(st, 3, spans);
		archive_bind_text(st, 4, rel);
		sqlite3_bind_int64(st, 5, bytes);
		archive_bind_text(st, 6, hex);
		ret = archive_step_done(r->a, st, "recording the muted copy");
	} else {
		st = r->update;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, kind);
		sqlite3_bind_int64(st, 3, bytes);
		archive_bind_text(st, 4, hex);
		ret = archive_step_done(r->a, st, "recording the rebuilt file");
	}
rollback:
	if (ret == 0)
		ret = archive_commit(r->a);
	else
		archive_rollback(r->a);
sqlfail:
	if (ret < 0)
		prl_buf_addstr(&r->err, prl_archive_errmsg(r->a));
end:
	unlink(tmp); /* gone already when it was renamed */
	prl_buf_release(&abs);
	return ret;
}

/* A fresh name in the staging folder. */
static void tmp_name(struct rebuild_run *r, struct prl_buf *out, const char *kind)
{
	prl_buf_reset(out);
	prl_buf_addf(out, "%s/rebuild-%lld.%s", r->staging.dir.data, (long long)r->n++, kind);
}

/* Rebuilds what of recording id; *done gets the kinds remade. */
static int rebuild_one(struct rebuild_run *r, int64_t id, unsigned what, unsigned *done)
{
	struct prl_archive *a = r->a;
	struct prl_buf orig = PRL_BUF_INIT, abs = PRL_BUF_INIT, rel = PRL_BUF_INIT,
		       tmp = PRL_BUF_INIT, sig = PRL_BUF_INIT, made = PRL_BUF_INIT;
	struct prl_recording_brief b;
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	int64_t *spans = NULL, bytes;
	size_t nspans = 0;
	double gain = 0;
	sqlite3_stmt *st;
	char hex[65];
	int ret;

	memset(&b, 0, sizeof(b));
	memset(&res, 0, sizeof(res));
	*done = 0;
	if ((ret = archive_recording_brief(a, id, &b)) < 0) {
		prl_buf_addf(&r->err, "no recording %lld", (long long)id);
		goto end;
	}
	if ((ret = archive_media_row(a, ST_MEDIA_GET, id, "original", &orig, NULL)) < 0)
		goto sqlfail;
	if (!orig.len) {
		ret = -PRL_ENOTFOUND;
		prl_buf_addstr(&r->err, "no original to rebuild from");
		goto end;
	}
	/* never a derivative of a damaged original */
	prl_buf_addf(&abs, "%s/%s", a->dir, orig.data);
	if ((ret = hash_file(abs.data, hex, &r->err)) < 0)
		goto end;
	if (strcmp(hex, b.sha256) != 0) {
		ret = -PRL_EFORMAT;
		prl_buf_addf(&r->err,
			     "%s does not match its SHA-256: restore it from a backup "
			     "(parlers verify-backup tells which holds a good copy)",
			     orig.data);
		goto end;
	}
	if ((st = archive_stmt(a, ST_REC_GAIN))) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			gain = sqlite3_column_double(st, 0);
		sqlite3_reset(st);
	}
	for (int k = 0; k < 2; k++) {
		const char *kind = k ? "mp3" : "opus";

		if (!(what & (k ? PRL_REBUILD_MP3 : PRL_REBUILD_OPUS)))
			continue;
		prl_buf_reset(&rel);
		if ((ret = archive_media_row(a, ST_MEDIA_GET, id, kind, &rel, NULL)) < 0)
			goto sqlfail;
		if (!rel.len)
			continue;
		tmp_name(r, &tmp, kind);
		if ((ret = prl_transcode_muted(abs.data, tmp.data, k ? PRL_COPY_MP3 : PRL_COPY_OPUS,
					       gain, NULL, 0, &bytes, &r->err)) < 0 ||
		    (ret = put_in_place(r, id, kind, rel.data, tmp.data, NULL)) < 0)
			goto end;
		*done |= k ? PRL_REBUILD_MP3 : PRL_REBUILD_OPUS;
	}
	if (what & PRL_REBUILD_PEAKS) {
		prl_buf_reset(&rel);
		if ((ret = archive_media_row(a, ST_MEDIA_GET, id, "peaks", &rel, NULL)) < 0)
			goto sqlfail;
		if (rel.len) {
			tmp_name(r, &tmp, "peaks");
			memset(&job, 0, sizeof(job));
			job.src_path = abs.data;
			job.peaks_path = tmp.data;
			job.target_lufs = -18;
			job.max_true_peak_dbtp = -1;
			if ((ret = prl_transcode_run(&job, &res, &r->err)) < 0 ||
			    (ret = put_in_place(r, id, "peaks", rel.data, tmp.data, NULL)) < 0)
				goto end;
			prl_transcode_result_clear(&res);
			*done |= PRL_REBUILD_PEAKS;
		}
	}
	if (what & PRL_REBUILD_MUTED) {
		if ((ret = archive_withheld_spans(a, id, &spans, &nspans, &sig)) < 0)
			goto sqlfail;
		for (int k = 0; nspans && k < 2; k++) {
			const char *kind = k ? "mp3" : "opus";

			prl_buf_reset(&rel);
			prl_buf_reset(&made);
			if ((ret = archive_media_row(a, ST_WITHHELD_MEDIA_GET, id, kind, &rel,
						     &made)) < 0)
				goto sqlfail;
			/* a copy for older spans (or none yet): withheld.c makes
			 * the one for the current spans, under its new name */
			if (!rel.len || strcmp(made.data, sig.data) != 0) {
				if ((ret = archive_withheld_refresh_media(a, id)) < 0)
					goto sqlfail;
				*done |= PRL_REBUILD_MUTED;
				break;
			}
			tmp_name(r, &tmp, kind);
			if ((ret = prl_transcode_muted(abs.data, tmp.data,
						       k ? PRL_COPY_MP3 : PRL_COPY_OPUS, gain,
						       spans, nspans, &bytes, &r->err)) < 0 ||
			    (ret = put_in_place(r, id, kind, rel.data, tmp.data, sig.data)) < 0)
				goto end;
			*done |= PRL_REBUILD_MUTED;
		}
	}
	ret = 0;
	goto end;
sqlfail:
	prl_buf_addstr(&r->err, prl_archive_errmsg(a));
end:
	prl_recording_brief_clear(&b);
	prl_transcode_result_clear(&res);
	free(spans);
	prl_buf_release(&orig);
	prl_buf_release(&abs);
	prl_buf_release(&rel);
	prl_buf_release(&tmp);
	prl_buf_release(&sig);
	prl_buf_release(&made);
	return ret;
}

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* Every recording that has stored files, in id order. */
static int all_ids(struct prl_archive *a, int64_t **out, size_t *n)
{
	sqlite3_stmt *st = archive_stmt(a, ST_MEDIA_ALL);
	int64_t *ids = NULL, *g;
	size_t k = 0, alloc = 0, u = 0;
	int rc;

	if (!st)
		return -PRL_ESQL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			if (!(g = realloc(ids, alloc * sizeof(*g)))) {
				sqlite3_reset(st);
				free(ids);
				return archive_fail(a, -PRL_ENOMEM, "out of memory");
			}
			ids = g;
		}
		ids[k++] = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return archive_sql_fail(a, "listing media files");
	}
	if (k) {
		qsort(ids, k, sizeof(*ids), cmp_id);
		for (size_t i = 1; i < k; i++)
			if (ids[i] != ids[u])
				ids[++u] = ids[i];
		u++;
	}
	*out = ids;
	*n = u;
	return 0;
}

int prl_archive_rebuild(struct prl_archive *a, const struct prl_rebuild_opts *o,
			void (*report)(void *ctx, int64_t id, unsigned done, const char *error),
			void *ctx)
{
	struct rebuild_run r;
	int64_t *ids = NULL;
	size_t n = 0;
	unsigned what = o->what ? o->what : PRL_REBUILD_ALL;
	int ret, failed = 0;

	memset(&r, 0, sizeof(r));
	r.a = a;
	archive_staging_init(&r.staging);
	if (o->ids) {
		n = o->nids;
	} else if ((ret = all_ids(a, &ids, &n)) < 0) {
		return ret;
	}
	/* what an interrupted run (of rebuild or ingest) left goes first */
	archive_staging_sweep(a, 1, NULL, NULL);
	if ((ret = archive_staging_make(a, &r.staging, &r.err)) < 0) {
		ret = archive_fail(a, ret, "%s", r.err.data);
		goto end;
	}
	if (sqlite3_prepare_v2(a->db, MEDIA_UPDATE_SQL, -1, &r.update, NULL) != SQLITE_OK) {
		ret = archive_sql_fail(a, "preparing the rebuild");
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t id = o->ids ? o->ids[i] : ids[i];
		unsigned done = 0;

		prl_buf_reset(&r.err);
		if (rebuild_one(&r, id, what, &done) < 0) {
			failed++;
			report(ctx, id, done, prl_buf_str(&r.err));
		} else {
			report(ctx, id, done, NULL);
		}
		if (o->progress)
			o->progress(o->progress_ctx, (int64_t)i + 1, (int64_t)n);
	}
	ret = failed;
end:
	sqlite3_finalize(r.update);
	archive_staging_remove(&r.staging);
	prl_buf_release(&r.err);
	free(ids);
	return ret;
}

const char *prl_rebuild_kind_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].bit == bit)
			return kinds[i].name;
	return "?";
}

const char *prl_repair_outcome_name(enum prl_repair_outcome o)
{
	switch (o) {
	case PRL_REPAIR_REBUILT:
		return "rebuilt";
	case PRL_REPAIR_FAILED:
		return "not-rebuilt";
	case PRL_REPAIR_ORIGINAL:
		return "original-damaged";
	}
	return "?";
}

/* One damaged file met by fsck. */
struct damaged {
	char *path;
	int64_t rid;
	unsigned bit; /* PRL_REBUILD_ kind; 0 for an original */
	char sha[65]; /* what its bytes should hash to */
};

struct damage_list {
	struct damaged *v;
	size_t n, alloc;
	int ret; /* 0 or -PRL_ENOMEM */
};

static void on_damage(void *ctx, enum prl_fsck_problem p, const char *path, int64_t rid)
{
	struct damage_list *l = ctx;
	struct damaged *g;

	if (p == PRL_FSCK_STRAY || p == PRL_FSCK_LEFTOVER || !rid || l->ret < 0)
		return;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 16;

		if (!(g = realloc(l->v, na * sizeof(*g)))) {
			l->ret = -PRL_ENOMEM;
			return;
		}
		l->v = g;
		l->alloc = na;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	if (!(l->v[l->n].path = strdup(path))) {
		l->ret = -PRL_ENOMEM;
		return;
	}
	l->v[l->n++].rid = rid;
}

/* Fills d->bit and d->sha from the row that names d->path. */
static int damaged_kind(struct prl_archive *a, struct damaged *d)
{
	sqlite3_stmt *st = archive_stmt(a, ST_MEDIA_OF_PATH);
	int rc;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, d->path);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);

		snprintf(d->sha, sizeof(d->sha), "%s", (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_int(st, 2))
			d->bit = PRL_REBUILD_MUTED;
		else if (!strcmp(kind, "opus"))
			d->bit = PRL_REBUILD_OPUS;
		else if (!strcmp(kind, "mp3"))
			d->bit = PRL_REBUILD_MP3;
		else if (!strcmp(kind, "peaks"))
			d->bit = PRL_REBUILD_PEAKS;
		else
			d->bit = 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding media");
}

/* The backups among o->backups holding a good copy of original d, as one
 * line in out. */
static void good_copies(const struct prl_repair_opts *o, const struct damaged *d,
			struct prl_buf *out)
{
	struct prl_buf path = PRL_BUF_INIT;
	char hex[65];
	int found = 0;

	prl_buf_reset(out);
	for (size_t i = 0; i < o->nbackups; i++) {
		prl_buf_reset(&path);
		prl_buf_addf(&path, "%s/%s", o->backups[i], d->path);
		if (hash_file(path.data, hex, NULL) < 0 || strcmp(hex, d->sha) != 0)
			continue;
		prl_buf_addstr(out, found ? ", " : "a good copy in ");
		prl_buf_addstr(out, o->backups[i]);
		found = 1;
	}
	if (!found && o->nbackups)
		prl_buf_addstr(out, "no backup named holds a good copy");
	else if (!found)
		prl_buf_addstr(out, "name backups (--backups DIR) to find a good copy");
	prl_buf_release(&path);
}

/* What prl_archive_rebuild says of the one recording it was given. */
struct one_result {
	int failed;
	struct prl_buf why;
};

static void on_rebuilt(void *ctx, int64_t id, unsigned done, const char *error)
{
	struct one_result *r = ctx;

	(void)id;
	(void)done;
	if (error) {
		r->failed = 1;
		prl_buf_addstr(&r->why, error);
	}
}

int prl_archive_repair(struct prl_archive *a, const struct prl_repair_opts *o,
		       void (*report)(void *ctx, enum prl_repair_outcome out, const char *path,
				      int64_t recording_id, const char *detail),
		       void *ctx)
{
	struct damage_list l = {NULL, 0, 0, 0};
	struct prl_buf line = PRL_BUF_INIT;
	int ret, left = 0;
	size_t i, j;

	if ((ret = prl_archive_fsck(a, on_damage, &l, NULL)) < 0)
		goto end;
	if ((ret = l.ret) < 0) {
		ret = archive_fail(a, ret, "out of memory");
		goto end;
	}
	for (i = 0; i < l.n; i++)
		if ((ret = damaged_kind(a, &l.v[i])) < 0)
			goto end;
	for (i = 0; i < l.n; i++) {
		if (l.v[i].bit)
			continue;
		good_copies(o, &l.v[i], &line);
		report(ctx, PRL_REPAIR_ORIGINAL, l.v[i].path, l.v[i].rid, line.data);
		left++;
	}
	/* the derivatives, one rebuild per recording for all its damaged kinds */
	for (i = 0; i < l.n; i++) {
		struct prl_rebuild_opts ro;
		struct one_result res = {0, PRL_BUF_INIT};
		unsigned what = 0;

		if (!l.v[i].bit || !o->rebuild)
			continue;
		for (j = 0; j < i; j++)
			if (l.v[j].rid == l.v[i].rid && l.v[j].bit)
				break;
		if (j < i)
			continue; /* done with an earlier file of its recording */
		for (j = i; j < l.n; j++)
			if (l.v[j].rid == l.v[i].rid)
				what |= l.v[j].bit;
		memset(&ro, 0, sizeof(ro));
		ro.ids = &l.v[i].rid;
		ro.nids = 1;
		ro.what = what;
		if ((ret = prl_archive_rebuild(a, &ro, on_rebuilt, &res)) < 0) {
			prl_buf_release(&res.why);
			goto end;
		}
		for (j = i; j < l.n; j++) {
			if (l.v[j].rid != l.v[i].rid || !l.v[j].bit)
				continue;
			if (!res.failed) {
				report(ctx, PRL_REPAIR_REBUILT, l.v[j].path, l.v[j].rid, NULL);
				continue;
			}
			report(ctx, PRL_REPAIR_FAILED, l.v[j].path, l.v[j].rid,
			       prl_buf_str(&res.why));
			left++;
		}
		prl_buf_release(&res.why);
	}
	ret = left;
end:
	for (i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
	prl_buf_release(&line);
	return ret;
}

/* ---- the background job "rebuild" ---- */

struct rebuild_job {
	struct prl_job_run *run;
	unsigned done;
	char error[512];
};

static void rebuild_job_report(void *ctx, int64_t id, unsigned done, const char *error)
{
	struct rebuild_job *j = ctx;

	(void)id;
	j->done = done;
	if (error)
		snprintf(j->error, sizeof(j->error), "%s", error);
}

int prl_job_rebuild(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		    const char *params, void *user)
{
	struct prl_rebuild_opts o;
	struct rebuild_job j;
	struct prl_buf result = PRL_BUF_INIT;
	const char *what = NULL;
	json_t *p = NULL;
	int ret;

	(void)user;
	memset(&o, 0, sizeof(o));
	memset(&j, 0, sizeof(j));
	j.run = run;
	if (recording_id <= 0) {
		prl_job_fail_reason(run, "a rebuild job names its recording");
		return -PRL_EINVAL;
	}
	if (params && (!(p = json_loads(params, 0, NULL)) || !json_is_object(p))) {
		json_decref(p);
		prl_job_fail_reason(run, "the job's parameters are not a JSON object");
		return -PRL_EINVAL;
	}
	if (p && json_is_string(json_object_get(p, "what")))
		what = json_string_value(json_object_get(p, "what"));
	if (what && prl_rebuild_what_parse(what, &o.what) < 0) {
		prl_job_fail_reason(run, "what: a list of opus, mp3, peaks and muted");
		json_decref(p);
		return -PRL_EINVAL;
	}
	json_decref(p);
	o.ids = &recording_id;
	o.nids = 1;
	if ((ret = prl_job_progress(run, 0.0, "rebuilding")) < 0)
		return ret;
	ret = prl_archive_rebuild(a, &o, rebuild_job_report, &j);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		prl_job_fail_reason(run, "%s", j.error[0] ? j.error : "the rebuild failed");
		return -PRL_EIO;
	}
	prl_buf_addstr(&result, "{\"rebuilt\":[");
	for (unsigned bit = 1, n = 0; bit <= PRL_REBUILD_ALL; bit <<= 1)
		if (j.done & bit) {
			if (n++)
				prl_buf_addch(&result, ',');
			prl_json_str(&result, prl_rebuild_kind_name(bit));
		}
	prl_buf_addstr(&result, "]}");
	ret = prl_job_result(run, prl_buf_str(&result), recording_id);
	prl_buf_release(&result);
	return ret;
}
