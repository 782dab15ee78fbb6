// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index-format.h"
#include "index.h"
#include "util/glob.h"
#include "util/macro.h"
#include "util/strbuf.h"

struct index {
	const uint8_t *mem;
	size_t size;
	bool mapped;
	uint32_t root;
};

struct node {
	const char *prefix; /* "" if none */
	size_t prefix_len;
	uint8_t first, last;
	const uint8_t *children; /* NULL if none */
	uint32_t value_count;
	const uint8_t *values; /* first value record */
};

/* A budget of node visits for whole-subtree walks: a well-formed index has fewer nodes
 * than bytes, so more visits than bytes means a loop or shared subtrees. */
struct walk {
	const struct index *idx;
	size_t budget;
};

static int index_check_header(const uint8_t *mem, size_t size, uint32_t *root)
{
	if (size < INDEX_HEADER_SIZE)
		return -EBADMSG;
	if (index_get_u32(mem) != INDEX_MAGIC)
		return -EBADMSG;
	if ((index_get_u32(mem + 4) >> 16) != INDEX_VERSION_MAJOR)
		return -EBADMSG;
	*root = index_get_u32(mem + 8);
	return 0;
}

int index_open_buffer(uint8_t *buf, size_t size, struct index **out)
{
	struct index *idx;
	uint32_t root;
	int r = index_check_header(buf, size, &root);

	if (r < 0)
		return r;
	idx = calloc(1, sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	idx->mem = buf;
	idx->size = size;
	idx->root = root;
	*out = idx;
	return 0;
}

int index_open(const char *path, struct index **out)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct index *idx;
	struct stat st;
	uint32_t root;
	void *mem;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_size == 0)
		return -ENODATA; /* what kmod's depmod leaves when an input was missing */
	if (st.st_size < (off_t)INDEX_HEADER_SIZE || (uint64_t)st.st_size > INDEX_NODE_MASK)
		return -EBADMSG;
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	r = index_check_header(mem, (size_t)st.st_size, &root);
	idx = r < 0 ? NULL : calloc(1, sizeof(*idx));
	if (idx == NULL) {
		munmap(mem, (size_t)st.st_size);
		return r < 0 ? r : -ENOMEM;
	}
	idx->mem = mem;
	idx->size = (size_t)st.st_size;
	idx->mapped = true;
	idx->root = root;
	*out = idx;
	return 0;
}

void index_close(struct index *idx)
{
	if (idx == NULL)
		return;
	if (idx->mapped)
		munmap((void *)idx->mem, idx->size);
	else
		free((void *)idx->mem);
	free(idx);
}

/* Parse the node a reference points to, checking it lies inside the file. */
static int read_node(const struct index *idx, uint32_t ref, struct node *n)
{
	size_t off = ref & INDEX_NODE_MASK, end = idx->size;

	memset(n, 0, sizeof(*n));
	n->prefix = "";
	if ((ref & INDEX_NODE_FLAGS) == 0)
		return 0; /* an empty node (the root of an empty index) has no bytes */
	if (off < INDEX_HEADER_SIZE || off >= end || (ref & 0x10000000u))
		return -EBADMSG;
	if (ref & INDEX_NODE_PREFIX) {
		const char *p = (const char *)idx->mem + off;
		const char *nul = memchr(p, '\0', end - off);

		if (nul == NULL || nul == p)
			return -EBADMSG;
		n->prefix = p;
		n->prefix_len = (size_t)(nul - p);
		off += n->prefix_len + 1;
	}
	if (ref & INDEX_NODE_CHILDS) {
		if (end - off < 2)
			return -EBADMSG;
		n->first = idx->mem[off];
		n->last = idx->mem[off + 1];
		if (n->first > n->last || n->last >= INDEX_CHILDMAX)
			return -EBADMSG;
		off += 2;
		if ((end - off) / 4 < (size_t)(n->last - n->first + 1))
			return -EBADMSG;
		n->children = idx->mem + off;
		off += 4 * (size_t)(n->last - n->first + 1);
	}
	if (ref & INDEX_NODE_VALUES) {
		if (end - off < 4)
			return -EBADMSG;
		n->value_count = index_get_u32(idx->mem + off);
		off += 4;
		/* each value takes at least 5 bytes */
		if (n->value_count == 0 || n->value_count > (end - off) / 5)
			return -EBADMSG;
		n->values = idx->mem + off;
	}
	return 0;
}

