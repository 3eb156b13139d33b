/*
 * stamp.h: mig-stamp's job, writing the version table's rows without running
 * migrations, after checking that the schema holds what those revisions
 * make (replayed into an in-memory SQLite, or read from a spec).
 */
#ifndef MIG_STAMP_H
#define MIG_STAMP_H

#include "db.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "version.h"

struct mig_stamp_opts {
	const char *spec;	/* the expected schema, instead of replaying */
	bool no_verify;		/* stamp without checking the schema */
	bool force;		/* overwrite another or an unknown revision */
	bool dry_run;		/* check and say, change nothing */
	bool no_history;	/* --no-history: no mig_history row */
};

struct mig_stamp {
	struct mig_strv target;		/* the rows to write (none: base) */
	struct mig_strv before, after;	/* the rows read before and after */
	bool already;			/* the database was at target: nothing done */
	const char *checked;		/* "migrations", "spec" or "none" */
	struct mig_findings findings;	/* schema differences (warnings allowed) */
};

/*
 * Stamps db at the revisions target[0..n) (none: base) under the migration
 * lock and in one transaction.  MIG_ESAFETY, changing nothing, for another
 * or an unknown recorded revision (unless force), an empty database, or a
 * schema that lacks what the revision requires (the differences are in
 * st->findings).  st->after is read back from the database.
 */
int mig_stamp_run(struct mig_stamp *st, const struct mig_stamp_opts *o,
		  struct mig_db *db, const struct mig_graph *g,
		  const struct mig_vt *vt, const size_t *target, size_t n,
		  struct mig_err *err);
void mig_stamp_release(struct mig_stamp *st);

/*
 * Replays the migrations up to target[0..n) (none: no migration at all)
 * into a new in-memory SQLite database (stamp.c), as mig-upgrade would.
 * On success *out is that database, which the caller closes with
 * mig_db_close; on failure *out is NULL and err names the migration and
 * line that failed (an Alembic script cannot be replayed: MIG_EINPUT).
 */
int mig_replay(const struct mig_graph *g, const size_t *target, size_t n,
	       struct mig_db **out, struct mig_err *err);

#endif
