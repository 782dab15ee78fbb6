/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of depmod share. */
#pragma once

#include <stdint.h>

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

struct dm_symref {
	const char *name;
	uint64_t crc;
	bool weak;
};

struct dm_module {
	char *path;	       /* as found (absolute) */
	const char *relpath;   /* relative to the module dir, NULL outside it */
	const char *idxpath;   /* in the indexes: relpath, else path without the root */
	char *uncrelpath;      /* relpath cut to "<dir>/<name>.ko" for modules.order */
	const char *modname;
	size_t baselen;	       /* offset of the last '/' in path */
	int sort_idx;	       /* modules.order rank */
	uint32_t idx;	       /* position in the final array */
	uint32_t dep_sort_idx; /* topological order */
	uint32_t users;
	uint32_t stamp; /* scratch for duplicate checks */
	bool loaded;
	/* from the module's file */
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
	/* dependencies: direct, in first-use order */
	struct dm_module **deps;
	size_t n_deps, cap_deps;
};

struct dm_symbol {
	const char *name;
	struct dm_module *owner; /* NULL for kernel symbols from -E/-F */
	uint64_t crc;
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
};

/* depmod-load.c: read every module's symbols and information, in parallel. */
int dm_load_modules(struct depmod *d);
/* depmod-cycles.c: after the topological sort left modules unsorted (dep_sort_idx
 * UINT32_MAX), log the cycles among them and their number as kmod does. 0 or -ENOMEM. */
int dm_report_cycles(struct depmod *d);
/* depmod-output.c: write every index (or print them with -n). */
int dm_write_outputs(struct depmod *d);
