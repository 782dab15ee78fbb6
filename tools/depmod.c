// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "depmod.h"
#include "tool.h"

enum { OPT_NO_CACHE = OPT_LONG_FIRST, OPT_LINT };

static const struct tool_opt opts[] = {
	{'a', "all", no_argument, NULL, "probe all modules (the default)"},
	{'A', "quick", no_argument, NULL, "only do the work if a module changed"},
	{'e', "errsyms", no_argument, NULL, "report symbols no module or the kernel provides"},
	{'n', "show", no_argument, NULL, "write the text files to stdout only"},
	{'n', "dry-run", no_argument, NULL, "same as --show"},
	{'P', "symbol-prefix", required_argument, "CHAR", "architecture symbol prefix"},
	{'C', "config", required_argument, "PATH", "read configuration from PATH (repeatable)"},
	{'v', "verbose", no_argument, NULL, "print every dependency and more messages"},
	{'w', "warn", no_argument, NULL, "warn about duplicate index entries"},
	{'b', "basedir", required_argument, "DIR", "use an image of a module tree under DIR"},
	{'m', "moduledir", required_argument, "DIR", "module directory instead of /lib/modules"},
	{'o', "outdir", required_argument, "DIR", "write the indexes under DIR instead of basedir"},
	{'F', "filesyms", required_argument, "FILE", "kernel symbols from System.map FILE"},
	{'E', "symvers", required_argument, "FILE", "kernel symbols and versions from Module.symvers"},
	{OPT_NO_CACHE, "no-cache", no_argument, NULL,
	 "read every module, not only the changed ones"},
	{OPT_LINT, "lint", no_argument, NULL,
	 "report the tree's problems and write nothing (with -a: index it too)"},
	TOOL_OPT_JSON,
	{'u', "unresolved-error", no_argument, NULL, NULL}, /* deprecated, ignored */
	{'q', "quiet", no_argument, NULL, NULL},	     /* deprecated, ignored */
	{'r', NULL, no_argument, NULL, NULL},		     /* deprecated, ignored */
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static bool is_version(const char *s)
{
	unsigned a, b;

	return sscanf(s, "%u.%u", &a, &b) == 2;
}

/* kmod resolves -b and -o against the current directory once, up front. */
static char *absolute(const char *path)
{
	char cwd[4096];
	char *p;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&p, "%s/%s", cwd, path) < 0)
		return NULL;
	return p;
}

/* ---- --lint ---- */

static const char *plural(size_t n, const char *one, const char *more)
{
	return n == 1 ? one : more;
}

static void print_items(const struct depmod_lint_list *e)
{
	for (size_t k = 0; k < e->n_items; k++)
		printf(" %s", e->items[k]);
	putchar('\n');
}

static size_t count_items(const struct depmod_lint_list *v, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += v[i].n_items;
	return t;
}

static void print_sources(const struct depmod_lint *l)
{
	if (l->stub)
		printf("kernel exports: %s is a stub (no exported symbol): not used\n",
		       l->stub);
	if (l->exports_file)
		printf("kernel exports: %s (%s, %zu %s)\n", l->exports_file,
		       l->exports_kind, l->n_exports,
		       plural(l->n_exports, "symbol", "symbols"));
	else
		printf("kernel exports: none found (-E, -F, or Module.symvers in the module "
		       "directory's build/ or /usr/src/linux-headers-<release>/): taken to "
		       "be what the modules of kernel/ need and no module provides\n");
	if (!l->firmware_checked)
		printf("firmware: not checked: no /lib/firmware directory\n");
}

/* A group's lines: "  where what: items" */
static void print_lists(const struct depmod_lint_list *v, size_t n, bool what, bool count)
{
	for (size_t i = 0; i < n; i++) {
		printf("  %s", v[i].where);
		if (what)
			printf(" %s", v[i].what);
		if (count)
			printf(" (%zu)", v[i].n_items);
		putchar(':');
		print_items(&v[i]);
	}
}

