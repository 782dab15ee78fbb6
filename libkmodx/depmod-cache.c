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
 * time (dm_key_racy()). The indexes are skipped only if every module's contents, the
 * options, modules.builtin and modules.builtin.modinfo hash to the fingerprint recorded
 * when the indexes were last written, that run printed no message, and every index
 * still has the identity it had then.
 *
 * Format. Integers are in the host's byte order (the cache belongs to this machine; the
 * byte-order mark rejects another's). Strings are references: byte offsets into the
 * string table, each string running to its NUL.
 *
 *   header, HEADER_SIZE bytes:
 *     0   char[8] magic "KMODXDC\n"
 *     8   u32     format version, CACHE_VERSION
 *     12  u32     byte-order mark 0x01020304
 *     16  u64     file size
 *     24  u64     checksum (below)
 *     32  u64     options fingerprint
 *     40  u64     outputs fingerprint; 0: the indexes are not known good
 *     48  u32     number of records
 *     52  u32     number of symbols
 *     56  u32     number of references
 *     60  u32     size of the string table
 *     64  u32     flags: FLAG_CLEAN, the indexes were built without a message
 *     68  u32     0
 *   then, back to back, their sizes following from the counts:
 *     the indexes' identities   DM_OUTPUTS keys (KEY_SIZE bytes each, see put_key())
 *     records                   REC_SIZE bytes each, one per module, in module order:
 *       0  key  the file's identity       48  u64 content hash (m->content)
 *       56 u32  path (string)             60  i32 negative errno if unreadable, or 0
 *       64 u32  first reference           68  u32 exports      72 u32 undefined symbols
 *       76 u32  aliases   80 u32 softdeps  84 u32 weakdeps      88 u32 firmware files
 *       92 u32  vermagic (string, NONE if the module has none)
 *       96 u32  flags: REC_RACY           100 u32 0
 *       its references, from the first: one per export (a symbol), per undefined
 *       symbol (a symbol, REF_WEAK set if weak), then one per alias, softdep, weakdep
 *       and firmware file (strings)
 *     symbols                   SYM_SIZE bytes each: u64 CRC, u32 name (string), u32 0
 *     references                u32 each
 *     string table              ending with a NUL
 *   The checksum is hash64() over bytes [32, HEADER_SIZE), then each part above in
 *   turn, each hash seeding the next. The file size must be exactly what the counts
 *   give, and every reference must point inside its table.
 *
 * CACHE_VERSION changes whenever the format or what depmod reads from a module changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "depmod-private.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#define CACHE_NAME    "modules.kmodx-cache"
#define CACHE_VERSION 1u
#define CACHE_MAGIC   "KMODXDC\n"
#define BOM	      0x01020304u
#define CACHE_MAX     ((size_t)1 << 30)

#define HEADER_SIZE 72
#define KEY_SIZE    48
#define REC_SIZE    104
#define SYM_SIZE    16
#define NONE	    UINT32_MAX
#define REF_WEAK    0x80000000u
#define FLAG_CLEAN  1u
#define REC_RACY    1u

