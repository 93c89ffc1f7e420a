/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * IIIF Presentation 3: /iiif/{id}/manifest.json (one recording as an audio
 * Canvas), /iiif/collection.json (every manifest the viewer may see) and
 * /iiif/routes/{slug}/collection.json (a thematic route: the manifests of
 * its recordings, each asked with ?route=slug so that it carries a Range
 * per stop of the route in it, in the route's order).
 *
 * A manifest: labels in French and English; a Canvas with the recording's
 * duration in seconds; a painting Annotation whose body is a Choice of the
 * Opus access copy and the MP3 one; one supplementing AnnotationPage per
 * tier, each segment a TextualBody targeting the Canvas with a Media
 * Fragment (#t=start,end); and one more supplementing Annotation with the
 * WebVTT file (/api/recordings/{id}/annotations.vtt) as a Text body.
 *
 * Always holds: what goes in follows the archive's answer for the
 * request's viewer: a private (or unknown) recording is a 404; a
 * restricted one the viewer may not hear is a manifest with its metadata
 * and an empty Canvas (no audio, no transcript).  JSON is built with
 * jansson, so it is always well formed.
 *
 * Expected workload: viewers loading one manifest at a time; a collection
 * of up to thousands of entries.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "web-internal.h"

#define IIIF_CONTEXT "http://iiif.io/api/presentation/3/context.json"
#define JSONLD_MIME "application/ld+json;profile=\"" IIIF_CONTEXT "\""

/* {"fr": [fr], "en": [en]} */
static json_t *lang_map(const char *fr, const char *en)
{
	return json_pack("{s[s]s[s]}", "fr", fr ? fr : "", "en", en ? en : "");
}

/* {"none": [v]} for values that are names, not words of a language. */
static json_t *none_map(const char *v)
{
	return json_pack("{s[s]}", "none", v ? v : "");
}

static void add_meta(json_t *list, const char *fr, const char *en, const char *value)
{
	if (value && *value)
		json_array_append_new(list, json_pack("{soso}", "label", lang_map(fr, en), "value",
						      none_map(value)));
}

static char *url(const struct prl_buf *base, const char *fmt, long long id, const char *tail)
{
	struct prl_buf b = PRL_BUF_INIT;

	prl_buf_addstr(&b, prl_buf_str(base));
	prl_buf_addf(&b, fmt, id);
	if (tail)
		prl_buf_addstr(&b, tail);
	return prl_buf_detach(&b, NULL);
}

static void add_transcript(json_t *annotations, json_t *tiers, const struct prl_buf *base,
			   long long id, const char *canvas)
{
	json_t *tier, *seg;
	size_t i, k;

	json_array_foreach(tiers, i, tier)
	{
		json_t *items = json_array(), *page;
		long long tid = (long long)json_integer_value(json_object_get(tier, "id"));
		const char *name = json_string_value(json_object_get(tier, "name"));
		const char *lang = json_string_value(json_object_get(tier, "language"));
		struct prl_buf b = PRL_BUF_INIT;

		json_array_foreach(json_object_get(tier, "segments"), k, seg)
		{
			json_t *body, *ann;
			char *aid, target[512];
			long long s =
				(long long)json_integer_value(json_object_get(seg, "start_ms"));
			long long e = (long long)json_integer_value(json_object_get(seg, "end_ms"));

			prl_buf_reset(&b);
			prl_buf_addstr(&b, prl_buf_str(base));
			prl_buf_addf(&b, "/iiif/%lld/annotation/%lld", id,
				     (long long)json_integer_value(json_object_get(seg, "id")));
			aid = prl_buf_detach(&b, NULL);
			/* Media Fragments: seconds with the millisecond kept */
			snprintf(target, sizeof(target), "%s#t=%lld.%03lld,%lld.%03lld", canvas,
				 s / 1000, s % 1000, e / 1000, e % 1000);
			body = json_pack("{ssssss}", "type", "TextualBody", "value",
					 json_string_value(json_object_get(seg, "text"))
						 ? json_string_value(json_object_get(seg, "text"))
						 : "",
					 "format", "text/plain");
			if (lang && body)
				json_object_set_new(body, "language", json_string(lang));
			ann = json_pack("{sssssssoss}", "id", aid ? aid : "", "type", "Annotation",
					"motivation", "supplementing", "body", body, "target",
					target);
			if (ann)
				json_array_append_new(items, ann);
			free(aid);
		}
		prl_buf_reset(&b);
		prl_buf_addstr(&b, prl_buf_str(base));
		prl_buf_addf(&b, "/iiif/%lld/tier/%lld", id, tid);
		page = json_pack("{sssssoso}", "id", prl_buf_str(&b), "type", "AnnotationPage",
				 "label", lang_map(name, name), "items", items);
		if (page)
			json_array_append_new(annotations, page);
		prl_buf_release(&b);
	}
}

/* The manifest of recording rec (the archive's JSON for this viewer). */
/* The manifest's metadata: date, place, variety, speakers... in French and English. */
static json_t *manifest_metadata(json_t *rec)
{
	json_t *place = json_object_get(rec, "place"), *meta = json_array(), *sp;
	json_t *speakers = json_object_get(rec, "speakers");
	struct prl_buf names = PRL_BUF_INIT;
	size_t i;

	add_meta(meta, "Date", "Date", json_string_value(json_object_get(rec, "date")));
	add_meta(meta, "Lieu", "Place", json_string_value(json_object_get(place, "name")));
	add_meta(meta, "Commune", "Municipality",
		 json_string_value(json_object_get(place, "commune")));
	add_meta(meta, "Parler", "Variety", json_string_value(json_object_get(rec, "variety")));
	add_meta(meta, "Langue", "Language", json_string_value(json_object_get(rec, "language")));
	json_array_foreach(speakers, i, sp)
		prl_buf_addf(&names, "%s%s", i ? ", " : "",
			     json_string_value(json_object_get(sp, "name"))
				     ? json_string_value(json_object_get(sp, "name"))
				     : "");
	add_meta(meta, "Locuteurs", "Speakers", prl_buf_str(&names));
	add_meta(meta, "Enquêteur", "Collector",
		 json_string_value(json_object_get(rec, "collector")));
	add_meta(meta, "Collection", "Collection",
		 json_string_value(json_object_get(rec, "collection")));
	add_meta(meta, "Accès", "Access", json_string_value(json_object_get(rec, "access")));
	prl_buf_release(&names);
	return meta;
}

/* The absolute URL of the access copy ext: the versioned one the
 * recording JSON names for this viewer, else the plain one. */
static char *media_url(const struct prl_buf *base, json_t *rec, const char *ext, long long id)
{
	const char *v = json_string_value(json_object_get(json_object_get(rec, "media"), ext));
	struct prl_buf b = PRL_BUF_INIT;

	prl_buf_add(&b, prl_buf_str(base), base->len);
	if (v && v[0] == '/')
		prl_buf_addstr(&b, v);
	else
		prl_buf_addf(&b, "/media/%lld.%s", id, ext);
	return prl_buf_detach(&b, NULL);
}

/* What a viewer who may hear the recording gets on its Canvas: the audio
 * (Opus, MP3 the other choice), the WebVTT and the tiers as annotations. */
static void canvas_audio(json_t *canvas, json_t *rec, const struct prl_buf *base, long long id,
			 const char *cid, double dur)
{
	char *page = url(base, "/iiif/%lld/page/1", id, NULL);
	char *ann = url(base, "/iiif/%lld/annotation/audio", id, NULL);
	char *opus = media_url(base, rec, "opus", id);
	char *mp3 = media_url(base, rec, "mp3", id);
	char *vtt = url(base, "/api/recordings/%lld/annotations.vtt", id, NULL);
	char *vtt_ann = url(base, "/iiif/%lld/annotation/vtt", id, NULL);
	char *vtt_page = url(base, "/iiif/%lld/vtt", id, NULL);
	json_t *choice =
		json_pack("{sss[{sssssssf}{sssssssf}]}", "type", "Choice", "items", "id", opus,
			  "type", "Sound", "format", "audio/ogg; codecs=opus", "duration", dur,
			  "id", mp3, "type", "Sound", "format", "audio/mpeg", "duration", dur);
	json_t *annotations = json_array(), *tiers = json_object_get(rec, "tiers");

	json_array_append_new(json_object_get(canvas, "items"),
			      json_pack("{sssss[{sssssssoss}]}", "id", page, "type",
					"AnnotationPage", "items", "id", ann, "type", "Annotation",
					"motivation", "painting", "body", choice, "target", cid));
	if (json_array_size(tiers)) {
		/* the WebVTT of the first transcription tier, for players that
		 * take captions whole */
		json_array_append_new(
			annotations,
			json_pack("{sssss[{sssssss{sssssssoss}ss}]}", "id", vtt_page, "type",
				  "AnnotationPage", "items", "id", vtt_ann, "type", "Annotation",
				  "motivation", "supplementing", "body", "id", vtt, "type", "Text",
				  "format", "text/vtt", "label",
				  lang_map("Transcription (WebVTT)", "Transcript (WebVTT)"),
				  "language",
				  json_string_value(json_object_get(rec, "language"))
					  ? json_string_value(json_object_get(rec, "language"))
					  : "und",
				  "target", cid));
		add_transcript(annotations, tiers, base, id, cid);
	}
	if (json_array_size(annotations))
		json_object_set_new(canvas, "annotations", annotations);
	else
		json_decref(annotations);
	free(page);
	free(ann);
	free(opus);
	free(mp3);
	free(vtt);
	free(vtt_ann);
	free(vtt_page);
}

static json_t *manifest(json_t *rec, const struct prl_buf *base)
{
	long long id = (long long)json_integer_value(json_object_get(rec, "id"));
	const char *title = json_string_value(json_object_get(rec, "title"));
	double dur = (double)json_integer_value(json_object_get(rec, "duration_ms")) / 1000.0;
	json_t *meta = manifest_metadata(rec), *m, *canvas;
	char *mid = url(base, "/iiif/%lld/manifest.json", id, NULL);
	char *cid = url(base, "/iiif/%lld/canvas/1", id, NULL);
	char *home = url(base, "/recordings/%lld", id, NULL);

	canvas = json_pack("{sssssosfs[]}", "id", cid, "type", "Canvas", "label",
			   lang_map(title, title), "duration", dur, "items");
	if (canvas && json_is_true(json_object_get(rec, "can_listen")))
		canvas_audio(canvas, rec, base, id, cid, dur);
	m = json_pack("{sssssssosos[o]s[{sssssosss[s]}]}", "@context", IIIF_CONTEXT, "id", mid,
		      "type", "Manifest", "label", lang_map(title, title), "metadata", meta,
		      "items", canvas, "homepage", "id", home, "type", "Text", "label",
		      lang_map("Page de l'enregistrement", "Recording page"), "format", "text/html",
		      "language", "fr", "en");
	/* the descriptions are written in French, and said to be */
	if (m && json_string_value(json_object_get(rec, "description")))
		json_object_set_new(
			m, "summary",
			json_pack("{s[s]}", "fr",
				  json_string_value(json_object_get(rec, "description"))));
	if (m && json_string_value(json_object_get(rec, "rights")))
		json_object_set_new(
			m, "requiredStatement",
			json_pack("{soso}", "label", lang_map("Droits", "Rights"), "value",
				  none_map(json_string_value(json_object_get(rec, "rights")))));
	free(mid);
	free(cid);
	free(home);
	return m;
}

static enum MHD_Result send_json(struct web_request *r, json_t *doc)
{
	struct prl_buf b = PRL_BUF_INIT;
	char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	struct MHD_Response *resp;
	size_t len;

	json_decref(doc);
	if (!s)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	prl_buf_addstr(&b, s);
	prl_buf_addch(&b, '\n');
	free(s);
	len = b.len;
	if (!(s = prl_buf_detach(&b, NULL)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE))) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSONLD_MIME);
	/* viewers on other sites load manifests: that is what IIIF is for */
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)len);
}

