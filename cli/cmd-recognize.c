/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers recognize: runs a recognizer the operator declared in the data
 * folder's "recognizers" file on a recording, and stores what it returns
 * as a machine-made tier (origin_tool: the recognizer's name).  Timed
 * output (WebVTT, SRT, JSON) keeps its times; plain text is placed on the
 * recording by forced alignment as parlers align does.  A recognizer that
 * fails, hangs or writes garbage leaves no tier; one that succeeds leaves
 * a whole one, in one transaction with its history row.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "recognizer.h"
#include "speech-steps.h"

static void help(void)
{
	printf("usage: parlers [-d DIR] recognize ID --with NAME [--tier NAME] [--replace]\n"
	       "                                [--timeout SEC] [--json]\n"
	       "       parlers [-d DIR] recognize --list\n\n"
	       "Runs recognizer NAME, declared in DIR/recognizers, on recording ID and stores\n"
	       "what it writes as a new tier (default name: NAME) marked as made by a\n"
	       "machine. The recognizer gets a 16 kHz mono WAV file and writes WebVTT, SRT,\n"
	       "JSON or plain text on its output; plain text is aligned on the recording\n"
	       "as 'parlers align' does, with the recognizer's language. It is stopped\n"
	       "after its timeout (--timeout overrides it). A tier of that name already\n"
	       "there is an error unless --replace. Prints START_MS END_MS TEXT per\n"
	       "segment, or with --json {recording_id, tier_id, tier, settings, segments}.\n"
	       "--list prints the declared recognizers, one per line.\n");
}

/* The recognizers declared in the data folder; a missing file declares none. */
static int load_recognizers(struct cli *c, struct recognizers *rs)
{
	struct prl_buf err = PRL_BUF_INIT;
	int status = 0;

	if (recognizers_load(c->data_dir, rs, &err) < 0)
		status =
			cli_error("%s", err.data ? err.data : "the recognizers file is unreadable");
	prl_buf_release(&err);
	return status;
}

int cmd_recognize(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"with", required_argument, NULL, 'w'},
		{"tier", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{"replace", no_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"list", no_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct recognize_opts ro = {0};
	struct recognize_done d = {0};
	struct recognizers rs = {0};
	const struct recognizer *r;
	struct prl_archive *a = NULL;
	const char *with = NULL, *tier = NULL;
	int replace = 0, json = 0, list = 0, timeout = 0, opt, status = 0;
	int64_t id;
	size_t i;
	char *end;
	long v;

	if (cli_wants_help(argc, argv)) {
		help();
		return 0;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			with = optarg;
			break;
		case 't':
			tier = optarg;
			break;
		case 'T':
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 1 || v > 86400)
				return cli_usage_error("recognize",
						       "--timeout takes 1 to 86400 s, not '%s'",
						       optarg);
			timeout = (int)v;
			break;
		case 'r':
			replace = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'L':
			list = 1;
			break;
		default:
			return cli_unknown_option("recognize", argv);
		}
	}
	if (list) {
		if (argc != optind)
			return cli_usage_error("recognize", "--list takes no recording");
		if ((status = load_recognizers(c, &rs)) == 0)
			for (i = 0; i < rs.n; i++)
				printf("%s\t%s\t%ds\t%s\n", rs.r[i].name,
				       recognizer_format_name(rs.r[i].format), rs.r[i].timeout_s,
				       rs.r[i].command);
		recognizers_clear(&rs);
		return status;
	}
	if (argc - optind != 1 || !with)
		return cli_usage_error("recognize",
				       "recognize needs one recording ID and --with NAME");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("recognize", "'%s' is not a recording id", argv[optind]);
	if ((status = load_recognizers(c, &rs)))
		goto end;
	if (!(r = recognizers_find(&rs, with))) {
		status = cli_error("no recognizer '%s' is declared in %s/%s", with, c->data_dir,
				   RECOGNIZERS_FILE);
		goto end;
	}
	if (cli_open(c, 0, &a)) {
		status = EXIT_WORK_FAILED;
		goto end;
	}
	ro.tier = tier;
	ro.replace = replace;
	ro.timeout_s = timeout;
	if (recognize_recording(a, id, r, &ro, &d, &err) < 0) {
		status = cli_error("%s", err.data ? err.data : "the recognition failed");
		goto end;
	}
	if (json) {
		speech_result_json(&out, id, d.tier_id, &d.t, 1);
		puts(out.data);
	} else {
		for (i = 0; i < d.t.nsegs; i++)
			printf("%lld\t%lld\t%s\n", (long long)d.t.segs[i].start_ms,
			       (long long)d.t.segs[i].end_ms, d.t.segs[i].text);
		fprintf(stderr,
			"parlers: %zu segment%s from '%s' in tier \"%s\" of recording %lld\n",
			d.t.nsegs, d.t.nsegs == 1 ? "" : "s", r->name, d.t.name, (long long)id);
	}
end:
	recognize_done_clear(&d);
	recognizers_clear(&rs);
	prl_archive_close(a);
	prl_buf_release(&err);
	prl_buf_release(&out);
	return status;
}
