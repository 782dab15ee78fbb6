// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resolving names and aliases to modules, in kmod's order; the first source that
 * answers wins:
 *
 *   1. modprobe.d aliases (glob patterns, every match, in configuration order)
 *   2. modules.dep (a module name; not tried for names with ':')
 *   3. modules.symbols (for "symbol:NAME")
 *   4. install and remove commands whose name is exactly the query
 *   5. modules.alias (glob patterns, every match, by module order)
 *   6. modules.builtin
 *   7. modules.builtin.alias
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "index.h"
#include "libkmodx-private.h"
#include "util/glob.h"
#include "util/path.h"
#include "util/strbuf.h"

/* Duplicates are kept, as kmod keeps them: a module with two aliases matching the query
 * is listed twice (modinfo shows it twice, modprobe -R prints it twice). */
static int add_module(struct kmodx_ctx *ctx, struct kmodx_list *list, const char *name,
		      const char *alias)
{
	struct kmodx_module *mod;
	int r = module_new(ctx, name, alias, &mod);

	if (r < 0)
		return r;
	r = list_append(list, mod);
	kmodx_module_unref(mod);
	return r;
}

static int from_config(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	int r = 0;
	struct config *c = ctx_get_config(ctx, &r);

	for (size_t i = 0; c && r == 0 && i < c->aliases.n; i++) {
		const struct cfg_alias *a = c->aliases.v[i];

		if (glob_match(a->pattern, name))
			r = add_module(ctx, list, a->modname, name);
	}
	return r;
}

static int from_moddep(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	struct kmodx_module *mod;
	const char *line;
	int r;

	if (strchr(name, ':'))
		return 0;
	r = ctx_index_search(ctx, KMODX_INDEX_DEP, name, &line);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = module_new(ctx, name, NULL, &mod);
	if (r < 0)
		return r;
	r = module_set_dep_line(mod, line);
	if (r == 0)
		r = list_append(list, mod);
	kmodx_module_unref(mod);
	return r == -EBADMSG ? 0 : r;
}

static int from_wild_index(struct kmodx_ctx *ctx, enum kmodx_index which, const char *name,
			   struct kmodx_list *list)
{
	struct index_values vals = {0};
	int r = ctx_index_search_wild(ctx, which, name, &vals);

	for (size_t i = 0; r == 0 && i < vals.n; i++)
		r = add_module(ctx, list, vals.v[i].value, name);
	index_values_release(&vals);
	return r;
}

static int from_commands(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	int r = 0;
	struct config *c = ctx_get_config(ctx, &r);
	bool found = false;

	for (size_t i = 0; c && !found && i < c->installs.n; i++)
		found = streq(((const struct cfg_command *)c->installs.v[i])->name, name);
	for (size_t i = 0; c && !found && i < c->removes.n; i++)
		found = streq(((const struct cfg_command *)c->removes.v[i])->name, name);
	if (found)
		r = add_module(ctx, list, name, NULL);
	return r;
}

static int from_builtin(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	struct kmodx_module *mod;
	const char *value;
	int r = ctx_index_search(ctx, KMODX_INDEX_BUILTIN, name, &value);

	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = module_new(ctx, name, NULL, &mod);
	if (r < 0)
		return r;
	mod->builtin_known = mod->builtin = true;
	r = list_append(list, mod);
	kmodx_module_unref(mod);
	return r;
}

static int normalize(const char *in, char *out)
{
	size_t len = strlen(in);

	if (len == 0 || len >= PATH_MAX)
		return -EINVAL;
	memcpy(out, in, len + 1);
	return underscores(out);
}

typedef int (*lookup_step)(struct kmodx_ctx *, const char *, struct kmodx_list *);

static int step_symbols(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	if (!strstartswith(name, "symbol:"))
		return 0;
	return from_wild_index(ctx, KMODX_INDEX_SYMBOL, name, list);
}

static int step_alias(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	return from_wild_index(ctx, KMODX_INDEX_ALIAS, name, list);
}

/* A module found through modules.builtin.alias is built in even when modules.builtin
 * does not list it (debugfs: "fs-debugfs" comes from modules.builtin.modinfo only), as
 * kmod marks it: modprobe then succeeds without loading anything. */
static int step_builtin_alias(struct kmodx_ctx *ctx, const char *name, struct kmodx_list *list)
{
	int r = from_wild_index(ctx, KMODX_INDEX_BUILTIN_ALIAS, name, list);

	for (size_t i = 0; r == 0 && i < kmodx_list_count(list); i++) {
		struct kmodx_module *mod = kmodx_list_get(list, i);

		mod->builtin_known = mod->builtin = true;
	}
	return r;
}

