// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module objects and lists of the public API, against a temporary root: pooling and
 * reference counts, modules.dep load order (index-format.md §6.3), builtin modules and
 * modules.builtin.modinfo, modules.devname, text indexes standing in for missing .bin
 * files, index dumps, and the symbol lists of a generated module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "index-text.h"
#include "index.h"
#include "libkmodx-private.h"
#include "libkmodx.h"
#include "util/path.h"
#include "unit.h"

#define KVER "6.1.0-unit"

static char root[PATH_MAX];

static const char builtin_modinfo[] = "ext4.license=GPL\0ext4.alias=fs-ext4\0"
				      "ext4x.description=not ext4\0ext4.alias=ext3\0"
				      "ext4.flagonly\0crc32c.alias=crypto-crc32c\0"
				      "ext4.description=Fourth Extended Filesystem";

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/kmodx-unit-mod-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	unit_write_text(root, "lib/modules/" KVER "/modules.dep",
		   "kernel/fs/top-mod.ko.xz: kernel/lib/mid.ko kernel/lib/base.ko\n"
		   "kernel/lib/mid.ko: kernel/lib/base.ko\n"
		   "kernel/lib/base.ko:\n"
		   "/opt/external/ext.ko:\n");
	unit_write_text(root, "lib/modules/" KVER "/modules.alias",
		   "# Aliases extracted from modules themselves.\n"
		   "alias pci:v00008086d*sv*sd*bc02sc00i* top_mod\n"
		   "alias fs-top top_mod\n"
		   "alias bad[bracket mid\n"
		   "alias \xe9t\xe9 mid\n"
		   "alias usb:v*p*d*dc*dsc*dp*ic09isc*ip*in* mid\n");
	unit_write_text(root, "lib/modules/" KVER "/modules.symbols",
		   "alias symbol:base_func base\n");
	unit_write_text(root, "lib/modules/" KVER "/modules.builtin",
		   "kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c_generic.ko\n");
	unit_write(root, "lib/modules/" KVER "/modules.builtin.modinfo", builtin_modinfo,
		   sizeof(builtin_modinfo));
	unit_write_text(root, "lib/modules/" KVER "/modules.devname",
		   "# Device nodes to trigger on-demand module loading.\n"
		   "fuse fuse c10:229\n"
		   "loop loop-control c10:237\n"
		   "not a valid line\n"
		   "odd odd z1:2\n"
		   "big big c1048576:0\n"
		   "dm_mod mapper/control c10:236\n"
		   "sd sda b8:0\n"
		   "short c1\n");
	/* runtime state: sysfs for some modules, /proc/modules for one without sysfs */
	unit_write_text(root, "sys/module/live_mod/initstate", "live\n");
	unit_write_text(root, "sys/module/live_mod/refcnt", "2\n");
	unit_write_text(root, "sys/module/live_mod/coresize", "16384\n");
	unit_write_text(root, "sys/module/live_mod/holders/user_b", "");
	unit_write_text(root, "sys/module/live_mod/holders/user_a", "");
	unit_write_text(root, "sys/module/coming_mod/initstate", "coming\n");
	unit_write_text(root, "sys/module/coming_mod/refcnt", "0\n");
	unit_write_text(root, "sys/module/coming_mod/holders/.keep", "");
	unit_write_text(root, "sys/module/bogus_mod/initstate", "sleeping\n");
	unit_write_text(root, "sys/module/params_only/parameters/x", "1\n");
	unit_write_text(root, "proc/modules",
		   "live_mod 16384 2 user_a,user_b, Live 0xffffffffc0000000\n"
		   "proc_mod 4096 1 live_mod, Live 0xffffffffc0100000\n"
		   "lonely 8192 0 - Live 0xffffffffc0200000\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmtree(root);
}

static const char *names(const struct kmodx_list *l)
{
	static char buf[1024];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kmodx_list_count(l); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? " " : "",
					kmodx_module_get_name(kmodx_list_get(l, i)));
	return buf;
}

