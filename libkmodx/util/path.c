// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

int underscores(char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '-':
			*s = '_';
			break;
		case '[': {
			char *close = strchr(s, ']');

			if (close == NULL)
				return -EINVAL;
			s = close;
			break;
		}
		case ']':
			return -EINVAL;
		}
	}
	return 0;
}

char *modname_normalize(const char *name, char *buf, size_t *len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && name[i] != '.'; i++) {
		if (i >= PATH_MAX - 1)
			return NULL;
		buf[i] = name[i] == '-' ? '_' : name[i];
	}
	buf[i] = '\0';
	if (len != NULL)
		*len = i;
	return buf;
}

char *modname_from_path(const char *path, char *buf)
{
	return modname_normalize(path_basename(path), buf, NULL);
}

bool path_has_module_ext(const char *path)
{
	static const char *const exts[] = {".ko", ".ko.gz", ".ko.xz", ".ko.zst"};

	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		if (strendswith(path, exts[i]))
			return true;
	}
	return false;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb;
	char *p;

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	lb = strlen(b);
	p = malloc(la + lb + 2);
	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

size_t path_dirlen(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

int mkdir_p(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
