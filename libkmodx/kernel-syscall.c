// SPDX-License-Identifier: LGPL-2.1-or-later
/* The real kernel: the three module system calls, and writes to parameters. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libkmodx-private.h"

int kernel_finit_module(struct kmodx_ctx *ctx, int fd, const char *args, unsigned flags)
{
	(void)ctx;
#ifdef SYS_finit_module
	if (syscall(SYS_finit_module, fd, args, flags) == 0)
		return 0;
	return -errno;
#else
	(void)fd;
	(void)args;
	(void)flags;
	return -ENOSYS;
#endif
}

int kernel_init_module(struct kmodx_ctx *ctx, const void *image, size_t len, const char *args)
{
	(void)ctx;
	if (syscall(SYS_init_module, image, len, args) == 0)
		return 0;
	return -errno;
}

int kernel_delete_module(struct kmodx_ctx *ctx, const char *name, unsigned flags)
{
	(void)ctx;
	if (syscall(SYS_delete_module, name, flags) == 0)
		return 0;
	return -errno;
}

/* One write: sysfs hands the kernel what one write() carries, and would take the rest
 * of a short write as a second, different value. */
int kernel_write_param(struct kmodx_ctx *ctx, const char *module, const char *param,
		       const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	(void)ctx;
	(void)module;
	(void)param;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFBIG;
}
