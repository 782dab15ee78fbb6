// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * depmod's outputs. Every file is built in memory, then all of them are written to
 * temporary files in the output directory and flushed; only when every one of them
 * made it to disk are they renamed over the old ones. A failure anywhere (disk full,
 * read-only directory, file size limit) leaves every old index in place, and a run
 * killed at any moment leaves each index either old or new, never half written.
 *
 * Temporary files are named ".<index>.kmodx-tmp.<pid>.<n>"; those left behind by a
 * killed run (their pid no longer exists) are removed by the next run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depmod-private.h"
#include "index-write.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strbuf.h"

#define TMP_TAG ".kmodx-tmp."

struct output {
	const char *name;
	bool binary;
	bool skip; /* nothing to write (binary files with -n) */
	bool kept; /* left as it is on disk: neither built nor written */
	int fd;	   /* the temporary file, written, open until write_files() closes it */
	int err;   /* writing the temporary file failed (not logged yet) */
	bool synced;  /* fd's data is on the disk (the flusher's fdatasync() returned) */
	int sync_err; /* ... or what it failed with: not to be asked again, Linux says
		       * an error once */
	uint8_t *data;
	size_t len;
	char tmp[NAME_MAX + 1];
};

static const struct {
	const char *name;
	bool binary;
} files[DM_OUTPUTS] = {
	[DM_OUT_DEP] = {"modules.dep", false},
	[DM_OUT_DEP_BIN] = {"modules.dep.bin", true},
	[DM_OUT_ALIAS] = {"modules.alias", false},
	[DM_OUT_ALIAS_BIN] = {"modules.alias.bin", true},
	[DM_OUT_SOFTDEP] = {"modules.softdep", false},
	[DM_OUT_WEAKDEP] = {"modules.weakdep", false},
	[DM_OUT_SYMBOLS] = {"modules.symbols", false},
	[DM_OUT_SYMBOLS_BIN] = {"modules.symbols.bin", true},
	[DM_OUT_BUILTIN_BIN] = {"modules.builtin.bin", true},
	[DM_OUT_BUILTIN_ALIAS_BIN] = {"modules.builtin.alias.bin", true},
	[DM_OUT_DEVNAME] = {"modules.devname", false},
};

/* The indexes built by one function, as text and binary. */
static const enum dm_output twins[][2] = {
	{DM_OUT_DEP, DM_OUT_DEP_BIN},
	{DM_OUT_ALIAS, DM_OUT_ALIAS_BIN},
	{DM_OUT_SYMBOLS, DM_OUT_SYMBOLS_BIN},
};

static const char *mod_path(const struct dm_module *m)
{
	return m->idxpath;
}

/* Append the strings of a NULL-terminated list: the indexes have hundreds of thousands of
 * lines, and printf's format parsing (twice, to measure first) showed in every profile.
 */
static int strbuf_cat(struct strbuf *sb, const char *const *parts)
{
	size_t len[8], total = 0, n;
	int r;

	for (n = 0; parts[n]; n++)
		total += len[n] = strlen(parts[n]);
	r = strbuf_reserve(sb, total);
	for (size_t i = 0; i < n && r == 0; i++) {
		memcpy(sb->buf + sb->len, parts[i], len[i]);
		sb->len += len[i];
	}
	return r;
}

/* The text an index was built into (out, if r is 0) becomes its data; out is released.
 * r, or -ENOMEM. */
static int take_text(struct output *text, struct strbuf *out, int r)
{
	if (r == 0) {
		text->len = out->len;
		text->data = (uint8_t *)strbuf_steal(out);
		r = text->data ? 0 : -ENOMEM;
	}
	strbuf_release(out);
	return r;
}

#define CAT(sb, ...)                                                                     \
	({                                                                               \
		const char *const parts_[] = {__VA_ARGS__, NULL};                        \
		_Static_assert(ARRAY_SIZE(parts_) <= 8, "CAT: at most 7 strings");       \
		strbuf_cat((sb), parts_);                                                \
	})

/* Whether index i is known to be as the cache's run left it (map_previous() may tell
 * otherwise). */
static bool previous_known(const struct depmod *d, enum dm_output i)
{
	const struct dm_filekey zero = {0};

	return !dm_filekey_equal(&d->out_prev[i], &zero);
}

/* Index i as the cache's run left it, mapped writable (a private copy), if it is still
 * that file: else NULL. */
static uint8_t *map_previous(const struct depmod *d, int dfd, enum dm_output i, size_t *len)
{
	const struct dm_filekey *want = &d->out_prev[i];
	struct dm_filekey key;
	struct stat st;
	void *img = MAP_FAILED;
	int fd;

	if (dfd < 0 || !previous_known(d, i))
		return NULL;
	fd = openat(dfd, files[i].name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		dm_filekey_from_stat(&key, &st);
		*len = (size_t)st.st_size;
		if (dm_filekey_equal(&key, want))
			img = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	}
	close(fd);
	return img == MAP_FAILED ? NULL : img;
}

/* What building index i from the file the cache's run wrote gave (r): done (*done), an
 * error, or -EBADMSG, the file not what the cache says it is: then it is built anew. */
static int tried_previous(const struct depmod *d, enum dm_output i, int r, bool *done)
{
	*done = r == 0;
	if (r != -EBADMSG)
		return r;
	DBG(d->ctx, "%s/%s does not fit the cache: built anew", d->outdir, files[i].name);
	return 0;
}

/* ---- modules.dep ---- */

struct closure {
	uint32_t *mark; /* generation per module */
	uint32_t gen;
	struct dm_module **list;
	size_t n;
};

static void closure_walk(struct closure *c, const struct dm_module *m)
{
	for (size_t i = 0; i < m->n_deps; i++) {
		struct dm_module *dep = m->deps[i];

		if (c->mark[dep->idx] == c->gen)
			continue;
		c->mark[dep->idx] = c->gen;
		c->list[c->n++] = dep;
		closure_walk(c, dep);
	}
}

static int by_dep_sort_idx(const void *a, const void *b)
{
	uint32_t x = (*(struct dm_module *const *)a)->dep_sort_idx;
	uint32_t y = (*(struct dm_module *const *)b)->dep_sort_idx;

	return x < y ? -1 : (x > y);
}

/* "<path>:" and the paths of every dependency, direct or not, the ones used by others
 * first (so modprobe loads them right to left). */
static int dep_line(const struct depmod *d, struct closure *c, const struct dm_module *m,
		    struct strbuf *sb)
{
	int r = CAT(sb, mod_path(m), ":");

	c->gen++;
	c->n = 0;
	closure_walk(c, m);
	/* (most closures are a handful of modules) */
	sort_small(c->list, c->n, sizeof(*c->list), by_dep_sort_idx);
	for (size_t i = 0; i < c->n && r == 0; i++)
		r = CAT(sb, " ", mod_path(c->list[i]));
	(void)d;
	return r;
}

/* The old lines of modules.dep (text, as the cache's run wrote it), one per module of
 * that run: 0 or -EBADMSG. */
static int old_lines(uint8_t *text, size_t len, const struct dm_positions *pos,
		     const char **line, size_t *line_len)
{
	uint8_t *p = text, *end = text + len;
	uint32_t n = 0;

	while (p < end) {
		uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL || n == pos->n)
			return -EBADMSG;
		line[n] = (const char *)p;
		line_len[n++] = (size_t)(nl - p);
		p = nl + 1;
	}
	return n == pos->n ? 0 : -EBADMSG;
}

