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

/* The tables (t), columns and indexes (x) of the schema a model is built
 * of (the introspection's PG_TABLES, db_pg.c), sorted by key as strcmp
 * sorts: key, identity (changes when the object is made again), the
 * index's table, its OID. */
#define PG_TABLE_OF(c, n) \
	"JOIN pg_catalog.pg_namespace " n " ON " n ".oid = " c ".relnamespace " \
	"WHERE " n ".nspname = $1 AND " c ".relkind IN ('r', 'p') AND NOT " c ".relispartition "
#define SNAPSHOT_ROWS \
	"SELECT * FROM (SELECT 'T' || t.relname AS key, t.oid::text, NULL::text, NULL::text " \
	"FROM t UNION ALL SELECT 'C' || t.relname || chr(31) || a.attname, " \
	"t.oid::text || ':' || a.attnum::text, NULL, NULL FROM t " \
	"JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid " \
	"AND a.attnum > 0 AND NOT a.attisdropped " \
	"UNION ALL SELECT 'I' || ic.relname, ic.oid::text, tc.relname, ic.oid::text FROM x " \
	"JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid " \
	"JOIN pg_catalog.pg_class tc ON tc.oid = x.indrelid " PG_TABLE_OF("tc", "tn") \
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con " \
	"WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))" \
	") u ORDER BY key COLLATE \"C\""

/* All of them: after a section that may have made anything. */
static const char whole_sql[] =
	"WITH t AS (SELECT c.oid, c.relname FROM pg_catalog.pg_class c " PG_TABLE_OF("c", "n") "), "
	"x AS (SELECT i.indexrelid, i.indrelid FROM pg_catalog.pg_index i "
	"WHERE i.indrelid IN (SELECT oid FROM t)) " SNAPSHOT_ROWS;

/* Only the tables and indexes named in $2 (names joined by 0x1f), with the
 * columns and indexes of those tables: a few index lookups, whatever the
 * size of the schema. */
static const char named_sql[] =
	"WITH t AS (SELECT c.oid, c.relname FROM pg_catalog.pg_class c " PG_TABLE_OF("c", "n")
	"AND c.relname = ANY (string_to_array($2, chr(31))::name[])), "
	"x AS (SELECT i.indexrelid, i.indrelid FROM pg_catalog.pg_index i "
	"WHERE i.indrelid IN (SELECT oid FROM t) UNION "
	"SELECT i.indexrelid, i.indrelid FROM pg_catalog.pg_class ic "
	"JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
	"JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid WHERE n.nspname = $1 "
	"AND ic.relname = ANY (string_to_array($2, chr(31))::name[])) " SNAPSHOT_ROWS;

