/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Uploads from the browser: the tus 1.0 resumable upload protocol (core,
 * creation and termination) at /api/uploads, for staff.
 *
 * POST /api/uploads makes an upload of Upload-Length bytes named by the
 * filename of Upload-Metadata; HEAD says how many bytes are stored
 * (Upload-Offset); PATCH appends bytes at exactly that offset (409
 * otherwise); DELETE ends it.  The archive keeps the row and the file
 * (archive/uploads.c); this file moves the bytes.  A PATCH is routed as
 * soon as its head is in, before its body: its checks (session, token,
 * role, offset) are made once, then the body goes piece by piece through
 * buffers of UPLOAD_BUFFER bytes into the upload's file and its SHA-256,
 * whatever its size: the request's thread writes each buffer as it fills
 * and hands it to a thread of the stream's own that hashes it, so that
 * receiving and writing go on while the hash runs beside them (the hash
 * costs as much as the rest together).  When the request ends, completed
 * or cut, the bytes stored are synced to the disk, and their count and the
 * hash state after them written to the row, so the next PATCH (after a
 * lost connection, a restart or a power cut) continues both.
 *
 * Always holds: an upload is written by one request at a time (another
 * gets 423, and tus clients try again); an upload larger than the
 * operator's limit is refused (413) before a byte is stored; bytes past
 * Upload-Length are never stored; an
 * upload past its age is gone (404), and the sweep, at start and every
 * few minutes after, removes what it left.  Workload: a few uploads at
 * once, each a stream of up to gigabytes at disk speed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "parlers/transcode.h"
#include "web-internal.h"

#define TUS_VERSION "1.0.0"
#define UPLOAD_BUFFER (256 * 1024)
/* buffers of a stream: one filling, the rest written and waiting for the
 * hash */
#define UPLOAD_BUFFERS 4
/* bytes written before the disk is asked to start writing them */
#define UPLOAD_WRITEBACK (8 << 20)
/* uploads written at once, over the whole server */
#define UPLOADS_BUSY_MAX 64

struct web_uploads {
	pthread_mutex_t lock;		/* guards busy */
	int64_t busy[UPLOADS_BUSY_MAX]; /* uploads a request is writing; 0: free */
	atomic_llong next_sweep;	/* Unix seconds of the next expiry sweep */
	int64_t max_bytes;		/* the operator's limit on Upload-Length */
	int64_t expiry_s;		/* an upload's age limit */
};

/* A PATCH in progress: its file, its hash, the bytes not yet written or
 * not yet hashed. */
struct web_upload {
	int64_t id;
	int64_t length; /* Upload-Length */
	int64_t start;	/* where the request started */
	int64_t synced; /* bytes the disk was asked to write */
	int64_t offset; /* bytes written to the file (hashed once the hasher ends) */
	int fd;
	int failed;   /* a negative prl_err once a write failed */
	int too_much; /* the body went past Upload-Length */
	struct prl_sha256 hash;
	/* the ring of buffers: the request's thread fills buf[fill_at] and,
	 * once written, queues it; the hasher takes them in order */
	pthread_mutex_t lock;
	pthread_cond_t moved;	     /* a buffer was queued, hashed, or the end came */
	pthread_t hasher;	     /* hashes the queued buffers */
	int threaded;		     /* the hasher runs (else the request's thread hashes) */
	int ending;		     /* no more buffers will come */
	int fill_at;		     /* the buffer being filled */
	int queued;		     /* buffers written and waiting for the hash */
	size_t fill;		     /* bytes in buf[fill_at] */
	size_t used[UPLOAD_BUFFERS]; /* bytes of each queued buffer */
	unsigned char *buf[UPLOAD_BUFFERS];
};

int web_uploads_init(struct web_server *s, const struct prl_web_opts *opts)
{
	struct web_uploads *u = calloc(1, sizeof(*u));

	if (!u)
		return -PRL_ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->max_bytes = opts->upload_max > 0 ? opts->upload_max : PRL_WEB_UPLOAD_MAX;
	u->expiry_s = opts->upload_expiry_s > 0 ? opts->upload_expiry_s : PRL_WEB_UPLOAD_EXPIRY;
	s->uploads = u;
	return 0;
}

