// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Finding the module files of a tree. A run that finds the cache valid spends most of
 * its time here: a thousand directories to read and, for the cache, every module file
 * to stat(). That is system calls, independent per directory, so a pool of threads reads
 * the directories (each thread one directory at a time, pushing the subdirectories it
 * finds for any thread to take) and keeps what it found in per-directory listings.
 * Then one thread walks the listings depth first in the order the directories gave
 * their entries, which is the order a plain recursive walk meets them: modules are
 * added and errors logged exactly as a single-threaded scan would, duplicates included
 * (which of two modules of the same name wins can depend on that order).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depmod-private.h"
#include "util/path.h"
#include "util/strbuf.h"

#define SCAN_DEPTH_MAX 64
#define DIRENT_BUF     (32 * 1024)
#define SCAN_THREADS   4
#define NONE	       UINT32_MAX

/* An entry of a directory that matters: a module file, a directory, or an error. */
struct sentry {
	const char *name;
	uint32_t dir; /* a directory: its listing, NONE if it was not opened */
	int err;      /* the fstatat() or openat() that failed, or 0 */
	bool module;
	bool have_key;
	struct dm_filekey key;
};

struct listing {
	struct sentry *v;
	size_t n, cap;
	int open_err;  /* opening the directory failed (logged) */
	int read_err;  /* reading it failed half way (what was read counts) */
	bool too_deep; /* not read: nested deeper than SCAN_DEPTH_MAX */
};

struct job {
	uint32_t listing;
	int depth;
	char *path;
};

struct scan {
	struct depmod *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct listing **listings; /* by index; grows under the lock */
	size_t n_listings, cap_listings;
	struct job *jobs; /* a stack of directories to read */
	size_t n_jobs, cap_jobs;
	size_t pending; /* jobs pushed and not finished */
	int err;	/* -ENOMEM: everything stops */
};

struct scanner {
	struct scan *s;
	struct arena arena; /* names and paths, this thread's */
	char *buf;
};

/* ---- the parallel part ---- */

static bool excluded(const struct depmod *d, const char *name)
{
	if (streq(name, ".") || streq(name, "..") || streq(name, "build") ||
	    streq(name, "source"))
		return true;
	for (size_t i = 0; i < d->cfg.excludes.n; i++) {
		if (streq(d->cfg.excludes.v[i], name))
			return true;
	}
	return false;
}

bool dm_excluded(const struct depmod *d, const char *name)
{
	return excluded(d, name);
}

/* A new listing and a job to fill it, under the lock: 0 or -ENOMEM. */
static int push_job(struct scan *s, char *path, int depth, uint32_t *id)
{
	struct listing *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	if (s->n_listings == s->cap_listings || s->n_jobs == s->cap_jobs) {
		size_t cl = s->cap_listings ? 2 * s->cap_listings : 256;
		size_t cj = s->cap_jobs ? 2 * s->cap_jobs : 256;
		void *vl = realloc(s->listings, cl * sizeof(*s->listings));
		void *vj = vl ? realloc(s->jobs, cj * sizeof(*s->jobs)) : NULL;

		if (vl)
			s->listings = vl, s->cap_listings = cl;
		if (vj)
			s->jobs = vj, s->cap_jobs = cj;
		if (vl == NULL || vj == NULL) {
			free(l);
			return -ENOMEM;
		}
	}
	*id = (uint32_t)s->n_listings;
	s->listings[s->n_listings++] = l;
	s->jobs[s->n_jobs++] = (struct job){*id, depth, path};
	s->pending++;
	pthread_cond_signal(&s->cond);
	return 0;
}

static struct sentry *add_entry(struct scanner *w, struct listing *l, const char *name)
{
	struct sentry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct sentry *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->dir = NONE;
	e->name = arena_strdup(&w->arena, name);
	if (e->name == NULL)
		return NULL;
	l->n++;
	return e;
}

/* A subdirectory to read, unless its path is too long (the walk says so later). */
static int queue_dir(struct scanner *w, const struct job *job, struct sentry *e)
{
	size_t plen = strlen(job->path), nlen = strlen(e->name);
	char *path;
	int r;

	if (plen + 1 + nlen >= PATH_MAX)
		return 0;
	path = arena_alloc(&w->arena, plen + nlen + 2);
	if (path == NULL)
		return -ENOMEM;
	memcpy(path, job->path, plen);
	path[plen] = '/';
	memcpy(path + plen + 1, e->name, nlen + 1);
	pthread_mutex_lock(&w->s->lock);
	r = push_job(w->s, path, job->depth + 1, &e->dir);
	pthread_mutex_unlock(&w->s->lock);
	return r;
}

/* One entry of the directory being read: 0 or -ENOMEM. */
static int scan_entry(struct scanner *w, const struct job *job, struct listing *l,
		      int dfd, const char *name, unsigned char type)
{
	struct depmod *d = w->s->d;
	bool is_dir = type == DT_DIR, is_reg = type == DT_REG;
	bool module = path_has_module_ext(name);
	struct sentry *e;
	struct stat st;

	if (excluded(d, name) || (is_reg && !module))
		return 0;
	e = add_entry(w, l, name);
	if (e == NULL)
		return -ENOMEM;
	/* the cache needs the identity of every module file */
	if ((!is_dir && !is_reg) || (is_reg && d->use_cache)) {
		if (fstatat(dfd, name, &st, 0) < 0) {
			e->err = errno;
			return 0;
		}
		is_dir = S_ISDIR(st.st_mode);
		is_reg = S_ISREG(st.st_mode);
	}
	if (is_reg && module) {
		e->module = true;
		e->have_key = d->use_cache;
		if (e->have_key)
			dm_filekey_from_stat(&e->key, &st);
		return 0;
	}
	if (!is_dir) {
		l->n--; /* nothing to remember */
		return 0;
	}
	return queue_dir(w, job, e);
}

