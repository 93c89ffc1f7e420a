/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers common: the error codes every module returns, and the one growable
 * byte buffer used to build strings, JSON, XML and SQL parameters.
 *
 * Invariants: a struct prl_buf's data is always NUL-terminated (when data is
 * not NULL) so it can be handed to C string functions; len never counts the
 * terminator.  Functions that fail leave their output parameters untouched.
 */
#ifndef PARLERS_COMMON_H
#define PARLERS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: functions return 0 on success or one of these, negated. */
enum prl_err {
	PRL_OK = 0,
	PRL_ENOMEM = 1,	       /* an allocation failed */
	PRL_EIO = 2,	       /* reading or writing a file failed (see errno text) */
	PRL_EFORMAT = 3,       /* input is not in the format it claims to be */
	PRL_EINVAL = 4,	       /* an argument or a value is out of its domain */
	PRL_ENOTFOUND = 5,     /* the thing asked for does not exist */
	PRL_EACCESS = 6,       /* the caller may not see or do this */
	PRL_ESQL = 7,	       /* the SQLite store failed */
	PRL_EEXIST = 8,	       /* the thing is already there (duplicate) */
	PRL_ECODEC = 9,	       /* decoding or encoding audio failed */
	PRL_EVERSION = 10,     /* the archive was written by a newer parlers */
	PRL_ECONFLICT = 11,    /* someone else changed it first */
	PRL_ENOSPC = 12,       /* the disk is full */
	PRL_EUNSUPPORTED = 13, /* valid input this version cannot handle */
	PRL_ELIMIT = 14,       /* too many attempts: wait before trying again */
	PRL_EBUSY = 15,	       /* another program holds the archive's write lock */
	PRL_ECANCELED = 16,    /* the work was cancelled before it ended */
};

/* A static English sentence for err (positive or negative). */
const char *prl_strerror(int err);

/* A growable byte buffer, always NUL-terminated.  Initialise with
 * PRL_BUF_INIT or prl_buf_init(); release with prl_buf_release().
 * The only way to take the bytes away is prl_buf_detach(). */
struct prl_buf {
	char *data;   /* the bytes, NUL-terminated; NULL while nothing was added */
	size_t len;   /* bytes used, terminator excluded */
	size_t alloc; /* bytes allocated */
};

#define PRL_BUF_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void prl_buf_init(struct prl_buf *b);
/* Frees the storage and leaves b empty and reusable. Accepts NULL. */
void prl_buf_release(struct prl_buf *b);
/* Makes room for extra more bytes. Returns 0 or -PRL_ENOMEM. */
int prl_buf_grow(struct prl_buf *b, size_t extra);
int prl_buf_add(struct prl_buf *b, const void *data, size_t len);
int prl_buf_addstr(struct prl_buf *b, const char *s);
int prl_buf_addch(struct prl_buf *b, char c);
int prl_buf_addf(struct prl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int prl_buf_vaddf(struct prl_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Empties b but keeps its storage. */
void prl_buf_reset(struct prl_buf *b);
/* Hands the bytes to the caller, who frees them with free(); b becomes empty.
 * Never returns NULL unless memory is exhausted (an empty buffer gives ""). */
char *prl_buf_detach(struct prl_buf *b, size_t *len);
/* The buffer as a C string ("" when empty). */
const char *prl_buf_str(const struct prl_buf *b);

/* JSON output helpers: a quoted, escaped JSON string (NULL gives null).
 * Invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid. */
int prl_json_str(struct prl_buf *b, const char *s);
int prl_json_strn(struct prl_buf *b, const char *s, size_t n);
/* XML text and attribute escaping (&, <, >, ", ') into b; invalid UTF-8 and
 * characters XML 1.0 forbids are replaced by U+FFFD. */
int prl_xml_escape(struct prl_buf *b, const char *s);

/* Reads a whole file into *out (NUL-terminated, owned by the caller).
 * max_bytes bounds what the caller is willing to hold (0: no bound);
 * a larger file gives -PRL_EINVAL. Returns 0, -PRL_EIO or -PRL_ENOMEM. */
int prl_read_file(const char *path, size_t max_bytes, struct prl_buf *out);

/* True when s (len bytes) is well-formed UTF-8 (no overlongs, no surrogates). */
int prl_utf8_valid(const char *s, size_t len);

/* Appends code point cp to b as UTF-8 (utf8proc's encoder, the one every
 * module uses); a surrogate or a value past U+10FFFF appends U+FFFD.
 * Returns 0 or -PRL_ENOMEM. */
int prl_buf_add_utf8(struct prl_buf *b, uint32_t cp);

/* Appends len bytes of s to b: as they are when they are valid UTF-8, else
 * read as Latin-1 (whose code points are its byte values), the fallback for
 * text that older tools wrote in their code page.  Returns 0 or
 * -PRL_ENOMEM. */
int prl_buf_add_utf8_or_latin1(struct prl_buf *b, const char *s, size_t len);

#endif
