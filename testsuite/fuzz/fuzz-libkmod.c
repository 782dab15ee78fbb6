// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libkmod.so.2's entry points on hostile input. The input is cut at each "\n@@\n" into
 * a modprobe.d file, modules.dep (text), modules.alias.bin, modules.symbols.bin, and
 * a module file, written into a fresh module directory; then a client does what udev,
 * modprobe and modinfo do through the ABI: a context, resources, lookups of names and
 * aliases the input also supplies, every getter and list of what they find, dry-run
 * probes, configuration iterators, index dumps, a module from the file. Each call must
 * return kmod's answers without crashing, leaking or reading outside its input. The
 * probes are dry runs that ignore the kernel's state: nothing is run or loaded.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "libkmod.h"

#define PARTS 6

static char dir[PATH_MAX];

static void quiet(void *data, int prio, const char *file, int line, const char *fn,
		  const char *format, va_list args) _printf_(6, 0);

static void quiet(void *data, int prio, const char *file, int line, const char *fn,
		  const char *format, va_list args)
{
	char buf[256];

	(void)data, (void)prio, (void)file, (void)line, (void)fn;
	vsnprintf(buf, sizeof(buf), format, args); /* format every message */
}

static void write_part(const char *name, const uint8_t *data, size_t len)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (data == NULL) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static int run_install(struct kmod_module *m, const char *cmdline, void *data)
{
	(void)m, (void)cmdline, (void)data;
	return 0;
}

static void print_action(struct kmod_module *m, bool install, const char *options)
{
	(void)install;
	if (strlen(options) > 1 << 20 || kmod_module_get_name(m) == NULL)
		abort();
}

static void use_lists(struct kmod_module *mod)
{
	struct kmod_list *l = NULL, *e, *pre = NULL, *post = NULL;

	if (kmod_module_get_info(mod, &l) >= 0) {
		kmod_list_foreach(e, l)
			if (!kmod_module_info_get_key(e) ||
			    !kmod_module_info_get_value(e))
				abort();
		kmod_module_info_free_list(l);
	}
	l = NULL;
	if (kmod_module_get_versions(mod, &l) >= 0)
		kmod_module_versions_free_list(l);
	l = NULL;
	if (kmod_module_get_symbols(mod, &l) >= 0)
		kmod_module_symbols_free_list(l);
	l = NULL;
	if (kmod_module_get_dependency_symbols(mod, &l) >= 0) {
		kmod_list_foreach_reverse(e, l)
			kmod_module_dependency_symbol_get_bind(e);
		kmod_module_dependency_symbols_free_list(l);
	}
	if (kmod_module_get_softdeps(mod, &pre, &post) == 0) {
		kmod_module_unref_list(pre);
		kmod_module_unref_list(post);
	}
	l = NULL;
	if (kmod_module_get_weakdeps(mod, &l) == 0)
		kmod_module_unref_list(l);
}

static void use_module(struct kmod_ctx *ctx, struct kmod_module *mod)
{
	struct kmod_list *deps = kmod_module_get_dependencies(mod), *out = NULL;

	kmod_module_get_path(mod);
	kmod_module_get_options(mod);
	kmod_module_get_install_commands(mod);
	kmod_module_get_remove_commands(mod);
	if (kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST | KMOD_FILTER_BUILTIN,
				     deps, &out) == 0)
		kmod_module_unref_list(out);
	kmod_module_unref_list(deps);
	use_lists(mod);
	kmod_module_probe_insert_module(mod,
					KMOD_PROBE_DRY_RUN | KMOD_PROBE_IGNORE_LOADED,
					"a=1", run_install, NULL, print_action);
	kmod_module_probe_insert_module(mod,
					KMOD_PROBE_DRY_RUN | KMOD_PROBE_IGNORE_LOADED |
						KMOD_PROBE_APPLY_BLACKLIST_ALL |
						KMOD_PROBE_IGNORE_COMMAND,
					NULL, NULL, NULL, print_action);
}

