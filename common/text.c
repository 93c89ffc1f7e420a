/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text output helpers: UTF-8 validation and the escapers for JSON and XML.
 * Every string parlers writes into JSON or XML passes through here, so the
 * output is well-formed whatever bytes the input held: invalid UTF-8 and
 * characters the target forbids become U+FFFD.
 */
#include <string.h>

#include <utf8proc.h>

#include "parlers/common.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one; *cp receives the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int prl_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0, n;

	while (i < len) {
		if (!(n = utf8_seq(p + i, len - i, &cp)))
			return 0;
		i += n;
	}
	return 1;
}

int prl_buf_add_utf8(struct prl_buf *b, uint32_t cp)
{
	utf8proc_uint8_t u[4];
	utf8proc_ssize_t n;

	if (!utf8proc_codepoint_valid((utf8proc_int32_t)cp))
		cp = 0xfffd;
	n = utf8proc_encode_char((utf8proc_int32_t)cp, u);
	return prl_buf_add(b, u, (size_t)n);
}

int prl_buf_add_utf8_or_latin1(struct prl_buf *b, const char *s, size_t len)
{
	size_t i;
	int ret;

	if (prl_utf8_valid(s, len))
		return prl_buf_add(b, s, len);
	if ((ret = prl_buf_grow(b, 2 * len)) < 0)
		return ret;
	for (i = 0; i < len; i++)
		if ((ret = prl_buf_add_utf8(b, (unsigned char)s[i])) < 0)
			return ret;
	return 0;
}

int prl_json_strn(struct prl_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, run;
	uint32_t cp;
	int ret;

	if ((ret = prl_buf_grow(b, len + 2)) < 0)
		return ret;
	prl_buf_addch(b, '"');
	while (i < len) {
		/* copy the longest run that needs no escaping in one go */
		run = i;
		while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		if (run > i) {
			if ((ret = prl_buf_add(b, p + i, run - i)) < 0)
				return ret;
			i = run;
			continue;
		}
		if (p[i] >= 0x80) {
			n = utf8_seq(p + i, len - i, &cp);
			if (!n) {
				ret = prl_buf_addstr(b, "\xef\xbf\xbd");
				i++;
			} else if (cp == 0x2028 || cp == 0x2029) {
				/* legal JSON, but not legal JavaScript before ES2019 */
				ret = prl_buf_addf(b, "\\u%04x", (unsigned)cp);
				i += n;
			} else {
				ret = prl_buf_add(b, p + i, n);
				i += n;
			}
		} else {
			switch (p[i]) {
			case '"':
				ret = prl_buf_addstr(b, "\\\"");
				break;
			case '\\':
				ret = prl_buf_addstr(b, "\\\\");
				break;
			case '\n':
				ret = prl_buf_addstr(b, "\\n");
				break;
			case '\r':
				ret = prl_buf_addstr(b, "\\r");
				break;
			case '\t':
				ret = prl_buf_addstr(b, "\\t");
				break;
			default:
				ret = prl_buf_addf(b, "\\u%04x", p[i]);
				break;
			}
			i++;
		}
		if (ret < 0)
			return ret;
	}
	return prl_buf_addch(b, '"');
}

int prl_json_str(struct prl_buf *b, const char *s)
{
	if (!s)
		return prl_buf_addstr(b, "null");
	return prl_json_strn(b, s, strlen(s));
}

int prl_xml_escape(struct prl_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	uint32_t cp;
	int ret = 0;

	while (i < len && ret == 0) {
		n = utf8_seq(p + i, len - i, &cp);
		if (!n) {
			ret = prl_buf_addstr(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		switch (cp) {
		case '&':
			ret = prl_buf_addstr(b, "&amp;");
			break;
		case '<':
			ret = prl_buf_addstr(b, "&lt;");
			break;
		case '>':
			ret = prl_buf_addstr(b, "&gt;");
			break;
		case '"':
			ret = prl_buf_addstr(b, "&quot;");
			break;
		case '\'':
			ret = prl_buf_addstr(b, "&apos;");
			break;
		case '\r':
			ret = prl_buf_addstr(b, "&#13;");
			break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xfffe || cp == 0xffff)
				ret = prl_buf_addstr(b, "\xef\xbf\xbd");
			else
				ret = prl_buf_add(b, p + i, n);
		}
		i += n;
	}
	return ret;
}
