/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sentence for each prl_err.  Kept in step with the enum in common.h. */
#include "parlers/common.h"

const char *prl_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch ((enum prl_err)err) {
	case PRL_OK:
		return "success";
	case PRL_ENOMEM:
		return "out of memory";
	case PRL_EIO:
		return "input/output error";
	case PRL_EFORMAT:
		return "not in the expected format";
	case PRL_EINVAL:
		return "invalid value";
	case PRL_ENOTFOUND:
		return "not found";
	case PRL_EACCESS:
		return "not allowed";
	case PRL_ESQL:
		return "database error";
	case PRL_EEXIST:
		return "already exists";
	case PRL_ECODEC:
		return "audio could not be decoded or encoded";
	case PRL_EVERSION:
		return "made by a newer version of parlers";
	case PRL_ECONFLICT:
		return "changed by someone else first";
	case PRL_ENOSPC:
		return "no space left on device";
	case PRL_EUNSUPPORTED:
		return "not supported";
	case PRL_ELIMIT:
		return "too many attempts; try again later";
	case PRL_EBUSY:
		return "the archive is being written by another program; try again later";
	case PRL_ECANCELED:
		return "cancelled before it ended";
	}
	return "unknown error";
}
