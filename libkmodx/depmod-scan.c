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
 *
 * With the cache, a directory whose identity (device, inode, times to the nanosecond)
 * is the one it had when the last run listed it lists the same names in the same order:
 * adding, removing or renaming an entry changes its times. Its listing is taken from the
 * cache and the directory is not read (read_cached()): its identity, and that of each
 * of its module files (the cache needs them too), come from stat() relative to the
 * directory holding it or to itself, opened O_PATH when it has subdirectories; those
 * are read by the same thread (depth first) unless another waits for work near the
 * top of the tree. A directory changed within two seconds before the run that listed
 * it is read again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
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
/* how deep a directory read at once may still go to a thread waiting for work: deeper,
 * the hand-off (a wake-up) costs more than the directory's work */
#define SHARE_DEPTH    3
#define NONE	       UINT32_MAX

/* An entry of a directory that matters: a module file, a directory, or an error. */
struct sentry {
	const char *name;
	uint32_t dir; /* a directory: its listing, NONE if it was not opened */
	int err;      /* the fstatat() or openat() that failed, or 0 */
	uint8_t kind; /* enum dm_entry: what the listing gave */
	bool module;
	bool subdir; /* a directory still to queue (queue_dir()) */
	bool have_key;
	struct dm_filekey key;
};

struct listing {
	const char *path;
	struct sentry *v;
	size_t n, cap;
	struct dm_filekey key; /* the directory's, before it was read */
	bool have_key;
	bool from_cache; /* its listing was */
	int open_err;  /* opening the directory failed (logged) */
	int read_err;  /* reading it failed half way (what was read counts) */
	bool too_deep; /* not read: nested deeper than SCAN_DEPTH_MAX */
};

