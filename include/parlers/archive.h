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

#include "parlers/annot.h"
#include "parlers/common.h"

struct prl_archive;

/* ---- access levels: decided here and nowhere else ---- */

enum prl_access {
	PRL_ACCESS_PUBLIC = 0,	   /* anyone hears it and reads its transcript */
	PRL_ACCESS_RESTRICTED = 1, /* listed for all; heard and read by researchers and staff */
	PRL_ACCESS_PRIVATE = 2,	   /* staff only; does not exist for anyone else */
};

const char *prl_access_name(enum prl_access a); /* "public"... */
int prl_access_parse(const char *s);		/* the level, or -1 */

enum prl_role {
	/* a member of the public who signed up to propose transcriptions: below
	 * anonymous in the order, so that every "at least" check (researcher,
	 * annotator, the access gate, the route table) refuses it what it
	 * refuses a visitor; it hears and reads what a visitor does */
	PRL_ROLE_CONTRIBUTOR = -1,
	PRL_ROLE_ANONYMOUS = 0,
	PRL_ROLE_RESEARCHER = 1,
	PRL_ROLE_ANNOTATOR = 2,
	PRL_ROLE_ADMIN = 3,
};

const char *prl_role_name(enum prl_role r);
int prl_role_parse(const char *s); /* the role, or -1 */

/* Who is asking.  The command line acts as staff (admin) of the network. */
struct prl_viewer {
	enum prl_role role;
	int64_t user_id;	/* 0 when anonymous or the command line */
	int64_t institution_id; /* the account's institution; 0: the network's */
	int64_t grant;		/* a researcher's restricted material (schema 11): 0
				 * every institution's, > 0 that institution's only,
				 * PRL_GRANT_NONE none */
};

#define PRL_GRANT_NONE (-1)

#define PRL_VIEWER_ANONYMOUS ((struct prl_viewer){PRL_ROLE_ANONYMOUS, 0, 0})
#define PRL_VIEWER_STAFF ((struct prl_viewer){PRL_ROLE_ADMIN, 0, 0})

enum prl_visibility {
	PRL_SEE_NOTHING = 0,  /* answer as if it did not exist (404) */
	PRL_SEE_METADATA = 1, /* it is listed; media and transcript refused (403) */
	PRL_SEE_ALL = 2,      /* media, transcript, everything */
	PRL_MAY_WRITE = 3,    /* a need, never an answer of prl_access_decide(): change
			       * it (its tiers, segments, withheld spans, access level) */
};

/* The rule, in one place: what viewer v gets of a recording at level a
 * deposited by institution institution_id (0: not known, when only the
 * level is: then a researcher granted one institution is given what a
 * recording of another gets, never more). */
enum prl_visibility prl_access_decide_in(const struct prl_viewer *v, enum prl_access a,
					 int64_t institution_id);
/* prl_access_decide_in() without the institution: what v gets of every
 * recording at level a. */
enum prl_visibility prl_access_decide(const struct prl_viewer *v, enum prl_access a);
/* True when what v gets depends on its role alone (everyone but a
 * researcher granted one institution or none): answers cached per role
 * may be shared with v. */
int prl_access_by_role(const struct prl_viewer *v);

/* Whether viewer v reads and hears the withheld spans of a recording (see
 * "withheld spans" below): exactly those who see private recordings, so a
 * withheld passage is as closed as a private recording. */
int prl_access_sees_withheld(const struct prl_viewer *v);

/* Whether viewer v may change what belongs to institution institution_id:
 * staff (annotators and admins) of the network (institution 0) change
 * everything, staff of an institution only what is that institution's. */
int prl_access_may_write(const struct prl_viewer *v, int64_t institution_id);

/* ---- opening ---- */

/* How long a write waits for another connection's write lock before it
 * fails with -PRL_EBUSY (10 s when opened). */
void prl_archive_busy_timeout(struct prl_archive *a, int ms);

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
	int access;		/* prl_access used when the sidecar names none; -1: private */
	const char *collection; /* collection name when the sidecar names none, or NULL */
	double target_lufs;	/* 0: the default, -18 */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
	int accept_truncated;	 /* 1: keep a file cut short with the audio it holds */
	const char *institution; /* depositor's short name when the sidecar names none,
				  * or NULL: the archive's first institution */
};

enum prl_ingest_status {
	PRL_INGESTED = 0,
	PRL_DUPLICATE = 1,
	PRL_FAILED = 2,
};

const char *prl_ingest_status_name(enum prl_ingest_status s); /* "ingested"... */

