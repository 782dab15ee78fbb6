// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading every module for depmod. Opening, decompressing and parsing are independent
 * per module, so a pool of threads does them (one module per thread at a time, so
 * memory stays bounded by the largest modules); the results are kept as compact
 * strings and everything order-dependent happens afterwards, in module order. Modules
 * the cache had are not read again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depmod-private.h"
#include "elf.h"
#include "file.h"

struct worker {
	struct depmod *d;
	struct dm_module **todo;
	size_t n_todo;
	size_t *next;
	struct arena arena;
	struct ptrarray aliases, softdeps, weakdeps, firmware;
	const char *vermagic;
	struct dm_symref *syms;
	size_t n_syms, cap_syms;
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
	} else if (len > 9 && memcmp(s, "firmware=", 9) == 0) {
		a = &w->firmware;
		klen = 9;
	} else if (len >= 9 && memcmp(s, "vermagic=", 9) == 0 && w->vermagic == NULL) {
		klen = 9;
	} else {
		return 0;
	}
	v = arena_strndup(&w->arena, s + klen, len - klen);
	if (v == NULL)
		return -ENOMEM;
	if (a == NULL) {
		w->vermagic = v;
		return 0;
	}
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
	/* here, on the pool's threads, rather than when interning on one */
	r->hash = superfasthash(r->name, strlen(r->name));
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

static int read_elf(struct worker *w, struct dm_module *m, struct elf *elf)
{
	int r = elf_foreach_export(elf, keep_symbol, w);

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
	m->firmware = take_strings(w, &w->firmware, &m->n_firmware);
	m->vermagic = w->vermagic;
	return r;
}

/* Read one module. Failures to parse are recorded, not fatal: the module is still
 * indexed, without symbols, as kmod does. Only ENOMEM stops the run. The file's
 * identity is taken before it is read: if it changes while being read, the next run
 * sees another identity and reads it again. */
static int load_one(struct worker *w, struct dm_module *m)
{
	struct kmodx_file *f = NULL;
	struct elf *elf;
	struct stat st;
	int r = file_open(NULL, m->path, &f);

	m->have_key = r == 0 && fstat(f->fd, &st) == 0;
	if (m->have_key)
		dm_filekey_from_stat(&m->key, &st);
	if (r == 0)
		r = file_get_elf(NULL, f, &elf);
	if (r == 0)
		r = read_elf(w, m, elf);
	file_free(f);
	w->n_syms = 0;
	w->aliases.n = w->softdeps.n = w->weakdeps.n = w->firmware.n = 0;
	w->vermagic = NULL;
	if (r == -ENOMEM)
		return r;
	m->load_err = r;
	dm_module_hash(m);
	m->read = true;
	return 0;
}

static void *work(void *data)
{
	struct worker *w = data;

	for (;;) {
		size_t i = __atomic_fetch_add(w->next, 1, __ATOMIC_RELAXED);

		if (i >= w->n_todo)
			break;
		if (load_one(w, w->todo[i]) < 0)
			return (void *)(intptr_t)-ENOMEM;
	}
	return NULL;
}

static unsigned thread_count(const struct depmod *d, size_t n_todo)
{
	return n_todo < 64 ? 1 : dm_threads(d, 16);
}

/* ---- the content hash ---- */

/* The module's information, a piece at a time: hundreds of thousands of short names,
 * for which hash64_small() costs a tenth of a stream. */
static uint64_t feed_u64(uint64_t h, uint64_t v)
{
	return hash64_small(&v, sizeof(v), h);
}

static uint64_t feed_str(uint64_t h, const char *s)
{
	return s ? hash64_small(s, strlen(s) + 1, h) : feed_u64(h, UINT64_MAX);
}

static uint64_t feed_syms(uint64_t h, const struct dm_symref *v, size_t n)
{
	h = feed_u64(h, n);
	for (size_t i = 0; i < n; i++)
		h = feed_u64(feed_str(h, v[i].name),
			     v[i].crc ^ ((uint64_t)v[i].weak << 63));
	return h;
}

static uint64_t feed_strs(uint64_t h, const char *const *v, size_t n)
{
	h = feed_u64(h, n);
	for (size_t i = 0; i < n; i++)
		h = feed_str(h, v[i]);
	return h;
}

void dm_module_hash(struct dm_module *m)
{
	uint64_t h = feed_u64(0x6b6d6f6478, (uint64_t)(int64_t)m->load_err);

	/* 0 for nothing: such a module has no say in the indexes made of that part */
	m->part[DM_PART_ALIASES] = m->n_aliases ? feed_strs(1, m->aliases, m->n_aliases) : 0;
	m->part[DM_PART_EXPORTS] = m->n_exports ? feed_syms(2, m->exports, m->n_exports) : 0;
	m->part[DM_PART_SOFTDEPS] =
		m->n_softdeps ? feed_strs(3, m->softdeps, m->n_softdeps) : 0;
	m->part[DM_PART_WEAKDEPS] =
		m->n_weakdeps ? feed_strs(4, m->weakdeps, m->n_weakdeps) : 0;
	for (unsigned i = 0; i < DM_PARTS; i++)
		h = feed_u64(h, m->part[i]);
	h = feed_syms(h, m->undefs, m->n_undefs);
	h = feed_strs(h, m->firmware, m->n_firmware);
	m->content = feed_str(h, m->vermagic);
}

void dm_log_load_failures(struct depmod *d)
{
	for (size_t i = 0; i < d->n_mods; i++) {
		int e = d->mods[i]->load_err;

		if (e < 0)
			ERR(d->ctx, "failed to load symbols from %s: %s",
			    d->mods[i]->path,
			    e == -ENOEXEC ? "Exec format error" : strerror(-e));
	}
}

static void worker_release(struct depmod *d, struct worker *w)
{
	ptrarray_release(&w->aliases);
	ptrarray_release(&w->softdeps);
	ptrarray_release(&w->weakdeps);
	ptrarray_release(&w->firmware);
	free(w->syms);
	/* the strings stay: hand them over to depmod's arena */
	arena_merge(&d->arena, &w->arena);
}

int dm_load_modules(struct depmod *d)
{
	struct dm_module **todo = malloc((d->n_mods + 1) * sizeof(*todo));
	unsigned n, started = 0;
	struct worker *w = NULL;
	pthread_t *threads = NULL;
	size_t next = 0, n_todo = 0;
	int r = 0;

	for (size_t i = 0; todo && i < d->n_mods; i++) {
		if (!d->mods[i]->from_cache && !d->mods[i]->read)
			todo[n_todo++] = d->mods[i];
	}
	d->n_loaded += n_todo;
	n = thread_count(d, n_todo);
	if (todo)
		w = calloc(n, sizeof(*w));
	if (w)
		threads = calloc(n, sizeof(*threads));
	if (threads == NULL) {
		free(todo);
		free(w);
		return -ENOMEM;
	}
	for (unsigned t = 0; t < n; t++) {
		w[t].d = d;
		w[t].todo = todo;
		w[t].n_todo = n_todo;
		w[t].next = &next;
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
	for (unsigned t = 0; t < n; t++)
		worker_release(d, &w[t]);
	free(todo);
	free(threads);
	free(w);
	return r;
}
