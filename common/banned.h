/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Functions parlers refuses at compile time, as git's banned.h does: each
 * writes into a buffer without being told its size (strcpy, strcat,
 * sprintf, vsprintf) or cannot be told at all (gets).  Use snprintf,
 * memcpy with a known length, or a struct prl_buf instead.
 *
 * The build forces this header into every translation unit (meson's
 * '-include'), so it first includes the system headers that declare these
 * functions: their include guards keep later includes from meeting the
 * macros below.  A call to a banned function then fails to compile with
 * the function's name in the error.
 */
#ifndef PARLERS_BANNED_H
#define PARLERS_BANNED_H

#include <stdio.h>
#include <string.h>

#define PRL_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) PRL_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PRL_BANNED(strcat)
#undef sprintf
#define sprintf(...) PRL_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PRL_BANNED(vsprintf)
#undef gets
#define gets(x) PRL_BANNED(gets)

#endif
