/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading whole small files (sysfs attributes, config files, text indexes). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/*
 * Read the whole file at path (relative to dirfd, or AT_FDCWD) into a malloc'ed,
 * NUL-terminated buffer. Files larger than max bytes give -EFBIG. *len excludes the NUL.
 * Returns 0 or a negative errno.
 */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

/* Read a sysfs-style attribute: first line, trailing newline removed. */
int read_attr(const char *path, char *buf, size_t size);
/* Read a sysfs attribute holding a decimal number. */
int read_attr_long(const char *path, long *value);

/* Write the whole buffer, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* The same at offset off, the file offset left as it is. */
int pwrite_all(int fd, const void *buf, size_t len, off_t off);

struct fileio_part {
	const void *data;
	size_t len;
};

/*
 * Replace (or create) path with the concatenation of parts, atomically: a temporary
 * file in the same directory, written, given mode, synced, then renamed over path and
 * the directory synced. On failure path is untouched and the temporary file removed.
 * 0 or a negative errno.
 */
int write_file_atomic(const char *path, const struct fileio_part *parts, size_t n,
		      unsigned mode);
