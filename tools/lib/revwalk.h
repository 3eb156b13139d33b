/*
 * revwalk.h: revision names and walks in the graph as Alembic 1.8 reads
 * them (revwalk.c): ids, branch labels and unique prefixes looked up in one
 * map, head, heads and base, LABEL@..., which revisions share a line, and
 * Alembic's _walk of +N/-N steps.  The pieces targets.c builds its grammar
 * from.  Pure functions of the graph: no database, no rows.
 *
 * Errors are MIG_EINPUT with Alembic's reason and a hint in *err.  A
 * revision is its index in graph->revs; MIG_NONE is none (base, or beyond
 * the graph), and MIG_REV_BASE is where a walk down from a base ends.
 */
#ifndef MIG_REVWALK_H
#define MIG_REVWALK_H

#include "graph.h"
#include "mig.h"

/* Alembic's walk can end on the string "base" (below a base revision),
 * which is not the same as None (beyond the graph). */
#define MIG_REV_BASE (MIG_NONE - 1)

/* A growing list of revisions; { 0 } is empty, mig_revlist_release frees. */
struct mig_revlist {
	size_t *v;
	size_t n, cap;
};
/* Appends x (duplicates too); grows with xrealloc. */
void mig_revlist_push(struct mig_revlist *iv, size_t x);
/* Whether x is in the list. */
bool mig_revlist_has(const struct mig_revlist *iv, size_t x);
/* Frees the list and leaves it empty, ready for reuse. */
void mig_revlist_release(struct mig_revlist *iv);

/* A mark per revision, all false: g->nrevs + 1 of them; the caller frees. */
bool *mig_revwalk_new_marks(const struct mig_graph *g);

/*
 * Marks r and its ancestors in mark (from mig_revwalk_new_marks): through
 * dependencies too with with_deps, else through down_revision only.  Stops
 * at what is already marked.
 */
void mig_revwalk_mark_ancestors(const struct mig_graph *g, size_t r, bool with_deps,
				bool *mark);

/*
 * The revision a branch name stands for (a label, an id or a unique prefix)
 * into *out.  MIG_EINPUT when it names none, or several; *out is then not
 * to be used.
 */
int mig_revwalk_resolve_branch(const struct mig_graph *g, const char *branch, size_t *out,
			       struct mig_err *err);

/*
 * Appends to *out the revisions of cands (not already in *out) that share a
 * line (ancestor, descendant or itself; with_deps: through dependencies
 * too) with what check names: a label, an id, a prefix, or LABEL@head,
 * LABEL@heads, LABEL@REV as Alembic's filter_for_lineage reads it.  A check
 * that names no revision (base) keeps every candidate; with no candidates,
 * check is not read.  MIG_EINPUT when check does not resolve; *out then
 * holds what it held before.
 */
int mig_revwalk_filter_lineage(const struct mig_graph *g, const struct mig_revlist *cands,
			       const char *check, bool with_deps, struct mig_revlist *out,
			       struct mig_err *err);

/*
 * Alembic's _walk: |steps| steps from start (MIG_NONE: from below the bases
 * going up, from the heads going down), up for steps > 0, down otherwise;
 * going up, only onto revisions on label's line when label is given.
 * *out is where the walk ends: a revision, MIG_NONE when it walked off the
 * graph (past a head, or down from MIG_REV_BASE), or MIG_REV_BASE below a
 * base.  MIG_EINPUT, naming spec, when a step has several ways to go or
 * starts up from MIG_REV_BASE, or when label does not resolve; *out is
 * then where the walk stopped.
 */
int mig_revwalk_steps(const struct mig_graph *g, size_t start, long steps,
		      const char *label, const char *spec, size_t *out,
		      struct mig_err *err);

/*
 * Alembic's get_revisions: appends to *out the revisions spec names (none
 * for base; every head for heads; -N and LABEL@-N walk down from each head,
 * on the label's branch, and may append MIG_NONE or MIG_REV_BASE).
 * MIG_EINPUT when spec names nothing or is ambiguous; *out may then hold
 * some of the revisions already found.
 */
int mig_revwalk_get_revisions(const struct mig_graph *g, const char *spec,
			      struct mig_revlist *out, struct mig_err *err);

/*
 * Alembic's get_revision: the one revision spec names into *out (MIG_NONE
 * for base).  MIG_EINPUT when it names nothing, or several (heads over a
 * fork); *out is then not to be used.
 */
int mig_revwalk_get_revision(const struct mig_graph *g, const char *spec, size_t *out,
			     struct mig_err *err);

#endif
