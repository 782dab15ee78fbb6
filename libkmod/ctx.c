// SPDX-License-Identifier: LGPL-2.1-or-later
/* kmod_ctx: the context, its log function and user data, resources and index dumps. */
#include <stdio.h>
#include <syslog.h>

#include "libkmod-private.h"

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
		return "EMERGENCY";
	case LOG_ALERT:
		return "ALERT";
	case LOG_CRIT:
		return "CRITICAL";
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

static void log_stderr(void *data, int prio, const char *file, int line, const char *fn,
		       const char *format, va_list args) _printf_(6, 0);

/* kmod's default: "libkmod: PRIORITY: function: message" on stderr. */
static void log_stderr(void *data, int prio, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	FILE *f = data;

	(void)file;
	(void)line;
	fprintf(f, "libkmod: %s: %s: ", prio_name(prio), fn);
	vfprintf(f, format, args);
}

_public_ struct kmod_ctx *kmod_new(const char *dirname, const char *const *config_paths)
{
	struct kmodx_ctx *ctx;

	if (kmodx_ctx_new(&ctx) < 0)
		return NULL;
	kmodx_ctx_set_log_va_fn(ctx, log_stderr, stderr);
	/* the directory is fixed (made absolute) now, as kmod does, not at first use */
	if ((dirname && kmodx_ctx_set_module_dir(ctx, dirname) < 0) ||
	    kmodx_ctx_set_config_paths(ctx, config_paths) < 0 ||
	    kmodx_ctx_get_module_dir(ctx) == NULL || kmodx_ctx_load_config(ctx) < 0) {
		kmodx_ctx_unref(ctx);
		return NULL;
	}
	return K(ctx);
}

_public_ struct kmod_ctx *kmod_ref(struct kmod_ctx *ctx)
{
	return K(kmodx_ctx_ref(X(ctx)));
}

_public_ struct kmod_ctx *kmod_unref(struct kmod_ctx *ctx)
{
	return K(kmodx_ctx_unref(X(ctx)));
}

_public_ void kmod_set_log_fn(struct kmod_ctx *ctx,
			      void (*log_fn)(void *log_data, int priority,
					     const char *file, int line, const char *fn,
					     const char *format, va_list args),
			      const void *data)
{
	if (ctx)
		kmodx_ctx_set_log_va_fn(X(ctx), log_fn, (void *)data);
}

_public_ int kmod_get_log_priority(const struct kmod_ctx *ctx)
{
	return ctx ? kmodx_ctx_get_log_priority(X(ctx)) : -1;
}

_public_ void kmod_set_log_priority(struct kmod_ctx *ctx, int priority)
{
	if (ctx)
		kmodx_ctx_set_log_priority(X(ctx), priority);
}

_public_ void *kmod_get_userdata(const struct kmod_ctx *ctx)
{
	return ctx ? kmodx_ctx_get_userdata(X(ctx)) : NULL;
}

_public_ void kmod_set_userdata(struct kmod_ctx *ctx, const void *userdata)
{
	if (ctx)
		kmodx_ctx_set_userdata(X(ctx), (void *)userdata);
}

_public_ const char *kmod_get_dirname(const struct kmod_ctx *ctx)
{
	return ctx ? kmodx_ctx_get_module_dir(X(ctx)) : NULL;
}

_public_ int kmod_load_resources(struct kmod_ctx *ctx)
{
	return ctx ? kmodx_ctx_load_resources(X(ctx)) : -ENOENT;
}

_public_ void kmod_unload_resources(struct kmod_ctx *ctx)
{
	if (ctx)
		kmodx_ctx_unload_resources(X(ctx));
}

_Static_assert(SAME(KMOD_RESOURCES_OK, KMODX_RESOURCES_OK) &&
		       SAME(KMOD_RESOURCES_MUST_RELOAD, KMODX_RESOURCES_MUST_RELOAD) &&
		       SAME(KMOD_RESOURCES_MUST_RECREATE, KMODX_RESOURCES_MUST_RECREATE),
	       "kmod's and libkmodx's resource answers differ");

_public_ int kmod_validate_resources(struct kmod_ctx *ctx)
{
	return ctx ? kmodx_ctx_validate_resources(X(ctx)) : KMOD_RESOURCES_MUST_RECREATE;
}

_public_ int kmod_dump_index(struct kmod_ctx *ctx, enum kmod_index type, int fd)
{
	static const enum kmodx_index map[] = {
		[KMOD_INDEX_MODULES_DEP] = KMODX_INDEX_DEP,
		[KMOD_INDEX_MODULES_ALIAS] = KMODX_INDEX_ALIAS,
		[KMOD_INDEX_MODULES_SYMBOL] = KMODX_INDEX_SYMBOL,
		[KMOD_INDEX_MODULES_BUILTIN_ALIAS] = KMODX_INDEX_BUILTIN_ALIAS,
		[KMOD_INDEX_MODULES_BUILTIN] = KMODX_INDEX_BUILTIN,
	};
	int r;

	if (ctx == NULL)
		return -ENOSYS;
	if ((unsigned)type >= ARRAY_SIZE(map))
		return -ENOENT;
	r = kmodx_index_dump(X(ctx), map[type], fd);
	/* kmod's answer for an index it cannot open */
	return r == -ENOENT ? -ENOSYS : r;
}
