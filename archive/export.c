/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Export bundles: a selection of recordings (by ids, collection or search
 * query) as a BagIt bag (RFC 8493) in a zip that is written as it is
 * built.
 *
 * The bag: bagit.txt; data/README.txt describing every file and column;
 * data/metadata/{recordings,speakers,places,tiers}.{csv,json}; per
 * recording a folder data/recordings/NNNNNN-slug/ with the audio as asked
 * and the tiers as EAF, TextGrid, TEI and CSV; for a query, data/clips/
 * (the matching spans) and data/concordance.csv; then, last, since only
 * then are they known, manifest-sha256.txt, bag-info.txt (with
 * Payload-Oxum) and tagmanifest-sha256.txt.  libarchive writes the zip to
 * a callback (it never seeks), audio entries stored, text deflated.
 *
 * Always holds: every byte of a file goes through its SHA-256 on its way
 * into the zip, so the manifests describe what was written, not what the
 * database believed; what a viewer gets follows prl_access_decide() (a
 * restricted recording it may not hear is a metadata row and nothing
 * more; a private one is not there); the bag is built a step at a time
 * (prl_export_step() writes at most one read buffer of audio, or one
 * annotation file), so memory holds the metadata tables and one buffer,
 * never a whole audio file; temporary files (FLAC, clips) are unlinked as
 * they are created, so a stopped export leaves nothing behind.
 *
 * Expected workload: a researcher's collection, tens to thousands of
 * recordings and tens of gigabytes of audio, at disk speed; a query's
 * concordance of up to EXPORT_MAX_HITS spans.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "archive-internal.h"
#include "parlers/transcode.h"
#include "search-internal.h"

/* Bytes read from an audio file per step: large enough that per-call costs
 * vanish, small enough to stay far below any memory worth noticing. */
#define EXPORT_CHUNK (1024 * 1024)
/* Spans a query bundle carries at most (a concordance, not the corpus). */
#define EXPORT_MAX_HITS 10000
/* Search page size (the archive's maximum). */
#define EXPORT_SEARCH_PAGE 200

enum stage {
	STAGE_BAGIT = 0,  /* bagit.txt */
	STAGE_META,	  /* README and the metadata tables */
	STAGE_RECORDINGS, /* per recording: audio, then annotations */
	STAGE_CLIPS,	  /* per hit: a clip; then the concordance */
	STAGE_TAIL,	  /* manifests, bag-info, zip directory */
	STAGE_DONE,
};

struct rec {
	int64_t id;	  /* recording */
	int listen;	  /* the viewer may hear it and read its transcript */
	char *folder;	  /* "data/recordings/000012-la-mezoun", owned */
	char *slug;	  /* owned */
	char *title;	  /* owned */
	char *orig_ext;	  /* the original's extension, lower case, owned */
	char *audio_name; /* the audio file written beside the tiers, owned, or NULL */
	int64_t duration_ms;
	double gain_db; /* the access copy's gain, for lossy clips */
};

struct hit {
	int64_t rec; /* index into x->recs */
	int64_t segment_id;
	int64_t start_ms, end_ms;
	json_t *row; /* the concordance fields, owned reference */
};

struct prl_export {
	struct prl_archive *a; /* borrowed */
	struct prl_viewer v;   /* who the bag is for */
	enum prl_export_audio audio;
	char *tmp_dir;				    /* owned */
	char *selection;			    /* one line saying what was asked, owned */
	int (*write)(void *, const void *, size_t); /* the sink */
	void *ctx;
	int sink_err; /* what the sink returned when it refused */
	int discard;  /* being freed unfinished: bytes go nowhere */

	struct archive *ar;	   /* the zip writer */
	struct archive_entry *ent; /* reused for every entry */
	EVP_MD_CTX *md;		   /* the current entry's SHA-256 */
	time_t now;		   /* entries' mtime and the Bagging-Date */

	struct rec *recs;
	size_t nrecs;
	struct hit *hits;
	size_t nhits;
	int hits_truncated; /* the query matched more than we carry */

	struct prl_buf tables[8]; /* recordings/speakers/places/tiers .csv/.json */

	enum stage stage;
	size_t idx;		   /* recording or hit being written */
	int sub;		   /* part of it */
	struct prl_annot_doc *doc; /* the recording's tiers while its files are written */

	int fd;		    /* file being copied in, or -1 */
	int64_t left;	    /* its bytes still to copy */
	char *cur_name;	    /* its entry name, owned */
	int cur_tag;	    /* entry goes to the tag manifest */
	int64_t cur_bytes;  /* bytes of the current entry so far */
	unsigned char *buf; /* EXPORT_CHUNK bytes */

	struct prl_buf manifest; /* "sha256  data/..." lines */
	struct prl_buf tagmanifest;
	struct prl_buf concordance;	/* CSV, built as the clips go */
	int64_t oxum_bytes, oxum_files; /* payload totals */
	struct prl_buf errmsg;
	int failed; /* the first error; then only free */

	char *route_slug;	   /* a thematic route's bag: its slug, owned, or NULL */
	json_t *route;		   /* the route as the viewer may follow it, owned */
	struct prl_buf route_json; /* data/routes/SLUG.json, once the folders are known */
	json_t *transcribers;	   /* the tiers' annotators, as a set (names as keys) */
	json_t *contributors;	   /* the credit names of accepted proposals, a set */
};

static const char *const table_names[8] = {
	"recordings.csv", "recordings.json", "speakers.csv", "speakers.json",
	"places.csv",	  "places.json",     "tiers.csv",    "tiers.json",
};

static const char *const recordings_cols[] = {
	"id",
	"title",
	"date",
	"collection",
	"place_id",
	"place",
	"commune",
	"lat",
	"lon",
	"variety",
	"language",
	"access",
	"duration_ms",
	"sample_rate",
	"channels",
	"bits_per_sample",
	"original_name",
	"original_format",
	"sha256",
	"loudness_lufs",
	"true_peak_dbtp",
	"gain_db",
	"collector",
	"device",
	"description",
	"keywords",
	"rights",
	"updated_at",
	"speakers",
	"folder",
	NULL,
};
static const char *const speakers_cols[] = {
	"recording_id", "speaker_id", "name",	    "role",   "pseudonym",
	"birth_year",	"sex",	      "occupation", "origin", NULL,
};
static const char *const places_cols[] = {"id", "name", "commune", "lat", "lon", NULL};
static const char *const tiers_cols[] = {
	"recording_id", "tier_id",   "name",	   "type",     "language",
	"speaker",	"parent_id", "constraint", "segments", NULL,
};
static const char *const concordance_cols[] = {
	"recording_id", "recording_title", "speaker",	  "place", "start_ms",	 "end_ms", "left",
	"match",	"right",	   "translation", "tier",  "segment_id", "clip",   NULL,
};

/* The README's words on a thematic route's bag (a separate string: C
 * promises no literal over 4095 bytes). */
static const char readme_route[] =
	"\n"
	"data/routes/SLUG.json (a thematic route)\n"
	"  its title, introduction and stops in order, each a span of a\n"
	"  recording (start_ms, end_ms) with a title and a note, the folder\n"
	"  of its recording in this bag, and the span as a Media Fragment of\n"
	"  the audio there (#t=start,end in seconds); stops you may not hear\n"
	"  are left out.\n";

