/*
 * spec.h: the YAML schema spec of DESIGN.md (libyaml): loading it into the
 * schema model, strictly, with the line of every element for findings.
 * Writing a model as a spec is spec_dump.h's.
 */
#ifndef MIG_SPEC_H
#define MIG_SPEC_H

#include "mig.h"
#include "schema.h"

#include <stdbool.h>

/*
 * Loads a YAML spec (the format of DESIGN.md).  MIG_EINPUT with
 * "file:line:column: what" for bad YAML, unknown keys, unknown types,
 * duplicate keys or aliases.  strict also requires foreign keys to name
 * tables the spec defines.
 */
int mig_spec_load(struct mig_schema *out, const char *path, bool strict,
		  struct mig_err *err);
/* Whether a plain YAML scalar of this text reads as null ("", "~", "null"
 * in any case): the writer quotes such a string so it reads back as text. */
bool mig_spec_null_text(const char *s);

#endif
