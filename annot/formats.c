/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The formats and the entry points that read and write them: a format's
 * name and extension, prl_annot_read* (which maps the file, decodes its
 * charset and hands the text to the format's reader) and prl_annot_write*
 * (which hands the document to the format's writer through a sink).
 *
 * Invariants: a read either returns a whole document or nothing (the
 * partial document is freed here, never by a reader); warnings about a
 * document that is not returned are taken back.  Workload: one document
 * per ingest or export, from a handful of segments to a few million; the
 * text formats are read in place from a mapping of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annot-internal.h"

/* Bigger text files than this are not transcripts: refuse before mapping
 * them rather than let a stray video file take the memory. */
#define MAX_TEXT_BYTES ((size_t)1 << 30)

static const struct {
	const char *name;
	const char *ext;
	enum prl_annot_format fmt;
} formats[] = {
	{"eaf", "eaf", PRL_FMT_EAF}, {"textgrid", "TextGrid", PRL_FMT_TEXTGRID},
	{"vtt", "vtt", PRL_FMT_VTT}, {"srt", "srt", PRL_FMT_SRT},
	{"csv", "csv", PRL_FMT_CSV}, {"json", "json", PRL_FMT_JSON},
	{"tei", "tei", PRL_FMT_TEI}, {"webvtt", "vtt", PRL_FMT_VTT},
	{"xml", "tei", PRL_FMT_TEI},
};

int prl_annot_format_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	if (name[0] == '.')
		name++;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcasecmp(name, formats[i].name))
			return (int)formats[i].fmt;
	return -1;
}

const char *prl_annot_format_ext(enum prl_annot_format f)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].fmt == f)
			return formats[i].ext;
	return NULL;
}

/* prl_utf8_valid over a mapping, a chunk at a time, handing each chunk
 * back once checked. */
static int mapped_utf8_valid(const char *s, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t end = pos + (4u << 20) < len ? pos + (4u << 20) : len;
		while (end < len && ((unsigned char)s[end] & 0xc0) == 0x80)
			end--;
		if (end <= pos || !prl_utf8_valid(s + pos, end - pos))
			return 0;
		annot_release_pages(s + pos, s + end);
		pos = end;
	}
	return 1;
}

static int read_decoded(enum prl_annot_format f, const char *data, size_t len, const char *charset,
			int mapped, struct prl_annot_doc *d, struct prl_buf *err,
			struct prl_buf *warn)
{
	struct prl_buf tmp = PRL_BUF_INIT;
	const char *s;
	size_t n;
	int ret;

	if (mapped && f == PRL_FMT_TEXTGRID && !charset && len > (16u << 20) &&
	    mapped_utf8_valid(data, len) &&
	    !(len >= 2 && ((unsigned char)data[0] == 0xfe || (unsigned char)data[0] == 0xff))) {
		/* big plain UTF-8 (a BOM is ASCII-invalid here, so skip it by hand) */
		size_t bom = len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
		ret = annot_textgrid_read_ex(data + bom, len - bom, d, err, warn, 1);
		goto end;
	}
	if ((ret = annot_decode(data, len, charset, f == PRL_FMT_TEXTGRID, &s, &n, &tmp, err,
				warn)) < 0)
		goto end;
	switch (f) {
	case PRL_FMT_TEXTGRID:
		ret = annot_textgrid_read_ex(s, n, d, err, warn,
					     mapped && s >= data && s < data + len);
		break;
	case PRL_FMT_VTT:
		ret = annot_vtt_read(s, n, d, err, warn);
		break;
	case PRL_FMT_SRT:
		ret = annot_srt_read(s, n, d, err, warn);
		break;
	case PRL_FMT_CSV:
		ret = annot_csv_read(s, n, d, err, warn);
		break;
	case PRL_FMT_JSON:
		ret = annot_json_read(s, n, d, err, warn);
		break;
	default:
		ret = annot_fail(err, PRL_EINVAL, "this format cannot be read");
		break;
	}
end:
	prl_buf_release(&tmp);
	return ret;
}

static int read_common(enum prl_annot_format f, const char *data, size_t len, const char *path,
		       const char *charset, int mapped, struct prl_annot_doc **out,
		       struct prl_buf *err, struct prl_buf *warn)
{
	struct prl_annot_doc *d;
	size_t wlen = warn ? warn->len : 0;
	int ret;

	if (f == PRL_FMT_TEI)
		return annot_fail(err, PRL_EUNSUPPORTED, "TEI is written, not read");
	if ((unsigned)f > PRL_FMT_TEI)
		return annot_fail(err, PRL_EINVAL, "unknown annotation format");
	if (!path && len == 0)
		return annot_fail(err, PRL_EFORMAT, "line 1: the file is empty");
	if (!path && len > MAX_TEXT_BYTES)
		return annot_fail(err, PRL_EINVAL,
				  "the file is too large (%zu bytes) to be "
				  "an annotation file",
				  len);
	if (!(d = prl_annot_doc_new()))
		return -PRL_ENOMEM;
	if (f == PRL_FMT_EAF)
		ret = annot_eaf_read(data, len, path, d, err, warn);
	else
		ret = read_decoded(f, data, len, charset, mapped, d, err, warn);
	if (ret < 0) {
		prl_annot_doc_free(d);
		/* warnings about a document that is not returned mislead */
		if (warn) {
			warn->len = wlen;
			if (warn->data)
				warn->data[wlen] = '\0';
		}
		if (ret == -PRL_ENOMEM && err)
			annot_fail(err, PRL_ENOMEM, "out of memory");
		return ret;
	}
	*out = d;
	return 0;
}

