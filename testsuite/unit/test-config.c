// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * modprobe.d parsing (config.c) against modprobe.d(5) and kmod-reference.md §2.3-2.5:
 * directives, continuation lines, comments, bad lines, the kernel command line, and the
 * file search order under a context's root directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "conffile.h"
#include "config.h"
#include "libkmodx-private.h"
#include "libkmodx.h"
#include "util/path.h"
#include "unit.h"

/* ---- log capture ---- */

struct logbuf {
	char text[8192];
	size_t len;
	int count;
};

static void log_capture(void *data, int prio, const char *msg)
{
	struct logbuf *l = data;
	size_t room = sizeof(l->text) - l->len;
	int n = snprintf(l->text + l->len, room, "%d:%s\n", prio, msg);

	l->len += (size_t)n < room ? (size_t)n : room - 1;
	l->count++;
}

static struct kmodx_ctx *new_ctx(struct logbuf *log)
{
	struct kmodx_ctx *ctx = NULL;

	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	kmodx_ctx_set_log_fn(ctx, log_capture, log);
	kmodx_ctx_set_log_priority(ctx, LOG_ERR);
	return ctx;
}

/* Parse text into a fresh config. */
static struct config *parse(struct kmodx_ctx *ctx, const char *text)
{
	struct config *c = calloc(1, sizeof(*c));
	char *copy = strdup(text);

	assert_non_null(c);
	assert_non_null(copy);
	assert_int_equal(config_parse_text(ctx, c, "test.conf", copy, strlen(copy)), 0);
	free(copy);
	return c;
}

static const char *option_of(const struct config *c, size_t i, const char **name)
{
	const struct cfg_option *o;

	assert_true(i < c->options.n);
	o = c->options.v[i];
	*name = o->name;
	return o->options;
}

/* ---- directives ---- */

static void test_directives(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;
	const char *name;

	(void)state;
	c = parse(ctx,
		  "# a comment\n"
		  "\n"
		  "alias my-alias snd-hda-intel\n"
		  "alias pci:v*d*sv*sd*bc0[a-c]sc*i* foo-bar extra words\n"
		  "options snd-hda-intel model=auto\tprobe_mask=1\n"
		  "install net-pf-10 /sbin/modprobe --ignore-install ipv6 && echo done\n"
		  "remove foo /bin/true\n"
		  "blacklist pcspkr-x\n"
		  "softdep a-b ignored pre: c-d e post: f\n"
		  "weakdep g-h i j-k\n"
		  "\talias tabbed-alias mod\n");
	assert_int_equal(log.count, 0);

	assert_int_equal(c->aliases.n, 3);
	const struct cfg_alias *a = c->aliases.v[0];
	assert_string_equal(a->pattern, "my_alias");
	assert_string_equal(a->modname, "snd_hda_intel");
	a = c->aliases.v[1];
	/* '-' inside brackets stays, outside becomes '_' */
	assert_string_equal(a->pattern, "pci:v*d*sv*sd*bc0[a-c]sc*i*");
	assert_string_equal(a->modname, "foo_bar");
	a = c->aliases.v[2];
	assert_string_equal(a->pattern, "tabbed_alias");

	assert_int_equal(c->options.n, 1);
	/* the name is normalised; tabs in the options become spaces */
	assert_string_equal(option_of(c, 0, &name), "model=auto probe_mask=1");
	assert_string_equal(name, "snd_hda_intel");

	assert_int_equal(c->installs.n, 1);
	const struct cfg_command *cmd = c->installs.v[0];
	assert_string_equal(cmd->name, "net_pf_10");
	assert_string_equal(cmd->command,
			    "/sbin/modprobe --ignore-install ipv6 && echo done");
	assert_string_equal(config_find_install(c, "net_pf_10"),
			    "/sbin/modprobe --ignore-install ipv6 && echo done");
	assert_null(config_find_install(c, "net_pf_1"));
	assert_string_equal(config_find_remove(c, "foo"), "/bin/true");
	assert_null(config_find_remove(c, "net_pf_10"));

	assert_int_equal(c->blacklists.n, 1);
	assert_true(config_is_blacklisted(c, "pcspkr_x"));
	assert_false(config_is_blacklisted(c, "pcspkr"));

	const struct cfg_softdep *sd = config_find_softdep(c, "a_b");
	assert_non_null(sd);
	/* words before pre:/post: are ignored; dependency names are kept as written */
	assert_int_equal(sd->n_pre, 2);
	assert_string_equal(sd->pre[0], "c-d");
	assert_string_equal(sd->pre[1], "e");
	assert_int_equal(sd->n_post, 1);
	assert_string_equal(sd->post[0], "f");
	assert_null(config_find_softdep(c, "a-b"));

	const struct cfg_weakdep *wd = config_find_weakdep(c, "g_h");
	assert_non_null(wd);
	assert_int_equal(wd->n_deps, 2);
	assert_string_equal(wd->deps[0], "i");
	assert_string_equal(wd->deps[1], "j-k");
	config_free(c);
	kmodx_ctx_unref(ctx);
}

