/*
 * run.c: applying and reverting migrations on a live database, one
 * revision per transaction together with its version-table change, under
 * the migration lock; and printing the same work as SQL (--sql).
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "history.h"

#include <stdlib.h>
#include <string.h>

int mig_plan_goal(const struct mig_graph *g, const struct mig_strv *current,
		  const struct mig_goal *goal, struct mig_plan *plan,
		  struct mig_err *err)
{
	if (goal->only != MIG_NONE) {
		memset(plan, 0, sizeof(*plan));
		plan->steps = xmalloc(sizeof(*plan->steps));
		plan->steps[0].rev = goal->only;
		plan->steps[0].upgrade = goal->upgrade;
		plan->nsteps = 1;
		return MIG_OK;
	}
	if (goal->upgrade)
		return mig_plan_upgrade(g, current, goal->target, goal->ntarget,
					plan, err);
	if (goal->steps > 0)
		return mig_plan_downgrade_steps(g, current, goal->steps, plan, err);
	return mig_plan_downgrade(g, current, goal->target, goal->ntarget, plan, err);
}

static bool same_rows(const struct mig_strv *a, const struct mig_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!strv_has(b, a->v[i]))
			return false;
	return true;
}

static bool section_runs(const struct mig_section *s, bool upgrade,
			 enum mig_dialect d)
{
	return s->upgrade == upgrade && (s->dialect == MIG_DIALECT_ANY || s->dialect == d)
	       && s->sql && *mig_sql_skip_trivia(s->sql);
}

static int run_sections(struct mig_db *db, const struct mig_rev *rev, bool upgrade,
			struct mig_err *err)
{
	if (rev->kind != MIG_REV_SQL) {
		mig_err_set(err, MIG_EINPUT, "%s: an Alembic Python script cannot be "
			    "run by mig; it is read for the revision graph only", rev->path);
		return mig_err_hint(err, "run it with alembic, or rewrite it as a .sql "
				    "migration");
	}
	enum mig_dialect d = mig_db_dialect(db);
	for (size_t i = 0; i < rev->nsections; i++) {
		const struct mig_section *s = &rev->sections[i];
		if (!section_runs(s, upgrade, d))
			continue;
		int rc = mig_db_exec_script(db, s->sql, rev->path, s->line, err);
		if (rc)
			return rc;
	}
	return MIG_OK;
}

static int apply_vt_change(struct mig_db *db, const struct mig_vt *vt,
			   const struct mig_vt_change *c, struct mig_err *err)
{
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < c->del.n; i++)
		rc = mig_vt_delete(db, vt, c->del.v[i], err);
	if (!rc && c->upd_from)
		rc = mig_vt_update(db, vt, c->upd_from, c->upd_to, err);
	for (size_t i = 0; !rc && i < c->ins.n; i++)
		rc = mig_vt_insert(db, vt, c->ins.v[i], err);
	return rc;
}

/*
 * One step, inside the transaction the caller opened.  A non-transactional
 * migration (PostgreSQL's CREATE INDEX CONCURRENTLY) runs between two
 * transactions; the session's advisory lock keeps others out meanwhile.
 */
static int run_step(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, bool vt_exists,
		    struct mig_strv *heads, const struct mig_step *step,
		    struct mig_err *err)
{
	const struct mig_rev *rev = &g->revs[step->rev];
	double t0 = mig_now_ms();
	int rc = vt_exists ? MIG_OK : mig_vt_create(db, vt, err);
	bool outside = !rev->transactional && mig_db_dialect(db) == MIG_POSTGRESQL;
	if (!rc && outside) {
		rc = mig_db_commit(db, err);
		if (!rc)
			rc = run_sections(db, rev, step->upgrade, err);
		if (!rc)
			rc = mig_db_begin(db, err);
	} else if (!rc) {
		rc = run_sections(db, rev, step->upgrade, err);
	}
	struct mig_vt_change change;
	mig_step_vt_change(g, heads, step, &change);
	if (!rc)
		rc = apply_vt_change(db, vt, &change, err);
	if (!rc)	/* in the same transaction: a row exactly when the step happened */
		rc = mig_history_record(db, vt, rev, step->upgrade ? MIG_HISTORY_UP
					: MIG_HISTORY_DOWN, t0, err);
	if (!rc)
		rc = mig_db_commit(db, err);
	if (!rc)
		mig_vt_change_apply(&change, heads);
	mig_vt_change_release(&change);
	return rc;
}

