// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A client of every function of libkmod.so.2 that prints what it gets, deterministically
 * (no pointers, no log messages), so that runs on kmodx's library, kmod 34.2's and
 * Debian's kmod 30 can be compared line by line (testsuite/differential/libkmod.py).
 *
 *   libkmod-client [--api=30] DIRNAME CONFIG_DIR COMMAND [ARG]
 *
 * COMMAND: which (the library's file, not for comparing), ctx, config, dump, modules
 * NAMES_FILE, paths FILES_FILE, lookup ALIASES_FILE, state, probe NAMES_FILE, null.
 * --api=30 leaves out what kmod 30 lacks (weak dependencies); the functions kmod 30 may
 * lack are looked up at run time, so that the program loads on every library.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "libkmod.h"

static bool api30;

typedef int (*name_lookup_fn)(struct kmod_ctx *, const char *, struct kmod_module **);
typedef int (*weakdeps_fn)(const struct kmod_module *, struct kmod_list **);
typedef struct kmod_config_iter *(*config_weakdeps_fn)(const struct kmod_ctx *);

static name_lookup_fn name_lookup;
static weakdeps_fn get_weakdeps;
static config_weakdeps_fn config_get_weakdeps;

static void resolve_late_functions(void)
{
	name_lookup =
		(name_lookup_fn)dlsym(RTLD_DEFAULT, "kmod_module_new_from_name_lookup");
	get_weakdeps = (weakdeps_fn)dlsym(RTLD_DEFAULT, "kmod_module_get_weakdeps");
	config_get_weakdeps =
		(config_weakdeps_fn)dlsym(RTLD_DEFAULT, "kmod_config_get_weakdeps");
	if (api30) {
		get_weakdeps = NULL;
		config_get_weakdeps = NULL;
	}
}

static void quiet(void *data, int prio, const char *file, int line, const char *fn,
		  const char *format, va_list args)
{
	(void)data, (void)prio, (void)file, (void)line, (void)fn, (void)format,
		(void)args;
}

static const char *str(const char *s)
{
	return s ? s : "(null)";
}

/* ---- printing lists ---- */

static void print_modules(const char *what, struct kmod_list *list)
{
	struct kmod_list *e;

	printf("  %s:", what);
	kmod_list_foreach(e, list) {
		struct kmod_module *m = kmod_module_get_module(e);

		printf(" %s", kmod_module_get_name(m));
		kmod_module_unref(m);
	}
	printf("\n");
}

/* The list walked backwards too: kmod_list_last() and kmod_list_prev(). */
static void print_modules_reverse(const char *what, struct kmod_list *list)
{
	struct kmod_list *e;

	printf("  %s:", what);
	kmod_list_foreach_reverse(e, list) {
		struct kmod_module *m = kmod_module_get_module(e);

		printf(" %s", kmod_module_get_name(m));
		kmod_module_unref(m);
	}
	printf("\n");
}

static void print_info(struct kmod_module *mod)
{
	struct kmod_list *list = NULL, *e;
	int n = kmod_module_get_info(mod, &list);

	printf("  info: %d\n", n);
	kmod_list_foreach(e, list)
		printf("    %s=%s\n", kmod_module_info_get_key(e),
		       str(kmod_module_info_get_value(e)));
	kmod_module_info_free_list(list);
}

static void print_versions(struct kmod_module *mod)
{
	struct kmod_list *list = NULL, *e;
	int n = kmod_module_get_versions(mod, &list);

	printf("  versions: %d\n", n);
	kmod_list_foreach(e, list)
		printf("    %s 0x%08" PRIx64 "\n", kmod_module_version_get_symbol(e),
		       kmod_module_version_get_crc(e));
	kmod_module_versions_free_list(list);
}

static void print_symbols(struct kmod_module *mod)
{
	struct kmod_list *list = NULL, *e;
	int n = kmod_module_get_symbols(mod, &list);

	printf("  symbols: %d\n", n);
	kmod_list_foreach(e, list)
		printf("    %s 0x%08" PRIx64 "\n", kmod_module_symbol_get_symbol(e),
		       kmod_module_symbol_get_crc(e));
	kmod_module_symbols_free_list(list);
}

static void print_dependency_symbols(struct kmod_module *mod)
{
	struct kmod_list *list = NULL, *e;
	int n = kmod_module_get_dependency_symbols(mod, &list);

	printf("  dependency symbols: %d\n", n);
	kmod_list_foreach(e, list)
		printf("    %c %s 0x%08" PRIx64 "\n",
		       kmod_module_dependency_symbol_get_bind(e),
		       kmod_module_dependency_symbol_get_symbol(e),
		       kmod_module_dependency_symbol_get_crc(e));
	kmod_module_dependency_symbols_free_list(list);
}

/* kmod_module_apply_filter() with each filter, and the deprecated blacklist filter. */
static void print_filters(struct kmod_ctx *ctx, struct kmod_list *list)
{
	static const struct {
		const char *name;
		enum kmod_filter filter;
	} filters[] = {
		{"blacklist", KMOD_FILTER_BLACKLIST},
		{"builtin", KMOD_FILTER_BUILTIN},
		{"both", KMOD_FILTER_BLACKLIST | KMOD_FILTER_BUILTIN},
	};
	struct kmod_list *out;

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		char what[64];
		int r;

		out = NULL;
		r = kmod_module_apply_filter(ctx, filters[i].filter, list, &out);
		snprintf(what, sizeof(what), "filter %s (%d)", filters[i].name, r);
		print_modules(what, out);
		kmod_module_unref_list(out);
	}
	out = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	printf("  filtered blacklist: %d\n",
	       kmod_module_get_filtered_blacklist(ctx, list, &out));
#pragma GCC diagnostic pop
	print_modules("filtered blacklist", out);
	kmod_module_unref_list(out);
}

