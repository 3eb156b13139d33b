/*
 * spec.h: the YAML schema spec of DESIGN.md (libyaml): loading it into the
 * schema model, with the line of every element for findings, and writing a
 * model back as a spec.
 */
#ifndef MIG_SPEC_H
#define MIG_SPEC_H

#include "mig.h"
#include "schema.h"

#include <stdio.h>

/*
 * Loads a YAML spec (the format of DESIGN.md).  MIG_EINPUT with
 * "file:line:column: what" for bad YAML, unknown keys, unknown types,
 * duplicate keys or aliases.  strict also requires foreign keys to name
 * tables the spec defines.
 */
int mig_spec_load(struct mig_schema *out, const char *path, bool strict,
		  struct mig_err *err);
/* Writes s as a spec: stable order, so equal schemas give equal bytes. */
int mig_spec_dump(const struct mig_schema *s, FILE *fp, struct mig_err *err);

#endif
