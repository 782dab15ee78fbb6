// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'a', "author", no_argument, NULL, "print only 'author'"},
	{'d', "description", no_argument, NULL, "print only 'description'"},
	{'l', "license", no_argument, NULL, "print only 'license'"},
	{'p', "parameters", no_argument, NULL, "print only 'parm'"},
	{'n', "filename", no_argument, NULL, "print only 'filename'"},
	{'0', "null", no_argument, NULL, "use \\0 instead of \\n"},
	{'m', "modname", no_argument, NULL,
	 "handle argument as module name instead of alias or filename"},
	{'F', "field", required_argument, "FIELD", "print only provided FIELD"},
	{'k', "set-version", required_argument, "VERSION",
	 "use VERSION instead of `uname -r`"},
	{'b', "basedir", required_argument, "DIR",
	 "use DIR as filesystem root for /lib/modules"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static const char *field;
static char sep = '\n';
static struct json_writer *json; /* --json: every module goes there */

/* Full output prints a type-only parameter as "name:type", -F parm as "name: (type)". */
static int print_params(FILE *out, struct kmodx_module *mod, bool full)
{
	struct kmodx_kvlist *descs, *types;
	int r = kmodx_module_get_param_decls(mod, &descs, &types);

	if (r < 0)
		return r;
	for (size_t i = 0; i < kmodx_kvlist_count(descs); i++) {
		const char *desc = kmodx_kvlist_value(descs, i),
			   *type = kmodx_kvlist_value(types, i);

		fprintf(out, "%s%s:", full ? "parm:           " : "",
			kmodx_kvlist_key(descs, i));
		if (!kmodx_kvlist_number(descs, i))
			fprintf(out, full ? "%s%c" : " (%s)%c", type, sep);
		else if (kmodx_kvlist_number(types, i))
			fprintf(out, "%s (%s)%c", desc, type, sep);
		else
			fprintf(out, "%s%c", desc, sep);
	}
	kmodx_kvlist_free(descs);
	kmodx_kvlist_free(types);
	return 0;
}

static bool is_signature_key(const char *key)
{
	static const char *const keys[] = {"sig_id", "signer", "sig_key", "sig_hashalgo",
					   "signature"};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(key, keys[i]) == 0)
			return true;
	}
	return false;
}

/* One value: depends is a list in one string, the others are strings. */
static void json_value(struct json_writer *w, const char *key, const char *value)
{
	if (strcmp(key, "depends") != 0) {
		json_string(w, value);
		return;
	}
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_string_n(w, p, n);
		p += n + (p[n] == ',');
	}
}

/* Every .modinfo key once, in order of first appearance, with all its values. */
static void json_info(struct json_writer *w, const struct kmodx_kvlist *info)
{
	size_t n = kmodx_kvlist_count(info);

	json_key(w, "info");
	json_object_begin(w);
	for (size_t i = 0; i < n; i++) {
		const char *key = kmodx_kvlist_key(info, i);
		size_t j = 0;

		while (j < i && strcmp(kmodx_kvlist_key(info, j), key) != 0)
			j++;
		if (j < i || !strcmp(key, "parm") || !strcmp(key, "parmtype") ||
		    is_signature_key(key))
			continue; /* seen, or in parameters or signature */
		json_key(w, key);
		json_array_begin(w);
		for (j = i; j < n; j++) {
			if (strcmp(kmodx_kvlist_key(info, j), key) == 0)
				json_value(w, key, kmodx_kvlist_value(info, j));
		}
		json_array_end(w);
	}
	json_object_end(w);
}

/* Without the line breaks modinfo puts into long hexadecimal values. */
static void json_unwrapped(struct json_writer *w, const char *value)
{
	_cleanup_(strbuf_releasep) struct strbuf sb = STRBUF_INIT;

	for (const char *p = value; *p; p++) {
		if (strncmp(p, "\n\t\t", 3) == 0)
			p += 2;
		else
			strbuf_putc(&sb, *p);
	}
	json_string(w, strbuf_str(&sb));
}

