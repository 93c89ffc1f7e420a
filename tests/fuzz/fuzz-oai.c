/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the harvester's reading of an OAI-PMH answer
 * (harvester/parse.c): any bytes give either a page or a one-line error,
 * never a crash; a page's records all have an identifier, every string is
 * valid UTF-8, and a failure leaves the page empty and releasable.
 */
#include <stdlib.h>
#include <string.h>

#include "parlers/harvester.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s)
{
	if (s && !prl_utf8_valid(s, strlen(s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_oai_page page;
	int ret = prl_oai_parse((const char *)data, size, &page, &err);

	if (ret < 0) {
		if (err.len == 0 && ret != -PRL_ENOMEM)
			abort();
		if (memchr(prl_buf_str(&err), '\n', err.len))
			abort();
	} else {
		check_text(page.response_date);
		check_text(page.token);
		for (size_t i = 0; i < page.n; i++) {
			const struct prl_partner_record *r = &page.recs[i];

			if (!r->identifier || !*r->identifier)
				abort();
			check_text(r->identifier);
			check_text(r->title);
			check_text(r->speakers);
			check_text(r->description);
			check_text(r->place);
		}
	}
	prl_oai_page_release(&page);
	prl_buf_release(&err);
	return 0;
}
