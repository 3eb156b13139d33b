/*
 * session.c: the opening every program makes: the revision graph of the
 * migrations folder, then the database connection, then the version table
 * it keeps.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"
#include "cli.h"
#include "db.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "out.h"
#include "url.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

int mig_session_open(struct mig_session *s, struct mig_common *c,
		     unsigned flags, struct mig_err *err)
{
	memset(s, 0, sizeof(*s));
	s->common = c;
	s->vt.table = c->version_table;
	s->vt.schema = c->version_schema;
	s->vt.no_history = c->no_history;
	s->vt.rerun_unfinished = c->rerun_unfinished;
	s->vt.app_schema = c->schema;
	int rc = MIG_OK;
	if ((flags & MIG_PRINT_SQL) && c->format == MIG_FORMAT_JSON)
		return mig_err_set(err, MIG_EINPUT, "--sql prints a SQL script, "
				   "not JSON; drop --format json or --sql");
	if (flags & MIG_NEED_DB)
		rc = mig_common_need_url(c, err);
	if (!rc && !(flags & MIG_NO_GRAPH)) {
		rc = mig_graph_load(&s->graph, c->migrations_dir, err);
		/* what lint calls an error (two heads) does not stop a
		 * program that can run on the graph: then it is a warning */
		if (!rc && c->verbosity > 0)
			mig_findings_print_as(stderr, &s->graph.findings,
					      s->graph.usable ? MIG_SEV_WARNING : MIG_SEV_ERROR);
		if (!rc)	/* bad files are reported before any database is touched */
			rc = mig_graph_require_usable(&s->graph, err);
	}
	if (!rc && (flags & MIG_NEED_DB)) {
		struct mig_connect_opts o = {
			.create = flags & MIG_DB_CREATE,
			.readonly = flags & MIG_DB_READONLY,
			.wait_seconds = c->wait_seconds,
			.lock_timeout = c->lock_timeout,
			.verbose = c->verbosity > 0,
			.lock_mode = c->lock_mode,
			.quiet = c->verbosity < 0,
			.heartbeat = c->heartbeat,
			.progress = c->format == MIG_FORMAT_TEXT,
		};
		rc = mig_db_open(&s->db, c->database_url, &o, err);
	}
	if (!rc && s->db && s->vt.schema && mig_db_dialect(s->db) == MIG_SQLITE)
		rc = mig_err_set(err, MIG_EINPUT, "--version-schema is for PostgreSQL; "
				 "SQLite has no schemas");
	if (!rc && s->db && c->schema && mig_db_dialect(s->db) == MIG_SQLITE)
		rc = mig_err_set(err, MIG_EINPUT, "--schema is for PostgreSQL; "
				 "SQLite has no schemas");
	if (!rc && s->db)	/* before any migration can change search_path */
		rc = mig_vt_resolve(s->db, &s->vt, err);
	if (rc)
		mig_session_close(s);
	return rc;
}

void mig_session_close(struct mig_session *s)
{
	mig_db_close(s->db);
	s->db = NULL;
	mig_vt_release(&s->vt);
	mig_graph_release(&s->graph);
}
