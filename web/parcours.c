/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Thematic routes over HTTP: GET /api/routes (the routes the request's
 * viewer may follow) and GET /api/routes/{slug} (one, each stop with what
 * its player needs: the recording's title, place and institution, the
 * media to play, the span's transcript and translation).  The route pages
 * (/routes, /routes/{slug}) carry the same JSON (pages.c).
 *
 * Always holds: the archive decides which stops the viewer may hear
 * (archive/parcours.c); what a stop shows of its recording comes from the
 * recording's JSON as that viewer gets it (the cache web_recording_json()
 * fills), so a withheld passage's text never reaches a stop.  A slug
 * reaches the archive only as a bound value, after
 * prl_parcours_slug_valid(); anything else is the 404 of an unknown one.
 * Staff write routes here too: POST /api/routes, PUT and DELETE
 * /api/routes/{slug}, and the routes' history (GET
 * /api/route-history/{slug}, POST /api/route-history/{hid}/revert); the
 * route table checked the session, the CSRF token and the role, the
 * archive checks the route whole, the access gate stop by stop, and
 * writes the change with its history row (archive/parcours.c).  A write
 * answers with the route as its writer now gets it.
 * Expected workload: a route page now and then; a route of thousands of
 * stops still answers, each recording's JSON read once per request;
 * writes at human pace.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

/* The facts a stop shows of its recording, from the recording's JSON. */
static json_t *recording_facts(json_t *rec)
{
	static const char *const copied[] = {"id",	    "title",  "date",	"collector",
					     "institution", "rights", "variety"};
	json_t *out = web_json_pick(rec, copied, sizeof(copied) / sizeof(copied[0]));
	json_t *place = json_object_get(rec, "place");

	if (out && json_is_object(place))
		json_object_set(out, "place", place);
	return out;
}

/* Adds to each stop of route (the archive's JSON, parsed) its recording's
 * facts, media and span text; a stop whose recording r's viewer can no
 * longer have (deleted meanwhile) is dropped. */
static void stops_fill(struct web_request *r, json_t *route)
{
	json_t *stops = json_object_get(route, "stops"), *kept = json_array(),
	       *seen = json_object();
	json_t *stop;
	size_t i;

	json_array_foreach(stops, i, stop)
	{
		json_int_t rid = json_integer_value(json_object_get(stop, "recording_id"));
		char key[24];
		json_t *rec;

		snprintf(key, sizeof(key), "%lld", (long long)rid);
		if (!(rec = json_object_get(seen, key))) {
			struct web_blob *blob;
			int err = 0;

			if (!(blob = web_recording_json(r, rid, &err)))
				continue;
			rec = json_loadb(blob->data, blob->len, 0, NULL);
			web_blob_unref(blob);
			if (!rec)
				continue;
			json_object_set_new(seen, key, rec);
		}
		json_object_set_new(stop, "recording", recording_facts(rec));
		json_object_set(stop, "media", json_object_get(rec, "media"));
		web_span_text(stop, rec, json_integer_value(json_object_get(stop, "start_ms")),
			      json_integer_value(json_object_get(stop, "end_ms")),
			      web_lang_code(r->lang));
		json_array_append(kept, stop);
	}
	json_object_set_new(route, "stops", kept);
	json_decref(seen);
}

int web_route_json(struct web_request *r, const char *slug, struct prl_buf *out, unsigned *status)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;
	json_t *route = NULL;
	char *js = NULL;
	int ret;

	*status = MHD_HTTP_NOT_FOUND;
	if (!prl_parcours_slug_valid(slug))
		return -PRL_ENOTFOUND;
	if (!(a = web_archive_get(r->srv))) {
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return -PRL_EIO;
	}
	ret = prl_archive_parcours_json(a, &r->viewer, slug, &b);
	web_archive_put(r->srv, a);
	if (ret == 0 && !(route = json_loadb(prl_buf_str(&b), b.len, 0, NULL)))
		ret = -PRL_ENOMEM;
	if (ret == 0) {
		stops_fill(r, route);
		if (json_array_size(json_object_get(route, "stops")) == 0)
			ret = -PRL_ENOTFOUND;
		else if (!(js = json_dumps(route, JSON_COMPACT | JSON_REAL_PRECISION(10))))
			ret = -PRL_ENOMEM;
		else
			ret = prl_buf_addstr(out, js);
	}
	if (ret < 0 && ret != -PRL_ENOTFOUND)
		*status = web_status_for(ret);
	free(js);
	json_decref(route);
	prl_buf_release(&b);
	return ret;
}

int web_routes_json(struct web_request *r, struct prl_buf *out, unsigned *status)
{
	struct prl_archive *a;
	int ret;

	if (!(a = web_archive_get(r->srv))) {
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return -PRL_EIO;
	}
	ret = prl_archive_parcours_list_json(a, &r->viewer, out);
	web_archive_put(r->srv, a);
	if (ret < 0)
		*status = web_status_for(ret);
	return ret;
}

