// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading depmod's cache (the format is in depmod-cache.h): checking it, the
 * fingerprints of the indexes, matching the modules of a run with its records, filling
 * in what they hold, and the dependencies the last run found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "depmod-cache.h"

/* ---- checking ---- */

static bool head_ok(struct dm_cache *c, uint64_t file_size)
{
	const uint8_t *h = c->head;
	uint64_t a, b;

	if (memcmp(h, CACHE_MAGIC, 8) != 0 || get_u32(h + 8) != CACHE_VERSION ||
	    get_u32(h + 12) != BOM || get_u64(h + H_SIZE) != file_size)
		return false;
	c->sum_a = get_u64(h + H_SUM_A);
	c->options_fp = get_u64(h + H_OPTIONS);
	c->n_records = get_u32(h + H_RECORDS);
	c->n_syms = get_u32(h + H_SYMS);
	c->n_refs = get_u32(h + H_REFS);
	c->strings_size = get_u32(h + H_STRINGS);
	c->flags = get_u32(h + H_FLAGS);
	c->paths_size = get_u32(h + H_PATHS);
	c->sum_b = get_u64(h + H_SUM_B);
	c->n_deps = get_u32(h + H_DEPS);
	c->n_dirs = get_u32(h + H_DIRS);
	c->n_entries = get_u32(h + H_ENTRIES);
	c->fresh_tables = get_u32(h + H_FRESH);
	a = (uint64_t)DM_OUTPUTS * OUT_SIZE + (uint64_t)c->n_records * REC_SIZE +
	    (uint64_t)c->n_dirs * DIR_SIZE + (uint64_t)c->n_entries * 4 + c->paths_size;
	b = (uint64_t)c->n_syms * SYM_SIZE + (uint64_t)c->n_refs * 4 + c->strings_size +
	    (uint64_t)c->n_deps * 4;
	if (HEADER_SIZE + a + b != file_size)
		return false;
	c->a_size = (size_t)a;
	c->b_size = (size_t)b;
	return true;
}

/* Records use the references in order, without overlapping: next is where this one
 * may start at the earliest (which also bounds the work of checking them all by the
 * size of the table). */
static bool record_ok(const struct dm_cache *c, const uint8_t *rec, uint64_t *next)
{
	uint64_t first = get_u32(rec + R_FIRST), n = record_refs(rec);
	uint32_t vermagic = get_u32(rec + R_VERMAGIC);
	int32_t err = (int32_t)get_u32(rec + R_ERR);

	if (get_u32(rec + R_PATH) >= c->paths_size || err > 0 || err < -4095)
		return false;
	if ((vermagic != NONE && vermagic >= c->strings_size) || first < *next ||
	    first + n > c->n_refs)
		return false;
	*next = first + n;
	return true;
}

/* The directories' listings: each its own run of entries, in order, every name in the
 * path table. */
static bool dirs_ok(const struct dm_cache *c)
{
	uint64_t next = 0;

	for (uint32_t i = 0; i < c->n_dirs; i++) {
		const uint8_t *dir = c->dirs + (size_t)i * DIR_SIZE;
		uint64_t first = get_u32(dir + D_FIRST), n = get_u32(dir + D_COUNT);

		if (get_u32(dir + D_PATH) >= c->paths_size || first < next ||
		    first + n > c->n_entries)
			return false;
		next = first + n;
	}
	for (uint32_t i = 0; i < c->n_entries; i++) {
		if ((get_u32(c->entries + 4 * (size_t)i) & ENTRY_NAME) >= c->paths_size)
			return false;
	}
	return true;
}

/* The first part: the records, the directories and their paths. */
static bool part_a_ok(struct dm_cache *c)
{
	struct fileio_part part = {c->a, c->a_size};
	uint64_t next = 0;

	if (sum_of(c->head, &part, 1) != c->sum_a)
		return false;
	c->outputs = c->a;
	c->records = c->outputs + DM_OUTPUTS * OUT_SIZE;
	c->dirs = c->records + (size_t)c->n_records * REC_SIZE;
	c->entries = c->dirs + (size_t)c->n_dirs * DIR_SIZE;
	c->paths = (const char *)c->entries + (size_t)c->n_entries * 4;
	if (c->paths_size > 0 && c->paths[c->paths_size - 1] != '\0')
		return false;
	for (uint32_t i = 0; i < c->n_records; i++) {
		if (!record_ok(c, record(c, i), &next))
			return false;
	}
	return dirs_ok(c);
}

static bool refs_ok(const struct dm_cache *c, const uint8_t *rec)
{
	uint64_t first = get_u32(rec + R_FIRST), n = record_refs(rec);
	uint64_t syms = (uint64_t)get_u32(rec + R_EXPORTS) + get_u32(rec + R_UNDEFS);

	for (uint64_t k = 0; k < n; k++) {
		uint32_t ref = get_u32(c->refs + 4 * (first + k));

		if (k < syms ? (ref & ~REF_WEAK) >= c->n_syms : ref >= c->strings_size)
			return false;
	}
	return true;
}

