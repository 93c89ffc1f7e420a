/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The server: a libmicrohttpd daemon with a pool of polling threads, the
 * request life cycle (first byte, routing, the one log line), the pool of
 * archive handles the threads share (lent to handlers by request.c), and
 * the shutdown on SIGINT/SIGTERM.
 *
 * Always holds: a request is answered by exactly one row of the route
 * table (routes.c), chosen from the decoded path; a request target over
 * 8 KiB gets 414 and headers over 16 KiB get 431 before any route runs.
 *
 * Expected workload: bursts of small range requests for audio and JSON at
 * tens of thousands a second on a few threads; a few hundred connections,
 * most idle; shutdown waits for requests in flight for a few seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web-internal.h"

/* How long shutdown waits for requests in flight before closing them. */
#define DRAIN_SECONDS 10

/* ---- the request, before it is routed ---- */

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	size_t *total = cls;

	(void)kind;
	/* "Name: value\r\n", as they came on the wire */
	*total += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* The one place a request's viewer is set: from the session cookie
 * (auth.c), anonymous unless it names a live session. */
static void request_viewer(struct web_request *r)
{
	web_auth_viewer(r);
}

static void request_language(struct web_request *r)
{
	const char *q = web_arg(r, "lang");
	int l;

	if ((l = web_lang_parse(q)) >= 0) {
		r->set_lang_cookie = 1;
	} else if ((l = web_lang_parse(
			    MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, "lang"))) < 0 &&
		   (l = web_lang_accept(web_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE))) < 0) {
		l = WEB_LANG_FR;
	}
	r->lang = (enum web_lang)l;
}

/* RFC 9112 asks a server to refuse what it cannot frame or route, before
 * the body: an HTTP/1.1 request without Host (400, section 3.2), and a
 * transfer coding other than chunked alone (501, section 6.1), whose body
 * MHD would otherwise read until the client closes.  True when refused
 * (*res is what to return). */
static int request_malformed(struct web_request *r, const char *version, enum MHD_Result *res)
{
	const char *te = web_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	int json = strncmp(r->url, "/api/", 5) == 0 || strncmp(r->url, "/media/", 7) == 0;

	r->close = 1; /* if refused: nothing more is read from this client */
	if (te && strcasecmp(te, "chunked") != 0) {
		*res = json ? web_error_json(r, MHD_HTTP_NOT_IMPLEMENTED,
					     "the only transfer coding understood is chunked")
			    : web_error_html(r, MHD_HTTP_NOT_IMPLEMENTED);
		return 1;
	}
	if (version && !strcmp(version, MHD_HTTP_VERSION_1_1) &&
	    !web_header(r, MHD_HTTP_HEADER_HOST)) {
		*res = json ? web_error_json(r, MHD_HTTP_BAD_REQUEST,
					     "an HTTP/1.1 request needs a Host header")
			    : web_error_html(r, MHD_HTTP_BAD_REQUEST);
		return 1;
	}
	r->close = 0;
	return 0;
}

/* The viewer, the language, the limits on the head (414, 431), then the
 * route table. */
static enum MHD_Result request_route(struct web_request *r)
{
	size_t header_bytes = 0;
	int json = strncmp(r->url, "/api/", 5) == 0 || strncmp(r->url, "/media/", 7) == 0;

	request_viewer(r);
	request_language(r);
	if (r->raw_uri_len > WEB_MAX_URI)
		return json ? web_error_json(r, MHD_HTTP_URI_TOO_LONG, NULL)
			    : web_error_html(r, MHD_HTTP_URI_TOO_LONG);
	MHD_get_connection_values(r->con, MHD_HEADER_KIND, count_header, &header_bytes);
	if (header_bytes > WEB_MAX_HEADERS)
		return json ? web_error_json(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, NULL)
			    : web_error_html(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE);
	return web_route(r);
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct web_server *s = cls;
	struct web_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->srv = s;
	r->con = con;
	r->conn = web_conn_of(con);
	web_conn_state(s->conns, r->conn, WEB_CONN_REQUEST_LINE);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->raw_uri_len = uri ? strlen(uri) : 0;
	web_log_escape(r->logpath, sizeof(r->logpath), uri);
	atomic_fetch_add(&s->in_flight, 1);
	return r;
}

