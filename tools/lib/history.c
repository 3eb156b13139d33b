/*
 * history.c: the applied history table mig_history (contract in
 * history.h): created and written inside the step's own transaction,
 * read by mig-status.  Values are bound, never spliced; names are quoted.
 */
#define _DEFAULT_SOURCE	/* gethostname */
#define _POSIX_C_SOURCE 200809L
#include "history.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "out.h"
#include "plan.h"
#include "url.h"
#include "version.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const mig_history_column_names[MIG_HC_COUNT] = {
	"id", "revision", "direction", "sha256", "started_at", "duration_ms",
	"db_user", "application_name", "os_user", "host", "mig_version",
	"github_run_id", "github_sha",
};

bool mig_history_enabled(const struct mig_vt *vt)
{
	const char *env = getenv("MIG_NO_HISTORY");
	return !vt->no_history && !(env && *env && strcmp(env, "0") != 0);
}

/* Beside the version table: the schema it was resolved to for this run. */
static const char *history_schema(const struct mig_vt *vt)
{
	return vt->resolved_schema ? vt->resolved_schema : vt->schema;
}

static char *table_name(const struct mig_vt *vt)
{
	struct mig_buf b = MIG_BUF_INIT;
	mig_quote_qualified(&b, history_schema(vt), MIG_HISTORY_TABLE);
	return buf_detach(&b);
}

static int create_table(struct mig_db *db, const struct mig_vt *vt, struct mig_err *err)
{
	char *t = table_name(vt);
	bool pg = mig_db_dialect(db) == MIG_POSTGRESQL;
	char *sql = xasprintf(
		"CREATE TABLE %s (\n"
		"\tid %s PRIMARY KEY,\n"
		"\trevision VARCHAR(32),\n"
		"\tdirection VARCHAR(5) NOT NULL CHECK (direction IN ('up', 'down', 'stamp')),\n"
		"\tsha256 CHAR(64),\n"
		"\tstarted_at VARCHAR(32) NOT NULL,\n"
		"\tduration_ms BIGINT NOT NULL,\n"
		"\tdb_user TEXT,\n"
		"\tapplication_name TEXT,\n"
		"\tos_user TEXT,\n"
		"\thost TEXT,\n"
		"\tmig_version TEXT NOT NULL,\n"
		"\tgithub_run_id TEXT,\n"
		"\tgithub_sha TEXT\n)", t, pg ? "BIGSERIAL" : "INTEGER");
	int rc = mig_db_query(db, sql, 0, NULL, NULL, err);
	free(sql);
	free(t);
	return rc;
}

/* The wall-clock time t0 (a mig_now_ms reading) was, as UTC ISO 8601. */
static void started_at(double t0, char out[32])
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double ms = (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6 -
		    (mig_now_ms() - t0);
	time_t secs = (time_t)(ms / 1000.0);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms - (double)secs * 1000.0) % 1000);
}

/* Who and where, looked up once per process (a run records many steps;
 * the passwd lookup reads /etc/passwd each time).  Names longer than the
 * buffers are cut, never overflowed: Linux allows 32-byte user names and
 * 64-byte host names. */
static const char *os_user(void)
{
	static char user[256];
	static bool looked;
	if (looked)
		return *user ? user : NULL;
	looked = true;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t n = size > 0 ? (size_t)size : 16384;
	char *buf = xmalloc(n);
	struct passwd pw, *found = NULL;
	const char *env = getenv("USER");
	if (getpwuid_r(geteuid(), &pw, buf, n, &found) == 0 && found && found->pw_name)
		snprintf(user, sizeof(user), "%s", found->pw_name);
	else if (env)	/* a uid without a passwd entry (a container) */
		snprintf(user, sizeof(user), "%s", env);
	free(buf);
	return *user ? user : NULL;
}

