// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "index-text.h"
#include "index-write.h"
#include "index.h"
#include "libkmodx-private.h"
#include "util/fileio.h"
#include "util/path.h"

#define TEXT_INDEX_MAX ((size_t)256 << 20)

/* modules.dep: "path: dep dep" -> modname => the whole line */
static int add_dep_line(struct trie *t, char *line, uint32_t n)
{
	char name[PATH_MAX], *colon = strchr(line, ':');

	if (colon == NULL)
		return 0;
	*colon = '\0';
	if (modname_from_path(line, name) == NULL)
		return 0;
	*colon = ':';
	return trie_add(t, name, line, n);
}

/* modules.alias / modules.symbols: "alias KEY MODULE" */
static int add_alias_line(struct trie *t, char *line, uint32_t n)
{
	char *key, *mod, *save;

	if (strncmp(line, "alias ", 6) != 0)
		return 0;
	key = strtok_r(line + 6, " \t", &save);
	mod = strtok_r(NULL, " \t", &save);
	if (key == NULL || mod == NULL || underscores(key) < 0)
		return 0;
	return trie_add(t, key, mod, n);
}

/* modules.builtin: a path per line */
static int add_builtin_line(struct trie *t, char *line, uint32_t n)
{
	char name[PATH_MAX];

	(void)n;
	if (line[0] == '\0' || modname_from_path(line, name) == NULL)
		return 0;
	return trie_add(t, name, "", 0);
}

static int build_from_lines(struct trie *t, char *text, int (*add)(struct trie *, char *, uint32_t))
{
	uint32_t n = 0;
	char *save, *line;
	int r = 0;

	for (line = strtok_r(text, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		r = add(t, line, n++);
		if (r == -EILSEQ || r == -ENAMETOOLONG)
			r = 0; /* a line the binary index could not hold either */
	}
	return r;
}

/* modules.builtin.modinfo: "mod.alias=VALUE" records separated by NULs */
static int build_builtin_alias(struct trie *t, char *text, size_t len)
{
	for (char *p = text, *end = text + len; p < end; p += strlen(p) + 1) {
		char *dot = strchr(p, '.'), *mod;
		int r;

		if (dot == NULL || strncmp(dot, ".alias=", 7) != 0)
			continue;
		mod = strndup(p, (size_t)(dot - p));
		if (mod == NULL)
			return -ENOMEM;
		char *alias = strdup(dot + 7);
		if (alias == NULL || underscores(alias) < 0) {
			free(mod);
			free(alias);
			if (alias == NULL)
				return -ENOMEM;
			continue;
		}
		r = trie_add(t, alias, mod, 0);
		free(mod);
		free(alias);
		if (r < 0 && r != -EILSEQ && r != -ENAMETOOLONG)
			return r;
	}
	return 0;
}

int index_text_build(enum kmodx_index which, char *text, size_t len, struct index **idx)
{
	struct trie *t = NULL;
	uint8_t *image;
	size_t size;
	int r = trie_new(&t);

	if (r < 0)
		return r;
	switch (which) {
	case KMODX_INDEX_DEP:
		r = build_from_lines(t, text, add_dep_line);
		break;
	case KMODX_INDEX_ALIAS:
	case KMODX_INDEX_SYMBOL:
		r = build_from_lines(t, text, add_alias_line);
		break;
	case KMODX_INDEX_BUILTIN:
		r = build_from_lines(t, text, add_builtin_line);
		break;
	case KMODX_INDEX_BUILTIN_ALIAS:
		r = build_builtin_alias(t, text, len);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r >= 0)
		r = trie_serialize(t, INDEX_PREORDER, &image, &size);
	trie_free(t);
	if (r < 0)
		return r;
	r = index_open_buffer(image, size, idx);
	if (r < 0)
		free(image);
	return r;
}

const char *index_text_file(enum kmodx_index which)
{
	static const char *const files[] = {
		[KMODX_INDEX_DEP] = "modules.dep",
		[KMODX_INDEX_ALIAS] = "modules.alias",
		[KMODX_INDEX_SYMBOL] = "modules.symbols",
		[KMODX_INDEX_BUILTIN] = "modules.builtin",
		[KMODX_INDEX_BUILTIN_ALIAS] = "modules.builtin.modinfo",
	};

	return files[which];
}

int index_from_text(struct kmodx_ctx *ctx, enum kmodx_index which, struct index **idx)
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r = ctx_module_path(ctx, index_text_file(which), path);

	if (r == 0)
		r = read_file_at(AT_FDCWD, path, TEXT_INDEX_MAX, &text, &len);
	if (r < 0)
		return r;
	return index_text_build(which, text, len, idx);
}
