/*
 * pg_commit.h: a step's COMMIT on PostgreSQL, sent with the next step's
 * first statement rather than alone (mig_db_commit_later, db.h): the
 * driver puts "COMMIT; " before the next BEGIN, so a linear step costs the
 * round trips psql's script costs.  These read what became of it, which
 * the run waits for before it counts the step as applied.
 */
#ifndef MIG_PG_COMMIT_H
#define MIG_PG_COMMIT_H

#include <libpq-fe.h>
#include <stdbool.h>

struct mig_db;
struct mig_err;

/* Whether a COMMIT waits to go before db's next statement. */
bool mig_pg_commit_waits(const struct mig_db *db);
/*
 * The waiting COMMIT's result, res (NULL: none came before the connection
 * was lost), recorded in db->later_commit.  MIG_OK when the server
 * committed; MIG_EDB when it answered otherwise (an error such as a
 * deferred constraint, or a "ROLLBACK" of a failed transaction), with its
 * message, or when the connection was lost first (the outcome is not
 * known then, and the message says so).  res stays the caller's.
 */
int mig_pg_commit_result(struct mig_db *db, PGresult *res, struct mig_err *err);
/* Sends the waiting COMMIT alone and reads its result as above. */
int mig_pg_send_waiting_commit(struct mig_db *db, struct mig_err *err);

#endif
