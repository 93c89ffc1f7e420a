/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Praat TextGrid, read and written.  Praat reads its long ("xmin = 0")
 * and short (bare values) text formats with one tokenizer that looks for
 * the next number, string or <enum> and skips every other word, so labels
 * are decoration; this file does the same, with Praat's rules for strings
 * ("" is a quote; a closing quote must be followed by white space or the
 * end) and its "!" comments.  The chronological and binary variants are
 * recognised and refused with a message that says so.  Output is the long
 * format in UTF-8, which every Praat since 4.x reads.
 *
 * What always holds: a tier read here has its intervals in time order with
 * no overlap and no interval running backwards (each is an error naming
 * the line); declared sizes are checked against the bytes left before
 * anything is allocated.  Workload: up to millions of intervals; the
 * reader makes one pass over the text and copies each label once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annot-internal.h"

struct tg_reader {
	const char *s;	     /* the text, UTF-8 */
	size_t len;	     /* its length */
	size_t pos;	     /* next byte */
	size_t line;	     /* line of the next byte, 1-based */
	size_t tok_line;     /* line where the last token started */
	int release;	     /* s is a file mapping to hand back as we go */
	size_t released;     /* bytes of s handed back so far */
	struct prl_buf str;  /* the last string read */
	struct prl_buf *err; /* where the one error line goes */
};

enum tg_want { WANT_NUMBER, WANT_STRING, WANT_ENUM };

static const char *const want_names[] = {"a number", "a string", "an <enumerated> value"};

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The next byte, or -1 at the end; keeps the line count. */
static int next_char(struct tg_reader *r)
{
	int c;

	if (r->pos >= r->len)
		return -1;
	c = (unsigned char)r->s[r->pos++];
	if (c == '\n' || (c == '\r' && (r->pos >= r->len || r->s[r->pos] != '\n')))
		r->line++;
	return c;
}

/* Moves to the first character of the next token of kind want, the way
 * Praat does: words that cannot start that token are skipped whole, a
 * token of another kind is an error.  Returns that first character. */
static int seek_token(struct tg_reader *r, enum tg_want want)
{
	int c;

	for (;;) {
		size_t line = r->line;
		c = next_char(r);
		if (c < 0)
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: early end of text while "
					  "looking for %s",
					  line, want_names[want]);
		if (c == 0)
			return annot_fail(r->err, PRL_EFORMAT, "line %zu: NUL byte in the text",
					  line);
		if (is_space(c))
			continue;
		if (c == '!') {
			while ((c = next_char(r)) >= 0 && c != '\n' && c != '\r')
				;
			continue;
		}
		r->tok_line = line;
		if (c == '"') {
			if (want == WANT_STRING)
				return c;
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: found a string while "
					  "looking for %s",
					  line, want_names[want]);
		}
		if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
			if (want == WANT_NUMBER)
				return c;
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: found a number while "
					  "looking for %s",
					  line, want_names[want]);
		}
		if (c == '<') {
			if (want == WANT_ENUM)
				return c;
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: found an <enumerated> "
					  "value while looking for %s",
					  line, want_names[want]);
		}
		/* a label such as "xmin", "=", "item", "[1]:" */
		while (r->pos < r->len && !is_space((unsigned char)r->s[r->pos]))
			r->pos++;
	}
}

/* A bare token (number) of at most 40 bytes into tok. */
static int read_word(struct tg_reader *r, int first, char *tok, const char *what)
{
	size_t n = 0, line = r->line;
	int c = first;

	for (;;) {
		if (c >= 0x80 || n >= 40)
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: strange text while reading "
					  "%s",
					  line, what);
		tok[n++] = (char)c;
		if (r->pos >= r->len || is_space((unsigned char)r->s[r->pos]))
			break;
		c = next_char(r);
		if (c == 0)
			return annot_fail(r->err, PRL_EFORMAT, "line %zu: NUL byte in the text",
					  line);
	}
	tok[n] = '\0';
	return 0;
}

