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
	/* serialisation scratch */
	uint32_t offset;
};

struct trie {
	struct arena arena;
	struct tnode *root;
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

/* ---- a trie from an index file: the previous run's, to change rather than rebuild ---- */

struct loader {
	struct trie *t;
	uint8_t *img;
	size_t len;
	size_t next; /* where the next node must start: the file is laid out in pre-order */
	size_t key;  /* the length of the current node's key */
};

/* The node ref points at, and its subtrees: -EBADMSG unless it is exactly where a
 * pre-order writer puts it and within the file. */
static int load_node(struct loader *l, uint32_t ref, bool root, struct tnode **out)
{
	size_t off = ref & INDEX_NODE_MASK, key = l->key;
	uint8_t *p, *end = l->img + l->len;
	struct tnode *n;
	uint8_t first = 0, last = 0, *table = NULL;

	if (off != l->next || off >= l->len || (ref & ~INDEX_NODE_MASK & ~(INDEX_NODE_PREFIX |
			INDEX_NODE_CHILDS | INDEX_NODE_VALUES)))
		return -EBADMSG;
	/* a node stands for a key or parts two: else it is not one that add() makes */
	if (!root && !(ref & (INDEX_NODE_CHILDS | INDEX_NODE_VALUES)))
		return -EBADMSG;
	n = root ? l->t->root : arena_zalloc(&l->t->arena, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	p = l->img + off;
	n->prefix = (char *)"";
	if (ref & INDEX_NODE_PREFIX) {
		uint8_t *z = memchr(p, '\0', (size_t)(end - p));

		if (z == NULL || z == p || root)
			return -EBADMSG;
		n->prefix = (char *)p;
		n->prefix_len = (size_t)(z - p);
		key += n->prefix_len;
		p = z + 1;
	}
	if (key > INDEX_KEY_MAX) /* longer than add() takes */
		return -EBADMSG;
	if (ref & INDEX_NODE_CHILDS) {
		size_t span;

		if (end - p < 2 || p[0] > p[1] || p[1] >= INDEX_CHILDMAX)
			return -EBADMSG;
		first = p[0], last = p[1];
		span = (size_t)(last - first + 1);
		table = p + 2;
		if ((size_t)(end - table) < 4 * span)
			return -EBADMSG;
		for (size_t i = 0; i < span; i++)
			n->n_children += index_get_u32(table + 4 * i) != 0;
		if (n->n_children == 0)
			return -EBADMSG;
		n->children = arena_alloc(&l->t->arena, n->n_children * sizeof(*n->children));
		if (n->children == NULL)
			return -ENOMEM;
		n->cap_children = n->n_children;
		p = table + 4 * span;
	}
	if (ref & INDEX_NODE_VALUES) {
		struct tvalue **tail = &n->values;
		uint32_t count;

		if (end - p < 4 || (count = index_get_u32(p)) == 0)
			return -EBADMSG;
		p += 4;
		for (uint32_t i = 0; i < count; i++) {
			struct tvalue *v = arena_alloc(&l->t->arena, sizeof(*v));
			uint8_t *z = end - p > 4 ? memchr(p + 4, '\0', (size_t)(end - p - 4)) : NULL;

			if (v == NULL)
				return -ENOMEM;
			if (z == NULL || (i > 0 && index_get_u32(p) < (*tail)->priority))
				return -EBADMSG;
			v->priority = index_get_u32(p);
			v->value = (const char *)p + 4;
			v->len = (size_t)(z - p - 4);
			v->next = NULL;
			if (i > 0)
				tail = &(*tail)->next;
			*tail = v;
			p = z + 1;
		}
		n->value_count = count;
	}
	l->next = (size_t)(p - l->img);
	for (size_t i = 0, k = 0; table && i < (size_t)(last - first + 1); i++) {
		uint32_t child = index_get_u32(table + 4 * i);
		int r;

		if (child == 0)
			continue;
		l->key = key + 1;
		r = load_node(l, child, false, &n->children[k].node);
		if (r < 0)
			return r;
		n->children[k++].c = (uint8_t)(first + i);
	}
	*out = n;
	return 0;
}

int trie_load(struct trie **out, uint8_t *img, size_t len)
{
	struct trie *t;
	struct loader l = {.img = img, .len = len, .next = INDEX_HEADER_SIZE};
	int r;

	if (len < INDEX_HEADER_SIZE || index_get_u32(img) != INDEX_MAGIC ||
	    index_get_u32(img + 4) >> 16 != INDEX_VERSION_MAJOR)
		return -EBADMSG;
	r = trie_new(&t);
	if (r < 0)
		return r;
	l.t = t;
	if (len == INDEX_HEADER_SIZE) /* no keys: a root that is not written */
		r = index_get_u32(img + 8) == INDEX_HEADER_SIZE ? 0 : -EBADMSG;
	else
		r = load_node(&l, index_get_u32(img + 8), true, &t->root);
	if (r == 0 && l.next != len && len != INDEX_HEADER_SIZE)
		r = -EBADMSG; /* something after the last node */
	if (r < 0) {
		trie_free(t);
		return r;
	}
	*out = t;
	return 0;
}

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

/* n with its values remapped; NULL if nothing is left of it, or the node that takes its
 * place: a node that is neither a key nor a fork is merged into its only child. */
static struct tnode *remap(struct trie *t, struct tnode *n, trie_map_fn map, void *data,
			   int *err)
{
	uint16_t k = 0;

	for (struct tvalue **pp = &n->values; *pp && *err == 0;) {
		int r = map(data, &(*pp)->priority);

		if (r < 0) {
			*err = r;
		} else if (r == 0) {
			*pp = (*pp)->next;
			n->value_count--;
		} else {
			pp = &(*pp)->next;
		}
	}
	sort_values(n);
	for (uint16_t i = 0; i < n->n_children && *err == 0; i++) {
		struct tnode *c = remap(t, n->children[i].node, map, data, err);

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
		size_t len = n->prefix_len + 1 + c->prefix_len;
		char *prefix = arena_alloc(&t->arena, len + 1);

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

int trie_remap(struct trie *t, trie_map_fn map, void *data)
{
	int err = 0;

	remap(t, t->root, map, data, &err);
	return err;
}

static uint32_t node_flags(const struct tnode *n)
{
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

static void emit(const struct tnode *n, uint8_t *buf)
{
	uint8_t *p = buf + n->offset;

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
	for (uint16_t i = 0; i < n->n_children; i++)
		emit(n->children[i].node, buf);
}

int trie_serialize(struct trie *t, enum index_layout layout, uint8_t **out, size_t *len)
{
	struct tnode *root = t->root;
	uint64_t end = INDEX_HEADER_SIZE;
	uint8_t *buf;
	int r = place(root, &end, layout);

	if (r < 0)
		return r;
	buf = malloc((size_t)end);
	if (buf == NULL)
		return -ENOMEM;
	index_put_u32(buf, INDEX_MAGIC);
	index_put_u32(buf + 4, INDEX_VERSION);
	index_put_u32(buf + 8, root->offset | node_flags(root));
	emit(root, buf);
	*out = buf;
	*len = (size_t)end;
	return 0;
}
