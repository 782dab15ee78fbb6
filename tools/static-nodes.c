// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'f', "format", required_argument, "FORMAT",
	 "human (default), tmpfiles or devname"},
	{'o', "output", required_argument, "FILE", "write output to FILE"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_HELP,
};

enum format { HUMAN, TMPFILES, DEVNAME };

static const char usage[] = "\tkmodx static-nodes [options]\n\n"
			    "Prints the static device nodes of the running kernel's modules.";

static int print_node(FILE *out, enum format fmt, const char *mod, const char *dev,
		      uint64_t n)
{
	char type = KMODX_DEVNODE_TYPE(n);
	unsigned maj = KMODX_DEVNODE_MAJOR(n), min = KMODX_DEVNODE_MINOR(n);
	const char *slash;

	switch (fmt) {
	case HUMAN:
		return fprintf(out,
			       "Module: %s\n\tDevice node: /dev/%s\n\t\tType: %s device\n"
			       "\t\tMajor: %u\n\t\tMinor: %u\n",
			       mod, dev, type == 'c' ? "character" : "block", maj, min);
	case TMPFILES:
		slash = strrchr(dev, '/');
		if (slash && fprintf(out, "d /dev/%.*s 0755 - - -\n", (int)(slash - dev), dev) < 0)
			return -1;
		return fprintf(out, "%c! /dev/%s 0600 - - - %u:%u\n", type, dev, maj, min);
	default:
		return fprintf(out, "%s %s %c%u:%u\n", mod, dev, type, maj, min);
	}
}

static int print_json(FILE *out, const struct kmodx_kvlist *nodes)
{
	struct json_writer w;

	tool_json_begin(&w, out, 1);
	json_key(&w, "nodes");
	json_array_begin(&w);
	for (size_t i = 0; i < kmodx_kvlist_count(nodes); i++) {
		uint64_t n = kmodx_kvlist_number(nodes, i);
		char type[2] = {KMODX_DEVNODE_TYPE(n), '\0'};

		json_object_begin(&w);
		json_member_string(&w, "module", kmodx_kvlist_key(nodes, i));
		json_member_string(&w, "devname", kmodx_kvlist_value(nodes, i));
		json_member_string(&w, "type", type);
		json_member_uint(&w, "major", KMODX_DEVNODE_MAJOR(n));
		json_member_uint(&w, "minor", KMODX_DEVNODE_MINOR(n));
		json_object_end(&w);
	}
	json_array_end(&w);
	return tool_json_end(&w);
}

/* Create FILE's parent directories, then FILE. */
static FILE *open_output(const char *file)
{
	char *dir = strdup(file), *slash;
	FILE *f;

	if (dir && (slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p == '/') {
				*p = '\0';
				mkdir(dir, 0755);
				*p = '/';
			}
		}
		mkdir(dir, 0755);
	}
	free(dir);
	f = fopen(file, "we");
	if (f == NULL)
		ERR("could not create %s: %s", file, strerror(errno));
	return f;
}

static int do_static_nodes(int argc, char *argv[])
{
	struct kmodx_kvlist *nodes = NULL;
	const char *root = NULL, *output = NULL;
	struct kmodx_ctx *ctx;
	struct opt_parser p;
	enum format fmt = HUMAN;
	bool json = false;
	FILE *out = stdout;
	int c, r;

	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "human") == 0) {
				fmt = HUMAN;
			} else if (strcmp(optarg, "tmpfiles") == 0) {
				fmt = TMPFILES;
			} else if (strcmp(optarg, "devname") == 0) {
				fmt = DEVNAME;
			} else {
				/* kmod's wording and layout: the message, then the usage */
				fprintf(stderr, "Unknown format: '%s'.\n", optarg);
				opt_help(usage, opts, ARRAY_SIZE(opts));
				return EXIT_FAILURE;
			}
			break;
		case 'o':
			output = optarg;
			break;
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
	if (tool_ctx_new(root, &ctx) < 0)
		return EXIT_FAILURE;
	r = kmodx_get_devnodes(ctx, &nodes);
	if (r == -ENOENT) {
		/* kmod prints this whatever the log level */
		fprintf(stderr, "Warning: %s/modules.devname not found - ignoring\n",
			kmodx_ctx_get_module_dir(ctx));
		r = 0; /* nothing to list: JSON still gets its (empty) document */
		if (!json) {
			kmodx_ctx_unref(ctx);
			return EXIT_SUCCESS;
		}
	}
	if (r < 0) {
		ERR("could not read %s/modules.devname: %s", kmodx_ctx_get_module_dir(ctx),
		    strerror(-r));
		kmodx_ctx_unref(ctx);
		return EXIT_FAILURE;
	}
	if (output && (out = open_output(output)) == NULL)
		r = -errno;
	if (r == 0 && json)
		r = print_json(out, nodes); /* logs its own errors */
	for (size_t i = 0; r == 0 && !json && i < kmodx_kvlist_count(nodes); i++) {
		if (print_node(out, fmt, kmodx_kvlist_key(nodes, i), kmodx_kvlist_value(nodes, i),
			       kmodx_kvlist_number(nodes, i)) < 0)
			r = -errno;
	}
	if (out && fflush(out) != 0 && r == 0)
		r = -errno;
	if (out && out != stdout)
		fclose(out);
	if (r < 0 && !json)
		ERR("could not write the nodes: %s", strerror(-r));
	kmodx_kvlist_free(nodes);
	kmodx_ctx_unref(ctx);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_static_nodes = {"static-nodes", do_static_nodes,
				       "list the static device nodes of modules"};
