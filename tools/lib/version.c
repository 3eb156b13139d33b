/*
 * version.c: Alembic's version table, byte for byte: the same DDL, one row
 * per current head, and Alembic's check that every UPDATE or DELETE of a
 * row matches exactly one row.  Revision ids are always bound, never
 * spliced into SQL; table and schema names are quoted.
 */
#define _POSIX_C_SOURCE 200809L
#include "version.h"
#include "db.h"
#include "mig.h"
#include "plan.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

static const char *schema_of(const struct mig_vt *vt)
{
	return vt->resolved_schema ? vt->resolved_schema : vt->schema;
}

static char *qualified(const struct mig_vt *vt)
{
	struct mig_buf b = MIG_BUF_INIT;
	mig_quote_qualified(&b, schema_of(vt), vt->table);
	return buf_detach(&b);
}

/*
 * PostgreSQL truncates a name longer than its identifier limit (63 bytes
 * unless built otherwise), and Alembic's constraint "<table>_pkc" is
 * longer than the table's name: a 63-byte table name would pass and then
 * collide.  So both names are checked against the server's real limit
 * before anything is created.
 */
static int check_version_names(const struct mig_vt *vt, const char *limit_text,
			       struct mig_err *err)
{
	size_t limit = limit_text ? (size_t)strtoul(limit_text, NULL, 10) : 0;
	if (!limit)
		return MIG_OK;
	if (vt->schema && strlen(vt->schema) > limit)
		return mig_err_set(err, MIG_EINPUT, "--version-schema: %zu bytes; this "
				   "server's names hold at most %zu", strlen(vt->schema),
				   limit);
	if (strlen(vt->table) + strlen("_pkc") > limit) {
		mig_err_set(err, MIG_EINPUT, "--version-table: %zu bytes; with its "
			    "primary key constraint '<table>_pkc' it must fit this "
			    "server's %zu-byte names", strlen(vt->table), limit);
		return mig_err_hint(err, "use a name of at most %zu bytes",
				    limit - strlen("_pkc"));
	}
	return MIG_OK;
}

int mig_vt_resolve(struct mig_db *db, struct mig_vt *vt, struct mig_err *err)
{
	free(vt->resolved_schema);
	vt->resolved_schema = NULL;
	if (mig_db_dialect(db) == MIG_POSTGRESQL) {
		/* the limit and the default schema in one round trip */
		struct mig_rows rows = MIG_ROWS_INIT;
		int rc = mig_db_query(db, "SELECT current_setting('max_identifier_length'), "
				      "current_schema()", 0, NULL, &rows, err);
		if (!rc)
			rc = check_version_names(vt, mig_rows_cell(&rows, 0, 0), err);
		const char *schema = rc ? NULL : mig_rows_cell(&rows, 0, 1);
		if (!rc && !vt->schema && schema)
			vt->resolved_schema = xstrdup(schema);
		mig_rows_release(&rows);
		if (rc || vt->resolved_schema)
			return rc;
	}
	if (vt->schema) {
		vt->resolved_schema = xstrdup(vt->schema);
		return MIG_OK;
	}
	/* (also where PostgreSQL has no current schema: the driver says why) */
	return mig_db_default_schema(db, &vt->resolved_schema, err);
}

void mig_vt_release(struct mig_vt *vt)
{
	free(vt->resolved_schema);
	vt->resolved_schema = NULL;
}

int mig_vt_app_skip(struct mig_db *db, const struct mig_vt *vt, const char **skip,
		    struct mig_err *err)
{
	*skip = vt->table;
	if (!vt->schema && !vt->app_schema)
		return MIG_OK;
	char *app = NULL, *vt_schema = NULL;
	int rc = vt->app_schema ? MIG_OK : mig_db_default_schema(db, &app, err);
	if (!rc && !vt->schema && !vt->resolved_schema)
		rc = mig_db_default_schema(db, &vt_schema, err);
	const char *a = vt->app_schema ? vt->app_schema : app;
	const char *v = vt->schema ? vt->schema : vt->resolved_schema ? vt->resolved_schema
			: vt_schema;
	if (!rc && a && v && strcmp(a, v) != 0)
		*skip = NULL;
	free(app);
	free(vt_schema);
	return rc;
}

char *mig_vt_lock_key(const struct mig_vt *vt)
{
	const char *schema = schema_of(vt);
	return xasprintf("mig:%s.%s", schema ? schema : "", vt->table);
}

