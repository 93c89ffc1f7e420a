/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers harvest add|list|remove|run|records: the partners whose
 * catalogues this archive gathers over OAI-PMH, and their harvest.  `run`
 * prints one line (with --json one object) per partner: {"partner",
 * "added", "updated", "deleted", "errors", "pages", "status", "messages"}.
 * The schedule `serve --harvest-every HOURS` runs lives here too: a thread
 * with its own archive handle that harvests every partner, then sleeps.
 *
 * Always holds: a partner that fails does not stop the others; the exit
 * status is 1 when any partner had an error, with each error on stderr in
 * one line (also with --json, where it is in the object as well).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "parlers/harvester.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parlers [-d DIR] harvest add NAME BASE-URL [--prefix olac|oai_dc] [--set "
		"S]\n"
		"                                   [--institution SHORT]\n"
		"       parlers [-d DIR] harvest list [--json]\n"
		"       parlers [-d DIR] harvest remove NAME\n"
		"       parlers [-d DIR] harvest run [NAME] [--json] [--timeout SEC] [--retries "
		"N]\n"
		"       parlers [-d DIR] harvest records NAME [--offset N] [--limit N]\n\n"
		"Partners are archives whose catalogues this one gathers over OAI-PMH: their\n"
		"records are shown with the partner's name and a link back to it, found by\n"
		"search, and never exported as ours.  NAME is 1 to %d lowercase letters,\n"
		"digits or '-'.  BASE-URL is the partner's OAI-PMH address (http or https).\n\n"
		"run harvests NAME, or every partner: from the last good run on (from=),\n"
		"page by page, each page kept as soon as it is read.  One line per partner\n"
		"(--json: {\"partner\", \"added\", \"updated\", \"deleted\", \"errors\", ...}).\n"
		"  --timeout SEC  how long one request may take (default 60)\n"
		"  --retries N    retries of a page after a 503 or a network failure\n"
		"                 (default 3; a 503's Retry-After is obeyed)\n"
		"records prints a partner's harvested records as JSON (as the API does).\n",
		PRL_SHORT_MAX);
}

static int harvest_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"prefix", required_argument, NULL, 'p'},
		{"set", required_argument, NULL, 's'},
		{"institution", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	struct prl_partner p = {NULL, NULL, NULL, NULL, NULL};
	struct prl_archive *a = NULL;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (strcmp(optarg, "olac") != 0 && strcmp(optarg, "oai_dc") != 0)
				return cli_usage_error("harvest", "--prefix: olac or oai_dc");
			p.prefix = optarg;
			break;
		case 's':
			p.set = optarg;
			break;
		case 'i':
			p.institution = optarg;
			break;
		default:
			return cli_unknown_option("harvest", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("harvest", "add: NAME and BASE-URL are expected");
	p.name = argv[optind];
	p.base_url = argv[optind + 1];
	if (!prl_partner_name_valid(p.name))
		return cli_usage_error("harvest",
				       "'%s' is no partner name: 1 to %d lowercase letters, "
				       "digits or '-'",
				       p.name, PRL_SHORT_MAX);
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	ret = prl_archive_partner_add(a, &p);
	if (ret < 0)
		ret = cli_error("harvest add: %s", prl_archive_errmsg(a));
	else
		printf("partner %s added: %s (%s)\n", p.name, p.base_url,
		       p.prefix ? p.prefix : "oai_dc");
	prl_archive_close(a);
	return ret;
}

static int harvest_remove(struct cli *c, int argc, char **argv)
{
	struct prl_archive *a = NULL;
	int ret;

	if (argc != 2)
		return cli_usage_error("harvest", "remove: one NAME is expected");
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if ((ret = prl_archive_partner_remove(a, argv[1])) < 0)
		ret = cli_error("harvest remove: %s", prl_archive_errmsg(a));
	else
		printf("partner %s removed with its records\n", argv[1]);
	prl_archive_close(a);
	return ret;
}

/* Whether argv holds --json (and nothing else unknown). */
static int json_flag(int argc, char **argv, const char *verb, int *json)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = 1;
		else
			return cli_usage_error("harvest", "%s: unexpected argument '%s'", verb,
					       argv[i]);
	}
	return 0;
}

