/*
 * run.c: applying and reverting migrations on a live database, one
 * revision per transaction together with its version-table change, under
 * the migration lock; and printing the same work as SQL (--sql).
 */
#define _POSIX_C_SOURCE 200809L
#include "run.h"
#include "db.h"
#include "graph.h"
#include "history.h"
#include "progress.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "status.h"
#include "targets.h"
#include "url.h"
#include "version.h"

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
	if (goal->spec)
		return mig_target_plan(goal->spec, g, current, plan, err);
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

/*
 * The migration's sections for the direction, each followed by
 * mig_db_after_section: a migration must not release mig's lock, and one
 * migration's session settings must reach neither the next migration of
 * the run nor mig's own statements (a SET search_path in one would put the
 * next one's tables elsewhere, so a history would build one schema in one
 * run and another step by step).  The reset comes after the last section,
 * before the version row, in the step's transaction; mig itself sets
 * nothing on the session (its lock timeout is kept by the client), so the
 * defaults are its settings.  On PostgreSQL the reset and the last lock
 * check are one round trip.
 */
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
	size_t last = rev->nsections;
	for (size_t i = 0; i < rev->nsections; i++)
		if (section_runs(&rev->sections[i], upgrade, d))
			last = i;
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < rev->nsections; i++) {
		const struct mig_section *s = &rev->sections[i];
		if (!section_runs(s, upgrade, d))
			continue;
		rc = mig_db_exec_script(db, s->sql, rev->path, s->line, err);
		if (!rc)
			rc = mig_db_after_section(db, rev->path, s->line, i == last, err);
	}
	return rc;
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
 * The step's version-row change and, in the same transaction, its
 * mig_history row (a row exactly when the step happened).  A change of one
 * row (every step of a linear history) goes with the history row in one
 * statement on PostgreSQL: one round trip for the step's writes.
 */
static int write_step_rows(struct mig_db *db, const struct mig_vt *vt,
			   const struct mig_vt_change *c, const struct mig_rev *rev,
			   bool upgrade, double t0, struct mig_err *err)
{
	enum mig_history_direction dir = upgrade ? MIG_HISTORY_UP : MIG_HISTORY_DOWN;
	struct mig_vt_statement one;
	if (!mig_vt_change_statement(vt, c, &one)) {
		int rc = apply_vt_change(db, vt, c, err);
		return rc ? rc : mig_history_record(db, vt, rev, dir, t0, err);
	}
	long affected = 0;
	int rc = mig_history_record_with(db, vt, rev, dir, t0, &one, &affected, err);
	if (!rc)
		rc = mig_vt_check_one_row(vt, one.what, affected, err);
	mig_vt_statement_release(&one);
	return rc;
}

/*
 * In transaction lock mode no lock outlives a transaction, and a
 * non-transactional migration runs outside any: so a second connection
 * holds the lock in an open transaction for the whole migration, checks
 * that the rows are still those the step was planned from, and writes the
 * version row itself.  (Behind a transaction-pooling proxy its open
 * transaction keeps one server connection, and so the lock, for it.)
 * *guard is NULL, with MIG_OK, when the rows moved meanwhile: another
 * process ran the step, and the caller plans again.
 */
static int hold_lock(struct mig_db *db, const struct mig_vt *vt,
		     const struct mig_strv *heads, struct mig_db **guard,
		     struct mig_err *err)
{
	struct mig_db *g = NULL;
	int rc = mig_db_open_twin(db, &g, err);
	char *key = rc ? NULL : mig_vt_lock_key(vt);
	if (!rc)
		rc = mig_db_lock(g, key, err);
	if (!rc)
		rc = mig_db_begin(g, err);
	struct mig_strv now = MIG_STRV_INIT;
	bool exists = false;
	if (!rc)
		rc = mig_vt_read(g, vt, &exists, &now, err);
	if (!rc && now.n == heads->n) {
		bool same = true;
		for (size_t i = 0; i < now.n; i++)
			same = same && strv_has(heads, now.v[i]);
		if (same) {
			*guard = g;
			g = NULL;
		}
	}
	strv_release(&now);
	free(key);
	mig_db_close(g);	/* rolls back what is open */
	return rc;
}

