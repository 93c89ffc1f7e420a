/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The speech tools as background jobs of `parlers serve` (parlers/jobs.h):
 * "segment" and "align", queued by POST /api/recordings/{id}/segment and
 * /align, done by the server's worker with the same steps as the commands
 * (speech-steps.h).
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

#endif
