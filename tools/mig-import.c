/*
 * mig-import: converts an Alembic history (.py scripts) into mig files by
 * recording what Alembic executes on scratch databases, and proves that the
 * files build the same databases at every revision, up and down.  The work
 * is in tools/lib/import.c; this file is the command line and the report.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "findings.h"
#include "import.h"
#include "json.h"
#include "mig.h"
#include "out.h"
#include "url.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-import (--alembic-ini FILE | --scripts DIR) [-m DIR | --check DIR]\n"
	"                  [--scratch-url URL] [--dialect sqlite|postgresql]\n"
	"                  [--python PATH] [--version-table NAME] [--force]\n"
	"                  [--format text|json] [-q | -v]\n"
	"\n"
	"Convert an Alembic history into mig files by recording what Alembic\n"
	"executes on scratch databases, then prove that the files build the same\n"
	"databases at every revision, up and down.\n"
	"\n"
	"      --alembic-ini FILE  the project's alembic.ini (its script_location)\n"
	"      --scripts DIR       or the script folder itself (DIR/versions/*.py)\n"
	"  -m, --migrations DIR    write DIR/versions/*.sql (default: migrations)\n"
	"      --check DIR         write nothing: prove the files already in DIR\n"
	"      --scratch-url URL   an empty PostgreSQL database to record on\n"
	"                          (default: $MIG_IMPORT_SCRATCH_URL); without one,\n"
	"                          only SQLite is recorded\n"
	"      --dialect D         record only sqlite or only postgresql\n"
	"      --python PATH       the Python with the project's Alembic\n"
	"                          (default: python3 on PATH)\n"
	"      --version-table NAME\n"
	"                          the version table the project's env.py gives\n"
	"                          Alembic (default: alembic_version)\n"
	"      --force             write over migration files already in DIR\n"
	"      --format FMT        text (default) or json\n"
	"  -q, --quiet             print only errors\n"
	"  -v, --verbose           also print what each flagged revision read\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 imported and proved, 1 the history has graph errors, a revision\n"
	"raised, or the proof found differences, 2 bad usage or input (no Python,\n"
	"no Alembic, a history Alembic cannot load), 3 database error, 4 refused\n"
	"(a non-empty scratch database, an output folder with migrations).\n";

enum {
	OPT_INI = MIG_OPT_FIRST_OWN, OPT_SCRIPTS, OPT_CHECK, OPT_SCRATCH, OPT_DIALECT,
	OPT_PYTHON, OPT_FORCE, OPT_VERSION_TABLE,
};

struct import_cli {
	struct mig_common common;
	struct mig_import_opts o;
	const char *dialect;
};

static const char *direction(bool upgrade)
{
	return upgrade ? "upgrade" : "downgrade";
}

static void report_text(const struct import_cli *c, const struct mig_import *im, int rc)
{
	if (im->findings.n)
		mig_findings_print(stdout, &im->findings, true);
	if (c->common.verbosity < 0 && !rc)
		return;
	if (im->nsteps) {
		printf("%-32s  %-10s  %-9s  %10s  %s\n", "REVISION", "DIALECT", "STEP",
		       "STATEMENTS", "IDENTICAL");
		for (size_t i = 0; i < im->nsteps; i++) {
			const struct mig_import_step *s = &im->steps[i];
			printf("%-32s  %-10s  %-9s  %10zu  %s\n", im->revs[s->rev].id,
			       mig_dialect_name(s->dialect), direction(s->upgrade), s->statements,
			       s->identical ? "yes" : "NO");
		}
	}
	for (size_t i = 0; i < im->nrevs; i++) {
		const struct mig_import_rev *r = &im->revs[i];
		const char *file = r->file ? r->file : r->source;
		if (mig_import_rev_read(r))
			printf("review: %s: %s read the database (catalog query or SELECT); on "
			       "another database it may run other statements\n", file, r->id);
		for (int d = 0; c->common.verbosity > 0 && d < 2; d++)
			for (int up = 1; up >= 0; up--)
				for (size_t k = 0; k < r->runs[d][up].reads.n; k++)
					printf("  %s %s read: %s\n", d ? "postgresql" : "sqlite",
					       direction(up), r->runs[d][up].reads.v[k]);
		if (mig_import_rev_autocommit(r))
			printf("review: %s: %s runs outside a transaction (autocommit_block)\n",
			       file, r->id);
		char *why = mig_import_rev_unfinished(r);
		if (why)
			printf("unfinished: %s: %s: %s; finish it by hand\n", file, r->id, why);
		free(why);
	}
	for (size_t i = 0; i < im->stops.n; i++)
		printf("%s\n", im->stops.v[i]);
	if (im->diff.len)
		fputs(buf_str(&im->diff), stdout);
	if (!rc)
		printf("%s %zu revision%s into %s with %s; identical at all %zu steps\n",
		       c->o.check_only ? "proved" : "imported", im->nrevs,
		       im->nrevs == 1 ? "" : "s", im->dir, im->env ? im->env : "env.py",
		       im->nsteps);
}

/* The result's members; json.c adds ok, format and the error (the one
 * document of the JSON contract). */