/*
 * One step, inside the transaction the caller opened.  A non-transactional
 * migration (PostgreSQL's CREATE INDEX CONCURRENTLY) runs between two
 * transactions; the session's advisory lock keeps others out meanwhile, or
 * in transaction lock mode a second connection's (hold_lock).  *ran is
 * false when the step was found done by another process and not run.
 * The step's own connection commits with mig_db_commit_later, then
 * *later is true and the outcome is the caller's to read (settle): with
 * next_follows the COMMIT goes with the next step's first round trip, else
 * alone, now.  heads are the rows the step leaves once committed.
 */
static int run_step(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, bool vt_exists,
		    struct mig_strv *heads, const struct mig_step *step,
		    bool next_follows, bool *ran, bool *later, struct mig_err *err)
{
	const struct mig_rev *rev = &g->revs[step->rev];
	double t0 = mig_now_ms();
	int rc = vt_exists ? MIG_OK : mig_vt_create(db, vt, err);
	bool outside = !rev->transactional && mig_db_dialect(db) == MIG_POSTGRESQL;
	struct mig_db *guard = NULL;
	struct mig_db *writer = db;	/* where the version row is written */
	long long started = 0;		/* its "started" row in mig_history */
	*ran = true;
	if (!rc && outside) {
		rc = mig_db_commit(db, err);
		if (!rc && mig_db_locks_per_transaction(db)) {
			rc = hold_lock(db, vt, heads, &guard, err);
			if (!rc && !guard) {
				*ran = false;
				return MIG_OK;
			}
		}
		if (!rc)
			rc = mig_history_mark_started(db, vt, rev, step->upgrade ? MIG_HISTORY_UP
						      : MIG_HISTORY_DOWN, t0, &started, err);
		if (!rc)
			rc = run_sections(db, rev, step->upgrade, err);
		if (guard)
			writer = guard;
		else if (!rc)
			rc = mig_db_begin(db, err);
	} else if (!rc) {
		rc = run_sections(db, rev, step->upgrade, err);
	}
	struct mig_vt_change change;
	mig_step_vt_change(g, heads, step, &change);
	if (!rc)
		rc = write_step_rows(writer, vt, &change, rev, step->upgrade, t0, err);
	/* finished: with the version row, never apart; and a rerun the operator
	 * asked for settles the old marks of the revision, also when its file
	 * is transactional now */
	if (!rc && (started || vt->rerun_unfinished) && mig_history_enabled(vt))
		rc = mig_history_clear_started(writer, vt, started, vt->rerun_unfinished
					       ? rev->id : NULL, err);
	*later = !rc && writer == db;
	if (*later) {
		rc = mig_db_commit_later(db, err);
		/* its failure, recorded as the outcome, is settle's to report */
		if (!rc && !next_follows && mig_db_commit_outcome(db) == MIG_COMMIT_PENDING)
			(void)mig_db_commit(db, err);
		*later = !rc;
	} else if (!rc && (rc = mig_db_commit(writer, err))) {
		char *msg = xasprintf("%s: COMMIT failed: %s", rev->path, err->msg);
		mig_err_release(err);
		mig_err_set(err, rc, "%s", msg);
		free(msg);
	}
	if (!rc)
		mig_vt_change_apply(&change, heads);
	mig_vt_change_release(&change);
	mig_db_close(guard);
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
	struct mig_strv before;		/* the rows before this run's last step */
	unsigned long vt_oid;		/* the version table, once it exists */
	bool planned;
	/* The step at pos ran and its COMMIT waits for the next step's first
	 * round trip: not applied until that comes back (settle) */
	bool unsettled;
	double unsettled_t0;
	struct mig_strv unsettled_rows;	/* the rows it leaves once committed */
};

/* The version table is looked up in its resolved schema (one catalog
 * lookup, not a listing) and must still be the object this run saw. */
