/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers theme add|list|edit|delete|tag|untag: the controlled list of
 * themes (la mer, les métiers, la ferme, ...) and their tags on
 * recordings and segments.  The command line has staff rights: it tags
 * any recording and counts every one; list --json prints the object of
 * GET /api/themes as staff get it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parlers [-d DIR] theme add SLUG NAME [--description TEXT]\n"
		"       parlers [-d DIR] theme list [--json]\n"
		"       parlers [-d DIR] theme edit SLUG [--name NAME] [--slug NEW]"
		" [--description TEXT]\n"
		"       parlers [-d DIR] theme delete SLUG\n"
		"       parlers [-d DIR] theme tag|untag SLUG (--recording ID | --segment ID)\n\n"
		"Themes are a controlled list that recordings and their segments are\n"
		"tagged with. A slug is 1 to 64 lowercase letters, digits or '-'; an\n"
		"empty --description clears it. Deleting a theme removes its tags.\n");
}

/* An id from text: > 0, all digits. */
static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int list_themes(struct prl_archive *a, int json)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	json_t *root, *o;
	size_t i;
	int status = 0;

	if (prl_archive_themes_json(a, &staff, &out) < 0) {
		status = cli_error("theme list: %s", prl_archive_errmsg(a));
	} else if (json) {
		printf("%s\n", prl_buf_str(&out));
	} else if (!(root = json_loads(prl_buf_str(&out), 0, NULL))) {
		status = cli_error("theme list: unreadable answer");
	} else {
		json_array_foreach(json_object_get(root, "themes"), i, o)
		{
			printf("%-24s %5lld  %s\n", json_string_value(json_object_get(o, "slug")),
			       (long long)json_integer_value(json_object_get(o, "recordings")),
			       json_string_value(json_object_get(o, "name")));
		}
		json_decref(root);
	}
	prl_buf_release(&out);
	return status;
}

int cmd_theme(struct cli *c, int argc, char **argv)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	const char *verb, *args[2] = {NULL, NULL}, *name = NULL, *slug = NULL, *desc = NULL;
	enum prl_theme_target target = PRL_THEME_RECORDING;
	struct prl_archive *a = NULL;
	int nargs = 0, json = 0, status = 0, ret = 0, want, tagging;
	int64_t id = 0;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error("theme", "add, list, edit, delete, tag or untag expected");
	verb = argv[1];
	tagging = !strcmp(verb, "tag") || !strcmp(verb, "untag");
	if (!strcmp(verb, "add"))
		want = 2;
	else if (!strcmp(verb, "list"))
		want = 0;
	else if (!strcmp(verb, "edit") || !strcmp(verb, "delete") || tagging)
		want = 1;
	else
		return cli_usage_error(
			"theme", "'%s': add, list, edit, delete, tag or untag expected", verb);
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = !strcmp(o, "--name") || !strcmp(o, "--slug") ||
			    !strcmp(o, "--description") || !strcmp(o, "--recording") ||
			    !strcmp(o, "--segment");

		if (!strcmp(o, "--json") && !strcmp(verb, "list")) {
			json = 1;
			continue;
		}
		if (takes && !v)
			return cli_usage_error("theme", "%s: %s needs a value", verb, o);
		if ((!strcmp(o, "--name") || !strcmp(o, "--slug")) && !strcmp(verb, "edit"))
			*(o[2] == 'n' ? &name : &slug) = v;
		else if (!strcmp(o, "--description") &&
			 (!strcmp(verb, "edit") || !strcmp(verb, "add")))
			desc = v;
		else if ((!strcmp(o, "--recording") || !strcmp(o, "--segment")) && tagging) {
			if (id)
				return cli_usage_error("theme", "%s: one recording or segment",
						       verb);
			if (parse_id(v, &id) < 0)
				return cli_usage_error("theme", "%s: %s: '%s' is no id", verb, o,
						       v);
			target = o[2] == 'r' ? PRL_THEME_RECORDING : PRL_THEME_SEGMENT;
		} else if (o[0] == '-' && o[1])
			return cli_usage_error("theme", "%s: unknown option '%s'", verb, o);
		else if (nargs < want) {
			args[nargs++] = o;
			continue;
		} else
			return cli_usage_error("theme", "%s: unexpected argument '%s'", verb, o);
		i++;
	}
	if (nargs < want)
		return cli_usage_error("theme", "%s: %s expected", verb,
				       want == 2 ? "a SLUG and a NAME" : "a SLUG");
	if (tagging && !id)
		return cli_usage_error("theme", "%s: --recording ID or --segment ID expected",
				       verb);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (!strcmp(verb, "list")) {
		status = list_themes(a, json);
	} else {
		if (!strcmp(verb, "add"))
			ret = prl_archive_theme_add(a, args[0], args[1], desc);
		else if (!strcmp(verb, "edit"))
			ret = prl_archive_theme_edit(a, args[0], slug, name, desc);
		else if (!strcmp(verb, "delete"))
			ret = prl_archive_theme_delete(a, args[0]);
		else
			ret = prl_archive_theme_tag(a, &staff, args[0], target, id,
						    !strcmp(verb, "untag"));
		if (ret < 0)
			status = cli_error("theme %s: %s", verb, prl_archive_errmsg(a));
		else if (tagging)
			printf("%s %lld %s %s\n",
			       target == PRL_THEME_RECORDING ? "recording" : "segment",
			       (long long)id, !strcmp(verb, "tag") ? "tagged" : "untagged",
			       args[0]);
		else
			printf("theme %s %s\n", slug && !strcmp(verb, "edit") ? slug : args[0],
			       !strcmp(verb, "add")    ? "added"
			       : !strcmp(verb, "edit") ? "changed"
						       : "deleted");
	}
	prl_archive_close(a);
	return status;
}
