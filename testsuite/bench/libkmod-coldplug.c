// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udev's coldplug as libkmod sees it: one context, kmod_load_resources(), then for each
 * device's modalias kmod_module_new_from_lookup() and the dependencies of what it finds
 * (what udev's kmod builtin does before loading). Prints what it finds, so that runs on
 * different libraries can be compared.
 *
 *   libkmod-coldplug DIRNAME ALIASES_FILE
 */
#include <stdio.h>
#include <string.h>

#include "libkmod.h"

int main(int argc, char **argv)
{
	const char *const no_config[] = {NULL};
	struct kmod_ctx *ctx;
	char line[4096];
	FILE *f;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DIRNAME ALIASES_FILE\n", argv[0]);
		return 2;
	}
	ctx = kmod_new(argv[1], no_config);
	f = fopen(argv[2], "re");
	if (ctx == NULL || f == NULL)
		return 1;
	r = kmod_load_resources(ctx);
	if (r < 0)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		struct kmod_list *list = NULL, *e;

		line[strcspn(line, "\n")] = '\0';
		r = kmod_module_new_from_lookup(ctx, line, &list);
		printf("%s: %d", line, r);
		kmod_list_foreach(e, list) {
			struct kmod_module *mod = kmod_module_get_module(e);
			struct kmod_list *deps = kmod_module_get_dependencies(mod), *d;

			printf(" %s [", kmod_module_get_name(mod));
			kmod_list_foreach(d, deps) {
				struct kmod_module *dep = kmod_module_get_module(d);

				printf(" %s", kmod_module_get_name(dep));
				kmod_module_unref(dep);
			}
			printf(" ]");
			kmod_module_unref_list(deps);
			kmod_module_unref(mod);
		}
		printf("\n");
		kmod_module_unref_list(list);
	}
	fclose(f);
	kmod_unref(ctx);
	return 0;
}
