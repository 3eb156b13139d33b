/*
 * plan.h: which revisions an upgrade or a downgrade applies or reverts, in
 * order, and how each step changes the version table's rows (Alembic's
 * rules).  Pure functions of the graph and the current rows: no database.
 * A plan owns its steps (mig_plan_release); after a failure it is empty.
 */
#ifndef MIG_PLAN_H
#define MIG_PLAN_H

#include "graph.h"
#include "mig.h"
#include "version.h"

struct mig_step {
	size_t rev;
	bool upgrade;
};

/* How one step changes the rows of the version table (Alembic's rules). */
struct mig_vt_change {
	struct mig_strv del, ins;	/* rows to delete, rows to insert */
	char *upd_from, *upd_to;	/* one row to update, or NULL */
};
void mig_vt_change_release(struct mig_vt_change *c);
/* A version-table change that is one statement (one row updated, inserted
 * or deleted: every step of a linear history), for a caller that sends it
 * together with other work; params point into the change. */
struct mig_vt_statement {
	char *sql;		/* $1..$nparams */
	const char *params[2];
	int nparams;
	const char *what;	/* for mig_vt_check_one_row */
};
/* false (and nothing to release) when c takes more than one statement. */
bool mig_vt_change_statement(const struct mig_vt *vt, const struct mig_vt_change *c,
			     struct mig_vt_statement *out);
void mig_vt_statement_release(struct mig_vt_statement *st);

struct mig_plan {
	struct mig_step *steps;
	size_t nsteps;
};
void mig_plan_release(struct mig_plan *p);

/*
 * Plans an upgrade from the current heads (ids, all in the graph) to the
 * target revisions; an empty target set means nothing.  Order and version
 * rows follow Alembic.
 */
int mig_plan_upgrade(const struct mig_graph *g, const struct mig_strv *current,
		     const size_t *target, size_t ntarget,
		     struct mig_plan *plan, struct mig_err *err);
/* Plans a downgrade so that only ancestors of target remain (none: base). */
int mig_plan_downgrade(const struct mig_graph *g, const struct mig_strv *current,
		       const size_t *target, size_t ntarget,
		       struct mig_plan *plan, struct mig_err *err);
/* Plans reverting the n most recently applied revisions. */
int mig_plan_downgrade_steps(const struct mig_graph *g,
			     const struct mig_strv *current, long n,
			     struct mig_plan *plan, struct mig_err *err);
/* Computes the version-table change of one step from the current heads. */
void mig_step_vt_change(const struct mig_graph *g, const struct mig_strv *heads,
			const struct mig_step *step, struct mig_vt_change *out);
/* Applies a change to an in-memory set of heads. */
void mig_vt_change_apply(const struct mig_vt_change *c, struct mig_strv *heads);
/*
 * The revisions "alembic history -r LOWER:UPPER" lists, newest first, in
 * its order (RevisionMap.iterate_revisions, inclusive): the ancestors of
 * upper that lower does not have, lower itself, and (when lower is given)
 * only what descends from it.  No lower: from base.  *out is the caller's
 * to free.  MIG_EINPUT when a lower revision is not an ancestor of upper.
 */
int mig_plan_history(const struct mig_graph *g, const size_t *lower, size_t nlower,
		     const size_t *upper, size_t nupper, size_t **out, size_t *nout,
		     struct mig_err *err);

#endif
