/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Withheld spans: passages of a recording that a speaker asked not to
 * publish, and the access copies in which they are silent.
 *
 * Where the rule applies, in one place each: the search index files a
 * segment that overlaps a span at the private level (INDEX_KEY4_SQL, kept
 * in step by the segment triggers and by archive_reindex_recording() when
 * spans change), so hits, counts and translations never show it; segment
 * listings for the recording JSON and exports use the statement that
 * leaves such segments out (ST_SEGMENTS_OF_TIER_SHOWN); and
 * prl_archive_media() serves, to everyone but staff, the copy made for the
 * recording's current span set, or nothing at all.
 *
 * Always holds: a change of spans re-indexes the recording and writes its
 * history row in the same transaction; a muted copy is in media/ before
 * the row that names it commits, and names in its file name the span set
 * it was made for (a copy for other spans is never served).  A copy is
 * made in a locked staging folder (staging.c) whose journal names, before
 * anything moves, the new copy and the one it replaces: a run killed
 * before its row commits leaves a new file no row names, one killed after
 * it an old file no row names, and either is a leftover that the next
 * sweep removes, never a stray.
 * Expected workload: rare changes by staff; making the copies decodes and
 * encodes the whole recording (seconds for an hour of audio), done before
 * the change is acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive-internal.h"
#include "parlers/transcode.h"

#define REASON_MAX 1000

int prl_archive_withheld_json(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			      struct prl_buf *out)
{
	int ret;

	/* the spans are part of the transcript: shown with it, to whom reads it */
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_SEE_ALL, NULL)) < 0)
		return ret;
	return archive_withheld_json(a, v, rec_id, out);
}

/* The spans of rec_id as pairs, and their signature. */
int archive_withheld_spans(struct prl_archive *a, int64_t rec_id, int64_t **spans, size_t *n,
			   struct prl_buf *sig)
{
	sqlite3_stmt *st = archive_stmt(a, ST_WITHHELD_OF_REC);
	int64_t *p = NULL, *g;
	size_t k = 0;
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(p, (k + 1) * 2 * sizeof(*p)))) {
			sqlite3_reset(st);
			free(p);
			return archive_fail(a, -PRL_ENOMEM, "out of memory");
		}
		p = g;
		p[2 * k] = sqlite3_column_int64(st, 1);
		p[2 * k + 1] = sqlite3_column_int64(st, 2);
		k++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(p);
		return archive_sql_fail(a, "reading withheld spans");
	}
	if (!(st = archive_stmt(a, ST_WITHHELD_SIGNATURE))) {
		free(p);
		return -PRL_ESQL;
	}
	sqlite3_bind_int64(st, 1, rec_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		prl_buf_addstr(sig, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	*spans = p;
	*n = k;
	return 0;
}

int prl_archive_withheld_from(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			      int64_t **spans, size_t *n)
{
	struct prl_buf sig = PRL_BUF_INIT;
	int ret;

	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_SEE_METADATA, NULL)) < 0)
		return ret;
	if (prl_access_sees_withheld(v)) {
		*spans = NULL;
		*n = 0;
		return 0;
	}
	ret = archive_withheld_spans(a, rec_id, spans, n, &sig);
	prl_buf_release(&sig);
	return ret;
}

