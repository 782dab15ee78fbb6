// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * modules-load.d(5), loaded in parallel: what systemd-modules-load does, for systems
 * without systemd.
 *
 *   Names: modules_load=a,b on the kernel command line (and rd.modules_load=, in an
 *   initramfs: when <root>/etc/initrd-release exists), then the *.conf files of
 *   /etc, /run, /usr/local/lib, /usr/lib and /lib/modules-load.d sorted together by
 *   name, an earlier directory hiding the same name later (a link to /dev/null is an
 *   empty file: it masks), and Debian's /etc/modules read as if it were
 *   /etc/modules-load.d/modules.conf (Debian links that name to it). One name per
 *   line; blanks around it and lines starting with '#' or ';' are ignored. In
 *   /etc/modules a name may be followed by module options, as Debian's init script
 *   allows.
 *
 *   Loading: each name is resolved and each module loaded as modprobe loads it, the
 *   blacklist applying to the name itself as systemd applies it. Modules load on up to
 *   `jobs` threads, each with its own context. Before a load starts, the set of modules
 *   it may load (the module, its modules.dep dependencies and its soft dependencies
 *   with theirs) must not meet the set of a load still running: two threads never
 *   load the same module, and a shared dependency is loaded once, by whichever load
 *   comes first in file order; the later one finds it loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "conffile.h"
#include "libkmodx-private.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#define MODULES_LOAD_FILE_MAX ((size_t)4 << 20)
/* longer than any module name or alias; a longer line is reported and skipped */
#define MODULES_LOAD_LINE_MAX 1024

static const char *const default_dirs[] = {
	"/etc/modules-load.d",	   "/run/modules-load.d", "/usr/local/lib/modules-load.d",
	"/usr/lib/modules-load.d", "/lib/modules-load.d",
};

/* One name to load, and one job per module it resolves to. */
struct ml_job {
	char *name;    /* as listed */
	char *origin;  /* "FILE:LINE" or "kernel command line" */
	char *options; /* /etc/modules' extra words, or NULL */
	char *module;  /* the module it resolved to, NULL: nothing */
	char **set;    /* the modules the load may touch, NULL-terminated */
	enum { JOB_PENDING, JOB_RUNNING, JOB_DONE } state;
};

struct ml_state {
	struct kmodx_ctx *ctx;
	const struct kmodx_modules_load_opts *opts;
	struct ptrarray jobs; /* struct ml_job */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int err; /* the first error that is not a module's (no memory, a thread) */
};

static void job_free(void *p)
{
	struct ml_job *j = p;

	if (j == NULL)
		return;
	free(j->name);
	free(j->origin);
	free(j->options);
	free(j->module);
	for (char **s = j->set; s && *s; s++)
		free(*s);
	free(j->set);
	free(j);
}

static struct ml_job *job_new(const char *name, const char *options, const char *origin);

static int add_job(struct ml_state *st, const char *name, const char *options,
		   const char *origin)
{
	struct ml_job *j = job_new(name, options, origin);

	if (j == NULL || ptrarray_push(&st->jobs, j) < 0) {
		if (j)
			job_free(j);
		return -ENOMEM;
	}
	return 0;
}

/* ---- reading the names ---- */

