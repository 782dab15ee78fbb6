// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocation failures: linked with -Wl,--wrap for malloc, calloc, realloc, strdup,
 * strndup and free, so that every allocation made by libkmodx (and this file) goes
 * through the wrappers below. Each scenario runs once normally, then again with the
 * first, second, third ... allocation failing, until a run sees no injected failure.
 * A run whose allocation failed must return -ENOMEM, or succeed with exactly the normal
 * result (a failure that only costs a cache); every run must free everything it
 * allocated.
 */
#include <errno.h>
#include <execinfo.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "depmod.h"
#include "index-write.h"
#include "index.h"
#include "libkmodx.h"
#ifdef UNIT_LIBKMOD
#include "libkmod.h"
#endif
#include "util/path.h"
#include "unit.h"

/* ---- the wrappers ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

static long alloc_count, fail_at;
static bool failed;
/* depmod allocates from worker threads */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Live allocations made through the wrappers: an open-addressing set of pointers. */
#define LIVE_SLOTS (1u << 20)
static void **live;
static size_t live_count;

static size_t live_slot(const void *p)
{
	uintptr_t h = (uintptr_t)p;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 11) & (LIVE_SLOTS - 1);
}

static size_t live_tombs;

/* Drop the tombstones once they fill half the table. */
static void live_rehash(void)
{
	void **old = live;

	live = __real_calloc(LIVE_SLOTS, sizeof(void *));
	assert_non_null(live);
	live_count = 0;
	live_tombs = 0;
	for (size_t i = 0; i < LIVE_SLOTS; i++) {
		if (old[i] != NULL && old[i] != (void *)1) {
			size_t j;

			for (j = live_slot(old[i]); live[j] != NULL;
			     j = (j + 1) & (LIVE_SLOTS - 1))
				;
			live[j] = old[i];
			live_count++;
		}
	}
	__real_free(old);
}

static void live_add(void *p)
{
	size_t i;

	if (p == NULL || live == NULL)
		return;
	if (live_tombs > LIVE_SLOTS / 2)
		live_rehash();
	for (i = live_slot(p); live[i] != NULL && live[i] != (void *)1;
	     i = (i + 1) & (LIVE_SLOTS - 1))
		;
	live[i] = p;
	live_count++;
}

static void live_del(void *p)
{
	if (p == NULL || live == NULL)
		return;
	for (size_t i = live_slot(p); live[i] != NULL; i = (i + 1) & (LIVE_SLOTS - 1)) {
		if (live[i] == p) {
			live[i] = (void *)1; /* tombstone */
			live_count--;
			live_tombs++;
			return;
		}
	}
}

static bool inject(void)
{
	if (fail_at <= 0)
		return false;
	if (++alloc_count != fail_at)
		return false;
	failed = true;
	if (getenv("UNIT_ALLOC_BT") && atol(getenv("UNIT_ALLOC_BT")) == fail_at) {
		void *frames[32];

		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	}
	return true;
}

void *__wrap_malloc(size_t n)
{
	void *p;

	pthread_mutex_lock(&lock);
	p = inject() ? NULL : __real_malloc(n);
	live_add(p);
	pthread_mutex_unlock(&lock);
	return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
	void *p;

	pthread_mutex_lock(&lock);
	p = inject() ? NULL : __real_calloc(n, m);
	live_add(p);
	pthread_mutex_unlock(&lock);
	return p;
}

void *__wrap_realloc(void *old, size_t n)
{
	void *p = NULL;

	pthread_mutex_lock(&lock);
	if (!inject()) { /* on failure old stays valid */
		p = __real_realloc(old, n);
		if (p != NULL || n == 0) {
			live_del(old);
			live_add(p);
		}
	}
	pthread_mutex_unlock(&lock);
	return p;
}

char *__wrap_strdup(const char *s)
{
	char *p;

	pthread_mutex_lock(&lock);
	p = inject() ? NULL : __real_strdup(s);
	live_add(p);
	pthread_mutex_unlock(&lock);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	char *p;

	pthread_mutex_lock(&lock);
	p = inject() ? NULL : __real_strndup(s, n);
	live_add(p);
	pthread_mutex_unlock(&lock);
	return p;
}

void __wrap_free(void *p)
{
	pthread_mutex_lock(&lock);
	live_del(p);
	pthread_mutex_unlock(&lock);
	__real_free(p);
}

/* ---- the driver ---- */

struct result {
	char text[8192];
	size_t len;
};

