/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The background jobs over HTTP: a job's state as its author polls it, the
 * jobs of a recording, and cancel.  Jobs are queued by the routes of the
 * work they do (an upload's ingest, a segmentation, an alignment); the
 * worker that does them is started by prl_web_serve() (server.c).
 *
 * Always holds: a job is shown only to staff who may change its recording
 * (or, for a job without one, to its author and the network's admins),
 * through prl_job_json(); to anyone else it does not exist (404).
 * The kind "rebuild" is queued here: a recording's derivatives remade
 * from its original (rebuild.c does the work).
 * Expected workload: a page polling its job about once a second.
 */
#include <jansson.h>
#include <stdlib.h>

#include "web-internal.h"

static enum MHD_Result jobs_answer(struct web_request *r, struct prl_archive *a, int ret,
				   struct prl_buf *out)
{
	struct prl_buf msg = PRL_BUF_INIT;
	enum MHD_Result res;
	unsigned status;

	if (ret == 0) {
		web_archive_put(r->srv, a);
		prl_buf_addch(out, '\n');
		return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, out, "no-store");
	}
	prl_buf_release(out);
	if (web_write_refused(r, ret, &res)) {
		web_archive_put(r->srv, a);
		return res;
	}
	status = ret == -PRL_ENOTFOUND	 ? MHD_HTTP_NOT_FOUND
		 : ret == -PRL_ECONFLICT ? MHD_HTTP_CONFLICT
		 : ret == -PRL_EACCESS	 ? MHD_HTTP_FORBIDDEN
		 : ret == -PRL_EINVAL	 ? MHD_HTTP_BAD_REQUEST
					 : MHD_HTTP_INTERNAL_SERVER_ERROR;
	prl_buf_addstr(&msg, status == MHD_HTTP_INTERNAL_SERVER_ERROR ? web_status_message(status)
								      : prl_archive_errmsg(a));
	web_archive_put(r->srv, a);
	res = web_error_json(r, status, prl_buf_str(&msg));
	prl_buf_release(&msg);
	return res;
}

static struct prl_archive *jobs_archive(struct web_request *r, enum MHD_Result *res)
{
	struct prl_archive *a = web_archive_get(r->srv);

	if (!a)
		*res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	return a;
}

enum MHD_Result web_api_job(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	if (!(a = jobs_archive(r, &res)))
		return res;
	return jobs_answer(r, a, prl_job_json(a, &r->viewer, p->id, &out), &out);
}

enum MHD_Result web_api_jobs(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *rec = web_arg(r, "recording"), *lim = web_arg(r, "limit");
	long long rid = 0, limit = 50;
	char *end;

	(void)p;
	if (rec && *rec && ((rid = strtoll(rec, &end, 10)) <= 0 || *end))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "recording: a recording's id");
	if (lim && *lim && ((limit = strtoll(lim, &end, 10)) < 1 || limit > 200 || *end))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "limit: 1 to 200");
	if (!(a = jobs_archive(r, &res)))
		return res;
	return jobs_answer(r, a, prl_jobs_list_json(a, &r->viewer, rid, (int)limit, &out), &out);
}

enum MHD_Result web_api_job_cancel(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (!(a = jobs_archive(r, &res)))
		return res;
	if ((ret = prl_job_cancel(a, &r->viewer, p->id)) == 0)
		ret = prl_job_json(a, &r->viewer, p->id, &out);
	return jobs_answer(r, a, ret, &out);
}

enum MHD_Result web_api_recording_rebuild(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	unsigned what;
	json_t *o = NULL, *w;
	char *params = NULL;
	int64_t jid = 0;
	int ret;

	if (r->body.len && !(o = web_body_object(r, &res)))
		return res;
	w = o ? json_object_get(o, "what") : NULL;
	if (w && (!json_is_string(w) || prl_rebuild_what_parse(json_string_value(w), &what) < 0)) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "what: a list of opus, mp3, peaks and muted");
	}
	if (w && !(params = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	json_decref(o);
	if (!(a = jobs_archive(r, &res))) {
		free(params);
		return res;
	}
	if ((ret = prl_archive_recording_open(a, &r->viewer, p->id, PRL_MAY_WRITE, NULL)) == 0)
		ret = prl_jobs_submit(a, "rebuild", p->id, params, r->viewer.user_id, &jid);
	free(params);
	if (ret == 0) {
		web_archive_put(r->srv, a);
		prl_buf_addf(&out, "{\"job\":%lld}\n", (long long)jid);
		return web_send_buf(r, MHD_HTTP_ACCEPTED, JSON_MIME, &out, "no-store");
	}
	return jobs_answer(r, a, ret == -PRL_EEXIST ? -PRL_ECONFLICT : ret, &out);
}
