// SPDX-License-Identifier: LGPL-2.1-or-later
/* kmod_module: making modules, references, names, paths, configuration, dependencies. */
#include <limits.h>

#include "libkmod-private.h"
#include "util/path.h"

/* ---- making modules ---- */

_public_ int kmod_module_new_from_name(struct kmod_ctx *ctx, const char *name,
				       struct kmod_module **mod)
{
	char norm[PATH_MAX];
	struct kmodx_module *m;
	int r;

	if (ctx == NULL || name == NULL || mod == NULL)
		return -ENOENT;
	/* kmod's names end at the first '.': "snd-hda.ko" is snd_hda */
	if (modname_normalize(name, norm, NULL) == NULL)
		return -ENAMETOOLONG;
	r = kmodx_module_new_from_name(X(ctx), norm, &m);
	if (r == 0)
		*mod = KM(m);
	return r;
}

_public_ int kmod_module_new_from_path(struct kmod_ctx *ctx, const char *path,
				       struct kmod_module **mod)
{
	struct kmodx_module *m;
	int r;

	if (ctx == NULL || path == NULL || mod == NULL)
		return -ENOENT;
	r = kmodx_module_new_from_path(X(ctx), path, &m);
	if (r == 0)
		*mod = KM(m);
	return r;
}

_public_ int kmod_module_new_from_lookup(struct kmod_ctx *ctx, const char *given_alias,
					 struct kmod_list **list)
{
	struct kmodx_list *found;
	int r;

	if (ctx == NULL || given_alias == NULL)
		return -ENOENT;
	if (list == NULL || *list != NULL)
		return -ENOSYS; /* kmod's answer for a list that is not empty */
	if (given_alias[0] == '\0')
		return 0; /* nothing is called that */
	r = kmodx_module_new_from_lookup(X(ctx), given_alias, &found);
	return r < 0 ? r : list_from_modules(found, list);
}

/*
 * kmod 30 put this function in version LIBKMOD_5 and kmod 31 moved it to LIBKMOD_30:
 * binaries linked against Debian's libkmod2 (kmod 30) ask for the first, those linked
 * against later kmod for the second, so both are defined (see libkmod.sym).
 */
int name_lookup_v30(struct kmod_ctx *ctx, const char *modname, struct kmod_module **mod);
int name_lookup_v5(struct kmod_ctx *ctx, const char *modname, struct kmod_module **mod);
/* directives rather than the symver attribute, which clang 14 lacks */
__asm__(".symver name_lookup_v30, kmod_module_new_from_name_lookup@@LIBKMOD_30");
__asm__(".symver name_lookup_v5, kmod_module_new_from_name_lookup@LIBKMOD_5");

_public_ int name_lookup_v30(struct kmod_ctx *ctx, const char *modname,
			     struct kmod_module **mod)
{
	char norm[PATH_MAX];
	struct kmodx_module *m;
	int r;

	if (ctx == NULL || modname == NULL || mod == NULL)
		return -ENOENT;
	if (modname_normalize(modname, norm, NULL) == NULL)
		return -ENAMETOOLONG;
	r = kmodx_module_new_from_name_lookup(X(ctx), norm, &m);
	if (r == 0)
		*mod = KM(m);
	/* not found, or not a name anything could have: success, *mod untouched */
	return r == -ENOENT || r == -EINVAL ? 0 : r;
}

_public_ int name_lookup_v5(struct kmod_ctx *ctx, const char *modname,
			    struct kmod_module **mod)
{
	return name_lookup_v30(ctx, modname, mod);
}

/* ---- references ---- */

_public_ struct kmod_module *kmod_module_ref(struct kmod_module *mod)
{
	return KM(kmodx_module_ref(XM(mod)));
}

_public_ struct kmod_module *kmod_module_unref(struct kmod_module *mod)
{
	return KM(kmodx_module_unref(XM(mod)));
}

_public_ int kmod_module_unref_list(struct kmod_list *list)
{
	list_free(list, LIST_MODULES);
	return 0;
}

_public_ struct kmod_module *kmod_module_get_module(const struct kmod_list *entry)
{
	return KM(kmodx_module_ref(list_module(entry)));
}

/* ---- names, paths and configuration ---- */

_public_ const char *kmod_module_get_name(const struct kmod_module *mod)
{
	return kmodx_module_get_name(XM(mod));
}

_public_ const char *kmod_module_get_path(const struct kmod_module *mod)
{
	return kmodx_module_get_path(XM(mod));
}

_public_ const char *kmod_module_get_options(const struct kmod_module *mod)
{
	const char *options = kmodx_module_get_options(XM(mod));

	/* kmod has no options as NULL, never as "" */
	return options && *options ? options : NULL;
}

_public_ const char *kmod_module_get_install_commands(const struct kmod_module *mod)
{
	return kmodx_module_get_install_command(XM(mod));
}

_public_ const char *kmod_module_get_remove_commands(const struct kmod_module *mod)
{
	return kmodx_module_get_remove_command(XM(mod));
}

/* ---- dependencies ---- */

_public_ struct kmod_list *kmod_module_get_dependencies(const struct kmod_module *mod)
{
	struct kmodx_list *deps;
	struct kmod_list *list;

	if (mod == NULL || kmodx_module_get_dependencies(XM(mod), &deps) < 0)
		return NULL;
	return list_from_modules(deps, &list) < 0 ? NULL : list;
}

_public_ int kmod_module_get_softdeps(const struct kmod_module *mod,
				      struct kmod_list **pre, struct kmod_list **post)
{
	struct kmodx_list *xpre, *xpost;
	int r;

	if (mod == NULL || pre == NULL || post == NULL)
		return -ENOENT;
	r = kmodx_module_get_softdeps(XM(mod), &xpre, &xpost);
	if (r < 0)
		return r;
	r = list_from_modules(xpre, pre);
	if (r < 0) {
		kmodx_list_free(xpost);
		return r;
	}
	r = list_from_modules(xpost, post);
	if (r < 0) {
		kmod_module_unref_list(*pre);
		*pre = NULL;
	}
	return r;
}

_public_ int kmod_module_get_weakdeps(const struct kmod_module *mod,
				      struct kmod_list **weak)
{
	struct kmodx_list *deps;
	int r;

	if (mod == NULL || weak == NULL)
		return -ENOENT;
	r = kmodx_module_get_weakdeps(XM(mod), &deps);
	return r < 0 ? r : list_from_modules(deps, weak);
}

/* ---- filters ---- */

static bool keep(struct kmodx_module *mod, void *data)
{
	unsigned filter = *(const unsigned *)data;

	return !((filter & KMOD_FILTER_BLACKLIST) && kmodx_module_is_blacklisted(mod)) &&
	       !((filter & KMOD_FILTER_BUILTIN) && kmodx_module_is_builtin(mod));
}

_public_ int kmod_module_apply_filter(const struct kmod_ctx *ctx,
				      enum kmod_filter filter_type,
				      const struct kmod_list *input,
				      struct kmod_list **output)
{
	unsigned filter = filter_type;

	if (ctx == NULL || output == NULL)
		return -ENOENT;
	return list_filter(input, keep, &filter, output);
}

_public_ int kmod_module_get_filtered_blacklist(const struct kmod_ctx *ctx,
						const struct kmod_list *input,
						struct kmod_list **output)
{
	return kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, input, output);
}
