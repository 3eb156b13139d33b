/*
 * autogen_sql.h: the SQL text mig-new --autogenerate writes in both
 * dialects, and what its types and defaults mean to the safety check.
 * Every put function appends to the caller's buffer; nothing fails.
 */
#ifndef MIG_AUTOGEN_SQL_H
#define MIG_AUTOGEN_SQL_H

#include "mig.h"

#include <stdbool.h>

/* A dialect's SQL name of a canonical type base (lists end with NULLs). */
struct ag_type_name {
	const char *canonical, *sql;
};

/* A name as is when both dialects read it unquoted as itself, else quoted. */
void ag_put_ident(struct mig_buf *b, const char *name);
/* (a, b): names, or with keys an index's keys (expressions as written). */
void ag_put_list(struct mig_buf *b, const struct mig_strv *cols, bool keys);
/* A canonical type ("numeric(20,2)[]") by the names of a dialect; a base
 * the list lacks (read from a migration) is written in capitals. */
void ag_put_type(struct mig_buf *b, const char *canonical,
		 const struct ag_type_name *names);
/* True when every value of type from is a value of type to, unchanged. */
bool ag_type_widens(const char *from, const char *to);
/* PostgreSQL needs ALTER ... TYPE ... USING col::type from one to the other. */
bool ag_needs_using(const char *from, const char *to);
/* A value SQLite's ALTER TABLE ADD COLUMN accepts as a default. */
bool ag_constant_default(const char *d);
/* A default after DEFAULT: literals alone, expressions in parentheses. */
void ag_put_default(struct mig_buf *b, const char *d);
/* Two defaults (NULL: none) mean the same, as introspection normalizes them. */
bool ag_same_default(const char *a, const char *b);

#endif
