// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkmodx/util: strbuf, ptrarray, arena, hash, path helpers and glob_match(), the last
 * checked against glibc's fnmatch(pattern, s, 0) on a table and on random inputs.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/arena.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/glob.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strbuf.h"

/* ---- strbuf ---- */

static void test_strbuf_basic(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_string_equal(strbuf_str(&sb), "");
	assert_int_equal(strbuf_puts(&sb, "hello"), 0);
	assert_int_equal(strbuf_putc(&sb, ' '), 0);
	assert_int_equal(strbuf_append(&sb, "worldXXX", 5), 0);
	assert_int_equal(strbuf_printf(&sb, " %d-%s", 42, "x"), 0);
	assert_int_equal(sb.len, strlen("hello world 42-x"));
	assert_string_equal(strbuf_str(&sb), "hello world 42-x");
	strbuf_clear(&sb);
	assert_string_equal(strbuf_str(&sb), "");
	assert_int_equal(strbuf_append(&sb, "", 0), 0);
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_release(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
}

static void test_strbuf_grow_and_steal(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	/* growth across many reallocations keeps every byte */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(strbuf_putc(&sb, (char)('a' + i % 26)), 0);
	assert_int_equal(sb.len, 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(sb.buf[i], 'a' + i % 26);
	/* printf longer than any small internal buffer */
	strbuf_clear(&sb);
	assert_int_equal(strbuf_printf(&sb, "%0300d|%s", 7, "end"), 0);
	assert_int_equal(sb.len, 304);
	assert_string_equal(strbuf_str(&sb) + 300, "|end");
	s = strbuf_steal(&sb);
	assert_non_null(s);
	assert_int_equal(strlen(s), 304);
	free(s);
	/* the buffer is empty and usable after a steal */
	assert_int_equal(sb.len, 0);
	assert_string_equal(strbuf_str(&sb), "");
	s = strbuf_steal(&sb);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	strbuf_release(&sb);
}

static void test_strbuf_max(void **state)
{
	struct strbuf sb = {.max = 16};
	size_t before;

	(void)state;
	assert_int_equal(strbuf_puts(&sb, "0123456789"), 0);
	/* appending far past the maximum fails and changes nothing */
	before = sb.len;
	assert_int_equal(strbuf_puts(&sb, "0123456789"), -E2BIG);
	assert_int_equal(sb.len, before);
	assert_string_equal(strbuf_str(&sb), "0123456789");
	assert_int_equal(strbuf_printf(&sb, "%s", "abcdefghijklmnop"), -E2BIG);
	assert_string_equal(strbuf_str(&sb), "0123456789");
	/* byte by byte: the buffer (with its NUL) never exceeds max */
	while (strbuf_putc(&sb, 'x') == 0)
		assert_true(sb.len < 16);
	assert_true(sb.len >= 14);
	assert_true(sb.cap <= 16);
	assert_int_equal(strbuf_putc(&sb, 'y'), -E2BIG);
	/* size_t overflow in the length computation is refused, not wrapped */
	assert_int_equal(strbuf_reserve(&sb, SIZE_MAX), -E2BIG);
	assert_int_equal(strbuf_reserve(&sb, SIZE_MAX - sb.len), -E2BIG);
	strbuf_release(&sb);
}

/* ---- ptrarray ---- */

static int freed_count;

static void count_free(void *p)
{
	freed_count++;
	free(p);
}

static void test_ptrarray(void **state)
{
	struct ptrarray a = PTRARRAY_INIT;
	int x = 0, y = 0;

	(void)state;
	assert_int_equal(ptrarray_find(&a, &x), -1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ptrarray_push(&a, (void *)(intptr_t)(i + 1)), 0);
	assert_int_equal(a.n, 1000);
	for (int i = 0; i < 1000; i++)
		assert_ptr_equal(a.v[i], (void *)(intptr_t)(i + 1));
	assert_int_equal(ptrarray_find(&a, (void *)(intptr_t)500), 499);
	assert_int_equal(ptrarray_find(&a, &y), -1);
	assert_int_equal(ptrarray_push(&a, NULL), 0);
	assert_int_equal(ptrarray_find(&a, NULL), 1000);
	ptrarray_release(&a);
	assert_int_equal(a.n, 0);
	assert_null(a.v);

	assert_int_equal(ptrarray_reserve(&a, 10), 0);
	assert_true(a.cap >= 10);
	assert_int_equal(a.n, 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(ptrarray_push(&a, malloc(8)), 0);
	freed_count = 0;
	ptrarray_release_with(&a, count_free);
	assert_int_equal(freed_count, 7);
	assert_int_equal(a.n, 0);
	assert_int_not_equal(ptrarray_reserve(&a, SIZE_MAX / 2), 0);
	ptrarray_release(&a);
}

/* ---- arena ---- */

static void test_arena(void **state)
{
	struct arena a = {.chunk_size = 256}, b = ARENA_INIT;
	char *strs[500];
	uint8_t *z;
	char *big;

	(void)state;
	/* many strings across many chunks stay intact and aligned for any scalar */
	for (int i = 0; i < 500; i++) {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "string-%d", i);
		strs[i] = arena_strdup(&a, tmp);
		assert_non_null(strs[i]);
		void *p = arena_alloc(&a, (size_t)(i % 13) + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	for (int i = 0; i < 500; i++) {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "string-%d", i);
		assert_string_equal(strs[i], tmp);
	}
	/* larger than a chunk */
	big = arena_alloc(&a, 10000);
	assert_non_null(big);
	memset(big, 'q', 10000);
	z = arena_zalloc(&a, 300);
	assert_non_null(z);
	for (int i = 0; i < 300; i++)
		assert_int_equal(z[i], 0);
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	assert_string_equal(arena_strndup(&a, "ab", 10), "ab");
	assert_memory_equal(arena_memdup(&a, "x\0y", 3), "x\0y", 3);
	assert_string_equal(strs[0], "string-0");

	/* merge moves everything; releasing the source frees nothing that moved */
	char *kept = arena_strdup(&b, "in b");
	arena_merge(&a, &b);
	assert_null(b.head);
	arena_release(&b);
	assert_string_equal(kept, "in b");
	assert_string_equal(strs[499], "string-499");
	arena_release(&a);
	assert_null(a.head);
	/* a released arena is reusable */
	assert_string_equal(arena_strdup(&a, "again"), "again");
	arena_release(&a);
}

/* ---- hash ---- */

static void test_hash_basic(void **state)
{
	struct hash h = HASH_INIT;
	struct hash_entry *e;
	int one = 1, two = 2;

	(void)state;
	assert_null(hash_find(&h, "absent"));
	assert_false(hash_remove(&h, "absent"));
	assert_int_equal(hash_insert(&h, "a", &e), 1);
	assert_non_null(e);
	assert_null(e->value);
	assert_string_equal(e->key, "a");
	e->value = &one;
	assert_int_equal(hash_insert(&h, "a", &e), 0);
	assert_ptr_equal(e->value, &one);
	assert_ptr_equal(hash_find(&h, "a"), &one);
	/* set replaces */
	assert_int_equal(hash_set(&h, "a", &two), 0);
	assert_ptr_equal(hash_find(&h, "a"), &two);
	assert_int_equal(h.count, 1);
	/* the empty key is a key like any other */
	assert_int_equal(hash_set(&h, "", &one), 0);
	assert_ptr_equal(hash_find(&h, ""), &one);
	assert_int_equal(h.count, 2);
	/* lookups compare content, not the key pointer */
	char key[] = "a";
	assert_ptr_equal(hash_find(&h, key), &two);
	assert_non_null(hash_find_entry(&h, key));
	assert_true(hash_remove(&h, "a"));
	assert_false(hash_remove(&h, "a"));
	assert_null(hash_find(&h, "a"));
	assert_ptr_equal(hash_find(&h, ""), &one);
	assert_int_equal(h.count, 1);
	hash_release(&h);
	assert_null(hash_find(&h, ""));
}

#define NKEYS 5000

static void test_hash_many(void **state)
{
	struct hash h = HASH_INIT;
	static char keys[NKEYS][16];
	static unsigned char seen[NKEYS];

	(void)state;
	for (int i = 0; i < NKEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(hash_set(&h, keys[i], &keys[i]), 0);
	}
	assert_int_equal(h.count, NKEYS);
	for (int i = 0; i < NKEYS; i++)
		assert_ptr_equal(hash_find(&h, keys[i]), &keys[i]);
	/* remove every third key: linear probing must still find the survivors, which
	 * may sit behind a removed slot */
	for (int i = 0; i < NKEYS; i += 3)
		assert_true(hash_remove(&h, keys[i]));
	assert_int_equal(h.count, NKEYS - (NKEYS + 2) / 3);
	for (int i = 0; i < NKEYS; i++) {
		if (i % 3 == 0)
			assert_null(hash_find(&h, keys[i]));
		else
			assert_ptr_equal(hash_find(&h, keys[i]), &keys[i]);
	}
	/* iteration over the slots visits each live key exactly once */
	memset(seen, 0, sizeof(seen));
	size_t live = 0;
	for (size_t s = 0; s < h.n_slots; s++) {
		const struct hash_entry *e = &h.slots[s];

		if (e->key == NULL)
			continue;
		int i = atoi(e->key + 1);
		assert_true(i >= 0 && i < NKEYS);
		assert_int_not_equal(i % 3, 0);
		assert_ptr_equal(e->value, &keys[i]);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		live++;
	}
	assert_int_equal(live, h.count);
	/* re-insert after removal; churn many times in a small table */
	for (int i = 0; i < NKEYS; i += 3)
		assert_int_equal(hash_set(&h, keys[i], &keys[i]), 0);
	assert_int_equal(h.count, NKEYS);
	hash_release(&h);

	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 20; i++)
			assert_int_equal(hash_set(&h, keys[round * 20 + i], &keys[i]), 0);
		for (int i = 0; i < 20; i++)
			assert_true(hash_remove(&h, keys[round * 20 + i]));
		assert_int_equal(h.count, 0);
	}
	assert_null(hash_find(&h, keys[0]));
	hash_release(&h);
}

/*
 * SuperFastHash values pinned from the implementation once the differential depmod test
 * had shown that kmodx writes modules.symbols (14,180 symbols, whose order is hash order)
 * byte for byte as kmod does: a change to the function shows up here first.
 */
static const struct {
	const char *key;
	uint32_t hash;
} sfh_cases[] = {
	{"", 0x00000000u},
	{"a", 0x115ea782u},
	{"ab", 0x516b8b44u},
	{"abc", 0xd2be198au},
	{"abcd", 0xdad8b8dbu},
	{"abcde", 0x51ed072eu},
	{"snd_hda_intel", 0x6e4028a1u},
	{"usb_storage", 0x9f9b2fabu},
	{"ext4", 0xe679ab16u},
	{"x86_pkg_temp_thermal", 0xafe1ea22u},
};

static void test_superfasthash(void **state)
{
	const size_t n = sizeof(sfh_cases) / sizeof(sfh_cases[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(superfasthash(sfh_cases[i].key, strlen(sfh_cases[i].key)),
				 sfh_cases[i].hash);
	/* order: by bucket, then strcmp within a bucket */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			const char *a = sfh_cases[i].key, *b = sfh_cases[j].key;
			uint32_t ba = sfh_cases[i].hash & 511, bb = sfh_cases[j].hash & 511;
			int want = ba != bb ? (ba < bb ? -1 : 1) : strcmp(a, b);
			int got = hash_kmod_order_cmp(a, b, 512);

			assert_int_equal(got < 0, want < 0);
			assert_int_equal(got > 0, want > 0);
		}
	}
}

/* depmod's cache checks itself with the stream: the cuts must not matter, every byte
 * and the length must. */
static void test_hash64_stream(void **state)
{
	static uint8_t data[3 * HASH64_BLOCK + 123];
	static const size_t cuts[] = {1, 7, 8, 31, 32, 33, HASH64_BLOCK - 1, HASH64_BLOCK,
				      HASH64_BLOCK + 1, sizeof(data)};
	struct hash64_stream h;
	uint64_t whole;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + (i >> 8));
	hash64_init(&h, 5);
	hash64_feed(&h, data, sizeof(data));
	whole = hash64_final(&h);
	for (size_t c = 0; c < ARRAY_SIZE(cuts); c++) {
		hash64_init(&h, 5);
		for (size_t off = 0; off < sizeof(data); off += cuts[c])
			hash64_feed(&h, data + off, MIN(cuts[c], sizeof(data) - off));
		assert_int_equal(hash64_final(&h), whole);
	}
	/* a flipped bit anywhere, a byte more, another seed: another hash */
	for (size_t i = 0; i < sizeof(data); i += 97) {
		data[i] ^= 0x10;
		assert_true(hash64(data, sizeof(data), 5) != hash64(data, sizeof(data), 6));
		hash64_init(&h, 5);
		hash64_feed(&h, data, sizeof(data));
		assert_true(hash64_final(&h) != whole);
		data[i] ^= 0x10;
	}
	assert_true(hash64(data, 40, 0) != hash64(data, 41, 0));
	assert_true(hash64_small("abc", 3, 0) != hash64_small("abd", 3, 0));
	assert_true(hash64_small("abc", 3, 0) != hash64_small("abc\0", 4, 0));
	assert_true(hash64_small("abc", 3, 0) == hash64_small("abc", 3, 0));
}

