// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The .bin index writer (index-write.c) and reader (index.c), checked against the format
 * description (index-format.md): the worked example of §7 byte for byte in both layouts,
 * exact and wildcard lookups (the latter against fnmatch), priority order, hostile
 * files (truncated, wrong header, bad offsets, reference loops), and a trie opened from
 * its file and changed as depmod's cache does it.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "index-format.h"
#include "index-write.h"
#include "index.h"

struct entry {
	const char *key, *value;
	uint32_t prio;
};

/* index-format.md §7, in insertion order */
static const struct entry example[] = {
	{"ask", "v1", 0}, {"ate", "v2", 0}, {"on", "v3", 0},  {"once", "v4", 0},
	{"one", "v5", 0}, {"one", "v6", 1}, {"one", "v7", 0},
};

static uint8_t *read_data(const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf = malloc(65536);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", UNIT_DATA_DIR, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_non_null(buf);
	n = read(fd, buf, 65536);
	close(fd);
	assert_true(n > 0);
	*len = (size_t)n;
	return buf;
}

static void build(const struct entry *e, size_t n, enum index_layout layout,
		  uint8_t **buf, size_t *len)
{
	struct trie *t = NULL;

	assert_int_equal(trie_new(&t), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(trie_add(t, e[i].key, e[i].value, e[i].prio) >= 0);
	assert_int_equal(trie_serialize(t, layout, buf, len), 0);
	trie_free(t);
}

static struct index *build_index(const struct entry *e, size_t n,
				 enum index_layout layout)
{
	struct index *idx = NULL;
	uint8_t *buf;
	size_t len;

	build(e, n, layout, &buf, &len);
	assert_int_equal(index_open_buffer(buf, len, &idx), 0);
	return idx;
}

/* Open a copy of (buf, len); NULL and *err if the reader refuses it. */
static struct index *open_copy(const uint8_t *buf, size_t len, int *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct index *idx = NULL;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	*err = index_open_buffer(copy, len, &idx);
	if (*err < 0) {
		free(copy);
		return NULL;
	}
	return idx;
}

static void test_example_preorder(void **state)
{
	uint8_t *buf, *want;
	size_t len, wantlen;

	(void)state;
	want = read_data("example-pre.bin", &wantlen);
	build(example, 7, INDEX_PREORDER, &buf, &len);
	assert_int_equal(len, wantlen);
	assert_memory_equal(buf, want, len);
	/* spot checks against the listing in §7, independent of the data file */
	assert_int_equal(index_get_u32(buf), 0xB007F457);
	assert_int_equal(index_get_u32(buf + 4), 0x00020001);
	assert_int_equal(index_get_u32(buf + 8), 0x2000000c);
	assert_int_equal(buf[0x0c], 'a');
	assert_int_equal(buf[0x0d], 'o');
	assert_int_equal(index_get_u32(buf + 0x0e), 0x2000004a);
	assert_int_equal(index_get_u32(buf + 0x0e + 14 * 4), 0xe000006e);
	assert_memory_equal(buf + 0x96, "\0\0\0\3\0\0\0\0v7\0\0\0\0\0v5\0\0\0\0\1v6", 23);
	free(buf);
	free(want);
}

static void test_example_postorder(void **state)
{
	uint8_t *buf, *want;
	size_t len, wantlen;

	(void)state;
	want = read_data("example-post.bin", &wantlen);
	build(example, 7, INDEX_POSTORDER, &buf, &len);
	assert_int_equal(len, wantlen);
	assert_memory_equal(buf, want, len);
	free(buf);
	free(want);
}

/* Both layouts of the example read the same (§7: "-R one" gives v5 v7 v6). */
static void test_example_read(void **state)
{
	static const char *const files[] = {"example-pre.bin", "example-post.bin"};

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct index_values vals = {0};
		struct index *idx = NULL;
		const char *v = NULL;
		size_t len;
		uint8_t *buf = read_data(files[f], &len);

		assert_int_equal(index_open_buffer(buf, len, &idx), 0);
		assert_int_equal(index_search(idx, "one", &v), 0);
		assert_string_equal(v, "v7"); /* first on disk: last inserted of prio 0 */
		assert_int_equal(index_search(idx, "ask", &v), 0);
		assert_string_equal(v, "v1");
		assert_int_equal(index_search(idx, "on", &v), 0);
		assert_string_equal(v, "v3");
		assert_int_equal(index_search(idx, "once", &v), 0);
		assert_string_equal(v, "v4");
		assert_int_equal(index_search(idx, "o", &v), -ENOENT);
		assert_int_equal(index_search(idx, "a", &v), -ENOENT);
		assert_int_equal(index_search(idx, "as", &v), -ENOENT);
		assert_int_equal(index_search(idx, "asks", &v), -ENOENT);
		assert_int_equal(index_search(idx, "onces", &v), -ENOENT);
		assert_int_equal(index_search(idx, "", &v), -ENOENT);
		assert_int_equal(index_search(idx, "x", &v), -ENOENT);
		assert_int_equal(index_search(idx, "od", &v), -ENOENT); /* the gap slot */

		assert_int_equal(index_search_wild(idx, "one", &vals), 0);
		assert_int_equal(vals.n, 3);
		assert_string_equal(vals.v[0].value, "v5");
		assert_string_equal(vals.v[1].value, "v7");
		assert_string_equal(vals.v[2].value, "v6");
		assert_int_equal(vals.v[2].priority, 1);
		index_values_release(&vals);
		assert_int_equal(index_search_wild(idx, "on", &vals), 0);
		assert_int_equal(vals.n, 1);
		assert_string_equal(vals.v[0].value, "v3");
		index_values_release(&vals);
		assert_int_equal(index_search_wild(idx, "onc", &vals), 0);
		assert_int_equal(vals.n, 0);
		index_values_release(&vals);
		index_close(idx);
	}
}

struct collect {
	char out[4096];
	size_t len;
	int stop_after;
	int calls;
};

