// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "elf.h"
#include "file.h"
#include "index.h"
#include "libkmodx-private.h"
#include "signature.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strbuf.h"

/* ---- life cycle ---- */

int module_new(struct kmodx_ctx *ctx, const char *name, const char *alias,
	       struct kmodx_module **out)
{
	_cleanup_(freep) char *key = NULL;
	struct kmodx_module *mod;
	size_t nlen = strlen(name);

	if (nlen == 0)
		return -EINVAL;
	if (alias) {
		size_t alen = strlen(alias);

		key = malloc(nlen + alen + 2);
		if (key == NULL)
			return -ENOMEM;
		memcpy(key, name, nlen);
		key[nlen] = '\\';
		memcpy(key + nlen + 1, alias, alen + 1);
	} else {
		key = strdup(name);
		if (key == NULL)
			return -ENOMEM;
	}
	mod = ctx_pool_find(ctx, key);
	if (mod) {
		*out = kmodx_module_ref(mod);
		return 0;
	}
	mod = calloc(1, sizeof(*mod));
	if (mod == NULL)
		return -ENOMEM;
	mod->refcount = 1;
	mod->ctx = kmodx_ctx_ref(ctx);
	mod->pool_key = TAKE_PTR(key);
	mod->name = strndup(mod->pool_key, nlen);
	if (alias)
		mod->alias = mod->pool_key + nlen + 1;
	if (mod->name == NULL) {
		free(mod->pool_key);
		kmodx_ctx_unref(ctx);
		free(mod);
		return -ENOMEM;
	}
	ctx_pool_add(ctx, mod);
	*out = mod;
	return 0;
}

_public_ struct kmodx_module *kmodx_module_ref(struct kmodx_module *mod)
{
	if (mod)
		mod->refcount++;
	return mod;
}

_public_ struct kmodx_module *kmodx_module_unref(struct kmodx_module *mod)
{
	if (mod == NULL)
		return NULL;
	if (--mod->refcount > 0)
		return mod;
	ctx_pool_del(mod->ctx, mod);
	kmodx_list_free(mod->deps);
	file_free(mod->file);
	free(mod->options);
	free(mod->path);
	free(mod->dep_line);
	free(mod->name);
	free(mod->pool_key);
	kmodx_ctx_unref(mod->ctx);
	free(mod);
	return NULL;
}

_public_ int kmodx_module_new_from_name(struct kmodx_ctx *ctx, const char *name,
					struct kmodx_module **mod)
{
	_cleanup_(freep) char *norm = NULL;

	/* a name is never a path: keep it from naming files outside /sys/module */
	if (ctx == NULL || name == NULL || *name == '\0' || strchr(name, '/') ||
	    streq(name, ".") || streq(name, ".."))
		return -EINVAL;
	norm = strdup(name);
	if (norm == NULL)
		return -ENOMEM;
	if (underscores(norm) < 0)
		return -EINVAL;
	return module_new(ctx, norm, NULL, mod);
}

_public_ int kmodx_module_new_from_path(struct kmodx_ctx *ctx, const char *path,
					struct kmodx_module **out)
{
	char name[PATH_MAX];
	_cleanup_(freep) char *abspath = NULL;
	struct kmodx_module *mod;
	struct stat st;
	int r;

	if (ctx == NULL || path == NULL || *path == '\0')
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	if (modname_from_path(path, name) == NULL || name[0] == '\0')
		return -EINVAL;
	/* absolute, but not resolved: paths print as the user gave them, like kmod */
	if (path[0] == '/') {
		abspath = strdup(path);
	} else {
		const char *cwd = ctx_get_cwd(ctx);

		if (cwd == NULL)
			return -errno;
		abspath = path_join(cwd, path);
	}
	if (abspath == NULL)
		return -ENOMEM;
	r = module_new(ctx, name, NULL, &mod);
	if (r < 0)
		return r;
	if (mod->path && !streq(mod->path, abspath)) {
		ERR(ctx, "module '%s' already exists with a different path: %s (new: %s)",
		    name, mod->path, abspath);
		kmodx_module_unref(mod);
		return -EEXIST;
	}
	if (mod->path == NULL)
		mod->path = TAKE_PTR(abspath);
	mod->path_looked_up = true;
	mod->from_path = true;
	*out = mod;
	return 0;
}

