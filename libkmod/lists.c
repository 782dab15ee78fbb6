// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kmod_list: to its users a circular doubly linked list whose first entry stands for
 * the list, walked with kmod_list_next()/prev()/last() relative to any entry taken as
 * the head. Here all entries of a list live in one array with the list's contents,
 * allocated at once: an entry knows its block and its place in it, which makes every
 * step O(1) and a list one allocation.
 */
#include <stdlib.h>

#include "libkmod-private.h"

struct list_block {
	enum list_kind kind;
	size_t n;
	struct kmodx_kvlist *kv;    /* kvlist kinds */
	struct kmodx_module **mods; /* LIST_MODULES: n new references */
	struct kmod_list entries[];
};

static struct list_block *block_new(enum list_kind kind, size_t n, size_t extra)
{
	struct list_block *b;
	size_t size;

	if (mul_overflows(n, sizeof(struct kmod_list), &size) ||
	    add_overflows(size, sizeof(*b) + extra, &size))
		return NULL;
	b = malloc(size);
	if (b == NULL)
		return NULL;
	b->kind = kind;
	b->n = n;
	b->kv = NULL;
	b->mods = NULL;
	for (size_t i = 0; i < n; i++) {
		b->entries[i].block = b;
		b->entries[i].index = i;
	}
	return b;
}

int list_from_modules(struct kmodx_list *mods, struct kmod_list **out)
{
	size_t n = kmodx_list_count(mods);
	struct list_block *b;

	*out = NULL;
	if (n == 0) {
		kmodx_list_free(mods);
		return 0;
	}
	b = block_new(LIST_MODULES, n, n * sizeof(struct kmodx_module *));
	if (b == NULL) {
		kmodx_list_free(mods);
		return -ENOMEM;
	}
	b->mods = (struct kmodx_module **)&b->entries[n];
	for (size_t i = 0; i < n; i++)
		b->mods[i] = kmodx_module_ref(kmodx_list_get(mods, i));
	kmodx_list_free(mods);
	*out = &b->entries[0];
	return 0;
}

int list_from_kvlist(enum list_kind kind, struct kmodx_kvlist *kv, struct kmod_list **out)
{
	size_t n = kmodx_kvlist_count(kv);
	struct list_block *b;

	*out = NULL;
	if (n == 0) {
		kmodx_kvlist_free(kv);
		return 0;
	}
	b = block_new(kind, n, 0);
	if (b == NULL) {
		kmodx_kvlist_free(kv);
		return -ENOMEM;
	}
	b->kv = kv;
	*out = &b->entries[0];
	return 0;
}

int list_filter(const struct kmod_list *input,
		bool (*keep)(struct kmodx_module *, void *), void *data,
		struct kmod_list **out)
{
	const struct kmod_list *e;
	struct list_block *b;
	size_t n = 0;

	*out = NULL;
	kmod_list_foreach(e, input)
		n++;
	if (n == 0)
		return 0;
	b = block_new(LIST_MODULES, n, n * sizeof(struct kmodx_module *));
	if (b == NULL)
		return -ENOMEM;
	b->mods = (struct kmodx_module **)&b->entries[n];
	b->n = 0; /* the entries past the modules kept are never reached */
	kmod_list_foreach(e, input) {
		struct kmodx_module *m = list_module(e);

		if (m && keep(m, data))
			b->mods[b->n++] = kmodx_module_ref(m);
	}
	if (b->n == 0) {
		free(b);
		return 0;
	}
	*out = &b->entries[0];
	return 0;
}

struct kmodx_module *list_module(const struct kmod_list *entry)
{
	if (entry == NULL || entry->block->kind != LIST_MODULES)
		return NULL;
	return entry->block->mods[entry->index];
}

const struct kmodx_kvlist *list_kv(const struct kmod_list *entry, enum list_kind kind,
				   size_t *index)
{
	if (entry == NULL || entry->block->kind != kind)
		return NULL;
	*index = entry->index;
	return entry->block->kv;
}

void list_free(struct kmod_list *list, enum list_kind kind)
{
	struct list_block *b;

	if (list == NULL || list->block->kind != kind)
		return;
	b = list->block;
	for (size_t i = 0; b->mods && i < b->n; i++)
		kmodx_module_unref(b->mods[i]);
	kmodx_kvlist_free(b->kv);
	free(b);
}

/* ---- walking ---- */

_public_ struct kmod_list *kmod_list_next(const struct kmod_list *list,
					  const struct kmod_list *curr)
{
	struct list_block *b;
	size_t next;

	if (list == NULL || curr == NULL)
		return NULL;
	b = curr->block;
	next = (curr->index + 1) % b->n;
	return &b->entries[next] == list ? NULL : &b->entries[next];
}

_public_ struct kmod_list *kmod_list_prev(const struct kmod_list *list,
					  const struct kmod_list *curr)
{
	struct list_block *b;

	if (list == NULL || curr == NULL || curr == list)
		return NULL;
	b = curr->block;
	return &b->entries[(curr->index + b->n - 1) % b->n];
}

_public_ struct kmod_list *kmod_list_last(const struct kmod_list *list)
{
	struct list_block *b;

	if (list == NULL)
		return NULL;
	b = list->block;
	return &b->entries[(list->index + b->n - 1) % b->n];
}
