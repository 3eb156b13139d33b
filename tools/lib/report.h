/*
 * report.h: how mig-upgrade and mig-downgrade report a run: a line per step
 * (or a JSON document), where the database ended up, the GitHub step
 * output; and mig_move, which runs a goal with that report or prints its
 * SQL.
 */
#ifndef MIG_REPORT_H
#define MIG_REPORT_H

#include "cli.h"
#include "mig.h"
#include "run.h"
#include "session.h"

struct mig_run_report {
	const struct mig_common *c;
	bool upgrade;
	struct mig_run_hooks hooks;	/* pass to mig_run */
	struct mig_buf steps;		/* JSON objects of the steps done */
	size_t nsteps;
	struct mig_strv from;		/* the rows before the run */
	double t0;
};
void mig_run_report_init(struct mig_run_report *r, const struct mig_common *c,
			 bool upgrade);
/* Prints where the database ended up and sets the step output "revision". */
void mig_run_report_finish(struct mig_run_report *r, struct mig_session *s);
void mig_run_report_release(struct mig_run_report *r);
/* Prints the SQL of goal from the database's current rows (--sql). */
int mig_print_goal_sql(struct mig_session *s, const struct mig_goal *goal,
		       struct mig_err *err);
/* Runs goal with the report above, or prints its SQL when sql is true. */
int mig_move(struct mig_session *s, const struct mig_goal *goal, bool sql,
	     struct mig_err *err);

#endif
