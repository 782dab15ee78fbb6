// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>

#include "array.h"

int ptrarray_reserve(struct ptrarray *a, size_t extra)
{
	size_t need, cap;
	void **v;

	if (add_overflows(a->n, extra, &need))
		return -ENOMEM;
	if (need <= a->cap)
		return 0;
	cap = a->cap ? a->cap : 8;
	while (cap < need) {
		if (mul_overflows(cap, 2, &cap))
			return -ENOMEM;
	}
	if (mul_overflows(cap, sizeof(void *), &need))
		return -ENOMEM;
	v = realloc(a->v, need);
	if (v == NULL)
		return -ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

int ptrarray_push(struct ptrarray *a, void *p)
{
	int r = ptrarray_reserve(a, 1);

	if (r < 0)
		return r;
	a->v[a->n++] = p;
	return 0;
}

void ptrarray_release(struct ptrarray *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

void ptrarray_release_with(struct ptrarray *a, void (*fn)(void *))
{
	for (size_t i = 0; i < a->n; i++)
		fn(a->v[i]);
	ptrarray_release(a);
}

long ptrarray_find(const struct ptrarray *a, const void *p)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i] == p)
			return (long)i;
	}
	return -1;
}
