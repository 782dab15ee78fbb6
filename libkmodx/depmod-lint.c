// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * depmod --lint: what is wrong with a tree, grouped and counted, each problem once,
 * instead of depmod -e's line per symbol. Computed from the modules as depmod read and
 * resolved them (the cache makes a lint of an indexed tree cheap):
 *
 * - dependency cycles: the strongly connected components depmod-cycles.c finds;
 * - symbols a module needs (not weak) that no module and not the kernel provides. The
 *   kernel's exports come from -E, from -F unless it is a stub (a System.map without a
 *   single __ksymtab_ entry, as Debian's /boot/System.map-* is), or else from
 *   Module.symvers where kbuild and distributions put it: <module dir>/build/ and
 *   /usr/src/linux-headers-<release>/. Without any of them the kernel's exports are
 *   taken to be what the modules under kernel/ (the kernel's own, built with it) need
 *   and no module provides: only symbols that neither a module nor those could account
 *   for are reported, which are the ones out-of-tree modules need from a kernel that no
 *   longer has them;
 * - vermagic: the kernel's is the one most of its own modules have (those whose
 *   vermagic names the release, if any do); modules with another are reported;
 * - a module name found twice: the file depmod uses (search order, overrides) and the
 *   others;
 * - soft and weak dependencies naming no module, builtin module or alias: of modules
 *   outside kernel/ (the kernel's own name optional modules that not every architecture
 *   or configuration builds, such as vfio's vfio_iommu_spapr_tce), and of the modprobe.d
 *   files, whose aliases are checked too;
 * - firmware files a module names that are in none of /lib/firmware/updates/<release>,
 *   /lib/firmware/updates, /lib/firmware/<release> and /lib/firmware (as they are, or
 *   compressed .zst or .xz), under the base directory; when none of these directories
 *   exists, firmware is not checked and the report says so;
 * - modules that could not be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "depmod-private.h"
#include "util/fileio.h"
#include "util/glob.h"
#include "util/path.h"

struct lint {
	struct depmod *d;
	struct depmod_lint *out;
	struct arena *a;     /* the report's */
	char root[PATH_MAX]; /* the base directory, "" for / */
	struct hash kernel;  /* the kernel's exports, when not in d->symbols */
	bool have_kernel;    /* a source of the kernel's exports */
	struct hash names;   /* names a dependency may use: modules, builtins, aliases */
	struct ptrarray patterns; /* aliases with wildcards */
	struct ptrarray list;	  /* the group being built: struct depmod_lint_list * */
	struct ptrarray items;	  /* the list being built: const char * */
	struct config *config;	  /* modprobe.d, for what its lines name */
};

/* ---- building the groups ---- */

static const char *keep(struct lint *l, const char *s)
{
	return arena_strdup(l->a, s);
}

/* The items collected so far as a new list of the group being built: as many problems
 * as items, or one if per_item is false. */
static int add_list(struct lint *l, const char *where, const char *what, bool per_item)
{
	struct depmod_lint_list *e = arena_zalloc(l->a, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	/* copies: the report outlives the run's modules and cache */
	e->where = keep(l, where);
	e->what = what ? keep(l, what) : NULL;
	e->n_items = l->items.n;
	e->items = arena_alloc(l->a, (l->items.n + 1) * sizeof(char *));
	if (e->where == NULL || (what && e->what == NULL) || e->items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l->items.n; i++) {
		e->items[i] = keep(l, l->items.v[i]);
		if (e->items[i] == NULL)
			return -ENOMEM;
	}
	e->items[l->items.n] = NULL;
	l->items.n = 0;
	l->out->problems += per_item ? e->n_items : 1;
	return ptrarray_push(&l->list, e);
}

static int by_count(const void *a, const void *b)
{
	const struct depmod_lint_list *x = *(const struct depmod_lint_list *const *)a;
	const struct depmod_lint_list *y = *(const struct depmod_lint_list *const *)b;

	if (x->n_items != y->n_items)
		return x->n_items > y->n_items ? -1 : 1;
	return strcmp(x->where, y->where);
}

/* The group built, as an array in the report. */
static int take_group(struct lint *l, struct depmod_lint_list **v, size_t *n, bool sorted)
{
	struct depmod_lint_list *arr = arena_alloc(l->a, (l->list.n + 1) * sizeof(*arr));

	if (arr == NULL)
		return -ENOMEM;
	if (sorted)
		sort(l->list.v, l->list.n, sizeof(void *), by_count);
	for (size_t i = 0; i < l->list.n; i++)
		arr[i] = *(struct depmod_lint_list *)l->list.v[i];
	*v = arr;
	*n = l->list.n;
	l->list.n = 0;
	return 0;
}

static const char *mod_path(const struct dm_module *m)
{
	return m->idxpath;
}

static bool in_tree(const struct dm_module *m)
{
	return m->relpath && strncmp(m->relpath, "kernel/", 7) == 0;
}

/* ---- the kernel's exports ---- */

static int add_export(struct depmod *d, const char *name, uint64_t crc, void *data)
{
	struct lint *l = data;
	const char *key = arena_strdup(&d->arena, name);

	(void)crc;
	return key ? hash_set(&l->kernel, key, (void *)key) : -ENOMEM;
}

/* a, b and c into out (PATH_MAX): 0 or -ENAMETOOLONG. */
static int join(char *out, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	if (la + lb + lc >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	memcpy(out + la + lb, c, lc + 1);
	return 0;
}

/* path under the root, following a symbolic link to a directory as the system would
 * (an absolute target is under the root too). */
static int rooted(struct lint *l, const char *dir, const char *rest, char *out)
{
	char target[PATH_MAX];
	ssize_t n = readlink(dir, target, sizeof(target) - 1);
	int len;

	if (n > 0 && target[0] == '/') {
		target[n] = '\0';
		len = snprintf(out, PATH_MAX, "%s%s/%s", l->root, target, rest);
	} else {
		len = snprintf(out, PATH_MAX, "%s/%s", dir, rest);
	}
	return len < 0 || len >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int try_symvers(struct lint *l, const char *path)
{
	struct depmod *d = l->d;
	int r;

	if (access(path, R_OK) < 0)
		return 0;
	r = dm_read_kernel_syms(d, path, false, add_export, l, NULL);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	l->out->exports_file = keep(l, path);
	l->out->exports_kind = "Module.symvers";
	l->out->n_exports = l->kernel.count;
	l->have_kernel = true;
	return l->out->exports_file ? 0 : -ENOMEM;
}

static int find_exports(struct lint *l)
{
	const struct depmod_options *o = l->d->opts;
	char dir[PATH_MAX], path[PATH_MAX];
	int r;

	if (o->symvers || (o->system_map && l->d->n_kernel_syms > 0)) {
		l->out->exports_file = keep(l, o->symvers ? o->symvers : o->system_map);
		l->out->exports_kind = o->symvers ? "Module.symvers" : "System.map";
		l->out->n_exports = l->d->n_kernel_syms;
		l->have_kernel = true;
		return l->out->exports_file ? 0 : -ENOMEM;
	}
	if (o->system_map && (l->out->stub = keep(l, o->system_map)) == NULL)
		return -ENOMEM;
	if (join(dir, l->d->moddir, "/build", "") == 0 &&
	    rooted(l, dir, "Module.symvers", path) == 0) {
		r = try_symvers(l, path);
		if (r < 0 || l->have_kernel)
			return r;
	}
	if (join(dir, l->root, "/usr/src/linux-headers-", l->d->kver) == 0 &&
	    rooted(l, dir, "Module.symvers", path) == 0)
		return try_symvers(l, path);
	return 0;
}

/* Without a source: what the kernel's own modules need and no module provides. */
static int guess_exports(struct lint *l)
{
	struct depmod *d = l->d;
	int r = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; in_tree(m) && j < m->n_undefs && r == 0; j++) {
			const struct dm_symbol *s = m->undefs[j].sym;

			if (!s->provided)
				r = hash_set(&l->kernel, s->name, (void *)s->name);
		}
	}
	return r;
}

/* ---- the groups ---- */

static int unknown_symbols(struct lint *l)
{
	struct depmod *d = l->d;
	int r = l->have_kernel ? 0 : guess_exports(l);

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_undefs && r == 0; j++) {
			struct dm_symbol *s = m->undefs[j].sym;

			/* each symbol once per module */
			if (m->undefs[j].weak || s->provided || s->mark == m->idx + 1 ||
			    hash_find(&l->kernel, s->name))
				continue;
			s->mark = m->idx + 1;
			r = ptrarray_push(&l->items, (void *)s->name);
		}
		if (r == 0 && l->items.n > 0)
			r = add_list(l, mod_path(m), NULL, true);
	}
	return r < 0 ? r : take_group(l, &l->out->unknown, &l->out->n_unknown, true);
}

