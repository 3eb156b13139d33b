/*
 * db.h: a connection to a database, whichever it is: opening it from a URL,
 * scripts, queries with bound values, transactions, the migration lock,
 * catalog lookups and introspection.  Programs use the mig_db_* calls; the
 * second half is the driver interface behind them, for libmig only.
 *
 * A driver is a const table of labelled function pointers, as SQLite's
 * sqlite3_io_methods: db_sqlite.c is the reference driver and db_pg.c
 * mirrors it method by method, so no caller branches on the dialect.
 *
 * Every message is redacted: no error text ever holds the password.  A
 * failed call leaves the connection open; the transaction it was in is
 * the caller's to roll back (mig_db_rollback never fails).
 */
#ifndef MIG_DB_H
#define MIG_DB_H

#include "mig.h"
#include "progress.h"
#include "url.h"

struct mig_schema;	/* schema.h */
struct mig_db;		/* an open connection (the driver interface below) */

/* How the PostgreSQL migration lock is taken (SQLite has one way: each
 * migration's BEGIN IMMEDIATE). */
enum mig_lock_mode {
	MIG_LOCK_AUTO,		/* a session lock, or a lock in each transaction
				 * when a connection pooler answers */
	MIG_LOCK_SESSION,	/* --lock-mode session: refused behind a pooler */
	MIG_LOCK_TRANSACTION,	/* --lock-mode transaction */
	MIG_LOCK_NONE,		/* --no-lock: no advisory lock at all */
};

/* Text rows of a query: cell(r, c) is NULL for SQL NULL. */
struct mig_rows {
	size_t nrows, ncols;
	char **cells;
	long affected;		/* rows changed by INSERT/UPDATE/DELETE */
};
#define MIG_ROWS_INIT { 0, 0, NULL, 0 }
/* The text of a cell, NULL for SQL NULL; borrowed from r. */
const char *mig_rows_cell(const struct mig_rows *r, size_t row, size_t col);
void mig_rows_release(struct mig_rows *r);

struct mig_connect_opts {
	bool create;		/* SQLite: create the file if missing */
	bool readonly;		/* SQLite: open read-only */
	double wait_seconds;	/* keep retrying while the server is not up */
	double lock_timeout;	/* < 0: wait forever for the migration lock */
	bool verbose;		/* pass server notices to stderr */
	bool scratch;		/* SQLite: a throwaway file, no need to sync */
	enum mig_lock_mode lock_mode;	/* PostgreSQL: how the lock is taken */
	bool quiet;		/* -q: no note that a pooler was detected, no
				 * progress, heartbeat or lock-wait lines */
	double heartbeat;	/* seconds between heartbeat and lock-wait
				 * lines (progress.h); 0: none */
	bool progress;		/* "applying 2/3 ..." lines (text mode) */
};

/*
 * Opens the database named by url_text.  Returns MIG_EINPUT for a malformed
 * URL and MIG_EDB when the database cannot be reached; *out is NULL then.
 * Error messages never contain the password.
 */
int mig_db_open(struct mig_db **out, const char *url_text,
		const struct mig_connect_opts *opts, struct mig_err *err);
/* Rolls back a transaction still open, closes db and frees it (NULL is
 * allowed). */
void mig_db_close(struct mig_db *db);
/* A second connection to the same database, with the same options. */
int mig_db_open_twin(struct mig_db *db, struct mig_db **out, struct mig_err *err);
/* Whether the migration lock is taken in each transaction (--lock-mode
 * transaction), so that none is held between them. */
bool mig_db_locks_per_transaction(const struct mig_db *db);
enum mig_dialect mig_db_dialect(const struct mig_db *db);
const struct mig_url *mig_db_url(const struct mig_db *db);
/* How many statements mig_db_exec_script has completed on db, all told (a
 * step's count is the difference; the step summary shows it). */
size_t mig_db_statements_run(const struct mig_db *db);

/*
 * Runs a whole SQL script (a migration section).  On failure returns MIG_EDB
 * with "file:line: message", the line being that of the failing statement
 * counted from first_line.  The caller owns the transaction.
 */
int mig_db_exec_script(struct mig_db *db, const char *sql, const char *file,
		       int first_line, struct mig_err *err);
