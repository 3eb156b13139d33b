/*
 * pg_version: mig_pg_version_is_cockroach over the version() strings real
 * servers send.  CockroachDB is not in Debian, so the suite cannot start
 * one; these strings are the ones its documentation and its SQL shell show.
 * Prints each case that fails; exits 1 if any did.  Run by
 * test/invariants.bats.
 */
#include "pgserver.h"

#include <stdio.h>

static const struct {
	const char *version;
	bool cockroach;
} cases[] = {
	/* CockroachDB's SQL shell, "Server version:" (v21.1 docs) */
	{ "CockroachDB CCL v21.1.0 (x86_64-unknown-linux-gnu, built 2021/04/23 "
	  "13:54:57, go1.13.14)", true },
	/* a development build (v2.1 docs) */
	{ "CockroachDB CCL v2.1.0-alpha.20180702-281-g07a11b8e8c-dirty "
	  "(x86_64-apple-darwin17.6.0, built 2018/07/08 14:00:29, go1.10.1)", true },
	/* an Apache-licensed build */
	{ "CockroachDB OSS v19.2.12 (x86_64-unknown-linux-gnu, built 2021/01/19 "
	  "00:00:00, go1.12.12)", true },
	{ "CockroachDB CCL v23.1.11 (aarch64-unknown-linux-gnu, built 2023/09/27 "
	  "01:53:43, go1.19.10)", true },
	/* PostgreSQL itself, and servers built on it, whose locks are real */
	{ "PostgreSQL 15.5 (Debian 15.5-0+deb12u1) on x86_64-pc-linux-gnu, compiled "
	  "by gcc (Debian 12.2.0-14) 12.2.0, 64-bit", false },
	{ "PostgreSQL 16.1 on aarch64-unknown-linux-gnu, compiled by gcc (GCC) "
	  "7.3.1 20180712 (Red Hat 7.3.1-12), 64-bit", false },
	{ "PostgreSQL 11.2-YB-2.18.0.0-b0 on x86_64-pc-linux-gnu, compiled by clang "
	  "version 15.0.7, 64-bit", false },
	/* a name that merely contains the word */
	{ "PostgreSQL 15.4 on x86_64-pc-linux-gnu (CockroachDB-compatible build)", false },
	{ "cockroachdb", false },
	{ "", false },
	{ NULL, false },
};

int main(void)
{
	int failed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = mig_pg_version_is_cockroach(cases[i].version);
		if (got != cases[i].cockroach) {
			printf("FAIL: %s: %s, expected %s\n",
			       cases[i].version ? cases[i].version : "(null)",
			       got ? "CockroachDB" : "not CockroachDB",
			       cases[i].cockroach ? "CockroachDB" : "not CockroachDB");
			failed = 1;
		}
	}
	if (!failed)
		printf("ok: %zu version strings\n", sizeof(cases) / sizeof(cases[0]));
	return failed;
}
