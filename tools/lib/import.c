/*
 * import.c: mig-import's work: recording what Alembic executes on scratch
 * databases, writing it as mig files, and proving that the files build the
 * same databases, step by step (contract in import.h).
 */
#define _DEFAULT_SOURCE	/* scandir, alphasort */
#define _POSIX_C_SOURCE 200809L
#include "import.h"
#include "compare.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "import_driver.h"
#include "import_render.h"
#include "mig.h"
#include "newrev.h"
#include "run.h"
#include "schema.h"
#include "sum.h"
#include "url.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Index of a dialect in mig_import_rev.runs. */
static int di(enum mig_dialect d)
{
	return d == MIG_POSTGRESQL ? 1 : 0;
}

/* A database as the proof sees it: its schema and its version rows. */
struct snapshot {
	struct mig_schema schema;
	struct mig_strv rows;
};

struct work {
	struct mig_import *im;
	const struct mig_import_opts *o;
	struct mig_import_driver drv;
	char *tmpdir;		/* SQLite scratch files */
	struct snapshot *snaps[2];	/* per dialect: 2 * nrevs states */
	struct mig_vt vt;	/* Alembic's version table, which mig writes too */
};


static void snapshot_release(struct snapshot *s)
{
	mig_schema_release(&s->schema);
	strv_release(&s->rows);
}

static int take_snapshot(const struct work *w, const char *url, struct snapshot *out,
			 struct mig_err *err)
{
	const struct mig_vt *vt = &w->vt;
	struct mig_db *db = NULL;
	struct mig_connect_opts co = { .lock_timeout = -1 };
	int rc = mig_db_open(&db, url, &co, err);
	if (!rc)
		rc = mig_db_introspect(db, NULL, vt->table, &out->schema, err);
	bool exists = false;
	if (!rc)
		rc = mig_vt_read(db, vt, &exists, &out->rows, err);
	strv_sort(&out->rows);
	mig_db_close(db);
	return rc;
}

/* ---- reading the history -------------------------------------------------- */

static void read_revisions(struct mig_import *im, const struct mig_json *j)
{
	const yaml_node_t *list = mig_json_get(j, j->root, "revisions");
	im->nrevs = mig_json_len(list);
	im->revs = xcalloc(im->nrevs ? im->nrevs : 1, sizeof(*im->revs));
	for (size_t i = 0; i < im->nrevs; i++) {
		const yaml_node_t *n = mig_json_item(j, list, i);
		struct mig_import_rev *r = &im->revs[i];
		const char *s = mig_json_str(j, n, "id");
		r->id = xstrdup(s ? s : "");
		mig_json_strv(j, n, "down_revision", &r->down);
		mig_json_strv(j, n, "branch_labels", &r->branch_labels);
		mig_json_strv(j, n, "depends_on", &r->depends_on);
		s = mig_json_str(j, n, "message");
		r->message = s && *s ? xstrdup(s) : NULL;
		s = mig_json_str(j, n, "create_date");
		r->create_date = s ? xstrdup(s) : NULL;
		s = mig_json_str(j, n, "path");
		r->source = xstrdup(s ? s : "?");
	}
}

/* The history as mig's graph linter sees it: the findings mig-verify prints. */
static int lint_history(struct mig_import *im, const char *script_location,
			struct mig_err *err)
{
	struct mig_graph g;
	int rc = mig_graph_load(&g, script_location, err);
	if (rc)
		return rc;
	if (mig_findings_count(&g.findings, MIG_SEV_ERROR)) {
		im->findings = g.findings;
		memset(&g.findings, 0, sizeof(g.findings));
		rc = mig_err_set(err, MIG_EFOUND, "%s: the history has errors; nothing was "
				 "written", script_location);
	}
	mig_graph_release(&g);
	return rc;
}

static int load_history(struct work *w, struct mig_err *err)
{
	struct mig_json j = { .loaded = false };
	static const char *const probe[] = { "probe", NULL };
	int rc = mig_driver_call(&w->drv, NULL, probe, &j, err);
	char *location = NULL;
	if (!rc) {
		const char *s = mig_json_str(&j, j.root, "script_location");
		location = xstrdup(s ? s : ".");
	}
	mig_json_release(&j);
	if (!rc)
		rc = lint_history(w->im, location, err);
	free(location);
	static const char *const list[] = { "list", NULL };
	if (!rc)
		rc = mig_driver_call(&w->drv, NULL, list, &j, err);
	if (!rc)
		read_revisions(w->im, &j);
	mig_json_release(&j);
	if (!rc && !w->im->nrevs)
		rc = mig_err_set(err, MIG_EINPUT, "the Alembic history has no revision");
	return rc;
}

