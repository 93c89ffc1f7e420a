/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The editing API: segments, tiers, withheld spans, the history and its
 * reverts (a recording's access level is one of its fields, changed
 * through the catalogue's PATCH, catalogue.c).  The route table (routes.c) checked
 * the request's session, CSRF token, role and body size before any of
 * these run; this file checks the body's JSON shape and maps archive
 * errors to statuses; the archive checks the change itself and applies it
 * in one audited transaction.
 *
 * Always holds: a write is answered only after the archive committed it
 * (an acknowledged edit is on disk); a request refused here changes
 * nothing; statuses: 400 malformed request, 422 a change the archive
 * refuses (with its sentence), 409 a conflict (with the current segment).
 * Expected workload: edits at human pace from a few annotators.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "web-internal.h"

/* An archive handle for a write whose body is o; NULL after answering 503
 * (*res) and dropping o. */
static struct prl_archive *take_archive(struct web_request *r, json_t *o, enum MHD_Result *res)
{
	struct prl_archive *a = web_archive_get(r->srv);

	if (!a) {
		json_decref(o);
		*res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	}
	return a;
}

static enum MHD_Result answer_with(struct web_request *r, struct prl_archive *a, int ret,
				   unsigned ok, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	enum MHD_Result refused;
	unsigned status;

	if (ret == 0) {
		prl_buf_addch(out, '\n');
		return web_send_buf(r, ok, JSON_MIME, out, "no-store");
	}
	if (web_write_refused(r, ret, &refused)) {
		prl_buf_release(out);
		return refused;
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

/* The archive's answer ret to a request: out on success (status ok), else
 * the status its error stands for, with its sentence.  Gives a back and
 * drops the body o (which the archive call may have read until now). */
static enum MHD_Result answer(struct web_request *r, struct prl_archive *a, json_t *o, int ret,
			      unsigned ok, struct prl_buf *out)
{
	enum MHD_Result res = answer_with(r, a, ret, ok, out);

	web_archive_put(r->srv, a);
	json_decref(o);
	return res;
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

/* The body of a write as a JSON object in *o: 0, or -1 after answering
 * 400 (*res).  With optional, a write that came without a body (a DELETE
 * with ?version=, a revert) has *o NULL. */
static int write_body(struct web_request *r, int optional, json_t **o, enum MHD_Result *res)
{
	*o = NULL;
	if (optional && !r->body.len)
		return 0;
	return (*o = web_body_object(r, res)) ? 0 : -1;
}

enum MHD_Result web_edit_segment_add(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_segment_change c;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *why = NULL;
	json_t *o;

	if (write_body(r, 0, &o, &res) < 0)
		return res;
	if (segment_fields(o, &c, &why) < 0)
		return bad(r, o, why);
	if (!(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o, prl_archive_segment_add(a, &r->viewer, p->id, &c, &out),
		      MHD_HTTP_CREATED, &out);
}

/* The body of a PATCH or DELETE of a segment: its fields in *c, the
 * version it edits in *v; -1 after answering 400 (*res). */
static int segment_edit(struct web_request *r, int optional, json_t **o,
			struct prl_segment_change *c, int64_t *v, enum MHD_Result *res)
{
	const char *why = NULL;

	memset(c, 0, sizeof(*c));
	if (write_body(r, optional, o, res) < 0)
		return -1;
	if (*o && segment_fields(*o, c, &why) < 0) {
		*res = bad(r, *o, why);
		return -1;
	}
	if (version_of(r, *o, v) < 0) {
		*res = bad(r, *o, "version: the version being edited is expected");
		return -1;
	}
	return 0;
}

/* A PATCH (deleting 0) or DELETE of segment p->id, at the version it edits. */
static enum MHD_Result segment_write(struct web_request *r, const struct web_params *p,
				     int deleting)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_segment_change c;
	struct prl_archive *a;
	enum MHD_Result res;
	int64_t version = 0;
	json_t *o;
	int ret;

	if (segment_edit(r, deleting, &o, &c, &version, &res) < 0 ||
	    !(a = take_archive(r, o, &res)))
		return res;
	ret = deleting ? prl_archive_segment_delete(a, &r->viewer, p->id, version, &out)
		       : prl_archive_segment_update(a, &r->viewer, p->id, version, &c, &out);
	return answer(r, a, o, ret, MHD_HTTP_OK, &out);
}

enum MHD_Result web_edit_segment_update(struct web_request *r, const struct web_params *p)
{
	return segment_write(r, p, 0);
}

enum MHD_Result web_edit_segment_delete(struct web_request *r, const struct web_params *p)
{
	return segment_write(r, p, 1);
}

enum MHD_Result web_edit_tier_add(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	const char *name, *type, *lang, *spk;
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o;

	if (write_body(r, 0, &o, &res) < 0)
		return res;
	if (get_str(o, "name", &name) < 0 || get_str(o, "type", &type) < 0 ||
	    get_str(o, "language", &lang) < 0 || get_str(o, "speaker", &spk) < 0)
		return bad(r, o, "name, type, language and speaker are strings");
	if (!(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o,
		      prl_archive_tier_add(a, &r->viewer, p->id, name, type, lang, spk, &out),
		      MHD_HTTP_CREATED, &out);
}

enum MHD_Result web_edit_tier_rename(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *name;
	json_t *o;

	if (write_body(r, 0, &o, &res) < 0)
		return res;
	if (get_str(o, "name", &name) != 1)
		return bad(r, o, "name: the tier's new name is expected");
	if (!(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o, prl_archive_tier_rename(a, &r->viewer, p->id, name, &out),
		      MHD_HTTP_OK, &out);
}

/* A write that needs nothing but the id in its path (a body, when one
 * comes, is still a JSON object). */
static enum MHD_Result write_by_id(struct web_request *r, const struct web_params *p,
				   int (*apply)(struct prl_archive *a, const struct prl_viewer *v,
						int64_t id, struct prl_buf *out))
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o;

	if (write_body(r, 1, &o, &res) < 0 || !(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o, apply(a, &r->viewer, p->id, &out), MHD_HTTP_OK, &out);
}

enum MHD_Result web_edit_tier_delete(struct web_request *r, const struct web_params *p)
{
	return write_by_id(r, p, prl_archive_tier_delete);
}

enum MHD_Result web_edit_revert(struct web_request *r, const struct web_params *p)
{
	return write_by_id(r, p, prl_archive_revert);
}

enum MHD_Result web_edit_withheld_add(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int64_t s = 0, e = 0;
	const char *reason;
	json_t *o;

	if (write_body(r, 0, &o, &res) < 0)
		return res;
	if (get_int(o, "start_ms", &s) != 1 || get_int(o, "end_ms", &e) != 1 ||
	    get_str(o, "reason", &reason) < 0)
		return bad(r, o, "start_ms and end_ms (whole milliseconds) are expected");
	if (!(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o, prl_archive_withheld_add(a, &r->viewer, p->id, s, e, reason, &out),
		      MHD_HTTP_CREATED, &out);
}

/* The span to release: {wid} in the path, else {"id"} in the body. */
enum MHD_Result web_edit_withheld_delete(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int64_t span = p->id2;
	json_t *o;

	if (write_body(r, 1, &o, &res) < 0)
		return res;
	if (!span && (!o || get_int(o, "id", &span) != 1 || span <= 0))
		return bad(r, o, "id: the span to release is expected");
	if (!(a = take_archive(r, o, &res)))
		return res;
	return answer(r, a, o, prl_archive_withheld_delete(a, &r->viewer, p->id, span, &out),
		      MHD_HTTP_OK, &out);
}

enum MHD_Result web_edit_history(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	const char *off = web_arg(r, "offset"), *lim = web_arg(r, "limit");
	int64_t offset = 0, limit = 0;
	enum MHD_Result res;

	if ((off && web_parse_id_str(off, &offset) < 0 && strcmp(off, "0")) ||
	    (lim && web_parse_id_str(lim, &limit) < 0))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "offset and limit: whole numbers");
	if (!(a = take_archive(r, NULL, &res)))
		return res;
	return answer(r, a, NULL,
		      prl_archive_history_json(a, &r->viewer, p->id, offset, limit, &out),
		      MHD_HTTP_OK, &out);
}

/* A reviewer accepts a machine-made tier whole, or one segment. */
enum MHD_Result web_edit_tier_accept(struct web_request *r, const struct web_params *p)
{
	return write_by_id(r, p, prl_archive_tier_accept);
}

enum MHD_Result web_edit_segment_accept(struct web_request *r, const struct web_params *p)
{
	return write_by_id(r, p, prl_archive_segment_accept);
}