static int read_dir(struct scanner *w, const struct job *job, struct listing *l)
{
	size_t name_at = offsetof(struct dirent64, d_name);
	int dfd, r = 0;
	ssize_t n;

	dfd = open(job->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		l->open_err = errno;
		return 0;
	}
	if (job->depth > SCAN_DEPTH_MAX) {
		l->too_deep = true;
		close(dfd);
		return 0;
	}
	while (r == 0 && (n = getdents64(dfd, w->buf, DIRENT_BUF)) > 0) {
		for (size_t off = 0; off + name_at < (size_t)n && r == 0;) {
			const struct dirent64 *de =
				(const struct dirent64 *)(w->buf + off);

			if (de->d_reclen <= name_at || de->d_reclen > (size_t)n - off)
				break;
			off += de->d_reclen;
			r = scan_entry(w, job, l, dfd, de->d_name, de->d_type);
		}
	}
	if (r == 0 && n < 0)
		l->read_err = errno;
	close(dfd);
	return r;
}

static void *scan_work(void *data)
{
	struct scanner *w = data;
	struct scan *s = w->s;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct listing *l;
		struct job job;
		int r;

		while (s->n_jobs == 0 && s->pending > 0 && s->err == 0)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->n_jobs == 0 || s->err)
			break;
		job = s->jobs[--s->n_jobs];
		/* under the lock: another thread's push_job() may move the array */
		l = s->listings[job.listing];
		pthread_mutex_unlock(&s->lock);
		r = read_dir(w, &job, l);
		pthread_mutex_lock(&s->lock);
		if (r < 0)
			s->err = r;
		if (--s->pending == 0 || r < 0)
			pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static unsigned scan_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus > 1 ? (unsigned)MIN(cpus, SCAN_THREADS) : 1;
}

/* Read every directory under root into s->listings (listing 0 is root's). */
static int read_tree(struct scan *s, const char *root, struct scanner *w, unsigned n)
{
	pthread_t threads[SCAN_THREADS];
	unsigned started = 0;
	uint32_t id;
	int r = push_job(s, (char *)root, 0, &id);

	for (unsigned t = 0; t < n; t++) {
		w[t].s = s;
		w[t].buf = r == 0 ? malloc(DIRENT_BUF) : NULL;
		if (w[t].buf == NULL)
			r = -ENOMEM;
	}
	for (unsigned t = 1; r == 0 && t < n; t++) {
		if (pthread_create(&threads[t], NULL, scan_work, &w[t]) != 0)
			break;
		started++;
	}
	if (r == 0)
		scan_work(&w[0]);
	for (unsigned t = 1; t <= started; t++)
		pthread_join(threads[t], NULL);
	return r < 0 ? r : s->err;
}

/* ---- the ordered walk ---- */

static int walk(struct depmod *d, struct scan *s, const struct listing *l,
		struct strbuf *path, bool inside)
{
	size_t len = path->len;
	int r = 0;

	if (l->too_deep) {
		ERR(d->ctx, "%s: directories nested too deep (symlink loop?)",
		    strbuf_str(path));
		return 0;
	}
	for (size_t i = 0; i < l->n && r == 0; i++) {
		const struct sentry *e = &l->v[i];

		path->len = len;
		r = strbuf_putc(path, '/');
		if (r == 0)
			r = strbuf_puts(path, e->name);
		if (r == -ENOMEM)
			break; /* not a reason to leave the entry out silently */
		if (r < 0 || path->len >= PATH_MAX) {
			ERR(d->ctx, "path is too long %s", strbuf_str(path));
			r = 0;
		} else if (e->err) {
			ERR(d->ctx, "%s: %s", strbuf_str(path), strerror(e->err));
		} else if (e->module) {
			r = dm_add_module_file(d, strbuf_str(path), inside,
					       e->have_key ? &e->key : NULL);
		} else if (e->dir != NONE) {
			const struct listing *sub = s->listings[e->dir];

			if (sub->open_err)
				ERR(d->ctx, "%s: %s", strbuf_str(path),
				    strerror(sub->open_err));
			else
				r = walk(d, s, sub, path, inside);
		}
	}
	path->len = len;
	return r;
}

static void scan_release(struct scan *s, struct scanner *w, unsigned n)
{
	for (size_t i = 0; i < s->n_listings; i++) {
		free(s->listings[i]->v);
		free(s->listings[i]);
	}
	free(s->listings);
	free(s->jobs);
	for (unsigned t = 0; t < n; t++) {
		free(w[t].buf);
		arena_release(&w[t].arena);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

int dm_scan_root(struct depmod *d, const char *root, bool inside)
{
	struct scan s = {.d = d};
	struct scanner w[SCAN_THREADS];
	struct strbuf path = {.max = PATH_MAX * 2};
	unsigned n = scan_threads();
	int r = strbuf_puts(&path, root);

	memset(w, 0, sizeof(w));
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	while (r == 0 && path.len > 1 && path.buf[path.len - 1] == '/')
		path.len--;
	if (r == 0)
		r = read_tree(&s, strbuf_str(&path), w, n);
	if (r == 0 && s.listings[0]->open_err)
		r = -s.listings[0]->open_err;
	if (r == 0)
		r = walk(d, &s, s.listings[0], &path, inside);
	/* a tree whose top could not be read to the end is an error; below, as in kmod,
	 * a directory that fails half way gives what was read */
	if (r == 0 && s.listings[0]->read_err)
		r = -s.listings[0]->read_err;
	scan_release(&s, w, n);
	strbuf_release(&path);
	return r;
}
