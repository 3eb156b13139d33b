/*
 * targets.h: Alembic's revision-target grammar, whole, and what each target
 * means for an upgrade, a downgrade and a stamp (targets.c).
 *
 * Forms: head, heads, base, ids and unique prefixes, LABEL, LABEL@head,
 * LABEL@heads, LABEL@base, LABEL@REV, +N, -N, REV+N, REV-N, LABEL@+N,
 * LABEL@-N, LABEL@head-N, base+N, LABEL@base+N.  Relative forms are read
 * against the version rows, so a target is resolved once, from the rows
 * read inside the migration lock, and stays what it was resolved to.
 */
#ifndef MIG_TARGETS_H
#define MIG_TARGETS_H

#include "graph.h"
#include "mig.h"
#include "plan.h"
#include "revwalk.h"

/* A target as given, and (once resolved) the revisions it stands for. */
struct mig_target {
	const char *spec;	/* as the user wrote it */
	bool upgrade;
	bool resolved;
	size_t *revs, nrevs;	/* upgrade: the target revisions */
	size_t down_to;		/* downgrade: keep this one (MIG_NONE: base) */
	size_t branch;		/* downgrade: the branch its roots are on, or MIG_NONE */
};
void mig_target_release(struct mig_target *t);

/*
 * What can be said of t before a database is read: MIG_EINPUT for an empty
 * versions folder or a malformed relative form (text after +N).
 */
int mig_target_check(const struct mig_target *t, const struct mig_graph *g,
		     struct mig_err *err);

/*
 * Plans the move to t from the rows current (all in the graph), resolving t
 * on the first call.  MIG_EINPUT where Alembic refuses the target (with
 * Alembic's reason), MIG_ESAFETY where Alembic would guess (-1 from several
 * rows), naming the targets that say what is meant.
 */
int mig_target_plan(struct mig_target *t, const struct mig_graph *g,
		    const struct mig_strv *current, struct mig_plan *plan,
		    struct mig_err *err);

/*
 * The revisions an upgrade target names when the database is at rows, as
 * Alembic's _parse_upgrade_target reads it (+N, LABEL@+N, REV+N walk up
 * from rows; other forms are get_revisions), pushed onto *out (the caller
 * releases it).  MIG_EINPUT with Alembic's reason where it refuses.
 */
int mig_target_upgrade_revisions(const struct mig_graph *g, const struct mig_strv *rows,
				 const char *spec, struct mig_revlist *out,
				 struct mig_err *err);
/*
 * The rows "alembic stamp SPEC..." leaves, from the rows current (empty
 * with purge), into *rows: branch-aware (rows on other branches stay).
 * MIG_EINPUT where Alembic fails, or where it would write rows of which one
 * is an ancestor of another; with "is not a revision" in the message when a
 * SPEC names nothing.  Rows not in the graph are dropped (what --force
 * repairs).
 */
int mig_target_stamp_rows(const struct mig_graph *g, const struct mig_strv *current,
			  char *const *specs, size_t nspecs, bool purge,
			  struct mig_strv *rows, struct mig_err *err);

#endif
