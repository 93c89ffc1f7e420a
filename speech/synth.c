/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Speech synthesis for alignment, with libespeak-ng: a line of text in,
 * the samples of a voice saying it out.  espeak-ng keeps one global
 * synthesiser per process, so every call goes through one lock; it is
 * initialised once, in synchronous mode (no audio device, no thread), and
 * reads its voices from the data folder Debian installs.
 *
 * Always holds: the voice is chosen on every call, so calls for different
 * languages do not disturb each other; nothing is printed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>

#include "speech-internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_rate; /* 0 until initialised, -1 when that failed */

struct collected {
	float *x;
	size_t n, cap;
	int failed;
};

static int on_audio(short *wav, int numsamples, espeak_EVENT *events)
{
	struct collected *c = events ? events->user_data : NULL;

	if (!c || !wav || numsamples <= 0)
		return 0;
	if (c->n + (size_t)numsamples > c->cap) {
		size_t cap = (c->cap ? c->cap * 2 : 65536) + (size_t)numsamples;
		float *g = realloc(c->x, cap * sizeof(*g));

		if (!g) {
			c->failed = 1;
			return 1; /* stops the synthesis */
		}
		c->x = g;
		c->cap = cap;
	}
	for (int i = 0; i < numsamples; i++)
		c->x[c->n++] = (float)wav[i] / 32768.0f;
	return 0;
}

int synth_text(const char *language, const char *text, float **samples, size_t *n, int *rate,
	       struct prl_buf *err)
{
	struct collected c = {0};
	int ret = 0;

	pthread_mutex_lock(&lock);
	if (espeak_rate == 0) {
		espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
						espeakINITIALIZE_DONT_EXIT);
		if (espeak_rate <= 0)
			espeak_rate = -1;
		else
			espeak_SetSynthCallback(on_audio);
	}
	if (espeak_rate < 0) {
		ret = -PRL_ECODEC;
		if (err)
			prl_buf_addstr(err,
				       "the espeak-ng synthesiser cannot start (is espeak-ng-data "
				       "installed?)");
		goto end;
	}
	/* by name, which espeak-ng resolves to one voice file whatever was
	 * used before ("fr" is French of France); a code it does not know
	 * finds nothing */
	if (espeak_SetVoiceByName(language) != EE_OK) {
		ret = -PRL_ENOTFOUND;
		if (err)
			prl_buf_addf(err, "espeak-ng has no voice for language \"%s\"", language);
		goto end;
	}
	if (espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &c) !=
		    EE_OK ||
	    c.failed) {
		ret = c.failed ? -PRL_ENOMEM : -PRL_ECODEC;
		if (err)
			prl_buf_addstr(err, "espeak-ng could not say a line");
		goto end;
	}
	*samples = c.x;
	*n = c.n;
	*rate = espeak_rate;
	c.x = NULL;
end:
	pthread_mutex_unlock(&lock);
	free(c.x);
	return ret;
}
