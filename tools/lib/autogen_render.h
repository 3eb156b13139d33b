/*
 * autogen_render.h: the last stage of mig-new --autogenerate: the SQL of
 * the ordered operations, written by one renderer per dialect.  A renderer
 * is a const table of functions, as the database drivers are (db.h), so
 * adding a dialect means adding a renderer (autogen_pg.c, autogen_sqlite.c)
 * and naming it in autogen.c's list, not editing branches.
 */
#ifndef MIG_AUTOGEN_RENDER_H
#define MIG_AUTOGEN_RENDER_H

#include "autogen_plan.h"
#include "autogen_sql.h"
#include "mig.h"
#include "schema.h"

#include <stdbool.h>
#include <stddef.h>

struct ag_renderer {
	const char *name;	/* the dialect of its sections: "-- +upgrade sqlite" */
	unsigned on;		/* AG_ON_PG or AG_ON_SQLITE: the operations for it */
	bool index_methods;	/* writes an index's access method (USING gin) */
	const struct ag_type_name *types;	/* its names of the canonical types */
	/* The SQL of one operation; NULL for a kind never written for it. */
	void (*op[AG_OP_KINDS])(struct mig_buf *b, const struct ag_op *o,
				const struct ag_renderer *r);
	/* Optional: SQL before and after the operations of a direction. */
	void (*begin)(struct mig_buf *b, const struct ag_run *ag, bool up);
	void (*end)(struct mig_buf *b, const struct ag_run *ag, bool up);
};

extern const struct ag_renderer ag_render_pg;
extern const struct ag_renderer ag_render_sqlite;

/* The dialects a migration is written for, in the order of their sections
 * (autogen.c names them; at least one). */
struct ag_dialects {
	const struct ag_renderer *const *v;
	size_t n;
};

/* The operations every dialect writes alike, for the renderers' tables. */
void ag_render_create_table(struct mig_buf *b, const struct ag_op *o,
			    const struct ag_renderer *r);
void ag_render_drop_table(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r);
void ag_render_add_column(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r);
void ag_render_drop_column(struct mig_buf *b, const struct ag_op *o,
			   const struct ag_renderer *r);
void ag_render_create_index(struct mig_buf *b, const struct ag_op *o,
			    const struct ag_renderer *r);
void ag_render_drop_index(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r);

/* Pieces of SQL the renderers share. */
void ag_alter_table(struct mig_buf *b, const char *table);	/* "ALTER TABLE t " */
void ag_put_fk(struct mig_buf *b, const struct mig_fk *f);
/* CREATE TABLE name with t's columns and keys; then t's indexes. */
void ag_put_create_table(struct mig_buf *b, const struct mig_table *t,
			 const char *name, const struct ag_renderer *r);
/* CREATE INDEX of each index of t. */
void ag_put_indexes(struct mig_buf *b, const struct mig_table *t,
		    const struct ag_renderer *r);

/* Appends the upgrade (up) or the downgrade sections of ag's operations:
 * each operation in each dialect; the downgrade is each operation's
 * inverse, last first. */
void ag_write_direction(const struct ag_run *ag, const struct ag_dialects *dialects,
			struct mig_buf *out, bool up);
/* The header comment of the file: what it comes from and what it changes;
 * the caller frees it. */
char *ag_write_comment(const struct ag_run *ag);

#endif
