/*
 * autogen.c: mig-new --autogenerate.  The schema the migrations build up
 * to the head (replayed into an in-memory SQLite, as mig-stamp checks it)
 * is compared with the spec, and the difference becomes a list of
 * operations, each with an exact inverse, rendered for both dialects:
 *
 * - PostgreSQL gets ALTER TABLE statements.  Constraints the migrations
 *   made without a name are found by table, kind and columns in
 *   pg_constraint, in a DO block, since PostgreSQL chose their names.
 * - SQLite's ALTER TABLE can add and drop plain columns only, so a table
 *   whose columns change type, nullability or default, or whose keys
 *   change, is rebuilt by the procedure of
 *   https://www.sqlite.org/lang_altertable.html#otheralter: new table,
 *   copy the rows, drop, rename, recreate the indexes, check the foreign
 *   keys.
 *
 * The operations run in phases that keep PostgreSQL's dependencies
 * satisfied: foreign keys that go or must be remade are dropped first,
 * then the tables that go (dependents first), then indexes, unique
 * constraints and primary keys that go, then column changes (and SQLite's
 * rebuilds), then the keys that come, the new tables (dependencies first),
 * their foreign keys, their indexes.  The downgrade is the inverse of each
 * operation in reverse order, so it brings back the schema the migrations
 * had (mig-verify --roundtrip checks it).
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen.h"
#include "compare.h"
#include "db.h"
#include "diff.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "schema.h"
#include "spec.h"
#include "stamp.h"
#include "url.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- SQL text --------------------------------------------------------------- */

/* Words either dialect reserves (PostgreSQL's reserved keywords and the
 * SQLite keywords that cannot name a column), sorted for bsearch. */
static const char *const reserved[] = {
	"add", "all", "alter", "analyse", "analyze", "and", "any", "array", "as",
	"asc", "asymmetric", "authorization", "autoincrement", "between", "binary",
	"both", "case", "cast", "check", "collate", "collation", "column", "commit",
	"concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time",
	"current_timestamp", "current_user", "default", "deferrable", "delete",
	"desc", "distinct", "do", "drop", "else", "end", "escape", "except",
	"exists", "false", "fetch", "for", "foreign", "freeze", "from", "full",
	"grant", "group", "having", "if", "ilike", "in", "index", "initially",
	"inner", "insert", "intersect", "into", "is", "isnull", "join", "lateral",
	"leading", "left", "like", "limit", "localtime", "localtimestamp",
	"natural", "not", "nothing", "notnull", "null", "offset", "on", "only",
	"or", "order", "outer", "overlaps", "placing", "primary", "raise",
	"references", "returning", "right", "rollback", "select", "session_user",
	"set", "similar", "some", "symmetric", "table", "tablesample", "then",
	"to", "trailing", "transaction", "true", "union", "unique", "update",
	"user", "using", "values", "variadic", "verbose", "when", "where",
	"window", "with",
};

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* A name both dialects read unquoted as itself: lowercase, not reserved. */
static bool plain_name(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	return !bsearch(s, reserved, sizeof(reserved) / sizeof(reserved[0]),
			sizeof(reserved[0]), cmp_word);
}

static void put_ident(struct mig_buf *b, const char *name)
{
	if (plain_name(name))
		buf_puts(b, name);
	else
		mig_quote_ident(b, name);
}

static void put_literal(struct mig_buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

/* An index key: a column name, or an expression written as it is. */
static void put_key(struct mig_buf *b, const char *key)
{
	bool name = isalpha((unsigned char)*key) || *key == '_';
	for (const char *p = key; name && *p; p++)
		name = isalnum((unsigned char)*p) || *p == '_' || *p == '$';
	if (name)
		put_ident(b, key);
	else
		buf_puts(b, key);
}

static void put_list(struct mig_buf *b, const struct mig_strv *cols, bool keys)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < cols->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (keys)
			put_key(b, cols->v[i]);
		else
			put_ident(b, cols->v[i]);
	}
	buf_putc(b, ')');
}

/* ---- types --------------------------------------------------------------------- */

/*
 * The SQL of each canonical type (mig_type_normalize), chosen so that each
 * dialect reads it back as the same canonical type: mig-check-schema
 * --strict finds no difference on either.  SQLite keeps a declared type as
 * written, so json, jsonb and uuid keep their names there (their affinity
 * is NUMERIC, which leaves text that is not a number as text).
 */
