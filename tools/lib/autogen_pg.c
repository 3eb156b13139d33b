/*
 * autogen_pg.c: mig-new --autogenerate's PostgreSQL renderer (the table
 * ag_render_pg of autogen_render.h): ALTER TABLE for every change, and the
 * constraints a migration left unnamed found by their columns in
 * pg_constraint, in a DO block, since PostgreSQL chose their names.
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

/* The PostgreSQL name of each canonical type (mig_type_normalize), which
 * PostgreSQL reads back as the same canonical type. */
static const struct ag_type_name pg_types[] = {
	{ "varchar", "VARCHAR" }, { "char", "CHAR" }, { "text", "TEXT" },
	{ "integer", "INTEGER" }, { "bigint", "BIGINT" }, { "smallint", "SMALLINT" },
	{ "float", "DOUBLE PRECISION" }, { "real", "REAL" }, { "numeric", "NUMERIC" },
	{ "boolean", "BOOLEAN" }, { "timestamp", "TIMESTAMP" },
	{ "timestamptz", "TIMESTAMP WITH TIME ZONE" }, { "date", "DATE" },
	{ "time", "TIME" }, { "timetz", "TIME WITH TIME ZONE" },
	{ "interval", "INTERVAL" }, { "json", "JSON" }, { "jsonb", "JSONB" },
	{ "uuid", "UUID" }, { "bytea", "BYTEA" }, { NULL, NULL },
};

/* A RAISE message: % is its placeholder. */
static void put_raise_text(struct mig_buf *b, const char *s)
{
	struct mig_buf t = MIG_BUF_INIT;
	for (; *s; s++) {
		if (*s == '%')
			buf_putc(&t, '%');
		buf_putc(&t, *s);
	}
	mig_quote_literal(b, buf_str(&t));
	buf_release(&t);
}

static void put_regclass(struct mig_buf *b, const char *table)
{
	struct mig_buf t = MIG_BUF_INIT;
	ag_put_ident(&t, table);
	mig_quote_literal(b, buf_str(&t));
	buf_puts(b, "::regclass");
	buf_release(&t);
}

/*
 * PostgreSQL names the constraints a migration leaves unnamed, so a
 * constraint is dropped by finding its name: by table and kind (p, u, f),
 * columns in order, and the referenced table of a foreign key.
 */
static void put_drop_constraint(struct mig_buf *b, const char *table, char kind,
				const struct mig_strv *cols, const char *ref)
{
	buf_puts(b, "DO $mig$\nDECLARE\n  con name;\nBEGIN\n"
		 "  SELECT c.conname INTO con FROM pg_catalog.pg_constraint c\n"
		 "   WHERE c.conrelid = ");
	put_regclass(b, table);
	buf_printf(b, " AND c.contype = '%c'", kind);
	if (ref) {
		buf_puts(b, "\n     AND c.confrelid = ");
		put_regclass(b, ref);
	}
	if (kind != 'p') {
		buf_puts(b, "\n     AND c.conkey = ARRAY(SELECT a.attnum FROM unnest(ARRAY[");
		for (size_t i = 0; i < cols->n; i++) {
			buf_puts(b, i ? ", " : "");
			mig_quote_literal(b, cols->v[i]);
		}
		buf_puts(b, "]::text[])\n       WITH ORDINALITY k(col, ord) JOIN pg_catalog.pg_attribute a\n"
			 "       ON a.attrelid = c.conrelid AND a.attname = k.col ORDER BY k.ord)");
	}
	char *list = strv_join(cols, ", ");
	char *what = kind == 'p' ? xasprintf("%s has no primary key", table) :
		kind == 'u' ? xasprintf("%s has no unique constraint (%s)", table, list) :
		xasprintf("%s has no foreign key (%s) to %s", table, list, ref);
	buf_puts(b, ";\n  IF con IS NULL THEN\n    RAISE EXCEPTION ");
	put_raise_text(b, what);
	buf_puts(b, ";\n  END IF;\n  EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', ");
	put_regclass(b, table);
	buf_puts(b, ", con);\nEND\n$mig$;\n");
	free(what);
	free(list);
}

