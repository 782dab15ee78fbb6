// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading every module for depmod. Opening, decompressing and parsing are independent
 * per module, so a pool of threads does them (one module per thread at a time, so
 * memory stays bounded by the largest modules); the results are kept as compact
 * strings and everything order-dependent happens afterwards, in module order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depmod-private.h"
#include "elf.h"
#include "file.h"

struct worker {
	struct depmod *d;
	size_t *next;
	struct arena arena;
	struct ptrarray aliases, softdeps, weakdeps;
	struct dm_symref *syms;
	size_t n_syms, cap_syms;
	char **errors; /* per module, NULL if it loaded */
};

static int keep_modinfo(void *data, const char *s, size_t len)
{
	struct worker *w = data;
	struct ptrarray *a = NULL;
	size_t klen = 0;
	char *v;

	if (len > 6 && memcmp(s, "alias=", 6) == 0) {
		a = &w->aliases;
		klen = 6;
	} else if (len > 8 && memcmp(s, "softdep=", 8) == 0) {
		a = &w->softdeps;
		klen = 8;
	} else if (len > 8 && memcmp(s, "weakdep=", 8) == 0) {
		a = &w->weakdeps;
		klen = 8;
	}
	if (a == NULL)
		return 0;
	v = arena_strndup(&w->arena, s + klen, len - klen);
	if (v == NULL)
		return -ENOMEM;
	return ptrarray_push(a, v);
}

static int keep_symbol(void *data, const struct elf_symbol *sym)
{
	struct worker *w = data;
	struct dm_symref *r;

	if (w->n_syms == w->cap_syms) {
		size_t cap = w->cap_syms ? w->cap_syms * 2 : 256;
		struct dm_symref *v = realloc(w->syms, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		w->syms = v;
		w->cap_syms = cap;
	}
	r = &w->syms[w->n_syms];
	r->name = arena_strndup(&w->arena, sym->name, sym->namelen);
	if (r->name == NULL)
		return -ENOMEM;
	r->crc = sym->crc;
	r->weak = sym->bind == 'W';
	w->n_syms++;
	return 0;
}

static const char **take_strings(struct worker *w, struct ptrarray *a, size_t *n)
{
	const char **v = arena_memdup(&w->arena, a->v, a->n * sizeof(char *));

	*n = a->n;
	a->n = 0;
	return v;
}

static struct dm_symref *take_symbols(struct worker *w, size_t *n)
{
	struct dm_symref *v = arena_memdup(&w->arena, w->syms, w->n_syms * sizeof(*v));

	*n = w->n_syms;
	w->n_syms = 0;
	return v;
}

/* Read one module. Failures to parse are recorded, not fatal: the module is still
 * indexed, without symbols, as kmod does. Only ENOMEM stops the run. */
static int load_one(struct worker *w, struct dm_module *m)
{
	struct kmodx_file *f = NULL;
	struct elf *elf;
	int r = file_open(NULL, m->path, &f);

	if (r == 0)
		r = file_get_elf(NULL, f, &elf);
	if (r == 0) {
		r = elf_foreach_export(elf, keep_symbol, w);
		if (r == -ENODATA)
			r = 0; /* exports nothing */
		if (r == 0)
			m->exports = take_symbols(w, &m->n_exports);
		if (r == 0)
			r = elf_foreach_string(elf, ".modinfo", keep_modinfo, w);
		if (r == -ENODATA)
			r = 0;
		if (r == 0) {
			int e = elf_foreach_undefined(elf, keep_symbol, w);

			if (e == -ENOMEM)
				r = e;
			m->undefs = take_symbols(w, &m->n_undefs);
		}
		m->aliases = take_strings(w, &w->aliases, &m->n_aliases);
		m->softdeps = take_strings(w, &w->softdeps, &m->n_softdeps);
		m->weakdeps = take_strings(w, &w->weakdeps, &m->n_weakdeps);
	}
	file_free(f);
	w->n_syms = 0;
	w->aliases.n = w->softdeps.n = w->weakdeps.n = 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char *msg = NULL;

		if (asprintf(&msg, "failed to load symbols from %s: %s", m->path,
			     r == -ENOEXEC ? "Exec format error" : strerror(-r)) < 0)
			return -ENOMEM;
		w->errors[m->idx] = msg;
	}
	m->loaded = r == 0;
	return 0;
}

static void *work(void *data)
{
	struct worker *w = data;
	struct depmod *d = w->d;

	for (;;) {
		size_t i = __atomic_fetch_add(w->next, 1, __ATOMIC_RELAXED);

		if (i >= d->n_mods)
			break;
		if (load_one(w, d->mods[i]) < 0)
			return (void *)(intptr_t)-ENOMEM;
	}
	return NULL;
}

static unsigned thread_count(const struct depmod *d)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = d->opts->threads ? d->opts->threads : (cpus > 0 ? (unsigned)cpus : 1);

	if (n > 16)
		n = 16;
	if (d->n_mods < 64)
		n = 1;
	return n;
}

int dm_load_modules(struct depmod *d)
{
	unsigned n = thread_count(d), started = 0;
	struct worker *w = calloc(n, sizeof(*w));
	char **errors = calloc(d->n_mods + 1, sizeof(char *));
	pthread_t *threads = calloc(n, sizeof(*threads));
	size_t next = 0;
	int r = 0;

	if (w == NULL || errors == NULL || threads == NULL) {
		free(w);
		free(errors);
		free(threads);
		return -ENOMEM;
	}
	for (unsigned t = 0; t < n; t++) {
		w[t].d = d;
		w[t].next = &next;
		w[t].errors = errors;
		w[t].arena.chunk_size = 1 << 20;
	}
	for (unsigned t = 1; t < n; t++) {
		if (pthread_create(&threads[t], NULL, work, &w[t]) != 0)
			break;
		started++;
	}
	if (work(&w[0]) != NULL)
		r = -ENOMEM;
	for (unsigned t = 1; t <= started; t++) {
		void *ret;

		pthread_join(threads[t], &ret);
		if (ret != NULL)
			r = -ENOMEM;
	}
	/* messages in module order, whichever thread met them */
	for (size_t i = 0; i < d->n_mods; i++) {
		if (errors[i])
			ERR(d->ctx, "%s", errors[i]);
		free(errors[i]);
	}
	for (unsigned t = 0; t < n; t++) {
		ptrarray_release(&w[t].aliases);
		ptrarray_release(&w[t].softdeps);
		ptrarray_release(&w[t].weakdeps);
		free(w[t].syms);
		/* the strings stay: hand them over to depmod's arena */
		arena_merge(&d->arena, &w[t].arena);
	}
	free(errors);
	free(threads);
	free(w);
	return r;
}
