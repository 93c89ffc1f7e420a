/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Private to the archive module: the handle, the table of SQL statements
 * (every statement the module runs is declared in sql.c, prepared once on
 * first use and kept on the handle), and helpers shared by its files.
 */
#ifndef PARLERS_ARCHIVE_INTERNAL_H
#define PARLERS_ARCHIVE_INTERNAL_H

#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "parlers/archive.h"

/* The search index's rowid for a segment (see schema.c, version 3).
 * INDEX_KEY3_SQL is the key as migration 3 wrote it, kept for that
 * migration only; from version 4 on the key is INDEX_KEY4_SQL. */
#define INDEX_CLASS_BITS 40
#define INDEX_ACCESS_BITS 42
#define INDEX_ID_MASK ((INT64_C(1) << INDEX_CLASS_BITS) - 1)
#define INDEX_KEY3_SQL(id)                                                                         \
	"((r.access << 42) | ((CASE t.type WHEN 'transcription' THEN 0 WHEN 'translation' THEN 1"  \
	" WHEN 'gloss' THEN 2 ELSE 3 END) << 40) | " id ")"
/* From schema version 4 on, a segment that overlaps one of its recording's
 * withheld spans is indexed at the private level whatever its recording's
 * level: only the viewers who see private recordings (staff) may read a
 * withheld passage, so the search's access ranges hide it from everyone
 * else, counts included. */
#define WITHHELD_OVERLAP_SQL(rec, start, end)                                                      \
	"EXISTS (SELECT 1 FROM withheld_spans w WHERE w.recording_id = " rec                       \
	" AND w.start_ms < max(" end ", " start " + 1) AND w.end_ms > " start ")"
#define INDEX_KEY4_SQL(id, start, end)                                                             \
	"((max(r.access, CASE WHEN " WITHHELD_OVERLAP_SQL(                                         \
		"r.id", start, end) " THEN 2 ELSE 0"                                               \
				    " END) << 42) | ((CASE t.type WHEN 'transcription' THEN 0 "    \
				    "WHEN 'translation' THEN 1"                                    \
				    " WHEN 'gloss' THEN 2 ELSE 3 END) << 40) | " id ")"
/* FTS5's structure record, which every write to the index changes: the
 * search caches and the postings in memory key on its hash. */
#define INDEX_SIGNATURE_SQL "SELECT block FROM segment_index_data WHERE id = 10"
/* The search index itself (schema.c, version 3; rebuilt by prl_archive_reindex). */
#define INDEX_CREATE_SQL                                                                           \
	"CREATE VIRTUAL TABLE segment_index USING fts5(body, meta,"                                \
	" tokenize = 'unicode61 remove_diacritics 2')"
/* A recording's filter tokens as schema 3 made them: place, collection,
 * variety, speakers. */
#define INDEX_META_V3_SQL                                                                          \
	"'p' || ifnull(r.place_id, 0) || ' c' || ifnull(r.collection_id, 0)"                       \
	" || ' v' || hex(prl_fold(ifnull(r.variety, '')))"                                         \
	" || ifnull((SELECT ' ' || group_concat('s' || rs.speaker_id, ' ')"                        \
	"   FROM recording_speakers rs WHERE rs.recording_id = r.id), '')"
