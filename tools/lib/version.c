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
static int check_version_names(struct mig_db *db, const struct mig_vt *vt,
			       struct mig_err *err)
{
	struct mig_rows rows = MIG_ROWS_INIT;
	int rc = mig_db_query(db, "SELECT current_setting('max_identifier_length')",
			      0, NULL, &rows, err);
	const char *cell = rc ? NULL : mig_rows_cell(&rows, 0, 0);
	size_t limit = cell ? (size_t)strtoul(cell, NULL, 10) : 0;
	mig_rows_release(&rows);
	if (rc || !limit)
		return rc;
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
	if (mig_db_dialect(db) == MIG_POSTGRESQL) {
		int rc = check_version_names(db, vt, err);
		if (rc)
			return rc;
	}
	free(vt->resolved_schema);
	vt->resolved_schema = NULL;
	if (vt->schema) {
		vt->resolved_schema = xstrdup(vt->schema);
		return MIG_OK;
	}
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
	if (!vt->schema)
		return MIG_OK;
	char *app = NULL;
	int rc = mig_db_default_schema(db, &app, err);
	if (!rc && strcmp(app, vt->schema) != 0)
		*skip = NULL;
	free(app);
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

static int change_one_row(struct mig_db *db, const struct mig_vt *vt,
			  const char *fmt, int nparams, const char *const *params,
			  const char *what, struct mig_err *err)
{
	char *qt = qualified(vt);
	char *sql = xasprintf(fmt, qt);
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(db, sql, nparams, params, &r, err);
	if (!rc && r.affected != 1)
		rc = mig_err_set(err, MIG_EDB, "%s in %s: expected to change one row, "
				 "changed %ld; another process may have moved the "
				 "database", what, qt, r.affected);
	mig_rows_release(&r);
	free(sql);
	free(qt);
	return rc;
}

int mig_vt_insert(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err)
{
	const char *p[1] = { rev };
	return change_one_row(db, vt, "INSERT INTO %s (version_num) VALUES ($1)",
			      1, p, "inserting a version row", err);
}

int mig_vt_delete(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err)
{
	const char *p[1] = { rev };
	return change_one_row(db, vt, "DELETE FROM %s WHERE version_num = $1",
			      1, p, "deleting a version row", err);
}

int mig_vt_update(struct mig_db *db, const struct mig_vt *vt, const char *from,
		  const char *to, struct mig_err *err)
{
	const char *p[2] = { to, from };
	return change_one_row(db, vt, "UPDATE %s SET version_num = $1 "
			      "WHERE version_num = $2", 2, p,
			      "updating a version row", err);
}
