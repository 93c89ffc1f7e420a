/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The transcript file alignment reads: one segment's text per line.
 * Outside input, so everything is checked: UTF-8 (a byte-order mark is
 * skipped), no NUL byte, lines of bounded length; CR before LF and spaces
 * at either end are dropped, and blank lines skipped.
 *
 * Always holds: on success every line returned is non-empty, valid UTF-8
 * without control characters other than tab; on failure nothing is
 * returned.  Work is linear in the file's size.
 */
#include <stdlib.h>
#include <string.h>

#include "speech-internal.h"

void prl_speech_lines_free(char **lines, size_t n)
{
	if (!lines)
		return;
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int prl_speech_lines_parse(const char *data, size_t len, char ***out, size_t *count,
			   struct prl_buf *err)
{
	char **lines = NULL;
	size_t n = 0, cap = 0, pos = 0, lineno = 0;
	int ret = 0;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	if (memchr(data, '\0', len)) {
		ret = -PRL_EFORMAT;
		prl_buf_addstr(err, "the transcript holds NUL bytes: it is not a text file");
		goto end;
	}
	if (!prl_utf8_valid(data + pos, len - pos)) {
		ret = -PRL_EFORMAT;
		prl_buf_addstr(err, "the transcript is not UTF-8 text");
		goto end;
	}
	while (pos < len) {
		const char *s = data + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;
		const char *e = s + l;

		pos += l + (nl ? 1 : 0);
		lineno++;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s == e)
			continue;
		if ((size_t)(e - s) > PRL_SPEECH_LINE_MAX) {
			ret = -PRL_EFORMAT;
			prl_buf_addf(err, "line %zu of the transcript is longer than %d bytes",
				     lineno, PRL_SPEECH_LINE_MAX);
			goto end;
		}
		for (const char *c = s; c < e; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t') {
				ret = -PRL_EFORMAT;
				prl_buf_addf(err,
					     "line %zu of the transcript holds control characters: "
					     "it is not a text file",
					     lineno);
				goto end;
			}
		if (n == cap) {
			char **g;

			cap = cap ? cap * 2 : 64;
			if (!(g = realloc(lines, cap * sizeof(*g)))) {
				ret = -PRL_ENOMEM;
				goto end;
			}
			lines = g;
		}
		if (!(lines[n] = strndup(s, (size_t)(e - s)))) {
			ret = -PRL_ENOMEM;
			goto end;
		}
		n++;
	}
	if (n == 0) {
		ret = -PRL_EINVAL;
		prl_buf_addstr(err, "the transcript has no line of text");
		goto end;
	}
	*out = lines;
	*count = n;
	lines = NULL;
end:
	if (ret < 0)
		prl_speech_lines_free(lines, n);
	return ret;
}
