/*
 * pgserver.c: recognising the server at the other end of a PostgreSQL
 * connection from its answers (pgserver.h).
 */
#include "pgserver.h"
#include "db.h"
#include "mig.h"

#include <string.h>

bool mig_pg_version_is_cockroach(const char *version)
{
	static const char prefix[] = "CockroachDB ";
	if (!version)
		return false;
	while (*version == ' ' || *version == '\t' || *version == '\n')
		version++;
	return strncmp(version, prefix, sizeof(prefix) - 1) == 0;
}

int mig_pg_refuse_server(const char *display, enum mig_lock_mode mode,
			 const struct mig_pg_server_facts *f, int client_pid,
			 struct mig_err *err)
{
	if (f->standby) {
		mig_err_set(err, MIG_ESAFETY, "%s: read-only standby; connect to the "
			    "primary (target_session_attrs=read-write)", display);
		return mig_err_hint(err, "list every node in the URL, as in postgresql://"
				    "h1,h2/db?target_session_attrs=read-write, and libpq "
				    "finds the primary; nothing was changed");
	}
	if (f->cockroach && mode != MIG_LOCK_NONE) {
		mig_err_set(err, MIG_ESAFETY, "%s is CockroachDB, whose advisory locks "
			    "lock nothing, so two deploys at once could both apply "
			    "a migration", display);
		return mig_err_hint(err, "make sure one deploy runs at a time, then "
				    "pass --no-lock; nothing was changed");
	}
	if (f->pooled && mode == MIG_LOCK_SESSION) {
		mig_err_set(err, MIG_ESAFETY, "--lock-mode session: a connection pooler "
			    "answers at %s (its connection pid %d is not server "
			    "backend %ld), and a session lock taken through a "
			    "transaction pooler stays on a pooled server connection "
			    "after this run, where it blocks every later deploy",
			    display, client_pid, f->backend_pid);
		return mig_err_hint(err, "drop --lock-mode (mig then locks in each "
				    "migration's transaction), or connect to the server "
				    "directly; nothing was changed");
	}
	return MIG_OK;
}