/* ... and since schema 11, its institution. */
#define INDEX_META_SQL INDEX_META_V3_SQL " || ' i' || ifnull(r.institution_id, 0)"

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
	ST_MEDIA_NAMED,
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
	ST_SEARCH_COUNT_RANGE,
	ST_SEARCH_PAGE_RANK,
	ST_SEARCH_PAGE_RANK_REST,
	ST_SEARCH_PAGE_ROWID,
	ST_SEARCH_PAGE_RANK_DATED,
	ST_SEARCH_PAGE_ROWID_DATED,
	ST_SEARCH_PAGE_DATE,
	ST_SEARCH_PAGE_PLACE,
	ST_SEARCH_GROUPS,
	ST_SEARCH_HIT,
	ST_VOCAB_ALL,
	ST_INDEX_SIGNATURE,
	ST_FTS5_API,
	ST_SEARCH_IN_ROW,
	ST_RECORDING_TITLE,
	ST_SEGMENT_COUNT,
	ST_SEGMENT_MAX_ID,
	ST_TRANSLATION_TIERS,
	ST_TRANSLATION_LINKED,
	ST_TRANSLATION_BEFORE,
	ST_TRANSLATION_WITHIN,
	ST_WITHHELD_OVERLAPS,
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
	/* schema 4: accounts, sessions, edits, history, withheld spans */
	ST_SEGMENTS_OF_TIER_SHOWN,
	ST_SYNC_FULL,
	ST_SYNC_NORMAL,
	ST_USER_ADD,
	ST_USER_BY_LOGIN,
	ST_USER_SET_PASSWORD,
	ST_USER_SET_ROLE,
	ST_USER_DELETE,
	ST_SESSION_ADD,
	ST_SESSION_GET,
	ST_SESSION_TOUCH,
	ST_SESSION_DELETE,
	ST_SESSIONS_OF_USER_DELETE,
	ST_SESSIONS_EXPIRE,
	ST_FAILURE_ADD,
	ST_FAILURES_PRUNE,
	ST_FAILURES_BY_LOGIN,
	ST_FAILURES_BY_ADDR,
	ST_FAILURES_CLEAR_LOGIN,
	ST_SEGMENT_GET,
	ST_SEGMENT_INSERT,
	ST_SEGMENT_UPDATE,
	ST_SEGMENT_DELETE,
	ST_SEGMENT_OVERLAP,
	ST_SEGMENTS_RENUMBER,
	ST_TIER_GET,
	ST_TIER_NEXT_ORD,
	ST_TIER_RENAME,
	ST_TIER_DEPENDENTS,
	ST_TIER_SNAPSHOT,
	ST_TIER_DELETE_SEGMENTS,
	ST_TIER_DELETE,
	ST_TIER_RESTORE,
	ST_TIER_RESTORE_SEGMENTS,
	ST_REC_SET_ACCESS,
	ST_AUDIT_ADD,
	ST_SEGMENT_CHILDREN,
	ST_REC_GAIN,
	ST_AUDIT_OF_REC,
	ST_AUDIT_GET,
	ST_WITHHELD_ADD,
	ST_WITHHELD_GET,
	ST_WITHHELD_DELETE,
	ST_WITHHELD_OF_REC,
	ST_WITHHELD_SIGNATURE,
	ST_WITHHELD_MEDIA_GET,
	ST_WITHHELD_MEDIA_PUT,
	ST_HARVEST_PAGE,
	ST_HARVEST_COUNT,
	ST_HARVEST_EARLIEST,
	ST_LIST_COUNT,
	ST_LIST_PAGE,
	ST_FACET_COLLECTIONS,
	ST_FACET_PLACES,
	ST_FACET_SPEAKERS,
	ST_FACET_VARIETIES,
	/* schema 8: institutions */
	ST_INST_ADD,
	ST_INST_EDIT,
	ST_INST_BY_SHORT,
	ST_INST_FIRST,
	ST_INST_LIST,
	ST_COLLECTION_INSTITUTION,
	/* schema 13: thematic routes (parcours.c) */
	ST_PARCOURS_BY_SLUG,
	ST_PARCOURS_ADD,
	ST_PARCOURS_DELETE,
	ST_PARCOURS_STOP_ADD,
	ST_PARCOURS_LIST,
	ST_PARCOURS_GET,
	ST_PARCOURS_STOPS,
	/* listening games (games.c) */
	ST_GAME_MAX_SEGMENT,
	ST_GAME_MEANING,
	ST_GAME_WHERE,
	ST_GAME_DISTRACTORS,
	ST_GAME_FACTS,
	/* schema 9: machine-made tiers */
	ST_MACHINE_TIER_ADD,
	ST_MACHINE_SEGMENT_ADD,
	/* fsck --repair (rebuild.c) */
	ST_MEDIA_OF_PATH,
	/* the migration runner (schema.c) */
	ST_SCHEMA_KEEP,
	/* files replaced by an interrupted run (staging.c) */
	ST_MEDIA_SET_BY_PATH,
	ST_WITHHELD_SET_BY_PATH,
	/* schema 10: the catalogue (catalogue.c, trash.c) */
	ST_CAT_SNAPSHOT,
	ST_CAT_UPDATE,
	ST_CAT_UNLINK_SPEAKERS,
	ST_CAT_SPEAKER_LIST,
	ST_CAT_SPEAKER_GET,
	ST_CAT_SPEAKER_UPDATE,
	ST_CAT_SPEAKER_MERGE_LINKS,
	ST_CAT_SPEAKER_MERGE_TIERS,
	ST_CAT_SPEAKER_UNLINK_ALL,
	ST_CAT_SPEAKER_DELETE,
	ST_CAT_SPEAKER_RECORDINGS,
	ST_CAT_PLACE_LIST,
	ST_CAT_PLACE_GET,
	ST_CAT_PLACE_UPDATE,
	ST_CAT_PLACE_MERGE,
	ST_CAT_PLACE_MERGE_ORIGINS,
	ST_CAT_PLACE_DELETE,
	ST_CAT_PLACE_RECORDINGS,
	ST_TRASH_ADD,
	ST_TRASH_MARK,
	ST_TRASH_GET,
	ST_TRASH_UNMARK,
	ST_TRASH_REMOVE,
	ST_TRASH_LIST,
	ST_TRASH_EXPIRED,
	ST_TRASH_FILES,
	ST_TRASH_PURGE,
	ST_TOMBSTONE_ADD,
	ST_TOMBSTONE_REMOVE,
	ST_TOMBSTONE_GET,
	ST_CAT_SPEAKER_BY_NAME,
	ST_CAT_TOUCH,
	ST_CAT_PLACE_BY_NAME,
	ST_CAT_INDEX_STATE,
	/* the institutions' pages and the home page (institutions.c) */
	ST_INST_FACET_COLLECTIONS,
	ST_INST_FACET_PLACES,
	ST_INST_FACET_SPEAKERS,
	ST_FEATURED_RECORDINGS,
	ST_FEATURED_INSTITUTIONS,
	/* schema 11: search by institution, researcher grants */
	ST_FILTER_INSTITUTIONS,
	ST_GRANT_ADD,
	ST_GRANT_DEL,
	ST_GRANTS_OF,
	ST_INST_RECORDINGS_COUNT,
	ST_INST_RECORDINGS_PAGE,
	/* schema 12: contributors and proposals */
	ST_SIGNUPS_COUNT,
	ST_SIGNUPS_PRUNE,
	ST_SIGNUP_ADD,
	ST_CONTRIBUTOR_ADD,
	ST_USER_SUSPEND,
	ST_PROPOSALS_OF_USER_DELETE,
	ST_PROPOSALS_RECENT,
	ST_PROPOSALS_PENDING,
	ST_PROPOSAL_SEGMENT,
	ST_PROPOSAL_ADD,
	ST_PROPOSAL_GET,
	ST_PROPOSAL_SET_STATUS,
	ST_PROPOSALS_COUNT_KEPT,
	ST_PROPOSALS_PAGE,
	ST_PROPOSALS_PAGE_ANY,
	ST_PROPOSALS_PAGE_USER,
	ST_PROPOSALS_COUNT_USER,
	ST_CONTRIBUTOR_CREDIT,
	ST_CONTRIBUTOR_ACCEPTED,
	ST_RECORDING_CONTRIBUTORS,
	/* schema 14: background jobs (jobs.c) */
	ST_JOB_ADD,
	ST_JOB_GET,
	ST_JOB_NEXT,
	ST_JOB_START,
	ST_JOB_PROGRESS,
	ST_JOB_FINISH,
	ST_JOB_CANCEL,
	ST_JOB_ABANDON,
	ST_JOB_LIST,
	ST_JOB_UNFINISHED,
	ST_PARTNER_ADD,
	ST_PARTNER_GET,
	ST_PARTNER_RECORDS_DROP,
	ST_PARTNER_DELETE,
	ST_PARTNER_LIST,
	ST_PARTNER_RECORD_FIND,
	ST_PARTNER_RECORD_INSERT,
	ST_PARTNER_RECORD_UPDATE,
	ST_PARTNER_RUN_DONE,
	ST_PARTNER_RECORDS_COUNT,
	ST_PARTNER_RECORDS_PAGE,
	ST_PARTNER_SEARCH_COUNT,
	ST_PARTNER_SEARCH,
	/* schema 15: themes, and the map of voices */
	ST_THEME_ADD,
	ST_THEME_EDIT,
	ST_THEME_DELETE,
	ST_THEME_BY_SLUG,
	ST_THEME_LIST,
	ST_THEME_TAG_RECORDING,
	ST_THEME_UNTAG_RECORDING,
	ST_THEME_TAG_SEGMENT,
	ST_THEME_UNTAG_SEGMENT,
	ST_THEME_SEGMENT_RECORDING,
	ST_THEMES_OF_RECORDING,
	ST_THEMES_OF_SEGMENTS,
	ST_THEME_RECORDINGS,
	ST_MAP_VARIETY_KNOWN,
	ST_MAP_PLACES,
	ST_MAP_PLACE_VOICES,
	/* schema 18: routes written on the web, their cover and history (parcours.c) */
	ST_PARCOURS_SOURCE,
	ST_PARCOURS_SET_COVER,
	ST_PARCOURS_HISTORY_ADD,
	ST_PARCOURS_HISTORY_OF,
	ST_PARCOURS_HISTORY_GET,
	ST_UPLOAD_ADD,
	ST_UPLOAD_GET,
	ST_UPLOAD_ADVANCE,
	ST_UPLOAD_DELETE,
	ST_UPLOAD_EXPIRED,
	ST_UPLOAD_EXISTS,
	/* review of machine-made tiers (machine.c) */
	ST_ACCEPT_TIER_INFO,
	ST_ACCEPT_SEGMENT_INFO,
	ST_ACCEPT_TIER_SEGMENTS,
	ST_ACCEPT_SEGMENT,
	ST_ACCEPT_TIER,
	ST_PROGRESS,
	ST_USERS_LIST,
	ST_CONTRIBUTOR_NOTES,
	ST_PROGRESS_SEGMENTS,
	ST_MAP_DECADES,
	ST_SEGMENT_MARKS_BACK,
	ST_COUNT
};

