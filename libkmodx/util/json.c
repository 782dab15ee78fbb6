// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void json_writer_init(struct json_writer *w, struct strbuf *sb, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->sb = sb;
	w->flags = flags;
}

void json_writer_init_file(struct json_writer *w, FILE *f, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->flags = flags;
}

int json_writer_error(const struct json_writer *w)
{
	return w->err;
}

static int fail(struct json_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

static int put(struct json_writer *w, const void *data, size_t n)
{
	if (w->err)
		return w->err;
	if (n == 0)
		return 0;
	if (w->sb) {
		int r = strbuf_append(w->sb, data, n);

		return r < 0 ? fail(w, r) : 0;
	}
	errno = 0;
	if (fwrite(data, 1, n, w->f) != n)
		return fail(w, errno > 0 ? -errno : -EIO);
	return 0;
}

static int puts_(struct json_writer *w, const char *s)
{
	return put(w, s, strlen(s));
}

static int newline_indent(struct json_writer *w, unsigned depth)
{
	static const char spaces[] = "                                ";

	if (!(w->flags & JSON_PRETTY))
		return 0;
	put(w, "\n", 1);
	for (unsigned i = 0; i < depth; i++)
		put(w, spaces, 2);
	return w->err;
}

/* The comma and line break that come before an element or a member. */
static int separate(struct json_writer *w)
{
	if (w->level[w->depth - 1].nonempty)
		put(w, ",", 1);
	w->level[w->depth - 1].nonempty = true;
	return newline_indent(w, w->depth);
}

static int before_value(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (w->depth == 0)
		return w->done ? fail(w, -EINVAL) : 0;
	if (!w->level[w->depth - 1].object)
		return separate(w);
	if (!w->have_key)
		return fail(w, -EINVAL);
	w->have_key = false;
	return 0;
}

static int after_value(struct json_writer *w)
{
	if (w->depth == 0 && w->err == 0) {
		w->done = true;
		if (w->flags & JSON_PRETTY)
			put(w, "\n", 1);
	}
	return w->err;
}

/*
 * The length of the well-formed UTF-8 sequence at s, following Unicode's table 3-7;
 * 0 if there is none, with *bad set to the length of the maximal ill-formed subpart
 * to replace (at least 1).
 */
static size_t utf8_len(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	*bad = 1;
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	for (i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* The code point of a one- or two-byte sequence, the only ones that may need an
 * escape; 0x100 for longer ones. */
static unsigned small_cp(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	if (len == 2 && s[0] == 0xc2)
		return s[1]; /* U+0080-U+00BF */
	return 0x100;
}

/* The escape for a control character (C0, DEL, C1 as its code point), else NULL. */
static const char *escape_for(unsigned cp, char buf[8])
{
	switch (cp) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
		snprintf(buf, 8, "\\u%04x", cp);
		return buf;
	}
	return NULL;
}

static int write_string(struct json_writer *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0, i = 0;

	put(w, "\"", 1);
	while (i < n && w->err == 0) {
		size_t bad, len = utf8_len(s + i, n - i, &bad);
		char buf[8];
		const char *esc =
			len ? escape_for(small_cp(s + i, len), buf) : "\xef\xbf\xbd";

		if (esc == NULL) {
			i += len;
			run += len;
			continue;
		}
		/* flush the run of bytes that need nothing, then the replacement */
		put(w, s + i - run, run);
		puts_(w, esc);
		i += len ? len : bad;
		run = 0;
	}
	put(w, s + i - run, run);
	return put(w, "\"", 1);
}

static int begin(struct json_writer *w, bool object)
{
	if (before_value(w) < 0)
		return w->err;
	if (w->depth == JSON_MAX_DEPTH)
		return fail(w, -E2BIG);
	w->level[w->depth].object = object;
	w->level[w->depth].nonempty = false;
	w->depth++;
	return put(w, object ? "{" : "[", 1);
}

static int end(struct json_writer *w, bool object)
{
	if (w->err)
		return w->err;
	if (w->depth == 0 || w->level[w->depth - 1].object != object || w->have_key)
		return fail(w, -EINVAL);
	w->depth--;
	if (w->level[w->depth].nonempty)
		newline_indent(w, w->depth);
	put(w, object ? "}" : "]", 1);
	return after_value(w);
}

int json_object_begin(struct json_writer *w)
{
	return begin(w, true);
}

int json_object_end(struct json_writer *w)
{
	return end(w, true);
}

int json_array_begin(struct json_writer *w)
{
	return begin(w, false);
}

int json_array_end(struct json_writer *w)
{
	return end(w, false);
}

int json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return w->err;
	if (key == NULL || w->depth == 0 || !w->level[w->depth - 1].object || w->have_key)
		return fail(w, -EINVAL);
	separate(w);
	write_string(w, key, strlen(key));
	puts_(w, w->flags & JSON_PRETTY ? ": " : ":");
	w->have_key = true;
	return w->err;
}

int json_string_n(struct json_writer *w, const char *s, size_t n)
{
	if (before_value(w) < 0)
		return w->err;
	write_string(w, s, n);
	return after_value(w);
}

int json_string(struct json_writer *w, const char *s)
{
	return s ? json_string_n(w, s, strlen(s)) : json_null(w);
}

static int literal(struct json_writer *w, const char *text)
{
	if (before_value(w) < 0)
		return w->err;
	puts_(w, text);
	return after_value(w);
}

int json_int(struct json_writer *w, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return literal(w, buf);
}

int json_uint(struct json_writer *w, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return literal(w, buf);
}

int json_bool(struct json_writer *w, bool v)
{
	return literal(w, v ? "true" : "false");
}

int json_null(struct json_writer *w)
{
	return literal(w, "null");
}

int json_member_string(struct json_writer *w, const char *key, const char *s)
{
	return json_key(w, key) < 0 ? w->err : json_string(w, s);
}

int json_member_int(struct json_writer *w, const char *key, int64_t v)
{
	return json_key(w, key) < 0 ? w->err : json_int(w, v);
}

int json_member_uint(struct json_writer *w, const char *key, uint64_t v)
{
	return json_key(w, key) < 0 ? w->err : json_uint(w, v);
}

int json_member_bool(struct json_writer *w, const char *key, bool v)
{
	return json_key(w, key) < 0 ? w->err : json_bool(w, v);
}

int json_member_null(struct json_writer *w, const char *key)
{
	return json_key(w, key) < 0 ? w->err : json_null(w);
}

int json_writer_finish(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->done)
		return fail(w, -EINVAL);
	return 0;
}
