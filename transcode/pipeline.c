/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prl_transcode_run(): one file's ingest work, in two passes over the audio.
 *
 * Pass 1 decodes once and feeds the meter and the peaks writer, while a
 * second thread hashes the original's bytes.  The gain for the copies
 * depends on the whole file's loudness, so the copies need a second pass:
 * it runs two decoders side by side, one feeding the Opus encoder on the
 * calling thread, one feeding the MP3 encoder on a worker thread.  On the
 * two-core machine the archive runs on, this keeps both cores busy almost
 * all the time; decoding twice costs little next to encoding (a 24-bit WAV
 * decodes some 2000 times faster than real time).
 *
 * With more than two channels the copies are a stereo fold, which is
 * not as loud as the source measures: pass 1 then also meters the fold
 * (the same matrix the encoders use) and the copies' gain comes from it,
 * so they reach the target too; the result still reports the source's
 * own loudness.
 *
 * Always holds: every output file is created before any audio is decoded
 * (an unwritable folder fails at once, not after minutes of work); on
 * failure each output this run created is removed again, and nothing else
 * is (a path that was a device or FIFO before is left alone).  Memory is a
 * few blocks per thread whatever the file's length.  The progress callback
 * and everything the caller sees run on the calling thread.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libswresample/swresample.h>

#include "transcode-internal.h"

/* Blocks between two progress calls: about 4 s of 48 kHz audio. */
#define PROGRESS_EVERY 48

void prl_transcode_result_clear(struct prl_transcode_result *r)
{
	if (!r)
		return;
	prl_tags_clear(&r->tags);
	memset(r, 0, sizeof(*r));
}

/* ---- outputs, and removing them on failure ---- */

struct output {
	const char *path; /* as the job gave it, or NULL */
	int remove;	  /* this run may remove it on failure */
};

/* A path that did not exist, or was a regular file (overwritten now
 * anyway), is ours to remove on failure; a device or FIFO is not. */
static void claim(struct output *o, const char *path)
{
	struct stat st;

	o->path = path;
	o->remove = path && (lstat(path, &st) < 0 || S_ISREG(st.st_mode));
}

static void discard(const struct output *o)
{
	if (o->path && o->remove)
		unlink(o->path);
}

/* ---- pass 1: meter, peaks, and the hash beside them ---- */

struct hash_task {
	const char *path;   /* the original */
	uint8_t digest[32]; /* the result */
	int ret;	    /* 0 or a negative prl_err */
	struct prl_buf err; /* why it failed */
};

static void *hash_thread(void *arg)
{
	struct hash_task *h = arg;

	h->ret = prl_sha256_file(h->path, h->digest, &h->err);
	return NULL;
}

/* ---- pass 2: one copy ---- */

struct copy_task {
	const char *src;     /* the original */
	struct encoder *enc; /* where the audio goes; finished here */
	float gain;	     /* linear */
	atomic_int *stop;    /* set when the other half failed */
	int64_t bytes;	     /* size of the finished copy */
	/* when run on the calling thread: progress as frames go by */
	const struct prl_transcode_job *job;
	int64_t done_before, total;
	int ret;	    /* 0 or a negative prl_err */
	struct prl_buf err; /* why it failed */
};

static int run_copy(struct copy_task *t)
{
	struct prl_audio_info info;
	struct reader *r = NULL;
	int64_t done = 0;
	float *data;
	int n, blocks = 0, ret;

	if ((ret = reader_open(&r, t->src, &info, NULL, &t->err)) < 0)
		goto end;
	while ((n = reader_next(r, &data, &t->err)) > 0) {
		if (atomic_load(t->stop)) {
			ret = -PRL_ECODEC; /* the other half's error is the one to report */
			goto end;
		}
		if ((ret = encoder_write(t->enc, data, (size_t)n, t->gain, &t->err)) < 0)
			goto end;
		done += n;
		if (t->job && t->job->progress && ++blocks % PROGRESS_EVERY == 0)
			t->job->progress(t->job->progress_ctx, t->done_before + done, t->total);
	}
	if ((ret = n) < 0)
		goto end;
	ret = encoder_finish(t->enc, &t->bytes, &t->err);
end:
	if (ret < 0)
		atomic_store(t->stop, 1);
	reader_free(&r);
	t->ret = ret;
	return ret;
}

