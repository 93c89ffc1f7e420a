/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The annotation model and what every format shares: building and freeing
 * documents, NFC text, charset decoding, the id map EAF needs, the output
 * sink, handing back the pages of a file mapping, and validation.  The
 * formats call these; nothing here calls a format (formats.c does).
 *
 * Invariants: every stored string is valid UTF-8 in NFC.  Workload: one document per ingest or
 * export, from a handful of segments to a few million; everything here is linear in the input
 * except validation, which sorts each tier once.
 */
#include <errno.h>
#include <iconv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <utf8proc.h>

#include "annot-internal.h"

static const char *const constraint_names[] = {
	NULL, "Time_Subdivision", "Included_In", "Symbolic_Subdivision", "Symbolic_Association",
};

const char *prl_annot_constraint_name(enum prl_constraint c)
{
	if ((unsigned)c >= sizeof(constraint_names) / sizeof(constraint_names[0]))
		return NULL;
	return constraint_names[c];
}

int prl_annot_constraint_parse(const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 1; i < sizeof(constraint_names) / sizeof(constraint_names[0]); i++)
		if (!strcmp(s, constraint_names[i]))
			return (int)i;
	return -1;
}

struct prl_annot_doc *prl_annot_doc_new(void)
{
	struct prl_annot_doc *d = calloc(1, sizeof(*d));

	if (d)
		d->xmax_ms = -1;
	return d;
}

static void tier_release(struct prl_tier *t)
{
	size_t i;

	for (i = 0; i < t->nsegs; i++) {
		free(t->segs[i].text);
		free(t->segs[i].ext_id);
		free(t->segs[i].cve_ref);
	}
	free(t->segs);
	free(t->name);
	free(t->type);
	free(t->language);
	free(t->participant);
	free(t->annotator);
	free(t->ling_type);
	free(t->default_locale);
	free(t->origin_tool);
	free(t->origin_settings);
}

void prl_annot_doc_free(struct prl_annot_doc *d)
{
	size_t i, j;

	if (!d)
		return;
	for (i = 0; i < d->ntiers; i++)
		tier_release(&d->tiers[i]);
	free(d->tiers);
	for (i = 0; i < d->nling_types; i++) {
		free(d->ling_types[i].id);
		free(d->ling_types[i].cv_ref);
	}
	free(d->ling_types);
	for (i = 0; i < d->ncvs; i++) {
		for (j = 0; j < d->cvs[i].nentries; j++) {
			free(d->cvs[i].entries[j].id);
			free(d->cvs[i].entries[j].value);
			free(d->cvs[i].entries[j].description);
			free(d->cvs[i].entries[j].lang);
		}
		free(d->cvs[i].entries);
		free(d->cvs[i].id);
		free(d->cvs[i].description);
		free(d->cvs[i].ext_ref);
	}
	free(d->cvs);
	for (i = 0; i < d->nprops; i++) {
		free(d->props[i].key);
		free(d->props[i].value);
	}
	free(d->props);
	free(d->author);
	free(d->date);
	free(d);
}

char *annot_strdup_or_null(const char *s, int *failed)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		*failed = 1;
	return r;
}

int prl_annot_add_tier(struct prl_annot_doc *d, const char *name, const char *type)
{
	struct prl_tier *t;
	int failed = 0;

	if (!name)
		return -PRL_EINVAL;
	if (d->ntiers > (size_t)INT32_MAX - 1)
		return -PRL_ENOMEM;
	if (d->ntiers == d->alloc_tiers) {
		size_t n = d->alloc_tiers ? d->alloc_tiers * 2 : 8;
		t = realloc(d->tiers, n * sizeof(*t));
		if (!t)
			return -PRL_ENOMEM;
		d->tiers = t;
		d->alloc_tiers = n;
	}
	t = &d->tiers[d->ntiers];
	memset(t, 0, sizeof(*t));
	t->name = annot_strdup_or_null(name, &failed);
	t->type = annot_strdup_or_null(type ? type : "other", &failed);
	if (failed) {
		free(t->name);
		free(t->type);
		return -PRL_ENOMEM;
	}
	return (int)d->ntiers++;
}