/* The stored path of rec_id's file of kind, or "" when there is none. */
int archive_media_row(struct prl_archive *a, enum stmt_id sid, int64_t rec_id, const char *kind,
		      struct prl_buf *path, struct prl_buf *spans)
{
	sqlite3_stmt *st = archive_stmt(a, sid);
	int rc;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		prl_buf_addstr(path, (const char *)sqlite3_column_text(st, 0));
		if (spans)
			prl_buf_addstr(spans, (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : archive_sql_fail(a, "finding media");
}

/* Makes one muted copy (kind) of rec_id for the span set sig. */
static int make_copy(struct prl_archive *a, int64_t rec_id, const char *kind, const char *orig_rel,
		     const char *sha, double gain_db, const int64_t *spans, size_t n,
		     const char *sig)
{
	struct prl_buf rel = PRL_BUF_INIT, abs = PRL_BUF_INIT, tmp = PRL_BUF_INIT,
		       src = PRL_BUF_INIT, why = PRL_BUF_INIT, old = PRL_BUF_INIT,
		       oldsig = PRL_BUF_INIT, ext = PRL_BUF_INIT;
	unsigned char h[crypto_hash_sha256_BYTES];
	uint8_t digest[32];
	char hex[65], sighex[17];
	struct archive_staging stg;
	const char *journal[2];
	sqlite3_stmt *st;
	int64_t bytes = 0;
	int ret, placed = 0;

	archive_staging_init(&stg);
	/* the file name says which span set it silences */
	crypto_hash_sha256(h, (const unsigned char *)sig, strlen(sig));
	sodium_bin2hex(sighex, sizeof(sighex), h, 8);
	prl_buf_addf(&ext, "w%s.%s", sighex, kind);
	archive_media_relpath(&rel, sha, ext.data);
	prl_buf_addf(&abs, "%s/%s", a->dir, rel.data);
	archive_staging_sweep(a, 1, NULL, NULL); /* what an interrupted run left */
	if ((ret = archive_staging_make(a, &stg, &why)) < 0) {
		ret = archive_fail(a, ret, "%s", prl_buf_str(&why));
		goto end;
	}
	prl_buf_addf(&tmp, "%s/muted.%s", stg.dir.data, kind);
	/* with media in an object store, the original may not be in the
	 * media/ cache: fetched (and checked) first, as rebuild does */
	if ((ret = archive_media_local(a, orig_rel, NULL, &src)) < 0)
		goto end;
	if ((ret = prl_transcode_muted(src.data, tmp.data,
				       strcmp(kind, "opus") ? PRL_COPY_MP3 : PRL_COPY_OPUS, gain_db,
				       spans, n, &bytes, &why)) < 0) {
		ret = archive_fail(a, ret, "making the copy without the withheld passages: %s",
				   prl_buf_str(&why));
		goto end;
	}
	if ((ret = prl_sha256_file(tmp.data, digest, &why)) < 0) {
		ret = archive_fail(a, ret, "%s", prl_buf_str(&why));
		goto end;
	}
	prl_sha256_hex(digest, hex);
	/* the copy this one replaces, and this one, written down before
	 * either changes: whichever no row names after a kill is a leftover */
	if ((ret = archive_media_row(a, ST_WITHHELD_MEDIA_GET, rec_id, kind, &old, NULL)) < 0)
		goto end;
	journal[0] = rel.data;
	journal[1] = old.data;
	if ((ret = archive_staging_journal(&stg, journal, old.len ? 2 : 1, &why)) < 0) {
		ret = archive_fail(a, ret, "%s", prl_buf_str(&why));
		goto end;
	}
	prl_buf_reset(&old);
	if ((ret = archive_media_publish(a, rel.data, tmp.data, hex, &why)) < 0) {
		ret = archive_fail(a, ret, "%s", prl_buf_str(&why));
		goto end;
	}
	if (rename(tmp.data, abs.data) != 0) {
		ret = archive_fail(a, -PRL_EIO, "%s: cannot put in place", abs.data);
		goto end;
	}
	placed = 1;
	if ((ret = archive_begin(a)) < 0)
		goto end;
	if ((ret = archive_media_row(a, ST_WITHHELD_MEDIA_GET, rec_id, kind, &old, &oldsig)) < 0)
		goto done;
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_WITHHELD_MEDIA_PUT)))
		goto done;
	sqlite3_bind_int64(st, 1, rec_id);
	archive_bind_text(st, 2, kind);
	archive_bind_text(st, 3, sig);
	archive_bind_text(st, 4, rel.data);
	sqlite3_bind_int64(st, 5, bytes);
	archive_bind_text(st, 6, hex);
	ret = archive_step_done(a, st, "recording the muted copy");
done:
	if (ret == 0 && (ret = archive_commit(a)) == 0) {
		/* the copy for the old span set is nobody's any more */
		if (old.len && strcmp(old.data, rel.data) != 0) {
			prl_buf_reset(&abs);
			prl_buf_addf(&abs, "%s/%s", a->dir, old.data);
			unlink(abs.data);
			archive_media_forget(a, old.data);
		}
	} else {
		archive_rollback(a);
	}
end:
	if (ret < 0 && placed)
		unlink(abs.data); /* no stray file */
	archive_staging_remove(&stg);
	prl_buf_release(&rel);
	prl_buf_release(&abs);
	prl_buf_release(&tmp);
	prl_buf_release(&src);
	prl_buf_release(&why);
	prl_buf_release(&old);
	prl_buf_release(&oldsig);
	prl_buf_release(&ext);
	return ret;
}