/* Counted in a hash: the number of modules with each vermagic. */
static const char *common_vermagic(struct lint *l, struct hash *count, bool own_release)
{
	struct depmod *d = l->d;
	size_t klen = strlen(d->kver);
	const char *best = NULL;
	uintptr_t best_n = 0;

	for (size_t i = 0; i < count->n_slots; i++) {
		const struct hash_entry *e = &count->slots[i];
		uintptr_t n = (uintptr_t)e->value;

		if (e->key == NULL ||
		    (own_release &&
		     (strncmp(e->key, d->kver, klen) != 0 || e->key[klen] != ' ')))
			continue;
		if (n > best_n || (n == best_n && strcmp(e->key, best) < 0)) {
			best = e->key;
			best_n = n;
		}
	}
	return best;
}

static int vermagics(struct lint *l)
{
	struct depmod *d = l->d;
	struct hash count = HASH_INIT;
	const char *expected;
	int r = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];
		struct hash_entry *e;

		if (!in_tree(m) || m->vermagic == NULL || m->load_err)
			continue;
		r = hash_insert(&count, m->vermagic, &e);
		if (r >= 0)
			e->value = (void *)((uintptr_t)e->value + 1);
		r = r < 0 ? r : 0;
	}
	expected = common_vermagic(l, &count, true);
	if (expected == NULL)
		expected = common_vermagic(l, &count, false);
	l->out->vermagic = expected ? keep(l, expected) : NULL;
	for (size_t i = 0; expected && i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		if (m->load_err == 0 &&
		    (m->vermagic == NULL || !streq(m->vermagic, expected)))
			r = add_list(l, mod_path(m), m->vermagic ? m->vermagic : "",
				     false);
	}
	hash_release(&count);
	return r < 0 ? r : take_group(l, &l->out->vermagics, &l->out->n_vermagics, false);
}

