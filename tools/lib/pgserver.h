/*
 * pgserver.h: what a PostgreSQL-protocol server is, told from what it
 * answers (pgserver.c).  Pure functions over server text, so that servers
 * the test suite cannot start (CockroachDB is not in Debian) are still
 * recognised by tested code: test/unit/pg_version.c feeds them the
 * strings those servers really send.
 */
#ifndef MIG_PGSERVER_H
#define MIG_PGSERVER_H

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

#endif
