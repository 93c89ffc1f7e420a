/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers archive: the SQLite store of recordings, speakers, places,
 * collections, tiers and segments, and the one place that decides who may
 * see what.
 *
 * A data folder holds archive.db (SQLite, WAL, foreign keys on) and media/.
 * Originals are kept byte for byte under media/, named by their SHA-256;
 * derived files (access copies, peaks) sit beside them and can be rebuilt.
 * A media file is in place before the row that names it commits, and a
 * failed ingest leaves neither row nor file.
 *
 * A handle is used by one thread at a time; the web server opens one per
 * worker thread.
 */
#ifndef PARLERS_ARCHIVE_H
#define PARLERS_ARCHIVE_H

#include <stdint.h>

#include "parlers/annotation.h"
#include "parlers/common.h"

struct prl_archive;

/* ---- access levels: decided here and nowhere else ---- */

enum prl_access {
	PRL_ACCESS_PUBLIC = 0,     /* anyone hears it and reads its transcript */
	PRL_ACCESS_RESTRICTED = 1, /* listed for all; heard and read by researchers and staff */
	PRL_ACCESS_PRIVATE = 2,    /* staff only; does not exist for anyone else */
};

const char *prl_access_name(enum prl_access a); /* "public"... */
int prl_access_parse(const char *s);            /* the level, or -1 */

enum prl_role {
	PRL_ROLE_ANONYMOUS = 0,
	PRL_ROLE_RESEARCHER = 1,
	PRL_ROLE_ANNOTATOR = 2,
	PRL_ROLE_ADMIN = 3,
};

const char *prl_role_name(enum prl_role r);
int prl_role_parse(const char *s); /* the role, or -1 */

/* Who is asking.  The command line acts as staff (admin). */
struct prl_viewer {
	enum prl_role role;
	int64_t user_id; /* 0 when anonymous or the command line */
};

#define PRL_VIEWER_ANONYMOUS ((struct prl_viewer){PRL_ROLE_ANONYMOUS, 0})
#define PRL_VIEWER_STAFF ((struct prl_viewer){PRL_ROLE_ADMIN, 0})

enum prl_visibility {
	PRL_SEE_NOTHING = 0,  /* answer as if it did not exist (404) */
	PRL_SEE_METADATA = 1, /* it is listed; media and transcript refused (403) */
	PRL_SEE_ALL = 2,      /* media, transcript, everything */
};

/* The rule, in one place: what viewer v gets of a recording at level a. */
enum prl_visibility prl_access_decide(const struct prl_viewer *v, enum prl_access a);

/* ---- opening ---- */

#define PRL_OPEN_CREATE 1u /* create the folder and database when missing */

/*
 * Opens (and with PRL_OPEN_CREATE creates) the archive in dir, upgrading an
 * older schema in one transaction.  An archive from a newer parlers gives
 * -PRL_EVERSION.  On failure returns a negative prl_err and one line in err.
 * The caller closes the handle with prl_archive_close().
 */
int prl_archive_open(const char *dir, unsigned flags, struct prl_archive **out,
		     struct prl_buf *err);
void prl_archive_close(struct prl_archive *a); /* accepts NULL */
/* The last error's detail (never NULL). */
const char *prl_archive_errmsg(const struct prl_archive *a);
const char *prl_archive_dir(const struct prl_archive *a);
int prl_archive_schema_version(const struct prl_archive *a);
/* The newest schema version this parlers writes. */
int prl_archive_latest_schema(void);

/* ---- ingest ---- */

struct prl_ingest_opts {
	int access;              /* prl_access used when the sidecar names none; -1: private */
	const char *collection;  /* collection name when the sidecar names none, or NULL */
	double target_lufs;      /* 0: the default, -18 */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
	int accept_truncated;    /* 1: keep a file cut short with the audio it holds */
};

enum prl_ingest_status {
	PRL_INGESTED = 0,
	PRL_DUPLICATE = 1,
	PRL_FAILED = 2,
};

const char *prl_ingest_status_name(enum prl_ingest_status s); /* "ingested"... */

struct prl_ingest_result {
	enum prl_ingest_status status;
	int64_t id;              /* the recording (also for a duplicate); 0 when failed */
	char sha256[65];
	int64_t duration_ms;
	double loudness_lufs;
	double gain_db;
	struct prl_buf error;    /* one line when failed */
	struct prl_buf warnings; /* zero or more lines */
};

void prl_ingest_result_init(struct prl_ingest_result *r);
void prl_ingest_result_release(struct prl_ingest_result *r);

/*
 * Ingests one audio file with its sidecars (NAME.json, and NAME.eaf /
 * NAME.TextGrid / NAME.vtt / NAME.srt beside it).  Returns 0 when the file
 * went in or was already there (see res->status), or a negative prl_err
 * with res->error saying why; then nothing of the file is in the archive.
 */
int prl_archive_ingest(struct prl_archive *a, const char *path,
		       const struct prl_ingest_opts *opts, struct prl_ingest_result *res);

/* True when path's extension is one ingest treats as audio. */
int prl_archive_is_audio_name(const char *path);

/* ---- reading ---- */

struct prl_recording_filter {
	const char *place;      /* place name or id, or NULL */
	const char *speaker;    /* speaker name or id, or NULL */
	const char *variety;
	const char *collection;
	int64_t offset;
	int64_t limit;          /* 0: 50; capped at 500 */
};

/* {total, offset, recordings: [...]} as DESIGN.md says, the recordings
 * viewer may know of (without tiers). Returns 0 or a negative prl_err. */
int prl_archive_list_json(struct prl_archive *a, const struct prl_viewer *v,
			  const struct prl_recording_filter *f, struct prl_buf *out);