struct job {
	uint32_t listing;
	int depth;
	char *path;
	/* the directory holding it, open (a copy the job owns unless it is read at once
	 * by the thread that met it), or -1 */
	int at;
	const char *name;
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
	unsigned idle;	/* threads waiting for a job */
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

/* A new listing (*id, *out) and, unless it is to be filled at once (now), a job to fill
 * it, under the lock: 0 or -ENOMEM. */
static int push_job(struct scan *s, char *path, int depth, bool now, int at,
		    const char *name, uint32_t *id, struct listing **out)
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
	*out = l;
	l->path = path;
	s->listings[s->n_listings++] = l;
	if (now)
		return 0;
	s->jobs[s->n_jobs++] = (struct job){*id, depth, path, at, name};
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

static int read_dir(struct scanner *w, const struct job *job, struct listing *l);

/*
 * A subdirectory to read, unless its path is too long (the walk says so later). When
 * the directory holding it is open (dfd, not -1), it is opened relative to that: one
 * name to look up rather than every directory of its path, which with a thousand
 * directories is a good part of a run that finds them unchanged. Then this thread reads
 * it at once unless it is near the top and another thread waits for work; that one gets
 * a copy of dfd.
 */
static int queue_dir(struct scanner *w, const struct job *job, struct sentry *e, int dfd)
{
	size_t plen = strlen(job->path), nlen = strlen(e->name);
	struct listing *l = NULL;
	bool now;
	char *path;
	int r, at;

	if (plen + 1 + nlen >= PATH_MAX)
		return 0;
	path = arena_alloc(&w->arena, plen + nlen + 2);
	if (path == NULL)
		return -ENOMEM;
	memcpy(path, job->path, plen);
	path[plen] = '/';
	memcpy(path + plen + 1, e->name, nlen + 1);
	pthread_mutex_lock(&w->s->lock);
	now = dfd >= 0 && (w->s->idle == 0 || job->depth + 1 > SHARE_DEPTH);
	at = dfd >= 0 && !now ? fcntl(dfd, F_DUPFD_CLOEXEC, 0) : -1;
	r = push_job(w->s, path, job->depth + 1, now, at, e->name, &e->dir, &l);
	pthread_mutex_unlock(&w->s->lock);
	if (r < 0 && at >= 0)
		close(at);
	if (r == 0 && now) {
		struct job sub = {e->dir, job->depth + 1, path, dfd, e->name};

		r = read_dir(w, &sub, l);
	}
	return r;
}

/* What scan_entry() does with a subdirectory: queued to be opened by its path, or
 * relative to dfd (and maybe read at once: queue_dir()), or only marked, for the
 * caller to queue relative to dfd when it no longer needs its buffer. */
enum subdir { SUB_BY_PATH, SUB_AT, SUB_LATER };

/* One entry of the directory being read, its file at at relative to dfd: 0 or -ENOMEM. */
static int scan_entry(struct scanner *w, const struct job *job, struct listing *l,
		      int dfd, const char *name, const char *at, unsigned char type,
		      enum subdir sub)
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
	e->kind = is_dir ? DM_ENTRY_DIR : is_reg ? DM_ENTRY_MODULE : DM_ENTRY_STAT;
	/* the cache needs the identity of every module file */
	if ((!is_dir && !is_reg) || (is_reg && d->use_cache)) {
		if (fstatat(dfd, at, &st, 0) < 0) {
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
	e->subdir = sub == SUB_LATER;
	return e->subdir ? 0 : queue_dir(w, job, e, sub == SUB_AT ? dfd : -1);
}

static int open_dir(const struct job *job, int flags)
{
	flags |= O_DIRECTORY | O_CLOEXEC;
	return job->at >= 0 ? openat(job->at, job->name, flags) : open(job->path, flags);
}

/* A name of a listing that the cache may give: one the directory could list. */
static bool entry_name_ok(const char *name, size_t dirlen)
{
	return name[0] != '\0' && strchr(name, '/') == NULL && !streq(name, ".") &&
	       !streq(name, "..") && dirlen + 1 + strlen(name) < PATH_MAX;
}

/* The identity of the directory of job: through the directory holding it, or by path
 * (opened O_PATH into *dfd). 0 or -1. */
static int dir_identity(const struct job *job, struct dm_filekey *key, int *dfd)
{
	struct stat st;
	int r;

	if (job->at >= 0) {
		r = fstatat(job->at, job->name, &st, 0);
	} else {
		*dfd = open_dir(job, O_PATH);
		r = *dfd >= 0 ? fstat(*dfd, &st) : -1;
	}
	if (r < 0 || !S_ISDIR(st.st_mode))
		return -1;
	dm_filekey_from_stat(key, &st);
	return 0;
}

/*
 * The directory's listing from the cache, each entry taken as if the directory had
 * given it: 1, 0 if the cache has none for it (nothing done), or -ENOMEM. The directory
 * is not read. Its identity and its files' come from stat() relative to the directory
 * holding it, for a directory of module files alone (most of them), or else to itself,
 * opened O_PATH: either way a name or two to look up rather than every directory of a
 * path, most of what a stat() costs with a cold cache.
 */
static int read_cached(struct scanner *w, const struct job *job, struct listing *l)
{
	static const unsigned char types[] = {
		[DM_ENTRY_MODULE] = DT_REG, [DM_ENTRY_DIR] = DT_DIR, [DM_ENTRY_STAT] = DT_UNKNOWN,
	};
	const struct dm_cache *c = w->s->d->cache;
	size_t len = strlen(job->path);
	bool leaf = true;
	uint32_t first;
	long n = -1;
	int r = 0, dfd = -1;
	char at[PATH_MAX];

	if (dir_identity(job, &l->key, &dfd) == 0)
		n = dm_cache_listing(c, job->path, &l->key, &first);
	for (long i = 0; i < n; i++) {
		enum dm_entry kind;

		if (!entry_name_ok(dm_cache_listing_entry(c, first + (uint32_t)i, &kind), len))
			n = -1; /* not a listing this directory gave: read it */
		leaf = leaf && kind == DM_ENTRY_MODULE;
	}
	if (n >= 0 && !leaf && dfd < 0 && (dfd = open_dir(job, O_PATH)) < 0)
		n = -1; /* (gone meanwhile: reading it says so) */
	if (n >= 0)
		l->have_key = l->from_cache = true;
	for (long i = 0; i < n && r == 0; i++) {
		enum dm_entry kind;
		const char *name = dm_cache_listing_entry(c, first + (uint32_t)i, &kind);

		if (dfd >= 0) {
			r = scan_entry(w, job, l, dfd, name, name, types[kind], SUB_AT);
		} else {
			snprintf(at, sizeof(at), "%s/%s", job->name, name);
			r = scan_entry(w, job, l, job->at, name, at, types[kind], SUB_BY_PATH);
		}
	}
	if (dfd >= 0)
		close(dfd);
	return r < 0 ? r : n >= 0;
}

static int read_dir(struct scanner *w, const struct job *job, struct listing *l)
{
	size_t name_at = offsetof(struct dirent64, d_name);
	struct stat st;
	int dfd, r = 0;
	ssize_t n;

	if (w->s->d->cache && job->depth <= SCAN_DEPTH_MAX) {
		r = read_cached(w, job, l);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	dfd = open_dir(job, O_RDONLY);
	if (dfd < 0) {
		l->open_err = errno;
		return 0;
	}
	if (job->depth > SCAN_DEPTH_MAX) {
		l->too_deep = true;
		close(dfd);
		return 0;
	}
	/* before reading: a change made meanwhile shows in the next run's */
	if (w->s->d->use_cache && fstat(dfd, &st) == 0) {
		dm_filekey_from_stat(&l->key, &st);
		l->have_key = true;
	}
	while (r == 0 && (n = getdents64(dfd, w->buf, DIRENT_BUF)) > 0) {
		for (size_t off = 0; off + name_at < (size_t)n && r == 0;) {
			const struct dirent64 *de =
				(const struct dirent64 *)(w->buf + off);

			if (de->d_reclen <= name_at || de->d_reclen > (size_t)n - off)
				break;
			off += de->d_reclen;
			/* (subdirectories queued after the loop: one read at once reuses buf) */
			r = scan_entry(w, job, l, dfd, de->d_name, de->d_name, de->d_type,
				       SUB_LATER);
		}
	}
	if (r == 0 && n < 0)
		l->read_err = errno;
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		if (l->v[i].subdir)
			r = queue_dir(w, job, &l->v[i], dfd);
	}
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

		while (s->n_jobs == 0 && s->pending > 0 && s->err == 0) {
			s->idle++;
			pthread_cond_wait(&s->cond, &s->lock);
			s->idle--;
		}
		if (s->n_jobs == 0 || s->err)
			break;
		job = s->jobs[--s->n_jobs];
		/* under the lock: another thread's push_job() may move the array */
		l = s->listings[job.listing];
		pthread_mutex_unlock(&s->lock);
		r = read_dir(w, &job, l);
		if (job.at >= 0)
			close(job.at);
		pthread_mutex_lock(&s->lock);
		if (r < 0)
			s->err = r;
		if (--s->pending == 0 || r < 0)
			pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Read every directory under root into s->listings (listing 0 is root's). */
static int read_tree(struct scan *s, const char *root, struct scanner *w, unsigned n)
{
	pthread_t threads[SCAN_THREADS];
	unsigned started = 0;
	struct listing *l;
	uint32_t id;
	int r = push_job(s, (char *)root, 0, false, -1, NULL, &id, &l);

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

/* Whether l, read from its directory, lists what the cache has for it all the same
 * (the module directory, say, whose times the indexes change). */
static bool listed_as_cached(const struct depmod *d, const struct listing *l)
{
	uint32_t first;
	long n = d->cache ? dm_cache_listing(d->cache, l->path, NULL, &first) : -1;

	if (n != (long)l->n)
		return false;
	for (uint32_t k = 0; k < (uint32_t)n; k++) {
		enum dm_entry kind;

		if (!streq(dm_cache_listing_entry(d->cache, first + k, &kind), l->v[k].name) ||
		    kind != l->v[k].kind)
			return false;
	}
	return true;
}

/* The listings read whole without an error, for the next cache (d->dirs): 0 or
 * -ENOMEM. d->n_dirs_read counts the directories whose listing the cache did not have:
 * the cache then needs writing again. */
static int keep_listings(struct depmod *d, const struct scan *s)
{
	int r = 0;

	for (size_t i = 0; i < s->n_listings && r == 0; i++) {
		const struct listing *l = s->listings[i];
		bool clean = l->have_key && !l->open_err && !l->read_err && !l->too_deep;
		struct dm_dir *dir;

		for (size_t k = 0; k < l->n; k++)
			clean = clean && l->v[k].err == 0;
		d->n_dirs_read += !l->from_cache && !(clean && listed_as_cached(d, l));
		if (!clean)
			continue;
		dir = arena_alloc(&d->arena, sizeof(*dir));
		if (dir) {
			dir->path = arena_strdup(&d->arena, l->path);
			dir->key = l->key;
			dir->n = (uint32_t)l->n;
			dir->names = arena_alloc(&d->arena, (l->n + 1) * sizeof(*dir->names));
			dir->kinds = arena_alloc(&d->arena, l->n + 1);
		}
		if (dir == NULL || dir->path == NULL || dir->names == NULL || dir->kinds == NULL)
			return -ENOMEM;
		for (size_t k = 0; k < l->n; k++) {
			dir->names[k] = arena_strdup(&d->arena, l->v[k].name);
			dir->kinds[k] = l->v[k].kind;
			if (dir->names[k] == NULL)
				return -ENOMEM;
		}
		r = ptrarray_push(&d->dirs, dir);
	}
	return r;
}

static void scan_release(struct scan *s, struct scanner *w, unsigned n)
{
	for (size_t i = 0; i < s->n_jobs; i++) { /* (not taken: the scan failed) */
		if (s->jobs[i].at >= 0)
			close(s->jobs[i].at);
	}
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
	unsigned n = dm_threads(d, SCAN_THREADS);
	int r = strbuf_puts(&path, root);
	char *top;

	memset(w, 0, sizeof(w));
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	while (r == 0 && path.len > 1 && path.buf[path.len - 1] == '/')
		path.len--;
	/* (its own copy: the walk changes path, and the listing keeps it) */
	top = r == 0 ? arena_strdup(&d->arena, strbuf_str(&path)) : NULL;
	if (r == 0)
		r = top ? read_tree(&s, top, w, n) : -ENOMEM;
	if (r == 0 && s.listings[0]->open_err)
		r = -s.listings[0]->open_err;
	if (r == 0)
		r = walk(d, &s, s.listings[0], &path, inside);
	/* a tree whose top could not be read to the end is an error; below, as in kmod,
	 * a directory that fails half way gives what was read */
	if (r == 0 && s.listings[0]->read_err)
		r = -s.listings[0]->read_err;
	if (r == 0 && d->use_cache)
		r = keep_listings(d, &s);
	scan_release(&s, w, n);
	strbuf_release(&path);
	return r;
}
