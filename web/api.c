/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The JSON API of the listening room: health, facets, the filtered list of
 * recordings, one recording, its waveform peaks, its annotations in every
 * interchange format, and search across the transcripts.  The JSON itself is the archive's (the
 * same bytes `parlers list --json` prints); this file maps requests to archive calls and archive
 * errors to statuses.
 *
 * Always holds: every answer about a recording comes from an archive
 * function that applies prl_access_decide() for the request's viewer, so
 * a private recording is a 404 and a restricted one's transcript a 403
 * here exactly as everywhere else; errors are {"error": "..."}.
 *
 * Expected workload: page loads (one recording, a list of up to 500) at
 * human pace, and scripts; a recording has up to a few thousand segments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/transcode.h"
#include "web-internal.h"

static enum MHD_Result archive_error(struct web_request *r, int err)
{
	unsigned status = web_status_for(err);
	const char *msg;

	switch (status) {
	case MHD_HTTP_NOT_FOUND:
		msg = "no such recording";
		break;
	case MHD_HTTP_FORBIDDEN:
		msg = "this recording is restricted: sign in as a researcher";
		break;
	default:
		msg = web_status_message(status);
		break;
	}
	return web_error_json(r, status, msg);
}

/* A whole non-negative decimal number, or -1. */
static int64_t arg_count(const char *s)
{
	char *end;
	long long v;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	return v;
}

enum MHD_Result web_api_health(struct web_request *r, const struct web_params *p)
{
	struct prl_archive *a = web_archive_get(r->srv);
	struct prl_buf b = PRL_BUF_INIT;

	(void)p;
	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	prl_buf_addf(&b, "{\"status\":\"ok\",\"version\":");
	prl_json_str(&b, PRL_WEB_VERSION);
	/* whether searches can use the postings in memory yet (the server
	 * reads them in the background after it starts) */
	prl_buf_addf(&b, ",\"schema\":%d,\"search_in_memory\":%s}\n", prl_archive_schema_version(a),
		     prl_archive_search_memory_state(NULL, NULL, NULL) ? "true" : "false");
	web_archive_put(r->srv, a);
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-store");
}

enum MHD_Result web_api_facets(struct web_request *r, const struct web_params *p)
{
	struct prl_archive *a = web_archive_get(r->srv);
	struct prl_buf b = PRL_BUF_INIT;
	int ret;

	(void)p;
	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_facets_json(a, &r->viewer, &b);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return archive_error(r, ret);
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

enum MHD_Result web_api_list(struct web_request *r, const struct web_params *p)
{
	struct prl_recording_filter f;
	struct prl_archive *a;
	struct prl_buf b = PRL_BUF_INIT;
	const char *off = web_arg(r, "offset"), *lim = web_arg(r, "limit");
	int ret;

	(void)p;
	memset(&f, 0, sizeof(f));
	f.place = web_arg(r, "place");
	f.speaker = web_arg(r, "speaker");
	f.variety = web_arg(r, "variety");
	f.collection = web_arg(r, "collection");
	f.institution = web_arg(r, "institution");
	if (off && *off && (f.offset = arg_count(off)) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "offset: not a whole number");
	if (lim && *lim && (f.limit = arg_count(lim)) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "limit: not a whole number");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_list_json(a, &r->viewer, &f, &b);
	if (ret == -PRL_EINVAL) { /* a filter naming nothing: the archive says which */
		enum MHD_Result res =
			web_error_json(r, MHD_HTTP_BAD_REQUEST, prl_archive_errmsg(a));

		web_archive_put(r->srv, a);
		prl_buf_release(&b);
		return res;
	}
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return archive_error(r, ret);
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}

enum MHD_Result web_api_recording(struct web_request *r, const struct web_params *p)
{
	int64_t id = p->id;
	struct MHD_Response *resp;
	struct web_blob *blob;
	int64_t len;
	int err = 0, gz;

