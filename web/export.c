/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Researchers' downloads: GET /api/export (a zipped BagIt bag of a
 * selection, streamed as it is built) and GET
 * /api/recordings/{id}/clip.{wav,opus,mp3}?start=SEC&end=SEC (a span of
 * the original).
 *
 * Always holds: the bag is never whole anywhere, not on disk and not in
 * memory: an MHD callback response pulls it a step at a time from the
 * archive's exporter, holding at most one step's bytes (about 1 MiB); a
 * client that stops reading is dropped by MHD's connection timeout and the
 * exporter is freed with it, its temporary files having been unlinked as
 * they were made.  A clip is cut into an unlinked temporary file and sent
 * from it with sendfile, so no name is ever left behind either.  Access is
 * the archive's rule for the request's viewer, as for media: 404 for
 * unknown or private, 403 for restricted to those who may not hear it.
 *
 * Expected workload: a few exports at a time, each minutes long; clips of
 * seconds to minutes, at human pace.  At most WEB_MAX_EXPORTS bags are
 * built at once, each on a thread of its own: a step can take long (a FLAC
 * made of a long recording, a clip from deep in a lossy original), and
 * the MHD thread that serves the connection serves others too.  The
 * builder keeps at most EXPORT_AHEAD bytes ready; when MHD asks for bytes
 * and none are ready, the connection is suspended until the builder has
 * some.  A clip of GET /api/recordings/{id}/clip is still cut on the MHD
 * thread: it is bounded (ten minutes at most).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "parlers/transcode.h"
#include "web-internal.h"

#define WEB_MAX_EXPORTS 4
/* The longest clip, in milliseconds: a passage, not the recording. */
#define WEB_MAX_CLIP_MS (10 * 60 * 1000)
/* Bytes a builder keeps ready ahead of the client at most. */
#define EXPORT_AHEAD (4u << 20)

static atomic_int exports_running;

/*
 * One bag being built and sent.  Two owners: the MHD response (until MHD
 * destroys it: export_free) and the builder thread (until it stops);
 * whichever lets go last frees it.  Everything below lock is shared.
 */
struct web_export {
	struct web_server *srv;	    /* for its log and its list of exports */
	struct MHD_Connection *con; /* to resume it; NULL once MHD let go */
	struct prl_archive *a;	    /* a handle of its own: the export outlives the request */
	struct prl_export *x;	    /* the bag being built (the builder's only) */
	struct prl_buf staging;	    /* what the step being run wrote (the builder's only) */
	pthread_mutex_t lock;
	pthread_cond_t room;	 /* the client took bytes, or the export is to stop */
	struct prl_buf ready;	 /* bytes built and not yet taken by MHD */
	size_t off;		 /* of them, already taken */
	int done;		 /* the zip is complete */
	int failed;		 /* the builder met an error: the stream is cut */
	int stop;		 /* MHD let go, or the server stops: build no more */
	int suspended;		 /* the connection waits for bytes */
	int owners;		 /* 2, then 1, then freed */
	struct web_export *next; /* in srv's list of exports */
};

static int export_sink(void *ctx, const void *data, size_t len)
{
	struct web_export *e = ctx;

	return prl_buf_add(&e->staging, data, len);
}

static void export_destroy(struct web_export *e)
{
	struct web_export **p;

	pthread_mutex_lock(&e->srv->exports_lock);
	for (p = &e->srv->exports; *p && *p != e; p = &(*p)->next)
		;
	if (*p)
		*p = e->next;
	pthread_mutex_unlock(&e->srv->exports_lock);
	prl_export_free(e->x);
	prl_archive_close(e->a);
	prl_buf_release(&e->staging);
	prl_buf_release(&e->ready);
	pthread_cond_destroy(&e->room);
	pthread_mutex_destroy(&e->lock);
	free(e);
	atomic_fetch_sub(&exports_running, 1);
}

/* Lets go of e, under its lock (which this releases). */
static void export_let_go(struct web_export *e)
{
	int last = --e->owners == 0;

	pthread_mutex_unlock(&e->lock);
	if (last)
		export_destroy(e);
}

/* The builder: runs the export's steps, keeping at most EXPORT_AHEAD bytes
 * ahead of the client, and wakes the connection when it has some. */
