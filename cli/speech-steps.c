/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The shared steps of the speech tools (segment, align, recognize), for
 * the command line and the server's jobs alike.  Always holds: a tier is
 * stored whole through prl_archive_machine_tier_put or not at all, and the
 * segments handed to it lie in order, apart, within the recording as the
 * archive measured it (the features may run a frame past it).
 */
#include <stdlib.h>
#include <string.h>

#include "speech-steps.h"

int speech_target_open(struct prl_archive *a, int64_t id, struct speech_target *t,
		       struct prl_buf *err)
{
	int ret;

	t->id = id;
	if ((ret = prl_archive_recording_open(a, &PRL_VIEWER_STAFF, id, PRL_MAY_WRITE, &t->b)) <
		    0 ||
	    (ret = prl_archive_media(a, &PRL_VIEWER_STAFF, id, PRL_MEDIA_ORIGINAL, &t->m)) < 0)
		prl_buf_addf(err, "recording %lld: %s", (long long)id,
			     ret == -PRL_ENOTFOUND ? "no such recording" : prl_strerror(ret));
	return ret;
}

void speech_target_clear(struct speech_target *t)
{
	if (!t)
		return;
	prl_media_clear(&t->m);
	prl_recording_brief_clear(&t->b);
}

int speech_segments(const struct speech_target *t, const struct prl_speech_seg_opts *so,
		    struct prl_machine_segment **segs, size_t *nsegs, struct prl_buf *err)
{
	struct prl_buf why = PRL_BUF_INIT;
	struct prl_speech_feats *f = NULL;
	struct prl_span *spans = NULL;
	struct prl_machine_segment *s = NULL;
	int64_t dur = t->b.duration_ms;
	size_t n = 0, i;
	int ret;

	if ((ret = prl_speech_analyse_file(t->m.path, &f, &why)) < 0) {
		prl_buf_addf(err, "recording %lld: %s", (long long)t->id,
			     why.len ? why.data : prl_strerror(ret));
		goto end;
	}
	if ((ret = prl_speech_segment(f, so, &spans, &n)) < 0) {
		prl_buf_addf(err, "recording %lld: %s", (long long)t->id, prl_strerror(ret));
		goto end;
	}
	while (n > 0 && spans[n - 1].start_ms >= dur)
		n--;
	if (n > 0 && spans[n - 1].end_ms > dur)
		spans[n - 1].end_ms = dur;
	if (n == 0) {
		prl_buf_addf(err,
			     "recording %lld: no speech found (it is silent or steady noise at "
			     "this --threshold); no tier made",
			     (long long)t->id);
		ret = -PRL_ENOTFOUND;
		goto end;
	}
	if (!(s = calloc(n, sizeof(*s)))) {
		prl_buf_addstr(err, "out of memory");
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < n; i++) {
		s[i].start_ms = spans[i].start_ms;
		s[i].end_ms = spans[i].end_ms;
		s[i].confidence = -1;
	}
	*segs = s;
	*nsegs = n;
end:
	free(spans);
	prl_speech_feats_free(&f);
	prl_buf_release(&why);
	return ret;
}

int speech_align_lines(const struct speech_target *t, char *const *lines, size_t n,
		       const struct prl_speech_align_opts *ao, struct prl_machine_segment **segs,
		       struct prl_buf *err)
{
	struct prl_buf why = PRL_BUF_INIT;
	struct prl_speech_feats *f = NULL;
	struct prl_machine_segment *s = NULL;
	struct prl_aligned *al = NULL;
	size_t i;
	int ret;

	if ((ret = prl_speech_analyse_file(t->m.path, &f, &why)) < 0) {
		prl_buf_addf(err, "recording %lld: %s", (long long)t->id,
			     why.len ? why.data : prl_strerror(ret));
		goto end;
	}
	if ((ret = prl_speech_align(f, lines, n, ao, &al, &why)) < 0) {
		prl_buf_addf(err, "recording %lld: %s; no tier made", (long long)t->id,
			     why.len ? why.data : prl_strerror(ret));
		goto end;
	}
	if (!(s = calloc(n ? n : 1, sizeof(*s)))) {
		prl_buf_addstr(err, "out of memory");
		ret = -PRL_ENOMEM;
		goto end;
	}
	for (i = 0; i < n; i++) {
		s[i].start_ms = al[i].start_ms;
		s[i].end_ms = al[i].end_ms;
		s[i].text = lines[i];
		s[i].confidence = al[i].confidence;
		s[i].doubtful = al[i].doubtful;
	}
	for (i = n; i-- > 0;) {
		int64_t lim = i + 1 < n ? s[i + 1].start_ms : t->b.duration_ms;

		if (s[i].end_ms > lim)
			s[i].end_ms = lim;
		if (s[i].start_ms >= s[i].end_ms)
			s[i].start_ms = s[i].end_ms - 1;
	}
	*segs = s;
end:
	free(al);
	prl_speech_feats_free(&f);
	prl_buf_release(&why);
	return ret;
}

int speech_store(struct prl_archive *a, const struct speech_target *t,
		 const struct prl_machine_tier *tt, int64_t *tier_id, struct prl_buf *err)
{
	int ret = prl_archive_machine_tier_put(a, &PRL_VIEWER_STAFF, t->id, tt, tier_id, NULL);

	if (ret < 0)
		prl_buf_addstr(err, prl_archive_errmsg(a));
	return ret;
}

void speech_result_json(struct prl_buf *out, int64_t id, int64_t tier_id,
			const struct prl_machine_tier *tt, int with_text)
{
	size_t i;

	prl_buf_addf(out, "{\"recording_id\":%lld,\"tier_id\":%lld,\"tier\":", (long long)id,
		     (long long)tier_id);
	prl_json_str(out, tt->name);
	prl_buf_addf(out, ",\"settings\":%s,\"segments\":[", tt->settings ? tt->settings : "null");
	for (i = 0; i < tt->nsegs; i++) {
		const struct prl_machine_segment *s = &tt->segs[i];

		prl_buf_addf(out, "%s{\"start_ms\":%lld,\"end_ms\":%lld", i ? "," : "",
			     (long long)s->start_ms, (long long)s->end_ms);
		if (with_text) {
			prl_buf_addstr(out, ",\"text\":");
			prl_json_str(out, s->text ? s->text : "");
			if (s->confidence >= 0)
				prl_buf_addf(out, ",\"confidence\":%.2f", s->confidence);
			prl_buf_addf(out, ",\"doubtful\":%s", s->doubtful ? "true" : "false");
		}
		prl_buf_addch(out, '}');
	}
	prl_buf_addstr(out, "]}");
}
