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

/* What a run is doing when it calls its tick. */
enum recognizer_phase {
	RECOGNIZER_DECODING, /* writing the WAV */
	RECOGNIZER_RUNNING,  /* the command runs */
};

/* Called about four times a second during a run with the phase and the
 * seconds spent in it; a non-zero return stops the run. */
typedef int (*recognizer_tick)(void *ctx, enum recognizer_phase phase, double elapsed_s);

/*
 * Runs r on the recording at media_path: writes it as a 16 kHz mono
 * 16-bit WAV in a new temporary folder, runs the command with the path in
 * place of {wav}, and collects its standard output into out, stopping it
 * (its whole process group) after timeout_s seconds (0: r's), or as soon
 * as tick (may be NULL) returns non-zero.  The temporary folder is removed
 * either way.  Errors: the decoder's, -PRL_EIO (it could not be started,
 * failed, or was killed), -PRL_EINVAL (timed out, or wrote more than
 * RECOGNIZER_OUTPUT_MAX), -PRL_ECANCELED (tick stopped it); one sentence
 * in err.
 */
int recognizer_run(const struct recognizer *r, const char *media_path, int timeout_s,
		   recognizer_tick tick, void *tick_ctx, struct prl_buf *out, struct prl_buf *err);

/* ---- the whole of `parlers recognize` (recognize-step.c) ---- */

/* Reads the recognizers declared in dir's RECOGNIZERS_FILE into *rs (none
 * when there is no such file).  Errors: -PRL_EIO (it cannot be read),
 * -PRL_EFORMAT; one sentence naming the file in err. */
int recognizers_load(const char *dir, struct recognizers *rs, struct prl_buf *err);

struct recognize_opts {
	const char *tier; /* the new tier's name; NULL: the recognizer's */
	int replace;	  /* a tier of that name already there is replaced */
	int timeout_s;	  /* 0: the recognizer's */
	/* Progress in 0..1 with a short message, a few times a second; a
	 * negative return stops the work before anything is stored (the
	 * call then returns -PRL_ECANCELED).  May be NULL. */
	int (*progress)(void *ctx, double fraction, const char *message);
	void *progress_ctx;
};

/* What a recognition stored; release with recognize_done_clear(). */
struct recognize_done {
	int64_t tier_id;
	struct prl_machine_tier t; /* the tier as stored (its pointers into what follows) */
	struct recognized got;
	struct prl_machine_segment *aligned;
	struct prl_buf settings, annotator;
};

/*
 * Runs r on recording id of a (opened for writing with staff rights) and
 * stores what it returns as one machine-made tier (origin_tool: r's name):
 * timed output keeps its times, cut to the recording; plain text is
 * aligned with r's language.  The tier is stored in the last step, in one
 * transaction with its history row, so a failure or a stop leaves none.
 * Errors: the archive's, the run's, -PRL_EFORMAT (garbage), -PRL_ENOTFOUND
 * (nothing within the recording), -PRL_ECANCELED; one sentence in err.
 */
int recognize_recording(struct prl_archive *a, int64_t id, const struct recognizer *r,
			const struct recognize_opts *o, struct recognize_done *d,
			struct prl_buf *err);
void recognize_done_clear(struct recognize_done *d);

#endif
