/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Recognizers brought by the operator: the "recognizers" file of the data
 * folder that declares them, the run of one (a 16 kHz mono WAV in, its
 * standard output back, within a time limit), and the reading of what it
 * wrote (WebVTT, SRT, JSON, or plain text to be aligned).
 *
 * The file, INI-like (one section per recognizer; '#' or ';' starts a
 * comment line):
 *
 *     [pocketsphinx]
 *     command = /usr/share/parlers/pocketsphinx-vtt {wav}
 *     format = auto        # vtt, srt, json, text or auto (the default)
 *     language = en        # the voice that aligns plain text (default fr)
 *     timeout = 600        # seconds before it is stopped (default 600)
 *
 * {wav} in the command becomes the quoted path of the WAV file; the
 * command runs under /bin/sh with the standard input empty.
 */
#ifndef PARLERS_CLI_RECOGNIZER_H
#define PARLERS_CLI_RECOGNIZER_H

#include "parlers/archive.h"

#define RECOGNIZERS_FILE "recognizers"		  /* in the data folder */
#define RECOGNIZER_TIMEOUT_S 600		  /* when the file names none */
#define RECOGNIZER_OUTPUT_MAX (64u * 1024 * 1024) /* bytes read from its output */

enum recognizer_format {
	RECOGNIZER_AUTO = 0, /* told apart by the first bytes */
	RECOGNIZER_VTT,
	RECOGNIZER_SRT,
	RECOGNIZER_JSON,
	RECOGNIZER_TEXT,
};

struct recognizer {
	char *name;		       /* the section's name */
	char *command;		       /* the shell command, with {wav} */
	char *language;		       /* espeak-ng voice for plain text; NULL: "fr" */
	enum recognizer_format format; /* what it writes */
	int timeout_s;		       /* seconds */
};

struct recognizers {
	struct recognizer *r; /* in the file's order */
	size_t n;
};

/* Reads the declarations in data (len bytes) into *out (cleared with
 * recognizers_clear()).  Errors: -PRL_EFORMAT naming the line and what is
 * wrong in err, -PRL_ENOMEM.  *out is written only on success. */
int recognizers_parse(const char *data, size_t len, struct recognizers *out, struct prl_buf *err);
void recognizers_clear(struct recognizers *rs);
const struct recognizer *recognizers_find(const struct recognizers *rs, const char *name);
const char *recognizer_format_name(enum recognizer_format f);

/* What a recognizer returned: timed segments, or lines to align. */
struct recognized {
	enum recognizer_format format;	  /* the one found */
	struct prl_machine_segment *segs; /* timed: in order, apart, non-empty texts */
	char **lines;			  /* the texts of segs, or the plain lines */
	size_t n;
};

/*
 * Reads a recognizer's output of len bytes in format f (RECOGNIZER_AUTO:
 * "WEBVTT" starts WebVTT, '{' JSON, a number then a "-->" line SRT, else
 * plain text).  JSON is {"segments": [{"start", "end" (seconds) or
 * "start_ms", "end_ms", "text"}]} or whisper.cpp's {"transcription":
 * [{"offsets": {"from", "to"}, "text"}]}.  Segments with empty text are
 * dropped; one that begins before the last ends is cut to begin there.
 * Errors: -PRL_EFORMAT (garbage, or no text at all), -PRL_ENOMEM; one
 * sentence in err.  *out (cleared with recognized_clear()) is written only
 * on success.
 */
int recognized_parse(const char *data, size_t len, enum recognizer_format f, struct recognized *out,
		     struct prl_buf *err);
void recognized_clear(struct recognized *r);

/*
 * Runs r on the recording at media_path: writes it as a 16 kHz mono
 * 16-bit WAV in a new temporary folder, runs the command with the path in
 * place of {wav}, and collects its standard output into out, stopping it
 * (its whole process group) after timeout_s seconds (0: r's).  The
 * temporary folder is removed either way.  Errors: the decoder's,
 * -PRL_EIO (it could not be started, failed, or was killed), -PRL_EINVAL
 * (timed out, or wrote more than RECOGNIZER_OUTPUT_MAX); one sentence in err.
 */
int recognizer_run(const struct recognizer *r, const char *media_path, int timeout_s,
		   struct prl_buf *out, struct prl_buf *err);

#endif
