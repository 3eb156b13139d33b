/*
 * pg_origins.c: what a PostgreSQL section made, and at which line, from
 * the catalog and from libpg_query's parse tree (pg_origins.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "pg_origins.h"
#include "db.h"
#include "dl.h"
#include "mig.h"
#include "origins.h"
#include "pgsplit.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct mig_pg_parser {
	PgQueryProtobufParseResult (*pg_query_parse_protobuf)(const char *input);
	void (*pg_query_free_protobuf_parse_result)(PgQueryProtobufParseResult result);
	PgQuery__ParseResult *(*pg_query__parse_result__unpack)(ProtobufCAllocator *allocator,
								size_t len,
								const uint8_t *data);
	void (*pg_query__parse_result__free_unpacked)(PgQuery__ParseResult *message,
						      ProtobufCAllocator *allocator);
};

#define PARSER_FUNCTIONS(X) \
	X(pg_query_parse_protobuf) X(pg_query_free_protobuf_parse_result) \
	X(pg_query__parse_result__unpack) X(pg_query__parse_result__free_unpacked)

/* Each member checked against pg_query.h's prototype, as pgsplit.c does. */
#define PARSER_INIT(f) .f = (f),
_Static_assert(sizeof((struct mig_pg_parser){ PARSER_FUNCTIONS(PARSER_INIT) }) ==
	       sizeof(struct mig_pg_parser), "struct mig_pg_parser matches pg_query.h");

#define PARSER_SYMBOL(f) { #f, offsetof(struct mig_pg_parser, f) },
static const struct mig_dl_symbol symbols[] = { PARSER_FUNCTIONS(PARSER_SYMBOL) };

_Static_assert(sizeof(symbols) / sizeof(symbols[0]) * sizeof(void *) ==
	       sizeof(struct mig_pg_parser), "PARSER_FUNCTIONS names every member");

static struct mig_pg_parser parser;
static void *handle;	/* never closed, as pgsplit.c's */

static const struct mig_pg_parser *load(void)
{
	if (handle)
		return &parser;
	char *why = NULL;
	handle = mig_dl_bind(MIG_LIBPG_QUERY, symbols, sizeof(symbols) / sizeof(symbols[0]),
			     &parser, sizeof(parser), &why);
	free(why);	/* without the parser, nothing is named: all unknown */
	return handle ? &parser : NULL;
}

/* ---- what the catalog holds ------------------------------------------- */

/* Every table, column and index of the schema a model is built of (the
 * introspection's PG_TABLES, db_pg.c), sorted by key as strcmp sorts:
 * key, identity (changes when the object is made again), table, OID. */
static const char snapshot_sql[] =
	"WITH t AS (SELECT c.oid, c.relname FROM pg_catalog.pg_class c "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = $1) "
	"SELECT * FROM (SELECT 'T' || t.relname AS key, t.oid::text, NULL::text, NULL::text FROM t "
	"UNION ALL SELECT 'C' || t.relname || chr(31) || a.attname, "
	"t.oid::text || ':' || a.attnum::text, NULL, NULL FROM t "
	"JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid "
	"AND a.attnum > 0 AND NOT a.attisdropped "
	"UNION ALL SELECT 'I' || ic.relname, ic.oid::text, t.relname, ic.oid::text FROM t "
	"JOIN pg_catalog.pg_index i ON i.indrelid = t.oid "
	"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con "
	"WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) "
	") u ORDER BY key COLLATE \"C\"";

struct section {
	struct mig_origins *o;
	const char *file;
	const char *schema;	/* the checked schema */
	bool bare_in_schema;	/* a bare name is created in it */
	struct mig_rows now;	/* snapshot_sql's rows */
	struct mig_strv unnamed;	/* an unnamed CREATE INDEX's table, by line */
	struct mig_strv unnamed_lines;
};

