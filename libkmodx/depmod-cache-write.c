// SPDX-License-Identifier: LGPL-2.1-or-later
/* Writing depmod's cache (the format is in depmod-cache.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depmod-cache.h"
#include "util/fileio.h"
#include "util/strbuf.h"

/* A symbol of the file: one per name and CRC, found through the interned symbol (its
 * ser list, which the writer empties again when it goes). */
struct dm_serid {
	struct dm_serid *next;
	struct dm_serid *made_before; /* the writer's, newest first */
	struct dm_symbol *sym;
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
	struct strbuf dirs, entries;	   /* (and the directories' listings) */
	struct strbuf syms, refs, strings; /* what comes after base's */
	struct strbuf deps;		   /* all new */
	struct ptrarray mods;		   /* by record: its module */
	uint32_t n_syms;		   /* base's included */
	size_t refs_base, strings_base;
	/* the symbols' ids: its own memory, as it may be built while other threads
	 * allocate from the run's (dm_write_outputs()) */
	struct arena arena;
	struct dm_serid *serids;
	uint64_t sum_b; /* the second part's checksum */
};

static int add_string(struct writer *w, const char *s, uint32_t *ref)
{
	size_t off = w->strings_base + w->strings.len;

	if (off >= NONE)
		return -EFBIG;
	*ref = (uint32_t)off;
	return strbuf_append(&w->strings, s, strlen(s) + 1);
}

/* s into the path table, at *at: 0, -EFBIG or -ENOMEM. */
static int add_path_at(struct writer *w, const char *s, uint32_t *at)
{
	if (w->paths.len >= NONE)
		return -EFBIG;
	*at = (uint32_t)w->paths.len;
	return strbuf_append(&w->paths, s, strlen(s) + 1);
}

static int add_path(struct writer *w, const char *s, uint8_t *rec)
{
	uint32_t at = 0;
	int r = add_path_at(w, s, &at);

	put_u32(rec + R_PATH, at);
	return r;
}

