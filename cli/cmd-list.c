/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers list and parlers show: what the archive holds.  --json prints the
 * same objects as the HTTP API (/api/recordings, /api/recordings/{id});
 * the plain forms are made from that JSON so the two never disagree.
 * The command line runs with staff rights: it sees private recordings.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void fmt_duration(long long ms, char out[32])
{
	long long s = (ms + 500) / 1000;

	if (s >= 3600)
		snprintf(out, 32, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, 32, "%lld:%02lld", s / 60, s % 60);
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"place", required_argument, NULL, 'p'},
		{"speaker", required_argument, NULL, 's'},
		{"variety", required_argument, NULL, 'v'},
		{"collection", required_argument, NULL, 'c'},
		{"institution", required_argument, NULL, 'i'},
		{"public", no_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct prl_recording_filter f;
	struct prl_viewer v = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	json_t *root = NULL, *rec;
	size_t i;
	int json = 0, opt, ret, status = 0;

	memset(&f, 0, sizeof(f));
	f.limit = 500;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'p':
			f.place = optarg;
			break;
		case 's':
			f.speaker = optarg;
			break;
		case 'v':
			f.variety = optarg;
			break;
		case 'c':
			f.collection = optarg;
			break;
		case 'i':
			f.institution = optarg;
			break;
		case 'P':
			v = PRL_VIEWER_ANONYMOUS;
			break;
		case 'h':
			printf("usage: parlers [-d DIR] list [--json] [--place P] [--speaker S]\n"
			       "                        [--variety V] [--collection C] "
			       "[--institution SHORT] [--public]\n\n"
			       "Lists the recordings (all of them: the command line has staff "
			       "rights;\n"
			       "--public shows what an anonymous visitor would see). --json "
			       "prints\n"
			       "the same object as GET /api/recordings: {total, offset, "
			       "recordings}.\n");
			return 0;
		default:
			return cli_unknown_option("list", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if ((ret = prl_archive_list_json(a, &v, &f, &out)) < 0) {
		status = cli_error("list: %s", prl_archive_errmsg(a));
		goto end;
	}
	if (json) {
		printf("%s\n", out.data);
		goto end;
	}
	if (!(root = json_loads(out.data, 0, NULL))) {
		status = cli_error("list: internal error reading the listing");
		goto end;
	}
	json_array_foreach(json_object_get(root, "recordings"), i, rec)
	{
		char d[32];
		json_t *place = json_object_get(rec, "place");

		fmt_duration(json_integer_value(json_object_get(rec, "duration_ms")), d);
		printf("%4lld  %-10s %8s  %-10s  %s%s%s\n",
		       (long long)json_integer_value(json_object_get(rec, "id")), js(rec, "access"),
		       d, js(rec, "date"), js(rec, "title"), json_is_object(place) ? " — " : "",
		       json_is_object(place) ? js(place, "name") : "");
	}
	printf("%lld recording%s\n", (long long)json_integer_value(json_object_get(root, "total")),
	       json_integer_value(json_object_get(root, "total")) == 1 ? "" : "s");
end:
	json_decref(root);
	prl_buf_release(&out);
	prl_archive_close(a);
	return status;
}

/* Prints a recording (GET /api/recordings/ID's JSON) for a reader: one
 * labelled line per field that has a value. */
static void print_recording(json_t *r, int64_t id)
{
	json_t *x, *place = json_object_get(r, "place");
	size_t i;
	char d[32];

	fmt_duration(json_integer_value(json_object_get(r, "duration_ms")), d);
	printf("%s\n", js(r, "title"));
	printf("  id           %lld\n", (long long)id);
	printf("  access       %s\n", js(r, "access"));
	if (*js(r, "date"))
		printf("  date         %s\n", js(r, "date"));
	if (*js(r, "collection"))
		printf("  collection   %s\n", js(r, "collection"));
	x = json_object_get(r, "institution");
	if (json_is_object(x))
		printf("  institution  %s (%s)\n", js(x, "name"), js(x, "short"));
	if (json_is_object(place))
		printf("  place        %s%s%s%s\n", js(place, "name"),
		       *js(place, "commune") ? " (" : "", js(place, "commune"),
		       *js(place, "commune") ? ")" : "");
	if (*js(r, "variety"))
		printf("  variety      %s%s%s%s\n", js(r, "variety"),
		       *js(r, "language") ? " [" : "", js(r, "language"),
		       *js(r, "language") ? "]" : "");
	if (*js(r, "collector"))
		printf("  collector    %s\n", js(r, "collector"));
	json_array_foreach(json_object_get(r, "speakers"), i, x)
	{
		printf("  %-12s %s", i ? "" : "speakers", js(x, "name"));
		if (json_integer_value(json_object_get(x, "birth_year")))
			printf(" (b. %lld)",
			       (long long)json_integer_value(json_object_get(x, "birth_year")));
		printf(", %s\n", js(x, "role"));
	}
	if (*js(r, "rights"))
		printf("  rights       %s\n", js(r, "rights"));
	printf("  audio        %s, %s, %lld Hz, %lld ch, %s\n", js(r, "original_name"),
	       js(r, "original_codec"),
	       (long long)json_integer_value(json_object_get(r, "sample_rate")),
	       (long long)json_integer_value(json_object_get(r, "channels")), d);
	if (json_is_number(json_object_get(r, "loudness_lufs")))
		printf("  loudness     %.1f LUFS, range %.1f LU, true peak %.1f dBTP, gain %+.1f "
		       "dB\n",
		       json_number_value(json_object_get(r, "loudness_lufs")),
		       json_number_value(json_object_get(r, "loudness_range_lu")),
		       json_number_value(json_object_get(r, "true_peak_dbtp")),
		       json_number_value(json_object_get(r, "gain_db")));
	printf("  sha256       %s\n", js(r, "sha256"));
	if (*js(r, "description"))
		printf("  description  %s\n", js(r, "description"));
	json_array_foreach(json_object_get(r, "tiers"), i, x)
	{
		printf("  %-12s %s (%s%s%s), %zu segment%s\n", i ? "" : "tiers", js(x, "name"),
		       js(x, "type"), *js(x, "language") ? ", " : "", js(x, "language"),
		       json_array_size(json_object_get(x, "segments")),
		       json_array_size(json_object_get(x, "segments")) == 1 ? "" : "s");
	}
}

int cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct prl_viewer v = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	json_t *r = NULL;
	int64_t id;
	int json = 0, opt, status = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: parlers [-d DIR] show ID [--json]\n\n"
			       "Shows one recording: metadata, speakers, loudness, stored files "
			       "and\n"
			       "tiers. --json prints the same object as GET /api/recordings/ID.\n");
			return 0;
		default:
			return cli_unknown_option("show", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("show", "which recording? (an ID)");
	if (optind + 1 < argc)
		return cli_usage_error("show", "unexpected argument '%s'", argv[optind + 1]);
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("show", "'%s' is not a recording id", argv[optind]);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (prl_archive_recording_json(a, &v, id, &out) < 0)
		status = cli_error("show: %s", prl_archive_errmsg(a));
	else if (json)
		printf("%s\n", out.data);
	else if (!(r = json_loads(out.data, 0, NULL)))
		status = cli_error("show: internal error reading the recording");
	else
		print_recording(r, id);
	json_decref(r);
	prl_buf_release(&out);
	prl_archive_close(a);
	return status;
}
