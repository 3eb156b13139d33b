/*
 * db_sqlite.c: the reference driver, on libsqlite3.  db_pg.c mirrors it
 * method by method.
 *
 * Locking: SQLite has no session lock that outlives a transaction, so each
 * migration's transaction is BEGIN IMMEDIATE (the write lock is taken before
 * anything is read) and mig_run re-reads the version table inside it; the
 * busy timeout is the lock timeout.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "introspect.h"
#include "mig.h"
#include "progress.h"
#include "schema.h"
#include "url.h"
#include "origins.h"
#include "pgsplit.h"
#include "sqlite_origins.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *H(struct mig_db *db)
{
	return db->handle;
}

/*
 * The busy handler: sqlite3_busy_timeout's wait (the lock timeout, pauses
 * growing to 100 ms), which also says that it waits.  SQLite's file locks
 * do not say which process holds them, so the line says that it cannot.
 * count is 0 at the first call of each wait.
 */
static int busy_wait(void *arg, int count)
{
	static const long pauses[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 };
	struct mig_db *db = arg;
	double t = db->opts.lock_timeout;
	if (count == 0 && t == 0)
		return 0;	/* --lock-timeout 0: no wait to speak of */
	if (count == 0) {
		mig_heartbeat_start(&db->lock_wait, db->opts.heartbeat);
		mig_progress_say(&db->opts, "waiting for the lock of %s, held by another "
				 "connection (SQLite does not say which process holds "
				 "it); %s", db->url.path, db->opts.lock_timeout >= 0
				 ? "giving up at --lock-timeout"
				 : "waiting without limit (--lock-timeout sets one)");
	} else if (mig_heartbeat_due(&db->lock_wait)) {
		char *waited = mig_duration_text(mig_heartbeat_elapsed(&db->lock_wait)
						 * 1000.0);
		mig_progress_say(&db->opts, "still waiting for the lock of %s after %s "
				 "(SQLite does not say which process holds it)",
				 db->url.path, waited);
		free(waited);
	}
	double waited_ms = mig_now_ms() - db->lock_wait.start_ms;
	if (t >= 0 && waited_ms >= t * 1000.0)
		return 0;	/* SQLITE_BUSY */
	size_t n = sizeof(pauses) / sizeof(pauses[0]);
	long pause = pauses[(size_t)count < n ? (size_t)count : n - 1];
	if (t >= 0 && waited_ms + (double)pause > t * 1000.0)
		pause = (long)(t * 1000.0 - waited_ms) + 1;
	mig_sleep_ms(pause);
	return 1;
}

/* The progress handler while a section runs with a heartbeat: SQLite runs
 * a statement in this process, so elapsed time and the statement's line
 * are all there is to say. */
static int statement_heartbeat(void *arg)
{
	struct mig_db *db = arg;
	if (mig_heartbeat_due(&db->statement_beat))
		mig_progress_still_running(&db->opts, &db->statement_beat,
					   db->running_file, db->running_line, false,
					   "SQLite works in this process; it reports no more "
					   "than the time");
	return 0;	/* go on */
}

/*
 * The authorizer, which SQLite asks while it prepares each statement: it
 * notes a PRAGMA that sets a value, so that the reset after a migration
 * (reset_pragmas) runs only when one could have changed a
 * setting.  Only a PRAGMA statement sets one: the table-valued pragma
 * functions exist only for pragmas without side effects.  While origins
 * are recorded, it also notes the objects each statement makes, drops or
 * alters, so that only those are read again (sqlite_origins.h).
 */
static int authorize(void *arg, int action, const char *arg1, const char *arg2,
		     const char *schema, const char *trigger)
{
	struct mig_db *db = arg;
	(void)trigger;
	if (action == SQLITE_PRAGMA && arg2)
		db->sqlite_pragma_set = true;
	if (db->origins)
		mig_sqlite_note_touched(db->origins, action, arg1, arg2, schema);
	return SQLITE_OK;
}

/* Process-wide, before the first connection: no count of SQLite's memory
 * (nothing reads it), so no global mutex around each of its allocations. */
static void configure_sqlite(void)
{
	static bool done;
	if (!done)
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);	/* SQLITE_MISUSE after
								 * initialization: harmless */
	done = true;
}

