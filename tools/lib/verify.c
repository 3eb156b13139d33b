/*
 * verify.c: the CI migrations job: lint the revision graph, apply every
 * migration to a clean database, check what it created, and optionally
 * walk the up/down "stairway" round trip revision by revision.
 */
#define _POSIX_C_SOURCE 200809L
#include "verify.h"
#include "compare.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "origins.h"
#include "out.h"
#include "plan.h"
#include "run.h"
#include "schema.h"
#include "spec.h"
#include "url.h"
#include "version.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mig_verify_release(struct mig_verify *v)
{
	mig_findings_release(&v->findings);
	buf_release(&v->applied);
	strv_release(&v->tables);
	mig_schema_release(&v->schema);
	free(v->db_display);
	free(v->temp_path);
}

/* ---- the clean database --------------------------------------------------- */

static int temp_sqlite(struct mig_verify *v, char **url, struct mig_err *err)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/mig-verify-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);	/* 0600, a name nobody else can take */
	if (fd < 0) {
		int e = errno;
		free(path);
		return mig_err_set(err, MIG_EDB, "cannot create a temporary database: %s",
				   strerror(e));
	}
	close(fd);
	v->temp_path = path;
	*url = xasprintf("sqlite:///%s", path);
	return MIG_OK;
}

/* "a, b, c and 7 more": whole names, as many as fit in about width
 * characters (at least one), never a name cut in the middle. */
static char *some_names(const struct mig_strv *names, size_t width)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t i = 0;
	for (; i < names->n; i++) {
		if (i && b.len + 2 + strlen(names->v[i]) > width)
			break;
		buf_printf(&b, "%s%s", i ? ", " : "", names->v[i]);
	}
	if (i < names->n)
		buf_printf(&b, " and %zu more", names->n - i);
	return buf_detach(&b);
}

/* Opens the database to verify on: ours, or an empty one the user named. */
static int open_clean(struct mig_verify *v, const struct mig_verify_opts *o,
		      struct mig_db **db, struct mig_err *err)
{
	char *url = NULL;
	int rc = MIG_OK;
	if (o->keep)
		url = xasprintf("sqlite:///%s", o->keep);
	else if (!o->common->database_url)
		rc = temp_sqlite(v, &url, err);
	if (rc)
		return rc;
	struct mig_connect_opts co = { .create = true, .wait_seconds = o->common->wait_seconds,
				       .lock_timeout = o->common->lock_timeout,
				       .verbose = o->common->verbosity > 0,
				       .scratch = !o->common->database_url,
				       .lock_mode = o->common->lock_mode,
				       .quiet = o->common->verbosity < 0 };
	rc = mig_db_open(db, url ? url : o->common->database_url, &co, err);
	free(url);
	if (rc)
		return rc;
	v->db_display = xstrdup(mig_db_url(*db)->display);
	/* empty: no application table (default schema), and no version table
	 * where --version-schema puts it */
	struct mig_strv tables = MIG_STRV_INIT;
	rc = mig_db_list_tables(*db, o->common->schema, &tables, err);
	bool vt_exists = false;
	if (!rc && o->common->version_schema)
		rc = mig_db_table_exists(*db, o->common->version_schema,
					 o->common->version_table, &vt_exists, err);
	if (!rc && vt_exists && !strv_has(&tables, o->common->version_table))
		strv_push(&tables, o->common->version_table);
	if (!rc && tables.n) {
		char *names = some_names(&tables, 200);
		mig_err_set(err, MIG_ESAFETY, "%s is not empty (%zu table%s: %s); "
			    "mig-verify only works on a clean database", v->db_display,
			    tables.n, tables.n == 1 ? "" : "s", names);
		mig_err_hint(err, "name an empty database with -d, or leave -d out to "
			     "use a temporary SQLite file");
		free(names);
		rc = MIG_ESAFETY;
	}
	strv_release(&tables);
	if (rc) {
		mig_db_close(*db);
		*db = NULL;
	}
	return rc;
}

/* ---- applying, checking --------------------------------------------------- */

