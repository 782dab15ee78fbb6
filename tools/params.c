// SPDX-License-Identifier: GPL-2.0-or-later
/* kmodx params: a loaded or built-in module's parameters, shown and changed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_HELP,
};

static const char usage[] =
	"\tkmodx params [options] MODULE [NAME=VALUE...]\n\n"
	"Shows the parameters of a loaded or built-in module, or changes them.";

struct params {
	struct kmodx_module *mod;
	struct kmodx_kvlist *values; /* from sysfs */
	struct kmodx_kvlist *descs,
		*types; /* from modinfo; NULL if the file is not found */
	struct kmodx_kvlist *origins; /* what configuration gives it at load time */
};

struct write {
	const char *name, *value;
	int err; /* 0 or a negative errno */
};

/* Index of name in a kvlist, or -1. */
static long find(const struct kmodx_kvlist *list, const char *name)
{
	for (size_t i = 0; i < kmodx_kvlist_count(list); i++) {
		if (strcmp(kmodx_kvlist_key(list, i), name) == 0)
			return (long)i;
	}
	return -1;
}

/* The declared type or description of name, or NULL. */
static const char *decl(const struct kmodx_kvlist *list, const char *name)
{
	long i = find(list, name);

	return i >= 0 && kmodx_kvlist_number(list, (size_t)i)
		       ? kmodx_kvlist_value(list, (size_t)i)
		       : NULL;
}

static const char *access_word(uint64_t mode)
{
	bool r = !(mode & KMODX_PARAM_UNREADABLE), w = (mode & 0222) != 0;

	return r && w ? "writable" : r ? "read-only" : w ? "write-only" : "unreadable";
}

static const char *why(const struct params *ps, const struct write *wr, char *buf,
		       size_t size)
{
	long i = find(ps->values, wr->name);

	if (wr->err == -ENOENT && find(ps->descs, wr->name) >= 0)
		return "the module lets it be set at load time only";
	if (wr->err == -ENOENT)
		return "no such parameter";
	if (wr->err == -EACCES && i >= 0 &&
	    !(kmodx_kvlist_number(ps->values, (size_t)i) & 0222))
		return "read-only parameter";
	snprintf(buf, size, "%s", strerror(-wr->err));
	return buf;
}

/* Control characters escaped, so that each parameter stays on its line. */
static void escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			strbuf_puts(sb, "\\\\");
		else if (c == '\n')
			strbuf_puts(sb, "\\n");
		else if (c == '\t')
			strbuf_puts(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(sb, "\\x%02x", c);
		else
			strbuf_putc(sb, (char)c);
	}
}

struct columns {
	int name, value, type;
};

/* One row, its columns padded to the widths, without trailing blanks. */
static void print_row(const struct columns *w, const char *name, const char *value,
		      const char *mode, const char *access, const char *type,
		      const char *desc)
{
	_cleanup_(strbuf_releasep) struct strbuf sb = STRBUF_INIT, v = STRBUF_INIT;
	const char *line;
	size_t len;

	escape(&v, value);
	strbuf_printf(&sb, "%-*s  %-*s  %-4s  %-10s  %-*s  %s", w->name, name, w->value,
		      strbuf_str(&v), mode, access, w->type, type ? type : "-",
		      desc ? desc : "");
	line = strbuf_str(&sb);
	if (line == NULL)
		return;
	len = strlen(line);
	while (len > 0 && line[len - 1] == ' ')
		len--;
	printf("%.*s\n", (int)len, line);
}

static int display_width(const char *s)
{
	_cleanup_(strbuf_releasep) struct strbuf sb = STRBUF_INIT;

	escape(&sb, s);
	return (int)sb.len;
}

/* Each column as wide as its widest cell, up to a limit past which a cell just pushes
 * the rest of its row. */
static void widths(const struct params *ps, struct columns *w)
{
	*w = (struct columns){4, 5, 4};
	for (size_t i = 0; i < kmodx_kvlist_count(ps->values); i++) {
		w->name = MAX(w->name, (int)strlen(kmodx_kvlist_key(ps->values, i)));
		w->value =
			MAX(w->value, display_width(kmodx_kvlist_value(ps->values, i)));
	}
	for (size_t i = 0; i < kmodx_kvlist_count(ps->descs); i++) {
		w->name = MAX(w->name, (int)strlen(kmodx_kvlist_key(ps->descs, i)));
		w->type = MAX(w->type, (int)strlen(kmodx_kvlist_value(ps->types, i)));
	}
	w->name = MIN(w->name, 32);
	w->value = MIN(w->value, 32);
	w->type = MIN(w->type, 16);
}

