/*
 * autogen_plan.c: the third stage of mig-new --autogenerate: the changes
 * (diff.h) of the tables that stay, the tables that come and go, put in
 * phases that keep PostgreSQL's dependencies satisfied (autogen_plan.h):
 * foreign keys that go or must be remade are dropped first, then the
 * tables that go (dependents first), then indexes, unique constraints and
 * primary keys that go, then column changes (and SQLite's rebuilds), then
 * the keys that come, the new tables (dependencies first), their foreign
 * keys, their indexes.
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen_plan.h"
#include "autogen_sql.h"
#include "diff.h"
#include "graph.h"
#include "mig.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

/* ---- operations and the changes of a table -------------------------------- */

struct ag_op ag_inverse(const struct ag_op *o)
{
	struct ag_op r = *o;
	if (o->kind < AG_OP_ALTER_COLUMN)
		r.kind = (enum ag_op_kind)(o->kind ^ 1);
	r.a = o->kind == AG_OP_REBUILD ? o->b : o->a;
	r.b = o->kind == AG_OP_REBUILD ? o->a : o->b;
	r.col = o->kind == AG_OP_ALTER_COLUMN ? o->col2 : o->col;
	r.col2 = o->kind == AG_OP_ALTER_COLUMN ? o->col : o->col2;
	return r;
}

struct ag_op *ag_add_op(struct ag_run *ag, enum ag_op_kind kind, unsigned on, const char *table)
{
	if (ag->nops == ag->cap) {
		ag->cap = ag->cap ? 2 * ag->cap : 32;
		ag->ops = xrealloc(ag->ops, ag->cap * sizeof(*ag->ops));
	}
	struct ag_op *o = &ag->ops[ag->nops++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->on = on;
	o->table = table;
	return o;
}

/* What the migration changes in an altered column: a default written
 * otherwise but meaning the same is no change. */
unsigned ag_column_change(const struct mig_change *ch)
{
	unsigned d = ch->altered;
	if (ag_same_default(ch->from_column->default_value, ch->to_column->default_value))
		d &= ~(unsigned)MIG_ALTERED_DEFAULT;
	return d;
}

/* The change of td about the element p of the current table (a foreign
 * key, an index), or of the wanted one; NULL when it stays as it is. */
const struct mig_change *ag_change_from(const struct ag_table *td, const void *p)
{
	for (size_t i = 0; td && i < td->nch; i++)
		if (td->ch[i].from_fk == p || td->ch[i].from_index == p)
			return &td->ch[i];
	return NULL;
}

const struct mig_change *ag_change_to(const struct ag_table *td, const void *p)
{
	for (size_t i = 0; td && i < td->nch; i++)
		if (td->ch[i].to_fk == p || td->ch[i].to_index == p)
			return &td->ch[i];
	return NULL;
}

bool ag_has_change(const struct ag_table *td, enum mig_change_kind kind)
{
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == kind)
			return true;
	return false;
}