static const struct {
	const char *canonical, *pg, *sqlite;
} type_sql[] = {
	{ "varchar", "VARCHAR", "VARCHAR" }, { "char", "CHAR", "CHAR" },
	{ "text", "TEXT", "TEXT" }, { "integer", "INTEGER", "INTEGER" },
	{ "bigint", "BIGINT", "BIGINT" }, { "smallint", "SMALLINT", "SMALLINT" },
	{ "float", "DOUBLE PRECISION", "FLOAT" }, { "real", "REAL", "REAL" },
	{ "numeric", "NUMERIC", "NUMERIC" }, { "boolean", "BOOLEAN", "BOOLEAN" },
	{ "timestamp", "TIMESTAMP", "TIMESTAMP" },
	{ "timestamptz", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE" },
	{ "date", "DATE", "DATE" }, { "time", "TIME", "TIME" },
	{ "timetz", "TIME WITH TIME ZONE", "TIME WITH TIME ZONE" },
	{ "interval", "INTERVAL", "INTERVAL" }, { "json", "JSON", "JSON" },
	{ "jsonb", "JSONB", "JSONB" }, { "uuid", "UUID", "UUID" },
	{ "bytea", "BYTEA", "BLOB" },
};

/* A canonical type taken apart: "numeric(20,2)[]" is numeric, 20, 2, array. */
struct type {
	char base[32];
	long p, s;		/* -1 when not given */
	bool array;
};

static void parse_type(const char *t, struct type *out)
{
	size_t n = strcspn(t, "([");
	snprintf(out->base, sizeof(out->base), "%.*s", (int)n, t);
	out->p = out->s = -1;
	out->array = strstr(t, "[]") != NULL;
	if (t[n] == '(') {
		char *end;
		out->p = strtol(t + n + 1, &end, 10);
		if (*end == ',')
			out->s = strtol(end + 1, NULL, 10);
	}
}

static void put_type(struct mig_buf *b, const char *canonical, enum mig_dialect d)
{
	struct type t;
	parse_type(canonical, &t);
	const char *sql = NULL;
	for (size_t i = 0; !sql && i < sizeof(type_sql) / sizeof(type_sql[0]); i++)
		if (!strcmp(type_sql[i].canonical, t.base))
			sql = d == MIG_POSTGRESQL ? type_sql[i].pg : type_sql[i].sqlite;
	if (sql)
		buf_puts(b, sql);
	else	/* a type outside the spec's list, read from a migration */
		for (const char *p = t.base; *p; p++)
			buf_putc(b, (char)toupper((unsigned char)*p));
	if (t.p >= 0 && t.s >= 0)
		buf_printf(b, "(%ld, %ld)", t.p, t.s);
	else if (t.p >= 0)
		buf_printf(b, "(%ld)", t.p);
	if (t.array)
		buf_puts(b, "[]");
}

static bool is(const struct type *t, const char *base)
{
	return !strcmp(t->base, base);
}

static bool stringy(const struct type *t)
{
	return !t->array && (is(t, "varchar") || is(t, "char") || is(t, "text"));
}

/* Decimal digits an integer type holds, 0 for other types. */
static long int_digits(const struct type *t)
{
	if (t->array)
		return 0;
	return is(t, "smallint") ? 5 : is(t, "integer") ? 10 : is(t, "bigint") ? 19 : 0;
}

static bool numeric_widens(const struct type *a, const struct type *b)
{
	if (b->p < 0)
		return true;	/* numeric without a precision holds anything */
	long ai = int_digits(a);
	long a_int = ai ? ai : a->p < 0 ? -1 : a->p - (a->s < 0 ? 0 : a->s);
	long a_scale = ai ? 0 : a->s < 0 ? 0 : a->s;
	long b_scale = b->s < 0 ? 0 : b->s;
	return a_int >= 0 && b->p - b_scale >= a_int && b_scale >= a_scale;
}

/* True when every value of type from is a value of type to, unchanged. */
static bool type_widens(const char *from, const char *to)
{
	struct type a, b;
	parse_type(from, &a);
	parse_type(to, &b);
	if (!strcmp(from, to) || (is(&b, "text") && !b.array && !a.array && !is(&a, "bytea")))
		return true;	/* bytea as text is its hex, not its bytes */
	if (a.array || b.array)
		return false;
	if (stringy(&a) && (is(&b, "varchar") || is(&b, "char")) && !is(&a, "text"))
		return b.p < 0 || (a.p >= 0 && b.p >= a.p);
	if ((int_digits(&a) || is(&a, "numeric")) && is(&b, "numeric"))
		return numeric_widens(&a, &b);
	if (int_digits(&a) && int_digits(&b))
		return int_digits(&b) >= int_digits(&a);
	if (is(&b, "float"))
		return is(&a, "real") || is(&a, "smallint") || is(&a, "integer");
	if (is(&b, "real"))
		return is(&a, "smallint");
	if (is(&a, "timestamp") || is(&a, "timestamptz") || is(&a, "date"))
		return is(&b, "timestamp") || is(&b, "timestamptz");
	return is(&a, "jsonb") && is(&b, "json");
}

/* PostgreSQL converts within these families by assignment; anything else
 * needs ALTER ... TYPE ... USING col::type.  A cast to a string type is
 * left implicit so that a value too long fails instead of being cut. */
static bool needs_using(const char *from, const char *to)
{
	struct type a, b;
	parse_type(from, &a);
	parse_type(to, &b);
	if (stringy(&b) || !strcmp(a.base, b.base))
		return a.array != b.array;
	bool a_num = int_digits(&a) || is(&a, "numeric") || is(&a, "real") || is(&a, "float");
	bool b_num = int_digits(&b) || is(&b, "numeric") || is(&b, "real") || is(&b, "float");
	bool a_ts = is(&a, "timestamp") || is(&a, "timestamptz") || is(&a, "date");
	bool b_ts = is(&b, "timestamp") || is(&b, "timestamptz") || is(&b, "date");
	return a.array || b.array || !((a_num && b_num) || (a_ts && b_ts));
}

/* ---- defaults ---------------------------------------------------------------- */

static bool ci_in(const char *s, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static bool number_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t digits = strspn(s, "0123456789");
	if (s[digits] == '.')
		digits += 1 + strspn(s + digits + 1, "0123456789");
	return digits && !s[digits];
}

/* A value SQLite's ALTER TABLE ADD COLUMN accepts as a default. */
static bool constant_default(const char *d)
{
	static const char *const words[] = { "null", "true", "false", NULL };
	return (d[0] == '\'' && d[strlen(d) - 1] == '\'') || number_text(d) || ci_in(d, words);
}

/* Literals stand alone after DEFAULT; other expressions go in parentheses,
 * which SQLite requires and PostgreSQL accepts. */
static void put_default(struct mig_buf *b, const char *d)
{
	static const char *const words[] = {
		"current_timestamp", "current_date", "current_time", NULL,
	};
	if (constant_default(d) || ci_in(d, words))
		buf_puts(b, d);
	else
		buf_printf(b, "(%s)", d);
}

/* Defaults compared as introspection normalizes them: no enclosing
 * parentheses, keywords in lowercase. */
static char *default_key(const char *d)
{
	if (!d)
		return NULL;
	char *k = xstrdup(d);
	size_t n = strlen(k);
	while (n >= 2 && k[0] == '(' && k[n - 1] == ')') {
		memmove(k, k + 1, n - 2);
		k[n -= 2] = '\0';
	}
	if (k[0] != '\'')
		for (char *p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return k;
}

static bool same_default(const char *a, const char *b)
{
	char *x = default_key(a), *y = default_key(b);
	bool same = (!x && !y) || (x && y && !strcmp(x, y));
	free(x);
	free(y);
	return same;
}

/* ---- the model ------------------------------------------------------------------ */

/* A key that a foreign key can reference: primary, unique, unique index. */
static bool is_key(const struct mig_table *t, const struct mig_strv *cols)
{
	if ((t->primary_key.n && strv_equal(&t->primary_key, cols)) ||
	    mig_table_has_unique(t, cols))
		return true;
	for (size_t i = 0; i < t->nindexes; i++)
		if (t->indexes[i].unique == 1 && !t->indexes[i].where &&
		    strv_equal(&t->indexes[i].columns, cols))
			return true;
	return false;
}

static bool in_constraint(const struct mig_table *t, const char *col)
{
	if (strv_has(&t->primary_key, col))
		return true;
	for (size_t i = 0; i < t->nuniques; i++)
		if (strv_has(&t->uniques[i], col))
			return true;
	for (size_t i = 0; i < t->nfks; i++)
		if (strv_has(&t->fks[i].columns, col))
			return true;
	return false;
}

/* SQLite's ALTER TABLE ADD COLUMN takes it: nullable or a constant default
 * (DROP COLUMN is its inverse, so the same test decides both). */
static bool sqlite_addable(const struct mig_table *t, const struct mig_column *c)
{
	const char *d = c->default_value;
	return !in_constraint(t, c->name) && (!d || constant_default(d)) &&
	       (c->nullable || d);
}

/* ---- operations ------------------------------------------------------------------ */

/* Kinds come in pairs, each the inverse of the other (kind ^ 1), except
 * the last two, which are their own inverse with the sides swapped. */
enum op_kind {
	OP_CREATE_TABLE, OP_DROP_TABLE,
	OP_ADD_COLUMN, OP_DROP_COLUMN,
	OP_ADD_PK, OP_DROP_PK,
	OP_ADD_UNIQUE, OP_DROP_UNIQUE,
	OP_ADD_FK, OP_DROP_FK,
	OP_CREATE_INDEX, OP_DROP_INDEX,
	OP_ALTER_COLUMN,	/* col to col2 */
	OP_REBUILD,		/* SQLite: table a rebuilt as table b */
};

enum { ON_PG = 1, ON_SQLITE = 2, ON_BOTH = 3 };

struct op {
	enum op_kind kind;
	unsigned on;				/* the dialects it is written for */
	const char *table;
	const struct mig_table *a, *b;		/* CREATE/DROP TABLE: a */
	const struct mig_column *col, *col2;
	const struct mig_fk *fk;
	const struct mig_strv *cols;		/* primary key, unique */
	const struct mig_index *index;
};

static struct op inverse(const struct op *o)
{
	struct op r = *o;
	if (o->kind < OP_ALTER_COLUMN)
		r.kind = (enum op_kind)(o->kind ^ 1);
	r.a = o->kind == OP_REBUILD ? o->b : o->a;
	r.b = o->kind == OP_REBUILD ? o->a : o->b;
	r.col = o->kind == OP_ALTER_COLUMN ? o->col2 : o->col;
	r.col2 = o->kind == OP_ALTER_COLUMN ? o->col : o->col2;
	return r;
}

/* What one table becomes: its two models, its changes (a run of
 * ag->changes) and whether SQLite rebuilds it. */
struct tdiff {
	const struct mig_table *c, *w;
	const struct mig_change *ch;
	size_t nch;
	bool rebuild;
	struct mig_table target;	/* w, columns in rebuild_target's order */
};

struct ag {
	const struct mig_graph *g;
	struct mig_schema cur, want;
	const char *spec;
	struct mig_strv unsafe;		/* "table\037what": SQLite cannot rebuild it */
	struct mig_changes changes;	/* from cur to want (diff.h) */
	struct tdiff *td;
	size_t ntd;
	struct op *ops;
	size_t nops, cap;
	struct mig_autogen *out;
	struct mig_err *err;
};

static struct op *add_op(struct ag *ag, enum op_kind kind, unsigned on, const char *table)
{
	if (ag->nops == ag->cap) {
		ag->cap = ag->cap ? 2 * ag->cap : 32;
		ag->ops = xrealloc(ag->ops, ag->cap * sizeof(*ag->ops));
	}
	struct op *o = &ag->ops[ag->nops++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->on = on;
	o->table = table;
	return o;
}

/* ---- rendering one operation ------------------------------------------------------ */

static void put_column_def(struct mig_buf *b, const struct mig_column *c,
			   enum mig_dialect d)
{
	put_ident(b, c->name);
	buf_putc(b, ' ');
	put_type(b, c->type, d);
	if (!c->nullable)
		buf_puts(b, " NOT NULL");
	if (c->default_value) {
		buf_puts(b, " DEFAULT ");
		put_default(b, c->default_value);
	}
}

static void put_action(struct mig_buf *b, const char *what, const char *action)
{
	if (!action)
		return;
	buf_printf(b, " %s ", what);
	for (const char *p = action; *p; p++)
		buf_putc(b, (char)toupper((unsigned char)*p));
}

static void put_fk(struct mig_buf *b, const struct mig_fk *f)
{
	buf_puts(b, "FOREIGN KEY ");
	put_list(b, &f->columns, false);
	buf_puts(b, " REFERENCES ");
	put_ident(b, f->ref_table);
	buf_putc(b, ' ');
	put_list(b, &f->ref_columns, false);
	put_action(b, "ON DELETE", f->on_delete);
	put_action(b, "ON UPDATE", f->on_update);
}

static void put_index(struct mig_buf *b, const char *table, const struct mig_index *x,
		      enum mig_dialect d)
{
	buf_puts(b, x->unique == 1 ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	put_ident(b, x->name);
	buf_puts(b, " ON ");
	put_ident(b, table);
	if (x->method && d == MIG_POSTGRESQL)
		buf_printf(b, " USING %s", x->method);
	buf_putc(b, ' ');
	put_list(b, &x->columns, true);
	if (x->where)
		buf_printf(b, " WHERE %s", x->where);
	buf_puts(b, ";\n");
}

/* CREATE TABLE name, with t's columns and keys, then t's indexes. */
static void put_create_table(struct mig_buf *b, const struct mig_table *t,
			     const char *name, enum mig_dialect d)
{
	buf_puts(b, "CREATE TABLE ");
	put_ident(b, name);
	buf_puts(b, " (");
	for (size_t i = 0; i < t->ncolumns; i++) {
		buf_puts(b, i ? ",\n  " : "\n  ");
		put_column_def(b, &t->columns[i], d);
	}
	if (t->primary_key.n) {
		buf_puts(b, ",\n  PRIMARY KEY ");
		put_list(b, &t->primary_key, false);
	}
	for (size_t i = 0; i < t->nfks; i++) {
		buf_puts(b, ",\n  ");
		put_fk(b, &t->fks[i]);
	}
	for (size_t i = 0; i < t->nuniques; i++) {
		buf_puts(b, ",\n  UNIQUE ");
		put_list(b, &t->uniques[i], false);
	}
	buf_puts(b, "\n);\n");
}

static void put_indexes(struct mig_buf *b, const struct mig_table *t, enum mig_dialect d)
{
	for (size_t i = 0; i < t->nindexes; i++)
		put_index(b, t->name, &t->indexes[i], d);
}

static void alter_table(struct mig_buf *b, const char *table)
{
	buf_puts(b, "ALTER TABLE ");
	put_ident(b, table);
	buf_putc(b, ' ');
}

/* A RAISE message: % is its placeholder. */
static void put_raise_text(struct mig_buf *b, const char *s)
{
	struct mig_buf t = MIG_BUF_INIT;
	for (; *s; s++) {
		if (*s == '%')
			buf_putc(&t, '%');
		buf_putc(&t, *s);
	}
	put_literal(b, buf_str(&t));
	buf_release(&t);
}

static void put_regclass(struct mig_buf *b, const char *table)
{
	struct mig_buf t = MIG_BUF_INIT;
	put_ident(&t, table);
	put_literal(b, buf_str(&t));
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
			put_literal(b, cols->v[i]);
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
	alter_table(b, table);
	buf_puts(b, "ALTER COLUMN ");
	put_ident(b, col);
	buf_printf(b, " %s", what);
}

/* PostgreSQL: a column's type, default and nullability, from a to b.  A
 * default is dropped before the type changes, as it may not cast. */
static void put_alter_column(struct mig_buf *b, const char *table,
			     const struct mig_column *a, const struct mig_column *c)
{
	bool retype = strcmp(a->type, c->type) != 0;
	bool redefault = !same_default(a->default_value, c->default_value);
	if (a->default_value && (retype || (redefault && !c->default_value))) {
		alter_column(b, table, a->name, "DROP DEFAULT;\n");
	}
	if (retype) {
		alter_column(b, table, a->name, "TYPE ");
		put_type(b, c->type, MIG_POSTGRESQL);
		if (needs_using(a->type, c->type)) {
			buf_puts(b, " USING ");
			put_ident(b, a->name);
			buf_puts(b, "::");
			put_type(b, c->type, MIG_POSTGRESQL);
		}
		buf_puts(b, ";\n");
	}
	if (c->default_value && (retype || redefault)) {
		alter_column(b, table, a->name, "SET DEFAULT ");
		put_default(b, c->default_value);
		buf_puts(b, ";\n");
	}
	if (a->nullable != c->nullable)
		alter_column(b, table, a->name, c->nullable ? "DROP NOT NULL;\n" : "SET NOT NULL;\n");
}

/* SQLite: table a rebuilt as table b (same name), keeping the rows. */
static void put_rebuild(struct mig_buf *b, const struct mig_table *a,
			const struct mig_table *t)
{
	char *tmp = xasprintf("_mig_new_%s", t->name);
	buf_printf(b, "-- Rebuild %s: a new table, the rows copied, the old one dropped,\n"
		   "-- the new one renamed, its indexes made again.\n", t->name);
	put_create_table(b, t, tmp, MIG_SQLITE);
	struct mig_buf cols = MIG_BUF_INIT;
	for (size_t i = 0; i < t->ncolumns; i++) {
		if (!mig_table_find_column(a, t->columns[i].name))
			continue;	/* new: its default fills it */
		buf_puts(&cols, cols.len ? ", " : "");
		put_ident(&cols, t->columns[i].name);
	}
	if (cols.len) {
		buf_puts(b, "INSERT INTO ");
		put_ident(b, tmp);
		buf_printf(b, " (%s)\n  SELECT %s FROM ", buf_str(&cols), buf_str(&cols));
		put_ident(b, t->name);
		buf_puts(b, ";\n");
	}
	buf_puts(b, "DROP TABLE ");
	put_ident(b, t->name);
	buf_puts(b, ";\n");
	alter_table(b, tmp);
	buf_puts(b, "RENAME TO ");
	put_ident(b, t->name);
	buf_puts(b, ";\n");
	put_indexes(b, t, MIG_SQLITE);
	buf_release(&cols);
	free(tmp);
}

static void put_keys_op(struct mig_buf *b, const struct op *o)
{
	switch (o->kind) {
	case OP_ADD_PK:
		alter_table(b, o->table);
		buf_puts(b, "ADD PRIMARY KEY ");
		put_list(b, o->cols, false);
		buf_puts(b, ";\n");
		break;
	case OP_DROP_PK:
		put_drop_constraint(b, o->table, 'p', o->cols, NULL);
		break;
	case OP_ADD_UNIQUE:
		alter_table(b, o->table);
		buf_puts(b, "ADD UNIQUE ");
		put_list(b, o->cols, false);
		buf_puts(b, ";\n");
		break;
	case OP_DROP_UNIQUE:
		put_drop_constraint(b, o->table, 'u', o->cols, NULL);
		break;
	case OP_ADD_FK:
		alter_table(b, o->table);
		buf_puts(b, "ADD ");
		put_fk(b, o->fk);
		buf_puts(b, ";\n");
		break;
	default:
		put_drop_constraint(b, o->table, 'f', &o->fk->columns, o->fk->ref_table);
		break;
	}
}

/* The SQL of o on dialect d ("" when o is not written for d). */
static void render_op(struct mig_buf *b, const struct op *o, enum mig_dialect d)
{
	if (!(o->on & (d == MIG_POSTGRESQL ? ON_PG : ON_SQLITE)))
		return;
	switch (o->kind) {
	case OP_CREATE_TABLE:
		put_create_table(b, o->a, o->a->name, d);
		put_indexes(b, o->a, d);
		break;
	case OP_DROP_TABLE:
		buf_puts(b, "DROP TABLE ");
		put_ident(b, o->table);
		buf_puts(b, ";\n");
		break;
	case OP_ADD_COLUMN:
		alter_table(b, o->table);
		buf_puts(b, "ADD COLUMN ");
		put_column_def(b, o->col, d);
		buf_puts(b, ";\n");
		break;
	case OP_DROP_COLUMN:
		alter_table(b, o->table);
		buf_puts(b, "DROP COLUMN ");
		put_ident(b, o->col->name);
		buf_puts(b, ";\n");
		break;
	case OP_CREATE_INDEX:
		put_index(b, o->table, o->index, d);
		break;
	case OP_DROP_INDEX:
		buf_puts(b, "DROP INDEX ");
		put_ident(b, o->index->name);
		buf_puts(b, ";\n");
		break;
	case OP_ALTER_COLUMN:
		put_alter_column(b, o->table, o->col, o->col2);
		break;
	case OP_REBUILD:
		put_rebuild(b, o->a, o->b);
		break;
	default:
		put_keys_op(b, o);
		break;
	}
}

/* ---- the spec as the whole schema ---------------------------------------------- */

static int check_columns(struct ag *ag, struct mig_table *t)
{
	if (!t->ncolumns) {
		mig_err_set(ag->err, MIG_EINPUT, "%s:%d: table '%s' lists no columns",
			    ag->spec, t->line, t->name);
		return mig_err_hint(ag->err, "--autogenerate reads the spec as the whole "
				    "schema; mig-check-schema --dump writes one");
	}
	for (size_t i = 0; i < t->ncolumns; i++) {
		struct mig_column *c = &t->columns[i];
		if (!c->type) {
			mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' has no type",
				    ag->spec, c->line, t->name, c->name);
			return mig_err_hint(ag->err, "--autogenerate creates what the spec "
					    "says: write it as { type: varchar(36), nullable: false }");
		}
		bool pk = strv_has(&t->primary_key, c->name);
		if (pk && c->nullable == 1)
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' is in "
					   "the primary key, so it cannot be nullable",
					   ag->spec, c->line, t->name, c->name);
		if (c->nullable < 0)	/* unset: SQL's default */
			c->nullable = !pk;
		c->has_default = true;	/* unset: no default */
	}
	for (size_t i = 0; i < t->nindexes; i++)
		if (t->indexes[i].unique < 0)
			t->indexes[i].unique = 0;
	return MIG_OK;
}

/* Each name of cols is a column of t. */
static int check_names(struct ag *ag, const struct mig_table *t,
		       const struct mig_strv *cols, int line, const char *what)
{
	for (size_t i = 0; i < cols->n; i++)
		if (!mig_table_find_column(t, cols->v[i]))
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: %s of table '%s' names "
					   "'%s', which is not one of its columns", ag->spec,
					   line, what, t->name, cols->v[i]);
	return MIG_OK;
}

static int check_fk(struct ag *ag, const struct mig_table *t, const struct mig_fk *f)
{
	const struct mig_table *ref = mig_schema_find(&ag->want, f->ref_table);
	int rc = check_names(ag, t, &f->columns, f->line, "a foreign key");
	if (!rc && ref)
		rc = check_names(ag, ref, &f->ref_columns, f->line, "a foreign key's reference");
	if (rc || !ref || is_key(ref, &f->ref_columns))
		return rc;
	char *cols = strv_join(&f->ref_columns, ", ");
	mig_err_set(ag->err, MIG_EINPUT, "%s:%d: table '%s' references %s(%s), which is "
		    "neither the primary key of '%s' nor unique", ag->spec, f->line,
		    t->name, f->ref_table, cols, f->ref_table);
	free(cols);
	return mig_err_hint(ag->err, "PostgreSQL refuses such a foreign key; make the "
			    "referenced columns a primary key or unique constraint");
}

static int check_keys(struct ag *ag, const struct mig_table *t)
{
	int rc = check_names(ag, t, &t->primary_key, t->line, "the primary key");
	for (size_t i = 0; !rc && i < t->nuniques; i++)
		rc = check_names(ag, t, &t->uniques[i], t->unique_lines[i], "a unique constraint");
	for (size_t i = 0; !rc && i < t->nfks; i++)
		rc = check_fk(ag, t, &t->fks[i]);
	for (size_t i = 0; !rc && i < t->nindexes; i++)
		if (!t->indexes[i].columns.n)
			rc = mig_err_set(ag->err, MIG_EINPUT, "%s:%d: index '%s' has no columns",
					 ag->spec, t->indexes[i].line, t->indexes[i].name);
	return rc;
}

/*
 * --autogenerate reads the spec as mig-check-schema --strict does: what it
 * does not list does not exist.  So it must be complete (every column
 * typed), and it must describe a schema PostgreSQL accepts.
 */
static int check_spec(struct ag *ag)
{
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < ag->want.ntables; i++) {
		struct mig_table *t = &ag->want.tables[i];
		if (!strcmp(t->name, MIG_DEFAULT_VERSION_TABLE))
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: %s is the version "
					   "table, which mig keeps; leave it out of the spec",
					   ag->spec, t->line, t->name);
		rc = check_columns(ag, t);
	}
	for (size_t i = 0; !rc && i < ag->want.ntables; i++)
		rc = check_keys(ag, &ag->want.tables[i]);
	struct mig_findings f = MIG_FINDINGS_INIT;
	if (!rc)
		mig_schema_check_fk_types(&ag->want, &f);
	if (f.n) {
		mig_err_set(ag->err, MIG_EINPUT, "%s: %s", ag->spec, f.v[0].msg);
		mig_err_hint(ag->err, "%s", f.v[0].hint);
		rc = MIG_EINPUT;
	}
	mig_findings_release(&f);
	return rc;
}

