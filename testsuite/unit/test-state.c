// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's state beyond loaded modules, against a temporary root: taint flags
 * (table, oops string, /proc/sys/kernel/tainted, per-module taints from sysfs and from
 * /proc/modules), and module parameters (declarations merged from .modinfo, current
 * values and permissions from sysfs, writes).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "libkmodx.h"
#include "unit.h"

#define KVER "6.1.0-unit"

static char root[PATH_MAX];

/* builtin "demo": three parameters, declared in reverse source order as the kernel
 * writes them, one without a type, one without a description, one malformed entry */
static const char builtin_modinfo[] = "demo.parmtype=level:int\0"
				      "demo.parm=level:how loud\0"
				      "demo.parm=quiet:no type given\0"
				      "demo.parmtype=raw:charp\0"
				      "demo.parm=broken\0"
				      "demo.parmtype=level:uint\0"
				      "demo.license=GPL";

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/kmodx-unit-state-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	unit_write_text(root, "lib/modules/" KVER "/modules.builtin", "kernel/demo.ko\n");
	unit_write(root, "lib/modules/" KVER "/modules.builtin.modinfo", builtin_modinfo,
		   sizeof(builtin_modinfo));
	unit_write_text(root, "proc/sys/kernel/tainted", "12289\n");
	unit_write_text(root, "proc/modules",
			"zfs 100 0 - Live 0xffffffffc0000000 (POE)\n"
			"clean 100 0 - Live 0xffffffffc0000000\n"
			"gone 100 0 - Live 0xffffffffc0000000 (O)\n"
			"coming 100 0 - Loading 0xffffffffc0000000 (E+)\n"
			"newer 100 0 - Live 0xffffffffc0000000\n"
			"../evil 100 0 - Live 0xffffffffc0000000 (P)\n"
			"\n"
			"garbage\n");
	/* sysfs wins over /proc/modules where it exists */
	unit_write_text(root, "sys/module/zfs/taint", "PO\n");
	unit_write_text(root, "sys/module/clean/taint", "\n");
	unit_write_text(root, "sys/module/newer/taint", "OZ\n");
	/* gone has no sysfs directory: removed after /proc/modules was read */
	unit_write_text(root, "sys/module/demo/parameters/level", "3\n");
	unit_write_text(root, "sys/module/demo/parameters/raw", "two\nlines\n");
	unit_write_text(root, "sys/module/demo/parameters/ro", "Y\n");
	unit_write_text(root, "sys/module/demo/parameters/empty", "");
	unit_write_text(root, "sys/module/demo/parameters/weird/x", "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmtree(root);
}

/* buf: PATH_MAX * 2 bytes */
static void path_of(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX * 2, "%s/%s", root, rel);
}

static void test_taint_table(void **state)
{
	const char letters[] = "PFSRMBUDAWCIOELKXTNJ";

	(void)state;
	assert_int_equal(strlen(letters), KMODX_TAINT_COUNT);
	for (unsigned bit = 0; bit < KMODX_TAINT_COUNT; bit++) {
		assert_int_equal(kmodx_taint_letter(bit), letters[bit]);
		assert_int_equal(kmodx_taint_bit(letters[bit]), (int)bit);
		assert_non_null(kmodx_taint_name(bit));
		assert_non_null(kmodx_taint_description(bit));
	}
	assert_string_equal(kmodx_taint_name(0), "PROPRIETARY_MODULE");
	assert_string_equal(kmodx_taint_name(13), "UNSIGNED_MODULE");
	assert_string_equal(kmodx_taint_name(19), "FWCTL");
	assert_int_equal(kmodx_taint_letter(KMODX_TAINT_COUNT), '?');
	assert_int_equal(kmodx_taint_letter(63), '?');
	assert_null(kmodx_taint_name(KMODX_TAINT_COUNT));
	assert_null(kmodx_taint_description(UINT32_MAX));
	assert_int_equal(kmodx_taint_bit('G'), -EINVAL);
	assert_int_equal(kmodx_taint_bit('+'), -EINVAL);
	assert_int_equal(kmodx_taint_bit('\0'), -EINVAL);
}

static void check_string(uint64_t mask, const char *expected)
{
	char buf[KMODX_TAINT_STRING_MAX];

	assert_int_equal(kmodx_taint_string(mask, buf, sizeof(buf)), 0);
	assert_string_equal(buf, expected);
}

