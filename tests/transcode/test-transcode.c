/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests for the transcode module: every input the archive is likely to
 * meet, decoded, measured and encoded, with each result checked against a
 * tool that does not share our code (FFmpeg's command-line ebur128 meter,
 * ffprobe, sha256sum), plus the real files in $PARLERS_INTEROP/audio and
 * inputs that must fail cleanly.
 *
 * Inputs are made at run time in a temporary folder: WAV variants written
 * with libsndfile, the other formats encoded by the ffmpeg tool from a WAV
 * master.  The signal is a tone with a syllable-rate envelope over
 * low-passed noise, 3 s long, so the gated loudness is well defined and
 * nothing lies above 24 kHz (FFmpeg's meter resamples to 48 kHz first).
 * The whole program takes well under a minute.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ebur128.h>
#include <sndfile.h>

#include "parlers/transcode.h"
#include "tap.h"

static char tmpdir[256];
static char stderr_path[300];
static int saved_stderr = -1;
static int have_ffmpeg;

/* A crash (an ASan report aborts) must still show its report: hand what
 * was captured back to the real stderr before dying. */
static void replay_stderr(int sig)
{
	char b[4096];
	ssize_t n;
	int fd = open(stderr_path, O_RDONLY);

	while (fd >= 0 && (n = read(fd, b, sizeof(b))) > 0)
		if (write(saved_stderr, b, (size_t)n) < 0)
			break;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- helpers ---- */

static void path_in(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

static int exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

/* Runs cmd through the shell and returns its standard output (and, with
 * with_stderr, its standard error) in *out. */
static int capture(const char *cmd, struct prl_buf *out)
{
	char buf[4096];
	size_t n;
	FILE *p;

	prl_buf_reset(out);
	if (!(p = popen(cmd, "r")))
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		prl_buf_add(out, buf, n);
	return pclose(p);
}

struct ext_loudness {
	double i;  /* integrated, LUFS */
	double tp; /* true peak, dBTP */
};

/* FFmpeg's own R128 meter (af_ebur128), independent of libebur128. */
static int ffmpeg_loudness(const char *path, struct ext_loudness *l)
{
	struct prl_buf out = PRL_BUF_INIT, cmd = PRL_BUF_INIT;
	const char *s, *p;
	int ret = -1;

	prl_buf_addf(&cmd,
		     "ffmpeg -nostdin -hide_banner -nostats -i '%s' "
		     "-af ebur128=peak=true -f null - 2>&1",
		     path);
	if (capture(cmd.data, &out) != 0 || !(s = strstr(prl_buf_str(&out), "Summary:")))
		goto end;
	if (!(p = strstr(s, "I:")) || sscanf(p, "I: %lf", &l->i) != 1)
		goto end;
	if (!(p = strstr(s, "Peak:")) || sscanf(p, "Peak: %lf", &l->tp) != 1)
		goto end;
	ret = 0;
end:
	prl_buf_release(&out);
	prl_buf_release(&cmd);
	return ret;
}

struct probe {
	char codec[32];
	int rate;
	int channels;
};

static int ffprobe(const char *path, struct probe *p)
{
	struct prl_buf out = PRL_BUF_INIT, cmd = PRL_BUF_INIT;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	prl_buf_addf(&cmd,
		     "ffprobe -v error -select_streams a:0 -show_entries "
		     "stream=codec_name,sample_rate,channels -of csv=p=0 '%s'",
		     path);
	if (capture(cmd.data, &out) == 0 &&
	    sscanf(prl_buf_str(&out), "%31[^,],%d,%d", p->codec, &p->rate, &p->channels) == 3)
		ret = 0;
	prl_buf_release(&out);
	prl_buf_release(&cmd);
	return ret;
}

/* ---- making inputs ---- */

static uint32_t lcg = 12345;
static int with_clicks; /* write_sndfile() adds a click every 250 ms */

static double noise(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return (double)(lcg >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

/* Writes secs seconds of the test signal at amp with libsndfile. */
static int write_sndfile(const char *path, int format, int rate, int channels, double secs,
			 double amp, const SF_BROADCAST_INFO *bext, const int *chmap)
{
	SF_INFO si;
	SNDFILE *sf;
	float block[1024 * 8];
	double lp[8] = {0};
	int64_t frames = (int64_t)(secs * rate), i = 0;
	int c, j, ret = 0;

	memset(&si, 0, sizeof(si));
	si.samplerate = rate;
	si.channels = channels;
	si.format = format;
	if (!(sf = sf_open(path, SFM_WRITE, &si)))
		return -1;
	if (bext)
		sf_command(sf, SFC_SET_BROADCAST_INFO, (void *)bext, (int)sizeof(*bext));
	if (chmap)
		sf_command(sf, SFC_SET_CHANNEL_MAP_INFO, (void *)chmap,
			   (int)(channels * sizeof(int)));
	while (i < frames) {
		int n = frames - i < 1024 ? (int)(frames - i) : 1024;

		for (j = 0; j < n; j++, i++) {
			double t = (double)i / rate;
			double env = 0.55 + 0.45 * sin(2 * M_PI * 3.3 * t);

			for (c = 0; c < channels; c++) {
				/* a one-pole low-pass keeps the noise under 2 kHz */
				lp[c] += 0.25 * (noise() - lp[c]);
				block[j * channels + c] =
					(float)(amp * env *
						(0.7 * sin(2 * M_PI * (220.0 + 110 * c) * t) +
						 0.6 * lp[c]));
				/* A click is what holds the gain back: loud for a
				 * sample, nothing for the loudness. */
				if (with_clicks && i % (rate / 4) == rate / 8)
					block[j * channels + c] =
						(i / (rate / 4)) % 2 ? 0.5f : -0.5f;
			}
		}
		if (sf_writef_float(sf, block, n) != n)
			ret = -1;
	}
	sf_close(sf);
	return ret;
}

static int ffmpeg_make(const char *src, const char *dst, const char *opts)
{
	struct prl_buf cmd = PRL_BUF_INIT;
	int ret;

	prl_buf_addf(&cmd, "ffmpeg -nostdin -loglevel error -y -i '%s' %s '%s'", src, opts, dst);
	ret = system(cmd.data);
	prl_buf_release(&cmd);
	return ret;
}

/* ---- one good input, end to end ---- */

struct expect {
	const char *name;		 /* file name in tmpdir */
	const char *container;		 /* expected info.container */
	const char *codec;		 /* expected info.codec */
	int rate, channels;		 /* expected */
	int64_t frames;			 /* exact frame count, or -1 when lossy */
	double secs;			 /* the length made */
	int bits;			 /* expected bits_per_sample, -1: do not check */
	const char *tag_key, *tag_value; /* a tag that must be there, or NULL */
};

static void check_copy(const char *what, const char *path, const struct prl_transcode_result *res,
		       int want_rate, int want_channels)
{
	struct ext_loudness l;
	struct probe p;
	int capped;

	if (!ok(ffprobe(path, &p) == 0, "%s: ffprobe reads it", what))
		return;
	is_str(p.codec, strstr(what, "opus") ? "opus" : "mp3", "%s: codec", what);
	is_int(p.rate, want_rate, "%s: sample rate", what);
	is_int(p.channels, want_channels, "%s: channels", what);
	if (!isfinite(res->loudness.integrated_lufs))
		return; /* silence keeps its level */
	if (!ok(ffmpeg_loudness(path, &l) == 0, "%s: FFmpeg meters it", what))
		return;
	/* A fold of more channels is metered on its own: its gain is not the
	 * source's, so only the outcome is checked. */
	capped = res->info.channels <= 2 &&
		 res->gain_db < -18 - res->loudness.integrated_lufs - 0.01;
	if (capped) {
		ok(l.tp <= -1 + 1.0, "%s: true peak %.2f held near the -1 dBTP cap", what, l.tp);
		ok(fabs(l.i - (res->loudness.integrated_lufs + res->gain_db)) <= 1.0,
		   "%s: loudness %.2f is source + gain (%.2f)", what, l.i,
		   res->loudness.integrated_lufs + res->gain_db);
	} else {
		ok(fabs(l.i + 18) <= 1.0, "%s: loudness %.2f LUFS within 1 LU of -18", what, l.i);
	}
}

static void run_good(const struct expect *e)
{
	struct prl_transcode_result res;
	struct prl_buf err = PRL_BUF_INIT, json = PRL_BUF_INIT;
	char src[512], opus[600], mp3[600], peaks[600];
	struct prl_transcode_job job;
	struct ext_loudness ref;
	int ret, mp3_rate;

	path_in(src, sizeof(src), e->name);
	snprintf(opus, sizeof(opus), "%s.opus", src);
	snprintf(mp3, sizeof(mp3), "%s.mp3", src);
	snprintf(peaks, sizeof(peaks), "%s.dat", src);
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src;
	job.opus_path = opus;
	job.mp3_path = mp3;
	job.peaks_path = peaks;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;

	ret = prl_transcode_run(&job, &res, &err);
	if (!ok(ret == 0, "%s: transcodes", e->name)) {
		diag("  %d %s", ret, prl_buf_str(&err));
		goto end;
	}
	is_str(res.info.container, e->container, "%s: container", e->name);
	is_str(res.info.codec, e->codec, "%s: codec", e->name);
	is_int(res.info.sample_rate, e->rate, "%s: sample rate", e->name);
	is_int(res.info.channels, e->channels, "%s: channels", e->name);
	if (e->bits >= 0)
		is_int(res.info.bits_per_sample, e->bits, "%s: bits per sample", e->name);
	if (e->frames >= 0)
		is_int(res.info.frames, e->frames, "%s: frames", e->name);
	else
		ok(llabs(res.info.duration_ms - (int64_t)(e->secs * 1000)) <= 60,
		   "%s: duration %lld ms", e->name, (long long)res.info.duration_ms);
	is_int(res.info.declared_frames, 0, "%s: not truncated", e->name);
	if (e->tag_key)
		is_str(prl_tags_get(&res.tags, e->tag_key), e->tag_value, "%s: tag %s", e->name,
		       e->tag_key);

	if (ok(ffmpeg_loudness(src, &ref) == 0, "%s: FFmpeg meters the source", e->name)) {
		ok(fabs(ref.i - res.loudness.integrated_lufs) <= 0.5,
		   "%s: integrated %.2f LUFS, FFmpeg says %.2f", e->name,
		   res.loudness.integrated_lufs, ref.i);
		ok(fabs(ref.tp - res.loudness.true_peak_dbtp) <= 1.0,
		   "%s: true peak %.2f dBTP, FFmpeg says %.2f", e->name,
		   res.loudness.true_peak_dbtp, ref.tp);
	}
	ok(res.loudness.true_peak_dbtp >= res.loudness.sample_peak_dbfs,
	   "%s: true peak >= sample peak", e->name);
	if (e->channels <= 2)
		ok(fabs(res.gain_db - prl_gain_for(&res.loudness, -18, -1)) < 1e-9,
		   "%s: gain is prl_gain_for()", e->name);

	mp3_rate = e->rate % 11025 == 0 ? 44100 : 48000;
	check_copy("opus copy", opus, &res, 48000, e->channels == 1 ? 1 : 2);
	check_copy("mp3 copy", mp3, &res, mp3_rate, e->channels == 1 ? 1 : 2);

	ok(prl_peaks_json(peaks, 0, &json) == 0 &&
		   strstr(prl_buf_str(&json), "\"samples_per_pixel\":256"),
	   "%s: peaks level 0 reads back", e->name);
	prl_buf_reset(&json);
	ok(prl_peaks_json(peaks, 2, &json) == 0 &&
		   strstr(prl_buf_str(&json), "\"samples_per_pixel\":4096"),
	   "%s: peaks level 2 reads back", e->name);
	prl_buf_reset(&json);
	is_int(prl_peaks_json(peaks, 3, &json), -PRL_ENOTFOUND, "%s: no peaks level 3", e->name);
end:
	unlink(opus);
	unlink(mp3);
	unlink(peaks);
	prl_transcode_result_clear(&res);
	prl_buf_release(&err);
	prl_buf_release(&json);
}

/* ---- inputs that must fail ---- */

/* The output is not there, or is a device that was there before. */
static int gone(const char *path)
{
	return !path || !strcmp(path, "/dev/full") || !exists(path);
}

static void run_bad(const char *what, const char *src, const char *opus, const char *mp3,
		    const char *peaks)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT;
	int ret;

	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src;
	job.opus_path = opus;
	job.mp3_path = mp3;
	job.peaks_path = peaks;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	ret = prl_transcode_run(&job, &res, &err);
	ok(ret < 0, "%s: fails (%d)", what, ret);
	ok(err.len > 0 && !strchr(prl_buf_str(&err), '\n'), "%s: one line: %s", what,
	   prl_buf_str(&err));
	ok(gone(opus) && gone(mp3) && gone(peaks), "%s: no output left", what);
	if (opus && strcmp(opus, "/dev/full"))
		unlink(opus);
	prl_transcode_result_clear(&res);
	prl_buf_release(&err);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static void bad_inputs(void)
{
	char src[512], opus[512], mp3[512], peaks[512], wav[512], blocked[600];
	unsigned char junk[5000];
	size_t i;

	path_in(opus, sizeof(opus), "bad.opus");
	path_in(mp3, sizeof(mp3), "bad.mp3");
	path_in(peaks, sizeof(peaks), "bad.dat");

	path_in(src, sizeof(src), "empty.wav");
	write_bytes(src, "", 0);
	run_bad("empty file", src, opus, mp3, peaks);

	path_in(wav, sizeof(wav), "whole.wav");
	write_sndfile(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.0, 0.3, NULL, NULL);
	path_in(src, sizeof(src), "cut-header.wav");
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "head -c 30 '%s' > '%s'", wav, src);
		ok(system(cmd) == 0, "made a WAV cut inside its header");
	}
	run_bad("WAV cut inside its header", src, opus, mp3, peaks);

	path_in(src, sizeof(src), "text.wav");
	write_bytes(src, "This is not audio.\nJust some words.\n", 36);
	run_bad("text named .wav", src, opus, mp3, peaks);

	path_in(src, sizeof(src), "random.mp3");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(noise() * 127 + 128);
	write_bytes(src, junk, sizeof(junk));
	run_bad("random bytes named .mp3", src, opus, mp3, peaks);

	path_in(src, sizeof(src), "twenty-channels.wav");
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "sox -n -c 20 -r 8000 -b 16 '%s' synth 0.1 sine 440",
			 src);
		if (system(cmd) == 0)
			run_bad("20 channels", src, opus, mp3, peaks);
	}

	path_in(src, sizeof(src), "no-such-file.wav");
	run_bad("missing file", src, opus, mp3, peaks);

	run_bad("a folder as input", tmpdir, opus, mp3, peaks);

	/* Output folder that cannot be written: a path under a regular file
	 * fails even for root, which ignores permission bits. */
	snprintf(blocked, sizeof(blocked), "%s/copy.opus", wav);
	run_bad("output under a regular file", wav, blocked, mp3, peaks);
	path_in(blocked, sizeof(blocked), "no-such-dir/copy.mp3");
	run_bad("output in a missing folder", wav, opus, blocked, peaks);

	/* A full disk, as /dev/full plays it: the device is not ours to
	 * remove, the outputs we created are. */
	if (exists("/dev/full")) {
		run_bad("disk full while writing the Opus copy", wav, "/dev/full", mp3, peaks);
		ok(exists("/dev/full"), "/dev/full is left alone");
	}
}

/* ---- the WAV cut in its data chunk: kept, with its real length ---- */

static void truncated_recording(void)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT;
	char src[512];
	struct stat st;
	int ret;

	path_in(src, sizeof(src), "power-lost.wav");
	write_sndfile(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 2.0, 0.3, NULL, NULL);
	if (stat(src, &st) == 0)
		ok(truncate(src, 44 + 48000 * 4 / 2) == 0, "cut a 2 s WAV after 0.5 s of data");
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	ret = prl_transcode_run(&job, &res, &err);
	is_int(ret, 0, "truncated recording is kept (%s)", prl_buf_str(&err));
	is_int(res.info.frames, 24000, "truncated recording: frames really there");
	is_int(res.info.declared_frames, 96000, "truncated recording: frames promised");
	prl_transcode_result_clear(&res);

	/* a copy that stopped at 40%: FLAC says its length in STREAMINFO, an
	 * MP3 in its LAME header, an MP4 in its track; an Ogg file says none */
	{
		static const struct {
			const char *name, *opts; /* extension, ffmpeg's options */
		} cut[] = {
			{"flac", "-c:a flac"},
			{"mp3", "-c:a libmp3lame -b:a 128k"},
			{"m4a", "-c:a aac -b:a 128k -movflags +faststart"},
		};
		char whole[512], part[512], name[16];

		path_in(src, sizeof(src), "whole-2s.wav");
		write_sndfile(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 2.0, 0.3, NULL,
			      NULL);
		for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
			FILE *in, *out;
			char *buf;
			size_t n;

			snprintf(name, sizeof(name), "whole.%s", cut[i].name);
			path_in(whole, sizeof(whole), name);
			snprintf(name, sizeof(name), "cut.%s", cut[i].name);
			path_in(part, sizeof(part), name);
			if (ffmpeg_make(src, whole, cut[i].opts) != 0 || stat(whole, &st) != 0) {
				ok(0, "%s: made by ffmpeg", name);
				continue;
			}
			n = (size_t)st.st_size * 4 / 10;
			buf = malloc(n);
			in = fopen(whole, "rb");
			out = fopen(part, "wb");
			if (buf && in && out && fread(buf, 1, n, in) == n)
				fwrite(buf, 1, n, out);
			if (in)
				fclose(in);
			if (out)
				fclose(out);
			free(buf);
			memset(&res, 0, sizeof(res));
			job.src_path = whole;
			ret = prl_transcode_run(&job, &res, &err);
			ok(ret == 0 && res.info.declared_frames == 0,
			   "whole.%s: not truncated (%lld)", cut[i].name,
			   (long long)res.info.declared_frames);
			prl_transcode_result_clear(&res);
			memset(&res, 0, sizeof(res));
			job.src_path = part;
			ret = prl_transcode_run(&job, &res, &err);
			ok(ret == 0 && res.info.frames > 0 && res.info.frames < 96000 * 6 / 10,
			   "%s: kept with the audio it holds (%lld frames)", name,
			   (long long)res.info.frames);
			ok(llabs(res.info.declared_frames - 96000) <= 2400,
			   "%s: the 2 s its header promised are reported (%lld frames)", name,
			   (long long)res.info.declared_frames);
			prl_transcode_result_clear(&res);
		}
	}
	prl_buf_release(&err);
}

