/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The pages: HTML templates from web/static/ (embedded at build time),
 * rendered once per language at start-up from the string table i18n.json,
 * then filled per request with the little that changes (a recording's JSON
 * and title, the home page's first listing, a search query).  Also the
 * static files (CSS, JavaScript, icons) with validators, and the HTML
 * error pages.
 *
 * Template syntax: {{key}} is a string of i18n.json, HTML-escaped;
 * {{@lang}}, {{@v}} (the assets' version) and {{@i18n}} (the language's
 * table as JSON) are filled at start-up, and {{>file.html}} by that file,
 * rendered the same way (the site's header, shared by every page);
 * {{=name}} is left for the request.
 *
 * Always holds: text from the archive reaches the HTML escaped (titles) or
 * as JSON in a <script type="application/json"> element with every '<'
 * escaped, where the browser never parses it as markup; the page's own
 * script then puts it in the DOM as text only.  A key missing from the
 * string table stops the server at start-up, not a visitor's page.
 *
 * Expected workload: a page per visitor now and then; rendering at start-up
 * costs a few milliseconds.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web-internal.h"

static const char *const template_files[WEB_NTEMPLATES] = {
	[WEB_TPL_HOME] = "index.html",
	[WEB_TPL_RECORDING] = "recording.html",
	[WEB_TPL_SEARCH] = "search.html",
	[WEB_TPL_ERROR] = "error.html",
	[WEB_TPL_LOGIN] = "login.html",
	[WEB_TPL_INSTITUTIONS] = "institutions.html",
	[WEB_TPL_INSTITUTION] = "institution.html",
	[WEB_TPL_EMBED] = "embed.html",
	[WEB_TPL_ROUTES] = "routes.html",
	[WEB_TPL_ROUTE] = "route.html",
	[WEB_TPL_GAMES] = "games.html",
	[WEB_TPL_SIGNUP] = "signup.html",
	[WEB_TPL_REVIEW] = "review.html",
	[WEB_TPL_CONTRIBUTOR] = "contributor.html",
	[WEB_TPL_PARTNERS] = "partners.html",
	[WEB_TPL_THEME] = "theme.html",
	[WEB_TPL_MAP] = "map.html",
	[WEB_TPL_ROUTE_EDIT] = "route-edit.html",
	[WEB_TPL_UPLOAD] = "upload.html",
	[WEB_TPL_HELP_TRANSCRIBE] = "help-transcribe.html",
	[WEB_TPL_THEMES] = "themes.html",
};

static const struct web_asset *find_asset(const char *name)
{
	for (size_t i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].name, name) == 0)
			return &web_assets[i];
	return NULL;
}