static void print_softdeps(struct kmod_module *mod)
{
	struct kmod_list *pre = NULL, *post = NULL, *weak = NULL;
	int r = kmod_module_get_softdeps(mod, &pre, &post);

	printf("  softdeps: %d\n", r);
	print_modules("pre", pre);
	print_modules("post", post);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	if (get_weakdeps) {
		printf("  weakdeps: %d\n", get_weakdeps(mod, &weak));
		print_modules("weak", weak);
		kmod_module_unref_list(weak);
	}
}

/* Everything a module's name, configuration, indexes and file say. */
static void print_module(struct kmod_ctx *ctx, struct kmod_module *mod, bool elf)
{
	struct kmod_list *deps = kmod_module_get_dependencies(mod);

	printf("  path: %s\n", str(kmod_module_get_path(mod)));
	printf("  options: %s\n", str(kmod_module_get_options(mod)));
	printf("  install: %s\n", str(kmod_module_get_install_commands(mod)));
	printf("  remove: %s\n", str(kmod_module_get_remove_commands(mod)));
	print_modules("dependencies", deps);
	print_modules_reverse("dependencies reversed", deps);
	print_filters(ctx, deps);
	kmod_module_unref_list(deps);
	print_softdeps(mod);
	if (!elf)
		return;
	print_info(mod);
	print_versions(mod);
	print_symbols(mod);
	print_dependency_symbols(mod);
}

/* ---- commands ---- */

static int each_line(const char *file, void (*fn)(struct kmod_ctx *, const char *),
		     struct kmod_ctx *ctx)
{
	char line[4096];
	FILE *f = fopen(file, "re");

	if (f == NULL) {
		perror(file);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		fn(ctx, line);
	}
	fclose(f);
	return 0;
}

/* A module by name: the name lookup (kmod 30's and later), then the plain name, which
 * must be the same object while referenced. */
static void one_module(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL, *again = NULL;
	int r = name_lookup ? name_lookup(ctx, name, &mod) : -ENOSYS;

	printf("module %s: lookup %d %s\n", name, r,
	       mod ? kmod_module_get_name(mod) : "-");
	if (mod == NULL)
		return;
	r = kmod_module_new_from_name(ctx, name, &again);
	printf("  by name: %d %s\n", r, again == mod ? "same object" : "another object");
	kmod_module_unref(again);
	print_module(ctx, mod, true);
	kmod_module_unref(mod);
}

