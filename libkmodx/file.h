/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module files: opened by magic bytes, not by name. Plain ELF is read into memory (or
 * mapped when large); gzip, xz and zstd are decompressed into memory. The decompression
 * libraries are loaded with dlopen() the first time a compressed file is met, so that
 * lookups and plain modules never pay for them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kmodx_ctx;
struct elf;

enum compression {
	COMPRESSION_NONE = 0,
	COMPRESSION_GZIP,
	COMPRESSION_XZ,
	COMPRESSION_ZSTD,
	COMPRESSION_UNKNOWN, /* not looked at yet */
};

/* Largest decompressed module accepted: a bound against decompression bombs. */
#define MODULE_MAX_SIZE ((size_t)1 << 30)

struct kmodx_file {
	int fd;
	char *path;
	enum compression compression;
	uint64_t file_size;
	const uint8_t *data; /* contents after file_load() */
	size_t size;
	bool mapped; /* data is an mmap of the file */
	bool owned;  /* data is malloc'ed (decompressed or read) */
	struct elf *elf;
};

/* "gzip", "xz", "zstd" ("none" for COMPRESSION_NONE). */
const char *compression_name(enum compression c);
/* The compression named by /sys/module/compression's contents, or COMPRESSION_NONE. */
enum compression compression_from_name(const char *name);
/* The compression the magic bytes at data announce. */
enum compression compression_detect(const uint8_t *data, size_t len);
/* True if this build can decompress c in user space. */
bool compression_supported(enum compression c);

/* Open path; reads nothing yet. ctx (may be NULL) is used for logging. */
int file_open(const struct kmodx_ctx *ctx, const char *path, struct kmodx_file **file);
/* The file's compression, from its magic bytes. */
enum compression file_get_compression(struct kmodx_file *file);
/* Map or decompress the contents: 0 or a negative errno (logged). */
int file_load(const struct kmodx_ctx *ctx, struct kmodx_file *file);
/* The parsed ELF image (loads the contents and parses them on first use). */
int file_get_elf(const struct kmodx_ctx *ctx, struct kmodx_file *file, struct elf **elf);
void file_free(struct kmodx_file *file);

/*
 * Decompress a whole in-memory image. *out is malloc'ed. -ENOEXEC for corrupt data,
 * -EFBIG beyond MODULE_MAX_SIZE, -EPROTONOSUPPORT if the build lacks the format,
 * -ELIBACC if its library cannot be loaded.
 */
int decompress(enum compression c, const uint8_t *in, size_t inlen, uint8_t **out,
	       size_t *outlen, const char **why);
/*
 * Compress a whole image the way kbuild's modules_install does, so that the kernel's
 * own decompressor accepts it (compress.c). *out is malloc'ed. -EPROTONOSUPPORT if the
 * build lacks the format, -ELIBACC if its library cannot be loaded.
 */
int compress_image(enum compression c, const uint8_t *in, size_t inlen, uint8_t **out,
		   size_t *outlen, const char **why);