/* A clip of a tenth of a second is too short for FFmpeg's probe to be sure
 * it is MP3; its frames chaining from end to end prove it.  The same bytes
 * cut inside a frame, or with noise in the middle, prove nothing. */
static void short_mp3(void)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT, file = PRL_BUF_INIT;
	char src[512], mp3[512], bad[512];
	FILE *f;
	int ret;

	path_in(src, sizeof(src), "short.wav");
	write_sndfile(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 0.072, 0.3, NULL, NULL);
	path_in(mp3, sizeof(mp3), "short.mp3");
	if (!ok(ffmpeg_make(src, mp3, "-c:a libmp3lame -b:a 128k") == 0 &&
			prl_read_file(mp3, 0, &file) == 0,
		"made a 72 ms MP3"))
		return;
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = mp3;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	ret = prl_transcode_run(&job, &res, &err);
	is_int(ret, 0, "a 72 ms MP3 is read (%s)", prl_buf_str(&err));
	ok(res.info.frames >= 3175 && res.info.frames < 6000,
	   "a 72 ms MP3: its frames decode (%lld)", (long long)res.info.frames);
	is_int(res.info.declared_frames, 0, "a 72 ms MP3: whole, not cut");
	prl_transcode_result_clear(&res);

	path_in(bad, sizeof(bad), "short-cut.mp3");
	if ((f = fopen(bad, "wb"))) {
		fwrite(file.data, 1, file.len - 100, f);
		fclose(f);
	}
	job.src_path = bad;
	prl_buf_reset(&err);
	ok(prl_transcode_run(&job, &res, &err) < 0, "the same MP3 cut inside a frame is refused");
	prl_transcode_result_clear(&res);

	path_in(bad, sizeof(bad), "short-noise.mp3");
	for (size_t i = file.len / 2; i < file.len / 2 + 64; i++)
		file.data[i] = (char)(noise() * 127 + 128);
	file.data[file.len / 2] = (char)0xff; /* a false sync, where a frame's data was */
	if ((f = fopen(bad, "wb"))) {
		fwrite(file.data, 1, file.len, f);
		fclose(f);
	}
	job.src_path = bad;
	prl_buf_reset(&err);
	memset(&res, 0, sizeof(res));
	ret = prl_transcode_run(&job, &res, &err);
	ok(ret == 0 || ret == -PRL_EFORMAT || ret == -PRL_ECODEC,
	   "noise inside a frame's data: read or refused, never a crash (%d)", ret);
	prl_transcode_result_clear(&res);
	prl_buf_release(&file);
	prl_buf_release(&err);
}

