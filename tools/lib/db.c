/*
 * db.c: struct mig_db, the dialect-free face of the two drivers.  Every
 * error a driver reports passes through here and has the URL's password
 * masked before anyone can print it.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "history.h"
#include "out.h"
#include "pg_origins.h"
#include "mig.h"
#include "schema.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

static int redact(struct mig_db *db, int rc, struct mig_err *err)
{
	if (rc == MIG_OK || !err->msg)
		return rc;
	char *m = mig_url_redact(&db->url, err->msg);
	free(err->msg);
	err->msg = m;
	if (err->hint) {
		char *h = mig_url_redact(&db->url, err->hint);
		free(err->hint);
		err->hint = h;
	}
	return rc;
}

int mig_db_open(struct mig_db **out, const char *url_text,
		const struct mig_connect_opts *opts, struct mig_err *err)
{
	*out = NULL;
	struct mig_db *db = xcalloc(1, sizeof(*db));
	int rc = mig_url_parse(&db->url, url_text, err);
	if (rc) {
		free(db);
		return rc;
	}
	/* before anything else is printed, so the runner hides it everywhere */
	mig_url_mask_secrets(&db->url);
	mig_subject_url(db->url.display);
	db->opts = *opts;
	db->url_text = xstrdup(url_text);
	db->drv = db->url.dialect == MIG_SQLITE ? &mig_driver_sqlite : &mig_driver_pg;
	rc = redact(db, db->drv->connect(db, err), err);
	if (rc) {
		mig_url_release(&db->url);
		free(db->url_text);
		free(db);
		return rc;
	}
	*out = db;
	return MIG_OK;
}

int mig_db_open_twin(struct mig_db *db, struct mig_db **out, struct mig_err *err)
{
	return mig_db_open(out, db->url_text, &db->opts, err);
}

bool mig_db_locks_per_transaction(const struct mig_db *db)
{
	return db->lock_key != NULL;	/* set by the driver's lock method */
}

void mig_db_close(struct mig_db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		mig_db_rollback(db);
	db->drv->close(db);
	free(db->lock_key);
	free(db->session_lock_key);
	free(db->server_lock_timeout_source);
	free(db->tx_started);
	free(db->url_text);
	mig_url_release(&db->url);
	free(db);
}

enum mig_dialect mig_db_dialect(const struct mig_db *db)
{
	return db->drv->dialect;
}

const struct mig_url *mig_db_url(const struct mig_db *db)
{
	return &db->url;
}

size_t mig_db_statements_run(const struct mig_db *db)
{
	return db->statements_run;
}

static const char *tx_state_name(enum mig_tx_state s)
{
	switch (s) {
	case MIG_TX_IDLE:
		return "outside any transaction";
	case MIG_TX_OPEN:
		return "inside a transaction";
	case MIG_TX_FAILED:
		return "inside a failed transaction";
	case MIG_TX_UNKNOWN:
		break;
	}
	return "in an unknown transaction state";
}

/*
 * A section must leave the session in the transaction state it found:
 * inside mig's transaction for a transactional section, outside any for a
 * transactional: false one.  A statement that ended mig's transaction
 * (COMMIT, ROLLBACK) would let the rest of the step, and its version row,
 * be committed apart; one that opened a transaction would hold the next
 * step's work in it.  Checked after the section ran, error or not.
 */