/* The key of an old line of modules.dep: its module's name, from its path. */
static const char *old_line_key(const char *line, size_t len, char buf[PATH_MAX])
{
	const char *colon = memchr(line, ':', len);
	char path[PATH_MAX];
	size_t n;

	if (colon == NULL || (size_t)(colon - line) >= sizeof(path))
		return NULL;
	memcpy(path, line, (size_t)(colon - line));
	path[colon - line] = '\0';
	return modname_normalize(path_basename(path), buf, &n);
}

/*
 * modules.dep.bin from the file the cache's run wrote (img), the old modules.dep (text)
 * telling which lines changed: the values of the modules gone, read again, or whose line
 * is not the same are dropped (their keys visited), the others moved to their new
 * positions, and the new lines added. 0, or -EBADMSG when the files turn out not to be
 * what the cache says they are.
 */
static int dep_trie_from(struct depmod *d, const char *lines, const size_t *at, uint8_t *img,
			 size_t len, uint8_t *text, size_t text_len, struct dm_positions *pos,
			 struct output *bin)
{
	const char **old = malloc(((size_t)pos->n + 1) * sizeof(*old));
	size_t *old_len = malloc(((size_t)pos->n + 1) * sizeof(*old_len));
	bool *add = calloc(d->n_mods + 1, sizeof(*add));
	struct trie *t = NULL;
	char buf[PATH_MAX];
	int r = old && old_len && add ? old_lines(text, text_len, pos, old, old_len) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		uint32_t was = pos->was[i];
		size_t n = at[i + 1] - at[i] - 1;

		if (was == UINT32_MAX || n != old_len[was] || memcmp(lines + at[i], old[was], n)) {
			add[i] = true;
			if (was != UINT32_MAX)
				pos->now[was] = UINT32_MAX; /* the old line goes */
		}
	}
	if (r == 0)
		r = trie_open(&t, img, len, dm_positions_move, pos);
	for (uint32_t p = 0; r == 0 && p < pos->n; p++) {
		const char *key = pos->now[p] == UINT32_MAX
					  ? old_line_key(old[p], old_len[p], buf)
					  : NULL;

		if (key)
			r = trie_visit(t, key);
	}
	for (size_t i = 0; r == 0 && i < d->n_mods; i++) {
		if (add[i])
			r = trie_add_static(t, d->mods[i]->modname, lines + at[i], d->mods[i]->idx);
		r = r == 1 ? 0 : r; /* a value already there is kept, as the full build does */
	}
	if (r == 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	free(old);
	free(old_len);
	free(add);
	return r < 0 ? r : 0;
}

/* modules.dep.bin: each module's line of modules.dep (lines, at[idx] where it starts,
 * NUL-terminated) under its name. After a run with the cache, built from the file on
 * disk, as modules.alias.bin is (build_alias_trie()). */
static int build_dep_trie(struct depmod *d, int dfd, const char *lines, const size_t *at,
			  struct output *bin)
{
	struct dm_positions pos = {NULL, NULL, 0};
	size_t len = 0, text_len = 0;
	uint8_t *img = map_previous(d, dfd, DM_OUT_DEP_BIN, &len);
	uint8_t *text = img ? map_previous(d, dfd, DM_OUT_DEP, &text_len) : NULL;
	int r = text ? dm_cache_positions(d, &pos) : 0;
	bool done = false;
	struct trie *t = NULL;

	if (r > 0) {
		r = tried_previous(d, DM_OUT_DEP_BIN,
				   dep_trie_from(d, lines, at, img, len, text, text_len, &pos, bin),
				   &done);
		dm_positions_release(&pos);
	}
	if (img)
		munmap(img, len);
	if (text)
		munmap(text, text_len);
	if (r < 0 || done)
		return r;
	r = trie_new(&t);
	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		r = trie_add_static(t, m->modname, lines + at[i], m->idx);
		if (r == 1 && d->opts->warn_dups)
			WARN(d->ctx, "duplicate module deps:\n%s", lines + at[i]);
		r = r == 1 ? 0 : r;
	}
	if (r == 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	return r;
}

static int build_deps(struct depmod *d, int dfd, struct output *text, struct output *bin)
{
	struct closure c = {calloc(d->n_mods, sizeof(uint32_t)), 0,
			    calloc(d->n_mods + 1, sizeof(struct dm_module *)), 0};
	size_t *at = malloc((d->n_mods + 1) * sizeof(*at));
	struct strbuf out = STRBUF_INIT;
	int r = c.mark && c.list && at ? 0 : -ENOMEM;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		at[i] = out.len;
		r = dep_line(d, &c, d->mods[i], &out);
		if (r == 0)
			r = strbuf_putc(&out, '\n');
	}
	if (r == 0 && !bin->skip) {
		/* the lines as the trie's values: NUL-terminated in place until it is
		 * written */
		at[d->n_mods] = out.len;
		for (size_t i = 1; i <= d->n_mods; i++)
			out.buf[at[i] - 1] = '\0';
		r = build_dep_trie(d, dfd, out.buf, at, bin);
		for (size_t i = 1; i <= d->n_mods; i++)
			out.buf[at[i] - 1] = '\n';
	}
	r = take_text(text, &out, r);
	free(at);
	free(c.mark);
	free(c.list);
	return r;
}

/* ---- aliases, soft and weak dependencies ---- */

/* A copy of the alias with '-' turned into '_' outside brackets; NULL (with kmod's
 * warning) for unmatched brackets. */
static const char *normalized_alias(const struct depmod *d, const char *alias, char *buf)
{
	size_t len;

	if (strpbrk(alias, "-[]") == NULL)
		return alias; /* nothing to change, as for most of them */
	len = strlen(alias);
	if (len >= PATH_MAX)
		return NULL;
	memcpy(buf, alias, len + 1);
	if (underscores(buf) < 0) {
		WARN(d->ctx, "Unmatched bracket in %s", alias);
		return NULL;
	}
	return buf;
}

/* modules.alias: the aliases as the modules have them. */
static int build_alias_text(struct depmod *d, struct output *text)
{
	struct strbuf out = STRBUF_INIT;
	int r = strbuf_puts(&out, "# Aliases extracted from modules themselves.\n");

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_aliases && r == 0; j++)
			r = CAT(&out, "alias ", m->aliases[j], " ", m->modname, "\n");
	}
	return take_text(text, &out, r);
}

/* Whether building alias would say something: a byte beyond 7-bit ASCII, or unmatched
 * brackets. */
static bool alias_noted(const char *alias)
{
	char buf[PATH_MAX];
	size_t len = strlen(alias);

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)alias[i] >= 0x80)
			return true;
	}
	if (len >= sizeof(buf))
		return false; /* (too long: an error, not a note) */
	memcpy(buf, alias, len + 1);
	return underscores(buf) < 0;
}

/* The aliases of the modules (only_read: of those read in this run) added to t, which
 * then goes to bin. */
static int fill_alias_trie(struct depmod *d, struct trie *t, bool only_read, struct output *bin)
{
	char buf[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; j < m->n_aliases && r == 0 && !(only_read && m->from_cache);
		     j++) {
			const char *key = normalized_alias(d, m->aliases[j], buf);

			if (key == NULL)
				continue;
			r = trie_add_static(t, key, m->modname, m->idx);
			if (r == 1 && d->opts->warn_dups)
				WARN(d->ctx, "duplicate module alias:\n%s %s", key, m->modname);
			if (r == -EILSEQ)
				ERR(d->ctx,
				    "Module index: bad character in alias '%s' of %s - "
				    "only 7-bit ASCII is supported",
				    m->aliases[j], m->modname);
			r = r == 1 || r == -EILSEQ ? 0 : r;
		}
	}
	return r == 0 ? trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len) : r;
}

