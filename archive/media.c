/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Stored files: which file serves a recording's media, for whom, and the
 * fixity check that re-reads them all.
 *
 * Paths come from the database only (media_files.path, written by ingest
 * as "media/xx/<sha256>.<ext>"); nothing a visitor sends ever becomes part
 * of a path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive-internal.h"
#include "parlers/transcode.h"

static const struct {
	const char *kind; /* media_files.kind */
	const char *ext;
	const char *mime;
} kinds[] = {
	[PRL_MEDIA_ORIGINAL] = {"original", "orig", "application/octet-stream"},
	[PRL_MEDIA_OPUS] = {"opus", "opus", "audio/ogg; codecs=opus"},
	[PRL_MEDIA_MP3] = {"mp3", "mp3", "audio/mpeg"},
	[PRL_MEDIA_PEAKS] = {"peaks", "peaks", "application/octet-stream"},
};

/* Originals keep their format's own type so a browser can play a WAV. */
static const char *original_mime(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} m[] = {
		{".wav", "audio/wav"},	 {".bwf", "audio/wav"},	  {".rf64", "audio/wav"},
		{".flac", "audio/flac"}, {".mp3", "audio/mpeg"},  {".ogg", "audio/ogg"},
		{".oga", "audio/ogg"},	 {".opus", "audio/ogg"},  {".m4a", "audio/mp4"},
		{".mp4", "audio/mp4"},	 {".aac", "audio/aac"},	  {".aif", "audio/aiff"},
		{".aiff", "audio/aiff"}, {".aifc", "audio/aiff"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(dot, m[i].ext) == 0)
			return m[i].mime;
	return "application/octet-stream";
}

