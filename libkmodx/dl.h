/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Optional libraries (zlib, liblzma, libzstd, libcrypto) are loaded with dlopen() the
 * first time they are needed: a udev-driven modprobe that only looks up an alias then
 * never maps them, which is most of its start-up cost otherwise.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct dl_sym {
	const char *name;
	void **ptr;
};

struct dl_lib {
	const char *soname;
	const struct dl_sym *syms;
	size_t n_syms;
	pthread_once_t once;
	bool ok;
	char error[256];
};

#define DL_LIB(so, symtab)                                                         \
	{                                                                          \
		.soname = (so), .syms = (symtab), .n_syms = ARRAY_SIZE(symtab),    \
		.once = PTHREAD_ONCE_INIT, .ok = false, .error = ""                \
	}

/* Load the library and resolve every symbol, once per process (thread-safe). On
 * failure *why describes the problem. */
bool dl_load(struct dl_lib *lib, const char **why);
