/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Media streaming: /media/{id}.opus, .mp3 and .orig.  Which file, and
 * whether this visitor may have it, comes from prl_archive_media() (the
 * archive decides access; a path comes only from the database).  Here: the
 * validators (a strong ETag from the content's SHA-256, Last-Modified), the
 * conditional requests of RFC 9110 section 13 in the order it gives, one
 * byte range or the whole file, and HEAD.
 *
 * Always holds: bytes go from the file to the socket through an
 * fd-at-offset response (sendfile where the kernel has it), never through
 * a buffer holding the file; a response carries the headers of the
 * representation it is about, 304 and 416 included.
 *
 * Expected workload: most requests are ranges of a few tens of kilobytes
 * from players seeking and buffering; several per second per listener.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
static void add_validators(struct MHD_Response *resp, const char *etag, const char *lastmod,
			   const char *cache)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

static enum MHD_Result empty_answer(struct web_request *r, unsigned status, const char *etag,
				   const char *lastmod, const char *cache,
				   const char *content_range)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	add_validators(resp, etag, lastmod, cache);
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

enum MHD_Result web_media(struct web_request *r, int64_t id, const char *ext)
{
	enum prl_media_kind kind = !strcmp(ext, "opus")  ? PRL_MEDIA_OPUS
				   : !strcmp(ext, "mp3") ? PRL_MEDIA_MP3
							 : PRL_MEDIA_ORIGINAL;
	struct prl_archive *a;
	struct prl_media m;
	struct MHD_Response *resp;
	struct stat st;
	char etag[70], lastmod[32], crange[80];
	const char *cache;
	int64_t first = 0, last = 0, size;
	unsigned status;
	int fd = -1, ret;

	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the archive cannot be opened");
	memset(&m, 0, sizeof(m));
	ret = prl_archive_media(a, &r->viewer, id, kind, &m);
	web_archive_put(r->srv, a);
	if (ret < 0)
		return media_error(r, ret);
	fd = open(m.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		prl_media_clear(&m);
		/* the row names a file that is gone: fsck will say so */
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "the media file is missing");
	}
	size = (int64_t)st.st_size;
	snprintf(etag, sizeof(etag), "\"%s\"", m.sha256);
	web_http_date(st.st_mtime, lastmod);
	/* Content named by its hash never changes: shared caches may keep what
	 * an anonymous visitor was given; anything else stays in one browser. */
	cache = r->viewer.role == PRL_ROLE_ANONYMOUS ? "public, max-age=31536000, immutable"
						      : "private, max-age=31536000, immutable";

	if ((status = preconditions(r, etag, st.st_mtime)) != 0) {
		close(fd);
		prl_media_clear(&m);
		return empty_answer(r, status, etag, lastmod, cache, NULL);
	}
	status = MHD_HTTP_OK;
	first = 0;
	last = size - 1;
	if (range_applies(r, etag, lastmod)) {
		switch (web_range_parse(web_header(r, MHD_HTTP_HEADER_RANGE), size, &first, &last)) {
		case WEB_RANGE_NONE:
			first = 0;
			last = size - 1;
			break;
		case WEB_RANGE_ONE:
			status = MHD_HTTP_PARTIAL_CONTENT;
			break;
		case WEB_RANGE_UNSATISFIABLE:
			close(fd);
			prl_media_clear(&m);
			snprintf(crange, sizeof(crange), "bytes */%lld", (long long)size);
			return empty_answer(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, etag, lastmod, cache,
					    crange);
		}
	}
	/* MHD owns fd from here and closes it with the response */
	resp = MHD_create_response_from_fd_at_offset64((uint64_t)(last - first + 1), fd,
						       (uint64_t)first);
	if (!resp) {
		close(fd);
		prl_media_clear(&m);
		return MHD_NO;
	}
	add_validators(resp, etag, lastmod, cache);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, m.mime);
	if (kind == PRL_MEDIA_ORIGINAL) {
		char disp[96];

		snprintf(disp, sizeof(disp), "attachment; filename=\"recording-%lld.%s\"",
			 (long long)id, strrchr(m.path, '.') ? strrchr(m.path, '.') + 1 : "bin");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	}
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		snprintf(crange, sizeof(crange), "bytes %lld-%lld/%lld", (long long)first,
			 (long long)last, (long long)size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
	}
	prl_media_clear(&m);
	return web_queue(r, status, resp, last - first + 1);
}
