/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The route table: every URL the server answers is one row here, with its
 * methods, its path pattern, its handler, what it answers, and what the
 * request must carry (a session, the CSRF token, a least role).  The
 * dispatcher matches the decoded path against the patterns, applies the
 * row's checks in one place, and hands the handler the path's parameters.
 * 404 and 405 (with an Allow header listing exactly the methods the table
 * has for that path) come from the table too.
 *
 * Patterns: literal characters match themselves; {id}, {sid}, {tid}, {hid},
 * {wid} (a name ending in "id") match a whole decimal id as web_parse_id()
 * reads it, up to the next '/' or the pattern's next literal character;
 * {ext}, {name}, {short} and {slug} match the rest of the path, which holds no '/'; {a,b,c}
 * matches one of the words listed, as the rest of the path.  A parameter
 * of the rest of the path ends the pattern, except a word followed by more
 * of the pattern ({name}/records): it matches one path segment (tail and
 * tail_len), and the pattern goes on.
 *
 * Always holds: no path a visitor sends is ever opened as a file (a
 * handler gets ids and a word, never a path); a request reaches a handler
 * only through web_route(), after its row's checks; matching allocates
 * nothing.  Errors are JSON for routes that answer JSON or media, HTML (404)
 * and plain text (405) for the pages, the static files and OAI-PMH.
 *
 * Expected workload: every request, tens of thousands a second for media:
 * a walk over a few dozen rows, most refused at their first characters.
 */
#include <string.h>

#include "web-internal.h"

enum route_check {
	NEEDS_BODY = 1u,    /* reads a body: over WEB_MAX_BODY is 413 */
	NEEDS_SESSION = 2u, /* signed in, else 401 */
	NEEDS_CSRF = 4u,    /* the session's token in X-CSRF-Token, else 403 */
};

/* A write of the editing API: a body, a session, its token, an annotator. */
#define WRITE (NEEDS_BODY | NEEDS_SESSION | NEEDS_CSRF)

struct web_route {
	unsigned methods;	 /* WEB_GET (with HEAD), WEB_POST, WEB_PATCH, WEB_DELETE */
	const char *path;	 /* the pattern (see the top of this file) */
	web_handler *handler;	 /* answers the request */
	enum web_answer answers; /* what a success is, and so how errors look */
	unsigned checks;	 /* enum route_check bits */
	enum prl_role role;	 /* the least role (with NEEDS_SESSION), or anonymous */
	enum web_shows shows;	 /* what it shows of the recording {id} names */
	const char *refused;	 /* the sentence of 401/403 by session or role, or NULL */
	const char *no_such;	 /* 404 sentence when the first {id} is no id, or NULL */
};

#define NO_REC "no such recording"
#define HISTORY_REFUSED "the history is for annotators and admins"
#define ME_REFUSED "not signed in"
#define CATALOGUE_REFUSED "the catalogue's records are for annotators and admins"
#define REVIEW_REFUSED "only annotators and admins review proposals"
#define JOBS_REFUSED "jobs are for annotators and admins"
#define THEMES_REFUSED "themes are given by annotators and admins"
#define ROUTES_REFUSED "only annotators and admins write routes"
#define UPLOAD_REFUSED "uploads are for annotators and admins"

