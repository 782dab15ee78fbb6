/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small language helpers shared by every file of libkmodx and the tools.
 * No libkmodx types, no logging, no exit.
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(fn)      __attribute__((cleanup(fn)))
#define _printf_(fmt, arg) __attribute__((format(printf, fmt, arg)))
#define _public_           __attribute__((visibility("default")))
#define _unused_           __attribute__((unused))
#define _nonnull_(...)     __attribute__((nonnull(__VA_ARGS__)))
#define _noreturn_         __attribute__((noreturn))
#define _must_check_       __attribute__((warn_unused_result))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool strstartswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool strendswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The CPUs this process may run on (its affinity: a container's cpuset, taskset), else
 * those online; at least one: how many workers a pool may usefully start. */
static inline unsigned cpus_online(void)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)MIN(n, 4096) : 1;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* Steal a pointer out of a _cleanup_ variable. */
#define TAKE_PTR(p)                               \
	({                                        \
		__typeof__(p) _tmp_ = (p);        \
		(p) = NULL;                       \
		_tmp_;                            \
	})

#define TAKE_FD(fd)                               \
	({                                        \
		int _tmp_ = (fd);                 \
		(fd) = -1;                        \
		_tmp_;                            \
	})

/* Checked size arithmetic: true on overflow. */
static inline bool add_overflows(size_t a, size_t b, size_t *res)
{
	return __builtin_add_overflow(a, b, res);
}

static inline bool mul_overflows(size_t a, size_t b, size_t *res)
{
	return __builtin_mul_overflow(a, b, res);
}

/*
 * qsort() that accepts an empty array: an empty ptrarray has base NULL, and passing NULL
 * to qsort() is undefined behaviour even with zero elements.
 */
static inline void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/*
 * sort() for arrays that are mostly a handful of elements long, where qsort()'s set-up
 * costs more than the sorting: an insertion sort up to 16 elements (of at most 64
 * bytes), qsort() beyond.
 */
static inline void sort_small(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	unsigned char *v = base, held[64];

	if (n > 16 || size > sizeof(held)) {
		sort(base, n, size, cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		size_t j = i;

		memcpy(held, v + i * size, size);
		for (; j > 0 && cmp(v + (j - 1) * size, held) > 0; j--)
			memcpy(v + j * size, v + (j - 1) * size, size);
		memcpy(v + j * size, held, size);
	}
}