static void on_applied(void *ctx, const struct mig_graph *g, const struct mig_step *s,
		       double ms)
{
	struct mig_verify *v = ctx;
	const struct mig_rev *rev = &g->revs[s->rev];
	buf_puts(&v->applied, v->napplied++ ? ",{\"revision\":" : "{\"revision\":");
	json_str(&v->applied, rev->id);
	buf_puts(&v->applied, ",\"message\":");
	json_str(&v->applied, rev->message);
	buf_printf(&v->applied, ",\"ms\":%.3f}", ms);
	if (v->on_step)
		v->on_step(v->ctx, rev, ms);
}

static void check_expectations(struct mig_verify *v, const struct mig_verify_opts *o)
{
	for (size_t i = 0; i < v->schema.ntables; i++)
		strv_push(&v->tables, v->schema.tables[i].name);
	if (o->expect_tables >= 0 && (size_t)o->expect_tables != v->tables.n)
		mig_findings_add(&v->findings, MIG_SEV_ERROR, "table-count", NULL, 0, NULL,
				 "expected %ld tables, the migrations created %zu",
				 o->expect_tables, v->tables.n);
	for (size_t i = 0; i < o->expect_table.n; i++)
		if (!strv_has(&v->tables, o->expect_table.v[i]))
			mig_findings_add(&v->findings, MIG_SEV_ERROR, "missing-table", NULL, 0,
					 NULL, "expected table %s was not created",
					 o->expect_table.v[i]);
	mig_schema_check_fk_types(&v->schema, &v->findings);
}

static void check_spec(struct mig_verify *v, const struct mig_schema *spec,
		       const struct mig_verify_opts *o)
{
	size_t before = v->findings.n;
	mig_schema_compare(&v->schema, spec, o->strict, &v->findings);
	v->spec_findings = v->findings.n - before;
}

/* ---- the round trip ("stairway") --------------------------------------------- */

/* private: db is the scratch database this run made, and the round trip
 * stops at the first run that fails, so after the first run no step can
 * be left unfinished (run.h) */
static int move_one(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, size_t rev, bool up, bool private,
		    const struct mig_run_hooks *hooks, struct mig_err *err)
{
	struct mig_goal goal = { .upgrade = up, .only = rev, .history_private = private };
	return mig_run(db, g, vt, &goal, hooks, err);
}

static int snapshot(struct mig_db *db, const struct mig_vt *vt,
		    struct mig_schema *out, struct mig_err *err)
{
	const char *skip = NULL;
	int rc = mig_vt_app_skip(db, vt, &skip, err);
	return rc ? rc : mig_db_introspect(db, vt->app_schema, skip, out, err);
}

/* Where the recorder knows the file but not the line (origins.h: an object
 * no statement PostgreSQL's parser read made), the revision's header. */
static void header_line(struct mig_origin *at, const struct mig_graph *g)
{
	for (size_t r = 0; at->file && at->line <= 0 && r < g->nrevs; r++)
		if (!strcmp(g->revs[r].path, at->file))
			at->line = g->revs[r].line;
}

static void header_lines(struct mig_schema *s, const struct mig_graph *g)
{
	for (size_t t = 0; t < s->ntables; t++) {
		struct mig_table *tb = &s->tables[t];
		header_line(&tb->from, g);
		for (size_t c = 0; c < tb->ncolumns; c++)
			header_line(&tb->columns[c].from, g);
		for (size_t x = 0; x < tb->nindexes; x++)
			header_line(&tb->indexes[x].from, g);
	}
}

/* Each difference becomes a finding of the revision whose downgrade left
 * it: at the migration line that made the object when that is known
 * (origins.h), else at the revision's header. */
static void blame(struct mig_verify *v, const struct mig_rev *rev, size_t from)
{
	for (size_t i = from; i < v->findings.n; i++) {
		struct mig_finding *f = &v->findings.v[i];
		char *msg = xasprintf("the downgrade of %s does not restore the schema: %s",
				      rev->id, f->msg);
		free(f->msg);
		f->msg = msg;
		free(f->code);
		f->code = xstrdup("roundtrip");
		if (f->file)
			continue;
		f->file = xstrdup(rev->path);
		f->line = rev->line;
	}
	if (v->findings.n > from)
		v->roundtrip_failed = rev->id;
}

