/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A cache of recording JSON and of the pages' costly pieces (an
 * institution's page, the map, the review queue), so that a recording with
 * thousands of segments is built from SQLite once and then served from
 * memory to every listener who opens it; and web_recording_json(), the one
 * way the API, the pages and IIIF get a recording's JSON: from the cache,
 * else the archive.
 *
 * Always holds: an entry is the archive's own answer for one recording and
 * one role (the archive decided what that role may see; nothing is decided
 * here), and it is used only while the database files look exactly as they
 * did before it was built: the size, inode and modification time of
 * archive.db and archive.db-wal (every commit writes one of them).  File
 * times are coarse (a kernel tick, or a whole second on some file
 * systems), so two commits in one tick may leave the same signature; but
 * once the files have been still for SETTLE_MS, any later commit gets a
 * later time.  A signature taken then is "settled" (its lowest bit), and
 * an entry built under it lasts until the files change.  An entry built
 * under an unsettled one also expires after CACHE_TTL_MS, so a change the
 * signature cannot see is visible within that time; it is rebuilt once
 * the files settle.  The media cache (mediacache.c) lives here too and
 * keeps settled entries only.  Bytes are shared through reference-counted
 * blobs: a response being sent keeps its blob alive after the entry is
 * replaced.
 *
 * Entries are found by a hash of their id and role and kept in the order
 * they were last read; past WEB_CACHE_ENTRIES entries or WEB_CACHE_BYTES
 * bytes, the entries read least recently go, and an answer larger than an
 * eighth of the bytes is served, never kept.
 *
 * Expected workload: a handful of popular recordings read many times a
 * second, a few hundred kilobytes each; a network's pages, a hundred
 * institutions with a few pieces each per role; a stat() pair per lookup;
 * edits now and then, in bursts.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "web-internal.h"

#define CACHE_TTL_MS 1000
/* Longer than any file system's timestamp granularity (2 s on FAT, 1 s on
 * ext4 with small inodes, a tick on the rest), so that a commit after a
 * settled signature always shows in the next one. */
#define SETTLE_MS 2500
/* Below this, compressing saves less than it costs. */
#define GZIP_MIN_BYTES 1024

/* Compresses b's bytes once, so that every listener gets the small form
 * (a JSON of thousands of segments shrinks about tenfold).  Failing
 * leaves b without it: the plain bytes are always there. */
static void gzip_into(struct web_blob *b, int level)
{
	z_stream z;
	uLong bound;
	unsigned char *out;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper, as Content-Encoding: gzip wants */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	bound = deflateBound(&z, (uLong)b->len);
	if (!(out = malloc(bound))) {
		deflateEnd(&z);
		return;
	}
	z.next_in = (unsigned char *)b->data;
	z.avail_in = (uInt)b->len;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= b->len) {
		free(out);
	} else {
		b->gz = out;
		b->gz_len = z.total_out;
	}
	deflateEnd(&z);
}

int web_accepts_gzip(const char *header)
{
	const char *p = header;

	while (p && *p) {
		const char *tok, *end = strchr(p, ',');
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		n = (size_t)(p - tok);
		if ((n == 4 && strncasecmp(tok, "gzip", 4) == 0) || (n == 1 && *tok == '*')) {
			const char *q = strstr(p, "q=");

			/* an explicit q=0 refuses it */
			if (!q || (end && q > end) || strtod(q + 2, NULL) > 0)
				return 1;
		}
		p = end ? end + 1 : p + strlen(p);
	}
	return 0;
}

struct web_blob *web_blob_new(const char *data, size_t len)
{
	return web_blob_new_level(data, len, 6);
}

struct web_blob *web_blob_new_level(const char *data, size_t len, int level)
{
	struct web_blob *b = malloc(sizeof(*b) + len + 1);

	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->len = len;
	b->gz = NULL;
	b->gz_len = 0;
	memcpy(b->data, data, len);
	b->data[len] = '\0';
	if (len >= GZIP_MIN_BYTES)
		gzip_into(b, level);
	return b;
}

struct web_blob *web_blob_ref(struct web_blob *b)
{
	if (b)
		atomic_fetch_add(&b->refs, 1);
	return b;
}

void web_blob_unref(struct web_blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->gz);
		free(b);
	}
}

int web_cache_init(struct web_cache *c, const char *data_dir)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->max_bytes = WEB_CACHE_BYTES;
	if (prl_buf_addf(&c->db_path, "%s/archive.db", data_dir) < 0 ||
	    prl_buf_addf(&c->wal_path, "%s/archive.db-wal", data_dir) < 0)
		return -PRL_ENOMEM;
	return web_media_cache_new(&c->media);
}