struct prl_ingest_result {
	enum prl_ingest_status status;
	int64_t id; /* the recording (also for a duplicate); 0 when failed */
	char sha256[65];
	int64_t duration_ms;
	double loudness_lufs;
	double gain_db;
	struct prl_buf error;	 /* one line when failed */
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
int prl_archive_ingest(struct prl_archive *a, const char *path, const struct prl_ingest_opts *opts,
		       struct prl_ingest_result *res);

/* True when path's extension is one ingest treats as audio. */
int prl_archive_is_audio_name(const char *path);

/* ---- reading ---- */

struct prl_recording_filter {
	const char *place;   /* place name or id, or NULL */
	const char *speaker; /* speaker name or id, or NULL */
	const char *variety;
	const char *collection;
	const char *institution; /* short name, or NULL */
	int64_t offset;
	int64_t limit; /* 0: 50; capped at 500 */
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
	int64_t institution_id; /* the depositor */
};

void prl_recording_brief_clear(struct prl_recording_brief *b);

/*
 * The access gate: every way out that names one recording (a page, the
 * API, media, clips, annotations, exports, withheld spans) opens it here,
 * which reads it and applies prl_access_decide() for viewer v in one call.
 * need is what the way out shows: PRL_SEE_METADATA for a listing (title,
 * date, place), PRL_SEE_ALL for its audio or transcript; every write asks
 * PRL_MAY_WRITE (prl_access_may_write(): staff of its institution or of
 * the network), which the history row of each change asks again, so that
 * no change commits without it.
 *
 * Returns 0 when v may have it (then *out, when not NULL, holds its facts:
 * the caller clears it with prl_recording_brief_clear()); -PRL_EACCESS
 * (HTTP 403) when v may know it exists but not have what it asks;
 * -PRL_ENOTFOUND (404) when it is unknown or invisible to v, the same answer
 * for both.  *out is written only on success.
 */
int prl_archive_recording_open(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       enum prl_visibility need, struct prl_recording_brief *out);

/* Collections, places and speakers with their recording counts, as
 * {collections:[{id,name,count}], places:[{id,name,commune,lat,lon,count}],
 *  speakers:[{id,name,count}], varieties:[{name,count}]}, counting only
 * what viewer may know of. */
int prl_archive_facets_json(struct prl_archive *a, const struct prl_viewer *v, struct prl_buf *out);

/* ---- institutions (institutions.c) ----
 *
 * The depositors of a network: museums, associations, archives, libraries,
 * research centres.  Each is known by its short name (the key in URLs and
 * on the command line).  Every collection and recording belongs to one;
 * an archive always has at least one, the first (its own). */

#define PRL_SHORT_MAX 64 /* bytes of a short name */

/* True when s is a short name: 1 to PRL_SHORT_MAX lowercase ASCII letters,
 * digits and hyphens. */
int prl_institution_short_valid(const char *s);

/* An institution's fields; NULL: not given. Strings are the caller's. */
struct prl_institution {
	const char *short_name;
	const char *name;
	const char *kind; /* museum, association, archive, library, research centre... */
	const char *description_fr;
	const char *description_en;
	const char *address;
	const char *commune;
	const char *website; /* http:// or https:// */
	const char *contact;
	const char *rights; /* what its recordings carry when their sidecar says none */
	double lat, lon;
	int has_coords;
};

/* Adds an institution (short_name and name required).  -PRL_EEXIST when
 * the short name is taken, -PRL_EINVAL for a field out of its domain
 * (errmsg names it). */
int prl_archive_institution_add(struct prl_archive *a, const struct prl_institution *in);
/* Changes the fields c gives of institution short_name (c->short_name
 * renames it); "" clears a field, but never the name.  -PRL_ENOTFOUND,
 * -PRL_EEXIST, -PRL_EINVAL. */
int prl_archive_institution_edit(struct prl_archive *a, const char *short_name,
				 const struct prl_institution *c);
/* {"institutions": [{short, name, kind, description {fr, en}, address,
 * commune, lat, lon, website, contact, rights, collections, recordings}]}
 * by short name; recordings counts those viewer may know of. */
int prl_archive_institutions_json(struct prl_archive *a, const struct prl_viewer *v,
				  struct prl_buf *out);
/* One institution's object, as in the list.  -PRL_ENOTFOUND. */
int prl_archive_institution_json(struct prl_archive *a, const struct prl_viewer *v,
				 const char *short_name, struct prl_buf *out);
/* The short name of the archive's first institution into out. */
int prl_archive_institution_first(struct prl_archive *a, struct prl_buf *out);
/* {"collections":[{id,name,count}], "places":[{id,name,count,commune,lat,
 * lon}], "speakers":[{id,name,count}]} of institution short_name's
 * recordings, counting only those viewer may know of.  -PRL_ENOTFOUND. */
int prl_archive_institution_facets_json(struct prl_archive *a, const struct prl_viewer *v,
					const char *short_name, struct prl_buf *out);

/* The id of institution short_name into *id (for a protocol that carries
 * numbers, such as OAI-PMH's resumption tokens).  -PRL_ENOTFOUND. */
int prl_archive_institution_id(struct prl_archive *a, const char *short_name, int64_t *id);

/* {total, offset, limit, recordings: [...]} of institution short_name's
 * recordings viewer may know of, as prl_archive_list_json() gives them
 * (by date, then id), counted and paged from an index of their own.
 * -PRL_ENOTFOUND for an unknown institution. */
int prl_archive_institution_recordings_json(struct prl_archive *a, const struct prl_viewer *v,
					    const char *short_name, int64_t offset, int64_t limit,
					    struct prl_buf *out);

/* How many the home page features; 0 in a field: its default. */
struct prl_featured_opts {
	int per_institution; /* recordings of one institution at most; 0: 2 */
	int recordings;	     /* recordings in all; 0: 12 (at most 200) */
	int institutions;    /* institutions; 0: 12 */
};

/* The home page's featured recordings and institutions for the day named
 * by day (any text, "2026-12-03" as the server gives it): {"day",
 * "per_institution", "recordings": [listing objects], "institutions":
 * [{short, name, kind, commune}]}.  Their order is a permutation keyed by
 * the day, never by size: the first pick of every institution comes
 * before any second one, and no institution has more than
 * per_institution.  Only recordings viewer may know of.  o may be NULL. */
int prl_archive_featured_json(struct prl_archive *a, const struct prl_viewer *v, const char *day,
			      const struct prl_featured_opts *o, struct prl_buf *out);

/* ---- thematic routes (parcours.c) ----
 *
 * A route is an ordered series of stops, each a span of a recording of
 * any institution with a commentary, under a title and an introduction.
 * What a viewer gets of a route holds only the stops they may hear (the
 * access gate, withheld passages included); a route with none left is
 * -PRL_ENOTFOUND for them.
 */

/* True when s is a route's slug (the rule of institutions' short names). */
int prl_parcours_slug_valid(const char *s);
/* Writes the route json describes: {"slug", "title", "intro"?, "stops":
 * [{"recording_id", "start_ms", "end_ms", "title"?, "note"?}]}, checked
 * against the archive first (recordings exist, spans inside them), in one
 * transaction; replace: a route of that slug is replaced (its version goes
 * up), else it is -PRL_EEXIST.  Appends the slug to slug_out (or NULL).
 * -PRL_EFORMAT (not JSON), -PRL_EINVAL (the field named in the message). */
int prl_archive_parcours_import(struct prl_archive *a, const char *json, size_t len, int replace,
				struct prl_buf *slug_out);
/* Deletes a route and its stops.  -PRL_ENOTFOUND. */
int prl_archive_parcours_delete(struct prl_archive *a, const char *slug);
/* {"routes": [{slug, title, intro, version, updated_at, stops}]} by title,
 * stops counting what v may hear; routes with none are left out. */
int prl_archive_parcours_list_json(struct prl_archive *a, const struct prl_viewer *v,
				   struct prl_buf *out);
/* {slug, title, intro, version, updated_at, hidden, stops: [{n,
 * recording_id, start_ms, end_ms, title, note}]}: n is the stop's place in
 * the whole route, hidden counts the stops left out for v. */
int prl_archive_parcours_json(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			      struct prl_buf *out);

/* ---- themes and the map of voices (themes.c) ----
 *
 * Themes are a controlled list staff edit (la mer, les métiers, la
 * ferme, ...); staff tag recordings and segments with them.  The map of
 * voices counts, per place with coordinates, the recordings a viewer may
 * hear, under optional filters.  What a viewer is shown of either holds
 * only recordings the viewer may hear (the access gate's level for the
 * viewer's role, and a researcher's granted institution).
 */

#define PRL_THEME_NAME_MAX 200	/* bytes of a theme's name */
#define PRL_THEME_DESC_MAX 4000 /* bytes of its description */
#define PRL_MAP_VOICES_MAX 500	/* recordings of one place listed at most */

/* True when s is a theme's slug (the rule of institutions' short names). */
int prl_theme_slug_valid(const char *s);
/* Adds a theme.  description may be NULL.  -PRL_EINVAL (a bad slug, an
 * empty or too long name or description, not UTF-8), -PRL_EEXIST. */
int prl_archive_theme_add(struct prl_archive *a, const char *slug, const char *name,
			  const char *description);
/* Changes theme slug: new_slug, name, description (NULL: unchanged; an
 * empty description clears it).  -PRL_ENOTFOUND, -PRL_EINVAL, -PRL_EEXIST. */
int prl_archive_theme_edit(struct prl_archive *a, const char *slug, const char *new_slug,
			   const char *name, const char *description);
/* Deletes a theme and its tags.  -PRL_ENOTFOUND. */
int prl_archive_theme_delete(struct prl_archive *a, const char *slug);

enum prl_theme_target {
	PRL_THEME_RECORDING = 0, /* id names a recording */
	PRL_THEME_SEGMENT = 1,	 /* id names a segment */
};
/* Tags (untag 0) or untags the recording or segment id with theme slug,
 * for viewer v, who must be allowed to change the recording
 * (PRL_MAY_WRITE through the access gate).  Tagging twice, or untagging
 * what is not tagged, changes nothing and succeeds.  -PRL_ENOTFOUND (no
 * such theme, recording or segment, or one v may not see), -PRL_EACCESS. */
int prl_archive_theme_tag(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			  enum prl_theme_target target, int64_t id, int untag);
/* {"themes": [{slug, name, description, recordings}]} by name, recordings
 * counting those v may hear that are tagged or have a tagged segment; for
 * the network's staff each theme also says what deleting it would untag,
 * "tagged": {recordings, segments} (of recordings not deleted). */
int prl_archive_themes_json(struct prl_archive *a, const struct prl_viewer *v, struct prl_buf *out);
/* {slug, name, description, total, recordings: [{id, title, date,
 * duration_ms, variety, place, commune}]}: the first limit (1 to 1000) of
 * the theme's recordings v may hear, by date.  -PRL_ENOTFOUND. */
int prl_archive_theme_json(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			   int limit, struct prl_buf *out);
/* ,"themes":[{slug, name}] of recording id, appended to out. */
int prl_archive_recording_themes_json(struct prl_archive *a, int64_t id, struct prl_buf *out);

/* What the map shows: every field NULL or 0 for everything. */
struct prl_map_filter {
	const char *variety;	 /* a variety, in any case */
	int decade;		 /* a year ending in 0 (1970: 1970 to 1979), or 0 */
	const char *theme;	 /* a theme's slug */
	const char *institution; /* an institution's short name */
};
/* A GeoJSON FeatureCollection: a Point per place with coordinates and
 * recordings v may hear under f, properties {id, name, commune,
 * recordings, seconds}.  -PRL_EINVAL with a sentence in
 * prl_archive_errmsg() for a filter naming nothing known (an unknown
 * variety, theme or institution, a decade that is not one). */
int prl_archive_map_json(struct prl_archive *a, const struct prl_viewer *v,
			 const struct prl_map_filter *f, struct prl_buf *out);
/* {"place": id, "total", "recordings": [{id, title, date, duration_ms,
 * variety, speakers}]}: the recordings of place_id v may hear under f, by
 * date, PRL_MAP_VOICES_MAX at most.  -PRL_EINVAL as above. */
int prl_archive_map_place_json(struct prl_archive *a, const struct prl_viewer *v,
			       const struct prl_map_filter *f, int64_t place_id,
			       struct prl_buf *out);
/* {"decades": [1950, 1970, ...]}: in order, each decade (its first year)
 * holding at least one dated recording v may hear under f's other
 * filters (f's decade is not used); [] when none is dated.  -PRL_EINVAL
 * as above. */
int prl_archive_map_decades_json(struct prl_archive *a, const struct prl_viewer *v,
				 const struct prl_map_filter *f, struct prl_buf *out);
/* Routes written on the web (schema 18), each change by staff (annotator
 * or admin) who may hear every stop of the route before and after it,
 * in one transaction with its history row.  -PRL_EACCESS (a role or a
 * stop v may not use, named), -PRL_ENOTFOUND (no such route, or none v
 * may hear), -PRL_EINVAL (a field, named), -PRL_EFORMAT (not JSON).
 *
 * prl_archive_parcours_save: json is a route as import takes it, with
 * "cover_recording_id" (one of its recordings, or null) and "version"
 * (the version it edits: another one is -PRL_ECONFLICT) both optional.
 * slug NULL creates (the body's slug must be free: -PRL_EEXIST), else
 * replaces route slug (the body's slug absent or the same).  Appends the
 * slug to slug_out (or NULL). */
int prl_archive_parcours_save(struct prl_archive *a, const struct prl_viewer *v, const char *slug,
			      const char *json, size_t len, struct prl_buf *slug_out);
/* Deletes route slug as v (prl_archive_parcours_delete does it as staff). */
int prl_archive_parcours_remove(struct prl_archive *a, const struct prl_viewer *v,
				const char *slug);
/* Undoes history row hid: its route back as it was before (deleted again
 * when it was created there).  -PRL_ECONFLICT when it already is. */
int prl_archive_parcours_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
				struct prl_buf *slug_out);
