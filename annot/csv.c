/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * CSV, read and written: one row per segment, RFC 4180 quoting (fields
 * with a comma, quote, CR or LF are quoted, quotes doubled), CRLF line
 * ends, UTF-8 without BOM, a header row.  The columns (FORMATS.md says the
 * same):
 *
 *   tier_id         1-based tier number (tiers may share a name)
 *   tier            tier name
 *   start_ms        integer milliseconds
 *   end_ms          integer milliseconds (= start_ms for a point)
 *   text            the segment text, line breaks kept inside quotes
 *   speaker         the tier's participant, may be empty
 *   tier_type       transcription, translation, gloss, note, other...
 *   language        the tier's language code, may be empty
 *   parent_tier_id  tier_id of the parent tier, empty for none
 *   parent_segment  1-based segment number in the parent tier, empty for none
 *   point           1 when the tier holds points (Praat TextTier), else 0
 *   may_overlap     1 when the tier's segments may overlap (subtitle cues), else 0
 *   constraint      the tier's ELAN constraint (Time_Subdivision...), empty for none
 *
 * Reading needs tier (or tier_id), start_ms, end_ms and text in the
 * header, in any order; other known columns are optional, unknown ones are
 * ignored with a warning.  Tier attributes come from the first row of the
 * tier.  A tier with no segment has no row: writing says so.  Workload:
 * spreadsheets of a few thousand rows; one pass either way.
 */
#include <stdlib.h>
#include <string.h>

#include "annot-internal.h"

enum col {
	COL_TIER_ID,
	COL_TIER,
	COL_START,
	COL_END,
	COL_TEXT,
	COL_SPEAKER,
	COL_TYPE,
	COL_LANG,
	COL_PARENT_TIER,
	COL_PARENT_SEG,
	COL_POINT,
	COL_MAY_OVERLAP,
	COL_CONSTRAINT,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"tier_id", "tier",	  "start_ms",	"end_ms",	  "text",
	"speaker", "tier_type",	  "language",	"parent_tier_id", "parent_segment",
	"point",   "may_overlap", "constraint",
};

struct csv_reader {
	const char *s; /* UTF-8 text */
	size_t len;    /* its length */
	size_t pos;    /* next byte */
	size_t line;   /* line of pos */
};

/* One field into out; *end_row set when the row ends after it.  Returns
 * 0, or -1 at the end of input before any field. */
static int csv_field(struct csv_reader *r, struct prl_buf *out, int *end_row, struct prl_buf *err,
		     int *ret)
{
	prl_buf_reset(out);
	*ret = 0;
	*end_row = 0;
	if (r->pos >= r->len)
		return -1;
	if (r->s[r->pos] == '"') {
		size_t start_line = r->line;
		r->pos++;
		for (;;) {
			const char *q = memchr(r->s + r->pos, '"', r->len - r->pos);
			size_t n, i;
			if (!q) {
				*ret = annot_fail(err, PRL_EFORMAT,
						  "line %zu: a quoted field never "
						  "ends",
						  start_line);
				return 0;
			}
			n = (size_t)(q - (r->s + r->pos));
			for (i = 0; i < n; i++)
				r->line += r->s[r->pos + i] == '\n';
			if ((*ret = prl_buf_add(out, r->s + r->pos, n)) < 0)
				return 0;
			r->pos += n + 1;
			if (r->pos < r->len && r->s[r->pos] == '"') {
				if ((*ret = prl_buf_addch(out, '"')) < 0)
					return 0;
				r->pos++;
				continue;
			}
			break;
		}
		if (r->pos < r->len && r->s[r->pos] != ',' && r->s[r->pos] != '\n' &&
		    r->s[r->pos] != '\r') {
			*ret = annot_fail(err, PRL_EFORMAT, "line %zu: text after a closing quote",
					  r->line);
			return 0;
		}
	} else {
		size_t st = r->pos;
		while (r->pos < r->len && r->s[r->pos] != ',' && r->s[r->pos] != '\n' &&
		       r->s[r->pos] != '\r') {
			if (r->s[r->pos] == '"') {
				*ret = annot_fail(err, PRL_EFORMAT,
						  "line %zu: a quote inside an "
						  "unquoted field",
						  r->line);
				return 0;
			}
			r->pos++;
		}
		if ((*ret = prl_buf_add(out, r->s + st, r->pos - st)) < 0)
			return 0;
	}
	if (r->pos >= r->len) {
		*end_row = 1;
	} else if (r->s[r->pos] == ',') {
		r->pos++;
	} else {
		if (r->s[r->pos] == '\r')
			r->pos++;
		if (r->pos < r->len && r->s[r->pos] == '\n')
			r->pos++;
		r->line++;
		*end_row = 1;
	}
	return 0;
}

