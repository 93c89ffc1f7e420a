/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The catalogue's API: a recording's metadata corrected (PATCH
 * /api/recordings/{id}), a recording deleted and restored, the trash, and
 * speakers and places as records (listed, edited, merged) for staff.
 * The route table (routes.c) checked session, CSRF token, role and body
 * size before these run; the archive checks each change and applies it in
 * one audited transaction; this file maps its errors to statuses.
 *
 * Always holds: a change is answered only once committed; statuses: 400
 * a body or value a metadata sidecar could not hold (with the sidecar's
 * sentence), 422 a change refused, 403 a recording the viewer may not
 * change, 404 unknown, 409 a conflict with the recording as it is now in
 * "current".
 * Expected workload: corrections at human pace by a few staff members.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "web-internal.h"

static unsigned status_of(int ret)
{
	switch (-ret) {
	case PRL_EFORMAT:
		return MHD_HTTP_BAD_REQUEST;
	case PRL_EINVAL:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case PRL_EACCESS:
		return MHD_HTTP_FORBIDDEN;
	case PRL_ENOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case PRL_ECONFLICT:
	case PRL_EEXIST:
		return MHD_HTTP_CONFLICT;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Answers the archive's ret: out with ok, else its status and sentence
 * (a conflict with "current": out).  Gives the handle back. */
static enum MHD_Result answer(struct web_request *r, struct prl_archive *a, int ret, unsigned ok,
			      struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	enum MHD_Result res;
	unsigned status;

	if (ret == 0) {
		web_archive_put(r->srv, a);
		prl_buf_addch(out, '\n');
		return web_send_buf(r, ok, JSON_MIME, out, "no-store");
	}
	if (web_write_refused(r, ret, &res)) {
		web_archive_put(r->srv, a);
		prl_buf_release(out);
		return res;
	}
	status = status_of(ret);
	prl_buf_addstr(&b, "{\"error\":");
	prl_json_str(&b, status == MHD_HTTP_INTERNAL_SERVER_ERROR ? web_status_message(status)
								  : prl_archive_errmsg(a));
	if (ret == -PRL_ECONFLICT) {
		prl_buf_addstr(&b, ",\"current\":");
		prl_buf_addstr(&b, out->len ? out->data : "null");
	}
	prl_buf_addstr(&b, "}\n");
	web_archive_put(r->srv, a);
	prl_buf_release(out);
	return web_send_buf(r, status, JSON_MIME, &b, "no-store");
}

static struct prl_archive *take_archive(struct web_request *r, enum MHD_Result *res)
{
	struct prl_archive *a = web_archive_get(r->srv);

	if (!a)
		*res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	return a;
}

/* A change whose body the archive reads itself (it checks it as a sidecar). */
static enum MHD_Result body_change(struct web_request *r, const struct web_params *p,
				   int (*apply)(struct prl_archive *, const struct prl_viewer *,
						int64_t, const char *, size_t, struct prl_buf *))
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	if (!r->body.len)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "a JSON object is expected");
	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a, apply(a, &r->viewer, p->id, r->body.data, r->body.len, &out),
		      MHD_HTTP_OK, &out);
}

enum MHD_Result web_catalogue_edit(struct web_request *r, const struct web_params *p)
{
	return body_change(r, p, prl_archive_recording_edit);
}

enum MHD_Result web_catalogue_speaker_edit(struct web_request *r, const struct web_params *p)
{
	return body_change(r, p, prl_archive_speaker_edit);
}

enum MHD_Result web_catalogue_place_edit(struct web_request *r, const struct web_params *p)
{
	return body_change(r, p, prl_archive_place_edit);
}

/* DELETE /api/recordings/{id}?reason=... (or {"reason"} in the body). */
enum MHD_Result web_catalogue_delete(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	const char *reason = web_arg(r, "reason");
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o = NULL;
	int ret;

	if (r->body.len) {
		if (!(o = web_body_object(r, &res)))
			return res;
		if (json_is_string(json_object_get(o, "reason")))
			reason = json_string_value(json_object_get(o, "reason"));
	}
	if (!(a = take_archive(r, &res))) {
		json_decref(o);
		return res;
	}
	ret = prl_archive_recording_delete(a, &r->viewer, p->id, reason, &out);
	json_decref(o);
	return answer(r, a, ret, MHD_HTTP_OK, &out);
}

enum MHD_Result web_catalogue_restore(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a, prl_archive_recording_restore(a, &r->viewer, p->id, &out), MHD_HTTP_OK,
		      &out);
}

static enum MHD_Result listing(struct web_request *r, const struct web_params *p,
			       int (*list)(struct prl_archive *, int64_t, struct prl_buf *))
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a, list(a, p->id, &out), MHD_HTTP_OK, &out);
}

static int trash_json(struct prl_archive *a, int64_t id, struct prl_buf *out)
{
	(void)id;
	return prl_archive_trash_json(a, out);
}

enum MHD_Result web_catalogue_trash(struct web_request *r, const struct web_params *p)
{
	return listing(r, p, trash_json);
}

enum MHD_Result web_catalogue_speakers(struct web_request *r, const struct web_params *p)
{
	return listing(r, p, prl_archive_speakers_json);
}

enum MHD_Result web_catalogue_places(struct web_request *r, const struct web_params *p)
{
	return listing(r, p, prl_archive_places_json);
}

/* POST .../{id}/merge {"into": ID}: record id goes into record ID. */
static enum MHD_Result merge(struct web_request *r, const struct web_params *p,
			     int (*fn)(struct prl_archive *, const struct prl_viewer *, int64_t,
				       int64_t, struct prl_buf *))
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o, *into;
	int64_t to;

	if (!(o = web_body_object(r, &res)))
		return res;
	into = json_object_get(o, "into");
	if (!json_is_integer(into) || json_integer_value(into) <= 0) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "into: the id of the record to keep is expected");
	}
	to = (int64_t)json_integer_value(into);
	json_decref(o);
	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a, fn(a, &r->viewer, p->id, to, &out), MHD_HTTP_OK, &out);
}

enum MHD_Result web_catalogue_speaker_merge(struct web_request *r, const struct web_params *p)
{
	return merge(r, p, prl_archive_speaker_merge);
}

enum MHD_Result web_catalogue_place_merge(struct web_request *r, const struct web_params *p)
{
	return merge(r, p, prl_archive_place_merge);
}
