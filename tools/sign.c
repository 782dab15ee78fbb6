// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kmodx sign, also called as sign-file: the kernel's scripts/sign-file, same command
 * lines and output bytes, plus compressed modules and --resign (libkmodx/sign.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum { OPT_RESIGN = OPT_LONG_FIRST };

static const struct tool_opt opts[] = {
	{'p', "save-signature", no_argument, NULL,
	 "also write the signature to MODULE.p7s"},
	{'d', "detached", no_argument, NULL,
	 "write only MODULE.p7s, leave the module as it is"},
	{'s', "raw-signature", no_argument, NULL,
	 "append the signature file RAWSIG made elsewhere"},
	{'k', "key-id", no_argument, NULL,
	 "name the signer by subjectKeyIdentifier, not issuer and serial"},
	{OPT_RESIGN, "resign", no_argument, NULL,
	 "remove the signatures it carries first"},
	TOOL_OPT_VERSION,
	TOOL_OPT_HELP,
};

static const char usage[] = "\tsign [-dpk] [--resign] HASH KEY X509 MODULE [DEST]\n"
			    "\tsign -s [--resign] RAWSIG HASH X509 MODULE [DEST]";

static int usage_error(void)
{
	fprintf(stderr,
		"Usage:\n\t%s [-dpk] [--resign] HASH KEY X509 MODULE [DEST]\n"
		"\t%s -s [--resign] RAWSIG HASH X509 MODULE [DEST]\n",
		program_name, program_name);
	return 2; /* sign-file's status for a bad command line */
}

static int run(struct kmodx_sign_opts *o, int argc, char *argv[])
{
	const char *module, *dest = NULL;
	struct kmodx_ctx *ctx;
	int r;

	if (argc < 4 || argc > 5)
		return usage_error();
	if (o->raw_sig) {
		o->raw_sig = argv[0];
		o->hash = argv[1];
	} else {
		o->hash = argv[0];
		o->key = argv[1];
	}
	o->cert = argv[2];
	module = argv[3];
	if (argc == 5 && strcmp(argv[3], argv[4]) != 0)
		dest = argv[4];
	o->pin = getenv("KBUILD_SIGN_PIN");
	if (tool_ctx_new(NULL, &ctx) < 0)
		return EXIT_FAILURE;
	r = kmodx_sign_module(ctx, module, dest, o);
	kmodx_ctx_unref(ctx);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int do_sign(int argc, char *argv[])
{
	struct kmodx_sign_opts o = {0};
	struct opt_parser p;
	int c;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'p':
			o.flags |= KMODX_SIGN_KEEP_DETACHED;
			break;
		case 'd':
			o.flags |= KMODX_SIGN_DETACHED_ONLY;
			break;
		case 's':
			o.raw_sig = ""; /* the file name is the first argument */
			break;
		case 'k':
			o.flags |= KMODX_SIGN_USE_KEYID;
			break;
		case OPT_RESIGN:
			o.flags |= KMODX_SIGN_RESIGN;
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			opt_help(usage, opts, ARRAY_SIZE(opts));
			return EXIT_SUCCESS;
		default:
			return usage_error();
		}
	}
	return run(&o, argc - optind, argv + optind);
}

const struct tool tool_sign = {"sign", do_sign, "sign a module (as scripts/sign-file)"};