static void test_patterns_first_match(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;

	(void)state;
	c = parse(ctx, "install snd_* /bin/first\n"
		       "install snd_hda /bin/second\n"
		       "softdep snd_? pre: one\n"
		       "softdep snd_x pre: two\n"
		       "weakdep * all\n"
		       "weakdep exact none\n");
	/* install/remove and softdep/weakdep: the first matching stanza wins */
	assert_string_equal(config_find_install(c, "snd_hda"), "/bin/first");
	assert_string_equal(config_find_softdep(c, "snd_x")->pre[0], "one");
	assert_null(config_find_softdep(c, "snd_xy"));
	assert_string_equal(config_find_weakdep(c, "exact")->deps[0], "all");
	config_free(c);
	kmodx_ctx_unref(ctx);
}

static void test_continuation(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;
	const char *name;

	(void)state;
	c = parse(ctx, "options foo a=1 \\\n"
		       "   b=2\\\n"
		       "c=3\n"
		       "alias \\\n"
		       "x y\n"
		       "options bar last=1\\");
	assert_int_equal(log.count, 0);
	assert_int_equal(c->options.n, 2);
	/* the newline goes, the next line's leading blanks stay */
	assert_string_equal(option_of(c, 0, &name), "a=1    b=2c=3");
	assert_string_equal(name, "foo");
	/* a backslash on the last line with nothing after it */
	assert_string_equal(option_of(c, 1, &name), "last=1");
	assert_string_equal(name, "bar");
	assert_int_equal(c->aliases.n, 1);
	config_free(c);
	kmodx_ctx_unref(ctx);
}

static void test_bad_lines(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;

	(void)state;
	c = parse(ctx, "frobnicate x y\n"     /* 1: unknown */
		       "alias onlyone\n"      /* 2: missing module */
		       "alias\n"	      /* 3 */
		       "options nameonly\n"   /* 4: no options */
		       "install cmdless\n"    /* 5 */
		       "blacklist\n"	      /* 6 */
		       "alias a[b mod\n"      /* 7: unmatched bracket */
		       "blacklist x]y\n"      /* 8 */
		       "softdep\n"	      /* 9 */
		       "  # not a comment\n"  /* 10: '#' only counts in column 0 */
		       "include /etc/other\n" /* 11: deprecated */
		       "\xff\xfe garbage\n"   /* 12 */
		       "alias good mod\n"     /* 13: still parsed */
		       "   \n"		      /* 14: blank */
		       "options x \n"); /* 15: one blank, then nothing: no options */
	assert_int_equal(c->aliases.n, 1);
	assert_int_equal(c->blacklists.n, 0);
	assert_int_equal(c->options.n, 0);
	assert_int_equal(c->installs.n, 0);
	assert_int_equal(c->softdeps.n, 0);
	assert_non_null(strstr(log.text,
			       "test.conf line 1: ignoring bad line starting with "
			       "'frobnicate'"));
	assert_non_null(
		strstr(log.text, "line 2: ignoring bad line starting with 'alias'"));
	assert_non_null(
		strstr(log.text, "line 7: ignoring bad line starting with 'alias'"));
	assert_non_null(strstr(log.text, "line 8: ignoring bad line starting with "
					 "'blacklist'"));
	assert_non_null(strstr(log.text, "line 10: ignoring bad line starting with '#'"));
	assert_non_null(strstr(log.text, "command include is deprecated"));
	assert_non_null(strstr(log.text, "line 15: "));
	assert_null(strstr(log.text, "line 13:"));
	assert_null(strstr(log.text, "line 14:"));
	config_free(c);
	kmodx_ctx_unref(ctx);
}

