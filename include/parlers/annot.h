/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The annot module: the annotation model, the one in-memory form every
 * interchange format (ELAN EAF, Praat TextGrid, WebVTT, SRT, CSV, JSON,
 * TEI) is read into and written from, and that the archive stores in its
 * tiers and segments tables.  A module of its own below the archive: it
 * knows nothing of the database, so parsers are tested and fuzzed alone.
 *
 * Invariants: times are integer milliseconds; every string is valid UTF-8
 * in NFC; a tier's segments are in document order; a segment's parent is
 * an index into its tier's parent tier's segments.
 */
#ifndef PARLERS_ANNOT_H
#define PARLERS_ANNOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parlers/common.h"

/* ELAN's linguistic type constraints (none = a top-level, time-aligned tier). */
enum prl_constraint {
	PRL_CONSTRAINT_NONE = 0,
	PRL_CONSTRAINT_TIME_SUBDIVISION,
	PRL_CONSTRAINT_INCLUDED_IN,
	PRL_CONSTRAINT_SYMBOLIC_SUBDIVISION,
	PRL_CONSTRAINT_SYMBOLIC_ASSOCIATION,
};

/* "Time_Subdivision"... as ELAN spells them; NULL for NONE. */
const char *prl_annot_constraint_name(enum prl_constraint c);
/* The constraint named s, or -1. */
int prl_annot_constraint_parse(const char *s);

struct prl_segment {
	int64_t start_ms; /* for a point, start_ms == end_ms */
	int64_t end_ms;
	char *text;    /* owned, never NULL ("" for an empty interval) */
	size_t parent; /* 1 + index in the parent tier's segments; 0 = none */
	char *ext_id;  /* the source's annotation id (EAF "a12"), owned, may be NULL */
	char *cve_ref; /* controlled vocabulary entry id, owned, may be NULL */
	unsigned start_unaligned : 1; /* start time was not in the source (interpolated) */
	unsigned end_unaligned : 1;   /* end time was not in the source */
	unsigned machine : 1;	      /* made by a tool, not yet edited by a person */
	unsigned doubtful : 1;	      /* the tool says: check this one first */
	float confidence;	      /* the tool's confidence 0..1, when machine; -1: none */
};

struct prl_tier {
	char *name;	   /* owned; unique in a document only when the format says so */
	char *type;	   /* "transcription", "translation", "gloss", "note", "other"... owned */
	char *language;	   /* ISO 639 code or NULL */
	char *participant; /* speaker as the file names them, or NULL */
	char *annotator;   /* or NULL */
	char *ling_type;   /* EAF LINGUISTIC_TYPE_REF, or NULL */
	size_t parent;	   /* 1 + index of the parent tier in the document; 0 = none */
	enum prl_constraint constraint;
	unsigned is_point : 1;	  /* Praat TextTier: segments are points */
	unsigned may_overlap : 1; /* subtitle cues (WebVTT, SRT) may overlap in one tier */
	char *default_locale;	  /* EAF DEFAULT_LOCALE (a LOCALE's LANGUAGE_CODE), or NULL */
	unsigned machine : 1;	  /* made by a tool, some segments not yet reviewed */
	char *origin_tool;	  /* the tool that made it (kept once reviewed), or NULL */
	char *origin_settings;	  /* the tool's settings, a JSON object's text, or NULL */
	struct prl_segment *segs; /* owned */
	size_t nsegs;
	size_t alloc_segs;
};

/* EAF LINGUISTIC_TYPE. */
struct prl_ling_type {
	char *id;
	enum prl_constraint constraint;
	int time_alignable;
	int graphic_references;
	char *cv_ref; /* CONTROLLED_VOCABULARY_REF or NULL */
};

struct prl_cv_entry {
	char *id; /* CVE_ID, may be NULL (EAF 2.x entries have none) */
	char *value;
	char *description;
	char *lang; /* LANG_REF, may be NULL */
};

struct prl_cv {
	char *id;
	char *description;
	char *ext_ref; /* EXT_REF when the vocabulary lives in an .ecv file */
	struct prl_cv_entry *entries;
	size_t nentries;
};

/* A name = value pair kept for round trips (EAF PROPERTY, LANGUAGE, LOCALE,
 * MEDIA_DESCRIPTOR, EXTERNAL_REF; TextGrid file-level items...). */
struct prl_prop {
	char *key;
	char *value;
};

struct prl_annot_doc {
	int64_t xmin_ms; /* TextGrid domain, or 0 */
	int64_t xmax_ms; /* TextGrid domain, or -1 when unknown */
	char *author;	 /* EAF AUTHOR or NULL */
	char *date;	 /* EAF DATE or NULL */
	struct prl_tier *tiers;
	size_t ntiers;
	size_t alloc_tiers;
	struct prl_ling_type *ling_types;
	size_t nling_types;
	struct prl_cv *cvs;
	size_t ncvs;
	struct prl_prop *props; /* header items kept verbatim for round trips */
	size_t nprops;
};

