/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Where an archive's media live: the data folder's media/ (the default),
 * or an S3-compatible object store named once, when the archive is made,
 * in DATA/media.conf ("s3://bucket/prefix").  Every command that opens the
 * archive reads it, so none can write media anywhere else.
 *
 * With an object store, an object's key is the file's path relative to
 * the data folder (media/xx/<sha256>.<ext>) under the prefix, and media/
 * is a read-through cache of objects: a file wanted and not there is
 * fetched (GET), checked against its SHA-256, renamed into place, and the
 * least recently used files are removed once the folder outgrows its cap
 * (struct prl_store_config, set by cli/ from PARLERS_MEDIA_CACHE_MB; 10 GiB
 * by default).  Files are published (PUT)
 * from the staging folder before they are renamed into media/ and before
 * the row that names them commits.
 *
 * Always holds: a row names a file only once the store holds its bytes;
 * a cached file is one whose SHA-256 was checked on its way in; nothing
 * is ever removed from the store but a file that no row names any more.
 * Workload: one stat() per media request when the file is cached; a GET
 * when not; a walk of media/ when the cache is first filled by a process.
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

#define CONF "media.conf"
#define DEFAULT_CACHE_MB 10240

static int read_conf(const char *dir, struct prl_buf *url)
{
	struct prl_buf path = PRL_BUF_INIT;
	char line[1024];
	FILE *f;
	int ret = 0;

	prl_buf_addf(&path, "%s/" CONF, dir);
	if (!(f = fopen(path.data, "r"))) {
		ret = errno == ENOENT ? 0 : -PRL_EIO;
		goto end;
	}
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		prl_buf_addstr(url, line);
	}
	fclose(f);
end:
	prl_buf_release(&path);
	return ret;
}

static const struct prl_store_config *config;

void prl_archive_store_config(const struct prl_store_config *c)
{
	config = c;
}

int archive_store_load(struct prl_archive *a)
{
	struct prl_buf url = PRL_BUF_INIT;
	int ret;

	a->cache_used = -1;
	a->cache_cap =
		(config && config->cache_mb > 0 ? (int64_t)config->cache_mb : DEFAULT_CACHE_MB) *
		1024 * 1024;
	if ((ret = read_conf(a->dir, &url)) < 0)
		return archive_fail(a, ret, "%s/" CONF ": %s", a->dir, strerror(errno));
	if (url.len)
		a->store_url = prl_buf_detach(&url, NULL);
	prl_buf_release(&url);
	return 0;
}

void archive_store_close(struct prl_archive *a)
{
	archive_s3_free(a->s3);
	a->s3 = NULL;
	free(a->store_url);
	a->store_url = NULL;
}

const char *prl_archive_media_store(struct prl_archive *a)
{
	return a->store_url;
}

/* The client, made on first use (reading endpoint and credentials then),
 * or NULL with why appended to err: the store reports into a buffer, and
 * a caller that answers with the archive's message sets it from there. */
static struct archive_s3 *client(struct prl_archive *a, struct prl_buf *err)
{
	if (!a->s3)
		archive_s3_open(a->store_url, config, &a->s3, err);
	return a->s3;
}

/* client() for a caller that answers with the archive's message. */
static struct archive_s3 *client_or_fail(struct prl_archive *a)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct archive_s3 *s = client(a, &err);

	if (!s)
		archive_fail(a, -PRL_EINVAL, "%s", prl_buf_str(&err));
	prl_buf_release(&err);
	return s;
}