static void res_add(struct result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void res_add(struct result *res, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(res->text) - res->len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(res->text + res->len, room, fmt, ap);
	va_end(ap);
	res->len += (size_t)n < room ? (size_t)n : room - 1;
}

typedef int (*scenario_fn)(struct result *res);

static void run_scenario(const char *name, scenario_fn fn)
{
	struct result *want = calloc(1, sizeof(*want)), *got = calloc(1, sizeof(*got));
	long tolerated = 0, n;
	int r;

	assert_non_null(want);
	assert_non_null(got);
	/* twice without failures: the first run may fill process-wide caches (dlopen) */
	for (int i = 0; i < 2; i++) {
		want->len = 0;
		want->text[0] = '\0';
		fail_at = 0;
		r = fn(want);
		if (r != 0)
			fail_msg("%s: %d without any failure", name, r);
	}
	for (n = 1;; n++) {
		size_t before = live_count;

		got->len = 0;
		got->text[0] = '\0';
		alloc_count = 0;
		failed = false;
		fail_at = n;
		r = fn(got);
		fail_at = 0;
		if (live_count != before)
			fail_msg("%s, allocation %ld failing: %zd allocations leaked",
				 name, n, (ssize_t)(live_count - before));
		if (!failed) {
			assert_int_equal(r, 0);
			break;
		}
		if (r == 0) {
			if (strcmp(got->text, want->text) != 0)
				fail_msg("%s, allocation %ld failing: success with a "
					 "different "
					 "result:\n%s\n--- instead of ---\n%s",
					 name, n, got->text, want->text);
			tolerated++;
			if (getenv("UNIT_ALLOC_VERBOSE"))
				print_message("%s: allocation %ld failing absorbed\n",
					      name, n);
		} else if (r != -ENOMEM) {
			fail_msg("%s, allocation %ld failing: %d instead of -ENOMEM",
				 name, n, r);
		}
	}
	print_message("%s: %ld allocations, %ld failures absorbed without changing the "
		      "result\n",
		      name, n - 1, tolerated);
	free(want);
	free(got);
}

/* ---- scenarios ---- */

static char root_text[PATH_MAX], root_bin[PATH_MAX], root_state[PATH_MAX];

static void quiet(void *data, int prio, const char *msg)
{
	(void)data;
	if (getenv("UNIT_ALLOC_LOG"))
		fprintf(stderr, "log %d: %s\n", prio, msg);
}

static int list_names(struct kmodx_list *l, struct result *res)
{
	for (size_t i = 0; i < kmodx_list_count(l); i++)
		res_add(res, "%s,", kmodx_module_get_name(kmodx_list_get(l, i)));
	res_add(res, ";");
	return 0;
}

static int lookup(struct kmodx_ctx *ctx, const char *what, struct result *res)
{
	struct kmodx_list *l = NULL;
	int r = kmodx_module_new_from_lookup(ctx, what, &l);

	if (r < 0)
		return r;
	list_names(l, res);
	kmodx_list_free(l);
	return 0;
}

static int ctx_scenario(const char *root, struct result *res)
{
	struct kmodx_ctx *ctx = NULL;
	struct kmodx_kvlist *kv = NULL;
	struct kmodx_module *mod = NULL;
	struct kmodx_list *deps = NULL, *pre = NULL, *post = NULL;
	const char *opts;
	int r;

	r = kmodx_ctx_new(&ctx);
	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	kmodx_ctx_set_log_priority(ctx, 7);
	if ((r = kmodx_ctx_set_root(ctx, root)) < 0 ||
	    (r = kmodx_ctx_set_kernel_release(ctx, "6.1.0-unit")) < 0)
		goto out;
	r = kmodx_config_get(ctx, KMODX_CONFIG_OPTIONS, &kv);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < kmodx_kvlist_count(kv); i++)
		res_add(res, "%s=%s;", kmodx_kvlist_key(kv, i),
			kmodx_kvlist_value(kv, i));
	if ((r = lookup(ctx, "my-alias", res)) < 0 ||
	    (r = lookup(ctx, "mod-b", res)) < 0 ||
	    (r = lookup(ctx, "pci:v00001234d00000001", res)) < 0 ||
	    (r = lookup(ctx, "symbol:b_func", res)) < 0 ||
	    (r = lookup(ctx, "builtin-c", res)) < 0 ||
	    (r = lookup(ctx, "c-alias", res)) < 0 ||
	    (r = lookup(ctx, "nothing", res)) < 0)
		goto out;
	r = kmodx_module_new_from_name_lookup(ctx, "mod_a", &mod);
	if (r < 0)
		goto out;
	res_add(res, "path=%s;", kmodx_module_get_path(mod) ? "yes" : "no");
	/* a builtin module's information comes from modules.builtin.modinfo */
	{
		struct kmodx_module *bi = NULL;
		struct kmodx_kvlist *info = NULL;

		r = kmodx_module_new_from_name(ctx, "builtin-c", &bi);
		if (r == 0)
			r = kmodx_module_get_info(bi, &info);
		for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(info); i++)
			res_add(res, "%s=%s;", kmodx_kvlist_key(info, i),
				kmodx_kvlist_value(info, i));
		kmodx_kvlist_free(info);
		kmodx_module_unref(bi);
		if (r < 0)
			goto out;
	}
	opts = kmodx_module_get_options(mod);
	if (opts == NULL) {
		r = -ENOMEM;
		goto out;
	}
	res_add(res, "opts=%s;", opts);
	r = kmodx_module_get_dependencies(mod, &deps);
	if (r < 0)
		goto out;
	list_names(deps, res);
	r = kmodx_module_get_softdeps(mod, &pre, &post);
	if (r < 0)
		goto out;
	list_names(pre, res);
	list_names(post, res);
