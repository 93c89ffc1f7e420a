/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Media streaming: /media/{id}.opus, .mp3 and .orig.  Which file, and
 * whether this visitor may have it, comes from prl_archive_media() (the
 * archive decides access; a path comes only from the database), kept for
 * the next request by the media cache (mediacache.c) while the archive
 * does not change.  Here: the validators (a strong ETag from the content's
 * SHA-256, Last-Modified), the conditional requests of RFC 9110 section 13
 * in the order it gives, one byte range or the whole file, and HEAD.
 *
 * Always holds: every request is decided for its own viewer --
 * prl_access_decide() on the recording's level, with the archive's answer
 * for the viewer's role behind it, both from the archive as it is now
 * (a commit empties the cache for the next request); bytes go from the
 * file to the socket through an fd-at-offset response (sendfile where the
 * kernel has it), never through a buffer holding the file; a response
 * carries the headers of the representation it is about, 304 and 416
 * included.
 *
 * With media in an object store and the server started with a redirect
 * expiry (prl_web_opts.media_redirect_s, `serve --media-redirect`), a
 * request the access rule lets through is answered 307 (the method kept:
 * HEAD stays HEAD) to a URL of the object presigned for that method and
 * valid for those seconds; the client then asks the store, which answers
 * ranges and conditional requests itself.  Redirected: the access copies
 * (opus, mp3) and the originals, to whoever the archive gives them,
 * staff hearing withheld passages included -- each of them a whole
 * stored object named by its content's hash.  Not redirected, served as
 * above: a recording heard with withheld passages silent (a visitor's
 * copy is the muted one, remade whenever the spans change: no URL to it
 * may outlive that, and none to the original is ever signed for such a
 * viewer); everything made for the request rather than stored (clips,
 * the waveform's JSON, exports).  A refusal is the same 404 or 403 as
 * without the option: the archive's gate decides before anything is
 * signed.  The redirect says Cache-Control: private, no-store (its URL
 * expires) and carries a one-line body; no object is fetched into media/
 * (nor by a recording's JSON, which names each copy by its hash alone).
 *
 * Expected workload: most requests are ranges of a few tens of kilobytes
 * from players seeking and buffering; several per second per listener,
 * tens of thousands a second in all.  A cached answer costs two stat()s,
 * a dup() and no formatting but the Content-Range.  A redirect costs the
 * archive's lookup and five HMACs, and is asked once per playback.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web-internal.h"

static enum MHD_Result media_error(struct web_request *r, int err)
{
	unsigned status = web_status_for(err);

	return web_error_json(r, status,
			      status == MHD_HTTP_NOT_FOUND   ? "no such recording or media"
			      : status == MHD_HTTP_FORBIDDEN ? "forbidden: sign in as a researcher"
							     : web_status_message(status));
}

/* The headers that describe the representation, whatever the status. */
static void add_validators(struct web_request *r, struct MHD_Response *resp,
			   const struct web_media_file *f, int immutable)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, f->lastmod);
	web_add_cache_control(r, resp, immutable);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

static enum MHD_Result empty_answer(struct web_request *r, unsigned status,
				    const struct web_media_file *f, int immutable,
				    const char *content_range)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	add_validators(r, resp, f, immutable);
	if (content_range)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	return web_queue(r, status, resp, 0);
}

/* RFC 9110 13.2.2 steps 1-4: 412 or 304 when a precondition says so, else 0. */
static unsigned preconditions(struct web_request *r, const char *etag, time_t mtime)
{
	const char *im = web_header(r, MHD_HTTP_HEADER_IF_MATCH);
	const char *inm = web_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *h;
	time_t t;

	if (im) {
		if (!web_etag_match_strong(im, etag) && strcmp(im, "*") != 0)
			return MHD_HTTP_PRECONDITION_FAILED;
	} else if ((h = web_header(r, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE)) &&
		   web_http_date_parse(h, &t) == 0 && mtime > t) {
		return MHD_HTTP_PRECONDITION_FAILED;
	}
	if (inm) {
		if (web_etag_match_weak(inm, etag))
			return MHD_HTTP_NOT_MODIFIED;
	} else if ((h = web_header(r, MHD_HTTP_HEADER_IF_MODIFIED_SINCE)) &&
		   web_http_date_parse(h, &t) == 0 && mtime <= t) {
		return MHD_HTTP_NOT_MODIFIED;
	}
	return 0;
}

