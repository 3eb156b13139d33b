/*
 * stamp.c: marking a database as being at a revision without running
 * migrations, with the checks "alembic stamp" never made: the revision is
 * in the graph, the database is not at another revision already, it is not
 * empty, and its schema holds what the migrations up to the revision
 * create (replayed into an in-memory SQLite) or what a spec says.  The
 * version table and its rows change in one transaction under the lock
 * mig-upgrade takes.
 */
#define _POSIX_C_SOURCE 200809L
#include "stamp.h"
#include "compare.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "history.h"
#include "mig.h"
#include "migfile.h"
#include "run.h"
#include "schema.h"
#include "spec.h"
#include "status.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

void mig_stamp_release(struct mig_stamp *st)
{
	strv_release(&st->before);
	strv_release(&st->after);
	strv_release(&st->target);
	mig_findings_release(&st->findings);
}

/* ---- the schema the revision requires -------------------------------------- */

static int replayable(const struct mig_graph *g, const size_t *target, size_t n,
		      struct mig_err *err)
{
	bool *need = xcalloc(g->nrevs + 1, sizeof(*need));
	mig_graph_mark_ancestors(g, target, n, need);
	const struct mig_rev *py = NULL;
	for (size_t r = 0; r < g->nrevs && !py; r++)
		if (need[r] && g->revs[r].kind != MIG_REV_SQL)
			py = &g->revs[r];
	free(need);
	if (!py)
		return MIG_OK;
	mig_err_set(err, MIG_ESAFETY, "%s is an Alembic script: the schema it creates "
		    "cannot be replayed to check the database", py->path);
	return mig_err_hint(err, "give the expected schema with --spec FILE (mig-check-schema "
			    "--dump writes one), or skip the check with --no-verify");
}

int mig_replay(const struct mig_graph *g, const size_t *target, size_t n,
	       struct mig_db **out, struct mig_err *err)
{
	struct mig_db *mem = NULL;
	struct mig_connect_opts o = { .create = true, .lock_timeout = -1, .scratch = true };
	int rc = mig_db_open(&mem, "sqlite://", &o, err);
	struct mig_vt vt = { .table = MIG_DEFAULT_VERSION_TABLE, .no_history = true };	/* thrown away */
	struct mig_goal goal = { true, target, n, 0, MIG_NONE };
	if (!rc)
		rc = mig_run(mem, g, &vt, &goal, NULL, err);
	if (rc) {
		mig_err_hint(err, "replaying the migrations into an in-memory SQLite "
			     "database failed; check them with mig-verify");
		mig_db_close(mem);
		mem = NULL;
	}
	*out = mem;
	return rc;
}

/* Replays the migrations up to target into an in-memory SQLite. */
static int expected_schema(const struct mig_graph *g, const size_t *target, size_t n,
			   struct mig_schema *out, struct mig_err *err)
{
	int rc = replayable(g, target, n, err);
	struct mig_db *mem = NULL;
	if (!rc)
		rc = mig_replay(g, target, n, &mem, err);
	if (!rc)
		rc = mig_db_introspect(mem, NULL, MIG_DEFAULT_VERSION_TABLE, out, err);
	mig_db_close(mem);
	return rc;
}

/* Differences the stamp can live with: what the database has beyond the
 * revision (tables, indexes the migrations do not know) and defaults, which
 * the two dialects spell differently. */
static bool tolerable(const char *code)
{
	return !strncmp(code, "extra-", 6) || !strcmp(code, "default") ||
	       !strcmp(code, "index-method") || !strcmp(code, "index-where");
}

