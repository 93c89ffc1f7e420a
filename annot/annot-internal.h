/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Private to the annot module: what the readers and writers of each
 * format share (the output sink, the error and warning helpers, charset
 * decoding and UTF-8 encoding, an id map for EAF), all in model.c, and
 * the per-format entry points that formats.c's table calls.  Only
 * formats.c calls a format; the formats call model.c; model.c calls
 * neither.
 *
 * Invariants: a reader fills a document the dispatcher allocated and frees
 * on failure, so a reader never has to undo its partial work; every string
 * a reader stores went through annot_strdup_nfc.  Writers only append to
 * their sink and never fail on content, only on memory or I/O.
 */
#ifndef PARLERS_ANNOT_INTERNAL_H
#define PARLERS_ANNOT_INTERNAL_H

#include <stdio.h>

#include "parlers/annot.h"

/* Where a writer's bytes go: b, flushed to fp (when not NULL) once it
 * holds more than SINK_CHUNK bytes, so big documents stream. */
struct annot_sink {
	struct prl_buf *b; /* the bytes not yet flushed */
	FILE *fp;	   /* NULL: everything stays in b */
	int err;	   /* the first write error (negative prl_err), or 0 */
};

#define SINK_CHUNK (1u << 16)

/* Flushes when b is past SINK_CHUNK (or always when force). Returns the
 * sink's error state. */
int annot_sink_flush(struct annot_sink *s, int force);

static inline int annot_sink_maybe_flush(struct annot_sink *s)
{
	if (s->fp && s->b->len >= SINK_CHUNK)
		return annot_sink_flush(s, 0);
	return s->err;
}

/* Resets err (when not NULL) to one line and returns -code. */
int annot_fail(struct prl_buf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends one warning line to warn (when not NULL). */
void annot_warn(struct prl_buf *warn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy of s[0..len) in NFC; s must be valid UTF-8.  NULL on ENOMEM. */
char *annot_strdup_nfc(const char *s, size_t len);
/* strdup that accepts NULL (gives NULL); *failed is set when memory ran out. */
char *annot_strdup_or_null(const char *s, int *failed);

/* Appends a segment whose text the document takes (text must be NFC, not
 * NULL); the text is freed on failure.  Returns 0 or -PRL_ENOMEM. */
int annot_push_segment(struct prl_tier *t, int64_t start_ms, int64_t end_ms, char *text,
		       size_t parent);
/* Appends a prop (copies both).  Returns 0 or -PRL_ENOMEM. */
int annot_add_prop(struct prl_annot_doc *d, const char *key, const char *value);

/* Charset decoding for the text formats.  BOMs (UTF-8, UTF-16 either
 * order, UTF-32 either order) always win; then charset (iconv name) when
 * given; then UTF-8; then Latin-1 when latin1_fallback (with a warning),
 * else an error naming the line of the first bad byte.  *out points into
 * data when no conversion was needed, else into tmp (which the caller
 * owns and releases).  Returns 0, or -PRL_EFORMAT / -PRL_EINVAL (an
 * unknown charset) with one line in err, or -PRL_ENOMEM. */
int annot_decode(const char *data, size_t len, const char *charset, int latin1_fallback,
		 const char **out, size_t *outlen, struct prl_buf *tmp, struct prl_buf *err,
		 struct prl_buf *warn);

/* Line number (1-based) of byte offset off in s: counts LF, and CR not
 * followed by LF. */
size_t annot_line_at(const char *s, size_t off);

/* Seconds to milliseconds, rounded half away from zero; 0 for -0. */
int64_t annot_sec_to_ms(double sec);

/* A map from id strings to indices.  Ids shaped like PREFIX<decimal> with
 * one shared prefix ("ts12", "a7": what ELAN writes) go to a dense array
 * while their numbers stay within a few times the count of ids seen;
 * anything else (other ids, and numbers far ahead, such as "a4097" in a
 * file ELAN has long been editing) goes to a hash table, so hostile ids
 * cost no more than their bytes.  Lookups try both. */
struct annot_idmap;
/* An empty map, or NULL when memory ran out; the caller frees it with
 * annot_idmap_free, which accepts NULL.  Keys are copied. */
struct annot_idmap *annot_idmap_new(void);
void annot_idmap_free(struct annot_idmap *m);
/* Adds id -> val.  Returns 0, 1 when id was already there (the old value
 * stays), or -PRL_ENOMEM. */
int annot_idmap_put(struct annot_idmap *m, const char *id, uint32_t val);
/* The value of id, or UINT32_MAX when absent. */
uint32_t annot_idmap_get(const struct annot_idmap *m, const char *id);

/* Puts every tier after its parent tier (the model's order, which the
 * archive stores in), keeping the document's order otherwise: a format
 * that does not order its tiers (EAF) may name a parent further down.
 * Tier parents are renumbered; segment parents stay (they index into the
 * parent tier).  Says in warn when it moved anything.  Returns 0 or
 * -PRL_ENOMEM (the document is then unchanged). */
int annot_parents_first(struct prl_annot_doc *d, struct prl_buf *warn);

/*
 * Per-format readers, called through formats.c's table.  s is UTF-8
 * already decoded (EAF alone gets the bytes as they are, XML naming its
 * own encoding).  A reader appends to d, an empty document that the
 * caller allocated and frees when the read fails; it returns 0, or a
 * negative prl_err (-PRL_EFORMAT with one line in err naming the line or
 * element, -PRL_ENOMEM); doubtful things kept go to warn (may be NULL),
 * one line each.  s is only read, never kept.
 */
int annot_textgrid_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
			struct prl_buf *warn);
/* As annot_textgrid_read, for s lying in a read-only file mapping whose
 * pages are handed back to the kernel once parsed, so a big file does not
 * stay resident next to the document built from it. */
int annot_textgrid_read_mapped(const char *s, size_t len, struct prl_annot_doc *d,
			       struct prl_buf *err, struct prl_buf *warn);
int annot_vtt_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn);
int annot_srt_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn);
int annot_csv_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn);
int annot_json_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		    struct prl_buf *warn);
/* EAF from memory (path NULL) or streamed from path (data NULL). */
int annot_eaf_read(const char *data, size_t len, const char *path, struct prl_annot_doc *d,
		   struct prl_buf *err, struct prl_buf *warn);

