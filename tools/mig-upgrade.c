/*
 * mig-upgrade: applies the pending migrations of a folder to a database,
 * each revision in its own transaction together with its alembic_version
 * row, under a lock that keeps concurrent deploys from applying anything
 * twice.  The replacement for "alembic upgrade head".
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "graph.h"
#include "mig.h"
#include "offline.h"
#include "report.h"
#include "run.h"
#include "session.h"
#include "targets.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-upgrade [-d URL] [-m DIR] [--to REV] [--sql] [--dialect NAME]\n"
	"                   [--no-history] [--rerun-unfinished] [--format text|json]\n"
	"                   [--wait SECONDS] [--lock-timeout SECONDS]\n"
	"                   [--heartbeat SECONDS] [--lock-mode MODE] [--no-lock]\n"
	"                   [--schema NAME]\n"
	"                   [--version-table NAME] [--version-schema NAME] [-q | -v]\n"
	"\n"
	"Apply pending migrations from DIR/versions (default: migrations).\n"
	"\n"
	"  -d, --database-url URL  database (default: $DATABASE_URL)\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"      --to REV            target: head (default), heads, an id or unique\n"
	"                          prefix, LABEL, LABEL@head, LABEL@REV, +N, REV+N,\n"
	"                          LABEL@+N, base+N (Alembic's targets)\n"
	"      --sql               print the SQL that would run; change nothing.\n"
	"                          With no database, or --to FROM:TO, no database\n"
	"                          is opened: the SQL goes from base (or FROM) to\n"
	"                          REV (or TO), as alembic upgrade --sql\n"
	"      --dialect NAME      sqlite or postgresql: whose SQL --sql prints when\n"
	"                          no database URL says it\n"
	"      --no-history        record nothing in mig_history (also MIG_NO_HISTORY=1)\n"
	"      --rerun-unfinished  run again, from its first statement, a\n"
	"                          transactional: false migration that a killed run\n"
	"                          left unfinished (after checking what of it ran)\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --lock-timeout SECONDS  give up waiting for another run's lock (exit 4)\n"
	"      --heartbeat SECONDS  while a statement or a lock wait lasts, a line every\n"
	"                          SECONDS on what it waits for (default 30; 0: none)\n"
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
	"Exit: 0 done, 2 bad usage or migration files, 3 database error (the\n"
	"failing migration is rolled back), 4 refused (legacy or unknown state, a\n"
	"read-only standby, a session lock behind a pooler, CockroachDB without\n"
	"--no-lock).\n";

enum { OPT_TO = MIG_OPT_FIRST_OWN, OPT_SQL, OPT_NO_HISTORY, OPT_DIALECT, OPT_RERUN_UNFINISHED };

struct upgrade_opts {
	struct mig_common common;
	const char *to;
	bool sql;
	const char *dialect;	/* --dialect, for --sql without a database */
};

static int upgrade(struct upgrade_opts *o, struct mig_err *err)
{
	struct mig_session s;
	unsigned flags = MIG_NEED_DB | (o->sql ? MIG_DB_READONLY | MIG_PRINT_SQL : MIG_DB_CREATE);
	int rc = mig_session_open(&s, &o->common, flags, err);
	if (rc)
		return rc;
	struct mig_target target = { .spec = o->to, .upgrade = true };
	rc = mig_graph_require_usable(&s.graph, err);
	if (!rc)
		rc = mig_target_check(&target, &s.graph, err);
	if (!rc) {
		struct mig_goal goal = { .upgrade = true, .only = MIG_NONE, .spec = &target };
		rc = mig_move(&s, &goal, o->sql, err);
	}
	mig_target_release(&target);
	mig_session_close(&s);
	return rc;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct upgrade_opts *o = opts;
	(void)err;
	if (opt == OPT_SQL)
		o->sql = true;
	else if (opt == OPT_TO)
		o->to = arg;
	else if (opt == OPT_NO_HISTORY)
		o->common.no_history = true;
	else if (opt == OPT_DIALECT)
		o->dialect = arg;
	else if (opt == OPT_RERUN_UNFINISHED)
		o->common.rerun_unfinished = true;
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		MIG_SCHEMA_LONGOPT,
		MIG_HEARTBEAT_LONGOPT,
		{ "no-history", no_argument, NULL, OPT_NO_HISTORY },
		{ "rerun-unfinished", no_argument, NULL, OPT_RERUN_UNFINISHED },
		{ "sql", no_argument, NULL, OPT_SQL },
		{ "dialect", required_argument, NULL, OPT_DIALECT },
		{ "to", required_argument, NULL, OPT_TO },
		{ NULL, 0, NULL, 0 },
	};
	struct upgrade_opts o = { .to = "head" };
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &o, .max_operands = 0 };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &o.common, argc, argv, &operand, &err);
	if (!rc && !o.sql && (o.dialect || strchr(o.to, ':')))
		mig_usage_error(usage_text, "%s is for --sql (the SQL without a database)",
				o.dialect ? "--dialect" : "a FROM:TO range");
	if (!rc && o.dialect && !mig_offline_wanted(&o.common, o.to))
		mig_usage_error(usage_text, "--dialect is for --sql without a database: "
				"the database's own dialect is used (or give --to FROM:TO)");
	if (!rc && o.sql && mig_offline_wanted(&o.common, o.to)) {
		const struct mig_offline off = { .upgrade = true, .range = o.to,
						 .dialect = o.dialect };
		rc = mig_offline_sql(&o.common, &off, &err);
	} else if (!rc) {
		rc = upgrade(&o, &err);
	}
	if (rc)
		mig_report_error(&err);
	mig_err_release(&err);
	return mig_close_report(rc, !o.sql);
}
