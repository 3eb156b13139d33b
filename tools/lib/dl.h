/*
 * dl.h: binding a shared library's functions into a table of pointers at
 * run time, for the libraries mig loads only when a run needs them (libpq,
 * pq.c; libpg_query, pgsplit.c), so that a SQLite run pays for neither.
 */
#ifndef MIG_DL_H
#define MIG_DL_H

#include <stddef.h>

/* One function: its name, and where its pointer goes in the table. */
struct mig_dl_symbol {
	const char *name;
	size_t offset;
};

/*
 * dlopen()s soname and fills table (size bytes) with the n symbols.
 * Returns the handle, which the caller keeps for the rest of the run; on
 * failure NULL, table untouched, the library closed, and *why a new string
 * saying what failed (the caller frees it).
 */
void *mig_dl_bind(const char *soname, const struct mig_dl_symbol *symbols, size_t n,
		  void *table, size_t size, char **why);

#endif
