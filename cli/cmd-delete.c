/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers delete ID --reason TEXT, restore-deleted ID, trash, and
 * purge-trash: a recording deleted leaves every way out at once and waits
 * in the trash (30 days unless said otherwise) where it can be restored,
 * until a purge removes its rows and files for good.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* Options shared by the four: --reason, --days, --json. */
struct trash_args {
	const char *reason;
	int days;
	int json;
	int64_t id;
};

/* Parses argv for cmd; with_id: one id is expected.  -1 to go on, else
 * the exit status. */
static int parse(int argc, char **argv, const char *cmd, const char *help, int with_id,
		 struct trash_args *t)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'r'},
		{"days", required_argument, NULL, 'D'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	memset(t, 0, sizeof(*t));
	t->days = PRL_TRASH_DAYS;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			t->reason = optarg;
			break;
		case 'D':
			t->days = (int)strtol(optarg, &end, 10);
			if (!*optarg || *end || t->days < 0 || t->days > 36500)
				return cli_usage_error(cmd, "--days: a whole number of days");
			break;
		case 'j':
			t->json = 1;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return cli_unknown_option(cmd, argv);
		}
	}
	if (with_id && (optind != argc - 1 || cli_parse_id(argv[optind], &t->id) < 0))
		return cli_usage_error(cmd, "one recording id is expected");
	if (!with_id && optind != argc)
		return cli_usage_error(cmd, "no argument is expected");
	return -1;
}

int cmd_delete(struct cli *c, int argc, char **argv)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct trash_args t;
	int ret;

	if ((ret = parse(
		     argc, argv, "delete",
		     "usage: parlers [-d DIR] delete ID --reason TEXT [--json]\n\n"
		     "Deletes recording ID: it leaves every way out at once (pages, API, media,\n"
		     "search, exports, IIIF; OAI-PMH reports it deleted) and waits in the trash\n"
		     "until it is purged ('parlers purge-trash'); 'parlers restore-deleted ID'\n"
		     "brings it back until then.\n",
		     1, &t)) >= 0)
		return ret;
	if (!t.reason || !t.reason[0])
		return cli_usage_error("delete", "--reason TEXT is required");
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if (prl_archive_recording_delete(a, &staff, t.id, t.reason, &out) < 0)
		ret = cli_error("delete %lld: %s", (long long)t.id, prl_archive_errmsg(a));
	else if (t.json)
		printf("%s\n", prl_buf_str(&out));
	else
		printf("recording %lld deleted (in the trash)\n", (long long)t.id);
	prl_buf_release(&out);
	prl_archive_close(a);
	return ret;
}

int cmd_restore_deleted(struct cli *c, int argc, char **argv)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct trash_args t;
	int ret;

	if ((ret = parse(argc, argv, "restore-deleted",
			 "usage: parlers [-d DIR] restore-deleted ID [--json]\n\n"
			 "Brings recording ID back from the trash, at the access level it had.\n",
			 1, &t)) >= 0)
		return ret;
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if (prl_archive_recording_restore(a, &staff, t.id, &out) < 0)
		ret = cli_error("restore-deleted %lld: %s", (long long)t.id, prl_archive_errmsg(a));
	else if (t.json)
		printf("%s\n", prl_buf_str(&out));
	else
		printf("recording %lld restored\n", (long long)t.id);
	prl_buf_release(&out);
	prl_archive_close(a);
	return ret;
}

static void report_purged(void *ctx, int64_t id, const char *title)
{
	int json = *(int *)ctx;

	if (json) {
		struct prl_buf b = PRL_BUF_INIT;

		prl_buf_addf(&b, "{\"id\":%lld,\"title\":", (long long)id);
		prl_json_str(&b, title);
		printf("%s,\"purged\":true}\n", prl_buf_str(&b));
		prl_buf_release(&b);
	} else {
		printf("%lld\tpurged\t%s\n", (long long)id, title);
	}
}

int cmd_purge_trash(struct cli *c, int argc, char **argv)
{
	struct prl_archive *a = NULL;
	struct trash_args t;
	int ret, n;

	if ((ret = parse(
		     argc, argv, "purge-trash",
		     "usage: parlers [-d DIR] purge-trash [--days N] [--json]\n\n"
		     "Removes for good, rows and files, the recordings deleted at least N days\n"
		     "ago (default 30; 0: everything in the trash). One line per recording.\n",
		     0, &t)) >= 0)
		return ret;
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if ((n = prl_archive_trash_purge(a, t.days, report_purged, &t.json)) < 0)
		ret = cli_error("purge-trash: %s", prl_archive_errmsg(a));
	prl_archive_close(a);
	return ret;
}

/* One line per recording in the trash: id, when, who, title, reason. */
static void print_trash(const char *json)
{
	json_t *root = json_loads(json, 0, NULL), *t;
	size_t i;

	json_array_foreach(json_object_get(root, "trash"), i, t)
	{
		printf("%lld\t%s\t%s\t%s\t%s\n",
		       (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "deleted_at")),
		       json_string_value(json_object_get(t, "login")),
		       json_string_value(json_object_get(t, "title")),
		       json_string_value(json_object_get(t, "reason")));
	}
	json_decref(root);
}

int cmd_trash(struct cli *c, int argc, char **argv)
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct trash_args t;
	int ret;

	if ((ret = parse(argc, argv, "trash",
			 "usage: parlers [-d DIR] trash [--json]\n\n"
			 "Lists the deleted recordings waiting in the trash, oldest first: one\n"
			 "line each (id, deleted at, by whom, title, reason), or with --json the\n"
			 "object of GET /api/trash.\n",
			 0, &t)) >= 0)
		return ret;
	if ((ret = cli_open(c, 0, &a)) != 0)
		return ret;
	if (prl_archive_trash_json(a, &out) < 0)
		ret = cli_error("trash: %s", prl_archive_errmsg(a));
	else if (t.json)
		printf("%s\n", prl_buf_str(&out));
	else
		print_trash(prl_buf_str(&out));
	prl_buf_release(&out);
	prl_archive_close(a);
	return ret;
}
