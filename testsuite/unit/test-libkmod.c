// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkmod.so.2's layer where the differential test cannot reach: the log function's
 * arguments, kmod_validate_resources() after depmod rewrote an index, lists walked from
 * any entry, entries of one kind of list given to another's getters, and loading and
 * probing for real (on the simulated kernel: kmodx's indexes and sysfs under a
 * temporary root) with print_action and run_install and their answers.
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "depmod.h"
#include "libkmod.h"
#include "libkmodx.h"
#include "unit.h"

#define KVER "6.1.0-unit"

static char root[PATH_MAX], moddir[PATH_MAX + 32], confdir[PATH_MAX + 32];

static void quiet(void *data, int prio, const char *msg)
{
	(void)data, (void)prio, (void)msg;
}

static void quiet_va(void *data, int prio, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	(void)data, (void)prio, (void)file, (void)line, (void)fn, (void)format,
		(void)args;
}

static void run_depmod(void)
{
	const char *const none[] = {NULL};
	struct depmod_options o = {
		.basedir = root,
		.kver = KVER,
		.config_paths = none,
		.threads = 1,
		.out_fd = STDOUT_FILENO,
	};
	struct kmodx_ctx *ctx;

	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	assert_int_equal(depmod_run(ctx, &o), 0);
	kmodx_ctx_unref(ctx);
}

static int setup(void **state)
{
	char cmd[PATH_MAX * 4];

	(void)state;
	strcpy(root, "/tmp/kmodx-unit-libkmod-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(moddir, sizeof(moddir), "%s/lib/modules/" KVER, root);
	snprintf(confdir, sizeof(confdir), "%s/etc/modprobe.d", root);
	/* a.ko <- b.ko.xz (softdep pre: a) <- sub/c.ko, from the depmod unit tree without
	 * its updates/c.ko */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/lib/modules' && cp -r '%s/depmod-tree' '%s' && rm -r "
		 "'%s/updates'",
		 root, UNIT_BUILD_DIR, moddir, moddir);
	if (system(cmd) != 0)
		return -1;
	unit_write_text(
		root, "etc/modprobe.d/test.conf",
		"install b /bin/true\nblacklist a\noptions c x=1\nalias my-c c\n");
	unit_write_text(root, "proc/modules", "");
	unit_write_text(root, "proc/cmdline", "quiet\n");
	run_depmod();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmtree(root);
}

/* A context on the temporary root, so that the simulated kernel acts there: kmod_new()
 * has no root, but a kmod_ctx is a kmodx_ctx. */
static struct kmod_ctx *root_ctx(void)
{
	const char *const paths[] = {confdir, NULL};
	struct kmodx_ctx *ctx;

	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	assert_int_equal(kmodx_ctx_set_root(ctx, root), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, KVER), 0);
	assert_int_equal(kmodx_ctx_set_config_paths(ctx, paths), 0);
	return (struct kmod_ctx *)ctx;
}

static struct kmod_module *lookup_one(struct kmod_ctx *ctx, const char *alias)
{
	struct kmod_list *l = NULL;
	struct kmod_module *mod;

	assert_int_equal(kmod_module_new_from_lookup(ctx, alias, &l), 0);
	assert_non_null(l);
	mod = kmod_module_get_module(l);
	kmod_module_unref_list(l);
	return mod;
}

/* ---- logging ---- */

struct logged {
	int count, prio;
	char file[PATH_MAX], fn[64], text[512];
};

static void log_va(void *data, int prio, const char *file, int line, const char *fn,
		   const char *format, va_list args) __attribute__((format(printf, 6, 0)));

static void log_va(void *data, int prio, const char *file, int line, const char *fn,
		   const char *format, va_list args)
{
	struct logged *l = data;

	assert_true(line > 0);
	l->count++;
	l->prio = prio;
	snprintf(l->file, sizeof(l->file), "%s", file);
	snprintf(l->fn, sizeof(l->fn), "%s", fn);
	vsnprintf(l->text, sizeof(l->text), format, args);
}