/* One recording as JSON: metadata, speakers, and (when the viewer may read
 * it) tiers with their segments.  -PRL_ENOTFOUND when unknown or invisible
 * to viewer. */
int prl_archive_recording_json(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       struct prl_buf *out);

/* The few facts callers need without JSON. Strings owned by the struct. */
struct prl_recording_brief {
	int64_t id;
	char *title;
	enum prl_access access;
	int64_t duration_ms;
	int sample_rate;
	int channels;
	char sha256[65];
	char *original_name;
};

/* Fills *out for recording id whatever its access (callers decide with
 * prl_access_decide()).  -PRL_ENOTFOUND when unknown. */
int prl_archive_recording_brief(struct prl_archive *a, int64_t id,
				struct prl_recording_brief *out);
void prl_recording_brief_clear(struct prl_recording_brief *b);

/* Collections, places and speakers with their recording counts, as
 * {collections:[{id,name,count}], places:[{id,name,commune,lat,lon,count}],
 *  speakers:[{id,name,count}], varieties:[{name,count}]}, counting only
 * what viewer may know of. */
int prl_archive_facets_json(struct prl_archive *a, const struct prl_viewer *v,
			    struct prl_buf *out);

/* ---- media ---- */

enum prl_media_kind {
	PRL_MEDIA_ORIGINAL = 0,
	PRL_MEDIA_OPUS = 1,
	PRL_MEDIA_MP3 = 2,
	PRL_MEDIA_PEAKS = 3,
};

struct prl_media {
	char *path;       /* absolute path of the file, owned */
	int64_t bytes;
	char sha256[65];  /* of the file's content: a strong validator */
	const char *mime; /* static */
	const char *ext;  /* static: "opus", "mp3", "orig"... */
};

void prl_media_clear(struct prl_media *m);

/*
 * The stored file of kind k for recording id, as viewer may have it:
 * -PRL_ENOTFOUND (unknown, private to viewer, or no such file),
 * -PRL_EACCESS (restricted to viewer; originals also need a researcher).
 */
int prl_archive_media(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      enum prl_media_kind k, struct prl_media *out);

/* ---- annotations ---- */

/* Stores doc's tiers on recording id in one transaction: with replace, the
 * recording's tiers are replaced; without it, a tier whose name is already
 * there is an error.  Validates first (prl_annot_validate). */
int prl_archive_annotations_import(struct prl_archive *a, int64_t id,
				   const struct prl_annot_doc *doc, int replace);

/* Loads recording id's tiers into a new document (the caller frees it). */
int prl_archive_annotations_load(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				 struct prl_annot_doc **out);

/* ---- search ---- */

enum prl_search_sort {
	PRL_SORT_RELEVANCE = 0, /* exact hits by BM25, then close spellings */
	PRL_SORT_DATE = 1,      /* recording date, then time in the recording */
	PRL_SORT_PLACE = 2,     /* place name, then recording, then time */
};

struct prl_search_opts {
	const char *query;       /* what the visitor typed (see README, "Search") */
	const char *tier_type;   /* "transcription", "translation"... or NULL */
	const char *place;       /* name, commune or id, or NULL */
	const char *speaker;     /* name or id, or NULL */
	const char *variety;
	const char *collection;  /* name or id */
	const char *date_from;   /* YYYY[-MM[-DD]], inclusive, or NULL */
	const char *date_to;
	enum prl_search_sort sort;
	int64_t offset;
	int64_t limit;           /* 0: 20; at most 200 */
	int no_variants;         /* 1: exact matches only */
	int with_groups;         /* 1: add per-recording counts */
};

/*
 * Searches every segment viewer may read.  Writes
 * {query, total, total_exact, offset, limit, variants, hits: [...], groups}
 * (hit fields as DESIGN.md says, plus snippet HTML with <mark>, kwic and
 * match "exact"|"variant").  A query that cannot be used (empty, only
 * exclusions, too long) gives -PRL_EINVAL with a sentence for the visitor
 * in prl_archive_errmsg(); never an FTS5 syntax error.
 */
int prl_archive_search_json(struct prl_archive *a, const struct prl_viewer *v,
			    const struct prl_search_opts *o, struct prl_buf *out);

/* Rebuilds the whole search index from the segments, in one transaction
 * (after a change to how text is folded, or to repair it). */
int prl_archive_reindex(struct prl_archive *a);

/* Equivalent spellings kept by staff, as CSV: one group per line, the
 * forms separated by commas ("mézoun,mézon,maisoun").  Import replaces the
 * whole table in one transaction; a form in two groups is an error naming
 * its line. */
int prl_archive_variants_import_csv(struct prl_archive *a, const char *data, size_t len);
int prl_archive_variants_export_csv(struct prl_archive *a, struct prl_buf *out);

/* ---- integrity ---- */

enum prl_fsck_problem {
	PRL_FSCK_MISMATCH = 0, /* bytes no longer match the SHA-256 */
	PRL_FSCK_MISSING = 1,  /* a file the database names is gone */
	PRL_FSCK_STRAY = 2,    /* a file in media/ nothing names */
	PRL_FSCK_SIZE = 3,     /* the size differs from the one recorded */
};

const char *prl_fsck_problem_name(enum prl_fsck_problem p);

/* Re-reads every stored file; calls report once per problem (path is
 * relative to the data folder).  Returns the number of problems found, or
 * a negative prl_err when the check itself could not run. */
int prl_archive_fsck(struct prl_archive *a,
		     void (*report)(void *ctx, enum prl_fsck_problem p, const char *path,
				    int64_t recording_id),
		     void *ctx, int64_t *files_checked);

#endif
