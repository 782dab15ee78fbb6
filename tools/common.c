// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

const char *program_name = "kmodx";
static bool log_syslog;
static int log_prio = LOG_ERR;
static __thread FILE *log_sink;

void log_capture(FILE *f)
{
	log_sink = f;
}

void opt_build(const struct tool_opt *opts, size_t n, struct opt_parser *p)
{
	char *s = p->shortopts;

	size_t nl = 0;

	memset(p, 0, sizeof(*p));
	s = p->shortopts;
	for (size_t i = 0; i < n && nl + 1 < sizeof(p->longopts) / sizeof(p->longopts[0]); i++) {
		if (opts[i].lname)
			p->longopts[nl++] = (struct option){opts[i].lname, opts[i].arg, NULL, opts[i].id};
		if (opts[i].id < OPT_ROOT) {
			*s++ = (char)opts[i].id;
			if (opts[i].arg != no_argument)
				*s++ = ':';
			if (opts[i].arg == optional_argument)
				*s++ = ':';
		}
	}
	*s = '\0';
}

int opt_next(int argc, char *argv[], const struct opt_parser *p)
{
	return getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
}

void opt_help(const char *usage, const struct tool_opt *opts, size_t n)
{
	printf("Usage:\n%s\nOptions:\n", usage);
	for (size_t i = 0; i < n; i++) {
		char left[64];
		int len;

		if (opts[i].help == NULL || opts[i].lname == NULL)
			continue; /* deprecated spellings stay out of the help */
		if (opts[i].id < OPT_ROOT)
			len = snprintf(left, sizeof(left), "-%c, --%s", opts[i].id, opts[i].lname);
		else
			len = snprintf(left, sizeof(left), "    --%s", opts[i].lname);
		if (opts[i].metavar && len > 0 && (size_t)len < sizeof(left))
			snprintf(left + len, sizeof(left) - (size_t)len, "=%s", opts[i].metavar);
		printf("\t%-26s %s\n", left, opts[i].help);
	}
}

void print_version(void)
{
#ifdef KMODX_TOOL_FEATURES
	printf("kmodx version %s\n%s\n", VERSION, KMODX_TOOL_FEATURES);
#else
	printf("kmodx version %s\n%s\n", VERSION, KMODX_FEATURES);
#endif
}

void log_open(bool use_syslog)
{
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(program_name, LOG_CONS, LOG_DAEMON);
}

void log_close(void)
{
	if (log_syslog)
		closelog();
}

void log_set_priority(int prio)
{
	log_prio = prio;
}

int log_get_priority(void)
{
	return log_prio;
}

static void log_line(int prio, const char *msg)
{
	if (prio > log_prio)
		return;
	if (log_sink)
		fprintf(log_sink, "%s: %s: %s\n", program_name, kmodx_log_priority_name(prio), msg);
	else if (log_syslog)
		syslog(prio, "%s: %s", kmodx_log_priority_name(prio), msg);
	else
		fprintf(stderr, "%s: %s: %s\n", program_name, kmodx_log_priority_name(prio), msg);
}

void tool_log(int prio, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(prio, buf);
}

static void ctx_log_fn(void *data, int prio, const char *msg)
{
	(void)data;
	log_line(prio, msg);
}

void log_setup_ctx(struct kmodx_ctx *ctx)
{
	kmodx_ctx_set_log_fn(ctx, ctx_log_fn, NULL);
	kmodx_ctx_set_log_priority(ctx, log_prio);
}

int tool_ctx_new(const char *root, struct kmodx_ctx **out)
{
	struct kmodx_ctx *ctx;
	int r = kmodx_ctx_new(&ctx);

	if (r < 0) {
		ERR("could not create the library context: %s", strerror(-r));
		return r;
	}
	log_setup_ctx(ctx);
	if (root) {
		r = kmodx_ctx_set_root(ctx, root);
		if (r < 0) {
			ERR("invalid root directory '%s': %s", root, strerror(-r));
			kmodx_ctx_unref(ctx);
			return r;
		}
	}
	*out = ctx;
	return 0;
}