void web_uploads_free(struct web_server *s)
{
	if (!s->uploads)
		return;
	pthread_mutex_destroy(&s->uploads->lock);
	free(s->uploads);
	s->uploads = NULL;
}

/* How long between sweeps: a quarter of the age limit, from a second to
 * ten minutes. */
static int64_t sweep_every(const struct web_uploads *u)
{
	int64_t e = u->expiry_s / 4;

	return e < 1 ? 1 : e > 600 ? 600 : e;
}

/* True when a sweep is due at t, and then the one that runs it: the
 * first thread to move the clock on. */
static int sweep_due(struct web_uploads *u, int64_t t, int now)
{
	long long next = atomic_load(&u->next_sweep);

	if (!now && t < next)
		return 0;
	return atomic_compare_exchange_strong(&u->next_sweep, &next, t + sweep_every(u)) || now;
}

void web_uploads_sweep(struct web_server *s, struct prl_archive *a, int now)
{
	struct web_uploads *u = s->uploads;

	if (sweep_due(u, (int64_t)time(NULL), now))
		prl_upload_expire(a, u->expiry_s, NULL);
}

void web_uploads_tick(struct web_server *s)
{
	struct web_uploads *u = s->uploads;
	struct prl_archive *a;

	/* one atomic read per request; an archive handle only when due */
	if (!u || (int64_t)time(NULL) < atomic_load(&u->next_sweep) ||
	    !sweep_due(u, (int64_t)time(NULL), 0))
		return;
	if ((a = web_archive_get(s))) {
		prl_upload_expire(a, u->expiry_s, NULL);
		web_archive_put(s, a);
	}
}

static int busy_claim(struct web_uploads *u, int64_t id)
{
	int free_slot = -1, ret = 0;

	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < UPLOADS_BUSY_MAX; i++) {
		if (u->busy[i] == id)
			ret = -PRL_EBUSY;
		else if (!u->busy[i] && free_slot < 0)
			free_slot = i;
	}
	if (ret == 0 && free_slot < 0)
		ret = -PRL_EBUSY;
	if (ret == 0)
		u->busy[free_slot] = id;
	pthread_mutex_unlock(&u->lock);
	return ret;
}

static void busy_release(struct web_uploads *u, int64_t id)
{
	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < UPLOADS_BUSY_MAX; i++)
		if (u->busy[i] == id)
			u->busy[i] = 0;
	pthread_mutex_unlock(&u->lock);
}

static int is_busy(struct web_uploads *u, int64_t id)
{
	int busy = 0;

	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < UPLOADS_BUSY_MAX; i++)
		busy |= u->busy[i] == id;
	pthread_mutex_unlock(&u->lock);
	return busy;
}

/* ---- answers ---- */

/* An answer of the protocol: status with Tus-Resumable, Upload-Offset and
 * Upload-Length when not negative, Location when not NULL, and body (JSON,
 * may be NULL: no body). */
static enum MHD_Result tus_answer(struct web_request *r, unsigned status, int64_t offset,
				  int64_t length, const char *location, struct prl_buf *body)
{
	struct MHD_Response *resp;
	size_t len = 0;
	char *data = body ? prl_buf_detach(body, &len) : NULL;
	char num[24];

	resp = data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
		    : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Tus-Resumable", TUS_VERSION);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (data)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/json; charset=utf-8");
	if (offset >= 0) {
		snprintf(num, sizeof(num), "%" PRId64, offset);
		MHD_add_response_header(resp, "Upload-Offset", num);
	}
	if (length >= 0) {
		snprintf(num, sizeof(num), "%" PRId64, length);
		MHD_add_response_header(resp, "Upload-Length", num);
	}
	if (location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	return web_queue(r, status, resp, (int64_t)len);
}

/* 412 when the request does not speak this version of the protocol. */
static int tus_version_refused(struct web_request *r, enum MHD_Result *res)
{
	const char *v = web_header(r, "Tus-Resumable");
	struct MHD_Response *resp;

	if (v && !strcmp(v, TUS_VERSION))
		return 0;
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp)
		MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
	*res = web_queue(r, MHD_HTTP_PRECONDITION_FAILED, resp, 0);
	return 1;
}