static int by_what_then_where(const void *a, const void *b)
{
	const struct dm_dup *x = *(const struct dm_dup *const *)a;
	const struct dm_dup *y = *(const struct dm_dup *const *)b;
	int c = strcmp(x->modname, y->modname);

	return c ? c : strcmp(x->path, y->path);
}

static int duplicates(struct lint *l)
{
	struct depmod *d = l->d;
	int r = 0;

	sort(d->dups.v, d->dups.n, sizeof(void *), by_what_then_where);
	for (size_t i = 0; i < d->dups.n && r == 0; i++) {
		const struct dm_dup *dup = d->dups.v[i];
		const struct dm_module *used = hash_find(&d->by_name, dup->modname);

		r = ptrarray_push(&l->items, (void *)dup->path);
		if (r == 0 &&
		    (i + 1 == d->dups.n ||
		     !streq(dup->modname, ((struct dm_dup *)d->dups.v[i + 1])->modname)))
			r = add_list(l, used ? mod_path(used) : "", dup->modname, false);
	}
	return r < 0 ? r : take_group(l, &l->out->dups, &l->out->n_dups, false);
}

static int unreadable(struct lint *l)
{
	struct depmod *d = l->d;
	int r = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];
		int e = m->load_err;

		if (e < 0)
			r = add_list(l, mod_path(m),
				     e == -ENOEXEC ? "Exec format error" : strerror(-e),
				     false);
	}
	return r < 0 ? r
		     : take_group(l, &l->out->unreadable, &l->out->n_unreadable, false);
}

static int cycles(struct lint *l)
{
	struct depmod *d = l->d;
	uint32_t *comp;
	int n, r = 0;
	bool any = false;

	for (size_t i = 0; i < d->n_mods && !any; i++)
		any = d->mods[i]->dep_sort_idx == UINT32_MAX;
	if (!any)
		return 0;
	comp = malloc((d->n_mods + 1) * sizeof(*comp));
	if (comp == NULL)
		return -ENOMEM;
	n = dm_cycle_components(d, comp);
	for (int c = 1; c <= n && r == 0; c++) {
		for (size_t i = 0; i < d->n_mods && r == 0; i++) {
			if (comp[i] == (uint32_t)c)
				r = ptrarray_push(&l->items,
						  (void *)mod_path(d->mods[i]));
		}
		/* a cycle is one problem, whatever its length */
		if (r == 0)
			r = add_list(l, "", "cycle", false);
	}
	free(comp);
	r = n < 0 ? n : r;
	return r < 0 ? r : take_group(l, &l->out->cycles, &l->out->n_cycles, false);
}