static void test_pool_and_refs(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_module *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(kmodx_module_new_from_name(ctx, "snd-hda-intel", &a), 0);
	assert_int_equal(kmodx_module_new_from_name(ctx, "snd_hda_intel", &b), 0);
	assert_ptr_equal(a, b); /* pooled by normalised name */
	assert_string_equal(kmodx_module_get_name(a), "snd_hda_intel");
	assert_ptr_equal(kmodx_module_ref(a), a);
	assert_ptr_equal(kmodx_module_unref(a), a); /* two references left */
	assert_ptr_equal(kmodx_module_unref(a), a);
	assert_string_equal(kmodx_module_get_name(b), "snd_hda_intel"); /* still alive */
	assert_null(kmodx_module_unref(b));
	assert_null(kmodx_module_unref(NULL));

	/* names that are paths or patterns with broken brackets */
	b = (struct kmodx_module *)0x1;
	assert_int_equal(kmodx_module_new_from_name(ctx, "a/b", &b), -EINVAL);
	assert_int_equal(kmodx_module_new_from_name(ctx, "..", &b), -EINVAL);
	assert_int_equal(kmodx_module_new_from_name(ctx, "", &b), -EINVAL);
	assert_int_equal(kmodx_module_new_from_name(ctx, "x]", &b), -EINVAL);
	assert_int_equal(kmodx_module_new_from_name(ctx, NULL, &b), -EINVAL);
	assert_ptr_equal(b, (struct kmodx_module *)0x1); /* untouched on failure */

	/* a module object keeps its context alive */
	assert_int_equal(kmodx_module_new_from_name(ctx, "keeper", &a), 0);
	kmodx_ctx_unref(ctx);
	assert_string_equal(kmodx_module_get_name(a), "keeper");
	kmodx_module_unref(a);

	/* accessors of empty and out-of-range lists */
	assert_int_equal(kmodx_list_count(NULL), 0);
	assert_null(kmodx_list_get(NULL, 0));
	assert_int_equal(kmodx_kvlist_count(NULL), 0);
	assert_null(kmodx_kvlist_key(NULL, 0));
	assert_null(kmodx_kvlist_value(NULL, 3));
	assert_int_equal(kmodx_kvlist_number(NULL, 0), 0);
	kmodx_list_free(NULL);
	kmodx_kvlist_free(NULL);
	assert_string_equal(kmodx_initstate_str(KMODX_MODULE_LIVE), "live");
	assert_string_equal(kmodx_initstate_str(KMODX_MODULE_BUILTIN), "builtin");
	assert_null(kmodx_initstate_str(-1));
	assert_null(kmodx_initstate_str(99));
}

static void test_dependencies(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_module *mod = NULL;
	struct kmodx_list *deps = NULL, *l = NULL;
	char want[PATH_MAX * 2];

	(void)state;
	assert_int_equal(kmodx_module_new_from_name(ctx, "top-mod", &mod), 0);
	snprintf(want, sizeof(want), "%s/lib/modules/" KVER "/kernel/fs/top-mod.ko.xz",
		 root);
	assert_string_equal(kmodx_module_get_path(mod), want);
	assert_false(kmodx_module_is_builtin(mod));
	/* modules.dep lists a module's dependencies: load them right to left */
	assert_int_equal(kmodx_module_get_dependencies(mod, &deps), 0);
	assert_string_equal(names(deps), "base mid");
	kmodx_list_free(deps);
	kmodx_module_unref(mod);

	assert_int_equal(kmodx_module_new_from_name(ctx, "base", &mod), 0);
	assert_int_equal(kmodx_module_get_dependencies(mod, &deps), 0);
	assert_int_equal(kmodx_list_count(deps), 0); /* empty is success */
	kmodx_list_free(deps);
	kmodx_module_unref(mod);

	/* an absolute path in modules.dep (an external module) is a system path: it is
	 * found under the root, not the module directory */
	assert_int_equal(kmodx_module_new_from_name(ctx, "ext", &mod), 0);
	snprintf(want, sizeof(want), "%s/opt/external/ext.ko", root);
	assert_string_equal(kmodx_module_get_path(mod), want);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "unknown", &mod), 0);
	assert_null(kmodx_module_get_path(mod));
	kmodx_module_unref(mod);

	/* lookups through the text indexes */
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "fs-top", &l), 0);
	assert_string_equal(names(l), "top_mod");
	kmodx_list_free(l);
	assert_int_equal(kmodx_module_new_from_lookup(
				 ctx, "pci:v00008086d000010D3sv0sd0bc02sc00i00", &l),
			 0);
	assert_string_equal(names(l), "top_mod");
	kmodx_list_free(l);
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "symbol:base_func", &l), 0);
	assert_string_equal(names(l), "base");
	kmodx_list_free(l);
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "no-such-thing", &l), 0);
	assert_int_equal(kmodx_list_count(l), 0);
	kmodx_list_free(l);
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "bad[", &l), -EINVAL);
	assert_int_equal(kmodx_module_new_from_name_lookup(ctx, "no_such", &mod),
			 -ENOENT);
	kmodx_ctx_unref(ctx);
}