int annot_push_segment(struct prl_tier *t, int64_t start_ms, int64_t end_ms, char *text,
		       size_t parent)
{
	struct prl_segment *s;

	if (t->nsegs == t->alloc_segs) {
		/* grow by half: a million segments should not need twice their size */
		size_t n = t->alloc_segs ? t->alloc_segs + t->alloc_segs / 2 : 16;
		if (n > SIZE_MAX / sizeof(*s) || !(s = realloc(t->segs, n * sizeof(*s)))) {
			free(text);
			return -PRL_ENOMEM;
		}
		t->segs = s;
		t->alloc_segs = n;
	}
	s = &t->segs[t->nsegs++];
	memset(s, 0, sizeof(*s));
	s->start_ms = start_ms;
	s->end_ms = end_ms;
	s->text = text;
	s->parent = parent;
	return 0;
}

int prl_annot_add_segment(struct prl_tier *t, int64_t start_ms, int64_t end_ms, const char *text,
			  size_t parent)
{
	char *copy;

	/* the model's promise: valid UTF-8 in NFC, whoever builds it */
	if (!text)
		text = "";
	if (!prl_utf8_valid(text, strlen(text)))
		return -PRL_EINVAL;
	if (!(copy = annot_strdup_nfc(text, strlen(text))))
		return -PRL_ENOMEM;
	return annot_push_segment(t, start_ms, end_ms, copy, parent);
}

int annot_add_prop(struct prl_annot_doc *d, const char *key, const char *value)
{
	struct prl_prop *p;
	int failed = 0;

	p = realloc(d->props, (d->nprops + 1) * sizeof(*p));
	if (!p)
		return -PRL_ENOMEM;
	d->props = p;
	p = &d->props[d->nprops];
	p->key = annot_strdup_or_null(key, &failed);
	p->value = annot_strdup_or_null(value ? value : "", &failed);
	if (failed) {
		free(p->key);
		free(p->value);
		return -PRL_ENOMEM;
	}
	d->nprops++;
	return 0;
}

/* NFC.  Every code point below U+0300 is NFC_Quick_Check=Yes, and in UTF-8
 * those are exactly the bytes below 0xCC; most transcripts (Latin script
 * with precomposed accents) never reach utf8proc. */
char *annot_strdup_nfc(const char *s, size_t len)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n;
	size_t i;
	char *r;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0xcc)
			break;
	if (i == len) {
		if (!(r = malloc(len + 1)))
			return NULL;
		memcpy(r, s, len);
		r[len] = '\0';
		return r;
	}
	n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &mapped,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0)
		return NULL;
	return (char *)mapped;
}

char *prl_annot_text_nfc(const char *s, size_t len)
{
	if (!s || !prl_utf8_valid(s, len) || memchr(s, '\0', len))
		return NULL;
	return annot_strdup_nfc(s, len);
}

int annot_fail(struct prl_buf *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		prl_buf_reset(err);
		va_start(ap, fmt);
		prl_buf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return -code;
}

void annot_warn(struct prl_buf *warn, const char *fmt, ...)
{
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	prl_buf_vaddf(warn, fmt, ap);
	va_end(ap);
	prl_buf_addch(warn, '\n');
}

size_t annot_line_at(const char *s, size_t off)
{
	size_t i, line = 1;

	for (i = 0; i < off; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= off || s[i + 1] != '\n')))
			line++;
	return line;
}

int64_t annot_sec_to_ms(double sec)
{
	double ms = sec * 1000.0;

	if (!(ms == ms) || ms > 9.0e15 || ms < -9.0e15)
		return 0;
	return (int64_t)llround(ms) + 0; /* + 0 turns -0 into 0 */
}

/* UTF-16 or UTF-32 (code unit size unit, big-endian when be) into UTF-8. */
static int decode_utf16_32(const unsigned char *p, size_t len, int unit, int be,
			   struct prl_buf *tmp, struct prl_buf *err)
{
	size_t i = 0, line = 1;
	uint32_t c, c2;
	int ret;