/* The child reference for byte c, 0 if none. */
static uint32_t child_ref(const struct node *n, unsigned char c)
{
	if (n->children == NULL || c < n->first || c > n->last)
		return 0;
	return index_get_u32(n->children + 4 * (size_t)(c - n->first));
}

/* Read one value record at *p, advancing it; checks the string ends inside the file. */
static int read_value(const struct index *idx, const uint8_t **p, struct index_value *v)
{
	size_t off = (size_t)(*p - idx->mem);
	const char *s, *nul;

	if (idx->size - off < 5)
		return -EBADMSG;
	v->priority = index_get_u32(*p);
	s = (const char *)*p + 4;
	nul = memchr(s, '\0', idx->size - off - 4);
	if (nul == NULL)
		return -EBADMSG;
	v->value = s;
	*p = (const uint8_t *)nul + 1;
	return 0;
}

int index_search(const struct index *idx, const char *key, const char **value)
{
	uint32_t ref = idx->root;

	for (;;) {
		struct node n;
		struct index_value v;
		int r = read_node(idx, ref, &n);

		if (r < 0)
			return r;
		if (strncmp(n.prefix, key, n.prefix_len) != 0)
			return -ENOENT;
		key += n.prefix_len;
		if (*key == '\0') {
			if (n.value_count == 0)
				return -ENOENT;
			r = read_value(idx, &n.values, &v);
			if (r < 0)
				return r;
			*value = v.value;
			return 0;
		}
		ref = child_ref(&n, (unsigned char)*key);
		if ((ref & INDEX_NODE_MASK) == 0)
			return -ENOENT;
		key++;
	}
}

