// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A simulated kernel for the test binary kmodx-sim: the three module calls act on the
 * context's root the way Linux acts on /sys/module and /proc/modules.
 *
 * State it reads and writes under <root>:
 *   proc/modules                          loaded modules, newest first, as Linux prints
 *   sys/module/<m>/{initstate,refcnt,coresize,holders/,parameters/}
 *   sys/module/module/parameters/sig_enforce   "Y": unsigned modules are rejected
 *                                         (a malformed signature is refused always)
 *   sys/module/compression                what finit_module can decompress
 *   .sim/kernel-symbols   symbols the kernel exports, one per line (absent: all)
 *   .sim/fail             "<module> <ERRNO>" lines: loading that module fails so
 *   .sim/fail-remove      the same for removal
 *   .sim/fail-param       "<module>.<param> <ERRNO>" lines: writing that parameter fails
 * so .sim/exports/<m>      symbols a loaded module exports (written on load)
 *   .sim/uses/<m>         modules a loaded module took references on
 *   .sim/dmesg            what the kernel would have logged
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "file.h"
#include "libkmodx-private.h"
#include "pkcs7.h"
#include "signature.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strbuf.h"

#define SIM_FILE_MAX ((size_t)16 << 20)

struct sim {
	struct kmodx_ctx *ctx;
	char name[64];
};

static void sim_path(struct kmodx_ctx *ctx, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sim_path(struct kmodx_ctx *ctx, char *buf, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (ctx_path(ctx, rel, buf) < 0)
		buf[0] = '\0';
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	close(fd);
	return r;
}

static void dmesg(struct kmodx_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void dmesg(struct kmodx_ctx *ctx, const char *fmt, ...)
{
	char path[PATH_MAX], line[1024];
	va_list ap;
	int fd;

	sim_path(ctx, path, "/.sim");
	mkdir(path, 0755);
	sim_path(ctx, path, "/.sim/dmesg");
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		write_all(fd, line, strlen(line));
		close(fd);
	}
}

static bool file_has_line(const char *path, const char *line)
{
	_cleanup_(freep) char *text = NULL;
	char *save, *l;

	if (read_file_at(AT_FDCWD, path, SIM_FILE_MAX, &text, NULL) < 0)
		return false;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (streq(l, line))
			return true;
	}
	return false;
}

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{"EINVAL", EINVAL}, {"ENOENT", ENOENT},	 {"ENOEXEC", ENOEXEC},
	{"ESRCH", ESRCH},   {"EEXIST", EEXIST},	 {"EBUSY", EBUSY},
	{"EPERM", EPERM},   {"ENOMEM", ENOMEM},	 {"EKEYREJECTED", EKEYREJECTED},
	{"EAGAIN", EAGAIN}, {"ENOSPC", ENOSPC},	 {"EOPNOTSUPP", EOPNOTSUPP},
	{"EIO", EIO},	    {"ENODEV", ENODEV},	 {"ETIMEDOUT", ETIMEDOUT},
	{"ENOSYS", ENOSYS}, {"EFAULT", EFAULT},
};

/* An injected failure for module name in <root>/.sim/<file>, or 0. */
static int injected(struct kmodx_ctx *ctx, const char *file, const char *name)
{
	char path[PATH_MAX], line[256];

	sim_path(ctx, path, "/.sim/%s", file);
	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++) {
		snprintf(line, sizeof(line), "%s %s", name, errnos[i].name);
		if (file_has_line(path, line))
			return -errnos[i].err;
	}
	return 0;
}

