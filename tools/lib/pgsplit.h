/*
 * pgsplit.h: where the statements of a PostgreSQL script begin and end, as
 * PostgreSQL's own parser sees them (libpg_query), for the PostgreSQL
 * driver: to run a transactional: false section one statement at a time,
 * to send a big section in pieces, and to name the line of a failing
 * statement.  Also the canonical text of
 * an index key, by PostgreSQL's lexer, for both drivers' introspection.
 *
 * libpg_query is loaded when first needed, as libpq is (pq.h): a run that
 * only touches SQLite does not pay for it.  Only libmig includes this.
 */
#ifndef MIG_PGSPLIT_H
#define MIG_PGSPLIT_H

#include "mig.h"
#include "schema.h"

/* The soname loaded: Debian's libpg-query1504.0 (PostgreSQL 15's parser). */
#define MIG_LIBPG_QUERY "libpg_query.so.1504.0"

struct mig_stmt {
	size_t from;	/* where its text begins: just after the previous ';' */
	size_t first;	/* its first token: comments and white space skipped */
	size_t end;	/* just after its last token, before its ';' */
};

/*
 * Splits sql into its statements (*out, *n; free *out).  A script the
 * parser rejects is split by the scanner, so the statements before a
 * syntax error are still found.  MIG_EDB when libpg_query cannot be
 * loaded, or cannot read the script at all (an unterminated quote).
 */
int mig_pg_split(const char *sql, struct mig_stmt **out, size_t *n,
		 struct mig_err *err);

/* A transactional section longer than MIG_PG_PIECES_FROM bytes is sent in
 * pieces of about MIG_PG_PIECE bytes (db_pg.c): libpq copies a query twice,
 * and each copy is then a piece, not the section. */
#define MIG_PG_PIECES_FROM (1u << 20)
#define MIG_PG_PIECE (1u << 17)

/*
 * Where the piece of sql (len bytes) that begins at byte from, a statement
 * boundary, should end (*end): after its last whole statement within about
 * size bytes, or later when the first statement is longer (the window
 * doubles until it holds two), or at len.  Only a window is copied and
 * scanned, never the whole script, so that a big section costs no second
 * copy.  The cut is where the server too sees one statement end; with
 * PostgreSQL's lexer, so a quote, a comment or a BEGIN ATOMIC body is
 * never cut.  MIG_EDB when libpg_query cannot be loaded (*end is len).
 */
int mig_pg_next_piece(const char *sql, size_t len, size_t from, size_t size,
		      size_t *end, struct mig_err *err);

/* How mig_pg_for_each_piece hands each piece on: send sends piece (a
 * string of whole statements) without waiting; wait then waits for its
 * results, the piece beginning on line `line` of the file, and clears *more
 * to stop.  Each returns MIG_OK to go on. */
struct mig_pg_piece_sender {
	int (*send)(void *ctx, const char *piece, struct mig_err *err);
	int (*wait)(void *ctx, const char *piece, int line, bool *more,
		    struct mig_err *err);
	void *ctx;
};
/* Hands each piece of sql (mig_pg_next_piece; the whole rest when
 * libpg_query cannot be loaded), sql beginning on first_line, to s in turn,
 * and finds the next cut while the server runs a piece; stops at the first
 * error, returned, or when wait clears *more. */
int mig_pg_for_each_piece(const char *sql, int first_line,
			  const struct mig_pg_piece_sender *s, struct mig_err *err);
/* The byte offset of 1-based character position pos (PostgreSQL's error
 * positions count characters) in the UTF-8 string s; its length if none. */
size_t mig_pg_char_offset(const char *s, long pos);

/* Adds to a failed statement's error which statements of its
 * transactional: false section (sql, split into stmts, beginning on
 * first_line) ran before it, ran of them: each was its own transaction, so
 * they stay. */
void mig_pg_say_what_ran(const char *sql, const struct mig_stmt *stmts, size_t ran,
			 int first_line, struct mig_err *err);

/*
 * An index key (a column or an expression) as one text on both dialects,
 * so that a dump of the same migration reads the same: the tokens of
 * PostgreSQL's own lexer, unquoted words lower-cased, no white space but a
 * blank between two words, and the casts to text and varchar that
 * PostgreSQL shows where a varchar column meets a text function dropped
 * ("LOWER( name )" and "lower(name::text)" both read "lower(name)").
 * *out is a new string.  MIG_EDB when libpg_query cannot be loaded.
 */
int mig_pg_expr_canonical(const char *expr, char **out, struct mig_err *err);
/* The keys of a CREATE INDEX statement (SQLite keeps its text; its catalog
 * names no expression), each canonical as above, ASC and DESC left out;
 * appended to out. */
int mig_pg_index_keys(const char *create_index, struct mig_strv *out,
		      struct mig_err *err);
/* The PostgreSQL driver's introspection: every index key of out that is an
 * expression, as mig_pg_expr_canonical spells it; a plain column name is
 * left as it is, and so is everything without libpg_query. */
void mig_pg_canonical_keys(struct mig_schema *out);

#endif
