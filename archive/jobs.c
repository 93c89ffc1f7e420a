/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Background jobs (include/parlers/jobs.h): the queue in the jobs table
 * and the one worker thread of a server that empties it.
 *
 * Always holds: only the worker writes a job's status after it was
 * queued (a cancel only raises the job's flag, or ends a job nobody
 * started); a job's function runs on the worker's own handle, and a
 * transaction it left open is rolled back before the outcome is written,
 * so the outcome never commits half of the work; a job that was running
 * when its server stopped or was killed is failed by the next worker,
 * queued ones are still done.  Nothing here is shown to a viewer who could
 * not change the job's recording.
 * Expected workload: a handful of jobs an hour; progress rows at most
 * every 250 ms per running job.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive-internal.h"
#include "parlers/jobs.h"

#define PROGRESS_EVERY_MS 250
#define POLL_MS 2000 /* jobs queued by another process are seen this late at most */

struct prl_jobs_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* a job was queued, or stop */
	int stop;	       /* under lock */
	int wake;	       /* under lock */
	struct prl_archive *a; /* the worker thread's own */
	char *dir;	       /* the data folder, for other threads' handles */
	const struct prl_job_kind *kinds;
	size_t nkinds;
};

struct prl_job_run {
	struct prl_jobs_worker *w;
	struct prl_archive *a;
	int64_t id;
	int64_t last_ms; /* when progress was last written */
	char *result;
	int64_t recording_id;
	struct prl_buf reason;
};

/* The worker of this process, told of jobs queued here at once. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prl_jobs_worker *live;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int worker_stopping(struct prl_jobs_worker *w)
{
	int stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

int prl_job_progress(struct prl_job_run *run, double fraction, const char *message)
{
	sqlite3_stmt *st;
	int64_t t = now_ms();
	int cancel = 0;

	if (worker_stopping(run->w))
		return -PRL_ECANCELED;
	if (t - run->last_ms < PROGRESS_EVERY_MS && fraction < 1.0)
		return 0;
	run->last_ms = t;
	/* inside the function's own transaction the row would commit with its
	 * work, or not at all: progress waits for the transaction's end */
	if (!sqlite3_get_autocommit(run->a->db) || !(st = archive_stmt(run->a, ST_JOB_PROGRESS)))
		return 0;
	sqlite3_bind_int64(st, 1, run->id);
	sqlite3_bind_double(st, 2, fraction < 0 ? 0 : fraction > 1 ? 1 : fraction);
	archive_bind_text(st, 3, message);
	/* a busy archive delays the report, never the work: errors are dropped */
	if (sqlite3_step(st) == SQLITE_ROW)
		cancel = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return cancel ? -PRL_ECANCELED : 0;
}

int prl_job_result(struct prl_job_run *run, const char *result_json, int64_t recording_id)
{
	json_t *j;

	if (result_json) {
		/* what the API shows as-is must be JSON */
		if (!(j = json_loads(result_json, JSON_DECODE_ANY, NULL)))
			return -PRL_EINVAL;
		json_decref(j);
	}
	free(run->result);
	run->result = NULL;
	if (result_json && !(run->result = strdup(result_json)))
		return -PRL_ENOMEM;
	run->recording_id = recording_id;
	return 0;
}

void prl_job_fail_reason(struct prl_job_run *run, const char *fmt, ...)
{
	va_list ap;

	prl_buf_reset(&run->reason);
	va_start(ap, fmt);
	prl_buf_vaddf(&run->reason, fmt, ap);
	va_end(ap);
}

