/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Ingest: one audio file (with its sidecars) into the archive, all or
 * nothing.
 *
 * Order of work, chosen so that a failure at any step leaves nothing:
 *   1. read and check the sidecars (metadata, annotations): cheap, fail fast;
 *   2. hash the file: a duplicate stops here, reported, not stored twice;
 *   3. in a private staging folder under media/, copy the original and let
 *      transcode/ measure it and write the access copies and peaks;
 *   4. in one transaction, insert the rows, move the staged files to their
 *      final names (the file is in place before its row commits), commit;
 *      if the commit fails, the moved files are removed again.
 * The staging folder is removed on every path out; one that a killed run
 * left is recognised and cleared by the next ingest (staging.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-internal.h"
#include "parlers/transcode.h"
#include "sidecar.h"

#define DEFAULT_TARGET_LUFS (-18.0)
#define MAX_TRUE_PEAK_DBTP (-1.0)
#define MAX_SIDECAR_BYTES (64u << 20)

static const char *const audio_exts[] = {
	"wav", "wave", "bwf", "rf64", "w64",  "flac", "mp3", "ogg", "oga", "opus", "m4a",
	"aac", "mp4",  "aif", "aiff", "aifc", "caf",  "wma", "mka", "au",  "snd",  NULL,
};

const char *prl_ingest_status_name(enum prl_ingest_status s)
{
	switch (s) {
	case PRL_INGESTED:
		return "ingested";
	case PRL_DUPLICATE:
		return "duplicate";
	case PRL_FAILED:
		return "failed";
	}
	return "failed";
}

void prl_ingest_result_init(struct prl_ingest_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = PRL_FAILED;
}

void prl_ingest_result_release(struct prl_ingest_result *r)
{
	if (!r)
		return;
	prl_buf_release(&r->error);
	prl_buf_release(&r->warnings);
}

static const char *path_ext(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (!dot || (slash && dot < slash) || dot == path || dot[-1] == '/')
		return NULL;
	return dot + 1;
}

int prl_archive_is_audio_name(const char *path)
{
	const char *ext = path_ext(path);

	for (int i = 0; ext && audio_exts[i]; i++)
		if (strcasecmp(ext, audio_exts[i]) == 0)
			return 1;
	return 0;
}

/* The extension the stored original keeps: the source's, lower-cased, when
 * it is a plain short word; "orig" otherwise. */
static void original_ext(const char *path, char out[12])
{
	const char *ext = path_ext(path);
	size_t i, n = ext ? strlen(ext) : 0;

	if (n == 0 || n > 8)
		goto plain;
	for (i = 0; i < n; i++) {
		char c = ext[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			goto plain;
		out[i] = (char)(c | 0x20);
	}
	out[n] = '\0';
	/* "orig", "opus", "mp3" and "peaks" name the derived files */
	if (strcmp(out, "opus") && strcmp(out, "mp3") && strcmp(out, "peaks"))
		return;
plain:
	memcpy(out, "orig", sizeof("orig"));
	if (ext && (strcasecmp(ext, "opus") == 0 || strcasecmp(ext, "mp3") == 0))
		snprintf(out, 12, "orig.%s", strcasecmp(ext, "opus") == 0 ? "opus" : "mp3");
}

static int copy_file(const char *src, const char *dst, struct prl_buf *err)
{
	char buf[1 << 16];
	ssize_t n, w, off;
	int in, out, ret = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		prl_buf_addf(err, "cannot open: %s", strerror(errno));
		return -PRL_EIO;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		prl_buf_addf(err, "cannot write to the archive: %s", strerror(errno));
		close(in);
		return errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w) {
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				prl_buf_addf(err, "cannot write to the archive: %s",
					     strerror(errno));
				ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
				goto end;
			}
		}
	}
	if (n < 0) {
		prl_buf_addf(err, "cannot read: %s", strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	/* the original is the one thing that cannot be rebuilt */
	if (fsync(out) != 0) {
		prl_buf_addf(err, "cannot write to the archive: %s", strerror(errno));
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
	}
end:
	close(in);
	if (close(out) != 0 && ret == 0) {
		prl_buf_addf(err, "cannot write to the archive: %s", strerror(errno));
		ret = -PRL_EIO;
	}
	if (ret < 0)
		unlink(dst);
	return ret;
}

/* Reads stem + ext if it exists. Returns 1 when read, 0 when absent. */
static int read_sibling(const char *stem, const char *ext, struct prl_buf *data,
			struct prl_buf *name, struct prl_buf *err)
{
	int ret;

	prl_buf_reset(name);
	prl_buf_addf(name, "%s.%s", stem, ext);
	if (access(name->data, F_OK) != 0)
		return 0;
	ret = prl_read_file(name->data, MAX_SIDECAR_BYTES, data);
	if (ret == -PRL_EINVAL) {
		prl_buf_addf(err, "%s: larger than %u MB", name->data, MAX_SIDECAR_BYTES >> 20);
		return -PRL_EFORMAT;
	}
	if (ret < 0) {
		prl_buf_addf(err, "%s: cannot read: %s", name->data, strerror(errno));
		return ret;
	}
	return 1;
}

/* Moves annotation tiers of src into dst (both documents from sidecars). */
static int merge_doc(struct prl_annot_doc *dst, struct prl_annot_doc *src)
{
	struct prl_tier *t;
	size_t i, base = dst->ntiers;

	if (src->ntiers == 0)
		return 0;
	t = realloc(dst->tiers, (dst->ntiers + src->ntiers) * sizeof(*t));
	if (!t)
		return -PRL_ENOMEM;
	dst->tiers = t;
	for (i = 0; i < src->ntiers; i++) {
		dst->tiers[base + i] = src->tiers[i];
		if (dst->tiers[base + i].parent)
			dst->tiers[base + i].parent += base;
	}
	dst->ntiers += src->ntiers;
	dst->alloc_tiers = dst->ntiers;
	free(src->tiers);
	src->tiers = NULL;
	src->ntiers = src->alloc_tiers = 0;
	return 0;
}

/* Annotation sidecars: NAME.eaf, NAME.TextGrid, NAME.vtt, NAME.srt. */
static int read_annotation_sidecars(const char *stem, struct prl_annot_doc **out,
				    struct prl_buf *err, struct prl_buf *warn)
{
	static const struct {
		const char *ext;
		enum prl_annot_format fmt;
	} kinds[] = {
		{"eaf", PRL_FMT_EAF},		{"EAF", PRL_FMT_EAF},
		{"TextGrid", PRL_FMT_TEXTGRID}, {"textgrid", PRL_FMT_TEXTGRID},
		{"vtt", PRL_FMT_VTT},		{"srt", PRL_FMT_SRT},
	};
	struct prl_buf data = PRL_BUF_INIT, name = PRL_BUF_INIT, perr = PRL_BUF_INIT;
	struct prl_annot_doc *doc = NULL, *one = NULL;
	struct stat seen[6];
	size_t nseen = 0, i, j;
	int ret = 0, found;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct stat sb;
		int dup = 0;

		if ((found = read_sibling(stem, kinds[i].ext, &data, &name, err)) < 0) {
			ret = found;
			goto end;
		}
		if (!found)
			continue;
		/* on a case-insensitive file system "x.eaf" and "x.EAF" are one file */
		if (stat(name.data, &sb) == 0) {
			for (j = 0; j < nseen; j++)
				if (seen[j].st_ino == sb.st_ino && seen[j].st_dev == sb.st_dev)
					dup = 1;
			if (dup)
				continue;
			seen[nseen++] = sb;
		}
		prl_buf_reset(&perr);
		ret = prl_annot_read(kinds[i].fmt, data.data, data.len, &one, &perr, warn);
		if (ret < 0) {
			prl_buf_addf(err, "%s: %s", name.data,
				     perr.len ? perr.data : prl_strerror(ret));
			goto end;
		}
		if (!doc) {
			doc = one;
		} else {
			ret = merge_doc(doc, one);
			prl_annot_doc_free(one);
			if (ret < 0)
				goto end;
		}
		one = NULL;
	}
	*out = doc;
	doc = NULL;
end:
	prl_annot_doc_free(doc);
	prl_buf_release(&data);
	prl_buf_release(&name);
	prl_buf_release(&perr);
	return ret;
}