out:
	kmodx_list_free(pre);
	kmodx_list_free(post);
	kmodx_list_free(deps);
	kmodx_module_unref(mod);
	kmodx_kvlist_free(kv);
	kmodx_ctx_unref(ctx);
	return r;
}

struct show {
	struct result *res;
};

static void show_line(void *data, const char *line)
{
	res_add(data, "%s|", line);
}

/* modprobe and modprobe -r in dry-run mode, devnodes and an index dump */
static int probe_scenario(struct result *res)
{
	struct kmodx_ctx *ctx = NULL;
	struct kmodx_list *l = NULL;
	struct kmodx_kvlist *kv = NULL;
	struct kmodx_probe_opts o = {
		.flags = KMODX_PROBE_DRY_RUN | KMODX_PROBE_APPLY_BLACKLIST_ALIAS_ONLY,
		.extra_options = "extra=1",
		.show = show_line,
		.data = res,
	};
	char tmpl[] = "/tmp/kmodx-unit-alloc-dump-XXXXXX", buf[1024];
	int fd, r;
	ssize_t n;

	r = kmodx_ctx_new(&ctx);
	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	if ((r = kmodx_ctx_set_root(ctx, root_text)) < 0 ||
	    (r = kmodx_ctx_set_kernel_release(ctx, "6.1.0-unit")) < 0)
		goto out;
	r = kmodx_module_new_from_lookup(ctx, "my-alias", &l);
	for (size_t i = 0; r == 0 && i < kmodx_list_count(l); i++) {
		r = kmodx_module_probe_insert(kmodx_list_get(l, i), &o);
		res_add(res, "insert=%d;", r);
		if (r > 0)
			r = 0;
	}
	kmodx_list_free(l);
	l = NULL;
	if (r < 0)
		goto out;
	r = kmodx_module_new_from_lookup(ctx, "mod-b", &l);
	o.flags = KMODX_PROBE_DRY_RUN | KMODX_PROBE_IGNORE_LOADED;
	for (size_t i = 0; r == 0 && i < kmodx_list_count(l); i++)
		r = kmodx_module_probe_remove(kmodx_list_get(l, i), &o);
	kmodx_list_free(l);
	if (r < 0)
		goto out;
	r = kmodx_get_devnodes(ctx, &kv);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(kv); i++)
		res_add(res, "%s %s %llx;", kmodx_kvlist_key(kv, i),
			kmodx_kvlist_value(kv, i),
			(unsigned long long)kmodx_kvlist_number(kv, i));
	kmodx_kvlist_free(kv);
	if (r < 0)
		goto out;
	fd = mkstemp(tmpl);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	unlink(tmpl);
	r = kmodx_index_dump(ctx, KMODX_INDEX_ALIAS, fd);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (r == 0 && n >= 0)
		res_add(res, "dump=%.*s", (int)n, buf);
out:
	kmodx_ctx_unref(ctx);
	return r;
}

/* The first thing a fresh context does: a builtin module's information and state. */
static int builtin_scenario(struct result *res)
{
	struct kmodx_ctx *ctx = NULL;
	struct kmodx_module *mod = NULL;
	struct kmodx_kvlist *info = NULL;
	int r = kmodx_ctx_new(&ctx);

	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	if ((r = kmodx_ctx_set_root(ctx, root_text)) < 0 ||
	    (r = kmodx_ctx_set_kernel_release(ctx, "6.1.0-unit")) < 0 ||
	    (r = kmodx_module_new_from_name(ctx, "builtin_c", &mod)) < 0)
		goto out;
	r = kmodx_module_get_info(mod, &info);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(info); i++)
		res_add(res, "%s=%s;", kmodx_kvlist_key(info, i),
			kmodx_kvlist_value(info, i));
	kmodx_kvlist_free(info);
	kmodx_module_unref(mod);
	mod = NULL;
	if (r < 0)
		goto out;
	r = kmodx_module_new_from_name(ctx, "builtin_c", &mod);
	if (r == 0) {
		r = kmodx_module_get_initstate(mod);
		res_add(res, "state=%d;", r);
		r = r < 0 ? r : 0;
	}
out:
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
	return r;
}

/* Taint flags and module parameters: /proc/sys/kernel/tainted, per-module taints, a
 * builtin module's declared parameters and its values in sysfs, the oops string. */
