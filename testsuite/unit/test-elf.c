// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ELF reader (elf.c) on module images built here, field by field, in all four
 * class/byte-order combinations; then broken headers, truncated images and bad tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elf.h"

#define SHT_PROGBITS 1
#define SHT_SYMTAB   2
#define SHT_STRTAB   3
#define SHT_NOBITS   8
#define SHF_ALLOC    2
#define SHN_ABS	     0xfff1
#define STB_LOCAL    0
#define STB_GLOBAL   1
#define STB_WEAK     2

/* ---- a small ELF writer ---- */

struct img {
	uint8_t *p;
	size_t len, cap;
	bool is64, msb;
};

static void put(struct img *m, size_t off, unsigned n, uint64_t v)
{
	assert_true(off + n <= m->len);
	for (unsigned i = 0; i < n; i++)
		m->p[off + i] = (uint8_t)(v >> (m->msb ? 8 * (n - 1 - i) : 8 * i));
}

static size_t grow(struct img *m, size_t n)
{
	size_t off = m->len;

	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memset(m->p + off, 0, n);
	m->len += n;
	return off;
}

static size_t append(struct img *m, const void *data, size_t n)
{
	size_t off = grow(m, n);

	if (n)
		memcpy(m->p + off, data, n);
	return off;
}

struct sec {
	const char *name;
	uint32_t type;
	uint64_t flags;
	const void *data;
	size_t size;
	/* filled in */
	size_t offset;
};

/* A symbol table entry in the image's class and byte order. */
static void sym(struct img *m, uint8_t *out, uint32_t name, uint64_t value, int bind,
		uint16_t shndx)
{
	struct img t = {
		.p = out, .len = m->is64 ? 24 : 16, .is64 = m->is64, .msb = m->msb};

	memset(out, 0, t.len);
	put(&t, 0, 4, name);
	if (m->is64) {
		put(&t, 4, 1, (uint64_t)bind << 4);
		put(&t, 6, 2, shndx);
		put(&t, 8, 8, value);
	} else {
		put(&t, 4, 4, value);
		put(&t, 12, 1, (uint64_t)bind << 4);
		put(&t, 14, 2, shndx);
	}
}

/* Header, section contents, .shstrtab (last section), section headers. */
static void build_elf(struct img *m, struct sec *secs, size_t n)
{
	size_t ehsize = m->is64 ? 64 : 52, shentsize = m->is64 ? 64 : 40;
	char names[1024];
	size_t nameoffs[32], nlen = 1, shstr_off, shoff;

	assert_true(n + 2 < 32);
	m->len = 0;
	grow(m, ehsize);
	memcpy(m->p, "\177ELF", 4);
	m->p[4] = m->is64 ? 2 : 1;
	m->p[5] = m->msb ? 2 : 1;
	m->p[6] = 1;
	put(m, 16, 2, 1); /* ET_REL */
	put(m, 18, 2, m->is64 ? 62 : 3);
	put(m, 20, 4, 1);
	names[0] = '\0';
	for (size_t i = 0; i <= n; i++) {
		const char *name = i < n ? secs[i].name : ".shstrtab";

		nameoffs[i] = nlen;
		memcpy(names + nlen, name, strlen(name) + 1);
		nlen += strlen(name) + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (secs[i].type == SHT_NOBITS)
			continue;
		grow(m, (8 - m->len % 8) % 8);
		secs[i].offset = append(m, secs[i].data, secs[i].size);
	}
	shstr_off = append(m, names, nlen);
	grow(m, (8 - m->len % 8) % 8);
	shoff = grow(m, shentsize * (n + 2));
	for (size_t i = 0; i <= n; i++) {
		size_t h = shoff + shentsize * (i + 1);
		uint64_t off = i < n ? secs[i].offset : shstr_off;
		uint64_t size = i < n ? secs[i].size : nlen;
		uint32_t type = i < n ? secs[i].type : SHT_STRTAB;
		uint64_t flags = i < n ? secs[i].flags : 0;

		if (i < n && type == SHT_NOBITS)
			off = 0x7fffffff;
		put(m, h, 4, nameoffs[i]);
		put(m, h + 4, 4, type);
		if (m->is64) {
			put(m, h + 8, 8, flags);
			put(m, h + 24, 8, off);
			put(m, h + 32, 8, size);
		} else {
			put(m, h + 8, 4, flags);
			put(m, h + 16, 4, off);
			put(m, h + 20, 4, size);
		}
	}
	if (m->is64) {
		put(m, 40, 8, shoff);
		put(m, 52, 2, ehsize);
		put(m, 58, 2, shentsize);
		put(m, 60, 2, n + 2);
		put(m, 62, 2, n + 1);
	} else {
		put(m, 32, 4, shoff);
		put(m, 40, 2, ehsize);
		put(m, 46, 2, shentsize);
		put(m, 48, 2, n + 2);
		put(m, 50, 2, n + 1);
	}
}