/* The row of key in rows sorted by their first cell, or -1. */
static long row_of(const struct mig_rows *r, const char *key)
{
	size_t lo = 0, hi = r->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(mig_rows_cell(r, mid, 0), key);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The identity the previous section left for key, or NULL. */
static const char *seen_before(const struct mig_origins *o, const char *key)
{
	size_t lo = 0, hi = o->nseen;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->seen[mid].name, key);
		if (!c)
			return o->seen[mid].sql;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* key is there now as the same object it was before this section, or an
 * earlier statement of the section made it: an IF NOT EXISTS that found
 * it made nothing. */
static bool unchanged(const struct section *s, const char *key)
{
	const struct mig_origin_entry *e = mig_origins_find(s->o, key);
	if (e && e->generation == s->o->generation)
		return true;
	const char *was = seen_before(s->o, key);
	long r = row_of(&s->now, key);
	return was && r >= 0 && !strcmp(was, mig_rows_cell(&s->now, (size_t)r, 1));
}

/* ---- what the statements name ------------------------------------------ */

static bool named(const char *s)
{
	return s && *s;
}

/* Whether rv names an object of the checked schema; temporary ones are
 * not (they live in pg_temp). */
static bool in_schema(const struct section *s, const PgQuery__RangeVar *rv)
{
	if (!rv || !named(rv->relname) || (rv->relpersistence && rv->relpersistence[0] == 't'))
		return false;
	return named(rv->schemaname) ? !strcmp(rv->schemaname, s->schema) : s->bare_in_schema;
}

static void record(struct section *s, char kind, const char *table, const char *column,
		   int line, bool if_not_exists)
{
	char *key = column ? xasprintf("C%s\x1f%s", table, column)
			   : xasprintf("%c%s", kind, table);
	if (!(if_not_exists && unchanged(s, key)))
		mig_origins_set(s->o, key, s->file, line);
	free(key);
}

/* The record of from, if any, under to: a renamed object keeps its place. */
static void carry(struct mig_origins *o, char kind, const char *from, const char *to)
{
	char *a = xasprintf("%c%s", kind, from), *b = xasprintf("%c%s", kind, to);
	const struct mig_origin_entry *e = mig_origins_find(o, a);
	if (e) {
		char *file = e->at.file ? xstrdup(e->at.file) : NULL;
		int line = e->at.line;
		mig_origins_set(o, b, file, line);
		free(file);
	}
	free(a);
	free(b);
}

/* The name PostgreSQL gives the result column of a select's target, when
 * the target spells it (AS name, or a column reference); NULL otherwise
 * (an expression: '?column?' or a function's name, left unknown). */
static const char *target_name(const PgQuery__Node *n)
{
	if (!n || n->node_case != PG_QUERY__NODE__NODE_RES_TARGET)
		return NULL;
	const PgQuery__ResTarget *t = n->res_target;
	if (named(t->name))
		return t->name;
	if (!t->val || t->val->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
	    !t->val->column_ref->n_fields)
		return NULL;
	const PgQuery__Node *last = t->val->column_ref->fields[t->val->column_ref->n_fields - 1];
	return last->node_case == PG_QUERY__NODE__NODE_STRING ? last->string->sval : NULL;
}

/* CREATE TABLE AS, SELECT INTO: the table, and the columns whose names the
 * query spells (a '*' or an expression leaves the rest to the catalog:
 * unknown). */
static void record_select_into(struct section *s, const PgQuery__IntoClause *into,
			       const PgQuery__Node *query, int line, bool if_not_exists)
{
	if (!into || !in_schema(s, into->rel))
		return;
	const char *table = into->rel->relname;
	char *key = xasprintf("T%s", table);
	bool skip = if_not_exists && unchanged(s, key);
	free(key);
	if (skip)
		return;
	record(s, 'T', table, NULL, line, false);
	const PgQuery__SelectStmt *q = query && query->node_case == PG_QUERY__NODE__NODE_SELECT_STMT
				       ? query->select_stmt : NULL;
	bool simple = q && q->op == PG_QUERY__SET_OPERATION__SETOP_NONE;
	size_t ntargets = simple ? q->n_target_list : 0;
	for (size_t i = 0; i < into->n_col_names || i < ntargets; i++) {
		const PgQuery__Node *c = i < into->n_col_names ? into->col_names[i] : NULL;
		const char *name = c && c->node_case == PG_QUERY__NODE__NODE_STRING
				   ? c->string->sval : i < ntargets ? target_name(q->target_list[i]) : NULL;
		if (i < ntargets && q->target_list[i]->node_case == PG_QUERY__NODE__NODE_RES_TARGET &&
		    q->target_list[i]->res_target->val &&
		    q->target_list[i]->res_target->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
			const PgQuery__ColumnRef *ref = q->target_list[i]->res_target->val->column_ref;
			if (ref->n_fields && ref->fields[ref->n_fields - 1]->node_case ==
			    PG_QUERY__NODE__NODE_A_STAR)
				break;	/* '*': which columns follow is the catalog's */
		}
		if (named(name))
			record(s, 'C', table, name, line, false);
	}
}

static void record_alter(struct section *s, const PgQuery__AlterTableStmt *a, int line)
{
	if (a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || !in_schema(s, a->relation))
		return;
	for (size_t i = 0; i < a->n_cmds; i++) {
		if (a->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
			continue;
		const PgQuery__AlterTableCmd *c = a->cmds[i]->alter_table_cmd;
		if (c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn && c->def &&
		    c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF &&
		    named(c->def->column_def->colname))
			record(s, 'C', a->relation->relname, c->def->column_def->colname, line,
			       c->missing_ok);
		else if (c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType &&
			 named(c->name))
			record(s, 'C', a->relation->relname, c->name, line, false);
	}
}

static void record_rename(struct section *s, const PgQuery__RenameStmt *r, int line)
{
	if (!in_schema(s, r->relation) || !named(r->newname))
		return;
	const char *name = r->relation->relname;
	if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
		carry(s->o, 'T', name, r->newname);
		char *from = xasprintf("C%s\x1f", name), *to = xasprintf("C%s\x1f", r->newname);
		mig_origins_carry(s->o, from, to);
		free(from);
		free(to);
	} else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		   r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && named(r->subname)) {
		/* as on SQLite: the column under its new name is the rename's */
		record(s, 'C', name, r->newname, line, false);
	} else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
		carry(s->o, 'I', name, r->newname);
	}
}

