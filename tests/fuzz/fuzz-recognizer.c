/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for what a recognizer brings (cli/recognizer.c): the same
 * bytes read as the operator's recognizers file and as a recognizer's
 * output in every format.  Any bytes give either a whole answer (a file
 * whose recognizers all have a name and a command with {wav}; timed
 * segments in order, apart, with non-empty UTF-8 text; or the lines
 * alignment reads) or a refusal with a sentence and nothing returned.
 */
#include <stdlib.h>
#include <string.h>

#include "recognizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_output(const char *text, size_t size, enum recognizer_format f)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct recognized r = {0};
	size_t i;

	if (recognized_parse(text, size, f, &r, &err) == 0) {
		if (r.n == 0 || !r.lines)
			abort();
		for (i = 0; i < r.n; i++) {
			if (!r.lines[i][0] || !prl_utf8_valid(r.lines[i], strlen(r.lines[i])))
				abort();
			if (r.format == RECOGNIZER_TEXT)
				continue;
			if (!r.segs || r.segs[i].text != r.lines[i] || r.segs[i].start_ms < 0 ||
			    r.segs[i].end_ms <= r.segs[i].start_ms ||
			    (i > 0 && r.segs[i].start_ms < r.segs[i - 1].end_ms))
				abort();
		}
		recognized_clear(&r);
	} else if (r.n || err.len == 0) {
		abort();
	}
	prl_buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct recognizers rs = {0};
	const char *text = (const char *)data;
	size_t i;
	int f;

	if (recognizers_parse(text, size, &rs, &err) == 0) {
		for (i = 0; i < rs.n; i++)
			if (!rs.r[i].name[0] || !rs.r[i].command ||
			    !strstr(rs.r[i].command, "{wav}") || rs.r[i].timeout_s < 1 ||
			    recognizers_find(&rs, rs.r[i].name) != &rs.r[i])
				abort();
		recognizers_clear(&rs);
	} else if (rs.n || err.len == 0) {
		abort();
	}
	prl_buf_release(&err);
	for (f = RECOGNIZER_AUTO; f <= RECOGNIZER_TEXT; f++)
		check_output(text, size, (enum recognizer_format)f);
	return 0;
}