/* One statement with $1..$n text parameters; out may be NULL. */
int mig_db_query(struct mig_db *db, const char *sql, int nparams,
		 const char *const *params, struct mig_rows *out,
		 struct mig_err *err);
/* BEGIN (SQLite: BEGIN IMMEDIATE, so the write lock is taken now); MIG_EDB
 * on failure, no transaction open then. */
int mig_db_begin(struct mig_db *db, struct mig_err *err);
/* Where the session stands: outside a transaction, inside one, inside a
 * failed one (PostgreSQL), or unknown (the connection is gone). */
enum mig_tx_state { MIG_TX_IDLE, MIG_TX_OPEN, MIG_TX_FAILED, MIG_TX_UNKNOWN };
enum mig_tx_state mig_db_tx_state(struct mig_db *db);
/* What the statement did that changed the state during the last section. */
enum mig_tx_change { MIG_TX_SAME, MIG_TX_BEGAN, MIG_TX_COMMITTED, MIG_TX_ROLLED_BACK };
enum mig_tx_change mig_db_tx_change(const struct mig_db *db, int *line);
/* Whether a section that began or ended a transaction was stopped right
 * after that statement (nothing after it ran). */
bool mig_db_stops_at_tx_change(const struct mig_db *db);
/* Whether the last mig_db_exec_script failed because the section released
 * the migration lock (PostgreSQL's DISCARD ALL, pg_advisory_unlock_all(),
 * pg_advisory_unlock): checked after every section, and after every
 * statement of a transactional: false one. */
bool mig_db_lock_lost(const struct mig_db *db);
/* After a section ran without error: checks that it kept the migration
 * lock (a failure as above, "file:line: this section ..."); after the last
 * one also resets the session settings a migration can change.  One round
 * trip on PostgreSQL. */
int mig_db_after_section(struct mig_db *db, const char *file, int line, bool last,
			 struct mig_err *err);
/* The schema a bare table name goes into; the caller frees it. */
int mig_db_default_schema(struct mig_db *db, char **out, struct mig_err *err);
/* One catalog lookup: the table's OID (PostgreSQL), 1 (SQLite), 0 if none. */
int mig_db_table_oid(struct mig_db *db, const char *schema, const char *table,
		     unsigned long *oid, struct mig_err *err);
/* COMMIT; MIG_EDB when it fails, and the transaction is rolled back then,
 * so the caller reports the step as not applied. */
int mig_db_commit(struct mig_db *db, struct mig_err *err);
void mig_db_rollback(struct mig_db *db);	/* never fails the caller */
/* What became of mig_db_commit_later's COMMIT: PENDING until the round
 * trip it went in came back, then DONE, FAILED (rolled back: a deferred
 * constraint) or UNKNOWN (the connection was lost before the answer). */
enum mig_commit_outcome {
	MIG_COMMIT_NONE, MIG_COMMIT_PENDING, MIG_COMMIT_DONE, MIG_COMMIT_FAILED,
	MIG_COMMIT_UNKNOWN
};
/* COMMIT, sent with the next statement where the driver can (PostgreSQL:
 * "COMMIT; " before the next BEGIN), else now.  The work counts as
 * committed only once the outcome is DONE; a failed COMMIT is the next
 * statement's error.  mig_db_commit sends a waiting one alone; closing the
 * connection with one waiting rolls it back. */
int mig_db_commit_later(struct mig_db *db, struct mig_err *err);
enum mig_commit_outcome mig_db_commit_outcome(const struct mig_db *db);
/*
 * Takes the migration lock named by key for the rest of the session
 * (PostgreSQL advisory lock); on SQLite the lock is the IMMEDIATE write
 * transaction each migration runs in, so this only sets the busy timeout.
 * MIG_ESAFETY when the lock timeout expires.
 */
int mig_db_lock(struct mig_db *db, const char *key, struct mig_err *err);
void mig_db_unlock(struct mig_db *db, const char *key);
/* Lists the tables of a schema (NULL: the default one), sorted. */
int mig_db_list_tables(struct mig_db *db, const char *schema,
		       struct mig_strv *out, struct mig_err *err);
/* *exists: whether schema.table (schema NULL: the default one) is a table. */
int mig_db_table_exists(struct mig_db *db, const char *schema,
			const char *table, bool *exists, struct mig_err *err);