/* The second part: symbols, references and strings. */
static bool part_b_ok(struct dm_cache *c)
{
	struct fileio_part part = {c->b, c->b_size};

	if (sum_of(NULL, &part, 1) != c->sum_b)
		return false;
	c->syms = c->b;
	c->refs = c->syms + (size_t)c->n_syms * SYM_SIZE;
	c->strings = (const char *)c->refs + (size_t)c->n_refs * 4;
	c->deps = (const uint8_t *)c->strings + c->strings_size;
	if (c->strings_size > 0 && c->strings[c->strings_size - 1] != '\0')
		return false;
	for (uint32_t i = 0; i < c->n_syms; i++) {
		if (get_u32(c->syms + (size_t)i * SYM_SIZE + 8) >= c->strings_size)
			return false;
	}
	for (uint32_t i = 0; i < c->n_records; i++) {
		const uint8_t *rec = record(c, i);
		uint32_t n = get_u32(rec + R_N_DEPS);

		if (!refs_ok(c, rec) ||
		    (n != NONE && (uint64_t)get_u32(rec + R_DEPS) + n > c->n_deps))
			return false;
	}
	for (uint32_t i = 0; i < c->n_deps; i++) {
		if (get_u32(c->deps + 4 * (size_t)i) >= c->n_records)
			return false;
	}
	return true;
}

static int index_paths(struct dm_cache *c)
{
	int r = hash_reserve(&c->by_path, c->n_records);

	for (uint32_t i = 0; r == 0 && i < c->n_records; i++) {
		const char *path = c->paths + get_u32(record(c, i) + R_PATH);

		r = hash_set(&c->by_path, path, (void *)(uintptr_t)(i + 1));
	}
	if (r == 0)
		r = hash_reserve(&c->by_dir, c->n_dirs);
	for (uint32_t i = 0; r == 0 && i < c->n_dirs; i++) {
		const uint8_t *dir = c->dirs + (size_t)i * DIR_SIZE;

		if (!(get_u32(dir + D_FLAGS) & DIR_RACY))
			r = hash_set(&c->by_dir, c->paths + get_u32(dir + D_PATH),
				     (void *)(uintptr_t)(i + 1));
	}
	return r;
}

long dm_cache_listing(const struct dm_cache *c, const char *path, const struct dm_filekey *now,
		      uint32_t *first)
{
	uintptr_t k = (uintptr_t)hash_find(&c->by_dir, path);
	const uint8_t *dir = k ? c->dirs + (k - 1) * DIR_SIZE : NULL;
	struct dm_filekey key;

	if (dir == NULL)
		return -1;
	get_key(dir, &key);
	if (now && !dm_filekey_equal(&key, now))
		return -1;
	*first = get_u32(dir + D_FIRST);
	return get_u32(dir + D_COUNT);
}

const char *dm_cache_listing_entry(const struct dm_cache *c, uint32_t i, enum dm_entry *kind)
{
	uint32_t e = get_u32(c->entries + 4 * (size_t)i);

	*kind = e & ENTRY_DIR ? DM_ENTRY_DIR : e & ENTRY_STAT ? DM_ENTRY_STAT : DM_ENTRY_MODULE;
	return c->paths + (e & ENTRY_NAME);
}

void dm_cache_seal(uint8_t *data, size_t len)
{
	struct dm_cache c = {0};
	struct fileio_part a, b;

	if (len < HEADER_SIZE)
		return;
	put_u64(data + H_SIZE, len);
	memcpy(c.head, data, HEADER_SIZE);
	if (!head_ok(&c, len))
		return;
	a = (struct fileio_part){data + HEADER_SIZE, c.a_size};
	b = (struct fileio_part){data + HEADER_SIZE + c.a_size, c.b_size};
	put_u64(data + H_SUM_B, sum_of(NULL, &b, 1));
	put_u64(data + H_SUM_A, sum_of(data, &a, 1));
}

void dm_cache_free(struct dm_cache *c)
{
	if (c == NULL)
		return;
	if (c->b_checking)
		pthread_join(c->b_checker, NULL);
	hash_release(&c->by_path);
	hash_release(&c->by_dir);
	free(c->memo);
	if (c->map) {
		munmap((void *)c->map, c->map_size);
		close(c->fd);
	} else {
		free(c->a);
		free(c->b);
	}
	free(c);
}

int dm_cache_load_b(struct dm_cache *c)
{
	if (c->b_checking) {
		pthread_join(c->b_checker, NULL);
		c->b_checking = false;
	}
	if (c->b_state != 0)
		return c->b_state < 0 ? c->b_state : 0;
	c->b_state = part_b_ok(c) ? 1 : -EBADMSG;
	return c->b_state < 0 ? c->b_state : 0;
}

static void *check_b(void *data)
{
	struct dm_cache *c = data;

	c->b_state = part_b_ok(c) ? 1 : -EBADMSG;
	return NULL;
}

void dm_cache_check_b(struct dm_cache *c)
{
	if (c && c->b_state == 0 && !c->b_checking)
		c->b_checking = pthread_create(&c->b_checker, NULL, check_b, c) == 0;
}