/* ---- names that dependencies may use ---- */

/* name with '-' as '_' outside brackets, in the report's arena; NULL if it cannot be
 * normalised (unmatched brackets: it names nothing). */
static char *normalised(struct lint *l, const char *name)
{
	char *s = arena_strdup(l->a, name);

	return s && underscores(s) == 0 ? s : NULL;
}

static int add_name(struct lint *l, const char *name)
{
	char *s = normalised(l, name);

	if (s == NULL)
		return 0;
	return glob_is_pattern(s) ? ptrarray_push(&l->patterns, s)
				  : hash_set(&l->names, s, s);
}

static bool exists(struct lint *l, const char *name)
{
	char buf[PATH_MAX];

	if (strlen(name) >= sizeof(buf))
		return false;
	strcpy(buf, name);
	if (underscores(buf) < 0)
		return false;
	if (hash_find(&l->names, buf))
		return true;
	for (size_t i = 0; i < l->patterns.n; i++) {
		if (glob_match(l->patterns.v[i], buf))
			return true;
	}
	return false;
}

/* modules.builtin's names, modules.builtin.modinfo's modules and aliases */
static int builtin_names(struct lint *l)
{
	_cleanup_(freep) char *text = NULL, *info = NULL;
	char path[PATH_MAX], name[PATH_MAX];
	size_t len = 0, ilen = 0;
	int r = 0;

	snprintf(path, sizeof(path), "%s/modules.builtin", l->d->moddir);
	if (read_file_at(AT_FDCWD, path, (size_t)64 << 20, &text, &len) == 0) {
		for (char *p = text, *nl; r == 0 && (nl = strchr(p, '\n')); p = nl + 1) {
			*nl = '\0';
			if (modname_from_path(p, name))
				r = add_name(l, name);
		}
	}
	snprintf(path, sizeof(path), "%s/modules.builtin.modinfo", l->d->moddir);
	if (r == 0 && read_file_at(AT_FDCWD, path, (size_t)64 << 20, &info, &ilen) < 0)
		return 0;
	for (char *p = info, *end = info + ilen; r == 0 && p < end; p += strlen(p) + 1) {
		char *dot = strchr(p, '.');

		if (dot == NULL)
			continue;
		*dot = '\0';
		r = add_name(l, p);
		if (r == 0 && strncmp(dot + 1, "alias=", 6) == 0)
			r = add_name(l, dot + 7);
	}
	return r;
}

/* Whether an entry comes from a modprobe.d file: not from the kernel command line
 * (file NULL) nor from the module directory's modules.softdep and modules.weakdep, which
 * depmod wrote from the modules' own softdep= and weakdep= (checked with the modules). */
static bool from_modprobe_d(const struct lint *l, const char *file)
{
	const char *dir = l->d->ctx->module_dir;
	size_t n = dir ? strlen(dir) : 0;

	if (file == NULL)
		return false;
	return n == 0 || strncmp(file, dir, n) != 0 || file[n] != '/' ||
	       !(streq(file + n + 1, "modules.softdep") || streq(file + n + 1, "modules.weakdep"));
}

static int collect_names(struct lint *l)
{
	struct depmod *d = l->d;
	int r = builtin_names(l);

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		r = add_name(l, m->modname);
		for (size_t j = 0; j < m->n_aliases && r == 0; j++)
			r = add_name(l, m->aliases[j]);
	}
	for (size_t i = 0; i < l->config->aliases.n && r == 0; i++)
		r = add_name(l, ((const struct cfg_alias *)l->config->aliases.v[i])->pattern);
	return r;
}

/* ---- dependencies on nothing ---- */

static int check_name(struct lint *l, const char *name)
{
	for (size_t i = 0; i < l->items.n; i++) {
		if (streq(l->items.v[i], name))
			return 0;
	}
	return exists(l, name) ? 0 : ptrarray_push(&l->items, (void *)name);
}