	if (!(blob = web_recording_json(r, id, &err)))
		return err == -PRL_EIO ? web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
							"the archive cannot be opened")
				       : archive_error(r, err);
	gz = blob->gz && web_accepts_gzip(web_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	len = (int64_t)(gz ? blob->gz_len : blob->len);
	resp = web_blob_response(blob, gz);
	web_blob_unref(blob);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return web_queue(r, MHD_HTTP_OK, resp, len);
}

/* True when [t0, t1) ms touches one of the n spans (start/end pairs). */
static int in_spans(const int64_t *spans, size_t n, int64_t t0, int64_t t1)
{
	for (size_t i = 0; i < n; i++)
		if (t0 < spans[2 * i + 1] && t1 > spans[2 * i])
			return 1;
	return 0;
}

/* Copies the peaks JSON of prl_peaks_json() from in to out with every
 * pixel that touches one of the n spans flattened to 0: the waveform of a
 * withheld passage shows no more than its silent audio. */
static int peaks_mute(const struct prl_buf *in, const int64_t *spans, size_t n, struct prl_buf *out)
{
	const char *s = prl_buf_str(in), *d = strstr(s, "\"data\":["),
		   *sr = strstr(s, "\"sample_rate\":"), *sp = strstr(s, "\"samples_per_pixel\":");
	int64_t rate, spp;

	if (!d || !sr || !sp)
		return -PRL_EFORMAT;
	rate = strtoll(sr + 14, NULL, 10);
	spp = strtoll(sp + 20, NULL, 10);
	if (rate <= 0 || spp <= 0)
		return -PRL_EFORMAT;
	d += 8;
	prl_buf_add(out, s, (size_t)(d - s));
	/* the data are min,max pairs, one per pixel of spp samples */
	for (int64_t i = 0; *d && *d != ']'; i++) {
		const char *e = d + strcspn(d, ",]");
		int64_t px = i / 2;

		if (in_spans(spans, n, px * spp * 1000 / rate,
			     ((px + 1) * spp * 1000 + rate - 1) / rate))
			prl_buf_addch(out, '0');
		else
			prl_buf_add(out, d, (size_t)(e - d));
		if (*e == ',')
			prl_buf_addch(out, *e++);
		d = e;
	}
	return prl_buf_addstr(out, d);
}

/* "\"<sha256>-<level>\"", with a digest of the spans flattened when there are
 * any: visitors and staff never share a validator. */
static void peaks_etag(char out[100], const char *sha256, int level, const int64_t *spans, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (!n) {
		snprintf(out, 100, "\"%.64s-%d\"", sha256, level);
		return;
	}
	for (size_t i = 0; i < 2 * n; i++)
		h = (h ^ (uint64_t)spans[i]) * 0x100000001b3ull;
	snprintf(out, 100, "\"%.64s-%d-w%016llx\"", sha256, level, (unsigned long long)h);
}

enum MHD_Result web_api_peaks(struct web_request *r, const struct web_params *p)
{
	int64_t id = p->id;
	struct prl_archive *a;
	struct prl_media m;
	struct prl_buf b = PRL_BUF_INIT, muted = PRL_BUF_INIT;
	const char *lv = web_arg(r, "level"), *inm;
	struct MHD_Response *resp;
	int64_t *spans = NULL;
	size_t nspans = 0, len = 0;
	char etag[100], *data;
	int64_t level = 0;
	int ret;