/* A name is one word of printable ASCII. */
static bool name_valid(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

static int parse_line(struct ml_state *st, const char *file, unsigned linenum, char *line,
		      bool with_options)
{
	char *name = line, origin[PATH_MAX + 16], shown[128];
	char *rest = NULL;

	if (with_options) {
		name = conf_next_word(&line);
		rest = *line ? line : NULL;
	}
	if (!name_valid(name)) {
		conf_printable(shown, sizeof(shown), name);
		/* not a name, so no UTF-8 either */
		for (char *c = shown; *c; c++)
			*c = (unsigned char)*c >= 0x80 ? '?' : *c;
		WARN(st->ctx, "%s:%u: ignoring invalid module name '%s'", file, linenum,
		     shown);
		return 0;
	}
	snprintf(origin, sizeof(origin), "%s:%u", file, linenum);
	return add_job(st, name, rest, origin);
}

static int parse_text(struct ml_state *st, const char *file, const char *text, size_t len,
		      bool with_options)
{
	struct conf_reader rd;
	unsigned linenum;
	char *line;
	int r;

	conf_reader_init(&rd, text, len, MODULES_LOAD_LINE_MAX, "#;", CONF_STRIP);
	while ((r = conf_reader_next(&rd, &line, &linenum)) > 0) {
		if (rd.cut)
			WARN(st->ctx, "%s:%u: line too long, ignored", file, linenum);
		else
			r = parse_line(st, file, linenum, line, with_options);
		if (r < 0)
			break;
	}
	conf_reader_release(&rd);
	return r;
}

/* 0, -ENOMEM, or 1 when the file could not be read (logged). A file found in a
 * directory may be gone meanwhile; one the caller named may not. */
static int read_names(struct ml_state *st, const char *path, bool with_options,
		      bool missing_ok)
{
	_cleanup_(freep) char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, path, MODULES_LOAD_FILE_MAX, &text, &len);

	if (r == -ENOENT && missing_ok)
		return 0; /* a dangling link, or gone meanwhile */
	if (r < 0 && r != -ENOMEM) {
		ERR(st->ctx, "Failed to open %s: %s", path,
		    r == -EFBIG ? "File too large" : strerror(-r));
		return 1;
	}
	DBG(st->ctx, "apply: %s", path);
	return r < 0 ? r : parse_text(st, path, text, len, with_options);
}

struct cmdline_names {
	struct ml_state *st;
	bool initrd;
};

static int cmdline_word(void *data, char *word)
{
	struct cmdline_names *cn = data;
	char *list, *item;
	size_t len;
	int r = 0;

	if (strstartswith(word, "modules_load="))
		list = word + strlen("modules_load=");
	else if (cn->initrd && strstartswith(word, "rd.modules_load="))
		list = word + strlen("rd.modules_load=");
	else
		return 0;
	len = strlen(list);
	if (len >= 2 && list[0] == '"' && list[len - 1] == '"') {
		list[len - 1] = '\0';
		list++;
	}
	while (r == 0 && (item = strsep(&list, ",")) != NULL) {
		if (*item && name_valid(item))
			r = add_job(cn->st, item, NULL, "kernel command line");
	}
	return r;
}

static int read_cmdline(struct ml_state *st)
{
	char path[PATH_MAX], buf[CMDLINE_MAX + 1];
	struct cmdline_names cn = {st, false};
	int r = ctx_path(st->ctx, "/etc/initrd-release", path);

	if (r == 0)
		cn.initrd = access(path, F_OK) == 0;
	if (r == 0)
		r = ctx_path(st->ctx, "/proc/cmdline", path);
	if (r == 0)
		r = read_attr(path, buf, sizeof(buf));
	if (r < 0) {
		DBG(st->ctx, "could not read %s: %s", path, strerror(-r));
		return 0;
	}
	return cmdline_foreach_word(buf, cmdline_word, &cn);
}

/* The default sources. 0, -ENOMEM, or 1 if a file could not be read. */
static int read_default(struct ml_state *st)
{
	struct ptrarray files = PTRARRAY_INIT;
	char buf[PATH_MAX], etc_modules[PATH_MAX];
	int r = read_cmdline(st), failed = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(default_dirs); i++) {
		r = ctx_path(st->ctx, default_dirs[i], buf);
		if (r == 0)
			r = conf_files_add_dir(st->ctx, &files, buf, ".conf");
	}
	if (r == 0)
		r = ctx_path(st->ctx, "/etc/modules", etc_modules);
	if (r == 0 && access(etc_modules, F_OK) == 0)
		r = conf_files_add_as(&files, etc_modules, "modules.conf");
	conf_files_sort(&files);
	for (size_t i = 0; r >= 0 && i < files.n; i++) {
		const struct conf_file *f = files.v[i];

		r = read_names(st, f->path, streq(f->path, etc_modules), true);
		failed |= r == 1;
	}
	conf_files_release(&files);
	return r < 0 ? r : failed;
}

