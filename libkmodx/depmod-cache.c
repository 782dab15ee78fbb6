// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * depmod's cache: what depmod read from each module, kept beside the indexes as
 * modules.kmodx-cache, so that the next run reads only the modules whose files changed,
 * appeared or disappeared, and can tell when the indexes on disk are already what it
 * would write. It is an optimisation, never a source of truth: a cache that is missing,
 * damaged, of another format or version, or written for other options (another tree,
 * kernel release, configuration, -E/-F file, -P) is ignored, the run reads every
 * module, and the cache is replaced. Outputs are the same with or without it.
 *
 * A module's record is used only if its file's identity is unchanged: device, inode,
 * size, and modification and change times to the nanosecond. A file changed within
 * two seconds before the run that read it is recorded as "racy" and read again next
 * time (dm_key_racy()). Each index has a fingerprint of what it is made of (made_of[]):
 * the options and either one part of the information of the modules that have
 * something in it, with their names and positions (modules.alias, .symbols,
 * .softdep...), or all of it (modules.dep), or an input file (modules.builtin.bin...).
 * An index is left as it is only if its fingerprint is the one recorded when it was
 * last written, the run that wrote it printed no message, and it still has the
 * identity it had then. A module added under updates/ rewrites modules.dep and, if it
 * has aliases, modules.alias and modules.devname; not the other eight.
 *
 * Format. Integers are in the host's byte order (the cache belongs to this machine; the
 * byte-order mark rejects another's). Strings are references: byte offsets into a
 * string table, each string running to its NUL. The file has two parts after the
 * header, each with its checksum: the first (records and their paths) is all a run
 * needs when no module changed; the second (symbols, references, strings) is read only
 * when the run needs what the modules hold.
 *
 *   header, HEADER_SIZE bytes:
 *     0   char[8] magic "KMODXDC\n"
 *     8   u32     format version, CACHE_VERSION
 *     12  u32     byte-order mark 0x01020304
 *     16  u64     file size
 *     24  u64     checksum of the first part (below)
 *     32  u64     options fingerprint
 *     40  u32     number of dependencies     44  u32  0
 *     48  u32     number of records
 *     52  u32     number of symbols
 *     56  u32     number of references
 *     60  u32     size of the string table
 *     64  u32     flags: FLAG_CLEAN, the indexes were built without a message
 *     68  u32     size of the path table
 *     72  u64     checksum of the second part
 *   the first part, its pieces back to back, their sizes following from the counts:
 *     the indexes               DM_OUTPUTS entries (enum dm_output), OUT_SIZE bytes each:
 *       0  key  the file's identity (KEY_SIZE bytes, see put_key())
 *       48 u64  its fingerprint; 0: not known good
 *     records                   REC_SIZE bytes each, one per module:
 *       0  key  the file's identity       48  u64 content hash (m->content)
 *       56 u32  path (in the path table)  60  i32 negative errno if unreadable, or 0
 *       64 u32  first reference           68  u32 exports      72 u32 undefined symbols
 *       76 u32  aliases   80 u32 softdeps  84 u32 weakdeps      88 u32 firmware files
 *       92 u32  vermagic (string, NONE if the module has none)
 *       96 u32  flags: REC_RACY           100 u32 0
 *       104 u64[DM_PARTS] the hashes of its parts (m->part, enum dm_part)
 *       then (R_DEPS) u32 first dependency, u32 their number (NONE: not known),
 *                     u32 the module's position in the run's order, u32 0
 *     path table                ending with a NUL
 *   the second part:
 *     symbols                   SYM_SIZE bytes each: u64 CRC, u32 name (string),
 *                               u32 superfasthash of the name as an export (prefix gone)
 *     references                u32 each. A record's, from its first: one per export
 *       (a symbol), per undefined symbol (a symbol, REF_WEAK set if weak), then one per
 *       alias, softdep, weakdep and firmware file (strings). Each record's references
 *       start at or after the previous record's end: a run that read a few modules
 *       appends theirs and keeps the others' (the tables then hold some garbage, until
 *       a run rewrites them all).
 *     string table              ending with a NUL
 *     dependencies              u32 each, records: a record's direct dependencies as the
 *       run that wrote the file resolved them, in first-use order. Unlike the tables
 *       above they are all written anew each time: records are renumbered.
 *   The checksums are hash64 streams (util/hash.h) seeded with CACHE_VERSION: the first
 *   over header bytes [32, HEADER_SIZE) (the second checksum included) and the first
 *   part, the second over the second part. The file size must be exactly what the
 *   counts give, and every reference must point inside its table.
 *
 * CACHE_VERSION changes whenever the format or what depmod reads from a module changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "depmod-private.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#define CACHE_NAME    "modules.kmodx-cache"