/* {slug, history: [{id, at, login, action, reverts?, before, after}]},
 * newest first, at most PRL_PARCOURS_HISTORY_MAX; before and after are
 * null or {title, stops}; a row with a stop v may not hear is left out. */
#define PRL_PARCOURS_HISTORY_MAX 100
int prl_archive_parcours_history_json(struct prl_archive *a, const struct prl_viewer *v,
				      const char *slug, struct prl_buf *out);

/* ---- listening games (games.c) ---- */

/* One round of game "meaning" (hear a sentence, choose its meaning) or
 * "where" (hear a voice, say where it was recorded), drawn at random from
 * public recordings only, from a transcribed segment that touches no
 * withheld passage and is none of the nseen segment ids of seen (the
 * rounds played already).  Appends {game, segment_id, clip {recording_id,
 * start_ms, end_ms}, text, ..., title, date, place, institution {short,
 * name}} (the recording's facts): for "meaning", translation, choices (four
 * translations) and answer (the index of the right one); for "where",
 * answer {place, lat, lon}.  -PRL_EINVAL (unknown game), -PRL_ENOTFOUND
 * (too little material, or every round was played); out is untouched then. */
int prl_archive_game_round(struct prl_archive *a, const char *game, const int64_t *seen,
			   size_t nseen, struct prl_buf *out);

/* ---- media ---- */

enum prl_media_kind {
	PRL_MEDIA_ORIGINAL = 0,
	PRL_MEDIA_OPUS = 1,
	PRL_MEDIA_MP3 = 2,
	PRL_MEDIA_PEAKS = 3,
};

struct prl_media {
	char *path; /* absolute path of the file, owned */
	int64_t bytes;
	char sha256[65];  /* of the file's content: a strong validator */
	const char *mime; /* static */
	const char *ext;  /* static: "opus", "mp3", "orig"... */
};

void prl_media_clear(struct prl_media *m);

/* How archives whose media are in an object store reach it, for the
 * whole process; cli/ fills it from the environment (PARLERS_S3_ENDPOINT,
 * AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * PARLERS_S3_CREDENTIALS, PARLERS_S3_TIMEOUT, PARLERS_MEDIA_CACHE_MB). */
struct prl_store_config {
	const char *endpoint;	      /* "https://host[:port]"; NULL: the file's, else AWS */
	const char *region;	      /* signing region; NULL: the file's, else us-east-1 */
	const char *access_key;	      /* NULL: the file's */
	const char *secret_key;	      /* NULL: the file's */
	const char *credentials_file; /* NAME=VALUE lines for what is NULL above, or NULL */
	long timeout_s;		      /* without progress before a request is given up; 0: 30 */
	long long cache_mb;	      /* the cap of media/ as the store's cache; 0: 10240 */
};
/* Sets c (not copied: it and its strings live as long as the process)
 * for the archives opened from then on. */
void prl_archive_store_config(const struct prl_store_config *c);

/* Where the archive keeps its media: NULL for the data folder's media/,
 * or the object store's address ("s3://bucket/prefix"), owned by a. */
const char *prl_archive_media_store(struct prl_archive *a);
/* Puts the archive's media in the object store at url (s3://bucket/prefix,
 * endpoint and credentials from the environment: PARLERS_S3_ENDPOINT,
 * AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or the file that
 * PARLERS_S3_CREDENTIALS names), checking first that the bucket answers.
 * Only on an archive that holds no media yet; 0 when url is already its
 * store.  -PRL_EINVAL (a bad address, no credentials, another store),
 * -PRL_EACCESS (credentials refused), -PRL_EIO (the store unreachable). */
int prl_archive_media_store_set(struct prl_archive *a, const char *url);

/*
 * The stored file of kind k for recording id, as viewer may have it:
 * -PRL_ENOTFOUND (unknown, private to viewer, or no such file),
 * -PRL_EACCESS (restricted to viewer; originals also need a researcher).
 */
int prl_archive_media(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		      enum prl_media_kind k, struct prl_media *out);
/* The same answer without the file: out's path is NULL, and a file kept in
 * an object store is not fetched into the media/ cache (for naming a copy
 * by its hash in a recording's JSON, or when it is served by a redirect). */
int prl_archive_media_info(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			   enum prl_media_kind k, struct prl_media *out);

/*
 * Where a client may fetch the stored file of kind k of recording id
 * itself, when the archive's media are in an object store: a URL of the
 * object signed for method ("GET" or "HEAD"; AWS SigV4 in the query
 * string) that the store honours for expires_s seconds (1 to 604800),
 * appended to url.  The same access rule and refusals as
 * prl_archive_media(); 1, url untouched, when the caller is to serve the
 * file itself as prl_archive_media() gives it: media/ is the store, or
 * viewer hears the recording with its withheld passages silent.  Nothing
 * is fetched into the media/ cache.
 */
int prl_archive_media_presign(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			      enum prl_media_kind k, const char *method, long expires_s,
			      struct prl_buf *url);

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
	PRL_SORT_DATE = 1,	/* recording date, then time in the recording */
	PRL_SORT_PLACE = 2,	/* place name, then recording, then time */
};