static const char readme_text[] =
	"This bag was written by parlers, an archive of dialect recordings.\n"
	"It follows BagIt (RFC 8493): every file under data/ is listed with its\n"
	"SHA-256 in manifest-sha256.txt; bag-info.txt says when and what, and\n"
	"who transcribed it (Transcriber:) and who helped (Contributor:).\n"
	"\n"
	"Layout\n"
	"  data/metadata/   the tables below, as CSV (RFC 4180, UTF-8, header\n"
	"                   row) and as JSON arrays with the same fields\n"
	"  data/recordings/NNNNNN-title/\n"
	"                   one folder per recording you may hear: the audio\n"
	"                   (original, FLAC or Opus, as asked) and its tiers as\n"
	"                   .eaf (ELAN 3.0), .TextGrid (Praat), .tei.xml (ISO\n"
	"                   24624 TEI) and .csv (one row per segment)\n"
	"  data/clips/      for a search: each matching span cut from the\n"
	"                   original (WAV, or Opus when Opus was asked)\n"
	"  data/concordance.csv   for a search: one row per match\n"
	"Restricted recordings you may not hear appear in the tables only.\n"
	"Times are integer milliseconds.\n"
	"\n"
	"recordings.csv / recordings.json (one row per recording)\n"
	"  id               the archive's id of the recording\n"
	"  title            its title\n"
	"  date             when it was recorded (YYYY, YYYY-MM or YYYY-MM-DD)\n"
	"  collection       the collection it belongs to\n"
	"  place_id         the place's id (see places)\n"
	"  place, commune   where it was recorded\n"
	"  lat, lon         the place's WGS 84 coordinates, in degrees\n"
	"  variety          the dialect (Cotentinais, Cauchois, Jerriais...)\n"
	"  language         ISO 639-3 code of the language spoken\n"
	"  access           public, restricted or private\n"
	"  duration_ms      length of the audio\n"
	"  sample_rate      of the original, in Hz\n"
	"  channels         of the original\n"
	"  bits_per_sample  of the original (empty for lossy originals)\n"
	"  original_name    the file name it was deposited under\n"
	"  original_format  its container (wav, flac, mp3, ogg, mp4...)\n"
	"  sha256           SHA-256 of the original file\n"
	"  loudness_lufs    integrated loudness of the original (EBU R128)\n"
	"  true_peak_dbtp   its true peak, in dBTP\n"
	"  gain_db          the gain the access copies (and lossy clips) carry\n"
	"  collector        who made the recording\n"
	"  device           the recorder or machine it was made with\n"
	"  description      what it holds\n"
	"  keywords         subjects, separated by '; '\n"
	"  rights           licence or rights statement\n"
	"  updated_at       last change of its record (UTC)\n"
	"  speakers         speaker ids, separated by '; ' (see speakers)\n"
	"  folder           its folder in this bag; empty when metadata only\n"
	"\n"
	"speakers.csv / speakers.json (one row per speaker of a recording)\n"
	"  recording_id     the recording\n"
	"  speaker_id       the archive's id of the person\n"
	"  name             their name (or pseudonym)\n"
	"  role             speaker, interviewer, recorder...\n"
	"  pseudonym        true when name is a pseudonym\n"
	"  birth_year       year of birth\n"
	"  sex              as recorded by the collector\n"
	"  occupation       their occupation\n"
	"  origin           where they come from\n"
	"\n"
	"places.csv / places.json (one row per place)\n"
	"  id, name, commune, lat, lon   as in recordings\n"
	"\n"
	"tiers.csv / tiers.json (one row per tier of a recording you may read)\n"
	"  recording_id     the recording\n"
	"  tier_id          the archive's id of the tier\n"
	"  name             the tier's name, as in the EAF and TextGrid files\n"
	"  type             transcription, translation, gloss, note, other\n"
	"  language         ISO 639 code of its text\n"
	"  speaker          whose speech it transcribes\n"
	"  parent_id        the tier it depends on (ELAN), or empty\n"
	"  constraint       ELAN's constraint (Time_Subdivision...), or empty\n"
	"  segments         how many segments it holds\n"
	"\n"
	"concordance.csv (for a search; one row per matching segment)\n"
	"  recording_id, recording_title   where the match is\n"
	"  speaker, place   who says it, and where\n"
	"  start_ms, end_ms the segment's span\n"
	"  left, match, right   the words before, the match, the words after\n"
	"  translation      the French translation of the span, when there is one\n"
	"  tier, segment_id the tier and segment matched\n"
	"  clip             the span's audio under data/clips/, or empty\n";

/* ---- small helpers ---- */

static int xfail(struct prl_export *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int xfail(struct prl_export *x, int err, const char *fmt, ...)
{
	va_list ap;

	if (!x->failed) {
		prl_buf_reset(&x->errmsg);
		va_start(ap, fmt);
		prl_buf_vaddf(&x->errmsg, fmt, ap);
		va_end(ap);
		x->failed = err;
	}
	return x->failed;
}

void prl_slug(const char *title, char *out, size_t size)
{
	char *f = title ? search_fold(title, strlen(title)) : NULL;
	size_t n = 0;
	int dash = 0;

	if (!size)
		return;
	for (const char *p = f ? f : ""; *p && n + 1 < size && n < 60; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n)
				out[n++] = '-';
			if (n + 1 < size)
				out[n++] = c;
			dash = 0;
		} else {
			dash = 1;
		}
	}
	free(f);
	if (!n)
		snprintf(out, size, "recording");
	else
		out[n] = '\0';
}

int prl_export_audio_parse(const char *s)
{
	static const char *const names[] = {"original", "flac", "opus", "none"};

	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or newline. */
static void csv_field(struct prl_buf *b, const char *s, int first)
{
	if (!first)
		prl_buf_addch(b, ',');
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ') {
		prl_buf_addstr(b, s);
		return;
	}
	prl_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			prl_buf_addch(b, '"');
		prl_buf_addch(b, *s);
	}
	prl_buf_addch(b, '"');
}

/* A JSON scalar as CSV text ("" for null, arrays joined by "; "). */
static void csv_json(struct prl_buf *b, json_t *v, int first)
{
	struct prl_buf t = PRL_BUF_INIT;
	size_t i;
	json_t *e;

	switch (json_typeof(v ? v : json_null())) {
	case JSON_STRING:
		csv_field(b, json_string_value(v), first);
		return;
	case JSON_INTEGER:
		prl_buf_addf(&t, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		prl_buf_addf(&t, "%.10g", json_real_value(v));
		break;
	case JSON_TRUE:
		prl_buf_addstr(&t, "true");
		break;
	case JSON_FALSE:
		prl_buf_addstr(&t, "false");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
		{
			if (i)
				prl_buf_addstr(&t, "; ");
			if (json_is_string(e))
				prl_buf_addstr(&t, json_string_value(e));
			else if (json_is_integer(e))
				prl_buf_addf(&t, "%lld", (long long)json_integer_value(e));
		}
		break;
	default:
		break;
	}
	csv_field(b, prl_buf_str(&t), first);
	prl_buf_release(&t);
}

static void csv_row(struct prl_buf *b, json_t *obj, const char *const *cols)
{
	for (size_t i = 0; cols[i]; i++)
		csv_json(b, json_object_get(obj, cols[i]), i == 0);
	prl_buf_addstr(b, "\r\n");
}

static void csv_header(struct prl_buf *b, const char *const *cols)
{
	for (size_t i = 0; cols[i]; i++)
		csv_field(b, cols[i], i == 0);
	prl_buf_addstr(b, "\r\n");
}

/* Appends obj (as JSON) to a JSON array being built in b. */
static int json_append(struct prl_buf *b, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10));

	if (!s)
		return -PRL_ENOMEM;
	prl_buf_addstr(b, b->len > 1 ? ",\n" : "\n");
	prl_buf_addstr(b, s);
	free(s);
	return 0;
}

