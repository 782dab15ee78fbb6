// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

/* pthread_once() takes no argument: the library being loaded is passed through here,
 * under a lock, since initialisers of different libraries may run concurrently. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dl_lib *dl_current;

#ifdef KMODX_LINKED_LIBS
static void dl_do_load(void)
{
	struct dl_lib *lib = dl_current;

	for (size_t i = 0; i < lib->n_syms; i++)
		*lib->syms[i].ptr = lib->syms[i].linked;
	__atomic_store_n(&lib->ok, true, __ATOMIC_RELEASE);
}
#else
static void dl_do_load(void)
{
	struct dl_lib *lib = dl_current;
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(lib->error, sizeof(lib->error), "%s", dlerror());
		return;
	}
	for (size_t i = 0; i < lib->n_syms; i++) {
		*lib->syms[i].ptr = dlsym(h, lib->syms[i].name);
		if (*lib->syms[i].ptr == NULL) {
			snprintf(lib->error, sizeof(lib->error), "%s: missing symbol %s",
				 lib->soname, lib->syms[i].name);
			dlclose(h);
			return;
		}
	}
	__atomic_store_n(&lib->ok, true, __ATOMIC_RELEASE);
}
#endif

bool dl_load(struct dl_lib *lib, const char **why)
{
	if (__atomic_load_n(&lib->ok, __ATOMIC_ACQUIRE))
		return true;
	pthread_mutex_lock(&dl_lock);
	dl_current = lib;
	pthread_once(&lib->once, dl_do_load);
	pthread_mutex_unlock(&dl_lock);
	if (!lib->ok && why)
		*why = lib->error;
	return lib->ok;
}
