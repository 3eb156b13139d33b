/*
 * pyrev.h: the revision header of an Alembic .py migration script (revision,
 * down_revision, depends_on, branch_labels), read without running Python,
 * so that a project moving from Alembic keeps one graph.  Such a script has
 * no SQL sections: mig can plan with it but not run it.
 */
#ifndef MIG_PYREV_H
#define MIG_PYREV_H

#include "mig.h"
#include "migfile.h"

/*
 * Parses the module-level assignments of an Alembic script into *rev
 * (which the caller releases, also after a failure).  MIG_EINPUT with
 * "path:line: what" and *err_line set for anything not a literal.
 */
int mig_rev_parse_py(struct mig_rev *rev, const char *path, const char *text,
		     size_t len, int *err_line, struct mig_err *err);

#endif