static void record_statement(struct section *s, const PgQuery__Node *n, int line)
{
	switch (n ? n->node_case : PG_QUERY__NODE__NODE__NOT_SET) {
	case PG_QUERY__NODE__NODE_CREATE_STMT: {
		const PgQuery__CreateStmt *c = n->create_stmt;
		if (!in_schema(s, c->relation))
			break;
		char *key = xasprintf("T%s", c->relation->relname);
		bool skip = c->if_not_exists && unchanged(s, key);
		free(key);
		if (skip)
			break;
		record(s, 'T', c->relation->relname, NULL, line, false);
		for (size_t i = 0; i < c->n_table_elts; i++)
			if (c->table_elts[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF &&
			    named(c->table_elts[i]->column_def->colname))
				record(s, 'C', c->relation->relname,
				       c->table_elts[i]->column_def->colname, line, false);
		break;
	}
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		if (n->create_table_as_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
			record_select_into(s, n->create_table_as_stmt->into,
					   n->create_table_as_stmt->query, line,
					   n->create_table_as_stmt->if_not_exists);
		break;
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		if (n->select_stmt->into_clause)
			record_select_into(s, n->select_stmt->into_clause, n, line, false);
		break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		record_alter(s, n->alter_table_stmt, line);
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		record_rename(s, n->rename_stmt, line);
		break;
	case PG_QUERY__NODE__NODE_INDEX_STMT: {
		const PgQuery__IndexStmt *x = n->index_stmt;
		if (!in_schema(s, x->relation))
			break;
		if (named(x->idxname)) {
			/* an index lives in its table's schema */
			record(s, 'I', x->idxname, NULL, line, x->if_not_exists);
		} else {
			strv_push(&s->unnamed, x->relation->relname);
			strv_push_owned(&s->unnamed_lines, xasprintf("%d", line));
		}
		break;
	}
	default:
		break;	/* DO, EXECUTE, DML: what they made is the catalog's */
	}
}

/* Each statement of sql the parser reads, at the line of its first token. */
static void parse_section(struct section *s, const char *sql, int first_line)
{
	const struct mig_pg_parser *p = load();
	if (!p)
		return;
	PgQueryProtobufParseResult r = p->pg_query_parse_protobuf(sql);
	PgQuery__ParseResult *tree = r.error ? NULL
		: p->pg_query__parse_result__unpack(NULL, r.parse_tree.len,
						    (const uint8_t *)r.parse_tree.data);
	struct mig_stmt *stmts = NULL;
	size_t nstmts = 0;
	struct mig_err ignored = MIG_ERR_INIT;
	if (tree)
		mig_pg_split(sql, &stmts, &nstmts, &ignored);
	mig_err_release(&ignored);
	for (size_t i = 0; tree && i < tree->n_stmts; i++) {
		size_t at = (size_t)tree->stmts[i]->stmt_location;
		size_t first = (size_t)(mig_sql_skip_trivia(sql + at) - sql);
		for (size_t k = 0; k < nstmts; k++)
			if (stmts[k].from == at)
				first = stmts[k].first;	/* PostgreSQL's lexer's */
		record_statement(s, tree->stmts[i]->stmt, mig_sql_line(sql, first, first_line));
	}
	free(stmts);
	if (tree)
		p->pg_query__parse_result__free_unpacked(tree, NULL);
	p->pg_query_free_protobuf_parse_result(r);
}

/* ---- what no statement named ------------------------------------------- */

static int by_oid(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(char *const *)b, NULL, 10);
	return x < y ? -1 : x > y;
}

/* The unnamed CREATE INDEX statements on table, in order, get the new
 * indexes of table that no statement named, in OID order, when the counts
 * agree; otherwise those indexes are unknown. */
static void name_unnamed(struct section *s, const char *table, const struct mig_strv *fresh,
			 struct mig_strv *unknown)
{
	size_t want = 0;
	for (size_t i = 0; i < s->unnamed.n; i++)
		want += !strcmp(s->unnamed.v[i], table);
	/* fresh: "OID key" pairs */
	char **v = xcalloc(fresh->n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < fresh->n; i += 3)
		if (!strcmp(fresh->v[i], table))
			v[n++] = fresh->v[i + 1];
	qsort(v, n, sizeof(*v), by_oid);
	for (size_t i = 0, k = 0; i < n; i++) {
		const char *key = strchr(v[i], ' ') + 1;
		while (k < s->unnamed.n && strcmp(s->unnamed.v[k], table) != 0)
			k++;
		if (n == want && k < s->unnamed.n)
			mig_origins_set(s->o, key, s->file, atoi(s->unnamed_lines.v[k++]));
		else
			strv_push(unknown, key);
	}
	free(v);
}

static void settle_section(struct section *s)
{
	struct mig_strv unknown = MIG_STRV_INIT, fresh = MIG_STRV_INIT;
	for (size_t i = 0; i < s->now.nrows; i++) {
		const char *key = mig_rows_cell(&s->now, i, 0);
		const struct mig_origin_entry *e = mig_origins_find(s->o, key);
		if (e && e->generation == s->o->generation)
			continue;	/* a statement named it */
		const char *was = seen_before(s->o, key);
		if (was && !strcmp(was, mig_rows_cell(&s->now, i, 1)))
			continue;	/* the same object as before the section */
		const char *table = mig_rows_cell(&s->now, i, 2);
		if (key[0] == 'I' && table && strv_has(&s->unnamed, table)) {
			strv_push(&fresh, table);	/* table, "OID key", "" */
			strv_push_owned(&fresh, xasprintf("%s %s",
							  mig_rows_cell(&s->now, i, 3), key));
			strv_push(&fresh, "");
			continue;
		}
		strv_push(&unknown, key);
	}
	struct mig_strv done = MIG_STRV_INIT;
	for (size_t i = 0; i < fresh.n; i += 3)
		if (!strv_has(&done, fresh.v[i])) {
			strv_push(&done, fresh.v[i]);
			name_unnamed(s, fresh.v[i], &fresh, &unknown);
		}
	/* made by this section, by no statement the parser named: the file,
	 * at no line (verify.c shows the revision's header) */
	for (size_t i = 0; i < unknown.n; i++)
		mig_origins_set(s->o, unknown.v[i], s->file, 0);
	strv_release(&done);
	strv_release(&fresh);
	strv_release(&unknown);
	/* what this section left, for the next one */
	mig_origins_forget_seen(s->o);
	s->o->seen = xcalloc(s->now.nrows + 1, sizeof(*s->o->seen));
	for (size_t i = 0; i < s->now.nrows; i++) {
		s->o->seen[i].name = xstrdup(mig_rows_cell(&s->now, i, 0));
		s->o->seen[i].index = mig_rows_cell(&s->now, i, 0)[0] == 'I';
		s->o->seen[i].sql = xstrdup(mig_rows_cell(&s->now, i, 1));
	}
	s->o->nseen = s->now.nrows;
}

void mig_pg_note_origins(struct mig_db *db, const char *sql, const char *file,
			 int first_line)
{
	struct mig_origins *o = db->origins;
	struct mig_err ignored = MIG_ERR_INIT;
	char *current = NULL;
	/* the schema a bare name is created in, read now: a section may set
	 * search_path */
	if (mig_db_default_schema(db, &current, &ignored) != MIG_OK) {
		mig_err_release(&ignored);
		return;
	}
	if (!o->pg_schema)
		o->pg_schema = xstrdup(o->schema ? o->schema : current);
	struct section s = { .o = o, .file = file, .schema = o->pg_schema,
			     .bare_in_schema = !strcmp(current, o->pg_schema),
			     .now = MIG_ROWS_INIT, .unnamed = MIG_STRV_INIT,
			     .unnamed_lines = MIG_STRV_INIT };
	free(current);
	const char *params[] = { o->pg_schema };
	if (mig_db_query(db, snapshot_sql, 1, params, &s.now, &ignored) == MIG_OK) {
		o->generation++;
		parse_section(&s, sql, first_line);
		settle_section(&s);
	}
	mig_err_release(&ignored);
	mig_rows_release(&s.now);
	strv_release(&s.unnamed);
	strv_release(&s.unnamed_lines);
}
