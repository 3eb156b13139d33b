/*
 * autogen.h: mig-new --autogenerate: the migration that takes the schema the
 * migrations build to the one the spec describes, both ways, for SQLite and
 * PostgreSQL.
 */
#ifndef MIG_AUTOGEN_H
#define MIG_AUTOGEN_H

#include "graph.h"
#include "mig.h"

struct mig_autogen_opts {
	const char *spec;		/* NULL: DIR/schema.yaml */
	bool allow_destructive;		/* write drops and narrowing changes */
};

struct mig_autogen {
	char *spec;			/* the spec read */
	struct mig_strv changes;	/* what the migration does, a line each */
	struct mig_strv destructive;	/* the changes that lose data */
	char *comment;			/* header comment of the file */
	char *sections;			/* its upgrade and downgrade sections */
};

/*
 * Compares the schema the migrations of g build up to its head (replayed
 * into an in-memory SQLite) with the spec, and renders the migration that
 * takes one to the other, both ways, for SQLite and PostgreSQL.  No
 * difference: MIG_OK with ag->changes empty.  MIG_EINPUT for a spec that
 * cannot be read or migrated to (a NOT NULL column without a default added
 * to a table that exists, a missing type, a key PostgreSQL would refuse,
 * a table SQLite would have to rebuild that holds what the schema model
 * does not know, such as a CHECK constraint or a trigger); MIG_ESAFETY
 * when the change destroys data and o->allow_destructive is false, with
 * the culprits in ag->destructive.  The caller releases *ag in any case.
 */
int mig_autogen_run(struct mig_autogen *ag, const struct mig_autogen_opts *o,
		    const struct mig_graph *g, struct mig_err *err);
void mig_autogen_release(struct mig_autogen *ag);

#endif