static void *export_build(void *arg)
{
	struct web_export *e = arg;
	int ret = 1;

	pthread_mutex_lock(&e->lock);
	while (!e->stop && !e->done && !e->failed) {
		struct MHD_Connection *wake = NULL;

		while (!e->stop && e->ready.len - e->off >= EXPORT_AHEAD)
			pthread_cond_wait(&e->room, &e->lock);
		if (e->stop)
			break;
		pthread_mutex_unlock(&e->lock);
		prl_buf_reset(&e->staging);
		ret = prl_export_step(e->x);
		if (ret < 0 && !e->srv->quiet)
			fprintf(e->srv->log, "export failed: %s\n", prl_export_errmsg(e->x));
		pthread_mutex_lock(&e->lock);
		/* what the client took goes; what was built joins what waits */
		if (e->off) {
			memmove(e->ready.data, e->ready.data + e->off, e->ready.len - e->off);
			e->ready.len -= e->off;
			e->off = 0;
		}
		if (ret >= 0 && prl_buf_add(&e->ready, e->staging.data, e->staging.len) < 0)
			ret = -PRL_ENOMEM;
		if (ret < 0)
			e->failed = 1;
		else if (ret == 0)
			e->done = 1;
		if (e->suspended && e->con) {
			e->suspended = 0;
			wake = e->con;
		}
		if (wake) {
			/* outside the lock: MHD's thread may be waiting for it; the
			 * connection stays until resumed, and e while this owns it */
			pthread_mutex_unlock(&e->lock);
			MHD_resume_connection(wake);
			pthread_mutex_lock(&e->lock);
		}
	}
	export_let_go(e);
	return NULL;
}

static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_export *e = cls;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&e->lock);
	if (e->ready.len > e->off) {
		n = e->ready.len - e->off;
		if (n > max)
			n = max;
		memcpy(buf, e->ready.data + e->off, n);
		e->off += n;
		pthread_cond_signal(&e->room);
		pthread_mutex_unlock(&e->lock);
		return (ssize_t)n;
	}
	if (e->done) {
		pthread_mutex_unlock(&e->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* an error now can only cut the stream: the status is sent; the
	 * client sees a zip with no directory, which no tool accepts */
	if (e->failed || e->stop) {
		pthread_mutex_unlock(&e->lock);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* nothing ready: the connection waits, and its thread serves others */
	e->suspended = 1;
	MHD_suspend_connection(e->con);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void export_free(void *cls)
{
	struct web_export *e = cls;

	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	e->con = NULL;
	pthread_cond_signal(&e->room);
	export_let_go(e);
}

void web_exports_stop(struct web_server *srv)
{
	struct MHD_Connection *wake[WEB_MAX_EXPORTS + 1];
	struct web_export *e;
	size_t n = 0;

	pthread_mutex_lock(&srv->exports_lock);
	for (e = srv->exports; e; e = e->next) {
		pthread_mutex_lock(&e->lock);
		e->stop = 1;
		pthread_cond_signal(&e->room);
		/* a suspended connection must be resumed before MHD stops: it
		 * is then told the stream is cut, and closed */
		if (e->suspended && e->con && n < sizeof(wake) / sizeof(wake[0])) {
			e->suspended = 0;
			wake[n++] = e->con;
		}
		pthread_mutex_unlock(&e->lock);
	}
	pthread_mutex_unlock(&srv->exports_lock);
	/* a connection marked for waking stays until woken: MHD leaves a
	 * suspended connection alone */
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(wake[i]);
}

int web_exports_active(struct web_server *srv)
{
	int any;

	pthread_mutex_lock(&srv->exports_lock);
	any = srv->exports != NULL;
	pthread_mutex_unlock(&srv->exports_lock);
	return any;
}

/* "1,2,3" into a new array; -1 when it is not such a list. */
static int parse_id_list(const char *s, int64_t **out, size_t *n)
{
	int64_t *ids = NULL, *t;
	size_t count = 0;
	const char *p = s;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int64_t id;

		if (web_parse_id(p, len, &id) < 0 || count >= 10000 ||
		    !(t = realloc(ids, (count + 1) * sizeof(*ids)))) {
			free(ids);
			return -1;
		}
		ids = t;
		ids[count++] = id;
		p += len + (comma ? 1 : 0);
		if (comma && !*p) {
			free(ids);
			return -1;
		}
	}
	if (!count)
		return -1;
	*out = ids;
	*n = count;
	return 0;
}

/* The bag the request asks for (?ids=&collection=&q=&audio=) into *o, the
 * ids in *idv (the caller frees it); -1 with the reason in *why. */
static int export_selection(struct web_request *r, struct prl_export_opts *o, int64_t **idv,
			    const char **why)
{
	const char *ids = web_arg(r, "ids"), *audio = web_arg(r, "audio");
	int av;

	memset(o, 0, sizeof(*o));
	/* what each may have by default: researchers the originals */
	o->audio = r->viewer.role >= PRL_ROLE_RESEARCHER ? PRL_EXPORT_ORIGINAL : PRL_EXPORT_OPUS;
	if (audio && *audio) {
		if ((av = prl_export_audio_parse(audio)) < 0) {
			*why = "audio: original, flac, opus or none";
			return -1;
		}
		o->audio = (enum prl_export_audio)av;
	}
	if (ids && *ids && parse_id_list(ids, idv, &o->nids) < 0) {
		*why = "ids: recording ids separated by commas";
		return -1;
	}
	o->ids = *idv;
	o->query = web_arg(r, "q");
	o->collection = web_arg(r, "collection");
	o->institution = web_arg(r, "institution");
	if (o->institution && !*o->institution)
		o->institution = NULL;
	if (o->query && !*o->query)
		o->query = NULL;
	o->route = web_arg(r, "route");
	if (o->route && !*o->route)
		o->route = NULL;
	return 0;
}

/* Starts e's builder on a detached thread; without one, the response alone
 * owns e and answers a cut stream. */
static void builder_start(struct web_export *e)
{
	pthread_t builder;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&builder, &attr, export_build, e) != 0) {
		pthread_mutex_lock(&e->lock);
		e->failed = 1;
		e->owners = 1;
		pthread_mutex_unlock(&e->lock);
	}
	pthread_attr_destroy(&attr);
}

