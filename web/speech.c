/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The speech tools over HTTP: a segmentation, an alignment or a
 * recognition of a recording queued as a background job (the server's
 * worker does it with the commands' own steps; cli/speech-jobs.c),
 * answered at once with 202 and the job's id, which the editor then
 * follows on /api/jobs/{jid}; and the list of the recognizers the operator
 * declared (their names and languages, never their command lines).
 *
 * Always holds: what is queued was checked first (a request the job could
 * only refuse is 400 with a sentence, never a job that fails at once);
 * a recording has at most one unfinished job (409 with a sentence); only
 * staff who may change the recording queue one.
 * Expected workload: a few requests an hour.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

#define ALIGN_TEXT_MAX (4 * 1024 * 1024) /* bytes of a transcript sent to align */

/* A sentence for the first member of o that is not what a job takes, or
 * NULL; s is the server (its declared recognizers). */
static const char *check_common(json_t *o)
{
	json_t *v;

	if ((v = json_object_get(o, "tier")) &&
	    (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > PRL_NAME_MAX))
		return "tier: the new tier's name, 1 to 200 bytes";
	if ((v = json_object_get(o, "replace")) && !json_is_boolean(v))
		return "replace: true or false";
	return NULL;
}

static const char *check_segment(const struct web_server *s, json_t *o)
{
	static const char *const ms[] = {"min_pause_ms", "min_speech_ms"};
	json_t *v;
	size_t i;

	(void)s;
	for (i = 0; i < 2; i++)
		if ((v = json_object_get(o, ms[i])) &&
		    (!json_is_integer(v) || json_integer_value(v) < 10 ||
		     json_integer_value(v) > 60000))
			return i ? "min_speech_ms: 10 to 60000" : "min_pause_ms: 10 to 60000";
	if ((v = json_object_get(o, "threshold_db")) &&
	    (!json_is_number(v) || !(json_number_value(v) >= 1 && json_number_value(v) <= 60)))
		return "threshold_db: 1 to 60";
	return check_common(o);
}

static const char *check_align(const struct web_server *srv, json_t *o)
{
	json_t *v = json_object_get(o, "text");
	const char *s;
	size_t i;

	(void)srv;
	if (!json_is_string(v))
		return "text: the transcript to align, one line a segment";
	s = json_string_value(v);
	if (json_string_length(v) > ALIGN_TEXT_MAX)
		return "text: at most 4 MiB";
	for (i = 0; s[i] && strchr(" \t\r\n", s[i]); i++)
		;
	if (!s[i])
		return "text: the transcript is empty";
	if ((v = json_object_get(o, "type")) &&
	    (!json_is_string(v) || (strcmp(json_string_value(v), "transcription") != 0 &&
				    strcmp(json_string_value(v), "translation") != 0)))
		return "type: transcription or translation";
	if ((v = json_object_get(o, "language")) &&
	    (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 16 ||
	     strspn(json_string_value(v),
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") !=
		     json_string_length(v)))
		return "language: a language code espeak-ng knows (fr, en, de...)";
	return check_common(o);
}

static const char *check_recognize(const struct web_server *s, json_t *o)
{
	json_t *v = json_object_get(o, "with");
	size_t i;

	if (s->opts.nrecognizers == 0)
		return "no recognizer is declared on this server (its data folder has no "
		       "recognizers file)";
	if (!json_is_string(v))
		return "with: the name of a recognizer declared on this server (GET "
		       "/api/recognizers)";
	for (i = 0; i < s->opts.nrecognizers; i++)
		if (strcmp(s->opts.recognizers[i].name, json_string_value(v)) == 0)
			return check_common(o);
	return "with: no recognizer of that name is declared on this server (GET "
	       "/api/recognizers lists them)";
}

/* Queues a job of kind for recording p->id with the request's body as its
 * parameters, once check finds nothing wrong with them. */
static enum MHD_Result queue(struct web_request *r, const struct web_params *p, const char *kind,
			     const char *(*check)(const struct web_server *s, json_t *o))
{
	struct prl_buf out = PRL_BUF_INIT;
	struct prl_archive *a;
	enum MHD_Result res;
	const char *why;
	char *params = NULL;
	json_t *o;
	int64_t jid = 0;
	int ret;

	if (!r->body.len)
		o = json_object();
	else if (!(o = web_body_object(r, &res)))
		return res;
	if ((why = check(r->srv, o))) {
		json_decref(o);
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, why);
	}
	params = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!params)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if (!(a = web_archive_get(r->srv))) {
		free(params);
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	}
	if ((ret = prl_archive_recording_open(a, &r->viewer, p->id, PRL_MAY_WRITE, NULL)) == 0)
		ret = prl_jobs_submit(a, kind, p->id, params, r->viewer.user_id, &jid);
	free(params);
	if (ret == 0) {
		web_archive_put(r->srv, a);
		prl_buf_addf(&out, "{\"job\":%lld}\n", (long long)jid);
		return web_send_buf(r, MHD_HTTP_ACCEPTED, JSON_MIME, &out, "no-store");
	}
	if (web_write_refused(r, ret, &res)) {
		web_archive_put(r->srv, a);
		return res;
	}
	web_archive_put(r->srv, a);
	if (ret == -PRL_EEXIST)
		return web_error_json(r, MHD_HTTP_CONFLICT,
				      "this recording already has a job under way: wait for it to "
				      "end, or cancel it");
	if (ret == -PRL_ENOTFOUND)
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such recording");
	return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, web_status_message(500));
}

enum MHD_Result web_api_recording_segment(struct web_request *r, const struct web_params *p)
{
	return queue(r, p, "segment", check_segment);
}

enum MHD_Result web_api_recording_align(struct web_request *r, const struct web_params *p)
{
	return queue(r, p, "align", check_align);
}

enum MHD_Result web_api_recording_recognize(struct web_request *r, const struct web_params *p)
{
	return queue(r, p, "recognize", check_recognize);
}

enum MHD_Result web_api_recognizers(struct web_request *r, const struct web_params *p)
{
	const struct prl_web_opts *o = &r->srv->opts;
	struct prl_buf out = PRL_BUF_INIT;
	size_t i;

	(void)p;
	prl_buf_addstr(&out, "{\"recognizers\":[");
	for (i = 0; i < o->nrecognizers; i++) {
		prl_buf_addstr(&out, i ? ",{\"name\":" : "{\"name\":");
		prl_json_str(&out, o->recognizers[i].name);
		prl_buf_addstr(&out, ",\"language\":");
		if (o->recognizers[i].language)
			prl_json_str(&out, o->recognizers[i].language);
		else
			prl_buf_addstr(&out, "null");
		prl_buf_addch(&out, '}');
	}
	prl_buf_addstr(&out, "]}\n");
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &out, "no-store");
}
