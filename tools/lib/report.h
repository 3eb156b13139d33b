/*
 * report.h: how mig-upgrade and mig-downgrade report a run: a line per step
 * (or a JSON document), where the database ended up, the GitHub step
 * output; and mig_move, which runs a goal with that report or prints its
 * SQL.
 */
#ifndef MIG_REPORT_H
#define MIG_REPORT_H

#include "cli.h"
#include "db.h"
#include "graph.h"
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
	struct mig_db *db;		/* whose statements the steps count */
	size_t statements_seen;		/* mig_db_statements_run before the step */
	const struct mig_graph *g;	/* the plan's, once planned */
	size_t *planned, nplanned;	/* the plan's revisions, in order */
	struct mig_buf rows;		/* the step summary's table rows */
};
void mig_run_report_init(struct mig_run_report *r, const struct mig_common *c,
			 bool upgrade);
/* Prints where the database ended up and writes the step outputs (from,
 * to, applied_count, pending_count, revision) and the step summary: the
 * table of steps done and, when rc is an error (err), the step that failed
 * with its file:line, its statement and the message. */
void mig_run_report_finish(struct mig_run_report *r, struct mig_session *s, int rc,
			   const struct mig_err *err);
void mig_run_report_release(struct mig_run_report *r);
/* Prints the SQL of goal from the database's current rows (--sql). */
int mig_print_goal_sql(struct mig_session *s, const struct mig_goal *goal,
		       struct mig_err *err);
/* Runs goal with the report above, or prints its SQL when sql is true. */
int mig_move(struct mig_session *s, const struct mig_goal *goal, bool sql,
	     struct mig_err *err);

#endif
