/*
 * mig-status: where a database stands: its current revision(s), the heads
 * of the migrations folder, what is pending, and the states that need a
 * person (empty, legacy, a recorded revision the folder no longer has).
 * With --check it is a readiness probe: exit 0 only at head, and with no
 * applied migration file changed since mig_history recorded it.
 * --history-log prints mig_history; --history lists the revisions as
 * "alembic history" does, without a database.  The replacement for
 * "alembic current / heads / history".
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "history.h"
#include "json.h"
#include "mig.h"
#include "migfile.h"
#include "out.h"
#include "revlog.h"
#include "session.h"
#include "status.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-status [-d URL] [-m DIR] [--check | --history-log]\n"
	"                  [--history [-r START:END]] [--format text|json]\n"
	"                  [--wait SECONDS] [--schema NAME] [--version-table NAME]\n"
	"                  [--version-schema NAME] [-q | -v]\n"
	"\n"
	"Show the database's revision, the heads of DIR/versions and what is pending.\n"
	"\n"
	"  -d, --database-url URL  database (default: $DATABASE_URL)\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"      --check             readiness probe: exit 0 at head, 1 otherwise (also\n"
	"                          when an applied migration's file changed since)\n"
	"      --history-log       print the applied history (mig_history), oldest first\n"
	"      --history           list the revisions as alembic history does, newest\n"
	"                          first (-v: its verbose entries); no database\n"
	"  -r, --rev-range RANGE   with --history: START:END, START: or :END\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --schema NAME       PostgreSQL schema of the application's tables\n"
	"                          (default: the connection's current_schema())\n"
	"      --version-table NAME    default alembic_version\n"
	"      --version-schema NAME   PostgreSQL schema of the version table\n"
	"      --label NAME        the database's name in its errors, the summary and\n"
	"                          the JSON document (default: its URL, masked)\n"
	"  -q, --quiet             print nothing; the exit status tells\n"
	"  -v, --verbose           print graph warnings and server notices\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 done (with --check: at head), 1 with --check: not at head or an\n"
	"applied file changed,\n"
	"2 bad usage or migration files, 3 database unreachable.\n";

enum { OPT_CHECK = MIG_OPT_FIRST_OWN, OPT_HISTORY_LOG, OPT_HISTORY, OPT_REV_RANGE };

struct status_opts {
	struct mig_common common;
	bool check;
	bool history_log;
	bool history;		/* --history: alembic history */
	const char *rev_range;	/* --rev-range */
};

struct mig_status_ctx {
	struct status_opts *o;
	struct mig_session *s;
	struct mig_history h;
	struct mig_history_audit audit;
};

static char *heads_of(const struct mig_graph *g)
{
	struct mig_strv ids = MIG_STRV_INIT;
	for (size_t i = 0; i < g->nheads; i++)
		strv_push(&ids, g->revs[g->heads[i]].id);
	char *s = strv_join(&ids, ", ");
	strv_release(&ids);
	return s;
}

/* One line saying what the state means and what to do about it. */
static char *state_line(const struct mig_status *st, const struct mig_graph *g)
{
	switch (st->state) {
	case MIG_STATE_EMPTY:
		return xasprintf("empty (no tables; mig-upgrade creates the schema)");
	case MIG_STATE_LEGACY:
		return xasprintf("legacy (%zu table%s, no version rows; stamp it with "
				 "mig-stamp %s if its schema matches)", st->tables.n,
				 st->tables.n == 1 ? "" : "s",
				 g->nbases == 1 ? g->revs[g->bases[0]].id : "REV");
	case MIG_STATE_UNVERSIONED:
		return xasprintf("base (version table present, no revision applied)");
	case MIG_STATE_UNKNOWN:
		return xasprintf("unknown revision (not in %s/versions; restore the "
				 "migration, or check the schema and run mig-stamp --force)",
				 g->dir);
	case MIG_STATE_OVERLAP:
		return xasprintf("overlapping rows (an ancestor recorded beside its "
				 "descendant; migrating is refused: check the schema "
				 "and repair with mig-stamp --purge)");
	case MIG_STATE_CURRENT:
		return xasprintf("current (at head)");
	case MIG_STATE_BEHIND:
		return xasprintf("behind (%zu pending)", st->pending.nsteps);
	}
	return xstrdup("?");
}

