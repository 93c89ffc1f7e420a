/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers web: the HTTP server of the listening room.  It serves the pages
 * (HTML, CSS and JavaScript embedded in the binary), the JSON API and the
 * media (access copies and originals, with byte ranges and conditional
 * requests) of one data folder.
 *
 * Always holds: every answer about a recording goes through the archive's
 * access rule (its gate, prl_archive_recording_open(), and the archive
 * functions that apply it); every URL is a row of one route table
 * (prl_web_routes() lists it); nothing a visitor sends ever becomes part of
 * a file path; a request the server cannot answer gets a 4xx, never a
 * dropped connection.  The server reads no environment: its caller passes
 * the settings in struct prl_web_opts.
 *
 * Expected workload: many small range requests for audio (a player seeks
 * and streams in pieces), page and JSON requests at human pace, a few
 * hundred connections at once, most of them idle.
 */
#ifndef PARLERS_WEB_H
#define PARLERS_WEB_H

#include <stdint.h>
#include <stdio.h>

#include "parlers/common.h"

struct prl_job_kind;

/* A recognizer the operator declared, as the editor may learn of it. */
struct prl_web_recognizer {
	const char *name;     /* what POST /api/recordings/{id}/recognize names */
	const char *language; /* the language it writes, or NULL when not said */
};

struct prl_web_opts {
	const char *data_dir;	  /* the data folder (archive.db, media/) */
	const char *listen_addr;  /* numeric IPv4 or IPv6 address; NULL: 127.0.0.1 */
	uint16_t port;		  /* 0: 8080 */
	unsigned threads;	  /* worker threads; 0: one per CPU (at least 2) */
	unsigned max_connections; /* 0: 1024 */
	unsigned timeout_s;	  /* idle connection timeout in seconds; 0: 30 */
	unsigned head_timeout_s;  /* from a request's first byte to its last header; 0: 10 */
	unsigned max_per_address; /* connections from one address; 0: max_connections / 8
				   * (none with behind_proxy: all come from the proxy) */
	FILE *log;		  /* one line per request; NULL: stderr */
	int quiet;		  /* no request log at all */
	int no_search_memory;	  /* 1: search with FTS5 alone (prl_archive_search_keep) */
	int behind_proxy;	  /* 1: the client is the last X-Forwarded-For address */
	/* Set by the caller from its environment (cli/ reads it; the server
	 * reads none); strings are not copied and live until the call returns. */
	const char *oai_namespace; /* identifiers oai:NS:recording/ID; NULL or "": parlers.local */
	const char *admin_email;   /* OAI-PMH Identify; NULL or "": archive@parlers.local */
	unsigned oai_page;	   /* records per OAI-PMH page; 0 (or over 1000): 50 */
	long oai_token_ttl;	   /* seconds a resumption token lives; 0: 3600 */
	const char *tmp_dir;	   /* where clips are cut; NULL or "": /tmp */
	/* Who may frame the embeddable player (/embed/{id}): the sources of
	 * CSP frame-ancestors, e.g. "https://musee.example 'self'"; NULL or
	 * "": any ("*").  Every other page refuses framing. */
	const char *frame_ancestors;
	/* The maps' background tiles: a URL with {z}, {x}, {y} (and {s} for a
	 * subdomain), http or https; NULL: OpenStreetMap's; "" or "none": no
	 * tiles (the outline shipped with parlers alone). */
	const char *tiles;
	const char *tiles_attribution; /* the credit shown on the map; NULL: OSM's for
					* OSM's tiles, else none */
	/* Contributions: the licence contributors accept when they sign up
	 * (NULL or "": "CC BY-SA 4.0"), and the limits against abuse (0: the
	 * archive's defaults, PRL_SIGNUPS_PER_HOUR...). */
	const char *contribution_licence;
	int signups_per_hour;	/* accounts opened per client address per hour */
	int proposals_per_hour; /* per account */
	int proposals_pending;	/* per account, waiting for review */
	/* Background jobs (parlers/jobs.h): the kinds the server's worker does
	 * (none: no worker runs, and queued jobs wait). */
	const struct prl_job_kind *job_kinds;
	size_t njob_kinds;
	/* Uploads from the browser (tus): the largest file taken, in bytes
	 * (0: PRL_WEB_UPLOAD_MAX), and how long an upload may stay unfinished,
	 * in seconds (0: PRL_WEB_UPLOAD_EXPIRY); what is older is removed. */
	int64_t upload_max;
	int64_t upload_expiry_s;
	/* Called once the socket listens (the port is bound), or NULL. */
	void (*ready)(void *ctx, const char *addr, uint16_t port);
	void *ready_ctx;
	/* Media in an object store: 0, they are streamed through media/ as
	 * a read-through cache; else a media request the access rule lets
	 * through is answered 307 to a presigned URL of the object, valid
	 * this many seconds (1 to 604800), but for a viewer who hears
	 * withheld passages silent (see web/media.c).  An archive whose
	 * media are in media/ refuses to be served with it. */
	long media_redirect_s;
	/* The recognizers the "recognize" job kind runs (its user data holds
	 * them whole): GET /api/recognizers lists these, and a recognition
	 * naming another is refused (none: the editor offers none). */
	const struct prl_web_recognizer *recognizers;
	size_t nrecognizers;
};

#define PRL_WEB_UPLOAD_MAX (8LL * 1024 * 1024 * 1024) /* 8 GiB */
#define PRL_WEB_UPLOAD_EXPIRY (24 * 3600)	      /* a day */

/*
 * Serves opts->data_dir until SIGINT or SIGTERM arrives, then stops taking
 * connections, lets the requests in flight finish (within a few seconds)
 * and returns 0.  The archive must exist.  On failure (no archive, address
 * in use...) returns a negative prl_err and writes one line into err.
 * Installs handlers for SIGINT and SIGTERM and ignores SIGPIPE for the
 * duration of the call; one server per process.
 */
int prl_web_serve(const struct prl_web_opts *opts, struct prl_buf *err);

/*
 * Appends the route table to out, one line per route, five fields apart:
 * its methods ("GET,HEAD", "POST"...), its path pattern
 * ("/api/recordings/{id}/clip.{ext}"), what it answers (json, html, media,
 * xml, file), what it shows of the recording {id} names (listing: its
 * metadata, restricted ones included; content: its audio or transcript,
 * 403 for a restricted one to who may not hear it; "-": none), and what
 * the request needs ("session", ",csrf", ",ROLE"; "-": nothing).
 * Returns 0 or -PRL_ENOMEM.
 */
int prl_web_routes(struct prl_buf *out);

/*
 * Checks a tile URL as struct prl_web_opts.tiles takes it: 0, or
 * -PRL_EINVAL with a sentence in err.
 */
int prl_web_tiles_check(const char *url, struct prl_buf *err);

/*
 * Parses "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" into addr (a
 * numeric address, copied into addr_out of addr_size bytes; "" when none
 * was given) and *port.  Returns 0 or -PRL_EINVAL.
 */
int prl_web_parse_listen(const char *s, char *addr_out, size_t addr_size, uint16_t *port);

/*
 * True when s can stand as the source list of CSP frame-ancestors: one or
 * more sources apart by spaces, each a scheme ("https:"), a host with an
 * optional scheme, port and path, "*" or a quoted keyword ('self',
 * 'none'), nothing that would end the directive or the header.
 */
int prl_web_frame_sources_valid(const char *s);

#endif