struct dm_cache {
	uint8_t *data;
	size_t size;
	uint64_t options_fp, outputs_fp;
	uint32_t flags;
	uint32_t n_records, n_syms, n_refs, strings_size;
	const uint8_t *keys, *records, *syms, *refs;
	const char *strings;
	struct hash by_path; /* path -> record index + 1 */
	struct dm_symbol *
		*memo; /* per symbol: [2i] as an export, [2i + 1] as undefined */
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

/* A record's fields by name. */
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

struct parts {
	const uint8_t *p[5];
	size_t len[5];
};

static uint64_t checksum(const uint8_t *header, const struct parts *parts)
{
	uint64_t h = hash64(header + 32, HEADER_SIZE - 32, CACHE_VERSION);

	for (unsigned i = 0; i < ARRAY_SIZE(parts->p); i++)
		h = hash64(parts->p[i], parts->len[i], h);
	return h;
}

static bool string_ok(const struct dm_cache *c, uint32_t s)
{
	return s < c->strings_size;
}

/* Records use the references one after the other: next is where this one must start
 * (which also bounds the work of checking them all by the size of the table). */
static bool record_ok(const struct dm_cache *c, const uint8_t *rec, uint64_t *next)
{
	uint64_t first = get_u32(rec + R_FIRST), n = record_refs(rec);
	uint32_t syms = get_u32(rec + R_EXPORTS) + get_u32(rec + R_UNDEFS);
	uint32_t vermagic = get_u32(rec + R_VERMAGIC);
	int32_t err = (int32_t)get_u32(rec + R_ERR);

	if (!string_ok(c, get_u32(rec + R_PATH)) ||
	    (vermagic != NONE && !string_ok(c, vermagic)))
		return false;
	if (err > 0 || err < -4095 || first != *next || first + n > c->n_refs)
		return false;
	*next = first + n;
	/* the counts were summed in 64 bits above, so this one cannot wrap */
	for (uint64_t k = 0; k < n; k++) {
		uint32_t ref = get_u32(c->refs + 4 * (first + k));

		if (k < syms ? (ref & ~REF_WEAK) >= c->n_syms : !string_ok(c, ref))
			return false;
	}
	return true;
}

static bool tables_ok(const struct dm_cache *c)
{
	uint64_t next = 0;

	if (c->strings_size > 0 && c->strings[c->strings_size - 1] != '\0')
		return false;
	for (uint32_t i = 0; i < c->n_syms; i++) {
		if (!string_ok(c, get_u32(c->syms + (size_t)i * SYM_SIZE + 8)))
			return false;
	}
	for (uint32_t i = 0; i < c->n_records; i++) {
		if (!record_ok(c, record(c, i), &next))
			return false;
	}
	return true;
}

/* Where each part starts; false if the counts do not add up to the file's size. */
static bool layout(struct dm_cache *c, struct parts *parts)
{
	uint64_t sizes[5] = {
		(uint64_t)DM_OUTPUTS * KEY_SIZE,
		(uint64_t)c->n_records * REC_SIZE,
		(uint64_t)c->n_syms * SYM_SIZE,
		(uint64_t)c->n_refs * 4,
		c->strings_size,
	};
	uint64_t off = HEADER_SIZE;

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		parts->p[i] = c->data + off;
		parts->len[i] = (size_t)sizes[i];
		off += sizes[i];
	}
	if (off != c->size)
		return false;
	c->keys = parts->p[0];
	c->records = parts->p[1];
	c->syms = parts->p[2];
	c->refs = parts->p[3];
	c->strings = (const char *)parts->p[4];
	return true;
}

static bool header_ok(struct dm_cache *c, struct parts *parts)
{
	const uint8_t *h = c->data;

	if (c->size < HEADER_SIZE || memcmp(h, CACHE_MAGIC, 8) != 0)
		return false;
	if (get_u32(h + 8) != CACHE_VERSION || get_u32(h + 12) != BOM ||
	    get_u64(h + 16) != c->size)
		return false;
	c->options_fp = get_u64(h + 32);
	c->outputs_fp = get_u64(h + 40);
	c->n_records = get_u32(h + 48);
	c->n_syms = get_u32(h + 52);
	c->n_refs = get_u32(h + 56);
	c->strings_size = get_u32(h + 60);
	c->flags = get_u32(h + 64);
	return layout(c, parts) && checksum(h, parts) == get_u64(h + 24);
}

void dm_cache_seal(uint8_t *data, size_t len)
{
	struct dm_cache c = {.data = data, .size = len};
	struct parts parts;

	if (len < HEADER_SIZE)
		return;
	put_u64(data + 16, len);
	c.n_records = get_u32(data + 48);
	c.n_syms = get_u32(data + 52);
	c.n_refs = get_u32(data + 56);
	c.strings_size = get_u32(data + 60);
	if (layout(&c, &parts))
		put_u64(data + 24, checksum(data, &parts));
}

void dm_cache_free(struct dm_cache *c)
{
	if (c == NULL)
		return;
	hash_release(&c->by_path);
	free(c->memo);
	free(c->data);
	free(c);
}

