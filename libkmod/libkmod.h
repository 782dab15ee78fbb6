/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkmod.h: kmod's library interface (libkmod.so.2, symbol versions LIBKMOD_5 to
 * LIBKMOD_33), provided by kmodx on top of libkmodx.
 *
 * The prototypes, types and constants are kmod's, so that programs written for kmod
 * build and run unchanged. Conventions:
 * - Contexts and modules are reference counted. A *_new* or *_get* function that hands
 *   out an object gives a new reference; lists hand out new lists that the caller
 *   frees with the free function named next to the getter.
 * - Functions returning int give 0 (or a count) on success and a negative errno on
 *   failure; functions returning a pointer give NULL on failure.
 * - An empty list is NULL. Lists passed in to be filled must be NULL.
 * - Strings returned are owned by the object or list entry they came from.
 * - A context and everything made from it belong to one thread at a time.
 */
#pragma once
#ifndef LIBKMOD_H
#define LIBKMOD_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- context ------------------------------------------------------------------- */

struct kmod_ctx;

/*
 * A context for the module directory dirname (NULL: /lib/modules/`uname -r`; a
 * relative one is taken from the current directory now) and the modprobe.d files and
 * directories of config_paths (NULL: the default directories; an array holding only
 * NULL: none). The configuration is read here. NULL on failure.
 */
struct kmod_ctx *kmod_new(const char *dirname, const char *const *config_paths);
struct kmod_ctx *kmod_ref(struct kmod_ctx *ctx);
/* The context while references remain, NULL once freed. */
struct kmod_ctx *kmod_unref(struct kmod_ctx *ctx);

/* Open the indexes now and keep them open, for many lookups. */
int kmod_load_resources(struct kmod_ctx *ctx);
void kmod_unload_resources(struct kmod_ctx *ctx);

enum kmod_resources {
	KMOD_RESOURCES_OK = 0,
	KMOD_RESOURCES_MUST_RELOAD = 1,	  /* unload and load the resources again */
	KMOD_RESOURCES_MUST_RECREATE = 2, /* make a new context */
};
/* Whether the configuration or the indexes changed on disk: enum kmod_resources. */
int kmod_validate_resources(struct kmod_ctx *ctx);

enum kmod_index {
	KMOD_INDEX_MODULES_DEP = 0,
	KMOD_INDEX_MODULES_ALIAS,
	KMOD_INDEX_MODULES_SYMBOL,
	KMOD_INDEX_MODULES_BUILTIN_ALIAS,
	KMOD_INDEX_MODULES_BUILTIN,
	_KMOD_INDEX_PAD = 1U << 31, /* keeps the enum int-sized */
};
/* Write an index's keys and values to fd (unbuffered: flush stdio first). */
int kmod_dump_index(struct kmod_ctx *ctx, enum kmod_index type, int fd);

/* Messages at or below the priority (syslog levels) are logged. */
void kmod_set_log_priority(struct kmod_ctx *ctx, int priority);
int kmod_get_log_priority(const struct kmod_ctx *ctx);
/* Where messages go instead of stderr: the source location, a format ending in a
 * newline and its arguments. */
void kmod_set_log_fn(struct kmod_ctx *ctx,
		     void (*log_fn)(void *log_data, int priority, const char *file,
				    int line, const char *fn, const char *format,
				    va_list args),
		     const void *data);

void kmod_set_userdata(struct kmod_ctx *ctx, const void *userdata);
void *kmod_get_userdata(const struct kmod_ctx *ctx);

/* The absolute module directory. */
const char *kmod_get_dirname(const struct kmod_ctx *ctx);

/* ---- lists --------------------------------------------------------------------- */

/* An entry of a list; a list is its first entry. Circular: the helpers below stop at
 * the end instead of wrapping around. */
struct kmod_list;

#define kmod_list_foreach(list_entry, first_entry)                                       \
	for (list_entry = first_entry; list_entry != NULL;                               \
	     list_entry = kmod_list_next(first_entry, list_entry))

#define kmod_list_foreach_reverse(list_entry, first_entry)                               \
	for (list_entry = kmod_list_last(first_entry); list_entry != NULL;               \
	     list_entry = kmod_list_prev(first_entry, list_entry))

/* The entry after curr, NULL after the last one. */
struct kmod_list *kmod_list_next(const struct kmod_list *list,
				 const struct kmod_list *curr);
/* The entry before curr, NULL before the first one. */
struct kmod_list *kmod_list_prev(const struct kmod_list *list,
				 const struct kmod_list *curr);
/* The last entry (the list itself if it has one entry). */
struct kmod_list *kmod_list_last(const struct kmod_list *list);

/* ---- configuration ------------------------------------------------------------- */

