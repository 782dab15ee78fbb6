/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Optional libraries (zlib, liblzma, libzstd, libcrypto) are loaded with dlopen() the
 * first time they are needed: a udev-driven modprobe that only looks up an alias then
 * never maps them, which is most of its start-up cost otherwise.
 *
 * A statically linked kmodx (meson -Dstatic_tools) has the libraries linked in instead:
 * built with KMODX_LINKED_LIBS, each table entry carries the function's address and
 * dl_load() only copies it, so the callers are the same in both builds.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dl_sym {
	const char *name;
	void **ptr;
	void *linked; /* the function itself, with KMODX_LINKED_LIBS */
};

/* An entry for the function s, stored in the pointer p_s. The pointer's declared type
 * must be exactly the type of &s in the library's header; anything else does not
 * compile, so a hand-written prototype cannot drift from the real one. */
#ifdef KMODX_LINKED_LIBS
#define DL_LINKED(s) ((void *)(s))
#else
#define DL_LINKED(s) NULL
#endif
#define DL_SYM(s)                                                                   \
	{                                                                           \
		#s,                                                                 \
		__builtin_choose_expr(                                              \
			__builtin_types_compatible_p(__typeof__(p_##s), __typeof__(&s)), \
			(void **)&p_##s, (void)0),                                  \
		DL_LINKED(s)                                                        \
	}

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

/*
 * ELF dlopen metadata (systemd's "ELF dlopen metadata" specification): the libraries a
 * binary may dlopen() are listed in notes of section .note.dlopen, owner "FDO", type
 * 0x407c0c0a, each holding a NUL-terminated JSON array of
 * {"feature", "description", "priority", "soname": [...]} objects. Package managers and
 * initramfs builders read them as they read DT_NEEDED: without them an initramfs could
 * lack libzstd, and .ko.zst modules would not load in early boot. One DL_NOTE() goes
 * with each DL_LIB(); a build with the libraries linked in has nothing to declare.
 */
#define DL_NOTE_OWNER "FDO"
#define DL_NOTE_TYPE  0x407c0c0au
#define DL_NOTE_JSON(feature, description, priority, soname)                             \
	"[{\"feature\":\"" feature "\",\"description\":\"" description                   \
	"\",\"priority\":\"" priority "\",\"soname\":[\"" soname "\"]}]"
#ifdef KMODX_LINKED_LIBS
#define DL_NOTE(var, feature, description, priority, soname)
#else
#define DL_NOTE(var, feature, description, priority, soname)                             \
	__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct { \
		uint32_t namesz, descsz, type;                                           \
		char owner[sizeof(DL_NOTE_OWNER)];                                       \
		/* padded to 4 bytes, the note's alignment */                            \
		char desc[(sizeof(DL_NOTE_JSON(feature, description, priority,           \
					       soname)) +                                \
			   3) &                                                          \
			  ~(size_t)3];                                                   \
	} var = {                                                                        \
		sizeof(DL_NOTE_OWNER),                                                   \
		sizeof(DL_NOTE_JSON(feature, description, priority, soname)),            \
		DL_NOTE_TYPE,                                                            \
		DL_NOTE_OWNER,                                                           \
		DL_NOTE_JSON(feature, description, priority, soname),                    \
	}
#endif