/* ---- what SQLite cannot rebuild -------------------------------------------------- */

/* s holds word (uppercase) on word boundaries, followed by next if given. */
static bool has_word(const char *s, const char *word, char next)
{
	size_t n = strlen(word);
	for (const char *p = strstr(s, word); p; p = strstr(p + 1, word)) {
		bool before = p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		const char *q = p + n;
		bool after = isalnum((unsigned char)*q) || *q == '_';
		while (next && *q == ' ')
			q++;
		if (!before && !after && (!next || *q == next))
			return true;
	}
	return false;
}

/* What a rebuild from the schema model would lose or break in a table. */
static const char *rebuild_loses(const char *sql, const char *views, long triggers)
{
	if (triggers)
		return "a trigger";
	if (has_word(sql, "CHECK", '('))
		return "a CHECK constraint";
	if (has_word(sql, "AUTOINCREMENT", 0))
		return "AUTOINCREMENT";
	if (has_word(sql, "COLLATE", 0))
		return "a COLLATE clause";
	if (has_word(sql, "GENERATED", 0) || has_word(sql, "AS", '('))
		return "a generated column";
	return views ? "a view that uses it" : NULL;
}

/* Tables of the replayed database that hold what the schema model does not
 * carry, so that rebuilding them from it would lose it. */
