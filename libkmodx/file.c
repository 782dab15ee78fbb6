// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "file.h"
#include "libkmodx-private.h"

static const char *const compression_names[] = {
	[COMPRESSION_NONE] = "none",
	[COMPRESSION_GZIP] = "gzip",
	[COMPRESSION_XZ] = "xz",
	[COMPRESSION_ZSTD] = "zstd",
	[COMPRESSION_UNKNOWN] = "unknown",
};

const char *compression_name(enum compression c)
{
	return compression_names[c];
}

enum compression compression_from_name(const char *name)
{
	for (size_t i = COMPRESSION_GZIP; i <= COMPRESSION_ZSTD; i++) {
		if (streq(name, compression_names[i]))
			return (enum compression)i;
	}
	return COMPRESSION_NONE;
}

enum compression compression_detect(const uint8_t *d, size_t len)
{
	if (len >= 4 && memcmp(d, "\x28\xb5\x2f\xfd", 4) == 0)
		return COMPRESSION_ZSTD;
	if (len >= 6 && memcmp(d, "\xfd" "7zXZ\0", 6) == 0)
		return COMPRESSION_XZ;
	if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
		return COMPRESSION_GZIP;
	return COMPRESSION_NONE;
}

int file_open(const struct kmodx_ctx *ctx, const char *path, struct kmodx_file **out)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct kmodx_file *f;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode)) {
		if (ctx)
			ERR(ctx, "%s: not a regular file", path);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->path = strdup(path);
	if (f->path == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->compression = COMPRESSION_UNKNOWN;
	f->file_size = (uint64_t)st.st_size;
	f->fd = TAKE_FD(fd);
	*out = f;
	return 0;
}

enum compression file_get_compression(struct kmodx_file *f)
{
	uint8_t magic[6];
	ssize_t n;

	if (f->compression != COMPRESSION_UNKNOWN)
		return f->compression;
	if (f->data != NULL) {
		f->compression = compression_detect(f->data, f->size);
		return f->compression;
	}
	n = pread(f->fd, magic, sizeof(magic), 0);
	f->compression = compression_detect(magic, n > 0 ? (size_t)n : 0);
	return f->compression;
}

#define FILE_READ_MAX ((uint64_t)4 << 20)

static int file_read(const struct kmodx_ctx *ctx, struct kmodx_file *f)
{
	void *p;

	if (f->file_size == 0)
		return -EINVAL; /* what mapping it gives, and so what kmod reports */
	if (f->file_size > SIZE_MAX) {
		if (ctx)
			ERR(ctx, "%s: file too large", f->path);
		return -EFBIG;
	}
	/*
	 * Small files are read: mapping costs a VMA, page faults and a TLB flush at unmap,
	 * and threads mapping files in one process serialise on the kernel's mm lock.
	 */
	if (f->file_size <= FILE_READ_MAX) {
		uint8_t *buf = malloc((size_t)f->file_size);
		ssize_t n;

		if (buf == NULL)
			return -ENOMEM;
		n = pread(f->fd, buf, (size_t)f->file_size, 0);
		if (n != (ssize_t)f->file_size) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		f->data = buf;
		f->size = (size_t)n;
		f->owned = true;
		return 0;
	}
	p = mmap(NULL, (size_t)f->file_size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	f->data = p;
	f->size = (size_t)f->file_size;
	f->mapped = true;
	return 0;
}

static int file_inflate(const struct kmodx_ctx *ctx, struct kmodx_file *f)
{
	const char *why = NULL;
	uint8_t *in, *out = NULL;
	size_t outlen = 0;
	int r;

	in = (uint8_t *)f->data;
	r = decompress(f->compression, in, f->size, &out, &outlen, &why);
	if (f->owned)
		free(in);
	else
		munmap(in, f->size);
	f->owned = false;
	f->data = NULL;
	f->size = 0;
	f->mapped = false;
	if (r < 0) {
		if (ctx)
			ERR(ctx, "%s: cannot decompress %s: %s", f->path,
			    compression_name(f->compression), why ? why : strerror(-r));
		return r;
	}
	f->data = out;
	f->size = outlen;
	f->owned = true;
	return 0;
}

int file_load(const struct kmodx_ctx *ctx, struct kmodx_file *f)
{
	int r;

	if (f->data != NULL)
		return 0;
	/* map first and read the magic from the mapping: one syscall less per module */
	r = file_read(ctx, f);
	if (r < 0)
		return r;
	if (file_get_compression(f) == COMPRESSION_NONE)
		return 0;
	return file_inflate(ctx, f);
}

int file_get_elf(const struct kmodx_ctx *ctx, struct kmodx_file *f, struct elf **elf)
{
	int r;

	if (f->elf == NULL) {
		r = file_load(ctx, f);
		if (r < 0)
			return r;
		r = elf_open(f->data, f->size, &f->elf);
		if (r < 0) {
			/* the caller reports it, with the module's name, as kmod does */
			if (ctx)
				DBG(ctx, "%s: not a valid ELF module: %s", f->path,
				    elf_strerror(r));
			return r;
		}
	}
	*elf = f->elf;
	return 0;
}

void file_free(struct kmodx_file *f)
{
	if (f == NULL)
		return;
	elf_free(f->elf);
	if (f->mapped)
		munmap((void *)f->data, f->size);
	else if (f->owned)
		free((void *)f->data);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}
