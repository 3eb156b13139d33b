/*
 * fuzz_pyrev.c: libFuzzer target for the Alembic script reader,
 * mig_rev_parse_py (module-level assignments, string literals of every
 * quoting, tuples and lists, annotations, the docstring's "Revises:").
 *
 * The input is the whole script, copied into a buffer with a NUL after it
 * as mig_read_file leaves a file.  Besides what the sanitizers catch, the
 * target aborts when the reader breaks its contract in mig.h: 0 or
 * MIG_EINPUT, a "path:line: " message and a line number on failure, a
 * valid id and valid down revisions on success.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PATH "migrations/versions/fuzz.py"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(int rc, const struct mig_rev *rev,
			 const struct mig_err *err, int line)
{
	if (rc != MIG_OK) {
		if (rc != MIG_EINPUT || err->code != rc || !err->msg || line < 1 ||
		    strncmp(err->msg, PATH ":", strlen(PATH ":")))
			abort();
		return;
	}
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
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct mig_rev rev;
	struct mig_err err = MIG_ERR_INIT;
	int line = 0;
	int rc = mig_rev_parse_py(&rev, PATH, text, size, &line, &err);
	check_result(rc, &rev, &err, line);
	mig_rev_release(&rev);
	mig_err_release(&err);
	free(text);
	return 0;
}
