/*
 * revlog.h: the list of revisions "alembic history" prints, for
 * mig-status --history (revlog.c): one line per revision, newest first,
 * or Alembic's verbose entries, over the whole graph or a START:END range.
 */
#ifndef MIG_REVLOG_H
#define MIG_REVLOG_H

#include "graph.h"
#include "mig.h"

/*
 * Prints to fp the revisions of g in range ("START:END", "START:" or
 * ":END", each side anything mig_graph_resolve takes; NULL for all), as
 * "alembic history [-r RANGE] [-v]" prints them, with Alembic's order and
 * its markers ((head), (effective head), (branchpoint), (mergepoint)).
 * Where Alembic prints a set in hash order ("Branches into:", several
 * branch labels), the names are sorted.  MIG_EINPUT for a range without
 * ':' or one whose START is not below END.
 */
int mig_revlog_print(FILE *fp, const struct mig_graph *g, const char *range,
		     bool verbose, struct mig_err *err);

#endif
