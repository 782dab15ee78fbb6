// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An LD_PRELOAD library that makes chosen file operations fail, so that tests can check
 * what the tools do on a full disk, a read-only directory or a failing rename without
 * root or special file systems.
 *
 *   KMODX_FAULT=OP:ERRNO[:AFTER]
 *     OP     write (and pwrite), openat (creating files), fdatasync, renameat (and
 *            renameat2), pthread_create (which returns ERRNO: 11 = EAGAIN)
 *     ERRNO  a number (28 = ENOSPC, 30 = EROFS, 27 = EFBIG, 13 = EACCES, 5 = EIO)
 *     AFTER  for write: bytes that still succeed; for the others: calls that succeed
 *
 *   KMODX_FAULT_CALLS=FILE
 *     at exit, the number of calls of OP is written to FILE (to know how many there
 *     are to fail one by one)
 *
 * The tools write from several threads at once: the budget is kept under a lock.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static char op[32];
static int err;
static long long budget = -1;
static int configured;
static long long calls;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void configure(void)
{
	const char *s = getenv("KMODX_FAULT");

	configured = 1;
	if (s == NULL || sscanf(s, "%31[^:]:%d:%lld", op, &err, &budget) < 2)
		op[0] = '\0';
}

static int fault(const char *which, long long amount)
{
	int hit = 0;

	pthread_mutex_lock(&lock);
	if (!configured)
		configure();
	if (strcmp(op, which) == 0) {
		calls++;
		hit = budget < amount; /* (no AFTER: -1, the first call fails) */
		budget = hit ? 0 : budget - amount;
	}
	pthread_mutex_unlock(&lock);
	if (hit)
		errno = err;
	return hit;
}

__attribute__((destructor)) static void report_calls(void)
{
	const char *path = getenv("KMODX_FAULT_CALLS");
	long long n = calls; /* (before fopen() and fclose() may add theirs) */
	FILE *f = path ? fopen(path, "w") : NULL;

	if (f) {
		fprintf(f, "%lld\n", n);
		fclose(f);
	}
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	/* only regular files: never break the test's view of stdout/stderr */
	if (fd > 2 && fault("write", (long long)n))
		return -1;
	return real(fd, buf, n);
}

/* (with _FILE_OFFSET_BITS=64, as the tools are built, this is pwrite64, as openat() is
 * openat64: the names the tools call) */
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	if (fd > 2 && fault("write", (long long)n))
		return -1;
	return real(fd, buf, n, off);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode = 0;

	if (!real)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
		if (fault("openat", 1))
			return -1;
	}
	return real(dirfd, path, flags, mode);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (fault("fdatasync", 1))
		return -1;
	return real(fd);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);

	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT,
										  "renameat2");
	if (fault("renameat", 1))
		return -1;
	return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	static int (*real)(int, const char *, int, const char *);

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	if (fault("renameat", 1))
		return -1;
	return real(olddirfd, oldpath, newdirfd, newpath);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
		   void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int saved = errno;

	if (!real)
		real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
				void *))dlsym(RTLD_NEXT, "pthread_create");
	if (fault("pthread_create", 1)) {
		errno = saved; /* it says why by what it returns */
		return err;
	}
	return real(thread, attr, fn, arg);
}
