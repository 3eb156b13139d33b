/*
 * offline.c: --sql with no database (offline.h).  The plan is made from
 * the FROM revisions of the command line instead of a database's rows;
 * the SQL is the same mig_plan_sql writes for a database.
 */
#define _POSIX_C_SOURCE 200809L
#include "offline.h"
#include "cli.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "run.h"
#include "session.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

bool mig_offline_wanted(const struct mig_common *c, const char *range)
{
	if (range && strchr(range, ':'))
		return true;
	if (c->database_url)
		return false;
	const char *env = getenv("DATABASE_URL");
	return !env || !*env;
}

static int offline_dialect(const struct mig_common *c, const char *name,
			   enum mig_dialect *out, struct mig_err *err)
{
	if (name) {
		if (!strcmp(name, "sqlite"))
			*out = MIG_SQLITE;
		else if (!strcmp(name, "postgresql"))
			*out = MIG_POSTGRESQL;
		else
			return mig_err_set(err, MIG_EINPUT, "--dialect: '%s' is not "
					   "sqlite or postgresql", name);
		return MIG_OK;
	}
	const char *url = c->database_url ? c->database_url : getenv("DATABASE_URL");
	if (!url || !*url) {
		mig_err_set(err, MIG_EINPUT, "--sql without a database needs to know "
			    "the dialect the SQL is for");
		return mig_err_hint(err, "add --dialect sqlite or --dialect postgresql "
				    "(or -d URL, which is read for its dialect only)");
	}
	struct mig_url u = MIG_URL_INIT;
	int rc = mig_url_parse(&u, url, err);
	if (!rc)
		*out = u.dialect;
	mig_url_release(&u);
	return rc;
}

/* FROM: revisions separated by commas (none for base), each resolved as
 * a target is. */
static int range_from(const struct mig_graph *g, const char *arg, size_t **idx,
		      size_t *n, struct mig_err *err)
{
	int rc = MIG_OK;
	for (const char *p = arg; !rc; p++) {
		size_t len = strcspn(p, ",");
		char *one = xstrndup(p, len);
		rc = mig_graph_resolve(g, one, idx, n, err);
		free(one);
		p += len;
		if (!*p)
			break;
	}
	return rc;
}

static int offline_plan(const struct mig_graph *g, const struct mig_offline *o,
			struct mig_strv *from, struct mig_plan *plan, struct mig_err *err)
{
	const char *colon = strchr(o->range, ':');
	char *from_arg = colon ? xstrndup(o->range, (size_t)(colon - o->range))
			       : xstrdup("base");
	const char *to_arg = colon ? colon + 1 : o->range;
	size_t *idx = NULL, n = 0;
	int rc = MIG_OK;
	if (!*from_arg || !*to_arg) {
		rc = mig_err_set(err, MIG_EINPUT, "--to '%s': a range is FROM:TO, both "
				 "given", o->range);
		mig_err_hint(err, "e.g. --to base:head or --to a1b2c3:d4e5f6");
	}
	if (!rc)
		rc = range_from(g, from_arg, &idx, &n, err);
	for (size_t i = 0; !rc && i < n; i++)
		strv_push(from, g->revs[idx[i]].id);
	free(idx);
	idx = NULL;
	n = 0;
	struct mig_goal goal = { .upgrade = o->upgrade, .only = MIG_NONE };
	if (!rc && !o->upgrade && to_arg[0] == '-')
		rc = mig_parse_int("--to", to_arg + 1, 1, 1000000, &goal.steps, err);
	else if (!rc)
		rc = mig_graph_resolve(g, to_arg, &idx, &n, err);
	if (!rc && !o->upgrade && n > 1)
		rc = mig_err_set(err, MIG_EINPUT, "--to names %zu revisions; name one", n);
	goal.target = idx;
	goal.ntarget = n;
	if (!rc)
		rc = mig_plan_goal(g, from, &goal, plan, err);
	free(idx);
	free(from_arg);
	return rc;
}

int mig_plan_sql_check(const struct mig_graph *g, const struct mig_plan *plan,
		       struct mig_err *err)
{
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct mig_rev *rev = &g->revs[plan->steps[i].rev];
		if (rev->kind == MIG_REV_SQL)
			continue;
		mig_err_set(err, MIG_EINPUT, "%s: an Alembic Python script cannot be run "
			    "by mig; it is read for the revision graph only", rev->path);
		return mig_err_hint(err, "run it with alembic (alembic upgrade --sql "
				    "prints its SQL), or rewrite it as a .sql migration");
	}
	return MIG_OK;
}

int mig_offline_sql(struct mig_common *c, const struct mig_offline *o,
		    struct mig_err *err)
{
	enum mig_dialect dialect = MIG_DIALECT_ANY;
	int rc = offline_dialect(c, o->dialect, &dialect, err);
	if (rc)
		return rc;
	if (c->version_schema && dialect == MIG_SQLITE)
		return mig_err_set(err, MIG_EINPUT, "--version-schema is for PostgreSQL; "
				   "SQLite has no schemas");
	struct mig_session s;
	rc = mig_session_open(&s, c, MIG_PRINT_SQL, err);
	if (rc)
		return rc;
	struct mig_strv from = MIG_STRV_INIT;
	struct mig_plan plan = { NULL, 0 };
	rc = offline_plan(&s.graph, o, &from, &plan, err);
	if (!rc)
		rc = mig_plan_sql_check(&s.graph, &plan, err);
	if (!rc) {
		struct mig_buf out = MIG_BUF_INIT;
		mig_plan_sql(&out, &s.graph, &s.vt, dialect, &from, from.n > 0, &plan);
		fputs(buf_str(&out), stdout);
		buf_release(&out);
	}
	mig_plan_release(&plan);
	strv_release(&from);
	mig_session_close(&s);
	return rc;
}
