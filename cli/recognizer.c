/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The two texts a recognizer brings that parlers reads: the operator's
 * "recognizers" file, and what a recognizer writes on its output.  Both
 * are outside input: any bytes give either a whole answer or a refusal
 * with one sentence, never part of one.  What always holds of a timed
 * answer: segments in order, apart (start < end, each after the last),
 * with non-empty UTF-8 text; of an untimed one: the lines alignment reads.
 * Expected workload: a file of a few lines; an output of some thousands
 * of cues.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/annot.h"
#include "parlers/speech.h"
#include "recognizer.h"

#define LINE_MAX_BYTES 4096 /* of one line of the recognizers file */

void recognizers_clear(struct recognizers *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++) {
		free(rs->r[i].name);
		free(rs->r[i].command);
		free(rs->r[i].language);
	}
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

const struct recognizer *recognizers_find(const struct recognizers *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].name, name) == 0)
			return &rs->r[i];
	return NULL;
}

const char *recognizer_format_name(enum recognizer_format f)
{
	static const char *const names[] = {"auto", "vtt", "srt", "json", "text"};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "auto";
}

static int format_parse(const char *s)
{
	int f;

	for (f = RECOGNIZER_AUTO; f <= RECOGNIZER_TEXT; f++)
		if (strcmp(s, recognizer_format_name((enum recognizer_format)f)) == 0)
			return f;
	return -1;
}

/* s[0..len) without the spaces around it, as a new string. */
static char *trimmed_dup(const char *s, size_t len)
{
	char *out;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!(out = malloc(len + 1)))
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static int valid_name(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return 0;
	return 1;
}

/* One "key = value" line of section cur; the value is a new string. */
static int set_key(struct recognizer *cur, const char *key, char *value, size_t lineno,
		   struct prl_buf *err)
{
	char *end;
	long v;
	int f;

	if (strcmp(key, "command") == 0) {
		if (!*value || !strstr(value, "{wav}")) {
			prl_buf_addf(err, "line %zu: the command needs {wav} where the audio goes",
				     lineno);
			goto bad;
		}
		free(cur->command);
		cur->command = value;
	} else if (strcmp(key, "language") == 0) {
		if (!valid_name(value)) {
			prl_buf_addf(err, "line %zu: '%s' is not a language code", lineno, value);
			goto bad;
		}
		free(cur->language);
		cur->language = value;
	} else if (strcmp(key, "format") == 0) {
		if ((f = format_parse(value)) < 0) {
			prl_buf_addf(err,
				     "line %zu: the format is vtt, srt, json, text or auto, not "
				     "'%s'",
				     lineno, value);
			goto bad;
		}
		cur->format = (enum recognizer_format)f;
		free(value);
	} else if (strcmp(key, "timeout") == 0) {
		v = strtol(value, &end, 10);
		if (!*value || *end || v < 1 || v > 86400) {
			prl_buf_addf(err, "line %zu: the timeout is 1 to 86400 seconds, not '%s'",
				     lineno, value);
			goto bad;
		}
		cur->timeout_s = (int)v;
		free(value);
	} else {
		prl_buf_addf(err, "line %zu: unknown key '%s' (command, format, language, timeout)",
			     lineno, key);
		goto bad;
	}
	return 0;
bad:
	free(value);
	return -PRL_EFORMAT;
}

