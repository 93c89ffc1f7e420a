/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The institutions of the network as JSON: GET /api/institutions (all of
 * them) and GET /api/institutions/{short} (one).  The JSON is the
 * archive's, the same bytes `parlers institution list --json` and
 * `show --json` print; the recordings an institution counts are those the
 * request's viewer may know of.
 *
 * Always holds: the short name from the path reaches the archive only as
 * a bound value, after prl_institution_short_valid(); anything else is the
 * same 404 as an unknown one.  Errors are {"error": "..."}.
 * Expected workload: page loads and scripts at human pace; a few hundred
 * institutions at most.
 */
#include "web-internal.h"

#define JSON_MIME "application/json; charset=utf-8"

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
