/*
 * cli.h: what every program's main() shares: the common flags of DESIGN.md
 * (struct mig_common), the parsing of a command line, strict number parsing,
 * error reporting and closing stdout.  Only main() exits: the functions that
 * end the program say so (--help, --version, a usage error).
 */
#ifndef MIG_CLI_H
#define MIG_CLI_H

#include "db.h"
#include "mig.h"

#include <getopt.h>
#include <stdio.h>

enum mig_format { MIG_FORMAT_TEXT, MIG_FORMAT_JSON };

/* Flags every program shares (DESIGN.md "Common flags"). */
struct mig_common {
	const char *database_url;	/* -d, else $DATABASE_URL */
	const char *migrations_dir;	/* -m, default "migrations" */
	bool migrations_given;		/* -m seen (twice must agree) */
	const char *version_table;	/* --version-table */
	const char *version_schema;	/* --version-schema (PostgreSQL) */
	enum mig_format format;		/* --format */
	double wait_seconds;		/* --wait: retry connecting this long */
	double lock_timeout;		/* --lock-timeout; < 0 waits forever */
	enum mig_lock_mode lock_mode;	/* --lock-mode, --no-lock */
	int verbosity;			/* -q: -1, -v: +1 */
	bool no_history;		/* --no-history (history.h) */
	bool rerun_unfinished;		/* --rerun-unfinished (history.h) */
	const char *schema;		/* --schema: the application's (PostgreSQL) */
	double heartbeat;		/* --heartbeat SECONDS (progress.h); 0: off */
	const char *label;		/* --label: the database's name in messages */
};

/* Long-option codes shared by every program (short ones are d m q v h). */
enum mig_common_opt {
	MIG_OPT_FORMAT = 256,
	MIG_OPT_WAIT,
	MIG_OPT_VERSION_TABLE,
	MIG_OPT_VERSION_SCHEMA,
	MIG_OPT_LOCK_TIMEOUT,
	MIG_OPT_VERSION,
	MIG_OPT_LOCK_MODE,
	MIG_OPT_NO_LOCK,
	MIG_OPT_SCHEMA,
	MIG_OPT_HEARTBEAT,	/* only where MIG_HEARTBEAT_LONGOPT is listed */
	MIG_OPT_LABEL,
	MIG_OPT_FIRST_OWN,	/* programs number their own long options from here */
};
#define MIG_COMMON_SHORTOPTS "d:m:qvh"
/* --schema NAME: where the application's tables are (PostgreSQL; default
 * the connection's current_schema()), for the programs that look at them:
 * mig-upgrade, mig-downgrade, mig-status, mig-stamp, mig-verify,
 * mig-check-schema.  Parsed by mig_common_option into mig_common.schema. */
#define MIG_SCHEMA_LONGOPT { "schema", required_argument, NULL, MIG_OPT_SCHEMA }
#define MIG_COMMON_LONGOPTS \
	{ "database-url", required_argument, NULL, 'd' }, \
	{ "migrations", required_argument, NULL, 'm' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "format", required_argument, NULL, MIG_OPT_FORMAT }, \
	{ "wait", required_argument, NULL, MIG_OPT_WAIT }, \
	{ "version-table", required_argument, NULL, MIG_OPT_VERSION_TABLE }, \
	{ "version-schema", required_argument, NULL, MIG_OPT_VERSION_SCHEMA }, \
	{ "lock-timeout", required_argument, NULL, MIG_OPT_LOCK_TIMEOUT }, \
	{ "lock-mode", required_argument, NULL, MIG_OPT_LOCK_MODE }, \
	{ "no-lock", no_argument, NULL, MIG_OPT_NO_LOCK }, \
	{ "label", required_argument, NULL, MIG_OPT_LABEL }, \
	{ "version", no_argument, NULL, MIG_OPT_VERSION }
/* --heartbeat, for the programs that run migrations (progress.h). */
#define MIG_HEARTBEAT_LONGOPT \
	{ "heartbeat", required_argument, NULL, MIG_OPT_HEARTBEAT }

/* Sets mig_progname from argv[0] and the defaults of *c. */
void mig_init(const char *argv0, struct mig_common *c);
/*
 * Handles one getopt_long result if it is a common flag.  Returns 1 when
 * handled, 0 when the option is the program's own, and MIG_EINPUT (with err
 * set) for a bad value.  'h' and --version are mig_parse_command_line's.
 */
int mig_common_option(struct mig_common *c, int opt, const char *arg,
		      struct mig_err *err);
/*
 * A program's command line for mig_parse_command_line: its --help text, its
 * long options (MIG_COMMON_LONGOPTS and its own, numbered from
 * MIG_OPT_FIRST_OWN) and the handler of its own options.
 */
struct mig_command_line {
	const char *usage;
	const struct option *longopts;
	/* One own option into *opts: MIG_OK, or a code with err set.  A usage
	 * mistake may end the program with mig_usage_error instead. */
	int (*own_option)(void *opts, int opt, const char *arg, struct mig_err *err);
	void *opts;
	int max_operands;	/* more are refused; -1: the program checks */
	/* Non-NULL: the flags that name a database are refused, with this
	 * reason ("mig-new writes a file and uses no database"). */
	const char *no_database;
	/* The program's own short options in getopt's form ("r:"), handed to
	 * own_option as their letter; NULL: none. */
	const char *own_shortopts;
};
/*
 * mig_init, then every flag of argv: the common ones into *common, the
 * program's own through cl->own_option.  Returns MIG_OK with *operand the
 * index of the first operand, or a code with err set (a bad value).  Ends
 * the program for --help and --version (exit 0) and for an unknown flag or
 * an extra operand (the usage on stderr, exit 2).
 */
int mig_parse_command_line(const struct mig_command_line *cl, struct mig_common *common,
			   int argc, char **argv, int *operand, struct mig_err *err);
/* Prints USAGE on FP and exits with CODE. */
void mig_usage(const char *usage, FILE *fp, int code) __attribute__((noreturn));
/* "prog: message" and USAGE on stderr; exits 2. */
void mig_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Fills database_url from $DATABASE_URL when -d was not given. */
int mig_common_need_url(struct mig_common *c, struct mig_err *err);
/* Strict number parsing for flags: "--wait 5", "--lock-timeout 0.5". */
int mig_parse_seconds(const char *flag, const char *arg, double *out,
		      struct mig_err *err);
int mig_parse_int(const char *flag, const char *arg, long min, long max,
		  long *out, struct mig_err *err);
void mig_print_version(void);
/* Prints "prog: msg" and the hint on stderr, a database error's or a
 * refusal's message naming the database (mig_subject, out.h) when one is
 * known and the message does not name it already; under GitHub Actions
 * also the annotation and, when the program wrote none, the step summary
 * (gh_summary_error).  Returns err->code. */
int mig_report_error(const struct mig_err *err);
/* Closes stdout, reporting a write error (full disk) as MIG_EINPUT... */
int mig_close_stdout(int rc);
/*
 * The same for a run that may have changed the database (mig-upgrade,
 * mig-downgrade, mig-stamp, not --sql or --dry-run): when database_written,
 * a report that could not be written (a closed pipe, a full disk) is said
 * on stderr and rc is returned unchanged, so the exit status always says
 * what happened to the database.
 */
int mig_close_report(int rc, bool database_written);

void mig_info(const struct mig_common *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
