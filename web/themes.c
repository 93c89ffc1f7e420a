/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Themes over HTTP: GET /api/themes (the list, each theme counting the
 * recordings the viewer may hear), GET /api/themes/{slug} and the page
 * /themes/{slug} (a theme and its recordings); staff writes: POST
 * /api/themes, PATCH and DELETE /api/themes/{slug}, and tags: POST
 * /api/recordings/{id}/themes and /api/segments/{sid}/themes with
 * {"theme": slug}, DELETE .../themes/{slug}; the page /themes (the list
 * for everyone, and for staff signed in the controls that add, edit and
 * delete a theme through the API).
 *
 * Always holds: every write passed the route table's checks (a session,
 * its CSRF token, an annotator or admin); the list itself is the
 * network's, so only the network's staff change it, and a tag is written
 * only where the access gate lets the viewer change the recording
 * (PRL_MAY_WRITE, archive/themes.c).  A slug from the path reaches the
 * archive only as a bound value after prl_theme_slug_valid(); a theme's
 * name and description go out as JSON strings and, on the page, as
 * escaped text.  Errors are {"error": "..."} with 400, 403, 404, 409 or
 * 422, and the HTML 404 page for the page.
 * Expected workload: reads at human pace; writes a few a day.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

#define THEME_PAGE_RECORDINGS 200

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
	case PRL_EEXIST:
		return MHD_HTTP_CONFLICT;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Answers ret of archive a: out (200 or ok) or the archive's sentence;
 * gives a back. */
static enum MHD_Result answer(struct web_request *r, struct prl_archive *a, int ret, unsigned ok,
			      struct prl_buf *out)
{
	enum MHD_Result res;
	unsigned status;

	if (ret == 0) {
		web_archive_put(r->srv, a);
		prl_buf_addch(out, '\n');
		return web_send_buf(r, ok, JSON_MIME, out, "no-store");
	}
	prl_buf_release(out);
	if (web_write_refused(r, ret, &res)) {
		web_archive_put(r->srv, a);
		return res;
	}
	status = status_of(ret);
	res = web_error_json(
		r, status, status == MHD_HTTP_INTERNAL_SERVER_ERROR ? NULL : prl_archive_errmsg(a));
	web_archive_put(r->srv, a);
	return res;
}

static struct prl_archive *take_archive(struct web_request *r, enum MHD_Result *res)
{
	struct prl_archive *a = web_archive_get(r->srv);

	if (!a)
		*res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	return a;
}

enum MHD_Result web_api_themes(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	(void)p;
	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a, prl_archive_themes_json(a, &r->viewer, &out), MHD_HTTP_OK, &out);
}

enum MHD_Result web_api_theme(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;

	if (!prl_theme_slug_valid(p->tail))
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such theme");
	if (!(a = take_archive(r, &res)))
		return res;
	return answer(r, a,
		      prl_archive_theme_json(a, &r->viewer, p->tail, THEME_PAGE_RECORDINGS, &out),
		      MHD_HTTP_OK, &out);
}

/* A text member of o: NULL when absent; *bad set when it is no string. */
static const char *member(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v))) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* POST /api/themes {slug, name, description?}, PATCH /api/themes/{slug}
 * {slug?, name?, description?}: the network's staff only. */
static enum MHD_Result theme_write(struct web_request *r, const struct web_params *p, int add)
{
	const char *slug, *name, *desc;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int bad = 0, ret;
	json_t *o;

	if (!prl_access_may_write(&r->viewer, 0))
		return web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "the list of themes is changed by the network's staff");
	if (!(o = web_body_object(r, &res)))
		return res;
	slug = member(o, "slug", &bad);
	name = member(o, "name", &bad);
	desc = member(o, "description", &bad);
	if (bad || (add && (!slug || !name))) {
		json_decref(o);
		return web_error_json(
			r, MHD_HTTP_BAD_REQUEST,
			add ? "a theme is {\"slug\", \"name\", \"description\"}: texts"
			    : "slug, name and description are texts");
	}
	if (!(a = take_archive(r, &res))) {
		json_decref(o);
		return res;
	}
	ret = add ? prl_archive_theme_add(a, slug, name, desc)
		  : prl_archive_theme_edit(a, p->tail, slug, name, desc);
	if (ret == 0)
		ret = prl_archive_theme_json(a, &r->viewer, slug ? slug : p->tail, 1, &out);
	json_decref(o);
	return answer(r, a, ret, add ? MHD_HTTP_CREATED : MHD_HTTP_OK, &out);
}

enum MHD_Result web_api_theme_add(struct web_request *r, const struct web_params *p)
{
	return theme_write(r, p, 1);
}

enum MHD_Result web_api_theme_edit(struct web_request *r, const struct web_params *p)
{
	return theme_write(r, p, 0);
}

