/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers align: places the lines of an untimed transcript (or the texts
 * of an existing tier) on a recording by forced alignment (speech/ does
 * the work), and stores the result as a machine-made tier with a
 * confidence per segment, in one transaction with its history row.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parlers/annot.h"
#include "parlers/speech.h"
#include "speech-steps.h"

#define TRANSCRIPT_MAX (16 * 1024 * 1024) /* bytes of a transcript file */

static void help(void)
{
	printf("usage: parlers [-d DIR] align ID FILE.txt [--tier NAME] [--type "
	       "transcription|translation]\n"
	       "                            [--language CODE] [--replace] [--json]\n"
	       "       parlers [-d DIR] align ID --retime TIER [--tier NAME] [--language CODE] "
	       "[--json]\n\n"
	       "Places each line of FILE (UTF-8, with or without a BOM, LF or CRLF; blank\n"
	       "lines ignored) on recording ID, in order, and stores them as a new tier\n"
	       "(default name \"aligned\") marked as made by a machine. The text is said by\n"
	       "espeak-ng (--language picks the voice, default fr), warped onto the\n"
	       "recording's speech, and each boundary moved to a nearby pause; every line\n"
	       "gets a confidence (0-1), and the doubtful ones (under 0.5, or a span that\n"
	       "does not fit the text's length) are marked \"?\". --retime TIER places the\n"
	       "texts of an existing tier again and replaces it (or writes --tier NAME).\n"
	       "A tier of that name already there is an error unless --replace. Prints\n"
	       "START_MS END_MS CONFIDENCE [?] TEXT per line, or with --json {recording_id,\n"
	       "tier_id, tier, settings, segments: [{start_ms, end_ms, text, confidence,\n"
	       "doubtful}]}.\n");
}

/* The texts of tier name of recording id as lines (empty texts left
 * out); its type and language into *type and *lang (owned by *doc). */
static int tier_lines(struct prl_archive *a, int64_t id, const char *name,
		      struct prl_annot_doc **doc, char ***lines, size_t *n, const char **type,
		      const char **lang)
{
	struct prl_tier *t = NULL;
	size_t i, k = 0;

	if (prl_archive_annotations_load(a, &PRL_VIEWER_STAFF, id, doc) < 0)
		return cli_error("%s", prl_archive_errmsg(a));
	for (i = 0; i < (*doc)->ntiers && !t; i++)
		if (strcmp((*doc)->tiers[i].name, name) == 0)
			t = &(*doc)->tiers[i];
	if (!t)
		return cli_error("recording %lld has no tier \"%s\"", (long long)id, name);
	if (!(*lines = calloc(t->nsegs ? t->nsegs : 1, sizeof(**lines))))
		return cli_error("out of memory");
	for (i = 0; i < t->nsegs; i++) {
		const char *s = t->segs[i].text;

		if (!s || !*s || strspn(s, " \t\r\n") == strlen(s))
			continue;
		if (!((*lines)[k] = strdup(s)))
			return cli_error("out of memory");
		k++;
	}
	*n = k;
	if (k == 0)
		return cli_error("tier \"%s\" has no text to align", name);
	*type = t->type;
	*lang = t->language;
	return 0;
}