/* The directories the scans listed, with their listings. */
static int add_dirs(struct writer *w)
{
	static const uint32_t kinds[] = {
		[DM_ENTRY_MODULE] = 0, [DM_ENTRY_DIR] = ENTRY_DIR, [DM_ENTRY_STAT] = ENTRY_STAT,
	};
	const struct ptrarray *dirs = &w->d->dirs;
	int r = 0;

	for (size_t i = 0; i < dirs->n && r == 0; i++) {
		const struct dm_dir *dir = dirs->v[i];
		uint8_t rec[DIR_SIZE] = {0};
		uint32_t path = 0;

		if (w->entries.len / 4 + dir->n >= NONE)
			return -EFBIG;
		put_key(rec, &dir->key);
		put_u32(rec + D_FIRST, (uint32_t)(w->entries.len / 4));
		put_u32(rec + D_COUNT, dir->n);
		put_u32(rec + D_FLAGS, dm_key_racy(w->d, &dir->key) ? DIR_RACY : 0);
		r = add_path_at(w, dir->path, &path);
		put_u32(rec + D_PATH, path);
		for (uint32_t k = 0; k < dir->n && r == 0; k++) {
			uint32_t name = 0;

			r = add_path_at(w, dir->names[k], &name);
			if (r == 0 && name > ENTRY_NAME)
				r = -EFBIG;
			name |= kinds[dir->kinds[k]];
			if (r == 0)
				r = strbuf_append(&w->entries, &name, sizeof(name));
		}
		if (r == 0)
			r = strbuf_append(&w->dirs, rec, sizeof(rec));
	}
	return r;
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
	e = arena_alloc(&w->arena, sizeof(*e));
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
	*e = (struct dm_serid){s->sym->ser, w->serids, s->sym, s->name, s->crc, w->n_syms++};
	s->sym->ser = w->serids = e;
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

/* The records of the old cache still used, as they were, in their order (so that their
 * references stay in order). */
static int keep_records(struct writer *w, uint32_t *n)
{
	const struct dm_cache *c = w->base;
	struct dm_module **of_rec = dm_cache_records_taken(w->d);
	int r = of_rec ? 0 : -ENOMEM;

	/* (room for all of them at once, and for the paths of the old ones) */
	if (r == 0)
		r = strbuf_reserve(&w->records, (size_t)w->d->n_mods * REC_SIZE);
	if (r == 0)
		r = strbuf_reserve(&w->paths, c->paths_size);
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
 * there (of_rec: the old records' modules). *n: their number, NONE for a module with
 * none known, or one of them without a record. 0 or -ENOMEM.
 */
static int add_module_deps(struct writer *w, const struct dm_module *m,
			   const uint32_t *rec_no, struct dm_module *const *of_rec, uint32_t *n)
{
	const struct dm_cache *c = w->d->cache;
	size_t len = w->deps.len;
	const uint8_t *rec = NULL;
	int r = 0;

	*n = NONE;
	if (w->d->deps_resolved)
		*n = (uint32_t)m->n_deps;
	else if (of_rec && m->from_cache)
		*n = get_u32((rec = record(c, m->cache_rec - 1)) + R_N_DEPS);
	for (uint32_t k = 0; *n != NONE && k < *n && r == 0; k++) {
		const struct dm_module *dep =
			rec ? of_rec[get_u32(c->deps + 4 * ((size_t)get_u32(rec + R_DEPS) + k))]
			    : m->deps[k];
		uint32_t no = dep ? rec_no[dep->idx] : NONE;

		if (no == NONE)
			*n = NONE;
		else
			r = strbuf_append(&w->deps, &no, sizeof(no));
	}
	if (*n == NONE)
		w->deps.len = len;
	return r;
}

/* Each record's dependencies and the module's position in this run's order. */
static int add_deps(struct writer *w)
{
	struct depmod *d = w->d;
	uint32_t *rec_no = malloc((d->n_mods + 1) * sizeof(*rec_no));
	struct dm_module **of_rec = NULL;
	int r = rec_no ? 0 : -ENOMEM;

	if (r == 0 && !d->deps_resolved && d->cache && dm_cache_load_b(d->cache) == 0) {
		of_rec = dm_cache_records_taken(d);
		r = of_rec ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < d->n_mods; i++)
		rec_no[i] = NONE;
	for (size_t k = 0; r == 0 && k < w->mods.n; k++)
		rec_no[((struct dm_module *)w->mods.v[k])->idx] = (uint32_t)k;
	for (size_t k = 0; r == 0 && k < w->mods.n; k++) {
		const struct dm_module *m = w->mods.v[k];
		uint8_t *rec = (uint8_t *)w->records.buf + k * REC_SIZE;
		uint32_t first = (uint32_t)(w->deps.len / 4), n = NONE;

		r = add_module_deps(w, m, rec_no, of_rec, &n);
		put_u32(rec + R_N_DEPS, n);
		put_u32(rec + R_DEPS, first);
		put_u32(rec + R_ORDER, m->idx);
	}
	free(rec_no);
	free(of_rec);
	return r;
}

/*
 * Whether the old tables are worth keeping: at least half of their references still in
 * use, and their bytes at most half again what they were when last written anew. The
 * references alone do not tell: a module read again appends its undefined symbols as
 * new entries of the symbol table, and its strings, each time. A module overridden and
 * restored a thousand times, DKMS-style, grew the file from 4 to 11 MB while its
 * references stayed under half garbage, and every run checked, read and wrote it all.
 */
static bool keep_base(const struct depmod *d)
{
	const struct dm_cache *c = d->cache;
	uint64_t live = 0;

	if (c == NULL || dm_cache_load_b(d->cache) < 0)
		return false;
	for (size_t i = 0; i < d->n_mods; i++) {
		if (d->mods[i]->from_cache)
			live += record_refs(record(c, d->mods[i]->cache_rec - 1));
	}
	return 2 * live >= c->n_refs &&
	       2 * appended_tables(c->n_syms, c->n_refs, c->strings_size) <=
		       3 * (uint64_t)c->fresh_tables;
}

static void fill_header(struct writer *w, uint8_t *h, uint32_t n_records,
			const struct fileio_part *a, const struct fileio_part *b)
{
	struct depmod *d = w->d;
	bool good = d->outputs_written;
	size_t size = HEADER_SIZE;
	uint64_t fresh = w->base ? w->base->fresh_tables
				 : appended_tables(w->n_syms, w->refs.len / 4, w->strings.len);

	for (size_t i = 0; i < 5; i++)
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
	put_u32(h + H_DIRS, (uint32_t)(w->dirs.len / DIR_SIZE));
	put_u32(h + H_ENTRIES, (uint32_t)(w->entries.len / 4));
	put_u32(h + H_RECORDS, n_records);
	put_u32(h + H_SYMS, w->n_syms);
	put_u32(h + H_REFS, (uint32_t)(w->refs_base + w->refs.len / 4));
	put_u32(h + H_STRINGS, (uint32_t)(w->strings_base + w->strings.len));
	put_u32(h + H_FLAGS, good && d->outputs_clean ? FLAG_CLEAN : 0);
	put_u32(h + H_PATHS, (uint32_t)w->paths.len);
	put_u64(h + H_SUM_B, w->sum_b);
	put_u32(h + H_FRESH, (uint32_t)MIN(fresh, (uint64_t)UINT32_MAX));
	put_u64(h + H_SUM_A, sum_of(h, a, 5));
}

/* What the next cache holds, built before it is written. */
struct dm_cache_writer {
	struct writer w;
	uint32_t n_records;
	int r;
	int spare;	 /* the spare, its body written (write_body()), or -1 */
	bool body_tried; /* write_body() ran: the spare is not tried again */
};

/* The file's parts: header, the first part (outputs, records, directories, entries,
 * paths), the second. */
enum { PARTS = 13, BODY = 2 /* from the records on: known once the cache is built */ };

static void file_parts(struct writer *w, uint8_t *header, uint8_t *outputs,
		       struct fileio_part *parts)
{
	const struct dm_cache *b = w->base;
	const struct fileio_part v[PARTS] = {
		{header, HEADER_SIZE},
		/* the first part */
		{outputs, DM_OUTPUTS * OUT_SIZE},
		{w->records.buf, w->records.len},
		{w->dirs.buf, w->dirs.len},
		{w->entries.buf, w->entries.len},
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

	memcpy(parts, v, sizeof(v));
}

/* What the cache's head holds once the indexes are written: their identities and
 * fingerprints, and the header, whose checksum covers them. */
static void fill_head(struct writer *w, uint32_t n_records, uint8_t *header, uint8_t *outputs,
		      const struct fileio_part *parts)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		uint8_t *p = outputs + (size_t)i * OUT_SIZE;

		put_key(p, &w->d->out_keys[i]);
		put_u64(p + KEY_SIZE, w->d->outputs_written ? w->d->out_fp[i] : 0);
	}
	fill_header(w, header, n_records, parts + 1, parts + 6);
}

/* All of the file but its head, written over the spare (dm_spare_open()): while the
 * indexes are written, if the cache is built then, else when it is saved. When the spare
 * cannot be had, a new file is written when it is saved. */
static void write_body(struct dm_cache_writer *b)
{
	struct fileio_part parts[PARTS];
	off_t at = 0;
	int r = 0;

	b->body_tried = true;
	b->spare = dm_spare_open(b->w.d, CACHE_NAME, CACHE_SPARE);
	if (b->spare < 0)
		return;
	file_parts(&b->w, NULL, NULL, parts);
	for (size_t i = 0; i < PARTS; i++) {
		if (i >= BODY && r == 0)
			r = pwrite_all(b->spare, parts[i].data, parts[i].len, at);
		at += (off_t)parts[i].len;
	}
	if (r < 0) {
		close(b->spare);
		b->spare = -1;
	}
}

static int write_cache(struct dm_cache_writer *b)
{
	struct writer *w = &b->w;
	uint8_t header[HEADER_SIZE], outputs[DM_OUTPUTS * OUT_SIZE];
	struct fileio_part parts[PARTS];
	off_t len = 0;
	int r;

	if (w->strings_base + w->strings.len >= NONE || w->paths.len >= NONE ||
	    w->deps.len / 4 >= NONE)
		return -EFBIG;
	if (!b->body_tried)
		write_body(b);
	file_parts(w, header, outputs, parts);
	fill_head(w, b->n_records, header, outputs, parts);
	if (b->spare < 0)
		return dm_replace_file(w->d, CACHE_NAME, parts, PARTS);
	for (size_t i = 0; i < PARTS; i++)
		len += (off_t)parts[i].len;
	r = dm_spare_install(w->d, b->spare, CACHE_NAME, CACHE_SPARE, parts, BODY, len);
	b->spare = -1; /* (closed) */
	return r;
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

void dm_cache_writer_free(struct dm_cache_writer *b)
{
	if (b == NULL)
		return;
	if (b->spare >= 0)
		close(b->spare);
	for (const struct dm_serid *e = b->w.serids; e; e = e->made_before)
		e->sym->ser = NULL;
	arena_release(&b->w.arena);
	strbuf_release(&b->w.records);
	strbuf_release(&b->w.paths);
	strbuf_release(&b->w.dirs);
	strbuf_release(&b->w.entries);
	strbuf_release(&b->w.syms);
	strbuf_release(&b->w.refs);
	strbuf_release(&b->w.strings);
	strbuf_release(&b->w.deps);
	ptrarray_release(&b->w.mods);
	free(b);
}

bool dm_cache_build_in_parallel(const struct depmod *d)
{
	return d->cache == NULL || keep_base(d);
}

int dm_cache_build(struct depmod *d, bool body)
{
	struct dm_cache_writer *b = calloc(1, sizeof(*b));

	dm_cache_writer_free(d->next_cache);
	d->next_cache = b;
	if (b == NULL)
		return d->next_cache_err = -ENOMEM;
	b->w.d = d;
	b->spare = -1;
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
	if (b->r == 0)
		b->r = add_dirs(&b->w);
	if (b->r == 0) { /* (the second part's checksum: not on the way to saving it) */
		struct fileio_part parts[PARTS];

		file_parts(&b->w, NULL, NULL, parts);
		b->w.sum_b = sum_of(NULL, parts + 6, 7);
	}
	if (b->r == 0 && body)
		write_body(b);
	return d->next_cache_err = b->r;
}

int dm_cache_save(struct depmod *d)
{
	/* built beside the indexes, or now; a build that failed is not tried again */
	int r = d->next_cache || d->next_cache_err ? d->next_cache_err : dm_cache_build(d, false);

	if (r == 0)
		r = write_cache(d->next_cache);
	if (r < 0)
		INFO(d->ctx, "could not write %s/" CACHE_NAME ": %s", d->outdir,
		     strerror(-r));
	dm_cache_writer_free(d->next_cache);
	d->next_cache = NULL;
	return r;
}