/* "pre: a b post: c" (softdep=; tokens before pre: or post: are ignored, as modprobe
 * ignores them) or "a b" (weakdep=): the names into items. */
static int check_value(struct lint *l, const char *value, bool soft)
{
	char *copy = arena_strdup(l->a, value), *save = NULL;
	bool counts = !soft;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t", &save); w && r == 0;
	     w = strtok_r(NULL, " \t", &save)) {
		if (soft && (streq(w, "pre:") || streq(w, "post:")))
			counts = true;
		else if (counts)
			r = check_name(l, w);
	}
	return r;
}

static int module_deps(struct lint *l, const struct dm_module *m)
{
	int r = 0;

	for (size_t j = 0; j < m->n_softdeps && r == 0; j++)
		r = check_value(l, m->softdeps[j], true);
	if (r == 0 && l->items.n > 0)
		r = add_list(l, mod_path(m), "softdep", true);
	for (size_t j = 0; j < m->n_weakdeps && r == 0; j++)
		r = check_value(l, m->weakdeps[j], false);
	if (r == 0 && l->items.n > 0)
		r = add_list(l, mod_path(m), "weakdep", true);
	return r;
}

static int check_names(struct lint *l, const char *const *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		const char *s = keep(l, v[i]);

		r = s ? check_name(l, s) : -ENOMEM;
	}
	return r;
}

/* The names file's alias, softdep and weakdep lines use that name nothing. Entries of
 * one file share their origin's file pointer. */
static int config_file_deps(struct lint *l, const char *file)
{
	const struct config *c = l->config;
	const char *where = keep(l, file);
	int r = where ? 0 : -ENOMEM;

	for (size_t i = 0; i < c->aliases.n && r == 0; i++) {
		const struct cfg_alias *a = c->aliases.v[i];
		const char *target = a->origin.file == file ? keep(l, a->modname) : "";

		r = target == NULL ? -ENOMEM : *target ? check_name(l, target) : 0;
	}
	if (r == 0 && l->items.n > 0)
		r = add_list(l, where, "alias", true);
	for (size_t i = 0; i < c->softdeps.n && r == 0; i++) {
		const struct cfg_softdep *s = c->softdeps.v[i];

		if (s->origin.file != file)
			continue;
		r = check_names(l, s->pre, s->n_pre);
		if (r == 0)
			r = check_names(l, s->post, s->n_post);
	}
	if (r == 0 && l->items.n > 0)
		r = add_list(l, where, "softdep", true);
	for (size_t i = 0; i < c->weakdeps.n && r == 0; i++) {
		const struct cfg_weakdep *w = c->weakdeps.v[i];

		if (w->origin.file == file)
			r = check_names(l, w->deps, w->n_deps);
	}
	if (r == 0 && l->items.n > 0)
		r = add_list(l, where, "weakdep", true);
	return r;
}

static int note_file(const struct lint *l, struct ptrarray *files, const char *file)
{
	if (!from_modprobe_d(l, file))
		return 0;
	for (size_t i = 0; i < files->n; i++) {
		if (files->v[i] == file)
			return 0;
	}
	return ptrarray_push(files, (void *)file);
}

/* Each modprobe.d file that has alias, softdep or weakdep lines, once, in the order
 * they were read. */
static int config_deps(struct lint *l)
{
	const struct config *c = l->config;
	struct ptrarray files = PTRARRAY_INIT;
	int r = 0;

	for (size_t i = 0; i < c->aliases.n && r == 0; i++)
		r = note_file(l, &files, ((const struct cfg_alias *)c->aliases.v[i])->origin.file);
	for (size_t i = 0; i < c->softdeps.n && r == 0; i++)
		r = note_file(l, &files, ((const struct cfg_softdep *)c->softdeps.v[i])->origin.file);
	for (size_t i = 0; i < c->weakdeps.n && r == 0; i++)
		r = note_file(l, &files, ((const struct cfg_weakdep *)c->weakdeps.v[i])->origin.file);
	for (size_t i = 0; i < files.n && r == 0; i++)
		r = config_file_deps(l, files.v[i]);
	ptrarray_release(&files);
	return r;
}

