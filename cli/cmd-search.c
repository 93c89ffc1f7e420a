/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers search: every transcript at once, from the command line.  The
 * command line has staff rights; --public answers as an anonymous visitor
 * would be answered.  --json prints the same object as GET /api/search.
 * Also parlers variants import|export: the table of equivalent spellings.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void fmt_time(long long ms, char out[32])
{
	snprintf(out, 32, "%lld:%02lld.%lld", ms / 60000, ms / 1000 % 60, ms / 100 % 10);
}

/* The snippet's HTML as terminal text: <mark> in bold (or [ ] when piped). */
static void print_snippet(const char *html, int tty)
{
	for (const char *p = html; *p;) {
		if (!strncmp(p, "<mark>", 6)) {
			fputs(tty ? "\033[1m" : "[", stdout);
			p += 6;
		} else if (!strncmp(p, "</mark>", 7)) {
			fputs(tty ? "\033[0m" : "]", stdout);
			p += 7;
		} else if (!strncmp(p, "&amp;", 5)) {
			putchar('&');
			p += 5;
		} else if (!strncmp(p, "&lt;", 4)) {
			putchar('<');
			p += 4;
		} else if (!strncmp(p, "&gt;", 4)) {
			putchar('>');
			p += 4;
		} else if (!strncmp(p, "&quot;", 6)) {
			putchar('"');
			p += 6;
		} else if (!strncmp(p, "&apos;", 6)) {
			putchar('\'');
			p += 6;
		} else {
			putchar(*p++);
		}
	}
}

static const char search_usage[] =
	"usage: parlers [-d DIR] search [--json] [--limit N] [--offset N] [--public]\n"
	"         [--tier TYPE] [--place P] [--speaker S] [--variety V]\n"
	"         [--collection C] [--institution SHORT] [--from DATE] [--to DATE]\n"
	"         [--sort relevance|date|place] [--exact] QUERY...\n\n"
	"Searches every transcript. Case and accents do not matter (mezoun finds\n"
	"MÉZOUN); words are ANDed; \"a phrase\"; prefix*; a OR b; -word excludes.\n"
	"Close spellings of a word are found too, after the exact hits and marked\n"
	"as variants (--exact: exact hits only); the staff's table of equivalent\n"
	"spellings ('parlers variants') counts as exact.\n"
	"The command line has staff rights; --public shows what an anonymous\n"
	"visitor gets. --json prints the same object as GET /api/search.\n";

/* Reads search's options into *o, *v and *json (optind is left at the
 * query's first word).  Returns -1 to go on, else the exit status. */
static int search_options(int argc, char **argv, struct prl_search_opts *o, struct prl_viewer *v,
			  int *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"limit", required_argument, NULL, 'l'},
		{"offset", required_argument, NULL, 'o'},
		{"public", no_argument, NULL, 'P'},
		{"tier", required_argument, NULL, 't'},
		{"place", required_argument, NULL, 'p'},
		{"speaker", required_argument, NULL, 's'},
		{"variety", required_argument, NULL, 'v'},
		{"collection", required_argument, NULL, 'c'},
		{"institution", required_argument, NULL, 'i'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 'T'},
		{"sort", required_argument, NULL, 'S'},
		{"exact", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			*json = 1;
			break;
		case 'l':
			o->limit = strtoll(optarg, &end, 10);
			if (*end || o->limit < 1 || o->limit > 200)
				return cli_usage_error("search", "--limit must be 1 to 200");
			break;
		case 'o':
			o->offset = strtoll(optarg, &end, 10);
			if (*end || o->offset < 0)
				return cli_usage_error("search", "--offset must be 0 or more");
			break;
		case 'P':
			*v = PRL_VIEWER_ANONYMOUS;
			break;
		case 't':
			o->tier_type = optarg;
			break;
		case 'p':
			o->place = optarg;
			break;
		case 's':
			o->speaker = optarg;
			break;
		case 'v':
			o->variety = optarg;
			break;
		case 'c':
			o->collection = optarg;
			break;
		case 'i':
			o->institution = optarg;
			break;
		case 'f':
			o->date_from = optarg;
			break;
		case 'T':
			o->date_to = optarg;
			break;
		case 'e':
			o->no_variants = 1;
			break;
		case 'S':
			if (!strcmp(optarg, "relevance"))
				o->sort = PRL_SORT_RELEVANCE;
			else if (!strcmp(optarg, "date"))
				o->sort = PRL_SORT_DATE;
			else if (!strcmp(optarg, "place"))
				o->sort = PRL_SORT_PLACE;
			else
				return cli_usage_error("search",
						       "--sort must be relevance, date or place");
			break;
		case 'h':
			fputs(search_usage, stdout);
			return 0;
		default:
			return cli_unknown_option("search", argv);
		}
	}
	return -1;
}

/* Prints a search answer (GET /api/search's JSON) for a reader: one hit
 * per paragraph, then the totals. */