static void json_signature(struct json_writer *w, const struct kmodx_kvlist *info)
{
	bool found = false;

	json_key(w, "signature");
	for (size_t i = 0; i < kmodx_kvlist_count(info); i++) {
		if (!is_signature_key(kmodx_kvlist_key(info, i)))
			continue;
		if (!found)
			json_object_begin(w);
		found = true;
		json_key(w, kmodx_kvlist_key(info, i));
		json_unwrapped(w, kmodx_kvlist_value(info, i));
	}
	if (found)
		json_object_end(w);
	else
		json_null(w);
}

static int json_params(struct json_writer *w, struct kmodx_module *mod, bool have_info)
{
	struct kmodx_kvlist *descs = NULL, *types = NULL;
	int r = have_info ? kmodx_module_get_param_decls(mod, &descs, &types) : 0;

	json_key(w, "parameters");
	json_array_begin(w);
	for (size_t i = 0; i < kmodx_kvlist_count(descs); i++) {
		json_object_begin(w);
		json_member_string(w, "name", kmodx_kvlist_key(descs, i));
		json_member_string(w, "type",
				   kmodx_kvlist_number(types, i)
					   ? kmodx_kvlist_value(types, i)
					   : NULL);
		json_member_string(w, "description",
				   kmodx_kvlist_number(descs, i)
					   ? kmodx_kvlist_value(descs, i)
					   : NULL);
		json_object_end(w);
	}
	json_array_end(w);
	kmodx_kvlist_free(descs);
	kmodx_kvlist_free(types);
	return r;
}

static int show_module_json(struct json_writer *w, struct kmodx_module *mod)
{
	const char *filename = kmodx_module_get_path(mod);
	struct kmodx_kvlist *info = NULL;
	int r = kmodx_module_get_info(mod, &info);

	if (r == -ENOENT && filename == NULL)
		r = 0; /* a builtin module of an old kernel without
			  modules.builtin.modinfo */
	else if (r < 0)
		ERR("could not get modinfo from '%s': %s", kmodx_module_get_name(mod),
		    strerror(-r));
	if (r < 0)
		return r;
	json_object_begin(w);
	json_member_string(w, "name", kmodx_module_get_name(mod));
	json_member_string(w, "filename", filename);
	json_member_bool(w, "builtin", filename == NULL);
	json_info(w, info);
	r = json_params(w, mod, info != NULL);
	json_signature(w, info);
	json_object_end(w);
	kmodx_kvlist_free(info);
	if (r < 0)
		ERR("could not get the parameters of '%s': %s",
		    kmodx_module_get_name(mod), strerror(-r));
	return r;
}

static int show_module(FILE *out, struct kmodx_module *mod)
{
	const char *filename = kmodx_module_get_path(mod);
	bool builtin = filename == NULL;
	struct kmodx_kvlist *info;
	int r;

	if (json)
		return show_module_json(json, mod);
	if (builtin) {
		if (field == NULL)
			fprintf(out, "%-16s%s%c", "name:", kmodx_module_get_name(mod), sep);
		else if (strcmp(field, "name") == 0)
			fprintf(out, "%s%c", kmodx_module_get_name(mod), sep);
		filename = "(builtin)";
	}
	if (field && strcmp(field, "filename") == 0) {
		fprintf(out, "%s%c", filename, sep);
		return 0;
	}
	if (field == NULL)
		fprintf(out, "%-16s%s%c", "filename:", filename, sep);

	r = kmodx_module_get_info(mod, &info);
	if (r < 0) {
		if (builtin && r == -ENOENT)
			return 0; /* an old kernel without modules.builtin.modinfo */
		ERR("could not get modinfo from '%s': %s", kmodx_module_get_name(mod),
		    strerror(-r));
		return r;
	}
	for (size_t i = 0; i < kmodx_kvlist_count(info); i++) {
		const char *key = kmodx_kvlist_key(info, i);
		const char *value = kmodx_kvlist_value(info, i);

		bool is_parm = !strcmp(key, "parm") || !strcmp(key, "parmtype");

		if (field) {
			/* parm is merged with parmtype, after the loop */
			if (strcmp(field, key) == 0 && strcmp(field, "parm") != 0)
				fprintf(out, "%s%c", value, sep);
		} else if (is_parm) {
			continue; /* merged per parameter, after the other keys */
		} else if (sep == '\0') {
			fprintf(out, "%s=%s%c", key, value, sep);
		} else {
			/* kmod 34 pads to 16 columns and no further (kmod 30 padded a
			 * long key with |15 - len| spaces) */
			int pad = 15 - (int)strlen(key);

			fprintf(out, "%s:%-*s%s%c", key, pad > 0 ? pad : 0, "", value, sep);
		}
	}
	if (field == NULL || strcmp(field, "parm") == 0)
		r = print_params(out, mod, field == NULL);
	if (r == -ENOMEM)
		ERR("Out of memory!");
	else if (r < 0)
		ERR("could not get the parameters of '%s': %s",
		    kmodx_module_get_name(mod), strerror(-r));
	kmodx_kvlist_free(info);
	return r;
}