int dm_cache_parse(struct kmodx_ctx *ctx, const uint8_t *data, size_t len,
		   struct dm_cache **cache)
{
	struct dm_cache *c = calloc(1, sizeof(*c));
	int r = -EBADMSG;

	(void)ctx;
	if (c == NULL)
		return -ENOMEM;
	if (len >= HEADER_SIZE) {
		memcpy(c->head, data, HEADER_SIZE);
		if (head_ok(c, len)) {
			c->a = malloc(c->a_size + 1);
			c->b = malloc(c->b_size + 1);
			r = c->a && c->b ? 0 : -ENOMEM;
		}
	}
	if (r == 0) {
		memcpy(c->a, data + HEADER_SIZE, c->a_size);
		memcpy(c->b, data + HEADER_SIZE + c->a_size, c->b_size);
		r = part_a_ok(c) ? dm_cache_load_b(c) : -EBADMSG;
	}
	if (r == 0)
		r = index_paths(c);
	if (r < 0) {
		dm_cache_free(c);
		return r;
	}
	*cache = c;
	return 0;
}

size_t dm_cache_count(const struct dm_cache *c)
{
	return c->n_records;
}

/*
 * Map the file and check the header and first part: 0, -EBADMSG, -ENOMEM, -EBUSY (another
 * run is writing it) or an errno of opening or mapping the file. Mapped, as the indexes
 * and modules are (index.c, file.c): a run with nothing changed reads only the first
 * part, and one that needs the second neither copies its megabytes nor, at the end,
 * frees them. The file stays open, with a shared lock, for as long as it is mapped: a
 * later run writes its cache over this file (dm_spare_open()) only if it can lock it
 * alone.
 */
static int open_cache(const char *path, struct dm_cache *c)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	/* (a file system without locks: a writer cannot lock either, and renames) */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		r = -EBUSY;
	else if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CACHE_MAX ||
		 (size_t)st.st_size < HEADER_SIZE)
		r = -EBADMSG;
	map = r == 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (map == MAP_FAILED)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	c->fd = fd;
	c->map = map;
	c->map_size = (size_t)st.st_size;
	memcpy(c->head, c->map, HEADER_SIZE);
	if (!head_ok(c, (uint64_t)st.st_size))
		return -EBADMSG;
	c->a = (uint8_t *)c->map + HEADER_SIZE;
	c->b = c->a + c->a_size;
	if (!part_a_ok(c))
		return -EBADMSG;
	return index_paths(c);
}

/* ---- fingerprints ---- */

static uint64_t hash_str(const char *s, uint64_t h)
{
	return hash64(s ? s : "", s ? strlen(s) + 1 : 0, h);
}

static uint64_t hash_strings(const struct ptrarray *a, uint64_t h)
{
	for (size_t i = 0; i < a->n; i++)
		h = hash_str(a->v[i], h);
	return hash64(&a->n, sizeof(a->n), h);
}

/* The configuration as parsed: what it changes is what counts, not how it is written. */
static uint64_t hash_config(const struct dm_config *cfg, uint64_t h)
{
	for (size_t i = 0; i < cfg->searches.n; i++) {
		const struct dm_search *s = cfg->searches.v[i];

		h = hash_str(s->builtin ? "\001built-in" : s->path, h);
	}
	h = hash64(&cfg->searches.n, sizeof(cfg->searches.n), h);
	for (size_t i = 0; i < cfg->overrides.n; i++)
		h = hash_str(((const struct dm_override *)cfg->overrides.v[i])->path, h);
	h = hash64(&cfg->overrides.n, sizeof(cfg->overrides.n), h);
	h = hash_strings(&cfg->externals, h);
	return hash_strings(&cfg->excludes, h);
}

void dm_cache_options(struct depmod *d, uint64_t kernel_syms)
{
	const struct depmod_options *o = d->opts;
	uint64_t h = hash_str(VERSION, CACHE_VERSION);
	uint64_t flags = (uint64_t)(unsigned char)o->sym_prefix |
			 (uint64_t) !!o->symvers << 8 | (uint64_t) !!o->system_map << 9;

	h = hash_str(d->kver, h);
	h = hash_str(d->moddir, h);
	h = hash_str(d->outdir, h);
	h = hash_str(d->ctx->root, h);
	h = hash64(&flags, sizeof(flags), h);
	h = hash64(&kernel_syms, sizeof(kernel_syms), h);
	d->options_fp = hash_config(&d->cfg, h);
}

/* The contents of an input of the indexes, or a mark for its absence. */
static int hash_input(const struct depmod *d, const char *name, uint64_t *h)
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", d->moddir, name);
	r = read_file_at(AT_FDCWD, path, (size_t)64 << 20, &text, &len);
	if (r == -ENOMEM)
		return r;
	*h = r < 0 ? hash64(&r, sizeof(r), *h) : hash64(text, len, *h + 1);
	return 0;
}

/* What each index is made of besides the options: one part of the information of the
 * modules that have something in it, with their names and positions (the indexes name
 * the modules and rank entries by position); or all of it, with every module's path; or
 * a file. */
enum { MADE_OF_ALL = DM_PARTS, MADE_OF_FILE };

