/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The growable buffer (git's strbuf, curl's dynbuf): every string parlers
 * builds goes through here.  Growth doubles, so appending n bytes one at a
 * time costs O(n).  Allocation failure is reported, never fatal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/common.h"

void prl_buf_init(struct prl_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void prl_buf_release(struct prl_buf *b)
{
	if (!b)
		return;
	free(b->data);
	prl_buf_init(b);
}

int prl_buf_grow(struct prl_buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -PRL_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = realloc(b->data, n);
	if (!p)
		return -PRL_ENOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->alloc = n;
	return 0;
}

int prl_buf_add(struct prl_buf *b, const void *data, size_t len)
{
	int ret;

	if ((ret = prl_buf_grow(b, len)) < 0)
		return ret;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int prl_buf_addstr(struct prl_buf *b, const char *s)
{
	return prl_buf_add(b, s, strlen(s));
}

int prl_buf_addch(struct prl_buf *b, char c)
{
	return prl_buf_add(b, &c, 1);
}

int prl_buf_vaddf(struct prl_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, ret;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -PRL_EINVAL;
	if ((ret = prl_buf_grow(b, (size_t)n)) < 0)
		return ret;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int prl_buf_addf(struct prl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = prl_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return ret;
}

void prl_buf_reset(struct prl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *prl_buf_detach(struct prl_buf *b, size_t *len)
{
	char *p;

	if (!b->data && prl_buf_grow(b, 0) < 0)
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	prl_buf_init(b);
	return p;
}

const char *prl_buf_str(const struct prl_buf *b)
{
	return b->data ? b->data : "";
}

int prl_read_file(const char *path, size_t max_bytes, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f;
	int ret = 0;

	f = fopen(path, "rb");
	if (!f)
		return -PRL_EIO;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (max_bytes && b.len + n > max_bytes) {
			ret = -PRL_EINVAL;
			goto end;
		}
		if ((ret = prl_buf_add(&b, chunk, n)) < 0)
			goto end;
	}
	if (ferror(f)) {
		ret = -PRL_EIO;
		goto end;
	}
	if ((ret = prl_buf_grow(&b, 0)) < 0)
		goto end;
	prl_buf_release(out);
	*out = b;
	prl_buf_init(&b);
end:
	fclose(f);
	prl_buf_release(&b);
	return ret;
}