static int state_scenario(struct result *res)
{
	struct kmodx_ctx *ctx = NULL;
	struct kmodx_module *mod = NULL;
	struct kmodx_kvlist *a = NULL, *b = NULL;
	char str[KMODX_TAINT_STRING_MAX];
	uint64_t mask = 0;
	int r = kmodx_ctx_new(&ctx);

	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	if ((r = kmodx_ctx_set_root(ctx, root_state)) < 0 ||
	    (r = kmodx_ctx_set_kernel_release(ctx, "6.1.0-unit")) < 0 ||
	    (r = kmodx_get_taint(ctx, &mask)) < 0 ||
	    (r = kmodx_taint_string(mask, str, sizeof(str))) < 0 ||
	    (r = kmodx_get_module_taints(ctx, &a)) < 0)
		goto out;
	res_add(res, "%s;", str);
	for (size_t i = 0; i < kmodx_kvlist_count(a); i++)
		res_add(res, "%s=%s;", kmodx_kvlist_key(a, i), kmodx_kvlist_value(a, i));
	kmodx_kvlist_free(a);
	a = NULL;
	if ((r = kmodx_module_new_from_name(ctx, "demo", &mod)) < 0 ||
	    (r = kmodx_module_get_param_decls(mod, &a, &b)) < 0)
		goto out;
	for (size_t i = 0; i < kmodx_kvlist_count(a); i++)
		res_add(res, "%s:%s:%s;", kmodx_kvlist_key(a, i),
			kmodx_kvlist_value(a, i), kmodx_kvlist_value(b, i));
	kmodx_kvlist_free(a);
	kmodx_kvlist_free(b);
	a = b = NULL;
	r = kmodx_module_get_param_values(mod, &a);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(a); i++)
		res_add(res, "%s=%s;", kmodx_kvlist_key(a, i), kmodx_kvlist_value(a, i));
out:
	kmodx_kvlist_free(a);
	kmodx_kvlist_free(b);
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
	return r;
}

static int ctx_text_scenario(struct result *res)
{
	return ctx_scenario(root_text, res);
}

static int ctx_bin_scenario(struct result *res)
{
	return ctx_scenario(root_bin, res);
}

static int index_scenario(struct result *res)
{
	struct trie *t = NULL;
	struct index *idx = NULL;
	struct index_values vals = {0};
	uint8_t *buf = NULL;
	size_t len;
	int r;

	r = trie_new(&t);
	if (r < 0)
		return r;
	for (int i = 0; i < 60 && r >= 0; i++) {
		char key[64], value[32];

		snprintf(key, sizeof(key), "pci:v%08Xd*sv*sd*bc%02Xsc*i*", i * 7919,
			 i % 5);
		snprintf(value, sizeof(value), "mod%d", i % 9);
		r = trie_add(t, key, value, (uint32_t)(i % 4));
	}
	if (r >= 0)
		r = trie_serialize(t, INDEX_PREORDER, &buf, &len);
	trie_free(t);
	if (r < 0)
		return r;
	r = index_open_buffer(buf, len, &idx);
	if (r < 0) {
		free(buf);
		return r;
	}
	r = index_search_wild(idx, "pci:v0000EF5Dd00001sv0sd0bc03sc00i00", &vals);
	for (size_t i = 0; r == 0 && i < vals.n; i++)
		res_add(res, "%s/%u,", vals.v[i].value, vals.v[i].priority);
	index_values_release(&vals);
	index_close(idx);
	return r;
}

#ifdef UNIT_BUILD_DIR
static int module_scenario_one(struct kmodx_ctx *ctx, const char *file,
			       struct result *res)
{
	char path[PATH_MAX];
	struct kmodx_module *mod = NULL;
	struct kmodx_kvlist *kv = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/modules/%s", UNIT_BUILD_DIR, file);
	r = kmodx_module_new_from_path(ctx, path, &mod);
	if (r < 0)
		return r;
	r = kmodx_module_get_info(mod, &kv);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(kv); i++)
		res_add(res, "%s=%s;", kmodx_kvlist_key(kv, i),
			kmodx_kvlist_value(kv, i));
	kmodx_kvlist_free(kv);
	kv = NULL;
	if (r == 0)
		r = kmodx_module_get_dependency_symbols(mod, &kv);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(kv); i++)
		res_add(res, "%s:%llx;", kmodx_kvlist_key(kv, i),
			(unsigned long long)kmodx_kvlist_number(kv, i));
	kmodx_kvlist_free(kv);
	kv = NULL;
	if (r == 0 && strcmp(file, "pgp.ko") != 0) /* exports nothing */
		r = kmodx_module_get_symbols(mod, &kv);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(kv); i++)
		res_add(res, "%s;", kmodx_kvlist_key(kv, i));
	kmodx_kvlist_free(kv);
	kmodx_module_unref(mod);
	return r;
}

static int module_scenario(struct result *res)
{
	static const char *const files[] = {"signed.ko", "signed.ko.xz", "plain.ko.gz",
					    "plain-nosize.ko.zst", "pgp.ko"};
	struct kmodx_ctx *ctx = NULL;
	int r = kmodx_ctx_new(&ctx);

	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	r = kmodx_ctx_set_root(ctx, root_text);
	for (size_t i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++)
		r = module_scenario_one(ctx, files[i], res);
	kmodx_ctx_unref(ctx);
	return r;
}
#endif

#ifdef UNIT_LIBKMOD
/*
 * libkmod.so.2's layer: what udev and modprobe do through kmod's interface. Functions
 * that can only say NULL count as having failed for lack of memory when an injected
 * failure happened during the run (kmod's interface has no other way to say it).
 */
