/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Contributions over HTTP: the sign-up of contributor accounts, proposals
 * on a segment or a stretch, their listing and review, the credit of
 * contributors, and the pages for them (/signup, /review,
 * /contributors/{login}).  The route table checked session, CSRF token,
 * least role and body size; this file checks the body's shape and maps
 * the archive's errors to statuses; the archive decides who may propose on
 * what and who may review it.
 *
 * Always holds: the sign-up takes JSON only (a form on another site cannot
 * post it) and opens no session; a refused request changes nothing;
 * statuses: 400 a malformed body, 422 a value the archive refuses (with
 * its sentence), 403/404 as the access gate says, 409 a conflict (with
 * both texts) or a taken login, 429 past a limit (with Retry-After).
 * Expected workload: sign-ups and proposals at human pace; the review
 * queue read page by page by a few staff.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "web-internal.h"

#define DEFAULT_LICENCE "CC BY-SA 4.0"

static const char *licence_of(const struct web_request *r)
{
	const char *l = r->srv->opts.contribution_licence;

	return l && *l ? l : DEFAULT_LICENCE;
}

/* A string member, or NULL when absent or null; -1 for another type or a
 * string holding NUL. */
static int get_str(json_t *o, const char *key, const char **v)
{
	json_t *j = json_object_get(o, key);

	*v = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j) || json_string_length(j) != strlen(json_string_value(j)))
		return -1;
	*v = json_string_value(j);
	return 1;
}

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

