/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Declarations shared between the files of libkmodx; nothing here is installed. */
#pragma once

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

#include "libkmodx.h"
#include "util/arena.h"
#include "util/array.h"
#include "util/hash.h"
#include "util/macro.h"

#define MODULE_DIRECTORY "/lib/modules"

struct config;
struct index;
struct kmodx_file;
struct elf;

/* ---- logging ---- */

/* file, line and fn say where the message comes from: __FILE__, __LINE__, __func__. */
void ctx_log(const struct kmodx_ctx *ctx, int prio, const char *file, int line,
	     const char *fn, const char *fmt, ...) _printf_(6, 7);

/* Work spread over threads keeps its messages in order: each thread defers its
 * messages into its own log_defer, replayed afterwards in a fixed order. */
struct log_defer {
	struct {
		int prio;
		int line;
		const char *file, *fn; /* static strings */
		char *msg;
	} *v;
	size_t n, cap;
};
void ctx_log_defer(struct log_defer *d); /* for the calling thread; NULL stops */
/* ctx NULL: the messages are dropped (work whose results are thrown away). */
void ctx_log_replay(const struct kmodx_ctx *ctx, struct log_defer *d);
bool ctx_log_enabled(const struct kmodx_ctx *ctx, int prio);

#define log_at(ctx, prio, ...)                                                           \
	do {                                                                             \
		if (ctx_log_enabled((ctx), (prio)))                                      \
			ctx_log((ctx), (prio), __FILE__, __LINE__, __func__,             \
				__VA_ARGS__);                                            \
	} while (0)
#define CRIT(ctx, ...)   log_at(ctx, LOG_CRIT, __VA_ARGS__)
#define ERR(ctx, ...)    log_at(ctx, LOG_ERR, __VA_ARGS__)
#define WARN(ctx, ...)   log_at(ctx, LOG_WARNING, __VA_ARGS__)
#define NOTICE(ctx, ...) log_at(ctx, LOG_NOTICE, __VA_ARGS__)
#define INFO(ctx, ...)   log_at(ctx, LOG_INFO, __VA_ARGS__)
#define DBG(ctx, ...)    log_at(ctx, LOG_DEBUG, __VA_ARGS__)

/* ---- context ---- */

struct kmodx_ctx {
	int refcount;
	bool frozen; /* settings are fixed once something has been looked up */
	bool use_cmdline;
	char *root; /* "" for "/" */
	char *kver;
	char *base_dir;
	char *module_dir;
	char *cwd; /* cached getcwd() */
	char **config_paths; /* NULL: defaults */
	kmodx_log_fn log_fn;
	kmodx_log_va_fn log_va_fn; /* only one of the two is set */
	void *log_data;
	int log_prio;
	void *userdata;

	struct config *config;
	struct index *indexes[KMODX_INDEX_BUILTIN_ALIAS + 1];
	uint8_t index_state[KMODX_INDEX_BUILTIN_ALIAS + 1]; /* untried, open, text, absent */
	uint64_t index_stamp[KMODX_INDEX_BUILTIN_ALIAS + 1]; /* of the .bin file, 0: none */
	struct hash modules; /* pool: name -> struct kmodx_module (not referenced) */
	int kernel_compression; /* enum compression, or -1 before it is read */
};

/* The current directory, cached; NULL on failure (errno set). */
const char *ctx_get_cwd(struct kmodx_ctx *ctx);
/* A new context with ctx's settings (after ctx_prepare) and log function, for another
 * thread: nothing looked up is shared. */
int ctx_clone(struct kmodx_ctx *ctx, struct kmodx_ctx **clone);
/* Freeze the settings and compute the derived paths. */
int ctx_prepare(struct kmodx_ctx *ctx);
/* root + abs into buf (PATH_MAX): 0 or -ENAMETOOLONG. */
int ctx_path(const struct kmodx_ctx *ctx, const char *abs, char *buf);
/* module_dir + "/" + rel into buf (PATH_MAX). An absolute rel (an external module in
 * modules.dep) is resolved under the root, not the module directory. */
int ctx_module_path(struct kmodx_ctx *ctx, const char *rel, char *buf);
/* The parsed configuration (lazily read), or NULL with *err set. */
struct config *ctx_get_config(struct kmodx_ctx *ctx, int *err);
/* The index (lazily opened) in *idx, NULL if it is missing or broken (logged once).
 * Returns 0, or -ENOMEM (then nothing is remembered and a later call tries again). */
int ctx_get_index(struct kmodx_ctx *ctx, enum kmodx_index which, struct index **idx);
/*
 * Search an index (index_search, index_search_wild). A .bin index found damaged on the
 * way is reported, naming it, and replaced by its text file, and the search repeats.
 * ctx_index_search: 0, -ENOENT (no such key, or no index) or -ENOMEM.
 * ctx_index_search_wild: 0 (matches appended to *out) or -ENOMEM.
 */
