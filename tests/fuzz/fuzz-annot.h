/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What every annotation fuzz target does with its input: read it in one
 * format and, when that succeeds, validate the document and write it in
 * every format, so the writers see whatever shapes the readers accept.
 * Nothing may crash, leak or trip a sanitizer; errors are the normal case.
 */
#ifndef PARLERS_FUZZ_ANNOT_H
#define PARLERS_FUZZ_ANNOT_H

#include <stddef.h>
#include <stdint.h>

#include "parlers/annot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_annot(enum prl_annot_format f, const uint8_t *data, size_t size)
{
	static const enum prl_annot_format all[] = {PRL_FMT_EAF, PRL_FMT_TEXTGRID, PRL_FMT_VTT,
						    PRL_FMT_SRT, PRL_FMT_CSV,	   PRL_FMT_JSON,
						    PRL_FMT_TEI};
	struct prl_buf err = PRL_BUF_INIT, warn = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_annot_doc *d = NULL;
	size_t i;

	if (prl_annot_read(f, (const char *)data, size, &d, &err, &warn) == 0) {
		prl_annot_validate(d, -1, &err);
		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			prl_buf_reset(&out);
			prl_annot_write(all[i], d, NULL, &out, &warn);
		}
		prl_annot_doc_free(d);
	}
	prl_buf_release(&err);
	prl_buf_release(&warn);
	prl_buf_release(&out);
	return 0;
}

#define FUZZ_ANNOT_TARGET(fmt)                                                                     \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
	{                                                                                          \
		return fuzz_annot(fmt, data, size);                                                \
	}

#endif