/* Step 5: does the Range apply?  If-Range must name this very version. */
static int range_applies(struct web_request *r, const char *etag, const char *lastmod)
{
	const char *ir = web_header(r, MHD_HTTP_HEADER_IF_RANGE);

	if (r->is_head)
		return 0; /* RFC 9110 14.2: range handling is defined for GET only */
	if (!ir)
		return 1;
	while (*ir == ' ' || *ir == '\t')
		ir++;
	if (*ir == '"' || (ir[0] == 'W' && ir[1] == '/'))
		return web_etag_match_strong(ir, etag);
	/* a date validator matches only exactly, and only our own Last-Modified */
	return strcmp(ir, lastmod) == 0;
}

/* Writes v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* "bytes first-last/size" or, with first < 0, "bytes *\/size", into out
 * (at least 80 bytes): snprintf costs more than the rest of a cached
 * answer. */
static void content_range(char *out, int64_t first, int64_t last, int64_t size)
{
	char *p = out;

	memcpy(p, "bytes ", 6);
	p += 6;
	if (first < 0) {
		*p++ = '*';
	} else {
		p = put_u64(p, (uint64_t)first);
		*p++ = '-';
		p = put_u64(p, (uint64_t)last);
	}
	*p++ = '/';
	p = put_u64(p, (uint64_t)size);
	*p = '\0';
}

/* Why media_lookup() has no file besides the archive's own refusals. */
enum {
	LOOKUP_NO_ARCHIVE = 1, /* no handle could be opened: 503 */
	LOOKUP_FILE_GONE = 2,  /* the row names a file that is gone: 404, fsck will say so */
};

/* The file for (id, kind) as r's viewer may have it, asking the archive:
 * 0 and a reference in *out, a negative prl_err from the archive, or a
 * LOOKUP_ value.  Under a settled sig the answer is kept for the next
 * request of the same role. */
static int media_lookup(struct web_request *r, int64_t id, enum prl_media_kind kind, uint64_t sig,
			struct web_media_file **out)
{
	struct web_cache *c = &r->srv->cache;
	struct prl_recording_brief b;
	struct web_media_file *f;
	struct prl_archive *a;
	struct prl_media m;
	enum prl_access level = PRL_ACCESS_PRIVATE;
	int ret, keep = 0;

	if (!(a = web_archive_get(r->srv)))
		return LOOKUP_NO_ARCHIVE;
	memset(&m, 0, sizeof(m));
	ret = prl_archive_media(a, &r->viewer, id, kind, &m);
	if (ret == 0 && WEB_SIG_SETTLED(sig) &&
	    prl_archive_recording_open(a, &r->viewer, id, PRL_SEE_ALL, &b) == 0) {
		level = b.access;
		keep = 1;
		prl_recording_brief_clear(&b);
	}
	web_archive_put(r->srv, a);
	if (ret < 0)
		return ret;
	f = web_media_file_open(&m, kind, id, &ret);
	prl_media_clear(&m);
	if (!f)
		return ret == -PRL_EIO ? LOOKUP_FILE_GONE : ret;
	if (keep)
		web_media_cache_put(c->media, id, kind, (int)r->viewer.role, sig, level, f);
	*out = f;
	return 0;
}

/* The redirect to the object store for (id, kind) when the server makes
 * them: 1 with *res answered (a 307, or the archive's refusal), 0 when
 * this request is served from media/ as without them. */
static int media_redirect(struct web_request *r, int64_t id, enum prl_media_kind kind,
			  enum MHD_Result *res)
{
	static const char body[] = "Moved to the object store for a short time.\n";
	struct prl_buf url = PRL_BUF_INIT;
	struct MHD_Response *resp;
	struct prl_archive *a;
	int ret;

	if (!(a = web_archive_get(r->srv))) {
		*res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
		return 1;
	}
	ret = prl_archive_media_presign(a, &r->viewer, id, kind, r->is_head ? "HEAD" : "GET",
					r->srv->opts.media_redirect_s, &url);
	web_archive_put(r->srv, a);
	if (ret == 1)
		return 0;
	if (ret < 0) {
		prl_buf_release(&url);
		/* the gate refuses with ENOTFOUND or EACCESS; EINVAL is the
		 * store's client that cannot be made (its credentials) */
		*res = ret == -PRL_EINVAL ? web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
							   "the object store cannot be reached")
					  : media_error(r, ret);
		return 1;
	}
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	if (resp) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, prl_buf_str(&url));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
	}
	prl_buf_release(&url);
	*res = web_queue(r, MHD_HTTP_TEMPORARY_REDIRECT, resp, (int64_t)sizeof(body) - 1);
	return 1;
}

