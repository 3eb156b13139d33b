/*
 * import_render.c: writes one imported revision as a mig migration file:
 * its header, its review lines, and its sections per dialect (contract in
 * import_render.h).
 */
#include "import_render.h"
#include "import.h"
#include "mig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool run_same(const struct mig_strv *a, size_t i, const struct mig_strv *b, size_t j)
{
	return !strcmp(a->v[i], b->v[j]);
}

static void put_section(struct mig_buf *out, bool upgrade, const char *dialect,
			const char *const *stmts, size_t n, bool one_each)
{
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || one_each)
			buf_printf(out, "\n-- +%s%s%s\n", upgrade ? "upgrade" : "downgrade",
				   dialect ? " " : "", dialect ? dialect : "");
		/* After a last line that may end in a comment, the ';' goes on
		 * a line of its own, or it would be part of the comment. */
		const char *last = strrchr(stmts[i], '\n');
		bool comment = strstr(last ? last : stmts[i], "--") != NULL;
		buf_printf(out, "%s%s;\n", stmts[i], comment ? "\n" : "");
	}
}

/*
 * The sections of one direction: a longest common subsequence of the two
 * dialects' statements goes to common sections, the rest to dialect
 * sections, so that each dialect runs its statements in recorded order.
 */
static void put_direction(struct mig_buf *out, const struct mig_import_rev *r,
			  unsigned dialects, bool upgrade, bool one_each)
{
	const struct mig_strv *a = &r->runs[0][upgrade].statements;
	const struct mig_strv *b = &r->runs[1][upgrade].statements;
	if (dialects != (MIG_IMPORT_SQLITE | MIG_IMPORT_POSTGRESQL)) {
		const struct mig_strv *only = dialects == MIG_IMPORT_SQLITE ? a : b;
		put_section(out, upgrade, dialects == MIG_IMPORT_SQLITE ? "sqlite" : "postgresql",
			    (const char *const *)only->v, only->n, one_each);
		return;
	}
	size_t n = a->n, m = b->n;
	size_t *len = xcalloc((n + 1) * (m + 1), sizeof(*len));
#define L(i, j) len[(i) * (m + 1) + (j)]
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			L(i, j) = run_same(a, i, b, j) ? L(i + 1, j + 1) + 1
				  : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	size_t i = 0, j = 0;
	while (i < n || j < m) {
		size_t i0 = i, j0 = j;
		/* Up to the next statement of the common subsequence. */
		while ((i < n || j < m) && !(i < n && j < m && run_same(a, i, b, j) &&
					       L(i, j) == L(i + 1, j + 1) + 1)) {
			if (j >= m || (i < n && L(i + 1, j) >= L(i, j + 1)))
				i++;
			else
				j++;
		}
		put_section(out, upgrade, "sqlite", (const char *const *)a->v + i0, i - i0, one_each);
		put_section(out, upgrade, "postgresql", (const char *const *)b->v + j0, j - j0,
			    one_each);
		size_t c = 0;
		while (i + c < n && j + c < m && run_same(a, i + c, b, j + c) &&
		       L(i + c, j + c) == L(i + c + 1, j + c + 1) + 1)
			c++;
		put_section(out, upgrade, NULL, (const char *const *)a->v + i, c, one_each);
		i += c;
		j += c;
	}
#undef L
	free(len);
}

bool mig_import_rev_read(const struct mig_import_rev *r)
{
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < 2; u++)
			if (r->runs[d][u].reads.n)
				return true;
	return false;
}

bool mig_import_rev_failed(const struct mig_import_rev *r)
{
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < 2; u++)
			if (r->runs[d][u].error)
				return true;
	return false;
}

bool mig_import_rev_autocommit(const struct mig_import_rev *r)
{
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < 2; u++)
			if (r->runs[d][u].autocommit)
				return true;
	return false;
}

