// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one reader under modprobe.d(5), depmod.d(5) and modules-load.d(5).
 *
 *   Files: the *.conf files of a list of directories, all sorted together by file name;
 *   a name found in an earlier directory hides the same name in later ones, which is
 *   also how a symbolic link to /dev/null (an empty file) masks a packaged file.
 *
 *   Lines: split at '\n'. With CONF_CONTINUATION a trailing backslash joins a line
 *   with the next (the newline goes, the next line's leading blanks stay). Empty lines
 *   and lines starting with one of the comment characters are skipped; with CONF_STRIP
 *   blanks around the line go first. Messages number a line by the last physical line
 *   it took.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conffile.h"
#include "libkmodx-private.h"
#include "util/path.h"

/* ---- files ---- */

static void conf_file_free(void *p)
{
	struct conf_file *f = p;

	free(f->path);
	free(f);
}

int conf_files_add(struct ptrarray *files, const char *dir, const char *name)
{
	struct conf_file *f;

	for (size_t i = 0; i < files->n; i++) {
		const struct conf_file *g = files->v[i];

		if (streq(g->name, path_basename(name)))
			return 0; /* an earlier directory already has this name */
	}
	f = malloc(sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->path = dir ? path_join(dir, name) : strdup(name);
	if (f->path == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->name = path_basename(f->path);
	if (ptrarray_push(files, f) < 0) {
		conf_file_free(f);
		return -ENOMEM;
	}
	return 0;
}

int conf_files_add_as(struct ptrarray *files, const char *path, const char *name)
{
	struct conf_file *f;
	int r;

	for (size_t i = 0; i < files->n; i++) {
		if (streq(((const struct conf_file *)files->v[i])->name, name))
			return 0;
	}
	r = conf_files_add(files, NULL, path);
	if (r < 0 || files->n == 0)
		return r;
	f = files->v[files->n - 1];
	if (streq(f->path, path))
		f->name = name;
	return 0;
}

static bool name_ok(const char *name, const char *suffix)
{
	size_t len = strlen(name), slen = strlen(suffix);

	return name[0] != '.' && len > slen && streq(name + len - slen, suffix);
}

int conf_files_add_dir(struct kmodx_ctx *ctx, struct ptrarray *files, const char *dir,
		       const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	/* an unreadable directory or entry costs its own configuration, not every lookup
	 */
	if (d == NULL) {
		if (errno != ENOENT && errno != ENOTDIR)
			ERR(ctx, "could not open directory %s: %s", dir, strerror(errno));
		return 0;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (!name_ok(de->d_name, suffix))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
			/* a dangling link is what an uninstalled package leaves behind */
			if (errno == ENOENT)
				DBG(ctx, "%s/%s: dangling symbolic link", dir,
				    de->d_name);
			else
				ERR(ctx, "%s/%s: %s", dir, de->d_name, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			ERR(ctx,
			    "Directories inside directories are not supported: %s/%s",
			    dir, de->d_name);
			continue;
		}
		r = conf_files_add(files, dir, de->d_name);
	}
	closedir(d);
	return r;
}

static int conf_file_cmp(const void *a, const void *b)
{
	const struct conf_file *fa = *(const struct conf_file *const *)a;
	const struct conf_file *fb = *(const struct conf_file *const *)b;

	return strcmp(fa->name, fb->name);
}

void conf_files_sort(struct ptrarray *files)
{
	sort(files->v, files->n, sizeof(void *), conf_file_cmp);
}

void conf_files_release(struct ptrarray *files)
{
	ptrarray_release_with(files, conf_file_free);
}

/* ---- lines ---- */

void conf_reader_init(struct conf_reader *r, const char *text, size_t len, size_t max,
		      const char *comments, unsigned flags)
{
	*r = (struct conf_reader){
		.p = text,
		.end = text + len,
		.comments = comments,
		.flags = flags,
		.max = max,
		.line = {.max = max + 1},
	};
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Append n bytes, keeping at most max: the rest of an over-long line is dropped. */
static int append(struct conf_reader *r, const char *s, size_t n)
{
	if (r->line.len + n > r->max) {
		r->cut = true;
		n = r->max - r->line.len;
	}
	return strbuf_append(&r->line, s, n);
}

/* One logical line, joined, into r->line: its text, or NULL for -ENOMEM. */
static char *join_line(struct conf_reader *r)
{
	strbuf_clear(&r->line);
	r->cut = false;
	while (r->p < r->end) {
		const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
		size_t n = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
		bool more =
			(r->flags & CONF_CONTINUATION) && n > 0 && r->p[n - 1] == '\\';
		int e = append(r, r->p, more ? n - 1 : n);

		r->linenum++;
		r->p = nl ? nl + 1 : r->end;
		if (e < 0)
			return NULL;
		if (!more)
			break;
	}
	return (char *)strbuf_str(&r->line);
}

static char *strip(char *s)
{
	char *e;

	while (is_blank(*s) || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (is_blank(e[-1]) || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int conf_reader_next(struct conf_reader *r, char **line, unsigned *linenum)
{
	while (r->p < r->end) {
		char *s = join_line(r);

		if (s == NULL)
			return -ENOMEM;
		if (r->flags & CONF_STRIP)
			s = strip(s);
		/* an embedded NUL ends the line, as it does for kmod's getline() use */
		if (s[0] == '\0' || strchr(r->comments, s[0]))
			continue;
		*line = s;
		*linenum = r->linenum;
		return 1;
	}
	return 0;
}

void conf_reader_release(struct conf_reader *r)
{
	strbuf_release(&r->line);
}

/* ---- words ---- */

char *conf_next_word(char **p)
{
	char *s = *p, *w;

	while (is_blank(*s))
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s && !is_blank(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

void conf_printable(char *buf, size_t size, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
}
