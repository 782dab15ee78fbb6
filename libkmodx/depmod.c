// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * depmod: find the modules of a tree, decide between duplicates, order them, resolve
 * symbols into dependencies and sort them topologically. The steps and their order
 * rules follow kmod's depmod exactly, so that the indexes come out byte-identical:
 * see docs on the index format (§6) for the rules this implements.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depmod-private.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strbuf.h"

/* ---- choosing between modules of the same name ---- */

/* The search priority of a path (relative to the module dir, or absolute for external
 * modules) at search entry i; -1 if the entry does not match. */
struct prio_walk {
	int bprio, newprio, oldprio;
};

static bool search_matches(const struct dm_search *s, const char *path, size_t len)
{
	return len >= s->len && memcmp(s->path, path, s->len) == 0;
}

/*
 * kmod's rule, quirks included: walking the search list (reverse configuration order)
 * with increasing numbers, "built-in" sets the default, and at each entry the new path
 * is tested before the old one, so when both match the same entry only the new one
 * gets that number. The existing module stays unless the new one's number is higher.
 */
static bool existing_wins(const struct depmod *d, const struct dm_module *old,
			  const char *newpath, size_t newlen)
{
	const char *oldpath = old->idxpath;
	size_t oldlen = (size_t)(old->path + old->baselen - oldpath) + 1 + strlen(old->modname);
	struct prio_walk w = {-1, -1, -1};
	int i = 0;

	for (size_t k = 0; k < d->cfg.overrides.n; k++) {
		const struct dm_override *o = d->cfg.overrides.v[k];

		if (newlen == o->len && memcmp(o->path, newpath, newlen) == 0)
			return false;
		if (oldlen == o->len && memcmp(o->path, oldpath, oldlen) == 0)
			return true;
	}
	for (size_t k = 0; k < d->cfg.searches.n; k++) {
		const struct dm_search *s = d->cfg.searches.v[k];

		if (s->builtin) {
			w.bprio = i++;
			continue;
		}
		if (streq(s->path, "external")) {
			for (size_t e = 0; e < d->cfg.externals.n; e++, i++) {
				struct dm_search ext = {d->cfg.externals.v[e],
							strlen(d->cfg.externals.v[e]), false};

				if (search_matches(&ext, newpath, newlen))
					w.newprio = i;
				else if (search_matches(&ext, oldpath, oldlen))
					w.oldprio = i;
			}
			continue;
		}
		if (search_matches(s, newpath, newlen))
			w.newprio = i;
		else if (search_matches(s, oldpath, oldlen))
			w.oldprio = i;
		i++;
	}
	if (w.newprio < 0)
		w.newprio = w.bprio;
	if (w.oldprio < 0)
		w.oldprio = w.bprio;
	return w.newprio <= w.oldprio;
}

static struct dm_module *module_alloc(struct depmod *d, const char *path, bool inside)
{
	struct dm_module *m = arena_zalloc(&d->arena, sizeof(*m));
	char name[PATH_MAX];
	size_t namelen;

	if (m == NULL)
		return NULL;
	m->path = arena_strdup(&d->arena, path);
	if (m->path == NULL || modname_normalize(path_basename(path), name, &namelen) == NULL)
		return NULL;
	m->modname = arena_strdup(&d->arena, name);
	m->name_hash = superfasthash(name, namelen);
	m->baselen = path_dirlen(path);
	m->idxpath = m->path + d->scan_strip;
	if (m->modname == NULL)
		return NULL;
	if (inside) {
		/* "<dir>/<first strlen(modname)+3 bytes of the file name>", as kmod
		 * matches modules.order lines against compressed files */
		size_t dirlen = m->baselen - d->moddir_len - 1;
		size_t n = dirlen + 1 + namelen + 3;

		m->relpath = m->idxpath = m->path + d->moddir_len + 1;
		if (n > strlen(m->relpath))
			n = strlen(m->relpath);
		m->uncrelpath = arena_strndup(&d->arena, m->relpath, n);
		if (m->uncrelpath == NULL)
			return NULL;
	}
	return m;
}

/* For --lint: the module file left out. 0 or -ENOMEM. */
static int remember_dup(struct depmod *d, const struct dm_module *m)
{
	struct dm_dup *dup;

	if (d->opts->lint == NULL)
		return 0;
	dup = arena_alloc(&d->arena, sizeof(*dup));
	if (dup == NULL)
		return -ENOMEM;
	dup->modname = m->modname;
	dup->path = m->idxpath;
	return ptrarray_push(&d->dups, dup);
}

