// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The running kernel's view of modules (/proc/modules, /sys/module/<name>/) and the
 * load/unload calls. The calls themselves go through kernel_*() (kernel-syscall.c in
 * the shipped binary and library, a simulation in the test binary).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf.h"
#include "file.h"
#include "libkmodx-private.h"
#include "signature.h"
#include "util/fileio.h"
#include "util/path.h"

int sysmod_path(const struct kmodx_module *mod, const char *attr, char *buf)
{
	char rel[PATH_MAX];
	int n = snprintf(rel, sizeof(rel), "/sys/module/%s%s%s", mod->name, attr ? "/" : "",
			 attr ? attr : "");

	if (n < 0 || n >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	return ctx_path(mod->ctx, rel, buf);
}

static const char *const initstate_names[] = {
	[KMODX_MODULE_BUILTIN] = "builtin",
	[KMODX_MODULE_LIVE] = "live",
	[KMODX_MODULE_COMING] = "coming",
	[KMODX_MODULE_GOING] = "going",
};

_public_ const char *kmodx_initstate_str(int state)
{
	if (state < 0 || state >= (int)ARRAY_SIZE(initstate_names))
		return NULL;
	return initstate_names[state];
}

_public_ int kmodx_module_get_initstate(struct kmodx_module *mod)
{
	char path[PATH_MAX], buf[32];
	struct stat st;
	int r;

	if (mod == NULL)
		return -EINVAL;
	r = sysmod_path(mod, "initstate", path);
	if (r < 0)
		return r;
	r = read_attr(path, buf, sizeof(buf));
	if (r == 0) {
		for (int i = KMODX_MODULE_LIVE; i <= KMODX_MODULE_GOING; i++) {
			if (streq(buf, initstate_names[i]))
				return i;
		}
		return -EINVAL;
	}
	bool builtin;

	r = module_is_builtin(mod, &builtin);
	if (r < 0)
		return r;
	if (builtin)
		return KMODX_MODULE_BUILTIN;
	/*
	 * The kernel creates /sys/module/<name> without initstate only for built-in code
	 * (to hold its parameters); a loading module has initstate from the start. So a
	 * bare directory means built-in even when modules.builtin is missing, as in
	 * containers without /lib/modules.
	 */
	if (sysmod_path(mod, NULL, path) == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return KMODX_MODULE_BUILTIN;
	return -ENOENT;
}

/*
 * The fields of the module's /proc/modules line, "name size refcnt holders state addr",
 * copied into buf: the fallback when /sys/module/<name> cannot tell (a module going
 * away, a tree without /sys). -ENOENT if the module is not listed.
 */
static int proc_modules_fields(struct kmodx_module *mod, char *buf, size_t size,
			       char *fields[6])
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX], *line, *save;
	size_t nlen = strlen(mod->name);
	int r = ctx_path(mod->ctx, "/proc/modules", path);

	if (r == 0)
		r = read_file_at(AT_FDCWD, path, PROC_MODULES_MAX, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = 0;

		if (strncmp(line, mod->name, nlen) != 0 || line[nlen] != ' ')
			continue;
		snprintf(buf, size, "%s", line);
		for (char *f = strtok_r(buf, " ", &save); f && n < 6; f = strtok_r(NULL, " ", &save))
			fields[n++] = f;
		while (n < 6)
			fields[n++] = (char *)"";
		return 0;
	}
	return -ENOENT;
}

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end ? -EINVAL : 0;
}

_public_ int kmodx_module_get_refcnt(struct kmodx_module *mod)
{
	char path[PATH_MAX];
	long v;
	int r;

	if (mod == NULL)
		return -EINVAL;
	r = sysmod_path(mod, "refcnt", path);
	if (r == 0)
		r = read_attr_long(path, &v);
	if (r < 0) {
		char buf[4096], *fields[6];
		unsigned long u = 0;

		r = proc_modules_fields(mod, buf, sizeof(buf), fields);
		if (r == 0)
			r = parse_ulong(fields[2], &u);
		if (r < 0)
			return r;
		v = (long)MIN(u, (unsigned long)INT32_MAX);
	}
	return v < 0 || v > INT32_MAX ? -ERANGE : (int)v;
}