/* A whole non-negative decimal number (a header's value) into *out. */
static int parse_count(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Upload p->id as r's viewer may reach it: its creator's, or any to an
 * admin.  Answers 404 (into *res) when not. */
static int upload_of(struct web_request *r, struct prl_archive *a, int64_t id, struct prl_upload *u,
		     enum MHD_Result *res)
{
	if (prl_upload_get(a, id, r->srv->uploads->expiry_s, u) == 0 &&
	    (u->user_id == r->viewer.user_id || r->viewer.role >= PRL_ROLE_ADMIN))
		return 0;
	*res = web_error_json(r, MHD_HTTP_NOT_FOUND,
			      "no such upload (ended, expired or never made)");
	return -PRL_ENOTFOUND;
}

/* ---- the routes ---- */

/* The page: the same for all; it asks /api/me and shows a visitor who is
 * not staff why there is nothing to do. */
enum MHD_Result web_page_upload(struct web_request *r, const struct web_params *p)
{
	(void)p;
	return web_page_send_one(r, MHD_HTTP_OK, WEB_TPL_UPLOAD, NULL, NULL);
}

enum MHD_Result web_upload_options(struct web_request *r, const struct web_params *p)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char num[24];

	(void)p;
	if (!resp)
		return MHD_NO;
	snprintf(num, sizeof(num), "%" PRId64, r->srv->uploads->max_bytes);
	MHD_add_response_header(resp, "Tus-Resumable", TUS_VERSION);
	MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
	MHD_add_response_header(resp, "Tus-Extension", "creation,termination");
	MHD_add_response_header(resp, "Tus-Max-Size", num);
	return web_queue(r, MHD_HTTP_NO_CONTENT, resp, 0);
}

enum MHD_Result web_upload_create(struct web_request *r, const struct web_params *p)
{
	struct prl_buf name = PRL_BUF_INIT, coll = PRL_BUF_INIT, inst = PRL_BUF_INIT;
	struct prl_buf body = PRL_BUF_INIT, loc = PRL_BUF_INIT;
	const char *meta = web_header(r, "Upload-Metadata");
	struct prl_archive *a = NULL;
	enum MHD_Result res;
	int64_t length, id = 0;
	int ret;

	(void)p;
	if (tus_version_refused(r, &res))
		return res;
	if (web_header(r, "Upload-Defer-Length"))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "the length of an upload must be known (Upload-Length)");
	if (parse_count(web_header(r, "Upload-Length"), &length) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "Upload-Length must be the file's size in bytes");
	/* before a byte is sent */
	if (length > r->srv->uploads->max_bytes) {
		prl_buf_addf(&body,
			     "the file is larger than this archive takes (%" PRId64 " bytes)",
			     r->srv->uploads->max_bytes);
		res = web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE, body.data);
		goto end;
	}
	if (web_tus_metadata(meta, "filename", &name) != 1 ||
	    web_tus_metadata(meta, "collection", &coll) < 0 ||
	    !prl_upload_filename_valid(prl_buf_str(&name))) {
		res = web_error_json(r, MHD_HTTP_BAD_REQUEST,
				     "Upload-Metadata must name the file: filename and its name "
				     "in base64 (no '/' nor control characters)");
		goto end;
	}
	if (!(a = web_archive_get(r->srv))) {
		res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the archive cannot be opened");
		goto end;
	}
	web_uploads_sweep(r->srv, a, 0);
	if ((ret = prl_upload_may_deposit(a, &r->viewer, coll.len ? coll.data : NULL, NULL,
					  &inst)) < 0) {
		res = web_error_json(r, web_status_for(ret), prl_archive_errmsg(a));
		goto end;
	}
	if ((ret = prl_upload_create(a, length, name.data, r->viewer.user_id, &id)) < 0) {
		if (!web_write_refused(r, ret, &res))
			res = web_error_json(r, web_status_for(ret), prl_archive_errmsg(a));
		goto end;
	}
	prl_buf_addf(&loc, "/api/uploads/%" PRId64, id);
	prl_buf_addf(&body, "{\"id\":%" PRId64 ",\"location\":", id);
	prl_json_str(&body, loc.data);
	prl_buf_addstr(&body, "}\n");
	res = tus_answer(r, MHD_HTTP_CREATED, 0, -1, loc.data, &body);
