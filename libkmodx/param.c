// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Module parameters: those a module declares (.modinfo "parm=name:description" and
 * "parmtype=name:type" entries) and those the kernel shows for a loaded or built-in
 * module in /sys/module/<name>/parameters/, one file per parameter whose permission
 * bits say who may read and change it at run time (the module's choice).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libkmodx-private.h"
#include "util/fileio.h"

/* sysfs shows at most a page; more means the file is not a parameter */
#define PARAM_VALUE_MAX ((size_t)64 << 10)

struct decl {
	const char *name, *desc, *type;
	size_t namelen;
};

static struct decl *find_decl(struct decl *v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].namelen == len && memcmp(v[i].name, name, len) == 0)
			return &v[i];
	}
	return NULL;
}

/* Merge one parm or parmtype entry into v (room for every entry is reserved). */
static void add_decl(struct kmodx_ctx *ctx, struct decl *v, size_t *n, const char *key,
		     const char *value)
{
	const char *colon = strchr(value, ':');
	struct decl *d;

	if (colon == NULL) {
		ERR(ctx, "Found invalid \"%s=%s\": missing ':'", key, value);
		return;
	}
	d = find_decl(v, *n, value, (size_t)(colon - value));
	if (d == NULL) {
		d = &v[(*n)++];
		*d = (struct decl){.name = value, .namelen = (size_t)(colon - value)};
	}
	if (streq(key, "parm"))
		d->desc = colon + 1;
	else
		d->type = colon + 1;
}

/* The declarations newest first: .modinfo holds them in reverse source order. */
static int decls_to_lists(const struct decl *v, size_t n, struct kmodx_kvlist *descs,
			  struct kmodx_kvlist *types)
{
	int r = 0;

	for (size_t i = n; r == 0 && i-- > 0;) {
		const char *d = v[i].desc, *t = v[i].type;

		r = kvlist_add(descs, v[i].name, v[i].namelen, d, d ? strlen(d) : 0,
			       d != NULL);
		if (r == 0)
			r = kvlist_add(types, v[i].name, v[i].namelen, t,
				       t ? strlen(t) : 0, t != NULL);
	}
	return r;
}

static int param_decls(struct kmodx_module *mod, struct kmodx_kvlist *descs,
		       struct kmodx_kvlist *types)
{
	struct kmodx_kvlist *info;
	struct decl *v;
	size_t n = 0;
	bool builtin;
	int r = kvlist_new(&info);

	if (r == 0)
		r = module_get_modinfo(mod, info, &builtin);
	v = r == 0 ? calloc(info->n + 1, sizeof(*v)) : NULL;
	if (r == 0 && v == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < info->n; i++) {
		const char *key = info->v[i].key;

		if (streq(key, "parm") || streq(key, "parmtype"))
			add_decl(mod->ctx, v, &n, key, info->v[i].value);
	}
	if (r == 0)
		r = decls_to_lists(v, n, descs, types);
	free(v);
	kmodx_kvlist_free(info);
	return r;
}

_public_ int kmodx_module_get_param_decls(struct kmodx_module *mod,
					  struct kmodx_kvlist **descriptions,
					  struct kmodx_kvlist **types)
{
	struct kmodx_kvlist *d = NULL, *t = NULL;
	int r;

