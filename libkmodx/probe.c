// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * modprobe's algorithms: loading a module with its dependencies, soft dependencies,
 * options and install commands, and removing one with the modules it made necessary.
 * They follow kmod's order and rules (see modprobe(8) for the few deliberate
 * differences), so that the same configuration does the same thing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "libkmodx-private.h"
#include "util/strbuf.h"

/*
 * One action, to both callbacks: show() gets the line modprobe -D prints ("insmod PATH
 * OPTIONS", "install COMMAND OPTIONS", "builtin NAME", "rmmod NAME", "remove COMMAND"),
 * show_action() its parts. 0 or -ENOMEM: a line missing from modprobe -D's output
 * (which initramfs tools read to pick modules) must not pass for success.
 */
static int show(const struct kmodx_probe_opts *o, struct kmodx_module *m,
		const char *action, const char *arg, const char *options)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (o->show_action)
		o->show_action(o->data, m, action, arg, options);
	/* a module with neither a file nor a place among the builtins: no line (kmod) */
	if (o->show == NULL || (arg == NULL && strcmp(action, "insmod") == 0))
		return 0;
	if (strcmp(action, "builtin") == 0)
		options = NULL; /* "builtin NAME" */
	/* no printf: -D prints a line per module, and udev's modprobe runs often */
	r = strbuf_puts(&sb, action);
	if (r == 0)
		r = strbuf_putc(&sb, ' ');
	if (r == 0)
		r = strbuf_puts(&sb, arg ? arg : m->name);
	if (r == 0 && options)
		r = strbuf_putc(&sb, ' ');
	if (r == 0 && options)
		r = strbuf_puts(&sb, options);
	if (r == 0)
		o->show(o->data, strbuf_str(&sb));
	strbuf_release(&sb);
	return r;
}

/* Live or built in: nothing to load. */
static bool in_kernel(struct kmodx_module *m)
{
	int state = kmodx_module_get_initstate(m);

	return state == KMODX_MODULE_LIVE || state == KMODX_MODULE_BUILTIN;
}

_public_ bool kmodx_module_is_blacklisted(struct kmodx_module *m)
{
	int r = 0;
	struct config *c = m ? ctx_get_config(m->ctx, &r) : NULL;

	return c && config_is_blacklisted(c, m->name);
}

/* A "mask" line for the module: nothing may load it, however it is reached. */
static const struct cfg_name *masked(struct kmodx_module *m)
{
	int r = 0;
	struct config *c = ctx_get_config(m->ctx, &r);

	return c ? config_find_mask(c, m->name) : NULL;
}

/* Soft dependencies are optional: a masked one is left out, with everything it needs. */
static bool softdep_masked(struct kmodx_module *dep, struct kmodx_module *mod)
{
	const struct cfg_name *mask = masked(dep);
	char origin[PATH_MAX + 32];

	if (mask == NULL)
		return false;
	config_origin_format(&mask->origin, origin, sizeof(origin));
	NOTICE(mod->ctx, "not loading %s, a soft dependency of %s: masked by %s", dep->name,
	       mod->name, origin);
	return true;
}

/*
 * Configuration options, then the command line's for the requested module: "a b" from
 * "a" and "b", and a space after the configuration's even when the command line has
 * none (kmod's -D output has that space). NULL when there are none at all.
 */
/* *out is NULL when there are no options at all; 0 or -ENOMEM. */
static int options_concat(const char *opt, const char *extra, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	*out = NULL;
	if ((opt == NULL || !*opt) && (extra == NULL || !*extra))
		return 0;
	if (opt && *opt) {
		r = strbuf_puts(&sb, opt);
		if (r == 0)
			r = strbuf_putc(&sb, ' ');
	}
	if (r == 0 && extra)
		r = strbuf_puts(&sb, extra);
	if (r < 0) {
		strbuf_release(&sb);
		return r;
	}
	*out = strbuf_steal(&sb);
	return *out ? 0 : -ENOMEM;
}

