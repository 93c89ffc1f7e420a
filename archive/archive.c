/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Opening and closing an archive, and the access rule.
 *
 * An archive is a folder: archive.db (SQLite in WAL mode, foreign keys on,
 * a busy timeout so the server's threads and a command-line ingest can
 * share it) and media/.  prl_access_decide() is the only place that says
 * who sees what; every way out of the archive asks it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-internal.h"
#include "search-internal.h"

static const char *const access_names[] = {"public", "restricted", "private"};
static const char *const role_names[] = {"anonymous", "researcher", "annotator", "admin"};

const char *prl_access_name(enum prl_access a)
{
	return (unsigned)a < 3 ? access_names[a] : "private";
}

int prl_access_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, access_names[i]) == 0)
			return i;
	return -1;
}

const char *prl_role_name(enum prl_role r)
{
	if (r == PRL_ROLE_CONTRIBUTOR)
		return "contributor";
	return (unsigned)r < 4 ? role_names[r] : "anonymous";
}

int prl_role_parse(const char *s)
{
	/* "anonymous" is not a role an account can have */
	for (int i = 1; s && i < 4; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

enum prl_visibility prl_access_decide_in(const struct prl_viewer *v, enum prl_access a,
					 int64_t institution_id)
{
	enum prl_role r = v ? v->role : PRL_ROLE_ANONYMOUS;

	switch (a) {
	case PRL_ACCESS_PUBLIC:
		return PRL_SEE_ALL;
	case PRL_ACCESS_RESTRICTED:
		/* staff hear it all; a researcher what it is granted: every
		 * institution's, or one's */
		if (r >= PRL_ROLE_ANNOTATOR)
			return PRL_SEE_ALL;
		if (r == PRL_ROLE_RESEARCHER &&
		    (v->grant == 0 || (v->grant > 0 && v->grant == institution_id)))
			return PRL_SEE_ALL;
		return PRL_SEE_METADATA;
	case PRL_ACCESS_PRIVATE:
		/* staff: the people who annotate and administer the archive */
		return r >= PRL_ROLE_ANNOTATOR ? PRL_SEE_ALL : PRL_SEE_NOTHING;
	}
	return PRL_SEE_NOTHING;
}

enum prl_visibility prl_access_decide(const struct prl_viewer *v, enum prl_access a)
{
	return prl_access_decide_in(v, a, 0);
}

int prl_access_by_role(const struct prl_viewer *v)
{
	return !v || v->role != PRL_ROLE_RESEARCHER || v->grant == 0;
}

int archive_visible_level(const struct prl_viewer *v)
{
	int level = -1;

	for (int l = PRL_ACCESS_PUBLIC; l <= PRL_ACCESS_PRIVATE; l++)
		if (prl_access_decide(v, (enum prl_access)l) != PRL_SEE_NOTHING)
			level = l;
	return level;
}

int archive_heard_level(const struct prl_viewer *v)
{
	int level = -1;

	for (int l = PRL_ACCESS_PUBLIC; l <= PRL_ACCESS_PRIVATE; l++)
		if (prl_access_decide(v, (enum prl_access)l) == PRL_SEE_ALL)
			level = l;
	return level;
}

void prl_archive_busy_timeout(struct prl_archive *a, int ms)
{
	if (a)
		sqlite3_busy_timeout(a->db, ms);
}

int prl_access_sees_withheld(const struct prl_viewer *v)
{
	/* tied to the private level by definition: whoever may not open a
	 * private recording may not read a withheld passage either, and the
	 * search index relies on it (INDEX_KEY4_SQL files them as private) */
	return prl_access_decide(v, PRL_ACCESS_PRIVATE) == PRL_SEE_ALL;
}

int prl_access_may_write(const struct prl_viewer *v, int64_t institution_id)
{
	/* staff of the network change everything; staff of an institution
	 * change only what is that institution's */
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return 0;
	return v->institution_id == 0 || v->institution_id == institution_id;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -PRL_EIO;
}

int prl_archive_open(const char *dir, unsigned flags, struct prl_archive **out, struct prl_buf *err)
{
	struct prl_archive *a;
	struct prl_buf path = PRL_BUF_INIT;
	struct stat sb;
	char real[PATH_MAX];
	int ret, rc;

	if (!(a = calloc(1, sizeof(*a))))
		return -PRL_ENOMEM;
	if (stat(dir, &sb) != 0) {
		if (!(flags & PRL_OPEN_CREATE)) {
			ret = archive_fail(a, -PRL_ENOTFOUND,
					   "%s: no archive here (run 'parlers init' first)", dir);
			goto fail;
		}
		if (make_dir(dir) < 0) {
			ret = archive_fail(a, -PRL_EIO, "%s: cannot create: %s", dir,
					   strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		ret = archive_fail(a, -PRL_EINVAL, "%s: not a folder", dir);
		goto fail;
	}
	if (!realpath(dir, real)) {
		ret = archive_fail(a, -PRL_EIO, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	a->dir = strdup(real);
	prl_buf_addf(&path, "%s/media", real);
	a->media_dir = prl_buf_detach(&path, NULL);
	if (!a->dir || !a->media_dir || !(a->own_search_cache = prl_search_cache_new()) ||
	    search_cache_bind(a->own_search_cache, a->dir) < 0) {
		ret = -PRL_ENOMEM;
		goto fail;
	}
	a->search_cache = a->own_search_cache;
	if ((ret = archive_store_load(a)) < 0)
		goto fail;
	prl_buf_addf(&path, "%s/archive.db", real);
	if (!(flags & PRL_OPEN_CREATE) && access(path.data, F_OK) != 0) {
		ret = archive_fail(a, -PRL_ENOTFOUND,
				   "%s: no archive here (run 'parlers init' first)", dir);
		goto fail;
	}
	if ((flags & PRL_OPEN_CREATE) && make_dir(a->media_dir) < 0) {
		ret = archive_fail(a, -PRL_EIO, "%s: cannot create: %s", a->media_dir,
				   strerror(errno));
		goto fail;
	}
	rc = sqlite3_open_v2(path.data, &a->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		ret = archive_fail(a, -PRL_ESQL, "%s: %s", path.data,
				   a->db ? sqlite3_errmsg(a->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(a->db, 10000);
	if (search_register_functions(a->db) < 0) {
		ret = archive_sql_fail(a, path.data);
		goto fail;
	}
	sqlite3_extended_result_codes(a->db, 0);
	if (sqlite3_exec(a->db,
			 "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
			 " PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		ret = archive_sql_fail(a, path.data);
		if (sqlite3_errcode(a->db) == SQLITE_NOTADB)
			archive_fail(a, -PRL_EFORMAT, "%s: not a parlers archive", path.data);
		goto fail;
	}
	if ((ret = archive_migrate(a, 0)) < 0)
		goto fail;
	prl_buf_release(&path);
	*out = a;
	return 0;
fail:
	if (err)
		prl_buf_addstr(err,
			       prl_buf_str(&a->errmsg)[0] ? a->errmsg.data : prl_strerror(ret));
	prl_buf_release(&path);
	prl_archive_close(a);
	return ret;
}

void prl_archive_close(struct prl_archive *a)
{
	if (!a)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(a->stmts[i]);
	sqlite3_close(a->db);
	sqlite3_finalize(a->reader_count);
	sqlite3_close(a->db_reader);
	prl_search_cache_free(a->own_search_cache);
	free(a->dir);
	free(a->media_dir);
	archive_store_close(a);
	prl_buf_release(&a->errmsg);
	free(a);
}

int prl_archive_set_search_cache(struct prl_archive *a, struct prl_search_cache *c)
{
	int ret;

	if (!c) {
		a->search_cache = a->own_search_cache;
		return 0;
	}
	if ((ret = search_cache_bind(c, a->dir)) < 0)
		return archive_fail(a, ret,
				    ret == -PRL_EINVAL ? "the search cache serves another archive"
						       : "out of memory");
	a->search_cache = c;
	return 0;
}

const char *prl_archive_errmsg(const struct prl_archive *a)
{
	return prl_buf_str(&a->errmsg);
}

const char *prl_archive_dir(const struct prl_archive *a)
{
	return a->dir;
}

int prl_archive_schema_version(const struct prl_archive *a)
{
	return a->schema_version;
}

int archive_media_relpath(struct prl_buf *out, const char *sha256, const char *ext)
{
	return prl_buf_addf(out, "media/%.2s/%s.%s", sha256, sha256, ext);
}

int archive_create_at_version(const char *dir, int version)
{
	struct prl_archive *a = calloc(1, sizeof(*a));
	struct prl_buf path = PRL_BUF_INIT;
	int ret = -PRL_ESQL;

	if (!a)
		return -PRL_ENOMEM;
	if (make_dir(dir) < 0) {
		ret = -PRL_EIO;
		goto end;
	}
	prl_buf_addf(&path, "%s/archive.db", dir);
	if (sqlite3_open(path.data, &a->db) != SQLITE_OK || search_register_functions(a->db) < 0)
		goto end;
	ret = archive_migrate(a, version);
end:
	prl_buf_release(&path);
	prl_archive_close(a);
	return ret;
}
