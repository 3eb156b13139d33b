/*
 * fuzz_type.c: libFuzzer target for mig_type_normalize, which reads type
 * names from spec files, SQLite's declared types and PostgreSQL's catalog.
 *
 * The input, up to its first NUL, is the type name.  Besides what the
 * sanitizers catch, the target aborts when normalizing is not idempotent:
 * the canonical name of a canonical name must be itself, or a spec written
 * by mig-check-schema --dump would not read back as the same schema.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"
#include "schema.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *once = mig_type_normalize(text);
	char *twice = mig_type_normalize(once);
	if (strcmp(once, twice))
		abort();
	free(twice);
	free(once);
	free(text);
	return 0;
}