struct index_values;
int ctx_index_search(struct kmodx_ctx *ctx, enum kmodx_index which, const char *key,
		     const char **value);
int ctx_index_search_wild(struct kmodx_ctx *ctx, enum kmodx_index which, const char *key,
			  struct index_values *out);
/* What /sys/module/compression says the kernel can decompress (enum compression). */
int ctx_get_kernel_compression(struct kmodx_ctx *ctx);

void ctx_pool_add(struct kmodx_ctx *ctx, struct kmodx_module *mod);
void ctx_pool_del(struct kmodx_ctx *ctx, struct kmodx_module *mod);
struct kmodx_module *ctx_pool_find(struct kmodx_ctx *ctx, const char *key);
/* Clear the probe algorithm's scratch flags of every pooled module. */
void ctx_pool_reset_scratch(struct kmodx_ctx *ctx);

/* ---- lists ---- */

struct kmodx_list {
	struct ptrarray mods;
};

int list_new(struct kmodx_list **list);
/* Takes a new reference on mod. 0 or -ENOMEM. */
int list_append(struct kmodx_list *list, struct kmodx_module *mod);
bool list_contains(const struct kmodx_list *list, const struct kmodx_module *mod);

struct kv_entry {
	const char *key;
	const char *value;
	uint64_t number;
	const char *origin; /* "" unless set */
};

struct kmodx_kvlist {
	struct kv_entry *v;
	size_t n, cap;
	struct arena strings;
};

int kvlist_new(struct kmodx_kvlist **list);
/* Copies key and value (value may be NULL: ""). */
int kvlist_add(struct kmodx_kvlist *list, const char *key, size_t keylen, const char *value,
	       size_t valuelen, uint64_t number);
/* Set the origin of the entry added last (copied). 0 or -ENOMEM. */
int kvlist_set_origin(struct kmodx_kvlist *list, const char *origin);

/* ---- modules ---- */

struct kmodx_module {
	int refcount;
	struct kmodx_ctx *ctx;
	char *name;
	char *pool_key; /* name, or "name\alias" for modules found through an alias */
	char *alias;
	char *path;
	char *options;
	char *dep_line; /* the dependencies part of the modules.dep line */
	bool path_looked_up;
	bool from_path; /* created from a file: never builtin */
	bool builtin_known, builtin;
	bool options_known;
	/* scratch state for the probe/remove algorithms */
	bool visited;
	bool ignore_cmd;
	bool required; /* a failure to load it fails the whole probe */
	struct kmodx_file *file;
	struct kmodx_list *deps;
	bool deps_known;
};

/* A pooled module for name (already normalised) found as alias (or NULL). */
int module_new(struct kmodx_ctx *ctx, const char *name, const char *alias,
	       struct kmodx_module **mod);
/* Set the path from a modules.dep line "path: dep dep..." and remember the deps. */
int module_set_dep_line(struct kmodx_module *mod, const char *line);
/* Parse modules.builtin.modinfo text for one module (exposed for fuzzing). */
int builtin_modinfo_parse(const char *text, size_t len, const char *name,
			  struct kmodx_kvlist *list);
/* Whether modules.builtin lists the module: 0 or -ENOMEM (kmodx_module_is_builtin()
 * cannot tell a lack of memory from "no"). */
int module_is_builtin(struct kmodx_module *mod, bool *builtin);
/* Append the module's .modinfo entries (modules.builtin.modinfo's for a builtin one,
 * then *builtin is set) to list: 0 or a negative errno, -ENODATA without .modinfo. */
int module_get_modinfo(struct kmodx_module *mod, struct kmodx_kvlist *list,
		       bool *builtin);
/* <root>/sys/module/<name>[/attr] into buf (PATH_MAX): 0 or -ENAMETOOLONG. */
int sysmod_path(const struct kmodx_module *mod, const char *attr, char *buf);
/* The size limit for reading /proc/modules. */
#define PROC_MODULES_MAX ((size_t)16 << 20)
/* The module's opened file (lazily), or NULL with *err set. */
struct kmodx_file *module_get_file(struct kmodx_module *mod, int *err);

/* ---- the kernel interface (one implementation per binary) ---- */

#define MODULE_INIT_IGNORE_MODVERSIONS 1
#define MODULE_INIT_IGNORE_VERMAGIC    2
#define MODULE_INIT_COMPRESSED_FILE    4

int kernel_finit_module(struct kmodx_ctx *ctx, int fd, const char *args, unsigned flags);
int kernel_init_module(struct kmodx_ctx *ctx, const void *image, size_t len,
		       const char *args);
int kernel_delete_module(struct kmodx_ctx *ctx, const char *name, unsigned flags);
/* Write value to the sysfs parameter file at path (parameter param of module): the
 * kernel checks and stores it, and its errno comes back negated. */
int kernel_write_param(struct kmodx_ctx *ctx, const char *module, const char *param,
		       const char *path, const char *value);
