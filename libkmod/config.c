// SPDX-License-Identifier: LGPL-2.1-or-later
/* kmod_config_iter: the configuration's directives of one kind, one at a time. */
#include <stdlib.h>

#include "libkmod-private.h"

struct kmod_config_iter {
	struct kmodx_kvlist *entries;
	size_t pos;   /* of the current entry */
	bool started; /* false before the first entry and after the last */
	bool has_value;
};

static struct kmod_config_iter *iter_new(const struct kmod_ctx *ctx,
					 enum kmodx_config_kind kind)
{
	struct kmod_config_iter *iter;

	if (ctx == NULL)
		return NULL;
	iter = calloc(1, sizeof(*iter));
	if (iter == NULL)
		return NULL;
	if (kmodx_config_get(X(ctx), kind, &iter->entries) < 0) {
		free(iter);
		return NULL;
	}
	/* a blacklist directive has no value: kmod gives NULL */
	iter->has_value = kind != KMODX_CONFIG_BLACKLIST;
	return iter;
}

_public_ struct kmod_config_iter *kmod_config_get_blacklists(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_BLACKLIST);
}

_public_ struct kmod_config_iter *
kmod_config_get_install_commands(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_INSTALL);
}

_public_ struct kmod_config_iter *
kmod_config_get_remove_commands(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_REMOVE);
}

_public_ struct kmod_config_iter *kmod_config_get_aliases(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_ALIAS);
}

_public_ struct kmod_config_iter *kmod_config_get_options(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_OPTIONS);
}

_public_ struct kmod_config_iter *kmod_config_get_softdeps(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_SOFTDEP);
}

_public_ struct kmod_config_iter *kmod_config_get_weakdeps(const struct kmod_ctx *ctx)
{
	return iter_new(ctx, KMODX_CONFIG_WEAKDEP);
}

_public_ const char *kmod_config_iter_get_key(const struct kmod_config_iter *iter)
{
	if (iter == NULL || !iter->started)
		return NULL;
	return kmodx_kvlist_key(iter->entries, iter->pos);
}

_public_ const char *kmod_config_iter_get_value(const struct kmod_config_iter *iter)
{
	if (iter == NULL || !iter->started || !iter->has_value)
		return NULL;
	return kmodx_kvlist_value(iter->entries, iter->pos);
}

/* Past the last entry the iterator starts over, as kmod's does. */
_public_ bool kmod_config_iter_next(struct kmod_config_iter *iter)
{
	if (iter == NULL)
		return false;
	iter->pos = iter->started ? iter->pos + 1 : 0;
	iter->started = iter->pos < kmodx_kvlist_count(iter->entries);
	return iter->started;
}

_public_ void kmod_config_iter_free_iter(struct kmod_config_iter *iter)
{
	if (iter == NULL)
		return;
	kmodx_kvlist_free(iter->entries);
	free(iter);
}