#define CACHE_VERSION 3u
#define CACHE_MAGIC   "KMODXDC\n"
#define BOM	      0x01020304u
#define CACHE_MAX     ((size_t)1 << 30)

#define HEADER_SIZE 80
#define KEY_SIZE    48
#define OUT_SIZE    (KEY_SIZE + 8)
#define SYM_SIZE    16
#define NONE	    UINT32_MAX
#define REF_WEAK    0x80000000u
#define FLAG_CLEAN  1u
#define REC_RACY    1u

struct dm_cache {
	const uint8_t *map; /* the file, mapped; NULL when parsed from memory */
	size_t map_size;
	uint8_t *a, *b; /* the first and second parts: in map, or copies */
	size_t a_size, b_size;
	int b_state; /* 0 not read yet, 1 read and good, -EBADMSG */
	uint64_t options_fp, sum_a, sum_b;
	uint32_t flags;
	uint32_t n_records, n_syms, n_refs, strings_size, paths_size, n_deps;
	uint8_t head[HEADER_SIZE];
	const uint8_t *outputs, *records, *syms, *refs, *deps;
	const char *paths, *strings;
	struct hash by_path; /* path -> record index + 1 */
	/* per symbol, interned: [2i] as an export, [2i + 1] as undefined */
	struct dm_symbol **memo; /* also: the modules' symbols are filled in */
	bool lists_done;	 /* the modules' other fields are */
	uint32_t n_applied;
};

