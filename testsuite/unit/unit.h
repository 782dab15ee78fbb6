/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests: files in and out of temporary roots. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* dir/name read whole (a failed assertion if it cannot be); free() the result */
uint8_t *unit_slurp(const char *dir, const char *name, size_t *len);

/* root/rel written with its parent directories created */
void unit_write(const char *root, const char *rel, const void *data, size_t len);
void unit_write_text(const char *root, const char *rel, const char *text);

struct kmodx_ctx;

/* A log function that drops every message. */
void unit_quiet(void *data, int prio, const char *msg);
/* A quiet context on root for release kver, hermetic: no configuration files, no kernel
 * command line (a failed assertion if it cannot be made). */
struct kmodx_ctx *unit_ctx(const char *root, const char *kver);

/* remove a directory tree; 0, or -1 if something could not be removed */
int unit_rmtree(const char *dir);