static void quiet_va(void *data, int prio, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	(void)data, (void)prio, (void)file, (void)line, (void)fn, (void)format,
		(void)args;
}

static void libkmod_action(struct kmod_module *m, bool install, const char *options)
{
	(void)m, (void)install, (void)options;
}

static int libkmod_module(struct kmod_ctx *ctx, struct kmod_module *m, struct result *res)
{
	struct kmod_list *deps = kmod_module_get_dependencies(m), *pre = NULL,
			 *post = NULL;
	struct kmod_list *info = NULL, *out = NULL, *e;
	const char *opts = kmod_module_get_options(m);
	int r;

	res_add(res, "%s path=%s opts=%s deps=", kmod_module_get_name(m),
		kmod_module_get_path(m) ? "yes" : "no", opts ? opts : "-");
	kmod_list_foreach(e, deps) {
		struct kmod_module *d = kmod_module_get_module(e);

		res_add(res, "%s,", kmod_module_get_name(d));
		kmod_module_unref(d);
	}
	r = kmod_module_apply_filter(ctx, KMOD_FILTER_BUILTIN, deps, &out);
	kmod_module_unref_list(out);
	kmod_module_unref_list(deps);
	if (r == 0)
		r = kmod_module_get_softdeps(m, &pre, &post);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	if (r == 0) {
		/* the builtin module's from modules.builtin.modinfo; the others have no
		 * file */
		r = kmod_module_get_info(m, &info);
		kmod_list_foreach(e, info)
			res_add(res, "%s=%s;", kmod_module_info_get_key(e),
				kmod_module_info_get_value(e));
		kmod_module_info_free_list(info);
		if (r == -ENOENT) {
			res_add(res, "no file;");
			r = 0;
		}
	}
	if (r >= 0)
		r = kmod_module_probe_insert_module(
			m, KMOD_PROBE_DRY_RUN | KMOD_PROBE_IGNORE_LOADED, "e=1", NULL,
			NULL, libkmod_action);
	res_add(res, "|");
	return r < 0 ? r : 0;
}

/* kmod_new() reads the host's /proc/cmdline: only its directory counts here. The rest
 * runs on a context over the temporary root (a kmod_ctx is a kmodx_ctx). */
static struct kmod_ctx *libkmod_ctx(int *r)
{
	char dir[PATH_MAX + 32], conf[PATH_MAX + 32];
	const char *paths[] = {conf, NULL};
	struct kmodx_ctx *x = NULL;
	struct kmod_ctx *ctx;

	snprintf(dir, sizeof(dir), "%s/lib/modules/6.1.0-unit", root_text);
	snprintf(conf, sizeof(conf), "%s/etc/modprobe.d", root_text);
	ctx = kmod_new(dir, paths);
	*r = ctx ? 0 : -ENOMEM;
	if (ctx && strcmp(kmod_get_dirname(ctx), dir) != 0)
		*r = -EINVAL;
	kmod_unref(ctx);
	if (*r == 0)
		*r = kmodx_ctx_new(&x);
	if (*r < 0)
		return NULL;
	kmodx_ctx_set_log_fn(x, quiet, NULL);
	if ((*r = kmodx_ctx_set_root(x, root_text)) < 0 ||
	    (*r = kmodx_ctx_set_kernel_release(x, "6.1.0-unit")) < 0) {
		kmodx_ctx_unref(x);
		return NULL;
	}
	ctx = (struct kmod_ctx *)x;
	kmod_set_log_fn(ctx, quiet_va, NULL);
	return ctx;
}

static int libkmod_scenario(struct result *res)
{
	static const char *const aliases[] = {"my-alias", "pci:v00001234d00000001",
					      "symbol:b_func", "c-alias", "nothing"};
	struct kmod_config_iter *it;
	struct kmod_ctx *ctx;
	int r;

	ctx = libkmod_ctx(&r);
	if (ctx == NULL)
		return r;
	r = kmod_load_resources(ctx);
	for (size_t i = 0; r == 0 && i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		struct kmod_list *l = NULL, *e;

		r = kmod_module_new_from_lookup(ctx, aliases[i], &l);
		kmod_list_foreach(e, l) {
			struct kmod_module *m = kmod_module_get_module(e);

			if (r == 0)
				r = libkmod_module(ctx, m, res);
			kmod_module_unref(m);
		}
		kmod_module_unref_list(l);
	}
	it = r == 0 ? kmod_config_get_options(ctx) : NULL;
	while (kmod_config_iter_next(it))
		res_add(res, "%s %s;", kmod_config_iter_get_key(it),
			kmod_config_iter_get_value(it));
	if (r == 0 && it == NULL)
		r = -ENOMEM;
	kmod_config_iter_free_iter(it);
	kmod_unref(ctx);
	/* NULL for "none" and NULL for "no memory" look alike: see above */
	if (r == 0 && failed && strstr(res->text, "opts=-"))
		r = -ENOMEM;
	return r;
}
#endif

/* ---- fixtures ---- */