/* Media first: most requests are theirs. */
static const struct web_route routes[] = {
	{WEB_GET, "/media/{id}.{opus,mp3,orig}", web_media, WEB_MEDIA, 0, 0, WEB_SHOWS_CONTENT},
	{WEB_GET, "/", web_page_home, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/recordings/{id}", web_page_recording, WEB_HTML, 0, 0, WEB_SHOWS_LISTING},
	{WEB_GET, "/search", web_page_search, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/login", web_page_login, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/static/{name}", web_static, WEB_FILE, 0, 0, 0},
	{WEB_GET, "/api/health", web_api_health, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/facets", web_api_facets, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/recordings", web_api_list, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/recordings/{id}", web_api_recording, WEB_JSON, 0, 0, WEB_SHOWS_LISTING,
	 NULL, NO_REC},
	{WEB_GET, "/api/recordings/{id}/peaks.json", web_api_peaks, WEB_JSON, 0, 0,
	 WEB_SHOWS_LISTING, NULL, NO_REC},
	{WEB_GET, "/api/recordings/{id}/annotations.{ext}", web_api_annotations, WEB_JSON, 0, 0,
	 WEB_SHOWS_CONTENT, NULL, NO_REC},
	{WEB_GET, "/api/recordings/{id}/clip.{ext}", web_api_clip, WEB_MEDIA, 0, 0,
	 WEB_SHOWS_CONTENT, NULL, NO_REC},
	{WEB_GET, "/api/search", web_api_search, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/institutions", web_api_institutions, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/institutions/{short}", web_api_institution, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/export", web_api_export, WEB_MEDIA, 0, 0, 0},
	{WEB_POST, "/api/login", web_api_login, WEB_JSON, NEEDS_BODY, 0, 0},
	{WEB_POST, "/api/logout", web_api_logout, WEB_JSON, NEEDS_BODY, 0, 0},
	{WEB_GET, "/api/me", web_api_me, WEB_JSON, NEEDS_SESSION, 0, 0, ME_REFUSED},
	{WEB_POST, "/api/recordings/{id}/segments", web_edit_segment_add, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_PATCH, "/api/segments/{sid}", web_edit_segment_update, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_DELETE, "/api/segments/{sid}", web_edit_segment_delete, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_POST, "/api/recordings/{id}/tiers", web_edit_tier_add, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_PATCH, "/api/tiers/{tid}", web_edit_tier_rename, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR,
	 0},
	{WEB_DELETE, "/api/tiers/{tid}", web_edit_tier_delete, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR,
	 0},
	{WEB_PATCH, "/api/recordings/{id}", web_catalogue_edit, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR,
	 0, NULL, NO_REC},
	{WEB_GET, "/api/recordings/{id}/history", web_edit_history, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, HISTORY_REFUSED, NO_REC},
	{WEB_POST, "/api/history/{hid}/revert", web_edit_revert, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_POST, "/api/recordings/{id}/withheld", web_edit_withheld_add, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_DELETE, "/api/recordings/{id}/withheld", web_edit_withheld_delete, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_DELETE, "/api/recordings/{id}/withheld/{wid}", web_edit_withheld_delete, WEB_JSON,
	 WRITE, PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	/* the protocol takes GET and a POSTed form */
	{WEB_GET | WEB_POST, "/oai", web_oai, WEB_XML, 0, 0, 0},
	{WEB_GET, "/iiif/collection.json", web_iiif_collection, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/iiif/{id}/manifest.json", web_iiif_manifest, WEB_JSON, 0, 0, WEB_SHOWS_LISTING},
	/* what other sites embed: answered as to an anonymous visitor */
	{WEB_GET, "/embed/{id}", web_page_embed, WEB_HTML, 0, 0, WEB_SHOWS_PUBLIC},
	{WEB_GET, "/oembed", web_oembed, WEB_JSON, 0, 0, 0},
	/* thematic routes: each stop as its viewer may hear it */
	{WEB_GET, "/routes", web_page_routes, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/routes/new", web_page_route_edit, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/routes/{slug}", web_page_route, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/routes", web_api_routes, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/routes/{slug}", web_api_route, WEB_JSON, 0, 0, 0},
	/* listening games: public material, whoever asks */
	{WEB_GET, "/games", web_page_games, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/games/round", web_api_game_round, WEB_JSON, 0, 0, 0},
	/* the catalogue (catalogue.c): deletion through the trash, speakers
	 * and places as records; their lists name people: staff only */
	{WEB_DELETE, "/api/recordings/{id}", web_catalogue_delete, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_POST, "/api/recordings/{id}/restore", web_catalogue_restore, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, NULL, NO_REC},
	{WEB_GET, "/api/trash", web_catalogue_trash, WEB_JSON, NEEDS_SESSION, PRL_ROLE_ANNOTATOR, 0,
	 CATALOGUE_REFUSED},
	{WEB_GET, "/api/speakers", web_catalogue_speakers, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, CATALOGUE_REFUSED},
	{WEB_GET, "/api/speakers/{id}", web_catalogue_speakers, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, CATALOGUE_REFUSED},
	{WEB_PATCH, "/api/speakers/{id}", web_catalogue_speaker_edit, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_POST, "/api/speakers/{id}/merge", web_catalogue_speaker_merge, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_GET, "/api/places", web_catalogue_places, WEB_JSON, NEEDS_SESSION, PRL_ROLE_ANNOTATOR,
	 0, CATALOGUE_REFUSED},
	{WEB_GET, "/api/places/{id}", web_catalogue_places, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, CATALOGUE_REFUSED},
	{WEB_PATCH, "/api/places/{id}", web_catalogue_place_edit, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_POST, "/api/places/{id}/merge", web_catalogue_place_merge, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_GET, "/institutions", web_page_institutions, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/institutions/{short}", web_page_institution, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/featured", web_api_featured, WEB_JSON, 0, 0, 0},
	/* contributions: sign-up (JSON only, like the login), proposals of any
	 * signed-in account, their review by staff, credit */
	{WEB_GET, "/signup", web_page_signup, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/review", web_page_review, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/contributors/{name}", web_page_contributor, WEB_HTML, 0, 0, 0},
	{WEB_POST, "/api/accounts", web_api_signup, WEB_JSON, NEEDS_BODY, 0, 0},
	{WEB_POST, "/api/segments/{sid}/proposals", web_api_propose_segment, WEB_JSON, WRITE,
	 PRL_ROLE_CONTRIBUTOR, 0},
	{WEB_POST, "/api/recordings/{id}/proposals", web_api_propose_stretch, WEB_JSON, WRITE,
	 PRL_ROLE_CONTRIBUTOR, 0, NULL, NO_REC},
	{WEB_GET, "/api/proposals", web_api_proposals, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_CONTRIBUTOR, 0},
	{WEB_POST, "/api/proposals/{pid}/accept", web_api_proposal_accept, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, REVIEW_REFUSED},
	{WEB_POST, "/api/proposals/{pid}/decline", web_api_proposal_decline, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, REVIEW_REFUSED},
	{WEB_GET, "/api/contributors/{name}", web_api_contributor, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/recordings/{id}/contributors", web_api_recording_contributors, WEB_JSON, 0,
	 0, WEB_SHOWS_CONTENT, NULL, NO_REC},
	/* background jobs: their state for whoever may change their recording */
	{WEB_GET, "/api/jobs", web_api_jobs, WEB_JSON, NEEDS_SESSION, PRL_ROLE_ANNOTATOR, 0,
	 JOBS_REFUSED},
	{WEB_GET, "/api/jobs/{jid}", web_api_job, WEB_JSON, 0, 0, 0, NULL, "no such job"},
	{WEB_POST, "/api/jobs/{jid}/cancel", web_api_job_cancel, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED, "no such job"},
	{WEB_POST, "/api/recordings/{id}/rebuild", web_api_recording_rebuild, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED, NO_REC},
	/* partners harvested over OAI-PMH: their list, their records, a page */
	{WEB_GET, "/api/partners", web_api_partners, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/partners/{name}/records", web_api_partner_records, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/partners", web_page_partners, WEB_HTML, 0, 0, 0},
	/* themes and the map of voices */
	{WEB_GET, "/map", web_page_map, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/map", web_api_map, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/map/places/{id}", web_api_map_place, WEB_JSON, 0, 0, 0, NULL,
	 "no such place"},
	{WEB_GET, "/themes/{slug}", web_page_theme, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/themes", web_api_themes, WEB_JSON, 0, 0, 0},
	{WEB_POST, "/api/themes", web_api_theme_add, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR, 0,
	 THEMES_REFUSED},
	{WEB_GET, "/api/themes/{slug}", web_api_theme, WEB_JSON, 0, 0, 0},
	{WEB_PATCH, "/api/themes/{slug}", web_api_theme_edit, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR,
	 0, THEMES_REFUSED},
	{WEB_DELETE, "/api/themes/{slug}", web_api_theme_delete, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, THEMES_REFUSED},
	{WEB_POST, "/api/recordings/{id}/themes", web_api_recording_tag, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, THEMES_REFUSED, NO_REC},
	{WEB_DELETE, "/api/recordings/{id}/themes/{slug}", web_api_recording_untag, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, THEMES_REFUSED, NO_REC},
	{WEB_POST, "/api/segments/{sid}/themes", web_api_segment_tag, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, THEMES_REFUSED, "no such segment"},
	{WEB_DELETE, "/api/segments/{sid}/themes/{slug}", web_api_segment_untag, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, THEMES_REFUSED, "no such segment"},
	/* routes written by staff (parcours.c): the editor, the writes, the
	 * history and its reverts, the IIIF collection of a route */
	{WEB_GET, "/routes/{slug}/edit", web_page_route_edit, WEB_HTML, 0, 0, 0},
	{WEB_POST, "/api/routes", web_api_route_create, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR, 0,
	 ROUTES_REFUSED},
	{WEB_PUT, "/api/routes/{slug}", web_api_route_put, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR, 0,
	 ROUTES_REFUSED},
	{WEB_DELETE, "/api/routes/{slug}", web_api_route_delete, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, ROUTES_REFUSED},
	{WEB_GET, "/api/route-history/{slug}", web_api_route_history, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, HISTORY_REFUSED},
	{WEB_POST, "/api/route-history/{hid}/revert", web_api_route_revert, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, ROUTES_REFUSED},
	{WEB_GET, "/iiif/routes/{slug}/collection.json", web_iiif_route, WEB_JSON, 0, 0, 0},
	/* uploads from the browser (uploads.c): tus 1.0 core, creation and
	 * termination; a PATCH is routed when its head is in, before its body */
	{WEB_GET, "/upload", web_page_upload, WEB_HTML, 0, 0, 0},
	{WEB_OPTIONS, "/api/uploads", web_upload_options, WEB_JSON, 0, 0, 0},
	{WEB_POST, "/api/uploads", web_upload_create, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR, 0,
	 UPLOAD_REFUSED},
	{WEB_GET, "/api/uploads/{uid}", web_upload_head, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, UPLOAD_REFUSED},
	{WEB_PATCH, "/api/uploads/{uid}", web_upload_patch, WEB_JSON, NEEDS_SESSION | NEEDS_CSRF,
	 PRL_ROLE_ANNOTATOR, 0, UPLOAD_REFUSED},
	{WEB_DELETE, "/api/uploads/{uid}", web_upload_delete, WEB_JSON, WRITE, PRL_ROLE_ANNOTATOR,
	 0, UPLOAD_REFUSED},
	{WEB_POST, "/api/uploads/{uid}/ingest", web_upload_ingest, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, UPLOAD_REFUSED},
	/* the review of machine-made tiers: the mark goes, a history row stays */
	{WEB_POST, "/api/tiers/{tid}/accept", web_edit_tier_accept, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	{WEB_POST, "/api/segments/{sid}/accept", web_edit_segment_accept, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0},
	/* the speech tools as background jobs (speech.c) */
	{WEB_POST, "/api/recordings/{id}/segment", web_api_recording_segment, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED, NO_REC},
	{WEB_POST, "/api/recordings/{id}/align", web_api_recording_align, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED, NO_REC},
	/* progress for the public: only what the viewer hears is counted */
	{WEB_GET, "/help-transcribe", web_page_help_transcribe, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/progress", web_api_progress, WEB_JSON, 0, 0, 0},
	{WEB_GET, "/api/help-transcribe", web_api_help_transcribe, WEB_JSON, 0, 0, 0},
	/* the list of themes, with staff's controls (its writes are the API's
	 * above); the decades the map's filter offers */
	{WEB_GET, "/themes", web_page_themes, WEB_HTML, 0, 0, 0},
	{WEB_GET, "/api/map/decades", web_api_map_decades, WEB_JSON, 0, 0, 0},
	/* the recognizers the operator declared, and one run as a job (speech.c) */
	{WEB_GET, "/api/recognizers", web_api_recognizers, WEB_JSON, NEEDS_SESSION,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED},
	{WEB_POST, "/api/recordings/{id}/recognize", web_api_recording_recognize, WEB_JSON, WRITE,
	 PRL_ROLE_ANNOTATOR, 0, JOBS_REFUSED, NO_REC},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* A path no row matches: its 404, by where it points. */
static const struct {
	const char *prefix;
	const char *message; /* JSON {"error": message}; NULL: the HTML page */
} missing[] = {
	{"/api/", "no such API route"},
	{"/media/", "no such media"},
	{"/iiif/", "no such IIIF resource"},
	{"/", NULL},
};

static const struct {
	unsigned bit;
	const char *name;
} method_names[] = {
	{WEB_GET, "GET"},	{WEB_GET, "HEAD"}, {WEB_POST, "POST"},	     {WEB_PATCH, "PATCH"},
	{WEB_DELETE, "DELETE"}, {WEB_PUT, "PUT"},  {WEB_OPTIONS, "OPTIONS"},
};

enum match {
	MATCH_NO = 0,
	MATCH_BAD_ID, /* the literal prefix matched, then the first {id} was no id */
	MATCH_YES,
};

static unsigned method_bit(const struct web_request *r)
{
	if (r->is_head || !strcmp(r->method, MHD_HTTP_METHOD_GET))
		return WEB_GET;
	if (!strcmp(r->method, MHD_HTTP_METHOD_POST))
		return WEB_POST;
	if (!strcmp(r->method, MHD_HTTP_METHOD_PATCH))
		return WEB_PATCH;
	if (!strcmp(r->method, MHD_HTTP_METHOD_DELETE))
		return WEB_DELETE;
	if (!strcmp(r->method, MHD_HTTP_METHOD_PUT))
		return WEB_PUT;
	if (!strcmp(r->method, MHD_HTTP_METHOD_OPTIONS))
		return WEB_OPTIONS;
	return 0; /* CONNECT, TRACE...: no row takes them */
}

/* True when the word s[0..n) is one of the comma-separated words of list[0..len). */
static int one_of(const char *list, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (const char *w = list, *end = list + len; w < end;) {
		const char *comma = memchr(w, ',', (size_t)(end - w));
		size_t k = (size_t)((comma ? comma : end) - w);

		if (k == n && !memcmp(w, s, n))
			return 1;
		w += k + 1;
	}
	return 0;
}

/* Matches path against pattern pat, filling *p. */
static enum match route_match(const char *pat, const char *path, struct web_params *p)
{
	int nids = 0;

	memset(p, 0, sizeof(*p));
	while (*pat) {
		const char *close, *name;
		size_t len, n;

		if (*pat != '{') {
			if (*pat++ != *path++)
				return MATCH_NO;
			continue;
		}
		name = pat + 1;
		close = strchr(name, '}');
		len = (size_t)(close - name);
		pat = close + 1;
		if (len >= 2 && !memcmp(name + len - 2, "id", 2)) {
			for (n = 0; path[n] && path[n] != '/' && path[n] != *pat; n++)
				;
			if (web_parse_id(path, n, nids ? &p->id2 : &p->id) < 0)
				return nids ? MATCH_NO : MATCH_BAD_ID;
			nids++;
			path += n;
			continue;
		}
		/* a word the pattern goes on after: one path segment */
		if (*pat && !memchr(name, ',', len)) {
			for (n = 0; path[n] && path[n] != '/'; n++)
				;
			if (n == 0)
				return MATCH_NO;
			p->tail = path;
			p->tail_len = n;
			path += n;
			continue;
		}
		/* the rest of the path: one word, no '/' */
		if (strchr(path, '/') || (memchr(name, ',', len) && !one_of(name, len, path)))
			return MATCH_NO;
		p->tail = path;
		return MATCH_YES;
	}
	return *path ? MATCH_NO : MATCH_YES;
}

static int errors_json(enum web_answer a)
{
	return a == WEB_JSON || a == WEB_MEDIA;
}

/* The row's checks, in the order the statuses promise: 413, 401, 403. */
static enum MHD_Result route_run(struct web_request *r, const struct web_route *rt,
				 const struct web_params *p)
{
	if ((rt->checks & NEEDS_BODY) && r->body_too_large)
		return web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE,
				      "the request body is over 64 KiB");
	/* another program held the write lock a moment ago: a write would
	 * wait for it on a worker thread, and most likely in vain */
	if ((rt->checks & NEEDS_BODY) && (rt->methods & WEB_GET) == 0 && web_writes_held(r->srv))
		return web_error_busy(r);
	if ((rt->checks & NEEDS_SESSION) && !r->session.login[0])
		return web_error_json(r, MHD_HTTP_UNAUTHORIZED,
				      rt->refused ? rt->refused : "sign in first");
	if ((rt->checks & NEEDS_CSRF) && !web_csrf_ok(r))
		return web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "missing or wrong X-CSRF-Token header");
	/* a least role above anonymous: a contributor sits below anonymous
	 * (PRL_ROLE_CONTRIBUTOR) and is refused whatever role is asked */
	if (rt->role > PRL_ROLE_ANONYMOUS && r->viewer.role < rt->role)
		return web_error_json(r, MHD_HTTP_FORBIDDEN,
				      rt->refused ? rt->refused
						  : "only annotators and admins may change this");
	return rt->handler(r, p);
}

/* Writes the names of the methods in bits, separated by sep, into out
 * ("GET, HEAD, PATCH" as Allow lists them). */
static void method_list(unsigned bits, const char *sep, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (bits & method_names[i].bit)
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? sep : "",
						 method_names[i].name);
}

static enum MHD_Result route_missing(struct web_request *r, const struct web_route *bad_id)
{
	size_t i = 0;

	if (bad_id)
		return web_error_json(r, MHD_HTTP_NOT_FOUND, bad_id->no_such);
	while (strncmp(r->url, missing[i].prefix, strlen(missing[i].prefix)))
		i++; /* the last prefix, "/", begins every path */
	return missing[i].message ? web_error_json(r, MHD_HTTP_NOT_FOUND, missing[i].message)
				  : web_error_html(r, MHD_HTTP_NOT_FOUND);
}

enum MHD_Result web_route(struct web_request *r)
{
	const struct web_route *bad_id = NULL, *seen = NULL;
	unsigned want = method_bit(r), allow = 0;
	struct web_params p;
	char names[64];

	for (size_t i = 0; i < NROUTES; i++) {
		switch (route_match(routes[i].path, r->url, &p)) {
		case MATCH_YES:
			if (routes[i].methods & want)
				return route_run(r, &routes[i], &p);
			allow |= routes[i].methods;
			seen = &routes[i];
			break;
		case MATCH_BAD_ID:
			if (!bad_id && routes[i].no_such)
				bad_id = &routes[i];
			break;
		case MATCH_NO:
			break;
		}
	}
	if (!seen)
		return route_missing(r, bad_id);
	method_list(allow, ", ", names, sizeof(names));
	return web_method_not_allowed(r, errors_json(seen->answers), names);
}

/* ---- the table, read-only, for `parlers serve --routes` ---- */

static const char *const answer_names[] = {
	[WEB_JSON] = "json", [WEB_HTML] = "html", [WEB_MEDIA] = "media",
	[WEB_XML] = "xml",   [WEB_FILE] = "file",
};

static const char *const shows_names[] = {
	[WEB_SHOWS_NOTHING] = "-",
	[WEB_SHOWS_LISTING] = "listing",
	[WEB_SHOWS_CONTENT] = "content",
	[WEB_SHOWS_PUBLIC] = "public",
};

int prl_web_routes(struct prl_buf *out)
{
	int ret = 0;

	for (size_t i = 0; i < NROUTES && ret == 0; i++) {
		const struct web_route *rt = &routes[i];
		struct prl_buf needs = PRL_BUF_INIT;
		char methods[64];

		method_list(rt->methods, ",", methods, sizeof(methods));
		if (rt->checks & NEEDS_SESSION)
			prl_buf_addstr(&needs, "session");
		if (rt->checks & NEEDS_CSRF)
			prl_buf_addstr(&needs, ",csrf");
		if (rt->role > PRL_ROLE_ANONYMOUS)
			prl_buf_addf(&needs, ",%s", prl_role_name(rt->role));
		ret = prl_buf_addf(out, "%-14s %-44s %-5s %-7s %s\n", methods, rt->path,
				   answer_names[rt->answers], shows_names[rt->shows],
				   needs.len ? prl_buf_str(&needs) : "-");
		prl_buf_release(&needs);
	}
	return ret;
}
