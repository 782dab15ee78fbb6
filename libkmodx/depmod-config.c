// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * depmod.d(5). Files: *.conf in /etc/depmod.d, /run/depmod.d, /usr/local/lib/depmod.d,
 * /usr/lib/depmod.d and /lib/depmod.d, sorted together by name, an earlier directory
 * hiding the same name later. Files and lines as conffile.c reads them (comments,
 * continuations):
 *
 *   search SUBDIR...           priority of subdirectories, the first listed wins;
 *                              "built-in" is everything else, "external" the
 *                              external directories. Default: search updates
 *   override MODULE KVER SUBDIR    MODULE from SUBDIR always wins
 *   external KVER DIR...       more directories to index, with absolute paths
 *   exclude NAME...            directory entries not to descend into
 *
 * KVER is "*" or an extended regular expression matched against the kernel release.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conffile.h"
#include "depmod-private.h"
#include "util/fileio.h"
#include "util/path.h"

#define DEPMOD_CONFIG_MAX ((size_t)1 << 20)

static const char *const default_dirs[] = {
	"/etc/depmod.d",
	"/run/depmod.d",
	"/usr/local/lib/depmod.d",
	"/usr/lib/depmod.d",
	"/lib/depmod.d",
};

/*
 * glibc's regcomp() expands repetitions, so a hostile "a{255}{255}" or "a+++++..." takes
 * gigabytes: refuse long patterns, many repetition operators and large bounds before
 * compiling. Kernel version patterns need none of that.
 */
static bool pattern_reasonable(const char *pattern)
{
	unsigned groups = 0, ops = 0;

	if (strlen(pattern) > 256)
		return false;
	for (const char *p = pattern; *p; p++) {
		bool op = *p == '*' || *p == '+' || *p == '?' || *p == '{';

		/* stacked repetitions ("a??++") are what blows up */
		if (op && p > pattern && strchr("*+?}", p[-1]))
			return false;
		ops += op;
	}
	if (ops > 8)
		return false;
	for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
		char *end;
		unsigned long n = strtoul(p + 1, &end, 10);

		if (++groups > 4 || n > 32)
			return false;
		if (*end == ',' && strtoul(end + 1, &end, 10) > 32)
			return false;
	}
	return true;
}