int prl_jobs_submit(struct prl_archive *a, const char *kind, int64_t recording_id,
		    const char *params, int64_t user_id, int64_t *job_id)
{
	sqlite3_stmt *st;
	int rc;

	if (!kind || !*kind || strlen(kind) > PRL_JOB_KIND_MAX)
		return archive_fail(a, -PRL_EINVAL, "a job's kind is 1 to %d bytes",
				    PRL_JOB_KIND_MAX);
	if (!(st = archive_stmt(a, ST_JOB_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, kind);
	if (recording_id > 0)
		sqlite3_bind_int64(st, 2, recording_id);
	archive_bind_text(st, 3, params);
	if (user_id > 0)
		sqlite3_bind_int64(st, 4, user_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return archive_fail(a, -PRL_EEXIST,
				    "recording %lld already has a job under way; wait for it "
				    "or cancel it",
				    (long long)recording_id);
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "queueing a job");
	if (job_id)
		*job_id = sqlite3_last_insert_rowid(a->db);
	pthread_mutex_lock(&live_lock);
	if (live) {
		pthread_mutex_lock(&live->lock);
		live->wake = 1;
		pthread_cond_signal(&live->cond);
		pthread_mutex_unlock(&live->lock);
	}
	pthread_mutex_unlock(&live_lock);
	return 0;
}

/* May v see a job of recording rid (0: none) queued by created_by? */
static int job_visible(struct prl_archive *a, const struct prl_viewer *v, int64_t rid,
		       int64_t created_by)
{
	if (v->role < PRL_ROLE_ANNOTATOR)
		return 0;
	if (v->user_id && v->user_id == created_by)
		return 1;
	if (rid > 0)
		return prl_archive_recording_open(a, v, rid, PRL_MAY_WRITE, NULL) == 0;
	return v->role == PRL_ROLE_ADMIN && v->institution_id == 0;
}

static void add_text_field(struct prl_buf *out, const char *key, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (!s)
		return;
	prl_buf_addf(out, ",\"%s\":", key);
	prl_json_str(out, s);
}

/* Row st of ST_JOB_GET as JSON. */
static void job_row_json(sqlite3_stmt *st, struct prl_buf *out)
{
	const char *result = (const char *)sqlite3_column_text(st, 7);

	prl_buf_addf(out, "{\"id\":%lld,\"kind\":", (long long)sqlite3_column_int64(st, 0));
	prl_json_str(out, (const char *)sqlite3_column_text(st, 1));
	prl_buf_addstr(out, ",\"status\":");
	prl_json_str(out, (const char *)sqlite3_column_text(st, 3));
	prl_buf_addf(out, ",\"progress\":%.3f", sqlite3_column_double(st, 4));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		prl_buf_addf(out, ",\"recording_id\":%lld", (long long)sqlite3_column_int64(st, 2));
	add_text_field(out, "message", st, 5);
	add_text_field(out, "error", st, 6);
	if (result) {
		prl_buf_addstr(out, ",\"result\":");
		prl_buf_addstr(out, result);
	}
	add_text_field(out, "created_at", st, 9);
	add_text_field(out, "started_at", st, 10);
	add_text_field(out, "finished_at", st, 11);
	prl_buf_addch(out, '}');
}

int prl_job_json(struct prl_archive *a, const struct prl_viewer *v, int64_t id, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_JOB_GET);
	int64_t rid, created_by;
	int rc, ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? archive_fail(a, -PRL_ENOTFOUND, "no such job")
					 : archive_sql_fail(a, "reading a job");
	}
	rid = sqlite3_column_int64(st, 2);
	created_by = sqlite3_column_int64(st, 8);
	/* the gate reads the recording with statements of its own */
	sqlite3_reset(st);
	if (!job_visible(a, v, rid, created_by))
		return archive_fail(a, -PRL_ENOTFOUND, "no such job");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		job_row_json(st, out);
		ret = 0;
	} else {
		ret = archive_sql_fail(a, "reading a job");
	}
	sqlite3_reset(st);
	return ret;
}