static void test_log(void **state)
{
	const char *const paths[] = {confdir, NULL};
	struct kmod_ctx *ctx = kmod_new(moddir, paths);
	struct kmod_list *l = NULL;
	struct logged logged = {0};
	static int marker;

	(void)state;
	assert_non_null(ctx);
	assert_null(kmod_get_userdata(ctx));
	kmod_set_userdata(ctx, &marker);
	assert_ptr_equal(kmod_get_userdata(ctx), &marker);
	kmod_set_log_fn(ctx, log_va, &logged);
	/* an alias that cannot be a pattern is an error, and logged */
	assert_int_equal(kmod_module_new_from_lookup(ctx, "[broken", &l), -EINVAL);
	assert_int_equal(logged.count, 1);
	assert_int_equal(logged.prio, LOG_ERR);
	assert_non_null(strstr(logged.file, ".c"));
	assert_true(logged.fn[0] != '\0');
	assert_non_null(strstr(logged.text, "[broken"));
	assert_int_equal(logged.text[strlen(logged.text) - 1], '\n');
	/* below the priority: not logged */
	kmod_set_log_priority(ctx, LOG_CRIT);
	assert_int_equal(kmod_module_new_from_lookup(ctx, "[broken", &l), -EINVAL);
	assert_int_equal(logged.count, 1);
	assert_null(kmod_unref(ctx));
}

/* ---- resources ---- */

