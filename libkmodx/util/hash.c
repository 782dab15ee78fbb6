// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/*
 * Paul Hsieh's SuperFastHash, with the same 16-bit reads in host byte order as kmod's,
 * so that hash_kmod_order_cmp() matches kmod's iteration order on the same host.
 */
static inline uint32_t get16(const char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t superfasthash(const char *key, size_t len)
{
	uint32_t h = (uint32_t)len, t;
	size_t rem = len & 3;

	for (size_t n = len >> 2; n > 0; n--, key += 4) {
		h += get16(key);
		t = (get16(key + 2) << 11) ^ h;
		h = (h << 16) ^ t;
		h += h >> 11;
	}
	switch (rem) {
	case 3:
		h += get16(key);
		h ^= h << 16;
		h ^= (uint32_t)(signed char)key[2] << 18;
		h += h >> 11;
		break;
	case 2:
		h += get16(key);
		h ^= h << 11;
		h += h >> 17;
		break;
	case 1:
		h += (uint32_t)(signed char)key[0];
		h ^= h << 10;
		h += h >> 1;
		break;
	}
	h ^= h << 3;
	h += h >> 5;
	h ^= h << 4;
	h += h >> 17;
	h ^= h << 25;
	h += h >> 6;
	return h;
}

/* 64-bit multiply-rotate mixing over four independent lanes, so that the multiplier's
 * latency overlaps: a few GB/s, enough to check a cache of megabytes in a fraction of a
 * millisecond. */
#define H64_K1 0x9e3779b185ebca87ull
#define H64_K2 0xc2b2ae3d27d4eb4full
#define H64_K3 0x165667b19e3779f9ull

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t h64_round(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * H64_K2, 31) * H64_K1;
}

uint64_t hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t lane[4] = {seed + H64_K1, seed ^ H64_K2, seed - H64_K3, ~seed};
	uint64_t h, tail[4] = {0, 0, 0, 0};
	uint64_t total = len;
	size_t rest;

	for (; len >= 32; len -= 32, p += 32) {
		for (unsigned i = 0; i < 4; i++)
			lane[i] = h64_round(lane[i], get64(p + 8 * i));
	}
	rest = len;
	if (rest > 0)
		memcpy(tail, p, rest);
	for (unsigned i = 0; i < 4; i++)
		lane[i] = h64_round(lane[i], tail[i]);
	h = rotl64(lane[0], 1) + rotl64(lane[1], 7) + rotl64(lane[2], 12) +
	    rotl64(lane[3], 18);
	h ^= total * H64_K3;
	h ^= h >> 33;
	h *= H64_K2;
	h ^= h >> 29;
	h *= H64_K3;
	h ^= h >> 32;
	return h;
}

uint64_t hash64_small(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * H64_K3), w = 0;

	for (; len >= 8; len -= 8, p += 8)
		h = h64_round(h, get64(p));
	if (len > 0)
		memcpy(&w, p, len);
	h = h64_round(h, w);
	h ^= h >> 29;
	h *= H64_K3;
	return h ^ (h >> 32);
}

void hash64_init(struct hash64_stream *s, uint64_t seed)
{
	s->h = seed;
	s->n = 0;
}

void hash64_feed(struct hash64_stream *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t k;

		if (s->n == 0 && len >= HASH64_BLOCK) {
			/* whole blocks straight from the caller's memory */
			s->h = hash64(p, HASH64_BLOCK, s->h);
			p += HASH64_BLOCK;
			len -= HASH64_BLOCK;
			continue;
		}
		k = MIN(len, HASH64_BLOCK - s->n);
		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n == HASH64_BLOCK) {
			s->h = hash64(s->buf, HASH64_BLOCK, s->h);
			s->n = 0;
		}
	}
}

uint64_t hash64_final(const struct hash64_stream *s)
{
	return hash64(s->buf, s->n, s->h);
}

int hash_kmod_order_cmp(const char *a, const char *b, uint32_t n_buckets)
{
	uint32_t ba = superfasthash(a, strlen(a)) & (n_buckets - 1);
	uint32_t bb = superfasthash(b, strlen(b)) & (n_buckets - 1);

	if (ba != bb)
		return ba < bb ? -1 : 1;
	return strcmp(a, b);
}

