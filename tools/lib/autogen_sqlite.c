/*
 * autogen_sqlite.c: mig-new --autogenerate's SQLite renderer (the table
 * ag_render_sqlite of autogen_render.h).  SQLite's ALTER TABLE can add and
 * drop plain columns only, so a table whose columns change type,
 * nullability or default, or whose keys change, is rebuilt by the procedure
 * of https://www.sqlite.org/lang_altertable.html#otheralter: new table,
 * copy the rows, drop, rename, recreate the indexes, check the foreign keys.
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen_plan.h"
#include "autogen_render.h"
#include "autogen_sql.h"
#include "db.h"
#include "mig.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

/* The SQLite name of each canonical type (mig_type_normalize).  SQLite
 * keeps a declared type as written, so it reads each back as the same
 * canonical type; json, jsonb and uuid keep their names (their affinity is
 * NUMERIC, which leaves text that is not a number as text). */
static const struct ag_type_name sqlite_types[] = {
	{ "varchar", "VARCHAR" }, { "char", "CHAR" }, { "text", "TEXT" },
	{ "integer", "INTEGER" }, { "bigint", "BIGINT" }, { "smallint", "SMALLINT" },
	{ "float", "FLOAT" }, { "real", "REAL" }, { "numeric", "NUMERIC" },
	{ "boolean", "BOOLEAN" }, { "timestamp", "TIMESTAMP" },
	{ "timestamptz", "TIMESTAMP WITH TIME ZONE" }, { "date", "DATE" },
	{ "time", "TIME" }, { "timetz", "TIME WITH TIME ZONE" },
	{ "interval", "INTERVAL" }, { "json", "JSON" }, { "jsonb", "JSONB" },
	{ "uuid", "UUID" }, { "bytea", "BLOB" }, { NULL, NULL },
};

static const char guard_start[] =
	"-- SQLite's ALTER TABLE cannot change a column's type, nullability or\n"
	"-- default, nor a table's keys, so the tables below are rebuilt as\n"
	"-- https://www.sqlite.org/lang_altertable.html#otheralter says: a new\n"
	"-- table, the rows copied, the old table dropped, the new one renamed,\n"
	"-- its indexes made again, then PRAGMA foreign_key_check.\n"
	"-- PRAGMA foreign_keys cannot change inside a transaction, and mig runs\n"
	"-- each migration in one; mig's connections leave it off, SQLite's\n"
	"-- default, so dropping a table deletes no rows of the tables that\n"
	"-- reference it.  The first check stops the migration if it is on; the\n"
	"-- last one if a foreign key no longer holds.\n"
	"CREATE TEMP TABLE mig_rebuild_check (\n"
	"  foreign_keys_off INTEGER\n"
	"    CONSTRAINT \"foreign_keys must be off to rebuild tables\" CHECK (foreign_keys_off),\n"
	"  foreign_keys_hold INTEGER\n"
	"    CONSTRAINT \"a rebuilt table breaks a foreign key\" CHECK (foreign_keys_hold)\n"
	");\n"
	"INSERT INTO temp.mig_rebuild_check (foreign_keys_off)\n"
	"  SELECT NOT foreign_keys FROM pragma_foreign_keys;\n";

/* The rebuilt tables and those that reference them, in schema s. */
static void checked_tables(const struct ag_run *ag, const struct mig_schema *s,
			   struct mig_strv *out)
{
	for (size_t i = 0; i < ag->ntd; i++)
		if (ag->td[i].rebuild)
			strv_push(out, ag->td[i].c->name);
	for (size_t i = 0; i < s->ntables; i++)
		for (size_t k = 0; k < s->tables[i].nfks; k++)
			if (strv_has(out, s->tables[i].fks[k].ref_table) &&
			    !strv_has(out, s->tables[i].name))
				strv_push(out, s->tables[i].name);
}