static const char *mime_of(const char *name)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".json", "application/json; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".geojson", "application/geo+json"},
		{".html", "text/html; charset=utf-8"},
		{".png", "image/png"},
		{".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

static void hex_hash(const void *data, size_t len, char *out, size_t out_size)
{
	unsigned char h[8];

	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	sodium_bin2hex(out, out_size, h, sizeof(h));
}

/* Renders the start-up tokens of tpl for one language into out; depth
 * counts the includes it is inside (one level is allowed). */
static int render_static(const char *tpl, json_t *strings, const char *lang, const char *version,
			 int depth, struct prl_buf *out, struct prl_buf *err)
{
	const char *p = tpl, *open, *close;
	int ret = 0;

	while ((open = strstr(p, "{{")) && ret == 0) {
		char key[64];
		size_t klen;

		if (!(close = strstr(open + 2, "}}"))) {
			prl_buf_addstr(err, "a template has {{ without }}");
			return -PRL_EFORMAT;
		}
		prl_buf_add(out, p, (size_t)(open - p));
		klen = (size_t)(close - open - 2);
		if (klen == 0 || klen >= sizeof(key)) {
			prl_buf_addstr(err, "a template has an empty or overlong {{key}}");
			return -PRL_EFORMAT;
		}
		memcpy(key, open + 2, klen);
		key[klen] = '\0';
		if (key[0] == '=') {
			ret = prl_buf_add(out, open, klen + 4); /* for the request */
		} else if (key[0] == '>') {
			const struct web_asset *part = find_asset(key + 1);

			if (!part || depth > 0) {
				prl_buf_addf(err, "a template includes %s, %s", key + 1,
					     part ? "itself inside an include"
						  : "which is not embedded");
				return -PRL_EFORMAT;
			}
			ret = render_static((const char *)part->data, strings, lang, version,
					    depth + 1, out, err);
		} else if (!strcmp(key, "@lang")) {
			ret = prl_buf_addstr(out, lang);
		} else if (!strcmp(key, "@v")) {
			ret = prl_buf_addstr(out, version);
		} else if (!strcmp(key, "@i18n")) {
			char *js = json_dumps(strings, JSON_COMPACT | JSON_SORT_KEYS);

			if (!js)
				return -PRL_ENOMEM;
			ret = web_json_for_script(out, js, strlen(js));
			free(js);
		} else {
			const char *s = json_string_value(json_object_get(strings, key));

			if (!s) {
				prl_buf_addf(err, "i18n.json: no string \"%s\" for \"%s\"", key,
					     lang);
				return -PRL_EFORMAT;
			}
			ret = prl_xml_escape(out, s);
		}
		p = close + 2;
	}
	if (ret == 0)
		ret = prl_buf_addstr(out, p);
	return ret;
}

int web_pages_init(struct web_pages *pg, struct prl_buf *err)
{
	static const char *const err_keys[4] = {"error_404", "error_403", "error_4xx", "error_5xx"};
	const struct web_asset *i18n = find_asset("i18n.json");
	crypto_generichash_state all;
	unsigned char vh[8];
	json_error_t jerr;
	json_t *root = NULL;
	size_t n = 0;
	int ret = 0;

	memset(pg, 0, sizeof(*pg));
	if (sodium_init() < 0) {
		prl_buf_addstr(err, "libsodium cannot start");
		return -PRL_EIO;
	}
	if (!(pg->assets = calloc(web_nassets, sizeof(*pg->assets))))
		return -PRL_ENOMEM;
	crypto_generichash_init(&all, NULL, 0, sizeof(vh));
	for (size_t i = 0; i < web_nassets; i++) {
		struct web_asset_meta *m = &pg->assets[n++];
		char hex[17];

		m->asset = &web_assets[i];
		m->mime = mime_of(web_assets[i].name);
		hex_hash(web_assets[i].data, web_assets[i].len, hex, sizeof(hex));
		snprintf(m->etag, sizeof(m->etag), "\"%s\"", hex);
		crypto_generichash_update(&all, web_assets[i].data, web_assets[i].len);
	}
	pg->nassets = n;
	crypto_generichash_final(&all, vh, sizeof(vh));
	sodium_bin2hex(pg->version, sizeof(pg->version), vh, sizeof(vh));

	if (!i18n || !(root = json_loadb((const char *)i18n->data, i18n->len, 0, &jerr))) {
		prl_buf_addf(err, "i18n.json: %s", i18n ? jerr.text : "missing");
		ret = -PRL_EFORMAT;
		goto end;
	}
	for (int l = 0; l < WEB_NLANGS; l++) {
		json_t *strings = json_object_get(root, web_lang_code((enum web_lang)l));

		if (!json_is_object(strings)) {
			prl_buf_addf(err, "i18n.json: no table for \"%s\"",
				     web_lang_code((enum web_lang)l));
			ret = -PRL_EFORMAT;
			goto end;
		}
		for (int t = 0; t < WEB_NTEMPLATES; t++) {
			const struct web_asset *a = find_asset(template_files[t]);

			if (!a) {
				prl_buf_addf(err, "%s: not embedded", template_files[t]);
				ret = -PRL_EFORMAT;
				goto end;
			}
			if ((ret = render_static((const char *)a->data, strings,
						 web_lang_code((enum web_lang)l), pg->version, 0,
						 &pg->rendered[t][l], err)) < 0)
				goto end;
		}
		for (int k = 0; k < 4; k++) {
			const char *s = json_string_value(json_object_get(strings, err_keys[k]));

			if (!s) {
				prl_buf_addf(err, "i18n.json: no string \"%s\"", err_keys[k]);
				ret = -PRL_EFORMAT;
				goto end;
			}
			prl_buf_addstr(&pg->err_title[l][k], s);
		}
	}
end:
	json_decref(root);
	if (ret < 0)
		web_pages_release(pg);
	return ret;
}

void web_pages_release(struct web_pages *pg)
{
	if (!pg)
		return;
	for (int t = 0; t < WEB_NTEMPLATES; t++)
		for (int l = 0; l < WEB_NLANGS; l++)
			prl_buf_release(&pg->rendered[t][l]);
	for (int l = 0; l < WEB_NLANGS; l++)
		for (int k = 0; k < 4; k++)
			prl_buf_release(&pg->err_title[l][k]);
	free(pg->assets);
	pg->assets = NULL;
	pg->nassets = 0;
}

/* ---- per request ---- */

struct fill {
	const char *names[WEB_PAGE_SLOTS];	      /* {{=name}} */
	const struct prl_buf *values[WEB_PAGE_SLOTS]; /* already escaped for where they go */
	int map; /* the page draws a map: the tiles' origin may serve images */
};

static int render_request(const struct prl_buf *tpl, const struct fill *f, struct prl_buf *out)
{
	const char *p = prl_buf_str(tpl), *open, *close;
	int ret;

	if ((ret = prl_buf_grow(out, tpl->len + 1024)) < 0)
		return ret;
	while ((open = strstr(p, "{{=")) && (close = strstr(open, "}}"))) {
		size_t nlen = (size_t)(close - open - 3);

		prl_buf_add(out, p, (size_t)(open - p));
		for (int i = 0; i < WEB_PAGE_SLOTS && f && f->names[i]; i++)
			if (strlen(f->names[i]) == nlen && !memcmp(f->names[i], open + 3, nlen))
				prl_buf_add(out, prl_buf_str(f->values[i]), f->values[i]->len);
		p = close + 2;
	}
	return prl_buf_addstr(out, p);
}

const char *web_frame_ancestors(const struct web_server *s)
{
	const char *f = s->opts.frame_ancestors;

	return f && *f ? f : "*";
}

static enum MHD_Result send_page(struct web_request *r, unsigned status, enum web_template t,
				 const struct fill *f)
{
	struct prl_buf body = PRL_BUF_INIT, csp = PRL_BUF_INIT;
	struct MHD_Response *resp;
	size_t len = 0;
	char *data;

	if (render_request(&r->srv->pages.rendered[t][r->lang], f, &body) < 0 ||
	    !(data = prl_buf_detach(&body, &len))) {
		prl_buf_release(&body);
		return MHD_NO;
	}
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, web_lang_code(r->lang));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Language, Cookie");
	/* everything the pages use is ours, but a map's tiles; nothing inline
	 * runs; only the embeddable player (and its error page, which says in
	 * the frame why nothing plays) may be framed, by whom the operator
	 * allows */
	prl_buf_addstr(&csp, "default-src 'self'; script-src 'self'; style-src 'self'; "
			     "img-src 'self' data:");
	if (f && f->map && r->srv->tiles_origin[0])
		prl_buf_addf(&csp, " %s", r->srv->tiles_origin);
	prl_buf_addstr(&csp, "; media-src 'self'; connect-src 'self'; object-src 'none'; "
			     "base-uri 'none'; form-action 'self'; frame-ancestors ");
	prl_buf_addstr(&csp, t == WEB_TPL_EMBED || !strncmp(r->url, "/embed/", 7)
				     ? web_frame_ancestors(r->srv)
				     : "'none'");
	MHD_add_response_header(resp, "Content-Security-Policy", prl_buf_str(&csp));
	prl_buf_release(&csp);
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	if (r->set_lang_cookie) {
		char cookie[80];

		snprintf(cookie, sizeof(cookie), "lang=%s; Path=/; Max-Age=31536000; SameSite=Lax",
			 web_lang_code(r->lang));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	return web_queue(r, status, resp, (int64_t)len);
}

enum MHD_Result web_page_send(struct web_request *r, enum web_template t, const char *const *names,
			      const struct prl_buf *const *values, size_t n, int map)
{
	struct fill f;

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < n && i < WEB_PAGE_SLOTS; i++) {
		f.names[i] = names[i];
		f.values[i] = values[i];
	}
	f.map = map;
	return send_page(r, MHD_HTTP_OK, t, &f);
}