static void test_builtin(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_module *mod = NULL;
	struct kmodx_kvlist *info = NULL;
	struct kmodx_list *l = NULL;
	char text[512] = "";
	size_t len = 0;

	(void)state;
	assert_int_equal(kmodx_module_new_from_name_lookup(ctx, "ext4", &mod), 0);
	assert_true(kmodx_module_is_builtin(mod));
	assert_null(kmodx_module_get_path(mod));
	assert_int_equal(kmodx_module_get_info(mod, &info), 0);
	for (size_t i = 0; i < kmodx_kvlist_count(info); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s=%s;",
					kmodx_kvlist_key(info, i),
					kmodx_kvlist_value(info, i));
	/* ext4's records only (not ext4x's), in order; the last one unterminated */
	assert_string_equal(text, "license=GPL;alias=fs-ext4;alias=ext3;flagonly=;"
				  "description=Fourth Extended Filesystem;");
	kmodx_kvlist_free(info);
	kmodx_module_unref(mod);

	/* builtin aliases, normalised as keys */
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "fs-ext4", &l), 0);
	assert_string_equal(names(l), "ext4");
	assert_true(kmodx_module_is_builtin(kmodx_list_get(l, 0)));
	kmodx_list_free(l);
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "crypto-crc32c", &l), 0);
	assert_string_equal(names(l), "crc32c");
	kmodx_list_free(l);
	/* modules.builtin names come from the file name */
	assert_int_equal(kmodx_module_new_from_lookup(ctx, "crc32c-generic", &l), 0);
	assert_string_equal(names(l), "crc32c_generic");
	kmodx_list_free(l);
	kmodx_ctx_unref(ctx);
}

static void test_devnodes(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_kvlist *l = NULL;

	(void)state;
	assert_int_equal(kmodx_get_devnodes(ctx, &l), 0);
	assert_int_equal(kmodx_kvlist_count(l), 4);
	static const struct {
		const char *mod, *dev;
		char type;
		unsigned maj, min;
	} want[] = {{"fuse", "fuse", 'c', 10, 229},
		    {"loop", "loop-control", 'c', 10, 237},
		    {"dm_mod", "mapper/control", 'c', 10, 236},
		    {"sd", "sda", 'b', 8, 0}};
	for (size_t i = 0; i < 4; i++) {
		uint64_t n = kmodx_kvlist_number(l, i);

		assert_string_equal(kmodx_kvlist_key(l, i), want[i].mod);
		assert_string_equal(kmodx_kvlist_value(l, i), want[i].dev);
		assert_int_equal(KMODX_DEVNODE_TYPE(n), want[i].type);
		assert_int_equal(KMODX_DEVNODE_MAJOR(n), want[i].maj);
		assert_int_equal(KMODX_DEVNODE_MINOR(n), want[i].min);
	}
	assert_null(kmodx_kvlist_key(l, 4));
	kmodx_kvlist_free(l);
	kmodx_ctx_unref(ctx);

	/* a missing file */
	ctx = NULL;
	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	assert_int_equal(kmodx_ctx_set_root(ctx, root), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "0.0-none"), 0);
	l = (struct kmodx_kvlist *)0x1;
	assert_int_equal(kmodx_get_devnodes(ctx, &l), -ENOENT);
	assert_ptr_equal(l, (struct kmodx_kvlist *)0x1);
	kmodx_ctx_unref(ctx);
}

