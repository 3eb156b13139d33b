/*
 * report.c: what mig-upgrade and mig-downgrade print while they move a
 * database: a line per revision as it is committed, then where the
 * database ended up (text, or one JSON document), and the GitHub Actions
 * step output.  Also their --sql mode.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"
#include "cli.h"
#include "db.h"
#include "graph.h"
#include "json.h"
#include "mig.h"
#include "migfile.h"
#include "offline.h"
#include "out.h"
#include "plan.h"
#include "run.h"
#include "session.h"
#include "status.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

static bool chatty(const struct mig_run_report *r)
{
	return r->c->format == MIG_FORMAT_TEXT && r->c->verbosity >= 0;
}

static void on_planned(void *ctx, const struct mig_graph *g,
		       const struct mig_strv *heads, const struct mig_plan *p)
{
	struct mig_run_report *r = ctx;
	(void)g;
	for (size_t i = 0; i < heads->n; i++)
		strv_push(&r->from, heads->v[i]);
	if (!chatty(r) || !p->nsteps)
		return;
	char *ids = strv_join(heads, ", ");
	printf("%s from %s: %zu migration%s\n", r->upgrade ? "upgrading" : "downgrading",
	       heads->n ? ids : "base", p->nsteps, p->nsteps == 1 ? "" : "s");
	free(ids);
	fflush(stdout);
}

static void on_step(void *ctx, const struct mig_graph *g, const struct mig_step *s,
		    double ms)
{
	struct mig_run_report *r = ctx;
	const struct mig_rev *rev = &g->revs[s->rev];
	if (chatty(r)) {
		printf("  %s %s  %s  (%.1f ms)\n", r->upgrade ? "applied" : "reverted",
		       rev->id, rev->message ? rev->message : "", ms);
		fflush(stdout);
	}
	buf_puts(&r->steps, r->nsteps++ ? ",{\"revision\":" : "{\"revision\":");
	json_str(&r->steps, rev->id);
	buf_puts(&r->steps, ",\"message\":");
	json_str(&r->steps, rev->message);
	buf_printf(&r->steps, ",\"ms\":%.3f}", ms);
}

static void on_replanned(void *ctx, const struct mig_strv *was,
			 const struct mig_strv *heads)
{
	struct mig_run_report *r = ctx;
	char *from = strv_join(was, ", ");
	char *ids = strv_join(heads, ", ");
	if (r->c->verbosity >= 0)
		mig_warn("another process moved the database from %s to %s; "
			 "continuing from there", was->n ? from : "base",
			 heads->n ? ids : "base");
	free(from);
	free(ids);
}

static void on_moved_after(void *ctx, const struct mig_strv *heads)
{
	struct mig_run_report *r = ctx;
	char *ids = strv_join(heads, ", ");
	mig_info(r->c, "this run's steps are committed; since then another process "
			 "moved the database to %s", heads->n ? ids : "base");
	free(ids);
}

void mig_run_report_init(struct mig_run_report *r, const struct mig_common *c,
			 bool upgrade)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->upgrade = upgrade;
	r->hooks.ctx = r;
	r->hooks.step_done = on_step;
	r->hooks.planned = on_planned;
	r->hooks.replanned = on_replanned;
	r->hooks.moved_after = on_moved_after;
}

void mig_run_report_finish(struct mig_run_report *r, struct mig_session *s)
{
	double ms = mig_now_ms() - r->t0;
	struct mig_strv now = MIG_STRV_INIT;
	bool exists;
	struct mig_err ignored = MIG_ERR_INIT;
	mig_vt_read(s->db, &s->vt, &exists, &now, &ignored);
	mig_err_release(&ignored);
	char *ids = strv_join(&now, ", ");
	if (r->c->format == MIG_FORMAT_JSON) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "{\"database\":");
		json_str(&b, mig_db_url(s->db)->display);
		buf_puts(&b, ",\"from\":");
		json_strv(&b, &r->from);
		buf_puts(&b, ",\"to\":");
		json_strv(&b, &now);
		buf_printf(&b, ",\"%s\":[%s],\"ms\":%.3f}\n",
			   r->upgrade ? "applied" : "reverted", buf_str(&r->steps), ms);
		mig_json_result(&b);
	} else if (r->c->verbosity >= 0 && r->nsteps) {
		printf("database is at %s (%zu %s in %.1f ms)\n", now.n ? ids : "base",
		       r->nsteps, r->upgrade ? "applied" : "reverted", ms);
	} else if (r->c->verbosity >= 0) {
		printf("nothing to do: database is at %s\n", now.n ? ids : "base");
	}
	gh_output("revision", now.n ? ids : "base");
	free(ids);
	strv_release(&now);
}

void mig_run_report_release(struct mig_run_report *r)
{
	buf_release(&r->steps);
	strv_release(&r->from);
}

int mig_print_goal_sql(struct mig_session *s, const struct mig_goal *goal,
		       struct mig_err *err)
{
	struct mig_status st;
	int rc = mig_status_read(s->db, &s->graph, &s->vt, &st, err);
	if (!rc)
		rc = mig_check_migratable(&st, &s->graph, err);
	struct mig_plan plan = { NULL, 0 };
	if (!rc)
		rc = mig_plan_goal(&s->graph, &st.current, goal, &plan, err);
	if (!rc)
		rc = mig_plan_sql_check(&s->graph, &plan, err);
	if (!rc) {
		struct mig_buf out = MIG_BUF_INIT;
		mig_plan_sql(&out, &s->graph, &s->vt, mig_db_dialect(s->db), &st.current,
			     st.version_table || !goal->upgrade, &plan);
		fputs(buf_str(&out), stdout);
		buf_release(&out);
	}
	mig_plan_release(&plan);
	mig_status_release(&st);
	return rc;
}

int mig_move(struct mig_session *s, const struct mig_goal *goal, bool sql,
	     struct mig_err *err)
{
	if (sql)
		return mig_print_goal_sql(s, goal, err);
	struct mig_run_report r;
	mig_run_report_init(&r, s->common, goal->upgrade);
	r.t0 = mig_now_ms();
	int rc = mig_run(s->db, &s->graph, &s->vt, goal, &r.hooks, err);
	if (!rc)
		mig_run_report_finish(&r, s);
	mig_run_report_release(&r);
	return rc;
}