char *mig_import_rev_unfinished(const struct mig_import_rev *r)
{
	struct mig_buf why = MIG_BUF_INIT;
	for (int d = 0; d < 2; d++) {
		for (int up = 1; up >= 0; up--) {
			const struct mig_import_run *run = &r->runs[d][up];
			if (run->error)
				buf_printf(&why, "%s%s raised on %s: %s", why.len ? "; " : "",
					   up ? "upgrade()" : "downgrade()",
					   d ? "postgresql" : "sqlite", run->error);
			if (run->unrecordable)
				buf_printf(&why, "%s%s on %s: %s", why.len ? "; " : "",
					   up ? "upgrade()" : "downgrade()",
					   d ? "postgresql" : "sqlite", run->unrecordable);
		}
	}
	if (!why.len) {
		buf_release(&why);
		return NULL;
	}
	return buf_detach(&why);
}

static void put_list(struct mig_buf *out, const char *key, const struct mig_strv *sv,
		     bool always)
{
	if (!sv->n && !always)
		return;
	char *s = sv->n ? strv_join(sv, ", ") : xstrdup("none");
	buf_printf(out, "-- %s: %s\n", key, s);
	free(s);
}

char *mig_import_render(const struct mig_import_rev *r, unsigned dialects)
{
	struct mig_buf out = MIG_BUF_INIT;
	buf_printf(&out, "-- revision: %s\n", r->id);
	put_list(&out, "down_revision", &r->down, true);
	put_list(&out, "branch_labels", &r->branch_labels, false);
	put_list(&out, "depends_on", &r->depends_on, false);
	if (r->message)
		buf_printf(&out, "-- message: %s\n", r->message);
	if (r->create_date)
		buf_printf(&out, "-- create_date: %s\n", r->create_date);
	bool autocommit = mig_import_rev_autocommit(r);
	if (autocommit)
		buf_puts(&out, "-- transactional: false\n");
	char *unfinished = mig_import_rev_unfinished(r);
	if (unfinished)
		buf_printf(&out, "-- unfinished: %s\n", unfinished);
	free(unfinished);
	const char *slash = strrchr(r->source, '/');
	buf_printf(&out, "--\n-- Imported by mig-import %s from %s: the statements Alembic "
		   "sent on a fresh database.\n", MIG_VERSION, slash ? slash + 1 : r->source);
	if (mig_import_rev_read(r))
		buf_puts(&out, "-- REVIEW: this revision read the database (a catalog query or "
			 "a SELECT whose result it used);\n-- REVIEW: on another database it may "
			 "have run other statements than these.\n");
	if (autocommit)
		buf_puts(&out, "-- REVIEW: this revision runs outside a transaction "
			 "(autocommit_block).\n");
	for (int d = 0; d < 2; d++) {
		for (int up = 1; up >= 0; up--) {
			if (!r->runs[d][up].error)
				continue;
			buf_printf(&out, "-- REVIEW: its %s raised on %s, so its %s %s section "
				   "holds only what it sent before\n-- REVIEW: the error; "
				   "write the rest by hand, delete the '-- unfinished:' line "
				   "and run\n-- REVIEW: 'mig-verify --update-sum'.\n",
				   up ? "upgrade()" : "downgrade()",
				   d ? "postgresql" : "sqlite", up ? "upgrade" : "downgrade",
				   d ? "postgresql" : "sqlite");
			if (up)
				buf_printf(&out, "-- REVIEW: the revisions after it were recorded "
					   "on %s without its changes.\n", d ? "postgresql" : "sqlite");
		}
		for (int up = 1; up >= 0; up--)
			if (r->runs[d][up].unrecordable)
				buf_printf(&out, "-- REVIEW: its %s %s section: %s; check that "
					   "line (inside a string\n-- REVIEW: the space changes the "
					   "data), delete the '-- unfinished:' line and run\n"
					   "-- REVIEW: 'mig-verify --update-sum'.\n",
					   up ? "upgrade" : "downgrade", d ? "postgresql" : "sqlite",
					   r->runs[d][up].unrecordable);
	}
	for (int up = 1; up >= 0; up--) {
		size_t before = out.len;
		put_direction(&out, r, dialects, up, autocommit);
		/* A revision that sends nothing (a merge) still has its marker. */
		if (out.len == before)
			buf_printf(&out, "\n-- +%s\n", up ? "upgrade" : "downgrade");
	}
	return buf_detach(&out);
}