/* The Ogg page CRC: polynomial 0x04c11db7, not reflected, starting at 0. */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
	uint32_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
	}
	return c;
}

/* An Ogg Opus file may ask its decoder to drop up to 65,535 samples at the
 * start (pre-skip); the length FFmpeg reads off the last page counts them.
 * Such a file is whole: it is kept with what decodes, not called cut. */
static void opus_pre_skip(void)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT, file = PRL_BUF_INIT;
	char src[512], opus[512];
	unsigned char *d, *head;
	size_t page_len;
	uint32_t crc;
	FILE *f;
	int ret;

	path_in(src, sizeof(src), "pre-skip.wav");
	write_sndfile(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, 3.0, 0.3, NULL, NULL);
	path_in(opus, sizeof(opus), "pre-skip.opus");
	if (!ok(ffmpeg_make(src, opus, "-c:a libopus -b:a 64k") == 0 &&
			prl_read_file(opus, 0, &file) == 0 && file.len > 64,
		"made a 3 s Ogg Opus file")) {
		prl_buf_release(&file);
		return;
	}
	/* OpusHead is the first page's packet: pre-skip is the 16-bit
	 * little-endian field 10 bytes into it; the page's CRC is redone */
	d = (unsigned char *)file.data;
	head = memmem(d, file.len, "OpusHead", 8);
	page_len = 27 + (size_t)d[26];
	for (size_t i = 0; i < d[26]; i++)
		page_len += d[27 + i];
	ok(head && head + 12 <= d + page_len && page_len <= file.len,
	   "the first page holds the Opus header");
	if (head && head + 12 <= d + page_len && page_len <= file.len) {
		head[10] = 0xff;
		head[11] = 0xff;
		memset(d + 22, 0, 4);
		crc = ogg_crc(d, page_len);
		for (int k = 0; k < 4; k++)
			d[22 + k] = (unsigned char)(crc >> (8 * k));
		if ((f = fopen(opus, "wb"))) {
			fwrite(d, 1, file.len, f);
			fclose(f);
		}
	}
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = opus;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	ret = prl_transcode_run(&job, &res, &err);
	is_int(ret, 0, "Opus with a pre-skip of 65,535 samples is read (%s)", prl_buf_str(&err));
	is_int(res.info.declared_frames, 0, "Opus with a large pre-skip: not called truncated");
	ok(res.info.frames > 48000 && res.info.frames < 3 * 48000 - 60000,
	   "Opus with a large pre-skip: the frames that decode (%lld)", (long long)res.info.frames);
	prl_transcode_result_clear(&res);
	prl_buf_release(&file);
	prl_buf_release(&err);
}