int archive_withheld_refresh_media(struct prl_archive *a, int64_t rec_id)
{
	static const char *const copies[] = {"opus", "mp3"};
	struct prl_buf sig = PRL_BUF_INIT, orig = PRL_BUF_INIT, have = PRL_BUF_INIT,
		       made = PRL_BUF_INIT, made_sig = PRL_BUF_INIT;
	struct prl_recording_brief b;
	int64_t *spans = NULL;
	double gain = 0;
	sqlite3_stmt *st;
	size_t n = 0;
	int ret;

	memset(&b, 0, sizeof(b));
	if ((ret = archive_recording_brief(a, rec_id, &b)) < 0)
		return ret;
	if ((ret = archive_withheld_spans(a, rec_id, &spans, &n, &sig)) < 0)
		goto end;
	if (!n) /* nothing withheld: the full copies serve everyone */
		goto end;
	if ((ret = archive_media_row(a, ST_MEDIA_GET, rec_id, "original", &orig, NULL)) < 0)
		goto end;
	if (!orig.len) {
		ret = archive_fail(a, -PRL_ENOTFOUND, "recording %lld has no original",
				   (long long)rec_id);
		goto end;
	}
	if ((st = archive_stmt(a, ST_REC_GAIN))) {
		sqlite3_bind_int64(st, 1, rec_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			gain = sqlite3_column_double(st, 0);
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
		prl_buf_reset(&have);
		prl_buf_reset(&made);
		prl_buf_reset(&made_sig);
		/* only the kinds ingest made a full copy of */
		if ((ret = archive_media_row(a, ST_MEDIA_GET, rec_id, copies[i], &have, NULL)) <
			    0 ||
		    (ret = archive_media_row(a, ST_WITHHELD_MEDIA_GET, rec_id, copies[i], &made,
					     &made_sig)) < 0)
			goto end;
		if (!have.len || (made.len && !strcmp(made_sig.data, sig.data)))
			continue;
		if ((ret = make_copy(a, rec_id, copies[i], orig.data, b.sha256, gain, spans, n,
				     sig.data)) < 0)
			goto end;
	}
end:
	prl_recording_brief_clear(&b);
	free(spans);
	prl_buf_release(&sig);
	prl_buf_release(&orig);
	prl_buf_release(&have);
	prl_buf_release(&made);
	prl_buf_release(&made_sig);
	return ret;
}

int archive_withheld_insert(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    int64_t span_id, int64_t start_ms, int64_t end_ms, const char *reason,
			    int64_t reverts, struct prl_buf *out)
{
	struct prl_buf after = PRL_BUF_INIT;
	struct prl_recording_brief b;
	sqlite3_stmt *st;
	int64_t id;
	int ret;

	if (reason && (strlen(reason) > REASON_MAX || !prl_utf8_valid(reason, strlen(reason))))
		return archive_fail(a, -PRL_EINVAL, "the reason is too long or not UTF-8");
	if ((ret = archive_recording_brief(a, rec_id, &b)) < 0)
		return ret;
	if (start_ms < 0 || end_ms <= start_ms || end_ms > b.duration_ms)
		ret = archive_fail(a, -PRL_EINVAL,
				   "a withheld span starts at or after 0 and ends after it starts, "
				   "within the recording (%lld ms)",
				   (long long)b.duration_ms);
	prl_recording_brief_clear(&b);
	if (ret < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_WITHHELD_ADD)))
		return -PRL_ESQL;
	if (span_id > 0)
		sqlite3_bind_int64(st, 1, span_id);
	sqlite3_bind_int64(st, 2, rec_id);
	sqlite3_bind_int64(st, 3, start_ms);
	sqlite3_bind_int64(st, 4, end_ms);
	archive_bind_text(st, 5, reason && *reason ? reason : NULL);
	if ((ret = archive_step_done(a, st, "withholding a span")) < 0)
		return ret;
	id = sqlite3_last_insert_rowid(a->db);
	/* the segments it covers are filed as private in the index from now */
	if ((ret = archive_reindex_recording(a, rec_id)) < 0)
		return ret;
	archive_span_json(&after, id, start_ms, end_ms, reason && *reason ? reason : NULL, 1);
	if ((ret = archive_audit(a, v, rec_id, 0, 0, reverts ? "withheld.revert" : "withheld.add",
				 NULL, after.data, reverts)) == 0)
		prl_buf_add(out, after.data, after.len);
	prl_buf_release(&after);
	return ret;
}