static void route_ranges(struct web_request *r, json_t *m, const char *slug, long long id,
			 const struct prl_buf *base);

enum MHD_Result web_iiif_manifest(struct web_request *r, const struct web_params *p)
{
	int64_t id = p->id;
	struct prl_buf base = PRL_BUF_INIT;
	struct web_blob *blob;
	json_t *rec, *m;
	int err = 0;

	/* the same JSON (and cache) as /api/recordings/{id}: the same access */
	if (!(blob = web_recording_json(r, id, &err)))
		return web_error_json(
			r, err == -PRL_EIO ? MHD_HTTP_SERVICE_UNAVAILABLE : web_status_for(err),
			err == -PRL_ENOTFOUND ? "no such recording" : NULL);
	rec = json_loadb(blob->data, blob->len, 0, NULL);
	web_blob_unref(blob);
	if (!rec)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	web_base_url(r, &base);
	m = manifest(rec, &base);
	if (m && web_arg(r, "route") && json_is_true(json_object_get(rec, "can_listen")))
		route_ranges(r, m, web_arg(r, "route"), id, &base);
	json_decref(rec);
	prl_buf_release(&base);
	if (!m)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	return send_json(r, m);
}

/* ---- a thematic route: a Collection of its recordings' manifests,
 * each (?route=slug) with a Range per stop of the route in it ---- */