static void print_lint(const struct depmod_lint *l)
{
	print_sources(l);
	if (l->n_cycles)
		printf("dependency cycles: %zu\n", l->n_cycles);
	for (size_t i = 0; i < l->n_cycles; i++) {
		printf(" ");
		print_items(&l->cycles[i]);
	}
	if (l->n_unknown)
		printf("unknown symbols: %zu in %zu %s\n",
		       count_items(l->unknown, l->n_unknown), l->n_unknown,
		       plural(l->n_unknown, "module", "modules"));
	print_lists(l->unknown, l->n_unknown, false, true);
	if (l->n_vermagics)
		printf("vermagic: %zu %s from the kernel's (%s)\n", l->n_vermagics,
		       plural(l->n_vermagics, "module differs", "modules differ"),
		       l->vermagic);
	for (size_t i = 0; i < l->n_vermagics; i++)
		printf("  %s: %s\n", l->vermagics[i].where,
		       l->vermagics[i].what[0] ? l->vermagics[i].what : "(none)");
	if (l->n_dups)
		printf("duplicate modules: %zu\n", l->n_dups);
	for (size_t i = 0; i < l->n_dups; i++) {
		printf("  %s: %s is used, not:", l->dups[i].what, l->dups[i].where);
		print_items(&l->dups[i]);
	}
	if (l->n_missing)
		printf("missing modules: %zu\n", count_items(l->missing, l->n_missing));
	print_lists(l->missing, l->n_missing, true, false);
	if (l->n_firmware)
		printf("missing firmware: %zu in %zu %s\n",
		       count_items(l->firmware, l->n_firmware), l->n_firmware,
		       plural(l->n_firmware, "module", "modules"));
	print_lists(l->firmware, l->n_firmware, false, true);
	if (l->n_unreadable)
		printf("unreadable modules: %zu\n", l->n_unreadable);
	for (size_t i = 0; i < l->n_unreadable; i++)
		printf("  %s: %s\n", l->unreadable[i].where, l->unreadable[i].what);
	if (l->problems)
		printf("%zu %s\n", l->problems, plural(l->problems, "problem", "problems"));
	else
		printf("no problems\n");
}

static void json_items(struct json_writer *w, const char *key,
		       const struct depmod_lint_list *e)
{
	json_key(w, key);
	json_array_begin(w);
	for (size_t k = 0; k < e->n_items; k++)
		json_string(w, e->items[k]);
	json_array_end(w);
}

/* A group as an array of objects: where under wkey, what under skey and the items
 * under ikey (those NULL are left out). */
static void json_group(struct json_writer *w, const char *name,
		       const struct depmod_lint_list *v, size_t n, const char *wkey,
		       const char *skey, const char *ikey)
{
	json_key(w, name);
	json_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(w);
		if (wkey)
			json_member_string(w, wkey, v[i].where);
		if (skey)
			json_member_string(w, skey, v[i].what);
		if (ikey)
			json_items(w, ikey, &v[i]);
		json_object_end(w);
	}
	json_array_end(w);
}

static int print_lint_json(const struct depmod_lint *l)
{
	struct json_writer w;

	tool_json_begin(&w, stdout, 1);
	json_key(&w, "kernel_exports");
	json_object_begin(&w);
	json_member_string(&w, "file", l->exports_file);
	json_member_string(&w, "kind", l->exports_kind);
	json_member_uint(&w, "symbols", l->n_exports);
	json_member_string(&w, "stub", l->stub);
	json_object_end(&w);
	json_member_bool(&w, "firmware_checked", l->firmware_checked);
	json_member_string(&w, "vermagic", l->vermagic);
	json_member_uint(&w, "problems", l->problems);
	json_group(&w, "cycles", l->cycles, l->n_cycles, NULL, NULL, "modules");
	json_group(&w, "unknown_symbols", l->unknown, l->n_unknown, "module", NULL,
		   "symbols");
	json_group(&w, "vermagic_differs", l->vermagics, l->n_vermagics, "module",
		   "vermagic", NULL);
	json_group(&w, "duplicates", l->dups, l->n_dups, "used", "name", "ignored");
	json_group(&w, "missing_modules", l->missing, l->n_missing, "in", "kind",
		   "names");
	json_group(&w, "missing_firmware", l->firmware, l->n_firmware, "module", NULL,
		   "files");
	json_group(&w, "unreadable", l->unreadable, l->n_unreadable, "module", "error",
		   NULL);
	return tool_json_end(&w);
}