/* Offsets of header fields, for breaking them. */
static size_t shoff_field(const struct img *m)
{
	return m->is64 ? 40 : 32;
}

static size_t shnum_field(const struct img *m)
{
	return m->is64 ? 60 : 48;
}

static size_t shstrndx_field(const struct img *m)
{
	return m->is64 ? 62 : 50;
}

static size_t shdr(const struct img *m, unsigned i)
{
	uint64_t shoff = 0;

	for (unsigned b = 0; b < (m->is64 ? 8u : 4u); b++) {
		unsigned shift = m->msb ? 8 * ((m->is64 ? 7 : 3) - b) : 8 * b;

		shoff |= (uint64_t)m->p[shoff_field(m) + b] << shift;
	}
	return (size_t)shoff + (m->is64 ? 64 : 40) * i;
}

/* ---- the test module ---- */

static const char modinfo[] = "license=GPL\0\0\0vermagic=6.1.0 SMP mod_unload\0"
			      "alias=pci:v*d*\0description=no NUL at the end";

static const char strtab[] = "\0__crc_my_export\0printk\0weak_sym\0local_thing\0"
			     "__crc_rel_export\0";
enum {
	S_CRC_MY = 1,
	S_PRINTK = S_CRC_MY + 16,
	S_WEAK = S_PRINTK + 7,
	S_LOCAL = S_WEAK + 9,
	S_CRC_REL = S_LOCAL + 12,
};

/* section indexes in the image: secs[i] is section i + 1 */
enum {
	IDX_MODINFO = 1,
	IDX_VERSIONS,
	IDX_SYMTAB,
	IDX_STRTAB,
	IDX_KSYMTAB,
	IDX_THIS,
	IDX_CRCS,
	IDX_BSS,
	IDX_TEXT,
};

struct module {
	struct img m;
	uint8_t versions[4 * 64];
	uint8_t symtab[8 * 24];
	uint8_t this_module[128];
	uint8_t crcs[8];
	struct sec secs[9];
};