/* The collection called name, made for institution when new; one that
 * belongs to another institution is refused with a sentence: a collection
 * has one depositor. */
int64_t archive_find_or_add_collection(struct prl_archive *a, const char *name, int64_t institution)
{
	sqlite3_stmt *st = archive_stmt(a, ST_COLLECTION_FIND);

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), owner = sqlite3_column_int64(st, 1);

		sqlite3_reset(st);
		if (owner == institution)
			return id;
		if ((st = archive_stmt(a, ST_COLLECTION_INSTITUTION))) {
			sqlite3_bind_int64(st, 1, owner);
			if (sqlite3_step(st) == SQLITE_ROW)
				archive_fail(a, -PRL_EINVAL,
					     "collection '%s' belongs to institution '%s'", name,
					     (const char *)sqlite3_column_text(st, 0));
			sqlite3_reset(st);
		}
		return -PRL_EINVAL;
	}
	sqlite3_reset(st);
	if (!(st = archive_stmt(a, ST_COLLECTION_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, institution);
	if (archive_step_done(a, st, "adding a collection") < 0)
		return -PRL_ESQL;
	return sqlite3_last_insert_rowid(a->db);
}

int64_t archive_find_or_add_place(struct prl_archive *a, const struct sidecar *sc)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PLACE_FIND);

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, sc->place_name);
	archive_bind_text(st, 2, sc->place_commune);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		sqlite3_reset(st);
		return id;
	}
	sqlite3_reset(st);
	if (!(st = archive_stmt(a, ST_PLACE_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, sc->place_name);
	archive_bind_text(st, 2, sc->place_commune);
	if (sc->has_coords) {
		sqlite3_bind_double(st, 3, sc->lat);
		sqlite3_bind_double(st, 4, sc->lon);
	}
	if (archive_step_done(a, st, "adding a place") < 0)
		return -PRL_ESQL;
	return sqlite3_last_insert_rowid(a->db);
}

/* A speaker is the same person when name and birth year agree; the first
 * sidecar that names them fills in their details. */
int64_t archive_find_or_add_speaker(struct prl_archive *a, const struct sidecar_speaker *sp)
{
	sqlite3_stmt *st = archive_stmt(a, ST_SPEAKER_FIND);

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, sp->name);
	if (sp->birth_year)
		sqlite3_bind_int(st, 2, sp->birth_year);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		sqlite3_reset(st);
		return id;
	}
	sqlite3_reset(st);
	if (!(st = archive_stmt(a, ST_SPEAKER_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, sp->name);
	sqlite3_bind_int(st, 2, sp->pseudonym);
	if (sp->birth_year)
		sqlite3_bind_int(st, 3, sp->birth_year);
	archive_bind_text(st, 4, sp->sex);
	archive_bind_text(st, 5, sp->occupation);
	archive_bind_text(st, 6, sp->origin);
	archive_bind_text(st, 8, sp->consent);
	if (archive_step_done(a, st, "adding a speaker") < 0)
		return -PRL_ESQL;
	return sqlite3_last_insert_rowid(a->db);
}

static void bind_double_or_null(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* The staged files and where they go. */
struct staged {
	const char *kind;     /* media_files.kind */
	char ext[16];	      /* final extension */
	struct prl_buf tmp;   /* path in the staging folder */
	struct prl_buf final; /* absolute final path */
	struct prl_buf rel;   /* relative to the data folder */
	int64_t bytes;
	char sha256[65];
	int moved;
};

/* The recording id's speakers, tags and media files, inside the caller's
 * transaction. */
static int insert_links(struct prl_archive *a, int64_t id, const struct sidecar *sc,
			const struct prl_tags *tags, const struct staged *files, size_t nfiles)
{
	sqlite3_stmt *st;
	int64_t sid;
	size_t i;

	for (i = 0; i < sc->nspeakers; i++) {
		if ((sid = archive_find_or_add_speaker(a, &sc->speakers[i])) < 0)
			return -PRL_ESQL;
		if (!(st = archive_stmt(a, ST_REC_SPEAKER_ADD)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, sid);
		archive_bind_text(st, 3, sc->speakers[i].role ? sc->speakers[i].role : "speaker");
		sqlite3_bind_int(st, 4, (int)i);
		if (archive_step_done(a, st, "linking a speaker") < 0)
			return -PRL_ESQL;
	}
	for (i = 0; i < tags->count; i++) {
		if (!(st = archive_stmt(a, ST_TAG_ADD)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, tags->items[i].key);
		archive_bind_text(st, 3, tags->items[i].value);
		if (archive_step_done(a, st, "storing a tag") < 0)
			return -PRL_ESQL;
	}
	for (i = 0; i < nfiles; i++) {
		if (!(st = archive_stmt(a, ST_MEDIA_ADD)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, files[i].kind);
		archive_bind_text(st, 3, files[i].rel.data);
		sqlite3_bind_int64(st, 4, files[i].bytes);
		archive_bind_text(st, 5, files[i].sha256);
		if (archive_step_done(a, st, "recording a media file") < 0)
			return -PRL_ESQL;
	}
	return 0;
}

/* The date the file's own tags give (BWF origination date first), as ISO
 * 8601 in out, or NULL; a tag that is no date read here is left out with
 * a warning (it stays among the recording's tags as written). */
static const char *tag_date(const struct prl_tags *tags, char out[11], struct prl_buf *warn)
{
	const char *raw = prl_tags_get(tags, "bext_origination_date");

	if (!raw)
		raw = prl_tags_get(tags, "date");
	if (!raw)
		return NULL;
	if (sidecar_date_from_tag(raw, out) == 0)
		return out;
	prl_buf_addf(warn, "%sthe file's date \"%s\" is not a date parlers reads; left out",
		     warn->len ? "\n" : "", raw);
	return NULL;
}

static int insert_rows(struct prl_archive *a, const char *path, const struct sidecar *sc,
		       const struct prl_transcode_result *tr, const char *sha, double target,
		       int access, const char *default_collection, const char *default_institution,
		       struct staged *files, size_t nfiles, int64_t *id_out, struct prl_buf *warn)
{
	char iso[11];
	const struct prl_tags *tags = &tr->tags;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *title, *date, *collector, *device, *description, *collection;
	int64_t collection_id = 0, place_id = 0, institution_id = 0, id;
	struct prl_buf stem = PRL_BUF_INIT, rights = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int ret = -PRL_ESQL;

	/* the sidecar first, then what the file itself says (BWF, ID3,
	 * Vorbis comments), then the file's name */
	title = sc->title ? sc->title : prl_tags_get(tags, "title");
	if (!title || !title[0]) {
		const char *dot = strrchr(base, '.');

		prl_buf_add(&stem, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
		title = prl_buf_str(&stem);
	}
	date = sc->date ? sc->date : tag_date(tags, iso, warn);
	/* a BWF Originator names the recorder ("ZOOM H5"), not who recorded */
	collector = sc->collector;
	device = sc->device ? sc->device : prl_tags_get(tags, "bext_originator");
	description = sc->description ? sc->description : prl_tags_get(tags, "bext_description");
	if (!description)
		description = prl_tags_get(tags, "comment");
	collection = sc->collection ? sc->collection : default_collection;

	/* the depositor: the sidecar's, else the run's, else the archive's own */
	if ((ret = archive_institution_find(a,
					    sc->institution ? sc->institution : default_institution,
					    &institution_id, &rights)) < 0)
		goto end;
	ret = -PRL_ESQL;
	if (collection &&
	    (collection_id = archive_find_or_add_collection(a, collection, institution_id)) < 0) {
		ret = (int)collection_id;
		goto end;
	}
	if (sc->place_name && (place_id = archive_find_or_add_place(a, sc)) < 0)
		goto end;
	if (!(st = archive_stmt(a, ST_REC_ADD)))
		goto end;
	archive_bind_text(st, 1, title);
	archive_bind_text(st, 2, date);
	if (place_id)
		sqlite3_bind_int64(st, 3, place_id);
	if (collection_id)
		sqlite3_bind_int64(st, 4, collection_id);
	archive_bind_text(st, 5, collector);
	archive_bind_text(st, 6, sc->variety);
	archive_bind_text(st, 7, sc->language);
	archive_bind_text(st, 8, description);
	archive_bind_text(st, 9, sc->keywords_json);
	/* what the institution applies by default when the sidecar says nothing */
	archive_bind_text(st, 10,
			  sc->rights   ? sc->rights
			  : rights.len ? prl_buf_str(&rights)
				       : NULL);
	sqlite3_bind_int(st, 11, access);
	sqlite3_bind_int64(st, 12, tr->info.duration_ms);
	sqlite3_bind_int(st, 13, tr->info.sample_rate);
	sqlite3_bind_int(st, 14, tr->info.channels);
	if (tr->info.bits_per_sample)
		sqlite3_bind_int(st, 15, tr->info.bits_per_sample);
	archive_bind_text(st, 16, tr->info.container);
	archive_bind_text(st, 17, tr->info.codec);
	archive_bind_text(st, 18, base);
	archive_bind_text(st, 19, sha);
	bind_double_or_null(st, 20, tr->loudness.integrated_lufs);
	bind_double_or_null(st, 21, tr->loudness.range_lu);
	bind_double_or_null(st, 22, tr->loudness.true_peak_dbtp);
	bind_double_or_null(st, 23, tr->loudness.sample_peak_dbfs);
	bind_double_or_null(st, 24, tr->gain_db);
	sqlite3_bind_double(st, 25, target);
	archive_bind_text(st, 26, device);
	sqlite3_bind_int64(st, 27, institution_id);
	if ((ret = archive_step_done(a, st, "adding the recording")) < 0)
		goto end;
	id = sqlite3_last_insert_rowid(a->db);
	if ((ret = insert_links(a, id, sc, tags, files, nfiles)) < 0)
		goto end;
	*id_out = id;
	ret = 0;
end:
	prl_buf_release(&stem);
	prl_buf_release(&rights);
	return ret;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

static int existing_recording(struct prl_archive *a, const char *sha, int64_t *id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_REC_BY_SHA);
	int rc;

	if (!st)
		return -PRL_ESQL;
	archive_bind_text(st, 1, sha);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "looking for a duplicate");
}

/* One ingest under way: what its steps share; ingest_clear() releases it
 * and takes back whatever did not commit. */
struct ingest {
	struct prl_archive *a;
	const char *path; /* the file given */
	const struct prl_ingest_opts *opts;
	struct prl_ingest_result *res;
	double target;			/* loudness target of the access copies */
	struct sidecar sc;		/* NAME.json, or access -1 without one */
	struct prl_annot_doc *doc;	/* the annotation sidecars, or NULL; owned */
	uint8_t digest[32];		/* the original's SHA-256 */
	char sha[65];			/* the same in hex */
	struct archive_staging staging; /* media/.staging-XXXXXX, locked while we run */
	struct staged files[4];		/* original, opus, mp3, peaks */
	size_t nfiles;			/* of files, named so far */
	struct prl_transcode_result tr; /* what the transcoder measured and made */
	int64_t id;			/* the recording's row */
	int in_tx;			/* a transaction is open */
};

/* The path names a regular, readable, non-empty file. */
static int check_source(const char *path, struct prl_ingest_result *res)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		prl_buf_addf(&res->error, "%s", errno == ENOENT ? "no such file" : strerror(errno));
		return errno == ENOENT ? -PRL_ENOTFOUND : -PRL_EIO;
	}
	if (!S_ISREG(sb.st_mode)) {
		prl_buf_addstr(&res->error, "not a regular file");
		return -PRL_EINVAL;
	}
	if (access(path, R_OK) != 0) {
		prl_buf_addf(&res->error, "cannot read: %s", strerror(errno));
		return -PRL_EIO;
	}
	if (sb.st_size == 0) {
		prl_buf_addstr(&res->error, "empty file");
		return -PRL_EFORMAT;
	}
	return 0;
}

/* Step 1: the sidecars beside the file, metadata and annotations. */
static int read_sidecars(struct ingest *in)
{
	struct prl_buf stem = PRL_BUF_INIT, data = PRL_BUF_INIT, name = PRL_BUF_INIT;
	struct prl_ingest_result *res = in->res;
	const char *dot = strrchr(in->path, '.'), *slash = strrchr(in->path, '/');
	int ret, found;

	prl_buf_add(&stem, in->path,
		    dot && (!slash || dot > slash + 1) ? (size_t)(dot - in->path)
						       : strlen(in->path));
	if ((found = read_sibling(stem.data, "json", &data, &name, &res->error)) < 0) {
		ret = found;
		goto end;
	}
	if (found) {
		struct prl_buf perr = PRL_BUF_INIT, pwarn = PRL_BUF_INIT;

		ret = sidecar_parse(data.data, data.len, &in->sc, &perr, &pwarn);
		if (ret < 0)
			prl_buf_addf(&res->error, "%s: %s", name.data, prl_buf_str(&perr));
		if (pwarn.len) {
			char *line = pwarn.data, *nl;

			while (*line && (nl = strchr(line, '\n'))) {
				*nl = '\0';
				prl_buf_addf(&res->warnings, "%s: %s\n", name.data, line);
				line = nl + 1;
			}
		}
		prl_buf_release(&perr);
		prl_buf_release(&pwarn);
		if (ret < 0)
			goto end;
	} else {
		in->sc.access = -1;
	}
	ret = read_annotation_sidecars(stem.data, &in->doc, &res->error, &res->warnings);
end:
	prl_buf_release(&stem);
	prl_buf_release(&data);
	prl_buf_release(&name);
	return ret;
}

/* Step 2: fixity, and the recording already holding these bytes: 1 with
 * res saying so, 0 when there is none. */
static int find_duplicate(struct ingest *in)
{
	struct prl_ingest_result *res = in->res;
	int64_t id = 0;
	int ret;

	if ((ret = prl_sha256_file(in->path, in->digest, &res->error)) < 0)
		return ret;
	prl_sha256_hex(in->digest, in->sha);
	memcpy(res->sha256, in->sha, sizeof(in->sha));
	if ((ret = existing_recording(in->a, in->sha, &id)) < 0) {
		prl_buf_addstr(&res->error, prl_archive_errmsg(in->a));
		return ret;
	}
	if (ret == 1) {
		res->status = PRL_DUPLICATE;
		res->id = id;
	}
	return ret;
}

/* Step 3a: a staging folder in media/, the names of the four files, and
 * the original copied into it. */
static int stage_files(struct ingest *in)
{
	struct prl_archive *a = in->a;
	struct staged *files = in->files;
	char ext[12];

	int ret;

	/* what an interrupted ingest left goes first: it is no one's now */
	archive_staging_sweep(a, 1, NULL, NULL);
	if ((ret = archive_staging_make(a, &in->staging, &in->res->error)) < 0)
		return ret;
	original_ext(in->path, ext);
	files[0].kind = "original";
	snprintf(files[0].ext, sizeof(files[0].ext), "%s", ext);
	files[1].kind = "opus";
	snprintf(files[1].ext, sizeof(files[0].ext), "opus");
	files[2].kind = "mp3";
	snprintf(files[2].ext, sizeof(files[0].ext), "mp3");
	files[3].kind = "peaks";
	snprintf(files[3].ext, sizeof(files[0].ext), "peaks");
	in->nfiles = 4;
	for (size_t i = 0; i < in->nfiles; i++) {
		prl_buf_addf(&files[i].tmp, "%s/%s.%s", in->staging.dir.data, files[i].kind,
			     files[i].ext);
		archive_media_relpath(&files[i].rel, in->sha, files[i].ext);
		prl_buf_addf(&files[i].final, "%s/%s", a->dir, files[i].rel.data);
	}
	return copy_file(in->path, files[0].tmp.data, &in->res->error);
}

/* Step 3b: the access copies and peaks made from the staged original, and
 * everything checked against what was read: length, bytes, annotations. */
static int make_copies(struct ingest *in)
{
	struct prl_ingest_result *res = in->res;
	const struct prl_audio_info *info = &in->tr.info;
	struct staged *files = in->files;
	struct prl_transcode_job job;
	int ret;

	memset(&job, 0, sizeof(job));
	job.src_path = files[0].tmp.data;
	job.opus_path = files[1].tmp.data;
	job.mp3_path = files[2].tmp.data;
	job.peaks_path = files[3].tmp.data;
	job.target_lufs = in->target;
	job.max_true_peak_dbtp = MAX_TRUE_PEAK_DBTP;
	job.progress = in->opts->progress;
	job.progress_ctx = in->opts->progress_ctx;
	if ((ret = prl_transcode_run(&job, &in->tr, &res->error)) < 0)
		return ret;
	/* A file cut short is refused unless asked: the header's promise says
	 * the archive would hold less than the recording was. */
	if (info->declared_frames > info->frames && !in->opts->accept_truncated) {
		prl_buf_addf(&res->error,
			     "truncated: the header promises %.1f s, the file holds %.1f s "
			     "(--accept-truncated keeps what is there)",
			     (double)info->declared_frames / info->sample_rate,
			     (double)info->frames / info->sample_rate);
		return -PRL_EFORMAT;
	}
	if (memcmp(in->tr.sha256, in->digest, sizeof(in->digest)) != 0) {
		prl_buf_addstr(&res->error, "the file changed while it was being read");
		return -PRL_EIO;
	}
	memcpy(files[0].sha256, in->sha, sizeof(in->sha));
	for (size_t i = 0; i < in->nfiles; i++) {
		if ((files[i].bytes = file_size(files[i].tmp.data)) < 0) {
			prl_buf_addf(&res->error, "%s copy was not made", files[i].kind);
			return -PRL_EIO;
		}
		if (i > 0) {
			uint8_t d[32];

			if ((ret = prl_sha256_file(files[i].tmp.data, d, &res->error)) < 0)
				return ret;
			prl_sha256_hex(d, files[i].sha256);
		}
	}
	if (in->doc) {
		struct prl_buf verr = PRL_BUF_INIT;

		ret = prl_annot_validate(in->doc, info->duration_ms, &verr);
		if (ret < 0)
			prl_buf_addf(&res->error, "annotations: %s", prl_buf_str(&verr));
		prl_buf_release(&verr);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Step 4: the rows and the files together: the files are moved into
 * media/ inside the transaction and the transaction commits last.  1 with
 * res saying so when another ingest of the same bytes committed first. */
static int store(struct ingest *in)
{
	struct prl_archive *a = in->a;
	struct prl_ingest_result *res = in->res;
	struct prl_buf dirbuf = PRL_BUF_INIT;
	const char *rels[4];
	int ret, access_level;

	access_level = in->sc.access >= 0      ? in->sc.access
		       : in->opts->access >= 0 ? in->opts->access
					       : PRL_ACCESS_PRIVATE;
	if ((ret = archive_begin(a)) < 0) {
		prl_buf_addstr(&res->error, prl_archive_errmsg(a));
		goto end;
	}
	in->in_tx = 1;
	if ((ret = insert_rows(a, in->path, &in->sc, &in->tr, in->sha, in->target, access_level,
			       in->opts->collection, in->opts->institution, in->files, in->nfiles,
			       &in->id, &res->warnings)) < 0) {
		if (sqlite3_errcode(a->db) == SQLITE_CONSTRAINT &&
		    existing_recording(a, in->sha, &in->id) == 1) {
			/* another ingest of the same bytes committed first */
			archive_rollback(a);
			in->in_tx = 0;
			res->status = PRL_DUPLICATE;
			res->id = in->id;
			ret = 1;
			goto end;
		}
		prl_buf_addstr(&res->error, prl_archive_errmsg(a));
		goto end;
	}
	if ((ret = archive_refresh_index_meta(a, in->id)) < 0) {
		prl_buf_addstr(&res->error, prl_archive_errmsg(a));
		goto end;
	}
	if (in->doc && (ret = archive_store_annotations(a, in->id, in->doc, 1)) < 0) {
		prl_buf_addf(&res->error, "annotations: %s", prl_archive_errmsg(a));
		goto end;
	}
	prl_buf_addf(&dirbuf, "%s/%.2s", a->media_dir, in->sha);
	if (mkdir(dirbuf.data, 0755) != 0 && errno != EEXIST) {
		prl_buf_addf(&res->error, "cannot create %s: %s", dirbuf.data, strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	/* written down before the first move: a crash between the moves and
	 * the commit leaves files that the next sweep knows to be ours */
	for (size_t i = 0; i < in->nfiles; i++)
		rels[i] = in->files[i].rel.data;
	if ((ret = archive_staging_journal(&in->staging, rels, in->nfiles, &res->error)) < 0)
		goto end;
	/* in the object store (when it is the store) before a row names them */
	for (size_t i = 0; i < in->nfiles; i++)
		if ((ret = archive_media_publish(a, in->files[i].rel.data, in->files[i].tmp.data,
						 in->files[i].sha256, &res->error)) < 0)
			goto end;
	for (size_t i = 0; i < in->nfiles; i++) {
		if (rename(in->files[i].tmp.data, in->files[i].final.data) != 0) {
			prl_buf_addf(&res->error, "cannot move into %s: %s", dirbuf.data,
				     strerror(errno));
			ret = -PRL_EIO;
			goto end;
		}
		in->files[i].moved = 1;
	}
	if ((ret = archive_commit(a)) < 0) {
		prl_buf_addstr(&res->error, prl_archive_errmsg(a));
		goto end;
	}
	in->in_tx = 0;
	for (size_t i = 0; i < in->nfiles; i++)
		in->files[i].moved = 0; /* theirs for good now */
end:
	prl_buf_release(&dirbuf);
	return ret;
}

/* Takes back what did not commit (the transaction, files moved into
 * media/, the staging folder) and frees the rest. */
static void ingest_clear(struct ingest *in)
{
	if (in->in_tx)
		archive_rollback(in->a);
	for (size_t i = 0; i < in->nfiles; i++) {
		if (in->files[i].moved)
			unlink(in->files[i].final.data);
		prl_buf_release(&in->files[i].tmp);
		prl_buf_release(&in->files[i].final);
		prl_buf_release(&in->files[i].rel);
	}
	archive_staging_remove(&in->staging);
	prl_transcode_result_clear(&in->tr);
	prl_annot_doc_free(in->doc);
	sidecar_clear(&in->sc);
}

int prl_archive_ingest(struct prl_archive *a, const char *path, const struct prl_ingest_opts *opts,
		       struct prl_ingest_result *res)
{
	static const struct prl_ingest_opts no_opts = {-1, NULL, 0, NULL, NULL};
	struct ingest in;
	int ret;

	memset(&in, 0, sizeof(in));
	archive_staging_init(&in.staging);
	in.a = a;
	in.path = path;
	in.opts = opts ? opts : &no_opts;
	in.res = res;
	res->status = PRL_FAILED;
	in.target = in.opts->target_lufs != 0 ? in.opts->target_lufs : DEFAULT_TARGET_LUFS;

	/* a duplicate (1) ends the ingest early, and is no failure */
	if ((ret = check_source(path, res)) < 0 || (ret = read_sidecars(&in)) < 0 ||
	    (ret = find_duplicate(&in)) != 0 || (ret = stage_files(&in)) < 0 ||
	    (ret = make_copies(&in)) < 0 || (ret = store(&in)) != 0)
		goto end;
	res->status = PRL_INGESTED;
	res->id = in.id;
	res->duration_ms = in.tr.info.duration_ms;
	res->loudness_lufs = in.tr.loudness.integrated_lufs;
	res->gain_db = in.tr.gain_db;
end:
	if (ret > 0)
		ret = 0;
	ingest_clear(&in);
	if (ret < 0 && !res->error.len)
		prl_buf_addstr(&res->error, prl_strerror(ret));
	return ret;
}