static int collect_fn(void *data, const char *key, const char *value, uint32_t prio)
{
	struct collect *c = data;
	size_t room = sizeof(c->out) - c->len;
	int n = snprintf(c->out + c->len, room, "%s=%s/%u;", key, value, prio);

	c->len += (size_t)n < room ? (size_t)n : room - 1;
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after ? 42 : 0;
}

static void test_foreach_and_dump(void **state)
{
	struct index *idx = build_index(example, 7, INDEX_PREORDER);
	struct collect c = {0};
	char tmpl[] = "/tmp/kmodx-unit-dump-XXXXXX", text[512];
	int fd;
	ssize_t n;

	(void)state;
	assert_int_equal(index_foreach(idx, collect_fn, &c), 0);
	/* key order; a node's values before its children's; values in disk order */
	assert_string_equal(c.out,
			    "ask=v1/0;ate=v2/0;on=v3/0;once=v4/0;one=v7/0;one=v5/0;"
			    "one=v6/1;");
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(index_foreach(idx, collect_fn, &c), 42);
	assert_int_equal(c.calls, 2);

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(index_dump(idx, fd, "alias "), 0);
	n = pread(fd, text, sizeof(text) - 1, 0);
	assert_true(n > 0);
	text[n] = '\0';
	assert_string_equal(text,
			    "alias ask v1\nalias ate v2\nalias on v3\nalias once v4\n"
			    "alias one v7\nalias one v5\nalias one v6\n");
	close(fd);
	index_close(idx);
}

static void test_empty_index(void **state)
{
	struct index_values vals = {0};
	struct collect c = {0};
	struct index *idx;
	const char *v;
	uint8_t *buf;
	size_t len;

	(void)state;
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		build(NULL, 0, (enum index_layout)layout, &buf, &len);
		/* §2.2: just the header, root reference 0x0000000C without flags */
		assert_int_equal(len, 12);
		assert_int_equal(index_get_u32(buf + 8), 0x0000000c);
		assert_int_equal(index_open_buffer(buf, len, &idx), 0);
		assert_int_equal(index_search(idx, "", &v), -ENOENT);
		assert_int_equal(index_search(idx, "a", &v), -ENOENT);
		assert_int_equal(index_search_wild(idx, "a", &vals), 0);
		assert_int_equal(vals.n, 0);
		assert_int_equal(index_foreach(idx, collect_fn, &c), 0);
		assert_int_equal(c.calls, 0);
		index_values_release(&vals);
		index_close(idx);
	}
}

static void test_empty_key_and_prefixes(void **state)
{
	static const struct entry e[] = {
		{"", "root", 5},     {"abc", "abc", 1}, {"ab", "ab", 2},
		{"abcd", "abcd", 3}, {"a", "a", 4},	{"abd", "abd", 0},
		{"b", "b1", 7},	     {"b", "b0", 6},	{"b", "b2", 8},
	};

	(void)state;
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		struct index *idx = build_index(e, sizeof(e) / sizeof(e[0]),
						(enum index_layout)layout);
		struct collect c = {0};
		const char *v;

		for (size_t i = 0; i < 6; i++) {
			assert_int_equal(index_search(idx, e[i].key, &v), 0);
			assert_string_equal(v, e[i].value);
		}
		/* the lowest priority, not the first inserted */
		assert_int_equal(index_search(idx, "b", &v), 0);
		assert_string_equal(v, "b0");
		assert_int_equal(index_search(idx, "abcde", &v), -ENOENT);
		assert_int_equal(index_search(idx, "ac", &v), -ENOENT);
		assert_int_equal(index_foreach(idx, collect_fn, &c), 0);
		assert_string_equal(c.out, "=root/5;a=a/4;ab=ab/2;abc=abc/1;abcd=abcd/3;"
					   "abd=abd/0;b=b0/6;b=b1/7;b=b2/8;");
		index_close(idx);
	}
}

/* §3.1: the trie's shape depends on the key set only. */
static void test_insertion_order_independent(void **state)
{
	static const struct entry fwd[] = {
		{"pci:v00008086d*", "e1000", 1}, {"pci:v00008086d00001234*", "igb", 2},
		{"pci:v000010ECd*", "r8169", 3}, {"usb:v*p*", "usbcore", 4},
		{"usb:v1D6B*", "hub", 5},	 {"u", "u", 6},
	};
	struct entry rev[6];
	uint8_t *a, *b;
	size_t la, lb;

	(void)state;
	for (size_t i = 0; i < 6; i++)
		rev[i] = fwd[5 - i];
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		build(fwd, 6, (enum index_layout)layout, &a, &la);
		build(rev, 6, (enum index_layout)layout, &b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
	}
}

static void test_trie_add_errors(void **state)
{
	struct trie *t = NULL;
	char *longkey;

	(void)state;
	assert_int_equal(trie_new(&t), 0);
	assert_int_equal(trie_add(t, "k", "v", 0), 0);
	assert_int_equal(trie_add(t, "k", "v", 3),
			 1); /* duplicate value: kept, reported */
	assert_int_equal(trie_add(t, "k", "w", 0), 0);
	assert_int_equal(trie_add(t, "k\xc3\xa9", "v", 0), -EILSEQ);
	assert_int_equal(trie_add(t, "k", "v\x80", 0), -EILSEQ);
	longkey = malloc(INDEX_KEY_MAX + 2);
	assert_non_null(longkey);
	memset(longkey, 'x', INDEX_KEY_MAX + 1);
	longkey[INDEX_KEY_MAX + 1] = '\0';
	assert_int_equal(trie_add(t, longkey, "v", 0), -ENAMETOOLONG);
	/* the longest allowed key works and reads back */
	longkey[INDEX_KEY_MAX] = '\0';
	assert_int_equal(trie_add(t, longkey, "long", 0), 0);

	uint8_t *buf;
	size_t len;
	struct index *idx;
	struct index_values vals = {0};
	const char *v;

	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &buf, &len), 0);
	trie_free(t);
	assert_int_equal(index_open_buffer(buf, len, &idx), 0);
	assert_int_equal(index_search(idx, longkey, &v), 0);
	assert_string_equal(v, "long");
	/* the rejected entries left nothing behind */
	assert_int_equal(index_search_wild(idx, "k", &vals), 0);
	assert_int_equal(vals.n, 3);
	/* disk order is w(0) v(0) v(3); reading inserts ties LIFO again (§4.2) */
	assert_string_equal(vals.v[0].value, "v");
	assert_string_equal(vals.v[1].value, "w");
	assert_string_equal(vals.v[2].value, "v");
	assert_int_equal(vals.v[2].priority, 3);
	index_values_release(&vals);
	assert_int_equal(index_search(idx, "k\xc3\xa9", &v), -ENOENT);
	index_close(idx);
	free(longkey);
}

