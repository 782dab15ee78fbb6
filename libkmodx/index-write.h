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
/* The trie of an index file written in pre-order (trie_serialize() with INDEX_PREORDER):
 * -EBADMSG if img is not exactly such a file, -ENOMEM. Prefixes and values stay in img,
 * which must be writable and outlive the trie: trie_add() may cut a prefix in two. */
int trie_load(struct trie **t, uint8_t *img, size_t len);
/* Maps a value's priority in place: 1 keeps the value, 0 drops it, < 0 stops. */
typedef int (*trie_map_fn)(void *data, uint32_t *priority);
/* Every value through map, then the values of each key in ascending priority (equal
 * ones keep their order) and the trie reshaped as if the dropped values had never been
 * added: trie_add() goes on from there. 0 or map's error, -ENOMEM. */
int trie_remap(struct trie *t, trie_map_fn map, void *data);
/* The whole index file image, malloc'ed. */
int trie_serialize(struct trie *t, enum index_layout layout, uint8_t **out, size_t *len);
