/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The whole of a recognition, as `parlers recognize` and the server's
 * "recognize" job both do it: the operator's recognizers file read, the
 * recognizer run on the recording's original, its output read, plain text
 * aligned, and the result stored as one machine-made tier.  Always holds:
 * the tier is stored in the last step, in one transaction with its history
 * row, so a recognizer that fails, hangs, writes garbage or is stopped by
 * the caller (a job cancelled) leaves no tier and, recognizer_run() seeing
 * to it, no file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recognizer.h"
#include "speech-steps.h"

/* Shares of the progress bar: decoding, the recognizer, then aligning
 * (plain text only) and storing. */
#define SHARE_DECODE 0.05
#define SHARE_RUN_END 0.80
#define SHARE_ALIGN_END 0.95

int recognizers_load(const char *dir, struct recognizers *rs, struct prl_buf *err)
{
	struct prl_buf path = PRL_BUF_INIT, text = PRL_BUF_INIT, why = PRL_BUF_INIT;
	int ret = 0;

	prl_buf_addf(&path, "%s/%s", dir, RECOGNIZERS_FILE);
	if (!path.data) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	if (prl_read_file(path.data, 1024 * 1024, &text) < 0) {
		if (access(path.data, F_OK) == 0) {
			prl_buf_addf(err, "%s: cannot read it", path.data);
			ret = -PRL_EIO;
		}
		goto end;
	}
	if ((ret = recognizers_parse(text.data ? text.data : "", text.len, rs, &why)) < 0)
		prl_buf_addf(err, "%s: %s", path.data, why.data ? why.data : prl_strerror(ret));
end:
	prl_buf_release(&path);
	prl_buf_release(&text);
	prl_buf_release(&why);
	return ret;
}

/* The settings the tier keeps: which recognizer, how its output was
 * read, and the alignment's when it placed plain text. */
static void settings_json(const struct recognizer *r, const struct recognized *got,
			  const struct prl_speech_align_opts *ao, struct prl_buf *b)
{
	prl_buf_addstr(b, "{\"recognizer\":");
	prl_json_str(b, r->name);
	prl_buf_addstr(b, ",\"command\":");
	prl_json_str(b, r->command);
	prl_buf_addf(b, ",\"format\":\"%s\",\"aligned\":%s", recognizer_format_name(got->format),
		     got->format == RECOGNIZER_TEXT ? "true" : "false");
	if (got->format == RECOGNIZER_TEXT) {
		prl_buf_addstr(b, ",\"alignment\":");
		prl_speech_align_settings_json(ao, b);
	}
	prl_buf_addch(b, '}');
}

/* The caller's progress, and whether it asked to stop. */
struct step_progress {
	const struct recognize_opts *o;
	double expect_s; /* a time scale for the recognizer's share of the bar */
	int stopped;
};

static int report(struct step_progress *p, double fraction, const char *message)
{
	if (p->stopped)
		return -PRL_ECANCELED;
	if (p->o->progress && p->o->progress(p->o->progress_ctx, fraction, message) < 0)
		p->stopped = 1;
	return p->stopped ? -PRL_ECANCELED : 0;
}

/* A recognizer says nothing of how far it is: its share of the bar fills
 * with the time spent, ever slower, and the message counts the seconds. */
static int on_tick(void *ctx, enum recognizer_phase phase, double elapsed_s)
{
	struct step_progress *p = ctx;
	char msg[48];
	double f;

	if (phase == RECOGNIZER_DECODING)
		return report(p, 0.02, "decode") < 0;
	f = SHARE_DECODE + (SHARE_RUN_END - SHARE_DECODE) * (elapsed_s / (elapsed_s + p->expect_s));
	snprintf(msg, sizeof(msg), "recognize %.0f s", elapsed_s);
	return report(p, f, msg) < 0;
}

static void on_align(void *ctx, size_t done, size_t total)
{
	struct step_progress *p = ctx;
	char msg[64];

	if (total == 0)
		return;
	snprintf(msg, sizeof(msg), done + 1 < total ? "say %zu/%zu" : "warp", done + 1, total - 1);
	report(p, SHARE_RUN_END + (SHARE_ALIGN_END - SHARE_RUN_END) * (double)done / (double)total,
	       msg);
}

