/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of depmod share. */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "depmod.h"
#include "libkmodx-private.h"
#include "util/arena.h"
#include "util/array.h"
#include "util/hash.h"

/* ---- depmod.d ---- */

struct dm_search {
	const char *path; /* a subdirectory of the module dir, or an external dir */
	size_t len;
	bool builtin;  /* "built-in": everything no other entry matches */
};

struct dm_override {
	const char *path; /* "<subdir>/<module>" */
	size_t len;
};

struct dm_config {
	struct arena arena;
	/* kept in reverse configuration order, the order kmod walks them in */
	struct ptrarray searches;  /* struct dm_search */
	struct ptrarray overrides; /* struct dm_override */
	struct ptrarray externals; /* const char *: absolute directories */
	struct ptrarray excludes;  /* const char *: entry names skipped while scanning */
};

int dm_config_load(struct kmodx_ctx *ctx, const char *kver, const char *const *paths,
		   struct dm_config *cfg);
void dm_config_release(struct dm_config *cfg);
/* Exposed for tests and fuzzing: parse one file's text. */
int dm_config_parse_text(struct kmodx_ctx *ctx, struct dm_config *cfg, const char *kver,
			 const char *name, char *text, size_t len);

/* ---- the module set ---- */

struct dm_symbol;

struct dm_symref {
	const char *name;      /* as the module has it */
	struct dm_symbol *sym; /* the symbol it stands for (prefixes stripped) */
	uint64_t crc;
	uint32_t hash; /* superfasthash(name), computed while reading; 0: not */
	bool weak;
};

/* What tells a file's contents apart cheaply: a file with the same key has the same
 * contents, unless it was written within the timestamps' granularity of being read
 * (see dm_key_racy()). */
struct dm_filekey {
	uint64_t dev, ino, size;
	int64_t mtime, ctime; /* seconds */
	uint32_t mtime_ns, ctime_ns;
};

/* The parts of a module's information that an index other than modules.dep is made
 * of: hashed apart (besides the content hash of all of it), so that an index whose part
 * of every module is unchanged can be left as it is. */
enum dm_part {
	DM_PART_ALIASES,  /* modules.alias, modules.devname */
	DM_PART_EXPORTS,  /* modules.symbols */
	DM_PART_SOFTDEPS, /* modules.softdep */
	DM_PART_WEAKDEPS, /* modules.weakdep */
	DM_PARTS,
};

struct dm_module {
	char *path;	       /* as found (absolute) */
	const char *relpath;   /* relative to the module dir, NULL outside it */
	const char *idxpath;   /* in the indexes: relpath, else path without the root */
	char *uncrelpath;      /* relpath cut to "<dir>/<name>.ko" for modules.order */
	const char *modname;
	uint32_t name_hash;    /* superfasthash(modname): kmod's iteration order */
	size_t baselen;	       /* offset of the last '/' in path */
	bool ordered;	       /* listed in modules.order */
	uint32_t idx;	       /* position in the final array */
	uint32_t dep_sort_idx; /* topological order */
	uint32_t users;
	uint32_t stamp; /* scratch for duplicate checks */
	bool have_key;	/* key holds the file's identity (cache lookups) */
	bool from_cache;
	bool read;	    /* read from its file in this run */
	uint32_t cache_rec; /* its record in the cache, plus one */
	struct dm_filekey key;
	/* from the module's file */
	int load_err;	  /* why it could not be read (negative errno), or 0 */
	uint64_t content; /* hash of all below: for the cache and the outputs' check */
	uint64_t part[DM_PARTS]; /* hashes of what single indexes use (enum dm_part) */
	const char *vermagic;
	const char **firmware;
	size_t n_firmware;
	const char **aliases;
	size_t n_aliases;
	const char **softdeps;
	size_t n_softdeps;
	const char **weakdeps;
	size_t n_weakdeps;
	struct dm_symref *exports;
	size_t n_exports;
	struct dm_symref *undefs;
	size_t n_undefs;
	bool undefs_in_cache; /* not filled in yet: see dm_cache_foreach_undef() */
	/* dependencies: direct, in first-use order */
	struct dm_module **deps;
	size_t n_deps, cap_deps;
	bool deps_reused; /* the last run's, from the cache */
};

struct dm_serid;

