// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kmodx: one binary for every tool. Called as lsmod, insmod, rmmod, modinfo, modprobe or
 * depmod it is that tool; called as kmodx (or kmod) it takes the tool as its first
 * argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static const struct tool *const tools[] = {
	&tool_lsmod,    &tool_insmod, &tool_rmmod,        &tool_modinfo,
	&tool_modprobe, &tool_depmod, &tool_static_nodes, &tool_taint,
	&tool_params,   &tool_sign,   &tool_verify, &tool_modules_load,
};

unsigned stdio_closed;

static void guard_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		stdio_closed |= 1u << fd;
		n = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (n >= 0 && n != fd) {
			dup2(n, fd); /* without O_CLOEXEC, like any standard descriptor */
			close(n);
		} else if (n == fd) {
			fcntl(fd, F_SETFD, 0);
		}
	}
}

static const struct tool *find_tool(const char *name)
{
	if (strcmp(name, "list") == 0)
		return &tool_lsmod;
	if (strcmp(name, "sign-file") == 0)
		return &tool_sign;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (strcmp(tools[i]->name, name) == 0)
			return tools[i];
	}
	return NULL;
}

/* The names that take the tool as the first argument; kmodx-crypto is the helper. */
static bool is_kmodx(const char *name)
{
	return !strcmp(name, "kmodx") || !strcmp(name, "kmod") ||
	       !strcmp(name, "kmodx-crypto");
}

static void help(FILE *f)
{
	fprintf(f, "kmodx - manage Linux kernel modules\n"
		   "Usage:\n"
		   "\tkmodx [options] command [command options]\n"
		   "\tlsmod|insmod|rmmod|modinfo|modprobe|depmod [options] ...\n"
		   "Options:\n"
		   "\t-V, --version     show version\n"
		   "\t-h, --help        show this help\n"
		   "Commands:\n"
		   "\thelp             show this help\n"
		   "\tlist             list loaded modules (lsmod)\n");
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		fprintf(f, "\t%-16s %s\n", tools[i]->name, tools[i]->summary);
}

#ifdef KMODX_CRYPTO_HELPER
/*
 * This kmodx is static and has no libcrypto (see meson.build): sign and verify run in
 * the dynamic helper, the same program built to load libcrypto. It is looked for next
 * to this binary first (the build tree), then where it is installed.
 */
static int run_helper(const char *name, char *argv[])
{
	char self[PATH_MAX], helper[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	helper[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash &&
		    (size_t)snprintf(helper, sizeof(helper), "%.*s/kmodx-crypto",
				     (int)(slash - self), self) < sizeof(helper) &&
		    access(helper, X_OK) != 0)
			helper[0] = '\0';
	}
	if (helper[0] == '\0')
		snprintf(helper, sizeof(helper), "%s", KMODX_CRYPTO_HELPER);
	argv[0] = (char *)name;
	execv(helper, argv);
	fprintf(stderr, "%s: ERROR: %s needs the helper %s (linked with libcrypto): %s\n",
		name, name, helper, strerror(errno));
	return EXIT_FAILURE;
}
#endif

static int run(const struct tool *t, const char *name, int argc, char *argv[])
{
	program_name = strcmp(name, "sign-file") == 0 ? "sign-file" : t->name;
#ifdef KMODX_CRYPTO_HELPER
	if (t == &tool_sign || t == &tool_verify)
		return run_helper(program_name, argv);
#endif
	return t->main(argc, argv);
}

int main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/');
	const struct tool *t;

	guard_stdio();
	name = name ? name + 1 : argv[0];
	t = is_kmodx(name) ? NULL : find_tool(name);
	if (t)
		return run(t, name, argc, argv);
	if (!is_kmodx(name)) {
		fprintf(stderr,
			"kmodx: ERROR: unknown program name '%s': call it as one of "
			"lsmod, "
			"insmod, rmmod, modinfo, modprobe, depmod, sign-file, or as "
			"kmodx COMMAND\n",
			name);
		return EXIT_FAILURE;
	}
	if (argc < 2) {
		fprintf(stderr, "kmodx: ERROR: missing command\n");
		help(stderr);
		return EXIT_FAILURE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help(stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		print_version();
		return EXIT_SUCCESS;
	}
	t = find_tool(argv[1]);
	if (t == NULL) {
		fprintf(stderr, "kmodx: ERROR: unknown command '%s'\n", argv[1]);
		help(stderr);
		return EXIT_FAILURE;
	}
	return run(t, argv[1], argc - 1, argv + 1);
}
