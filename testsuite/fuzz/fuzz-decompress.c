// SPDX-License-Identifier: GPL-2.0-or-later
/* The decompressor wrappers: the first byte picks gzip, xz or zstd. */
#include "file.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum compression kinds[] = {COMPRESSION_GZIP, COMPRESSION_XZ,
						 COMPRESSION_ZSTD};
	const char *why;
	uint8_t *out;
	size_t outlen;

	if (size < 1)
		return 0;
	if (decompress(kinds[data[0] % 3], data + 1, size - 1, &out, &outlen, &why) == 0)
		free(out);
	/* the input as a whole file, recognised by its magic */
	enum compression c = compression_detect(data, size);
	if (c != COMPRESSION_NONE && decompress(c, data, size, &out, &outlen, &why) == 0)
		free(out);
	return 0;
}