struct dm_symbol {
	const char *name;
	struct dm_module *owner; /* NULL for kernel symbols from -E/-F */
	uint64_t crc;
	uint32_t hash;	      /* superfasthash(name): kmod's iteration order */
	bool provided;	      /* by the kernel (-E/-F) or a module */
	uint32_t mark;	      /* scratch of --lint */
	struct dm_serid *ser; /* scratch of the cache writer */
};

/* The indexes depmod writes, in the order it writes them. */
enum dm_output {
	DM_OUT_DEP,
	DM_OUT_DEP_BIN,
	DM_OUT_ALIAS,
	DM_OUT_ALIAS_BIN,
	DM_OUT_SOFTDEP,
	DM_OUT_WEAKDEP,
	DM_OUT_SYMBOLS,
	DM_OUT_SYMBOLS_BIN,
	DM_OUT_BUILTIN_BIN,
	DM_OUT_BUILTIN_ALIAS_BIN,
	DM_OUT_DEVNAME,
	DM_OUTPUTS,
};

struct dm_cache;
struct dm_cache_writer;

/* What a directory listed that the scan kept: a module file, a directory, or a name
 * whose type took a stat() (a symbolic link, or a file system without d_type). */
enum dm_entry { DM_ENTRY_MODULE, DM_ENTRY_DIR, DM_ENTRY_STAT };

/* A directory the scan read whole without an error (or took whole from the cache):
 * its listing, for the next cache. */
struct dm_dir {
	const char *path;
	struct dm_filekey key;
	const char **names;
	uint8_t *kinds; /* enum dm_entry */
	uint32_t n;
};

struct depmod {
	struct kmodx_ctx *ctx;
	const struct depmod_options *opts;
	struct dm_config cfg;
	char *moddir;	   /* <basedir>/<moduledir>/<kver> */
	size_t moddir_len;
	size_t scan_strip; /* the root's length before the directory being scanned */
	char *outdir;	   /* where the indexes go */
	const char *kver;
	struct arena arena;
	struct hash by_name; /* modname -> struct dm_module */
	struct dm_module **mods;
	size_t n_mods;
	struct hash symbols; /* name -> struct dm_symbol */
	bool check_symvers;
	bool errsyms; /* -e, if it can work (it needs -E or -F) */
	bool deps_resolved; /* every module's deps are known (dm_resolve() succeeded) */
	/* the cache (depmod-cache.c) */
	bool use_cache;
	struct dm_cache *cache; /* what the last run left, if it is usable */
	struct dm_cache_writer *next_cache; /* what the next holds, once built */
	int next_cache_err;		    /* or why it could not be built */
	struct ptrarray dirs; /* struct dm_dir: the directories the scans listed */
	size_t n_dirs_read;   /* of those, listed by reading them (not from the cache) */
	uint64_t options_fp;  /* everything but the modules that the outputs depend on */
	uint64_t out_fp[DM_OUTPUTS]; /* ... and what each index is made of */
	bool out_kept[DM_OUTPUTS];   /* left as it is: what this run would write */
	bool outputs_clean;   /* the outputs were built without a message */
	bool outputs_written; /* dm_write_outputs() wrote or kept every index */
	struct dm_filekey out_keys[DM_OUTPUTS]; /* the indexes as they are on disk */
	/* the indexes on disk that the cache's run left, by identity (else zero): what a
	 * changed index may be made from */
	struct dm_filekey out_prev[DM_OUTPUTS];
	/* the indexes replaced, held open through the renames, and the indexes' bytes:
	 * let go on a thread (dm_outputs_let_go()) */
	int replaced[DM_OUTPUTS];
	unsigned n_replaced;
	void *written[DM_OUTPUTS];
	pthread_t letting_go;
	bool letting_go_started;
	size_t n_loaded;	 /* modules read from their files in this run */
	size_t n_kernel_syms;	 /* from -E or -F */
	struct ptrarray dups;	 /* for --lint: struct dm_dup, modules left out */
	struct timespec started; /* CLOCK_REALTIME at the start of the run */
};

/* Interning: the symbol for a name, created (not provided) if it is new. NULL: ENOMEM.
 * An undefined symbol's name loses a leading '.' (ppc64) before the -P prefix. hash is
 * superfasthash(name) if known, else 0. */
