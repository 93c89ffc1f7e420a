/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Backups: a consistent copy of a live archive, its check, and its restore.
 *
 * A backup folder holds archive.db, a snapshot taken with SQLite's online
 * backup API in one read transaction (the server goes on writing beside
 * it: WAL readers do not block writers), the media files that snapshot
 * names (and only those: the snapshot comes first, the media after it),
 * archive-id, and MANIFEST, which lists every file's SHA-256, size and
 * path and ends with "end N HASH", HASH being the SHA-256 of every byte
 * before that line, so a manifest cut short or edited by hand is known.
 *
 * Always holds: MANIFEST is the last file written, after everything it
 * lists is on disk (one syncfs() rather than one fsync() per file), so a
 * folder with a MANIFEST holds a whole backup; a media file appears under
 * its final name complete (a hard link, or a copy written to a temporary
 * name and renamed); every byte put into a backup is hashed on its way
 * and checked against the SHA-256 the snapshot gives it; a file the
 * archive changed after the snapshot (a derivative rebuilt, a muted copy
 * replaced) makes the run take a new snapshot and go on.  A restore
 * verifies everything before it writes, and writes into a folder beside
 * the target that becomes the target by one rename.
 *
 * Expected workload: a nightly backup into the same folder, where most of
 * the media is there already.  Files the previous manifest lists with the
 * same SHA-256 and size are not read again; a new recording costs its own
 * files plus the database snapshot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "archive-internal.h"
#include "parlers/transcode.h"

#define MANIFEST_NAME "MANIFEST"
#define MANIFEST_MAGIC "parlers-backup 1"
#define ID_NAME "archive-id"
#define SNAPSHOT_NAME "archive.db.new"
#define COPY_CHUNK (1 << 20)
#define ATTEMPTS 3 /* snapshots taken before a file that keeps changing is an error */

/* One line of a manifest. */
struct entry {
	char *path;	 /* relative to the backup folder */
	int64_t bytes;	 /* its size */
	char sha256[65]; /* lower-case hex */
};

/* A manifest as read: entries sorted by path. */
struct manifest {
	char archive_id[33]; /* 32 hex digits */
	struct entry *e;     /* sorted by path */
	size_t n, alloc;
};

static void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->path, ((const struct entry *)y)->path);
}

static const struct entry *manifest_find(const struct manifest *m, const char *path)
{
	struct entry key = {(char *)path, 0, ""};

	if (!m->n)
		return NULL;
	return bsearch(&key, m->e, m->n, sizeof(*m->e), entry_cmp);
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The only paths a backup may hold: archive.db and media/xx/<sha256>.<ext>
 * (ext: letters, digits, dots, no ".."): nothing a manifest says can name
 * a file outside the folder. */
static int path_allowed(const char *p)
{
	const char *ext;

	if (!strcmp(p, "archive.db"))
		return 1;
	if (strncmp(p, "media/", 6) || strlen(p) < 6 + 3 + 64 + 2 || !is_hex(p + 6, 2) ||
	    p[8] != '/' || !is_hex(p + 9, 64) || strncmp(p + 6, p + 9, 2) || p[73] != '.')
		return 0;
	for (ext = p + 74; *ext; ext++)
		if (!((*ext >= 'a' && *ext <= 'z') || (*ext >= 'A' && *ext <= 'Z') ||
		      (*ext >= '0' && *ext <= '9') || (*ext == '.' && ext[1] != '.')))
			return 0;
	return p[74] != '\0';
}

/* Reads and checks a manifest.  Returns 0, -PRL_ENOTFOUND when there is
 * none, -PRL_EFORMAT (why in err) when it is cut short or malformed. */
static int manifest_read(const char *dir, struct manifest *m, struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, text = PRL_BUF_INIT;
	unsigned char d[32];
	char hex[65], *line, *next;
	size_t body;
	long long count = -1;
	int ret, lineno = 0;

	memset(m, 0, sizeof(*m));
	prl_buf_addf(&path, "%s/" MANIFEST_NAME, dir);
	if (access(path.data, F_OK) != 0) {
		ret = -PRL_ENOTFOUND;
		prl_buf_addstr(err,
			       "no MANIFEST: not a parlers backup, or one that never finished");
		goto end;
	}
	if ((ret = prl_read_file(path.data, (size_t)1 << 31, &text)) < 0) {
		prl_buf_addf(err, "MANIFEST: cannot read: %s", strerror(errno));
		goto end;
	}
	ret = -PRL_EFORMAT;
	/* the last line checks every byte before it */
	if (!text.len || text.data[text.len - 1] != '\n') {
		prl_buf_addstr(err, "MANIFEST is cut short (no end line)");
		goto end;
	}
	text.data[text.len - 1] = '\0';
	line = strrchr(text.data, '\n');
	body = line ? (size_t)(line - text.data) + 1 : 0;
	line = line ? line + 1 : text.data;
	if (sscanf(line, "end %lld %64s", &count, hex) != 2 || strlen(hex) != 64) {
		prl_buf_addstr(err, "MANIFEST is cut short (no end line)");
		goto end;
	}
	crypto_hash_sha256(d, (const unsigned char *)text.data, body);
	{
		char got[65];

		prl_sha256_hex(d, got);
		if (strcmp(got, hex) != 0) {
			prl_buf_addstr(err, "MANIFEST does not match its own checksum (edited or "
					    "damaged)");
			goto end;
		}
	}
	text.data[body ? body - 1 : 0] = '\0';
	for (line = text.data; body && line; line = next) {
		char sha[65], rel[4097];
		long long bytes;
		int used = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, MANIFEST_MAGIC) != 0) {
				prl_buf_addstr(err, "MANIFEST: not a parlers backup manifest");
				goto end;
			}
			continue;
		}
		if (!strncmp(line, "archive ", 8)) {
			if (strlen(line + 8) != 32 || !is_hex(line + 8, 32)) {
				prl_buf_addf(err, "MANIFEST line %d: a malformed archive id",
					     lineno);
				goto end;
			}
			memcpy(m->archive_id, line + 8, 33);
			continue;
		}
		if (!strncmp(line, "created ", 8) || !strncmp(line, "schema ", 7))
			continue;
		if (sscanf(line, "%64s %lld %4096s%n", sha, &bytes, rel, &used) != 3 ||
		    line[used] || strlen(sha) != 64 || !is_hex(sha, 64) || bytes < 0 ||
		    !path_allowed(rel)) {
			prl_buf_addf(err, "MANIFEST line %d is malformed", lineno);
			goto end;
		}
		if (m->n == m->alloc) {
			size_t na = m->alloc ? m->alloc * 2 : 256;
			struct entry *g = realloc(m->e, na * sizeof(*g));

			if (!g) {
				ret = -PRL_ENOMEM;
				goto end;
			}
			m->e = g;
			m->alloc = na;
		}
		if (!(m->e[m->n].path = strdup(rel))) {
			ret = -PRL_ENOMEM;
			goto end;
		}
		m->e[m->n].bytes = bytes;
		memcpy(m->e[m->n].sha256, sha, 65);
		m->n++;
	}
	if (lineno < 1 || !m->archive_id[0]) {
		prl_buf_addstr(err, "MANIFEST names no archive");
		goto end;
	}
	if (count != (long long)m->n) {
		prl_buf_addf(err, "MANIFEST lists %zu files, its end line says %lld", m->n, count);
		goto end;
	}
	if (m->n > 1)
		qsort(m->e, m->n, sizeof(*m->e), entry_cmp);
	for (size_t i = 1; i < m->n; i++)
		if (!strcmp(m->e[i - 1].path, m->e[i].path)) {
			prl_buf_addf(err, "MANIFEST lists %s twice", m->e[i].path);
			goto end;
		}
	if (!manifest_find(m, "archive.db")) {
		prl_buf_addstr(err, "MANIFEST lists no archive.db");
		goto end;
	}
	ret = 0;
