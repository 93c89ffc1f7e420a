/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The institutions of the network: as JSON, GET /api/institutions (all of
 * them) and GET /api/institutions/{short} (one); as pages, /institutions
 * (the list and the map of where they are) and /institutions/{short} (its
 * description, collections, places, speakers and recordings, and a search
 * box scoped to it).  The JSON is the archive's, the same bytes `parlers
 * institution list --json` and `show --json` print; whatever is counted or
 * listed is what the request's viewer may know of.  The maps draw the
 * outline shipped with parlers (static/normandy.geojson) under the tiles
 * the operator chose (`serve --tiles`), so that they work offline.
 *
 * Always holds: the short name from the path reaches the archive only as
 * a bound value, after prl_institution_short_valid(); anything else is the
 * same 404 as an unknown one.  Errors are {"error": "..."} for the API and
 * the HTML 404 page for the pages.  A tile URL is checked at start-up
 * (only http(s), no character that could end a CSP source or an attribute)
 * before its origin joins the map pages' img-src.
 * Expected workload: page loads and scripts at human pace; a few hundred
 * institutions at most.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web-internal.h"

/* The list (short_name NULL) or one institution, for r's viewer. */
static enum MHD_Result answer(struct web_request *r, const char *short_name)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;
	int ret;

	if (short_name && !prl_institution_short_valid(short_name))
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such institution");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = short_name ? prl_archive_institution_json(a, &r->viewer, short_name, &b)
			 : prl_archive_institutions_json(a, &r->viewer, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return ret == -PRL_ENOTFOUND
			       ? web_error_json(r, MHD_HTTP_NOT_FOUND, "no such institution")
			       : web_error_json(r, web_status_for(ret), prl_strerror(ret));
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

enum MHD_Result web_api_institutions(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return answer(r, NULL);
}

enum MHD_Result web_api_institution(struct web_request *r, const struct web_params *p)
{
	return answer(r, p->tail);
}

/* ---- the map's settings ---- */

#define OSM_TILES "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#define OSM_CREDIT "© OpenStreetMap contributors"

int prl_web_tiles_check(const char *url, struct prl_buf *err)
{
	const char *host, *p;
	size_t n = url ? strlen(url) : 0;

	if (!url || n > 200) {
		prl_buf_addstr(err, "a tile URL is at most 200 bytes");
		return -PRL_EINVAL;
	}
	if (!strncmp(url, "https://", 8))
		host = url + 8;
	else if (!strncmp(url, "http://", 7))
		host = url + 7;
	else {
		prl_buf_addstr(err, "a tile URL starts with http:// or https://");
		return -PRL_EINVAL;
	}
	for (p = url; *p; p++) {
		if (*p <= ' ' || *p >= 127) {
			prl_buf_addstr(err, "a tile URL is ASCII without spaces");
			return -PRL_EINVAL;
		}
		if (strchr("\"'<>\\;,`^|", *p)) {
			prl_buf_addf(err, "a tile URL may not hold '%c'", *p);
			return -PRL_EINVAL;
		}
	}
	if (!strstr(url, "{z}") || !strstr(url, "{x}") || !strstr(url, "{y}")) {
		prl_buf_addstr(err, "a tile URL names {z}, {x} and {y}");
		return -PRL_EINVAL;
	}
	/* the host: letters, digits, '.', '-', a port, and "{s}." only first */
	for (p = host; *p && *p != '/'; p++) {
		if (p == host && !strncmp(p, "{s}.", 4)) {
			p += 3;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':')) {
			prl_buf_addstr(err,
				       "a tile URL's host is a plain name (\"{s}.\" may begin it)");
			return -PRL_EINVAL;
		}
	}
	if (p == host) {
		prl_buf_addstr(err, "a tile URL names its host");
		return -PRL_EINVAL;
	}
	return 0;
}

int web_map_init(struct web_server *s, const struct prl_web_opts *opts, struct prl_buf *err)
{
	const char *tiles = opts->tiles ? opts->tiles : OSM_TILES;
	const char *credit = opts->tiles_attribution;
	struct prl_buf *b = &s->map_config;
	int ret;

	s->tiles_origin[0] = '\0';
	if (!*tiles || !strcmp(tiles, "none"))
		tiles = NULL;
	if (tiles) {
		const char *host = strstr(tiles, "://") + 3;
		size_t hlen = strcspn(host, "/");
		int sub = !strncmp(host, "{s}.", 4);

		if ((ret = prl_web_tiles_check(tiles, err)) < 0)
			return ret;
		snprintf(s->tiles_origin, sizeof(s->tiles_origin), "%.*s%s%.*s",
			 (int)(host - tiles), tiles, sub ? "*." : "", (int)(hlen - (sub ? 4 : 0)),
			 host + (sub ? 4 : 0));
		if (!credit && !strcmp(tiles, OSM_TILES))
			credit = OSM_CREDIT;
	}
	prl_buf_reset(b);
	prl_buf_addstr(b, "{\"tiles\":");
	if (tiles)
		prl_json_str(b, tiles);
	else
		prl_buf_addstr(b, "null");
	prl_buf_addstr(b, ",\"attribution\":");
	return prl_json_str(b, credit ? credit : "") < 0 ? -PRL_ENOMEM : prl_buf_addch(b, '}');
}

/* ---- the pages ---- */

struct piece_args {
	struct prl_archive *a;
	const struct prl_viewer *v;
	enum web_piece k;
	const char *short_name;
};

