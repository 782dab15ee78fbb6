// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "index-text.h"
#include "index.h"
#include "libkmodx-private.h"
#include "util/fileio.h"
#include "util/path.h"

static const char *const index_names[] = {
	[KMODX_INDEX_DEP] = "modules.dep",
	[KMODX_INDEX_ALIAS] = "modules.alias",
	[KMODX_INDEX_SYMBOL] = "modules.symbols",
	[KMODX_INDEX_BUILTIN] = "modules.builtin",
	[KMODX_INDEX_BUILTIN_ALIAS] = "modules.builtin.alias",
};

enum { INDEX_UNTRIED = 0, INDEX_OPEN, INDEX_TEXT, INDEX_ABSENT };

/* ---- logging ---- */

_public_ const char *kmodx_log_priority_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "FATAL";
	case LOG_ERR:
		return "ERROR";
	case LOG_WARNING:
		return "WARNING";
	case LOG_NOTICE:
		return "NOTICE";
	case LOG_INFO:
		return "INFO";
	default:
		return "DEBUG";
	}
}

static void log_stderr(void *data, int prio, const char *msg)
{
	(void)data;
	fprintf(stderr, "libkmodx: %s: %s\n", kmodx_log_priority_name(prio), msg);
}

bool ctx_log_enabled(const struct kmodx_ctx *ctx, int prio)
{
	return (ctx->log_fn != NULL || ctx->log_va_fn != NULL) && prio <= ctx->log_prio;
}

static void call_log_va(const struct kmodx_ctx *ctx, int prio, const char *file, int line,
			const char *fn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx->log_va_fn(ctx->log_data, prio, file, line, fn, fmt, ap);
	va_end(ap);
}

/* The message goes out already formatted: a kmod-shaped function gets "%s\n" and it, so
 * that what it prints ends with a newline as kmod's messages do. */
static void log_deliver(const struct kmodx_ctx *ctx, int prio, const char *file, int line,
			const char *fn, const char *msg)
{
	if (ctx->log_va_fn)
		call_log_va(ctx, prio, file, line, fn, "%s\n", msg);
	else if (ctx->log_fn)
		ctx->log_fn(ctx->log_data, prio, msg);
}

/* Messages of a thread working for a context are held here while deferred. */
static __thread struct log_defer *log_deferred;

void ctx_log_defer(struct log_defer *d)
{
	log_deferred = d;
}

void ctx_log_replay(const struct kmodx_ctx *ctx, struct log_defer *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (ctx)
			log_deliver(ctx, d->v[i].prio, d->v[i].file, d->v[i].line,
				    d->v[i].fn, d->v[i].msg);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

void ctx_log(const struct kmodx_ctx *ctx, int prio, const char *file, int line,
	     const char *fn, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_deferred) {
		struct log_defer *d = log_deferred;

		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 16;
			void *v = realloc(d->v, cap * sizeof(*d->v));

			if (v == NULL)
				return;
			d->v = v;
			d->cap = cap;
		}
		d->v[d->n].prio = prio;
		d->v[d->n].file = file;
		d->v[d->n].line = line;
		d->v[d->n].fn = fn;
		d->v[d->n].msg = strdup(buf);
		if (d->v[d->n].msg)
			d->n++;
		return;
	}
	log_deliver(ctx, prio, file, line, fn, buf);
}

static int log_priority_from_env(void)
{
	const char *s = getenv("KMOD_LOG");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return LOG_ERR;
	if (strstartswith(s, "err"))
		return LOG_ERR;
	if (strstartswith(s, "info"))
		return LOG_INFO;
	if (strstartswith(s, "debug"))
		return LOG_DEBUG;
	v = strtol(s, &end, 10);
	return (*end == '\0' && v >= 0 && v <= LOG_DEBUG) ? (int)v : LOG_ERR;
}

_public_ void kmodx_ctx_set_log_fn(struct kmodx_ctx *ctx, kmodx_log_fn fn, void *data)
{
	ctx->log_fn = fn;
	ctx->log_va_fn = NULL;
	ctx->log_data = data;
}

_public_ void kmodx_ctx_set_log_va_fn(struct kmodx_ctx *ctx, kmodx_log_va_fn fn,
				      void *data)
{
	ctx->log_va_fn = fn;
	ctx->log_fn = NULL;
	ctx->log_data = data;
}