static int parse_int(const char *s, long long *v)
{
	char *end;

	if (!*s)
		return -1;
	*v = strtoll(s, &end, 10);
	return *end || *v < -(long long)1e15 || *v > (long long)1e15 ? -1 : 0;
}

/* What annot_csv_read keeps while it reads rows into a document. */
struct csv_rows {
	struct csv_reader r;
	struct prl_annot_doc *d;
	struct prl_buf *err;
	struct prl_buf *warn;
	struct prl_buf field;	    /* the field just read */
	struct prl_buf vals[NCOLS]; /* the row's fields, by known column */
	int map[64];		    /* column -> enum col, or -1 when not known */
	int ncols;		    /* columns in the header */
	int have[NCOLS];	    /* the header names the column */
	long long *tier_of_id;	    /* tier_id -> index + 1 (0: none yet) */
	size_t ntier_ids;	    /* slots in tier_of_id */
	long long *parent_id;	    /* per tier: its parent's tier_id, 0 for none */
};

/* The header row: which known column each field is. */
static int csv_read_header(struct csv_rows *c)
{
	int end_row, k, ret = 0;

	do {
		if (csv_field(&c->r, &c->field, &end_row, c->err, &ret) < 0 || ret < 0)
			break;
		if (c->ncols >= 64)
			return annot_fail(c->err, PRL_EFORMAT, "line 1: more than 64 columns");
		c->map[c->ncols] = -1;
		for (k = 0; k < NCOLS; k++)
			if (!strcmp(prl_buf_str(&c->field), col_names[k]))
				c->map[c->ncols] = k;
		if (c->map[c->ncols] < 0)
			annot_warn(c->warn, "line 1: column \"%.40s\" is not known and is ignored",
				   prl_buf_str(&c->field));
		else
			c->have[c->map[c->ncols]] = 1;
		c->ncols++;
	} while (!end_row);
	if (ret < 0)
		return ret;
	if ((!c->have[COL_TIER] && !c->have[COL_TIER_ID]) || !c->have[COL_START] ||
	    !c->have[COL_END] || !c->have[COL_TEXT])
		return annot_fail(c->err, PRL_EFORMAT,
				  "line 1: the header must name the columns tier, "
				  "start_ms, end_ms and text");
	return 0;
}

/* The fields of the row that starts on line into vals; there must be as
 * many as the header has. */
static int csv_read_fields(struct csv_rows *c, size_t line)
{
	int col = 0, end_row, k, ret = 0;

	for (k = 0; k < NCOLS; k++)
		prl_buf_reset(&c->vals[k]);
	do {
		if (csv_field(&c->r, &c->field, &end_row, c->err, &ret) < 0 || ret < 0)
			break;
		if (col < c->ncols && c->map[col] >= 0 &&
		    (ret = prl_buf_add(&c->vals[c->map[col]], prl_buf_str(&c->field),
				       c->field.len)) < 0)
			return ret;
		col++;
	} while (!end_row);
	if (ret < 0)
		return ret;
	if (col != c->ncols)
		return annot_fail(c->err, PRL_EFORMAT,
				  "line %zu: %d fields where the header has %d", line, col,
				  c->ncols);
	return 0;
}

/* A new tier from the row's tier columns (tid its tier_id, or 0).
 * Returns its index or a negative prl_err. */
