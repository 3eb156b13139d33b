/*
 * pgsplit.h: where the statements of a PostgreSQL script begin and end, as
 * PostgreSQL's own parser sees them (libpg_query), for the PostgreSQL
 * driver: to run a transactional: false section one statement at a time,
 * and to name the line of a failing statement.
 *
 * libpg_query is loaded when first needed, as libpq is (pq.h): a run that
 * only touches SQLite does not pay for it.  Only libmig includes this.
 */
#ifndef MIG_PGSPLIT_H
#define MIG_PGSPLIT_H

#include "mig.h"

/* The soname loaded: Debian's libpg-query1504.0 (PostgreSQL 15's parser). */
#define MIG_LIBPG_QUERY "libpg_query.so.1504.0"

struct mig_stmt {
	size_t from;	/* where its text begins: just after the previous ';' */
	size_t first;	/* its first token: comments and white space skipped */
	size_t end;	/* just after its last token, before its ';' */
};

/*
 * Splits sql into its statements (*out, *n; free *out).  A script the
 * parser rejects is split by the scanner, so the statements before a
 * syntax error are still found.  MIG_EDB when libpg_query cannot be
 * loaded, or cannot read the script at all (an unterminated quote).
 */
int mig_pg_split(const char *sql, struct mig_stmt **out, size_t *n,
		 struct mig_err *err);

#endif