/* The report; the run's result r, or -EIO if the report could not be written, or
 * -EINVAL (exit status 1) if the tree has problems. */
static int report(struct depmod_lint *l, bool json, int r)
{
	if (json) {
		if (print_lint_json(l) < 0)
			r = -EIO;
	} else {
		print_lint(l);
		if (fflush(stdout) != 0) {
			ERR("could not write the report: %s", strerror(errno));
			r = -EIO;
		}
	}
	if (r == 0 && l->problems)
		r = -EINVAL;
	depmod_lint_release(l);
	return r;
}

static int do_depmod(int argc, char *argv[])
{
	struct depmod_options o = {.out_fd = STDOUT_FILENO};
	const char *config[64];
	size_t n_config = 0;
	_cleanup_free_ char *basedir = NULL, *outdir = NULL;
	struct depmod_lint lint;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	const char *root = NULL;
	bool all = false, json = false;
	int c, r, prio = LOG_WARNING;

	log_set_priority(prio);
	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'A':
			o.quick = true;
			break;
		case 'e':
			o.errsyms = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'P':
			if (optarg[0] == '\0' || optarg[1] != '\0') {
				tool_log(LOG_CRIT, "-P only takes a single char");
				return EXIT_FAILURE;
			}
			o.sym_prefix = optarg[0];
			break;
		case 'C':
			if (n_config + 1 >= ARRAY_SIZE(config)) {
				ERR("too many configuration paths");
				return EXIT_FAILURE;
			}
			config[n_config++] = optarg;
			config[n_config] = NULL;
			break;
		case 'v':
			prio++;
			o.verbose = true;
			break;
		case 'w':
			o.warn_dups = true;
			break;
		case 'b':
			free(basedir);
			basedir = absolute(optarg);
			break;
		case 'm':
			o.moduledir = optarg;
			break;
		case 'o':
			free(outdir);
			outdir = absolute(optarg);
			break;
		case 'F':
			o.system_map = optarg;
			break;
		case 'E':
			o.symvers = optarg;
			break;
		case OPT_NO_CACHE:
			o.no_cache = true;
			break;
		case OPT_LINT:
			o.lint = &lint;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'u':
		case 'q':
		case 'r':
			WARN("Ignored deprecated option -%c", c);
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tdepmod -[aA] [options] [forced_version] [module files...]\n\n"
				 "With no module files, every module of the tree is indexed.",
				 opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_set_priority(prio);
	if (optind < argc) {
		if (!is_version(argv[optind])) {
			ERR("Bad version passed %s", argv[optind]);
			return EXIT_FAILURE;
		}
		o.kver = argv[optind++];
	}
	if (json && o.lint == NULL) {
		ERR("--json goes with --lint");
		return EXIT_FAILURE;
	}
	o.lint_only = o.lint && !all;
	o.files = (const char *const *)argv + optind;
	o.basedir = basedir;
	o.outdir = outdir;
	o.config_paths = n_config ? config : NULL;
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = depmod_run(ctx, &o);
	kmodx_ctx_unref(ctx);
	if (o.lint && (r == 0 || r == -ELOOP))
		r = report(&lint, json, r);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_depmod = {"depmod", do_depmod, "generate module dependency indexes"};
