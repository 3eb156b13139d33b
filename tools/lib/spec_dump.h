/*
 * spec_dump.h: a schema model written as a YAML spec that mig_spec_load
 * (spec.h) reads back as the same model (mig-check-schema --dump).
 */
#ifndef MIG_SPEC_DUMP_H
#define MIG_SPEC_DUMP_H

#include "mig.h"
#include "schema.h"

#include <stdio.h>

/* Writes s as a spec: stable order, so equal schemas give equal bytes.
 * MIG_EINPUT when the emitter or fp fails; fp stays open either way. */
int mig_spec_dump(const struct mig_schema *s, FILE *fp, struct mig_err *err);

#endif