/* ---- reading fields ---- */

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void get_key(const uint8_t *p, struct dm_filekey *k)
{
	k->dev = get_u64(p);
	k->ino = get_u64(p + 8);
	k->size = get_u64(p + 16);
	k->mtime = (int64_t)get_u64(p + 24);
	k->ctime = (int64_t)get_u64(p + 32);
	k->mtime_ns = get_u32(p + 40);
	k->ctime_ns = get_u32(p + 44);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_key(uint8_t *p, const struct dm_filekey *k)
{
	put_u64(p, k->dev);
	put_u64(p + 8, k->ino);
	put_u64(p + 16, k->size);
	put_u64(p + 24, (uint64_t)k->mtime);
	put_u64(p + 32, (uint64_t)k->ctime);
	put_u32(p + 40, k->mtime_ns);
	put_u32(p + 44, k->ctime_ns);
}

/* The header's fields and a record's, by offset. */
enum {
	H_SIZE = 16,
	H_SUM_A = 24,
	H_OPTIONS = 32,
	H_DEPS = 40,
	H_RECORDS = 48,
	H_SYMS = 52,
	H_REFS = 56,
	H_STRINGS = 60,
	H_FLAGS = 64,
	H_PATHS = 68,
	H_SUM_B = 72,
};

enum {
	R_CONTENT = 48,
	R_PATH = 56,
	R_ERR = 60,
	R_FIRST = 64,
	R_EXPORTS = 68,
	R_UNDEFS = 72,
	R_ALIASES = 76,
	R_SOFTDEPS = 80,
	R_WEAKDEPS = 84,
	R_FIRMWARE = 88,
	R_VERMAGIC = 92,
	R_FLAGS = 96,
	R_PARTS = 104,
	R_DEPS = R_PARTS + 8 * DM_PARTS,
	R_N_DEPS = R_DEPS + 4,
	R_ORDER = R_DEPS + 8,
	REC_SIZE = R_DEPS + 16,
};

static const uint8_t *record(const struct dm_cache *c, size_t i)
{
	return c->records + i * REC_SIZE;
}

/* The references of a record: exports, undefined symbols, then the string lists. */
static uint64_t record_refs(const uint8_t *rec)
{
	uint64_t n = 0;

	for (unsigned f = R_EXPORTS; f <= R_FIRMWARE; f += 4)
		n += get_u32(rec + f);
	return n;
}

/* ---- checking ---- */

static uint64_t sum_of(const uint8_t *header, const struct fileio_part *parts, size_t n)
{
	struct hash64_stream h;

	hash64_init(&h, CACHE_VERSION);
	if (header)
		hash64_feed(&h, header + H_OPTIONS, HEADER_SIZE - H_OPTIONS);
	for (size_t i = 0; i < n; i++)
		hash64_feed(&h, parts[i].data, parts[i].len);
	return hash64_final(&h);
}

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
	a = (uint64_t)DM_OUTPUTS * OUT_SIZE + (uint64_t)c->n_records * REC_SIZE +
	    c->paths_size;
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

/* The first part: the records and their paths. */
static bool part_a_ok(struct dm_cache *c)
{
	struct fileio_part part = {c->a, c->a_size};
	uint64_t next = 0;

	if (sum_of(c->head, &part, 1) != c->sum_a)
		return false;
	c->outputs = c->a;
	c->records = c->outputs + DM_OUTPUTS * OUT_SIZE;
	c->paths = (const char *)c->records + (size_t)c->n_records * REC_SIZE;
	if (c->paths_size > 0 && c->paths[c->paths_size - 1] != '\0')
		return false;
	for (uint32_t i = 0; i < c->n_records; i++) {
		if (!record_ok(c, record(c, i), &next))
			return false;
	}
	return true;
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
	return r;
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
	hash_release(&c->by_path);
	free(c->memo);
	if (c->map) {
		munmap((void *)c->map, c->map_size);
	} else {
		free(c->a);
		free(c->b);
	}
	free(c);
}

/* The second part, checked on first use: 0 or -EBADMSG. */
static int load_b(struct dm_cache *c)
{
	if (c->b_state != 0)
		return c->b_state < 0 ? c->b_state : 0;
	c->b_state = part_b_ok(c) ? 1 : -EBADMSG;
	return c->b_state < 0 ? c->b_state : 0;
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
		r = part_a_ok(c) ? load_b(c) : -EBADMSG;
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
 * Map the file and check the header and first part: 0, -EBADMSG, -ENOMEM or an errno of
 * opening or mapping the file. Mapped, as the indexes and modules are (index.c,
 * file.c): a run with nothing changed reads only the first part, and one that needs the
 * second neither copies its megabytes nor, at the end, frees them. A new cache replaces
 * the file by renaming; the mapped one stays whole.
 */
static int open_cache(const char *path, struct dm_cache *c)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CACHE_MAX ||
		 (size_t)st.st_size < HEADER_SIZE)
		r = -EBADMSG;
	map = r == 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (map == MAP_FAILED)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
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
	    c->n_records != d->n_mods || !!(c->flags & FLAG_CLEAN) != clean)
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
	if (r == -EBADMSG)
		DBG(d->ctx, "%s: damaged or of another format: every module is read",
		    path);
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
	int r = load_b(c);

	if (r == 0)
		r = fill_lists(c, i, a, m);
	return r < 0 ? r : fill_symbols(c, i, a, m, NULL, false);
}

int dm_cache_match(struct depmod *d)
{
	struct dm_cache *c = d->cache;

	for (size_t i = 0; c && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];
		uintptr_t k =
			m->have_key ? (uintptr_t)hash_find(&c->by_path, m->path) : 0;
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
	r = load_b(c);
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
	r = load_b(c);
	if (r < 0)
		return r;
	/* (written before it is read: see rehash() in util/hash.c) */
	c->memo = malloc((2 * (size_t)c->n_syms + 1) * sizeof(*c->memo));
	if (c->memo == NULL)
		return -ENOMEM;
	memset(c->memo, 0, (2 * (size_t)c->n_syms + 1) * sizeof(*c->memo));
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

/* Symbol id's name, hash and CRC. */
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

	if (c == NULL || load_b(d->cache) < 0 || !order_kept(d))
		return 0;
	of_rec = calloc(c->n_records + 1, sizeof(*of_rec));
	marked = calloc(c->n_syms + 1, 1);
	r = of_rec && marked ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		if (d->mods[i]->from_cache)
			of_rec[d->mods[i]->cache_rec - 1] = d->mods[i];
	}
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

