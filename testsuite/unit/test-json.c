// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkmodx/util/json: layout, escaping, ill-formed UTF-8 (expected strings computed
 * with Python's bytes.decode("utf-8", "replace"), which the header promises to match),
 * grammar checks and sticky errors, and both sinks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/json.h"

#define FFFD "\xef\xbf\xbd"

/* The document made of one string value of n bytes. */
static char *one_string(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	json_writer_init(&w, &sb, 0);
	assert_int_equal(json_string_n(&w, s, n), 0);
	assert_int_equal(json_writer_finish(&w), 0);
	return strbuf_steal(&sb);
}

static void check_string(const char *in, size_t n, const char *expected)
{
	char *out = one_string(in, n);

	assert_string_equal(out, expected);
	free(out);
}

#define CHECK(in, expected) check_string(in, sizeof(in) - 1, expected)

static void test_compact_document(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, 0);
	assert_int_equal(json_object_begin(&w), 0);
	assert_int_equal(json_member_string(&w, "name", "loop"), 0);
	assert_int_equal(json_member_int(&w, "neg", INT64_MIN), 0);
	assert_int_equal(json_member_int(&w, "pos", INT64_MAX), 0);
	assert_int_equal(json_member_uint(&w, "big", UINT64_MAX), 0);
	assert_int_equal(json_member_bool(&w, "t", true), 0);
	assert_int_equal(json_member_bool(&w, "f", false), 0);
	assert_int_equal(json_member_null(&w, "n"), 0);
	assert_int_equal(json_member_string(&w, "s", NULL), 0);
	assert_int_equal(json_key(&w, "a"), 0);
	assert_int_equal(json_array_begin(&w), 0);
	assert_int_equal(json_uint(&w, 1), 0);
	assert_int_equal(json_object_begin(&w), 0);
	assert_int_equal(json_object_end(&w), 0);
	assert_int_equal(json_array_begin(&w), 0);
	assert_int_equal(json_array_end(&w), 0);
	assert_int_equal(json_string(&w, ""), 0);
	assert_int_equal(json_array_end(&w), 0);
	assert_int_equal(json_object_end(&w), 0);
	assert_int_equal(json_writer_finish(&w), 0);
	assert_string_equal(strbuf_str(&sb),
			    "{\"name\":\"loop\",\"neg\":-9223372036854775808,"
			    "\"pos\":9223372036854775807,\"big\":18446744073709551615,"
			    "\"t\":true,\"f\":false,\"n\":null,\"s\":null,"
			    "\"a\":[1,{},[],\"\"]}");
	strbuf_release(&sb);
}

static void test_pretty_document(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, JSON_PRETTY);
	json_object_begin(&w);
	json_member_uint(&w, "schema", 1);
	json_key(&w, "list");
	json_array_begin(&w);
	json_object_begin(&w);
	json_member_string(&w, "k", "v");
	json_key(&w, "empty");
	json_array_begin(&w);
	json_array_end(&w);
	json_object_end(&w);
	json_bool(&w, true);
	json_array_end(&w);
	json_key(&w, "o");
	json_object_begin(&w);
	json_object_end(&w);
	json_object_end(&w);
	assert_int_equal(json_writer_finish(&w), 0);
	assert_string_equal(strbuf_str(&sb), "{\n"
					     "  \"schema\": 1,\n"
					     "  \"list\": [\n"
					     "    {\n"
					     "      \"k\": \"v\",\n"
					     "      \"empty\": []\n"
					     "    },\n"
					     "    true\n"
					     "  ],\n"
					     "  \"o\": {}\n"
					     "}\n");
	strbuf_release(&sb);
	/* a scalar document is one line */
	json_writer_init(&w, &sb, JSON_PRETTY);
	json_int(&w, -3);
	assert_int_equal(json_writer_finish(&w), 0);
	assert_string_equal(strbuf_str(&sb), "-3\n");
	strbuf_release(&sb);
}