static int run_chain(struct kmodx_ctx *ctx, const char *given, const lookup_step *steps,
		     size_t n_steps, struct kmodx_list **out, size_t *answered)
{
	char name[PATH_MAX];
	struct kmodx_list *list;
	int r;

	if (ctx == NULL || given == NULL || out == NULL)
		return -EINVAL;
	r = normalize(given, name);
	if (r < 0) {
		ERR(ctx, "invalid module name or alias '%s'", given);
		return r;
	}
	r = ctx_prepare(ctx);
	if (r == 0)
		r = list_new(&list);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_steps && r == 0 && kmodx_list_count(list) == 0; i++) {
		r = steps[i](ctx, name, list);
		if (answered)
			*answered = i;
	}
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

static const lookup_step full_chain[] = {
	from_config, from_moddep, step_symbols, from_commands, step_alias, from_builtin,
	step_builtin_alias,
};

_public_ int kmodx_module_new_from_lookup(struct kmodx_ctx *ctx, const char *alias,
					  struct kmodx_list **list)
{
	return run_chain(ctx, alias, full_chain, ARRAY_SIZE(full_chain), list, NULL);
}

/* The modprobe.d lines behind a module found by configuration: aliases or commands. */
static int config_sources(struct kmodx_ctx *ctx, const char *name, bool aliases,
			  struct kmodx_kvlist *out)
{
	int r = 0;
	struct config *c = ctx_get_config(ctx, &r);
	char origin[PATH_MAX + 32];

	/* a command gives one module, from the first install or else remove line */
	for (int k = 0; c && k < (aliases ? 1 : 2) && (aliases || out->n == 0); k++) {
		const struct ptrarray *a = aliases ? &c->aliases : k ? &c->removes : &c->installs;

		for (size_t i = 0; r == 0 && i < a->n && (aliases || out->n == 0); i++) {
			const struct cfg_command *e = a->v[i]; /* the layout of cfg_alias too */
			const char *module = aliases ? e->command : e->name;

			if (aliases ? !glob_match(e->name, name) : !streq(e->name, name))
				continue;
			config_origin_format(&e->origin, origin, sizeof(origin));
			r = kvlist_add(out, module, strlen(module), e->name, strlen(e->name),
				       aliases ? 0 : 1);
			if (r == 0)
				r = kvlist_set_origin(out, origin);
		}
	}
	return r;
}

static int index_sources(const char *file, const char *name, const struct kmodx_list *list,
			 struct kmodx_kvlist *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < kmodx_list_count(list); i++) {
		const char *m = kmodx_list_get(list, i)->name;

		r = kvlist_add(out, m, strlen(m), name, strlen(name), 0);
		if (r == 0)
			r = kvlist_set_origin(out, file);
	}
	return r;
}

_public_ int kmodx_lookup_sources(struct kmodx_ctx *ctx, const char *alias,
				  struct kmodx_kvlist **out)
{
	static const char *const files[] = {
		NULL,		 "modules.dep",	    "modules.symbols",	     NULL,
		"modules.alias", "modules.builtin", "modules.builtin.alias",
	};
	struct kmodx_list *list = NULL;
	struct kmodx_kvlist *kv = NULL;
	char name[PATH_MAX];
	size_t step = 0;
	int r;

	if (out == NULL)
		return -EINVAL;
	r = run_chain(ctx, alias, full_chain, ARRAY_SIZE(full_chain), &list, &step);
	if (r == 0)
		r = kvlist_new(&kv);
	if (r == 0 && kmodx_list_count(list) > 0) {
		normalize(alias, name);
		if (files[step])
			r = index_sources(files[step], name, list, kv);
		else
			r = config_sources(ctx, name, step == 0, kv);
	}
	kmodx_list_free(list);
	if (r < 0) {
		kmodx_kvlist_free(kv);
		return r;
	}
	*out = kv;
	return 0;
}

_public_ int kmodx_module_new_from_name_lookup(struct kmodx_ctx *ctx, const char *name,
					       struct kmodx_module **mod)
{
	static const lookup_step chain[] = {from_moddep, from_builtin, step_builtin_alias};
	struct kmodx_list *list;
	int r = run_chain(ctx, name, chain, ARRAY_SIZE(chain), &list, NULL);

	if (r < 0)
		return r;
	if (kmodx_list_count(list) == 0)
		r = -ENOENT;
	else
		*mod = kmodx_module_ref(kmodx_list_get(list, 0));
	kmodx_list_free(list);
	return r;
}

