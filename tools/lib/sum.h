/*
 * sum.h: the sum file, DIR/mig.sum (sum.c).
 *
 * The contract, the shape of Atlas's atlas.sum:
 *
 *   mig-sum 1 <SHA-256 of every line below this one>
 *   versions/<file> <SHA-256 of the file> <SHA-256 of its code>
 *   ...
 *
 * one line per migration file of DIR/versions (*.sql and Alembic *.py, the
 * files the graph reads), sorted by name, hashes as 64 lowercase hex
 * digits.  The "code" hash is taken with comments and white space left out
 * (mig_code_sha256), so that a check can tell an edit of the code from one
 * of comments or spacing without the old file.  The first line changes
 * whenever any line does, so two branches that each add a migration
 * conflict in git on that line: on purpose, the signal Atlas gives.
 */
#ifndef MIG_SUM_H
#define MIG_SUM_H

#include "findings.h"
#include "mig.h"

#define MIG_SUM_FILE "mig.sum"
#define MIG_SHA256_HEX 65	/* 64 hex digits and the NUL */

/* SHA-256 of data (nettle) as lowercase hex. */
void mig_sha256_hex(const void *data, size_t len, char out[MIG_SHA256_HEX]);
/*
 * SHA-256 of what a migration does: for a .sql file, its text without
 * comments (but with the header lines and section markers mig reads) and
 * without white space except a single space between two words; string
 * literals, quoted names and dollar-quoted bodies are kept byte for byte.
 * For a .py file, without blank lines, lines that are only a comment, and
 * trailing white space (indentation is Python's syntax and stays).
 */
void mig_code_sha256(const char *name, const char *text, size_t len,
		     char out[MIG_SHA256_HEX]);
/*
 * Checks DIR/mig.sum against the files of DIR/versions, adding one finding
 * per problem: a file whose content changed (the message says whether its
 * code changed or only comments and white space), a file missing from the
 * sum, a sum line for a missing file, a sum file whose own sum does not
 * match (edited by hand, or a merge of two branches), git conflict
 * markers, malformed lines.  A folder without mig.sum is not checked
 * (mig-new writes the first one), unless required: then that is the one
 * error.  Returns MIG_EINPUT only when DIR/versions cannot be read.
 */
int mig_sum_check(const char *dir, bool required, struct mig_findings *out,
		  struct mig_err *err);
/*
 * Writes DIR/mig.sum for the files of DIR/versions now (a temporary file
 * renamed over the old one, so a reader never sees half a sum).  *nfiles
 * is the number of files summed, *changed whether the content differs
 * from the old sum file.  MIG_EINPUT when a file cannot be read or the
 * sum cannot be written.
 */
int mig_sum_write(const char *dir, size_t *nfiles, bool *changed,
		  struct mig_err *err);

/*
 * Adds (or replaces) the line of one file, FILE in DIR/versions, and keeps
 * every other line as it was: a new migration must not make the sum
 * accept edits of the old ones.  Without a mig.sum, writes the first one
 * (mig_sum_write).  MIG_EINPUT when mig.sum is conflicted, malformed or
 * does not match its own sum, or a file cannot be read or written.
 */
int mig_sum_add(const char *dir, const char *file, struct mig_err *err);
/* MIG_OK when mig_sum_add could keep DIR/mig.sum (it is absent, or sound);
 * else MIG_EINPUT with the reason, for a caller to stop before writing. */
int mig_sum_ready(const char *dir, struct mig_err *err);

#endif