static void make_module(struct module *mod, bool is64, bool msb, bool with_crcs)
{
	static const struct {
		uint64_t crc;
		const char *name;
	} vers[] = {{0x1111, "module_layout"},
		    {0x2222, "printk"},
		    {0x4444, "weak_sym"},
		    {0x5555, ".dotted"}};
	struct img *m = &mod->m;
	unsigned crclen = is64 ? 8 : 4, entsize = is64 ? 24 : 16;
	struct img tmp;

	memset(mod, 0, sizeof(*mod));
	m->is64 = is64;
	m->msb = msb;
	for (size_t i = 0; i < 4; i++) {
		tmp = (struct img){
			.p = mod->versions + 64 * i, .len = 64, .is64 = is64, .msb = msb};
		put(&tmp, 0, crclen, vers[i].crc);
		memcpy(mod->versions + 64 * i + crclen, vers[i].name,
		       strlen(vers[i].name));
	}
	/* symbol 0 is the null symbol */
	sym(m, mod->symtab + entsize * 1, with_crcs ? S_CRC_MY : S_LOCAL, 0xdeadbeef,
	    STB_GLOBAL, SHN_ABS);
	sym(m, mod->symtab + entsize * 2, S_PRINTK, 0, STB_GLOBAL, 0);
	sym(m, mod->symtab + entsize * 3, S_WEAK, 0, STB_WEAK, 0);
	sym(m, mod->symtab + entsize * 4, S_LOCAL, 16, STB_LOCAL, IDX_MODINFO);
	/* a CRC stored in a section (Linux >= 5.19): the value is its offset there */
	sym(m, mod->symtab + entsize * 5, with_crcs ? S_CRC_REL : S_LOCAL, 4, STB_GLOBAL,
	    IDX_CRCS);
	sym(m, mod->symtab + entsize * 6, 0, 0, STB_GLOBAL, 0); /* no name: skipped */
	tmp = (struct img){.p = mod->crcs, .len = 8, .is64 = is64, .msb = msb};
	put(&tmp, 4, 4, 0xcafef00d);
	memcpy(mod->this_module + (is64 ? 24 : 12), "my_mod", 6);

	struct sec secs[] = {
		{".modinfo", SHT_PROGBITS, SHF_ALLOC, modinfo, sizeof(modinfo) - 1, 0},
		{"__versions", SHT_PROGBITS, SHF_ALLOC, mod->versions,
		 sizeof(mod->versions), 0},
		{".symtab", SHT_SYMTAB, 0, mod->symtab, entsize * 7, 0},
		{".strtab", SHT_STRTAB, 0, strtab, sizeof(strtab), 0},
		{"__ksymtab_strings", SHT_PROGBITS, SHF_ALLOC, "ksym_a\0\0ksym_b\0", 15,
		 0},
		{".gnu.linkonce.this_module", SHT_PROGBITS, SHF_ALLOC, mod->this_module,
		 is64 ? 64 + 24 : 64 + 12, 0},
		{".crcs", SHT_PROGBITS, SHF_ALLOC, mod->crcs, 8, 0},
		{".bss", SHT_NOBITS, SHF_ALLOC, NULL, 4096, 0},
		{".text", SHT_PROGBITS, SHF_ALLOC, "\xc3", 1, 0},
	};
	memcpy(mod->secs, secs, sizeof(secs));
	build_elf(m, mod->secs, 9);
}

/* ---- collecting callbacks ---- */

struct out {
	char s[2048];
	size_t len;
};

static void out_add(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(o->s) - o->len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->s + o->len, room, fmt, ap);
	va_end(ap);
	o->len += (size_t)n < room ? (size_t)n : room - 1;
}

static int on_string(void *data, const char *s, size_t len)
{
	out_add(data, "[%.*s]", (int)len, s);
	return 0;
}

static int on_symbol(void *data, const struct elf_symbol *s)
{
	out_add(data, "%.*s:%llx:%c;", (int)s->namelen, s->name,
		(unsigned long long)s->crc, s->bind);
	return 0;
}

static int stop_at_second(void *data, const char *s, size_t len)
{
	int *n = data;

	(void)s;
	(void)len;
	return ++*n == 2 ? 7 : 0;
}

