/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The .bin module indexes (modules.dep.bin, modules.alias.bin, ...): radix tries mapping
 * keys to prioritised string values. The format is described in index-format.h, shared
 * by this reader and the writer (index-write.c).
 *
 * The reader never trusts the file: every node offset, string and table is checked
 * against the file size before use, walks are bounded by the file size (a reference
 * loop or shared subtree is reported as corruption, not followed forever), and any
 * inconsistency gives -EBADMSG.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct index;

struct index_value {
	const char *value; /* borrowed from the index */
	uint32_t priority;
};

struct index_values {
	struct index_value *v;
	size_t n, cap;
};

/* Map the file. -ENOENT if missing, -ENODATA if empty, -EBADMSG if not an index. */
int index_open(const char *path, struct index **idx);
/* Use an in-memory image; the index takes ownership of the malloc'ed buffer. */
int index_open_buffer(uint8_t *buf, size_t size, struct index **idx);
void index_close(struct index *idx);

/* The first (lowest priority) value of key: 0, -ENOENT or -EBADMSG. */
int index_search(const struct index *idx, const char *key, const char **value);
/*
 * Every value whose stored key (a glob pattern) matches the plain string key, in
 * ascending priority (ties: the later one first, as libkmod). Appends to *out.
 * 0 (possibly with nothing found) or a negative errno.
 */
int index_search_wild(const struct index *idx, const char *key, struct index_values *out);
void index_values_release(struct index_values *vals);

/* Every key and value, sorted by key, as "<prefix>key value\n" lines to fd. */
int index_dump(const struct index *idx, int fd, const char *prefix);

/* Call fn for every key and value in key order; stops on a non-zero return. */
typedef int (*index_foreach_fn)(void *data, const char *key, const char *value,
				uint32_t priority);
int index_foreach(const struct index *idx, index_foreach_fn fn, void *data);
