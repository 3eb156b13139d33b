/*
 * verify.h: mig-verify's job, the CI migrations check: lint the graph,
 * apply every migration to a clean database, check the expectations and the
 * spec, and walk the round trip down and up again.  struct mig_verify owns
 * what it gathers (mig_verify_release), also after a failure.
 */
#ifndef MIG_VERIFY_H
#define MIG_VERIFY_H

#include "cli.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "schema.h"

struct mig_verify_opts {
	const struct mig_common *common;	/* -d: an empty database, else temp SQLite */
	const char *keep;		/* --keep PATH: build the SQLite file there */
	bool lint_only, allow_multiple_heads, roundtrip, strict;
	long expect_tables;		/* -1: not checked */
	struct mig_strv expect_table;
	const char *spec;
};

struct mig_verify {
	struct mig_findings findings;	/* lint, checks and round trip */
	size_t lint_errors;
	struct mig_buf applied;		/* JSON objects of applied migrations */
	size_t napplied;
	double apply_ms;
	struct mig_strv tables;		/* created, sorted */
	struct mig_schema schema;	/* the result */
	size_t spec_findings;		/* differences from --spec */
	const char *roundtrip_failed;	/* the first revision that failed */
	size_t roundtrip_steps;
	char *db_display;
	char *temp_path;
	/* called as each migration is applied */
	void (*on_step)(void *ctx, const struct mig_rev *rev, double ms);
	void *ctx;
};

/*
 * Runs the job: lints g, then (unless lint_only or the graph has errors)
 * applies every migration to a clean database, checks the expectations and
 * the spec, and walks the round trip.  Findings go to v->findings; the
 * return code is for failures to do the job (MIG_EDB, MIG_ESAFETY for a
 * non-empty database, MIG_EINPUT for a bad spec).
 */
int mig_verify_run(struct mig_verify *v, const struct mig_verify_opts *o,
		   const struct mig_graph *g, struct mig_err *err);
void mig_verify_release(struct mig_verify *v);

#endif