static void test_taint_string(void **state)
{
	char buf[KMODX_TAINT_STRING_MAX];

	(void)state;
	check_string(0, "Not tainted");
	check_string(1, "Tainted: P");
	/* a clear bit 0 shows G; the columns stop at the highest set bit */
	check_string(UINT64_C(1) << 12 | UINT64_C(1) << 13, "Tainted: G           OE");
	check_string(UINT64_C(1) << 1, "Tainted: GF");
	check_string((UINT64_C(1) << KMODX_TAINT_COUNT) - 1,
		     "Tainted: PFSRMBUDAWCIOELKXTNJ");
	/* unknown bits keep their column, as '?' */
	check_string(UINT64_C(1) << 21 | 1, "Tainted: P"
					    "          "
					    "          "
					    "?");
	assert_int_equal(kmodx_taint_string(UINT64_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), strlen("Tainted: ") + 64);
	/* too small: an error, never a truncated string taken for the whole */
	assert_int_equal(kmodx_taint_string(0, buf, 11), -ENOSPC);
	assert_int_equal(kmodx_taint_string(0, buf, 12), 0);
	assert_int_equal(kmodx_taint_string(UINT64_C(1) << 13, buf, 9 + 14), -ENOSPC);
	assert_int_equal(kmodx_taint_string(UINT64_C(1) << 13, buf, 9 + 15), 0);
	assert_int_equal(kmodx_taint_string(1, NULL, 10), -EINVAL);
}

static void test_taint_value(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint64_t mask;
	} cases[] = {
		{"0\n", 0, 0},
		{"18446744073709551615\n", 0, UINT64_MAX},
		{"18446744073709551616\n", -EINVAL, 0},
		{"-1\n", -EINVAL, 0},
		{" 1\n", -EINVAL, 0},
		{"12x\n", -EINVAL, 0},
		{"\n", -EINVAL, 0},
	};
	char path[PATH_MAX * 2];
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	uint64_t mask = 42;

	(void)state;
	assert_int_equal(kmodx_get_taint(ctx, &mask), 0);
	assert_int_equal(mask, 12289);
	assert_int_equal(kmodx_get_taint(NULL, &mask), -EINVAL);
	assert_int_equal(kmodx_get_taint(ctx, NULL), -EINVAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_write_text(root, "proc/sys/kernel/tainted", cases[i].text);
		mask = 42;
		assert_int_equal(kmodx_get_taint(ctx, &mask), cases[i].r);
		if (cases[i].r == 0)
			assert_true(mask == cases[i].mask);
	}
	path_of(path, "proc/sys/kernel/tainted");
	unlink(path);
	assert_int_equal(kmodx_get_taint(ctx, &mask), -ENOENT);
	unit_write_text(root, "proc/sys/kernel/tainted", "12289\n");
	kmodx_ctx_unref(ctx);
}

static void test_module_taints(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_kvlist *list = NULL;
	char path[PATH_MAX * 2];

	(void)state;
	assert_int_equal(kmodx_get_module_taints(ctx, &list), 0);
	/* clean is left out, the line with a path for a name and the junk lines too */
	assert_int_equal(kmodx_kvlist_count(list), 4);
	assert_string_equal(kmodx_kvlist_key(list, 0), "zfs");
	assert_string_equal(kmodx_kvlist_value(list, 0), "PO"); /* sysfs, not (POE) */
	assert_int_equal(kmodx_kvlist_number(list, 0), 1 << 0 | 1 << 12);
	assert_string_equal(kmodx_kvlist_key(list, 1), "gone");
	assert_string_equal(kmodx_kvlist_value(list, 1), "O");
	assert_int_equal(kmodx_kvlist_number(list, 1), 1 << 12);
	assert_string_equal(kmodx_kvlist_key(list, 2), "coming");
	assert_string_equal(kmodx_kvlist_value(list, 2), "E"); /* '+' is a state */
	assert_int_equal(kmodx_kvlist_number(list, 2), 1 << 13);
	/* a letter kmodx does not know is kept in the letters, out of the mask */
	assert_string_equal(kmodx_kvlist_key(list, 3), "newer");
	assert_string_equal(kmodx_kvlist_value(list, 3), "OZ");
	assert_int_equal(kmodx_kvlist_number(list, 3), 1 << 12);
	kmodx_kvlist_free(list);

	path_of(path, "proc/modules");
	rename(path, "/tmp/kmodx-unit-state-proc-modules");
	assert_int_equal(kmodx_get_module_taints(ctx, &list), -ENOENT);
	rename("/tmp/kmodx-unit-state-proc-modules", path);
	assert_int_equal(kmodx_get_module_taints(NULL, &list), -EINVAL);
	assert_int_equal(kmodx_get_module_taints(ctx, NULL), -EINVAL);
	kmodx_ctx_unref(ctx);
}