int dm_add_module_file(struct depmod *d, const char *path, bool inside,
		       const struct dm_filekey *key)
{
	struct dm_module *m = module_alloc(d, path, inside), *old;
	struct hash_entry *e;
	int r;

	if (m == NULL)
		return -ENOMEM;
	if (key) {
		m->key = *key;
		m->have_key = true;
	}
	r = hash_insert_hashed(&d->by_name, m->modname, m->name_hash, &e);
	if (r < 0)
		return r;
	old = e->value;
	if (old != NULL) {
		const char *newpath = m->idxpath;
		size_t newlen = (size_t)(m->path + m->baselen - newpath) + 1 + strlen(m->modname);

		bool keep = existing_wins(d, old, newpath, newlen);

		if (keep)
			DBG(d->ctx, "Ignored lower priority: %s, higher: %s", m->path,
			    old->path);
		else
			DBG(d->ctx, "Replace lower priority %s with new module %s",
			    old->path, m->path);
		r = remember_dup(d, keep ? m : old);
		if (r < 0 || keep)
			return r;
	}
	e->key = m->modname;
	e->value = m;
	return 0;
}

/* ---- module order ---- */

#define KMOD_BUCKETS 512

static int by_modname(const void *a, const void *b)
{
	return strcmp((*(struct dm_module *const *)a)->modname,
		      (*(struct dm_module *const *)b)->modname);
}

/*
 * kmod's order, before modules.order: its hash table's 512 buckets in turn, each kept
 * sorted with strcmp(). The modules are placed by bucket in one pass and each bucket,
 * a handful of modules unless their names were chosen to collide, sorted alone: qsort()
 * of the whole took a millisecond or two in pointer chasing. 0 or -ENOMEM.
 */
static int kmod_order(struct dm_module **mods, size_t n)
{
	size_t at[KMOD_BUCKETS + 1] = {0};
	struct dm_module **by_bucket = malloc((n + 1) * sizeof(*by_bucket));

	if (by_bucket == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		at[(mods[i]->name_hash % KMOD_BUCKETS) + 1]++;
	for (size_t b = 1; b <= KMOD_BUCKETS; b++)
		at[b] += at[b - 1];
	/* (at[b] is where bucket b goes next; once every module is placed, its end) */
	for (size_t i = 0; i < n; i++)
		by_bucket[at[mods[i]->name_hash % KMOD_BUCKETS]++] = mods[i];
	for (size_t b = 0, start = 0; b < KMOD_BUCKETS; start = at[b++])
		sort_small(by_bucket + start, at[b] - start, sizeof(*by_bucket), by_modname);
	memcpy(mods, by_bucket, n * sizeof(*mods));
	free(by_bucket);
	return 0;
}

/* modules.order ranks: listed modules first, in file order; the first line for a module
 * decides; the others after them, in the order they had. A last line without its
 * newline means a truncated file: no sorting then.
 * 0 or -ENOMEM: a missing file is a warning, but no memory must not pass for one. */
static int apply_modules_order(struct depmod *d)
{
	_cleanup_(freep) char *text = NULL;
	_cleanup_(freep) struct dm_module **ordered = NULL;
	struct hash by_unc = HASH_INIT;
	char path[PATH_MAX];
	size_t len, n = 0;
	int r;

	snprintf(path, sizeof(path), "%s/modules.order", d->moddir);
	r = read_file_at(AT_FDCWD, path, (size_t)64 << 20, &text, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		WARN(d->ctx, "could not open modules.order at %s: %s", d->moddir, strerror(-r));
		return 0;
	}
	if (len > 0 && text[len - 1] != '\n') {
		size_t lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n';
		ERR(d->ctx, "%s:%zu corrupted line misses '\\n'", path, lines + 1);
		return 0;
	}
	ordered = malloc((d->n_mods + 1) * sizeof(*ordered));
	r = ordered ? hash_reserve(&by_unc, d->n_mods) : -ENOMEM;
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		if (d->mods[i]->uncrelpath)
			r = hash_set(&by_unc, d->mods[i]->uncrelpath, d->mods[i]);
	}
	if (r < 0)
		goto out;
	/* the listed ones as their first lines come, then the others as they were */
	for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		struct dm_module *m;

		*nl = '\0';
		m = hash_find(&by_unc, line);
		if (m && !m->ordered) {
			m->ordered = true;
			ordered[n++] = m;
		}
	}
	for (size_t i = 0; i < d->n_mods; i++) {
		if (!d->mods[i]->ordered)
			ordered[n++] = d->mods[i];
	}
	memcpy(d->mods, ordered, n * sizeof(*ordered));