/* Takes data (malloc'ed) over, also on failure. */
static int parse(uint8_t *data, size_t len, struct dm_cache **out)
{
	struct dm_cache *c = calloc(1, sizeof(*c));
	struct parts parts;
	int r = 0;

	if (c == NULL) {
		free(data);
		return -ENOMEM;
	}
	c->data = data;
	c->size = len;
	if (!header_ok(c, &parts) || !tables_ok(c))
		r = -EBADMSG;
	if (r == 0)
		r = hash_reserve(&c->by_path, c->n_records);
	for (uint32_t i = 0; r == 0 && i < c->n_records; i++) {
		const char *path = c->strings + get_u32(record(c, i) + R_PATH);

		r = hash_set(&c->by_path, path, (void *)(uintptr_t)(i + 1));
	}
	if (r < 0) {
		dm_cache_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int dm_cache_parse(struct kmodx_ctx *ctx, const uint8_t *data, size_t len,
		   struct dm_cache **cache)
{
	uint8_t *copy = malloc(len ? len : 1);

	(void)ctx;
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	return parse(copy, len, cache);
}

size_t dm_cache_count(const struct dm_cache *c)
{
	return c->n_records;
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

int dm_cache_fingerprint(struct depmod *d)
{
	uint64_t flags = (uint64_t)d->errsyms | (uint64_t)d->opts->warn_dups << 1;
	uint64_t h = hash64(&flags, sizeof(flags), d->options_fp);
	int r = hash_input(d, "modules.builtin", &h);

	if (r == 0)
		r = hash_input(d, "modules.builtin.modinfo", &h);
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];

		h = hash_str(m->idxpath, h);
		h = hash_str(m->modname, h);
		h = hash64(&m->content, sizeof(m->content), h);
	}
	d->outputs_fp = h ? h : 1; /* 0 means "unknown" in the file */
	return r;
}

bool dm_cache_outputs_current(struct depmod *d)
{
	const struct dm_cache *c = d->cache;

	if (c == NULL || c->outputs_fp == 0 || c->outputs_fp != d->outputs_fp ||
	    !(c->flags & FLAG_CLEAN))
		return false;
	for (unsigned i = 0; i < DM_OUTPUTS; i++)
		get_key(c->keys + (size_t)i * KEY_SIZE, &d->out_keys[i]);
	if (!dm_outputs_unchanged(d, d->out_keys))
		return false;
	d->outputs_written = true;
	return true;
}

bool dm_cache_stale(const struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	bool clean = d->outputs_written && d->outputs_clean;

	if (c == NULL || d->n_loaded > 0 || c->n_applied != c->n_records ||
	    c->n_records != d->n_mods || !!(c->flags & FLAG_CLEAN) != clean)
		return true;
	if (c->outputs_fp != (d->outputs_written ? d->outputs_fp : 0))
		return true;
	for (unsigned i = 0; d->outputs_written && i < DM_OUTPUTS; i++) {
		struct dm_filekey k;

		get_key(c->keys + (size_t)i * KEY_SIZE, &k);
		if (!dm_filekey_equal(&k, &d->out_keys[i]))
			return true;
	}
	return false;
}

/* ---- loading ---- */

int dm_cache_load(struct depmod *d)
{
	char path[PATH_MAX], *data = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/" CACHE_NAME, d->outdir) >=
	    sizeof(path))
		return 0;
	r = read_file_at(AT_FDCWD, path, CACHE_MAX, &data, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		DBG(d->ctx, "%s: %s: every module is read", path, strerror(-r));
		return 0;
	}
	r = parse((uint8_t *)data, len, &d->cache);
	if (r == -EBADMSG)
		DBG(d->ctx, "%s: damaged or of another format: every module is read",
		    path);
	else if (r == 0 && d->cache->options_fp != d->options_fp)
		DBG(d->ctx, "%s: written for other options: every module is read", path);
	if (r == 0 && d->cache->options_fp == d->options_fp)
		return 0;
	dm_cache_free(d->cache);
	d->cache = NULL;
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

static struct dm_symref *symbols_of(struct dm_cache *c, struct arena *a, uint64_t *ref,
				    uint32_t n)
{
	struct dm_symref *v = arena_alloc(a, (n ? n : 1) * sizeof(*v));

	for (uint32_t i = 0; v && i < n; i++, (*ref)++) {
		uint32_t id = get_u32(c->refs + 4 * *ref);
		const uint8_t *sym = c->syms + (size_t)(id & ~REF_WEAK) * SYM_SIZE;

		v[i].name = c->strings + get_u32(sym + 8);
		v[i].crc = get_u64(sym);
		v[i].weak = id & REF_WEAK;
		v[i].sym = NULL;
	}
	return v;
}

int dm_cache_record(struct dm_cache *c, size_t i, struct arena *a, struct dm_module *m)
{
	const uint8_t *rec = record(c, i);
	uint64_t ref = get_u32(rec + R_FIRST);
	uint32_t vermagic = get_u32(rec + R_VERMAGIC);

	m->content = get_u64(rec + R_CONTENT);
	m->load_err = (int32_t)get_u32(rec + R_ERR);
	m->vermagic = vermagic == NONE ? NULL : c->strings + vermagic;
	m->n_exports = get_u32(rec + R_EXPORTS);
	m->exports = symbols_of(c, a, &ref, (uint32_t)m->n_exports);
	m->n_undefs = get_u32(rec + R_UNDEFS);
	m->undefs = symbols_of(c, a, &ref, (uint32_t)m->n_undefs);
	m->n_aliases = get_u32(rec + R_ALIASES);
	m->aliases = strings_of(c, a, &ref, (uint32_t)m->n_aliases);
	m->n_softdeps = get_u32(rec + R_SOFTDEPS);
	m->softdeps = strings_of(c, a, &ref, (uint32_t)m->n_softdeps);
	m->n_weakdeps = get_u32(rec + R_WEAKDEPS);
	m->weakdeps = strings_of(c, a, &ref, (uint32_t)m->n_weakdeps);
	m->n_firmware = get_u32(rec + R_FIRMWARE);
	m->firmware = strings_of(c, a, &ref, (uint32_t)m->n_firmware);
	if (!m->exports || !m->undefs || !m->aliases || !m->softdeps || !m->weakdeps ||
	    !m->firmware)
		return -ENOMEM;
	return 0;
}

/* Intern a record's symbols once per cache symbol, not once per use. */
static int intern_record(struct depmod *d, struct dm_module *m, const uint8_t *rec)
{
	struct dm_cache *c = d->cache;
	uint64_t ref = get_u32(rec + R_FIRST);

	for (size_t j = 0; j < m->n_exports + m->n_undefs; j++, ref++) {
		bool undefined = j >= m->n_exports;
		struct dm_symref *s =
			undefined ? &m->undefs[j - m->n_exports] : &m->exports[j];
		size_t slot =
			2 * (size_t)(get_u32(c->refs + 4 * ref) & ~REF_WEAK) + undefined;

		if (c->memo[slot] == NULL)
			c->memo[slot] = dm_symbol_intern(d, s->name, undefined);
		if (c->memo[slot] == NULL)
			return -ENOMEM;
		s->sym = c->memo[slot];
	}
	return 0;
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
		c->n_applied++;
	}
	return 0;
}