/* Route slug as r's viewer may follow it (stops they may not hear left
 * out), parsed; NULL with *status when there is none. */
static json_t *route_for(struct web_request *r, const char *slug, unsigned *status)
{
	struct prl_buf b = PRL_BUF_INIT;
	json_t *route = NULL;

	if (web_route_json(r, slug, &b, status) == 0)
		route = json_loadb(b.data, b.len, 0, NULL);
	prl_buf_release(&b);
	if (!route && !*status)
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	return route;
}

static void route_ranges(struct web_request *r, json_t *m, const char *slug, long long id,
			 const struct prl_buf *base)
{
	unsigned status = 0;
	json_t *route = route_for(r, slug, &status), *ranges = json_array(), *stop;
	char *cid = url(base, "/iiif/%lld/canvas/1", id, NULL);
	size_t i;

	json_array_foreach(json_object_get(route, "stops"), i, stop)
	{
		long long s = (long long)json_integer_value(json_object_get(stop, "start_ms"));
		long long e = (long long)json_integer_value(json_object_get(stop, "end_ms"));
		long long n = (long long)json_integer_value(json_object_get(stop, "n"));
		const char *title = json_string_value(json_object_get(stop, "title"));
		const char *note = json_string_value(json_object_get(stop, "note"));
		char target[512], label[64];
		struct prl_buf rid = PRL_BUF_INIT;
		json_t *range;

		if (json_integer_value(json_object_get(stop, "recording_id")) != id)
			continue;
		snprintf(target, sizeof(target), "%s#t=%lld.%03lld,%lld.%03lld", cid ? cid : "",
			 s / 1000, s % 1000, e / 1000, e % 1000);
		snprintf(label, sizeof(label), "%lld", n);
		prl_buf_addstr(&rid, prl_buf_str(base));
		prl_buf_addstr(&rid, "/iiif/routes/");
		prl_buf_addstr(&rid, slug);
		prl_buf_addf(&rid, "/range/%lld", n);
		range = json_pack(
			"{sssssos[{ssss}]}", "id", prl_buf_str(&rid), "type", "Range", "label",
			lang_map(title && *title ? title : label, title && *title ? title : label),
			"items", "id", target, "type", "Canvas");
		if (range && note && *note)
			json_object_set_new(range, "summary", json_pack("{s[s]}", "fr", note));
		if (range)
			json_array_append_new(ranges, range);
		prl_buf_release(&rid);
	}
	if (json_array_size(ranges))
		json_object_set_new(m, "structures", ranges);
	else
		json_decref(ranges);
	json_decref(route);
	free(cid);
}

