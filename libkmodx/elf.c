// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ELF layout facts used here (from the ELF specification):
 *
 *   header      ELF32 (52 bytes)       ELF64 (64 bytes)
 *   e_machine   u16 @18                u16 @18
 *   e_shoff     u32 @32                u64 @40
 *   e_shentsize u16 @46                u16 @58
 *   e_shnum     u16 @48                u16 @60
 *   e_shstrndx  u16 @50                u16 @62
 *
 *   section     ELF32 (40 bytes)       ELF64 (64 bytes)
 *   sh_name     u32 @0                 u32 @0
 *   sh_type     u32 @4                 u32 @4
 *   sh_flags    u32 @8                 u64 @8
 *   sh_offset   u32 @16                u64 @24
 *   sh_size     u32 @20                u64 @32
 *
 *   symbol      ELF32 (16 bytes)       ELF64 (24 bytes)
 *   st_name     u32 @0                 u32 @0
 *   st_value    u32 @4                 u64 @8
 *   st_info     u8  @12                u8  @4
 *   st_shndx    u16 @14                u16 @6
 *
 * Kernel structures: a __versions entry is 64 bytes, a CRC (u32 on ELF32, u64 on ELF64)
 * followed by the NUL-padded symbol name. In .gnu.linkonce.this_module, struct module
 * starts with an enum and a list_head, so the name is at offset 12 (ELF32) or 24 (ELF64).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "util/macro.h"

#define SHF_ALLOC     0x2
#define SHN_UNDEF     0
#define SHN_LORESERVE 0xff00
#define SHN_ABS       0xfff1
#define STB_LOCAL     0
#define STB_GLOBAL    1
#define STB_WEAK      2
#define STT_REGISTER  13
#define EM_SPARC      2
#define EM_SPARCV9    43

#define MODVERSION_SIZE 64

enum known_section {
	SEC_MODINFO,
	SEC_VERSIONS,
	SEC_SYMTAB,
	SEC_STRTAB,
	SEC_KSYMTAB_STRINGS,
	SEC_THIS_MODULE,
	SEC_KNOWN_COUNT,
};

static const char *const known_names[SEC_KNOWN_COUNT] = {
	[SEC_MODINFO] = ".modinfo",
	[SEC_VERSIONS] = "__versions",
	[SEC_SYMTAB] = ".symtab",
	[SEC_STRTAB] = ".strtab",
	[SEC_KSYMTAB_STRINGS] = "__ksymtab_strings",
	[SEC_THIS_MODULE] = ".gnu.linkonce.this_module",
};

struct elf {
	const uint8_t *mem;
	uint64_t size;
	bool is64;
	bool msb;
	uint16_t machine;
	uint64_t shoff;
	uint16_t shnum;
	uint16_t shentsize;
	const char *names; /* section name string table, NUL-terminated at its end */
	uint64_t names_size;
	uint16_t known[SEC_KNOWN_COUNT]; /* index of the first such section, 0 if none */
};

const char *elf_strerror(int err)
{
	switch (err) {
	case -ENOEXEC:
		return "not an ELF file";
	case -EINVAL:
		return "malformed ELF file";
	case -ENODATA:
		return "section not found";
	case -ENOMEM:
		return "out of memory";
	default:
		return strerror(-err);
	}
}

bool elf_is_64bit(const struct elf *elf)
{
	return elf->is64;
}

bool elf_is_big_endian(const struct elf *elf)
{
	return elf->msb;
}

/* Read an unsigned integer of n (1, 2, 4 or 8) bytes at off; false if it is outside
 * the image. */
static bool get_uint(const struct elf *elf, uint64_t off, unsigned n, uint64_t *v)
{
	const uint8_t *p;

	if (off > elf->size || n > elf->size - off)
		return false;
	p = elf->mem + off;
	switch (n) {
	case 1:
		*v = p[0];
		return true;
	case 2: {
		uint16_t x;

		memcpy(&x, p, 2);
		*v = elf->msb ? be16toh(x) : le16toh(x);
		return true;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, p, 4);
		*v = elf->msb ? be32toh(x) : le32toh(x);
		return true;
	}
	default: {
		uint64_t x;

		memcpy(&x, p, 8);
		*v = elf->msb ? be64toh(x) : le64toh(x);
		return true;
	}
	}
}

static uint64_t get_or_zero(const struct elf *elf, uint64_t off, unsigned n)
{
	uint64_t v = 0;

	get_uint(elf, off, n, &v);
	return v;
}

