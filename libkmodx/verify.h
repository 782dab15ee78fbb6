/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "libkmodx.h"

/* kmodx_verify_module() on an image in memory (decompressed), reported as path; for the
 * fuzzer. libcrypto must have been loaded (crypto_load()). */
int verify_image(struct kmodx_ctx *ctx, const char *path, const uint8_t *data,
		 size_t size, const char *const *certs, unsigned flags,
		 struct kmodx_kvlist **report);