	if ((ret = prl_buf_grow(tmp, len + len / 2)) < 0)
		return ret;
	while (i + (size_t)unit <= len) {
		if (unit == 2)
			c = be ? (uint32_t)(p[i] << 8 | p[i + 1])
			       : (uint32_t)(p[i + 1] << 8 | p[i]);
		else
			c = be ? ((uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
				  (uint32_t)p[i + 2] << 8 | p[i + 3])
			       : ((uint32_t)p[i + 3] << 24 | (uint32_t)p[i + 2] << 16 |
				  (uint32_t)p[i + 1] << 8 | p[i]);
		i += (size_t)unit;
		if (unit == 2 && c >= 0xd800 && c <= 0xdbff) {
			if (i + 2 > len)
				return annot_fail(
					err, PRL_EFORMAT,
					"line %zu: UTF-16 text ends inside a surrogate pair", line);
			c2 = be ? (uint32_t)(p[i] << 8 | p[i + 1])
				: (uint32_t)(p[i + 1] << 8 | p[i]);
			if (c2 < 0xdc00 || c2 > 0xdfff)
				return annot_fail(err, PRL_EFORMAT,
						  "line %zu: unpaired UTF-16 surrogate", line);
			i += 2;
			c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
		} else if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
			return annot_fail(err, PRL_EFORMAT, "line %zu: invalid UTF-%d code unit",
					  line, unit * 8);
		}
		if (c == '\n')
			line++;
		if ((ret = prl_buf_add_utf8(tmp, c)) < 0)
			return ret;
	}
	if (i != len)
		return annot_fail(err, PRL_EFORMAT,
				  "line %zu: UTF-%d text ends in half a character", line, unit * 8);
	return 0;
}

static int decode_iconv(const char *data, size_t len, const char *charset, struct prl_buf *tmp,
			struct prl_buf *err)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	char *in = (char *)data, *outp;
	size_t inleft = len, outleft, done;
	int ret = 0;

	if (cd == (iconv_t)-1)
		return annot_fail(err, PRL_EINVAL, "unknown charset \"%s\"", charset);
	for (;;) {
		if ((ret = prl_buf_grow(tmp, inleft * 2 + 16)) < 0)
			goto end;
		outp = tmp->data + tmp->len;
		outleft = tmp->alloc - tmp->len - 1;
		done = iconv(cd, &in, &inleft, &outp, &outleft);
		tmp->len = (size_t)(outp - tmp->data);
		tmp->data[tmp->len] = '\0';
		if (done != (size_t)-1)
			break;
		if (errno != E2BIG) {
			ret = annot_fail(err, PRL_EFORMAT, "line %zu: not valid %s text",
					 annot_line_at(data, (size_t)(in - data)), charset);
			goto end;
		}
	}
end:
	iconv_close(cd);
	return ret;
}

/* Offset of the first byte that is not part of valid UTF-8.  Only called
 * once prl_utf8_valid said no, so the slow byte walk costs nothing in the
 * common case. */
static size_t utf8_bad_offset(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		n = c < 0x80		     ? 1
		    : c >= 0xc2 && c <= 0xdf ? 2
		    : c >= 0xe0 && c <= 0xef ? 3
		    : c >= 0xf0 && c <= 0xf4 ? 4
					     : 0;
		if (!n || i + n > len || !prl_utf8_valid(s + i, n))
			return i;
		i += n;
	}
	return len;
}