static void report_json(const struct import_cli *c, const struct mig_import *im)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_printf(&b, "{\"check\":%s,\"dir\":", c->o.check_only ? "true" : "false");
	json_str(&b, im->dir);
	buf_puts(&b, ",\"env\":");
	json_str(&b, im->env);
	buf_puts(&b, ",\"revisions\":[");
	for (size_t i = 0; i < im->nrevs; i++) {
		const struct mig_import_rev *r = &im->revs[i];
		buf_puts(&b, i ? ",{\"revision\":" : "{\"revision\":");
		json_str(&b, r->id);
		buf_puts(&b, ",\"file\":");
		json_str(&b, r->file);
		buf_puts(&b, ",\"source\":");
		json_str(&b, r->source);
		buf_printf(&b, ",\"read_database\":%s,\"autocommit\":%s,\"raised\":%s",
			   mig_import_rev_read(r) ? "true" : "false",
			   mig_import_rev_autocommit(r) ? "true" : "false",
			   mig_import_rev_failed(r) ? "true" : "false");
		char *why = mig_import_rev_unfinished(r);
		buf_puts(&b, ",\"unfinished\":");
		json_str(&b, why);
		buf_putc(&b, '}');
		free(why);
	}
	buf_puts(&b, "],\"proof_stopped\":");
	json_strv(&b, &im->stops);
	buf_puts(&b, ",\"steps\":[");
	for (size_t i = 0; i < im->nsteps; i++) {
		const struct mig_import_step *s = &im->steps[i];
		buf_puts(&b, i ? ",{\"revision\":" : "{\"revision\":");
		json_str(&b, im->revs[s->rev].id);
		buf_printf(&b, ",\"dialect\":\"%s\",\"step\":\"%s\",\"statements\":%zu,"
			   "\"identical\":%s}", mig_dialect_name(s->dialect),
			   direction(s->upgrade), s->statements, s->identical ? "true" : "false");
	}
	buf_puts(&b, "],\"differences\":[");
	const char *p = buf_str(&im->diff);
	for (bool first = true; *p; first = false) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n);
		if (!first)
			buf_putc(&b, ',');
		json_str(&b, line);
		free(line);
		p += n + (nl != NULL);
	}
	buf_puts(&b, "],\"findings\":");
	mig_findings_json(&b, &im->findings);
	buf_putc(&b, '}');
	mig_json_result(&b);
	buf_release(&b);
}

/* Under GitHub Actions: annotations, the table as the step summary, outputs. */
static void report_github(const struct mig_import *im, int rc)
{
	if (!gh_active())
		return;
	mig_findings_annotate(&im->findings);
	struct mig_buf md = MIG_BUF_INIT;
	buf_printf(&md, "### mig-import: %s\n\n", rc ? "failed" : "imported and proved");
	if (im->nsteps)
		buf_puts(&md, "| revision | dialect | step | statements | identical |\n"
			 "|---|---|---|---:|---|\n");
	for (size_t i = 0; i < im->nsteps; i++) {
		const struct mig_import_step *s = &im->steps[i];
		buf_printf(&md, "| `%s` | %s | %s | %zu | %s |\n", im->revs[s->rev].id,
			   mig_dialect_name(s->dialect), direction(s->upgrade), s->statements,
			   s->identical ? "yes" : "**no**");
	}
	for (size_t i = 0; i < im->nrevs; i++) {
		const struct mig_import_rev *r = &im->revs[i];
		if (mig_import_rev_read(r))
			buf_printf(&md, "\n- review `%s`: it read the database", r->id);
		if (mig_import_rev_autocommit(r))
			buf_printf(&md, "\n- review `%s`: it runs outside a transaction", r->id);
		char *why = mig_import_rev_unfinished(r);
		if (why) {
			buf_printf(&md, "\n- **unfinished** `%s`: %s; finish it by hand", r->id,
				   why);
			/* On the file, where a pull request shows it. */
			char *msg = xasprintf("%s is unfinished: %s; finish it by hand", r->id,
					      why);
			gh_annotate(stderr, MIG_SEV_ERROR, r->file ? r->file : r->source, 0,
				    "unfinished", msg);
			free(msg);
		}
		free(why);
	}
	buf_puts(&md, "\n\n");
	gh_summary(buf_str(&md));
	buf_release(&md);
	char *n = xasprintf("%zu", im->nrevs);
	gh_output("revisions", n);
	free(n);
	gh_output("identical", !rc && im->nsteps ? "true" : "false");
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct import_cli *c = opts;
	(void)err;
	switch (opt) {
	case OPT_INI:
		c->o.alembic_ini = arg;
		break;
	case OPT_SCRIPTS:
		c->o.scripts = arg;
		break;
	case OPT_CHECK:
		c->o.check_only = true;
		c->common.migrations_dir = arg;
		break;
	case OPT_SCRATCH:
		c->o.scratch_url = arg;
		break;
	case OPT_DIALECT:
		c->dialect = arg;
		break;
	case OPT_PYTHON:
		c->o.python = arg;
		break;
	case OPT_FORCE:
		c->o.force = true;
		break;
	case OPT_VERSION_TABLE: {
		/* The common flag's checks; for mig-import it names Alembic's
		 * table, not a database's. */
		int rc = mig_common_option(&c->common, MIG_OPT_VERSION_TABLE, arg, err);
		return rc == 1 ? MIG_OK : rc;
	}
	}
	return MIG_OK;
}

