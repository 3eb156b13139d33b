/*
 * fuzz_graph.c: libFuzzer target for a whole migrations folder: the
 * revision graph (mig_graph_load: ids, down revisions, dependencies,
 * branch labels, cycles, merges, lint), revision arguments
 * (mig_graph_resolve) and the plans and SQL built from them.
 *
 * Input: the first line is a revision argument, as given to mig-upgrade
 * or mig-downgrade; the rest is up to 32 files separated by lines "%%".
 * A file that starts with "--" is written as versions/NN.sql, any other as
 * versions/NN.py, into a temporary folder made at start-up.  When the
 * graph is usable, the argument, "head" and "heads" are resolved, and
 * upgrades from base to the heads and to the argument, and a downgrade
 * from the heads to base, are planned and written as SQL, and the
 * history is listed whole, verbose, and over "ARG:" and ":ARG".
 */
#define _POSIX_C_SOURCE 200809L
#include "graph.h"
#include "mig.h"
#include "plan.h"
#include "revlog.h"
#include "run.h"
#include "url.h"
#include "version.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[4096];

static char *file_path(size_t i, bool py)
{
	return xasprintf("%s/versions/%02zu.%s", dir, i, py ? "py" : "sql");
}

static void remove_files(void)
{
	for (size_t i = 0; i < MAX_FILES; i++)
		for (int py = 0; py < 2; py++) {
			char *p = file_path(i, py);
			unlink(p);
			free(p);
		}
}

static void remove_dir(void)
{
	remove_files();
	char *v = xasprintf("%s/versions", dir);
	rmdir(v);
	free(v);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/mig-fuzz-graph.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	char *v = xasprintf("%s/versions", dir);
	if (mkdir(v, 0700))
		abort();
	free(v);
	atexit(remove_dir);
	return 0;
}

static void write_file(size_t i, const char *text, size_t len)
{
	bool py = !(len >= 2 && text[0] == '-' && text[1] == '-');
	char *p = file_path(i, py);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, text, len) != (ssize_t)len) || close(fd))
		abort();
	free(p);
}

/* Writes the files of the input; returns the revision argument (caller
 * frees). */
static char *write_folder(const char *s, size_t size)
{
	const char *end = s + size;
	const char *nl = memchr(s, '\n', size);
	char *arg = xstrndup(s, nl ? (size_t)(nl - s) : size);
	remove_files();
	const char *p = nl ? nl + 1 : end;
	for (size_t i = 0; p < end && i < MAX_FILES; i++) {
		const char *sep = p;
		const char *stop = end;
		while ((sep = memchr(sep, '%', (size_t)(end - sep)))) {
			if ((sep == s || sep[-1] == '\n') && end - sep >= 3 &&
			    sep[1] == '%' && sep[2] == '\n') {
				stop = sep;
				break;
			}
			sep++;
		}
		write_file(i, p, (size_t)(stop - p));
		p = stop == end ? end : stop + 3;
	}
	return arg;
}

static void plan_and_write(const struct mig_graph *g, const struct mig_strv *current,
			   const size_t *target, size_t ntarget, bool upgrade)
{
	struct mig_plan plan;
	struct mig_err err = MIG_ERR_INIT;
	int rc = upgrade ? mig_plan_upgrade(g, current, target, ntarget, &plan, &err)
			 : mig_plan_downgrade(g, current, target, ntarget, &plan, &err);
	if (rc == MIG_OK) {
		struct mig_vt vt = { .table = MIG_DEFAULT_VERSION_TABLE, .no_history = true };
		struct mig_buf sql = MIG_BUF_INIT;
		mig_plan_sql(&sql, g, &vt, MIG_SQLITE, current, current->n > 0, &plan);
		mig_plan_sql(&sql, g, &vt, MIG_POSTGRESQL, current, current->n > 0, &plan);
		buf_release(&sql);
	} else if (!err.msg) {
		abort();
	}
	mig_plan_release(&plan);
	mig_err_release(&err);
}

static void resolve(const struct mig_graph *g, const char *arg, size_t **out,
		    size_t *nout)
{
	struct mig_err err = MIG_ERR_INIT;
	*out = NULL;
	*nout = 0;
	int rc = mig_graph_resolve(g, arg, out, nout, &err);
	if (rc != MIG_OK && (rc != MIG_EINPUT || !err.msg))
		abort();
	for (size_t i = 0; i < *nout; i++)
		if ((*out)[i] >= g->nrevs)
			abort();
	mig_err_release(&err);
}

static void exercise(const struct mig_graph *g, const char *arg)
{
	struct mig_strv base = MIG_STRV_INIT, heads = MIG_STRV_INIT;
	size_t *target, ntarget, *head, nhead;
	resolve(g, "head", &head, &nhead);
	free(head);
	resolve(g, "heads", &head, &nhead);
	for (size_t i = 0; i < nhead; i++)
		strv_push(&heads, g->revs[head[i]].id);
	plan_and_write(g, &base, head, nhead, true);
	plan_and_write(g, &heads, NULL, 0, false);
	resolve(g, arg, &target, &ntarget);
	plan_and_write(g, &base, target, ntarget, true);
	plan_and_write(g, &heads, target, ntarget, false);
	free(target);
	free(head);
	strv_release(&heads);
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	char *from = xasprintf("%s:", arg), *to = xasprintf(":%s", arg);
	const char *ranges[] = { NULL, from, to };
	for (size_t i = 0; i < 3; i++)
		for (int verbose = 0; verbose < 2; verbose++) {
			struct mig_err err = MIG_ERR_INIT;
			mig_revlog_print(devnull, g, ranges[i], verbose, &err);
			mig_err_release(&err);
		}
	free(from);
	free(to);
	fclose(devnull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arg = write_folder((const char *)data, size);
	struct mig_graph g;
	struct mig_err err = MIG_ERR_INIT;
	if (mig_graph_load(&g, dir, &err) != MIG_OK)
		abort();
	if (g.usable)
		exercise(&g, arg);
	mig_graph_release(&g);
	mig_err_release(&err);
	free(arg);
	return 0;
}
