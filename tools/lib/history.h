/*
 * history.h: the applied history, the table mig_history (history.c).
 *
 * The contract:
 * - mig_history sits beside the version table, in the same schema, and
 *   never instead of it: the version table stays exactly Alembic's, and
 *   Alembic ignores mig_history.  Schema checks, the stamp check and
 *   --dump leave it out (mig_db_introspect drops it), and a database whose
 *   only tables are the version table and mig_history is not "legacy".
 * - One row per step mig takes: each applied or reverted revision, and
 *   each revision a stamp writes (a stamp to base: one row, revision
 *   NULL).  The row is written by the caller inside the step's own
 *   transaction, with the version-table change (one statement on
 *   PostgreSQL, mig_history_record_with) or after it, before COMMIT, so
 *   it exists exactly when the step happened: never a row without its
 *   version change, nor the reverse.
 * - The first step that records creates the table, in that transaction.
 * - --no-history (vt->no_history) or MIG_NO_HISTORY=1 turn recording off;
 *   reading still works.
 * - Columns: id, revision, direction ('up', 'down', 'stamp'), sha256 (of
 *   the file as read for the step), started_at (UTC, ISO 8601 text, so it
 *   reads the same on both dialects), duration_ms, db_user and
 *   application_name (PostgreSQL's current_user and setting; NULL on
 *   SQLite), os_user, host, mig_version, github_run_id and github_sha
 *   (under GitHub Actions, else NULL).
 */
#ifndef MIG_HISTORY_H
#define MIG_HISTORY_H

#include "db.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "version.h"

#define MIG_HISTORY_TABLE "mig_history"

enum mig_history_direction { MIG_HISTORY_UP, MIG_HISTORY_DOWN, MIG_HISTORY_STAMP };

/* Columns of a row read by mig_history_read, in this order. */
enum mig_history_column {
	MIG_HC_ID, MIG_HC_REVISION, MIG_HC_DIRECTION, MIG_HC_SHA256,
	MIG_HC_STARTED_AT, MIG_HC_DURATION_MS, MIG_HC_DB_USER,
	MIG_HC_APPLICATION_NAME, MIG_HC_OS_USER, MIG_HC_HOST, MIG_HC_MIG_VERSION,
	MIG_HC_GITHUB_RUN_ID, MIG_HC_GITHUB_SHA, MIG_HC_COUNT
};
extern const char *const mig_history_column_names[MIG_HC_COUNT];

/* False under --no-history or MIG_NO_HISTORY=1 (anything but "" and "0"). */
bool mig_history_enabled(const struct mig_vt *vt);
/*
 * Records one step of rev (NULL: base, for a stamp) inside the caller's
 * open transaction, creating the table if it is missing; the step started
 * at t0 (mig_now_ms).  Does nothing when recording is off.  MIG_EDB when
 * the database refuses; the caller rolls back.
 */
int mig_history_record(struct mig_db *db, const struct mig_vt *vt,
		       const struct mig_rev *rev, enum mig_history_direction dir,
		       double t0, struct mig_err *err);

/*
 * As mig_history_record, together with the step's version-row change (one
 * statement, mig_vt_change_statement) run first; *affected is how many rows
 * the change changed, for mig_vt_check_one_row.  One round trip on
 * PostgreSQL.  With recording off, runs the change alone.
 */
int mig_history_record_with(struct mig_db *db, const struct mig_vt *vt,
			    const struct mig_rev *rev, enum mig_history_direction dir,
			    double t0, const struct mig_vt_statement *change,
			    long *affected, struct mig_err *err);

/* A stamp at target[0..n): a row per revision, or one for base (n == 0). */
int mig_history_record_stamp(struct mig_db *db, const struct mig_vt *vt,
			     const struct mig_graph *g, const size_t *target, size_t n,
			     double t0, struct mig_err *err);

struct mig_history {
	bool exists;		/* the table is there */
	struct mig_rows rows;	/* oldest first; columns as above */
};
/* Reads every row (none, exists false, when the table is missing). */
int mig_history_read(struct mig_db *db, const struct mig_vt *vt,
		     struct mig_history *h, struct mig_err *err);
void mig_history_release(struct mig_history *h);

/* What the history says about the revisions a database holds. */
struct mig_history_audit {
	struct mig_findings changed;	/* applied, and the file changed since */
	struct mig_strv unrecorded;	/* applied without a row (Alembic, or
					 * before mig_history existed) */
	size_t recorded;		/* applied revisions with a row */
};
/*
 * For every revision applied to a database at current (the rows and their
 * ancestors), compares the SHA-256 of its latest 'up' or 'stamp' row with
 * the file in g: a difference is an error finding "the file of applied
 * revision X changed since it was applied on DATE".
 */
void mig_history_audit(const struct mig_history *h, const struct mig_graph *g,
		       const struct mig_strv *current, struct mig_history_audit *out);
void mig_history_audit_release(struct mig_history_audit *a);

#endif
