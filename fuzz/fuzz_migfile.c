/*
 * fuzz_migfile.c: libFuzzer target for the migration file reader,
 * mig_rev_parse_sql (header lines, section markers and their dialects).
 *
 * The input is the whole file.  Besides what the sanitizers catch, the
 * target aborts when the reader breaks its contract (revision_reader.h);
 * a success must have a valid id and SQL in every section.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"
#include "migfile.h"
#include "revision_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_success(const struct mig_rev *rev, const struct mig_err *err)
{
	if (!rev->id || !mig_valid_revision_chars(rev->id) || err->msg)
		abort();
	for (size_t i = 0; i < rev->nsections; i++)
		if (!rev->sections[i].sql || rev->sections[i].line < 1)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_revision_reader(data, size, "migrations/versions/fuzz.sql",
			     mig_rev_parse_sql, check_success);
	return 0;
}
