// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * From symbols to dependencies: each module depends on the modules that own (export,
 * the last in module order winning) the symbols it needs; then the modules are sorted
 * so that a module comes after those it depends on.
 *
 * With a cache, most of a run's modules and their owners are the last run's. The
 * dependencies it found still hold for a module whose dependencies are all still there
 * and whose undefined symbols name nothing a module read in this run exports, as long
 * as the module order is the same: those are taken from the cache
 * (dm_cache_reuse_deps()), and only the other modules are resolved, against owners
 * found for their symbols alone. That
 * skips interning two hundred thousand references for a module added by DKMS. The
 * result is the same as a full resolution's; messages about symbols (-e, -v) need the
 * full one. modules.symbols built anew needs every export interned, not the undefined
 * symbols; changed from the last run's, only the exports whose owner may have changed
 * (those of the modules gone, read again, or read for the first time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "depmod-private.h"

/* ---- the dependencies ---- */

static int add_dependency(struct depmod *d, struct dm_module *m,
			  const struct dm_symbol *s)
{
	struct dm_module *owner = s->owner;

	if (owner == NULL || owner->stamp == m->idx + 1)
		return 0;
	owner->stamp = m->idx + 1;
	if (m->n_deps == m->cap_deps) {
		size_t cap = m->cap_deps ? m->cap_deps * 2 : 8;
		struct dm_module **v = realloc(m->deps, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		m->deps = v;
		m->cap_deps = cap;
	}
	m->deps[m->n_deps++] = owner;
	owner->users++;
	if (d->opts->verbose)
		dprintf(d->opts->out_fd, "%s needs \"%s\": %s\n", m->path, s->name, owner->path);
	return 0;
}

/* Every module's exports, in module order: a later module takes a symbol over. Those
 * of a module from the cache whose exports were not filled in, only if interned
 * (dm_cache_claim_exports()): all that resolving the changes needs. */
static void assign_owners(struct depmod *d)
{
	for (size_t i = 0; i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];

		if (m->from_cache && m->exports == NULL)
			dm_cache_claim_exports(d, m);
		for (size_t j = 0; j < m->n_exports; j++) {
			struct dm_symbol *s = m->exports[j].sym;

			s->owner = m;
			s->crc = m->exports[j].crc;
			s->provided = true;
		}
	}
}

/* What one undefined symbol of m makes of it: a dependency, or a warning (-e). */
static int resolve_undef(struct depmod *d, struct dm_module *m, const struct dm_symref *u)
{
	const struct dm_symbol *s = u->sym;
	bool warn = d->errsyms;

	if (!s->provided) {
		if (warn && !u->weak)
			WARN(d->ctx, "%s needs unknown symbol %s", m->path, u->name);
		return 0;
	}
	if (d->check_symvers && s->crc != u->crc && !u->weak && warn)
		WARN(d->ctx, "%s disagrees about version of symbol %s", m->path, u->name);
	return add_dependency(d, m, s);
}

static int resolve_dependencies(struct depmod *d)
{
	int r = 0;

	assign_owners(d);
	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		struct dm_module *m = d->mods[i];

		if (m->undefs_in_cache)
			r = dm_cache_foreach_undef(d, m, resolve_undef);
		for (size_t j = 0; j < m->n_undefs && r == 0; j++)
			r = resolve_undef(d, m, &m->undefs[j]);
	}
	return r;
}

/* ---- the topological order ---- */