static bool is_loaded(struct kmodx_ctx *ctx, const char *name)
{
	char path[PATH_MAX];

	sim_path(ctx, path, "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

/* ---- /proc/modules ---- */

struct modline {
	char name[64];
	unsigned long size;
	int refcnt;
	char holders[1024];
};

static int proc_read(struct kmodx_ctx *ctx, struct modline **lines, size_t *n)
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX], *save, *l;
	size_t cap = 0;
	int r;

	*lines = NULL;
	*n = 0;
	sim_path(ctx, path, "/proc/modules");
	r = read_file_at(AT_FDCWD, path, SIM_FILE_MAX, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct modline m = {0};

		if (sscanf(l, "%63s %lu %d %1023s", m.name, &m.size, &m.refcnt, m.holders) < 3)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*lines = realloc(*lines, cap * sizeof(**lines));
			if (*lines == NULL)
				return -ENOMEM;
		}
		(*lines)[(*n)++] = m;
	}
	return 0;
}

static int proc_write(struct kmodx_ctx *ctx, const struct modline *lines, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++)
		r = strbuf_printf(&sb, "%s %lu %d %s Live 0x0000000000000000\n", lines[i].name,
				  lines[i].size, lines[i].refcnt,
				  lines[i].holders[0] ? lines[i].holders : "-");
	sim_path(ctx, path, "/proc");
	mkdir(path, 0755);
	sim_path(ctx, path, "/proc/modules");
	if (r == 0)
		r = write_text(path, strbuf_str(&sb));
	strbuf_release(&sb);
	return r;
}

/* Recompute one module's refcnt and holders in /proc/modules from its sysfs state. */
static int proc_sync(struct kmodx_ctx *ctx, const char *name)
{
	struct modline *lines;
	char path[PATH_MAX];
	size_t n;
	int r = proc_read(ctx, &lines, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		DIR *d;
		struct dirent *de;
		long v = 0;

		if (!streq(lines[i].name, name))
			continue;
		sim_path(ctx, path, "/sys/module/%s/refcnt", name);
		read_attr_long(path, &v);
		lines[i].refcnt = (int)v;
		lines[i].holders[0] = '\0';
		sim_path(ctx, path, "/sys/module/%s/holders", name);
		d = opendir(path);
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			strncat(lines[i].holders, de->d_name,
				sizeof(lines[i].holders) - strlen(lines[i].holders) - 2);
			strcat(lines[i].holders, ",");
		}
		if (d)
			closedir(d);
	}
	r = proc_write(ctx, lines, n);
	free(lines);
	return r;
}

static int adjust_refcnt(struct kmodx_ctx *ctx, const char *name, int delta)
{
	char path[PATH_MAX], buf[32];
	long v = 0;

	sim_path(ctx, path, "/sys/module/%s/refcnt", name);
	read_attr_long(path, &v);
	snprintf(buf, sizeof(buf), "%ld\n", v + delta);
	return write_text(path, buf);
}

/* ---- loading ---- */