int prl_archive_media_store_set(struct prl_archive *a, const char *url)
{
	struct prl_buf path = PRL_BUF_INIT, tmp = PRL_BUF_INIT, err = PRL_BUF_INIT;
	sqlite3_stmt *st;
	FILE *f;
	int ret;

	if (a->store_url) {
		if (!strcmp(a->store_url, url))
			return 0;
		return archive_fail(a, -PRL_EINVAL,
				    "this archive keeps its media in %s: that cannot change",
				    a->store_url);
	}
	if (!(st = archive_stmt(a, ST_MEDIA_ALL)))
		return -PRL_ESQL;
	ret = sqlite3_step(st);
	sqlite3_reset(st);
	if (ret == SQLITE_ROW)
		return archive_fail(a, -PRL_EINVAL,
				    "this archive keeps its media in %s already: an object store "
				    "is chosen when the archive is made",
				    a->media_dir);
	if (!(a->store_url = strdup(url)))
		return -PRL_ENOMEM;
	/* the address, the credentials and the bucket checked before
	 * anything is written */
	if (!client_or_fail(a)) {
		ret = -PRL_EINVAL;
		goto fail;
	}
	if ((ret = archive_s3_check(a->s3, &err)) < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&err));
		goto fail;
	}
	prl_buf_addf(&path, "%s/" CONF, a->dir);
	prl_buf_addf(&tmp, "%s/." CONF ".tmp", a->dir);
	if (!(f = fopen(tmp.data, "w")) || fprintf(f, "%s\n", url) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		ret = archive_fail(a, -PRL_EIO, "%s: %s", tmp.data, strerror(errno));
		if (f)
			fclose(f);
		unlink(tmp.data);
		goto fail;
	}
	fclose(f);
	if (rename(tmp.data, path.data) != 0) {
		ret = archive_fail(a, -PRL_EIO, "%s: %s", path.data, strerror(errno));
		unlink(tmp.data);
		goto fail;
	}
	ret = 0;
	goto end;
fail:
	archive_store_close(a);
end:
	prl_buf_release(&path);
	prl_buf_release(&tmp);
	prl_buf_release(&err);
	return ret;
}

int archive_media_publish(struct prl_archive *a, const char *rel, const char *file,
			  const char *sha256, struct prl_buf *err)
{
	struct archive_s3 *s;

	if (!a->store_url)
		return 0;
	if (!(s = client(a, err)))
		return -PRL_EINVAL;
	return archive_s3_put(s, rel, file, sha256, err);
}

int archive_media_forget(struct prl_archive *a, const char *rel)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct archive_s3 *s;
	int ret = 0;

	if (!a->store_url)
		return 0;
	if (!(s = client_or_fail(a)))
		return -PRL_EINVAL;
	if ((ret = archive_s3_delete(s, rel, &err)) < 0)
		archive_fail(a, ret, "%s", prl_buf_str(&err));
	prl_buf_release(&err);
	return ret;
}

/* Adds up media/xx/ files' sizes. */
static int64_t cache_walk(struct prl_archive *a, int (*visit)(void *, const char *, struct stat *),
			  void *ctx)
{
	struct prl_buf sub = PRL_BUF_INIT, file = PRL_BUF_INIT;
	struct dirent *de, *fe;
	DIR *top, *d;
	int64_t total = 0;

	if (!(top = opendir(a->media_dir)))
		return 0;
	while ((de = readdir(top))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 2)
			continue;
		prl_buf_reset(&sub);
		prl_buf_addf(&sub, "%s/%s", a->media_dir, de->d_name);
		if (!(d = opendir(sub.data)))
			continue;
		while ((fe = readdir(d))) {
			struct stat sb;

			if (fe->d_name[0] == '.')
				continue;
			prl_buf_reset(&file);
			prl_buf_addf(&file, "%s/%s", sub.data, fe->d_name);
			if (stat(file.data, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			total += (int64_t)sb.st_size;
			if (visit)
				visit(ctx, file.data, &sb);
		}
		closedir(d);
	}
	closedir(top);
	prl_buf_release(&sub);
	prl_buf_release(&file);
	return total;
}

struct cached {
	char *path;
	int64_t bytes;
	time_t used;
};

struct cached_list {
	struct cached *v;
	size_t n, alloc;
};

static int collect(void *ctx, const char *path, struct stat *sb)
{
	struct cached_list *l = ctx;

	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 256;
		struct cached *g = realloc(l->v, na * sizeof(*g));

		if (!g)
			return -1;
		l->v = g;
		l->alloc = na;
	}
	if (!(l->v[l->n].path = strdup(path)))
		return -1;
	l->v[l->n].bytes = (int64_t)sb->st_size;
	l->v[l->n].used = sb->st_atime > sb->st_mtime ? sb->st_atime : sb->st_mtime;
	l->n++;
	return 0;
}

