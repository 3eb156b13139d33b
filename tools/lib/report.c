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
#include "url.h"
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
	for (size_t i = 0; i < heads->n; i++)
		strv_push(&r->from, heads->v[i]);
	r->g = g;
	r->planned = xcalloc(p->nsteps + 1, sizeof(*r->planned));
	for (size_t i = 0; i < p->nsteps; i++)
		r->planned[i] = p->steps[i].rev;
	r->nplanned = p->nsteps;
	if (!chatty(r) || !p->nsteps)
		return;
	char *ids = strv_join(heads, ", ");
	printf("%s from %s: %zu migration%s\n", r->upgrade ? "upgrading" : "downgrading",
	       heads->n ? ids : "base", p->nsteps, p->nsteps == 1 ? "" : "s");
	free(ids);
	fflush(stdout);
}

/* Text of the files in a summary cell: escaped, and with the database's
 * password masked (a migration's message could quote it). */
static void md_file_text(const struct mig_run_report *r, struct mig_buf *b, const char *text)
{
	char *masked = r->db && text ? mig_url_redact(mig_db_url(r->db), text) : NULL;
	md_text(b, masked ? masked : text ? text : "");
	free(masked);
}

/* One row of the step summary's table; ms < 0 for a step that did not
 * finish. */
static void summary_row(struct mig_run_report *r, const struct mig_rev *rev,
			size_t statements, double ms, const char *result)
{
	buf_puts(&r->rows, "| ");
	md_text(&r->rows, rev->id);
	buf_puts(&r->rows, " | ");
	md_file_text(r, &r->rows, rev->message);
	buf_printf(&r->rows, " | %zu | ", statements);
	if (ms >= 0)
		buf_printf(&r->rows, "%.1f", ms);
	buf_printf(&r->rows, " | %s |\n", result);
}

static size_t step_statements(struct mig_run_report *r)
{
	size_t now = r->db ? mig_db_statements_run(r->db) : 0;
	size_t n = now - r->statements_seen;
	r->statements_seen = now;
	return n;
}

