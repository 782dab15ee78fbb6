// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a module's file says (.modinfo and signature, __versions, exports, undefined
 * symbols) and a loaded module's sections, as kmod's lists of entries. The getters
 * answer for a NULL entry, or one of another kind of list, as kmod does for NULL.
 */
#include <limits.h>

#include "libkmod-private.h"

typedef int (*kv_getter)(struct kmodx_module *mod, struct kmodx_kvlist **list);

/* The list of mod's entries: their count, or a negative errno. */
static int get_list(const struct kmod_module *mod, struct kmod_list **list, kv_getter get,
		    enum list_kind kind)
{
	struct kmodx_kvlist *kv;
	size_t n;
	int r;

	if (mod == NULL || list == NULL)
		return -ENOENT;
	r = get(XM(mod), &kv);
	if (r < 0)
		return r;
	n = kmodx_kvlist_count(kv);
	r = list_from_kvlist(kind, kv, list);
	return r < 0 ? r : (int)MIN(n, (size_t)INT_MAX);
}

static const char *entry_key(const struct kmod_list *entry, enum list_kind kind)
{
	size_t i;
	const struct kmodx_kvlist *kv = list_kv(entry, kind, &i);

	return kv ? kmodx_kvlist_key(kv, i) : NULL;
}

static uint64_t entry_number(const struct kmod_list *entry, enum list_kind kind,
			     uint64_t none)
{
	size_t i;
	const struct kmodx_kvlist *kv = list_kv(entry, kind, &i);

	return kv ? kmodx_kvlist_number(kv, i) : none;
}

/* ---- .modinfo ---- */

_public_ int kmod_module_get_info(const struct kmod_module *mod, struct kmod_list **list)
{
	return get_list(mod, list, kmodx_module_get_info, LIST_INFO);
}

_public_ const char *kmod_module_info_get_key(const struct kmod_list *entry)
{
	return entry_key(entry, LIST_INFO);
}

_public_ const char *kmod_module_info_get_value(const struct kmod_list *entry)
{
	size_t i;
	const struct kmodx_kvlist *kv = list_kv(entry, LIST_INFO, &i);

	return kv ? kmodx_kvlist_value(kv, i) : NULL;
}

_public_ void kmod_module_info_free_list(struct kmod_list *list)
{
	list_free(list, LIST_INFO);
}

/* ---- __versions ---- */

_public_ int kmod_module_get_versions(const struct kmod_module *mod,
				      struct kmod_list **list)
{
	return get_list(mod, list, kmodx_module_get_versions, LIST_VERSIONS);
}

_public_ const char *kmod_module_version_get_symbol(const struct kmod_list *entry)
{
	return entry_key(entry, LIST_VERSIONS);
}

_public_ uint64_t kmod_module_version_get_crc(const struct kmod_list *entry)
{
	return entry_number(entry, LIST_VERSIONS, 0);
}

_public_ void kmod_module_versions_free_list(struct kmod_list *list)
{
	list_free(list, LIST_VERSIONS);
}

/* ---- exported symbols ---- */

_public_ int kmod_module_get_symbols(const struct kmod_module *mod,
				     struct kmod_list **list)
{
	return get_list(mod, list, kmodx_module_get_symbols, LIST_SYMBOLS);
}

_public_ const char *kmod_module_symbol_get_symbol(const struct kmod_list *entry)
{
	return entry_key(entry, LIST_SYMBOLS);
}

_public_ uint64_t kmod_module_symbol_get_crc(const struct kmod_list *entry)
{
	return entry_number(entry, LIST_SYMBOLS, 0);
}

_public_ void kmod_module_symbols_free_list(struct kmod_list *list)
{
	list_free(list, LIST_SYMBOLS);
}

/* ---- symbols the module needs ---- */

_public_ int kmod_module_get_dependency_symbols(const struct kmod_module *mod,
						struct kmod_list **list)
{
	return get_list(mod, list, kmodx_module_get_dependency_symbols, LIST_DEP_SYMBOLS);
}

_public_ const char *
kmod_module_dependency_symbol_get_symbol(const struct kmod_list *entry)
{
	return entry_key(entry, LIST_DEP_SYMBOLS);
}

_public_ uint64_t kmod_module_dependency_symbol_get_crc(const struct kmod_list *entry)
{
	return entry_number(entry, LIST_DEP_SYMBOLS, 0);
}

/* The binding letter (enum kmod_symbol_bind), 0 for NULL. */
_public_ int kmod_module_dependency_symbol_get_bind(const struct kmod_list *entry)
{
	size_t i;
	const struct kmodx_kvlist *kv = list_kv(entry, LIST_DEP_SYMBOLS, &i);

	return kv ? (unsigned char)kmodx_kvlist_value(kv, i)[0] : 0;
}

_public_ void kmod_module_dependency_symbols_free_list(struct kmod_list *list)
{
	list_free(list, LIST_DEP_SYMBOLS);
}

/* ---- sections of a loaded module ---- */

_public_ struct kmod_list *kmod_module_get_sections(const struct kmod_module *mod)
{
	struct kmod_list *list = NULL;

	if (get_list(mod, &list, kmodx_module_get_sections, LIST_SECTIONS) < 0)
		return NULL;
	return list;
}

_public_ const char *kmod_module_section_get_name(const struct kmod_list *entry)
{
	return entry_key(entry, LIST_SECTIONS);
}

_public_ unsigned long kmod_module_section_get_address(const struct kmod_list *entry)
{
	return (unsigned long)entry_number(entry, LIST_SECTIONS, ULONG_MAX);
}

_public_ void kmod_module_section_free_list(struct kmod_list *list)
{
	list_free(list, LIST_SECTIONS);
}
