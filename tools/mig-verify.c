/*
 * mig-verify: the CI migrations job in one program.  Lints the revision
 * graph (also of Alembic's own .py scripts), applies every migration to a
 * clean database, checks the tables it created, the foreign-key type rule
 * and a spec, and with --roundtrip walks up, down and up again revision by
 * revision.  Reports as text, JSON, and GitHub Actions annotations.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "findings.h"
#include "graph.h"
#include "json.h"
#include "mig.h"
#include "migfile.h"
#include "out.h"
#include "plan.h"
#include "sum.h"
#include "verify.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: mig-verify [-m DIR] [-d URL | --keep PATH] [--lint-only]\n"
	"                  [--allow-multiple-heads] [--expect-tables N]\n"
	"                  [--expect-table NAME]... [--spec FILE [--strict]]\n"
	"                  [--roundtrip] [--require-sum | --update-sum]\n"
	"                  [--format text|json] [--wait SECONDS]\n"
	"                  [--schema NAME]\n"
	"                  [--version-table NAME] [--version-schema NAME] [-q | -v]\n"
	"\n"
	"Lint the migrations of DIR/versions, check them against DIR/mig.sum, and\n"
	"apply them to a clean database.\n"
	"\n"
	"  -m, --migrations DIR    migrations folder, scripts in DIR/versions\n"
	"  -d, --database-url URL  an EMPTY database to apply to (default: a\n"
	"                          temporary SQLite file, removed afterwards)\n"
	"      --keep PATH         build the SQLite database at PATH and keep it\n"
	"      --lint-only         only lint the graph (.sql and Alembic .py scripts)\n"
	"      --allow-multiple-heads  several heads are a warning, not an error\n"
	"      --expect-tables N   the migrations must create N tables (the\n"
	"                          version table not counted)\n"
	"      --expect-table NAME the migrations must create table NAME (repeatable)\n"
	"      --spec FILE         the result must match this YAML spec\n"
	"      --strict            with --spec: report what the spec does not name\n"
	"      --roundtrip         per revision: upgrade, downgrade, upgrade again,\n"
	"                          and check the downgrade restores the schema\n"
	"      --require-sum       a missing DIR/mig.sum is an error (without it,\n"
	"                          a folder that has none is not checked)\n"
	"      --update-sum        rewrite DIR/mig.sum from the files as they are\n"
	"                          now, and do nothing else\n"
	"      --format FMT        text (default) or json\n"
	"      --wait SECONDS      retry connecting while the server starts\n"
	"      --schema NAME       PostgreSQL schema of the application's tables\n"
	"                          (default: the connection's current_schema())\n"
	"      --version-table NAME    default alembic_version\n"
	"      --version-schema NAME   PostgreSQL schema of the version table\n"
	"      --label NAME        the database's name in its errors, the summary and\n"
	"                          the JSON document (default: its URL, masked)\n"
	"  -q, --quiet             print only the findings\n"
	"  -v, --verbose           print server notices\n"
	"  -h, --help              show this help\n"
	"      --version           show the version and the licence\n"
	"\n"
	"Exit: 0 all good, 1 findings or failed checks, 2 bad input, 3 database\n"
	"error, 4 the database given with -d is not empty.\n";

enum {
	OPT_LINT_ONLY = MIG_OPT_FIRST_OWN, OPT_ALLOW_HEADS, OPT_KEEP, OPT_TABLES,
	OPT_TABLE, OPT_SPEC, OPT_STRICT, OPT_ROUNDTRIP, OPT_UPDATE_SUM, OPT_REQUIRE_SUM,
};

struct verify_cmd {
	struct mig_verify_opts o;
	bool update_sum;
	bool require_sum;
};

static bool text_mode(const struct mig_common *c)
{
	return c->format == MIG_FORMAT_TEXT && c->verbosity >= 0;
}

static void print_step(void *ctx, const struct mig_rev *rev, double ms)
{
	const struct mig_common *c = ctx;
	if (text_mode(c))
		printf("  applied %s  %s  (%.1f ms)\n", rev->id,
		       rev->message ? rev->message : "", ms);
}

static void ids_of(const struct mig_graph *g, struct mig_strv *out, int what)
{
	for (size_t r = 0; r < g->nrevs; r++) {
		const struct mig_rev *rev = &g->revs[r];
		bool in = what == 0 ? !rev->nnext : what == 1 ? !rev->down.n
			  : what == 2 ? rev->nnext > 1 : rev->nvdown > 1;
		if (in)
			strv_push(out, rev->id);
	}
}

static void graph_json(struct mig_buf *b, const struct mig_graph *g)
{
	static const char *const names[] = { "heads", "bases", "branch_points",
					     "merge_points" };
	buf_printf(b, "{\"revisions\":%zu", g->nrevs);
	for (int w = 0; w < 4; w++) {
		struct mig_strv ids = MIG_STRV_INIT;
		ids_of(g, &ids, w);
		strv_sort(&ids);
		buf_printf(b, ",\"%s\":", names[w]);
		json_strv(b, &ids);
		strv_release(&ids);
	}
	/* the order mig-upgrade --to heads applies them in (Alembic's); a
	 * graph with a cycle has none, and gets the graph's own */
	buf_puts(b, ",\"order\":[");
	struct mig_plan plan = { NULL, 0 };
	if (g->usable) {
		struct mig_strv none = MIG_STRV_INIT;
		size_t *heads = xmalloc((g->nrevs + 1) * sizeof(*heads)), n = 0;
		for (size_t r = 0; r < g->nrevs; r++)
			if (!g->revs[r].nallnext)	/* nothing follows or needs it */
				heads[n++] = r;
		struct mig_err ignored = MIG_ERR_INIT;
		mig_plan_upgrade(g, &none, heads, n, &plan, &ignored);
		mig_err_release(&ignored);
		free(heads);
	}
	for (size_t i = 0; i < (g->usable ? plan.nsteps : g->norder); i++) {
		buf_puts(b, i ? "," : "");
		json_str(b, g->revs[g->usable ? plan.steps[i].rev : g->order[i]].id);
	}
	mig_plan_release(&plan);
	buf_puts(b, "]}");
}

