/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the tools share: the command table, option tables (one per tool: they drive
 * getopt, --help and the man page check), and logging in kmod's format
 * ("<tool>: ERROR: ...").
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "libkmodx.h"
#include "util/json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))

struct tool {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
};

extern const struct tool tool_lsmod, tool_insmod, tool_rmmod, tool_modinfo, tool_modprobe,
	tool_depmod, tool_static_nodes, tool_taint, tool_params, tool_sign, tool_verify,
	tool_modules_load;

/* Long-only options get ids from here on. */
enum { OPT_ROOT = 0x100, OPT_JSON, OPT_LONG_FIRST };

struct tool_opt {
	int id;		     /* the short option character, or an id >= OPT_ROOT */
	const char *lname;   /* long name */
	int arg;	     /* no_argument, required_argument, optional_argument */
	const char *metavar; /* for --help */
	const char *help;
};

/* The options every tool has. */
#define TOOL_OPT_ROOT                                                                  \
	{OPT_ROOT, "root", required_argument, "DIR",                                   \
	 "resolve every system path under DIR (offline images, tests)"}
#define TOOL_OPT_JSON                                                                  \
	{OPT_JSON, "json", no_argument, NULL,                                          \
	 "write one JSON document instead (schema in the man page)"}
#define TOOL_OPT_VERSION {'V', "version", no_argument, NULL, "show version"}
#define TOOL_OPT_HELP    {'h', "help", no_argument, NULL, "show this help"}

struct opt_parser {
	struct option longopts[64];
	char shortopts[128];
};

void opt_build(const struct tool_opt *opts, size_t n, struct opt_parser *p);
void opt_help(const char *usage, const struct tool_opt *opts, size_t n);
/* getopt_long over a table. */
int opt_next(int argc, char *argv[], const struct opt_parser *p);

/* ---- logging ---- */

extern const char *program_name;

/*
 * Which standard descriptors were closed at start-up (bit n for descriptor n). They are
 * reopened on /dev/null first thing, so that no file the tools open becomes "stderr"
 * and receives messages; modprobe logs to syslog when bit 2 is set, as kmod does.
 */
extern unsigned stdio_closed;

void log_open(bool use_syslog);
void log_close(void);
void log_set_priority(int prio);
int log_get_priority(void);
void tool_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Send this thread's log lines to f instead of stderr (NULL: back to stderr). */
void log_capture(FILE *f);
/* Route a context's library messages through tool_log(). */
void log_setup_ctx(struct kmodx_ctx *ctx);

#define ERR(...)  tool_log(LOG_ERR, __VA_ARGS__)
#define WARN(...) tool_log(LOG_WARNING, __VA_ARGS__)
#define INFO(...) tool_log(LOG_INFO, __VA_ARGS__)
#define DBG(...)  tool_log(LOG_DEBUG, __VA_ARGS__)

/* "kmodx version X" and the feature line. */
void print_version(void);

/* A context with logging set up and, if root is not NULL, that root. Logs and returns
 * a negative errno on failure. */
int tool_ctx_new(const char *root, struct kmodx_ctx **ctx);

/*
 * --json output: a pretty-printed document on out (stdout, or a file), an object that
 * starts with "schema": version. tool_json_end() closes it, flushes the file and
 * returns 0, or logs why the document could not be written and returns a negative
 * errno.
 */
void tool_json_begin(struct json_writer *w, FILE *out, unsigned schema);
int tool_json_end(struct json_writer *w);

/* The kernel's errno, the way kmod's tools word it when inserting. */
const char *insert_strerror(int err);

/* After the kernel refused mod (inserted with flags) with err: one more line saying
 * why, for EKEYREJECTED, ENOKEY and EBADMSG (unsigned, unknown key, enforcement,
 * damaged signature). */
void explain_signature_error(struct kmodx_module *mod, int err, unsigned flags);

/* The origin ("FILE:LINE", "kernel command line") of the first configuration entry of
 * this kind that applies to mod into buf: 1, 0 if there is none, or a negative errno. */
int config_origin_of(struct kmodx_module *mod, enum kmodx_config_kind kind, char *buf,
		     size_t size);
/* One error line: requested could not be loaded because masked (itself or a module it
 * needs) is masked, naming the mask line. */
void explain_mask_error(const char *requested, struct kmodx_module *masked);
/* After the kernel refused mod's options: one line naming where each options entry of
 * mod came from (file and line, or the kernel command line); nothing if it had none. */
void explain_options_error(struct kmodx_module *mod);

/* modprobe --explain: how name resolves and what loading it would do, each decision
 * with its source; plain text, or into w (a "explain" array member's element) when w is
 * not NULL. flags: the probe flags modprobe would use. 0 or a negative errno. */
struct json_writer;
int modprobe_explain(struct kmodx_ctx *ctx, const char *name, unsigned flags,
		     struct json_writer *w);

/* Module options from command-line words, joined with spaces; a value with a space and
 * no leading quote is quoted (k=v w becomes k="v w") so the kernel keeps it whole.
 * malloc'ed; NULL on ENOMEM. */
char *options_from_argv(int n, char *const *words);

static inline void freep_tool(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep_tool)))