out:
	hash_release(&by_unc);
	return r;
}

static int build_array(struct depmod *d)
{
	size_t n = 0;
	int r;

	d->mods = malloc((d->by_name.count + 1) * sizeof(*d->mods));
	if (d->mods == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < d->by_name.n_slots; i++) {
		if (d->by_name.slots[i].key)
			d->mods[n++] = d->by_name.slots[i].value;
	}
	d->n_mods = n;
	r = kmod_order(d->mods, n);
	if (r == 0)
		r = apply_modules_order(d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		d->mods[i]->idx = (uint32_t)i;
	return 0;
}

/* ---- symbols and dependencies ---- */

void dm_filekey_from_stat(struct dm_filekey *k, const struct stat *st)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
	k->size = (uint64_t)st->st_size;
	k->mtime = (int64_t)st->st_mtim.tv_sec;
	k->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
	k->ctime = (int64_t)st->st_ctim.tv_sec;
	k->ctime_ns = (uint32_t)st->st_ctim.tv_nsec;
}

bool dm_filekey_equal(const struct dm_filekey *a, const struct dm_filekey *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime == b->mtime && a->mtime_ns == b->mtime_ns &&
	       a->ctime == b->ctime && a->ctime_ns == b->ctime_ns;
}

/* File timestamps come from a clock that ticks every few milliseconds: a file written
 * again within the tick in which it was read keeps its timestamps. Anything changed in
 * the two seconds before the run is therefore not trusted by the next one. */
#define RACY_WINDOW_S 2

static bool not_before(int64_t s, uint32_t ns, const struct timespec *t)
{
	return s > (int64_t)t->tv_sec ||
	       (s == (int64_t)t->tv_sec && ns >= (uint32_t)t->tv_nsec);
}

bool dm_key_racy(const struct depmod *d, const struct dm_filekey *k)
{
	struct timespec limit = d->started;

	limit.tv_sec -= RACY_WINDOW_S;
	return not_before(k->mtime, k->mtime_ns, &limit) ||
	       not_before(k->ctime, k->ctime_ns, &limit);
}

unsigned dm_threads(const struct depmod *d, unsigned most)
{
	unsigned n = d->opts->threads ? d->opts->threads : cpus_online();

	return MAX(1u, MIN(n, most));
}

const char *dm_symbol_key(const struct depmod *d, const char *name, bool undefined)
{
	if (undefined && name[0] == '.') /* ppc64: .foo is foo */
		name++;
	if (d->opts->sym_prefix && name[0] == d->opts->sym_prefix)
		name++;
	return name;
}

/* The symbol called key, created if new; a new one keeps key itself as its name (it
 * must live as long as d) unless copy is set. hv: superfasthash(key), or 0. */
static struct dm_symbol *intern(struct depmod *d, const char *key, bool copy, uint32_t hv)
{
	struct hash_entry *e;
	struct dm_symbol *s;
	int r = hv ? hash_insert_hashed(&d->symbols, key, hv, &e)
		   : hash_insert(&d->symbols, key, &e);

	if (r <= 0)
		return r == 0 ? e->value : NULL;
	s = arena_zalloc(&d->arena, sizeof(*s));
	if (s && copy)
		key = arena_strdup(&d->arena, key);
	if (s == NULL || key == NULL) {
		hash_remove_entry(&d->symbols, e);
		return NULL;
	}
	s->name = e->key = key;
	s->hash = e->hash;
	e->value = s;
	return s;
}

struct dm_symbol *dm_symbol_intern(struct depmod *d, const char *name, bool undefined,
				   uint32_t hash)
{
	const char *key = dm_symbol_key(d, name, undefined);

	/* the hash is the name's, not of what is left of it */
	return intern(d, key, false, key == name ? hash : 0);
}

