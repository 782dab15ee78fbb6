// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'s', "syslog", no_argument, NULL, "print to syslog, not stderr"},
	{'v', "verbose", no_argument, NULL, "enables more messages"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

/* One line (or JSON object), or nothing if the module went away while we looked. */
static void print_module(struct kmodx_module *mod, struct json_writer *w)
{
	struct kmodx_list *holders = NULL;
	unsigned long size;
	int refcnt;

	if (kmodx_module_get_size(mod, &size) < 0)
		return;
	refcnt = kmodx_module_get_refcnt(mod);
	if (refcnt < 0 || kmodx_module_get_holders(mod, &holders) < 0)
		return;
	if (w) {
		json_object_begin(w);
		json_member_string(w, "name", kmodx_module_get_name(mod));
		json_member_uint(w, "size", size);
		json_member_int(w, "refcnt", refcnt);
		json_key(w, "used_by");
		json_array_begin(w);
	} else {
		printf("%-19s %8lu  %d", kmodx_module_get_name(mod), size, refcnt);
	}
	for (size_t i = 0; i < kmodx_list_count(holders); i++) {
		const char *name = kmodx_module_get_name(kmodx_list_get(holders, i));

		if (w)
			json_string(w, name);
		else
			printf("%c%s", i == 0 ? ' ' : ',', name);
	}
	if (w) {
		json_array_end(w);
		json_object_end(w);
	} else {
		putchar('\n');
	}
	kmodx_list_free(holders);
}

static int print_list(struct kmodx_list *list, bool json)
{
	struct json_writer w;

	if (!json) {
		puts("Module                  Size  Used by");
		for (size_t i = 0; i < kmodx_list_count(list); i++)
			print_module(kmodx_list_get(list, i), NULL);
		return fflush(stdout) == 0 ? 0 : -errno;
	}
	tool_json_begin(&w, stdout, 1);
	json_key(&w, "modules");
	json_array_begin(&w);
	for (size_t i = 0; i < kmodx_list_count(list); i++)
		print_module(kmodx_list_get(list, i), &w);
	json_array_end(&w);
	return tool_json_end(&w);
}

static int do_lsmod(int argc, char *argv[])
{
	struct opt_parser p;
	struct kmodx_ctx *ctx;
	struct kmodx_list *list;
	const char *root = NULL;
	bool use_syslog = false, json = false;
	int c, r;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 's':
			use_syslog = true;
			break;
		case 'v':
			log_set_priority(log_get_priority() + 1);
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tlsmod [options]", opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_open(use_syslog);
	if (optind < argc) {
		ERR("too many arguments provided.");
		return EXIT_FAILURE;
	}
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = kmodx_module_new_from_loaded(ctx, &list);
	if (r < 0) {
		ERR("could not get list of modules: %s", strerror(-r));
		kmodx_ctx_unref(ctx);
		return EXIT_FAILURE;
	}
	r = print_list(list, json);
	kmodx_list_free(list);
	kmodx_ctx_unref(ctx);
	log_close();
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const struct tool tool_lsmod = {"lsmod", do_lsmod, "list loaded modules"};