int mig_vt_read(struct mig_db *db, const struct mig_vt *vt, bool *exists,
		struct mig_strv *heads, struct mig_err *err)
{
	int rc = mig_db_table_exists(db, schema_of(vt), vt->table, exists, err);
	if (rc || !*exists)
		return rc;
	return mig_vt_read_rows(db, vt, heads, err);
}

int mig_vt_read_rows(struct mig_db *db, const struct mig_vt *vt,
		     struct mig_strv *heads, struct mig_err *err)
{
	int rc;
	char *qt = qualified(vt);
	char *sql = xasprintf("SELECT version_num FROM %s", qt);
	struct mig_rows r = MIG_ROWS_INIT;
	rc = mig_db_query(db, sql, 0, NULL, &r, err);
	for (size_t i = 0; !rc && i < r.nrows; i++)
		if (mig_rows_cell(&r, i, 0))
			strv_push(heads, mig_rows_cell(&r, i, 0));
	strv_sort(heads);
	if (rc)
		mig_err_hint(err, "%s exists but cannot be read as a version table", qt);
	mig_rows_release(&r);
	free(sql);
	free(qt);
	return rc;
}

/* SQLAlchemy quotes a name only when it must; so do we, so that the DDL
 * SQLite keeps in sqlite_master is the very text Alembic writes. */
