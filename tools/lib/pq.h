/*
 * pq.h: libpq, loaded when a PostgreSQL URL is first used instead of linked.
 *
 * Linking libpq costs every run its 26 shared libraries (libssl, libcrypto,
 * Kerberos, LDAP, ...), about 11 M instructions at start-up, also the runs
 * that only touch SQLite; so libmig dlopen()s libpq.so.5 on first need and
 * calls it through this table.  The members have libpq's own names and are
 * declared from its prototypes; pq.c checks them against libpq-fe.h at
 * compile time.  Only libmig includes this header (and fuzz_url.c).
 */
#ifndef MIG_PQ_H
#define MIG_PQ_H

#include "mig.h"

#include <libpq-fe.h>

/* The library loaded: libpq's ABI since PostgreSQL 8.2 (package libpq5).
 * Other systems name it differently (macOS libpq.5.dylib): make LIBPQ=... */
#ifndef MIG_LIBPQ
#define MIG_LIBPQ "libpq.so.5"
#endif

struct mig_pq {
	PGconn *(*PQconnectdbParams)(const char *const *keywords,
				     const char *const *values, int expand_dbname);
	PGPing (*PQpingParams)(const char *const *keywords,
			       const char *const *values, int expand_dbname);
	ConnStatusType (*PQstatus)(const PGconn *conn);
	int (*PQconnectionUsedPassword)(const PGconn *conn);
	char *(*PQerrorMessage)(const PGconn *conn);
	PQnoticeProcessor (*PQsetNoticeProcessor)(PGconn *conn,
						  PQnoticeProcessor proc, void *arg);
	void (*PQfinish)(PGconn *conn);
	int (*PQsendQuery)(PGconn *conn, const char *query);
	PGresult *(*PQgetResult)(PGconn *conn);
	PGresult *(*PQexecParams)(PGconn *conn, const char *command, int nParams,
				  const Oid *paramTypes,
				  const char *const *paramValues,
				  const int *paramLengths, const int *paramFormats,
				  int resultFormat);
	ExecStatusType (*PQresultStatus)(const PGresult *res);
	char *(*PQresultErrorMessage)(const PGresult *res);
	char *(*PQresultErrorField)(const PGresult *res, int fieldcode);
	int (*PQntuples)(const PGresult *res);
	int (*PQnfields)(const PGresult *res);
	int (*PQgetisnull)(const PGresult *res, int tup_num, int field_num);
	char *(*PQgetvalue)(const PGresult *res, int tup_num, int field_num);
	char *(*PQcmdTuples)(PGresult *res);
	char *(*PQcmdStatus)(PGresult *res);
	PGTransactionStatusType (*PQtransactionStatus)(const PGconn *conn);
	PGresult *(*PQexec)(PGconn *conn, const char *query);
	void (*PQclear)(PGresult *res);
	PQconninfoOption *(*PQconninfoParse)(const char *conninfo, char **errmsg);
	void (*PQconninfoFree)(PQconninfoOption *connOptions);
	void (*PQfreemem)(void *ptr);
	int (*PQbackendPID)(const PGconn *conn);
	char *(*PQpass)(const PGconn *conn);
	/* the asynchronous wait of a heartbeat (db_pg.c next_result) */
	int (*PQisBusy)(PGconn *conn);
	int (*PQconsumeInput)(PGconn *conn);
	int (*PQsocket)(const PGconn *conn);
};

/*
 * libpq's functions, loading MIG_LIBPQ on the first call (later calls
 * return the same table).  When it cannot be loaded, or lacks a function,
 * returns NULL and fills err (MIG_EDB) with dlerror()'s reason and the
 * package to install.  The library stays loaded until the process exits.
 */
const struct mig_pq *mig_pq_load(struct mig_err *err);

#endif
