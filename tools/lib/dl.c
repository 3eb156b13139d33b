/*
 * dl.c: the run-time binding of pq.c and pgsplit.c (see dl.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "dl.h"
#include "mig.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void *mig_dl_bind(const char *soname, const struct mig_dl_symbol *symbols, size_t n,
		  void *table, size_t size, char **why)
{
	*why = NULL;
	/* RTLD_LAZY binds as a linked library did: libpq, libssl, libcrypto
	 * and libldap are built BIND_NOW and are bound now all the same, and
	 * RTLD_NOW would only add every PLT entry of the lazily bound Kerberos
	 * and GMP libraries, 1.9 M instructions a PostgreSQL run.  The dlsym()
	 * below checks every function that is called. */
	void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		*why = xstrdup(e ? e : soname);
		return NULL;
	}
	char *filled = xmalloc(size);
	for (size_t i = 0; i < n; i++) {
		void *sym = dlsym(h, symbols[i].name);
		if (!sym) {
			/* dlerror()'s text does not outlive dlclose() */
			const char *e = dlerror();
			*why = xstrdup(e ? e : symbols[i].name);
			free(filled);
			dlclose(h);
			return NULL;
		}
		memcpy(filled + symbols[i].offset, &sym, sizeof(sym));
	}
	memcpy(table, filled, size);
	free(filled);
	return h;
}