void web_cache_release(struct web_cache *c)
{
	if (!c)
		return;
	for (struct web_cache_entry *e = c->newest, *older; e; e = older) {
		older = e->older;
		web_blob_unref(e->blob);
		free(e);
	}
	web_media_cache_free(&c->media);
	pthread_mutex_destroy(&c->lock);
	prl_buf_release(&c->db_path);
	prl_buf_release(&c->wal_path);
	memset(c, 0, sizeof(*c));
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	/* FNV-1a over the 8 bytes: enough to tell two file states apart */
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t web_cache_signature(const struct web_cache *c)
{
	uint64_t h = 1469598103934665603ull;
	int64_t newest_ms = 0, now;
	struct timespec ts;
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (stat(prl_buf_str(i ? &c->wal_path : &c->db_path), &st) == 0) {
			int64_t ms =
				(int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;

			h = mix(h, (uint64_t)st.st_size);
			h = mix(h, (uint64_t)st.st_ino);
			h = mix(h, (uint64_t)st.st_mtim.tv_sec);
			h = mix(h, (uint64_t)st.st_mtim.tv_nsec);
			if (ms > newest_ms)
				newest_ms = ms;
		} else {
			h = mix(h, 0xdeadull + (uint64_t)i);
		}
	}
	/* the same clock the file times come from; a time in the future (the
	 * clock was set back) never counts as settled */
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return (h & ~(uint64_t)1) | (now - newest_ms >= SETTLE_MS);
}

/* The bucket of (id, role): a 64-bit mix of both (splitmix64's
 * finaliser), so that keys in arithmetic runs (recordings 1, 2, 3; an
 * institution's pieces, eight apart and negative) spread over them all. */
static struct web_cache_entry **bucket_of(struct web_cache *c, int64_t id, int role)
{
	uint64_t h = (uint64_t)id * 16 + (uint64_t)(unsigned)role;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return &c->buckets[h % WEB_CACHE_BUCKETS];
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t blob_bytes(const struct web_blob *b)
{
	return sizeof(*b) + b->len + 1 + b->gz_len;
}

/* The entry for (id, role) and the link that points at it, or NULL. */
static struct web_cache_entry **find(struct web_cache *c, int64_t id, int role)
{
	struct web_cache_entry **link = bucket_of(c, id, role);

	while (*link && ((*link)->id != id || (*link)->role != role))
		link = &(*link)->next;
	return *link ? link : NULL;
}

static void lru_unlink(struct web_cache *c, struct web_cache_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct web_cache *c, struct web_cache_entry *e)
{
	e->newer = NULL;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

/* Takes the entry *link points at out of the cache (the lock held) and
 * onto *gone, whose blobs and entries the caller frees once the lock is
 * let go. */
static void evict(struct web_cache *c, struct web_cache_entry **link, struct web_cache_entry **gone)
{
	struct web_cache_entry *e = *link;

	*link = e->next;
	lru_unlink(c, e);
	c->entries--;
	c->bytes -= blob_bytes(e->blob);
	e->next = *gone;
	*gone = e;
}

static void free_gone(struct web_cache_entry *gone)
{
	while (gone) {
		struct web_cache_entry *next = gone->next;

		web_blob_unref(gone->blob);
		free(gone);
		gone = next;
	}
}

struct web_blob *web_cache_get(struct web_cache *c, int64_t id, int role, uint64_t sig)
{
	struct web_cache_entry **link, *e;
	struct web_blob *b = NULL;

	pthread_mutex_lock(&c->lock);
	if ((link = find(c, id, role)) && (e = *link)->sig == sig &&
	    (WEB_SIG_SETTLED(sig) || now_ms() - e->born_ms < CACHE_TTL_MS)) {
		b = web_blob_ref(e->blob);
		lru_unlink(c, e);
		lru_push(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

void web_cache_put(struct web_cache *c, int64_t id, int role, uint64_t sig, struct web_blob *b)
{
	struct web_cache_entry **link, *e, *gone = NULL;
	size_t size = blob_bytes(b);

	/* one answer larger than an eighth of the room would push out
	 * everything else for itself: it is served, not kept */
	if (size > c->max_bytes / 8 || !(e = calloc(1, sizeof(*e))))
		return;
	e->id = id;
	e->role = role;
	e->sig = sig;
	e->born_ms = now_ms();
	e->blob = web_blob_ref(b);
	pthread_mutex_lock(&c->lock);
	if ((link = find(c, id, role)))
		evict(c, link, &gone);
	link = bucket_of(c, id, role);
	e->next = *link;
	*link = e;
	lru_push(c, e);
	c->entries++;
	c->bytes += size;
	/* past a cap, the entries read least recently go */
	while ((c->bytes > c->max_bytes || c->entries > WEB_CACHE_ENTRIES) && c->oldest != e) {
		struct web_cache_entry *old = c->oldest;

		evict(c, find(c, old->id, old->role), &gone);
	}
	pthread_mutex_unlock(&c->lock);
	free_gone(gone);
}

/* MHD calls this when a response made by web_blob_response() is freed. */
static void blob_response_done(void *cls)
{
	web_blob_unref(cls);
}

struct MHD_Response *web_blob_response(struct web_blob *b, int gz)
{
	struct MHD_Response *resp;

	gz = gz && b->gz;
	web_blob_ref(b);
	resp = MHD_create_response_from_buffer_with_free_callback_cls(
		gz ? b->gz_len : b->len, gz ? (void *)b->gz : (void *)b->data, blob_response_done,
		b);
	if (!resp) {
		web_blob_unref(b);
		return NULL;
	}
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (b->gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	return resp;
}

int web_cache_piece(struct web_request *r, int64_t key, int role, int keep, web_piece_make *make,
		    void *ctx, struct prl_buf *out)
{
	struct web_cache *c = &r->srv->cache;
	/* taken before making: a change during it leaves a stale signature */
	uint64_t sig = web_cache_signature(c);
	struct prl_buf b = PRL_BUF_INIT;
	struct web_blob *blob;
	int ret;

	if (keep && (blob = web_cache_get(c, key, role, sig))) {
		ret = prl_buf_add(out, blob->data, blob->len);
		web_blob_unref(blob);
		return ret;
	}
	if ((ret = make(ctx, &b)) == 0 && keep && (blob = web_blob_new(prl_buf_str(&b), b.len))) {
		web_cache_put(c, key, role, sig, blob);
		web_blob_unref(blob);
	}
	if (ret == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* ---- the recording JSON a viewer gets ---- */

int web_media_urls(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
		   struct prl_buf *out)
{
	static const struct {
		enum prl_media_kind kind;
		const char *ext;
	} copies[] = {{PRL_MEDIA_OPUS, "opus"}, {PRL_MEDIA_MP3, "mp3"}};
	int n = 0, ret = prl_buf_addch(out, '{');

	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]) && ret == 0; i++) {
		struct prl_media m;

		memset(&m, 0, sizeof(m));
		/* the hash alone: a page's view fetches nothing from an object store */
		if (prl_archive_media_info(a, v, id, copies[i].kind, &m) < 0)
			continue; /* not for this viewer, or not made yet */
		ret = prl_buf_addf(out, "%s\"%s\":\"/media/%lld.%s?v=%.*s\"", n++ ? "," : "",
				   copies[i].ext, (long long)id, copies[i].ext,
				   WEB_MEDIA_VERSION_LEN, m.sha256);
		prl_media_clear(&m);
	}
	if (ret == 0)
		ret = prl_buf_addch(out, '}');
	return ret < 0 ? ret : n;
}

/* Appends ,"media":{"opus": URL, "mp3": URL} to the recording JSON in b
 * (its closing brace moved after them); nothing when there is none. */
static int add_media_urls(struct prl_archive *a, const struct prl_viewer *v, int64_t id,
			  struct prl_buf *b)
{
	struct prl_buf urls = PRL_BUF_INIT;
	int ret;

	if (!b->len || b->data[b->len - 1] != '}')
		return -PRL_EFORMAT;
	if ((ret = web_media_urls(a, v, id, &urls)) > 0) {
		b->data[--b->len] = '\0';
		prl_buf_addstr(b, ",\"media\":");
		prl_buf_add(b, prl_buf_str(&urls), urls.len);
		ret = prl_buf_addch(b, '}');
	}
	prl_buf_release(&urls);
	return ret < 0 ? ret : 0;
}

struct web_blob *web_recording_json(struct web_request *r, int64_t id, int *err)
{
	struct web_cache *c = &r->srv->cache;
	uint64_t sig = web_cache_signature(c);
	/* a researcher granted one institution (or none) gets answers of its
	 * own: never one cached for its role, nor one for the role to share */
	int shared = prl_access_by_role(&r->viewer);
	struct web_blob *blob = shared ? web_cache_get(c, id, (int)r->viewer.role, sig) : NULL;
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a;
	int ret;

	if (blob)
		return blob;
	if (!(a = web_archive_get(r->srv))) {
		*err = -PRL_EIO;
		return NULL;
	}
	/* the archive applies the access rule for this viewer's role */
	ret = prl_archive_recording_json(a, &r->viewer, id, &b);
	if (ret == 0)
		ret = add_media_urls(a, &r->viewer, id, &b);
	web_archive_put(r->srv, a);
	if (ret == 0 && (ret = prl_buf_addch(&b, '\n')) == 0 &&
	    !(blob = web_blob_new(prl_buf_str(&b), b.len)))
		ret = -PRL_ENOMEM;
	prl_buf_release(&b);
	if (ret < 0) {
		*err = ret;
		return NULL;
	}
	if (shared)
		web_cache_put(c, id, (int)r->viewer.role, sig, blob);
	return blob;
}