int dm_cache_claim_exports(struct depmod *d, struct dm_module *m)
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
	return 0;
}

int dm_cache_fill_undefs(struct depmod *d, struct dm_module *m)
{
	return m->undefs_in_cache || m->undefs == NULL
		       ? fill_undefs(d->cache, &d->arena, m, d)
		       : 0;
}

/* ---- saving ---- */

/* A symbol of the file: one per name and CRC, found through the interned symbol. */
struct dm_serid {
	struct dm_serid *next;
	const char *raw;
	uint64_t crc;
	uint32_t id;
};

/*
 * The new cache is written after the old one's tables when there is an old one (base):
 * the records of unchanged modules are copied, their references still good, and only
 * what the modules read in this run hold is appended. Without a base, or once more than
 * half of the old tables is garbage, everything is written anew.
 */
struct writer {
	struct depmod *d;
	const struct dm_cache *base;
	struct strbuf records, paths;	   /* the first part, all new */
	struct strbuf syms, refs, strings; /* what comes after base's */
	struct strbuf deps;		   /* all new */
	struct ptrarray mods;		   /* by record: its module */
	uint32_t n_syms;		   /* base's included */
	size_t refs_base, strings_base;
};

static int add_string(struct writer *w, const char *s, uint32_t *ref)
{
	size_t off = w->strings_base + w->strings.len;

	if (off >= NONE)
		return -EFBIG;
	*ref = (uint32_t)off;
	return strbuf_append(&w->strings, s, strlen(s) + 1);
}

static int add_path(struct writer *w, const char *s, uint8_t *rec)
{
	if (w->paths.len >= NONE)
		return -EFBIG;
	put_u32(rec + R_PATH, (uint32_t)w->paths.len);
	return strbuf_append(&w->paths, s, strlen(s) + 1);
}

static int add_ref(struct writer *w, uint32_t ref)
{
	return strbuf_append(&w->refs, &ref, sizeof(ref));
}

static int symbol_id(struct writer *w, const struct dm_symref *s, uint32_t *id)
{
	struct dm_serid *e;
	uint8_t buf[SYM_SIZE] = {0};
	const char *key;
	uint32_t name;
	int r;

	for (e = s->sym->ser; e; e = e->next) {
		if (e->crc == s->crc && (e->raw == s->name || streq(e->raw, s->name))) {
			*id = e->id;
			return 0;
		}
	}
	e = arena_alloc(&w->d->arena, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	if (w->n_syms >= REF_WEAK)
		return -EFBIG;
	r = add_string(w, s->name, &name);
	if (r < 0)
		return r;
	put_u64(buf, s->crc);
	put_u32(buf + 8, name);
	key = dm_symbol_key(w->d, s->name, false);
	put_u32(buf + 12, streq(key, s->sym->name) ? s->sym->hash : superfasthash(key, strlen(key)));
	*e = (struct dm_serid){s->sym->ser, s->name, s->crc, w->n_syms++};
	s->sym->ser = e;
	*id = e->id;
	return strbuf_append(&w->syms, buf, sizeof(buf));
}

static int add_symbols(struct writer *w, const struct dm_symref *v, size_t n)
{
	/* room for all of them at once: two hundred thousand of them in a full run */
	int r = strbuf_reserve(&w->refs, n * sizeof(uint32_t));

	for (size_t i = 0; i < n && r == 0; i++) {
		uint32_t id = 0;

		r = symbol_id(w, &v[i], &id);
		if (r < 0)
			break;
		id |= v[i].weak ? REF_WEAK : 0;
		memcpy(w->refs.buf + w->refs.len, &id, sizeof(id));
		w->refs.len += sizeof(id);
	}
	return r;
}

static int add_strings(struct writer *w, const char *const *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		uint32_t s;

		r = add_string(w, v[i], &s);
		if (r == 0)
			r = add_ref(w, s);
	}
	return r;
}