static const char *host_name(void)
{
	static char host[256];
	static bool looked;
	if (!looked && gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	looked = true;
	host[sizeof(host) - 1] = '\0';
	return *host ? host : NULL;
}

/* One catalog lookup of one name: listing the schema's tables at every
 * step would cost a run of N steps on N tables N*N. */
/* In the version table's resolved schema, whatever a migration did to
 * search_path: one indexed lookup, through the driver. */
static int table_exists(struct mig_db *db, const struct mig_vt *vt, bool *exists,
			struct mig_err *err)
{
	unsigned long oid = 0;
	int rc = mig_db_table_oid(db, history_schema(vt), MIG_HISTORY_TABLE, &oid, err);
	*exists = !rc && oid != 0;
	return rc;
}

static const char *github(const char *name)
{
	const char *v = gh_active() ? getenv(name) : NULL;
	return v && *v ? v : NULL;
}

/* The INSERT of one step's row, its values $(first+1)..$(first+10) (the
 * ten of row_values), after first parameters of the caller's. */
static char *insert_sql(const struct mig_db *db, const char *table, int first)
{
	/* put together without printf, whose formatting was a tenth of a
	 * SQLite step's own work; first is at most 2 (mig_vt_statement) */
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "INSERT INTO ");
	buf_puts(&b, table);
	buf_puts(&b, " (revision, direction, sha256, started_at, duration_ms, db_user, "
		 "application_name, os_user, host, mig_version, github_run_id, "
		 "github_sha) VALUES (");
	for (int k = first + 1; k <= first + 10; k++) {
		if (k == first + 6)
			buf_puts(&b, mig_db_dialect(db) == MIG_POSTGRESQL
				 ? "current_user, current_setting('application_name'), "
				 : "NULL, NULL, ");
		buf_putc(&b, '$');
		if (k >= 10)
			buf_putc(&b, (char)('0' + k / 10));
		buf_putc(&b, (char)('0' + k % 10));
		buf_puts(&b, k < first + 10 ? ", " : ")");
	}
	return buf_detach(&b);
}

/* The ten bound values of a step's row; when and ms are the caller's. */
static void row_values(const struct mig_rev *rev, enum mig_history_direction dir,
		       const char *when, const char *ms, const char *out[10])
{
	static const char *const dirs[] = { "up", "down", "stamp" };
	const char *v[10] = { rev ? rev->id : NULL, dirs[dir], rev ? rev->sha256 : NULL,
			      when, ms, os_user(), host_name(), MIG_VERSION,
			      github("GITHUB_RUN_ID"), github("GITHUB_SHA") };
	memcpy(out, v, sizeof(v));
}

/* The table is there (found or made), or recording is off (*on false). */
static int ensure_table(struct mig_db *db, const struct mig_vt *vt, bool *on,
			struct mig_err *err)
{
	*on = mig_history_enabled(vt);
	bool exists = db->history_table_seen;
	int rc = !*on || exists ? MIG_OK : table_exists(db, vt, &exists, err);
	if (!rc && *on && !exists)
		rc = create_table(db, vt, err);
	return rc;
}

static int recorded(struct mig_db *db, const char *table, int rc, struct mig_err *err)
{
	db->history_table_seen = rc == MIG_OK;
	if (rc)
		mig_err_hint(err, "recording the step in %s failed, so the step was rolled "
			     "back; --no-history (or MIG_NO_HISTORY=1) runs without it", table);
	return rc;
}

/* One row; duration NULL: the time since t0.  *id (if not NULL) gets its id. */
static int write_row(struct mig_db *db, const struct mig_vt *vt,
		     const struct mig_rev *rev, enum mig_history_direction dir,
		     double t0, const char *duration, long long *id,
		     struct mig_err *err)
{
	bool exists = db->history_table_seen;
	int rc = exists ? MIG_OK : table_exists(db, vt, &exists, err);
	if (!rc && !exists)
		rc = create_table(db, vt, err);
	if (rc)
		return rc;
	char when[32];
	started_at(t0, when);
	char *ms = duration ? xstrdup(duration) : xasprintf("%.0f", mig_now_ms() - t0);
	const char *p[10];
	row_values(rev, dir, when, ms, p);
	char *t = table_name(vt);
	char *insert = insert_sql(db, t, 0);
	/* RETURNING only when the id is asked for (a "started" mark): on
	 * SQLite it costs a temporary table per row */
	char *sql = id ? xasprintf("%s RETURNING id", insert) : NULL;
	struct mig_rows r = MIG_ROWS_INIT;
	rc = recorded(db, t, mig_db_query(db, sql ? sql : insert, 10, p, &r, err), err);
	if (!rc && id)
		*id = mig_rows_cell(&r, 0, 0) ? strtoll(mig_rows_cell(&r, 0, 0), NULL, 10) : 0;
	mig_rows_release(&r);
	free(insert);
	free(sql);
	free(t);
	free(ms);
	return rc;
}

