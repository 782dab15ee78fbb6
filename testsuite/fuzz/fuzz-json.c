// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON writer, round trip: the input describes a document (or, with bit 0 of the
 * first byte, any sequence of writer calls, valid or not). The output is parsed back by
 * a strict parser written here, which must accept exactly one value, no raw control
 * character, only well-formed UTF-8, and must give back the events written, with each
 * string as json.h says: ill-formed UTF-8 replaced per maximal subpart by U+FFFD. The
 * harness decides well-formedness its own way (a sequence is well-formed if it is the
 * encoding of a scalar value, a prefix is valid if some encoding starts with it), not
 * the writer's way (Unicode's table 3-7).
 *
 * First byte: bit 0 free-form calls, bit 1 JSON_PRETTY, bit 2 a 64-byte strbuf maximum
 * (documents that do not fit must fail with -E2BIG and nothing else).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "fuzz.h"
#include "util/json.h"

/* ---- the reference UTF-8 rules ---- */

static uint8_t prefix2[256 * 256 / 8], prefix3[256 * 256 * 256 / 8];

static size_t encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

static void init_prefixes(void)
{
	static bool done;
	uint8_t b[4];

	if (done)
		return;
	done = true;
	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = encode(cp, b);
		if (n >= 3)
			prefix2[(b[0] << 8 | b[1]) / 8] |= (uint8_t)(1 << (b[1] % 8));
		if (n >= 4)
			prefix3[(b[0] << 16 | b[1] << 8 | b[2]) / 8] |=
				(uint8_t)(1 << (b[2] % 8));
	}
}

/* A valid proper prefix of some encoding (of length k, 1 to 3). */
static bool is_prefix(const uint8_t *s, size_t k)
{
	if (k == 1)
		return s[0] >= 0xc2 && s[0] <= 0xf4;
	if (k == 2)
		return (prefix2[(s[0] << 8 | s[1]) / 8] >> (s[1] % 8)) & 1;
	return (prefix3[(s[0] << 16 | s[1] << 8 | s[2]) / 8] >> (s[2] % 8)) & 1;
}

/* The length of the encoding of a scalar value at s, or 0. */
static size_t scalar_at(const uint8_t *s, size_t n)
{
	for (size_t len = 1; len <= 4 && len <= n; len++) {
		static const uint8_t lead_bits[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
		uint32_t cp = s[0] & lead_bits[len];
		uint8_t b[4];

		for (size_t i = 1; i < len; i++)
			cp = cp << 6 | (s[i] & 0x3f);
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			continue;
		if (encode(cp, b) == len && memcmp(b, s, len) == 0)
			return len;
	}
	return 0;
}

/* s as json.h promises to write it, decoded. */
static void expected_string(const uint8_t *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n;) {
		size_t len = scalar_at(s + i, n - i), k = 1;

		if (len) {
			strbuf_append(out, s + i, len);
			i += len;
			continue;
		}
		/* the longest valid prefix: a lead byte that is no prefix stands alone */
		while (k < 3 && i + k < n && is_prefix(s + i, k + 1))
			k++;
		strbuf_puts(out, "\xef\xbf\xbd");
		i += k;
	}
}

/* ---- events: what was written, and what the parser found ---- */

enum {
	EV_OBJ = 'o',
	EV_ARR = 'a',
	EV_END = 'e',
	EV_KEY = 'k',
	EV_STR = 's',
	EV_NUM = 'n'
};

static void event(struct strbuf *ev, char type, const void *data, size_t n)
{
	strbuf_putc(ev, type);
	strbuf_append(ev, &n, sizeof(n));
	strbuf_append(ev, data, n);
}

/* ---- the strict parser ---- */

struct parser {
	const uint8_t *s;
	size_t n, i;
	struct strbuf *ev;
	int depth;
};

static void skip_ws(struct parser *p)
{
	while (p->i < p->n && strchr(" \t\n\r", p->s[p->i]) && p->s[p->i])
		p->i++;
}

static bool lit(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->n - p->i < n || memcmp(p->s + p->i, word, n) != 0)
		return false;
	p->i += n;
	return true;
}