int annot_decode(const char *data, size_t len, const char *charset, int latin1_fallback,
		 const char **out, size_t *outlen, struct prl_buf *tmp, struct prl_buf *err,
		 struct prl_buf *warn)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i, bad;
	int ret;

	prl_buf_reset(tmp);
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		data += 3;
		len -= 3;
		goto utf8;
	}
	if (len >= 4 && p[0] == 0xff && p[1] == 0xfe && p[2] == 0 && p[3] == 0)
		ret = decode_utf16_32(p + 4, len - 4, 4, 0, tmp, err);
	else if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xfe && p[3] == 0xff)
		ret = decode_utf16_32(p + 4, len - 4, 4, 1, tmp, err);
	else if (len >= 2 && p[0] == 0xfe && p[1] == 0xff)
		ret = decode_utf16_32(p + 2, len - 2, 2, 1, tmp, err);
	else if (len >= 2 && p[0] == 0xff && p[1] == 0xfe)
		ret = decode_utf16_32(p + 2, len - 2, 2, 0, tmp, err);
	else if (charset && *charset)
		ret = decode_iconv(data, len, charset, tmp, err);
	else
		goto utf8;
	if (ret < 0)
		return ret;
	*out = tmp->data ? tmp->data : "";
	*outlen = tmp->len;
	return 0;
utf8:
	if (prl_utf8_valid(data, len)) {
		*out = data;
		*outlen = len;
		return 0;
	}
	bad = utf8_bad_offset(data, len);
	if (!latin1_fallback)
		return annot_fail(err, PRL_EFORMAT,
				  "line %zu: not valid UTF-8 (byte 0x%02x); convert the file to "
				  "UTF-8 or name its charset",
				  annot_line_at(data, bad), (unsigned char)data[bad]);
	/* Praat itself falls back to Latin-1 for text files that are not UTF-8 */
	annot_warn(warn, "line %zu: not valid UTF-8, read as Latin-1 (ISO 8859-1)",
		   annot_line_at(data, bad));
	if ((ret = prl_buf_grow(tmp, len * 2)) < 0)
		return ret;
	for (i = 0; i < len; i++)
		if ((ret = prl_buf_add_utf8(tmp, (unsigned char)data[i])) < 0)
			return ret;
	*out = tmp->data;
	*outlen = tmp->len;
	return 0;
}

/* ---- id map ---------------------------------------------------------- */

struct idmap_entry {
	char *key;    /* owned */
	uint32_t val; /* the value */
	uint32_t hash;
};

struct annot_idmap {
	char prefix[16];	 /* the shared prefix of dense ids; "" until the first id */
	int have_prefix;	 /* prefix is set */
	uint32_t *dense;	 /* dense[n] = value of PREFIX<n>, UINT32_MAX when absent */
	size_t ndense;		 /* slots in dense */
	size_t count;		 /* ids stored (dense and hashed) */
	struct idmap_entry *tab; /* open addressing, linear probing */
	size_t tabsize;		 /* power of two, or 0 */
	size_t tabused;		 /* entries in tab */
};

struct annot_idmap *annot_idmap_new(void)
{
	return calloc(1, sizeof(struct annot_idmap));
}

void annot_idmap_free(struct annot_idmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->tabsize; i++)
		free(m->tab[i].key);
	free(m->tab);
	free(m->dense);
	free(m);
}

/* Splits id into prefix and number: returns 1 when id is letters then a
 * decimal without leading zeros that fits in 31 bits. */
