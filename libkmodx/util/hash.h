/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A string-keyed hash map (open addressing, linear probing). Keys are borrowed: the
 * caller keeps them alive as long as the map.
 *
 * superfasthash() is also exported on its own: kmod's depmod iterates its own hash
 * tables to order modules.symbols and unordered modules, and reproducing that order
 * only needs the bucket number, see hash_kmod_order_cmp().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct hash_entry {
	const char *key; /* may be replaced by an equal string, never by another */
	void *value;
	uint32_t hash; /* superfasthash(key): probing, growing and removing never rehash */
};

struct hash {
	struct hash_entry *slots;
	size_t n_slots; /* a power of two, or 0 */
	size_t count;
};

#define HASH_INIT                                                                        \
	{                                                                                \
		.slots = NULL, .n_slots = 0, .count = 0                                  \
	}

uint32_t superfasthash(const char *key, size_t len);

/*
 * A fast 64-bit hash of a byte range, for checksums and fingerprints (depmod's cache):
 * not cryptographic, not stable across byte orders. Chain ranges by passing the
 * previous result as the seed.
 */
uint64_t hash64(const void *data, size_t len, uint64_t seed);

/* A cheaper hash64 for short inputs (names): one lane, no final mixing of lanes. For
 * hashing many small pieces in sequence, each seeding the next. */
uint64_t hash64_small(const void *data, size_t len, uint64_t seed);

/*
 * hash64 over a stream of bytes fed in pieces: the result depends only on the bytes,
 * not on how they were cut: each HASH64_BLOCK bytes are hashed seeded with the hash so
 * far, then the rest (possibly nothing) at the end.
 */
#define HASH64_BLOCK 4096

struct hash64_stream {
	uint64_t h;
	size_t n; /* bytes waiting in buf */
	unsigned char buf[HASH64_BLOCK];
};

void hash64_init(struct hash64_stream *s, uint64_t seed);
void hash64_feed(struct hash64_stream *s, const void *data, size_t len);
uint64_t hash64_final(const struct hash64_stream *s);

/* The value for key, or NULL. */
void *hash_find(const struct hash *h, const char *key);
/* The slot for key, or NULL. */
struct hash_entry *hash_find_entry(const struct hash *h, const char *key);
/* The same with superfasthash(key) already computed (hv). */
struct hash_entry *hash_find_hashed(const struct hash *h, const char *key, uint32_t hv);
/*
 * Insert key if absent. *entry points at its slot (new or existing); a new slot's value
 * is NULL. Returns 1 if inserted, 0 if it was there, -ENOMEM. The pointer is valid until
 * the next insertion.
 */
int hash_insert(struct hash *h, const char *key, struct hash_entry **entry);
/* The same with superfasthash(key) already computed (hv), e.g. on another thread. */
int hash_insert_hashed(struct hash *h, const char *key, uint32_t hv,
		       struct hash_entry **entry);
/* Insert or replace. 0 or -ENOMEM. */
int hash_set(struct hash *h, const char *key, void *value);
int hash_reserve(struct hash *h, size_t count);
/* Remove key; true if it was there. */
bool hash_remove(struct hash *h, const char *key);
/* Remove the entry hash_find_entry() gave. */
void hash_remove_entry(struct hash *h, struct hash_entry *e);
void hash_release(struct hash *h);

/*
 * Orders two keys the way kmod's hash table with n_buckets buckets iterates them:
 * by bucket, then by strcmp within a bucket. n_buckets must be a power of two.
 */
int hash_kmod_order_cmp(const char *a, const char *b, uint32_t n_buckets);