static uint32_t hash_of(const char *key)
{
	return superfasthash(key, strlen(key));
}

struct hash_entry *hash_find_entry(const struct hash *h, const char *key)
{
	return h->n_slots ? hash_find_hashed(h, key, hash_of(key)) : NULL;
}

struct hash_entry *hash_find_hashed(const struct hash *h, const char *key, uint32_t hv)
{
	if (h->n_slots == 0)
		return NULL;
	for (size_t i = hv & (h->n_slots - 1);; i = (i + 1) & (h->n_slots - 1)) {
		struct hash_entry *e = &h->slots[i];

		if (e->key == NULL)
			return NULL;
		if (e->hash == hv && streq(e->key, key))
			return e;
	}
}

void *hash_find(const struct hash *h, const char *key)
{
	struct hash_entry *e = hash_find_entry(h, key);

	return e ? e->value : NULL;
}

static int rehash(struct hash *h, size_t n_slots)
{
	struct hash_entry *old = h->slots;
	size_t old_n = h->n_slots, size;

	/* calloc(): a large table comes in fresh pages that only the slots probed ever
	 * fault in. Clearing it here instead (malloc() and memset(), which the compiler
	 * also turns back into calloc() unless stopped) was measured slower: 8-11 ms
	 * more for a full depmod run, nothing gained for an incremental one. */
	if (mul_overflows(n_slots, sizeof(*h->slots), &size) ||
	    (h->slots = calloc(1, size)) == NULL) {
		h->slots = old;
		return -ENOMEM;
	}
	h->n_slots = n_slots;
	for (size_t i = 0; i < old_n; i++) {
		size_t j;

		if (old[i].key == NULL)
			continue;
		for (j = old[i].hash & (n_slots - 1); h->slots[j].key; j = (j + 1) & (n_slots - 1))
			;
		h->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int hash_reserve(struct hash *h, size_t count)
{
	size_t n = h->n_slots ? h->n_slots : 16;

	while (n / 2 < count) {
		if (mul_overflows(n, 2, &n))
			return -ENOMEM;
	}
	return n == h->n_slots ? 0 : rehash(h, n);
}

int hash_insert(struct hash *h, const char *key, struct hash_entry **entry)
{
	return hash_insert_hashed(h, key, hash_of(key), entry);
}

int hash_insert_hashed(struct hash *h, const char *key, uint32_t hv,
		       struct hash_entry **entry)
{
	size_t i;
	int r;

	r = hash_reserve(h, h->count + 1);
	if (r < 0)
		return r;
	for (i = hv & (h->n_slots - 1); h->slots[i].key; i = (i + 1) & (h->n_slots - 1)) {
		if (h->slots[i].hash == hv && streq(h->slots[i].key, key)) {
			*entry = &h->slots[i];
			return 0;
		}
	}
	h->slots[i].key = key;
	h->slots[i].value = NULL;
	h->slots[i].hash = hv;
	h->count++;
	*entry = &h->slots[i];
	return 1;
}

int hash_set(struct hash *h, const char *key, void *value)
{
	struct hash_entry *e;
	int r = hash_insert(h, key, &e);

	if (r < 0)
		return r;
	e->key = key;
	e->value = value;
	return 0;
}

bool hash_remove(struct hash *h, const char *key)
{
	struct hash_entry *e = hash_find_entry(h, key);

	if (e == NULL)
		return false;
	hash_remove_entry(h, e);
	return true;
}

void hash_remove_entry(struct hash *h, struct hash_entry *e)
{
	size_t mask = h->n_slots - 1, i, j;

	/* backward-shift deletion keeps every probe chain unbroken */
	i = (size_t)(e - h->slots);
	for (j = (i + 1) & mask; h->slots[j].key; j = (j + 1) & mask) {
		size_t home = h->slots[j].hash & mask;

		/* move j into the hole at i unless its home lies cyclically in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i].key = NULL;
	h->slots[i].value = NULL;
	h->count--;
}

void hash_release(struct hash *h)
{
	free(h->slots);
	h->slots = NULL;
	h->n_slots = h->count = 0;
}