static int add_lists(struct writer *w, const struct dm_module *m)
{
	int r = add_symbols(w, m->exports, m->n_exports);

	if (r == 0)
		r = add_symbols(w, m->undefs, m->n_undefs);
	if (r == 0)
		r = add_strings(w, m->aliases, m->n_aliases);
	if (r == 0)
		r = add_strings(w, m->softdeps, m->n_softdeps);
	if (r == 0)
		r = add_strings(w, m->weakdeps, m->n_weakdeps);
	if (r == 0)
		r = add_strings(w, m->firmware, m->n_firmware);
	return r;
}

static int add_record(struct writer *w, const struct dm_module *m)
{
	uint8_t rec[REC_SIZE] = {0};
	uint32_t vermagic = NONE;
	size_t first = w->refs_base + w->refs.len / 4;
	int r = add_path(w, m->path, rec);

	if (r == 0 && m->vermagic)
		r = add_string(w, m->vermagic, &vermagic);
	if (r == 0)
		r = add_lists(w, m);
	if (r < 0 || w->refs_base + w->refs.len / 4 >= NONE)
		return r < 0 ? r : -EFBIG;
	put_key(rec, &m->key);
	put_u64(rec + R_CONTENT, m->content);
	put_u32(rec + R_ERR, (uint32_t)m->load_err);
	put_u32(rec + R_FIRST, (uint32_t)first);
	put_u32(rec + R_EXPORTS, (uint32_t)m->n_exports);
	put_u32(rec + R_UNDEFS, (uint32_t)m->n_undefs);
	put_u32(rec + R_ALIASES, (uint32_t)m->n_aliases);
	put_u32(rec + R_SOFTDEPS, (uint32_t)m->n_softdeps);
	put_u32(rec + R_WEAKDEPS, (uint32_t)m->n_weakdeps);
	put_u32(rec + R_FIRMWARE, (uint32_t)m->n_firmware);
	put_u32(rec + R_VERMAGIC, vermagic);
	put_u32(rec + R_FLAGS, dm_key_racy(w->d, &m->key) ? REC_RACY : 0);
	for (unsigned p = 0; p < DM_PARTS; p++)
		put_u64(rec + R_PARTS + 8 * p, m->part[p]);
	r = ptrarray_push(&w->mods, (void *)m);
	return r < 0 ? r : strbuf_append(&w->records, rec, sizeof(rec));
}

/* By record of the old cache, the module of this run that took it, or NULL. */
static struct dm_module **records_taken(const struct depmod *d)
{
	struct dm_module **of_rec = calloc(d->cache->n_records + 1, sizeof(*of_rec));

	for (size_t i = 0; of_rec && i < d->n_mods; i++) {
		if (d->mods[i]->from_cache)
			of_rec[d->mods[i]->cache_rec - 1] = d->mods[i];
	}
	return of_rec;
}

/* The records of the old cache still used, as they were, in their order (so that their
 * references stay in order). */
static int keep_records(struct writer *w, uint32_t *n)
{
	const struct dm_cache *c = w->base;
	struct dm_module **of_rec = records_taken(w->d);
	int r = of_rec ? 0 : -ENOMEM;

	for (uint32_t i = 0; i < c->n_records && r == 0; i++) {
		uint8_t rec[REC_SIZE];

		if (of_rec[i] == NULL)
			continue;
		memcpy(rec, record(c, i), REC_SIZE);
		r = add_path(w, c->paths + get_u32(rec + R_PATH), rec);
		if (r == 0)
			r = ptrarray_push(&w->mods, of_rec[i]);
		if (r == 0)
			r = strbuf_append(&w->records, rec, REC_SIZE);
		(*n)++;
	}
	free(of_rec);
	return r;
}

/*
 * A module's direct dependencies, as record numbers of the new file (rec_no, by module
 * index): the ones this run resolved, else the old file's for a module it took from
 * there (of_rec: the old records' modules); NONE for a module with none known, or one
 * of them without a record.
 */
