/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers route import|list|show|delete: the thematic routes ("parcours")
 * that lead the public from one recorded passage to the next across
 * collections and institutions.  A route is written from a JSON file
 * (import) whole or not at all; list --json and show --json print the
 * objects of GET /api/routes and GET /api/routes/{slug}, with the command
 * line's staff rights (every stop shown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define ROUTE_FILE_MAX (4u << 20) /* bytes of a route's JSON file */

static void usage(FILE *f)
{
	fprintf(f, "usage: parlers [-d DIR] route import FILE.json [--replace]\n"
		   "       parlers [-d DIR] route list [--json]\n"
		   "       parlers [-d DIR] route show SLUG [--json]\n"
		   "       parlers [-d DIR] route delete SLUG\n\n"
		   "Thematic routes: ordered stops, each a span of a recording with a\n"
		   "commentary. FILE.json holds\n"
		   "  {\"slug\": \"la-mer\", \"title\": \"...\", \"intro\": \"...\",\n"
		   "   \"stops\": [{\"recording_id\": 4, \"start_ms\": 1000, \"end_ms\": 9000,\n"
		   "              \"title\": \"...\", \"note\": \"...\"}, ...]}\n"
		   "A slug is 1 to 64 lowercase letters, digits or '-'; an existing route is\n"
		   "replaced only with --replace.\n");
}

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int print_route(json_t *r)
{
	json_t *stop;
	size_t i;

	printf("%s\n%s\n", js(r, "title"), js(r, "slug"));
	if (*js(r, "intro"))
		printf("\n%s\n", js(r, "intro"));
	printf("\n");
	json_array_foreach(json_object_get(r, "stops"), i, stop)
	{
		json_int_t s = json_integer_value(json_object_get(stop, "start_ms"));
		json_int_t e = json_integer_value(json_object_get(stop, "end_ms"));

		printf("%3lld. recording %lld, %lld.%03lld-%lld.%03lld s  %s\n",
		       (long long)json_integer_value(json_object_get(stop, "n")),
		       (long long)json_integer_value(json_object_get(stop, "recording_id")),
		       (long long)(s / 1000), (long long)(s % 1000), (long long)(e / 1000),
		       (long long)(e % 1000), js(stop, "title"));
		if (*js(stop, "note"))
			printf("     %s\n", js(stop, "note"));
	}
	return 0;
}

static int print_answer(const char *verb, const char *data, int json)
{
	json_t *root, *o;
	size_t i;

	if (json) {
		printf("%s\n", data);
		return 0;
	}
	if (!(root = json_loads(data, 0, NULL)))
		return cli_error("route %s: unreadable answer", verb);
	if (!strcmp(verb, "show")) {
		print_route(root);
	} else {
		json_array_foreach(json_object_get(root, "routes"), i, o)
		{
			printf("%-24s %3lld stops  %s\n", js(o, "slug"),
			       (long long)json_integer_value(json_object_get(o, "stops")),
			       js(o, "title"));
		}
	}
	json_decref(root);
	return 0;
}

/* import FILE [--replace] */
static int route_import(struct prl_archive *a, const char *path, int replace)
{
	struct prl_buf data = PRL_BUF_INIT, slug = PRL_BUF_INIT;
	int ret, status = 0;

	if ((ret = prl_read_file(path, ROUTE_FILE_MAX, &data)) < 0) {
		status = cli_error("route import: %s: %s", path,
				   ret == -PRL_EINVAL ? "larger than 4 MB" : prl_strerror(ret));
	} else if ((ret = prl_archive_parcours_import(a, prl_buf_str(&data), data.len, replace,
						      &slug)) < 0) {
		status = cli_error("route import: %s: %s", path, prl_archive_errmsg(a));
	} else {
		printf("route %s %s\n", prl_buf_str(&slug), replace ? "written" : "added");
	}
	prl_buf_release(&data);
	prl_buf_release(&slug);
	return status;
}

int cmd_route(struct cli *c, int argc, char **argv)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	const char *verb, *arg = NULL;
	int status = 0, ret = 0, json = 0, replace = 0;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error("route", "import, list, show or delete expected");
	verb = argv[1];
	if (strcmp(verb, "import") && strcmp(verb, "list") && strcmp(verb, "show") &&
	    strcmp(verb, "delete"))
		return cli_usage_error("route", "'%s': import, list, show or delete expected",
				       verb);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && strcmp(verb, "import") && strcmp(verb, "delete"))
			json = 1;
		else if (!strcmp(argv[i], "--replace") && !strcmp(verb, "import"))
			replace = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("route", "%s: unknown option '%s'", verb, argv[i]);
		else if (!arg && strcmp(verb, "list"))
			arg = argv[i];
		else
			return cli_usage_error("route", "%s: unexpected argument '%s'", verb,
					       argv[i]);
	}
	if (!arg && strcmp(verb, "list"))
		return cli_usage_error("route", "%s: %s expected", verb,
				       strcmp(verb, "import") ? "a SLUG" : "a FILE.json");
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (!strcmp(verb, "import")) {
		status = route_import(a, arg, replace);
	} else {
		if (!strcmp(verb, "list"))
			ret = prl_archive_parcours_list_json(a, &staff, &out);
		else if (!strcmp(verb, "show"))
			ret = prl_archive_parcours_json(a, &staff, arg, &out);
		else
			ret = prl_archive_parcours_delete(a, arg);
		if (ret < 0)
			status = cli_error("route %s: %s", verb, prl_archive_errmsg(a));
		else if (out.len)
			status = print_answer(verb, prl_buf_str(&out), json);
		else
			printf("route %s deleted\n", arg);
	}
	prl_buf_release(&out);
	prl_archive_close(a);
	return status;
}
