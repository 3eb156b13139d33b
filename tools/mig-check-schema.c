/*
 * mig-check-schema: compares the schema of a live database with a YAML
 * spec and lists every difference, or writes the spec of a live database
 * (--dump).  Whatever the spec says, a foreign key whose column type
 * differs from the referenced column's is reported: SQLite accepts it,
 * PostgreSQL refuses it.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "compare.h"
#include "db.h"
#include "findings.h"
#include "json.h"
#include "mig.h"
#include "out.h"
#include "schema.h"
#include "session.h"
#include "spec.h"
#include "spec_dump.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-check-schema [-d URL] (--spec FILE [--strict] | --dump)\n"
	"                        [--schema NAME] [--include-version-table]\n"
	"                        [--format text|json] [--wait SECONDS]\n"
	"                        [--version-table NAME] [-q | -v]\n"
	"\n"
	"Compare a live database's schema with a YAML spec, or write its spec.\n"
	"\n"
	"  -d, --database-url URL  database (default: $DATABASE_URL)\n"
	"      --spec FILE         the expected schema (YAML)\n"
	"      --strict            also report what the spec does not mention\n"
	"      --dump              write the database's schema as a spec to stdout\n"
	"                          (YAML; JSON with --format json)\n"
	"      --schema NAME       PostgreSQL schema to read (default: the\n"
	"                          connection's current_schema(), often public)\n"
	"      --include-version-table  do not leave out the version table\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --version-table NAME    the version table to leave out\n"
	"      --label NAME        the database's name in its errors, the summary and\n"
	"                          the JSON document (default: its URL, masked)\n"
	"  -q, --quiet             print nothing; the exit status tells\n"
	"  -v, --verbose           print server notices\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 the schema matches, 1 differences found, 2 bad usage or spec,\n"
	"3 database error.\n";

enum { OPT_SPEC = MIG_OPT_FIRST_OWN, OPT_STRICT, OPT_DUMP, OPT_WITH_VT };

struct check_opts {
	struct mig_common common;
	const char *spec;
	bool strict, dump, with_vt;
};

static void report_text(const struct check_opts *o, const struct mig_schema *live,
			const struct mig_findings *f)
{
	if (o->common.verbosity < 0)
		return;
	mig_findings_print(stdout, f, true);
	size_t n = mig_findings_count(f, MIG_SEV_ERROR);
	if (n)
		printf("%zu difference%s from %s\n", n, n == 1 ? "" : "s", o->spec);
	else
		printf("schema matches %s (%zu tables)\n", o->spec, live->ntables);
}

static void report_json(const struct check_opts *o, const struct mig_schema *live,
			const struct mig_findings *f)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "{\"spec\":");
	json_str(&b, o->spec);
	buf_printf(&b, ",\"tables\":%zu,\"findings\":", live->ntables);
	mig_findings_json(&b, f);
	buf_puts(&b, "}\n");
	mig_json_result(&b);
}

static void report_github(const struct check_opts *o, const struct mig_findings *f)
{
	if (!gh_active())
		return;
	mig_findings_annotate(f);
	struct mig_buf md = MIG_BUF_INIT;
	size_t n = mig_findings_count(f, MIG_SEV_ERROR);
	buf_printf(&md, "### mig-check-schema: %s\n\n", n ? "differences" : "schema matches");
	if (mig_subject()) {
		buf_puts(&md, "Database: ");
		md_text(&md, mig_subject());
		buf_puts(&md, "\n\n");
	}
	/* the messages quote the database's own names: escaped (md_text) */
	for (size_t i = 0; i < f->n; i++) {
		buf_puts(&md, "- ");
		md_text(&md, f->v[i].msg);
		buf_putc(&md, '\n');
	}
	if (!n) {
		buf_puts(&md, "The database matches ");
		md_text(&md, o->spec);
		buf_puts(&md, ".\n");
	}
	buf_putc(&md, '\n');
	gh_summary(buf_str(&md));
	gh_output("differences", n ? "true" : "false");
	buf_release(&md);
}

static int check(struct check_opts *o, struct mig_err *err)
{
	struct mig_schema spec = { .tables = NULL }, live = { .tables = NULL };
	int rc = o->dump ? MIG_OK : mig_spec_load(&spec, o->spec, o->strict, err);
	if (rc)
		return rc;
	struct mig_session s;
	rc = mig_session_open(&s, &o->common, MIG_NEED_DB | MIG_DB_READONLY | MIG_NO_GRAPH, err);
	if (!rc) {
		/* NULL: the connection's current_schema() */
		rc = mig_db_introspect(s.db, s.vt.app_schema, o->with_vt ? NULL : s.vt.table,
				       &live, err);
		mig_session_close(&s);
	}
	if (!rc && o->dump && o->common.format == MIG_FORMAT_JSON) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "{\"tables\":");
		mig_schema_json(&b, &live);
		buf_putc(&b, '}');
		mig_json_result(&b);
	} else if (!rc && o->dump) {
		rc = mig_spec_dump(&live, stdout, err);
	} else if (!rc) {
		struct mig_findings f = MIG_FINDINGS_INIT;
		mig_schema_compare(&live, &spec, o->strict, &f);
		mig_schema_check_fk_types(&live, &f);
		if (o->common.format == MIG_FORMAT_JSON)
			report_json(o, &live, &f);
		else
			report_text(o, &live, &f);
		report_github(o, &f);
		rc = mig_findings_count(&f, MIG_SEV_ERROR) ? MIG_EFOUND : MIG_OK;
		mig_findings_release(&f);
	}
	mig_schema_release(&live);
	mig_schema_release(&spec);
	return rc;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct check_opts *o = opts;
	(void)err;
	switch (opt) {
	case OPT_DUMP:
		o->dump = true;
		break;
	case OPT_WITH_VT:
		o->with_vt = true;
		break;
	case OPT_SPEC:
		o->spec = arg;
		break;
	case OPT_STRICT:
		o->strict = true;
		break;
	}
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		MIG_SCHEMA_LONGOPT,
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "include-version-table", no_argument, NULL, OPT_WITH_VT },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o = { .spec = NULL };
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &o, .max_operands = 0 };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &o.common, argc, argv, &operand, &err);
	if (!rc && o.dump == !!o.spec)
		mig_usage_error(usage_text, "give either --spec FILE or --dump");
	if (!rc)
		rc = check(&o, &err);
	if (rc > MIG_EFOUND)
		mig_report_error(&err);
	mig_err_release(&err);
	return mig_close_stdout(rc);
}
