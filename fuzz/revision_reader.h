/*
 * revision_reader.h: the frame that fuzz_migfile and fuzz_pyrev share.
 * Both readers keep one contract (migfile.h, pyrev.h): given a whole file
 * with a NUL after it (as mig_read_file leaves one), they return 0 or
 * MIG_EINPUT, and a failure carries a "path:line: " message and a line
 * number.  What a success must hold differs, so each target passes its own
 * check.
 */
#ifndef MIG_FUZZ_REVISION_READER_H
#define MIG_FUZZ_REVISION_READER_H

#include "mig.h"
#include "migfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*revision_reader)(struct mig_rev *rev, const char *path,
			       const char *text, size_t len, int *err_line,
			       struct mig_err *err);

/* Runs read on the input and aborts when it breaks the contract above. */
static inline void fuzz_revision_reader(const uint8_t *data, size_t size,
					const char *path, revision_reader read,
					void (*check_success)(const struct mig_rev *rev,
							      const struct mig_err *err))
{
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct mig_rev rev;
	struct mig_err err = MIG_ERR_INIT;
	int line = 0;
	int rc = read(&rev, path, text, size, &line, &err);
	if (rc == MIG_OK) {
		check_success(&rev, &err);
	} else if (rc != MIG_EINPUT || err.code != rc || !err.msg || line < 1 ||
		   strncmp(err.msg, path, strlen(path)) || err.msg[strlen(path)] != ':') {
		abort();
	}
	mig_rev_release(&rev);
	mig_err_release(&err);
	free(text);
}

#endif