struct visit {
	const struct depmod *d;
	struct trie *t;
	char buf[PATH_MAX];
};

static int visit_alias(void *data, const char *alias)
{
	struct visit *v = data;
	const char *key = alias_noted(alias) ? NULL : normalized_alias(v->d, alias, v->buf);

	return key ? trie_visit(v->t, key) : 0;
}

/* modules.alias.bin from the file the cache's run wrote (img): 0, or -EBADMSG when img
 * turns out not to be what the cache says it is. */
static int alias_trie_from(struct depmod *d, uint8_t *img, size_t len,
			   struct dm_positions *pos, struct output *bin)
{
	struct visit *v = malloc(sizeof(*v));
	int r = v ? trie_open(&v->t, img, len, dm_positions_move, pos) : -ENOMEM;

	if (r == 0) {
		v->d = d;
		/* the values to drop, on the paths of their keys */
		r = dm_cache_foreach_dropped(d, DM_DROPPED_ALIASES, visit_alias, v);
		if (r == 0)
			r = fill_alias_trie(d, v->t, true, bin);
		trie_free(v->t);
	}
	free(v);
	return r;
}

/* Whether a module read in this run has an alias building it would say something of:
 * then it is built from scratch, so that a file that turns out unusable half way has
 * not said it already. */
static bool read_aliases_noted(const struct depmod *d)
{
	for (size_t i = 0; i < d->n_mods; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; !m->from_cache && j < m->n_aliases; j++) {
			if (alias_noted(m->aliases[j]))
				return true;
		}
	}
	return false;
}

/*
 * modules.alias.bin: the trie of every module's aliases, each with the module's position
 * as its priority. After a run with the cache, most of it is the file on disk: that file
 * is opened as a trie (index-write.h: only the nodes on the paths of the keys that
 * change are read, the rest copied with each value moved to its module's new position),
 * the values of the modules gone or read again are dropped, and only the aliases of the
 * modules read in this run are added, which gives what adding them all gives (test:
 * differential-depmod-cache).
 */
static int build_alias_trie(struct depmod *d, int dfd, struct output *bin)
{
	struct dm_positions pos = {NULL, NULL, 0};
	struct trie *t = NULL;
	size_t len = 0;
	uint8_t *img = bin->skip ? NULL : map_previous(d, dfd, DM_OUT_ALIAS_BIN, &len);
	int r = img && !read_aliases_noted(d) ? dm_cache_positions(d, &pos) : 0;
	bool done = false;

	if (r > 0) {
		r = tried_previous(d, DM_OUT_ALIAS_BIN, alias_trie_from(d, img, len, &pos, bin),
				   &done);
		dm_positions_release(&pos);
	}
	if (img)
		munmap(img, len);
	if (r < 0 || done || bin->skip)
		return r;
	r = trie_new(&t);
	if (r == 0)
		r = fill_alias_trie(d, t, false, bin);
	trie_free(t);
	return r;
}

static int build_deplist(struct depmod *d, struct output *text, const char *header,
			 const char *keyword, bool soft)
{
	struct strbuf out = STRBUF_INIT;
	int r = strbuf_puts(&out, header);

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];
		const char **v = soft ? m->softdeps : m->weakdeps;
		size_t n = soft ? m->n_softdeps : m->n_weakdeps;

		for (size_t j = 0; j < n && r == 0; j++)
			r = CAT(&out, keyword, " ", m->modname, " ", v[j], "\n");
	}
	return take_text(text, &out, r);
}

/* ---- symbols ---- */

/* kmod's order: its hash table's 2048 buckets, strcmp() within one */
static int symbol_order(const void *a, const void *b)
{
	const struct dm_symbol *x = *(const struct dm_symbol *const *)a;
	const struct dm_symbol *y = *(const struct dm_symbol *const *)b;
	uint32_t bx = x->hash & 2047, by = y->hash & 2047;

	return bx != by ? (bx < by ? -1 : 1) : strcmp(x->name, y->name);
}

/* kmod iterates its 2048-bucket hash table: reproduce that order, by bucket first
 * (a counting sort), then strcmp() within each bucket, which holds a handful. */
static int order_symbols(struct dm_symbol **syms, size_t n)
{
	size_t start[2049] = {0};
	struct dm_symbol **tmp;

	if (n == 0)
		return 0; /* (syms may be NULL: an empty array) */
	tmp = malloc(n * sizeof(*tmp));
	if (tmp == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		start[(syms[i]->hash & 2047) + 1]++;
	for (size_t b = 1; b <= 2048; b++)
		start[b] += start[b - 1];
	for (size_t i = 0; i < n; i++)
		tmp[start[syms[i]->hash & 2047]++] = syms[i];
	/* start[b] is now where bucket b ends */
	for (size_t b = 0, from = 0; b < 2048; from = start[b++])
		sort(tmp + from, start[b] - from, sizeof(*tmp), symbol_order);
	memcpy(syms, tmp, n * sizeof(*tmp));
	free(tmp);
	return 0;
}

static const char symbols_header[] = "# Aliases for symbols, used by symbol_request().\n";

/* The symbols with an owner (all: every symbol, else those in v), in kmod's order. */
static int symbols_in_order(struct depmod *d, bool all, struct ptrarray *v)
{
	size_t n = 0;

	if (all && ptrarray_reserve(v, d->symbols.count) < 0)
		return -ENOMEM;
	for (size_t i = 0; all && i < d->symbols.n_slots; i++) {
		const struct hash_entry *e = &d->symbols.slots[i];

		if (e->key)
			v->v[v->n++] = e->value;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (((struct dm_symbol *)v->v[i])->owner)
			v->v[n++] = v->v[i];
	}
	v->n = n;
	return order_symbols((struct dm_symbol **)v->v, n);
}

static int symbol_line(struct strbuf *out, const struct dm_symbol *s)
{
	return CAT(out, "alias symbol:", s->name, " ", s->owner->modname, "\n");
}

/* Add s to t, as depmod does: a symbol beyond 7-bit ASCII is only in the text. */
static int symbol_add(const struct depmod *d, struct trie *t, struct strbuf *key,
		      const struct dm_symbol *s)
{
	int r;

	strbuf_clear(key);
	r = CAT(key, "symbol:", s->name);
	if (r == 0)
		r = trie_add_static(t, strbuf_str(key), s->owner->modname, s->owner->idx);
	if (r == 1 && d->opts->warn_dups)
		WARN(d->ctx, "duplicate module syms:\n%s %s", strbuf_str(key),
		     s->owner->modname);
	return r == 1 || r == -EILSEQ ? 0 : r;
}

static int build_symbols(struct depmod *d, struct output *text, struct output *bin)
{
	struct ptrarray syms = {0};
	struct strbuf out = STRBUF_INIT, key = STRBUF_INIT;
	struct trie *t = NULL;
	int r = symbols_in_order(d, true, &syms);

	if (r == 0)
		r = strbuf_puts(&out, symbols_header);
	if (r == 0 && !bin->skip)
		r = trie_new(&t);
	for (size_t i = 0; i < syms.n && r == 0; i++) {
		r = symbol_line(&out, syms.v[i]);
		if (r == 0 && t)
			r = symbol_add(d, t, &key, syms.v[i]);
	}
	if (r == 0 && t)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	r = take_text(text, &out, r);
	strbuf_release(&key);
	ptrarray_release(&syms);
	return r;
}

/*
 * modules.symbols and its .bin from the files the cache's run wrote. With the modules
 * from the cache in their order, a name changes hands only if a module that exports it
 * is gone or read again, or exports it now (depmod-resolve.c): those names (changed) are
 * the only ones whose lines and keys change, the others' only their priorities, which
 * the .bin gives as module positions. 0 or -EBADMSG, the files not what the cache says.
 */
struct changed_symbols {
	struct depmod *d;
	struct ptrarray v;
};

static int changed_dropped(void *data, const char *name)
{
	struct changed_symbols *c = data;
	struct dm_symbol *s = hash_find(&c->d->symbols, dm_symbol_key(c->d, name, false));

	/* (interned by the resolution: dm_resolve() with DM_OWNERS_CHANGED) */
	return s == NULL ? -EBADMSG : ptrarray_push(&c->v, s);
}

/* The changed names, those with an owner in kmod's order, none twice. */
static int changed_symbols(struct depmod *d, struct ptrarray *v)
{
	struct changed_symbols c = {d, {0}};
	int r = dm_cache_foreach_dropped(d, DM_DROPPED_EXPORTS, changed_dropped, &c);
	size_t n = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];

		for (size_t j = 0; !m->from_cache && j < m->n_exports && r == 0; j++)
			r = ptrarray_push(&c.v, m->exports[j].sym);
	}
	*v = c.v;
	/* the owned ones sorted, then each once; the others left out */
	if (r == 0)
		r = symbols_in_order(d, false, v);
	for (size_t i = 0; i < v->n && r == 0; i++) {
		if (n == 0 || v->v[n - 1] != v->v[i])
			v->v[n++] = v->v[i];
	}
	v->n = n;
	return r;
}

