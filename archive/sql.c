/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Every SQL statement of the archive module, declared up front (kcgi's
 * sqlbox habit) and prepared once per handle on first use.  No statement
 * is ever built from user text: values only travel as bound parameters.
 * Listing queries whose WHERE clause depends on the filters given are the
 * exception in shape, not in safety: see list.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"


static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_REC_BY_SHA] = "SELECT id FROM recordings WHERE sha256 = ?1",
	[ST_COLLECTION_FIND] = "SELECT id FROM collections WHERE name = ?1",
	[ST_COLLECTION_ADD] = "INSERT INTO collections(name) VALUES (?1)",
	[ST_PLACE_FIND] = "SELECT id FROM places WHERE name = ?1 AND commune IS ?2",
	[ST_PLACE_ADD] = "INSERT INTO places(name, commune, lat, lon) VALUES (?1, ?2, ?3, ?4)",
	[ST_SPEAKER_FIND] = "SELECT id FROM speakers WHERE name = ?1 AND birth_year IS ?2",
	[ST_SPEAKER_ADD] = "INSERT INTO speakers(name, is_pseudonym, birth_year, sex, occupation,"
			   " origin, origin_place_id, consent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_REC_ADD] = "INSERT INTO recordings(title, date, place_id, collection_id, collector,"
		       " variety, language, description, keywords, rights, access, duration_ms,"
		       " sample_rate, channels, bits_per_sample, original_format, original_codec,"
		       " original_name, sha256, loudness_lufs, loudness_range_lu, true_peak_dbtp,"
		       " sample_peak_dbfs, gain_db, target_lufs) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		       " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
		       " ?22, ?23, ?24, ?25)",
	[ST_REC_SPEAKER_ADD] = "INSERT OR IGNORE INTO recording_speakers(recording_id, speaker_id,"
			       " role, ord) VALUES (?1, ?2, ?3, ?4)",
	[ST_MEDIA_ADD] = "INSERT INTO media_files(recording_id, kind, path, bytes, sha256)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TAG_ADD] = "INSERT INTO recording_tags(recording_id, key, value) VALUES (?1, ?2, ?3)",
	[ST_REC_BRIEF] = "SELECT id, title, access, duration_ms, sample_rate, channels, sha256,"
			 " original_name FROM recordings WHERE id = ?1",
	[ST_REC_FULL] =
		"SELECT r.id, r.title, r.date, c.name, p.id, p.name, p.commune, p.lat, p.lon,"
		" r.variety, r.language, r.access, r.duration_ms, r.sample_rate, r.channels,"
		" r.sha256, r.original_name, r.original_format, r.loudness_lufs, r.true_peak_dbtp,"
		" r.collector, r.description, r.keywords, r.rights, r.loudness_range_lu, r.gain_db,"
		" r.bits_per_sample, r.original_codec, r.ingested_at, r.updated_at, c.id"
		" FROM recordings r LEFT JOIN places p ON p.id = r.place_id"
		" LEFT JOIN collections c ON c.id = r.collection_id WHERE r.id = ?1",
	[ST_REC_SPEAKERS] = "SELECT s.id, s.name, rs.role, s.birth_year, s.sex, s.occupation,"
			    " s.origin, s.is_pseudonym FROM recording_speakers rs"
			    " JOIN speakers s ON s.id = rs.speaker_id"
			    " WHERE rs.recording_id = ?1 ORDER BY rs.ord, s.id",
	[ST_MEDIA_GET] = "SELECT path, bytes, sha256 FROM media_files"
			 " WHERE recording_id = ?1 AND kind = ?2",
	[ST_MEDIA_ALL] = "SELECT path, bytes, sha256, recording_id FROM media_files ORDER BY path",
	[ST_TIERS_OF] = "SELECT t.id, t.name, t.type, t.language, t.participant, t.annotator,"
			" t.ling_type, t.parent_id, t.constraint_type, t.is_point, t.speaker_id,"
			" s.name FROM tiers t LEFT JOIN speakers s ON s.id = t.speaker_id"
			" WHERE t.recording_id = ?1 ORDER BY t.ord, t.id",
	[ST_SEGMENTS_OF_TIER] = "SELECT id, start_ms, end_ms, text, parent_id, ext_id, cve_ref,"
				" start_unaligned, end_unaligned, version FROM segments"
				" WHERE tier_id = ?1 ORDER BY ord, id",
	[ST_TIER_ADD] = "INSERT INTO tiers(recording_id, name, type, language, participant,"
			" speaker_id, annotator, ling_type, parent_id, constraint_type, is_point, ord)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_SEGMENT_ADD] = "INSERT INTO segments(tier_id, start_ms, end_ms, text, parent_id, ord,"
			   " ext_id, cve_ref, start_unaligned, end_unaligned)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
		" p.name, coalesce(sp.name, (SELECT s2.name FROM recording_speakers rs"
		"   JOIN speakers s2 ON s2.id = rs.speaker_id WHERE rs.recording_id = r.id"
		"   ORDER BY rs.ord LIMIT 1)), r.date, r.variety"
		" FROM segments s JOIN tiers t ON t.id = s.tier_id"
		" JOIN recordings r ON r.id = t.recording_id LEFT JOIN places p ON p.id = r.place_id"
		" LEFT JOIN speakers sp ON sp.id = t.speaker_id WHERE s.id = ?1",
	[ST_SEARCH_TRANSLATION] =
		"SELECT s2.text FROM segments s2 JOIN tiers t2 ON t2.id = s2.tier_id"
		" WHERE t2.recording_id = ?1 AND t2.type = 'translation' AND t2.id != ?2"
		" AND (s2.parent_id = ?3 OR (s2.start_ms < ?5 AND s2.end_ms > ?4))"
		" ORDER BY s2.parent_id IS ?3 DESC,"
		" min(s2.end_ms, ?5) - max(s2.start_ms, ?4) DESC LIMIT 1",
	[ST_VOCAB_ALL] = "SELECT term, doc FROM segment_vocab WHERE col = 'body'",
	/* FTS5 keeps its structure record at id 10; every write changes it */
	[ST_INDEX_SIGNATURE] = "SELECT block FROM segment_index_data WHERE id = 10",
	[ST_SEGMENT_COUNT] = "SELECT count(*) FROM segments",
	[ST_VARIANT_GROUP_OF] =
		"SELECT v2.folded FROM spelling_variants v1 JOIN spelling_variants v2"
		" ON v2.group_id = v1.group_id WHERE v1.folded = ?1 AND v2.folded != ?1"
		" ORDER BY v2.id",
	[ST_VARIANT_ALL] = "SELECT group_id, form FROM spelling_variants ORDER BY group_id, id",
	[ST_VARIANT_CLEAR] = "DELETE FROM spelling_variants",
	[ST_VARIANT_ADD] = "INSERT INTO spelling_variants(group_id, form, folded) VALUES (?1, ?2, ?3)",
	[ST_VARIANT_NEXT_GROUP] = "SELECT ifnull(max(group_id), 0) + 1 FROM spelling_variants",
	[ST_FILTER_SPEAKERS] = "SELECT id FROM speakers WHERE name = ?1 OR CAST(id AS TEXT) = ?1",
	[ST_FILTER_PLACES] = "SELECT id FROM places WHERE name = ?1 OR commune = ?1"
			     " OR CAST(id AS TEXT) = ?1",
	[ST_FILTER_COLLECTIONS] = "SELECT id FROM collections WHERE name = ?1"
				  " OR CAST(id AS TEXT) = ?1",
	/* every rowid a segment of recording ?1 may have (see schema.c) */
	[ST_REINDEX_DELETE] = "DELETE FROM segment_index WHERE rowid IN"
			      " (SELECT s.id + k.column1 * 1099511627776 FROM segments s"
			      " JOIN tiers t ON t.id = s.tier_id, (VALUES (0), (1), (2), (3), (4), (5),"
			      " (6), (7), (8), (9), (10), (11)) k WHERE t.recording_id = ?1)",
	[ST_REINDEX_INSERT] = "INSERT INTO segment_index(rowid, body, meta)"
			      " SELECT " INDEX_KEY_SQL("s.id") ", prl_fold(s.text), ifnull(m.meta, '')"
			      " FROM segments s JOIN tiers t ON t.id = s.tier_id"
			      " JOIN recordings r ON r.id = t.recording_id"
			      " LEFT JOIN recording_index_meta m ON m.recording_id = r.id"
			      " WHERE r.id = ?1",
	[ST_META_REFRESH] = "INSERT OR REPLACE INTO recording_index_meta(recording_id, meta)"
			    " SELECT r.id, " INDEX_META_SQL " FROM recordings r WHERE r.id = ?1",
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

	if (code == SQLITE_FULL)
		return archive_fail(a, -PRL_ENOSPC, "%s: disk full", what);
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
	int ret;

	if (!st)
		return -PRL_ESQL;
	if ((ret = archive_step_done(a, st, "committing")) == 0)
		a->writes++;
	return ret;
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