static int piece_make(void *ctx, struct prl_buf *out)
{
	const struct piece_args *q = ctx;

	switch (q->k) {
	case WEB_PIECE_INSTITUTIONS:
		return prl_archive_institutions_json(q->a, q->v, out);
	case WEB_PIECE_INSTITUTION:
		return prl_archive_institution_json(q->a, q->v, q->short_name, out);
	case WEB_PIECE_FACETS:
		return prl_archive_institution_facets_json(q->a, q->v, q->short_name, out);
	default:
		return prl_archive_institution_recordings_json(q->a, q->v, q->short_name, 0, 24,
							       out);
	}
}

/* The JSON of piece k of institution short_name (NULL: the list) for r's
 * viewer, appended to out, from the server's cache when it holds it. */
static int page_piece(struct web_request *r, struct prl_archive *a, enum web_piece k,
		      const char *short_name, struct prl_buf *out)
{
	struct piece_args q = {a, &r->viewer, k, short_name};
	int64_t inst = 0;
	int ret;

	if (short_name && (ret = prl_archive_institution_id(a, short_name, &inst)) < 0)
		return ret;
	return web_cache_piece(r, WEB_KEY_PIECE(inst, k), (int)r->viewer.role,
			       prl_access_by_role(&r->viewer), piece_make, &q, out);
}

/* /institutions: every institution (its recordings counted for the
 * viewer) and the map's settings. */
enum MHD_Result web_page_institutions(struct web_request *r, const struct web_params *p)
{
	static const char *const names[] = {"data", "map"};
	struct prl_buf list = PRL_BUF_INIT, data = PRL_BUF_INIT, map = PRL_BUF_INIT;
	const struct prl_buf *values[] = {&data, &map};
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	(void)p;
	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	err = page_piece(r, a, WEB_PIECE_INSTITUTIONS, NULL, &list);
	web_archive_put(r->srv, a);
	if (err == 0)
		err = web_json_for_script(&data, prl_buf_str(&list), list.len);
	if (err == 0)
		err = web_json_for_script(&map, prl_buf_str(&r->srv->map_config),
					  r->srv->map_config.len);
	ret = err < 0 ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : web_page_send(r, WEB_TPL_INSTITUTIONS, names, values, 2, 1);
	prl_buf_release(&list);
	prl_buf_release(&data);
	prl_buf_release(&map);
	return ret;
}

/* /institutions/{short}: the institution, its facets and its first page
 * of recordings, all for the viewer; unknown: the 404 page. */
enum MHD_Result web_page_institution(struct web_request *r, const struct web_params *p)
{
	static const char *const names[] = {"data", "facets", "list", "title", "short"};
	struct prl_buf raw[3] = {PRL_BUF_INIT, PRL_BUF_INIT, PRL_BUF_INIT};
	struct prl_buf out[3] = {PRL_BUF_INIT, PRL_BUF_INIT, PRL_BUF_INIT};
	struct prl_buf title = PRL_BUF_INIT, shortb = PRL_BUF_INIT;
	const struct prl_buf *values[] = {&out[0], &out[1], &out[2], &title, &shortb};
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	if (!prl_institution_short_valid(p->tail))
		return web_error_html(r, MHD_HTTP_NOT_FOUND);
	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	err = page_piece(r, a, WEB_PIECE_INSTITUTION, p->tail, &raw[0]);
	if (err == 0)
		err = page_piece(r, a, WEB_PIECE_FACETS, p->tail, &raw[1]);
	if (err == 0)
		err = page_piece(r, a, WEB_PIECE_RECORDINGS, p->tail, &raw[2]);
	if (err == 0) {
		json_error_t jerr;
		json_t *o = json_loadb(prl_buf_str(&raw[0]), raw[0].len, 0, &jerr);
		const char *name = json_string_value(json_object_get(o, "name"));

		prl_xml_escape(&title, name ? name : p->tail);
		json_decref(o);
	}
	web_archive_put(r->srv, a);
	for (int i = 0; i < 3 && err == 0; i++)
		err = web_json_for_script(&out[i], prl_buf_str(&raw[i]), raw[i].len);
	prl_xml_escape(&shortb, p->tail);
	ret = err == -PRL_ENOTFOUND ? web_error_html(r, MHD_HTTP_NOT_FOUND)
	      : err < 0		    ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
				    : web_page_send(r, WEB_TPL_INSTITUTION, names, values, 5, 0);
	for (int i = 0; i < 3; i++) {
		prl_buf_release(&raw[i]);
		prl_buf_release(&out[i]);
	}
	prl_buf_release(&title);
	prl_buf_release(&shortb);
	return ret;
}

/* GET /api/featured?day=YYYY-MM-DD&per_institution=N: the home page's
 * featured recordings and institutions for that day (today, UTC, by
 * default), as the viewer may know of them. */
enum MHD_Result web_api_featured(struct web_request *r, const struct web_params *p)
{
	struct prl_featured_opts fo = {0, 0, 1000};
	struct prl_buf b = PRL_BUF_INIT;
	const char *day = web_arg(r, "day"), *per = web_arg(r, "per_institution");
	struct prl_archive *a;
	char today[16];
	int ret;

	(void)p;
	if (day && *day) {
		int y, m, d, n = 0;

		if (strlen(day) != 10 || sscanf(day, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
		    n != 10 || m < 1 || m > 12 || d < 1 || d > 31)
			return web_error_json(r, MHD_HTTP_BAD_REQUEST, "day: YYYY-MM-DD");
	} else {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
		day = today;
	}
	if (per && *per) {
		char *end;
		long n = strtol(per, &end, 10);

		if (*end || n < 1 || n > 50)
			return web_error_json(r, MHD_HTTP_BAD_REQUEST, "per_institution: 1 to 50");
		fo.per_institution = (int)n;
	}
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_featured_json(a, &r->viewer, day, &fo, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return web_error_json(r, web_status_for(ret), prl_strerror(ret));
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}
