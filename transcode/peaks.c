/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Waveform peaks: the file the player draws from, and its JSON form.
 *
 * The file is BBC audiowaveform's .dat version 2 (see transcode.h), one
 * block per zoom level, finest first: 256, 1024 and 4096 source frames per
 * pixel.  Pixel i of a level covers frames [i*spp, (i+1)*spp) and holds the
 * min and max of every channel's samples there, as int16.
 *
 * Always holds: memory is one write buffer whatever the input's length.
 * The finest level is streamed to the file while the audio is decoded; each
 * coarser level is then computed by reading the previous one back (four
 * pixels make one, since every level is four times the previous), which
 * costs a few percent of the finest level's size in extra I/O and never
 * needs the frame count in advance.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transcode-internal.h"

#define PEAKS_HEADER 24 /* six int32 fields */
#define PEAKS_LEVELS 3	/* 256, 1024, 4096 frames per pixel */
#define PEAKS_FINEST 256
#define PEAKS_BUF 8192 /* pixels buffered before a write */

struct peaks {
	int fd;			    /* the peaks file, read-write */
	int rate;		    /* source sample rate, Hz */
	int channels;		    /* interleaved channels fed */
	float lo, hi;		    /* min and max of the pixel being filled */
	int filled;		    /* frames in the pixel being filled */
	int64_t pixels;		    /* finest-level pixels written or buffered */
	int64_t pos;		    /* file offset where the buffer goes */
	int nbuf;		    /* pixels in buf */
	int16_t buf[2 * PEAKS_BUF]; /* min/max pairs waiting to be written */
};

static int io_error(struct prl_buf *err, const char *what)
{
	int e = errno;

	if (err)
		prl_buf_addf(err, "peaks file: cannot %s: %s", what, strerror(e));
	return e == ENOSPC || e == EDQUOT ? -PRL_ENOSPC : -PRL_EIO;
}

static int write_at(int fd, const void *data, size_t len, int64_t off, struct prl_buf *err)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return io_error(err, "write");
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The pairs are int16 little endian on disk; on a big-endian host the
 * buffer is swapped just before writing and just after reading. */
static void swap_le16(int16_t *v, size_t n)
{
	const uint16_t probe = 1;
	size_t i;

	if (*(const unsigned char *)&probe)
		return;
	for (i = 0; i < n; i++) {
		uint16_t u = (uint16_t)v[i];

		v[i] = (int16_t)(uint16_t)((u >> 8) | (u << 8));
	}
}

static int write_header(int fd, int64_t off, int rate, int spp, int64_t length, struct prl_buf *err)
{
	unsigned char h[PEAKS_HEADER];

	put_le32(h, 2);	    /* version */
	put_le32(h + 4, 0); /* flags: 16-bit values */
	put_le32(h + 8, (uint32_t)rate);
	put_le32(h + 12, (uint32_t)spp);
	put_le32(h + 16, (uint32_t)length);
	put_le32(h + 20, 1); /* channels: all folded into one */
	return write_at(fd, h, sizeof(h), off, err);
}

static int16_t to_int16(float v)
{
	if (!(v >= -1.0f)) /* also catches NaN */
		return v != v ? 0 : -32768;
	if (v >= 1.0f)
		return 32767;
	return (int16_t)lrintf(v * 32767.0f);
}

static int flush_buf(struct peaks *p, struct prl_buf *err)
{
	int ret;

	if (!p->nbuf)
		return 0;
	swap_le16(p->buf, 2 * (size_t)p->nbuf);
	ret = write_at(p->fd, p->buf, 4 * (size_t)p->nbuf, p->pos, err);
	p->pos += 4 * (int64_t)p->nbuf;
	p->nbuf = 0;
	return ret;
}

static int emit_pixel(struct peaks *p, struct prl_buf *err)
{
	int ret = 0;

	if (p->nbuf == PEAKS_BUF && (ret = flush_buf(p, err)) < 0)
		return ret;
	p->buf[2 * p->nbuf] = to_int16(p->lo);
	p->buf[2 * p->nbuf + 1] = to_int16(p->hi);
	p->nbuf++;
	p->pixels++;
	p->filled = 0;
	p->lo = INFINITY;
	p->hi = -INFINITY;
	return 0;
}