static void write_index(const char *root, const char *rel, const char *const *kv,
			size_t n)
{
	struct trie *t = NULL;
	uint8_t *buf;
	size_t len;

	assert_int_equal(trie_new(&t), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(trie_add(t, kv[2 * i], kv[2 * i + 1], (uint32_t)i) >= 0);
	assert_int_equal(trie_serialize(t, INDEX_PREORDER, &buf, &len), 0);
	trie_free(t);
	unit_write(root, rel, buf, len);
	free(buf);
}

static void make_root(char *root)
{
	strcpy(root, "/tmp/kmodx-unit-alloc-XXXXXX");
	assert_non_null(mkdtemp(root));
	unit_write_text(
		root, "etc/modprobe.d/a.conf",
		"alias my-alias mod-a\noptions mod-a x=1\nsoftdep mod-a pre: mod-b post: "
		"builtin-c\nblacklist mod-x\ninstall mod-i /bin/true\n");
	unit_write_text(root, "etc/modprobe.d/b.conf", "options mod_a z=3\n");
	unit_write_text(root, "proc/cmdline", "quiet mod-a.y=2 modprobe.blacklist=q\n");
}

/* depmod over a generated tree (copied, with its text inputs, into a temporary root);
 * the result is every output file's name and contents. */
static char depmod_in[PATH_MAX], depmod_out[PATH_MAX];

static int read_all(const char *path, struct result *res)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* binary files: a checksum keeps the result printable */
		uint32_t sum = 0;

		for (ssize_t i = 0; i < n; i++)
			sum = sum * 31 + buf[i];
		if (memchr(buf, '\0', (size_t)n))
			res_add(res, "<%zd bytes, %08x>", n, sum);
		else
			res_add(res, "%.*s", (int)n, buf);
	}
	close(fd);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int depmod_scenario(struct result *res)
{
	const char *const none[] = {NULL};
	struct depmod_options o = {
		.basedir = depmod_in,
		.outdir = depmod_out,
		.kver = "6.1.0-unit",
		.config_paths = none,
		.threads = 2,
		.out_fd = STDOUT_FILENO,
	};
	char dir[PATH_MAX * 2], path[PATH_MAX * 3], *names[64];
	struct kmodx_ctx *ctx = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = kmodx_ctx_new(&ctx);

	if (r < 0)
		return r;
	kmodx_ctx_set_log_fn(ctx, quiet, NULL);
	r = depmod_run(ctx, &o);
	kmodx_ctx_unref(ctx);
	/* what is in the output directory, in name order: no temporary files left over */
	snprintf(dir, sizeof(dir), "%s/lib/modules/6.1.0-unit", depmod_out);
	d = opendir(dir);
	if (d == NULL)
		return r < 0 ? r : -errno;
	while ((de = readdir(d)) != NULL && n < 64) {
		/* (the previous cache, kept to be written over: what it holds depends on
		 * which runs before this one rewrote the cache) */
		if (de->d_name[0] != '.' && strcmp(de->d_name, "modules.kmodx-cache.prev") != 0)
			names[n++] = __real_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "modules.", 8) != 0 ||
		    (strchr(names[i] + 8, '.') && !strstr(names[i], ".bin") &&
		     strcmp(names[i], "modules.builtin.modinfo") != 0))
			fail_msg("depmod left %s behind (result %d)", names[i], r);
		res_add(res, "== %s\n", names[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (r == 0)
			read_all(path, res);
		__real_free(names[i]);
	}
	return r;
}

static void depmod_prepare(void)
{
	char cmd[PATH_MAX * 4];

	strcpy(depmod_in, "/tmp/kmodx-unit-depmod-in-XXXXXX");
	strcpy(depmod_out, "/tmp/kmodx-unit-depmod-out-XXXXXX");
	assert_non_null(mkdtemp(depmod_in));
	assert_non_null(mkdtemp(depmod_out));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/lib/modules' && cp -r '%s/depmod-tree' "
		 "'%s/lib/modules/6.1.0-unit'",
		 depmod_in, UNIT_BUILD_DIR, depmod_in);
	assert_int_equal(system(cmd), 0);
	unit_write_text(depmod_in, "lib/modules/6.1.0-unit/modules.order",
		   "kernel/b.ko\nkernel/a.ko\n");
	unit_write_text(depmod_in, "lib/modules/6.1.0-unit/modules.builtin",
		   "kernel/fs/bi-mod.ko\n");
	unit_write(depmod_in, "lib/modules/6.1.0-unit/modules.builtin.modinfo",
		   "bi_mod.alias=bi-alias\0bi_mod.license=GPL\0", 40);
}

