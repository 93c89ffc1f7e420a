/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The player other sites embed, and the oEmbed answer that lets a CMS embed
 * a recording from its link.
 *
 * /embed/{id}?t=START,END&transcript=1&lang=fr is a small page made to live
 * in an <iframe> on a museum's site: the player, the waveform, the
 * transcript following the sound, the credit line and a link back.
 * /oembed?url=URL&format=json answers for a link to one of our recording
 * pages (or embeds) with the <iframe> to paste.
 *
 * Always holds: both answer as an anonymous visitor whoever asks, so only
 * what anyone may hear is embedded (a private or restricted recording is
 * 404, even to staff: the page goes where sessions do not); withheld
 * passages are as the public copy has them, silent and without text.  Only
 * the embed page may be framed, by the sources the operator allows
 * (serve --frame-ancestors, any by default); every other page refuses
 * framing.  The page carries only the span's segments, so its size does
 * not grow with the recording.
 *
 * Expected workload: an embed page each time a museum's page is opened; an
 * oEmbed request when a CMS first sees a pasted link.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

#define EMBED_WIDTH 480	      /* the iframe oEmbed proposes, in CSS pixels */
#define EMBED_HEIGHT 168      /* player and credit line */
#define EMBED_HEIGHT_TEXT 300 /* with the transcript */
#define EMBED_MIN_WIDTH 240   /* narrower, the controls no longer fit */

/* The first tier of type, and with that language when lang is not NULL
 * and one has it. */
static json_t *tier_of(json_t *tiers, const char *type, const char *lang)
{
	json_t *first = NULL, *tier;
	size_t i;

	json_array_foreach(tiers, i, tier)
	{
		const char *ty = json_string_value(json_object_get(tier, "type"));
		const char *lg = json_string_value(json_object_get(tier, "language"));

		if (!ty || strcmp(ty, type) || json_is_true(json_object_get(tier, "point")))
			continue;
		if (!lang || (lg && !strcmp(lg, lang)))
			return tier;
		if (!first)
			first = tier;
	}
	return first;
}

/* The tier's segments that meet [t0, t1), as {s, e, text}. */
static json_t *segments_in(json_t *tier, int64_t t0, int64_t t1)
{
	json_t *out = json_array(), *seg;
	size_t i;

	if (!out || !tier)
		return out;
	json_array_foreach(json_object_get(tier, "segments"), i, seg)
	{
		json_int_t s = json_integer_value(json_object_get(seg, "start_ms"));
		json_int_t e = json_integer_value(json_object_get(seg, "end_ms"));
		const char *text = json_string_value(json_object_get(seg, "text"));

		if (e <= t0 || s >= t1 || !text || !*text)
			continue;
		json_array_append_new(out, json_pack("{sIsIss}", "s", s, "e", e, "text", text));
	}
	return out;
}

json_t *web_json_pick(json_t *from, const char *const *keys, size_t n)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < n; i++) {
		json_t *v = json_object_get(from, keys[i]);

		if (v && !json_is_null(v))
			json_object_set(out, keys[i], v);
	}
	return out;
}

void web_span_text(json_t *into, json_t *rec, int64_t t0, int64_t t1, const char *lang)
{
	json_t *tiers = json_object_get(rec, "tiers");
	json_t *main = tier_of(tiers, "transcription", NULL);

	json_object_set_new(into, "transcript", segments_in(main, t0, t1));
	/* a transcript a tool made and no one has reviewed says so */
	if (json_is_string(json_object_get(main, "origin")))
		json_object_set_new(into, "machine", json_true());
	json_object_set_new(into, "translation",
			    segments_in(tier_of(tiers, "translation", lang), t0, t1));
}

/* What the embed page needs of the public JSON of a recording: who made
 * and holds it, its media, the span, and the span's text when asked. */
static json_t *embed_data(json_t *rec, int64_t t0, int64_t t1, int transcript, const char *lang)
{
	static const char *const copied[] = {"id",	 "title",  "date",	  "collector",
					     "rights",	 "media",  "institution", "duration_ms",
					     "withheld", "variety"};
	json_t *out = web_json_pick(rec, copied, sizeof(copied) / sizeof(copied[0]));
	json_t *place = json_object_get(rec, "place");

	if (!out)
		return NULL;
	if (json_is_object(place))
		json_object_set(out, "place", json_object_get(place, "name"));
	json_object_set_new(out, "t", json_pack("[II]", (json_int_t)t0, (json_int_t)t1));
	if (transcript)
		web_span_text(out, rec, t0, t1, lang);
	return out;
}

/* The recording's JSON as an anonymous visitor sees it, parsed; NULL with
 * *status 404 when such a visitor may not hear it. */
static json_t *public_recording(struct web_request *r, int64_t id, unsigned *status)
{
	struct prl_viewer asked = r->viewer;
	struct web_blob *blob;
	json_t *rec = NULL;
	int err = 0;

	r->viewer = PRL_VIEWER_ANONYMOUS;
	blob = web_recording_json(r, id, &err);
	r->viewer = asked;
	if (!blob) {
		*status = err == -PRL_EIO ? MHD_HTTP_SERVICE_UNAVAILABLE : web_status_for(err);
		if (*status == MHD_HTTP_FORBIDDEN)
			*status = MHD_HTTP_NOT_FOUND;
		return NULL;
	}
	rec = json_loadb(blob->data, blob->len, 0, NULL);
	web_blob_unref(blob);
	if (!rec) {
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return NULL;
	}
	if (!json_is_true(json_object_get(rec, "can_listen"))) {
		json_decref(rec);
		*status = MHD_HTTP_NOT_FOUND;
		return NULL;
	}
	return rec;
}