end:
	if (ret < 0)
		manifest_release(m);
	prl_buf_release(&path);
	prl_buf_release(&text);
	return ret;
}

static int errno_err(int e)
{
	return e == ENOSPC || e == EDQUOT ? -PRL_ENOSPC : -PRL_EIO;
}

/* Copies the first total bytes of in to out: copy_file_range(), else
 * pread() and write() through buf.  0 or a negative prl_err (errno set). */
static int copy_fd(int in, int out, int64_t total, unsigned char *buf)
{
	loff_t from = 0, to = 0;
	ssize_t n;

	while (from < total) {
		n = copy_file_range(in, &from, out, &to, (size_t)(total - from), 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return errno_err(errno);
		break; /* not between these two: the plain way */
	}
	while (from < total) {
		n = pread(in, buf, COPY_CHUNK, from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -PRL_EIO;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = pwrite(out, buf + off, (size_t)(n - off), to);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (w == 0)
					errno = EIO;
				return errno_err(errno);
			}
			off += w;
			to += w;
		}
		from += n;
	}
	return 0;
}

/* Streams src into dst (when not NULL: made with O_EXCL, mode 0644)
 * through SHA-256.  Returns 0 with hex and *bytes, -PRL_ENOTFOUND when
 * src is gone, -PRL_ENOSPC, -PRL_EIO (one line in err naming the file
 * that failed); on failure dst is removed. */