static const struct {
	int what;	   /* a part (enum dm_part), MADE_OF_ALL or MADE_OF_FILE */
	const char *file; /* MADE_OF_FILE: its name in the module directory */
} made_of[DM_OUTPUTS] = {
	[DM_OUT_DEP] = {MADE_OF_ALL, NULL},
	[DM_OUT_DEP_BIN] = {MADE_OF_ALL, NULL},
	[DM_OUT_ALIAS] = {DM_PART_ALIASES, NULL},
	[DM_OUT_ALIAS_BIN] = {DM_PART_ALIASES, NULL},
	[DM_OUT_SOFTDEP] = {DM_PART_SOFTDEPS, NULL},
	[DM_OUT_WEAKDEP] = {DM_PART_WEAKDEPS, NULL},
	[DM_OUT_SYMBOLS] = {DM_PART_EXPORTS, NULL},
	[DM_OUT_SYMBOLS_BIN] = {DM_PART_EXPORTS, NULL},
	[DM_OUT_BUILTIN_BIN] = {MADE_OF_FILE, "modules.builtin"},
	[DM_OUT_BUILTIN_ALIAS_BIN] = {MADE_OF_FILE, "modules.builtin.modinfo"},
	[DM_OUT_DEVNAME] = {DM_PART_ALIASES, NULL},
};

int dm_cache_fingerprint(struct depmod *d)
{
	uint64_t flags = (uint64_t)d->errsyms | (uint64_t)d->opts->warn_dups << 1;
	uint64_t base = hash64(&flags, sizeof(flags), d->options_fp);
	uint64_t all = base, part[DM_PARTS], file[DM_OUTPUTS] = {0};
	int r = 0;

	for (unsigned p = 0; p < DM_PARTS; p++)
		part[p] = base + 1 + p;
	for (unsigned i = 0; r == 0 && i < DM_OUTPUTS; i++) {
		file[i] = base;
		if (made_of[i].what == MADE_OF_FILE) {
			r = hash_input(d, made_of[i].file, &file[i]);
			all ^= file[i] + i; /* modules.dep's is of everything */
		}
	}
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];
		/* the name and the position: the indexes rank entries by it */
		uint64_t name = hash64(&m->idx, sizeof(m->idx), hash_str(m->modname, 0));

		all = hash_str(m->idxpath, all);
		all = hash64(&m->content, sizeof(m->content), all ^ name);
		for (unsigned p = 0; p < DM_PARTS; p++) {
			if (m->part[p] != 0) /* the module has something there */
				part[p] = hash64(&m->part[p], 8, part[p] ^ name);
		}
	}
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		int what = made_of[i].what;
		uint64_t h = what == MADE_OF_ALL ? all : what == MADE_OF_FILE ? file[i] : part[what];

		d->out_fp[i] = h ? h : 1; /* 0 means "unknown" in the file */
	}
	return r;
}

static void get_output(const struct dm_cache *c, unsigned i, struct dm_filekey *key,
		       uint64_t *fp)
{
	const uint8_t *p = c->outputs + (size_t)i * OUT_SIZE;

	get_key(p, key);
	*fp = get_u64(p + KEY_SIZE);
}

unsigned dm_cache_keep_outputs(struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	struct dm_filekey now[DM_OUTPUTS];
	unsigned n = 0;

	/* messages are not recorded: a run that printed one writes everything again */
	if (c == NULL || !(c->flags & FLAG_CLEAN) || dm_outputs_identify(d, now) < 0)
		return 0;
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		struct dm_filekey key;
		uint64_t fp;

		get_output(c, i, &key, &fp);
		if (fp != 0 && dm_filekey_equal(&key, &now[i]))
			d->out_prev[i] = key;
		d->out_kept[i] = fp != 0 && fp == d->out_fp[i] && dm_filekey_equal(&key, &now[i]);
		if (d->out_kept[i]) {
			d->out_keys[i] = key;
			n++;
		}
	}
	return n;
}

bool dm_cache_stale(const struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	bool clean = d->outputs_written && d->outputs_clean;

	if (c == NULL || d->n_loaded > 0 || c->n_applied != c->n_records ||
	    c->n_records != d->n_mods || !!(c->flags & FLAG_CLEAN) != clean ||
	    d->n_dirs_read > 0 || c->n_dirs != d->dirs.n)
		return true;
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		struct dm_filekey key;
		uint64_t fp;

		get_output(c, i, &key, &fp);
		if (fp != (d->outputs_written ? d->out_fp[i] : 0) ||
		    (d->outputs_written && !dm_filekey_equal(&key, &d->out_keys[i])))
			return true;
	}
	return false;
}

/* ---- loading ---- */

/*
 * Whether the output directory was indexed before (it has modules.dep). One that was not
 * is most often indexed once and packed: an initramfs generator's staging tree (dracut
 * runs depmod -b there), an image being built. A cache there would be megabytes of the
 * image that nothing reads; a tree indexed again gets one from its second run on.
 */