static void test_embedded_nul(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c = calloc(1, sizeof(*c));
	char text[] = "alias a b\0hidden\nalias c d\n";

	(void)state;
	assert_non_null(c);
	assert_int_equal(config_parse_text(ctx, c, "nul.conf", text, sizeof(text) - 1),
			 0);
	assert_int_equal(c->aliases.n, 2);
	assert_string_equal(((const struct cfg_alias *)c->aliases.v[0])->modname, "b");
	assert_string_equal(((const struct cfg_alias *)c->aliases.v[1])->pattern, "c");
	config_free(c);
	kmodx_ctx_unref(ctx);
}

/* ---- the kernel command line ---- */

static struct config *cmdline(struct kmodx_ctx *ctx, const char *line)
{
	struct config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(config_parse_cmdline(ctx, c, line), 0);
	return c;
}

static void test_cmdline(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;
	const char *name;

	(void)state;
	c = cmdline(ctx,
		    "BOOT_IMAGE=/vmlinuz-6.1.0 root=/dev/sda1 ro quiet "
		    "snd-hda.model=auto e1000e.IntMode=1,1 "
		    "modprobe.blacklist=snd-pcsp,nouveau "
		    "rd.lvm.lv=vg/root mod.param=\"x y\" m2.p=a.b\tm3.q=1\nnodot= .x=1 "
		    "noval.flag m4.r=\n");
	assert_int_equal(c->blacklists.n, 2);
	/* normalised, unlike kmod (a deliberate difference: modprobe.d(5)) */
	assert_string_equal(((const struct cfg_name *)c->blacklists.v[0])->name, "snd_pcsp");
	assert_string_equal(((const struct cfg_name *)c->blacklists.v[1])->name, "nouveau");
	assert_true(config_is_blacklisted(c, "nouveau"));
	assert_true(config_is_blacklisted(c, "snd_pcsp"));

	assert_int_equal(c->options.n, 7);
	assert_string_equal(option_of(c, 0, &name), "model=auto");
	assert_string_equal(name, "snd_hda");
	assert_string_equal(option_of(c, 1, &name), "IntMode=1,1");
	assert_string_equal(name, "e1000e");
	/* quotes are kept for the kernel to parse; the blank inside stays */
	assert_string_equal(option_of(c, 2, &name), "param=\"x y\"");
	assert_string_equal(name, "mod");
	/* a '.' in the value is fine */
	assert_string_equal(option_of(c, 3, &name), "p=a.b");
	assert_string_equal(name, "m2");
	assert_string_equal(option_of(c, 4, &name), "q=1");
	assert_string_equal(name, "m3");
	/* a parameter without a value is an option too, as for the kernel */
	assert_string_equal(option_of(c, 5, &name), "flag");
	assert_string_equal(name, "noval");
	assert_string_equal(option_of(c, 6, &name), "r=");
	assert_string_equal(name, "m4");
	config_free(c);

	/* GRUB's quote before the module name */
	c = cmdline(ctx, "quiet \"mod.param=value with spaces\" other.x=1");
	assert_int_equal(c->options.n, 2);
	assert_string_equal(option_of(c, 0, &name), "param=\"value with spaces\"");
	assert_string_equal(name, "mod");
	assert_string_equal(option_of(c, 1, &name), "x=1");
	config_free(c);

	/* the last word is checked like the others */
	c = cmdline(ctx, "a.b=1 rd.lvm.lv=vg/root");
	assert_int_equal(c->options.n, 1);
	config_free(c);
	c = cmdline(ctx, "a.b=1 x=y.z");
	assert_int_equal(c->options.n, 1);
	config_free(c);

	/* an unterminated quote swallows the rest, and the word is dropped (kmod 30 and
	 * 34 agree) */
	c = cmdline(ctx, "x.y=1 a.b=\"open c.d=1");
	assert_int_equal(c->options.n, 1);
	assert_string_equal(option_of(c, 0, &name), "y=1");
	config_free(c);

	/* a quote before the '=' names no module, but GRUB's leading quote; issue 11's
	 * line gives kmod's three options */
	c = cmdline(ctx, "psmouse.foo psmouse.bar=1 psmouse.foobar=\"test 1\" "
			 "psmouse.\"invalid option\" \" notamodule\" \"noteamodule2 \" "
			 "notamodule3 quiet rw \"psmouse\".x=1 ps\"mouse.y=1\" a.b\"=c d\" "
			 "\"psmouse.flag\" \"a b.c=d\" \"m.p=v\"w\"x y\"");
	assert_int_equal(c->options.n, 4);
	assert_string_equal(option_of(c, 0, &name), "foo");
	assert_string_equal(option_of(c, 1, &name), "bar=1");
	assert_string_equal(option_of(c, 2, &name), "foobar=\"test 1\"");
	assert_string_equal(name, "psmouse");
	/* GRUB's quote moves behind the '='; the rest of the word stays as it is */
	assert_string_equal(option_of(c, 3, &name), "p=\"v\"w\"x y\"");
	assert_string_equal(name, "m");
	config_free(c);

	/* a quoted blacklist value, as the kernel reads quoted values */
	c = cmdline(ctx, "\"modprobe.blacklist=a-1,b\" modprobe.blacklist=\"c\"");
	assert_int_equal(c->blacklists.n, 3);
	assert_string_equal(((const struct cfg_name *)c->blacklists.v[0])->name, "a_1");
	assert_string_equal(((const struct cfg_name *)c->blacklists.v[1])->name, "b");
	assert_string_equal(((const struct cfg_name *)c->blacklists.v[2])->name, "c");
	config_free(c);

	/* an empty module or parameter name is no option (kmod keeps them: modprobe.8) */
	c = cmdline(ctx, "noparam. .nomod=1 psmouse.=1 modprobe.blacklist=");
	assert_int_equal(c->options.n + c->blacklists.n, 0);
	config_free(c);

	/* empty, blank only, and a module name with an unmatched bracket */
	c = cmdline(ctx, "");
	assert_int_equal(c->options.n + c->blacklists.n, 0);
	config_free(c);
	c = cmdline(ctx, "   \t\n ");
	assert_int_equal(c->options.n + c->blacklists.n, 0);
	config_free(c);
	c = cmdline(ctx, "a[b.c=1 ok.d=2");
	assert_int_equal(c->options.n, 1);
	assert_string_equal(option_of(c, 0, &name), "d=2");
	config_free(c);

	/* longer than the kernel's 4095 bytes: cut, not overflowed */
	char *huge = malloc(10000);
	assert_non_null(huge);
	memset(huge, 'x', 9999);
	huge[9999] = '\0';
	memcpy(huge, "big.p=", 6);
	c = cmdline(ctx, huge);
	assert_int_equal(c->options.n, 1);
	assert_int_equal(strlen(option_of(c, 0, &name)), 4095 - 4);
	config_free(c);
	free(huge);
	kmodx_ctx_unref(ctx);
}

