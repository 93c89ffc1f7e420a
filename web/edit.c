/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The editing API: segments, tiers, a recording's access level, withheld
 * spans, the history and its reverts, and the routes of signing in.  This
 * file checks the request (signed in, CSRF token, body size, JSON shape)
 * and maps archive errors to statuses; the archive checks the change
 * itself and applies it in one audited transaction.
 *
 * Always holds: a write is answered only after the archive committed it
 * (an acknowledged edit is on disk); a request refused here changes
 * nothing; statuses: 401 not signed in, 403 wrong CSRF token or role, 400
 * malformed request, 413 body over 64 KiB, 422 a change the archive
 * refuses (with its sentence), 409 a conflict (with the current segment).
 * Expected workload: edits at human pace from a few annotators.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "web-internal.h"

#define JSON_MIME "application/json; charset=utf-8"

enum route {
	R_NONE = 0,
	R_LOGIN,
	R_LOGOUT,
	R_ME,
	R_SEGMENTS,  /* /api/recordings/{id}/segments */
	R_SEGMENT,   /* /api/segments/{id} */
	R_TIERS,     /* /api/recordings/{id}/tiers */
	R_TIER,	     /* /api/tiers/{id} */
	R_RECORDING, /* /api/recordings/{id} (PATCH only here) */
	R_HISTORY,   /* /api/recordings/{id}/history */
	R_REVERT,    /* /api/history/{id}/revert */
	R_WITHHELD,  /* /api/recordings/{id}/withheld[/{wid}] */
};

static int is(const struct web_request *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

/* "{id}" + exactly suffix: the id into *id. */
static int id_then(const char *s, const char *suffix, int64_t *id)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix) != 0)
		return 0;
	return web_parse_id(s, n - k, id) == 0;
}

static enum route match(const char *rest, int64_t *id, int64_t *sub)
{
	const char *p;

	*sub = 0;
	if (!strcmp(rest, "login"))
		return R_LOGIN;
	if (!strcmp(rest, "logout"))
		return R_LOGOUT;
	if (!strcmp(rest, "me"))
		return R_ME;
	if (!strncmp(rest, "segments/", 9) && web_parse_id_str(rest + 9, id) == 0)
		return R_SEGMENT;
	if (!strncmp(rest, "tiers/", 6) && web_parse_id_str(rest + 6, id) == 0)
		return R_TIER;
	if (!strncmp(rest, "history/", 8) && id_then(rest + 8, "/revert", id))
		return R_REVERT;
	if (strncmp(rest, "recordings/", 11) != 0)
		return R_NONE;
	p = rest + 11;
	if (web_parse_id_str(p, id) == 0)
		return R_RECORDING;
	if (id_then(p, "/segments", id))
		return R_SEGMENTS;
	if (id_then(p, "/tiers", id))
		return R_TIERS;
	if (id_then(p, "/history", id))
		return R_HISTORY;
	if (id_then(p, "/withheld", id))
		return R_WITHHELD;
	{
		const char *w = strstr(p, "/withheld/");

		if (w && web_parse_id(p, (size_t)(w - p), id) == 0 &&
		    web_parse_id_str(w + 10, sub) == 0)
			return R_WITHHELD;
	}
	return R_NONE;
}

static enum MHD_Result not_allowed(struct web_request *r, const char *allow)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct MHD_Response *resp;

	prl_buf_addstr(&b, "{\"error\":\"method not allowed\"}\n");
	resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
	prl_buf_release(&b);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return web_queue(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, 0);
}

/* The archive's answer to a write: out on success (status ok), else the
 * status its error stands for, with its sentence. */
static enum MHD_Result answer(struct web_request *r, struct prl_archive *a, int ret, unsigned ok,
			      struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	unsigned status;

	if (ret == 0) {
		prl_buf_addch(out, '\n');
		return web_send_buf(r, ok, JSON_MIME, out, "no-store");
	}
	switch (-ret) {
	case PRL_EINVAL:
		status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		break;
	case PRL_EACCESS:
		status = MHD_HTTP_FORBIDDEN;
		break;
	case PRL_ENOTFOUND:
		status = MHD_HTTP_NOT_FOUND;
		break;
	case PRL_ECONFLICT:
		status = MHD_HTTP_CONFLICT;
		break;
	case PRL_EEXIST:
		status = MHD_HTTP_CONFLICT;
		break;
	default:
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		break;
	}
	prl_buf_addstr(&b, "{\"error\":");
	prl_json_str(&b, status == MHD_HTTP_INTERNAL_SERVER_ERROR || !a ? web_status_message(status)
									: prl_archive_errmsg(a));
	if (ret == -PRL_ECONFLICT) {
		prl_buf_addstr(&b, ",\"current\":");
		prl_buf_addstr(&b, out->len ? out->data : "null");
	}
	prl_buf_addstr(&b, "}\n");
	prl_buf_release(out);
	return web_send_buf(r, status, JSON_MIME, &b, "no-store");
}