/* ---- soft and weak dependencies ---- */

static int lookup_each(struct kmodx_ctx *ctx, const char *const *names, size_t n,
		       struct kmodx_list **out)
{
	struct kmodx_list *list;
	int r = list_new(&list);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct kmodx_list *found = NULL; /* untouched when the lookup fails */

		r = kmodx_module_new_from_lookup(ctx, names[i], &found);
		if (r == -EINVAL) {
			r = 0;
			continue;
		}
		for (size_t j = 0; r == 0 && j < kmodx_list_count(found); j++)
			r = list_append(list, kmodx_list_get(found, j));
		kmodx_list_free(found);
	}
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_get_softdeps(struct kmodx_module *mod, struct kmodx_list **pre,
				       struct kmodx_list **post)
{
	const struct cfg_softdep *d;
	struct kmodx_list *a = NULL, *b = NULL;
	struct config *c;
	int r = 0;

	if (mod == NULL || pre == NULL || post == NULL)
		return -EINVAL;
	c = ctx_get_config(mod->ctx, &r);
	if (c == NULL)
		return r;
	d = config_find_softdep(c, mod->name);
	r = lookup_each(mod->ctx, d ? d->pre : NULL, d ? d->n_pre : 0, &a);
	if (r == 0)
		r = lookup_each(mod->ctx, d ? d->post : NULL, d ? d->n_post : 0, &b);
	if (r < 0) {
		kmodx_list_free(a);
		return r;
	}
	*pre = a;
	*post = b;
	return 0;
}

_public_ int kmodx_module_get_weakdeps(struct kmodx_module *mod, struct kmodx_list **out)
{
	const struct cfg_weakdep *d;
	struct config *c;
	int r = 0;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	c = ctx_get_config(mod->ctx, &r);
	if (c == NULL)
		return r;
	d = config_find_weakdep(c, mod->name);
	return lookup_each(mod->ctx, d ? d->deps : NULL, d ? d->n_deps : 0, out);
}

/* ---- configuration dump ---- */

/* "pre: a b" then "post: c", with no space between the two parts: kmod's modprobe -c
 * prints it that way and scripts may parse it; see modprobe(8) for the decision. */
static int softdep_text(const struct cfg_softdep *d, struct strbuf *sb, uint64_t *pre_len)
{
	int r = 0;

	if (d->n_pre)
		r = strbuf_puts(sb, "pre:");
	for (size_t i = 0; r == 0 && i < d->n_pre; i++)
		r = strbuf_printf(sb, " %s", d->pre[i]);
	*pre_len = sb->len;
	if (r == 0 && d->n_post)
		r = strbuf_puts(sb, "post:");
	for (size_t i = 0; r == 0 && i < d->n_post; i++)
		r = strbuf_printf(sb, " %s", d->post[i]);
	return r;
}

static int weakdep_text(const struct cfg_weakdep *d, struct strbuf *sb)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->n_deps; i++)
		r = strbuf_printf(sb, "%s%s", i ? " " : "", d->deps[i]);
	return r;
}

static const char *const config_kind_names[] = {
	[KMODX_CONFIG_BLACKLIST] = "blacklist", [KMODX_CONFIG_INSTALL] = "install",
	[KMODX_CONFIG_REMOVE] = "remove",	[KMODX_CONFIG_ALIAS] = "alias",
	[KMODX_CONFIG_OPTIONS] = "options",	[KMODX_CONFIG_SOFTDEP] = "softdep",
	[KMODX_CONFIG_WEAKDEP] = "weakdep",	[KMODX_CONFIG_MASK] = "mask",
};

_public_ const char *kmodx_config_kind_name(enum kmodx_config_kind kind)
{
	return (unsigned)kind < ARRAY_SIZE(config_kind_names) ? config_kind_names[kind] : NULL;
}

static const struct ptrarray *kind_array(const struct config *c, enum kmodx_config_kind kind)
{
	switch (kind) {
	case KMODX_CONFIG_BLACKLIST:
		return &c->blacklists;
	case KMODX_CONFIG_INSTALL:
		return &c->installs;
	case KMODX_CONFIG_REMOVE:
		return &c->removes;
	case KMODX_CONFIG_ALIAS:
		return &c->aliases;
	case KMODX_CONFIG_OPTIONS:
		return &c->options;
	case KMODX_CONFIG_SOFTDEP:
		return &c->softdeps;
	case KMODX_CONFIG_WEAKDEP:
		return &c->weakdeps;
	case KMODX_CONFIG_MASK:
	default: /* callers check the kind */
		return &c->masks;
	}
}