/* ---- wildcard lookups ---- */

static const struct entry aliases[] = {
	{"pci:v00008086d000010D3sv*sd*bc*sc*i*", "e1000e", 10},
	{"pci:v00008086d*sv*sd*bc02sc00i*", "generic_eth", 20},
	{"pci:v*d*sv*sd*bc0Csc03i30*", "xhci_pci", 5},
	{"usb:v*p*d*dc*dsc*dp*ic09isc*ip*in*", "usbcore", 3},
	{"usb:v1D6Bp0002d*", "hub_exact", 3},
	{"snd_hda_intel", "snd_hda_intel", 1},
	{"snd_hda_*", "snd_hda_codec", 2},
	{"snd-?", "sndq", 2},
	{"fs-ext[234]", "ext4", 0},
	{"fs-ext[!234]", "extother", 0},
	{"*", "catchall", 99},
	{"[", "bracket", 7},
	{"a[]b", "weird", 7},
	{"symbol:printk", "core", 0},
	{"char-major-10-*", "misc", 4},
	{"char-major-10-200", "tun", 4},
};

/* What kmod's wildcard search finds: a key's bytes before its first '*', '?' or '['
 * are compared as they are (a backslash there is a byte), the rest is a pattern. */
static bool kmod_wild_match(const char *key, const char *q)
{
	size_t j = strcspn(key, "*?[");

	return strncmp(key, q, j) == 0 && strlen(q) >= j &&
	       fnmatch(key + j, q + j, 0) == 0;
}

static void reference_wild(const struct entry *e, size_t n, const char *q,
			   const char **want, size_t *nwant)
{
	*nwant = 0;
	for (size_t i = 0; i < n; i++) {
		if (kmod_wild_match(e[i].key, q))
			want[(*nwant)++] = e[i].value;
	}
}

static int strcmpp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_wild(struct index *idx, const struct entry *e, size_t n, const char *q)
{
	struct index_values vals = {0};
	const char *want[256], *got[256];
	size_t nwant;

	reference_wild(e, n, q, want, &nwant);
	assert_int_equal(index_search_wild(idx, q, &vals), 0);
	if (vals.n != nwant)
		fail_msg("query \"%s\": %zu results, fnmatch says %zu", q, vals.n, nwant);
	for (size_t i = 0; i < vals.n; i++) {
		got[i] = vals.v[i].value;
		if (i > 0)
			assert_true(vals.v[i - 1].priority <= vals.v[i].priority);
	}
	qsort(got, vals.n, sizeof(got[0]), strcmpp);
	qsort(want, nwant, sizeof(want[0]), strcmpp);
	for (size_t i = 0; i < nwant; i++)
		assert_string_equal(got[i], want[i]);
	index_values_release(&vals);
}

static void test_wild_table(void **state)
{
	static const char *const queries[] = {
		"pci:v00008086d000010D3sv00008086sd00000001bc02sc00i00",
		"pci:v00008086d00001234sv0sd0bc02sc00i00",
		"pci:v000010ECd00008168sv0sd0bc0Csc03i30",
		"usb:v1D6Bp0002d0510dc09dsc00dp01ic09isc00ip00in00",
		"usb:v1D6Bp0003d0510dc09dsc00dp03ic09isc00ip00in00",
		"snd_hda_intel",
		"snd_hda_codec_realtek",
		"snd-x",
		"snd-xy",
		"fs-ext4",
		"fs-ext2",
		"fs-ext5",
		"fs-ext",
		"a]b",
		"",
		"!",
		"]",
		"symbol:printk",
		"symbol:printkx",
		"char-major-10-200",
		"char-major-10-1",
	};
	size_t n = sizeof(aliases) / sizeof(aliases[0]);

	(void)state;
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		struct index *idx = build_index(aliases, n, (enum index_layout)layout);
		struct index_values vals = {0};

		for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
			check_wild(idx, aliases, n, queries[i]);
		/* concrete order: ascending priority */
		assert_int_equal(index_search_wild(idx, "char-major-10-200", &vals), 0);
		assert_int_equal(vals.n, 3);
		assert_int_equal(vals.v[2].priority, 99);
		assert_string_equal(vals.v[2].value, "catchall");
		index_values_release(&vals);
		assert_int_equal(index_search_wild(idx, "fs-ext3", &vals), 0);
		assert_int_equal(vals.n, 2);
		assert_string_equal(vals.v[0].value, "ext4");
		assert_string_equal(vals.v[1].value, "catchall");
		index_values_release(&vals);
		/* results are appended to what the caller already has */
		assert_int_equal(index_search_wild(idx, "fs-ext3", &vals), 0);
		assert_int_equal(index_search_wild(idx, "fs-ext3", &vals), 0);
		assert_int_equal(vals.n, 4);
		index_values_release(&vals);
		/*
		 * Queries are plain strings. One that contains a wildcard byte reaches a
		 * pattern key both in pattern mode and by plain descent, so libkmod (and
		 * §4.2, step 3) report it twice: "[" gives bracket, bracket, catchall.
		 */
		assert_int_equal(index_search_wild(idx, "[", &vals), 0);
		assert_int_equal(vals.n, 3);
		assert_string_equal(vals.v[0].value, "bracket");
		assert_string_equal(vals.v[1].value, "bracket");
		index_values_release(&vals);
		/* exact search does not interpret wildcards */
		const char *v;
		assert_int_equal(index_search(idx, "snd_hda_x", &v), -ENOENT);
		assert_int_equal(index_search(idx, "snd_hda_*", &v), 0);
		assert_string_equal(v, "snd_hda_codec");
		index_close(idx);
	}
}