/* ---- files under a root directory ---- */

static char root[PATH_MAX];

static int setup_root(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/kmodx-unit-root-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	unit_write_text(root, "etc/modprobe.d/10-a.conf", "alias a-1 mod-a\noptions mod-a one=1\n");
	/* hidden by the same basename in /etc */
	unit_write_text(root, "lib/modprobe.d/10-a.conf", "alias hidden mod-hidden\n");
	unit_write_text(root, "lib/modprobe.d/05-b.conf",
		   "softdep x pre: first\noptions mod-a two=2\n");
	unit_write_text(root, "run/modprobe.d/20-c.conf",
		   "blacklist blk\ninstall inst /bin/echo hi\n");
	unit_write_text(root, "usr/lib/modprobe.d/zz.conf",
		   "softdep x pre: last\nweakdep w dep1 dep2\n");
	unit_write_text(root, "usr/local/lib/modprobe.d/notconf.txt", "alias never mod\n");
	unit_write_text(root, "usr/local/lib/modprobe.d/.hidden.conf", "alias never2 mod\n");
	unit_write_text(root, "usr/local/lib/modprobe.d/.conf", "alias never3 mod\n");
	unit_write_text(root, "usr/local/lib/modprobe.d/sub.conf/x.conf", "alias never4 mod\n");
	unit_write_text(root, "lib/modules/6.1.0-unit/modules.softdep",
		   "# Soft dependencies extracted from modules themselves.\n"
		   "softdep x pre: moddir\nsoftdep y post: z\n");
	unit_write_text(root, "proc/cmdline", "quiet mod-a.three=3 modprobe.blacklist=b1,b2\n");
	return 0;
}

