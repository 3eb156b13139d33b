/*
 * migfile.h: one migration file, parsed: its header (revision,
 * down_revision, depends_on, branch labels, message) and its upgrade and
 * downgrade sections, per dialect.  The format is DESIGN.md's; Alembic .py
 * scripts are pyrev.h's.  struct mig_rev owns everything it points to;
 * mig_rev_release frees it, also after a failed parse.
 */
#ifndef MIG_MIGFILE_H
#define MIG_MIGFILE_H

#include "mig.h"
#include "url.h"

#define MIG_REVISION_MAX 32	/* alembic_version.version_num is VARCHAR(32) */

enum mig_rev_kind { MIG_REV_SQL, MIG_REV_ALEMBIC_PY };

struct mig_section {
	bool upgrade;			/* else downgrade */
	enum mig_dialect dialect;	/* MIG_DIALECT_ANY for both */
	char *sql;			/* points into the revision's body */
	int line;			/* file line of the section's first SQL line */
};

struct mig_rev {
	char *id;
	struct mig_strv down;		/* down_revision, as written */
	struct mig_strv depends_on;
	struct mig_strv branch_labels;
	char *message, *create_date;
	bool transactional;
	enum mig_rev_kind kind;
	char *path;			/* the file, as found under DIR/versions */
	char sha256[65];		/* SHA-256 of the file read, hex (sum.h) */
	int line;			/* line of "revision:" */
	int down_line;			/* line of "down_revision:" */
	int deps_line;
	struct mig_section *sections;
	size_t nsections;
	char *body;			/* the file's text, its sections' SQL packed
					 * in place: what every section.sql points into */
	bool has_upgrade, has_downgrade;
	char *unfinished;		/* "-- unfinished: why": a file a person must
					 * finish by hand (mig-import), or NULL */
	int unfinished_line;
	char *doc_revises;		/* Alembic docstring "Revises:" */
	int doc_revises_line;
	char *doc_revision_id;		/* Alembic docstring "Revision ID:" */
	int doc_revision_id_line;
	char *docstring;		/* an Alembic script's docstring, stripped */

	/* Filled by the graph (indexes into graph->revs). */
	size_t *vdown, nvdown;		/* versioned down revisions */
	size_t *alldown, nalldown;	/* versioned + resolved dependencies */
	size_t *normdown, nnormdown;	/* versioned + normalized dependencies */
	size_t *deps, ndeps;		/* resolved dependencies */
	size_t *next, nnext;		/* revisions whose down_revision is us */
	size_t *allnext, nallnext;
	size_t topo;			/* position in graph->order */
};

/* True for a non-empty string of [A-Za-z0-9_]. */
bool mig_valid_revision_chars(const char *id);
/* Branch labels may also hold - and . */
bool mig_valid_label(const char *label);
/*
 * Parse one migration file's text into *rev (which the caller releases,
 * also after a failure).  MIG_EINPUT with "path:line: what" and err_line
 * set when the file does not follow the format.
 */
int mig_rev_parse_sql(struct mig_rev *rev, const char *path, const char *text,
		      size_t len, int *err_line, struct mig_err *err);
/*
 * The same for a text the caller gives away: text (len bytes and a NUL, from
 * malloc) becomes rev->body, and the sections' SQL is packed inside it rather
 * than copied, so a 50 MB data migration is held once.  text is owned by rev
 * from the call on, whatever the result.
 */
int mig_rev_parse_sql_owned(struct mig_rev *rev, const char *path, char *text,
			    size_t len, int *err_line, struct mig_err *err);
void mig_rev_release(struct mig_rev *rev);
/*
 * Whether a .sql file's text has any line of a mig header ("-- revision:",
 * "-- down_revision:", any other header key) or a section marker: a file
 * with none is not a mig migration at all, such as the plain SQL files
 * from before Alembic that sit among a project's Alembic scripts.
 */
bool mig_sql_has_header(const char *text, size_t len);
/*
 * Alembic's rule for the names in versions/ it loads as revision scripts
 * (script/base.py, sourceless off): a name ending in ".py" that does not
 * start with ".#" (an editor's lock file) or "__init__".
 */
bool mig_alembic_script_name(const char *name);

#endif