static int sqlite_connect(struct mig_db *db, struct mig_err *err)
{
	const char *path = db->url.path;
	bool memory = !strcmp(path, ":memory:");
	struct stat st;
	bool exists = !memory && stat(path, &st) == 0;
	if (!memory && !db->opts.create && !exists) {
		mig_err_set(err, MIG_EDB, "%s: no such database file", path);
		return mig_err_hint(err, "check the path in the URL; mig-upgrade "
				    "creates the file when it does not exist");
	}
	/* Read-only work still opens read-write when it may (query_only
	 * below keeps it from writing): only a writer can roll back the hot
	 * journal a crashed run leaves, and every reader must do so first. */
	int flags = SQLITE_OPEN_READWRITE;
	if (db->opts.create && !db->opts.readonly)
		flags |= SQLITE_OPEN_CREATE;
	configure_sqlite();
	sqlite3 *h = NULL;
	int src = sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		mig_err_set(err, MIG_EDB, "%s: %s", path,
			    h ? sqlite3_errmsg(h) : sqlite3_errstr(src));
		sqlite3_close(h);
		return MIG_EDB;
	}
	sqlite3_busy_handler(h, busy_wait, db);
	sqlite3_extended_result_codes(h, 1);
	/* Reading the schema now turns "file is not a database" into a
	 * connection error instead of a failure in the middle of a run. */
	src = sqlite3_exec(h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		mig_err_set(err, MIG_EDB, "%s: %s", path, sqlite3_errmsg(h));
		sqlite3_close(h);
		return MIG_EDB;
	}
	if (db->opts.readonly)
		sqlite3_exec(h, "PRAGMA query_only = 1", NULL, NULL, NULL);
	/* A database that is deleted afterwards need not survive a crash. */
	if (db->opts.scratch)
		sqlite3_exec(h, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF",
			     NULL, NULL, NULL);
	/* A file this run creates (or finds empty) holds nothing from before
	 * the run: syncing each migration's commit would protect nothing a
	 * new run cannot redo, and costs a disk flush per migration.  The
	 * journal still makes each migration atomic if the process dies; the
	 * file is synced once when the run ends. */
	else if (!memory && db->opts.create && (!exists || st.st_size == 0)) {
		sqlite3_exec(h, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
		db->sync_on_close = true;
	}
	sqlite3_set_authorizer(h, authorize, db);
	db->handle = h;
	return MIG_OK;
}

/* Puts back the pragmas a migration can change inside a transaction that
 * alter what later migrations do (their DDL, whether a CHECK holds, what
 * LIKE matches, the order of an unordered SELECT, whether they can write),
 * and mig's own wait for a lock, which PRAGMA busy_timeout replaces, when
 * a statement since the last reset set any pragma; otherwise runs nothing.
 * foreign_keys and synchronous cannot change inside a transaction, and
 * defer_foreign_keys ends with it. */
static int reset_pragmas(struct mig_db *db, struct mig_err *err)
{
	if (!db->sqlite_pragma_set)
		return MIG_OK;
	char *reset = xasprintf("PRAGMA legacy_alter_table = OFF; "
				"PRAGMA recursive_triggers = OFF; PRAGMA writable_schema = OFF; "
				"PRAGMA ignore_check_constraints = OFF; "
				"PRAGMA case_sensitive_like = OFF; "
				"PRAGMA reverse_unordered_selects = OFF%s",
				db->opts.readonly ? "" : "; PRAGMA query_only = OFF");
	int src = sqlite3_exec(H(db), reset, NULL, NULL, NULL);
	free(reset);
	if (src != SQLITE_OK)
		return mig_err_set(err, MIG_EDB, "%s: %s", db->url.path,
				   sqlite3_errmsg(H(db)));
	sqlite3_busy_handler(H(db), busy_wait, db);
	db->sqlite_pragma_set = false;	/* (the reset's own pragmas set it) */
	return MIG_OK;
}

/* A database that cannot be written is the file's fault (or its folder's,
 * where the journal goes), not the migration's that first tried. */
