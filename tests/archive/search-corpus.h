/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A small archive for comparing the two ways search answers (FTS5 and the
 * postings in memory): shared by test-search and the fuzz-search target.
 */
#ifndef PARLERS_TESTS_SEARCH_CORPUS_H
#define PARLERS_TESTS_SEARCH_CORPUS_H

#include "archive-internal.h"

/* Runs SQL on the archive's connection: 0, or -1. */
int search_corpus_exec(struct prl_archive *a, const char *sql);

/*
 * Fills an empty archive, rows written straight into the store: 12
 * recordings at the three access levels, in two places, with speakers and
 * varieties, each a transcription and a translation tier, and 900 segments
 * of words drawn so that the first ones are in most segments (accents,
 * elisions, ligatures, a word that is also a filter token), some longer
 * than 63 words, some with a phrase past position 63.  The same every time.
 */
void search_corpus_fill(struct prl_archive *a);

/*
 * For the fuzz targets: an archive made once per process in a scratch
 * folder (/dev/shm when it can be written, else $TMPDIR or /tmp; its name
 * says who made it) and filled as search_corpus_fill() does; removed with
 * its folder when the process exits.  Aborts when it cannot be made.
 */
struct prl_archive *search_corpus_scratch(const char *who);

#endif
