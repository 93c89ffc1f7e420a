/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers speaker list|edit|merge: the people of the recordings as
 * records of their own, edited once for all their recordings and merged
 * when one person was entered twice (GET /api/speakers, PATCH
 * /api/speakers/{id}, POST /api/speakers/{id}/merge).  The same steps
 * serve `parlers place` (cmd-place.c) through cli_records().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* Prints the list as lines: id, count of recordings, name (and for a
 * speaker, the pseudonym shown in public). */
static void print_lines(const char *json, const char *key)
{
	json_t *root = json_loads(json, 0, NULL), *r;
	size_t i;

	json_array_foreach(json_object_get(root, key), i, r)
	{
		const char *pseudo = json_string_value(json_object_get(r, "pseudonym"));

		printf("%lld\t%lld\t%s", (long long)json_integer_value(json_object_get(r, "id")),
		       (long long)json_integer_value(json_object_get(r, "recordings")),
		       json_string_value(json_object_get(r, "name")));
		if (pseudo)
			printf("\t(shown as %s)", pseudo);
		putchar('\n');
	}
	json_decref(root);
}

int cli_records(struct cli *c, int argc, char **argv, const struct cli_records_kind *k)
{
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	json_t *o = json_object();
	const char *verb;
	int64_t id = 0, into = 0;
	char *body = NULL;
	int opt, json = 0, nset = 0, ret;

	if (!o)
		return cli_error("out of memory");
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1 || optind < argc) {
		if (opt == -1) { /* a word: the verb or an id; options may follow */
			optind++;
			continue;
		}
		switch (opt) {
		case 's':
			if ((ret = cli_set_field(o, k->cmd, optarg, k->numbers)) != 0)
				goto end;
			nset++;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(k->help, stdout);
			ret = 0;
			goto end;
		default:
			ret = cli_unknown_option(k->cmd, argv);
			goto end;
		}
	}
	/* the words, in order, without the options */
	{
		const char *words[4] = {NULL, NULL, NULL, NULL};
		int n = 0;

		for (int i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--set")) {
				i++;
				continue;
			}
			if (argv[i][0] == '-')
				continue;
			if (n < 4)
				words[n] = argv[i];
			n++;
		}
		verb = words[0];
		if (!verb) {
			ret = cli_usage_error(k->cmd, "list, edit or merge is expected");
			goto end;
		}
		if (!strcmp(verb, "list")) {
			if (n != 1) {
				ret = cli_usage_error(k->cmd, "list takes no argument");
				goto end;
			}
		} else if (!strcmp(verb, "edit")) {
			if (n != 2 || cli_parse_id(words[1], &id) < 0) {
				ret = cli_usage_error(k->cmd, "edit takes one id");
				goto end;
			}
			if (!nset) {
				ret = cli_usage_error(k->cmd, "nothing to change: give --set F=V");
				goto end;
			}
		} else if (!strcmp(verb, "merge")) {
			if (n != 3 || cli_parse_id(words[1], &id) < 0 ||
			    cli_parse_id(words[2], &into) < 0) {
				ret = cli_usage_error(k->cmd, "merge takes two ids: FROM INTO");
				goto end;
			}
		} else {
			ret = cli_usage_error(k->cmd, "'%s': list, edit or merge is expected",
					      verb);
			goto end;
		}
	}
	if ((ret = cli_open(c, 0, &a)) != 0)
		goto end;
	if (!strcmp(verb, "list")) {
		ret = k->list(a, 0, &out);
	} else if (!strcmp(verb, "edit")) {
		if (!(body = json_dumps(o, JSON_COMPACT))) {
			ret = cli_error("out of memory");
			goto end;
		}
		ret = k->edit(a, &staff, id, body, strlen(body), &out);
	} else {
		ret = k->merge(a, &staff, id, into, &out);
	}
	if (ret < 0) {
		ret = cli_error("%s %s: %s", k->cmd, verb, prl_archive_errmsg(a));
		goto end;
	}
	if (!json && !strcmp(verb, "list"))
		print_lines(prl_buf_str(&out), k->key);
	else
		printf("%s\n", prl_buf_str(&out));
	ret = 0;
end:
	free(body);
	json_decref(o);
	prl_buf_release(&out);
	prl_archive_close(a);
	return ret;
}

int cmd_speaker(struct cli *c, int argc, char **argv)
{
	static const char *const numbers[] = {"birth_year", NULL};
	static const struct cli_records_kind k = {
		"speaker",
		"speakers",
		"usage: parlers [-d DIR] speaker list [--json]\n"
		"       parlers [-d DIR] speaker edit ID --set FIELD=VALUE...\n"
		"       parlers [-d DIR] speaker merge FROM INTO\n\n"
		"The speakers of the recordings. edit changes name, pseudonym, birth_year, sex,\n"
		"occupation, origin or consent for all of their recordings (an empty VALUE\n"
		"clears it); while a pseudonym is set, it is the only name every public way out\n"
		"shows. merge makes FROM's recordings INTO's and removes FROM.\n",
		numbers,
		prl_archive_speakers_json,
		prl_archive_speaker_edit,
		prl_archive_speaker_merge,
	};

	return cli_records(c, argc, argv, &k);
}