/* ---- resolving ---- */

static int set_add(struct ptrarray *set, const char *name)
{
	char *dup;

	for (size_t i = 0; i < set->n; i++) {
		if (streq(set->v[i], name))
			return 0;
	}
	dup = strdup(name);
	if (dup == NULL || ptrarray_push(set, dup) < 0) {
		free(dup);
		return -ENOMEM;
	}
	return 0;
}

/* mod and its modules.dep dependencies */
static int set_add_deps(struct ptrarray *set, struct kmodx_module *mod)
{
	struct kmodx_list *deps = NULL;
	int r = set_add(set, mod->name);

	if (r == 0)
		r = kmodx_module_get_dependencies(mod, &deps);
	for (size_t i = 0; r == 0 && i < kmodx_list_count(deps); i++)
		r = set_add(set, kmodx_list_get(deps, i)->name);
	kmodx_list_free(deps);
	return r;
}

/* Every module a load of mod may load: it, its dependencies, their soft dependencies
 * and theirs. A soft dependency's soft dependencies are not followed: the sets only
 * keep loads apart, and kmod's probe does not follow them either. */
static int touch_set(struct kmodx_module *mod, char ***out)
{
	struct ptrarray set = PTRARRAY_INIT;
	int r = set_add_deps(&set, mod);

	for (size_t i = 0; r == 0 && i < set.n; i++) {
		struct kmodx_module *m = NULL;
		struct kmodx_list *pre = NULL, *post = NULL;

		if (kmodx_module_new_from_name(mod->ctx, set.v[i], &m) < 0)
			continue;
		if (kmodx_module_get_softdeps(m, &pre, &post) == 0) {
			for (size_t k = 0; r == 0 && k < kmodx_list_count(pre); k++)
				r = set_add_deps(&set, kmodx_list_get(pre, k));
			for (size_t k = 0; r == 0 && k < kmodx_list_count(post); k++)
				r = set_add_deps(&set, kmodx_list_get(post, k));
		}
		kmodx_list_free(pre);
		kmodx_list_free(post);
		kmodx_module_unref(m);
	}
	if (r == 0)
		r = ptrarray_push(&set, NULL);
	if (r < 0) {
		ptrarray_release_with(&set, free);
		return r;
	}
	*out = (char **)set.v;
	return 0;
}

static struct ml_job *job_new(const char *name, const char *options, const char *origin)
{
	struct ml_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->name = strdup(name);
	j->origin = strdup(origin);
	j->options = options ? strdup(options) : NULL;
	if (j->name == NULL || j->origin == NULL || (options && j->options == NULL)) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* The jobs of one name, one per module it resolves to, onto out. */
static int resolve_one(struct ml_state *st, struct ml_job *j, struct ptrarray *out)
{
	struct kmodx_list *list = NULL;
	int r = kmodx_module_new_from_lookup(st->ctx, j->name, &list);

	if (r == -EINVAL)
		r = 0; /* not a name: reported as not found */
	if (r == 0 && kmodx_list_count(list) == 0)
		r = ptrarray_push(out, j);
	for (size_t k = 0; r == 0 && k < kmodx_list_count(list); k++) {
		struct kmodx_module *m = kmodx_list_get(list, k);
		struct ml_job *one = k ? job_new(j->name, j->options, j->origin) : j;

		if (one == NULL) {
			r = -ENOMEM;
			break;
		}
		one->module = strdup(m->name);
		r = one->module ? touch_set(m, &one->set) : -ENOMEM;
		if (r == 0)
			r = ptrarray_push(out, one);
		if (r < 0 && one != j)
			job_free(one);
	}
	kmodx_list_free(list);
	return r;
}

/* Replace each name's job by one job per module it resolves to (a name that resolves
 * to nothing keeps its job, without a module), each with its set. */
static int resolve(struct ml_state *st)
{
	struct ptrarray out = PTRARRAY_INIT;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < st->jobs.n; i++) {
		r = resolve_one(st, st->jobs.v[i], &out);
		if (r == 0)
			st->jobs.v[i] = NULL; /* now out's */
	}
	/* on failure, st keeps the jobs out does not have */
	for (size_t k = 0; r < 0 && k < out.n; k++) {
		bool owned = false;

		for (size_t m = 0; m < st->jobs.n; m++)
			owned |= st->jobs.v[m] == out.v[k];
		if (!owned)
			job_free(out.v[k]);
	}
	if (r < 0) {
		ptrarray_release(&out);
		return r;
	}
	ptrarray_release(&st->jobs);
	st->jobs = out;
	return 0;
}

