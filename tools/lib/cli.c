/*
 * cli.c: what every program's main() shares: its name, the parsing of its
 * command line with the common flags of DESIGN.md, strict number parsing,
 * error reporting and closing stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "db.h"
#include "findings.h"
#include "json.h"
#include "mig.h"
#include "progress.h"
#include "out.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void mig_init(const char *argv0, struct mig_common *c)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	mig_progname = slash ? slash + 1 : (argv0 ? argv0 : "mig");
	/* "mig-upgrade | head -1" must not be killed between two migrations:
	 * a write to a closed pipe fails with EPIPE instead, the run goes on,
	 * and mig_close_report() says what was lost. */
	signal(SIGPIPE, SIG_IGN);
	mig_gate_open();
	memset(c, 0, sizeof(*c));
	c->migrations_dir = "migrations";
	c->version_table = MIG_DEFAULT_VERSION_TABLE;
	c->lock_timeout = -1;
	c->heartbeat = MIG_HEARTBEAT_DEFAULT;
}

int mig_parse_seconds(const char *flag, const char *arg, double *out,
		      struct mig_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 86400.0)
		return mig_err_set(err, MIG_EINPUT,
				   "%s: '%s' is not a number of seconds (0 to 86400)",
				   flag, arg);
	*out = v;
	return MIG_OK;
}

int mig_parse_int(const char *flag, const char *arg, long min, long max,
		  long *out, struct mig_err *err)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return mig_err_set(err, MIG_EINPUT,
				   "%s: '%s' is not a whole number from %ld to %ld",
				   flag, arg, min, max);
	*out = (long)v;
	return MIG_OK;
}

static int check_identifier(const char *flag, const char *arg, struct mig_err *err)
{
	size_t n = strlen(arg);
	if (n == 0 || n > 63)
		return mig_err_set(err, MIG_EINPUT,
				   "%s: a name of 1 to 63 characters is needed", flag);
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20)
			return mig_err_set(err, MIG_EINPUT,
					   "%s: control characters are not allowed", flag);
	return MIG_OK;
}

static int lock_flags_clash(struct mig_err *err)
{
	return mig_err_set(err, MIG_EINPUT, "--no-lock and --lock-mode contradict "
			   "each other; pass one");
}