end:
	web_archive_put(r->srv, a);
	prl_buf_release(&name);
	prl_buf_release(&coll);
	prl_buf_release(&inst);
	prl_buf_release(&body);
	prl_buf_release(&loc);
	return res;
}

enum MHD_Result web_upload_head(struct web_request *r, const struct web_params *p)
{
	struct prl_buf body = PRL_BUF_INIT;
	struct prl_archive *a = web_archive_get(r->srv);
	struct prl_upload u;
	struct prl_sha256 h;
	enum MHD_Result res;
	uint8_t digest[32];
	char hex[65];

	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	web_uploads_sweep(r->srv, a, 0);
	if (upload_of(r, a, p->id, &u, &res) < 0)
		goto end;
	/* GET: the same facts as JSON, for the page */
	prl_buf_addf(&body, "{\"id\":%" PRId64 ",\"filename\":", u.id);
	prl_json_str(&body, u.filename);
	prl_buf_addf(&body, ",\"length\":%" PRId64 ",\"offset\":%" PRId64, u.length, u.offset);
	if (u.offset == u.length && u.has_state &&
	    prl_sha256_load(&h, u.state, sizeof(u.state)) == 0) {
		prl_sha256_peek(&h, digest);
		prl_sha256_hex(digest, hex);
		prl_buf_addf(&body, ",\"sha256\":\"%s\"", hex);
	}
	prl_buf_addstr(&body, "}\n");
	res = tus_answer(r, MHD_HTTP_OK, u.offset, u.length, NULL, &body);
end:
	web_archive_put(r->srv, a);
	prl_buf_release(&body);
	return res;
}

enum MHD_Result web_upload_delete(struct web_request *r, const struct web_params *p)
{
	struct prl_archive *a = web_archive_get(r->srv);
	struct prl_upload u;
	enum MHD_Result res;
	int ret;

	if (!a)
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	if (upload_of(r, a, p->id, &u, &res) < 0)
		goto end;
	if (is_busy(r->srv->uploads, u.id)) {
		res = web_error_json(r, MHD_HTTP_LOCKED,
				     "the upload is being written by another request; try again "
				     "once it ends (a connection lost without a word ends when "
				     "the server's idle timeout passes)");
		goto end;
	}
	if ((ret = prl_upload_remove(a, u.id)) < 0) {
		if (!web_write_refused(r, ret, &res))
			res = web_error_json(r, web_status_for(ret), prl_archive_errmsg(a));
		goto end;
	}
	res = tus_answer(r, MHD_HTTP_NO_CONTENT, -1, -1, NULL, NULL);
end:
	web_archive_put(r->srv, a);
	return res;
}

/* ---- ingest: a complete upload becomes a recording, as a job ---- */

/* The upload the body's "annotations" names (0: none), reachable by r's
 * viewer and complete; answers 400 or 404 into *res when not. */
static int annotations_upload(struct web_request *r, struct prl_archive *a, json_t *o, int64_t *id,
			      enum MHD_Result *res)
{
	json_t *v = json_object_get(o, "annotations");
	struct prl_upload u;

	*id = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		*res = web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "annotations: the id of an upload of the annotation file");
		return -PRL_EINVAL;
	}
	if (upload_of(r, a, json_integer_value(v), &u, res) < 0)
		return -PRL_ENOTFOUND;
	*id = u.id;
	return 0;
}

enum MHD_Result web_upload_ingest(struct web_request *r, const struct web_params *p)
{
	struct prl_buf msg = PRL_BUF_INIT, inst = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct prl_upload u;
	enum MHD_Result res;
	json_t *o = NULL, *params = NULL, *v;
	const char *coll, *institution;
	char *text = NULL;
	int64_t annot, jid = 0;
	int ret;