static int read_vt(struct run *r, bool *vt_exists, struct mig_strv *rows,
		   struct mig_err *err)
{
	unsigned long oid = 0;
	bool read = r->vt_oid != 0;	/* a table seen before: rows and OID at once */
	int rc = read ? mig_vt_read_known(r->db, r->vt, r->vt_oid, &oid, rows, err)
		      : mig_db_table_oid(r->db, r->vt->resolved_schema, r->vt->table,
					 &oid, err);
	if (!rc && r->vt_oid && oid != r->vt_oid) {
		struct mig_buf qt = MIG_BUF_INIT;
		mig_quote_qualified(&qt, r->vt->resolved_schema, r->vt->table);
		rc = mig_err_set(err, MIG_EDB, "the version table %s was %s during "
				 "this run; stopped", buf_str(&qt),
				 oid ? "dropped and created again" : "dropped");
		mig_err_hint(err, "check the database with mig-status before going on");
		buf_release(&qt);
	}
	*vt_exists = !rc && oid;
	if (!rc && oid) {
		r->vt_oid = oid;
		if (!read)
			rc = mig_vt_read_rows(r->db, r->vt, rows, err);
	}
	return rc;
}

/* Rows that are not what this run left: another process moved them, or
 * the database lost this run's last commit (then going on would apply
 * that step again, and again). */
static int rows_moved(struct run *r, const struct mig_strv *rows, struct mig_err *err)
{
	if (!r->pos)	/* no step of this run committed yet */
		return MIG_OK;
	const struct mig_step *last = &r->plan.steps[r->pos - 1];
	char *ids = strv_join(rows, ", ");
	int rc = MIG_OK;
	if (same_rows(rows, &r->before) && !same_rows(&r->before, &r->expected)) {
		rc = mig_err_set(err, MIG_EDB, "the version table reads %s again, as "
				 "before this run's %s of %s was committed: the database "
				 "did not keep that commit, or another process undid it; "
				 "stopped rather than run it twice", rows->n ? ids : "base",
				 last->upgrade ? "upgrade" : "downgrade",
				 r->g->revs[last->rev].id);
		mig_err_hint(err, "check that the database keeps what is committed to "
			     "it (a SQLite file on a device or file system that drops "
			     "writes, a server that failed over to a lagging standby), "
			     "then check it with mig-status");
	} else if (r->goal->steps > 0) {
		rc = mig_err_set(err, MIG_ESAFETY, "after reverting %zu of %zu "
				 "revisions, another process changed the version table "
				 "to %s; stopped", r->pos, r->plan.nsteps,
				 rows->n ? ids : "base");
		mig_err_hint(err, "the revisions reverted so far stay reverted; check "
			     "with mig-status before going on");
	}
	free(ids);
	return rc;
}

/* "FILE lines A-B, C-D": where the statements of rev's sections for a
 * direction are, for a message. */
static char *section_lines(const struct mig_rev *rev, bool upgrade, enum mig_dialect d)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, rev->path);
	const char *sep = " lines ";
	for (size_t i = 0; i < rev->nsections; i++) {
		const struct mig_section *s = &rev->sections[i];
		if (!section_runs(s, upgrade, d))
			continue;
		size_t end = strlen(s->sql);
		while (end > 0 && strchr(" \t\r\n\f\v", s->sql[end - 1]))
			end--;
		buf_printf(&b, "%s%d-%d", sep, s->line,
			   mig_sql_line(s->sql, end, s->line));
		sep = ", ";
	}
	return buf_detach(&b);
}

/*
 * A transactional: false step that a run started and did not finish (it
 * was killed, or lost its connection) left its "started" row: some of its
 * statements may have run, each committed on its own, and running it again
 * would run those twice.  Refused until the operator has looked, unless
 * --rerun-unfinished says they have.  Read under the lock, so a step that
 * another run is still inside is never seen here.
 */
