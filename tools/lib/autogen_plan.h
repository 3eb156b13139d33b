/*
 * autogen_plan.h: the state mig-new --autogenerate passes from stage to
 * stage (diff, safety check, ordered plan, render), and the plan itself.
 * Only the autogen files include it.
 *
 * An operation is one DDL step with an exact inverse; it points into the
 * two schema models of the run and owns nothing.  struct ag_run owns the
 * models, the changes, the changed tables and the operations; autogen.c
 * releases them.
 */
#ifndef MIG_AUTOGEN_PLAN_H
#define MIG_AUTOGEN_PLAN_H

#include "autogen.h"
#include "diff.h"
#include "graph.h"
#include "mig.h"
#include "schema.h"

#include <stdbool.h>
#include <stddef.h>

/* Kinds come in pairs, each the inverse of the other (kind ^ 1), except
 * the last two, which are their own inverse with the sides swapped. */
enum ag_op_kind {
	AG_OP_CREATE_TABLE, AG_OP_DROP_TABLE,
	AG_OP_ADD_COLUMN, AG_OP_DROP_COLUMN,
	AG_OP_ADD_PK, AG_OP_DROP_PK,
	AG_OP_ADD_UNIQUE, AG_OP_DROP_UNIQUE,
	AG_OP_ADD_FK, AG_OP_DROP_FK,
	AG_OP_CREATE_INDEX, AG_OP_DROP_INDEX,
	AG_OP_ALTER_COLUMN,	/* col to col2 */
	AG_OP_REBUILD,		/* SQLite: table a rebuilt as table b */
	AG_OP_KINDS		/* how many there are */
};


/* The dialects an operation is written for (struct ag_renderer.on). */
enum { AG_ON_PG = 1, AG_ON_SQLITE = 2, AG_ON_BOTH = 3 };


struct ag_op {
	enum ag_op_kind kind;
	unsigned on;				/* the dialects it is written for */
	const char *table;
	const struct mig_table *a, *b;		/* CREATE/DROP TABLE: a */
	const struct mig_column *col, *col2;
	const struct mig_fk *fk;
	const struct mig_strv *cols;		/* primary key, unique */
	const struct mig_index *index;
};


/* What one table becomes: its two models, its changes (a run of
 * ag->changes) and whether SQLite rebuilds it. */
struct ag_table {
	const struct mig_table *c, *w;
	const struct mig_change *ch;
	size_t nch;
	bool rebuild;
	struct mig_table target;	/* w, columns in rebuild_target's order */
};


struct ag_run {
	const struct mig_graph *g;
	struct mig_schema cur, want;
	const char *spec;
	struct mig_strv unsafe;		/* "table\037what": SQLite cannot rebuild it */
	struct mig_changes changes;	/* from cur to want (diff.h) */
	struct ag_table *td;
	size_t ntd;
	struct ag_op *ops;
	size_t nops, cap;
	struct mig_autogen *out;
	struct mig_err *err;
};


/* The inverse of o: the same operation backwards (the downgrade's). */
struct ag_op ag_inverse(const struct ag_op *o);
/* A new operation at the end of ag->ops, zeroed but for these fields; the
 * pointer holds until the next call. */
struct ag_op *ag_add_op(struct ag_run *ag, enum ag_op_kind kind, unsigned on,
			const char *table);
/* What the migration changes in an altered column (enum mig_altered): a
 * default written otherwise but meaning the same is no change. */
unsigned ag_column_change(const struct mig_change *ch);
/* The change of t about p, an element (foreign key, index) of its current
 * table, or of its wanted table; NULL when p stays as it is or t is NULL. */
const struct mig_change *ag_change_from(const struct ag_table *t, const void *p);
const struct mig_change *ag_change_to(const struct ag_table *t, const void *p);
bool ag_has_change(const struct ag_table *t, enum mig_change_kind kind);
/* The changed table of that name, or NULL. */
const struct ag_table *ag_find_table(const struct ag_run *ag, const char *table);
/*
 * Orders the operations into ag->ops: created (tables of the spec) and
 * dropped (of the current schema) are the tables that come and go, put in
 * the order of their foreign keys here.  MIG_EINPUT with ag->err set for a
 * cycle of foreign keys or an index SQLite cannot make again.
 */
int ag_plan(struct ag_run *ag, struct mig_strv *created, struct mig_strv *dropped);

#endif