static int stream_file(const char *src, const char *dst, unsigned char *buf, char hex[65],
		       int64_t *bytes, struct prl_buf *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int64_t total = 0;
	int in = -1, out = -1, ret = -PRL_EIO;
	ssize_t n;

	if (!md)
		return -PRL_ENOMEM;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = errno == ENOENT ? -PRL_ENOTFOUND : -PRL_EIO;
		prl_buf_addf(err, "%s: %s", src, strerror(errno));
		goto end;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (dst && (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "%s: %s", dst, strerror(errno));
		goto end;
	}
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto end;
	while ((n = read(in, buf, COPY_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			prl_buf_addf(err, "%s: %s", src, strerror(errno));
			goto end;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += n;
	}
	/* the bytes hashed are the bytes copied: the same open inode (the
	 * archive replaces files by rename, never in place); the kernel
	 * copies them without a trip through this process */
	if (out >= 0 && (ret = copy_fd(in, out, total, buf)) < 0) {
		prl_buf_addf(err, "%s: %s", dst, strerror(errno));
		goto end;
	}
	/* the disk starts writing now, beside the next files' hashing: the
	 * syncfs() before the manifest then has little left to wait for */
	if (out >= 0)
		sync_file_range(out, 0, 0, SYNC_FILE_RANGE_WRITE);
	ret = -PRL_EIO;
	if (out >= 0) {
		int fd = out;

		out = -1;
		if (close(fd) != 0) {
			ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
			prl_buf_addf(err, "%s: %s", dst, strerror(errno));
			unlink(dst);
			goto end;
		}
	}
	if (!EVP_DigestFinal_ex(md, d, &dlen) || dlen != 32)
		goto end;
	prl_sha256_hex(d, hex);
	*bytes = total;
	ret = 0;
end:
	if (out >= 0) {
		close(out);
		unlink(dst);
	}
	if (in >= 0)
		close(in);
	EVP_MD_CTX_free(md);
	return ret;
}

/* The archive id kept in dir/archive-id into id; with create, one made
 * when there is none.  Returns 0, -PRL_ENOTFOUND, -PRL_EFORMAT, -PRL_EIO. */
static int archive_id_read(const char *dir, int create, char id[33], struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, tmp = PRL_BUF_INIT, text = PRL_BUF_INIT;
	unsigned char raw[16];
	int ret, fd;

	prl_buf_addf(&path, "%s/" ID_NAME, dir);
	if (access(path.data, F_OK) != 0 && create) {
		/* made under a temporary name and linked: two first backups at
		 * once agree on the id the first link gave */
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(id, 33, raw, sizeof(raw));
		prl_buf_addf(&tmp, "%s.%ld.tmp", path.data, (long)getpid());
		fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, id, 32) != 32 || write(fd, "\n", 1) != 1 ||
		    fsync(fd) != 0) {
			ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
			prl_buf_addf(err, "%s: cannot write: %s", path.data, strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(tmp.data);
			goto end;
		}
		close(fd);
		if (link(tmp.data, path.data) != 0 && errno != EEXIST) {
			ret = -PRL_EIO;
			prl_buf_addf(err, "%s: cannot write: %s", path.data, strerror(errno));
			unlink(tmp.data);
			goto end;
		}
		unlink(tmp.data);
	}
	if ((ret = prl_read_file(path.data, 4096, &text)) < 0) {
		ret = errno == ENOENT ? -PRL_ENOTFOUND : -PRL_EIO;
		prl_buf_addf(err, "%s: %s", path.data, strerror(errno));
		goto end;
	}
	if (text.len < 32 || !is_hex(text.data, 32)) {
		ret = -PRL_EFORMAT;
		prl_buf_addf(err, "%s: not an archive id", path.data);
		goto end;
	}
	memcpy(id, text.data, 32);
	id[32] = '\0';
	ret = 0;
end:
	prl_buf_release(&path);
	prl_buf_release(&tmp);
	prl_buf_release(&text);
	return ret;
}

/* Writes id into dir/archive-id (temporary name, fsync, rename). */
static int archive_id_write(const char *dir, const char *id, struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, tmp = PRL_BUF_INIT;
	int fd, ret = 0;

	prl_buf_addf(&path, "%s/" ID_NAME, dir);
	prl_buf_addf(&tmp, "%s.tmp", path.data);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, id, 32) != 32 || write(fd, "\n", 1) != 1 || fsync(fd) != 0 ||
	    rename(tmp.data, path.data) != 0) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "%s: cannot write: %s", path.data, strerror(errno));
		unlink(tmp.data);
	}
	if (fd >= 0)
		close(fd);
	prl_buf_release(&path);
	prl_buf_release(&tmp);
	return ret;
}

/* Whether dir holds nothing at all. */
/* 1 when dir holds nothing, or, with id_tmp, only what a first backup
 * killed before its archive-id was in place left (archive-id.tmp, which
 * the next one writes again). */
static int dir_is_empty(const char *dir, int id_tmp)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (!id_tmp || strcmp(de->d_name, ID_NAME ".tmp")))
			empty = 0;
	closedir(d);
	return empty;
}

