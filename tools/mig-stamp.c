/*
 * mig-stamp: marks a database as being at a revision without running
 * migrations, after checking that this is safe: the revision exists, the
 * database is not at another one, it is not empty, and its schema holds
 * what the revision requires.  Then it reads the version table back.  The
 * replacement for "alembic stamp", which checks nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "json.h"
#include "mig.h"
#include "out.h"
#include "session.h"
#include "stamp.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-stamp REV... [-d URL] [-m DIR] [--spec FILE | --no-verify]\n"
	"                 [--force] [--purge] [--dry-run] [--no-history]\n"
	"                 [--format text|json]\n"
	"                 [--wait SECONDS] [--lock-timeout SECONDS] [--lock-mode MODE]\n"
	"                 [--no-lock]\n"
	"                 [--schema NAME]\n"
	"                 [--version-table NAME] [--version-schema NAME] [-q | -v]\n"
	"\n"
	"Record that the database is at REV... without running migrations, as\n"
	"alembic stamp does: an id, a unique prefix, LABEL, LABEL@REV, head, heads,\n"
	"LABEL@head; base or LABEL@base removes the rows of that line.  Rows on\n"
	"other branches stay.\n"
	"\n"
	"  -d, --database-url URL  database (default: $DATABASE_URL)\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"      --spec FILE         check the schema against this spec instead of\n"
	"                          replaying the migrations up to REV\n"
	"      --no-verify         do not check the schema at all\n"
	"      --force             overwrite another or an unknown recorded revision\n"
	"      --purge             remove every row first, then stamp REV...\n"
	"      --dry-run           run the checks, say what would be done, change nothing\n"
	"      --no-history        record nothing in mig_history (also MIG_NO_HISTORY=1)\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --lock-timeout SECONDS  give up waiting for a running migration (exit 4)\n"
	"      --lock-mode MODE    how the PostgreSQL lock is taken: session (for the\n"
	"                          whole run) or transaction (in each migration's\n"
	"                          transaction); default: session, or transaction\n"
	"                          when a connection pooler such as PgBouncer answers\n"
	"      --no-lock           DANGEROUS: take no lock, so two deploys at once can\n"
	"                          apply a migration twice (for CockroachDB, whose\n"
	"                          advisory locks lock nothing)\n"
	"      --schema NAME       PostgreSQL schema of the application's tables\n"
	"                          (default: the connection's current_schema())\n"
	"      --version-table NAME    default alembic_version\n"
	"      --version-schema NAME   PostgreSQL schema of the version table\n"
	"      --label NAME        the database's name in its errors, the summary and\n"
	"                          the JSON document (default: its URL, masked)\n"
	"  -q, --quiet             print only errors\n"
	"  -v, --verbose           print graph warnings and server notices\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 stamped (or already at REV), 2 bad usage or migration files,\n"
	"3 database error, 4 refused (nothing changed; also on a read-only standby,\n"
	"for a session lock behind a pooler, and on CockroachDB without --no-lock).\n";

enum { OPT_SPEC = MIG_OPT_FIRST_OWN, OPT_NO_VERIFY, OPT_FORCE, OPT_DRY_RUN,
       OPT_NO_HISTORY, OPT_PURGE };

static const char *what_checked(const struct mig_stamp *st)
{
	if (!strcmp(st->checked, "spec"))
		return "the schema holds what the spec says";
	if (!strcmp(st->checked, "migrations"))
		return "the schema holds what the migrations up to it create";
	return "the schema was not checked";
}

static void report_text(const struct mig_common *c, const struct mig_stamp_opts *o,
			const struct mig_stamp *st, const char *display)
{
	char *target = strv_join(&st->target, ", ");
	char *before = strv_join(&st->before, ", ");
	char *after = strv_join(&st->after, ", ");
	if (c->verbosity >= 0) {
		printf("database: %s\n", display);
		if (st->already)
			printf("already at %s; nothing to do\n", st->target.n ? target : "base");
		else
			printf("checked: %s\n", what_checked(st));
		if (o->dry_run && !st->already)
			printf("dry run: would stamp %s (now %s); nothing changed\n",
			       st->target.n ? target : "base", st->before.n ? before : "unstamped");
	}
	if (c->verbosity >= 0 && (!o->dry_run || st->already))
		printf("alembic_version: %s\n", st->after.n ? after : "(none)");
	free(target);
	free(before);
	free(after);
}

static void report_json(const struct mig_stamp_opts *o, const struct mig_stamp *st,
			int rc, const char *display)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "{\"database\":");
	json_str(&b, display);
	buf_puts(&b, ",\"revision\":");
	json_strv(&b, &st->target);
	buf_puts(&b, ",\"before\":");
	json_strv(&b, &st->before);
	buf_puts(&b, ",\"after\":");
	json_strv(&b, &st->after);
	buf_printf(&b, ",\"dry_run\":%s,\"changed\":%s,\"checked\":", o->dry_run ? "true" : "false",
		   !rc && !o->dry_run && !st->already ? "true" : "false");
	json_str(&b, st->checked);
	buf_puts(&b, ",\"findings\":");
	mig_findings_json(&b, &st->findings);
	buf_puts(&b, "}\n");
	mig_json_result(&b);
}

/* The findings as a Markdown list: where each is, and what (escaped: the
 * messages quote the database's own names). */