/* A whole number member (JSON integer) into *v; 0 absent, 1 present, -1 wrong. */
static int get_int(json_t *o, const char *key, int64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!j)
		return 0;
	if (!json_is_integer(j))
		return -1;
	*v = (int64_t)json_integer_value(j);
	return 1;
}

/* A string member or null/absent (NULL); -1 for another type. */
static int get_str(json_t *o, const char *key, const char **v)
{
	json_t *j = json_object_get(o, key);

	*v = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return -1;
	*v = json_string_value(j);
	return 1;
}

static enum MHD_Result bad(struct web_request *r, json_t *o, const char *msg)
{
	json_decref(o);
	return web_error_json(r, MHD_HTTP_BAD_REQUEST, msg);
}

/* The segment fields of a body into *c; -1 with a message for a wrong type. */
static int segment_fields(json_t *o, struct prl_segment_change *c, const char **why)
{
	int k;

	memset(c, 0, sizeof(*c));
	if ((k = get_int(o, "tier_id", &c->tier_id)) < 0 ||
	    ((c->has_tier = k == 1) && c->tier_id <= 0)) {
		*why = "tier_id: a tier's id is expected";
		return -1;
	}
	if ((k = get_int(o, "start_ms", &c->start_ms)) < 0) {
		*why = "start_ms: whole milliseconds are expected";
		return -1;
	}
	c->has_start = k == 1;
	if ((k = get_int(o, "end_ms", &c->end_ms)) < 0) {
		*why = "end_ms: whole milliseconds are expected";
		return -1;
	}
	c->has_end = k == 1;
	if ((k = get_str(o, "text", &c->text)) < 0) {
		*why = "text: a string is expected";
		return -1;
	}
	c->has_text = k == 1;
	if (c->has_text && json_string_length(json_object_get(o, "text")) != strlen(c->text)) {
		*why = "text: no NUL characters";
		return -1;
	}
	return 0;
}

/* The version a PATCH or DELETE edits: in the body, or ?version= for DELETE. */
static int version_of(struct web_request *r, json_t *o, int64_t *v)
{
	const char *q = web_arg(r, "version");

	if (o && get_int(o, "version", v) == 1)
		return 0;
	if (q && web_parse_id_str(q, v) == 0)
		return 0;
	return -1;
}

static enum MHD_Result do_write(struct web_request *r, enum route rt, int64_t id, int64_t sub)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_segment_change c;
	struct prl_archive *a = NULL;
	enum MHD_Result res;
	const char *why = NULL;
	json_t *o = NULL;
	int64_t version = 0;
	unsigned ok = MHD_HTTP_OK;
	int ret;

	/* a DELETE may come without a body (its version in the query), and a
	 * revert needs none */
	if ((is(r, MHD_HTTP_METHOD_DELETE) || rt == R_REVERT) && !r->body.len &&
	    !r->body_too_large) {
		o = NULL;
	} else if (!(o = web_body_object(r, &res))) {
		return res;
	}
	switch (rt) {
	case R_SEGMENTS:
	case R_SEGMENT:
		if (o && segment_fields(o, &c, &why) < 0)
			return bad(r, o, why);
		if (rt == R_SEGMENT && version_of(r, o, &version) < 0)
			return bad(r, o, "version: the version being edited is expected");
		break;
	default:
		break;
	}
	if (!(a = web_archive_get(r->srv))) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	}
	switch (rt) {
	case R_SEGMENTS:
		ret = prl_archive_segment_add(a, &r->viewer, id, &c, &out);
		ok = MHD_HTTP_CREATED;
		break;
	case R_SEGMENT:
		if (is(r, MHD_HTTP_METHOD_DELETE))
			ret = prl_archive_segment_delete(a, &r->viewer, id, version, &out);
		else
			ret = prl_archive_segment_update(a, &r->viewer, id, version, &c, &out);
		break;
	case R_TIERS: {
		const char *name, *type, *lang, *spk;

		if (get_str(o, "name", &name) < 0 || get_str(o, "type", &type) < 0 ||
		    get_str(o, "language", &lang) < 0 || get_str(o, "speaker", &spk) < 0) {
			web_archive_put(r->srv, a);
			return bad(r, o, "name, type, language and speaker are strings");
		}
		ret = prl_archive_tier_add(a, &r->viewer, id, name, type, lang, spk, &out);
		ok = MHD_HTTP_CREATED;
		break;
	}
	case R_TIER: {
		const char *name;

		if (is(r, MHD_HTTP_METHOD_DELETE)) {
			ret = prl_archive_tier_delete(a, &r->viewer, id, &out);
			break;
		}
		if (get_str(o, "name", &name) != 1) {
			web_archive_put(r->srv, a);
			return bad(r, o, "name: the tier's new name is expected");
		}
		ret = prl_archive_tier_rename(a, &r->viewer, id, name, &out);
		break;
	}
	case R_RECORDING: {
		const char *acc;
		int level;

		if (get_str(o, "access", &acc) != 1 || (level = prl_access_parse(acc)) < 0) {
			web_archive_put(r->srv, a);
			return bad(r, o, "access: public, restricted or private is expected");
		}
		ret = prl_archive_set_access(a, &r->viewer, id, (enum prl_access)level, &out);
		break;
	}
	case R_REVERT:
		ret = prl_archive_revert(a, &r->viewer, id, &out);
		break;
	case R_WITHHELD:
		if (is(r, MHD_HTTP_METHOD_DELETE)) {
			if (!sub && (!o || get_int(o, "id", &sub) != 1 || sub <= 0)) {
				web_archive_put(r->srv, a);
				return bad(r, o, "id: the span to release is expected");
			}
			ret = prl_archive_withheld_delete(a, &r->viewer, id, sub, &out);
		} else {
			int64_t s = 0, e = 0;
			const char *reason;

			if (get_int(o, "start_ms", &s) != 1 || get_int(o, "end_ms", &e) != 1 ||
			    get_str(o, "reason", &reason) < 0) {
				web_archive_put(r->srv, a);
				return bad(r, o,
					   "start_ms and end_ms (whole milliseconds) are expected");
			}
			ret = prl_archive_withheld_add(a, &r->viewer, id, s, e, reason, &out);
			ok = MHD_HTTP_CREATED;
		}
		break;
	default:
		ret = -PRL_EINVAL;
		break;
	}
	res = answer(r, a, ret, ok, &out);
	web_archive_put(r->srv, a);
	json_decref(o);
	return res;
}

