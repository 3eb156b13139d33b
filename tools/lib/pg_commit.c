/*
 * pg_commit.c: what became of a step's COMMIT sent with the next step's
 * first statement (pg_commit.h).
 */
#include "pg_commit.h"
#include "db.h"
#include "mig.h"
#include "pq.h"

#include <stdlib.h>
#include <string.h>

bool mig_pg_commit_waits(const struct mig_db *db)
{
	return db->later_commit == MIG_COMMIT_PENDING;
}

/* libpq's functions: db_pg.c loaded them before any connection opened. */
static const struct mig_pq *libpq(void)
{
	struct mig_err ignored = MIG_ERR_INIT;
	const struct mig_pq *pq = mig_pq_load(&ignored);
	mig_err_release(&ignored);
	return pq;
}

int mig_pg_commit_result(struct mig_db *db, PGresult *res, struct mig_err *err)
{
	const struct mig_pq *pq = libpq();
	PGconn *conn = db->handle;
	ExecStatusType s = res ? pq->PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *tag = res ? pq->PQcmdStatus(res) : "";
	if (s == PGRES_COMMAND_OK && !strcmp(tag, "COMMIT")) {
		db->later_commit = MIG_COMMIT_DONE;
		return MIG_OK;
	}
	const char *why = res ? pq->PQresultErrorMessage(res) : "";
	bool answered = res && *why && pq->PQstatus(conn) == CONNECTION_OK;
	if (!answered)
		why = pq->PQerrorMessage(conn);
	char *m = xstrdup(s == PGRES_COMMAND_OK ? "the transaction had failed, and "
			  "the server rolled it back" : why);
	size_t n = strlen(m);
	while (n > 0 && strchr(" \t\r\n", m[n - 1]))
		m[--n] = '\0';
	db->later_commit = answered || s == PGRES_COMMAND_OK ? MIG_COMMIT_FAILED
			   : MIG_COMMIT_UNKNOWN;
	if (db->later_commit == MIG_COMMIT_FAILED)
		mig_err_set(err, MIG_EDB, "COMMIT failed: %s", m);
	else
		mig_err_set(err, MIG_EDB, "lost the connection to %s before the "
			    "server answered the COMMIT: %s", db->url.display, m);
	free(m);
	return MIG_EDB;
}

int mig_pg_send_waiting_commit(struct mig_db *db, struct mig_err *err)
{
	const struct mig_pq *pq = libpq();
	PGresult *res = pq->PQexec(db->handle, "COMMIT");
	int rc = mig_pg_commit_result(db, res, err);
	pq->PQclear(res);
	return rc;
}