static void set_uint(const struct elf *elf, uint8_t *img, uint64_t off, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned shift = elf->msb ? 8 * (n - 1 - i) : 8 * i;

		img[off + i] = (uint8_t)(v >> shift);
	}
}

/* Width-dependent field access: (offset, size) for ELF32 and ELF64. */
#define FIELD(elf, o32, s32, o64, s64) ((elf)->is64 ? (o64) : (o32)), ((elf)->is64 ? (s64) : (s32))

/* Section header i; false if it is out of range or its data lies outside the image. */
static bool section_at(const struct elf *elf, uint16_t i, struct elf_section *sec,
		       uint32_t *nameoff)
{
	uint64_t hdr, off, size, type, flags, name;

	if (i == SHN_UNDEF || i >= elf->shnum)
		return false;
	hdr = elf->shoff + (uint64_t)i * elf->shentsize;
	if (!get_uint(elf, hdr + 0, 4, &name) || !get_uint(elf, hdr + 4, 4, &type) ||
	    !get_uint(elf, hdr + FIELD(elf, 8, 4, 8, 8), &flags) ||
	    !get_uint(elf, hdr + FIELD(elf, 16, 4, 24, 8), &off) ||
	    !get_uint(elf, hdr + FIELD(elf, 20, 4, 32, 8), &size))
		return false;
	if (off > elf->size || size > elf->size - off)
		return false;
	sec->data = elf->mem + off;
	sec->offset = off;
	sec->size = size;
	sec->type = (uint32_t)type;
	sec->flags = flags;
	sec->index = i;
	if (nameoff)
		*nameoff = (uint32_t)name;
	return true;
}

int elf_check_sections(const struct elf *elf)
{
	for (uint16_t i = 1; i < elf->shnum; i++) {
		uint64_t hdr = elf->shoff + (uint64_t)i * elf->shentsize, type = 0;
		struct elf_section sec;

		get_uint(elf, hdr + 4, 4, &type);
		if (type != 8 /* SHT_NOBITS */ && !section_at(elf, i, &sec, NULL))
			return -EINVAL;
	}
	return 0;
}

static void index_known_sections(struct elf *elf)
{
	for (uint16_t i = 1; i < elf->shnum; i++) {
		struct elf_section sec;
		uint32_t nameoff;
		const char *name;

		if (!section_at(elf, i, &sec, &nameoff) || nameoff >= elf->names_size)
			continue;
		name = elf->names + nameoff;
		if (name[0] != '.' && name[0] != '_')
			continue;
		for (int k = 0; k < SEC_KNOWN_COUNT; k++) {
			if (elf->known[k] == 0 && streq(name, known_names[k]))
				elf->known[k] = i;
		}
	}
}

int elf_open(const uint8_t *mem, size_t size, struct elf **out)
{
	struct elf e = {.mem = mem, .size = size};
	struct elf_section strings;
	uint64_t shoff = 0, shnum = 0, shentsize = 0, shstrndx = 0, machine = 0, end;

	if (size < 16 || memcmp(mem, "\177ELF", 4) != 0)
		return -ENOEXEC;
	switch (mem[4]) {
	case 1:
		e.is64 = false;
		break;
	case 2:
		e.is64 = true;
		break;
	default:
		return -EINVAL;
	}
	switch (mem[5]) {
	case 1:
		e.msb = false;
		break;
	case 2:
		e.msb = true;
		break;
	default:
		return -EINVAL;
	}
	if (size <= (e.is64 ? 64u : 52u))
		return -EINVAL;
	get_uint(&e, 18, 2, &machine);
	get_uint(&e, FIELD(&e, 32, 4, 40, 8), &shoff);
	get_uint(&e, FIELD(&e, 46, 2, 58, 2), &shentsize);
	get_uint(&e, FIELD(&e, 48, 2, 60, 2), &shnum);
	get_uint(&e, FIELD(&e, 50, 2, 62, 2), &shstrndx);
	if (shentsize != (e.is64 ? 64u : 40u))
		return -EINVAL;
	if (shoff > size || shnum * shentsize > size - shoff)
		return -EINVAL;
	e.machine = (uint16_t)machine;
	e.shoff = shoff;
	e.shnum = (uint16_t)shnum;
	e.shentsize = (uint16_t)shentsize;
	if (shstrndx >= SHN_LORESERVE || !section_at(&e, (uint16_t)shstrndx, &strings, NULL))
		return -EINVAL;
	end = strings.size;
	if (end == 0 || strings.data[end - 1] != '\0')
		return -EINVAL;
	e.names = (const char *)strings.data;
	e.names_size = end;
	index_known_sections(&e);

	*out = malloc(sizeof(e));
	if (*out == NULL)
		return -ENOMEM;
	**out = e;
	return 0;
}

