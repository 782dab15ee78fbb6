/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkmodx: Linux kernel module handling.
 *
 * Conventions of this API:
 * - Functions that can fail return 0 or a negative errno. Objects come back through
 *   out-parameters, which are left untouched on failure. An empty result is success
 *   with an empty list, never an error.
 * - Objects are opaque and reference counted: *_ref() takes a reference, *_unref()
 *   drops one and accepts NULL; it returns the object while references remain and NULL
 *   once it is freed (kmod's convention). "new reference" below means the caller must
 *   unref it;
 *   "borrowed" means it lives as long as the object it came from.
 * - Strings returned as `const char *` are borrowed from the object they came from.
 * - The library never prints and never exits: it reports through the context's log
 *   function. A context and the objects made from it must be used from one thread at a
 *   time.
 * - Every path the library finds by itself (configuration, the module directory,
 *   /proc, /sys, the kernel release) is resolved under the context's root directory,
 *   "/" by default. Paths passed in by the caller are used as given.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmodx_ctx;
struct kmodx_module;
struct kmodx_list;
struct kmodx_kvlist;

/* ---- context ---------------------------------------------------------------------- */

/*
 * Log function: priority is a syslog level (LOG_ERR = 3 ... LOG_DEBUG = 7); msg is one
 * line without its trailing newline.
 */
typedef void (*kmodx_log_fn)(void *data, int priority, const char *msg);
/*
 * Log function in kmod's shape: where in libkmodx the message comes from (source file,
 * line and function; static strings) and a printf format with its arguments. The
 * formatted message is one line ending with a newline, as kmod's are.
 */
typedef void (*kmodx_log_va_fn)(void *data, int priority, const char *file, int line,
				const char *fn, const char *format, va_list args);

/* A new context with root "/", default configuration and the running kernel's release.
 * The log priority starts at LOG_ERR, or what $KMOD_LOG says (err, info, debug or a
 * number). *ctx is a new reference. */
int kmodx_ctx_new(struct kmodx_ctx **ctx);
struct kmodx_ctx *kmodx_ctx_ref(struct kmodx_ctx *ctx);
struct kmodx_ctx *kmodx_ctx_unref(struct kmodx_ctx *ctx);

/*
 * Settings. They must be made before the context is first used to look anything up;
 * afterwards they fail with -EBUSY.
 *
 * root: the directory everything the library finds by itself is resolved under.
 * kernel_release: instead of <root>/proc/sys/kernel/osrelease (or uname()).
 * base_dir: the module directory becomes <base_dir>/lib/modules/<release> (kmod's
 *   -b/--basedir and -d/--dirname); a path given as is, not under root.
 * module_dir: the module directory itself, given as is (overrides base_dir).
 * config_paths: NULL-terminated list of modprobe.d files and directories used instead of
 *   the default directories; an empty list means no configuration; NULL restores the
 *   defaults. Paths are used as given. The kernel command line is read in every case
 *   unless kmodx_ctx_set_use_cmdline() turned it off.
 */
int kmodx_ctx_set_root(struct kmodx_ctx *ctx, const char *root);
int kmodx_ctx_set_kernel_release(struct kmodx_ctx *ctx, const char *release);
int kmodx_ctx_set_base_dir(struct kmodx_ctx *ctx, const char *base_dir);
int kmodx_ctx_set_module_dir(struct kmodx_ctx *ctx, const char *module_dir);
int kmodx_ctx_set_config_paths(struct kmodx_ctx *ctx, const char *const *paths);
int kmodx_ctx_set_use_cmdline(struct kmodx_ctx *ctx, bool use);

/* Borrowed. The root without a trailing slash ("" for "/"). */
const char *kmodx_ctx_get_root(const struct kmodx_ctx *ctx);
/* Borrowed; NULL if the release cannot be determined. */
const char *kmodx_ctx_get_kernel_release(struct kmodx_ctx *ctx);
/* Borrowed; NULL if unknown. The absolute module directory on the host. */
const char *kmodx_ctx_get_module_dir(struct kmodx_ctx *ctx);

/* Each replaces the function the other set; NULL turns logging off. */
void kmodx_ctx_set_log_fn(struct kmodx_ctx *ctx, kmodx_log_fn fn, void *data);
void kmodx_ctx_set_log_va_fn(struct kmodx_ctx *ctx, kmodx_log_va_fn fn, void *data);
/* Static string: the word kmod's tools print for a syslog priority ("FATAL" for
 * LOG_CRIT and above, "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"). */
const char *kmodx_log_priority_name(int priority);
void kmodx_ctx_set_log_priority(struct kmodx_ctx *ctx, int priority);
int kmodx_ctx_get_log_priority(const struct kmodx_ctx *ctx);

/*
 * Resources. Configuration and indexes are read when first needed and kept; these read
 * them ahead (a daemon making many lookups) and tell when they changed on disk.
 *
 * kmodx_ctx_load_config: read the configuration now: 0 or a negative errno (-ENOMEM).
 * kmodx_ctx_load_resources: the configuration and every index now. 0, or the error of
 *   the first of modules.dep, modules.alias and modules.symbols that could not be opened
 *   (-ENOENT when missing); the indexes that could be opened stay open either way.
 * kmodx_ctx_unload_resources: close the indexes; they are opened again when needed.
 * kmodx_ctx_validate_resources: KMODX_RESOURCES_MUST_RECREATE if a configuration
 *   directory or file read changed or went away (the context must be made anew),
 *   KMODX_RESOURCES_MUST_RELOAD if an index opened (or found missing) since the last
 *   unload changed, appeared or went away (unload and load again), else
 *   KMODX_RESOURCES_OK.
 */
enum kmodx_resources {
	KMODX_RESOURCES_OK = 0,
	KMODX_RESOURCES_MUST_RELOAD = 1,
	KMODX_RESOURCES_MUST_RECREATE = 2,
};
int kmodx_ctx_load_config(struct kmodx_ctx *ctx);
int kmodx_ctx_load_resources(struct kmodx_ctx *ctx);
void kmodx_ctx_unload_resources(struct kmodx_ctx *ctx);
int kmodx_ctx_validate_resources(struct kmodx_ctx *ctx);

/* A pointer kept for the caller (kmod_set_userdata()); the library never uses it. */
void kmodx_ctx_set_userdata(struct kmodx_ctx *ctx, void *userdata);
void *kmodx_ctx_get_userdata(const struct kmodx_ctx *ctx);

/* Resolve an absolute path under the context's root into buf (PATH_MAX bytes). */
int kmodx_ctx_resolve_path(const struct kmodx_ctx *ctx, const char *path, char *buf,
			   size_t size);

/* ---- lists ------------------------------------------------------------------------ */

/* A list of modules. */
size_t kmodx_list_count(const struct kmodx_list *list);
/* Borrowed; NULL if i is out of range. */
struct kmodx_module *kmodx_list_get(const struct kmodx_list *list, size_t i);
/* Drops the list and its references; accepts NULL. */
void kmodx_list_free(struct kmodx_list *list);

/*
 * A list of entries, each with a key, a value, a number and an origin. Which fields are
 * meaningful is stated by the function that returns the list; unused strings are "" and
 * unused numbers 0. The strings are borrowed from the list; NULL if i is out of range.
 */
size_t kmodx_kvlist_count(const struct kmodx_kvlist *list);
const char *kmodx_kvlist_key(const struct kmodx_kvlist *list, size_t i);
const char *kmodx_kvlist_value(const struct kmodx_kvlist *list, size_t i);
uint64_t kmodx_kvlist_number(const struct kmodx_kvlist *list, size_t i);
/* Where the entry came from, for the lists that say so: "FILE:LINE" for a line of a
 * configuration file, "kernel command line", or the name of an index. */
const char *kmodx_kvlist_origin(const struct kmodx_kvlist *list, size_t i);
void kmodx_kvlist_free(struct kmodx_kvlist *list);

/* ---- modules ---------------------------------------------------------------------- */

/*
 * A module by name, without any I/O. The name is normalised ('-' becomes '_'). Modules
 * are pooled per context: the same name gives the same object. *mod is a new reference.
 */
int kmodx_module_new_from_name(struct kmodx_ctx *ctx, const char *name,
			       struct kmodx_module **mod);
/* A module from a file; its name is derived from the file name. -ENOENT if the file
 * does not exist. *mod is a new reference. */
int kmodx_module_new_from_path(struct kmodx_ctx *ctx, const char *path,
			       struct kmodx_module **mod);
/*
 * Resolve a name or alias through the lookup chain: configuration aliases,
 * modules.dep, modules.symbols (for "symbol:..."), install/remove commands,
 * modules.alias, modules.builtin, modules.builtin.alias. *list (new) may be empty.
 */
int kmodx_module_new_from_lookup(struct kmodx_ctx *ctx, const char *alias,
				 struct kmodx_list **list);
/*
 * Why kmodx_module_new_from_lookup() gives what it gives: one entry per module found,
 * in the same order. key = the module, value = what matched (a modprobe.d alias
 * pattern, the install or remove command's name, else the normalised query), number =
 * 1 for an install/remove command, else 0, origin = the modprobe.d line ("FILE:LINE")
 * or the index that answered ("modules.dep", "modules.symbols", "modules.alias",
 * "modules.builtin", "modules.builtin.alias"). An empty list if nothing matches.
 * *list is new.
 */
int kmodx_lookup_sources(struct kmodx_ctx *ctx, const char *alias,
			 struct kmodx_kvlist **list);
/* Resolve a module name only (modules.dep, modules.builtin, builtin aliases): -ENOENT
 * if nothing matches. *mod is a new reference. */
int kmodx_module_new_from_name_lookup(struct kmodx_ctx *ctx, const char *name,
				      struct kmodx_module **mod);
/* The loaded modules, in /proc/modules order. *list is new. */
int kmodx_module_new_from_loaded(struct kmodx_ctx *ctx, struct kmodx_list **list);

struct kmodx_module *kmodx_module_ref(struct kmodx_module *mod);
struct kmodx_module *kmodx_module_unref(struct kmodx_module *mod);

/* Borrowed. */
const char *kmodx_module_get_name(const struct kmodx_module *mod);
/* Borrowed; the module's file (looked up in modules.dep if needed), NULL if it has none
 * (builtin, or not found). */
const char *kmodx_module_get_path(struct kmodx_module *mod);
/* True if modules.builtin lists the module. */
bool kmodx_module_is_builtin(struct kmodx_module *mod);
/* True if a blacklist directive names the module (its name, not an alias). */
bool kmodx_module_is_blacklisted(struct kmodx_module *mod);
/* Borrowed; the options from configuration and the kernel command line, "" if none,
 * NULL on allocation failure. */
const char *kmodx_module_get_options(struct kmodx_module *mod);
/* Borrowed; NULL if none. */
const char *kmodx_module_get_install_command(struct kmodx_module *mod);
const char *kmodx_module_get_remove_command(struct kmodx_module *mod);

/* Module information: key and value of each .modinfo entry in section order, then the
 * signature keys (sig_id, signer, sig_key, sig_hashalgo, signature) if it is signed.
 * For builtin modules, modules.builtin.modinfo. *info is new. -ENODATA if the module's
 * file has no .modinfo section. */
int kmodx_module_get_info(struct kmodx_module *mod, struct kmodx_kvlist **info);
/* The symbol tables; -ENODATA if the module has no such table (kmod 34's answer). */
/* __versions: key = symbol, number = CRC. */
int kmodx_module_get_versions(struct kmodx_module *mod, struct kmodx_kvlist **list);
/* Exported symbols: key = symbol, number = CRC (0 without modversions). */
int kmodx_module_get_symbols(struct kmodx_module *mod, struct kmodx_kvlist **list);
/* Undefined symbols: key = symbol, number = CRC, value = binding ("U", "W"). */
int kmodx_module_get_dependency_symbols(struct kmodx_module *mod,
					struct kmodx_kvlist **list);
/* Dependencies from modules.dep, in load order (load the first one first). */
int kmodx_module_get_dependencies(struct kmodx_module *mod, struct kmodx_list **list);
/* Soft dependencies from configuration and modules.softdep, each entry resolved. */
int kmodx_module_get_softdeps(struct kmodx_module *mod, struct kmodx_list **pre,
			      struct kmodx_list **post);
int kmodx_module_get_weakdeps(struct kmodx_module *mod, struct kmodx_list **list);

/* ---- runtime state ---------------------------------------------------------------- */

enum kmodx_initstate {
	KMODX_MODULE_BUILTIN = 0,
	KMODX_MODULE_LIVE,
	KMODX_MODULE_COMING,
	KMODX_MODULE_GOING,
};

/* An enum kmodx_initstate, or -ENOENT if the module is not loaded. */
int kmodx_module_get_initstate(struct kmodx_module *mod);
/* Static string; NULL for an invalid state. */
const char *kmodx_initstate_str(int state);
/* The reference count, or a negative errno. */
int kmodx_module_get_refcnt(struct kmodx_module *mod);
/* The core size in bytes. */
int kmodx_module_get_size(struct kmodx_module *mod, unsigned long *size);
/* The modules holding this one, ordered as the kernel lists them. *list is new. */
int kmodx_module_get_holders(struct kmodx_module *mod, struct kmodx_list **list);
/* key = section name, number = address. */
int kmodx_module_get_sections(struct kmodx_module *mod, struct kmodx_kvlist **list);

/* ---- parameters ------------------------------------------------------------------- */

/*
 * The parameters the module declares (.modinfo's parm and parmtype entries, merged by
 * name), in the order modinfo prints them (source order). *descriptions and *types
 * (both new) hold one entry per parameter at the same index: key = the parameter's
 * name, value = its description or type ("" when the module gives none), number = 1
 * if given, 0 if not. An entry without ':' is logged and left out.
 */
int kmodx_module_get_param_decls(struct kmodx_module *mod,
				 struct kmodx_kvlist **descriptions,
				 struct kmodx_kvlist **types);

/*
 * The parameters the configuration and the kernel command line give the module when
 * modprobe loads it, in the order they are passed (for a parameter given twice, the
 * kernel keeps the last): key = the parameter's name, value = its value as written
 * ("" for a flag without '='), origin = "FILE:LINE" or "kernel command line". Options
 * given on modprobe's own command line are not configuration and are not listed.
 * *list is new.
 */
int kmodx_module_get_param_origins(struct kmodx_module *mod, struct kmodx_kvlist **list);

/* In kmodx_module_get_param_values()'s numbers, beside the permission bits. */
#define KMODX_PARAM_UNREADABLE (1u << 16)

/*
 * A loaded or built-in module's parameters as <root>/sys/module/<name>/parameters/
 * shows them, sorted by name: key = name, value = the current value without the
 * kernel's trailing newline ("" if it cannot be read), number = the file's permission
 * bits (mode & 07777), plus KMODX_PARAM_UNREADABLE if it could not be read (a
 * write-only parameter). A parameter whose file disappears while it is being read is
 * left out. -ENOENT if /sys/module/<name> does not exist; an empty list if the module
 * has no parameters. *list is new.
 */
int kmodx_module_get_param_values(struct kmodx_module *mod, struct kmodx_kvlist **list);
/*
 * Write value (as given: no newline is added) to a parameter of a loaded or built-in
 * module. 0, or the kernel's answer negated: -ENOENT (no such parameter, or the module
 * is not loaded), -EACCES (read-only), -EINVAL (a value the parameter refuses),
 * -EPERM, ...; -EFBIG if the kernel took only part of the value.
 */
int kmodx_module_set_param_value(struct kmodx_module *mod, const char *name,
				 const char *value);

/* ---- taint ------------------------------------------------------------------------ */

/* The taint flags kmodx knows: bits 0 to KMODX_TAINT_COUNT - 1 of the kernel's mask. */
#define KMODX_TAINT_COUNT 20
/* Enough for kmodx_taint_string() with every bit of a 64-bit mask set. */
#define KMODX_TAINT_STRING_MAX 80

/* The kernel's taint mask, from <root>/proc/sys/kernel/tainted. 0 or a negative errno
 * (-EINVAL if the file does not hold a decimal number). */
int kmodx_get_taint(struct kmodx_ctx *ctx, uint64_t *mask);
/* The letter the kernel shows for a set bit ('P', 'F', ...); '?' for a bit kmodx does
 * not know. */
char kmodx_taint_letter(unsigned bit);
/* Static strings: the kernel's name of the flag without TAINT_ ("PROPRIETARY_MODULE"),
 * and a short description in English; NULL for a bit kmodx does not know. */
const char *kmodx_taint_name(unsigned bit);
const char *kmodx_taint_description(unsigned bit);
/* The bit of a taint letter, or -EINVAL for a letter kmodx does not know. */
int kmodx_taint_bit(char letter);
/*
 * The taint as oops reports show it: "Not tainted", or "Tainted: " and one column per
 * bit up to the highest set one (its letter if set, else a space; 'G' for a clear bit
 * 0). The kernel pads the string to the number of flags it knows; this one is not
 * padded, so it is a prefix of the kernel's. 0, or -ENOSPC if size is too small
 * (KMODX_TAINT_STRING_MAX always suffices).
 */
int kmodx_taint_string(uint64_t mask, char *buf, size_t size);
/*
 * The loaded modules that carry taints, in /proc/modules order: key = module name,
 * value = its taint letters as the kernel lists them (/sys/module/<name>/taint, or the
 * /proc/modules line's when that cannot be read, as for a module removed meanwhile),
 * number = the mask of the letters kmodx knows. *list is new.
 */
int kmodx_get_module_taints(struct kmodx_ctx *ctx, struct kmodx_kvlist **list);

/* ---- loading and removing --------------------------------------------------------- */

enum kmodx_insert_flags {
	KMODX_INSERT_FORCE_VERMAGIC = 1 << 0,
	KMODX_INSERT_FORCE_MODVERSION = 1 << 1,
};

/*
 * Load the module's file into the kernel with the given options ("" or NULL for none).
 * Uses finit_module(), letting the kernel decompress when it can, otherwise decompresses
 * and uses init_module(). The kernel's errno comes back negated.
 */
int kmodx_module_insert(struct kmodx_module *mod, unsigned flags, const char *options);

enum kmodx_remove_flags {
	KMODX_REMOVE_FORCE = 1 << 0, /* O_TRUNC: remove even if in use */
	KMODX_REMOVE_NOLOG = 1 << 1, /* do not log a failure */
};

int kmodx_module_remove(struct kmodx_module *mod, unsigned flags);

/* ---- modprobe ---------------------------------------------------------------------- */

/* The flags kmod has are kmod's KMOD_PROBE_* values, and so are the answers below. */
enum kmodx_probe_flags {
	KMODX_PROBE_FORCE_VERMAGIC = KMODX_INSERT_FORCE_VERMAGIC,
	KMODX_PROBE_FORCE_MODVERSION = KMODX_INSERT_FORCE_MODVERSION,
	KMODX_PROBE_IGNORE_COMMAND =
		1 << 2, /* no install/remove commands, no own softdeps */
	KMODX_PROBE_IGNORE_LOADED = 1 << 3,  /* act as if nothing were loaded */
	KMODX_PROBE_DRY_RUN = 1 << 4,	     /* do not load, remove or run anything */
	KMODX_PROBE_FAIL_ON_LOADED = 1 << 5, /* -EEXIST if already loaded (--first-time);
					      * for removal: -ENOENT if not loaded */
	KMODX_PROBE_APPLY_BLACKLIST_ALL = 1 << 16, /* skip blacklisted dependencies too */
	KMODX_PROBE_APPLY_BLACKLIST =
		1 << 17, /* the module itself may not be blacklisted */
	KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY =
		1 << 18,		     /* ...if it was found by an alias */
	KMODX_PROBE_FORCE_REMOVE = 1 << 6,   /* removal: O_TRUNC */
	KMODX_PROBE_REMOVE_HOLDERS = 1 << 7, /* removal: holders first */
};

/* Where a probe failed. */
enum kmodx_probe_stage {
	KMODX_PROBE_STAGE_NONE = 0,
	KMODX_PROBE_STAGE_FILE,	   /* a module's file could not be opened: nothing was loaded */
	KMODX_PROBE_STAGE_KERNEL,  /* the kernel refused a module */
	KMODX_PROBE_STAGE_COMMAND, /* an install or remove command failed */
	KMODX_PROBE_STAGE_MASK,	   /* a module is masked (modprobe.d's "mask"): nothing was
				    * loaded; kmodx_module_get_config() says where */
};

struct kmodx_probe_failure {
	enum kmodx_probe_stage stage;
	struct kmodx_module *module; /* new reference (the caller unrefs it), or NULL */
};

struct kmodx_probe_opts {
	unsigned flags;		   /* enum kmodx_probe_flags */
	const char *extra_options; /* options for the requested module (command line) */
	unsigned long wait_msec;   /* removal: wait this long for it to become unused */
	int message_priority;	   /* of "Module X is in use." and the like (syslog level) */
	/* each action as modprobe -D prints it ("insmod PATH OPTS", "rmmod NAME", ...) */
	void (*show)(void *data, const char *line);
	/*
	 * instead of /bin/sh -c: 0 or a negative errno. For an install command its answer
	 * is the module's result as is (a positive one does not stop the probe; the last
	 * module's result is returned), as kmod's run_install callback.
	 */
	int (*run_command)(void *data, struct kmodx_module *mod, const char *type,
			   const char *cmd);
	void *data;
	/*
	 * the same actions in parts, for every module about to be loaded or removed (not
	 * for those already in the kernel); mod is borrowed. action is "insmod",
	 * "install", "builtin", "rmmod" or "remove"; arg the module's path (insmod: NULL
	 * for a module with neither a file nor a place among the builtins, which show
	 * does not print) or the command (install, remove), else NULL; options the
	 * options the module gets (insmod, install, builtin; "" for none), else NULL.
	 * kmod's print_action is this callback with install = (action is "install").
	 */
	void (*show_action)(void *data, struct kmodx_module *mod, const char *action,
			    const char *arg, const char *options);
	/* optional: on failure, which module failed and where (left zeroed on success) */
	struct kmodx_probe_failure *failure;
};

/*
 * Load a module the way modprobe does: its dependencies in load order, soft
 * dependencies around each, configuration options, install commands. Returns 0, a
 * negative errno, or a positive KMODX_PROBE_APPLY_BLACKLIST* flag when the module was
 * skipped as blacklisted. Each call starts afresh: which modules it visited and
 * which were required is forgotten when the next one begins. Unless it is a dry run,
 * the file of every module that must be loaded is opened first: if one cannot be,
 * nothing is loaded, the error is the open's (-ENOENT for a missing file) and the
 * failure's stage KMODX_PROBE_STAGE_FILE.
 * A masked module is never loaded: if the module or one of its modules.dep
 * dependencies is masked, nothing is loaded (not even in a dry run), the result is
 * -EPERM and the stage KMODX_PROBE_STAGE_MASK; a masked soft dependency is left out,
 * with the modules it would have brought in.
 */
int kmodx_module_probe_insert(struct kmodx_module *mod, const struct kmodx_probe_opts *opts);
/*
 * Remove a module the way modprobe -r does: post-softdeps, holders (with
 * KMODX_PROBE_REMOVE_HOLDERS), the module (or its remove command), then dependencies
 * nobody uses any more and pre-softdeps. 0 or a negative errno.
 */
int kmodx_module_probe_remove(struct kmodx_module *mod, const struct kmodx_probe_opts *opts);

/* ---- modules-load.d ---------------------------------------------------------------- */

enum kmodx_modules_load_flags {
	KMODX_MODULES_LOAD_DRY_RUN = 1 << 0, /* load nothing; one worker */
};

enum kmodx_modules_load_status {
	KMODX_MODULES_LOAD_INSERTED = 0, /* loaded (or, in a dry run, would be) */
	KMODX_MODULES_LOAD_NOT_FOUND,	 /* the name resolves to nothing (error -ENOENT) */
	KMODX_MODULES_LOAD_BUILTIN,	 /* built into the kernel: nothing to do */
	KMODX_MODULES_LOAD_ALREADY,	 /* loaded already, or meanwhile */
	KMODX_MODULES_LOAD_BLACKLISTED,	 /* the name itself is blacklisted: skipped */
	KMODX_MODULES_LOAD_FAILED,	 /* error and failure say why */
};

struct kmodx_modules_load_result {
	const char *name;	     /* as listed */
	const char *origin;	     /* "FILE:LINE" or "kernel command line" */
	struct kmodx_module *module; /* borrowed, valid during the call; NULL if not found */
	enum kmodx_modules_load_status status;
	int error;				 /* 0 or a negative errno */
	struct kmodx_probe_failure failure; /* borrowed: which module failed, and where */
};

struct kmodx_modules_load_opts {
	unsigned jobs;		  /* loads at once; 0: the number of online CPUs */
	unsigned flags;		  /* enum kmodx_modules_load_flags */
	const char *const *files; /* NULL-terminated: read only these files; NULL: the
				   * defaults (see below) */
	/* one call per module a name resolves to (or per name that resolves to nothing),
	 * one call at a time, from any of the loading threads */
	void (*report)(void *data, const struct kmodx_modules_load_result *result);
	/* each action, as kmodx_probe_opts.show gets it; may be called from any loading
	 * thread, but never twice at once for one module */
	void (*show)(void *data, const char *line);
	void *data;
};

/*
 * Load what modules-load.d(5) lists, as systemd-modules-load does: modules_load= (and,
 * when <root>/etc/initrd-release exists, rd.modules_load=) from the kernel command
 * line, then the *.conf files of /etc, /run, /usr/local/lib, /usr/lib and
 * /lib/modules-load.d sorted together by name (an earlier directory hides the same
 * name later), with Debian's /etc/modules read as /etc/modules-load.d/modules.conf.
 * Each module is loaded as modprobe loads it (KMODX_PROBE_APPLY_BLACKLIST: the name
 * itself may not be blacklisted; masks refuse) on up to opts->jobs threads, each with
 * its own copy of ctx's settings; two loads that may touch the same module never run
 * at once. Bad lines are logged (with file and line) and skipped. Returns 0, -EIO if
 * a file could not be read (logged; the rest was loaded), or another negative errno;
 * what happened to each module goes to opts->report.
 */
int kmodx_modules_load(struct kmodx_ctx *ctx, const struct kmodx_modules_load_opts *opts);

/* ---- configuration ---------------------------------------------------------------- */

enum kmodx_config_kind {
	KMODX_CONFIG_BLACKLIST,
	KMODX_CONFIG_INSTALL,
	KMODX_CONFIG_REMOVE,
	KMODX_CONFIG_ALIAS,
	KMODX_CONFIG_OPTIONS,
	KMODX_CONFIG_SOFTDEP,
	KMODX_CONFIG_WEAKDEP,
	KMODX_CONFIG_MASK, /* kmodx's "mask MODULE": nothing loads it (modprobe.d(5)) */
};

/* Static string: the directive of a kind ("blacklist", "options", ...); NULL if
 * unknown. */
const char *kmodx_config_kind_name(enum kmodx_config_kind kind);

/* The configuration entries of one kind in configuration order: key = module name or
 * pattern, value = the rest ("" for blacklist and mask), number = for softdep, the
 * length of value's "pre: ..." part (value is that part then the "post: ..." one, as
 * modprobe -c prints them), else 0; origin = "FILE:LINE" or "kernel command line"
 * (modules.softdep and modules.weakdep are files too). *list is new. */
int kmodx_config_get(struct kmodx_ctx *ctx, enum kmodx_config_kind kind,
		     struct kmodx_kvlist **list);
/*
 * The configuration entries that apply to a module, kind by kind in enum order and in
 * configuration order within a kind: key = the directive ("blacklist", "install",
 * "options", ...), value and origin as kmodx_config_get() gives them, number = the
 * enum kmodx_config_kind. Blacklist, mask and options entries name the module (options
 * also the alias it was found by); of install, remove, softdep and weakdep, the one
 * whose pattern matches first, the one that is used. *list is new.
 */
int kmodx_module_get_config(struct kmodx_module *mod, struct kmodx_kvlist **list);

/* ---- device nodes ----------------------------------------------------------------- */

/*
 * The static device nodes of modules.devname ("<module> <devname> <c|b><major>:<minor>"
 * lines): key = module, value = device name (relative to /dev), number = the type
 * character in bits 40-47, the major in bits 20-39, the minor in bits 0-19 (see the
 * KMODX_DEVNODE_* macros). Malformed lines are skipped. -ENOENT if the file is missing.
 */
int kmodx_get_devnodes(struct kmodx_ctx *ctx, struct kmodx_kvlist **list);
#define KMODX_DEVNODE_TYPE(n)  ((char)(((n) >> 40) & 0xff))
#define KMODX_DEVNODE_MAJOR(n) ((unsigned)(((n) >> 20) & 0xfffff))
#define KMODX_DEVNODE_MINOR(n) ((unsigned)((n)&0xfffff))

/* ---- module signatures ------------------------------------------------------------ */

enum kmodx_sign_flags {
	KMODX_SIGN_KEEP_DETACHED = 1 << 0, /* also write the signature to <module>.p7s */
	KMODX_SIGN_DETACHED_ONLY = 1 << 1, /* write only <module>.p7s */
	KMODX_SIGN_USE_KEYID = 1 << 2,	   /* name the signer by subjectKeyIdentifier, not
					    * by issuer and serial number */
	KMODX_SIGN_RESIGN = 1 << 3,	   /* remove the signatures it carries first */
};

struct kmodx_sign_opts {
	const char *hash;    /* digest: "sha256", "sha384", "sha512", "sha224", "sha1" */
	const char *key;     /* private key: a PEM or DER file, or a "pkcs11:" URI */
	const char *cert;    /* the X.509 certificate of the key, DER or PEM */
	const char *raw_sig; /* instead of key: a detached signature made elsewhere,
			      * appended as it is (hash and cert are then not used) */
	const char *pin;     /* the key's passphrase or PKCS#11 PIN, or NULL */
	unsigned flags;	     /* enum kmodx_sign_flags */
};

/*
 * Sign a module file the way the kernel's scripts/sign-file does, byte for byte: a
 * CMS SignedData without certificates or signed attributes, appended with the module
 * signature trailer. A compressed module (gzip, xz, zstd) is signed inside its
 * compression and compressed again in the same format, with settings the kernel's
 * decompressor accepts. The result goes to dest, or replaces path when dest is NULL
 * or the same: written to a temporary file in the same directory, synced and renamed
 * over, so that a failure leaves the file as it was. Needs libcrypto: -ELIBACC
 * without it. 0 or a negative errno (logged).
 */
int kmodx_sign_module(struct kmodx_ctx *ctx, const char *path, const char *dest,
		      const struct kmodx_sign_opts *opts);

/* What the running kernel will do with a module's signature. */
enum kmodx_sig_outcome {
	KMODX_SIG_LOAD = 0,		  /* a valid signature by a key it trusts */
	KMODX_SIG_LOAD_TAINT = 1,	  /* loads, tainting the kernel (E) */
	KMODX_SIG_REFUSE_KEYREJECTED = 2, /* refused: EKEYREJECTED */
	KMODX_SIG_REFUSE_BADMSG = 3,	  /* refused: EBADMSG, a malformed signature */
	KMODX_SIG_REFUSE_LOCKDOWN = 4,	  /* refused: EPERM, lockdown wants a signature */
};

enum kmodx_verify_flags {
	KMODX_VERIFY_KERNEL = 1 << 0, /* also predict the kernel's answer */
};

/*
 * Check a module file's signature. certs: NULL-terminated list of certificate files
 * (DER or PEM, several per PEM file) or directories of them, or NULL. *report (new)
 * has one entry per fact, in this order; absent keys do not apply:
 *
 *   file          the file
 *   signature     "none", "pkcs7", "malformed" (the kernel refuses it) or
 *                 "unsupported" (not PKCS#7: the kernel treats it as unsigned)
 *   problem       what is wrong with a malformed or unusual signature
 *   signer, key_id, hash   as modinfo shows them (key_id: "AB:CD:...")
 *   certificate   the file of the certificate that names the signer
 *   valid         "yes" (number 1), "no", or "unchecked" (no certificate was given)
 *   reason        why it is not valid
 * with KMODX_VERIFY_KERNEL:
 *   kernel_key    "present", "probable", "absent" or "unknown" (signed modules)
 *   kernel_key_desc  the description in /proc/keys of the key that matched
 *   sig_enforce   "yes", "no" or "unknown"
 *   lockdown      "none", "integrity", "confidentiality" or "unknown"
 *   outcome       "load", "load-taint", "EKEYREJECTED", "EBADMSG" or "EPERM", number
 *                 an enum kmodx_sig_outcome
 *
 * Needs libcrypto: -ELIBACC without it. 0 or a negative errno for a file that cannot
 * be read (logged).
 */
int kmodx_verify_module(struct kmodx_ctx *ctx, const char *path, const char *const *certs,
			unsigned flags, struct kmodx_kvlist **report);

/*
 * Why the kernel answered err (a positive errno of kmodx_module_insert: EKEYREJECTED,
 * ENOKEY or EBADMSG) for this module inserted with flags (enum kmodx_insert_flags):
 * unsigned, signed by a key the kernel lacks, enforcement on, or a damaged signature.
 * One sentence without a trailing period in *text (malloc'ed). -ENODATA when there is
 * nothing to add. Needs no libcrypto.
 */
int kmodx_module_explain_signature_error(struct kmodx_module *mod, int err,
					 unsigned flags, char **text);

/* ---- indexes ---------------------------------------------------------------------- */

enum kmodx_index {
	KMODX_INDEX_DEP,
	KMODX_INDEX_ALIAS,
	KMODX_INDEX_SYMBOL,
	KMODX_INDEX_BUILTIN,
	KMODX_INDEX_BUILTIN_ALIAS,
};

/* Write every key and value of an index to fd as "key value\n" lines, sorted by key;
 * alias and symbol lines get an "alias " prefix (as modprobe -c prints them). */
int kmodx_index_dump(struct kmodx_ctx *ctx, enum kmodx_index index, int fd);
/* The same entries as a list, sorted by key: key, value, number = the value's priority
 * (module order). -ENOENT if the index is missing. *list is new. */
int kmodx_index_get(struct kmodx_ctx *ctx, enum kmodx_index index,
		    struct kmodx_kvlist **list);

#ifdef __cplusplus
}
#endif