static void *copy_thread(void *arg)
{
	run_copy(arg);
	return NULL;
}

/* Folds a block to stereo as the encoders will (same rate, so no delay:
 * one frame out for each in) and meters it. */
static int fold_add(SwrContext *fold, struct meter *m, const float *data, int n, float **buf,
		    size_t *cap)
{
	const uint8_t *in[1] = {(const uint8_t *)data};
	uint8_t *outp[1];
	int got;

	if ((size_t)n > *cap) {
		float *b = realloc(*buf, (size_t)n * 2 * sizeof(float));

		if (!b)
			return -PRL_ENOMEM;
		*buf = b;
		*cap = (size_t)n;
	}
	outp[0] = (uint8_t *)*buf;
	if ((got = swr_convert(fold, outp, n, in, n)) < 0)
		return -PRL_ECODEC;
	return got ? meter_add(m, *buf, (size_t)got) : 0;
}

/* ---- the run ---- */

static void set_err(struct prl_buf *err, const struct prl_buf *why, int ret)
{
	if (!err)
		return;
	prl_buf_reset(err);
	if (why && why->len)
		prl_buf_add(err, why->data, why->len);
	else
		prl_buf_addstr(err, prl_strerror(ret));
}

static int64_t ms_of(int64_t frames, int rate)
{
	return (frames * 1000 + rate / 2) / rate;
}

/* Everything one run holds, released in one place (run_release). */
struct run {
	const struct prl_transcode_job *job;
	struct prl_transcode_result out; /* what the caller gets on success */
	struct output outs[3];		 /* peaks, opus, mp3: removed on failure */
	struct reader *r;		 /* pass 1's decoder */
	struct peaks *peaks;		 /* or NULL: no peaks asked for */
	struct encoder *opus, *mp3;	 /* or NULL: that copy not asked for */
	struct meter *meter;		 /* the source's loudness */
	struct meter *fold_meter;	 /* the stereo fold's, above two channels */
	SwrContext *fold;		 /* the fold itself, or NULL */
	float *fold_buf;		 /* one folded block */
	size_t fold_cap;		 /* frames fold_buf holds */
	struct hash_task hash;		 /* the original's SHA-256, on its own thread */
	pthread_t hash_tid;
	int hashing;	    /* hash_tid runs and must be joined */
	struct prl_buf why; /* the first reason a step failed */
};

/* Opens the source and creates every output before any audio is decoded,
 * so an unwritable folder fails at once. */
static int run_open(struct run *run)
{
	const struct prl_transcode_job *job = run->job;
	struct prl_audio_info *info = &run->out.info;
	int ret;

	if ((ret = reader_open(&run->r, job->src_path, info, &run->out.tags, &run->why)) < 0)
		return ret;
	claim(&run->outs[0], job->peaks_path);
	claim(&run->outs[1], job->opus_path);
	claim(&run->outs[2], job->mp3_path);
	if (job->peaks_path && (ret = peaks_open(&run->peaks, job->peaks_path, info->sample_rate,
						 info->channels, &run->why)) < 0)
		return ret;
	if (job->opus_path &&
	    (ret = encoder_open(&run->opus, ENCODER_OPUS, job->opus_path, reader_layout(run->r),
				info->sample_rate, &run->why)) < 0)
		return ret;
	if (job->mp3_path &&
	    (ret = encoder_open(&run->mp3, ENCODER_MP3, job->mp3_path, reader_layout(run->r),
				info->sample_rate, &run->why)) < 0)
		return ret;
	if ((ret = meter_new(&run->meter, reader_layout(run->r), info->sample_rate)) < 0)
		return ret;
	if ((run->opus || run->mp3) && info->channels > 2) {
		AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;

		if ((ret = transcode_swr_new(&run->fold, reader_layout(run->r), info->sample_rate,
					     &stereo, AV_SAMPLE_FMT_FLT, info->sample_rate)) < 0) {
			prl_buf_addstr(&run->why, "cannot set up the stereo fold");
			return transcode_averr(ret, -PRL_ECODEC);
		}
		if ((ret = meter_new(&run->fold_meter, &stereo, info->sample_rate)) < 0)
			return ret;
	}
	return 0;
}