static int check_schema(struct mig_stamp *st, const struct mig_stamp_opts *o,
			struct mig_db *db, const struct mig_schema *want,
			const struct mig_vt *vt, struct mig_err *err)
{
	struct mig_schema live;
	const char *skip = NULL;
	int rc = mig_vt_app_skip(db, vt, &skip, err);
	if (!rc)
		rc = mig_db_introspect(db, NULL, skip, &live, err);
	if (rc)
		return rc;
	size_t from = st->findings.n;
	if (o->spec)
		mig_schema_compare(&live, want, true, &st->findings);
	else
		mig_schema_compare_expected(want, &live, &st->findings);
	for (size_t i = from; i < st->findings.n; i++)
		if (tolerable(st->findings.v[i].code))
			st->findings.v[i].severity = MIG_SEV_WARNING;
	mig_schema_release(&live);
	return MIG_OK;
}

/* ---- deciding ---------------------------------------------------------------- */

static bool same_set(const struct mig_strv *a, const struct mig_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!strv_has(b, a->v[i]))
			return false;
	return true;
}

static int refuse_state(const struct mig_stamp *st, const struct mig_status *s,
			const struct mig_stamp_opts *o, const struct mig_graph *g,
			struct mig_err *err)
{
	char *rows = strv_join(&s->current, "', '");
	char *want = strv_join(&st->target, ", ");
	int rc = MIG_OK;
	if (s->unknown.n && !o->force) {
		mig_err_set(err, MIG_ESAFETY, "the database is at '%s', which is not in "
			    "%s/versions", rows, g->dir);
		mig_err_hint(err, "a migration was deleted or is not pulled yet; once you "
			     "have checked the schema, repair the record with "
			     "mig-stamp --force %s", st->target.n ? want : "base");
		rc = MIG_ESAFETY;
	} else if (s->current.n && !o->force) {
		mig_err_set(err, MIG_ESAFETY, "the database is already at '%s'; stamping "
			    "would overwrite that", rows);
		if (st->target.n)
			mig_err_hint(err, "to move it, run mig-upgrade --to %s or "
				     "mig-downgrade --to %s; --force overwrites the record",
				     want, want);
		else
			mig_err_hint(err, "mig-downgrade --to base reverts the migrations; "
				     "--force removes only the record");
		rc = MIG_ESAFETY;
	} else if (!s->tables.n && st->target.n) {	/* --force does not make a schema */
		mig_err_set(err, MIG_ESAFETY, "the database has no tables: there is nothing "
			    "to stamp");
		mig_err_hint(err, "to create the schema, run mig-upgrade --to %s", want);
		rc = MIG_ESAFETY;
	}
	free(rows);
	free(want);
	return rc;
}

static int write_rows(struct mig_db *db, const struct mig_vt *vt, bool vt_exists,
		      const struct mig_strv *before, const struct mig_strv *target,
		      struct mig_err *err)
{
	int rc = vt_exists ? MIG_OK : mig_vt_create(db, vt, err);
	for (size_t i = 0; !rc && i < before->n; i++)
		if (!strv_has(target, before->v[i]))
			rc = mig_vt_delete(db, vt, before->v[i], err);
	for (size_t i = 0; !rc && i < target->n; i++)
		if (!strv_has(before, target->v[i]))
			rc = mig_vt_insert(db, vt, target->v[i], err);
	return rc;
}

static int load_expectation(const struct mig_stamp_opts *o, const struct mig_graph *g,
			    const size_t *target, size_t n, struct mig_schema *want,
			    struct mig_err *err)
{
	return o->spec ? mig_spec_load(want, o->spec, false, err)
		       : expected_schema(g, target, n, want, err);
}

/* The schema check, when there is something to check against. */
static int check_if_asked(struct mig_stamp *st, const struct mig_stamp_opts *o,
			  struct mig_db *db, const struct mig_graph *g,
			  const struct mig_vt *vt, const size_t *target, size_t n,
			  struct mig_err *err)
{
	if (o->no_verify || !n)
		return MIG_OK;
	struct mig_schema want;
	memset(&want, 0, sizeof(want));
	int rc = load_expectation(o, g, target, n, &want, err);
	if (!rc)
		rc = check_schema(st, o, db, &want, vt, err);
	if (!rc)
		st->checked = o->spec ? "spec" : "migrations";
	mig_schema_release(&want);
	if (!rc && mig_findings_count(&st->findings, MIG_SEV_ERROR)) {
		mig_err_set(err, MIG_ESAFETY, "the schema of the database does not hold "
			    "what %s requires", st->target.v[0]);
		mig_err_hint(err, "nothing was stamped; the differences are listed above");
		rc = MIG_ESAFETY;
	}
	return rc;
}

