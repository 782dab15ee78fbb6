// SPDX-License-Identifier: GPL-2.0-or-later
/* Tools not written yet: they say so and fail, never silently. */
#include <stdlib.h>

#include "tool.h"

static int not_yet(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	ERR("this tool is not implemented yet in kmodx");
	return EXIT_FAILURE;
}

const struct tool tool_modprobe = {"modprobe", not_yet, "load and remove modules with dependencies"};