/* Formats, by the file extensions users give. */
enum prl_annot_format {
	PRL_FMT_EAF,
	PRL_FMT_TEXTGRID,
	PRL_FMT_VTT,
	PRL_FMT_SRT,
	PRL_FMT_CSV,
	PRL_FMT_JSON,
	PRL_FMT_TEI, /* out only */
};

/* "eaf", "textgrid", "vtt", "srt", "csv", "json", "tei" (any case; a file
 * extension with its dot also works). Returns the format or -1. */
int prl_annot_format_parse(const char *name);
const char *prl_annot_format_ext(enum prl_annot_format f); /* "eaf", "TextGrid"... */

/* Allocates an empty document. Returns NULL when memory is exhausted. */
struct prl_annot_doc *prl_annot_doc_new(void);
/* Frees everything. Accepts NULL. */
void prl_annot_doc_free(struct prl_annot_doc *d);
/* Appends a tier (strings are copied; NULLs allowed but name). Returns its
 * index, or -PRL_ENOMEM. */
int prl_annot_add_tier(struct prl_annot_doc *d, const char *name, const char *type);
/* Appends a segment to tier t (text is copied). Returns 0 or -PRL_ENOMEM. */
int prl_annot_add_segment(struct prl_tier *t, int64_t start_ms, int64_t end_ms, const char *text,
			  size_t parent);

/*
 * Reads data (len bytes, any encoding the format allows) into a new
 * document.  On failure returns a negative prl_err and writes into err one
 * line naming the line or element and what is wrong (the caller adds the
 * file name).  Warnings (things kept but doubtful) are appended to warn,
 * one per line; warn may be NULL.
 */
int prl_annot_read(enum prl_annot_format f, const char *data, size_t len,
		   struct prl_annot_doc **out, struct prl_buf *err, struct prl_buf *warn);

/*
 * As prl_annot_read, for bytes in a legacy charset the file does not
 * declare (an SRT saved as GB2312 or cp1252): charset is an iconv name, or
 * NULL to detect (BOM, then UTF-8, then whatever the format allows).  A
 * charset given here wins over detection except for a BOM.  EAF ignores it:
 * XML declares its own encoding.
 */
int prl_annot_read_charset(enum prl_annot_format f, const char *data, size_t len,
			   const char *charset, struct prl_annot_doc **out, struct prl_buf *err,
			   struct prl_buf *warn);

/*
 * Reads the file at path.  EAF is streamed (memory grows with the
 * document, not the file); the text formats are mapped and parsed in
 * place.  Errors as prl_annot_read, plus -PRL_EIO when the file cannot be
 * read (err then names the reason).  charset as prl_annot_read_charset.
 */
int prl_annot_read_file(enum prl_annot_format f, const char *path, const char *charset,
			struct prl_annot_doc **out, struct prl_buf *err, struct prl_buf *warn);

/*
 * Writes doc in format f into out.  What the format cannot hold (a second
 * tier in SRT, hierarchy in TextGrid...) is reported in warn, one line
 * each, never dropped in silence.  opts may be NULL; see below.
 */
struct prl_annot_write_opts {
	const char *tier;      /* VTT/SRT: the tier to write (NULL: every top-level
				  transcription tier, merged in time order) */
	const char *media_url; /* EAF MEDIA_DESCRIPTOR / TEI, or NULL */
	const char *title;     /* TEI title, or NULL */
	int64_t duration_ms;   /* the recording's length, -1 when unknown */
};

int prl_annot_write(enum prl_annot_format f, const struct prl_annot_doc *doc,
		    const struct prl_annot_write_opts *opts, struct prl_buf *out,
		    struct prl_buf *warn);

/* As prl_annot_write, streamed into fp (which the caller opened and
 * closes) so a large document never sits twice in memory.  Returns 0,
 * -PRL_EIO when a write fails (-PRL_ENOSPC on a full disk), or what
 * prl_annot_write returns. */
int prl_annot_write_file(enum prl_annot_format f, const struct prl_annot_doc *doc,
			 const struct prl_annot_write_opts *opts, FILE *fp, struct prl_buf *warn);

/* Checks a document before it is stored: start <= end, times >= 0 and
 * (when duration_ms >= 0) <= duration_ms, parents in range, no overlap in a
 * tier that forbids it.  Returns 0 or -PRL_EINVAL with one line in err. */
int prl_annot_validate(const struct prl_annot_doc *d, int64_t duration_ms, struct prl_buf *err);

/* Text as stored: valid UTF-8 in NFC.  Returns a new string the caller
 * frees, or NULL when s is not valid UTF-8 or memory is exhausted. */
char *prl_annot_text_nfc(const char *s, size_t len);

#endif
