/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What a handler asks of its request: a query-string argument, a header,
 * the URL prefix the visitor reached this server by, and an archive handle
 * from the server's pool for the time of the request.
 *
 * Always holds: an archive handle is used by one thread at a time: taken
 * from the pool for one request and given back; the pool never holds more
 * handles than it has room for (one too many is closed).  Nothing here
 * calls a handler or the server: handlers call these, never the reverse.
 *
 * Expected workload: a few calls per request, tens of thousands a second.
 */
#include <string.h>

#include "web-internal.h"

/* ---- the archive handle pool ---- */

struct prl_archive *web_archive_get(struct web_server *s)
{
	struct prl_archive *a = NULL;

	pthread_mutex_lock(&s->pool_lock);
	if (s->npool)
		a = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	if (!a) {
		if (prl_archive_open(s->data_dir, 0, &a, NULL) < 0)
			return NULL;
		prl_archive_set_search_cache(a, s->search); /* the same archive: cannot fail */
		prl_archive_busy_timeout(a, WEB_WRITE_WAIT_MS);
	}
	return a;
}

void web_archive_put(struct web_server *s, struct prl_archive *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool < s->pool_cap) {
		s->pool[s->npool++] = a;
		a = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	prl_archive_close(a); /* more handles than threads: one too many */
}

/* ---- request helpers ---- */

const char *web_arg(struct web_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, key);
}

const char *web_header(struct web_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, name);
}

int web_base_url(struct web_request *r, struct prl_buf *out)
{
	const char *host = web_header(r, MHD_HTTP_HEADER_HOST);
	const char *proto = web_header(r, "X-Forwarded-Proto");
	int ok = host && *host && strlen(host) < 256;

	/* a Host header is the visitor's text: only a host name or address
	 * and a port may become part of a URL we hand out */
	for (const char *p = host; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || strchr(".-:[]", *p);
	return prl_buf_addf(out, "%s://%s", proto && !strcmp(proto, "https") ? "https" : "http",
			    ok ? host : "localhost");
}