enum MHD_Result web_api_export(struct web_request *r, const struct web_params *p)
{
	struct prl_export_opts o;
	struct web_export *e = NULL;
	struct MHD_Response *resp;
	const char *why = NULL;
	int64_t *idv = NULL;
	unsigned status;
	int ret;
	enum MHD_Result res;

	(void)p;
	if (export_selection(r, &o, &idv, &why) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, why);
	if (atomic_fetch_add(&exports_running, 1) >= WEB_MAX_EXPORTS) {
		atomic_fetch_sub(&exports_running, 1);
		free(idv);
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "too many exports at once: try again in a minute");
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		ret = -PRL_ENOMEM;
		goto fail;
	}
	e->srv = r->srv;
	e->con = r->con;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->room, NULL);
	if ((ret = prl_archive_open(r->srv->data_dir, 0, &e->a, NULL)) < 0)
		goto fail;
	/* a query selects with the server's search vocabulary, read once */
	prl_archive_set_search_cache(e->a, r->srv->search);
	o.write = export_sink;
	o.ctx = e;
	o.tmp_dir = r->srv->opts.tmp_dir;
	if ((ret = prl_export_open(e->a, &r->viewer, &o, &e->x)) < 0)
		goto fail;
	free(idv);
	idv = NULL;
	/* from here the response and the builder own e, and the last of them
	 * frees it, whether the client read it all or went away */
	e->owners = 2;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, export_read, e,
						 export_free);
	if (!resp) {
		e->owners = 1;
		pthread_mutex_lock(&e->lock);
		export_let_go(e);
		return MHD_NO;
	}
	pthread_mutex_lock(&r->srv->exports_lock);
	e->next = r->srv->exports;
	r->srv->exports = e;
	pthread_mutex_unlock(&r->srv->exports_lock);
	builder_start(e);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zip");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
				"attachment; filename=\"parlers-export.zip\"");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return web_queue(r, MHD_HTTP_OK, resp, 0);
fail:
	status = ret == -PRL_ENOTFOUND		       ? MHD_HTTP_NOT_FOUND
		 : ret == -PRL_EACCESS		       ? MHD_HTTP_FORBIDDEN
		 : ret == -PRL_EINVAL		       ? MHD_HTTP_BAD_REQUEST
		 : ret == -PRL_EVERSION || !e || !e->a ? MHD_HTTP_SERVICE_UNAVAILABLE
						       : MHD_HTTP_INTERNAL_SERVER_ERROR;
	res = web_error_json(r, status,
			     e && e->a && status < 500 ? prl_archive_errmsg(e->a)
						       : web_status_message(status));
	if (e) {
		prl_archive_close(e->a);
		pthread_cond_destroy(&e->room);
		pthread_mutex_destroy(&e->lock);
		free(e);
	}
	atomic_fetch_sub(&exports_running, 1);
	free(idv);
	return res;
}

/* ---- clips ---- */

/*
 * A time in seconds as the URL gives it ("12", "12.5", "0.125") into
 * milliseconds, rounded to the nearest; -1 when it is not a plain
 * non-negative decimal (signs, exponents, inf and nan are refused).
 */
static int64_t parse_seconds(const char *s)
{
	int64_t whole = 0, frac = 0, scale = 1000;
	const char *p = s;
	int digits = 0, round_up = 0;

	if (!s || !*s)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > INT64_C(1000000000))
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			} else if (scale == 1) {
				round_up = *p >= '5';
				scale = 0;
			}
		}
	}
	if (*p || !digits)
		return -1;
	return whole * 1000 + frac + round_up;
}

