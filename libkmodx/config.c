// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * modprobe.d(5):
 *
 *   Files and lines as conffile.c reads them (*.conf files, '#' comments, backslash
 *   continuations). modules.softdep and modules.weakdep from the module directory join
 *   the same sorted list of files under their own names. Words are separated by blanks
 *   (space or tab).
 *
 *     alias PATTERN MODULE          options NAME REST-OF-LINE
 *     install NAME COMMAND...       remove NAME COMMAND...
 *     blacklist MODULE              softdep NAME [pre: A...] [post: B...]
 *     weakdep NAME A...             mask MODULE (kmodx only)
 *     include / config: deprecated
 *
 *   Names get '-' turned into '_' outside of [...] brackets. "REST-OF-LINE" starts after
 *   the one blank that ends NAME.
 *
 * The kernel command line adds "options MOD PARAM=VALUE" for every MOD.PARAM=VALUE word
 * and "blacklist M" for each M in modprobe.blacklist=M1,M2.
 *
 * Every entry remembers its origin (file and line, or the kernel command line), for
 * modprobe --explain, kmodx params and the errors that name a configuration line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmdline.h"
#include "conffile.h"
#include "config.h"
#include "libkmodx-private.h"
#include "util/fileio.h"
#include "util/glob.h"
#include "util/path.h"
#include "util/strbuf.h"

#define CONFIG_FILE_MAX ((size_t)16 << 20)

static const char *const default_dirs[] = {
	"/etc/modprobe.d",
	"/run/modprobe.d",
	"/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d",
	"/lib/modprobe.d",
};

/* ---- reading directives ---- */

static char *cfg_strdup(struct config *c, const char *s)
{
	return arena_strdup(&c->arena, s);
}

