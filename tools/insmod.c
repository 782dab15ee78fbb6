// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum { OPT_FORCE_MODVERSION = OPT_LONG_FIRST, OPT_FORCE_VERMAGIC };

static const struct tool_opt opts[] = {
	{'f', "force", no_argument, NULL, "ignore symbol versions and the kernel version"},
	{OPT_FORCE_MODVERSION, "force-modversion", no_argument, NULL, "ignore symbol versions"},
	{OPT_FORCE_VERMAGIC, "force-vermagic", no_argument, NULL, "ignore the kernel version"},
	{'s', "syslog", no_argument, NULL, "print to syslog, not stderr"},
	{'v', "verbose", no_argument, NULL, "enables more messages"},
	{'p', "p", no_argument, NULL, NULL}, /* old module-init-tools option, ignored */
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static int do_insmod(int argc, char *argv[])
{
	_cleanup_free_ char *args = NULL;
	struct kmodx_module *mod;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	const char *root = NULL, *file;
	const char *const no_config[] = {NULL};
	unsigned flags = 0;
	bool use_syslog = false;
	int c, r;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'f':
			flags |= KMODX_INSERT_FORCE_MODVERSION | KMODX_INSERT_FORCE_VERMAGIC;
			break;
		case OPT_FORCE_MODVERSION:
			flags |= KMODX_INSERT_FORCE_MODVERSION;
			break;
		case OPT_FORCE_VERMAGIC:
			flags |= KMODX_INSERT_FORCE_VERMAGIC;
			break;
		case 's':
			use_syslog = true;
			break;
		case 'v':
			log_set_priority(log_get_priority() + 1);
			break;
		case 'p':
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tinsmod [options] filename [args]", opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_open(use_syslog);
	if (optind >= argc) {
		ERR("missing filename.");
		return EXIT_FAILURE;
	}
	file = argv[optind];
	if (strcmp(file, "-") == 0) {
		ERR("this tool does not support loading from stdin!");
		return EXIT_FAILURE;
	}
	args = options_from_argv(argc - optind - 1, argv + optind + 1);
	if (args == NULL) {
		ERR("out of memory");
		return EXIT_FAILURE;
	}
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	kmodx_ctx_set_config_paths(ctx, no_config);
	kmodx_ctx_set_use_cmdline(ctx, false);
	r = kmodx_module_new_from_path(ctx, file, &mod);
	if (r < 0) {
		ERR("could not load module %s: %s", file, strerror(-r));
	} else {
		r = kmodx_module_insert(mod, flags, args);
		if (r < 0) {
			ERR("could not insert module %s: %s", file, insert_strerror(-r));
			explain_signature_error(mod, -r, flags);
		}
		kmodx_module_unref(mod);
	}
	kmodx_ctx_unref(ctx);
	log_close();
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_insmod = {"insmod", do_insmod, "insert a module file into the kernel"};
