// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kmodx modules-load: systemd-modules-load without systemd. The library reads and
 * loads (kmodx_modules_load); this file words each outcome as systemd-modules-load
 * does and decides the exit status the same way: a module that cannot be found, or
 * whose load fails with ENOENT or ENODEV, does not fail the run; any other failure,
 * and a file that cannot be read, does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'j', "jobs", required_argument, "N",
	 "load up to N modules at once (default: CPUs)"},
	{'n', "dry-run", no_argument, NULL, "load nothing; with -v, print the actions"},
	{'v', "verbose", no_argument, NULL, "print each module's outcome (twice: debug)"},
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static const char usage[] = "\tkmodx modules-load [options] [FILE...]\n\n"
			    "Loads the modules listed by modules-load.d, /etc/modules and\n"
			    "modules_load= on the kernel command line, or only those of the\n"
			    "files given.";

struct ml {
	bool failed;
	bool dry_run;
};

static void show_line(void *data, const char *line)
{
	(void)data;
	INFO("%s", line);
}

static void report_failure(struct ml *ml, const struct kmodx_modules_load_result *res)
{
	const char *name = kmodx_module_get_name(res->module);
	int err = -res->error;
	int prio = err == ENODEV ? LOG_NOTICE : err == ENOENT ? LOG_WARNING : LOG_ERR;

	tool_log(prio, "Failed to insert module '%s': %s", name, strerror(err));
	if (res->failure.stage == KMODX_PROBE_STAGE_MASK)
		explain_mask_error(name, res->failure.module);
	else if (res->failure.stage == KMODX_PROBE_STAGE_KERNEL && err == EINVAL)
		explain_options_error(res->failure.module);
	if (err != ENODEV && err != ENOENT)
		ml->failed = true;
}

static void report(void *data, const struct kmodx_modules_load_result *res)
{
	struct ml *ml = data;
	const char *name = res->module ? kmodx_module_get_name(res->module) : res->name;

	switch (res->status) {
	case KMODX_MODULES_LOAD_NOT_FOUND:
		/* listed, but not here: systemd does not count this as a failure */
		ERR("Failed to find module '%s'", res->name);
		DBG("'%s' is listed at %s", res->name, res->origin);
		break;
	case KMODX_MODULES_LOAD_BUILTIN:
		INFO("Module '%s' is built in", name);
		break;
	case KMODX_MODULES_LOAD_ALREADY:
		DBG("Module '%s' is already loaded", name);
		break;
	case KMODX_MODULES_LOAD_BLACKLISTED:
		INFO("Module '%s' is deny-listed", name);
		break;
	case KMODX_MODULES_LOAD_INSERTED:
		INFO(ml->dry_run ? "Would insert module '%s'" : "Inserted module '%s'",
		     name);
		break;
	case KMODX_MODULES_LOAD_FAILED:
		if (res->module == NULL) {
			ERR("Failed to look up module alias '%s': %s", res->name,
			    strerror(-res->error));
			ml->failed = true;
		} else {
			report_failure(ml, res);
		}
		break;
	}
}

static int parse_jobs(const char *s, unsigned *jobs)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 1024) {
		ERR("invalid number of jobs '%s': give 1 to 1024", s);
		return -EINVAL;
	}
	*jobs = (unsigned)v;
	return 0;
}

static int do_modules_load(int argc, char *argv[])
{
	struct kmodx_modules_load_opts o = {.report = report};
	struct ml ml = {false, false};
	struct kmodx_ctx *ctx;
	const char *root = NULL;
	int verbose = LOG_WARNING, c, r;
	struct opt_parser p;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'j':
			if (parse_jobs(optarg, &o.jobs) < 0)
				return EXIT_FAILURE;
			break;
		case 'n':
			o.flags |= KMODX_MODULES_LOAD_DRY_RUN;
			ml.dry_run = true;
			break;
		case 'v':
			verbose = verbose == LOG_WARNING ? LOG_INFO : LOG_DEBUG;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help(usage, opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_set_priority(verbose);
	if (optind < argc)
		o.files = (const char *const *)argv + optind;
	if (verbose > LOG_WARNING)
		o.show = show_line;
	o.data = &ml;
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = kmodx_modules_load(ctx, &o);
	if (r < 0 && r != -EIO)
		ERR("could not load modules: %s", strerror(-r));
	kmodx_ctx_unref(ctx);
	return r < 0 || ml.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_modules_load = {
	"modules-load", do_modules_load,
	"load the modules modules-load.d lists, in parallel"};