static int id_split(const char *id, size_t *plen, size_t *num)
{
	size_t i = 0, n = 0;

	while (id[i] && !(id[i] >= '0' && id[i] <= '9'))
		i++;
	if (i == 0 || i >= 16 || !id[i] || (id[i] == '0' && id[i + 1]))
		return 0;
	*plen = i;
	for (; id[i]; i++) {
		if (id[i] < '0' || id[i] > '9' || n > 100000000)
			return 0;
		n = n * 10 + (size_t)(id[i] - '0');
	}
	*num = n;
	return 1;
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int dense_slot(struct annot_idmap *m, const char *id, int create, size_t *slot)
{
	size_t plen, num;

	if (!id_split(id, &plen, &num))
		return 0;
	if (!m->have_prefix) {
		if (!create)
			return 0;
		memcpy(m->prefix, id, plen);
		m->prefix[plen] = '\0';
		m->have_prefix = 1;
	}
	if (strlen(m->prefix) != plen || memcmp(m->prefix, id, plen))
		return 0;
	/* a hostile "ts99999999" must not buy a huge array: dense ids stay
	 * within a few times the number of ids seen */
	if (num >= m->ndense) {
		size_t n, i;
		uint32_t *d;
		if (!create)
			return -1;
		if (num > 4 * m->count + 4096)
			return 0;
		n = m->ndense ? m->ndense : 1024;
		while (n <= num)
			n *= 2;
		if (!(d = realloc(m->dense, n * sizeof(*d))))
			return -PRL_ENOMEM;
		for (i = m->ndense; i < n; i++)
			d[i] = UINT32_MAX;
		m->dense = d;
		m->ndense = n;
	}
	*slot = num;
	return 1;
}

/* The entry of id in the hash table, or NULL. */
static const struct idmap_entry *hash_find(const struct annot_idmap *m, const char *id)
{
	size_t i, mask;
	uint32_t h;

	if (!m->tabsize)
		return NULL;
	h = str_hash(id);
	mask = m->tabsize - 1;
	for (i = h & mask; m->tab[i].key; i = (i + 1) & mask)
		if (m->tab[i].hash == h && !strcmp(m->tab[i].key, id))
			return &m->tab[i];
	return NULL;
}

int annot_idmap_put(struct annot_idmap *m, const char *id, uint32_t val)
{
	size_t slot, i, mask;
	uint32_t h;
	int r;

	r = dense_slot(m, id, 1, &slot);
	if (r < 0)
		return r;
	if (r == 1) {
		/* a dense-shaped id too far ahead when it came went to the
		 * table; the array may have grown past it since */
		if (m->dense[slot] != UINT32_MAX || hash_find(m, id))
			return 1;
		m->dense[slot] = val;
		m->count++;
		return 0;
	}
	if ((m->tabused + 1) * 2 > m->tabsize) {
		size_t n = m->tabsize ? m->tabsize * 2 : 64;
		struct idmap_entry *t = calloc(n, sizeof(*t));
		if (!t)
			return -PRL_ENOMEM;
		for (i = 0; i < m->tabsize; i++) {
			size_t j;
			if (!m->tab[i].key)
				continue;
			for (j = m->tab[i].hash & (n - 1); t[j].key; j = (j + 1) & (n - 1))
				;
			t[j] = m->tab[i];
		}
		free(m->tab);
		m->tab = t;
		m->tabsize = n;
	}
	h = str_hash(id);
	mask = m->tabsize - 1;
	for (i = h & mask; m->tab[i].key; i = (i + 1) & mask)
		if (m->tab[i].hash == h && !strcmp(m->tab[i].key, id))
			return 1;
	if (!(m->tab[i].key = strdup(id)))
		return -PRL_ENOMEM;
	m->tab[i].val = val;
	m->tab[i].hash = h;
	m->tabused++;
	m->count++;
	return 0;
}

uint32_t annot_idmap_get(const struct annot_idmap *m, const char *id)
{
	const struct idmap_entry *e;
	size_t slot;

	/* an id is in one place, the array or the table, but which one
	 * depended on the ids seen before it: try the array, then the table */
	if (dense_slot((struct annot_idmap *)m, id, 0, &slot) == 1 && m->dense[slot] != UINT32_MAX)
		return m->dense[slot];
	e = hash_find(m, id);
	return e ? e->val : UINT32_MAX;
}

/* ---- sink ------------------------------------------------------------ */

int annot_sink_flush(struct annot_sink *s, int force)
{
	if (s->err || !s->fp || !s->b->len)
		return s->err;
	if (!force && s->b->len < SINK_CHUNK)
		return 0;
	if (fwrite(s->b->data, 1, s->b->len, s->fp) != s->b->len)
		s->err = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
	prl_buf_reset(s->b);
	return s->err;
}

/* ---- file mappings --------------------------------------------------- */

void annot_release_pages(const char *from, const char *to)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)from + pg - 1) & ~(pg - 1), b = (uintptr_t)to & ~(pg - 1);

	/* a private read-only file mapping: dropped pages fault back in
	 * from the file if they are ever read again */
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* ---- helpers the writers share ----------------------------------------- */