static int teardown_root(void **state)
{
	(void)state;
	return unit_rmtree(root);
}

static struct kmodx_ctx *root_ctx(struct logbuf *log)
{
	struct kmodx_ctx *ctx = new_ctx(log);

	assert_int_equal(kmodx_ctx_set_root(ctx, root), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "6.1.0-unit"), 0);
	return ctx;
}

static char *kv_join(const struct kmodx_kvlist *l)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kmodx_kvlist_count(l); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s=%s;",
					kmodx_kvlist_key(l, i), kmodx_kvlist_value(l, i));
	return buf;
}

static void test_root_files(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = root_ctx(&log);
	struct kmodx_kvlist *l = NULL;

	(void)state;
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_ALIAS, &l), 0);
	assert_string_equal(kv_join(l), "a_1=mod_a;");
	kmodx_kvlist_free(l);
	/* every file sorted by basename, modules.softdep among them; first match wins */
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_SOFTDEP, &l), 0);
	assert_string_equal(kv_join(l),
			    "x=pre: first;x=pre: moddir;y=post: z;x=pre: last;");
	kmodx_kvlist_free(l);
	/* files first (in sorted order), then the kernel command line */
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_OPTIONS, &l), 0);
	assert_string_equal(kv_join(l), "mod_a=two=2;mod_a=one=1;mod_a=three=3;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_BLACKLIST, &l), 0);
	assert_string_equal(kv_join(l), "blk=;b1=;b2=;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_INSTALL, &l), 0);
	assert_string_equal(kv_join(l), "inst=/bin/echo hi;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_REMOVE, &l), 0);
	assert_int_equal(kmodx_kvlist_count(l), 0); /* empty is success */
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_WEAKDEP, &l), 0);
	assert_string_equal(kv_join(l), "w=dep1 dep2;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, (enum kmodx_config_kind)99, &l), -EINVAL);
	/* the directory named like a config file was reported */
	assert_non_null(strstr(log.text, "sub.conf"));
	assert_null(strstr(log.text, "never"));

	/* settings are frozen once used */
	assert_int_equal(kmodx_ctx_set_root(ctx, "/"), -EBUSY);

	/* options of a module: all matching entries joined, command line last */
	struct kmodx_module *mod = NULL;
	assert_int_equal(kmodx_module_new_from_name(ctx, "mod-a", &mod), 0);
	assert_string_equal(kmodx_module_get_name(mod), "mod_a");
	assert_string_equal(kmodx_module_get_options(mod), "two=2 one=1 three=3");
	assert_null(kmodx_module_get_install_command(mod));
	kmodx_module_unref(mod);
	assert_int_equal(kmodx_module_new_from_name(ctx, "inst", &mod), 0);
	assert_string_equal(kmodx_module_get_install_command(mod), "/bin/echo hi");
	assert_string_equal(kmodx_module_get_options(mod), "");
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
}

static void test_config_paths(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = root_ctx(&log);
	struct kmodx_kvlist *l = NULL;
	char file[PATH_MAX * 2], dir[PATH_MAX * 2], missing[PATH_MAX * 2];

	(void)state;
	snprintf(file, sizeof(file), "%s/usr/lib/modprobe.d/zz.conf", root);
	snprintf(dir, sizeof(dir), "%s/etc/modprobe.d", root);
	snprintf(missing, sizeof(missing), "%s/nonexistent", root);
	const char *const paths[] = {file, dir, missing, NULL};
	assert_int_equal(kmodx_ctx_set_config_paths(ctx, paths), 0);
	assert_int_equal(kmodx_ctx_set_use_cmdline(ctx, false), 0);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_OPTIONS, &l), 0);
	assert_string_equal(kv_join(l), "mod_a=one=1;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_SOFTDEP, &l), 0);
	assert_string_equal(kv_join(l), "x=pre: moddir;y=post: z;x=pre: last;");
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_BLACKLIST, &l), 0);
	assert_int_equal(kmodx_kvlist_count(l), 0);
	kmodx_kvlist_free(l);
	kmodx_ctx_unref(ctx);

	/* an empty list: no configuration files at all */
	const char *const none[] = {NULL};
	ctx = root_ctx(&log);
	assert_int_equal(kmodx_ctx_set_config_paths(ctx, none), 0);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_ALIAS, &l), 0);
	assert_int_equal(kmodx_kvlist_count(l), 0);
	kmodx_kvlist_free(l);
	assert_int_equal(kmodx_config_get(ctx, KMODX_CONFIG_OPTIONS, &l), 0);
	assert_string_equal(kv_join(l),
			    "mod_a=three=3;"); /* the command line still counts */
	kmodx_kvlist_free(l);
	kmodx_ctx_unref(ctx);
}

