/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A growable byte buffer with a hard maximum size, for building strings and reading
 * untrusted input: appends past the maximum fail with -E2BIG instead of growing.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

#define STRBUF_DEFAULT_MAX ((size_t)256 << 20)

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max; /* 0 means STRBUF_DEFAULT_MAX */
};

#define STRBUF_INIT                                  \
	{                                            \
		.buf = NULL, .len = 0, .cap = 0, .max = 0 \
	}

void strbuf_release(struct strbuf *sb);
/* Make room for n more bytes plus a NUL; 0, -ENOMEM or -E2BIG. */
int strbuf_reserve(struct strbuf *sb, size_t n);
int strbuf_append(struct strbuf *sb, const void *data, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_putc(struct strbuf *sb, char c);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
int strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap) _printf_(2, 0);
/* The contents as a NUL-terminated string ("" for an empty buffer); never NULL
 * unless allocation failed. Owned by the buffer. */
const char *strbuf_str(struct strbuf *sb);
/* Hand the NUL-terminated contents to the caller, who frees them; the buffer is
 * left empty. NULL on allocation failure. */
char *strbuf_steal(struct strbuf *sb);

static inline void strbuf_clear(struct strbuf *sb)
{
	sb->len = 0;
}

static inline void strbuf_releasep(struct strbuf *sb)
{
	strbuf_release(sb);
}