/* Where s's line is or would go among the old lines (at[], n of them), by kmod's order:
 * the first that is not before it; *same if that line is s's. */
static size_t symbol_line_at(const char *text, const size_t *at, size_t n,
			     const struct dm_symbol *s, bool *same)
{
	size_t lo = 0, hi = n, slen = strlen(s->name);
	uint32_t bucket = s->hash & 2047;

	*same = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *name = text + at[mid] + strlen("alias symbol:");
		size_t len = strcspn(name, " ");
		uint32_t b = superfasthash(name, len) & 2047;
		int c = b != bucket ? (b < bucket ? -1 : 1) : memcmp(name, s->name, MIN(len, slen));

		if (c == 0 && len != slen)
			c = len < slen ? -1 : 1;
		if (c < 0) {
			lo = mid + 1;
		} else {
			*same = c == 0;
			hi = mid;
		}
	}
	return lo;
}

/* The old text's lines (*at, *n), checked to be what build_symbols() writes. */
static int symbol_lines(const char *text, size_t len, size_t **at, size_t *n)
{
	size_t hlen = strlen(symbols_header), k = 0, cap = len / 32 + 1;
	size_t *v = malloc(cap * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	if (len < hlen || memcmp(text, symbols_header, hlen) != 0 || text[len - 1] != '\n')
		goto bad;
	for (size_t p = hlen; p < len; k++) {
		const char *nl = memchr(text + p, '\n', len - p);
		const char *sp = memchr(text + p, ' ', (size_t)(nl - text) - p);

		if (!strstartswith(text + p, "alias symbol:") || sp == NULL ||
		    memchr(text + p, '\0', (size_t)(nl - text) - p))
			goto bad;
		if (k == cap) {
			size_t *w = realloc(v, 2 * cap * sizeof(*v));

			if (w == NULL) {
				free(v);
				return -ENOMEM;
			}
			v = w, cap *= 2;
		}
		v[k] = p;
		p = (size_t)(nl - text) + 1;
	}
	*at = v;
	*n = k;
	return 0;
bad:
	free(v);
	return -EBADMSG;
}

static int symbols_text_from(const char *old, size_t len, const struct ptrarray *changed,
			     struct output *text)
{
	struct strbuf out = STRBUF_INIT;
	size_t *at = NULL, n = 0, from = 0;
	int r = symbol_lines(old, len, &at, &n);

	if (r == 0)
		r = strbuf_reserve(&out, len + 128 * changed->n);
	if (r == 0)
		r = strbuf_append(&out, old, at ? (n ? at[0] : len) : 0);
	for (size_t i = 0; i < changed->n && r == 0; i++) {
		bool same;
		size_t k = symbol_line_at(old, at, n, changed->v[i], &same);

		if (k < from)
			r = -EBADMSG; /* the old lines out of order */
		if (r == 0 && k > from)
			r = strbuf_append(&out, old + at[from], (k < n ? at[k] : len) - at[from]);
		from = k + same;
		if (r == 0)
			r = symbol_line(&out, changed->v[i]);
	}
	if (r == 0 && from < n)
		r = strbuf_append(&out, old + at[from], len - at[from]);
	free(at);
	return take_text(text, &out, r);
}

static int symbols_trie_from(struct depmod *d, uint8_t *img, size_t len,
			     struct dm_positions *pos, const struct ptrarray *changed,
			     struct output *bin)
{
	struct strbuf key = STRBUF_INIT;
	struct trie *t = NULL;
	int r = trie_open(&t, img, len, dm_positions_move, pos);

	for (size_t i = 0; i < changed->n && r == 0; i++) {
		const struct dm_symbol *s = changed->v[i];

		strbuf_clear(&key);
		r = CAT(&key, "symbol:", s->name);
		if (r == 0)
			r = trie_drop(t, strbuf_str(&key));
		if (r == 0)
			r = symbol_add(d, t, &key, s);
	}
	if (r == 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	strbuf_release(&key);
	return r;
}

static int symbols_from(struct depmod *d, int dfd, struct output *text, struct output *bin)
{
	struct dm_positions pos = {NULL, NULL, 0};
	struct ptrarray changed = {0};
	size_t tlen = 0, blen = 0;
	uint8_t *old = map_previous(d, dfd, DM_OUT_SYMBOLS, &tlen);
	uint8_t *img = old ? map_previous(d, dfd, DM_OUT_SYMBOLS_BIN, &blen) : NULL;
	int r = img ? dm_cache_positions(d, &pos) : 0;

	if (r > 0) {
		r = changed_symbols(d, &changed);
		/* no name changed hands: modules.symbols is the file there, to the byte
		 * (an override moves only the .bin's priorities), not copied to compare */
		if (r == 0 && changed.n > 0)
			r = symbols_text_from((const char *)old, tlen, &changed, text);
		if (r == 0)
			r = symbols_trie_from(d, img, blen, &pos, &changed, bin);
		text->kept = r == 0 && changed.n == 0;
		if (r < 0) {
			free(text->data);
			text->data = NULL;
		}
	} else if (r == 0) {
		r = 1; /* not to be done so */
	}
	ptrarray_release(&changed);
	dm_positions_release(&pos);
	if (img)
		munmap(img, blen);
	if (old)
		munmap(old, tlen);
	return r;
}

/* ---- builtin modules ---- */

/* An empty but valid index (kmod leaves a 0-byte file, which libkmod cannot open). */
static int empty_index(struct output *bin)
{
	struct trie *t = NULL;
	int r = trie_new(&t);

	if (r == 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	return r;
}

static int read_input(struct depmod *d, const char *name, char **text, size_t *len)
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", d->moddir, name);
	r = read_file_at(AT_FDCWD, path, (size_t)64 << 20, text, len);
	if (r < 0)
		WARN(d->ctx, "could not open %s at %s: %s", name, d->moddir, strerror(-r));
	return r;
}

static int build_builtin(struct depmod *d, struct output *bin)
{
	_cleanup_(freep) char *text = NULL;
	struct trie *t = NULL; /* trie_free(NULL) if trie_new() fails */
	char *save, *line, name[PATH_MAX];
	size_t len;
	int r = read_input(d, "modules.builtin", &text, &len);

	if (r == -ENOMEM)
		return r; /* only a missing or unreadable input gives the empty index */
	if (r < 0)
		return empty_index(bin);
	r = trie_new(&t);
	for (line = strtok_r(text, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save)) {
		if (!((line[0] >= 'a' && line[0] <= 'z') || (line[0] >= 'A' && line[0] <= 'Z'))) {
			ERR(d->ctx, "Invalid modules.builtin line: %s", line);
			continue;
		}
		if (modname_from_path(line, name) == NULL)
			continue;
		r = trie_add(t, name, "", 0);
		r = r == 1 || r == -EILSEQ ? 0 : r;
	}
	if (r >= 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	return r;
}

static int build_builtin_alias(struct depmod *d, struct output *bin)
{
	_cleanup_(freep) char *text = NULL;
	struct trie *t = NULL; /* trie_free(NULL) if trie_new() fails */
	char buf[PATH_MAX];
	size_t len;
	int r = read_input(d, "modules.builtin.modinfo", &text, &len);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return empty_index(bin);
	r = trie_new(&t);
	for (char *p = text, *end = text + len; p < end && r >= 0; p += strlen(p) + 1) {
		char *dot = strchr(p, '.');
		const char *key;

		if (dot == NULL || strncmp(dot + 1, "alias=", 6) != 0)
			continue;
		*dot = '\0';
		key = normalized_alias(d, dot + 7, buf);
		if (key)
			r = trie_add(t, key, p, 0);
		*dot = '.';
		r = r == 1 || r == -EILSEQ ? 0 : r;
	}
	if (r >= 0)
		r = trie_serialize(t, INDEX_PREORDER, &bin->data, &bin->len);
	trie_free(t);
	return r;
}

/* ---- modules.devname ---- */

static int build_devname(struct depmod *d, struct output *text)
{
	struct strbuf out = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < d->n_mods && r == 0; i++) {
		const struct dm_module *m = d->mods[i];
		const char *devname = NULL;
		char type = '\0';
		unsigned major = 0, minor = 0;

		for (size_t j = 0; j < m->n_aliases; j++) {
			const char *a = m->aliases[j];
			unsigned maj, min;

			/* sscanf() only where it can match: there are tens of thousands
			 * of aliases */
			if (strstartswith(a, "devname:"))
				devname = a + 8;
			else if (a[0] == 'c' &&
				 sscanf(a, "char-major-%u-%u", &maj, &min) == 2)
				type = 'c', major = maj, minor = min;
			else if (a[0] == 'b' &&
				 sscanf(a, "block-major-%u-%u", &maj, &min) == 2)
				type = 'b', major = maj, minor = min;
			if (type && devname)
				break;
		}
		if (devname == NULL)
			continue;
		if (type == '\0') {
			ERR(d->ctx,
			    "Module '%s' has devname (%s) but lacks major and minor "
			    "information. "
			    "Ignoring.",
			    m->modname, devname);
			continue;
		}
		if (out.len == 0)
			r = strbuf_puts(&out, "# Device nodes to trigger on-demand module loading.\n");
		if (r == 0)
			r = strbuf_printf(&out, "%s %s %c%u:%u\n", m->modname, devname, type, major,
					  minor);
	}
	return take_text(text, &out, r);
}

/* ---- writing ---- */

/* Remove temporary files of runs that died (their pid is gone). */
static void remove_stale_temps(int dfd)
{
	int fd = dup(dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		const char *tag = strstr(de->d_name, TMP_TAG);
		long pid;

		if (de->d_name[0] != '.' || tag == NULL)
			continue;
		pid = strtol(tag + strlen(TMP_TAG), NULL, 10);
		if (pid > 0 && (pid_t)pid != getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

/* Write parts to a new temporary file for name: 0 or a negative errno. tmp receives
 * the temporary file's name, "" if none was created. With keep, the file is left open
 * there for the caller to flush and close (-1 if none), its writeback started. */
static int write_temp(int dfd, const char *name, const struct fileio_part *parts,
		      size_t n, unsigned seq, char tmp[NAME_MAX + 1], int *keep)
{
	int fd, r = 0;

	snprintf(tmp, NAME_MAX + 1, ".%s" TMP_TAG "%d.%u", name, (int)getpid(), seq);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		tmp[0] = '\0';
		return -errno;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_all(fd, parts[i].data, parts[i].len);
	if (r == 0 && keep) {
		/* every file's data on its way to the disk before waiting for any */
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		*keep = fd;
		return 0;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Whether output n as built is the file on disk, still the one the cache's run wrote:
 * then it is left as it is, as if its inputs had not changed (an override moves the
 * modules' positions, and modules.symbols.bin with them, not modules.symbols).
 * Not modules.dep: -A compares its time with the modules'. */
static bool same_on_disk(const struct depmod *d, int dfd, const struct output *o,
			 enum dm_output n)
{
	size_t len = 0;
	uint8_t *old;
	bool same;

	if (n == DM_OUT_DEP || o->len != d->out_prev[n].size || o->data == NULL)
		return false;
	old = map_previous(d, dfd, n, &len);
	if (old == NULL)
		return false;
	same = len == o->len && memcmp(old, o->data, len) == 0;
	munmap(old, len);
	return same;
}

/* Output n, built, to its temporary file: on the thread that built it, while the others
 * still build theirs. A failure is only recorded: write_files() says so, in index
 * order. */
static void stage(const struct depmod *d, int dfd, struct output *o, enum dm_output n)
{
	struct fileio_part part = {o->data, o->len};

	if (dfd < 0 || o->skip || o->tmp[0] != '\0' || o->err != 0)
		return;
	if (same_on_disk(d, dfd, o, n))
		o->kept = true;
	else
		o->err = write_temp(dfd, o->name, &part, 1, n, o->tmp, &o->fd);
}

/* The temporary files written so far, removed. */
static void discard_temps(int dfd, struct output *outs)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		if (outs[i].fd >= 0)
			close(outs[i].fd);
		outs[i].fd = -1;
		if (outs[i].tmp[0])
			unlinkat(dfd, outs[i].tmp, 0);
		outs[i].tmp[0] = '\0';
	}
}

/* Wait for every written file to be on disk: 0 or the first error, logged. */
static int flush_outputs(struct depmod *d, struct output *outs)
{
	int r = 0;

	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		if (outs[i].fd < 0)
			continue;
		if (r == 0 && !outs[i].synced && outs[i].sync_err == 0 &&
		    fdatasync(outs[i].fd) < 0)
			outs[i].sync_err = errno;
		if (r == 0 && outs[i].sync_err != 0) {
			r = -outs[i].sync_err;
			ERR(d->ctx, "could not write %s/%s: %s", d->outdir, outs[i].name,
			    strerror(-r));
		}
		if (close(outs[i].fd) < 0 && r == 0)
			r = -errno;
		outs[i].fd = -1;
	}
	return r;
}

/* The identities of every index, as the cache records them. */
static int read_keys(struct depmod *d, int dfd, struct dm_filekey *keys)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		struct stat st;

		if (fstatat(dfd, files[i].name, &st, 0) < 0)
			return -errno;
		dm_filekey_from_stat(&keys[i], &st);
	}
	return 0;
}

int dm_outputs_identify(struct depmod *d, struct dm_filekey *keys)
{
	int dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		struct stat st;

		if (fstatat(dfd, files[i].name, &st, 0) == 0)
			dm_filekey_from_stat(&keys[i], &st);
		else
			memset(&keys[i], 0, sizeof(keys[i]));
	}
	close(dfd);
	return 0;
}

int dm_outputs_touch(struct depmod *d)
{
	int dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (dfd < 0)
		return -errno;
	if (utimensat(dfd, files[DM_OUT_DEP].name, NULL, 0) < 0 ||
	    read_keys(d, dfd, d->out_keys) < 0)
		r = -errno;
	close(dfd);
	if (r < 0)
		ERR(d->ctx, "could not update %s/%s: %s", d->outdir, files[DM_OUT_DEP].name,
		    strerror(-r));
	return r;
}

/* dfd's spare, opened and locked alone: its descriptor, or -1 when it cannot be used (a
 * reader holds it, it or name is not a plain file of its own, or the file system has
 * no locks). */
static int spare_open(int dfd, const char *name, const char *spare)
{
	int fd = openat(dfd, spare, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	struct stat st, cur;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 ||
	    (fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(cur.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The spare (fd, written), cut to len and put in name's place, the names exchanged (or,
 * with no name yet or a file system that cannot exchange names, renamed); fd closed. 0
 * or a negative errno. */
static int spare_install(int dfd, int fd, const char *name, const char *spare, off_t len)
{
	int r = ftruncate(fd, len) < 0 ? -errno : 0;

	if (r == 0 && renameat2(dfd, spare, dfd, name, RENAME_EXCHANGE) < 0 &&
	    renameat(dfd, spare, dfd, name) < 0)
		r = -errno;
	close(fd);
	return r;
}

int dm_spare_open(struct depmod *d, const char *name, const char *spare)
{
	int dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return -1;
	fd = spare_open(dfd, name, spare);
	close(dfd);
	return fd;
}

int dm_spare_install(struct depmod *d, int fd, const char *name, const char *spare,
		     const struct fileio_part *head, size_t n, off_t len)
{
	int dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = dfd < 0 ? -errno : 0;
	off_t at = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		r = pwrite_all(fd, head[i].data, head[i].len, at);
		at += (off_t)head[i].len;
	}
	if (r == 0)
		r = spare_install(dfd, fd, name, spare, len);
	else
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int dm_replace_file(struct depmod *d, const char *name, const struct fileio_part *parts,
		    size_t n)
{
	char tmp[NAME_MAX + 1];
	int dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (dfd < 0)
		return -errno;
	remove_stale_temps(dfd);
	r = write_temp(dfd, name, parts, n, DM_OUTPUTS, tmp, NULL);
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0 && tmp[0])
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return r;
}

/* The output directory, cleared of a killed run's temporary files: its descriptor or a
 * negative errno. With create, it is created first if need be, and a failure is
 * logged; without, nothing is created (a run that fails leaves no directory behind, as
 * kmod's) and nothing logged. */
static int open_outdir(struct depmod *d, bool create)
{
	int dfd, r = create ? mkdir_p(d->outdir, 0755) : 0;

	if (r < 0) {
		ERR(d->ctx, "could not create directory %s: %s", d->outdir, strerror(-r));
		return r;
	}
	dfd = open(d->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		if (create)
			CRIT(d->ctx, "could not open directory %s: %s", d->outdir, strerror(-r));
		return r;
	}
	remove_stale_temps(dfd);
	return dfd;
}

/*
 * Replacing a file frees the old one inside rename(): its pages and its blocks, which
 * on a file system mounted with online discard waits for the device (here, two of the
 * 27 milliseconds of a run that adds a module). So the indexes to be replaced are held
 * open (O_PATH: nothing read) through the renames, and a thread lets them go, with the
 * memory of the indexes written, while the run finishes; the run waits for it at its
 * end.
 */
static void hold_replaced(struct depmod *d, int dfd, const struct output *outs)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		int fd;

		if (outs[i].tmp[0] == '\0' || d->n_replaced == DM_OUTPUTS)
			continue;
		fd = openat(dfd, outs[i].name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			d->replaced[d->n_replaced++] = fd;
	}
}

static void *let_go(void *data)
{
	struct depmod *d = data;

	for (unsigned i = 0; i < d->n_replaced; i++)
		close(d->replaced[i]);
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		free(d->written[i]);
		d->written[i] = NULL;
	}
	return NULL;
}

/* The indexes replaced (hold_replaced()) and outs' bytes let go. */
static void start_letting_go(struct depmod *d, struct output *outs)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		d->written[i] = outs[i].data;
		outs[i].data = NULL;
	}
	d->letting_go_started = pthread_create(&d->letting_go, NULL, let_go, d) == 0;
	if (!d->letting_go_started)
		let_go(d);
}

