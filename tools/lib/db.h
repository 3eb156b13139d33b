/*
 * db.h: the database driver interface behind struct mig_db.
 *
 * A driver is a const table of labelled function pointers, as SQLite's
 * sqlite3_io_methods: db_sqlite.c is the reference driver and db_pg.c
 * mirrors it method by method, so no caller branches on the dialect.
 * Only libmig includes this header; programs use the mig_db_* calls.
 */
#ifndef MIG_DB_H
#define MIG_DB_H

#include "mig.h"

struct mig_origins;

struct mig_driver {
	const char *name;
	enum mig_dialect dialect;
	/* Opens url; fills db->handle.  Errors are redacted by the caller. */
	int (*connect)(struct mig_db *db, struct mig_err *err);
	/* A whole section; "file:line: message" on error.  When the section
	 * ends in another transaction state than it began in, sets db->tx_line
	 * and db->tx_change to the statement that changed it, if known. */
	int (*exec_script)(struct mig_db *db, const char *sql, const char *file,
			   int first_line, struct mig_err *err);
	/* Whether exec_script stops right after a statement that began or
	 * ended a transaction (SQLite), or the rest of the section has run by
	 * then (PostgreSQL's simple query runs a section at once). */
	bool stops_at_tx_change;
	/* The session's transaction state now (PQtransactionStatus,
	 * sqlite3_get_autocommit). */
	enum mig_tx_state (*tx_state)(struct mig_db *db);
	/* The schema a bare table name is created in (current_schema(),
	 * SQLite's main); MIG_EDB when there is none. */
	int (*default_schema)(struct mig_db *db, char **out, struct mig_err *err);
	/* One lookup of schema.table: *oid is its OID on PostgreSQL, 1 on
	 * SQLite, 0 when there is no such table. */
	int (*table_oid)(struct mig_db *db, const char *schema, const char *table,
			 unsigned long *oid, struct mig_err *err);
	/* One statement, $1..$n text parameters (NULL is SQL NULL); out != NULL. */
	int (*query)(struct mig_db *db, const char *sql, int nparams,
		     const char *const *params, struct mig_rows *out,
		     struct mig_err *err);
	/* BEGIN (SQLite: BEGIN IMMEDIATE, so the write lock is taken now). */
	int (*begin)(struct mig_db *db, struct mig_err *err);
	/* The migration lock for the run; MIG_ESAFETY when the wait times out
	 * or the server is no place to migrate (a standby, no real locks). */
	int (*lock)(struct mig_db *db, const char *key, struct mig_err *err);
	void (*unlock)(struct mig_db *db, const char *key);
	/* Tables (not views) of a schema, sorted by name. */
	int (*list_tables)(struct mig_db *db, const char *schema,
			   struct mig_strv *out, struct mig_err *err);
	/* The whole schema in a fixed number of queries; see mig.h. */
	int (*introspect)(struct mig_db *db, const char *schema,
			  const char *skip_table, struct mig_schema *out,
			  struct mig_err *err);
	/* Optional (NULL where the catalog has no such text): the schema as
	 * the statements that create it, in an order that replays, into out,
	 * one statement per entry.  Two equal texts are equal schemas; the
	 * round trip compares them before it builds any model. */
	int (*schema_text)(struct mig_db *db, struct mig_strv *out,
			   struct mig_err *err);
	void (*close)(struct mig_db *db);
};

struct mig_db {
	const struct mig_driver *drv;
	struct mig_url url;
	char *url_text;		/* as given, for mig_db_open_twin */
	struct mig_connect_opts opts;
	void *handle;		/* sqlite3 * or PGconn * */
	bool in_tx;
	int tx_line;		/* see exec_script */
	enum mig_tx_change tx_change;	/* what that statement did */
	/* The section ended mig's transaction and opened another (COMMIT;
	 * BEGIN, COMMIT AND CHAIN): the state reads "open" as before, but the
	 * transaction is not mig's.  Set by the driver in exec_script. */
	bool tx_replaced;
	char *tx_started;	/* PostgreSQL: now() of mig's open transaction */
	char *lock_key;		/* the transaction-scoped lock to take in begin */
	bool session_locked;	/* PostgreSQL: the session advisory lock is held */
	/* PostgreSQL without --lock-timeout: the server's lock_timeout in ms
	 * (0: none) and pg_settings' word for where it was set, which the lock
	 * wait keeps as its deadline, as a blocking wait in the server would */
	long server_lock_timeout_ms;
	/* mig_history was found or made, and written, on this connection: a run
	 * looks it up once, not at every step (history.c) */
	bool history_table_seen;
	char *server_lock_timeout_source;
	bool sync_on_close;	/* SQLite: a file this run created, synced once */
	size_t statements_run;	/* statements exec_script completed, all told */
	struct mig_origins *origins;	/* origins.h: recording, or NULL */
};

extern const struct mig_driver mig_driver_sqlite;
extern const struct mig_driver mig_driver_pg;

/* Runs a driver's three catalog queries ($1 schema, $2 table to skip) and
 * builds the model from their rows (introspect.c describes the shapes). */
int mig_introspect_run(struct mig_db *db, const char *const sql[3],
		       const char *schema, const char *skip_table,
		       struct mig_schema *out, struct mig_err *err);

/* Line of byte offset in sql, counting from first_line. */
int mig_sql_line(const char *sql, size_t offset, int first_line);
/* First byte of p that is not white space or an SQL comment. */
const char *mig_sql_skip_trivia(const char *p);

#endif
