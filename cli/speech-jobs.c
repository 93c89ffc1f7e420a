/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Segmentation, forced alignment and recognition as the server's
 * background jobs.  The
 * work is the commands' (speech-steps.c); what a job adds is its
 * parameters read from JSON, its progress reported, and cancel honoured
 * at every step before the tier is stored.  Always holds: the tier is
 * written in the job's last step, in one transaction, so a job cancelled,
 * failed or cut short by a stopped server leaves no tier, never half of
 * one.  Expected workload: one job at a time, seconds to a minute or two
 * for an hour of speech.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recognizer.h"
#include "speech-jobs.h"
#include "speech-steps.h"

/* The string member key of o, or NULL. */
static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *params_object(struct prl_job_run *run, const char *params)
{
	json_t *o = params ? json_loads(params, 0, NULL) : json_object();

	if (!o || !json_is_object(o)) {
		json_decref(o);
		prl_job_fail_reason(run, "the job's parameters are not a JSON object");
		return NULL;
	}
	return o;
}

int speech_job_segment(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		       const char *params, void *user)
{
	struct prl_speech_seg_opts so = {0};
	struct prl_buf err = PRL_BUF_INIT, settings = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_machine_segment *segs = NULL;
	struct prl_machine_tier t = {0};
	struct speech_target tg = {0};
	int64_t tier_id = 0;
	size_t n = 0;
	json_t *o;
	int ret;

	(void)user;
	if (!(o = params_object(run, params)))
		return -PRL_EINVAL;
	so.min_pause_ms = (int)json_integer_value(json_object_get(o, "min_pause_ms"));
	so.min_speech_ms = (int)json_integer_value(json_object_get(o, "min_speech_ms"));
	so.threshold_db = json_number_value(json_object_get(o, "threshold_db"));
	if ((ret = prl_job_progress(run, 0.05, "analyse")) < 0 ||
	    (ret = speech_target_open(a, recording_id, &tg, &err)) < 0 ||
	    (ret = speech_segments(&tg, &so, &segs, &n, &err)) < 0 ||
	    (ret = prl_job_progress(run, 0.9, "store")) < 0)
		goto end;
	prl_speech_seg_settings_json(&so, &settings);
	t.name = str_of(o, "tier") ? str_of(o, "tier") : "segments";
	t.tool = "parlers segment";
	t.annotator = "parlers segment (machine, not reviewed)";
	t.settings = settings.data;
	t.replace = json_is_true(json_object_get(o, "replace"));
	t.segs = segs;
	t.nsegs = n;
	if ((ret = speech_store(a, &tg, &t, &tier_id, &err)) < 0)
		goto end;
	speech_result_json(&out, recording_id, tier_id, &t, 0);
	ret = prl_job_result(run, out.data, recording_id);
end:
	if (ret < 0 && ret != -PRL_ECANCELED)
		prl_job_fail_reason(run, "%s", err.len ? err.data : prl_strerror(ret));
	free(segs);
	speech_target_clear(&tg);
	json_decref(o);
	prl_buf_release(&err);
	prl_buf_release(&settings);
	prl_buf_release(&out);
	return ret;
}

/* Alignment's steps (a line said, then the warping) as the job's
 * progress; a cancel seen here stops the job before its tier is stored. */
struct align_progress {
	struct prl_job_run *run;
	int cancelled;
};

static void on_align_progress(void *ctx, size_t done, size_t total)
{
	struct align_progress *p = ctx;
	char msg[64];

	if (p->cancelled || total == 0)
		return;
	snprintf(msg, sizeof(msg), done + 1 < total ? "say %zu/%zu" : "warp", done + 1, total - 1);
	if (prl_job_progress(p->run, 0.05 + 0.85 * (double)done / (double)total, msg) < 0)
		p->cancelled = 1;
}