/* ---- path helpers ---- */

static void test_underscores(void **state)
{
	static const struct {
		const char *in, *out;
		int ret;
	} cases[] = {
		{"snd-hda-intel", "snd_hda_intel", 0},
		{"pci:v*d*sv*sd*bc0[a-c]sc*i*", "pci:v*d*sv*sd*bc0[a-c]sc*i*", 0},
		{"a-b[x-y]c-d", "a_b[x-y]c_d", 0},
		{"[-]-[-]", "[-]_[-]", 0},
		{"", "", 0},
		{"plain", "plain", 0},
		{"a-[b", NULL, -EINVAL},
		{"a]-b", NULL, -EINVAL},
		{"[a]]", NULL, -EINVAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		assert_int_equal(underscores(buf), cases[i].ret);
		if (cases[i].out)
			assert_string_equal(buf, cases[i].out);
	}
}

static void test_modname(void **state)
{
	char buf[PATH_MAX];
	size_t len = 99;

	(void)state;
	assert_string_equal(
		modname_from_path("/lib/modules/6.1/kernel/snd-hda.ko.xz", buf),
		"snd_hda");
	assert_string_equal(modname_from_path("foo-bar.ko", buf), "foo_bar");
	assert_string_equal(modname_from_path("dir.d/foo.bar.ko", buf), "foo");
	assert_string_equal(modname_from_path("noext", buf), "noext");
	assert_string_equal(modname_normalize("a-b-c", buf, &len), "a_b_c");
	assert_int_equal(len, 5);
	assert_string_equal(modname_normalize(".ko", buf, &len), "");
	assert_int_equal(len, 0);

	/* a name that does not fit in PATH_MAX gives NULL, no overflow */
	char *huge = malloc(PATH_MAX + 10);
	assert_non_null(huge);
	memset(huge, 'x', PATH_MAX + 9);
	huge[PATH_MAX + 9] = '\0';
	assert_null(modname_normalize(huge, buf, NULL));
	huge[PATH_MAX - 1] = '\0'; /* PATH_MAX - 1 bytes plus NUL fits exactly */
	assert_non_null(modname_normalize(huge, buf, &len));
	assert_int_equal(len, PATH_MAX - 1);
	free(huge);

	assert_true(path_has_module_ext("a.ko"));
	assert_true(path_has_module_ext("/x/a.ko.gz"));
	assert_true(path_has_module_ext("a.ko.xz"));
	assert_true(path_has_module_ext("a.ko.zst"));
	assert_false(path_has_module_ext("a.ko.bz2"));
	assert_false(path_has_module_ext("a.KO"));
	assert_false(path_has_module_ext("a.o"));
	assert_false(path_has_module_ext("ko"));
	assert_false(path_has_module_ext(""));
}

static void test_path_join(void **state)
{
	static const struct {
		const char *a, *b, *out;
	} cases[] = {
		{"/a", "b", "/a/b"},  {"/a/", "b", "/a/b"},
		{"/a", "/b", "/a/b"}, {"/a//", "//b/c", "/a/b/c"},
		{"", "b", "/b"},      {"/", "b", "/b"},
		{"a", "", "a/"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = path_join(cases[i].a, cases[i].b);

		assert_non_null(p);
		assert_string_equal(p, cases[i].out);
		free(p);
	}
	assert_string_equal(path_basename("/a/b/c.ko"), "c.ko");
	assert_string_equal(path_basename("c.ko"), "c.ko");
	assert_string_equal(path_basename("/a/"), "");
	assert_int_equal(path_dirlen("/a/b/c.ko"), 4);
	assert_int_equal(path_dirlen("c.ko"), 0);
	assert_int_equal(path_dirlen("/c.ko"), 0);
}

static void test_mkdir_p_and_files(void **state)
{
	char tmpl[] = "/tmp/kmodx-unit-XXXXXX", path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/a/b/c", tmpl);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(mkdir_p(path, 0755), 0); /* existing is fine */
	snprintf(path, sizeof(path), "%s/a/file", tmpl);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "line one\nline two\n", 18), 0);
	close(fd);
	/* a path through a regular file */
	assert_int_equal(mkdir_p(path, 0755), -ENOTDIR);
	assert_int_equal(read_file_at(AT_FDCWD, path, 1024, &text, &len), 0);
	assert_int_equal(len, 18);
	assert_string_equal(text, "line one\nline two\n");
	free(text);
	text = NULL;
	assert_int_equal(read_file_at(AT_FDCWD, path, 10, &text, &len), -EFBIG);
	assert_null(text);
	char attr[64];
	assert_int_equal(read_attr(path, attr, sizeof(attr)), 0);
	assert_string_equal(attr, "line one");
	snprintf(path, sizeof(path), "%s/missing", tmpl);
	assert_int_equal(read_file_at(AT_FDCWD, path, 10, &text, &len), -ENOENT);
	snprintf(path, sizeof(path), "%s/num", tmpl);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write_all(fd, "1234\n", 5), 0);
	close(fd);
	long v = 0;
	assert_int_equal(read_attr_long(path, &v), 0);
	assert_int_equal(v, 1234);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