static void findings_md(struct mig_buf *md, const struct mig_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		buf_printf(md, "- **%s** ", x->severity == MIG_SEV_ERROR ? "error" : "warning");
		if (x->file) {
			char *path = gh_workspace_path(x->file);
			md_text(md, path);
			free(path);
			if (x->line)
				buf_printf(md, ":%d", x->line);
			buf_putc(md, ' ');
		}
		md_text(md, x->msg);
		buf_putc(md, '\n');
	}
	if (f->n)
		buf_putc(md, '\n');
}

static void report_github(const struct mig_stamp_opts *o, const struct mig_stamp *st,
			  int rc, const struct mig_err *err)
{
	if (!gh_active())
		return;
	mig_findings_annotate(&st->findings);
	struct mig_buf md = MIG_BUF_INIT;
	if (rc) {	/* refused or failed: the summary says why, not "see the log" */
		buf_printf(&md, "### mig-stamp: nothing stamped (%s, exit %d)\n\n",
			   mig_error_kind(rc), rc);
		if (mig_subject()) {
			buf_puts(&md, "Database: ");
			md_text(&md, mig_subject());
			buf_puts(&md, "\n\n");
		}
		if (err->msg) {
			char *text = err->hint ? xasprintf("%s\nhint: %s", err->msg, err->hint)
					       : xstrdup(err->msg);
			md_code_block(&md, "text", text);
			free(text);
		}
		if (st->findings.n)
			buf_puts(&md, "Differences:\n\n");
		findings_md(&md, &st->findings);
		gh_summary(buf_str(&md));
		buf_release(&md);
		return;
	}
	char *after = strv_join(&st->after, ", ");
	char *before = strv_join(&st->before, ", ");
	buf_printf(&md, "### mig-stamp%s\n\n| | |\n|---|---|\n", o->dry_run ? " (dry run)" : "");
	if (mig_subject()) {
		buf_puts(&md, "| database | ");
		md_text(&md, mig_subject());
		buf_puts(&md, " |\n");
	}
	buf_puts(&md, "| before | ");
	md_text(&md, st->before.n ? before : "unstamped");
	buf_puts(&md, " |\n| after | ");
	md_text(&md, st->after.n ? after : "unstamped");
	buf_printf(&md, " |\n| schema check | %s |\n\n", st->checked);
	findings_md(&md, &st->findings);
	gh_summary(buf_str(&md));
	buf_release(&md);
	if (!o->dry_run)
		gh_output("revision", st->after.n ? after : "base");
	free(before);
	free(after);
}

static int stamp(struct mig_common *c, const struct mig_stamp_opts *o,
		 char *const *specs, size_t nspecs, struct mig_err *err)
{
	struct mig_session s;
	int rc = mig_session_open(&s, c, MIG_NEED_DB, err);
	if (rc)
		return rc;
	rc = mig_graph_require_usable(&s.graph, err);
	struct mig_stamp st;
	memset(&st, 0, sizeof(st));
	if (!rc)
		rc = mig_stamp_run(&st, o, s.db, &s.graph, &s.vt, specs, nspecs, err);
	const char *display = mig_db_url(s.db)->display;
	if (c->format == MIG_FORMAT_JSON && (!rc || st.findings.n)) {
		report_json(o, &st, rc, display);
	} else if (c->format == MIG_FORMAT_TEXT) {
		mig_findings_print(stdout, &st.findings, c->verbosity >= 0);
		if (!rc)
			report_text(c, o, &st, display);
	}
	report_github(o, &st, rc, err);
	mig_stamp_release(&st);
	mig_session_close(&s);
	return rc;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct mig_stamp_opts *o = opts;
	(void)err;
	switch (opt) {
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_NO_VERIFY:
		o->no_verify = true;
		break;
	case OPT_SPEC:
		o->spec = arg;
		break;
	case OPT_NO_HISTORY:
		o->no_history = true;
		break;
	case OPT_PURGE:
		o->purge = true;
		break;
	}
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		MIG_SCHEMA_LONGOPT,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-history", no_argument, NULL, OPT_NO_HISTORY },
		{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
		{ "purge", no_argument, NULL, OPT_PURGE },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ NULL, 0, NULL, 0 },
	};
	struct mig_common common;
	struct mig_stamp_opts o = { .spec = NULL };
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &o, .max_operands = -1 };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &common, argc, argv, &operand, &err);
	if (!rc && argc == operand)
		mig_usage_error(usage_text, "the revision to stamp is missing");
	if (!rc && o.spec && o.no_verify)
		mig_usage_error(usage_text, "--spec and --no-verify contradict each other");
	common.no_history = o.no_history;
	if (!rc)
		rc = stamp(&common, &o, argv + operand, (size_t)(argc - operand), &err);
	if (rc)
		mig_report_error(&err);
	mig_err_release(&err);
	return mig_close_report(rc, !o.dry_run);
}