/* Where the values a load gets come from: modprobe.d lines and the kernel command line. */
static void print_origins(const struct params *ps)
{
	size_t n = kmodx_kvlist_count(ps->origins);

	if (n == 0)
		return;
	printf("\nSet at load time by:\n");
	for (size_t i = 0; i < n; i++) {
		_cleanup_(strbuf_releasep) struct strbuf v = STRBUF_INIT;

		escape(&v, kmodx_kvlist_value(ps->origins, i));
		printf("  %s=%s  (%s)\n", kmodx_kvlist_key(ps->origins, i), strbuf_str(&v),
		       kmodx_kvlist_origin(ps->origins, i));
	}
}

static void print_plain(const struct params *ps)
{
	size_t n = kmodx_kvlist_count(ps->values);
	struct columns w;
	char mode[8];

	if (n == 0 && kmodx_kvlist_count(ps->descs) == 0)
		return;
	widths(ps, &w);
	print_row(&w, "NAME", "VALUE", "MODE", "ACCESS", "TYPE", "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		const char *name = kmodx_kvlist_key(ps->values, i);
		uint64_t m = kmodx_kvlist_number(ps->values, i);

		snprintf(mode, sizeof(mode), "%04o", (unsigned)(m & 07777));
		print_row(&w, name, kmodx_kvlist_value(ps->values, i), mode,
			  access_word(m), decl(ps->types, name), decl(ps->descs, name));
	}
	/* declared with no sysfs file (permission 0): set at load time only */
	for (size_t i = 0; i < kmodx_kvlist_count(ps->descs); i++) {
		const char *name = kmodx_kvlist_key(ps->descs, i);

		if (find(ps->values, name) < 0)
			print_row(&w, name, "-", "-", "load-time", decl(ps->types, name),
				  decl(ps->descs, name));
	}
	print_origins(ps);
}

static void json_param(struct json_writer *w, const struct params *ps, const char *name,
		       long i)
{
	uint64_t m = i >= 0 ? kmodx_kvlist_number(ps->values, (size_t)i) : 0;
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)(m & 07777));
	json_object_begin(w);
	json_member_string(w, "name", name);
	json_member_bool(w, "in_sysfs", i >= 0);
	json_member_string(w, "value",
			   i >= 0 && !(m & KMODX_PARAM_UNREADABLE)
				   ? kmodx_kvlist_value(ps->values, (size_t)i)
				   : NULL);
	json_member_string(w, "mode", i >= 0 ? mode : NULL);
	json_member_bool(w, "readable", i >= 0 && !(m & KMODX_PARAM_UNREADABLE));
	json_member_bool(w, "writable", i >= 0 && (m & 0222));
	json_member_string(w, "type", decl(ps->types, name));
	json_member_string(w, "description", decl(ps->descs, name));
	json_object_end(w);
}

static int print_json(const struct params *ps, const struct write *writes, size_t nw)
{
	struct json_writer w;
	char buf[256];

	tool_json_begin(&w, stdout, 1);
	json_member_string(&w, "module", kmodx_module_get_name(ps->mod));
	json_member_bool(&w, "builtin", kmodx_module_is_builtin(ps->mod));
	json_key(&w, "parameters");
	json_array_begin(&w);
	for (size_t i = 0; i < kmodx_kvlist_count(ps->values); i++)
		json_param(&w, ps, kmodx_kvlist_key(ps->values, i), (long)i);
	for (size_t i = 0; i < kmodx_kvlist_count(ps->descs); i++) {
		if (find(ps->values, kmodx_kvlist_key(ps->descs, i)) < 0)
			json_param(&w, ps, kmodx_kvlist_key(ps->descs, i), -1);
	}
	json_array_end(&w);
	json_key(&w, "load_options");
	json_array_begin(&w);
	for (size_t i = 0; i < kmodx_kvlist_count(ps->origins); i++) {
		json_object_begin(&w);
		json_member_string(&w, "name", kmodx_kvlist_key(ps->origins, i));
		json_member_string(&w, "value", kmodx_kvlist_value(ps->origins, i));
		json_member_string(&w, "origin", kmodx_kvlist_origin(ps->origins, i));
		json_object_end(&w);
	}
	json_array_end(&w);
	json_key(&w, "writes");
	json_array_begin(&w);
	for (size_t i = 0; i < nw; i++) {
		json_object_begin(&w);
		json_member_string(&w, "name", writes[i].name);
		json_member_string(&w, "value", writes[i].value);
		json_member_bool(&w, "ok", writes[i].err == 0);
		json_member_string(&w, "error",
				   writes[i].err ? strerrorname_np(-writes[i].err)
						 : NULL);
		json_member_string(&w, "message",
				   writes[i].err ? why(ps, &writes[i], buf, sizeof(buf))
						 : NULL);
		json_object_end(&w);
	}
	json_array_end(&w);
	return tool_json_end(&w);
}