/* 1 to max entries with random keys over alpha (shorter than key_size), values "v<i>" and
 * priorities 0-3; the keys live in key_size-byte rows of keys. The number of entries. */
static int random_entries(struct entry *e, char *keys, size_t key_size, char (*vals)[16],
			  int max, const char *alpha, unsigned *seed)
{
	size_t na = strlen(alpha);
	int n = 1 + rand_r(seed) % max;

	for (int i = 0; i < n; i++) {
		char *key = keys + (size_t)i * key_size;
		int kl = rand_r(seed) % (int)(key_size - 1);

		for (int j = 0; j < kl; j++)
			key[j] = alpha[(size_t)rand_r(seed) % na];
		key[kl] = '\0';
		snprintf(vals[i], sizeof(vals[i]), "v%d", i);
		e[i].key = key;
		e[i].value = vals[i];
		e[i].prio = (uint32_t)(rand_r(seed) % 4);
	}
	return n;
}

/* The same against long subjects: position sets of several words across a '*', and
 * subjects too long for them (the whole-pattern fallback); escapes too. */
static void test_wild_random_long(void **state)
{
	static const char alpha[] = "ab*?[]!^\\-";
	static const size_t lengths[] = {0, 3, 63, 64, 65, 127, 128, 129, 700, 1100};
	static char query[1200];
	unsigned seed = 777;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct entry e[16];
		char keys[16][12], vals[16][16];
		int n = random_entries(e, keys[0], sizeof(keys[0]), vals, 16, alpha, &seed);
		struct index *idx = build_index(e, (size_t)n, INDEX_PREORDER);
		for (size_t q = 0; q < sizeof(lengths) / sizeof(lengths[0]); q++) {
			for (size_t j = 0; j < lengths[q]; j++)
				query[j] = "ab]"[rand_r(&seed) % 3];
			query[lengths[q]] = '\0';
			check_wild(idx, e, (size_t)n, query);
		}
		index_close(idx);
	}
}

static void test_wild_random(void **state)
{
	static const char alpha[] = "ab*?[]!-";
	static const char qalpha[] = "ab]!-^";
	unsigned seed = 4242;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct entry e[24];
		char keys[24][8], vals[24][16];
		int n = random_entries(e, keys[0], sizeof(keys[0]), vals, 24, alpha, &seed);
		struct index *idx = build_index(
			e, (size_t)n, round % 2 ? INDEX_POSTORDER : INDEX_PREORDER);
		for (int q = 0; q < 40; q++) {
			char query[8];
			int ql = rand_r(&seed) % 7;

			for (int j = 0; j < ql; j++)
				query[j] = qalpha[rand_r(&seed) % (sizeof(qalpha) - 1)];
			query[ql] = '\0';
			check_wild(idx, e, (size_t)n, query);
		}
		/* each key as a query, its wildcard bytes made plain */
		for (int i = 0; i < n; i++) {
			char query[8];

			for (int j = 0;; j++) {
				query[j] = strchr("*?[", keys[i][j]) && keys[i][j]
						   ? 'a'
						   : keys[i][j];
				if (query[j] == '\0')
					break;
			}
			check_wild(idx, e, (size_t)n, query);
		}
		index_close(idx);
	}
}

static int exercise(struct index *idx, const struct entry *e, size_t n, bool *garbage);

/* Many keys sharing prefixes in every way: every one reads back, in both layouts. */
static void test_many_keys(void **state)
{
	enum { N = 4000 };
	static char keys[N][24], vals[N][16];
	static struct entry e[N];
	unsigned seed = 99;

	(void)state;
	for (int i = 0; i < N; i++) {
		int len = 1 + rand_r(&seed) % 12;

		/* a small alphabet makes long shared prefixes and many splits */
		for (int j = 0; j < len; j++)
			keys[i][j] = "abc_:-"[rand_r(&seed) % 6];
		keys[i][len] = '\0';
		snprintf(vals[i], sizeof(vals[i]), "m%d", i);
		e[i] = (struct entry){keys[i], vals[i], (uint32_t)(rand_r(&seed) % 8)};
	}
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		struct index *idx = build_index(e, N, (enum index_layout)layout);
		bool garbage;

		assert_int_equal(exercise(idx, e, N, &garbage), 0);
		assert_false(garbage);
		/* some keys that are not there: prefixes and extensions of real ones */
		for (int i = 0; i < 200; i++) {
			char k[64];
			const char *v;
			bool present = false;

			snprintf(k, sizeof(k), "%.23sz", keys[i]);
			assert_int_equal(index_search(idx, k, &v), -ENOENT);
			if (strlen(keys[i]) > 1) {
				snprintf(k, sizeof(k), "%.*s", (int)strlen(keys[i]) - 1,
					 keys[i]);
				for (int j = 0; j < N && !present; j++)
					present = strcmp(keys[j], k) == 0;
				assert_int_equal(index_search(idx, k, &v),
						 present ? 0 : -ENOENT);
			}
		}
		index_close(idx);
	}
}

/* ---- hostile files ---- */