static int hexval(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static bool parse_string(struct parser *p, char type)
{
	struct strbuf sb = STRBUF_INIT;
	bool ok = false;

	if (!lit(p, "\""))
		return false;
	while (p->i < p->n) {
		uint8_t c = p->s[p->i];
		size_t len;

		if (c == '"') {
			p->i++;
			event(p->ev, type, sb.buf, sb.len);
			ok = true;
			break;
		}
		if (c < 0x20)
			break; /* raw control character */
		if (c == '\\') {
			const char *esc = "\"\"\\\\//b\bf\fn\nr\rt\t";
			const char *m = p->i + 1 < p->n && p->s[p->i + 1]
						? strchr(esc, p->s[p->i + 1])
						: NULL;
			uint32_t cp = 0;
			uint8_t b[4];

			if (m && p->s[p->i + 1] != 'u' && (m - esc) % 2 == 0) {
				strbuf_putc(&sb, m[1]);
				p->i += 2;
				continue;
			}
			if (p->i + 6 > p->n || p->s[p->i + 1] != 'u')
				break;
			for (int k = 2; k < 6; k++) {
				int h = hexval(p->s[p->i + k]);

				if (h < 0)
					goto out;
				cp = cp << 4 | (uint32_t)h;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				break; /* the writer never needs a surrogate */
			strbuf_append(&sb, b, encode(cp, b));
			p->i += 6;
			continue;
		}
		len = scalar_at(p->s + p->i, p->n - p->i);
		if (len == 0)
			break; /* invalid UTF-8 in the document */
		strbuf_append(&sb, p->s + p->i, len);
		p->i += len;
	}
out:
	strbuf_release(&sb);
	return ok;
}

static bool parse_value(struct parser *p);

static bool parse_container(struct parser *p, bool object)
{
	char close = object ? '}' : ']';
	bool first = true;

	event(p->ev, object ? EV_OBJ : EV_ARR, "", 0);
	p->i++;
	if (++p->depth > 64)
		return false;
	for (;;) {
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == close && first) {
			p->i++;
			break;
		}
		if (!first && !lit(p, ","))
			return false;
		skip_ws(p);
		if (object) {
			if (!parse_string(p, EV_KEY))
				return false;
			skip_ws(p);
			if (!lit(p, ":"))
				return false;
		}
		if (!parse_value(p))
			return false;
		first = false;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			break;
		}
	}
	p->depth--;
	event(p->ev, EV_END, "", 0);
	return true;
}

static bool parse_value(struct parser *p)
{
	size_t start;

	skip_ws(p);
	if (p->i >= p->n)
		return false;
	switch (p->s[p->i]) {
	case '{':
		return parse_container(p, true);
	case '[':
		return parse_container(p, false);
	case '"':
		return parse_string(p, EV_STR);
	}
	start = p->i;
	if (lit(p, "true") || lit(p, "false") || lit(p, "null")) {
		/* literals are recorded as their text, like numbers */
		event(p->ev, EV_NUM, p->s + start, p->i - start);
		return true;
	}
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
		return false;
	if (p->s[p->i] == '0' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' &&
	    p->s[p->i + 1] <= '9')
		return false; /* leading zero */
	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	event(p->ev, EV_NUM, p->s + start, p->i - start);
	return true;
}

static bool parse_document(const struct strbuf *doc, struct strbuf *ev)
{
	struct parser p = {(const uint8_t *)doc->buf, doc->len, 0, ev, 0};

	if (doc->len == 0 || !parse_value(&p))
		return false;
	skip_ws(&p);
	return p.i == p.n;
}

/* ---- driving the writer ---- */

struct input {
	const uint8_t *d;
	size_t n;
};

static uint8_t take(struct input *in)
{
	uint8_t b = in->n ? in->d[0] : 0;

	if (in->n) {
		in->d++;
		in->n--;
	}
	return b;
}

static size_t take_string(struct input *in, const uint8_t **s)
{
	size_t want = take(in), len = MIN(want, in->n); /* MIN evaluates twice */

	*s = in->d;
	in->d += len;
	in->n -= len;
	return len;
}

static void take_number(struct input *in, char *buf, size_t size, bool is_signed)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take(in);
	if (is_signed)
		snprintf(buf, size, "%" PRId64, (int64_t)v);
	else
		snprintf(buf, size, "%" PRIu64, v);
}

/* A well-formed document; its events as the parser must find them. Returns false when
 * it went deeper than the writer allows (the writer must then fail). */