static void check_module(bool is64, bool msb)
{
	struct module mod;
	struct elf *elf = NULL;
	struct elf_section sec;
	struct out o = {0};
	char name[64];
	int n = 0;

	make_module(&mod, is64, msb, true);
	assert_int_equal(elf_open(mod.m.p, mod.m.len, &elf), 0);
	assert_int_equal(elf_is_64bit(elf), is64);
	assert_int_equal(elf_is_big_endian(elf), msb);
	assert_int_equal(elf_check_sections(elf),
			 0); /* .bss is NOBITS: its offset is moot */

	assert_int_equal(elf_find_section(elf, ".modinfo", &sec), 0);
	assert_int_equal(sec.index, IDX_MODINFO);
	assert_int_equal(sec.size, sizeof(modinfo) - 1);
	assert_int_equal(sec.offset, mod.secs[0].offset);
	assert_ptr_equal(sec.data, mod.m.p + mod.secs[0].offset);
	assert_int_equal(sec.type, SHT_PROGBITS);
	assert_int_equal(sec.flags, SHF_ALLOC);
	assert_int_equal(elf_find_section(elf, ".text", &sec), 0); /* not a known name */
	assert_int_equal(sec.index, IDX_TEXT);
	assert_int_equal(sec.size, 1);
	assert_int_equal(elf_find_section(elf, ".data", &sec), -ENODATA);
	assert_int_equal(elf_find_section(elf, ".modinf", &sec), -ENODATA);

	/* runs of NULs separate; an unterminated last string counts */
	assert_int_equal(elf_foreach_string(elf, ".modinfo", on_string, &o), 0);
	assert_string_equal(o.s,
			    "[license=GPL][vermagic=6.1.0 SMP mod_unload][alias=pci:v*d*]"
			    "[description=no NUL at the end]");
	assert_int_equal(elf_foreach_string(elf, ".modinfo", stop_at_second, &n), 7);
	assert_int_equal(n, 2);
	assert_int_equal(elf_foreach_string(elf, ".nothere", on_string, &o), -ENODATA);

	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_modversion(elf, on_symbol, &o), 0);
	assert_string_equal(o.s, "module_layout:1111:U;printk:2222:U;weak_sym:4444:U;"
				 "dotted:5555:U;");

	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_export(elf, on_symbol, &o), 0);
	assert_string_equal(o.s, "my_export:deadbeef:G;rel_export:cafef00d:G;");

	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_undefined(elf, on_symbol, &o), 0);
	/* symtab order with CRCs from __versions, then the unused __versions entries */
	assert_true(strncmp(o.s, "printk:2222:U;weak_sym:4444:W;module_layout:1111:U;",
			    51) == 0);
	assert_non_null(strstr(o.s + 51, "dotted:5555:U;"));

	assert_int_equal(elf_get_module_name(elf, name, sizeof(name)), 0);
	assert_string_equal(name, "my_mod");
	assert_int_equal(elf_get_module_name(elf, name, 6), -EINVAL); /* does not fit */

	/* strip: a copy with __versions not allocated and vermagic blanked */
	uint8_t *copy = NULL;
	assert_int_equal(elf_strip(elf, ELF_STRIP_MODVERSION | ELF_STRIP_VERMAGIC, &copy),
			 0);
	assert_non_null(copy);
	struct elf *stripped = NULL;
	assert_int_equal(elf_open(copy, mod.m.len, &stripped), 0);
	assert_int_equal(elf_find_section(stripped, "__versions", &sec), 0);
	assert_int_equal(sec.flags & SHF_ALLOC, 0);
	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_string(stripped, ".modinfo", on_string, &o), 0);
	assert_string_equal(
		o.s, "[license=GPL][alias=pci:v*d*][description=no NUL at the end]");
	/* the rest of the image is untouched, and so is the original */
	size_t vm = mod.secs[0].offset + 14;
	for (size_t i = 0; i < mod.m.len; i++) {
		if (i >= vm && i < vm + 30)
			assert_int_equal(copy[i], 0);
		else if (i != shdr(&mod.m, IDX_VERSIONS) + 8 + (msb ? (is64 ? 7 : 3) : 0))
			assert_int_equal(copy[i], mod.m.p[i]);
	}
	assert_int_equal(elf_find_section(elf, "__versions", &sec), 0);
	assert_int_equal(sec.flags, SHF_ALLOC);
	elf_free(stripped);
	free(copy);
	elf_free(elf);

	/* without __crc_ symbols the exports come from __ksymtab_strings */
	free(mod.m.p);
	make_module(&mod, is64, msb, false);
	assert_int_equal(elf_open(mod.m.p, mod.m.len, &elf), 0);
	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_export(elf, on_symbol, &o), 0);
	assert_string_equal(o.s, "ksym_a:0:G;ksym_b:0:G;");
	elf_free(elf);
	free(mod.m.p);
}