static void test_bad_headers(void **state)
{
	uint8_t *good;
	size_t len;
	struct index *idx;
	int err;

	(void)state;
	good = read_data("example-pre.bin", &len);
	uint8_t *bad = malloc(len);
	assert_non_null(bad);

	memcpy(bad, good, len);
	bad[0] ^= 1; /* magic */
	assert_null(open_copy(bad, len, &err));
	assert_int_equal(err, -EBADMSG);
	memcpy(bad, good, len);
	index_put_u32(bad + 4, 0x00030001); /* major 3 */
	assert_null(open_copy(bad, len, &err));
	assert_int_equal(err, -EBADMSG);
	index_put_u32(bad + 4, 0x00010001); /* major 1 */
	assert_null(open_copy(bad, len, &err));
	assert_int_equal(err, -EBADMSG);
	/* another minor version is accepted (§2) */
	index_put_u32(bad + 4, 0x0002ffff);
	idx = open_copy(bad, len, &err);
	assert_non_null(idx);
	const char *v;
	assert_int_equal(index_search(idx, "ask", &v), 0);
	index_close(idx);
	for (size_t l = 0; l < 12; l++) {
		assert_null(open_copy(good, l, &err));
		assert_int_equal(err, -EBADMSG);
	}
	free(bad);
	free(good);
}

/* Every way of using an index; returns the first error, or 0 if all matched want. */
static int exercise(struct index *idx, const struct entry *e, size_t n, bool *garbage)
{
	struct index_values vals = {0};
	struct collect c = {0};
	int err = 0, r;

	*garbage = false;
	for (size_t i = 0; i < n; i++) {
		const char *v = NULL, *want = NULL;
		uint32_t best = UINT32_MAX;

		/* the expected first value: lowest priority, last inserted of equals */
		for (size_t j = 0; j < n; j++) {
			if (strcmp(e[j].key, e[i].key) == 0 && e[j].prio <= best) {
				best = e[j].prio;
				want = e[j].value;
			}
		}
		r = index_search(idx, e[i].key, &v);
		if (r == 0 && strcmp(v, want) != 0)
			*garbage = true;
		if (r < 0 && err == 0)
			err = r;
		r = index_search_wild(idx, e[i].key, &vals);
		if (r < 0 && err == 0)
			err = r;
		index_values_release(&vals);
	}
	r = index_foreach(idx, collect_fn, &c);
	if (r == 0 && c.calls != (int)n)
		*garbage = true;
	if (r < 0 && err == 0)
		err = r;
	return err;
}

static void test_truncated(void **state)
{
	(void)state;
	for (int layout = INDEX_PREORDER; layout <= INDEX_POSTORDER; layout++) {
		uint8_t *buf;
		size_t len;

		build(example, 7, (enum index_layout)layout, &buf, &len);
		for (size_t l = 0; l < len; l++) {
			bool garbage;
			int err;
			struct index *idx = open_copy(buf, l, &err);

			if (idx == NULL) {
				assert_true(l < 12);
				assert_int_equal(err, -EBADMSG);
				continue;
			}
			/* a cut-off file can never answer everything */
			err = exercise(idx, example, 7, &garbage);
			assert_false(garbage);
			if (err != -EBADMSG)
				fail_msg("layout %d cut at %zu: %d, want -EBADMSG",
					 layout, l, err);
			index_close(idx);
		}
		free(buf);
	}
}

static void test_bad_offsets(void **state)
{
	uint8_t *good, *bad;
	size_t len;

	(void)state;
	good = read_data("example-pre.bin", &len);
	bad = malloc(len);
	assert_non_null(bad);
	/* each reference in the file pointed far past the end, at the header, with the
	 * unused flag 0x10000000 set, exactly at the end, or at offset 0 */
	static const size_t refs[] = {8, 0x0e, 0x0e + 14 * 4, 0x4c, 0x50, 0x72, 0x7a};
	static const uint32_t targets[] = {0x0fffffff, 0x00001000, 0x00000004,
					   0x10000054, 0x000000af, 0x00000000};

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
			uint32_t flags = index_get_u32(good + refs[i]) & INDEX_NODE_FLAGS;
			struct index *idx;
			bool garbage;
			int err;

			memcpy(bad, good, len);
			index_put_u32(bad + refs[i], flags | targets[t]);
			idx = open_copy(bad, len, &err);
			assert_non_null(idx);
			err = exercise(idx, example, 7, &garbage);
			/* offset 0 is a valid file without that subtree */
			if (garbage && targets[t] != 0)
				fail_msg("ref at 0x%zx -> 0x%x: wrong answer", refs[i],
					 targets[t]);
			/* offset 0 is "no node" (§2.1): a missing key, not corruption */
			if (targets[t] == 0)
				assert_true(err == -EBADMSG || err == -ENOENT);
			else
				assert_int_equal(err, -EBADMSG);
			index_close(idx);
		}
	}
	/* bad child ranges: first > last, last >= 128 */
	memcpy(bad, good, len);
	bad[0x4a] = 't';
	bad[0x4b] = 's';
	{
		struct index *idx;
		bool garbage;
		int err;

		idx = open_copy(bad, len, &err);
		assert_int_equal(exercise(idx, example, 7, &garbage), -EBADMSG);
		index_close(idx);
		memcpy(bad, good, len);
		bad[0x0c] = 0x80;
		bad[0x0d] = 0x80;
		idx = open_copy(bad, len, &err);
		assert_int_equal(exercise(idx, example, 7, &garbage), -EBADMSG);
		index_close(idx);
		/* a value count far beyond the file */
		memcpy(bad, good, len);
		index_put_u32(bad + 0x96, 0x7fffffff);
		idx = open_copy(bad, len, &err);
		assert_int_equal(exercise(idx, example, 7, &garbage), -EBADMSG);
		assert_false(garbage);
		index_close(idx);
		/* a value count of 0 with the VALUES flag set */
		memcpy(bad, good, len);
		index_put_u32(bad + 0x96, 0);
		idx = open_copy(bad, len, &err);
		assert_int_equal(exercise(idx, example, 7, &garbage), -EBADMSG);
		index_close(idx);
		/* an unterminated last value string */
		memcpy(bad, good, len);
		bad[len - 1] = 'x';
		idx = open_copy(bad, len, &err);
		assert_int_equal(exercise(idx, example, 7, &garbage), -EBADMSG);
		assert_false(garbage);
		index_close(idx);
	}
	free(bad);
	free(good);
}

