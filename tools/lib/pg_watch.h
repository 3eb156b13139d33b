/*
 * pg_watch.h: what a PostgreSQL run waits for, said while it waits.  The
 * PostgreSQL driver (db_pg.c) calls these; the wording is progress.h's.
 *
 * A statement sent with a heartbeat runs asynchronously: the driver waits
 * on the connection's socket and, every interval, asks pg_stat_activity on
 * a second connection (db->watcher, opened at the first beat) what the
 * backend does and who blocks it (pg_blocking_pids).  A run that waits for
 * the migration lock names its holders from pg_locks and pg_stat_activity.
 */
#ifndef MIG_PG_WATCH_H
#define MIG_PG_WATCH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct mig_db;
struct mig_heartbeat;
struct mig_err;

/*
 * The next result of the query in flight on db (PQgetResult).  With a
 * heartbeat (hb's interval > 0) it waits on the socket with poll until
 * libpq has a whole result and prints a heartbeat line each interval for
 * the piece of sql at byte base (of file, whose sql starts at first_line);
 * without one it is libpq's blocking PQgetResult, at no extra cost.  A read
 * error ends the wait, and PQgetResult reports it as before.
 */
PGresult *mig_pg_next_result(struct mig_db *db, struct mig_heartbeat *hb,
			      const char *sql, size_t base, const char *file,
			      int first_line);
/*
 * The lock-wait line for the advisory lock number k (as lock_key() writes
 * it): with origin (where the timeout comes from) the first line, said at
 * once with the timeout_s it gives up at (< 0: none); without, the repeat,
 * printed only when hb is due.  Names the holders (pid, application_name,
 * state, transaction age, connection age); nothing with -q.
 */
void mig_pg_say_lock_wait(struct mig_db *db, const char *k, struct mig_heartbeat *hb,
			  double timeout_s, const char *origin);

/*
 * Whether db still holds its session migration lock (one pg_locks query),
 * checked after a section and after each statement of a transactional:
 * false one, since a migration can release it (DISCARD ALL,
 * pg_advisory_unlock_all(), pg_advisory_unlock).  MIG_OK when it does or
 * no session lock is taken; else sets db->lock_lost and returns
 * MIG_ESAFETY (in a transaction, which the caller rolls back) or MIG_EDB,
 * naming file:line and who ("this section", "this statement").
 */
int mig_pg_check_lock_kept(struct mig_db *db, const char *file, int line,
			   const char *who, struct mig_err *err);
/*
 * The driver's after_section (db.h): after a section of a transactional
 * migration, the lock check as above, naming file:line as "this section";
 * after the migration's last section also the session reset (RESET ALL,
 * RESET SESSION AUTHORIZATION, RESET ROLE), in the same round trip, the
 * reset first.  A transactional: false migration's statements were checked
 * one by one, so after it only the reset is sent.
 */
int mig_pg_after_section(struct mig_db *db, const char *file, int line, bool last,
			 struct mig_err *err);

#endif