/* Which dialects to record, from --dialect and whether a scratch URL is known. */
static void choose_dialects(struct import_cli *c)
{
	if (!c->o.scratch_url) {
		const char *env = getenv("MIG_IMPORT_SCRATCH_URL");
		c->o.scratch_url = env && *env ? env : NULL;
	}
	if (!c->dialect) {
		c->o.dialects = MIG_IMPORT_SQLITE | (c->o.scratch_url ? MIG_IMPORT_POSTGRESQL : 0);
		if (!c->o.scratch_url)
			mig_info(&c->common, "no --scratch-url: recording SQLite only");
	} else if (!strcmp(c->dialect, "sqlite")) {
		c->o.dialects = MIG_IMPORT_SQLITE;
	} else if (!strcmp(c->dialect, "postgresql")) {
		c->o.dialects = MIG_IMPORT_POSTGRESQL;
	} else {
		mig_usage_error(usage_text, "--dialect: expected sqlite or postgresql, not '%s'",
				c->dialect);
	}
	if ((c->o.dialects & MIG_IMPORT_POSTGRESQL) && !c->o.scratch_url)
		mig_usage_error(usage_text, "--dialect postgresql needs --scratch-url URL "
				"(an empty database)");
	if (!(c->o.dialects & MIG_IMPORT_POSTGRESQL))
		c->o.scratch_url = NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		/* Before the common ones, which getopt_long would match first:
		 * the common --version-table names a database's table and is
		 * refused with the other database flags. */
		{ "version-table", required_argument, NULL, OPT_VERSION_TABLE },
		MIG_COMMON_LONGOPTS,
		{ "alembic-ini", required_argument, NULL, OPT_INI },
		{ "scripts", required_argument, NULL, OPT_SCRIPTS },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "scratch-url", required_argument, NULL, OPT_SCRATCH },
		{ "dialect", required_argument, NULL, OPT_DIALECT },
		{ "python", required_argument, NULL, OPT_PYTHON },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct import_cli c;
	memset(&c, 0, sizeof(c));
	const struct mig_command_line cl = {
		.usage = usage_text, .longopts = longopts, .own_option = own_option,
		.opts = &c, .max_operands = 0,
		.no_database = "mig-import records on scratch databases only (--scratch-url)",
	};
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &c.common, argc, argv, &operand, &err);
	if (!rc && !c.o.alembic_ini == !c.o.scripts)
		mig_usage_error(usage_text, "give either --alembic-ini FILE or --scripts DIR");
	struct mig_import im;
	memset(&im, 0, sizeof(im));
	if (!rc) {
		choose_dialects(&c);
		c.o.common = &c.common;
		c.o.version_table = c.common.version_table;
		rc = mig_import_run(&im, &c.o, &err);
	}
	if (c.common.format == MIG_FORMAT_JSON) {
		report_json(&c, &im);
		if (rc)
			mig_json_error(rc, NULL, err.msg ? err.msg : "failed", err.hint);
	} else {
		report_text(&c, &im, rc);
		if (rc && (rc != MIG_EFOUND || (!im.ndiffs && !im.findings.n)))
			mig_report_error(&err);
		else if (rc)
			fprintf(stderr, "%s: %s\n", mig_progname, err.msg ? err.msg : "failed");
	}
	report_github(&im, rc);
	mig_import_release(&im);
	mig_err_release(&err);
	return mig_close_stdout(rc);
}