/* Text indexes built directly, checked with the index reader. */
static void test_index_text(void **state)
{
	struct index_values vals = {0};
	struct index *idx = NULL;
	const char *v;
	char dep[] = "kernel/a-b.ko.zst: kernel/c.ko\n\nkernel/c.ko:\nno colon line\n";
	char alias[] = "alias pci:v*d*bc0[a-c]* m1\nalias usb-x m2\nalias bad[ m3\n"
		       "alias only-key\nnot an alias line\nalias sym:\xff m4\n";
	char builtin[] = "kernel/fs/ext4.ko\nkernel/a/b-c.d.ko\n";
	char modinfo[] =
		"m.alias=a-b\0m.license=GPL\0n.alias=[x-y]-z\0o.alias=bad[\0p.alias\0";

	(void)state;
	assert_int_equal(index_text_build(KMODX_INDEX_DEP, dep, strlen(dep), &idx), 0);
	assert_int_equal(index_search(idx, "a_b", &v), 0);
	assert_string_equal(v, "kernel/a-b.ko.zst: kernel/c.ko"); /* the whole line */
	assert_int_equal(index_search(idx, "c", &v), 0);
	assert_string_equal(v, "kernel/c.ko:");
	assert_int_equal(index_search(idx, "no colon line", &v), -ENOENT);
	index_close(idx);

	assert_int_equal(index_text_build(KMODX_INDEX_ALIAS, alias, strlen(alias), &idx),
			 0);
	assert_int_equal(index_search_wild(idx, "pci:v1d2bc0b", &vals), 0);
	assert_int_equal(vals.n, 1);
	assert_string_equal(vals.v[0].value, "m1");
	index_values_release(&vals);
	/* keys are normalised like alias_normalize(): '-' outside brackets */
	assert_int_equal(index_search_wild(idx, "usb_x", &vals), 0);
	assert_int_equal(vals.n, 1);
	assert_string_equal(vals.v[0].value, "m2");
	index_values_release(&vals);
	assert_int_equal(index_search(idx, "only_key", &v), -ENOENT);
	assert_int_equal(index_search(idx, "bad[", &v), -ENOENT);
	index_close(idx);

	assert_int_equal(
		index_text_build(KMODX_INDEX_BUILTIN, builtin, strlen(builtin), &idx), 0);
	assert_int_equal(index_search(idx, "ext4", &v), 0);
	assert_string_equal(v, "");
	assert_int_equal(index_search(idx, "b_c", &v), 0); /* cut at the first '.' */
	index_close(idx);

	assert_int_equal(index_text_build(KMODX_INDEX_BUILTIN_ALIAS, modinfo,
					  sizeof(modinfo) - 1, &idx),
			 0);
	assert_int_equal(index_search(idx, "a_b", &v), 0);
	assert_string_equal(v, "m");
	assert_int_equal(index_search(idx, "[x-y]_z", &v), 0);
	assert_string_equal(v, "n");
	assert_int_equal(index_search_wild(idx, "x_z", &vals), 0);
	assert_int_equal(vals.n, 1);
	assert_string_equal(vals.v[0].value, "n");
	index_values_release(&vals);
	assert_int_equal(index_search(idx, "license=GPL", &v), -ENOENT);
	index_close(idx);
	assert_int_equal(index_text_build((enum kmodx_index)42, dep, strlen(dep), &idx),
			 -EINVAL);
}

