/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers serve: runs the web server (web/) on the data folder until
 * SIGINT or SIGTERM, then exits 0 once the requests in flight are done.
 * One line per request goes to standard error.  `serve --routes` prints
 * the server's route table and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "parlers/jobs.h"
#include "speech-jobs.h"
#include "parlers/web.h"
#include "recognizer.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: parlers [-d DIR] serve [--listen ADDR:PORT] [--threads N] [--quiet]\n"
		   "                             [--no-search-memory] [--behind-proxy]\n"
		   "                             [--frame-ancestors SOURCES]\n"
		   "                             [--trash-days N]\n"
		   "                             [--tiles URL|none] [--tiles-attribution TEXT]\n"
		   "                             [--contribution-licence NAME]\n"
		   "                             [--harvest-every HOURS]\n"
		   "                             [--upload-max SIZE] [--upload-expiry SECONDS]\n"
		   "                             [--media-redirect[=SECONDS]]\n"
		   "       parlers serve --routes\n\n"
		   "Serves the archive over HTTP: the pages, the JSON API and the media.\n\n"
		   "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8080);\n"
		   "                      [::1]:8080 for IPv6, :PORT or PORT for 127.0.0.1\n"
		   "  --threads N         worker threads (default: one per CPU)\n"
		   "  --quiet             no request log on standard error\n"
		   "  --no-search-memory  search with FTS5 alone, without the copy of the\n"
		   "                      index's postings in memory (about 190 MB for a\n"
		   "                      million segments)\n"
		   "  --behind-proxy      a reverse proxy on this machine forwards the\n"
		   "                      requests: login limits count the address it\n"
		   "                      appends to X-Forwarded-For\n"
		   "  --frame-ancestors SOURCES\n"
		   "                      the sites that may show the embeddable player\n"
		   "                      (/embed/ID) in a frame, as CSP sources apart\n"
		   "                      by spaces: \"https://musee.example 'self'\";\n"
		   "                      default: any site\n"
		   "  --tiles URL|none    the maps' background tiles, {z}/{x}/{y} (and {s})\n"
		   "                      in an http(s) URL (default OpenStreetMap's);\n"
		   "                      none: the outline shipped with parlers alone\n"
		   "  --tiles-attribution TEXT  the tiles' credit line shown on the map\n"
		   "  --contribution-licence NAME\n"
		   "                      the licence contributors accept when they open an\n"
		   "                      account to propose transcriptions (default\n"
		   "                      \"CC BY-SA 4.0\")\n"
		   "  --upload-max SIZE   the largest file staff may upload from the browser,\n"
		   "                      in bytes or with K, M, G, T (default 8G)\n"
		   "  --upload-expiry SECONDS\n"
		   "                      how long an unfinished upload is kept (default\n"
		   "                      86400, a day)\n"
		   "  --media-redirect[=SECONDS]\n"
		   "                      media in an object store: answer a media request\n"
		   "                      with a redirect (307) to a URL of the object signed\n"
		   "                      for SECONDS (default 300, at most 604800) instead\n"
		   "                      of streaming it through media/; a recording heard\n"
		   "                      with withheld passages silent is still streamed.\n"
		   "                      Refused for an archive whose media are in media/\n"
		   "  --routes            print the route table, one route a line (methods,\n"
		   "                      path, what it answers, what it shows of a\n"
		   "                      recording, what it needs), and exit\n"
		   "  --trash-days N      at start, purge the recordings deleted N days ago\n"
		   "                      or more (default 30, or $PARLERS_TRASH_DAYS)\n"
		   "  --harvest-every HOURS\n"
		   "                      harvest every partner (parlers harvest) at start,\n"
		   "                      then every HOURS (a decimal number) while serving\n\n"
		   "Stops on SIGINT (Ctrl-C) or SIGTERM after the requests in flight.\n");
}