static bool indexed_before(const struct depmod *d)
{
	char path[PATH_MAX];

	return (size_t)snprintf(path, sizeof(path), "%s/modules.dep", d->outdir) >=
		       sizeof(path) ||
	       access(path, F_OK) == 0 || errno != ENOENT;
}

int dm_cache_load(struct depmod *d)
{
	struct dm_cache *c = calloc(1, sizeof(*c));
	char path[PATH_MAX];
	int r;

	if (c == NULL)
		return -ENOMEM;
	if ((size_t)snprintf(path, sizeof(path), "%s/" CACHE_NAME, d->outdir) >=
	    sizeof(path))
		r = -ENAMETOOLONG;
	else
		r = open_cache(path, c);
	if (r == -ENOENT && !indexed_before(d)) {
		DBG(d->ctx, "%s: indexed for the first time: no cache", d->outdir);
		d->use_cache = false;
	} else if (r == -EBADMSG)
		DBG(d->ctx, "%s: damaged or of another format: every module is read",
		    path);
	else if (r == -EBUSY)
		DBG(d->ctx, "%s: being written by another run: every module is read", path);
	else if (r < 0 && r != -ENOMEM)
		DBG(d->ctx, "%s: %s: every module is read", path, strerror(-r));
	else if (r == 0 && c->options_fp != d->options_fp)
		DBG(d->ctx, "%s: written for other options: every module is read", path);
	if (r == 0 && c->options_fp == d->options_fp) {
		d->cache = c;
		return 0;
	}
	dm_cache_free(c);
	return r == -ENOMEM ? r : 0;
}

static const char **strings_of(struct dm_cache *c, struct arena *a, uint64_t *ref,
			       uint32_t n)
{
	const char **v = arena_alloc(a, (n ? n : 1) * sizeof(*v));

	for (uint32_t i = 0; v && i < n; i++, (*ref)++)
		v[i] = c->strings + get_u32(c->refs + 4 * *ref);
	return v;
}

/* Reference ref as a symbol; with d, interned there too, once per cache symbol
 * (c->memo: [2 id] as an export, [2 id + 1] as undefined) once materialize_symbols()
 * made the memo, each time before: 0 or -ENOMEM. */
static int symbol_at(struct dm_cache *c, uint64_t ref, struct depmod *d, bool undefined,
		     struct dm_symref *s)
{
	uint32_t id = get_u32(c->refs + 4 * ref);
	const uint8_t *sym = c->syms + (size_t)(id & ~REF_WEAK) * SYM_SIZE;
	struct dm_symbol **memo = d && c->memo ? &c->memo[2 * (size_t)(id & ~REF_WEAK)] : NULL;

	s->name = c->strings + get_u32(sym + 8);
	s->crc = get_u64(sym);
	s->weak = id & REF_WEAK;
	s->hash = 0;
	s->sym = NULL;
	if (d && memo == NULL) {
		s->sym = dm_symbol_intern(d, s->name, undefined, 0);
		return s->sym ? 0 : -ENOMEM;
	}
	if (memo == NULL)
		return 0;
	if (memo[undefined] == NULL) {
		memo[undefined] = dm_symbol_intern(d, s->name, undefined, 0);
		if (memo[undefined] == NULL)
			return -ENOMEM;
		/* the same name either way, unless a '.' is dropped (see symbol_key()) */
		if (s->name[0] != '.')
			memo[!undefined] = memo[undefined];
	}
	s->sym = memo[undefined];
	return 0;
}

static struct dm_symref *symbols_of(struct dm_cache *c, struct arena *a, uint64_t *ref,
				    uint32_t n, struct depmod *d, bool undefined)
{
	struct dm_symref *v = arena_alloc(a, (n ? n : 1) * sizeof(*v));

	for (uint32_t i = 0; v && i < n; i++, (*ref)++) {
		if (symbol_at(c, *ref, d, undefined, &v[i]) < 0)
			return NULL;
	}
	return v;
}

/* What record i holds besides its symbols, into m. */
static int fill_lists(struct dm_cache *c, size_t i, struct arena *a, struct dm_module *m)
{
	const uint8_t *rec = record(c, i);
	uint32_t vermagic = get_u32(rec + R_VERMAGIC);
	uint64_t ref = (uint64_t)get_u32(rec + R_FIRST) + get_u32(rec + R_EXPORTS) +
		       get_u32(rec + R_UNDEFS);

	m->content = get_u64(rec + R_CONTENT);
	for (unsigned p = 0; p < DM_PARTS; p++)
		m->part[p] = get_u64(rec + R_PARTS + 8 * p);
	m->load_err = (int32_t)get_u32(rec + R_ERR);
	m->vermagic = vermagic == NONE ? NULL : c->strings + vermagic;
	m->n_aliases = get_u32(rec + R_ALIASES);
	m->aliases = strings_of(c, a, &ref, (uint32_t)m->n_aliases);
	m->n_softdeps = get_u32(rec + R_SOFTDEPS);
	m->softdeps = strings_of(c, a, &ref, (uint32_t)m->n_softdeps);
	m->n_weakdeps = get_u32(rec + R_WEAKDEPS);
	m->weakdeps = strings_of(c, a, &ref, (uint32_t)m->n_weakdeps);
	m->n_firmware = get_u32(rec + R_FIRMWARE);
	m->firmware = strings_of(c, a, &ref, (uint32_t)m->n_firmware);
	return m->aliases && m->softdeps && m->weakdeps && m->firmware ? 0 : -ENOMEM;
}