static bool readonly_error(struct mig_db *db, struct mig_err *err)
{
	if ((sqlite3_extended_errcode(H(db)) & 0xff) != SQLITE_READONLY)
		return false;
	mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
	mig_err_hint(err, "mig needs to write the database file and, beside it, "
		     "its journal: check the permissions of both and of the "
		     "folder, and whether the file system is mounted read-only");
	return true;
}

static int statement_error(struct mig_db *db, const char *sql, const char *stmt,
			   const char *file, int first_line, struct mig_err *err)
{
	sqlite3 *h = H(db);
	if (readonly_error(db, err))
		return MIG_EDB;
	int off = sqlite3_error_offset(h);
	const char *at = off >= 0 ? stmt + off : mig_sql_skip_trivia(stmt);
	int line = mig_sql_line(sql, (size_t)(at - sql), first_line);
	return mig_err_set(err, MIG_EDB, "%s:%d: %s", file, line, sqlite3_errmsg(h));
}

static int count_commit(void *arg)
{
	++*(int *)arg;
	return 0;	/* let it commit */
}

static int run_statements(struct mig_db *db, const char *sql, const char *file,
			  int first_line, int autocommit, const int *committed,
			  struct mig_err *err);

static int sqlite_exec_script(struct mig_db *db, const char *sql,
			      const char *file, int first_line,
			      struct mig_err *err)
{
	int autocommit = sqlite3_get_autocommit(H(db));
	int committed = 0;	/* the commit hook tells COMMIT from ROLLBACK */
	sqlite3_commit_hook(H(db), count_commit, &committed);
	db->running_file = file;
	if (db->opts.heartbeat > 0)	/* checked every 1000 VM instructions */
		sqlite3_progress_handler(H(db), 1000, statement_heartbeat, db);
	int rc = run_statements(db, sql, file, first_line, autocommit, &committed, err);
	sqlite3_progress_handler(H(db), 0, NULL, NULL);
	sqlite3_commit_hook(H(db), NULL, NULL);
	return rc;
}

static int run_statements(struct mig_db *db, const char *sql, const char *file,
			  int first_line, int autocommit, const int *committed,
			  struct mig_err *err)
{
	const char *p = sql, *counted = sql;	/* lines counted up to counted */
	int line = first_line;
	while (*p) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(H(db), p, -1, &st, &tail) != SQLITE_OK)
			return statement_error(db, sql, p, file, first_line, err);
		if (!st) {	/* only white space or comments were left */
			p = tail;
			continue;
		}
		/* counted on from the last statement: from the start each time
		 * would be quadratic in a big data migration */
		const char *start = mig_sql_skip_trivia(p);
		db->running_line = line = mig_sql_line(counted, (size_t)(start - counted), line);
		counted = start;
		mig_heartbeat_start(&db->statement_beat, db->opts.heartbeat);
		int src;
		while ((src = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (src != SQLITE_DONE) {
			int rc = statement_error(db, sql, p, file, first_line, err);
			sqlite3_finalize(st);
			return rc;
		}
		sqlite3_finalize(st);
		db->statements_run++;
		if (db->origins)
			mig_sqlite_note_origins(db, file, line);
		/* A statement that began or ended a transaction: stop here, so
		 * that nothing after it runs outside the transaction it was
		 * written for; mig_db_exec_script refuses the section. */
		if (sqlite3_get_autocommit(H(db)) != autocommit) {
			db->tx_line = mig_sql_line(sql, (size_t)(mig_sql_skip_trivia(p) - sql),
						   first_line);
			db->tx_change = autocommit ? MIG_TX_BEGAN : *committed
					? MIG_TX_COMMITTED : MIG_TX_ROLLED_BACK;
			return MIG_OK;
		}
		p = tail;
	}
	return MIG_OK;
}

static int bind_params(sqlite3_stmt *st, int nparams, const char *const *params)
{
	int count = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		long k = name && name[0] == '$' ? strtol(name + 1, NULL, 10) : i;
		if (k < 1 || k > nparams)
			return SQLITE_RANGE;
		const char *v = params[k - 1];
		int src = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT)
			    : sqlite3_bind_null(st, i);
		if (src != SQLITE_OK)
			return src;
	}
	return SQLITE_OK;
}