static void test_ctx_settings(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(kmodx_ctx_set_root(ctx, ""), -EINVAL);
	assert_int_equal(kmodx_ctx_set_root(ctx, NULL), -EINVAL);
	assert_int_equal(kmodx_ctx_set_root(ctx, "/srv/root///"), 0);
	assert_string_equal(kmodx_ctx_get_root(ctx), "/srv/root");
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "../x"), -EINVAL);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, ".."), -EINVAL);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, ""), -EINVAL);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "6.1.0-9-amd64"), 0);
	assert_int_equal(kmodx_ctx_resolve_path(ctx, "/etc/modprobe.d", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "/srv/root/etc/modprobe.d");
	assert_int_equal(kmodx_ctx_resolve_path(ctx, "relative", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(kmodx_ctx_resolve_path(ctx, "/etc", buf, 5), -ENAMETOOLONG);
	assert_string_equal(kmodx_ctx_get_module_dir(ctx),
			    "/srv/root/lib/modules/6.1.0-9-amd64");
	assert_string_equal(kmodx_ctx_get_kernel_release(ctx), "6.1.0-9-amd64");
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "7"), -EBUSY);
	assert_ptr_equal(kmodx_ctx_ref(ctx), ctx);
	assert_ptr_equal(kmodx_ctx_unref(ctx), ctx); /* one reference left */
	assert_null(kmodx_ctx_unref(ctx));
	assert_null(kmodx_ctx_unref(NULL));

	/* base_dir and module_dir */
	ctx = new_ctx(&log);
	assert_int_equal(kmodx_ctx_set_root(ctx, "/r"), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "k"), 0);
	assert_int_equal(kmodx_ctx_set_base_dir(ctx, "/b"), 0);
	assert_string_equal(kmodx_ctx_get_module_dir(ctx), "/b/lib/modules/k");
	kmodx_ctx_unref(ctx);
	ctx = new_ctx(&log);
	assert_int_equal(kmodx_ctx_set_base_dir(ctx, "/b"), 0);
	assert_int_equal(kmodx_ctx_set_module_dir(ctx, "/m/k"), 0);
	assert_int_equal(kmodx_ctx_set_kernel_release(ctx, "k"), 0);
	assert_string_equal(kmodx_ctx_get_module_dir(ctx), "/m/k");
	kmodx_ctx_unref(ctx);
}

