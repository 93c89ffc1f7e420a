/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the transcript files alignment reads
 * (prl_speech_lines_parse): any bytes give either lines that are
 * non-empty, trimmed, valid UTF-8 without a newline or NUL and within the
 * length bound, or a refusal with a sentence and nothing returned.
 */
#include <stdlib.h>
#include <string.h>

#include "parlers/speech.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_buf err = PRL_BUF_INIT;
	char **lines = NULL;
	size_t n = 0;

	if (prl_speech_lines_parse((const char *)data, size, &lines, &n, &err) == 0) {
		if (n == 0 || !lines)
			abort();
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(lines[i]);

			if (len == 0 || len > PRL_SPEECH_LINE_MAX || strchr(lines[i], '\n') ||
			    lines[i][0] == ' ' || lines[i][len - 1] == ' ' ||
			    !prl_utf8_valid(lines[i], len))
				abort();
		}
		prl_speech_lines_free(lines, n);
	} else if (lines || err.len == 0) {
		abort();
	}
	prl_buf_release(&err);
	return 0;
}