static size_t on_unescape(void *cls, struct MHD_Connection *con, char *s)
{
	(void)cls;
	(void)con;
	return web_unescape(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct web_request *r = *con_cls;

	(void)cls;
	if (!r)
		return MHD_NO;
	if (r->answered) {
		/* a body we do not read: already answered, let MHD drop it */
		if (*upload_data_size) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return web_queue_held(r);
	}
	r->con = con;
	r->url = url;
	r->method = method;
	r->is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	/* MHD keeps a connection alive only for an answer queued once the whole
	 * request is in: the first call only announces the request, the calls
	 * that follow bring the body (writes), the last one has none left. */
	if (!r->seen) {
		const char *cl = web_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		enum MHD_Result refused;

		r->seen = 1;
		web_conn_state(r->srv->conns, r->conn, WEB_CONN_HEAD_DONE);
		if (request_malformed(r, version, &refused))
			return refused;
		/* the bytes of an upload stream to their file: routed now, its
		 * body then goes to the stream the route opened */
		if (web_upload_claims(r)) {
			enum MHD_Result res;

			r->hold_answer = 1;
			res = request_route(r);
			r->hold_answer = 0;
			return res;
		}
		/* a body announced too large is refused before it is sent */
		if (cl && strtoull(cl, NULL, 10) > WEB_MAX_BODY)
			return web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE,
					      "the request body is over 64 KiB");
		return MHD_YES;
	}
	if (*upload_data_size && r->upload) {
		web_upload_feed(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* a write's body, kept up to WEB_MAX_BODY; past it (a body sent
		 * without its length) the rest is dropped and the answer is 413 */
		web_body_feed(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->upload)
		return web_upload_finish(r);
	return request_route(r);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web_server *s = cls;
	struct web_request *r = *con_cls;
	struct timespec t1;
	char when[32], line[512];
	struct tm tm;
	time_t now;
	double ms;
	int n;

	(void)con;
	if (!r)
		return;
	*con_cls = NULL;
	if (!s->quiet) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 +
		     (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* one write per line so that threads never interleave */
		n = snprintf(line, sizeof(line), "%s %s %s %u %lld %.1fms%s\n", when,
			     r->method ? r->method : "-", r->logpath, r->status,
			     (long long)r->bytes, ms,
			     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
		if (n > 0)
			fwrite(line, 1, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
			       s->log);
	}
	web_conn_state(s->conns, r->conn, WEB_CONN_ANSWERED);
	web_upload_abort(r); /* cut short: what came is kept */
	web_uploads_tick(s);
	if (r->held)
		MHD_destroy_response(r->held);
	prl_buf_release(&r->body);
	free(r);
	atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- the daemon ---- */

int prl_web_parse_listen(const char *s, char *addr_out, size_t addr_size, uint16_t *port)
{
	const char *colon, *p;
	char *end;
	size_t alen = 0;
	long v;

	if (!s || !*s || !addr_size)
		return -PRL_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -PRL_EINVAL;
		alen = (size_t)(close - s - 1);
		if (alen >= addr_size)
			return -PRL_EINVAL;
		memcpy(addr_out, s + 1, alen);
		p = close + 2;
	} else if ((colon = strrchr(s, ':'))) {
		alen = (size_t)(colon - s);
		if (alen >= addr_size || memchr(s, ':', alen))
			return -PRL_EINVAL; /* a bare IPv6 address needs brackets */
		memcpy(addr_out, s, alen);
		p = colon + 1;
	} else {
		p = s;
	}
	if (!*p || *p == '-' || *p == '+')
		return -PRL_EINVAL;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -PRL_EINVAL;
	addr_out[alen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

static unsigned cpu_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		return 2;
	return n > 64 ? 64 : (unsigned)n;
}

static void server_release(struct web_server *s)
{
	web_conns_free(&s->conns); /* MHD has stopped */
	web_uploads_free(s);
	for (size_t i = 0; i < s->npool; i++)
		prl_archive_close(s->pool[i]);
	prl_search_cache_free(s->search);
	free(s->pool);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->exports_lock);
	web_pages_release(&s->pages);
	prl_buf_release(&s->map_config);
	if (s->cache.db_path.data) /* initialised */
		web_cache_release(&s->cache);
	free(s->data_dir);
}

/* Waits until a shutdown signal arrives (they are blocked in every thread,
 * so sigwait is the only one to see them). */
static void wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
}

/* The socket address to listen on: a numeric IPv4 or IPv6 address and a
 * port into *ss; MHD_USE_IPv6 added to *flags for IPv6. */
static int listen_address(const char *addr, uint16_t port, struct sockaddr_storage *ss,
			  unsigned *flags, struct prl_buf *err)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	prl_buf_addf(err, "%s: not a numeric IP address", addr);
	return -PRL_EINVAL;
}

