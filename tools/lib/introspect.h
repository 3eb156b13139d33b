/*
 * introspect.h: the shared half of the drivers' introspection: a driver
 * gives three catalog queries, this builds the schema model from their rows
 * (introspect.c describes their shapes).  Only the drivers include it.
 */
#ifndef MIG_INTROSPECT_H
#define MIG_INTROSPECT_H

#include "db.h"
#include "mig.h"
#include "schema.h"

/* Runs a driver's three catalog queries ($1 schema, $2 table to skip) and
 * builds the model from their rows (introspect.c describes the shapes). */
int mig_introspect_run(struct mig_db *db, const char *const sql[3],
		       const char *schema, const char *skip_table,
		       struct mig_schema *out, struct mig_err *err);

#endif