void tool_json_begin(struct json_writer *w, FILE *out, unsigned schema)
{
	json_writer_init_file(w, out, JSON_PRETTY);
	json_object_begin(w);
	json_member_uint(w, "schema", schema);
}

int tool_json_end(struct json_writer *w)
{
	int r;

	json_object_end(w);
	r = json_writer_finish(w);
	if (r == 0 && fflush(w->f) != 0)
		r = -errno;
	if (r < 0)
		ERR("could not write the JSON document: %s", strerror(-r));
	return r;
}

const char *insert_strerror(int err)
{
	switch (err) {
	case ENOEXEC:
		return "Invalid module format";
	case ENOENT:
		return "Unknown symbol in module";
	case ESRCH:
		return "Module has wrong symbol version";
	case EINVAL:
		return "Invalid parameters";
	default:
		return strerror(err);
	}
}

void explain_signature_error(struct kmodx_module *mod, int err, unsigned flags)
{
	char *text = NULL;

	if (kmodx_module_explain_signature_error(mod, err, flags, &text) == 0)
		ERR("%s", text);
	free(text);
}

char *options_from_argv(int n, char *const *words)
{
	size_t len = 1;
	char *out, *p;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 3;
	out = p = malloc(len);
	if (out == NULL)
		return NULL;
	*p = '\0';
	for (int i = 0; i < n; i++) {
		const char *w = words[i], *value = strchr(w, '=');
		bool quote = value && value[1] != '"' && value[1] != '\'' && strchr(value, ' ');

		if (i > 0)
			*p++ = ' ';
		if (quote)
			p += sprintf(p, "%.*s\"%s\"", (int)(value + 1 - w), w, value + 1);
		else
			p += sprintf(p, "%s", w);
	}
	return out;
}

int config_origin_of(struct kmodx_module *mod, enum kmodx_config_kind kind, char *buf,
		     size_t size)
{
	struct kmodx_kvlist *list = NULL;
	int r = kmodx_module_get_config(mod, &list);

	for (size_t i = 0; r == 0 && i < kmodx_kvlist_count(list); i++) {
		if (kmodx_kvlist_number(list, i) == (uint64_t)kind) {
			snprintf(buf, size, "%s", kmodx_kvlist_origin(list, i));
			kmodx_kvlist_free(list);
			return 1;
		}
	}
	kmodx_kvlist_free(list);
	return r < 0 ? r : 0;
}

void explain_mask_error(const char *requested, struct kmodx_module *masked)
{
	const char *name = kmodx_module_get_name(masked);
	char origin[PATH_MAX + 32] = "modprobe.d";

	config_origin_of(masked, KMODX_CONFIG_MASK, origin, sizeof(origin));
	if (strcmp(requested, name) == 0)
		ERR("could not insert '%s': %s is masked by %s", requested, name, origin);
	else
		ERR("could not insert '%s': it needs %s, which is masked by %s",
		    requested, name, origin);
}

void explain_options_error(struct kmodx_module *mod)
{
	struct kmodx_kvlist *list = NULL;
	char line[4096];
	size_t len = 0, n = 0;

	if (kmodx_module_get_config(mod, &list) < 0)
		return;
	for (size_t i = 0; i < kmodx_kvlist_count(list) && len < sizeof(line); i++) {
		if (kmodx_kvlist_number(list, i) != KMODX_CONFIG_OPTIONS)
			continue;
		const char *value = kmodx_kvlist_value(list, i),
			   *origin = kmodx_kvlist_origin(list, i);

		len += (size_t)snprintf(line + len, sizeof(line) - len,
					"%s'%s' from %s%s", n++ ? ", " : "",
					value + strspn(value, " "),
					strchr(origin, ':') ? "" : "the ", origin);
	}
	if (n > 0)
		ERR("the options of %s came from configuration: %s",
		    kmodx_module_get_name(mod), line);
	kmodx_kvlist_free(list);
}