/* Record i's symbols into m (the undefined ones unless undefs_in_cache); with d,
 * interned there too (see symbol_at()). */
static int fill_symbols(struct dm_cache *c, size_t i, struct arena *a, struct dm_module *m,
			struct depmod *d, bool undefs_in_cache)
{
	const uint8_t *rec = record(c, i);
	uint64_t ref = get_u32(rec + R_FIRST);

	m->n_exports = get_u32(rec + R_EXPORTS);
	m->exports = symbols_of(c, a, &ref, (uint32_t)m->n_exports, d, false);
	m->undefs_in_cache = undefs_in_cache;
	if (undefs_in_cache)
		return m->exports ? 0 : -ENOMEM;
	m->n_undefs = get_u32(rec + R_UNDEFS);
	m->undefs = symbols_of(c, a, &ref, (uint32_t)m->n_undefs, d, true);
	return m->exports && m->undefs ? 0 : -ENOMEM;
}

/* The undefined symbols a from_cache module has left in the cache. */
static int fill_undefs(struct dm_cache *c, struct arena *a, struct dm_module *m,
		       struct depmod *d)
{
	const uint8_t *rec = record(c, m->cache_rec - 1);
	uint64_t ref = (uint64_t)get_u32(rec + R_FIRST) + get_u32(rec + R_EXPORTS);

	m->n_undefs = get_u32(rec + R_UNDEFS);
	m->undefs = symbols_of(c, a, &ref, (uint32_t)m->n_undefs, d, true);
	m->undefs_in_cache = m->undefs == NULL;
	return m->undefs ? 0 : -ENOMEM;
}

int dm_cache_foreach_undef(struct depmod *d, struct dm_module *m, dm_undef_fn fn)
{
	struct dm_cache *c = d->cache;
	const uint8_t *rec = record(c, m->cache_rec - 1);
	uint64_t ref = (uint64_t)get_u32(rec + R_FIRST) + get_u32(rec + R_EXPORTS);
	uint32_t n = get_u32(rec + R_UNDEFS);
	int r = 0;

	for (uint32_t i = 0; i < n && r == 0; i++) {
		struct dm_symref u;

		r = symbol_at(c, ref + i, d, true, &u);
		if (r == 0)
			r = fn(d, m, &u);
	}
	return r;
}

int dm_cache_record(struct dm_cache *c, size_t i, struct arena *a, struct dm_module *m)
{
	int r = dm_cache_load_b(c);

	if (r == 0)
		r = fill_lists(c, i, a, m);
	return r < 0 ? r : fill_symbols(c, i, a, m, NULL, false);
}

int dm_cache_match(struct depmod *d)
{
	struct dm_cache *c = d->cache;

	/* (the modules by name, not d->mods: the array may still be being built) */
	for (size_t i = 0; c && i < d->by_name.n_slots; i++) {
		struct dm_module *m = d->by_name.slots[i].key ? d->by_name.slots[i].value : NULL;
		uintptr_t k = m && m->have_key ? (uintptr_t)hash_find(&c->by_path, m->path) : 0;
		const uint8_t *rec = k ? record(c, k - 1) : NULL;
		struct dm_filekey key;

		if (rec == NULL || (get_u32(rec + R_FLAGS) & REC_RACY))
			continue;
		get_key(rec, &key);
		if (!dm_filekey_equal(&key, &m->key))
			continue;
		m->from_cache = true;
		m->cache_rec = (uint32_t)k;
		m->content = get_u64(rec + R_CONTENT);
		for (unsigned p = 0; p < DM_PARTS; p++)
			m->part[p] = get_u64(rec + R_PARTS + 8 * p);
		/* logged with this run's failures, in module order */
		m->load_err = (int32_t)get_u32(rec + R_ERR);
		c->n_applied++;
	}
	return 0;
}

int dm_cache_materialize_lists(struct depmod *d)
{
	struct dm_cache *c = d->cache;
	int r = 0;

	if (c == NULL || c->lists_done)
		return 0;
	r = dm_cache_load_b(c);
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];

		if (m->from_cache)
			r = fill_lists(c, m->cache_rec - 1, &d->arena, m);
	}
	c->lists_done = r == 0;
	return r;
}

/* The symbols of the modules from the cache, interned; the undefined ones stay there
 * (dm_cache_foreach_undef()) when what needs them only reads them once: two hundred
 * thousand of them on a distribution's tree. */