_public_ void kmodx_ctx_set_userdata(struct kmodx_ctx *ctx, void *userdata)
{
	ctx->userdata = userdata;
}

_public_ void *kmodx_ctx_get_userdata(const struct kmodx_ctx *ctx)
{
	return ctx->userdata;
}

_public_ void kmodx_ctx_set_log_priority(struct kmodx_ctx *ctx, int priority)
{
	ctx->log_prio = priority;
}

_public_ int kmodx_ctx_get_log_priority(const struct kmodx_ctx *ctx)
{
	return ctx->log_prio;
}

/* ---- life cycle and settings ---- */

_public_ int kmodx_ctx_new(struct kmodx_ctx **out)
{
	struct kmodx_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->root = strdup("");
	if (ctx->root == NULL) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->use_cmdline = true;
	ctx->log_fn = log_stderr;
	ctx->log_prio = log_priority_from_env();
	ctx->kernel_compression = -1;
	*out = ctx;
	return 0;
}

static int copy_string(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && *dst == NULL ? -ENOMEM : 0;
}

int ctx_clone(struct kmodx_ctx *ctx, struct kmodx_ctx **out)
{
	struct kmodx_ctx *c;
	int r = ctx_prepare(ctx);

	if (r == 0)
		r = kmodx_ctx_new(&c);
	if (r < 0)
		return r;
	free(c->root);
	c->root = NULL;
	r = copy_string(&c->root, ctx->root);
	if (r == 0)
		r = copy_string(&c->kver, ctx->kver);
	if (r == 0)
		r = copy_string(&c->base_dir, ctx->base_dir);
	if (r == 0)
		r = copy_string(&c->module_dir, ctx->module_dir);
	if (r == 0)
		r = kmodx_ctx_set_config_paths(c, (const char *const *)ctx->config_paths);
	if (r < 0 || c->root == NULL) {
		kmodx_ctx_unref(c);
		return r < 0 ? r : -ENOMEM;
	}
	c->use_cmdline = ctx->use_cmdline;
	c->log_fn = ctx->log_fn;
	c->log_data = ctx->log_data;
	c->log_prio = ctx->log_prio;
	*out = c;
	return 0;
}