/* ---- loading ---- */

static bool sets_meet(char *const *a, char *const *b)
{
	for (; a && *a; a++) {
		for (char *const *p = b; p && *p; p++) {
			if (streq(*a, *p))
				return true;
		}
	}
	return false;
}

/* The first pending job whose set meets no running job's, NULL if none can start now;
 * *left: whether any job is still pending or running. Under the lock. */
static struct ml_job *next_job(struct ml_state *st, bool *left)
{
	*left = false;
	for (size_t i = 0; i < st->jobs.n; i++) {
		struct ml_job *j = st->jobs.v[i];
		bool clear = true;

		if (j->state == JOB_DONE)
			continue;
		*left = true;
		if (j->state == JOB_RUNNING)
			continue;
		for (size_t k = 0; clear && k < st->jobs.n; k++) {
			const struct ml_job *o = st->jobs.v[k];

			clear = o->state != JOB_RUNNING || !sets_meet(j->set, o->set);
		}
		if (clear)
			return j;
	}
	return NULL;
}

/* The module of the job in this thread's context, found as the name finds it (through
 * its alias, for the options by alias). */
static int job_module(struct kmodx_ctx *ctx, const struct ml_job *j,
		      struct kmodx_module **out)
{
	struct kmodx_list *list = NULL;
	int r = kmodx_module_new_from_lookup(ctx, j->name, &list);

	for (size_t i = 0; r == 0 && i < kmodx_list_count(list); i++) {
		if (streq(kmodx_list_get(list, i)->name, j->module)) {
			*out = kmodx_module_ref(kmodx_list_get(list, i));
			kmodx_list_free(list);
			return 0;
		}
	}
	kmodx_list_free(list);
	return r < 0 ? r : -ENOENT;
}

static void run_job(struct ml_state *st, struct kmodx_ctx *ctx, struct ml_job *j,
		    struct kmodx_modules_load_result *res)
{
	const struct kmodx_modules_load_opts *o = st->opts;
	struct kmodx_probe_opts po = {
		.flags = KMODX_PROBE_APPLY_BLACKLIST,
		.extra_options = j->options,
		.show = o->show,
		.data = o->data,
		.failure = &res->failure,
	};
	int state, r;

	if (o->flags & KMODX_MODULES_LOAD_DRY_RUN)
		po.flags |= KMODX_PROBE_DRY_RUN;
	r = job_module(ctx, j, &res->module);
	if (r < 0) {
		res->status = KMODX_MODULES_LOAD_FAILED;
		res->error = r;
		return;
	}
	state = kmodx_module_get_initstate(res->module);
	if (state == KMODX_MODULE_BUILTIN ||
	    (state < 0 && kmodx_module_is_builtin(res->module))) {
		res->status = KMODX_MODULES_LOAD_BUILTIN;
		return;
	}
	if (state == KMODX_MODULE_LIVE) {
		res->status = KMODX_MODULES_LOAD_ALREADY;
		return;
	}
	r = kmodx_module_probe_insert(res->module, &po);
	res->error = r < 0 ? r : 0;
	res->status = r > 0    ? KMODX_MODULES_LOAD_BLACKLISTED
		      : r == 0 ? KMODX_MODULES_LOAD_INSERTED
			       : KMODX_MODULES_LOAD_FAILED;
	if (r == -EEXIST) {
		/* loaded meanwhile: what was wanted */
		res->status = KMODX_MODULES_LOAD_ALREADY;
		res->error = 0;
	}
}