int web_embed_data(struct web_request *r, int64_t id, struct prl_buf *data, struct prl_buf *title,
		   unsigned *status)
{
	const char *tr = web_arg(r, "transcript");
	int transcript = tr && (!strcmp(tr, "1") || !strcmp(tr, "true"));
	int64_t t0, t1;
	json_t *rec, *out = NULL;
	char *js = NULL;
	int ret = -PRL_ENOMEM;

	if (!(rec = public_recording(r, id, status)))
		return -PRL_ENOTFOUND;
	if (!web_parse_span(web_arg(r, "t"),
			    json_integer_value(json_object_get(rec, "duration_ms")), &t0, &t1)) {
		json_decref(rec);
		*status = MHD_HTTP_BAD_REQUEST;
		return -PRL_EINVAL;
	}
	if ((out = embed_data(rec, t0, t1, transcript, web_lang_code(r->lang))) &&
	    (js = json_dumps(out, JSON_COMPACT)) &&
	    (ret = web_json_for_script(data, js, strlen(js))) == 0)
		ret = prl_xml_escape(title, json_string_value(json_object_get(rec, "title")));
	if (ret < 0)
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	free(js);
	json_decref(out);
	json_decref(rec);
	return ret;
}

/* The recording id a link to this site names (/recordings/ID or
 * /embed/ID, with this request's host, either scheme), and in *query what
 * follows the embed's path ("?t=..."), or NULL.  0 when it is no such link. */
static int64_t our_recording(struct web_request *r, const char *url, const char **query)
{
	struct prl_buf base = PRL_BUF_INIT;
	const char *host, *path = NULL, *rest;
	int64_t id = 0;

	web_base_url(r, &base);
	host = strstr(prl_buf_str(&base), "://") + 3;
	*query = NULL;
	if (!strncmp(url, "https://", 8))
		path = url + 8;
	else if (!strncmp(url, "http://", 7))
		path = url + 7;
	if (path && !strncmp(path, host, strlen(host)) && path[strlen(host)] == '/') {
		path += strlen(host);
		if (!strncmp(path, "/recordings/", 12))
			rest = path + 12;
		else if (!strncmp(path, "/embed/", 7))
			rest = path + 7;
		else
			rest = NULL;
		if (rest) {
			size_t n = strcspn(rest, "?#");

			if (web_parse_id(rest, n, &id) < 0)
				id = 0;
			else if (rest[n] == '?' && !strncmp(path, "/embed/", 7))
				*query = rest + n;
		}
	}
	prl_buf_release(&base);
	return id;
}

/* A size the consumer asks for: at most max when max is a positive number. */
static int clamp_to(int want, const char *max, int least)
{
	long m = max ? strtol(max, NULL, 10) : 0;

	if (m > 0 && m < want)
		want = m < least ? least : (int)m;
	return want;
}

enum MHD_Result web_oembed(struct web_request *r, const struct web_params *p)
{
	const char *url = web_arg(r, "url"), *format = web_arg(r, "format"), *query = NULL;
	struct prl_buf base = PRL_BUF_INIT, src = PRL_BUF_INIT, html = PRL_BUF_INIT,
		       body = PRL_BUF_INIT;
	unsigned status = 0;
	int64_t id;
	int width, height, text;
	json_t *rec, *out;
	struct MHD_Response *resp;
	char *js, *bytes;
	size_t len;

	(void)p;
	if (!url || !*url)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "url is required");
	if (format && strcmp(format, "json"))
		return web_error_json(r, MHD_HTTP_NOT_IMPLEMENTED, "only format=json is offered");
	if ((id = our_recording(r, url, &query)) <= 0)
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "not a recording of this archive");
	if (!(rec = public_recording(r, id, &status)))
		return web_error_json(r, status,
				      status == MHD_HTTP_NOT_FOUND ? "no such public recording"
								   : "the archive cannot answer");
	text = query && strstr(query, "transcript=1");
	width = clamp_to(EMBED_WIDTH, web_arg(r, "maxwidth"), EMBED_MIN_WIDTH);
	height = clamp_to(text ? EMBED_HEIGHT_TEXT : EMBED_HEIGHT, web_arg(r, "maxheight"),
			  EMBED_HEIGHT);
	web_base_url(r, &base);
	prl_buf_addf(&src, "%s/embed/%lld", prl_buf_str(&base), (long long)id);
	if (query)
		prl_buf_addstr(&src, query);
	prl_buf_addstr(&html, "<iframe src=\"");
	prl_xml_escape(&html, prl_buf_str(&src));
	prl_buf_addf(&html, "\" width=\"%d\" height=\"%d\" title=\"", width, height);
	prl_xml_escape(&html, json_string_value(json_object_get(rec, "title")));
	prl_buf_addstr(&html, "\" loading=\"lazy\" style=\"border:0\"></iframe>");
	out = json_pack("{sssssOsssssisisssi}", "version", "1.0", "type", "rich", "title",
			json_object_get(rec, "title"), "provider_name", "parlers", "provider_url",
			prl_buf_str(&base), "width", width, "height", height, "html",
			prl_buf_str(&html), "cache_age", 86400);
	if (out && json_is_string(json_object_get(rec, "collector")))
		json_object_set(out, "author_name", json_object_get(rec, "collector"));
	json_decref(rec);
	js = out ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	prl_buf_release(&base);
	prl_buf_release(&src);
	prl_buf_release(&html);
	if (!js)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	prl_buf_addstr(&body, js);
	free(js);
	if (!(bytes = prl_buf_detach(&body, &len)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE))) {
		free(bytes);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
	/* a CMS asks from its server, a page's script may ask too */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)len);
}
