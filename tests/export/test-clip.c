/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit test of clip cutting (transcode/clip.c) on generated originals of
 * every linear PCM kind a master comes in: 16-bit mono, 24-bit stereo at
 * 96 kHz, 32-bit float, 8-bit, FLAC 24-bit, and a lossy one.  Each clip is
 * read back with libsndfile and compared sample for sample with the span
 * of the original: same rate, channels and sample format, exactly the
 * frames asked, the very same values.  Bad spans must fail and leave no
 * file.  TAP output.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "parlers/transcode.h"
#include "tap.h"

static char dir[] = "/tmp/parlers-test-clip-XXXXXX";

/* Writes a deterministic noisy tone, so that any frame offset would show. */
static int make_source(const char *path, int format, int rate, int channels, int64_t frames)
{
	SF_INFO si;
	SNDFILE *f;
	double *buf = malloc(sizeof(double) * 4096 * (size_t)channels);
	uint32_t seed = 12345;

	memset(&si, 0, sizeof(si));
	si.samplerate = rate;
	si.channels = channels;
	si.format = format;
	if (!buf || !(f = sf_open(path, SFM_WRITE, &si))) {
		free(buf);
		return -1;
	}
	for (int64_t done = 0; done < frames;) {
		int64_t n = frames - done < 4096 ? frames - done : 4096;

		for (int64_t i = 0; i < n; i++)
			for (int c = 0; c < channels; c++) {
				seed = seed * 1664525u + 1013904223u;
				buf[i * channels + c] =
					0.5 * sin((double)(done + i) * (440.0 + 110 * c) * 6.283 /
						  rate) +
					0.1 * ((double)(seed >> 8) / (1 << 24) - 0.5);
			}
		sf_writef_double(f, buf, n);
		done += n;
	}
	sf_close(f);
	free(buf);
	return 0;
}

/* Compares clip with frames [first, first + n) of src, as integers when the
 * format is integer, as doubles when it is float. */
