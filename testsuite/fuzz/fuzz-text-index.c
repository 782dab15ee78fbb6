// SPDX-License-Identifier: GPL-2.0-or-later
/* The text index readers (modules.dep, modules.alias/symbols, modules.builtin,
 * modules.builtin.modinfo), which stand in for missing .bin files, and the builtin
 * modinfo parser. The first byte picks the reader. */
#include "fuzz.h"
#include "index-text.h"
#include "index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmodx_kvlist *list;
	struct index_values vals = {0};
	struct index *idx;
	const char *v;
	char *text;

	if (size < 1)
		return 0;
	text = fuzz_string(data + 1, size - 1);
	if (index_text_build((enum kmodx_index)(data[0] % 5), text, size - 1, &idx) == 0) {
		index_search(idx, "a", &v);
		index_search_wild(idx, "pci:v0000", &vals);
		index_values_release(&vals);
		index_close(idx);
	}
	free(text);
	text = fuzz_string(data + 1, size - 1);
	if (kvlist_new(&list) == 0) {
		builtin_modinfo_parse(text, size - 1, "a", list);
		kmodx_kvlist_free(list);
	}
	free(text);
	return 0;
}