/* ---- recording -------------------------------------------------------------- */

/* A message on one line: it becomes a "-- unfinished:" header line. */
static char *one_line(const char *msg)
{
	char *s = xstrdup(msg ? msg : "?");
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

static void read_run(struct work *w, struct mig_import_run *run, const struct mig_json *j)
{
	mig_json_strv(j, j->root, "statements", &run->statements);
	mig_json_strv(j, j->root, "reads", &run->reads);
	run->autocommit = mig_json_true(j, j->root, "autocommit");
	const char *env = mig_json_str(j, j->root, "env");
	const char *why = mig_json_str(j, j->root, "env_error");
	if (!w->im->env && env)
		w->im->env = why ? xasprintf("a minimal env.py (the project's failed: %s)", why)
			     : !strcmp(env, "minimal") ? xstrdup("a minimal env.py (the project has none)")
			     : xstrdup("the project's env.py");
}

/*
 * A statement line that mig's file reader would take for a section marker
 * ("--", blanks, "+" at the start of a line) gets a space in front: in SQL
 * it is a comment either way, unless it lies inside a multi-line string,
 * which is why the file is then marked for a person to check.
 */
static void guard_markers(struct mig_import_run *run)
{
	for (size_t i = 0; i < run->statements.n; i++) {
		struct mig_buf fixed = MIG_BUF_INIT;
		bool changed = false;
		for (const char *line = run->statements.v[i]; *line;) {
			size_t n = strcspn(line, "\n");
			size_t k = 2;
			while (k < n && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (n > 2 && line[0] == '-' && line[1] == '-' && k < n && line[k] == '+') {
				buf_putc(&fixed, ' ');
				changed = true;
			}
			buf_add(&fixed, line, n + (line[n] == '\n'));
			line += n + (line[n] == '\n');
		}
		if (changed) {
			free(run->statements.v[i]);
			run->statements.v[i] = buf_detach(&fixed);
			if (!run->unrecordable)
				run->unrecordable = xstrdup("a statement it sent has a line that reads "
							    "as a section marker ('-- +'), written "
							    "with a space before it");
		}
		buf_release(&fixed);
	}
}

/*
 * Records one revision's step.  When its function raises, what it sent
 * until then is kept with the error (the file is then written unfinished),
 * and Alembic's version rows are moved past it without running it, so that
 * the rest of the history is still recorded.
 */
static int record_step(struct work *w, const char *url, enum mig_dialect d,
		       size_t i, bool upgrade, struct mig_err *err)
{
	struct mig_import_rev *r = &w->im->revs[i];
	struct mig_import_run *run = &r->runs[di(d)][upgrade];
	const char *args[] = { "step", r->id, upgrade ? "up" : "down", NULL, NULL };
	struct mig_json j = { .loaded = false };
	int rc = mig_driver_call(&w->drv, url, args, &j, err);
	if (j.loaded)
		read_run(w, run, &j);
	mig_json_release(&j);
	guard_markers(run);
	if (rc != MIG_EFOUND)
		return rc;
	run->error = one_line(err->msg);
	mig_err_release(err);
	args[3] = "skip";
	rc = mig_driver_call(&w->drv, url, args, &j, err);
	mig_json_release(&j);
	if (rc)
		mig_err_set(err, rc == MIG_EFOUND ? MIG_EDB : rc, "%s: %s raised on %s (%s), "
			    "and Alembic cannot move its version rows past it: %s; nothing "
			    "was written", r->source, upgrade ? "upgrade()" : "downgrade()",
			    mig_dialect_name(d), run->error, err->msg ? err->msg : "?");
	return rc;
}

/* Refuses a scratch database that holds tables; a table is somebody's. */
static int require_empty(const char *url, struct mig_err *err)
{
	struct mig_db *db = NULL;
	struct mig_connect_opts co = { .lock_timeout = -1 };
	int rc = mig_db_open(&db, url, &co, err);
	struct mig_strv tables = MIG_STRV_INIT;
	if (!rc)
		rc = mig_db_list_tables(db, NULL, &tables, err);
	if (!rc && tables.n) {
		char *names = strv_join(&tables, ", ");
		rc = mig_err_set(err, MIG_ESAFETY, "the scratch database %s is not empty "
				 "(tables: %s); mig-import builds and drops tables there",
				 mig_db_url(db)->display, names);
		mig_err_hint(err, "create an empty database for it, e.g. "
			     "'createdb mig_import_scratch'");
		free(names);
	}
	strv_release(&tables);
	mig_db_close(db);
	return rc;
}

static int drop_bookkeeping(const struct work *w, const char *url, struct mig_err *err)
{
	struct mig_db *db = NULL;
	struct mig_connect_opts co = { .lock_timeout = -1 };
	int rc = mig_db_open(&db, url, &co, err);
	/* mig_history too: DESIGN.md's step history, which mig's runner
	 * writes beside the version table.  The scratch database was empty
	 * when we started, so both are ours. */
	struct mig_buf sql = MIG_BUF_INIT;
	buf_puts(&sql, "DROP TABLE IF EXISTS ");
	mig_quote_ident(&sql, w->vt.table);
	buf_puts(&sql, ";\nDROP TABLE IF EXISTS mig_history");
	if (!rc)
		rc = mig_db_exec_script(db, buf_str(&sql), "mig-import", 1, err);
	buf_release(&sql);
	mig_db_close(db);
	return rc;
}

static int record_dialect(struct work *w, enum mig_dialect d, const char *url,
			  struct mig_err *err)
{
	size_t n = w->im->nrevs;
	struct snapshot *snaps = xcalloc(2 * n, sizeof(*snaps));
	w->snaps[di(d)] = snaps;
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = record_step(w, url, d, i, true, err);
		if (!rc)
			rc = take_snapshot(w, url, &snaps[i], err);
	}
	for (size_t k = 0; !rc && k < n; k++) {
		size_t i = n - 1 - k;
		rc = record_step(w, url, d, i, false, err);
		if (!rc)
			rc = take_snapshot(w, url, &snaps[n + k], err);
	}
	return rc;
}

/* ---- writing the files ----------------------------------------------------- */

static int make_dir(const char *path, struct mig_err *err)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return MIG_OK;
	return mig_err_set(err, MIG_EINPUT, "cannot create %s: %s", path, strerror(errno));
}

