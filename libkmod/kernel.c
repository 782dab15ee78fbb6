// SPDX-License-Identifier: LGPL-2.1-or-later
/* The running kernel: loaded modules and their state, loading and removing. */
#include <limits.h>

#include "libkmod-private.h"

_public_ int kmod_module_new_from_loaded(struct kmod_ctx *ctx, struct kmod_list **list)
{
	struct kmodx_list *mods;
	int r;

	if (ctx == NULL || list == NULL)
		return -ENOENT;
	r = kmodx_module_new_from_loaded(X(ctx), &mods);
	return r < 0 ? r : list_from_modules(mods, list);
}

_Static_assert(SAME(KMOD_MODULE_BUILTIN, KMODX_MODULE_BUILTIN) &&
		       SAME(KMOD_MODULE_LIVE, KMODX_MODULE_LIVE) &&
		       SAME(KMOD_MODULE_COMING, KMODX_MODULE_COMING) &&
		       SAME(KMOD_MODULE_GOING, KMODX_MODULE_GOING),
	       "kmod's and libkmodx's module states differ");

_public_ int kmod_module_get_initstate(const struct kmod_module *mod)
{
	return mod ? kmodx_module_get_initstate(XM(mod)) : -ENOENT;
}

_public_ const char *kmod_module_initstate_str(enum kmod_module_initstate state)
{
	return kmodx_initstate_str((int)state);
}

_public_ long kmod_module_get_size(const struct kmod_module *mod)
{
	unsigned long size;
	int r;

	if (mod == NULL)
		return -ENOENT;
	r = kmodx_module_get_size(XM(mod), &size);
	if (r < 0)
		return r;
	return size > (unsigned long)LONG_MAX ? -ERANGE : (long)size;
}

_public_ int kmod_module_get_refcnt(const struct kmod_module *mod)
{
	return mod ? kmodx_module_get_refcnt(XM(mod)) : -ENOENT;
}

_public_ struct kmod_list *kmod_module_get_holders(const struct kmod_module *mod)
{
	struct kmodx_list *holders;
	struct kmod_list *list;

	if (mod == NULL || kmodx_module_get_holders(XM(mod), &holders) < 0)
		return NULL;
	return list_from_modules(holders, &list) < 0 ? NULL : list;
}

_public_ int kmod_module_insert_module(struct kmod_module *mod, unsigned int flags,
				       const char *options)
{
	unsigned xflags = 0;

	if (mod == NULL)
		return -ENOENT;
	if (flags & KMOD_INSERT_FORCE_VERMAGIC)
		xflags |= KMODX_INSERT_FORCE_VERMAGIC;
	if (flags & KMOD_INSERT_FORCE_MODVERSION)
		xflags |= KMODX_INSERT_FORCE_MODVERSION;
	return kmodx_module_insert(XM(mod), xflags, options);
}

/* O_NONBLOCK is always passed to the kernel. */
_public_ int kmod_module_remove_module(struct kmod_module *mod, unsigned int flags)
{
	unsigned xflags = 0;

	if (mod == NULL)
		return -ENOENT;
	if (flags & KMOD_REMOVE_FORCE)
		xflags |= KMODX_REMOVE_FORCE;
	if (flags & KMOD_REMOVE_NOLOG)
		xflags |= KMODX_REMOVE_NOLOG;
	return kmodx_module_remove(XM(mod), xflags);
}