int speech_job_align(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
		     const char *params, void *user)
{
	struct prl_speech_align_opts ao = {0};
	struct prl_buf err = PRL_BUF_INIT, settings = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct align_progress ap = {run, 0};
	struct prl_machine_segment *segs = NULL;
	struct prl_machine_tier t = {0};
	struct speech_target tg = {0};
	const char *text;
	char **lines = NULL;
	int64_t tier_id = 0;
	size_t n = 0;
	json_t *o;
	int ret;

	(void)user;
	if (!(o = params_object(run, params)))
		return -PRL_EINVAL;
	if (!(text = str_of(o, "text"))) {
		ret = -PRL_EINVAL;
		prl_buf_addstr(&err, "text: the transcript to align is missing");
		goto end;
	}
	if ((ret = prl_speech_lines_parse(text, strlen(text), &lines, &n, &err)) < 0)
		goto end;
	ao.language = str_of(o, "language") ? str_of(o, "language") : "fr";
	ao.progress = on_align_progress;
	ao.progress_ctx = &ap;
	if ((ret = prl_job_progress(run, 0.02, "analyse")) < 0 ||
	    (ret = speech_target_open(a, recording_id, &tg, &err)) < 0 ||
	    (ret = speech_align_lines(&tg, lines, n, &ao, &segs, &err)) < 0)
		goto end;
	if (ap.cancelled || (ret = prl_job_progress(run, 0.95, "store")) < 0) {
		ret = -PRL_ECANCELED;
		goto end;
	}
	prl_speech_align_settings_json(&ao, &settings);
	t.name = str_of(o, "tier") ? str_of(o, "tier") : "aligned";
	t.type = str_of(o, "type");
	t.language = str_of(o, "language");
	t.tool = "parlers align";
	t.annotator = "parlers align (machine, not reviewed)";
	t.settings = settings.data;
	t.replace = json_is_true(json_object_get(o, "replace"));
	t.segs = segs;
	t.nsegs = n;
	if ((ret = speech_store(a, &tg, &t, &tier_id, &err)) < 0)
		goto end;
	speech_result_json(&out, recording_id, tier_id, &t, 1);
	ret = prl_job_result(run, out.data, recording_id);
end:
	if (ret < 0 && ret != -PRL_ECANCELED)
		prl_job_fail_reason(run, "%s", err.len ? err.data : prl_strerror(ret));
	free(segs);
	prl_speech_lines_free(lines, n);
	speech_target_clear(&tg);
	json_decref(o);
	prl_buf_release(&err);
	prl_buf_release(&settings);
	prl_buf_release(&out);
	return ret;
}

static int recognize_progress(void *ctx, double fraction, const char *message)
{
	return prl_job_progress(ctx, fraction, message);
}

int speech_job_recognize(struct prl_job_run *run, struct prl_archive *a, int64_t recording_id,
			 const char *params, void *user)
{
	const struct recognizers *rs = user;
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct recognize_opts ro = {0};
	struct recognize_done d = {0};
	const struct recognizer *r = NULL;
	const char *with;
	json_t *o;
	int ret;

	if (!(o = params_object(run, params)))
		return -PRL_EINVAL;
	with = str_of(o, "with");
	if (!with || !rs || !(r = recognizers_find(rs, with))) {
		ret = -PRL_EINVAL;
		prl_buf_addf(&err, "no recognizer '%s' is declared on this server",
			     with ? with : "");
		goto end;
	}
	ro.tier = str_of(o, "tier");
	ro.replace = json_is_true(json_object_get(o, "replace"));
	ro.progress = recognize_progress;
	ro.progress_ctx = run;
	if ((ret = recognize_recording(a, recording_id, r, &ro, &d, &err)) < 0)
		goto end;
	speech_result_json(&out, recording_id, d.tier_id, &d.t, 1);
	ret = prl_job_result(run, out.data, recording_id);
end:
	if (ret < 0 && ret != -PRL_ECANCELED)
		prl_job_fail_reason(run, "%s", err.len ? err.data : prl_strerror(ret));
	recognize_done_clear(&d);
	json_decref(o);
	prl_buf_release(&err);
	prl_buf_release(&out);
	return ret;
}