/*
 * An iterator over one kind of configuration directive. kmod_config_iter_next() moves
 * to the first entry on its first call and returns false past the last (the next call
 * starts over). Free it with kmod_config_iter_free_iter().
 */
struct kmod_config_iter;

struct kmod_config_iter *kmod_config_get_blacklists(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_install_commands(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_remove_commands(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_aliases(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_options(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_softdeps(const struct kmod_ctx *ctx);
struct kmod_config_iter *kmod_config_get_weakdeps(const struct kmod_ctx *ctx);
const char *kmod_config_iter_get_key(const struct kmod_config_iter *iter);
const char *kmod_config_iter_get_value(const struct kmod_config_iter *iter);
bool kmod_config_iter_next(struct kmod_config_iter *iter);
void kmod_config_iter_free_iter(struct kmod_config_iter *iter);

/* ---- modules ------------------------------------------------------------------- */

/* Modules are pooled per context: asking again for the same one gives the same object
 * while a reference to it is held. */
struct kmod_module;

/* Every module a name or alias resolves to (configuration aliases, modules.dep,
 * modules.symbols, install/remove commands, modules.alias, the builtin indexes);
 * *list must be NULL and stays NULL when nothing matches. */
int kmod_module_new_from_lookup(struct kmod_ctx *ctx, const char *given_alias,
				struct kmod_list **list);
/* The module of that name (modules.dep or the builtin indexes); 0 with *mod left
 * untouched when there is none. */
int kmod_module_new_from_name_lookup(struct kmod_ctx *ctx, const char *modname,
				     struct kmod_module **mod);
/* A module by name, without looking anything up. */
int kmod_module_new_from_name(struct kmod_ctx *ctx, const char *name,
			      struct kmod_module **mod);
/* A module from an existing file. */
int kmod_module_new_from_path(struct kmod_ctx *ctx, const char *path,
			      struct kmod_module **mod);

struct kmod_module *kmod_module_ref(struct kmod_module *mod);
/* The module while references remain, NULL once freed. */
struct kmod_module *kmod_module_unref(struct kmod_module *mod);
/* Drop a list of modules and the references it holds; returns 0. */
int kmod_module_unref_list(struct kmod_list *list);

enum kmod_insert {
	KMOD_INSERT_FORCE_VERMAGIC = 0x1,
	KMOD_INSERT_FORCE_MODVERSION = 0x2,
};
/* Load the module's file into the kernel; -EEXIST if it is loaded already. */
int kmod_module_insert_module(struct kmod_module *mod, unsigned int flags,
			      const char *options);

enum kmod_probe {
	KMOD_PROBE_FORCE_VERMAGIC = 0x00001,
	KMOD_PROBE_FORCE_MODVERSION = 0x00002,
	KMOD_PROBE_IGNORE_COMMAND = 0x00004,
	KMOD_PROBE_IGNORE_LOADED = 0x00008,
	KMOD_PROBE_DRY_RUN = 0x00010,
	KMOD_PROBE_FAIL_ON_LOADED = 0x00020,
	/* these are also returned, positive, when they stopped the probe */
	KMOD_PROBE_APPLY_BLACKLIST_ALL = 0x10000,
	KMOD_PROBE_APPLY_BLACKLIST = 0x20000,
	KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY = 0x40000,
};
/*
 * Load a module as modprobe does: dependencies, soft dependencies, configured options
 * (extra_options only for mod itself), install commands. run_install (NULL: system(3))
 * runs an install command; print_action is told each module about to be loaded.
 * 0, a positive KMOD_PROBE_APPLY_BLACKLIST* value, or a negative errno.
 */
int kmod_module_probe_insert_module(
	struct kmod_module *mod, unsigned int flags, const char *extra_options,
	int (*run_install)(struct kmod_module *m, const char *cmdline, void *data),
	const void *data,
	void (*print_action)(struct kmod_module *m, bool install, const char *options));

enum kmod_remove {
	KMOD_REMOVE_FORCE = O_TRUNC,
	KMOD_REMOVE_NOWAIT = O_NONBLOCK, /* always set */
	KMOD_REMOVE_NOLOG = 1,
};
int kmod_module_remove_module(struct kmod_module *mod, unsigned int flags);

/* The module of a list entry, with a new reference. */
struct kmod_module *kmod_module_get_module(const struct kmod_list *entry);
/* modules.dep's dependencies in load order; NULL if none or on failure. */
struct kmod_list *kmod_module_get_dependencies(const struct kmod_module *mod);
/* The softdep stanza's modules, each resolved; *pre and *post must be NULL. */
int kmod_module_get_softdeps(const struct kmod_module *mod, struct kmod_list **pre,
			     struct kmod_list **post);
int kmod_module_get_weakdeps(const struct kmod_module *mod, struct kmod_list **weak);

enum kmod_filter {
	KMOD_FILTER_BLACKLIST = 0x00001,
	KMOD_FILTER_BUILTIN = 0x00002,
};
/* The modules of input not filtered out, as a new list in *output. */
int kmod_module_apply_filter(const struct kmod_ctx *ctx, enum kmod_filter filter_type,
			     const struct kmod_list *input, struct kmod_list **output);
/* kmod_module_apply_filter() with KMOD_FILTER_BLACKLIST. */
int kmod_module_get_filtered_blacklist(const struct kmod_ctx *ctx,
				       const struct kmod_list *input,
				       struct kmod_list **output)
	__attribute__((deprecated));

/* The first install/remove command whose pattern matches the module, or NULL. */
const char *kmod_module_get_install_commands(const struct kmod_module *mod);
const char *kmod_module_get_remove_commands(const struct kmod_module *mod);
/* The normalised name ('-' is '_'). */
const char *kmod_module_get_name(const struct kmod_module *mod);
/* The options from the configuration and the kernel command line, NULL if none. */
const char *kmod_module_get_options(const struct kmod_module *mod);
/* The module's file, NULL if it has none (builtin, or unknown). */
const char *kmod_module_get_path(const struct kmod_module *mod);

/* ---- what a module's file says (lists: count or negative errno) ---------------- */

enum kmod_symbol_bind {
	KMOD_SYMBOL_NONE = '\0',
	KMOD_SYMBOL_LOCAL = 'L',
	KMOD_SYMBOL_GLOBAL = 'G',
	KMOD_SYMBOL_WEAK = 'W',
	KMOD_SYMBOL_UNDEF = 'U',
};

/* The symbols the module needs, with their CRCs and binds. */
int kmod_module_get_dependency_symbols(const struct kmod_module *mod,
				       struct kmod_list **list);
int kmod_module_dependency_symbol_get_bind(const struct kmod_list *entry);
uint64_t kmod_module_dependency_symbol_get_crc(const struct kmod_list *entry);
const char *kmod_module_dependency_symbol_get_symbol(const struct kmod_list *entry);
void kmod_module_dependency_symbols_free_list(struct kmod_list *list);

/* The sections of a loaded module and their addresses (NULL on failure). */
struct kmod_list *kmod_module_get_sections(const struct kmod_module *mod);
/* ULONG_MAX for a NULL entry. */
unsigned long kmod_module_section_get_address(const struct kmod_list *entry);
const char *kmod_module_section_get_name(const struct kmod_list *entry);
void kmod_module_section_free_list(struct kmod_list *list);

/* The symbols the module exports. */
int kmod_module_get_symbols(const struct kmod_module *mod, struct kmod_list **list);
uint64_t kmod_module_symbol_get_crc(const struct kmod_list *entry);
const char *kmod_module_symbol_get_symbol(const struct kmod_list *entry);
void kmod_module_symbols_free_list(struct kmod_list *list);

/* The __versions entries. */
int kmod_module_get_versions(const struct kmod_module *mod, struct kmod_list **list);
uint64_t kmod_module_version_get_crc(const struct kmod_list *entry);
const char *kmod_module_version_get_symbol(const struct kmod_list *entry);
void kmod_module_versions_free_list(struct kmod_list *list);

/* .modinfo's keys and values (modules.builtin.modinfo's for a builtin module), then
 * the signature's. */
int kmod_module_get_info(const struct kmod_module *mod, struct kmod_list **list);
const char *kmod_module_info_get_key(const struct kmod_list *entry);
const char *kmod_module_info_get_value(const struct kmod_list *entry);
void kmod_module_info_free_list(struct kmod_list *list);

/* ---- the running kernel (read anew from /proc and /sys on every call) ----------- */

/* The loaded modules in /proc/modules' order. */
int kmod_module_new_from_loaded(struct kmod_ctx *ctx, struct kmod_list **list);

enum kmod_module_initstate {
	KMOD_MODULE_BUILTIN = 0,
	KMOD_MODULE_LIVE,
	KMOD_MODULE_COMING,
	KMOD_MODULE_GOING,
	_KMOD_MODULE_PAD = 1U << 31, /* keeps the enum int-sized */
};
/* An enum kmod_module_initstate, or a negative errno (-ENOENT: not loaded). */
int kmod_module_get_initstate(const struct kmod_module *mod);
/* A static string; NULL for an unknown state. */
const char *kmod_module_initstate_str(enum kmod_module_initstate state);
/* The size in bytes, or a negative errno. */
long kmod_module_get_size(const struct kmod_module *mod);
int kmod_module_get_refcnt(const struct kmod_module *mod);
/* The modules using this one (NULL if none or on failure). */
struct kmod_list *kmod_module_get_holders(const struct kmod_module *mod);

#ifdef __cplusplus
}
#endif
#endif