static int find_unsafe(struct ag *ag, struct mig_db *mem)
{
	static const char sql[] =
		"SELECT m.name, upper(m.sql), (SELECT count(*) FROM sqlite_master t "
		"WHERE t.type = 'trigger' AND t.tbl_name = m.name), (SELECT group_concat("
		"v.name) FROM sqlite_master v WHERE v.type = 'view' AND (' ' || "
		"upper(v.sql) || ' ') GLOB ('*[^A-Z0-9_]' || upper(m.name) || '[^A-Z0-9_]*')) "
		"FROM sqlite_master m WHERE m.type = 'table'";
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(mem, sql, 0, NULL, &r, ag->err);
	for (size_t i = 0; !rc && i < r.nrows; i++) {
		const char *why = rebuild_loses(mig_rows_cell(&r, i, 1) ? mig_rows_cell(&r, i, 1) : "",
						mig_rows_cell(&r, i, 3),
						strtol(mig_rows_cell(&r, i, 2), NULL, 10));
		if (why)
			strv_push_owned(&ag->unsafe, xasprintf("%s\037%s",
				       mig_rows_cell(&r, i, 0), why));
	}
	mig_rows_release(&r);
	return rc;
}

static const char *unsafe_reason(const struct ag *ag, const char *table)
{
	size_t n = strlen(table);
	for (size_t i = 0; i < ag->unsafe.n; i++)
		if (!strncmp(ag->unsafe.v[i], table, n) && ag->unsafe.v[i][n] == '\037')
			return ag->unsafe.v[i] + n + 1;
	return NULL;
}

