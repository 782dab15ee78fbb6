// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dependency cycles among the modules the topological sort left over, reported the way
 * kmod's depmod reports them, so that the list comes out in the same order.
 *
 * kmod's walk: the unsorted modules, in array order, form a ring of starting points.
 * The first one is taken off the ring and walked depth first, a module's dependencies
 * from the last to the first. Every path that comes back to the start is printed as
 * "a -> b -> c -> a", and the modules on it leave the ring; so does every module without
 * dependencies the walk reaches. A module leaving the ring makes the one after it the
 * first (kmod's list removal hands back the next node), which is why the order of the
 * report depends on where the walks went. A start that an earlier walk reached is not
 * walked again. The count is the number of modules on printed cycles.
 *
 * Where kmod is wrong, kmodx is not (depmod.8, DIFFERENCES FROM KMOD):
 * - kmod's walk does not stop at a module already on the current path, so it runs until
 *   an assertion aborts depmod whenever a second cycle can be reached without passing
 *   the start; its stack is also too small for some trees that do finish. Here the walk
 *   stays on simple paths, which changes nothing where kmod finishes.
 * - A start that an earlier walk reached makes kmod print "Cycle detected: m" with no
 *   cycle. Such lines are left out; a start in a cycle that no cycle printed so far
 *   covers (this only happens where kmod aborts) is walked.
 * - The count is the number of modules in strongly connected components with a cycle,
 *   which is kmod's count wherever kmod finishes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "depmod-private.h"
#include "util/strbuf.h"

/* At most this many walk steps in all: the number of simple cycles can grow
 * exponentially with the size of a strongly connected component. */
#define CYCLE_WALK_MAX (1u << 20)

#define NONE UINT32_MAX

struct frame {
	struct dm_module *m;
	size_t next; /* Tarjan: next dependency to look at; walk: deps[0 .. next) left */
};

enum {
	CYCLIC = 1,  /* in a strongly connected component with a cycle */
	ON_PATH = 2, /* on Tarjan's stack, later on the walk's current path */
	PRINTED = 4, /* on a printed cycle */
	VISITED = 8, /* reached by a walk */
	IN_RING = 16,
};

struct cycles {
	struct depmod *d;
	uint8_t *flags;
	struct frame *frames; /* Tarjan's call stack, then the walk's path */
	struct dm_module **stack;
	uint32_t *index, *low;
	uint32_t *next, *prev; /* the ring of starting points */
	uint32_t *component; /* if not NULL: per module, its cyclic component (1, 2...) */
	uint32_t n_components;
	uint32_t head;
	size_t n_in_cycles;
	size_t steps;
};

static bool unsorted(const struct dm_module *m)
{
	return m->dep_sort_idx == UINT32_MAX;
}

/* ---- strongly connected components (Tarjan) ---- */

/* Pop the component rooted at v off the stack; mark it cyclic if it has more than one
 * module or a module that needs itself. */
static void close_component(struct cycles *c, struct dm_module *v, size_t *sp)
{
	size_t first = *sp;
	bool cyclic;

	do
		first--;
	while (c->stack[first] != v);
	cyclic = *sp - first > 1;
	for (size_t j = 0; !cyclic && j < v->n_deps; j++)
		cyclic = v->deps[j] == v;
	c->n_components += cyclic;
	for (size_t k = first; k < *sp; k++) {
		uint32_t w = c->stack[k]->idx;

		c->flags[w] &= (uint8_t)~ON_PATH;
		if (cyclic) {
			c->flags[w] |= CYCLIC;
			c->n_in_cycles++;
			if (c->component)
				c->component[w] = c->n_components;
		}
	}
	*sp = first;
}

static void tarjan_enter(struct cycles *c, struct dm_module *m, uint32_t *counter,
			 size_t *sp, size_t *depth)
{
	c->index[m->idx] = c->low[m->idx] = (*counter)++;
	c->stack[(*sp)++] = m;
	c->flags[m->idx] |= ON_PATH;
	c->frames[(*depth)++] = (struct frame){m, 0};
}

/* Without recursion: a long chain must not exhaust the C stack. */
static void find_components(struct cycles *c)
{
	uint32_t counter = 1;
	size_t sp = 0;

	for (size_t i = 0; i < c->d->n_mods; i++) {
		size_t depth = 0;

		if (!unsorted(c->d->mods[i]) || c->index[i] != 0)
			continue;
		tarjan_enter(c, c->d->mods[i], &counter, &sp, &depth);
		while (depth > 0) {
			struct frame *f = &c->frames[depth - 1];
			uint32_t v = f->m->idx;

			if (f->next < f->m->n_deps) {
				struct dm_module *w = f->m->deps[f->next++];

				if (!unsorted(w))
					continue;
				if (c->index[w->idx] == 0)
					tarjan_enter(c, w, &counter, &sp, &depth);
				else if (c->flags[w->idx] & ON_PATH)
					c->low[v] = MIN(c->low[v], c->index[w->idx]);
				continue;
			}
			if (c->low[v] == c->index[v])
				close_component(c, f->m, &sp);
			if (--depth > 0) {
				uint32_t u = c->frames[depth - 1].m->idx;

				c->low[u] = MIN(c->low[u], c->low[v]);
			}
		}
	}
}

/* ---- the ring of starting points ---- */

static void ring_build(struct cycles *c)
{
	uint32_t last = NONE;

	c->head = NONE;
	for (uint32_t i = 0; i < c->d->n_mods; i++) {
		if (!unsorted(c->d->mods[i]))
			continue;
		c->flags[i] |= IN_RING;
		if (last == NONE) {
			c->head = i;
		} else {
			c->next[last] = i;
			c->prev[i] = last;
		}
		last = i;
	}
	if (last != NONE) {
		c->next[last] = c->head;
		c->prev[c->head] = last;
	}
}

/* Take i off the ring; as in kmod, the module after it becomes the first. */
static void ring_remove(struct cycles *c, uint32_t i)
{
	if (!(c->flags[i] & IN_RING))
		return;
	c->flags[i] &= (uint8_t)~IN_RING;
	if (c->next[i] == i) {
		c->head = NONE;
		return;
	}
	c->next[c->prev[i]] = c->next[i];
	c->prev[c->next[i]] = c->prev[i];
	c->head = c->next[i];
}

/* ---- the walk ---- */

/* The path frames[0 .. depth) leads back to its start. */
static int print_cycle(struct cycles *c, size_t depth)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	for (size_t k = 0; k < depth && r == 0; k++) {
		uint32_t i = c->frames[k].m->idx;

		c->flags[i] |= PRINTED;
		ring_remove(c, i);
		r = strbuf_printf(&sb, "%s -> ", c->frames[k].m->modname);
	}
	if (r == 0)
		r = strbuf_puts(&sb, c->frames[0].m->modname);
	if (r == 0)
		ERR(c->d->ctx, "Cycle detected: %s", strbuf_str(&sb));
	strbuf_release(&sb);
	return r;
}