struct prl_archive {
	sqlite3 *db;				   /* the open archive.db */
	char *dir;				   /* the data folder, absolute */
	char *media_dir;			   /* dir/media */
	int schema_version;			   /* after migrations: the latest */
	struct prl_buf errmsg;			   /* detail of the last failure */
	sqlite3_stmt *stmts[ST_COUNT];		   /* prepared on first use */
	sqlite3 *db_reader;			   /* a second, read-only connection: big counts are
						    * split across two threads (search-count.c); NULL until used */
	sqlite3_stmt *reader_count;		   /* ST_SEARCH_COUNT_RANGE on db_reader */
	struct prl_search_cache *search_cache;	   /* what searches share: own_search_cache or
						    * one given (prl_archive_set_search_cache) */
	struct prl_search_cache *own_search_cache; /* made with the handle, freed with it */
	const char *audit_contributor;		   /* login archive_audit() names beside the author
						    * while a proposal is accepted, else NULL */
	char *store_url;			   /* "s3://bucket/prefix" from media.conf, or NULL:
						    * media/ is the store */
	struct archive_s3 *s3;			   /* its client, made on first use */
	int64_t cache_cap;  /* bytes media/ may hold as a cache of the store */
	int64_t cache_used; /* bytes it holds, -1 until counted */
};