void elf_free(struct elf *elf)
{
	free(elf);
}

int elf_find_section(const struct elf *elf, const char *name, struct elf_section *sec)
{
	for (int k = 0; k < SEC_KNOWN_COUNT; k++) {
		if (streq(name, known_names[k])) {
			if (elf->known[k] == 0)
				return -ENODATA;
			return section_at(elf, elf->known[k], sec, NULL) ? 0 : -EINVAL;
		}
	}
	for (uint16_t i = 1; i < elf->shnum; i++) {
		uint32_t nameoff;

		if (!section_at(elf, i, sec, &nameoff) || nameoff >= elf->names_size)
			continue;
		if (streq(elf->names + nameoff, name))
			return 0;
	}
	return -ENODATA;
}

static int known_section(const struct elf *elf, enum known_section k, struct elf_section *sec)
{
	if (elf->known[k] == 0)
		return -ENODATA;
	return section_at(elf, elf->known[k], sec, NULL) ? 0 : -EINVAL;
}

static int foreach_string_in(const struct elf_section *sec, elf_string_fn fn, void *data)
{
	const char *p = (const char *)sec->data, *end = p + sec->size;

	while (p < end) {
		const char *nul;

		if (*p == '\0') {
			p++;
			continue;
		}
		nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			nul = end;
		int r = fn(data, p, (size_t)(nul - p));
		if (r != 0)
			return r;
		p = nul;
	}
	return 0;
}

int elf_foreach_string(const struct elf *elf, const char *section, elf_string_fn fn,
		       void *data)
{
	struct elf_section sec;
	int r = elf_find_section(elf, section, &sec);

	if (r < 0)
		return r;
	return foreach_string_in(&sec, fn, data);
}

/* One __versions entry: CRC and name, the name bounded by the entry. */
static void modversion_at(const struct elf *elf, const struct elf_section *sec, uint64_t i,
			  struct elf_symbol *sym)
{
	unsigned crclen = elf->is64 ? 8 : 4;
	const char *name = (const char *)sec->data + i * MODVERSION_SIZE + crclen;

	sym->crc = get_or_zero(elf, sec->offset + i * MODVERSION_SIZE, crclen);
	sym->name = name;
	sym->namelen = strnlen(name, MODVERSION_SIZE - crclen);
	sym->bind = 'U';
}

static int versions_section(const struct elf *elf, struct elf_section *sec)
{
	int r = known_section(elf, SEC_VERSIONS, sec);

	if (r < 0)
		return r;
	return sec->size % MODVERSION_SIZE == 0 ? 0 : -EINVAL;
}

int elf_foreach_modversion(const struct elf *elf, elf_symbol_fn fn, void *data)
{
	struct elf_section sec;
	int r = versions_section(elf, &sec);

	if (r < 0)
		return r;
	for (uint64_t i = 0; i < sec.size / MODVERSION_SIZE; i++) {
		struct elf_symbol sym;

		modversion_at(elf, &sec, i, &sym);
		if (sym.namelen > 0 && sym.name[0] == '.') {
			sym.name++;
			sym.namelen--;
		}
		r = fn(data, &sym);
		if (r != 0)
			return r;
	}
	return 0;
}

/* The symbol table and its string table, checked once. */
struct symtab {
	struct elf_section syms, strs;
	uint64_t count;
	unsigned entsize;
};

struct symbol_entry {
	const char *name;
	size_t namelen;
	uint64_t value;
	uint8_t info;
	uint16_t shndx;
};

static int symtab_open(const struct elf *elf, struct symtab *t)
{
	if (known_section(elf, SEC_STRTAB, &t->strs) < 0 ||
	    known_section(elf, SEC_SYMTAB, &t->syms) < 0)
		return -ENODATA;
	t->entsize = elf->is64 ? 24 : 16;
	if (t->syms.size % t->entsize != 0)
		return -EINVAL;
	t->count = t->syms.size / t->entsize;
	return 0;
}

static int symbol_at(const struct elf *elf, const struct symtab *t, uint64_t i,
		     struct symbol_entry *s)
{
	uint64_t off = t->syms.offset + i * t->entsize;
	uint64_t name = 0, value = 0, info = 0, shndx = 0;
	const char *str, *nul;

