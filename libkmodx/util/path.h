/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Module-name and path helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/*
 * Turn '-' into '_' in place, except inside [...] bracket expressions, which are kept as
 * they are (they are glob patterns). -EINVAL for an unmatched '[' or ']'; s is then
 * partly converted.
 */
int underscores(char *s);

/*
 * The module name a file name stands for: the basename up to its first '.', with '-'
 * turned into '_'. buf holds at least PATH_MAX bytes. Returns buf, or NULL if the name
 * does not fit.
 */
char *modname_from_path(const char *path, char *buf);
/* Like modname_from_path() for a name without a directory; length-limited input. */
char *modname_normalize(const char *name, char *buf, size_t *len);

/* True if the name ends in .ko, .ko.gz, .ko.xz or .ko.zst (case-sensitive). */
bool path_has_module_ext(const char *path);

/* a + "/" + b, malloc'ed; a leading '/' in b is not doubled. NULL on ENOMEM. */
char *path_join(const char *a, const char *b);

/* Number of bytes of the directory part of path, without the trailing '/'. */
size_t path_dirlen(const char *path);

/* Basename (after the last '/'). */
const char *path_basename(const char *path);

/* mkdir -p with the given mode; 0 or negative errno. */
int mkdir_p(const char *path, unsigned mode);