	if (lv && *lv && ((level = arg_count(lv)) < 0 || level > 16))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "level: a zoom level, 0 the finest");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	memset(&m, 0, sizeof(m));
	ret = prl_archive_media(a, &r->viewer, id, PRL_MEDIA_PEAKS, &m);
	/* what this viewer may not hear is flat in what they see */
	if (ret == 0 && (ret = prl_archive_withheld_from(a, &r->viewer, id, &spans, &nspans)) < 0)
		prl_media_clear(&m);
	web_archive_put(r->srv, a);
	if (ret < 0)
		return archive_error(r, ret);
	peaks_etag(etag, m.sha256, (int)level, spans, nspans);
	if ((inm = web_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH)) &&
	    web_etag_match_weak(inm, etag)) {
		prl_media_clear(&m);
		free(spans);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
		web_add_cache_control(r, resp, 0);
		return web_queue(r, MHD_HTTP_NOT_MODIFIED, resp, 0);
	}
	ret = prl_peaks_json(m.path, (int)level, &b);
	prl_media_clear(&m);
	if (ret == 0 && nspans) {
		struct prl_buf whole = b;

		ret = peaks_mute(&whole, spans, nspans, &muted);
		b = muted;
		muted = whole;
	}
	free(spans);
	prl_buf_release(&muted);
	if (ret < 0) {
		prl_buf_release(&b);
		if (ret == -PRL_ENOTFOUND)
			return web_error_json(r, MHD_HTTP_NOT_FOUND, "no peaks at this level");
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "the peaks file is damaged");
	}
	prl_buf_addch(&b, '\n');
	if (!(data = prl_buf_detach(&b, &len)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_MIME);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	/* revalidated, since access to the recording and its spans may change */
	web_add_cache_control(r, resp, 0);
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)len);
}

static const struct {
	const char *ext; /* as the URL spells it */
	const char *mime;
	int download; /* Content-Disposition: attachment */
} annot_types[] = {
	{"eaf", "application/xml; charset=utf-8", 1},
	{"TextGrid", "text/plain; charset=utf-8", 1},
	{"vtt", "text/vtt; charset=utf-8", 0},
	{"srt", "application/x-subrip; charset=utf-8", 1},
	{"csv", "text/csv; charset=utf-8", 1},
	{"json", "application/json; charset=utf-8", 0},
	{"tei", "application/tei+xml; charset=utf-8", 1},
};

static int has_tier(const struct prl_annot_doc *doc, const char *name)
{
	for (size_t i = 0; i < doc->ntiers; i++)
		if (doc->tiers[i].name && strcmp(doc->tiers[i].name, name) == 0)
			return 1;
	return 0;
}

enum MHD_Result web_api_annotations(struct web_request *r, const struct web_params *p)
{
	const char *ext = p->tail;
	int64_t id = p->id;
	struct prl_annot_write_opts wo;
	struct prl_recording_brief brief;
	struct prl_annot_doc *doc = NULL;
	struct prl_buf out = PRL_BUF_INIT, warn = PRL_BUF_INIT, url = PRL_BUF_INIT;
	struct prl_archive *a;
	struct MHD_Response *resp;
	char disp[128];
	size_t t, n = sizeof(annot_types) / sizeof(annot_types[0]), len = 0;
	int fmt, ret, have_brief = 0, loaded = 0;
	const char *wo_tier = NULL;
	char *data;

