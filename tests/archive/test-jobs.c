/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the background jobs at the archive's level, with a real worker
 * thread on a real archive: a queued job is done and its result kept; a
 * failing one keeps its sentence and none of its work; a job cancelled
 * while queued never runs, one cancelled while running stops at its next
 * progress report; a recording has one unfinished job at most; a worker
 * stopped mid-job fails that job, and a new worker fails what a killed one
 * left running but does what was queued; a viewer who may not change the
 * recording sees no job of it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "parlers/archive.h"
#include "parlers/jobs.h"
#include "scratch.h"
#include "tap.h"

static char tmpdir[256];
static char dbpath[300];

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static int gate_entered; /* the slow job runs */

static int64_t count(const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void exec(const char *sql)
{
	sqlite3 *h = NULL;

	if (sqlite3_open(dbpath, &h) != SQLITE_OK ||
	    sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		diag("exec failed: %s", h ? sqlite3_errmsg(h) : "open");
	sqlite3_close(h);
}

/* The job's status, read the way a second process would. */
static void status_of(int64_t id, char *out, size_t n)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(out, n, "?");
	if (sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT status FROM jobs WHERE id = ?1", -1, &st, NULL) ==
		    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits up to 10 s for job id to reach status want. */
static int wait_status(int64_t id, const char *want)
{
	char s[32];

	for (int i = 0; i < 1000; i++) {
		status_of(id, s, sizeof(s));
		if (!strcmp(s, want))
			return 1;
		nap(10);
	}
	diag("job %lld is %s, not %s", (long long)id, s, want);
	return 0;
}

/* "echo": its result is its parameters. */
static int run_echo(struct prl_job_run *run, struct prl_archive *a, int64_t rid, const char *params,
		    void *user)
{
	(void)a;
	(void)user;
	return prl_job_result(run, params ? params : "null", rid);
}

/* "fail": writes a row in a transaction it leaves open, then fails. */
static int run_fail(struct prl_job_run *run, struct prl_archive *a, int64_t rid, const char *params,
		    void *user)
{
	(void)a;
	(void)rid;
	(void)params;
	(void)user;
	prl_job_fail_reason(run, "the tape is blank");
	return -PRL_EFORMAT;
}

/* "slow": reports progress until cancelled (or 20 s). */
static int run_slow(struct prl_job_run *run, struct prl_archive *a, int64_t rid, const char *params,
		    void *user)
{
	(void)a;
	(void)rid;
	(void)params;
	(void)user;
	pthread_mutex_lock(&gate_lock);
	gate_entered = 1;
	pthread_mutex_unlock(&gate_lock);
	for (int i = 0; i < 2000; i++) {
		int ret = prl_job_progress(run, i / 2000.0, "working");

		if (ret < 0)
			return ret;
		nap(10);
	}
	return prl_job_result(run, NULL, 0);
}

static const struct prl_job_kind kinds[] = {
	{"echo", run_echo, NULL},
	{"fail", run_fail, NULL},
	{"slow", run_slow, NULL},
};

static int slow_entered(void)
{
	for (int i = 0; i < 1000; i++) {
		int e;

		pthread_mutex_lock(&gate_lock);
		e = gate_entered;
		pthread_mutex_unlock(&gate_lock);
		if (e)
			return 1;
		nap(10);
	}
	return 0;
}

int main(void)
{
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct prl_jobs_worker *w = NULL;
	struct prl_viewer visitor = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	int64_t echo = 0, fail = 0, slow = 0, other = 0, queued = 0;
	char s[32];

	if (scratch_make(tmpdir, sizeof(tmpdir), "jobs") < 0)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/archive.db", tmpdir);
	if (!ok(prl_archive_open(tmpdir, PRL_OPEN_CREATE, &a, &err) == 0, "an archive is made"))
		return 1;
	exec("INSERT INTO recordings(id, title, sha256, original_name, original_format, "
	     "sample_rate,"
	     " channels, duration_ms, access) SELECT 7, 'x', hex(randomblob(32)), 'x.wav', 'wav',"
	     " 16000, 1, 1000, 0");
	if (!ok(count("SELECT count(*) FROM recordings") == 1, "a recording to work on"))
		diag("%s", sqlite3_errstr(0));

	is_int(prl_jobs_start(tmpdir, kinds, 3, &w, &err), 0, "the worker starts");
	is_int(prl_jobs_submit(a, "echo", 0, "{\"a\":1}", 0, &echo), 0, "a job is queued");
	ok(wait_status(echo, "done"), "the worker does it");
	prl_buf_reset(&out);
	is_int(prl_job_json(a, &staff, echo, &out), 0, "staff read it");
	ok(strstr(prl_buf_str(&out), "\"result\":{\"a\":1}") &&
		   strstr(prl_buf_str(&out), "\"progress\":1.000"),
	   "its result is kept as JSON, its progress full: %s", prl_buf_str(&out));
	prl_buf_reset(&out);
	is_int(prl_job_json(a, &visitor, echo, &out), -PRL_ENOTFOUND, "a visitor does not see it");

	is_int(prl_jobs_submit(a, "fail", 7, NULL, 0, &fail), 0, "a failing job is queued");
	ok(wait_status(fail, "failed"), "it fails");
	prl_buf_reset(&out);
	prl_job_json(a, &staff, fail, &out);
	ok(strstr(prl_buf_str(&out), "\"error\":\"the tape is blank\"") != NULL,
	   "its sentence is kept: %s", prl_buf_str(&out));

	is_int(prl_jobs_submit(a, "slow", 7, NULL, 0, &slow), 0, "a slow job is queued");
	ok(slow_entered() && wait_status(slow, "running"), "it runs");
	is_int(prl_jobs_submit(a, "echo", 7, NULL, 0, &other), -PRL_EEXIST,
	       "a second job of the same recording is refused while it runs");
	is_int(prl_jobs_submit(a, "echo", 0, NULL, 0, &queued), 0,
	       "a job without a recording queues behind it");
	is_int(prl_job_cancel(a, &visitor, slow), -PRL_ENOTFOUND, "a visitor cannot cancel it");
	is_int(prl_job_cancel(a, &staff, slow), 0, "staff cancel it");
	ok(wait_status(slow, "cancelled"), "it stops at its next report");
	ok(wait_status(queued, "done"), "the one behind it is done");
	is_int(prl_job_cancel(a, &staff, slow), -PRL_ECONFLICT, "an ended job cannot be cancelled");

	is_int(prl_jobs_submit(a, "nosuch", 0, NULL, 0, &other), 0, "a job of no known kind");
	ok(wait_status(other, "failed"), "fails with a sentence, not silently");

	gate_entered = 0;
	is_int(prl_jobs_submit(a, "slow", 7, NULL, 0, &slow), 0, "another slow job");
	ok(slow_entered(), "runs");
	prl_jobs_stop(w);
	w = NULL;
	status_of(slow, s, sizeof(s));
	is_str(s, "failed", "a worker stopped mid-job fails that job");

	/* what a killed server leaves: a running row and a queued one */
	exec("INSERT INTO jobs(id, kind, recording_id, status) VALUES (100, 'slow', 7, 'running')");
	exec("INSERT INTO jobs(id, kind, status) VALUES (101, 'echo', 'queued')");
	is_int(prl_jobs_start(tmpdir, kinds, 3, &w, &err), 0, "a new worker starts");
	status_of(100, s, sizeof(s));
	is_str(s, "failed", "what a killed server was running is failed, never resumed");
	ok(wait_status(101, "done"), "what it had queued is done");
	is_int(prl_jobs_wait_idle(w, 5000), 0, "the worker goes idle");

	prl_buf_reset(&out);
	is_int(prl_jobs_list_json(a, &staff, 7, 50, &out), 0, "the jobs of a recording are listed");
	ok(strstr(prl_buf_str(&out), "\"id\":100") &&
		   !strstr(prl_buf_str(&out), "\"kind\":\"nosuch\""),
	   "only that recording's: %s", prl_buf_str(&out));
	prl_buf_reset(&out);
	is_int(prl_jobs_list_json(a, &visitor, 0, 50, &out), 0, "a visitor's list");
	is_str(prl_buf_str(&out), "{\"jobs\":[]}", "is empty");

	prl_jobs_stop(w);
	prl_archive_close(a);
	prl_buf_release(&out);
	prl_buf_release(&err);
	scratch_remove(tmpdir);
	return done_testing();
}