static int harvest_list(struct cli *c, int argc, char **argv)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	char **names = NULL;
	size_t n = 0;
	int json = 0, ret;

	if ((ret = json_flag(argc, argv, "list", &json)) != 0)
		return ret;
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if (json) {
		if ((ret = prl_archive_partners_json(a, NULL, &b)) < 0)
			ret = cli_error("harvest list: %s", prl_archive_errmsg(a));
		else
			printf("%s\n", prl_buf_str(&b));
		goto end;
	}
	if ((ret = prl_archive_partner_names(a, &names, &n)) < 0) {
		ret = cli_error("harvest list: %s", prl_archive_errmsg(a));
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		struct prl_partner_state st;

		if (prl_archive_partner_state(a, names[i], &st) == 0) {
			printf("%s\t%s\t%s%s%s\t%s\n", names[i], prl_buf_str(&st.base_url),
			       prl_buf_str(&st.prefix), st.set.len ? " set=" : "",
			       prl_buf_str(&st.set), st.from.len ? prl_buf_str(&st.from) : "never");
		}
		prl_partner_state_release(&st);
	}
	if (n == 0)
		printf("no partner (add one with 'parlers harvest add NAME BASE-URL')\n");
	ret = 0;
end:
	prl_archive_partner_names_free(names, n);
	prl_buf_release(&b);
	prl_archive_close(a);
	return ret;
}

/* A count option's value: a whole number 0 to max. */
static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Appends messages (lines) as a JSON array to b. */
static void messages_json(struct prl_buf *b, const struct prl_buf *messages)
{
	const char *m = prl_buf_str(messages);
	int n = 0;

	prl_buf_addch(b, '[');
	while (*m) {
		size_t k = strcspn(m, "\n");

		if (k) {
			if (n++)
				prl_buf_addch(b, ',');
			prl_json_strn(b, m, k);
		}
		m += k;
		if (*m)
			m++;
	}
	prl_buf_addch(b, ']');
}

/* Harvests one partner and reports it (JSON or a line; errors on stderr).
 * Returns 0 when it went through without error, else 1. */
static int run_one(struct prl_archive *a, const char *name, const struct prl_harvest_opts *o,
		   int json, FILE *out)
{
	struct prl_harvest_result res;
	int ret = prl_harvest_partner(a, name, o, &res);
	const char *m = prl_buf_str(&res.messages);

	if (ret == -PRL_ENOTFOUND) {
		/* nothing ran: no counts to print */
		cli_error("harvest: %s", prl_archive_errmsg(a));
		prl_harvest_result_release(&res);
		return 1;
	}
	if (json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addstr(&b, "{\"partner\":");
		prl_json_str(&b, name);
		prl_buf_addf(&b,
			     ",\"added\":%ld,\"updated\":%ld,\"deleted\":%ld,\"errors\":%ld,"
			     "\"pages\":%ld,\"status\":\"%s\",\"messages\":",
			     res.counts.added, res.counts.updated, res.counts.deleted, res.errors,
			     res.pages, ret < 0 ? "error" : "ok");
		messages_json(&b, &res.messages);
		prl_buf_addch(&b, '}');
		fprintf(out, "%s\n", prl_buf_str(&b));
		prl_buf_release(&b);
	} else {
		fprintf(out, "%s: added %ld, updated %ld, deleted %ld, errors %ld (%ld pages)\n",
			name, res.counts.added, res.counts.updated, res.counts.deleted, res.errors,
			res.pages);
	}
	fflush(out);
	while (*m) {
		size_t k = strcspn(m, "\n");

		if (k)
			fprintf(stderr, "parlers: harvest %s: %.*s\n", name, (int)k, m);
		m += k;
		if (*m)
			m++;
	}
	ret = ret < 0 || res.errors > 0;
	prl_harvest_result_release(&res);
	return ret;
}

/* Harvests name, or every partner when NULL.  Returns how many failed, or
 * -1 when the list could not be read. */
static int run_all(struct prl_archive *a, const char *name, const struct prl_harvest_opts *o,
		   int json, FILE *out)
{
	char **names = NULL;
	size_t n = 0;
	int failed = 0;

	if (name)
		return run_one(a, name, o, json, out);
	if (prl_archive_partner_names(a, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !(o->stop && atomic_load(o->stop)); i++)
		failed += run_one(a, names[i], o, json, out);
	prl_archive_partner_names_free(names, n);
	return failed;
}

static int harvest_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"retries", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct prl_harvest_opts o = {0, -1, 0, NULL, NULL};
	struct prl_archive *a = NULL;
	const char *name = NULL;
	long v;
	int opt, json = 0, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 't':
			if (parse_count(optarg, 86400, &v) < 0 || v == 0)
				return cli_usage_error("harvest", "--timeout: 1 to 86400 seconds");
			o.timeout_s = v;
			break;
		case 'r':
			if (parse_count(optarg, 20, &v) < 0)
				return cli_usage_error("harvest", "--retries: 0 to 20");
			o.retries = (int)v;
			break;
		default:
			return cli_unknown_option("harvest", argv);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("harvest", "run: unexpected argument '%s'",
				       argv[optind + 1]);
	if (optind < argc)
		name = argv[optind];
	if (prl_harvester_global_init() < 0)
		return cli_error("harvest: the HTTP client cannot start");
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	ret = run_all(a, name, &o, json, stdout);
	if (ret < 0)
		ret = cli_error("harvest run: %s", prl_archive_errmsg(a));
	prl_archive_close(a);
	return ret ? EXIT_WORK_FAILED : 0;
}