static void on_ready(void *ctx, const char *addr, uint16_t port)
{
	const char *dir = ctx;

	fprintf(stderr, "parlers: serving %s at http://%s%s%s:%u/\n", dir,
		strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", (unsigned)port);
}

static int print_routes(void)
{
	struct prl_buf b = PRL_BUF_INIT;
	int ret = prl_web_routes(&b);

	if (ret == 0)
		fwrite(prl_buf_str(&b), 1, b.len, stdout);
	prl_buf_release(&b);
	if (ret < 0)
		return cli_error("serve: %s", prl_strerror(ret));
	return 0;
}

/* The limits on contributions, for tests and for operators who tune them:
 * PARLERS_SIGNUPS_PER_HOUR, PARLERS_PROPOSALS_PER_HOUR,
 * PARLERS_PROPOSALS_PENDING (whole numbers; anything else: the defaults). */
static void contribution_limits_from_env(struct prl_web_opts *opts)
{
	const char *s = getenv("PARLERS_SIGNUPS_PER_HOUR"),
		   *h = getenv("PARLERS_PROPOSALS_PER_HOUR"),
		   *p = getenv("PARLERS_PROPOSALS_PENDING");

	if (s && atoi(s) > 0)
		opts->signups_per_hour = atoi(s);
	if (h && atoi(h) > 0)
		opts->proposals_per_hour = atoi(h);
	if (p && atoi(p) > 0)
		opts->proposals_pending = atoi(p);
}

/* The server's settings that come from the environment: the OAI-PMH
 * repository's own (PARLERS_OAI_NAMESPACE, PARLERS_ADMIN_EMAIL), two for
 * tests (PARLERS_OAI_PAGE, PARLERS_OAI_TOKEN_TTL, seconds), and where clips
 * are cut (TMPDIR). */
static void opts_from_env(struct prl_web_opts *opts)
{
	const char *page = getenv("PARLERS_OAI_PAGE"), *ttl = getenv("PARLERS_OAI_TOKEN_TTL");

	opts->oai_namespace = getenv("PARLERS_OAI_NAMESPACE");
	opts->admin_email = getenv("PARLERS_ADMIN_EMAIL");
	if (page && atoi(page) > 0)
		opts->oai_page = (unsigned)atoi(page);
	if (ttl && atol(ttl) > 0)
		opts->oai_token_ttl = atol(ttl);
	opts->tmp_dir = getenv("TMPDIR");
	contribution_limits_from_env(opts);
}

/* A connection is a descriptor, and so is each file a response sends:
 * the server may hold as many as the system lets this process have
 * (1,024 by default for the soft limit, far more for the hard one). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The recognizers the operator declared, read once when the server starts:
 * the "recognize" job runs them, the editor lists them (names and
 * languages only, never their command lines). */
static struct recognizers serve_recognizers;

/* serve_recognizers as the web server shows them; *out new (free it). */
static int read_recognizers(const char *dir, struct prl_web_recognizer **out, size_t *n)
{
	struct prl_buf err = PRL_BUF_INIT;
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = recognizers_load(dir, &serve_recognizers, &err)) < 0) {
		ret = cli_error("serve: %s", err.data ? err.data : prl_strerror(ret));
		prl_buf_release(&err);
		return ret;
	}
	prl_buf_release(&err);
	if (serve_recognizers.n == 0)
		return 0;
	if (!(*out = calloc(serve_recognizers.n, sizeof(**out))))
		return cli_error("serve: out of memory");
	for (i = 0; i < serve_recognizers.n; i++) {
		(*out)[i].name = serve_recognizers.r[i].name;
		(*out)[i].language = serve_recognizers.r[i].language;
	}
	*n = serve_recognizers.n;
	return 0;
}

/* The background jobs this server does (parlers/jobs.h): a kind's name,
 * as its route queues it, and the function that does it. */
static const struct prl_job_kind job_kinds[] = {
	{"rebuild", prl_job_rebuild, NULL},
	{"ingest", prl_job_ingest, NULL},
	/* the speech tools (speech-jobs.c) */
	{"segment", speech_job_segment, NULL},
	{"align", speech_job_align, NULL},
	{"recognize", speech_job_recognize, &serve_recognizers},
};

/* A size in bytes, with an optional K, M, G or T (powers of 1024), into
 * *out; -1 when it is not one (or is 0). */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	long long n;
	int shift = 0;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n <= 0 || *s == '-' || *s == '+')
		return -1;
	if (*end) {
		const char *units = "KMGT", *u = strchr(units, *end);

		if (!u || end[1])
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (n > (INT64_MAX >> shift))
		return -1;
	*out = (int64_t)n << shift;
	return 0;
}

/* At start: what the trash kept for days is purged (rows and files).  An
 * archive that cannot be opened is left to the server to report. */
static int purge_trash(struct cli *c, int days, int quiet)
{
	struct prl_archive *a;
	int n;

	if (prl_archive_open(c->data_dir, 0, &a, NULL) < 0)
		return 0;
	if ((n = prl_archive_trash_purge(a, days, NULL, NULL)) < 0)
		n = cli_error("serve: purging the trash: %s", prl_archive_errmsg(a));
	else if (n > 0 && !quiet)
		fprintf(stderr,
			"parlers: %d deleted recording%s purged from the trash (kept %d days)\n", n,
			n > 1 ? "s" : "", days);
	prl_archive_close(a);
	return n < 0 ? n : 0;
}

int cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"no-search-memory", no_argument, NULL, 'm'},
		{"behind-proxy", no_argument, NULL, 'p'},
		{"routes", no_argument, NULL, 'r'},
		{"frame-ancestors", required_argument, NULL, 'f'},
		{"trash-days", required_argument, NULL, 'T'},
		{"tiles", required_argument, NULL, 'L'},
		{"tiles-attribution", required_argument, NULL, 'A'},
		{"contribution-licence", required_argument, NULL, 'C'},
		{"harvest-every", required_argument, NULL, 'H'},
		{"upload-max", required_argument, NULL, 'U'},
		{"upload-expiry", required_argument, NULL, 'E'},
		{"media-redirect", optional_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct prl_web_opts opts;
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_web_recognizer *web_recognizers = NULL;
	char addr[64] = "127.0.0.1";
	uint16_t port = 8080;
	int opt, ret, routes = 0, trash_days = PRL_TRASH_DAYS;
	double harvest_hours = 0;
	const char *env_days = getenv("PARLERS_TRASH_DAYS");

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (prl_web_parse_listen(optarg, addr, sizeof(addr), &port) < 0)
				return cli_usage_error("serve", "--listen: '%s' is not ADDR:PORT",
						       optarg);
			if (!addr[0])
				snprintf(addr, sizeof(addr), "127.0.0.1");
			break;
		case 't': {
			char *end;
			long n;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 256)
				return cli_usage_error("serve", "--threads: '%s' is not 1 to 256",
						       optarg);
			opts.threads = (unsigned)n;
			break;
		}
		case 'q':
			opts.quiet = 1;
			break;
		case 'm':
			opts.no_search_memory = 1;
			break;
		case 'p':
			opts.behind_proxy = 1;
			break;
		case 'r':
			routes = 1;
			break;
		case 'f':
			if (!prl_web_frame_sources_valid(optarg))
				return cli_usage_error("serve",
						       "--frame-ancestors: '%s' is not a list of "
						       "sources (https://site.example 'self' *)",
						       optarg);
			opts.frame_ancestors = optarg;
			break;
		case 'T':
			env_days = optarg;
			break;
		case 'L':
			if (*optarg && strcmp(optarg, "none") != 0 &&
			    prl_web_tiles_check(optarg, &err) < 0) {
				ret = cli_usage_error("serve", "--tiles: %s", prl_buf_str(&err));
				prl_buf_release(&err);
				return ret;
			}
			opts.tiles = optarg;
			break;
		case 'A':
			opts.tiles_attribution = optarg;
			break;
		case 'C':
			if (!*optarg || strlen(optarg) > 200)
				return cli_usage_error("serve",
						       "--contribution-licence: a licence's name "
						       "of 1 to 200 bytes is expected");
			opts.contribution_licence = optarg;
			break;
		case 'H': {
			char *end;

			harvest_hours = strtod(optarg, &end);
			if (!*optarg || *end || !(harvest_hours > 0 && harvest_hours <= 8760))
				return cli_usage_error("serve",
						       "--harvest-every: '%s' is not a number of "
						       "hours above 0 (at most 8760)",
						       optarg);
			break;
		}
		case 'U':
			if (parse_size(optarg, &opts.upload_max) < 0)
				return cli_usage_error("serve",
						       "--upload-max: '%s' is not a size (8G, "
						       "500M, 1048576)",
						       optarg);
			break;
		case 'E': {
			char *end;
			long long n;

			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 3650LL * 86400)
				return cli_usage_error("serve",
						       "--upload-expiry: '%s' is not a number "
						       "of seconds",
						       optarg);
			opts.upload_expiry_s = n;
			break;
		}
		case 'M': {
			char *end;
			long n = 300;

			errno = 0;
			if (optarg)
				n = strtol(optarg, &end, 10);
			if (optarg && (errno || *end || end == optarg || n < 1 || n > 604800))
				return cli_usage_error("serve",
						       "--media-redirect: '%s' is not a number of "
						       "seconds from 1 to 604800 (7 days)",
						       optarg);
			opts.media_redirect_s = n;
			break;
		}
		default:
			return cli_unknown_option("serve", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if (routes)
		return print_routes();
	if (env_days) {
		char *end;
		long n = strtol(env_days, &end, 10);

		if (!*env_days || *end || n < 0 || n > 36500)
			return cli_usage_error("serve", "--trash-days: '%s' is not 0 to 36500",
					       env_days);
		trash_days = (int)n;
	}
	if ((ret = purge_trash(c, trash_days, opts.quiet)) != 0)
		return ret;
	opts_from_env(&opts);
	if ((ret = read_recognizers(c->data_dir, &web_recognizers, &opts.nrecognizers)) != 0)
		return ret;
	opts.recognizers = web_recognizers;
	opts.job_kinds = job_kinds;
	opts.njob_kinds = sizeof(job_kinds) / sizeof(job_kinds[0]);
	opts.data_dir = c->data_dir;
	opts.listen_addr = addr;
	opts.port = port;
	opts.ready = on_ready;
	opts.ready_ctx = (void *)c->data_dir;
	raise_fd_limit();
	if (harvest_hours > 0 &&
	    cli_harvest_schedule_start(c->data_dir, harvest_hours, opts.quiet) < 0) {
		free(web_recognizers);
		recognizers_clear(&serve_recognizers);
		return cli_error("serve: the scheduled harvest cannot start");
	}
	ret = prl_web_serve(&opts, &err);
	cli_harvest_schedule_stop();
	free(web_recognizers);
	recognizers_clear(&serve_recognizers);
	if (ret < 0) {
		ret = cli_error("serve: %s", err.len ? prl_buf_str(&err) : prl_strerror(ret));
		prl_buf_release(&err);
		return ret;
	}
	prl_buf_release(&err);
	fprintf(stderr, "parlers: stopped\n");
	return 0;
}
