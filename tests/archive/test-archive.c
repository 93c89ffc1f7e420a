/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the archive module through its public header: schema versions
 * and upgrades, the access rule, ingest (all or nothing, duplicates, bad
 * input leaving no row and no file), media lookup by access level, fsck,
 * and annotations going in and out of the store unchanged.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "archive-internal.h"
#include "parlers/archive.h"
#include "scratch.h"
#include "tap.h"

static char tmpdir[256];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static int count_files(const char *dir)
{
	char sub[512];
	struct dirent *de;
	DIR *d = opendir(dir);
	struct stat sb;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
			n += count_files(sub);
		else
			n++;
	}
	closedir(d);
	return n;
}

static int64_t count_where(const char *dbdir, const char *table, const char *where)
{
	char path[512], sql[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/archive.db", dbdir);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", table, where);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static int64_t count_rows(const char *dbdir, const char *table)
{
	return count_where(dbdir, table, "1");
}

static void exec_sql(const char *dbdir, const char *sql)
{
	char path[512];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/archive.db", dbdir);
	sqlite3_open(path, &db);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

/* prl_fold() as the archive's triggers call it, for rows written here
 * without the archive: text as it is, which these tests do not mind. */
static void fold_as_is(sqlite3_context *ctx, int n, sqlite3_value **v)
{
	(void)n;
	sqlite3_result_value(ctx, v[0]);
}

/* exec_sql() with the search index's triggers able to run. */
static void exec_sql_indexed(const char *dbdir, const char *sql)
{
	char path[600];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/archive.db", dbdir);
	sqlite3_open(path, &db);
	sqlite3_create_function(db, "prl_fold", 1, SQLITE_UTF8, NULL, fold_as_is, NULL, NULL);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static int problems[4];

static void on_problem(void *ctx, enum prl_fsck_problem p, const char *path, int64_t rid)
{
	(void)ctx;
	(void)rid;
	diag("fsck: %s %s", prl_fsck_problem_name(p), path);
	problems[p]++;
}

static void test_access_rule(void)
{
	static const struct {
		enum prl_role role;
		enum prl_access level;
		enum prl_visibility want;
	} table[] = {
		{PRL_ROLE_ANONYMOUS, PRL_ACCESS_PUBLIC, PRL_SEE_ALL},
		{PRL_ROLE_ANONYMOUS, PRL_ACCESS_RESTRICTED, PRL_SEE_METADATA},
		{PRL_ROLE_ANONYMOUS, PRL_ACCESS_PRIVATE, PRL_SEE_NOTHING},
		{PRL_ROLE_RESEARCHER, PRL_ACCESS_PUBLIC, PRL_SEE_ALL},
		{PRL_ROLE_RESEARCHER, PRL_ACCESS_RESTRICTED, PRL_SEE_ALL},
		{PRL_ROLE_RESEARCHER, PRL_ACCESS_PRIVATE, PRL_SEE_NOTHING},
		{PRL_ROLE_ANNOTATOR, PRL_ACCESS_RESTRICTED, PRL_SEE_ALL},
		{PRL_ROLE_ANNOTATOR, PRL_ACCESS_PRIVATE, PRL_SEE_ALL},
		{PRL_ROLE_ADMIN, PRL_ACCESS_PRIVATE, PRL_SEE_ALL},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct prl_viewer v = {table[i].role, 0};

		is_int(prl_access_decide(&v, table[i].level), table[i].want, "%s sees %s: %d",
		       prl_role_name(table[i].role), prl_access_name(table[i].level),
		       table[i].want);
	}
	is_int(prl_access_decide(NULL, PRL_ACCESS_PRIVATE), PRL_SEE_NOTHING,
	       "no viewer is an anonymous one");
}

static void test_schema(void)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	char dir[512], media[600];
	int ret;

	path_in(dir, sizeof(dir), "schema");
	ret = prl_archive_open(dir, 0, &a, &err);
	is_int(ret, -PRL_ENOTFOUND, "opening a missing archive without create fails");
	ok(strstr(prl_buf_str(&err), "parlers init") != NULL, "and says to run init: %s",
	   prl_buf_str(&err));
	prl_buf_reset(&err);
	ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "create an archive");
	is_int(prl_archive_schema_version(a), prl_archive_latest_schema(),
	       "a new archive has the latest schema");
	{
		/* every statement the module declares prepares against the
		 * schema it makes: none is found wrong on a visitor's request */
		int bad = 0;

		for (int i = 0; i < ST_COUNT; i++) {
			sqlite3_stmt *st = NULL;

			if (archive_stmt_prepare_on(a->db, (enum stmt_id)i, &st) != SQLITE_OK ||
			    !st) {
				diag("statement %d: %s", i, sqlite3_errmsg(a->db));
				bad++;
			}
			sqlite3_finalize(st);
		}
		is_int(bad, 0, "every SQL statement of the archive prepares (%d)", ST_COUNT);
	}
	prl_archive_close(a);

	/* a version-1 archive with a recording in it, as an older parlers
	 * would have left it */
	path_in(dir, sizeof(dir), "schema-v1");
	ok(archive_create_at_version(dir, 1) == 0, "make a version-1 archive");
	exec_sql(dir, "INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
		      " original_format, original_name, sha256) VALUES"
		      " ('old', 1000, 48000, 1, 'wav', 'old.wav', 'aa');");
	/* an older ingest took a BWF Originator for the collector */
	exec_sql(dir, "INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
		      " original_format, original_name, sha256, collector) VALUES"
		      " ('bwf', 1000, 48000, 1, 'wav', 'bwf.wav', 'bb', 'ZOOM H5'),"
		      " ('told', 1000, 48000, 1, 'wav', 'told.wav', 'cc', 'Marie Lefèvre');"
		      "INSERT INTO recording_tags(recording_id, key, value) VALUES"
		      " (2, 'bext_originator', 'ZOOM H5'), (3, 'bext_originator', 'TASCAM');");
	path_in(media, sizeof(media), "schema-v1/media");
	mkdir(media, 0755);
	ok(prl_archive_open(dir, 0, &a, &err) == 0, "open a version-1 archive");
	is_int(prl_archive_schema_version(a), prl_archive_latest_schema(),
	       "it was upgraded to the latest schema");
	prl_archive_close(a);
	is_int(count_rows(dir, "recordings"), 3, "its recordings survived the upgrade");
	is_int(count_where(dir, "recordings", "device = 'ZOOM H5' AND collector IS NULL"), 1,
	       "a collector that was the file's BWF Originator became its device");
	is_int(count_where(dir, "recordings", "collector = 'Marie Lefèvre' AND device IS NULL"), 1,
	       "a collector someone named stayed the collector");
	is_int(count_rows(dir, "tiers"), 0, "the tiers table now exists");

	/* a version-7 archive with data, as the last parlers without
	 * institutions left it: everything in it becomes the first
	 * institution's, and the accounts the network's */
	path_in(dir, sizeof(dir), "schema-v7");
	ok(archive_create_at_version(dir, 7) == 0, "make a version-7 archive");
	exec_sql(dir, "INSERT INTO collections(name) VALUES ('Enquêtes'), ('Veillées');"
		      "INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
		      " original_format, original_name, sha256, collection_id, access) VALUES"
		      " ('one', 1000, 48000, 1, 'wav', 'one.wav', 'a1', 1, 0),"
		      " ('two', 2000, 48000, 2, 'wav', 'two.wav', 'a2', 2, 2),"
		      " ('three', 3000, 44100, 1, 'flac', 'three.flac', 'a3', NULL, 1);"
		      "INSERT INTO users(login, role, pwhash) VALUES ('marie', 3, 'x'),"
		      " ('jean', 2, 'y');"
		      "INSERT INTO tiers(recording_id, name, ord) VALUES (1, 'transcription', 0);");
	path_in(media, sizeof(media), "schema-v7/media");
	mkdir(media, 0755);
	ok(prl_archive_open(dir, 0, &a, &err) == 0, "open a version-7 archive");
	is_int(prl_archive_schema_version(a), prl_archive_latest_schema(),
	       "it was upgraded to the latest schema");
	prl_archive_close(a);
	is_int(count_rows(dir, "institutions"), 1, "it holds one institution");
	is_int(count_where(dir, "institutions", "id = 1 AND short = 'archive'"), 1,
	       "named 'archive' until someone names it");
	is_int(count_rows(dir, "recordings"), 3, "its recordings survived the upgrade");
	is_int(count_where(dir, "recordings", "institution_id = 1"), 3,
	       "every recording belongs to that institution");
	is_int(count_where(dir, "recordings",
			   "(id = 1 AND collection_id = 1 AND access = 0 AND duration_ms = 1000)"
			   " OR (id = 2 AND collection_id = 2 AND access = 2 AND channels = 2)"
			   " OR (id = 3 AND collection_id IS NULL AND access = 1)"),
	       3, "with their collections, levels and facts unchanged");
	is_int(count_rows(dir, "collections"), 2, "its collections survived");
	is_int(count_where(dir, "collections", "institution_id = 1"), 2,
	       "every collection belongs to that institution");
	is_int(count_where(dir, "tiers", "recording_id = 1 AND name = 'transcription'"), 1,
	       "its tiers survived");
	is_int(count_where(dir, "users", "institution_id IS NULL"), 2,
	       "its accounts belong to the network");
	is_int(count_where(dir, "users", "login = 'marie' AND role = 3 AND pwhash = 'x'"), 1,
	       "with their roles and passwords");
	exec_sql(dir, "INSERT INTO collections(name) VALUES ('Later');");
	is_int(count_where(dir, "collections", "name = 'Later' AND institution_id = 1"), 1,
	       "a collection added without an institution goes to the first one");
	exec_sql(dir, "UPDATE recordings SET institution_id = NULL WHERE id = 1;");
	is_int(count_where(dir, "recordings", "id = 1 AND institution_id = 1"), 1,
	       "and a recording cannot lose its institution");

	/* a version-8 archive with data: its search index gains each
	 * recording's institution, and its researchers keep hearing every
	 * restricted recording (granted all); its staff get no grant */
	path_in(dir, sizeof(dir), "schema-v8");
	ok(archive_create_at_version(dir, 8) == 0, "make a version-8 archive");
	exec_sql(dir,
		 "INSERT INTO users(login, role, pwhash) VALUES ('res', 1, 'x'), ('ann', 2, 'y');");
	exec_sql_indexed(
		dir, "INSERT INTO institutions(short, name) VALUES ('musee', 'Musée');"
		     "INSERT INTO recordings(title, duration_ms, sample_rate, channels,"
		     " original_format, original_name, sha256, access, institution_id) VALUES"
		     " ('one', 9000, 48000, 1, 'wav', 'one.wav', 'b1', 0, 1),"
		     " ('two', 9000, 48000, 1, 'wav', 'two.wav', 'b2', 1, 2);"
		     "INSERT INTO recording_index_meta(recording_id, meta) VALUES (1, 'p0 c0'),"
		     " (2, 'p0 c0');"
		     "INSERT INTO tiers(recording_id, name, ord) VALUES (1, 'transcription', 0),"
		     " (2, 'transcription', 0);"
		     "INSERT INTO segments(tier_id, start_ms, end_ms, text, ord) VALUES"
		     " (1, 0, 1000, 'la mezoun', 0), (2, 0, 1000, 'la mezoun', 0);");
	path_in(media, sizeof(media), "schema-v8/media");
	mkdir(media, 0755);
	ok(prl_archive_open(dir, 0, &a, &err) == 0, "open a version-8 archive");
	is_int(prl_archive_schema_version(a), prl_archive_latest_schema(),
	       "it was upgraded to the latest schema");
	prl_archive_close(a);
	is_int(count_where(dir, "segment_index", "segment_index MATCH 'meta : i1 AND mezoun'"), 1,
	       "the index knows the first recording's institution");
	is_int(count_where(dir, "segment_index", "segment_index MATCH 'meta : i2 AND mezoun'"), 1,
	       "and the second's");
	is_int(count_where(dir, "segment_index", "segment_index MATCH 'mezoun'"), 2,
	       "no row of the index was lost or doubled");
	is_int(count_where(dir, "researcher_grants",
			   "institution_id = 0 AND user_id = (SELECT id FROM users"
			   " WHERE login = 'res')"),
	       1, "its researcher is granted every institution's restricted material");
	is_int(count_rows(dir, "researcher_grants"), 1, "and its staff need no grant");

	exec_sql(dir, "PRAGMA user_version = 999;");
	prl_buf_reset(&err);
	ret = prl_archive_open(dir, 0, &a, &err);
	is_int(ret, -PRL_EVERSION, "an archive from a newer parlers is refused");
	ok(strstr(prl_buf_str(&err), "newer") != NULL, "with a clear message: %s",
	   prl_buf_str(&err));
	prl_buf_release(&err);
}

static void test_ingest(void)
{
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_ingest_result r;
	struct prl_ingest_opts o = {-1, NULL, 0, NULL, NULL};
	struct prl_archive *a = NULL;
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	struct prl_viewer researcher = {PRL_ROLE_RESEARCHER, 1};
	struct prl_media m;
	char dir[512], media[600], wav[512], side[512], bad[512], tg[512];
	int64_t id, id2;
	int files, ret;

	path_in(dir, sizeof(dir), "ingest");
	snprintf(media, sizeof(media), "%s/media", dir);
	ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "create an archive for ingest");

	path_in(wav, sizeof(wav), "tone.wav");
	path_in(side, sizeof(side), "tone.json");
	path_in(tg, sizeof(tg), "tone.TextGrid");
	scratch_wav(wav, 3.0, 440.0, 0.1, 16000);
	scratch_text(side,
		     "{\"title\": \"La mézoun\", \"date\": \"1976-05\", \"access\": \"public\","
		     " \"collection\": \"Enquêtes\", \"variety\": \"Cotentinais\","
		     " \"place\": {\"name\": \"La Hague\", \"commune\": \"Beaumont-Hague\","
		     " \"lat\": 49.66, \"lon\": -1.84},"
		     " \"speakers\": [{\"name\": \"Jean\", \"birth_year\": 1912}]}");
	scratch_text(tg, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\n"
			 "xmax = 3\ntiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n"
			 "        class = \"IntervalTier\"\n        name = \"transcription\"\n"
			 "        xmin = 0\n        xmax = 3\n        intervals: size = 2\n"
			 "        intervals [1]:\n            xmin = 0\n            xmax = 1.5\n"
			 "            text = \"ch'est la mézoun\"\n        intervals [2]:\n"
			 "            xmin = 1.5\n            xmax = 3\n            text = \"\"\n");
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) == 0 && r.status == PRL_INGESTED,
	   "a WAV with its sidecars goes in: %s", prl_buf_str(&r.error));
	id = r.id;
	is_int(r.duration_ms, 3000, "its duration is measured");
	ok(strlen(r.sha256) == 64, "its SHA-256 is reported");
	prl_ingest_result_release(&r);
	files = count_files(media);
	is_int(files, 4, "original, Opus, MP3 and peaks are stored");

	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) == 0 && r.status == PRL_DUPLICATE,
	   "the same bytes again are a duplicate");
	is_int(r.id, id, "the duplicate names the recording already there");
	prl_ingest_result_release(&r);
	is_int(count_files(media), files, "a duplicate stores nothing");

	ok(prl_archive_recording_json(a, &anon, id, &out) == 0, "a public recording shows to all");
	ok(strstr(out.data, "\"title\":\"La mézoun\"") != NULL, "title from the sidecar");
	ok(strstr(out.data, "\"commune\":\"Beaumont-Hague\"") != NULL, "place from the sidecar");
	ok(strstr(out.data, "\"text\":\"ch'est la mézoun\"") != NULL,
	   "the TextGrid beside it was imported");
	ok(strstr(out.data, "\"text\":\"\"") != NULL, "an empty interval is kept");
	prl_buf_reset(&out);

	ok(prl_archive_media(a, &anon, id, PRL_MEDIA_OPUS, &m) == 0, "anyone gets the Opus copy");
	ok(m.bytes > 0 && access(m.path, R_OK) == 0, "and it is there on disk");
	prl_media_clear(&m);
	is_int(prl_archive_media(a, &anon, id, PRL_MEDIA_ORIGINAL, &m), -PRL_EACCESS,
	       "the original is not for anonymous visitors");
	ok(prl_archive_media(a, &researcher, id, PRL_MEDIA_ORIGINAL, &m) == 0,
	   "a researcher gets the original");
	prl_media_clear(&m);

	/* private by default */
	path_in(wav, sizeof(wav), "quiet.wav");
	scratch_wav(wav, 2.0, 440.0, 0.01, 22050);
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) == 0 && r.status == PRL_INGESTED,
	   "a WAV without sidecar goes in");
	id2 = r.id;
	prl_ingest_result_release(&r);
	is_int(prl_archive_recording_json(a, &anon, id2, &out), -PRL_ENOTFOUND,
	       "without a sidecar a recording is private: invisible to visitors");
	is_int(prl_archive_media(a, &anon, id2, PRL_MEDIA_OPUS, &m), -PRL_ENOTFOUND,
	       "and so is its media");
	ok(prl_archive_recording_json(a, &staff, id2, &out) == 0, "staff see it");
	ok(strstr(out.data, "\"title\":\"quiet\"") != NULL, "its title is the file's name");
	prl_buf_reset(&out);
	ok(prl_archive_list_json(a, &anon, NULL, &out) == 0 &&
		   strstr(out.data, "\"total\":1,") != NULL,
	   "the anonymous listing counts only what visitors may know of");
	prl_buf_reset(&out);

	/* bad inputs: nothing of them lands */
	files = count_files(media);
	{
		static const char *const names[] = {"empty.wav", "text.wav", "random.mp3",
						    "trunc.wav"};
		for (size_t i = 0; i < 4; i++) {
			path_in(bad, sizeof(bad), names[i]);
			if (i == 0)
				scratch_text(bad, "");
			else if (i == 1)
				scratch_text(bad, "this is not a sound\n");
			else if (i == 2) {
				FILE *f = fopen(bad, "wb");

				for (int k = 0; k < 50000; k++)
					fputc((k * 7919 + 13) % 251, f);
				fclose(f);
			} else {
				char full[512];
				FILE *in, *f;
				char buf[44];

				path_in(full, sizeof(full), "tone.wav");
				in = fopen(full, "rb");
				f = fopen(bad, "wb");
				if (fread(buf, 1, sizeof(buf), in) == sizeof(buf))
					fwrite(buf, 1, 40, f); /* header cut short */
				fclose(in);
				fclose(f);
			}
			prl_ingest_result_init(&r);
			ok(prl_archive_ingest(a, bad, &o, &r) < 0 && r.status == PRL_FAILED,
			   "%s fails: %s", names[i], prl_buf_str(&r.error));
			ok(r.error.len > 0 && !strchr(r.error.data, '\n'),
			   "with a one-line reason");
			prl_ingest_result_release(&r);
		}
	}
	path_in(wav, sizeof(wav), "badside.wav");
	path_in(side, sizeof(side), "badside.json");
	scratch_wav(wav, 1.0, 440.0, 0.2, 8000);
	scratch_text(side, "{\"title\": 12}");
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) < 0 && strstr(r.error.data, "'title'"),
	   "a sidecar field of the wrong type fails, naming it: %s", prl_buf_str(&r.error));
	prl_ingest_result_release(&r);
	scratch_text(side, "{\"title\": \"x\",");
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) < 0 && strstr(r.error.data, "invalid JSON"),
	   "a sidecar with invalid JSON fails: %s", prl_buf_str(&r.error));
	prl_ingest_result_release(&r);
	scratch_text(side, "{\"access\": \"secret\"}");
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, wav, &o, &r) < 0, "an unknown access level fails: %s",
	   prl_buf_str(&r.error));
	prl_ingest_result_release(&r);
	path_in(bad, sizeof(bad), "no-such-file.wav");
	prl_ingest_result_init(&r);
	ok(prl_archive_ingest(a, bad, &o, &r) < 0 && strstr(r.error.data, "no such file"),
	   "a missing path fails");
	prl_ingest_result_release(&r);
	is_int(count_files(media), files, "failed ingests left no file behind");
	is_int(count_rows(dir, "recordings"), 2, "and no row");

	/* annotations out and back in */
	{
		struct prl_annot_doc *doc = NULL;

		ok(prl_archive_annotations_load(a, &staff, id, &doc) == 0, "load the tiers");
		ok(doc && doc->ntiers == 1 && doc->tiers[0].nsegs == 2, "one tier, two segments");
		if (doc && doc->ntiers == 1 && doc->tiers[0].nsegs == 2) {
			is_int(doc->tiers[0].segs[0].end_ms, 1500, "times to the millisecond");
			is_int(prl_archive_annotations_import(a, id, doc, 0), -PRL_EEXIST,
			       "importing a tier name already there needs replace");
			ok(prl_archive_annotations_import(a, id, doc, 1) == 0,
			   "with replace it goes in");
			doc->tiers[0].segs[1].end_ms = 99999;
			/* the message is read once the call returned (it may move) */
			ret = prl_archive_annotations_import(a, id, doc, 1);
			ok(ret < 0, "a segment past the recording's end is refused: %s",
			   prl_archive_errmsg(a));
		}
		prl_annot_doc_free(doc);
		is_int(count_rows(dir, "segments"), 2, "a refused import changed nothing");
	}

	/* fsck: clean, then one of each problem */
	{
		struct prl_media mm;
		int64_t checked = 0;
		char stray[700];
		FILE *fp;

		memset(problems, 0, sizeof(problems));
		is_int(prl_archive_fsck(a, on_problem, NULL, &checked), 0,
		       "a fresh archive is clean");
		is_int(checked, 8, "fsck read every stored file");
		prl_archive_media(a, &staff, id, PRL_MEDIA_MP3, &mm);
		fp = fopen(mm.path, "r+b");
		fputc('X', fp); /* same size, other bytes */
		fclose(fp);
		prl_media_clear(&mm);
		prl_archive_media(a, &staff, id2, PRL_MEDIA_PEAKS, &mm);
		unlink(mm.path);
		prl_media_clear(&mm);
		snprintf(stray, sizeof(stray), "%s/zz", media);
		mkdir(stray, 0755);
		snprintf(stray, sizeof(stray), "%s/zz/stray.bin", media);
		scratch_text(stray, "?");
		is_int(prl_archive_fsck(a, on_problem, NULL, &checked), 3,
		       "fsck finds three problems");
		is_int(problems[PRL_FSCK_MISMATCH], 1, "a changed file");
		is_int(problems[PRL_FSCK_MISSING], 1, "a missing file");
		is_int(problems[PRL_FSCK_STRAY], 1, "a stray file");
	}
	prl_buf_release(&out);
	prl_buf_release(&err);
	prl_archive_close(a);
}

int main(void)
{
	if (scratch_make(tmpdir, sizeof(tmpdir), "test-archive") < 0)
		return 1;
	test_access_rule();
	test_schema();
	test_ingest();
	scratch_remove(tmpdir);
	return done_testing();
}
