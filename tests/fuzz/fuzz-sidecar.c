/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for the metadata sidecar parser (NAME.json beside an audio
 * file): any bytes give either a sidecar or one line saying why not, and a
 * failed parse leaves nothing allocated.
 */
#include <stdlib.h>

#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_buf err = PRL_BUF_INIT, warn = PRL_BUF_INIT;
	struct sidecar sc;

	if (sidecar_parse((const char *)data, size, &sc, &err, &warn) == 0)
		sidecar_clear(&sc);
	else if (!err.len)
		abort(); /* a refusal always says why */
	prl_buf_release(&err);
	prl_buf_release(&warn);
	return 0;
}