struct run {
	struct mig_db *db;
	const struct mig_graph *g;
	const struct mig_vt *vt;
	const struct mig_goal *goal;
	const struct mig_run_hooks *hooks;
	struct mig_plan plan;
	size_t pos;
	struct mig_strv expected;	/* the rows this run left */
	bool planned;
};

/* Reads the rows inside the open transaction; plans when they moved. */
static int check_rows(struct run *r, bool *vt_exists, struct mig_strv *rows,
		      struct mig_err *err)
{
	int rc;
	if (!r->planned) {
		struct mig_status st;
		rc = mig_status_read(r->db, r->g, r->vt, &st, err);
		if (!rc)
			rc = mig_check_migratable(&st, r->g, err);
		*vt_exists = st.version_table;
		for (size_t i = 0; i < st.current.n; i++)
			strv_push(rows, st.current.v[i]);
		mig_status_release(&st);
	} else {
		rc = mig_vt_read(r->db, r->vt, vt_exists, rows, err);
	}
	if (rc || (r->planned && same_rows(rows, &r->expected)))
		return rc;
	if (r->planned && r->goal->steps > 0) {
		mig_err_set(err, MIG_ESAFETY, "another process changed the version "
			    "table during this downgrade; stopped");
		return mig_err_hint(err, "check with mig-status before going on");
	}
	if (r->planned && r->hooks && r->hooks->replanned)
		r->hooks->replanned(r->hooks->ctx, rows);
	mig_plan_release(&r->plan);
	r->pos = 0;
	rc = mig_plan_goal(r->g, rows, r->goal, &r->plan, err);
	for (size_t i = 0; !rc && i < r->plan.nsteps; i++)	/* before anything runs */
		if (r->g->revs[r->plan.steps[i].rev].kind != MIG_REV_SQL)
			rc = run_sections(r->db, &r->g->revs[r->plan.steps[i].rev], true, err);
	if (!rc && !r->planned && r->hooks && r->hooks->planned)
		r->hooks->planned(r->hooks->ctx, r->g, rows, &r->plan);
	r->planned = true;
	return rc;
}

static void explain_rollback(const struct run *r, const struct mig_step *step,
			     const struct mig_strv *rows, struct mig_err *err)
{
	if (err->hint || err->code != MIG_EDB)
		return;
	char *ids = strv_join(rows, ", ");
	mig_err_hint(err, "%s of %s was rolled back; the database is still at %s",
		     step->upgrade ? "the upgrade" : "the downgrade",
		     r->g->revs[step->rev].id, rows->n ? ids : "base");
	free(ids);
}

static int run_loop(struct run *r, struct mig_err *err)
{
	for (;;) {
		bool vt_exists = false;
		struct mig_strv rows = MIG_STRV_INIT;
		int rc = mig_db_begin(r->db, err);
		if (!rc)
			rc = check_rows(r, &vt_exists, &rows, err);
		if (rc || r->pos == r->plan.nsteps) {
			mig_db_rollback(r->db);
			strv_release(&rows);
			return rc;
		}
		const struct mig_step *step = &r->plan.steps[r->pos];
		double t0 = mig_now_ms();
		rc = run_step(r->db, r->g, r->vt, vt_exists, &rows, step, err);
		if (rc) {
			mig_db_rollback(r->db);
			explain_rollback(r, step, &rows, err);
			strv_release(&rows);
			return rc;
		}
		if (r->hooks && r->hooks->step_done)
			r->hooks->step_done(r->hooks->ctx, r->g, step, mig_now_ms() - t0);
		strv_release(&r->expected);
		r->expected = rows;
		r->pos++;
	}
}

