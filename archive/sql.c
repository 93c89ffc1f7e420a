/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Every SQL statement of the archive module, declared up front (kcgi's
 * sqlbox habit) and prepared once per handle on first use.  No statement
 * is ever built from user text: values only travel as bound parameters;
 * a filter not given is bound as NULL, so one statement serves every
 * combination.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

/* The filtered listing; the same WHERE for the count and the page. */
#define LIST_WHERE                                                                                 \
	" FROM recordings r LEFT JOIN places p ON p.id = r.place_id"                               \
	" LEFT JOIN collections c ON c.id = r.collection_id"                                       \
	" WHERE r.access <= ?1 AND r.deleted_at IS NULL"                                           \
	" AND (?2 IS NULL OR p.name = ?2 OR p.commune = ?2 OR CAST(p.id AS TEXT) = ?2)"            \
	" AND (?3 IS NULL OR EXISTS (SELECT 1 FROM recording_speakers rs JOIN speakers s"          \
	"      ON s.id = rs.speaker_id WHERE rs.recording_id = r.id"                               \
	"      AND (coalesce(s.pseudonym, s.name) = ?3 OR CAST(s.id AS TEXT) = ?3)))"              \
	" AND (?4 IS NULL OR r.variety = ?4 COLLATE NOCASE)"                                       \
	" AND (?5 IS NULL OR c.name = ?5 OR CAST(c.id AS TEXT) = ?5)"                              \
	" AND (?8 IS NULL OR r.institution_id = (SELECT id FROM institutions WHERE short = ?8))"

/* What a harvester walks: the records it may know of, and the deleted
 * ones it may have seen (schema 10), which stay reported as deleted. */
#define HARVEST_ROWS                                                                               \
	" (SELECT id, updated_at AS stamp, ifnull(collection_id, 0) AS cid,"                       \
	" ifnull(institution_id, 0) AS iid, 0 AS gone"                                             \
	" FROM recordings WHERE access <= ?1 AND deleted_at IS NULL UNION ALL"                     \
	" SELECT recording_id, deleted_at, ifnull(collection_id, 0), ifnull(institution_id, 0), 1" \
	" FROM deleted_records)"
/* The proposals a viewer may list: ?1 status, ?2 recording, ?3 author's
 * id, ?4 author's login, ?5 kind, ?6 the institution whose recordings
 * (NULL: all), ?7 the highest access level the viewer hears, ?8 1 when
 * the viewer reads withheld spans.  Written so that an index walks the
 * queue in id order: (status, id) for one status, (user_id, status) for
 * one author; the recordings as a set made once, no join. */
#define PROPOSALS_REST                                                                             \
	" AND (?2 IS NULL OR p.recording_id = ?2) AND (?3 IS NULL OR p.user_id = ?3)"              \
	" AND (?4 IS NULL OR p.user_id = (SELECT id FROM users WHERE login = ?4))"                 \
	" AND (?5 IS NULL OR p.kind = ?5) AND p.recording_id IN (SELECT id FROM recordings"        \
	"  WHERE access <= ?7 AND (?6 IS NULL OR institution_id = ?6))"                            \
	" AND (?8 OR NOT " WITHHELD_OVERLAP_SQL("p.recording_id", "p.start_ms", "p.end_ms") ")"
/* a page in id order walks the (status, id) index only for one status */
#define PROPOSALS_PAGE_SQL(status)                                                                 \
	"SELECT p.id, p.recording_id, (SELECT title FROM recordings WHERE id = p.recording_id),"   \
	" p.tier_id, p.segment_id, p.kind, p.start_ms,"                                            \
	" p.end_ms, p.text, p.base_text, p.base_version, p.status, p.message, p.created_at,"       \
	" p.reviewed_at, (SELECT login FROM users WHERE id = p.user_id),"                          \
	" (SELECT ifnull(display_name, login) FROM users WHERE id = p.user_id),"                   \
	" (SELECT s.text FROM segments s WHERE s.id = p.segment_id),"                              \
	" (SELECT s.version FROM segments s WHERE s.id = p.segment_id),"                           \
	" (SELECT t.name FROM tiers t WHERE t.id = p.tier_id),"                                    \
	" (SELECT v.login FROM users v WHERE v.id = p.reviewer_id)"                                \
	" FROM proposals p WHERE " status PROPOSALS_REST " AND p.id > ifnull(?11, 0)"              \
	" ORDER BY p.id LIMIT ?9 OFFSET ?10"

/* The recordings the map and a theme's page show (schema 15): ?1 the
 * highest level the viewer hears, ?2 a further level heard in institution
 * ?3 only (a researcher's grant; -1 none); ?4 variety, ?5 and ?6 the first
 * date of a decade and of the next, ?7 an institution's id, ?8 a theme's
 * id (a recording tagged, or one of its segments), NULL for no filter. */
#define MAP_WHERE                                                                                  \
	" r.deleted_at IS NULL AND (r.access <= ?1 OR (r.access <= ?2 AND r.institution_id = ?3))" \
	" AND (?4 IS NULL OR r.variety = ?4 COLLATE NOCASE)"                                       \
	" AND (?5 IS NULL OR (r.date >= ?5 AND r.date < ?6))"                                      \
	" AND (?7 IS NULL OR r.institution_id = ?7)"                                               \
	" AND (?8 IS NULL OR r.id IN (SELECT recording_id FROM recording_themes"                   \
	"  WHERE theme_id = ?8) OR r.id IN (SELECT recording_id FROM segment_themes"               \
	"  WHERE theme_id = ?8))"
/* progress (ST_PROGRESS): the recordings counted, and a segment or
 * proposal counts for whoever reads withheld spans (?4) or when it
 * overlaps none */
#define PROGRESS_SEGMENT_HEARD                                                                     \
	"(?4 OR NOT " WITHHELD_OVERLAP_SQL("t.recording_id", "s.start_ms", "s.end_ms") ")"
#define PROGRESS_PROPOSAL_HEARD                                                                    \
	"(?4 OR NOT " WITHHELD_OVERLAP_SQL("q.recording_id", "q.start_ms", "q.end_ms") ")"
