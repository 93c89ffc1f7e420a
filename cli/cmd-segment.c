/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers segment: proposes one segment (empty text) per stretch of
 * speech in a recording, as a new machine-made tier (speech/ finds the
 * stretches, archive/ stores them in one transaction with a history row).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parlers/speech.h"
#include "speech-steps.h"

static void help(void)
{
	printf("usage: parlers [-d DIR] segment ID [--tier NAME] [--min-pause MS] [--min-speech "
	       "MS]\n"
	       "                              [--threshold DB] [--replace] [--json]\n\n"
	       "Finds the stretches of speech in recording ID and stores one segment (empty\n"
	       "text) per stretch as a new tier (default name \"segments\") marked as made by\n"
	       "a machine until someone edits it. Speech is the 100-4000 Hz band rising\n"
	       "--threshold dB (default 8) over a noise floor that follows the recording;\n"
	       "pauses shorter than --min-pause ms (default 200) are bridged, bursts shorter\n"
	       "than --min-speech ms (default 120) dropped. A tier of that name already there\n"
	       "is an error unless --replace. Prints the segments (start and end in ms, one\n"
	       "per line), or with --json {recording_id, tier_id, tier, settings, segments:\n"
	       "[{start_ms, end_ms}]}.\n");
}

/* A whole number within lo..hi from s; -1 when it is not one. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int cmd_segment(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tier", required_argument, NULL, 't'},
		{"min-pause", required_argument, NULL, 'p'},
		{"min-speech", required_argument, NULL, 's'},
		{"threshold", required_argument, NULL, 'T'},
		{"replace", no_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct prl_speech_seg_opts so = {0};
	struct prl_buf err = PRL_BUF_INIT, settings = PRL_BUF_INIT;
	struct prl_machine_segment *segs = NULL;
	struct prl_machine_tier t = {0};
	struct speech_target tg = {0};
	struct prl_archive *a = NULL;
	const char *tier = "segments";
	int replace = 0, json = 0, opt, status = 0, v;
	size_t n = 0, i;
	int64_t id, tier_id = 0;
	char *end;

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
		case 'p':
			if (parse_int(optarg, 10, 60000, &v) < 0)
				return cli_usage_error("segment",
						       "--min-pause takes 10 to 60000 ms, not '%s'",
						       optarg);
			so.min_pause_ms = v;
			break;
		case 's':
			if (parse_int(optarg, 10, 60000, &v) < 0)
				return cli_usage_error(
					"segment", "--min-speech takes 10 to 60000 ms, not '%s'",
					optarg);
			so.min_speech_ms = v;
			break;
		case 'T':
			so.threshold_db = strtod(optarg, &end);
			if (!*optarg || *end || !(so.threshold_db >= 1 && so.threshold_db <= 60))
				return cli_usage_error("segment",
						       "--threshold takes 1 to 60 dB, not '%s'",
						       optarg);
			break;
		case 'r':
			replace = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cli_unknown_option("segment", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("segment", "segment needs one recording ID");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("segment", "'%s' is not a recording id", argv[optind]);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (speech_target_open(a, id, &tg, &err) < 0 ||
	    speech_segments(&tg, &so, &segs, &n, &err) < 0) {
		status = cli_error("%s", err.data);
		goto end;
	}
	prl_speech_seg_settings_json(&so, &settings);
	t.name = tier;
	t.tool = "parlers segment";
	t.annotator = "parlers segment (machine, not reviewed)";
	t.settings = settings.data;
	t.replace = replace;
	t.segs = segs;
	t.nsegs = n;
	if (speech_store(a, &tg, &t, &tier_id, &err) < 0) {
		status = cli_error("%s", err.data);
		goto end;
	}
	if (json) {
		struct prl_buf out = PRL_BUF_INIT;

		speech_result_json(&out, id, tier_id, &t, 0);
		puts(out.data);
		prl_buf_release(&out);
	} else {
		for (i = 0; i < n; i++)
			printf("%lld\t%lld\n", (long long)segs[i].start_ms,
			       (long long)segs[i].end_ms);
		fprintf(stderr, "parlers: %zu segment%s in tier \"%s\" of recording %lld\n", n,
			n == 1 ? "" : "s", tier, (long long)id);
	}
end:
	free(segs);
	speech_target_clear(&tg);
	prl_archive_close(a);
	prl_buf_release(&err);
	prl_buf_release(&settings);
	return status;
}