static void lookup(struct kmod_ctx *ctx, const char *alias)
{
	struct kmod_list *l = NULL, *e;
	struct kmod_module *mod = NULL;

	if (kmod_module_new_from_lookup(ctx, alias, &l) == 0) {
		kmod_list_foreach(e, l) {
			struct kmod_module *m = kmod_module_get_module(e);

			use_module(ctx, m);
			kmod_module_unref(m);
		}
		kmod_module_unref_list(l);
	}
	if (kmod_module_new_from_name_lookup(ctx, alias, &mod) == 0 && mod) {
		use_module(ctx, mod);
		kmod_module_unref(mod);
	}
}

static void iterate(struct kmod_config_iter *iter)
{
	while (kmod_config_iter_next(iter)) {
		kmod_config_iter_get_key(iter);
		kmod_config_iter_get_value(iter);
	}
	kmod_config_iter_free_iter(iter);
}

static void use_config(struct kmod_ctx *ctx)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	iterate(kmod_config_get_blacklists(ctx));
	iterate(kmod_config_get_install_commands(ctx));
	iterate(kmod_config_get_remove_commands(ctx));
	iterate(kmod_config_get_aliases(ctx));
	iterate(kmod_config_get_options(ctx));
	iterate(kmod_config_get_softdeps(ctx));
	iterate(kmod_config_get_weakdeps(ctx));
	for (int i = 0; i <= KMOD_INDEX_MODULES_BUILTIN && null >= 0; i++)
		kmod_dump_index(ctx, (enum kmod_index)i, null);
	if (null >= 0)
		close(null);
}

/* Names to look up: the input's last part, one per line (at most a few). */
static void lookups(struct kmod_ctx *ctx, const uint8_t *data, size_t len)
{
	static const char *const fixed[] = {
		"a", "b-c", "pci:v00008086d00001502sv0sd0", "symbol:foo", "fs-x", ""};
	char *names = fuzz_string(data, len), *save = NULL, *name;
	int n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		lookup(ctx, fixed[i]);
	for (name = strtok_r(names, "\n", &save); name && n < 4;
	     name = strtok_r(NULL, "\n", &save), n++)
		lookup(ctx, name);
	free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[PARTS] = {
		"modprobe.conf",       "modules.dep", "modules.alias.bin",
		"modules.symbols.bin", "x.ko",	      "names",
	};
	const uint8_t *part[PARTS] = {0}, *p = data, *end = data + size;
	size_t len[PARTS] = {0};
	const char *conf[] = {NULL, NULL};
	char path[PATH_MAX + 64];
	struct kmod_ctx *ctx;
	struct kmod_module *mod = NULL;

	if (dir[0] == '\0') {
		/* kmod_new() reads the configuration before a log function can be set */
		setenv("KMOD_LOG", "0", 1);
		strcpy(dir, "/tmp/kmodx-fuzz-libkmod-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	for (int i = 0; i < PARTS && p <= end; i++) {
		const uint8_t *sep = memmem(p, (size_t)(end - p), "\n@@\n", 4);

		part[i] = p;
		len[i] = sep ? (size_t)(sep - p) : (size_t)(end - p);
		p = sep ? sep + 4 : end + 1;
	}
	for (int i = 0; i < PARTS - 1; i++)
		write_part(files[i], part[i], len[i]);
	snprintf(path, sizeof(path), "%s/modprobe.conf", dir);
	conf[0] = path;
	ctx = kmod_new(dir, conf);
	if (ctx == NULL)
		return 0;
	kmod_set_log_fn(ctx, quiet, NULL);
	kmod_set_log_priority(ctx, LOG_DEBUG);
	kmod_load_resources(ctx);
	kmod_validate_resources(ctx);
	use_config(ctx);
	if (part[PARTS - 1])
		lookups(ctx, part[PARTS - 1], len[PARTS - 1]);
	snprintf(path, sizeof(path), "%s/x.ko", dir);
	if (kmod_module_new_from_path(ctx, path, &mod) == 0) {
		use_module(ctx, mod);
		kmod_module_unref(mod);
	}
	kmod_unload_resources(ctx);
	kmod_unref(ctx);
	return 0;
}