struct dm_symbol *dm_symbol_intern(struct depmod *d, const char *name, bool undefined,
				   uint32_t hash);
/* A symbol's name as interned: without the -P prefix and, undefined, a leading '.'. */
const char *dm_symbol_key(const struct depmod *d, const char *name, bool undefined);
/* Set the sym of every export and undefined symbol of m: 0 or -ENOMEM. */
int dm_intern_module(struct depmod *d, struct dm_module *m);
/* The kernel's exported symbols from Module.symvers (its vmlinux lines) or, with
 * system_map, a System.map (its __ksymtab_ entries), names without the -P prefix: fn is
 * called for each. fp, if not NULL, receives a hash of the file. 0 or a negative errno
 * (logged), or fn's. */
typedef int (*dm_kernel_sym_fn)(struct depmod *d, const char *name, uint64_t crc,
				void *data);
int dm_read_kernel_syms(struct depmod *d, const char *file, bool system_map,
			dm_kernel_sym_fn fn, void *data, uint64_t *fp);
/* The identity of an open file or a path. */
void dm_filekey_from_stat(struct dm_filekey *k, const struct stat *st);
bool dm_filekey_equal(const struct dm_filekey *a, const struct dm_filekey *b);
/* Changed so shortly before the run started that a change made while it read the file
 * could keep the same timestamps: such a file is read again next time. */
bool dm_key_racy(const struct depmod *d, const struct dm_filekey *k);
/* How many threads a stage may run at once, at most `most`: opts->threads if set, else
 * one per CPU online. */
unsigned dm_threads(const struct depmod *d, unsigned most);

/* A module file found while scanning (or given on the command line); key, if not
 * NULL, is its identity for the cache. Decides between modules of the same name. 0 or
 * -ENOMEM. */
int dm_add_module_file(struct depmod *d, const char *path, bool inside,
		       const struct dm_filekey *key);

/* A module file left out for another of the same name (kept for --lint). */
struct dm_dup {
	const char *modname;
	const char *path;
};

/* depmod-lint.c: the report of a tree whose modules are loaded and resolved. 0 or
 * -ENOMEM. */
int dm_lint(struct depmod *d, struct depmod_lint *lint);

/* depmod-scan.c: add every module file under root (the module directory, inside, or an
 * external directory), in the order a depth-first walk meets them: 0 or a negative
 * errno (the directory could not be read; logged by the caller). */
int dm_scan_root(struct depmod *d, const char *root, bool inside);
/* Directory entries the scans skip: ".", "..", "build", "source" and exclude's. */
bool dm_excluded(const struct depmod *d, const char *name);
/* depmod-cache.c: the listing the cache has of the directory at path (dm_dir), if it is
 * still good: the directory's identity is now (unless now is NULL), and it was not
 * changed within two seconds before the run that listed it. Its number of entries,
 * from *first on, or -1. */
long dm_cache_listing(const struct dm_cache *c, const char *path, const struct dm_filekey *now,
		      uint32_t *first);
const char *dm_cache_listing_entry(const struct dm_cache *c, uint32_t i, enum dm_entry *kind);

/* depmod-load.c: read the symbols and information of every module not taken from the
 * cache nor read yet, in parallel. */
int dm_load_modules(struct depmod *d);
/* Log, in module order, why any module could not be read (now or when it was cached). */
void dm_log_load_failures(struct depmod *d);
/* The hashes of a module's information: m->content, of all of it, and m->part. */
void dm_module_hash(struct dm_module *m);
/* depmod-cycles.c: after the topological sort left modules unsorted (dep_sort_idx
 * UINT32_MAX), log the cycles among them and their number as kmod does. 0 or -ENOMEM. */
int dm_report_cycles(struct depmod *d);
/* The strongly connected components with a cycle among the unsorted modules: component
 * (n_mods entries, by module index) receives 1, 2... for the modules in one, 0 for the
 * others. Returns their number or -ENOMEM. */
int dm_cycle_components(struct depmod *d, uint32_t *component);
/* depmod-resolve.c: the dependencies from the symbols (interned from the cache first,
 * or, with the last run's dependencies in the cache, only what changed), sorted: 0,
 * -ELOOP (cycles, logged) or -ENOMEM. Besides the symbols the dependencies need, owners
 * tells which must be interned and owned: every export (modules.symbols is to be built),
 * or those whose owner may have changed since the cache's run: the exports of the
 * modules read in this run and of those it does not take from the cache (modules.symbols
 * is to be changed). dm_own_all_symbols() then gives every export its owner. */
