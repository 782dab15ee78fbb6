/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The module index format (modules.dep.bin, modules.alias.bin, modules.symbols.bin,
 * modules.builtin.bin, modules.builtin.alias.bin), shared by kmod and module-init-tools.
 * This is the one definition of it in kmodx: index.c reads it, index-write.c writes it.
 *
 * All integers are 32-bit big-endian. Strings are NUL-terminated, unaligned, and 7-bit
 * ASCII.
 *
 *   offset 0   u32 magic    0xB007F457
 *   offset 4   u32 version  0x00020001 (major 2 in the high half; readers ignore minor)
 *   offset 8   u32 root node reference
 *   offset 12  nodes
 *
 * A node reference carries the node's flags in its top bits and the node's file offset
 * in the low 28 bits (offset 0 = no node):
 *
 *   0x80000000 PREFIX  the node starts with a non-empty NUL-terminated prefix
 *   0x20000000 CHILDS  a child table follows: u8 first, u8 last (first <= last < 128),
 *                      then (last - first + 1) u32 child references, 0 for a gap
 *   0x40000000 VALUES  a value list follows: u32 count (>= 1), then count times
 *                      { u32 priority; NUL-terminated value }
 *
 * The trie is a radix tree: the key of a node is its parent's key, plus the edge byte
 * (the child's index in the parent's table), plus the node's own prefix; the root has
 * an empty prefix. A node with values stands for its key. Values are kept in ascending
 * priority; a value inserted with a priority equal to existing ones goes before them.
 *
 * kmod up to 33 (and kmod 30, Debian bookworm's) writes nodes in post-order (children
 * before parents, root last); kmod 34 writes pre-order (root at offset 12, each node
 * followed by its children's subtrees in ascending edge order). Both read either.
 */
#pragma once

#include <stdint.h>

#define INDEX_MAGIC         0xB007F457u
#define INDEX_VERSION_MAJOR 0x0002u
#define INDEX_VERSION_MINOR 0x0001u
#define INDEX_VERSION       ((INDEX_VERSION_MAJOR << 16) | INDEX_VERSION_MINOR)
#define INDEX_HEADER_SIZE   12u

#define INDEX_NODE_PREFIX  0x80000000u
#define INDEX_NODE_VALUES  0x40000000u
#define INDEX_NODE_CHILDS  0x20000000u
#define INDEX_NODE_FLAGS   0xF0000000u
#define INDEX_NODE_MASK    0x0FFFFFFFu
#define INDEX_CHILDMAX     128u

/* Longest key the reader follows: deeper means a corrupt or hostile file. */
#define INDEX_KEY_MAX 4096u

static inline uint32_t index_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void index_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
