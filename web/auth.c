/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Signing in over HTTP: the session cookie, the viewer of each request,
 * login, logout and "who am I", the CSRF check every write passes, and the
 * request bodies writes carry.
 *
 * The cookie (parlers_session) holds 256 random bits, HttpOnly (no script
 * reads it), SameSite=Strict (no other site's page sends it) and Path=/;
 * it is marked Secure when the request came over TLS, which this server
 * does not speak itself: a TLS-terminating proxy in front says so with
 * X-Forwarded-Proto: https (marking a cookie Secure only narrows where it
 * goes, so believing that header can never widen anything).  Every write
 * except the login itself carries the session's CSRF token in the
 * X-CSRF-Token header, compared in constant time.
 *
 * Always holds: a cookie that is forged, expired, malformed or unknown
 * makes the request anonymous and nothing else (no error, no hint); a
 * password never reaches a log line; a body is never kept beyond
 * WEB_MAX_BODY bytes.
 * Expected workload: one indexed session lookup per request that carries
 * the cookie; logins at human pace (each costs an Argon2id hash, ~0.1 s).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <sodium.h>

#include "web-internal.h"

#define COOKIE_NAME "parlers_session"

void web_auth_viewer(struct web_request *r)
{
	const char *token = MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, COOKIE_NAME);
	struct prl_archive *a;
	struct prl_session s;

	r->viewer = PRL_VIEWER_ANONYMOUS;
	memset(&r->session, 0, sizeof(r->session));
	if (!token || strlen(token) != PRL_TOKEN_CHARS || !(a = web_archive_get(r->srv)))
		return;
	if (prl_archive_session_get(a, token, &s) == 0) {
		r->session = s;
		r->viewer = s.viewer;
		snprintf(r->session.token, sizeof(r->session.token), "%s", token);
	}
	web_archive_put(r->srv, a);
}

void web_body_feed(struct web_request *r, const char *data, size_t n)
{
	if (r->body_too_large || r->body.len + n > WEB_MAX_BODY) {
		r->body_too_large = 1;
		return;
	}
	if (prl_buf_add(&r->body, data, n) < 0)
		r->body_too_large = 1; /* out of memory: refused as too large */
}

int web_csrf_ok(struct web_request *r)
{
	const char *h = web_header(r, "X-CSRF-Token");

	if (!r->session.csrf[0] || !h || strlen(h) != PRL_TOKEN_CHARS)
		return 0;
	return sodium_memcmp(h, r->session.csrf, PRL_TOKEN_CHARS) == 0;
}

/* The address a reverse proxy appended to X-Forwarded-For (the last one:
 * those before it are whatever the client sent), normalised, into out;
 * 0, or -1 when there is none or it is not an address. */
static int forwarded_addr(struct web_request *r, char *out, size_t size)
{
	const char *x = web_header(r, "X-Forwarded-For"), *last;
	unsigned char bin[sizeof(struct in6_addr)];
	char one[INET6_ADDRSTRLEN + 1];
	size_t n;

	if (!x)
		return -1;
	last = strrchr(x, ',');
	last = last ? last + 1 : x;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof(one))
		return -1;
	memcpy(one, last, n);
	one[n] = 0;
	if (inet_pton(AF_INET, one, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)size) ? 0 : -1;
	if (inet_pton(AF_INET6, one, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)size) ? 0 : -1;
	return -1;
}

/* The client's address as text, for counting failed logins: the socket's
 * peer, or behind a proxy (serve --behind-proxy) the address the proxy
 * says it serves; the header is ignored otherwise, so a client cannot
 * name itself another address to escape the limit. */
static void client_addr(struct web_request *r, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (r->srv->behind_proxy && forwarded_addr(r, out, size) == 0)
		return;
	snprintf(out, size, "unknown");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)size);
}

void web_client_addr(struct web_request *r, char *out, size_t size)
{
	client_addr(r, out, size);
}

static int over_tls(struct web_request *r)
{
	const char *p = web_header(r, "X-Forwarded-Proto");

	return p && !strcasecmp(p, "https");
}

static void add_cookie(struct web_request *r, struct MHD_Response *resp, const char *value,
		       long max_age)
{
	char c[256];

	snprintf(c, sizeof(c), COOKIE_NAME "=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
		 value, max_age, over_tls(r) ? "; Secure" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, c);
}

static void who_json(struct prl_buf *b, const struct prl_session *s)
{
	prl_buf_addstr(b, "{\"login\":");
	prl_json_str(b, s->login);
	prl_buf_addf(b, ",\"role\":\"%s\",\"csrf_token\":", prl_role_name(s->viewer.role));
	prl_json_str(b, s->csrf);
	prl_buf_addstr(b, "}\n");
}