static void print_text(const struct mig_session *s, const struct mig_status *st,
		       const struct mig_history *h, const struct mig_history_audit *a)
{
	const struct mig_graph *g = &s->graph;
	char *cur = strv_join(&st->current, ", ");
	char *heads = heads_of(g);
	char *state = state_line(st, g);
	printf("database: %s\n", mig_db_url(s->db)->display);
	printf("state:    %s\n", state);
	printf("current:  %s\n", st->current.n ? cur : "base");
	printf("heads:    %s\n", g->nheads ? heads : "(no migrations)");
	if (st->foreign.n) {
		char *foreign = strv_join(&st->foreign, ", ");
		printf("foreign:  %s (no migration creates %s; left alone)\n", foreign,
		       st->foreign.n == 1 ? "it" : "them");
		free(foreign);
	}
	for (size_t i = 0; i < st->pending.nsteps; i++) {
		const struct mig_rev *rev = &g->revs[st->pending.steps[i].rev];
		printf("%s  %s  %s\n", i ? "         " : "pending: ", rev->id,
		       rev->message ? rev->message : "");
	}
	if (a->recorded || a->unrecorded.n)
		printf("history:  %zu applied revision%s recorded in %s%s\n", a->recorded,
		       a->recorded == 1 ? "" : "s", MIG_HISTORY_TABLE,
		       h->exists ? "" : " (no such table yet)");
	for (size_t i = 0; i < a->unrecorded.n; i++)
		printf("%s  %s  applied without a history row (by Alembic, or before "
		       "%s existed)\n", i ? "         " : "unrecorded:", a->unrecorded.v[i],
		       MIG_HISTORY_TABLE);
	free(state);
	free(heads);
	free(cur);
}

static void print_json(const struct mig_session *s, const struct mig_status *st,
		       const struct mig_history *h, const struct mig_history_audit *a)
{
	const struct mig_graph *g = &s->graph;
	struct mig_buf b = MIG_BUF_INIT;
	struct mig_strv heads = MIG_STRV_INIT;
	for (size_t i = 0; i < g->nheads; i++)
		strv_push(&heads, g->revs[g->heads[i]].id);
	buf_puts(&b, "{\"database\":");
	json_str(&b, mig_db_url(s->db)->display);
	buf_puts(&b, ",\"state\":");
	json_str(&b, mig_db_state_name(st->state));
	buf_puts(&b, ",\"current\":");
	json_strv(&b, &st->current);
	buf_puts(&b, ",\"heads\":");
	json_strv(&b, &heads);
	buf_puts(&b, ",\"unknown\":");
	json_strv(&b, &st->unknown);
	buf_puts(&b, ",\"overlapping\":");
	json_strv(&b, &st->overlap);
	buf_puts(&b, ",\"foreign\":");
	json_strv(&b, &st->foreign);
	buf_printf(&b, ",\"version_table\":%s,\"tables\":%zu,\"pending\":[",
		   st->version_table ? "true" : "false", st->tables.n);
	for (size_t i = 0; i < st->pending.nsteps; i++) {
		const struct mig_rev *rev = &g->revs[st->pending.steps[i].rev];
		buf_puts(&b, i ? ",{\"revision\":" : "{\"revision\":");
		json_str(&b, rev->id);
		buf_puts(&b, ",\"message\":");
		json_str(&b, rev->message);
		buf_putc(&b, '}');
	}
	buf_printf(&b, "],\"history\":{\"table\":%s,\"recorded\":%zu,\"unrecorded\":",
		   h->exists ? "true" : "false", a->recorded);
	json_strv(&b, &a->unrecorded);
	buf_puts(&b, ",\"changed\":");
	mig_findings_json(&b, &a->changed);
	buf_puts(&b, "}}\n");
	mig_json_result(&b);
	strv_release(&heads);
}