static void name_as_sqlalchemy(struct mig_buf *b, const char *name)
{
	static const char *const reserved[] = {
		"all", "and", "as", "check", "column", "constraint", "create",
		"default", "from", "group", "in", "index", "key", "not", "null",
		"on", "or", "order", "primary", "references", "select", "table",
		"to", "union", "unique", "user", "where", NULL,
	};
	bool plain = (*name >= 'a' && *name <= 'z') || *name == '_';
	for (const char *p = name; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	for (size_t i = 0; plain && reserved[i]; i++)
		plain = strcmp(name, reserved[i]) != 0;
	if (plain)
		buf_puts(b, name);
	else
		mig_quote_ident(b, name);
}

void mig_vt_create_sql(struct mig_buf *b, const struct mig_vt *vt)
{
	char *pkc = xasprintf("%s_pkc", vt->table);
	buf_puts(b, "CREATE TABLE ");
	if (vt->schema) {
		name_as_sqlalchemy(b, vt->schema);
		buf_putc(b, '.');
	}
	name_as_sqlalchemy(b, vt->table);
	buf_puts(b, " (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT ");
	name_as_sqlalchemy(b, pkc);
	buf_puts(b, " PRIMARY KEY (version_num)\n)");
	free(pkc);
}

int mig_vt_create(struct mig_db *db, const struct mig_vt *vt, struct mig_err *err)
{
	/* Into the resolved schema (SQLite keeps the DDL without "main.") */
	struct mig_vt where = { .schema = schema_of(vt), .table = vt->table,
				.no_history = vt->no_history };
	struct mig_buf b = MIG_BUF_INIT;
	mig_vt_create_sql(&b, &where);
	int rc = mig_db_query(db, buf_str(&b), 0, NULL, NULL, err);
	buf_release(&b);
	return rc;
}

int mig_vt_check_one_row(const struct mig_vt *vt, const char *what, long affected,
			 struct mig_err *err)
{
	if (affected == 1)
		return MIG_OK;
	char *qt = qualified(vt);
	mig_err_set(err, MIG_EDB, "%s in %s: expected to change one row, changed %ld; "
		    "another process may have moved the database", what, qt, affected);
	free(qt);
	return MIG_EDB;
}

static int change_one_row(struct mig_db *db, const struct mig_vt *vt,
			  const char *fmt, int nparams, const char *const *params,
			  const char *what, struct mig_err *err)
{
	char *qt = qualified(vt);
	char *sql = xasprintf(fmt, qt);
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(db, sql, nparams, params, &r, err);
	if (!rc)
		rc = mig_vt_check_one_row(vt, what, r.affected, err);
	mig_rows_release(&r);
	free(sql);
	free(qt);
	return rc;
}

static const char insert_fmt[] = "INSERT INTO %s (version_num) VALUES ($1)";
static const char delete_fmt[] = "DELETE FROM %s WHERE version_num = $1";
static const char update_fmt[] = "UPDATE %s SET version_num = $1 WHERE version_num = $2";

int mig_vt_insert(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err)
{
	const char *p[1] = { rev };
	return change_one_row(db, vt, insert_fmt, 1, p, "inserting a version row", err);
}

int mig_vt_delete(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err)
{
	const char *p[1] = { rev };
	return change_one_row(db, vt, delete_fmt, 1, p, "deleting a version row", err);
}

int mig_vt_update(struct mig_db *db, const struct mig_vt *vt, const char *from,
		  const char *to, struct mig_err *err)
{
	const char *p[2] = { to, from };
	return change_one_row(db, vt, update_fmt, 2, p, "updating a version row", err);
}

bool mig_vt_change_statement(const struct mig_vt *vt, const struct mig_vt_change *c,
			     struct mig_vt_statement *out)
{
	size_t n = c->del.n + c->ins.n + (c->upd_from ? 1 : 0);
	memset(out, 0, sizeof(*out));
	if (n != 1)
		return false;
	char *qt = qualified(vt);
	if (c->upd_from) {
		out->sql = xasprintf(update_fmt, qt);
		out->params[0] = c->upd_to;
		out->params[1] = c->upd_from;
		out->nparams = 2;
		out->what = "updating a version row";
	} else {
		bool ins = c->ins.n == 1;
		out->sql = xasprintf(ins ? insert_fmt : delete_fmt, qt);
		out->params[0] = ins ? c->ins.v[0] : c->del.v[0];
		out->nparams = 1;
		out->what = ins ? "inserting a version row" : "deleting a version row";
	}
	free(qt);
	return true;
}

void mig_vt_statement_release(struct mig_vt_statement *st)
{
	free(st->sql);
	st->sql = NULL;
}

/*
 * PostgreSQL reads the rows with their table's OID (tableoid): one
 * statement, and the OID is that of the very table the rows came from.
 * It fails when the table is gone; then the transaction it failed in (if
 * any: the check after the last step runs outside one) is rolled back so
 * that the catalog can say what became of the table.
 */
int mig_vt_read_known(struct mig_db *db, const struct mig_vt *vt,
		      unsigned long known_oid, unsigned long *oid,
		      struct mig_strv *heads, struct mig_err *err)
{
	*oid = 0;
	if (mig_db_dialect(db) != MIG_POSTGRESQL) {
		/* Reading the rows checks the schema cookie, so a table another
		 * connection dropped is not read from this one's parsed schema;
		 * only when the read fails is the table looked up, to tell a
		 * dropped table (*oid 0) from an error. */
		struct mig_err read_err = MIG_ERR_INIT;
		int rc = mig_vt_read_rows(db, vt, heads, &read_err);
		if (!rc) {
			*oid = 1;	/* SQLite's OID of a table that is there */
		} else {
			rc = mig_db_table_oid(db, schema_of(vt), vt->table, oid, err);
			if (!rc && *oid) {	/* there, and cannot be read */
				mig_err_release(err);
				*err = read_err;
				rc = err->code;
				return rc;
			}
		}
		mig_err_release(&read_err);
		return rc;
	}
	char *qt = qualified(vt);
	char *sql = xasprintf("SELECT tableoid, version_num FROM %s", qt);
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(db, sql, 0, NULL, &r, err);
	/* the last step's COMMIT went first in this round trip and failed: its
	 * error is the caller's to report, not this table's */
	enum mig_commit_outcome c = mig_db_commit_outcome(db);
	bool commit_failed = c == MIG_COMMIT_FAILED || c == MIG_COMMIT_UNKNOWN;
	enum mig_tx_state state = rc && !commit_failed ? mig_db_tx_state(db) : MIG_TX_UNKNOWN;
	if (state == MIG_TX_FAILED || state == MIG_TX_IDLE) {	/* the server answered */
		if (state == MIG_TX_FAILED)
			mig_db_rollback(db);
		struct mig_err again = MIG_ERR_INIT;
		if (!mig_db_table_oid(db, schema_of(vt), vt->table, oid, &again) &&
		    *oid != known_oid) {
			mig_err_release(err);	/* the caller says what happened */
			rc = MIG_OK;
		}
		mig_err_release(&again);
	} else if (!rc && r.nrows) {
		const char *t = mig_rows_cell(&r, 0, 0);
		*oid = t ? strtoul(t, NULL, 10) : 0;
		for (size_t i = 0; i < r.nrows; i++)
			if (mig_rows_cell(&r, i, 1))
				strv_push(heads, mig_rows_cell(&r, i, 1));
		strv_sort(heads);
	} else if (!rc) {	/* no rows to carry the OID */
		rc = mig_db_table_oid(db, schema_of(vt), vt->table, oid, err);
	}
	if (rc && !err->hint && !commit_failed)
		mig_err_hint(err, "%s exists but cannot be read as a version table", qt);
	mig_rows_release(&r);
	free(sql);
	free(qt);
	return rc;
}