/* Which loaded module exports sym (written to owner), or false. */
static bool find_exporter(struct kmodx_ctx *ctx, const char *sym, char *owner, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	bool found = false;
	DIR *d;

	sim_path(ctx, dir, "/.sim/exports");
	d = opendir(dir);
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (file_has_line(path, sym)) {
			snprintf(owner, size, "%.63s", de->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

struct resolve {
	struct kmodx_ctx *ctx;
	char kernel_syms[PATH_MAX];
	bool strict;
	struct strbuf uses; /* "a\nb\n" */
	int err;
};

static int resolve_symbol(void *data, const struct elf_symbol *s)
{
	struct resolve *rs = data;
	char name[256], owner[64], line[80];

	if (s->namelen >= sizeof(name))
		return 0;
	memcpy(name, s->name, s->namelen);
	name[s->namelen] = '\0';
	if (find_exporter(rs->ctx, name, owner, sizeof(owner))) {
		snprintf(line, sizeof(line), "%s\n", owner);
		if (!strstr(strbuf_str(&rs->uses), line))
			strbuf_puts(&rs->uses, line);
		return 0;
	}
	if (!rs->strict || s->bind == 'W' || file_has_line(rs->kernel_syms, name))
		return 0;
	dmesg(rs->ctx, "Unknown symbol %s (err -2)", name);
	rs->err = -ENOENT;
	return 0;
}

static int add_export(void *data, const struct elf_symbol *s)
{
	return strbuf_printf(data, "%.*s\n", (int)s->namelen, s->name);
}

struct parmtype {
	struct strbuf *types; /* "name:type\n" */
};

static int collect_parmtype(void *data, const char *s, size_t len)
{
	if (len > 9 && memcmp(s, "parmtype=", 9) == 0)
		return strbuf_printf(data, "%.*s\n", (int)(len - 9), s + 9);
	return 0;
}

static bool value_ok(const char *type, const char *value)
{
	char *end;

	if (streq(type, "charp") || streq(type, "string"))
		return true;
	if (streq(type, "bool") || streq(type, "invbool"))
		return value == NULL || strchr("YyNn10", value[0]) != NULL;
	if (value == NULL || *value == '\0')
		return false;
	errno = 0;
	if (type[0] == 'u' || streq(type, "byte"))
		strtoull(value, &end, 0);
	else
		strtoll(value, &end, 0);
	return errno == 0 && *end == '\0';
}

/* Split the kernel's way: words separated by spaces, double quotes group. */
static char *next_param(char **p)
{
	char *s = *p, *start;
	bool q = false;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	for (; *s && (q || *s != ' '); s++) {
		if (*s == '"')
			q = !q;
	}
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

/* The type of parameter word from "name:type" lines. */
static bool find_parmtype(const char *types, const char *word, char *tname, size_t size)
{
	size_t wlen = strlen(word);

	for (const char *l = types; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, word, wlen) == 0 && l[wlen] == ':') {
			snprintf(tname, size, "%.*s", (int)strcspn(l + wlen + 1, "\n"), l + wlen + 1);
			return true;
		}
	}
	return false;
}

static int apply_params(struct kmodx_ctx *ctx, const char *mod, const struct elf *elf,
			const char *args)
{
	_cleanup_(freep) char *copy = strdup(args);
	struct strbuf types = STRBUF_INIT;
	char *p = copy, *word, path[PATH_MAX];
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	elf_foreach_string(elf, ".modinfo", collect_parmtype, &types);
	while (r == 0 && (word = next_param(&p)) != NULL) {
		char *eq = strchr(word, '='), *value = NULL, text[1100], tname[32];

		if (eq) {
			*eq = '\0';
			value = eq + 1;
			if (*value == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
				value++;
				value[strlen(value) - 1] = '\0';
			}
		}
		if (!find_parmtype(strbuf_str(&types), word, tname, sizeof(tname))) {
			dmesg(ctx, "%s: unknown parameter '%s' ignored", mod, word);
			continue;
		}
		if (!value_ok(tname, value)) {
			dmesg(ctx, "%s: '%s' invalid for parameter '%s'", mod, value ? value : "",
			      word);
			r = -EINVAL;
			break;
		}
		sim_path(ctx, path, "/sys/module/%s/parameters", mod);
		mkdir(path, 0755);
		sim_path(ctx, path, "/sys/module/%s/parameters/%s", mod, word);
		if (streq(tname, "bool") || streq(tname, "invbool"))
			snprintf(text, sizeof(text), "%c\n",
				 (value == NULL || strchr("Yy1", value[0])) ? 'Y' : 'N');
		else
			snprintf(text, sizeof(text), "%s\n", value ? value : "");
		write_text(path, text);
	}
	strbuf_release(&types);
	return r;
}

static bool sig_enforced(struct kmodx_ctx *ctx)
{
	char path[PATH_MAX], buf[8];

	sim_path(ctx, path, "/sys/module/module/parameters/sig_enforce");
	return read_attr(path, buf, sizeof(buf)) == 0 && buf[0] == 'Y';
}

static int record_module(struct kmodx_ctx *ctx, const char *name, size_t size,
			 const char *uses, const char *exports)
{
	struct modline *lines, *grown;
	char path[PATH_MAX], buf[64];
	size_t n;
	int r;

	sim_path(ctx, path, "/sys/module/%s/holders", name);
	r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	sim_path(ctx, path, "/sys/module/%s/initstate", name);
	write_text(path, "live\n");
	sim_path(ctx, path, "/sys/module/%s/refcnt", name);
	write_text(path, "0\n");
	snprintf(buf, sizeof(buf), "%zu\n", (size + 4095) & ~(size_t)4095);
	sim_path(ctx, path, "/sys/module/%s/coresize", name);
	write_text(path, buf);
	sim_path(ctx, path, "/.sim/exports");
	mkdir_p(path, 0755);
	sim_path(ctx, path, "/.sim/exports/%s", name);
	write_text(path, exports);
	sim_path(ctx, path, "/.sim/uses");
	mkdir_p(path, 0755);
	sim_path(ctx, path, "/.sim/uses/%s", name);
	write_text(path, uses);

	r = proc_read(ctx, &lines, &n);
	if (r < 0)
		return r;
	grown = realloc(lines, (n + 1) * sizeof(*lines));
	if (grown == NULL) {
		free(lines);
		return -ENOMEM;
	}
	memmove(grown + 1, grown, n * sizeof(*grown));
	memset(&grown[0], 0, sizeof(grown[0]));
	snprintf(grown[0].name, sizeof(grown[0].name), "%s", name);
	grown[0].size = (size + 4095) & ~(size_t)4095;
	r = proc_write(ctx, grown, n + 1);
	free(grown);
	return r;
}

/* Take references on the modules this one uses, as the kernel does. */
static int hold_uses(struct kmodx_ctx *ctx, const char *name, const char *uses)
{
	_cleanup_(freep) char *copy = strdup(uses);
	char *save, *u, path[PATH_MAX], target[PATH_MAX];

	if (copy == NULL)
		return -ENOMEM;
	for (u = strtok_r(copy, "\n", &save); u; u = strtok_r(NULL, "\n", &save)) {
		sim_path(ctx, path, "/sys/module/%s/holders/%s", u, name);
		snprintf(target, sizeof(target), "../../%s", name);
		symlink(target, path);
		adjust_refcnt(ctx, u, +1);
		proc_sync(ctx, u);
	}
	return 0;
}

/* What the kernel refuses with EBADMSG whatever its settings: a damaged trailer, or a
 * PKCS#7 message its ASN.1 parser rejects (this reader is stricter: close enough). */
static bool malformed_signature(const uint8_t *image, size_t size)
{
	struct pkcs7_fields f;
	struct sig_span span;
	int r = signature_kernel_check(image, size, &span);

	if (r == -EBADMSG)
		return true;
	return r == 0 && pkcs7_parse(span.sig, span.sig_len, &f, PKCS7_SKIP_EXTRAS) < 0;
}

static int sim_load(struct kmodx_ctx *ctx, const uint8_t *image, size_t size, const char *args,
		    unsigned flags, const char *how)
{
	struct resolve rs = {.ctx = ctx, .uses = STRBUF_INIT};
	struct strbuf exports = STRBUF_INIT;
	struct elf *elf = NULL;
	char name[64];
	int r;

	if (size == 0)
		return -EINVAL;
	if (elf_open(image, size, &elf) < 0)
		return -ENOEXEC;
	if (elf_check_sections(elf) < 0) {
		elf_free(elf);
		return -ENOEXEC;
	}
	if (elf_get_module_name(elf, name, sizeof(name)) < 0) {
		elf_free(elf);
		return -ENOEXEC;
	}
	bool is_signed = signature_strip_len(image, size) != size;
	r = injected(ctx, "fail", name);
	if (r == 0 && malformed_signature(image, size)) {
		dmesg(ctx, "%s: malformed module signature", name);
		r = -EBADMSG;
	}
	if (r == 0 && sig_enforced(ctx) &&
	    (!is_signed || (flags & (MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC)))) {
		dmesg(ctx, "Loading of unsigned module is rejected");
		r = -EKEYREJECTED;
	}
	if (r == 0 && is_loaded(ctx, name))
		r = -EEXIST;
	if (r == 0) {
		sim_path(ctx, rs.kernel_syms, "/.sim/kernel-symbols");
		rs.strict = access(rs.kernel_syms, F_OK) == 0;
		strbuf_puts(&rs.uses, "");
		r = elf_foreach_undefined(elf, resolve_symbol, &rs);
		if (r == -EINVAL || r == -ENODATA)
			r = 0;
		if (r == 0)
			r = rs.err;
	}
	if (r == 0) {
		strbuf_puts(&exports, "");
		elf_foreach_export(elf, add_export, &exports);
		r = record_module(ctx, name, size, strbuf_str(&rs.uses), strbuf_str(&exports));
		/* the references come first: undoing a failed init drops them again */
		if (r == 0)
			hold_uses(ctx, name, strbuf_str(&rs.uses));
		if (r == 0)
			r = apply_params(ctx, name, elf, args);
		if (r < 0) {
			/* undo, as the kernel frees a module whose init failed */
			kernel_delete_module(ctx, name, O_NONBLOCK | O_TRUNC);
		} else {
			bool modversions = flags & MODULE_INIT_IGNORE_MODVERSIONS;
			bool vermagic = flags & MODULE_INIT_IGNORE_VERMAGIC;

			dmesg(ctx, "%s: loaded by %s%s%s%s", name, how,
			      modversions ? ", ignoring modversions" : "",
			      vermagic ? ", ignoring vermagic" : "",
			      !is_signed ? ", unsigned: tainting kernel" : "");
		}
	}
	strbuf_release(&rs.uses);
	strbuf_release(&exports);
	elf_free(elf);
	return r;
}

static int sim_finit_module(struct kmodx_ctx *ctx, int fd, const char *args, unsigned flags)
{
	uint8_t *data = NULL, *raw = NULL;
	size_t size = 0, rawlen = 0;
	struct stat st;
	int r;

	if (flags & ~7u)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -EBADF;
	rawlen = (size_t)st.st_size;
	raw = malloc(rawlen ? rawlen : 1);
	if (raw == NULL)
		return -ENOMEM;
	if (pread(fd, raw, rawlen, 0) != (ssize_t)rawlen) {
		free(raw);
		return -EIO;
	}
	if (flags & MODULE_INIT_COMPRESSED_FILE) {
		enum compression c = compression_detect(raw, rawlen);
		const char *why;

		if (c == COMPRESSION_NONE || (int)c != ctx_get_kernel_compression(ctx)) {
			free(raw);
			return -EOPNOTSUPP;
		}
		r = decompress(c, raw, rawlen, &data, &size, &why);
		free(raw);
		if (r < 0)
			return -ENOEXEC;
	} else {
		data = raw;
		size = rawlen;
	}
	r = sim_load(ctx, data, size, args, flags,
		     (flags & MODULE_INIT_COMPRESSED_FILE) ? "finit_module of a compressed file"
							   : "finit_module");
	free(data);
	return r;
}

static int sim_init_module(struct kmodx_ctx *ctx, const void *image, size_t len, const char *args)
{
	return sim_load(ctx, image, len, args, 0, "init_module");
}

/*
 * A write to /sys/module/<m>/parameters/<p>, refused the way the kernel refuses it: a
 * file without write permission gives EACCES whoever writes (even root), a missing one
 * ENOENT, and a value the module's setter rejects comes from .sim/fail-param. Otherwise
 * the value is stored with the newline the kernel adds when it shows it.
 */
static int sim_write_param(struct kmodx_ctx *ctx, const char *module, const char *param,
		       const char *path, const char *value)
{
	char name[512];
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0222))
		return -EACCES;
	snprintf(name, sizeof(name), "%s.%s", module, param);
	r = injected(ctx, "fail-param", name);
	if (r < 0) {
		dmesg(ctx, "%s: invalid value '%s' for parameter %s", module, value,
		      param);
		return r;
	}
	_cleanup_(freep) char *text = NULL;

	if (asprintf(&text, "%s\n", value) < 0)
		return -ENOMEM;
	return write_text(path, text);
}