#define PROGRESS_RECORDINGS                                                                        \
	"r.deleted_at IS NULL AND r.access <= ?1"                                                  \
	" AND (?2 IS NULL OR c.name = ?2 OR CAST(c.id AS TEXT) = ?2) AND (?3 IS NULL OR r.id = "   \
	"?3)"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_REC_BY_SHA] = "SELECT id FROM recordings WHERE sha256 = ?1",
	[ST_COLLECTION_FIND] = "SELECT id, institution_id FROM collections WHERE name = ?1",
	[ST_COLLECTION_ADD] = "INSERT INTO collections(name, institution_id) VALUES (?1, ?2)",
	[ST_PLACE_FIND] = "SELECT id FROM places WHERE name = ?1 AND commune IS ?2",
	[ST_PLACE_ADD] = "INSERT INTO places(name, commune, lat, lon) VALUES (?1, ?2, ?3, ?4)",
	[ST_SPEAKER_FIND] = "SELECT id FROM speakers WHERE name = ?1 AND birth_year IS ?2",
	[ST_SPEAKER_ADD] =
		"INSERT INTO speakers(name, is_pseudonym, birth_year, sex, occupation,"
		" origin, origin_place_id, consent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_REC_ADD] = "INSERT INTO recordings(title, date, place_id, collection_id, collector,"
		       " variety, language, description, keywords, rights, access, duration_ms,"
		       " sample_rate, channels, bits_per_sample, original_format, original_codec,"
		       " original_name, sha256, loudness_lufs, loudness_range_lu, true_peak_dbtp,"
		       " sample_peak_dbfs, gain_db, target_lufs, device, institution_id) VALUES"
		       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		       " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
	[ST_REC_SPEAKER_ADD] = "INSERT OR IGNORE INTO recording_speakers(recording_id, speaker_id,"
			       " role, ord) VALUES (?1, ?2, ?3, ?4)",
	[ST_MEDIA_ADD] = "INSERT INTO media_files(recording_id, kind, path, bytes, sha256)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TAG_ADD] = "INSERT INTO recording_tags(recording_id, key, value) VALUES (?1, ?2, ?3)",
	[ST_REC_BRIEF] = "SELECT id, title, access, duration_ms, sample_rate, channels, sha256,"
			 " original_name, institution_id FROM recordings WHERE id = ?1"
			 " AND deleted_at IS NULL",
	[ST_REC_FULL] =
		"SELECT r.id, r.title, r.date, c.name, p.id, p.name, p.commune, p.lat, p.lon,"
		" r.variety, r.language, r.access, r.duration_ms, r.sample_rate, r.channels,"
		" r.sha256, r.original_name, r.original_format, r.loudness_lufs, r.true_peak_dbtp,"
		" r.collector, r.description, r.keywords, r.rights, r.loudness_range_lu, r.gain_db,"
		" r.bits_per_sample, r.original_codec, r.ingested_at, r.updated_at, c.id,"
		" r.device, i.short, i.name, r.version, r.institution_id FROM recordings r"
		" LEFT JOIN places p ON p.id = r.place_id"
		" LEFT JOIN collections c ON c.id = r.collection_id"
		" LEFT JOIN institutions i ON i.id = r.institution_id WHERE r.id = ?1"
		" AND r.deleted_at IS NULL",
	/* a speaker with a pseudonym (schema 10) is shown by it alone, without
	 * what would identify them */
	[ST_REC_SPEAKERS] = "SELECT s.id, coalesce(s.pseudonym, s.name), rs.role,"
			    " iif(s.pseudonym IS NULL, s.birth_year, NULL), s.sex,"
			    " iif(s.pseudonym IS NULL, s.occupation, NULL),"
			    " iif(s.pseudonym IS NULL, s.origin, NULL),"
			    " s.is_pseudonym OR s.pseudonym IS NOT NULL FROM recording_speakers rs"
			    " JOIN speakers s ON s.id = rs.speaker_id"
			    " WHERE rs.recording_id = ?1 ORDER BY rs.ord, s.id",
	[ST_MEDIA_GET] = "SELECT path, bytes, sha256 FROM media_files"
			 " WHERE recording_id = ?1 AND kind = ?2",
	[ST_MEDIA_ALL] =
		"SELECT path, bytes, sha256, recording_id FROM media_files UNION ALL"
		" SELECT path, bytes, sha256, recording_id FROM withheld_media ORDER BY path",
	[ST_MEDIA_NAMED] = "SELECT 1 FROM media_files WHERE path = ?1 UNION ALL"
			   " SELECT 1 FROM withheld_media WHERE path = ?1",
	/* a tier without an annotator credits the contributors whose
	 * proposals on it were accepted (those who gave a credit name) */
	[ST_TIERS_OF] = "SELECT t.id, t.name, t.type, t.language, t.participant,"
			" coalesce(t.annotator, (SELECT group_concat(n, ', ') FROM (SELECT DISTINCT"
			" u.credit_name AS n FROM proposals p JOIN users u ON u.id = p.user_id"
			" WHERE p.tier_id = t.id AND p.status = 'accepted' AND p.kind != 'note'"
			" AND u.credit_name IS NOT NULL AND NOT u.suspended ORDER BY n))),"
			" t.ling_type, t.parent_id, t.constraint_type, t.is_point, t.speaker_id,"
			" coalesce(s.pseudonym, s.name), t.default_locale, t.may_overlap, t.origin,"
			" t.origin_tool, t.origin_settings, s.pseudonym IS NOT NULL FROM tiers t"
			" LEFT JOIN speakers s ON s.id = t.speaker_id"
			" WHERE t.recording_id = ?1 ORDER BY t.ord, t.id",
	[ST_SEGMENTS_OF_TIER] = "SELECT id, start_ms, end_ms, text, parent_id, ext_id, cve_ref,"
				" start_unaligned, end_unaligned, version, origin, confidence,"
				" doubtful FROM segments WHERE tier_id = ?1 ORDER BY ord, id",
	[ST_TIER_ADD] =
		"INSERT INTO tiers(recording_id, name, type, language, participant,"
		" speaker_id, annotator, ling_type, parent_id, constraint_type, is_point, ord,"
		" default_locale, may_overlap, origin, origin_tool, origin_settings)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ifnull(?14, 0),"
		" ?15, ?16, ?17)",
	[ST_SEGMENT_ADD] = "INSERT INTO segments(tier_id, start_ms, end_ms, text, parent_id, ord,"
			   " ext_id, cve_ref, start_unaligned, end_unaligned, origin, confidence,"
			   " doubtful) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			   " ifnull(?13, 0))",
	[ST_TIERS_DELETE] = "DELETE FROM tiers WHERE recording_id = ?1",
	[ST_TIER_BY_NAME] = "SELECT id FROM tiers WHERE recording_id = ?1 AND name = ?2",
	[ST_ANNDOC_PUT] = "INSERT OR REPLACE INTO annotation_docs(recording_id, xmin_ms, xmax_ms,"
			  " author, date, ling_types, cvs, props)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_ANNDOC_GET] = "SELECT xmin_ms, xmax_ms, author, date, ling_types, cvs, props"
			  " FROM annotation_docs WHERE recording_id = ?1",
	[ST_SPEAKER_OF_REC_BY_NAME] = "SELECT s.id FROM recording_speakers rs JOIN speakers s"
				      " ON s.id = rs.speaker_id WHERE rs.recording_id = ?1"
				      " AND s.name = ?2",

	/* search: MATCH takes an expression built by search.c from quoted,
	 * folded terms and filter tokens, never from raw visitor text */
	[ST_SEARCH_COUNT] = "SELECT count(*) FROM segment_index WHERE segment_index MATCH ?1"
			    " AND rowid < ?2 AND (?3 < 0 OR ((rowid >> 40) & 3) = ?3)",
	/* one half of a count split across two connections (search-count.c) */
	[ST_SEARCH_COUNT_RANGE] = "SELECT count(*) FROM segment_index WHERE segment_index MATCH ?1"
				  " AND rowid >= ?2 AND rowid < ?3",
	[ST_SEARCH_COUNT_DATED] =
		"SELECT count(*) FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?4 IS NULL OR r.date >= ?4) AND (?5 IS NULL OR r.date <= ?5)",
	[ST_SEARCH_PAGE_RANK] = "SELECT rowid FROM segment_index WHERE segment_index MATCH ?1"
				" AND rowid < ?2 AND (?3 < 0 OR ((rowid >> 40) & 3) = ?3)"
				" ORDER BY rank LIMIT ?4 OFFSET ?5",
	/* the close spellings' hits by relevance: ranked by the expression
	 * with every form (?1), less the rows the exact one (?6) matches */
	[ST_SEARCH_PAGE_RANK_REST] =
		"SELECT rowid FROM segment_index WHERE segment_index MATCH ?1"
		" AND rowid < ?2 AND (?3 < 0 OR ((rowid >> 40) & 3) = ?3)"
		" AND rowid NOT IN (SELECT rowid FROM segment_index WHERE segment_index MATCH ?6"
		"  AND rowid < ?2)"
		" ORDER BY rank LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_PAGE_ROWID] = "SELECT rowid FROM segment_index WHERE segment_index MATCH ?1"
				 " AND rowid < ?2 AND (?3 < 0 OR ((rowid >> 40) & 3) = ?3)"
				 " ORDER BY rowid LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_PAGE_RANK_DATED] =
		"SELECT si.rowid FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?6 IS NULL OR r.date >= ?6) AND (?7 IS NULL OR r.date <= ?7)"
		" ORDER BY si.rank LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_PAGE_ROWID_DATED] =
		"SELECT si.rowid FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?6 IS NULL OR r.date >= ?6) AND (?7 IS NULL OR r.date <= ?7)"
		" ORDER BY si.rowid LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_PAGE_DATE] =
		"SELECT si.rowid FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?6 IS NULL OR r.date >= ?6) AND (?7 IS NULL OR r.date <= ?7)"
		" ORDER BY r.date IS NULL, r.date, r.id, s.start_ms LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_PAGE_PLACE] =
		"SELECT si.rowid FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" LEFT JOIN places p ON p.id = r.place_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?6 IS NULL OR r.date >= ?6) AND (?7 IS NULL OR r.date <= ?7)"
		" ORDER BY p.name IS NULL, p.name, r.id, s.start_ms LIMIT ?4 OFFSET ?5",
	[ST_SEARCH_GROUPS] =
		"SELECT t.recording_id, r.title, count(*) FROM segment_index si"
		" JOIN segments s ON s.id = (si.rowid & 1099511627775)"
		" JOIN tiers t ON t.id = s.tier_id JOIN recordings r ON r.id = t.recording_id"
		" WHERE segment_index MATCH ?1 AND si.rowid < ?2"
		" AND (?3 < 0 OR ((si.rowid >> 40) & 3) = ?3)"
		" AND (?4 IS NULL OR r.date >= ?4) AND (?5 IS NULL OR r.date <= ?5)"
		" GROUP BY t.recording_id ORDER BY count(*) DESC, t.recording_id LIMIT 200",
	[ST_SEARCH_HIT] =
		"SELECT s.id, s.start_ms, s.end_ms, s.text, t.id, t.name, t.type, r.id, r.title,"
		" p.name, coalesce(sp.pseudonym, sp.name, (SELECT coalesce(s2.pseudonym, s2.name)"
		"   FROM recording_speakers rs"
		"   JOIN speakers s2 ON s2.id = rs.speaker_id WHERE rs.recording_id = r.id"
		"   ORDER BY rs.ord LIMIT 1)), r.date, r.variety"
		" FROM segments s JOIN tiers t ON t.id = s.tier_id"
		" JOIN recordings r ON r.id = t.recording_id LEFT JOIN places p ON p.id = "
		"r.place_id"
		" LEFT JOIN speakers sp ON sp.id = t.speaker_id WHERE s.id = ?1",
	[ST_VOCAB_ALL] = "SELECT term, doc FROM segment_vocab WHERE col = 'body'",
	/* FTS5 keeps its structure record at id 10; every write changes it */
	[ST_INDEX_SIGNATURE] = INDEX_SIGNATURE_SQL,
	/* FTS5's C interface, for its tokenizer (search-memory.c) */
	[ST_FTS5_API] = "SELECT fts5(?1)",
	[ST_SEARCH_IN_ROW] = "SELECT count(*) FROM segment_index WHERE segment_index MATCH ?1"
			     " AND rowid = ?2",
	[ST_RECORDING_TITLE] = "SELECT title FROM recordings WHERE id = ?1",
	[ST_SEGMENT_COUNT] = "SELECT count(*) FROM segments",
	[ST_SEGMENT_MAX_ID] = "SELECT ifnull(max(id), 0) FROM segments",
	/* a hit's translation: a linked child segment, else the segments of the
	 * translation tiers around its span, found through segments_tier_start */
	[ST_TRANSLATION_TIERS] = "SELECT id FROM tiers WHERE recording_id = ?1"
				 " AND type = 'translation' AND id != ?2 ORDER BY ord, id",
	[ST_TRANSLATION_LINKED] = "SELECT text, start_ms, end_ms FROM segments"
				  " WHERE parent_id = ?2 AND tier_id = ?1 LIMIT 1",
	[ST_TRANSLATION_BEFORE] = "SELECT text, start_ms, end_ms FROM segments"
				  " WHERE tier_id = ?1 AND start_ms <= ?2"
				  " ORDER BY start_ms DESC LIMIT 1",
	[ST_TRANSLATION_WITHIN] = "SELECT text, start_ms, end_ms FROM segments"
				  " WHERE tier_id = ?1 AND start_ms > ?2 AND start_ms < ?3"
				  " ORDER BY start_ms LIMIT 16",
	[ST_WITHHELD_OVERLAPS] = "SELECT " WITHHELD_OVERLAP_SQL("?1", "?2", "?3"),
	[ST_VARIANT_GROUP_OF] =
		"SELECT v2.folded FROM spelling_variants v1 JOIN spelling_variants v2"
		" ON v2.group_id = v1.group_id WHERE v1.folded = ?1 AND v2.folded != ?1"
		" ORDER BY v2.id",
	[ST_VARIANT_ALL] = "SELECT group_id, form FROM spelling_variants ORDER BY group_id, id",
	[ST_VARIANT_CLEAR] = "DELETE FROM spelling_variants",
	[ST_VARIANT_ADD] =
		"INSERT INTO spelling_variants(group_id, form, folded) VALUES (?1, ?2, ?3)",
	[ST_VARIANT_NEXT_GROUP] = "SELECT ifnull(max(group_id), 0) + 1 FROM spelling_variants",
	[ST_FILTER_SPEAKERS] = "SELECT id FROM speakers WHERE coalesce(pseudonym, name) = ?1"
			       " OR CAST(id AS TEXT) = ?1",
	[ST_FILTER_PLACES] = "SELECT id FROM places WHERE name = ?1 OR commune = ?1"
			     " OR CAST(id AS TEXT) = ?1",
	[ST_FILTER_COLLECTIONS] = "SELECT id FROM collections WHERE name = ?1"
				  " OR CAST(id AS TEXT) = ?1",
	/* every rowid a segment of recording ?1 may have (see schema.c) */
	[ST_REINDEX_DELETE] =
		"DELETE FROM segment_index WHERE rowid IN"
		" (SELECT s.id + k.column1 * 1099511627776 FROM segments s"
		" JOIN tiers t ON t.id = s.tier_id, (VALUES (0), (1), (2), (3), (4), (5),"
		" (6), (7), (8), (9), (10), (11)) k WHERE t.recording_id = ?1)",
	[ST_REINDEX_INSERT] =
		"INSERT INTO segment_index(rowid, body, meta)"
		" SELECT " INDEX_KEY4_SQL(
			"s.id", "s.start_ms",
			"s.end_ms") ", prl_fold(s.text), ifnull(m.meta, '')"
				    " FROM segments s JOIN tiers t ON t.id = s.tier_id"
				    " JOIN recordings r ON r.id = t.recording_id"
				    " LEFT JOIN recording_index_meta m ON m.recording_id = r.id"
				    " WHERE r.id = ?1 AND r.deleted_at IS NULL",
	[ST_META_REFRESH] = "INSERT OR REPLACE INTO recording_index_meta(recording_id, meta)"
			    " SELECT r.id, " INDEX_META_SQL " FROM recordings r WHERE r.id = ?1",

	/* schema 4 */
	/* the segments of tier ?1 that a viewer who may not read withheld
	 * passages gets: the ones overlapping none */
	[ST_SEGMENTS_OF_TIER_SHOWN] =
		"SELECT s.id, s.start_ms, s.end_ms, s.text, s.parent_id, s.ext_id, s.cve_ref,"
		" s.start_unaligned, s.end_unaligned, s.version, s.origin, s.confidence,"
		" s.doubtful FROM segments s"
		" JOIN tiers t ON t.id = s.tier_id WHERE s.tier_id = ?1 AND "
		"NOT " WITHHELD_OVERLAP_SQL("t.recording_id", "s.start_ms",
					    "s.end_ms") " ORDER BY s.ord, s.id",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_USER_ADD] = "INSERT INTO users(login, role, pwhash, institution_id)"
			" VALUES (?1, ?2, ?3, ?4)",
	[ST_USER_BY_LOGIN] = "SELECT id, role, pwhash, ifnull(institution_id, 0), suspended"
			     " FROM users WHERE login = ?1",
	[ST_USER_SET_PASSWORD] =
		"UPDATE users SET pwhash = ?2,"
		" updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	[ST_USER_SET_ROLE] = "UPDATE users SET role = ?2,"
			     " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	[ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
	[ST_SESSION_ADD] = "INSERT INTO sessions(id_hash, user_id, csrf, created_at, last_seen)"
			   " VALUES (?1, ?2, ?3, ?4, ?4)",
	/* ?2 now, ?3 idle limit, ?4 age limit (seconds) */
	[ST_SESSION_GET] =
		"SELECT u.id, u.login, u.role, s.csrf, s.last_seen,"
		" ifnull(u.institution_id, 0) FROM sessions s"
		" JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND NOT u.suspended"
		" AND s.last_seen > ?2 - ?3 AND s.created_at > ?2 - ?4",
	[ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
	[ST_SESSIONS_OF_USER_DELETE] = "DELETE FROM sessions WHERE user_id = ?1",
	[ST_SESSIONS_EXPIRE] = "DELETE FROM sessions WHERE last_seen <= ?1 - ?2"
			       " OR created_at <= ?1 - ?3",
	[ST_FAILURE_ADD] = "INSERT INTO login_failures(login, addr, at) VALUES (?1, ?2, ?3)",
	[ST_FAILURES_PRUNE] = "DELETE FROM login_failures WHERE at <= ?1",
	[ST_FAILURES_BY_LOGIN] = "SELECT count(*), min(at) FROM login_failures"
				 " WHERE login = ?1 AND at > ?2",
	[ST_FAILURES_BY_ADDR] = "SELECT count(*), min(at) FROM login_failures"
				" WHERE addr = ?1 AND at > ?2",
	[ST_FAILURES_CLEAR_LOGIN] = "DELETE FROM login_failures WHERE login = ?1",
	[ST_SEGMENT_GET] = "SELECT s.id, s.tier_id, s.start_ms, s.end_ms, s.text, s.version,"
			   " t.recording_id, t.is_point, s.origin, s.confidence, s.doubtful"
			   " FROM segments s JOIN tiers t"
			   " ON t.id = s.tier_id WHERE s.id = ?1",
	/* ?1 NULL: a new id; ?6 the version (1, or more when a revert restores) */
	[ST_SEGMENT_INSERT] =
		"INSERT INTO segments(id, tier_id, start_ms, end_ms, text, ord, version)"
		" VALUES (?1, ?2, ?3, ?4, ?5,"
		" (SELECT ifnull(max(ord), -1) + 1 FROM segments WHERE tier_id = ?2), ?6)",
	/* only when nobody changed it since version ?5 was read */
	[ST_SEGMENT_UPDATE] = "UPDATE segments SET start_ms = ?2, end_ms = ?3, text = ?4,"
			      " version = version + 1 WHERE id = ?1 AND version = ?5",
	[ST_SEGMENT_DELETE] = "DELETE FROM segments WHERE id = ?1 AND version = ?2",
	/* another segment of tier ?1 sharing time with ?2..?3 (not ?4) */
	[ST_SEGMENT_OVERLAP] = "SELECT id, start_ms, end_ms FROM segments WHERE tier_id = ?1"
			       " AND id IS NOT ?4 AND start_ms < ?3 AND end_ms > ?2"
			       " AND end_ms > start_ms LIMIT 1",
	/* keeps a tier's order the order of time after an edit */
	[ST_SEGMENTS_RENUMBER] =
		"UPDATE segments SET ord = o.n FROM (SELECT id, row_number() OVER"
		" (ORDER BY start_ms, end_ms, id) - 1 AS n FROM segments WHERE tier_id = ?1) o"
		" WHERE segments.id = o.id AND segments.ord != o.n",
	[ST_TIER_GET] = "SELECT t.id, t.recording_id, t.name, t.type, t.language,"
			" coalesce(s.pseudonym, s.name, t.participant), t.is_point FROM tiers t"
			" LEFT JOIN speakers s ON s.id = t.speaker_id WHERE t.id = ?1",
	[ST_TIER_NEXT_ORD] = "SELECT ifnull(max(ord), -1) + 1 FROM tiers WHERE recording_id = ?1",
	[ST_TIER_RENAME] = "UPDATE tiers SET name = ?2 WHERE id = ?1",
	/* deleting a tier: what depends on it in other tiers (child tiers,
	 * segments linked to its segments), which the cascade would take
	 * along without a word */
	[ST_TIER_DEPENDENTS] =
		"SELECT (SELECT count(*) FROM tiers WHERE parent_id = ?1)"
		" + (SELECT count(*) FROM segments c JOIN segments p ON p.id = c.parent_id"
		"    WHERE p.tier_id = ?1 AND c.tier_id != ?1)",
	/* the whole tier as JSON, every column, its segments in order: the
	 * history keeps it, and a revert puts back exactly this (a machine
	 * tier's marks too; a snapshot older than them restores unmarked) */
	[ST_TIER_SNAPSHOT] =
		"SELECT json_object('id', id, 'recording_id', recording_id, 'name', name, 'type', "
		"type,"
		" 'language', language, 'participant', participant, 'speaker_id', speaker_id,"
		" 'annotator', annotator, 'ling_type', ling_type, 'parent_id', parent_id,"
		" 'constraint_type', constraint_type, 'is_point', is_point, 'ord', ord,"
		" 'default_locale', default_locale, 'may_overlap', may_overlap,"
		" 'origin', origin, 'origin_tool', origin_tool, 'origin_settings', origin_settings,"
		" 'segments', (SELECT json_group_array(json_object('id', s.id, 'start_ms', "
		"s.start_ms,"
		"   'end_ms', s.end_ms, 'text', s.text, 'parent_id', s.parent_id, 'ord', s.ord,"
		"   'ext_id', s.ext_id, 'cve_ref', s.cve_ref, 'start_unaligned', s.start_unaligned,"
		"   'end_unaligned', s.end_unaligned, 'version', s.version, 'origin', s.origin,"
		"   'confidence', s.confidence, 'doubtful', s.doubtful))"
		"  FROM (SELECT * FROM segments WHERE tier_id = ?1 ORDER BY ord, start_ms, id) s)),"
		" (SELECT count(*) FROM segments WHERE tier_id = ?1)"
		" FROM tiers WHERE id = ?1",
	[ST_TIER_DELETE_SEGMENTS] = "DELETE FROM segments WHERE tier_id = ?1",
	[ST_TIER_DELETE] = "DELETE FROM tiers WHERE id = ?1",
	[ST_TIER_RESTORE] =
		"INSERT INTO tiers(id, recording_id, name, type, language, participant, speaker_id,"
		" annotator, ling_type, parent_id, constraint_type, is_point, ord, default_locale,"
		" may_overlap, origin, origin_tool, origin_settings)"
		" SELECT j->>'id', j->>'recording_id', j->>'name', j->>'type', j->>'language',"
		" j->>'participant', (SELECT id FROM speakers WHERE id = j->>'speaker_id'),"
		" j->>'annotator', j->>'ling_type', (SELECT id FROM tiers WHERE id = "
		"j->>'parent_id'),"
		" j->>'constraint_type', j->>'is_point', j->>'ord', j->>'default_locale',"
		" j->>'may_overlap', j->>'origin', j->>'origin_tool', j->>'origin_settings'"
		" FROM (SELECT ?1 AS j)",
	[ST_TIER_RESTORE_SEGMENTS] =
		"INSERT INTO segments(id, tier_id, start_ms, end_ms, text, parent_id, ord, ext_id, "
		"cve_ref,"
		" start_unaligned, end_unaligned, version, origin, confidence, doubtful)"
		" SELECT value->>'id', ?2, value->>'start_ms', value->>'end_ms', value->>'text',"
		" (SELECT id FROM segments WHERE id = value->>'parent_id'), value->>'ord',"
		" value->>'ext_id', value->>'cve_ref', value->>'start_unaligned',"
		" value->>'end_unaligned', value->>'version' + 1, value->>'origin',"
		" value->>'confidence', ifnull(value->>'doubtful', 0)"
		" FROM json_each(?1, '$.segments') ORDER BY key",
	[ST_REC_SET_ACCESS] = "UPDATE recordings SET access = ?2,"
			      " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	/* the login is copied: the history outlives the account */
	[ST_AUDIT_ADD] =
		"INSERT INTO audit(user_id, login, recording_id, tier_id, segment_id, action,"
		" before, after, reverts, contributor) VALUES (?1, coalesce((SELECT login FROM "
		"users"
		" WHERE id = ?1), ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_SEGMENT_CHILDREN] = "SELECT count(*) FROM segments WHERE parent_id = ?1",
	[ST_REC_GAIN] = "SELECT ifnull(gain_db, 0) FROM recordings WHERE id = ?1",
	[ST_AUDIT_OF_REC] = "SELECT id, at, user_id, login, tier_id, segment_id, action, before,"
			    " after, reverts, contributor FROM audit WHERE recording_id = ?1"
			    " ORDER BY id DESC LIMIT ?2 OFFSET ?3",
	[ST_AUDIT_GET] = "SELECT id, recording_id, tier_id, segment_id, action, before, after"
			 " FROM audit WHERE id = ?1",
	[ST_WITHHELD_ADD] = "INSERT INTO withheld_spans(id, recording_id, start_ms, end_ms, reason)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_WITHHELD_GET] = "SELECT id, recording_id, start_ms, end_ms, reason FROM withheld_spans"
			    " WHERE id = ?1",
	[ST_WITHHELD_DELETE] = "DELETE FROM withheld_spans WHERE id = ?1",
	[ST_WITHHELD_OF_REC] = "SELECT id, start_ms, end_ms, reason FROM withheld_spans"
			       " WHERE recording_id = ?1 ORDER BY start_ms, end_ms, id",
	/* what names the span set the muted copies are made for ("" for none) */
	[ST_WITHHELD_SIGNATURE] =
		"SELECT ifnull(group_concat(start_ms || '-' || end_ms, ','), '') FROM"
		" (SELECT start_ms, end_ms FROM withheld_spans WHERE recording_id = ?1"
		" ORDER BY start_ms, end_ms)",
	[ST_WITHHELD_MEDIA_GET] = "SELECT path, bytes, sha256, spans FROM withheld_media"
				  " WHERE recording_id = ?1 AND kind = ?2",
	[ST_WITHHELD_MEDIA_PUT] = "INSERT OR REPLACE INTO withheld_media(recording_id, kind, spans,"
				  " path, bytes, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* OAI-PMH harvesting (harvest.c): ?1 is the highest access level an
	 * anonymous visitor may know of, from prl_access_decide() */
	[ST_HARVEST_PAGE] =
		"SELECT id, stamp, cid, gone FROM" HARVEST_ROWS
		" WHERE (?2 IS NULL OR stamp >= ?2) AND (?3 IS NULL OR stamp <= ?3)"
		" AND (?4 = 0 OR cid = ?4 OR iid = -?4) AND id > ?5 ORDER BY id LIMIT ?6",
	[ST_HARVEST_COUNT] = "SELECT count(*) FROM" HARVEST_ROWS
			     " WHERE (?2 IS NULL OR stamp >= ?2) AND (?3 IS NULL OR stamp <= ?3)"
			     " AND (?4 = 0 OR cid = ?4 OR iid = -?4) AND id > ?5",
	[ST_HARVEST_EARLIEST] = "SELECT ifnull(min(stamp), '') FROM" HARVEST_ROWS,
	/* listings and facets (recording.c): ?1 is the highest access level
	 * the viewer may know of; a filter not given is NULL */
	[ST_LIST_COUNT] = "SELECT count(*)" LIST_WHERE,
	[ST_LIST_PAGE] = "SELECT r.id" LIST_WHERE
			 " ORDER BY r.date IS NULL, r.date, r.id LIMIT ?6 OFFSET ?7",
	[ST_FACET_COLLECTIONS] = "SELECT c.id, c.name, count(r.id) FROM collections c"
				 " JOIN recordings r ON r.collection_id = c.id AND r.access <= ?1"
				 " AND r.deleted_at IS NULL"
				 " GROUP BY c.id ORDER BY c.name",
	[ST_FACET_PLACES] =
		"SELECT p.id, p.name, count(r.id), p.commune, p.lat, p.lon FROM places p"
		" JOIN recordings r ON r.place_id = p.id AND r.access <= ?1"
		" AND r.deleted_at IS NULL"
		" GROUP BY p.id ORDER BY p.name",
	[ST_FACET_SPEAKERS] = "SELECT s.id, coalesce(s.pseudonym, s.name), count(DISTINCT r.id)"
			      " FROM speakers s"
			      " JOIN recording_speakers rs ON rs.speaker_id = s.id"
			      " JOIN recordings r ON r.id = rs.recording_id AND r.access <= ?1"
			      " AND r.deleted_at IS NULL"
			      " GROUP BY s.id ORDER BY 2",
	/* institutions (institutions.c); ?1 of the list: as for listings */
	[ST_INST_ADD] = "INSERT INTO institutions(short, name, kind, description_fr,"
			" description_en, address, commune, website, contact, rights, lat, lon)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	/* a NULL leaves a field as it is, '' clears it; ?13: 1 when the
	 * coordinates are given */
	[ST_INST_EDIT] = "UPDATE institutions SET short = ifnull(?1, short),"
			 " name = ifnull(?2, name),"
			 " kind = CASE WHEN ?3 IS NULL THEN kind ELSE nullif(?3, '') END,"
			 " description_fr = CASE WHEN ?4 IS NULL THEN description_fr"
			 "  ELSE nullif(?4, '') END,"
			 " description_en = CASE WHEN ?5 IS NULL THEN description_en"
			 "  ELSE nullif(?5, '') END,"
			 " address = CASE WHEN ?6 IS NULL THEN address ELSE nullif(?6, '') END,"
			 " commune = CASE WHEN ?7 IS NULL THEN commune ELSE nullif(?7, '') END,"
			 " website = CASE WHEN ?8 IS NULL THEN website ELSE nullif(?8, '') END,"
			 " contact = CASE WHEN ?9 IS NULL THEN contact ELSE nullif(?9, '') END,"
			 " rights = CASE WHEN ?10 IS NULL THEN rights ELSE nullif(?10, '') END,"
			 " lat = CASE WHEN ?13 THEN ?11 ELSE lat END,"
			 " lon = CASE WHEN ?13 THEN ?12 ELSE lon END,"
			 " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE short = ?14",
	[ST_INST_BY_SHORT] = "SELECT id, ifnull(rights, '') FROM institutions WHERE short = ?1",
	[ST_INST_FIRST] = "SELECT id, ifnull(rights, ''), short FROM institutions"
			  " ORDER BY id LIMIT 1",
	[ST_INST_LIST] =
		"SELECT i.short, i.name, i.kind, i.description_fr, i.description_en, i.address,"
		" i.commune, i.lat, i.lon, i.website, i.contact, i.rights,"
		" (SELECT count(DISTINCT r.collection_id) FROM recordings r"
		"  WHERE r.institution_id = i.id AND r.access <= ?1 AND r.deleted_at IS NULL),"
		" (SELECT count(*) FROM recordings r WHERE r.institution_id = i.id"
		"  AND r.access <= ?1 AND r.deleted_at IS NULL) FROM institutions i"
		" WHERE ?2 IS NULL OR i.short = ?2 ORDER BY i.short",
	[ST_COLLECTION_INSTITUTION] = "SELECT short FROM institutions WHERE id = ?1",
	[ST_FACET_VARIETIES] = "SELECT NULL, variety, count(*) FROM recordings"
			       " WHERE variety IS NOT NULL AND access <= ?1 AND deleted_at IS NULL"
			       " GROUP BY variety ORDER BY variety",
	/* schema 13: thematic routes */
	[ST_PARCOURS_BY_SLUG] = "SELECT id, version FROM parcours WHERE slug = ?1",
	[ST_PARCOURS_ADD] =
		"INSERT INTO parcours(slug, title, intro, version) VALUES (?1, ?2, ?3, ?4)",
	[ST_PARCOURS_DELETE] = "DELETE FROM parcours WHERE id = ?1",
	[ST_PARCOURS_STOP_ADD] =
		"INSERT INTO parcours_stops(parcours_id, ord, recording_id, start_ms,"
		" end_ms, title, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_PARCOURS_LIST] = "SELECT id, slug, title, intro, version, updated_at FROM parcours"
			     " ORDER BY title COLLATE NOCASE, slug",
	[ST_PARCOURS_GET] = "SELECT id, slug, title, intro, version, updated_at FROM parcours"
			    " WHERE slug = ?1",
	[ST_PARCOURS_STOPS] = "SELECT ord, recording_id, start_ms, end_ms, title, note"
			      " FROM parcours_stops WHERE parcours_id = ?1 ORDER BY ord",
	/* listening games: public material only, never over a withheld passage;
	 * CROSS JOIN keeps segments the outer loop, walked by id from a random
	 * one, so that a draw reads a few rows and sorts nothing */
	[ST_GAME_MAX_SEGMENT] = "SELECT ifnull(max(id), 0) FROM segments",
	/* the translation is looked up in the recording's first translation
	 * tier, walking its spoken-segment index backwards from the clip (no
	 * sort), once per row: a row without one (NULL) is skipped by the
	 * caller, not by the WHERE, which would look it up twice */
	[ST_GAME_MEANING] =
		"SELECT s.id, t.recording_id, s.start_ms, s.end_ms, s.text,"
		" (SELECT x.text FROM segments x WHERE x.tier_id = (SELECT u.id FROM tiers u"
		"   WHERE u.recording_id = t.recording_id AND u.type = 'translation'"
		"   ORDER BY u.ord, u.id LIMIT 1)"
		"   AND x.start_ms < s.end_ms AND x.start_ms > s.start_ms - 60000"
		"   AND x.end_ms > s.start_ms AND x.text <> ''"
		"   ORDER BY x.start_ms DESC LIMIT 1) AS tr"
		" FROM segments s CROSS JOIN tiers t ON t.id = s.tier_id"
		" CROSS JOIN recordings r ON r.id = t.recording_id"
		" WHERE s.id >= ?1 AND t.type = 'transcription' AND r.access = 0 AND s.text <> ''"
		" AND s.end_ms - s.start_ms BETWEEN 700 AND 20000"
		" AND NOT " WITHHELD_OVERLAP_SQL("r.id", "s.start_ms", "s.end_ms") " ORDER BY s.id",
	[ST_GAME_WHERE] =
		"SELECT s.id, t.recording_id, s.start_ms, s.end_ms, s.text, p.name, p.lat, p.lon"
		" FROM segments s CROSS JOIN tiers t ON t.id = s.tier_id"
		" CROSS JOIN recordings r ON r.id = t.recording_id CROSS JOIN places p ON p.id = "
		"r.place_id"
		" WHERE s.id >= ?1 AND t.type = 'transcription' AND r.access = 0 AND s.text <> ''"
		" AND p.lat IS NOT NULL AND p.lon IS NOT NULL"
		" AND s.end_ms - s.start_ms BETWEEN 1500 AND 20000"
		" AND NOT " WITHHELD_OVERLAP_SQL("r.id", "s.start_ms", "s.end_ms") " ORDER BY s.id",
	[ST_GAME_DISTRACTORS] =
		"SELECT x.text FROM segments x CROSS JOIN tiers u ON u.id = x.tier_id"
		" CROSS JOIN recordings r ON r.id = u.recording_id"
		" WHERE x.id >= ?1 AND u.type = 'translation' AND r.access = 0 AND x.text <> ''"
		" AND length(x.text) BETWEEN ?2 AND ?3"
		" AND NOT " WITHHELD_OVERLAP_SQL("r.id", "x.start_ms",
						 "x.end_ms") " ORDER BY x.id LIMIT ?4",
	[ST_GAME_FACTS] = "SELECT r.title, r.date, p.name, i.short, i.name FROM recordings r"
			  " LEFT JOIN places p ON p.id = r.place_id"
			  " LEFT JOIN institutions i ON i.id = r.institution_id WHERE r.id = ?1",
	/* schema 9: a tier made by a tool, last of its recording */
	[ST_MACHINE_TIER_ADD] =
		"INSERT INTO tiers(recording_id, name, type, language, annotator, ord, origin,"
		" origin_tool, origin_settings) VALUES (?1, ?2, ?3, ?4, ?5,"
		" (SELECT ifnull(max(ord), -1) + 1 FROM tiers WHERE recording_id = ?1),"
		" 'machine', ?6, ?7)",
	[ST_MACHINE_SEGMENT_ADD] =
		"INSERT INTO segments(tier_id, start_ms, end_ms, text, ord, origin, confidence,"
		" doubtful) VALUES (?1, ?2, ?3, ?4, ?5, 'machine', ?6, ?7)",
	/* fsck --repair (rebuild.c): what a stored file is; ?1 its path,
	 * muted 1 for a copy with withheld passages silent */
	[ST_MEDIA_OF_PATH] = "SELECT kind, sha256, 0 FROM media_files WHERE path = ?1 UNION ALL"
			     " SELECT kind, sha256, 1 FROM withheld_media WHERE path = ?1",
	/* the migration runner (schema.c): the database as it is, into ?1 */
	[ST_SCHEMA_KEEP] = "VACUUM INTO ?1",
	/* files replaced by an interrupted run (staging.c): ?1 the path */
	[ST_MEDIA_SET_BY_PATH] = "UPDATE media_files SET bytes = ?2, sha256 = ?3 WHERE path = ?1",
	[ST_WITHHELD_SET_BY_PATH] = "UPDATE withheld_media SET bytes = ?2, sha256 = ?3"
				    " WHERE path = ?1",
	/* schema 10: the catalogue (catalogue.c).  A recording's metadata as
	 * a sidecar would give it: the history keeps it, a revert applies it */
	[ST_CAT_SNAPSHOT] =
		"SELECT json_object('title', r.title, 'date', r.date, 'collection', c.name,"
		" 'place', json(CASE WHEN p.id IS NULL THEN NULL ELSE json_object('name', p.name,"
		"  'commune', p.commune, 'lat', p.lat, 'lon', p.lon) END),"
		" 'variety', r.variety, 'language', r.language, 'collector', r.collector,"
		" 'device', r.device, 'rights', r.rights, 'description', r.description,"
		" 'keywords', json(ifnull(r.keywords, '[]')),"
		" 'speakers', json((SELECT json_group_array(json_object('name', s.name,"
		"   'birth_year', s.birth_year, 'role', rs.role)) FROM (SELECT * FROM"
		"   recording_speakers WHERE recording_id = r.id ORDER BY ord, speaker_id) rs"
		"   JOIN speakers s ON s.id = rs.speaker_id)),"
		" 'access', CASE r.access WHEN 0 THEN 'public' WHEN 1 THEN 'restricted'"
		"  ELSE 'private' END), r.version, r.institution_id"
		" FROM recordings r LEFT JOIN places p ON p.id = r.place_id"
		" LEFT JOIN collections c ON c.id = r.collection_id"
		" WHERE r.id = ?1 AND r.deleted_at IS NULL",
	/* ?2, ?4...: 1 when the field that follows is given (NULL clears it) */
	[ST_CAT_UPDATE] = "UPDATE recordings SET title = CASE WHEN ?2 THEN ?3 ELSE title END,"
			  " date = CASE WHEN ?4 THEN ?5 ELSE date END,"
			  " collection_id = CASE WHEN ?6 THEN ?7 ELSE collection_id END,"
			  " place_id = CASE WHEN ?8 THEN ?9 ELSE place_id END,"
			  " variety = CASE WHEN ?10 THEN ?11 ELSE variety END,"
			  " language = CASE WHEN ?12 THEN ?13 ELSE language END,"
			  " collector = CASE WHEN ?14 THEN ?15 ELSE collector END,"
			  " device = CASE WHEN ?16 THEN ?17 ELSE device END,"
			  " rights = CASE WHEN ?18 THEN ?19 ELSE rights END,"
			  " description = CASE WHEN ?20 THEN ?21 ELSE description END,"
			  " keywords = CASE WHEN ?22 THEN ?23 ELSE keywords END,"
			  " access = CASE WHEN ?24 THEN ?25 ELSE access END,"
			  " version = version + 1,"
			  " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
			  " WHERE id = ?1 AND version = ?26 AND deleted_at IS NULL",
	[ST_CAT_UNLINK_SPEAKERS] = "DELETE FROM recording_speakers WHERE recording_id = ?1",
	/* speakers and places as records; counts of recordings not deleted */
	[ST_CAT_SPEAKER_LIST] =
		"SELECT s.id, s.name, s.pseudonym, s.is_pseudonym, s.birth_year, s.sex,"
		" s.occupation, s.origin, s.consent, (SELECT count(DISTINCT rs.recording_id)"
		"  FROM recording_speakers rs JOIN recordings r ON r.id = rs.recording_id"
		"  WHERE rs.speaker_id = s.id AND r.deleted_at IS NULL)"
		" FROM speakers s WHERE ?1 IS NULL OR s.id = ?1 ORDER BY s.name, s.id",
	[ST_CAT_SPEAKER_GET] = "SELECT id, name FROM speakers WHERE id = ?1",
	/* NULL leaves a field as it is, '' (0 for the year) clears it */
	[ST_CAT_SPEAKER_UPDATE] =
		"UPDATE speakers SET name = ifnull(?2, name),"
		" pseudonym = CASE WHEN ?3 IS NULL THEN pseudonym ELSE nullif(?3, '') END,"
		" birth_year = CASE WHEN ?4 IS NULL THEN birth_year ELSE nullif(?4, 0) END,"
		" sex = CASE WHEN ?5 IS NULL THEN sex ELSE nullif(?5, '') END,"
		" occupation = CASE WHEN ?6 IS NULL THEN occupation ELSE nullif(?6, '') END,"
		" origin = CASE WHEN ?7 IS NULL THEN origin ELSE nullif(?7, '') END,"
		" consent = CASE WHEN ?8 IS NULL THEN consent ELSE nullif(?8, '') END"
		" WHERE id = ?1",
	/* merging speaker ?1 into ?2: its links move (a recording that has
	 * both keeps ?2's), its tiers follow, then it goes */
	[ST_CAT_SPEAKER_MERGE_LINKS] =
		"UPDATE OR IGNORE recording_speakers SET speaker_id = ?2 WHERE speaker_id = ?1",
	[ST_CAT_SPEAKER_MERGE_TIERS] = "UPDATE tiers SET speaker_id = ?2 WHERE speaker_id = ?1",
	[ST_CAT_SPEAKER_UNLINK_ALL] = "DELETE FROM recording_speakers WHERE speaker_id = ?1",
	[ST_CAT_SPEAKER_DELETE] = "DELETE FROM speakers WHERE id = ?1",
	[ST_CAT_SPEAKER_RECORDINGS] =
		"SELECT DISTINCT rs.recording_id FROM recording_speakers rs JOIN recordings r"
		" ON r.id = rs.recording_id WHERE rs.speaker_id IN (?1, ?2)"
		" AND r.deleted_at IS NULL ORDER BY 1",
	[ST_CAT_PLACE_LIST] = "SELECT p.id, p.name, p.commune, p.lat, p.lon,"
			      " (SELECT count(*) FROM recordings r WHERE r.place_id = p.id"
			      "  AND r.deleted_at IS NULL)"
			      " FROM places p WHERE ?1 IS NULL OR p.id = ?1 ORDER BY p.name, p.id",
	[ST_CAT_PLACE_GET] = "SELECT id, name FROM places WHERE id = ?1",
	/* ?6: 1 when the coordinates ?4, ?5 are given (NULL clears them) */
	[ST_CAT_PLACE_UPDATE] =
		"UPDATE places SET name = ifnull(?2, name),"
		" commune = CASE WHEN ?3 IS NULL THEN commune ELSE nullif(?3, '') END,"
		" lat = CASE WHEN ?6 THEN ?4 ELSE lat END, lon = CASE WHEN ?6 THEN ?5 ELSE lon END"
		" WHERE id = ?1",
	[ST_CAT_PLACE_MERGE] = "UPDATE recordings SET place_id = ?2,"
			       " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
			       " WHERE place_id = ?1",
	[ST_CAT_PLACE_MERGE_ORIGINS] =
		"UPDATE speakers SET origin_place_id = ?2 WHERE origin_place_id = ?1",
	[ST_CAT_PLACE_DELETE] = "DELETE FROM places WHERE id = ?1",
	[ST_CAT_PLACE_RECORDINGS] = "SELECT id FROM recordings WHERE place_id IN (?1, ?2)"
				    " AND deleted_at IS NULL ORDER BY id",
	/* the trash (trash.c) */
	[ST_TRASH_ADD] = "INSERT INTO trash(recording_id, reason, user_id, login, access)"
			 " VALUES (?1, ?2, ?3, coalesce((SELECT login FROM users WHERE id = ?3),"
			 " ?4), ?5)",
	[ST_TRASH_MARK] =
		"UPDATE recordings SET deleted_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
		" access = 2, version = version + 1,"
		" updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	[ST_TRASH_GET] = "SELECT t.recording_id, t.deleted_at, t.reason, t.login, t.access,"
			 " r.institution_id, r.title FROM trash t JOIN recordings r"
			 " ON r.id = t.recording_id WHERE t.recording_id = ?1",
	[ST_TRASH_UNMARK] = "UPDATE recordings SET deleted_at = NULL, access = ?2,"
			    " version = version + 1,"
			    " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	[ST_TRASH_REMOVE] = "DELETE FROM trash WHERE recording_id = ?1",
	[ST_TRASH_LIST] = "SELECT t.recording_id, r.title, t.deleted_at, t.reason, t.login,"
			  " t.access, (SELECT max(id) FROM audit a WHERE a.recording_id ="
			  " t.recording_id AND a.action = 'recording.delete')"
			  " FROM trash t JOIN recordings r ON r.id = t.recording_id"
			  " ORDER BY t.deleted_at, t.recording_id",
	/* ?1: "-30 days", for strftime */
	[ST_TRASH_EXPIRED] = "SELECT recording_id FROM trash"
			     " WHERE deleted_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?1)"
			     " ORDER BY recording_id",
	[ST_TRASH_FILES] = "SELECT path FROM media_files WHERE recording_id = ?1 UNION ALL"
			   " SELECT path FROM withheld_media WHERE recording_id = ?1",
	[ST_TRASH_PURGE] = "DELETE FROM recordings WHERE id = ?1 AND deleted_at IS NOT NULL",
	/* what OAI-PMH keeps of a deleted record, after the purge too */
	[ST_TOMBSTONE_ADD] = "INSERT OR REPLACE INTO deleted_records(recording_id, deleted_at,"
			     " collection_id, institution_id) SELECT id, updated_at, collection_id,"
			     " institution_id FROM recordings WHERE id = ?1",
	[ST_TOMBSTONE_REMOVE] = "DELETE FROM deleted_records WHERE recording_id = ?1",
	/* an edit naming a speaker without a birth year means the person of
	 * that name the archive knows first */
	[ST_CAT_SPEAKER_BY_NAME] = "SELECT id FROM speakers WHERE name = ?1 ORDER BY id LIMIT 1",
	/* a record shown on recording ?1 changed: harvesters take it again */
	[ST_CAT_TOUCH] = "UPDATE recordings SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
			 " WHERE id = ?1",
	/* the same for a place named alone (no commune, no coordinates) */
	[ST_CAT_PLACE_BY_NAME] = "SELECT id FROM places WHERE name = ?1 ORDER BY id LIMIT 1",
	/* what a recording's index rows are made of besides their text: its
	 * filter tokens and its level (an edit that leaves both re-indexes
	 * nothing) */
	[ST_CAT_INDEX_STATE] =
		"SELECT ifnull((SELECT meta FROM recording_index_meta WHERE recording_id = ?1), '')"
		" || '|' || ifnull((SELECT access FROM recordings WHERE id = ?1), '')",
	[ST_TOMBSTONE_GET] = "SELECT deleted_at, ifnull(collection_id, 0) FROM deleted_records"
			     " WHERE recording_id = ?1",
	/* an institution's page (institutions.c): ?1 as for listings, ?2 its id */
	[ST_INST_FACET_COLLECTIONS] = "SELECT c.id, c.name, count(r.id) FROM recordings r"
				      " JOIN collections c ON c.id = r.collection_id"
				      " WHERE r.institution_id = ?2 AND r.access <= ?1"
				      " AND r.deleted_at IS NULL GROUP BY c.id ORDER BY c.name",
	[ST_INST_FACET_PLACES] =
		"SELECT p.id, p.name, count(r.id), p.commune, p.lat, p.lon FROM recordings r"
		" JOIN places p ON p.id = r.place_id WHERE r.institution_id = ?2 AND r.access <= ?1"
		" AND r.deleted_at IS NULL GROUP BY p.id ORDER BY p.name",
	[ST_INST_FACET_SPEAKERS] = "SELECT s.id, s.name, count(DISTINCT r.id) FROM recordings r"
				   " JOIN recording_speakers rs ON rs.recording_id = r.id"
				   " JOIN speakers s ON s.id = rs.speaker_id"
				   " WHERE r.institution_id = ?2 AND r.access <= ?1"
				   " AND r.deleted_at IS NULL GROUP BY s.id ORDER BY s.name",
	/* the home page's equal visibility: ?2, ?3 the day's seeds; a keyed
	 * permutation of ids (never a size) orders recordings within each
	 * institution and the institutions; the k-th pick of every
	 * institution comes before any (k+1)-th; at most ?4 each, ?5 in all */
	[ST_FEATURED_RECORDINGS] =
		"SELECT id FROM (SELECT r.id, r.institution_id AS inst, row_number() OVER"
		" (PARTITION BY r.institution_id ORDER BY ((r.id + ?2) * ?3) % 2147483647, r.id)"
		" AS k FROM recordings r WHERE r.access <= ?1 AND r.deleted_at IS NULL)"
		" WHERE k <= ?4"
		" ORDER BY k, ((inst + ?2) * ?3) % 2147483647, inst LIMIT ?5",
	[ST_FEATURED_INSTITUTIONS] = "SELECT short, name, kind, commune FROM institutions"
				     " ORDER BY ((id + ?1) * ?2) % 2147483647, id LIMIT ?3",
	/* schema 11 */
	[ST_FILTER_INSTITUTIONS] = "SELECT id FROM institutions WHERE short = ?1",
	/* ?2: an institution's id, 0 for all of them */
	[ST_GRANT_ADD] = "INSERT OR REPLACE INTO researcher_grants(user_id, institution_id)"
			 " VALUES (?1, ?2)",
	[ST_GRANT_DEL] = "DELETE FROM researcher_grants WHERE user_id = ?1",
	[ST_GRANTS_OF] = "SELECT institution_id FROM researcher_grants WHERE user_id = ?1",
	/* an institution's page: ?1 as for listings, ?2 its id (the index
	 * recordings_institution_access, then each row's deletion mark) */
	[ST_INST_RECORDINGS_COUNT] = "SELECT count(*) FROM recordings"
				     " WHERE institution_id = ?2 AND access <= ?1"
				     " AND deleted_at IS NULL",
	[ST_INST_RECORDINGS_PAGE] =
		"SELECT id FROM recordings WHERE institution_id = ?2"
		" AND access <= ?1 AND deleted_at IS NULL ORDER BY date IS NULL, date, id"
		" LIMIT ?3 OFFSET ?4",
	[ST_SIGNUPS_COUNT] = "SELECT count(*), ifnull(min(at), 0) FROM signups"
			     " WHERE addr = ?1 AND at > ?2",
	[ST_SIGNUPS_PRUNE] = "DELETE FROM signups WHERE at <= ?1",
	[ST_SIGNUP_ADD] = "INSERT INTO signups(addr, at) VALUES (?1, ?2)",
	[ST_CONTRIBUTOR_ADD] =
		"INSERT INTO users(login, role, pwhash, institution_id, display_name,"
		" credit_name, email, licence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_USER_SUSPEND] = "UPDATE users SET suspended = 1,"
			    " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	[ST_PROPOSALS_OF_USER_DELETE] = "DELETE FROM proposals WHERE user_id = ?1"
					" AND status = 'pending'",
	[ST_PROPOSALS_RECENT] = "SELECT count(*) FROM proposals WHERE user_id = ?1"
				" AND created_at > ?2",
	[ST_PROPOSALS_PENDING] = "SELECT count(*) FROM proposals WHERE user_id = ?1"
				 " AND status = 'pending'",
	[ST_PROPOSAL_SEGMENT] = "SELECT s.id, s.tier_id, t.recording_id, t.type, s.start_ms,"
				" s.end_ms, s.text, s.version FROM segments s JOIN tiers t"
				" ON t.id = s.tier_id WHERE s.id = ?1",
	[ST_PROPOSAL_ADD] =
		"INSERT INTO proposals(user_id, recording_id, tier_id, segment_id, kind,"
		" start_ms, end_ms, text, base_text, base_version, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_PROPOSAL_GET] = "SELECT p.id, p.user_id, p.recording_id, p.tier_id, p.segment_id,"
			    " p.kind, p.start_ms, p.end_ms, p.text, p.base_version, p.status,"
			    " u.login FROM proposals p JOIN users u ON u.id = p.user_id"
			    " WHERE p.id = ?1",
	[ST_PROPOSAL_SET_STATUS] = "UPDATE proposals SET status = ?2, message = ?3,"
				   " reviewer_id = ?4, reviewed_at = ?5, text = ifnull(?6, text),"
				   " segment_id = ifnull(?7, segment_id)"
				   " WHERE id = ?1 AND status = 'pending'",
	/* the same filters, from the counts the triggers keep (staff: no
	 * withheld span to leave out) */
	[ST_PROPOSALS_COUNT_KEPT] =
		"SELECT ifnull(sum(c.n), 0) FROM proposal_counts c"
		" WHERE c.status BETWEEN ifnull(?1, '') AND ifnull(?1, '~')"
		" AND (?2 IS NULL OR c.recording_id = ?2)"
		" AND (?5 IS NULL OR c.kind = ?5) AND c.recording_id IN"
		" (SELECT id FROM recordings WHERE access <= ?7"
		"  AND deleted_at IS NULL AND (?6 IS NULL OR institution_id = ?6))",
	[ST_PROPOSALS_PAGE] = PROPOSALS_PAGE_SQL("p.status = ?1"),
	[ST_PROPOSALS_PAGE_ANY] = PROPOSALS_PAGE_SQL("?1 IS NULL"),
	/* one author's: the (user_id, status) index, a few hundred rows at most */
	[ST_PROPOSALS_PAGE_USER] =
		PROPOSALS_PAGE_SQL("p.user_id = ?3 AND (?1 IS NULL OR p.status = ?1)"),
	[ST_PROPOSALS_COUNT_USER] = "SELECT count(*) FROM proposals p WHERE p.user_id = ?3"
				    " AND (?1 IS NULL OR p.status = ?1)" PROPOSALS_REST,
	[ST_CONTRIBUTOR_CREDIT] = "SELECT login, credit_name FROM users WHERE login = ?1"
				  " AND credit_name IS NOT NULL AND NOT suspended",
	/* what an anonymous visitor may read: public recordings, no withheld span */
	[ST_CONTRIBUTOR_ACCEPTED] =
		"SELECT p.id, p.recording_id, r.title, p.kind, p.start_ms, p.end_ms, p.text,"
		" p.reviewed_at FROM proposals p JOIN recordings r ON r.id = p.recording_id"
		" JOIN users u ON u.id = p.user_id WHERE u.login = ?1 AND p.status = 'accepted'"
		" AND p.kind != 'note' AND r.access = 0 AND NOT " WITHHELD_OVERLAP_SQL(
			"p.recording_id", "p.start_ms",
			"p.end_ms") " ORDER BY p.reviewed_at DESC, p.id DESC LIMIT 1000",
	[ST_RECORDING_CONTRIBUTORS] =
		"SELECT u.credit_name, u.login FROM users u WHERE u.credit_name IS NOT NULL"
		" AND NOT u.suspended AND EXISTS (SELECT 1 FROM proposals p WHERE p.user_id = u.id"
		" AND p.recording_id = ?1 AND p.status = 'accepted')"
		" ORDER BY u.credit_name",
	/* background jobs: the outcome is written once, by the worker */
	[ST_JOB_ADD] = "INSERT INTO jobs(kind, recording_id, params, created_by)"
		       " VALUES (?1, ?2, ?3, ?4)",
	[ST_JOB_GET] = "SELECT id, kind, recording_id, status, progress, message, error, result,"
		       " created_by, created_at, started_at, finished_at FROM jobs WHERE id = ?1",
	[ST_JOB_NEXT] = "SELECT id, kind, recording_id, params FROM jobs WHERE status = 'queued'"
			" ORDER BY id LIMIT 1",
	[ST_JOB_START] = "UPDATE jobs SET status = 'running',"
			 " started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
			 " WHERE id = ?1 AND status = 'queued' AND cancel = 0",
	[ST_JOB_PROGRESS] = "UPDATE jobs SET progress = ?2, message = ?3"
			    " WHERE id = ?1 AND status = 'running' RETURNING cancel",
	[ST_JOB_FINISH] = "UPDATE jobs SET status = ?2, error = ?3, result = ?4,"
			  " recording_id = ifnull(?5, recording_id),"
			  " progress = CASE ?2 WHEN 'done' THEN 1 ELSE progress END,"
			  " finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
	[ST_JOB_CANCEL] = "UPDATE jobs SET cancel = 1,"
			  " status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END,"
			  " finished_at = CASE status WHEN 'queued'"
			  "  THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END"
			  " WHERE id = ?1 AND status IN ('queued', 'running')",
	[ST_JOB_ABANDON] = "UPDATE jobs SET status = 'failed', error = ?1,"
			   " finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
			   " WHERE status = 'running'",
	[ST_JOB_LIST] = "SELECT id, recording_id, created_by FROM jobs"
			" WHERE ?1 IS NULL OR recording_id = ?1 ORDER BY id DESC LIMIT 2000",
	[ST_JOB_UNFINISHED] = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')",
	/* partners harvested over OAI-PMH and their records (partners.c) */
	[ST_PARTNER_ADD] = "INSERT INTO partners(name, base_url, prefix, set_spec, institution_id)"
			   " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PARTNER_GET] = "SELECT id, base_url, prefix, set_spec, last_response_date"
			   " FROM partners WHERE name = ?1",
	[ST_PARTNER_RECORDS_DROP] = "DELETE FROM partner_records WHERE partner_id = ?1",
	[ST_PARTNER_DELETE] = "DELETE FROM partners WHERE id = ?1",
	[ST_PARTNER_LIST] = "SELECT p.name, p.base_url, p.prefix, p.set_spec, i.short, i.name,"
			    " p.added_at, p.last_response_date, p.last_run_at, p.last_status,"
			    " p.last_error, (SELECT count(*) FROM partner_records r"
			    "  WHERE r.partner_id = p.id AND r.deleted = 0)"
			    " FROM partners p LEFT JOIN institutions i ON i.id = p.institution_id"
			    " WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name",
	[ST_PARTNER_RECORD_FIND] = "SELECT id, deleted FROM partner_records"
				   " WHERE partner_id = ?1 AND identifier = ?2",
	[ST_PARTNER_RECORD_INSERT] = "INSERT INTO partner_records(partner_id, identifier, "
				     "datestamp, deleted, title, date,"
				     " place, speakers, language, description, url, iiif_manifest)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_PARTNER_RECORD_UPDATE] =
		"UPDATE partner_records SET datestamp = ?3, deleted = ?4, title = ?5, date = ?6,"
		" place = ?7, speakers = ?8, language = ?9, description = ?10, url = ?11,"
		" iiif_manifest = ?12, harvested_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
		" WHERE id = ?1",
	[ST_PARTNER_RUN_DONE] =
		"UPDATE partners SET last_run_at = strftime('%Y-%m-%dT%H:%M:%SZ',"
		" 'now'), last_status = ?2, last_error = ?3,"
		" last_response_date = ifnull(?4, last_response_date) WHERE id = ?1",
	[ST_PARTNER_RECORDS_COUNT] = "SELECT count(*) FROM partner_records"
				     " WHERE partner_id = ?1 AND deleted = 0",
	[ST_PARTNER_RECORDS_PAGE] =
		"SELECT identifier, datestamp, title, date, place, speakers, language, description,"
		" url, iiif_manifest FROM partner_records WHERE partner_id = ?1 AND deleted = 0"
		" ORDER BY id LIMIT ?2 OFFSET ?3",
	[ST_PARTNER_SEARCH_COUNT] = "SELECT count(*) FROM partner_records_fts"
				    " WHERE partner_records_fts MATCH ?1",
	[ST_PARTNER_SEARCH] =
		"SELECT r.identifier, r.datestamp, r.title, r.date, r.place, r.speakers, "
		"r.language,"
		" r.description, r.url, r.iiif_manifest, p.name FROM partner_records_fts f"
		" JOIN partner_records r ON r.id = f.rowid JOIN partners p ON p.id = r.partner_id"
		" WHERE partner_records_fts MATCH ?1 ORDER BY f.rank, r.id LIMIT ?2 OFFSET ?3",
	/* schema 15: themes, and the map of voices */
	[ST_THEME_ADD] = "INSERT INTO themes(slug, name, description) VALUES (?1, ?2, ?3)",
	[ST_THEME_EDIT] = "UPDATE themes SET slug = coalesce(?2, slug), name = coalesce(?3, name),"
			  " description = CASE WHEN ?5 THEN ?4 ELSE description END,"
			  " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE slug = ?1",
	[ST_THEME_DELETE] = "DELETE FROM themes WHERE slug = ?1",
	[ST_THEME_BY_SLUG] = "SELECT id, slug, name, description FROM themes WHERE slug = ?1",
	[ST_THEME_LIST] = "SELECT t.slug, t.name, t.description, (SELECT count(*) FROM recordings r"
			  "  WHERE r.deleted_at IS NULL AND (r.access <= ?1"
			  "  OR (r.access <= ?2 AND r.institution_id = ?3))"
			  "  AND (r.id IN (SELECT recording_id FROM recording_themes"
			  "  WHERE theme_id = t.id) OR r.id IN (SELECT recording_id"
			  "  FROM segment_themes WHERE theme_id = t.id))),"
			  " (SELECT count(*) FROM recording_themes rt JOIN recordings r"
			  "  ON r.id = rt.recording_id WHERE rt.theme_id = t.id"
			  "  AND r.deleted_at IS NULL),"
			  " (SELECT count(*) FROM segment_themes st JOIN recordings r"
			  "  ON r.id = st.recording_id WHERE st.theme_id = t.id"
			  "  AND r.deleted_at IS NULL) FROM themes t"
			  " ORDER BY t.name COLLATE NOCASE, t.slug",
	[ST_THEME_TAG_RECORDING] = "INSERT OR IGNORE INTO recording_themes(theme_id, recording_id)"
				   " VALUES (?1, ?2)",
	[ST_THEME_UNTAG_RECORDING] = "DELETE FROM recording_themes"
				     " WHERE theme_id = ?1 AND recording_id = ?2",
	[ST_THEME_TAG_SEGMENT] = "INSERT OR IGNORE INTO segment_themes(theme_id, segment_id,"
				 " recording_id) VALUES (?1, ?2, ?3)",
	[ST_THEME_UNTAG_SEGMENT] = "DELETE FROM segment_themes"
				   " WHERE theme_id = ?1 AND segment_id = ?2",
	[ST_THEME_SEGMENT_RECORDING] = "SELECT t.recording_id FROM segments s"
				       " JOIN tiers t ON t.id = s.tier_id WHERE s.id = ?1",
	[ST_THEMES_OF_RECORDING] = "SELECT t.slug, t.name FROM recording_themes rt"
				   " JOIN themes t ON t.id = rt.theme_id WHERE rt.recording_id = ?1"
				   " ORDER BY t.name COLLATE NOCASE, t.slug",
	[ST_THEMES_OF_SEGMENTS] = "SELECT st.segment_id, t.slug FROM segment_themes st"
				  " JOIN themes t ON t.id = st.theme_id WHERE st.recording_id = ?1"
				  " ORDER BY st.segment_id, t.slug",
	[ST_THEME_RECORDINGS] =
		"SELECT r.id, r.title, r.date, r.duration_ms, r.variety, p.name, p.commune"
		" FROM recordings r LEFT JOIN places p ON p.id = r.place_id WHERE" MAP_WHERE
		" ORDER BY r.date, r.id LIMIT ?9",
	[ST_MAP_VARIETY_KNOWN] = "SELECT 1 FROM recordings WHERE variety = ?1 COLLATE NOCASE"
				 " AND deleted_at IS NULL LIMIT 1",
	/* recordings grouped by place on the covering index recordings_map
	 * (schema 15), then each place found once by id */
	[ST_MAP_PLACES] = "SELECT p.id, p.name, p.commune, p.lat, p.lon, g.n, g.s FROM"
			  " (SELECT r.place_id AS pid, count(*) AS n,"
			  "  sum(ifnull(r.duration_ms, 0)) AS s FROM recordings r"
			  "  WHERE r.place_id IS NOT NULL AND" MAP_WHERE " GROUP BY r.place_id) g"
			  " JOIN places p ON p.id = g.pid WHERE p.lat IS NOT NULL"
			  " AND p.lon IS NOT NULL ORDER BY g.pid",
	[ST_MAP_PLACE_VOICES] =
		"SELECT r.id, r.title, r.date, r.duration_ms, r.variety,"
		" (SELECT group_concat(coalesce(s.pseudonym, s.name), ', ') FROM "
		"recording_speakers rs"
		"  JOIN speakers s ON s.id = rs.speaker_id WHERE rs.recording_id = r.id)"
		" FROM recordings r WHERE r.place_id = ?9 AND" MAP_WHERE
		" ORDER BY r.date, r.id LIMIT ?10",
	/* schema 18: routes written on the web; the login is copied, as in audit */
	[ST_PARCOURS_SOURCE] = "SELECT slug, title, intro, cover_recording_id, version"
			       " FROM parcours WHERE id = ?1",
	[ST_PARCOURS_SET_COVER] = "UPDATE parcours SET cover_recording_id = ?2 WHERE id = ?1",
	[ST_PARCOURS_HISTORY_ADD] =
		"INSERT INTO parcours_history(user_id, login, slug, action, before, after, reverts)"
		" VALUES (?1, coalesce((SELECT login FROM users WHERE id = ?1), ?2), ?3, ?4, ?5,"
		" ?6, ?7)",
	[ST_PARCOURS_HISTORY_OF] =
		"SELECT id, at, login, action, before, after, reverts"
		" FROM parcours_history WHERE slug = ?1 ORDER BY id DESC LIMIT ?2",
	[ST_PARCOURS_HISTORY_GET] = "SELECT slug, before FROM parcours_history WHERE id = ?1",
	/* uploads (uploads.c) */
	[ST_UPLOAD_ADD] = "INSERT INTO uploads(length, filename, user_id, created_at)"
			  " VALUES (?1, ?2, ?3, ?4)",
	[ST_UPLOAD_GET] = "SELECT id, length, offset, ifnull(user_id, 0), created_at, filename,"
			  " sha_state FROM uploads WHERE id = ?1 AND created_at >= ?2",
	[ST_UPLOAD_ADVANCE] = "UPDATE uploads SET offset = ?2, sha_state = ?3"
			      " WHERE id = ?1 AND ?2 <= length",
	[ST_UPLOAD_DELETE] = "DELETE FROM uploads WHERE id = ?1",
	[ST_UPLOAD_EXPIRED] = "SELECT id FROM uploads WHERE created_at < ?1",
	[ST_UPLOAD_EXISTS] = "SELECT 1 FROM uploads WHERE id = ?1",
	/* review of machine-made tiers: the mark taken away by a person */
	[ST_ACCEPT_TIER_INFO] =
		"SELECT t.recording_id, t.name, t.origin, t.origin_tool, (SELECT count(*) FROM"
		" segments s WHERE s.tier_id = t.id AND s.origin IS NOT NULL) FROM tiers t"
		" WHERE t.id = ?1",
	[ST_ACCEPT_SEGMENT_INFO] = "SELECT s.tier_id, t.recording_id, s.origin, s.confidence,"
				   " s.doubtful, t.origin FROM segments s JOIN tiers t"
				   " ON t.id = s.tier_id WHERE s.id = ?1",
	[ST_ACCEPT_TIER_SEGMENTS] = "UPDATE segments SET origin = NULL, confidence = NULL,"
				    " doubtful = 0 WHERE tier_id = ?1 AND origin IS NOT NULL",
	[ST_ACCEPT_SEGMENT] = "UPDATE segments SET origin = NULL, confidence = NULL, doubtful = 0"
			      " WHERE id = ?1",
	/* the tier's mark goes with its last machine-made segment's */
	[ST_ACCEPT_TIER] = "UPDATE tiers SET origin = NULL, annotator = replace(annotator,"
			   " '(machine, not reviewed)', '(machine, reviewed)') WHERE id = ?1 AND"
			   " origin IS NOT NULL AND NOT EXISTS (SELECT 1 FROM segments s"
			   " WHERE s.tier_id = ?1 AND s.origin IS NOT NULL)",
	/* progress (progress.c): per recording heard (?1 the highest level,
	 * ?2 a collection's name or id, ?3 one recording, ?4 1 when withheld spans
	 * count), by id: id, title, collection, place, duration, 0, 0 (the
	 * time covered, which progress.c adds from ST_PROGRESS_SEGMENTS),
	 * pending proposals, machine segments without text.  The segments with
	 * text are read from their own index (schema 19), which the planner
	 * would otherwise pass over for the tier's, reading every row */
	[ST_PROGRESS] =
		"SELECT r.id, r.title, c.name, p.name, ifnull(r.duration_ms, 0), 0, 0,"
		" (SELECT count(*) FROM proposals q WHERE q.recording_id = r.id"
		" AND q.status = 'pending' AND q.kind != 'note' AND " PROGRESS_PROPOSAL_HEARD "),"
		" (SELECT count(*) FROM tiers t CROSS JOIN segments s ON s.tier_id = t.id"
		" WHERE t.recording_id = r.id AND t.type = 'transcription' AND s.text = ''"
		" AND " PROGRESS_SEGMENT_HEARD ")"
		" FROM recordings r LEFT JOIN collections c ON c.id = r.collection_id"
		" LEFT JOIN places p ON p.id = r.place_id WHERE " PROGRESS_RECORDINGS
		" ORDER BY r.id",
	/* the segments with text of the same recordings, one recording's after
	 * another (the tiers of each, each in time order): recording, 1 for a
	 * translation tier, start, end */
	[ST_PROGRESS_SEGMENTS] =
		"SELECT r.id, t.type = 'translation', s.start_ms, s.end_ms FROM recordings r"
		" LEFT JOIN collections c ON c.id = r.collection_id"
		" CROSS JOIN tiers t ON t.recording_id = r.id"
		" CROSS JOIN segments s INDEXED BY segments_spoken ON s.tier_id = t.id"
		" WHERE " PROGRESS_RECORDINGS " AND t.type IN ('transcription', 'translation')"
		" AND s.text <> '' AND s.end_ms > s.start_ms AND " PROGRESS_SEGMENT_HEARD,
	/* a contributor's accepted notes (I recognise this speaker, this
	 * place) where an anonymous visitor may read: counted, their text is
	 * for staff (it may name a speaker the archive keeps anonymous) */
	[ST_CONTRIBUTOR_NOTES] =
		"SELECT count(*) FROM proposals p JOIN recordings r ON r.id = p.recording_id"
		" JOIN users u ON u.id = p.user_id WHERE u.login = ?1 AND p.status = 'accepted'"
		" AND p.kind = 'note' AND r.access = 0 AND r.deleted_at IS NULL",
	/* every account for 'user list' (accounts.c): never the e-mail */
	[ST_USERS_LIST] = "SELECT u.login, u.role, i.short, ifnull(u.display_name, u.login),"
			  " u.credit_name, u.suspended, u.created_at FROM users u"
			  " LEFT JOIN institutions i ON i.id = u.institution_id ORDER BY u.login",
	/* the decades the map offers: the first three digits of the dates of
	 * the recordings the viewer hears, under the map's other filters, in
	 * order (one walk of the covering index recordings_map); a date
	 * outside the decades the filter takes is none */
	[ST_MAP_DECADES] = "SELECT substr(r.date, 1, 3) AS d FROM recordings r"
			   " WHERE r.date >= '1800' AND r.date < '3000' AND" MAP_WHERE
			   " GROUP BY d ORDER BY d",
	/* a revert gives a machine-made segment its marks back (?2 the
	 * confidence or NULL, ?3 doubtful), while its tier waits for review:
	 * a tier a person has accepted stays accepted.  Not a change of
	 * times or text, so the trigger of schema 9 leaves it be */
	[ST_SEGMENT_MARKS_BACK] = "UPDATE segments SET origin = 'machine', confidence = ?2,"
				  " doubtful = ?3 WHERE id = ?1 AND EXISTS (SELECT 1 FROM tiers t"
				  " WHERE t.id = segments.tier_id AND t.origin IS NOT NULL)",
};