static void collect_row(sqlite3_stmt *st, struct mig_rows *out, size_t *cap)
{
	size_t nc = out->ncols;
	if ((out->nrows + 1) * nc > *cap) {
		*cap = *cap ? *cap * 2 : 16 * (nc ? nc : 1);
		out->cells = xrealloc(out->cells, *cap * sizeof(*out->cells));
	}
	for (size_t c = 0; c < nc; c++) {
		const unsigned char *v = sqlite3_column_text(st, (int)c);
		out->cells[out->nrows * nc + c] = v ? xstrdup((const char *)v) : NULL;
	}
	out->nrows++;
}

static int sqlite_query(struct mig_db *db, const char *sql, int nparams,
			const char *const *params, struct mig_rows *out,
			struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(H(db), sql, -1, &st, NULL) != SQLITE_OK)
		return mig_err_set(err, MIG_EDB, "%s", sqlite3_errmsg(H(db)));
	if (bind_params(st, nparams, params) != SQLITE_OK) {
		sqlite3_finalize(st);
		return mig_err_set(err, MIG_EDB, "cannot bind the parameters of: %s", sql);
	}
	mig_rows_release(out);
	out->ncols = (size_t)sqlite3_column_count(st);
	size_t cap = 0;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		collect_row(st, out, &cap);
	if (src != SQLITE_DONE) {
		int rc = readonly_error(db, err) ? MIG_EDB
			 : mig_err_set(err, MIG_EDB, "%s", sqlite3_errmsg(H(db)));
		sqlite3_finalize(st);
		return rc;
	}
	out->affected = sqlite3_changes(H(db));
	sqlite3_finalize(st);
	return MIG_OK;
}

static enum mig_tx_state sqlite_tx_state(struct mig_db *db)
{
	return sqlite3_get_autocommit(H(db)) ? MIG_TX_IDLE : MIG_TX_OPEN;
}

static int sqlite_default_schema(struct mig_db *db, char **out, struct mig_err *err)
{
	(void)db, (void)err;
	*out = xstrdup("main");
	return MIG_OK;
}

/* Only main's catalog: a temporary table of the same name does not count.
 * Asked of the connection's parsed schema (a hash lookup), not of
 * sqlite_master, which has no index on the name: each step of a run makes
 * this check, and a scan per step grew with the number of tables. */
static int sqlite_table_oid(struct mig_db *db, const char *schema, const char *table,
			    unsigned long *oid, struct mig_err *err)
{
	(void)schema;
	/* A statement on main's catalog that reads no row checks the schema
	 * cookie, so the parsed schema is the file's, not what this connection
	 * last wrote (a file that lost a commit must read as it is). */
	int src = sqlite3_exec(H(db), "SELECT 1 FROM main.sqlite_master LIMIT 0",
			       NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
		return MIG_EDB;
	}
	src = sqlite3_table_column_metadata(H(db), "main", table, NULL, NULL, NULL,
					    NULL, NULL, NULL);
	*oid = src == SQLITE_OK ? 1 : 0;
	if (src == SQLITE_OK || src == SQLITE_ERROR)	/* there, or no such table */
		return MIG_OK;
	mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
	return MIG_EDB;
}

