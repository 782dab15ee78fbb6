/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building module index tries in memory and serialising them (index-format.h). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct trie;

enum index_layout {
	INDEX_PREORDER,  /* kmod >= 34 */
	INDEX_POSTORDER, /* kmod <= 33 */
};

int trie_new(struct trie **t);
void trie_free(struct trie *t);
/* Copies key and value. 1 if the key already had that value (kept anyway, as depmod
 * does), 0, or -EILSEQ for a byte >= 0x80, -ENAMETOOLONG, -ENOMEM. */
int trie_add(struct trie *t, const char *key, const char *value, uint32_t priority);
/* The same, but value is not copied: it must live as long as the trie. */
int trie_add_static(struct trie *t, const char *key, const char *value,
		    uint32_t priority);
/* The whole index file image, malloc'ed. */
int trie_serialize(struct trie *t, enum index_layout layout, uint8_t **out, size_t *len);
