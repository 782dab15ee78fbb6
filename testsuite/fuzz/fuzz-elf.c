// SPDX-License-Identifier: GPL-2.0-or-later
/* The ELF reader: everything modinfo, modprobe and depmod extract from a module. */
#include "elf.h"
#include "fuzz.h"

static int count_string(void *data, const char *s, size_t len)
{
	size_t *n = data;

	/* touch every byte, so that reading past the section shows under ASan */
	for (size_t i = 0; i < len; i++)
		*n += (unsigned char)s[i];
	return 0;
}

static int count_symbol(void *data, const struct elf_symbol *sym)
{
	return count_string(data, sym->name, sym->namelen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf *elf;
	uint8_t *copy;
	size_t n = 0;
	char name[64];

	if (elf_open(data, size, &elf) < 0)
		return 0;
	elf_foreach_string(elf, ".modinfo", count_string, &n);
	elf_foreach_string(elf, "__ksymtab_strings", count_string, &n);
	elf_foreach_modversion(elf, count_symbol, &n);
	elf_foreach_export(elf, count_symbol, &n);
	elf_foreach_undefined(elf, count_symbol, &n);
	elf_get_module_name(elf, name, sizeof(name));
	if (elf_strip(elf, ELF_STRIP_MODVERSION | ELF_STRIP_VERMAGIC, &copy) == 0)
		free(copy);
	elf_free(elf);
	return n == 42 ? 0 : 0;
}