/* A value for json_pack's "O", which refuses NULL. */
static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

/* ---- the zip side ---- */

static la_ssize_t zip_write(struct archive *ar, void *ctx, const void *data, size_t len)
{
	struct prl_export *x = ctx;
	int ret = x->discard ? 0 : x->write(x->ctx, data, len);

	if (ret < 0) {
		x->sink_err = ret;
		archive_set_error(ar, EIO, "the receiver stopped taking the bundle");
		return -1;
	}
	return (la_ssize_t)len;
}

static int zip_fail(struct prl_export *x, const char *what)
{
	if (x->sink_err)
		return xfail(x, x->sink_err, "%s: the receiver stopped taking the bundle", what);
	return xfail(x, -PRL_EIO, "%s: %s", what, archive_error_string(x->ar));
}

static int entry_begin(struct prl_export *x, const char *name, int64_t size, int store, int tag)
{
	archive_entry_clear(x->ent);
	archive_entry_set_pathname_utf8(x->ent, name);
	archive_entry_set_filetype(x->ent, AE_IFREG);
	archive_entry_set_perm(x->ent, 0644);
	archive_entry_set_size(x->ent, size);
	archive_entry_set_mtime(x->ent, x->now, 0);
	/* audio is compressed already: storing it costs nothing and keeps
	 * the export at disk speed */
	if ((store ? archive_write_zip_set_compression_store(x->ar)
		   : archive_write_zip_set_compression_deflate(x->ar)) != ARCHIVE_OK)
		return zip_fail(x, name);
	if (archive_write_header(x->ar, x->ent) != ARCHIVE_OK)
		return zip_fail(x, name);
	if (!EVP_DigestInit_ex(x->md, EVP_sha256(), NULL))
		return xfail(x, -PRL_ENOMEM, "cannot start a SHA-256");
	free(x->cur_name);
	if (!(x->cur_name = strdup(name)))
		return xfail(x, -PRL_ENOMEM, "out of memory");
	x->cur_tag = tag;
	x->cur_bytes = 0;
	return 0;
}

static int entry_data(struct prl_export *x, const void *data, size_t len)
{
	const char *p = data;

	EVP_DigestUpdate(x->md, data, len);
	while (len) {
		la_ssize_t n = archive_write_data(x->ar, p, len);

		if (n <= 0)
			return zip_fail(x, x->cur_name);
		p += n;
		len -= (size_t)n;
		x->cur_bytes += n;
	}
	return 0;
}

static int entry_end(struct prl_export *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[65];
	struct prl_buf *list = x->cur_tag ? &x->tagmanifest : &x->manifest;

	if (archive_write_finish_entry(x->ar) != ARCHIVE_OK)
		return zip_fail(x, x->cur_name);
	if (!EVP_DigestFinal_ex(x->md, md, &mdlen) || mdlen != 32)
		return xfail(x, -PRL_ENOMEM, "cannot finish a SHA-256");
	prl_sha256_hex(md, hex);
	if (x->cur_tag >= 0)
		prl_buf_addf(list, "%s  %s\n", hex, x->cur_name);
	if (!x->cur_tag) {
		x->oxum_bytes += x->cur_bytes;
		x->oxum_files++;
	}
	return 0;
}

/* A whole file from memory.  tag: 0 payload, 1 tag file, -1 listed nowhere
 * (the tag manifest itself). */
static int put_memory(struct prl_export *x, const char *name, const void *data, size_t len, int tag)
{
	int ret;

	if ((ret = entry_begin(x, name, (int64_t)len, 0, tag)) < 0 ||
	    (ret = entry_data(x, data, len)) < 0)
		return ret;
	return entry_end(x);
}

/* Starts copying fd (owned from here) in as name; steps do the rest. */
static int put_fd(struct prl_export *x, const char *name, int fd)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return xfail(x, -PRL_EIO, "%s: %s", name, strerror(errno));
	}
	if ((ret = entry_begin(x, name, (int64_t)st.st_size, 1, 0)) < 0) {
		close(fd);
		return ret;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	x->fd = fd;
	x->left = (int64_t)st.st_size;
	return 0;
}

/* One read buffer of the file being copied; closes it at its end. */
static int copy_step(struct prl_export *x)
{
	size_t want = x->left < EXPORT_CHUNK ? (size_t)x->left : EXPORT_CHUNK;
	ssize_t n = want ? read(x->fd, x->buf, want) : 0;
	int ret;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0 || (n == 0 && x->left > 0))
		return xfail(x, -PRL_EIO, "%s: %s", x->cur_name,
			     n < 0 ? strerror(errno) : "the file is shorter than it was");
	if (n > 0 && (ret = entry_data(x, x->buf, (size_t)n)) < 0)
		return ret;
	x->left -= n;
	if (x->left > 0)
		return 0;
	close(x->fd);
	x->fd = -1;
	return entry_end(x);
}