struct search_vocab;
void search_vocab_free(struct search_vocab *v);
/* Re-indexes every segment of recording id (after its access level, place,
 * speakers... changed), inside the caller's transaction. */
int archive_reindex_recording(struct prl_archive *a, int64_t id);
/* For tests: the estimated matches from which counts are split across two
 * threads; also forgets every remembered count. */
void archive_search_tuning(int64_t parallel_from);
/* For tests: how many searches the postings in memory answered so far;
 * and whether they may answer (1, the default) or FTS5 answers all. */
long archive_search_memory_answers(void);
void archive_search_memory_use(int on);
/* Recomputes recording id's filter tokens (before its segments are
 * indexed), inside the caller's transaction. */
int archive_refresh_index_meta(struct prl_archive *a, int64_t id);

/* users.c: checks password pw (length, not only spaces) and writes its
 * Argon2id string into out (ARCHIVE_PWHASH_BYTES); -PRL_EINVAL with a
 * sentence for a password refused. */
#define ARCHIVE_PWHASH_BYTES 128
int archive_password_hash(struct prl_archive *a, const char *pw, char *out);

/* Inside the caller's edit transaction (archive_edit_begin), for the
 * review of proposals (proposals.c): sets the text of segment sid from
 * version, or adds a segment of tier_id from start_ms to end_ms, with the
 * checks and audit row of prl_archive_segment_update() / _add(); out gets
 * the segment (on -PRL_ECONFLICT the current one). */