/* Kahn's algorithm with a LIFO stack of ready modules, pushed in array order. */
static int sort_topologically(struct depmod *d)
{
	uint32_t *users = malloc(d->n_mods * sizeof(*users));
	struct dm_module **ready = malloc(d->n_mods * sizeof(*ready));
	size_t n_ready = 0, sorted = 0;

	if (users == NULL || ready == NULL) {
		free(users);
		free(ready);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_mods; i++) {
		users[i] = d->mods[i]->users;
		d->mods[i]->dep_sort_idx = UINT32_MAX;
		if (users[i] == 0)
			ready[n_ready++] = d->mods[i];
	}
	while (n_ready > 0) {
		struct dm_module *m = ready[--n_ready];

		m->dep_sort_idx = (uint32_t)sorted++;
		for (size_t j = 0; j < m->n_deps; j++) {
			struct dm_module *dep = m->deps[j];

			if (--users[dep->idx] == 0)
				ready[n_ready++] = dep;
		}
	}
	free(users);
	free(ready);
	if (sorted < d->n_mods && d->opts->lint_only)
		return 0; /* the lint reports them its own way */
	if (sorted < d->n_mods) {
		int r = dm_report_cycles(d);

		return r < 0 ? r : -ELOOP;
	}
	return 0;
}

/* ---- with the last run's dependencies ---- */

/* The names the modules read in this run export. */
static int read_exports(struct depmod *d, struct hash *dirty)
{
	for (size_t i = 0; i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_exports && !m->from_cache; j++) {
			const struct dm_symbol *s = m->exports[j].sym;
			struct hash_entry *e;

			if (hash_insert_hashed(dirty, s->name, s->hash, &e) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* 1 when done, 0 when the cache cannot help (nothing done), or -ENOMEM. */
static int resolve_changes(struct depmod *d)
{
	struct hash dirty = {0};
	int r = read_exports(d, &dirty);

	if (r == 0)
		r = dm_cache_reuse_deps(d, &dirty);
	hash_release(&dirty);
	/* the others' undefined symbols, interned: the owners to find */
	for (size_t i = 0; r == 1 && i < d->n_mods; i++) {
		if (d->mods[i]->from_cache && !d->mods[i]->deps_reused &&
		    dm_cache_fill_undefs(d, d->mods[i]) < 0)
			r = -ENOMEM;
	}
	if (r == 1) {
		size_t n = 0;

		for (size_t i = 0; i < d->n_mods; i++)
			n += d->mods[i]->deps_reused;
		DBG(d->ctx, "dependencies of %zu of %zu modules from the cache", n, d->n_mods);
	}
	if (r == 1)
		assign_owners(d);
	for (size_t i = 0; r == 1 && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_undefs && !m->deps_reused && r == 1; j++) {
			if (resolve_undef(d, m, &m->undefs[j]) < 0)
				r = -ENOMEM;
		}
	}
	return r;
}

/* Whether this run may take dependencies from the cache: not when it must say more
 * than the dependencies (-e, -v, --lint). */
static bool may_reuse(const struct depmod *d)
{
	return d->cache && !d->errsyms && !d->opts->verbose && !d->opts->lint;
}

/* The exports of the modules gone or read again, interned: the owners of those names
 * may have changed (and of no other, the order kept). */
static int intern_dropped(void *data, const char *name)
{
	return dm_symbol_intern(data, name, false, 0) ? 0 : -ENOMEM;
}

int dm_resolve(struct depmod *d, enum dm_owners owners)
{
	/* every export interned, for modules.symbols; the undefined symbols stay in the
	 * cache all the same */
	int r = owners == DM_OWNERS_ALL ? dm_cache_materialize_symbols(d) : 0;

	if (r == 0 && owners == DM_OWNERS_CHANGED && d->cache)
		r = dm_cache_foreach_dropped(d, DM_DROPPED_EXPORTS, intern_dropped, d);
	if (r == 0 && may_reuse(d))
		r = resolve_changes(d);
	if (r == 0) { /* everything, then */
		r = dm_cache_materialize_symbols(d);
		if (r == 0)
			r = resolve_dependencies(d);
	}
	if (r >= 0)
		r = sort_topologically(d);
	d->deps_resolved = r == 0;
	return r;
}

int dm_own_all_symbols(struct depmod *d)
{
	int r = dm_cache_materialize_symbols(d);

	if (r == 0)
		assign_owners(d);
	return r;
}
