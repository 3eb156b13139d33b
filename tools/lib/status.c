/*
 * status.c: where a database stands relative to the revision graph, and the
 * states in which migrating it must be refused (DESIGN.md: a legacy
 * database, a recorded revision the graph no longer has).
 */
#define _POSIX_C_SOURCE 200809L
#include "status.h"
#include "db.h"
#include "graph.h"
#include "history.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "stamp.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

const char *mig_db_state_name(enum mig_db_state s)
{
	switch (s) {
	case MIG_STATE_EMPTY:
		return "empty";
	case MIG_STATE_LEGACY:
		return "legacy";
	case MIG_STATE_UNVERSIONED:
		return "base";
	case MIG_STATE_UNKNOWN:
		return "unknown-revision";
	case MIG_STATE_OVERLAP:
		return "overlapping";
	case MIG_STATE_CURRENT:
		return "current";
	case MIG_STATE_BEHIND:
		return "behind";
	}
	return "?";
}

void mig_status_release(struct mig_status *s)
{
	strv_release(&s->current);
	strv_release(&s->unknown);
	strv_release(&s->overlap);
	strv_release(&s->tables);
	strv_release(&s->foreign);
	mig_plan_release(&s->pending);
}

static enum mig_db_state classify(const struct mig_status *st)
{
	if (st->unknown.n)
		return MIG_STATE_UNKNOWN;
	if (st->overlap.n)
		return MIG_STATE_OVERLAP;
	if (!st->current.n && st->tables.n)
		return MIG_STATE_LEGACY;
	if (!st->current.n && !st->version_table)
		return MIG_STATE_EMPTY;
	if (!st->current.n)
		return MIG_STATE_UNVERSIONED;
	return st->pending.nsteps ? MIG_STATE_BEHIND : MIG_STATE_CURRENT;
}

/* Rows that are ancestors of another row: Alembic refuses such a version
 * table ("overlaps with other requested revisions"), and planning from it
 * would revert or apply a revision twice. */
static void find_overlap(const struct mig_graph *g, const struct mig_strv *rows,
			 struct mig_strv *out)
{
	if (rows->n < 2)
		return;
	bool *mark = xcalloc(g->nrevs + 1, sizeof(*mark));
	for (size_t i = 0; i < rows->n; i++) {
		size_t r = mig_graph_find(g, rows->v[i]);
		memset(mark, 0, (g->nrevs + 1) * sizeof(*mark));
		mig_graph_mark_ancestors(g, &r, 1, mark);
		for (size_t j = 0; j < rows->n; j++)
			if (j != i && mark[mig_graph_find(g, rows->v[j])] &&
			    !strv_has(out, rows->v[j]))
				strv_push(out, rows->v[j]);
	}
	free(mark);
	strv_sort(out);
}

/*
 * A database without version rows is legacy only if it has tables that the
 * migrations create; the others (another application's, a monitoring
 * tool's) are foreign and left alone.  Which tables the migrations create
 * is read by replaying them into an in-memory SQLite database (the SQLite
 * sections); when that cannot be done (Alembic scripts, SQL SQLite does not
 * run), every table counts, as before.
 */
static void set_foreign_aside(const struct mig_graph *g, struct mig_status *st)
{
	if (st->current.n || !st->tables.n || !g->usable || !g->nheads)
		return;
	for (size_t r = 0; r < g->nrevs; r++)
		if (g->revs[r].kind != MIG_REV_SQL)
			return;
	struct mig_db *mem = NULL;
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_strv made = MIG_STRV_INIT;
	int rc = mig_replay(g, g->heads, g->nheads, &mem, &ignored);
	if (!rc)
		rc = mig_db_list_tables(mem, NULL, &made, &ignored);
	mig_db_close(mem);
	mig_err_release(&ignored);
	if (!rc) {
		struct mig_strv ours = MIG_STRV_INIT;
		for (size_t i = 0; i < st->tables.n; i++)
			strv_push(strv_has(&made, st->tables.v[i]) ? &ours : &st->foreign,
				  st->tables.v[i]);
		strv_release(&st->tables);
		st->tables = ours;
	}
	strv_release(&made);
}

/* full: every table listed and the pending plan made (mig-status); else
 * only what mig_check_migratable needs (mig_status_read_migratable). */
