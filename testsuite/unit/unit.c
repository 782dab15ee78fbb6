// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libkmodx.h"
#include "unit.h"
#include "util/path.h"

void unit_quiet(void *data, int prio, const char *msg)
{
	(void)data;
	(void)prio;
	(void)msg;
}

struct kmodx_ctx *unit_ctx(const char *root, const char *kver)
{
	const char *const none[] = {NULL};
	struct kmodx_ctx *ctx = NULL;

	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	kmodx_ctx_set_log_fn(ctx, unit_quiet, NULL);
	assert_int_equal(kmodx_ctx_set_root(ctx, root), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, kver), 0);
	assert_int_equal(kmodx_ctx_set_config_paths(ctx, none), 0);
	assert_int_equal(kmodx_ctx_set_use_cmdline(ctx, false), 0);
	return ctx;
}

uint8_t *unit_slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX * 2];
	struct stat st;
	uint8_t *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %m", path);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

void unit_write(const char *root, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX * 2], dir[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%.*s", (int)path_dirlen(path), path);
	assert_int_equal(mkdir_p(dir, 0755), 0);
	f = fopen(path, "w");
	if (f == NULL)
		fail_msg("%s: %m", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void unit_write_text(const char *root, const char *rel, const char *text)
{
	unit_write(root, rel, text, strlen(text));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int unit_rmtree(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return 0; /* nothing to remove */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
