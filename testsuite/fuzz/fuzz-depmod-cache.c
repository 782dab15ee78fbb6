// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * depmod's cache reader (depmod-cache.c): the header, both parts, and every record
 * turned into a module's fields, each string and symbol touched. Unless the first byte
 * is odd, the size and checksums are fixed up first (dm_cache_seal()), so that the
 * fuzzer explores the structure behind them rather than only the checks in front.
 */
#include "depmod-private.h"
#include "fuzz.h"

static size_t touch_strings(const char *const *v, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += strlen(v[i]);
	return t;
}

static size_t touch_symbols(const struct dm_symref *v, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += strlen(v[i].name) + (size_t)v[i].crc + v[i].weak;
	return t;
}

static size_t touch(const struct dm_module *m)
{
	size_t t = touch_symbols(m->exports, m->n_exports);

	t += touch_symbols(m->undefs, m->n_undefs);
	t += touch_strings(m->aliases, m->n_aliases);
	t += touch_strings(m->softdeps, m->n_softdeps);
	t += touch_strings(m->weakdeps, m->n_weakdeps);
	t += touch_strings(m->firmware, m->n_firmware);
	return t + (m->vermagic ? strlen(m->vermagic) : 0) + (size_t)m->load_err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_cache *c;
	uint8_t *copy;
	volatile size_t sink = 0;

	if (size < 1)
		return 0;
	copy = malloc(size);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	if (!(data[0] & 1))
		dm_cache_seal(copy, size - 1);
	if (dm_cache_parse(NULL, copy, size - 1, &c) == 0) {
		struct arena a = ARENA_INIT;

		for (size_t i = 0; i < dm_cache_count(c); i++) {
			struct dm_module m;

			memset(&m, 0, sizeof(m));
			if (dm_cache_record(c, i, &a, &m) < 0)
				break;
			sink += touch(&m);
		}
		arena_release(&a);
		dm_cache_free(c);
	}
	free(copy);
	return 0;
}