static int materialize_symbols(struct depmod *d, bool undefs_in_cache)
{
	struct dm_cache *c = d->cache;
	int r = 0;

	if (c == NULL)
		return 0;
	if (c->memo) {
		for (size_t i = 0; r == 0 && !undefs_in_cache && i < d->n_mods; i++) {
			if (d->mods[i]->undefs_in_cache)
				r = fill_undefs(c, &d->arena, d->mods[i], d);
		}
		return r;
	}
	r = dm_cache_load_b(c);
	if (r < 0)
		return r;
	c->memo = calloc(2 * (size_t)c->n_syms + 1, sizeof(*c->memo));
	if (c->memo == NULL)
		return -ENOMEM;
	/* room for every symbol of the cache at once */
	r = hash_reserve(&d->symbols, d->symbols.count + c->n_syms);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];

		if (m->from_cache)
			r = fill_symbols(c, m->cache_rec - 1, &d->arena, m, d, undefs_in_cache);
	}
	return r;
}

int dm_cache_materialize_symbols(struct depmod *d)
{
	return materialize_symbols(d, true);
}

int dm_cache_materialize(struct depmod *d)
{
	int r = dm_cache_materialize_lists(d);

	return r < 0 ? r : materialize_symbols(d, false);
}

/* ---- the last run's dependencies ---- */

/* Whether the modules from the cache are in the order they had in the run that wrote
 * it: else a symbol two of them export could have changed hands. */
static bool order_kept(const struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	uint64_t next = 0;

	for (size_t i = 0; i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];
		uint32_t order;

		if (!m->from_cache)
			continue;
		order = get_u32(record(c, m->cache_rec - 1) + R_ORDER);
		if (order < next)
			return false;
		next = (uint64_t)order + 1;
	}
	return true;
}

/* Symbol id's name, and the hash of its name as an export (*hash). */
static const char *sym_name(const struct dm_cache *c, uint32_t id, uint32_t *hash)
{
	const uint8_t *sym = c->syms + (size_t)(id & ~REF_WEAK) * SYM_SIZE;

	*hash = get_u32(sym + 12);
	return c->strings + get_u32(sym + 8);
}

/* Whether a module needing symbol id may need another module for it now: its name, as
 * an export or as an undefined symbol (see dm_symbol_key()), is in dirty. */
static bool sym_dirty(const struct depmod *d, const struct hash *dirty, uint32_t id)
{
	uint32_t hv;
	const char *name = sym_name(d->cache, id, &hv);
	const char *key = dm_symbol_key(d, name, false), *ukey = dm_symbol_key(d, name, true);

	return hash_find_hashed(dirty, key, hv) || (ukey != key && hash_find(dirty, ukey));
}

/*
 * Whether record rec's dependencies still hold: known, each one's module still here,
 * and none of its undefined symbols marked (a module read in this run exports it).
 * With the order kept, nothing else can move a symbol: the owner is the last exporter
 * in module order, so a module that is gone (or changed, and so read again) either
 * owned the symbol, and the modules that depended on it fail the first test, or came
 * before the owner and changes nothing.
 */
static bool deps_hold(const struct dm_cache *c, const uint8_t *rec,
		      struct dm_module *const *of_rec, const uint8_t *marked)
{
	uint64_t ref = (uint64_t)get_u32(rec + R_FIRST) + get_u32(rec + R_EXPORTS);
	uint32_t first = get_u32(rec + R_DEPS), n = get_u32(rec + R_N_DEPS);

	if (n == NONE)
		return false;
	for (uint32_t k = 0; k < n; k++) {
		if (of_rec[get_u32(c->deps + 4 * ((size_t)first + k))] == NULL)
			return false;
	}
	n = get_u32(rec + R_UNDEFS);
	for (uint32_t k = 0; k < n; k++) {
		if (marked[get_u32(c->refs + 4 * (ref + k)) & ~REF_WEAK])
			return false;
	}
	return true;
}

static int take_deps(const struct dm_cache *c, const uint8_t *rec,
		     struct dm_module *const *of_rec, struct dm_module *m)
{
	uint32_t first = get_u32(rec + R_DEPS), n = get_u32(rec + R_N_DEPS);
	struct dm_module **v = n ? malloc(n * sizeof(*v)) : NULL;

	if (n && v == NULL)
		return -ENOMEM;
	free(m->deps);
	m->deps = v;
	m->n_deps = m->cap_deps = n;
	for (uint32_t k = 0; k < n; k++) {
		v[k] = of_rec[get_u32(c->deps + 4 * ((size_t)first + k))];
		v[k]->users++;
	}
	m->deps_reused = true;
	return 0;
}

int dm_cache_reuse_deps(struct depmod *d, const struct hash *dirty)
{
	const struct dm_cache *c = d->cache;
	struct dm_module **of_rec;
	uint8_t *marked;
	int r;

	if (c == NULL || dm_cache_load_b(d->cache) < 0 || !order_kept(d))
		return 0;
	of_rec = dm_cache_records_taken(d);
	marked = calloc(c->n_syms + 1, 1);
	r = of_rec && marked ? 0 : -ENOMEM;
	for (uint32_t id = 0; r == 0 && dirty->count > 0 && id < c->n_syms; id++)
		marked[id] = sym_dirty(d, dirty, id);
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];
		const uint8_t *rec = m->from_cache ? record(c, m->cache_rec - 1) : NULL;

		if (rec && deps_hold(c, rec, of_rec, marked))
			r = take_deps(c, rec, of_rec, m);
	}
	free(of_rec);
	free(marked);
	return r < 0 ? r : 1;
}