enum MHD_Result web_api_routes(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	unsigned status = 0;

	(void)p;
	if (web_routes_json(r, &b, &status) < 0) {
		prl_buf_release(&b);
		return web_error_json(r, status, "the routes cannot be read");
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

enum MHD_Result web_api_route(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	unsigned status = 0;

	if (web_route_json(r, p->tail, &b, &status) < 0) {
		prl_buf_release(&b);
		return web_error_json(r, status,
				      status == MHD_HTTP_NOT_FOUND ? "no such route"
								   : "the route cannot be read");
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

const char *web_route_slug(const struct web_params *p, char *buf, size_t size)
{
	size_t n = p->tail ? strcspn(p->tail, "/") : 0;

	if (n >= size)
		n = 0;
	if (n)
		memcpy(buf, p->tail, n);
	buf[n] = '\0';
	return buf;
}

/* ---- writing routes (staff), their history and reverts ---- */

/* The archive's answer ret to a write of route slug: on success the
 * route as r's viewer now gets it (status ok), else the status ret
 * stands for with the archive's sentence. */
static enum MHD_Result write_answer(struct web_request *r, struct prl_archive *a, int ret,
				    const char *slug, unsigned ok)
{
	struct prl_buf b = PRL_BUF_INIT;
	enum MHD_Result res;
	unsigned status = 0;

	if (ret < 0 && web_write_refused(r, ret, &res)) {
		web_archive_put(r->srv, a);
		return res;
	}
	if (ret < 0) {
		switch (-ret) {
		case PRL_EINVAL:
		case PRL_EFORMAT:
			status = MHD_HTTP_UNPROCESSABLE_CONTENT;
			break;
		case PRL_EEXIST:
		case PRL_ECONFLICT:
			status = MHD_HTTP_CONFLICT;
			break;
		default:
			status = web_status_for(ret);
			break;
		}
		prl_buf_addstr(&b, "{\"error\":");
		prl_json_str(&b, status == MHD_HTTP_INTERNAL_SERVER_ERROR
					 ? web_status_message(status)
					 : prl_archive_errmsg(a));
		prl_buf_addstr(&b, "}\n");
		web_archive_put(r->srv, a);
		return web_send_buf(r, status, JSON_MIME, &b, "no-store");
	}
	web_archive_put(r->srv, a);
	if (!slug) /* deleted */
		prl_buf_addstr(&b, "{\"deleted\":true}");
	else if (web_route_json(r, slug, &b, &status) < 0) {
		/* written, yet nothing of it left for this viewer to hear */
		prl_buf_reset(&b);
		prl_buf_addstr(&b, "{\"slug\":");
		prl_json_str(&b, slug);
		prl_buf_addstr(&b, "}");
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, ok, JSON_MIME, &b, "no-store");
}

/* POST /api/routes (slug NULL) and PUT /api/routes/{slug}. */
static enum MHD_Result route_save(struct web_request *r, const char *slug)
{
	struct prl_buf written = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o;
	int ret;

	/* the shape (a JSON object) is checked here, the rest by the archive */
	if (!(o = web_body_object(r, &res)))
		return res;
	json_decref(o);
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_parcours_save(a, &r->viewer, slug, prl_buf_str(&r->body), r->body.len,
					&written);
	res = write_answer(r, a, ret, prl_buf_str(&written), slug ? MHD_HTTP_OK : MHD_HTTP_CREATED);
	prl_buf_release(&written);
	return res;
}

enum MHD_Result web_api_route_create(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return route_save(r, NULL);
}

enum MHD_Result web_api_route_put(struct web_request *r, const struct web_params *p)
{
	return route_save(r, p->tail);
}

enum MHD_Result web_api_route_delete(struct web_request *r, const struct web_params *p)
{
	struct prl_archive *a = web_archive_get(r->srv);

	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	return write_answer(r, a, prl_archive_parcours_remove(a, &r->viewer, p->tail), NULL,
			    MHD_HTTP_OK);
}

enum MHD_Result web_api_route_revert(struct web_request *r, const struct web_params *p)
{
	struct prl_buf slug = PRL_BUF_INIT;
	struct prl_archive *a = web_archive_get(r->srv);
	enum MHD_Result res;
	int ret;

	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_parcours_revert(a, &r->viewer, p->id, &slug);
	res = write_answer(r, a, ret, ret == 0 ? prl_buf_str(&slug) : NULL, MHD_HTTP_OK);
	prl_buf_release(&slug);
	return res;
}

enum MHD_Result web_api_route_history(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a = web_archive_get(r->srv);
	int ret;

	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_parcours_history_json(a, &r->viewer, p->tail, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return web_error_json(r, web_status_for(ret),
				      ret == -PRL_ENOTFOUND ? "no such route"
							    : "the route's history cannot be read");
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-store");
}
