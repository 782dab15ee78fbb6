/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line (/proc/cmdline), split into words, and the words that set a
 * module's parameter (MODULE.PARAM[=VALUE]). The one reader of it in the library: the
 * configuration's options and blacklist, and modules_load=, all come from here.
 */
#pragma once

#include <stdbool.h>

/* /proc/cmdline is at most a page. */
#define CMDLINE_MAX 4095

/*
 * Call fn for each word of line, which is split in place. Words are separated by
 * whitespace outside double quotes; the quotes stay in the word. A word whose quote is
 * still open at the end of the line is dropped, as kmod drops it. Stops at, and returns,
 * fn's first non-zero answer.
 */
int cmdline_foreach_word(char *line, int (*fn)(void *data, char *word), void *data);

struct cmdline_option {
	char *module;	/* as written, not normalised */
	char *param;	/* "name" or "name=value" */
	bool has_value; /* param has "=value" */
};

/*
 * Whether word, modified in place, sets a module parameter; *opt then points into it.
 *
 *   mod.param  mod.param=value  mod.param="a b"   as written
 *   "mod.param=a b"                               GRUB's quoting: read as mod.param="a b"
 *
 * A quote or a blank before the '=' (outside GRUB's leading quote), a word without a
 * '.' before its '=', a second '.' in the parameter name, and an empty module or
 * parameter name make it no option.
 */
bool cmdline_module_option(char *word, struct cmdline_option *opt);