/* Builds the model of a schema given as its CREATE statements, in an
 * in-memory SQLite: the state before a step that its downgrade did not
 * restore, when only that state's text was kept. */
static int model_of_text(const struct mig_strv *text, const struct mig_vt *vt,
			 struct mig_schema *out, struct mig_err *err)
{
	struct mig_connect_opts opts = { .create = true, .lock_timeout = -1 };
	struct mig_db *mem;
	int rc = mig_db_open(&mem, "sqlite://", &opts, err);
	for (size_t i = 0; !rc && i < text->n; i++)
		rc = mig_db_exec_script(mem, text->v[i], "(schema before the step)", 1, err);
	if (!rc)
		rc = mig_db_introspect(mem, vt->schema, vt->table, out, err);
	if (mem)
		mig_db_close(mem);
	return rc;
}

/* A statement of rev that failed in the round trip's downgrade or second
 * upgrade (the first one is the apply, whose failure is the run's) is what
 * the round trip found: a finding at the statement (exit 1), its message
 * saying so, not a database error with the message of the statement
 * alone.  Other failures (a lost connection) stay errors. */
static int roundtrip_failure(struct mig_verify *v, const struct mig_rev *rev,
			     const char *doing, const char *when, int rc, struct mig_err *err)
{
	size_t n = strlen(rev->path);
	if (rc != MIG_EDB || !err->msg || strncmp(err->msg, rev->path, n) != 0 ||
	    err->msg[n] != ':')
		return rc;
	char *end;
	long line = strtol(err->msg + n + 1, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || line <= 0 || line > 100000000)
		return rc;
	mig_findings_add(&v->findings, MIG_SEV_ERROR, "roundtrip", rev->path, (int)line,
			 "a downgrade must undo its upgrade exactly, so that the upgrade "
			 "can run again", "the round trip failed %s %s%s: %s", doing,
			 rev->id, when, end + 2);
	v->roundtrip_failed = rev->id;
	mig_err_release(err);
	return MIG_OK;
}

/* Up, down, and up again for one revision: the downgrade must bring back
 * exactly the schema the revision started from.  Where the driver keeps the
 * schema as text, the states are compared as text first and a model is
 * built only when they differ; that keeps the round trip a small multiple
 * of the apply instead of two whole introspections per revision. */
static int stair(struct mig_verify *v, struct mig_db *db, const struct mig_graph *g,
		 const struct mig_vt *vt, size_t rev, bool scratch, bool first,
		 const struct mig_run_hooks *hooks, struct mig_err *err)
{
	struct mig_schema before, after;
	struct mig_strv text_before = MIG_STRV_INIT, text_after = MIG_STRV_INIT;
	bool as_text = false;
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	int rc = mig_db_schema_text(db, &text_before, &as_text, err);
	if (!rc && !as_text)
		rc = snapshot(db, vt, &before, err);
	if (!rc)
		rc = move_one(db, g, vt, rev, true, scratch && !first, hooks, err);
	if (!rc) {
		rc = move_one(db, g, vt, rev, false, scratch, NULL, err);
		rc = roundtrip_failure(v, &g->revs[rev], "at the downgrade of", "", rc, err);
	}
	bool same = v->roundtrip_failed != NULL;	/* nothing to compare then */
	if (!rc && !same && as_text) {
		rc = mig_db_schema_text(db, &text_after, &as_text, err);
		same = !rc && strv_equal(&text_before, &text_after);
		if (!rc && !same)
			rc = model_of_text(&text_before, vt, &before, err);
	}
	if (!rc && !same)
		rc = snapshot(db, vt, &after, err);
	if (!rc && !same) {
		size_t n = v->findings.n;
		if (db->origins) {	/* where the objects on each side were made */
			mig_origins_apply(db->origins, &before);
			mig_origins_apply(db->origins, &after);
			header_lines(&before, g);
			header_lines(&after, g);
		}
		mig_schema_compare_expected(&before, &after, &v->findings);
		blame(v, &g->revs[rev], n);
	}
	if (!rc && !v->roundtrip_failed) {
		rc = move_one(db, g, vt, rev, true, scratch, NULL, err);
		rc = roundtrip_failure(v, &g->revs[rev], "upgrading", " again after its downgrade",
				       rc, err);
	}
	mig_schema_release(&before);
	mig_schema_release(&after);
	strv_release(&text_before);
	strv_release(&text_after);
	return rc;
}