static void print_graph(const struct mig_graph *g)
{
	static const char *const names[] = { "heads", "bases", "branch points",
					     "merge points" };
	printf("graph: %zu revision%s in %s/versions\n", g->nrevs,
	       g->nrevs == 1 ? "" : "s", g->dir);
	for (int w = 0; w < 4; w++) {
		struct mig_strv ids = MIG_STRV_INIT;
		ids_of(g, &ids, w);
		strv_sort(&ids);
		char *s = strv_join(&ids, ", ");
		if (ids.n || w < 2)
			printf("  %-14s %s\n", names[w], ids.n ? s : "none");
		free(s);
		strv_release(&ids);
	}
}

static size_t count_code(const struct mig_findings *f, const char *code,
			 const char *about)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += !strcmp(f->v[i].code, code) && (!about || strstr(f->v[i].msg, about));
	return n;
}

static const char *verdict(size_t failures)
{
	return failures ? "FAILED" : "ok";
}

static void print_checks(const struct mig_verify_opts *o, const struct mig_verify *v)
{
	if (!v->db_display || v->roundtrip_failed)
		return;
	const struct mig_findings *f = &v->findings;
	printf("tables: %zu created\n", v->tables.n);
	if (o->expect_tables >= 0)
		printf("check: %ld tables expected: %s\n", o->expect_tables,
		       verdict(count_code(f, "table-count", NULL)));
	for (size_t i = 0; i < o->expect_table.n; i++)
		printf("check: table %s expected: %s\n", o->expect_table.v[i],
		       verdict(strv_has(&v->tables, o->expect_table.v[i]) ? 0 : 1));
	printf("check: foreign key column types match the referenced columns: %s\n",
	       verdict(count_code(f, "fk-type", NULL)));
	if (o->spec)
		printf("check: the schema matches %s%s: %s\n", o->spec,
		       o->strict ? " (strict)" : "", verdict(v->spec_findings));
	if (o->roundtrip)
		printf("round trip: %zu revision%s up, down and up again: ok\n",
		       v->roundtrip_steps, v->roundtrip_steps == 1 ? "" : "s");
}

static void report_text(const struct mig_verify_opts *o, const struct mig_graph *g,
			const struct mig_verify *v, double ms)
{
	mig_findings_print(stdout, &v->findings, true);
	if (!text_mode(o->common))
		return;
	print_checks(o, v);
	size_t e = mig_findings_count(&v->findings, MIG_SEV_ERROR);
	size_t w = mig_findings_count(&v->findings, MIG_SEV_WARNING);
	if (e)
		printf("verify: FAILED, %zu error%s, %zu warning%s (%.1f ms)\n", e,
		       e == 1 ? "" : "s", w, w == 1 ? "" : "s", ms);
	else
		printf("verify: ok, head %s%s (%.1f ms)\n",
		       g->nheads ? g->revs[g->heads[0]].id : "none",
		       w ? ", with warnings" : "", ms);
}

