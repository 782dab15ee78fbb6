// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * modprobe --explain NAME: how NAME resolves (which alias or index, and where), the
 * configuration that applies to each module it resolves to (blacklist, mask, install,
 * remove, options, softdep, weakdep, each with its file and line or the kernel command
 * line), its state, and what loading it would do, from a dry run of the same probe
 * modprobe runs. Plain text:
 *
 *   NAME: resolves to MODULE through SOURCE [(match PATTERN)]
 *   MODULE
 *     file:      PATH | builtin | none
 *     state:     loaded | builtin | coming | going | not loaded
 *     DIRECTIVE: VALUE  (ORIGIN)
 *     action:    insmod PATH OPTIONS | install COMMAND | builtin NAME
 *     result:    load | loaded | builtin | blacklisted | masked | error: TEXT
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "tool.h"

struct explain {
	struct json_writer *w;
	const char *module;
};

static void print_row(const char *label, const char *value, const char *origin)
{
	char head[32];

	snprintf(head, sizeof(head), "%s:", label);
	if (origin && *origin)
		printf("  %-10s %s  (%s)\n", head, value, origin);
	else
		printf("  %-10s %s\n", head, value);
}

static void show_action(void *data, struct kmodx_module *mod, const char *action,
			const char *arg, const char *options)
{
	struct explain *e = data;

	if (e->w) {
		json_object_begin(e->w);
		json_member_string(e->w, "action", action);
		json_member_string(e->w, "module", kmodx_module_get_name(mod));
		if (arg)
			json_member_string(
				e->w, strcmp(action, "insmod") ? "command" : "path", arg);
		if (options)
			json_member_string(e->w, "options", options);
		json_object_end(e->w);
		return;
	}
	char line[8192];
	int n = snprintf(line, sizeof(line), "%s %s%s%s", action,
			 arg ? arg : kmodx_module_get_name(mod),
			 options && *options ? " " : "", options ? options : "");

	/* modprobe -D's trailing space after configured options says nothing here */
	while (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == ' ')
		line[--n] = '\0';
	print_row("action", line, NULL);
}

static const char *state_name(struct kmodx_module *mod)
{
	int state = kmodx_module_get_initstate(mod);

	if (state < 0)
		return kmodx_module_is_builtin(mod) ? "builtin" : "not loaded";
	return state == KMODX_MODULE_LIVE ? "loaded" : kmodx_initstate_str(state);
}

static void config_rows(struct kmodx_module *mod, struct json_writer *w)
{
	struct kmodx_kvlist *list = NULL;

	kmodx_module_get_config(mod, &list);
	if (w) {
		json_key(w, "config");
		json_array_begin(w);
	}
	for (size_t i = 0; i < kmodx_kvlist_count(list); i++) {
		const char *key = kmodx_kvlist_key(list, i),
			   *value = kmodx_kvlist_value(list, i);

		if (w == NULL) {
			print_row(key, *value ? value : "yes",
				  kmodx_kvlist_origin(list, i));
			continue;
		}
		json_object_begin(w);
		json_member_string(w, "directive", key);
		json_member_string(w, "value", value);
		json_member_string(w, "origin", kmodx_kvlist_origin(list, i));
		json_object_end(w);
	}
	if (w)
		json_array_end(w);
	kmodx_kvlist_free(list);
}

