/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Whether a short file is MPEG audio through and through: a chain of
 * frame headers, each frame's length leading exactly to the next, from the
 * end of any ID3v2 tag to the start of any ID3v1 tag at the very end.
 *
 * Why: libavformat's probe trusts an MP3 only when it finds many frames,
 * so a clip of a tenth of a second (three or four frames) scores like
 * random bytes named .mp3 -- and MPEG audio decoders find "frames" in any
 * noise, which is why a low score is refused.  Noise almost never chains:
 * each header must sit exactly where the previous frame ends and agree with
 * it on version, layer and rate.  Such a chain is proof enough to read the
 * file.
 *
 * Always holds: reads only buf[0..len); never allocates.  Workload: once
 * per short file FFmpeg was unsure of, over at most a few hundred KiB.
 */
#include <string.h>

#include "transcode-internal.h"

/* kbit/s by [MPEG-1?][layer 1..3][index]; index 0 ("free") and 15 are
 * refused: a free-format frame has no length to chain with */
static const unsigned short kbps[2][3][15] = {
	{
		/* MPEG-2 and 2.5 */
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
	{
		/* MPEG-1 */
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
};

/* Hz by [version field][index]: 0 MPEG-2.5, 1 reserved, 2 MPEG-2, 3 MPEG-1 */
static const unsigned rates[4][3] = {
	{11025, 12000, 8000},
	{0, 0, 0},
	{22050, 24000, 16000},
	{44100, 48000, 32000},
};

/* The length of the frame whose header is h[0..3], or 0 when h is not a
 * frame header; *kind gets what must stay the same along a chain. */
static size_t frame_length(const unsigned char *h, unsigned *kind)
{
	unsigned version = (h[1] >> 3) & 3, layer = 4 - ((h[1] >> 1) & 3);
	unsigned bitrate = h[2] >> 4, rate_index = (h[2] >> 2) & 3, pad = (h[2] >> 1) & 1;
	unsigned long bps, rate;

	if (h[0] != 0xff || (h[1] & 0xe0) != 0xe0 || version == 1 || layer == 4 || bitrate == 0 ||
	    bitrate == 15 || rate_index == 3)
		return 0;
	bps = 1000ul * kbps[version == 3][layer - 1][bitrate];
	rate = rates[version][rate_index];
	*kind = (unsigned)(h[1] & 0xfe) << 8 | (h[2] & 0x0c);
	if (layer == 1)
		return (size_t)((12 * bps / rate + pad) * 4);
	if (layer == 3 && version != 3)
		return (size_t)(72 * bps / rate + pad);
	return (size_t)(144 * bps / rate + pad);
}

/* Where the audio starts: past every ID3v2 tag at the front. */
static size_t skip_id3v2(const unsigned char *buf, size_t len)
{
	size_t pos = 0, size;

	while (len - pos >= 10 && !memcmp(buf + pos, "ID3", 3) && buf[pos + 3] != 0xff &&
	       !((buf[pos + 6] | buf[pos + 7] | buf[pos + 8] | buf[pos + 9]) & 0x80)) {
		size = (size_t)buf[pos + 6] << 21 | (size_t)buf[pos + 7] << 14 |
		       (size_t)buf[pos + 8] << 7 | buf[pos + 9];
		size += 10 + (buf[pos + 5] & 0x10 ? 10 : 0); /* header, and footer if flagged */
		if (size > len - pos)
			return len;
		pos += size;
	}
	return pos;
}

size_t mpa_whole_chain(const unsigned char *buf, size_t len)
{
	size_t pos = skip_id3v2(buf, len), end = len, n = 0, flen;
	unsigned kind, first = 0;

	if (end - pos >= 128 && !memcmp(buf + end - 128, "TAG", 3))
		end -= 128;
	while (pos < end) {
		if (end - pos < 4 || !(flen = frame_length(buf + pos, &kind)) ||
		    (n && kind != first) || flen > end - pos)
			return 0;
		first = kind;
		pos += flen;
		n++;
	}
	return n >= 2 ? n : 0;
}