/* As Alembic's stamp: a recorded row on another branch than the target's
 * (neither an ancestor nor a descendant of a target revision) stays, so
 * stamping c1 at d1, d2 (d1 after c1) gives c1, d2.  Rows not in the graph
 * are what --force repairs, and go; stamping base removes every row. */
static void keep_other_branches(struct mig_stamp *st, const struct mig_graph *g,
				const struct mig_strv *rows, const size_t *target,
				size_t n)
{
	if (!n)
		return;
	/* two marks: each walk stops at what is marked already */
	bool *before = xcalloc(g->nrevs + 1, sizeof(*before));
	bool *after = xcalloc(g->nrevs + 1, sizeof(*after));
	mig_graph_mark_ancestors(g, target, n, before);
	mig_graph_mark_descendants(g, target, n, after);
	for (size_t i = 0; i < rows->n; i++) {
		size_t r = mig_graph_find(g, rows->v[i]);
		if (r != MIG_NONE && !before[r] && !after[r] &&
		    !strv_has(&st->target, rows->v[i]))
			strv_push(&st->target, rows->v[i]);
	}
	strv_sort(&st->target);
	free(before);
	free(after);
}

/* Inside the lock and the transaction: read, check, and (unless a dry run)
 * write.  The caller commits or rolls back.  The expected schema is only
 * built when there is something to stamp, so a re-run is always a no-op. */
static int stamp_locked(struct mig_stamp *st, const struct mig_stamp_opts *o,
			struct mig_db *db, const struct mig_graph *g,
			const struct mig_vt *vt, const size_t *target, size_t n,
			struct mig_err *err)
{
	struct mig_status s;
	double t0 = mig_now_ms();
	int rc = mig_status_read(db, g, vt, &s, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < s.current.n; i++)
		strv_push(&st->before, s.current.v[i]);
	keep_other_branches(st, g, &s.current, target, n);
	st->already = same_set(&s.current, &st->target) && (s.version_table || !st->target.n);
	if (!st->already)
		rc = refuse_state(st, &s, o, g, err);
	if (!rc && !st->already && s.tables.n)
		rc = check_if_asked(st, o, db, g, vt, target, n, err);
	if (!rc && !st->already && !o->dry_run)
		rc = write_rows(db, vt, s.version_table, &s.current, &st->target, err);
	if (!rc && !st->already && !o->dry_run)	/* in the stamp's transaction */
		rc = mig_history_record_stamp(db, vt, g, target, n, t0, err);
	mig_status_release(&s);
	return rc;
}

int mig_stamp_run(struct mig_stamp *st, const struct mig_stamp_opts *o,
		  struct mig_db *db, const struct mig_graph *g,
		  const struct mig_vt *vt, const size_t *target, size_t n,
		  struct mig_err *err)
{
	for (size_t i = 0; i < n; i++)
		strv_push(&st->target, g->revs[target[i]].id);
	strv_sort(&st->target);
	st->checked = "none";
	char *key = mig_vt_lock_key(vt);
	int rc = mig_db_lock(db, key, err);
	if (!rc) {
		rc = mig_db_begin(db, err);
		if (!rc)
			rc = stamp_locked(st, o, db, g, vt, target, n, err);
		if (!rc && !o->dry_run && !st->already)
			rc = mig_db_commit(db, err);
		else
			mig_db_rollback(db);
		mig_db_unlock(db, key);
	}
	bool exists;
	if (!rc)
		rc = mig_vt_read(db, vt, &exists, &st->after, err);
	free(key);
	return rc;
}
