// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct arena_chunk *c = a->head;
	size_t want, size;

	if (add_overflows(n, align - 1, &want))
		return NULL;
	want &= ~(align - 1);
	if (c == NULL || c->size - c->used < want) {
		size = a->chunk_size ? a->chunk_size : 64 * 1024;
		if (want > size / 4)
			size = want; /* big blocks get a chunk of their own */
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		if (a->head != NULL && size == want) {
			/* keep filling the current chunk afterwards */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	c->used += want;
	return c->data + c->used - want;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);

	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	/* like strndup(3): s may be shorter than n */
	n = strnlen(s, n);
	if (n == SIZE_MAX)
		return NULL;
	p = arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c != NULL) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	a->head = NULL;
}

void arena_merge(struct arena *dst, struct arena *src)
{
	struct arena_chunk *last = src->head;

	if (last == NULL)
		return;
	while (last->next)
		last = last->next;
	if (dst->head == NULL) {
		dst->head = src->head;
	} else {
		/* keep dst's current chunk first: it is the one still being filled */
		last->next = dst->head->next;
		dst->head->next = src->head;
	}
	src->head = NULL;
}
