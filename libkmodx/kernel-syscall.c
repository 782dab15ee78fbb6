// SPDX-License-Identifier: LGPL-2.1-or-later
/* The real kernel: the three module system calls. */
#include <errno.h>
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
