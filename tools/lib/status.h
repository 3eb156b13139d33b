/*
 * status.h: where a database stands relative to the graph (empty, legacy,
 * behind, current, unknown revisions...), read in one pass, and the refusal
 * of the states that a migration must not touch.  struct mig_status owns its
 * lists (mig_status_release), also after a failed read.
 */
#ifndef MIG_STATUS_H
#define MIG_STATUS_H

#include "db.h"
#include "graph.h"
#include "mig.h"
#include "plan.h"
#include "version.h"

enum mig_db_state {
	MIG_STATE_EMPTY,	/* no tables at all */
	MIG_STATE_LEGACY,	/* tables but no version table */
	MIG_STATE_UNVERSIONED,	/* version table without rows, no other tables */
	MIG_STATE_UNKNOWN,	/* a recorded revision is not in the graph */
	MIG_STATE_OVERLAP,	/* a recorded revision is an ancestor of another */
	MIG_STATE_CURRENT,	/* at the heads of the graph */
	MIG_STATE_BEHIND,	/* pending migrations exist */
};
/* The state as one word for reports ("behind"); a static string. */
const char *mig_db_state_name(enum mig_db_state s);

struct mig_status {
	enum mig_db_state state;
	bool version_table;		/* it exists */
	struct mig_strv current;	/* rows of the version table */
	struct mig_strv unknown;	/* rows not in the graph */
	struct mig_strv overlap;	/* rows that are ancestors of another row */
	struct mig_strv tables;		/* tables other than the version table */
	/* When no revision is recorded: tables that no migration creates
	 * (moved out of tables; they do not make the database legacy). */
	struct mig_strv foreign;
	struct mig_plan pending;	/* upgrade plan to the graph's heads */
};
void mig_status_release(struct mig_status *s);
/* Reads where the database stands relative to the graph. */
int mig_status_read(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, struct mig_status *st,
		    struct mig_err *err);
/* The same, reading only what mig_check_migratable needs (mig_run, once
 * per run): tables are listed only when the version table holds no row,
 * and no pending plan is made, so state is right for the refusals (legacy,
 * overlapping, unknown) but does not tell behind from current. */
int mig_status_read_migratable(struct mig_db *db, const struct mig_graph *g,
			       const struct mig_vt *vt, struct mig_status *st,
			       struct mig_err *err);

/* Refuses (MIG_ESAFETY, with advice) states that a migration must not touch. */
int mig_check_migratable(const struct mig_status *st, const struct mig_graph *g,
			 struct mig_err *err);

#endif