static int read_real(struct tg_reader *r, double *out)
{
	char tok[48], *end, *slash;
	double v, den;
	int c, ret;

	if ((c = seek_token(r, WANT_NUMBER)) < 0)
		return c;
	if ((ret = read_word(r, c, tok, "a number")) < 0)
		return ret;
	if ((slash = strchr(tok, '/'))) {
		*slash = '\0';
		v = strtod(tok, &end);
		if (*end)
			goto bad;
		den = strtod(slash + 1, &end);
		if (*end || den == 0.0)
			goto bad;
		v /= den;
	} else {
		v = strtod(tok, &end);
		if (*end)
			goto bad;
	}
	if (!isfinite(v) || fabs(v) > 1e12)
		goto bad;
	*out = v;
	return 0;
bad:
	if (slash)
		*slash = '/';
	return annot_fail(r->err, PRL_EFORMAT, "line %zu: \"%s\" is not a usable number", r->line,
			  tok);
}

static int read_count(struct tg_reader *r, long long *out, const char *what)
{
	char tok[48], *end;
	long long v;
	int c, ret;

	if ((c = seek_token(r, WANT_NUMBER)) < 0)
		return c;
	if ((ret = read_word(r, c, tok, what)) < 0)
		return ret;
	v = strtoll(tok, &end, 10);
	if (*end || v < 0)
		return annot_fail(r->err, PRL_EFORMAT, "line %zu: \"%s\" is not a valid %s",
				  r->line, tok, what);
	*out = v;
	return 0;
}

/* A quoted string into r->str (without the quotes, "" undoubled). */
static int read_string(struct tg_reader *r)
{
	size_t start_line;
	int c, ret;

	if ((c = seek_token(r, WANT_STRING)) < 0)
		return c;
	prl_buf_reset(&r->str);
	start_line = r->line;
	for (;;) {
		/* copy the run up to the next quote in one go */
		const char *q = memchr(r->s + r->pos, '"', r->len - r->pos);
		size_t run = q ? (size_t)(q - (r->s + r->pos)) : r->len - r->pos;
		size_t i;
		for (i = 0; i < run; i++) {
			char ch = r->s[r->pos + i];
			if (ch == '\n' || (ch == '\r' && (r->pos + i + 1 >= r->len ||
							  r->s[r->pos + i + 1] != '\n')))
				r->line++;
			else if (ch == '\0')
				return annot_fail(r->err, PRL_EFORMAT,
						  "line %zu: NUL byte inside a string", r->line);
		}
		if ((ret = prl_buf_add(&r->str, r->s + r->pos, run)) < 0)
			return ret;
		r->pos += run;
		if (!q)
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: early end of text while "
					  "reading a string (it opened on line %zu)",
					  r->line, start_line);
		r->pos++; /* the quote */
		if (r->pos >= r->len)
			return 0;
		c = (unsigned char)r->s[r->pos];
		if (c == '"') {
			r->pos++;
			if ((ret = prl_buf_addch(&r->str, '"')) < 0)
				return ret;
			continue;
		}
		if (is_space(c))
			return 0;
		{
			/* name the whole character, not its first byte */
			size_t n = 1;
			while (r->pos + n < r->len &&
			       ((unsigned char)r->s[r->pos + n] & 0xc0) == 0x80)
				n++;
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: character '%.*s' following "
					  "a closing quote: end of string or undoubled quote?",
					  r->line, (int)n, r->s + r->pos);
		}
	}
}

static int read_enum(struct tg_reader *r, char *tok, size_t size)
{
	size_t n = 0, line;
	int c;

	if ((c = seek_token(r, WANT_ENUM)) < 0)
		return c;
	line = r->line;
	for (;;) {
		c = next_char(r);
		if (c < 0)
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: early end of text in an "
					  "<enumerated> value",
					  line);
		if (c == '>')
			break;
		if ((is_space(c) && c != ' ') || n + 1 >= size)
			return annot_fail(r->err, PRL_EFORMAT, "line %zu: no matching '>'", line);
		tok[n++] = (char)c;
	}
	tok[n] = '\0';
	return 0;
}

static char *take_string(struct tg_reader *r)
{
	return annot_strdup_nfc(r->str.data ? r->str.data : "", r->str.len);
}