	if (r->body.len && !(o = web_body_object(r, &res)))
		return res;
	if (!o && !(o = json_object())) /* no body: no metadata, a private recording */
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if ((v = json_object_get(o, "access")) && !json_is_null(v) &&
	    (!json_is_string(v) || prl_access_parse(json_string_value(v)) < 0)) {
		res = web_error_json(r, MHD_HTTP_BAD_REQUEST,
				     "access: public, restricted or private");
		goto end;
	}
	if (!(a = web_archive_get(r->srv))) {
		res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the archive cannot be opened");
		goto end;
	}
	if (upload_of(r, a, p->id, &u, &res) < 0 || annotations_upload(r, a, o, &annot, &res) < 0)
		goto end;
	if (u.offset != u.length) {
		prl_buf_addf(&msg,
			     "the upload is not complete: %" PRId64 " of %" PRId64
			     " bytes received; resume it before ingesting it",
			     u.offset, u.length);
		res = web_error_json(r, MHD_HTTP_CONFLICT, msg.data);
		goto end;
	}
	coll = json_string_value(json_object_get(o, "collection"));
	institution = json_string_value(json_object_get(o, "institution"));
	if ((ret = prl_upload_may_deposit(a, &r->viewer, coll, institution, &inst)) < 0) {
		res = web_error_json(r, web_status_for(ret), prl_archive_errmsg(a));
		goto end;
	}
	/* the body but "annotations" is the file's metadata sidecar */
	json_object_del(o, "annotations");
	if (!(params = json_pack("{sI sO}", "upload", (json_int_t)u.id, "sidecar", o)) ||
	    (annot && json_object_set_new(params, "annotations", json_integer(annot)) < 0) ||
	    (inst.len && json_object_set_new(params, "institution", json_string(inst.data)) < 0) ||
	    !(text = json_dumps(params, JSON_COMPACT))) {
		res = web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		goto end;
	}
	if ((ret = prl_jobs_submit(a, "ingest", 0, text, r->viewer.user_id, &jid)) < 0) {
		if (!web_write_refused(r, ret, &res))
			res = web_error_json(r, web_status_for(ret), prl_archive_errmsg(a));
		goto end;
	}
	prl_buf_addf(&msg, "{\"job\":%" PRId64 "}\n", jid);
	res = web_send_buf(r, MHD_HTTP_ACCEPTED, "application/json; charset=utf-8", &msg,
			   "no-store");
end:
	web_archive_put(r->srv, a);
	json_decref(o);
	json_decref(params);
	free(text);
	prl_buf_release(&msg);
	prl_buf_release(&inst);
	return res;
}

/* ---- PATCH: the bytes ---- */

int web_upload_claims(const struct web_request *r)
{
	return !strcmp(r->method, MHD_HTTP_METHOD_PATCH) && !strncmp(r->url, "/api/uploads/", 13);
}

/* The stream's hasher: hashes the queued buffers in the order they were
 * written, until the end comes and none is left. */
static void *hasher_run(void *arg)
{
	struct web_upload *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int at;

		while (!w->queued && !w->ending)
			pthread_cond_wait(&w->moved, &w->lock);
		if (!w->queued)
			break;
		at = (w->fill_at + UPLOAD_BUFFERS - w->queued) % UPLOAD_BUFFERS;
		pthread_mutex_unlock(&w->lock);
		prl_sha256_update(&w->hash, w->buf[at], w->used[at]);
		pthread_mutex_lock(&w->lock);
		w->queued--;
		pthread_cond_broadcast(&w->moved);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void stream_free(struct web_upload *w)
{
	for (int i = 0; i < UPLOAD_BUFFERS; i++)
		free(w->buf[i]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->moved);
	free(w);
}

/* Opens upload u's file for appending at u->offset (cutting what a write
 * past the recorded offset left), takes up its hash and starts its hasher. */
static int stream_open(struct prl_archive *a, const struct prl_upload *u, struct web_upload **out)
{
	struct prl_buf path = PRL_BUF_INIT;
	struct web_upload *w = calloc(1, sizeof(*w));
	struct stat st;
	int ret = 0;

	if (!w)
		return -PRL_ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->moved, NULL);
	w->fd = -1;
	for (int i = 0; i < UPLOAD_BUFFERS; i++)
		if (!(w->buf[i] = malloc(UPLOAD_BUFFER))) {
			stream_free(w);
			return -PRL_ENOMEM;
		}
	w->id = u->id;
	w->length = u->length;
	w->start = w->synced = w->offset = u->offset;
	prl_sha256_init(&w->hash);
	prl_upload_path(a, u->id, &path);
	if ((w->fd = open(path.data, O_WRONLY | O_CLOEXEC)) < 0 || fstat(w->fd, &st) != 0 ||
	    st.st_size < u->offset) {
		/* the file lost what the row says it holds */
		ret = -PRL_EIO;
		goto end;
	}
	if ((u->offset > 0 &&
	     (!u->has_state || prl_sha256_load(&w->hash, u->state, sizeof(u->state)) < 0)) ||
	    ftruncate(w->fd, u->offset) != 0 || lseek(w->fd, u->offset, SEEK_SET) != u->offset)
		ret = -PRL_EIO;
end:
	prl_buf_release(&path);
	if (ret < 0) {
		if (w->fd >= 0)
			close(w->fd);
		stream_free(w);
		return ret;
	}
	/* without a thread, the request's own hashes as it writes */
	w->threaded = pthread_create(&w->hasher, NULL, hasher_run, w) == 0;
	*out = w;
	return 0;
}

