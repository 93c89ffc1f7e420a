/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One partner's harvest: ListRecords from its last good run's
 * responseDate (from=), then page after page through the resumption
 * tokens, each page stored in its own transaction as soon as it is read.
 *
 * Always holds: the run's responseDate (the first page's) becomes the
 * partner's next from= only when the whole list went through; a failure
 * keeps the pages stored before it, and the next run asks again from the
 * same from= (records are keyed by identifier: nothing is duplicated); a
 * resumption token the partner already sent ends the run as failed (it
 * would loop for ever).  A partner whose granularity is the day gets its
 * from= as a day when it refuses seconds.
 * Expected workload: up to hundreds of thousands of records a partner, a
 * page at a time; memory holds one page.
 */
#include <stdlib.h>
#include <string.h>

#include "harvester-internal.h"

/* The tokens a run was sent, to stop a list that comes back on itself. */
struct seen {
	char **tokens; /* owned */
	size_t n;      /* how many */
};

static int seen_add(struct seen *s, const char *token)
{
	char **grown;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->tokens[i], token))
			return 1;
	if (!(grown = realloc(s->tokens, (s->n + 1) * sizeof(*grown))))
		return -PRL_ENOMEM;
	s->tokens = grown;
	if (!(s->tokens[s->n] = strdup(token)))
		return -PRL_ENOMEM;
	s->n++;
	return 0;
}

static void seen_release(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->tokens[i]);
	free(s->tokens);
}

/* The first request's URL: base?verb=ListRecords&metadataPrefix=...,
 * with the set and from= when there are. */
static int first_url(struct harvest_client *c, const struct prl_partner_state *st, const char *from,
		     struct prl_buf *url)
{
	prl_buf_reset(url);
	prl_buf_addf(url, "%s?verb=ListRecords&metadataPrefix=", prl_buf_str(&st->base_url));
	harvest_escape(c, url, prl_buf_str(&st->prefix));
	if (st->set.len) {
		prl_buf_addstr(url, "&set=");
		harvest_escape(c, url, prl_buf_str(&st->set));
	}
	if (from && *from) {
		prl_buf_addstr(url, "&from=");
		return harvest_escape(c, url, from);
	}
	return 0;
}

static void note(struct prl_harvest_result *res, const char *fmt, const char *a, const char *b)
{
	prl_buf_addf(&res->messages, fmt, a, b);
	prl_buf_addch(&res->messages, '\n');
}

int prl_harvest_partner(struct prl_archive *a, const char *name, const struct prl_harvest_opts *o,
			struct prl_harvest_result *res)
{
	struct prl_partner_state st;
	struct harvest_client *c = NULL;
	struct prl_buf url = PRL_BUF_INIT, body = PRL_BUF_INIT, why = PRL_BUF_INIT,
		       from = PRL_BUF_INIT;
	struct seen seen = {NULL, 0};
	char *response_date = NULL;
	int ret, day_tried = 0;

