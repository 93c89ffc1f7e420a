/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the catalogue's request bodies: every input is given,
 * as staff, as a metadata edit of a recording, a speaker's and a place's
 * edit, on a small archive (tests/archive/search-corpus.c).  Each call
 * either applies the change or refuses it with a sentence; after it the
 * recording still reads back (a title, a version that never goes down),
 * and a refused edit changed nothing.  The archive lives in /dev/shm when
 * there is one: edits commit with synchronous=FULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "search-corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prl_archive *archive;

static void setup(void)
{
	if (archive)
		return;
	archive = search_corpus_scratch("fuzz-catalogue");
}

/* Recording 1 as staff see it: its JSON, its version. */
static char *recording(int64_t *version)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	json_t *rec;

	if (prl_archive_recording_json(archive, &staff, 1, &out) < 0)
		abort(); /* an edit never loses the recording */
	rec = json_loads(prl_buf_str(&out), 0, NULL);
	if (!rec || !json_string_length(json_object_get(rec, "title")))
		abort(); /* nor its title */
	*version = json_integer_value(json_object_get(rec, "version"));
	json_decref(rec);
	return prl_buf_detach(&out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	int64_t v0, v1;
	char *before, *after;
	int ret;

	if (size > 8192)
		return 0;
	setup();
	before = recording(&v0);
	ret = prl_archive_recording_edit(archive, &staff, 1, (const char *)data, size, &out);
	if (ret < 0 && !prl_archive_errmsg(archive)[0])
		abort(); /* a refusal always says why */
	after = recording(&v1);
	if (v1 < v0 || (ret < 0 && strcmp(before, after)))
		abort(); /* a refused edit changes nothing */
	prl_buf_reset(&out);
	if (prl_archive_speaker_edit(archive, &staff, 1, (const char *)data, size, &out) < 0 &&
	    !prl_archive_errmsg(archive)[0])
		abort();
	prl_buf_reset(&out);
	if (prl_archive_place_edit(archive, &staff, 1, (const char *)data, size, &out) < 0 &&
	    !prl_archive_errmsg(archive)[0])
		abort();
	free(before);
	free(after);
	prl_buf_release(&out);
	return 0;
}