static void test_param_decls(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_kvlist *descs = NULL, *types = NULL;
	struct kmodx_module *mod;

	(void)state;
	assert_int_equal(kmodx_module_new_from_name(ctx, "demo", &mod), 0);
	assert_int_equal(kmodx_module_get_param_decls(mod, &descs, &types), 0);
	assert_int_equal(kmodx_kvlist_count(descs), 3);
	assert_int_equal(kmodx_kvlist_count(types), 3);
	/* source order: the reverse of first appearance */
	assert_string_equal(kmodx_kvlist_key(descs, 0), "raw");
	assert_string_equal(kmodx_kvlist_key(descs, 1), "quiet");
	assert_string_equal(kmodx_kvlist_key(descs, 2), "level");
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(kmodx_kvlist_key(types, i),
				    kmodx_kvlist_key(descs, i));
	assert_string_equal(kmodx_kvlist_value(descs, 0), "");
	assert_int_equal(kmodx_kvlist_number(descs, 0), 0);
	assert_string_equal(kmodx_kvlist_value(types, 0), "charp");
	assert_int_equal(kmodx_kvlist_number(types, 0), 1);
	assert_string_equal(kmodx_kvlist_value(descs, 1), "no type given");
	assert_int_equal(kmodx_kvlist_number(types, 1), 0);
	assert_string_equal(kmodx_kvlist_value(descs, 2), "how loud");
	/* a repeated parmtype: the last one, as modinfo prints it */
	assert_string_equal(kmodx_kvlist_value(types, 2), "uint");
	kmodx_kvlist_free(descs);
	kmodx_kvlist_free(types);
	assert_int_equal(kmodx_module_get_param_decls(mod, NULL, &types), -EINVAL);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "nothere", &mod), 0);
	descs = types = NULL;
	assert_int_equal(kmodx_module_get_param_decls(mod, &descs, &types), -ENOENT);
	assert_null(descs);
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
}

static void test_param_values(void **state)
{
	struct kmodx_ctx *ctx = unit_ctx(root, KVER);
	struct kmodx_kvlist *list = NULL;
	struct kmodx_module *mod;
	char path[PATH_MAX * 2];

	(void)state;
	path_of(path, "sys/module/demo/parameters/ro");
	assert_int_equal(chmod(path, 0444), 0);
	path_of(path, "sys/module/demo/parameters/level");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(kmodx_module_new_from_name(ctx, "demo", &mod), 0);
	assert_int_equal(kmodx_module_get_param_values(mod, &list), 0);
	assert_int_equal(kmodx_kvlist_count(list), 5);
	/* sorted by name; one trailing newline removed, inner ones kept */
	assert_string_equal(kmodx_kvlist_key(list, 0), "empty");
	assert_string_equal(kmodx_kvlist_value(list, 0), "");
	assert_string_equal(kmodx_kvlist_key(list, 1), "level");
	assert_string_equal(kmodx_kvlist_value(list, 1), "3");
	assert_int_equal(kmodx_kvlist_number(list, 1), 0644);
	assert_string_equal(kmodx_kvlist_key(list, 2), "raw");
	assert_string_equal(kmodx_kvlist_value(list, 2), "two\nlines");
	assert_string_equal(kmodx_kvlist_key(list, 3), "ro");
	assert_int_equal(kmodx_kvlist_number(list, 3), 0444);
	/* something that cannot be read is flagged, not an error */
	assert_string_equal(kmodx_kvlist_key(list, 4), "weird");
	assert_true(kmodx_kvlist_number(list, 4) & KMODX_PARAM_UNREADABLE);
	assert_string_equal(kmodx_kvlist_value(list, 4), "");
	kmodx_kvlist_free(list);

	/* writes: the value as given, then read back */
	assert_int_equal(kmodx_module_set_param_value(mod, "level", "7"), 0);
	assert_int_equal(kmodx_module_get_param_values(mod, &list), 0);
	assert_string_equal(kmodx_kvlist_value(list, 1), "7");
	kmodx_kvlist_free(list);
	assert_int_equal(kmodx_module_set_param_value(mod, "missing", "1"), -ENOENT);
	assert_int_equal(kmodx_module_set_param_value(mod, "../initstate", "1"), -EINVAL);
	assert_int_equal(kmodx_module_set_param_value(mod, "..", "1"), -EINVAL);
	assert_int_equal(kmodx_module_set_param_value(mod, "", "1"), -EINVAL);
	assert_int_equal(kmodx_module_set_param_value(mod, "level", NULL), -EINVAL);
	kmodx_module_unref(mod);

	/* a module without parameters, and one that is not there */
	unit_write_text(root, "sys/module/bare/initstate", "live\n");
	assert_int_equal(kmodx_module_new_from_name(ctx, "bare", &mod), 0);
	assert_int_equal(kmodx_module_get_param_values(mod, &list), 0);
	assert_int_equal(kmodx_kvlist_count(list), 0);
	kmodx_kvlist_free(list);
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "absent", &mod), 0);
	list = NULL;
	assert_int_equal(kmodx_module_get_param_values(mod, &list), -ENOENT);
	assert_null(list);
	assert_int_equal(kmodx_module_set_param_value(mod, "x", "1"), -ENOENT);
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taint_table), cmocka_unit_test(test_taint_string),
		cmocka_unit_test(test_taint_value), cmocka_unit_test(test_module_taints),
		cmocka_unit_test(test_param_decls), cmocka_unit_test(test_param_values),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