int dm_intern_module(struct depmod *d, struct dm_module *m)
{
	for (size_t j = 0; j < m->n_exports + m->n_undefs; j++) {
		bool undefined = j >= m->n_exports;
		struct dm_symref *s =
			undefined ? &m->undefs[j - m->n_exports] : &m->exports[j];

		s->sym = dm_symbol_intern(d, s->name, undefined, s->hash);
		if (s->sym == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* A kernel symbol from -E or -F. */
static int symbol_add(struct depmod *d, const char *name, bool prefix_skipped,
		      uint64_t crc)
{
	struct dm_symbol *s;

	if (!prefix_skipped)
		name = dm_symbol_key(d, name, false);
	s = intern(d, name, true, 0);
	if (s == NULL)
		return -ENOMEM;
	s->owner = NULL;
	s->crc = crc;
	s->provided = true;
	return 0;
}

static int add_fake_symbols(struct depmod *d)
{
	int r = symbol_add(d, "__this_module", true, 0);

	if (r == 0)
		r = symbol_add(d, "_GLOBAL_OFFSET_TABLE_", true, 0);
	if (r == 0 && hash_find(&d->symbols, "TOC.") == NULL)
		r = symbol_add(d, "TOC.", true, 0);
	return r;
}

/* -E: Module.symvers lines "CRC<ws>SYMBOL<ws>vmlinux<ws>..."; only vmlinux's count. */
static int parse_symvers(struct depmod *d, const char *file, char *text,
			 dm_kernel_sym_fn fn, void *data)
{
	unsigned linenum = 0;
	char *save, *line;
	int r = 0;

	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ver, *sym, *where, *end, *s2;
		uint64_t crc;

		linenum++;
		ver = strtok_r(line, " \t", &s2);
		sym = ver ? strtok_r(NULL, " \t", &s2) : NULL;
		where = sym ? strtok_r(NULL, " \t", &s2) : NULL;
		if (where == NULL || !streq(where, "vmlinux"))
			continue;
		crc = strtoull(ver, &end, 16);
		if (*end != '\0') {
			ERR(d->ctx, "%s:%u Invalid symbol version %s", file, linenum, ver);
			continue;
		}
		r = fn(d, dm_symbol_key(d, sym, false), crc, data);
	}
	return r;
}

/* -F: System.map lines "ADDRESS TYPE NAME"; exported symbols are __ksymtab_NAME. */
static int parse_system_map(struct depmod *d, const char *file, char *text,
			    dm_kernel_sym_fn fn, void *data)
{
	unsigned linenum = 0;
	char *save, *line;
	int r = 0;

	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, ' ');

		linenum++;
		p = p ? strchr(p + 1, ' ') : NULL;
		if (p == NULL) {
			ERR(d->ctx, "%s:%u: invalid line: %s", file, linenum, line);
			continue;
		}
		p++;
		if (d->opts->sym_prefix && p[0] == d->opts->sym_prefix)
			p++;
		if (strncmp(p, "__ksymtab_", 10) == 0)
			r = fn(d, p + 10, 0, data);
	}
	return r;
}

int dm_read_kernel_syms(struct depmod *d, const char *file, bool system_map,
			dm_kernel_sym_fn fn, void *data, uint64_t *fp)
{
	_cleanup_(freep) char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, file, (size_t)256 << 20, &text, &len);

	if (r < 0) {
		CRIT(d->ctx, "could not load %s: %s", file, strerror(-r));
		return r;
	}
	if (fp)
		*fp = hash64(text, len, system_map ? 'F' : 'E');
	return system_map ? parse_system_map(d, file, text, fn, data)
			  : parse_symvers(d, file, text, fn, data);
}

static int add_kernel_symbol(struct depmod *d, const char *name, uint64_t crc, void *data)
{
	(void)data;
	d->n_kernel_syms++;
	return symbol_add(d, name, true, crc);
}

/* ---- the whole run ---- */

static bool newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

#define SCAN_DEPTH_MAX 64

/* 1 if a module file under the directory is newer than t, 0 if none, -errno. */
static int tree_newer_than(const struct depmod *d, int dfd, const struct timespec *t, int depth)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (dir == NULL) {
		close(dfd);
		return -errno;
	}
	while (r == 0 && depth < SCAN_DEPTH_MAX && (de = readdir(dir)) != NULL) {
		struct stat st;

		if (dm_excluded(d, de->d_name) ||
		    fstatat(dirfd(dir), de->d_name, &st, 0) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub >= 0)
				r = tree_newer_than(d, sub, t, depth + 1);
		} else if (S_ISREG(st.st_mode) && path_has_module_ext(de->d_name)) {
			r = newer(&st.st_mtim, t);
		}
	}
	closedir(dir);
	return r;
}