/* A module from a file (a hostile one among them). */
static void one_path(struct kmod_ctx *ctx, const char *path)
{
	struct kmod_module *mod = NULL;
	const char *base = strrchr(path, '/');
	int r = kmod_module_new_from_path(ctx, path, &mod);

	printf("file %s: %d %s\n", base ? base + 1 : path, r,
	       mod ? kmod_module_get_name(mod) : "-");
	if (mod == NULL)
		return;
	print_module(ctx, mod, true);
	kmod_module_unref(mod);
}

static void one_alias(struct kmod_ctx *ctx, const char *alias)
{
	struct kmod_list *list = NULL, *e;
	int r = kmod_module_new_from_lookup(ctx, alias, &list);

	printf("lookup %s: %d\n", alias, r);
	print_modules("found", list);
	kmod_list_foreach(e, list) {
		struct kmod_module *m = kmod_module_get_module(e);

		printf(" %s\n", kmod_module_get_name(m));
		print_module(ctx, m, false);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
}

static void print_iter(const char *what, struct kmod_config_iter *iter)
{
	int n = 0;

	printf("%s:\n", what);
	printf("  before next: %s\n", str(kmod_config_iter_get_key(iter)));
	while (kmod_config_iter_next(iter)) {
		printf("  %s %s\n", kmod_config_iter_get_key(iter),
		       str(kmod_config_iter_get_value(iter)));
		n++;
	}
	printf("  after the end: %s\n", str(kmod_config_iter_get_key(iter)));
	/* the iterator starts over */
	if (kmod_config_iter_next(iter))
		printf("  again: %s\n", kmod_config_iter_get_key(iter));
	printf("  %d entries\n", n);
	kmod_config_iter_free_iter(iter);
}

static int cmd_config(struct kmod_ctx *ctx)
{
	print_iter("blacklists", kmod_config_get_blacklists(ctx));
	print_iter("install commands", kmod_config_get_install_commands(ctx));
	print_iter("remove commands", kmod_config_get_remove_commands(ctx));
	print_iter("aliases", kmod_config_get_aliases(ctx));
	print_iter("options", kmod_config_get_options(ctx));
	print_iter("softdeps", kmod_config_get_softdeps(ctx));
	if (config_get_weakdeps)
		print_iter("weakdeps", config_get_weakdeps(ctx));
	return 0;
}

static int cmd_dump(struct kmod_ctx *ctx)
{
	for (int i = KMOD_INDEX_MODULES_DEP; i <= KMOD_INDEX_MODULES_BUILTIN; i++) {
		int r;

		printf("index %d:\n", i);
		fflush(stdout);
		r = kmod_dump_index(ctx, (enum kmod_index)i, STDOUT_FILENO);
		printf("index %d: %d\n", i, r);
	}
	printf("index 7: %d\n", kmod_dump_index(ctx, (enum kmod_index)7, STDOUT_FILENO));
	return 0;
}

static int cmd_ctx(struct kmod_ctx *ctx, const char *dirname)
{
	static int marker;
	struct kmod_ctx *other;
	char cwd[PATH_MAX];

	printf("dirname: %s\n", str(kmod_get_dirname(ctx)));
	printf("log priority: %d\n", kmod_get_log_priority(ctx));
	kmod_set_log_priority(ctx, LOG_DEBUG);
	printf("log priority: %d\n", kmod_get_log_priority(ctx));
	printf("userdata: %s\n", kmod_get_userdata(ctx) ? "set" : "none");
	kmod_set_userdata(ctx, &marker);
	printf("userdata: %s\n", kmod_get_userdata(ctx) == &marker ? "ours" : "lost");
	printf("ref: %s\n", kmod_ref(ctx) == ctx ? "same" : "other");
	printf("unref with one left: %s\n", kmod_unref(ctx) == ctx ? "context" : "NULL");
	printf("validate before load: %d\n", kmod_validate_resources(ctx));
	printf("load: %d\n", kmod_load_resources(ctx));
	printf("validate: %d\n", kmod_validate_resources(ctx));
	kmod_unload_resources(ctx);
	printf("validate after unload: %d\n", kmod_validate_resources(ctx));
	printf("load again: %d\n", kmod_load_resources(ctx));
	/* a relative module directory is made absolute */
	if (getcwd(cwd, sizeof(cwd)) && chdir(dirname) == 0) {
		other = kmod_new(".", NULL);
		printf("relative dirname: %s\n",
		       other && strcmp(kmod_get_dirname(other), dirname) == 0 ? "absolute"
									      : "wrong");
		printf("unref last: %s\n", kmod_unref(other) ? "context" : "NULL");
		if (chdir(cwd) < 0)
			return 1;
	}
	return 0;
}

static int cmd_state(struct kmod_ctx *ctx)
{
	struct kmod_list *loaded = NULL, *e;
	int r = kmod_module_new_from_loaded(ctx, &loaded);

	printf("loaded: %d\n", r);
	kmod_list_foreach(e, loaded) {
		struct kmod_module *m = kmod_module_get_module(e);
		struct kmod_list *holders = kmod_module_get_holders(m);
		struct kmod_list *sections = kmod_module_get_sections(m), *s;
		int state = kmod_module_get_initstate(m);

		printf("%s: state %d %s refcnt %d size %ld\n", kmod_module_get_name(m),
		       state,
		       str(kmod_module_initstate_str((enum kmod_module_initstate)state)),
		       kmod_module_get_refcnt(m), kmod_module_get_size(m));
		print_modules("holders", holders);
		kmod_list_foreach(s, sections)
			printf("  section %s 0x%lx\n", kmod_module_section_get_name(s),
			       kmod_module_section_get_address(s));
		kmod_module_section_free_list(sections);
		kmod_module_unref_list(holders);
		printf("  insert: %d\n", kmod_module_insert_module(m, 0, NULL));
		printf("  remove: %d\n", kmod_module_remove_module(m, KMOD_REMOVE_NOLOG));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(loaded);
	for (int i = -1; i <= 4; i++)
		printf("initstate %d: %s\n", i,
		       str(kmod_module_initstate_str((enum kmod_module_initstate)i)));
	return 0;
}

/* ---- probing (dry runs: nothing is loaded) ---- */

static int run_install(struct kmod_module *m, const char *cmdline, void *data)
{
	printf("    run_install %s: %s (data %s)\n", kmod_module_get_name(m), cmdline,
	       (const char *)data);
	return 0;
}

static void print_action(struct kmod_module *m, bool install, const char *options)
{
	printf("    action %s %s '%s'\n", kmod_module_get_name(m),
	       install ? "install" : "insmod", options);
}

static void one_probe(struct kmod_ctx *ctx, const char *alias)
{
	static const unsigned flag_sets[] = {
		KMOD_PROBE_DRY_RUN,
		KMOD_PROBE_DRY_RUN | KMOD_PROBE_IGNORE_LOADED | KMOD_PROBE_IGNORE_COMMAND,
		KMOD_PROBE_DRY_RUN | KMOD_PROBE_FAIL_ON_LOADED,
		KMOD_PROBE_DRY_RUN | KMOD_PROBE_APPLY_BLACKLIST,
		KMOD_PROBE_DRY_RUN | KMOD_PROBE_APPLY_BLACKLIST_ALL,
		KMOD_PROBE_DRY_RUN | KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY,
	};
	struct kmod_list *list = NULL, *e;
	int r = kmod_module_new_from_lookup(ctx, alias, &list);

	printf("probe %s: lookup %d\n", alias, r);
	kmod_list_foreach(e, list) {
		struct kmod_module *m = kmod_module_get_module(e);

		for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
			printf("  %s flags 0x%x\n", kmod_module_get_name(m),
			       flag_sets[i]);
			r = kmod_module_probe_insert_module(m, flag_sets[i], "extra=1",
							    run_install, "x",
							    print_action);
			printf("  = %d\n", r);
		}
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
}

/* ---- NULL and bad arguments ---- */

static int cmd_null(struct kmod_ctx *ctx)
{
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL, *l2 = NULL;

	printf("ref/unref NULL: %d %d\n", kmod_ref(NULL) == NULL,
	       kmod_unref(NULL) == NULL);
	printf("log priority NULL: %d\n", kmod_get_log_priority(NULL));
	kmod_set_log_priority(NULL, 7);
	kmod_set_log_fn(NULL, quiet, NULL);
	kmod_set_userdata(NULL, NULL);
	printf("userdata NULL: %d\n", kmod_get_userdata(NULL) == NULL);
	printf("load NULL: %d\n", kmod_load_resources(NULL));
	kmod_unload_resources(NULL);
	printf("validate NULL: %d\n", kmod_validate_resources(NULL));
	printf("dump NULL: %d\n", kmod_dump_index(NULL, KMOD_INDEX_MODULES_DEP, 1));
	printf("list NULL: %d %d %d\n", kmod_list_next(NULL, NULL) == NULL,
	       kmod_list_prev(NULL, NULL) == NULL, kmod_list_last(NULL) == NULL);
	printf("config NULL: %d\n", kmod_config_get_aliases(NULL) == NULL);
	printf("iter NULL: %d %d %d\n", kmod_config_iter_get_key(NULL) == NULL,
	       kmod_config_iter_get_value(NULL) == NULL, kmod_config_iter_next(NULL));
	kmod_config_iter_free_iter(NULL);
	printf("new_from_name: %d %d %d\n", kmod_module_new_from_name(NULL, "a", &mod),
	       kmod_module_new_from_name(ctx, NULL, &mod),
	       kmod_module_new_from_name(ctx, "a", NULL));
	printf("new_from_path: %d %d %d\n", kmod_module_new_from_path(NULL, "/", &mod),
	       kmod_module_new_from_path(ctx, NULL, &mod),
	       kmod_module_new_from_path(ctx, "/nonexistent/x.ko", &mod));
	printf("new_from_lookup: %d %d %d\n",
	       kmod_module_new_from_lookup(NULL, "a", &list),
	       kmod_module_new_from_lookup(ctx, NULL, &list),
	       kmod_module_new_from_lookup(ctx, "a", NULL));
	printf("new_from_lookup empty alias: %d %d\n",
	       kmod_module_new_from_lookup(ctx, "", &list), list == NULL);
	if (name_lookup)
		printf("new_from_name_lookup: %d %d %d\n", name_lookup(NULL, "a", &mod),
		       name_lookup(ctx, NULL, &mod), name_lookup(ctx, "a", NULL));
	printf("new_from_loaded: %d %d\n", kmod_module_new_from_loaded(NULL, &list),
	       kmod_module_new_from_loaded(ctx, NULL));
	printf("module NULL: %d %d %d %d\n", kmod_module_ref(NULL) == NULL,
	       kmod_module_unref(NULL) == NULL, kmod_module_unref_list(NULL),
	       kmod_module_get_module(NULL) == NULL);
	printf("getters NULL: %s %s %s %s %s\n", str(kmod_module_get_name(NULL)),
	       str(kmod_module_get_path(NULL)), str(kmod_module_get_options(NULL)),
	       str(kmod_module_get_install_commands(NULL)),
	       str(kmod_module_get_remove_commands(NULL)));
	printf("deps NULL: %d\n", kmod_module_get_dependencies(NULL) == NULL);
	printf("softdeps NULL: %d %d\n", kmod_module_get_softdeps(NULL, &list, &l2),
	       kmod_module_get_softdeps(mod, NULL, &l2));
	if (get_weakdeps)
		printf("weakdeps NULL: %d\n", get_weakdeps(NULL, &list));
	printf("filter NULL: %d %d %d\n",
	       kmod_module_apply_filter(NULL, KMOD_FILTER_BLACKLIST, NULL, &list),
	       kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, NULL, NULL),
	       kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, NULL, &list));
	printf("insert/remove/probe NULL: %d %d %d\n",
	       kmod_module_insert_module(NULL, 0, ""), kmod_module_remove_module(NULL, 0),
	       kmod_module_probe_insert_module(NULL, 0, NULL, NULL, NULL, NULL));
	printf("state NULL: %d %d %ld %d\n", kmod_module_get_initstate(NULL),
	       kmod_module_get_refcnt(NULL), kmod_module_get_size(NULL),
	       kmod_module_get_holders(NULL) == NULL);
	printf("lists NULL: %d %d %d %d %d\n", kmod_module_get_info(NULL, &list),
	       kmod_module_get_info(mod, NULL), kmod_module_get_versions(NULL, &list),
	       kmod_module_get_symbols(NULL, &list),
	       kmod_module_get_dependency_symbols(NULL, &list));
	printf("sections NULL: %d %lx %s\n", kmod_module_get_sections(NULL) == NULL,
	       kmod_module_section_get_address(NULL),
	       str(kmod_module_section_get_name(NULL)));
	printf("entries NULL: %s %s %s %" PRIu64 " %s %" PRIu64 " %s %" PRIu64 " %d\n",
	       str(kmod_module_info_get_key(NULL)), str(kmod_module_info_get_value(NULL)),
	       str(kmod_module_version_get_symbol(NULL)),
	       kmod_module_version_get_crc(NULL),
	       str(kmod_module_symbol_get_symbol(NULL)), kmod_module_symbol_get_crc(NULL),
	       str(kmod_module_dependency_symbol_get_symbol(NULL)),
	       kmod_module_dependency_symbol_get_crc(NULL),
	       kmod_module_dependency_symbol_get_bind(NULL));
	kmod_module_info_free_list(NULL);
	kmod_module_versions_free_list(NULL);
	kmod_module_symbols_free_list(NULL);
	kmod_module_dependency_symbols_free_list(NULL);
	kmod_module_section_free_list(NULL);
	printf("dirname NULL: %s\n", str(kmod_get_dirname(NULL)));
	return 0;
}