static uint32_t add_module_deps(struct writer *w, const struct dm_module *m,
				const uint32_t *rec_no, struct dm_module *const *of_rec)
{
	const struct dm_cache *c = w->d->cache;
	size_t len = w->deps.len;
	const uint8_t *rec = NULL;
	uint32_t n = NONE;

	if (w->d->deps_resolved)
		n = (uint32_t)m->n_deps;
	else if (of_rec && m->from_cache)
		n = get_u32((rec = record(c, m->cache_rec - 1)) + R_N_DEPS);
	for (uint32_t k = 0; k < n && n != NONE; k++) {
		const struct dm_module *dep =
			rec ? of_rec[get_u32(c->deps + 4 * ((size_t)get_u32(rec + R_DEPS) + k))]
			    : m->deps[k];
		uint32_t no = dep ? rec_no[dep->idx] : NONE;

		if (no == NONE || strbuf_append(&w->deps, &no, sizeof(no)) < 0)
			n = NONE;
	}
	if (n == NONE)
		w->deps.len = len;
	return n;
}

/* Each record's dependencies and the module's position in this run's order. */
static int add_deps(struct writer *w)
{
	struct depmod *d = w->d;
	uint32_t *rec_no = malloc((d->n_mods + 1) * sizeof(*rec_no));
	struct dm_module **of_rec = NULL;
	int r = rec_no ? 0 : -ENOMEM;

	if (r == 0 && !d->deps_resolved && d->cache && load_b(d->cache) == 0) {
		of_rec = records_taken(d);
		r = of_rec ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < d->n_mods; i++)
		rec_no[i] = NONE;
	for (size_t k = 0; r == 0 && k < w->mods.n; k++)
		rec_no[((struct dm_module *)w->mods.v[k])->idx] = (uint32_t)k;
	for (size_t k = 0; r == 0 && k < w->mods.n; k++) {
		const struct dm_module *m = w->mods.v[k];
		uint8_t *rec = (uint8_t *)w->records.buf + k * REC_SIZE;
		uint32_t first = (uint32_t)(w->deps.len / 4);

		put_u32(rec + R_N_DEPS, add_module_deps(w, m, rec_no, of_rec));
		put_u32(rec + R_DEPS, first);
		put_u32(rec + R_ORDER, m->idx);
	}
	free(rec_no);
	free(of_rec);
	return r;
}

/* Whether the old tables are worth keeping: at least half of them still in use. */
static bool keep_base(const struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	uint64_t live = 0;

	if (c == NULL || load_b(d->cache) < 0)
		return false;
	for (size_t i = 0; i < d->n_mods; i++) {
		if (d->mods[i]->from_cache)
			live += record_refs(record(c, d->mods[i]->cache_rec - 1));
	}
	return 2 * live >= c->n_refs;
}

static void fill_header(struct writer *w, uint8_t *h, uint32_t n_records,
			const struct fileio_part *a, const struct fileio_part *b)
{
	struct depmod *d = w->d;
	bool good = d->outputs_written;
	size_t size = HEADER_SIZE;

	for (size_t i = 0; i < 3; i++)
		size += a[i].len;
	for (size_t i = 0; i < 7; i++)
		size += b[i].len;
	memset(h, 0, HEADER_SIZE);
	memcpy(h, CACHE_MAGIC, 8);
	put_u32(h + 8, CACHE_VERSION);
	put_u32(h + 12, BOM);
	put_u64(h + H_SIZE, size);
	put_u64(h + H_OPTIONS, d->options_fp);
	put_u32(h + H_DEPS, (uint32_t)(w->deps.len / 4));
	put_u32(h + H_RECORDS, n_records);
	put_u32(h + H_SYMS, w->n_syms);
	put_u32(h + H_REFS, (uint32_t)(w->refs_base + w->refs.len / 4));
	put_u32(h + H_STRINGS, (uint32_t)(w->strings_base + w->strings.len));
	put_u32(h + H_FLAGS, good && d->outputs_clean ? FLAG_CLEAN : 0);
	put_u32(h + H_PATHS, (uint32_t)w->paths.len);
	put_u64(h + H_SUM_B, sum_of(NULL, b, 7));
	put_u64(h + H_SUM_A, sum_of(h, a, 3));
}

