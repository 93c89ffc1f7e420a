/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The facts of media files, kept between requests so that a range request
 * for audio costs no SQL, no open() and no fstat(): for each (recording,
 * media kind, viewer's role) the file the archive answered with, opened
 * once, its size, validators and headers formatted once, and the
 * recording's access level at that time.
 *
 * Always holds: an entry is the archive's own answer (prl_archive_media())
 * for one role, never for one person; it is used only under the database
 * signature it was made at (web_cache_signature()), and only a settled
 * signature is kept, so any commit after it -- an access level, a
 * withheld span, a replaced copy -- makes the very next request ask the
 * archive again.  The caller still applies prl_access_decide() to the
 * cached level for its viewer.  A file's descriptor is shared through a
 * reference count and lent to each response as a dup(): MHD closes its
 * copy, and sends with sendfile() or pread() at an explicit offset, so the
 * shared file position is never used.  A file also keeps the last few
 * answers it gave whole (WEB_MEDIA_KEPT: status, range, the kind of viewer,
 * every header): the range every browser starts with, asked again, costs
 * no response, no header and no descriptor; MHD counts its own references
 * to an answer, so one replaced or freed while connections still send it
 * lives until they are done.  A file whose path stops naming it (fsck, a
 * hand-deleted file) is noticed within CHECK_EVERY_MS.
 *
 * Expected workload: thousands of lookups a second on a few threads for a
 * handful of popular recordings; a miss after each commit to the archive.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web-internal.h"

/* Direct-mapped: a collision costs one archive lookup, and at most this
 * many descriptors stay open. */
#define MEDIA_SLOTS 64
/* How often a cached file's path is looked at again. */
#define CHECK_EVERY_MS 1000

struct media_slot {
	int64_t id;		     /* recording */
	int kind;		     /* enum prl_media_kind */
	int role;		     /* the viewer's role the archive answered for */
	uint64_t sig;		     /* web_cache_signature() before the archive was asked */
	enum prl_access access;	     /* the recording's level then */
	struct web_media_file *file; /* a reference, or NULL when empty */
};

struct web_media_cache {
	pthread_mutex_t lock; /* guards slots */
	struct media_slot slots[MEDIA_SLOTS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct web_media_file *web_media_file_open(const struct prl_media *m, enum prl_media_kind k,
					   int64_t id, int *err)
{
	size_t plen = strlen(m->path);
	struct web_media_file *f;
	struct stat st;
	int fd;

	fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		*err = -PRL_EIO;
		return NULL;
	}
	if (!(f = calloc(1, sizeof(*f) + plen + 1))) {
		close(fd);
		*err = -PRL_ENOMEM;
		return NULL;
	}
	atomic_init(&f->refs, 1);
	atomic_init(&f->checked_ms, now_ms());
	pthread_mutex_init(&f->kept_lock, NULL);
	f->fd = fd;
	f->size = (int64_t)st.st_size;
	f->mtime = st.st_mtime;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->mime = m->mime;
	snprintf(f->etag, sizeof(f->etag), "\"%s\"", m->sha256);
	web_http_date(st.st_mtime, f->lastmod);
	if (k == PRL_MEDIA_ORIGINAL) {
		const char *dot = strrchr(m->path, '.');

		snprintf(f->disposition, sizeof(f->disposition),
			 "attachment; filename=\"recording-%lld.%s\"", (long long)id,
			 dot ? dot + 1 : "bin");
	}
	memcpy(f->path, m->path, plen + 1);
	return f;
}

static struct web_media_file *file_ref(struct web_media_file *f)
{
	if (f)
		atomic_fetch_add(&f->refs, 1);
	return f;
}

void web_media_file_unref(struct web_media_file *f)
{
	if (f && atomic_fetch_sub(&f->refs, 1) == 1) {
		/* each kept answer holds its own copy of the descriptor, which
		 * MHD closes once the last connection sending it is done */
		for (size_t i = 0; i < WEB_MEDIA_KEPT; i++)
			if (f->kept[i].resp)
				MHD_destroy_response(f->kept[i].resp);
		pthread_mutex_destroy(&f->kept_lock);
		close(f->fd);
		free(f);
	}
}

int web_media_kept_queue(struct web_media_file *f, struct web_request *r, unsigned status,
			 int64_t first, int64_t last, int variant, enum MHD_Result *res)
{
	int found = 0;

	pthread_mutex_lock(&f->kept_lock);
	for (size_t i = 0; i < WEB_MEDIA_KEPT && !found; i++) {
		struct web_media_kept *k = &f->kept[i];

		if (k->resp && k->status == status && k->first == first && k->last == last &&
		    k->variant == variant) {
			/* MHD counts its own reference: the answer outlives a
			 * replacement while connections still send it */
			*res = web_queue_kept(r, status, k->resp, last - first + 1);
			found = 1;
		}
	}
	pthread_mutex_unlock(&f->kept_lock);
	return found;
}

void web_media_kept_put(struct web_media_file *f, unsigned status, int64_t first, int64_t last,
			int variant, struct MHD_Response *resp)
{
	struct MHD_Response *old;
	struct web_media_kept *k;

	pthread_mutex_lock(&f->kept_lock);
	k = &f->kept[f->next_kept++ % WEB_MEDIA_KEPT];
	old = k->resp;
	k->first = first;
	k->last = last;
	k->status = status;
	k->variant = variant;
	k->resp = resp;
	pthread_mutex_unlock(&f->kept_lock);
	if (old)
		MHD_destroy_response(old);
}

/* True while f's path still names the file that was opened (looked at
 * once per CHECK_EVERY_MS at most: a stat() per request is what this
 * cache is there to save). */
static int file_still_there(struct web_media_file *f)
{
	int64_t now = now_ms();
	struct stat st;

	if (now - atomic_load(&f->checked_ms) < CHECK_EVERY_MS)
		return 1;
	if (stat(f->path, &st) < 0 || st.st_ino != f->ino || st.st_dev != f->dev ||
	    (int64_t)st.st_size != f->size)
		return 0;
	atomic_store(&f->checked_ms, now);
	return 1;
}

int web_media_cache_new(struct web_media_cache **out)
{
	struct web_media_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -PRL_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void web_media_cache_free(struct web_media_cache **pc)
{
	struct web_media_cache *c = pc ? *pc : NULL;

	if (!c)
		return;
	for (size_t i = 0; i < MEDIA_SLOTS; i++)
		web_media_file_unref(c->slots[i].file);
	pthread_mutex_destroy(&c->lock);
	free(c);
	*pc = NULL;
}

static struct media_slot *slot_of(struct web_media_cache *c, int64_t id, int kind, int role)
{
	uint64_t h =
		((uint64_t)id * 16 + (uint64_t)kind * 4 + (uint64_t)role) * 0x9e3779b97f4a7c15ull;

	return &c->slots[h >> 58]; /* the top 6 bits: MEDIA_SLOTS is 64 */
}

/* Empties s and gives what it held to the caller (to unref outside the lock). */
static struct web_media_file *slot_take(struct media_slot *s)
{
	struct web_media_file *f = s->file;

	s->file = NULL;
	return f;
}

struct web_media_file *web_media_cache_get(struct web_media_cache *c, int64_t id,
					   enum prl_media_kind k, int role, uint64_t sig,
					   enum prl_access *access)
{
	struct media_slot *s;
	struct web_media_file *f = NULL, *stale = NULL;

	if (!c || !WEB_SIG_SETTLED(sig))
		return NULL;
	s = slot_of(c, id, (int)k, role);
	pthread_mutex_lock(&c->lock);
	if (s->file && s->id == id && s->kind == (int)k && s->role == role) {
		if (s->sig == sig) {
			f = file_ref(s->file);
			*access = s->access;
		} else {
			/* the archive changed: let the descriptor go now */
			stale = slot_take(s);
		}
	}
	pthread_mutex_unlock(&c->lock);
	web_media_file_unref(stale);
	if (f && !file_still_there(f)) {
		pthread_mutex_lock(&c->lock);
		if (s->file == f)
			stale = slot_take(s);
		pthread_mutex_unlock(&c->lock);
		web_media_file_unref(stale);
		web_media_file_unref(f);
		f = NULL;
	}
	return f;
}

void web_media_cache_put(struct web_media_cache *c, int64_t id, enum prl_media_kind k, int role,
			 uint64_t sig, enum prl_access access, struct web_media_file *f)
{
	struct media_slot *s;
	struct web_media_file *old;

	/* made while a commit may still have been landing: not kept, so the
	 * next request asks the archive again */
	if (!c || !f || !WEB_SIG_SETTLED(sig))
		return;
	s = slot_of(c, id, (int)k, role);
	pthread_mutex_lock(&c->lock);
	old = s->file;
	s->file = file_ref(f);
	s->id = id;
	s->kind = (int)k;
	s->role = role;
	s->sig = sig;
	s->access = access;
	pthread_mutex_unlock(&c->lock);
	web_media_file_unref(old);
}
