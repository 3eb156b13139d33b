/*
 * diff.h: the one difference between two schema models, as a list of
 * changes that take the schema `from` to the schema `to`: tables added or
 * dropped; columns added, dropped or altered (type, nullability, default);
 * the primary key changed; foreign keys, unique constraints and indexes
 * added, dropped or altered.  Two callers read it: compare.c turns each
 * change into a finding (check-schema, stamp, round trip), autogen.c into
 * the operations of a migration.
 *
 * A change points into the two models; it owns nothing of them, so the
 * models must outlive the list.  Changes come table by table in the order
 * of `to`'s tables (every change of one table together), then the tables
 * only `from` has; within a table: columns, primary key, foreign keys,
 * unique constraints, indexes, each first in `to`'s order (added, altered),
 * then in `from`'s (dropped).
 */
#ifndef MIG_DIFF_H
#define MIG_DIFF_H

#include "mig.h"
#include "schema.h"

#include <stddef.h>

enum mig_change_kind {
	MIG_TABLE_ADDED,	/* to: the table */
	MIG_TABLE_DROPPED,	/* from: the table */
	MIG_COLUMN_ADDED,	/* to_column */
	MIG_COLUMN_DROPPED,	/* from_column */
	MIG_COLUMN_ALTERED,	/* both; altered: MIG_ALTERED_TYPE... */
	MIG_PRIMARY_KEY_CHANGED,	/* from->primary_key, to->primary_key */
	MIG_FK_ADDED,		/* to_fk */
	MIG_FK_DROPPED,		/* from_fk */
	MIG_FK_ALTERED,		/* both: the same key, other actions */
	MIG_UNIQUE_ADDED,	/* to_unique, unique_line */
	MIG_UNIQUE_DROPPED,	/* from_unique */
	MIG_INDEX_ADDED,	/* to_index */
	MIG_INDEX_DROPPED,	/* from_index */
	MIG_INDEX_ALTERED,	/* both: the same name, made otherwise */
};

/* What differs in an altered column, foreign key or index. */
enum mig_altered {
	MIG_ALTERED_TYPE = 1 << 0,
	MIG_ALTERED_NULLABLE = 1 << 1,
	MIG_ALTERED_DEFAULT = 1 << 2,	/* the texts differ (not their meaning) */
	MIG_ALTERED_ON_DELETE = 1 << 3,
	MIG_ALTERED_ON_UPDATE = 1 << 4,
	MIG_ALTERED_COLUMNS = 1 << 5,	/* of an index */
	MIG_ALTERED_UNIQUE = 1 << 6,
	MIG_ALTERED_METHOD = 1 << 7,
	MIG_ALTERED_WHERE = 1 << 8,
};

struct mig_change {
	enum mig_change_kind kind;
	unsigned altered;			/* enum mig_altered bits */
	const struct mig_table *from, *to;	/* the table on each side, or NULL */
	const struct mig_column *from_column, *to_column;
	const struct mig_fk *from_fk, *to_fk;
	const struct mig_strv *from_unique, *to_unique;
	int unique_line;			/* to's line of to_unique */
	const struct mig_index *from_index, *to_index;
};

struct mig_changes {
	struct mig_change *v;
	size_t n, cap;
};
#define MIG_CHANGES_INIT { NULL, 0, 0 }

enum mig_diff_flags {
	/* Everything counts: what only `from` has is dropped, and a list `to`
	 * leaves out (no indexes: key) is empty.  Without it `to` is partial:
	 * it says only what it names (mig-check-schema without --strict). */
	MIG_DIFF_ALL = 1,
	/* `to` is a spec: an index's method or predicate it does not write is
	 * not compared.  (A field a spec leaves unset, such as a column's type,
	 * is never compared.)  Without it NULL means btree and not partial. */
	MIG_DIFF_SPEC = 2,
};

/* Appends to out the changes that take from to to (enum mig_diff_flags). */
void mig_schema_diff(const struct mig_schema *from, const struct mig_schema *to,
		     unsigned flags, struct mig_changes *out);
/* Frees the list (not the models it points into); it is empty after. */
void mig_changes_release(struct mig_changes *c);

#endif