/* Pass 1: decodes once into the meters and the peaks while a second
 * thread hashes the original; then sets the result's length, loudness,
 * hash and the copies' gain.  *frames gets the frames really decoded. */
static int run_measure(struct run *run, int64_t *frames_out)
{
	const struct prl_transcode_job *job = run->job;
	struct prl_transcode_result *out = &run->out;
	struct prl_loudness fold_loudness;
	int ncopies = (run->opus != NULL) + (run->mp3 != NULL), blocks = 0, n, ret;
	int64_t frames = 0, total = out->info.frames * (ncopies ? 2 : 1), declared;
	float *data;

	/* The hash reads the file on its own: the decoders read through
	 * their own buffers and some (libsndfile) seek, so hashing what they
	 * read would not be the file's bytes in order. */
	run->hash.path = job->src_path;
	if (pthread_create(&run->hash_tid, NULL, hash_thread, &run->hash) != 0)
		return -PRL_ENOMEM;
	run->hashing = 1;
	while ((n = reader_next(run->r, &data, &run->why)) > 0) {
		if ((ret = meter_add(run->meter, data, (size_t)n)) < 0)
			return ret;
		if (run->peaks && (ret = peaks_add(run->peaks, data, (size_t)n, &run->why)) < 0)
			return ret;
		if (run->fold && (ret = fold_add(run->fold, run->fold_meter, data, n,
						 &run->fold_buf, &run->fold_cap)) < 0)
			return ret;
		frames += n;
		if (job->progress && ++blocks % PROGRESS_EVERY == 0)
			job->progress(job->progress_ctx, frames, total > frames ? total : frames);
	}
	if (n < 0)
		return n;
	pthread_join(run->hash_tid, NULL);
	run->hashing = 0;
	if (run->hash.ret < 0) {
		prl_buf_reset(&run->why);
		if (run->hash.err.len)
			prl_buf_add(&run->why, run->hash.err.data, run->hash.err.len);
		return run->hash.ret;
	}
	if (frames == 0) {
		prl_buf_addstr(&run->why, "no audio: the file holds a header but no samples");
		return -PRL_EFORMAT;
	}
	/* A recording cut short (a recorder that lost power, a copy that
	 * stopped) is kept with the audio it really holds: that audio is
	 * what the archive must not lose, and the header's promise is
	 * worth nothing.  info.frames is the real length; the promise is
	 * reported in declared_frames. */
	declared = reader_declared_frames(run->r);
	reader_free(&run->r);
	out->info.frames = frames;
	out->info.declared_frames = declared;
	out->info.duration_ms = ms_of(frames, out->info.sample_rate);
	if ((ret = meter_finish(run->meter, &out->loudness)) < 0)
		return ret;
	fold_loudness = out->loudness;
	if (run->fold_meter && (ret = meter_finish(run->fold_meter, &fold_loudness)) < 0)
		return ret;
	memcpy(out->sha256, run->hash.digest, sizeof(out->sha256));
	if (run->peaks && (ret = peaks_finish(run->peaks, &out->peaks_bytes, &run->why)) < 0)
		return ret;
	out->gain_db =
		ncopies ? prl_gain_for(&fold_loudness, job->target_lufs, job->max_true_peak_dbtp)
			: 0;
	*frames_out = frames;
	return 0;
}