static void test_escapes(void **state)
{
	char in[0x20], expected[0x20 * 6 + 3];
	size_t len = 0;

	(void)state;
	CHECK("plain ascii / slash", "\"plain ascii / slash\"");
	CHECK("q\"b\\", "\"q\\\"b\\\\\"");
	CHECK("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	CHECK("a\0b", "\"a\\u0000b\"");
	CHECK("\x7f", "\"\\u007f\"");
	/* C1 controls are escaped; the characters after them are not */
	CHECK("\xc2\x80\xc2\x9f\xc2\xa0\xc3\xa9", "\"\\u0080\\u009f\xc2\xa0\xc3\xa9\"");
	/* every C0 control: short forms where JSON has them, \u00xx otherwise */
	expected[len++] = '"';
	for (int c = 0; c < 0x20; c++) {
		const char *shortform = strchr("\b\f\n\r\t", c);

		in[c] = (char)c;
		if (c != 0 && shortform)
			len += (size_t)sprintf(expected + len, "\\%c",
					       "bfnrt"[shortform - "\b\f\n\r\t"]);
		else
			len += (size_t)sprintf(expected + len, "\\u%04x", c);
	}
	strcpy(expected + len, "\"");
	check_string(in, sizeof(in), expected);
}

static void test_utf8(void **state)
{
	(void)state;
	/* well-formed sequences of every length, including the extremes, are kept */
	CHECK("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	CHECK("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
	CHECK("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	CHECK("\xed\x9f\xbf\xee\x80\x80", "\"\xed\x9f\xbf\xee\x80\x80\"");
	/* Unicode's own example of maximal subparts */
	CHECK("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	      "\"a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d\"");
	/* overlong forms, surrogates, above U+10FFFF, bytes never used: one per byte */
	CHECK("\xc0\xaf", "\"" FFFD FFFD "\"");
	CHECK("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	CHECK("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
	CHECK("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	CHECK("\xf5", "\"" FFFD "\"");
	/* truncated at the end of the string: one replacement for the whole prefix */
	CHECK("x\xe2\x82", "\"x" FFFD "\"");
	CHECK("\xc3\xa9\xff\xc3", "\"\xc3\xa9" FFFD FFFD "\"");
	/* a NUL in the middle of a sequence ends it and is escaped itself */
	CHECK("\xe2\x00", "\"" FFFD "\\u0000\"");
}

static void test_keys_escaped(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, 0);
	json_object_begin(&w);
	json_member_string(&w, "a\"\n\xff", "x");
	json_object_end(&w);
	assert_int_equal(json_writer_finish(&w), 0);
	assert_string_equal(strbuf_str(&sb), "{\"a\\\"\\n" FFFD "\":\"x\"}");
	strbuf_release(&sb);
}

/* Run a misuse after a valid prefix: the misuse and every later call return -EINVAL,
 * and the output is what the prefix wrote. */
static void check_misuse(void (*prefix)(struct json_writer *),
			 int (*misuse)(struct json_writer *), const char *written)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	json_writer_init(&w, &sb, 0);
	if (prefix)
		prefix(&w);
	assert_int_equal(json_writer_error(&w), 0);
	assert_int_equal(misuse(&w), -EINVAL);
	assert_int_equal(json_string(&w, "more"), -EINVAL);
	assert_int_equal(json_object_end(&w), -EINVAL);
	assert_int_equal(json_writer_finish(&w), -EINVAL);
	assert_string_equal(strbuf_str(&sb), written);
	strbuf_release(&sb);
}

static void p_object(struct json_writer *w)
{
	json_object_begin(w);
}

static void p_key(struct json_writer *w)
{
	json_object_begin(w);
	json_key(w, "k");
}

static void p_array(struct json_writer *w)
{
	json_array_begin(w);
}

static void p_done(struct json_writer *w)
{
	json_null(w);
}