static int make_dir(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* ---- making a backup ---- */

struct backup_run {
	struct prl_archive *a;
	const char *dest;	    /* as given */
	int links;		    /* hard links still worth trying */
	struct manifest old;	    /* DEST's previous manifest, or empty */
	unsigned char *buf;	    /* COPY_CHUNK bytes */
	struct prl_backup_stats st; /* counts so far */
	struct prl_buf why;	    /* a failure's detail */
	struct prl_buf changed;	    /* the last file that changed under the run */
	time_t snap_started;	    /* when the current snapshot began */
};

/* Takes the snapshot into dest/archive.db.new, in the rollback-journal
 * mode so the file stands alone. */
static int snapshot(struct backup_run *r, const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_backup *b;
	int rc, ret = 0;

	unlink(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		ret = archive_fail(r->a, errno_err(errno), "%s: cannot write: %s", r->dest,
				   db ? sqlite3_errmsg(db) : "out of memory");
		goto end;
	}
	if (!(b = sqlite3_backup_init(db, "main", r->a->db, "main"))) {
		ret = archive_fail(r->a, -PRL_ESQL, "%s: %s", r->dest, sqlite3_errmsg(db));
		goto end;
	}
	/* every page in one step: one read transaction, one consistent state */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE || sqlite3_errcode(db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		int full = rc == SQLITE_FULL || sqlite3_errcode(db) == SQLITE_FULL;

		ret = archive_fail(r->a, full ? -PRL_ENOSPC : -PRL_EIO,
				   "%s: copying the database: %s", r->dest,
				   full ? "no space left on device" : sqlite3_errstr(rc));
	}
end:
	sqlite3_close(db);
	if (ret < 0)
		unlink(path);
	return ret;
}

/* Checks that a file of dest is the one wanted: 1 yes, 0 no. */
static int dest_holds(struct backup_run *r, const char *rel, const char *dst, int64_t bytes,
		      const char *sha)
{
	const struct entry *e = manifest_find(&r->old, rel);
	struct prl_buf why = PRL_BUF_INIT;
	struct stat sb;
	char hex[65];
	int64_t got;
	int ret;

	if (lstat(dst, &sb) != 0 || !S_ISREG(sb.st_mode) || (int64_t)sb.st_size != bytes)
		return 0;
	/* the last backup checked these bytes: not read again */
	if (e && e->bytes == bytes && !strcmp(e->sha256, sha))
		return 1;
	ret = stream_file(dst, NULL, r->buf, hex, &got, &why);
	prl_buf_release(&why);
	return ret == 0 && got == bytes && !strcmp(hex, sha);
}

/* place_file() for an archive whose media are in an object store: the
 * object read into a temporary file beside dst, checked, renamed. */
static int place_object(struct backup_run *r, const char *rel, int64_t bytes, const char *sha,
			const char *dst)
{
	struct prl_buf tmp = PRL_BUF_INIT;
	char hex[65];
	int64_t got = 0;
	FILE *f;
	int ret;

	prl_buf_addf(&tmp, "%s/%.8s/.tmp-%s", r->dest, rel, rel + 9);
	if (!(f = fopen(tmp.data, "wb"))) {
		ret = archive_fail(r->a, errno_err(errno), "%s: cannot write %s: %s", r->dest, rel,
				   strerror(errno));
		goto end;
	}
	prl_buf_reset(&r->why);
	ret = archive_media_fetch_to(r->a, rel, f, hex, &got, &r->why);
	if (fclose(f) != 0 && ret == 0)
		ret = errno_err(errno);
	if (ret == -PRL_ENOTFOUND) {
		prl_buf_reset(&r->changed);
		prl_buf_addf(&r->changed, "%s: gone from the object store", rel);
		ret = 1;
	} else if (ret == -PRL_ENOSPC) {
		ret = archive_fail(r->a, ret, "%s: no space left on device (copying %s)", r->dest,
				   rel);
	} else if (ret < 0) {
		ret = archive_fail(r->a, ret, "%s", prl_buf_str(&r->why));
	} else if (got != bytes || strcmp(hex, sha) != 0) {
		prl_buf_reset(&r->changed);
		prl_buf_addf(&r->changed,
			     "%s: the object store's copy does not match its SHA-256 (run parlers "
			     "fsck)",
			     rel);
		ret = 1;
	} else if (rename(tmp.data, dst) != 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: %s", dst, strerror(errno));
	} else {
		r->st.copied++;
		r->st.bytes_copied += got;
	}
end:
	if (ret != 0)
		unlink(tmp.data);
	prl_buf_release(&tmp);
	return ret;
}

/* Puts one media file into dest.  Returns 0, 1 when the archive's file is
 * not the one the snapshot names (changed since: take a new snapshot), or
 * a negative prl_err. */
static int place_file(struct backup_run *r, const char *rel, int64_t bytes, const char *sha)
{
	struct prl_buf src = PRL_BUF_INIT, dst = PRL_BUF_INIT, tmp = PRL_BUF_INIT;
	struct stat sb;
	char hex[65];
	int64_t got = 0;
	int ret = 0;

	prl_buf_addf(&src, "%s/%s", r->a->dir, rel);
	prl_buf_addf(&dst, "%s/%.8s", r->dest, rel); /* media/xx */
	if (make_dir(dst.data) < 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: cannot create: %s", dst.data,
				   strerror(errno));
		goto end;
	}
	prl_buf_reset(&dst);
	prl_buf_addf(&dst, "%s/%s", r->dest, rel);
	if (dest_holds(r, rel, dst.data, bytes, sha)) {
		r->st.kept++;
		goto end;
	}
	unlink(dst.data);
	if (r->a->store_url) {
		ret = place_object(r, rel, bytes, sha, dst.data);
		goto end;
	}
	if (stat(src.data, &sb) != 0 || (int64_t)sb.st_size != bytes) {
		int gone = errno == ENOENT && access(src.data, F_OK) != 0;

		prl_buf_reset(&r->changed);
		prl_buf_addf(&r->changed, "%s: %s", rel,
			     gone ? "gone from the archive"
				  : "its size is not the one archive.db gives");
		ret = 1;
		goto end;
	}
	if (r->links) {
		if (link(src.data, dst.data) == 0) {
			struct stat lb;

			/* the same inode as the archive's: its bytes are the ones
			 * ingest hashed, unless the file was replaced (a rebuilt
			 * derivative) after the snapshot began; such a file is
			 * read to check it is the one the snapshot names */
			if (lstat(dst.data, &lb) == 0 && lb.st_ino == sb.st_ino &&
			    lb.st_mtime < r->snap_started - 1) {
				r->st.linked++;
				goto end;
			}
			if ((ret = stream_file(dst.data, NULL, r->buf, hex, &got, &r->why)) < 0) {
				ret = archive_fail(r->a, ret, "%s", r->why.data);
				unlink(dst.data);
				goto end;
			}
			if (strcmp(hex, sha) != 0) {
				unlink(dst.data);
				prl_buf_reset(&r->changed);
				prl_buf_addf(&r->changed,
					     "%s: the archive's file does not match its SHA-256 "
					     "(run parlers fsck)",
					     rel);
				ret = 1;
				goto end;
			}
			r->st.linked++;
			goto end;
		}
		if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP &&
		    errno != EACCES) {
			ret = archive_fail(r->a, errno_err(errno), "%s: cannot write %s: %s",
					   r->dest, rel, strerror(errno));
			goto end;
		}
		r->links = 0; /* another filesystem: copies from now on */
	}
	prl_buf_addf(&tmp, "%s/%.8s/.tmp-%s", r->dest, rel, rel + 9);
	unlink(tmp.data);
	prl_buf_reset(&r->why);
	if ((ret = stream_file(src.data, tmp.data, r->buf, hex, &got, &r->why)) < 0) {
		if (ret == -PRL_ENOTFOUND) {
			prl_buf_reset(&r->changed);
			prl_buf_addf(&r->changed, "%s: gone from the archive", rel);
			ret = 1;
			goto end;
		}
		if (ret == -PRL_ENOSPC)
			ret = archive_fail(r->a, ret, "%s: no space left on device (copying %s)",
					   r->dest, rel);
		else
			ret = archive_fail(r->a, ret, "%s", r->why.data);
		goto end;
	}
	if (got != bytes || strcmp(hex, sha) != 0) {
		unlink(tmp.data);
		prl_buf_reset(&r->changed);
		prl_buf_addf(&r->changed,
			     "%s: the archive's file does not match its SHA-256 (run parlers fsck)",
			     rel);
		ret = 1;
		goto end;
	}
	if (rename(tmp.data, dst.data) != 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: %s", dst.data, strerror(errno));
		unlink(tmp.data);
		goto end;
	}
	r->st.copied++;
	r->st.bytes_copied += got;