int annot_pick_tier(const struct prl_annot_doc *d, const char *name)
{
	size_t i;

	if (name) {
		for (i = 0; i < d->ntiers; i++)
			if (!strcmp(d->tiers[i].name, name))
				return (int)i;
		return -1;
	}
	for (i = 0; i < d->ntiers; i++)
		if (!d->tiers[i].parent && d->tiers[i].type &&
		    !strcmp(d->tiers[i].type, "transcription"))
			return (int)i;
	return d->ntiers ? 0 : -1;
}

int annot_put_clock(struct prl_buf *b, int64_t ms, char sep)
{
	if (ms < 0)
		ms = 0;
	return prl_buf_addf(b, "%02lld:%02d:%02d%c%03d", (long long)(ms / 3600000),
			    (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), sep, (int)(ms % 1000));
}

void annot_warn_lost(const struct prl_annot_doc *d, const char *format, int keeps_hierarchy,
		     struct prl_buf *warn)
{
	size_t i, j, ncve = 0, nunal = 0;

	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		if (!keeps_hierarchy && t->parent)
			annot_warn(warn,
				   "%s: tier \"%s\" loses its parent tier \"%s\" (%s has no "
				   "tier hierarchy)",
				   format, t->name,
				   t->parent <= d->ntiers ? d->tiers[t->parent - 1].name : "?",
				   format);
		for (j = 0; j < t->nsegs; j++) {
			ncve += t->segs[j].cve_ref != NULL;
			nunal += t->segs[j].start_unaligned || t->segs[j].end_unaligned;
		}
	}
	if (ncve)
		annot_warn(warn,
			   "%s: %zu controlled-vocabulary references are not kept (only EAF "
			   "holds them)",
			   format, ncve);
	if (nunal)
		annot_warn(warn,
			   "%s: %zu segments have interpolated (unaligned) times that are "
			   "written as fixed times",
			   format, nunal);
	if (d->ncvs)
		annot_warn(warn,
			   "%s: %zu controlled vocabularies are not kept (only EAF holds "
			   "them)",
			   format, d->ncvs);
}

/* ---- tier order ------------------------------------------------------ */

int annot_parents_first(struct prl_annot_doc *d, struct prl_buf *warn)
{
	size_t n = d->ntiers, i, k = 0, moved = 0;
	size_t *order = NULL, *newpos = NULL, *chain = NULL;
	unsigned char *placed = NULL;
	struct prl_tier *tiers = NULL;
	int ret = -PRL_ENOMEM;

	for (i = 0; i < n; i++)
		if (d->tiers[i].parent > i)
			break;
	if (i == n)
		return 0;
	if (!(order = malloc(n * sizeof(*order))) || !(newpos = malloc(n * sizeof(*newpos))) ||
	    !(chain = malloc(n * sizeof(*chain))) || !(placed = calloc(n, 1)) ||
	    !(tiers = malloc(n * sizeof(*tiers))))
		goto end;
	/* each tier in the file's order, preceded by those of its ancestors
	 * not yet placed; marking as it climbs ends the climb even on a
	 * cycle, which validation refuses later */
	for (i = 0; i < n; i++) {
		size_t c = 0, p = i;
		while (!placed[p]) {
			placed[p] = 1;
			chain[c++] = p;
			if (!d->tiers[p].parent || d->tiers[p].parent > n)
				break;
			p = d->tiers[p].parent - 1;
		}
		moved += c > 1 ? c - 1 : 0;
		while (c)
			order[k++] = chain[--c];
	}
	for (k = 0; k < n; k++)
		newpos[order[k]] = k;
	for (k = 0; k < n; k++) {
		tiers[k] = d->tiers[order[k]];
		if (tiers[k].parent && tiers[k].parent <= n)
			tiers[k].parent = newpos[tiers[k].parent - 1] + 1;
	}
	memcpy(d->tiers, tiers, n * sizeof(*tiers));
	annot_warn(warn,
		   "%zu tiers came after tiers that depend on them; each now comes before its "
		   "dependents, the file's order kept otherwise",
		   moved);
	ret = 0;
end:
	free(order);
	free(newpos);
	free(chain);
	free(placed);
	free(tiers);
	return ret;
}