/* An anonymous read-write file in tmp_dir, gone from the folder already. */
static int anon_file(struct prl_export *x)
{
	struct prl_buf path = PRL_BUF_INIT;
	int fd = open(x->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	/* file systems without O_TMPFILE: a named file, unlinked at once */
	prl_buf_addf(&path, "%s/parlers-export-XXXXXX", x->tmp_dir);
	if (path.data && (fd = mkostemp(path.data, O_CLOEXEC)) >= 0)
		unlink(path.data);
	prl_buf_release(&path);
	if (fd < 0)
		return xfail(x, -PRL_EIO, "cannot make a temporary file in %s: %s", x->tmp_dir,
			     strerror(errno));
	return fd;
}

/* Cuts [start, end) of recording r into a new anonymous file. */
static int make_clip(struct prl_export *x, const struct rec *r, int64_t start_ms, int64_t end_ms,
		     enum prl_clip_format f)
{
	struct prl_clip_job job;
	struct prl_media m;
	struct prl_buf err = PRL_BUF_INIT;
	char path[64];
	int fd, ret;

	/* the caller checked that the viewer may hear r; the source is the
	 * original, whatever copy the bag holds, unless passages of it are
	 * withheld from the viewer */
	memset(&m, 0, sizeof(m));
	memset(&job, 0, sizeof(job));
	/* withheld passages come out silent for who may not hear them */
	if ((ret = prl_archive_clip_source(x->a, &x->v, r->id, &m, &job.gain_db)) < 0)
		return xfail(x, ret, "recording %lld: %s", (long long)r->id,
			     prl_archive_errmsg(x->a));
	if ((fd = anon_file(x)) < 0) {
		prl_media_clear(&m);
		return fd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	job.src_path = m.path;
	job.start_ms = start_ms;
	job.end_ms = end_ms;
	job.format = f;
	ret = prl_clip_write(&job, path, NULL, &err);
	prl_media_clear(&m);
	if (ret < 0) {
		close(fd);
		ret = xfail(x, ret, "recording %lld: %s", (long long)r->id, prl_buf_str(&err));
		prl_buf_release(&err);
		return ret;
	}
	prl_buf_release(&err);
	return fd;
}

/* ---- choosing what goes in ---- */

static int has_id(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* Adds recording id; check: skip it when it is there already (a listing
 * never repeats an id, hits do). */
static int add_rec_id(struct prl_export *x, int64_t id, int check)
{
	struct rec *nr;

	for (size_t i = 0; check && i < x->nrecs; i++)
		if (x->recs[i].id == id)
			return 0;
	if (!(nr = realloc(x->recs, (x->nrecs + 1) * sizeof(*nr))))
		return -PRL_ENOMEM;
	x->recs = nr;
	memset(&x->recs[x->nrecs], 0, sizeof(*nr));
	x->recs[x->nrecs++].id = id;
	return 0;
}

static int cmp_rec(const void *pa, const void *pb)
{
	const struct rec *ra = pa, *rb = pb;

	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

/* Every recording of a listing (a collection, an institution's, or all)
 * viewer may know of. */
static int select_listing(struct prl_export *x, const char *collection, const char *institution)
{
	struct prl_recording_filter f;
	struct prl_buf b = PRL_BUF_INIT;
	json_t *root = NULL, *e;
	size_t i;
	int ret = 0;

	memset(&f, 0, sizeof(f));
	f.collection = collection;
	f.institution = institution;
	f.limit = 500;
	for (;;) {
		prl_buf_reset(&b);
		if ((ret = prl_archive_list_json(x->a, &x->v, &f, &b)) < 0)
			break;
		json_decref(root);
		if (!(root = json_loadb(b.data, b.len, 0, NULL))) {
			ret = archive_fail(x->a, -PRL_ENOMEM, "cannot read the listing");
			break;
		}
		json_array_foreach(
			json_object_get(root, "recordings"), i,
			e) if ((ret = add_rec_id(x, json_integer_value(json_object_get(e, "id")),
						 0)) < 0) goto end;
		if (json_array_size(json_object_get(root, "recordings")) == 0 ||
		    f.offset + 500 >= json_integer_value(json_object_get(root, "total")))
			break;
		f.offset += 500;
	}
end:
	json_decref(root);
	prl_buf_release(&b);
	return ret;
}

/* Every hit of the query (up to EXPORT_MAX_HITS), restricted to ids when given. */
static int select_query(struct prl_export *x, const struct prl_export_opts *o)
{
	struct prl_search_opts so;
	struct prl_buf b = PRL_BUF_INIT;
	json_t *root = NULL, *h;
	int64_t total = 0;
	size_t i;
	int ret = 0;

	memset(&so, 0, sizeof(so));
	so.query = o->query;
	so.collection = o->collection;
	so.institution = o->institution;
	so.sort = PRL_SORT_DATE;
	so.limit = EXPORT_SEARCH_PAGE;
	for (;;) {
		prl_buf_reset(&b);
		if ((ret = prl_archive_search_json(x->a, &x->v, &so, &b)) < 0)
			break;
		json_decref(root);
		if (!(root = json_loadb(b.data, b.len, 0, NULL))) {
			ret = archive_fail(x->a, -PRL_ENOMEM, "cannot read the search answer");
			break;
		}
		total = json_integer_value(json_object_get(root, "total"));
		json_array_foreach(json_object_get(root, "hits"), i, h)
		{
			int64_t rid = json_integer_value(json_object_get(h, "recording_id"));
			json_t *kwic = json_object_get(h, "kwic"), *row;
			struct hit *nh;

			if (o->nids && !has_id(o->ids, o->nids, rid))
				continue;
			if (x->nhits >= EXPORT_MAX_HITS) {
				x->hits_truncated = 1;
				goto end;
			}
			if (!(nh = realloc(x->hits, (x->nhits + 1) * sizeof(*nh))) ||
			    (x->hits = nh, add_rec_id(x, rid, 1) < 0)) {
				ret = -PRL_ENOMEM;
				goto end;
			}
			row = json_pack("{sIsOsOsOsIsIsOsOsOsOsOsI}", "recording_id",
					(json_int_t)rid, "recording_title",
					or_null(json_object_get(h, "recording_title")), "speaker",
					or_null(json_object_get(h, "speaker")), "place",
					or_null(json_object_get(h, "place")), "start_ms",
					json_integer_value(json_object_get(h, "start_ms")),
					"end_ms", json_integer_value(json_object_get(h, "end_ms")),
					"left", or_null(json_object_get(kwic, "left")), "match",
					or_null(json_object_get(kwic, "match")), "right",
					or_null(json_object_get(kwic, "right")), "translation",
					or_null(json_object_get(h, "translation")), "tier",
					or_null(json_object_get(h, "tier")), "segment_id",
					json_integer_value(json_object_get(h, "segment_id")));
			if (!row) {
				/* a field missing from the answer: keep what there is */
				row = json_object();
				json_object_set_new(row, "recording_id", json_integer(rid));
			}
			nh = &x->hits[x->nhits++];
			nh->row = row;
			nh->rec = rid; /* an id until the recordings are sorted */
			nh->segment_id = json_integer_value(json_object_get(h, "segment_id"));
			nh->start_ms = json_integer_value(json_object_get(h, "start_ms"));
			nh->end_ms = json_integer_value(json_object_get(h, "end_ms"));
		}
		so.offset += EXPORT_SEARCH_PAGE;
		if (so.offset >= total || json_array_size(json_object_get(root, "hits")) == 0)
			break;
	}
end:
	json_decref(root);
	prl_buf_release(&b);
	return ret;
}

/* Loads each recording's metadata, fills in its struct rec and builds the
 * tables.  Recordings come in id order. */
/* What the bag needs to know of recording r, from its JSON rec: whether
 * it may be heard, its title, slug, original's extension and folder. */
static int describe_rec(struct rec *r, json_t *rec, struct prl_buf *b)
{
	const char *ofmt, *oname, *dot;
	char slug[64];

	r->listen = json_is_true(json_object_get(rec, "can_listen"));
	r->title = strdup(json_string_value(json_object_get(rec, "title"))
				  ? json_string_value(json_object_get(rec, "title"))
				  : "");
	prl_slug(r->title, slug, sizeof(slug));
	r->slug = strdup(slug);
	r->duration_ms = json_integer_value(json_object_get(rec, "duration_ms"));
	r->gain_db = json_number_value(json_object_get(rec, "gain_db"));
	oname = json_string_value(json_object_get(rec, "original_name"));
	ofmt = json_string_value(json_object_get(rec, "original_format"));
	dot = oname ? strrchr(oname, '.') : NULL;
	r->orig_ext = strdup(dot && dot[1] && strlen(dot) < 10 ? dot + 1 : ofmt ? ofmt : "bin");
	prl_buf_reset(b);
	prl_buf_addf(b, "data/recordings/%06lld-%s", (long long)r->id, slug);
	r->folder = strdup(prl_buf_str(b));
	if (!r->title || !r->slug || !r->orig_ext || !r->folder)
		return -PRL_ENOMEM;
	for (char *p = r->orig_ext; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	return 0;
}

/* speakers: one row each, and their ids on the recording's row (list) */
static int add_speakers(struct prl_export *x, const struct rec *r, json_t *rec,
			struct prl_buf *list)
{
	json_t *sp;
	size_t k;

	prl_buf_reset(list);
	json_array_foreach(json_object_get(rec, "speakers"), k, sp)
	{
		json_t *row = json_deep_copy(sp);

		if (!row)
			return -PRL_ENOMEM;
		json_object_set_new(row, "recording_id", json_integer(r->id));
		json_object_set(row, "speaker_id", json_object_get(sp, "id"));
		json_object_del(row, "id");
		csv_row(&x->tables[2], row, speakers_cols);
		json_append(&x->tables[3], row);
		json_decref(row);
		prl_buf_addf(list, "%s%lld", k ? "; " : "",
			     (long long)json_integer_value(json_object_get(sp, "id")));
	}
	return 0;
}

/* The names of a tier's annotator ("A, B" when the archive credits the
 * contributors of a tier without one) into x->transcribers. */
static int credit_transcribers(struct prl_export *x, json_t *annotator)
{
	const char *s = json_string_value(annotator);
	char *copy, *name, *save = NULL;
	int ret = 0;

	if (!s || !*s)
		return 0;
	if (!(copy = strdup(s)))
		return -PRL_ENOMEM;
	for (name = strtok_r(copy, ",", &save); name && ret == 0;
	     name = strtok_r(NULL, ",", &save)) {
		while (*name == ' ')
			name++;
		if (*name && json_object_set_new(x->transcribers, name, json_true()) < 0)
			ret = -PRL_ENOMEM;
	}
	free(copy);
	return ret;
}

/* The contributors credited on recording r (those who opted in) into
 * x->contributors: only where the transcript may be read. */
static int credit_contributors(struct prl_export *x, const struct rec *r, struct prl_buf *b)
{
	json_t *list, *e;
	size_t k;
	int ret;

	if (!r->listen)
		return 0;
	prl_buf_reset(b);
	if ((ret = prl_archive_recording_contributors_json(x->a, r->id, b)) < 0)
		return ret;
	if (!(list = json_loadb(b->data, b->len, 0, NULL)))
		return -PRL_ENOMEM;
	json_array_foreach(list, k, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));

		if (name && json_object_set_new(x->contributors, name, json_true()) < 0)
			ret = -PRL_ENOMEM;
	}
	json_decref(list);
	return ret;
}

/* tiers: only where the transcript may be read */
static int add_tiers(struct prl_export *x, const struct rec *r, json_t *rec)
{
	json_t *tiers = json_object_get(rec, "tiers"), *e;
	size_t k;

	json_array_foreach(r->listen ? tiers : NULL, k, e)
	{
		json_t *row =
			json_pack("{sIsIsOsOsOsOsOsOsI}", "recording_id", (json_int_t)r->id,
				  "tier_id", json_integer_value(json_object_get(e, "id")), "name",
				  or_null(json_object_get(e, "name")), "type",
				  or_null(json_object_get(e, "type")), "language",
				  or_null(json_object_get(e, "language")), "speaker",
				  or_null(json_object_get(e, "speaker")), "parent_id",
				  or_null(json_object_get(e, "parent_id")), "constraint",
				  or_null(json_object_get(e, "constraint")), "segments",
				  (json_int_t)json_array_size(json_object_get(e, "segments")));

		if (!row || credit_transcribers(x, json_object_get(e, "annotator")) < 0) {
			json_decref(row);
			return -PRL_ENOMEM;
		}
		csv_row(&x->tables[6], row, tiers_cols);
		json_append(&x->tables[7], row);
		json_decref(row);
	}
	return 0;
}

/* the recording's own row: flat for CSV, the archive's object in JSON */
static int add_recording_row(struct prl_export *x, const struct rec *r, json_t *rec,
			     const char *speakers_ids)
{
	json_t *flat, *pl;

	json_object_del(rec, "tiers");
	json_object_del(rec, "can_listen");
	json_object_set_new(rec, "folder", r->listen ? json_string(r->folder) : json_null());
	json_object_set_new(rec, "speakers_ids", json_string(speakers_ids));
	if (!(flat = json_deep_copy(rec)))
		return -PRL_ENOMEM;
	json_object_set(flat, "speakers", json_object_get(rec, "speakers_ids"));
	pl = json_object_get(rec, "place");
	json_object_set(flat, "place_id", json_object_get(pl, "id"));
	json_object_set(flat, "place", json_object_get(pl, "name"));
	json_object_set(flat, "commune", json_object_get(pl, "commune"));
	json_object_set(flat, "lat", json_object_get(pl, "lat"));
	json_object_set(flat, "lon", json_object_get(pl, "lon"));
	csv_row(&x->tables[0], flat, recordings_cols);
	json_decref(flat);
	json_object_del(rec, "speakers_ids");
	json_append(&x->tables[1], rec);
	return 0;
}

/* Recording r's rows in every table; its place into places (once each). */
static int table_recording(struct prl_export *x, struct rec *r, json_t *places, struct prl_buf *b,
			   struct prl_buf *speakers_list)
{
	json_t *rec, *pl;
	char idkey[32];
	int ret;

	prl_buf_reset(b);
	if ((ret = prl_archive_recording_json(x->a, &x->v, r->id, b)) < 0)
		return ret;
	if (!(rec = json_loadb(b->data, b->len, 0, NULL)))
		return -PRL_ENOMEM;
	if ((ret = describe_rec(r, rec, b)) < 0 ||
	    (ret = add_speakers(x, r, rec, speakers_list)) < 0 || (ret = add_tiers(x, r, rec)) < 0)
		goto end;
	if (json_is_object(pl = json_object_get(rec, "place"))) {
		snprintf(idkey, sizeof(idkey), "%lld",
			 (long long)json_integer_value(json_object_get(pl, "id")));
		json_object_set(places, idkey, pl);
	}
	if ((ret = add_recording_row(x, r, rec, prl_buf_str(speakers_list))) == 0)
		ret = credit_contributors(x, r, b);
end:
	json_decref(rec);
	return ret;
}

static int build_tables(struct prl_export *x)
{
	struct prl_buf b = PRL_BUF_INIT, speakers_list = PRL_BUF_INIT;
	json_t *places = json_object(), *pl;
	const char *key;
	size_t i, k;
	int ret = 0;

	if (!places)
		return -PRL_ENOMEM;
	csv_header(&x->tables[0], recordings_cols);
	csv_header(&x->tables[2], speakers_cols);
	csv_header(&x->tables[4], places_cols);
	csv_header(&x->tables[6], tiers_cols);
	for (k = 1; k < 8; k += 2)
		prl_buf_addch(&x->tables[k], '[');
	for (i = 0; i < x->nrecs; i++)
		if ((ret = table_recording(x, &x->recs[i], places, &b, &speakers_list)) < 0)
			goto end;
	json_object_foreach(places, key, pl)
	{
		csv_row(&x->tables[4], pl, places_cols);
		json_append(&x->tables[5], pl);
	}
	for (k = 1; k < 8; k += 2)
		prl_buf_addstr(&x->tables[k], "\n]\n");
	for (k = 0; k < 8; k++)
		if (!x->tables[k].data) {
			ret = -PRL_ENOMEM;
			goto end;
		}
end:
	json_decref(places);
	prl_buf_release(&b);
	prl_buf_release(&speakers_list);
	return ret;
}

static void describe_selection(struct prl_export *x, const struct prl_export_opts *o)
{
	struct prl_buf b = PRL_BUF_INIT;
	static const char *const audio[] = {"original", "flac", "opus", "none"};

	if (o->query)
		prl_buf_addf(&b, "query \"%s\"; ", o->query);
	if (o->collection)
		prl_buf_addf(&b, "collection \"%s\"; ", o->collection);
	if (o->institution)
		prl_buf_addf(&b, "institution \"%s\"; ", o->institution);
	if (o->nids)
		prl_buf_addf(&b, "%zu recordings by id; ", o->nids);
	if (o->route && *o->route)
		prl_buf_addf(&b, "route \"%s\"; ", o->route);
	if (!o->query && !o->collection && !o->institution && !o->nids && !(o->route && *o->route))
		prl_buf_addstr(&b, "every recording; ");
	prl_buf_addf(&b, "audio: %s; for: %s", audio[o->audio], prl_role_name(x->v.role));
	/* a tag value is one line: no control character may end it early */
	for (char *p = b.data; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	x->selection = prl_buf_detach(&b, NULL);
}

/* ids and a collection or an institution: the recordings selected by id
 * that are in it */
static int keep_in_listing(struct prl_export *x, const char *collection, const char *institution)
{
	struct rec *keep = x->recs;
	size_t nkeep = x->nrecs, i, j;
	int ret;

	x->recs = NULL;
	x->nrecs = 0;
	ret = select_listing(x, collection, institution);
	for (i = j = 0; ret == 0 && i < x->nrecs; i++) {
		int in = 0;

		for (size_t k = 0; k < nkeep; k++)
			in |= keep[k].id == x->recs[i].id;
		if (in)
			x->recs[j++] = x->recs[i];
	}
	x->nrecs = j;
	free(keep);
	return ret;
}

/* The recordings in the bag's order; each hit then names its recording by
 * its place in recs. */
static void order_recordings(struct prl_export *x)
{
	qsort(x->recs, x->nrecs, sizeof(*x->recs), cmp_rec);
	for (size_t i = 0; i < x->nhits; i++)
		for (size_t j = 0; j < x->nrecs; j++)
			if (x->recs[j].id == x->hits[i].rec) {
				x->hits[i].rec = (int64_t)j;
				break;
			}
}

/* The zip writer, writing to the receiver. */
static int start_zip(struct prl_export *x)
{
	if (!(x->ar = archive_write_new()))
		return -PRL_ENOMEM;
	/* unbuffered: each write goes straight to the receiver, which has its
	 * own buffer; libarchive would otherwise pad to blocks */
	if (archive_write_set_format_zip(x->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(x->ar, 0) != ARCHIVE_OK ||
	    archive_write_open(x->ar, x, NULL, zip_write, NULL) != ARCHIVE_OK)
		return archive_fail(x->a, -PRL_EIO, "cannot start the zip: %s",
				    archive_error_string(x->ar));
	return 0;
}

/* A thematic route's bag: the recordings of the stops the viewer may
 * hear (the archive's answer for them), in the route's order. */
static int select_route(struct prl_export *x, const char *slug)
{
	struct prl_buf b = PRL_BUF_INIT;
	json_t *stop;
	size_t i;
	int ret;

	if ((ret = prl_archive_parcours_json(x->a, &x->v, slug, &b)) < 0) {
		prl_buf_release(&b);
		return ret;
	}
	x->route = json_loadb(b.data, b.len, 0, NULL);
	prl_buf_release(&b);
	if (!x->route || !(x->route_slug = strdup(slug)))
		return -PRL_ENOMEM;
	json_array_foreach(json_object_get(x->route, "stops"), i, stop)
	{
		if ((ret = add_rec_id(x, json_integer_value(json_object_get(stop, "recording_id")),
				      1)) < 0)
			return ret;
	}
	return 0;
}

/* data/routes/SLUG.json: the route, each stop with where its recording
 * is in the bag and its span as a Media Fragment of the audio there. */
static int build_route(struct prl_export *x)
{
	json_t *stop;
	char *js;
	size_t i;
	int ret = 0;

	json_array_foreach(json_object_get(x->route, "stops"), i, stop)
	{
		int64_t rid = json_integer_value(json_object_get(stop, "recording_id"));
		int64_t s = json_integer_value(json_object_get(stop, "start_ms"));
		int64_t e = json_integer_value(json_object_get(stop, "end_ms"));
		const struct rec *r = NULL;
		char frag[64];

		for (size_t k = 0; k < x->nrecs && !r; k++)
			if (x->recs[k].id == rid)
				r = &x->recs[k];
		if (!r)
			continue;
		json_object_set_new(stop, "folder", json_string(r->folder));
		snprintf(frag, sizeof(frag), "#t=%lld.%03lld,%lld.%03lld", (long long)(s / 1000),
			 (long long)(s % 1000), (long long)(e / 1000), (long long)(e % 1000));
		json_object_set_new(stop, "fragment", json_string(frag));
	}
	if (!(js = json_dumps(x->route, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		return -PRL_ENOMEM;
	ret = prl_buf_addstr(&x->route_json, js);
	if (ret == 0)
		ret = prl_buf_addch(&x->route_json, '\n');
	free(js);
	return ret;
}

int prl_export_open(struct prl_archive *a, const struct prl_viewer *v,
		    const struct prl_export_opts *o, struct prl_export **out)
{
	struct prl_export *x;
	const char *tmp = o->tmp_dir;
	size_t i;
	int ret = 0;

	if (!o->write || (unsigned)o->audio > PRL_EXPORT_NONE)
		return archive_fail(a, -PRL_EINVAL,
				    "an export needs a receiver and an audio choice");
	/* lossless audio is the original's worth: researchers and staff only,
	 * as for /media/{id}.orig */
	if ((o->audio == PRL_EXPORT_ORIGINAL || o->audio == PRL_EXPORT_FLAC) &&
	    v->role < PRL_ROLE_RESEARCHER)
		return archive_fail(a, -PRL_EACCESS,
				    "original and FLAC audio are for researchers and staff;"
				    " ask for opus or none");
	if (!(x = calloc(1, sizeof(*x))))
		return -PRL_ENOMEM;
	x->a = a;
	x->v = *v;
	x->audio = o->audio;
	x->write = o->write;
	x->ctx = o->ctx;
	x->fd = -1;
	x->now = time(NULL);
	/* the caller names the folder ($TMPDIR, read by the command line) */
	if (!(x->tmp_dir = strdup(tmp && *tmp ? tmp : "/tmp")) ||
	    !(x->buf = malloc(EXPORT_CHUNK)) || !(x->md = EVP_MD_CTX_new()) ||
	    !(x->transcribers = json_object()) || !(x->contributors = json_object()) ||
	    !(x->ent = archive_entry_new())) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	describe_selection(x, o);
	if ((ret = archive_filter_institution(a, o->institution)) < 0)
		goto end;

	if (o->route && *o->route) {
		if ((ret = select_route(x, o->route)) < 0)
			goto end;
	} else if (o->query && *o->query) {
		if ((ret = select_query(x, o)) < 0)
			goto end;
		if (!x->nhits) {
			ret = archive_fail(a, -PRL_ENOTFOUND, "nothing matches the query");
			goto end;
		}
	} else if (o->nids) {
		for (i = 0; i < o->nids; i++) {
			/* unknown and invisible are the same answer: no such recording */
			if (prl_archive_recording_open(a, v, o->ids[i], PRL_SEE_METADATA, NULL) <
			    0) {
				ret = archive_fail(a, -PRL_ENOTFOUND, "no recording %lld",
						   (long long)o->ids[i]);
				goto end;
			}
			if ((ret = add_rec_id(x, o->ids[i], 1)) < 0)
				goto end;
		}
		if (((o->collection && *o->collection) || (o->institution && *o->institution)) &&
		    (ret = keep_in_listing(x,
					   o->collection && *o->collection ? o->collection : NULL,
					   o->institution)) < 0)
			goto end;
	} else if ((ret = select_listing(x, o->collection && *o->collection ? o->collection : NULL,
					 o->institution)) < 0) {
		goto end;
	}
	if (!x->nrecs) {
		ret = archive_fail(a, -PRL_ENOTFOUND, "no recording matches the selection");
		goto end;
	}
	order_recordings(x);
	if ((ret = build_tables(x)) < 0 || (x->route && (ret = build_route(x)) < 0))
		goto end;
	csv_header(&x->concordance, concordance_cols);

	if ((ret = start_zip(x)) < 0)
		goto end;
	*out = x;
	return 0;
end:
	if (ret == -PRL_ENOMEM)
		archive_fail(a, ret, "out of memory");
	prl_export_free(x);
	return ret;
}

/* ---- the steps ---- */

static int step_recording(struct prl_export *x)
{
	static const enum prl_annot_format fmts[4] = {PRL_FMT_EAF, PRL_FMT_TEXTGRID, PRL_FMT_TEI,
						      PRL_FMT_CSV};
	static const char *const exts[4] = {"eaf", "TextGrid", "tei.xml", "csv"};
	struct rec *r = &x->recs[x->idx];
	struct prl_buf name = PRL_BUF_INIT, body = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	struct prl_media m;
	int ret = 0, fd;

	if (!r->listen || x->sub > 4) {
		prl_annot_doc_free(x->doc);
		x->doc = NULL;
		x->idx++;
		x->sub = 0;
		return 0;
	}
	if (x->sub == 0) {
		const char *ext = x->audio == PRL_EXPORT_FLAC ? "flac" : r->orig_ext;
		int from_copy = 0;

		x->sub++;
		memset(&m, 0, sizeof(m));
		if (x->audio == PRL_EXPORT_NONE)
			return 0;
		if (x->audio == PRL_EXPORT_OPUS) {
			ret = prl_archive_media(x->a, &x->v, r->id, PRL_MEDIA_OPUS, &m);
			ext = "opus";
		} else if ((ret = prl_archive_media(x->a, &x->v, r->id, PRL_MEDIA_ORIGINAL, &m)) ==
				   -PRL_EACCESS &&
			   !prl_access_sees_withheld(&x->v)) {
			/* passages withheld from this viewer are in the original: the
			 * bag gets the copy in which they are silent (as Opus, or made
			 * into FLAC from it), never the original */
			from_copy = 1;
			if (x->audio == PRL_EXPORT_ORIGINAL) {
				ret = prl_archive_media(x->a, &x->v, r->id, PRL_MEDIA_OPUS, &m);
				ext = "opus";
			} else {
				ret = 0;
			}
		}
		prl_buf_addf(&name, "%s/%s.%s", r->folder, r->slug, ext);
		free(r->audio_name);
		r->audio_name = strdup(strrchr(prl_buf_str(&name), '/') + 1);
		if (ret < 0) {
			ret = xfail(x, ret, "recording %lld: %s", (long long)r->id,
				    prl_archive_errmsg(x->a));
		} else if (x->audio == PRL_EXPORT_FLAC &&
			   (from_copy || strcmp(r->orig_ext, "flac") != 0)) {
			prl_media_clear(&m);
			if ((fd = make_clip(x, r, 0, -1, PRL_CLIP_FLAC)) >= 0)
				ret = put_fd(x, prl_buf_str(&name), fd);
			else
				ret = fd;
		} else if ((fd = open(m.path, O_RDONLY | O_CLOEXEC)) < 0) {
			ret = xfail(x, -PRL_EIO, "recording %lld: %s: %s", (long long)r->id, m.path,
				    strerror(errno));
		} else {
			ret = put_fd(x, prl_buf_str(&name), fd);
		}
		prl_media_clear(&m);
		prl_buf_release(&name);
		return ret;
	}
	if (x->sub == 1 && !x->doc) {
		if ((ret = prl_archive_annotations_load(x->a, &x->v, r->id, &x->doc)) < 0)
			return xfail(x, ret, "recording %lld: %s", (long long)r->id,
				     prl_archive_errmsg(x->a));
	}
	if (x->doc && x->doc->ntiers) {
		struct prl_annot_write_opts wo;

		memset(&wo, 0, sizeof(wo));
		/* the media the files name is the one beside them in the bag */
		wo.media_url = r->audio_name;
		wo.title = r->title;
		wo.duration_ms = r->duration_ms > 0 ? r->duration_ms : -1;
		ret = prl_annot_write(fmts[x->sub - 1], x->doc, &wo, &body, &warn);
		prl_buf_reset(&name);
		prl_buf_addf(&name, "%s/%s.%s", r->folder, r->slug, exts[x->sub - 1]);
		if (ret < 0)
			ret = xfail(x, ret, "recording %lld: cannot write its %s", (long long)r->id,
				    exts[x->sub - 1]);
		else
			ret = put_memory(x, prl_buf_str(&name), body.data ? body.data : "",
					 body.len, 0);
	}
	x->sub++;
	prl_buf_release(&name);
	prl_buf_release(&body);
	prl_buf_release(&warn);
	return ret;
}

static int step_clip(struct prl_export *x)
{
	struct hit *h;
	struct rec *r;
	struct prl_buf name = PRL_BUF_INIT;
	enum prl_clip_format f = x->audio == PRL_EXPORT_OPUS ? PRL_CLIP_OPUS : PRL_CLIP_WAV;
	int fd, ret = 0;

	if (x->idx >= x->nhits) {
		ret = put_memory(x, "data/concordance.csv", x->concordance.data, x->concordance.len,
				 0);
		x->stage = STAGE_TAIL;
		return ret;
	}
	h = &x->hits[x->idx++];
	r = &x->recs[h->rec];
	if (x->audio != PRL_EXPORT_NONE && r->listen && h->end_ms > h->start_ms) {
		int made = 0;

		prl_buf_addf(&name, "data/clips/%06lld-%s_%lld-%lld.%s", (long long)r->id, r->slug,
			     (long long)h->start_ms, (long long)h->end_ms, prl_clip_format_ext(f));
		json_object_set_new(h->row, "clip", json_string(prl_buf_str(&name) + 5));
		/* a span matched in its transcription and its translation is one
		 * clip, named by the span; a few thousand hits make this scan cheap */
		for (size_t j = 0; j + 1 < x->idx && !made; j++)
			made = x->hits[j].rec == h->rec && x->hits[j].start_ms == h->start_ms &&
			       x->hits[j].end_ms == h->end_ms;
		if (made)
			ret = 0;
		else if ((fd = make_clip(x, r, h->start_ms, h->end_ms, f)) < 0)
			ret = fd;
		else
			ret = put_fd(x, prl_buf_str(&name), fd);
	}
	csv_row(&x->concordance, h->row, concordance_cols);
	prl_buf_release(&name);
	return ret;
}

static int by_string(const void *p, const void *q)
{
	return strcmp(*(const char *const *)p, *(const char *const *)q);
}

/* One "label: name" line of bag-info per name of set (sorted), leaving
 * out those of except; a name is one line (no line breaks reach it). */
static void add_credit(struct prl_buf *info, const char *label, json_t *set, json_t *except)
{
	const char **names;
	const char *name;
	size_t n = 0;
	json_t *v;

	if (!json_object_size(set) || !(names = malloc(json_object_size(set) * sizeof(*names))))
		return;
	json_object_foreach(set, name, v)
	{
		if (!json_object_get(except, name) && !strpbrk(name, "\r\n"))
			names[n++] = name;
	}
	qsort(names, n, sizeof(*names), by_string);
	for (size_t i = 0; i < n; i++)
		prl_buf_addf(info, "%s: %s\n", label, names[i]);
	free(names);
}

static int step_tail(struct prl_export *x)
{
	struct prl_buf info = PRL_BUF_INIT;
	struct tm tm;
	char day[16];
	int ret;

	if ((ret = put_memory(x, "manifest-sha256.txt", x->manifest.data ? x->manifest.data : "",
			      x->manifest.len, 1)) < 0)
		return ret;
	gmtime_r(&x->now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	prl_buf_addf(&info,
		     "Source-Organization: parlers\n"
		     "Bagging-Date: %s\n"
		     "Bag-Software-Agent: parlers\n"
		     "Payload-Oxum: %lld.%lld\n"
		     "Bag-Size: %.1f MB\n"
		     "External-Description: recordings of dialect speakers with their"
		     " transcripts (%zu recordings)\n"
		     "Internal-Sender-Description: %s\n",
		     day, (long long)x->oxum_bytes, (long long)x->oxum_files,
		     (double)x->oxum_bytes / 1e6, x->nrecs, x->selection ? x->selection : "");
	if (x->hits_truncated)
		prl_buf_addf(&info, "Internal-Sender-Identifier: concordance cut at %d matches\n",
			     EXPORT_MAX_HITS);
	add_credit(&info, "Transcriber", x->transcribers, x->contributors);
	add_credit(&info, "Contributor", x->contributors, NULL);
	ret = info.data ? put_memory(x, "bag-info.txt", info.data, info.len, 1) : -PRL_ENOMEM;
	prl_buf_release(&info);
	if (ret < 0)
		return ret;
	if ((ret = put_memory(x, "tagmanifest-sha256.txt", x->tagmanifest.data, x->tagmanifest.len,
			      -1)) < 0)
		return ret;
	if (archive_write_close(x->ar) != ARCHIVE_OK)
		return zip_fail(x, "the zip directory");
	x->stage = STAGE_DONE;
	return 0;
}

int prl_export_step(struct prl_export *x)
{
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct prl_buf name = PRL_BUF_INIT;
	int ret = 0;

	if (x->failed)
		return x->failed;
	if (x->fd >= 0) {
		ret = copy_step(x);
		return ret < 0 ? ret : 1;
	}
	switch (x->stage) {
	case STAGE_BAGIT:
		ret = put_memory(x, "bagit.txt", bagit, sizeof(bagit) - 1, 1);
		x->stage = STAGE_META;
		break;
	case STAGE_META:
		if (x->idx == 0 && x->route) {
			prl_buf_add(&name, readme_text, sizeof(readme_text) - 1);
			prl_buf_add(&name, readme_route, sizeof(readme_route) - 1);
			ret = name.data ? put_memory(x, "data/README.txt", name.data, name.len, 0)
					: -PRL_ENOMEM;
			prl_buf_release(&name);
		} else if (x->idx == 0) {
			ret = put_memory(x, "data/README.txt", readme_text, sizeof(readme_text) - 1,
					 0);
		} else if (x->idx <= 8) {
			prl_buf_addf(&name, "data/metadata/%s", table_names[x->idx - 1]);
			ret = put_memory(x, prl_buf_str(&name), x->tables[x->idx - 1].data,
					 x->tables[x->idx - 1].len, 0);
			/* written: the bytes are in the zip and the manifest */
			prl_buf_release(&x->tables[x->idx - 1]);
			prl_buf_release(&name);
		}
		if (x->idx == 9) {
			prl_buf_addf(&name, "data/routes/%s.json", x->route_slug);
			ret = put_memory(x, prl_buf_str(&name), x->route_json.data,
					 x->route_json.len, 0);
			prl_buf_release(&name);
		}
		if (++x->idx > (x->route ? 9u : 8u)) {
			x->stage = STAGE_RECORDINGS;
			x->idx = 0;
		}
		break;
	case STAGE_RECORDINGS:
		if (x->idx >= x->nrecs) {
			x->stage = x->nhits ? STAGE_CLIPS : STAGE_TAIL;
			x->idx = 0;
			break;
		}
		ret = step_recording(x);
		break;
	case STAGE_CLIPS:
		ret = step_clip(x);
		break;
	case STAGE_TAIL:
		ret = step_tail(x);
		break;
	case STAGE_DONE:
		return 0;
	}
	if (ret < 0)
		return xfail(x, ret, "%s", prl_strerror(ret));
	return x->stage == STAGE_DONE ? 0 : 1;
}

const char *prl_export_errmsg(const struct prl_export *x)
{
	return x && x->errmsg.len ? x->errmsg.data : "";
}

size_t prl_export_count(const struct prl_export *x)
{
	return x ? x->nrecs : 0;
}

void prl_export_free(struct prl_export *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->ar) {
		/* an export cut short: libarchive is closed (a zip entry in
		 * progress ends where it stopped, nothing is padded) into the
		 * void, which frees all it holds; nothing more reaches the
		 * receiver, which may be gone */
		x->discard = 1;
		if (x->stage != STAGE_DONE)
			archive_write_close(x->ar);
		archive_write_free(x->ar);
	}
	archive_entry_free(x->ent);
	EVP_MD_CTX_free(x->md);
	for (size_t i = 0; i < x->nrecs; i++) {
		free(x->recs[i].folder);
		free(x->recs[i].slug);
		free(x->recs[i].title);
		free(x->recs[i].orig_ext);
		free(x->recs[i].audio_name);
	}
	free(x->recs);
	for (size_t i = 0; i < x->nhits; i++)
		json_decref(x->hits[i].row);
	free(x->hits);
	for (size_t i = 0; i < 8; i++)
		prl_buf_release(&x->tables[i]);
	prl_annot_doc_free(x->doc);
	prl_buf_release(&x->manifest);
	prl_buf_release(&x->tagmanifest);
	prl_buf_release(&x->concordance);
	prl_buf_release(&x->errmsg);
	free(x->cur_name);
	free(x->buf);
	free(x->tmp_dir);
	free(x->selection);
	free(x->route_slug);
	json_decref(x->route);
	prl_buf_release(&x->route_json);
	json_decref(x->transcribers);
	json_decref(x->contributors);
	free(x);
}