static int print_hits(const char *answer)
{
	json_t *root, *hit;
	size_t k;

	if (!(root = json_loads(answer, 0, NULL)))
		return cli_error("search: internal error reading the answer");
	json_array_foreach(json_object_get(root, "hits"), k, hit)
	{
		char s[32], e[32];

		fmt_time(json_integer_value(json_object_get(hit, "start_ms")), s);
		fmt_time(json_integer_value(json_object_get(hit, "end_ms")), e);
		printf("%lld  %s [%s–%s] %s%s\n    ",
		       (long long)json_integer_value(json_object_get(hit, "recording_id")),
		       js(hit, "recording_title"), s, e, js(hit, "speaker"),
		       !strcmp(js(hit, "match"), "variant") ? "  (close spelling)" : "");
		print_snippet(js(hit, "snippet"), isatty(STDOUT_FILENO));
		putchar('\n');
		if (*js(hit, "translation"))
			printf("    = %s\n", js(hit, "translation"));
	}
	printf("%lld hit%s (%lld exact)\n",
	       (long long)json_integer_value(json_object_get(root, "total")),
	       json_integer_value(json_object_get(root, "total")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(root, "total_exact")));
	json_decref(root);
	return 0;
}

int cmd_search(struct cli *c, int argc, char **argv)
{
	struct prl_viewer v = PRL_VIEWER_STAFF;
	struct prl_search_opts o;
	struct prl_buf q = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	int json = 0, status, i;

	memset(&o, 0, sizeof(o));
	if ((status = search_options(argc, argv, &o, &v, &json)) >= 0)
		return status;
	status = 0;
	if (optind >= argc)
		return cli_usage_error("search", "what should be searched for?");
	for (i = optind; i < argc; i++)
		prl_buf_addf(&q, "%s%s", i > optind ? " " : "", argv[i]);
	o.query = q.data;
	o.with_groups = 1;
	if (cli_open(c, 0, &a))
		status = EXIT_WORK_FAILED;
	else if (prl_archive_search_json(a, &v, &o, &out) < 0)
		status = cli_error("search: %s", prl_archive_errmsg(a));
	else if (json)
		printf("%s\n", out.data);
	else
		status = print_hits(out.data);
	prl_buf_release(&q);
	prl_buf_release(&out);
	prl_archive_close(a);
	return status;
}

int cmd_variants(struct cli *c, int argc, char **argv)
{
	struct prl_buf data = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	int status = 0;

	if (argc < 2 || cli_wants_help(argc, argv)) {
		printf("usage: parlers [-d DIR] variants import FILE.csv\n"
		       "       parlers [-d DIR] variants export [-o FILE.csv]\n\n"
		       "The table of equivalent spellings search folds together: one group per\n"
		       "line, the spellings separated by commas, e.g.\n"
		       "    mézoun,mézon,maisoun\n"
		       "import replaces the whole table (all or nothing); lines starting with #\n"
		       "are comments.\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "import")) {
		if (argc != 3)
			return cli_usage_error("variants", "import needs one CSV file");
		if (prl_read_file(argv[2], 16u << 20, &data) < 0)
			return cli_error("%s: cannot read: %s", argv[2], strerror(errno));
		if (cli_open(c, 0, &a)) {
			status = EXIT_WORK_FAILED;
		} else if (prl_archive_variants_import_csv(a, data.data, data.len) < 0) {
			status = cli_error("%s: %s", argv[2], prl_archive_errmsg(a));
		}
	} else if (!strcmp(argv[1], "export")) {
		const char *path = NULL;

		if (argc == 4 && !strcmp(argv[2], "-o"))
			path = argv[3];
		else if (argc != 2)
			return cli_usage_error("variants", "export takes only -o FILE");
		if (cli_open(c, 0, &a)) {
			status = EXIT_WORK_FAILED;
		} else if (prl_archive_variants_export_csv(a, &data) < 0) {
			status = cli_error("variants: %s", prl_archive_errmsg(a));
		} else if (path) {
			FILE *f = fopen(path, "wb");

			if (!f || fwrite(prl_buf_str(&data), 1, data.len, f) != data.len ||
			    fclose(f) != 0)
				status = cli_error("%s: cannot write: %s", path, strerror(errno));
		} else {
			fputs(prl_buf_str(&data), stdout);
		}
	} else {
		status = cli_usage_error("variants", "'%s': expected import or export", argv[1]);
	}
	prl_archive_close(a);
	prl_buf_release(&data);
	return status;
}

int cmd_reindex(struct cli *c, int argc, char **argv)
{
	struct prl_archive *a;
	int status = 0;

	if (cli_wants_help(argc, argv)) {
		printf("usage: parlers [-d DIR] reindex\n\n"
		       "Rebuilds the search index from every segment, in one transaction. The\n"
		       "index is kept in step with every import and edit; this is for repairs and\n"
		       "for archives made before a change to how text is folded.\n");
		return 0;
	}
	if (argc > 1)
		return cli_usage_error("reindex", "unexpected argument '%s'", argv[1]);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (prl_archive_reindex(a) < 0)
		status = cli_error("reindex: %s", prl_archive_errmsg(a));
	prl_archive_close(a);
	return status;
}