/* Append "name" or "schema"."name", or 'text' as a string literal. */
void mig_quote_ident(struct mig_buf *b, const char *name);
void mig_quote_qualified(struct mig_buf *b, const char *schema, const char *name);
void mig_quote_literal(struct mig_buf *b, const char *text);

/*
 * Reads the schema of a live database in a fixed number of queries:
 * every table of the schema (NULL: SQLite's main / PostgreSQL's
 * current_schema()) except skip_table (the version table, or NULL).
 */
int mig_db_introspect(struct mig_db *db, const char *schema,
		      const char *skip_table, struct mig_schema *out,
		      struct mig_err *err);

/*
 * The schema as the CREATE statements that make it (SQLite's sqlite_master),
 * appended to out in an order that replays.  Equal texts are equal schemas,
 * so a caller can compare two states without building their models.
 * Returns MIG_OK with *supported false, out untouched, where the dialect
 * keeps no such text (PostgreSQL).  On error out may hold some statements;
 * the caller releases it either way.
 */
int mig_db_schema_text(struct mig_db *db, struct mig_strv *out, bool *supported,
		       struct mig_err *err);

/* ---- the driver interface (libmig only) -------------------------------- */

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
	/* mig_db_commit_later's COMMIT can wait for the next statement (PostgreSQL) */
	bool commits_with_next;
	/* mig_db_after_section (SQLite: the pragmas that change later DDL) */
	int (*after_section)(struct mig_db *db, const char *file, int line,
			     bool last, struct mig_err *err);
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
	/* The whole schema in a fixed number of queries; see mig_db_introspect above. */
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
	/* PostgreSQL: begin was called and its BEGIN goes with the next
	 * statement (db_pg.c), so a step opens in its first round trip */
	bool begin_pending;
	/* mig_db_commit_later: a COMMIT waits for the next statement, or what
	 * became of the last one that did (set by the driver when sent) */
	enum mig_commit_outcome later_commit;
	char *tx_started;	/* PostgreSQL: now() of mig's open transaction */
	char *lock_key;		/* the transaction-scoped lock to take in begin */
	char *session_lock_key;	/* the session lock's key (lock_key's number) */
	bool session_locked;	/* PostgreSQL: the session advisory lock is held */
	/* A migration released the session lock (DISCARD ALL,
	 * pg_advisory_unlock_all()): set by exec_script, which then fails */
	bool lock_lost;
	/* PostgreSQL without --lock-timeout: the server's lock_timeout in ms
	 * (0: none) and pg_settings' word for where it was set, which the lock
	 * wait keeps as its deadline, as a blocking wait in the server would */
	long server_lock_timeout_ms;
	/* mig_history was found or made, and written, on this connection: a run
	 * looks it up once, not at every step (history.c) */
	bool history_table_seen;
	char *server_lock_timeout_source;
	bool sync_on_close;	/* SQLite: a file this run created, synced once */
	/* PostgreSQL: a second connection that asks pg_stat_activity what a
	 * long statement's backend does (the heartbeat), opened at the first
	 * beat */
	struct mig_db *watcher;
	double waited_ms;	/* PostgreSQL: how long --wait waited, 0: not */
	/* SQLite: the lock wait under way (its start and next line) */
	struct mig_heartbeat lock_wait;
	/* SQLite: the statement being run, for its heartbeat */
	struct mig_heartbeat statement_beat;
	const char *running_file;
	int running_line;
	bool watch_error;	/* the watcher could not be opened (said once) */
	bool pooled;		/* PostgreSQL: a pooler answers (read at lock) */
	/* SQLite: a statement prepared since the last reset sets a pragma */
	bool sqlite_pragma_set;
	size_t statements_run;	/* statements exec_script completed, all told */
	struct mig_origins *origins;	/* origins.h: recording, or NULL */
};

extern const struct mig_driver mig_driver_sqlite;
extern const struct mig_driver mig_driver_pg;

/* Line of byte offset in sql, counting from first_line. */
int mig_sql_line(const char *sql, size_t offset, int first_line);
/* First byte of p that is not white space or an SQL comment. */
const char *mig_sql_skip_trivia(const char *p);

#endif
