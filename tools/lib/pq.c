/*
 * pq.c: loads libpq on first need and fills struct mig_pq (pq.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "pq.h"
#include "dl.h"
#include "mig.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Every member of struct mig_pq, which has the function's own name. */
#define PQ_FUNCTIONS(X) \
	X(PQconnectdbParams) X(PQpingParams) X(PQstatus) X(PQerrorMessage) \
	X(PQsetNoticeProcessor) X(PQfinish) X(PQsendQuery) X(PQgetResult) \
	X(PQexecParams) X(PQresultStatus) X(PQresultErrorMessage) \
	X(PQresultErrorField) X(PQntuples) X(PQnfields) X(PQgetisnull) \
	X(PQgetvalue) X(PQcmdTuples) X(PQclear) X(PQconninfoParse) \
	X(PQconninfoFree) X(PQfreemem) X(PQbackendPID) \
	X(PQpass)	/* the password really sent, for redaction (db_pg.c) */ \
	X(PQconnectionUsedPassword)	/* a failed connection met a server */ \
	X(PQcmdStatus) X(PQtransactionStatus) X(PQexec) \
	X(PQisBusy) X(PQconsumeInput) X(PQsocket)	/* the heartbeat's wait */

/* The compiler checks each member against libpq-fe.h's prototype: the
 * initializer is a constraint violation where the types differ, and being
 * the operand of sizeof it is never evaluated, so nothing links to libpq. */
#define PQ_INIT(f) .f = (f),
_Static_assert(sizeof((struct mig_pq){ PQ_FUNCTIONS(PQ_INIT) }) ==
	       sizeof(struct mig_pq), "struct mig_pq matches libpq-fe.h");

#define PQ_SYMBOL(f) { #f, offsetof(struct mig_pq, f) },
static const struct mig_dl_symbol symbols[] = { PQ_FUNCTIONS(PQ_SYMBOL) };

/* dlsym() gives a void *, which POSIX lets us copy into a function pointer. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "function pointers are the size of void *");
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) * sizeof(void *) ==
	       sizeof(struct mig_pq), "PQ_FUNCTIONS names every member");

static struct mig_pq table;
/* Never closed: a static, so LeakSanitizer sees the library as reachable. */
static void *handle;

static const struct mig_pq *fail(struct mig_err *err, const char *why)
{
	mig_err_set(err, MIG_EDB, "cannot load " MIG_LIBPQ ", which PostgreSQL "
		    "URLs need: %s", why ? why : "unknown reason");
	mig_err_hint(err, "install libpq5, which provides " MIG_LIBPQ " (Debian, "
		     "Ubuntu: apt-get install libpq5; Fedora: dnf install libpq); "
		     "SQLite URLs do not need it");
	return NULL;
}

const struct mig_pq *mig_pq_load(struct mig_err *err)
{
	if (handle)
		return &table;
	char *why = NULL;
	handle = mig_dl_bind(MIG_LIBPQ, symbols, sizeof(symbols) / sizeof(symbols[0]),
			     &table, sizeof(table), &why);
	if (!handle) {
		fail(err, why);
		free(why);
		return NULL;
	}
	return &table;
}