/* Each interval or point needs a few bytes of text: a declared count that
 * the remaining bytes cannot hold is a lie, caught before allocating. */
static int check_count(struct tg_reader *r, long long n, size_t per_item, const char *what)
{
	if ((unsigned long long)n > (r->len - r->pos) / per_item + 1)
		return annot_fail(r->err, PRL_EFORMAT,
				  "line %zu: %s declares %lld items but the "
				  "file is too short to hold them",
				  r->line, what, n);
	return 0;
}

static int read_tier(struct tg_reader *r, struct prl_annot_doc *d, int is_point)
{
	struct prl_tier *t;
	double xmin, xmax, a, b;
	long long n, i;
	size_t line;
	char *name, *text;
	int idx, ret;

	if ((ret = read_string(r)) < 0)
		return ret;
	if (!(name = take_string(r)))
		return -PRL_ENOMEM;
	idx = prl_annot_add_tier(d, name, "transcription");
	free(name);
	if (idx < 0)
		return idx;
	t = &d->tiers[idx];
	t->is_point = is_point ? 1 : 0;
	if ((ret = read_real(r, &xmin)) < 0 || (ret = read_real(r, &xmax)) < 0)
		return ret;
	if ((ret = read_count(r, &n, "size")) < 0 ||
	    (ret = check_count(r, n, is_point ? 4 : 6, "the tier")) < 0)
		return ret;
	if (n > 0) {
		if (!(t->segs = malloc((size_t)n * sizeof(*t->segs))))
			return -PRL_ENOMEM;
		t->alloc_segs = (size_t)n;
	}
	for (i = 0; i < n; i++) {
		int64_t s_ms, e_ms;

		if ((ret = read_real(r, &a)) < 0)
			return ret;
		line = r->tok_line;
		if (!is_point && (ret = read_real(r, &b)) < 0)
			return ret;
		if (is_point)
			b = a;
		if ((ret = read_string(r)) < 0)
			return ret;
		s_ms = annot_sec_to_ms(a);
		e_ms = annot_sec_to_ms(b);
		if (b < a)
			return annot_fail(r->err, PRL_EFORMAT,
					  "line %zu: interval %lld of tier \"%s\" "
					  "ends (%.17g) before it starts (%.17g)",
					  line, i + 1, t->name, b, a);
		if (t->nsegs) {
			const struct prl_segment *p = &t->segs[t->nsegs - 1];
			/* compared in ms: Praat files carry float jitter (1372.6225001
			 * after 1372.6225) that is no overlap at all */
			if (!is_point && s_ms < p->end_ms)
				return annot_fail(r->err, PRL_EFORMAT,
						  "line %zu: interval %lld of tier "
						  "\"%s\" starts (%.17g) before the previous one "
						  "ends",
						  line, i + 1, t->name, a);
			if (is_point && s_ms < p->start_ms)
				return annot_fail(r->err, PRL_EFORMAT,
						  "line %zu: point %lld of tier "
						  "\"%s\" (%.17g) is before the previous point",
						  line, i + 1, t->name, a);
		}
		if (!(text = take_string(r)))
			return -PRL_ENOMEM;
		if ((ret = annot_push_segment(t, s_ms, e_ms, text, 0)) < 0)
			return ret;
		if (r->release && r->pos - r->released > (8u << 20)) {
			annot_release_pages(r->s + r->released, r->s + r->pos);
			r->released = r->pos;
		}
	}
	(void)xmin;
	(void)xmax;
	return 0;
}

static int read_textgrid(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
			 struct prl_buf *warn, int release_pages)
{
	struct tg_reader r = {s, len, 0, 1, 1, release_pages, 0, PRL_BUF_INIT, err};
	double xmin, xmax;
	long long ntiers, i;
	char tok[32];
	int ret;