_public_ int kmodx_module_get_size(struct kmodx_module *mod, unsigned long *size)
{
	char path[PATH_MAX];
	long v;
	int r;

	if (mod == NULL || size == NULL)
		return -EINVAL;
	r = sysmod_path(mod, "coresize", path);
	if (r == 0 && read_attr_long(path, &v) == 0 && v >= 0) {
		*size = (unsigned long)v;
		return 0;
	}
	char buf[4096], *fields[6];

	r = proc_modules_fields(mod, buf, sizeof(buf), fields);
	return r < 0 ? r : parse_ulong(fields[1], size);
}

/*
 * sysfs lists a directory in the order of kernfs's name hash, so that is the order
 * kmod prints holders in on a real system. Sorting by that hash gives the same output
 * there and a deterministic one on fake trees (tests, images), where readdir order is
 * whatever the file system makes it.
 */
static uint32_t kernfs_name_hash(const char *name)
{
	uint64_t hash = 0; /* a 64-bit kernel's unsigned long */
	uint32_t h;

	for (const char *p = name; *p; p++) {
		uint64_t c = (uint64_t)(int64_t)*p;

		hash = (hash + (c << 4) + (c >> 4)) * 11;
	}
	h = (uint32_t)((hash * 0x61C8864680B583EBull) >> 32);
	h &= 0x7fffffffu;
	if (h < 2)
		h += 2;
	if (h >= 0x7fffffffu)
		h = 0x7fffffffu - 1;
	return h;
}

static int kernfs_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	uint32_t hx = kernfs_name_hash(x), hy = kernfs_name_hash(y);

	if (hx != hy)
		return hx < hy ? -1 : 1;
	return strcmp(x, y);
}

/* The holders field of /proc/modules: "a,b," or "-". */
static int holders_from_proc(struct kmodx_module *mod, struct ptrarray *names)
{
	char buf[4096], *fields[6], *save, *h;
	int r = proc_modules_fields(mod, buf, sizeof(buf), fields);

	if (r < 0)
		return r;
	for (h = strtok_r(fields[3], ",", &save); h && r == 0; h = strtok_r(NULL, ",", &save)) {
		char *name;

		if (streq(h, "-"))
			continue;
		name = strdup(h);
		r = name ? ptrarray_push(names, name) : -ENOMEM;
		if (r < 0)
			free(name);
	}
	return r;
}