/* ---- modules.dep ---- */

int module_set_dep_line(struct kmodx_module *mod, const char *line)
{
	char buf[PATH_MAX];
	const char *colon = strchr(line, ':');
	size_t len;
	int r;

	if (colon == NULL || colon == line)
		return -EBADMSG;
	len = (size_t)(colon - line);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (mod->path == NULL) {
		char full[PATH_MAX];

		r = ctx_module_path(mod->ctx, buf, full);
		if (r < 0)
			return r;
		mod->path = strdup(full);
		if (mod->path == NULL)
			return -ENOMEM;
	}
	if (mod->dep_line == NULL) {
		mod->dep_line = strdup(colon + 1);
		if (mod->dep_line == NULL)
			return -ENOMEM;
	}
	mod->path_looked_up = true;
	return 0;
}

/* Look the module up in modules.dep once (again after running out of memory): 0 or
 * -ENOMEM. */
static int module_lookup_dep(struct kmodx_module *mod)
{
	const char *line;
	int r;

	if (mod->path_looked_up)
		return 0;
	r = ctx_index_search(mod->ctx, KMODX_INDEX_DEP, mod->name, &line);
	if (r == -ENOMEM)
		return r;
	mod->path_looked_up = true;
	if (r == 0 && module_set_dep_line(mod, line) == -ENOMEM) {
		mod->path_looked_up = false;
		return -ENOMEM;
	}
	return 0;
}

_public_ const char *kmodx_module_get_name(const struct kmodx_module *mod)
{
	return mod ? mod->name : NULL;
}

_public_ const char *kmodx_module_get_path(struct kmodx_module *mod)
{
	if (mod == NULL)
		return NULL;
	(void)module_lookup_dep(mod); /* NULL without memory: no way to say more here */
	return mod->path;
}

int module_is_builtin(struct kmodx_module *mod, bool *builtin)
{
	const char *value;
	int r;

	*builtin = false;
	if (mod->from_path)
		return 0;
	if (!mod->builtin_known) {
		r = ctx_index_search(mod->ctx, KMODX_INDEX_BUILTIN, mod->name, &value);
		if (r == -ENOMEM)
			return r; /* not remembered: asked again next time */
		mod->builtin_known = true;
		mod->builtin = r == 0;
	}
	*builtin = mod->builtin;
	return 0;
}

_public_ bool kmodx_module_is_builtin(struct kmodx_module *mod)
{
	bool builtin;

	return mod && module_is_builtin(mod, &builtin) == 0 && builtin;
}

