/*
 * compare.h: the differences between two schema models (diff.h), as findings: a live
 * database against a spec (mig-check-schema, mig-verify --spec), two live
 * databases (stamp checks, the round trip), and the foreign-key type rule
 * over one model.  Findings are appended to the caller's list.
 */
#ifndef MIG_COMPARE_H
#define MIG_COMPARE_H

#include "findings.h"
#include "schema.h"

/*
 * Compares a live schema with a spec, adding one finding per difference
 * (file and line of the spec).  Partial specs check only what they name;
 * strict reports everything else as extra.
 */
void mig_schema_compare(const struct mig_schema *live, const struct mig_schema *spec,
			bool strict, struct mig_findings *out);
/* The rule that holds whatever a spec says: a foreign key column must have
 * the type of the column it references (PostgreSQL refuses it otherwise). */
void mig_schema_check_fk_types(const struct mig_schema *live,
			       struct mig_findings *out);
/* Differences between two live schemas (stamp check, round trip): each a
 * finding that says what was expected. */
void mig_schema_compare_expected(const struct mig_schema *expected,
				 const struct mig_schema *actual, struct mig_findings *out);

#endif