static int sqlite_begin(struct mig_db *db, struct mig_err *err)
{
	int src = sqlite3_exec(H(db), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		return MIG_OK;
	if ((src & 0xff) == SQLITE_BUSY) {
		/* without --lock-timeout the busy timeout is unbounded, so only
		 * the flag's timeout can run out */
		mig_err_set(err, MIG_ESAFETY,
			    "%s: timed out after %g s (--lock-timeout) waiting for the "
			    "database lock held by another process", db->url.path,
			    db->opts.lock_timeout < 0 ? 0 : db->opts.lock_timeout);
		return mig_err_hint(err, "another migration may be running; "
				    "retry, or raise --lock-timeout");
	}
	if (readonly_error(db, err))
		return MIG_EDB;
	return mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
}

static int sqlite_lock(struct mig_db *db, const char *key, struct mig_err *err)
{
	(void)db, (void)key, (void)err;
	return MIG_OK;
}

static void sqlite_unlock(struct mig_db *db, const char *key)
{
	(void)db, (void)key;
}

static int sqlite_list_tables(struct mig_db *db, const char *schema,
			      struct mig_strv *out, struct mig_err *err)
{
	(void)schema;
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = sqlite_query(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
			      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
			      0, NULL, &r, err);
	for (size_t i = 0; !rc && i < r.nrows; i++)
		strv_push(out, mig_rows_cell(&r, i, 0));
	mig_rows_release(&r);
	return rc;
}

#define SQLITE_USER_TABLES \
	"m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " \
	"AND m.name <> coalesce($2, '')"

/* The three catalog queries of introspect.c, through PRAGMA table
 * functions so that each covers every table at once. */
static const char *const sqlite_catalog[3] = {
	"SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk "
	"FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p "
	"WHERE " SQLITE_USER_TABLES " ORDER BY m.name, p.cid",

	"SELECT tbl, 'f', group_concat(frm, char(31)), ref, group_concat(dst, char(31)), "
	"on_delete, on_update FROM (SELECT m.name AS tbl, f.id AS id, f.\"from\" AS frm, "
	"f.\"table\" AS ref, f.\"to\" AS dst, f.on_delete, f.on_update "
	"FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f "
	"WHERE " SQLITE_USER_TABLES " ORDER BY m.name, f.id, f.seq) GROUP BY tbl, id "
	"UNION ALL "
	"SELECT tbl, 'u', group_concat(col, char(31)), NULL, NULL, NULL, NULL "
	"FROM (SELECT m.name AS tbl, il.name AS idx, ii.name AS col "
	"FROM sqlite_master m JOIN pragma_index_list(m.name) il "
	"JOIN pragma_index_info(il.name) ii WHERE " SQLITE_USER_TABLES
	" AND il.origin = 'u' ORDER BY m.name, il.name, ii.seqno) GROUP BY tbl, idx "
	"ORDER BY 1",

	"SELECT tbl, idx, uniq, NULL, group_concat(coalesce(col, '<expression>'), char(31)), "
	"CASE WHEN partial THEN substr(sql, instr(upper(sql), ' WHERE ') + 7) END "
	"FROM (SELECT m.name AS tbl, il.name AS idx, il.\"unique\" AS uniq, il.partial AS partial, "
	"s.sql AS sql, ii.name AS col FROM sqlite_master m "
	"JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ii "
	"LEFT JOIN sqlite_master s ON s.type = 'index' AND s.name = il.name "
	"WHERE " SQLITE_USER_TABLES " AND il.origin = 'c' AND ii.key "
	"ORDER BY m.name, il.name, ii.seqno) GROUP BY tbl, idx ORDER BY tbl, idx",
};

/* SQLite's catalog names no expression of an index key; its CREATE INDEX
 * text does.  The keys are read from it by PostgreSQL's lexer, in the
 * canonical form the PostgreSQL driver gives them too (pgsplit.h), so that
 * a dump of the same migration reads the same on both.  Without
 * libpg_query a key stays "<expression>". */
static int name_expressions(struct mig_db *db, struct mig_schema *out)
{
	for (size_t i = 0; i < out->ntables; i++) {
		struct mig_table *t = &out->tables[i];
		for (size_t x = 0; x < t->nindexes; x++) {
			struct mig_index *ix = &t->indexes[x];
			if (!strv_has(&ix->columns, "<expression>"))
				continue;
			sqlite3_stmt *st = NULL;
			struct mig_strv keys = MIG_STRV_INIT;
			struct mig_err ignored = MIG_ERR_INIT;
			if (sqlite3_prepare_v2(H(db), "SELECT sql FROM sqlite_master WHERE "
					       "type = 'index' AND name = ?1", -1, &st,
					       NULL) == SQLITE_OK) {
				sqlite3_bind_text(st, 1, ix->name, -1, SQLITE_STATIC);
				if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
					mig_pg_index_keys((const char *)sqlite3_column_text(st, 0),
							  &keys, &ignored);
			}
			sqlite3_finalize(st);
			mig_err_release(&ignored);
			if (keys.n == ix->columns.n)
				for (size_t k = 0; k < keys.n; k++)
					if (!strcmp(ix->columns.v[k], "<expression>")) {
						free(ix->columns.v[k]);
						ix->columns.v[k] = xstrdup(keys.v[k]);
					}
			strv_release(&keys);
		}
	}
	return MIG_OK;
}

static int sqlite_introspect(struct mig_db *db, const char *schema,
			     const char *skip_table, struct mig_schema *out,
			     struct mig_err *err)
{
	(void)schema;
	int rc = mig_introspect_run(db, sqlite_catalog, NULL, skip_table, out, err);
	return rc ? rc : name_expressions(db, out);
}

/* fsync one file or folder; a failure is said, since the data may be lost. */
static void sync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0 || fsync(fd) < 0)
		mig_warn("%s: cannot be synced to disk: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The file, and its folder, which holds its new name. */
static void sync_file_and_folder(const char *path)
{
	sync_path(path, 0);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	sync_path(slash ? dir : ".", O_DIRECTORY);
	free(dir);
}

/* sqlite_master keeps each object's CREATE statement as written, so the
 * text is the schema: tables first (in creation order), then the indexes,
 * views and triggers that refer to them.  Internal objects (autoindexes,
 * sqlite_sequence) have no text of their own or come with their tables. */
/* sqlite_master's CREATE statements, tables first, each kind in rowid
 * order, as the round trip compares them before and after each step: read
 * in the table's own order and put in order here, because sorting and
 * LIKE in SQL cost ten times the reading, twice per revision. */
static int sqlite_schema_text(struct mig_db *db, struct mig_strv *out,
			      struct mig_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(H(db), "SELECT type = 'table', name, sql FROM sqlite_master",
			       -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
	}
	struct mig_strv others = MIG_STRV_INIT;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sql = (const char *)sqlite3_column_text(st, 2);
		/* SQLite's own objects (LIKE 'sqlite\_%': ASCII case-blind) */
		if (!sql || !name || !sqlite3_strnicmp(name, "sqlite_", 7))
			continue;
		strv_push(sqlite3_column_int(st, 0) ? out : &others, sql);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < others.n; i++)
		strv_push_owned(out, others.v[i]);
	free(others.v);
	if (src != SQLITE_DONE)
		return mig_err_set(err, MIG_EDB, "%s: %s", db->url.path, sqlite3_errmsg(H(db)));
	return MIG_OK;
}