static int harvest_records(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"offset", required_argument, NULL, 'o'},
		{"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	long offset = 0, limit = 0;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'o' && parse_count(optarg, 1L << 40, &offset) == 0)
			continue;
		if (opt == 'l' && parse_count(optarg, 1000, &limit) == 0)
			continue;
		if (opt == 'o' || opt == 'l')
			return cli_usage_error("harvest", "--%s: '%s' is out of range",
					       opt == 'o' ? "offset" : "limit", optarg);
		return cli_unknown_option("harvest", argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("harvest", "records: one NAME is expected");
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if (prl_archive_partner_records_json(a, argv[optind], offset, limit, &b) < 0)
		ret = cli_error("harvest records: %s", prl_archive_errmsg(a));
	else
		printf("%s\n", prl_buf_str(&b));
	prl_buf_release(&b);
	prl_archive_close(a);
	return ret;
}

int cmd_harvest(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || (cli_wants_help(argc, argv))) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "add"))
		return harvest_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return harvest_list(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return harvest_remove(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return harvest_run(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "records"))
		return harvest_records(c, argc - 1, argv + 1);
	return cli_usage_error("harvest", "'%s' is not add, list, remove, run or records", argv[1]);
}

/* ---- the schedule of `serve --harvest-every HOURS` ---- */

static struct {
	pthread_t thread;     /* the harvesting thread */
	int started;	      /* thread runs */
	atomic_int stop;      /* raised at shutdown */
	pthread_mutex_t lock; /* guards the wait */
	pthread_cond_t wake;  /* signalled at shutdown */
	const char *data_dir; /* the archive's folder */
	double every_s;	      /* seconds between runs' starts */
	int quiet;	      /* no lines on stderr but errors */
} schedule = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *schedule_main(void *arg)
{
	struct prl_harvest_opts o = {0, -1, 0, &schedule.stop, NULL};
	struct timespec next;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &next);
	while (!atomic_load(&schedule.stop)) {
		struct prl_buf err = PRL_BUF_INIT;
		struct prl_archive *a = NULL;
		double s;

		if (prl_archive_open(schedule.data_dir, 0, &a, &err) < 0) {
			fprintf(stderr, "parlers: scheduled harvest: %s\n", prl_buf_str(&err));
		} else {
			FILE *out = schedule.quiet ? NULL : stderr;

			if (out) {
				run_all(a, NULL, &o, 0, out);
			} else {
				FILE *null = fopen("/dev/null", "w");

				if (null) {
					run_all(a, NULL, &o, 0, null);
					fclose(null);
				}
			}
			prl_archive_close(a);
		}
		prl_buf_release(&err);
		s = schedule.every_s;
		next.tv_sec += (time_t)s;
		next.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&schedule.lock);
		while (!atomic_load(&schedule.stop) &&
		       pthread_cond_timedwait(&schedule.wake, &schedule.lock, &next) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&schedule.lock);
		{
			/* a run longer than the period starts the next at once */
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > next.tv_sec + 1)
				next = now;
		}
	}
	return NULL;
}

int cli_harvest_schedule_start(const char *data_dir, double hours, int quiet)
{
	sigset_t block, old;
	int rc;

	if (prl_harvester_global_init() < 0)
		return -PRL_ENOMEM;
	schedule.data_dir = data_dir;
	schedule.every_s = hours * 3600.0;
	schedule.quiet = quiet;
	atomic_store(&schedule.stop, 0);
	/* the server waits for the shutdown signals with sigwait: this thread
	 * must never be the one they are delivered to */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&schedule.thread, NULL, schedule_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -PRL_ENOMEM;
	schedule.started = 1;
	return 0;
}

void cli_harvest_schedule_stop(void)
{
	if (!schedule.started)
		return;
	pthread_mutex_lock(&schedule.lock);
	atomic_store(&schedule.stop, 1);
	pthread_cond_broadcast(&schedule.wake);
	pthread_mutex_unlock(&schedule.lock);
	pthread_join(schedule.thread, NULL);
	schedule.started = 0;
}
