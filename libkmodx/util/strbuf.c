// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

int strbuf_reserve(struct strbuf *sb, size_t n)
{
	size_t max = sb->max ? sb->max : STRBUF_DEFAULT_MAX;
	size_t need, cap;
	char *p;

	if (add_overflows(sb->len, n, &need) || add_overflows(need, 1, &need))
		return -E2BIG;
	if (need > max)
		return -E2BIG;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > max / 2 ? max : cap * 2;
	/* the first allocation may exceed a small maximum: never grow past it */
	cap = MIN(cap, max);
	p = realloc(sb->buf, cap);
	if (p == NULL)
		return -ENOMEM;
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int strbuf_append(struct strbuf *sb, const void *data, size_t n)
{
	int r = strbuf_reserve(sb, n);

	if (r < 0)
		return r;
	if (n > 0)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int strbuf_putc(struct strbuf *sb, char c)
{
	return strbuf_append(sb, &c, 1);
}

int strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n, r;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	r = strbuf_reserve(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return r;
}

const char *strbuf_str(struct strbuf *sb)
{
	if (strbuf_reserve(sb, 0) < 0)
		return NULL;
	sb->buf[sb->len] = '\0';
	return sb->buf;
}

char *strbuf_steal(struct strbuf *sb)
{
	char *s;

	if (strbuf_str(sb) == NULL)
		return NULL;
	s = sb->buf;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}
