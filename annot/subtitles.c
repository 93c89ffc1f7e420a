/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * WebVTT and SubRip (SRT), read and written.  WebVTT is read with the
 * W3C parsing algorithm (signature, header block, blocks of at most one
 * cue, a cue whose timings do not parse is dropped — each one named in a
 * warning), so a file gives the cues a browser would show.  Cue markup is
 * stripped to plain text; the first <v Speaker> of a cue says whose it is,
 * and each speaker gets a tier of their own.  SRT is read strictly: a
 * timing line that does not parse is an error naming the line, except
 * that a '.' before the milliseconds is accepted with a warning (most
 * players do).  Both write the tier asked for, else every top-level
 * transcription tier merged in time order (WebVTT voices each cue with its
 * tier's speaker, so a dialogue comes back as the tiers it was), and say
 * in a warning what was left out.
 *
 * What always holds: tiers read from subtitles are marked may_overlap
 * (cues overlap freely); texts are NFC.  Workload: files of a few thousand
 * cues, read in one pass after line endings are normalised.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annot-internal.h"

/* CRLF and CR become LF; NUL becomes U+FFFD when nul_to_fffd, as the
 * WebVTT preprocessing step says (SRT leaves NUL for the parser to
 * refuse). */
static int normalise_newlines(const char *s, size_t len, int nul_to_fffd, struct prl_buf *out)
{
	size_t i;
	int ret;

	if ((ret = prl_buf_grow(out, len + 1)) < 0)
		return ret;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\r') {
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
			c = '\n';
		} else if (c == '\0' && nul_to_fffd) {
			if ((ret = prl_buf_add(out, "\xef\xbf\xbd", 3)) < 0)
				return ret;
			continue;
		}
		if (out->len + 1 >= out->alloc && (ret = prl_buf_grow(out, 1)) < 0)
			return ret;
		out->data[out->len++] = c;
	}
	if ((ret = prl_buf_grow(out, 0)) < 0)
		return ret;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- cue text -------------------------------------------------------- */

struct cue_text {
	struct prl_buf text;  /* plain text being built */
	struct prl_buf voice; /* the first voice of the cue */
	int have_voice;	      /* voice is set */
	int voices_mixed;     /* a second, different voice appeared */
	int tags;	      /* markup was removed */
};

static const struct {
	const char *name;
	const char *utf8;
} entities[] = {
	{"amp", "&"},
	{"lt", "<"},
	{"gt", ">"},
	{"quot", "\""},
	{"apos", "'"},
	{"nbsp", "\xc2\xa0"},
	{"lrm", "\xe2\x80\x8e"},
	{"rlm", "\xe2\x80\x8f"},
};

/* strtoul skips white space and takes a sign: a reference starts with a
 * digit. */