	memset(res, 0, sizeof(*res));
	if ((ret = prl_archive_partner_state(a, name, &st)) < 0) {
		note(res, "%s%s", prl_archive_errmsg(a), "");
		prl_partner_state_release(&st);
		return ret;
	}
	prl_buf_addstr(&from, prl_buf_str(&st.from));
	if (!(c = harvest_client_new(o))) {
		ret = -PRL_ENOMEM;
		goto fail;
	}
	if ((ret = first_url(c, &st, prl_buf_str(&from), &url)) < 0)
		goto fail;
	for (;;) {
		struct prl_oai_page page;

		if ((ret = harvest_get(c, prl_buf_str(&url), &body, &why)) < 0) {
			prl_buf_addf(&res->messages, "page %ld: %s", res->pages + 1,
				     prl_buf_str(&why));
			goto failed_noted;
		}
		prl_buf_reset(&why);
		ret = prl_oai_parse(body.data ? body.data : "", body.len, &page, &why);
		if (ret < 0) {
			prl_buf_addf(&res->messages, "page %ld: %s", res->pages + 1,
				     prl_buf_str(&why));
			prl_oai_page_release(&page);
			goto failed_noted;
		}
		if (!response_date && page.response_date &&
		    !(response_date = strdup(page.response_date))) {
			prl_oai_page_release(&page);
			ret = -PRL_ENOMEM;
			goto fail;
		}
		if (page.error_code) {
			/* an incremental run with nothing new is no failure */
			if (!strcmp(page.error_code, "noRecordsMatch") && res->pages == 0) {
				prl_oai_page_release(&page);
				break;
			}
			/* a partner of day granularity refuses from= with seconds */
			if (!strcmp(page.error_code, "badArgument") && res->pages == 0 &&
			    from.len > 10 && !day_tried) {
				day_tried = 1;
				from.data[10] = '\0';
				from.len = 10;
				prl_oai_page_release(&page);
				if ((ret = first_url(c, &st, prl_buf_str(&from), &url)) < 0)
					goto fail;
				continue;
			}
			prl_buf_addf(&res->messages,
				     "page %ld: the partner answered OAI-PMH error %s",
				     res->pages + 1, page.error_code);
			if (page.error_message)
				prl_buf_addf(&res->messages, " (%.200s)", page.error_message);
			prl_oai_page_release(&page);
			ret = -PRL_EFORMAT;
			goto failed_noted;
		}
		ret = prl_archive_partner_store(a, st.id, page.recs, page.n, &res->counts);
		if (ret < 0) {
			prl_buf_addf(&res->messages, "page %ld: %s", res->pages + 1,
				     prl_archive_errmsg(a));
			prl_oai_page_release(&page);
			goto failed_noted;
		}
		res->pages++;
		if (page.skipped) {
			res->errors += (long)page.skipped;
			prl_buf_addf(&res->messages,
				     "page %ld: %zu record(s) over %d MiB of metadata left out "
				     "(the first: %.200s)\n",
				     res->pages, page.skipped, PRL_OAI_RECORD_MAX >> 20,
				     page.skipped_first ? page.skipped_first : "");
		}
		if (!page.token) {
			prl_oai_page_release(&page);
			break;
		}
		if ((ret = seen_add(&seen, page.token)) != 0) {
			if (ret > 0)
				prl_buf_addf(&res->messages,
					     "page %ld: the partner sent the resumption token "
					     "'%.100s' twice (a loop); stopped",
					     res->pages, page.token);
			prl_oai_page_release(&page);
			if (ret > 0) {
				ret = -PRL_EFORMAT;
				goto failed_noted;
			}
			goto fail;
		}
		prl_buf_reset(&url);
		prl_buf_addf(&url,
			     "%s?verb=ListRecords&resumptionToken=", prl_buf_str(&st.base_url));
		ret = harvest_escape(c, &url, page.token);
		prl_oai_page_release(&page);
		if (ret < 0)
			goto fail;
	}
	ret = prl_archive_partner_finish(a, st.id, response_date, NULL);
	if (ret < 0)
		note(res, "%s%s", prl_archive_errmsg(a), "");
	goto end;
fail:
	prl_buf_addstr(&res->messages, prl_strerror(ret));
failed_noted:
	prl_buf_addch(&res->messages, '\n');
	res->errors++;
	{
		/* the last line is the reason, kept as the partner's status */
		const char *m = prl_buf_str(&res->messages), *last = m;
		size_t n = res->messages.len;
		char *line;

		for (size_t i = 0; i + 1 < n; i++)
			if (m[i] == '\n')
				last = m + i + 1;
		if ((line = strndup(last, strcspn(last, "\n")))) {
			prl_archive_partner_finish(a, st.id, NULL, line);
			free(line);
		}
	}
end:
	seen_release(&seen);
	free(response_date);
	harvest_client_free(&c);
	prl_buf_release(&url);
	prl_buf_release(&body);
	prl_buf_release(&why);
	prl_buf_release(&from);
	prl_partner_state_release(&st);
	return ret;
}

void prl_harvest_result_release(struct prl_harvest_result *res)
{
	if (res)
		prl_buf_release(&res->messages);
}