struct section {
	struct mig_origins *o;
	const char *file;
	const char *schema;	/* the checked schema */
	bool bare_in_schema;	/* a bare name is created in it */
	struct mig_rows now;	/* whole_sql's or named_sql's rows */
	struct mig_strv unnamed;	/* an unnamed CREATE INDEX's table, by line */
	struct mig_strv unnamed_lines;
	/* the tables and indexes the section names, and whether it may have
	 * made others (a statement other than plain DDL on tables and
	 * indexes: DML, DO, a function, CREATE TABLE AS, LIKE, ...) */
	struct mig_strv names;
	bool whole;
	/* a statement of the section may have moved where a bare name goes
	 * (SET search_path, SET ROLE, RESET ALL): bare names are not keyed */
	bool search_path_moved;
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

/* Whether key is prefix's own record: prefix itself, or, for a table's,
 * one of its columns' ("C" table 0x1f column). */
static bool key_of(const char *key, const char *table_key, const char *column_prefix)
{
	return !strcmp(key, table_key) ||
	       !strncmp(key, column_prefix, strlen(column_prefix));
}

/* A DROP in this section: what an earlier statement of it recorded under
 * the dropped name is no longer where the name's object comes from.  It
 * goes to the file at no line, so that an object made again under the
 * name by what the parser cannot read (a DO block) shows the revision's
 * header rather than the dropped statement's line; a parsed CREATE after
 * the DROP records its own line over it. */
static void record_drop(struct section *s, const PgQuery__DropStmt *d)
{
	char kind = '\0';
	if (d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
		kind = 'T';
	else if (d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX)
		kind = 'I';
	for (size_t i = 0; kind && i < d->n_objects; i++) {
		const PgQuery__Node *obj = d->objects[i];
		if (obj->node_case != PG_QUERY__NODE__NODE_LIST || !obj->list->n_items)
			continue;
		const PgQuery__List *l = obj->list;
		const PgQuery__Node *last = l->items[l->n_items - 1];
		const PgQuery__Node *schema = l->n_items > 1 ? l->items[l->n_items - 2] : NULL;
		if (last->node_case != PG_QUERY__NODE__NODE_STRING ||
		    (schema ? schema->node_case != PG_QUERY__NODE__NODE_STRING ||
			      strcmp(schema->string->sval, s->schema) != 0
			    : !s->bare_in_schema))
			continue;
		char *table_key = xasprintf("%c%s", kind, last->string->sval);
		char *column_prefix = xasprintf("C%s\x1f", last->string->sval);
		struct mig_strv made = MIG_STRV_INIT;
		for (size_t k = 0; k < s->o->n; k++)
			if (s->o->v[k].generation == s->o->generation &&
			    key_of(s->o->v[k].key, table_key, kind == 'T' ? column_prefix : table_key))
				strv_push(&made, s->o->v[k].key);
		for (size_t k = 0; k < made.n; k++)
			mig_origins_set(s->o, made.v[k], s->file, 0);
		strv_release(&made);
		free(column_prefix);
		free(table_key);
	}
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
	case PG_QUERY__NODE__NODE_DROP_STMT:
		record_drop(s, n->drop_stmt);
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

/* Which tables and indexes a statement names; whether it is one that can
 * only make what it names (otherwise the whole schema is read). */
static void name_objects(struct section *s, const PgQuery__Node *n)
{
	switch (n ? n->node_case : PG_QUERY__NODE__NODE__NOT_SET) {
	case PG_QUERY__NODE__NODE_CREATE_STMT: {
		const PgQuery__CreateStmt *c = n->create_stmt;
		if (c->relation)
			strv_push(&s->names, c->relation->relname);
		s->whole |= c->n_inh_relations || c->partbound || c->of_typename;
		for (size_t i = 0; i < c->n_table_elts; i++)	/* LIKE: columns not named */
			s->whole |= c->table_elts[i]->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF &&
				    c->table_elts[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT;
		return;
	}
	case PG_QUERY__NODE__NODE_INDEX_STMT:
		if (n->index_stmt->relation)
			strv_push(&s->names, n->index_stmt->relation->relname);
		if (named(n->index_stmt->idxname))
			strv_push(&s->names, n->index_stmt->idxname);
		return;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		if (n->alter_table_stmt->relation)
			strv_push(&s->names, n->alter_table_stmt->relation->relname);
		s->whole |= n->alter_table_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
			    n->alter_table_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_INDEX;
		return;
	case PG_QUERY__NODE__NODE_RENAME_STMT: {
		const PgQuery__RenameStmt *r = n->rename_stmt;
		if (r->relation)
			strv_push(&s->names, r->relation->relname);
		strv_push(&s->names, r->newname);
		s->whole |= r->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
			    r->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
			    r->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_INDEX;
		return;
	}
	case PG_QUERY__NODE__NODE_DROP_STMT: {
		const PgQuery__DropStmt *d = n->drop_stmt;
		s->whole |= d->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
			    d->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_INDEX;
		for (size_t i = 0; !s->whole && i < d->n_objects; i++) {
			const PgQuery__Node *o = d->objects[i];	/* a list of names */
			const PgQuery__Node *last = o->node_case == PG_QUERY__NODE__NODE_LIST &&
						    o->list->n_items
						    ? o->list->items[o->list->n_items - 1] : NULL;
			if (last && last->node_case == PG_QUERY__NODE__NODE_STRING)
				strv_push(&s->names, last->string->sval);
			else
				s->whole = true;
		}
		return;
	}
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
		const PgQuery__VariableSetStmt *v = n->variable_set_stmt;
		s->search_path_moved |= v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL ||
			(v->name && (!strcmp(v->name, "search_path") || !strcmp(v->name, "role") ||
				     !strcmp(v->name, "session_authorization")));
		s->whole = true;
		return;
	}
	default:
		s->whole = true;	/* DML, DO, SELECT f(), CREATE TABLE AS, ... */
		return;
	}
}

struct parsed {
	const struct mig_pg_parser *p;
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree;
	int *lines;	/* each statement's first token's line */
};

/* sql's parse tree and each statement's line; tree NULL when the parser
 * cannot read it (then the whole schema is read, and nothing named). */
static void parse(struct parsed *x, const char *sql, int first_line)
{
	memset(x, 0, sizeof(*x));
	/* A parse tree takes about 30 times its text: a data section (a 5 MB
	 * INSERT) is not parsed, its objects are at the revision's header. */
	if (strlen(sql) > MIG_PG_ORIGINS_MAX_PARSE)
		return;
	x->p = load();
	if (!x->p)
		return;
	x->r = x->p->pg_query_parse_protobuf(sql);
	x->tree = x->r.error ? NULL
		: x->p->pg_query__parse_result__unpack(NULL, x->r.parse_tree.len,
						       (const uint8_t *)x->r.parse_tree.data);
	if (!x->tree)
		return;
	struct mig_stmt *stmts = NULL;
	size_t nstmts = 0;
	struct mig_err ignored = MIG_ERR_INIT;
	mig_pg_split(sql, &stmts, &nstmts, &ignored);
	mig_err_release(&ignored);
	x->lines = xcalloc(x->tree->n_stmts + 1, sizeof(*x->lines));
	for (size_t i = 0, k = 0; i < x->tree->n_stmts; i++) {
		size_t at = (size_t)x->tree->stmts[i]->stmt_location;
		size_t first = (size_t)(mig_sql_skip_trivia(sql + at) - sql);
		while (k < nstmts && stmts[k].from < at)	/* both in order */
			k++;
		if (k < nstmts && stmts[k].from == at)
			first = stmts[k].first;	/* PostgreSQL's lexer's */
		x->lines[i] = mig_sql_line(sql, first, first_line);
	}
	free(stmts);
}

static void parsed_release(struct parsed *x)
{
	if (x->tree)
		x->p->pg_query__parse_result__free_unpacked(x->tree, NULL);
	if (x->p)
		x->p->pg_query_free_protobuf_parse_result(x->r);
	free(x->lines);
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

static void remember(struct section *s);

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
	remember(s);
}

/* The table a seen key is about: T and C keys name it, an index's is kept. */
static const char *seen_table(const struct mig_origin_seen *x, size_t *len)
{
	if (x->index) {
		*len = x->columns.n ? strlen(x->columns.v[0]) : 0;
		return x->columns.n ? x->columns.v[0] : "";
	}
	*len = strcspn(x->name + 1, "\x1f");
	return x->name + 1;
}

static bool named_here(const struct section *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->names.n; i++)
		if (strlen(s->names.v[i]) == len && !memcmp(s->names.v[i], name, len))
			return true;
	return false;
}

/* The catalog's view after this section, for the next one's comparison:
 * the rows read, and (when only the named objects were read) what was
 * seen before of every other object. */
static void remember(struct section *s)
{
	struct mig_origins *o = s->o;
	struct mig_origin_seen *v = xcalloc(o->nseen + s->now.nrows + 1, sizeof(*v));
	size_t n = 0, r = 0;
	/* both sorted by key: the kept part of the old view, merged with the
	 * rows (keys are unique: a row's key was dropped from the old view) */
	for (size_t i = 0; i <= o->nseen; i++) {
		bool keep = false;
		if (i < o->nseen && !s->whole) {
			size_t len;
			const char *table = seen_table(&o->seen[i], &len);
			keep = !named_here(s, table, len) &&
			       !(o->seen[i].index && named_here(s, o->seen[i].name + 1,
								strlen(o->seen[i].name + 1)));
		}
		if (i < o->nseen && !keep)
			continue;	/* read again, or all read */
		while (r < s->now.nrows && (i == o->nseen ||
					    strcmp(mig_rows_cell(&s->now, r, 0), o->seen[i].name) < 0)) {
			v[n].name = xstrdup(mig_rows_cell(&s->now, r, 0));
			v[n].index = v[n].name[0] == 'I';
			v[n].sql = xstrdup(mig_rows_cell(&s->now, r, 1));
			if (v[n].index)
				strv_push(&v[n].columns, mig_rows_cell(&s->now, r, 2));
			n++;
			r++;
		}
		if (i < o->nseen) {
			v[n++] = o->seen[i];
			memset(&o->seen[i], 0, sizeof(o->seen[i]));
		}
	}
	mig_origins_forget_seen(o);
	o->seen = v;
	o->nseen = n;
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
			     .unnamed_lines = MIG_STRV_INIT, .names = MIG_STRV_INIT };
	free(current);
	struct parsed x;
	parse(&x, sql, first_line);
	s.whole = !x.tree;
	for (size_t i = 0; x.tree && i < x.tree->n_stmts; i++)
		name_objects(&s, x.tree->stmts[i]->stmt);
	if (s.search_path_moved)	/* the catalog alone: the revision's header */
		s.bare_in_schema = false;
	char *names = NULL;
	if (!s.whole) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "");
		for (size_t i = 0; i < s.names.n; i++) {
			if (i)
				buf_putc(&b, '\x1f');
			buf_puts(&b, s.names.v[i]);
		}
		names = buf_detach(&b);
	}
	const char *params[] = { o->pg_schema, names };
	if (mig_db_query(db, s.whole ? whole_sql : named_sql, s.whole ? 1 : 2, params, &s.now,
			 &ignored) == MIG_OK) {
		o->generation++;
		for (size_t i = 0; x.tree && i < x.tree->n_stmts; i++)
			record_statement(&s, x.tree->stmts[i]->stmt, x.lines[i]);
		settle_section(&s);
	}
	free(names);
	parsed_release(&x);
	mig_err_release(&ignored);
	mig_rows_release(&s.now);
	strv_release(&s.unnamed);
	strv_release(&s.unnamed_lines);
	strv_release(&s.names);
}