int mig_run(struct mig_db *db, const struct mig_graph *g,
	    const struct mig_vt *vt, const struct mig_goal *goal,
	    const struct mig_run_hooks *hooks, struct mig_err *err)
{
	int rc = mig_graph_require_usable(g, err);
	if (rc)
		return rc;
	char *key = xasprintf("mig:%s.%s", vt->schema ? vt->schema : "", vt->table);
	rc = mig_db_lock(db, key, err);
	if (rc) {
		free(key);
		return rc;
	}
	struct run r = { db, g, vt, goal, hooks, { NULL, 0 }, 0, MIG_STRV_INIT, false };
	rc = run_loop(&r, err);
	mig_db_unlock(db, key);
	mig_plan_release(&r.plan);
	strv_release(&r.expected);
	free(key);
	return rc;
}

/* ---- --sql ----------------------------------------------------------------- */

static void sql_literal(struct mig_buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

static void change_sql(struct mig_buf *out, const struct mig_vt *vt,
		       const struct mig_vt_change *c)
{
	struct mig_buf qt = MIG_BUF_INIT;
	mig_quote_qualified(&qt, vt->schema, vt->table);
	for (size_t i = 0; i < c->del.n; i++) {
		buf_printf(out, "DELETE FROM %s WHERE version_num = ", buf_str(&qt));
		sql_literal(out, c->del.v[i]);
		buf_puts(out, ";\n\n");
	}
	if (c->upd_from) {
		buf_printf(out, "UPDATE %s SET version_num = ", buf_str(&qt));
		sql_literal(out, c->upd_to);
		buf_puts(out, " WHERE version_num = ");
		sql_literal(out, c->upd_from);
		buf_puts(out, ";\n\n");
	}
	for (size_t i = 0; i < c->ins.n; i++) {
		buf_printf(out, "INSERT INTO %s (version_num) VALUES (", buf_str(&qt));
		sql_literal(out, c->ins.v[i]);
		buf_puts(out, ");\n\n");
	}
	buf_release(&qt);
}

void mig_plan_sql(struct mig_buf *out, const struct mig_graph *g,
		  const struct mig_vt *vt, enum mig_dialect dialect,
		  const struct mig_strv *current, bool vt_exists,
		  const struct mig_plan *plan)
{
	struct mig_strv heads = MIG_STRV_INIT;
	for (size_t i = 0; i < current->n; i++)
		strv_push(&heads, current->v[i]);
	if (!vt_exists) {
		mig_vt_create_sql(out, vt);
		buf_puts(out, ";\n\n");
	}
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct mig_step *st = &plan->steps[i];
		const struct mig_rev *rev = &g->revs[st->rev];
		bool tx = rev->transactional || dialect != MIG_POSTGRESQL;
		buf_printf(out, "-- Running %s %s (%s)\n", st->upgrade ? "upgrade" : "downgrade",
			   rev->id, rev->path);
		if (tx)
			buf_puts(out, "BEGIN;\n\n");
		for (size_t s = 0; s < rev->nsections; s++) {
			if (!section_runs(&rev->sections[s], st->upgrade, dialect))
				continue;
			buf_puts(out, rev->sections[s].sql);
			buf_puts(out, "\n");
		}
		if (!tx)
			buf_puts(out, "BEGIN;\n\n");
		struct mig_vt_change c;
		mig_step_vt_change(g, &heads, st, &c);
		change_sql(out, vt, &c);
		mig_vt_change_apply(&c, &heads);
		mig_vt_change_release(&c);
		buf_puts(out, "COMMIT;\n\n");
	}
	strv_release(&heads);
}