/* An output folder that holds migrations (.sql or .py) is refused. */
static int check_output(const char *versions, bool force, struct mig_err *err)
{
	struct dirent **names = NULL;
	int n = scandir(versions, &names, NULL, alphasort);
	struct mig_strv found = MIG_STRV_INIT;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		if ((len > 4 && !strcmp(name + len - 4, ".sql")) ||
		    (len > 3 && !strcmp(name + len - 3, ".py")))
			strv_push(&found, name);
		free(names[i]);
	}
	free(names);
	int rc = MIG_OK;
	if (found.n && !force) {
		rc = mig_err_set(err, MIG_ESAFETY, "%s already holds %zu migration file%s "
				 "(%s, ...); nothing was written", versions, found.n,
				 found.n == 1 ? "" : "s", found.v[0]);
		mig_err_hint(err, "import into an empty folder (-m DIR), or give --force to "
			     "write over files of the same name");
	}
	strv_release(&found);
	return rc;
}

static int write_file(const char *path, const char *text, struct mig_err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	int rc = MIG_OK;
	if (!fp)
		rc = mig_err_set(err, MIG_EINPUT, "cannot write %s: %s", tmp, strerror(errno));
	if (fp) {
		fputs(text, fp);
		bool bad = ferror(fp) != 0;
		if (fclose(fp) != 0 || bad)
			rc = mig_err_set(err, MIG_EINPUT, "cannot write %s: %s", tmp,
					 strerror(errno));
	}
	if (!rc && rename(tmp, path) != 0)
		rc = mig_err_set(err, MIG_EINPUT, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int write_files(struct work *w, struct mig_err *err)
{
	int rc = make_dir(w->o->common->migrations_dir, err);
	if (!rc)
		rc = make_dir(w->im->dir, err);
	for (size_t i = 0; !rc && i < w->im->nrevs; i++) {
		struct mig_import_rev *r = &w->im->revs[i];
		char *slug = mig_slugify(r->message ? r->message : "");
		r->file = *slug ? xasprintf("%s/%s_%s.sql", w->im->dir, r->id, slug)
				: xasprintf("%s/%s.sql", w->im->dir, r->id);
		free(slug);
		char *text = mig_import_render(r, w->o->dialects);
		rc = write_file(r->file, text, err);
		free(text);
	}
	/* an imported folder starts with its sum, as one mig-new writes */
	size_t nsummed = 0;
	bool changed = false;
	if (!rc)
		rc = mig_sum_write(w->o->common->migrations_dir, &nsummed, &changed, err);
	return rc;
}

/* ---- the proof --------------------------------------------------------------- */

static void compare(struct work *w, enum mig_dialect d, const char *what,
		    const struct snapshot *alembic, const struct snapshot *mig, bool *same)
{
	struct mig_findings f = MIG_FINDINGS_INIT;
	mig_schema_compare_expected(&alembic->schema, &mig->schema, &f);
	for (size_t i = 0; i < f.n; i++) {
		buf_printf(&w->im->diff, "%s, %s: %s\n", mig_dialect_name(d), what, f.v[i].msg);
		w->im->ndiffs++;
		*same = false;
	}
	mig_findings_release(&f);
	char *a = strv_join(&alembic->rows, " "), *m = strv_join(&mig->rows, " ");
	if (strcmp(a, m) != 0) {
		buf_printf(&w->im->diff, "%s, %s: version rows differ: Alembic has [%s], "
			   "mig-upgrade has [%s]\n", mig_dialect_name(d), what, a, m);
		w->im->ndiffs++;
		*same = false;
	}
	free(a);
	free(m);
}

static void add_step(struct mig_import *im, size_t rev, enum mig_dialect d, bool upgrade,
		     bool identical)
{
	im->steps = xrealloc(im->steps, (im->nsteps + 1) * sizeof(*im->steps));
	struct mig_import_step *s = &im->steps[im->nsteps++];
	s->rev = rev;
	s->dialect = d;
	s->upgrade = upgrade;
	s->statements = im->revs[rev].runs[di(d)][upgrade].statements.n;
	s->identical = identical;
}

static int prove_step(struct work *w, struct mig_db *db, const struct mig_graph *g,
		      const char *url, enum mig_dialect d, size_t i, bool upgrade,
		      const struct snapshot *expected, bool *stop, struct mig_err *err)
{
	struct mig_import_rev *r = &w->im->revs[i];
	size_t gi = mig_graph_find(g, r->id);
	char *what = xasprintf("after %s %s", upgrade ? "upgrade to" : "downgrade of", r->id);
	bool same = true;
	int rc = MIG_OK;
	if (gi == MIG_NONE) {
		buf_printf(&w->im->diff, "%s, %s: %s has no file in %s\n", mig_dialect_name(d),
			   what, r->id, w->im->dir);
		w->im->ndiffs++;
		same = false;
		*stop = true;
	} else {
		struct mig_goal goal = { .upgrade = upgrade, .only = gi };
		struct mig_err run_err = MIG_ERR_INIT;
		if (mig_run(db, g, &w->vt, &goal, NULL, &run_err)) {
			buf_printf(&w->im->diff, "%s, %s: mig could not run the file: %s\n",
				   mig_dialect_name(d), what, run_err.msg ? run_err.msg : "?");
			w->im->ndiffs++;
			same = false;
			*stop = true;
		}
		mig_err_release(&run_err);
	}
	if (!*stop) {
		struct snapshot got;
		memset(&got, 0, sizeof(got));
		rc = take_snapshot(w, url, &got, err);
		if (!rc)
			compare(w, d, what, expected, &got, &same);
		snapshot_release(&got);
	}
	add_step(w->im, i, d, upgrade, same);
	free(what);
	return rc;
}

/* The proof on a dialect stops before the first step whose recording
 * raised: the file holds only part of that step. */
static bool stop_before(struct work *w, enum mig_dialect d, size_t i, bool upgrade)
{
	const struct mig_import_rev *r = &w->im->revs[i];
	if (!r->runs[di(d)][upgrade].error)
		return false;
	strv_push_owned(&w->im->stops, xasprintf("%s: the proof stopped before the %s of %s, "
						  "which is unfinished", mig_dialect_name(d),
						  upgrade ? "upgrade" : "downgrade", r->id));
	return true;
}

/*
 * Takes a PostgreSQL scratch database where the proof stopped back to base
 * with Alembic (mig wrote the same alembic_version rows it reads), so that
 * it is left as empty as it was given: revs[0..applied) are applied.
 */
static int unwind(struct work *w, const char *url, size_t applied, struct mig_err *err)
{
	int rc = MIG_OK;
	for (size_t k = applied; !rc && k-- > 0;) {
		const char *args[] = { "step", w->im->revs[k].id, "down", NULL, NULL };
		struct mig_json j = { .loaded = false };
		rc = mig_driver_call(&w->drv, url, args, &j, err);
		mig_json_release(&j);
		if (rc == MIG_EFOUND) {	/* it raised when recorded too */
			mig_err_release(err);
			args[3] = "skip";
			rc = mig_driver_call(&w->drv, url, args, &j, err);
			mig_json_release(&j);
		}
	}
	return rc;
}

static int prove_dialect(struct work *w, const struct mig_graph *g, enum mig_dialect d,
			 const char *url, struct mig_err *err)
{
	struct mig_db *db = NULL;
	struct mig_connect_opts co = { .create = true, .lock_timeout = -1, .scratch = true };
	int rc = mig_db_open(&db, url, &co, err);
	size_t n = w->im->nrevs, applied = 0;
	const struct snapshot *snaps = w->snaps[di(d)];
	bool stop = false, stopped_early = false;
	for (size_t i = 0; !rc && !stop && i < n; i++) {
		stop = stopped_early = stop_before(w, d, i, true);
		if (!stop)
			rc = prove_step(w, db, g, url, d, i, true, &snaps[i], &stop, err);
		if (!stop)
			applied = i + 1;
	}
	for (size_t k = 0; !rc && !stop && k < n; k++) {
		stop = stopped_early = stop_before(w, d, n - 1 - k, false);
		if (!stop)
			rc = prove_step(w, db, g, url, d, n - 1 - k, false, &snaps[n + k],
					&stop, err);
		if (!stop)
			applied = n - 1 - k;
	}
	mig_db_close(db);
	if (!rc && stopped_early && d == MIG_POSTGRESQL)
		rc = unwind(w, url, applied, err);
	return rc;
}

/* ---- the whole run --------------------------------------------------------------- */

static char *sqlite_url(const struct work *w, const char *name)
{
	return xasprintf("sqlite:///%s/%s", w->tmpdir, name);
}

static int make_tmpdir(struct work *w, struct mig_err *err)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/mig-import-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		int rc = mig_err_set(err, MIG_EINPUT, "cannot create %s: %s", tmpl,
				     strerror(errno));
		free(tmpl);
		return rc;
	}
	if (tmpl[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		char *abs = xasprintf("%s/%s", cwd ? cwd : ".", tmpl);
		free(cwd);
		free(tmpl);
		tmpl = abs;
	}
	w->tmpdir = tmpl;
	return MIG_OK;
}

static void remove_tmpdir(struct work *w)
{
	if (!w->tmpdir)
		return;
	static const char *const names[] = { "alembic.db", "mig.db", "alembic.db-journal",
					      "mig.db-journal", NULL };
	for (size_t i = 0; names[i]; i++) {
		char *p = xasprintf("%s/%s", w->tmpdir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(w->tmpdir);
	free(w->tmpdir);
	w->tmpdir = NULL;
}

static int record_all(struct work *w, struct mig_err *err)
{
	int rc = MIG_OK;
	if (w->o->dialects & MIG_IMPORT_POSTGRESQL)
		rc = require_empty(w->o->scratch_url, err);
	if (!rc && (w->o->dialects & MIG_IMPORT_SQLITE)) {
		rc = make_tmpdir(w, err);
		char *url = rc ? NULL : sqlite_url(w, "alembic.db");
		if (!rc)
			rc = record_dialect(w, MIG_SQLITE, url, err);
		free(url);
	}
	if (!rc && (w->o->dialects & MIG_IMPORT_POSTGRESQL)) {
		rc = record_dialect(w, MIG_POSTGRESQL, w->o->scratch_url, err);
		/* Alembic leaves its (empty) version table; mig builds there next. */
		int rc2 = drop_bookkeeping(w, w->o->scratch_url, err);
		if (!rc)
			rc = rc2;
	}
	return rc;
}

/* The files are usable but for the revisions mig-import wrote unfinished:
 * the proof runs up to those. */
static bool only_unfinished(const struct mig_graph *g)
{
	if (g->usable)
		return false;
	bool some = false;
	for (size_t i = 0; i < g->findings.n; i++) {
		const struct mig_finding *f = &g->findings.v[i];
		if (f->severity != MIG_SEV_ERROR)
			continue;
		if (strcmp(f->code, "unfinished") != 0)
			return false;
		some = true;
	}
	return some;
}

static int prove_all(struct work *w, struct mig_err *err)
{
	struct mig_graph g;
	int rc = mig_graph_load(&g, w->o->common->migrations_dir, err);
	if (rc)
		return rc;
	/* The proof stops before every step of an unfinished revision, so
	 * mig's runner may have the rest of the graph. */
	if (only_unfinished(&g))
		g.usable = true;
	rc = mig_graph_require_usable(&g, err);
	if (!rc && (w->o->dialects & MIG_IMPORT_SQLITE)) {
		char *url = sqlite_url(w, "mig.db");
		rc = prove_dialect(w, &g, MIG_SQLITE, url, err);
		free(url);
	}
	if (!rc && (w->o->dialects & MIG_IMPORT_POSTGRESQL)) {
		/* After a revision raised, Alembic may have left objects behind. */
		rc = require_empty(w->o->scratch_url, err);
		if (rc == MIG_ESAFETY && w->im->nunfinished) {
			strv_push_owned(&w->im->stops, xasprintf("postgresql: the proof was not "
								  "run: %s", err->msg));
			mig_err_release(err);
			rc = MIG_OK;
		} else if (!rc) {
			rc = prove_dialect(w, &g, MIG_POSTGRESQL, w->o->scratch_url, err);
		}
		int rc2 = drop_bookkeeping(w, w->o->scratch_url, err);
		if (!rc)
			rc = rc2;
	}
	/* The files proved, for the report. */
	for (size_t i = 0; !rc && i < w->im->nrevs; i++) {
		size_t gi = mig_graph_find(&g, w->im->revs[i].id);
		if (!w->im->revs[i].file && gi != MIG_NONE)
			w->im->revs[i].file = xstrdup(g.revs[gi].path);
	}
	mig_graph_release(&g);
	if (!rc && w->im->ndiffs)
		rc = mig_err_set(err, MIG_EFOUND, "the proof found %zu difference%s",
				 w->im->ndiffs, w->im->ndiffs == 1 ? "" : "s");
	else if (!rc && w->im->nunfinished)
		rc = mig_err_set(err, MIG_EFOUND, "%zu revision%s unfinished (the "
				 "'unfinished:' lines say why): finish %s by hand",
				 w->im->nunfinished, w->im->nunfinished == 1 ? " is" : "s are",
				 w->im->nunfinished == 1 ? "it" : "them");
	return rc;
}

int mig_import_run(struct mig_import *im, const struct mig_import_opts *o,
		   struct mig_err *err)
{
	memset(im, 0, sizeof(*im));
	im->dir = xasprintf("%s/versions", o->common->migrations_dir);
	struct work w = { .im = im, .o = o };
	w.vt.table = o->version_table ? o->version_table : MIG_DEFAULT_VERSION_TABLE;
	w.drv.version_table = w.vt.table;
	w.drv.python = o->python;
	w.drv.ini = o->alembic_ini;
	w.drv.scripts = o->scripts;
	int rc = mig_driver_find(&w.drv, err);
	if (!rc && !o->check_only)
		rc = check_output(im->dir, o->force, err);
	if (!rc)
		rc = load_history(&w, err);
	if (!rc)
		rc = record_all(&w, err);
	for (size_t i = 0; !rc && i < im->nrevs; i++) {
		char *why = mig_import_rev_unfinished(&im->revs[i]);
		im->nunfinished += why != NULL;
		free(why);
	}
	if (!rc && !o->check_only)
		rc = write_files(&w, err);
	if (!rc)
		rc = prove_all(&w, err);
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; w.snaps[d] && i < 2 * im->nrevs; i++)
			snapshot_release(&w.snaps[d][i]);
		free(w.snaps[d]);
	}
	remove_tmpdir(&w);
	mig_driver_release(&w.drv);
	return rc;
}

void mig_import_release(struct mig_import *im)
{
	for (size_t i = 0; i < im->nrevs; i++) {
		struct mig_import_rev *r = &im->revs[i];
		free(r->id);
		strv_release(&r->down);
		strv_release(&r->branch_labels);
		strv_release(&r->depends_on);
		free(r->message);
		free(r->create_date);
		free(r->source);
		free(r->file);
		for (int d = 0; d < 2; d++) {
			for (int u = 0; u < 2; u++) {
				strv_release(&r->runs[d][u].statements);
				strv_release(&r->runs[d][u].reads);
				free(r->runs[d][u].error);
				free(r->runs[d][u].unrecordable);
			}
		}
	}
	free(im->revs);
	free(im->steps);
	mig_findings_release(&im->findings);
	buf_release(&im->diff);
	strv_release(&im->stops);
	free(im->env);
	free(im->dir);
	memset(im, 0, sizeof(*im));
}
