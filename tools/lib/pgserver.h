/*
 * pgserver.h: what a PostgreSQL-protocol server is, told from what it
 * answers (pgserver.c).  Pure functions over server text, so that servers
 * the test suite cannot start (CockroachDB is not in Debian) are still
 * recognised by tested code: test/unit/pg_version.c feeds them the
 * strings those servers really send.
 */
#ifndef MIG_PGSERVER_H
#define MIG_PGSERVER_H

#include "db.h"
#include "mig.h"

#include <stdbool.h>

/*
 * Whether version, the text of SELECT version(), is CockroachDB's
 * ("CockroachDB CCL v23.1.11 (x86_64-pc-linux-gnu, built ..., go1.19.10)",
 * also OSS builds).  CockroachDB speaks the PostgreSQL protocol, but its
 * pg_advisory_lock functions lock nothing, so two deploys at once would
 * both run.  PostgreSQL and its derivatives (their version() begins
 * "PostgreSQL") are not it; NULL is not it.
 */
bool mig_pg_version_is_cockroach(const char *version);

/* What answers at the other end, as db_pg.c reads it in one query. */
struct mig_pg_server_facts {
	long backend_pid;	/* pg_backend_pid() */
	bool pooled;		/* a pooler's cancel key, not the backend's */
	bool standby;		/* pg_is_in_recovery() */
	bool cockroach;		/* CockroachDB: advisory locks that lock nothing */
};

/*
 * Refuses a server that is no place to migrate with lock mode `mode`: a
 * read-only standby, CockroachDB without --no-lock, a pooler with
 * --lock-mode session.  MIG_ESAFETY with the reason and what to do
 * (display names the database, client_pid is the pid libpq was given);
 * MIG_OK when it is a place to migrate.
 */
int mig_pg_refuse_server(const char *display, enum mig_lock_mode mode,
			 const struct mig_pg_server_facts *f, int client_pid,
			 struct mig_err *err);

#endif