/* Insert keeping ascending priority; an equal priority goes before the existing ones. */
static int values_insert(struct index_values *out, const char *value, uint32_t priority)
{
	size_t i;

	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct index_value *v = realloc(out->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	for (i = 0; i < out->n && out->v[i].priority < priority; i++)
		;
	memmove(out->v + i + 1, out->v + i, (out->n - i) * sizeof(*out->v));
	out->v[i].value = value;
	out->v[i].priority = priority;
	out->n++;
	return 0;
}

void index_values_release(struct index_values *vals)
{
	free(vals->v);
	vals->v = NULL;
	vals->n = vals->cap = 0;
}

static int take_values(const struct index *idx, const struct node *n, struct index_values *out)
{
	const uint8_t *p = n->values;

	for (uint32_t i = 0; i < n->value_count; i++) {
		struct index_value v;
		int r = read_value(idx, &p, &v);

		if (r == 0)
			r = values_insert(out, v.value, v.priority);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A key buffer that could not grow: a key longer than any real one means a corrupt
 * file, but running out of memory is not the file's fault. */
static int key_error(int r)
{
	return r == -ENOMEM ? r : -EBADMSG;
}

/*
 * Wildcard search. Below a '*', '?' or '[' every key of the subtree is a glob pattern to
 * match against what remains of the query (the subject). Rather than building each
 * pattern and matching it at its value node, the walk carries the set of subject
 * positions the pattern so far can have consumed up to (bit i: the next subject byte to
 * match is subject[i]); each byte of the trie updates the set exactly as fnmatch()
 * would ('*' every position from the first on, '?' one more byte, a literal where the
 * subject has it, a bracket expression where it matches once its ']' is read), so a
 * subtree whose set is empty is left, and a value node matches when the set holds the
 * subject's end. What the sets cannot follow (a backslash, a bracket glob_match()
 * hands to fnmatch(), a subject longer than SET_BITS) falls back to glob_match() on the
 * whole pattern at each value node below, which is what kmod does everywhere.
 */
#define SET_WORDS 16
#define SET_BITS  (SET_WORDS * 64 - 1)

struct posset {
	uint64_t w[SET_WORDS];
};

enum wild_mode { WILD_SET, WILD_BRACKET, WILD_FALLBACK };

struct wild_state {
	struct posset set;
	enum wild_mode mode;
	size_t bracket; /* WILD_BRACKET: where its '[' is in the pattern */
};

struct wild {
	struct walk walk;
	const char *subject;
	size_t len, words;
	uint8_t slot[256];  /* 1 + the byte's row in masks, 0 if not in the subject */
	uint8_t bytes[256]; /* the subject's distinct bytes, by row */
	size_t n_bytes;
	uint64_t *masks; /* per distinct byte: the positions where the subject has it */
	struct strbuf pattern;
	struct index_values *out;
};

static uint64_t *mask_of(const struct wild *wd, unsigned char c)
{
	return wd->slot[c] ? wd->masks + (size_t)(wd->slot[c] - 1) * wd->words : NULL;
}

/* The position sets need a mask of each byte of the subject; NULL-free on -ENOMEM. */
static int wild_init(struct wild *wd, const char *subject)
{
	wd->subject = subject;
	wd->len = strlen(subject);
	wd->words = wd->len / 64 + 1;
	memset(wd->slot, 0, sizeof(wd->slot));
	wd->n_bytes = 0;
	wd->masks = NULL;
	if (wd->len > SET_BITS - 1)
		return 0; /* too long to follow: every subtree falls back */
	for (size_t i = 0; i < wd->len; i++) {
		unsigned char c = (unsigned char)subject[i];

		if (wd->slot[c] == 0) {
			wd->bytes[wd->n_bytes] = c;
			wd->slot[c] = (uint8_t)++wd->n_bytes;
		}
	}
	wd->masks = calloc(wd->n_bytes + 1, wd->words * sizeof(uint64_t));
	if (wd->masks == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < wd->len; i++)
		mask_of(wd, (unsigned char)subject[i])[i / 64] |= UINT64_C(1) << (i % 64);
	return 0;
}

static bool set_empty(const struct wild *wd, const struct posset *s)
{
	for (size_t i = 0; i < wd->words; i++) {
		if (s->w[i])
			return false;
	}
	return true;
}

/* Keep the positions in mask (NULL: none), each then one byte further. */
static void set_step(const struct wild *wd, struct posset *s, const uint64_t *mask)
{
	uint64_t carry = 0;

	for (size_t i = 0; i < wd->words; i++) {
		uint64_t v = mask ? s->w[i] & mask[i] : 0;

		s->w[i] = v << 1 | carry;
		carry = v >> 63;
	}
}

/* Every position from the first one in the set to the subject's end. */
static void set_star(const struct wild *wd, struct posset *s)
{
	bool on = false;

	for (size_t i = 0; i < wd->words; i++) {
		uint64_t first = s->w[i] & -s->w[i];

		s->w[i] = on ? ~UINT64_C(0) : first ? ~(first - 1) : 0;
		on = on || first;
	}
	s->w[wd->len / 64] &= ~UINT64_C(0) >> (63 - wd->len % 64);
}

/* Positions before the end (any byte can be taken there). */
static void set_any(const struct wild *wd, struct posset *s)
{
	struct posset all = {0};

	for (size_t i = 0; i < wd->len; i++)
		all.w[i / 64] |= UINT64_C(1) << (i % 64);
	set_step(wd, s, all.w);
}

/* The bracket expression just closed by a ']': its bytes of the subject. */
static void wild_bracket(struct wild *wd, struct wild_state *st)
{
	const char *p = strbuf_str(&wd->pattern) + st->bracket + 1, *end = NULL;
	struct posset class = {0};

	for (size_t b = 0; b < wd->n_bytes; b++) {
		int m = glob_bracket(p, wd->bytes[b], &end);

		if (m < 0 || end != strbuf_str(&wd->pattern) + wd->pattern.len) {
			st->mode =
				WILD_FALLBACK; /* glob_match() decides, via fnmatch() */
			return;
		}
		for (size_t i = 0; m && i < wd->words; i++)
			class.w[i] |= mask_of(wd, wd->bytes[b])[i];
	}
	set_step(wd, &st->set, class.w);
	st->mode = WILD_SET;
}

/* The pattern grew by byte c (already appended): false if nothing below can match. */
static bool wild_feed(struct wild *wd, struct wild_state *st, char c)
{
	size_t in_bracket;

	switch (st->mode) {
	case WILD_FALLBACK:
		return true;
	case WILD_BRACKET:
		/* a ']' first in the expression (after '!' or '^') is a member */
		in_bracket = wd->pattern.len - st->bracket - 2;
		if (c == ']' && in_bracket > 0 &&
		    !(in_bracket == 1 && strchr("!^", wd->pattern.buf[st->bracket + 1])))
			wild_bracket(wd, st);
		break;
	case WILD_SET:
		if (c == '*')
			set_star(wd, &st->set);
		else if (c == '?')
			set_any(wd, &st->set);
		else if (c == '[') {
			st->mode = WILD_BRACKET;
			st->bracket = wd->pattern.len - 1;
		} else if (c == '\\')
			st->mode = WILD_FALLBACK;
		else
			set_step(wd, &st->set, mask_of(wd, (unsigned char)c));
		break;
	}
	return st->mode != WILD_SET || !set_empty(wd, &st->set);
}

static bool wild_matches(struct wild *wd, const struct wild_state *st)
{
	if (st->mode != WILD_SET)
		return glob_match(strbuf_str(&wd->pattern), wd->subject);
	return st->set.w[wd->len / 64] >> (wd->len % 64) & 1;
}

/* The bytes of a node's prefix, fed one by one; false if the subtree cannot match. */
static int wild_prefix(struct wild *wd, const struct node *n, size_t skip,
		       struct wild_state *st, bool *alive)
{
	int r;

	if (skip > n->prefix_len)
		return -EBADMSG;
	*alive = true;
	for (size_t i = skip; i < n->prefix_len && *alive; i++) {
		r = strbuf_putc(&wd->pattern, n->prefix[i]);
		if (r < 0 || wd->pattern.len > INDEX_KEY_MAX)
			return key_error(r);
		*alive = wild_feed(wd, st, n->prefix[i]);
	}
	return 0;
}

/* Matching values are taken after the children, as libkmod does, which only matters
 * for the order of equal priorities. */
static int wild_subtree(struct wild *wd, uint32_t ref, size_t skip, struct wild_state st)
{
	size_t saved = wd->pattern.len;
	struct node n;
	bool alive;
	int r;

	if (wd->walk.budget-- == 0)
		return -EBADMSG;
	r = read_node(wd->walk.idx, ref, &n);
	if (r == 0)
		r = wild_prefix(wd, &n, skip, &st, &alive);
	for (unsigned c = n.first; r == 0 && alive && n.children && c <= n.last; c++) {
		uint32_t child = child_ref(&n, (unsigned char)c);
		struct wild_state sub = st;

		if ((child & INDEX_NODE_MASK) == 0)
			continue;
		r = strbuf_putc(&wd->pattern, (char)c);
		if (r < 0)
			return key_error(r);
		if (wild_feed(wd, &sub, (char)c))
			r = wild_subtree(wd, child, 0, sub);
		wd->pattern.len = saved + (n.prefix_len - skip);
	}
	if (r == 0 && alive && n.value_count > 0 && wild_matches(wd, &st))
		r = take_values(wd->walk.idx, &n, wd->out);
	wd->pattern.len = saved;
	return r;
}

/* Enter the subtree at ref whose keys have a wildcard from byte skip of its prefix on,
 * subject being the rest of the query there. */
static int wild_enter(struct wild *wd, uint32_t ref, size_t skip, const char *subject,
		      const char *first)
{
	struct wild_state st = {.mode = WILD_SET};
	int r;

	free(wd->masks);
	r = wild_init(wd, subject);
	if (r < 0)
		return r;
	if (wd->masks == NULL)
		st.mode = WILD_FALLBACK;
	else
		st.set.w[0] = 1;
	strbuf_clear(&wd->pattern);
	if (first == NULL)
		return wild_subtree(wd, ref, skip, st);
	r = strbuf_putc(&wd->pattern, *first);
	if (r < 0)
		return r;
	return wild_feed(wd, &st, *first) ? wild_subtree(wd, ref, 0, st) : 0;
}

int index_search_wild(const struct index *idx, const char *key, struct index_values *out)
{
	struct wild wd = {.walk = {idx, idx->size},
			  .pattern = {.max = INDEX_KEY_MAX + 2},
			  .out = out};
	uint32_t ref = idx->root;
	int r = 0;

	while (r == 0) {
		static const char wild[] = "*?[";
		struct node n;
		size_t j;

		r = read_node(idx, ref, &n);
		if (r < 0)
			break;
		for (j = 0; j < n.prefix_len; j++) {
			char c = n.prefix[j];

			if (c == '*' || c == '?' || c == '[') {
				r = wild_enter(&wd, ref, j, key + j, NULL);
				goto done;
			}
			if (c != key[j])
				goto done;
		}
		key += j;
		for (const char *c = wild; *c && r == 0; c++) {
			uint32_t child = child_ref(&n, (unsigned char)*c);

			if ((child & INDEX_NODE_MASK) != 0)
				r = wild_enter(&wd, child, 0, key, c);
		}
		if (r < 0)
			break;
		if (*key == '\0') {
			r = take_values(idx, &n, out);
			break;
		}
		ref = child_ref(&n, (unsigned char)*key);
		if ((ref & INDEX_NODE_MASK) == 0)
			break;
		key++;
	}
done:
	free(wd.masks);
	strbuf_release(&wd.pattern);
	return r;
}

static int walk_all(struct walk *w, uint32_t ref, struct strbuf *key, index_foreach_fn fn,
		    void *data)
{
	size_t saved = key->len;
	struct node n;
	int r;

	if (w->budget-- == 0)
		return -EBADMSG;
	r = read_node(w->idx, ref, &n);
	if (r < 0)
		return r;
	r = strbuf_append(key, n.prefix, n.prefix_len);
	if (r < 0 || key->len > INDEX_KEY_MAX)
		return key_error(r);
	if (n.value_count > 0) {
		const uint8_t *p = n.values;
		const char *k = strbuf_str(key);

		for (uint32_t i = 0; i < n.value_count && r == 0; i++) {
			struct index_value v;

			r = read_value(w->idx, &p, &v);
			if (r == 0)
				r = fn(data, k, v.value, v.priority);
		}
	}
	for (unsigned c = n.first; n.children && c <= n.last && r == 0; c++) {
		uint32_t child = child_ref(&n, (unsigned char)c);

		if ((child & INDEX_NODE_MASK) == 0)
			continue;
		r = strbuf_putc(key, (char)c);
		if (r < 0)
			return key_error(r);
		r = walk_all(w, child, key, fn, data);
		key->len--;
	}
	key->len = saved;
	return r;
}

int index_foreach(const struct index *idx, index_foreach_fn fn, void *data)
{
	struct strbuf key = {.max = INDEX_KEY_MAX + 2};
	struct walk w = {idx, idx->size};
	int r = walk_all(&w, idx->root, &key, fn, data);

	strbuf_release(&key);
	return r;
}

struct dump_ctx {
	FILE *f;
	const char *prefix;
};

static int dump_one(void *data, const char *key, const char *value, uint32_t priority)
{
	struct dump_ctx *d = data;

	(void)priority;
	if (fprintf(d->f, "%s%s %s\n", d->prefix, key, value) < 0)
		return -EIO;
	return 0;
}

int index_dump(const struct index *idx, int fd, const char *prefix)
{
	_cleanup_(closep) int dupfd = dup(fd);
	struct dump_ctx d = {NULL, prefix};
	int r;

	if (dupfd < 0)
		return -errno;
	d.f = fdopen(dupfd, "w");
	if (d.f == NULL)
		return -errno;
	dupfd = -1;
	r = index_foreach(idx, dump_one, &d);
	if (fclose(d.f) != 0 && r == 0)
		r = -errno;
	return r;
}