/* ---- the difference, described -------------------------------------------------- */

static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
	for (char *p = s; *p; p++)	/* one line in a comment, whatever the spec held */
		if ((unsigned char)*p < ' ')
			*p = ' ';
	return s;
}

__attribute__((format(printf, 2, 3)))
static void change(struct ag *ag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(&ag->out->changes, vformat(fmt, ap));
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void destroys(struct ag *ag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(&ag->out->destructive, vformat(fmt, ap));
	va_end(ap);
}

static char *summary(const struct mig_column *c)
{
	return xasprintf("%s%s%s%s", c->type, c->nullable ? "" : " NOT NULL",
			 c->default_value ? " default " : "",
			 c->default_value ? c->default_value : "");
}

/* What the migration changes in an altered column: a default written
 * otherwise but meaning the same is no change. */
static unsigned column_change(const struct mig_change *ch)
{
	unsigned d = ch->altered;
	if (same_default(ch->from_column->default_value, ch->to_column->default_value))
		d &= ~(unsigned)MIG_ALTERED_DEFAULT;
	return d;
}

/* The change of td about the element p of the current table (a foreign
 * key, an index), or of the wanted one; NULL when it stays as it is. */
static const struct mig_change *change_from(const struct tdiff *td, const void *p)
{
	for (size_t i = 0; td && i < td->nch; i++)
		if (td->ch[i].from_fk == p || td->ch[i].from_index == p)
			return &td->ch[i];
	return NULL;
}

static const struct mig_change *change_to(const struct tdiff *td, const void *p)
{
	for (size_t i = 0; td && i < td->nch; i++)
		if (td->ch[i].to_fk == p || td->ch[i].to_index == p)
			return &td->ch[i];
	return NULL;
}

static bool has_change(const struct tdiff *td, enum mig_change_kind kind)
{
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == kind)
			return true;
	return false;
}

/* The changed table of that name, or NULL. */
static const struct tdiff *find_td(const struct ag *ag, const char *table)
{
	for (size_t i = 0; i < ag->ntd; i++)
		if (!strcmp(ag->td[i].c->name, table))
			return &ag->td[i];
	return NULL;
}

static int added_column(struct ag *ag, struct tdiff *td, const struct mig_column *c)
{
	if (!c->nullable && !c->default_value) {
		mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' is NOT NULL and has "
			    "no default, so it cannot be added to a table that exists: its "
			    "rows would have no value for it", ag->spec, c->line,
			    td->w->name, c->name);
		return mig_err_hint(ag->err, "give it a default in the spec (default: ...), "
				    "or add it as nullable: true, fill it, and make it NOT "
				    "NULL in a later migration");
	}
	char *s = summary(c);
	change(ag, "add column %s.%s %s", td->w->name, c->name, s);
	free(s);
	if (!sqlite_addable(td->w, c))
		td->rebuild = true;
	return MIG_OK;
}

static void dropped_column(struct ag *ag, struct tdiff *td, const struct mig_column *c)
{
	change(ag, "drop column %s.%s", td->c->name, c->name);
	destroys(ag, "drop column %s.%s: its values are lost", td->c->name, c->name);
	if (!sqlite_addable(td->c, c))
		td->rebuild = true;
}

static void altered_column(struct ag *ag, struct tdiff *td, const struct mig_change *ch,
			   unsigned d)
{
	const struct mig_column *a = ch->from_column, *b = ch->to_column;
	struct mig_buf s = MIG_BUF_INIT;
	if (d & MIG_ALTERED_TYPE)
		buf_printf(&s, ", type %s -> %s", a->type, b->type);
	if (d & MIG_ALTERED_NULLABLE)
		buf_printf(&s, ", %s", b->nullable ? "NOT NULL -> nullable" :
			   "nullable -> NOT NULL (fails while a row holds NULL)");
	if (d & MIG_ALTERED_DEFAULT)
		buf_printf(&s, ", default %s -> %s", a->default_value ? a->default_value : "none",
			   b->default_value ? b->default_value : "none");
	change(ag, "alter column %s.%s: %s", td->w->name, b->name, buf_str(&s) + 2);
	if ((d & MIG_ALTERED_TYPE) && !type_widens(a->type, b->type))
		destroys(ag, "alter column %s.%s: type %s -> %s can cut or change values",
			 td->w->name, b->name, a->type, b->type);
	td->rebuild = true;
	buf_release(&s);
}

static int describe_columns(struct ag *ag, struct tdiff *td)
{
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < td->nch; i++) {
		const struct mig_change *ch = &td->ch[i];
		unsigned d;
		if (ch->kind == MIG_COLUMN_ADDED)
			rc = added_column(ag, td, ch->to_column);
		else if (ch->kind == MIG_COLUMN_ALTERED && (d = column_change(ch)) != 0)
			altered_column(ag, td, ch, d);
		else if (ch->kind == MIG_COLUMN_DROPPED)
			dropped_column(ag, td, ch->from_column);
	}
	return rc;
}

static void describe_fk(struct ag *ag, struct tdiff *td, const struct mig_fk *f,
			const struct mig_fk *g, const char *verb)
{
	char *cols = strv_paren(&f->columns), *refs = strv_paren(&f->ref_columns);
	if (g)
		change(ag, "change foreign key %s %s -> %s%s: on delete %s, on update %s",
		       td->w->name, cols, f->ref_table, refs,
		       g->on_delete ? g->on_delete : "no action",
		       g->on_update ? g->on_update : "no action");
	else
		change(ag, "%s foreign key %s %s -> %s%s%s%s", verb, td->w->name, cols,
		       f->ref_table, refs, f->on_delete ? " on delete " : "",
		       f->on_delete ? f->on_delete : "");
	td->rebuild = true;
	free(cols);
	free(refs);
}

static void describe_unique(struct ag *ag, struct tdiff *td, const struct mig_strv *u,
			    const char *verb)
{
	char *cols = strv_paren(u);
	change(ag, "%s unique constraint %s %s", verb, td->w->name, cols);
	td->rebuild = true;
	free(cols);
}

/* Keys in the order the file lists them: the primary key, unique
 * constraints that go and come, foreign keys that go (or change) and
 * come, then indexes. */
