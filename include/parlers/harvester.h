/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers harvester: the OAI-PMH client that gathers partners' catalogues.
 * It fetches ListRecords pages with libcurl, reads them with libxml2 and
 * stores each page through the archive (prl_archive_partner_store()), one
 * transaction a page.  It sits above archive/ and below cli/; nothing in
 * archive/ or web/ calls it.
 *
 * Always holds: a harvest that fails keeps every page stored before the
 * failure and tells why in one line; the partner's from= moves only when a
 * run went through; nothing here prints.
 */
#ifndef PARLERS_HARVESTER_H
#define PARLERS_HARVESTER_H

#include <stdatomic.h>
#include <stddef.h>

#include "parlers/archive.h"
#include "parlers/common.h"

/* ---- one OAI-PMH answer (parse.c) ---- */

/* A page of ListRecords as read.  Every string is owned by the page. */
struct prl_oai_page {
	char *response_date;		 /* <responseDate>, or NULL */
	char *error_code;		 /* <error code=...>, or NULL: none */
	char *error_message;		 /* its text, or NULL */
	char *token;			 /* <resumptionToken> text; NULL: the list ends */
	struct prl_partner_record *recs; /* the records, in page order */
	size_t n;			 /* how many */
	size_t skipped;			 /* records left out (over PRL_OAI_RECORD_MAX) */
	char *skipped_first;		 /* the first left out's identifier, or NULL */
};

/* Bytes of a record's metadata text over which it is left out. */
#define PRL_OAI_RECORD_MAX (1024 * 1024)

/* Reads an OAI-PMH 2.0 answer of len bytes (any encoding its XML
 * declaration names) into *page (initialised here; released by the caller
 * with prl_oai_page_release() whatever is returned).  OLAC and oai_dc
 * metadata give the same record fields; an OAI-PMH <error> is not a
 * failure here (page->error_code says it).  -PRL_EFORMAT with one line in
 * err for malformed XML or an answer that is not OAI-PMH; -PRL_ENOMEM. */
int prl_oai_parse(const char *buf, size_t len, struct prl_oai_page *page, struct prl_buf *err);
void prl_oai_page_release(struct prl_oai_page *page); /* accepts NULL */

/* ---- a partner's harvest (run.c, fetch.c) ---- */

struct prl_harvest_opts {
	long timeout_s;	   /* seconds a request may take; 0: 60 */
	int retries;	   /* retries of a page after a 503 or a network failure;
			    * -1: 3 */
	long max_wait_s;   /* longest Retry-After obeyed (longer: the run fails);
			    * 0: 120 */
	atomic_int *stop;  /* when not NULL and set: the run stops soon, as failed */
	const char *agent; /* the User-Agent, or NULL: "parlers-harvester" */
};

/* What a run of one partner did. */
struct prl_harvest_result {
	struct prl_harvest_counts counts; /* records added, updated, deleted */
	long errors;			  /* pages that failed, records left out */
	long pages;			  /* pages stored */
	struct prl_buf messages;	  /* one line per error, '\n' after each */
};

/* Harvests partner name into archive a: incremental from its last good
 * run's responseDate, page by page through the resumption tokens.  *res
 * (initialised here; the caller releases res->messages) counts what was
 * stored, also when the run failed.  Returns 0 when the run went through
 * (records may still have been left out: res->errors), else a negative
 * prl_err with the reason as the last line of res->messages:
 * -PRL_ENOTFOUND (no such partner), -PRL_EIO (network, HTTP status,
 * timeout), -PRL_EFORMAT (not OAI-PMH, malformed XML, an OAI-PMH error, a
 * resumption token sent twice), -PRL_ESQL. */
int prl_harvest_partner(struct prl_archive *a, const char *name, const struct prl_harvest_opts *o,
			struct prl_harvest_result *res);
void prl_harvest_result_release(struct prl_harvest_result *res); /* accepts NULL */

/* Prepares libcurl and libxml2 once for the whole program, before any
 * thread that harvests starts. */
int prl_harvester_global_init(void);

#endif