int recognizers_parse(const char *data, size_t len, struct recognizers *out, struct prl_buf *err)
{
	struct recognizers rs = {0};
	struct recognizer *cur = NULL, *grown;
	size_t pos = 0, lineno = 0, i;
	int ret = 0;

	if (!prl_utf8_valid(data, len) || memchr(data, '\0', len)) {
		prl_buf_addstr(err, "the recognizers file is not UTF-8 text");
		return -PRL_EFORMAT;
	}
	while (pos < len && ret == 0) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		char *t = NULL, *eq;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (ll > LINE_MAX_BYTES) {
			prl_buf_addf(err, "line %zu: longer than %d bytes", lineno, LINE_MAX_BYTES);
			ret = -PRL_EFORMAT;
			break;
		}
		if (!(t = trimmed_dup(line, ll))) {
			ret = -PRL_ENOMEM;
			break;
		}
		if (!*t || *t == '#' || *t == ';') {
			free(t);
			continue;
		}
		if (*t == '[') {
			size_t tl = strlen(t);
			char *name;

			if (t[tl - 1] != ']' || !(name = trimmed_dup(t + 1, tl - 2))) {
				prl_buf_addf(err, "line %zu: a section is [NAME]", lineno);
				free(t);
				ret = -PRL_EFORMAT;
				break;
			}
			free(t);
			if (!valid_name(name) || recognizers_find(&rs, name)) {
				prl_buf_addf(
					err,
					"line %zu: '%s' is not a name (letters, digits, - _ .) "
					"or is declared twice",
					lineno, name);
				free(name);
				ret = -PRL_EFORMAT;
				break;
			}
			if (!(grown = realloc(rs.r, (rs.n + 1) * sizeof(*rs.r)))) {
				free(name);
				ret = -PRL_ENOMEM;
				break;
			}
			rs.r = grown;
			cur = &rs.r[rs.n++];
			memset(cur, 0, sizeof(*cur));
			cur->name = name;
			cur->timeout_s = RECOGNIZER_TIMEOUT_S;
			continue;
		}
		if (!(eq = strchr(t, '=')) || !cur) {
			prl_buf_addf(err, "line %zu: expected [NAME] or key = value", lineno);
			free(t);
			ret = -PRL_EFORMAT;
			break;
		}
		*eq = '\0';
		{
			char *key = trimmed_dup(t, strlen(t));
			char *value = trimmed_dup(eq + 1, strlen(eq + 1));

			if (!key || !value) {
				free(key);
				free(value);
				ret = -PRL_ENOMEM;
			} else {
				ret = set_key(cur, key, value, lineno, err);
				free(key);
			}
		}
		free(t);
	}
	for (i = 0; ret == 0 && i < rs.n; i++)
		if (!rs.r[i].command) {
			prl_buf_addf(err, "recognizer '%s' has no command", rs.r[i].name);
			ret = -PRL_EFORMAT;
		}
	if (ret == -PRL_ENOMEM)
		prl_buf_addstr(err, "out of memory");
	if (ret < 0) {
		recognizers_clear(&rs);
		return ret;
	}
	*out = rs;
	return 0;
}

void recognized_clear(struct recognized *r)
{
	if (!r)
		return;
	prl_speech_lines_free(r->lines, r->n);
	free(r->segs);
	memset(r, 0, sizeof(*r));
}

static enum recognizer_format sniff(const char *data, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (len - i >= 6 && memcmp(data + i, "WEBVTT", 6) == 0)
		return RECOGNIZER_VTT;
	if (i < len && data[i] == '{')
		return RECOGNIZER_JSON;
	if (i < len && isdigit((unsigned char)data[i])) {
		const char *nl = memchr(data + i, '\n', len - i);

		if (nl) {
			const char *next = nl + 1,
				   *end = memchr(next, '\n', len - (size_t)(next - data));
			size_t nlen = end ? (size_t)(end - next) : len - (size_t)(next - data);
			char probe[128];

			if (nlen < sizeof(probe)) {
				memcpy(probe, next, nlen);
				probe[nlen] = '\0';
				if (strstr(probe, "-->"))
					return RECOGNIZER_SRT;
			}
		}
	}
	return RECOGNIZER_TEXT;
}

