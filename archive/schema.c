/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The archive's schema and its migrations.
 *
 * PRAGMA user_version holds the schema version.  Opening an archive runs
 * every migration newer than that version inside one transaction, so an
 * upgrade is all or nothing; an archive whose version is newer than this
 * program knows is refused before anything is touched.  A migration is
 * never edited once released: changes come as a new one at the end.
 *
 * Before an archive with data (version 1 or later) is upgraded, a copy of
 * its database as it was is kept beside it, archive.db.before-vN (N: its
 * old version), made with VACUUM INTO under a temporary name, synced and
 * renamed into place: the file is whole or absent.  The upgrade starts
 * only once that copy is on disk; a copy made by an earlier attempt for
 * the same version is replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"

struct migration {
	int version;	 /* the user_version after it ran */
	const char *sql; /* one or more statements */
	int rebuilds;	 /* 1: it rebuilds a table others reference, which SQLite
			  * allows only with foreign keys off (the upgrade then
			  * checks them all before it commits) */
};

static const struct migration migrations[] = {
	{1,
	 /* the store: what ingest writes */
	 "CREATE TABLE collections ("
	 "  id INTEGER PRIMARY KEY,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  description TEXT);"
	 "CREATE TABLE places ("
	 "  id INTEGER PRIMARY KEY,"
	 "  name TEXT NOT NULL,"
	 "  commune TEXT,"
	 "  lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),"
	 "  lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180));"
	 "CREATE INDEX places_name ON places(name);"
	 "CREATE TABLE speakers ("
	 "  id INTEGER PRIMARY KEY,"
	 "  name TEXT NOT NULL,"
	 "  is_pseudonym INTEGER NOT NULL DEFAULT 0,"
	 "  birth_year INTEGER,"
	 "  sex TEXT,"
	 "  occupation TEXT,"
	 "  origin TEXT,"
	 "  origin_place_id INTEGER REFERENCES places(id),"
	 "  consent TEXT);"
	 "CREATE INDEX speakers_name ON speakers(name);"
	 "CREATE TABLE recordings ("
	 "  id INTEGER PRIMARY KEY,"
	 "  title TEXT NOT NULL,"
	 "  date TEXT,"
	 "  place_id INTEGER REFERENCES places(id),"
	 "  collection_id INTEGER REFERENCES collections(id),"
	 "  collector TEXT,"
	 "  variety TEXT,"
	 "  language TEXT,"
	 "  description TEXT,"
	 "  keywords TEXT," /* JSON array of strings */
	 "  rights TEXT,"
	 "  access INTEGER NOT NULL DEFAULT 2 CHECK (access IN (0, 1, 2)),"
	 "  duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),"
	 "  sample_rate INTEGER NOT NULL,"
	 "  channels INTEGER NOT NULL,"
	 "  bits_per_sample INTEGER,"
	 "  original_format TEXT NOT NULL,"
	 "  original_codec TEXT,"
	 "  original_name TEXT NOT NULL,"
	 "  sha256 TEXT NOT NULL UNIQUE,"
	 "  loudness_lufs REAL,"
	 "  loudness_range_lu REAL,"
	 "  true_peak_dbtp REAL,"
	 "  sample_peak_dbfs REAL,"
	 "  gain_db REAL,"
	 "  target_lufs REAL,"
	 "  ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 "CREATE INDEX recordings_place ON recordings(place_id);"
	 "CREATE INDEX recordings_collection ON recordings(collection_id);"
	 "CREATE TABLE recording_speakers ("
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  speaker_id INTEGER NOT NULL REFERENCES speakers(id),"
	 "  role TEXT NOT NULL DEFAULT 'speaker',"
	 "  ord INTEGER NOT NULL DEFAULT 0,"
	 "  PRIMARY KEY (recording_id, speaker_id, role));"
	 "CREATE INDEX recording_speakers_speaker ON recording_speakers(speaker_id);"
	 "CREATE TABLE media_files ("
	 "  id INTEGER PRIMARY KEY,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('original', 'opus', 'mp3', 'peaks')),"
	 "  path TEXT NOT NULL UNIQUE," /* relative to the data folder */
	 "  bytes INTEGER NOT NULL,"
	 "  sha256 TEXT NOT NULL,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  UNIQUE (recording_id, kind));"
	 "CREATE TABLE recording_tags (" /* tags embedded in the file, verbatim */
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  key TEXT NOT NULL,"
	 "  value TEXT NOT NULL);"},
	{2,
	 /* time-aligned annotations */
	 "CREATE TABLE tiers ("
	 "  id INTEGER PRIMARY KEY,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  name TEXT NOT NULL,"
	 "  type TEXT NOT NULL DEFAULT 'transcription',"
	 "  language TEXT,"
	 "  participant TEXT,"
	 "  speaker_id INTEGER REFERENCES speakers(id) ON DELETE SET NULL,"
	 "  annotator TEXT,"
	 "  ling_type TEXT,"
	 "  parent_id INTEGER REFERENCES tiers(id) ON DELETE CASCADE,"
	 "  constraint_type INTEGER NOT NULL DEFAULT 0 CHECK (constraint_type BETWEEN 0 AND 4),"
	 "  is_point INTEGER NOT NULL DEFAULT 0,"
	 "  ord INTEGER NOT NULL);"
	 "CREATE INDEX tiers_recording ON tiers(recording_id, ord);"
	 "CREATE TABLE segments ("
	 "  id INTEGER PRIMARY KEY,"
	 "  tier_id INTEGER NOT NULL REFERENCES tiers(id) ON DELETE CASCADE,"
	 "  start_ms INTEGER NOT NULL CHECK (start_ms >= 0),"
	 "  end_ms INTEGER NOT NULL CHECK (end_ms >= start_ms),"
	 "  text TEXT NOT NULL,"
	 "  parent_id INTEGER REFERENCES segments(id) ON DELETE CASCADE,"
	 "  ord INTEGER NOT NULL,"
	 "  ext_id TEXT,"
	 "  cve_ref TEXT,"
	 "  start_unaligned INTEGER NOT NULL DEFAULT 0,"
	 "  end_unaligned INTEGER NOT NULL DEFAULT 0,"
	 "  version INTEGER NOT NULL DEFAULT 1);"
	 "CREATE INDEX segments_tier ON segments(tier_id, ord);"
	 "CREATE INDEX segments_parent ON segments(parent_id);"
	 /* what the document held beyond tiers, for lossless round trips */
	 "CREATE TABLE annotation_docs ("
	 "  recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  xmin_ms INTEGER,"
	 "  xmax_ms INTEGER,"
	 "  author TEXT,"
	 "  date TEXT,"
	 "  ling_types TEXT," /* JSON */
	 "  cvs TEXT,"	      /* JSON */
	 "  props TEXT);"},   /* JSON */
	{3,
	 /* full-text search.
	  *
	  * segment_index holds each segment's text folded by prl_fold() (body)
	  * and its recording's filter tokens (meta: place, collection,
	  * variety, speakers; see recording_index_meta).  Its rowid is not
	  * the segment id alone: it is access << 42 | tier class << 40 | id,
	  * so the access rule and the tier type are rowid ranges, which FTS5
	  * walks without looking at the rows outside them.  The tier class is
	  * 0 transcription, 1 translation, 2 gloss, 3 anything else.  A
	  * segment's row is deleted by trying its twelve possible rowids, so
	  * deletion never needs its tier or recording (gone first in a
	  * cascade).  Triggers keep it in step with every write to segments;
	  * a change to a recording's access, place or speakers re-indexes its
	  * segments (archive_reindex_recording). */
	 "CREATE TABLE recording_index_meta ("
	 "  recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  meta TEXT NOT NULL);"
	 "INSERT INTO recording_index_meta(recording_id, meta)"
	 " SELECT r.id, " INDEX_META_V3_SQL " FROM recordings r;" INDEX_CREATE_SQL ";"
	 "CREATE VIRTUAL TABLE segment_vocab USING fts5vocab(segment_index, 'col');"
	 "INSERT INTO segment_index(rowid, body, meta)"
	 " SELECT " INDEX_KEY3_SQL(
		 "s.id") ", prl_fold(s.text), ifnull(m.meta, '')"
			 " FROM segments s JOIN tiers t ON t.id = s.tier_id"
			 " JOIN recordings r ON r.id = t.recording_id"
			 " LEFT JOIN recording_index_meta m ON m.recording_id = r.id;"
			 "CREATE TRIGGER segments_index_insert AFTER INSERT ON segments BEGIN"
			 " INSERT INTO segment_index(rowid, body, meta)"
			 "  SELECT " INDEX_KEY3_SQL(
				 "new.id") ", prl_fold(new.text), ifnull(m.meta, '')"
					   "  FROM tiers t JOIN recordings r ON r.id = "
					   "t.recording_id"
					   "  LEFT JOIN recording_index_meta m ON m.recording_id = "
					   "r.id WHERE t.id = new.tier_id;"
					   " END;"
					   "CREATE TRIGGER segments_index_delete AFTER DELETE ON "
					   "segments BEGIN"
					   " DELETE FROM segment_index WHERE rowid IN (old.id, "
					   "old.id + 1099511627776, old.id + 2199023255552, old.id "
					   "+ 3298534883328, old.id + 4398046511104, old.id + "
					   "5497558138880, old.id + 6597069766656, old.id + "
					   "7696581394432, old.id + 8796093022208, old.id + "
					   "9895604649984, old.id + 10995116277760, old.id + "
					   "12094627905536);"
					   " END;"
					   "CREATE TRIGGER segments_index_update AFTER UPDATE OF "
					   "text, tier_id ON segments BEGIN"
					   " DELETE FROM segment_index WHERE rowid IN (old.id, "
					   "old.id + 1099511627776, old.id + 2199023255552, old.id "
					   "+ 3298534883328, old.id + 4398046511104, old.id + "
					   "5497558138880, old.id + 6597069766656, old.id + "
					   "7696581394432, old.id + 8796093022208, old.id + "
					   "9895604649984, old.id + 10995116277760, old.id + "
					   "12094627905536);"
					   " INSERT INTO segment_index(rowid, body, meta)"
					   "  SELECT " INDEX_KEY3_SQL(
						   "new.id") ", prl_fold(new.text), ifnull(m.meta, "
							     "'')"
							     "  FROM tiers t JOIN recordings r ON "
							     "r.id = t.recording_id"
							     "  LEFT JOIN recording_index_meta m "
							     "ON m.recording_id = r.id WHERE t.id "
							     "= new.tier_id;"
							     " END;"
							     /* equivalent spellings kept by staff:
								one group per line of the CSV */
							     "CREATE TABLE spelling_variants ("
							     "  id INTEGER PRIMARY KEY,"
							     "  group_id INTEGER NOT NULL,"
							     "  form TEXT NOT NULL,"
							     "  folded TEXT NOT NULL UNIQUE);"
							     "CREATE INDEX spelling_variants_group "
							     "ON spelling_variants(group_id);"},
	{4,
	 /* accounts: role 1 researcher, 2 annotator, 3 admin (enum prl_role);
	  * pwhash is libsodium's Argon2id string, salt and limits inside */
	 "CREATE TABLE users ("
	 "  id INTEGER PRIMARY KEY,"
	 "  login TEXT NOT NULL UNIQUE,"
	 "  role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),"
	 "  pwhash TEXT NOT NULL,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 /* sessions are found by the SHA-256 of the cookie's value: a copy of
	  * the database does not hand out working cookies.  Times are Unix
	  * seconds. */
	 "CREATE TABLE sessions ("
	 "  id_hash BLOB PRIMARY KEY,"
	 "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 "  csrf TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  last_seen INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE INDEX sessions_user ON sessions(user_id);"
	 "CREATE TABLE login_failures ("
	 "  id INTEGER PRIMARY KEY,"
	 "  login TEXT NOT NULL,"
	 "  addr TEXT NOT NULL,"
	 "  at INTEGER NOT NULL);"
	 "CREATE INDEX login_failures_login ON login_failures(login, at);"
	 "CREATE INDEX login_failures_addr ON login_failures(addr, at);"
	 /* every change made through the editing API, before and after as
	  * JSON; no foreign keys: the history outlives what it tells of */
	 "CREATE TABLE audit ("
	 "  id INTEGER PRIMARY KEY,"
	 "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	 "  user_id INTEGER,"
	 "  login TEXT,"
	 "  recording_id INTEGER NOT NULL,"
	 "  tier_id INTEGER,"
	 "  segment_id INTEGER,"
	 "  action TEXT NOT NULL,"
	 "  before TEXT,"
	 "  after TEXT,"
	 "  reverts INTEGER);"
	 "CREATE INDEX audit_recording ON audit(recording_id, id);"
	 /* passages a speaker asked not to publish */
	 "CREATE TABLE withheld_spans ("
	 "  id INTEGER PRIMARY KEY,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  start_ms INTEGER NOT NULL CHECK (start_ms >= 0),"
	 "  end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),"
	 "  reason TEXT,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 "CREATE INDEX withheld_spans_recording ON withheld_spans(recording_id, start_ms);"
	 /* access copies with the withheld spans silent, made for the span set
	  * named in spans ("start-end,start-end"); served to everyone but staff */
	 "CREATE TABLE withheld_media ("
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('opus', 'mp3')),"
	 "  spans TEXT NOT NULL,"
	 "  path TEXT NOT NULL UNIQUE,"
	 "  bytes INTEGER NOT NULL,"
	 "  sha256 TEXT NOT NULL,"
	 "  PRIMARY KEY (recording_id, kind));"
	 /* the index key now depends on the segment's times (withheld spans),
	  * so the triggers take the new key and also fire on time changes;
	  * nothing is withheld yet, so no row changes key */
	 "DROP TRIGGER segments_index_insert;"
	 "DROP TRIGGER segments_index_update;"
	 "CREATE TRIGGER segments_index_insert AFTER INSERT ON segments BEGIN"
	 " INSERT INTO segment_index(rowid, body, meta)"
	 "  SELECT " INDEX_KEY4_SQL(
		 "new.id", "new.start_ms",
		 "new.end_ms") ", prl_fold(new.text), ifnull(m.meta, '')"
			       "  FROM tiers t JOIN recordings r ON r.id = t.recording_id"
			       "  LEFT JOIN recording_index_meta m ON m.recording_id = r.id WHERE "
			       "t.id = new.tier_id;"
			       " END;"
			       "CREATE TRIGGER segments_index_update AFTER UPDATE OF text, "
			       "tier_id, start_ms, end_ms"
			       " ON segments BEGIN"
			       " DELETE FROM segment_index WHERE rowid IN (old.id, old.id + "
			       "1099511627776, old.id + 2199023255552, old.id + 3298534883328, "
			       "old.id + 4398046511104, old.id + 5497558138880, old.id + "
			       "6597069766656, old.id + 7696581394432, old.id + 8796093022208, "
			       "old.id + 9895604649984, old.id + 10995116277760, old.id + "
			       "12094627905536);"
			       " INSERT INTO segment_index(rowid, body, meta)"
			       "  SELECT " INDEX_KEY4_SQL(
				       "new.id", "new.start_ms",
				       "new.end_ms") ", prl_fold(new.text), ifnull(m.meta, '')"
						     "  FROM tiers t JOIN recordings r ON r.id = "
						     "t.recording_id"
						     "  LEFT JOIN recording_index_meta m ON "
						     "m.recording_id = r.id WHERE t.id = "
						     "new.tier_id;"
						     " END;"},
	{5,
	 /* what an EAF tier says of its locale, and subtitle tiers whose cues
	  * may overlap, kept so they come back out as they went in */
	 "ALTER TABLE tiers ADD COLUMN default_locale TEXT;"
	 "ALTER TABLE tiers ADD COLUMN may_overlap INTEGER NOT NULL DEFAULT 0;"},
	{6,
	 /* a search hit finds the translation over its span by time: two
	  * bounded lookups instead of a walk through the tier */
	 "CREATE INDEX segments_tier_start ON segments(tier_id, start_ms);"},
	{7,
	 /* the recorder a BWF file names as its Originator is the device, not
	  * the collector: where an older ingest took it for the collector (the
	  * two equal), it moves */
	 "ALTER TABLE recordings ADD COLUMN device TEXT;"
	 "UPDATE recordings SET device = collector, collector = NULL"
	 " WHERE collector IS NOT NULL AND collector = (SELECT value FROM recording_tags t"
	 "  WHERE t.recording_id = recordings.id AND t.key = 'bext_originator');"},
	{8,
	 /* institutions: the depositors of a network (museums, associations,
	  * archives...).  Every collection, recording and staff account
	  * belongs to one; an account with none belongs to the network.  An
	  * archive made before them was one institution's: it becomes the
	  * first one, short name "archive", which `parlers institution edit`
	  * (or `init --institution`) names.  ALTER TABLE cannot add a NOT NULL
	  * column that references another table, so triggers stand for it: a
	  * collection or recording inserted without one goes to the first
	  * institution (the archive's own), and none is ever taken away. */
	 "CREATE TABLE institutions ("
	 "  id INTEGER PRIMARY KEY,"
	 "  short TEXT NOT NULL UNIQUE CHECK (length(short) BETWEEN 1 AND 64"
	 "   AND short NOT GLOB '*[^a-z0-9-]*'),"
	 "  name TEXT NOT NULL,"
	 "  kind TEXT,"
	 "  description_fr TEXT,"
	 "  description_en TEXT,"
	 "  address TEXT,"
	 "  commune TEXT,"
	 "  lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),"
	 "  lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),"
	 "  website TEXT,"
	 "  contact TEXT,"
	 "  rights TEXT,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 "INSERT INTO institutions(id, short, name) VALUES (1, 'archive', 'Archive');"
	 "ALTER TABLE collections ADD COLUMN institution_id INTEGER REFERENCES institutions(id);"
	 "ALTER TABLE recordings ADD COLUMN institution_id INTEGER REFERENCES institutions(id);"
	 "ALTER TABLE users ADD COLUMN institution_id INTEGER REFERENCES institutions(id);"
	 "UPDATE collections SET institution_id = 1;"
	 "UPDATE recordings SET institution_id = 1;"
	 "CREATE INDEX recordings_institution ON recordings(institution_id);"
	 "CREATE INDEX collections_institution ON collections(institution_id);"
	 "CREATE TRIGGER collections_institution_insert AFTER INSERT ON collections"
	 " WHEN new.institution_id IS NULL BEGIN"
	 " UPDATE collections SET institution_id = (SELECT min(id) FROM institutions)"
	 "  WHERE id = new.id; END;"
	 "CREATE TRIGGER collections_institution_update BEFORE UPDATE OF institution_id"
	 " ON collections WHEN new.institution_id IS NULL BEGIN"
	 " SELECT RAISE(ABORT, 'a collection belongs to an institution'); END;"
	 "CREATE TRIGGER recordings_institution_insert AFTER INSERT ON recordings"
	 " WHEN new.institution_id IS NULL BEGIN"
	 " UPDATE recordings SET institution_id = (SELECT min(id) FROM institutions)"
	 "  WHERE id = new.id; END;"
	 "CREATE TRIGGER recordings_institution_update BEFORE UPDATE OF institution_id"
	 " ON recordings WHEN new.institution_id IS NULL BEGIN"
	 " SELECT RAISE(ABORT, 'a recording belongs to an institution'); END;"},
	{9,
	 /* machine-made tiers and segments (segmentation, alignment) carry the
	  * mark "machine", with the tool and its settings on the tier and a
	  * confidence on the segment, until a person changes the segment:
	  * then the mark goes, whichever path made the change */
	 "ALTER TABLE tiers ADD COLUMN origin TEXT CHECK (origin IS NULL OR origin = 'machine');"
	 "ALTER TABLE tiers ADD COLUMN origin_tool TEXT;"
	 "ALTER TABLE tiers ADD COLUMN origin_settings TEXT;" /* JSON object */
	 "ALTER TABLE segments ADD COLUMN origin TEXT"
	 " CHECK (origin IS NULL OR origin = 'machine');"
	 "ALTER TABLE segments ADD COLUMN confidence REAL;"
	 "ALTER TABLE segments ADD COLUMN doubtful INTEGER NOT NULL DEFAULT 0;"
	 "CREATE TRIGGER segments_origin_edited AFTER UPDATE OF start_ms, end_ms, text"
	 " ON segments WHEN old.origin IS NOT NULL BEGIN"
	 " UPDATE segments SET origin = NULL, confidence = NULL, doubtful = 0"
	 "  WHERE id = new.id; END;"},
	{10,
	 /* the catalogue: a recording's metadata edited from a version (two
	  * editors never both win), speakers shown by a pseudonym when they
	  * asked for one, and deletion through a trash.  A deleted recording
	  * keeps its rows and files (deleted_at set, its level private, out
	  * of the search index) until the trash is purged; trash holds why,
	  * by whom and the level it had.  deleted_records outlives the purge:
	  * OAI-PMH reports the records harvesters saw as deleted, for good. */
	 "ALTER TABLE recordings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	 "ALTER TABLE recordings ADD COLUMN deleted_at TEXT;"
	 "ALTER TABLE speakers ADD COLUMN pseudonym TEXT;"
	 "CREATE TABLE trash ("
	 "  recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  deleted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  reason TEXT NOT NULL,"
	 "  user_id INTEGER,"
	 "  login TEXT,"
	 "  access INTEGER NOT NULL CHECK (access IN (0, 1, 2)));"
	 "CREATE TABLE deleted_records ("
	 "  recording_id INTEGER PRIMARY KEY,"
	 "  deleted_at TEXT NOT NULL,"
	 "  collection_id INTEGER,"
	 "  institution_id INTEGER);"},
	{11,
	 /* search by institution: every recording's index tokens gain
	  * i<institution id> (INDEX_META_SQL), and every row of the index is
	  * given its recording's new tokens (the low 40 bits of a rowid are
	  * the segment's id, whatever its access and tier bits).
	  *
	  * Researcher grants: a researcher hears and reads the restricted
	  * recordings of the institution it is granted (institution_id 0:
	  * of all of them; no row: of none).  The researchers of an older
	  * archive heard every restricted recording: they keep that. */
	 "UPDATE recording_index_meta SET meta = (SELECT " INDEX_META_SQL
	 " FROM recordings r WHERE r.id = recording_index_meta.recording_id);"
	 "UPDATE segment_index SET meta = ifnull((SELECT m.meta FROM segments s"
	 " JOIN tiers t ON t.id = s.tier_id"
	 " JOIN recording_index_meta m ON m.recording_id = t.recording_id"
	 " WHERE s.id = (segment_index.rowid & 1099511627775)), '');"
	 "CREATE TABLE researcher_grants ("
	 "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	 "  institution_id INTEGER NOT NULL);"
	 "INSERT INTO researcher_grants(user_id, institution_id)"
	 " SELECT id, 0 FROM users WHERE role = 1;"
	 /* the institutions' pages count and list an institution's
	  * recordings by level from this index alone, never reading rows */
	 "CREATE INDEX recordings_institution_access"
	 " ON recordings(institution_id, access, place_id, collection_id);"},
	{12,
	 /* contributors and their proposals.  A contributor is an account of
	  * role -1 (PRL_ROLE_CONTRIBUTOR): the users table is rebuilt for a
	  * CHECK that allows it (with foreign keys off, so that the rows
	  * referencing accounts stay), with a display name, an optional
	  * credit name (NULL: not credited) and e-mail (never shown), and the
	  * licence it accepted.  Sign-ups are counted per client address like
	  * failed logins.  A proposal keeps the segment's text and version
	  * it was made against, so review shows a conflict instead of
	  * overwriting; segment_id has no foreign key: a proposal outlives a
	  * deleted segment and is then refused at review.  The history names
	  * the contributor of an accepted proposal beside its reviewer. */
	 "CREATE TABLE users_new ("
	 "  id INTEGER PRIMARY KEY,"
	 "  login TEXT NOT NULL UNIQUE,"
	 "  role INTEGER NOT NULL CHECK (role BETWEEN -1 AND 3),"
	 "  pwhash TEXT NOT NULL,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  institution_id INTEGER REFERENCES institutions(id),"
	 "  display_name TEXT,"
	 "  credit_name TEXT,"
	 "  email TEXT,"
	 "  licence TEXT,"
	 "  suspended INTEGER NOT NULL DEFAULT 0);"
	 "INSERT INTO users_new(id, login, role, pwhash, created_at, updated_at, institution_id)"
	 " SELECT id, login, role, pwhash, created_at, updated_at, institution_id FROM users;"
	 "DROP TABLE users;"
	 "ALTER TABLE users_new RENAME TO users;"
	 "CREATE TABLE signups ("
	 "  id INTEGER PRIMARY KEY,"
	 "  addr TEXT NOT NULL,"
	 "  at INTEGER NOT NULL);"
	 "CREATE INDEX signups_addr ON signups(addr, at);"
	 "CREATE TABLE proposals ("
	 "  id INTEGER PRIMARY KEY,"
	 "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  tier_id INTEGER NOT NULL REFERENCES tiers(id) ON DELETE CASCADE,"
	 "  segment_id INTEGER,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('transcription', 'translation',"
	 "   'correction', 'note')),"
	 "  start_ms INTEGER NOT NULL CHECK (start_ms >= 0),"
	 "  end_ms INTEGER NOT NULL CHECK (end_ms >= start_ms),"
	 "  text TEXT NOT NULL,"
	 "  base_text TEXT,"
	 "  base_version INTEGER,"
	 "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted',"
	 "   'declined')),"
	 "  message TEXT,"
	 "  reviewer_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  reviewed_at INTEGER);"
	 "CREATE INDEX proposals_status ON proposals(status, id);"
	 "CREATE INDEX proposals_user ON proposals(user_id, status, created_at);"
	 "CREATE INDEX proposals_recording ON proposals(recording_id, status, id);"
	 /* the review queue's totals without counting the queue: how many
	  * proposals of each status and kind each recording has, kept by
	  * triggers (a recording's rows go with it through the cascade) */
	 "CREATE TABLE proposal_counts ("
	 "  recording_id INTEGER NOT NULL,"
	 "  status TEXT NOT NULL,"
	 "  kind TEXT NOT NULL,"
	 "  n INTEGER NOT NULL,"
	 "  PRIMARY KEY (recording_id, status, kind)) WITHOUT ROWID;"
	 "CREATE TRIGGER proposals_count_insert AFTER INSERT ON proposals BEGIN"
	 " INSERT INTO proposal_counts(recording_id, status, kind, n)"
	 "  VALUES (new.recording_id, new.status, new.kind, 1)"
	 "  ON CONFLICT (recording_id, status, kind) DO UPDATE SET n = n + 1; END;"
	 "CREATE TRIGGER proposals_count_delete AFTER DELETE ON proposals BEGIN"
	 " UPDATE proposal_counts SET n = n - 1 WHERE recording_id = old.recording_id"
	 "  AND status = old.status AND kind = old.kind; END;"
	 "CREATE TRIGGER proposals_count_update AFTER UPDATE OF status ON proposals BEGIN"
	 " UPDATE proposal_counts SET n = n - 1 WHERE recording_id = old.recording_id"
	 "  AND status = old.status AND kind = old.kind;"
	 " INSERT INTO proposal_counts(recording_id, status, kind, n)"
	 "  VALUES (new.recording_id, new.status, new.kind, 1)"
	 "  ON CONFLICT (recording_id, status, kind) DO UPDATE SET n = n + 1; END;"
	 "ALTER TABLE audit ADD COLUMN contributor TEXT;",
	 1},
	{13,
	 /* thematic routes ("parcours"): ordered stops, each a span of a
	  * recording with a commentary.  A stop goes with its recording: a
	  * recording removed for good takes its stops with it. */
	 "CREATE TABLE parcours ("
	 "  id INTEGER PRIMARY KEY,"
	 "  slug TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 64"
	 "   AND slug NOT GLOB '*[^a-z0-9-]*'),"
	 "  title TEXT NOT NULL,"
	 "  intro TEXT,"
	 "  version INTEGER NOT NULL DEFAULT 1,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 "CREATE TABLE parcours_stops ("
	 "  parcours_id INTEGER NOT NULL REFERENCES parcours(id) ON DELETE CASCADE,"
	 "  ord INTEGER NOT NULL,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  start_ms INTEGER NOT NULL CHECK (start_ms >= 0),"
	 "  end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),"
	 "  title TEXT,"
	 "  note TEXT,"
	 "  PRIMARY KEY (parcours_id, ord));"
	 "CREATE INDEX parcours_stops_recording ON parcours_stops(recording_id);"},
	{14,
	 /* background jobs (jobs.c): at most one unfinished job per
	  * recording; a job outlives its recording's removal as a record of
	  * what was done */
	 "CREATE TABLE jobs ("
	 "  id INTEGER PRIMARY KEY,"
	 "  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),"
	 "  recording_id INTEGER,"
	 "  params TEXT,"
	 "  status TEXT NOT NULL DEFAULT 'queued'"
	 "   CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
	 "  cancel INTEGER NOT NULL DEFAULT 0,"
	 "  progress REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),"
	 "  message TEXT,"
	 "  error TEXT,"
	 "  result TEXT,"
	 "  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	 "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	 "  started_at TEXT,"
	 "  finished_at TEXT);"
	 "CREATE UNIQUE INDEX jobs_one_per_recording ON jobs(recording_id)"
	 "  WHERE status IN ('queued', 'running') AND recording_id IS NOT NULL;"
	 "CREATE INDEX jobs_queued ON jobs(status, id);"
	 "CREATE INDEX jobs_recording ON jobs(recording_id, id);"},
	{15,
	 /* themes: a controlled list staff edit, and its tags on recordings
	  * and on segments; a tag goes with its recording, its segment or its
	  * theme */
	 "CREATE TABLE themes ("
	 "  id INTEGER PRIMARY KEY,"
	 "  slug TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 64"
	 "   AND slug NOT GLOB '*[^a-z0-9-]*'),"
	 "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),"
	 "  description TEXT,"
	 "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
	 "CREATE TABLE recording_themes ("
	 "  theme_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  PRIMARY KEY (theme_id, recording_id)) WITHOUT ROWID;"
	 "CREATE INDEX recording_themes_recording ON recording_themes(recording_id);"
	 "CREATE TABLE segment_themes ("
	 "  theme_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,"
	 "  segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
	 "  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
	 "  PRIMARY KEY (theme_id, segment_id)) WITHOUT ROWID;"
	 "CREATE INDEX segment_themes_segment ON segment_themes(segment_id);"
	 "CREATE INDEX segment_themes_recording ON segment_themes(recording_id, theme_id);"
	 /* the map's walk reads this index alone, never the recordings' rows */
	 "CREATE INDEX recordings_map ON recordings(place_id, deleted_at, access,"
	 "  institution_id, variety, date, duration_ms);"
	 "INSERT INTO themes(slug, name, description) VALUES"
	 " ('la-mer', 'La mer', 'La pêche, les marins, la côte et les îles.'),"
	 " ('les-metiers', 'Les métiers', 'Les métiers d''autrefois et leurs mots.'),"
	 " ('la-ferme', 'La ferme', 'Les bêtes, les champs, le cidre et le beurre.'),"
	 " ('les-veillees', 'Les veillées', 'Contes, chansons et histoires du soir.'),"
	 " ('les-fetes', 'Les fêtes', 'Assemblées, noces, foires et fêtes du calendrier.');"},
	{16,
	 /* partners harvested over OAI-PMH and their records.  A partner's
	  * name is its key in URLs (like an institution's short name); from=
	  * of its next harvest is the responseDate of its last run that went
	  * through (last_response_date), never of one that failed.  A record
	  * the partner reports deleted keeps its row (deleted = 1, metadata
	  * cleared) so that a later harvest counts it once.  Harvested records
	  * have their own full-text index over their metadata: they have no
	  * segments, no access level and never reach our own OAI-PMH. */
	 "CREATE TABLE partners ("
	 "  id INTEGER PRIMARY KEY,"
	 "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64"
	 "   AND name NOT GLOB '*[^a-z0-9-]*'),"
	 "  base_url TEXT NOT NULL,"
	 "  prefix TEXT NOT NULL DEFAULT 'oai_dc' CHECK (prefix IN ('oai_dc', 'olac')),"
	 "  set_spec TEXT,"
	 "  institution_id INTEGER REFERENCES institutions(id) ON DELETE SET NULL,"
	 "  added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  last_response_date TEXT,"
	 "  last_run_at TEXT,"
	 "  last_status TEXT CHECK (last_status IS NULL OR last_status IN ('ok', 'error')),"
	 "  last_error TEXT);"
	 "CREATE TABLE partner_records ("
	 "  id INTEGER PRIMARY KEY,"
	 "  partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,"
	 "  identifier TEXT NOT NULL,"
	 "  datestamp TEXT,"
	 "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"
	 "  title TEXT,"
	 "  date TEXT,"
	 "  place TEXT,"
	 "  speakers TEXT,"
	 "  language TEXT,"
	 "  description TEXT,"
	 "  url TEXT,"
	 "  iiif_manifest TEXT,"
	 "  harvested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
	 "  UNIQUE (partner_id, identifier));"
	 "CREATE INDEX partner_records_live ON partner_records(partner_id, deleted, id);"
	 "CREATE VIRTUAL TABLE partner_records_fts USING fts5(title, place, speakers, language,"
	 " description, content = 'partner_records', content_rowid = 'id',"
	 " tokenize = 'unicode61 remove_diacritics 2');"
	 "CREATE TRIGGER partner_records_fts_insert AFTER INSERT ON partner_records"
	 " WHEN NOT new.deleted BEGIN"
	 " INSERT INTO partner_records_fts(rowid, title, place, speakers, language, description)"
	 "  VALUES (new.id, new.title, new.place, new.speakers, new.language, new.description);"
	 " END;"
	 "CREATE TRIGGER partner_records_fts_delete AFTER DELETE ON partner_records"
	 " WHEN NOT old.deleted BEGIN"
	 " INSERT INTO partner_records_fts(partner_records_fts, rowid, title, place, speakers,"
	 "  language, description) VALUES ('delete', old.id, old.title, old.place,"
	 "  old.speakers, old.language, old.description);"
	 " END;"
	 "CREATE TRIGGER partner_records_fts_update AFTER UPDATE ON partner_records BEGIN"
	 " INSERT INTO partner_records_fts(partner_records_fts, rowid, title, place, speakers,"
	 "  language, description) SELECT 'delete', old.id, old.title, old.place,"
	 "  old.speakers, old.language, old.description WHERE NOT old.deleted;"
	 " INSERT INTO partner_records_fts(rowid, title, place, speakers, language, description)"
	 "  SELECT new.id, new.title, new.place, new.speakers, new.language, new.description"
	 "  WHERE NOT new.deleted;"
	 " END;"},
	{17,
	 /* uploads from the browser (uploads.c): the bytes stored so far and
	  * the SHA-256 state after them; AUTOINCREMENT so that the URL of a
	  * removed upload never names a later one */
	 "CREATE TABLE uploads ("
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  length INTEGER NOT NULL CHECK (length >= 0),"
	 "  offset INTEGER NOT NULL DEFAULT 0 CHECK (offset BETWEEN 0 AND length),"
	 "  filename TEXT NOT NULL,"
	 "  sha_state BLOB,"
	 "  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	 "  created_at INTEGER NOT NULL);"
	 "CREATE INDEX uploads_created ON uploads(created_at);"},
	{18,
	 /* routes written on the web: a cover (one of the route's recordings,
	  * shown as its waveform) and the routes' history: every save keeps
	  * the route as it was before and after (the import form, JSON), so
	  * that any save can be undone, a deletion too */
	 "ALTER TABLE parcours ADD COLUMN cover_recording_id INTEGER"
	 "  REFERENCES recordings(id) ON DELETE SET NULL;"
	 "CREATE TABLE parcours_history ("
	 "  id INTEGER PRIMARY KEY,"
	 "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	 "  user_id INTEGER,"
	 "  login TEXT,"
	 "  slug TEXT NOT NULL,"
	 "  action TEXT NOT NULL,"
	 "  before TEXT,"
	 "  after TEXT,"
	 "  reverts INTEGER);"
	 "CREATE INDEX parcours_history_slug ON parcours_history(slug, id);"},
	{19,
	 /* progress for the public (progress.c): the time covered by the
	  * segments with text, and the segments still without (those of
	  * automatic segmentation), are read from these indexes alone, in time
	  * order per tier, never from the rows (whose text may be long) */
	 "CREATE INDEX segments_spoken ON segments(tier_id, start_ms, end_ms) WHERE text <> '';"
	 "CREATE INDEX segments_unspoken ON segments(tier_id, start_ms, end_ms) WHERE text = '';"},
};

