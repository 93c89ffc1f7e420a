/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers edit ID --set FIELD=VALUE...: corrects a recording's metadata
 * as PATCH /api/recordings/{id} does, with the command line's staff
 * rights: the same checks as a metadata sidecar's, one history row.
 * Also the --set parsing that `speaker edit` and `place edit` share.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: parlers [-d DIR] edit ID --set FIELD=VALUE... [--version N] [--json]\n\n"
		   "Corrects recording ID's metadata. FIELD is one of title, date, collection,\n"
		   "place, variety, language, collector, device, rights, description, keywords,\n"
		   "speakers, access; VALUE as in a metadata sidecar (see README), where keywords\n"
		   "may be a comma-separated list, speakers a comma-separated list of names, and\n"
		   "place, keywords and speakers JSON ({...} or [...]). An empty VALUE clears\n"
		   "the field. --version N applies the change only if the recording is still at\n"
		   "version N. Prints the new version, or with --json the recording.\n");
}

/* A comma-separated list as a JSON array of trimmed strings (or of
 * {"name"} objects with as_names). */
static json_t *split_list(const char *s, int as_names)
{
	json_t *arr = json_array();
	const char *p = s;

	while (arr && *p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		char *item;

		while (p < end && *p == ' ')
			p++;
		while (end > p && end[-1] == ' ')
			end--;
		if (end > p && (item = strndup(p, (size_t)(end - p)))) {
			json_array_append_new(arr, as_names ? json_pack("{s:s}", "name", item)
							    : json_string(item));
			free(item);
		}
		p = comma ? comma + 1 : p + strlen(p);
	}
	return arr;
}

static int is_one_of(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(name, *list))
			return 1;
	return 0;
}

int cli_set_field(json_t *o, const char *cmd, const char *assignment, const char *const *numbers)
{
	const char *eq = strchr(assignment, '=');
	json_t *v;
	char *name;

	if (!eq || eq == assignment)
		return cli_usage_error(cmd, "--set takes FIELD=VALUE, not '%s'", assignment);
	if (!(name = strndup(assignment, (size_t)(eq - assignment))))
		return cli_error("out of memory");
	eq++;
	if (!*eq) {
		v = json_null();
	} else if (*eq == '[' || *eq == '{' || is_one_of(name, numbers)) {
		json_error_t jerr;

		if (!(v = json_loads(eq, JSON_DECODE_ANY, &jerr))) {
			free(name);
			return cli_usage_error(cmd, "--set %.*s: %s", (int)(eq - 1 - assignment),
					       assignment, jerr.text);
		}
	} else if (!strcmp(name, "keywords") || !strcmp(name, "speakers")) {
		v = split_list(eq, !strcmp(name, "speakers"));
	} else {
		v = json_string(eq);
	}
	if (!v || json_object_set_new(o, name, v) < 0) {
		free(name);
		return cli_error("--set %s: not valid UTF-8", assignment);
	}
	free(name);
	return 0;
}

int cmd_edit(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'},
		{"version", required_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	json_t *o = json_object(), *rec;
	int opt, json = 0, ret, nset = 0;
	int64_t id, version;
	char *body = NULL;

	if (!o)
		return cli_error("out of memory");
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if ((ret = cli_set_field(o, "edit", optarg, NULL)) != 0)
				goto end;
			nset++;
			break;
		case 'V':
			if (cli_parse_id(optarg, &version) < 0) {
				ret = cli_usage_error("edit", "--version: a whole number > 0");
				goto end;
			}
			json_object_set_new(o, "version", json_integer((json_int_t)version));
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto end;
		default:
			ret = cli_unknown_option("edit", argv);
			goto end;
		}
	}
	if (optind != argc - 1 || cli_parse_id(argv[optind], &id) < 0) {
		ret = cli_usage_error("edit", "one recording id is expected");
		goto end;
	}
	if (!nset) {
		ret = cli_usage_error("edit", "nothing to change: give --set FIELD=VALUE");
		goto end;
	}
	if ((ret = cli_open(c, 0, &a)) != 0)
		goto end;
	if (!(body = json_dumps(o, JSON_COMPACT))) {
		ret = cli_error("out of memory");
		goto end;
	}
	if ((ret = prl_archive_recording_edit(a, &staff, id, body, strlen(body), &out)) < 0) {
		ret = cli_error("edit %lld: %s", (long long)id, prl_archive_errmsg(a));
		goto end;
	}
	if (json) {
		printf("%s\n", prl_buf_str(&out));
	} else if ((rec = json_loads(prl_buf_str(&out), 0, NULL))) {
		printf("recording %lld: version %lld\n", (long long)id,
		       (long long)json_integer_value(json_object_get(rec, "version")));
		json_decref(rec);
	}
	ret = 0;
end:
	free(body);
	json_decref(o);
	prl_buf_release(&out);
	prl_archive_close(a);
	return ret;
}