enum MHD_Result web_api_theme_delete(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (!prl_access_may_write(&r->viewer, 0))
		return web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "the list of themes is changed by the network's staff");
	if (!(a = take_archive(r, &res)))
		return res;
	if ((ret = prl_archive_theme_delete(a, p->tail)) == 0) {
		prl_buf_addstr(&out, "{\"slug\":");
		prl_json_str(&out, p->tail);
		prl_buf_addstr(&out, ",\"deleted\":true}");
	}
	return answer(r, a, ret, MHD_HTTP_OK, &out);
}

/* A tag (POST, the theme in the body) or its removal (DELETE, the theme
 * in the path) on the recording or segment p->id; answers the recording's
 * or segment's themes as {target, id, theme, tagged}. */
static enum MHD_Result tag(struct web_request *r, const struct web_params *p,
			   enum prl_theme_target target, int untag)
{
	struct prl_buf out = PRL_BUF_INIT;
	const char *slug = p->tail;
	struct prl_archive *a;
	enum MHD_Result res;
	json_t *o = NULL;
	int bad = 0, ret;

	if (!untag) {
		if (!(o = web_body_object(r, &res)))
			return res;
		if (!(slug = member(o, "theme", &bad)) || bad) {
			json_decref(o);
			return web_error_json(r, MHD_HTTP_BAD_REQUEST,
					      "{\"theme\": slug} is expected");
		}
	}
	if (!(a = take_archive(r, &res))) {
		json_decref(o);
		return res;
	}
	ret = prl_archive_theme_tag(a, &r->viewer, slug, target, p->id, untag);
	if (ret == 0) {
		prl_buf_addf(&out, "{\"%s\":%lld,\"theme\":",
			     target == PRL_THEME_RECORDING ? "recording_id" : "segment_id",
			     (long long)p->id);
		prl_json_str(&out, slug);
		prl_buf_addf(&out, ",\"tagged\":%s}", untag ? "false" : "true");
	}
	json_decref(o);
	return answer(r, a, ret, MHD_HTTP_OK, &out);
}

enum MHD_Result web_api_recording_tag(struct web_request *r, const struct web_params *p)
{
	return tag(r, p, PRL_THEME_RECORDING, 0);
}

enum MHD_Result web_api_recording_untag(struct web_request *r, const struct web_params *p)
{
	return tag(r, p, PRL_THEME_RECORDING, 1);
}

enum MHD_Result web_api_segment_tag(struct web_request *r, const struct web_params *p)
{
	return tag(r, p, PRL_THEME_SEGMENT, 0);
}

enum MHD_Result web_api_segment_untag(struct web_request *r, const struct web_params *p)
{
	return tag(r, p, PRL_THEME_SEGMENT, 1);
}

/* /themes/{slug}: the theme and its recordings, for the viewer. */
enum MHD_Result web_page_theme(struct web_request *r, const struct web_params *p)
{
	static const char *const names[] = {"data", "title"};
	struct prl_buf raw = PRL_BUF_INIT, data = PRL_BUF_INIT, title = PRL_BUF_INIT;
	const struct prl_buf *values[] = {&data, &title};
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	if (!prl_theme_slug_valid(p->tail))
		return web_error_html(r, MHD_HTTP_NOT_FOUND);
	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	err = prl_archive_theme_json(a, &r->viewer, p->tail, THEME_PAGE_RECORDINGS, &raw);
	web_archive_put(r->srv, a);
	if (err == 0) {
		json_t *o = json_loadb(prl_buf_str(&raw), raw.len, 0, NULL);
		const char *name = json_string_value(json_object_get(o, "name"));

		err = prl_xml_escape(&title, name ? name : p->tail);
		json_decref(o);
	}
	if (err == 0)
		err = web_json_for_script(&data, prl_buf_str(&raw), raw.len);
	ret = err == -PRL_ENOTFOUND ? web_error_html(r, MHD_HTTP_NOT_FOUND)
	      : err < 0		    ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
				    : web_page_send(r, WEB_TPL_THEME, names, values, 2, 0);
	prl_buf_release(&raw);
	prl_buf_release(&data);
	prl_buf_release(&title);
	return ret;
}

/* /themes: the list as the viewer may hear it; staff (annotators and
 * admins) get the page's controls, whose writes are the API's, and what
 * deleting each theme would untag. */
enum MHD_Result web_page_themes(struct web_request *r, const struct web_params *p)
{
	struct prl_buf raw = PRL_BUF_INIT, data = PRL_BUF_INIT;
	int staff = r->viewer.role >= PRL_ROLE_ANNOTATOR && prl_access_may_write(&r->viewer, 0);
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	(void)p;
	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	prl_buf_addf(&raw, "{\"staff\":%s,\"list\":", staff ? "true" : "false");
	err = prl_archive_themes_json(a, &r->viewer, &raw);
	web_archive_put(r->srv, a);
	if (err == 0)
		err = prl_buf_addch(&raw, '}');
	if (err == 0)
		err = web_json_for_script(&data, prl_buf_str(&raw), raw.len);
	ret = err < 0 ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_THEMES, "data", &data);
	prl_buf_release(&raw);
	prl_buf_release(&data);
	return ret;
}
