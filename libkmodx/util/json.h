/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The project's one JSON writer: a streaming writer of RFC 8259 documents into a strbuf
 * or a FILE. It keeps no tree: each call appends, so a document of any size costs only
 * a small fixed-size struct (usable on the stack, no allocation of its own).
 *
 * Usage:
 *
 *	struct json_writer w;
 *
 *	json_writer_init_file(&w, stdout, JSON_PRETTY);
 *	json_object_begin(&w);
 *	json_member_uint(&w, "schema", 1);
 *	json_key(&w, "names");
 *	json_array_begin(&w);
 *	json_string(&w, "loop");
 *	json_array_end(&w);
 *	json_object_end(&w);
 *	r = json_writer_finish(&w);	(0, or the first error of any call above)
 *
 * Errors are sticky: the first failure is remembered, nothing more is written after it,
 * and every later call (json_writer_finish() included) returns it. Callers may
 * therefore check each call or only the last one. Errors:
 *   -EINVAL  misuse of the grammar: a key outside an object or twice in a row, a value
 *            in an object without its key, an end that does not match its begin, a
 *            second top-level value, a NULL key; json_writer_finish() on an unfinished
 *            or empty document;
 *   -E2BIG   nesting deeper than JSON_MAX_DEPTH, or the strbuf's maximum size reached;
 *   -ENOMEM  the strbuf could not grow;
 *   -EIO (or the errno stdio reported)  a write to the FILE failed.
 * Duplicate keys are not detected: callers write each key of an object once.
 *
 * Strings (values and keys) are byte strings as they come from module files and the
 * kernel; they are written as follows, so that the output is always valid UTF-8 JSON
 * whatever the input:
 *   - '"' and '\\' are escaped; \b \f \n \r \t use their short forms;
 *   - every other control character, U+0000-U+001F, U+007F and U+0080-U+009F (C1), is
 *     written \u00XX with lower-case hex, so no raw control byte reaches a terminal;
 *   - well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no surrogates, nothing
 *     above U+10FFFF) is copied as it is;
 *   - each maximal ill-formed subpart (the longest prefix of a well-formed sequence
 *     that is not a complete one, or else a single byte) is replaced by U+FFFD, written
 *     as the raw bytes EF BF BD. This is Unicode's recommended practice and what
 *     Python's bytes.decode("utf-8", "replace") does, so a reader can compute the
 *     expected string from the raw bytes.
 * Embedded NUL bytes need json_string_n(); they come out as \u0000.
 *
 * Numbers are integers only (int64_t and uint64_t, written in decimal). Readers that
 * hold numbers as doubles lose precision above 2^53; nothing kmodx writes gets there
 * except where a value is documented as such.
 *
 * Layout: compact (no whitespace at all) by default. JSON_PRETTY puts each member and
 * element on its own line, indented by two spaces per level, writes `"key": value`
 * with one space, keeps empty containers as {} and [], and ends the document with a
 * newline.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "strbuf.h"

#define JSON_MAX_DEPTH 32

enum json_flags {
	JSON_PRETTY = 1u << 0,
};

/* The fields are private to json.c; the struct is public so it can live on the stack. */
struct json_writer {
	struct strbuf *sb;
	FILE *f;
	unsigned flags;
	int err;
	unsigned depth;
	bool have_key; /* a key was written in the innermost object, its value not yet */
	bool done;     /* the top-level value is complete */
	struct {
		bool object;
		bool nonempty;
	} level[JSON_MAX_DEPTH];
};

/* Write into sb (appended to whatever it holds) or into f; flags from enum json_flags.
 * The writer does not own sb or f. */
void json_writer_init(struct json_writer *w, struct strbuf *sb, unsigned flags);
void json_writer_init_file(struct json_writer *w, FILE *f, unsigned flags);
/* 0 once exactly one complete top-level value was written, else the sticky error or
 * -EINVAL. Does not flush or close the FILE. */
int json_writer_finish(struct json_writer *w);
/* The sticky error so far, or 0. */
int json_writer_error(const struct json_writer *w);

int json_object_begin(struct json_writer *w);
int json_object_end(struct json_writer *w);
int json_array_begin(struct json_writer *w);
int json_array_end(struct json_writer *w);
/* The key of the next member of the innermost object. */
int json_key(struct json_writer *w, const char *key);

/* A string value; json_string(w, NULL) writes null. */
int json_string(struct json_writer *w, const char *s);
int json_string_n(struct json_writer *w, const char *s, size_t n);
int json_int(struct json_writer *w, int64_t v);
int json_uint(struct json_writer *w, uint64_t v);
int json_bool(struct json_writer *w, bool v);
int json_null(struct json_writer *w);

/* json_key() followed by the value. */
int json_member_string(struct json_writer *w, const char *key, const char *s);
int json_member_int(struct json_writer *w, const char *key, int64_t v);
int json_member_uint(struct json_writer *w, const char *key, uint64_t v);
int json_member_bool(struct json_writer *w, const char *key, bool v);
int json_member_null(struct json_writer *w, const char *key);