	if (len >= 12 && !memcmp(s, "ooBinaryFile", 12)) {
		ret = annot_fail(err, PRL_EUNSUPPORTED,
				 "line 1: this is a binary TextGrid "
				 "(ooBinaryFile); open it in Praat and save it as a text file");
		goto end;
	}
	if ((ret = read_string(&r)) < 0)
		goto end;
	if (!strcmp(prl_buf_str(&r.str), "Praat chronological TextGrid text file")) {
		ret = annot_fail(err, PRL_EUNSUPPORTED,
				 "line 1: this is a chronological "
				 "TextGrid; open it in Praat and save it as a text file");
		goto end;
	}
	if (strcmp(prl_buf_str(&r.str), "ooTextFile") &&
	    strcmp(prl_buf_str(&r.str), "ooTextFile short")) {
		ret = annot_fail(err, PRL_EFORMAT,
				 "line %zu: not a Praat text file (file type "
				 "\"%.40s\")",
				 r.line, prl_buf_str(&r.str));
		goto end;
	}
	if ((ret = read_string(&r)) < 0)
		goto end;
	if (strcmp(prl_buf_str(&r.str), "TextGrid")) {
		ret = annot_fail(err, PRL_EFORMAT,
				 "line %zu: object class \"%.40s\" is not a "
				 "TextGrid",
				 r.line, prl_buf_str(&r.str));
		goto end;
	}
	if ((ret = read_real(&r, &xmin)) < 0 || (ret = read_real(&r, &xmax)) < 0)
		goto end;
	if (xmax < xmin) {
		ret = annot_fail(err, PRL_EFORMAT,
				 "line %zu: the TextGrid ends (%.17g) before it "
				 "starts (%.17g)",
				 r.line, xmax, xmin);
		goto end;
	}
	d->xmin_ms = annot_sec_to_ms(xmin);
	d->xmax_ms = annot_sec_to_ms(xmax);
	if ((ret = read_enum(&r, tok, sizeof(tok))) < 0)
		goto end;
	if (!strcmp(tok, "absent"))
		goto end;
	if (strcmp(tok, "exists")) {
		ret = annot_fail(err, PRL_EFORMAT,
				 "line %zu: <%s> where <exists> or <absent> was "
				 "expected",
				 r.line, tok);
		goto end;
	}
	if ((ret = read_count(&r, &ntiers, "tier count")) < 0 ||
	    (ret = check_count(&r, ntiers, 30, "the TextGrid")) < 0)
		goto end;
	for (i = 0; i < ntiers; i++) {
		if ((ret = read_string(&r)) < 0)
			goto end;
		if (!strcmp(prl_buf_str(&r.str), "IntervalTier")) {
			ret = read_tier(&r, d, 0);
		} else if (!strcmp(prl_buf_str(&r.str), "TextTier")) {
			ret = read_tier(&r, d, 1);
		} else {
			ret = annot_fail(err, PRL_EFORMAT,
					 "line %zu: tier class \"%.40s\" is neither "
					 "IntervalTier nor TextTier",
					 r.line, prl_buf_str(&r.str));
		}
		if (ret < 0)
			goto end;
	}
	(void)warn;
end:
	prl_buf_release(&r.str);
	return ret;
}

int annot_textgrid_read(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
			struct prl_buf *warn)
{
	return read_textgrid(s, len, d, err, warn, 0);
}

int annot_textgrid_read_mapped(const char *s, size_t len, struct prl_annot_doc *d,
			       struct prl_buf *err, struct prl_buf *warn)
{
	return read_textgrid(s, len, d, err, warn, 1);
}

/* ---- writer ---------------------------------------------------------- */