enum MHD_Result web_iiif_route(struct web_request *r, const struct web_params *p)
{
	struct prl_buf base = PRL_BUF_INIT, b = PRL_BUF_INIT;
	unsigned status = 0;
	char word[80];
	const char *slug = web_route_slug(p, word, sizeof(word));
	json_t *route = route_for(r, slug, &status), *items, *stop, *seen, *coll;
	const char *title;
	size_t i;

	if (!route)
		return web_error_json(r, status,
				      status == MHD_HTTP_NOT_FOUND ? "no such route" : NULL);
	web_base_url(r, &base);
	items = json_array();
	seen = json_object();
	/* each recording once, in the order the route first reaches it */
	json_array_foreach(json_object_get(route, "stops"), i, stop)
	{
		json_t *rec = json_object_get(stop, "recording");
		long long id = (long long)json_integer_value(json_object_get(stop, "recording_id"));
		const char *t = json_string_value(json_object_get(rec, "title"));
		char key[24];

		snprintf(key, sizeof(key), "%lld", id);
		if (json_object_get(seen, key))
			continue;
		json_object_set_new(seen, key, json_true());
		prl_buf_reset(&b);
		prl_buf_addstr(&b, prl_buf_str(&base));
		prl_buf_addf(&b, "/iiif/%lld/manifest.json?route=", id);
		prl_buf_addstr(&b, slug);
		json_array_append_new(items, json_pack("{ssssso}", "id", prl_buf_str(&b), "type",
						       "Manifest", "label", lang_map(t, t)));
	}
	title = json_string_value(json_object_get(route, "title"));
	prl_buf_reset(&b);
	prl_buf_addstr(&b, prl_buf_str(&base));
	prl_buf_addstr(&b, "/iiif/routes/");
	prl_buf_addstr(&b, slug);
	prl_buf_addstr(&b, "/collection.json");
	coll = json_pack("{sssssssoso}", "@context", IIIF_CONTEXT, "id", prl_buf_str(&b), "type",
			 "Collection", "label", lang_map(title, title), "items", items);
	if (coll && json_string_value(json_object_get(route, "intro")) &&
	    *json_string_value(json_object_get(route, "intro")))
		json_object_set_new(coll, "summary",
				    json_pack("{s[s]}", "fr",
					      json_string_value(json_object_get(route, "intro"))));
	prl_buf_reset(&b);
	prl_buf_addstr(&b, prl_buf_str(&base));
	prl_buf_addstr(&b, "/routes/");
	prl_buf_addstr(&b, slug);
	if (coll)
		json_object_set_new(coll, "homepage",
				    json_pack("[{sssssoss}]", "id", prl_buf_str(&b), "type", "Text",
					      "label", lang_map(title, title), "format",
					      "text/html"));
	json_decref(seen);
	json_decref(route);
	prl_buf_release(&b);
	prl_buf_release(&base);
	if (!coll)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	return send_json(r, coll);
}