static int refuse_unfinished(struct run *r, struct mig_err *err)
{
	struct mig_rows u = MIG_ROWS_INIT;
	int rc = mig_history_unfinished(r->db, r->vt, &u, err);
	if (rc || !u.nrows || r->vt->rerun_unfinished) {
		mig_rows_release(&u);
		return rc;
	}
	const char *id = mig_rows_cell(&u, 0, 0);
	const char *dir = mig_rows_cell(&u, 0, 1);
	const char *when = mig_rows_cell(&u, 0, 2);
	const char *user = mig_rows_cell(&u, 0, 3);
	const char *host = mig_rows_cell(&u, 0, 4);
	bool up = !dir || strcmp(dir, "down") != 0;
	size_t k = id ? mig_graph_find(r->g, id) : MIG_NONE;
	char *where = k == MIG_NONE ? xstrdup("a file not in this migrations folder")
			: section_lines(&r->g->revs[k], up, mig_db_dialect(r->db));
	mig_err_set(err, MIG_ESAFETY, "the %s of %s was started at %s by %s@%s and "
		    "did not finish (that run failed in it, was killed, or lost its "
		    "connection): it is "
		    "transactional: false, so any of its statements (%s) may have run, "
		    "each committed on its own, and the version table does not record "
		    "it; stopped rather than run them again", up ? "upgrade" : "downgrade",
		    id ? id : "?", when ? when : "?", user ? user : "?", host ? host : "?",
		    where);
	mig_err_hint(err, "check what of it the database holds.  If all of it "
		     "ran, record it with: mig-stamp --force %s (and -d, -m as here).  "
		     "Otherwise undo what ran, or make sure running it again is "
		     "harmless, and run again with --rerun-unfinished", id ? id : "REV");
	free(where);
	mig_rows_release(&u);
	return MIG_ESAFETY;
}

/* The step at pos is committed: its "applied" line, its summary row, the
 * rows this run left. */
static void step_applied(struct run *r)
{
	const struct mig_step *step = &r->plan.steps[r->pos];
	const struct mig_rev *rev = &r->g->revs[step->rev];
	double ms = mig_now_ms() - r->unsettled_t0;
	r->unsettled = false;
	mig_progress_step_done(&r->db->opts, step->upgrade, r->pos + 1,
			       r->plan.nsteps, rev, ms);
	if (r->hooks && r->hooks->step_done)
		r->hooks->step_done(r->hooks->ctx, r->g, step, ms);
	strv_release(&r->expected);
	r->expected = r->unsettled_rows;
	r->unsettled_rows = (struct mig_strv)MIG_STRV_INIT;
	r->pos++;
}

/*
 * The step whose COMMIT went with this transaction's first round trip
 * counts as applied only now that the server's answer to it came back.  A
 * COMMIT that failed (a deferred constraint) is that step's failure, and
 * nothing after it runs; one whose answer never came is said to be
 * unknown.  Called with the result of the first round trip, rc, and again
 * later (it does nothing then); returns rc or the step's failure.
 */
static int settle(struct run *r, int rc, struct mig_err *err)
{
	enum mig_commit_outcome o = mig_db_commit_outcome(r->db);
	if (!r->unsettled || o == MIG_COMMIT_PENDING)
		return rc;
	const struct mig_step *step = &r->plan.steps[r->pos];
	const struct mig_rev *rev = &r->g->revs[step->rev];
	if (o != MIG_COMMIT_DONE) {
		r->unsettled = false;
		char *was = strv_join(&r->before, ", ");
		char *msg = xasprintf("%s: %s", rev->path, err->msg ? err->msg : "COMMIT failed");
		mig_err_release(err);
		mig_err_set(err, MIG_EDB, "%s", msg);
		if (o == MIG_COMMIT_FAILED)
			mig_err_hint(err, "the server answered the COMMIT of the %s "
				     "of %s with an error and rolled it back; the "
				     "database is still at %s",
				     step->upgrade ? "upgrade" : "downgrade", rev->id,
				     r->before.n ? was : "base");
		else
			mig_err_hint(err, "whether the %s of %s was committed is not "
				     "known; check with mig-status before going on",
				     step->upgrade ? "upgrade" : "downgrade", rev->id);
		free(msg);
		free(was);
		return MIG_EDB;
	}
	step_applied(r);
	return rc;
}