int mig_db_exec_script(struct mig_db *db, const char *sql, const char *file,
		       int first_line, struct mig_err *err)
{
	/* a section run outside mig's transaction runs after a waiting COMMIT */
	if (db->later_commit == MIG_COMMIT_PENDING && !db->in_tx) {
		int rc = mig_db_commit(db, err);
		if (rc)
			return rc;
	}
	db->tx_line = 0;
	db->tx_change = MIG_TX_SAME;
	db->tx_replaced = false;
	db->lock_lost = false;
	int rc = redact(db, db->drv->exec_script(db, sql, file, first_line, err), err);
	if (!rc && db->origins && db->drv->dialect == MIG_POSTGRESQL)	/* SQLite's: per statement */
		mig_pg_note_origins(db, sql, file, first_line);
	enum mig_tx_state now = db->drv->tx_state(db);
	bool kept = db->in_tx ? (now == MIG_TX_OPEN || (rc && now == MIG_TX_FAILED))
				&& !db->tx_replaced
			      : now == MIG_TX_IDLE;
	/* A failed statement whose error ended the transaction (SQLite rolls
	 * back by itself on SQLITE_FULL, SQLITE_IOERR, ...) is that failure,
	 * reported as such: no statement of the section ended it. */
	if (kept || now == MIG_TX_UNKNOWN || (rc && db->tx_change == MIG_TX_SAME))
		return rc;
	if (db->tx_change == MIG_TX_SAME)	/* not named by the driver */
		db->tx_change = db->in_tx ? MIG_TX_COMMITTED : MIG_TX_BEGAN;
	int line = db->tx_line ? db->tx_line : first_line;
	const char *what = db->tx_change == MIG_TX_BEGAN ? "began a transaction "
			   "and left it open"
			   : db->tx_change == MIG_TX_ROLLED_BACK ? "rolled back mig's "
			   "transaction" : "committed mig's transaction";
	const char *who = db->tx_line ? "this statement" : "this section";
	if (rc) {
		char *failed = xstrdup(err->msg);
		mig_err_release(err);
		mig_err_set(err, MIG_EDB, "%s:%d: %s %s (the session is %s now); "
			    "after it: %s", file, line, who, what, tx_state_name(now),
			    failed);
		free(failed);
	} else {
		mig_err_set(err, MIG_EDB, "%s:%d: %s %s (the session is %s now)",
			    file, line, who, what, tx_state_name(now));
	}
	return MIG_EDB;
}

int mig_db_after_section(struct mig_db *db, const char *file, int line, bool last,
			 struct mig_err *err)
{
	return redact(db, db->drv->after_section(db, file, line, last, err), err);
}

bool mig_db_lock_lost(const struct mig_db *db)
{
	return db->lock_lost;
}

enum mig_tx_change mig_db_tx_change(const struct mig_db *db, int *line)
{
	*line = db->tx_line;
	return db->tx_change;
}

enum mig_tx_state mig_db_tx_state(struct mig_db *db)
{
	return db->drv->tx_state(db);
}

bool mig_db_stops_at_tx_change(const struct mig_db *db)
{
	return db->drv->stops_at_tx_change;
}

int mig_db_default_schema(struct mig_db *db, char **out, struct mig_err *err)
{
	*out = NULL;
	return redact(db, db->drv->default_schema(db, out, err), err);
}

int mig_db_table_oid(struct mig_db *db, const char *schema, const char *table,
		     unsigned long *oid, struct mig_err *err)
{
	*oid = 0;
	return redact(db, db->drv->table_oid(db, schema, table, oid, err), err);
}

int mig_db_query(struct mig_db *db, const char *sql, int nparams,
		 const char *const *params, struct mig_rows *out,
		 struct mig_err *err)
{
	struct mig_rows scratch = MIG_ROWS_INIT;
	int rc = db->drv->query(db, sql, nparams, params, out ? out : &scratch, err);
	mig_rows_release(&scratch);
	return redact(db, rc, err);
}

int mig_db_begin(struct mig_db *db, struct mig_err *err)
{
	int rc = redact(db, db->drv->begin(db, err), err);
	if (!rc)
		db->in_tx = true;
	return rc;
}

int mig_db_commit_later(struct mig_db *db, struct mig_err *err)
{
	if (!db->drv->commits_with_next) {
		int rc = mig_db_commit(db, err);
		db->later_commit = rc ? MIG_COMMIT_FAILED : MIG_COMMIT_DONE;
		return rc;
	}
	db->later_commit = MIG_COMMIT_PENDING;
	db->in_tx = false;	/* the next statement opens mig's next one */
	return MIG_OK;
}