static void describe_keys(struct ag *ag, struct tdiff *td)
{
	const struct mig_table *c = td->c, *w = td->w;
	if (has_change(td, MIG_PRIMARY_KEY_CHANGED)) {
		char *a = strv_paren(&c->primary_key), *b = strv_paren(&w->primary_key);
		change(ag, "primary key of %s: %s -> %s", w->name, c->primary_key.n ? a : "none",
		       w->primary_key.n ? b : "none");
		td->rebuild = true;
		free(a);
		free(b);
	}
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_UNIQUE_DROPPED)
			describe_unique(ag, td, td->ch[i].from_unique, "drop");
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_UNIQUE_ADDED)
			describe_unique(ag, td, td->ch[i].to_unique, "add");
	for (size_t i = 0; i < c->nfks; i++) {
		const struct mig_change *ch = change_from(td, &c->fks[i]);
		if (ch)
			describe_fk(ag, td, &c->fks[i], ch->to_fk, "drop");
	}
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_FK_ADDED)
			describe_fk(ag, td, td->ch[i].to_fk, NULL, "add");
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_INDEX_DROPPED)
			change(ag, "drop index %s on %s", td->ch[i].from_index->name, c->name);
	for (size_t i = 0; i < td->nch; i++) {
		const struct mig_change *ch = &td->ch[i];
		if (ch->kind != MIG_INDEX_ADDED && ch->kind != MIG_INDEX_ALTERED)
			continue;
		const struct mig_index *x = ch->to_index;
		char *cols = strv_paren(&x->columns);
		change(ag, "%s %sindex %s on %s %s", ch->from_index ? "remake" : "create",
		       x->unique == 1 ? "unique " : "", x->name, w->name, cols);
		free(cols);
	}
}

/* Columns of a rebuilt SQLite table in the order PostgreSQL ends up with:
 * those it keeps where they were, the new ones after them. */
static struct mig_table rebuild_target(const struct mig_table *c, const struct mig_table *w)
{
	struct mig_table t = *w;
	t.columns = xcalloc(w->ncolumns ? w->ncolumns : 1, sizeof(*t.columns));
	t.ncolumns = 0;
	for (size_t i = 0; i < c->ncolumns; i++) {
		const struct mig_column *k = mig_table_find_column(w, c->columns[i].name);
		if (k)
			t.columns[t.ncolumns++] = *k;
	}
	for (size_t i = 0; i < w->ncolumns; i++)
		if (!mig_table_find_column(c, w->columns[i].name))
			t.columns[t.ncolumns++] = w->columns[i];
	return t;
}

/* One table in both schemas, with its changes; kept in ag->td when the
 * migration changes it. */
static int describe_table(struct ag *ag, const struct mig_table *c, const struct mig_table *w,
			  const struct mig_change *ch, size_t nch)
{
	struct tdiff *td = &ag->td[ag->ntd];
	memset(td, 0, sizeof(*td));
	td->c = c;
	td->w = w;
	td->ch = ch;
	td->nch = nch;
	size_t before = ag->out->changes.n;
	int rc = describe_columns(ag, td);
	if (!rc)
		describe_keys(ag, td);
	if (rc || ag->out->changes.n == before)
		return rc;
	ag->ntd++;
	const char *why = td->rebuild ? unsafe_reason(ag, c->name) : NULL;
	if (!why)
		return MIG_OK;
	mig_err_set(ag->err, MIG_EINPUT, "table '%s' has %s, which the schema model does "
		    "not carry, and SQLite must rebuild the table for this change",
		    c->name, why);
	return mig_err_hint(ag->err, "write this migration by hand: mig-new --message MSG "
			    "writes an empty one");
}

/* The changes from the current schema to the spec (diff.h), each said in
 * ag->out->changes (and in destructive when it loses data). */
static int describe(struct ag *ag, struct mig_strv *created, struct mig_strv *dropped)
{
	int rc = MIG_OK;
	const struct mig_changes *all = &ag->changes;
	mig_schema_diff(&ag->cur, &ag->want, MIG_DIFF_ALL, &ag->changes);
	ag->td = xcalloc(ag->cur.ntables + 1, sizeof(*ag->td));
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].kind == MIG_TABLE_ADDED) {
			strv_push(created, all->v[i].to->name);
			change(ag, "create table %s", all->v[i].to->name);
		}
	for (size_t i = 0; !rc && i < ag->cur.ntables; i++) {
		const struct mig_table *c = &ag->cur.tables[i];
		size_t first = 0, n = 0;
		while (first < all->n && (all->v[first].from != c || !all->v[first].to))
			first++;
		while (first + n < all->n && all->v[first + n].from == c)
			n++;
		if (n)
			rc = describe_table(ag, c, all->v[first].to, &all->v[first], n);
	}
	for (size_t i = 0; !rc && i < all->n; i++) {
		if (all->v[i].kind != MIG_TABLE_DROPPED)
			continue;
		const char *name = all->v[i].from->name;
		strv_push(dropped, name);
		change(ag, "drop table %s", name);
		destroys(ag, "drop table %s: its rows are lost", name);
	}
	return rc;
}

/* ---- the operations, in phases ------------------------------------------------- */

static bool type_changed(const struct ag *ag, const char *table, const char *col)
{
	const struct mig_table *c = mig_schema_find(&ag->cur, table);
	const struct mig_table *w = mig_schema_find(&ag->want, table);
	const struct mig_column *a = c ? mig_table_find_column(c, col) : NULL;
	const struct mig_column *b = w ? mig_table_find_column(w, col) : NULL;
	return a && b && strcmp(a->type, b->type) != 0;
}

/* The key on cols of table goes away (or is remade) in this migration. */
static bool key_dropped(const struct ag *ag, const char *table, const struct mig_strv *cols)
{
	const struct tdiff *td = find_td(ag, table);
	for (size_t i = 0; td && i < td->nch; i++) {
		const struct mig_change *ch = &td->ch[i];
		const struct mig_index *x = ch->from_index;
		if ((ch->kind == MIG_PRIMARY_KEY_CHANGED && strv_equal(&td->c->primary_key, cols)) ||
		    (ch->kind == MIG_UNIQUE_DROPPED && strv_equal(ch->from_unique, cols)) ||
		    (x && x->unique == 1 && strv_equal(&x->columns, cols)))
			return true;
	}
	return false;
}

/* PostgreSQL: a foreign key that stays is still dropped and made again when
 * the columns it joins change type or the key it references is remade. */
static bool fk_disturbed(const struct ag *ag, const char *table, const struct mig_fk *f)
{
	for (size_t i = 0; i < f->columns.n; i++)
		if (type_changed(ag, table, f->columns.v[i]))
			return true;
	for (size_t i = 0; i < f->ref_columns.n; i++)
		if (type_changed(ag, f->ref_table, f->ref_columns.v[i]))
			return true;
	return key_dropped(ag, f->ref_table, &f->ref_columns);
}

/* Foreign keys of the tables in both schemas that go (drop) or come (add). */
static void phase_fks(struct ag *ag, bool drop)
{
	for (size_t i = 0; i < ag->cur.ntables; i++) {
		const struct mig_table *c = &ag->cur.tables[i];
		const struct mig_table *w = mig_schema_find(&ag->want, c->name);
		const struct mig_table *from = drop ? c : w;
		const struct tdiff *td = find_td(ag, c->name);
		for (size_t k = 0; w && k < from->nfks; k++) {
			const struct mig_fk *f = &from->fks[k];
			bool changed = drop ? change_from(td, f) : change_to(td, f);
			if (!changed && !fk_disturbed(ag, c->name, f))
				continue;
			add_op(ag, drop ? OP_DROP_FK : OP_ADD_FK, ON_PG, c->name)->fk = f;
		}
	}
}

