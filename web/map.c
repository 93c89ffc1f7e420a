/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The map of voices over HTTP: GET /api/map (a GeoJSON FeatureCollection,
 * a Point per place with recordings the viewer may hear, properties {id,
 * name, commune, recordings, seconds}), GET /api/map/places/{id} (that
 * place's voices, each with what its play button needs), GET
 * /api/map/decades (the decades the viewer's recordings are dated in:
 * what the decade filter offers) and the page /map.  The JSON answers
 * take the filters variety=, decade=, theme= and institution= (the
 * decades, all but decade=).
 *
 * Always holds: the archive decides what the viewer hears
 * (archive/themes.c): no private or restricted recording makes a place
 * appear for a visitor.  A filter that names nothing known is a 400 with
 * a sentence, never an empty map.  The map's JSON goes gzip-compressed to
 * a client that accepts it; the map, and its decades, with no filter but
 * an institution are kept per role in the server's cache of JSON until
 * the archive changes (a researcher granted one institution is answered
 * apart).
 * Expected workload: every visit of the map page, the home page and the
 * institutions' pages: thousands of places over tens of thousands of
 * recordings, one grouped walk when not cached.
 */
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

/* What a map answer is: the places, or the decades they are dated in. */
enum map_answer {
	MAP_PLACES, /* the GeoJSON of /api/map */
	MAP_DECADES /* {"decades": [...]} of /api/map/decades */
};

/* Reads the filters of r into f; 0, or answers 400 into *res. */
static int read_filter(struct web_request *r, struct prl_map_filter *f, enum MHD_Result *res)
{
	const char *decade = web_arg(r, "decade");

	memset(f, 0, sizeof(*f));
	f->variety = web_arg(r, "variety");
	f->theme = web_arg(r, "theme");
	f->institution = web_arg(r, "institution");
	if (decade && *decade) {
		char *end;
		long y = strtol(decade, &end, 10);

		if (*end || strlen(decade) != 4 || y % 10 || y < 1800 || y > 2990) {
			*res = web_error_json(r, MHD_HTTP_BAD_REQUEST,
					      "decade: a year ending in 0, such as 1970");
			return -1;
		}
		f->decade = (int)y;
	}
	return 0;
}

/* Answers the archive's refusal ret (a bad filter: 400 with its sentence). */
static enum MHD_Result refused(struct web_request *r, struct prl_archive *a, int ret)
{
	unsigned status = ret == -PRL_EINVAL ? MHD_HTTP_BAD_REQUEST : web_status_for(ret);

	return web_error_json(
		r, status, status == MHD_HTTP_INTERNAL_SERVER_ERROR ? NULL : prl_archive_errmsg(a));
}

/* Answers what for r's viewer and filters, from the cache when it is
 * shared by the viewer's role. */
static enum MHD_Result map_send(struct web_request *r, enum map_answer what)
{
	struct web_cache *c = &r->srv->cache;
	uint64_t sig = web_cache_signature(c);
	struct prl_buf b = PRL_BUF_INIT;
	struct web_blob *blob = NULL;
	struct prl_map_filter f;
	struct MHD_Response *resp;
	struct prl_archive *a;
	enum MHD_Result res;
	int64_t inst = 0, key = 0, len;
	int ret, gz;

	if (read_filter(r, &f, &res) < 0)
		return res;
	if (what == MAP_DECADES)
		f.decade = 0; /* offered beside the other filters */
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	/* the whole map, or one institution's, is the same for every viewer
	 * of a role: kept */
	if (prl_access_by_role(&r->viewer) && !(f.variety && *f.variety) && !f.decade &&
	    !(f.theme && *f.theme) &&
	    (!(f.institution && *f.institution) ||
	     (prl_institution_short_valid(f.institution) &&
	      prl_archive_institution_id(a, f.institution, &inst) == 0 && inst > 0))) {
		key = what == MAP_DECADES ? WEB_KEY_MAP_DECADES(inst)
					  : WEB_KEY_PIECE(inst, WEB_PIECE_MAP);
		blob = web_cache_get(c, key, (int)r->viewer.role, sig);
	}
	if (!blob) {
		ret = what == MAP_DECADES ? prl_archive_map_decades_json(a, &r->viewer, &f, &b)
					  : prl_archive_map_json(a, &r->viewer, &f, &b);
		if (ret < 0) {
			res = refused(r, a, ret);
			web_archive_put(r->srv, a);
			prl_buf_release(&b);
			return res;
		}
		prl_buf_addch(&b, '\n');
		/* made for one request: compressed fast (a tenth of the size all
		 * the same); one that is kept, at the usual level */
		blob = web_blob_new_level(prl_buf_str(&b), b.len, key ? 6 : 1);
		prl_buf_release(&b);
		if (blob && key)
			web_cache_put(c, key, (int)r->viewer.role, sig, blob);
	}
	web_archive_put(r->srv, a);
	if (!blob)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	gz = blob->gz && web_accepts_gzip(web_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	len = (int64_t)(gz ? blob->gz_len : blob->len);
	resp = web_blob_response(blob, gz);
	web_blob_unref(blob);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				what == MAP_DECADES ? JSON_MIME
						    : "application/geo+json; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return web_queue(r, MHD_HTTP_OK, resp, len);
}

enum MHD_Result web_api_map(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return map_send(r, MAP_PLACES);
}

enum MHD_Result web_api_map_decades(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return map_send(r, MAP_DECADES);
}

enum MHD_Result web_api_map_place(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_map_filter f;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (read_filter(r, &f, &res) < 0)
		return res;
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	if ((ret = prl_archive_map_place_json(a, &r->viewer, &f, p->id, &b)) < 0) {
		res = refused(r, a, ret);
		web_archive_put(r->srv, a);
		prl_buf_release(&b);
		return res;
	}
	web_archive_put(r->srv, a);
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

/* /map: the page; its data comes from /api/map, its settings inside. */
enum MHD_Result web_page_map(struct web_request *r, const struct web_params *p)
{
	static const char *const names[] = {"map"};
	struct prl_buf map = PRL_BUF_INIT;
	const struct prl_buf *values[] = {&map};
	enum MHD_Result ret;

	(void)p;
	ret = web_json_for_script(&map, prl_buf_str(&r->srv->map_config), r->srv->map_config.len) <
			      0
		      ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : web_page_send(r, WEB_TPL_MAP, names, values, 1, 1);
	prl_buf_release(&map);
	return ret;
}