/* Reach m from the current path: 1 if the walk goes deeper into it. */
static bool reach(struct cycles *c, struct dm_module *m)
{
	c->flags[m->idx] |= VISITED;
	if (m->n_deps == 0) {
		ring_remove(c, m->idx);
		return false;
	}
	c->flags[m->idx] |= ON_PATH;
	return true;
}

/* 0, -ENOMEM, or 1 when the walk ran out of steps. */
static int walk_from(struct cycles *c, struct dm_module *root)
{
	size_t depth = 0;
	int r = 0;

	if ((c->flags[root->idx] & VISITED) &&
	    (c->flags[root->idx] & (CYCLIC | PRINTED)) != CYCLIC)
		return 0;
	if (reach(c, root))
		c->frames[depth++] = (struct frame){root, root->n_deps};
	while (depth > 0 && r == 0) {
		struct frame *f = &c->frames[depth - 1];
		struct dm_module *dep;

		if (f->next == 0) {
			c->flags[f->m->idx] &= (uint8_t)~ON_PATH;
			depth--;
			continue;
		}
		dep = f->m->deps[--f->next];
		if (dep == root)
			r = print_cycle(c, depth);
		else if (c->flags[dep->idx] & ON_PATH)
			continue;
		else if (++c->steps > CYCLE_WALK_MAX)
			r = 1;
		else if (reach(c, dep))
			c->frames[depth++] = (struct frame){dep, dep->n_deps};
	}
	while (depth > 0)
		c->flags[c->frames[--depth].m->idx] &= (uint8_t)~ON_PATH;
	return r;
}

int dm_cycle_components(struct depmod *d, uint32_t *component)
{
	size_t n = d->n_mods;
	struct cycles c = {
		.d = d,
		.flags = calloc(n + 1, 1),
		.frames = malloc((n + 1) * sizeof(*c.frames)),
		.stack = malloc((n + 1) * sizeof(*c.stack)),
		.index = calloc(n + 1, sizeof(*c.index)),
		.low = calloc(n + 1, sizeof(*c.low)),
		.component = component,
	};
	int r = -ENOMEM;

	if (c.flags && c.frames && c.stack && c.index && c.low) {
		memset(component, 0, n * sizeof(*component));
		find_components(&c);
		r = (int)c.n_components;
	}
	free(c.flags);
	free(c.frames);
	free(c.stack);
	free(c.index);
	free(c.low);
	return r;
}

int dm_report_cycles(struct depmod *d)
{
	size_t n = d->n_mods;
	struct cycles c = {
		.d = d,
		.flags = calloc(n, 1),
		.frames = malloc(n * sizeof(*c.frames)),
		.stack = malloc(n * sizeof(*c.stack)),
		.index = calloc(n, sizeof(*c.index)),
		.low = calloc(n, sizeof(*c.low)),
		.next = malloc(n * sizeof(*c.next)),
		.prev = malloc(n * sizeof(*c.prev)),
	};
	int r = 0;

	if (!c.flags || !c.frames || !c.stack || !c.index || !c.low || !c.next || !c.prev) {
		r = -ENOMEM;
		goto out;
	}
	find_components(&c);
	ring_build(&c);
	while (c.head != NONE && r == 0) {
		struct dm_module *root = d->mods[c.head];

		ring_remove(&c, c.head);
		r = walk_from(&c, root);
	}
	if (r == 1) {
		ERR(d->ctx, "Too many dependency cycles to list: the list above is incomplete");
		r = 0;
	}
	if (r == 0)
		ERR(d->ctx, "Found %zu modules in dependency cycles!", c.n_in_cycles);
out:
	free(c.flags);
	free(c.frames);
	free(c.stack);
	free(c.index);
	free(c.low);
	free(c.next);
	free(c.prev);
	return r;
}