static void test_index_dump(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	char tmpl[] = "/tmp/kmodx-unit-dump-XXXXXX", buf[2048];
	int fd = mkstemp(tmpl);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(kmodx_index_dump(ctx, KMODX_INDEX_SYMBOL, fd), 0);
	assert_int_equal(kmodx_index_dump(ctx, KMODX_INDEX_BUILTIN, fd), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* symbols get modprobe -c's "alias " prefix, builtin does not */
	assert_string_equal(buf, "alias symbol:base_func base\ncrc32c_generic \next4 \n");
	assert_int_equal(kmodx_index_dump(ctx, (enum kmodx_index)9, fd), -EINVAL);
	close(fd);
	kmodx_ctx_unref(ctx);
}

static void test_runtime_state(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_module *mod = NULL;
	struct kmodx_list *l = NULL;
	unsigned long size = 0;

	(void)state;
	assert_int_equal(kmodx_module_new_from_name(ctx, "live-mod", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod), KMODX_MODULE_LIVE);
	assert_int_equal(kmodx_module_get_refcnt(mod), 2);
	assert_int_equal(kmodx_module_get_size(mod, &size), 0);
	assert_int_equal(size, 16384);
	assert_int_equal(kmodx_module_get_holders(mod, &l), 0);
	assert_int_equal(kmodx_list_count(l), 2);
	assert_true(strcmp(names(l), "user_a user_b") == 0 ||
		    strcmp(names(l), "user_b user_a") == 0);
	kmodx_list_free(l);
	kmodx_module_unref(mod);

	/* an empty holders directory: an empty list */
	assert_int_equal(kmodx_module_new_from_name(ctx, "coming_mod", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod), KMODX_MODULE_COMING);
	assert_int_equal(kmodx_module_get_refcnt(mod), 0);
	assert_int_equal(kmodx_module_get_holders(mod, &l), 0);
	assert_int_equal(kmodx_list_count(l), 0);
	kmodx_list_free(l);
	kmodx_module_unref(mod);

	/* no sysfs directory: /proc/modules answers */
	assert_int_equal(kmodx_module_new_from_name(ctx, "proc_mod", &mod), 0);
	assert_int_equal(kmodx_module_get_refcnt(mod), 1);
	assert_int_equal(kmodx_module_get_size(mod, &size), 0);
	assert_int_equal(size, 4096);
	assert_int_equal(kmodx_module_get_holders(mod, &l), 0);
	assert_string_equal(names(l), "live_mod");
	kmodx_list_free(l);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "lonely", &mod), 0);
	assert_int_equal(kmodx_module_get_holders(mod, &l), 0);
	assert_int_equal(kmodx_list_count(l), 0); /* "-" is no holder */
	kmodx_list_free(l);
	kmodx_module_unref(mod);

	/* an unknown state; a bare directory (built-in code with parameters); nothing */
	assert_int_equal(kmodx_module_new_from_name(ctx, "bogus_mod", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod), -EINVAL);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "params_only", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod), KMODX_MODULE_BUILTIN);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "ext4", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod),
			 KMODX_MODULE_BUILTIN); /* modules.builtin */
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "absent", &mod), 0);
	assert_int_equal(kmodx_module_get_initstate(mod), -ENOENT);
	assert_int_equal(kmodx_module_get_refcnt(mod), -ENOENT);
	assert_int_equal(kmodx_module_get_holders(mod, &l), -ENOENT);
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
}

#ifdef UNIT_BUILD_DIR
static const char *kv_text(const struct kmodx_kvlist *l, bool numbers)
{
	static char buf[2048];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kmodx_kvlist_count(l); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					numbers ? "%s/%s/%llx;" : "%s=%s;",
					kmodx_kvlist_key(l, i), kmodx_kvlist_value(l, i),
					(unsigned long long)kmodx_kvlist_number(l, i));
	return buf;
}