static int rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char sub[PATH_MAX];

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	if (d)
		closedir(d);
	return rmdir(path) < 0 ? -errno : 0;
}

static bool has_holders(struct kmodx_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool any = false;
	DIR *d;

	sim_path(ctx, path, "/sys/module/%s/holders", name);
	d = opendir(path);
	while (d && !any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

static int sim_delete_module(struct kmodx_ctx *ctx, const char *name, unsigned flags)
{
	_cleanup_(freep) char *uses = NULL;
	struct modline *lines;
	char path[PATH_MAX], *save, *u;
	size_t n, j = 0;
	long refcnt = 0;
	int r;

	if (flags & ~(unsigned)(O_NONBLOCK | O_TRUNC))
		return -EINVAL;
	if (!is_loaded(ctx, name))
		return -ENOENT;
	r = injected(ctx, "fail-remove", name);
	if (r < 0)
		return r;
	if (has_holders(ctx, name))
		return -EWOULDBLOCK;
	sim_path(ctx, path, "/sys/module/%s/refcnt", name);
	read_attr_long(path, &refcnt);
	if (refcnt > 0 && !(flags & O_TRUNC))
		return -EWOULDBLOCK;

	sim_path(ctx, path, "/sys/module/%s", name);
	rm_rf(path);
	sim_path(ctx, path, "/.sim/exports/%s", name);
	unlink(path);
	sim_path(ctx, path, "/.sim/uses/%s", name);
	read_file_at(AT_FDCWD, path, SIM_FILE_MAX, &uses, NULL);
	unlink(path);
	r = proc_read(ctx, &lines, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!streq(lines[i].name, name))
			lines[j++] = lines[i];
	}
	r = proc_write(ctx, lines, j);
	free(lines);
	for (u = uses ? strtok_r(uses, "\n", &save) : NULL; u; u = strtok_r(NULL, "\n", &save)) {
		sim_path(ctx, path, "/sys/module/%s/holders/%s", u, name);
		unlink(path);
		adjust_refcnt(ctx, u, -1);
		proc_sync(ctx, u);
	}
	dmesg(ctx, "%s: removed%s", name, (flags & O_TRUNC) ? " (forced)" : "");
	return r;
}

/*
 * The kernel serialises what these calls do to its module list; the simulation keeps
 * that list in files, so kmodx modules-load's threads take turns here. Recursive: a
 * failed load removes its module again from inside.
 */
static pthread_mutex_t sim_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

int kernel_finit_module(struct kmodx_ctx *ctx, int fd, const char *args, unsigned flags)
{
	pthread_mutex_lock(&sim_lock);
	int r = sim_finit_module(ctx, fd, args, flags);

	pthread_mutex_unlock(&sim_lock);
	return r;
}

int kernel_init_module(struct kmodx_ctx *ctx, const void *image, size_t len, const char *args)
{
	pthread_mutex_lock(&sim_lock);
	int r = sim_init_module(ctx, image, len, args);

	pthread_mutex_unlock(&sim_lock);
	return r;
}

int kernel_write_param(struct kmodx_ctx *ctx, const char *module, const char *param,
		       const char *path, const char *value)
{
	pthread_mutex_lock(&sim_lock);
	int r = sim_write_param(ctx, module, param, path, value);

	pthread_mutex_unlock(&sim_lock);
	return r;
}

int kernel_delete_module(struct kmodx_ctx *ctx, const char *name, unsigned flags)
{
	pthread_mutex_lock(&sim_lock);
	int r = sim_delete_module(ctx, name, flags);

	pthread_mutex_unlock(&sim_lock);
	return r;
}