int archive_segment_text_set(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			     int64_t version, const char *text, struct prl_buf *out);
int archive_segment_insert(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			   int64_t tier_id, int64_t start_ms, int64_t end_ms, const char *text,
			   struct prl_buf *out);

/* The prepared, reset statement id, or NULL with errmsg set. */
sqlite3_stmt *archive_stmt(struct prl_archive *a, enum stmt_id id);
/* Statement id prepared on another connection of the same archive (a
 * reader); the caller finalizes *out.  SQLITE_OK or SQLite's error. */
int archive_stmt_prepare_on(sqlite3 *db, enum stmt_id id, sqlite3_stmt **out);
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
/* For tests: makes dir/archive.db as a parlers of schema `version` left it. */
int archive_create_at_version(const char *dir, int version);

/* Binds a C string or NULL. */
int archive_bind_text(sqlite3_stmt *st, int i, const char *s);
/* A column as an owned string copy (NULL stays NULL). */
char *archive_col_strdup(sqlite3_stmt *st, int i);

/* Stores doc's tiers for recording id inside the caller's transaction. */
int archive_store_annotations(struct prl_archive *a, int64_t id, const struct prl_annot_doc *doc,
			      int replace);
/* The edit path's transactions (history.c): synchronous=FULL while they run.
 * archive_edit_end() commits when ret is 0, else rolls back, and gives ret
 * or the commit's error. */
int archive_edit_begin(struct prl_archive *a);
int archive_edit_end(struct prl_archive *a, int ret);
/* Writes one history row inside the caller's transaction; before and
 * after are JSON or NULL; v's account (none: the command line) is who.
 * Asks the write gate first: -PRL_EACCESS (the caller rolls back) when v
 * may not change recording rec_id. */
int archive_audit(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
		  int64_t tier_id, int64_t seg_id, const char *action, const char *before,
		  const char *after, int64_t reverts);
/* Adds (span_id 0: a new id) or removes a withheld span of rec_id inside the
 * caller's transaction, re-indexing the recording and writing the history
 * row (reverts: the row undone, or 0); out gets what now is.  The caller
 * runs archive_withheld_refresh_media() once committed. */
int archive_withheld_insert(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    int64_t span_id, int64_t start_ms, int64_t end_ms, const char *reason,
			    int64_t reverts, struct prl_buf *out);
int archive_withheld_remove(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    int64_t span_id, int64_t reverts, struct prl_buf *out);
/* Fills *out for recording id whatever its access, for the archive's own
 * use (recording.c); every way out asks prl_archive_recording_open(), the
 * access gate, instead.  -PRL_ENOTFOUND when unknown. */
int archive_recording_brief(struct prl_archive *a, int64_t id, struct prl_recording_brief *out);
/* Recording id's object as listings give it (no tiers) for viewer v,
 * appended to out.  -PRL_ENOTFOUND when v may not know of it. */
int archive_recording_listed(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			     struct prl_buf *out);
/* The highest access level viewer v (NULL: anonymous) may know of, from
 * prl_access_decide(): what every listing, count and harvest binds as
 * "r.access <= level" (public at least: everyone knows of those; -1
 * would mean none).  The one place that turns the rule into a level. */
