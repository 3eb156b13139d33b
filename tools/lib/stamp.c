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
#include "origins.h"
#include "run.h"
#include "schema.h"
#include "spec.h"
#include "status.h"
#include "targets.h"
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

/* mig_replay, recording into origins (when not NULL) where each object
 * was made; origins must outlive *out. */
static int replay(const struct mig_graph *g, const size_t *target, size_t n,
		  struct mig_origins *origins, struct mig_db **out, struct mig_err *err)
{
	struct mig_db *mem = NULL;
	struct mig_connect_opts o = { .create = true, .lock_timeout = -1, .scratch = true };
	int rc = mig_db_open(&mem, "sqlite://", &o, err);
	if (!rc && origins)
		mig_db_track_origins(mem, origins);
	struct mig_vt vt = { .table = MIG_DEFAULT_VERSION_TABLE, .no_history = true };	/* thrown away */
	struct mig_goal goal = { .upgrade = true, .target = target, .ntarget = n, .only = MIG_NONE };
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

int mig_replay(const struct mig_graph *g, const size_t *target, size_t n,
	       struct mig_db **out, struct mig_err *err)
{
	return replay(g, target, n, NULL, out, err);
}

/* Replays the migrations up to target into an in-memory SQLite; each
 * object of the model knows the migration line that made it, for the
 * findings about it (origins.h). */
static int expected_schema(const struct mig_graph *g, const size_t *target, size_t n,
			   struct mig_schema *out, struct mig_err *err)
{
	int rc = replayable(g, target, n, err);
	struct mig_db *mem = NULL;
	struct mig_origins origins;
	mig_origins_init(&origins);
	if (!rc)
		rc = replay(g, target, n, &origins, &mem, err);
	if (!rc)
		rc = mig_db_introspect(mem, NULL, MIG_DEFAULT_VERSION_TABLE, out, err);
	if (!rc)
		mig_origins_apply(&origins, out);
	mig_db_close(mem);
	mig_origins_release(&origins);
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
		rc = mig_db_introspect(db, vt->app_schema, skip, &live, err);
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
	bool force = o->force || o->purge;	/* --purge: replace the record */
	if (s->unknown.n && !force) {
		mig_err_set(err, MIG_ESAFETY, "the database is at '%s', which is not in "
			    "%s/versions", rows, g->dir);
		mig_err_hint(err, "a migration was deleted or is not pulled yet; once you "
			     "have checked the schema, repair the record with "
			     "mig-stamp --force %s", st->target.n ? want : "base");
		rc = MIG_ESAFETY;
	} else if (s->current.n && !force) {
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

/* Inside the lock and the transaction: read, check, and (unless a dry run)
 * write.  The caller commits or rolls back.  The expected schema is only
 * built when there is something to stamp, so a re-run is always a no-op. */
static int stamp_locked(struct mig_stamp *st, const struct mig_stamp_opts *o,
			struct mig_db *db, const struct mig_graph *g,
			const struct mig_vt *vt, char *const *specs, size_t nspecs,
			struct mig_err *err)
{
	struct mig_status s;
	double t0 = mig_now_ms();
	int rc = mig_status_read(db, g, vt, &s, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < s.current.n; i++)
		strv_push(&st->before, s.current.v[i]);
	rc = mig_target_stamp_rows(g, &s.current, specs, nspecs, o->purge, &st->target, err);
	/* a revision the graph does not have is refused, as DESIGN.md says */
	if (rc && err->msg && strstr(err->msg, "is not a revision"))
		err->code = rc = MIG_ESAFETY;
	size_t n = 0;
	size_t *target = xmalloc((st->target.n + 1) * sizeof(*target));
	for (size_t i = 0; !rc && i < st->target.n; i++)
		target[n++] = mig_graph_find(g, st->target.v[i]);
	strv_sort(&st->target);
	st->already = !rc && same_set(&s.current, &st->target) &&
		      (s.version_table || !st->target.n);
	if (!rc && !st->already)
		rc = refuse_state(st, &s, o, g, err);
	if (!rc && !st->already && s.tables.n)
		rc = check_if_asked(st, o, db, g, vt, target, n, err);
	if (!rc && !st->already && !o->dry_run)
		rc = write_rows(db, vt, s.version_table, &s.current, &st->target, err);
	if (!rc && !st->already && !o->dry_run)	/* in the stamp's transaction */
		rc = mig_history_record_stamp(db, vt, g, target, n, t0, err);
	free(target);
	mig_status_release(&s);
	return rc;
}

int mig_stamp_run(struct mig_stamp *st, const struct mig_stamp_opts *o,
		  struct mig_db *db, const struct mig_graph *g,
		  const struct mig_vt *vt, char *const *specs, size_t nspecs,
		  struct mig_err *err)
{
	st->checked = "none";
	char *key = mig_vt_lock_key(vt);
	int rc = mig_db_lock(db, key, err);
	if (!rc) {
		rc = mig_db_begin(db, err);
		if (!rc)
			rc = stamp_locked(st, o, db, g, vt, specs, nspecs, err);
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
