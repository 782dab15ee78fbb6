// SPDX-License-Identifier: LGPL-2.1-or-later
/* kmod_module_probe_insert_module(): modprobe's loading, with kmod's callbacks. */
#include <string.h>
#include <syslog.h>

#include "libkmod-private.h"

struct callbacks {
	int (*run_install)(struct kmod_module *m, const char *cmdline, void *data);
	void (*print_action)(struct kmod_module *m, bool install, const char *options);
	void *data;
};

static int run_install(void *data, struct kmodx_module *mod, const char *type,
		       const char *cmd)
{
	const struct callbacks *cb = data;

	(void)type; /* probing runs install commands only */
	return cb->run_install(KM(mod), cmd, cb->data);
}

/* kmod's print_action is told of every module about to be loaded, and whether its
 * install command is what runs. */
static void print_action(void *data, struct kmodx_module *mod, const char *action,
			 const char *arg, const char *options)
{
	const struct callbacks *cb = data;
	bool install = strcmp(action, "install") == 0;

	(void)arg;
	if (install || strcmp(action, "insmod") == 0 || strcmp(action, "builtin") == 0)
		cb->print_action(KM(mod), install, options);
}

/* libkmodx's probe flags and its positive answers have kmod's values. */
#define KMOD_PROBE_FLAGS                                                                 \
	(KMOD_PROBE_FORCE_VERMAGIC | KMOD_PROBE_FORCE_MODVERSION |                       \
	 KMOD_PROBE_IGNORE_COMMAND | KMOD_PROBE_IGNORE_LOADED | KMOD_PROBE_DRY_RUN |     \
	 KMOD_PROBE_FAIL_ON_LOADED | KMOD_PROBE_APPLY_BLACKLIST_ALL |                    \
	 KMOD_PROBE_APPLY_BLACKLIST | KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY)

_Static_assert(SAME(KMOD_PROBE_FORCE_VERMAGIC, KMODX_PROBE_FORCE_VERMAGIC) &&
		       SAME(KMOD_PROBE_FORCE_MODVERSION, KMODX_PROBE_FORCE_MODVERSION) &&
		       SAME(KMOD_PROBE_IGNORE_COMMAND, KMODX_PROBE_IGNORE_COMMAND) &&
		       SAME(KMOD_PROBE_IGNORE_LOADED, KMODX_PROBE_IGNORE_LOADED) &&
		       SAME(KMOD_PROBE_DRY_RUN, KMODX_PROBE_DRY_RUN) &&
		       SAME(KMOD_PROBE_FAIL_ON_LOADED, KMODX_PROBE_FAIL_ON_LOADED) &&
		       SAME(KMOD_PROBE_APPLY_BLACKLIST_ALL,
			    KMODX_PROBE_APPLY_BLACKLIST_ALL) &&
		       SAME(KMOD_PROBE_APPLY_BLACKLIST, KMODX_PROBE_APPLY_BLACKLIST) &&
		       SAME(KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY,
			    KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY),
	       "kmod's and libkmodx's probe flags differ");

_public_ int kmod_module_probe_insert_module(
	struct kmod_module *mod, unsigned int flags, const char *extra_options,
	int (*run_install_cb)(struct kmod_module *m, const char *cmdline, void *data),
	const void *data,
	void (*print_action_cb)(struct kmod_module *m, bool install, const char *options))
{
	struct callbacks cb = {run_install_cb, print_action_cb, (void *)data};
	struct kmodx_probe_opts opts = {
		.flags = flags & KMOD_PROBE_FLAGS,
		.extra_options = extra_options,
		.message_priority = LOG_ERR,
		.run_command = run_install_cb ? run_install : NULL,
		.show_action = print_action_cb ? print_action : NULL,
		.data = &cb,
	};

	if (mod == NULL)
		return -ENOENT;
	return kmodx_module_probe_insert(XM(mod), &opts);
}
