/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bounds-checked reader for kernel module ELF images: ELF32 and ELF64, little and big
 * endian. Every field is read byte by byte through a helper that checks it against the
 * image's size first; no structure is ever cast onto file bytes. Strings handed out are
 * (pointer, length) pairs into the image, because the image's strings need not be
 * NUL-terminated.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf;

struct elf_section {
	const uint8_t *data;
	uint64_t offset;
	uint64_t size;
	uint32_t type;
	uint64_t flags;
	uint16_t index;
};

struct elf_symbol {
	const char *name; /* not NUL-terminated: use namelen */
	size_t namelen;
	uint64_t crc;
	char bind; /* 'U' undefined, 'W' weak undefined, 'G' global, 'L' local */
};

typedef int (*elf_string_fn)(void *data, const char *s, size_t len);
typedef int (*elf_symbol_fn)(void *data, const struct elf_symbol *sym);

/* Parse the headers of the image at mem. The image must outlive the elf object.
 * -ENOEXEC: not an ELF image; -EINVAL: a broken one. */
int elf_open(const uint8_t *mem, size_t size, struct elf **elf);
void elf_free(struct elf *elf);
/* A short description of an elf_* error code. */
const char *elf_strerror(int err);

/* -EINVAL if any section other than SHT_NOBITS lies outside the image (a loader would
 * refuse it), 0 otherwise. */
int elf_check_sections(const struct elf *elf);

bool elf_is_64bit(const struct elf *elf);
bool elf_is_big_endian(const struct elf *elf);

/* The first section with that name: 0, or -ENODATA if there is none. */
int elf_find_section(const struct elf *elf, const char *name, struct elf_section *sec);

/*
 * Call fn for every string of a string-list section (.modinfo, __ksymtab_strings), in
 * section order: runs of NULs separate strings and an unterminated last string counts.
 * Stops at the first non-zero return of fn and returns it; -ENODATA without the section.
 */
int elf_foreach_string(const struct elf *elf, const char *section, elf_string_fn fn,
		       void *data);
/* __versions entries (a leading '.' of a name is dropped). */
int elf_foreach_modversion(const struct elf *elf, elf_symbol_fn fn, void *data);
/* Exported symbols: the __crc_ symbols of .symtab with their CRCs, or else the strings of
 * __ksymtab_strings with CRC 0; -ENODATA if there is neither. */
int elf_foreach_export(const struct elf *elf, elf_symbol_fn fn, void *data);
/* Undefined symbols of .symtab in table order, with their __versions CRCs, then the
 * __versions entries no symbol used (module_layout). */
int elf_foreach_undefined(const struct elf *elf, elf_symbol_fn fn, void *data);

/* The name in .gnu.linkonce.this_module (what the kernel calls the module), into buf
 * of size bytes. -ENODATA without the section. */
int elf_get_module_name(const struct elf *elf, char *buf, size_t size);

#define ELF_STRIP_MODVERSION 1
#define ELF_STRIP_VERMAGIC   2

/* A malloc'ed copy of the image with __versions made non-allocated and/or the vermagic
 * string blanked, for force-loading through init_module(). */
int elf_strip(const struct elf *elf, unsigned what, uint8_t **copy);