struct prl_search_opts {
	const char *query;     /* what the visitor typed (see README, "Search") */
	const char *tier_type; /* "transcription", "translation"... or NULL */
	const char *place;     /* name, commune or id, or NULL */
	const char *speaker;   /* name or id, or NULL */
	const char *variety;
	const char *collection; /* name or id */
	const char *date_from;	/* YYYY[-MM[-DD]], inclusive, or NULL */
	const char *date_to;
	enum prl_search_sort sort;
	int64_t offset;
	int64_t limit;		 /* 0: 20; at most 200 */
	int no_variants;	 /* 1: exact matches only */
	int with_groups;	 /* 1: add per-recording counts */
	const char *institution; /* short name, or NULL; an unknown one is -PRL_EINVAL */
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

/*
 * What searches share between queries: the index's vocabulary (close
 * spellings), remembered counts, and, once prl_archive_search_keep() asked
 * for them, the index's postings in memory.  A process that holds several
 * handles on one archive (a server's pool) makes one cache and gives it to
 * each; a handle given none keeps its own (vocabulary and counts; postings
 * only when asked), freed when it closes.
 *
 * prl_search_cache_new() gives NULL when memory is exhausted; the caller
 * frees with prl_search_cache_free() (NULL accepted) once every handle
 * given it is closed or given another.  prl_archive_set_search_cache()
 * gives a's searches cache c (not owned by a); NULL gives back a's own.
 * -PRL_EINVAL when c serves another archive, -PRL_ENOMEM.
 */
struct prl_search_cache;
struct prl_search_cache *prl_search_cache_new(void);
void prl_search_cache_free(struct prl_search_cache *c);
int prl_archive_set_search_cache(struct prl_archive *a, struct prl_search_cache *c);

/* Reads what search shares between queries (the index's vocabulary, for
 * close spellings) into a's cache so that the first visitor does not
 * wait for it. */
void prl_archive_search_warm(struct prl_archive *a);

/*
 * Keeps the search index's postings in memory in a's cache (a server's):
 * read in the background now, and again whenever the index changed (at
 * most every few seconds); searches through that cache use them while
 * they describe the index exactly, and FTS5 otherwise.  wait: return once
 * the first reading ends.  Costs about 12 bytes per (word, segment) pair.
 * forget stops it and frees them, in every cache of the process.
 */
void prl_archive_search_keep(struct prl_archive *a, int wait);
void prl_archive_search_forget(void);
/* 1 when a cache of the process holds a copy, with its size; *why (caller
 * frees) says why the last reading failed, or NULL. */
int prl_archive_search_memory_state(size_t *bytes, int64_t *rows, char **why);

/* Rebuilds the whole search index from the segments, in one transaction
 * (after a change to how text is folded, or to repair it). */
int prl_archive_reindex(struct prl_archive *a);

/* Equivalent spellings kept by staff, as CSV: one group per line, the
 * forms separated by commas ("mézoun,mézon,maisoun").  Import replaces the
 * whole table in one transaction; a form in two groups is an error naming
 * its line. */
int prl_archive_variants_import_csv(struct prl_archive *a, const char *data, size_t len);
int prl_archive_variants_export_csv(struct prl_archive *a, struct prl_buf *out);

/* ---- accounts and sessions (users.c) ----
 *
 * Passwords are kept as libsodium Argon2id strings (interactive limits);
 * a session is 256 random bits handed out as the cookie's value and kept
 * only as its SHA-256.  A session ends after PRL_SESSION_IDLE_S without a
 * request, or PRL_SESSION_MAX_S after the login, whichever comes first.
 * Failed logins are counted per account and per client address over
 * PRL_LOGIN_WINDOW_S; past the limits a login is refused unchecked. */

#define PRL_LOGIN_MAX 64   /* bytes in a login */
#define PRL_PASSWORD_MIN 8 /* bytes */
#define PRL_PASSWORD_MAX 1024
#define PRL_SESSION_IDLE_S (12 * 3600)
#define PRL_SESSION_MAX_S (7 * 24 * 3600)
#define PRL_LOGIN_WINDOW_S (15 * 60)
#define PRL_LOGIN_FAILS_PER_ACCOUNT 5
#define PRL_LOGIN_FAILS_PER_ADDR 20
#define PRL_TOKEN_CHARS 43 /* 32 bytes in unpadded base64url */

/* True when s is a login parlers accepts: 1 to PRL_LOGIN_MAX bytes of
 * ASCII letters, digits and . _ - @, starting with a letter or digit. */
int prl_login_valid(const char *s);

/* Adds account login with role and password.  -PRL_EEXIST when the login
 * is taken, -PRL_EINVAL for a bad login, role or password (errmsg says). */
int prl_archive_user_add(struct prl_archive *a, const char *login, enum prl_role role,
			 const char *password);
/* Grants researcher login the restricted material of institution (short
 * name; NULL: of every institution), in place of what it had; revoke
 * takes it away (it then hears public recordings only, like a visitor).
 * A grant takes effect at the account's next request.  -PRL_ENOTFOUND
 * (account or institution), -PRL_EINVAL for an account that is not a
 * researcher's (staff hear everything). */
int prl_archive_user_grant(struct prl_archive *a, const char *login, const char *institution);
int prl_archive_user_revoke(struct prl_archive *a, const char *login);
/* {"login", "role", "grant": "all" | SHORT | null (none) | "staff"}. */
int prl_archive_user_grant_json(struct prl_archive *a, const char *login, struct prl_buf *out);

/* The same for an account of institution (short name; NULL: the
 * network's).  -PRL_ENOTFOUND for an unknown institution. */
int prl_archive_user_add_to(struct prl_archive *a, const char *login, enum prl_role role,
			    const char *password, const char *institution);
/* Sets a new password (when password is not NULL) and role (when role is
 * not negative) for login, and ends its sessions.  -PRL_ENOTFOUND. */
int prl_archive_user_update(struct prl_archive *a, const char *login, int role,
			    const char *password);
/* Removes login and its sessions (its history rows stay).  -PRL_ENOTFOUND. */
int prl_archive_user_del(struct prl_archive *a, const char *login);

/* A signed-in viewer; the strings are the struct's own. */
struct prl_session {
	struct prl_viewer viewer; /* role and user id */
	char login[PRL_LOGIN_MAX + 1];
	char token[PRL_TOKEN_CHARS + 1]; /* the cookie's value (only after a login) */
	char csrf[PRL_TOKEN_CHARS + 1];	 /* what writes carry in X-CSRF-Token */
};

/*
 * Checks login and password from a client at addr (any printable text)
 * and on success opens a session into *out.  A wrong login or password
 * gives -PRL_EACCESS and counts a failure; past the limits -PRL_ELIMIT
 * with *retry_after_s set (then the password is not even checked).
 */
int prl_archive_login(struct prl_archive *a, const char *login, const char *password,
		      const char *addr, struct prl_session *out, int *retry_after_s);
/* The live session whose cookie value is token, into *out (token itself
 * is not copied).  -PRL_ENOTFOUND for an unknown, expired or malformed one. */
int prl_archive_session_get(struct prl_archive *a, const char *token, struct prl_session *out);
/* Ends the session of token (nothing when there is none). */
int prl_archive_logout(struct prl_archive *a, const char *token);

/* ---- editing (edit.c) ----
 *
 * Every write is one transaction that also writes its audit row (who,
 * when, recording, tier or segment, action, before and after as JSON),
 * committed with synchronous=FULL so that an acknowledged edit survives a
 * power cut, not only a crash.  Only staff (annotators and admins) write;
 * others get -PRL_EACCESS.  Validation failures give -PRL_EINVAL with a
 * sentence in prl_archive_errmsg() and change nothing.  On success out gets
 * the JSON of what now is (a segment {id, tier_id, start_ms, end_ms, text,
 * version}, a tier, a span...).  A segment changed since the version the
 * caller read gives -PRL_ECONFLICT with out holding the current segment
 * (or nothing when it is gone).
 */

#define PRL_TEXT_MAX (16 * 1024) /* bytes of a segment's text */
#define PRL_NAME_MAX 200	 /* bytes of a tier's name */

/* A change to a segment: only the fields whose has_ flag is set. */
struct prl_segment_change {
	int64_t tier_id;
	int64_t start_ms;
	int64_t end_ms;
	const char *text;
	unsigned has_tier : 1;
	unsigned has_start : 1;
	unsigned has_end : 1;
	unsigned has_text : 1;
};

int prl_archive_segment_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    const struct prl_segment_change *c, struct prl_buf *out);
int prl_archive_segment_update(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			       int64_t version, const struct prl_segment_change *c,
			       struct prl_buf *out);
int prl_archive_segment_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t sid,
			       int64_t version, struct prl_buf *out);
/* A new tier (type "transcription" when NULL; speaker names one of the
 * recording's speakers or is kept as the participant). -PRL_EEXIST. */
int prl_archive_tier_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			 const char *name, const char *type, const char *language,
			 const char *speaker, struct prl_buf *out);
int prl_archive_tier_rename(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    const char *name, struct prl_buf *out);
/* Deletes a tier and its segments in one audited change; a revert of the
 * history row puts both back.  -PRL_EINVAL when other tiers depend on it. */
int prl_archive_tier_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    struct prl_buf *out);
/* Sets a recording's access level and re-indexes it in the same
 * transaction, so search follows at once. */
int prl_archive_set_access(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			   enum prl_access level, struct prl_buf *out);
/* {recording_id, history: [{id, at, login, action, tier_id, segment_id,
 * before, after, reverts}]}, newest first (staff only). */
int prl_archive_history_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			     int64_t offset, int64_t limit, struct prl_buf *out);
/* Undoes history row hid (itself audited).  -PRL_ECONFLICT when what it
 * changed has changed again since; -PRL_EINVAL for a row that cannot be
 * undone. */
int prl_archive_revert(struct prl_archive *a, const struct prl_viewer *v, int64_t hid,
		       struct prl_buf *out);

/* ---- withheld spans (withheld.c) ----
 *
 * A span of a recording that a speaker asked not to publish.  For anyone
 * but staff (prl_access_sees_withheld()), every segment that overlaps a
 * span is left out of the recording JSON, annotation exports and search
 * (hits and counts), the original is refused, and the access copies served
 * are copies with the spans silent, made when the spans change. */

/* Adds a span (staff only) and makes the muted copies before returning;
 * out gets {id, start_ms, end_ms, reason}. */
int prl_archive_withheld_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			     int64_t start_ms, int64_t end_ms, const char *reason,
			     struct prl_buf *out);
/* Removes span span_id of recording rec_id.  -PRL_ENOTFOUND. */
int prl_archive_withheld_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
				int64_t span_id, struct prl_buf *out);
/* [{id, start_ms, end_ms, reason}] of recording rec_id (reason only for
 * staff), appended to out, for a viewer who may read the recording's
 * transcript (the access gate: -PRL_EACCESS, -PRL_ENOTFOUND otherwise). */
int prl_archive_withheld_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			      struct prl_buf *out);

/* The spans of recording rec_id withheld from viewer v, as start/end pairs
 * in ms (2 * *n numbers in a new array the caller frees; none for whoever
 * reads them), for a viewer who may see the recording listed (the access
 * gate at PRL_SEE_METADATA: -PRL_ENOTFOUND otherwise).  For what is shown
 * of a recording beside its audio, such as its waveform. */
int prl_archive_withheld_from(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			      int64_t **spans, size_t *n);

/* The file to cut a clip of recording id from, for viewer v, and the gain
 * to apply: the original with the recording's gain, or, when passages are
 * withheld from v, the access copy in which they are silent (gain 0).
 * -PRL_ENOTFOUND, -PRL_EACCESS as prl_archive_media().  The caller clears
 * out. */
int prl_archive_clip_source(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			    struct prl_media *out, double *gain_db);

/* ---- integrity ---- */

enum prl_fsck_problem {
	PRL_FSCK_MISMATCH = 0, /* bytes no longer match the SHA-256 */
	PRL_FSCK_MISSING = 1,  /* a file the database names is gone */
	PRL_FSCK_STRAY = 2,    /* a file in media/ nothing names */
	PRL_FSCK_SIZE = 3,     /* the size differs from the one recorded */
	PRL_FSCK_LEFTOVER = 4, /* what an interrupted ingest left: no damage, not counted */
};