/* On a terminal, the lines said so far; the warping is the last step. */
static void on_progress(void *ctx, size_t done, size_t total)
{
	(void)ctx;
	if (done < total)
		fprintf(stderr, "\r\033[Kalign: saying line %zu of %zu", done, total - 1);
	else
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

int cmd_align(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tier", required_argument, NULL, 't'},
		{"type", required_argument, NULL, 'y'},
		{"language", required_argument, NULL, 'l'},
		{"retime", required_argument, NULL, 'R'},
		{"replace", no_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct prl_speech_align_opts ao = {0};
	struct prl_buf err = PRL_BUF_INIT, settings = PRL_BUF_INIT;
	struct prl_buf text = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_machine_segment *segs = NULL;
	struct prl_machine_tier t = {0};
	struct speech_target tg = {0};
	struct prl_annot_doc *doc = NULL;
	struct prl_archive *a = NULL;
	const char *tier = NULL, *type = NULL, *lang = NULL, *retime = NULL, *path = NULL;
	const char *tier_type = NULL, *tier_lang = NULL;
	int replace = 0, json = 0, opt, ret, status = 0;
	char **lines = NULL;
	size_t n = 0, i;
	int64_t id, tier_id = 0;

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
		case 'y':
			if (strcmp(optarg, "transcription") != 0 &&
			    strcmp(optarg, "translation") != 0)
				return cli_usage_error(
					"align",
					"--type is transcription or translation, not "
					"'%s'",
					optarg);
			type = optarg;
			break;
		case 'l':
			lang = optarg;
			break;
		case 'R':
			retime = optarg;
			break;
		case 'r':
			replace = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cli_unknown_option("align", argv);
		}
	}
	if (retime ? argc - optind != 1 : argc - optind != 2)
		return cli_usage_error("align", retime ? "align --retime needs one recording ID"
						       : "align needs ID and FILE.txt");
	if (cli_parse_id(argv[optind], &id) < 0)
		return cli_usage_error("align", "'%s' is not a recording id", argv[optind]);
	if (!retime) {
		path = argv[optind + 1];
		if ((ret = prl_read_file(path, TRANSCRIPT_MAX, &text)) < 0)
			return cli_error("%s: cannot read: %s", path,
					 ret == -PRL_EINVAL ? "larger than 16 MiB"
							    : strerror(errno));
		if ((ret = prl_speech_lines_parse(text.data, text.len, &lines, &n, &err)) < 0) {
			status = cli_error("%s: %s", path, err.data);
			goto end;
		}
	}
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (speech_target_open(a, id, &tg, &err) < 0) {
		status = cli_error("%s", err.data);
		goto end;
	}
	if (retime) {
		if ((status = tier_lines(a, id, retime, &doc, &lines, &n, &tier_type, &tier_lang)))
			goto end;
		if (!tier) {
			tier = retime;
			replace = 1;
		}
		if (!type)
			type = tier_type;
		if (!lang && tier_lang && *tier_lang)
			lang = tier_lang;
	}
	ao.language = lang ? lang : "fr";
	if (isatty(STDERR_FILENO))
		ao.progress = on_progress;
	if (speech_align_lines(&tg, lines, n, &ao, &segs, &err) < 0) {
		status = cli_error("%s", err.data);
		goto end;
	}
	prl_speech_align_settings_json(&ao, &settings);
	t.name = tier ? tier : "aligned";
	t.type = type;
	t.language = lang;
	t.tool = "parlers align";
	t.annotator = "parlers align (machine, not reviewed)";
	t.settings = settings.data;
	t.replace = replace;
	t.segs = segs;
	t.nsegs = n;
	if (speech_store(a, &tg, &t, &tier_id, &err) < 0) {
		status = cli_error("%s", err.data);
		goto end;
	}
	if (json) {
		speech_result_json(&out, id, tier_id, &t, 1);
		puts(out.data);
	} else {
		size_t doubtful = 0;

		for (i = 0; i < n; i++) {
			printf("%lld\t%lld\t%.2f\t%s\t%s\n", (long long)segs[i].start_ms,
			       (long long)segs[i].end_ms, segs[i].confidence,
			       segs[i].doubtful ? "?" : "", lines[i]);
			doubtful += segs[i].doubtful != 0;
		}
		fprintf(stderr,
			"parlers: %zu line%s aligned in tier \"%s\" of recording %lld, %zu "
			"doubtful\n",
			n, n == 1 ? "" : "s", t.name, (long long)id, doubtful);
	}
end:
	free(segs);
	prl_speech_lines_free(lines, n);
	prl_annot_doc_free(doc);
	speech_target_clear(&tg);
	prl_archive_close(a);
	prl_buf_release(&err);
	prl_buf_release(&settings);
	prl_buf_release(&text);
	prl_buf_release(&out);
	return status;
}