static void phase_drop_keys(struct ag *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct tdiff *td = &ag->td[i];
		for (size_t k = 0; k < td->c->nindexes; k++)
			if (change_from(td, &td->c->indexes[k]))
				add_op(ag, OP_DROP_INDEX, td->rebuild ? ON_PG : ON_BOTH,
				       td->c->name)->index = &td->c->indexes[k];
		for (size_t k = 0; k < td->nch; k++)
			if (td->ch[k].kind == MIG_UNIQUE_DROPPED)
				add_op(ag, OP_DROP_UNIQUE, ON_PG, td->c->name)->cols =
					td->ch[k].from_unique;
		if (td->c->primary_key.n && has_change(td, MIG_PRIMARY_KEY_CHANGED))
			add_op(ag, OP_DROP_PK, ON_PG, td->c->name)->cols = &td->c->primary_key;
	}
}

static void phase_columns(struct ag *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		struct tdiff *td = &ag->td[i];
		const char *name = td->c->name;
		unsigned on = td->rebuild ? ON_PG : ON_BOTH;
		if (td->rebuild) {
			td->target = rebuild_target(td->c, td->w);
			struct op *o = add_op(ag, OP_REBUILD, ON_SQLITE, name);
			o->a = td->c;
			o->b = &td->target;
		}
		for (size_t k = 0; k < td->nch; k++) {
			const struct mig_change *ch = &td->ch[k];
			if (ch->kind == MIG_COLUMN_ADDED)
				add_op(ag, OP_ADD_COLUMN, on, name)->col = ch->to_column;
			else if (ch->kind == MIG_COLUMN_ALTERED && column_change(ch)) {
				struct op *o = add_op(ag, OP_ALTER_COLUMN, ON_PG, name);
				o->col = ch->from_column;
				o->col2 = ch->to_column;
			} else if (ch->kind == MIG_COLUMN_DROPPED)
				add_op(ag, OP_DROP_COLUMN, on, name)->col = ch->from_column;
		}
	}
}

static void phase_add_keys(struct ag *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct tdiff *td = &ag->td[i];
		if (td->w->primary_key.n && has_change(td, MIG_PRIMARY_KEY_CHANGED))
			add_op(ag, OP_ADD_PK, ON_PG, td->w->name)->cols = &td->w->primary_key;
		for (size_t k = 0; k < td->nch; k++)
			if (td->ch[k].kind == MIG_UNIQUE_ADDED)
				add_op(ag, OP_ADD_UNIQUE, ON_PG, td->w->name)->cols =
					td->ch[k].to_unique;
	}
}

static void phase_create_indexes(struct ag *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct tdiff *td = &ag->td[i];
		for (size_t k = 0; k < td->w->nindexes; k++)
			if (change_to(td, &td->w->indexes[k]))
				add_op(ag, OP_CREATE_INDEX, td->rebuild ? ON_PG : ON_BOTH,
				       td->w->name)->index = &td->w->indexes[k];
	}
}

/* A table is ready when every table of names it references is in done. */
static bool ready(const struct mig_table *t, const struct mig_strv *names,
		  const struct mig_strv *done)
{
	for (size_t i = 0; i < t->nfks; i++) {
		const char *ref = t->fks[i].ref_table;
		if (strcmp(ref, t->name) != 0 && strv_has(names, ref) && !strv_has(done, ref))
			return false;
	}
	return true;
}

/* Orders names (tables of s) so that each follows those it references;
 * ties by name.  MIG_EINPUT for a cycle of foreign keys. */
static int dependency_order(struct ag *ag, const struct mig_schema *s,
			    struct mig_strv *names, const char *verb)
{
	struct mig_strv done = MIG_STRV_INIT;
	while (done.n < names->n) {
		size_t pick = MIG_NONE;
		for (size_t i = 0; i < names->n && pick == MIG_NONE; i++)
			if (!strv_has(&done, names->v[i]) &&
			    ready(mig_schema_find(s, names->v[i]), names, &done))
				pick = i;
		if (pick == MIG_NONE) {
			strv_release(&done);
			mig_err_set(ag->err, MIG_EINPUT, "the tables to %s reference each "
				    "other in a cycle of foreign keys", verb);
			return mig_err_hint(ag->err, "--autogenerate cannot order them; "
					    "write this migration by hand");
		}
		strv_push(&done, names->v[pick]);
	}
	strv_release(names);
	*names = done;
	return MIG_OK;
}

static bool expression_index(const struct mig_index *x)
{
	return strv_has(&x->columns, "<expression>");
}

/* SQLite does not report the expression of an index on one, so such an
 * index cannot be made again from the model. */
static int check_remakeable(struct ag *ag)
{
	for (size_t i = 0; i < ag->nops; i++) {
		const struct op *o = &ag->ops[i];
		const struct mig_index *bad = o->index && expression_index(o->index) ? o->index : NULL;
		for (int side = 0; side < 2 && !bad; side++) {
			const struct mig_table *t = side ? o->b : o->a;
			for (size_t k = 0; t && k < t->nindexes && !bad; k++)
				if (expression_index(&t->indexes[k]))
					bad = &t->indexes[k];
		}
		if (!bad)
			continue;
		mig_err_set(ag->err, MIG_EINPUT, "index '%s' of table '%s' is on an "
			    "expression, which SQLite does not report", bad->name, o->table);
		return mig_err_hint(ag->err, "--autogenerate cannot make it again; write "
				    "this migration by hand");
	}
	return MIG_OK;
}

static int plan_ops(struct ag *ag, struct mig_strv *created, struct mig_strv *dropped)
{
	int rc = dependency_order(ag, &ag->want, created, "create");
	if (!rc)
		rc = dependency_order(ag, &ag->cur, dropped, "drop");
	if (rc)
		return rc;
	phase_fks(ag, true);
	for (size_t i = dropped->n; i-- > 0;)
		add_op(ag, OP_DROP_TABLE, ON_BOTH, dropped->v[i])->a =
			mig_schema_find(&ag->cur, dropped->v[i]);
	phase_drop_keys(ag);
	phase_columns(ag);
	phase_add_keys(ag);
	for (size_t i = 0; i < created->n; i++)
		add_op(ag, OP_CREATE_TABLE, ON_BOTH, created->v[i])->a =
			mig_schema_find(&ag->want, created->v[i]);
	phase_fks(ag, false);
	phase_create_indexes(ag);
	return check_remakeable(ag);
}

/* ---- the sections ---------------------------------------------------------------- */

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
static void checked_tables(const struct ag *ag, const struct mig_schema *s,
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
static char *guard_end(const struct ag *ag, const struct mig_schema *s)
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
		put_literal(&b, names.v[i]);
		buf_putc(&b, ')');
	}
	buf_puts(&b, ");\nDROP TABLE temp.mig_rebuild_check;\n");
	strv_release(&names);
	return buf_detach(&b);
}

/* The SQL of one direction, a piece per operation and dialect. */
struct pieces {
	char **pg, **sqlite;
	size_t n, cap;
};

static void add_piece(struct pieces *p, struct mig_buf *pg, struct mig_buf *sqlite)
{
	if (!pg->len && !sqlite->len)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->pg = xrealloc(p->pg, p->cap * sizeof(*p->pg));
		p->sqlite = xrealloc(p->sqlite, p->cap * sizeof(*p->sqlite));
	}
	p->pg[p->n] = buf_detach(pg);
	p->sqlite[p->n++] = buf_detach(sqlite);
}

static bool shared(const struct pieces *p, size_t i)
{
	return *p->pg[i] && !strcmp(p->pg[i], p->sqlite[i]);
}

/* Pieces [from, to) of one dialect as a section (none when all are empty). */
static void section(struct mig_buf *out, const char *dir, const char *dialect,
		    char **sql, size_t from, size_t to)
{
	bool open = false;
	for (size_t i = from; i < to; i++) {
		if (!*sql[i])
			continue;
		if (!open)
			buf_printf(out, "%s-- +%s%s%s\n", out->len ? "\n" : "", dir,
				   dialect ? " " : "", dialect ? dialect : "");
		else
			buf_putc(out, '\n');
		buf_puts(out, sql[i]);
		open = true;
	}
}

