// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Building and serialising module index tries (format: index-format.h).
 *
 * Insertion follows the radix-trie rules that make the shape unique for a set of keys;
 * the order of values within a key is priority order with later insertions first among
 * equals, so that files come out byte-identical to depmod's for the same insertions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index-format.h"
#include "index-write.h"
#include "util/arena.h"
#include "util/macro.h"

struct tvalue {
	struct tvalue *next;
	const char *value;
	size_t len;
	uint32_t priority;
};

struct tchild {
	uint8_t c;
	struct tnode *node;
};

struct tnode {
	char *prefix; /* NUL-terminated at prefix_len */
	size_t prefix_len;
	struct tvalue *values;
	uint32_t value_count;
	struct tchild *children; /* sorted by c */
	uint16_t n_children, cap_children;
	/* from an image (trie_open()): not read yet, its subtree to be copied */
	bool lazy;
	/* from an image: the node's reference there, its subtree's end and key length */
	uint32_t src, src_end, src_key;
	/* serialisation scratch */
	uint32_t offset;
};

struct trie {
	struct arena arena;
	struct tnode *root;
	/* opened from an image: it, and the map of its priorities */
	uint8_t *img;
	size_t img_len;
	trie_map_fn map;
	void *map_data;
	int err; /* the image turned out bad (or memory ran out) reading a node */
	bool dropped; /* trie_drop() emptied a node: to prune */
};

int trie_new(struct trie **out)
{
	struct trie *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->arena.chunk_size = 256 * 1024;
	t->root = arena_zalloc(&t->arena, sizeof(*t->root));
	if (t->root == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->root->prefix = (char *)"";
	*out = t;
	return 0;
}

void trie_free(struct trie *t)
{
	if (t == NULL)
		return;
	arena_release(&t->arena);
	free(t);
}

/* A word at a time: depmod checks every byte of every key and value it indexes. */
static bool ascii7(const char *s, size_t *len)
{
	size_t n = strlen(s), i = 0;
	uint64_t high = 0, w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		high |= w;
	}
	for (; i < n; i++)
		high |= (unsigned char)s[i];
	*len = n;
	return (high & 0x8080808080808080ull) == 0;
}

static struct tnode *child_find(const struct tnode *n, uint8_t c)
{
	/* most nodes have a few children; alias tries have some with dozens */
	uint16_t lo = 0, hi = n->n_children;

