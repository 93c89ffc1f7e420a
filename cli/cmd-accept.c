/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers accept: a reviewer accepts a machine-made tier whole, or one of
 * its segments, from the command line: the mark of the machine goes (and
 * with it the confidence and the doubt), a history row names the change.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
	printf("usage: parlers [-d DIR] accept ID --tier NAME [--json]\n"
	       "       parlers [-d DIR] accept ID --segment SID [--json]\n\n"
	       "Accepts the machine-made tier NAME of recording ID as reviewed (every\n"
	       "segment still marked loses its mark, confidence and doubt, and the tier\n"
	       "its mark), or only segment SID (the tier's mark goes with its last\n"
	       "marked segment's). The tool and its settings stay on the tier. Prints\n"
	       "how many segments were accepted, or with --json {tier_id, recording_id,\n"
	       "accepted, tier_origin}.\n");
}

int cmd_accept(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tier", required_argument, NULL, 't'},
		{"segment", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	const char *tier = NULL, *seg = NULL;
	int json = 0, opt, ret, status = 0;
	int64_t id, sid = 0, tid = 0;

	if (cli_wants_help(argc, argv)) {
		help();
		return 0;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			tier = optarg;
			break;
		case 's':
			seg = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cli_unknown_option("accept", argv);
		}
	}
	if (argc - optind != 1 || !tier == !seg)
		return cli_usage_error("accept", "accept needs one recording ID and --tier NAME or "
						 "--segment SID");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("accept", "'%s' is not a recording id", argv[optind]);
	if (seg && cli_parse_id(seg, &sid) < 0)
		return cli_usage_error("accept", "'%s' is not a segment id", seg);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if ((ret = prl_archive_recording_open(a, &PRL_VIEWER_STAFF, id, PRL_MAY_WRITE, NULL)) < 0) {
		status = cli_error("recording %lld: %s", (long long)id,
				   ret == -PRL_ENOTFOUND ? "no such recording" : prl_strerror(ret));
		goto end;
	}
	if (tier)
		ret = prl_archive_tier_id(a, id, tier, &tid) < 0
			      ? -1
			      : prl_archive_tier_accept(a, &PRL_VIEWER_STAFF, tid, &out);
	else
		ret = prl_archive_segment_accept(a, &PRL_VIEWER_STAFF, sid, &out);
	if (ret < 0) {
		status = cli_error("%s", prl_archive_errmsg(a));
		goto end;
	}
	if (json)
		puts(out.data);
	else if (tier)
		printf("tier \"%s\" of recording %lld accepted as reviewed\n", tier, (long long)id);
	else
		printf("segment %lld accepted as reviewed\n", (long long)sid);
end:
	prl_archive_close(a);
	prl_buf_release(&out);
	return status;
}