static int csv_new_tier(struct csv_rows *c, size_t line, long long tid)
{
	struct prl_buf *vals = c->vals;
	struct prl_tier *t;
	long long *p;
	int failed = 0, idx;
	char *name = annot_strdup_nfc(prl_buf_str(&vals[COL_TIER]), vals[COL_TIER].len);

	if (!name)
		return -PRL_ENOMEM;
	idx = prl_annot_add_tier(
		c->d, name, vals[COL_TYPE].len ? prl_buf_str(&vals[COL_TYPE]) : "transcription");
	free(name);
	if (idx < 0)
		return idx;
	t = &c->d->tiers[idx];
	if (vals[COL_SPEAKER].len)
		t->participant = annot_strdup_nfc(vals[COL_SPEAKER].data, vals[COL_SPEAKER].len);
	if (vals[COL_LANG].len)
		t->language = annot_strdup_or_null(vals[COL_LANG].data, &failed);
	t->is_point = !strcmp(prl_buf_str(&vals[COL_POINT]), "1");
	t->may_overlap = !strcmp(prl_buf_str(&vals[COL_MAY_OVERLAP]), "1");
	if (vals[COL_CONSTRAINT].len) {
		int k = prl_annot_constraint_parse(prl_buf_str(&vals[COL_CONSTRAINT]));
		if (k < 0)
			return annot_fail(c->err, PRL_EFORMAT,
					  "line %zu: constraint \"%.40s\" is not one of ELAN's "
					  "(Time_Subdivision, Included_In, Symbolic_Subdivision, "
					  "Symbolic_Association)",
					  line, prl_buf_str(&vals[COL_CONSTRAINT]));
		t->constraint = (enum prl_constraint)k;
	}
	if ((vals[COL_SPEAKER].len && !t->participant) || failed ||
	    !(p = realloc(c->parent_id, c->d->ntiers * sizeof(*p))))
		return -PRL_ENOMEM;
	c->parent_id = p;
	c->parent_id[idx] = 0;
	if (vals[COL_PARENT_TIER].len &&
	    parse_int(prl_buf_str(&vals[COL_PARENT_TIER]), &c->parent_id[idx]) < 0)
		return annot_fail(c->err, PRL_EFORMAT, "line %zu: parent_tier_id must be a number",
				  line);
	if (tid) {
		if ((size_t)tid > c->ntier_ids) {
			if (!(p = realloc(c->tier_of_id, (size_t)tid * sizeof(*p))))
				return -PRL_ENOMEM;
			memset(p + c->ntier_ids, 0, ((size_t)tid - c->ntier_ids) * sizeof(*p));
			c->tier_of_id = p;
			c->ntier_ids = (size_t)tid;
		}
		c->tier_of_id[tid - 1] = idx + 1;
	}
	return idx;
}

/* The tier a row belongs to: by its tier_id tid, else (tid 0) by name;
 * made when there is none yet.  Returns its index or a negative prl_err. */
static int csv_row_tier(struct csv_rows *c, size_t line, long long tid)
{
	size_t i;
	int idx = -1;

	if (tid && (size_t)tid <= c->ntier_ids && c->tier_of_id[tid - 1])
		idx = (int)c->tier_of_id[tid - 1] - 1;
	if (!tid)
		for (i = 0; i < c->d->ntiers; i++)
			if (!strcmp(c->d->tiers[i].name, prl_buf_str(&c->vals[COL_TIER])))
				idx = (int)i;
	return idx >= 0 ? idx : csv_new_tier(c, line, tid);
}

/* One row: its numbers checked, then its segment added to its tier. */
static int csv_read_row(struct csv_rows *c)
{
	struct prl_buf *vals = c->vals;
	size_t line = c->r.line;
	long long st, en, tid = 0, pseg = 0;
	char *text;
	int idx, ret;

	if ((ret = csv_read_fields(c, line)) < 0)
		return ret;
	if (parse_int(prl_buf_str(&vals[COL_START]), &st) < 0 ||
	    parse_int(prl_buf_str(&vals[COL_END]), &en) < 0)
		return annot_fail(c->err, PRL_EFORMAT,
				  "line %zu: start_ms and end_ms must be whole "
				  "milliseconds",
				  line);
	if (en < st) /* kept as written; validation refuses it */
		annot_warn(c->warn, "line %zu: the segment ends before it starts", line);
	if (c->have[COL_TIER_ID] &&
	    (parse_int(prl_buf_str(&vals[COL_TIER_ID]), &tid) < 0 || tid < 1 || tid > 100000))
		return annot_fail(c->err, PRL_EFORMAT, "line %zu: tier_id must be a number from 1",
				  line);
	if (vals[COL_PARENT_SEG].len &&
	    (parse_int(prl_buf_str(&vals[COL_PARENT_SEG]), &pseg) < 0 || pseg < 1))
		return annot_fail(c->err, PRL_EFORMAT,
				  "line %zu: parent_segment must be a number "
				  "from 1",
				  line);
	if ((idx = csv_row_tier(c, line, tid)) < 0)
		return idx;
	if (!(text = annot_strdup_nfc(prl_buf_str(&vals[COL_TEXT]), vals[COL_TEXT].len)))
		return -PRL_ENOMEM;
	return annot_push_segment(&c->d->tiers[idx], st, en, text, (size_t)pseg);
}

/* Parents by tier_id, once every tier exists; then every parent_segment
 * must name a segment of the parent tier. */