static int vtt_digit_or_hex(char c, int hex)
{
	return (c >= '0' && c <= '9') ||
	       (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

/* A numeric character reference: what is no character (NUL, a
 * surrogate, past U+10FFFF) becomes U+FFFD. */
static int put_codepoint(struct prl_buf *b, unsigned long c)
{
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	return prl_buf_add_utf8(b, (uint32_t)c);
}

/* A character reference at s (after '&') into b (NULL: only measured);
 * returns the bytes it takes, or 0 when there is none. */
static size_t put_entity(struct prl_buf *b, const char *s, size_t len)
{
	size_t i, n;
	char *end;
	unsigned long c;

	if (len > 1 && s[0] == '#') {
		int hex = s[1] == 'x' || s[1] == 'X';
		c = strtoul(s + 1 + hex, &end, hex ? 16 : 10);
		n = (size_t)(end - s);
		if (end == s + 1 + hex || n >= len || *end != ';' ||
		    !vtt_digit_or_hex(s[1 + hex], hex))
			return 0;
		if (b)
			put_codepoint(b, c);
		return n + 1;
	}
	for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		n = strlen(entities[i].name);
		if (n < len && !memcmp(s, entities[i].name, n) && s[n] == ';') {
			if (b)
				prl_buf_addstr(b, entities[i].utf8);
			return n + 1;
		}
	}
	return 0;
}

/* Cue text (WebVTT markup) to plain text and a voice. */
static int cue_text_parse(struct cue_text *ct, const char *s, size_t len)
{
	size_t i = 0, n;
	int ret = 0;

	while (i < len && ret >= 0) {
		char c = s[i];
		if (c == '&' && (n = put_entity(&ct->text, s + i + 1, len - i - 1))) {
			i += n + 1;
			continue;
		}
		if (c != '<') {
			ret = prl_buf_addch(&ct->text, c);
			i++;
			continue;
		}
		{
			const char *gt = memchr(s + i, '>', len - i);
			size_t tl = gt ? (size_t)(gt - (s + i)) + 1 : len - i;
			const char *tag = s + i + 1;
			ct->tags = 1;
			if (tl > 2 && tag[0] == 'v' &&
			    (tag[1] == ' ' || tag[1] == '\t' || tag[1] == '.' || tag[1] == '>')) {
				/* <v.class Name>: the annotation after the white space */
				const char *a = tag + 1, *e = s + i + tl - (gt ? 1 : 0);
				while (a < e && *a != ' ' && *a != '\t')
					a++;
				while (a < e && (*a == ' ' || *a == '\t'))
					a++;
				while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
					e--;
				if (e > a) {
					if (!ct->have_voice) {
						ret = prl_buf_add(&ct->voice, a, (size_t)(e - a));
						ct->have_voice = 1;
					} else if ((size_t)(e - a) != ct->voice.len ||
						   memcmp(a, ct->voice.data, ct->voice.len)) {
						/* keep who says what inside the one segment */
						ct->voices_mixed = 1;
						if (ret >= 0)
							ret = prl_buf_add(&ct->text, a,
									  (size_t)(e - a));
						if (ret >= 0)
							ret = prl_buf_addstr(&ct->text, ": ");
						/* "<v B> text": one space after the colon */
						while (i + tl < len && s[i + tl] == ' ')
							tl++;
					}
				}
			}
			i += tl;
		}
	}
	return ret;
}

/* Trailing white space and newlines go (a stray " " line ends many
 * YouTube cues); leading spaces stay, they may be meant. */
static void trim_right(struct prl_buf *b)
{
	while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n' ||
			  b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

/* The tier for voice (NULL: the tier of cues without one). */
static int voice_tier(struct prl_annot_doc *d, const char *voice)
{
	size_t i;
	int idx, failed = 0;

	for (i = 0; i < d->ntiers; i++) {
		const char *p = d->tiers[i].participant;
		if ((!voice && !p) || (voice && p && !strcmp(voice, p)))
			return (int)i;
	}
	idx = prl_annot_add_tier(d, voice ? voice : "transcription", "transcription");
	if (idx < 0)
		return idx;
	d->tiers[idx].may_overlap = 1;
	d->tiers[idx].participant = annot_strdup_or_null(voice, &failed);
	return failed ? -PRL_ENOMEM : idx;
}

static int add_cue(struct prl_annot_doc *d, int64_t start, int64_t end, const char *id,
		   size_t idlen, const char *raw, size_t rawlen, int markup, size_t line,
		   size_t *mixed, size_t *tagged, struct prl_buf *warn)
{
	struct cue_text ct = {PRL_BUF_INIT, PRL_BUF_INIT, 0, 0, 0};
	struct prl_tier *t;
	char *text = NULL, *voice = NULL;
	int idx, ret;

	if (markup)
		ret = cue_text_parse(&ct, raw, rawlen);
	else
		ret = prl_buf_add(&ct.text, raw, rawlen);
	if (ret < 0)
		goto end;
	trim_right(&ct.text);
	if (!prl_utf8_valid(prl_buf_str(&ct.text), ct.text.len)) {
		/* a numeric reference to a lone byte cannot happen; this guards
		 * the invariant anyway */
		ret = annot_fail(NULL, PRL_EFORMAT, "bad text");
		goto end;
	}
	if (!(text = annot_strdup_nfc(prl_buf_str(&ct.text), ct.text.len))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if (ct.have_voice && !(voice = annot_strdup_nfc(ct.voice.data, ct.voice.len))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if ((idx = voice_tier(d, voice)) < 0) {
		ret = idx;
		goto end;
	}
	t = &d->tiers[idx];
	if (end < start)
		annot_warn(warn, "line %zu: cue ends before it starts (kept as written)", line);
	ret = annot_push_segment(t, start, end, text, 0);
	text = NULL;
	if (ret < 0)
		goto end;
	if (idlen && !(t->segs[t->nsegs - 1].ext_id = annot_strdup_nfc(id, idlen))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	*mixed += (size_t)ct.voices_mixed;
	*tagged += (size_t)ct.tags;
end:
	free(text);
	free(voice);
	prl_buf_release(&ct.text);
	prl_buf_release(&ct.voice);
	return ret;
}

/* ---- WebVTT reader ----------------------------------------------------- */

struct vtt_reader {
	const char *s; /* normalised text */
	size_t len;    /* its length */
	size_t pos;    /* next byte */
	size_t line;   /* line number of pos */
};

static int vtt_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* WebVTT timestamp at *p (the spec's "collect a WebVTT timestamp"). */
static int vtt_timestamp(const char *s, size_t len, size_t *p, int64_t *out)
{
	size_t i = *p, n;
	long long v1, v2, v3 = 0, v4;
	int hours = 0;

	if (i >= len || !vtt_digit(s[i]))
		return -1;
	for (n = 0, v1 = 0; i < len && vtt_digit(s[i]); i++, n++)
		v1 = v1 < 100000000 ? v1 * 10 + (s[i] - '0') : v1;
	if (n != 2 || v1 > 59)
		hours = 1;
	if (i >= len || s[i] != ':')
		return -1;
	/* past the digits a field may have, more only count, never overflow */
	i++;
	for (n = 0, v2 = 0; i < len && vtt_digit(s[i]); i++, n++)
		v2 = v2 < 100000 ? v2 * 10 + (s[i] - '0') : v2;
	if (n != 2)
		return -1;
	if (hours || (i < len && s[i] == ':')) {
		if (i >= len || s[i] != ':')
			return -1;
		i++;
		for (n = 0, v3 = 0; i < len && vtt_digit(s[i]); i++, n++)
			v3 = v3 < 100000 ? v3 * 10 + (s[i] - '0') : v3;
		if (n != 2)
			return -1;
	} else {
		v3 = v2;
		v2 = v1;
		v1 = 0;
	}
	if (i >= len || s[i] != '.')
		return -1;
	i++;
	for (n = 0, v4 = 0; i < len && vtt_digit(s[i]); i++, n++)
		v4 = v4 < 100000 ? v4 * 10 + (s[i] - '0') : v4;
	if (n != 3 || v2 > 59 || v3 > 59)
		return -1;
	*out = ((v1 * 60 + v2) * 60 + v3) * 1000 + v4;
	*p = i;
	return 0;
}

static int vtt_space(int c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\n' || c == '\r';
}

/* "start --> end [settings]" */
static int vtt_timings(const char *s, size_t len, int64_t *start, int64_t *end, int *settings)
{
	size_t i = 0;

	while (i < len && vtt_space(s[i]))
		i++;
	if (vtt_timestamp(s, len, &i, start) < 0)
		return -1;
	while (i < len && vtt_space(s[i]))
		i++;
	if (i + 3 > len || memcmp(s + i, "-->", 3))
		return -1;
	i += 3;
	while (i < len && vtt_space(s[i]))
		i++;
	if (vtt_timestamp(s, len, &i, end) < 0)
		return -1;
	/* whatever follows is the settings string, even without a space */
	while (i < len && vtt_space(s[i]))
		i++;
	*settings = i < len;
	return 0;
}

static int has_arrow(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++)
		if (s[i] == '-' && s[i + 1] == '-' && s[i + 2] == '>')
			return 1;
	return 0;
}

/* What one block held. */
struct vtt_block {
	int seen_arrow;	 /* it had a timing line */
	int have_cue;	 /* whose timings were valid */
	int64_t start;	 /* the cue's times */
	int64_t stop;	 /* the cue's end */
	size_t cue_line; /* the line of the timings */
};

/* The lines of the block at r->pos, up to an empty line or a timing line
 * that starts the next block: the identifier before the timings into id,
 * the text after them into buf; *nsettings counts cue settings. */
static int vtt_read_block(struct vtt_reader *r, int in_header, struct vtt_block *blk,
			  struct prl_buf *buf, struct prl_buf *id, size_t *nsettings,
			  struct prl_buf *warn)
{
	size_t line_count = 0, prev_pos = r->pos, prev_line = r->line;
	int settings = 0, ret;

	for (;;) {
		const char *ln = r->s + r->pos;
		const char *nl = memchr(ln, '\n', r->len - r->pos);
		size_t n = nl ? (size_t)(nl - ln) : r->len - r->pos;
		size_t this_line = r->line;
		int seen_eof = !nl;

		line_count++;
		r->pos += n + (nl ? 1 : 0);
		r->line += nl ? 1 : 0;
		if (has_arrow(ln, n)) {
			if (!in_header &&
			    (line_count == 1 || (line_count == 2 && !blk->seen_arrow))) {
				blk->seen_arrow = 1;
				prev_pos = r->pos;
				prev_line = r->line;
				blk->cue_line = this_line;
				if (vtt_timings(ln, n, &blk->start, &blk->stop, &settings) == 0) {
					blk->have_cue = 1;
					if ((ret = prl_buf_add(id, prl_buf_str(buf), buf->len)) < 0)
						return ret;
					*nsettings += (size_t)settings;
				} else {
					annot_warn(warn,
						   "line %zu: cue timings \"%.*s\" are not "
						   "valid "
						   "WebVTT; cue skipped",
						   this_line, (int)(n > 60 ? 60 : n), ln);
				}
				prl_buf_reset(buf);
			} else {
				/* a timing line without a blank line before it starts
				 * the next block */
				r->pos = prev_pos;
				r->line = prev_line;
				break;
			}
		} else if (n == 0) {
			break;
		} else {
			if (buf->len && (ret = prl_buf_addch(buf, '\n')) < 0)
				return ret;
			if ((ret = prl_buf_add(buf, ln, n)) < 0)
				return ret;
			prev_pos = r->pos;
			prev_line = r->line;
		}
		if (seen_eof)
			break;
	}
	return 0;
}

int annot_vtt_read(const char *data, size_t dlen, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn)
{
	struct prl_buf norm = PRL_BUF_INIT, buf = PRL_BUF_INIT, id = PRL_BUF_INIT;
	struct vtt_reader r;
	size_t mixed = 0, tagged = 0, nsettings = 0, nblocks_other = 0;
	size_t ncues = 0, nbroken = 0, first_broken = 0;
	int ret;

	if ((ret = normalise_newlines(data, dlen, 1, &norm)) < 0)
		goto end;
	r.s = prl_buf_str(&norm);
	r.len = norm.len;
	r.pos = 0;
	r.line = 1;
	if (r.len < 6 || memcmp(r.s, "WEBVTT", 6) ||
	    (r.len > 6 && r.s[6] != ' ' && r.s[6] != '\t' && r.s[6] != '\n')) {
		ret = annot_fail(err, PRL_EFORMAT,
				 "line 1: no \"WEBVTT\" signature: not a WebVTT "
				 "file");
		goto end;
	}
	/* the signature line, then an optional header block */
	while (r.pos < r.len && r.s[r.pos] != '\n')
		r.pos++;
	if (r.pos >= r.len)
		goto end;
	r.pos++;
	r.line++;
	for (int first = 1;; first = 0) {
		/* one block: collect lines until an empty one */
		struct vtt_block blk = {0, 0, 0, 0, 0};
		size_t block_start = r.pos;
		int in_header = first;

		/* the header block is only there when the line after the
		 * signature is not empty */
		if (in_header && r.pos < r.len && r.s[r.pos] == '\n')
			in_header = 0;
		while (r.pos < r.len && r.s[r.pos] == '\n') {
			r.pos++;
			r.line++;
		}
		if (r.pos >= r.len)
			break;
		prl_buf_reset(&buf);
		prl_buf_reset(&id);
		if ((ret = vtt_read_block(&r, in_header, &blk, &buf, &id, &nsettings, warn)) < 0)
			goto end;
		if (r.pos == block_start && !in_header) {
			/* cannot happen by the algorithm; never loop forever on it */
			ret = annot_fail(err, PRL_EFORMAT, "line %zu: the parser made no progress",
					 r.line);
			goto end;
		}
		if (blk.have_cue) {
			if ((ret = add_cue(d, blk.start, blk.stop, id.data, id.len,
					   prl_buf_str(&buf), buf.len, 1, blk.cue_line, &mixed,
					   &tagged, warn)) < 0)
				goto end;
			ncues++;
		} else if (blk.seen_arrow) {
			if (!nbroken++)
				first_broken = blk.cue_line;
		} else if (!blk.seen_arrow && !in_header && buf.len &&
			   strncmp(prl_buf_str(&buf), "NOTE", 4)) {
			nblocks_other++;
		}
	}
	if (nbroken && !ncues) {
		/* a browser would show nothing: not an empty transcript but a
		 * file that is not what it claims */
		ret = annot_fail(err, PRL_EFORMAT,
				 "line %zu: no valid cue: the timings of all %zu cues are not "
				 "valid WebVTT",
				 first_broken, nbroken);
		goto end;
	}
	if (mixed)
		annot_warn(warn,
			   "%zu cues hold more than one voice: each is kept on the tier of its "
			   "first voice, later voices named in the text",
			   mixed);
	if (nsettings)
		annot_warn(warn, "%zu cues have settings (position, alignment) that are not kept",
			   nsettings);
	if (nblocks_other)
		annot_warn(warn, "%zu blocks (STYLE, REGION or stray text) are not kept",
			   nblocks_other);
	(void)tagged;
end:
	prl_buf_release(&norm);
	prl_buf_release(&buf);
	prl_buf_release(&id);
	return ret;
}

/* ---- SRT reader ------------------------------------------------------ */

/* "hh:mm:ss,mmm" (',' or '.', 1 to 3 fraction digits); *dot set when '.'. */
static int srt_time(const char **p, const char *e, int64_t *out, int *dot)
{
	const char *s = *p;
	long long h = 0, m = 0, sec = 0, ms = 0;
	int n, scale;

	for (n = 0; s < e && vtt_digit(*s) && n < 6; s++, n++)
		h = h * 10 + (*s - '0');
	if (!n || s >= e || *s++ != ':')
		return -1;
	for (n = 0; s < e && vtt_digit(*s) && n < 2; s++, n++)
		m = m * 10 + (*s - '0');
	if (n != 2 || m > 59 || s >= e || *s++ != ':')
		return -1;
	for (n = 0; s < e && vtt_digit(*s) && n < 2; s++, n++)
		sec = sec * 10 + (*s - '0');
	if (n != 2 || sec > 59 || s >= e || (*s != ',' && *s != '.'))
		return -2;
	*dot |= *s == '.';
	s++;
	for (n = 0, scale = 100; s < e && vtt_digit(*s) && n < 3; s++, n++, scale /= 10)
		ms += (*s - '0') * scale;
	if (!n || (s < e && vtt_digit(*s)))
		return -1;
	*out = ((h * 60 + m) * 60 + sec) * 1000 + ms;
	*p = s;
	return 0;
}

static int srt_timing_line(const char *s, size_t n, int64_t *start, int64_t *end, int *dot,
			   const char **why)
{
	const char *p = s, *e = s + n;
	int r;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if ((r = srt_time(&p, e, start, dot)) < 0) {
		*why = r == -2 ? "the start time has no milliseconds"
			       : "the start time is not valid";
		return -1;
	}
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (e - p < 3 || memcmp(p, "-->", 3)) {
		*why = "no \"-->\" between the times";
		return -1;
	}
	p += 3;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if ((r = srt_time(&p, e, end, dot)) < 0) {
		*why = r == -2 ? "the end time has no milliseconds" : "the end time is not valid";
		return -1;
	}
	/* what may follow is SubRip's display box ("X1:100 X2:..."): ignored */
	if (p < e && *p != ' ' && *p != '\t') {
		*why = "unexpected text after the end time";
		return -1;
	}
	return 0;
}

static int blank_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* The length of the SRT formatting at s (<i>, </b>, <u>, <s>, <font ...>,
 * {\an8}), or 0 when s starts none. */
static size_t srt_tag_len(const char *s, size_t n)
{
	static const char *const names[] = {"i", "b", "u", "s", "font"};
	size_t k;

	if (s[0] == '<') {
		size_t j = 1 + (n > 1 && s[1] == '/');
		const char *gt = memchr(s, '>', n);
		for (k = 0; gt && k < sizeof(names) / sizeof(names[0]); k++) {
			size_t l = strlen(names[k]);
			if (j + l < n && !strncasecmp(s + j, names[k], l) &&
			    (s[j + l] == '>' || s[j + l] == ' '))
				return (size_t)(gt - s) + 1;
		}
	} else if (s[0] == '{' && n > 1 && s[1] == '\\') {
		const char *cb = memchr(s, '}', n);
		if (cb)
			return (size_t)(cb - s) + 1;
	}
	return 0;
}

/* SRT formatting removed and HTML character references (&amp; &lt; &gt;
 * &quot; &#39; &nbsp;..., which subtitle editors write and players show
 * as characters) decoded; other text kept as it is, '<' included. */
static int srt_plain(struct prl_buf *out, const char *s, size_t n, int *tags)
{
	size_t i = 0, l;
	int ret = 0;

	while (i < n && ret >= 0) {
		if ((l = srt_tag_len(s + i, n - i))) {
			i += l;
			*tags = 1;
		} else if (s[i] == '&' && (l = put_entity(out, s + i + 1, n - i - 1))) {
			i += l + 1;
		} else {
			ret = prl_buf_addch(out, s[i++]);
		}
	}
	return ret;
}

/* The line at *pos, its length in *n (without the newline); *pos and
 * *line move past it. */
static const char *srt_next_line(const char *s, size_t len, size_t *pos, size_t *line, size_t *n)
{
	const char *ln = s + *pos, *nl = memchr(ln, '\n', len - *pos);

	*n = nl ? (size_t)(nl - ln) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	(*line)++;
	return ln;
}

/* The cue number (which may be left out) and the timing line of the cue
 * at *pos; *tline is the line of the timings. */
static int srt_read_timings(const char *s, size_t len, size_t *pos, size_t *line, size_t *tline,
			    int64_t *start, int64_t *stop, int *dot, struct prl_buf *err)
{
	const char *ln, *why = NULL;
	size_t n, i;

	*tline = *line;
	ln = srt_next_line(s, len, pos, line, &n);
	if (!has_arrow(ln, n)) {
		/* the cue number: digits only */
		for (i = 0; i < n && vtt_digit(ln[i]); i++)
			;
		while (i < n && (ln[i] == ' ' || ln[i] == '\t'))
			i++;
		if (i != n || n == 0)
			return annot_fail(err, PRL_EFORMAT,
					  "line %zu: expected a cue number or a "
					  "timing line, found \"%.*s\"",
					  *tline, (int)(n > 40 ? 40 : n), ln);
		if (*pos >= len)
			return annot_fail(err, PRL_EFORMAT, "line %zu: cue %.*s has no timing line",
					  *tline, (int)(n > 20 ? 20 : n), ln);
		*tline = *line;
		ln = srt_next_line(s, len, pos, line, &n);
	}
	if (srt_timing_line(ln, n, start, stop, dot, &why) < 0)
		return annot_fail(err, PRL_EFORMAT, "line %zu: broken timing line \"%.*s\": %s",
				  *tline, (int)(n > 60 ? 60 : n), ln, why);
	if (*stop < *start)
		return annot_fail(err, PRL_EFORMAT, "line %zu: the cue ends before it starts",
				  *tline);
	return 0;
}

/* Passes over the blank lines at *pos. */
static void srt_skip_blank(const char *s, size_t len, size_t *pos, size_t *line)
{
	while (*pos < len) {
		const char *nl = memchr(s + *pos, '\n', len - *pos);
		size_t l = nl ? (size_t)(nl - (s + *pos)) : len - *pos;
		if (!blank_line(s + *pos, l))
			break;
		*pos += l + (nl ? 1 : 0);
		(*line)++;
	}
}

/* The text lines of a cue, up to a blank line, appended to text as plain
 * text; *tags is set when markup was removed. */
static int srt_cue_text(const char *s, size_t len, size_t *pos, size_t *line, struct prl_buf *text,
			int *tags)
{
	int ret;

	while (*pos < len) {
		const char *nl = memchr(s + *pos, '\n', len - *pos);
		size_t l = nl ? (size_t)(nl - (s + *pos)) : len - *pos;
		if (blank_line(s + *pos, l))
			break;
		if (text->len && (ret = prl_buf_addch(text, '\n')) < 0)
			return ret;
		if ((ret = srt_plain(text, s + *pos, l, tags)) < 0)
			return ret;
		*pos += l + (nl ? 1 : 0);
		(*line)++;
	}
	return 0;
}

int annot_srt_read(const char *data, size_t dlen, struct prl_annot_doc *d, struct prl_buf *err,
		   struct prl_buf *warn)
{
	struct prl_buf norm = PRL_BUF_INIT, text = PRL_BUF_INIT;
	const char *s;
	size_t len, pos = 0, line = 1, mixed = 0, tagged = 0, ndot = 0;
	int ret, tags = 0;

	if ((ret = normalise_newlines(data, dlen, 0, &norm)) < 0)
		goto end;
	s = prl_buf_str(&norm);
	len = norm.len;
	if (memchr(s, '\0', len)) {
		ret = annot_fail(
			err, PRL_EFORMAT, "line %zu: NUL byte in the text",
			annot_line_at(s, (size_t)((const char *)memchr(s, '\0', len) - s)));
		goto end;
	}
	for (;;) {
		size_t tline;
		int64_t start, stop;
		int dot = 0;

		/* blank lines between cues */
		srt_skip_blank(s, len, &pos, &line);
		if (pos >= len)
			break;
		if ((ret = srt_read_timings(s, len, &pos, &line, &tline, &start, &stop, &dot,
					    err)) < 0)
			goto end;
		ndot += (size_t)dot;
		prl_buf_reset(&text);
		if ((ret = srt_cue_text(s, len, &pos, &line, &text, &tags)) < 0 ||
		    (ret = add_cue(d, start, stop, NULL, 0, prl_buf_str(&text), text.len, 0, tline,
				   &mixed, &tagged, warn)) < 0)
			goto end;
	}
	/* blank lines only: what the SRT export of an empty tier writes */
	if (!d->ntiers)
		annot_warn(warn, "no cue in the file: nothing to import");
	if (ndot)
		annot_warn(warn,
			   "%zu timing lines use '.' before the milliseconds instead of ','; "
			   "read as if it were ','",
			   ndot);
	if (tags)
		annot_warn(warn, "formatting tags (<i>, <b>, <font>, {\\...}) were removed from "
				 "the text");
end:
	prl_buf_release(&norm);
	prl_buf_release(&text);
	return ret;
}

/* ---- writers --------------------------------------------------------- */

/*
 * Text as a cue payload: a blank line would end the cue, so empty lines
 * inside are dropped; for WebVTT, & < > are escaped and "-->" cannot
 * appear.  Returns 1 when the text had to change.
 */
static int put_cue_text(struct prl_buf *b, const char *s, int vtt, int *ret)
{
	int changed = 0, at_line_start = 1;

	*ret = 0;
	for (; *s && *ret >= 0; s++) {
		if (*s == '\n') {
			if (at_line_start) {
				changed = 1;
				continue;
			}
			at_line_start = 1;
			if (s[1] == '\0') {
				changed = 1;
				break;
			}
			*ret = prl_buf_addch(b, '\n');
			continue;
		}
		at_line_start = 0;
		if (vtt && *s == '&')
			*ret = prl_buf_addstr(b, "&amp;");
		else if (vtt && *s == '<')
			*ret = prl_buf_addstr(b, "&lt;");
		else if (vtt && *s == '>')
			*ret = prl_buf_addstr(b, "&gt;");
		else if (!vtt && *s == '&' && put_entity(NULL, s + 1, strlen(s + 1)))
			*ret = prl_buf_addstr(b, "&amp;"); /* else it would read back decoded */
		else if (!vtt && *s == '<' && srt_tag_len(s, strcspn(s, "\n")))
			*ret = prl_buf_addstr(b, "&lt;"); /* else it would read back removed */
		else if (!vtt && *s == '{' && srt_tag_len(s, strcspn(s, "\n")))
			*ret = prl_buf_addstr(b, "&#123;");
		else if (!vtt && s[0] == '-' && s[1] == '-' && s[2] == '>') {
			*ret = prl_buf_addstr(b, "--\xe2\x80\x89>");
			changed = 1;
			s += 2;
		} else
			*ret = prl_buf_addch(b, *s);
	}
	return changed;
}

/* One cue to write: segment seg of the tier at index tier in the list of
 * tiers written.  Its start is copied in, so sorting needs no global (the
 * server writes exports on several threads). */
struct cue_ref {
	int64_t start_ms; /* the segment's start */
	uint32_t tier;	  /* index in subtitle_tiers.t */
	uint32_t seg;	  /* index in that tier's segments */
};

/* Time order; a tie keeps tier order, then segment order (stable). */
static int cue_by_time(const void *a, const void *b)
{
	const struct cue_ref *x = a, *y = b;

	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	return x->seg < y->seg ? -1 : x->seg > y->seg;
}

/* What write_subtitles writes: the tiers, their voices, their cues. */
struct subtitle_tiers {
	const struct prl_tier **t; /* the tiers written */
	const char **voice;	   /* per tier: its <v> annotation, or NULL */
	size_t n;		   /* tiers in t */
	struct cue_ref *cues;	   /* every segment of them, in time order */
	size_t ncues;		   /* entries in cues */
};

static void subtitle_tiers_release(struct subtitle_tiers *st)
{
	free(st->t);
	free(st->voice);
	free(st->cues);
}

static int is_main_transcription(const struct prl_tier *t)
{
	return !t->parent && t->type && !strcmp(t->type, "transcription");
}

/*
 * The tiers to write: o->tier alone when asked for; else every top-level
 * transcription tier (a dialogue has a tier per voice), else the first
 * tier.  Each is voiced by its speaker; when more than one tier has no
 * speaker, those are voiced by their names so they stay apart.  Says in
 * warn what is left out.  Returns 0 (st->n 0: nothing to write) or
 * -PRL_ENOMEM.
 */
static int pick_subtitle_tiers(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
			       const char *fmt, struct subtitle_tiers *st, struct prl_buf *warn)
{
	size_t i, j, k, unvoiced = 0;
	int ti = annot_pick_tier(d, o->tier);

	memset(st, 0, sizeof(*st));
	if (ti < 0) {
		if (o->tier)
			annot_warn(warn, "%s: no tier named \"%s\"; nothing written", fmt, o->tier);
		else if (d->ntiers)
			annot_warn(warn, "%s: no tier to write", fmt);
		return 0;
	}
	if (!(st->t = calloc(d->ntiers, sizeof(*st->t))) ||
	    !(st->voice = calloc(d->ntiers, sizeof(*st->voice))))
		return -PRL_ENOMEM;
	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if ((int)i == ti ||
		    (!o->tier && is_main_transcription(&d->tiers[ti]) && is_main_transcription(t)))
			st->t[st->n++] = t;
		else if (o->tier)
			annot_warn(warn,
				   "%s holds one tier: tier \"%s\" (%zu segments) is not "
				   "written (ask for it by name)",
				   fmt, t->name, t->nsegs);
		else
			annot_warn(warn,
				   "%s: tier \"%s\" (%zu segments) is not written: only the "
				   "top-level transcription tiers are, by default (ask for it by "
				   "name)",
				   fmt, t->name, t->nsegs);
	}
	for (i = 0; i < st->n; i++)
		unvoiced += !st->t[i]->participant || !st->t[i]->participant[0];
	for (i = 0; i < st->n; i++) {
		const struct prl_tier *t = st->t[i];
		st->voice[i] = t->participant && t->participant[0] ? t->participant
			       : unvoiced > 1			   ? t->name
								   : NULL;
		st->ncues += t->nsegs;
	}
	for (i = 0; i < st->n; i++)
		for (j = 0; j < i; j++)
			if (st->voice[i] && st->voice[j] && !strcmp(st->voice[i], st->voice[j])) {
				annot_warn(warn,
					   "%s: tiers \"%s\" and \"%s\" have the same speaker "
					   "\"%s\" and will read back as one tier",
					   fmt, st->t[j]->name, st->t[i]->name, st->voice[i]);
				break;
			}
	if (st->ncues > UINT32_MAX ||
	    (st->ncues && !(st->cues = malloc(st->ncues * sizeof(*st->cues)))))
		return -PRL_ENOMEM;
	for (i = 0, k = 0; i < st->n; i++)
		for (j = 0; j < st->t[i]->nsegs; j++, k++) {
			st->cues[k].start_ms = st->t[i]->segs[j].start_ms;
			st->cues[k].tier = (uint32_t)i;
			st->cues[k].seg = (uint32_t)j;
		}
	/* players want cues in start order */
	if (st->ncues > 1)
		qsort(st->cues, st->ncues, sizeof(*st->cues), cue_by_time);
	return 0;
}

/* What the subtitle formats cannot hold of the tiers written. */
static void warn_subtitle_losses(const struct subtitle_tiers *st, const char *fmt, int vtt,
				 size_t empty, size_t changed, struct prl_buf *warn)
{
	size_t i, k, ncve = 0;

	if (!vtt && st->n > 1)
		annot_warn(warn,
			   "SRT has no speakers: the cues of %zu tiers are written as one list "
			   "and who says each is not kept (WebVTT keeps it)",
			   st->n);
	for (i = 0; i < st->n; i++) {
		const struct prl_tier *t = st->t[i];
		if (!vtt && st->n == 1 && t->participant)
			annot_warn(warn, "SRT has no speakers: \"%s\" is not written",
				   t->participant);
		if (t->is_point)
			annot_warn(warn,
				   "%s: tier \"%s\" holds points; written as zero-length cues", fmt,
				   t->name);
		if (t->parent)
			annot_warn(warn, "%s: tier \"%s\" loses its parent tier", fmt, t->name);
		for (k = 0; k < t->nsegs; k++)
			ncve += t->segs[k].cve_ref != NULL;
	}
	if (empty && st->n == 1)
		annot_warn(warn, "%s: %zu empty segments of tier \"%s\" are not written as cues",
			   fmt, empty, st->t[0]->name);
	else if (empty)
		annot_warn(warn, "%s: %zu empty segments are not written as cues", fmt, empty);
	if (changed)
		annot_warn(warn,
			   "%s: %zu texts had blank lines (or \"-->\") a cue cannot hold; they "
			   "were dropped (or spaced)",
			   fmt, changed);
	if (ncve)
		annot_warn(warn, "%s: %zu controlled-vocabulary references are not kept", fmt,
			   ncve);
}

/* Whether cue i repeats, times and text, a cue of another tier written
 * before it: SRT has no voices to tell them apart, and players show such
 * a pair once (ffmpeg merges them). */
static int repeats_other_tier(const struct subtitle_tiers *st, size_t i)
{
	const struct cue_ref *c = &st->cues[i];
	const struct prl_segment *s = &st->t[c->tier]->segs[c->seg];
	size_t k;

	for (k = i; k-- > 0 && st->cues[k].start_ms == c->start_ms;) {
		const struct prl_segment *p = &st->t[st->cues[k].tier]->segs[st->cues[k].seg];
		if (st->cues[k].tier != c->tier && p->end_ms == s->end_ms &&
		    !strcmp(p->text, s->text))
			return 1;
	}
	return 0;
}

static int write_subtitles(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
			   struct annot_sink *sk, struct prl_buf *warn, int vtt)
{
	const char *fmt = vtt ? "WebVTT" : "SRT";
	struct prl_buf *b = sk->b;
	struct subtitle_tiers st;
	size_t i, n = 0, empty = 0, changed = 0, repeated = 0;
	int ret = 0;

	if (vtt && (ret = prl_buf_addstr(b, "WEBVTT\n\n")) < 0)
		return ret;
	if ((ret = pick_subtitle_tiers(d, o, fmt, &st, warn)) < 0 || !st.n)
		goto end;
	for (i = 0; i < st.ncues; i++) {
		const struct prl_segment *s = &st.t[st.cues[i].tier]->segs[st.cues[i].seg];
		const char *voice = st.voice[st.cues[i].tier];
		int64_t end = s->end_ms > s->start_ms ? s->end_ms : s->start_ms;
		int r2;
		if (!s->text[0] || !strcmp(s->text, "\n")) {
			empty++; /* an empty interval is a pause, not a caption */
			continue;
		}
		if (!vtt && st.n > 1 && repeats_other_tier(&st, i)) {
			repeated++;
			continue;
		}
		n++;
		if ((ret = prl_buf_addf(b, "%zu\n", n)) < 0 ||
		    (ret = annot_put_clock(b, s->start_ms, vtt ? '.' : ',')) < 0 ||
		    (ret = prl_buf_addstr(b, " --> ")) < 0 ||
		    (ret = annot_put_clock(b, end, vtt ? '.' : ',')) < 0 ||
		    (ret = prl_buf_addch(b, '\n')) < 0)
			goto end;
		if (vtt && voice) {
			if ((ret = prl_buf_addstr(b, "<v ")) < 0)
				goto end;
			changed += (size_t)put_cue_text(b, voice, 1, &r2);
			if ((ret = r2) < 0 || (ret = prl_buf_addch(b, '>')) < 0)
				goto end;
		}
		changed += (size_t)put_cue_text(b, s->text, vtt, &r2);
		if ((ret = r2) < 0 || (ret = prl_buf_addstr(b, "\n\n")) < 0 ||
		    (ret = annot_sink_maybe_flush(sk)) < 0)
			goto end;
	}
	warn_subtitle_losses(&st, fmt, vtt, empty, changed, warn);
	if (repeated)
		annot_warn(warn,
			   "SRT: %zu cues repeat, times and text, a cue of another tier and are "
			   "written once",
			   repeated);
end:
	/* an SRT file without cues would be empty, and an empty file is
	 * refused as a mistake: one blank line reads back as no cue */
	if (ret >= 0 && !vtt && !n) {
		annot_warn(warn, "SRT: no cue to write; the file holds one blank line");
		ret = prl_buf_addch(b, '\n');
	}
	subtitle_tiers_release(&st);
	return ret;
}

int annot_vtt_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn)
{
	return write_subtitles(d, o, s, warn, 1);
}

int annot_srt_write(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		    struct annot_sink *s, struct prl_buf *warn)
{
	return write_subtitles(d, o, s, warn, 0);
}