/* The dry run: the actions, then what the real run would answer. */
static int dry_run(struct kmodx_module *mod, unsigned flags, struct json_writer *w)
{
	struct kmodx_probe_failure failure = {0};
	struct explain e = {w, kmodx_module_get_name(mod)};
	struct kmodx_probe_opts o = {
		.flags = (flags & ~KMODX_PROBE_IGNORE_LOADED) | KMODX_PROBE_DRY_RUN,
		.show_action = show_action,
		.data = &e,
		.failure = &failure,
	};
	char result[PATH_MAX + 128];
	int state = kmodx_module_get_initstate(mod), r;

	if (w) {
		json_key(w, "actions");
		json_array_begin(w);
	}
	r = kmodx_module_probe_insert(mod, &o);
	if (w)
		json_array_end(w);
	if (r > 0)
		snprintf(result, sizeof(result), "blacklisted: skipped");
	else if (r == -EPERM && failure.stage == KMODX_PROBE_STAGE_MASK) {
		char origin[PATH_MAX + 32] = "";

		config_origin_of(failure.module, KMODX_CONFIG_MASK, origin,
				 sizeof(origin));
		snprintf(result, sizeof(result), "masked: refused (%s by %s)",
			 kmodx_module_get_name(failure.module), origin);
	} else if (r < 0)
		snprintf(result, sizeof(result), "error: %s", strerror(-r));
	else if (state == KMODX_MODULE_LIVE)
		snprintf(result, sizeof(result), "loaded: nothing to do");
	else if (state == KMODX_MODULE_BUILTIN || kmodx_module_is_builtin(mod))
		snprintf(result, sizeof(result), "builtin: nothing to do");
	else
		snprintf(result, sizeof(result), "load");
	kmodx_module_unref(failure.module);
	if (w)
		json_member_string(w, "result", result);
	else
		print_row("result", result, NULL);
	return r < 0 && r != -EPERM ? r : 0;
}

static int explain_module(struct kmodx_module *mod, const struct kmodx_kvlist *src,
			  size_t i, unsigned flags, struct json_writer *w)
{
	const char *path = kmodx_module_get_path(mod);
	const char *file = path				  ? path
			   : kmodx_module_is_builtin(mod) ? "builtin"
							  : "none";

	if (w == NULL) {
		printf("%s\n", kmodx_module_get_name(mod));
		print_row("file", file, NULL);
		print_row("state", state_name(mod), NULL);
		config_rows(mod, NULL);
		return dry_run(mod, flags, NULL);
	}
	json_object_begin(w);
	json_member_string(w, "module", kmodx_module_get_name(mod));
	json_member_string(w, "source", kmodx_kvlist_origin(src, i));
	json_member_string(w, "match", kmodx_kvlist_value(src, i));
	json_member_string(w, "file", file);
	json_member_string(w, "state", state_name(mod));
	config_rows(mod, w);
	int r = dry_run(mod, flags, w);

	json_object_end(w);
	return r;
}

int modprobe_explain(struct kmodx_ctx *ctx, const char *name, unsigned flags,
		     struct json_writer *w)
{
	struct kmodx_kvlist *src = NULL;
	struct kmodx_list *list = NULL;
	int r = kmodx_lookup_sources(ctx, name, &src);

	if (r == 0)
		r = kmodx_module_new_from_lookup(ctx, name, &list);
	if (w) {
		json_object_begin(w);
		json_member_string(w, "query", name);
		json_key(w, "modules");
		json_array_begin(w);
	} else if (r == 0 && kmodx_list_count(list) == 0) {
		printf("%s: resolves to nothing\n", name);
	}
	for (size_t i = 0; r == 0 && w == NULL && i < kmodx_list_count(list); i++) {
		const char *origin = kmodx_kvlist_origin(src, i);

		printf("%s: resolves to %s through %s", name, kmodx_kvlist_key(src, i),
		       origin);
		/* an index answers for the query itself; a modprobe.d line by its pattern
		 */
		if (strncmp(origin, "modules.", 8) != 0)
			printf(" (%s %s)",
			       kmodx_kvlist_number(src, i) ? "command for" : "alias",
			       kmodx_kvlist_value(src, i));
		putchar('\n');
	}
	for (size_t i = 0; r == 0 && i < kmodx_list_count(list); i++)
		r = explain_module(kmodx_list_get(list, i), src, i, flags, w);
	if (w) {
		json_array_end(w);
		json_object_end(w);
	}
	if (r == 0 && kmodx_list_count(list) == 0)
		r = -ENOENT;
	kmodx_list_free(list);
	kmodx_kvlist_free(src);
	return r;
}