int dm_cache_materialize(struct depmod *d)
{
	struct dm_cache *c = d->cache;
	int r = 0;

	if (c == NULL || c->memo)
		return 0;
	c->memo = calloc(2 * (size_t)c->n_syms + 1, sizeof(*c->memo));
	if (c->memo == NULL)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		struct dm_module *m = d->mods[i];

		if (!m->from_cache)
			continue;
		r = dm_cache_record(c, m->cache_rec - 1, &d->arena, m);
		if (r == 0)
			r = intern_record(d, m, record(c, m->cache_rec - 1));
	}
	return r;
}

/* ---- saving ---- */

/* A symbol of the file: one per name and CRC, found through the interned symbol. */
struct dm_serid {
	struct dm_serid *next;
	const char *raw;
	uint64_t crc;
	uint32_t id;
};

struct writer {
	struct depmod *d;
	struct strbuf records, syms, refs, strings;
	uint32_t n_syms;
};

static int add_string(struct writer *w, const char *s, uint32_t *ref)
{
	size_t off = w->strings.len;

	if (off >= NONE)
		return -EFBIG;
	*ref = (uint32_t)off;
	return strbuf_append(&w->strings, s, strlen(s) + 1);
}

static int add_ref(struct writer *w, uint32_t ref)
{
	return strbuf_append(&w->refs, &ref, sizeof(ref));
}

static int symbol_id(struct writer *w, const struct dm_symref *s, uint32_t *id)
{
	struct dm_serid *e;
	uint8_t buf[SYM_SIZE] = {0};
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
	r = add_string(w, s->name, &name);
	if (r < 0)
		return r;
	put_u64(buf, s->crc);
	put_u32(buf + 8, name);
	*e = (struct dm_serid){s->sym->ser, s->name, s->crc, w->n_syms++};
	s->sym->ser = e;
	*id = e->id;
	return strbuf_append(&w->syms, buf, sizeof(buf));
}