int archive_visible_level(const struct prl_viewer *v);
/* The highest access level whose recordings viewer v hears and reads
 * (prl_access_decide() says PRL_SEE_ALL), by role: -1 for none. */
int archive_heard_level(const struct prl_viewer *v);
/* Sliding windows of attempts (users.c): failed logins, sign-ups.  Inside
 * the caller's transaction, count (a statement of the form "SELECT
 * count(*), min(at) ... WHERE key = ?1 AND at > ?2") the attempts of key
 * in the window_s seconds before now: 0 under limit; 1 when full, with
 * *until raised to when its oldest attempt leaves the window. */
int archive_window_full(struct prl_archive *a, enum stmt_id count, const char *key, int64_t now,
			int64_t window_s, int64_t limit, int64_t *until);
/* Forgets the attempts older than the window (prune: "DELETE ... WHERE
 * at <= ?1"), inside the caller's transaction. */
int archive_window_prune(struct prl_archive *a, enum stmt_id prune, int64_t now, int64_t window_s);
/* {duration_ms, transcribed_ms, translated_ms, transcribed, translated,
 * pending, untranscribed_segments} of recording id as v may hear it
 * (progress.c), appended to out; zeros when v hears nothing of it. */
int archive_progress_of_recording(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				  struct prl_buf *out);
/* 0 when short_name is NULL, "" or an institution's; else -PRL_EINVAL
 * with "no institution 'x' (see 'parlers institution list')": a filter
 * naming none is the asker's mistake, not an empty answer. */
int archive_filter_institution(struct prl_archive *a, const char *short_name);
/* [{id, start_ms, end_ms, reason}] of recording rec_id for viewer v, who
 * passed the access gate already (spans.c, for recording.c's JSON); the public
 * prl_archive_withheld_json() opens the recording through the gate first. */
int archive_withheld_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			  struct prl_buf *out);
/* Appends a withheld span's JSON {id, start_ms, end_ms[, reason]} to b
 * (spans.c); the reason only when with_reason. */
void archive_span_json(struct prl_buf *b, int64_t id, int64_t start, int64_t end,
		       const char *reason, int with_reason);
/* Makes the withheld-muted access copies of recording id when its spans
 * changed since they were made (withheld.c).  Outside any transaction. */
int archive_withheld_refresh_media(struct prl_archive *a, int64_t id);

/* The id of institution short_name, and its rights statement (into
 * rights, when not NULL: "" when it has none); short_name NULL: the first
 * one.  -PRL_ENOTFOUND with a sentence naming it. */
int archive_institution_find(struct prl_archive *a, const char *short_name, int64_t *id,
			     struct prl_buf *rights);

/* ---- ingest.c, shared with catalogue.c: the records a sidecar names ---- */

struct sidecar;
struct sidecar_speaker;
/* The collection called name, made for institution when new (-PRL_EINVAL
 * with a sentence when it is another institution's); the place and the
 * speaker a sidecar names, found or made.  An id, or a negative prl_err. */
int64_t archive_find_or_add_collection(struct prl_archive *a, const char *name,
				       int64_t institution);
int64_t archive_find_or_add_place(struct prl_archive *a, const struct sidecar *sc);
int64_t archive_find_or_add_speaker(struct prl_archive *a, const struct sidecar_speaker *sp);

/* ---- catalogue.c, trash.c: reverts of their history rows (edit.c) ---- */

/* Undoes history row hid of recording rec_id, a "recording.edit" (before
 * and after its JSON) or a "recording.delete", inside the caller's
 * transaction; -PRL_ECONFLICT when what it changed has changed since. */
int archive_catalogue_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			     int64_t rec_id, const char *before, const char *after,
			     struct prl_buf *out);
int archive_trash_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
			 int64_t rec_id, struct prl_buf *out);

/* Relative media path of kind ext for a digest: "ab/abcdef....ext". */
int archive_media_relpath(struct prl_buf *out, const char *sha256, const char *ext);

/* ---- staging.c: the folders ingests build their files in ---- */

