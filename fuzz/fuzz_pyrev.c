/*
 * fuzz_pyrev.c: libFuzzer target for the Alembic script reader,
 * mig_rev_parse_py (module-level assignments, string literals of every
 * quoting, tuples and lists, annotations, the docstring's "Revises:").
 *
 * The input is the whole script.  Besides what the sanitizers catch, the
 * target aborts when the reader breaks its contract (revision_reader.h);
 * a success must have a valid id and valid down revisions and labels.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"
#include "migfile.h"
#include "pyrev.h"
#include "revision_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_success(const struct mig_rev *rev, const struct mig_err *err)
{
	(void)err;
	if (!rev->id || !mig_valid_revision_chars(rev->id))
		abort();
	for (size_t i = 0; i < rev->down.n; i++)
		if (!mig_valid_revision_chars(rev->down.v[i]))
			abort();
	for (size_t i = 0; i < rev->depends_on.n; i++)
		if (!mig_valid_label(rev->depends_on.v[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_revision_reader(data, size, "migrations/versions/fuzz.py",
			     mig_rev_parse_py, check_success);
	return 0;
}
