/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A growable array of pointers. */
#pragma once

#include <stddef.h>

#include "macro.h"

struct ptrarray {
	void **v;
	size_t n;
	size_t cap;
};

#define PTRARRAY_INIT {.v = NULL, .n = 0, .cap = 0}

/* 0 or -ENOMEM. */
int ptrarray_push(struct ptrarray *a, void *p);
int ptrarray_reserve(struct ptrarray *a, size_t extra);
/* Frees the array storage, not the elements. */
void ptrarray_release(struct ptrarray *a);
/* Calls fn on each element, then releases the array. */
void ptrarray_release_with(struct ptrarray *a, void (*fn)(void *));
/* Index of p, or -1. */
long ptrarray_find(const struct ptrarray *a, const void *p);