/* A root whose '*' child is the root itself, and whose 'a' child is too. */
static void test_reference_loops(void **state)
{
	uint8_t img[12 + 2 + 4 * ('a' - '*' + 1) + 4 + 4 + 2];
	uint32_t self = 12 | INDEX_NODE_CHILDS | INDEX_NODE_VALUES;
	struct index_values vals = {0};
	struct collect c = {0};
	struct index *idx;
	const char *v;
	int err;

	(void)state;
	memset(img, 0, sizeof(img));
	index_put_u32(img, INDEX_MAGIC);
	index_put_u32(img + 4, INDEX_VERSION);
	index_put_u32(img + 8, self);
	img[12] = '*';
	img[13] = 'a';
	index_put_u32(img + 14, self);
	index_put_u32(img + 14 + 4 * ('a' - '*'), self);
	size_t vo = 14 + 4 * ('a' - '*' + 1);
	index_put_u32(img + vo, 1);
	index_put_u32(img + vo + 4, 0);
	img[vo + 8] = 'v';
	img[vo + 9] = '\0';

	idx = open_copy(img, sizeof(img), &err);
	assert_non_null(idx);
	assert_int_equal(index_foreach(idx, collect_fn, &c), -EBADMSG);
	assert_int_equal(index_search_wild(idx, "aaaa", &vals), -EBADMSG);
	index_values_release(&vals);
	assert_int_equal(index_search_wild(idx, "", &vals), -EBADMSG);
	index_values_release(&vals);
	/* exact search follows one byte of the key per step: it ends */
	err = index_search(idx, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &v);
	assert_true(err == 0 || err == -ENOENT || err == -EBADMSG);
	index_close(idx);
}

/* Every single-byte change of a small index: no crash, no read outside the image. */
static void test_byte_flips(void **state)
{
	static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x10, 0x20, 0x40};
	uint8_t *good;
	size_t len;

	(void)state;
	build(aliases, sizeof(aliases) / sizeof(aliases[0]), INDEX_PREORDER, &good, &len);
	for (size_t i = 0; i < len; i++) {
		for (size_t x = 0; x < sizeof(xors); x++) {
			struct index *idx;
			bool garbage;
			int err;

			good[i] ^= xors[x];
			idx = open_copy(good, len, &err);
			good[i] ^= xors[x];
			if (idx == NULL)
				continue;
			(void)exercise(idx, aliases, sizeof(aliases) / sizeof(aliases[0]),
				       &garbage);
			index_close(idx);
		}
	}
	free(good);
}

/* ---- a trie opened from its file and changed (trie_open(), trie_visit()) ---- */

static int keep_all(void *data, uint32_t *priority)
{
	(void)data;
	(void)priority;
	return 1;
}

/* t serialised (and freed) is want, byte for byte. */
static void assert_serializes_to(struct trie *t, const uint8_t *want, size_t wantlen)
{
	uint8_t *got;
	size_t gotlen;

	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &got, &gotlen), 0);
	trie_free(t);
	assert_int_equal(gotlen, wantlen);
	assert_memory_equal(got, want, wantlen);
	free(got);
}

/* Opened, nothing changed: the same bytes again, whether the nodes are copied or read
 * (every key visited). */
static void check_round_trip(const struct entry *e, size_t n)
{
	for (int visit = 0; visit < 2; visit++) {
		uint8_t *buf;
		size_t len;
		struct trie *t = NULL;

		build(e, n, INDEX_PREORDER, &buf, &len);
		assert_int_equal(trie_open(&t, buf, len, keep_all, NULL), 0);
		for (size_t i = 0; visit && i < n; i++)
			assert_int_equal(trie_visit(t, e[i].key), 0);
		assert_serializes_to(t, buf, len);
		free(buf);
	}
}

static void test_open_round_trip(void **state)
{
	(void)state;
	check_round_trip(example, sizeof(example) / sizeof(example[0]));
	check_round_trip(aliases, sizeof(aliases) / sizeof(aliases[0]));
	check_round_trip(NULL, 0);
	check_round_trip((const struct entry[]){{"", "root", 1}, {"a", "x", 0}}, 2);
}

/*
 * Modules 0..N-1 with a few keys each (priority: the module's position, as depmod
 * gives it); then some modules go, some come, and the others move to new positions in
 * the same order. Opening the old file, visiting the keys of the modules gone (their
 * values dropped) and adding the new modules' keys must give the bytes of a trie built
 * from scratch.
 */
enum { MODS = 300, KEYS_MAX = 4 };

struct fake_module {
	char keys[KEYS_MAX][16];
	char name[12];
	int n_keys;
};

static uint32_t moved_to[MODS];

static int move_or_drop(void *data, uint32_t *priority)
{
	(void)data;
	if (*priority >= MODS)
		return -EBADMSG;
	if (moved_to[*priority] == UINT32_MAX)
		return 0;
	*priority = moved_to[*priority];
	return 1;
}

static void add_module(struct trie *t, const struct fake_module *m, uint32_t prio)
{
	for (int k = 0; k < m->n_keys; k++)
		assert_true(trie_add(t, m->keys[k], m->name, prio) >= 0);
}

