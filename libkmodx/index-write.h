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
/* Maps a value's priority in place: 1 keeps the value, 0 drops it, < 0 stops. */
typedef int (*trie_map_fn)(void *data, uint32_t *priority);
/*
 * The trie of an index file as trie_serialize() writes it in pre-order, to change: img
 * must be writable and outlive the trie, whose nodes are read from it only as keys are
 * added or visited; the rest is copied from it by trie_serialize(). map gives each
 * value's priority as it leaves the image, and drops the values it returns 0 for: the
 * keys of those must be visited (else trie_serialize() fails with -EBADMSG), and the
 * priorities of the keys not visited must stay in order. Then the trie has the shape
 * adding only the kept values gives. 0, -ENOMEM or -EBADMSG, here or from any later
 * call, when img is not such a file.
 */
int trie_open(struct trie **t, uint8_t *img, size_t len, trie_map_fn map, void *data);
/* Read the nodes on key's path (a key the trie may not have): 0 or an error as above. */
int trie_visit(struct trie *t, const char *key);
/* The same, and every value of key dropped (in a trie from trie_new() too). */
int trie_drop(struct trie *t, const char *key);
/* The whole index file image, malloc'ed. */
int trie_serialize(struct trie *t, enum index_layout layout, uint8_t **out, size_t *len);