static void set_mtime(const char *path, time_t t)
{
	const struct timespec ts[2] = {{t, 0}, {t, 0}};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_resources(void **state)
{
	const char *const paths[] = {confdir, NULL};
	char dep[PATH_MAX * 2];
	struct kmod_ctx *ctx;

	(void)state;
	snprintf(dep, sizeof(dep), "%s/modules.dep.bin", moddir);
	set_mtime(confdir, 1000);
	ctx = kmod_new(moddir, paths);
	assert_non_null(ctx);
	kmod_set_log_fn(ctx, quiet_va, NULL);
	assert_string_equal(kmod_get_dirname(ctx), moddir);
	assert_int_equal(kmod_load_resources(ctx), 0);
	assert_int_equal(kmod_validate_resources(ctx), KMOD_RESOURCES_OK);
	/* depmod ran again: the indexes are rewritten */
	run_depmod();
	set_mtime(dep, 2000);
	assert_int_equal(kmod_validate_resources(ctx), KMOD_RESOURCES_MUST_RELOAD);
	kmod_unload_resources(ctx);
	assert_int_equal(kmod_load_resources(ctx), 0);
	assert_int_equal(kmod_validate_resources(ctx), KMOD_RESOURCES_OK);
	/* a package dropped a file into modprobe.d */
	set_mtime(confdir, 3000);
	assert_int_equal(kmod_validate_resources(ctx), KMOD_RESOURCES_MUST_RECREATE);
	kmod_unref(ctx);
	assert_int_equal(kmod_validate_resources(NULL), KMOD_RESOURCES_MUST_RECREATE);
}

/* ---- lists ---- */

static const char *name_of(const struct kmod_list *e)
{
	struct kmod_module *m = kmod_module_get_module(e);
	const char *name = kmod_module_get_name(m);

	kmod_module_unref(m); /* the list keeps it alive */
	return name;
}

static void test_lists(void **state)
{
	struct kmod_ctx *ctx = root_ctx();
	struct kmod_module *c = lookup_one(ctx, "c"), *b;
	struct kmod_list *deps = kmod_module_get_dependencies(c), *second, *info = NULL;

	(void)state;
	/* load order: a, then b */
	assert_non_null(deps);
	assert_string_equal(name_of(deps), "a");
	second = kmod_list_next(deps, deps);
	assert_string_equal(name_of(second), "b");
	assert_null(kmod_list_next(deps, second));
	assert_ptr_equal(kmod_list_last(deps), second);
	assert_ptr_equal(kmod_list_prev(deps, second), deps);
	assert_null(kmod_list_prev(deps, deps));
	/* a list is circular: from its second entry, the next is the first, then the end
	 */
	assert_ptr_equal(kmod_list_next(second, second), deps);
	assert_null(kmod_list_next(second, deps));
	assert_ptr_equal(kmod_list_last(second), deps);
	/* the same module by name while referenced: the same object */
	assert_int_equal(kmod_module_new_from_name(ctx, "b", &b), 0);
	assert_ptr_equal(b, kmod_module_get_module(second));
	assert_ptr_equal(kmod_module_unref(b), b);
	assert_ptr_equal(kmod_module_unref(b), b);
	/* entries of another kind of list are refused, not misread */
	assert_true(kmod_module_get_info(c, &info) > 0);
	assert_null(kmod_module_get_module(info));
	assert_null(kmod_module_info_get_key(deps));
	assert_null(kmod_module_version_get_symbol(info));
	assert_int_equal(kmod_module_dependency_symbol_get_bind(info), 0);
	assert_int_equal(kmod_module_section_get_address(info), (unsigned long)-1);
	kmod_module_unref_list(info); /* not a module list: left alone */
	assert_non_null(kmod_module_info_get_key(info));
	kmod_module_info_free_list(info);
	kmod_module_unref_list(deps);
	kmod_module_unref(c);
	kmod_unref(ctx);
}

/* ---- loading on the simulated kernel ---- */

struct actions {
	char text[512];
	int answer; /* what run_install answers */
	int installs;
};

static void print_action(struct kmod_module *m, bool install, const char *options)
{
	(void)m, (void)install, (void)options;
}

static struct actions *actions;

static void record_action(struct kmod_module *m, bool install, const char *options)
{
	size_t len = strlen(actions->text);

	snprintf(actions->text + len, sizeof(actions->text) - len, "%s:%s:%s;",
		 kmod_module_get_name(m), install ? "install" : "insmod", options);
}

static int run_install(struct kmod_module *m, const char *cmdline, void *data)
{
	struct actions *a = data;

	assert_string_equal(kmod_module_get_name(m), "b");
	assert_string_equal(cmdline, "/bin/true");
	a->installs++;
	return a->answer;
}

static void test_insert_remove(void **state)
{
	struct kmod_ctx *ctx = root_ctx();
	struct kmod_module *a = lookup_one(ctx, "a");
	struct kmod_list *loaded = NULL;

	(void)state;
	assert_int_equal(kmod_module_get_initstate(a), -ENOENT);
	assert_int_equal(kmod_module_insert_module(a, 0, "p=1"), 0);
	assert_int_equal(kmod_module_get_initstate(a), KMOD_MODULE_LIVE);
	assert_int_equal(kmod_module_insert_module(a, 0, NULL), -EEXIST);
	assert_int_equal(kmod_module_new_from_loaded(ctx, &loaded), 0);
	assert_string_equal(name_of(loaded), "a");
	kmod_module_unref_list(loaded);
	assert_int_equal(kmod_module_remove_module(a, 0), 0);
	assert_int_equal(kmod_module_remove_module(a, KMOD_REMOVE_NOLOG), -ENOENT);
	kmod_module_unref(a);
	kmod_unref(ctx);
}

static void test_probe(void **state)
{
	struct actions acts = {.answer = 7};
	struct kmod_ctx *ctx = root_ctx();
	struct kmod_module *c = lookup_one(ctx, "my-c"), *a = lookup_one(ctx, "a");

	(void)state;
	actions = &acts;
	/* the install command of b runs through run_install; its positive answer does not
	 * stop the probe, and is the result of the last module only */
	assert_int_equal(kmod_module_probe_insert_module(c, 0, "y=2", run_install, &acts,
							 record_action),
			 0);
	assert_string_equal(acts.text, "a:insmod:;b:install:;c:insmod:x=1 y=2;");
	assert_int_equal(acts.installs, 1);
	assert_int_equal(kmod_module_get_initstate(c), KMOD_MODULE_LIVE);
	assert_int_equal(kmod_module_probe_insert_module(c, 0, NULL, NULL, NULL, NULL),
			 0);
	assert_int_equal(kmod_module_probe_insert_module(c, KMOD_PROBE_FAIL_ON_LOADED,
							 NULL, NULL, NULL, NULL),
			 -EEXIST);
	/* b alone, still not loaded (its command only answered): the runner's answer */
	{
		struct kmod_module *b = lookup_one(ctx, "b");

		acts.text[0] = '\0';
		assert_int_equal(kmod_module_probe_insert_module(
					 b, KMOD_PROBE_IGNORE_LOADED, NULL, run_install,
					 &acts, record_action),
				 7);
		acts.answer = -EPERM;
		assert_int_equal(kmod_module_probe_insert_module(b, 0, NULL, run_install,
								 &acts, print_action),
				 -EPERM);
		kmod_module_unref(b);
	}
	/* blacklisted: the flag that stopped it comes back, positive */
	assert_int_equal(kmod_module_probe_insert_module(
				 a, KMOD_PROBE_APPLY_BLACKLIST | KMOD_PROBE_IGNORE_LOADED,
				 NULL, NULL, NULL, NULL),
			 KMOD_PROBE_APPLY_BLACKLIST);
	assert_int_equal(kmod_module_probe_insert_module(a,
							 KMOD_PROBE_APPLY_BLACKLIST_ALL |
								 KMOD_PROBE_IGNORE_LOADED,
							 NULL, NULL, NULL, NULL),
			 KMOD_PROBE_APPLY_BLACKLIST_ALL);
	kmod_module_unref(a);
	kmod_module_unref(c);
	kmod_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log),   cmocka_unit_test(test_resources),
		cmocka_unit_test(test_lists), cmocka_unit_test(test_insert_remove),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
