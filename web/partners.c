/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The partners whose catalogues the archive harvests over OAI-PMH: as
 * JSON, GET /api/partners (all of them, with how their last harvest went)
 * and GET /api/partners/{name}/records?offset=&limit= (a partner's
 * records, each with its link back); as a page, /partners; and the
 * harvested records that match a search, added to /api/search's answer as
 * "harvested" (metadata only, each with its partner's name).
 *
 * Always holds: a partner's name from the path reaches the archive only as
 * a bound value, after prl_partner_name_valid(); anything else is the same
 * 404 as an unknown one.  Harvested records carry no access level: they
 * are what the partner itself publishes, and only their metadata is kept.
 * Expected workload: page loads and scripts at human pace.
 */
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

enum MHD_Result web_api_partners(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;
	int ret;

	(void)p;
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_partners_json(a, NULL, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return web_error_json(r, web_status_for(ret), prl_strerror(ret));
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

/* A whole number 0 to max from a query argument (absent: dflt); -1 when
 * it is no such number. */
static long count_arg(const char *s, long dflt, long max)
{
	char *end;
	long v;

	if (!s || !*s)
		return dflt;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v > max ? -1 : v;
}

enum MHD_Result web_api_partner_records(struct web_request *r, const struct web_params *p)
{
	struct prl_buf b = PRL_BUF_INIT;
	char name[PRL_SHORT_MAX + 1];
	struct prl_archive *a;
	long offset = count_arg(web_arg(r, "offset"), 0, 1L << 40),
	     limit = count_arg(web_arg(r, "limit"), 50, 1000);
	int ret;

	if (!p->tail || p->tail_len == 0 || p->tail_len > PRL_SHORT_MAX)
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such partner");
	memcpy(name, p->tail, p->tail_len);
	name[p->tail_len] = '\0';
	if (!prl_partner_name_valid(name))
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such partner");
	if (offset < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "offset: a whole number");
	if (limit < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "limit: a whole number, 1 to 1000");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_partner_records_json(a, name, offset, limit, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return ret == -PRL_ENOTFOUND
			       ? web_error_json(r, MHD_HTTP_NOT_FOUND, "no such partner")
			       : web_error_json(r, web_status_for(ret), prl_strerror(ret));
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

enum MHD_Result web_page_partners(struct web_request *r, const struct web_params *p)
{
	struct prl_buf list = PRL_BUF_INIT, data = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result ret;
	int err;

	(void)p;
	if (!(a = web_archive_get(r->srv)))
		return web_error_html(r, MHD_HTTP_SERVICE_UNAVAILABLE);
	err = prl_archive_partners_json(a, NULL, &list);
	web_archive_put(r->srv, a);
	if (err == 0)
		err = web_json_for_script(&data, prl_buf_str(&list), list.len);
	ret = err < 0 ? web_error_html(r, MHD_HTTP_INTERNAL_SERVER_ERROR)
		      : web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_PARTNERS, "data", &data);
	prl_buf_release(&list);
	prl_buf_release(&data);
	return ret;
}

int web_partner_hits_append(struct prl_archive *a, const char *query, long limit,
			    struct prl_buf *answer)
{
	struct prl_buf hits = PRL_BUF_INIT;
	int ret;

	if (answer->len == 0 || answer->data[answer->len - 1] != '}')
		return 0;
	if ((ret = prl_archive_partner_search_json(a, query, 0, limit, &hits)) < 0 ||
	    !strncmp(prl_buf_str(&hits), "{\"total\":0,", 11)) {
		/* none: the answer stays as an archive without partners gives it */
		prl_buf_release(&hits);
		return ret;
	}
	answer->data[--answer->len] = '\0';
	prl_buf_addstr(answer, ",\"harvested\":");
	prl_buf_add(answer, prl_buf_str(&hits), hits.len);
	ret = prl_buf_addch(answer, '}');
	prl_buf_release(&hits);
	return ret;
}