void prl_media_clear(struct prl_media *m)
{
	if (!m)
		return;
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* The muted copy of kind k made for recording id's current spans.  A copy
 * made for other spans (they changed and the new copy is not made yet, or
 * its making failed) is never served: no copy rather than a wrong one. */
static int withheld_copy(struct prl_archive *a, int64_t id, enum prl_media_kind k, int fetch,
			 struct prl_media *out)
{
	struct prl_buf path = PRL_BUF_INIT, want = PRL_BUF_INIT;
	sqlite3_stmt *st;
	struct prl_media m;
	int ret = -PRL_ESQL;

	if (!(st = archive_stmt(a, ST_WITHHELD_SIGNATURE)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		ret = archive_sql_fail(a, "reading withheld spans");
		goto end;
	}
	prl_buf_addstr(&want, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (!(st = archive_stmt(a, ST_WITHHELD_MEDIA_GET)))
		goto end;
	sqlite3_bind_int64(st, 1, id);
	archive_bind_text(st, 2, kinds[k].kind);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 3), prl_buf_str(&want)) != 0) {
		ret = archive_fail(a, -PRL_ENOTFOUND,
				   "recording %lld: no %s copy without its withheld passages yet",
				   (long long)id, kinds[k].kind);
		goto end;
	}
	memset(&m, 0, sizeof(m));
	m.bytes = sqlite3_column_int64(st, 1);
	snprintf(m.sha256, sizeof(m.sha256), "%s", (const char *)sqlite3_column_text(st, 2));
	if (fetch && (ret = archive_media_local(a, (const char *)sqlite3_column_text(st, 0),
						m.sha256, &path)) < 0)
		goto end;
	if (fetch && !(m.path = prl_buf_detach(&path, NULL))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	m.ext = kinds[k].ext;
	m.mime = kinds[k].mime;
	*out = m;
	ret = 0;
end:
	if (st)
		sqlite3_reset(st);
	prl_buf_release(&path);
	prl_buf_release(&want);
	return ret;
}

/* The access rule for kind k of recording id as viewer v may have it: 0,
 * with *muted set when v is to hear the copy made with the withheld
 * passages silent, or the archive's refusal (-PRL_ENOTFOUND, -PRL_EACCESS). */
static int media_gate(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      enum prl_media_kind k, int *muted)
{
	sqlite3_stmt *st;
	char sig[2];
	int ret;

	*muted = 0;
	if ((unsigned)k > PRL_MEDIA_PEAKS)
		return -PRL_EINVAL;
	/* the waveform shows no more than the listing does */
	if ((ret = prl_archive_recording_open(
		     a, v, id, k == PRL_MEDIA_PEAKS ? PRL_SEE_METADATA : PRL_SEE_ALL, NULL)) < 0)
		return ret;
	if (k == PRL_MEDIA_ORIGINAL && (!v || v->role < PRL_ROLE_RESEARCHER))
		return archive_fail(a, -PRL_EACCESS, "originals are for researchers and staff");
	if (k == PRL_MEDIA_PEAKS || prl_access_sees_withheld(v))
		return 0;
	/* a passage is withheld: the original holds it, and the copies
	 * served are the ones made with it silent */
	if (!(st = archive_stmt(a, ST_WITHHELD_SIGNATURE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return archive_sql_fail(a, "reading withheld spans");
	}
	snprintf(sig, sizeof(sig), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (!sig[0])
		return 0;
	if (k == PRL_MEDIA_ORIGINAL)
		return archive_fail(a, -PRL_EACCESS,
				    "recording %lld has withheld passages: its original is for "
				    "staff only",
				    (long long)id);
	*muted = 1;
	return 0;
}

/* Steps *st onto the row of recording id's file of kind k (the caller
 * resets it); -PRL_ENOTFOUND with a sentence when there is none. */
static int media_row(struct prl_archive *a, int64_t id, enum prl_media_kind k, sqlite3_stmt **st)
{
	int rc;

	if (!(*st = archive_stmt(a, ST_MEDIA_GET)))
		return -PRL_ESQL;
	sqlite3_bind_int64(*st, 1, id);
	archive_bind_text(*st, 2, kinds[k].kind);
	if ((rc = sqlite3_step(*st)) == SQLITE_ROW)
		return 0;
	sqlite3_reset(*st);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "finding a media file");
	return archive_fail(a, -PRL_ENOTFOUND, "recording %lld has no %s file", (long long)id,
			    kinds[k].kind);
}

/* prl_archive_media(), with the file's path (fetched into the media/
 * cache from an object store first) only when fetch is set. */
static int media_find(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      enum prl_media_kind k, int fetch, struct prl_media *out)
{
	struct prl_buf path = PRL_BUF_INIT;
	sqlite3_stmt *st;
	struct prl_media m;
	const char *rel;
	int ret, muted;

	if ((ret = media_gate(a, v, id, k, &muted)) < 0)
		return ret;
	if (muted)
		return withheld_copy(a, id, k, fetch, out);
	if ((ret = media_row(a, id, k, &st)) < 0)
		return ret;
	memset(&m, 0, sizeof(m));
	m.bytes = sqlite3_column_int64(st, 1);
	snprintf(m.sha256, sizeof(m.sha256), "%s", (const char *)sqlite3_column_text(st, 2));
	rel = (const char *)sqlite3_column_text(st, 0);
	m.ext = kinds[k].ext;
	m.mime = k == PRL_MEDIA_ORIGINAL ? original_mime(rel) : kinds[k].mime;
	ret = fetch ? archive_media_local(a, rel, m.sha256, &path) : 0;
	sqlite3_reset(st);
	if (ret < 0) {
		prl_buf_release(&path);
		return ret;
	}
	if (fetch && !(m.path = prl_buf_detach(&path, NULL)))
		return -PRL_ENOMEM;
	*out = m;
	return 0;
}

int prl_archive_media(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      enum prl_media_kind k, struct prl_media *out)
{
	return media_find(a, v, id, k, 1, out);
}

int prl_archive_media_info(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			   enum prl_media_kind k, struct prl_media *out)
{
	return media_find(a, v, id, k, 0, out);
}

int prl_archive_media_presign(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			      enum prl_media_kind k, const char *method, long expires_s,
			      struct prl_buf *url)
{
	sqlite3_stmt *st;
	const char *rel;
	char disposition[96];
	int ret, muted;

	if ((ret = media_gate(a, v, id, k, &muted)) < 0)
		return ret;
	/* a muted copy stays served from here: it is replaced whenever the
	 * spans change, and a URL handed out must not outlive that */
	if (muted || !prl_archive_media_store(a))
		return 1;
	if ((ret = media_row(a, id, k, &st)) < 0)
		return ret;
	rel = (const char *)sqlite3_column_text(st, 0);
	/* an original is a download, named as the server names it when it
	 * streams one (web/mediacache.c) */
	if (k == PRL_MEDIA_ORIGINAL) {
		const char *dot = strrchr(rel, '.');

		snprintf(disposition, sizeof(disposition),
			 "attachment; filename=\"recording-%lld.%s\"", (long long)id,
			 dot ? dot + 1 : "bin");
	}
	ret = archive_media_presign(a, rel, method,
				    k == PRL_MEDIA_ORIGINAL ? original_mime(rel) : kinds[k].mime,
				    k == PRL_MEDIA_ORIGINAL ? disposition : NULL, expires_s, url);
	sqlite3_reset(st);
	return ret;
}

const char *prl_fsck_problem_name(enum prl_fsck_problem p)
{
	switch (p) {
	case PRL_FSCK_MISMATCH:
		return "checksum-mismatch";
	case PRL_FSCK_MISSING:
		return "missing";
	case PRL_FSCK_STRAY:
		return "stray";
	case PRL_FSCK_SIZE:
		return "size-mismatch";
	case PRL_FSCK_LEFTOVER:
		return "leftover";
	}
	return "problem";
}

/* Known paths, sorted, for the stray-file walk. */
struct known {
	char **paths;
	size_t n, alloc;
};

static int known_add(struct known *k, const char *rel)
{
	if (k->n == k->alloc) {
		size_t na = k->alloc ? k->alloc * 2 : 64;
		char **g = realloc(k->paths, na * sizeof(*g));

		if (!g)
			return -PRL_ENOMEM;
		k->paths = g;
		k->alloc = na;
	}
	if (!(k->paths[k->n] = strdup(rel)))
		return -PRL_ENOMEM;
	k->n++;
	return 0;
}

/* What an interrupted ingest left, as fsck meets it: reported as such,
 * and known, so that the stray-file walk does not call it damage. */
struct leftovers {
	struct known *k;
	void (*report)(void *, enum prl_fsck_problem, const char *, int64_t);
	void *ctx;
	int ret; /* 0, or -PRL_ENOMEM */
};

static void on_leftover(void *ctx, const char *rel)
{
	struct leftovers *l = ctx;

	if (known_add(l->k, rel) < 0)
		l->ret = -PRL_ENOMEM;
	l->report(l->ctx, PRL_FSCK_LEFTOVER, rel, 0);
}

static int known_has(const struct known *k, const char *rel)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(k->paths[mid], rel);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Walks media/ (two levels: media/xx/file) and reports what nothing names.
 * Staging folders are not strays: a live ingest's is its own, and one that
 * a killed ingest left was reported as a leftover already. */
static int walk_strays(struct prl_archive *a, const struct known *k,
		       void (*report)(void *, enum prl_fsck_problem, const char *, int64_t),
		       void *ctx)
{
	struct prl_buf rel = PRL_BUF_INIT, sub = PRL_BUF_INIT;
	struct dirent *de, *fe;
	DIR *top, *d;
	int problems = 0;

	if (!(top = opendir(a->media_dir)))
		return 0;
	while ((de = readdir(top))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strncmp(de->d_name, ".staging-", 9))
			continue;
		prl_buf_reset(&sub);
		prl_buf_addf(&sub, "%s/%s", a->media_dir, de->d_name);
		if (!(d = opendir(sub.data))) {
			prl_buf_reset(&rel);
			prl_buf_addf(&rel, "media/%s", de->d_name);
			report(ctx, PRL_FSCK_STRAY, rel.data, 0);
			problems++;
			continue;
		}
		while ((fe = readdir(d))) {
			/* .fetch-*: an object on its way into the cache */
			if (!strcmp(fe->d_name, ".") || !strcmp(fe->d_name, "..") ||
			    !strncmp(fe->d_name, ".fetch-", 7))
				continue;
			prl_buf_reset(&rel);
			prl_buf_addf(&rel, "media/%s/%s", de->d_name, fe->d_name);
			if (!known_has(k, rel.data)) {
				report(ctx, PRL_FSCK_STRAY, rel.data, 0);
				problems++;
			}
		}
		closedir(d);
	}
	closedir(top);
	prl_buf_release(&rel);
	prl_buf_release(&sub);
	return problems;
}

/* One object read back from the store and hashed.  Returns 1 for a
 * problem reported, 0, or a negative prl_err (the store cannot be read:
 * no verdict can be given). */
static int check_object(struct prl_archive *a, const char *rel, int64_t bytes, const char *want,
			int64_t rid,
			void (*report)(void *, enum prl_fsck_problem, const char *, int64_t),
			void *ctx)
{
	struct prl_buf err = PRL_BUF_INIT;
	char hex[65];
	int64_t got = 0;
	int ret = archive_media_fetch_to(a, rel, NULL, hex, &got, &err);

	if (ret == -PRL_ENOTFOUND) {
		report(ctx, PRL_FSCK_MISSING, rel, rid);
		ret = 1;
	} else if (ret < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&err));
	} else if (got != bytes) {
		report(ctx, PRL_FSCK_SIZE, rel, rid);
		ret = 1;
	} else if (strcmp(hex, want) != 0) {
		report(ctx, PRL_FSCK_MISMATCH, rel, rid);
		ret = 1;
	}
	prl_buf_release(&err);
	return ret;
}

