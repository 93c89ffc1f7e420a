/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers institution add|edit|list|show: the depositors of the network
 * (museums, associations, archives...).  A short name (lowercase letters,
 * digits, hyphens) is each one's key here and in URLs.  list --json and
 * show --json print the objects of GET /api/institutions and
 * GET /api/institutions/{short}, with the command line's staff rights.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parlers [-d DIR] institution add SHORT --name NAME [FIELDS]\n"
		"       parlers [-d DIR] institution edit SHORT [--short NEW] [--name NAME] "
		"[FIELDS]\n"
		"       parlers [-d DIR] institution list [--json]\n"
		"       parlers [-d DIR] institution show SHORT [--json]\n\n"
		"The institutions of the network: museums, associations, archives, libraries,\n"
		"research centres. SHORT is 1 to %d lowercase letters, digits or '-'.\n"
		"FIELDS: --kind K  --description-fr TEXT  --description-en TEXT  --address A\n"
		"        --commune C  --lat N --lon N  --website URL  --contact C\n"
		"        --rights R (what its recordings carry when their sidecar says none)\n"
		"edit changes only the fields given; an empty value clears one.\n",
		PRL_SHORT_MAX);
}

/* A coordinate into *out; 0, or -1 when it is no number. */
static int parse_coord(const char *s, double *out)
{
	char *end;
	double d = strtod(s, &end);

	if (!*s || *end || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

/* Reads the fields of add and edit into *in and the SHORT argument into
 * *short_name.  Returns -1 to go on, else the exit status. */
static int field_options(int argc, char **argv, const char *verb, struct prl_institution *in,
			 const char **short_name)
{
	static const struct option opts[] = {
		{"short", required_argument, NULL, 'S'},
		{"name", required_argument, NULL, 'n'},
		{"kind", required_argument, NULL, 'k'},
		{"description-fr", required_argument, NULL, 'f'},
		{"description-en", required_argument, NULL, 'e'},
		{"address", required_argument, NULL, 'a'},
		{"commune", required_argument, NULL, 'c'},
		{"lat", required_argument, NULL, 'y'},
		{"lon", required_argument, NULL, 'x'},
		{"website", required_argument, NULL, 'w'},
		{"contact", required_argument, NULL, 'C'},
		{"rights", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	int opt, has_lat = 0, has_lon = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (strcmp(verb, "edit") != 0)
				return cli_usage_error("institution", "--short goes with edit");
			in->short_name = optarg;
			break;
		case 'n':
			in->name = optarg;
			break;
		case 'k':
			in->kind = optarg;
			break;
		case 'f':
			in->description_fr = optarg;
			break;
		case 'e':
			in->description_en = optarg;
			break;
		case 'a':
			in->address = optarg;
			break;
		case 'c':
			in->commune = optarg;
			break;
		case 'y':
			if (parse_coord(optarg, &in->lat) < 0)
				return cli_usage_error("institution", "--lat: '%s' is no number",
						       optarg);
			has_lat = 1;
			break;
		case 'x':
			if (parse_coord(optarg, &in->lon) < 0)
				return cli_usage_error("institution", "--lon: '%s' is no number",
						       optarg);
			has_lon = 1;
			break;
		case 'w':
			in->website = optarg;
			break;
		case 'C':
			in->contact = optarg;
			break;
		case 'r':
			in->rights = optarg;
			break;
		default:
			return cli_unknown_option("institution", argv);
		}
	}
	if (has_lat != has_lon)
		return cli_usage_error("institution", "--lat and --lon go together");
	in->has_coords = has_lat;
	if (optind >= argc)
		return cli_usage_error("institution", "%s: a SHORT name is expected", verb);
	if (optind + 1 < argc)
		return cli_usage_error("institution", "unexpected argument '%s'", argv[optind + 1]);
	*short_name = argv[optind];
	if (!prl_institution_short_valid(*short_name))
		return cli_usage_error("institution",
				       "'%s' is no short name: 1 to %d lowercase letters, "
				       "digits or '-'",
				       *short_name, PRL_SHORT_MAX);
	if (!strcmp(verb, "add") && !in->name)
		return cli_usage_error("institution", "add: --name is expected");
	return -1;
}

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* One institution for a reader: a labelled line per field with a value. */
static void print_institution(json_t *o)
{
	static const char *const fields[] = {"kind",	"address", "commune",
					     "website", "contact", "rights"};
	json_t *d = json_object_get(o, "description");

	printf("%s\n  short        %s\n", js(o, "name"), js(o, "short"));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (*js(o, fields[i]))
			printf("  %-12s %s\n", fields[i], js(o, fields[i]));
	if (json_is_number(json_object_get(o, "lat")))
		printf("  coordinates  %.6f, %.6f\n", json_number_value(json_object_get(o, "lat")),
		       json_number_value(json_object_get(o, "lon")));
	if (*js(d, "fr"))
		printf("  description  %s\n", js(d, "fr"));
	if (*js(d, "en"))
		printf("  (en)         %s\n", js(d, "en"));
	printf("  collections  %lld\n  recordings   %lld\n",
	       (long long)json_integer_value(json_object_get(o, "collections")),
	       (long long)json_integer_value(json_object_get(o, "recordings")));
}

/* list and show: the JSON as is, or read for a reader. */
static int print_json(const char *verb, const char *data, int json)
{
	json_t *root, *o;
	size_t i;

	if (json) {
		printf("%s\n", data);
		return 0;
	}
	if (!(root = json_loads(data, 0, NULL)))
		return cli_error("institution %s: unreadable answer", verb);
	if (!strcmp(verb, "show")) {
		print_institution(root);
	} else {
		json_array_foreach(json_object_get(root, "institutions"), i, o)
		{
			printf("%-20s %s%s%s%s\n", js(o, "short"), js(o, "name"),
			       *js(o, "kind") ? " (" : "", js(o, "kind"),
			       *js(o, "kind") ? ")" : "");
		}
	}
	json_decref(root);
	return 0;
}

int cmd_institution(struct cli *c, int argc, char **argv)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_institution in;
	struct prl_archive *a = NULL;
	const char *verb, *short_name = NULL;
	int status, ret, json = 0;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error("institution", "add, edit, list or show expected");
	verb = argv[1];
	memset(&in, 0, sizeof(in));
	if (!strcmp(verb, "add") || !strcmp(verb, "edit")) {
		if ((status = field_options(argc - 1, argv + 1, verb, &in, &short_name)) >= 0)
			return status;
	} else if (!strcmp(verb, "list") || !strcmp(verb, "show")) {
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				json = 1;
			else if (argv[i][0] == '-')
				return cli_usage_error("institution", "unknown option '%s'",
						       argv[i]);
			else if (!short_name && !strcmp(verb, "show"))
				short_name = argv[i];
			else
				return cli_usage_error("institution", "unexpected argument '%s'",
						       argv[i]);
		}
		if (!strcmp(verb, "show") && !short_name)
			return cli_usage_error("institution", "show: a SHORT name is expected");
	} else {
		return cli_usage_error("institution", "'%s': add, edit, list or show expected",
				       verb);
	}
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (!strcmp(verb, "add"))
		ret = prl_archive_institution_add(a, (in.short_name = short_name, &in));
	else if (!strcmp(verb, "edit"))
		ret = prl_archive_institution_edit(a, short_name, &in);
	else if (!strcmp(verb, "list"))
		ret = prl_archive_institutions_json(a, &staff, &out);
	else
		ret = prl_archive_institution_json(a, &staff, short_name, &out);
	if (ret < 0)
		status = cli_error("institution %s: %s", verb, prl_archive_errmsg(a));
	else if (out.len)
		status = print_json(verb, prl_buf_str(&out), json);
	else
		status = 0;
	prl_buf_release(&out);
	prl_archive_close(a);
	return status;
}
