/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Running a recognizer the operator declared: the recording decoded to a
 * 16 kHz mono 16-bit WAV (what whisper.cpp, Vosk and PocketSphinx all
 * read) in a private temporary folder, the command run under /bin/sh in a
 * process group of its own, its output read until it ends or the time is
 * up.  Always holds: the command never outlives the call (its whole
 * process group is killed when it ends or times out), and the temporary
 * folder, with whatever the command left in it, is gone when the call
 * returns, whether it ended, failed, timed out or was stopped by its
 * caller's tick (a job cancelled).  Safe to call from a server thread: the
 * child only calls async-signal-safe functions before exec.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parlers/transcode.h"
#include "recognizer.h"

#define STDERR_KEEP 2048  /* bytes of the command's error output kept for the message */
#define TICK_EVERY_S 0.25 /* how often the caller's tick is called */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The caller's tick, called at most every TICK_EVERY_S. */
struct ticker {
	recognizer_tick fn; /* or NULL */
	void *ctx;
	enum recognizer_phase phase;
	double start, last;
};

/* 0, or -PRL_ECANCELED once the tick asks to stop. */
static int tick(struct ticker *t)
{
	double now;

	if (!t->fn)
		return 0;
	now = now_s();
	if (now - t->last < TICK_EVERY_S)
		return 0;
	t->last = now;
	return t->fn(t->ctx, t->phase, now - t->start) ? -PRL_ECANCELED : 0;
}

struct wav_sink {
	SNDFILE *sf;
	struct ticker *t;
};

static int write_block(void *ctx, const float *samples, size_t n)
{
	struct wav_sink *w = ctx;

	if (sf_write_float(w->sf, samples, (sf_count_t)n) != (sf_count_t)n)
		return -PRL_EIO;
	return tick(w->t);
}