static enum MHD_Result history(struct web_request *r, int64_t id)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	const char *off = web_arg(r, "offset"), *lim = web_arg(r, "limit");
	int64_t offset = 0, limit = 0;
	enum MHD_Result res;
	int ret;

	if ((off && web_parse_id_str(off, &offset) < 0 && strcmp(off, "0")) ||
	    (lim && web_parse_id_str(lim, &limit) < 0))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "offset and limit: whole numbers");
	if (r->viewer.role < PRL_ROLE_ANNOTATOR)
		return web_error_json(
			r, r->session.login[0] ? MHD_HTTP_FORBIDDEN : MHD_HTTP_UNAUTHORIZED,
			"the history is for annotators and admins");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_history_json(a, &r->viewer, id, offset, limit, &out);
	res = answer(r, a, ret, MHD_HTTP_OK, &out);
	web_archive_put(r->srv, a);
	return res;
}

/* True when method is one of the comma-separated list allow. */
static int allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = allow; (p = strstr(p, method)); p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int web_edit_route(struct web_request *r, const char *rest, enum MHD_Result *res)
{
	int64_t id = 0, sub = 0;
	enum route rt = match(rest, &id, &sub);
	int get = is(r, MHD_HTTP_METHOD_GET) || r->is_head;
	const char *allow = NULL;

	switch (rt) {
	case R_NONE:
		return 0;
	case R_LOGIN:
	case R_LOGOUT:
		allow = "POST";
		break;
	case R_ME:
		allow = "GET, HEAD";
		break;
	case R_SEGMENTS:
	case R_TIERS:
	case R_REVERT:
		allow = "POST";
		break;
	case R_SEGMENT:
		allow = "PATCH, DELETE";
		break;
	case R_TIER:
		allow = "PATCH, DELETE";
		break;
	case R_RECORDING:
		if (get)
			return 0; /* reading a recording is api.c's */
		allow = "GET, HEAD, PATCH";
		break;
	case R_HISTORY:
		allow = "GET, HEAD";
		break;
	case R_WITHHELD:
		allow = sub ? "DELETE" : "POST, DELETE";
		break;
	}
	if (!allowed(allow, r->method)) {
		*res = not_allowed(r, allow);
		return 1;
	}
	if (rt == R_ME) {
		*res = web_api_me(r);
		return 1;
	}
	if (rt == R_HISTORY) {
		*res = history(r, id);
		return 1;
	}
	if (r->body_too_large) {
		*res = web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE,
				      "the request body is over 64 KiB");
		return 1;
	}
	if (rt == R_LOGIN) {
		*res = web_api_login(r);
		return 1;
	}
	if (rt == R_LOGOUT) {
		*res = web_api_logout(r);
		return 1;
	}
	/* every other write: signed in, with the session's token */
	if (!r->session.login[0]) {
		*res = web_error_json(r, MHD_HTTP_UNAUTHORIZED, "sign in first");
		return 1;
	}
	if (!web_csrf_ok(r)) {
		*res = web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "missing or wrong X-CSRF-Token header");
		return 1;
	}
	if (r->viewer.role < PRL_ROLE_ANNOTATOR) {
		*res = web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "only annotators and admins may change this");
		return 1;
	}
	*res = do_write(r, rt, id, sub);
	return 1;
}
