/*
 * fuzz_spec.c: libFuzzer target for the YAML spec loader, mig_spec_load,
 * and its writer, mig_spec_dump.
 *
 * mig_spec_load takes a path, so the input is written to a memory file
 * (memfd) and loaded through /proc/self/fd/N; a second memory file holds
 * the written spec for the round trip.  Each input is loaded as
 * mig-check-schema loads it, and when that succeeds, also with --strict.
 * A spec that loads is then sorted and written, and what was written must
 * load again and be written as the same bytes (mig.h: "a spec that
 * mig_spec_load reads back as the same model"); the target aborts if not,
 * and when a failure has no message.
 */
#define _GNU_SOURCE
#include "mig.h"
#include "schema.h"
#include "spec.h"
#include "spec_dump.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int input_fd = -1, dump_fd = -1;
static char input_path[64], dump_path[64];

static int memory_file(const char *name, char *path, size_t n)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	input_fd = memory_file("fuzz-spec", input_path, sizeof(input_path));
	dump_fd = memory_file("fuzz-spec-dump", dump_path, sizeof(dump_path));
	return 0;
}

static void put_file(int fd, const void *data, size_t size)
{
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
}

/* Loads path; aborts on a failure without a message. */
static int load(struct mig_schema *s, const char *path, bool strict)
{
	struct mig_err err = MIG_ERR_INIT;
	memset(s, 0, sizeof(*s));
	int rc = mig_spec_load(s, path, strict, &err);
	if (rc != MIG_OK && (rc != MIG_EINPUT || err.code != rc || !err.msg ||
			     strncmp(err.msg, path, strlen(path)) || s->tables))
		abort();
	mig_err_release(&err);
	return rc;
}

/* Sorts s and writes it as a spec; returns the bytes (caller frees). */
static char *dump(struct mig_schema *s, size_t *len)
{
	char *out = NULL;
	FILE *fp = open_memstream(&out, len);
	if (!fp)
		abort();
	struct mig_err err = MIG_ERR_INIT;
	mig_schema_sort(s);
	if (mig_spec_dump(s, fp, &err) != MIG_OK || fclose(fp))
		abort();
	mig_err_release(&err);
	return out;
}

static void round_trip(struct mig_schema *s)
{
	size_t len1, len2;
	char *first = dump(s, &len1);
	put_file(dump_fd, first, len1);
	struct mig_schema again;
	if (load(&again, dump_path, false) != MIG_OK)
		abort();
	char *second = dump(&again, &len2);
	if (len1 != len2 || memcmp(first, second, len1))
		abort();
	mig_schema_release(&again);
	free(second);
	free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_schema s;
	put_file(input_fd, data, size);
	if (load(&s, input_path, false) != MIG_OK)
		return 0;
	round_trip(&s);
	mig_schema_release(&s);
	if (load(&s, input_path, true) == MIG_OK)
		mig_schema_release(&s);
	return 0;
}
