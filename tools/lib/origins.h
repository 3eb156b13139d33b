/*
 * origins.h: where each table, column and index of a schema built by
 * replaying migrations came from (the migration file and the line of the
 * statement that last made it), so that a finding about a migrated object,
 * such as the foreign-key type rule's, points at that line rather than at
 * nothing.
 *
 * The recorder is told by the SQLite driver after every statement that
 * changed the schema (PRAGMA schema_version moved): it reads again the
 * objects that the statement named (its authorizer calls: the tables and
 * indexes made, dropped or altered, and their indexes), compares them with
 * what it saw last, and every table, column or index that is new, or
 * renamed, is said to come from that statement.  What it cannot follow by
 * name (a table renamed, a virtual table, a rollback, a pragma set) makes
 * it compare all of sqlite_schema, so that the cost of recording follows
 * what each statement touched, not the size of the schema.  A table
 * rebuilt the SQLite way (CREATE t_new, copy, DROP t, ALTER TABLE t_new
 * RENAME TO t) keeps the origins of the rebuild's CREATE.
 *
 * On PostgreSQL a section runs as one query, so the recorder reads the
 * section instead (pg_origins.h): after it ran, PostgreSQL's parser
 * (libpg_query) names what each statement made, at the line of its first
 * token, and the catalog says what is really there.  An object that no
 * statement of the section names (made by a DO block, EXECUTE, a
 * function) is recorded at its file and line 0, "line not known", rather
 * than left at an older, wrong line; mig-verify shows that revision's
 * header line for it.  A CREATE ... IF NOT EXISTS that found its object
 * records nothing.
 *
 * What each dialect records:
 *   SQLite:     every table, column and index that a statement made new
 *               (CREATE TABLE, CREATE TABLE AS, ADD COLUMN, CREATE INDEX,
 *               RENAME COLUMN: the new name), at that statement; a table
 *               renamed (RENAME TO) keeps its places.
 *   PostgreSQL: the same for the same migration, from the statements:
 *               CREATE TABLE (the table, each column), CREATE TABLE AS and
 *               SELECT INTO (the table; each column whose name the query
 *               spells), ADD COLUMN, ALTER COLUMN TYPE and RENAME COLUMN
 *               (the column), CREATE INDEX (an unnamed one under the name
 *               the server chose, from the catalog); RENAME TO and ALTER
 *               INDEX RENAME keep the places.  Only objects of the schema
 *               being checked (the model's) are keyed.
 *   Constraints (keys, foreign keys, unique) are not keyed on either: a
 *   finding about one points at its column or table.
 *
 * Its readers: mig-verify's model (the fk-type rule and the round trip's
 * differences, compare.c) and mig-stamp's replay into an in-memory SQLite
 * (stamp.c), whatever the dialect of the database being stamped.
 */
#ifndef MIG_ORIGINS_H
#define MIG_ORIGINS_H

#include "db.h"
#include "mig.h"
#include "schema.h"

struct mig_origin_entry {
	char *key;		/* "T" table, "C" table 0x1f column or "I" index */
	size_t seq;		/* the order recorded: a later record wins */
	size_t generation;	/* o->generation when recorded (pg_origins.c) */
	/* at.file NULL: not known (hides older records); at.line 0: made by
	 * that file's section, at a line not known (PostgreSQL) */
	struct mig_origin at;
};

/* One table or index as sqlite_schema last showed it (SQLite; sql "" when
 * it was read again by name, sqlite_origins.h, and not from there); on
 * PostgreSQL one key, its identity in sql and, for an index, its table in
 * columns (pg_origins.c). */
struct mig_origin_seen {
	char *name;
	bool index;
	char *table;	/* SQLite: an index's table */
	char *sql;
	struct mig_strv columns;	/* tables only */
};

struct mig_origins {
	struct mig_origin_entry *v;
	size_t n, cap;
	bool sorted;
	size_t nsorted;	/* v[0, nsorted): settled (sorted, one record a key) */
	size_t next_seq;
	struct mig_origin_seen *seen;
	size_t nseen;
	long schema_version;	/* -1: not read yet */
	/* SQLite: what the statements prepared since the last look named, as
	 * the authorizer reported them (db_sqlite.c): the tables and indexes
	 * of main created, dropped or altered, so that only their rows of
	 * sqlite_schema are read again; touched_all: something was done that
	 * may change others (a virtual table, a rollback), so all are read;
	 * touched_alter: an ALTER TABLE, which may rename a table to a name
	 * the authorizer does not report */
	struct mig_strv touched;
	bool touched_all;
	bool touched_alter;
	/* PostgreSQL (pg_origins.c): the schema whose objects are keyed (the
	 * caller's --schema; NULL: the connection's current_schema()), its
	 * name once read, and the number of the section being recorded */
	const char *schema;
	char *pg_schema;
	size_t generation;
};

void mig_origins_init(struct mig_origins *o);
void mig_origins_release(struct mig_origins *o);

/* From now on the statements that db runs through mig_db_exec_script are
 * recorded into o (on PostgreSQL, by pg_origins.h, after each section that
 * succeeded; only while tracking, so mig-upgrade pays nothing for it).  o
 * must live until db is closed or tracking is stopped with o NULL. */
void mig_db_track_origins(struct mig_db *db, struct mig_origins *o);

/* Records that the object key (see struct mig_origin_entry) was made at
 * file:line; a later record of the same key replaces it.  file NULL: where
 * it was made is not known (an older record no longer holds). */
void mig_origins_set(struct mig_origins *o, const char *key, const char *file, int line);

/* The latest record of key, or NULL (a rename carries it to the new name). */
const struct mig_origin *mig_origins_latest(const struct mig_origins *o, const char *key);

/* The latest record of key, or NULL, by bisection (o is settled first, so
 * records kept before may move: hold no pointer across a set). */
const struct mig_origin_entry *mig_origins_find(struct mig_origins *o, const char *key);
/* Records under the name to every record whose key begins with prefix
 * from (a renamed table's columns: "Cold\x1f" to "Cnew\x1f"), keeping
 * their places; records with an unknown place are carried as unknown. */
void mig_origins_carry(struct mig_origins *o, const char *from, const char *to);

/* The SQLite driver's side (sqlite_origins.c): after a statement at file:line
 * that may have changed the schema, records what it made; file NULL only
 * takes note of what is there. */
void mig_sqlite_note_origins(struct mig_db *db, const char *file, int line);
/* Drops the last view of sqlite_schema (the driver's). */
void mig_origins_forget_seen(struct mig_origins *o);

/* Fills the 'from' of every table, column and index of s that o knows. */
void mig_origins_apply(struct mig_origins *o, struct mig_schema *s);

#endif