/* The changed table of that name, or NULL. */
const struct ag_table *ag_find_table(const struct ag_run *ag, const char *table)
{
	for (size_t i = 0; i < ag->ntd; i++)
		if (!strcmp(ag->td[i].c->name, table))
			return &ag->td[i];
	return NULL;
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

static bool type_changed(const struct ag_run *ag, const char *table, const char *col)
{
	const struct mig_table *c = mig_schema_find(&ag->cur, table);
	const struct mig_table *w = mig_schema_find(&ag->want, table);
	const struct mig_column *a = c ? mig_table_find_column(c, col) : NULL;
	const struct mig_column *b = w ? mig_table_find_column(w, col) : NULL;
	return a && b && strcmp(a->type, b->type) != 0;
}

/* The key on cols of table goes away (or is remade) in this migration. */
static bool key_dropped(const struct ag_run *ag, const char *table, const struct mig_strv *cols)
{
	const struct ag_table *td = ag_find_table(ag, table);
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
static bool fk_disturbed(const struct ag_run *ag, const char *table, const struct mig_fk *f)
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
static void phase_fks(struct ag_run *ag, bool drop)
{
	for (size_t i = 0; i < ag->cur.ntables; i++) {
		const struct mig_table *c = &ag->cur.tables[i];
		const struct mig_table *w = mig_schema_find(&ag->want, c->name);
		const struct mig_table *from = drop ? c : w;
		const struct ag_table *td = ag_find_table(ag, c->name);
		for (size_t k = 0; w && k < from->nfks; k++) {
			const struct mig_fk *f = &from->fks[k];
			bool changed = drop ? ag_change_from(td, f) : ag_change_to(td, f);
			if (!changed && !fk_disturbed(ag, c->name, f))
				continue;
			ag_add_op(ag, drop ? AG_OP_DROP_FK : AG_OP_ADD_FK, AG_ON_PG, c->name)->fk = f;
		}
	}
}

static void phase_drop_keys(struct ag_run *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct ag_table *td = &ag->td[i];
		for (size_t k = 0; k < td->c->nindexes; k++)
			if (ag_change_from(td, &td->c->indexes[k]))
				ag_add_op(ag, AG_OP_DROP_INDEX, td->rebuild ? AG_ON_PG : AG_ON_BOTH,
				       td->c->name)->index = &td->c->indexes[k];
		for (size_t k = 0; k < td->nch; k++)
			if (td->ch[k].kind == MIG_UNIQUE_DROPPED)
				ag_add_op(ag, AG_OP_DROP_UNIQUE, AG_ON_PG, td->c->name)->cols =
					td->ch[k].from_unique;
		if (td->c->primary_key.n && ag_has_change(td, MIG_PRIMARY_KEY_CHANGED))
			ag_add_op(ag, AG_OP_DROP_PK, AG_ON_PG, td->c->name)->cols = &td->c->primary_key;
	}
}

static void phase_columns(struct ag_run *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		struct ag_table *td = &ag->td[i];
		const char *name = td->c->name;
		unsigned on = td->rebuild ? AG_ON_PG : AG_ON_BOTH;
		if (td->rebuild) {
			td->target = rebuild_target(td->c, td->w);
			struct ag_op *o = ag_add_op(ag, AG_OP_REBUILD, AG_ON_SQLITE, name);
			o->a = td->c;
			o->b = &td->target;
		}
		for (size_t k = 0; k < td->nch; k++) {
			const struct mig_change *ch = &td->ch[k];
			if (ch->kind == MIG_COLUMN_ADDED)
				ag_add_op(ag, AG_OP_ADD_COLUMN, on, name)->col = ch->to_column;
			else if (ch->kind == MIG_COLUMN_ALTERED && ag_column_change(ch)) {
				struct ag_op *o = ag_add_op(ag, AG_OP_ALTER_COLUMN, AG_ON_PG, name);
				o->col = ch->from_column;
				o->col2 = ch->to_column;
			} else if (ch->kind == MIG_COLUMN_DROPPED)
				ag_add_op(ag, AG_OP_DROP_COLUMN, on, name)->col = ch->from_column;
		}
	}
}

static void phase_add_keys(struct ag_run *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct ag_table *td = &ag->td[i];
		if (td->w->primary_key.n && ag_has_change(td, MIG_PRIMARY_KEY_CHANGED))
			ag_add_op(ag, AG_OP_ADD_PK, AG_ON_PG, td->w->name)->cols = &td->w->primary_key;
		for (size_t k = 0; k < td->nch; k++)
			if (td->ch[k].kind == MIG_UNIQUE_ADDED)
				ag_add_op(ag, AG_OP_ADD_UNIQUE, AG_ON_PG, td->w->name)->cols =
					td->ch[k].to_unique;
	}
}

static void phase_create_indexes(struct ag_run *ag)
{
	for (size_t i = 0; i < ag->ntd; i++) {
		const struct ag_table *td = &ag->td[i];
		for (size_t k = 0; k < td->w->nindexes; k++)
			if (ag_change_to(td, &td->w->indexes[k]))
				ag_add_op(ag, AG_OP_CREATE_INDEX, td->rebuild ? AG_ON_PG : AG_ON_BOTH,
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
static int dependency_order(struct ag_run *ag, const struct mig_schema *s,
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
static int check_remakeable(struct ag_run *ag)
{
	for (size_t i = 0; i < ag->nops; i++) {
		const struct ag_op *o = &ag->ops[i];
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

int ag_plan(struct ag_run *ag, struct mig_strv *created, struct mig_strv *dropped)
{
	int rc = dependency_order(ag, &ag->want, created, "create");
	if (!rc)
		rc = dependency_order(ag, &ag->cur, dropped, "drop");
	if (rc)
		return rc;
	phase_fks(ag, true);
	for (size_t i = dropped->n; i-- > 0;)
		ag_add_op(ag, AG_OP_DROP_TABLE, AG_ON_BOTH, dropped->v[i])->a =
			mig_schema_find(&ag->cur, dropped->v[i]);
	phase_drop_keys(ag);
	phase_columns(ag);
	phase_add_keys(ag);
	for (size_t i = 0; i < created->n; i++)
		ag_add_op(ag, AG_OP_CREATE_TABLE, AG_ON_BOTH, created->v[i])->a =
			mig_schema_find(&ag->want, created->v[i]);
	phase_fks(ag, false);
	phase_create_indexes(ag);
	return check_remakeable(ag);
}