_public_ struct kmodx_ctx *kmodx_ctx_ref(struct kmodx_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

static void free_strv(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

_public_ struct kmodx_ctx *kmodx_ctx_unref(struct kmodx_ctx *ctx)
{
	if (ctx == NULL)
		return NULL;
	if (--ctx->refcount > 0)
		return ctx;
	for (size_t i = 0; i < ARRAY_SIZE(ctx->indexes); i++)
		index_close(ctx->indexes[i]);
	config_free(ctx->config);
	hash_release(&ctx->modules);
	free_strv(ctx->config_paths);
	free(ctx->root);
	free(ctx->kver);
	free(ctx->base_dir);
	free(ctx->module_dir);
	free(ctx->cwd);
	free(ctx);
	return NULL;
}

static int set_string(struct kmodx_ctx *ctx, char **field, const char *value)
{
	char *copy = NULL;

	if (ctx->frozen)
		return -EBUSY;
	if (value != NULL) {
		copy = strdup(value);
		if (copy == NULL)
			return -ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

_public_ int kmodx_ctx_set_root(struct kmodx_ctx *ctx, const char *root)
{
	char buf[PATH_MAX];
	size_t len;

	if (root == NULL || root[0] == '\0')
		return -EINVAL;
	len = strlen(root);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, root, len + 1);
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';
	return set_string(ctx, &ctx->root, buf);
}

_public_ int kmodx_ctx_set_kernel_release(struct kmodx_ctx *ctx, const char *release)
{
	if (release != NULL && (strchr(release, '/') || streq(release, "..") || !*release))
		return -EINVAL;
	return set_string(ctx, &ctx->kver, release);
}

_public_ int kmodx_ctx_set_base_dir(struct kmodx_ctx *ctx, const char *base_dir)
{
	return set_string(ctx, &ctx->base_dir, base_dir);
}

_public_ int kmodx_ctx_set_module_dir(struct kmodx_ctx *ctx, const char *module_dir)
{
	return set_string(ctx, &ctx->module_dir, module_dir);
}

_public_ int kmodx_ctx_set_config_paths(struct kmodx_ctx *ctx, const char *const *paths)
{
	char **copy = NULL;
	size_t n = 0;

	if (ctx->frozen)
		return -EBUSY;
	if (paths != NULL) {
		while (paths[n])
			n++;
		copy = calloc(n + 1, sizeof(char *));
		if (copy == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			copy[i] = strdup(paths[i]);
			if (copy[i] == NULL) {
				free_strv(copy);
				return -ENOMEM;
			}
		}
	}
	free_strv(ctx->config_paths);
	ctx->config_paths = copy;
	return 0;
}

_public_ int kmodx_ctx_set_use_cmdline(struct kmodx_ctx *ctx, bool use)
{
	if (ctx->frozen)
		return -EBUSY;
	ctx->use_cmdline = use;
	return 0;
}

_public_ const char *kmodx_ctx_get_root(const struct kmodx_ctx *ctx)
{
	return ctx->root;
}

int ctx_path(const struct kmodx_ctx *ctx, const char *abs, char *buf)
{
	int n = snprintf(buf, PATH_MAX, "%s%s", ctx->root, abs);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

_public_ int kmodx_ctx_resolve_path(const struct kmodx_ctx *ctx, const char *path, char *buf,
				    size_t size)
{
	int n;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	n = snprintf(buf, size, "%s%s", ctx->root, path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The running kernel's release: <root>/proc/sys/kernel/osrelease, or uname(). */
static int detect_release(struct kmodx_ctx *ctx)
{
	char path[PATH_MAX], buf[256];
	struct utsname u;

	if (ctx->root[0] != '\0' && ctx_path(ctx, "/proc/sys/kernel/osrelease", path) == 0 &&
	    read_attr(path, buf, sizeof(buf)) == 0 && buf[0] != '\0' && !strchr(buf, '/')) {
		ctx->kver = strdup(buf);
		return ctx->kver ? 0 : -ENOMEM;
	}
	if (uname(&u) < 0)
		return -errno;
	ctx->kver = strdup(u.release);
	return ctx->kver ? 0 : -ENOMEM;
}

const char *ctx_get_cwd(struct kmodx_ctx *ctx)
{
	char buf[PATH_MAX];

	if (ctx->cwd == NULL && getcwd(buf, sizeof(buf)) != NULL)
		ctx->cwd = strdup(buf);
	return ctx->cwd;
}

/* Relative paths are made absolute against the current directory (not resolved):
 * module paths printed later must not depend on where the caller was. */
static int make_absolute(char **path)
{
	char cwd[PATH_MAX], *abs;

	if (*path == NULL || (*path)[0] == '/' || (*path)[0] == '\0')
		return 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -errno;
	abs = path_join(cwd, *path);
	if (abs == NULL)
		return -ENOMEM;
	free(*path);
	*path = abs;
	return 0;
}

int ctx_prepare(struct kmodx_ctx *ctx)
{
	char buf[PATH_MAX];
	int r, n;

	if (ctx->frozen)
		return 0;
	ctx->frozen = true;
	if ((r = make_absolute(&ctx->root)) < 0 || (r = make_absolute(&ctx->base_dir)) < 0 ||
	    (r = make_absolute(&ctx->module_dir)) < 0)
		return r;
	if (ctx->kver == NULL && (r = detect_release(ctx)) < 0)
		return r;
	if (ctx->module_dir == NULL) {
		if (ctx->base_dir)
			n = snprintf(buf, sizeof(buf), "%s%s/%s", ctx->base_dir, MODULE_DIRECTORY,
				     ctx->kver);
		else
			n = snprintf(buf, sizeof(buf), "%s%s/%s", ctx->root, MODULE_DIRECTORY,
				     ctx->kver);
		if (n < 0 || n >= (int)sizeof(buf))
			return -ENAMETOOLONG;
		ctx->module_dir = strdup(buf);
		if (ctx->module_dir == NULL)
			return -ENOMEM;
	}
	return 0;
}

_public_ const char *kmodx_ctx_get_kernel_release(struct kmodx_ctx *ctx)
{
	return ctx_prepare(ctx) < 0 ? NULL : ctx->kver;
}

_public_ const char *kmodx_ctx_get_module_dir(struct kmodx_ctx *ctx)
{
	return ctx_prepare(ctx) < 0 ? NULL : ctx->module_dir;
}

int ctx_module_path(struct kmodx_ctx *ctx, const char *rel, char *buf)
{
	int n, r = ctx_prepare(ctx);

	if (r < 0)
		return r;
	if (rel[0] == '/') /* an external module: under the root like any system path */
		n = snprintf(buf, PATH_MAX, "%s%s", ctx->root, rel);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", ctx->module_dir, rel);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* ---- lazily loaded resources ---- */

struct config *ctx_get_config(struct kmodx_ctx *ctx, int *err)
{
	int r;

	if (ctx->config)
		return ctx->config;
	r = ctx_prepare(ctx);
	if (r == 0)
		r = config_load(ctx, &ctx->config);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	return ctx->config;
}

/* A file's modification time in nanoseconds, 0 if it cannot be read: what
 * kmodx_ctx_validate_resources() compares. */
static uint64_t file_stamp(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
}

/*
 * A .bin index can be damaged: cut by a full disk, left empty by a crash, overwritten.
 * Where depmod's text file of the same index is there, lookups go on with it, after one
 * warning naming both: a broken modules.alias.bin must not leave every device at boot
 * without its driver (kmod has no such fallback). Without it, one error names the file
 * and the index counts as absent. Damage in the header shows when the file is opened;
 * damage deeper in the trie shows in the search that reaches it, which then repeats on
 * the text index.
 */
static int index_fall_back(struct kmodx_ctx *ctx, enum kmodx_index which, const char *path,
			   int why)
{
	const char *what = why == -ENODATA ? "empty index"
			   : why == -EBADMSG ? "corrupt index"
					     : strerror(-why);
	int r = index_from_text(ctx, which, &ctx->indexes[which]);

	if (r == 0) {
		WARN(ctx, "%s: %s, reading %s instead", path, what, index_text_file(which));
		ctx->index_state[which] = INDEX_TEXT;
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	ERR(ctx, "%s: %s, ignored", path, what);
	ctx->index_state[which] = INDEX_ABSENT;
	return why == -ENODATA ? -EBADMSG : why;
}

static int index_bin_path(struct kmodx_ctx *ctx, enum kmodx_index which, char *path)
{
	int n = snprintf(path, PATH_MAX, "%s/%s.bin", ctx->module_dir, index_names[which]);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The text file instead of a missing .bin one (or of an empty builtin one). */
static int index_open_text(struct kmodx_ctx *ctx, enum kmodx_index which)
{
	int r = index_from_text(ctx, which, &ctx->indexes[which]);

	if (r == 0)
		ctx->index_state[which] = INDEX_TEXT;
	return r;
}

/*
 * Open the index, or its text file. 0 when there is one to search; otherwise why not:
 * -ENOENT (missing), -EBADMSG (damaged, no text file; logged), another errno, or
 * -ENOMEM (then nothing is remembered). The .bin file's time is noted first, for
 * kmodx_ctx_validate_resources(): a rewrite in between shows as a change later.
 */
static int ctx_open_index(struct kmodx_ctx *ctx, enum kmodx_index which)
{
	char path[PATH_MAX];
	int r = ctx_prepare(ctx);

	ctx->index_state[which] = INDEX_ABSENT;
	if (r == 0)
		r = index_bin_path(ctx, which, path);
	if (r < 0)
		return r;
	ctx->index_stamp[which] = file_stamp(path);
	r = index_open(path, &ctx->indexes[which]);
	if (r == 0) {
		ctx->index_state[which] = INDEX_OPEN;
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r == -ENOENT) {
		DBG(ctx, "%s not found, reading the text index instead", path);
		return index_open_text(ctx, which);
	}
	/* kmod's depmod leaves an empty modules.builtin*.bin when the kernel's list was
	 * missing: nothing is built in then; the others are never empty */
	if (r == -ENODATA && (which == KMODX_INDEX_BUILTIN || which == KMODX_INDEX_BUILTIN_ALIAS)) {
		DBG(ctx, "%s is empty", path);
		return index_open_text(ctx, which);
	}
	return index_fall_back(ctx, which, path, r);
}

int ctx_get_index(struct kmodx_ctx *ctx, enum kmodx_index which, struct index **idx)
{
	int r;

	if (ctx->index_state[which] == INDEX_UNTRIED) {
		/* a lack of memory must not pass for a missing index, now or later */
		r = ctx_open_index(ctx, which);
		if (r == -ENOMEM) {
			ctx->index_state[which] = INDEX_UNTRIED;
			return r;
		}
	}
	*idx = ctx->indexes[which];
	return 0;
}

/* A search found the .bin index damaged: replace it. 0, or -ENOMEM (the index is then
 * tried again next time). */
static int index_damaged(struct kmodx_ctx *ctx, enum kmodx_index which)
{
	char path[PATH_MAX];
	int r;

	index_close(ctx->indexes[which]);
	ctx->indexes[which] = NULL;
	if (ctx->index_state[which] != INDEX_OPEN || index_bin_path(ctx, which, path) < 0) {
		ctx->index_state[which] = INDEX_ABSENT; /* a text index is never damaged */
		return 0;
	}
	r = index_fall_back(ctx, which, path, -EBADMSG);
	if (r == -ENOMEM) {
		ctx->index_state[which] = INDEX_UNTRIED;
		return r;
	}
	return 0;
}

/*
 * Run op on the index. When it finds the .bin file damaged (-EBADMSG), the file is
 * replaced by its text twin and op runs once more. -ENOENT if there is no index.
 */
static int with_index(struct kmodx_ctx *ctx, enum kmodx_index which,
		      int (*op)(const struct index *idx, void *data), void *data)
{
	for (int tries = 0; tries < 2; tries++) {
		struct index *idx;
		int r = ctx_get_index(ctx, which, &idx);

		if (r < 0)
			return r;
		if (idx == NULL)
			return -ENOENT;
		r = op(idx, data);
		if (r != -EBADMSG)
			return r;
		r = index_damaged(ctx, which);
		if (r < 0)
			return r;
	}
	return -ENOENT;
}

struct search {
	const char *key;
	const char **value;
	struct index_values *out;
	size_t n; /* entries in out before the search */
};

static int search_op(const struct index *idx, void *data)
{
	struct search *s = data;

	return index_search(idx, s->key, s->value);
}

static int search_wild_op(const struct index *idx, void *data)
{
	struct search *s = data;

	s->out->n = s->n; /* without what a damaged file gave before failing */
	return index_search_wild(idx, s->key, s->out);
}

int ctx_index_search(struct kmodx_ctx *ctx, enum kmodx_index which, const char *key,
		     const char **value)
{
	struct search s = {.key = key, .value = value};

	return with_index(ctx, which, search_op, &s);
}

int ctx_index_search_wild(struct kmodx_ctx *ctx, enum kmodx_index which, const char *key,
			  struct index_values *out)
{
	struct search s = {.key = key, .out = out, .n = out->n};
	int r = with_index(ctx, which, search_wild_op, &s);

	return r == -ENOENT ? 0 : r;
}

static int count_entry(void *data, const char *key, const char *value, uint32_t priority)
{
	(void)data, (void)key, (void)value, (void)priority;
	return 0;
}

static int walk_op(const struct index *idx, void *data)
{
	return index_foreach(idx, count_entry, data);
}

/* The index, walked once whole first, so that a dump never stops half way through damage. */
static int ctx_index_whole(struct kmodx_ctx *ctx, enum kmodx_index which, struct index **idx)
{
	int r = with_index(ctx, which, walk_op, NULL);

	*idx = NULL;
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return ctx_get_index(ctx, which, idx);
}

_public_ int kmodx_index_dump(struct kmodx_ctx *ctx, enum kmodx_index which, int fd)
{
	struct index *idx;
	const char *prefix;
	int r;

	if (ctx == NULL || (unsigned)which >= ARRAY_SIZE(index_names))
		return -EINVAL;
	r = ctx_index_whole(ctx, which, &idx);
	if (r < 0)
		return r;
	if (idx == NULL)
		return -ENOENT;
	prefix = which == KMODX_INDEX_ALIAS || which == KMODX_INDEX_SYMBOL ? "alias " : "";
	return index_dump(idx, fd, prefix);
}

static int add_index_entry(void *data, const char *key, const char *value, uint32_t prio)
{
	return kvlist_add(data, key, strlen(key), value, strlen(value), prio);
}

_public_ int kmodx_index_get(struct kmodx_ctx *ctx, enum kmodx_index which,
			     struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	struct index *idx;
	int r;

	if (ctx == NULL || out == NULL || (unsigned)which >= ARRAY_SIZE(index_names))
		return -EINVAL;
	r = ctx_index_whole(ctx, which, &idx);
	if (r < 0)
		return r;
	if (idx == NULL)
		return -ENOENT;
	r = kvlist_new(&list);
	if (r == 0)
		r = index_foreach(idx, add_index_entry, list);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

/* ---- resources: loading ahead, and noticing when depmod rewrote them ---- */

_public_ int kmodx_ctx_load_config(struct kmodx_ctx *ctx)
{
	int r = 0;

	return ctx_get_config(ctx, &r) ? 0 : r;
}

_public_ int kmodx_ctx_load_resources(struct kmodx_ctx *ctx)
{
	int r = kmodx_ctx_load_config(ctx), first = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(index_names); i++) {
		if (ctx->index_state[i] != INDEX_UNTRIED)
			continue;
		r = ctx_open_index(ctx, (enum kmodx_index)i);
		if (r == -ENOMEM) {
			ctx->index_state[i] = INDEX_UNTRIED;
			break;
		}
		/* the builtin indexes are younger than the others and may be missing */
		if (first == 0 && i != KMODX_INDEX_BUILTIN && i != KMODX_INDEX_BUILTIN_ALIAS)
			first = r;
		r = 0;
	}
	return r < 0 ? r : first;
}

_public_ void kmodx_ctx_unload_resources(struct kmodx_ctx *ctx)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctx->indexes); i++) {
		index_close(ctx->indexes[i]);
		ctx->indexes[i] = NULL;
		ctx->index_state[i] = INDEX_UNTRIED;
	}
}

_public_ int kmodx_ctx_validate_resources(struct kmodx_ctx *ctx)
{
	char path[PATH_MAX];

	if (ctx->config && !config_stamps_valid(ctx->config))
		return KMODX_RESOURCES_MUST_RECREATE;
	for (size_t i = 0; i < ARRAY_SIZE(index_names); i++) {
		if (ctx->index_state[i] == INDEX_UNTRIED ||
		    index_bin_path(ctx, (enum kmodx_index)i, path) < 0)
			continue;
		if (file_stamp(path) != ctx->index_stamp[i])
			return KMODX_RESOURCES_MUST_RELOAD;
	}
	return KMODX_RESOURCES_OK;
}

int ctx_get_kernel_compression(struct kmodx_ctx *ctx)
{
	char path[PATH_MAX], buf[32];

	if (ctx->kernel_compression >= 0)
		return ctx->kernel_compression;
	ctx->kernel_compression = COMPRESSION_NONE;
	if (ctx_path(ctx, "/sys/module/compression", path) == 0 &&
	    read_attr(path, buf, sizeof(buf)) == 0)
		ctx->kernel_compression = compression_from_name(buf);
	return ctx->kernel_compression;
}

/* ---- module pool ---- */

void ctx_pool_add(struct kmodx_ctx *ctx, struct kmodx_module *mod)
{
	/* a failed insertion only costs sharing, never correctness */
	hash_set(&ctx->modules, mod->pool_key, mod);
}

void ctx_pool_del(struct kmodx_ctx *ctx, struct kmodx_module *mod)
{
	struct hash_entry *e = hash_find_entry(&ctx->modules, mod->pool_key);

	if (e && e->value == mod)
		hash_remove_entry(&ctx->modules, e);
}

struct kmodx_module *ctx_pool_find(struct kmodx_ctx *ctx, const char *key)
{
	return hash_find(&ctx->modules, key);
}

void ctx_pool_reset_scratch(struct kmodx_ctx *ctx)
{
	for (size_t i = 0; i < ctx->modules.n_slots; i++) {
		struct kmodx_module *mod = ctx->modules.slots[i].value;

		if (ctx->modules.slots[i].key && mod)
			mod->visited = mod->ignore_cmd = mod->required = false;
	}
}