	if (mod == NULL || descriptions == NULL || types == NULL)
		return -EINVAL;
	r = kvlist_new(&d);
	if (r == 0)
		r = kvlist_new(&t);
	if (r == 0)
		r = param_decls(mod, d, t);
	if (r < 0) {
		kmodx_kvlist_free(d);
		kmodx_kvlist_free(t);
		return r;
	}
	*descriptions = d;
	*types = t;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int names_in(DIR *d, struct ptrarray *names)
{
	struct dirent *de;
	int r = 0;

	while (r == 0 && (de = readdir(d)) != NULL) {
		char *name;

		if (de->d_name[0] == '.')
			continue;
		name = strdup(de->d_name);
		r = name ? ptrarray_push(names, name) : -ENOMEM;
		if (r < 0)
			free(name);
	}
	sort(names->v, names->n, sizeof(char *), cmp_names);
	return r;
}

/* One parameter file. A file gone meanwhile (the module is being removed) is left out. */
static int add_value(int dirfd, const char *name, struct kmodx_kvlist *list)
{
	_cleanup_(freep) char *value = NULL;
	uint64_t number;
	struct stat st;
	size_t len = 0;
	int r;

	if (fstatat(dirfd, name, &st, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	number = st.st_mode & 07777;
	r = read_file_at(dirfd, name, PARAM_VALUE_MAX, &value, &len);
	if (r == -ENOMEM)
		return r;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		number |= KMODX_PARAM_UNREADABLE;
	else if (len > 0 && value[len - 1] == '\n')
		len--; /* the kernel ends every value with one */
	return kvlist_add(list, name, strlen(name), value, len, number);
}

static int param_values(struct kmodx_module *mod, struct kmodx_kvlist *list)
{
	struct ptrarray names = PTRARRAY_INIT;
	char path[PATH_MAX];
	struct stat st;
	DIR *d;
	int r = sysmod_path(mod, NULL, path);

	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	r = sysmod_path(mod, "parameters", path);
	if (r < 0)
		return r;
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno; /* no parameters */
	r = names_in(d, &names);
	for (size_t i = 0; r == 0 && i < names.n; i++)
		r = add_value(dirfd(d), names.v[i], list);
	closedir(d);
	ptrarray_release_with(&names, free);
	return r;
}

_public_ int kmodx_module_get_param_values(struct kmodx_module *mod,
					   struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *list;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = kvlist_new(&list);
	if (r == 0)
		r = param_values(mod, list);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}

_public_ int kmodx_module_set_param_value(struct kmodx_module *mod, const char *name,
					  const char *value)
{
	char rel[PATH_MAX], path[PATH_MAX];
	int n;

	if (mod == NULL || name == NULL || value == NULL || *name == '\0' ||
	    strchr(name, '/') || streq(name, ".") || streq(name, ".."))
		return -EINVAL;
	n = snprintf(rel, sizeof(rel), "parameters/%s", name);
	if (n < 0 || (size_t)n >= sizeof(rel) || sysmod_path(mod, rel, path) < 0)
		return -ENAMETOOLONG;
	return kernel_write_param(mod->ctx, mod->name, name, path, value);
}

/* ---- where load-time values come from ---- */

/* The next word of the kernel's module argument syntax: blanks separate, double quotes
 * group (kept in the value, as the kernel's parser sees them). */
static char *next_arg(char **p)
{
	char *s = *p, *start;
	bool quoted = false;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	for (start = s; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"')
			quoted = !quoted;
	}
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

static int add_origins(struct kmodx_kvlist *list, const char *options, const char *origin)
{
	_cleanup_(freep) char *copy = strdup(options);
	char *p = copy, *word;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	while (r == 0 && (word = next_arg(&p)) != NULL) {
		char *eq = strchr(word, '=');
		size_t namelen = eq ? (size_t)(eq - word) : strlen(word);

		r = kvlist_add(list, word, namelen, eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0, 0);
		if (r == 0)
			r = kvlist_set_origin(list, origin);
	}
	return r;
}

_public_ int kmodx_module_get_param_origins(struct kmodx_module *mod,
					    struct kmodx_kvlist **out)
{
	struct kmodx_kvlist *config = NULL, *list = NULL;
	int r;

	if (mod == NULL || out == NULL)
		return -EINVAL;
	r = kmodx_module_get_config(mod, &config);
	if (r == 0)
		r = kvlist_new(&list);
	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(config); i++) {
		if (kmodx_kvlist_number(config, i) == KMODX_CONFIG_OPTIONS)
			r = add_origins(list, kmodx_kvlist_value(config, i),
					kmodx_kvlist_origin(config, i));
	}
	kmodx_kvlist_free(config);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}
