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
/* True if s contains *, ? or [: it may match more than itself. */
bool glob_is_pattern(const char *s);