/* A JSON number as the database wrote it (SQLite would store any text). */
static bool is_integer(const char *v)
{
	if (!v || !*v || strlen(v) > 19)
		return false;
	for (const char *p = v + (*v == '-'); *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return v[*v == '-'] != '\0';
}

/* --history-log: the rows of mig_history, oldest first. */
static void print_log(const struct mig_status_ctx *x)
{
	const struct mig_rows *r = &x->h.rows;
	if (x->o->common.format == MIG_FORMAT_JSON) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_printf(&b, "{\"database\":");
		json_str(&b, mig_db_url(x->s->db)->display);
		buf_printf(&b, ",\"table\":%s,\"history\":[", x->h.exists ? "true" : "false");
		for (size_t i = 0; i < r->nrows; i++) {
			buf_puts(&b, i ? ",{" : "{");
			for (int c = 0; c < MIG_HC_COUNT; c++) {
				buf_printf(&b, "%s\"%s\":", c ? "," : "", mig_history_column_names[c]);
				const char *v = mig_rows_cell(r, i, (size_t)c);
				if ((c == MIG_HC_ID || c == MIG_HC_DURATION_MS) && is_integer(v))
					buf_puts(&b, v);
				else
					json_str(&b, v);
			}
			buf_putc(&b, '}');
		}
		buf_puts(&b, "]}\n");
		mig_json_result(&b);
		return;
	}
	if (x->o->common.verbosity < 0)
		return;
	if (!x->h.exists) {
		printf("no history: %s does not exist (mig writes it from the first "
		       "upgrade, downgrade or stamp on)\n", MIG_HISTORY_TABLE);
		return;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		const char *rev = mig_rows_cell(r, i, MIG_HC_REVISION);
		const char *user = mig_rows_cell(r, i, MIG_HC_DB_USER);
		const char *os = mig_rows_cell(r, i, MIG_HC_OS_USER);
		const char *host = mig_rows_cell(r, i, MIG_HC_HOST);
		const char *app = mig_rows_cell(r, i, MIG_HC_APPLICATION_NAME);
		const char *run = mig_rows_cell(r, i, MIG_HC_GITHUB_RUN_ID);
		const char *sha = mig_rows_cell(r, i, MIG_HC_SHA256);
		printf("%s  %-5s  %-12s  %6s ms  %s@%s", mig_rows_cell(r, i, MIG_HC_STARTED_AT),
		       mig_rows_cell(r, i, MIG_HC_DIRECTION), rev ? rev : "base",
		       mig_rows_cell(r, i, MIG_HC_DURATION_MS), user ? user : os ? os : "?",
		       host ? host : "?");
		if (app && *app)
			printf("  app=%s", app);
		printf("  mig %s", mig_rows_cell(r, i, MIG_HC_MIG_VERSION));
		if (run)
			printf("  run=%s", run);
		if (sha)
			printf("  sha256=%.12s", sha);
		putchar('\n');
	}
}

/* The history is mig's audit trail: a status reader that may not read it
 * (a monitoring role granted only the version table) still gets the
 * status, with a warning; --history-log needs it. */
static int read_history(struct mig_status_ctx *x, struct mig_err *err)
{
	int rc = mig_history_read(x->s->db, &x->s->vt, &x->h, err);
	if (rc != MIG_EDB || x->o->history_log)
		return rc;
	mig_warn("%s; the check of applied files against it is skipped", err->msg);
	mig_history_release(&x->h);
	mig_err_release(err);
	return MIG_OK;
}

/* The step summary: where the database is, against the graph. */
static void summary(const struct mig_status *st, const char *cur, const char *heads,
		    const struct mig_findings *changed)
{
	if (!gh_active())
		return;
	struct mig_buf md = MIG_BUF_INIT;
	buf_printf(&md, "### mig-status: %s\n\n| | |\n|---|---|\n",
		   mig_db_state_name(st->state));
	if (mig_subject()) {
		buf_puts(&md, "| database | ");
		md_text(&md, mig_subject());
		buf_puts(&md, " |\n");
	}
	buf_puts(&md, "| revision | ");
	md_text(&md, st->current.n ? cur : "base");
	buf_puts(&md, " |\n| heads | ");
	md_text(&md, heads);
	buf_printf(&md, " |\n| pending | %zu |\n\n", st->pending.nsteps);
	for (size_t i = 0; i < changed->n; i++) {
		buf_puts(&md, "- ");
		md_text(&md, changed->v[i].msg);
		buf_putc(&md, '\n');
	}
	if (changed->n)
		buf_putc(&md, '\n');
	gh_summary(buf_str(&md));
	buf_release(&md);
}