/* Writes the buffer being filled, queues what reached the file for the
 * hash, and moves to the next buffer once the hasher has freed it. */
static void stream_flush(struct web_upload *w)
{
	unsigned char *buf = w->buf[w->fill_at];
	size_t done = 0;

	while (!w->failed && done < w->fill) {
		ssize_t n = write(w->fd, buf + done, w->fill - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->failed = errno == ENOSPC || errno == EDQUOT ? -PRL_ENOSPC : -PRL_EIO;
			break;
		}
		done += (size_t)n;
	}
	/* what reached the file is stored: hashed and counted */
	w->offset += (int64_t)done;
	/* the disk starts on what was written while the rest comes, so the
	 * sync at the end has little left to wait for */
	if (w->offset - w->synced >= UPLOAD_WRITEBACK) {
		sync_file_range(w->fd, w->synced, w->offset - w->synced, SYNC_FILE_RANGE_WRITE);
		w->synced = w->offset;
	}
	if (done < w->fill) {
		/* a short write leaves what it wrote: the file ends at the offset */
		if (ftruncate(w->fd, w->offset) != 0)
			w->failed = -PRL_EIO;
	}
	w->fill = 0;
	if (!done)
		return;
	if (!w->threaded) {
		prl_sha256_update(&w->hash, buf, done);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->used[w->fill_at] = done;
	w->queued++;
	w->fill_at = (w->fill_at + 1) % UPLOAD_BUFFERS;
	pthread_cond_broadcast(&w->moved);
	while (w->queued == UPLOAD_BUFFERS)
		pthread_cond_wait(&w->moved, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Flushes, records the offset and hash state in the row, closes and
 * frees r's stream.  Returns what recording the row gave. */
static int stream_end(struct web_request *r)
{
	struct web_upload *w = r->upload;
	unsigned char state[PRL_SHA256_STATE_SIZE];
	struct prl_archive *a;
	int ret = -PRL_EIO;

	r->upload = NULL;
	stream_flush(w);
	/* the row will say these bytes are stored: on the disk, then.  A disk
	 * that cannot say so loses the upload's bytes, sent again from the
	 * start (the hash state is then the empty one) */
	if (w->offset > w->start && fdatasync(w->fd) != 0) {
		w->failed = -PRL_EIO;
		w->offset = 0;
	}
	if (w->threaded) {
		/* every queued buffer hashed before the state is saved */
		pthread_mutex_lock(&w->lock);
		w->ending = 1;
		pthread_cond_broadcast(&w->moved);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->hasher, NULL);
	}
	if (w->offset == 0)
		prl_sha256_init(&w->hash);
	prl_sha256_save(&w->hash, state);
	if ((a = web_archive_get(r->srv))) {
		ret = prl_upload_advance(a, w->id, w->offset, state);
		web_archive_put(r->srv, a);
	}
	close(w->fd);
	busy_release(r->srv->uploads, w->id);
	r->upload_offset = w->offset;
	if (w->failed)
		ret = w->failed;
	else if (w->too_much)
		ret = -PRL_ELIMIT;
	stream_free(w);
	return ret;
}

enum MHD_Result web_upload_patch(struct web_request *r, const struct web_params *p)
{
	struct prl_buf msg = PRL_BUF_INIT;
	const char *type = web_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = web_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct prl_archive *a = NULL;
	struct prl_upload u;
	enum MHD_Result res;
	int64_t offset, body_len;
	int ret;

	if (tus_version_refused(r, &res))
		return res;
	if (!type || strcasecmp(type, "application/offset+octet-stream") != 0)
		return web_error_json(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				      "the bytes of an upload come as "
				      "application/offset+octet-stream");
	if (parse_count(web_header(r, "Upload-Offset"), &offset) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST,
				      "Upload-Offset must say where these bytes start");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	if (upload_of(r, a, p->id, &u, &res) < 0)
		goto end;
	if (offset != u.offset) {
		prl_buf_addf(&msg,
			     "Upload-Offset %" PRId64 " is not where the upload stands "
			     "(%" PRId64 " bytes stored): ask with HEAD and resume from there",
			     offset, u.offset);
		res = web_error_json(r, MHD_HTTP_CONFLICT, msg.data);
		goto end;
	}
	if (cl && parse_count(cl, &body_len) == 0 && body_len > u.length - u.offset) {
		prl_buf_addf(&msg, "these bytes go past the upload's length (%" PRId64 " bytes)",
			     u.length);
		res = web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE, msg.data);
		goto end;
	}
	if (busy_claim(r->srv->uploads, u.id) < 0) {
		res = web_error_json(r, MHD_HTTP_LOCKED,
				     "the upload is being written by another request; try again "
				     "once it ends (a connection lost without a word ends when "
				     "the server's idle timeout passes)");
		goto end;
	}
	if ((ret = stream_open(a, &u, &r->upload)) < 0) {
		busy_release(r->srv->uploads, u.id);
		/* what the file lost is sent again from the start */
		if (ret == -PRL_EIO) {
			unsigned char state[PRL_SHA256_STATE_SIZE];
			struct prl_sha256 h;

			prl_sha256_init(&h);
			prl_sha256_save(&h, state);
			prl_upload_advance(a, u.id, 0, state);
		}
		res = web_error_json(
			r, ret == -PRL_EIO ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			"the stored part of the upload was lost: send it again "
			"from the start");
		goto end;
	}
	res = MHD_YES; /* the body comes next (web_upload_feed) */
end:
	web_archive_put(r->srv, a);
	prl_buf_release(&msg);
	return res;
}

void web_upload_feed(struct web_request *r, const char *data, size_t n)
{
	struct web_upload *w = r->upload;

	if (w->failed || w->too_much)
		return;
	if ((int64_t)n > w->length - w->offset - (int64_t)w->fill) {
		w->too_much = 1;
		return;
	}
	while (n) {
		size_t k = UPLOAD_BUFFER - w->fill < n ? UPLOAD_BUFFER - w->fill : n;

		memcpy(w->buf[w->fill_at] + w->fill, data, k);
		w->fill += k;
		data += k;
		n -= k;
		if (w->fill == UPLOAD_BUFFER)
			stream_flush(w);
		if (w->failed)
			return;
	}
}

enum MHD_Result web_upload_finish(struct web_request *r)
{
	struct prl_buf msg = PRL_BUF_INIT;
	enum MHD_Result res;
	int ret = stream_end(r);

	switch (ret) {
	case 0:
		return tus_answer(r, MHD_HTTP_NO_CONTENT, r->upload_offset, -1, NULL, NULL);
	case -PRL_ENOSPC:
		return web_error_json(r, MHD_HTTP_INSUFFICIENT_STORAGE,
				      "the server's disk is full: the bytes stored are kept, "
				      "resume later");
	case -PRL_ELIMIT:
		prl_buf_addf(&msg,
			     "these bytes go past the upload's length; the first %" PRId64
			     " are stored",
			     r->upload_offset);
		res = web_error_json(r, MHD_HTTP_CONTENT_TOO_LARGE, msg.data);
		prl_buf_release(&msg);
		return res;
	default:
		return web_error_json(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "the upload could not be written");
	}
}

void web_upload_abort(struct web_request *r)
{
	if (r->upload)
		stream_end(r);
}
