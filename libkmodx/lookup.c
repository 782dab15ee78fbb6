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
	struct index *idx;
	struct kmodx_module *mod;
	const char *line;
	int r;

	if (strchr(name, ':'))
		return 0;
	r = ctx_get_index(ctx, KMODX_INDEX_DEP, &idx);
	if (r < 0)
		return r;
	if (idx == NULL || index_search(idx, name, &line) < 0)
		return 0;
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
	struct index *idx;
	int r = ctx_get_index(ctx, which, &idx);

	if (r < 0 || idx == NULL)
		return r;
	r = index_search_wild(idx, name, &vals);
	if (r == -EBADMSG) {
		ERR(ctx, "%s: corrupt index", kmodx_ctx_get_module_dir(ctx));
		r = 0;
	}
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
	struct index *idx;
	struct kmodx_module *mod;
	const char *value;
	int r = ctx_get_index(ctx, KMODX_INDEX_BUILTIN, &idx);

	if (r < 0)
		return r;
	if (idx == NULL || index_search(idx, name, &value) < 0)
		return 0;
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
		     size_t n_steps, struct kmodx_list **out)
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
	for (size_t i = 0; i < n_steps && r == 0 && kmodx_list_count(list) == 0; i++)
		r = steps[i](ctx, name, list);
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_new_from_lookup(struct kmodx_ctx *ctx, const char *alias,
					  struct kmodx_list **list)
{
	static const lookup_step chain[] = {
		from_config,  from_moddep, step_symbols,      from_commands,
		step_alias,   from_builtin, step_builtin_alias,
	};

	return run_chain(ctx, alias, chain, ARRAY_SIZE(chain), list);
}

_public_ int kmodx_module_new_from_name_lookup(struct kmodx_ctx *ctx, const char *name,
					       struct kmodx_module **mod)
{
	static const lookup_step chain[] = {from_moddep, from_builtin, step_builtin_alias};
	struct kmodx_list *list;
	int r = run_chain(ctx, name, chain, ARRAY_SIZE(chain), &list);

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

static int config_entry(const struct config *c, enum kmodx_config_kind kind, size_t i,
			struct kmodx_kvlist *list)
{
	struct strbuf sb = STRBUF_INIT;
	const char *key, *value;
	uint64_t number = 0;
	int r = 0;

	switch (kind) {
	case KMODX_CONFIG_BLACKLIST:
		key = c->blacklists.v[i];
		value = "";
		break;
	case KMODX_CONFIG_SOFTDEP:
		key = ((const struct cfg_softdep *)c->softdeps.v[i])->name;
		r = softdep_text(c->softdeps.v[i], &sb, &number);
		value = strbuf_str(&sb);
		break;
	case KMODX_CONFIG_WEAKDEP:
		key = ((const struct cfg_weakdep *)c->weakdeps.v[i])->name;
		r = weakdep_text(c->weakdeps.v[i], &sb);
		value = strbuf_str(&sb);
		break;
	default: {
		const struct ptrarray *a = kind == KMODX_CONFIG_INSTALL ? &c->installs
					   : kind == KMODX_CONFIG_REMOVE ? &c->removes
					   : kind == KMODX_CONFIG_ALIAS	 ? &c->aliases
									 : &c->options;
		const struct cfg_command *e = a->v[i];

		key = e->name;
		value = e->command;
		break;
	}
	}
	if (r == 0 && value == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = kvlist_add(list, key, strlen(key), value, strlen(value), number);
	strbuf_release(&sb);
	return r;
}

_public_ int kmodx_config_get(struct kmodx_ctx *ctx, enum kmodx_config_kind kind,
			      struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	const struct ptrarray *arrays[] = {
		[KMODX_CONFIG_BLACKLIST] = NULL, [KMODX_CONFIG_INSTALL] = NULL,
		[KMODX_CONFIG_REMOVE] = NULL,	 [KMODX_CONFIG_ALIAS] = NULL,
		[KMODX_CONFIG_OPTIONS] = NULL,	 [KMODX_CONFIG_SOFTDEP] = NULL,
		[KMODX_CONFIG_WEAKDEP] = NULL,
	};
	struct config *c;
	int r = 0;

	if (ctx == NULL || out == NULL || (unsigned)kind >= ARRAY_SIZE(arrays))
		return -EINVAL;
	c = ctx_get_config(ctx, &r);
	if (c == NULL)
		return r;
	arrays[KMODX_CONFIG_BLACKLIST] = &c->blacklists;
	arrays[KMODX_CONFIG_INSTALL] = &c->installs;
	arrays[KMODX_CONFIG_REMOVE] = &c->removes;
	arrays[KMODX_CONFIG_ALIAS] = &c->aliases;
	arrays[KMODX_CONFIG_OPTIONS] = &c->options;
	arrays[KMODX_CONFIG_SOFTDEP] = &c->softdeps;
	arrays[KMODX_CONFIG_WEAKDEP] = &c->weakdeps;
	r = kvlist_new(&list);
	for (size_t i = 0; r == 0 && i < arrays[kind]->n; i++)
		r = config_entry(c, kind, i, list);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}
