/*
 * newrev.h: mig-new's job, writing a new migration file chained to the head
 * (or merging the heads), never replacing a file.  struct mig_newrev owns
 * its strings (mig_newrev_release), also after a failure.
 */
#ifndef MIG_NEWREV_H
#define MIG_NEWREV_H

#include "graph.h"
#include "mig.h"

struct mig_newrev_opts {
	const char *message;		/* NULL: "merge heads" for a merge */
	struct mig_strv branch_labels;	/* the caller's; copied */
	bool merge;			/* join every head of the graph */
	const char *comment;		/* "-- " lines after the header, or NULL */
	const char *sections;		/* the sections, or NULL for empty ones */
	bool print_only;		/* render nr->text, write no file */
	const char *head;		/* --head: the parent(s), as a revision
					 * argument (base: a new base); NULL: the
					 * single head */
	bool splice;			/* --splice: --head may be a non-head */
	const char *rev_id;		/* --rev-id: instead of a random id */
	struct mig_strv depends_on;	/* --depends-on: the caller's; resolved */
};

struct mig_newrev {
	char *id;			/* 12 lowercase hex digits */
	char *path;			/* DIR/versions/<id>_<slug>.sql */
	char *message;			/* as written: one line */
	struct mig_strv down;		/* the head(s); empty for a base */
	struct mig_strv branch_labels;
	struct mig_strv depends_on;	/* full ids, or labels as given */
	char *text;			/* the file's text */
};

/*
 * The file name slug of a message: lowercase ASCII letters and digits, runs
 * of anything else as one '_', none at either end, at most 40 characters
 * (cut at a '_' when the cut would split a word).  "" when the message has
 * no letter or digit.  The caller frees it.
 */
char *mig_slugify(const char *message);
/*
 * Writes a new migration file in g's folder, chained to its single head
 * (down_revision none for an empty folder), with o->merge to all its
 * heads, or to what o->head names (as "alembic revision --head"), and
 * fills *nr (which the caller releases, also after a failure).  Never
 * replaces a file.  MIG_EINPUT for a broken graph, an empty message, a bad
 * or taken branch label, a bad or taken --rev-id, a --head or --depends-on
 * that names nothing, --merge with fewer than two heads, or a file that
 * cannot be written (nothing is left behind); MIG_ESAFETY for several
 * heads without merge or --head, a --head that is not a head without
 * splice (it would start a new branch), or a file that exists.
 */
int mig_newrev_create(struct mig_newrev *nr, const struct mig_newrev_opts *o,
		      const struct mig_graph *g, struct mig_err *err);
void mig_newrev_release(struct mig_newrev *nr);
/*
 * The checks mig_newrev_create makes before it draws an id (a usable
 * graph, good branch labels, the heads to chain to), for a caller that
 * has work to do before writing: the same codes, nothing written.
 */
int mig_newrev_check(const struct mig_newrev_opts *o, const struct mig_graph *g,
		     struct mig_err *err);

#endif
