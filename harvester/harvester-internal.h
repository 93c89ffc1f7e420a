/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The harvester's private header: the HTTP client run.c asks for pages.
 */
#ifndef PARLERS_HARVESTER_INTERNAL_H
#define PARLERS_HARVESTER_INTERNAL_H

#include "parlers/harvester.h"

struct harvest_client;

/* A client for one run (one connection kept alive between its pages);
 * opts is the caller's and outlives the client.  NULL when out of memory. */
struct harvest_client *harvest_client_new(const struct prl_harvest_opts *opts);
void harvest_client_free(struct harvest_client **c); /* accepts NULL */
/* GETs url into body (emptied first), gzip and deflate accepted, retrying
 * a 503 (after its Retry-After) and a network failure with backoff.
 * -PRL_EIO with one line in err when it gave up (the last reason). */
int harvest_get(struct harvest_client *c, const char *url, struct prl_buf *body,
		struct prl_buf *err);
/* Appends s to b escaped for a URL's query. */
int harvest_escape(struct harvest_client *c, struct prl_buf *b, const char *s);

#endif
