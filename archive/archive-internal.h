/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Private to the archive module: the handle, the table of SQL statements
 * (every statement the module runs is declared in sql.c, prepared once on
 * first use and kept on the handle), and helpers shared by its files.
 */
#ifndef PARLERS_ARCHIVE_INTERNAL_H
#define PARLERS_ARCHIVE_INTERNAL_H

#include <sqlite3.h>

#include "parlers/archive.h"

/* The search index's rowid for a segment (see schema.c, version 3). */
#define INDEX_CLASS_BITS 40
#define INDEX_ACCESS_BITS 42
#define INDEX_ID_MASK ((INT64_C(1) << INDEX_CLASS_BITS) - 1)
#define INDEX_KEY_SQL(id)                                                                        \
	"((r.access << 42) | ((CASE t.type WHEN 'transcription' THEN 0 WHEN 'translation' THEN 1" \
	" WHEN 'gloss' THEN 2 ELSE 3 END) << 40) | " id ")"
/* A recording's filter tokens: place, collection, variety, speakers. */
#define INDEX_META_SQL                                                                           \
	"'p' || ifnull(r.place_id, 0) || ' c' || ifnull(r.collection_id, 0)"                     \
	" || ' v' || hex(prl_fold(ifnull(r.variety, '')))"                                       \
	" || ifnull((SELECT ' ' || group_concat('s' || rs.speaker_id, ' ')"                      \
	"   FROM recording_speakers rs WHERE rs.recording_id = r.id), '')"

/* Every SQL statement the module runs; the text is in sql.c. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_REC_BY_SHA,
	ST_COLLECTION_FIND,
	ST_COLLECTION_ADD,
	ST_PLACE_FIND,
	ST_PLACE_ADD,
	ST_SPEAKER_FIND,
	ST_SPEAKER_ADD,
	ST_REC_ADD,
	ST_REC_SPEAKER_ADD,
	ST_MEDIA_ADD,
	ST_TAG_ADD,
	ST_REC_BRIEF,
	ST_REC_FULL,
	ST_REC_SPEAKERS,
	ST_MEDIA_GET,
	ST_MEDIA_ALL,
	ST_TIERS_OF,
	ST_SEGMENTS_OF_TIER,
	ST_TIER_ADD,
	ST_SEGMENT_ADD,
	ST_TIERS_DELETE,
	ST_TIER_BY_NAME,
	ST_ANNDOC_PUT,
	ST_ANNDOC_GET,
	ST_SPEAKER_OF_REC_BY_NAME,
	ST_SEARCH_COUNT,
	ST_SEARCH_COUNT_DATED,
	ST_SEARCH_PAGE_RANK,
	ST_SEARCH_PAGE_ROWID,
	ST_SEARCH_PAGE_RANK_DATED,
	ST_SEARCH_PAGE_ROWID_DATED,
	ST_SEARCH_PAGE_DATE,
	ST_SEARCH_PAGE_PLACE,
	ST_SEARCH_GROUPS,
	ST_SEARCH_HIT,
	ST_SEARCH_TRANSLATION,
	ST_VOCAB_ALL,
	ST_INDEX_SIGNATURE,
	ST_SEGMENT_COUNT,
	ST_VARIANT_GROUP_OF,
	ST_VARIANT_ALL,
	ST_VARIANT_CLEAR,
	ST_VARIANT_ADD,
	ST_VARIANT_NEXT_GROUP,
	ST_FILTER_SPEAKERS,
	ST_FILTER_PLACES,
	ST_FILTER_COLLECTIONS,
	ST_REINDEX_DELETE,
	ST_REINDEX_INSERT,
	ST_META_REFRESH,
	ST_COUNT
};

struct prl_archive {
	sqlite3 *db;                      /* the open archive.db */
	char *dir;                        /* the data folder, absolute */
	char *media_dir;                  /* dir/media */
	int schema_version;               /* after migrations: the latest */
	struct prl_buf errmsg;            /* detail of the last failure */
	sqlite3_stmt *stmts[ST_COUNT];    /* prepared on first use */
	int64_t writes;                   /* commits made through this handle */
};

struct search_vocab;
void search_vocab_free(struct search_vocab *v);
/* Re-indexes every segment of recording id (after its access level, place,
 * speakers... changed), inside the caller's transaction. */
int archive_reindex_recording(struct prl_archive *a, int64_t id);
/* Recomputes recording id's filter tokens (before its segments are
 * indexed), inside the caller's transaction. */
int archive_refresh_index_meta(struct prl_archive *a, int64_t id);

/* The prepared, reset statement id, or NULL with errmsg set. */
sqlite3_stmt *archive_stmt(struct prl_archive *a, enum stmt_id id);
/* Records a failure's detail on the handle; returns err unchanged (negative). */
int archive_fail(struct prl_archive *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* archive_fail for an SQLite failure, with SQLite's own message. */
int archive_sql_fail(struct prl_archive *a, const char *what);
/* Runs a statement that returns no rows to completion. */
int archive_step_done(struct prl_archive *a, sqlite3_stmt *st, const char *what);

int archive_begin(struct prl_archive *a);
int archive_commit(struct prl_archive *a);
void archive_rollback(struct prl_archive *a);

/* Schema: runs every migration newer than the file's user_version. */
int archive_migrate(struct prl_archive *a, int target_version);

/* Binds a C string or NULL. */
int archive_bind_text(sqlite3_stmt *st, int i, const char *s);
/* A column as an owned string copy (NULL stays NULL). */
char *archive_col_strdup(sqlite3_stmt *st, int i);

/* Stores doc's tiers for recording id inside the caller's transaction. */
int archive_store_annotations(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc,
			      int replace);
/* Relative media path of kind ext for a digest: "ab/abcdef....ext". */
int archive_media_relpath(struct prl_buf *out, const char *sha256, const char *ext);

#endif
