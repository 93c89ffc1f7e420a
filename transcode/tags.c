/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Metadata tags read from an audio file: a small list of key/value pairs.
 *
 * Always holds: keys are lower case ASCII and appear once (the first value
 * found wins, so BWF bext fields read first are not overwritten by a
 * LIST/INFO twin); values are valid, trimmed, non-empty UTF-8.  Files carry
 * a dozen tags at most, so a linear list is the right structure.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "transcode-internal.h"

void prl_tags_clear(struct prl_tags *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->count; i++) {
		free(t->items[i].key);
		free(t->items[i].value);
	}
	free(t->items);
	t->items = NULL;
	t->count = 0;
}

const char *prl_tags_get(const struct prl_tags *t, const char *key)
{
	size_t i;

	if (!t || !key)
		return NULL;
	for (i = 0; i < t->count; i++)
		if (strcmp(t->items[i].key, key) == 0)
			return t->items[i].value;
	return NULL;
}

/* RIFF INFO, bext and ID3v1 text is nominally Latin-1 (or the writer's
 * code page) but many tools write UTF-8 there: keep what is valid UTF-8,
 * read the rest as Latin-1. */
static char *to_utf8(const char *s, size_t len)
{
	struct prl_buf b = PRL_BUF_INIT;

	if (prl_buf_add_utf8_or_latin1(&b, s, len) < 0) {
		prl_buf_release(&b);
		return NULL;
	}
	return prl_buf_detach(&b, NULL);
}

int tags_add(struct prl_tags *t, const char *key, const char *value, size_t len)
{
	struct prl_tag *items;
	char *k = NULL, *v = NULL;
	const char *nul;
	size_t i;

	/* Fixed-width fields (bext) are NUL-padded, and some writers leave
	 * garbage after the NUL: the text ends at the first one. */
	if ((nul = memchr(value, '\0', len)))
		len = (size_t)(nul - value);
	while (len && isspace((unsigned char)*value)) {
		value++;
		len--;
	}
	while (len && isspace((unsigned char)value[len - 1]))
		len--;
	if (!len)
		return 0;
	if (!(k = strdup(key)))
		goto fail;
	for (i = 0; k[i]; i++)
		k[i] = (char)tolower((unsigned char)k[i]);
	if (prl_tags_get(t, k)) {
		free(k);
		return 0;
	}
	if (!(v = to_utf8(value, len)))
		goto fail;
	if (!(items = realloc(t->items, (t->count + 1) * sizeof(*items))))
		goto fail;
	t->items = items;
	t->items[t->count].key = k;
	t->items[t->count].value = v;
	t->count++;
	return 0;
fail:
	free(v);
	free(k);
	return -PRL_ENOMEM;
}
