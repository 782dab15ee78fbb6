/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* depmod's cache file: what depmod-cache.c reads and depmod-cache-write.c writes. */
#pragma once

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
 * time (dm_key_racy()). The same holds for the directories of the tree: one whose
 * identity is unchanged lists the same names, and the scan takes its listing from the
 * cache instead of reading it (depmod-scan.c). Each index has a fingerprint of what it
 * is made of (made_of[]):
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
 *     40  u32     number of dependencies     44  u32  number of directories
 *     48  u32     number of records
 *     52  u32     number of symbols
 *     56  u32     number of references
 *     60  u32     size of the string table
 *     64  u32     flags: FLAG_CLEAN, the indexes were built without a message
 *     68  u32     size of the path table
 *     72  u64     checksum of the second part
 *     80  u32     number of directory entries
 *     84  u32     size of the symbols, references and strings when last written
 *                 anew: later runs append to them (keep_base())
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
 *     directories               DIR_SIZE bytes each, one per directory the run read
 *                               entirely without an error:
 *       0  key  the directory's identity    48 u32 its path (in the path table)
 *       52 u32  its first entry             56 u32 its number of entries
 *       60 u32  flags: DIR_RACY (changed within two seconds before the run)
 *     entries                   u32 each: a name (in the path table) that the directory
 *       listed and the scan kept, in the order it listed them, ENTRY_DIR set for a
 *       directory, ENTRY_STAT for a name whose type took a stat() (a symbolic link); a
 *       module file otherwise. Each directory's entries start at or after the previous
 *       one's end.
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
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "depmod-private.h"
#include "util/fileio.h"
#include "util/hash.h"

#define CACHE_NAME    "modules.kmodx-cache"
#define CACHE_SPARE   CACHE_NAME ".prev" /* its previous version, to write over */
#define CACHE_VERSION 5u
#define CACHE_MAGIC   "KMODXDC\n"
#define BOM	      0x01020304u
#define CACHE_MAX     ((size_t)1 << 30)

#define HEADER_SIZE 88
#define KEY_SIZE    48
#define OUT_SIZE    (KEY_SIZE + 8)
#define SYM_SIZE    16
#define NONE	    UINT32_MAX
#define REF_WEAK    0x80000000u
#define FLAG_CLEAN  1u
#define REC_RACY    1u
#define DIR_SIZE    (KEY_SIZE + 16)
#define DIR_RACY    1u
#define ENTRY_DIR   0x80000000u
#define ENTRY_STAT  0x40000000u
#define ENTRY_NAME  0x3fffffffu

struct dm_cache {
	const uint8_t *map; /* the file, mapped; NULL when parsed from memory */
	int fd;		    /* with map: the file, locked shared while it is in use */
	size_t map_size;
	uint8_t *a, *b; /* the first and second parts: in map, or copies */
	size_t a_size, b_size;
	int b_state; /* 0 not read yet, 1 read and good, -EBADMSG */
	pthread_t b_checker; /* checking it (dm_cache_check_b()), if started */
	bool b_checking;
	uint64_t options_fp, sum_a, sum_b;
	uint32_t flags;
	uint32_t n_records, n_syms, n_refs, strings_size, paths_size, n_deps;
	uint32_t n_dirs, n_entries;
	uint32_t fresh_tables; /* H_FRESH */
	uint8_t head[HEADER_SIZE];
	const uint8_t *outputs, *records, *dirs, *entries, *syms, *refs, *deps;
	const char *paths, *strings;
	struct hash by_path; /* path -> record index + 1 */
	struct hash by_dir;  /* a directory's path -> its index + 1 */
	/* per symbol, interned: [2i] as an export, [2i + 1] as undefined */
	struct dm_symbol **memo; /* also: the modules' symbols are filled in */
	bool lists_done;	 /* the modules' other fields are */
	uint32_t n_applied;
};

/* ---- reading fields ---- */

static inline uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void get_key(const uint8_t *p, struct dm_filekey *k)
{
	k->dev = get_u64(p);
	k->ino = get_u64(p + 8);
	k->size = get_u64(p + 16);
	k->mtime = (int64_t)get_u64(p + 24);
	k->ctime = (int64_t)get_u64(p + 32);
	k->mtime_ns = get_u32(p + 40);
	k->ctime_ns = get_u32(p + 44);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_key(uint8_t *p, const struct dm_filekey *k)
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
	H_DIRS = 44,
	H_RECORDS = 48,
	H_SYMS = 52,
	H_REFS = 56,
	H_STRINGS = 60,
	H_FLAGS = 64,
	H_PATHS = 68,
	H_SUM_B = 72,
	H_ENTRIES = 80,
	H_FRESH = 84,
};

enum {
	D_PATH = KEY_SIZE,
	D_FIRST = KEY_SIZE + 4,
	D_COUNT = KEY_SIZE + 8,
	D_FLAGS = KEY_SIZE + 12,
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

static inline const uint8_t *record(const struct dm_cache *c, size_t i)
{
	return c->records + i * REC_SIZE;
}

/* The bytes of the tables that runs append to: symbols, references, strings. */
static inline uint64_t appended_tables(uint64_t n_syms, uint64_t n_refs, uint64_t strings)
{
	return n_syms * SYM_SIZE + n_refs * 4 + strings;
}

/* The references of a record: exports, undefined symbols, then the string lists. */
static inline uint64_t record_refs(const uint8_t *rec)
{
	uint64_t n = 0;

	for (unsigned f = R_EXPORTS; f <= R_FIRMWARE; f += 4)
		n += get_u32(rec + f);
	return n;
}

static inline uint64_t sum_of(const uint8_t *header, const struct fileio_part *parts, size_t n)
{
	struct hash64_stream h;

	hash64_init(&h, CACHE_VERSION);
	if (header)
		hash64_feed(&h, header + H_OPTIONS, HEADER_SIZE - H_OPTIONS);
	for (size_t i = 0; i < n; i++)
		hash64_feed(&h, parts[i].data, parts[i].len);
	return hash64_final(&h);
}

/* The second part, checked on first use: 0 or -EBADMSG. */
int dm_cache_load_b(struct dm_cache *c);
/* By record of d->cache, the module of this run that took it, or NULL; NULL: ENOMEM. */
struct dm_module **dm_cache_records_taken(const struct depmod *d);