int prl_jobs_list_json(struct prl_archive *a, const struct prl_viewer *v, int64_t recording_id,
		       int limit, struct prl_buf *out)
{
	sqlite3_stmt *st = archive_stmt(a, ST_JOB_LIST);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, i;
	int rc, ret = 0, shown = 0;

	if (!st)
		return -PRL_ESQL;
	if (limit < 1 || limit > 200)
		limit = 50;
	if (recording_id > 0)
		sqlite3_bind_int64(st, 1, recording_id);
	/* ids first: the gate runs statements of its own, not while this one steps */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *more = realloc(ids, (cap = cap ? 2 * cap : 64) * 3 * sizeof(*ids));

			if (!more) {
				ret = -PRL_ENOMEM;
				break;
			}
			ids = more;
		}
		ids[3 * n] = sqlite3_column_int64(st, 0);
		ids[3 * n + 1] = sqlite3_column_int64(st, 1);
		ids[3 * n + 2] = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (!ret && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing jobs");
	if (!ret)
		prl_buf_addstr(out, "{\"jobs\":[");
	for (i = 0; !ret && i < n && shown < limit; i++) {
		size_t mark = out->len;

		if (!job_visible(a, v, ids[3 * i + 1], ids[3 * i + 2]))
			continue;
		if (shown)
			prl_buf_addch(out, ',');
		if ((ret = prl_job_json(a, v, ids[3 * i], out)) == -PRL_ENOTFOUND) {
			out->len = mark; /* gone between the two reads */
			out->data[mark] = '\0';
			ret = 0;
			continue;
		}
		shown++;
	}
	if (!ret)
		prl_buf_addstr(out, "]}");
	free(ids);
	return ret;
}

int prl_job_cancel(struct prl_archive *a, const struct prl_viewer *v, int64_t id)
{
	struct prl_buf seen = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int ret;

	/* who may not see it learns nothing of it */
	ret = prl_job_json(a, v, id, &seen);
	prl_buf_release(&seen);
	if (ret < 0)
		return ret;
	if (!(st = archive_stmt(a, ST_JOB_CANCEL)))
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, id);
	if ((ret = archive_step_done(a, st, "cancelling a job")) < 0)
		return ret;
	if (sqlite3_changes(a->db) == 0)
		return archive_fail(a, -PRL_ECONFLICT, "job %lld has already ended", (long long)id);
	return 0;
}

/* Writes a job's outcome; retried while the archive is busy, as the
 * outcome is what its author waits for. */
static void job_finish(struct prl_archive *a, int64_t id, const char *status, const char *error,
		       const char *result, int64_t recording_id)
{
	sqlite3_stmt *st = archive_stmt(a, ST_JOB_FINISH);
	int rc, tries = 0;

	if (!st)
		return;
	do {
		sqlite3_bind_int64(st, 1, id);
		archive_bind_text(st, 2, status);
		archive_bind_text(st, 3, error);
		archive_bind_text(st, 4, result);
		if (recording_id > 0)
			sqlite3_bind_int64(st, 5, recording_id);
		else
			sqlite3_bind_null(st, 5);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	} while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++tries < 20);
	if (rc != SQLITE_DONE)
		fprintf(stderr, "parlers: job %lld: its outcome could not be written: %s\n",
			(long long)id, sqlite3_errmsg(a->db));
}

static const struct prl_job_kind *kind_find(struct prl_jobs_worker *w, const char *name)
{
	for (size_t i = 0; i < w->nkinds; i++)
		if (!strcmp(w->kinds[i].name, name))
			return &w->kinds[i];
	return NULL;
}

/* Takes the oldest queued job and does it: 1 when there was one, 0 when
 * the queue is empty. */