	for (t = 0; t < n; t++)
		if (strcmp(ext, annot_types[t].ext) == 0)
			break;
	if (t == n || (fmt = prl_annot_format_parse(ext)) < 0)
		return web_error_json(r, MHD_HTTP_NOT_FOUND,
				      "no such format (eaf, TextGrid, vtt, srt, csv, json, tei)");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	/* the gate names the recording; loading applies the same rule */
	if ((ret = prl_archive_recording_open(a, &r->viewer, id, PRL_SEE_ALL, &brief)) < 0)
		goto end;
	have_brief = 1;
	if ((ret = prl_archive_annotations_load(a, &r->viewer, id, &doc)) < 0)
		goto end;
	loaded = 1;
	if ((wo_tier = web_arg(r, "tier")) && !has_tier(doc, wo_tier)) {
		ret = -PRL_ENOTFOUND; /* not an empty file: say the tier is not there */
		goto end;
	}
	prl_buf_addf(&url, "/media/%lld.opus", (long long)id);
	memset(&wo, 0, sizeof(wo));
	wo.tier = wo_tier;
	wo.media_url = prl_buf_str(&url);
	wo.title = brief.title;
	wo.duration_ms = brief.duration_ms > 0 ? brief.duration_ms : -1;
	ret = prl_annot_write((enum prl_annot_format)fmt, doc, &wo, &out, &warn);
end:
	web_archive_put(r->srv, a);
	prl_annot_doc_free(doc);
	if (have_brief)
		prl_recording_brief_clear(&brief);
	prl_buf_release(&warn);
	prl_buf_release(&url);
	if (ret < 0) {
		prl_buf_release(&out);
		/* once loaded, only the writer can fail: a tier it was asked for */
		if (loaded && (ret == -PRL_ENOTFOUND || ret == -PRL_EINVAL))
			return web_error_json(r, MHD_HTTP_NOT_FOUND, "no such tier");
		return archive_error(r, ret);
	}
	if (!(data = prl_buf_detach(&out, &len)))
		return MHD_NO;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, annot_types[t].mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	snprintf(disp, sizeof(disp), "%s; filename=\"recording-%lld.%s\"",
		 annot_types[t].download ? "attachment" : "inline", (long long)id,
		 annot_types[t].ext);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)len);
}

enum MHD_Result web_api_search(struct web_request *r, const struct web_params *p)
{
	struct prl_search_opts o;
	struct prl_archive *a;
	struct prl_buf b = PRL_BUF_INIT;
	const char *off = web_arg(r, "offset"), *lim = web_arg(r, "limit"),
		   *sort = web_arg(r, "sort");
	enum MHD_Result res;
	int ret;

	(void)p;
	memset(&o, 0, sizeof(o));
	o.query = web_arg(r, "q");
	o.tier_type = web_arg(r, "tier");
	o.place = web_arg(r, "place");
	o.speaker = web_arg(r, "speaker");
	o.variety = web_arg(r, "variety");
	o.collection = web_arg(r, "collection");
	o.institution = web_arg(r, "institution");
	o.date_from = web_arg(r, "from");
	o.date_to = web_arg(r, "to");
	if (off && *off && (o.offset = arg_count(off)) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "offset: not a whole number");
	if (lim && *lim && (o.limit = arg_count(lim)) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "limit: not a whole number");
	if (!sort || !*sort || !strcmp(sort, "relevance"))
		o.sort = PRL_SORT_RELEVANCE;
	else if (!strcmp(sort, "date"))
		o.sort = PRL_SORT_DATE;
	else if (!strcmp(sort, "place"))
		o.sort = PRL_SORT_PLACE;
	else
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "sort: relevance, date or place");
	o.no_variants = web_arg(r, "exact") != NULL;
	o.with_groups = web_arg(r, "groups") != NULL;
	if (!o.query || !*o.query)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "q: say what to search for");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	/* the archive searches only what the viewer may read */
	ret = prl_archive_search_json(a, &r->viewer, &o, &b);
	if (ret == -PRL_EINVAL) {
		/* a sentence meant for the visitor: the query cannot be used */
		res = web_error_json(r, MHD_HTTP_BAD_REQUEST, prl_archive_errmsg(a));
		web_archive_put(r->srv, a);
		prl_buf_release(&b);
		return res;
	}
	/* the partners' harvested records that match, on the first page of a
	 * search our own filters do not narrow (they know none of them) */
	if (ret == 0 && o.offset == 0) {
		const char *ours[] = {o.place,	     o.speaker,	  o.variety,   o.collection,
				      o.institution, o.tier_type, o.date_from, o.date_to};
		int narrowed = 0;

		for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			narrowed |= ours[i] && *ours[i];
		if (!narrowed)
			ret = web_partner_hits_append(a, o.query, 10, &b);
	}
	web_archive_put(r->srv, a);
	if (ret < 0) {
		prl_buf_release(&b);
		return archive_error(r, ret);
	}
	prl_buf_addch(&b, '\n');
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-cache");
}
