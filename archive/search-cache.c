/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The search cache: one object that holds what searches share between
 * queries (the index's vocabulary, remembered counts, the postings in
 * memory), made by whoever holds handles on one archive (a server makes
 * one for its pool) and given to each handle, as SQLite's shared cache or
 * curl's share handles are.  Each part is kept by its own file
 * (search-variants.c, search-count.c, search-memory.c); this file makes,
 * binds and frees the whole.
 *
 * Always holds: a cache serves one archive, the one its first handle
 * opened; every part is read and written under its own lock; a cache is
 * freed only once no handle uses it.  The process also lists its live
 * caches, for the calls that name none (prl_archive_search_forget(),
 * prl_archive_search_memory_state(), a test's tuning).
 * Expected workload: one cache per server, one per handle otherwise; made
 * and freed once each.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "search-internal.h"

/* the process's live caches, for the calls that name none */
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prl_search_cache *caches;

struct prl_search_cache *prl_search_cache_new(void)
{
	struct prl_search_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->vocab_lock, NULL);
	pthread_mutex_init(&c->count_lock, NULL);
	pthread_mutex_init(&c->memory_lock, NULL);
	pthread_mutex_lock(&caches_lock);
	c->next = caches;
	caches = c;
	pthread_mutex_unlock(&caches_lock);
	return c;
}

void prl_search_cache_free(struct prl_search_cache *c)
{
	struct prl_search_cache **p;

	if (!c)
		return;
	pthread_mutex_lock(&caches_lock);
	for (p = &caches; *p && *p != c; p = &(*p)->next)
		;
	if (*p)
		*p = c->next;
	pthread_mutex_unlock(&caches_lock);
	search_memory_forget(c);
	search_vocab_drop(c);
	search_counts_free(c);
	pthread_mutex_destroy(&c->vocab_lock);
	pthread_mutex_destroy(&c->count_lock);
	pthread_mutex_destroy(&c->memory_lock);
	free(c->dir);
	free(c);
}

int search_cache_bind(struct prl_search_cache *c, const char *dir)
{
	int ret = 0;

	/* dir is written once, before any reading of the postings starts */
	pthread_mutex_lock(&c->memory_lock);
	if (!c->dir && !(c->dir = strdup(dir)))
		ret = -PRL_ENOMEM;
	else if (strcmp(c->dir, dir) != 0)
		ret = -PRL_EINVAL;
	pthread_mutex_unlock(&c->memory_lock);
	return ret;
}

void prl_archive_search_forget(void)
{
	pthread_mutex_lock(&caches_lock);
	for (struct prl_search_cache *c = caches; c; c = c->next)
		search_memory_forget(c);
	pthread_mutex_unlock(&caches_lock);
}

int prl_archive_search_memory_state(size_t *bytes, int64_t *rows, char **why)
{
	struct prl_search_cache *c, *shown = NULL;
	int ready = 0;

	pthread_mutex_lock(&caches_lock);
	/* the first cache holding a copy, else the first asked to keep one */
	for (c = caches; c && !shown; c = c->next) {
		pthread_mutex_lock(&c->memory_lock);
		if (c->memory)
			shown = c;
		pthread_mutex_unlock(&c->memory_lock);
	}
	for (c = caches; c && !shown; c = c->next) {
		pthread_mutex_lock(&c->memory_lock);
		if (c->keeping || c->memory_last_error)
			shown = c;
		pthread_mutex_unlock(&c->memory_lock);
	}
	if (shown) {
		ready = search_memory_state(shown, bytes, rows, why);
	} else {
		if (bytes)
			*bytes = 0;
		if (rows)
			*rows = 0;
		if (why)
			*why = NULL;
	}
	pthread_mutex_unlock(&caches_lock);
	return ready;
}

void archive_search_tuning(int64_t parallel_from)
{
	search_count_tuning(parallel_from);
	pthread_mutex_lock(&caches_lock);
	for (struct prl_search_cache *c = caches; c; c = c->next)
		search_counts_forget(c);
	pthread_mutex_unlock(&caches_lock);
}