static int csv_link_parents(struct csv_rows *c)
{
	const struct prl_annot_doc *d = c->d;
	size_t i, j;

	for (i = 0; i < d->ntiers; i++) {
		long long p = c->parent_id[i];
		if (!p)
			continue;
		if (p < 1 || (size_t)p > c->ntier_ids || !c->tier_of_id[p - 1] ||
		    c->tier_of_id[p - 1] == (long long)i + 1)
			return annot_fail(c->err, PRL_EFORMAT,
					  "tier \"%s\": parent_tier_id %lld names no "
					  "other tier",
					  d->tiers[i].name, p);
		d->tiers[i].parent = (size_t)c->tier_of_id[p - 1];
	}
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		for (j = 0; j < t->nsegs; j++)
			if (t->segs[j].parent &&
			    (!t->parent || t->segs[j].parent > d->tiers[t->parent - 1].nsegs))
				return annot_fail(c->err, PRL_EFORMAT,
						  "tier \"%s\" segment %zu: "
						  "parent_segment %zu does not exist",
						  t->name, j + 1, t->segs[j].parent);
	}
	return 0;
}

int annot_csv_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn)
{
	struct csv_rows c = {.r = {s, len, 0, 1}, .d = d, .err = err, .warn = warn};
	int k, ret;

	prl_buf_init(&c.field);
	for (k = 0; k < NCOLS; k++)
		prl_buf_init(&c.vals[k]);
	if ((ret = csv_read_header(&c)) < 0)
		goto end;
	while (c.r.pos < c.r.len) {
		/* a blank line (the last CRLF, say) is no row */
		if (s[c.r.pos] == '\n' || s[c.r.pos] == '\r') {
			int crlf =
				s[c.r.pos] == '\r' && c.r.pos + 1 < len && s[c.r.pos + 1] == '\n';
			c.r.pos += crlf ? 2 : 1;
			c.r.line++;
			continue;
		}
		if ((ret = csv_read_row(&c)) < 0)
			goto end;
	}
	if ((ret = csv_link_parents(&c)) == 0)
		ret = annot_parents_first(d, warn);
end:
	for (k = 0; k < NCOLS; k++)
		prl_buf_release(&c.vals[k]);
	prl_buf_release(&c.field);
	free(c.tier_of_id);
	free(c.parent_id);
	return ret;
}

static int put_field(struct prl_buf *b, const char *s)
{
	int ret;

	if (!s)
		return 0;
	if (!strpbrk(s, ",\"\r\n"))
		return prl_buf_addstr(b, s);
	if ((ret = prl_buf_addch(b, '"')) < 0)
		return ret;
	for (; *s; s++)
		if ((*s == '"' && (ret = prl_buf_addch(b, '"')) < 0) ||
		    (ret = prl_buf_addch(b, *s)) < 0)
			return ret;
	return prl_buf_addch(b, '"');
}

int annot_csv_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *sk, struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	size_t i, j;
	int k, ret;

	for (k = 0; k < NCOLS; k++)
		if ((ret = prl_buf_addstr(b, col_names[k])) < 0 ||
		    (ret = prl_buf_addstr(b, k + 1 < NCOLS ? "," : "\r\n")) < 0)
			return ret;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if (!t->nsegs)
			annot_warn(warn, "CSV: tier \"%s\" has no segment and so no row", t->name);
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			if ((ret = prl_buf_addf(b, "%zu,", i + 1)) < 0 ||
			    (ret = put_field(b, t->name)) < 0 ||
			    (ret = prl_buf_addf(b, ",%lld,%lld,", (long long)s->start_ms,
						(long long)s->end_ms)) < 0 ||
			    (ret = put_field(b, s->text)) < 0 ||
			    (ret = prl_buf_addch(b, ',')) < 0 ||
			    (ret = put_field(b, t->participant)) < 0 ||
			    (ret = prl_buf_addch(b, ',')) < 0 ||
			    (ret = put_field(b, t->type)) < 0 ||
			    (ret = prl_buf_addch(b, ',')) < 0 ||
			    (ret = put_field(b, t->language)) < 0 ||
			    (ret = prl_buf_addch(b, ',')) < 0)
				return ret;
			if (t->parent && (ret = prl_buf_addf(b, "%zu", t->parent)) < 0)
				return ret;
			if ((ret = prl_buf_addch(b, ',')) < 0)
				return ret;
			if (s->parent && (ret = prl_buf_addf(b, "%zu", s->parent)) < 0)
				return ret;
			if ((ret = prl_buf_addf(b, ",%d,%d,", t->is_point ? 1 : 0,
						t->may_overlap ? 1 : 0)) < 0 ||
			    (ret = put_field(b, prl_annot_constraint_name(t->constraint))) < 0 ||
			    (ret = prl_buf_addstr(b, "\r\n")) < 0 ||
			    (ret = annot_sink_maybe_flush(sk)) < 0)
				return ret;
		}
	}
	annot_warn_lost(d, "CSV", 1, warn);
	(void)o;
	return 0;
}