static bool is_module_file(const char *name)
{
	static const char *const exts[] = {".ko", ".ko.gz", ".ko.xz", ".ko.zst"};
	size_t len = strlen(name);
	struct stat st;

	if (stat(name, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t n = strlen(exts[i]);

		if (len >= n && strcmp(name + len - n, exts[i]) == 0)
			return true;
	}
	return false;
}

static int show_path(FILE *out, struct kmodx_ctx *ctx, const char *path)
{
	struct kmodx_module *mod;
	int r = kmodx_module_new_from_path(ctx, path, &mod);

	if (r < 0) {
		ERR("Module file %s not found.", path);
		return r;
	}
	r = show_module(out, mod);
	kmodx_module_unref(mod);
	return r;
}

static int show_name(FILE *out, struct kmodx_ctx *ctx, const char *name)
{
	struct kmodx_module *mod;
	int r = kmodx_module_new_from_name_lookup(ctx, name, &mod);

	if (r < 0) {
		ERR("Module name %s not found.", name);
		return r;
	}
	r = show_module(out, mod);
	kmodx_module_unref(mod);
	return r;
}

static int show_alias(FILE *out, struct kmodx_ctx *ctx, const char *alias)
{
	struct kmodx_list *list;
	int r = kmodx_module_new_from_lookup(ctx, alias, &list);

	if (r < 0) {
		ERR("Module alias %s not found.", alias);
		return r;
	}
	if (kmodx_list_count(list) == 0) {
		ERR("Module %s not found.", alias);
		kmodx_list_free(list);
		return -ENOENT;
	}
	for (size_t i = 0; i < kmodx_list_count(list); i++) {
		int e = show_module(out, kmodx_list_get(list, i));

		if (e < 0)
			r = e;
	}
	kmodx_list_free(list);
	return r;
}

struct settings {
	const char *root, *basedir, *kver;
	bool by_name;
};

static int settings_ctx(const struct settings *st, struct kmodx_ctx **out)
{
	const char *const no_config[] = {NULL};
	struct kmodx_ctx *ctx;

	if (tool_ctx_new(st->root, &ctx) < 0)
		return -1;
	/* modinfo reads no modprobe.d configuration: aliases are the modules' own */
	kmodx_ctx_set_config_paths(ctx, no_config);
	kmodx_ctx_set_use_cmdline(ctx, false);
	if (st->kver && kmodx_ctx_set_kernel_release(ctx, st->kver) < 0) {
		ERR("invalid kernel version '%s'", st->kver);
		kmodx_ctx_unref(ctx);
		return -1;
	}
	if (st->basedir)
		kmodx_ctx_set_base_dir(ctx, st->basedir);
	*out = ctx;
	return 0;
}

static int show_arg(FILE *out, struct kmodx_ctx *ctx, const struct settings *st,
		    const char *arg)
{
	if (st->by_name)
		return show_name(out, ctx, arg);
	if (is_module_file(arg))
		return show_path(out, ctx, arg);
	return show_alias(out, ctx, arg);
}

/*
 * Many arguments (modinfo over a whole tree) are shared among threads, each with its
 * own context; output and messages are collected per argument and written in argument
 * order, so the result is the same as one thread's.
 */
struct job {
	char *out, *err;
	size_t outlen, errlen;
	int r;
	bool done;
};

struct pool {
	const struct settings *st;
	char **args;
	struct job *jobs;
	size_t n, next;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *worker(void *data)
{
	struct pool *pl = data;
	struct kmodx_ctx *ctx = NULL;
	bool ok = settings_ctx(pl->st, &ctx) == 0;

	for (;;) {
		size_t i = __atomic_fetch_add(&pl->next, 1, __ATOMIC_RELAXED);
		struct job *j = &pl->jobs[i < pl->n ? i : 0];
		FILE *out, *err;

		if (i >= pl->n)
			break;
		out = open_memstream(&j->out, &j->outlen);
		err = open_memstream(&j->err, &j->errlen);
		if (out && err && ok) {
			log_capture(err);
			j->r = show_arg(out, ctx, pl->st, pl->args[i]);
			log_capture(NULL);
		} else {
			j->r = -ENOMEM;
		}
		if (out)
			fclose(out);
		if (err)
			fclose(err);
		pthread_mutex_lock(&pl->lock);
		j->done = true;
		pthread_cond_broadcast(&pl->cond);
		pthread_mutex_unlock(&pl->lock);
	}
	kmodx_ctx_unref(ctx);
	return NULL;
}

static int run_parallel(const struct settings *st, char **args, size_t n, unsigned nthreads)
{
	struct pool pl = {.st = st, .args = args, .n = n, .next = 0,
			  .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	pthread_t threads[8];
	unsigned started = 0;
	int r = 0;

	pl.jobs = calloc(n, sizeof(*pl.jobs));
	if (pl.jobs == NULL)
		return -ENOMEM;
	for (unsigned t = 0; t < nthreads; t++) {
		if (pthread_create(&threads[started], NULL, worker, &pl) == 0)
			started++;
	}
	if (started == 0)
		worker(&pl);
	for (size_t i = 0; i < n; i++) {
		struct job *j = &pl.jobs[i];

		pthread_mutex_lock(&pl.lock);
		while (!j->done)
			pthread_cond_wait(&pl.cond, &pl.lock);
		pthread_mutex_unlock(&pl.lock);
		fwrite(j->out, 1, j->outlen, stdout);
		if (j->errlen) {
			fflush(stdout);
			fwrite(j->err, 1, j->errlen, stderr);
		}
		if (j->r < 0)
			r = j->r;
		free(j->out);
		free(j->err);
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	free(pl.jobs);
	return r;
}

static unsigned worker_count(size_t n)
{
	unsigned cpus = cpus_online();

	/* threads only pay off for a batch of modules */
	if (n < 32 || cpus < 2)
		return 0;
	return MIN(cpus, 8u);
}

static int do_modinfo(int argc, char *argv[])
{
	struct settings st = {NULL, NULL, NULL, false};
	struct json_writer writer;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	unsigned nthreads;
	int c, r = 0;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'a':
			field = "author";
			break;
		case 'd':
			field = "description";
			break;
		case 'l':
			field = "license";
			break;
		case 'p':
			field = "parm";
			break;
		case 'n':
			field = "filename";
			break;
		case '0':
			sep = '\0';
			break;
		case 'm':
			st.by_name = true;
			break;
		case 'F':
			field = optarg;
			break;
		case 'k':
			st.kver = optarg;
			break;
		case 'b':
			st.basedir = optarg;
			break;
		case OPT_JSON:
			json = &writer;
			break;
		case OPT_ROOT:
			st.root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tmodinfo [options] <modulename|filename|alias> [...]", opts,
				 ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		ERR("missing module or filename.");
		return EXIT_FAILURE;
	}
	if (json && (field || sep != '\n')) {
		ERR("--json cannot be combined with -F, -a, -d, -l, -p, -n or -0.");
		return EXIT_FAILURE;
	}
	/* one document: the modules are written in order by this thread */
	nthreads = json ? 0 : worker_count((size_t)(argc - optind));
	if (json) {
		tool_json_begin(json, stdout, 1);
		json_key(json, "modules");
		json_array_begin(json);
	}
	if (nthreads > 0) {
		r = run_parallel(&st, argv + optind, (size_t)(argc - optind), nthreads);
	} else {
		if (settings_ctx(&st, &ctx) < 0)
			return EXIT_FAILURE;
		for (int i = optind; i < argc; i++) {
			int e = show_arg(stdout, ctx, &st, argv[i]);

			if (e < 0)
				r = e;
		}
		kmodx_ctx_unref(ctx);
	}
	if (json) {
		json_array_end(json);
		if (tool_json_end(json) < 0)
			r = -EIO;
	}
	if (fflush(stdout) != 0)
		r = -errno;
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_modinfo = {"modinfo", do_modinfo, "show information about modules"};
