/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modprobe.d configuration, modules.softdep / modules.weakdep, and the kernel command
 * line, parsed into one ordered set of directives.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/array.h"

struct kmodx_ctx;

struct cfg_alias {
	const char *pattern;
	const char *modname;
};

struct cfg_option {
	const char *name;
	const char *options;
};

struct cfg_command {
	const char *name;
	const char *command;
};

struct cfg_softdep {
	const char *name;
	const char **pre;
	size_t n_pre;
	const char **post;
	size_t n_post;
};

struct cfg_weakdep {
	const char *name;
	const char **deps;
	size_t n_deps;
};

struct config {
	struct arena arena;
	struct ptrarray aliases;    /* struct cfg_alias */
	struct ptrarray options;    /* struct cfg_option */
	struct ptrarray installs;   /* struct cfg_command */
	struct ptrarray removes;    /* struct cfg_command */
	struct ptrarray blacklists; /* const char * */
	struct ptrarray softdeps;   /* struct cfg_softdep */
	struct ptrarray weakdeps;   /* struct cfg_weakdep */
};

/* Read the context's configuration: files and directories (or the defaults), the module
 * directory's modules.softdep and modules.weakdep, then the kernel command line. */
int config_load(struct kmodx_ctx *ctx, struct config **config);
void config_free(struct config *config);
/* Each modprobe.d file of the context on its own, in configuration order, for fn to look
 * at (--lint says which file names what). 0, a negative errno, or fn's. */
int config_foreach_file(struct kmodx_ctx *ctx,
			int (*fn)(void *data, const char *path, struct config *c),
			void *data);

/* Parse one file's text (name is used in messages); exposed for tests and fuzzing. */
int config_parse_text(struct kmodx_ctx *ctx, struct config *config, const char *name,
		      char *text, size_t len);
/* Parse a kernel command line. */
int config_parse_cmdline(struct kmodx_ctx *ctx, struct config *config, const char *cmdline);

bool config_is_blacklisted(const struct config *config, const char *modname);
/* The first install/remove command whose pattern matches name, or NULL. */
const char *config_find_install(const struct config *config, const char *name);
const char *config_find_remove(const struct config *config, const char *name);
/* The first softdep/weakdep stanza whose pattern matches name, or NULL. */
const struct cfg_softdep *config_find_softdep(const struct config *config, const char *name);
const struct cfg_weakdep *config_find_weakdep(const struct config *config, const char *name);
