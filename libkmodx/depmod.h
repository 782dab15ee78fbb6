/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * depmod: index a module tree. Not part of the installed API yet: the kmodx tool links
 * the library statically and calls this directly.
 */
#pragma once

#include <stdbool.h>

#include "libkmodx.h"

struct depmod_options {
	const char *basedir;   /* root of the input tree (NULL: the context's root) */
	const char *outdir;    /* root of the output (NULL: basedir) */
	const char *moduledir; /* NULL: /lib/modules */
	const char *kver;      /* NULL: the context's kernel release */
	const char *const *config_paths; /* depmod.d files/dirs; NULL: the defaults */
	const char *const *files; /* explicit module paths; NULL or empty: scan all */
	const char *symvers;	  /* -E Module.symvers */
	const char *system_map;	  /* -F System.map */
	char sym_prefix;	  /* -P */
	bool errsyms;		  /* -e */
	bool warn_dups;		  /* -w */
	bool verbose;		  /* -v: print every dependency edge to out_fd */
	bool quick;		  /* -A: nothing to do if no module is newer */
	bool dry_run;		  /* -n: text files to out_fd, no .bin */
	bool no_cache;		  /* --no-cache: read every module */
	struct depmod_lint *lint; /* --lint: the report goes there */
	bool lint_only;		  /* --lint without -a: write nothing */
	int out_fd;		  /* where -n and -v write (stdout) */
	unsigned threads;	  /* threads of each stage at most; 0: one per CPU */
};

/* ---- depmod --lint ---- */

struct depmod_lint_list {   /* a module (or file) and what is wrong with it */
	const char *where;  /* the module's path as in modules.dep, or a file */
	const char *what;   /* vermagic, reason, name, "cycle"... as the group says */
	const char **items; /* symbols, files, modules */
	size_t n_items;
};

/*
 * A tree's problems, grouped. Strings live as long as the report; every group is sorted
 * for reading (the biggest first where there are counts, else by path).
 */
struct depmod_lint {
	/* where the kernel's own exports came from: a file, or NULL (none: then only the
	 * symbols the tree's kernel/ modules do not need either count as unknown) */
	const char *exports_file;
	const char *exports_kind; /* "Module.symvers" or "System.map" */
	size_t n_exports;
	const char *stub;      /* a System.map that lists no export (Debian's) */
	bool firmware_checked; /* some firmware directory exists under the root */
	const char *vermagic;  /* the kernel's, as the tree's own modules have it */
	/* the groups: where/what/items */
	struct depmod_lint_list *cycles;     /* -, -, the modules of one cycle */
	struct depmod_lint_list *unknown;    /* module, -, symbols nobody provides */
	struct depmod_lint_list *vermagics;  /* module, its vermagic ("" if none) */
	struct depmod_lint_list *dups;	     /* the one used, the name, the others */
	struct depmod_lint_list *missing;    /* module or file, "softdep"..., the names */
	struct depmod_lint_list *firmware;   /* module, -, the files not found */
	struct depmod_lint_list *unreadable; /* module, the reason */
	size_t n_cycles, n_unknown, n_vermagics, n_dups, n_missing, n_firmware,
		n_unreadable;
	size_t problems; /* every item counted once */
	void *priv;
};

/* Free what the report holds (a report filled by depmod_run()); NULL is fine. */
void depmod_lint_release(struct depmod_lint *lint);

/*
 * Run depmod. Messages go to the context's log function with kmod's wording. Returns 0,
 * or a negative errno: -ELOOP for dependency cycles (nothing written), -EINVAL for bad
 * arguments, others for I/O failures (every index is left as it was).
 */
int depmod_run(struct kmodx_ctx *ctx, const struct depmod_options *opts);
