/*
 * mig-new: writes a new migration file, chained to the single head of the
 * migrations folder (or, with --merge, a merge revision joining every
 * head), and prints its path.  The replacement for "alembic revision" and
 * "alembic merge"; with --autogenerate, for "alembic revision
 * --autogenerate": the file holds the SQL that takes the schema of the
 * migrations to the spec, and back.  -m is the migrations folder here as
 * in every mig program, so the message is --message MSG or the one
 * argument.
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen.h"
#include "cli.h"
#include "json.h"
#include "mig.h"
#include "newrev.h"
#include "out.h"
#include "session.h"
#include "sum.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: mig-new [-m DIR] [--head REV [--splice]] [--rev-id ID]\n"
	"               [--branch-label NAME] [--depends-on REV]\n"
	"               [--format text|json] [-q | -v] (--message MSG | MSG)\n"
	"       mig-new --autogenerate [-m DIR] [--spec FILE] [--allow-destructive]\n"
	"               [--sql] [--branch-label NAME] [--format text|json] [-q | -v]\n"
	"               (--message MSG | MSG)\n"
	"       mig-new --merge [-m DIR] [--branch-label NAME] [--format text|json]\n"
	"               [-q | -v] [--message MSG | MSG]\n"
	"\n"
	"Write DIR/versions/<id>_<slug>.sql chained to the head of the graph (a\n"
	"merge revision of all heads with --merge) and print its path.  With\n"
	"--autogenerate the file holds the SQL, both ways and for SQLite and\n"
	"PostgreSQL, that takes the schema of the migrations to the spec.  -m is\n"
	"the migrations folder, as in every mig program: alembic's 'revision -m\n"
	"MSG' is 'mig-new --message MSG' or 'mig-new MSG'.\n"
	"\n"
	"      --message MSG       what the migration does (or give it as MSG)\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"      --merge             join all heads (message default: merge heads)\n"
	"      --autogenerate      write the SQL from the migrations to the spec\n"
	"      --spec FILE         the schema wanted (default: DIR/schema.yaml)\n"
	"      --allow-destructive also drop tables and columns, narrow types\n"
	"      --sql               print the migration instead of writing it\n"
	"      --branch-label NAME label the new revision (may be repeated)\n"
	"      --head REV          the parent: a head, base (a new base), or with\n"
	"                          --splice any revision (a new branch)\n"
	"      --splice            let --head name a revision that is not a head\n"
	"      --rev-id ID         the revision id, instead of a random one\n"
	"      --depends-on REV    a revision (or branch label) this one needs\n"
	"                          besides its parent (may be repeated)\n"
	"      --format FMT        text (default: the path) or json\n"
	"  -q, --quiet             print nothing; the exit status tells\n"
	"  -v, --verbose           print graph warnings and what it chained to\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 written (or no difference to write), 2 bad usage, migration files\n"
	"or spec, 4 refused (several heads without --merge or --head, a --head\n"
	"that is not a head without --splice, the file exists, or changes that\n"
	"destroy data without --allow-destructive).\n";

enum {
	OPT_MESSAGE = MIG_OPT_FIRST_OWN, OPT_MERGE, OPT_BRANCH_LABEL,
	OPT_AUTOGENERATE, OPT_SPEC, OPT_ALLOW_DESTRUCTIVE, OPT_SQL,
	OPT_HEAD, OPT_SPLICE, OPT_REV_ID, OPT_DEPENDS_ON,
};

struct new_opts {
	struct mig_common common;
	struct mig_newrev_opts rev;
	bool autogenerate;
	struct mig_autogen_opts gen;
	bool sql;		/* print, do not write */
};

static bool has_space(const char *s)
{
	return strpbrk(s, " \t\n") != NULL;
}

/*
 * "mig-new -m 'add users'" is alembic's habit: -m is the folder here.  Say
 * so when the folder is missing, or when -m looks like a message and no
 * message was given.
 */
static int check_usage(const struct new_opts *o, struct mig_err *err)
{
	const char *dir = o->common.migrations_dir;
	const char *m_arg = o->common.migrations_given ? dir : NULL;
	char *versions = xasprintf("%s/versions", dir);
	struct stat st;
	bool is_dir = stat(versions, &st) == 0 && S_ISDIR(st.st_mode);
	free(versions);
	if (!is_dir && m_arg) {
		mig_err_set(err, MIG_EINPUT, "-m: '%s' is not a migrations folder "
			    "(it has no versions/)", dir);
		if (o->rev.message)
			return mig_err_hint(err, "-m is --migrations DIR, as in every mig "
					    "program (the message goes with --message); "
					    "mkdir -p '%s/versions' starts a new folder", dir);
		return mig_err_hint(err, "-m is --migrations DIR, as in every mig "
				    "program; give the message with --message, e.g. "
				    "mig-new --message \"%s\"", dir);
	}
	if (!is_dir) {
		mig_err_set(err, MIG_EINPUT, "no migrations folder '%s' (it has no "
			    "versions/)", dir);
		return mig_err_hint(err, "run it where %s/ is, name the folder with -m "
				    "DIR, or start one with mkdir -p '%s/versions'", dir, dir);
	}
	if (!o->rev.message && !o->rev.merge) {
		mig_err_set(err, MIG_EINPUT, "the message is missing");
		if (m_arg && has_space(m_arg))
			return mig_err_hint(err, "-m is --migrations DIR, as in every mig "
					    "program; give the message with --message, "
					    "e.g. mig-new --message \"%s\"", m_arg);
		return mig_err_hint(err, "mig-new --message \"add users table\"");
	}
	return MIG_OK;
}

