/*
 * fuzz_migfile.c: libFuzzer target for the migration file reader,
 * mig_rev_parse_sql (header lines, section markers and their dialects).
 *
 * The input is the whole file.  It is handed over as mig_read_file hands
 * a file to the graph loader: copied into a buffer with a NUL after it.
 * Besides what the sanitizers catch, the target aborts when the reader
 * breaks its contract in mig.h: it returns 0 or MIG_EINPUT, a failure
 * carries a "path:line: " message and a line number, and a success has a
 * valid id and SQL in every section.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PATH "migrations/versions/fuzz.sql"

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
	if (!rev->id || !mig_valid_revision_chars(rev->id) || err->msg)
		abort();
	for (size_t i = 0; i < rev->nsections; i++)
		if (!rev->sections[i].sql || rev->sections[i].line < 1)
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
	int rc = mig_rev_parse_sql(&rev, PATH, text, size, &line, &err);
	check_result(rc, &rev, &err, line);
	mig_rev_release(&rev);
	mig_err_release(&err);
	free(text);
	return 0;
}
