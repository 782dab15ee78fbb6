/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When a .bin index is missing, kmodx builds the same trie in memory from the text
 * file depmod writes next to it (modules.dep, modules.alias, modules.symbols,
 * modules.builtin; builtin aliases come from modules.builtin.modinfo), so that lookups
 * keep working on trees whose .bin files were never generated. kmod gives up there.
 */
#pragma once

#include "libkmodx.h"

struct index;
struct kmodx_ctx;

/* Build from a text file's contents (text is modified; modules.builtin.modinfo's NULs
 * count, so len is needed). */
int index_text_build(enum kmodx_index which, char *text, size_t len, struct index **idx);
/* The text file an index is built from, in the module directory. */
const char *index_text_file(enum kmodx_index which);
/* -ENOENT if the text file is missing too. */
int index_from_text(struct kmodx_ctx *ctx, enum kmodx_index which, struct index **idx);