static void on_step(void *ctx, const struct mig_graph *g, const struct mig_step *s,
		    double ms)
{
	struct mig_run_report *r = ctx;
	const struct mig_rev *rev = &g->revs[s->rev];
	size_t statements = step_statements(r);
	if (chatty(r)) {
		printf("  %s %s  %s  (%.1f ms)\n", r->upgrade ? "applied" : "reverted",
		       rev->id, rev->message ? rev->message : "", ms);
		fflush(stdout);
	}
	/* the JSON document's steps and the step summary's rows, only for
	 * the output that shows them: a run of many steps builds neither
	 * for nothing */
	if (r->c->format == MIG_FORMAT_JSON) {
		buf_puts(&r->steps, r->nsteps ? ",{\"revision\":" : "{\"revision\":");
		json_str(&r->steps, rev->id);
		buf_puts(&r->steps, ",\"message\":");
		json_str(&r->steps, rev->message);
		buf_printf(&r->steps, ",\"statements\":%zu,\"ms\":%.3f}", statements, ms);
	}
	r->nsteps++;
	if (gh_active())
		summary_row(r, rev, statements, ms, r->upgrade ? "applied" : "reverted");
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

/* The statement at line of rev's file, from its first line to the line
 * that ends it (a ';' at the end of a line), at most 20 lines: what the
 * summary shows of a failed step.  NULL when no section holds the line. */
static char *statement_at(const struct mig_rev *rev, int line)
{
	const struct mig_section *best = NULL;
	for (size_t i = 0; i < rev->nsections; i++)
		if (rev->sections[i].sql && rev->sections[i].line <= line &&
		    (!best || rev->sections[i].line > best->line))
			best = &rev->sections[i];
	if (!best)
		return NULL;
	const char *p = best->sql;
	for (int l = best->line; l < line && p; l++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	const char *end = p;
	for (int n = 0; *end && n < 20; n++) {
		const char *eol = strchr(end, '\n');
		const char *last = eol ? eol : end + strlen(end);
		while (last > end && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r'))
			last--;
		end = eol ? eol + 1 : end + strlen(end);
		if (last > p && last[-1] == ';')
			break;
	}
	return xstrndup(p, (size_t)(end - p));
}

/* The line of an error "FILE:LINE: ..." about file, or 0. */
static int error_line(const char *msg, const char *file)
{
	size_t n = strlen(file);
	if (!msg || strncmp(msg, file, n) != 0 || msg[n] != ':')
		return 0;
	char *end;
	long line = strtol(msg + n + 1, &end, 10);
	return *end == ':' && line > 0 && line < 100000000 ? (int)line : 0;
}

static void write_summary(struct mig_run_report *r, const struct mig_strv *now,
			  bool now_known, int rc, const struct mig_err *err)
{
	const char *verb = r->upgrade ? "upgrade" : "downgrade";
	struct mig_buf md = MIG_BUF_INIT;
	buf_printf(&md, "### %s: ", mig_progname);
	if (rc)
		buf_printf(&md, "failed (%s, exit %d)", mig_error_kind(rc), rc);
	else if (r->nsteps)
		buf_printf(&md, "%zu migration%s %s", r->nsteps, r->nsteps == 1 ? "" : "s",
			   r->upgrade ? "applied" : "reverted");
	else
		buf_printf(&md, "nothing to %s", verb);
	buf_puts(&md, "\n\n| | |\n|---|---|\n");
	if (mig_subject()) {
		buf_puts(&md, "| database | ");
		md_text(&md, mig_subject());
		buf_puts(&md, " |\n");
	}
	char *from = strv_join(&r->from, ", ");
	buf_puts(&md, "| from | ");
	md_text(&md, r->from.n ? from : "base");
	free(from);
	if (now_known) {
		char *to = strv_join(now, ", ");
		buf_puts(&md, " |\n| to | ");
		md_text(&md, now->n ? to : "base");
		free(to);
	}
	buf_puts(&md, " |\n\n");

	const struct mig_rev *failed = NULL;
	if (rc && r->g && r->nsteps < r->nplanned)
		failed = &r->g->revs[r->planned[r->nsteps]];
	if (r->nsteps || failed)
		buf_printf(&md, "| revision | message | statements | ms | result |\n"
			   "|---|---|---:|---:|---|\n%s", buf_str(&r->rows));
	if (failed) {
		buf_puts(&md, "| ");
		md_text(&md, failed->id);
		buf_puts(&md, " | ");
		md_file_text(r, &md, failed->message);
		buf_puts(&md, " | | | **failed, rolled back** |\n");
		for (size_t i = r->nsteps + 1; i < r->nplanned; i++) {
			const struct mig_rev *rev = &r->g->revs[r->planned[i]];
			buf_puts(&md, "| ");
			md_text(&md, rev->id);
			buf_puts(&md, " | ");
			md_file_text(r, &md, rev->message);
			buf_puts(&md, " | | | not run |\n");
		}
	}
	if (r->nsteps || failed)
		buf_putc(&md, '\n');
	int line = failed && err ? error_line(err->msg, failed->path) : 0;
	char *stmt = line ? statement_at(failed, line) : NULL;
	if (stmt && r->db) {	/* a migration may quote the password, as errors do */
		char *masked = mig_url_redact(mig_db_url(r->db), stmt);
		free(stmt);
		stmt = masked;
	}
	if (failed) {
		char *path = gh_workspace_path(failed->path);
		buf_puts(&md, "**Failed:** ");
		md_text(&md, path);
		free(path);
		if (line)
			buf_printf(&md, ":%d", line);
		buf_puts(&md, "\n\n");
	}
	if (stmt)
		md_code_block(&md, "sql", stmt);
	free(stmt);
	if (rc && err && err->msg) {
		char *text = err->hint ? xasprintf("%s\nhint: %s", err->msg, err->hint)
				       : xstrdup(err->msg);
		md_code_block(&md, "text", text);
		free(text);
	}
	gh_summary(buf_str(&md));
	buf_release(&md);
}

/* pending_count: the migrations an upgrade to the heads would apply now,
 * planned from the rows without asking the database again; none when
 * the rows name revisions the graph does not have. */
static void pending_output(const struct mig_graph *g, const struct mig_strv *rows)
{
	struct mig_goal goal = { .upgrade = true, .target = g->heads, .ntarget = g->nheads,
				 .only = MIG_NONE };
	struct mig_plan plan = { NULL, 0 };
	struct mig_err ignored = MIG_ERR_INIT;
	if (mig_plan_goal(g, rows, &goal, &plan, &ignored) == MIG_OK) {
		char *n = xasprintf("%zu", plan.nsteps);
		gh_output("pending_count", n);
		free(n);
	}
	mig_err_release(&ignored);
	mig_plan_release(&plan);
}

void mig_run_report_finish(struct mig_run_report *r, struct mig_session *s, int rc,
			   const struct mig_err *err)
{
	double ms = mig_now_ms() - r->t0;
	struct mig_strv rows = MIG_STRV_INIT;
	const struct mig_strv *now = &rows;
	bool exists;
	struct mig_err ignored = MIG_ERR_INIT;
	/* after a failure the connection may be gone: then "to" is unknown */
	bool known = mig_vt_read(s->db, &s->vt, &exists, &rows, &ignored) == MIG_OK;
	mig_err_release(&ignored);
	char *ids = known ? strv_join(now, ", ") : NULL;
	if (rc) {
		/* the error itself is printed by main(), in every format */
	} else if (r->c->format == MIG_FORMAT_JSON) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "{\"database\":");
		json_str(&b, mig_db_url(s->db)->display);
		buf_puts(&b, ",\"from\":");
		json_strv(&b, &r->from);
		buf_puts(&b, ",\"to\":");
		if (known)
			json_strv(&b, now);
		else
			buf_puts(&b, "[]");
		buf_printf(&b, ",\"%s\":[%s],\"ms\":%.3f}\n",
			   r->upgrade ? "applied" : "reverted", buf_str(&r->steps), ms);
		mig_json_result(&b);
	} else if (r->c->verbosity >= 0 && r->nsteps) {
		printf("database is at %s (%zu %s in %.1f ms)\n", known && now->n ? ids : "base",
		       r->nsteps, r->upgrade ? "applied" : "reverted", ms);
	} else if (r->c->verbosity >= 0) {
		printf("nothing to do: database is at %s\n", known && now->n ? ids : "base");
	}
	if (gh_active()) {
		write_summary(r, now, known, rc, err);
		char *from = strv_join(&r->from, ", ");
		gh_output("from", r->from.n ? from : "base");
		free(from);
		char *n = xasprintf("%zu", r->nsteps);
		gh_output("applied_count", n);
		free(n);
		if (known) {
			gh_output("to", now->n ? ids : "base");
			gh_output("revision", now->n ? ids : "base");
			pending_output(&s->graph, now);
		}
	}
	free(ids);
	strv_release(&rows);
}

void mig_run_report_release(struct mig_run_report *r)
{
	buf_release(&r->steps);
	buf_release(&r->rows);
	strv_release(&r->from);
	free(r->planned);
	r->planned = NULL;
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
	r.db = s->db;
	r.statements_seen = mig_db_statements_run(s->db);
	int rc = mig_run(s->db, &s->graph, &s->vt, goal, &r.hooks, err);
	mig_run_report_finish(&r, s, rc, err);
	mig_run_report_release(&r);
	return rc;
}