/* ---- the real files in the interop folder ---- */

static void interop(void)
{
	static const struct {
		const char *file;
		int ok; /* must succeed */
		int rate, channels;
		int64_t frames; /* -1: do not check */
		const char *sha256;
	} files[] = {
		{"parselmouth/the_north_wind_and_the_sun.wav", 1, 44100, 1, 56592,
		 "a5452a671d34fa7d4967dd644f7db9623e779649fc9f0d31c0b5196fc0b0a1e8"},
		{"praat/\xe3\x81\x82\xe3\x80\x80\xe3\x81\x82.wav", 1, 44100, 1, 20457,
		 "1d56a837596b696ab05d28f8b900968f0a35aaad53d46020cbd336b691ee694d"},
		{"wavinfo/STE-000.wav", 1, 48000, 2, 242624,
		 "52aa092b3db476bb633d51e48b5fdae4ae70c0d2b7135ee926505559d0935874"},
		{"wavinfo/A101_3.WAV", 1, 48000, 2, 48044, NULL},
		{"wavinfo/izotoperx_cues_test.wav", 1, 48000, 1, 48000, NULL},
		{"wavinfo/new_camera bumb 1.wav", 1, 48000, 1, 45859, NULL},
		{"go-audio-wav/bwf.wav", 1, 44100, 1, 7287, NULL},
		{"scipy/test-8000Hz-le-1ch-1byte-ulaw.wav", 1, 8000, 1, 9, NULL},
		{"scipy/test-8000Hz-le-3ch-5S-24bit-rf64.wav", 1, 8000, 3, 5, NULL},
		{"scipy/test-44100Hz-le-1ch-4bytes-early-eof.wav", 1, 44100, 1, 236, NULL},
		{"hound/pcmwaveformat-8bit-44100Hz-mono.wav", 1, 44100, 1, 4, NULL},
		{"hound/waveformatextensible-24bit-192kHz-mono.wav", 1, 192000, 1, 4, NULL},
		{"hound/waveformatex-8bit-11025Hz-mono.wav", 1, 11025, 1, 4, NULL},
		{"nzilbb/invalid-audio.wav", 0, 0, 0, -1, NULL},
	};
	const char *base = getenv("PARLERS_INTEROP");
	char src[1024], opus[512], mp3[512], peaks[512], hex[65];
	size_t i;

	if (!base) {
		diag("PARLERS_INTEROP not set: interop files skipped");
		return;
	}
	path_in(opus, sizeof(opus), "interop.opus");
	path_in(mp3, sizeof(mp3), "interop.mp3");
	path_in(peaks, sizeof(peaks), "interop.dat");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct prl_transcode_result res;
		struct prl_transcode_job job;
		struct prl_buf err = PRL_BUF_INIT;
		int ret;

		snprintf(src, sizeof(src), "%s/audio/%s", base, files[i].file);
		memset(&job, 0, sizeof(job));
		memset(&res, 0, sizeof(res));
		job.src_path = src;
		job.opus_path = opus;
		job.mp3_path = mp3;
		job.peaks_path = peaks;
		job.target_lufs = -18;
		job.max_true_peak_dbtp = -1;
		ret = prl_transcode_run(&job, &res, &err);
		if (!files[i].ok) {
			ok(ret < 0 && err.len && !strchr(prl_buf_str(&err), '\n'),
			   "%s fails cleanly: %s", files[i].file, prl_buf_str(&err));
			ok(!exists(opus) && !exists(mp3) && !exists(peaks), "%s: no output left",
			   files[i].file);
		} else if (ok(ret == 0, "%s transcodes", files[i].file)) {
			is_int(res.info.sample_rate, files[i].rate, "%s: rate", files[i].file);
			is_int(res.info.channels, files[i].channels, "%s: channels", files[i].file);
			if (files[i].frames >= 0)
				is_int(res.info.frames, files[i].frames, "%s: frames",
				       files[i].file);
			if (files[i].sha256) {
				prl_sha256_hex(res.sha256, hex);
				is_str(hex, files[i].sha256, "%s: sha256", files[i].file);
			}
			ok(res.opus_bytes > 0 && res.mp3_bytes > 0 && res.peaks_bytes > 0,
			   "%s: copies and peaks written", files[i].file);
		} else {
			diag("  %s", prl_buf_str(&err));
		}
		unlink(opus);
		unlink(mp3);
		unlink(peaks);
		prl_transcode_result_clear(&res);
		prl_buf_release(&err);
	}

	/* What the BWF and INFO chunks of real recorders say. */
	{
		struct prl_transcode_result res;
		struct prl_transcode_job job;
		struct prl_buf err = PRL_BUF_INIT;

		memset(&job, 0, sizeof(job));
		memset(&res, 0, sizeof(res));
		snprintf(src, sizeof(src), "%s/audio/wavinfo/STE-000.wav", base);
		job.src_path = src;
		if (ok(prl_transcode_run(&job, &res, &err) == 0,
		       "H4n take analysed without copies")) {
			is_str(prl_tags_get(&res.tags, "bext_originator"),
			       "ZOOM Handy Recorder H4n", "H4n: bext originator");
			is_str(prl_tags_get(&res.tags, "bext_origination_date"), "2023-11-05",
			       "H4n: bext origination date");
			is_str(prl_tags_get(&res.tags, "bext_origination_time"), "17:54:35",
			       "H4n: bext origination time");
		}
		prl_transcode_result_clear(&res);
		snprintf(src, sizeof(src),
			 "%s/audio/scipy/test-44100Hz-le-1ch-4bytes-early-eof.wav", base);
		if (ok(prl_transcode_run(&job, &res, &err) == 0, "early-EOF WAV kept")) {
			is_int(res.info.declared_frames, 4410,
			       "early-EOF WAV: header promised 4410");
		}
		prl_transcode_result_clear(&res);
		prl_buf_release(&err);
	}
}

