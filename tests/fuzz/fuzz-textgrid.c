/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the Praat TextGrid (long and short text, all encodings) reader, and through it
 * every writer (see fuzz-annot.h).  Built as a libFuzzer binary with -Dfuzz=true, else linked with
 * replay.c and run over its seeds in the normal test suite.
 */
#include "fuzz-annot.h"

FUZZ_ANNOT_TARGET(PRL_FMT_TEXTGRID)