const char *prl_fsck_problem_name(enum prl_fsck_problem p);

/* Removes what interrupted ingests left (the next ingest does so too);
 * calls report, when not NULL, with each path removed, relative to the
 * data folder.  A live ingest's files are never touched.  Returns how many
 * were removed, or a negative prl_err. */
int prl_archive_clear_leftovers(struct prl_archive *a, void (*report)(void *ctx, const char *rel),
				void *ctx);

/* Re-reads every stored file; calls report once per problem (path is
 * relative to the data folder).  Returns the number of problems found, or
 * a negative prl_err when the check itself could not run.  What a killed
 * ingest left (its staging folder, files it was moving that no row names)
 * is reported as PRL_FSCK_LEFTOVER and not counted: it is no damage. */
int prl_archive_fsck(struct prl_archive *a,
		     void (*report)(void *ctx, enum prl_fsck_problem p, const char *path,
				    int64_t recording_id),
		     void *ctx, int64_t *files_checked);

/* ---- export bundles (export.c), OAI-PMH harvesting (harvest.c) ---- */

enum prl_export_audio {
	PRL_EXPORT_ORIGINAL = 0, /* the original, byte for byte */
	PRL_EXPORT_FLAC = 1,	 /* FLAC made from the original (a FLAC original as is) */
	PRL_EXPORT_OPUS = 2,	 /* the Opus access copy */
	PRL_EXPORT_NONE = 3,	 /* metadata and annotations only */
};

int prl_export_audio_parse(const char *s); /* "original"... the value, or -1 */

struct prl_export_opts {
	const char *query;	/* a search: its hits become clips and a concordance */
	const char *collection; /* name or id, or NULL */
	const int64_t *ids;	/* these recordings only, or NULL */
	size_t nids;
	enum prl_export_audio audio;
	const char *tmp_dir; /* where clips and FLAC are made, as files unlinked
			      * at once; the command line passes $TMPDIR.
			      * NULL or "": $TMPDIR, else /tmp, as before, for
			      * callers that do not say yet (the server) */
	/* Receives the zip's bytes in order; returns 0 or a negative prl_err
	 * (which stops the export). */
	int (*write)(void *ctx, const void *data, size_t len);
	void *ctx;
	const char *institution; /* short name, or NULL: an institution's recordings
				  * (an unknown one is -PRL_EINVAL) */
	const char *route;	 /* a thematic route's slug, or NULL: the recordings of
				  * its stops the viewer may hear, and the route as
				  * data/routes/SLUG.json (an unknown one, or one with
				  * nothing to hear, is -PRL_ENOTFOUND) */
};

struct prl_export;

/*
 * Prepares a BagIt bag (RFC 8493) zipped, of what o selects as viewer v
 * may have it: recordings it may hear get audio and annotations (EAF,
 * TextGrid, TEI, CSV), restricted ones it may not hear only their
 * metadata rows, private ones nothing.  Nothing is written yet.  a stays
 * the caller's and must outlive the export, used by this thread only.
 * Errors, with a sentence for the requester in prl_archive_errmsg(a):
 * -PRL_ENOTFOUND when an id is unknown or invisible or the selection or
 * query matches nothing; -PRL_EACCESS when originals are asked by someone
 * who may not have them; -PRL_EINVAL for a query that cannot be used.
 * The caller frees the export with prl_export_free().
 */
int prl_export_open(struct prl_archive *a, const struct prl_viewer *v,
		    const struct prl_export_opts *o, struct prl_export **out);
/* Writes the next piece (at most about 1 MiB) through o->write.  Returns 1
 * while there is more, 0 once the zip is complete, or a negative prl_err
 * (see prl_export_errmsg()); after an error the export only frees. */
int prl_export_step(struct prl_export *x);
const char *prl_export_errmsg(const struct prl_export *x);
/* Recordings in the bundle (as metadata at least). */
size_t prl_export_count(const struct prl_export *x);
/* Frees everything (temporary files were unlinked when made). Accepts NULL. */
void prl_export_free(struct prl_export *x);

/* A file-name-safe ASCII slug of a title ("La mézoun" gives "la-mezoun")
 * into out (at most size - 1 bytes, never empty: "recording"). */
void prl_slug(const char *title, char *out, size_t size);

/* One recording as an OAI-PMH harvester may know of it. */
struct prl_harvest_item {
	int64_t id;
	char updated_at[24];   /* YYYY-MM-DDThh:mm:ssZ */
	int64_t collection_id; /* 0 when none */
	int deleted;	       /* 1: deleted (updated_at is when); report its header only */
};

/*
 * The recordings an anonymous visitor may know of (public and restricted;
 * never private), and those deleted since a harvester could see them
 * (deleted set), by id above after_id, updated within [from, until]
 * (YYYY-MM-DDThh:mm:ssZ, inclusive, either NULL), in collection_id (0:
 * any; negative: institution -collection_id's), at most max of them into
 * items.  *n gets the count written, *total (may be NULL) all that match
 * past after_id.  Returns 0 or a negative prl_err.
 */
int prl_archive_harvest(struct prl_archive *a, const char *from, const char *until,
			int64_t collection_id, int64_t after_id, struct prl_harvest_item *items,
			size_t max, size_t *n, int64_t *total);
/* The oldest datestamp harvest can give, or "" when nothing is visible. */
int prl_archive_harvest_earliest(struct prl_archive *a, char out[24]);

/* ---- backups (backup.c) ---- */

/*
 * A backup folder holds archive.db (a snapshot taken with SQLite's online
 * backup, consistent while the server writes), the media files that
 * snapshot names under media/ as in a data folder, archive-id (which
 * archive it is a backup of) and MANIFEST: every file's SHA-256, size and
 * path, ending with a line that checks the manifest itself.  MANIFEST is
 * written last: a folder without it holds no finished backup.
 */
struct prl_backup_opts {
	int copy_only; /* 1: copy every file; 0: hard links where DEST allows them */
};

struct prl_backup_stats {
	int64_t files;	      /* in the backup, archive.db included */
	int64_t copied;	      /* media files copied this run */
	int64_t linked;	      /* media files hard-linked this run */
	int64_t kept;	      /* media files DEST had already */
	int64_t bytes;	      /* every file of the backup, archive.db included */
	int64_t bytes_copied; /* written this run: copies and archive.db */
	char archive_id[33];  /* 32 hex digits */
};

/*
 * Backs the archive up into dest (made when missing; else empty, or a
 * backup of this same archive, which is brought up to date copying only
 * what it lacks).  The archive's data folder gets its archive-id file on
 * the first backup; nothing else of it changes.  Returns 0 and fills
 * *out, or a negative prl_err with one line in prl_archive_errmsg(a):
 * -PRL_EINVAL when dest holds something else, -PRL_ENOSPC, -PRL_EIO.
 * A failed run leaves dest's previous backup whole, or no MANIFEST.
 */
int prl_archive_backup(struct prl_archive *a, const char *dest, const struct prl_backup_opts *o,
		       struct prl_backup_stats *out);

enum prl_backup_problem {
	PRL_BACKUP_MANIFEST = 0, /* MANIFEST missing, cut short or malformed */
	PRL_BACKUP_MISSING = 1,	 /* a file the manifest lists is gone */
	PRL_BACKUP_SIZE = 2,	 /* its size differs from the manifest's */
	PRL_BACKUP_MISMATCH = 3, /* its bytes do not match the manifest's SHA-256 */
	PRL_BACKUP_UNLISTED = 4, /* archive.db names a file the manifest lacks or
				  * lists with other bytes */
};

const char *prl_backup_problem_name(enum prl_backup_problem p); /* "checksum-mismatch"... */

/*
 * Re-reads every file of the backup in src against its manifest and the
 * manifest against the database it holds; calls report once per problem
 * (path relative to src, detail a few words).  Returns the number of
 * problems, or a negative prl_err with one line in err when src cannot
 * be read at all.  stats (may be NULL) gets the files and bytes listed.
 */
int prl_backup_verify(const char *src,
		      void (*report)(void *ctx, enum prl_backup_problem p, const char *path,
				     const char *detail),
		      void *ctx, struct prl_backup_stats *stats, struct prl_buf *err);

/*
 * Restores the backup in src into data_dir, which must be missing or an
 * empty folder: verifies every file first, then copies them into a
 * folder beside data_dir (checking each again) that is renamed into place
 * once all is on disk.  Returns 0, or a negative prl_err with one line in
 * err (-PRL_EFORMAT for a damaged or incomplete backup, -PRL_EINVAL for
 * a data folder that is not empty); on failure nothing is left behind.
 */
int prl_backup_restore(const char *src, const char *data_dir, struct prl_backup_stats *stats,
		       struct prl_buf *err);

/* ---- rebuilding derivatives (rebuild.c) ---- */