static void report(struct ml_state *st, const struct ml_job *j,
		   struct kmodx_modules_load_result *res)
{
	res->name = j->name;
	res->origin = j->origin;
	if (j->module == NULL) {
		res->status = KMODX_MODULES_LOAD_NOT_FOUND;
		res->error = -ENOENT;
	}
	if (st->opts->report)
		st->opts->report(st->opts->data, res);
}

struct worker {
	struct ml_state *st;
	struct kmodx_ctx *ctx;
	pthread_t thread;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ml_state *st = w->st;
	bool left = true;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct kmodx_modules_load_result res = {0};
		struct ml_job *j = next_job(st, &left);

		if (j == NULL) {
			if (!left)
				break;
			pthread_cond_wait(&st->changed, &st->lock);
			continue;
		}
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&st->lock);
		if (j->module)
			run_job(st, w->ctx, j, &res);
		pthread_mutex_lock(&st->lock);
		report(st, j, &res); /* one report at a time */
		kmodx_module_unref(res.module);
		kmodx_module_unref(res.failure.module);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&st->changed);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static unsigned worker_count(const struct kmodx_modules_load_opts *o, size_t jobs)
{
	size_t n = o->jobs ? o->jobs : cpus_online();

	if (o->flags & KMODX_MODULES_LOAD_DRY_RUN)
		n = 1; /* nothing changes: the actions come out in order */
	return (unsigned)MAX((size_t)1, MIN(n, MIN(jobs, (size_t)256)));
}

/* Run the jobs on n workers; the calling thread is the first. */
static int run_workers(struct ml_state *st, unsigned n)
{
	struct worker *w = calloc(n, sizeof(*w));
	unsigned started = 0;
	int r = 0;

	if (w == NULL)
		return -ENOMEM;
	for (unsigned i = 0; r == 0 && i < n; i++) {
		w[i].st = st;
		r = ctx_clone(st->ctx, &w[i].ctx);
		if (r == 0 && i > 0) {
			r = -pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
			if (r < 0)
				kmodx_ctx_unref(w[i].ctx);
		}
		if (r == 0)
			started++;
	}
	/* with fewer threads than asked, the work still gets done */
	if (started > 0) {
		r = 0;
		worker_main(&w[0]);
	}
	for (unsigned i = 1; i < started; i++)
		pthread_join(w[i].thread, NULL);
	for (unsigned i = 0; i < started; i++)
		kmodx_ctx_unref(w[i].ctx);
	free(w);
	return r;
}

_public_ int kmodx_modules_load(struct kmodx_ctx *ctx,
				const struct kmodx_modules_load_opts *o)
{
	struct ml_state st = {.ctx = ctx, .opts = o, .jobs = PTRARRAY_INIT};
	int r = 0, unread = 0;

	if (ctx == NULL || o == NULL)
		return -EINVAL;
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.changed, NULL);
	if (o->files == NULL) {
		r = read_default(&st);
	} else {
		for (size_t i = 0; r >= 0 && o->files[i]; i++) {
			r = read_names(&st, o->files[i], false, false);
			unread |= r == 1;
		}
	}
	unread |= r == 1;
	if (r >= 0)
		r = resolve(&st);
	if (r >= 0)
		r = run_workers(&st, worker_count(o, st.jobs.n));
	ptrarray_release_with(&st.jobs, job_free);
	pthread_cond_destroy(&st.changed);
	pthread_mutex_destroy(&st.lock);
	if (r < 0)
		return r;
	return unread ? -EIO : 0;
}