	get_uint(elf, off, 4, &name);
	get_uint(elf, off + FIELD(elf, 4, 4, 8, 8), &value);
	get_uint(elf, off + FIELD(elf, 12, 1, 4, 1), &info);
	get_uint(elf, off + FIELD(elf, 14, 2, 6, 2), &shndx);
	if (name >= t->strs.size)
		return -EINVAL;
	str = (const char *)t->strs.data + name;
	nul = memchr(str, '\0', t->strs.size - name);
	if (nul == NULL)
		return -EINVAL;
	s->name = str;
	s->namelen = (size_t)(nul - str);
	s->value = value;
	s->info = (uint8_t)info;
	s->shndx = (uint16_t)shndx;
	return 0;
}

/* Since Linux 5.19 a __crc_ symbol's value is the offset of the CRC in its section. */
static uint64_t resolve_crc(const struct elf *elf, const struct symbol_entry *s)
{
	struct elf_section sec;

	if (s->shndx == SHN_ABS || s->shndx == SHN_UNDEF)
		return s->value;
	if (!section_at(elf, s->shndx, &sec, NULL) || sec.size < 4 || s->value > sec.size - 4)
		return (uint64_t)-1;
	return get_or_zero(elf, sec.offset + s->value, 4);
}

struct ksymtab_ctx {
	elf_symbol_fn fn;
	void *data;
};

static int ksymtab_string(void *data, const char *s, size_t len)
{
	struct ksymtab_ctx *k = data;
	struct elf_symbol sym = {.name = s, .namelen = len, .crc = 0, .bind = 'G'};

	return k->fn(k->data, &sym);
}

static char bind_letter(uint8_t info)
{
	switch (info >> 4) {
	case STB_LOCAL:
		return 'L';
	case STB_GLOBAL:
		return 'G';
	case STB_WEAK:
		return 'W';
	default:
		return ' ';
	}
}

static int foreach_crc_symbol(const struct elf *elf, const struct symtab *t,
			      elf_symbol_fn fn, void *data, bool *found)
{
	*found = false;
	for (uint64_t i = 1; i < t->count; i++) {
		struct symbol_entry s;
		int r = symbol_at(elf, t, i, &s);

		if (r < 0)
			return r;
		if (s.namelen < 6 || memcmp(s.name, "__crc_", 6) != 0)
			continue;
		*found = true;
		if (fn == NULL)
			continue; /* the checking pass looks at every entry */
		struct elf_symbol sym = {
			.name = s.name + 6,
			.namelen = s.namelen - 6,
			.crc = resolve_crc(elf, &s),
			.bind = bind_letter(s.info),
		};
		r = fn(data, &sym);
		if (r != 0)
			return r;
	}
	return 0;
}

int elf_foreach_export(const struct elf *elf, elf_symbol_fn fn, void *data)
{
	struct ksymtab_ctx k = {fn, data};
	struct elf_section sec;
	struct symtab t;
	bool found = false;

	/* first pass only checks that the table is usable and has __crc_ symbols, so that
	 * a broken table falls back to __ksymtab_strings without calling fn */
	if (symtab_open(elf, &t) == 0 && foreach_crc_symbol(elf, &t, NULL, NULL, &found) == 0 &&
	    found)
		return foreach_crc_symbol(elf, &t, fn, data, &found);
	if (known_section(elf, SEC_KSYMTAB_STRINGS, &sec) < 0)
		return -ENODATA;
	return foreach_string_in(&sec, ksymtab_string, &k);
}

/*
 * CRC lookup for undefined symbols: a small open-addressing table over the __versions
 * entries, so that a module with n symbols costs O(n), not O(n^2).
 */
struct vertab {
	uint32_t *slots; /* entry index + 1, 0 = empty */
	uint32_t mask;
	uint8_t *used;
	struct elf_symbol *entries;
	uint64_t count;
};

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static void vertab_free(struct vertab *v)
{
	free(v->slots);
	free(v->used);
	free(v->entries);
}

static int vertab_build(const struct elf *elf, struct vertab *v)
{
	struct elf_section sec;
	uint32_t n = 16;

	memset(v, 0, sizeof(*v));
	if (versions_section(elf, &sec) < 0)
		return 0; /* no usable __versions: no CRCs */
	v->count = sec.size / MODVERSION_SIZE;
	if (v->count == 0)
		return 0;
	if (v->count > UINT32_MAX / 4)
		return -EINVAL;
	while (n < v->count * 2)
		n *= 2;
	v->slots = calloc(n, sizeof(*v->slots));
	v->used = calloc(v->count, 1);
	v->entries = calloc(v->count, sizeof(*v->entries));
	if (!v->slots || !v->used || !v->entries) {
		vertab_free(v);
		return -ENOMEM;
	}
	v->mask = n - 1;
	for (uint64_t i = 0; i < v->count; i++) {
		struct elf_symbol *e = &v->entries[i];
		uint32_t h;

		modversion_at(elf, &sec, i, e);
		for (h = name_hash(e->name, e->namelen) & v->mask; v->slots[h];
		     h = (h + 1) & v->mask)
			;
		v->slots[h] = (uint32_t)i + 1;
	}
	return 0;
}