/* The JSON report; ag is NULL without --autogenerate, nr NULL when there
 * was nothing to write. */
static void report_json(const struct mig_newrev *nr, const struct mig_autogen *ag,
			bool written)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "{\"revision\":");
	json_str(&b, nr ? nr->id : NULL);
	buf_puts(&b, ",\"path\":");
	json_str(&b, nr && written ? nr->path : NULL);
	if (nr) {
		buf_puts(&b, ",\"down_revision\":");
		json_strv(&b, &nr->down);
		buf_puts(&b, ",\"branch_labels\":");
		json_strv(&b, &nr->branch_labels);
		buf_puts(&b, ",\"depends_on\":");
		json_strv(&b, &nr->depends_on);
		buf_puts(&b, ",\"message\":");
		json_str(&b, nr->message);
	}
	if (ag) {
		buf_puts(&b, ",\"spec\":");
		json_str(&b, ag->spec);
		buf_puts(&b, ",\"changes\":");
		json_strv(&b, &ag->changes);
		buf_puts(&b, ",\"destructive\":");
		json_strv(&b, &ag->destructive);
	}
	if (nr && !written) {
		buf_puts(&b, ",\"sql\":");
		json_str(&b, nr->text);
	}
	buf_puts(&b, "}\n");
	mig_json_result(&b);
}

/* What was written (or printed with --sql), and where it was chained. */
static void report(const struct new_opts *o, const struct mig_newrev *nr,
		   const struct mig_autogen *ag)
{
	char *down = strv_join(&nr->down, ", ");
	mig_info(&o->common, "%s %s", o->rev.merge ? "merged" : "chained to",
		 nr->down.n ? down : "none (the first migration)");
	free(down);
	for (size_t i = 0; ag && i < ag->changes.n; i++)
		mig_info(&o->common, "%s", ag->changes.v[i]);
	if (o->common.format == MIG_FORMAT_JSON)
		report_json(nr, ag, !o->sql);
	else if (o->sql)
		fputs(nr->text, stdout);
	else if (o->common.verbosity >= 0)
		printf("%s\n", nr->path);
	if (!o->sql) {
		gh_output("revision", nr->id);
		gh_output("path", nr->path);
	}
}

/* The new file's line goes into mig.sum at once, so the sum check passes
 * on the commit that adds it; the other lines stay as they were, so an
 * edit of an old migration is still caught.  The file stays if the sum
 * cannot be written. */
static int add_to_sum(const struct new_opts *o, const struct mig_newrev *nr,
		      struct mig_err *err)
{
	int rc = mig_sum_add(o->common.migrations_dir, nr->path, err);
	if (rc)
		mig_err_hint(err, "%s was written; once the problem is fixed, run "
			     "mig-verify --update-sum", nr->path);
	return rc;
}

static int new_revision(struct new_opts *o, struct mig_err *err)
{
	struct mig_session s;
	int rc = mig_session_open(&s, &o->common, 0, err);
	if (rc)
		return rc;
	struct mig_newrev nr;
	memset(&nr, 0, sizeof(nr));
	rc = mig_sum_ready(o->common.migrations_dir, err);	/* before any file is written */
	if (!rc)
		rc = mig_newrev_create(&nr, &o->rev, &s.graph, err);
	if (!rc)
		rc = add_to_sum(o, &nr, err);
	if (!rc)
		report(o, &nr, NULL);
	mig_newrev_release(&nr);
	mig_session_close(&s);
	return rc;
}

/* The spec asks for what the migrations already build. */
static void report_same(const struct new_opts *o, const struct mig_autogen *ag)
{
	if (o->common.format == MIG_FORMAT_JSON)
		report_json(NULL, ag, false);
	else if (o->common.verbosity >= 0)
		fprintf(stderr, "%s: no difference between the migrations and %s; "
			"nothing written\n", mig_progname, ag->spec);
}

