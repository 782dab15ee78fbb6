// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kmodx verify: is a module's signature valid for the given certificates, and what will
 * the running kernel do with it (libkmodx/verify.c, libkmodx/sigpolicy.c)?
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool.h"

enum { OPT_CERT = OPT_LONG_FIRST, OPT_KEYRING };

static const struct tool_opt opts[] = {
	{OPT_CERT, "cert", required_argument, "FILE",
	 "a trusted certificate (DER or PEM) or a directory of them; repeatable"},
	{OPT_KEYRING, "keyring", no_argument, NULL,
	 "predict the running kernel's answer from /proc/keys, sig_enforce and lockdown"},
	{'k', "set-version", required_argument, "VERSION",
	 "find module names in this kernel version's directory"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

struct settings {
	const char **certs; /* NULL-terminated */
	size_t n_certs;
	unsigned flags;
	const char *root, *kver;
	bool json;
	struct json_writer *w; /* with --json: its "modules" array is open */
};

/* "valid", or why not. */
static const char *verdict(const struct kmodx_kvlist *report, bool *ok, bool by_kernel)
{
	const char *valid = "", *reason = NULL, *outcome = NULL;

	for (size_t i = 0; i < kmodx_kvlist_count(report); i++) {
		const char *k = kmodx_kvlist_key(report, i),
			   *v = kmodx_kvlist_value(report, i);

		if (strcmp(k, "valid") == 0)
			valid = v;
		else if (strcmp(k, "reason") == 0)
			reason = v;
		else if (strcmp(k, "outcome") == 0)
			outcome = v;
	}
	*ok = by_kernel ? outcome && strcmp(outcome, "load") == 0
			: strcmp(valid, "yes") == 0;
	if (strcmp(valid, "yes") == 0)
		return "valid";
	if (strcmp(valid, "unchecked") == 0)
		return "not checked (no certificate given)";
	return reason ? reason : "invalid";
}

/* "FILE: verdict", then one "key value" line per fact ("kernel_key present: DESC"). */
static void print_report(const struct kmodx_kvlist *report, const char *what)
{
	size_t n = kmodx_kvlist_count(report);

	printf("%s: %s\n", kmodx_kvlist_value(report, 0), what);
	for (size_t i = 1; i < n; i++) {
		const char *k = kmodx_kvlist_key(report, i), *v = kmodx_kvlist_value(report, i);
		bool desc = i + 1 < n && !strcmp(kmodx_kvlist_key(report, i + 1), "kernel_key_desc");

		if (!strcmp(k, "valid") || !strcmp(k, "reason") || !strcmp(k, "kernel_key_desc"))
			continue;
		printf("\t%-12s %s%s%s\n", k, v, desc ? ": " : "",
		       desc ? kmodx_kvlist_value(report, i + 1) : "");
	}
}

/* One object of the "modules" array: every fact under its own key, then "ok". */
static void json_report(struct json_writer *w, const struct kmodx_kvlist *report, bool ok)
{
	json_object_begin(w);
	for (size_t i = 0; i < kmodx_kvlist_count(report); i++)
		json_member_string(w, kmodx_kvlist_key(report, i), kmodx_kvlist_value(report, i));
	json_member_bool(w, "ok", ok);
	json_object_end(w);
}

static int verify_path(struct kmodx_ctx *ctx, const struct settings *st, const char *path)
{
	struct kmodx_kvlist *report;
	const char *what;
	bool ok;
	int r = kmodx_verify_module(ctx, path, st->certs, st->flags, &report);

	if (r < 0)
		return r;
	what = verdict(report, &ok, st->n_certs == 0);
	if (st->w)
		json_report(st->w, report, ok);
	else
		print_report(report, what);
	kmodx_kvlist_free(report);
	return ok ? 0 : 1;
}

/* A file, or a module name or alias resolved as modinfo resolves it. */
static int verify_arg(struct kmodx_ctx *ctx, const struct settings *st, const char *arg)
{
	struct kmodx_list *list;
	struct stat s;
	int r, worst = 0;

	if (stat(arg, &s) == 0 && S_ISREG(s.st_mode))
		return verify_path(ctx, st, arg);
	r = kmodx_module_new_from_lookup(ctx, arg, &list);
	if (r < 0 || kmodx_list_count(list) == 0) {
		ERR("Module %s not found.", arg);
		kmodx_list_free(r < 0 ? NULL : list);
		return -ENOENT;
	}
	for (size_t i = 0; i < kmodx_list_count(list); i++) {
		struct kmodx_module *mod = kmodx_list_get(list, i);
		const char *path = kmodx_module_get_path(mod);

		if (path == NULL) {
			ERR("Module %s has no file (builtin?).",
			    kmodx_module_get_name(mod));
			r = -ENOENT;
		} else {
			r = verify_path(ctx, st, path);
		}
		if (r < 0 || (r > 0 && worst == 0))
			worst = r;
	}
	kmodx_list_free(list);
	return worst;
}

static int run(struct settings *st, int argc, char *argv[])
{
	const char *const no_config[] = {NULL};
	struct kmodx_ctx *ctx;
	struct json_writer w;
	int worst = 0;

	if (argc < 1) {
		ERR("missing module or filename.");
		return EXIT_FAILURE;
	}
	if (st->n_certs == 0)
		st->flags |= KMODX_VERIFY_KERNEL;
	if (tool_ctx_new(st->root, &ctx) < 0)
		return EXIT_FAILURE;
	kmodx_ctx_set_config_paths(ctx, no_config);
	kmodx_ctx_set_use_cmdline(ctx, false);
	if (st->kver && kmodx_ctx_set_kernel_release(ctx, st->kver) < 0) {
		ERR("invalid kernel version '%s'", st->kver);
		kmodx_ctx_unref(ctx);
		return EXIT_FAILURE;
	}
	if (st->json) {
		st->w = &w;
		tool_json_begin(&w, stdout, 1);
		json_key(&w, "modules");
		json_array_begin(&w);
	}
	for (int i = 0; i < argc; i++) {
		int r = verify_arg(ctx, st, argv[i]);

		if (r != 0 && worst == 0)
			worst = r;
	}
	kmodx_ctx_unref(ctx);
	if (st->json) {
		json_array_end(&w);
		if (tool_json_end(&w) < 0)
			return EXIT_FAILURE;
	}
	if (fflush(stdout) != 0)
		return EXIT_FAILURE;
	return worst == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int do_verify(int argc, char *argv[])
{
	_cleanup_free_ const char **certs = calloc((size_t)argc + 1, sizeof(*certs));
	struct settings st = {.certs = certs};
	struct opt_parser p;
	int c;

	if (certs == NULL) {
		ERR("out of memory");
		return EXIT_FAILURE;
	}
	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case OPT_CERT:
			certs[st.n_certs++] = optarg;
			break;
		case OPT_KEYRING:
			st.flags |= KMODX_VERIFY_KERNEL;
			break;
		case OPT_JSON:
			st.json = true;
			break;
		case 'k':
			st.kver = optarg;
			break;
		case OPT_ROOT:
			st.root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tverify [--cert FILE]... [--keyring] [--json] MODULE...", opts,
				 ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	return run(&st, argc - optind, argv + optind);
}

const struct tool tool_verify = {
	"verify", do_verify, "check module signatures; predict what the kernel will do"};