static bool write_value(struct json_writer *w, struct input *in, struct strbuf *ev,
			int depth)
{
	uint8_t op = take(in) % 7;
	const uint8_t *s;
	char num[32];
	size_t n;
	bool ok = true;

	if ((op == 0 || op == 1) && depth >= JSON_MAX_DEPTH) {
		/* one level too deep: the writer must refuse it */
		if ((op == 0 ? json_object_begin(w) : json_array_begin(w)) != -E2BIG)
			abort();
		return false;
	}
	switch (op) {
	case 0:
	case 1:
		if (op == 0)
			json_object_begin(w);
		else
			json_array_begin(w);
		event(ev, op == 0 ? EV_OBJ : EV_ARR, "", 0);
		n = take(in) % 6;
		for (size_t i = 0; ok && i < n && in->n; i++) {
			if (op == 0) {
				struct strbuf k = STRBUF_INIT;
				char key[260];
				size_t len = take_string(in, &s);

				/* keys are C strings: up to the first NUL */
				len = strnlen((const char *)s, len);
				memcpy(key, s, len);
				key[len] = '\0';
				json_key(w, key);
				expected_string((const uint8_t *)key, len, &k);
				event(ev, EV_KEY, k.buf, k.len);
				strbuf_release(&k);
			}
			ok = write_value(w, in, ev, depth + 1);
		}
		if (op == 0)
			json_object_end(w);
		else
			json_array_end(w);
		event(ev, EV_END, "", 0);
		return ok;
	case 2: {
		struct strbuf e = STRBUF_INIT;

		n = take_string(in, &s);
		json_string_n(w, (const char *)s, n);
		expected_string(s, n, &e);
		event(ev, EV_STR, e.buf, e.len);
		strbuf_release(&e);
		return true;
	}
	case 3:
	case 4:
		take_number(in, num, sizeof(num), op == 3);
		if (op == 3)
			json_int(w, strtoll(num, NULL, 10));
		else
			json_uint(w, strtoull(num, NULL, 10));
		event(ev, EV_NUM, num, strlen(num));
		return true;
	case 5:
		n = take(in) & 1;
		json_bool(w, n);
		event(ev, EV_NUM, n ? "true" : "false", n ? 4 : 5);
		return true;
	default:
		json_null(w);
		event(ev, EV_NUM, "null", 4);
		return true;
	}
}

/* Any calls at all: the writer may refuse them, but whatever it accepts as a finished
 * document must parse, and after its first error it writes nothing more. */
static void free_form(struct json_writer *w, struct strbuf *sb, struct input *in)
{
	size_t at_error = 0;
	bool failed = false;

	while (in->n) {
		const uint8_t *s;
		size_t n;
		int r;

		switch (take(in) % 10) {
		case 0:
			r = json_object_begin(w);
			break;
		case 1:
			r = json_object_end(w);
			break;
		case 2:
			r = json_array_begin(w);
			break;
		case 3:
			r = json_array_end(w);
			break;
		case 4:
			n = take_string(in, &s);
			r = json_key(w, n ? "k" : NULL);
			break;
		case 5:
			n = take_string(in, &s);
			r = json_string_n(w, (const char *)s, n);
			break;
		case 6:
			r = json_int(w, -(int64_t)take(in));
			break;
		case 7:
			r = json_bool(w, take(in) & 1);
			break;
		case 8:
			r = json_member_null(w, "m");
			break;
		default:
			r = json_null(w);
			break;
		}
		if (r < 0 && !failed) {
			failed = true;
			at_error = sb->len;
		}
		if (r < 0 && r != json_writer_error(w))
			abort(); /* the error is sticky */
	}
	if (failed && sb->len != at_error)
		abort();
	if (json_writer_finish(w) == 0) {
		struct strbuf ev = STRBUF_INIT;

		if (failed || !parse_document(sb, &ev))
			abort();
		strbuf_release(&ev);
	}
}

static void check_bytes(const struct strbuf *doc)
{
	for (size_t i = 0; i < doc->len; i++) {
		uint8_t c = (uint8_t)doc->buf[i];

		/* no control character reaches the output raw: C0 (but layout), DEL, C1
		 */
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			abort();
		if (c == 0xc2 && i + 1 < doc->len && (uint8_t)doc->buf[i + 1] <= 0x9f)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	uint8_t flags = take(&in);
	struct strbuf doc = {.max = (flags & 4) ? 64 : 0}, expected = STRBUF_INIT,
		      found = STRBUF_INIT;
	struct json_writer w;
	bool deep_ok;
	int r;

	init_prefixes();
	json_writer_init(&w, &doc, (flags & 2) ? JSON_PRETTY : 0);
	if (flags & 1) {
		free_form(&w, &doc, &in);
	} else {
		deep_ok = write_value(&w, &in, &expected, 0);
		r = json_writer_finish(&w);
		if (!deep_ok) {
			if (r != -E2BIG)
				abort();
		} else if (r == -E2BIG && (flags & 4)) {
			/* too long for the small maximum: nothing else may go wrong */
		} else if (r != 0 || !parse_document(&doc, &found) ||
			   found.len != expected.len ||
			   memcmp(found.buf, expected.buf, found.len) != 0) {
			abort();
		}
	}
	check_bytes(&doc);
	strbuf_release(&doc);
	strbuf_release(&expected);
	strbuf_release(&found);
	return 0;
}