int mig_history_record(struct mig_db *db, const struct mig_vt *vt,
		       const struct mig_rev *rev, enum mig_history_direction dir,
		       double t0, struct mig_err *err)
{
	if (!mig_history_enabled(vt))
		return MIG_OK;
	return write_row(db, vt, rev, dir, t0, NULL, NULL, err);
}

/*
 * On PostgreSQL one statement: the version-row change and the history row
 * as data-modifying WITH queries (each runs once, whether read or not),
 * whose result is how many rows the change changed.  A step's writes then
 * cost one round trip.  SQLite (no such WITH) runs the two in turn.
 */
int mig_history_record_with(struct mig_db *db, const struct mig_vt *vt,
			    const struct mig_rev *rev, enum mig_history_direction dir,
			    double t0, const struct mig_vt_statement *change,
			    long *affected, struct mig_err *err)
{
	*affected = 0;
	bool on = false;
	int rc = ensure_table(db, vt, &on, err);
	if (rc)
		return rc;
	if (!on || mig_db_dialect(db) != MIG_POSTGRESQL) {
		struct mig_rows r = MIG_ROWS_INIT;
		rc = mig_db_query(db, change->sql, change->nparams, change->params, &r, err);
		*affected = r.affected;
		mig_rows_release(&r);
		return rc || !on ? rc : mig_history_record(db, vt, rev, dir, t0, err);
	}
	char when[32];
	started_at(t0, when);
	char *ms = xasprintf("%.0f", mig_now_ms() - t0);
	const char *p[12];
	int n = change->nparams;
	for (int i = 0; i < n; i++)
		p[i] = change->params[i];
	row_values(rev, dir, when, ms, p + n);
	char *t = table_name(vt);
	char *insert = insert_sql(db, t, n);
	char *sql = xasprintf("WITH v AS (%s RETURNING 1), h AS (%s) SELECT count(*) FROM v",
			      change->sql, insert);
	struct mig_rows r = MIG_ROWS_INIT;
	rc = recorded(db, t, mig_db_query(db, sql, n + 10, p, &r, err), err);
	const char *count = rc ? NULL : mig_rows_cell(&r, 0, 0);
	*affected = count ? strtol(count, NULL, 10) : 0;
	mig_rows_release(&r);
	free(sql);
	free(insert);
	free(t);
	free(ms);
	return rc;
}

/* A stamp records that the operator checked the revision: its unfinished
 * rows (a run killed inside it) are settled by it. */
int mig_history_record_stamp(struct mig_db *db, const struct mig_vt *vt,
			     const struct mig_graph *g, const size_t *target, size_t n,
			     double t0, struct mig_err *err)
{
	int rc = n ? MIG_OK : mig_history_record(db, vt, NULL, MIG_HISTORY_STAMP, t0, err);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = mig_history_record(db, vt, &g->revs[target[i]], MIG_HISTORY_STAMP, t0, err);
		if (!rc && mig_history_enabled(vt))
			rc = mig_history_clear_started(db, vt, 0, g->revs[target[i]].id, err);
	}
	return rc;
}

int mig_history_mark_started(struct mig_db *db, const struct mig_vt *vt,
			     const struct mig_rev *rev, enum mig_history_direction dir,
			     double t0, long long *id, struct mig_err *err)
{
	*id = 0;
	if (!mig_history_enabled(vt))
		return MIG_OK;
	return write_row(db, vt, rev, dir, t0, MIG_HISTORY_UNFINISHED_MS, id, err);
}

int mig_history_clear_started(struct mig_db *db, const struct mig_vt *vt,
			      long long id, const char *rev, struct mig_err *err)
{
	char *t = table_name(vt);
	char *ids = xasprintf("%lld", id);
	const char *p[2] = { ids, rev };
	char *sql = xasprintf("DELETE FROM %s WHERE id = CAST($1 AS BIGINT) OR "
			      "(revision = $2 AND duration_ms = " MIG_HISTORY_UNFINISHED_MS
			      ")", t);
	int rc = MIG_OK;
	if (id || db->history_table_seen)
		rc = mig_db_query(db, sql, 2, p, NULL, err);
	else {	/* a stamp: the table may not be there */
		bool exists = false;
		rc = table_exists(db, vt, &exists, err);
		if (!rc && exists)
			rc = mig_db_query(db, sql, 2, p, NULL, err);
	}
	free(sql);
	free(ids);
	free(t);
	return rc;
}