	while (hi - lo > 8) {
		uint16_t mid = (uint16_t)((lo + hi) / 2);

		if (n->children[mid].c < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the first child not before c is in [lo, hi] */
	for (; lo < n->n_children && n->children[lo].c <= c; lo++) {
		if (n->children[lo].c == c)
			return n->children[lo].node;
	}
	return NULL;
}

static int child_add(struct trie *t, struct tnode *n, uint8_t c, struct tnode *child)
{
	uint16_t i;

	if (n->n_children == n->cap_children) {
		uint16_t cap = n->cap_children ? n->cap_children * 2 : 2;
		struct tchild *v = arena_alloc(&t->arena, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		if (n->n_children)
			memcpy(v, n->children, n->n_children * sizeof(*v));
		n->children = v;
		n->cap_children = cap;
	}
	for (i = n->n_children; i > 0 && n->children[i - 1].c > c; i--)
		n->children[i] = n->children[i - 1];
	n->children[i].c = c;
	n->children[i].node = child;
	n->n_children++;
	return 0;
}

static int value_add(struct trie *t, struct tnode *n, const char *value, size_t len,
		     uint32_t priority, bool copy)
{
	struct tvalue **pp = &n->values, *v = arena_alloc(&t->arena, sizeof(*v));
	bool duplicate = false;

	if (v == NULL)
		return -ENOMEM;
	for (const struct tvalue *o = n->values; o && !duplicate; o = o->next)
		duplicate = o->len == len && memcmp(o->value, value, len) == 0;
	v->value = copy ? arena_strndup(&t->arena, value, len) : value;
	if (v->value == NULL)
		return -ENOMEM;
	v->len = len;
	v->priority = priority;
	while (*pp && (*pp)->priority < priority)
		pp = &(*pp)->next;
	v->next = *pp;
	*pp = v;
	n->value_count++;
	return duplicate ? 1 : 0;
}

/* Split n at prefix position j: n keeps prefix[0..j) and gets one child holding the rest
 * along with n's values and children. */
static int node_split(struct trie *t, struct tnode *n, size_t j)
{
	struct tnode *rest = arena_zalloc(&t->arena, sizeof(*rest));
	uint8_t edge = (uint8_t)n->prefix[j];

	if (rest == NULL)
		return -ENOMEM;
	rest->prefix = n->prefix + j + 1;
	rest->prefix_len = n->prefix_len - j - 1;
	rest->values = n->values;
	rest->value_count = n->value_count;
	rest->children = n->children;
	rest->n_children = n->n_children;
	rest->cap_children = n->cap_children;
	n->prefix[j] = '\0';
	n->prefix_len = j;
	n->values = NULL;
	n->value_count = 0;
	n->children = NULL;
	n->n_children = n->cap_children = 0;
	return child_add(t, n, edge, rest);
}

/* ---- a trie opened from its file: the previous run's, to change rather than rebuild ----
 *
 * Only the nodes on the paths of keys added or visited are read; the other subtrees are
 * copied from the image when the trie is serialised, their child references moved and
 * their priorities mapped. The image must be exactly what trie_serialize() writes in
 * pre-order: each node, then its children's subtrees in edge order, back to back. Any
 * other layout is -EBADMSG, found while reading a node or copying a subtree.
 */

/* Values in ascending priority, equal ones in the order they have (insertion sort: a
 * node has one or two). */
static void sort_values(struct tnode *n)
{
	struct tvalue *sorted = NULL, *v = n->values;

	while (v) {
		struct tvalue *next = v->next, **pp = &sorted;

		while (*pp && (*pp)->priority <= v->priority)
			pp = &(*pp)->next;
		v->next = *pp;
		*pp = v;
		v = next;
	}
	n->values = sorted;
}

/* The parts of the node ref points at, in [off, end): its prefix (*prefix, its length),
 * child table (*table, first and last edge) and value list (*values), and where it ends
 * (*node_end). -EBADMSG unless they lie within end. */
struct raw_node {
	uint8_t *prefix, *table, *values, *node_end;
	size_t prefix_len;
	uint8_t first, last;
	uint32_t count;
};

static int parse_raw(uint8_t *img, uint32_t ref, size_t end, struct raw_node *rn)
{
	size_t off = ref & INDEX_NODE_MASK;
	uint8_t *p = img + off, *stop = img + end;

	memset(rn, 0, sizeof(*rn));
	if (off >= end || (ref & INDEX_NODE_FLAGS & ~(INDEX_NODE_PREFIX | INDEX_NODE_CHILDS |
							  INDEX_NODE_VALUES)))
		return -EBADMSG;
	if (ref & INDEX_NODE_PREFIX) {
		uint8_t *z = memchr(p, '\0', (size_t)(stop - p));

		if (z == NULL || z == p)
			return -EBADMSG;
		rn->prefix = p;
		rn->prefix_len = (size_t)(z - p);
		p = z + 1;
	}
	if (ref & INDEX_NODE_CHILDS) {
		if (stop - p < 2 || p[0] > p[1] || p[1] >= INDEX_CHILDMAX ||
		    (size_t)(stop - p - 2) < 4 * (size_t)(p[1] - p[0] + 1))
			return -EBADMSG;
		rn->first = p[0], rn->last = p[1];
		rn->table = p + 2;
		p = rn->table + 4 * (size_t)(rn->last - rn->first + 1);
	}
	if (ref & INDEX_NODE_VALUES) {
		if (stop - p < 4 || (rn->count = index_get_u32(p)) == 0)
			return -EBADMSG;
		rn->values = p;
		p += 4;
		for (uint32_t i = 0; i < rn->count; i++) {
			uint8_t *z = stop - p > 4 ? memchr(p + 4, '\0', (size_t)(stop - p - 4)) : NULL;

			if (z == NULL)
				return -EBADMSG;
			p = z + 1;
		}
	}
	rn->node_end = p;
	return 0;
}

/*
 * Walk the children of a node whose bytes end at node_end and whose subtree ends at
 * end: each child's reference and extent to fn. -EBADMSG unless the subtrees follow the
 * node back to back, in edge order, up to end, and each child has values or children
 * (add() makes no other).
 */
typedef int (*child_fn)(void *data, uint8_t edge, uint32_t ref, size_t end, uint8_t *slot);

static int each_child(const struct raw_node *rn, uint8_t *img, size_t end, child_fn fn,
		      void *data)
{
	size_t at = (size_t)(rn->node_end - img), span = rn->table ? rn->last - rn->first + 1u : 0;
	uint32_t prev = 0;
	uint8_t *prev_slot = NULL, prev_edge = 0;
	int r;

	for (size_t i = 0; i < span; i++) {
		uint8_t *slot = rn->table + 4 * i;
		uint32_t ref = index_get_u32(slot);

		if (ref == 0)
			continue;
		if ((ref & INDEX_NODE_MASK) >= end)
			return -EBADMSG; /* beyond the subtree */
		if (!prev && (ref & INDEX_NODE_MASK) != at)
			return -EBADMSG; /* the first child right after the node */
		if (prev) {
			if ((ref & INDEX_NODE_MASK) <= (prev & INDEX_NODE_MASK))
				return -EBADMSG;
			r = fn(data, prev_edge, prev, ref & INDEX_NODE_MASK, prev_slot);
			if (r < 0)
				return r;
		}
		if (!(ref & (INDEX_NODE_CHILDS | INDEX_NODE_VALUES)))
			return -EBADMSG;
		prev = ref, prev_slot = slot, prev_edge = (uint8_t)(rn->first + i);
	}
	if (prev)
		return fn(data, prev_edge, prev, end, prev_slot);
	if (rn->table || (size_t)(rn->node_end - img) != end)
		return -EBADMSG; /* a table of gaps, or something after a leaf */
	return 0;
}

struct reading {
	struct trie *t;
	struct tnode *n;
	uint16_t k;
};

static int add_stub(void *data, uint8_t edge, uint32_t ref, size_t end, uint8_t *slot)
{
	struct reading *rd = data;
	struct tnode *c = arena_zalloc(&rd->t->arena, sizeof(*c));

	(void)slot;
	if (c == NULL)
		return -ENOMEM;
	c->lazy = true;
	c->src = ref;
	c->src_end = (uint32_t)end;
	c->src_key = rd->n->src_key + (uint32_t)rd->n->prefix_len + 1;
	c->prefix = (char *)"";
	rd->n->children[rd->k++] = (struct tchild){edge, c};
	return 0;
}

/* Read lazy node n from the image: its prefix, its values through the map (dropped ones
 * left out), and its children as lazy nodes. */
static int read_lazy(struct trie *t, struct tnode *n)
{
	struct raw_node rn;
	struct tvalue **tail = &n->values;
	struct reading rd = {t, n, 0};
	uint8_t *p;
	int r = parse_raw(t->img, n->src, n->src_end, &rn);

	if (r < 0)
		return r;
	if (rn.prefix) {
		if (n == t->root)
			return -EBADMSG;
		n->prefix = (char *)rn.prefix;
		n->prefix_len = rn.prefix_len;
	}
	if (n->src_key + n->prefix_len > INDEX_KEY_MAX)
		return -EBADMSG; /* longer than add() takes */
	p = rn.values ? rn.values + 4 : NULL;
	for (uint32_t i = 0; i < rn.count; i++) {
		struct tvalue *v = arena_alloc(&t->arena, sizeof(*v));
		uint32_t priority = index_get_u32(p);

		if (v == NULL)
			return -ENOMEM;
		v->value = (const char *)p + 4;
		v->len = strlen(v->value);
		p += 4 + v->len + 1;
		r = t->map(t->map_data, &priority);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		v->priority = priority;
		v->next = NULL;
		*tail = v;
		tail = &v->next;
		n->value_count++;
	}
	sort_values(n);
	if (rn.table) {
		size_t span = rn.last - rn.first + 1u;

		for (size_t i = 0; i < span; i++)
			n->cap_children += index_get_u32(rn.table + 4 * i) != 0;
		n->children = arena_alloc(&t->arena, (n->cap_children ? n->cap_children : 1) *
							     sizeof(*n->children));
		if (n->children == NULL)
			return -ENOMEM;
	}
	r = each_child(&rn, t->img, n->src_end, add_stub, &rd);
	n->n_children = rd.k;
	n->lazy = false;
	return r;
}

/* read_lazy(), whose first failure sticks: the trie is then only half read. */
static int read_node(struct trie *t, struct tnode *n)
{
	if (t->err == 0)
		t->err = read_lazy(t, n);
	return t->err;
}

int trie_open(struct trie **out, uint8_t *img, size_t len, trie_map_fn map, void *data)
{
	struct trie *t;
	int r;

	if (len < INDEX_HEADER_SIZE || len > INDEX_NODE_MASK ||
	    index_get_u32(img) != INDEX_MAGIC ||
	    index_get_u32(img + 4) >> 16 != INDEX_VERSION_MAJOR)
		return -EBADMSG;
	r = trie_new(&t);
	if (r < 0)
		return r;
	t->img = img, t->img_len = len, t->map = map, t->map_data = data;
	if (len > INDEX_HEADER_SIZE) {
		/* (no keys: a root that is not written, and nothing to read) */
		t->root->lazy = true;
		t->root->src = index_get_u32(img + 8);
		t->root->src_end = (uint32_t)len;
		r = (t->root->src & INDEX_NODE_MASK) == INDEX_HEADER_SIZE ? read_node(t, t->root)
									   : -EBADMSG;
	} else if (index_get_u32(img + 8) != INDEX_HEADER_SIZE) {
		r = -EBADMSG;
	}
	if (r < 0) {
		trie_free(t);
		return r;
	}
	*out = t;
	return 0;
}

/* The nodes on key's path read; *found: key's node, or NULL. */
static int find_key(struct trie *t, const char *key, struct tnode **found)
{
	struct tnode *n = t->root;
	size_t i = 0;
	int r;

	*found = NULL;
	for (;;) {
		if (n->lazy && (r = read_node(t, n)) < 0)
			return r;
		if (strncmp(n->prefix, key + i, n->prefix_len) != 0)
			return 0;
		i += n->prefix_len;
		if (key[i] == '\0') {
			*found = n;
			return 0;
		}
		if ((n = child_find(n, (uint8_t)key[i])) == NULL)
			return 0;
		i++;
	}
}

int trie_visit(struct trie *t, const char *key)
{
	struct tnode *n;

	return find_key(t, key, &n);
}

int trie_drop(struct trie *t, const char *key)
{
	struct tnode *n;
	int r = find_key(t, key, &n);

	if (n && n->value_count > 0) {
		n->values = NULL;
		n->value_count = 0;
		t->dropped = true;
	}
	return r;
}

/* Drop the nodes that lost their values and merge those that are neither keys nor
 * forks into their only child: the shape adding only the kept values gives. The node
 * that takes n's place, NULL if none. */
static struct tnode *prune(struct trie *t, struct tnode *n, int *err)
{
	uint16_t k = 0;

	if (n->lazy)
		return n; /* nothing was dropped in there */
	for (uint16_t i = 0; i < n->n_children && *err == 0; i++) {
		struct tnode *c = prune(t, n->children[i].node, err);

		if (c)
			n->children[k++] = (struct tchild){n->children[i].c, c};
	}
	if (*err)
		return NULL;
	n->n_children = k;
	if (n == t->root || n->value_count > 0 || k > 1)
		return n;
	if (k == 1) {
		struct tnode *c = n->children[0].node;
		size_t len;
		char *prefix;

		if (c->lazy && (*err = read_node(t, c)) < 0)
			return NULL;
		len = n->prefix_len + 1 + c->prefix_len;
		prefix = arena_alloc(&t->arena, len + 1);
		if (prefix == NULL) {
			*err = -ENOMEM;
			return NULL;
		}
		memcpy(prefix, n->prefix, n->prefix_len);
		prefix[n->prefix_len] = (char)n->children[0].c;
		memcpy(prefix + n->prefix_len + 1, c->prefix, c->prefix_len + 1);
		c->prefix = prefix;
		c->prefix_len = len;
		return c;
	}
	return NULL;
}

/* A lazy subtree copied to its new place (out, the image's bytes already there, delta
 * further on): child references moved, priorities mapped, everything checked as
 * read_node() would. */
struct copying {
	struct trie *t;
	uint8_t *out;
	int64_t delta;
	uint32_t key;
};

static int copy_node(void *data, uint8_t edge, uint32_t ref, size_t end, uint8_t *slot);

static int copy_subtree(struct copying *cp, uint32_t ref, size_t end)
{
	struct trie *t = cp->t;
	struct raw_node rn;
	uint32_t key = cp->key, last = 0;
	uint8_t *p;
	int r = parse_raw(t->img, ref, end, &rn);

	if (r < 0)
		return r;
	if (key + rn.prefix_len > INDEX_KEY_MAX)
		return -EBADMSG;
	p = rn.values ? rn.values + 4 : NULL;
	for (uint32_t i = 0; i < rn.count; i++) {
		uint32_t priority = index_get_u32(p);
		size_t len = strlen((const char *)p + 4);

		r = t->map(t->map_data, &priority);
		if (r <= 0 || (i > 0 && priority < last))
			return r < 0 ? r : -EBADMSG; /* a value to drop, or out of order */
		index_put_u32(cp->out + (p - t->img) + cp->delta, priority);
		last = priority;
		p += 4 + len + 1;
	}
	cp->key = key + (uint32_t)rn.prefix_len + 1;
	r = each_child(&rn, t->img, end, copy_node, cp);
	cp->key = key;
	return r;
}

static int copy_node(void *data, uint8_t edge, uint32_t ref, size_t end, uint8_t *slot)
{
	struct copying *cp = data;

	(void)edge;
	index_put_u32(cp->out + (slot - cp->t->img) + cp->delta,
		      (uint32_t)((int64_t)ref + cp->delta));
	return copy_subtree(cp, ref, end);
}

static int add(struct trie *t, const char *key, const char *value, uint32_t priority,
	       bool copy)
{
	struct tnode *n = t->root;
	size_t keylen, valuelen, i = 0;
	int r;

	if (!ascii7(key, &keylen) || !ascii7(value, &valuelen))
		return -EILSEQ;
	if (keylen > INDEX_KEY_MAX)
		return -ENAMETOOLONG;
	for (;;) {
		size_t j;
		struct tnode *child;

		if (n->lazy && (r = read_node(t, n)) < 0)
			return r;
		for (j = 0; j < n->prefix_len; j++) {
			if (n->prefix[j] != key[i + j]) {
				r = node_split(t, n, j);
				if (r < 0)
					return r;
				break;
			}
		}
		i += j;
		if (key[i] == '\0')
			return value_add(t, n, value, valuelen, priority, copy);
		child = child_find(n, (uint8_t)key[i]);
		if (child == NULL) {
			child = arena_zalloc(&t->arena, sizeof(*child));
			if (child == NULL)
				return -ENOMEM;
			child->prefix = arena_strndup(&t->arena, key + i + 1, keylen - i - 1);
			if (child->prefix == NULL)
				return -ENOMEM;
			child->prefix_len = keylen - i - 1;
			r = child_add(t, n, (uint8_t)key[i], child);
			if (r < 0)
				return r;
			return value_add(t, child, value, valuelen, priority, copy);
		}
		n = child;
		i++;
	}
}

int trie_add(struct trie *t, const char *key, const char *value, uint32_t priority)
{
	return add(t, key, value, priority, true);
}

int trie_add_static(struct trie *t, const char *key, const char *value, uint32_t priority)
{
	return add(t, key, value, priority, false);
}

static uint32_t node_flags(const struct tnode *n)
{
	if (n->lazy)
		return n->src & INDEX_NODE_FLAGS;
	return (n->prefix_len ? INDEX_NODE_PREFIX : 0) | (n->n_children ? INDEX_NODE_CHILDS : 0) |
	       (n->value_count ? INDEX_NODE_VALUES : 0);
}

static uint64_t node_size(const struct tnode *n)
{
	uint64_t size = 0;

	if (n->prefix_len)
		size += n->prefix_len + 1;
	if (n->n_children) {
		unsigned span = n->children[n->n_children - 1].c - n->children[0].c + 1u;

		size += 2 + 4 * (uint64_t)span;
	}
	if (n->value_count) {
		size += 4;
		for (const struct tvalue *v = n->values; v; v = v->next)
			size += 4 + v->len + 1;
	}
	return size;
}

/* Assign offsets from *end on, one walk: pre-order puts a node before its subtrees,
 * post-order after them. *end moves past the subtree; -EFBIG beyond the 28-bit offset
 * space. */
static int place(struct tnode *n, uint64_t *end, enum index_layout layout)
{
	if (n->lazy) { /* its subtree as it is in the image (pre-order only) */
		n->offset = (uint32_t)*end;
		*end += n->src_end - (n->src & INDEX_NODE_MASK);
		return layout != INDEX_PREORDER ? -EINVAL : *end > INDEX_NODE_MASK ? -EFBIG : 0;
	}
	if (layout == INDEX_PREORDER) {
		n->offset = (uint32_t)*end;
		*end += node_size(n);
	}
	for (uint16_t i = 0; i < n->n_children; i++) {
		int r = place(n->children[i].node, end, layout);

		if (r < 0)
			return r;
	}
	if (layout == INDEX_POSTORDER) {
		n->offset = (uint32_t)*end;
		*end += node_size(n);
	}
	return *end > INDEX_NODE_MASK ? -EFBIG : 0;
}

static int emit(const struct trie *t, const struct tnode *n, uint8_t *buf)
{
	uint8_t *p = buf + n->offset;
	int r = 0;

	if (n->lazy) {
		size_t from = n->src & INDEX_NODE_MASK;
		struct copying cp = {(struct trie *)t, buf, (int64_t)n->offset - (int64_t)from,
				     n->src_key};

		memcpy(p, t->img + from, n->src_end - from);
		return copy_subtree(&cp, n->src, n->src_end);
	}

	if (n->prefix_len) {
		memcpy(p, n->prefix, n->prefix_len + 1);
		p += n->prefix_len + 1;
	}
	if (n->n_children) {
		uint8_t first = n->children[0].c, last = n->children[n->n_children - 1].c;

		*p++ = first;
		*p++ = last;
		memset(p, 0, 4 * (size_t)(last - first + 1));
		for (uint16_t i = 0; i < n->n_children; i++) {
			const struct tnode *c = n->children[i].node;

			index_put_u32(p + 4 * (size_t)(n->children[i].c - first),
				      c->offset | node_flags(c));
		}
		p += 4 * (size_t)(last - first + 1);
	}
	if (n->value_count) {
		index_put_u32(p, n->value_count);
		p += 4;
		for (const struct tvalue *v = n->values; v; v = v->next) {
			index_put_u32(p, v->priority);
			memcpy(p + 4, v->value, v->len + 1);
			p += 4 + v->len + 1;
		}
	}
	for (uint16_t i = 0; i < n->n_children && r == 0; i++)
		r = emit(t, n->children[i].node, buf);
	return r;
}

int trie_serialize(struct trie *t, enum index_layout layout, uint8_t **out, size_t *len)
{
	struct tnode *root = t->root;
	uint64_t end = INDEX_HEADER_SIZE;
	uint8_t *buf;
	int r = 0;

	if (t->img || t->dropped)
		prune(t, root, &r);
	if (r == 0)
		r = t->err;
	if (r == 0)
		r = place(root, &end, layout);
	if (r < 0)
		return r;
	buf = malloc((size_t)end);
	if (buf == NULL)
		return -ENOMEM;
	index_put_u32(buf, INDEX_MAGIC);
	index_put_u32(buf + 4, INDEX_VERSION);
	index_put_u32(buf + 8, root->offset | node_flags(root));
	r = emit(t, root, buf);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = (size_t)end;
	return 0;
}