sqlite3_stmt *archive_stmt(struct prl_archive *a, enum stmt_id id)
{
	sqlite3_stmt *st = a->stmts[id];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(a->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		archive_sql_fail(a, "preparing a statement");
		return NULL;
	}
	a->stmts[id] = st;
	return st;
}

int archive_stmt_prepare_on(sqlite3 *db, enum stmt_id id, sqlite3_stmt **out)
{
	return sqlite3_prepare_v3(db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
}

int archive_fail(struct prl_archive *a, int err, const char *fmt, ...)
{
	va_list ap;

	prl_buf_reset(&a->errmsg);
	va_start(ap, fmt);
	prl_buf_vaddf(&a->errmsg, fmt, ap);
	va_end(ap);
	return err;
}

int archive_sql_fail(struct prl_archive *a, const char *what)
{
	int code = sqlite3_errcode(a->db);

	/* a full disk shows as SQLITE_FULL, or as an I/O error whose errno
	 * says so (the WAL or a temporary file could not grow) */
	if (code == SQLITE_FULL || (code == SQLITE_IOERR && sqlite3_system_errno(a->db) == ENOSPC))
		return archive_fail(a, -PRL_ENOSPC, "%s: disk full", what);
	/* the busy timeout passed with another connection holding the lock */
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return archive_fail(a, -PRL_EBUSY,
				    "%s: the archive is being written by another "
				    "program",
				    what);
	return archive_fail(a, -PRL_ESQL, "%s: %s", what, sqlite3_errmsg(a->db));
}

int archive_step_done(struct prl_archive *a, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return archive_sql_fail(a, what);
	sqlite3_reset(st);
	return 0;
}

int archive_begin(struct prl_archive *a)
{
	sqlite3_stmt *st = archive_stmt(a, ST_BEGIN);

	return st ? archive_step_done(a, st, "starting a transaction") : -PRL_ESQL;
}

int archive_commit(struct prl_archive *a)
{
	sqlite3_stmt *st = archive_stmt(a, ST_COMMIT);

	return st ? archive_step_done(a, st, "committing") : -PRL_ESQL;
}

void archive_rollback(struct prl_archive *a)
{
	if (sqlite3_get_autocommit(a->db))
		return;
	/* prepared statements still stepping would make ROLLBACK fail */
	for (int i = 0; i < ST_COUNT; i++)
		if (a->stmts[i])
			sqlite3_reset(a->stmts[i]);
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
}

int archive_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *archive_col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}