static int stairway(struct mig_verify *v, struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, bool scratch, const struct mig_run_hooks *hooks,
		    struct mig_err *err)
{
	struct mig_strv none = MIG_STRV_INIT;
	struct mig_plan plan;
	int rc = mig_plan_upgrade(g, &none, g->heads, g->nheads, &plan, err);
	for (size_t i = 0; !rc && i < plan.nsteps && !v->roundtrip_failed; i++) {
		rc = stair(v, db, g, vt, plan.steps[i].rev, scratch, i == 0, hooks, err);
		v->roundtrip_steps++;
	}
	mig_plan_release(&plan);
	return rc;
}

/* ---- the whole job ------------------------------------------------------------ */

static int apply_and_check(struct mig_verify *v, const struct mig_verify_opts *o,
			   const struct mig_graph *g, const struct mig_schema *spec,
			   struct mig_err *err)
{
	struct mig_db *db = NULL;
	int rc = open_clean(v, o, &db, err);
	if (rc)
		return rc;
	/* where each object was made, so that a finding about one points at
	 * its migration's line (origins.h: SQLite after each statement,
	 * PostgreSQL after each section, objects of the checked schema) */
	struct mig_origins origins;
	mig_origins_init(&origins);
	/* the schema checked, read before any migration could move the
	 * search_path (PostgreSQL keys only its objects) */
	char *app_schema = NULL;
	struct mig_err no_schema = MIG_ERR_INIT;
	if (!o->common->schema && mig_db_dialect(db) == MIG_POSTGRESQL)
		mig_db_default_schema(db, &app_schema, &no_schema);
	mig_err_release(&no_schema);	/* then pg_origins.c reads it itself */
	origins.schema = o->common->schema ? o->common->schema : app_schema;
	mig_db_track_origins(db, &origins);
	struct mig_vt vt = { .schema = o->common->version_schema,
			     .table = o->common->version_table };
	struct mig_run_hooks hooks = { v, on_applied, NULL, NULL, NULL };
	struct mig_goal goal = { .upgrade = true, .target = g->heads, .ntarget = g->nheads, .only = MIG_NONE };
	double t0 = mig_now_ms();
	if (o->roundtrip)
		rc = stairway(v, db, g, &vt, !o->common->database_url && !o->keep, &hooks, err);
	else
		rc = mig_run(db, g, &vt, &goal, &hooks, err);
	v->apply_ms = mig_now_ms() - t0;
	if (!rc && !v->roundtrip_failed)
		rc = snapshot(db, &vt, &v->schema, err);
	if (!rc && !v->roundtrip_failed) {
		mig_origins_apply(&origins, &v->schema);
		header_lines(&v->schema, g);
		check_expectations(v, o);
		if (o->spec)
			check_spec(v, spec, o);
	}
	mig_db_close(db);
	mig_origins_release(&origins);
	free(app_schema);
	return rc;
}

int mig_verify_run(struct mig_verify *v, const struct mig_verify_opts *o,
		   const struct mig_graph *g, struct mig_err *err)
{
	for (size_t i = 0; i < g->findings.n; i++) {
		const struct mig_finding *f = &g->findings.v[i];
		bool allowed = o->allow_multiple_heads && !strcmp(f->code, "multiple-heads");
		mig_findings_add(&v->findings, allowed ? MIG_SEV_WARNING : f->severity,
				 f->code, f->file, f->line, f->hint, "%s", f->msg);
	}
	v->lint_errors = mig_findings_count(&v->findings, MIG_SEV_ERROR);
	if (o->lint_only || v->lint_errors || !g->usable)
		return MIG_OK;
	/* A bad spec is found before a database is touched, not after a
	 * run that may have been long. */
	struct mig_schema spec = { .tables = NULL };
	int rc = o->spec ? mig_spec_load(&spec, o->spec, o->strict, err) : MIG_OK;
	if (!rc)
		rc = apply_and_check(v, o, g, &spec, err);
	mig_schema_release(&spec);
	if (v->temp_path && !o->keep)
		unlink(v->temp_path);
	return rc;
}
