/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The speech tools as background jobs of `parlers serve` (parlers/jobs.h):
 * "segment", "align" and "recognize", queued by POST
 * /api/recordings/{id}/segment, /align and /recognize, done by the server's
 * worker with the same steps as the commands (speech-steps.h,
 * recognize_recording() of recognizer.h).
 */
#ifndef PARLERS_CLI_SPEECH_JOBS_H
#define PARLERS_CLI_SPEECH_JOBS_H

#include "parlers/jobs.h"

/* params {tier?, min_pause_ms?, min_speech_ms?, threshold_db?, replace?};
 * result as `parlers segment --json` prints it. */
int speech_job_segment(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		       const char *params, void *user);
/* params {text, tier?, type?, language?, replace?}: text holds the
 * transcript, one line a segment; result as `parlers align --json`. */
int speech_job_align(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		     const char *params, void *user);

/* params {with, tier?, replace?}: with names one of the recognizers user
 * points to (a const struct recognizers *, those the server read when it
 * started); result as `parlers recognize --json`.  A cancel stops the
 * recognizer's process at once and leaves no tier. */
int speech_job_recognize(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
			 const char *params, void *user);

#endif