enum MHD_Result web_page_send_one(struct web_request *r, unsigned status, enum web_template t,
				  const char *name, const struct prl_buf *value)
{
	struct fill f = {{name}, {value}};

	return send_page(r, status, t, name ? &f : NULL);
}

enum MHD_Result web_error_html(struct web_request *r, unsigned status)
{
	struct prl_buf title = PRL_BUF_INIT, code = PRL_BUF_INIT;
	struct fill f = {{"title", "status"}, {&title, &code}};
	int k = status == 404 ? 0 : status == 403 ? 1 : status < 500 ? 2 : 3;
	enum MHD_Result ret;

	prl_buf_addstr(&title, prl_buf_str(&r->srv->pages.err_title[r->lang][k]));
	prl_buf_addf(&code, "%u", status);
	ret = send_page(r, status, WEB_TPL_ERROR, &f);
	prl_buf_release(&title);
	prl_buf_release(&code);
	return ret;
}

/* Today's date in UTC, "YYYY-MM-DD": the seed of the home page's order. */
static void today(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

/* What the home page's pieces are made from. */
struct home_args {
	struct prl_archive *a;
	const struct prl_viewer *v;
	const char *day;
	const struct prl_featured_opts *fo;
	const struct prl_recording_filter *flt;
};

static int featured_make(void *ctx, struct prl_buf *out)
{
	const struct home_args *q = ctx;

	return prl_archive_featured_json(q->a, q->v, q->day, q->fo, out);
}

static int facets_make(void *ctx, struct prl_buf *out)
{
	const struct home_args *q = ctx;

	return prl_archive_facets_json(q->a, q->v, out);
}

static int list_make(void *ctx, struct prl_buf *out)
{
	const struct home_args *q = ctx;

	return prl_archive_list_json(q->a, q->v, q->flt, out);
}

/* True when flt asks for the first page of every recording. */
static int unfiltered(const struct prl_recording_filter *flt)
{
	return !(flt->place && *flt->place) && !(flt->speaker && *flt->speaker) &&
	       !(flt->variety && *flt->variety) && !(flt->collection && *flt->collection) &&
	       !(flt->institution && *flt->institution) && flt->offset == 0;
}

enum MHD_Result web_page_home(struct web_request *r, const struct web_params *p)
{
	struct prl_recording_filter flt;
	struct prl_featured_opts fo = {0, 0, 1000};
	struct prl_buf facets = PRL_BUF_INIT, list = PRL_BUF_INIT, featured = PRL_BUF_INIT,
		       fj = PRL_BUF_INIT, lj = PRL_BUF_INIT, ftj = PRL_BUF_INIT;
	struct fill f = {{"facets", "list", "featured"}, {&fj, &lj, &ftj}, 0};
	struct prl_archive *a = web_archive_get(r->srv);
	struct home_args q;
	const char *s;
	char day[16];
	enum MHD_Result ret;
	int err = 0, keep;

	(void)p;
	if (!a)
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	/* the first screen comes with the page: no round trip before it shows */
	memset(&flt, 0, sizeof(flt));
	flt.place = web_arg(r, "place");
	flt.speaker = web_arg(r, "speaker");
	flt.variety = web_arg(r, "variety");
	flt.collection = web_arg(r, "collection");
	flt.institution = web_arg(r, "institution");
	if ((s = web_arg(r, "offset")))
		flt.offset = strtoll(s, NULL, 10);
	flt.limit = 50;
	today(day, sizeof(day));
	/* facets, the day's featured and the first page of every recording
	 * cost tens of milliseconds on a large archive: kept in the server's
	 * cache for the viewer's role (the featured for the day) until the
	 * archive changes, except for a viewer answered apart */
	q = (struct home_args){a, &r->viewer, day, &fo, &flt};
	keep = prl_access_by_role(&r->viewer);
	err = web_cache_piece(r, WEB_KEY_PIECE(0, WEB_PIECE_HOME_FACETS), (int)r->viewer.role, keep,
			      facets_make, &q, &facets);
	if (err == 0)
		err = web_cache_piece(r,
				      WEB_KEY_FEATURED(strtoll(day, NULL, 10) * 10000 +
						       strtoll(day + 5, NULL, 10) * 100 +
						       strtoll(day + 8, NULL, 10)),
				      (int)r->viewer.role, keep, featured_make, &q, &featured);
	if (err == 0 &&
	    web_cache_piece(r, WEB_KEY_PIECE(0, WEB_PIECE_HOME_LIST), (int)r->viewer.role,
			    keep && unfiltered(&flt), list_make, &q, &list) < 0)
		prl_buf_addstr(&list, "null"); /* an unknown filter: the page says so */
	web_archive_put(r->srv, a);
	if (err == 0)
		err = web_json_for_script(&fj, prl_buf_str(&facets), facets.len);
	if (err == 0)
		err = web_json_for_script(&lj, prl_buf_str(&list), list.len);
	if (err == 0)
		err = web_json_for_script(&ftj, prl_buf_str(&featured), featured.len);
	ret = err < 0 ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : send_page(r, MHD_HTTP_OK, WEB_TPL_HOME, &f);
	prl_buf_release(&facets);
	prl_buf_release(&list);
	prl_buf_release(&featured);
	prl_buf_release(&fj);
	prl_buf_release(&lj);
	prl_buf_release(&ftj);
	return ret;
}

/* The oEmbed discovery link of a public recording's page, for the CMSs
 * that embed a pasted link: escaped for an attribute. */
static void oembed_link(struct web_request *r, int64_t id, struct prl_buf *out)
{
	struct prl_buf base = PRL_BUF_INIT, href = PRL_BUF_INIT;

	web_base_url(r, &base);
	prl_buf_addf(&href, "%s/oembed?url=", prl_buf_str(&base));
	/* the page's own URL as a query value: its ':', '/' and brackets escaped */
	for (const char *c = prl_buf_str(&base); *c; c++)
		if (strchr(":/[]", *c))
			prl_buf_addf(&href, "%%%02X", (unsigned char)*c);
		else
			prl_buf_add(&href, c, 1);
	prl_buf_addf(&href, "%%2Frecordings%%2F%lld&format=json", (long long)id);
	prl_buf_addstr(out, "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"");
	prl_xml_escape(out, prl_buf_str(&href));
	prl_buf_addstr(out, "\">");
	prl_buf_release(&base);
	prl_buf_release(&href);
}

enum MHD_Result web_page_recording(struct web_request *r, const struct web_params *p)
{
	int64_t id = p->id;
	struct prl_recording_brief brief;
	struct prl_buf data = PRL_BUF_INIT, title = PRL_BUF_INIT, idb = PRL_BUF_INIT,
		       oembed = PRL_BUF_INIT;
	struct fill f = {{"data", "title", "id", "oembed"}, {&data, &title, &idb, &oembed}};
	struct prl_archive *a;
	struct web_blob *json;
	enum MHD_Result ret;
	int err = 0;

	/* the archive decides: private is 404, restricted comes without tiers */
	if (!(json = web_recording_json(r, id, &err)))
		return web_error_html(r, err == -PRL_EIO ? MHD_HTTP_SERVICE_UNAVAILABLE
							 : web_status_for(err));
	if (!(a = web_archive_get(r->srv))) {
		web_blob_unref(json);
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	}
	memset(&brief, 0, sizeof(brief));
	if ((err = prl_archive_recording_open(a, &r->viewer, id, PRL_SEE_METADATA, &brief)) == 0) {
		prl_xml_escape(&title, brief.title ? brief.title : "");
		if (brief.access == PRL_ACCESS_PUBLIC)
			oembed_link(r, id, &oembed);
		prl_recording_brief_clear(&brief);
	}
	web_archive_put(r->srv, a);
	if (err == 0)
		err = web_json_for_script(&data, json->data, json->len);
	web_blob_unref(json);
	prl_buf_addf(&idb, "%lld", (long long)id);
	ret = err < 0 ? web_error_html(r, web_status_for(err))
		      : send_page(r, MHD_HTTP_OK, WEB_TPL_RECORDING, &f);
	prl_buf_release(&data);
	prl_buf_release(&title);
	prl_buf_release(&idb);
	prl_buf_release(&oembed);
	return ret;
}

enum MHD_Result web_page_search(struct web_request *r, const struct web_params *p)
{
	struct prl_buf q = PRL_BUF_INIT;
	struct fill f = {{"q"}, {&q}};
	const char *s = web_arg(r, "q");
	enum MHD_Result ret;

	(void)p;
	prl_xml_escape(&q, s ? s : "");
	ret = send_page(r, MHD_HTTP_OK, WEB_TPL_SEARCH, &f);
	prl_buf_release(&q);
	return ret;
}

/* The player other sites frame: what it shows is player.c's. */
enum MHD_Result web_page_embed(struct web_request *r, const struct web_params *p)
{
	struct prl_buf data = PRL_BUF_INIT, title = PRL_BUF_INIT;
	struct fill f = {{"data", "title"}, {&data, &title}};
	unsigned status = 0;
	enum MHD_Result ret;

	/* it lives on other sites: it leaves no cookie there */
	r->set_lang_cookie = 0;
	ret = web_embed_data(r, p->id, &data, &title, &status) < 0
		      ? web_error_html(r, status)
		      : send_page(r, MHD_HTTP_OK, WEB_TPL_EMBED, &f);
	prl_buf_release(&data);
	prl_buf_release(&title);
	return ret;
}

/* A page that carries its JSON in a <script> element, and a title. */
static enum MHD_Result page_with_json(struct web_request *r, enum web_template t,
				      const struct prl_buf *json, const char *title)
{
	struct prl_buf data = PRL_BUF_INIT, tb = PRL_BUF_INIT;
	struct prl_buf map = PRL_BUF_INIT;
	struct fill f = {{"data", "title", "map"}, {&data, &tb, &map}, t == WEB_TPL_ROUTE};
	enum MHD_Result ret;

	/* a route's page shows its stops on the map */
	if (web_json_for_script(&data, prl_buf_str(json), json->len) < 0 ||
	    web_json_for_script(&map, prl_buf_str(&r->srv->map_config), r->srv->map_config.len) <
		    0 ||
	    prl_xml_escape(&tb, title) < 0)
		ret = web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR);
	else
		ret = send_page(r, MHD_HTTP_OK, t, &f);
	prl_buf_release(&data);
	prl_buf_release(&tb);
	prl_buf_release(&map);
	return ret;
}

enum MHD_Result web_page_routes(struct web_request *r, const struct web_params *p)
{
	struct prl_buf json = PRL_BUF_INIT;
	unsigned status = 0;
	enum MHD_Result ret;

	(void)p;
	ret = web_routes_json(r, &json, &status) < 0 ? web_error_html(r, status)
						     : page_with_json(r, WEB_TPL_ROUTES, &json, "");
	prl_buf_release(&json);
	return ret;
}

enum MHD_Result web_page_route(struct web_request *r, const struct web_params *p)
{
	struct prl_buf json = PRL_BUF_INIT;
	unsigned status = 0;
	enum MHD_Result ret;
	json_t *root;

	if (web_route_json(r, p->tail, &json, &status) < 0) {
		prl_buf_release(&json);
		return web_error_html(r, status);
	}
	root = json_loadb(prl_buf_str(&json), json.len, 0, NULL);
	ret = page_with_json(r, WEB_TPL_ROUTE, &json,
			     root ? json_string_value(json_object_get(root, "title")) : "");
	json_decref(root);
	prl_buf_release(&json);
	return ret;
}

/* The route editor (/routes/new, /routes/{slug}/edit): for staff, the
 * route as they may hear it (or null for a new one); for anyone else a
 * page that asks them to sign in as staff.  The writes are the API's. */
enum MHD_Result web_page_route_edit(struct web_request *r, const struct web_params *p)
{
	struct prl_buf json = PRL_BUF_INIT, data = PRL_BUF_INIT;
	int staff = r->viewer.role >= PRL_ROLE_ANNOTATOR;
	const char *slug = NULL;
	enum MHD_Result ret;
	unsigned status = 0;
	char word[80];

	if (p->tail)
		slug = web_route_slug(p, word, sizeof(word));
	prl_buf_addf(&json, "{\"staff\":%s,\"route\":", staff ? "true" : "false");
	if (staff && slug) {
		if (web_route_json(r, slug, &json, &status) < 0) {
			prl_buf_release(&json);
			return web_error_html(r, status);
		}
	} else
		prl_buf_addstr(&json, "null");
	prl_buf_addstr(&json, ",\"slug\":");
	prl_json_str(&json, slug);
	prl_buf_addch(&json, '}');
	ret = web_json_for_script(&data, prl_buf_str(&json), json.len) < 0
		      ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_ROUTE_EDIT, "data", &data);
	prl_buf_release(&json);
	prl_buf_release(&data);
	return ret;
}