/* ---- true peak: the gated meter gives libebur128's own answer ---- */

static void true_peak_exact(const char *name)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT;
	ebur128_state *st = NULL;
	float block[4096 * 2];
	double tp = 0, v;
	char src[512];
	SF_INFO si;
	SNDFILE *sf;
	sf_count_t n;
	int c;

	path_in(src, sizeof(src), name);
	memset(&si, 0, sizeof(si));
	if (!(sf = sf_open(src, SFM_READ, &si)) || si.channels > 2 ||
	    !(st = ebur128_init((unsigned)si.channels, (unsigned long)si.samplerate,
				EBUR128_MODE_TRUE_PEAK))) {
		ok(0, "%s: read for the reference true peak", name);
		goto end;
	}
	while ((n = sf_readf_float(sf, block, 4096)) > 0)
		ebur128_add_frames_float(st, block, (size_t)n);
	for (c = 0; c < si.channels; c++)
		if (ebur128_true_peak(st, (unsigned)c, &v) == EBUR128_SUCCESS && v > tp)
			tp = v;
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src;
	if (ok(prl_transcode_run(&job, &res, &err) == 0, "%s: analysed", name))
		ok(fabs(res.loudness.true_peak_dbtp - 20 * log10(tp)) < 1e-6,
		   "%s: true peak %.6f is libebur128's unskipped %.6f", name,
		   res.loudness.true_peak_dbtp, 20 * log10(tp));
	prl_transcode_result_clear(&res);