_public_ int kmodx_module_get_dependencies(struct kmodx_module *mod, struct kmodx_list **out)
{
	struct kmodx_list *list;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = module_lookup_dep(mod);
	if (r == 0)
		r = list_new(&list);
	if (r < 0)
		return r;
	if (mod->dep_line) {
		_cleanup_(freep) char *copy = strdup(mod->dep_line);
		struct ptrarray tokens = PTRARRAY_INIT;
		char *save, *tok;

		if (copy == NULL)
			r = -ENOMEM;
		for (tok = copy ? strtok_r(copy, " \t", &save) : NULL; tok && r == 0;
		     tok = strtok_r(NULL, " \t", &save))
			r = ptrarray_push(&tokens, tok);
		/* modules.dep lists dependencies last-to-load first */
		for (size_t i = tokens.n; i > 0 && r == 0; i--) {
			char name[PATH_MAX], full[PATH_MAX];
			struct kmodx_module *dep;

			if (modname_from_path(tokens.v[i - 1], name) == NULL)
				continue;
			r = module_new(mod->ctx, name, NULL, &dep);
			if (r < 0)
				break;
			if (dep->path == NULL &&
			    ctx_module_path(mod->ctx, tokens.v[i - 1], full) == 0)
				dep->path = strdup(full);
			if (!list_contains(list, dep))
				r = list_append(list, dep);
			kmodx_module_unref(dep);
		}
		ptrarray_release(&tokens);
	}
	if (r < 0) {
		kmodx_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

/* ---- the module's file ---- */

struct kmodx_file *module_get_file(struct kmodx_module *mod, int *err)
{
	const char *path;
	int r;

	if (mod->file)
		return mod->file;
	path = kmodx_module_get_path(mod);
	if (path == NULL) {
		*err = -ENOENT;
		return NULL;
	}
	r = file_open(mod->ctx, path, &mod->file);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	return mod->file;
}

static int module_get_elf(struct kmodx_module *mod, struct elf **elf)
{
	int r = 0;
	struct kmodx_file *f = module_get_file(mod, &r);

	if (f == NULL)
		return r;
	return file_get_elf(mod->ctx, f, elf);
}

/* ---- information ---- */

static int add_modinfo_string(void *data, const char *s, size_t len)
{
	struct kmodx_kvlist *list = data;
	const char *eq = memchr(s, '=', len);

	if (eq == NULL)
		return kvlist_add(list, s, len, "", 0, 0);
	return kvlist_add(list, s, (size_t)(eq - s), eq + 1, len - (size_t)(eq - s) - 1, 0);
}

static int add_hex(struct kmodx_kvlist *list, const char *key, const uint8_t *p, size_t len)
{
	_cleanup_(freep) char *hex = signature_hex(p, len);

	if (hex == NULL)
		return -ENOMEM;
	return kvlist_add(list, key, strlen(key), hex, strlen(hex), 0);
}

static int add_signature(struct kmodx_kvlist *list, const struct kmodx_file *f)
{
	struct sig_info si;
	int r;

	if (!signature_read(f->data, f->size, &si))
		return 0;
	r = kvlist_add(list, "sig_id", 6, si.id_type, strlen(si.id_type), 0);
	if (r == 0)
		r = kvlist_add(list, "signer", 6, (const char *)si.signer, si.signer_len, 0);
	if (r == 0)
		r = add_hex(list, "sig_key", si.key_id, si.key_id_len);
	if (r == 0)
		r = kvlist_add(list, "sig_hashalgo", 12, si.hash_algo ? si.hash_algo : "",
			       si.hash_algo ? strlen(si.hash_algo) : 0, 0);
	if (r == 0)
		r = add_hex(list, "signature", si.sig, si.sig_len);
	signature_release(&si);
	return r;
}

/* modules.builtin.modinfo: "module.key=value" records separated by NULs; the records
 * of module name go into list. text must be NUL-terminated at len. */
int builtin_modinfo_parse(const char *text, size_t len, const char *name,
			  struct kmodx_kvlist *list)
{
	size_t nlen = strlen(name);
	int r = 0;

	for (const char *p = text, *end = text + len; p < end && r == 0;) {
		size_t slen = strnlen(p, (size_t)(end - p));

		if (slen > nlen && p[nlen] == '.' && memcmp(p, name, nlen) == 0)
			r = add_modinfo_string(list, p + nlen + 1, slen - nlen - 1);
		p += slen + 1;
	}
	return r;
}

static int builtin_info(struct kmodx_module *mod, struct kmodx_kvlist *list)
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r = ctx_module_path(mod->ctx, "modules.builtin.modinfo", path);

	if (r == 0)
		r = read_file_at(AT_FDCWD, path, (size_t)64 << 20, &text, &len);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return builtin_modinfo_parse(text, len, mod->name, list);
}

int module_get_modinfo(struct kmodx_module *mod, struct kmodx_kvlist *list, bool *builtin)
{
	struct elf *elf;
	int r = module_is_builtin(mod, builtin);

	if (r < 0)
		return r;
	if (*builtin)
		return builtin_info(mod, list);
	r = module_get_elf(mod, &elf);
	if (r < 0)
		return r;
	/* -ENODATA without .modinfo, as in kmod 34 (30: -ENOENT) */
	return elf_foreach_string(elf, ".modinfo", add_modinfo_string, list);
}

_public_ int kmodx_module_get_info(struct kmodx_module *mod, struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	bool builtin;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = kvlist_new(&list);
	if (r < 0)
		return r;
	r = module_get_modinfo(mod, list, &builtin);
	if (r == 0 && !builtin)
		r = add_signature(list, mod->file);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

static int add_symbol(void *data, const struct elf_symbol *sym)
{
	struct kmodx_kvlist *list = data;
	char bind[2] = {sym->bind, '\0'};

	return kvlist_add(list, sym->name, sym->namelen, bind, 1, sym->crc);
}

typedef int (*elf_iter_fn)(const struct elf *, elf_symbol_fn, void *);

static int symbols_list(struct kmodx_module *mod, elf_iter_fn iter,
			struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	struct elf *elf;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = module_get_elf(mod, &elf);
	if (r < 0)
		return r;
	r = kvlist_new(&list);
	if (r < 0)
		return r;
	r = iter(elf, add_symbol, list); /* -ENODATA without the table, as kmod 34 */
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_get_versions(struct kmodx_module *mod, struct kmodx_kvlist **out)
{
	return symbols_list(mod, elf_foreach_modversion, out);
}

_public_ int kmodx_module_get_symbols(struct kmodx_module *mod, struct kmodx_kvlist **out)
{
	return symbols_list(mod, elf_foreach_export, out);
}

_public_ int kmodx_module_get_dependency_symbols(struct kmodx_module *mod,
						 struct kmodx_kvlist **out)
{
	return symbols_list(mod, elf_foreach_undefined, out);
}

/* ---- configuration ---- */

_public_ const char *kmodx_module_get_options(struct kmodx_module *mod)
{
	struct strbuf sb = STRBUF_INIT;
	struct config *c;
	int r = 0;

	if (mod == NULL)
		return NULL;
	if (mod->options_known)
		return mod->options;
	c = ctx_get_config(mod->ctx, &r);
	for (size_t i = 0; c && i < c->options.n && r == 0; i++) {
		const struct cfg_option *o = c->options.v[i];

		if (!streq(o->name, mod->name) && !(mod->alias && streq(o->name, mod->alias)))
			continue;
		if (sb.len > 0)
			r = strbuf_putc(&sb, ' ');
		if (r == 0)
			r = strbuf_puts(&sb, o->options);
	}
	/* an unreadable configuration means no options; no memory must not be cached as
	 * "no options" */
	if (r == -ENOMEM || (r < 0 && c != NULL)) {
		strbuf_release(&sb);
		return NULL;
	}
	mod->options = strbuf_steal(&sb);
	mod->options_known = mod->options != NULL;
	return mod->options;
}

_public_ const char *kmodx_module_get_install_command(struct kmodx_module *mod)
{
	int r = 0;
	struct config *c = mod ? ctx_get_config(mod->ctx, &r) : NULL;

	return c ? config_find_install(c, mod->name) : NULL;
}

_public_ const char *kmodx_module_get_remove_command(struct kmodx_module *mod)
{
	int r = 0;
	struct config *c = mod ? ctx_get_config(mod->ctx, &r) : NULL;

	return c ? config_find_remove(c, mod->name) : NULL;
}

/* ---- modules.devname ---- */

_public_ int kmodx_get_devnodes(struct kmodx_ctx *ctx, struct kmodx_kvlist **out)
{
	_cleanup_(freep) char *text = NULL;
	struct kmodx_kvlist *list;
	char path[PATH_MAX], *save, *line;
	int r = ctx ? ctx_module_path(ctx, "modules.devname", path) : -EINVAL;

	if (r == 0)
		r = read_file_at(AT_FDCWD, path, (size_t)16 << 20, &text, NULL);
	if (r == 0)
		r = kvlist_new(&list);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
		char mod[256], dev[256], type;
		unsigned maj, min;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%255s %255s %c%u:%u", mod, dev, &type, &maj, &min) != 5 ||
		    (type != 'c' && type != 'b') || maj > 0xfffff || min > 0xfffff)
			continue;
		r = kvlist_add(list, mod, strlen(mod), dev, strlen(dev),
			       (uint64_t)(unsigned char)type << 40 | (uint64_t)maj << 20 | min);
	}
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}
