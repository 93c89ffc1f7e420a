/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The steps that segment, align and recognize share, whether the command
 * line runs them or the server runs them as a background job: open a
 * recording for writing and find its original, turn speech/'s answer into
 * segments that fit the recording, store them as one machine-made tier,
 * and say what was made as JSON.  Nothing here prints: a failure leaves
 * one sentence in err, which the command prints and a job keeps.
 */
#ifndef PARLERS_CLI_SPEECH_STEPS_H
#define PARLERS_CLI_SPEECH_STEPS_H

#include "parlers/archive.h"
#include "parlers/speech.h"

/* A recording opened for a tool that writes a tier to it. */
struct speech_target {
	int64_t id;		      /* the recording */
	struct prl_recording_brief b; /* its duration among the rest */
	struct prl_media m;	      /* its original, read only */
};

/* Opens recording id of a for writing (staff rights) and finds its
 * original.  Errors: -PRL_ENOTFOUND and the archive's, with a sentence in
 * err.  Release t with speech_target_clear() either way. */
int speech_target_open(struct prl_archive *a, int64_t id, struct speech_target *t,
		       struct prl_buf *err);
void speech_target_clear(struct speech_target *t);

/* The stretches of speech in t's recording, as segments with empty text
 * (*segs new, the caller frees; *n > 0).  Errors: the decoder's,
 * -PRL_ENOMEM, -PRL_ENOTFOUND when no speech is found; a sentence in err. */
int speech_segments(const struct speech_target *t, const struct prl_speech_seg_opts *so,
		    struct prl_machine_segment **segs, size_t *n, struct prl_buf *err);

/* The n lines placed on t's recording by forced alignment, with their
 * confidence, trimmed to the recording's duration (*segs new, n entries,
 * texts borrowed from lines).  Errors as prl_speech_align's and the
 * decoder's, with a sentence in err. */
int speech_align_lines(const struct speech_target *t, char *const *lines, size_t n,
		       const struct prl_speech_align_opts *ao, struct prl_machine_segment **segs,
		       struct prl_buf *err);

/* Stores tt as one machine-made tier of t's recording (whole or not at
 * all); *tier_id gets its id.  Errors as prl_archive_machine_tier_put's,
 * its message in err. */
int speech_store(struct prl_archive *a, const struct speech_target *t,
		 const struct prl_machine_tier *tt, int64_t *tier_id, struct prl_buf *err);

/* What a tool made, as the commands print it with --json and a job keeps
 * as its result: {recording_id, tier_id, tier, settings, segments: [{start_ms,
 * end_ms[, text, confidence, doubtful]}]}; with_text adds the last three. */
void speech_result_json(struct prl_buf *out, int64_t id, int64_t tier_id,
			const struct prl_machine_tier *tt, int with_text);

#endif
