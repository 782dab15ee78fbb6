// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * modprobe.d(5):
 *
 *   Files: regular files named *.conf in the configuration directories, all sorted
 *   together by file name; a name in an earlier (higher-precedence) directory hides the
 *   same name in later ones. modules.softdep and modules.weakdep from the module
 *   directory join the same sorted list under their own names.
 *
 *   Lines: a trailing backslash joins a line with the next (the newline goes, the next
 *   line's leading blanks stay). Lines that are empty or start with '#' are skipped.
 *   Words are separated by blanks (space or tab).
 *
 *     alias PATTERN MODULE          options NAME REST-OF-LINE
 *     install NAME COMMAND...       remove NAME COMMAND...
 *     blacklist MODULE              softdep NAME [pre: A...] [post: B...]
 *     weakdep NAME A...             include / config: deprecated
 *
 *   Names get '-' turned into '_' outside of [...] brackets. "REST-OF-LINE" starts after
 *   the one blank that ends NAME.
 *
 * The kernel command line adds "options MOD PARAM=VALUE" for every MOD.PARAM=VALUE word
 * and "blacklist M" for each M in modprobe.blacklist=M1,M2.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmdline.h"
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
	/* cfg_alias, cfg_option and cfg_command share this two-string layout */
	struct cfg_command *e = arena_alloc(&c->arena, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	e->name = cfg_strdup(c, a);
	e->command = cfg_strdup(c, b);
	if (e->name == NULL || e->command == NULL)
		return -ENOMEM;
	return ptrarray_push(list, e);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* strtok_r-like: the next blank-separated word, NUL-terminated in place. */
static char *next_word(char **p)
{
	char *s = *p, *w;

	while (is_blank(*s))
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s && !is_blank(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

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

/*
 * A copy of s fit for a terminal: a binary or hostile file must not send control
 * sequences through an error message. Bytes below 0x20 and 0x7f become '?'; long
 * words are cut.
 */
static void printable(char *buf, size_t size, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
}

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
	if (streq(cmd, "blacklist")) {
		a = next_word(&line);
		if (!a || underscores(a) < 0)
			return 1;
		a = cfg_strdup(c, a);
		return a ? ptrarray_push(&c->blacklists, a) : -ENOMEM;
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
	struct strbuf line = {.max = CONFIG_FILE_MAX};
	unsigned linenum = 0;
	char *p = text, *end = text + len;
	int r = 0;

	while (p < end && r >= 0) {
		char *nl, *cmd, *rest;

		/* join continuation lines */
		strbuf_clear(&line);
		for (;;) {
			size_t n;

			nl = memchr(p, '\n', (size_t)(end - p));
			n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			linenum++;
			if (n > 0 && p[n - 1] == '\\') {
				r = strbuf_append(&line, p, n - 1);
				p = nl ? nl + 1 : end;
				if (r < 0 || p >= end)
					break;
				continue;
			}
			r = strbuf_append(&line, p, n);
			p = nl ? nl + 1 : end;
			break;
		}
		if (r < 0)
			break;
		rest = (char *)strbuf_str(&line);
		if (rest == NULL) {
			r = -ENOMEM;
			break;
		}
		/* an embedded NUL ends the line, as it does for kmod's getline() use */
		if (rest[0] == '\0' || rest[0] == '#')
			continue;
		cmd = next_word(&rest);
		if (cmd == NULL)
			continue;
		r = parse_line(ctx, c, name, rest, cmd);
		if (r == 1) {
			char shown[256];

			printable(shown, sizeof(shown), cmd);
			ERR(ctx, "%s line %u: ignoring bad line starting with '%s'", name, linenum,
			    shown);
			r = 0;
		}
	}
	strbuf_release(&line);
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
		char *dup;
		int r;

		if (*item == '\0' || underscores(item) < 0)
			continue;
		dup = cfg_strdup(c, item);
		r = dup ? ptrarray_push(&c->blacklists, dup) : -ENOMEM;
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

	snprintf(buf, sizeof(buf), "%s", cmdline);
	return cmdline_foreach_word(buf, cmdline_word, &st);
}

/* ---- finding the files ---- */

struct conf_file {
	const char *name; /* basename: the sort key */
	char *path;
};

static void conf_file_free(void *p)
{
	struct conf_file *f = p;

	free(f->path);
	free(f);
}

static int conf_files_add(struct ptrarray *files, const char *dir, const char *name)
{
	struct conf_file *f;

	for (size_t i = 0; i < files->n; i++) {
		const struct conf_file *g = files->v[i];

		if (streq(g->name, name))
			return 0; /* an earlier directory already has this name */
	}
	f = malloc(sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->path = dir ? path_join(dir, name) : strdup(name);
	if (f->path == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->name = path_basename(f->path);
	if (ptrarray_push(files, f) < 0) {
		conf_file_free(f);
		return -ENOMEM;
	}
	return 0;
}

static bool conf_name_ok(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len >= 6 && streq(name + len - 5, ".conf");
}

static int conf_files_add_dir(struct kmodx_ctx *ctx, struct ptrarray *files, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	/* an unreadable directory or entry costs its own configuration, not every lookup */
	if (d == NULL) {
		if (errno != ENOENT && errno != ENOTDIR)
			ERR(ctx, "could not open directory %s: %s", dir, strerror(errno));
		return 0;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (!conf_name_ok(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
			/* a dangling link is what an uninstalled package leaves behind */
			if (errno == ENOENT)
				DBG(ctx, "%s/%s: dangling symbolic link", dir, de->d_name);
			else
				ERR(ctx, "%s/%s: %s", dir, de->d_name, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			ERR(ctx, "Directories inside directories are not supported: %s/%s", dir,
			    de->d_name);
			continue;
		}
		r = conf_files_add(files, dir, de->d_name);
	}
	closedir(d);
	return r;
}

static int conf_file_cmp(const void *a, const void *b)
{
	const struct conf_file *fa = *(const struct conf_file *const *)a;
	const struct conf_file *fb = *(const struct conf_file *const *)b;

	return strcmp(fa->name, fb->name);
}

static int conf_files_collect(struct kmodx_ctx *ctx, struct ptrarray *files)
{
	char buf[PATH_MAX];
	int r;

	if (ctx->config_paths == NULL) {
		for (size_t i = 0; i < ARRAY_SIZE(default_dirs); i++) {
			r = ctx_path(ctx, default_dirs[i], buf);
			if (r == 0)
				r = conf_files_add_dir(ctx, files, buf);
			if (r < 0)
				return r;
		}
	} else {
		for (char **p = ctx->config_paths; *p; p++) {
			struct stat st;

			if (stat(*p, &st) < 0) {
				DBG(ctx, "%s: %s", *p, strerror(errno));
				continue;
			}
			r = S_ISDIR(st.st_mode) ? conf_files_add_dir(ctx, files, *p)
						: conf_files_add(files, NULL, *p);
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
	sort(files->v, files->n, sizeof(void *), conf_file_cmp);
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
	r = conf_files_collect(ctx, &files);
	for (size_t i = 0; r == 0 && i < files.n; i++) {
		const struct conf_file *f = files.v[i];

		if (access(f->path, F_OK) < 0)
			continue; /* modules.softdep may not exist */
		DBG(ctx, "parsing file %s", f->path);
		r = parse_file(ctx, c, f->path);
	}
	ptrarray_release_with(&files, conf_file_free);
	if (r == 0 && ctx->use_cmdline)
		r = config_read_cmdline(ctx, c);
	if (r < 0) {
		config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int config_foreach_file(struct kmodx_ctx *ctx,
			int (*fn)(void *data, const char *path, struct config *c),
			void *data)
{
	struct ptrarray files = PTRARRAY_INIT;
	int r = conf_files_collect(ctx, &files);

	for (size_t i = 0; r == 0 && i < files.n; i++) {
		const struct conf_file *f = files.v[i];
		struct config *c;

		if (streq(f->name, "modules.softdep") ||
		    streq(f->name, "modules.weakdep"))
			continue; /* depmod's, not configuration */
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			r = -ENOMEM;
			break;
		}
		r = parse_file(ctx, c, f->path);
		if (r == 0)
			r = fn(data, f->path, c);
		config_free(c);
	}
	ptrarray_release_with(&files, conf_file_free);
	return r;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	ptrarray_release(&c->aliases);
	ptrarray_release(&c->options);
	ptrarray_release(&c->installs);
	ptrarray_release(&c->removes);
	ptrarray_release(&c->blacklists);
	ptrarray_release(&c->softdeps);
	ptrarray_release(&c->weakdeps);
	arena_release(&c->arena);
	free(c);
}

/* ---- queries ---- */

bool config_is_blacklisted(const struct config *c, const char *modname)
{
	for (size_t i = 0; i < c->blacklists.n; i++) {
		if (streq(c->blacklists.v[i], modname))
			return true;
	}
	return false;
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