static void test_open_equals_rebuild(void **state)
{
	static struct fake_module mods[2 * MODS];
	static struct newcomer {
		int mod;
		uint32_t prio;
	} newcomers[MODS];
	unsigned seed = 7;

	(void)state;
	for (int round = 0; round < 40; round++) {
		struct trie *old = NULL, *fresh = NULL, *changed = NULL;
		uint8_t *oldbuf, *want;
		size_t oldlen, wantlen, n_new = 0;
		uint32_t next = 0;

		for (int i = 0; i < 2 * MODS; i++) {
			struct fake_module *m = &mods[i];

			m->n_keys = rand_r(&seed) % (KEYS_MAX + 1);
			/* a small alphabet: shared prefixes, splits, duplicate keys */
			for (int k = 0; k < m->n_keys; k++) {
				int len = 1 + rand_r(&seed) % 8;

				for (int j = 0; j < len; j++)
					m->keys[k][j] = "ab:-*"[rand_r(&seed) % 5];
				m->keys[k][len] = '\0';
			}
			/* some share a name: values that are the same string */
			snprintf(m->name, sizeof(m->name), "m%d", i % 250);
		}
		assert_int_equal(trie_new(&old), 0);
		for (uint32_t i = 0; i < MODS; i++)
			add_module(old, &mods[i], i);
		assert_int_equal(trie_serialize(old, INDEX_PREORDER, &oldbuf, &oldlen), 0);
		trie_free(old);

		/* the new order: the survivors in their old order, newcomers in between;
		 * round 0 drops every module, round 1 none and adds none */
		assert_int_equal(trie_new(&fresh), 0);
		for (uint32_t i = 0; i < MODS; i++) {
			bool drop = round == 0 || (round > 1 && rand_r(&seed) % 5 == 0);

			if (round > 1 && rand_r(&seed) % 4 == 0) {
				newcomers[n_new] = (struct newcomer){MODS + (int)i, next++};
				add_module(fresh, &mods[MODS + i], newcomers[n_new++].prio);
			}
			moved_to[i] = drop ? UINT32_MAX : next++;
			if (!drop)
				add_module(fresh, &mods[i], moved_to[i]);
		}
		assert_int_equal(trie_serialize(fresh, INDEX_PREORDER, &want, &wantlen), 0);
		trie_free(fresh);

		assert_int_equal(trie_open(&changed, oldbuf, oldlen, move_or_drop, NULL), 0);
		for (uint32_t i = 0; i < MODS; i++) {
			/* the modules gone; every module's keys in odd rounds (all read) */
			for (int k = 0; k < mods[i].n_keys; k++) {
				if (moved_to[i] == UINT32_MAX || round % 2)
					assert_int_equal(trie_visit(changed, mods[i].keys[k]), 0);
			}
		}
		for (size_t i = 0; i < n_new; i++)
			add_module(changed, &mods[newcomers[i].mod], newcomers[i].prio);
		assert_serializes_to(changed, want, wantlen);
		free(want);
		free(oldbuf);
	}
}

/*
 * trie_drop(), as modules.symbols.bin uses it: keys with one value each, some of them
 * given to another owner (dropped, then added again with another value), some dropped
 * for good, in a trie built from scratch and in one opened from its file. Either must
 * serialise to the trie built with the final values alone: nodes emptied are pruned,
 * prefixes merged.
 */
static void test_drop(void **state)
{
	enum { N = 400 };
	static char keys[N][12];
	static int owner[N]; /* -1: dropped for good */
	unsigned seed = 11;

	(void)state;
	for (int round = 0; round < 20; round++) {
		struct trie *fresh = NULL, *opened = NULL, *want_t = NULL;
		uint8_t *oldbuf, *want;
		size_t oldlen, wantlen;

		assert_int_equal(trie_new(&fresh), 0);
		for (int i = 0; i < N; i++) {
			bool twice;

			do { /* each key once (4^6 of them) */
				int len = 1 + rand_r(&seed) % 6;

				for (int j = 0; j < len; j++)
					keys[i][j] = "ab:-"[rand_r(&seed) % 4];
				keys[i][len] = '\0';
				twice = false;
				for (int j = 0; j < i; j++)
					twice = twice || strcmp(keys[i], keys[j]) == 0;
			} while (twice);
			owner[i] = 0;
			assert_int_equal(trie_add(fresh, keys[i], "m0", 0), 0);
		}
		assert_int_equal(trie_serialize(fresh, INDEX_PREORDER, &oldbuf, &oldlen), 0);
		trie_free(fresh);

		/* the same trie twice: opened from its file, and built again */
		assert_int_equal(trie_open(&opened, oldbuf, oldlen, keep_all, NULL), 0);
		assert_int_equal(trie_new(&fresh), 0);
		for (int i = 0; i < N; i++)
			assert_int_equal(trie_add(fresh, keys[i], "m0", 0), 0);
		for (int i = 0; i < N; i++) {
			int change = rand_r(&seed) % 4;

			if (change == 0 || (round == 0 && change != 3)) {
				owner[i] = -1;
			} else if (change == 1) {
				owner[i] = 1 + i % 3;
			}
		}
		for (int pass = 0; pass < 2; pass++) {
			struct trie *t = pass ? opened : fresh;

			for (int i = 0; i < N; i++) {
				char name[16];

				if (owner[i] == 0 && pass)
					continue; /* left as it was */
				assert_int_equal(trie_drop(t, keys[i]), 0);
				snprintf(name, sizeof(name), "m%d", owner[i]);
				if (owner[i] >= 0)
					assert_true(trie_add(t, keys[i], name, (uint32_t)owner[i]) >= 0);
			}
		}
		/* the final values alone */
		assert_int_equal(trie_new(&want_t), 0);
		for (int i = 0; i < N; i++) {
			if (owner[i] >= 0) {
				char name[16];

				snprintf(name, sizeof(name), "m%d", owner[i]);
				assert_true(trie_add(want_t, keys[i], name, (uint32_t)owner[i]) >= 0);
			}
		}
		assert_int_equal(trie_serialize(want_t, INDEX_PREORDER, &want, &wantlen), 0);
		trie_free(want_t);
		assert_serializes_to(fresh, want, wantlen);
		assert_serializes_to(opened, want, wantlen);
		free(want);
		free(oldbuf);
	}
}

