/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shell-pattern matching with exactly the semantics of fnmatch(pattern, s, 0) in the C
 * locale, which is what modprobe.d aliases, install/remove/softdep names and
 * modules.alias wildcards are matched with. It is several times faster than glibc's
 * fnmatch, which matters because udev resolves thousands of modaliases at boot. Patterns
 * it does not handle itself (character classes, non-ASCII bytes in brackets) are passed
 * to fnmatch().
 */
#pragma once

#include <stdbool.h>

bool glob_match(const char *pattern, const char *s);
/*
 * Byte c against the bracket expression whose '[' precedes p, as glob_match() decides
 * it: 1 or 0, with *end past the closing ']'; -1 if glob_match() would pass the pattern
 * to fnmatch() (see glob.c).
 */
int glob_bracket(const char *p, unsigned char c, const char **end);
/* True if s contains *, ? or [: it may match more than itself. */
bool glob_is_pattern(const char *s);