int prl_archive_fsck(struct prl_archive *a,
		     void (*report)(void *ctx, enum prl_fsck_problem p, const char *path,
				    int64_t recording_id),
		     void *ctx, int64_t *files_checked)
{
	struct prl_buf abs = PRL_BUF_INIT;
	struct known k = {NULL, 0, 0};
	struct leftovers lo;
	sqlite3_stmt *st = archive_stmt(a, ST_MEDIA_ALL);
	int64_t checked = 0;
	int problems = 0, rc, ret;
	size_t i;

	if (!st)
		return -PRL_ESQL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(st, 0);
		const char *want = (const char *)sqlite3_column_text(st, 2);
		int64_t bytes = sqlite3_column_int64(st, 1), rid = sqlite3_column_int64(st, 3);
		uint8_t d[32];
		char hex[65];
		struct stat sb;

		if ((ret = known_add(&k, rel)) < 0)
			goto fail;
		checked++;
		if (a->store_url) {
			if ((ret = check_object(a, rel, bytes, want, rid, report, ctx)) < 0)
				goto fail;
			problems += ret;
		}
		prl_buf_reset(&abs);
		prl_buf_addf(&abs, "%s/%s", a->dir, rel);
		/* with an object store, a file not in the cache is no loss; one
		 * there is served, and checked like the store's */
		if (a->store_url && stat(abs.data, &sb) != 0)
			continue;
		if (stat(abs.data, &sb) != 0) {
			report(ctx, PRL_FSCK_MISSING, rel, rid);
			problems++;
			continue;
		}
		if (prl_sha256_file(abs.data, d, NULL) < 0) {
			report(ctx, PRL_FSCK_MISSING, rel, rid);
			problems++;
			continue;
		}
		prl_sha256_hex(d, hex);
		if (((int64_t)sb.st_size != bytes || strcmp(hex, want) != 0) &&
		    archive_staging_replaced(a, rel, hex)) {
			/* a run (rebuild) put new bytes there and had not yet
			 * recorded them: its leftover, reported by the sweep
			 * below once the run is over */
			continue;
		}
		if ((int64_t)sb.st_size != bytes) {
			report(ctx, PRL_FSCK_SIZE, rel, rid);
			problems++;
		} else if (strcmp(hex, want) != 0) {
			report(ctx, PRL_FSCK_MISMATCH, rel, rid);
			problems++;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		ret = archive_sql_fail(a, "listing media files");
		goto fail;
	}
	lo.k = &k;
	lo.report = report;
	lo.ctx = ctx;
	lo.ret = 0;
	if ((ret = archive_staging_sweep(a, 0, on_leftover, &lo)) < 0 || (ret = lo.ret) < 0)
		goto fail;
	if (k.n > 1) /* qsort takes no NULL, even for nothing */
		qsort(k.paths, k.n, sizeof(*k.paths), cmp_str);
	problems += walk_strays(a, &k, report, ctx);
	ret = problems;
	if (files_checked)
		*files_checked = checked;
fail:
	sqlite3_reset(st);
	for (i = 0; i < k.n; i++)
		free(k.paths[i]);
	free(k.paths);
	prl_buf_release(&abs);
	return ret;
}

int prl_archive_clear_leftovers(struct prl_archive *a, void (*report)(void *ctx, const char *rel),
				void *ctx)
{
	return archive_staging_sweep(a, 1, report, ctx);
}