/* ---- validation ------------------------------------------------------ */

static const struct prl_segment *sort_base;

static int by_start(const void *a, const void *b)
{
	const struct prl_segment *x = &sort_base[*(const size_t *)a];
	const struct prl_segment *y = &sort_base[*(const size_t *)b];

	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	if (x->end_ms != y->end_ms)
		return x->end_ms < y->end_ms ? -1 : 1;
	return 0;
}

static int in_order(const struct prl_tier *t)
{
	size_t i;

	for (i = 1; i < t->nsegs; i++)
		if (t->segs[i].start_ms < t->segs[i - 1].start_ms)
			return 0;
	return 1;
}

/*
 * Overlap: ELAN never lets two annotations of one tier overlap, whatever
 * the tier's constraint (top-level tiers included: its editor trims or
 * refuses the new one; Time_Subdivision and Included_In children live
 * inside their parent one after another; symbolic children get their
 * parent's span split or shared, never overlapping).  Praat's interval
 * tiers cannot overlap either.  Only subtitle cues (may_overlap) and point
 * tiers (points have no extent) are exempt.
 */
int prl_annot_validate(const struct prl_annot_doc *d, int64_t duration_ms, struct prl_buf *err)
{
	size_t i, j, *idx = NULL;
	int ret = 0;

	for (i = 0; i < d->ntiers; i++) {
		const struct prl_tier *t = &d->tiers[i];
		const struct prl_tier *pt = NULL;

		if (t->parent) {
			if (t->parent > d->ntiers || t->parent == i + 1) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\": parent tier %zu is out "
						 "of range",
						 t->name, t->parent);
				goto end;
			}
			pt = &d->tiers[t->parent - 1];
		}
		for (j = 0; j < t->nsegs; j++) {
			const struct prl_segment *s = &t->segs[j];
			if (s->start_ms > s->end_ms) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\" segment %zu: ends "
						 "(%lld ms) before it starts (%lld ms)",
						 t->name, j + 1, (long long)s->end_ms,
						 (long long)s->start_ms);
				goto end;
			}
			if (s->start_ms < 0) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\" segment %zu: starts "
						 "before 0 (%lld ms)",
						 t->name, j + 1, (long long)s->start_ms);
				goto end;
			}
			if (duration_ms >= 0 && s->end_ms > duration_ms) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\" segment %zu: ends at "
						 "%lld ms, after the recording (%lld ms)",
						 t->name, j + 1, (long long)s->end_ms,
						 (long long)duration_ms);
				goto end;
			}
			if (s->parent && (!pt || s->parent > pt->nsegs)) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\" segment %zu: parent "
						 "segment %zu is out of range",
						 t->name, j + 1, s->parent);
				goto end;
			}
		}
		if (t->is_point || t->may_overlap || t->nsegs < 2)
			continue;
		if (!(idx = realloc(idx, t->nsegs * sizeof(*idx)))) {
			ret = annot_fail(err, PRL_ENOMEM, "out of memory");
			goto end;
		}
		for (j = 0; j < t->nsegs; j++)
			idx[j] = j;
		if (!in_order(t)) {
			sort_base = t->segs;
			qsort(idx, t->nsegs, sizeof(*idx), by_start);
		}
		for (j = 1; j < t->nsegs; j++) {
			const struct prl_segment *a = &t->segs[idx[j - 1]], *b = &t->segs[idx[j]];
			if (b->start_ms < a->end_ms) {
				ret = annot_fail(err, PRL_EINVAL,
						 "tier \"%s\": segment %zu (%lld-%lld "
						 "ms) overlaps segment %zu (%lld-%lld ms)",
						 t->name, idx[j] + 1, (long long)b->start_ms,
						 (long long)b->end_ms, idx[j - 1] + 1,
						 (long long)a->start_ms, (long long)a->end_ms);
				goto end;
			}
		}
	}
end:
	free(idx);
	return ret;
}