enum MHD_Result web_iiif_collection(struct web_request *r, const struct web_params *p)
{
	struct prl_recording_filter f;
	struct prl_buf b = PRL_BUF_INIT, base = PRL_BUF_INIT;
	struct prl_archive *a;
	json_t *items = json_array(), *root = NULL, *e, *coll;
	size_t i;
	int ret = 0;

	(void)p;
	if (!(a = web_archive_get(r->srv))) {
		json_decref(items);
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	}
	web_base_url(r, &base);
	memset(&f, 0, sizeof(f));
	f.limit = 500;
	for (;;) {
		prl_buf_reset(&b);
		/* the listing holds what this viewer may know of, no more */
		if ((ret = prl_archive_list_json(a, &r->viewer, &f, &b)) < 0)
			break;
		json_decref(root);
		if (!(root = json_loadb(b.data, b.len, 0, NULL))) {
			ret = -PRL_ENOMEM;
			break;
		}
		json_array_foreach(json_object_get(root, "recordings"), i, e)
		{
			long long id = (long long)json_integer_value(json_object_get(e, "id"));
			const char *t = json_string_value(json_object_get(e, "title"));
			char *mid = url(&base, "/iiif/%lld/manifest.json", id, NULL);

			json_array_append_new(items,
					      json_pack("{ssssso}", "id", mid ? mid : "", "type",
							"Manifest", "label", lang_map(t, t)));
			free(mid);
		}
		if (!json_array_size(json_object_get(root, "recordings")) ||
		    f.offset + 500 >= json_integer_value(json_object_get(root, "total")))
			break;
		f.offset += 500;
	}
	web_archive_put(r->srv, a);
	json_decref(root);
	prl_buf_release(&b);
	if (ret < 0) {
		json_decref(items);
		prl_buf_release(&base);
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	prl_buf_addstr(&base, "/iiif/collection.json");
	coll = json_pack(
		"{sssssssoso}", "@context", IIIF_CONTEXT, "id", prl_buf_str(&base), "type",
		"Collection", "label",
		lang_map("Enregistrements de parlers normands", "Recordings of Norman speech"),
		"items", items);
	prl_buf_release(&base);
	if (!coll)
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	return send_json(r, coll);
}
