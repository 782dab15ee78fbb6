// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "strbuf.h"

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_(closep) int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	/* room for max + 1 bytes, so that a file longer than max is noticed, and a NUL */
	_cleanup_(strbuf_releasep) struct strbuf sb = {.max = max < SIZE_MAX - 2 ? max + 2 : 0};
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* sysfs and procfs files report sizes that mean nothing: read until EOF */
	for (;;) {
		ssize_t n;
		/* sb.len <= max here; reading one byte more than max is enough to tell */
		int r = strbuf_reserve(&sb, MIN((size_t)4096, max + 1 - sb.len));

		if (r < 0)
			return r == -E2BIG ? -EFBIG : r;
		n = read(fd, sb.buf + sb.len, sb.cap - sb.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		if (sb.len > max)
			return -EFBIG;
	}
	if (len != NULL)
		*len = sb.len;
	*out = strbuf_steal(&sb);
	return *out ? 0 : -ENOMEM;
}

int read_attr(const char *path, char *buf, size_t size)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int read_attr_long(const char *path, long *value)
{
	char buf[64], *end;
	long v;
	int r = read_attr(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return -EINVAL;
	*value = v;
	return 0;
}

/* write(), or pwrite() at off when it is not negative, until all of buf is written. */
static int write_fully(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	return write_fully(fd, buf, len, -1);
}

int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : write_fully(fd, buf, len, off);
}

static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, r = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_parts(int fd, const struct fileio_part *parts, size_t n, unsigned mode)
{
	for (size_t i = 0; i < n; i++) {
		int r = write_all(fd, parts[i].data, parts[i].len);

		if (r < 0)
			return r;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

int write_file_atomic(const char *path, const struct fileio_part *parts, size_t n,
		      unsigned mode)
{
	char tmp[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_parts(fd, parts, n, mode);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return sync_dir_of(path);
}