int prl_annot_read(enum prl_annot_format f, const char *data, size_t len,
		   struct prl_annot_doc **out, struct prl_buf *err, struct prl_buf *warn)
{
	return read_common(f, data ? data : "", data ? len : 0, NULL, NULL, 0, out, err, warn);
}

int prl_annot_read_charset(enum prl_annot_format f, const char *data, size_t len,
			   const char *charset, struct prl_annot_doc **out, struct prl_buf *err,
			   struct prl_buf *warn)
{
	return read_common(f, data ? data : "", data ? len : 0, NULL, charset, 0, out, err, warn);
}

int prl_annot_read_file(enum prl_annot_format f, const char *path, const char *charset,
			struct prl_annot_doc **out, struct prl_buf *err, struct prl_buf *warn)
{
	struct stat st;
	void *map = NULL;
	int fd, ret;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return annot_fail(err, PRL_EIO, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = annot_fail(err, PRL_EIO, "cannot read: %s", strerror(errno));
		goto end;
	}
	if (st.st_size == 0) {
		ret = annot_fail(err, PRL_EFORMAT, "line 1: the file is empty");
		goto end;
	}
	if (f == PRL_FMT_EAF) {
		ret = read_common(f, NULL, 0, path, charset, 0, out, err, warn);
		goto end;
	}
	if ((uint64_t)st.st_size > MAX_TEXT_BYTES) {
		ret = annot_fail(err, PRL_EINVAL,
				 "the file is too large (%lld bytes) to be an annotation file",
				 (long long)st.st_size);
		goto end;
	}
	/* mapped, not copied: the parsers read it once from start to end */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		ret = annot_fail(err, PRL_EIO, "cannot read: %s", strerror(errno));
		goto end;
	}
	madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	ret = read_common(f, map, (size_t)st.st_size, NULL, charset, 1, out, err, warn);
end:
	if (map)
		munmap(map, (size_t)st.st_size);
	close(fd);
	return ret;
}

static int write_sink(enum prl_annot_format f, const struct prl_annot_doc *doc,
		      const struct prl_annot_write_opts *opts, struct annot_sink *s,
		      struct prl_buf *warn)
{
	struct prl_annot_write_opts dflt = {NULL, NULL, NULL, -1};
	int ret;

	if (!opts)
		opts = &dflt;
	switch (f) {
	case PRL_FMT_EAF:
		ret = annot_eaf_write(doc, opts, s, warn);
		break;
	case PRL_FMT_TEXTGRID:
		ret = annot_textgrid_write(doc, opts, s, warn);
		break;
	case PRL_FMT_VTT:
		ret = annot_vtt_write(doc, opts, s, warn);
		break;
	case PRL_FMT_SRT:
		ret = annot_srt_write(doc, opts, s, warn);
		break;
	case PRL_FMT_CSV:
		ret = annot_csv_write(doc, opts, s, warn);
		break;
	case PRL_FMT_JSON:
		ret = annot_json_write(doc, opts, s, warn);
		break;
	case PRL_FMT_TEI:
		ret = annot_tei_write(doc, opts, s, warn);
		break;
	default:
		return -PRL_EINVAL;
	}
	if (ret >= 0)
		ret = annot_sink_flush(s, 1);
	return ret;
}

int prl_annot_write(enum prl_annot_format f, const struct prl_annot_doc *doc,
		    const struct prl_annot_write_opts *opts, struct prl_buf *out,
		    struct prl_buf *warn)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct annot_sink s = {&b, NULL, 0};
	int ret;

	if (!doc || !out)
		return -PRL_EINVAL;
	if ((ret = write_sink(f, doc, opts, &s, warn)) < 0 || (ret = s.err) < 0)
		goto end;
	if ((ret = prl_buf_add(out, b.data ? b.data : "", b.len)) < 0)
		goto end;
end:
	prl_buf_release(&b);
	return ret;
}

int prl_annot_write_file(enum prl_annot_format f, const struct prl_annot_doc *doc,
			 const struct prl_annot_write_opts *opts, FILE *fp, struct prl_buf *warn)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct annot_sink s = {&b, fp, 0};
	int ret;

	if (!doc || !fp)
		return -PRL_EINVAL;
	ret = write_sink(f, doc, opts, &s, warn);
	if (ret >= 0 && fflush(fp) != 0)
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
	prl_buf_release(&b);
	return ret;
}