struct archive_staging {
	struct prl_buf dir; /* media/.staging-XXXXXX, absolute; empty when none */
	int fd;		    /* the folder, open and locked while its run lives, or -1 */
};

void archive_staging_init(struct archive_staging *s);
/* Makes a staging folder in media/ and locks it for this run's lifetime.
 * Returns 0, -PRL_EIO or -PRL_ENOSPC (one line in err). */
int archive_staging_make(struct prl_archive *a, struct archive_staging *s, struct prl_buf *err);
/* Writes down (and syncs), before moving them, the n files (relative to
 * the data folder) that the run is about to move into media/. */
int archive_staging_journal(struct archive_staging *s, const char *const *rel, size_t n,
			    struct prl_buf *err);
/* Writes down (and syncs), before renaming a new file over rel (relative
 * to the data folder, named by a row), its size and SHA-256. */
int archive_staging_note_replaced(struct archive_staging *s, const char *rel, int64_t bytes,
				  const char *sha256, struct prl_buf *err);
/* 1 when a staging folder's "replaced" list has rel with the SHA-256
 * sha256 (hex): a run replacing rel made those bytes, and its row may not
 * have them yet.  0 otherwise. */
int archive_staging_replaced(struct prl_archive *a, const char *rel, const char *sha256);
/* Removes the folder and lets go of its lock; accepts one never made. */
void archive_staging_remove(struct archive_staging *s);
/* What interrupted runs left: staging folders no live run holds, the
 * files their journals name that no row names, and the files they
 * replaced whose rows still have the old size and SHA-256.  Calls report
 * (when not NULL) with each path relative to the data folder; with
 * remove, deletes them (a replaced file is kept and not reported: its
 * row is brought in step).  Returns how many, or a negative prl_err. */
int archive_staging_sweep(struct prl_archive *a, int remove,
			  void (*report)(void *ctx, const char *rel), void *ctx);

/* ---- withheld.c, shared with rebuild.c ---- */

/* The withheld spans of rec_id as start/end pairs (*spans, owned by the
 * caller; NULL and 0 when none) and their signature appended to sig. */
int archive_withheld_spans(struct prl_archive *a, int64_t rec_id, int64_t **spans, size_t *n,
			   struct prl_buf *sig);
/* Appends to path the file (relative) of kind for rec_id that statement
 * sid (ST_MEDIA_GET or ST_WITHHELD_MEDIA_GET) finds, nothing when none;
 * with spans, ST_WITHHELD_MEDIA_GET's span set too. */
int archive_media_row(struct prl_archive *a, enum stmt_id sid, int64_t rec_id, const char *kind,
		      struct prl_buf *path, struct prl_buf *spans);

/* ---- s3.c: a client for S3-compatible object storage ---- */

struct archive_s3;
/* Reads url ("s3://bucket/prefix") and takes the endpoint, region,
 * credentials and timeout from c (NULL: none), or for those c leaves
 * NULL, from c's credentials file (lines PARLERS_S3_ENDPOINT=,
 * AWS_REGION=, AWS_ACCESS_KEY_ID=, AWS_SECRET_ACCESS_KEY=,
 * PARLERS_S3_TIMEOUT=).  *out is the caller's, freed with
 * archive_s3_free(). */
int archive_s3_open(const char *url, const struct prl_store_config *c, struct archive_s3 **out,
		    struct prl_buf *err);
void archive_s3_free(struct archive_s3 *s);
/* HEAD of the bucket: reachable, and the credentials accepted. */
int archive_s3_check(struct archive_s3 *s, struct prl_buf *err);
/* PUT of file path as key (below the prefix), its SHA-256 (hex) signed. */
int archive_s3_put(struct archive_s3 *s, const char *key, const char *path, const char *sha256,
		   struct prl_buf *err);
int archive_s3_head(struct archive_s3 *s, const char *key, int64_t *bytes, struct prl_buf *err);
/* GET of key (count bytes from from, or all when count < 0) written to to
 * (when not NULL), hashed into hex (when not NULL), *got its length.
 * -PRL_ENOTFOUND when the store has no such key. */