/* The recording at src as a 16 kHz mono 16-bit WAV at dst. */
static int write_wav(const char *src, const char *dst, struct ticker *t, struct prl_buf *err)
{
	SF_INFO info = {
		.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(dst, SFM_WRITE, &info);
	struct wav_sink w = {sf, t};
	int ret;

	if (!sf) {
		prl_buf_addf(err, "cannot write the recognizer's audio: %s", sf_strerror(NULL));
		return -PRL_EIO;
	}
	ret = prl_audio_read_mono(src, 16000, write_block, &w, NULL, err);
	if (ret == -PRL_EIO && !err->len)
		prl_buf_addstr(err, "cannot write the recognizer's audio (is the disk full?)");
	if (sf_close(sf) != 0 && ret == 0) {
		prl_buf_addstr(err, "cannot write the recognizer's audio");
		ret = -PRL_EIO;
	}
	return ret;
}

/* r's command with each {wav} replaced by the single-quoted path. */
static int command_line(const char *cmd, const char *wav, struct prl_buf *out)
{
	const char *p = cmd, *hit;

	while ((hit = strstr(p, "{wav}"))) {
		prl_buf_add(out, p, (size_t)(hit - p));
		prl_buf_addch(out, '\'');
		prl_buf_addstr(out, wav);
		prl_buf_addch(out, '\'');
		p = hit + 5;
	}
	return prl_buf_addstr(out, p);
}

/* The last non-empty line of the command's error output, or "". */
static void last_line(const struct prl_buf *b, struct prl_buf *out)
{
	size_t end = b->len, start;

	while (end &&
	       (b->data[end - 1] == '\n' || b->data[end - 1] == '\r' || b->data[end - 1] == ' '))
		end--;
	start = end;
	while (start && b->data[start - 1] != '\n')
		start--;
	if (end > start + 200)
		end = start + 200;
	prl_buf_add(out, b->data ? b->data + start : "", end - start);
}

/* Runs line under /bin/sh; its output into out. */
static int run_command(const struct recognizer *r, const char *line, int timeout_s,
		       struct ticker *t, struct prl_buf *out, struct prl_buf *err)
{
	struct prl_buf errout = PRL_BUF_INIT, why = PRL_BUF_INIT;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, devnull, status = 0, ret = 0;
	int open_fds = 2, killed = 0, too_much = 0, stopped = 0;
	double deadline = now_s() + timeout_s;
	char chunk[65536];
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		prl_buf_addf(err, "cannot start recognizer '%s': %s", r->name, strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	if ((pid = fork()) < 0) {
		prl_buf_addf(err, "cannot start recognizer '%s': %s", r->name, strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	if (pid == 0) {
		setpgid(0, 0);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	while (open_fds > 0) {
		struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		double left = deadline - now_s();
		int k, n;

		if (left <= 0) {
			killed = 1;
			break;
		}
		if (tick(t) < 0) {
			stopped = 1;
			break;
		}
		if (t->fn && left > TICK_EVERY_S)
			left = TICK_EVERY_S;
		n = poll(fds, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (k = 0; k < 2; k++) {
			ssize_t got;

			if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(fds[k].fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(fds[k].fd);
				if (k == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				open_fds--;
				continue;
			}
			if (k == 0) {
				if (out->len + (size_t)got > RECOGNIZER_OUTPUT_MAX) {
					too_much = 1;
					break;
				}
				if (prl_buf_add(out, chunk, (size_t)got) < 0) {
					too_much = 1;
					break;
				}
			} else {
				prl_buf_add(&errout, chunk, (size_t)got);
				if (errout.len > 2 * STDERR_KEEP) {
					memmove(errout.data, errout.data + errout.len - STDERR_KEEP,
						STDERR_KEEP);
					errout.len = STDERR_KEEP;
					errout.data[errout.len] = '\0';
				}
			}
		}
		if (too_much)
			break;
	}
	/* its output closed: it has until the deadline to exit */
	while (!killed && !too_much && !stopped) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (now_s() >= deadline) {
			killed = 1;
			break;
		}
		if (tick(t) < 0) {
			stopped = 1;
			break;
		}
		usleep(20000);
	}
	/* nothing it started outlives the call */
	kill(-pid, SIGKILL);
	if (killed || too_much || stopped)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (stopped) {
		prl_buf_addf(err, "recognizer '%s' was stopped before it finished", r->name);
		ret = -PRL_ECANCELED;
	} else if (killed) {
		prl_buf_addf(err, "recognizer '%s' did not finish within %d s and was stopped",
			     r->name, timeout_s);
		ret = -PRL_EINVAL;
	} else if (too_much) {
		prl_buf_addf(err, "recognizer '%s' wrote more than %u MiB and was stopped", r->name,
			     RECOGNIZER_OUTPUT_MAX >> 20);
		ret = -PRL_EINVAL;
	} else if (WIFSIGNALED(status)) {
		prl_buf_addf(err, "recognizer '%s' was killed by signal %d", r->name,
			     WTERMSIG(status));
		ret = -PRL_EIO;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		last_line(&errout, &why);
		prl_buf_addf(err, "recognizer '%s' failed (exit status %d)%s%s", r->name,
			     WIFEXITED(status) ? WEXITSTATUS(status) : -1, why.len ? ": " : "",
			     why.len ? why.data : "");
		ret = -PRL_EIO;
	}
end:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	prl_buf_release(&errout);
	prl_buf_release(&why);
	return ret;
}

/* Removes folder and the files a recognizer may have left in it. */
static void remove_folder(const char *folder)
{
	struct prl_buf path = PRL_BUF_INIT;
	struct dirent *e;
	DIR *d = opendir(folder);

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		prl_buf_reset(&path);
		prl_buf_addf(&path, "%s/%s", folder, e->d_name);
		if (path.data)
			unlink(path.data);
	}
	if (d)
		closedir(d);
	rmdir(folder);
	prl_buf_release(&path);
}

int recognizer_run(const struct recognizer *r, const char *media_path, int timeout_s,
		   recognizer_tick tick_fn, void *tick_ctx, struct prl_buf *out,
		   struct prl_buf *err)
{
	struct prl_buf dir = PRL_BUF_INIT, wav = PRL_BUF_INIT, line = PRL_BUF_INIT;
	struct ticker t = {tick_fn, tick_ctx, RECOGNIZER_DECODING, now_s(), 0};
	const char *tmp = getenv("TMPDIR");
	int ret, made = 0;

	if (!tmp || !*tmp || strchr(tmp, '\''))
		tmp = "/tmp";
	prl_buf_addf(&dir, "%s/parlers-recognize-XXXXXX", tmp);
	if (!dir.data || !mkdtemp(dir.data)) {
		prl_buf_addf(err, "cannot make a temporary folder in %s: %s", tmp, strerror(errno));
		ret = -PRL_EIO;
		goto end;
	}
	made = 1;
	prl_buf_addf(&wav, "%s/audio.wav", dir.data);
	if ((ret = write_wav(media_path, wav.data, &t, err)) < 0) {
		if (ret == -PRL_ECANCELED && !err->len)
			prl_buf_addf(err, "recognizer '%s' was stopped before it started", r->name);
		goto end;
	}
	if ((ret = command_line(r->command, wav.data, &line)) < 0)
		goto end;
	t.phase = RECOGNIZER_RUNNING;
	t.start = now_s();
	t.last = 0;
	ret = run_command(r, line.data, timeout_s > 0 ? timeout_s : r->timeout_s, &t, out, err);
end:
	if (made)
		remove_folder(dir.data);
	prl_buf_release(&dir);
	prl_buf_release(&wav);
	prl_buf_release(&line);
	return ret;
}
