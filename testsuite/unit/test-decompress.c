// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Decompression of module images (decompress.c, file.c): gzip, xz and zstd files made at
 * build time from the same module spec as plain.ko (gen-module.py with Python's gzip and
 * lzma and the zstd command) must decompress to exactly plain.ko; truncated and damaged
 * streams must fail cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf.h"
#include "file.h"
#include "libkmodx.h"
#include "unit.h"

#define MODULES_DIR UNIT_BUILD_DIR "/modules"

static const struct {
	const char *file;
	enum compression c;
} streams[] = {
	{"plain.ko.gz", COMPRESSION_GZIP},
	{"plain.ko.xz", COMPRESSION_XZ},
	{"plain.ko.zst", COMPRESSION_ZSTD},
	{"plain-nosize.ko.zst", COMPRESSION_ZSTD},
};

static void skip_unless_supported(enum compression c)
{
	if (!compression_supported(c))
		skip();
}

static void test_round_trip(void **state)
{
	size_t plainlen;
	uint8_t *plain = unit_slurp(MODULES_DIR, "plain.ko", &plainlen);

	(void)state;
	assert_int_equal(compression_detect(plain, plainlen), COMPRESSION_NONE);
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		uint8_t *in, *out = NULL;
		size_t inlen, outlen = 0;
		const char *why = "unset";

		skip_unless_supported(streams[i].c);
		in = unit_slurp(MODULES_DIR, streams[i].file, &inlen);
		assert_int_equal(compression_detect(in, inlen), streams[i].c);
		assert_true(inlen < plainlen); /* really compressed */
		assert_int_equal(decompress(streams[i].c, in, inlen, &out, &outlen, &why),
				 0);
		assert_int_equal(outlen, plainlen);
		assert_memory_equal(out, plain, plainlen);
		free(out);
		free(in);
	}
	free(plain);
}

/* Several members/streams/frames back to back decode as their concatenation. */
static void test_concatenated(void **state)
{
	size_t plainlen;
	uint8_t *plain = unit_slurp(MODULES_DIR, "plain.ko", &plainlen);

	(void)state;
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		uint8_t *in, *twice, *out = NULL;
		size_t inlen, outlen = 0;
		const char *why;

		skip_unless_supported(streams[i].c);
		in = unit_slurp(MODULES_DIR, streams[i].file, &inlen);
		twice = malloc(2 * inlen);
		assert_non_null(twice);
		memcpy(twice, in, inlen);
		memcpy(twice + inlen, in, inlen);
		assert_int_equal(
			decompress(streams[i].c, twice, 2 * inlen, &out, &outlen, &why),
			0);
		assert_int_equal(outlen, 2 * plainlen);
		assert_memory_equal(out, plain, plainlen);
		assert_memory_equal(out + plainlen, plain, plainlen);
		free(out);
		free(twice);
		free(in);
	}
	free(plain);
}

static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		uint8_t *in, *out;
		size_t inlen, outlen;

		skip_unless_supported(streams[i].c);
		in = unit_slurp(MODULES_DIR, streams[i].file, &inlen);
		for (size_t n = 0; n < inlen; n++) {
			/* a copy of exactly n bytes, so that ASan sees any read beyond */
			uint8_t *cut = malloc(n ? n : 1);
			const char *why = NULL;
			int r;

			assert_non_null(cut);
			memcpy(cut, in, n);
			out = (uint8_t *)"untouched";
			outlen = 12345;
			r = decompress(streams[i].c, cut, n, &out, &outlen, &why);
			if (r != -ENOEXEC)
				fail_msg("%s cut to %zu bytes: %d", streams[i].file, n,
					 r);
			assert_non_null(why);
			assert_string_equal((const char *)out, "untouched");
			assert_int_equal(outlen, 12345);
			free(cut);
		}
		free(in);
	}
}

static void test_damaged(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		uint8_t *in, *out = NULL;
		size_t inlen, outlen;
		const char *why;

		skip_unless_supported(streams[i].c);
		in = unit_slurp(MODULES_DIR, streams[i].file, &inlen);
		/* the last byte is in a check: gzip ISIZE, xz footer, zstd checksum */
		in[inlen - 1] ^= 0x01;
		assert_int_equal(decompress(streams[i].c, in, inlen, &out, &outlen, &why),
				 -ENOEXEC);
		in[inlen - 1] ^= 0x01;
		/* a damaged body: the format checks catch it; at least no crash */
		for (size_t j = 0; j < inlen; j += 7) {
			in[j] ^= 0xa5;
			if (decompress(streams[i].c, in, inlen, &out, &outlen, &why) == 0)
				free(out);
			in[j] ^= 0xa5;
		}
		/* the wrong decoder for the data */
		enum compression other = streams[i].c == COMPRESSION_GZIP
						 ? COMPRESSION_XZ
						 : COMPRESSION_GZIP;
		if (compression_supported(other))
			assert_int_equal(
				decompress(other, in, inlen, &out, &outlen, &why),
				-ENOEXEC);
		free(in);
	}
}

