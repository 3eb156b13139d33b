/*
 * version.h: the version table (alembic_version by default): resolving
 * which table a run means, once, and reading and writing its rows with
 * bound values and quoted names.  Every write happens inside the caller's
 * transaction; a failed call leaves the transaction for the caller to roll
 * back.
 */
#ifndef MIG_VERSION_H
#define MIG_VERSION_H

#include "db.h"
#include "mig.h"

struct mig_vt {
	const char *schema;	/* --version-schema; NULL: the connection's default */
	const char *table;
	bool no_history;	/* --no-history: write no mig_history rows */
	/* Set once per run by mig_vt_resolve, and used by every read and
	 * write after it, so that neither a migration's SET search_path nor a
	 * temporary table of the same name can redirect them: the schema
	 * (PostgreSQL's current_schema() when not given, SQLite's main). */
	char *resolved_schema;
};
/* Resolves vt to one exact object (see resolved_schema). */
int mig_vt_resolve(struct mig_db *db, struct mig_vt *vt, struct mig_err *err);
void mig_vt_release(struct mig_vt *vt);
/* The application's tables are in the connection's default schema,
 * whatever --version-schema says; *skip is the version table's name when it
 * lies among them (to leave out of counts and introspection), else NULL. */
int mig_vt_app_skip(struct mig_db *db, const struct mig_vt *vt, const char **skip,
		    struct mig_err *err);
/* The migration lock's key: the resolved object, not the flags' spelling. */
char *mig_vt_lock_key(const struct mig_vt *vt);
/* exists is false and heads empty when the table is missing. */
int mig_vt_read(struct mig_db *db, const struct mig_vt *vt, bool *exists,
		struct mig_strv *heads, struct mig_err *err);
/* The rows alone, for a caller that knows the table exists. */
int mig_vt_read_rows(struct mig_db *db, const struct mig_vt *vt,
		     struct mig_strv *heads, struct mig_err *err);
/* CREATE TABLE of the version table, as Alembic makes it (no IF NOT
 * EXISTS: the caller has read that it is missing). */
int mig_vt_create(struct mig_db *db, const struct mig_vt *vt,
		  struct mig_err *err);
/* The same statement as text, for --sql. */
void mig_vt_create_sql(struct mig_buf *b, const struct mig_vt *vt);
/* One row each, in the caller's transaction: insert rev, delete rev, or
 * update from to to.  Each must change exactly one row, else MIG_EDB
 * (another process moved the database), so that a version table moved by
 * someone else is never written over. */
int mig_vt_insert(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err);
int mig_vt_delete(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err);
int mig_vt_update(struct mig_db *db, const struct mig_vt *vt,
		  const char *from, const char *to, struct mig_err *err);
/* Alembic's check of an UPDATE or DELETE (and our INSERT): MIG_OK when
 * affected is 1, else MIG_EDB saying what moved. */
int mig_vt_check_one_row(const struct mig_vt *vt, const char *what, long affected,
			 struct mig_err *err);
/*
 * For a version table this run read before, as the object known_oid: its
 * rows, and *oid, the OID of the table they were read from (PostgreSQL: in
 * one statement; SQLite's is 1 or 0).  When the table is gone or is another
 * object now, the transaction is rolled back and *oid says what the catalog
 * holds now (0: no such table), with MIG_OK, for the caller to report.
 */
int mig_vt_read_known(struct mig_db *db, const struct mig_vt *vt,
		      unsigned long known_oid, unsigned long *oid,
		      struct mig_strv *heads, struct mig_err *err);

#endif
