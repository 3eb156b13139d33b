/*
 * mig-downgrade: reverts migrations, newest first, each revision in its own
 * transaction together with its alembic_version change, down to a revision,
 * to base, or by a number of steps.  The replacement for "alembic
 * downgrade".
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "graph.h"
#include "mig.h"
#include "offline.h"
#include "report.h"
#include "run.h"
#include "session.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-downgrade --to REV|base|-N [-d URL] [-m DIR] [--sql]\n"
	"                     [--dialect NAME] [--no-history] [--format text|json]\n"
	"                     [--wait SECONDS]\n"
	"                     [--lock-timeout SECONDS] [--lock-mode MODE] [--no-lock]\n"
	"                     [--version-table NAME] [--version-schema NAME] [-q | -v]\n"
	"\n"
	"Revert migrations of DIR/versions (default: migrations), newest first.\n"
	"\n"
	"  -d, --database-url URL  database (default: $DATABASE_URL)\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"      --to REV            keep REV and its ancestors (an id, a unique prefix\n"
	"                          or a branch label); base reverts everything;\n"
	"                          -N reverts the N most recent revisions\n"
	"      --sql               print the SQL that would run; change nothing.\n"
	"                          With --to FROM:TO no database is opened: the\n"
	"                          SQL goes from FROM to TO, as alembic\n"
	"                          downgrade --sql\n"
	"      --dialect NAME      sqlite or postgresql: whose SQL --sql prints when\n"
	"                          no database URL says it\n"
	"      --no-history        record nothing in mig_history (also MIG_NO_HISTORY=1)\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --lock-timeout SECONDS  give up waiting for another run's lock (exit 4)\n"
	"      --lock-mode MODE    how the PostgreSQL lock is taken: session (for the\n"
	"                          whole run) or transaction (in each migration's\n"
	"                          transaction); default: session, or transaction\n"
	"                          when a connection pooler such as PgBouncer answers\n"
	"      --no-lock           DANGEROUS: take no lock, so two deploys at once can\n"
	"                          apply a migration twice (for CockroachDB, whose\n"
	"                          advisory locks lock nothing)\n"
	"      --version-table NAME    default alembic_version\n"
	"      --version-schema NAME   PostgreSQL schema of the version table\n"
	"      --label NAME        the database's name in its errors, the summary and\n"
	"                          the JSON document (default: its URL, masked)\n"
	"  -q, --quiet             print only errors\n"
	"  -v, --verbose           print graph warnings and server notices\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 done, 2 bad usage or migration files, 3 database error (the\n"
	"failing downgrade is rolled back), 4 refused (unknown revision recorded,\n"
	"a read-only standby, a session lock behind a pooler, CockroachDB without\n"
	"--no-lock).\n";

enum { OPT_TO = MIG_OPT_FIRST_OWN, OPT_SQL, OPT_NO_HISTORY, OPT_DIALECT };

struct downgrade_opts {
	struct mig_common common;
	const char *to;
	bool sql;
	const char *dialect;	/* --dialect, for --sql without a database */
};

static int downgrade(struct downgrade_opts *o, struct mig_err *err)
{
	struct mig_goal goal = { false, NULL, 0, 0, MIG_NONE };
	int rc = MIG_OK;
	if (o->to[0] == '-')
		rc = mig_parse_int("--to", o->to + 1, 1, 1000000, &goal.steps, err);
	if (rc)
		return rc;
	struct mig_session s;
	unsigned flags = MIG_NEED_DB | (o->sql ? MIG_DB_READONLY | MIG_PRINT_SQL : 0);
	rc = mig_session_open(&s, &o->common, flags, err);
	if (rc)
		return rc;
	size_t *target = NULL;
	rc = mig_graph_require_usable(&s.graph, err);
	if (!rc && !goal.steps)
		rc = mig_graph_resolve(&s.graph, o->to, &target, &goal.ntarget, err);
	if (!rc && goal.ntarget > 1)
		rc = mig_err_set(err, MIG_EINPUT, "--to names %zu revisions; name one",
				 goal.ntarget);
	goal.target = target;
	if (!rc)
		rc = mig_move(&s, &goal, o->sql, err);
	free(target);
	mig_session_close(&s);
	return rc;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct downgrade_opts *o = opts;
	(void)err;
	if (opt == OPT_SQL)
		o->sql = true;
	else if (opt == OPT_TO)
		o->to = arg;
	else if (opt == OPT_NO_HISTORY)
		o->common.no_history = true;
	else if (opt == OPT_DIALECT)
		o->dialect = arg;
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		{ "no-history", no_argument, NULL, OPT_NO_HISTORY },
		{ "sql", no_argument, NULL, OPT_SQL },
		{ "dialect", required_argument, NULL, OPT_DIALECT },
		{ "to", required_argument, NULL, OPT_TO },
		{ NULL, 0, NULL, 0 },
	};
	struct downgrade_opts o = { .to = NULL };
	const struct mig_command_line cl = { usage_text, longopts, own_option, &o, 0, NULL };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &o.common, argc, argv, &operand, &err);
	if (!rc && !o.to)
		mig_usage_error(usage_text, "--to is required: a revision, base, or -N");
	if (!rc && !o.sql && (o.dialect || strchr(o.to, ':')))
		mig_usage_error(usage_text, "%s is for --sql (the SQL without a database)",
				o.dialect ? "--dialect" : "a FROM:TO range");
	if (!rc && o.dialect && !mig_offline_wanted(&o.common, o.to))
		mig_usage_error(usage_text, "--dialect is for --sql without a database: "
				"the database's own dialect is used (or give --to FROM:TO)");
	if (!rc && o.sql && mig_offline_wanted(&o.common, o.to)) {
		/* as Alembic: where a downgrade starts is not guessed */
		if (!strchr(o.to, ':'))
			mig_usage_error(usage_text, "--sql without a database needs --to "
					"FROM:TO, the revisions the database is at and "
					"goes to");
		const struct mig_offline off = { .upgrade = false, .range = o.to,
						 .dialect = o.dialect };
		rc = mig_offline_sql(&o.common, &off, &err);
	} else if (!rc) {
		rc = downgrade(&o, &err);
	}
	if (rc)
		mig_report_error(&err);
	mig_err_release(&err);
	return mig_close_report(rc, !o.sql);
}