/* The module as the kernel has it: -ENOENT (reported) if it is neither loaded nor
 * built in. A built-in module without parameters has no /sys/module directory. */
static int read_values(struct params *ps)
{
	int r = kmodx_module_get_param_values(ps->mod, &ps->values);

	if (r == -ENOENT && kmodx_module_is_builtin(ps->mod))
		return 0; /* no parameters: ps->values stays NULL, an empty list */
	if (r == -ENOENT)
		ERR("Module %s is not loaded.", kmodx_module_get_name(ps->mod));
	else if (r < 0)
		ERR("could not read the parameters of %s: %s",
		    kmodx_module_get_name(ps->mod), strerror(-r));
	return r;
}

static int apply_writes(struct params *ps, struct write *writes, size_t n, bool json)
{
	char buf[256];
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		struct write *wr = &writes[i];

		wr->err = kmodx_module_set_param_value(ps->mod, wr->name, wr->value);
		if (wr->err < 0) {
			ERR("could not set parameter %s of %s to '%s': %s", wr->name,
			    kmodx_module_get_name(ps->mod), wr->value,
			    why(ps, wr, buf, sizeof(buf)));
			r = wr->err;
		} else if (!json) {
			printf("%s=%s\n", wr->name, wr->value);
		}
	}
	return r;
}

/* NAME=VALUE words; -EINVAL (reported) for a word without '='. */
static int parse_writes(char **words, int n, struct write *writes)
{
	for (int i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');

		if (eq == NULL || eq == words[i]) {
			ERR("'%s': expected NAME=VALUE", words[i]);
			return -EINVAL;
		}
		*eq = '\0';
		writes[i] = (struct write){words[i], eq + 1, 0};
	}
	return 0;
}

static int run(struct kmodx_ctx *ctx, const char *name, char **words, int nw, bool json)
{
	struct params ps = {NULL, NULL, NULL, NULL, NULL};
	_cleanup_free_ struct write *writes = calloc((size_t)nw + 1, sizeof(*writes));
	int r = writes ? 0 : -ENOMEM;

	if (r == 0)
		r = parse_writes(words, nw, writes);
	if (r == 0 && kmodx_module_new_from_name(ctx, name, &ps.mod) < 0) {
		ERR("invalid module name '%s'", name);
		r = -EINVAL;
	}
	if (r == 0)
		r = read_values(&ps);
	if (r == 0 && kmodx_module_get_param_decls(ps.mod, &ps.descs, &ps.types) < 0)
		ps.descs = ps.types =
			NULL; /* no module file: no types and descriptions */
	if (r == 0 && kmodx_module_get_param_origins(ps.mod, &ps.origins) < 0)
		ps.origins = NULL; /* unreadable configuration: nothing to attribute */
	bool written = r == 0 && nw > 0;

	if (written) {
		r = apply_writes(&ps, writes, (size_t)nw, json);
		kmodx_kvlist_free(ps.values);
		ps.values = NULL;
		if (kmodx_module_get_param_values(ps.mod, &ps.values) < 0)
			ps.values = NULL;
	}
	/* after writes, the document says how each went, even when some failed */
	if (json && (r == 0 || written)) {
		int e = print_json(&ps, writes, (size_t)nw);

		r = r < 0 ? r : e;
	} else if (r == 0 && nw == 0) {
		print_plain(&ps);
	}
	kmodx_kvlist_free(ps.values);
	kmodx_kvlist_free(ps.descs);
	kmodx_kvlist_free(ps.types);
	kmodx_kvlist_free(ps.origins);
	kmodx_module_unref(ps.mod);
	return r;
}

static int do_params(int argc, char *argv[])
{
	const char *root = NULL;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	bool json = false;
	int c, r;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'h':
			opt_help(usage, opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		ERR("missing module name.");
		return EXIT_FAILURE;
	}
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = run(ctx, argv[optind], argv + optind + 1, argc - optind - 1, json);
	kmodx_ctx_unref(ctx);
	if (fflush(stdout) != 0)
		r = -errno;
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_params = {"params", do_params,
				 "show or change a loaded module's parameters"};