/*
 * Per-format writers, called through formats.c's table: d in the format
 * appended to s (o never NULL).  What the format cannot hold goes to warn
 * (may be NULL), one line each.  Return 0, or a negative prl_err: memory,
 * or the sink's write error; never one about content.
 */
int annot_textgrid_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
			 struct annot_sink *s, struct prl_buf *warn);
int annot_vtt_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn);
int annot_srt_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn);
int annot_csv_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn);
int annot_json_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		     struct annot_sink *s, struct prl_buf *warn);
int annot_eaf_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn);
int annot_tei_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn);

/* Hands back to the kernel the whole pages of a read-only mapping in
 * [from, to): they fault back in from the file if read again. */
void annot_release_pages(const char *from, const char *to);

/* The EAF PROPERTY (in HEADER) whose text is the TIER_ID of a tier whose
 * annotations may overlap (subtitle cues), one per tier: ELAN keeps
 * PROPERTYs it does not know, and without it the overlaps the tier
 * allows would be refused when the file comes back. */
#define ANNOT_EAF_OVERLAP_PROPERTY "parlers:may_overlap"

/* The tier VTT/SRT/TEI treat as the main transcription: opts->tier by
 * name, else the first top-level tier typed "transcription", else the
 * first tier.  -1 when there is none (or the named one is missing). */
int annot_pick_tier(const struct prl_annot_doc *d, const char *name);

/* "hh:mm:ss" + sep + "mmm" into b (negative times clamp to 0).  Returns 0
 * or -PRL_ENOMEM. */
int annot_put_clock(struct prl_buf *b, int64_t ms, char sep);

/* Warns about what only EAF can carry (CV refs, ling types, hierarchy)
 * once per document when writing format name. */
void annot_warn_lost(const struct prl_annot_doc *d, const char *format, int keeps_hierarchy,
		     struct prl_buf *warn);

#endif