static int report(struct mig_status_ctx *x, struct mig_status *st)
{
	struct status_opts *o = x->o;
	struct mig_session *s = x->s;
	mig_history_audit(&x->h, &s->graph, &st->current, &x->audit);
	for (size_t i = 0; !o->check && i < x->audit.changed.n; i++)	/* a gate's error */
		x->audit.changed.v[i].severity = MIG_SEV_WARNING;
	if (o->common.format == MIG_FORMAT_JSON)
		print_json(s, st, &x->h, &x->audit);
	else if (o->common.verbosity >= 0)
		print_text(s, st, &x->h, &x->audit);
	fflush(stdout);
	if (o->common.verbosity >= 0 || o->check)	/* a deploy gate says why it stops */
		mig_findings_print(stderr, &x->audit.changed, true);
	mig_findings_annotate(&x->audit.changed);
	char *cur = strv_join(&st->current, ", ");
	gh_output("revision", st->current.n ? cur : "base");
	gh_output("state", mig_db_state_name(st->state));
	char *heads = heads_of(&s->graph);
	gh_output("heads", heads);
	char *pending = xasprintf("%zu", st->pending.nsteps);
	gh_output("pending_count", pending);
	free(pending);
	summary(st, cur, heads, &x->audit.changed);
	free(heads);
	free(cur);
	if (o->check && (st->state != MIG_STATE_CURRENT || x->audit.changed.n))
		return MIG_EFOUND;
	return MIG_OK;
}

static int status(struct status_opts *o, struct mig_err *err)
{
	struct mig_session s;
	int rc = mig_session_open(&s, &o->common, MIG_NEED_DB | MIG_DB_READONLY, err);
	if (rc)
		return rc;
	struct mig_status_ctx x;
	memset(&x, 0, sizeof(x));
	x.o = o;
	x.s = &s;
	struct mig_status st;
	/* -q without --check shows the history nowhere (no finding, no
	 * warning, no exit status depends on it): not read, two statements
	 * fewer for a probe or a --wait; JSON and GitHub Actions show it */
	bool history_shown = o->check || o->history_log || o->common.verbosity >= 0 ||
			     o->common.format == MIG_FORMAT_JSON || gh_active();
	rc = mig_graph_require_usable(&s.graph, err);
	if (!rc && history_shown)
		rc = read_history(&x, err);
	if (!rc && o->history_log) {
		print_log(&x);
	} else if (!rc) {
		rc = mig_status_read(s.db, &s.graph, &s.vt, &st, err);
		if (!rc)
			rc = report(&x, &st);
		mig_status_release(&st);	/* mig_status_read clears it first */
	}
	mig_history_audit_release(&x.audit);
	mig_history_release(&x.h);
	mig_session_close(&s);
	return rc;
}

/* --history: the graph only, as "alembic history" reads no database. */
static int history(struct status_opts *o, struct mig_err *err)
{
	struct mig_session s;
	int rc = mig_session_open(&s, &o->common, 0, err);
	if (rc)
		return rc;
	rc = mig_revlog_print(stdout, &s.graph, o->rev_range, o->common.verbosity > 0, err);
	mig_session_close(&s);
	return rc;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct status_opts *o = opts;
	(void)err;
	if (opt == OPT_CHECK)
		o->check = true;
	else if (opt == OPT_HISTORY_LOG)
		o->history_log = true;
	else if (opt == OPT_HISTORY)
		o->history = true;
	else if (opt == OPT_REV_RANGE || opt == 'r')
		o->rev_range = arg;
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		MIG_SCHEMA_LONGOPT,
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "history-log", no_argument, NULL, OPT_HISTORY_LOG },
		{ "history", no_argument, NULL, OPT_HISTORY },
		{ "rev-range", required_argument, NULL, OPT_REV_RANGE },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts o = { .check = false };
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &o, .max_operands = 0, .own_shortopts = "r:" };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &o.common, argc, argv, &operand, &err);
	if (!rc && o.check && o.history_log)
		mig_usage_error(usage_text, "--check and --history-log do not go together");
	if (!rc && o.history && (o.check || o.history_log))
		mig_usage_error(usage_text, "--history goes with neither --check nor "
				"--history-log");
	if (!rc && o.rev_range && !o.history)
		mig_usage_error(usage_text, "--rev-range is for --history");
	if (!rc && o.history && o.common.format == MIG_FORMAT_JSON)
		rc = mig_err_set(&err, MIG_EINPUT, "--history prints alembic history's "
				 "text; --format json is not supported with it");
	if (!rc && o.history)
		rc = history(&o, &err);
	else if (!rc)
		rc = status(&o, &err);
	if (rc && err.msg)
		mig_report_error(&err);
	mig_err_release(&err);
	return mig_close_stdout(rc);
}