int recognize_recording(struct prl_archive *a, int64_t id, const struct recognizer *r,
			const struct recognize_opts *o, struct recognize_done *d,
			struct prl_buf *err)
{
	struct prl_speech_align_opts ao = {0};
	struct step_progress sp = {o, 30, 0};
	struct prl_buf output = PRL_BUF_INIT;
	struct speech_target tg = {0};
	int64_t dur;
	size_t n;
	int ret;

	if ((ret = report(&sp, 0.01, "open")) < 0)
		goto end;
	if ((ret = speech_target_open(a, id, &tg, err)) < 0)
		goto end;
	/* a recognizer runs from a tenth of real time (whisper.cpp on a GPU)
	 * to several times it: half the recording's length as the scale */
	if (tg.b.duration_ms / 2000.0 > sp.expect_s)
		sp.expect_s = (double)tg.b.duration_ms / 2000.0;
	if ((ret = recognizer_run(r, tg.m.path, o->timeout_s, on_tick, &sp, &output, err)) < 0) {
		if (ret != -PRL_ECANCELED) {
			prl_buf_reset(&output);
			prl_buf_addf(&output, "recording %lld: %s; no tier made", (long long)id,
				     err->data ? err->data : prl_strerror(ret));
			prl_buf_reset(err);
			prl_buf_addstr(err, output.data);
		}
		goto end;
	}
	if ((ret = report(&sp, SHARE_RUN_END, "read")) < 0)
		goto end;
	if ((ret = recognized_parse(output.data ? output.data : "", output.len, r->format, &d->got,
				    err)) < 0) {
		prl_buf_reset(&output);
		prl_buf_addf(&output, "recording %lld: recognizer '%s': %s; no tier made",
			     (long long)id, r->name, err->data ? err->data : prl_strerror(ret));
		prl_buf_reset(err);
		prl_buf_addstr(err, output.data);
		goto end;
	}
	ao.language = r->language ? r->language : "fr";
	n = d->got.n;
	if (d->got.format == RECOGNIZER_TEXT) {
		ao.progress = on_align;
		ao.progress_ctx = &sp;
		if ((ret = speech_align_lines(&tg, d->got.lines, n, &ao, &d->aligned, err)) < 0)
			goto end;
		if (sp.stopped) {
			ret = -PRL_ECANCELED;
			goto end;
		}
		d->t.segs = d->aligned;
	} else {
		/* a recognizer may pad past the end: its cues are cut to the recording */
		dur = tg.b.duration_ms;
		while (n > 0 && d->got.segs[n - 1].start_ms >= dur)
			n--;
		if (n > 0 && d->got.segs[n - 1].end_ms > dur)
			d->got.segs[n - 1].end_ms = dur;
		if (n == 0) {
			prl_buf_addf(err,
				     "recording %lld: recognizer '%s' placed nothing within the "
				     "recording; no tier made",
				     (long long)id, r->name);
			ret = -PRL_ENOTFOUND;
			goto end;
		}
		d->t.segs = d->got.segs;
	}
	if ((ret = report(&sp, SHARE_ALIGN_END, "store")) < 0)
		goto end;
	settings_json(r, &d->got, &ao, &d->settings);
	prl_buf_addf(&d->annotator, "%s (machine, not reviewed)", r->name);
	d->t.name = o->tier ? o->tier : r->name;
	d->t.language = r->language;
	d->t.tool = r->name;
	d->t.annotator = d->annotator.data;
	d->t.settings = d->settings.data;
	d->t.replace = o->replace;
	d->t.nsegs = n;
	ret = speech_store(a, &tg, &d->t, &d->tier_id, err);
end:
	speech_target_clear(&tg);
	prl_buf_release(&output);
	return ret;
}

void recognize_done_clear(struct recognize_done *d)
{
	free(d->aligned);
	recognized_clear(&d->got);
	prl_buf_release(&d->settings);
	prl_buf_release(&d->annotator);
	memset(d, 0, sizeof(*d));
}