static int by_use(const void *x, const void *y)
{
	const struct cached *p = x, *q = y;

	return (p->used > q->used) - (p->used < q->used);
}

/* Removes the least recently used cached files, never keep (the one just
 * fetched, about to be served), until the cache holds at most nine tenths
 * of its cap.  Every one of them is in the store. */
static void cache_trim(struct prl_archive *a, const char *keep)
{
	struct cached_list l = {NULL, 0, 0};
	int64_t total = cache_walk(a, collect, &l);
	size_t i;

	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), by_use);
	for (i = 0; i < l.n && total > a->cache_cap / 10 * 9; i++)
		if (strcmp(l.v[i].path, keep) != 0 && unlink(l.v[i].path) == 0)
			total -= l.v[i].bytes;
	for (i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
	a->cache_used = total;
}

int archive_media_local(struct prl_archive *a, const char *rel, const char *sha256,
			struct prl_buf *abs)
{
	struct prl_buf tmp = PRL_BUF_INIT, err = PRL_BUF_INIT;
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	struct archive_s3 *s;
	struct stat sb;
	char hex[65];
	int64_t got = 0;
	FILE *f = NULL;
	int fd, ret;

	prl_buf_addf(abs, "%s/%s", a->dir, rel);
	if (!a->store_url)
		return 0;
	if (stat(abs->data, &sb) == 0) {
		/* cached; marked as used now (once a minute at most: a media
		 * request costs a stat(), not an inode write) */
		if (sb.st_atime < time(NULL) - 60)
			utimensat(AT_FDCWD, abs->data, ts, 0);
		return 0;
	}
	if (!(s = client_or_fail(a)))
		return -PRL_EINVAL;
	prl_buf_addf(&tmp, "%s/%.8s", a->dir, rel); /* media/xx */
	mkdir(tmp.data, 0755);
	prl_buf_addstr(&tmp, "/.fetch-XXXXXX");
	if ((fd = mkstemp(tmp.data)) < 0 || !(f = fdopen(fd, "wb"))) {
		ret = archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO, "%s: %s", tmp.data,
				   strerror(errno));
		if (fd >= 0)
			close(fd);
		goto end;
	}
	if ((ret = archive_s3_get(s, rel, f, 0, -1, hex, &got, &err)) < 0) {
		archive_fail(a, ret, "%s", prl_buf_str(&err));
		goto end;
	}
	if (sha256 && strcmp(hex, sha256) != 0) {
		ret = archive_fail(a, -PRL_EFORMAT,
				   "%s in the object store does not match its SHA-256 (run parlers "
				   "fsck)",
				   rel);
		goto end;
	}
	if (fclose(f) != 0 || rename(tmp.data, abs->data) != 0) {
		f = NULL;
		ret = archive_fail(a, -PRL_EIO, "%s: %s", abs->data, strerror(errno));
		goto end;
	}
	f = NULL;
	if (a->cache_used < 0)
		a->cache_used = cache_walk(a, NULL, NULL);
	else
		a->cache_used += got;
	if (a->cache_used > a->cache_cap)
		cache_trim(a, abs->data);
	ret = 0;
end:
	if (f)
		fclose(f);
	if (ret < 0)
		unlink(tmp.data);
	prl_buf_release(&tmp);
	prl_buf_release(&err);
	return ret;
}

int archive_media_fetch_to(struct prl_archive *a, const char *rel, FILE *to, char hex[65],
			   int64_t *got, struct prl_buf *err)
{
	struct archive_s3 *s = client(a, err);

	if (!s)
		return -PRL_EINVAL;
	return archive_s3_get(s, rel, to, 0, -1, hex, got, err);
}

int archive_media_presign(struct prl_archive *a, const char *rel, const char *method,
			  const char *content_type, const char *disposition, long expires_s,
			  struct prl_buf *url)
{
	struct archive_s3 *s;
	int ret;

	if (!a->store_url)
		return 1;
	if (!(s = client_or_fail(a)))
		return -PRL_EINVAL;
	if ((ret = archive_s3_presign(s, method, rel, content_type, disposition, time(NULL),
				      expires_s, url)) < 0)
		return archive_fail(a, ret, "%s: cannot sign a URL for it", rel);
	return 0;
}