static unsigned status_of(int ret)
{
	switch (-ret) {
	case PRL_EINVAL:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case PRL_EACCESS:
		return MHD_HTTP_FORBIDDEN;
	case PRL_ENOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case PRL_ECONFLICT:
	case PRL_EEXIST:
		return MHD_HTTP_CONFLICT;
	case PRL_ELIMIT:
		return MHD_HTTP_TOO_MANY_REQUESTS;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* The archive's answer ret: out on success (status ok), else the status
 * its error stands for with its sentence (and, for a conflict, out as
 * "current").  Gives a back and drops o. */
static enum MHD_Result answer(struct web_request *r, struct prl_archive *a, json_t *o, int ret,
			      unsigned ok, struct prl_buf *out, int retry_after_s)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct MHD_Response *resp;
	enum MHD_Result res;
	unsigned status;
	char secs[16];
	char *data;
	size_t len = 0;

	json_decref(o);
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
	web_archive_put(r->srv, a);
	if (ret == -PRL_ECONFLICT && out->len) {
		prl_buf_addstr(&b, ",\"current\":");
		prl_buf_add(&b, out->data, out->len);
	}
	prl_buf_addstr(&b, "}\n");
	prl_buf_release(out);
	if (status != MHD_HTTP_TOO_MANY_REQUESTS)
		return web_send_buf(r, status, JSON_MIME, &b, "no-store");
	if (!(data = prl_buf_detach(&b, &len)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	snprintf(secs, sizeof(secs), "%d", retry_after_s > 0 ? retry_after_s : 3600);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	return web_queue(r, status, resp, (int64_t)len);
}

static enum MHD_Result bad(struct web_request *r, json_t *o, const char *msg)
{
	json_decref(o);
	return web_error_json(r, MHD_HTTP_BAD_REQUEST, msg);
}

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

/* ---- sign-up ---- */

enum MHD_Result web_api_signup(struct web_request *r, const struct web_params *p)
{
	const char *ct = web_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_signup s;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *trap = NULL;
	char addr[INET6_ADDRSTRLEN + 1];
	int retry = 0, ret;
	json_t *o, *accept;

	(void)p;
	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return web_error_json(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				      "send the sign-up as application/json");
	if (!(o = web_body_object(r, &res)))
		return res;
	memset(&s, 0, sizeof(s));
	if (get_str(o, "login", &s.login) != 1 || get_str(o, "password", &s.password) != 1 ||
	    get_str(o, "display_name", &s.display_name) != 1)
		return bad(r, o, "login, password and display_name are expected, as strings");
	if (get_str(o, "credit_name", &s.credit_name) < 0 || get_str(o, "email", &s.email) < 0 ||
	    get_str(o, "website", &trap) < 0)
		return bad(r, o, "credit_name and email are strings when given");
	/* the sign-up page's hidden field: only a robot fills it in */
	if (trap && *trap)
		return bad(r, o, "this form was not filled in by a person");
	if (s.credit_name && !*s.credit_name)
		s.credit_name = NULL;
	if (s.email && !*s.email)
		s.email = NULL;
	accept = json_object_get(o, "accept_licence");
	if (!json_is_true(accept)) {
		struct prl_buf msg = PRL_BUF_INIT;

		prl_buf_addf(&msg,
			     "accept_licence: contributions are published under %s; accept it to "
			     "open an account",
			     licence_of(r));
		json_decref(o);
		res = web_error_json(r, MHD_HTTP_UNPROCESSABLE_CONTENT, prl_buf_str(&msg));
		prl_buf_release(&msg);
		return res;
	}
	s.licence = licence_of(r);
	web_client_addr(r, addr, sizeof(addr));
	if (!(a = take_archive(r, o, &res)))
		return res;
	ret = prl_archive_signup(a, &s, addr, r->srv->opts.signups_per_hour, &retry);
	if (ret == 0) {
		prl_buf_addstr(&out, "{\"login\":");
		prl_json_str(&out, s.login);
		prl_buf_addstr(&out, ",\"role\":\"contributor\",\"display_name\":");
		prl_json_str(&out, s.display_name);
		prl_buf_addstr(&out, ",\"credit_name\":");
		if (s.credit_name)
			prl_json_str(&out, s.credit_name);
		else
			prl_buf_addstr(&out, "null");
		prl_buf_addstr(&out, ",\"licence\":");
		prl_json_str(&out, s.licence);
		prl_buf_addch(&out, '}');
	}
	return answer(r, a, o, ret, MHD_HTTP_CREATED, &out, retry);
}

/* ---- proposals ---- */

static struct prl_proposal_limits limits_of(const struct web_request *r)
{
	struct prl_proposal_limits l = {r->srv->opts.proposals_per_hour,
					r->srv->opts.proposals_pending};

	return l;
}

/* The text and kind of a proposal's body into *n; a message when wrong. */
static const char *proposal_fields(json_t *o, struct prl_proposal_new *n)
{
	const char *kind = NULL;

	if (get_str(o, "text", &n->text) != 1)
		return "text: a string is expected";
	if (get_str(o, "kind", &kind) < 0 || (kind && strcmp(kind, "note")))
		return "kind: \"note\" or nothing (the tier decides the others)";
	n->note = kind != NULL;
	return NULL;
}

static enum MHD_Result propose(struct web_request *r, struct prl_proposal_new *n, json_t *o)
{
	struct prl_proposal_limits lim = limits_of(r);
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (!(a = take_archive(r, o, &res)))
		return res;
	ret = prl_archive_proposal_add(a, &r->viewer, n, &lim, &out);
	return answer(r, a, o, ret, MHD_HTTP_CREATED, &out, 3600);
}

enum MHD_Result web_api_propose_segment(struct web_request *r, const struct web_params *p)
{
	struct prl_proposal_new n;
	enum MHD_Result res;
	const char *why;
	json_t *o;

	if (!(o = web_body_object(r, &res)))
		return res;
	memset(&n, 0, sizeof(n));
	if ((why = proposal_fields(o, &n)))
		return bad(r, o, why);
	n.segment_id = p->id;
	return propose(r, &n, o);
}

enum MHD_Result web_api_propose_stretch(struct web_request *r, const struct web_params *p)
{
	struct prl_proposal_new n;
	enum MHD_Result res;
	const char *why;
	json_t *o;

	if (!(o = web_body_object(r, &res)))
		return res;
	memset(&n, 0, sizeof(n));
	if ((why = proposal_fields(o, &n)))
		return bad(r, o, why);
	if (get_int(o, "tier_id", &n.tier_id) != 1 || n.tier_id <= 0)
		return bad(r, o, "tier_id: a tier's id is expected");
	if (get_int(o, "start_ms", &n.start_ms) != 1 || get_int(o, "end_ms", &n.end_ms) != 1)
		return bad(r, o, "start_ms and end_ms: whole milliseconds are expected");
	n.recording_id = p->id;
	return propose(r, &n, o);
}

/* A whole number of ?key= into *v (left alone when absent); -1 when not one. */
static int arg_int(struct web_request *r, const char *key, int64_t *v)
{
	const char *s = web_arg(r, key);
	char *end;
	long long n;

	if (!s || !*s)
		return 0;
	n = strtoll(s, &end, 10);
	if (*end || n < 0)
		return -1;
	*v = n;
	return 0;
}

static const char *arg_or_null(struct web_request *r, const char *key)
{
	const char *s = web_arg(r, key);

	return s && *s ? s : NULL;
}

enum MHD_Result web_api_proposals(struct web_request *r, const struct web_params *p)
{
	struct prl_proposal_filter f;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *mine = web_arg(r, "mine");
	int64_t mine_n = 0;
	int ret;

	(void)p;
	memset(&f, 0, sizeof(f));
	f.status = arg_or_null(r, "status");
	f.contributor = arg_or_null(r, "contributor");
	f.kind = arg_or_null(r, "kind");
	if (arg_int(r, "recording", &f.recording_id) < 0 || arg_int(r, "offset", &f.offset) < 0 ||
	    arg_int(r, "limit", &f.limit) < 0 || arg_int(r, "mine", &mine_n) < 0 ||
	    arg_int(r, "after", &f.after_id) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "recording, offset, limit, after and mine are whole numbers");
	f.mine = mine && mine_n > 0;
	if (!(a = take_archive(r, NULL, &res)))
		return res;
	ret = prl_archive_proposals_json(a, &r->viewer, &f, &out);
	if (ret == -PRL_EINVAL) { /* a filter out of its domain: the request's fault */
		struct prl_buf msg = PRL_BUF_INIT;

		prl_buf_addstr(&msg, prl_archive_errmsg(a));
		web_archive_put(r->srv, a);
		res = web_error_json(r, MHD_HTTP_BAD_REQUEST, prl_buf_str(&msg));
		prl_buf_release(&msg);
		return res;
	}
	return answer(r, a, NULL, ret, MHD_HTTP_OK, &out, 0);
}

/* The archive's review of proposal p->id by the viewer, with the body's
 * optional string key (accept's text, decline's message). */
typedef int review_fn(struct prl_archive *a, const struct prl_viewer *v, int64_t pid,
		      const char *value, struct prl_buf *out);

static enum MHD_Result review(struct web_request *r, const struct web_params *p, const char *key,
			      review_fn *fn)
{
	struct prl_buf out = PRL_BUF_INIT, msg = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *value = NULL;
	json_t *o = NULL;
	int ret;

	if (r->body.len && !(o = web_body_object(r, &res)))
		return res;
	if (o && get_str(o, key, &value) < 0) {
		prl_buf_addf(&msg, "%s: a string is expected", key);
		res = bad(r, o, prl_buf_str(&msg));
		prl_buf_release(&msg);
		return res;
	}
	if (!(a = take_archive(r, o, &res)))
		return res;
	ret = fn(a, &r->viewer, p->id, value, &out);
	return answer(r, a, o, ret, MHD_HTTP_OK, &out, 0);
}

enum MHD_Result web_api_proposal_accept(struct web_request *r, const struct web_params *p)
{
	return review(r, p, "text", prl_archive_proposal_accept);
}

enum MHD_Result web_api_proposal_decline(struct web_request *r, const struct web_params *p)
{
	return review(r, p, "message", prl_archive_proposal_decline);
}

/* ---- credit ---- */

enum MHD_Result web_api_contributor(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (!(a = take_archive(r, NULL, &res)))
		return res;
	ret = prl_archive_contributor_json(a, p->tail, &out);
	return answer(r, a, NULL, ret, MHD_HTTP_OK, &out, 0);
}

enum MHD_Result web_api_recording_contributors(struct web_request *r, const struct web_params *p)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	if (!(a = take_archive(r, NULL, &res)))
		return res;
	/* as the transcript: whoever may read it learns who wrote it */
	if ((ret = prl_archive_recording_open(a, &r->viewer, p->id, PRL_SEE_ALL, NULL)) == 0) {
		prl_buf_addf(&out, "{\"recording_id\":%lld,\"contributors\":", (long long)p->id);
		if ((ret = prl_archive_recording_contributors_json(a, p->id, &out)) == 0)
			prl_buf_addch(&out, '}');
	}
	return answer(r, a, NULL, ret, MHD_HTTP_OK, &out, 0);
}

/* ---- progress for the public ---- */

/* The help list's pages are kept in the server's cache up to this offset
 * (WEB_KEY_HELP). */
#define HELP_CACHED_OFFSETS ((int64_t)1 << 30)

/* What an answer is built from: the archive, the request's collection and
 * page. */
struct progress_args {
	struct prl_archive *a;
	const struct prl_viewer *viewer;
	const char *collection; /* NULL: the whole archive */
	int64_t limit, offset;	/* the help list's page */
};

static int progress_json(void *ctx, struct prl_buf *out)
{
	const struct progress_args *q = ctx;

	return prl_archive_progress_json(q->a, q->viewer, q->collection, out);
}

static int help_json(void *ctx, struct prl_buf *out)
{
	const struct progress_args *q = ctx;

	return prl_archive_help_transcribe_json(q->a, q->collection, q->limit, q->offset, out);
}

/* The answer make gives, kept in the server's cache under key and role
 * while the archive has not changed (the figures walk every segment heard):
 * only for the whole archive, and never for a viewer answered apart (a
 * researcher granted one institution or none) unless role says the answer
 * is the same for everyone. */
static int cached(struct web_request *r, struct progress_args *q, int64_t key, int role,
		  web_piece_make *make, struct prl_buf *out)
{
	int keep =
		!q->collection && (role != (int)r->viewer.role || prl_access_by_role(&r->viewer));

	return web_cache_piece(r, key, role, keep, make, q, out);
}

enum MHD_Result web_api_progress(struct web_request *r, const struct web_params *p)
{
	struct progress_args q = {NULL, &r->viewer, arg_or_null(r, "collection"), 0, 0};
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	(void)p;
	if (!(a = take_archive(r, NULL, &res)))
		return res;
	q.a = a;
	ret = cached(r, &q, WEB_KEY_PROGRESS, (int)r->viewer.role, progress_json, &out);
	return answer(r, a, NULL, ret, MHD_HTTP_OK, &out, 0);
}

enum MHD_Result web_api_help_transcribe(struct web_request *r, const struct web_params *p)
{
	struct progress_args q = {NULL, &r->viewer, arg_or_null(r, "collection"), 0, 0};
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	int ret;

	(void)p;
	if (arg_int(r, "limit", &q.limit) < 0 || arg_int(r, "offset", &q.offset) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "limit and offset are whole numbers");
	if (q.limit > 200 || q.offset >= HELP_CACHED_OFFSETS)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "limit is 1 to 200, offset less than 2^30");
	if (!(a = take_archive(r, NULL, &res)))
		return res;
	/* what an anonymous visitor gets, whoever asks: one answer for all */
	q.a = a;
	ret = cached(r, &q, WEB_KEY_HELP(q.offset, q.limit), PRL_ROLE_ANONYMOUS, help_json, &out);
	return answer(r, a, NULL, ret, MHD_HTTP_OK, &out, 0);
}

/* ---- pages ---- */

enum MHD_Result web_page_signup(struct web_request *r, const struct web_params *p)
{
	struct prl_buf licence = PRL_BUF_INIT;
	enum MHD_Result ret;

	(void)p;
	prl_xml_escape(&licence, licence_of(r));
	ret = web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_SIGNUP, "licence", &licence);
	prl_buf_release(&licence);
	return ret;
}

/* The page is the same for everyone; its script asks the queue, which
 * only staff get. */
enum MHD_Result web_page_review(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_REVIEW, NULL, NULL);
}

/* The page is the same for everyone; its script asks the list. */
enum MHD_Result web_page_help_transcribe(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_HELP_TRANSCRIBE, NULL, NULL);
}

enum MHD_Result web_page_contributor(struct web_request *r, const struct web_params *p)
{
	struct prl_buf json = PRL_BUF_INIT, data = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	err = prl_archive_contributor_json(a, p->tail, &json);
	web_archive_put(r->srv, a);
	if (err == 0)
		err = web_json_for_script(&data, json.data, json.len);
	ret = err < 0 ? web_error_html(r, web_status_for(err))
		      : web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_CONTRIBUTOR, "data", &data);
	prl_buf_release(&json);
	prl_buf_release(&data);
	return ret;
}