int mig_common_option(struct mig_common *c, int opt, const char *arg,
		      struct mig_err *err)
{
	int rc;
	switch (opt) {
	case 'd':
		/* "-d $STAGING_URL" with the variable unset must not fall back
		 * to $DATABASE_URL, which in a workflow is production. */
		if (!*arg)
			return mig_err_set(err, MIG_EINPUT, "-d/--database-url: the URL "
					   "is empty (an unset variable?); no database "
					   "is used in its place");
		/* Which of two databases a deploy meant is not ours to guess;
		 * the URLs themselves may hold passwords, so neither is shown. */
		if (c->database_url && strcmp(c->database_url, arg) != 0)
			return mig_err_set(err, MIG_EINPUT, "-d/--database-url given "
					   "twice with different URLs; pass one");
		c->database_url = arg;
		return 1;
	case 'm':
		if (!*arg)
			return mig_err_set(err, MIG_EINPUT, "-m/--migrations: a folder "
					   "is needed (the default is 'migrations')");
		if (c->migrations_given && strcmp(c->migrations_dir, arg) != 0)
			return mig_err_set(err, MIG_EINPUT, "-m/--migrations given "
					   "twice: '%s' and '%s'; pass one",
					   c->migrations_dir, arg);
		c->migrations_dir = arg;
		c->migrations_given = true;
		return 1;
	case 'q':
		c->verbosity = -1;
		return 1;
	case 'v':
		c->verbosity = 1;
		return 1;
	case MIG_OPT_FORMAT:
		if (!strcmp(arg, "text"))
			c->format = MIG_FORMAT_TEXT;
		else if (!strcmp(arg, "json"))
			c->format = MIG_FORMAT_JSON;
		else
			return mig_err_set(err, MIG_EINPUT,
					   "--format: '%s' is not text or json", arg);
		mig_json_enable(c->format == MIG_FORMAT_JSON);
		return 1;
	case MIG_OPT_WAIT:
		rc = mig_parse_seconds("--wait", arg, &c->wait_seconds, err);
		return rc ? rc : 1;
	case MIG_OPT_LOCK_TIMEOUT:
		rc = mig_parse_seconds("--lock-timeout", arg, &c->lock_timeout, err);
		return rc ? rc : 1;
	case MIG_OPT_HEARTBEAT:
		rc = mig_parse_seconds("--heartbeat", arg, &c->heartbeat, err);
		return rc ? rc : 1;
	case MIG_OPT_LOCK_MODE:
		if (strcmp(arg, "session") != 0 && strcmp(arg, "transaction") != 0)
			return mig_err_set(err, MIG_EINPUT, "--lock-mode: '%s' is not "
					   "session or transaction", arg);
		if (c->lock_mode == MIG_LOCK_NONE)
			return lock_flags_clash(err);
		c->lock_mode = !strcmp(arg, "transaction") ? MIG_LOCK_TRANSACTION
							    : MIG_LOCK_SESSION;
		return 1;
	case MIG_OPT_NO_LOCK:
		if (c->lock_mode != MIG_LOCK_AUTO && c->lock_mode != MIG_LOCK_NONE)
			return lock_flags_clash(err);
		c->lock_mode = MIG_LOCK_NONE;
		return 1;
	case MIG_OPT_VERSION_TABLE:
		rc = check_identifier("--version-table", arg, err);
		c->version_table = arg;
		return rc ? rc : 1;
	case MIG_OPT_VERSION_SCHEMA:
		rc = check_identifier("--version-schema", arg, err);
		c->version_schema = arg;
		return rc ? rc : 1;
	case MIG_OPT_SCHEMA:
		rc = check_identifier("--schema", arg, err);
		c->schema = arg;
		return rc ? rc : 1;
	case MIG_OPT_LABEL:
		if (!*arg || strlen(arg) > 200)
			return mig_err_set(err, MIG_EINPUT, "--label: a name of 1 to "
					   "200 characters is needed");
		for (const char *p = arg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return mig_err_set(err, MIG_EINPUT, "--label: control "
						   "characters are not allowed");
		if (c->label && strcmp(c->label, arg) != 0)
			return mig_err_set(err, MIG_EINPUT, "--label given twice: "
					   "'%s' and '%s'; pass one", c->label, arg);
		c->label = arg;
		mig_subject_label(arg);
		return 1;
	default:
		return 0;
	}
}

int mig_common_need_url(struct mig_common *c, struct mig_err *err)
{
	if (!c->database_url) {
		const char *env = getenv("DATABASE_URL");
		if (env && !*env)
			return mig_err_set(err, MIG_EINPUT, "DATABASE_URL is set but "
					   "empty; pass -d URL or set it to a URL");
		c->database_url = env;
	}
	if (!c->database_url) {
		mig_err_set(err, MIG_EINPUT, "no database given");
		return mig_err_hint(err, "pass -d URL or set DATABASE_URL "
				    "(e.g. sqlite:///app.db or postgresql://user@host/db)");
	}
	return MIG_OK;
}

void mig_print_version(void)
{
	printf("%s (mig) %s\nLicense: MIT <https://opensource.org/license/mit>\n", mig_progname,
	       MIG_VERSION);
}

void mig_usage(const char *usage, FILE *fp, int code)
{
	fputs(usage, fp);
	exit(code);
}

/* The synopsis: the usage text up to its first empty line. */
static size_t synopsis_length(const char *usage)
{
	const char *end = strstr(usage, "\n\n");
	return end ? (size_t)(end - usage) + 1 : strlen(usage);
}

/* A usage mistake (msg, which is freed): the one line that says what is wrong, the synopsis
 * and where the rest is, on stderr (the whole --help buries the line);
 * with --format json also the error document.  Exits 2. */
static void __attribute__((noreturn)) usage_failed(const char *usage, char *msg)
{
	fprintf(stderr, "%s: %s\n", mig_progname, msg);
	fwrite(usage, 1, synopsis_length(usage), stderr);
	fprintf(stderr, "Try '%s --help' for more.\n", mig_progname);
	if (gh_active())
		gh_annotate(stderr, MIG_SEV_ERROR, NULL, 0, "usage", msg);
	char *hint = xasprintf("see %s --help", mig_progname);
	mig_json_error(MIG_EINPUT, "usage", msg, hint);
	free(hint);
	free(msg);
	exit(mig_close_stdout(MIG_EINPUT));
}

void mig_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap, len;
	va_start(ap, fmt);
	va_copy(len, ap);
	int n = vsnprintf(NULL, 0, fmt, len);
	va_end(len);
	char *msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	msg[0] = '\0';
	if (n > 0)
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	usage_failed(usage, msg);
}

/* --format json before anything is parsed, so that a usage mistake
 * earlier on the command line is reported as a document too. */
static void prescan_format(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!strcmp(argv[i], "--format=json") ||
		    (!strcmp(argv[i], "--format") && i + 1 < argc &&
		     !strcmp(argv[i + 1], "json")))
			mig_json_enable(true);
	}
}

/* The common flags that name a database, for a program that has none. */
static const char *database_flag(int opt)
{
	switch (opt) {
	case 'd':
		return "--database-url";
	case MIG_OPT_WAIT:
		return "--wait";
	case MIG_OPT_VERSION_TABLE:
		return "--version-table";
	case MIG_OPT_VERSION_SCHEMA:
		return "--version-schema";
	case MIG_OPT_LOCK_TIMEOUT:
		return "--lock-timeout";
	case MIG_OPT_LABEL:
		return "--label";
	}
	return NULL;
}