static int cmd_which(void)
{
	Dl_info info;

	if (dladdr((void *)kmod_new, &info) == 0 || info.dli_fname == NULL)
		return 1;
	printf("%s\n", info.dli_fname);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config[] = {NULL, NULL};
	struct kmod_ctx *ctx;
	const char *cmd;
	int r = 2;

	if (argc > 1 && strcmp(argv[1], "--api=30") == 0) {
		api30 = true;
		argc--, argv++;
	}
	if (argc > 1 && strcmp(argv[1], "which") == 0)
		return cmd_which();
	if (argc < 4) {
		fprintf(stderr, "usage: %s [--api=30] DIRNAME CONFIG_DIR COMMAND [ARG]\n",
			argv[0]);
		return 2;
	}
	resolve_late_functions();
	config[0] = argv[2];
	ctx = kmod_new(argv[1], config);
	if (ctx == NULL) {
		fprintf(stderr, "kmod_new failed\n");
		return 1;
	}
	kmod_set_log_fn(ctx, quiet, NULL);
	cmd = argv[3];
	if (strcmp(cmd, "ctx") == 0)
		r = cmd_ctx(ctx, argv[1]);
	else if (strcmp(cmd, "config") == 0)
		r = cmd_config(ctx);
	else if (strcmp(cmd, "dump") == 0)
		r = cmd_dump(ctx);
	else if (strcmp(cmd, "state") == 0)
		r = cmd_state(ctx);
	else if (strcmp(cmd, "null") == 0)
		r = cmd_null(ctx);
	else if (strcmp(cmd, "modules") == 0 && argc > 4)
		r = kmod_load_resources(ctx) < 0 ? 1
						 : each_line(argv[4], one_module, ctx);
	else if (strcmp(cmd, "paths") == 0 && argc > 4)
		r = each_line(argv[4], one_path, ctx);
	else if (strcmp(cmd, "lookup") == 0 && argc > 4)
		r = each_line(argv[4], one_alias, ctx);
	else if (strcmp(cmd, "probe") == 0 && argc > 4)
		r = each_line(argv[4], one_probe, ctx);
	fflush(stdout);
	printf("unref: %s\n", kmod_unref(ctx) ? "context" : "NULL");
	return r;
}
