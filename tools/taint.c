// SPDX-License-Identifier: GPL-2.0-or-later
/* kmodx taint: why the kernel is tainted, and by which modules. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct tool_opt opts[] = {
	{'q', "quiet", no_argument, NULL,
	 "print nothing: exit 0 if not tainted, 1 if tainted"},
	TOOL_OPT_JSON,
	TOOL_OPT_ROOT,
	TOOL_OPT_HELP,
};

static const char usage[] =
	"\tkmodx taint [options] [NUMBER]\n\n"
	"Decodes the kernel's taint flags: those of the running kernel, or\n"
	"NUMBER (a value of /proc/sys/kernel/tainted, decimal or 0x-hex).";

/* Exit status with --quiet when the answer is unknown. */
#define EXIT_UNKNOWN 2

struct taint {
	uint64_t mask;
	struct kmodx_kvlist *modules; /* NULL when decoding a number given */
};

static int parse_number(const char *s, uint64_t *v)
{
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno || *end ? -EINVAL : 0;
}

/* The modules carrying bit, as "a b c" in buf; false if none. */
static bool modules_with(const struct taint *t, unsigned bit, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kmodx_kvlist_count(t->modules); i++) {
		if (!((kmodx_kvlist_number(t->modules, i) >> bit) & 1))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
				      n ? ", " : "", kmodx_kvlist_key(t->modules, i));
	}
	return n > 0;
}

/* Module letters that no set bit of the mask accounts for: unknown letters, or a
 * module flag the kernel's value lacks (a damaged or hand-made tree). */
static void print_other_module_taints(const struct taint *t)
{
	bool header = false;

	for (size_t i = 0; i < kmodx_kvlist_count(t->modules); i++) {
		const char *letters = kmodx_kvlist_value(t->modules, i);

		for (const char *p = letters; *p; p++) {
			int bit = kmodx_taint_bit(*p);

			if (bit >= 0 && ((t->mask >> bit) & 1))
				continue;
			if (!header)
				puts("Module taints the kernel's value does not show:");
			header = true;
			printf(" %c  %s\n", *p, kmodx_kvlist_key(t->modules, i));
		}
	}
}

static int print_plain(const struct taint *t)
{
	char str[KMODX_TAINT_STRING_MAX], mods[4096];

	kmodx_taint_string(t->mask, str, sizeof(str));
	printf("%s\nValue: %" PRIu64 " (0x%" PRIx64 ")\n", str, t->mask, t->mask);
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *desc = kmodx_taint_description(bit);

		if (!((t->mask >> bit) & 1))
			continue;
		printf(" %c  %2u  %s", kmodx_taint_letter(bit), bit,
		       desc ? desc : "a flag kmodx does not know");
		if (t->modules && modules_with(t, bit, mods, sizeof(mods)))
			printf(" (modules: %s)", mods);
		putchar('\n');
	}
	print_other_module_taints(t);
	return fflush(stdout) == 0 ? 0 : -errno;
}

static void json_modules_of(struct json_writer *w, const struct taint *t, unsigned bit)
{
	json_key(w, "modules");
	json_array_begin(w);
	for (size_t i = 0; i < kmodx_kvlist_count(t->modules); i++) {
		if ((kmodx_kvlist_number(t->modules, i) >> bit) & 1)
			json_string(w, kmodx_kvlist_key(t->modules, i));
	}
	json_array_end(w);
}

static int print_json(const struct taint *t)
{
	char str[KMODX_TAINT_STRING_MAX], letter[2] = "";
	struct json_writer w;

	kmodx_taint_string(t->mask, str, sizeof(str));
	tool_json_begin(&w, stdout, 1);
	json_member_uint(&w, "value", t->mask);
	json_member_bool(&w, "tainted", t->mask != 0);
	json_member_string(&w, "string", str);
	json_key(&w, "flags");
	json_array_begin(&w);
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!((t->mask >> bit) & 1))
			continue;
		letter[0] = kmodx_taint_letter(bit);
		json_object_begin(&w);
		json_member_uint(&w, "bit", bit);
		json_member_string(&w, "letter", letter);
		json_member_string(&w, "name", kmodx_taint_name(bit));
		json_member_string(&w, "description", kmodx_taint_description(bit));
		json_modules_of(&w, t, bit);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_key(&w, "modules");
	if (t->modules == NULL)
		json_null(&w);
	else
		json_array_begin(&w);
	for (size_t i = 0; i < kmodx_kvlist_count(t->modules); i++) {
		json_object_begin(&w);
		json_member_string(&w, "name", kmodx_kvlist_key(t->modules, i));
		json_member_string(&w, "taint", kmodx_kvlist_value(t->modules, i));
		json_object_end(&w);
	}
	if (t->modules)
		json_array_end(&w);
	return tool_json_end(&w);
}

/* The running kernel's taint and its modules' (a missing module list only warns). */
static int read_kernel(struct kmodx_ctx *ctx, struct taint *t)
{
	char path[4096];
	int r = kmodx_get_taint(ctx, &t->mask);

	if (r < 0) {
		kmodx_ctx_resolve_path(ctx, "/proc/sys/kernel/tainted", path,
				       sizeof(path));
		if (r == -EINVAL)
			ERR("%s does not hold a taint value", path);
		else
			ERR("could not read %s: %s", path, strerror(-r));
		return r;
	}
	r = kmodx_get_module_taints(ctx, &t->modules);
	if (r < 0 && r != -ENOMEM) {
		kmodx_ctx_resolve_path(ctx, "/proc/modules", path, sizeof(path));
		WARN("could not read the modules' taints from %s: %s", path,
		     strerror(-r));
		r = 0;
	}
	return r;
}

static int do_taint(int argc, char *argv[])
{
	struct taint t = {0, NULL};
	const char *root = NULL;
	struct kmodx_ctx *ctx = NULL;
	bool quiet = false, json = false;
	struct opt_parser p;
	int c, r;

	/* a missing module list is worth a warning: the flags lose their attribution */
	log_set_priority(LOG_WARNING);
	opt_build(opts, ARRAY_SIZE(opts), &p);
	while ((c = opt_next(argc, argv, &p)) != -1) {
		switch (c) {
		case 'q':
			log_set_priority(LOG_ERR);
			quiet = true;
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
	if (argc - optind > 1) {
		ERR("too many arguments provided.");
		return quiet ? EXIT_UNKNOWN : EXIT_FAILURE;
	}
	if (optind < argc) {
		r = parse_number(argv[optind], &t.mask);
		if (r < 0)
			ERR("invalid taint value '%s': give a decimal number, or 0x and "
			    "hex digits",
			    argv[optind]);
	} else {
		r = tool_ctx_new(root, &ctx);
		if (r == 0)
			r = read_kernel(ctx, &t);
	}
	if (r == 0 && !quiet)
		r = json ? print_json(&t) : print_plain(&t);
	kmodx_kvlist_free(t.modules);
	kmodx_ctx_unref(ctx);
	if (quiet)
		return r < 0 ? EXIT_UNKNOWN : t.mask != 0;
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct tool tool_taint = {"taint", do_taint, "explain the kernel's taint flags"};
