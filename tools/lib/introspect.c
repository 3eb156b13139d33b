/*
 * introspect.c: turns the rows of a driver's three catalog queries into the
 * schema model.  Each driver asks its own catalog (SQLite's PRAGMA table
 * functions, PostgreSQL's pg_catalog) for the whole schema at once, in rows
 * of the same shape, so the number of queries never grows with the number
 * of tables and the model is built in one place:
 *
 *   columns:     table, column, type, not null, default, primary key position
 *   constraints: table, kind (p u f), columns, referenced table,
 *                referenced columns, on delete, on update
 *   indexes:     table, index, unique, method, columns, predicate
 *
 * Lists inside a cell are separated by the unit separator, byte 0x1f.
 */
#define _POSIX_C_SOURCE 200809L
#include "introspect.h"
#include "db.h"
#include "mig.h"
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void split_list(struct mig_strv *out, const char *cell)
{
	if (!cell)
		return;
	for (const char *p = cell; *p;) {
		size_t n = strcspn(p, "\x1f");
		strv_push_owned(out, xstrndup(p, n));
		p += n;
		if (*p)
			p++;
	}
}

static bool truthy(const char *cell)
{
	return cell && (!strcmp(cell, "1") || !strcmp(cell, "t") || !strcmp(cell, "true"));
}

/* PostgreSQL's one-letter codes and SQLite's words, as spec words. */
static char *fk_action(const char *cell)
{
	static const char *const codes[][2] = {
		{ "a", NULL }, { "no action", NULL }, { "r", "restrict" },
		{ "c", "cascade" }, { "n", "set null" }, { "d", "set default" },
	};
	if (!cell)
		return NULL;
	char *low = xstrdup(cell);
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (!strcmp(low, codes[i][0])) {
			free(low);
			return codes[i][1] ? xstrdup(codes[i][1]) : NULL;
		}
	}
	return low;
}

/* Defaults read alike on both dialects: no PostgreSQL casts, keywords in
 * lowercase, no enclosing parentheses. */
static char *default_normalize(const char *expr)
{
	char *d = xstrdup(expr);
	size_t n = strlen(d);
	while (n >= 2 && d[0] == '(' && d[n - 1] == ')') {
		memmove(d, d + 1, n - 2);
		d[n -= 2] = '\0';
	}
	char *cast = strstr(d, "::");
	if (cast && (d[0] == '\'' || isdigit((unsigned char)d[0]) || d[0] == '-'))
		*cast = '\0';
	if (d[0] != '\'')
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Rows come grouped by table: remember the last one found. */
static struct mig_table *table_of(struct mig_schema *s, const char *name,
				  struct mig_table **last)
{
	if (*last && !strcmp((*last)->name, name))
		return *last;
	struct mig_table *t = mig_schema_find(s, name);
	if (!t) {
		t = mig_schema_add_table(s, name);
		t->has_primary_key = t->has_fks = t->has_uniques = t->has_indexes = true;
	}
	return *last = t;
}

static void add_columns(struct mig_schema *s, const struct mig_rows *r)
{
	struct mig_table *last = NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		struct mig_table *t = table_of(s, mig_rows_cell(r, i, 0), &last);
		const char *name = mig_rows_cell(r, i, 1);
		if (!name)
			continue;	/* a table without columns */
		struct mig_column *c = mig_table_add_column(t, name);
		c->type = mig_type_normalize(mig_rows_cell(r, i, 2));
		c->nullable = !truthy(mig_rows_cell(r, i, 3));
		const char *def = mig_rows_cell(r, i, 4);
		c->has_default = true;
		c->default_value = def ? default_normalize(def) : NULL;
		const char *pk = mig_rows_cell(r, i, 5);
		long pos = pk ? strtol(pk, NULL, 10) : 0;
		if (pos > 0) {
			c->nullable = 0;
			while (t->primary_key.n < (size_t)pos)
				strv_push(&t->primary_key, "");
			free(t->primary_key.v[pos - 1]);
			t->primary_key.v[pos - 1] = xstrdup(name);
		}
	}
}

static void add_constraints(struct mig_schema *s, const struct mig_rows *r)
{
	struct mig_table *last = NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		struct mig_table *t = table_of(s, mig_rows_cell(r, i, 0), &last);
		const char *kind = mig_rows_cell(r, i, 1);
		const char *cols = mig_rows_cell(r, i, 2);
		if (!kind)
			continue;
		if (kind[0] == 'p') {
			strv_release(&t->primary_key);
			split_list(&t->primary_key, cols);
		} else if (kind[0] == 'u') {
			split_list(mig_table_add_unique(t, 0), cols);
		} else if (kind[0] == 'f') {
			struct mig_fk *f = mig_table_add_fk(t);
			split_list(&f->columns, cols);
			f->ref_table = xstrdup(mig_rows_cell(r, i, 3) ? mig_rows_cell(r, i, 3) : "");
			split_list(&f->ref_columns, mig_rows_cell(r, i, 4));
			f->on_delete = fk_action(mig_rows_cell(r, i, 5));
			f->on_update = fk_action(mig_rows_cell(r, i, 6));
		}
	}
}

static void add_indexes(struct mig_schema *s, const struct mig_rows *r)
{
	struct mig_table *last = NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		struct mig_table *t = table_of(s, mig_rows_cell(r, i, 0), &last);
		struct mig_index *x = mig_table_add_index(t, mig_rows_cell(r, i, 1));
		x->unique = truthy(mig_rows_cell(r, i, 2));
		const char *method = mig_rows_cell(r, i, 3);
		if (method && strcmp(method, "btree") != 0)
			x->method = xstrdup(method);
		split_list(&x->columns, mig_rows_cell(r, i, 4));
		const char *where = mig_rows_cell(r, i, 5);
		if (where && *where)
			x->where = xstrdup(where);
	}
}

/* SQLite may leave a foreign key's columns implicit: the referenced
 * table's primary key. */
static void resolve_implicit_refs(struct mig_schema *s)
{
	for (size_t i = 0; i < s->ntables; i++) {
		struct mig_table *t = &s->tables[i];
		for (size_t f = 0; f < t->nfks; f++) {
			struct mig_fk *fk = &t->fks[f];
			const struct mig_table *ref = mig_schema_find(s, fk->ref_table);
			if (fk->ref_columns.n || !ref)
				continue;
			for (size_t k = 0; k < ref->primary_key.n; k++)
				strv_push(&fk->ref_columns, ref->primary_key.v[k]);
		}
	}
}

int mig_introspect_run(struct mig_db *db, const char *const sql[3],
		       const char *schema, const char *skip_table,
		       struct mig_schema *out, struct mig_err *err)
{
	const char *params[2] = { schema, skip_table };
	struct mig_rows cols = MIG_ROWS_INIT, cons = MIG_ROWS_INIT, idx = MIG_ROWS_INIT;
	int rc = db->drv->query(db, sql[0], 2, params, &cols, err);
	if (!rc)
		rc = db->drv->query(db, sql[1], 2, params, &cons, err);
	if (!rc)
		rc = db->drv->query(db, sql[2], 2, params, &idx, err);
	if (!rc) {
		add_columns(out, &cols);
		add_constraints(out, &cons);
		add_indexes(out, &idx);
		resolve_implicit_refs(out);
	}
	mig_rows_release(&cols);
	mig_rows_release(&cons);
	mig_rows_release(&idx);
	return rc;
}