enum MHD_Result web_page_games(struct web_request *r, const struct web_params *p)
{
	struct prl_buf map = PRL_BUF_INIT;
	struct fill f = {{"map"}, {&map}, 1};
	enum MHD_Result ret;

	(void)p;
	/* "Où qu'ch'est ?" answers on a map: its tiles, else the outline */
	ret = web_json_for_script(&map, prl_buf_str(&r->srv->map_config), r->srv->map_config.len) <
			      0
		      ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : send_page(r, MHD_HTTP_OK, WEB_TPL_GAMES, &f);
	prl_buf_release(&map);
	return ret;
}

/* The sign-in page: a form its script posts to /api/login, and the page
 * to go back to after, when ?next= names one of this site (else "/"). */
enum MHD_Result web_page_login(struct web_request *r, const struct web_params *p)
{
	struct prl_buf next = PRL_BUF_INIT;
	struct fill f = {{"next"}, {&next}};
	const char *n = web_arg(r, "next");
	enum MHD_Result ret;

	(void)p;
	prl_xml_escape(&next, web_local_path(n) ? n : "/");
	ret = send_page(r, MHD_HTTP_OK, WEB_TPL_LOGIN, &f);
	prl_buf_release(&next);
	return ret;
}

enum MHD_Result web_static(struct web_request *r, const struct web_params *p)
{
	const char *name = p->tail;
	const struct web_pages *pg = &r->srv->pages;
	const struct web_asset_meta *m = NULL;
	struct MHD_Response *resp;
	const char *inm, *v;
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; i < pg->nassets; i++)
		if (strcmp(pg->assets[i].asset->name, name) == 0)
			m = &pg->assets[i];
	/* templates are pages, not files to fetch */
	if (!m || (dot && strcmp(dot, ".html") == 0))
		return web_error_html(r, MHD_HTTP_NOT_FOUND);
	v = web_arg(r, "v");
	inm = web_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && web_etag_match_weak(inm, m->etag)) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, m->etag);
		return web_queue(r, MHD_HTTP_NOT_MODIFIED, resp, 0);
	}
	resp = MHD_create_response_from_buffer(m->asset->len, (void *)m->asset->data,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, m->mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, m->etag);
	/* the pages name their files with ?v=<version>: that URL never changes */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				v && strcmp(v, pg->version) == 0
					? "public, max-age=31536000, immutable"
					: "no-cache");
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)m->asset->len);
}
