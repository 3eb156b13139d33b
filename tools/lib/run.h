/*
 * run.h: running migrations: the plan made inside the migration lock, each
 * revision in its own transaction with its version-table change, re-planned
 * when another process moved the database; and the SQL of such a run
 * without a database (--sql).  Progress reaches the caller through hooks.
 */
#ifndef MIG_RUN_H
#define MIG_RUN_H

#include "db.h"
#include "graph.h"
#include "mig.h"
#include "plan.h"
#include "url.h"
#include "version.h"

struct mig_run_hooks {
	void *ctx;
	/* Called after each step is committed. */
	void (*step_done)(void *ctx, const struct mig_graph *g,
			  const struct mig_step *s, double ms);
	/* Called once with the plan made inside the lock. */
	void (*planned)(void *ctx, const struct mig_graph *g,
			const struct mig_strv *heads, const struct mig_plan *p);
	/* Called when another process moved the database while we waited. */
	void (*replanned)(void *ctx, const struct mig_strv *was,
			  const struct mig_strv *heads);
	/* Called when, after this run's last step, the rows are not the ones
	 * it left: another process changed them (information, not an error). */
	void (*moved_after)(void *ctx, const struct mig_strv *heads);
};

/* Where a run goes: up to target, down to target, or down by steps. */
struct mig_target;
struct mig_goal {
	bool upgrade;
	const size_t *target;	/* none: base (downgrade) or nothing (upgrade) */
	size_t ntarget;
	long steps;		/* downgrade only: revert this many, if > 0 */
	size_t only;		/* MIG_NONE, or the one revision to apply/revert */
	/* A target in Alembic's grammar (targets.h), resolved against the
	 * rows of the first plan; when set, target and steps are unused. */
	struct mig_target *spec;
	/* The caller's promise that db is its own (a scratch database no
	 * other process knows) and that every earlier run on it succeeded, so
	 * no step can have been left unfinished: mig_history is not searched
	 * for one (a search that grows with the history, in every run of
	 * mig-verify --roundtrip). */
	bool history_private;
};

/*
 * Moves db towards goal under the migration lock, each revision in its own
 * transaction with its version-table change (the version table is created
 * in the first one if missing).  The plan is made inside the first
 * transaction from the rows read there, and each later transaction checks
 * that the rows are still what this run left; if another process moved
 * them, the rest is planned again, so nothing is applied twice.  Refuses
 * (MIG_ESAFETY) legacy and unknown-revision databases, changing nothing.
 * On failure the failing revision is rolled back, earlier ones stay, and
 * err says file:line.
 */
int mig_run(struct mig_db *db, const struct mig_graph *g,
	    const struct mig_vt *vt, const struct mig_goal *goal,
	    const struct mig_run_hooks *hooks, struct mig_err *err);
/* Plans goal from the current heads (as mig_run does inside its lock). */
int mig_plan_goal(const struct mig_graph *g, const struct mig_strv *current,
		  const struct mig_goal *goal, struct mig_plan *plan,
		  struct mig_err *err);
/*
 * Writes the SQL that mig_run would execute (sections for the dialect and
 * version-table statements) to out, without touching a database.
 */
void mig_plan_sql(struct mig_buf *out, const struct mig_graph *g,
		  const struct mig_vt *vt, enum mig_dialect dialect,
		  const struct mig_strv *current, bool vt_exists,
		  const struct mig_plan *plan);

#endif