static void test_elf64_le(void **state)
{
	(void)state;
	check_module(true, false);
}

static void test_elf64_be(void **state)
{
	(void)state;
	check_module(true, true);
}

static void test_elf32_le(void **state)
{
	(void)state;
	check_module(false, false);
}

static void test_elf32_be(void **state)
{
	(void)state;
	check_module(false, true);
}

static void test_no_optional_sections(void **state)
{
	struct sec secs[] = {{".text", SHT_PROGBITS, SHF_ALLOC, "\xc3", 1, 0}};
	struct img m = {.is64 = true};
	struct elf *elf = NULL;
	struct out o = {0};
	char name[64];

	(void)state;
	build_elf(&m, secs, 1);
	assert_int_equal(elf_open(m.p, m.len, &elf), 0);
	assert_int_equal(elf_foreach_string(elf, ".modinfo", on_string, &o), -ENODATA);
	assert_int_equal(elf_foreach_modversion(elf, on_symbol, &o), -ENODATA);
	assert_int_equal(elf_foreach_export(elf, on_symbol, &o), -ENODATA);
	assert_true(elf_foreach_undefined(elf, on_symbol, &o) < 0);
	assert_int_equal(elf_get_module_name(elf, name, sizeof(name)), -ENODATA);
	assert_int_equal(o.len, 0);
	elf_free(elf);
	free(m.p);
}

/* ---- broken images ---- */

static int open_copy(const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct elf *elf = NULL;
	int r;

	assert_non_null(copy);
	memcpy(copy, p, len);
	r = elf_open(copy, len, &elf);
	if (r == 0) {
		/* whatever was accepted must be safe to walk */
		struct out o = {0};
		struct elf_section sec;
		char name[64];
		uint8_t *stripped = NULL;

		(void)elf_check_sections(elf);
		(void)elf_find_section(elf, ".text", &sec);
		(void)elf_foreach_string(elf, ".modinfo", on_string, &o);
		(void)elf_foreach_string(elf, "__ksymtab_strings", on_string, &o);
		(void)elf_foreach_modversion(elf, on_symbol, &o);
		(void)elf_foreach_export(elf, on_symbol, &o);
		(void)elf_foreach_undefined(elf, on_symbol, &o);
		(void)elf_get_module_name(elf, name, sizeof(name));
		if (elf_strip(elf, ELF_STRIP_MODVERSION | ELF_STRIP_VERMAGIC,
			      &stripped) == 0)
			free(stripped);
		elf_free(elf);
	}
	free(copy);
	return r;
}

static void check_headers(bool is64, bool msb)
{
	struct module mod;
	struct img *m = &mod.m;
	uint8_t *save;

	make_module(&mod, is64, msb, true);
	save = malloc(m->len);
	assert_non_null(save);
	memcpy(save, m->p, m->len);
#define RESET() memcpy(m->p, save, m->len)

	assert_int_equal(open_copy(m->p, m->len), 0);
	/* not ELF */
	m->p[1] = 'X';
	assert_int_equal(open_copy(m->p, m->len), -ENOEXEC);
	RESET();
	assert_int_equal(open_copy(m->p, 3), -ENOEXEC);
	assert_int_equal(open_copy(m->p, 0), -ENOEXEC);
	/* bad class and byte order */
	m->p[4] = 3;
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	m->p[5] = 0;
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	/* only the header, or less */
	assert_int_equal(open_copy(m->p, is64 ? 64 : 52), -EINVAL);
	assert_int_equal(open_copy(m->p, 20), -EINVAL);
	/* section headers past the end */
	put(m, shoff_field(m), is64 ? 8 : 4, m->len);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	put(m, shoff_field(m), is64 ? 8 : 4, is64 ? UINT64_MAX - 10 : UINT32_MAX - 10);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	/* more sections than fit */
	put(m, shnum_field(m), 2, 0xffff);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	put(m, shnum_field(m), 2, 12);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	/* wrong section header size */
	put(m, is64 ? 58 : 46, 2, is64 ? 40 : 64);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	/* the section name table: out of range, SHN_UNDEF, not NUL-terminated, empty */
	put(m, shstrndx_field(m), 2, 11);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	put(m, shstrndx_field(m), 2, 0);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	put(m, shstrndx_field(m), 2, 0xffff);
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	put(m, shstrndx_field(m), 2, IDX_TEXT); /* .text holds "\xc3": no NUL */
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	put(m, shdr(m, 10) + (is64 ? 32 : 20), is64 ? 8 : 4, 0); /* .shstrtab size 0 */
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
	put(m, shdr(m, 10) + (is64 ? 24 : 16), is64 ? 8 : 4,
	    m->len - 2); /* past the end */
	assert_int_equal(open_copy(m->p, m->len), -EINVAL);
	RESET();
#undef RESET
	free(save);
	free(m->p);
}