/*
 * -A: nothing to do when every index exists and neither a module nor the kernel's
 * modules.order/builtin lists changed since modules.dep was written (kmod only looks at
 * the modules, with a one-second granularity).
 */
static bool outputs_up_to_date(struct depmod *d)
{
	static const char *const outputs[] = {"modules.dep.bin", "modules.alias.bin",
					      "modules.symbols.bin"};
	static const char *const inputs[] = {"modules.order", "modules.builtin",
					     "modules.builtin.modinfo"};
	char path[PATH_MAX];
	struct stat dep, st;
	int fd;

	snprintf(path, sizeof(path), "%s/modules.dep", d->outdir);
	if (stat(path, &dep) < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(outputs); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->outdir, outputs[i]);
		if (stat(path, &st) < 0)
			return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->moddir, inputs[i]);
		if (stat(path, &st) == 0 && newer(&st.st_mtim, &dep.st_mtim))
			return false;
	}
	fd = open(d->moddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 && tree_newer_than(d, fd, &dep.st_mtim, 0) == 0;
}

static int init(struct depmod *d, struct kmodx_ctx *ctx, const struct depmod_options *o)
{
	char buf[PATH_MAX];
	const char *base, *mdir = o->moduledir ? o->moduledir : MODULE_DIRECTORY;
	int n, r;

	memset(d, 0, sizeof(*d));
	d->ctx = ctx;
	d->opts = o;
	clock_gettime(CLOCK_REALTIME, &d->started);
	d->arena.chunk_size = 1 << 20;
	r = ctx_prepare(ctx);
	if (r < 0)
		return r;
	d->kver = o->kver ? o->kver : ctx->kver;
	while (*mdir == '/')
		mdir++;
	base = o->basedir ? o->basedir : ctx->root;
	n = snprintf(buf, sizeof(buf), "%s/%s/%s", base, mdir, d->kver);
	if (n < 0 || n >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	d->moddir = arena_strdup(&d->arena, buf);
	n = snprintf(buf, sizeof(buf), "%s/%s/%s", o->outdir ? o->outdir : base, mdir, d->kver);
	if (n < 0 || n >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	d->outdir = arena_strdup(&d->arena, buf);
	if (d->moddir == NULL || d->outdir == NULL)
		return -ENOMEM;
	d->moddir_len = strlen(d->moddir);
	return 0;
}

static void release(struct depmod *d)
{
	for (size_t i = 0; i < d->n_mods; i++)
		free(d->mods[i]->deps);
	free(d->mods);
	hash_release(&d->by_name);
	hash_release(&d->symbols);
	ptrarray_release(&d->dups);
	ptrarray_release(&d->dirs);
	dm_cache_free(d->cache);
	dm_cache_writer_free(d->next_cache);
	dm_config_release(&d->cfg);
	arena_release(&d->arena);
	/* last: the replaced indexes' blocks may still be on their way back to the device,
	 * and nothing above needs them */
	dm_outputs_let_go(d);
}

/*
 * An external directory is a system path: under --root it is found under the root, and
 * the indexes name it without the root, as the running system will see it. -b does
 * not move it, as in kmod (depmod.d(5)).
 */
static int scan_external(struct depmod *d, const char *dir)
{
	char path[PATH_MAX];
	int r = 0;

	if (dir[0] == '/') /* a relative one is used as kmod uses it: from the cwd */
		r = ctx_path(d->ctx, dir, path);
	else if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		r = -ENAMETOOLONG;
	if (r == 0) {
		d->scan_strip = strlen(path) - strlen(dir);
		r = dm_scan_root(d, path, false);
		d->scan_strip = 0;
	}
	if (r < 0 && r != -ENOMEM)
		ERR(d->ctx, "could not open directory %s: %s", r == -ENAMETOOLONG ? dir : path,
		    strerror(-r));
	return r;
}

static int find_modules(struct depmod *d)
{
	const struct depmod_options *o = d->opts;
	int r;

	if (o->files && o->files[0]) {
		for (size_t i = 0; o->files[i]; i++) {
			const char *f = o->files[i];
			bool inside = strncmp(f, d->moddir, d->moddir_len) == 0 &&
				      f[d->moddir_len] == '/';

			if (f[0] != '/') {
				CRIT(d->ctx, "%s: not absolute path.", f);
				return -EINVAL;
			}
			if (access(f, R_OK) < 0) {
				r = -errno;
				CRIT(d->ctx, "could not create module %s: %s", f, strerror(-r));
				return r;
			}
			r = dm_add_module_file(d, f, inside, NULL);
			if (r < 0)
				return r;
		}
		return 0;
	}
	r = dm_scan_root(d, d->moddir, true);
	if (r < 0) {
		ERR(d->ctx, "could not open directory %s: %s", d->moddir, strerror(-r));
		CRIT(d->ctx, "could not search modules: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < d->cfg.externals.n; i++) {
		r = scan_external(d, d->cfg.externals.v[i]);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

/* Counts the messages of the stages whose messages a skipped run would not repeat. */
struct log_counter {
	kmodx_log_fn fn;
	void *data;
	unsigned n;
};

static void count_message(void *data, int prio, const char *msg)
{
	struct log_counter *c = data;

	c->n++;
	c->fn(c->data, prio, msg);
}

/* From the modules to the indexes: symbols, dependencies, order, outputs. */
static int build_outputs(struct depmod *d)
{
	struct kmodx_ctx *ctx = d->ctx;
	struct log_counter c = {ctx->log_fn, ctx->log_data, 0};
	int r;

	if (c.fn) {
		ctx->log_fn = count_message;
		ctx->log_data = &c;
	}
	r = dm_write_outputs(d);
	if (c.fn) {
		ctx->log_fn = c.fn;
		ctx->log_data = c.data;
	}
	/* a run that printed nothing at the warning level prints nothing when skipped */
	d->outputs_clean = c.n == 0 && ctx->log_prio >= LOG_WARNING;
	return r;
}

static int load_kernel_symbols(struct depmod *d, uint64_t *fp)
{
	const struct depmod_options *o = d->opts;
	int r = 0;

	*fp = 0;
	/* kernel symbols first: a later module exporting the same name takes it over */
	if (o->symvers || o->system_map) {
		r = hash_reserve(&d->symbols, 1 << 15);
		if (r == 0)
			r = dm_read_kernel_syms(d, o->symvers ? o->symvers : o->system_map,
						!o->symvers, add_kernel_symbol, NULL, fp);
		if (r == 0)
			r = add_fake_symbols(d);
	}
	return r;
}

/* Read what the cache does not have, and index it. */
static int load_modules(struct depmod *d)
{
	size_t before = d->n_loaded;
	int r = dm_load_modules(d);

	/* a full run's thirty thousand symbols: room at once, not by doubling */
	if (r == 0 && d->n_loaded - before > 256)
		r = hash_reserve(&d->symbols, 1 << 15);

	/* (again for the modules of a first call: the same symbols) */
	for (size_t i = 0; r == 0 && before < d->n_loaded && i < d->n_mods; i++) {
		if (d->mods[i]->read)
			r = dm_intern_module(d, d->mods[i]);
	}
	return r;
}

/* What the cache has for the unchanged modules but their symbols (dm_resolve() takes
 * them); if its second part turns out damaged, those modules are read after all. */
static int materialize(struct depmod *d)
{
	int r = dm_cache_materialize_lists(d);

	if (r != -EBADMSG)
		return r;
	DBG(d->ctx, "%s: the cache is damaged: every module is read", d->outdir);
	for (size_t i = 0; i < d->n_mods; i++)
		d->mods[i]->from_cache = false;
	dm_cache_free(d->cache);
	d->cache = NULL;
	return load_modules(d);
}

/* Whether this run may leave indexes as they are when nothing they are made of
 * changed: not when it must print them or more than the indexes. */
static bool may_skip_outputs(const struct depmod *d)
{
	return d->cache && !d->opts->dry_run && !d->opts->verbose && !d->opts->lint;
}

/*
 * The modules found matched with the cache's records (dm_cache_match()) on a thread of
 * its own while build_array() puts them in order: a millisecond each, on one processor
 * while the other waited. The one reads each module's path and identity and sets what
 * the cache has of it; the other reads its name and its path in the tree, and sets its
 * place: different fields.
 */
struct match_job {
	struct depmod *d; /* NULL: nothing to match */
	pthread_t thread;
	bool started;
	int r;
};

static void *match_main(void *data)
{
	struct match_job *j = data;

	j->r = dm_cache_match(j->d);
	return NULL;
}

static void match_start(struct depmod *d, struct match_job *j)
{
	j->d = d;
	j->started = dm_threads(d, 2) > 1 && pthread_create(&j->thread, NULL, match_main, j) == 0;
}

/* (on this thread now, if it had none) */
static int match_wait(struct match_job *j)
{
	if (j->started)
		pthread_join(j->thread, NULL);
	else if (j->d)
		j->r = dm_cache_match(j->d);
	j->started = false;
	j->d = NULL;
	return j->r;
}

/* Everything up to what each module holds: kernel symbols, the module set in its order,
 * the cache and the modules it lacks. */
static int gather(struct depmod *d)
{
	struct match_job match = {.d = NULL};
	uint64_t ksyms = 0;
	int r = load_kernel_symbols(d, &ksyms), e;

	if (r == 0 && !(d->opts->files && d->opts->files[0]))
		r = dm_config_load(d->ctx, d->kver, d->opts->config_paths, &d->cfg);
	/* the cache before the scan: it has the listings of the directories unchanged */
	if (r == 0 && d->use_cache) {
		dm_cache_options(d, ksyms);
		r = dm_cache_load(d);
	}
	/* room for the modules the last run had at once, not by doubling (a count from
	 * the file: no more than a million, whatever it says) */
	if (r == 0 && d->cache)
		r = hash_reserve(&d->by_name, MIN(dm_cache_count(d->cache), (size_t)1 << 20) + 64);
	/* (its second part checked meanwhile: the scan's threads mostly wait in the
	 * kernel, and what follows the scan runs on one processor) */
	if (r == 0)
		dm_cache_check_b(d->cache);
	if (r == 0)
		r = find_modules(d);
	if (r == 0 && d->use_cache)
		match_start(d, &match);
	if (r == 0)
		r = build_array(d);
	e = match_wait(&match);
	if (r == 0)
		r = e;
	if (r == 0)
		r = load_modules(d);
	if (r == 0)
		dm_log_load_failures(d); /* in module order, whichever thread met them */
	if (r == 0 && d->use_cache)
		r = dm_cache_fingerprint(d);
	return r;
}

/* The indexes: built and written, except those on disk that are what this run would
 * write. */
static int index_tree(struct depmod *d)
{
	int r = 0;

	if (may_skip_outputs(d) && dm_cache_keep_outputs(d) == DM_OUTPUTS) {
		DBG(d->ctx, "%s: the indexes are up to date", d->outdir);
		d->outputs_clean = true;
		d->outputs_written = true;
		return d->n_loaded > 0 ? dm_outputs_touch(d) : 0;
	}
	r = materialize(d);
	if (r == 0)
		r = build_outputs(d);
	/* modules read again but modules.dep the same (-A compares their times) */
	if (r == 0 && d->out_kept[DM_OUT_DEP] && d->n_loaded > 0)
		r = dm_outputs_touch(d);
	return r;
}

/* --lint alone: dependencies resolved, nothing written. */
static int resolve_quietly(struct depmod *d)
{
	int r = materialize(d);

	return r < 0 ? r : dm_resolve(d, DM_OWNERS_ALL);
}

int depmod_run(struct kmodx_ctx *ctx, const struct depmod_options *o)
{
	struct depmod d;
	int r = init(&d, ctx, o);

	if (r < 0)
		goto out;
	if (o->quick && !o->dry_run && !o->lint && outputs_up_to_date(&d)) {
		r = 0;
		goto out;
	}
	d.check_symvers = o->symvers != NULL;
	d.errsyms = o->errsyms && !o->lint_only;
	if (d.errsyms && !o->symvers && !o->system_map) {
		WARN(ctx, "-e needs -E or -F");
		d.errsyms = false;
	}
	d.use_cache = !o->no_cache && !(o->files && o->files[0]);
	r = gather(&d);
	if (r == 0)
		r = o->lint_only ? resolve_quietly(&d) : index_tree(&d);
	if (r == 0 && d.use_cache && !o->dry_run && !o->lint_only && dm_cache_stale(&d))
		dm_cache_save(&d); /* a cache that could not be written is only slower */
	if ((r == 0 || r == -ELOOP) && o->lint) {
		int e = dm_lint(&d, o->lint);

		r = e < 0 ? e : r;
	}
out:
	release(&d);
	return r;
}