int web_media_version_is(const struct web_media_file *f, const char *v)
{
	/* f->etag is "\"<sha256>\"" */
	return v && strlen(v) == WEB_MEDIA_VERSION_LEN &&
	       memcmp(v, f->etag + 1, WEB_MEDIA_VERSION_LEN) == 0;
}

enum MHD_Result web_media(struct web_request *r, const struct web_params *p)
{
	const char *ext = p->tail;
	int64_t id = p->id;
	enum prl_media_kind kind = !strcmp(ext, "opus")	 ? PRL_MEDIA_OPUS
				   : !strcmp(ext, "mp3") ? PRL_MEDIA_MP3
							 : PRL_MEDIA_ORIGINAL;
	struct web_cache *c = &r->srv->cache;
	uint64_t sig = web_cache_signature(c);
	enum prl_access level = PRL_ACCESS_PRIVATE;
	struct web_media_file *f;
	struct MHD_Response *resp;
	char crange[80];
	int64_t first = 0, last = 0;
	int immutable, keep, variant;
	enum MHD_Result res;
	unsigned status;
	int fd = -1, err = 0;

	if (r->srv->opts.media_redirect_s > 0 && media_redirect(r, id, kind, &res))
		return res;
	f = web_media_cache_get(c->media, id, kind, (int)r->viewer.role, sig, &level);
	/* the rule, applied to this viewer on the level the archive has now */
	if (f && prl_access_decide(&r->viewer, level) != PRL_SEE_ALL) {
		web_media_file_unref(f);
		f = NULL;
	}
	if (!f && (err = media_lookup(r, id, kind, sig, &f)) != 0) {
		if (err == LOOKUP_FILE_GONE)
			return web_error_json(r, MHD_HTTP_NOT_FOUND, "the media file is missing");
		if (err == LOOKUP_NO_ARCHIVE)
			return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					      "the archive cannot be opened");
		return media_error(r, err);
	}
	/* The bytes at /media/ID.EXT change with the recording's level and
	 * withheld spans, and differ between staff and visitors: that URL is
	 * revalidated.  Only the URL naming the very bytes sent (?v=, the start
	 * of their hash, as the API hands it out) is kept for good. */
	immutable = web_media_version_is(f, web_arg(r, "v"));

	if ((status = preconditions(r, f->etag, f->mtime)) != 0) {
		res = empty_answer(r, status, f, immutable, NULL);
		goto end;
	}
	status = MHD_HTTP_OK;
	first = 0;
	last = f->size - 1;
	if (range_applies(r, f->etag, f->lastmod)) {
		switch (web_range_parse(web_header(r, MHD_HTTP_HEADER_RANGE), f->size, &first,
					&last)) {
		case WEB_RANGE_NONE:
			first = 0;
			last = f->size - 1;
			break;
		case WEB_RANGE_ONE:
			status = MHD_HTTP_PARTIAL_CONTENT;
			break;
		case WEB_RANGE_UNSATISFIABLE:
			content_range(crange, -1, 0, f->size);
			res = empty_answer(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, f, immutable, crange);
			goto end;
		}
	}
	/* the same range to the same kind of viewer: the answer made before */
	keep = web_may_keep(r);
	variant = web_media_variant(r, immutable);
	if (keep && web_media_kept_queue(f, r, status, first, last, variant, &res))
		goto end;
	/* MHD closes its own copy of the descriptor with the response; the
	 * cache keeps the original open for the next request */
	if ((fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, "too many open files");
		goto end;
	}
	resp = MHD_create_response_from_fd_at_offset64((uint64_t)(last - first + 1), fd,
						       (uint64_t)first);
	if (!resp) {
		close(fd);
		res = MHD_NO;
		goto end;
	}
	add_validators(r, resp, f, immutable);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->mime);
	if (f->disposition[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, f->disposition);
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		content_range(crange, first, last, f->size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
	}
	if (!keep) {
		res = web_queue(r, status, resp, last - first + 1);
		goto end;
	}
	/* made whole now, since it is shared from here on */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	res = web_queue_kept(r, status, resp, last - first + 1);
	web_media_kept_put(f, status, first, last, variant, resp);
end:
	web_media_file_unref(f);
	return res;
}