/* Sends b (taken) as JSON with a cookie set (value, max_age). */
static enum MHD_Result send_with_cookie(struct web_request *r, unsigned status, struct prl_buf *b,
					const char *value, long max_age)
{
	struct MHD_Response *resp;
	size_t len = 0;
	char *data = prl_buf_detach(b, &len);

	if (!data)
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_cookie(r, resp, value, max_age);
	return web_queue(r, status, resp, (int64_t)len);
}

static void log_line(struct web_request *r, const char *fmt, const char *login, const char *addr)
{
	char safe[PRL_LOGIN_MAX * 4 + 8], line[512];
	int n;

	if (r->srv->quiet)
		return;
	web_log_escape(safe, sizeof(safe), login);
	n = snprintf(line, sizeof(line), fmt, safe, addr);
	if (n > 0) /* one write: threads never interleave */
		fwrite(line, 1, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
		       r->srv->log);
}

json_t *web_body_object(struct web_request *r, enum MHD_Result *answered)
{
	json_error_t jerr;
	json_t *o;
	char msg[300];

	if (r->body_too_large) {
		*answered = web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE,
					   "the request body is over 64 KiB");
		return NULL;
	}
	if (!r->body.len) {
		*answered = web_error_json(r, MHD_HTTP_BAD_REQUEST, "a JSON object is expected");
		return NULL;
	}
	o = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		if (o)
			snprintf(msg, sizeof(msg), "a JSON object is expected");
		else
			snprintf(msg, sizeof(msg), "invalid JSON at line %d, column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		json_decref(o);
		*answered = web_error_json(r, MHD_HTTP_BAD_REQUEST, msg);
		return NULL;
	}
	return o;
}

enum MHD_Result web_api_login(struct web_request *r, const struct web_params *p)
{
	const char *ct = web_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;
	struct prl_session s;
	enum MHD_Result res;
	const char *login, *password;
	char addr[INET6_ADDRSTRLEN + 1], secs[16];
	int retry = 0, ret;
	json_t *o;

	(void)p;
	/* JSON only: a form on another site cannot post it (no login CSRF) */
	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return web_error_json(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				      "send the login as application/json");
	if (!(o = web_body_object(r, &res)))
		return res;
	login = json_string_value(json_object_get(o, "login"));
	password = json_string_value(json_object_get(o, "password"));
	if (!login || !password) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "login and password are expected");
	}
	client_addr(r, addr, sizeof(addr));
	if (!(a = web_archive_get(r->srv))) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	}
	ret = prl_archive_login(a, login, password, addr, &s, &retry);
	web_archive_put(r->srv, a);
	if (ret == -PRL_ELIMIT) {
		struct MHD_Response *resp;

		log_line(r, "login refused for '%s' from %s: too many failures\n", login, addr);
		json_decref(o);
		prl_buf_addstr(&b, "{\"error\":\"too many failed logins: try again later\"}\n");
		resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
		prl_buf_release(&b);
		if (!resp)
			return MHD_NO;
		snprintf(secs, sizeof(secs), "%d", retry > 0 ? retry : 1);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
		return web_queue(r, MHD_HTTP_TOO_MANY_REQUESTS, resp, 0);
	}
	if (ret < 0) {
		if (ret == -PRL_EACCESS)
			log_line(r, "login failed for '%s' from %s\n", login, addr);
		json_decref(o);
		if (web_write_refused(r, ret, &res))
			return res;
		return ret == -PRL_EACCESS
			       ? web_error_json(r, MHD_HTTP_UNAUTHORIZED, "wrong login or password")
			       : web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	json_decref(o);
	who_json(&b, &s);
	res = send_with_cookie(r, MHD_HTTP_OK, &b, s.token, PRL_SESSION_MAX_S);
	sodium_memzero(&s, sizeof(s));
	return res;
}

enum MHD_Result web_api_logout(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;

	(void)p;
	/* signed in, the token is needed (a logout is a write); signed out,
	 * there is nothing to end and the cookie is cleared anyway */
	if (r->session.token[0]) {
		if (!web_csrf_ok(r))
			return web_error_json(r, MHD_HTTP_FORBIDDEN,
					      "missing or wrong X-CSRF-Token header");
		if (!(a = web_archive_get(r->srv)))
			return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					      "the archive cannot be opened");
		prl_archive_logout(a, r->session.token);
		web_archive_put(r->srv, a);
	}
	prl_buf_addstr(&b, "{\"login\":null,\"role\":\"anonymous\"}\n");
	return send_with_cookie(r, MHD_HTTP_OK, &b, "", 0);
}

enum MHD_Result web_api_me(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;

	/* signed in: the route table answered 401 otherwise */
	(void)p;
	who_json(&b, &r->session);
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-store");
}