void dm_outputs_let_go(struct depmod *d)
{
	if (d->letting_go_started)
		pthread_join(d->letting_go, NULL);
	d->letting_go_started = false;
	d->n_replaced = 0;
}

/* Every index built goes to disk, its temporary file written now if its task did not
 * write it: always when there was no directory yet for the tasks (dfd < 0: the
 * directory is then created, and closed again here). */
static int write_files(struct depmod *d, int dfd, struct output *outs)
{
	bool own = dfd < 0;
	int f, r = 0;

	if (own && (dfd = open_outdir(d, true)) < 0)
		return dfd;
	for (unsigned i = 0; i < DM_OUTPUTS && r == 0; i++) {
		if (outs[i].kept)
			continue;
		stage(d, dfd, &outs[i], i);
		r = outs[i].err;
		if (r < 0)
			ERR(d->ctx, "could not write %s/%s: %s", d->outdir, outs[i].name,
			    strerror(-r));
	}
	f = flush_outputs(d, outs);
	if (r == 0)
		r = f;
	if (r == 0)
		hold_replaced(d, dfd, outs);
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		if (outs[i].tmp[0] == '\0')
			continue;
		if (r < 0) {
			unlinkat(dfd, outs[i].tmp, 0);
		} else if (renameat(dfd, outs[i].tmp, dfd, outs[i].name) < 0) {
			r = -errno;
			ERR(d->ctx, "could not rename %s/%s: %s", d->outdir, outs[i].name,
			    strerror(-r));
			unlinkat(dfd, outs[i].tmp, 0);
		}
		outs[i].tmp[0] = '\0';
	}
	if (r == 0 && fsync(dfd) < 0)
		r = -errno;
	/* for the cache: what the indexes are, so that the next run can trust them */
	d->outputs_written = r == 0 && read_keys(d, dfd, d->out_keys) == 0;
	if (own)
		close(dfd);
	if (r < 0)
		ERR(d->ctx, "%s: the indexes were left as they were", d->outdir);
	return r;
}

