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

/* A reader of decoded UTF-8 text. */
typedef int annot_read_fn(const char *s, size_t len, struct prl_annot_doc *d, struct prl_buf *err,
			  struct prl_buf *warn);

/*
 * The formats, indexed by enum prl_annot_format: the one place that knows
 * them all.  A text format gets its bytes decoded to UTF-8 first; EAF is
 * XML, which names its own encoding, and is streamed from its file.
 */
static const struct format {
	const char *name;  /* what users type (any case), a file extension too */
	const char *alias; /* another name users type, or NULL */
	const char *ext;   /* the extension of the files it writes */
	const char *label; /* how messages name it */
	/* XML from memory (path NULL) or streamed from path (data NULL) */
	int (*read_xml)(const char *data, size_t len, const char *path, struct prl_annot_doc *d,
			struct prl_buf *err, struct prl_buf *warn);
	annot_read_fn *read; /* text; NULL (and no read_xml): written, not read */
	/* as read, for text lying in a read-only file mapping whose pages it
	 * hands back once parsed; NULL: read serves */
	annot_read_fn *read_mapped;
	int latin1_fallback; /* text that is not UTF-8 is read as Latin-1 */
	int (*write)(const struct prl_annot_doc *d, const struct prl_annot_write_opts *o,
		     struct annot_sink *s, struct prl_buf *warn);
} formats[] = {
	[PRL_FMT_EAF] = {.name = "eaf",
			 .ext = "eaf",
			 .label = "EAF",
			 .read_xml = annot_eaf_read,
			 .write = annot_eaf_write},
	[PRL_FMT_TEXTGRID] = {.name = "textgrid",
			      .ext = "TextGrid",
			      .label = "TextGrid",
			      .read = annot_textgrid_read,
			      .read_mapped = annot_textgrid_read_mapped,
			      /* as Praat reads text files that are not UTF-8 */
			      .latin1_fallback = 1,
			      .write = annot_textgrid_write},
	[PRL_FMT_VTT] = {.name = "vtt",
			 .alias = "webvtt",
			 .ext = "vtt",
			 .label = "WebVTT",
			 .read = annot_vtt_read,
			 .write = annot_vtt_write},
	[PRL_FMT_SRT] = {.name = "srt",
			 .ext = "srt",
			 .label = "SRT",
			 .read = annot_srt_read,
			 .write = annot_srt_write},
	[PRL_FMT_CSV] = {.name = "csv",
			 .ext = "csv",
			 .label = "CSV",
			 .read = annot_csv_read,
			 .write = annot_csv_write},
	[PRL_FMT_JSON] = {.name = "json",
			  .ext = "json",
			  .label = "JSON",
			  .read = annot_json_read,
			  .write = annot_json_write},
	[PRL_FMT_TEI] = {.name = "tei",
			 .alias = "xml",
			 .ext = "tei",
			 .label = "TEI",
			 .write = annot_tei_write},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* The format f, or NULL when f is none. */
static const struct format *format_of(enum prl_annot_format f)
{
	return (unsigned)f < NFORMATS ? &formats[f] : NULL;
}

int prl_annot_format_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	if (name[0] == '.')
		name++;
	for (i = 0; i < NFORMATS; i++)
		if (!strcasecmp(name, formats[i].name) ||
		    (formats[i].alias && !strcasecmp(name, formats[i].alias)))
			return (int)i;
	return -1;
}

const char *prl_annot_format_ext(enum prl_annot_format f)
{
	const struct format *fm = format_of(f);

	return fm ? fm->ext : NULL;
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

static int read_decoded(const struct format *fm, const char *data, size_t len, const char *charset,
			int mapped, struct prl_annot_doc *d, struct prl_buf *err,
			struct prl_buf *warn)
{
	struct prl_buf tmp = PRL_BUF_INIT;
	const char *s;
	size_t n;
	int ret;

	if (mapped && fm->read_mapped && !charset && len > (16u << 20) &&
	    mapped_utf8_valid(data, len) &&
	    !(len >= 2 && ((unsigned char)data[0] == 0xfe || (unsigned char)data[0] == 0xff))) {
		/* big plain UTF-8 (a BOM is ASCII-invalid here, so skip it by hand) */
		size_t bom = len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
		ret = fm->read_mapped(data + bom, len - bom, d, err, warn);
		goto end;
	}
	if ((ret = annot_decode(data, len, charset, fm->latin1_fallback, &s, &n, &tmp, err, warn)) <
	    0)
		goto end;
	if (fm->read_mapped && mapped && s >= data && s < data + len)
		ret = fm->read_mapped(s, n, d, err, warn);
	else
		ret = fm->read(s, n, d, err, warn);
end:
	prl_buf_release(&tmp);
	return ret;
}

static int read_common(enum prl_annot_format f, const char *data, size_t len, const char *path,
		       const char *charset, int mapped, struct prl_annot_doc **out,
		       struct prl_buf *err, struct prl_buf *warn)
{
	const struct format *fm = format_of(f);
	struct prl_annot_doc *d;
	size_t wlen = warn ? warn->len : 0;
	int ret;

	if (!fm)
		return annot_fail(err, PRL_EINVAL, "unknown annotation format");
	if (!fm->read && !fm->read_xml)
		return annot_fail(err, PRL_EUNSUPPORTED, "%s is written, not read", fm->label);
	if (!path && len == 0)
		return annot_fail(err, PRL_EFORMAT, "line 1: the file is empty");
	if (!path && len > MAX_TEXT_BYTES)
		return annot_fail(err, PRL_EINVAL,
				  "the file is too large (%zu bytes) to be "
				  "an annotation file",
				  len);
	if (!(d = prl_annot_doc_new()))
		return -PRL_ENOMEM;
	if (fm->read_xml)
		ret = fm->read_xml(data, len, path, d, err, warn);
	else
		ret = read_decoded(fm, data, len, charset, mapped, d, err, warn);
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
	const struct format *fm = format_of(f);
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
	if (fm && fm->read_xml) {
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
	const struct format *fm = format_of(f);
	struct prl_annot_write_opts dflt = {NULL, NULL, NULL, -1};
	int ret;

	if (!fm)
		return -PRL_EINVAL;
	if (!opts)
		opts = &dflt;
	ret = fm->write(doc, opts, s, warn);
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
