/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Answers: every response the server sends passes through web_queue(),
 * which adds the headers all answers share, records the status and size
 * for the request log, and hands the response to MHD.  JSON errors for the
 * API and media, HTML error pages for the pages.
 *
 * Always holds: a response is queued at most once per request; a body
 * built here is handed to MHD without a copy (MHD_RESPMEM_MUST_FREE).
 *
 * Expected workload: once per request.
 */
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

enum MHD_Result web_queue(struct web_request *r, unsigned status, struct MHD_Response *resp,
			  int64_t body_bytes)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	if (r->answered) {
		MHD_destroy_response(resp);
		return MHD_YES;
	}
	/* a server that sniffs nothing and is framed by nobody */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->close || atomic_load(&r->srv->stopping))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	/* every 503 is passing: say when to come back */
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	r->answered = 1;
	r->status = status;
	r->bytes = r->is_head || status == MHD_HTTP_NOT_MODIFIED ? 0 : body_bytes;
	if (r->hold_answer) {
		/* sent once the body is read (web_queue_held()) */
		r->held = resp;
		return MHD_YES;
	}
	ret = MHD_queue_response(r->con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result web_queue_held(struct web_request *r)
{
	struct MHD_Response *resp = r->held;
	enum MHD_Result ret;

	if (!resp)
		return MHD_YES;
	r->held = NULL;
	ret = MHD_queue_response(r->con, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result web_queue_kept(struct web_request *r, unsigned status, struct MHD_Response *resp,
			       int64_t body_bytes)
{
	enum MHD_Result ret;

	if (r->answered)
		return MHD_YES;
	ret = MHD_queue_response(r->con, status, resp);
	r->answered = 1;
	r->status = status;
	r->bytes = r->is_head ? 0 : body_bytes;
	return ret;
}

int web_may_keep(const struct web_request *r)
{
	return !r->close && !atomic_load(&r->srv->stopping);
}

static int is_anonymous(const struct web_request *r)
{
	return r->viewer.role == PRL_ROLE_ANONYMOUS && !r->session.login[0];
}

int web_media_variant(const struct web_request *r, int immutable)
{
	return (immutable ? 2 : 0) | (is_anonymous(r) ? 1 : 0);
}

void web_add_cache_control(struct web_request *r, struct MHD_Response *resp, int immutable)
{
	int anonymous = is_anonymous(r);

	/* a shared cache keeps only what an anonymous visitor was given, and
	 * keys it by the cookie that could make it another answer */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				immutable ? (anonymous ? "public, max-age=31536000, immutable"
						       : "private, max-age=31536000, immutable")
					  : (anonymous ? "no-cache" : "private, no-cache"));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Cookie");
}

enum MHD_Result web_send_buf(struct web_request *r, unsigned status, const char *mime,
			     struct prl_buf *b, const char *cache_control)
{
	struct MHD_Response *resp;
	size_t len = 0;
	char *data = prl_buf_detach(b, &len);

	if (!data)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	if (cache_control)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
	return web_queue(r, status, resp, (int64_t)len);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int web_writes_held(struct web_server *s)
{
	return atomic_load(&s->busy_until_ms) > now_ms();
}

enum MHD_Result web_error_busy(struct web_request *r)
{
	return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "the archive is being written by another program: nothing was "
			      "changed, try again in a moment");
}

int web_write_refused(struct web_request *r, int err, enum MHD_Result *res)
{
	if (err == -PRL_EBUSY) {
		/* the next writes would wait as long again: they are told at once */
		atomic_store(&r->srv->busy_until_ms, now_ms() + WEB_WRITE_WAIT_MS);
		*res = web_error_busy(r);
		return 1;
	}
	if (err == -PRL_ENOSPC) {
		*res = web_error_json(r, MHD_HTTP_INSUFFICIENT_STORAGE,
				      "the archive's disk is full: nothing was changed");
		return 1;
	}
	return 0;
}

const char *web_status_message(unsigned status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 403:
		return "forbidden: this recording is restricted";
	case 404:
		return "not found";
	case 405:
		return "method not allowed";
	case 406:
		return "not acceptable";
	case 413:
		return "request too large";
	case 414:
		return "URI too long";
	case 416:
		return "range not satisfiable";
	case 431:
		return "request header fields too large";
	case 503:
		return "service unavailable";
	case 507:
		return "insufficient storage";
	default:
		return status >= 500 ? "internal server error" : "bad request";
	}
}

unsigned web_status_for(int err)
{
	switch (err < 0 ? -err : err) {
	case PRL_ENOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case PRL_EACCESS:
		return MHD_HTTP_FORBIDDEN;
	case PRL_EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	case PRL_EUNSUPPORTED:
		return MHD_HTTP_NOT_FOUND;
	case PRL_EBUSY:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case PRL_ENOSPC:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result web_error_json(struct web_request *r, unsigned status, const char *msg)
{
	struct prl_buf b = PRL_BUF_INIT;

	prl_buf_addstr(&b, "{\"error\":");
	prl_json_str(&b, msg ? msg : web_status_message(status));
	prl_buf_addstr(&b, "}\n");
	return web_send_buf(r, status, "application/json; charset=utf-8", &b, "no-store");
}

enum MHD_Result web_method_not_allowed(struct web_request *r, int json, const char *allow)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct MHD_Response *resp;
	size_t len = 0;
	char *data;

	if (json) {
		prl_buf_addstr(&b, "{\"error\":\"method not allowed\"}\n");
	} else {
		prl_buf_addstr(&b, "method not allowed\n");
	}
	if (!(data = prl_buf_detach(&b, &len)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				json ? "application/json; charset=utf-8"
				     : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return web_queue(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, (int64_t)len);
}
