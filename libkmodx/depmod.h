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
	const char *const *files;	 /* explicit module paths; NULL or empty: scan all */
	const char *symvers;		 /* -E Module.symvers */
	const char *system_map;		 /* -F System.map */
	char sym_prefix;		 /* -P */
	bool errsyms;			 /* -e */
	bool warn_dups;			 /* -w */
	bool verbose;			 /* -v: print every dependency edge to out_fd */
	bool quick;			 /* -A: nothing to do if no module is newer */
	bool dry_run;			 /* -n: text files to out_fd, no .bin */
	bool no_cache;			 /* --no-cache: read every module */
	int out_fd;			 /* where -n and -v write (stdout) */
	unsigned threads;		 /* workers loading modules; 0: one per CPU */
};

/*
 * Run depmod. Messages go to the context's log function with kmod's wording. Returns 0,
 * or a negative errno: -ELOOP for dependency cycles (nothing written), -EINVAL for bad
 * arguments, others for I/O failures (every index is left as it was).
 */
int depmod_run(struct kmodx_ctx *ctx, const struct depmod_options *opts);