int prl_archive_latest_schema(void)
{
	return migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version;
}

static int read_user_version(struct prl_archive *a, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return archive_sql_fail(a, "reading the schema version");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return archive_sql_fail(a, "reading the schema version");
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* fsyncs path (a file or a folder); 0 or -1 with errno. */
static int sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* Keeps archive.db as it is at version have in archive.db.before-vHAVE. */
static int keep_before_copy(struct prl_archive *a, int have)
{
	struct prl_buf tmp = PRL_BUF_INIT, dst = PRL_BUF_INIT;
	const char *db = sqlite3_db_filename(a->db, "main");
	sqlite3_stmt *st;
	int ret = -PRL_EIO;

	if (!db || !*db)
		return 0; /* an in-memory database has nothing to keep */
	prl_buf_addf(&dst, "%s.before-v%d", db, have);
	prl_buf_addf(&tmp, "%s.tmp", dst.data);
	unlink(tmp.data);
	if (!(st = archive_stmt(a, ST_SCHEMA_KEEP))) {
		ret = -PRL_ESQL;
		goto end;
	}
	archive_bind_text(st, 1, tmp.data);
	if ((ret = archive_step_done(a, st, "keeping a copy of the database before the upgrade")) <
	    0)
		goto end;
	ret = -PRL_EIO;
	if (sync_path(tmp.data, O_RDONLY) != 0 || rename(tmp.data, dst.data) != 0) {
		archive_fail(a, errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO,
			     "keeping a copy of the database before the upgrade: %s: %s", dst.data,
			     strerror(errno));
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		goto end;
	}
	/* the rename itself, durable before the upgrade commits */
	prl_buf_reset(&tmp);
	prl_buf_addstr(&tmp, dst.data);
	*strrchr(tmp.data, '/') = '\0';
	sync_path(tmp.data, O_RDONLY | O_DIRECTORY);
	ret = 0;
end:
	if (ret < 0)
		unlink(tmp.data);
	prl_buf_release(&tmp);
	prl_buf_release(&dst);
	return ret;
}

/* After a rebuild with foreign keys off: 0 when every reference still
 * holds, else -PRL_ESQL (the upgrade rolls back). */
static int foreign_keys_hold(struct prl_archive *a)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return archive_sql_fail(a, "checking references");
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return archive_fail(a, -PRL_ESQL, "the schema upgrade would break references");
	return rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "checking references");
}