/* Seconds from ms, exactly: "1.5", "0.012", "-0.25", "3". */
static int put_seconds(struct prl_buf *b, int64_t ms)
{
	char frac[8];
	int64_t a = ms < 0 ? -ms : ms;
	int n;

	if (a % 1000 == 0)
		return prl_buf_addf(b, "%s%lld", ms < 0 ? "-" : "", (long long)(a / 1000));
	n = snprintf(frac, sizeof(frac), "%03d", (int)(a % 1000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return prl_buf_addf(b, "%s%lld.%s", ms < 0 ? "-" : "", (long long)(a / 1000), frac);
}

static int put_string(struct prl_buf *b, const char *s)
{
	const char *q;
	int ret = prl_buf_addch(b, '"');

	while (ret >= 0 && (q = strchr(s, '"'))) {
		if ((ret = prl_buf_add(b, s, (size_t)(q - s) + 1)) < 0)
			return ret;
		ret = prl_buf_addch(b, '"');
		s = q + 1;
	}
	if (ret >= 0)
		ret = prl_buf_addstr(b, s);
	if (ret >= 0)
		ret = prl_buf_addch(b, '"');
	return ret;
}

static const struct prl_segment *order_base;

static int seg_by_time(const void *a, const void *b)
{
	const struct prl_segment *x = &order_base[*(const size_t *)a];
	const struct prl_segment *y = &order_base[*(const size_t *)b];

	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	if (x->end_ms != y->end_ms)
		return x->end_ms < y->end_ms ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* One interval line group. */
static int put_interval(struct prl_buf *b, size_t k, int64_t s, int64_t e, const char *text)
{
	int ret;

	if ((ret = prl_buf_addf(b, "        intervals [%zu]:\n            xmin = ", k)) < 0 ||
	    (ret = put_seconds(b, s)) < 0 ||
	    (ret = prl_buf_addstr(b, " \n            xmax = ")) < 0 ||
	    (ret = put_seconds(b, e)) < 0 ||
	    (ret = prl_buf_addstr(b, " \n            text = ")) < 0 ||
	    (ret = put_string(b, text)) < 0)
		return ret;
	return prl_buf_addstr(b, " \n");
}

/*
 * An interval tier must tile its domain: gaps become empty intervals (an
 * empty interval is how Praat says "nothing here", so nothing is lost);
 * overlapping segments cannot be held and are trimmed or left out, with a
 * warning that counts them.  Runs twice: once to count, once to write.
 */
static int put_interval_tier(struct annot_sink *sk, const struct prl_tier *t, const size_t *idx,
			     int64_t xmin, int64_t xmax, int count_only, size_t *count,
			     size_t *trimmed, size_t *dropped)
{
	struct prl_buf *b = sk->b;
	int64_t cur = xmin;
	size_t i, k = 0;
	int ret = 0;

	for (i = 0; i < t->nsegs; i++) {
		const struct prl_segment *s = &t->segs[idx[i]];
		int64_t st = s->start_ms, en = s->end_ms;
		if (en < st)
			en = st;
		if (st < cur) {
			if (en <= cur) {
				(*dropped)++;
				continue;
			}
			st = cur;
			(*trimmed)++;
		}
		if (en == st) {
			/* Praat cannot hold an interval of no duration */
			(*dropped)++;
			continue;
		}
		if (st > cur) {
			k++;
			if (!count_only && (ret = put_interval(b, k, cur, st, "")) < 0)
				return ret;
		}
		k++;
		if (!count_only) {
			if ((ret = put_interval(b, k, st, en, s->text)) < 0 ||
			    (ret = annot_sink_maybe_flush(sk)) < 0)
				return ret;
		}
		cur = en;
	}
	if (cur < xmax || k == 0) {
		k++;
		if (!count_only && (ret = put_interval(b, k, cur, xmax > cur ? xmax : cur, "")) < 0)
			return ret;
	}
	*count = k;
	return ret;
}

/* The points of a TextTier, in time order (idx); a segment with an end
 * loses it, with a warning. */
static int put_point_tier(struct annot_sink *sk, const struct prl_tier *t, const size_t *idx,
			  struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	size_t j, dropped = 0;
	int ret;

	if ((ret = prl_buf_addf(b, " \n        points: size = %zu \n", t->nsegs)) < 0)
		return ret;
	for (j = 0; j < t->nsegs; j++) {
		const struct prl_segment *s = &t->segs[idx[j]];
		if ((ret = prl_buf_addf(b, "        points [%zu]:\n            number = ", j + 1)) <
			    0 ||
		    (ret = put_seconds(b, s->start_ms)) < 0 ||
		    (ret = prl_buf_addstr(b, " \n            mark = ")) < 0 ||
		    (ret = put_string(b, s->text)) < 0 || (ret = prl_buf_addstr(b, " \n")) < 0 ||
		    (ret = annot_sink_maybe_flush(sk)) < 0)
			return ret;
		if (s->end_ms != s->start_ms)
			dropped++;
	}
	if (dropped)
		annot_warn(warn, "TextGrid: point tier \"%s\": %zu segments lose their end time",
			   t->name, dropped);
	return 0;
}

int annot_textgrid_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
			 struct annot_sink *sk, struct prl_buf *warn)
{
	struct prl_buf *b = sk->b;
	int64_t xmin = d->xmin_ms, xmax = d->xmax_ms;
	size_t i, j, *idx = NULL, cap = 0;
	int ret = 0;

	for (i = 0; i < d->ntiers; i++)
		for (j = 0; j < d->tiers[i].nsegs; j++) {
			const struct prl_segment *s = &d->tiers[i].segs[j];
			if (s->start_ms < xmin)
				xmin = s->start_ms;
			if (s->end_ms > xmax)
				xmax = s->end_ms;
		}
	if (o->duration_ms > xmax)
		xmax = o->duration_ms;
	if (xmax <= xmin)
		xmax = xmin + 1; /* Praat refuses an empty time domain */
	annot_warn_lost(d, "TextGrid", 0, warn);
	if ((ret = prl_buf_addstr(b, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n"
				     "xmin = ")) < 0 ||
	    (ret = put_seconds(b, xmin)) < 0 || (ret = prl_buf_addstr(b, " \nxmax = ")) < 0 ||
	    (ret = put_seconds(b, xmax)) < 0 ||
	    (ret = prl_buf_addf(b, " \ntiers? <exists> \nsize = %zu \nitem []: \n", d->ntiers)) < 0)
		goto end;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		size_t count = 0, trimmed = 0, dropped = 0;

		if (t->participant && t->participant[0])
			annot_warn(warn,
				   "TextGrid: tier \"%s\": its speaker \"%s\" is not kept (a "
				   "TextGrid tier has only a name)",
				   t->name, t->participant);
		if (t->nsegs > cap) {
			free(idx);
			cap = t->nsegs;
			if (!(idx = malloc(cap * sizeof(*idx)))) {
				ret = -PRL_ENOMEM;
				goto end;
			}
		}
		for (j = 0; j < t->nsegs; j++)
			idx[j] = j;
		order_base = t->segs;
		if (t->nsegs > 1)
			for (j = 1; j < t->nsegs; j++)
				if (t->segs[j].start_ms < t->segs[j - 1].start_ms) {
					qsort(idx, t->nsegs, sizeof(*idx), seg_by_time);
					break;
				}
		if ((ret = prl_buf_addf(
			     b, "    item [%zu]:\n        class = \"%s\" \n        name = ", i + 1,
			     t->is_point ? "TextTier" : "IntervalTier")) < 0 ||
		    (ret = put_string(b, t->name)) < 0 ||
		    (ret = prl_buf_addstr(b, " \n        xmin = ")) < 0 ||
		    (ret = put_seconds(b, xmin)) < 0 ||
		    (ret = prl_buf_addstr(b, " \n        xmax = ")) < 0 ||
		    (ret = put_seconds(b, xmax)) < 0)
			goto end;
		if (t->is_point) {
			if ((ret = put_point_tier(sk, t, idx, warn)) < 0)
				goto end;
			continue;
		}
		if ((ret = put_interval_tier(sk, t, idx, xmin, xmax, 1, &count, &trimmed,
					     &dropped)) < 0)
			goto end;
		if ((ret = prl_buf_addf(b, " \n        intervals: size = %zu \n", count)) < 0)
			goto end;
		trimmed = dropped = 0;
		if ((ret = put_interval_tier(sk, t, idx, xmin, xmax, 0, &count, &trimmed,
					     &dropped)) < 0)
			goto end;
		if (trimmed || dropped)
			annot_warn(
				warn,
				"TextGrid: tier \"%s\" has overlapping or zero-length "
				"segments, which a TextGrid interval tier cannot hold: %zu start "
				"later, %zu left out",
				t->name, trimmed, dropped);
	}
end:
	free(idx);
	return ret;
}