static void report_json(const struct mig_verify_opts *o, const struct mig_graph *g,
			const struct mig_verify *v, double ms)
{
	struct mig_buf b = MIG_BUF_INIT;	/* "ok" is added by mig_json_write */
	buf_puts(&b, "{\"graph\":");
	graph_json(&b, g);
	buf_puts(&b, ",\"findings\":");
	mig_findings_json(&b, &v->findings);
	buf_puts(&b, ",\"database\":");
	json_str(&b, v->db_display);
	buf_printf(&b, ",\"applied\":[%s],\"tables\":", buf_str(&v->applied));
	json_strv(&b, &v->tables);
	buf_printf(&b, ",\"roundtrip\":{\"checked\":%s,\"steps\":%zu,\"failed\":",
		   o->roundtrip ? "true" : "false", v->roundtrip_steps);
	json_str(&b, v->roundtrip_failed);
	buf_printf(&b, "},\"ms\":%.3f}\n", ms);
	mig_json_result(&b);
}

static void report_github(const struct mig_graph *g, const struct mig_verify *v,
			  bool failed)
{
	if (!gh_active())
		return;
	mig_findings_annotate(&v->findings);
	size_t e = mig_findings_count(&v->findings, MIG_SEV_ERROR) + failed;
	struct mig_buf md = MIG_BUF_INIT;
	buf_printf(&md, "### mig-verify: %s\n\n| | |\n|---|---|\n", e ? "failed" : "ok");
	buf_printf(&md, "| revisions | %zu |\n| head | %s |\n| tables created | %zu |\n"
		   "| migrations applied | %zu |\n\n", g->nrevs,
		   g->nheads ? g->revs[g->heads[0]].id : "none", v->tables.n, v->napplied);
	for (size_t i = 0; i < v->findings.n; i++) {
		const struct mig_finding *x = &v->findings.v[i];
		buf_printf(&md, "- **%s** ", x->severity == MIG_SEV_ERROR ? "error" : "warning");
		if (x->file) {
			char *path = gh_workspace_path(x->file);
			md_text(&md, path);
			free(path);
			if (x->line)
				buf_printf(&md, ":%d", x->line);
			buf_putc(&md, ' ');
		}
		md_text(&md, x->msg);
		buf_putc(&md, '\n');
	}
	buf_putc(&md, '\n');
	gh_summary(buf_str(&md));
	if (!failed) {
		gh_output("head", g->nheads == 1 ? g->revs[g->heads[0]].id : "");
		char *n = xasprintf("%zu", v->tables.n);
		gh_output("tables", n);
		free(n);
	}
	buf_release(&md);
}

/* A file that cannot be read as a migration is bad input, not a finding
 * about a readable graph: exit 2, as in every program. */
static bool has_bad_file(const struct mig_findings *f, struct mig_err *err)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		if (strcmp(x->code, "bad-file") != 0)
			continue;
		if (x->line)
			mig_err_set(err, MIG_EINPUT, "%s:%d: %s", x->file, x->line, x->msg);
		else
			mig_err_set(err, MIG_EINPUT, "%s: %s", x->file, x->msg);
		return true;
	}
	return false;
}

static int verify(struct mig_verify_opts *o, struct mig_common *c, bool require_sum,
		  struct mig_err *err)
{
	if (!c->database_url || !*c->database_url)
		c->database_url = NULL;	/* not $DATABASE_URL: never a production URL */
	struct mig_graph g;
	double t0 = mig_now_ms();
	int rc = mig_graph_load(&g, c->migrations_dir, err);
	if (rc)
		return rc;
	/* a CI job pointed at the wrong folder must not pass green (a folder
	 * whose files are all bad goes on, to report them as findings) */
	if (!g.nrevs && !mig_findings_count(&g.findings, MIG_SEV_ERROR)) {
		mig_err_set(err, MIG_EINPUT, "%s/versions holds no migrations",
			    c->migrations_dir);
		mig_graph_release(&g);
		return mig_err_hint(err, "check -m DIR (scripts are read from "
				    "DIR/versions); mig-new writes the first one");
	}
	if (text_mode(c))
		print_graph(&g);
	struct mig_verify v;
	memset(&v, 0, sizeof(v));
	v.on_step = print_step;
	v.ctx = c;
	if (text_mode(c) && !o->lint_only)
		fflush(stdout);
	rc = mig_verify_run(&v, o, &g, err);
	if (!rc)	/* offline, so --lint-only checks it too */
		rc = mig_sum_check(c->migrations_dir, require_sum, &v.findings, err);
	if (!rc || rc == MIG_EDB) {
		double ms = mig_now_ms() - t0;
		if (c->format == MIG_FORMAT_JSON)
			report_json(o, &g, &v, ms);
		else if (!rc)
			report_text(o, &g, &v, ms);
		report_github(&g, &v, rc != MIG_OK);
	}
	if (!rc && mig_findings_count(&v.findings, MIG_SEV_ERROR))
		rc = has_bad_file(&v.findings, err) ? MIG_EINPUT : MIG_EFOUND;
	mig_verify_release(&v);
	mig_graph_release(&g);
	return rc;
}

