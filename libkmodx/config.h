/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modprobe.d configuration, modules.softdep / modules.weakdep, and the kernel command
 * line, parsed into one ordered set of directives.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/array.h"

struct kmodx_ctx;

/* Where an entry came from: a file and line, or the kernel command line (file NULL). */
struct cfg_origin {
	const char *file;
	unsigned line;
};

/* cfg_alias, cfg_option and cfg_command share one layout */
struct cfg_alias {
	const char *pattern;
	const char *modname;
	struct cfg_origin origin;
};

struct cfg_option {
	const char *name;
	const char *options;
	struct cfg_origin origin;
};

struct cfg_command {
	const char *name;
	const char *command;
	struct cfg_origin origin;
};

/* blacklist and mask */
struct cfg_name {
	const char *name;
	struct cfg_origin origin;
};

struct cfg_softdep {
	const char *name;
	const char **pre;
	size_t n_pre;
	const char **post;
	size_t n_post;
	struct cfg_origin origin;
};

struct cfg_weakdep {
	const char *name;
	const char **deps;
	size_t n_deps;
	struct cfg_origin origin;
};

/* A configuration directory or file as it was when read. */
struct cfg_stamp {
	const char *path;
	uint64_t mtime; /* nanoseconds */
};

struct config {
	struct arena arena;
	struct ptrarray stamps;	    /* struct cfg_stamp */
	struct ptrarray aliases;    /* struct cfg_alias */
	struct ptrarray options;    /* struct cfg_option */
	struct ptrarray installs;   /* struct cfg_command */
	struct ptrarray removes;    /* struct cfg_command */
	struct ptrarray blacklists; /* struct cfg_name */
	struct ptrarray softdeps;   /* struct cfg_softdep */
	struct ptrarray weakdeps;   /* struct cfg_weakdep */
	struct ptrarray masks;	    /* struct cfg_name */
	struct cfg_origin at;	    /* of the line being parsed */
};

/* Read the context's configuration: files and directories (or the defaults), the module
 * directory's modules.softdep and modules.weakdep, then the kernel command line. */
int config_load(struct kmodx_ctx *ctx, struct config **config);
void config_free(struct config *config);

/* Parse one file's text (name is used in messages); exposed for tests and fuzzing. */
int config_parse_text(struct kmodx_ctx *ctx, struct config *config, const char *name,
		      char *text, size_t len);
/* Parse a kernel command line. */
int config_parse_cmdline(struct kmodx_ctx *ctx, struct config *config, const char *cmdline);

/* False if a configuration directory or file given or found when reading changed or
 * went away since. */
bool config_stamps_valid(const struct config *config);

bool config_is_blacklisted(const struct config *config, const char *modname);
/* The first mask line for modname, or NULL if it is not masked. */
const struct cfg_name *config_find_mask(const struct config *config, const char *modname);
/* "FILE:LINE", or "kernel command line", into buf. */
void config_origin_format(const struct cfg_origin *origin, char *buf, size_t size);
/* The first install/remove command whose pattern matches name, or NULL. */
const char *config_find_install(const struct config *config, const char *name);
const char *config_find_remove(const struct config *config, const char *name);
/* The first softdep/weakdep stanza whose pattern matches name, or NULL. */
const struct cfg_softdep *config_find_softdep(const struct config *config, const char *name);
const struct cfg_weakdep *config_find_weakdep(const struct config *config, const char *name);