static int read_status(struct mig_db *db, const struct mig_graph *g,
		       const struct mig_vt *vt, bool full, struct mig_status *st,
		       struct mig_err *err)
{
	memset(st, 0, sizeof(*st));
	const char *skip = NULL;
	unsigned long oid = 0;
	struct mig_strv all = MIG_STRV_INIT;
	bool listed = false;
	int rc = mig_vt_app_skip(db, vt, &skip, err);
	/* mig-status lists the application's tables anyway: when they share
	 * the version table's schema (skip), the listing says whether it is
	 * there, one catalog query less */
	if (!rc && full && skip) {
		rc = mig_db_list_tables(db, vt->app_schema, &all, err);
		listed = true;
		oid = !rc && strv_has(&all, vt->table);
	} else if (!rc) {
		rc = mig_db_table_oid(db, vt->resolved_schema ? vt->resolved_schema
				      : vt->schema, vt->table, &oid, err);
	}
	st->version_table = oid != 0;
	if (!rc && st->version_table)	/* one catalog query less than mig_vt_read */
		rc = mig_vt_read_rows(db, vt, &st->current, err);
	/* the application's tables: in the default schema, not necessarily
	 * the version table's; only a database without version rows needs
	 * them to be told legacy, and listing them in every run of a long
	 * round trip would make it quadratic in tables */
	if (!rc && !listed && (full || !st->current.n))
		rc = mig_db_list_tables(db, vt->app_schema, &all, err);
	for (size_t i = 0; !rc && i < all.n; i++)
		/* mig_history lies beside the version table, and is mig's own */
		if (!skip || (strcmp(all.v[i], skip) != 0 &&
			      strcmp(all.v[i], MIG_HISTORY_TABLE) != 0))
			strv_push(&st->tables, all.v[i]);
	strv_release(&all);
	if (rc)
		return rc;
	for (size_t i = 0; i < st->current.n; i++)
		if (mig_graph_find(g, st->current.v[i]) == MIG_NONE)
			strv_push(&st->unknown, st->current.v[i]);
	if (!st->unknown.n)
		find_overlap(g, &st->current, &st->overlap);
	set_foreign_aside(g, st);
	if (full && !st->unknown.n && !st->overlap.n && g->usable)
		rc = mig_plan_upgrade(g, &st->current, g->heads, g->nheads,
				      &st->pending, err);
	st->state = classify(st);
	return rc;
}

int mig_status_read(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, struct mig_status *st,
		    struct mig_err *err)
{
	return read_status(db, g, vt, true, st, err);
}

int mig_status_read_migratable(struct mig_db *db, const struct mig_graph *g,
			       const struct mig_vt *vt, struct mig_status *st,
			       struct mig_err *err)
{
	return read_status(db, g, vt, false, st, err);
}

static const char *single_base(const struct mig_graph *g)
{
	return g->nbases == 1 ? g->revs[g->bases[0]].id : NULL;
}

int mig_check_migratable(const struct mig_status *st, const struct mig_graph *g,
			 struct mig_err *err)
{
	if (st->state == MIG_STATE_LEGACY) {
		mig_err_set(err, MIG_ESAFETY, "the database has %zu table%s but no "
			    "version rows: it looks like a legacy database created "
			    "without migrations (applying them would fail with "
			    "DuplicateTable)", st->tables.n, st->tables.n == 1 ? "" : "s");
		const char *base = single_base(g);
		if (base)
			return mig_err_hint(err, "if its schema is the baseline, stamp it: "
					    "mig-stamp %s; then run mig-upgrade", base);
		return mig_err_hint(err, "stamp it with the revision its schema matches "
				    "(mig-stamp REV), then run mig-upgrade");
	}
	if (st->state == MIG_STATE_OVERLAP) {
		char *ids = strv_join(&st->current, ", ");
		char *old = strv_join(&st->overlap, ", ");
		mig_err_set(err, MIG_ESAFETY, "the version table holds overlapping rows "
			    "(%s): %s %s an ancestor of another row, which Alembic "
			    "refuses too", ids, old, st->overlap.n == 1 ? "is" : "are");
		free(ids);
		free(old);
		return mig_err_hint(err, "another tool or a hand edit wrote them; check "
				    "the schema, then repair the record with "
				    "mig-stamp --purge REV...");
	}
	if (st->state == MIG_STATE_UNKNOWN) {
		char *ids = strv_join(&st->unknown, "', '");
		mig_err_set(err, MIG_ESAFETY, "the database is at '%s', which is not "
			    "in %s/versions", ids, g->dir);
		free(ids);
		return mig_err_hint(err, "a migration was deleted or is not pulled yet: "
				    "restore it, or check the schema and repair the "
				    "record with mig-stamp --force REV");
	}
	return MIG_OK;
}