static void test_bad_headers(void **state)
{
	(void)state;
	check_headers(true, false);
	check_headers(false, true);
}

/* Sections and tables that lie: the reader reports them, never reads past the image. */
static void check_bad_sections(bool is64, bool msb)
{
	struct module mod;
	struct img *m = &mod.m;
	struct elf *elf;
	struct elf_section sec;
	struct out o = {0};
	size_t off = is64 ? 24 : 16, size = is64 ? 32 : 20, w = is64 ? 8 : 4;
	char name[64];

	/* .modinfo extends past the end */
	make_module(&mod, is64, msb, true);
	put(m, shdr(m, IDX_MODINFO) + size, w, m->len);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_check_sections(elf), -EINVAL);
	assert_true(elf_foreach_string(elf, ".modinfo", on_string, &o) < 0);
	assert_int_equal(o.len, 0);
	elf_free(elf);
	/* an offset overflowing 64 bits together with the size */
	put(m, shdr(m, IDX_MODINFO) + off, w, is64 ? UINT64_MAX - 2 : UINT32_MAX - 2);
	put(m, shdr(m, IDX_MODINFO) + size, w, 16);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_check_sections(elf), -EINVAL);
	assert_true(elf_find_section(elf, ".modinfo", &sec) < 0);
	elf_free(elf);
	free(m->p);

	/* __versions not a multiple of 64 bytes */
	make_module(&mod, is64, msb, true);
	put(m, shdr(m, IDX_VERSIONS) + size, w, 100);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_foreach_modversion(elf, on_symbol, &o), -EINVAL);
	elf_free(elf);
	free(m->p);

	/* a symbol name offset past .strtab */
	make_module(&mod, is64, msb, true);
	sym(m, m->p + mod.secs[IDX_SYMTAB - 1].offset + (is64 ? 24 : 16) * 2, 5000, 0,
	    STB_GLOBAL, 0);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_foreach_undefined(elf, on_symbol, &o), -EINVAL);
	/* exports fall back to __ksymtab_strings only if the table is unusable */
	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_export(elf, on_symbol, &o), 0);
	assert_string_equal(o.s, "ksym_a:0:G;ksym_b:0:G;");
	elf_free(elf);
	free(m->p);

	/* .strtab without a final NUL: the last name is unterminated */
	make_module(&mod, is64, msb, true);
	put(m, shdr(m, IDX_STRTAB) + size, w, sizeof(strtab) - 1);
	m->p[mod.secs[IDX_STRTAB - 1].offset + sizeof(strtab) - 2] = 'x';
	sym(m, m->p + mod.secs[IDX_SYMTAB - 1].offset + (is64 ? 24 : 16) * 2, S_CRC_REL,
	    0, STB_GLOBAL, 0);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_foreach_undefined(elf, on_symbol, &o), -EINVAL);
	elf_free(elf);
	free(m->p);

	/* a symtab size that is not a whole number of entries */
	make_module(&mod, is64, msb, true);
	put(m, shdr(m, IDX_SYMTAB) + size, w, (is64 ? 24 : 16) * 7 - 1);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_foreach_undefined(elf, on_symbol, &o), -EINVAL);
	elf_free(elf);
	free(m->p);

	/* a __versions name filling its whole entry without a NUL: cut at the entry, not
	 * run into the next one (whose CRC bytes follow) */
	make_module(&mod, is64, msb, true);
	memset(m->p + mod.secs[IDX_VERSIONS - 1].offset + 64 * 2 + (is64 ? 8 : 4), 'v',
	       is64 ? 56 : 60);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	o.len = 0;
	o.s[0] = '\0';
	assert_int_equal(elf_foreach_modversion(elf, on_symbol, &o), 0);
	{
		char want[128];

		snprintf(want, sizeof(want), "%.*s:4444:U;dotted:5555:U;", is64 ? 56 : 60,
			 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
			 "v");
		assert_non_null(strstr(o.s, want));
	}
	elf_free(elf);
	free(m->p);

	/* a __crc_ symbol in a section too small for the CRC: no crash, some value */
	make_module(&mod, is64, msb, true);
	sym(m, m->p + mod.secs[IDX_SYMTAB - 1].offset + (is64 ? 24 : 16) * 5, S_CRC_REL,
	    0xfffffffe, STB_GLOBAL, IDX_CRCS);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	o.len = 0;
	assert_int_equal(elf_foreach_export(elf, on_symbol, &o), 0);
	elf_free(elf);
	free(m->p);

	/* this_module too short, or with a name that fills it without a NUL */
	make_module(&mod, is64, msb, true);
	put(m, shdr(m, IDX_THIS) + size, w, is64 ? 24 : 12);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_get_module_name(elf, name, sizeof(name)), -EINVAL);
	elf_free(elf);
	free(m->p);
	make_module(&mod, is64, msb, true);
	memset(m->p + mod.secs[IDX_THIS - 1].offset + (is64 ? 24 : 12), 'n', 64);
	assert_int_equal(elf_open(m->p, m->len, &elf), 0);
	assert_int_equal(elf_get_module_name(elf, name, sizeof(name)), 0);
	assert_int_equal(strlen(name), is64 ? 56 : 60); /* MODULE_NAME_LEN - 1 at most */
	elf_free(elf);
	free(m->p);
}