/* ---- glob ---- */

static void check_glob(const char *p, const char *s)
{
	bool want = fnmatch(p, s, 0) == 0;
	bool got = glob_match(p, s);

	if (want != got)
		fail_msg("glob_match(\"%s\", \"%s\") = %d, fnmatch says %d", p, s, got,
			 want);
}

static void test_glob_table(void **state)
{
	static const char *const patterns[] = {
		"",
		"*",
		"**",
		"***a",
		"a*",
		"*a",
		"a*b*c",
		"?",
		"??",
		"a?c",
		"*?",
		"?*",
		"[",
		"[]",
		"[!]",
		"[]]",
		"[!]]",
		"[]a]",
		"[!]a]",
		"[a-]",
		"[-a]",
		"[a-c]",
		"[c-a]",
		"[!a-c]",
		"[^a-c]",
		"[a-c-e]",
		"[a--]",
		"[--a]",
		"\\",
		"\\*",
		"\\?",
		"a\\",
		"\\a",
		"[\\]]",
		"[\\",
		"[a",
		"a[",
		"*[",
		"*[a",
		"[*]",
		"[?]",
		"[[]",
		"[[:alpha:]]",
		"[[:digit:]x]",
		"[[:bogus:]]",
		"[[.a.]]",
		"[[=a=]]",
		"a]",
		"]",
		"[!-]",
		"[]-a]",
		"[a-c]*",
		"*[a-c]",
		"pci:v*d*sv*sd*bc0[23]sc*i*",
		"usb:v1D6Bp0002d*dc*dsc*dp*ic09isc*ip*in*",
		"*[!0-9]",
		"[0-9][0-9]",
		"a*[b",
		"x[]y]z",
		"[/]",
		"*/*",
		".*",
		"[.]a",
		"[\x80-\xff]",
		"\xe9*",
		"[\xe9]",
		"*\\[*",
		"[!",
		"[^",
		"[]-]",
		"[a-\\]]",
	};
	static const char *const subjects[] = {
		"",
		"a",
		"b",
		"c",
		"d",
		"ab",
		"abc",
		"aXbYc",
		"[",
		"]",
		"!",
		"-",
		"\\",
		"*",
		"?",
		"a[",
		"[a",
		"[]",
		"x]z",
		"xz",
		"0",
		"00",
		"0a",
		"a/b",
		"/",
		".a",
		".",
		"\xe9",
		"\xe9x",
		"^",
		"aaa",
		"abcabc",
		"pci:v00008086d00001234sv*sd*bc02sc00i00",
		"usb:v1D6Bp0002d0510dc09dsc00dp01ic09isc00ip00in00",
		"=",
		":",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++)
			check_glob(patterns[i], subjects[j]);
	/* and every pattern against itself and with a suffix */
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char buf[128];

		check_glob(patterns[i], patterns[i]);
		snprintf(buf, sizeof(buf), "%sx", patterns[i]);
		check_glob(patterns[i], buf);
	}
	/* a few hand-checked facts, so that a broken fnmatch cannot hide a bug */
	assert_true(glob_match("[]]", "]"));
	assert_true(glob_match("[!]]", "a"));
	assert_false(glob_match("[!]]", "]"));
	assert_true(glob_match("[a-]", "-"));
	assert_true(glob_match("a*b*c", "aXXbYYc"));
	assert_false(glob_match("a*b*c", "aXXbYY"));
	assert_true(glob_match("\\*", "*"));
	assert_false(glob_match("\\*", "a"));
	assert_true(glob_match("[", "["));
	assert_true(glob_match("*", ""));
	assert_false(glob_match("?", ""));
}