/* ---- random input: invariants hold, nothing is read out of bounds ---- */

static bool name_ok(const char *s)
{
	/* normalised: no blanks or newlines, no '-' outside brackets */
	int depth = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n')
			return false;
		if (*s == '[')
			depth = 1;
		else if (*s == ']')
			depth = 0;
		else if (*s == '-' && depth == 0)
			return false;
	}
	return true;
}

static void test_random_config(void **state)
{
	static const char *const tokens[] = {
		"alias",   "options", "install", "remove", "blacklist", "softdep",
		"weakdep", "include", " ",	 " ",	   "\t",	"\n",
		"\n",	   "\\\n",    "\\",	 "#",	   "a-b",	"x",
		"[a-c]",   "[",	      "]",	 "pre:",   "post:",	"=",
		"\"",	   "\0",      "\xff",	 "mod_1",  "-",
	};
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	unsigned seed = 777;

	(void)state;
	kmodx_ctx_set_log_fn(ctx, NULL, NULL);
	for (int iter = 0; iter < 3000; iter++) {
		char text[512];
		size_t len = 0;
		int n = rand_r(&seed) % 60;
		struct config *c = calloc(1, sizeof(*c));

		assert_non_null(c);
		for (int i = 0; i < n; i++) {
			const char *t = tokens[rand_r(&seed) %
					       (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = *t ? strlen(t) : 1;

			if (len + tl >= sizeof(text))
				break;
			memcpy(text + len, t, tl);
			len += tl;
		}
		/* exactly len bytes, no NUL after them: ASan sees any overrun */
		char *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, text, len);
		assert_int_equal(config_parse_text(ctx, c, "random.conf", exact, len), 0);
		free(exact);
		for (size_t i = 0; i < c->aliases.n; i++) {
			const struct cfg_alias *a = c->aliases.v[i];

			assert_true(name_ok(a->pattern));
			assert_true(name_ok(a->modname));
		}
		for (size_t i = 0; i < c->options.n; i++) {
			const struct cfg_option *o = c->options.v[i];

			assert_true(name_ok(o->name));
			assert_null(strchr(o->options, '\t'));
			assert_null(strchr(o->options, '\n'));
		}
		for (size_t i = 0; i < c->blacklists.n; i++)
			assert_true(name_ok(((const struct cfg_name *)c->blacklists.v[i])->name));
		for (size_t i = 0; i < c->softdeps.n; i++) {
			const struct cfg_softdep *d = c->softdeps.v[i];

			assert_true(name_ok(d->name));
			for (size_t j = 0; j < d->n_pre; j++)
				assert_true(strcmp(d->pre[j], "pre:") &&
					    strcmp(d->pre[j], "post:"));
		}
		config_free(c);
	}
	kmodx_ctx_unref(ctx);
}

static bool unquoted_blank(const char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\n'))
			return true;
	}
	return false;
}

static void test_random_cmdline(void **state)
{
	static const char *const tokens[] = {
		"a",  "b-c", ".",	 ".",	      "=", "=", "\"", " ",
		"\t", "\n",  "modprobe", "blacklist", ",", "[", "]",  "x"};
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	unsigned seed = 31337;

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		char line[256];
		size_t len = 0;
		int n = rand_r(&seed) % 40;
		struct config *c = calloc(1, sizeof(*c));

		assert_non_null(c);
		for (int i = 0; i < n; i++) {
			const char *t = tokens[rand_r(&seed) %
					       (sizeof(tokens) / sizeof(tokens[0]))];

			if (len + strlen(t) >= sizeof(line))
				break;
			memcpy(line + len, t, strlen(t));
			len += strlen(t);
		}
		line[len] = '\0';
		char saved[256];
		memcpy(saved, line, len + 1);
		assert_int_equal(config_parse_cmdline(ctx, c, line), 0);
		assert_string_equal(saved, line); /* the input is const */
		for (size_t i = 0; i < c->options.n; i++) {
			const struct cfg_option *o = c->options.v[i];

			/* as with kmod, quotes may hide blanks and dots in a word */
			if (o->name[0] == '\0' || unquoted_blank(o->name) ||
			    unquoted_blank(o->options))
				fail_msg("cmdline [%s]: option [%s] [%s]", saved, o->name,
					 o->options);
			assert_true(o->options[0] != '\0');
		}
		for (size_t i = 0; i < c->blacklists.n; i++)
			assert_null(strchr(((const struct cfg_name *)c->blacklists.v[i])->name, ','));
		config_free(c);
	}
	kmodx_ctx_unref(ctx);
}