static void test_bad_sections(void **state)
{
	(void)state;
	check_bad_sections(true, false);
	check_bad_sections(false, true);
	check_bad_sections(true, true);
	check_bad_sections(false, false);
}

static void test_truncated(void **state)
{
	(void)state;
	for (int v = 0; v < 4; v++) {
		struct module mod;

		make_module(&mod, v & 1, v & 2, true);
		for (size_t len = 0; len < mod.m.len; len++) {
			int r = open_copy(mod.m.p, len);

			/* the section headers are at the end: every cut breaks them */
			assert_true(r == -EINVAL || r == -ENOEXEC);
		}
		free(mod.m.p);
	}
}

static void test_byte_flips(void **state)
{
	(void)state;
	for (int v = 0; v < 4; v++) {
		struct module mod;

		make_module(&mod, v & 1, v & 2, true);
		for (size_t i = 0; i < mod.m.len; i++) {
			static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x40};

			for (size_t x = 0; x < sizeof(xors); x++) {
				mod.m.p[i] ^= xors[x];
				(void)open_copy(mod.m.p, mod.m.len);
				mod.m.p[i] ^= xors[x];
			}
		}
		free(mod.m.p);
	}
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(elf_strerror(-ENOEXEC), "not an ELF file");
	assert_non_null(elf_strerror(-EINVAL));
	assert_non_null(elf_strerror(-EIO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64_le),
		cmocka_unit_test(test_elf64_be),
		cmocka_unit_test(test_elf32_le),
		cmocka_unit_test(test_elf32_be),
		cmocka_unit_test(test_no_optional_sections),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