#define PRL_REBUILD_OPUS 1u  /* the Opus access copy */
#define PRL_REBUILD_MP3 2u   /* the MP3 access copy */
#define PRL_REBUILD_PEAKS 4u /* the waveform peaks */
#define PRL_REBUILD_MUTED 8u /* the copies with withheld passages silent */
#define PRL_REBUILD_ALL 15u

/* "opus,mp3,peaks,muted" (any of them) into *out.  0 or -PRL_EINVAL. */
int prl_rebuild_what_parse(const char *list, unsigned *out);
/* "opus"... for one bit. */
const char *prl_rebuild_kind_name(unsigned bit);

struct prl_rebuild_opts {
	const int64_t *ids; /* these recordings, or NULL: every one */
	size_t nids;
	unsigned what; /* PRL_REBUILD_ bits; 0: all */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
};

/*
 * Makes the derivatives o->what of each recording again from its original
 * (checked against its SHA-256 first; never written), each as a new file
 * renamed over the old one, then its row updated (size, SHA-256).  The
 * access copies keep the recording's gain.  Calls report once per
 * recording with the kinds remade (bits) and, when it failed, why (one
 * line).  Returns the number of recordings that failed, or a negative
 * prl_err (prl_archive_errmsg) when the run could not start.
 */
int prl_archive_rebuild(struct prl_archive *a, const struct prl_rebuild_opts *o,
			void (*report)(void *ctx, int64_t id, unsigned done, const char *error),
			void *ctx);

/* ---- machine-made tiers (machine.c) ----
 *
 * A tier a tool made (segmentation, alignment) carries origin "machine"
 * with the tool and its settings; each segment carries the mark and a
 * confidence until a person changes its times or text.  The recording
 * JSON shows them (tier: origin, origin_tool, origin_settings; segment:
 * origin, confidence, doubtful); EAF exports name the tool as the tier's
 * annotator. */

struct prl_machine_segment {
	int64_t start_ms;
	int64_t end_ms;
	const char *text;  /* NULL: empty */
	double confidence; /* 0..1, or negative when the tool gives none */
	int doubtful;	   /* the tool says: check this one first */
};

struct prl_machine_tier {
	const char *name;      /* required */
	const char *type;      /* "transcription" (NULL) or "translation" */
	const char *language;  /* may be NULL */
	const char *tool;      /* e.g. "parlers segment" */
	const char *annotator; /* what EAF's ANNOTATOR says; NULL: tool */
	const char *settings;  /* a JSON object, written by the tool; may be NULL */
	int replace;	       /* replace a tier of that name instead of refusing */
	const struct prl_machine_segment *segs; /* in order, apart, within the recording */
	size_t nsegs;
};

/*
 * Stores t on recording rec_id in one transaction with its history row
 * ("tier.machine"); with t->replace a tier of the same name goes first
 * (its own "tier.delete" row keeps it).  *tier_id (may be NULL) gets the
 * new tier's id, out (may be NULL) {id,
 * recording_id, name, type, origin, origin_tool, origin_settings, segments,
 * replaced}.  Errors: -PRL_EEXIST (the name is taken, no replace),
 * -PRL_EINVAL (a segment out of the recording or out of order, a bad name,
 * a tier others depend on), -PRL_ENOTFOUND, -PRL_EACCESS, -PRL_ESQL, with a
 * sentence in prl_archive_errmsg(); nothing is changed then.
 */
int prl_archive_machine_tier_put(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
				 const struct prl_machine_tier *t, int64_t *tier_id,
				 struct prl_buf *out);
/*
 * A reviewer accepts a machine-made tier whole (every segment still marked
 * loses its mark, confidence and doubt, and the tier its mark) or one
 * segment (the tier's mark goes with its last marked segment's), in one
 * transaction with a "tier.accept" or "segment.accept" history row.  The
 * tool and its settings stay on the tier as a record of where it came
 * from.  out (may be NULL) gets {tier_id, recording_id, accepted (segments
 * unmarked), tier_origin ("machine" or null after)}.  Errors:
 * -PRL_ENOTFOUND, -PRL_EACCESS (not an annotator, or may not write the
 * recording), -PRL_EINVAL (nothing machine-made there to accept).
 */
int prl_archive_tier_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t tier_id,
			    struct prl_buf *out);
int prl_archive_segment_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t seg_id,
			       struct prl_buf *out);
/* The id of recording rec_id's tier called name into *tier_id.  Errors:
 * -PRL_ENOTFOUND (no such tier), -PRL_ESQL. */
int prl_archive_tier_id(struct prl_archive *a, int64_t rec_id, const char *name, int64_t *tier_id);
/* ---- fsck --repair (rebuild.c) ---- */

enum prl_repair_outcome {
	PRL_REPAIR_REBUILT = 0,	 /* a derivative made again from its original */
	PRL_REPAIR_FAILED = 1,	 /* a derivative that could not be made (detail: why) */
	PRL_REPAIR_ORIGINAL = 2, /* a damaged or missing original, left as it is
				  * (detail: the backups that hold a good copy) */
};

const char *prl_repair_outcome_name(enum prl_repair_outcome o); /* "rebuilt"... */

struct prl_repair_opts {
	int rebuild;		    /* 1: make damaged derivatives again; 0: report only */
	const char *const *backups; /* backup folders to look for good originals in */
	size_t nbackups;
};

/*
 * Checks every stored file as prl_archive_fsck does and deals with each
 * damaged, resized or missing one: a derivative (access copy, peaks,
 * muted copy) is made again from its original through prl_archive_rebuild
 * (with o->rebuild); an original is never written, and is reported with
 * the backup folders among o->backups whose copy of it (same path) has
 * its SHA-256.  Calls report once per file dealt with (path relative to
 * the data folder, detail one line or NULL).  Returns how many were not
 * repaired, or a negative prl_err (prl_archive_errmsg).
 */
int prl_archive_repair(struct prl_archive *a, const struct prl_repair_opts *o,
		       void (*report)(void *ctx, enum prl_repair_outcome out, const char *path,
				      int64_t recording_id, const char *detail),
		       void *ctx);
/* ---- the catalogue (catalogue.c) ----
 *
 * A recording's metadata corrected after ingest, and the speakers and
 * places as records of their own.  Every change is one audited
 * transaction (see "editing"), through the write gate of the recording it
 * changes. */

/*
 * Changes the fields that json (a JSON object, len bytes) gives of
 * recording id: title, date, collection, place, variety, language,
 * collector, device, rights, description, keywords, speakers, access, as
 * a metadata sidecar writes them and checked as ingest checks a sidecar
 * (the same sentences); null or "" clears a field (never the title);
 * speakers replaces the recording's speakers, each found by name and
 * birth year or made.  With "version", the change applies only to that
 * version of the recording: -PRL_ECONFLICT otherwise, with out holding
 * the recording as it is now.  Errors: -PRL_EFORMAT (a value a sidecar
 * could not hold), -PRL_EINVAL (a change refused), -PRL_EACCESS,
 * -PRL_ENOTFOUND, with a sentence in prl_archive_errmsg().  On success
 * out gets the recording's JSON (with its new "version"); a change that
 * changes nothing writes no history row.
 */
int prl_archive_recording_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			       const char *json, size_t len, struct prl_buf *out);

/* {"speakers": [{id, name, pseudonym, pseudonymised, birth_year, sex,
 * occupation, origin, consent, recordings}]} (staff), or one speaker's
 * object when id > 0 (-PRL_ENOTFOUND). */
int prl_archive_speakers_json(struct prl_archive *a, int64_t id, struct prl_buf *out);
/* Changes the fields json gives of speaker id: name, pseudonym (the name
 * shown on every public way out while it is set; "" or null clears it),
 * birth_year, sex, occupation, origin, consent.  One history row per
 * recording of theirs; out gets the speaker.  -PRL_EFORMAT, -PRL_EINVAL,
 * -PRL_EACCESS, -PRL_ENOTFOUND. */
int prl_archive_speaker_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			     const char *json, size_t len, struct prl_buf *out);
/* Merges speaker from into speaker into (two records of one person):
 * every recording and tier of from becomes into's, and from goes.
 * -PRL_EINVAL when they are the same. */
int prl_archive_speaker_merge(struct prl_archive *a, const struct prl_viewer *v, int64_t from,
			      int64_t into, struct prl_buf *out);
/* The same for places: {"places": [{id, name, commune, lat, lon,
 * recordings}]}; edit takes name, commune, lat and lon. */
int prl_archive_places_json(struct prl_archive *a, int64_t id, struct prl_buf *out);
int prl_archive_place_edit(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			   const char *json, size_t len, struct prl_buf *out);
int prl_archive_place_merge(struct prl_archive *a, const struct prl_viewer *v, int64_t from,
			    int64_t into, struct prl_buf *out);

/* ---- the trash (trash.c) ----
 *
 * A deleted recording is gone at once from every way out (pages, API,
 * media, search, exports, IIIF, OAI-PMH, where it is reported deleted),
 * but its rows and files stay in the trash until it is purged, and it can
 * be restored until then (here, or by reverting its history row). */

#define PRL_TRASH_DAYS 30 /* how long the trash keeps a recording by default */

