/*
 * session.h: what a program opens before it does its work: the graph of
 * the migrations folder, then the database, then the version table, so bad
 * input is reported before a server is contacted.  mig_session_close frees
 * all of it; after a failed open there is nothing to close.
 */
#ifndef MIG_SESSION_H
#define MIG_SESSION_H

#include "cli.h"
#include "db.h"
#include "graph.h"
#include "mig.h"
#include "version.h"

enum mig_session_flags {
	MIG_NEED_DB = 1,	/* connect to -d / $DATABASE_URL */
	MIG_DB_CREATE = 2,	/* SQLite: create the file if missing */
	MIG_DB_READONLY = 4,	/* SQLite: open read-only */
	MIG_NO_GRAPH = 8,	/* do not load the migrations folder */
	MIG_PRINT_SQL = 16,	/* --sql: the output is SQL, not a report */
};

struct mig_session {
	struct mig_common *common;
	struct mig_graph graph;
	struct mig_db *db;	/* NULL without MIG_NEED_DB */
	struct mig_vt vt;
};

/*
 * Loads the graph of common->migrations_dir and opens the database, in
 * that order, so bad input is reported before a server is contacted.
 * Warnings about the graph are printed with -v.  On failure the session is
 * released.
 */
int mig_session_open(struct mig_session *s, struct mig_common *c,
		     unsigned flags, struct mig_err *err);
void mig_session_close(struct mig_session *s);

#endif
