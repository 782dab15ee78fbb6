// SPDX-License-Identifier: GPL-2.0-or-later
/* The .bin index reader: exact and wildcard lookups of keys taken from the input, and a
 * walk of everything; and the writer's trie_open() of the same file (depmod's cache
 * changes the last run's index through it): keys visited and added, written out. Must
 * never crash, loop or read outside the file. */
#include "fuzz.h"
#include "index-write.h"
#include "index.h"

static int visit(void *data, const char *key, const char *value, uint32_t prio)
{
	size_t *n = data;

	*n += strlen(key) + strlen(value) + prio;
	return 0;
}

/* Every other priority dropped: what depmod does to the values of modules gone. */
static int drop_odd(void *data, uint32_t *priority)
{
	(void)data;
	return *priority & 1 ? 0 : 1;
}

static void reopen(const uint8_t *data, size_t size, const char *const *keys, size_t n_keys)
{
	uint8_t *copy = malloc(size ? size : 1), *out;
	struct trie *t = NULL;
	size_t len;

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	if (trie_open(&t, copy, size, drop_odd, NULL) == 0) {
		for (size_t i = 0; i < n_keys; i++)
			trie_visit(t, keys[i]);
		trie_add(t, "pci:v00008086d*", "added", 2);
		if (trie_serialize(t, INDEX_PREORDER, &out, &len) == 0)
			free(out);
		trie_free(t);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"", "a", "ab", "one", "pci:v00008086d00001502sv0sd0",
					   "usb:v1234p5678d0100dc00dsc00dp00ic03isc01ip02in00",
					   "symbol:foo", "[", "*"};
	struct index_values vals = {0};
	struct index *idx;
	uint8_t *copy;
	const char *v;
	size_t n = 0;

	reopen(data, size, keys, sizeof(keys) / sizeof(keys[0]));
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (index_open_buffer(copy, size, &idx) < 0) {
		free(copy);
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		index_search(idx, keys[i], &v);
		index_search_wild(idx, keys[i], &vals);
		index_values_release(&vals);
	}
	index_foreach(idx, visit, &n);
	index_close(idx);
	return 0;
}
