/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libFuzzer harnesses. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libkmodx-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_silent_log(void *data, int prio, const char *msg)
{
	(void)data;
	(void)prio;
	(void)msg;
}

/* A context that logs nothing and reads nothing from the host. */
static inline struct kmodx_ctx *fuzz_ctx(void)
{
	static const char *const none[] = {NULL};
	struct kmodx_ctx *ctx;

	if (kmodx_ctx_new(&ctx) < 0)
		abort();
	kmodx_ctx_set_log_fn(ctx, fuzz_silent_log, NULL);
	kmodx_ctx_set_log_priority(ctx, LOG_DEBUG); /* format every message */
	kmodx_ctx_set_root(ctx, "/nonexistent-fuzz-root");
	kmodx_ctx_set_kernel_release(ctx, "0.0");
	kmodx_ctx_set_config_paths(ctx, none);
	kmodx_ctx_set_use_cmdline(ctx, false);
	return ctx;
}

/* A NUL-terminated copy of the input. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
