// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

enum {
	OPT_REMOVE_HOLDERS = OPT_LONG_FIRST,
	OPT_FIRST_TIME,
	OPT_FORCE_MODVERSION,
	OPT_FORCE_VERMAGIC,
	OPT_SHOW_MODVERSIONS,
	OPT_SHOW_EXPORTS,
	OPT_EXPLAIN,
};

static const struct tool_opt opts[] = {
	{'a', "all", no_argument, NULL,
	 "every argument is a module to insert or remove (-r)"},
	{'r', "remove", no_argument, NULL, "remove modules instead of inserting them"},
	{OPT_REMOVE_HOLDERS, "remove-holders", no_argument, NULL,
	 "with -r, first remove the modules holding it"},
	{OPT_REMOVE_HOLDERS, "remove-dependencies", no_argument, NULL,
	 "deprecated: use --remove-holders"},
	{'w', "wait", required_argument, "MSEC",
	 "with -r, wait up to MSEC for it to be unused"},
	{OPT_FIRST_TIME, "first-time", no_argument, NULL,
	 "fail if the module is already inserted (or removed)"},
	{'i', "ignore-install", no_argument, NULL, "ignore install commands"},
	{'i', "ignore-remove", no_argument, NULL, "ignore remove commands"},
	{'b', "use-blacklist", no_argument, NULL,
	 "apply the blacklist to the module names too"},
	{'f', "force", no_argument, NULL, "--force-modversion and --force-vermagic"},
	{OPT_FORCE_MODVERSION, "force-modversion", no_argument, NULL,
	 "ignore symbol versions"},
	{OPT_FORCE_VERMAGIC, "force-vermagic", no_argument, NULL,
	 "ignore the kernel version"},
	{'R', "resolve-alias", no_argument, NULL,
	 "print the modules an alias resolves to"},
	{'R', "show-alias", no_argument, NULL, "same as --resolve-alias"},
	{'D', "show-depends", no_argument, NULL,
	 "print what would be loaded, load nothing"},
	{'c', "showconfig", no_argument, NULL, "print the configuration and the indexes"},
	{'c', "show-config", no_argument, NULL, "same as --showconfig"},
	{OPT_SHOW_MODVERSIONS, "show-modversions", no_argument, NULL,
	 "print a module file's symbol versions"},
	{OPT_SHOW_MODVERSIONS, "dump-modversions", no_argument, NULL,
	 "same as --show-modversions"},
	{OPT_SHOW_EXPORTS, "show-exports", no_argument, NULL,
	 "print a module file's exported symbols"},
	{OPT_EXPLAIN, "explain", no_argument, NULL,
	 "say how each name resolves and what loading it would do, and why"},
	{'n', "dry-run", no_argument, NULL, "do everything but the actual work"},
	{'n', "show", no_argument, NULL, "same as --dry-run"},
	{'C', "config", required_argument, "FILE",
	 "use FILE instead of the default paths"},
	{'d', "dirname", required_argument, "DIR",
	 "use DIR as filesystem root for /lib/modules"},
	{'S', "set-version", required_argument, "VERSION",
	 "use VERSION instead of `uname -r`"},
	{'s', "syslog", no_argument, NULL, "print to syslog, not stderr"},
	{'q', "quiet", no_argument, NULL, "disable messages"},
	{'v', "verbose", no_argument, NULL, "enables more messages"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static const char usage[] =
	"\tmodprobe [options] [-i] [-b] modulename [parameters...]\n"
	"\tmodprobe [options] -a [-i] [-b] modulename [modulename...]\n"
	"\tmodprobe [options] -r [-i] modulename\n"
	"\tmodprobe [options] -r -a [-i] modulename [modulename...]\n"
	"\tmodprobe [options] -c\n"
	"\tmodprobe [options] --explain modulename [modulename...]\n"
	"\tmodprobe [options] --dump-modversions filename";

struct modprobe {
	struct kmodx_ctx *ctx;
	struct kmodx_probe_opts probe;
	int message_prio; /* "not found" and the like: FATAL, or WARNING with -a */
	bool lookup_only, show_actions;
	bool other_kernel; /* -S or -d: the indexes are not the running kernel's */
	struct json_writer *json; /* --json: -D's actions and -R's modules go there */
};

#define LOG(mp, ...) tool_log((mp)->message_prio, __VA_ARGS__)

static void show_line(void *data, const char *line)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
}

static void json_action(void *data, struct kmodx_module *mod, const char *action,
			const char *arg, const char *options)
{
	struct json_writer *w = ((struct modprobe *)data)->json;
	bool insmod = strcmp(action, "insmod") == 0;

	if (insmod && arg == NULL)
		return; /* no file and not built in: -D prints no line either */
	json_object_begin(w);
	json_member_string(w, "action", action);
	json_member_string(w, "module", kmodx_module_get_name(mod));
	if (insmod)
		json_member_string(w, "path", arg);
	else if (arg)
		json_member_string(w, "command", arg);
	if (options && strcmp(action, "builtin") != 0)
		json_member_string(w, "options", options);
	json_object_end(w);
}

/*
 * MODPROBE_OPTIONS, split into words placed before argv's, the way kmod splits it: on
 * spaces; a word that starts with a quote ends at the matching quote; quotes inside a
 * word are removed with their content kept. One allocation holds the vector and the
 * strings.
 */
static char **prepend_env_options(int *argc, char **argv)
{
	const char *env = getenv("MODPROBE_OPTIONS");
	size_t n = 0, len, slots;
	char **v, *s, *w = NULL;

	if (env == NULL)
		return argv;
	len = strlen(env);
	slots = (size_t)*argc + len / 2 + 3;
	v = malloc(slots * sizeof(char *) + len + 1);
	if (v == NULL)
		return NULL;
	s = (char *)(v + slots);
	v[n++] = argv[0];
	for (; *env; env++) {
		char q = *env;

		if ((q == '"' || q == '\'') && strchr(env + 1, q)) {
			const char *close = strchr(env + 1, q);
			bool whole = w == NULL;

			if (whole)
				w = s;
			memcpy(s, env + 1, (size_t)(close - env - 1));
			s += close - env - 1;
			env = close;
			if (whole) {
				*s++ = '\0';
				v[n++] = w;
				w = NULL;
			}
			continue;
		}
		if (q == ' ') {
			if (w) {
				*s++ = '\0';
				v[n++] = w;
				w = NULL;
			}
			continue;
		}
		if (w == NULL)
			w = s;
		*s++ = q;
	}
	if (w) {
		*s = '\0';
		v[n++] = w;
	}
	for (int i = 1; i < *argc; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	*argc = (int)n;
	return v;
}

/* Options given to us also go to nested modprobe calls (install commands). */
static void env_append(const char *value)
{
	const char *old = getenv("MODPROBE_OPTIONS");
	char *s;

	if (old == NULL) {
		setenv("MODPROBE_OPTIONS", value, 1);
		return;
	}
	if (asprintf(&s, "%s %s", old, value) >= 0) {
		setenv("MODPROBE_OPTIONS", s, 1);
		free(s);
	}
}

/* What -c prints, in kmod's order. */
static const struct {
	const char *name;
	enum kmodx_config_kind kind;
} config_kinds[] = {
	{"blacklist", KMODX_CONFIG_BLACKLIST}, {"install", KMODX_CONFIG_INSTALL},
	{"remove", KMODX_CONFIG_REMOVE},       {"alias", KMODX_CONFIG_ALIAS},
	{"options", KMODX_CONFIG_OPTIONS},     {"softdep", KMODX_CONFIG_SOFTDEP},
	{"weakdep", KMODX_CONFIG_WEAKDEP},     {"mask", KMODX_CONFIG_MASK},
};

static int show_config(struct kmodx_ctx *ctx)
{

	for (size_t k = 0; k < ARRAY_SIZE(config_kinds); k++) {
		struct kmodx_kvlist *list;

		if (kmodx_config_get(ctx, config_kinds[k].kind, &list) < 0)
			continue;
		for (size_t i = 0; i < kmodx_kvlist_count(list); i++) {
			printf("%s %s", config_kinds[k].name, kmodx_kvlist_key(list, i));
			if (config_kinds[k].kind != KMODX_CONFIG_BLACKLIST &&
			    config_kinds[k].kind != KMODX_CONFIG_MASK)
				printf(" %s", kmodx_kvlist_value(list, i));
			putchar('\n');
		}
		kmodx_kvlist_free(list);
	}
	puts("\n# End of configuration files. Dumping indexes now:\n");
	fflush(stdout);
	kmodx_index_dump(ctx, KMODX_INDEX_ALIAS, STDOUT_FILENO);
	kmodx_index_dump(ctx, KMODX_INDEX_SYMBOL, STDOUT_FILENO);
	return 0;
}

/* A softdep's "pre: a b" and "post: c" parts (number: where the second starts). */
static void json_softdep(struct json_writer *w, const struct kmodx_kvlist *list, size_t i)
{
	const char *value = kmodx_kvlist_value(list, i);
	size_t split = (size_t)kmodx_kvlist_number(list, i);

	for (int part = 0; part < 2; part++) {
		const char *p = part ? value + split : value,
			   *end = part ? p + strlen(p) : p + split;

		json_key(w, part ? "post" : "pre");
		json_array_begin(w);
		p += p < end ? strcspn(p, " ") : 0; /* "pre:" or "post:" */
		while (p < end) {
			size_t n;

			p += strspn(p, " ");
			n = MIN(strcspn(p, " "), (size_t)(end - p));
			if (n)
				json_string_n(w, p, n);
			p += n;
		}
		json_array_end(w);
	}
}

static void json_config_entry(struct json_writer *w, enum kmodx_config_kind kind,
			      const struct kmodx_kvlist *list, size_t i)
{
	const char *key = kmodx_kvlist_key(list, i), *value = kmodx_kvlist_value(list, i);

	if (kind == KMODX_CONFIG_BLACKLIST || kind == KMODX_CONFIG_MASK) {
		json_string(w, key);
		return;
	}
	json_object_begin(w);
	json_member_string(w, kind == KMODX_CONFIG_ALIAS ? "alias" : "module", key);
	if (kind == KMODX_CONFIG_ALIAS) {
		json_member_string(w, "module", value);
	} else if (kind == KMODX_CONFIG_OPTIONS) {
		json_member_string(w, "options", value);
	} else if (kind == KMODX_CONFIG_SOFTDEP) {
		json_softdep(w, list, i);
	} else if (kind == KMODX_CONFIG_WEAKDEP) {
		json_key(w, "modules");
		json_array_begin(w);
		for (const char *p = value; *p; p += strspn(p, " ")) {
			size_t n = strcspn(p, " ");

			json_string_n(w, p, n);
			p += n;
		}
		json_array_end(w);
	} else {
		json_member_string(w, "command", value);
	}
	json_object_end(w);
}

/* modprobe -c's two index dumps: key = the alias or "symbol:NAME", value = the module. */
static void json_index(struct kmodx_ctx *ctx, struct json_writer *w,
		       enum kmodx_index which)
{
	struct kmodx_kvlist *list = NULL;
	bool symbols = which == KMODX_INDEX_SYMBOL;

	json_key(w, symbols ? "symbols" : "aliases");
	json_array_begin(w);
	kmodx_index_get(ctx, which, &list); /* a missing index lists nothing */
	for (size_t i = 0; i < kmodx_kvlist_count(list); i++) {
		const char *key = kmodx_kvlist_key(list, i);

		json_object_begin(w);
		if (symbols && strncmp(key, "symbol:", 7) == 0)
			key += 7;
		json_member_string(w, symbols ? "symbol" : "alias", key);
		json_member_string(w, "module", kmodx_kvlist_value(list, i));
		json_object_end(w);
	}
	json_array_end(w);
	kmodx_kvlist_free(list);
}

static int show_config_json(struct kmodx_ctx *ctx)
{
	struct json_writer w;

	tool_json_begin(&w, stdout, 1);
	json_key(&w, "config");
	json_object_begin(&w);
	for (size_t k = 0; k < ARRAY_SIZE(config_kinds); k++) {
		struct kmodx_kvlist *list = NULL;

		json_key(&w, config_kinds[k].name);
		json_array_begin(&w);
		kmodx_config_get(ctx, config_kinds[k].kind, &list);
		for (size_t i = 0; i < kmodx_kvlist_count(list); i++)
			json_config_entry(&w, config_kinds[k].kind, list, i);
		json_array_end(&w);
		kmodx_kvlist_free(list);
	}
	json_object_end(&w);
	json_key(&w, "index");
	json_object_begin(&w);
	json_index(ctx, &w, KMODX_INDEX_ALIAS);
	json_index(ctx, &w, KMODX_INDEX_SYMBOL);
	json_object_end(&w);
	return tool_json_end(&w);
}

static int show_symbols(struct modprobe *mp, const char *file, bool exports)
{
	struct kmodx_kvlist *list;
	struct kmodx_module *mod;
	int r = kmodx_module_new_from_path(mp->ctx, file, &mod);

	if (r < 0) {
		LOG(mp, "Module %s not found.", file);
		return r;
	}
	r = exports ? kmodx_module_get_symbols(mod, &list) : kmodx_module_get_versions(mod, &list);
	if (r < 0) {
		LOG(mp, "could not get %s of %s: %s", exports ? "symbols" : "modversions", file,
		    strerror(-r));
	} else if (mp->json) {
		json_member_string(mp->json, "file", file);
		json_key(mp->json, exports ? "exports" : "versions");
		json_array_begin(mp->json);
		for (size_t i = 0; i < kmodx_kvlist_count(list); i++) {
			json_object_begin(mp->json);
			json_member_string(mp->json, "symbol", kmodx_kvlist_key(list, i));
			json_member_uint(mp->json, "crc", kmodx_kvlist_number(list, i));
			json_object_end(mp->json);
		}
		json_array_end(mp->json);
		kmodx_kvlist_free(list);
	} else {
		for (size_t i = 0; i < kmodx_kvlist_count(list); i++)
			printf("0x%08" PRIx64 "\t%s\n", kmodx_kvlist_number(list, i),
			       kmodx_kvlist_key(list, i));
		kmodx_kvlist_free(list);
	}
	kmodx_module_unref(mod);
	return r;
}

/*
 * The module the kernel has under this plain name (loaded, or built in and visible in
 * /sys/module), for when the indexes do not know it: a container or an image without
 * /lib/modules, or a module whose file was removed after loading. kmod says "not
 * found" then; NULL when the kernel does not have it either.
 */
static struct kmodx_module *in_kernel(struct modprobe *mp, const char *arg)
{
	struct kmodx_module *mod;

	if (mp->other_kernel || arg[strcspn(arg, ":*?[/")] != '\0' ||
	    kmodx_module_new_from_name(mp->ctx, arg, &mod) < 0)
		return NULL;
	if (kmodx_module_get_initstate(mod) < 0) {
		kmodx_module_unref(mod);
		return NULL;
	}
	return mod;
}

static int insert_one(struct modprobe *mp, struct kmodx_module *mod)
{
	const char *name = kmodx_module_get_name(mod);

	if (mp->lookup_only) {
		if (mp->json)
			json_string(mp->json, name);
		else
			printf("%s\n", name);
		return 0;
	}
	struct kmodx_probe_failure failure = {0};
	int r;

	mp->probe.failure = &failure;
	r = kmodx_module_probe_insert(mod, &mp->probe);
	mp->probe.failure = NULL;
	if (r >= 0)
		return 0; /* a positive value: skipped as blacklisted */
	if (failure.stage == KMODX_PROBE_STAGE_MASK)
		explain_mask_error(name, failure.module);
	else if (failure.stage == KMODX_PROBE_STAGE_FILE)
		/* the file's error, not what the kernel would mean by it */
		ERR("could not insert '%s': %s: %s", name, kmodx_module_get_path(failure.module),
		    strerror(-r));
	else if (r == -EEXIST)
		ERR("could not insert '%s': Module already in kernel", name);
	else if (r == -ENOENT)
		ERR("could not insert '%s': Unknown symbol in module, or unknown "
		    "parameter (see dmesg)",
		    name);
	else
		ERR("could not insert '%s': %s", name, strerror(-r));
	/* about the module the kernel refused, which may be a dependency */
	if (failure.stage == KMODX_PROBE_STAGE_KERNEL)
		explain_signature_error(failure.module, -r, mp->probe.flags);
	if (failure.stage == KMODX_PROBE_STAGE_KERNEL && r == -EINVAL)
		explain_options_error(failure.module);
	kmodx_module_unref(failure.module);
	return r;
}

static int insert(struct modprobe *mp, const char *arg, const char *extra)
{
	struct kmodx_list *list = NULL;
	struct kmodx_module *mod;
	int r;

	mp->probe.extra_options = extra;
	/* a path: that file, its dependencies still from modules.dep by its name */
	if (arg[0] == '/' || strncmp(arg, "./", 2) == 0) {
		r = kmodx_module_new_from_path(mp->ctx, arg, &mod);
		if (r < 0) {
			LOG(mp, "Failed to get module from path %s: %s", arg, strerror(-r));
			return -ENOENT;
		}
		r = insert_one(mp, mod);
		kmodx_module_unref(mod);
		return r;
	}
	r = kmodx_module_new_from_lookup(mp->ctx, arg, &list);
	if ((r < 0 || kmodx_list_count(list) == 0) && !mp->lookup_only &&
	    !(mp->probe.flags & KMODX_PROBE_IGNORE_LOADED) &&
	    (mod = in_kernel(mp, arg)) != NULL) {
		/* nothing to load: the module is there, as the caller wants */
		kmodx_list_free(list);
		r = 0;
		if (mp->probe.flags & KMODX_PROBE_FAIL_ON_LOADED) {
			ERR("could not insert '%s': Module already in kernel",
			    kmodx_module_get_name(mod));
			r = -EEXIST;
		}
		kmodx_module_unref(mod);
		return r;
	}
	if (r < 0 || kmodx_list_count(list) == 0) {
		LOG(mp, "Module %s not found in directory %s", arg,
		    kmodx_ctx_get_module_dir(mp->ctx) ? kmodx_ctx_get_module_dir(mp->ctx)
						       : "(missing)");
		kmodx_list_free(list);
		return -ENOENT;
	}
	/* as kmod: the last module's result decides */
	for (size_t i = 0; i < kmodx_list_count(list); i++)
		r = insert_one(mp, kmodx_list_get(list, i));
	kmodx_list_free(list);
	return r;
}

static int remove_one(struct modprobe *mp, const char *arg)
{
	struct kmodx_list *list;
	int r = kmodx_module_new_from_lookup(mp->ctx, arg, &list);

	if (r < 0)
		return r;
	if (kmodx_list_count(list) == 0) {
		struct kmodx_module *mod = in_kernel(mp, arg);

		kmodx_list_free(list);
		if (mod) {
			/* loaded, but unknown to the indexes (its file is gone, or there
			 * is no module directory): remove it by name */
			r = kmodx_module_probe_remove(mod, &mp->probe);
			kmodx_module_unref(mod);
			return r;
		}
		LOG(mp, "Module %s not found.", arg);
		return -ENOENT;
	}
	for (size_t i = 0; i < kmodx_list_count(list); i++) {
		r = kmodx_module_probe_remove(kmodx_list_get(list, i), &mp->probe);
		if (r < 0)
			break;
	}
	kmodx_list_free(list);
	return r;
}

static bool stderr_usable(void)
{
	return !(stdio_closed & (1u << STDERR_FILENO));
}

struct settings {
	const char *root, *dirname, *kver;
	const char *config[64];
	size_t n_config;
	bool all, remove, show_config, show_modversions, show_exports, use_syslog,
		explain;
	int verbose;
};

static int setup_ctx(struct modprobe *mp, const struct settings *st)
{
	if (tool_ctx_new(st->root, &mp->ctx) < 0)
		return -1;
	if (st->n_config)
		kmodx_ctx_set_config_paths(mp->ctx, st->config);
	if ((st->kver && kmodx_ctx_set_kernel_release(mp->ctx, st->kver) < 0) ||
	    (st->dirname && kmodx_ctx_set_base_dir(mp->ctx, st->dirname) < 0)) {
		ERR("invalid kernel version '%s'", st->kver ? st->kver : "");
		return -1;
	}
	return 0;
}

/* -R: each argument with the modules it resolves to. */
static int resolve_json(struct modprobe *mp, const char *arg)
{
	int r;

	json_object_begin(mp->json);
	json_member_string(mp->json, "alias", arg);
	json_key(mp->json, "modules");
	json_array_begin(mp->json);
	r = insert(mp, arg, NULL);
	json_array_end(mp->json);
	json_object_end(mp->json);
	return r;
}

static int run_plain(struct modprobe *mp, const struct settings *st, char **args,
		     int nargs)
{
	int r = 0;

	if (st->show_config)
		return show_config(mp->ctx);
	if (st->show_modversions || st->show_exports)
		return show_symbols(mp, args[0], st->show_exports);
	if (st->explain) {
		for (int i = 0; i < nargs; i++) {
			int e = modprobe_explain(mp->ctx, args[i], mp->probe.flags,
						 mp->json);

			if (e < 0)
				r = e;
		}
		return r;
	}
	if (st->remove || st->all) {
		for (int i = 0; i < nargs; i++) {
			int e = st->remove ? remove_one(mp, args[i]) : insert(mp, args[i], NULL);

			if (e < 0)
				r = e;
		}
		return r;
	}
	_cleanup_free_ char *extra = options_from_argv(nargs - 1, args + 1);

	if (extra == NULL) {
		ERR("could not gather module options: out-of-memory");
		return -ENOMEM;
	}
	return insert(mp, args[0], extra);
}

/* --json: the modes that print something, each as one document. */
static int run(struct modprobe *mp, const struct settings *st, char **args, int nargs)
{
	struct json_writer w;
	int r = 0;

	if (mp->json == NULL)
		return run_plain(mp, st, args, nargs);
	if (st->show_config)
		return show_config_json(mp->ctx);
	tool_json_begin(&w, stdout, 1);
	mp->json = &w;
	if (st->show_modversions || st->show_exports) {
		r = show_symbols(mp, args[0], st->show_exports);
	} else if (st->explain) {
		json_key(&w, "explain");
		json_array_begin(&w);
		r = run_plain(mp, st, args, nargs);
		json_array_end(&w);
	} else if (mp->lookup_only) {
		json_key(&w, "aliases");
		json_array_begin(&w);
		for (int i = 0; i < (st->all ? nargs : 1); i++) {
			int e = resolve_json(mp, args[i]);

			if (e < 0)
				r = e;
		}
		json_array_end(&w);
	} else {
		json_key(&w, "actions");
		json_array_begin(&w);
		r = run_plain(mp, st, args, nargs);
		json_array_end(&w);
	}
	if (tool_json_end(&w) < 0 && r == 0)
		r = -EIO;
	return r;
}

static int do_modprobe(int argc, char *orig_argv[])
{
	struct settings st = {.verbose = LOG_WARNING};
	struct modprobe mp = {.message_prio = LOG_CRIT};
	struct json_writer json_marker; /* mp.json's placeholder until run() sets it up */
	struct opt_parser p;
	char **argv = prepend_env_options(&argc, orig_argv);
	int c, r = -1;

	if (argv == NULL) {
		ERR("Could not prepend options from command line");
		return EXIT_FAILURE;
	}
	mp.probe.flags = KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY;
	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'a':
			mp.message_prio = LOG_WARNING;
			st.all = true;
			break;
		case 'r':
			st.remove = true;
			break;
		case OPT_REMOVE_HOLDERS:
			mp.probe.flags |= KMODX_PROBE_REMOVE_HOLDERS;
			break;
		case 'w': {
			char *end = NULL;

			mp.probe.wait_msec = strtoul(optarg, &end, 0);
			if (!*optarg || *end) {
				ERR("unexpected wait value '%s'.", optarg);
				goto done;
			}
			break;
		}
		case OPT_FIRST_TIME:
			mp.probe.flags |= KMODX_PROBE_FAIL_ON_LOADED;
			break;
		case 'i':
			mp.probe.flags |= KMODX_PROBE_IGNORE_COMMAND;
			break;
		case 'b':
			mp.probe.flags |= KMODX_PROBE_APPLY_BLACKLIST;
			break;
		case 'f':
			mp.probe.flags |= KMODX_PROBE_FORCE_MODVERSION | KMODX_PROBE_FORCE_VERMAGIC |
					  KMODX_PROBE_FORCE_REMOVE;
			break;
		case OPT_FORCE_MODVERSION:
			mp.probe.flags |= KMODX_PROBE_FORCE_MODVERSION;
			break;
		case OPT_FORCE_VERMAGIC:
			mp.probe.flags |= KMODX_PROBE_FORCE_VERMAGIC;
			break;
		case 'D':
			mp.probe.flags |= KMODX_PROBE_IGNORE_LOADED | KMODX_PROBE_DRY_RUN;
			mp.show_actions = true;
			break;
		case 'R':
			mp.lookup_only = true;
			break;
		case 'c':
			st.show_config = true;
			break;
		case OPT_SHOW_MODVERSIONS:
			st.show_modversions = true;
			break;
		case OPT_SHOW_EXPORTS:
			st.show_exports = true;
			break;
		case OPT_EXPLAIN:
			st.explain = true;
			break;
		case 'n':
			mp.probe.flags |= KMODX_PROBE_DRY_RUN;
			break;
		case 'C':
			if (st.n_config + 1 >= ARRAY_SIZE(st.config)) {
				ERR("too many configuration paths");
				goto done;
			}
			st.config[st.n_config++] = optarg;
			st.config[st.n_config] = NULL;
			env_append("-C");
			env_append(optarg);
			break;
		case 'd':
			st.dirname = optarg;
			break;
		case 'S':
			st.kver = optarg;
			break;
		case 's':
			env_append("-s");
			st.use_syslog = true;
			break;
		case 'q':
			env_append("-q");
			st.verbose = LOG_EMERG;
			break;
		case 'v':
			env_append("-v");
			st.verbose++;
			break;
		case OPT_JSON:
			mp.json = &json_marker;
			break;
		case OPT_ROOT:
			st.root = optarg;
			break;
		case 'V':
			print_version();
			r = 0;
			goto done;
		case 'h':
			opt_help(usage, opts, ARRAY_SIZE(opts));
			r = 0;
			goto done;
		default:
			goto done;
		}
	}
	/* udev and the kernel may run us with stderr closed: then syslog */
	log_open(st.use_syslog || !stderr_usable());
	log_set_priority(st.verbose);
	mp.probe.message_priority = mp.message_prio;
	if (mp.json && !mp.show_actions && !mp.lookup_only && !st.show_config &&
	    !st.show_modversions && !st.show_exports && !st.explain) {
		ERR("--json works with -D, -R, -c, --explain, --show-modversions and "
		    "--show-exports only.");
		goto done;
	}
	mp.probe.data = &mp;
	if (mp.json)
		mp.probe.show_action = json_action;
	else if ((mp.show_actions || st.verbose > LOG_WARNING) && !st.explain)
		mp.probe.show = show_line;
	if (!st.show_config && optind >= argc) {
		ERR("missing parameters. See -h.");
		goto done;
	}
	mp.other_kernel = st.kver != NULL || st.dirname != NULL;
	if (setup_ctx(&mp, &st) == 0)
		r = run(&mp, &st, argv + optind, argc - optind);
	kmodx_ctx_unref(mp.ctx);
	log_close();
done:
	if (argv != orig_argv)
		free(argv);
	if (fflush(stdout) != 0)
		r = -1;
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_modprobe = {"modprobe", do_modprobe,
				   "load and remove modules with their dependencies"};