static void compare(const char *what, const char *src, const char *clip, int64_t first, int64_t n,
		    int want_sub)
{
	SF_INFO si, ci;
	SNDFILE *s, *c;
	int *a = NULL, *b = NULL;
	double *da = NULL, *db = NULL;
	int same = 1, use_double;
	int64_t left = n;

	memset(&si, 0, sizeof(si));
	memset(&ci, 0, sizeof(ci));
	s = sf_open(src, SFM_READ, &si);
	c = sf_open(clip, SFM_READ, &ci);
	if (!ok(s && c, "%s: both files open", what))
		goto end;
	ok((ci.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV, "%s: the clip is WAV", what);
	is_int(ci.samplerate, si.samplerate, "%s: same rate", what);
	is_int(ci.channels, si.channels, "%s: same channels", what);
	is_int(ci.format & SF_FORMAT_SUBMASK, want_sub, "%s: same sample format", what);
	is_int(ci.frames, n, "%s: exactly the frames of the span", what);
	use_double = want_sub == SF_FORMAT_FLOAT || want_sub == SF_FORMAT_DOUBLE;
	a = malloc(sizeof(int) * 4096 * (size_t)si.channels);
	b = malloc(sizeof(int) * 4096 * (size_t)si.channels);
	da = malloc(sizeof(double) * 4096 * (size_t)si.channels);
	db = malloc(sizeof(double) * 4096 * (size_t)si.channels);
	sf_seek(s, first, SEEK_SET);
	while (left > 0 && same) {
		sf_count_t k = left < 4096 ? left : 4096;

		if (use_double) {
			if (sf_readf_double(s, da, k) != k || sf_readf_double(c, db, k) != k ||
			    memcmp(da, db, sizeof(double) * (size_t)(k * si.channels)))
				same = 0;
		} else if (sf_readf_int(s, a, k) != k || sf_readf_int(c, b, k) != k ||
			   memcmp(a, b, sizeof(int) * (size_t)(k * si.channels))) {
			same = 0;
		}
		left -= k;
	}
	ok(same, "%s: every sample is the original's", what);
end:
	if (s)
		sf_close(s);
	if (c)
		sf_close(c);
	free(a);
	free(b);
	free(da);
	free(db);
}

static void check_pcm(const char *name, int format, int rate, int channels, int want_sub)
{
	char src[256], out[256], what[64];
	struct prl_clip_job job;
	struct prl_buf err = PRL_BUF_INIT;
	int64_t frames = 0;
	int ret;

	snprintf(src, sizeof(src), "%s/%s", dir, name);
	snprintf(out, sizeof(out), "%s/clip-%s.wav", dir, name);
	snprintf(what, sizeof(what), "%s", name);
	if (!ok(make_source(src, format, rate, channels, (int64_t)rate * 5) == 0,
		"%s: source written", what))
		return;
	memset(&job, 0, sizeof(job));
	job.src_path = src;
	job.start_ms = 1234;
	job.end_ms = 3457;
	job.format = PRL_CLIP_WAV;
	ret = prl_clip_write(&job, out, &frames, &err);
	if (!ok(ret == 0, "%s: cut", what))
		diag("%s", prl_buf_str(&err));
	{
		int64_t first = (int64_t)llround(1.234 * rate);
		int64_t n = (int64_t)llround(3.457 * rate) - first;

		is_int(frames, n, "%s: the frames reported", what);
		compare(what, src, out, first, n, want_sub);
	}
	prl_buf_release(&err);
	unlink(out);
	unlink(src);
}

int main(void)
{
	struct prl_clip_job job;
	struct prl_buf err = PRL_BUF_INIT;
	char src[256], out[256];
	struct stat st;
	int64_t frames = 0;

	if (!mkdtemp(dir)) {
		printf("Bail out! no temporary folder\n");
		return 1;
	}
	check_pcm("s16-mono-22050.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1,
		  SF_FORMAT_PCM_16);
	check_pcm("s24-stereo-96000.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 96000, 2,
		  SF_FORMAT_PCM_24);
	check_pcm("f32-stereo-48000.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2,
		  SF_FORMAT_FLOAT);
	check_pcm("s32-mono-44100.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 44100, 1,
		  SF_FORMAT_PCM_32);
	check_pcm("u8-mono-8000.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, SF_FORMAT_PCM_U8);
	check_pcm("s24-stereo-48000.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2,
		  SF_FORMAT_PCM_24);
	check_pcm("s16-4ch-48000.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 48000, 4,
		  SF_FORMAT_PCM_16);

	/* a lossy original: 16-bit PCM of the decoded audio, the span's frames */
	snprintf(src, sizeof(src), "%s/lossy.ogg", dir);
	snprintf(out, sizeof(out), "%s/clip-lossy.wav", dir);
	make_source(src, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 44100 * 4);
	memset(&job, 0, sizeof(job));
	job.src_path = src;
	job.start_ms = 500;
	job.end_ms = 2500;
	job.format = PRL_CLIP_WAV;
	ok(prl_clip_write(&job, out, &frames, &err) == 0, "a lossy original is cut");
	is_int(frames, 88200, "its clip holds the span's frames at the decoded rate");
	unlink(out);

	/* lossy outputs */
	job.format = PRL_CLIP_OPUS;
	job.gain_db = -6;
	snprintf(out, sizeof(out), "%s/clip.opus", dir);
	ok(prl_clip_write(&job, out, NULL, &err) == 0 && stat(out, &st) == 0 && st.st_size > 1000,
	   "an Opus clip is written");
	unlink(out);
	job.format = PRL_CLIP_MP3;
	snprintf(out, sizeof(out), "%s/clip.mp3", dir);
	ok(prl_clip_write(&job, out, NULL, &err) == 0 && stat(out, &st) == 0 && st.st_size > 1000,
	   "an MP3 clip is written");
	unlink(out);

	/* bad spans fail and leave nothing */
	snprintf(out, sizeof(out), "%s/bad.wav", dir);
	job.format = PRL_CLIP_WAV;
	job.start_ms = 3000;
	job.end_ms = 2000;
	prl_buf_reset(&err);
	ok(prl_clip_write(&job, out, NULL, &err) == -PRL_EINVAL && err.len,
	   "an inverted span is refused with a reason");
	job.start_ms = 60000;
	job.end_ms = 61000;
	prl_buf_reset(&err);
	ok(prl_clip_write(&job, out, NULL, &err) < 0, "a span past the end is refused");
	ok(stat(out, &st) != 0, "and leaves no file");
	job.src_path = "/nonexistent/file.wav";
	job.start_ms = 0;
	job.end_ms = 1000;
	prl_buf_reset(&err);
	ok(prl_clip_write(&job, out, NULL, &err) < 0 && stat(out, &st) != 0,
	   "a missing original fails and leaves no file");
	unlink(src);
	prl_buf_release(&err);
	rmdir(dir);
	return done_testing();
}
