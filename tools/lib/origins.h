/*
 * origins.h: where each table, column and index of a schema built by
 * replaying migrations came from (the migration file and the line of the
 * statement that last made it), so that a finding about a migrated object,
 * such as the foreign-key type rule's, points at that line rather than at
 * nothing.
 *
 * The recorder is told by the SQLite driver after every statement that
 * changed the schema (PRAGMA schema_version moved): it compares
 * sqlite_schema with what it saw last, and every table, column or index
 * that is new, or renamed, is said to come from that statement.  A table
 * rebuilt the SQLite way (CREATE t_new, copy, DROP t, ALTER TABLE t_new
 * RENAME TO t) keeps the origins of the rebuild's CREATE.  On PostgreSQL
 * nothing is recorded (a transactional section runs as one query, so a
 * statement's line is not known): findings there keep no place.
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
	struct mig_origin at;
};

/* One table or index as sqlite_schema last showed it. */
struct mig_origin_seen {
	char *name;
	bool index;
	char *sql;
	struct mig_strv columns;	/* tables only */
};

struct mig_origins {
	struct mig_origin_entry *v;
	size_t n, cap;
	bool sorted;
	size_t next_seq;
	struct mig_origin_seen *seen;
	size_t nseen;
	long schema_version;	/* -1: not read yet */
};

void mig_origins_init(struct mig_origins *o);
void mig_origins_release(struct mig_origins *o);

/* From now on the statements that db runs through mig_db_exec_script are
 * recorded into o (SQLite; on PostgreSQL this does nothing).  o must live
 * until db is closed or tracking is stopped with o NULL. */
void mig_db_track_origins(struct mig_db *db, struct mig_origins *o);

/* Records that the object key (see struct mig_origin_entry) was made at
 * file:line; a later record of the same key replaces it. */
void mig_origins_set(struct mig_origins *o, const char *key, const char *file, int line);

/* The latest record of key, or NULL (a rename carries it to the new name). */
const struct mig_origin *mig_origins_latest(const struct mig_origins *o, const char *key);

/* The SQLite driver's side (db_sqlite.c): after a statement at file:line
 * that may have changed the schema, records what it made; file NULL only
 * takes note of what is there. */
void mig_sqlite_note_origins(struct mig_db *db, const char *file, int line);
/* Drops the last view of sqlite_schema (the driver's). */
void mig_origins_forget_seen(struct mig_origins *o);

/* Fills the 'from' of every table, column and index of s that o knows. */
void mig_origins_apply(struct mig_origins *o, struct mig_schema *s);

#endif