static int missing_modules(struct lint *l)
{
	struct depmod *d = l->d;
	int r = config_load(d->ctx, &l->config);

	if (r == 0)
		r = collect_names(l);
	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		if (!in_tree(d->mods[i]))
			r = module_deps(l, d->mods[i]);
	}
	if (r == 0)
		r = config_deps(l);
	return r < 0 ? r : take_group(l, &l->out->missing, &l->out->n_missing, false);
}

/* ---- firmware ---- */

struct fw_dirs {
	char path[4][PATH_MAX];
	unsigned n;
};

/* The kernel's search path (drivers/base/firmware_loader), those that exist. */
static void firmware_dirs(struct lint *l, struct fw_dirs *f)
{
	static const struct {
		const char *dir;
		bool release;
	} path[] = {
		{"/lib/firmware/updates/", true},
		{"/lib/firmware/updates", false},
		{"/lib/firmware/", true},
		{"/lib/firmware", false},
	};
	struct stat st;

	f->n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(path); i++) {
		int n = snprintf(f->path[f->n], PATH_MAX, "%s%s%s", l->root, path[i].dir,
				 path[i].release ? l->d->kver : "");

		if (n > 0 && n < PATH_MAX && stat(f->path[f->n], &st) == 0 &&
		    S_ISDIR(st.st_mode))
			f->n++;
	}
}

/* As the kernel looks for it: plain, then compressed. */
static bool firmware_found(const struct fw_dirs *f, const char *name)
{
	static const char *const suffix[] = {"", ".zst", ".xz"};
	char path[PATH_MAX];

	for (unsigned i = 0; i < f->n; i++) {
		for (unsigned k = 0; k < ARRAY_SIZE(suffix); k++) {
			int n = snprintf(path, sizeof(path), "%s/%s%s", f->path[i], name,
					 suffix[k]);

			if (n > 0 && n < (int)sizeof(path) && access(path, F_OK) == 0)
				return true;
		}
	}
	return false;
}

/* Once per module. */
static int check_fw(struct lint *l, const char *name)
{
	for (size_t i = 0; i < l->items.n; i++) {
		if (streq(l->items.v[i], name))
			return 0;
	}
	return ptrarray_push(&l->items, (void *)name);
}

static int missing_firmware(struct lint *l)
{
	struct depmod *d = l->d;
	struct fw_dirs f;
	int r = 0;

	firmware_dirs(l, &f);
	l->out->firmware_checked = f.n > 0;
	for (size_t i = 0; f.n > 0 && i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_firmware && r == 0; j++) {
			if (!firmware_found(&f, m->firmware[j]))
				r = check_fw(l, m->firmware[j]);
		}
		if (r == 0 && l->items.n > 0)
			r = add_list(l, mod_path(m), NULL, true);
	}
	return r < 0 ? r : take_group(l, &l->out->firmware, &l->out->n_firmware, true);
}

/* ---- the report ---- */

int dm_lint(struct depmod *d, struct depmod_lint *out)
{
	struct lint l = {.d = d, .out = out};
	const char *base = d->opts->basedir ? d->opts->basedir : d->ctx->root;
	int r;

	memset(out, 0, sizeof(*out));
	l.a = calloc(1, sizeof(*l.a));
	if (l.a == NULL)
		return -ENOMEM;
	out->priv = l.a;
	snprintf(l.root, sizeof(l.root), "%s", streq(base, "/") ? "" : base);
	/* every module's undefined symbols, those the resolution read from the cache too */
	r = dm_cache_materialize(d);
	if (r == 0)
		r = find_exports(&l);
	if (r == 0)
		r = cycles(&l);
	if (r == 0)
		r = unknown_symbols(&l);
	if (r == 0)
		r = vermagics(&l);
	if (r == 0)
		r = duplicates(&l);
	if (r == 0)
		r = missing_modules(&l);
	if (r == 0)
		r = missing_firmware(&l);
	if (r == 0)
		r = unreadable(&l);
	config_free(l.config);
	hash_release(&l.kernel);
	hash_release(&l.names);
	ptrarray_release(&l.patterns);
	ptrarray_release(&l.list);
	ptrarray_release(&l.items);
	if (r < 0)
		depmod_lint_release(out);
	return r;
}

void depmod_lint_release(struct depmod_lint *lint)
{
	if (lint == NULL || lint->priv == NULL)
		return;
	arena_release(lint->priv);
	free(lint->priv);
	memset(lint, 0, sizeof(*lint));
}