enum mig_commit_outcome mig_db_commit_outcome(const struct mig_db *db)
{
	return db->later_commit;
}

int mig_db_commit(struct mig_db *db, struct mig_err *err)
{
	int rc = mig_db_query(db, "COMMIT", 0, NULL, NULL, err);
	if (rc)
		mig_db_rollback(db);
	db->in_tx = false;
	return rc;
}

void mig_db_rollback(struct mig_db *db)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_rows scratch = MIG_ROWS_INIT;
	db->drv->query(db, "ROLLBACK", 0, NULL, &scratch, &ignored);
	mig_rows_release(&scratch);
	mig_err_release(&ignored);
	db->in_tx = false;
}

int mig_db_lock(struct mig_db *db, const char *key, struct mig_err *err)
{
	return redact(db, db->drv->lock(db, key, err), err);
}

void mig_db_unlock(struct mig_db *db, const char *key)
{
	db->drv->unlock(db, key);
}

int mig_db_list_tables(struct mig_db *db, const char *schema,
		       struct mig_strv *out, struct mig_err *err)
{
	return redact(db, db->drv->list_tables(db, schema, out, err), err);
}

/* mig_history is mig's bookkeeping, like the version table: never part of
 * the schema a check compares or a dump writes. */
static void drop_history_table(struct mig_schema *s)
{
	for (size_t i = 0; i < s->ntables; i++) {
		if (strcmp(s->tables[i].name, MIG_HISTORY_TABLE) == 0) {
			mig_schema_remove_table(s, i);
			return;
		}
	}
}

int mig_db_introspect(struct mig_db *db, const char *schema,
		      const char *skip_table, struct mig_schema *out,
		      struct mig_err *err)
{
	memset(out, 0, sizeof(*out));
	int rc = redact(db, db->drv->introspect(db, schema, skip_table, out, err), err);
	if (rc)
		mig_schema_release(out);
	else
		drop_history_table(out);
	if (!rc)
		mig_schema_sort(out);
	return rc;
}

int mig_db_schema_text(struct mig_db *db, struct mig_strv *out, bool *supported,
		       struct mig_err *err)
{
	*supported = db->drv->schema_text != NULL;
	if (!*supported)
		return MIG_OK;
	return redact(db, db->drv->schema_text(db, out, err), err);
}

int mig_db_table_exists(struct mig_db *db, const char *schema,
			const char *table, bool *exists, struct mig_err *err)
{
	unsigned long oid = 0;
	int rc = mig_db_table_oid(db, schema, table, &oid, err);
	*exists = !rc && oid;
	return rc;
}

/* ---- rows, quoting, lines ------------------------------------------------ */

const char *mig_rows_cell(const struct mig_rows *r, size_t row, size_t col)
{
	if (row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

void mig_rows_release(struct mig_rows *r)
{
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

/* s between two quote characters, each one inside doubled. */
static void quote_with(struct mig_buf *b, const char *s, char quote)
{
	buf_putc(b, quote);
	for (const char *p = s; *p; p++) {
		if (*p == quote)
			buf_putc(b, quote);
		buf_putc(b, *p);
	}
	buf_putc(b, quote);
}

void mig_quote_ident(struct mig_buf *b, const char *name)
{
	quote_with(b, name, '"');
}

void mig_quote_literal(struct mig_buf *b, const char *text)
{
	quote_with(b, text, '\'');
}

void mig_quote_qualified(struct mig_buf *b, const char *schema, const char *name)
{
	if (schema) {
		mig_quote_ident(b, schema);
		buf_putc(b, '.');
	}
	mig_quote_ident(b, name);
}

int mig_sql_line(const char *sql, size_t offset, int first_line)
{
	int line = first_line;
	for (size_t i = 0; i < offset && sql[i]; i++)
		line += sql[i] == '\n';
	return line;
}

const char *mig_sql_skip_trivia(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			p = end ? end + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}