static int print_files(struct depmod *d, struct output *outs)
{
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		int r;

		if (outs[i].binary)
			continue;
		r = write_all(d->opts->out_fd, outs[i].data, outs[i].len);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The indexes are built by three tasks, two of them on threads of their own. The first
 * resolves the dependencies (all of them, or what changed since the cache's run: see
 * depmod-resolve.c) and builds modules.dep; the second builds modules.alias.bin, the
 * longest to build; the third the other indexes made of the modules' information alone
 * meanwhile, and modules.symbols once the first says the symbols have their owners.
 * Each task's messages are replayed in task order, the resolution's first, as if one
 * thread had done it all; if the resolution fails, as for a dependency cycle, only its
 * messages are. A task writes the temporary files of the indexes it built at once
 * (stage()), while the others still build theirs.
 *
 * The cache's next contents (task_cache()) need the resolution and nothing the tasks
 * change after it: the first task to finish while another still runs builds them when
 * a processor is free (cache_when_free()). Otherwise they are built while the indexes
 * are renamed into place, as that mostly waits for the disk.
 *
 * Each temporary file goes to the disk (fdatasync()) as soon as it is written, on a
 * thread of its own, the flusher, while the tasks build the rest: the wait is for the
 * device, some two milliseconds a megabyte where the host flushes its cache for it, and
 * the first index is written milliseconds before the last. write_files() renames none
 * before the flusher is done (flusher_stop()) and flushes what it left.
 */
struct build;

struct task {
	struct depmod *d;
	struct build *b;
	int (*run)(struct depmod *d, struct build *b);
	int r;
	struct log_defer log;
};

struct build {
	struct output outs[DM_OUTPUTS];
	int dfd; /* the output directory, or < 0: -n, or not there (yet) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool resolved; /* the resolution is over: resolve_r says how it went */
	int resolve_r;
	/* modules.symbols is to be changed from the last run's (with only the owners of
	 * what changed found), not built */
	bool symbols_changed;
	/* the tasks still running, whether one failed, the processors there are */
	unsigned running, cpus;
	bool failed;
	struct task cache;  /* its run is NULL unless the cache is to be built */
	bool cache_early;   /* ... and may be built beside the tasks */
	bool cache_claimed; /* a task took it */
	/* the flusher: the outputs staged, in order, and how many it has flushed; no
	 * more to come once closing; it waits on flush_cond */
	pthread_t flusher;
	bool flusher_started, closing;
	enum dm_output staged[DM_OUTPUTS];
	unsigned n_staged, n_flushed;
	pthread_cond_t flush_cond;
};

/* Output n, built, to its temporary file, and to the flusher if it runs (once: a task
 * may stage an output again, which does nothing). */
static void stage_task(struct depmod *d, struct build *b, enum dm_output n)
{
	struct output *o = &b->outs[n];
	bool staged = o->tmp[0] != '\0';

	stage(d, b->dfd, o, n);
	/* (flusher_started read unlocked: set before the tasks start, cleared after the
	 * last one ended) */
	if (!b->flusher_started || staged || o->fd < 0)
		return;
	pthread_mutex_lock(&b->lock);
	if (b->n_staged < DM_OUTPUTS) {
		b->staged[b->n_staged++] = n;
		pthread_cond_signal(&b->flush_cond);
	}
	pthread_mutex_unlock(&b->lock);
}

static void *flusher_main(void *data)
{
	struct build *b = data;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct output *o;

		while (b->n_flushed == b->n_staged && !b->closing)
			pthread_cond_wait(&b->flush_cond, &b->lock);
		if (b->n_flushed == b->n_staged)
			break;
		o = &b->outs[b->staged[b->n_flushed]];
		pthread_mutex_unlock(&b->lock);
		if (fdatasync(o->fd) == 0)
			o->synced = true;
		else
			o->sync_err = errno;
		pthread_mutex_lock(&b->lock);
		b->n_flushed++;
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* (no flusher when there is one processor, or nowhere to write: write_files() flushes
 * every file then, as when its thread cannot be started) */
static void flusher_start(struct build *b)
{
	if (b->dfd >= 0 && b->cpus > 1)
		b->flusher_started = pthread_create(&b->flusher, NULL, flusher_main, b) == 0;
}

/* Every task over: the flusher finishes what was staged and stops. */
static void flusher_stop(struct build *b)
{
	if (!b->flusher_started)
		return;
	pthread_mutex_lock(&b->lock);
	b->closing = true;
	pthread_cond_signal(&b->flush_cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->flusher, NULL);
	b->flusher_started = false;
}

static void resolution_done(struct build *b, int r)
{
	pthread_mutex_lock(&b->lock);
	b->resolved = true;
	b->resolve_r = r;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int resolution_wait(struct build *b)
{
	int r;

	pthread_mutex_lock(&b->lock);
	while (!b->resolved)
		pthread_cond_wait(&b->cond, &b->lock);
	r = b->resolve_r;
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* An index (or pair of them: their fingerprints are the same) to build. */
static bool wanted(const struct output *outs, enum dm_output i)
{
	return !outs[i].kept && !outs[i].skip;
}

static int task_deps(struct depmod *d, struct build *b)
{
	struct output *outs = b->outs;
	/* nothing to resolve for if modules.dep and modules.symbols are kept */
	bool symbols = wanted(outs, DM_OUT_SYMBOLS);
	enum dm_owners owners = !symbols ? DM_OWNERS_DEPS : DM_OWNERS_ALL;
	int r = 0;

	if (symbols && previous_known(d, DM_OUT_SYMBOLS) && previous_known(d, DM_OUT_SYMBOLS_BIN))
		owners = DM_OWNERS_CHANGED;
	b->symbols_changed = owners == DM_OWNERS_CHANGED;
	if (wanted(outs, DM_OUT_DEP) || symbols)
		r = dm_resolve(d, owners);

	resolution_done(b, r);
	if (r < 0 || outs[DM_OUT_DEP].kept)
		return r;
	r = build_deps(d, b->dfd, &outs[DM_OUT_DEP], &outs[DM_OUT_DEP_BIN]);
	if (r == 0) {
		stage_task(d, b, DM_OUT_DEP);
		stage_task(d, b, DM_OUT_DEP_BIN);
	}
	return r;
}

static int task_aliases(struct depmod *d, struct build *b)
{
	struct output *outs = b->outs;

	int r;

	if (outs[DM_OUT_ALIAS_BIN].kept)
		return 0;
	r = build_alias_trie(d, b->dfd, &outs[DM_OUT_ALIAS_BIN]);
	if (r == 0)
		stage_task(d, b, DM_OUT_ALIAS_BIN);
	return r;
}

/* (after the resolution) */
static int task_symbols(struct depmod *d, struct build *b)
{
	struct output *text = &b->outs[DM_OUT_SYMBOLS], *bin = &b->outs[DM_OUT_SYMBOLS_BIN];
	bool done = false;
	int r = 0;

	if (b->symbols_changed) {
		r = symbols_from(d, b->dfd, text, bin);
		r = r > 0 ? 0 : tried_previous(d, DM_OUT_SYMBOLS, r, &done);
		/* every symbol's owner, to build them after all (the resolution is over:
		 * the dependencies' task reads no symbol any more) */
		if (r == 0 && !done)
			r = dm_own_all_symbols(d);
	}
	return r < 0 || done ? r : build_symbols(d, text, bin);
}

/* The outputs given, those not kept, to their temporary files (stage_task()). */
static void stage_each(struct depmod *d, struct build *b, const enum dm_output *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!b->outs[v[i]].kept)
			stage_task(d, b, v[i]);
	}
}

/* (each index staged once built: the sooner written, the sooner the flusher has it) */
static int task_rest(struct depmod *d, struct build *b)
{
	static const enum dm_output lists[] = {DM_OUT_SOFTDEP, DM_OUT_WEAKDEP};
	static const enum dm_output symbols[] = {DM_OUT_SYMBOLS, DM_OUT_SYMBOLS_BIN};
	static const enum dm_output builtin[] = {
		DM_OUT_BUILTIN_BIN, DM_OUT_BUILTIN_ALIAS_BIN, DM_OUT_DEVNAME,
	};
	struct output *outs = b->outs;
	int r = 0;

	/* (the text of modules.alias here: its trie is the longest task) */
	if (!outs[DM_OUT_ALIAS].kept) {
		r = build_alias_text(d, &outs[DM_OUT_ALIAS]);
		if (r == 0)
			stage_task(d, b, DM_OUT_ALIAS);
	}
	if (r == 0 && wanted(outs, DM_OUT_SOFTDEP))
		r = build_deplist(d, &outs[DM_OUT_SOFTDEP],
				  "# Soft dependencies extracted from modules themselves.\n",
				  "softdep", true);
	if (r == 0 && wanted(outs, DM_OUT_WEAKDEP))
		r = build_deplist(d, &outs[DM_OUT_WEAKDEP],
				  "# Weak dependencies extracted from modules themselves.\n",
				  "weakdep", false);
	if (r == 0)
		stage_each(d, b, lists, ARRAY_SIZE(lists));
	/* the symbols' owners, and kmod's order of messages */
	if (r == 0 && resolution_wait(b) < 0)
		return 0; /* the resolution's task says why */
	if (r == 0 && wanted(outs, DM_OUT_SYMBOLS))
		r = task_symbols(d, b);
	if (r == 0)
		stage_each(d, b, symbols, ARRAY_SIZE(symbols));
	if (r == 0 && wanted(outs, DM_OUT_BUILTIN_BIN))
		r = build_builtin(d, &outs[DM_OUT_BUILTIN_BIN]);
	if (r == 0 && wanted(outs, DM_OUT_BUILTIN_ALIAS_BIN))
		r = build_builtin_alias(d, &outs[DM_OUT_BUILTIN_ALIAS_BIN]);
	if (r == 0 && wanted(outs, DM_OUT_DEVNAME))
		r = build_devname(d, &outs[DM_OUT_DEVNAME]);
	if (r == 0)
		stage_each(d, b, builtin, ARRAY_SIZE(builtin));
	return r;
}

/* The cache's next contents: built while the indexes go to disk
 * (depmod-cache-write.c). */
static int task_cache(struct depmod *d, struct build *b)
{
	(void)b;
	return dm_cache_build(d, true);
}

static void *task_main(void *data)
{
	struct task *t = data;

	ctx_log_defer(&t->log);
	t->r = t->run(t->d, t->b);
	ctx_log_defer(NULL);
	return NULL;
}

/* Task t over: the cache's contents built now, on its thread, if the resolution went
 * well, no task failed, and a processor is free while another task still runs. */
static void cache_when_free(struct task *t)
{
	struct build *b = t->b;
	bool now;

	pthread_mutex_lock(&b->lock);
	if (--b->running == 0)
		pthread_cond_broadcast(&b->cond); /* dm_write_outputs() waits for it */
	b->failed = b->failed || t->r < 0;
	now = b->cache_early && !b->cache_claimed && !b->failed && b->resolved &&
	      b->resolve_r == 0 && b->running > 0 && b->running < b->cpus;
	b->cache_claimed = b->cache_claimed || now;
	pthread_mutex_unlock(&b->lock);
	if (now)
		task_main(&b->cache);
}

static void *output_task_main(void *data)
{
	task_main(data);
	cache_when_free(data);
	return NULL;
}

int dm_write_outputs(struct depmod *d)
{
	struct build *b = calloc(1, sizeof(*b));
	struct task tasks[] = {
		{d, b, task_deps, 0, {0}},
		{d, b, task_aliases, 0, {0}},
		{d, b, task_rest, 0, {0}},
	};
	pthread_t threads[ARRAY_SIZE(tasks)];
	bool started[ARRAY_SIZE(tasks)] = {false};
	bool dry = d->opts->dry_run;
	struct output *outs;
	int r = 0;

	if (b == NULL)
		return -ENOMEM;
	outs = b->outs;
	/* an index and its .bin are built together: both are kept, or neither */
	for (size_t i = 0; i < ARRAY_SIZE(twins); i++) {
		bool both = d->out_kept[twins[i][0]] && d->out_kept[twins[i][1]];

		d->out_kept[twins[i][0]] = d->out_kept[twins[i][1]] = both;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	pthread_cond_init(&b->flush_cond, NULL);
	b->running = ARRAY_SIZE(tasks);
	b->cpus = dm_threads(d, ARRAY_SIZE(tasks));
	b->cache = (struct task){d, b, d->use_cache && !dry ? task_cache : NULL, 0, {0}};
	b->cache_early = b->cache.run && dm_cache_build_in_parallel(d);
	/* where the tasks write the indexes they built, if it exists */
	b->dfd = dry ? -1 : open_outdir(d, false);
	for (unsigned i = 0; i < DM_OUTPUTS; i++) {
		outs[i].name = files[i].name;
		outs[i].binary = files[i].binary;
		outs[i].skip = dry && files[i].binary;
		outs[i].kept = d->out_kept[i];
		outs[i].fd = -1;
	}
	flusher_start(b);
	/* (the first task runs first when there are no threads: the others wait for it) */
	for (size_t i = 0; i + 1 < ARRAY_SIZE(tasks) && b->cpus > 1; i++)
		started[i] = pthread_create(&threads[i], NULL, output_task_main, &tasks[i]) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
		if (!started[i])
			output_task_main(&tasks[i]);
	}
	/* every index built (a task's thread may still build the cache's contents) */
	pthread_mutex_lock(&b->lock);
	while (b->running > 0)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	flusher_stop(b);
	for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
		ctx_log_replay(i == 0 || b->resolve_r == 0 ? d->ctx : NULL, &tasks[i].log);
		if (r == 0)
			r = tasks[i].r;
	}
	if (r == 0 && dry) {
		r = print_files(d, outs);
	} else if (r == 0) {
		/* the cache's records are CPU work and writing the indexes mostly waits
		 * for the disk: side by side, a cold run is no slower than without a
		 * cache (testsuite/bench/depmod-cache.sh, "baseline") */
		pthread_t thread;
		bool cache_started = b->cache.run && !b->cache_claimed && b->cpus > 1 &&
				     pthread_create(&thread, NULL, task_main, &b->cache) == 0;

		r = write_files(d, b->dfd, outs);
		start_letting_go(d, outs);
		if (cache_started)
			pthread_join(thread, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
	}
	ctx_log_replay(d->ctx, &b->cache.log); /* (empty unless it ran) */
	if (b->dfd >= 0) {
		discard_temps(b->dfd, outs); /* those not renamed: a task failed */
		close(b->dfd);
	}
	for (unsigned i = 0; i < DM_OUTPUTS; i++)
		free(outs[i].data);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	pthread_cond_destroy(&b->flush_cond);
	free(b);
	return r;
}
