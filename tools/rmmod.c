// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'f', "force", no_argument, NULL,
	 "remove even if in use (needs CONFIG_MODULE_FORCE_UNLOAD; DANGEROUS)"},
	{'s', "syslog", no_argument, NULL, "print to syslog, not stderr"},
	{'v', "verbose", no_argument, NULL, "enables more messages"},
	{'w', "wait", no_argument, NULL, NULL}, /* no effect since Linux 3.13 */
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

/* kmod's checks before removing, with its messages. */
static int check_in_use(struct kmodx_module *mod)
{
	const char *name = kmodx_module_get_name(mod);
	struct kmodx_list *holders = NULL;
	int state = kmodx_module_get_initstate(mod);

	if (state == KMODX_MODULE_BUILTIN) {
		ERR("Module %s is builtin.", name);
		return -ENOENT;
	}
	if (state < 0) {
		ERR("Module %s is not currently loaded", name);
		return -ENOENT;
	}
	if (kmodx_module_get_holders(mod, &holders) == 0 && kmodx_list_count(holders) > 0) {
		char line[4096];
		size_t len = 0;

		for (size_t i = 0; i < kmodx_list_count(holders) && len < sizeof(line); i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s",
					       kmodx_module_get_name(kmodx_list_get(holders, i)));
		kmodx_list_free(holders);
		ERR("Module %s is in use by:%s", name, line);
		return -EBUSY;
	}
	kmodx_list_free(holders);
	if (kmodx_module_get_refcnt(mod) > 0) {
		ERR("Module %s is in use", name);
		return -EBUSY;
	}
	return 0;
}

static int do_rmmod(int argc, char *argv[])
{
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	const char *root = NULL;
	const char *const no_config[] = {NULL};
	unsigned flags = 0;
	bool use_syslog = false;
	int c, failed = 0;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'f':
			flags |= KMODX_REMOVE_FORCE;
			break;
		case 's':
			use_syslog = true;
			break;
		case 'v':
			log_set_priority(log_get_priority() + 1);
			break;
		case 'w':
			INFO("-w has no effect: Linux removes modules without waiting");
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\trmmod [options] modulename ...", opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_open(use_syslog);
	if (optind >= argc) {
		ERR("missing module name.");
		return EXIT_FAILURE;
	}
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	kmodx_ctx_set_config_paths(ctx, no_config);
	kmodx_ctx_set_use_cmdline(ctx, false);
	for (int i = optind; i < argc; i++) {
		struct kmodx_module *mod;
		const char *arg = argv[i];
		struct stat st;
		int r;

		/* like kmod: anything that exists as a file is a path */
		if (stat(arg, &st) == 0)
			r = kmodx_module_new_from_path(ctx, arg, &mod);
		else
			r = kmodx_module_new_from_name(ctx, arg, &mod);
		if (r < 0) {
			ERR("could not use module %s: %s", arg, strerror(-r));
			failed++;
			break;
		}
		if (!(flags & KMODX_REMOVE_FORCE) && check_in_use(mod) < 0) {
			failed++;
		} else {
			r = kmodx_module_remove(mod, flags);
			if (r < 0) {
				ERR("could not remove module %s: %s", arg, strerror(-r));
				failed++;
			}
		}
		kmodx_module_unref(mod);
	}
	kmodx_ctx_unref(ctx);
	log_close();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_rmmod = {"rmmod", do_rmmod, "remove modules from the kernel"};
