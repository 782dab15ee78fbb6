// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libkmodx-private.h"

int list_new(struct kmodx_list **list)
{
	*list = calloc(1, sizeof(**list));
	return *list ? 0 : -ENOMEM;
}

int list_append(struct kmodx_list *list, struct kmodx_module *mod)
{
	int r = ptrarray_push(&list->mods, mod);

	if (r == 0)
		kmodx_module_ref(mod);
	return r;
}

bool list_contains(const struct kmodx_list *list, const struct kmodx_module *mod)
{
	return ptrarray_find(&list->mods, mod) >= 0;
}

_public_ size_t kmodx_list_count(const struct kmodx_list *list)
{
	return list ? list->mods.n : 0;
}

_public_ struct kmodx_module *kmodx_list_get(const struct kmodx_list *list, size_t i)
{
	return list && i < list->mods.n ? list->mods.v[i] : NULL;
}

_public_ void kmodx_list_free(struct kmodx_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->mods.n; i++)
		kmodx_module_unref(list->mods.v[i]);
	ptrarray_release(&list->mods);
	free(list);
}

int kvlist_new(struct kmodx_kvlist **list)
{
	*list = calloc(1, sizeof(**list));
	return *list ? 0 : -ENOMEM;
}

int kvlist_add(struct kmodx_kvlist *list, const char *key, size_t keylen, const char *value,
	       size_t valuelen, uint64_t number)
{
	struct kv_entry *e;

	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct kv_entry *v = realloc(list->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		list->v = v;
		list->cap = cap;
	}
	e = &list->v[list->n];
	e->key = arena_strndup(&list->strings, key, keylen);
	e->value = value ? arena_strndup(&list->strings, value, valuelen) : "";
	if (e->key == NULL || e->value == NULL)
		return -ENOMEM;
	e->number = number;
	e->origin = "";
	list->n++;
	return 0;
}

int kvlist_set_origin(struct kmodx_kvlist *list, const char *origin)
{
	char *s = arena_strdup(&list->strings, origin);

	if (s == NULL)
		return -ENOMEM;
	list->v[list->n - 1].origin = s;
	return 0;
}

_public_ size_t kmodx_kvlist_count(const struct kmodx_kvlist *list)
{
	return list ? list->n : 0;
}

_public_ const char *kmodx_kvlist_key(const struct kmodx_kvlist *list, size_t i)
{
	return list && i < list->n ? list->v[i].key : NULL;
}

_public_ const char *kmodx_kvlist_value(const struct kmodx_kvlist *list, size_t i)
{
	return list && i < list->n ? list->v[i].value : NULL;
}

_public_ const char *kmodx_kvlist_origin(const struct kmodx_kvlist *list, size_t i)
{
	return list && i < list->n ? list->v[i].origin : NULL;
}

_public_ uint64_t kmodx_kvlist_number(const struct kmodx_kvlist *list, size_t i)
{
	return list && i < list->n ? list->v[i].number : 0;
}

_public_ void kmodx_kvlist_free(struct kmodx_kvlist *list)
{
	if (list == NULL)
		return;
	free(list->v);
	arena_release(&list->strings);
	free(list);
}
