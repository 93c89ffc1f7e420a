/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * HTTP details that must be exactly right and are easy to test alone:
 * byte ranges (RFC 9110 section 14), entity-tag comparison (section 8.8.3),
 * HTTP dates (section 5.6.7), percent-decoding that never lets a NUL cut a
 * path short, Accept-Language, and the escaping that keeps visitor text out
 * of log lines and JSON out of the HTML parser's way.
 *
 * Always holds: nothing here allocates except web_json_for_script (into the
 * caller's buffer) or looks at anything but its arguments; a header too
 * strange to read is treated as absent, the way RFC 9110 asks servers to
 * ignore what they cannot use.
 *
 * Expected workload: a few calls per request, on headers of at most 16 KiB.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web-internal.h"

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads 1*DIGIT at *pp; numbers past INT64_MAX saturate there (a range
 * that large can only be past the end). Returns 0, or -1 when no digit. */
static int read_digits(const char **pp, int64_t *out)
{
	const char *p = *pp;
	int64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		int d = *p - '0';

		if (v > (INT64_MAX - d) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return 0;
}

enum web_range_kind web_range_parse(const char *header, int64_t size, int64_t *first, int64_t *last)
{
	const char *p;
	int64_t a = -1, b = -1, suffix = -1;
	int specs = 0;

	if (!header || size < 0)
		return WEB_RANGE_NONE;
	p = skip_ows(header);
	if (strncasecmp(p, "bytes", 5) != 0)
		return WEB_RANGE_NONE; /* another unit: ignored, as RFC 9110 says */
	p = skip_ows(p + 5);
	if (*p++ != '=')
		return WEB_RANGE_NONE;
	/* 1#range-spec: a list, where empty elements are allowed and ignored */
	for (;;) {
		int64_t x = -1, y = -1, s = -1;

		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p)
			break;
		if (*p == '-') {
			p++;
			if (read_digits(&p, &s) < 0)
				return WEB_RANGE_NONE;
		} else {
			if (read_digits(&p, &x) < 0 || *p++ != '-')
				return WEB_RANGE_NONE;
			if (isdigit((unsigned char)*p))
				read_digits(&p, &y);
			if (y >= 0 && y < x)
				return WEB_RANGE_NONE; /* invalid range-spec: ignore the field */
		}
		p = skip_ows(p);
		if (*p && *p != ',')
			return WEB_RANGE_NONE;
		if (++specs == 1) {
			a = x;
			b = y;
			suffix = s;
		}
	}
	if (specs != 1)
		return WEB_RANGE_NONE; /* none, or several: the whole representation */
	if (suffix >= 0) {
		if (suffix == 0 || size == 0)
			return WEB_RANGE_UNSATISFIABLE;
		*first = suffix >= size ? 0 : size - suffix;
		*last = size - 1;
		return WEB_RANGE_ONE;
	}
	if (a >= size)
		return WEB_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b < 0 || b >= size ? size - 1 : b;
	return WEB_RANGE_ONE;
}

/* Walks an entity-tag list (RFC 9110: #entity-tag, or "*"). Returns 1 when
 * etag is in it under the given comparison, 0 otherwise or when malformed. */
static int etag_list_match(const char *header, const char *etag, int strong)
{
	const char *p = header;
	size_t elen;

	if (!header || !etag)
		return 0;
	elen = strlen(etag);
	p = skip_ows(p);
	if (*p == '*' && !*skip_ows(p + 1))
		return 1;
	for (;;) {
		int weak = 0;
		const char *q;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		if (p[0] == 'W' && p[1] == '/') {
			weak = 1;
			p += 2;
		}
		if (*p != '"')
			return 0;
		q = strchr(p + 1, '"');
		if (!q)
			return 0;
		/* our own tags are strong ("..."), so weak comparison only drops W/ */
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0 && !(strong && weak))
			return 1;
		p = skip_ows(q + 1);
		if (*p && *p != ',')
			return 0;
	}
}

int web_etag_match_weak(const char *header, const char *etag)
{
	return etag_list_match(header, etag, 0);
}

int web_etag_match_strong(const char *header, const char *etag)
{
	return etag_list_match(header, etag, 1);
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void web_http_date(time_t t, char out[32])
{
	char tmp[96];
	struct tm tm;

	/* by hand rather than strftime: the names must not follow the locale */
	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	snprintf(out, 32, "%.31s", tmp);
}

static int month_index(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (strncmp(m, months[i], 3) == 0)
			return i;
	return -1;
}

int web_http_date_parse(const char *s, time_t *t)
{
	struct tm tm;
	char wd[16], mon[4];
	int day, year, h, mi, sec, n = 0;
	time_t v;

	if (!s)
		return -1;
	s = skip_ows(s);
	memset(&tm, 0, sizeof(tm));
	/* IMF-fixdate, then the two obsolete forms a recipient must accept */
	if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &day, mon, &year, &h, &mi, &sec,
		   &n) == 7 &&
	    n > 0) {
	} else if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wd, &day, mon, &year, &h,
			  &mi, &sec, &n) == 7 &&
		   n > 0) {
		year += year < 70 ? 2000 : 1900;
	} else if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &day, &h, &mi, &sec, &year,
			  &n) == 7 &&
		   n > 0) {
	} else {
		return -1;
	}
	if (*skip_ows(s + n))
		return -1;
	if ((tm.tm_mon = month_index(mon)) < 0 || day < 1 || day > 31 || h > 23 || mi > 59 ||
	    sec > 60 || year < 1970)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((v = timegm(&tm)) == (time_t)-1)
		return -1;
	*t = v;
	return 0;
}

