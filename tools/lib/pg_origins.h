/*
 * pg_origins.h: the PostgreSQL side of the origins recorder (origins.h).
 *
 * A transactional section reaches PostgreSQL as one query, so no statement
 * can be watched as it runs (the SQLite driver looks at sqlite_schema after
 * each one).  Instead, after a section succeeded, and only while origins
 * are tracked (mig-verify), this module
 *   1. reads from the catalog what the checked schema holds now: every
 *      table (by OID), column (OID and attnum) and index that is not a
 *      constraint's (by OID), one query;
 *   2. parses the section with PostgreSQL's own parser (libpg_query's
 *      protobuf parse tree) and records, at the line of each statement's
 *      first token, what it made: CREATE TABLE (the table and each
 *      column), CREATE TABLE AS and SELECT INTO (the table and each column
 *      the query names), ALTER TABLE ADD COLUMN and ALTER COLUMN TYPE,
 *      RENAME COLUMN (the new name), CREATE INDEX; ALTER TABLE RENAME TO
 *      and ALTER INDEX RENAME carry the places to the new name;
 *   3. gives an unnamed CREATE INDEX the name the server chose: the new
 *      indexes of its table no statement named, in OID order, when there
 *      are exactly as many as such statements on that table;
 *   4. records every object that is new or was made again (a new OID or
 *      attnum) but that no statement of the section named at the section's
 *      file and line 0 ("this file, line unknown"), so that a DO block,
 *      EXECUTE, a function, or SQL the parser cannot read never leaves an
 *      older, wrong line in place; mig-verify shows the revision's header
 *      line for it.  A CREATE ... IF NOT EXISTS that found its object is
 *      no record either.
 *
 * A section longer than MIG_PG_ORIGINS_MAX_PARSE is not parsed (its parse
 * tree would take about 30 times its size): step 4 alone.
 *
 * Names are keyed as the model keys them: bare, for objects of the checked
 * schema (o->schema, else current_schema()); a name qualified with another
 * schema is left out, and so is a bare name in a section that sets
 * search_path or the role (it may have gone elsewhere).  Nothing here
 * fails the run: a catalog query or a parse that fails records less, never
 * a wrong place.
 */
#ifndef MIG_PG_ORIGINS_H
#define MIG_PG_ORIGINS_H

#include "db.h"

/* The longest section read by the parser (bytes); a longer one (data) is
 * read from the catalog alone: what it made is at the revision's header. */
#define MIG_PG_ORIGINS_MAX_PARSE ((size_t)256 * 1024)

/* After db (PostgreSQL, db->origins set) ran sql, which starts at
 * file:first_line, without error: records into db->origins what it made. */
void mig_pg_note_origins(struct mig_db *db, const char *sql, const char *file,
			 int first_line);

#endif
