/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the files of libkmod.so.2, kmod's library interface made of libkmodx's
 * public API. Nothing here is installed.
 *
 * A struct kmod_ctx is a struct kmodx_ctx and a struct kmod_module a struct
 * kmodx_module: kmod's pooling, reference counts and object identity are libkmodx's,
 * and the pointers pass both ways without a table. Lists are libkmod's own
 * (lists.c): kmod's circular doubly linked entries, laid out as one array.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "libkmod.h"
#include "libkmodx.h"
#include "util/macro.h"

/* For static assertions that kmod's and libkmodx's enums agree. */
#define SAME(a, b) ((int)(a) == (int)(b))

static inline struct kmodx_ctx *X(const struct kmod_ctx *ctx)
{
	return (struct kmodx_ctx *)ctx;
}

static inline struct kmod_ctx *K(struct kmodx_ctx *ctx)
{
	return (struct kmod_ctx *)ctx;
}

static inline struct kmodx_module *XM(const struct kmod_module *mod)
{
	return (struct kmodx_module *)mod;
}

static inline struct kmod_module *KM(struct kmodx_module *mod)
{
	return (struct kmod_module *)mod;
}

/* ---- lists ---- */

/* What a list's entries are; a getter given an entry of another kind answers as for
 * NULL instead of reading the wrong thing. */
enum list_kind {
	LIST_MODULES,
	LIST_INFO,	  /* kvlist: key, value */
	LIST_VERSIONS,	  /* kvlist: key = symbol, number = CRC */
	LIST_SYMBOLS,	  /* kvlist: key = symbol, number = CRC */
	LIST_DEP_SYMBOLS, /* kvlist: key = symbol, value = bind, number = CRC */
	LIST_SECTIONS,	  /* kvlist: key = name, number = address */
};

struct list_block;

struct kmod_list {
	struct list_block *block;
	size_t index;
};

/* A module list made of a libkmodx list, which it consumes (also on failure). *out is
 * NULL for an empty list. 0 or -ENOMEM. */
int list_from_modules(struct kmodx_list *mods, struct kmod_list **out);
/* A list of a libkmodx key-value list's entries, which it takes over (also on
 * failure). */
int list_from_kvlist(enum list_kind kind, struct kmodx_kvlist *kv,
		     struct kmod_list **out);
/* A new module list of input's modules for which keep() says true (from input's first
 * entry round to it, as kmod_list_foreach() walks). 0 or -ENOMEM. */
int list_filter(const struct kmod_list *input,
		bool (*keep)(struct kmodx_module *, void *), void *data,
		struct kmod_list **out);
/* The entry's module (borrowed) if it is a module list's, else NULL. */
struct kmodx_module *list_module(const struct kmod_list *entry);
/* The entry's key-value list and index if it is a list of that kind's, else NULL. */
const struct kmodx_kvlist *list_kv(const struct kmod_list *entry, enum list_kind kind,
				   size_t *index);
/* Free a list of that kind (and the references or strings it holds); a list of
 * another kind is left alone. */
void list_free(struct kmod_list *list, enum list_kind kind);