/* Reads the rows inside the open transaction; plans when they moved. */
static int check_rows(struct run *r, bool *vt_exists, struct mig_strv *rows,
		      struct mig_err *err)
{
	/* in transaction lock mode the BEGIN took the lock, and the last
	 * step's COMMIT went with it */
	int rc = settle(r, MIG_OK, err);
	if (rc)
		return rc;
	/* under a session lock once per run; per transaction, in each */
	if ((!r->planned || mig_db_locks_per_transaction(r->db)) &&
	    !r->goal->history_private && (rc = refuse_unfinished(r, err)))
		return rc;
	if (!r->planned) {
		struct mig_status st;
		rc = mig_status_read_migratable(r->db, r->g, r->vt, &st, err);
		if (!rc)
			rc = mig_check_migratable(&st, r->g, err);
		*vt_exists = st.version_table;
		for (size_t i = 0; i < st.current.n; i++)
			strv_push(rows, st.current.v[i]);
		mig_status_release(&st);
	} else {
		rc = settle(r, read_vt(r, vt_exists, rows, err), err);
	}
	if (rc || (r->planned && same_rows(rows, &r->expected)))
		return rc;
	if (r->planned && (rc = rows_moved(r, rows, err)))
		return rc;
	if (r->planned && r->hooks && r->hooks->replanned)
		r->hooks->replanned(r->hooks->ctx, &r->expected, rows);
	mig_plan_release(&r->plan);
	r->pos = 0;
	rc = mig_plan_goal(r->g, rows, r->goal, &r->plan, err);
	for (size_t i = 0; !rc && i < r->plan.nsteps; i++)	/* before anything runs */
		if (r->g->revs[r->plan.steps[i].rev].kind != MIG_REV_SQL)
			rc = run_sections(r->db, &r->g->revs[r->plan.steps[i].rev], true, err);
	if (!rc && !r->planned && r->hooks && r->hooks->planned)
		r->hooks->planned(r->hooks->ctx, r->g, rows, &r->plan);
	r->planned = true;
	strv_release(&r->expected);	/* the rows the plan starts from */
	for (size_t i = 0; i < rows->n; i++)
		strv_push(&r->expected, rows->v[i]);
	return rc;
}

/* What the version table records now, for a message: its rows, "base",
 * or that it cannot be read; read outside the step, which may be gone. */
static char *records_now(const struct run *r)
{
	struct mig_strv now = MIG_STRV_INIT;
	bool exists = false;
	struct mig_err ignored = MIG_ERR_INIT;
	bool known = !mig_vt_read(r->db, r->vt, &exists, &now, &ignored);
	mig_err_release(&ignored);
	char *records = !known ? xstrdup("cannot be read now")
			: now.n ? strv_join(&now, ", ") : xstrdup("base");
	strv_release(&now);
	return records;
}

/* What stayed of a step whose section began or ended a transaction:
 * mig_db_exec_script refused it, and the caller has rolled back what was
 * still open.  Says it from the rows read now, outside any transaction. */
static void explain_escape(const struct run *r, const struct mig_step *step,
			   bool outside, struct mig_err *err)
{
	int line;
	enum mig_tx_change change = mig_db_tx_change(r->db, &line);
	bool stopped = mig_db_stops_at_tx_change(r->db);
	const char *id = r->g->revs[step->rev].id;
	char *records = records_now(r);
	if (change == MIG_TX_BEGAN || outside) {
		mig_err_hint(err, "a transactional: false section must end every "
			     "transaction it begins; the one it left open was rolled "
			     "back with what ran in it, and what %s ran before that "
			     "statement stays; the version table records %s, without %s",
			     id, records, id);
	} else {
		bool nothing = change == MIG_TX_ROLLED_BACK && stopped;
		mig_err_hint(err, "BEGIN, COMMIT and ROLLBACK do not belong in a "
			     "transactional section: mig runs each migration in one "
			     "transaction with its version row.  What %s ran before "
			     "that statement was %s by it; %s  The version table "
			     "records %s, without %s%s", id,
			     change == MIG_TX_ROLLED_BACK ? "rolled back" : "committed",
			     stopped ? "nothing after it ran."
				     : "the statements after it in that section ran "
				       "outside mig's transaction, and stay.",
			     records, id, nothing ? "; nothing of the step stays."
			     : ": undo by hand what stays, remove the statement, "
			       "and run again.");
	}
	free(records);
}