int archive_withheld_remove(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			    int64_t span_id, int64_t reverts, struct prl_buf *out)
{
	struct prl_buf before = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int rc, ret;

	if (!(st = archive_stmt(a, ST_WITHHELD_GET)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, span_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_int64(st, 1) != rec_id) {
		sqlite3_reset(st);
		return rc == SQLITE_ROW || rc == SQLITE_DONE
			       ? archive_fail(a, -PRL_ENOTFOUND,
					      "no withheld span %lld in recording %lld",
					      (long long)span_id, (long long)rec_id)
			       : archive_sql_fail(a, "reading a withheld span");
	}
	archive_span_json(&before, span_id, sqlite3_column_int64(st, 2),
			  sqlite3_column_int64(st, 3), (const char *)sqlite3_column_text(st, 4), 1);
	sqlite3_reset(st);
	ret = -PRL_ESQL;
	if (!(st = archive_stmt(a, ST_WITHHELD_DELETE)))
		goto end;
	sqlite3_bind_int64(st, 1, span_id);
	if ((ret = archive_step_done(a, st, "releasing a span")) < 0 ||
	    (ret = archive_reindex_recording(a, rec_id)) < 0)
		goto end;
	if ((ret = archive_audit(a, v, rec_id, 0, 0,
				 reverts ? "withheld.revert" : "withheld.delete", before.data, NULL,
				 reverts)) == 0)
		prl_buf_addf(out, "{\"id\":%lld,\"deleted\":true}", (long long)span_id);
end:
	prl_buf_release(&before);
	return ret;
}

static int may_withhold(struct prl_archive *a, const struct prl_viewer *v)
{
	if (!v || v->role < PRL_ROLE_ANNOTATOR)
		return archive_fail(a, -PRL_EACCESS, "only annotators and admins may change this");
	return 0;
}

int prl_archive_withheld_add(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
			     int64_t start_ms, int64_t end_ms, const char *reason,
			     struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	int ret;

	if ((ret = may_withhold(a, v)) < 0 || (ret = archive_edit_begin(a)) < 0)
		return ret;
	/* the write gate first: a refusal comes before what the span's check says */
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL)) == 0)
		ret = archive_withheld_insert(a, v, rec_id, 0, start_ms, end_ms, reason, 0, &res);
	/* the muted copies are made before the answer: a visitor never gets
	 * the full copy once the span is acknowledged (until they are made,
	 * visitors get no copy at all) */
	if ((ret = archive_edit_end(a, ret)) == 0 &&
	    (ret = archive_withheld_refresh_media(a, rec_id)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	return ret;
}

int prl_archive_withheld_delete(struct prl_archive *a, const struct prl_viewer *v, int64_t rec_id,
				int64_t span_id, struct prl_buf *out)
{
	struct prl_buf res = PRL_BUF_INIT;
	int ret;

	if ((ret = may_withhold(a, v)) < 0 || (ret = archive_edit_begin(a)) < 0)
		return ret;
	if ((ret = prl_archive_recording_open(a, v, rec_id, PRL_MAY_WRITE, NULL)) == 0)
		ret = archive_withheld_remove(a, v, rec_id, span_id, 0, &res);
	if ((ret = archive_edit_end(a, ret)) == 0 &&
	    (ret = archive_withheld_refresh_media(a, rec_id)) == 0)
		ret = prl_buf_add(out, prl_buf_str(&res), res.len);
	prl_buf_release(&res);
	return ret;
}

int prl_archive_clip_source(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			    struct prl_media *out, double *gain_db)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_media m;
	sqlite3_stmt *st;
	double gain = 0;
	char sig[2] = "";
	int ret;

	if ((ret = prl_archive_recording_open(a, v, id, PRL_SEE_ALL, NULL)) < 0)
		return ret;
	if (!prl_access_sees_withheld(v)) {
		if (!(st = archive_stmt(a, ST_WITHHELD_SIGNATURE)))
			return -PRL_ESQL;
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(sig, sizeof(sig), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	memset(&m, 0, sizeof(m));
	if (sig[0]) {
		/* the copy with the passages silent, its gain already applied */
		if ((ret = prl_archive_media(a, v, id, PRL_MEDIA_OPUS, &m)) < 0)
			return ret;
	} else {
		if ((ret = prl_archive_media(a, &staff, id, PRL_MEDIA_ORIGINAL, &m)) < 0)
			return ret;
		if ((st = archive_stmt(a, ST_REC_GAIN))) {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				gain = sqlite3_column_double(st, 0);
			sqlite3_reset(st);
		}
	}
	*out = m;
	*gain_db = gain;
	return 0;
}
