// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's taint flags: what each bit of /proc/sys/kernel/tainted means, the string
 * the kernel prints in oops reports, and which loaded modules carry module taints.
 *
 * The kernel keeps taints in an unsigned long, one bit per flag, and shows each set
 * flag by a letter: in oops lines as "Tainted: " followed by one column per known flag
 * (the letter if set, else a space, except bit 0 which shows 'G' when clear), and per
 * module in /sys/module/<name>/taint and in parentheses at the end of the module's
 * /proc/modules line, where '+' and '-' may follow for a module coming or going.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libkmodx-private.h"
#include "util/fileio.h"

static const struct {
	char letter;
	const char *name; /* the kernel's TAINT_* name, without the prefix */
	const char *description;
} flags[KMODX_TAINT_COUNT] = {
	{'P', "PROPRIETARY_MODULE",
	 "a module with a non-GPL-compatible licence was loaded"},
	{'F', "FORCED_MODULE", "a module was loaded by force"},
	{'S', "CPU_OUT_OF_SPEC", "the system runs outside its processor's specification"},
	{'R', "FORCED_RMMOD", "a module was removed by force"},
	{'M', "MACHINE_CHECK", "a processor reported a machine check exception"},
	{'B', "BAD_PAGE", "a bad page reference or unexpected page flags were seen"},
	{'U', "USER", "a user-space program asked for the taint"},
	{'D', "DIE", "the kernel died recently (an oops or a BUG)"},
	{'A', "OVERRIDDEN_ACPI_TABLE", "an ACPI table was overridden"},
	{'W', "WARN", "the kernel issued a warning"},
	{'C', "CRAP", "a staging driver was loaded"},
	{'I', "FIRMWARE_WORKAROUND", "the kernel works around a severe firmware bug"},
	{'O', "OOT_MODULE", "an externally built (out-of-tree) module was loaded"},
	{'E', "UNSIGNED_MODULE", "an unsigned module was loaded"},
	{'L', "SOFTLOCKUP", "a soft lockup occurred"},
	{'K', "LIVEPATCH", "the kernel was live-patched"},
	{'X', "AUX", "an auxiliary taint, defined by distributions"},
	{'T', "RANDSTRUCT", "the kernel was built with structure layout randomisation"},
	{'N', "TEST", "an in-kernel test (such as KUnit) was run"},
	{'J', "FWCTL", "user space used a mutating debug operation through fwctl"},
};

_public_ char kmodx_taint_letter(unsigned bit)
{
	return bit < KMODX_TAINT_COUNT ? flags[bit].letter : '?';
}

_public_ const char *kmodx_taint_name(unsigned bit)
{
	return bit < KMODX_TAINT_COUNT ? flags[bit].name : NULL;
}

_public_ const char *kmodx_taint_description(unsigned bit)
{
	return bit < KMODX_TAINT_COUNT ? flags[bit].description : NULL;
}

_public_ int kmodx_taint_bit(char letter)
{
	for (unsigned i = 0; i < KMODX_TAINT_COUNT; i++) {
		if (flags[i].letter == letter)
			return (int)i;
	}
	return -EINVAL;
}

/*
 * One column per bit up to the highest set one: a kernel pads the string with spaces
 * to the number of flags it knows, which changes between versions, so leaving the
 * padding out makes the string a prefix of what any kernel prints.
 */
_public_ int kmodx_taint_string(uint64_t mask, char *buf, size_t size)
{
	int n;

	if (buf == NULL)
		return -EINVAL;
	if (mask == 0)
		n = snprintf(buf, size, "Not tainted");
	else
		n = snprintf(buf, size, "Tainted: ");
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	for (unsigned bit = 0; bit < 64 && (mask >> bit) != 0; bit++) {
		char c = (mask >> bit) & 1 ? kmodx_taint_letter(bit)
			 : bit == 0	   ? 'G'
					   : ' ';

		if ((size_t)n + 1 >= size)
			return -ENOSPC;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

_public_ int kmodx_get_taint(struct kmodx_ctx *ctx, uint64_t *mask)
{
	char path[PATH_MAX], buf[64];
	int r;

	if (ctx == NULL || mask == NULL)
		return -EINVAL;
	r = ctx_path(ctx, "/proc/sys/kernel/tainted", path);
	if (r == 0)
		r = read_attr(path, buf, sizeof(buf));
	if (r == 0)
		r = parse_u64(buf, mask);
	return r;
}

/* The bits of the letters the kernel knows; '+' and '-' (coming, going) are states. */
static uint64_t letters_mask(const char *letters)
{
	uint64_t mask = 0;

	for (const char *p = letters; *p; p++) {
		int bit = kmodx_taint_bit(*p);

		if (bit >= 0)
			mask |= UINT64_C(1) << bit;
	}
	return mask;
}

/* The taint letters at the end of a /proc/modules line ("... 0xffff (OE)"), or "". */
static void proc_letters(const char *line, char *out, size_t size)
{
	const char *p = strrchr(line, '(');
	size_t n = 0;

	if (p && strchr(p, ')')) {
		for (p++; *p != ')'; p++) {
			if (*p != '+' && *p != '-' && n + 1 < size)
				out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/*
 * The module's taint letters from /sys/module/<name>/taint; when that cannot be read
 * (no sysfs, or the module went away since /proc/modules was read) the letters its
 * /proc/modules line showed, which were true when the line was read.
 */
static void module_letters(struct kmodx_ctx *ctx, const char *name, const char *line,
			   char *out, size_t size)
{
	char rel[PATH_MAX], path[PATH_MAX];
	int n = snprintf(rel, sizeof(rel), "/sys/module/%s/taint", name);

	if (n < 0 || (size_t)n >= sizeof(rel) || ctx_path(ctx, rel, path) < 0 ||
	    read_attr(path, out, size) < 0)
		proc_letters(line, out, size);
}

static int add_module_taint(struct kmodx_ctx *ctx, char *line, struct kmodx_kvlist *list)
{
	char letters[128];
	size_t len = strcspn(line, " ");

	if (len == 0 || line[len] == '\0')
		return 0; /* not a module line */
	line[len] = '\0';
	if (strchr(line, '/') || streq(line, ".") || streq(line, ".."))
		return 0; /* not a module name: never a path out of /sys/module */
	module_letters(ctx, line, line + len + 1, letters, sizeof(letters));
	if (letters[0] == '\0')
		return 0;
	return kvlist_add(list, line, len, letters, strlen(letters),
			  letters_mask(letters));
}

_public_ int kmodx_get_module_taints(struct kmodx_ctx *ctx, struct kmodx_kvlist **out)
{
	_cleanup_(freep) char *text = NULL;
	struct kmodx_kvlist *list;
	char path[PATH_MAX], *line, *save;
	int r;

	if (ctx == NULL || out == NULL)
		return -EINVAL;
	r = ctx_path(ctx, "/proc/modules", path);
	if (r == 0)
		r = read_file_at(AT_FDCWD, path, PROC_MODULES_MAX, &text, NULL);
	if (r < 0)
		return r;
	r = kvlist_new(&list);
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save))
		r = add_module_taint(ctx, line, list);
	if (r < 0) {
		kmodx_kvlist_free(list);
		return r;
	}
	*out = list;
	return 0;
}
