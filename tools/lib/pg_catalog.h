/*
 * pg_catalog.h: the PostgreSQL driver's reads of the system catalogs
 * (its list_tables and introspect, db.h), through the driver's own query.
 */
#ifndef MIG_PG_CATALOG_H
#define MIG_PG_CATALOG_H

#include "db.h"
#include "mig.h"
#include "schema.h"

/* The ordinary and partitioned tables of schema (NULL: current_schema()),
 * sorted by name in byte order, appended to out. */
int mig_pg_list_tables(struct mig_db *db, const char *schema,
		       struct mig_strv *out, struct mig_err *err);

/* The whole of schema (NULL: current_schema()) but skip_table, in three
 * catalog queries, into out; a named schema that does not exist is an
 * error (MIG_EDB), not an empty schema. */
int mig_pg_introspect(struct mig_db *db, const char *schema,
		      const char *skip_table, struct mig_schema *out,
		      struct mig_err *err);

#endif