static void alter_column(struct mig_buf *b, const char *table, const char *col,
			 const char *what)
{
	ag_alter_table(b, table);
	buf_puts(b, "ALTER COLUMN ");
	ag_put_ident(b, col);
	buf_printf(b, " %s", what);
}

/* PostgreSQL: a column's type, default and nullability, from a to b.  A
 * default is dropped before the type changes, as it may not cast. */
static void put_alter_column(struct mig_buf *b, const char *table,
			     const struct mig_column *a, const struct mig_column *c,
			     const struct ag_renderer *r)
{
	bool retype = strcmp(a->type, c->type) != 0;
	bool redefault = !ag_same_default(a->default_value, c->default_value);
	if (a->default_value && (retype || (redefault && !c->default_value))) {
		alter_column(b, table, a->name, "DROP DEFAULT;\n");
	}
	if (retype) {
		alter_column(b, table, a->name, "TYPE ");
		ag_put_type(b, c->type, r->types);
		if (ag_needs_using(a->type, c->type)) {
			buf_puts(b, " USING ");
			ag_put_ident(b, a->name);
			buf_puts(b, "::");
			ag_put_type(b, c->type, r->types);
		}
		buf_puts(b, ";\n");
	}
	if (c->default_value && (retype || redefault)) {
		alter_column(b, table, a->name, "SET DEFAULT ");
		ag_put_default(b, c->default_value);
		buf_puts(b, ";\n");
	}
	if (a->nullable != c->nullable)
		alter_column(b, table, a->name, c->nullable ? "DROP NOT NULL;\n" : "SET NOT NULL;\n");
}


static void alter_column_op(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	put_alter_column(b, o->table, o->col, o->col2, r);
}

static void add_pk(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	ag_alter_table(b, o->table);
	buf_puts(b, "ADD PRIMARY KEY ");
	ag_put_list(b, o->cols, false);
	buf_puts(b, ";\n");
}

static void drop_pk(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	put_drop_constraint(b, o->table, 'p', o->cols, NULL);
}

static void add_unique(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	ag_alter_table(b, o->table);
	buf_puts(b, "ADD UNIQUE ");
	ag_put_list(b, o->cols, false);
	buf_puts(b, ";\n");
}

static void drop_unique(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	put_drop_constraint(b, o->table, 'u', o->cols, NULL);
}

static void add_fk(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	ag_alter_table(b, o->table);
	buf_puts(b, "ADD ");
	ag_put_fk(b, o->fk);
	buf_puts(b, ";\n");
}

static void drop_fk(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	(void)r;
	put_drop_constraint(b, o->table, 'f', &o->fk->columns, o->fk->ref_table);
}

const struct ag_renderer ag_render_pg = {
	.name = "postgresql",
	.on = AG_ON_PG,
	.index_methods = true,
	.types = pg_types,
	.op = {
		[AG_OP_CREATE_TABLE] = ag_render_create_table,
		[AG_OP_DROP_TABLE] = ag_render_drop_table,
		[AG_OP_ADD_COLUMN] = ag_render_add_column,
		[AG_OP_DROP_COLUMN] = ag_render_drop_column,
		[AG_OP_ADD_PK] = add_pk,
		[AG_OP_DROP_PK] = drop_pk,
		[AG_OP_ADD_UNIQUE] = add_unique,
		[AG_OP_DROP_UNIQUE] = drop_unique,
		[AG_OP_ADD_FK] = add_fk,
		[AG_OP_DROP_FK] = drop_fk,
		[AG_OP_CREATE_INDEX] = ag_render_create_index,
		[AG_OP_DROP_INDEX] = ag_render_drop_index,
		[AG_OP_ALTER_COLUMN] = alter_column_op,
	},
};