enum dm_owners { DM_OWNERS_DEPS, DM_OWNERS_ALL, DM_OWNERS_CHANGED };
int dm_resolve(struct depmod *d, enum dm_owners owners);
int dm_own_all_symbols(struct depmod *d);
/* depmod-output.c: write every index not in d->out_kept (or print them all with -n),
 * resolving the dependencies (dm_resolve()) while the indexes that do not need them are
 * built; then d->out_keys holds the identities of all of them. */
int dm_write_outputs(struct depmod *d);
/* The identity of every index on disk, all zeros (no file's) for one that is missing:
 * 0, or a negative errno if the directory cannot be opened. */
int dm_outputs_identify(struct depmod *d, struct dm_filekey *keys);
/* Give modules.dep the current time (-A compares it with the modules'), then read every
 * index's identity into d->out_keys: 0 or a negative errno. */
int dm_outputs_touch(struct depmod *d);
/* Wait until the indexes this run replaced are let go (their blocks freed). */
void dm_outputs_let_go(struct depmod *d);
/*
 * Replace dir/name with the concatenation of parts: a temporary file named like the
 * indexes' (so that a killed run's leftovers are removed by the next), renamed over
 * name. Not flushed: only for files whose damage is detected on reading.
 */
struct fileio_part;
int dm_replace_file(struct depmod *d, const char *name, const struct fileio_part *parts,
		    size_t n);
/*
 * The same over spare, name's previous version kept to be written over: replacing then
 * frees no file, which for the cache's megabytes costs more than writing them, and
 * most of the file can be written before its head is known. dm_spare_open() gives the
 * spare, opened and locked alone (flock(); readers hold a shared lock), or -1 when it
 * cannot be used (then dm_replace_file()); the caller writes all but the head with
 * pwrite(); dm_spare_install() writes head (n parts from offset 0), cuts the file to
 * len, exchanges the two names, and closes fd: 0 or a negative errno.
 */
int dm_spare_open(struct depmod *d, const char *name, const char *spare);
int dm_spare_install(struct depmod *d, int fd, const char *name, const char *spare,
		     const struct fileio_part *head, size_t n, off_t len);

/* ---- depmod-cache.c, depmod-cache-write.c (the format: depmod-cache.h) ---- */

/* The fingerprint of the options and configuration (d->options_fp), from the hash of
 * the kernel's symbols (-E/-F; 0 without). */
void dm_cache_options(struct depmod *d, uint64_t kernel_syms);
/* Read the cache the last run left in the output directory; a missing, damaged or
 * foreign one is ignored (logged at debug level). A directory never indexed (no cache,
 * no modules.dep) gets none: d->use_cache is cleared. 0 or -ENOMEM. */
int dm_cache_load(struct depmod *d);
/* Start checking the second part of cache c (its checksum, every reference) on a
 * thread, while the run does what needs only the first: what needs the second waits
 * for it. Nothing if c is NULL, it was checked, or no thread can be had. */
void dm_cache_check_b(struct dm_cache *c);
/* Modules whose file is unchanged are marked to be taken from the cache (from_cache,
 * content); dm_cache_materialize() then fills in what the cache has for them, when the
 * indexes are to be built. Its two halves can be called apart: the symbols (interned:
 * the costly part) and all the rest. dm_cache_materialize_symbols() leaves the modules'
 * undefined symbols in the cache (undefs_in_cache), for dm_cache_foreach_undef() to
 * give, interned, one at a time; dm_cache_materialize() fills in everything. 0,
 * -ENOMEM, or -EBADMSG for a damaged second part of the cache. */
int dm_cache_match(struct depmod *d); /* (beside build_array(): see gather()) */
int dm_cache_materialize(struct depmod *d);
int dm_cache_materialize_lists(struct depmod *d);
int dm_cache_materialize_symbols(struct depmod *d);
typedef int (*dm_undef_fn)(struct depmod *d, struct dm_module *m, const struct dm_symref *u);
int dm_cache_foreach_undef(struct depmod *d, struct dm_module *m, dm_undef_fn fn);
/*
 * The last run's dependencies, for each module from the cache (in the same order as
 * then) whose dependencies are all still there and none of whose undefined symbols has
 * a name in dirty: the names exported by the modules read in this run. Those modules
 * get m->deps and deps_reused, and their dependencies' users are counted. Returns 1, 0
 * if the cache cannot say (nothing done), or -ENOMEM.
 */