int web_parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return -1;
	*out = v;
	return 0;
}

int web_parse_id_str(const char *s, int64_t *out)
{
	size_t n = 0;

	while (n < 20 && s[n])
		n++;
	return s[n] ? -1 : web_parse_id(s, n, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t web_unescape(char *s)
{
	char *w = s;
	const char *r = s;

	while (*r) {
		int hi, lo;

		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

void web_log_escape(char *out, size_t out_size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!out_size)
		return;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x21 && c < 0x7f && c != '\\') {
			if (n + 1 >= out_size)
				break;
			out[n++] = (char)c;
		} else {
			if (n + 4 >= out_size)
				break;
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

int web_local_path(const char *s)
{
	/* The browser drops tab, LF and CR anywhere in a URL, strips leading
	 * and trailing spaces and controls, and reads '\\' as '/': "/\t/evil"
	 * is "//evil", another host.  A path of ours needs none of them. */
	if (!s || s[0] != '/' || s[1] == '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '\\')
			return 0;
	return 1;
}

int web_json_for_script(struct prl_buf *b, const char *json, size_t len)
{
	size_t start = 0;
	int ret = 0;

	for (size_t i = 0; i < len && ret == 0; i++) {
		if (json[i] != '<')
			continue;
		if ((ret = prl_buf_add(b, json + start, i - start)) == 0)
			ret = prl_buf_addstr(b, "\\u003c");
		start = i + 1;
	}
	if (ret == 0)
		ret = prl_buf_add(b, json + start, len - start);
	return ret;
}

static const char *const lang_codes[WEB_NLANGS] = {"fr", "en"};

const char *web_lang_code(enum web_lang l)
{
	return (unsigned)l < WEB_NLANGS ? lang_codes[l] : "fr";
}

/* The language of a tag's primary subtag ("en-GB" is English), or -1. */
static int lang_of_tag(const char *s, size_t len)
{
	for (int i = 0; i < WEB_NLANGS; i++)
		if (len >= 2 && strncasecmp(s, lang_codes[i], 2) == 0 && (len == 2 || s[2] == '-'))
			return i;
	return -1;
}

int web_lang_parse(const char *s)
{
	return s ? lang_of_tag(s, strlen(s)) : -1;
}

int web_lang_accept(const char *header)
{
	const char *p = header;
	int best = -1;
	double best_q = 0;

	while (p && *p) {
		const char *tag, *end;
		double q = 1.0;
		size_t tlen;
		int l;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		tag = p;
		while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		tlen = (size_t)(p - tag);
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		/* the weight, when given, is the only parameter */
		for (const char *w = p; w < end; w++) {
			if ((w[0] == 'q' || w[0] == 'Q') && w[1] == '=') {
				q = strtod(w + 2, NULL);
				break;
			}
		}
		l = lang_of_tag(tag, tlen);
		if (l >= 0 && q > best_q) {
			best = l;
			best_q = q;
		}
		p = end;
	}
	return best;
}

/* ---- Media Fragments time spans (the embed's ?t=) ---- */

#define SPAN_MAX_SECONDS 360000 /* past 100 hours is no time of ours */

/* One time of a Media Fragments "t=" value, in seconds with an optional
 * fraction (npt: "12", "12.5", "12."); *ms gets it in milliseconds.  True when s
 * (up to end) is one. */
static int parse_seconds(const char *s, const char *end, int64_t *ms)
{
	int64_t whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	/* npt-sec = 1*DIGIT [ "." *DIGIT ] */
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > SPAN_MAX_SECONDS)
			return 0;
	}
	if (p == s)
		return 0;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			if (scale > 1)
				frac += (*p - '0') * (scale /= 10);
	if (p != end)
		return 0;
	*ms = whole * 1000 + frac;
	return 1;
}

/* "START,END", "START" or ",END" in seconds → [*t0, *t1) in ms within a
 * recording of duration_ms; NULL is the whole recording.  True when valid:
 * the span is not empty and starts inside the recording. */
int web_parse_span(const char *t, int64_t duration_ms, int64_t *t0, int64_t *t1)
{
	const char *comma;
	int64_t a = 0, b = duration_ms;

	if (t) {
		comma = strchr(t, ',');
		if (comma) {
			if (comma > t && !parse_seconds(t, comma, &a))
				return 0;
			if (!parse_seconds(comma + 1, comma + strlen(comma), &b))
				return 0;
		} else if (!parse_seconds(t, t + strlen(t), &a)) {
			return 0;
		}
	}
	if (b > duration_ms)
		b = duration_ms;
	if (a >= b)
		return 0;
	*t0 = a;
	*t1 = b;
	return 1;
}