end:
	prl_buf_release(&src);
	prl_buf_release(&dst);
	prl_buf_release(&tmp);
	return ret;
}

/* Appends a line to the manifest being written, and to its hash. */
static void manifest_line(struct prl_buf *text, const char *sha, int64_t bytes, const char *rel)
{
	prl_buf_addf(text, "%s %lld %s\n", sha, (long long)bytes, rel);
}

/* Writes dir/MANIFEST.tmp from text plus its end line, and syncs it. */
static int manifest_write(struct backup_run *r, struct prl_buf *text, int64_t files,
			  const char *tmp)
{
	unsigned char d[32];
	char hex[65];
	int fd, ret = 0;

	crypto_hash_sha256(d, (const unsigned char *)text->data, text->len);
	prl_sha256_hex(d, hex);
	prl_buf_addf(text, "end %lld %s\n", (long long)files, hex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text->data, text->len) != (ssize_t)text->len || fsync(fd) != 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: cannot write the manifest: %s",
				   r->dest, strerror(errno));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* One attempt: snapshot, media, manifest.  0, 1 (something changed under
 * it: try again), or a negative prl_err. */
static int backup_once(struct backup_run *r, int dest_fd)
{
	struct prl_buf snap = PRL_BUF_INIT, text = PRL_BUF_INIT, mtmp = PRL_BUF_INIT,
		       final = PRL_BUF_INIT, manifest = PRL_BUF_INIT, prev = PRL_BUF_INIT;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char hex[65], when[32];
	int64_t bytes = 0;
	time_t now = time(NULL);
	struct tm tm;
	int ret, rc;

	r->st.files = r->st.bytes = r->st.kept = 0;
	prl_buf_addf(&snap, "%s/" SNAPSHOT_NAME, r->dest);
	prl_buf_addf(&mtmp, "%s/" MANIFEST_NAME ".tmp", r->dest);
	prl_buf_addf(&manifest, "%s/" MANIFEST_NAME, r->dest);
	prl_buf_addf(&final, "%s/archive.db", r->dest);
	r->snap_started = time(NULL);
	if ((ret = snapshot(r, snap.data)) < 0)
		goto end;
	prl_buf_reset(&r->why);
	if ((ret = stream_file(snap.data, NULL, r->buf, hex, &bytes, &r->why)) < 0) {
		ret = archive_fail(r->a, ret, "%s", r->why.data);
		goto end;
	}
	r->st.bytes_copied += bytes;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	prl_buf_addf(&text, MANIFEST_MAGIC "\narchive %s\ncreated %s\nschema %d\n",
		     r->st.archive_id, when, r->a->schema_version);
	manifest_line(&text, hex, bytes, "archive.db");
	r->st.files = 1;
	r->st.bytes = bytes;
	/* the media the snapshot names, and nothing else */
	if (sqlite3_open_v2(snap.data, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    archive_stmt_prepare_on(db, ST_MEDIA_ALL, &st) != SQLITE_OK) {
		ret = archive_fail(r->a, -PRL_ESQL, "%s: reading the snapshot: %s", r->dest,
				   db ? sqlite3_errmsg(db) : "out of memory");
		goto end;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(st, 0);
		const char *sha = (const char *)sqlite3_column_text(st, 2);
		int64_t b = sqlite3_column_int64(st, 1);

		if (!rel || !sha || !path_allowed(rel) || strlen(sha) != 64 || !is_hex(sha, 64)) {
			ret = archive_fail(r->a, -PRL_EFORMAT,
					   "archive.db names a media file as no ingest does: %s",
					   rel ? rel : "(null)");
			goto end;
		}
		if (prev.len && !strcmp(prev.data, rel))
			continue;
		prl_buf_reset(&prev);
		prl_buf_addstr(&prev, rel);
		if ((ret = place_file(r, rel, b, sha)) != 0)
			goto end;
		manifest_line(&text, sha, b, rel);
		r->st.files++;
		r->st.bytes += b;
	}
	if (rc != SQLITE_DONE) {
		ret = archive_fail(r->a, -PRL_ESQL, "%s: reading the snapshot: %s", r->dest,
				   sqlite3_errmsg(db));
		goto end;
	}
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_close(db);
	db = NULL;
	/* everything listed is on disk before the manifest that lists it */
	if (syncfs(dest_fd) != 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: %s", r->dest, strerror(errno));
		goto end;
	}
	if ((ret = manifest_write(r, &text, r->st.files, mtmp.data)) < 0)
		goto end;
	/* between these renames DEST has no manifest: an interrupted run
	 * leaves a folder that says it holds no finished backup */
	if ((unlink(manifest.data) != 0 && errno != ENOENT) || rename(snap.data, final.data) != 0 ||
	    rename(mtmp.data, manifest.data) != 0 || fsync(dest_fd) != 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: %s", r->dest, strerror(errno));
		goto end;
	}
	ret = 0;
end:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (ret != 0) {
		unlink(snap.data);
		unlink(mtmp.data);
	}
	prl_buf_release(&snap);
	prl_buf_release(&text);
	prl_buf_release(&mtmp);
	prl_buf_release(&final);
	prl_buf_release(&manifest);
	prl_buf_release(&prev);
	return ret;
}

/* Whether path is inside dir (both absolute, resolved). */
static int is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* Makes dest ready: made when missing, else empty or this archive's
 * backup; locked (flock on its archive-id) for the run. */
static int dest_open(struct backup_run *r, int *dest_fd, int *lock_fd)
{
	struct prl_buf p = PRL_BUF_INIT, err = PRL_BUF_INIT;
	char other[33], real[PATH_MAX];
	struct stat sb;
	int ret, made = 0;

	if (stat(r->dest, &sb) != 0) {
		if (errno != ENOENT || mkdir(r->dest, 0755) != 0) {
			ret = archive_fail(r->a, errno_err(errno), "%s: cannot create: %s", r->dest,
					   strerror(errno));
			goto end;
		}
		made = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		ret = archive_fail(r->a, -PRL_EINVAL, "%s: not a folder", r->dest);
		goto end;
	}
	if ((*dest_fd = open(r->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !realpath(r->dest, real)) {
		ret = archive_fail(r->a, -PRL_EIO, "%s: %s", r->dest, strerror(errno));
		goto end;
	}
	/* a backup in the archive would replace its live database; an
	 * archive in its backup would be copied into itself */
	if (!strcmp(real, r->a->dir) || is_below(real, r->a->dir) || is_below(r->a->dir, real)) {
		ret = archive_fail(
			r->a, -PRL_EINVAL,
			"%s: a backup goes outside the data folder (%s), and not around it",
			r->dest, r->a->dir);
		if (made)
			rmdir(r->dest);
		goto end;
	}
	ret = archive_id_read(r->dest, 0, other, &err);
	if (ret == 0 && strcmp(other, r->st.archive_id) != 0) {
		ret = archive_fail(r->a, -PRL_EINVAL,
				   "%s holds the backup of another archive (%s; this one is %s): "
				   "back up into an empty folder",
				   r->dest, other, r->st.archive_id);
		goto end;
	}
	if (ret == -PRL_ENOTFOUND) {
		if (!dir_is_empty(r->dest, 1)) {
			ret = archive_fail(r->a, -PRL_EINVAL,
					   "%s is not empty and holds no parlers backup", r->dest);
			goto end;
		}
		prl_buf_reset(&err);
		if ((ret = archive_id_write(r->dest, r->st.archive_id, &err)) < 0) {
			ret = archive_fail(r->a, ret, "%s", err.data);
			goto end;
		}
	} else if (ret < 0) {
		ret = archive_fail(r->a, -PRL_EINVAL, "%s", err.data);
		goto end;
	}
	prl_buf_addf(&p, "%s/" ID_NAME, r->dest);
	if ((*lock_fd = open(p.data, O_RDONLY | O_CLOEXEC)) < 0 ||
	    flock(*lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ret = archive_fail(r->a, -PRL_EIO, "%s: %s", r->dest,
				   errno == EWOULDBLOCK ? "another backup into it is running"
							: strerror(errno));
		goto end;
	}
	prl_buf_reset(&p);
	prl_buf_addf(&p, "%s/media", r->dest);
	if (make_dir(p.data) < 0) {
		ret = archive_fail(r->a, errno_err(errno), "%s: cannot create: %s", p.data,
				   strerror(errno));
		goto end;
	}
	ret = 0;
end:
	prl_buf_release(&p);
	prl_buf_release(&err);
	return ret;
}

int prl_archive_backup(struct prl_archive *a, const char *dest, const struct prl_backup_opts *o,
		       struct prl_backup_stats *out)
{
	struct backup_run r;
	struct prl_buf err = PRL_BUF_INIT;
	int dest_fd = -1, lock_fd = -1, ret, attempt;

	memset(&r, 0, sizeof(r));
	r.a = a;
	r.dest = dest;
	r.links = !(o && o->copy_only);
	if (!(r.buf = malloc(COPY_CHUNK))) {
		ret = archive_fail(a, -PRL_ENOMEM, "out of memory");
		goto end;
	}
	if ((ret = archive_id_read(a->dir, 1, r.st.archive_id, &err)) < 0) {
		ret = archive_fail(a, ret, "%s", err.data);
		goto end;
	}
	if ((ret = dest_open(&r, &dest_fd, &lock_fd)) < 0)
		goto end;
	prl_buf_reset(&err);
	if (manifest_read(dest, &r.old, &err) < 0 || strcmp(r.old.archive_id, r.st.archive_id) != 0)
		manifest_release(&r.old); /* every file of dest is checked instead */
	for (attempt = 0; attempt < ATTEMPTS; attempt++)
		if ((ret = backup_once(&r, dest_fd)) <= 0)
			break;
	if (ret > 0)
		ret = archive_fail(a, -PRL_EIO, "%s (it changed under %d snapshots)",
				   r.changed.data, ATTEMPTS);
	if (ret == 0 && out)
		*out = r.st;
end:
	if (lock_fd >= 0)
		close(lock_fd);
	if (dest_fd >= 0)
		close(dest_fd);
	manifest_release(&r.old);
	free(r.buf);
	prl_buf_release(&r.why);
	prl_buf_release(&r.changed);
	prl_buf_release(&err);
	return ret;
}

/* ---- checking and restoring ---- */

const char *prl_backup_problem_name(enum prl_backup_problem p)
{
	switch (p) {
	case PRL_BACKUP_MANIFEST:
		return "manifest";
	case PRL_BACKUP_MISSING:
		return "missing";
	case PRL_BACKUP_SIZE:
		return "size-mismatch";
	case PRL_BACKUP_MISMATCH:
		return "checksum-mismatch";
	case PRL_BACKUP_UNLISTED:
		return "unlisted";
	}
	return "problem";
}

typedef void (*report_fn)(void *ctx, enum prl_backup_problem p, const char *path,
			  const char *detail);

/* The checks of verify and restore; m gets the manifest (released by the
 * caller, also when problems were found).  Returns the problem count or
 * a negative prl_err. */
static int check_backup(const char *src, struct manifest *m, report_fn report, void *ctx,
			struct prl_backup_stats *stats, struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, why = PRL_BUF_INIT;
	unsigned char *buf = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const struct entry *dbe;
	struct stat sb;
	int problems = 0, ret, rc, db_ok = 0;

	if (stat(src, &sb) != 0) {
		prl_buf_addf(err, "%s: %s", src, strerror(errno));
		return -PRL_ENOTFOUND;
	}
	if (!S_ISDIR(sb.st_mode)) {
		prl_buf_addf(err, "%s: not a folder", src);
		return -PRL_ENOTFOUND;
	}
	if ((ret = manifest_read(src, m, &why)) < 0) {
		if (ret == -PRL_ENOMEM)
			return ret;
		report(ctx, PRL_BACKUP_MANIFEST, MANIFEST_NAME, why.data);
		ret = 1;
		goto end;
	}
	if (!(buf = malloc(COPY_CHUNK))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	dbe = manifest_find(m, "archive.db");
	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->e[i];
		char hex[65];
		int64_t got;

		prl_buf_reset(&path);
		prl_buf_addf(&path, "%s/%s", src, e->path);
		if (stats) {
			stats->files++;
			stats->bytes += e->bytes;
		}
		if (lstat(path.data, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			report(ctx, PRL_BACKUP_MISSING, e->path, "listed in MANIFEST, not there");
			problems++;
			continue;
		}
		if ((int64_t)sb.st_size != e->bytes) {
			report(ctx, PRL_BACKUP_SIZE, e->path, "not the size MANIFEST gives");
			problems++;
			continue;
		}
		prl_buf_reset(&why);
		if (stream_file(path.data, NULL, buf, hex, &got, &why) < 0) {
			report(ctx, PRL_BACKUP_MISSING, e->path, why.data);
			problems++;
			continue;
		}
		if (strcmp(hex, e->sha256) != 0) {
			report(ctx, PRL_BACKUP_MISMATCH, e->path,
			       "its bytes do not match MANIFEST's SHA-256");
			problems++;
			continue;
		}
		if (e == dbe)
			db_ok = 1;
	}
	/* the database and the manifest must agree on every media file */
	if (db_ok) {
		prl_buf_reset(&path);
		prl_buf_addf(&path, "%s/archive.db", src);
		if (sqlite3_open_v2(path.data, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
		    archive_stmt_prepare_on(db, ST_MEDIA_ALL, &st) != SQLITE_OK) {
			report(ctx, PRL_BACKUP_MISMATCH, "archive.db", "not a parlers database");
			problems++;
			goto done;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *rel = (const char *)sqlite3_column_text(st, 0);
			const char *sha = (const char *)sqlite3_column_text(st, 2);
			const struct entry *e = rel ? manifest_find(m, rel) : NULL;

			if (!e) {
				report(ctx, PRL_BACKUP_UNLISTED, rel ? rel : "(null)",
				       "archive.db names it, MANIFEST does not list it");
				problems++;
			} else if (!sha || strcmp(sha, e->sha256) ||
				   e->bytes != sqlite3_column_int64(st, 1)) {
				report(ctx, PRL_BACKUP_UNLISTED, rel,
				       "MANIFEST lists other bytes than archive.db names");
				problems++;
			}
		}
		if (rc != SQLITE_DONE) {
			report(ctx, PRL_BACKUP_MISMATCH, "archive.db", sqlite3_errmsg(db));
			problems++;
		}
	}
done:
	ret = problems;
end:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(buf);
	prl_buf_release(&path);
	prl_buf_release(&why);
	return ret;
}

int prl_backup_verify(const char *src, report_fn report, void *ctx, struct prl_backup_stats *stats,
		      struct prl_buf *err)
{
	struct manifest m;
	struct prl_backup_stats s;
	int ret;

	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	ret = check_backup(src, &m, report, ctx, &s, err);
	memcpy(s.archive_id, m.archive_id, sizeof(s.archive_id));
	if (ret >= 0 && stats)
		*stats = s;
	manifest_release(&m);
	return ret;
}

/* The first problem of a restore's check, and how many. */
struct first_problem {
	struct prl_buf line;
	int n;
};

static void keep_first(void *ctx, enum prl_backup_problem p, const char *path, const char *detail)
{
	struct first_problem *f = ctx;

	if (!f->n++)
		prl_buf_addf(&f->line, "%s %s: %s", prl_backup_problem_name(p), path, detail);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

int prl_backup_restore(const char *src, const char *data_dir, struct prl_backup_stats *stats,
		       struct prl_buf *err)
{
	struct first_problem fp = {PRL_BUF_INIT, 0};
	struct prl_buf target = PRL_BUF_INIT, tmp = PRL_BUF_INIT, from = PRL_BUF_INIT,
		       to = PRL_BUF_INIT, why = PRL_BUF_INIT;
	struct prl_backup_stats s;
	struct manifest m;
	unsigned char *buf = NULL;
	struct stat sb;
	int ret, fd = -1, exists = 0;

	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	prl_buf_addstr(&target, data_dir);
	while (target.len > 1 && target.data[target.len - 1] == '/')
		target.data[--target.len] = '\0';
	if (stat(target.data, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode) || !dir_is_empty(target.data, 0)) {
			ret = -PRL_EINVAL;
			prl_buf_addf(err,
				     "%s is not an empty folder: restore goes into a new or "
				     "empty data folder",
				     target.data);
			goto end;
		}
		exists = 1;
	}
	/* everything is verified before anything is written */
	ret = check_backup(src, &m, keep_first, &fp, &s, err);
	if (ret < 0)
		goto end;
	if (ret > 0) {
		prl_buf_addf(err,
			     "%s: the backup is damaged or incomplete: %s (%d problem%s; "
			     "'parlers verify-backup %s' lists them)",
			     src, fp.line.data, fp.n, fp.n == 1 ? "" : "s", src);
		ret = -PRL_EFORMAT;
		goto end;
	}
	memcpy(s.archive_id, m.archive_id, sizeof(s.archive_id));
	prl_buf_addf(&tmp, "%s.restore-XXXXXX", target.data);
	if (!mkdtemp(tmp.data)) {
		ret = errno_err(errno);
		prl_buf_addf(err, "%s: cannot create: %s", tmp.data, strerror(errno));
		prl_buf_reset(&tmp);
		goto end;
	}
	if (!(buf = malloc(COPY_CHUNK))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	prl_buf_addf(&to, "%s/media", tmp.data);
	if (make_dir(to.data) < 0) {
		ret = errno_err(errno);
		prl_buf_addf(err, "%s: cannot create: %s", to.data, strerror(errno));
		goto end;
	}
	for (size_t i = 0; i < m.n; i++) {
		const struct entry *e = &m.e[i];
		char hex[65];
		int64_t got;

		prl_buf_reset(&from);
		prl_buf_reset(&to);
		prl_buf_addf(&from, "%s/%s", src, e->path);
		if (strcmp(e->path, "archive.db")) {
			prl_buf_addf(&to, "%s/%.8s", tmp.data, e->path);
			if (make_dir(to.data) < 0) {
				ret = errno_err(errno);
				prl_buf_addf(err, "%s: cannot create: %s", to.data,
					     strerror(errno));
				goto end;
			}
			prl_buf_reset(&to);
		}
		prl_buf_addf(&to, "%s/%s", tmp.data, e->path);
		prl_buf_reset(&why);
		if ((ret = stream_file(from.data, to.data, buf, hex, &got, &why)) < 0) {
			prl_buf_addf(err, "%s%s",
				     ret == -PRL_ENOSPC ? "no space left on device: " : "",
				     why.data);
			goto end;
		}
		if (got != e->bytes || strcmp(hex, e->sha256) != 0) {
			ret = -PRL_EFORMAT;
			prl_buf_addf(err, "%s: %s changed while it was restored", src, e->path);
			goto end;
		}
	}
	prl_buf_reset(&why);
	if ((ret = archive_id_write(tmp.data, m.archive_id, &why)) < 0) {
		prl_buf_addstr(err, why.data);
		goto end;
	}
	if ((fd = open(tmp.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || syncfs(fd) != 0 ||
	    (exists && rmdir(target.data) != 0) || rename(tmp.data, target.data) != 0) {
		ret = errno_err(errno);
		prl_buf_addf(err, "%s: %s", target.data, strerror(errno));
		if (exists)
			mkdir(target.data, 0755);
		goto end;
	}
	ret = 0;
	if (stats)
		*stats = s;
end:
	if (fd >= 0)
		close(fd);
	if (ret < 0 && tmp.len)
		nftw(tmp.data, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	manifest_release(&m);
	free(buf);
	prl_buf_release(&fp.line);
	prl_buf_release(&target);
	prl_buf_release(&tmp);
	prl_buf_release(&from);
	prl_buf_release(&to);
	prl_buf_release(&why);
	return ret;
}