int mig_parse_command_line(const struct mig_command_line *cl, struct mig_common *common,
			   int argc, char **argv, int *operand, struct mig_err *err)
{
	int opt, rc;
	/* the program's own letters are a constant of the program, never input */
	char optstring[sizeof(":" MIG_COMMON_SHORTOPTS) + 16];
	const char *own_short = cl->own_shortopts ? cl->own_shortopts : "";
	if (strlen(own_short) > 16 - 1)
		abort();
	snprintf(optstring, sizeof(optstring), ":%s%s", MIG_COMMON_SHORTOPTS, own_short);
	mig_init(argv[0], common);
	prescan_format(argc, argv);
	opterr = 0;	/* its messages are said here, once, as usage errors */
	while ((opt = getopt_long(argc, argv, optstring, cl->longopts, NULL)) != -1) {
		if (opt == '?' && optopt)
			mig_usage_error(cl->usage, "unknown option '-%c'", optopt);
		if (opt == '?')
			mig_usage_error(cl->usage, "unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			mig_usage_error(cl->usage, "option '%s' needs a value",
					argv[optind - 1]);
		if (cl->no_database && database_flag(opt))
			mig_usage_error(cl->usage, "%s: %s", database_flag(opt), cl->no_database);
		if (opt == 'h')
			mig_usage(cl->usage, stdout, 0);
		if (opt == MIG_OPT_VERSION) {
			mig_print_version();
			exit(mig_close_stdout(0));
		}
		if (opt >= MIG_OPT_FIRST_OWN || (opt > ':' && opt < 128 && *own_short &&
						   strchr(own_short, opt)))
			rc = cl->own_option(cl->opts, opt, optarg, err);
		else if ((rc = mig_common_option(common, opt, optarg, err)) == 1)
			rc = MIG_OK;
		else if (rc == 0)
			mig_usage_error(cl->usage, "unknown option '%s'", argv[optind - 1]);
		if (rc)
			return rc;
	}
	if (cl->max_operands >= 0 && argc - optind > cl->max_operands)
		mig_usage_error(cl->usage, "unexpected argument '%s'",
				argv[optind + cl->max_operands]);
	*operand = optind;
	return MIG_OK;
}

static bool concerns_database(int code)
{
	return code == MIG_EDB || code == MIG_ESAFETY;
}

/* Under GitHub Actions an error naming "file:line: " becomes an annotation
 * on that line of the pull request. */
static void annotate_error(const struct mig_err *err)
{
	const char *m = err->msg;
	size_t flen = strcspn(m, ":");
	char *end = NULL;
	long line = m[flen] == ':' ? strtol(m + flen + 1, &end, 10) : 0;
	bool placed = line > 0 && end && end[0] == ':' && end[1] == ' ' && line < 100000000;
	const char *text = placed ? end + 2 : m;
	/* an annotation sits on the file already: it names a database that
	 * --label named (a fleet), not every run's URL */
	const char *who = concerns_database(err->code) ? mig_subject_given_label() : NULL;
	char *named = who && !strstr(m, who) ? xasprintf("%s: %s", who, text)
					     : xstrdup(text);
	char *file = placed ? xstrndup(m, flen) : NULL;
	gh_annotate(stderr, MIG_SEV_ERROR, file, placed ? (int)line : 0,
		    mig_error_kind(err->code), named);
	free(file);
	free(named);
}

int mig_report_error(const struct mig_err *err)
{
	if (err->msg && gh_active())
		annotate_error(err);
	/* In a fleet's log every line about a database (a database error, a
	 * refusal) must say which one; "cannot connect to URL" says it
	 * already, and bad input or usage is about files and flags. */
	const char *who = concerns_database(err->code) ? mig_subject() : NULL;
	if (err->msg && who && !strstr(err->msg, who))
		fprintf(stderr, "%s: %s: %s\n", mig_progname, who, err->msg);
	else if (err->msg)
		fprintf(stderr, "%s: %s\n", mig_progname, err->msg);
	if (err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	mig_json_error(err->code, NULL, err->msg, err->hint);
	gh_summary_error(err);
	return err->code;
}

int mig_close_report(int rc, bool database_written)
{
	mig_json_write(rc);
	errno = 0;
	bool bad = ferror(stdout);
	if (fclose(stdout) != 0)
		bad = true;
	if (!bad)
		return rc;
	if (database_written) {
		fprintf(stderr, "%s: the report was not fully written (%s); the exit "
			"status is the database's\n", mig_progname,
			errno ? strerror(errno) : "write error");
		return rc;
	}
	fprintf(stderr, "%s: cannot write the output: %s\n", mig_progname,
		errno ? strerror(errno) : "write error");
	return rc ? rc : MIG_EINPUT;
}

int mig_close_stdout(int rc)
{
	return mig_close_report(rc, false);
}

void mig_info(const struct mig_common *c, const char *fmt, ...)
{
	if (c->verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	mig_vwarn(fmt, ap);
	va_end(ap);
}