/* Everything a request needs before the first one comes: the pool with
 * one open handle (a missing or newer archive fails here, not per
 * request), the warm search vocabulary, the caches and the pages.  The
 * caller releases s with server_release() whatever this returns. */
static int server_open(struct web_server *s, const struct prl_web_opts *opts, unsigned threads,
		       struct prl_buf *err)
{
	struct prl_archive *a = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->exports_lock, NULL);
	s->opts = *opts;
	s->log = opts->log ? opts->log : stderr;
	s->quiet = opts->quiet;
	s->behind_proxy = opts->behind_proxy;
	s->pool_cap = threads + 4;
	if (!(s->data_dir = strdup(opts->data_dir)) ||
	    !(s->pool = calloc(s->pool_cap, sizeof(*s->pool))) ||
	    !(s->search = prl_search_cache_new()))
		return -PRL_ENOMEM;
	/* open once now so that a missing or newer archive fails here, not per request */
	if ((ret = prl_archive_open(s->data_dir, 0, &a, err)) < 0)
		return ret;
	prl_archive_set_search_cache(a, s->search);
	prl_archive_busy_timeout(a, WEB_WRITE_WAIT_MS);
	/* what a killed server (or any run) left: a live run's is not touched */
	prl_archive_clear_leftovers(a, NULL, NULL);
	s->pool[s->npool++] = a;
	/* uploads a day old, and what a stopped server left of them */
	if ((ret = web_uploads_init(s, opts)) < 0)
		return ret;
	web_uploads_sweep(s, a, 1);
	/* the search vocabulary is read before the first visitor, not by them */
	prl_archive_search_warm(a);
	if ((ret = web_cache_init(&s->cache, prl_archive_dir(a))) < 0)
		return ret;
	if ((ret = web_map_init(s, opts, err)) < 0)
		return ret;
	return web_pages_init(&s->pages, err);
}

/* Starts MHD's threads on ss; tells opts->ready the port bound. */
static int daemon_start(struct web_server *s, const struct prl_web_opts *opts, unsigned flags,
			const struct sockaddr_storage *ss, unsigned threads, const char *addr,
			uint16_t port, struct prl_buf *err)
{
	char shown[INET6_ADDRSTRLEN];
	unsigned max = opts->max_connections ? opts->max_connections : 1024u;
	unsigned timeout = opts->timeout_s ? opts->timeout_s : 30u;
	/* behind a proxy every connection comes from its address */
	unsigned per_address = opts->behind_proxy      ? 0u
			       : opts->max_per_address ? opts->max_per_address
						       : (max / 8 ? max / 8 : 1u);
	int ret;

	if ((ret = web_conns_new(&s->conns, max, opts->head_timeout_s ? opts->head_timeout_s : 10u,
				 timeout)) < 0)
		return ret;
	s->daemon = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
		(const struct sockaddr *)ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, max, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
		MHD_OPTION_NOTIFY_CONNECTION, web_conns_notify, s, MHD_OPTION_CONNECTION_TIMEOUT,
		timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_UNESCAPE_CALLBACK, on_unescape,
		s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->daemon) {
		prl_buf_addf(err, "cannot listen on %s port %u: %s", addr, (unsigned)port,
			     errno ? strerror(errno) : "libmicrohttpd refused to start");
		return -PRL_EIO;
	}
	if (opts->ready) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);

		snprintf(shown, sizeof(shown), "%s", addr);
		opts->ready(opts->ready_ctx, shown, info ? info->port : port);
	}
	return 0;
}

static void nap_20ms(void)
{
	struct timespec nap = {0, 20 * 1000 * 1000};

	nanosleep(&nap, NULL);
}

/* Stops taking connections, lets what is in flight finish (DRAIN_SECONDS
 * at most), then stops the daemon and waits for the last export. */