end:
	if (st)
		ebur128_destroy(&st);
	if (sf)
		sf_close(sf);
	prl_buf_release(&err);
}

/* ---- fixity ---- */

/* The resumable SHA-256 of uploads: a hash saved after any number of
 * bytes, loaded into a fresh state and continued, gives the digest of
 * the whole; a state that is not one is refused. */
static void sha256_resumable(void)
{
	static const char text[] = "Ch'est la mézoun d'ma grand-mère, au bord d'la mielle.";
	static const char want[] =
		"7dd5845c8a55314024ae56a886ccca721659d0cbbc70a3e0aeb5af32738b8db0";
	unsigned char saved[PRL_SHA256_STATE_SIZE];
	struct prl_sha256 h, again;
	uint8_t d[32];
	char hex[65];
	int same = 1;

	for (size_t cut = 0; cut <= sizeof(text) - 1; cut++) {
		prl_sha256_init(&h);
		prl_sha256_update(&h, text, cut);
		prl_sha256_save(&h, saved);
		if (prl_sha256_load(&again, saved, sizeof(saved)) != 0) {
			same = 0;
			break;
		}
		prl_sha256_update(&again, text + cut, sizeof(text) - 1 - cut);
		prl_sha256_peek(&again, d);
		prl_sha256_hex(d, hex);
		same &= strcmp(hex, want) == 0;
	}
	ok(same, "a SHA-256 saved after any byte and continued is the whole text's");
	memset(saved, 0xff, sizeof(saved));
	ok(prl_sha256_load(&again, saved, sizeof(saved)) == -PRL_EFORMAT,
	   "a state that is no SHA-256 state is refused");
	ok(prl_sha256_load(&again, saved, 3) == -PRL_EFORMAT, "so is one of the wrong size");
}

/* ---- the gain rule ---- */

static void gain_rule(void)
{
	struct prl_loudness l;

	memset(&l, 0, sizeof(l));
	l.integrated_lufs = -HUGE_VAL;
	l.true_peak_dbtp = -HUGE_VAL;
	ok(prl_gain_for(&l, -18, -1) == 0, "silence gets no gain");
	l.integrated_lufs = -30;
	l.true_peak_dbtp = -20;
	ok(fabs(prl_gain_for(&l, -18, -1) - 12) < 1e-9, "quiet source: +12 dB to the target");
	l.true_peak_dbtp = -10;
	ok(fabs(prl_gain_for(&l, -18, -1) - 9) < 1e-9, "peaky source: +9 dB, held by the peak");
	l.integrated_lufs = -10;
	l.true_peak_dbtp = -0.5;
	ok(fabs(prl_gain_for(&l, -18, -1) + 8) < 1e-9, "loud source: turned down 8 dB");
}

/* ---- progress and the hash ---- */

static int64_t progress_calls, progress_done, progress_total;

static void on_progress(void *ctx, int64_t done, int64_t total)
{
	(void)ctx;
	progress_calls++;
	progress_done = done;
	progress_total = total;
}

/* The first min/max pair of a peaks JSON answer. */
static int first_pair(const struct prl_buf *json, int *lo, int *hi)
{
	const char *d = strstr(prl_buf_str(json), "\"data\":[");

	return d && sscanf(d, "\"data\":[%d,%d", lo, hi) == 2;
}

/* The first pixels of level 0 and level 1, computed here from the
 * samples, must be what the peaks file says. */
static void check_peak_values(const char *src, const char *peaks)
{
	struct prl_buf json = PRL_BUF_INIT;
	float block[1024];
	SF_INFO si;
	SNDFILE *sf;
	int lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0, want[4] = {32767, -32768, 32767, -32768}, i;

	memset(&si, 0, sizeof(si));
	if (!ok((sf = sf_open(src, SFM_READ, &si)) != NULL && si.channels == 1,
		"peaks: source read"))
		return;
	sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	if (sf_readf_float(sf, block, 1024) == 1024) {
		for (i = 0; i < 1024; i++) {
			int v = (int)lrintf(block[i] * 32767.0f);

			if (i < 256 && v < want[0])
				want[0] = v;
			if (i < 256 && v > want[1])
				want[1] = v;
			if (v < want[2])
				want[2] = v;
			if (v > want[3])
				want[3] = v;
		}
	}
	sf_close(sf);
	ok(prl_peaks_json(peaks, 0, &json) == 0 && first_pair(&json, &lo0, &hi0),
	   "peaks: level 0 parsed");
	prl_buf_reset(&json);
	ok(prl_peaks_json(peaks, 1, &json) == 0 && first_pair(&json, &lo1, &hi1),
	   "peaks: level 1 parsed");
	ok(abs(lo0 - want[0]) <= 1 && abs(hi0 - want[1]) <= 1,
	   "peaks: first pixel %d..%d, samples say %d..%d", lo0, hi0, want[0], want[1]);
	ok(abs(lo1 - want[2]) <= 1 && abs(hi1 - want[3]) <= 1,
	   "peaks: first 1024-frame pixel %d..%d, samples say %d..%d", lo1, hi1, want[2], want[3]);
	prl_buf_release(&json);
}