static int setup(void **state)
{
	static const char *const dep[] = {"mod_a", "kernel/mod-a.ko: kernel/mod_b.ko.xz",
					  "mod_b", "kernel/mod_b.ko.xz:"};
	static const char *const alias[] = {"pci:v00001234d*", "mod_b"};
	static const char *const symbols[] = {"symbol:b_func", "mod_b"};
	static const char *const builtin[] = {"builtin_c", ""};
	static const char *const builtin_alias[] = {"c_alias", "builtin_c"};

	static const char demo_modinfo[] = "demo.parmtype=b:int\0demo.parm=b:bee\0"
					   "demo.parm=a:ay\0demo.license=GPL";

	(void)state;
	make_root(root_state);
	unit_write_text(root_state, "proc/sys/kernel/tainted", "12289\n");
	unit_write_text(root_state, "proc/modules",
			"x 1 0 - Live 0xffffffffc0000000 (OE)\ny 1 0 - Live "
			"0xffffffffc0000000\n");
	unit_write_text(root_state, "sys/module/x/taint", "O\n");
	unit_write_text(root_state, "lib/modules/6.1.0-unit/modules.builtin",
			"kernel/demo.ko\n");
	unit_write(root_state, "lib/modules/6.1.0-unit/modules.builtin.modinfo",
		   demo_modinfo, sizeof(demo_modinfo));
	unit_write_text(root_state, "sys/module/demo/parameters/a", "1\n");
	unit_write_text(root_state, "sys/module/demo/parameters/b", "two\n");
	make_root(root_text);
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.dep",
		   "kernel/mod-a.ko: kernel/mod_b.ko.xz\nkernel/mod_b.ko.xz:\n");
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.alias",
		   "# Aliases extracted from modules themselves.\nalias pci:v00001234d* "
		   "mod_b\n");
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.symbols",
		   "alias symbol:b_func mod_b\n");
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.builtin",
		   "kernel/builtin-c.ko\n");
	unit_write(root_text, "lib/modules/6.1.0-unit/modules.builtin.modinfo",
		   "builtin_c.alias=c-alias\0builtin_c.license=GPL\0", 46);
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.softdep",
		   "softdep mod_b pre: builtin_c\n");
	unit_write_text(root_text, "lib/modules/6.1.0-unit/modules.devname",
		   "mod_b fuse c10:229\nbad\nmod_a loop-control c10:237\n");
	unit_write_text(root_text, "proc/modules", "");

	make_root(root_bin);
	write_index(root_bin, "lib/modules/6.1.0-unit/modules.dep.bin", dep, 2);
	write_index(root_bin, "lib/modules/6.1.0-unit/modules.alias.bin", alias, 1);
	write_index(root_bin, "lib/modules/6.1.0-unit/modules.symbols.bin", symbols, 1);
	write_index(root_bin, "lib/modules/6.1.0-unit/modules.builtin.bin", builtin, 1);
	write_index(root_bin, "lib/modules/6.1.0-unit/modules.builtin.alias.bin",
		    builtin_alias, 1);
	unit_write(root_bin, "lib/modules/6.1.0-unit/modules.builtin.modinfo",
		   "builtin_c.alias=c-alias\0builtin_c.license=GPL\0", 46);

#ifdef UNIT_BUILD_DIR
	depmod_prepare();
#endif
	live = __real_calloc(LIVE_SLOTS, sizeof(void *));
	return live ? 0 : -1;
}

static int teardown(void **state)
{
	int r = 0;

	(void)state;
	__real_free(live);
	live = NULL;
	for (const char *const *d = (const char *const[]){root_text, root_bin, root_state,
							  depmod_in, depmod_out, NULL};
	     *d; d++)
		r |= unit_rmtree(*d);
	return r;
}

/* ---- tests ---- */

static void test_baseline(void **state)
{
	struct result a = {0}, b = {0};

	(void)state;
	/* the scenarios mean something: check their normal results once */
	assert_int_equal(ctx_text_scenario(&a), 0);
	assert_int_equal(ctx_bin_scenario(&b), 0);
	assert_string_equal(a.text, b.text);
	assert_string_equal(a.text, "mod_a=x=1;mod_a=z=3;mod_a=y=2;" /* options */
				    "mod_a,;"			     /* my-alias */
				    "mod_b,;"			     /* mod-b */
				    "mod_b,;"			     /* pci alias */
				    "mod_b,;"			     /* symbol */
				    "builtin_c,;"		     /* builtin */
				    "builtin_c,;"		     /* builtin alias */
				    ";"				     /* nothing */
				    "path=yes;alias=c-alias;license=GPL;opts=x=1 z=3 y=2;"
				    "mod_b,;"		   /* dependencies */
				    "mod_b,;builtin_c,;"); /* softdeps */
}

static void test_alloc_builtin(void **state)
{
	struct result res = {0};

	(void)state;
	assert_int_equal(builtin_scenario(&res), 0);
	assert_string_equal(res.text, "alias=c-alias;license=GPL;state=0;");
	run_scenario("builtin module on a fresh context", builtin_scenario);
}

static void test_alloc_state(void **state)
{
	struct result res = {0};

	(void)state;
	assert_int_equal(state_scenario(&res), 0);
	assert_string_equal(res.text,
			    "Tainted: P           OE;x=O;a:ay:;b:bee:int;a=1;b=two;");
	run_scenario("taint and parameters", state_scenario);
}