static int job_do_next(struct prl_jobs_worker *w)
{
	struct prl_archive *a = w->a;
	struct prl_job_run run;
	const struct prl_job_kind *k;
	sqlite3_stmt *st = archive_stmt(a, ST_JOB_NEXT);
	char kind[PRL_JOB_KIND_MAX + 1];
	char *params = NULL;
	int64_t id, rid;
	int ret, started;

	if (!st)
		return 0;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	id = sqlite3_column_int64(st, 0);
	snprintf(kind, sizeof(kind), "%s", (const char *)sqlite3_column_text(st, 1));
	rid = sqlite3_column_int64(st, 2);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		params = strdup((const char *)sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	if (!(k = kind_find(w, kind))) {
		char why[128];

		snprintf(why, sizeof(why), "this server does no jobs of kind '%s'", kind);
		job_finish(a, id, "failed", why, NULL, 0);
		free(params);
		return 1;
	}
	if (!(st = archive_stmt(a, ST_JOB_START))) {
		free(params);
		return 0;
	}
	sqlite3_bind_int64(st, 1, id);
	if (archive_step_done(a, st, "starting a job") < 0) {
		free(params);
		return 0; /* busy: the next turn tries again */
	}
	/* 0: cancelled between the two statements, and so no longer queued */
	started = sqlite3_changes(a->db) == 1;
	if (!started) { /* cancelled in between */
		free(params);
		return 1;
	}
	memset(&run, 0, sizeof(run));
	run.w = w;
	run.a = a;
	run.id = id;
	run.last_ms = INT64_MIN / 2; /* the first report is written at once */
	ret = k->run(&run, a, rid, params, k->user);
	archive_rollback(a); /* what the function left open never commits */
	if (ret == 0) {
		job_finish(a, id, "done", NULL, run.result, run.recording_id);
	} else if (ret == -PRL_ECANCELED) {
		if (worker_stopping(w))
			job_finish(a, id, "failed", "the server stopped while the job ran", NULL,
				   0);
		else
			job_finish(a, id, "cancelled", NULL, NULL, 0);
	} else {
		const char *why = run.reason.len	     ? prl_buf_str(&run.reason)
				  : prl_archive_errmsg(a)[0] ? prl_archive_errmsg(a)
							     : prl_strerror(ret);

		job_finish(a, id, "failed", why, NULL, 0);
	}
	prl_buf_release(&run.reason);
	free(run.result);
	free(params);
	return 1;
}

static void *worker_main(void *arg)
{
	struct prl_jobs_worker *w = arg;

	for (;;) {
		struct timespec until;

		while (!worker_stopping(w) && job_do_next(w))
			;
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += POLL_MS / 1000;
		while (!w->stop && !w->wake)
			if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
				break;
		w->wake = 0;
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int prl_jobs_start(const char *dir, const struct prl_job_kind *kinds, size_t nkinds,
		   struct prl_jobs_worker **out, struct prl_buf *err)
{
	struct prl_jobs_worker *w;
	sqlite3_stmt *st;
	int ret;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return -PRL_ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->kinds = kinds;
	w->nkinds = nkinds;
	if (!(w->dir = strdup(dir))) {
		ret = -PRL_ENOMEM;
		goto fail;
	}
	if ((ret = prl_archive_open(dir, 0, &w->a, err)) < 0)
		goto fail;
	prl_archive_busy_timeout(w->a, 5000);
	/* what a stopped or killed server was doing is over */
	if (!(st = archive_stmt(w->a, ST_JOB_ABANDON))) {
		ret = -PRL_ESQL;
		goto fail;
	}
	archive_bind_text(st, 1, "the server stopped while the job ran");
	if ((ret = archive_step_done(w->a, st, "failing unfinished jobs")) < 0) {
		if (err)
			prl_buf_addstr(err, prl_archive_errmsg(w->a));
		goto fail;
	}
	pthread_mutex_lock(&live_lock);
	if (live) {
		pthread_mutex_unlock(&live_lock);
		ret = -PRL_EBUSY;
		if (err)
			prl_buf_addstr(err, "a job worker already runs in this process");
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_unlock(&live_lock);
		ret = -PRL_ENOMEM;
		goto fail;
	}
	live = w;
	pthread_mutex_unlock(&live_lock);
	*out = w;
	return 0;
fail:
	prl_archive_close(w->a);
	free(w->dir);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return ret;
}

void prl_jobs_stop(struct prl_jobs_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&live_lock);
	if (live == w)
		live = NULL;
	pthread_mutex_unlock(&live_lock);
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	prl_archive_close(w->a);
	free(w->dir);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int prl_jobs_wait_idle(struct prl_jobs_worker *w, int timeout_ms)
{
	struct prl_archive *a = NULL;
	int64_t end = now_ms() + timeout_ms;
	int busy = 1;

	/* a handle of its own: the worker's is the worker thread's */
	if (!w || prl_archive_open(w->dir, 0, &a, NULL) < 0)
		return -PRL_EBUSY;
	while (busy && now_ms() < end) {
		sqlite3_stmt *st = archive_stmt(a, ST_JOB_UNFINISHED);

		if (st && sqlite3_step(st) == SQLITE_ROW)
			busy = sqlite3_column_int(st, 0) > 0;
		if (st)
			sqlite3_reset(st);
		if (busy) {
			struct timespec ts = {0, 50 * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	prl_archive_close(a);
	return busy ? -PRL_EBUSY : 0;
}
