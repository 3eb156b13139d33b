/*
 * offline.h: --sql without a database, as Alembic's offline mode
 * ("alembic upgrade --sql base:head"): the SQL of a plan between two
 * revisions given on the command line, for a dialect given on the command
 * line, written out with the version-table statements Alembic writes, so
 * that a DBA can review it and replay it with sqlite3 or psql (offline.c).
 */
#ifndef MIG_OFFLINE_H
#define MIG_OFFLINE_H

#include "cli.h"
#include "graph.h"
#include "mig.h"
#include "plan.h"

/* What an offline --sql run is asked for. */
struct mig_offline {
	bool upgrade;
	const char *range;	/* --to: "TO", or "FROM:TO"; FROM is base or
				 * revisions separated by commas */
	const char *dialect;	/* --dialect, or NULL: the scheme of -d / $DATABASE_URL */
};

/*
 * Whether --sql runs offline: the target is a FROM:TO range, or no
 * database is named (-d, $DATABASE_URL).  Otherwise --sql plans from the
 * database's rows (mig_move).
 */
bool mig_offline_wanted(const struct mig_common *c, const char *range);

/*
 * Loads the graph of c->migrations_dir and prints on stdout the SQL that
 * moves a database from FROM (base when the range has no "FROM:") to TO:
 * CREATE TABLE of the version table when the plan starts at base, each
 * step's sections for the dialect in a transaction with its version-table
 * change (a transactional: false step's sections outside it, on
 * PostgreSQL), and DROP TABLE of the version table when it ends at base,
 * as Alembic does.  No database is contacted: a URL only says the dialect.
 * MIG_EINPUT for an unknown revision, a missing dialect, a range the
 * planner refuses, or an Alembic .py script in the plan (mig cannot run
 * one).
 */
int mig_offline_sql(struct mig_common *c, const struct mig_offline *o,
		    struct mig_err *err);

/*
 * Whether every step of plan is a .sql migration whose SQL can be printed:
 * MIG_EINPUT naming the first Alembic .py script otherwise, since a --sql
 * script without its SQL would still record it in the version table.
 * For every --sql, with a database or without.
 */
int mig_plan_sql_check(const struct mig_graph *g, const struct mig_plan *plan,
		       struct mig_err *err);

#endif