static void test_glob_random(void **state)
{
	/* bytes that matter to the matcher, plus a few plain ones */
	static const char alphabet[] = "ab-*?[]!^\\:.\xe9";
	static const char subj_alpha[] = "ab-[]!^\\:.c\xe9";
	unsigned seed = 12345;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		char p[12], s[10];
		int pl = rand_r(&seed) % 11, sl = rand_r(&seed) % 9;

		for (int i = 0; i < pl; i++)
			p[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		p[pl] = '\0';
		for (int i = 0; i < sl; i++)
			s[i] = subj_alpha[rand_r(&seed) % (sizeof(subj_alpha) - 1)];
		s[sl] = '\0';
		check_glob(p, s);
		/* also subjects derived from the pattern, which match far more often */
		for (int i = 0; i < pl && i < 9; i++)
			s[i] = (p[i] == '*' || p[i] == '?') ? 'a' : p[i];
		s[pl < 9 ? pl : 9] = '\0';
		check_glob(p, s);
	}
}

static void test_glob_is_pattern(void **state)
{
	(void)state;
	assert_true(glob_is_pattern("a*"));
	assert_true(glob_is_pattern("?"));
	assert_true(glob_is_pattern("x[ab]"));
	assert_false(glob_is_pattern("snd_hda_intel"));
	assert_false(glob_is_pattern(""));
	assert_false(glob_is_pattern("a]b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_basic),
		cmocka_unit_test(test_strbuf_grow_and_steal),
		cmocka_unit_test(test_strbuf_max),
		cmocka_unit_test(test_ptrarray),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_hash_basic),
		cmocka_unit_test(test_hash_many),
		cmocka_unit_test(test_superfasthash),
		cmocka_unit_test(test_hash64_stream),
		cmocka_unit_test(test_underscores),
		cmocka_unit_test(test_modname),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_mkdir_p_and_files),
		cmocka_unit_test(test_glob_table),
		cmocka_unit_test(test_glob_random),
		cmocka_unit_test(test_glob_is_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