static void test_alloc_ctx_text(void **state)
{
	(void)state;
	run_scenario("context, config and lookups (text indexes)", ctx_text_scenario);
}

static void test_alloc_ctx_bin(void **state)
{
	(void)state;
	run_scenario("context, config and lookups (.bin indexes)", ctx_bin_scenario);
}

static void test_probe_baseline(void **state)
{
	struct result *res = calloc(1, sizeof(*res));

	(void)state;
	assert_non_null(res);
	assert_int_equal(probe_scenario(res), 0);
	/* mod_a's dependency mod_b, then mod_b again as mod_a's pre-softdep (listed
	 * twice, as kmod does: kmod-reference "Probe list"), then mod_a with every
	 * option; its post-softdep builtin_c is builtin: nothing to load */
	assert_non_null(strstr(res->text, "/kernel/mod_b.ko.xz |insmod "));
	assert_non_null(strstr(res->text, "/kernel/mod_b.ko.xz |insmod "));
	assert_non_null(
		strstr(res->text, "/kernel/mod-a.ko x=1 z=3 y=2 extra=1|insert=0;"));
	/* the devname entries: 'c' << 40 | major << 20 | minor */
	assert_non_null(strstr(
		res->text, "mod_b fuse 630000a000e5;mod_a loop-control 630000a000ed;"));
	assert_non_null(strstr(res->text, "dump=alias pci:v00001234d* mod_b\n"));
	free(res);
}

static void test_alloc_probe(void **state)
{
	(void)state;
	run_scenario("probe, remove, devnodes, dump", probe_scenario);
}

static void test_alloc_index(void **state)
{
	(void)state;
	run_scenario("index build and search", index_scenario);
}

#ifdef UNIT_BUILD_DIR
static void test_depmod_baseline(void **state)
{
	struct result *res = calloc(1, sizeof(*res));
	char path[PATH_MAX * 2];
	struct index *idx = NULL;
	const char *v;

	(void)state;
	assert_non_null(res);
	assert_int_equal(depmod_scenario(res), 0);
	/* updates/ wins over kernel/ for c (the default "search updates"); modules.order
	 * puts b before a; dependencies come before what they depend on */
	assert_non_null(strstr(res->text, "== modules.dep\n"
					  "kernel/b.ko.xz: kernel/a.ko\n"
					  "kernel/a.ko:\n"
					  "updates/c.ko: kernel/a.ko\n"));
	assert_non_null(strstr(res->text, "alias fs-b b\n"));
	assert_non_null(strstr(res->text, "alias symbol:b_func b\n"));
	assert_non_null(strstr(res->text, "b net/tun c10:200\n"));
	assert_non_null(strstr(res->text, "softdep b pre: a\n"));
	assert_non_null(strstr(res->text, "== modules.builtin.alias.bin\n"));
	snprintf(path, sizeof(path), "%s/lib/modules/6.1.0-unit/modules.dep.bin",
		 depmod_out);
	assert_int_equal(index_open(path, &idx), 0);
	assert_int_equal(index_search(idx, "b", &v), 0);
	assert_string_equal(v, "kernel/b.ko.xz: kernel/a.ko");
	index_close(idx);
	free(res);
}

static void test_alloc_depmod(void **state)
{
	(void)state;
	run_scenario("depmod", depmod_scenario);
}

static void test_alloc_modules(void **state)
{
	(void)state;
	run_scenario("module files: info, symbols, signatures, decompression",
		     module_scenario);
}
#endif

#ifdef UNIT_LIBKMOD
static void test_libkmod_baseline(void **state)
{
	struct result *res = calloc(1, sizeof(*res));

	(void)state;
	assert_non_null(res);
	assert_int_equal(libkmod_scenario(res), 0);
	assert_string_equal(res->text,
			    "mod_a path=yes opts=x=1 z=3 y=2 deps=mod_b,no file;|"
			    "mod_b path=yes opts=- deps=no file;|"
			    "mod_b path=yes opts=- deps=no file;|"
			    "builtin_c path=no opts=- deps=alias=c-alias;license=GPL;|"
			    "mod_a x=1;mod_a z=3;mod_a y=2;");
	free(res);
}

static void test_alloc_libkmod(void **state)
{
	(void)state;
	run_scenario("libkmod.so.2: context, lookups, lists, probe", libkmod_scenario);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_alloc_index),
		cmocka_unit_test(test_probe_baseline),
		cmocka_unit_test(test_alloc_probe),
		cmocka_unit_test(test_alloc_builtin),
		cmocka_unit_test(test_alloc_state),
		cmocka_unit_test(test_alloc_ctx_text),
		cmocka_unit_test(test_alloc_ctx_bin),
#ifdef UNIT_LIBKMOD
		cmocka_unit_test(test_libkmod_baseline),
		cmocka_unit_test(test_alloc_libkmod),
#endif
#ifdef UNIT_BUILD_DIR
		cmocka_unit_test(test_alloc_modules),
		cmocka_unit_test(test_depmod_baseline),
		cmocka_unit_test(test_alloc_depmod),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