/* The first __versions entry named exactly like the symbol; marks it used. */
static uint64_t vertab_crc(struct vertab *v, const char *name, size_t len)
{
	uint64_t best = UINT64_MAX;

	if (v->count == 0)
		return 0;
	for (uint32_t h = name_hash(name, len) & v->mask; v->slots[h]; h = (h + 1) & v->mask) {
		uint64_t i = v->slots[h] - 1;
		const struct elf_symbol *e = &v->entries[i];

		if (e->namelen == len && memcmp(e->name, name, len) == 0 && i < best)
			best = i;
	}
	if (best == UINT64_MAX)
		return 0;
	v->used[best] = 1;
	return v->entries[best].crc;
}

int elf_foreach_undefined(const struct elf *elf, elf_symbol_fn fn, void *data)
{
	bool sparc = elf->machine == EM_SPARC || elf->machine == EM_SPARCV9;
	struct vertab v;
	struct symtab t;
	int r = symtab_open(elf, &t);

	if (r < 0)
		return r == -ENODATA ? -EINVAL : r;
	r = vertab_build(elf, &v);
	if (r < 0)
		return r;
	for (uint64_t i = 1; i < t.count && r == 0; i++) {
		struct symbol_entry s;

		r = symbol_at(elf, &t, i, &s);
		if (r < 0)
			break;
		if (s.shndx != SHN_UNDEF || s.namelen == 0)
			continue;
		if (sparc && (s.info & 0xf) == STT_REGISTER)
			continue;
		struct elf_symbol sym = {
			.name = s.name,
			.namelen = s.namelen,
			.crc = vertab_crc(&v, s.name, s.namelen),
			.bind = (s.info >> 4) == STB_WEAK ? 'W' : 'U',
		};
		r = fn(data, &sym);
	}
	for (uint64_t i = 0; i < v.count && r == 0; i++) {
		if (!v.used[i])
			r = fn(data, &v.entries[i]);
	}
	vertab_free(&v);
	return r;
}

int elf_get_module_name(const struct elf *elf, char *buf, size_t size)
{
	struct elf_section sec;
	uint64_t off = elf->is64 ? 24 : 12, max = elf->is64 ? 56 : 60;
	size_t len;
	int r = known_section(elf, SEC_THIS_MODULE, &sec);

	if (r < 0)
		return r;
	if (sec.size < off + 1)
		return -EINVAL;
	max = MIN(max, sec.size - off);
	len = strnlen((const char *)sec.data + off, (size_t)max);
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(buf, sec.data + off, len);
	buf[len] = '\0';
	return 0;
}

struct vermagic_ctx {
	const uint8_t *base;
	uint64_t offset; /* of the vermagic string in the image, 0 if none */
	size_t len;
};

static int find_vermagic(void *data, const char *s, size_t len)
{
	struct vermagic_ctx *v = data;

	if (len >= 9 && memcmp(s, "vermagic=", 9) == 0) {
		v->offset = (uint64_t)((const uint8_t *)s - v->base);
		v->len = len;
		return 1;
	}
	return 0;
}

int elf_strip(const struct elf *elf, unsigned what, uint8_t **copy)
{
	uint8_t *img = malloc(elf->size ? elf->size : 1);
	struct elf_section sec;

	if (img == NULL)
		return -ENOMEM;
	memcpy(img, elf->mem, elf->size);
	if ((what & ELF_STRIP_MODVERSION) && elf->known[SEC_VERSIONS] != 0) {
		uint64_t hdr = elf->shoff + (uint64_t)elf->known[SEC_VERSIONS] * elf->shentsize;
		uint64_t off = hdr + 8, flags;
		unsigned n = elf->is64 ? 8 : 4;

		if (get_uint(elf, off, n, &flags))
			set_uint(elf, img, off, n, flags & ~(uint64_t)SHF_ALLOC);
	}
	if ((what & ELF_STRIP_VERMAGIC) && known_section(elf, SEC_MODINFO, &sec) == 0) {
		struct vermagic_ctx v = {.base = elf->mem, .offset = 0, .len = 0};

		foreach_string_in(&sec, find_vermagic, &v);
		if (v.len > 0)
			memset(img + v.offset, 0, v.len);
	}
	*copy = img;
	return 0;
}
