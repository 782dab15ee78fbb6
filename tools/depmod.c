// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "depmod.h"
#include "tool.h"

enum { OPT_NO_CACHE = OPT_LONG_FIRST };

static const struct tool_opt opts[] = {
	{'a', "all", no_argument, NULL, "probe all modules (the default)"},
	{'A', "quick", no_argument, NULL, "only do the work if a module changed"},
	{'e', "errsyms", no_argument, NULL, "report symbols no module or the kernel provides"},
	{'n', "show", no_argument, NULL, "write the text files to stdout only"},
	{'n', "dry-run", no_argument, NULL, "same as --show"},
	{'P', "symbol-prefix", required_argument, "CHAR", "architecture symbol prefix"},
	{'C', "config", required_argument, "PATH", "read configuration from PATH (repeatable)"},
	{'v', "verbose", no_argument, NULL, "print every dependency and more messages"},
	{'w', "warn", no_argument, NULL, "warn about duplicate index entries"},
	{'b', "basedir", required_argument, "DIR",
	 "use an image of a module tree under DIR"},
	{'m', "moduledir", required_argument, "DIR",
	 "module directory instead of /lib/modules"},
	{'o', "outdir", required_argument, "DIR",
	 "write the indexes under DIR instead of basedir"},
	{'F', "filesyms", required_argument, "FILE",
	 "kernel symbols from System.map FILE"},
	{'E', "symvers", required_argument, "FILE",
	 "kernel symbols and versions from Module.symvers"},
	{OPT_NO_CACHE, "no-cache", no_argument, NULL,
	 "read every module, not only the changed ones"},
	{'u', "unresolved-error", no_argument, NULL, NULL}, /* deprecated, ignored */
	{'q', "quiet", no_argument, NULL, NULL},	     /* deprecated, ignored */
	{'r', NULL, no_argument, NULL, NULL},		     /* deprecated, ignored */
	TOOL_OPT_ROOT,
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static bool is_version(const char *s)
{
	unsigned a, b;

	return sscanf(s, "%u.%u", &a, &b) == 2;
}

/* kmod resolves -b and -o against the current directory once, up front. */
static char *absolute(const char *path)
{
	char cwd[4096];
	char *p;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&p, "%s/%s", cwd, path) < 0)
		return NULL;
	return p;
}

static int do_depmod(int argc, char *argv[])
{
	struct depmod_options o = {.out_fd = STDOUT_FILENO};
	const char *config[64];
	size_t n_config = 0;
	_cleanup_free_ char *basedir = NULL, *outdir = NULL;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	const char *root = NULL;
	int c, r, prio = LOG_WARNING;

	log_set_priority(prio);
	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'a':
			break;
		case 'A':
			o.quick = true;
			break;
		case 'e':
			o.errsyms = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'P':
			if (optarg[0] == '\0' || optarg[1] != '\0') {
				tool_log(LOG_CRIT, "-P only takes a single char");
				return EXIT_FAILURE;
			}
			o.sym_prefix = optarg[0];
			break;
		case 'C':
			if (n_config + 1 >= ARRAY_SIZE(config)) {
				ERR("too many configuration paths");
				return EXIT_FAILURE;
			}
			config[n_config++] = optarg;
			config[n_config] = NULL;
			break;
		case 'v':
			prio++;
			o.verbose = true;
			break;
		case 'w':
			o.warn_dups = true;
			break;
		case 'b':
			free(basedir);
			basedir = absolute(optarg);
			break;
		case 'm':
			o.moduledir = optarg;
			break;
		case 'o':
			free(outdir);
			outdir = absolute(optarg);
			break;
		case 'F':
			o.system_map = optarg;
			break;
		case 'E':
			o.symvers = optarg;
			break;
		case OPT_NO_CACHE:
			o.no_cache = true;
			break;
		case 'u':
		case 'q':
		case 'r':
			WARN("Ignored deprecated option -%c", c);
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help("\tdepmod -[aA] [options] [forced_version] [module "
				 "files...]\n\n"
				 "With no module files, every module of the tree is "
				 "indexed.",
				 opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}
	log_set_priority(prio);
	if (optind < argc) {
		if (!is_version(argv[optind])) {
			ERR("Bad version passed %s", argv[optind]);
			return EXIT_FAILURE;
		}
		o.kver = argv[optind++];
	}
	o.files = (const char *const *)argv + optind;
	o.basedir = basedir;
	o.outdir = outdir;
	o.config_paths = n_config ? config : NULL;
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = depmod_run(ctx, &o);
	kmodx_ctx_unref(ctx);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_depmod = {"depmod", do_depmod, "generate module dependency indexes"};