/* Appends one timed segment (text trimmed; skipped when empty). */
static int add_timed(struct recognized *r, size_t *cap, double start_ms, double end_ms,
		     const char *text, size_t index, struct prl_buf *err)
{
	char *t;
	int64_t s, e;

	if (!isfinite(start_ms) || !isfinite(end_ms) || start_ms < 0 || end_ms > 1e11 ||
	    end_ms < start_ms) {
		prl_buf_addf(err, "segment %zu has times that are not a span", index + 1);
		return -PRL_EFORMAT;
	}
	if (!(t = trimmed_dup(text, strlen(text))))
		return -PRL_ENOMEM;
	if (!*t) {
		free(t);
		return 0;
	}
	if (strlen(t) > PRL_SPEECH_LINE_MAX || !prl_utf8_valid(t, strlen(t))) {
		free(t);
		prl_buf_addf(err, "the text of segment %zu is not UTF-8 of at most %d bytes",
			     index + 1, PRL_SPEECH_LINE_MAX);
		return -PRL_EFORMAT;
	}
	s = (int64_t)llround(start_ms);
	e = (int64_t)llround(end_ms);
	if (r->n > 0 && s < r->segs[r->n - 1].end_ms)
		s = r->segs[r->n - 1].end_ms;
	if (e <= s) {
		free(t);
		prl_buf_addf(err, "segment %zu ends before the one before it does", index + 1);
		return -PRL_EFORMAT;
	}
	if (r->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct prl_machine_segment *ns = realloc(r->segs, nc * sizeof(*ns));
		char **nl;

		if (!ns) {
			free(t);
			return -PRL_ENOMEM;
		}
		r->segs = ns;
		if (!(nl = realloc(r->lines, nc * sizeof(*nl)))) {
			free(t);
			return -PRL_ENOMEM;
		}
		r->lines = nl;
		*cap = nc;
	}
	r->lines[r->n] = t;
	memset(&r->segs[r->n], 0, sizeof(r->segs[r->n]));
	r->segs[r->n].start_ms = s;
	r->segs[r->n].end_ms = e;
	r->segs[r->n].text = t;
	r->segs[r->n].confidence = -1;
	r->n++;
	return 0;
}

/* Cues by start, then by their place in memory (a tier's cues lie in
 * order in one array), so that equal starts keep a fixed order. */
static int cue_cmp(const void *x, const void *y)
{
	const struct prl_segment *a = *(const struct prl_segment *const *)x;
	const struct prl_segment *b = *(const struct prl_segment *const *)y;

	if (a->start_ms != b->start_ms)
		return a->start_ms < b->start_ms ? -1 : 1;
	return ((uintptr_t)a > (uintptr_t)b) - ((uintptr_t)a < (uintptr_t)b);
}

static int read_cues(enum recognizer_format f, const char *data, size_t len, struct recognized *r,
		     struct prl_buf *err)
{
	struct prl_annot_doc *doc = NULL;
	struct prl_buf why = PRL_BUF_INIT;
	const struct prl_segment **all = NULL;
	size_t cap = 0, i, j, k = 0, total = 0;
	int ret;

	ret = prl_annot_read(f == RECOGNIZER_VTT ? PRL_FMT_VTT : PRL_FMT_SRT, data, len, &doc, &why,
			     NULL);
	if (ret < 0) {
		prl_buf_addf(err, "its %s is not readable: %s",
			     f == RECOGNIZER_VTT ? "WebVTT" : "SRT",
			     why.len ? why.data : prl_strerror(ret));
		goto end;
	}
	/* voices become tiers: their cues are put back in time order */
	for (i = 0; i < doc->ntiers; i++)
		total += doc->tiers[i].nsegs;
	if (!(all = calloc(total ? total : 1, sizeof(*all)))) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < doc->ntiers; i++)
		for (j = 0; j < doc->tiers[i].nsegs; j++)
			all[k++] = &doc->tiers[i].segs[j];
	qsort(all, total, sizeof(*all), cue_cmp);
	for (k = 0; k < total; k++)
		if ((ret = add_timed(r, &cap, (double)all[k]->start_ms, (double)all[k]->end_ms,
				     all[k]->text ? all[k]->text : "", k, err)) < 0)
			goto end;