static int write_cache(struct writer *w, uint32_t n_records)
{
	const struct dm_cache *b = w->base;
	uint8_t header[HEADER_SIZE], outputs[DM_OUTPUTS * OUT_SIZE];
	struct fileio_part parts[] = {
		{header, sizeof(header)},
		/* the first part */
		{outputs, sizeof(outputs)},
		{w->records.buf, w->records.len},
		{w->paths.buf, w->paths.len},
		/* the second */
		{b ? b->syms : NULL, b ? (size_t)b->n_syms * SYM_SIZE : 0},
		{w->syms.buf, w->syms.len},
		{b ? b->refs : NULL, w->refs_base * 4},
		{w->refs.buf, w->refs.len},
		{b ? (const uint8_t *)b->strings : NULL, w->strings_base},
		{w->strings.buf, w->strings.len},
		{w->deps.buf, w->deps.len},
	};

	if (w->strings_base + w->strings.len >= NONE || w->paths.len >= NONE ||
	    w->deps.len / 4 >= NONE)
		return -EFBIG;
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		uint8_t *p = outputs + (size_t)i * OUT_SIZE;

		put_key(p, &w->d->out_keys[i]);
		put_u64(p + KEY_SIZE, w->d->outputs_written ? w->d->out_fp[i] : 0);
	}
	fill_header(w, header, n_records, parts + 1, parts + 4);
	return dm_replace_file(w->d, CACHE_NAME, parts, ARRAY_SIZE(parts));
}

static int add_records(struct writer *w, uint32_t *n)
{
	struct depmod *d = w->d;
	int r = w->base ? keep_records(w, n) : 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		/* a file that could not be opened has no identity: read it again next
		 * time; and with a base, the kept records are already in */
		if (!m->have_key || (w->base && m->from_cache))
			continue;
		r = add_record(w, m);
		(*n)++;
	}
	return r;
}

/* What the next cache holds, built before it is written. */
struct dm_cache_writer {
	struct writer w;
	uint32_t n_records;
	int r;
};

void dm_cache_writer_free(struct dm_cache_writer *b)
{
	if (b == NULL)
		return;
	strbuf_release(&b->w.records);
	strbuf_release(&b->w.paths);
	strbuf_release(&b->w.syms);
	strbuf_release(&b->w.refs);
	strbuf_release(&b->w.strings);
	strbuf_release(&b->w.deps);
	ptrarray_release(&b->w.mods);
	free(b);
}

int dm_cache_build(struct depmod *d)
{
	struct dm_cache_writer *b = calloc(1, sizeof(*b));

	dm_cache_writer_free(d->next_cache);
	d->next_cache = b;
	if (b == NULL)
		return d->next_cache_err = -ENOMEM;
	b->w.d = d;
	if (keep_base(d)) {
		b->w.base = d->cache;
		b->w.n_syms = b->w.base->n_syms;
		b->w.refs_base = b->w.base->n_refs;
		b->w.strings_base = b->w.base->strings_size;
	} else {
		/* everything anew: the cached modules' records are needed in full */
		b->r = dm_cache_materialize(d);
	}
	if (b->r == 0)
		b->r = add_records(&b->w, &b->n_records);
	if (b->r == 0)
		b->r = add_deps(&b->w);
	return d->next_cache_err = b->r;
}

int dm_cache_save(struct depmod *d)
{
	/* built beside the indexes, or now; a build that failed is not tried again */
	int r = d->next_cache || d->next_cache_err ? d->next_cache_err : dm_cache_build(d);

	if (r == 0)
		r = write_cache(&d->next_cache->w, d->next_cache->n_records);
	if (r < 0)
		INFO(d->ctx, "could not write %s/" CACHE_NAME ": %s", d->outdir,
		     strerror(-r));
	dm_cache_writer_free(d->next_cache);
	d->next_cache = NULL;
	return r;
}