/* SQLite holds no lock a migration could release (the write lock is its
 * transaction).  After a migration, the pragmas it can change inside a
 * transaction that alter what later DDL does go back to their defaults
 * (reset_pragmas), when it set one. */
static int sqlite_after_section(struct mig_db *db, const char *file, int line,
				bool last, struct mig_err *err)
{
	(void)file;
	(void)line;
	int rc = last ? reset_pragmas(db, err) : MIG_OK;
	if (rc)
		mig_err_hint(err, "resetting the session's settings after the "
			     "migration failed, so its step was not recorded");
	return rc;
}

static void sqlite_close(struct mig_db *db)
{
	sqlite3_close(H(db));
	db->handle = NULL;
	if (db->sync_on_close)
		sync_file_and_folder(db->url.path);
}

const struct mig_driver mig_driver_sqlite = {
	.name        = "sqlite",
	.dialect     = MIG_SQLITE,
	.connect     = sqlite_connect,	/* checks the file is a database */
	.exec_script = sqlite_exec_script,	/* prepare/step; file:line on error */
	.stops_at_tx_change = true,
	.after_section = sqlite_after_section,	/* the pragmas' reset */
	.tx_state    = sqlite_tx_state,	/* sqlite3_get_autocommit */
	.default_schema = sqlite_default_schema,	/* main */
	.table_oid   = sqlite_table_oid,
	.query       = sqlite_query,
	.begin       = sqlite_begin,	/* BEGIN IMMEDIATE */
	.lock        = sqlite_lock,	/* the busy timeout, set at connect */
	.unlock      = sqlite_unlock,
	.list_tables = sqlite_list_tables,
	.introspect  = sqlite_introspect,	/* three PRAGMA table-function queries */
	.schema_text = sqlite_schema_text,	/* sqlite_master's CREATE statements */
	.close       = sqlite_close,
};