/* "12.5" for 12500 ms: seconds without trailing zeros. */
static void format_seconds(int64_t ms, char *out, size_t size)
{
	int n = snprintf(out, size, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));

	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

/* An unlinked temporary file in dir (NULL or "": /tmp), or -1. */
static int clip_tmp_fd(const char *dir)
{
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/parlers-clip-XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

enum MHD_Result web_api_clip(struct web_request *r, const struct web_params *p)
{
	const char *ext = p->tail;
	int64_t id = p->id;
	static const char *const mimes[] = {"audio/wav", "audio/flac", "audio/ogg; codecs=opus",
					    "audio/mpeg"};
	struct prl_buf b = PRL_BUF_INIT, err = PRL_BUF_INIT;
	struct prl_clip_job job;
	struct prl_media m;
	struct prl_archive *a;
	struct MHD_Response *resp;
	struct stat st;
	json_t *rec = NULL;
	char slug[64], s0[32], s1[32], disp[200], path[64];
	const char *title;
	int64_t start, end, duration;
	int fmt = prl_clip_format_parse(ext), ret, fd = -1;

	if (fmt < 0 || fmt == PRL_CLIP_FLAC)
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "clips are wav, opus or mp3");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	/* the archive decides: unknown or private is a 404, not hearing it a 403 */
	ret = prl_archive_recording_json(a, &r->viewer, id, &b);
	if (ret == 0 && !(rec = json_loadb(b.data, b.len, 0, NULL)))
		ret = -PRL_ENOMEM;
	prl_buf_release(&b);
	if (ret < 0) {
		web_archive_put(r->srv, a);
		return web_error_json(r, web_status_for(ret),
				      ret == -PRL_ENOTFOUND ? "no such recording" : NULL);
	}
	if (!json_is_true(json_object_get(rec, "can_listen"))) {
		web_archive_put(r->srv, a);
		json_decref(rec);
		return web_error_json(r, MHD_HTTP_FORBIDDEN,
				      "this recording is restricted: sign in as a researcher");
	}
	/* times are checked only for those who may hear it: a 400 would
	 * otherwise tell others more than a 403 */
	duration = json_integer_value(json_object_get(rec, "duration_ms"));
	start = parse_seconds(web_arg(r, "start"));
	end = parse_seconds(web_arg(r, "end"));
	if (start < 0 || end < 0 || end <= start || end > duration ||
	    end - start > WEB_MAX_CLIP_MS) {
		web_archive_put(r->srv, a);
		json_decref(rec);
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      start < 0 || end < 0 ? "start and end: seconds, as 12 or 12.5"
				      : end <= start	   ? "end must come after start"
				      : end > duration	   ? "end is past the end of the recording"
							   : "a clip is at most 10 minutes long");
	}
	memset(&m, 0, sizeof(m));
	memset(&job, 0, sizeof(job));
	/* the viewer may hear it (decided above); the cut is from the original,
	 * or from the copy with withheld passages silent (archive/withheld.c) */
	ret = prl_archive_clip_source(a, &r->viewer, id, &m, &job.gain_db);
	web_archive_put(r->srv, a);
	if (ret < 0) {
		json_decref(rec);
		return web_error_json(r, MHD_HTTP_NOT_FOUND, "the original is missing");
	}
	title = json_string_value(json_object_get(rec, "title"));
	prl_slug(title, slug, sizeof(slug));
	job.src_path = m.path;
	job.start_ms = start;
	job.end_ms = end;
	job.format = (enum prl_clip_format)fmt;
	json_decref(rec);
	if ((fd = clip_tmp_fd(r->srv->opts.tmp_dir)) < 0) {
		prl_media_clear(&m);
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no room for the clip");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = prl_clip_write(&job, path, NULL, &err);
	prl_media_clear(&m);
	prl_buf_release(&err);
	if (ret < 0 || fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the clip cannot be cut");
	}
	/* MHD owns fd from here and closes it with the response */
	if (!(resp = MHD_create_response_from_fd((size_t)st.st_size, fd))) {
		close(fd);
		return MHD_NO;
	}
	format_seconds(start, s0, sizeof(s0));
	format_seconds(end, s1, sizeof(s1));
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s_%s-%s.%s\"", slug, s0, s1,
		 prl_clip_format_ext(job.format));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mimes[fmt]);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				r->viewer.role == PRL_ROLE_ANONYMOUS ? "public, max-age=86400"
								     : "private, max-age=86400");
	return web_queue(r, MHD_HTTP_OK, resp, (int64_t)st.st_size);
}
