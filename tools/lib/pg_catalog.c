/*
 * pg_catalog.c: the PostgreSQL driver's catalog reads (pg_catalog.h): the
 * tables of a schema, and the whole schema in introspect.c's three
 * queries.  Apart from db_pg.c, which keeps the connection and the steps.
 */
#include "pg_catalog.h"
#include "db.h"
#include "introspect.h"
#include "mig.h"
#include "pgsplit.h"
#include "schema.h"

int mig_pg_list_tables(struct mig_db *db, const char *schema,
		       struct mig_strv *out, struct mig_err *err)
{
	const char *params[1] = { schema };
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = db->drv->query(db, "SELECT c.relname FROM pg_catalog.pg_class c "
			  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			  "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
			  "AND n.nspname = COALESCE($1::text, current_schema()) "
			  "ORDER BY c.relname COLLATE \"C\"", 1, params, &r, err);
	for (size_t i = 0; !rc && i < r.nrows; i++)
		strv_push(out, mig_rows_cell(&r, i, 0));
	mig_rows_release(&r);
	return rc;
}

#define PG_TABLES \
	"c.relkind IN ('r', 'p') AND NOT c.relispartition " \
	"AND n.nspname = COALESCE($1::text, current_schema()) " \
	"AND c.relname <> COALESCE($2::text, '')"
#define PG_NAMES(keys, rel) \
	"array_to_string(ARRAY(SELECT a.attname FROM unnest(" keys ") WITH ORDINALITY " \
	"k(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = " rel \
	" AND a.attnum = k.num ORDER BY k.ord), chr(31))"

/* The three catalog queries of introspect.c, each over the whole schema. */
static const char *const pg_catalog[3] = {
	/* a serial column's nextval() of the sequence it owns is no default
	 * a migration wrote: left out, so that SERIAL reads as SQLite's
	 * INTEGER PRIMARY KEY (AUTOINCREMENT) does */
	"SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
	"a.attnotnull, CASE WHEN pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' "
	"AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_class s "
	"ON s.oid = dep.objid AND s.relkind = 'S' WHERE dep.classid = "
	"'pg_catalog.pg_class'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = "
	"a.attnum AND dep.deptype = 'a') THEN NULL ELSE pg_get_expr(d.adbin, d.adrelid) "
	"END, NULL "
	"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
	"AND NOT a.attisdropped LEFT JOIN pg_catalog.pg_attrdef d "
	"ON d.adrelid = c.oid AND d.adnum = a.attnum WHERE " PG_TABLES
	" ORDER BY c.relname COLLATE \"C\", a.attnum",

	"SELECT c.relname, con.contype, " PG_NAMES("con.conkey", "con.conrelid") ", "
	"r.relname, " PG_NAMES("con.confkey", "con.confrelid") ", "
	"con.confdeltype, con.confupdtype "
	"FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"LEFT JOIN pg_catalog.pg_class r ON r.oid = con.confrelid "
	"WHERE con.contype IN ('p', 'u', 'f') AND " PG_TABLES
	" ORDER BY c.relname COLLATE \"C\", con.conname COLLATE \"C\"",

	"SELECT c.relname, ic.relname, i.indisunique, am.amname, "
	"array_to_string(ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) "
	"FROM generate_series(1, i.indnkeyatts) k ORDER BY k), chr(31)), "
	"pg_get_expr(i.indpred, i.indrelid) "
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
	"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE " PG_TABLES
	" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con "
	"WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) "
	"ORDER BY c.relname COLLATE \"C\", ic.relname COLLATE \"C\"",
};

int mig_pg_introspect(struct mig_db *db, const char *schema,
		     const char *skip_table, struct mig_schema *out,
		     struct mig_err *err)
{
	int rc = mig_introspect_run(db, pg_catalog, schema, skip_table, out, err);
	if (!rc)
		mig_pg_canonical_keys(out);
	if (rc || out->ntables || !schema)
		return rc;
	/* No tables: a misspelt --schema must not read as an empty schema. */
	struct mig_rows r = MIG_ROWS_INIT;
	rc = db->drv->query(db, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
		      1, &schema, &r, err);
	if (!rc && !r.nrows) {
		rc = mig_err_set(err, MIG_EDB, "schema \"%s\" does not exist", schema);
		mig_err_hint(err, "--schema names a PostgreSQL schema "
			     "(psql's \\dn lists them)");
	}
	mig_rows_release(&r);
	return rc;
}
