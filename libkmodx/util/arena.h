/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bump allocator: many small allocations that all die together (strings read from
 * modules during depmod, trie nodes). Not thread-safe: one arena per thread.
 */
#pragma once

#include <stddef.h>

#include "macro.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t chunk_size; /* 0 means 64 KiB */
};

#define ARENA_INIT {.head = NULL, .chunk_size = 0}

/* NULL on allocation failure; memory is aligned for any scalar type. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* At most n bytes of s (which may be shorter), NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void *arena_memdup(struct arena *a, const void *p, size_t n);
void arena_release(struct arena *a);
/* Move every allocation of src into dst (src is left empty). */
void arena_merge(struct arena *dst, struct arena *src);