/* --update-sum: the sum of the files as they are, written on purpose. */
static int update_sum(const struct mig_common *c, struct mig_err *err)
{
	size_t n;
	bool changed;
	int rc = mig_sum_write(c->migrations_dir, &n, &changed, err);
	if (rc)
		return rc;
	char *path = xasprintf("%s/%s", c->migrations_dir, MIG_SUM_FILE);
	if (c->format == MIG_FORMAT_JSON) {
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "{\"sum_file\":");
		json_str(&b, path);
		buf_printf(&b, ",\"files\":%zu,\"changed\":%s}\n", n,
			   changed ? "true" : "false");
		mig_json_result(&b);
	} else if (c->verbosity >= 0) {
		printf("%s: %s (%zu file%s)\n", path, changed ? "written" : "up to date",
		       n, n == 1 ? "" : "s");
	}
	free(path);
	return MIG_OK;
}

static int own_option(void *opts, int opt, const char *arg, struct mig_err *err)
{
	struct verify_cmd *cmd = opts;
	struct mig_verify_opts *o = &cmd->o;
	switch (opt) {
	case OPT_LINT_ONLY:
		o->lint_only = true;
		return MIG_OK;
	case OPT_ALLOW_HEADS:
		o->allow_multiple_heads = true;
		return MIG_OK;
	case OPT_KEEP:
		o->keep = arg;
		return MIG_OK;
	case OPT_TABLES:
		return mig_parse_int("--expect-tables", arg, 0, 1000000, &o->expect_tables, err);
	case OPT_TABLE:
		strv_push(&o->expect_table, arg);
		return MIG_OK;
	case OPT_SPEC:
		o->spec = arg;
		return MIG_OK;
	case OPT_STRICT:
		o->strict = true;
		return MIG_OK;
	case OPT_ROUNDTRIP:
		o->roundtrip = true;
		return MIG_OK;
	case OPT_UPDATE_SUM:
		cmd->update_sum = true;
		return MIG_OK;
	case OPT_REQUIRE_SUM:
		cmd->require_sum = true;
		return MIG_OK;
	}
	return MIG_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MIG_COMMON_LONGOPTS,
		MIG_SCHEMA_LONGOPT,
		{ "allow-multiple-heads", no_argument, NULL, OPT_ALLOW_HEADS },
		{ "expect-table", required_argument, NULL, OPT_TABLE },
		{ "expect-tables", required_argument, NULL, OPT_TABLES },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "lint-only", no_argument, NULL, OPT_LINT_ONLY },
		{ "roundtrip", no_argument, NULL, OPT_ROUNDTRIP },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "require-sum", no_argument, NULL, OPT_REQUIRE_SUM },
		{ "update-sum", no_argument, NULL, OPT_UPDATE_SUM },
		{ NULL, 0, NULL, 0 },
	};
	struct mig_common common;
	struct verify_cmd cmd = { .o = { .common = &common, .expect_tables = -1 } };
	struct mig_verify_opts *o = &cmd.o;
	const struct mig_command_line cl = { .usage = usage_text, .longopts = longopts,
		.own_option = own_option, .opts = &cmd, .max_operands = 0 };
	struct mig_err err = MIG_ERR_INIT;
	int operand;
	int rc = mig_parse_command_line(&cl, &common, argc, argv, &operand, &err);
	if (!rc && o->keep && common.database_url)
		rc = mig_err_set(&err, MIG_EINPUT, "--keep builds a SQLite file; it does "
				 "not go with -d");
	if (!rc && cmd.update_sum && cmd.require_sum)
		mig_usage_error(usage_text, "--update-sum and --require-sum do not go together");
	if (!rc && cmd.update_sum)
		rc = update_sum(&common, &err);
	else if (!rc)
		rc = verify(o, &common, cmd.require_sum, &err);
	if (rc > MIG_EFOUND && err.msg)
		mig_report_error(&err);
	strv_release(&o->expect_table);
	mig_err_release(&err);
	return mig_close_stdout(rc);
}