static int add_pair(struct config *c, struct ptrarray *list, const char *a, const char *b)
{
	/* cfg_alias, cfg_option and cfg_command share this layout */
	struct cfg_command *e = arena_alloc(&c->arena, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	e->name = cfg_strdup(c, a);
	e->command = cfg_strdup(c, b);
	e->origin = c->at;
	if (e->name == NULL || e->command == NULL)
		return -ENOMEM;
	return ptrarray_push(list, e);
}

/* blacklist and mask */
static int add_name(struct config *c, struct ptrarray *list, const char *name)
{
	struct cfg_name *e = arena_alloc(&c->arena, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	e->name = cfg_strdup(c, name);
	e->origin = c->at;
	return e->name ? ptrarray_push(list, e) : -ENOMEM;
}

#define next_word conf_next_word

/* The rest of the line after the word just taken, or NULL if it is empty. */
static char *rest_of_line(char **p)
{
	char *s = *p;

	return *s ? s : NULL;
}

/* Split "a b pre: c d post: e" into the pre and post lists; words before the first
 * "pre:" or "post:" are ignored, as by kmod. */
static int add_softdep(struct config *c, const char *name, char *line)
{
	struct cfg_softdep *d = arena_zalloc(&c->arena, sizeof(*d));
	struct ptrarray pre = PTRARRAY_INIT, post = PTRARRAY_INIT, *mode = NULL;
	char *w;
	int r = 0;

	if (d == NULL)
		return -ENOMEM;
	while (r == 0 && (w = next_word(&line)) != NULL) {
		if (streq(w, "pre:"))
			mode = &pre;
		else if (streq(w, "post:"))
			mode = &post;
		else if (mode != NULL) {
			char *dup = cfg_strdup(c, w);

			r = dup ? ptrarray_push(mode, dup) : -ENOMEM;
		}
	}
	d->name = cfg_strdup(c, name);
	d->pre = arena_memdup(&c->arena, pre.v, pre.n * sizeof(char *));
	d->post = arena_memdup(&c->arena, post.v, post.n * sizeof(char *));
	d->n_pre = pre.n;
	d->n_post = post.n;
	d->origin = c->at;
	ptrarray_release(&pre);
	ptrarray_release(&post);
	if (r == 0 && (d->name == NULL || d->pre == NULL || d->post == NULL))
		r = -ENOMEM;
	return r < 0 ? r : ptrarray_push(&c->softdeps, d);
}

static int add_weakdep(struct config *c, const char *name, char *line)
{
	struct cfg_weakdep *d = arena_zalloc(&c->arena, sizeof(*d));
	struct ptrarray deps = PTRARRAY_INIT;
	char *w;
	int r = 0;

	if (d == NULL)
		return -ENOMEM;
	while (r == 0 && (w = next_word(&line)) != NULL) {
		char *dup = cfg_strdup(c, w);

		r = dup ? ptrarray_push(&deps, dup) : -ENOMEM;
	}
	d->name = cfg_strdup(c, name);
	d->deps = arena_memdup(&c->arena, deps.v, deps.n * sizeof(char *));
	d->n_deps = deps.n;
	d->origin = c->at;
	ptrarray_release(&deps);
	if (r == 0 && (d->name == NULL || d->deps == NULL))
		r = -ENOMEM;
	return r < 0 ? r : ptrarray_push(&c->weakdeps, d);
}

static void tabs_to_spaces(char *s)
{
	for (; *s; s++) {
		if (*s == '\t')
			*s = ' ';
	}
}

/* One logical line. Returns 1 if it is malformed, 0, or a negative errno. */
static int parse_line(struct kmodx_ctx *ctx, struct config *c, const char *file, char *line,
		      const char *cmd)
{
	char *a, *b;

	if (streq(cmd, "alias")) {
		a = next_word(&line);
		b = next_word(&line);
		if (!a || !b || underscores(a) < 0 || underscores(b) < 0)
			return 1;
		return add_pair(c, &c->aliases, a, b);
	}
	if (streq(cmd, "blacklist") || streq(cmd, "mask")) {
		a = next_word(&line);
		if (!a || underscores(a) < 0)
			return 1;
		return add_name(c, cmd[0] == 'b' ? &c->blacklists : &c->masks, a);
	}
	if (streq(cmd, "options") || streq(cmd, "install") || streq(cmd, "remove") ||
	    streq(cmd, "softdep") || streq(cmd, "weakdep")) {
		a = next_word(&line);
		b = rest_of_line(&line);
		if (!a || !b || underscores(a) < 0)
			return 1;
		switch (cmd[0]) {
		case 'o':
			tabs_to_spaces(b);
			return add_pair(c, &c->options, a, b);
		case 'i':
			return add_pair(c, &c->installs, a, b);
		case 'r':
			return add_pair(c, &c->removes, a, b);
		case 's':
			return add_softdep(c, a, b);
		default:
			return add_weakdep(c, a, b);
		}
	}
	if (streq(cmd, "include") || streq(cmd, "config")) {
		ERR(ctx, "%s: command %s is deprecated and not parsed anymore", file, cmd);
		return 0;
	}
	return 1;
}

int config_parse_text(struct kmodx_ctx *ctx, struct config *c, const char *name, char *text,
		      size_t len)
{
	struct conf_reader rd;
	char *line, *cmd;
	unsigned linenum;
	int r;

	c->at.file = cfg_strdup(c, name);
	if (c->at.file == NULL)
		return -ENOMEM;
	conf_reader_init(&rd, text, len, CONFIG_FILE_MAX, "#", CONF_CONTINUATION);
	while ((r = conf_reader_next(&rd, &line, &linenum)) > 0) {
		cmd = next_word(&line);
		if (cmd == NULL)
			continue;
		c->at.line = linenum;
		r = parse_line(ctx, c, name, line, cmd);
		if (r < 0)
			break;
		if (r == 1) {
			char shown[256];

			conf_printable(shown, sizeof(shown), cmd);
			ERR(ctx, "%s line %u: ignoring bad line starting with '%s'", name, linenum,
			    shown);
		}
	}
	conf_reader_release(&rd);
	return r < 0 ? r : 0;
}

static int parse_file(struct kmodx_ctx *ctx, struct config *c, const char *path)
{
	_cleanup_(freep) char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, path, CONFIG_FILE_MAX, &text, &len);

	if (r == -ENOMEM)
		return r; /* an unreadable file is skipped, but not a file we had no memory for */
	if (r < 0) {
		if (r == -EFBIG)
			ERR(ctx, "%s: file too large, ignored", path);
		else
			ERR(ctx, "%s: %s", path, strerror(-r));
		return 0;
	}
	return config_parse_text(ctx, c, path, text, len);
}

/* ---- the kernel command line ---- */

/* modprobe.blacklist=a,b: the value may be quoted, as for any parameter. */
static int cmdline_blacklist(struct config *c, char *list)
{
	size_t len = strlen(list);
	char *item;

	if (len >= 2 && list[0] == '"' && list[len - 1] == '"') {
		list[len - 1] = '\0';
		list++;
	}
	/*
	 * Unlike kmod, which keeps these names as written so that
	 * modprobe.blacklist=snd-pcsp never matches snd_pcsp, normalise them like every
	 * other module name: the kernel treats - and _ alike.
	 */
	while ((item = strsep(&list, ",")) != NULL) {
		int r;

		if (*item == '\0' || underscores(item) < 0)
			continue;
		r = add_name(c, &c->blacklists, item);
		if (r < 0)
			return r;
	}
	return 0;
}

struct cmdline_state {
	struct kmodx_ctx *ctx;
	struct config *c;
};

static int cmdline_word(void *data, char *word)
{
	struct cmdline_state *st = data;
	struct cmdline_option opt;

	if (!cmdline_module_option(word, &opt))
		return 0;
	if (streq(opt.module, "modprobe") && opt.has_value &&
	    strstartswith(opt.param, "blacklist="))
		return cmdline_blacklist(st->c, opt.param + strlen("blacklist="));
	if (underscores(opt.module) < 0) {
		DBG(st->ctx, "ignoring kernel command line option for '%s'", opt.module);
		return 0;
	}
	/* "mod.flag" without a value is an option too, as it is for the kernel */
	return add_pair(st->c, &st->c->options, opt.module, opt.param);
}

int config_parse_cmdline(struct kmodx_ctx *ctx, struct config *c, const char *cmdline)
{
	struct cmdline_state st = {ctx, c};
	char buf[CMDLINE_MAX + 1];

	c->at = (struct cfg_origin){NULL, 0};
	snprintf(buf, sizeof(buf), "%s", cmdline);
	return cmdline_foreach_word(buf, cmdline_word, &st);
}

/* ---- finding the files ---- */

static uint64_t stat_mtime(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

/* Remember a directory or file read, for config_stamps_valid(). */
static int add_stamp(struct config *c, const char *path, const struct stat *st)
{
	struct cfg_stamp *s = arena_alloc(&c->arena, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->path = cfg_strdup(c, path);
	s->mtime = stat_mtime(st);
	return s->path ? ptrarray_push(&c->stamps, s) : -ENOMEM;
}

bool config_stamps_valid(const struct config *c)
{
	for (size_t i = 0; i < c->stamps.n; i++) {
		const struct cfg_stamp *s = c->stamps.v[i];
		struct stat st;

		if (stat(s->path, &st) < 0 || stat_mtime(&st) != s->mtime)
			return false;
	}
	return true;
}

/* A configuration directory or file (a missing one is skipped and not stamped). */
static int conf_files_add_path(struct kmodx_ctx *ctx, struct config *c,
			       struct ptrarray *files, const char *path, bool dir_only)
{
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		if (!dir_only) /* the default directories need not exist */
			DBG(ctx, "%s: %s", path, strerror(errno));
		return 0;
	}
	r = add_stamp(c, path, &st);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = conf_files_add_dir(ctx, files, path, ".conf");
	else if (r == 0 && !dir_only)
		r = conf_files_add(files, NULL, path);
	return r;
}

static int conf_files_collect(struct kmodx_ctx *ctx, struct config *c,
			      struct ptrarray *files)
{
	char buf[PATH_MAX];
	int r;

	if (ctx->config_paths == NULL) {
		for (size_t i = 0; i < ARRAY_SIZE(default_dirs); i++) {
			r = ctx_path(ctx, default_dirs[i], buf);
			if (r == 0)
				r = conf_files_add_path(ctx, c, files, buf, true);
			if (r < 0)
				return r;
		}
	} else {
		for (char **p = ctx->config_paths; *p; p++) {
			r = conf_files_add_path(ctx, c, files, *p, false);
			if (r < 0)
				return r;
		}
	}
	if (ctx->module_dir) {
		r = conf_files_add(files, ctx->module_dir, "modules.softdep");
		if (r == 0)
			r = conf_files_add(files, ctx->module_dir, "modules.weakdep");
		if (r < 0)
			return r;
	}
	conf_files_sort(files);
	return 0;
}

static int config_read_cmdline(struct kmodx_ctx *ctx, struct config *c)
{
	char path[PATH_MAX], buf[CMDLINE_MAX + 1];
	int r = ctx_path(ctx, "/proc/cmdline", path);

	if (r == 0)
		r = read_attr(path, buf, sizeof(buf));
	if (r < 0) {
		DBG(ctx, "could not read %s: %s", path, strerror(-r));
		return 0;
	}
	return config_parse_cmdline(ctx, c, buf);
}

int config_load(struct kmodx_ctx *ctx, struct config **out)
{
	struct ptrarray files = PTRARRAY_INIT;
	struct config *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return -ENOMEM;
	r = conf_files_collect(ctx, c, &files);
	for (size_t i = 0; r == 0 && i < files.n; i++) {
		const struct conf_file *f = files.v[i];

		if (access(f->path, F_OK) < 0)
			continue; /* modules.softdep may not exist */
		DBG(ctx, "parsing file %s", f->path);
		r = parse_file(ctx, c, f->path);
	}
	conf_files_release(&files);
	if (r == 0 && ctx->use_cmdline)
		r = config_read_cmdline(ctx, c);
	if (r < 0) {
		config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	ptrarray_release(&c->stamps);
	ptrarray_release(&c->aliases);
	ptrarray_release(&c->options);
	ptrarray_release(&c->installs);
	ptrarray_release(&c->removes);
	ptrarray_release(&c->blacklists);
	ptrarray_release(&c->softdeps);
	ptrarray_release(&c->weakdeps);
	ptrarray_release(&c->masks);
	arena_release(&c->arena);
	free(c);
}

/* ---- queries ---- */

static const struct cfg_name *find_name(const struct ptrarray *list, const char *modname)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct cfg_name *e = list->v[i];

		if (streq(e->name, modname))
			return e;
	}
	return NULL;
}

bool config_is_blacklisted(const struct config *c, const char *modname)
{
	return find_name(&c->blacklists, modname) != NULL;
}

const struct cfg_name *config_find_mask(const struct config *c, const char *modname)
{
	return find_name(&c->masks, modname);
}

void config_origin_format(const struct cfg_origin *o, char *buf, size_t size)
{
	if (o->file)
		snprintf(buf, size, "%s:%u", o->file, o->line);
	else
		snprintf(buf, size, "kernel command line");
}

static const char *find_command(const struct ptrarray *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct cfg_command *cmd = list->v[i];

		if (glob_match(cmd->name, name))
			return cmd->command;
	}
	return NULL;
}

const char *config_find_install(const struct config *c, const char *name)
{
	return find_command(&c->installs, name);
}

const char *config_find_remove(const struct config *c, const char *name)
{
	return find_command(&c->removes, name);
}

const struct cfg_softdep *config_find_softdep(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->softdeps.n; i++) {
		const struct cfg_softdep *d = c->softdeps.v[i];

		if (glob_match(d->name, name))
			return d;
	}
	return NULL;
}

const struct cfg_weakdep *config_find_weakdep(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->weakdeps.n; i++) {
		const struct cfg_weakdep *d = c->weakdeps.v[i];

		if (glob_match(d->name, name))
			return d;
	}
	return NULL;
}