static int m_key(struct json_writer *w)
{
	return json_key(w, "k");
}

static int m_null_key(struct json_writer *w)
{
	return json_key(w, NULL);
}

static int m_value(struct json_writer *w)
{
	return json_uint(w, 1);
}

static int m_end_object(struct json_writer *w)
{
	return json_object_end(w);
}

static int m_end_array(struct json_writer *w)
{
	return json_array_end(w);
}

static void test_grammar(void **state)
{
	(void)state;
	check_misuse(NULL, m_key, "");		      /* key at top level */
	check_misuse(p_array, m_key, "[");	      /* key in an array */
	check_misuse(p_key, m_key, "{\"k\":");	      /* two keys in a row */
	check_misuse(p_object, m_null_key, "{");      /* NULL key */
	check_misuse(p_object, m_value, "{");	      /* value without key */
	check_misuse(p_key, m_end_object, "{\"k\":"); /* end with the key pending */
	check_misuse(p_object, m_end_array, "{");     /* ] for { */
	check_misuse(p_array, m_end_object, "[");     /* } for [ */
	check_misuse(NULL, m_end_array, "");	      /* end of nothing */
	check_misuse(p_done, m_value, "null");	      /* second top-level value */
	check_misuse(p_done, m_end_object, "null");   /* end after the document */
}

static void test_finish_incomplete(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, 0);
	assert_int_equal(json_writer_finish(&w), -EINVAL); /* nothing written */
	json_writer_init(&w, &sb, 0);
	json_array_begin(&w);
	json_array_begin(&w);
	json_array_end(&w);
	assert_int_equal(json_writer_error(&w), 0);
	assert_int_equal(json_writer_finish(&w), -EINVAL); /* still open */
	strbuf_release(&sb);
}

static void test_depth(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, 0);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		assert_int_equal(json_array_begin(&w), 0);
	assert_int_equal(json_array_begin(&w), -E2BIG);
	assert_int_equal(json_object_begin(&w), -E2BIG);
	assert_int_equal(sb.len, JSON_MAX_DEPTH);
	assert_int_equal(json_writer_finish(&w), -E2BIG);
	/* the maximum itself closes cleanly */
	strbuf_release(&sb);
	json_writer_init(&w, &sb, JSON_PRETTY);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_object_begin(&w), json_key(&w, "k");
	json_null(&w);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_object_end(&w);
	assert_int_equal(json_writer_finish(&w), 0);
	/* the innermost member is indented by two spaces per level */
	assert_non_null(strstr(strbuf_str(&sb),
			       "\n"
			       "                                "
			       "                                \"k\": null\n"));
	strbuf_release(&sb);
}

static void test_strbuf_full(void **state)
{
	struct strbuf sb = {.max = 8};
	struct json_writer w;

	(void)state;
	json_writer_init(&w, &sb, 0);
	json_array_begin(&w);
	assert_int_equal(json_string(&w, "a long string"), -E2BIG);
	assert_int_equal(json_array_end(&w), -E2BIG);
	assert_int_equal(json_writer_finish(&w), -E2BIG);
	strbuf_release(&sb);
}

static void test_file_sink(void **state)
{
	char buf[64] = "";
	struct json_writer w;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(f);
	json_writer_init_file(&w, f, 0);
	json_array_begin(&w);
	json_string(&w, "\x01");
	json_int(&w, 7);
	json_array_end(&w);
	assert_int_equal(json_writer_finish(&w), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "[\"\\u0001\",7]");

	/* a write error reaches the caller, as the errno stdio saw */
	f = fopen("/dev/full", "w");
	if (f == NULL)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	json_writer_init_file(&w, f, 0);
	assert_int_equal(json_string(&w, "x"), -ENOSPC);
	assert_int_equal(json_writer_finish(&w), -ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_document),
		cmocka_unit_test(test_pretty_document),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_finish_incomplete),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_strbuf_full),
		cmocka_unit_test(test_file_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