static void progress_and_hash(void)
{
	struct prl_transcode_result res;
	struct prl_transcode_job job;
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT, cmd = PRL_BUF_INIT;
	char src[512], opus[512], peaks[512], hex[65];

	path_in(src, sizeof(src), "long.wav");
	path_in(opus, sizeof(opus), "long.opus");
	path_in(peaks, sizeof(peaks), "long.dat");
	write_sndfile(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, 20.0, 0.2, NULL, NULL);
	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.src_path = src;
	job.opus_path = opus;
	job.peaks_path = peaks;
	job.target_lufs = -18;
	job.max_true_peak_dbtp = -1;
	job.progress = on_progress;
	if (ok(prl_transcode_run(&job, &res, &err) == 0, "20 s file with progress")) {
		ok(progress_calls > 2, "progress called %lld times", (long long)progress_calls);
		ok(progress_done == progress_total && progress_total == 2 * res.info.frames,
		   "progress ends at twice the frames");
		ok(res.mp3_bytes == 0 && res.opus_bytes > 0, "only the copy asked for is made");
		prl_sha256_hex(res.sha256, hex);
		prl_buf_addf(&cmd, "sha256sum '%s'", src);
		ok(capture(cmd.data, &out) == 0 && !strncmp(prl_buf_str(&out), hex, 64),
		   "sha256 agrees with sha256sum");
		check_peak_values(src, peaks);
	}
	unlink(opus);
	unlink(peaks);
	prl_transcode_result_clear(&res);
	prl_buf_release(&err);
	prl_buf_release(&out);
	prl_buf_release(&cmd);
}

/* ---- main ---- */