/* Replace every $CMDLINE_OPTS of a command with the options. */
static char *substitute(const char *cmd, const char *options)
{
	static const char var[] = "$CMDLINE_OPTS";
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	int r = 0;

	while (r == 0 && (p = strstr(cmd, var)) != NULL) {
		r = strbuf_append(&sb, cmd, (size_t)(p - cmd));
		if (r == 0)
			r = strbuf_puts(&sb, options ? options : "");
		cmd = p + sizeof(var) - 1;
	}
	if (r == 0)
		r = strbuf_puts(&sb, cmd);
	if (r < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

/* Run a command with /bin/sh -c and MODPROBE_MODULE set: its exit status (0-255), 128 +
 * the signal that killed it, or -1 if it could not run. */
static int run_shell(struct kmodx_module *m, const char *cmd)
{
	int status;

	if (setenv("MODPROBE_MODULE", m->name, 1) < 0)
		return -1;
	status = system(cmd);
	unsetenv("MODPROBE_MODULE");
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_command(const struct kmodx_probe_opts *o, struct kmodx_module *m,
		       const char *type, const char *cmd)
{
	int status;

	if (o->run_command)
		return o->run_command(o->data, m, type, cmd);
	status = run_shell(m, cmd);
	if (status == 0)
		return 0;
	if (type[0] == 'i')
		ERR(m->ctx, "Error running install command '%s' for module %s: retcode %d", cmd,
		    m->name, status);
	return status > 0 ? -status : -EINVAL;
}

/* ---- the probe list ---- */

static int probe_list_add(struct kmodx_ctx *ctx, struct kmodx_module *mod, bool required,
			  bool ignore_cmd, struct kmodx_list *list);

/* mod's pre-softdeps, mod, then its post-softdeps. */
static int fill_softdeps(struct kmodx_module *mod, struct kmodx_list *list)
{
	struct kmodx_list *pre = NULL, *post = NULL;
	int r = kmodx_module_get_softdeps(mod, &pre, &post);

	if (r < 0) {
		ERR(mod->ctx, "could not get softdep: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; r == 0 && i < kmodx_list_count(pre); i++) {
		if (!softdep_masked(kmodx_list_get(pre, i), mod))
			r = probe_list_add(mod->ctx, kmodx_list_get(pre, i), false, false, list);
	}
	/* no "visited" check or mark here: like kmod, a dependency reached again through
	 * a softdep is listed again (harmless: it is loaded by then) */
	if (r == 0)
		r = list_append(list, mod);
	/*
	 * kmod ignores the install command of a module that has softdeps (kmod #446), so
	 * "install ksmbd /bin/false" does not stop ksmbd once a softdep names it. Here an
	 * explicit install command always counts; its softdeps are still loaded around it.
	 */
	for (size_t i = 0; r == 0 && i < kmodx_list_count(post); i++) {
		if (!softdep_masked(kmodx_list_get(post, i), mod))
			r = probe_list_add(mod->ctx, kmodx_list_get(post, i), false, false, list);
	}
	kmodx_list_free(pre);
	kmodx_list_free(post);
	return r;
}

/* Dependencies in load order, each with its softdeps around it, then the module. A
 * module already visited (through another path) is not listed again. */
static int probe_list_add(struct kmodx_ctx *ctx, struct kmodx_module *mod, bool required,
			  bool ignore_cmd, struct kmodx_list *list)
{
	struct kmodx_list *deps;
	int r;

	(void)ctx;
	if (mod->visited)
		return 0;
	mod->visited = true;
	r = kmodx_module_get_dependencies(mod, &deps);
	if (r < 0)
		return r;
	if (required) {
		/* before any of them is reached through a softdep */
		mod->required = true;
		for (size_t i = 0; i < kmodx_list_count(deps); i++)
			kmodx_list_get(deps, i)->required = true;
	}
	for (size_t i = 0; r == 0 && i < kmodx_list_count(deps); i++)
		r = fill_softdeps(kmodx_list_get(deps, i), list);
	if (r == 0) {
		if (ignore_cmd) {
			r = list_append(list, mod);
			mod->ignore_cmd = true;
		} else {
			r = fill_softdeps(mod, list);
		}
	}
	kmodx_list_free(deps);
	return r;
}

/* ---- loading ---- */

static void fail_at(const struct kmodx_probe_opts *o, struct kmodx_module *m,
		    enum kmodx_probe_stage stage)
{
	if (o->failure == NULL)
		return;
	kmodx_module_unref(o->failure->module);
	o->failure->module = kmodx_module_ref(m);
	o->failure->stage = stage;
}

/* What the probe will load from a file: not skipped as blacklisted or loaded, no
 * install command instead, not built in. */
static bool loads_file(struct kmodx_module *m, unsigned flags)
{
	if ((flags & KMODX_PROBE_APPLY_BLACKLIST_ALL) && kmodx_module_is_blacklisted(m))
		return false;
	if (!(flags & KMODX_PROBE_IGNORE_LOADED) && in_kernel(m))
		return false;
	if (!m->ignore_cmd && kmodx_module_get_install_command(m) != NULL)
		return false;
	return kmodx_module_get_path(m) != NULL;
}

/*
 * A masked module, or one that needs a masked module, is refused before anything is
 * loaded, install command or not: the requested module and its modules.dep
 * dependencies are required, and a dry run answers as the real run would.
 */
static int check_masks(struct kmodx_list *list, const struct kmodx_probe_opts *o)
{
	for (size_t i = 0; i < kmodx_list_count(list); i++) {
		struct kmodx_module *m = kmodx_list_get(list, i);

		if (!m->required || masked(m) == NULL)
			continue;
		if (!(o->flags & KMODX_PROBE_IGNORE_LOADED) && in_kernel(m))
			continue; /* loaded before the mask was written: nothing to refuse */
		DBG(m->ctx, "module %s is masked", m->name);
		fail_at(o, m, KMODX_PROBE_STAGE_MASK);
		return -EPERM;
	}
	return 0;
}

/*
 * Open the file of every required module before loading any: a missing or unreadable
 * file (a module deleted under the index, an external directory that is not there) is
 * reported as what it is, not as whatever the kernel would answer, and leaves nothing
 * half loaded. Soft dependencies may fail, so theirs are not checked.
 */
static int check_files(struct kmodx_list *list, const struct kmodx_probe_opts *o)
{
	for (size_t i = 0; i < kmodx_list_count(list); i++) {
		struct kmodx_module *m = kmodx_list_get(list, i);
		int r = 0;

		if (!m->required || !loads_file(m, o->flags) || module_get_file(m, &r) != NULL)
			continue;
		DBG(m->ctx, "could not open '%s': %s", kmodx_module_get_path(m), strerror(-r));
		fail_at(o, m, KMODX_PROBE_STAGE_FILE);
		return r;
	}
	return 0;
}

static int insert_one(struct kmodx_module *m, struct kmodx_module *mod,
		      const struct kmodx_probe_opts *o)
{
	const char *cmd = kmodx_module_get_install_command(m);
	const char *opt = kmodx_module_get_options(m);
	_cleanup_(freep) char *options = NULL, *line = NULL;
	const char *path;
	int r = 0;

	/* never load a module without the options it was configured with */
	if (opt == NULL)
		return -ENOMEM;
	r = options_concat(opt, m == mod ? o->extra_options : NULL, &options);
	if (r < 0)
		return r;
	if (cmd && !m->ignore_cmd) {
		r = show(o, m, "install", cmd, options ? options : "");
		if (r < 0 || (o->flags & KMODX_PROBE_DRY_RUN))
			return r;
		line = substitute(cmd, options);
		if (line == NULL)
			return -ENOMEM;
		r = run_command(o, m, "install", line);
		/* a caller's runner answers for itself (kmod passes run_install's answer
		 * on); any failure of the shell reads as EINVAL, as with kmod */
		if (r < 0 && !o->run_command)
			r = -EINVAL;
		if (r < 0)
			fail_at(o, m, KMODX_PROBE_STAGE_COMMAND);
		return r;
	}
	path = kmodx_module_get_path(m);
	if (path || kmodx_module_get_initstate(m) != KMODX_MODULE_BUILTIN)
		r = show(o, m, "insmod", path, options ? options : "");
	else
		r = show(o, m, "builtin", NULL, options ? options : "");
	if (r < 0)
		return r;
	if (!(o->flags & KMODX_PROBE_DRY_RUN))
		r = kmodx_module_insert(m, o->flags & (KMODX_INSERT_FORCE_VERMAGIC |
						       KMODX_INSERT_FORCE_MODVERSION),
					options);
	if (r < 0 && r != -EEXIST)
		fail_at(o, m, m->file ? KMODX_PROBE_STAGE_KERNEL : KMODX_PROBE_STAGE_FILE);
	return r;
}

_public_ int kmodx_module_probe_insert(struct kmodx_module *mod, const struct kmodx_probe_opts *o)
{
	struct kmodx_list *list;
	unsigned f = o->flags;
	int r;

	if (mod == NULL || o == NULL)
		return -EINVAL;
	if (!(f & KMODX_PROBE_IGNORE_LOADED) && in_kernel(mod))
		return (f & KMODX_PROBE_FAIL_ON_LOADED) ? -EEXIST : 0;
	if (mod->alias && (f & KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY) &&
	    kmodx_module_is_blacklisted(mod))
		return KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY;
	if ((f & (KMODX_PROBE_APPLY_BLACKLIST_ALL | KMODX_PROBE_APPLY_BLACKLIST)) &&
	    kmodx_module_is_blacklisted(mod))
		return f & KMODX_PROBE_APPLY_BLACKLIST_ALL ? KMODX_PROBE_APPLY_BLACKLIST_ALL
							  : KMODX_PROBE_APPLY_BLACKLIST;
	ctx_pool_reset_scratch(mod->ctx);
	r = list_new(&list);
	if (r == 0)
		r = probe_list_add(mod->ctx, mod, true, f & KMODX_PROBE_IGNORE_COMMAND, list);
	if (r == 0)
		r = check_masks(list, o);
	if (r == 0 && !(f & KMODX_PROBE_DRY_RUN))
		r = check_files(list, o);
	/* a positive answer of a caller's install runner does not stop the loop (kmod) */
	for (size_t i = 0; r >= 0 && i < kmodx_list_count(list); i++) {
		struct kmodx_module *m = kmodx_list_get(list, i);

		if (f & KMODX_PROBE_APPLY_BLACKLIST_ALL && kmodx_module_is_blacklisted(m))
			continue;
		if (!(f & KMODX_PROBE_IGNORE_LOADED) && in_kernel(m)) {
			DBG(mod->ctx, "Ignoring module '%s': already loaded", m->name);
			r = -EEXIST;
		} else {
			r = insert_one(m, mod, o);
		}
		/* EEXIST: loaded meanwhile (a concurrent modprobe): success, unless it is
		 * the requested module and the caller asked to fail then */
		if (r == -EEXIST && m == mod && (f & KMODX_PROBE_FAIL_ON_LOADED))
			break;
		if (r == -EEXIST || !m->required)
			r = 0;
	}
	kmodx_list_free(list);
	if (r >= 0 && o->failure) /* a soft dependency's failure does not count */
		fail_at(o, NULL, KMODX_PROBE_STAGE_NONE);
	return r;
}

/* ---- removing ---- */

static unsigned long long now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void sleep_msec(unsigned long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* delete_module, retrying while the module is busy if a wait was asked for, with a
 * doubling interval that never sleeps past the deadline. */
static int remove_module(struct kmodx_module *m, const struct kmodx_probe_opts *o)
{
	unsigned flags = (o->flags & KMODX_PROBE_FORCE_REMOVE) ? KMODX_REMOVE_FORCE : 0;
	unsigned long long deadline = 0, interval = 1;
	int r;

	r = show(o, m, "rmmod", NULL, NULL);
	if (r < 0 || (o->flags & KMODX_PROBE_DRY_RUN))
		return r;
	/* logged here, once the outcome is known: not for a module gone meanwhile */
	flags |= KMODX_REMOVE_NOLOG;
	for (;;) {
		r = kmodx_module_remove(m, flags);
		if (r != -EAGAIN || !o->wait_msec)
			break;
		if (deadline == 0)
			deadline = now_msec() + o->wait_msec;
		if (now_msec() >= deadline)
			break;
		sleep_msec(MIN(interval, deadline - now_msec()));
		interval *= 2;
	}
	if (r == -ENOENT && !(o->flags & KMODX_PROBE_FAIL_ON_LOADED))
		r = 0; /* removed meanwhile */
	if (r < 0)
		ERR(m->ctx, "could not remove '%s': %s", m->name, strerror(-r));
	return r;
}

/*
 * How deep --remove-holders follows holders of holders. The kernel's holder graph has no
 * cycles, but a damaged or fake /sys could: this bounds the recursion.
 */
#define HOLDER_DEPTH_MAX 32

static int probe_remove(struct kmodx_module *mod, const struct kmodx_probe_opts *o,
			unsigned holder_depth, bool ignore_builtin);

/*
 * Remove the list's modules, last first. holder_depth > 0 removes their holders first,
 * that many levels deep.
 */
static int remove_list(struct kmodx_list *list, const struct kmodx_probe_opts *o,
		       bool stop_on_errors, unsigned holder_depth)
{
	for (size_t i = kmodx_list_count(list); i > 0; i--) {
		int r = probe_remove(kmodx_list_get(list, i - 1), o, holder_depth, true);

		/* failures to remove do not matter here, a lack of memory does */
		if (r < 0 && (stop_on_errors || r == -ENOMEM))
			return r;
	}
	return 0;
}

static int probe_remove(struct kmodx_module *mod, const struct kmodx_probe_opts *o,
			unsigned holder_depth, bool ignore_builtin)
{
	struct kmodx_list *pre = NULL, *post = NULL;
	bool ignore_cmd = o->flags & KMODX_PROBE_IGNORE_COMMAND;
	bool ignore_loaded = o->flags & KMODX_PROBE_IGNORE_LOADED;
	const char *cmd = NULL;
	int r = 0;

	if (!ignore_cmd) {
		r = kmodx_module_get_softdeps(mod, &pre, &post);
		if (r < 0) {
			WARN(mod->ctx, "could not get softdeps of '%s': %s", mod->name, strerror(-r));
			return r;
		}
		cmd = kmodx_module_get_remove_command(mod);
	}
	if (!cmd && !ignore_loaded) {
		int state = kmodx_module_get_initstate(mod);

		if (state < 0) {
			if (o->flags & KMODX_PROBE_FAIL_ON_LOADED) {
				log_at(mod->ctx, o->message_priority, "Module %s is not in kernel.",
				       mod->name);
				r = -ENOENT;
			}
			goto out;
		}
		if (state == KMODX_MODULE_BUILTIN) {
			if (!ignore_builtin) {
				log_at(mod->ctx, o->message_priority, "Module %s is builtin.", mod->name);
				r = -ENOENT;
			}
			goto out;
		}
	}
	/* 1. post-softdeps, last first; their failures do not matter */
	r = remove_list(post, o, false, 0);
	if (r < 0)
		goto out;
	/*
	 * 2. the modules holding this one, and theirs before them (kmod 30 removes only the
	 * direct holders and then fails on one that is itself held; later kmod recurses too).
	 * A holder that vanished meanwhile is not an error, even with --first-time.
	 */
	if (holder_depth > 0) {
		struct kmodx_probe_opts ho = *o;
		struct kmodx_list *holders = NULL;

		ho.flags &= ~KMODX_PROBE_FAIL_ON_LOADED;
		if (holder_depth == 1) {
			ERR(mod->ctx, "could not remove the holders of '%s': nested too deeply",
			    mod->name);
			r = -ELOOP;
			goto out;
		}
		if (kmodx_module_get_holders(mod, &holders) == 0)
			r = remove_list(holders, &ho, true, holder_depth - 1);
		kmodx_list_free(holders);
		if (r < 0)
			goto out;
		if (!cmd && !ignore_loaded && kmodx_module_get_initstate(mod) < 0)
			goto out; /* went away with its holders */
	}
	/* 3. the module itself, unless still in use */
	if (!cmd && !ignore_loaded && !o->wait_msec && kmodx_module_get_refcnt(mod) > 0) {
		log_at(mod->ctx, o->message_priority, "Module %s is in use.", mod->name);
		r = -EBUSY;
		goto out;
	}
	if (cmd) {
		r = show(o, mod, "remove", cmd, NULL);
		if (r < 0)
			goto out;
		if (!(o->flags & KMODX_PROBE_DRY_RUN)) {
			_cleanup_(freep) char *line = substitute(cmd, "");

			r = line ? run_command(o, mod, "remove", line) : -ENOMEM;
			if (r < 0)
				log_at(mod->ctx, o->message_priority,
				       "Error running remove command for %s", mod->name);
		}
	} else {
		r = remove_module(mod, o);
	}
	if (r < 0)
		goto out;
	/* 4. dependencies nobody uses any more; failures do not matter */
	if (!cmd) {
		struct kmodx_list *deps = NULL;

		r = kmodx_module_get_dependencies(mod, &deps);
		for (size_t i = 0; r == 0 && i < kmodx_list_count(deps); i++) {
			struct kmodx_module *dep = kmodx_list_get(deps, i);

			if (kmodx_module_get_refcnt(dep) == 0 && remove_module(dep, o) == -ENOMEM)
				r = -ENOMEM;
		}
		kmodx_list_free(deps);
		if (r == -ENOMEM)
			goto out;
		r = 0;
	}
	/* 5. pre-softdeps, last first */
	r = remove_list(pre, o, false, 0);
out:
	kmodx_list_free(pre);
	kmodx_list_free(post);
	return r;
}

_public_ int kmodx_module_probe_remove(struct kmodx_module *mod, const struct kmodx_probe_opts *o)
{
	if (mod == NULL || o == NULL)
		return -EINVAL;
	return probe_remove(mod, o, o->flags & KMODX_PROBE_REMOVE_HOLDERS ? HOLDER_DEPTH_MAX : 0,
			    false);
}
