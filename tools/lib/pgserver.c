/*
 * pgserver.c: recognising the server at the other end of a PostgreSQL
 * connection from its answers (pgserver.h).
 */
#include "pgserver.h"

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