static int add_symbols(struct writer *w, const struct dm_symref *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		uint32_t id;

		r = symbol_id(w, &v[i], &id);
		if (r == 0)
			r = add_ref(w, id | (v[i].weak ? REF_WEAK : 0));
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

static int add_record(struct writer *w, const struct dm_module *m)
{
	uint8_t rec[REC_SIZE] = {0};
	uint32_t path, vermagic = NONE;
	size_t first = w->refs.len / 4;
	int r = add_string(w, m->path, &path);

	if (r == 0 && m->vermagic)
		r = add_string(w, m->vermagic, &vermagic);
	if (r == 0)
		r = add_symbols(w, m->exports, m->n_exports);
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
	if (r < 0 || w->refs.len / 4 >= NONE)
		return r < 0 ? r : -EFBIG;
	put_key(rec, &m->key);
	put_u64(rec + R_CONTENT, m->content);
	put_u32(rec + R_PATH, path);
	put_u32(rec + R_ERR, (uint32_t)m->load_err);
	put_u32(rec + R_FIRST, (uint32_t)first);
	put_u32(rec + R_EXPORTS, (uint32_t)m->n_exports);
	put_u32(rec + R_UNDEFS, (uint32_t)m->n_undefs);
	put_u32(rec + R_ALIASES, (uint32_t)m->n_aliases);
	put_u32(rec + R_SOFTDEPS, (uint32_t)m->n_softdeps);
	put_u32(rec + R_WEAKDEPS, (uint32_t)m->n_weakdeps);
	put_u32(rec + R_FIRMWARE, (uint32_t)m->n_firmware);
	put_u32(rec + R_VERMAGIC, vermagic);
	put_u32(rec + R_FLAGS,
		!m->from_cache && dm_key_racy(w->d, &m->key) ? REC_RACY : 0);
	return strbuf_append(&w->records, rec, sizeof(rec));
}

static void fill_header(struct writer *w, uint8_t *h, uint8_t *keys, uint32_t n_records)
{
	struct depmod *d = w->d;
	bool good = d->outputs_written;
	struct parts parts = {
		{keys, (uint8_t *)w->records.buf, (uint8_t *)w->syms.buf,
		 (uint8_t *)w->refs.buf, (uint8_t *)w->strings.buf},
		{DM_OUTPUTS * KEY_SIZE, w->records.len, w->syms.len, w->refs.len,
		 w->strings.len},
	};
	size_t size = HEADER_SIZE;

	for (unsigned i = 0; i < ARRAY_SIZE(parts.len); i++)
		size += parts.len[i];
	for (unsigned i = 0; i < DM_OUTPUTS; i++)
		put_key(keys + (size_t)i * KEY_SIZE, &d->out_keys[i]);
	memset(h, 0, HEADER_SIZE);
	memcpy(h, CACHE_MAGIC, 8);
	put_u32(h + 8, CACHE_VERSION);
	put_u32(h + 12, BOM);
	put_u64(h + 16, size);
	put_u64(h + 32, d->options_fp);
	put_u64(h + 40, good ? d->outputs_fp : 0);
	put_u32(h + 48, n_records);
	put_u32(h + 52, w->n_syms);
	put_u32(h + 56, (uint32_t)(w->refs.len / 4));
	put_u32(h + 60, (uint32_t)w->strings.len);
	put_u32(h + 64, good && d->outputs_clean ? FLAG_CLEAN : 0);
	put_u64(h + 24, checksum(h, &parts));
}

static int write_cache(struct writer *w, uint32_t n_records)
{
	uint8_t header[HEADER_SIZE], keys[DM_OUTPUTS * KEY_SIZE] = {0};
	struct fileio_part parts[] = {
		{header, sizeof(header)},	  {keys, sizeof(keys)},
		{w->records.buf, w->records.len}, {w->syms.buf, w->syms.len},
		{w->refs.buf, w->refs.len},	  {w->strings.buf, w->strings.len},
	};

	if (w->strings.len >= NONE)
		return -EFBIG;
	fill_header(w, header, keys, n_records);
	return dm_replace_file(w->d, CACHE_NAME, parts, ARRAY_SIZE(parts));
}

int dm_cache_save(struct depmod *d)
{
	struct writer w = {.d = d};
	uint32_t n = 0;
	/* a run that left the indexes as they were did not need the records until now */
	int r = dm_cache_materialize(d);

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		/* a file that could not be opened has no identity: read it again next
		 * time */
		if (d->mods[i]->have_key) {
			r = add_record(&w, d->mods[i]);
			n++;
		}
	}
	if (r == 0)
		r = write_cache(&w, n);
	if (r < 0)
		INFO(d->ctx, "could not write %s/" CACHE_NAME ": %s", d->outdir,
		     strerror(-r));
	strbuf_release(&w.records);
	strbuf_release(&w.syms);
	strbuf_release(&w.refs);
	strbuf_release(&w.strings);
	return r;
}