/* ---- origins, mask and the shared line reader ---- */

static void test_origins_and_mask(void **state)
{
	struct logbuf log = {0};
	struct kmodx_ctx *ctx = new_ctx(&log);
	struct config *c;
	char buf[64];

	(void)state;
	c = parse(ctx, "# origins\n"
		       "options a x=1\n"
		       "options b \\\n"
		       "  y=2\n"
		       "mask evil-mod\n"
		       "mask\n"
		       "blacklist b\n");
	/* the bare "mask" is a bad line, named by its line */
	assert_int_equal(log.count, 1);
	assert_non_null(strstr(log.text, "test.conf line 6: ignoring bad line starting with 'mask'"));
	assert_int_equal(c->options.n, 2);
	assert_int_equal(((const struct cfg_option *)c->options.v[0])->origin.line, 2);
	/* a continued line counts as its last physical line, as kmod numbers it */
	assert_int_equal(((const struct cfg_option *)c->options.v[1])->origin.line, 4);
	assert_string_equal(((const struct cfg_option *)c->options.v[1])->origin.file,
			    "test.conf");
	assert_non_null(config_find_mask(c, "evil_mod"));
	assert_null(config_find_mask(c, "b"));
	config_origin_format(&config_find_mask(c, "evil_mod")->origin, buf, sizeof(buf));
	assert_string_equal(buf, "test.conf:5");
	assert_int_equal(((const struct cfg_name *)c->blacklists.v[0])->origin.line, 7);
	assert_int_equal(config_parse_cmdline(ctx, c, "quiet a.z=3 modprobe.blacklist=q"), 0);
	assert_null(((const struct cfg_option *)c->options.v[2])->origin.file);
	config_origin_format(&((const struct cfg_option *)c->options.v[2])->origin, buf,
			     sizeof(buf));
	assert_string_equal(buf, "kernel command line");
	assert_null(((const struct cfg_name *)c->blacklists.v[1])->origin.file);
	config_free(c);
	kmodx_ctx_unref(ctx);
}

/* modules-load.d's use of the reader: blanks stripped, '#' and ';' comments, CRLF, no
 * continuation, over-long lines cut and flagged */
static void test_reader_strip(void **state)
{
	static const char text[] = "  a  \r\n; c\n#d\n\tb\\\nc\n\n" "xxxxxxxxxx\n" "e";
	struct conf_reader rd;
	unsigned n;
	char *line;

	(void)state;
	conf_reader_init(&rd, text, sizeof(text) - 1, 8, "#;", CONF_STRIP);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 1);
	assert_string_equal(line, "a");
	assert_int_equal(n, 1);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 1);
	assert_string_equal(line, "b\\");
	assert_int_equal(n, 4);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 1);
	assert_string_equal(line, "c");
	assert_false(rd.cut);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 1);
	assert_true(rd.cut);
	assert_int_equal(strlen(line), 8);
	assert_int_equal(n, 7);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 1);
	assert_string_equal(line, "e");
	assert_false(rd.cut);
	assert_int_equal(conf_reader_next(&rd, &line, &n), 0);
	conf_reader_release(&rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_patterns_first_match),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_root_files),
		cmocka_unit_test(test_config_paths),
		cmocka_unit_test(test_ctx_settings),
		cmocka_unit_test(test_random_config),
		cmocka_unit_test(test_random_cmdline),
		cmocka_unit_test(test_origins_and_mask),
		cmocka_unit_test(test_reader_strip),
	};

	return cmocka_run_group_tests(tests, setup_root, teardown_root);
}