static void test_module_file(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_module *mod = NULL, *again = NULL;
	struct kmodx_kvlist *l = NULL;
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/modules/plain.ko.zst", UNIT_BUILD_DIR);
	assert_int_equal(kmodx_module_new_from_path(ctx, path, &mod), 0);
	assert_string_equal(kmodx_module_get_name(mod), "plain");
	assert_string_equal(kmodx_module_get_path(mod), path);
	assert_false(kmodx_module_is_builtin(mod));
	/* the same name with another path is refused */
	snprintf(path, sizeof(path), "%s/modules/plain.ko", UNIT_BUILD_DIR);
	assert_int_equal(kmodx_module_new_from_path(ctx, path, &again), -EEXIST);
	assert_int_equal(kmodx_module_get_info(mod, &l), 0);
	/* gen-module writes .modinfo in the spec's order */
	assert_string_equal(kv_text(l, false), "license=GPL;description=unit test module;"
					       "vermagic=6.1.0 SMP mod_unload;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_module_get_versions(mod, &l), 0);
	assert_string_equal(kv_text(l, true), "printk/U/1234;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_module_get_dependency_symbols(mod, &l), 0);
	assert_string_equal(kv_text(l, true), "printk/U/1234;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_module_get_symbols(mod, &l), 0);
	assert_string_equal(kv_text(l, true), "unit_export/G/0;");
	kmodx_kvlist_free(l);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_path(ctx, "/nonexistent/x.ko", &mod),
			 -ENOENT);
	kmodx_ctx_unref(ctx);
}
#endif

/* Set a file's modification time to t seconds after the epoch. */
static void set_mtime(const char *dir, const char *rel, time_t t)
{
	char path[2 * PATH_MAX];
	const struct timespec ts[2] = {{t, 0}, {t, 0}};

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct logged {
	int count;
	char text[512];
};

static void log_va(void *data, int prio, const char *file, int line, const char *fn,
		   const char *format, va_list args) __attribute__((format(printf, 6, 0)));

static void log_va(void *data, int prio, const char *file, int line, const char *fn,
		   const char *format, va_list args)
{
	struct logged *l = data;

	(void)prio;
	assert_non_null(file);
	assert_true(line > 0);
	assert_non_null(fn);
	l->count++;
	vsnprintf(l->text, sizeof(l->text), format, args);
}

/* kmod_load/validate_resources' answers: a changed configuration directory means a new
 * context, a changed, new or vanished index a reload. */
static void test_resources(void **state)
{
	char dir[PATH_MAX + 16], conf[PATH_MAX + 16];
	const char *paths[] = {conf, NULL};
	struct kmodx_ctx *ctx;
	struct logged logged = {0};
	static int marker;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/res", root);
	snprintf(conf, sizeof(conf), "%s/res-conf", root);
	unit_write_text(dir, "modules.dep", "a.ko:\n");
	unit_write_text(conf, "a.conf", "options a x=1\n");
	set_mtime(root, "res-conf", 1000);
	ctx = unit_ctx(root, KVER);
	assert_int_equal(kmodx_ctx_set_module_dir(ctx, dir), 0);
	assert_int_equal(kmodx_ctx_set_config_paths(ctx, paths), 0);
	kmodx_ctx_set_userdata(ctx, &marker);
	assert_ptr_equal(kmodx_ctx_get_userdata(ctx), &marker);

	/* modules.alias and modules.symbols are missing in every form */
	assert_int_equal(kmodx_ctx_load_resources(ctx), -ENOENT);
	assert_int_equal(kmodx_ctx_validate_resources(ctx), KMODX_RESOURCES_OK);
	/* an index depmod wrote meanwhile */
	unit_write_text(dir, "modules.alias.bin", "not an index");
	assert_int_equal(kmodx_ctx_validate_resources(ctx), KMODX_RESOURCES_MUST_RELOAD);
	kmodx_ctx_unload_resources(ctx);
	assert_int_equal(kmodx_ctx_validate_resources(ctx), KMODX_RESOURCES_OK);
	/* the corrupt index is reported through a kmod-shaped log function */
	kmodx_ctx_set_log_va_fn(ctx, log_va, &logged);
	assert_int_equal(kmodx_ctx_load_resources(ctx), -EBADMSG);
	assert_int_equal(logged.count, 1);
	assert_non_null(strstr(logged.text, "corrupt index"));
	assert_int_equal(logged.text[strlen(logged.text) - 1], '\n');
	assert_int_equal(kmodx_ctx_validate_resources(ctx), KMODX_RESOURCES_OK);
	set_mtime(dir, "modules.alias.bin", 2000);
	assert_int_equal(kmodx_ctx_validate_resources(ctx), KMODX_RESOURCES_MUST_RELOAD);
	/* a changed configuration directory outranks a changed index */
	set_mtime(root, "res-conf", 3000);
	assert_int_equal(kmodx_ctx_validate_resources(ctx),
			 KMODX_RESOURCES_MUST_RECREATE);
	kmodx_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_and_refs), cmocka_unit_test(test_dependencies),
		cmocka_unit_test(test_builtin),	      cmocka_unit_test(test_devnodes),
		cmocka_unit_test(test_index_text),    cmocka_unit_test(test_index_dump),
		cmocka_unit_test(test_runtime_state), cmocka_unit_test(test_resources),
#ifdef UNIT_BUILD_DIR
		cmocka_unit_test(test_module_file),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
