/*
 * sqlite_origins.h: the SQLite driver's side of origins.h.  The driver's
 * authorizer passes each action of each statement it prepares to
 * mig_sqlite_note_touched, which keeps the names of the tables and indexes
 * of main that are made, dropped or altered; after a statement that
 * changed the schema, mig_sqlite_note_origins (declared in origins.h)
 * reads again only those names' rows of sqlite_schema, and their indexes,
 * so recording costs what the statement touched, not the schema's size.
 * What cannot be followed by name (a table renamed by ALTER TABLE, a
 * virtual table's shadow tables, a ROLLBACK, a pragma set, which may be
 * writable_schema) makes it read all of sqlite_schema, as before.
 */
#ifndef MIG_SQLITE_ORIGINS_H
#define MIG_SQLITE_ORIGINS_H

#include "origins.h"

/* Takes note of one authorizer call (sqlite3_set_authorizer's action and
 * its arguments) into o->touched, touched_all and touched_alter, which
 * mig_sqlite_note_origins consumes.  Names accumulate until then, so an
 * object changed by a statement that was not followed by a look (mig's
 * own, or one that failed) is read at the next. */
void mig_sqlite_note_touched(struct mig_origins *o, int action, const char *arg1,
			     const char *arg2, const char *schema);

#endif
