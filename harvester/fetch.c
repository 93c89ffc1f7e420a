/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The harvester's HTTP client, on libcurl: one easy handle per run, so the
 * pages of a list share a kept-alive connection.
 *
 * Always holds: a request never outlives its timeout; only http and https
 * are spoken, also after a redirect; an answer over ANSWER_MAX bytes is
 * refused; a 503 is retried after its Retry-After (bounded by max_wait_s),
 * a network failure and another 5xx after a doubling pause, each at most
 * `retries` times; any other status is a failure at once; the stop flag
 * ends a transfer or a pause within a fraction of a second.
 * Expected workload: a few hundred pages a run, one at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "harvester-internal.h"

#define ANSWER_MAX (256L * 1024 * 1024) /* bytes of one page's answer */
#define FIRST_PAUSE_S 1			/* the first pause after a network failure */

struct harvest_client {
	CURL *curl;			     /* the easy handle */
	const struct prl_harvest_opts *opts; /* the caller's */
	struct prl_buf *body;		     /* where the transfer writes */
	int too_big;			     /* the answer passed ANSWER_MAX */
	char error[CURL_ERROR_SIZE];	     /* libcurl's last message */
};

int prl_harvester_global_init(void)
{
	/* both set up global tables that must not be raced by threads */
	xmlInitParser();
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -PRL_ENOMEM;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct harvest_client *c = ctx;

	if (c->body->len + n > (size_t)ANSWER_MAX) {
		c->too_big = 1;
		return 0;
	}
	return prl_buf_add(c->body, p, n) < 0 ? 0 : n;
}

static int stopped(const struct harvest_client *c)
{
	return c->opts->stop && atomic_load(c->opts->stop);
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return stopped(ctx);
}

struct harvest_client *harvest_client_new(const struct prl_harvest_opts *opts)
{
	struct harvest_client *c = calloc(1, sizeof(*c));
	long timeout = opts->timeout_s > 0 ? opts->timeout_s : 60;

	if (!c || !(c->curl = curl_easy_init())) {
		free(c);
		return NULL;
	}
	c->opts = opts;
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, timeout < 20 ? timeout : 20L);
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, ""); /* every coding libcurl reads */
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT,
			 opts->agent ? opts->agent : "parlers-harvester");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
	return c;
}

void harvest_client_free(struct harvest_client **c)
{
	if (!c || !*c)
		return;
	curl_easy_cleanup((*c)->curl);
	free(*c);
	*c = NULL;
}

int harvest_escape(struct harvest_client *c, struct prl_buf *b, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	int ret;

	if (!e)
		return -PRL_ENOMEM;
	ret = prl_buf_addstr(b, e);
	curl_free(e);
	return ret;
}

/* Sleeps s seconds, or less when the stop flag is raised. */
static void pause_for(const struct harvest_client *c, long s)
{
	struct timespec tenth = {0, 100000000L};

	for (long i = 0; i < s * 10 && !stopped(c); i++)
		nanosleep(&tenth, NULL);
}

int harvest_get(struct harvest_client *c, const char *url, struct prl_buf *body,
		struct prl_buf *err)
{
	int retries = c->opts->retries >= 0 ? c->opts->retries : 3;
	long max_wait = c->opts->max_wait_s > 0 ? c->opts->max_wait_s : 120;
	long pause = FIRST_PAUSE_S;

	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	for (int attempt = 0;; attempt++) {
		CURLcode rc;
		long status = 0;
		curl_off_t after = -1;
		long wait;

		prl_buf_reset(body);
		c->body = body;
		c->too_big = 0;
		c->error[0] = '\0';
		rc = curl_easy_perform(c->curl);
		c->body = NULL;
		if (stopped(c)) {
			prl_buf_addstr(err, "stopped");
			return -PRL_EIO;
		}
		if (c->too_big) {
			prl_buf_addf(err, "the answer is over %ld MiB", ANSWER_MAX >> 20);
			return -PRL_EIO;
		}
		if (rc == CURLE_OK) {
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
			if (status >= 200 && status < 300)
				return 0;
		}
		prl_buf_reset(err);
		if (rc != CURLE_OK) {
			prl_buf_addf(err, "%s", c->error[0] ? c->error : curl_easy_strerror(rc));
			wait = pause;
		} else if (status == 503) {
			curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &after);
			prl_buf_addstr(err, "HTTP 503 (the partner is busy)");
			wait = after >= 0 ? (long)after : pause;
			if (wait > max_wait) {
				prl_buf_addf(err, ", asked to wait %ld s", wait);
				return -PRL_EIO;
			}
		} else if (status >= 500) {
			prl_buf_addf(err, "HTTP %ld", status);
			wait = pause;
		} else {
			prl_buf_addf(err, "HTTP %ld", status);
			return -PRL_EIO;
		}
		if (attempt >= retries) {
			if (retries > 0)
				prl_buf_addf(err, " (after %d retries)", retries);
			return -PRL_EIO;
		}
		pause_for(c, wait);
		pause = pause * 2 > 60 ? 60 : pause * 2;
	}
}