/* A section released the migration lock: mig_db_exec_script refused it,
 * and the caller has rolled back what was open.  Another deploy may have
 * gone ahead meanwhile, so the rows are read now, not taken from before. */
static void explain_lost_lock(const struct run *r, const struct mig_step *step,
			      bool outside, struct mig_err *err)
{
	const char *id = r->g->revs[step->rev].id;
	char *records = records_now(r);
	if (outside)
		mig_err_hint(err, "%s is transactional: false, so its statements up "
			     "to that one ran and stay; the version table records "
			     "%s now.  A migration must not release mig's lock: "
			     "remove the statement, check with mig-status, and undo "
			     "by hand what stays before running again", id, records);
	else
		mig_err_hint(err, "the %s of %s was rolled back; the version table "
			     "records %s now.  A migration must not release mig's "
			     "lock: remove the statement and run again",
			     step->upgrade ? "upgrade" : "downgrade", id, records);
	free(records);
}

static void explain_rollback(const struct run *r, const struct mig_step *step,
			     const struct mig_strv *rows, struct mig_err *err)
{
	if (err->hint || err->code != MIG_EDB)
		return;
	const struct mig_rev *rev = &r->g->revs[step->rev];
	char *ids = strv_join(rows, ", ");
	if (!rev->transactional && mig_db_dialect(r->db) == MIG_POSTGRESQL)
		mig_err_hint(err, "%s is transactional: false: each of its statements "
			     "ran on its own, so those before the failing one stay "
			     "(its earlier sections whole); the version table still "
			     "records %s, without %s", rev->id, rows->n ? ids : "base",
			     rev->id);
	else
		mig_err_hint(err, "%s of %s was rolled back; the database is still at %s",
			     step->upgrade ? "the upgrade" : "the downgrade",
			     rev->id, rows->n ? ids : "base");
	free(ids);
}

/* After the last step: the lock is still held, so rows that differ now
 * mean a lost commit, or a process that does not take the lock; the
 * latter is reported, and this run's own work stands. */
static int check_kept(struct run *r, struct mig_err *err)
{
	if (!r->pos)
		return MIG_OK;
	bool vt_exists = false;
	struct mig_strv rows = MIG_STRV_INIT;
	int rc = read_vt(r, &vt_exists, &rows, err);
	if (!rc && !same_rows(&rows, &r->expected)) {
		if (same_rows(&rows, &r->before))
			rc = rows_moved(r, &rows, err);
		else if (r->hooks && r->hooks->moved_after)
			r->hooks->moved_after(r->hooks->ctx, &rows);
	}
	strv_release(&rows);
	return rc;
}

static int run_loop(struct run *r, struct mig_err *err)
{
	/* Once the plan is done, this run's own steps are committed: a change
	 * another process makes afterwards is not this run's to check. */
	while (!r->planned || r->pos < r->plan.nsteps) {
		bool vt_exists = false;
		struct mig_strv rows = MIG_STRV_INIT;
		int rc = mig_db_begin(r->db, err);
		if (!rc)
			rc = check_rows(r, &vt_exists, &rows, err);
		rc = settle(r, rc, err);
		if (rc || r->pos == r->plan.nsteps) {
			mig_db_rollback(r->db);
			strv_release(&rows);
			return rc;
		}
		const struct mig_step *step = &r->plan.steps[r->pos];
		const struct mig_rev *rev = &r->g->revs[step->rev];
		bool outside = !rev->transactional && mig_db_dialect(r->db) == MIG_POSTGRESQL;
		double t0 = mig_now_ms();
		strv_release(&r->before);
		for (size_t i = 0; i < rows.n; i++)
			strv_push(&r->before, rows.v[i]);
		mig_progress_step_start(&r->db->opts, step->upgrade, r->pos + 1,
					r->plan.nsteps, rev);
		bool ran = true, later = false;
		/* the last step of the plan commits at once: no step follows */
		rc = run_step(r->db, r->g, r->vt, vt_exists, &rows, step,
			      r->pos + 1 < r->plan.nsteps, &ran, &later, err);
		if (!rc && !ran) {	/* another process ran it: plan again */
			strv_release(&rows);
			continue;
		}
		if (rc) {
			int line;
			bool escaped = mig_db_tx_change(r->db, &line) != MIG_TX_SAME;
			mig_db_rollback(r->db);
			if (mig_db_lock_lost(r->db))
				explain_lost_lock(r, step, outside, err);
			else if (escaped)
				explain_escape(r, step, outside, err);
			else
				explain_rollback(r, step, &rows, err);
			strv_release(&rows);
			return rc;
		}
		r->unsettled = true;
		r->unsettled_t0 = t0;
		strv_release(&r->unsettled_rows);
		r->unsettled_rows = rows;
		if (!later)	/* committed by run_step's second connection */
			step_applied(r);
		else if ((rc = settle(r, MIG_OK, err)))	/* where it was sent already */
			return rc;
	}
	return check_kept(r, err);
}

