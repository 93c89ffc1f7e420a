/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Background jobs: work that takes longer than a request may wait (an
 * upload ingested, a recording segmented or aligned, a recognizer run),
 * queued in the archive and done by one worker thread of `parlers serve`.
 *
 * A job is a row of the jobs table (schema 14): its kind, the recording it
 * concerns (if any), its parameters as JSON text, its status (queued,
 * running, done, failed, cancelled), its progress in 0..1 with a short
 * message, and at the end a result (JSON text) or an error sentence.
 *
 * Always holds: a recording has at most one unfinished job (the schema
 * says so: a second is refused with -PRL_EEXIST); a job's outcome is
 * written once, after its work committed or rolled back, so a job marked
 * done has its result in the archive and a failed one left nothing of it;
 * jobs a stopped or killed server left queued or running are marked failed
 * when the next worker starts, never resumed half-way.
 *
 * Expected workload: a few jobs an hour, each seconds to minutes long;
 * progress is written at most four times a second.
 */
#ifndef PARLERS_JOBS_H
#define PARLERS_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "parlers/archive.h"

#define PRL_JOB_KIND_MAX 32 /* bytes of a kind's name */

/* What a running job's function is given to report through. */
struct prl_job_run;

/* A kind of job: its name and the function that does the work in the
 * worker thread, on the worker's own archive handle a.  recording_id is
 * the job's recording (0: none), params its parameters (JSON text, or NULL).
 * The function returns 0 after prl_job_result(), or a negative prl_err
 * after prl_job_fail_reason(); -PRL_ECANCELED when prl_job_progress() said
 * the job was cancelled. */
struct prl_job_kind {
	const char *name;
	int (*run)(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		   const char *params, void *user);
	void *user;
};

/* Progress: fraction in 0..1 and a short message (or NULL).  Returns 0, or
 * -PRL_ECANCELED when the job was cancelled or the server is stopping:
 * the function then undoes what it began and returns that. */
int prl_job_progress(struct prl_job_run *run, double fraction, const char *message);

/* What the job made: JSON text kept as its result (or NULL), and the
 * recording it made or changed (0: none). */
int prl_job_result(struct prl_job_run *run, const char *result_json, int64_t recording_id);

/* Why the job failed: one sentence for the person who asked for it. */
void prl_job_fail_reason(struct prl_job_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queues a job of kind for recording_id (0: none) with params (JSON text
 * or NULL) asked by user_id (0: the command line); *job_id its id.
 * -PRL_EEXIST when the recording already has an unfinished job. */
int prl_jobs_submit(struct prl_archive *a, const char *kind, int64_t recording_id,
		    const char *params, int64_t user_id, int64_t *job_id);

/* The job as GET /api/jobs/{jid} shows it, appended to out, when viewer v
 * may see it: staff who may change its recording, or for a job without
 * one its author and the network's admins.  -PRL_ENOTFOUND otherwise. */
int prl_job_json(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		 struct prl_buf *out);

/* Jobs v may see, newest first, of recording_id (0: every recording), as
 * {"jobs": [...]}; at most limit (1..200). */
int prl_jobs_list_json(struct prl_archive *a, const struct prl_viewer *v, int64_t recording_id,
		       int limit, struct prl_buf *out);

/* Cancels job id for v (who must be able to see it): a queued job is
 * cancelled at once, a running one when its function next reports
 * progress.  -PRL_ECONFLICT when it has already ended. */
int prl_job_cancel(struct prl_archive *a, const struct prl_viewer *v, int64_t id);

/* The kind "rebuild" (rebuild.c): remakes recording_id's derivatives, those
 * params {"what": "opus,mp3,peaks,muted"} lists (absent: all), as
 * `parlers rebuild --ids` does; its result {"rebuilt": ["opus", ...]}. */
int prl_job_rebuild(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		    const char *params, void *user);

/* The worker: one thread with its own handle on the archive in dir, doing
 * queued jobs of the kinds given (kinds must outlive it) oldest first.
 * Starting it marks the jobs an earlier worker left unfinished as failed.
 * One worker per process. */
struct prl_jobs_worker;
int prl_jobs_start(const char *dir, const struct prl_job_kind *kinds, size_t nkinds,
		   struct prl_jobs_worker **out, struct prl_buf *err);
/* Stops the worker: a running job is told to cancel and is marked failed
 * (the server stopped) once its function returns. */
void prl_jobs_stop(struct prl_jobs_worker *w);
/* Waits until no job is queued or running (for tests and the command
 * line), at most timeout_ms; 0 when idle, -PRL_EBUSY when not. */
int prl_jobs_wait_idle(struct prl_jobs_worker *w, int timeout_ms);

#endif
