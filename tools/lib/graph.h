/*
 * graph.h: the revision graph of a migrations folder: every file of
 * DIR/versions parsed, linked by down_revision and depends_on, indexed by id,
 * ordered topologically, and linted (its findings).  A loaded graph is
 * read-only; every other module takes it const.  Revisions are named by
 * their index in graph->revs; MIG_NONE is no revision.
 */
#ifndef MIG_GRAPH_H
#define MIG_GRAPH_H

#include "findings.h"
#include "mig.h"
#include "migfile.h"

struct mig_graph {
	char *dir;			/* DIR (scripts in DIR/versions) */
	struct mig_rev *revs;
	size_t nrevs;
	size_t *index;			/* open-addressing hash of ids */
	size_t index_cap;
	size_t *heads, nheads;		/* no versioned child */
	size_t *bases, nbases;		/* no down_revision */
	size_t *order, norder;		/* topological, bases first */
	struct mig_findings findings;	/* lint results */
	bool usable;			/* no error that stops planning */
};
#define MIG_NONE ((size_t)-1)

/*
 * Loads DIR/versions/ (*.sql migrations; Alembic *.py scripts for the graph
 * only) and builds the graph.  Problems in files and in the graph are added
 * to graph->findings; graph->usable is false when one of them makes
 * migration unsafe.  Returns MIG_EINPUT only when DIR cannot be read.
 */
int mig_graph_load(struct mig_graph *g, const char *dir, struct mig_err *err);
void mig_graph_release(struct mig_graph *g);
size_t mig_graph_find(const struct mig_graph *g, const char *id);
/*
 * Resolves a revision argument: an id, a unique id prefix, a branch label,
 * "head" (the single head), "heads" or "base" (empty set).  Appends indexes
 * to *out.  MIG_EINPUT with advice when it names nothing or is ambiguous.
 */
int mig_graph_resolve(const struct mig_graph *g, const char *arg,
		      size_t **out, size_t *nout, struct mig_err *err);
/* Marks rev and all its ancestors (through dependencies too) in mark[]. */
void mig_graph_mark_ancestors(const struct mig_graph *g, const size_t *revs,
			      size_t nrevs, bool *mark);
void mig_graph_mark_descendants(const struct mig_graph *g, const size_t *revs,
				size_t nrevs, bool *mark);
/* Fails with MIG_EINPUT listing the graph's errors, if it has any. */
int mig_graph_require_usable(const struct mig_graph *g, struct mig_err *err);

#endif