static void server_drain(struct web_server *s)
{
	struct timespec t0, now;
	MHD_socket lfd;

	atomic_store(&s->stopping, 1);
	lfd = MHD_quiesce_daemon(s->daemon);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (atomic_load(&s->in_flight) <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= DRAIN_SECONDS)
			break;
		nap_20ms();
	}
	/* exports still running are cut, and their connections closed by
	 * MHD's threads: none may be left suspended when it stops */
	web_exports_stop(s);
	for (int waits = 0; web_exports_active(s) && waits < 250; waits++)
		nap_20ms();
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	/* a builder inside a long step (a FLAC) lets go of its export when
	 * the step ends; the server outlives every export */
	while (web_exports_active(s))
		nap_20ms();
}

int prl_web_frame_sources_valid(const char *s)
{
	int words = 0;

	while (*s) {
		size_t n;

		s += strspn(s, " ");
		if (!*s)
			break;
		n = strcspn(s, " ");
		if (s[0] == '\'') {
			if (!(n == 6 && !strncmp(s, "'self'", 6)) &&
			    !(n == 6 && !strncmp(s, "'none'", 6)))
				return 0;
		} else {
			for (size_t i = 0; i < n; i++)
				if (!((s[i] >= 'a' && s[i] <= 'z') ||
				      (s[i] >= 'A' && s[i] <= 'Z') ||
				      (s[i] >= '0' && s[i] <= '9') || strchr(".-:/*_~%[]", s[i])))
					return 0;
		}
		words++;
		s += n;
	}
	return words > 0;
}

int prl_web_serve(const struct prl_web_opts *opts, struct prl_buf *err)
{
	struct web_server s;
	struct sockaddr_storage ss;
	const char *addr =
		opts->listen_addr && *opts->listen_addr ? opts->listen_addr : "127.0.0.1";
	uint16_t port = opts->port ? opts->port : 8080;
	unsigned threads = opts->threads ? opts->threads : cpu_threads();
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
	sigset_t set, oldset;
	struct sigaction ign, oldpipe;
	int ret, masked = 0;

	if (opts->frame_ancestors && *opts->frame_ancestors &&
	    !prl_web_frame_sources_valid(opts->frame_ancestors)) {
		prl_buf_addf(err, "frame-ancestors: \"%s\" is not a list of sources",
			     opts->frame_ancestors);
		return -PRL_EINVAL;
	}
	if (opts->media_redirect_s < 0 || opts->media_redirect_s > 604800) {
		prl_buf_addf(err, "media-redirect: %ld s is not 1 to 604800 (7 days)",
			     opts->media_redirect_s);
		return -PRL_EINVAL;
	}
	if ((ret = listen_address(addr, port, &ss, &flags, err)) < 0)
		return ret;
	if ((ret = server_open(&s, opts, threads, err)) < 0)
		goto end;
	/* asked for and impossible: said at once rather than streamed
	 * silently from a folder the operator thought was not used */
	if (opts->media_redirect_s && !prl_archive_media_store(s.pool[0])) {
		prl_buf_addf(err,
			     "media-redirect: %s keeps its media in its media/ folder, not in an "
			     "object store: there is nothing to redirect to",
			     s.data_dir);
		ret = -PRL_EINVAL;
		goto end;
	}
	/* the signals go to sigwait below, never to a worker thread */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &oldset);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &oldpipe);
	masked = 1;
	/* the index's postings are read into memory in the background once
	 * the signals are masked (searches use FTS5 until they are in) */
	if (!opts->no_search_memory)
		prl_archive_search_keep(s.pool[0], 0);
	/* the worker starts with the signals masked, as the daemon's threads */
	if (opts->njob_kinds &&
	    (ret = prl_jobs_start(s.data_dir, opts->job_kinds, opts->njob_kinds, &s.jobs, err)) < 0)
		goto end;
	if ((ret = daemon_start(&s, opts, flags, &ss, threads, addr, port, err)) < 0)
		goto end;
	wait_for_signal(&set);
	server_drain(&s);
end:
	/* a running job is told to stop, and is failed once it has */
	prl_jobs_stop(s.jobs);
	s.jobs = NULL;
	if (masked) {
		sigaction(SIGPIPE, &oldpipe, NULL);
		pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	}
	server_release(&s);
	return ret;
}