/* Deletes recording id for reason (required); out gets {id, deleted_at,
 * reason}.  -PRL_EINVAL without a reason, -PRL_EACCESS, -PRL_ENOTFOUND. */
int prl_archive_recording_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				 const char *reason, struct prl_buf *out);
/* Brings recording id back from the trash at the level it had; out gets
 * its JSON.  -PRL_ENOTFOUND when it is not in the trash. */
int prl_archive_recording_restore(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
				  struct prl_buf *out);
/* {"trash": [{id, title, deleted_at, reason, login, access, history_id}]},
 * oldest first; history_id is the deletion's history row, which a revert
 * (prl_archive_revert) undoes. */
int prl_archive_trash_json(struct prl_archive *a, struct prl_buf *out);
/* Removes for good, rows and files, every recording deleted at least days
 * ago (0: all in the trash); calls report (may be NULL) for each.  Returns
 * how many, or a negative prl_err. */
int prl_archive_trash_purge(struct prl_archive *a, int days,
			    void (*report)(void *ctx, int64_t id, const char *title), void *ctx);
/* Whether recording id was deleted after a harvester could see it: 1 with
 * its datestamp (YYYY-MM-DDThh:mm:ssZ) and collection, 0 when not. */
int prl_archive_harvest_deleted(struct prl_archive *a, int64_t id, char stamp[24],
				int64_t *collection_id);
/* ---- contributors and their proposals (accounts.c, proposals.c) ----
 *
 * Anyone may open a contributor account (prl_archive_signup); staff make
 * them in batches for a workshop.  A contributor proposes a text for a
 * segment of a recording they may hear, or a new segment on a stretch with
 * none; a proposal never changes a tier.  Staff who may write the
 * recording accept it (an audited edit naming the contributor too) or
 * decline it with a message. */

#define PRL_DISPLAY_NAME_MAX 100     /* bytes of a display or credit name */
#define PRL_EMAIL_MAX 254	     /* bytes of an e-mail address */
#define PRL_PROPOSAL_TEXT_MAX 4096   /* bytes of a proposal's text */
#define PRL_DECLINE_MESSAGE_MAX 2000 /* bytes of a decline's message */
#define PRL_SIGNUPS_PER_HOUR 5	     /* per client address, by default */
#define PRL_PROPOSALS_PER_HOUR 60    /* per account, by default */
#define PRL_PROPOSALS_PENDING 100    /* per account, by default */
#define PRL_BATCH_MAX 200	     /* accounts made by one add-batch */
#define PRL_ONE_TIME_PASSWORD_CHARS 12

/* A sign-up; strings are the caller's.  credit_name NULL: not credited;
 * email NULL: none (never shown to anyone). */
struct prl_signup {
	const char *login;
	const char *password;
	const char *display_name;
	const char *credit_name;
	const char *email;
	const char *licence; /* the contribution licence the account accepted */
};

/* Opens a contributor account for a client at addr.  Sign-ups are counted
 * per address over an hour: past per_hour (0: PRL_SIGNUPS_PER_HOUR)
 * -PRL_ELIMIT with *retry_after_s.  -PRL_EEXIST for a taken login,
 * -PRL_EINVAL with a sentence for a bad field. */
int prl_archive_signup(struct prl_archive *a, const struct prl_signup *s, const char *addr,
		       int per_hour, int *retry_after_s);

/* Makes n accounts PREFIX-1 ... PREFIX-n with role (of institution, NULL:
 * the network's) in one transaction, each with a one-time password: a new
 * array of n strings of PRL_ONE_TIME_PASSWORD_CHARS characters into
 * *passwords, which the caller frees with prl_passwords_free().  Nothing
 * is made when one login is taken (-PRL_EEXIST). */
int prl_archive_user_add_batch(struct prl_archive *a, const char *prefix, int n, enum prl_role role,
			       const char *institution, char ***passwords);
void prl_passwords_free(char **passwords, int n); /* accepts NULL */

/* Suspends login: it can no longer sign in, its sessions end and its
 * pending proposals are removed, in one transaction; *removed (when not
 * NULL) gets how many.  -PRL_ENOTFOUND. */
int prl_archive_user_suspend(struct prl_archive *a, const char *login, int64_t *removed);
/* {users: [{login, role, institution, display_name, credit_name,
 * suspended, created_at}]} of every account, by login, appended to out
 * (for the command line: never an e-mail address). */
int prl_archive_users_json(struct prl_archive *a, struct prl_buf *out);

struct prl_proposal_limits {
	int per_hour;	 /* proposals per account per hour; 0: PRL_PROPOSALS_PER_HOUR */
	int max_pending; /* pending proposals per account; 0: PRL_PROPOSALS_PENDING */
};

/* A proposal: on segment_id (its text), or, when segment_id is 0, a new
 * segment of tier_id of recording_id from start_ms to end_ms.  note: a
 * remark for staff (I recognise this speaker, this place) rather than a
 * text for the tier. */
struct prl_proposal_new {
	int64_t segment_id;
	int64_t recording_id;
	int64_t tier_id;
	int64_t start_ms;
	int64_t end_ms;
	const char *text;
	int note;
};

/* Records a pending proposal of signed-in viewer v; out gets {id, status,
 * kind, recording_id, tier_id, segment_id, start_ms, end_ms, text,
 * base_version, created_at}.  The access gate decides as for the
 * transcript (-PRL_EACCESS, -PRL_ENOTFOUND); a segment or stretch
 * withheld from v is -PRL_ENOTFOUND (a segment) or -PRL_EACCESS (a
 * stretch); past a limit -PRL_ELIMIT; bad text or times -PRL_EINVAL. */
int prl_archive_proposal_add(struct prl_archive *a, const struct prl_viewer *v,
			     const struct prl_proposal_new *p,
			     const struct prl_proposal_limits *lim, struct prl_buf *out);

/* What a listing of proposals selects; NULL or 0: any. */
struct prl_proposal_filter {
	const char *status; /* pending, accepted, declined */
	int64_t recording_id;
	int mine; /* only v's own */
	const char *contributor;
	const char *kind; /* transcription, translation, correction, note */
	int64_t offset;
	int64_t limit;	  /* 0: 50; at most 500 */
	int64_t after_id; /* only proposals after this id (the next page of a
			   * long queue without counting the ones before) */
};

/* {total, offset, proposals: [...]} of what v may see (total ignores
 * after_id): staff the proposals
 * on recordings they may write, anyone else only their own, and never one
 * on a recording or span they may no longer hear.  -PRL_EINVAL for a
 * filter out of its domain. */
int prl_archive_proposals_json(struct prl_archive *a, const struct prl_viewer *v,
			       const struct prl_proposal_filter *f, struct prl_buf *out);

/* Accepts proposal pid (staff who may write its recording): its text, or
 * text when not NULL (accepted with changes), becomes an edit of the
 * segment (or a new segment) through the editing path, audited with the
 * reviewer and the contributor.  A segment changed since the proposal
 * gives -PRL_ECONFLICT with out holding {"current": segment, "proposed":
 * text}, unless text is given (the reviewer chose).  out gets the
 * proposal as it now is.  -PRL_EINVAL when it is no longer pending. */
int prl_archive_proposal_accept(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
				const char *text, struct prl_buf *out);
/* Declines proposal pid with an optional message its author reads. */
int prl_archive_proposal_decline(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
				 const char *message, struct prl_buf *out);

/* {login, name, accepted: [{id, recording_id, recording_title, kind,
 * start_ms, end_ms, text, reviewed_at}], notes} of a contributor who opted
 * in to credit, listing only what an anonymous visitor may read (notes:
 * how many of their notes on speakers and places were accepted, counted,
 * never shown).  -PRL_ENOTFOUND
 * for anyone else. */
int prl_archive_contributor_json(struct prl_archive *a, const char *login, struct prl_buf *out);
/* The credit names of the contributors whose proposals (notes too) on
 * recording id were accepted (opted in only), as a JSON array of strings appended to
 * out. */
int prl_archive_recording_contributors_json(struct prl_archive *a, int64_t id, struct prl_buf *out);

/* ---- partners harvested over OAI-PMH (partners.c) ----
 * A partner is another archive whose catalogue this one gathers; its
 * records are shown with its name and a link back, found by search over
 * their metadata, and never exported as ours.  The harvester (harvester/)
 * fetches and parses; these calls store. */

/* True when s is a partner's name: 1 to PRL_SHORT_MAX lowercase ASCII
 * letters, digits or '-' (a URL path segment as it is). */
int prl_partner_name_valid(const char *s);

/* A partner to add; strings are the caller's, NULL: not given. */
struct prl_partner {
	const char *name;	 /* its key, prl_partner_name_valid() */
	const char *base_url;	 /* the OAI-PMH base URL, http:// or https:// */
	const char *prefix;	 /* "olac" or "oai_dc" (NULL: oai_dc) */
	const char *set;	 /* a setSpec to harvest, or NULL: all */
	const char *institution; /* the institution it is, short name, or NULL */
};