int peaks_open(struct peaks **out, const char *path, int rate, int channels, struct prl_buf *err)
{
	struct peaks *p;
	int ret;

	if (!(p = calloc(1, sizeof(*p))))
		return -PRL_ENOMEM;
	p->rate = rate;
	p->channels = channels;
	p->lo = INFINITY;
	p->hi = -INFINITY;
	p->pos = PEAKS_HEADER;
	if ((p->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		ret = io_error(err, "create");
		free(p);
		return ret;
	}
	/* A header with length 0 until the end: a file cut short by a crash
	 * reads as empty rather than as garbage. */
	if ((ret = write_header(p->fd, 0, rate, PEAKS_FINEST, 0, err)) < 0) {
		peaks_free(&p);
		return ret;
	}
	*out = p;
	return 0;
}

int peaks_add(struct peaks *p, const float *data, size_t n, struct prl_buf *err)
{
	size_t nch = (size_t)p->channels, i = 0, k, count;
	int ret;

	/* Pixel by pixel, so the inner loop is a plain min/max over a run of
	 * samples with every channel folded in. */
	while (i < n) {
		size_t run = (size_t)(PEAKS_FINEST - p->filled);
		const float *f = data + i * nch;
		float lo = p->lo, hi = p->hi;

		if (run > n - i)
			run = n - i;
		count = run * nch;
		for (k = 0; k < count; k++) {
			lo = f[k] < lo ? f[k] : lo;
			hi = f[k] > hi ? f[k] : hi;
		}
		p->lo = lo;
		p->hi = hi;
		p->filled += (int)run;
		i += run;
		if (p->filled == PEAKS_FINEST && (ret = emit_pixel(p, err)) < 0)
			return ret;
	}
	return 0;
}

/* Builds the level after the one at [src_off, src_off + 4*src_len) by
 * merging groups of four pixels, writing it (header and data) at dst_off.
 * Returns its length in pixels through *dst_len. */
static int derive_level(struct peaks *p, int64_t src_off, int64_t src_len, int64_t dst_off, int spp,
			int64_t *dst_len, struct prl_buf *err)
{
	int16_t out[2 * (PEAKS_BUF / 4)];
	int64_t done = 0, len = (src_len + 3) / 4, wpos = dst_off + PEAKS_HEADER;
	int ret;

	if ((ret = write_header(p->fd, dst_off, p->rate, spp, len, err)) < 0)
		return ret;
	while (done < src_len) {
		int64_t want = src_len - done < PEAKS_BUF ? src_len - done : PEAKS_BUF;
		size_t bytes = 4 * (size_t)want;
		ssize_t got;
		int i, j, nout = (int)((want + 3) / 4);

		got = pread(p->fd, p->buf, bytes, (off_t)(src_off + 4 * done));
		if (got != (ssize_t)bytes) {
			if (got >= 0)
				errno = EIO;
			return io_error(err, "read back");
		}
		swap_le16(p->buf, 2 * (size_t)want);
		for (i = 0; i < nout; i++) {
			int16_t lo = 32767, hi = -32768;

			for (j = 4 * i; j < 4 * i + 4 && j < want; j++) {
				if (p->buf[2 * j] < lo)
					lo = p->buf[2 * j];
				if (p->buf[2 * j + 1] > hi)
					hi = p->buf[2 * j + 1];
			}
			out[2 * i] = lo;
			out[2 * i + 1] = hi;
		}
		swap_le16(out, 2 * (size_t)nout);
		if ((ret = write_at(p->fd, out, 4 * (size_t)nout, wpos, err)) < 0)
			return ret;
		wpos += 4 * nout;
		done += want;
	}
	*dst_len = len;
	return 0;
}

int peaks_finish(struct peaks *p, int64_t *bytes, struct prl_buf *err)
{
	int64_t off = 0, len, next_len;
	int level, spp = PEAKS_FINEST, ret;

	if (p->filled && (ret = emit_pixel(p, err)) < 0)
		return ret;
	if ((ret = flush_buf(p, err)) < 0)
		return ret;
	len = p->pixels;
	if (len > INT32_MAX / 4) {
		if (err)
			prl_buf_addstr(err, "peaks file: recording too long for a .dat level");
		return -PRL_EUNSUPPORTED;
	}
	if ((ret = write_header(p->fd, 0, p->rate, spp, len, err)) < 0)
		return ret;
	for (level = 1; level < PEAKS_LEVELS; level++) {
		int64_t next = off + PEAKS_HEADER + 4 * len;

		if ((ret = derive_level(p, off + PEAKS_HEADER, len, next, spp * 4, &next_len,
					err)) < 0)
			return ret;
		off = next;
		len = next_len;
		spp *= 4;
	}
	/* No fsync: peaks are derived and can be rebuilt from the original.
	 * close() is still where NFS and full quotas report lost writes. */
	ret = close(p->fd);
	p->fd = -1;
	if (ret < 0)
		return io_error(err, "close");
	*bytes = off + PEAKS_HEADER + 4 * len;
	return 0;
}

void peaks_free(struct peaks **p)
{
	if (!p || !*p)
		return;
	if ((*p)->fd >= 0)
		close((*p)->fd);
	free(*p);
	*p = NULL;
}

int prl_peaks_json(const char *peaks_path, int level, struct prl_buf *out)
{
	unsigned char h[PEAKS_HEADER];
	int16_t pairs[2 * 1024];
	struct prl_buf json = PRL_BUF_INIT;
	struct stat st;
	int64_t off = 0, len = 0, i;
	uint32_t rate = 0, spp = 0;
	int cur, ret = 0;
	FILE *f;

	if (level < 0)
		return -PRL_ENOTFOUND;
	if (!(f = fopen(peaks_path, "rb")))
		return errno == ENOENT ? -PRL_ENOTFOUND : -PRL_EIO;
	if (fstat(fileno(f), &st) < 0) {
		ret = -PRL_EIO;
		goto end;
	}
	/* Walk the blocks up to the one asked for, checking each header so a
	 * damaged file gives -PRL_EFORMAT rather than nonsense. */
	for (cur = 0; cur <= level; cur++) {
		if (off == st.st_size) {
			ret = -PRL_ENOTFOUND;
			goto end;
		}
		if (fseeko(f, (off_t)off, SEEK_SET) < 0 || fread(h, 1, sizeof(h), f) != sizeof(h)) {
			ret = -PRL_EFORMAT;
			goto end;
		}
		rate = get_le32(h + 8);
		spp = get_le32(h + 12);
		len = get_le32(h + 16);
		if (get_le32(h) != 2 || get_le32(h + 4) != 0 || get_le32(h + 20) != 1 || !spp ||
		    !rate || off + PEAKS_HEADER + 4 * len > (int64_t)st.st_size) {
			ret = -PRL_EFORMAT;
			goto end;
		}
		if (cur < level)
			off += PEAKS_HEADER + 4 * len;
	}
	if ((ret = prl_buf_addf(&json,
				"{\"sample_rate\":%u,\"samples_per_pixel\":%u,"
				"\"length\":%lld,\"bits\":16,\"data\":[",
				rate, spp, (long long)len)) < 0)
		goto end;
	for (i = 0; i < len;) {
		size_t want = (size_t)(len - i < 1024 ? len - i : 1024), j;

		if (fread(pairs, 4, want, f) != want) {
			ret = -PRL_EIO;
			goto end;
		}
		swap_le16(pairs, 2 * want);
		for (j = 0; j < 2 * want; j++)
			if ((ret = prl_buf_addf(&json, i || j ? ",%d" : "%d", pairs[j])) < 0)
				goto end;
		i += (int64_t)want;
	}
	if ((ret = prl_buf_addstr(&json, "]}")) < 0)
		goto end;
	ret = prl_buf_add(out, json.data, json.len);
end:
	prl_buf_release(&json);
	fclose(f);
	return ret;
}
