// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Preloaded into kmod when fixtures.py runs it chrooted in a fixture's fake root: kmod
 * takes the kernel release from uname(), kmodx with --root from
 * <root>/proc/sys/kernel/osrelease. Inside the chroot that file is the fixture's, so
 * uname() reports it when it exists, and the real release otherwise (as kmodx does).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

__attribute__((visibility("default"))) int uname(struct utsname *buf)
{
	int (*real)(struct utsname *) =
		(int (*)(struct utsname *))dlsym(RTLD_NEXT, "uname");
	char release[sizeof(buf->release)];
	FILE *f;
	int r = real(buf);

	if (r != 0)
		return r;
	f = fopen("/proc/sys/kernel/osrelease", "re");
	if (f == NULL)
		return 0;
	if (fgets(release, sizeof(release), f) != NULL) {
		release[strcspn(release, "\n")] = '\0';
		memcpy(buf->release, release, sizeof(release));
	}
	fclose(f);
	return 0;
}