/* Adds partner p.  -PRL_EINVAL (a sentence in prl_archive_errmsg()) for a
 * bad name, URL, prefix or unknown institution, -PRL_EEXIST when the name
 * is taken. */
int prl_archive_partner_add(struct prl_archive *a, const struct prl_partner *p);
/* Removes partner name and every record harvested from it.  -PRL_ENOTFOUND. */
int prl_archive_partner_remove(struct prl_archive *a, const char *name);
/* {"partners": [{name, base_url, prefix, set, institution {short, name} or
 * null, added_at, last_response_date, last_run_at, last_status, last_error,
 * records}]} appended to out; name not NULL: that partner's object alone
 * (-PRL_ENOTFOUND when there is none). */
int prl_archive_partners_json(struct prl_archive *a, const char *name, struct prl_buf *out);
/* The partners' names in name order: *names (n of them) is the caller's,
 * freed with prl_archive_partner_names_free(). */
int prl_archive_partner_names(struct prl_archive *a, char ***names, size_t *n);
void prl_archive_partner_names_free(char **names, size_t n); /* accepts NULL */

/* What a harvest needs of a partner: its bufs are the caller's to release. */
struct prl_partner_state {
	int64_t id;		 /* the partner's row */
	struct prl_buf base_url; /* the OAI-PMH base URL */
	struct prl_buf prefix;	 /* "olac" or "oai_dc" */
	struct prl_buf set;	 /* the setSpec, empty: all */
	struct prl_buf from;	 /* last good run's responseDate, empty: none yet */
};
/* Fills *out (initialised here; the caller releases its bufs with
 * prl_partner_state_release() also on failure).  -PRL_ENOTFOUND. */
int prl_archive_partner_state(struct prl_archive *a, const char *name,
			      struct prl_partner_state *out);
void prl_partner_state_release(struct prl_partner_state *s);

/* One harvested record, as a page of ListRecords gives it; strings are
 * the caller's, NULL: absent.  A deleted record carries only its header. */
struct prl_partner_record {
	const char *identifier;	 /* the OAI identifier (required) */
	const char *datestamp;	 /* the header's datestamp */
	int deleted;		 /* the header said status="deleted" */
	const char *title;	 /* dc:title */
	const char *date;	 /* dc:date or dcterms:created */
	const char *place;	 /* dc:coverage or dcterms:spatial */
	const char *speakers;	 /* the speakers' names, "; " between them */
	const char *language;	 /* dc:language (its code or its name) */
	const char *description; /* dc:description */
	const char *url;	 /* the record's page at the partner (http(s)) */
	const char *iiif;	 /* its IIIF manifest (http(s)), when given */
};

/* What storing pages did: records new to us, changed, and newly deleted. */
struct prl_harvest_counts {
	long added;   /* records stored for the first time */
	long updated; /* records already stored, stored again */
	long deleted; /* records stored that the partner now says deleted */
};

/* Stores the n records of one page of partner_id in one transaction, all
 * or nothing, adding to *counts only once it committed.  A record is keyed
 * by its identifier: a page harvested twice stores nothing twice.  A URL
 * that is not http(s) is not kept; a field over its bound is cut at a
 * character's edge.  -PRL_EINVAL for a record without an identifier. */
int prl_archive_partner_store(struct prl_archive *a, int64_t partner_id,
			      const struct prl_partner_record *recs, size_t n,
			      struct prl_harvest_counts *counts);
/* Records how a run of partner_id ended: error NULL (it went through: the
 * next run asks from= response_date) or a one-line error (from= stays). */
int prl_archive_partner_finish(struct prl_archive *a, int64_t partner_id, const char *response_date,
			       const char *error);
/* {"partner", "total", "offset", "limit", "records": [{identifier,
 * datestamp, title, date, place, speakers, language, description, url,
 * iiif_manifest, partner}]} of partner name's live records, in harvest
 * order.  limit 0: 50; at most 1000.  -PRL_ENOTFOUND. */
int prl_archive_partner_records_json(struct prl_archive *a, const char *name, long offset,
				     long limit, struct prl_buf *out);
/* Appends {"total", "records": [...as above, with "partner"...]} of the
 * harvested records whose metadata match query (its words ANDed, a word
 * ending in '*' a prefix, accents ignored); limit 0: 10. */
int prl_archive_partner_search_json(struct prl_archive *a, const char *query, long offset,
				    long limit, struct prl_buf *out);
/* ---- uploads (uploads.c): files sent in pieces by the web, schema 17 ----
 *
 * An upload is a row (its announced length, the bytes stored so far, the
 * SHA-256 state of those bytes, its file name, who sent it) and one file,
 * DIR/uploads/ID, that grows by appends.  The row's offset is the truth:
 * bytes past it in the file (a write cut by a crash) are cut off before
 * the next append.  An upload older than its age limit is gone for
 * everyone, and the sweep removes its row and file, and any file of
 * uploads/ that no row names. */

#define PRL_UPLOAD_STATE_SIZE 112 /* PRL_SHA256_STATE_SIZE */

struct prl_upload {
	int64_t id;
	int64_t length;				    /* the size announced (Upload-Length) */
	int64_t offset;				    /* bytes stored and hashed */
	int64_t user_id;			    /* who created it; 0 when the account is gone */
	int64_t created;			    /* Unix seconds */
	char filename[256];			    /* a base name, never a path */
	unsigned char state[PRL_UPLOAD_STATE_SIZE]; /* SHA-256 of the first offset bytes */
	int has_state;				    /* 0 until a first byte is stored */
};

/* True when name may be an upload's file name: 1 to 255 bytes of UTF-8
 * text with no '/', no control character, not "." or "..". */
int prl_upload_filename_valid(const char *name);
/* A new upload of length bytes (its empty file made) into *id. */
int prl_upload_create(struct prl_archive *a, int64_t length, const char *filename, int64_t user_id,
		      int64_t *id);
/* Upload id, unless older than max_age_s (0: any age).  -PRL_ENOTFOUND. */
int prl_upload_get(struct prl_archive *a, int64_t id, int64_t max_age_s, struct prl_upload *out);
/* The upload's file, absolute, appended to out. */
int prl_upload_path(struct prl_archive *a, int64_t id, struct prl_buf *out);
/* Records that the first offset bytes of the file are stored, with the
 * SHA-256 state after them. */
int prl_upload_advance(struct prl_archive *a, int64_t id, int64_t offset,
		       const unsigned char state[PRL_UPLOAD_STATE_SIZE]);
/* Removes upload id, row and file.  -PRL_ENOTFOUND. */
int prl_upload_remove(struct prl_archive *a, int64_t id);
/* Removes uploads older than max_age_s and every file of uploads/ that
 * no row names; *removed (may be NULL) gets how many things went. */
int prl_upload_expire(struct prl_archive *a, int64_t max_age_s, int *removed);
/*
 * Whether v may deposit a recording in collection (a name, or NULL) for
 * institution (a short name, or NULL): a collection or an institution
 * that is not v's to write is -PRL_EACCESS with a sentence.  inst_out
 * gets the short name a deposit by v is made for (institution, else v's
 * own; empty: the archive's first).
 */
int prl_upload_may_deposit(struct prl_archive *a, const struct prl_viewer *v,
			   const char *collection, const char *institution,
			   struct prl_buf *inst_out);
/*
 * Ingests complete upload id as `parlers ingest` ingests a file: under its
 * file name, with sidecar_json (a metadata sidecar's object, or NULL) as
 * its NAME.json, and with the annotation file of upload annot_id (0: none)
 * beside it under that upload's name.  -PRL_EINVAL with res->error when
 * the upload is not complete, or when the stored bytes no longer hash to
 * what was received.  The uploads (and their files) are removed when the
 * file went in or was a duplicate; a failure keeps them.
 */
int prl_upload_ingest(struct prl_archive *a, int64_t id, const char *sidecar_json, int64_t annot_id,
		      const struct prl_ingest_opts *opts, struct prl_ingest_result *res);
/* ---- progress for the public (progress.c) ---- */

/* {collection, recordings, duration_ms, transcribed_ms, translated_ms,
 * transcribed, translated, pending, untranscribed_segments} of collection
 * (NULL: the whole archive, with "collections": [{name, ...}] besides),
 * counting only what viewer v hears; transcribed and translated are
 * shares of the duration (0 to 1).  Appended to out.  -PRL_ENOTFOUND for
 * a collection v hears nothing of. */
int prl_archive_progress_json(struct prl_archive *a, const struct prl_viewer *v,
			      const char *collection, struct prl_buf *out);
/* {total, offset, recordings: [{id, title, collection, place, progress}]}:
 * the public recordings not fully transcribed (of collection, when not
 * NULL), least transcribed first, limit (0: 24; at most 200) from offset.
 * What an anonymous visitor hears, whoever asks.  Appended to out. */
int prl_archive_help_transcribe_json(struct prl_archive *a, const char *collection, int64_t limit,
				     int64_t offset, struct prl_buf *out);

#endif
