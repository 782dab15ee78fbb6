// SPDX-License-Identifier: GPL-2.0-or-later
/* modprobe.d and depmod.d parsers, and the kernel command line. The first byte picks. */
#include "config.h"
#include "depmod-private.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmodx_ctx *ctx;
	struct config *c;
	char *text;

	if (size < 1)
		return 0;
	ctx = fuzz_ctx();
	text = fuzz_string(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		c = calloc(1, sizeof(*c));
		if (c && config_parse_text(ctx, c, "fuzz.conf", text, size - 1) == 0) {
			config_find_install(c, "snd-foo");
			config_find_softdep(c, "snd_foo");
			config_is_blacklisted(c, "foo");
		}
		config_free(c);
		break;
	case 1: {
		struct dm_config cfg = {0};

		dm_config_parse_text(ctx, &cfg, "6.1.0", "fuzz.conf", text, size - 1);
		dm_config_release(&cfg);
		break;
	}
	default:
		c = calloc(1, sizeof(*c));
		if (c)
			config_parse_cmdline(ctx, c, text);
		config_free(c);
		break;
	}
	free(text);
	kmodx_ctx_unref(ctx);
	return 0;
}