/* ---- the last run's .bin indexes, read back (depmod-output.c) ---- */

int dm_positions_move(void *data, uint32_t *priority)
{
	const struct dm_positions *p = data;

	if (*priority >= p->n)
		return -EBADMSG; /* not a position of the cache's run */
	if (p->now[*priority] == NONE)
		return 0;
	*priority = p->now[*priority];
	return 1;
}

void dm_positions_release(struct dm_positions *p)
{
	free(p->now);
	free(p->was);
	p->now = p->was = NULL;
}

/* now[position in the cache's run] = position in this one, NONE if not from the cache,
 * and was[] the other way: -EBADMSG if the records do not say one position each. */
static int positions_now(const struct depmod *d, uint32_t *now, uint32_t *was)
{
	const struct dm_cache *c = d->cache;
	uint8_t *seen = calloc(c->n_records + 1, 1);

	if (seen == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_records; i++) {
		uint32_t order = get_u32(record(c, i) + R_ORDER);

		if (order >= c->n_records || seen[order]) {
			free(seen);
			return -EBADMSG;
		}
		seen[order] = 1;
		now[order] = NONE;
	}
	free(seen);
	for (size_t i = 0; i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];

		was[m->idx] = m->from_cache ? get_u32(record(c, m->cache_rec - 1) + R_ORDER) : NONE;
		if (m->from_cache)
			now[was[m->idx]] = m->idx;
	}
	return 0;
}

int dm_cache_positions(struct depmod *d, struct dm_positions *p)
{
	const struct dm_cache *c = d->cache;
	int r;

	p->now = p->was = NULL;
	/* new positions in the old order: the values of a key stay in theirs */
	if (c == NULL || !(c->flags & FLAG_CLEAN) || d->opts->warn_dups || !order_kept(d))
		return 0;
	p->n = c->n_records;
	p->now = malloc(((size_t)p->n + 1) * sizeof(*p->now));
	p->was = malloc((d->n_mods + 1) * sizeof(*p->was));
	if (p->now == NULL || p->was == NULL) {
		dm_positions_release(p);
		return -ENOMEM;
	}
	r = positions_now(d, p->now, p->was);
	if (r < 0)
		dm_positions_release(p);
	return r == -EBADMSG ? 0 : r < 0 ? r : 1;
}

int dm_cache_foreach_dropped(struct depmod *d, enum dm_dropped what,
			     int (*fn)(void *data, const char *name), void *data)
{
	const struct dm_cache *c = d->cache;
	struct dm_module **of_rec;
	int r = dm_cache_load_b(d->cache);

	if (r < 0)
		return r;
	of_rec = dm_cache_records_taken(d);
	if (of_rec == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_records && r == 0; i++) {
		const uint8_t *rec = record(c, i);
		uint64_t ref = get_u32(rec + R_FIRST);
		uint32_t n = get_u32(rec + R_EXPORTS);

		if (of_rec[i])
			continue;
		if (what == DM_DROPPED_ALIASES) {
			ref += (uint64_t)n + get_u32(rec + R_UNDEFS);
			n = get_u32(rec + R_ALIASES);
		}
		for (uint32_t k = 0; k < n && r == 0; k++) {
			uint32_t id = get_u32(c->refs + 4 * (ref + k)), hv;

			r = fn(data, what == DM_DROPPED_ALIASES ? c->strings + id
								 : sym_name(c, id, &hv));
		}
	}
	free(of_rec);
	return r;
}

struct dm_module **dm_cache_records_taken(const struct depmod *d)
{
	struct dm_module **of_rec = calloc(d->cache->n_records + 1, sizeof(*of_rec));

	for (size_t i = 0; of_rec && i < d->n_mods; i++) {
		if (d->mods[i]->from_cache)
			of_rec[d->mods[i]->cache_rec - 1] = d->mods[i];
	}
	return of_rec;
}

void dm_cache_claim_exports(struct depmod *d, struct dm_module *m)
{
	const struct dm_cache *c = d->cache;
	const uint8_t *rec = record(c, m->cache_rec - 1);
	uint64_t ref = get_u32(rec + R_FIRST);
	uint32_t n = get_u32(rec + R_EXPORTS);

	for (uint32_t k = 0; k < n; k++) {
		uint32_t id = get_u32(c->refs + 4 * (ref + k)), hv;
		const char *name = sym_name(c, id, &hv);
		struct hash_entry *e =
			hash_find_hashed(&d->symbols, dm_symbol_key(d, name, false), hv);
		struct dm_symbol *s = e ? e->value : NULL;

		if (s) {
			s->owner = m;
			s->crc = get_u64(c->syms + (size_t)(id & ~REF_WEAK) * SYM_SIZE);
			s->provided = true;
		}
	}
}

int dm_cache_fill_undefs(struct depmod *d, struct dm_module *m)
{
	return m->undefs_in_cache || m->undefs == NULL
		       ? fill_undefs(d->cache, &d->arena, m, d)
		       : 0;
}