/* The file from the difference between the migrations and the spec. */
static int autogen_revision(struct new_opts *o, struct mig_err *err)
{
	struct mig_session s;
	int rc = mig_session_open(&s, &o->common, 0, err);
	if (rc)
		return rc;
	struct mig_autogen ag;
	memset(&ag, 0, sizeof(ag));
	rc = mig_newrev_check(&o->rev, &s.graph, err);
	if (!rc && !o->sql)
		rc = mig_sum_ready(o->common.migrations_dir, err);
	if (!rc)
		rc = mig_autogen_run(&ag, &o->gen, &s.graph, err);
	for (size_t i = 0; rc == MIG_ESAFETY && i < ag.destructive.n; i++)
		fprintf(stderr, "%s: destroys data: %s\n", mig_progname, ag.destructive.v[i]);
	if (!rc && !ag.changes.n)
		report_same(o, &ag);
	if (!rc && ag.changes.n) {
		struct mig_newrev nr;
		o->rev.comment = ag.comment;
		o->rev.sections = ag.sections;
		o->rev.print_only = o->sql;
		rc = mig_newrev_create(&nr, &o->rev, &s.graph, err);
		if (!rc && !o->sql)
			rc = add_to_sum(o, &nr, err);
		if (!rc)
			report(o, &nr, &ag);
		mig_newrev_release(&nr);
	}
	mig_autogen_release(&ag);
	mig_session_close(&s);
	return rc;
}

/* Options that only --autogenerate takes, and what it cannot go with. */
static void check_modes(const struct new_opts *o)
{
	const char *lone = o->gen.spec ? "--spec" : o->gen.allow_destructive ?
		"--allow-destructive" : o->sql ? "--sql" : NULL;
	if (!o->autogenerate && lone)
		mig_usage_error(usage_text, "%s goes with --autogenerate", lone);
	if (o->autogenerate && o->rev.merge)
		mig_usage_error(usage_text, "--autogenerate and --merge do not go together: "
				"merge the heads first, then generate on top of the merge");
	if (o->rev.merge && o->rev.head)
		mig_usage_error(usage_text, "--merge and --head do not go together: "
				"--merge joins every head, --head names the parent");
	if (o->rev.splice && !o->rev.head)
		mig_usage_error(usage_text, "--splice goes with --head");
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct new_opts *o = opts;
	(void)err;
	switch (opt) {
	case OPT_ALLOW_DESTRUCTIVE:
		o->gen.allow_destructive = true;
		break;
	case OPT_AUTOGENERATE:
		o->autogenerate = true;
		break;
	case OPT_BRANCH_LABEL:
		strv_push(&o->rev.branch_labels, arg);
		break;
	case OPT_MERGE:
		o->rev.merge = true;
		break;
	case OPT_MESSAGE:
		if (o->rev.message)
			mig_usage_error(usage_text, "--message is given twice");
		o->rev.message = arg;
		break;
	case OPT_SPEC:
		o->gen.spec = arg;
		break;
	case OPT_SQL:
		o->sql = true;
		break;
	case OPT_HEAD:
		if (o->rev.head)
			mig_usage_error(usage_text, "--head is given twice");
		o->rev.head = arg;
		break;
	case OPT_SPLICE:
		o->rev.splice = true;
		break;
	case OPT_REV_ID:
		if (o->rev.rev_id)
			mig_usage_error(usage_text, "--rev-id is given twice");
		o->rev.rev_id = arg;
		break;
	case OPT_DEPENDS_ON:
		strv_push(&o->rev.depends_on, arg);
		break;
	}
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		{ "allow-destructive", no_argument, NULL, OPT_ALLOW_DESTRUCTIVE },
		{ "autogenerate", no_argument, NULL, OPT_AUTOGENERATE },
		{ "branch-label", required_argument, NULL, OPT_BRANCH_LABEL },
		{ "depends-on", required_argument, NULL, OPT_DEPENDS_ON },
		{ "head", required_argument, NULL, OPT_HEAD },
		{ "rev-id", required_argument, NULL, OPT_REV_ID },
		{ "splice", no_argument, NULL, OPT_SPLICE },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "message", required_argument, NULL, OPT_MESSAGE },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "sql", no_argument, NULL, OPT_SQL },
		{ NULL, 0, NULL, 0 },
	};
	struct new_opts o = { .sql = false };
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &o, .max_operands = -1,
		.no_database = "mig-new writes a file and uses no database" };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &o.common, argc, argv, &operand, &err);
	if (!rc) {
		if (argc - operand > 1 || (argc - operand == 1 && o.rev.message))
			mig_usage_error(usage_text, "one message only: quote it, or give "
					"it with --message");
		if (argc - operand == 1)
			o.rev.message = argv[operand];
		check_modes(&o);
		rc = check_usage(&o, &err);
	}
	if (!rc)
		rc = o.autogenerate ? autogen_revision(&o, &err) : new_revision(&o, &err);
	if (rc)
		mig_report_error(&err);
	mig_err_release(&err);
	strv_release(&o.rev.branch_labels);
	strv_release(&o.rev.depends_on);
	return mig_close_stdout(rc);
}