int dm_cache_reuse_deps(struct depmod *d, const struct hash *dirty);
/* The symbols that m (from the cache, its exports not filled in) exports and that are
 * interned get m as their owner. */
void dm_cache_claim_exports(struct depmod *d, struct dm_module *m);
/* m's undefined symbols, filled in and interned if they are still in the cache: 0 or
 * -ENOMEM. */
int dm_cache_fill_undefs(struct depmod *d, struct dm_module *m);
/* The indexes' fingerprints (d->out_fp): 0 or -ENOMEM. Then, for a run that may leave
 * indexes as they are, the indexes on disk that are what it would write are marked in
 * d->out_kept: returns their number (DM_OUTPUTS: nothing to write). */
int dm_cache_fingerprint(struct depmod *d);
unsigned dm_cache_keep_outputs(struct depmod *d);
/* For reading back a .bin index that the cache's run wrote (index-write.h,
 * trie_open()): each module's position in that run, mapped to its position in this one
 * (dm_positions_move(), a trie_map_fn), or dropped when the module is not from the
 * cache. dm_cache_positions() gives 1 and p filled, or 0 when the file must be built
 * again: the modules from the cache are not in their order any more (the values of a
 * key would change order), or the cache's run may have said something that building it
 * again must say (a duplicate with -w, a bad alias); or -ENOMEM. */
struct dm_positions {
	uint32_t *now; /* by position in the cache's run: in this one, or UINT32_MAX */
	uint32_t *was; /* by position in this run: in the cache's, or UINT32_MAX */
	uint32_t n;    /* modules in the cache's run */
};
int dm_cache_positions(struct depmod *d, struct dm_positions *p);
int dm_positions_move(void *data, uint32_t *priority);
void dm_positions_release(struct dm_positions *p);
/* The aliases, or the names of the exports, of the cache's records that this run does
 * not take (the modules gone or read again), as they were, to fn: 0 or the first error
 * (the cache damaged: -EBADMSG). */
enum dm_dropped { DM_DROPPED_ALIASES, DM_DROPPED_EXPORTS };
int dm_cache_foreach_dropped(struct depmod *d, enum dm_dropped what,
			     int (*fn)(void *data, const char *name), void *data);
/* Whether the cache on disk must be rewritten (something in it changed). */
bool dm_cache_stale(const struct depmod *d);
/* Build what the cache of this run's modules holds: 0 or a negative errno. It reads the
 * modules and writes only its own buffers, so it runs while the indexes are written;
 * with body, it then also writes all of the file but its head (which needs the
 * indexes' identities) over the spare cache, if it can have it. */
int dm_cache_build(struct depmod *d, bool body);
/* Whether dm_cache_build() may also run while the indexes are built, after the
 * resolution: when it only reads the modules and symbols (it keeps the old cache's
 * tables, or there is none), not when it must read the cache's modules in full. */
bool dm_cache_build_in_parallel(const struct depmod *d);
/* Write the cache for the modules of this run, built first unless dm_cache_build() did:
 * 0 or a negative errno (logged). */
int dm_cache_save(struct depmod *d);
void dm_cache_writer_free(struct dm_cache_writer *b);
void dm_cache_free(struct dm_cache *c);

/* The parser alone, for the fuzzer: 0, -EBADMSG (damaged: not a cache of this format,
 * bad checksum or structure) or -ENOMEM. dm_cache_seal() fixes the checksum of an image
 * the fuzzer changed; dm_cache_record() turns record i into a module's fields. */
int dm_cache_parse(struct kmodx_ctx *ctx, const uint8_t *data, size_t len,
		   struct dm_cache **cache);
size_t dm_cache_count(const struct dm_cache *c);
void dm_cache_seal(uint8_t *data, size_t len);
int dm_cache_record(struct dm_cache *c, size_t i, struct arena *arena,
		    struct dm_module *m);