static bool kernel_matches(const char *pattern, const char *kver)
{
	regex_t re;
	bool ok;

	if (streq(pattern, "*"))
		return true;
	if (!pattern_reasonable(pattern))
		return false;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, kver, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static int add_search(struct dm_config *cfg, const char *word)
{
	struct dm_search *s = arena_zalloc(&cfg->arena, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->builtin = streq(word, "built-in");
	s->path = arena_strdup(&cfg->arena, word);
	s->len = strlen(word);
	if (s->path == NULL)
		return -ENOMEM;
	/* kmod prepends: the list ends up in reverse configuration order */
	if (ptrarray_push(&cfg->searches, NULL) < 0)
		return -ENOMEM;
	memmove(cfg->searches.v + 1, cfg->searches.v, (cfg->searches.n - 1) * sizeof(void *));
	cfg->searches.v[0] = s;
	return 0;
}

static int prepend(struct dm_config *cfg, struct ptrarray *a, void *p)
{
	(void)cfg;
	if (p == NULL || ptrarray_push(a, NULL) < 0)
		return -ENOMEM;
	memmove(a->v + 1, a->v, (a->n - 1) * sizeof(void *));
	a->v[0] = p;
	return 0;
}

static int add_override(struct dm_config *cfg, const char *mod, const char *subdir)
{
	struct dm_override *o = arena_zalloc(&cfg->arena, sizeof(*o));
	size_t ls = strlen(subdir), lm = strlen(mod);
	char *p;

	if (o == NULL)
		return -ENOMEM;
	p = arena_alloc(&cfg->arena, ls + lm + 2);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p, subdir, ls);
	p[ls] = '/';
	memcpy(p + ls + 1, mod, lm + 1);
	o->path = p;
	o->len = ls + 1 + lm;
	return prepend(cfg, &cfg->overrides, o);
}

#define next_word conf_next_word

/* One logical line: 1 if malformed, 0, or a negative errno. */
static int parse_line(struct kmodx_ctx *ctx, struct dm_config *cfg, const char *kver,
		      const char *file, unsigned linenum, const char *cmd, char *rest)
{
	char *a, *b, *c;
	int r = 0;

	if (streq(cmd, "search")) {
		while (r == 0 && (a = next_word(&rest)) != NULL)
			r = add_search(cfg, a);
		return r;
	}
	if (streq(cmd, "override")) {
		a = next_word(&rest);
		b = next_word(&rest);
		c = next_word(&rest);
		if (!a || !b || !c)
			return 1;
		if (!kernel_matches(b, kver)) {
			INFO(ctx, "%s:%u: override kernel did not match %s", file, linenum, b);
			return 0;
		}
		return add_override(cfg, a, c);
	}
	if (streq(cmd, "external")) {
		a = next_word(&rest);
		b = next_word(&rest);
		if (!a || !b)
			return 1;
		if (!kernel_matches(a, kver)) {
			INFO(ctx, "%s:%u: external kernel did not match %s", file, linenum, a);
			return 0;
		}
		for (; b && r == 0; b = next_word(&rest))
			r = prepend(cfg, &cfg->externals, arena_strdup(&cfg->arena, b));
		return r;
	}
	if (streq(cmd, "exclude")) {
		a = next_word(&rest);
		if (a == NULL)
			return 1;
		for (; a && r == 0; a = next_word(&rest)) {
			char *dup = arena_strdup(&cfg->arena, a);

			r = dup ? ptrarray_push(&cfg->excludes, dup) : -ENOMEM;
		}
		return r;
	}
	if (streq(cmd, "include") || streq(cmd, "make_map_files")) {
		INFO(ctx, "%s:%u: command %s not implemented yet", file, linenum, cmd);
		return 0;
	}
	return 1;
}

int dm_config_parse_text(struct kmodx_ctx *ctx, struct dm_config *cfg, const char *kver,
			 const char *name, char *text, size_t len)
{
	struct conf_reader rd;
	char *line, *cmd;
	unsigned linenum;
	int r;

	conf_reader_init(&rd, text, len, DEPMOD_CONFIG_MAX, "#", CONF_CONTINUATION);
	while ((r = conf_reader_next(&rd, &line, &linenum)) > 0) {
		cmd = next_word(&line);
		if (cmd == NULL)
			continue;
		r = parse_line(ctx, cfg, kver, name, linenum, cmd, line);
		if (r < 0)
			break;
		if (r == 1) {
			char shown[256];

			conf_printable(shown, sizeof(shown), cmd);
			ERR(ctx, "%s:%u: ignoring bad line starting with '%s'", name, linenum, shown);
		}
	}
	conf_reader_release(&rd);
	return r < 0 ? r : 0;
}

int dm_config_load(struct kmodx_ctx *ctx, const char *kver, const char *const *paths,
		   struct dm_config *cfg)
{
	struct ptrarray files = PTRARRAY_INIT;
	char buf[PATH_MAX];
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (paths == NULL) {
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(default_dirs); i++) {
			r = ctx_path(ctx, default_dirs[i], buf);
			if (r == 0)
				r = conf_files_add_dir(ctx, &files, buf, ".conf");
		}
	} else {
		for (size_t i = 0; r == 0 && paths[i]; i++) {
			struct stat st;

			if (stat(paths[i], &st) < 0)
				continue;
			r = S_ISDIR(st.st_mode) ? conf_files_add_dir(ctx, &files, paths[i], ".conf")
						: conf_files_add(&files, NULL, paths[i]);
		}
	}
	conf_files_sort(&files);
	for (size_t i = 0; r == 0 && i < files.n; i++) {
		const struct conf_file *f = files.v[i];
		_cleanup_(freep) char *text = NULL;
		size_t len;
		int e = read_file_at(AT_FDCWD, f->path, DEPMOD_CONFIG_MAX, &text, &len);

		if (e == -ENOMEM) {
			r = e; /* skipping the file would change the search order silently */
			break;
		}
		if (e < 0) {
			ERR(ctx, "%s: %s", f->path, e == -EFBIG ? "file too large" : strerror(-e));
			continue;
		}
		r = dm_config_parse_text(ctx, cfg, kver, f->path, text, len);
	}
	conf_files_release(&files);
	/* without any search line, "search updates" is implied */
	if (r == 0 && cfg->searches.n == 0)
		r = add_search(cfg, "updates");
	if (r < 0)
		dm_config_release(cfg);
	return r;
}

void dm_config_release(struct dm_config *cfg)
{
	ptrarray_release(&cfg->searches);
	ptrarray_release(&cfg->overrides);
	ptrarray_release(&cfg->externals);
	ptrarray_release(&cfg->excludes);
	arena_release(&cfg->arena);
}