int mig_history_unfinished(struct mig_db *db, const struct mig_vt *vt,
			   struct mig_rows *out, struct mig_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!mig_history_enabled(vt))
		return MIG_OK;
	bool exists = false;
	int rc = table_exists(db, vt, &exists, err);
	if (rc || !exists)
		return rc;
	char *t = table_name(vt);
	char *sql = xasprintf("SELECT revision, direction, started_at, os_user, host "
			      "FROM %s WHERE duration_ms = " MIG_HISTORY_UNFINISHED_MS
			      " ORDER BY id", t);
	rc = mig_db_query(db, sql, 0, NULL, out, err);
	free(sql);
	free(t);
	return rc;
}

int mig_history_read(struct mig_db *db, const struct mig_vt *vt,
		     struct mig_history *h, struct mig_err *err)
{
	memset(h, 0, sizeof(*h));
	int rc = table_exists(db, vt, &h->exists, err);
	if (rc || !h->exists)
		return rc;
	struct mig_buf sql = MIG_BUF_INIT;
	buf_puts(&sql, "SELECT ");
	for (int c = 0; c < MIG_HC_COUNT; c++)
		buf_printf(&sql, "%s%s", c ? ", " : "", mig_history_column_names[c]);
	char *t = table_name(vt);
	buf_printf(&sql, " FROM %s ORDER BY id", t);
	rc = mig_db_query(db, buf_str(&sql), 0, NULL, &h->rows, err);
	if (rc)
		mig_err_hint(err, "%s exists but cannot be read as mig's history table", t);
	free(t);
	buf_release(&sql);
	return rc;
}

void mig_history_release(struct mig_history *h)
{
	mig_rows_release(&h->rows);
	h->exists = false;
}

/* ---- auditing the applied revisions --------------------------------------- */

void mig_history_audit(const struct mig_history *h, const struct mig_graph *g,
		       const struct mig_strv *current, struct mig_history_audit *out)
{
	memset(out, 0, sizeof(*out));
	size_t *cur = xcalloc(current->n + 1, sizeof(*cur)), ncur = 0;
	for (size_t i = 0; i < current->n; i++) {
		size_t r = mig_graph_find(g, current->v[i]);
		if (r != MIG_NONE)
			cur[ncur++] = r;
	}
	bool *applied = xcalloc(g->nrevs + 1, sizeof(*applied));
	mig_graph_mark_ancestors(g, cur, ncur, applied);
	size_t *last = xmalloc((g->nrevs + 1) * sizeof(*last));	/* latest row per rev */
	for (size_t r = 0; r < g->nrevs; r++)
		last[r] = MIG_NONE;
	for (size_t i = 0; i < h->rows.nrows; i++) {
		const char *id = mig_rows_cell(&h->rows, i, MIG_HC_REVISION);
		size_t r = id ? mig_graph_find(g, id) : MIG_NONE;
		if (r != MIG_NONE)
			last[r] = i;
	}
	for (size_t k = 0; k < g->norder; k++) {
		size_t r = g->order[k];
		if (!applied[r])
			continue;
		const struct mig_rev *rev = &g->revs[r];
		const char *dir = last[r] == MIG_NONE ? NULL
				  : mig_rows_cell(&h->rows, last[r], MIG_HC_DIRECTION);
		const char *sha = dir ? mig_rows_cell(&h->rows, last[r], MIG_HC_SHA256) : NULL;
		if (!dir || !strcmp(dir, "down") || !sha) {
			strv_push(&out->unrecorded, rev->id);
			continue;
		}
		out->recorded++;
		if (!strcmp(sha, rev->sha256))
			continue;
		const char *when = mig_rows_cell(&h->rows, last[r], MIG_HC_STARTED_AT);
		mig_findings_add(&out->changed, MIG_SEV_ERROR, "applied-file-changed",
				 rev->path, rev->line, "databases that applied it will not "
				 "run it again: undo the edit and write a new migration "
				 "(mig-new); mig-verify says whether only comments or white "
				 "space changed",
				 "the file of applied revision %s changed since it was %s on %s",
				 rev->id, !strcmp(dir, "stamp") ? "stamped" : "applied",
				 when ? when : "?");
	}
	free(last);
	free(applied);
	free(cur);
}

void mig_history_audit_release(struct mig_history_audit *a)
{
	mig_findings_release(&a->changed);
	strv_release(&a->unrecorded);
}