/* A node that is read has its values sorted again; one that is copied cannot be, and
 * a key whose values would change order, or lose one, is refused unless visited. */
static void test_open_reorders_and_drops(void **state)
{
	static const struct entry before[] = {
		{"k", "a", 0}, {"k", "b", 1}, {"k", "c", 2}, {"k2", "c", 2}, {"k2", "a", 0},
	};
	static const struct entry after[] = {
		{"k", "a", 2}, {"k", "b", 1}, {"k", "c", 0}, {"k2", "c", 0}, {"k2", "a", 2},
	};
	struct trie *t = NULL;
	uint8_t *buf, *want, *got;
	size_t len, wantlen, gotlen;

	(void)state;
	build(before, 5, INDEX_PREORDER, &buf, &len);
	build(after, 5, INDEX_PREORDER, &want, &wantlen);
	for (uint32_t i = 0; i < 3; i++)
		moved_to[i] = 2 - i;
	assert_int_equal(trie_open(&t, buf, len, move_or_drop, NULL), 0);
	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &got, &gotlen), -EBADMSG);
	assert_int_equal(trie_visit(t, "k"), 0);
	assert_int_equal(trie_visit(t, "k2"), 0);
	assert_serializes_to(t, want, wantlen);
	free(want);

	/* module 1 ("b") gone, its key not visited */
	moved_to[0] = 0, moved_to[1] = UINT32_MAX, moved_to[2] = 1;
	assert_int_equal(trie_open(&t, buf, len, move_or_drop, NULL), 0);
	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &got, &gotlen), -EBADMSG);
	trie_free(t);
	free(buf);
}

/* A priority the file should not have stops the copy with the map's error. */
static void test_open_map_error(void **state)
{
	struct trie *t = NULL;
	uint8_t *buf, *out;
	size_t len, outlen;

	(void)state;
	build((const struct entry[]){{"a", "x", 1}, {"ab", "y", MODS}}, 2, INDEX_PREORDER,
	      &buf, &len);
	for (uint32_t i = 0; i < MODS; i++)
		moved_to[i] = i;
	assert_int_equal(trie_open(&t, buf, len, move_or_drop, NULL), 0);
	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &out, &outlen), -EBADMSG);
	assert_int_equal(trie_visit(t, "ab"), -EBADMSG);
	trie_free(t);
	free(buf);
}

/* Only a file exactly as trie_serialize() lays it out in pre-order is taken: a
 * post-order one and every truncation are refused, by trie_open() or at the latest by
 * trie_serialize(); every byte flip is refused or read within the image. */
static void check_hostile(uint8_t *img, size_t len, bool must_fail)
{
	struct trie *t = NULL;
	uint8_t *out;
	size_t outlen;
	int r = trie_open(&t, img, len, keep_all, NULL);

	if (r == 0) {
		/* some paths read, new keys through copied and read nodes */
		(void)trie_visit(t, "pci:v00008086d000010D3sv*sd*bc*sc*i*");
		(void)trie_visit(t, "usb:");
		r = trie_add(t, "snd_hda_x", "new", 3);
		if (r >= 0)
			r = trie_serialize(t, INDEX_PREORDER, &out, &outlen);
		if (r == 0)
			free(out);
		trie_free(t);
	}
	if (must_fail)
		assert_int_not_equal(r, 0);
}

static void test_open_hostile(void **state)
{
	static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x10, 0x20, 0x40};
	size_t n = sizeof(aliases) / sizeof(aliases[0]);
	uint8_t *good, *post, *copy;
	size_t len, plen;

	(void)state;
	build(aliases, n, INDEX_PREORDER, &good, &len);
	build(aliases, n, INDEX_POSTORDER, &post, &plen);
	check_hostile(post, plen, true);
	for (size_t cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, good, cut);
		check_hostile(copy, cut, true);
		free(copy);
	}
	for (size_t i = 0; i < len; i++) {
		for (size_t x = 0; x < sizeof(xors); x++) {
			copy = malloc(len);
			assert_non_null(copy);
			memcpy(copy, good, len);
			copy[i] ^= xors[x];
			check_hostile(copy, len, false);
			free(copy);
		}
	}
	free(post);
	free(good);
}

static void test_open_file(void **state)
{
	char path[4096], tmpl[] = "/tmp/kmodx-unit-idx-XXXXXX";
	struct index *idx = NULL;
	const char *v;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/example-post.bin", UNIT_DATA_DIR);
	assert_int_equal(index_open(path, &idx), 0);
	assert_int_equal(index_search(idx, "once", &v), 0);
	assert_string_equal(v, "v4");
	index_close(idx);
	assert_int_equal(index_open("/nonexistent/modules.dep.bin", &idx), -ENOENT);
	assert_int_equal(index_open(UNIT_DATA_DIR, &idx), -EBADMSG);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(index_open(tmpl, &idx),
			 -ENODATA); /* 0 bytes: depmod's leftover */
	assert_int_equal(write(fd, "\xb0\x07\xf4\x57", 4), 4);
	assert_int_equal(index_open(tmpl, &idx), -EBADMSG);
	close(fd);
	unlink(tmpl);
	index_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_preorder),
		cmocka_unit_test(test_example_postorder),
		cmocka_unit_test(test_example_read),
		cmocka_unit_test(test_foreach_and_dump),
		cmocka_unit_test(test_empty_index),
		cmocka_unit_test(test_empty_key_and_prefixes),
		cmocka_unit_test(test_insertion_order_independent),
		cmocka_unit_test(test_trie_add_errors),
		cmocka_unit_test(test_wild_table),
		cmocka_unit_test(test_wild_random),
		cmocka_unit_test(test_wild_random_long),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_offsets),
		cmocka_unit_test(test_reference_loops),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_open_round_trip),
		cmocka_unit_test(test_open_equals_rebuild),
		cmocka_unit_test(test_open_reorders_and_drops),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_open_map_error),
		cmocka_unit_test(test_open_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