end:
	free(all);
	prl_annot_doc_free(doc);
	prl_buf_release(&why);
	return ret;
}

static int read_json(const char *data, size_t len, struct recognized *r, struct prl_buf *err)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je), *arr, *seg;
	size_t cap = 0, i;
	int ret = 0, whisper = 0;

	if (!root || !json_is_object(root)) {
		prl_buf_addf(err, "its JSON is not an object (%s)",
			     root ? "another value" : je.text);
		ret = -PRL_EFORMAT;
		goto end;
	}
	if (!(arr = json_object_get(root, "segments")) &&
	    (arr = json_object_get(root, "transcription")))
		whisper = 1;
	if (!json_is_array(arr)) {
		prl_buf_addstr(err, "its JSON has no \"segments\" or \"transcription\" array");
		ret = -PRL_EFORMAT;
		goto end;
	}
	json_array_foreach(arr, i, seg)
	{
		json_t *text = json_object_get(seg, "text");
		double s, e;

		if (whisper) {
			json_t *off = json_object_get(seg, "offsets");

			s = json_number_value(json_object_get(off, "from"));
			e = json_number_value(json_object_get(off, "to"));
			if (!json_is_number(json_object_get(off, "from")) ||
			    !json_is_number(json_object_get(off, "to")))
				s = e = -1;
		} else if (json_is_number(json_object_get(seg, "start_ms"))) {
			s = json_number_value(json_object_get(seg, "start_ms"));
			e = json_is_number(json_object_get(seg, "end_ms"))
				    ? json_number_value(json_object_get(seg, "end_ms"))
				    : -1;
		} else {
			s = json_is_number(json_object_get(seg, "start"))
				    ? json_number_value(json_object_get(seg, "start")) * 1000
				    : -1;
			e = json_is_number(json_object_get(seg, "end"))
				    ? json_number_value(json_object_get(seg, "end")) * 1000
				    : -1;
		}
		if (!json_is_string(text)) {
			prl_buf_addf(err, "segment %zu of its JSON has no text", i + 1);
			ret = -PRL_EFORMAT;
			goto end;
		}
		if ((ret = add_timed(r, &cap, s, e, json_string_value(text), i, err)) < 0)
			goto end;
	}
end:
	json_decref(root);
	return ret;
}

int recognized_parse(const char *data, size_t len, enum recognizer_format f, struct recognized *out,
		     struct prl_buf *err)
{
	struct recognized r = {0};
	struct prl_buf why = PRL_BUF_INIT;
	int ret;

	if (f == RECOGNIZER_AUTO)
		f = sniff(data, len);
	r.format = f;
	switch (f) {
	case RECOGNIZER_VTT:
	case RECOGNIZER_SRT:
		ret = read_cues(f, data, len, &r, err);
		break;
	case RECOGNIZER_JSON:
		ret = read_json(data, len, &r, err);
		break;
	default:
		ret = prl_speech_lines_parse(data, len, &r.lines, &r.n, &why);
		if (ret == -PRL_EINVAL) {
			prl_buf_addstr(err, "it wrote no text");
			ret = -PRL_EFORMAT;
		} else if (ret < 0) {
			prl_buf_addf(err, "its output is not text: %s",
				     why.len ? why.data : prl_strerror(ret));
			ret = -PRL_EFORMAT;
		}
		break;
	}
	if (ret == 0 && r.n == 0) {
		prl_buf_addstr(err, "it wrote no text");
		ret = -PRL_EFORMAT;
	}
	if (ret == -PRL_ENOMEM && !err->len)
		prl_buf_addstr(err, "out of memory");
	prl_buf_release(&why);
	if (ret < 0) {
		recognized_clear(&r);
		return ret;
	}
	*out = r;
	return 0;
}