int mig_run(struct mig_db *db, const struct mig_graph *g,
	    const struct mig_vt *vt, const struct mig_goal *goal,
	    const struct mig_run_hooks *hooks, struct mig_err *err)
{
	int rc = mig_graph_require_usable(g, err);
	if (rc)
		return rc;
	/* A caller without a session resolves the version table here. */
	struct mig_vt local = { .schema = vt->schema, .table = vt->table,
				.no_history = vt->no_history };
	if (!vt->resolved_schema) {
		rc = mig_vt_resolve(db, &local, err);
		if (rc)
			return rc;
		vt = &local;
	}
	char *key = mig_vt_lock_key(vt);
	rc = mig_db_lock(db, key, err);
	if (rc) {
		free(key);
		mig_vt_release(&local);
		return rc;
	}
	struct run r = { db, g, vt, goal, hooks, { NULL, 0 }, 0, MIG_STRV_INIT,
			 MIG_STRV_INIT, 0, false, false, 0, MIG_STRV_INIT };
	rc = run_loop(&r, err);
	mig_db_unlock(db, key);
	mig_plan_release(&r.plan);
	strv_release(&r.expected);
	strv_release(&r.before);
	strv_release(&r.unsettled_rows);
	free(key);
	mig_vt_release(&local);
	return rc;
}

/* ---- --sql ----------------------------------------------------------------- */

static void change_sql(struct mig_buf *out, const struct mig_vt *vt,
		       const struct mig_vt_change *c)
{
	struct mig_buf qt = MIG_BUF_INIT;
	mig_quote_qualified(&qt, vt->schema, vt->table);
	for (size_t i = 0; i < c->del.n; i++) {
		buf_printf(out, "DELETE FROM %s WHERE version_num = ", buf_str(&qt));
		mig_quote_literal(out, c->del.v[i]);
		buf_puts(out, ";\n\n");
	}
	if (c->upd_from) {
		buf_printf(out, "UPDATE %s SET version_num = ", buf_str(&qt));
		mig_quote_literal(out, c->upd_to);
		buf_puts(out, " WHERE version_num = ");
		mig_quote_literal(out, c->upd_from);
		buf_puts(out, ";\n\n");
	}
	for (size_t i = 0; i < c->ins.n; i++) {
		buf_printf(out, "INSERT INTO %s (version_num) VALUES (", buf_str(&qt));
		mig_quote_literal(out, c->ins.v[i]);
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
	if (!vt_exists && plan->nsteps) {
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
	/* As Alembic's --sql: a script that ends at base leaves no version table */
	if (plan->nsteps && !plan->steps[plan->nsteps - 1].upgrade && !heads.n) {
		struct mig_buf qt = MIG_BUF_INIT;
		mig_quote_qualified(&qt, vt->schema, vt->table);
		buf_printf(out, "DROP TABLE %s;\n\n", buf_str(&qt));
		buf_release(&qt);
	}
	strv_release(&heads);
}