/* SQL that both dialects share at the start and at the end goes in plain
 * sections; what lies between, in one section for each dialect, so that
 * each reads as a whole. */
static void write_pieces(struct mig_buf *out, const char *dir, const struct pieces *p)
{
	size_t head = 0, tail = p->n;
	while (head < p->n && shared(p, head))
		head++;
	while (tail > head && shared(p, tail - 1))
		tail--;
	section(out, dir, NULL, p->pg, 0, head);
	section(out, dir, "postgresql", p->pg, head, tail);
	section(out, dir, "sqlite", p->sqlite, head, tail);
	section(out, dir, NULL, p->pg, tail, p->n);
}

static bool any_rebuild(const struct ag *ag)
{
	for (size_t i = 0; i < ag->ntd; i++)
		if (ag->td[i].rebuild)
			return true;
	return false;
}

/* The upgrade, or the downgrade: each operation's inverse, last first. */
static void write_direction(const struct ag *ag, struct mig_buf *out, bool up)
{
	struct pieces p = { NULL, NULL, 0, 0 };
	struct mig_buf pg = MIG_BUF_INIT, sqlite = MIG_BUF_INIT;
	bool rebuild = any_rebuild(ag);
	if (rebuild) {
		buf_puts(&sqlite, guard_start);
		add_piece(&p, &pg, &sqlite);
	}
	for (size_t k = 0; k < ag->nops; k++) {
		struct op o = up ? ag->ops[k] : inverse(&ag->ops[ag->nops - 1 - k]);
		render_op(&pg, &o, MIG_POSTGRESQL);
		render_op(&sqlite, &o, MIG_SQLITE);
		add_piece(&p, &pg, &sqlite);
	}
	if (rebuild) {
		char *end = guard_end(ag, up ? &ag->want : &ag->cur);
		buf_puts(&sqlite, end);
		add_piece(&p, &pg, &sqlite);
		free(end);
	}
	write_pieces(out, up ? "upgrade" : "downgrade", &p);
	for (size_t i = 0; i < p.n; i++) {
		free(p.pg[i]);
		free(p.sqlite[i]);
	}
	free(p.pg);
	free(p.sqlite);
}

/* The header comment: where the migration comes from and what it does.
 * No line may read as a header key ("-- word:"), hence the capitals. */
static char *write_comment(const struct ag *ag)
{
	const struct mig_graph *g = ag->g;
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "--\n-- Generated by mig-new --autogenerate; review it before committing.\n");
	if (g->nheads)
		buf_printf(&b, "-- From: the migrations up to %s\n", g->revs[g->heads[0]].id);
	else
		buf_puts(&b, "-- From: no migrations (an empty database)\n");
	buf_printf(&b, "-- To:   %s\n-- Changes:\n", ag->spec);
	for (size_t i = 0; i < ag->out->changes.n; i++)
		buf_printf(&b, "--   - %s\n", ag->out->changes.v[i]);
	if (ag->out->destructive.n) {
		buf_puts(&b, "--\n-- WARNING: written with --allow-destructive.  These changes destroy\n"
			 "-- data, and their downgrade brings back the schema, not the data:\n");
		for (size_t i = 0; i < ag->out->destructive.n; i++)
			buf_printf(&b, "--   - %s\n", ag->out->destructive.v[i]);
	}
	return buf_detach(&b);
}

/* The text must read back as a migration with both directions; anything
 * else is a bug here, better reported than written. */
static int self_check(struct ag *ag)
{
	char *text = xasprintf("-- revision: autogenerate\n-- down_revision: none\n%s\n%s",
			       ag->out->comment, ag->out->sections);
	struct mig_rev rev;
	memset(&rev, 0, sizeof(rev));
	int line = 0;
	int rc = mig_rev_parse_sql(&rev, "(generated migration)", text, strlen(text),
				   &line, ag->err);
	if (!rc && (!rev.has_upgrade || !rev.has_downgrade))
		rc = mig_err_set(ag->err, MIG_EINPUT, "(generated migration): a section is "
				 "missing");
	if (rc)
		mig_err_hint(ag->err, "this is a bug in mig-new --autogenerate; please report "
			     "it with the spec");
	mig_rev_release(&rev);
	free(text);
	return rc;
}

/* ---- the whole run ------------------------------------------------------------------ */

static int load_spec(struct ag *ag)
{
	int rc = mig_spec_load(&ag->want, ag->spec, true, ag->err);
	if (rc == MIG_EINPUT && access(ag->spec, F_OK) != 0)
		mig_err_hint(ag->err, "--autogenerate writes the migration to the schema a spec "
			     "describes: name it with --spec FILE, or write %s (mig-check-schema "
			     "--dump writes one from a database)", ag->spec);
	if (!rc)
		mig_schema_sort(&ag->want);
	return rc;
}

static int load_current(struct ag *ag)
{
	struct mig_db *mem = NULL;
	int rc = mig_replay(ag->g, ag->g->heads, ag->g->nheads, &mem, ag->err);
	if (!rc)
		rc = mig_db_introspect(mem, NULL, MIG_DEFAULT_VERSION_TABLE, &ag->cur, ag->err);
	if (!rc)
		rc = find_unsafe(ag, mem);
	mig_db_close(mem);
	if (!rc)
		mig_schema_sort(&ag->cur);
	return rc;
}

static int refuse_destructive(struct ag *ag)
{
	size_t n = ag->out->destructive.n;
	mig_err_set(ag->err, MIG_ESAFETY, "the spec asks for %zu change%s that destroy%s "
		    "data; nothing was written", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	return mig_err_hint(ag->err, "if that is meant, run again with --allow-destructive: "
			    "the file then lists them in a WARNING comment");
}

static int generate(struct ag *ag, const struct mig_autogen_opts *o)
{
	struct mig_strv created = MIG_STRV_INIT, dropped = MIG_STRV_INIT;
	int rc = describe(ag, &created, &dropped);
	if (!rc && ag->out->changes.n && ag->out->destructive.n && !o->allow_destructive)
		rc = refuse_destructive(ag);
	if (!rc && ag->out->changes.n)
		rc = plan_ops(ag, &created, &dropped);
	if (!rc && ag->out->changes.n) {
		struct mig_buf b = MIG_BUF_INIT;
		write_direction(ag, &b, true);
		write_direction(ag, &b, false);
		ag->out->sections = buf_detach(&b);
		ag->out->comment = write_comment(ag);
		rc = self_check(ag);
	}
	strv_release(&created);
	strv_release(&dropped);
	return rc;
}

int mig_autogen_run(struct mig_autogen *out, const struct mig_autogen_opts *o,
		    const struct mig_graph *g, struct mig_err *err)
{
	memset(out, 0, sizeof(*out));
	out->spec = o->spec ? xstrdup(o->spec) : xasprintf("%s/schema.yaml", g->dir);
	struct ag ag;
	memset(&ag, 0, sizeof(ag));
	ag.g = g;
	ag.spec = out->spec;
	ag.out = out;
	ag.err = err;
	int rc = load_spec(&ag);
	if (!rc)
		rc = check_spec(&ag);
	if (!rc)
		rc = load_current(&ag);
	if (!rc)
		rc = generate(&ag, o);
	for (size_t i = 0; i < ag.ntd; i++)
		free(ag.td[i].target.columns);
	free(ag.td);
	mig_changes_release(&ag.changes);
	free(ag.ops);
	strv_release(&ag.unsafe);
	mig_schema_release(&ag.cur);
	mig_schema_release(&ag.want);
	return rc;
}

void mig_autogen_release(struct mig_autogen *ag)
{
	free(ag->spec);
	strv_release(&ag->changes);
	strv_release(&ag->destructive);
	free(ag->comment);
	free(ag->sections);
	memset(ag, 0, sizeof(*ag));
}