_public_ int kmodx_module_get_holders(struct kmodx_module *mod, struct kmodx_list **out)
{
	struct ptrarray names = PTRARRAY_INIT;
	struct kmodx_list *list = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = sysmod_path(mod, "holders", path);
	if (r < 0)
		return r;
	d = opendir(path);
	if (d == NULL) {
		r = holders_from_proc(mod, &names);
		if (r < 0) {
			ptrarray_release_with(&names, free);
			return r;
		}
	}
	while (d && r == 0 && (de = readdir(d)) != NULL) {
		char *name;

		if (de->d_name[0] == '.')
			continue;
		name = strdup(de->d_name);
		r = name ? ptrarray_push(&names, name) : -ENOMEM;
		if (r < 0)
			free(name);
	}
	if (d)
		closedir(d);
	sort(names.v, names.n, sizeof(char *), kernfs_cmp);
	if (r == 0)
		r = list_new(&list);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		struct kmodx_module *h;

		r = kmodx_module_new_from_name(mod->ctx, names.v[i], &h);
		if (r == 0) {
			r = list_append(list, h);
			kmodx_module_unref(h);
		}
	}
	ptrarray_release_with(&names, free);
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_get_sections(struct kmodx_module *mod, struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = sysmod_path(mod, "sections", path);
	if (r < 0)
		return r;
	d = opendir(path);
	if (d == NULL)
		return -errno;
	r = kvlist_new(&list);
	while (r == 0 && (de = readdir(d)) != NULL) {
		char file[PATH_MAX + 256], buf[64], *end;
		unsigned long long addr;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (read_attr(file, buf, sizeof(buf)) < 0)
			continue;
		addr = strtoull(buf, &end, 16);
		if (end == buf)
			continue;
		r = kvlist_add(list, de->d_name, strlen(de->d_name), NULL, 0, addr);
	}
	closedir(d);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_new_from_loaded(struct kmodx_ctx *ctx, struct kmodx_list **out)
{
	_cleanup_(freep) char *text = NULL;
	struct kmodx_list *list;
	char path[PATH_MAX], *line, *save;
	int r;

	if (ctx == NULL || out == NULL)
		return -EINVAL;
	r = ctx_path(ctx, "/proc/modules", path);
	if (r == 0)
		r = read_file_at(AT_FDCWD, path, PROC_MODULES_MAX, &text, NULL);
	if (r < 0) {
		ERR(ctx, "could not open %s: %s", path, strerror(-r));
		return r;
	}
	r = list_new(&list);
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		struct kmodx_module *mod;
		char *sp = strchr(line, ' ');

		if (sp)
			*sp = '\0';
		if (line[0] == '\0')
			continue;
		r = kmodx_module_new_from_name(ctx, line, &mod);
		if (r == -EINVAL) {
			r = 0;
			continue;
		}
		if (r == 0) {
			r = list_append(list, mod);
			kmodx_module_unref(mod);
		}
	}
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

/* ---- load and remove ---- */

static int insert_image(struct kmodx_module *mod, struct kmodx_file *f, unsigned flags,
			const char *args)
{
	unsigned strip = 0;
	uint8_t *copy = NULL;
	struct elf *elf;
	int r;

	r = file_load(mod->ctx, f);
	if (r < 0)
		return r;
	if (flags & KMODX_INSERT_FORCE_MODVERSION)
		strip |= ELF_STRIP_MODVERSION;
	if (flags & KMODX_INSERT_FORCE_VERMAGIC)
		strip |= ELF_STRIP_VERMAGIC;
	if (strip) {
		r = file_get_elf(mod->ctx, f, &elf);
		if (r < 0)
			return r;
		r = elf_strip(elf, strip, &copy);
		if (r < 0)
			return r;
	}
	r = kernel_init_module(mod->ctx, copy ? copy : f->data, f->size, args);
	free(copy);
	return r;
}

_public_ int kmodx_module_insert(struct kmodx_module *mod, unsigned flags, const char *args)
{
	struct kmodx_file *f;
	unsigned kflags = 0;
	int r = 0;

	if (mod == NULL)
		return -EINVAL;
	if (args == NULL)
		args = "";
	if (kmodx_module_get_path(mod) == NULL) {
		ERR(mod->ctx, "could not find module by name='%s'", mod->name);
		return -ENOENT;
	}
	f = module_get_file(mod, &r);
	if (f == NULL)
		return r;
	if (flags & KMODX_INSERT_FORCE_MODVERSION)
		kflags |= MODULE_INIT_IGNORE_MODVERSIONS;
	if (flags & KMODX_INSERT_FORCE_VERMAGIC)
		kflags |= MODULE_INIT_IGNORE_VERMAGIC;
	if (file_get_compression(f) == COMPRESSION_NONE) {
		r = kernel_finit_module(mod->ctx, f->fd, args, kflags);
		if (r != -ENOSYS)
			goto done;
	} else if ((int)f->compression == ctx_get_kernel_compression(mod->ctx)) {
		r = kernel_finit_module(mod->ctx, f->fd, args, kflags | MODULE_INIT_COMPRESSED_FILE);
		if (r != -ENOSYS && r != -EOPNOTSUPP)
			goto done;
		DBG(mod->ctx, "%s: the kernel cannot decompress it, decompressing here",
		    f->path);
	}
	r = insert_image(mod, f, flags, args);
done:
	if (r < 0)
		INFO(mod->ctx, "Failed to insert module '%s': %s", f->path, strerror(-r));
	return r;
}

_public_ int kmodx_module_remove(struct kmodx_module *mod, unsigned flags)
{
	unsigned kflags = O_NONBLOCK;
	int r;

	if (mod == NULL)
		return -EINVAL;
	if (flags & KMODX_REMOVE_FORCE)
		kflags |= O_TRUNC;
	r = kernel_delete_module(mod->ctx, mod->name, kflags);
	if (r < 0 && !(flags & KMODX_REMOVE_NOLOG))
		ERR(mod->ctx, "could not remove '%s': %s", mod->name, strerror(-r));
	return r;
}
