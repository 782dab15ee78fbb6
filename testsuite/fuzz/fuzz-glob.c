// SPDX-License-Identifier: GPL-2.0-or-later
/* glob_match() must answer exactly as fnmatch(pattern, string, 0): the input is
 * "pattern\0string". */
#include <fnmatch.h>

#include "fuzz.h"
#include "util/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_string(data, size);
	const char *pattern = buf, *s = buf + strlen(buf);

	if (s < buf + size)
		s++;
	if ((fnmatch(pattern, s, 0) == 0) != glob_match(pattern, s))
		abort();
	free(buf);
	return 0;
}