/* Every entry kind begins with its name and keeps its origin: where is it? */
static const struct cfg_origin *entry_origin(enum kmodx_config_kind kind, const void *e)
{
	switch (kind) {
	case KMODX_CONFIG_BLACKLIST:
	case KMODX_CONFIG_MASK:
		return &((const struct cfg_name *)e)->origin;
	case KMODX_CONFIG_SOFTDEP:
		return &((const struct cfg_softdep *)e)->origin;
	case KMODX_CONFIG_WEAKDEP:
		return &((const struct cfg_weakdep *)e)->origin;
	default:
		return &((const struct cfg_command *)e)->origin;
	}
}

static int config_entry(const struct config *c, enum kmodx_config_kind kind, size_t i,
			struct kmodx_kvlist *list)
{
	const void *e = kind_array(c, kind)->v[i];
	struct strbuf sb = STRBUF_INIT;
	const char *key = *(const char *const *)e, *value = "";
	uint64_t number = 0;
	char origin[PATH_MAX + 32];
	int r = 0;

	if (kind == KMODX_CONFIG_SOFTDEP) {
		r = softdep_text(e, &sb, &number);
		value = strbuf_str(&sb);
	} else if (kind == KMODX_CONFIG_WEAKDEP) {
		r = weakdep_text(e, &sb);
		value = strbuf_str(&sb);
	} else if (kind != KMODX_CONFIG_BLACKLIST && kind != KMODX_CONFIG_MASK) {
		value = ((const struct cfg_command *)e)->command;
	}
	if (r == 0 && value == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = kvlist_add(list, key, strlen(key), value, strlen(value), number);
	config_origin_format(entry_origin(kind, e), origin, sizeof(origin));
	if (r == 0)
		r = kvlist_set_origin(list, origin);
	strbuf_release(&sb);
	return r;
}

_public_ int kmodx_config_get(struct kmodx_ctx *ctx, enum kmodx_config_kind kind,
			      struct kmodx_kvlist **out)
{
	const struct ptrarray *array;
	struct kmodx_kvlist *list;
	struct config *c;
	int r = 0;

	if (ctx == NULL || out == NULL || (unsigned)kind > KMODX_CONFIG_MASK)
		return -EINVAL;
	c = ctx_get_config(ctx, &r);
	if (c == NULL)
		return r;
	array = kind_array(c, kind);
	r = kvlist_new(&list);
	for (size_t i = 0; r == 0 && i < array->n; i++)
		r = config_entry(c, kind, i, list);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

/*
 * Whether entry i of a kind applies to mod: blacklist and mask by its name, options by
 * its name or the alias it was found by, the rest by pattern. Of install, remove,
 * softdep and weakdep only the first match counts, as it does when loading.
 */
static bool entry_applies(const struct config *c, enum kmodx_config_kind kind, size_t i,
			  const struct kmodx_module *mod)
{
	const void *e = kind_array(c, kind)->v[i];
	const char *name = *(const char *const *)e;

	switch (kind) {
	case KMODX_CONFIG_ALIAS:
		return false;
	case KMODX_CONFIG_BLACKLIST:
	case KMODX_CONFIG_MASK:
		return streq(name, mod->name);
	case KMODX_CONFIG_OPTIONS:
		return streq(name, mod->name) || (mod->alias && streq(name, mod->alias));
	case KMODX_CONFIG_INSTALL:
		return config_find_install(c, mod->name) == ((const struct cfg_command *)e)->command;
	case KMODX_CONFIG_REMOVE:
		return config_find_remove(c, mod->name) == ((const struct cfg_command *)e)->command;
	case KMODX_CONFIG_SOFTDEP:
		return config_find_softdep(c, mod->name) == e;
	case KMODX_CONFIG_WEAKDEP:
		return config_find_weakdep(c, mod->name) == e;
	}
	return false;
}

_public_ int kmodx_module_get_config(struct kmodx_module *mod, struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	struct config *c;
	int r = 0;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	c = ctx_get_config(mod->ctx, &r);
	if (c == NULL)
		return r;
	r = kvlist_new(&list);
	for (unsigned k = 0; r == 0 && k <= KMODX_CONFIG_MASK; k++) {
		for (size_t i = 0; r == 0 && i < kind_array(c, k)->n; i++) {
			if (!entry_applies(c, k, i, mod))
				continue;
			r = config_entry(c, k, i, list);
			if (r == 0) {
				list->v[list->n - 1].key = config_kind_names[k];
				list->v[list->n - 1].number = k;
			}
		}
	}
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}