static void test_names_and_detect(void **state)
{
	uint8_t *out;
	size_t outlen;
	const char *why;

	(void)state;
	assert_string_equal(compression_name(COMPRESSION_NONE), "none");
	assert_string_equal(compression_name(COMPRESSION_GZIP), "gzip");
	assert_string_equal(compression_name(COMPRESSION_XZ), "xz");
	assert_string_equal(compression_name(COMPRESSION_ZSTD), "zstd");
	assert_int_equal(compression_from_name("gzip"), COMPRESSION_GZIP);
	assert_int_equal(compression_from_name("xz"), COMPRESSION_XZ);
	assert_int_equal(compression_from_name("zstd"), COMPRESSION_ZSTD);
	assert_int_equal(compression_from_name("lz4"), COMPRESSION_NONE);
	assert_int_equal(compression_from_name(""), COMPRESSION_NONE);
	assert_int_equal(compression_detect((const uint8_t *)"\x1f\x8b", 2),
			 COMPRESSION_GZIP);
	assert_int_equal(compression_detect((const uint8_t *)"\x1f", 1),
			 COMPRESSION_NONE);
	assert_int_equal(compression_detect((const uint8_t *)"\xfd"
							     "7zXZ\0",
					    6),
			 COMPRESSION_XZ);
	assert_int_equal(compression_detect((const uint8_t *)"\xfd"
							     "7zXZ",
					    5),
			 COMPRESSION_NONE);
	assert_int_equal(compression_detect((const uint8_t *)"\x28\xb5\x2f\xfd", 4),
			 COMPRESSION_ZSTD);
	assert_int_equal(compression_detect((const uint8_t *)"\x28\xb5\x2f", 3),
			 COMPRESSION_NONE);
	assert_int_equal(compression_detect((const uint8_t *)"\177ELF", 4),
			 COMPRESSION_NONE);
	assert_int_equal(decompress(COMPRESSION_NONE, (const uint8_t *)"x", 1, &out,
				    &outlen, &why),
			 -EPROTONOSUPPORT);
	assert_non_null(why);
	assert_int_equal(decompress(COMPRESSION_UNKNOWN, (const uint8_t *)"x", 1, &out,
				    &outlen, &why),
			 -EPROTONOSUPPORT);
}

/* The file layer: opened by magic bytes, not by name. */
static void test_file_layer(void **state)
{
	static const char *const files[] = {"plain.ko", "plain.ko.gz", "plain.ko.xz",
					    "plain.ko.zst", "plain-nosize.ko.zst"};
	static const enum compression kinds[] = {COMPRESSION_NONE, COMPRESSION_GZIP,
						 COMPRESSION_XZ, COMPRESSION_ZSTD,
						 COMPRESSION_ZSTD};
	size_t plainlen;
	uint8_t *plain = unit_slurp(MODULES_DIR, "plain.ko", &plainlen);
	char path[4096], tmp[] = "/tmp/kmodx-unit-cut-XXXXXX.ko";

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct kmodx_file *f = NULL;
		struct elf *elf = NULL;
		struct elf_section sec;

		if (!compression_supported(kinds[i]))
			continue;
		snprintf(path, sizeof(path), "%s/modules/%s", UNIT_BUILD_DIR, files[i]);
		assert_int_equal(file_open(NULL, path, &f), 0);
		assert_int_equal(file_get_compression(f), kinds[i]);
		assert_int_equal(file_get_elf(NULL, f, &elf), 0);
		assert_int_equal(f->size, plainlen);
		assert_memory_equal(f->data, plain, plainlen);
		assert_int_equal(elf_find_section(elf, ".modinfo", &sec), 0);
		file_free(f);
	}

	/* a truncated .xz given a plain name: still detected, and the load fails */
	int fd = mkstemps(tmp, 3);
	size_t xzlen;
	uint8_t *xz = unit_slurp(MODULES_DIR, "plain.ko.xz", &xzlen);
	struct kmodx_file *f = NULL;
	struct elf *elf = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xz, xzlen / 2), (ssize_t)(xzlen / 2));
	close(fd);
	assert_int_equal(file_open(NULL, tmp, &f), 0);
	assert_int_equal(file_get_compression(f), COMPRESSION_XZ);
	assert_true(file_get_elf(NULL, f, &elf) < 0);
	file_free(f);
	unlink(tmp);
	free(xz);

	assert_int_equal(file_open(NULL, "/nonexistent/x.ko", &f), -ENOENT);
	assert_int_equal(file_open(NULL, UNIT_BUILD_DIR, &f), -EISDIR);
	file_free(NULL);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_names_and_detect),
		cmocka_unit_test(test_file_layer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