/* PRAGMA foreign_key_check only returns rows: a row becomes an error. */
static char *guard_end(const struct ag_run *ag, const struct mig_schema *s)
{
	struct mig_strv names = MIG_STRV_INIT;
	struct mig_buf b = MIG_BUF_INIT;
	checked_tables(ag, s, &names);
	buf_puts(&b, "-- PRAGMA foreign_key_check of the rebuilt tables and those that\n"
		 "-- reference them: any row it returns stops the migration.\n"
		 "INSERT INTO temp.mig_rebuild_check (foreign_keys_hold)\n  SELECT NOT EXISTS (");
	for (size_t i = 0; i < names.n; i++) {
		buf_puts(&b, i ? "\n    UNION ALL SELECT 1 FROM pragma_foreign_key_check("
			 : "SELECT 1 FROM pragma_foreign_key_check(");
		mig_quote_literal(&b, names.v[i]);
		buf_putc(&b, ')');
	}
	buf_puts(&b, ");\nDROP TABLE temp.mig_rebuild_check;\n");
	strv_release(&names);
	return buf_detach(&b);
}

static bool any_rebuild(const struct ag_run *ag)
{
	for (size_t i = 0; i < ag->ntd; i++)
		if (ag->td[i].rebuild)
			return true;
	return false;
}

/* A direction that rebuilds a table starts by checking that foreign keys
 * are off and ends by checking they all still hold. */
static void begin(struct mig_buf *b, const struct ag_run *ag, bool up)
{
	(void)up;
	if (any_rebuild(ag))
		buf_puts(b, guard_start);
}

static void end(struct mig_buf *b, const struct ag_run *ag, bool up)
{
	if (!any_rebuild(ag))
		return;
	char *sql = guard_end(ag, up ? &ag->want : &ag->cur);
	buf_puts(b, sql);
	free(sql);
}

/* SQLite: table a rebuilt as table b (same name), keeping the rows. */
static void put_rebuild(struct mig_buf *b, const struct mig_table *a,
			const struct mig_table *t, const struct ag_renderer *r)
{
	char *tmp = xasprintf("_mig_new_%s", t->name);
	buf_printf(b, "-- Rebuild %s: a new table, the rows copied, the old one dropped,\n"
		   "-- the new one renamed, its indexes made again.\n", t->name);
	ag_put_create_table(b, t, tmp, r);
	struct mig_buf cols = MIG_BUF_INIT;
	for (size_t i = 0; i < t->ncolumns; i++) {
		if (!mig_table_find_column(a, t->columns[i].name))
			continue;	/* new: its default fills it */
		buf_puts(&cols, cols.len ? ", " : "");
		ag_put_ident(&cols, t->columns[i].name);
	}
	if (cols.len) {
		buf_puts(b, "INSERT INTO ");
		ag_put_ident(b, tmp);
		buf_printf(b, " (%s)\n  SELECT %s FROM ", buf_str(&cols), buf_str(&cols));
		ag_put_ident(b, t->name);
		buf_puts(b, ";\n");
	}
	buf_puts(b, "DROP TABLE ");
	ag_put_ident(b, t->name);
	buf_puts(b, ";\n");
	ag_alter_table(b, tmp);
	buf_puts(b, "RENAME TO ");
	ag_put_ident(b, t->name);
	buf_puts(b, ";\n");
	ag_put_indexes(b, t, r);
	buf_release(&cols);
	free(tmp);
}

static void rebuild_op(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	put_rebuild(b, o->a, o->b, r);
}

const struct ag_renderer ag_render_sqlite = {
	.name = "sqlite",
	.on = AG_ON_SQLITE,
	.index_methods = false,
	.types = sqlite_types,
	.op = {
		[AG_OP_CREATE_TABLE] = ag_render_create_table,
		[AG_OP_DROP_TABLE] = ag_render_drop_table,
		[AG_OP_ADD_COLUMN] = ag_render_add_column,
		[AG_OP_DROP_COLUMN] = ag_render_drop_column,
		[AG_OP_CREATE_INDEX] = ag_render_create_index,
		[AG_OP_DROP_INDEX] = ag_render_drop_index,
		[AG_OP_REBUILD] = rebuild_op,
	},
	.begin = begin,
	.end = end,
};