int main(void)
{
	static const int map51[6] = {
		SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT,     SF_CHANNEL_MAP_CENTER,
		SF_CHANNEL_MAP_LFE,  SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT,
	};
	SF_BROADCAST_INFO bext;
	char master[512], stereo[512], six[512], dst[512], cmdbuf[600];
	const char *t = getenv("TMPDIR");
	size_t i;

	snprintf(tmpdir, sizeof(tmpdir), "%s/parlers-transcode-XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot make a temporary folder: %s\n", strerror(errno));
		return 1;
	}
	have_ffmpeg = system("ffmpeg -version > /dev/null 2>&1") == 0 &&
		      system("ffprobe -version > /dev/null 2>&1") == 0;
	if (!have_ffmpeg) {
		printf("1..0 # SKIP the ffmpeg and ffprobe tools are needed\n");
		return 0;
	}

	/* The libraries must never print: everything written to stderr from
	 * here on (ours, FFmpeg's, libsndfile's, LAME's) lands in a file that
	 * must be empty at the end.  The ffmpeg tools run with -v error. */
	snprintf(stderr_path, sizeof(stderr_path), "%s/stderr.txt", tmpdir);
	fflush(stderr);
	saved_stderr = dup(2);
	if (saved_stderr < 0 || !freopen(stderr_path, "w", stderr)) {
		printf("Bail out! cannot redirect stderr\n");
		return 1;
	}
	signal(SIGABRT, replay_stderr);
	signal(SIGSEGV, replay_stderr);

	gain_rule();
	sha256_resumable();

	/* WAV variants with libsndfile. */
	memset(&bext, 0, sizeof(bext));
	snprintf(bext.description, sizeof(bext.description),
		 "Entretien avec Mme Lef\xc3\xa8vre, Val de Sa\xc3\xa8ne");
	snprintf(bext.originator, sizeof(bext.originator), "Enregistreur de terrain");
	memcpy(bext.origination_date, "1987-06-14", 10);
	memcpy(bext.origination_time, "15:02:33", 8);
	path_in(master, sizeof(master), "mono16-44k.wav");
	write_sndfile(master, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 3, 0.25, NULL, NULL);
	path_in(stereo, sizeof(stereo), "stereo24-48k.wav");
	write_sndfile(stereo, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 2, 3, 0.5, NULL, NULL);
	path_in(six, sizeof(six), "six-wavex.wav");
	write_sndfile(six, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, 48000, 6, 3, 0.3, NULL, map51);
	path_in(dst, sizeof(dst), "float-32k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 32000, 2, 3, 0.4, NULL, NULL);
	path_in(dst, sizeof(dst), "s32-22k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_32, 22050, 1, 3, 0.05, NULL, NULL);
	path_in(dst, sizeof(dst), "u8-11k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 11025, 1, 3, 0.5, NULL, NULL);
	path_in(dst, sizeof(dst), "alaw-8k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1, 3, 0.5, NULL, NULL);
	path_in(dst, sizeof(dst), "ulaw-8k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 3, 0.5, NULL, NULL);
	path_in(dst, sizeof(dst), "rf64-96k.wav");
	write_sndfile(dst, SF_FORMAT_RF64 | SF_FORMAT_PCM_24, 96000, 2, 3, 0.3, NULL, NULL);
	path_in(dst, sizeof(dst), "mono24-192k.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 192000, 1, 3, 0.3, NULL, NULL);
	path_in(dst, sizeof(dst), "bwf.wav");
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, 3, 0.3, &bext, NULL);
	path_in(dst, sizeof(dst), "clicks.wav");
	with_clicks = 1;
	write_sndfile(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 3, 0.03, NULL, NULL);
	with_clicks = 0;

	/* Other containers with the ffmpeg tool. */
	path_in(dst, sizeof(dst), "stereo.flac");
	ffmpeg_make(stereo, dst, "-c:a flac");
	path_in(dst, sizeof(dst), "six.flac");
	ffmpeg_make(six, dst, "-c:a flac");
	path_in(dst, sizeof(dst), "titled.mp3");
	ffmpeg_make(stereo, dst, "-c:a libmp3lame -b:a 160k -metadata title='La Hague, 1987'");
	path_in(dst, sizeof(dst), "mono.mp3");
	ffmpeg_make(master, dst, "-c:a libmp3lame -b:a 96k");
	path_in(dst, sizeof(dst), "vorbis.ogg");
	ffmpeg_make(stereo, dst, "-c:a libvorbis -q:a 4 -metadata title='Chanson du Cotentin'");
	path_in(dst, sizeof(dst), "voice.opus");
	ffmpeg_make(master, dst, "-c:a libopus -b:a 48k");
	path_in(dst, sizeof(dst), "aac.m4a");
	ffmpeg_make(stereo, dst, "-c:a aac -b:a 128k -metadata title='Veillee'");
	path_in(dst, sizeof(dst), "be16.aiff");
	ffmpeg_make(master, dst, "-c:a pcm_s16be");
	path_in(dst, sizeof(dst), "mp3-in.wav");
	ffmpeg_make(master, dst, "-c:a libmp3lame -b:a 64k -f wav");
	snprintf(cmdbuf, sizeof(cmdbuf), "%s", master);

	{
		static const struct expect cases[] = {
			{"mono16-44k.wav", "wav", "pcm_s16le", 44100, 1, 132300, 3, 16, NULL, NULL},
			{"stereo24-48k.wav", "wav", "pcm_s24le", 48000, 2, 144000, 3, 24, NULL,
			 NULL},
			{"six-wavex.wav", "wav", "pcm_s24le", 48000, 6, 144000, 3, 24, NULL, NULL},
			{"float-32k.wav", "wav", "pcm_f32le", 32000, 2, 96000, 3, 32, NULL, NULL},
			{"s32-22k.wav", "wav", "pcm_s32le", 22050, 1, 66150, 3, 32, NULL, NULL},
			{"u8-11k.wav", "wav", "pcm_u8", 11025, 1, 33075, 3, 8, NULL, NULL},
			{"alaw-8k.wav", "wav", "pcm_alaw", 8000, 1, 24000, 3, 8, NULL, NULL},
			{"ulaw-8k.wav", "wav", "pcm_mulaw", 8000, 1, 24000, 3, 8, NULL, NULL},
			{"rf64-96k.wav", "rf64", "pcm_s24le", 96000, 2, 288000, 3, 24, NULL, NULL},
			{"mono24-192k.wav", "wav", "pcm_s24le", 192000, 1, 576000, 3, 24, NULL,
			 NULL},
			{"bwf.wav", "wav", "pcm_s16le", 48000, 1, 144000, 3, 16, "bext_originator",
			 "Enregistreur de terrain"},
			{"clicks.wav", "wav", "pcm_s16le", 48000, 2, 144000, 3, 16, NULL, NULL},
			{"stereo.flac", "flac", "flac", 48000, 2, 144000, 3, 24, NULL, NULL},
			{"six.flac", "flac", "flac", 48000, 6, 144000, 3, 24, NULL, NULL},
			{"titled.mp3", "mp3", "mp3", 48000, 2, -1, 3, 0, "title", "La Hague, 1987"},
			{"mono.mp3", "mp3", "mp3", 44100, 1, -1, 3, 0, NULL, NULL},
			{"vorbis.ogg", "ogg", "vorbis", 48000, 2, -1, 3, 0, "title",
			 "Chanson du Cotentin"},
			{"voice.opus", "ogg", "opus", 48000, 1, -1, 3, 0, NULL, NULL},
			{"aac.m4a", "mp4", "aac", 48000, 2, -1, 3, 0, "title", "Veillee"},
			{"be16.aiff", "aiff", "pcm_s16be", 44100, 1, 132300, 3, 16, NULL, NULL},
			/* what some dictaphones write: FFmpeg's, not libsndfile's */
			{"mp3-in.wav", "wav", "mp3", 44100, 1, -1, 3, 0, NULL, NULL},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_good(&cases[i]);
	}
	{
		struct prl_transcode_result res;
		struct prl_transcode_job job;
		struct prl_buf err = PRL_BUF_INIT;

		path_in(dst, sizeof(dst), "bwf.wav");
		memset(&job, 0, sizeof(job));
		memset(&res, 0, sizeof(res));
		job.src_path = dst;
		if (ok(prl_transcode_run(&job, &res, &err) == 0, "BWF analysed")) {
			is_str(prl_tags_get(&res.tags, "bext_description"),
			       "Entretien avec Mme Lef\xc3\xa8vre, Val de Sa\xc3\xa8ne",
			       "BWF: bext description, UTF-8 kept");
			is_str(prl_tags_get(&res.tags, "bext_origination_date"), "1987-06-14",
			       "BWF: origination date");
			is_str(prl_tags_get(&res.tags, "bext_origination_time"), "15:02:33",
			       "BWF: origination time");
		}
		prl_transcode_result_clear(&res);
		prl_buf_release(&err);
	}

	true_peak_exact("stereo24-48k.wav");
	true_peak_exact("clicks.wav");
	true_peak_exact("rf64-96k.wav");
	true_peak_exact("mono24-192k.wav");
	truncated_recording();
	opus_pre_skip();
	short_mp3();
	progress_and_hash();
	true_peak_exact("long.wav");
	interop();
	bad_inputs();

	{
		struct stat st;

		fflush(stderr);
		if (!ok(stat(stderr_path, &st) == 0 && st.st_size == 0,
			"nothing was printed on stderr")) {
			struct prl_buf text = PRL_BUF_INIT;

			prl_read_file(stderr_path, 4096, &text);
			diag("  %s", prl_buf_str(&text));
			prl_buf_release(&text);
		}
	}
	snprintf(cmdbuf, sizeof(cmdbuf), "rm -rf '%s'", tmpdir);
	if (system(cmdbuf) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