/* Pass 2: the first copy on this thread (it reports progress), the
 * second on a worker; each decodes the file for itself. */
static int run_copies(struct run *run, int64_t frames)
{
	const struct prl_transcode_job *job = run->job;
	struct copy_task copies[2];
	pthread_t copy_tid;
	atomic_int stop;
	int64_t total = 2 * frames;
	int copying = 0, bad, ret = 0, i;

	memset(copies, 0, sizeof(copies));
	atomic_init(&stop, 0);
	for (i = 0; i < 2; i++) {
		copies[i].src = job->src_path;
		copies[i].gain = (float)pow(10.0, run->out.gain_db / 20.0);
		copies[i].stop = &stop;
	}
	copies[0].enc = run->opus ? run->opus : run->mp3;
	copies[1].enc = run->opus ? run->mp3 : NULL;
	copies[0].job = job;
	copies[0].done_before = frames;
	copies[0].total = total;
	if (copies[1].enc) {
		if (pthread_create(&copy_tid, NULL, copy_thread, &copies[1]) != 0) {
			ret = -PRL_ENOMEM;
			goto end;
		}
		copying = 1;
	}
	if (copies[0].enc)
		run_copy(&copies[0]);
	if (copying) {
		pthread_join(copy_tid, NULL);
		copying = 0;
	}
	/* When one copy fails the other stops with no message of its own:
	 * report the one that says why. */
	bad = -1;
	for (i = 1; i >= 0; i--)
		if (copies[i].enc && copies[i].ret < 0 && (bad < 0 || copies[i].err.len))
			bad = i;
	if (bad >= 0) {
		ret = copies[bad].ret;
		if (copies[bad].err.len)
			prl_buf_add(&run->why, copies[bad].err.data, copies[bad].err.len);
		goto end;
	}
	run->out.opus_bytes = run->opus ? copies[0].bytes : 0;
	run->out.mp3_bytes = run->mp3 ? copies[run->opus ? 1 : 0].bytes : 0;
	if (job->progress)
		job->progress(job->progress_ctx, total, total);
end:
	if (copying) {
		atomic_store(&stop, 1);
		pthread_join(copy_tid, NULL);
	}
	for (i = 0; i < 2; i++)
		prl_buf_release(&copies[i].err);
	return ret;
}

/* Frees what the run holds; after a failure, removes the outputs it
 * created and says why in err. */
static void run_release(struct run *run, int ret, struct prl_buf *err)
{
	int i;

	if (run->hashing) {
		/* The hash cannot be interrupted; it finishes in seconds. */
		pthread_join(run->hash_tid, NULL);
	}
	encoder_free(&run->mp3);
	encoder_free(&run->opus);
	peaks_free(&run->peaks);
	meter_free(&run->fold_meter);
	meter_free(&run->meter);
	swr_free(&run->fold);
	free(run->fold_buf);
	reader_free(&run->r);
	prl_buf_release(&run->hash.err);
	if (ret < 0) {
		for (i = 2; i >= 0; i--)
			discard(&run->outs[i]);
		set_err(err, &run->why, ret);
	}
	prl_buf_release(&run->why);
	prl_transcode_result_clear(&run->out);
}

int prl_transcode_run(const struct prl_transcode_job *job, struct prl_transcode_result *res,
		      struct prl_buf *err)
{
	struct run run;
	int64_t frames = 0;
	int ret;

	memset(&run, 0, sizeof(run));
	prl_buf_init(&run.why);
	prl_buf_init(&run.hash.err);
	run.job = job;
	if (!job || !job->src_path || !res) {
		ret = -PRL_EINVAL;
		goto end;
	}
	transcode_quiet();
	if ((ret = run_open(&run)) < 0 || (ret = run_measure(&run, &frames)) < 0 ||
	    (ret = run_copies(&run, frames)) < 0)
		goto end;
	*res = run.out;
	memset(&run.out, 0, sizeof(run.out));
end:
	run_release(&run, ret, err);
	return ret;
}