int archive_s3_get(struct archive_s3 *s, const char *key, FILE *to, int64_t from, int64_t count,
		   char hex[65], int64_t *got, struct prl_buf *err);
/* DELETE of key; 0 when it was not there. */
int archive_s3_delete(struct archive_s3 *s, const char *key, struct prl_buf *err);

/* What a presigned URL is signed with. */
struct archive_s3_signer {
	const char *base;	/* "scheme://host[:port]" the URL starts with */
	const char *region;	/* the signing region */
	const char *access_key; /* the access key id */
	const char *secret_key; /* its secret */
};
/* Appends to out base + path (URI-encoded) with a SigV4 query-string
 * signature (X-Amz-Algorithm ... X-Amz-Signature, host the only signed
 * header, the payload unsigned) for method, made at now and valid
 * expires_s seconds (1 to 604800, AWS's limit); with content_type and
 * disposition, the store is asked to answer with them as Content-Type and
 * Content-Disposition (response-content-type, -disposition, signed too).
 * -PRL_EINVAL for a base without a host, a path not starting with '/',
 * or such an expiry. */
int archive_s3_presign_url(const struct archive_s3_signer *g, const char *method, const char *path,
			   const char *content_type, const char *disposition, time_t now,
			   long expires_s, struct prl_buf *out);
/* The same for key (below the prefix) in s's bucket, path-style as every
 * request of s is. */
int archive_s3_presign(struct archive_s3 *s, const char *method, const char *key,
		       const char *content_type, const char *disposition, time_t now,
		       long expires_s, struct prl_buf *out);

/* ---- store.c: media/ or an object store ---- */

/* Reads DATA/media.conf into a->store_url (when open). */
int archive_store_load(struct prl_archive *a);
void archive_store_close(struct prl_archive *a);
/* Sends file (rel's new bytes, SHA-256 sha256) to the object store before
 * a row names it; nothing to do with media/ as the store. */
int archive_media_publish(struct prl_archive *a, const char *rel, const char *file,
			  const char *sha256, struct prl_buf *err);
/* Removes rel from the object store once no row names it. */
int archive_media_forget(struct prl_archive *a, const char *rel);
/* Appends to abs the absolute path of rel, first fetched from the object
 * store into the media/ cache (checked against sha256 when not NULL) when
 * it is not there. */
int archive_media_local(struct prl_archive *a, const char *rel, const char *sha256,
			struct prl_buf *abs);
/* Reads rel from the object store into to (when not NULL) and hex. */
int archive_media_fetch_to(struct prl_archive *a, const char *rel, FILE *to, char hex[65],
			   int64_t *got, struct prl_buf *err);
/* Appends to url a presigned URL of rel in the object store for method
 * (answered as content_type and disposition when not NULL), valid expires_s seconds from now; 1
 * (nothing appended) when media/ is the store. */
int archive_media_presign(struct prl_archive *a, const char *rel, const char *method,
			  const char *content_type, const char *disposition, long expires_s,
			  struct prl_buf *url);

/* ---- institutions.c ---- */

/* ,"key":"text" from column col of st, nothing when it is NULL. */
void archive_json_text_field(struct prl_buf *b, const char *key, sqlite3_stmt *st, int col);

/* ---- themes of segments (themes.c) ---- */

struct archive_segment_theme {
	int64_t segment_id; /* tagged */
	char *slug;	    /* with this theme (owned) */
};

/* The theme tags of a recording's segments, sorted by segment. */
struct archive_segment_themes {
	struct archive_segment_theme *tags; /* n of them (owned) */
	size_t n, cap;
};

/* Reads the tags of recording rid's segments into *t (cleared first);
 * release with archive_segment_themes_clear(). */
int archive_segment_themes_load(struct prl_archive *a, int64_t rid,
				struct archive_segment_themes *t);
void archive_segment_themes_clear(struct archive_segment_themes *t); /* accepts NULL */
/* Appends ,"themes":[slug, ...] for segment sid when it has any. */
int archive_segment_themes_json(const struct archive_segment_themes *t, int64_t sid,
				struct prl_buf *out);

#endif