int archive_migrate(struct prl_archive *a, int target)
{
	size_t i, n = sizeof(migrations) / sizeof(migrations[0]);
	char pragma[64];
	int ret, have, fk_off = 0;

	if (target <= 0)
		target = prl_archive_latest_schema();
	if ((ret = read_user_version(a, &have)) < 0)
		return ret;
	if (have > prl_archive_latest_schema())
		return archive_fail(
			a, -PRL_EVERSION,
			"archive schema version %d is newer than this parlers knows (%d); "
			"use a newer parlers",
			have, prl_archive_latest_schema());
	if (have >= target) {
		a->schema_version = have;
		return 0;
	}
	if (have > 0 && (ret = keep_before_copy(a, have)) < 0)
		return ret;
	/* IMMEDIATE: two processes opening an old archive at once must not
	 * both try to upgrade it */
	for (i = 0; i < n; i++)
		if (migrations[i].version > have && migrations[i].version <= target &&
		    migrations[i].rebuilds)
			fk_off = 1;
	/* outside a transaction: inside one the pragma does nothing */
	if (fk_off &&
	    sqlite3_exec(a->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK)
		return archive_sql_fail(a, "starting the schema upgrade");
	if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		ret = archive_sql_fail(a, "starting the schema upgrade");
		goto fail;
	}
	if ((ret = read_user_version(a, &have)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (migrations[i].version <= have || migrations[i].version > target)
			continue;
		if (sqlite3_exec(a->db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
			ret = archive_sql_fail(a, "upgrading the schema");
			goto fail;
		}
		have = migrations[i].version;
	}
	if (fk_off && (ret = foreign_keys_hold(a)) < 0)
		goto fail;
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", have);
	if (sqlite3_exec(a->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		ret = archive_sql_fail(a, "recording the schema version");
		goto fail;
	}
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = archive_sql_fail(a, "committing the schema upgrade");
		goto fail;
	}
	a->schema_version = have;
	if (fk_off)
		sqlite3_exec(a->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return 0;
fail:
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	if (fk_off)
		sqlite3_exec(a->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return ret;
}
