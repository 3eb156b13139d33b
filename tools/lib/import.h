/*
 * import.h: mig-import's work (import.c): converting an Alembic history into
 * mig files by recording what Alembic executes, and the proof that the files
 * build the same databases.
 *
 * Contract:
 * - Recording: for each dialect asked for, a scratch database (a new
 *   temporary SQLite file; for PostgreSQL the database --scratch-url names,
 *   which must hold no table) is upgraded by Alembic one revision at a time
 *   in the order the driver lists (bases first), then downgraded one
 *   revision at a time back to base.  The statements each revision's own
 *   upgrade()/downgrade() sent are kept in order; Alembic's version-table
 *   statements are not (mig writes the version table itself).
 * - Files: one DIR/versions/<rev>_<slug>.sql per revision, with the graph
 *   fields, message and create date.  A statement sent in the same place on
 *   both dialects goes to a common section, the others to dialect sections,
 *   in execution order (a longest common subsequence of the two lists).  A
 *   revision that ran in an autocommit_block is "transactional: false", one
 *   statement per section.  What a person must review (the revision read
 *   the database, it raised, it ran outside a transaction) is a "-- REVIEW"
 *   comment in the header and a flag in the report.
 * - A revision whose upgrade()/downgrade() raised (or that sent a statement
 *   the file cannot hold as sent: a line that reads as a section marker)
 *   is written all the same, with what it sent, an "-- unfinished: why"
 *   header line (mig's graph lint refuses the file until a person deletes
 *   it) and REVIEW lines; Alembic's version rows are moved past a raising
 *   step without running it, so the rest of the history is recorded.  The
 *   proof of a dialect stops before the first step that raised (and takes
 *   a PostgreSQL scratch database back to base with Alembic); the run is
 *   then MIG_EFOUND, im->nunfinished counting the marked revisions.
 * - Nothing is written until every revision was recorded on every dialect;
 *   a folder that already holds migrations is refused (MIG_ESAFETY) unless
 *   force.
 * - Proof: Alembic's database after every step (snapshots taken while
 *   recording) is compared with a database built by mig_run from the files
 *   (the same steps, goal.only), by introspection (mig_schema_diff) and the
 *   version rows.  check_only runs recording and proof and writes nothing.
 * - The version table is the one the project's env.py gives Alembic
 *   (--version-table, checked against what env.py configures): mig's side
 *   of the proof reads and writes the same table, so the version rows are
 *   compared as mig-upgrade will write them.
 * - Codes: MIG_EFOUND for graph errors in the history (im->findings) or a
 *   difference in the proof (im->diff); MIG_EINPUT for no Python, no
 *   Alembic, a history Alembic cannot load; MIG_ESAFETY for a non-empty
 *   scratch database or an output folder with migrations; MIG_EDB when a
 *   database cannot be used.
 */
#ifndef MIG_IMPORT_H
#define MIG_IMPORT_H

#include "cli.h"
#include "findings.h"
#include "mig.h"
#include "url.h"

enum { MIG_IMPORT_SQLITE = 1, MIG_IMPORT_POSTGRESQL = 2 };

struct mig_import_opts {
	const struct mig_common *common;	/* -m DIR: the output */
	const char *alembic_ini;	/* --alembic-ini, or */
	const char *scripts;		/* --scripts */
	const char *python;		/* --python, NULL: python3 on PATH */
	const char *scratch_url;	/* --scratch-url (PostgreSQL) */
	const char *version_table;	/* Alembic's, as the project's env.py names
					 * it; NULL: alembic_version */
	unsigned dialects;		/* MIG_IMPORT_* bits */
	bool force;			/* write over an existing folder */
	bool check_only;		/* --check: prove the files in DIR */
};

/* What one revision did on one dialect in one direction. */
struct mig_import_run {
	struct mig_strv statements;
	struct mig_strv reads;		/* statements that read the database */
	bool autocommit;
	char *error;			/* the exception, or NULL */
	char *unrecordable;		/* what the file cannot hold as sent, or NULL */
};

struct mig_import_rev {
	char *id;
	struct mig_strv down, branch_labels, depends_on;
	char *message, *create_date, *source;
	char *file;			/* the file written (or proved) */
	struct mig_import_run runs[2][2];	/* [sqlite, postgresql][down, up] */
};

/* One row of the proof: a revision applied or reverted on a dialect. */
struct mig_import_step {
	size_t rev;
	enum mig_dialect dialect;
	bool upgrade;
	size_t statements;
	bool identical;
};

struct mig_import {
	struct mig_import_rev *revs;	/* in the order applied */
	size_t nrevs;
	struct mig_import_step *steps;
	size_t nsteps;
	struct mig_findings findings;	/* graph errors of the history */
	struct mig_buf diff;		/* the proof's differences, as text */
	size_t ndiffs;
	size_t nunfinished;		/* revisions written unfinished */
	struct mig_strv stops;		/* where and why the proof stopped early */
	char *env;			/* "env.py", or why a minimal one was used */
	char *dir;			/* DIR/versions */
};

int mig_import_run(struct mig_import *im, const struct mig_import_opts *o,
		   struct mig_err *err);
/* True when the revision read the database / raised / left the transaction. */
bool mig_import_rev_read(const struct mig_import_rev *r);
bool mig_import_rev_failed(const struct mig_import_rev *r);
bool mig_import_rev_autocommit(const struct mig_import_rev *r);
/* Why the revision's file is unfinished ("upgrade() raised on sqlite: ...",
 * one line, each failed or unrecordable run), to free; NULL when it is not. */
char *mig_import_rev_unfinished(const struct mig_import_rev *r);
void mig_import_release(struct mig_import *im);

#endif
