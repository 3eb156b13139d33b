/*
 * revlog.c: "alembic history" (revlog.h).  The formats are those of
 * Script.cmd_format and Script.log_entry in alembic/script/base.py.
 */
#define _POSIX_C_SOURCE 200809L
#include "revlog.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "revwalk.h"
#include "targets.h"

#include <stdlib.h>
#include <string.h>

/*
 * One end of the range, read as Alembic's get_revisions reads it (LABEL@base,
 * LABEL@REV, LABEL@-N, -N); base, and a walk down past a base, name no
 * revision.  The upper end (from: the lower end's revisions) with a "+" is
 * an upgrade target from the lower end, as Alembic's iterate_revisions
 * reads it (base:LABEL@+2).
 */
static int resolve_side(const struct mig_graph *g, const char *text, size_t len,
			const char *dflt, const struct mig_strv *from, size_t **idx,
			size_t *n, struct mig_err *err)
{
	char *arg = len ? xstrndup(text, len) : xstrdup(dflt);
	struct mig_revlist found = { 0 }, revs = { 0 };
	int rc = from && strchr(arg, '+')
		 ? mig_target_upgrade_revisions(g, from, arg, &found, err)
		 : mig_revwalk_get_revisions(g, arg, &found, err);
	for (size_t i = 0; !rc && i < found.n; i++)
		if (found.v[i] != MIG_NONE && found.v[i] != MIG_REV_BASE &&
		    !mig_revlist_has(&revs, found.v[i]))
			mig_revlist_push(&revs, found.v[i]);
	mig_revlist_release(&found);
	free(arg);
	*idx = revs.v;
	*n = revs.n;
	return rc;
}

/*
 * The branch labels Alembic shows for each revision: RevisionMap's
 * _add_branches gives a labelled revision's labels to everything that
 * descends from it by down_revision, and, when it lies on a plain line
 * down to a head, to its ancestors up to the nearest branch point or merge
 * point.  The labelled revisions are taken in file order, each passing on
 * what it holds by then, as Alembic passes them on in the order it loaded
 * them.  labels[r] is revision r's set.
 */
static struct mig_strv *effective_labels(const struct mig_graph *g)
{
	struct mig_strv *labels = xcalloc(g->nrevs + 1, sizeof(*labels));
	for (size_t r = 0; r < g->nrevs; r++)
		for (size_t i = 0; i < g->revs[r].branch_labels.n; i++)
			strv_push(&labels[r], g->revs[r].branch_labels.v[i]);
	bool *seen = xcalloc(g->nrevs + 1, sizeof(*seen));
	size_t *stack = xmalloc((g->nrevs + 1) * sizeof(*stack));
	for (size_t r = 0; r < g->nrevs; r++) {
		if (!g->revs[r].branch_labels.n)
			continue;
		const struct mig_strv *give = &labels[r];
		memset(seen, 0, g->nrevs * sizeof(*seen));
		size_t sp = 0;
		stack[sp++] = r;
		while (sp) {
			size_t d = stack[--sp];
			if (seen[d])
				continue;
			seen[d] = true;
			for (size_t i = 0; d != r && i < give->n; i++)
				if (!strv_has(&labels[d], give->v[i]))
					strv_push(&labels[d], give->v[i]);
			for (size_t i = 0; i < g->revs[d].nnext; i++)
				stack[sp++] = g->revs[d].next[i];
		}
		/* the line below r: to its head, if nothing branches or merges */
		size_t last = r;
		while (g->revs[last].nnext == 1 && g->revs[g->revs[last].next[0]].down.n == 1)
			last = g->revs[last].next[0];
		if (g->revs[last].nnext)
			continue;	/* the walk up stops below r */
		for (size_t p = last;;) {
			const struct mig_rev *pr = &g->revs[p];
			if (pr->nallnext > 1 || pr->down.n > 1)
				break;
			for (size_t i = 0; p != r && i < give->n; i++)
				if (!strv_has(&labels[p], give->v[i]))
					strv_push(&labels[p], give->v[i]);
			if (!pr->nvdown)
				break;
			p = pr->vdown[0];
		}
	}
	free(stack);
	free(seen);
	return labels;
}

/* "a, b" of the revision's down_revision, or "<base>". */
static void put_down(struct mig_buf *b, const struct mig_rev *rev)
{
	if (!rev->down.n) {
		buf_puts(b, "<base>");
		return;
	}
	char *s = strv_join(&rev->down, ", ");
	buf_puts(b, s);
	free(s);
}

static void put_sorted(struct mig_buf *b, const struct mig_strv *sv)
{
	struct mig_strv copy = MIG_STRV_INIT;
	for (size_t i = 0; i < sv->n; i++)
		strv_push(&copy, sv->v[i]);
	strv_sort(&copy);
	char *s = strv_join(&copy, ", ");
	buf_puts(b, s);
	free(s);
	strv_release(&copy);
}

static void line_entry(struct mig_buf *b, const struct mig_rev *rev,
		       const struct mig_strv *labels)
{
	put_down(b, rev);
	if (rev->depends_on.n) {
		char *deps = strv_join(&rev->depends_on, ", ");
		buf_printf(b, " (%s)", deps);
		free(deps);
	}
	buf_printf(b, " -> %s", rev->id);
	if (labels->n) {
		buf_puts(b, " (");
		put_sorted(b, labels);
		buf_putc(b, ')');
	}
	if (!rev->nallnext)
		buf_puts(b, " (head)");
	else if (!rev->nnext)
		buf_puts(b, " (effective head)");
	if (rev->nnext > 1)
		buf_puts(b, " (branchpoint)");
	if (rev->nvdown > 1 || rev->down.n > 1)
		buf_puts(b, " (mergepoint)");
	buf_printf(b, ", %s\n", rev->message ? rev->message : "");
}

static void verbose_entry(struct mig_buf *b, const struct mig_graph *g,
			  const struct mig_rev *rev, const struct mig_strv *labels)
{
	bool merge = rev->down.n > 1;
	buf_printf(b, "Rev: %s%s%s%s\n", rev->id, rev->nnext ? "" : " (head)",
		   rev->nnext > 1 ? " (branchpoint)" : "", merge ? " (mergepoint)" : "");
	buf_puts(b, merge ? "Merges: " : "Parent: ");
	put_down(b, rev);
	buf_putc(b, '\n');
	if (rev->depends_on.n) {
		char *deps = strv_join(&rev->depends_on, ", ");
		buf_printf(b, "Also depends on: %s\n", deps);
		free(deps);
	}
	if (rev->nnext > 1) {
		struct mig_strv next = MIG_STRV_INIT;
		for (size_t i = 0; i < rev->nnext; i++)
			strv_push(&next, g->revs[rev->next[i]].id);
		buf_puts(b, "Branches into: ");
		put_sorted(b, &next);
		buf_putc(b, '\n');
		strv_release(&next);
	}
	if (labels->n) {
		buf_puts(b, "Branch names: ");
		put_sorted(b, labels);
		buf_putc(b, '\n');
	}
	buf_printf(b, "Path: %s\n\n", rev->path);
	const char *doc = rev->docstring ? rev->docstring : rev->message;
	for (const char *l = doc; l && *l;) {
		size_t n = strcspn(l, "\n");
		buf_printf(b, "%s    %.*s", l == doc ? "" : "\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	buf_puts(b, "\n\n");
}

/*
 * A start of LABEL@... keeps only the ends on that branch, as Alembic's
 * _collect_upgrade_revisions does: LABEL may be a revision id, which stands
 * for its one branch label (labels: effective_labels()).
 */
static int on_lower_branch(const struct mig_graph *g, const char *text, size_t len,
			   const struct mig_strv *labels, size_t *upper, size_t *nupper,
			   struct mig_err *err)
{
	char *branch = xstrndup(text, (size_t)((const char *)memchr(text, '@', len) - text));
	size_t r = MIG_NONE;
	const char *label = branch;
	int rc = mig_revwalk_get_revision(g, branch, &r, err);	/* it must name something */
	if (!rc && r < g->nrevs && strcmp(g->revs[r].id, branch) != 0)
		r = MIG_NONE;	/* a label, or a prefix (which names no branch) */
	if (!rc && r != MIG_NONE && labels[r].n != 1)
		rc = mig_err_set(err, MIG_EINPUT, "revision '%s' is on %zu branches; "
				 "give a branch label before '@'", branch, labels[r].n);
	else if (!rc && r != MIG_NONE)
		label = labels[r].v[0];
	size_t keep = 0;
	for (size_t i = 0; !rc && i < *nupper; i++)
		if (strv_has(&labels[upper[i]], label))
			upper[keep++] = upper[i];
	if (!rc)
		*nupper = keep;
	free(branch);
	return rc;
}

int mig_revlog_print(FILE *fp, const struct mig_graph *g, const char *range,
		     bool verbose, struct mig_err *err)
{
	const char *colon = range ? strchr(range, ':') : NULL;
	if (range && !colon) {
		mig_err_set(err, MIG_EINPUT, "--rev-range '%s': a range is START:END, "
			    "START: or :END", range);
		return mig_err_hint(err, "e.g. --rev-range base:heads, ae10: or :ae10");
	}
	size_t *lower = NULL, nlower = 0, *upper = NULL, nupper = 0;
	int rc = MIG_OK;
	if (range)
		rc = resolve_side(g, range, (size_t)(colon - range), "base", NULL, &lower,
				  &nlower, err);
	struct mig_strv from = MIG_STRV_INIT;
	for (size_t i = 0; !rc && i < nlower; i++)
		strv_push(&from, g->revs[lower[i]].id);
	if (!rc)
		rc = resolve_side(g, colon ? colon + 1 : "", colon ? strlen(colon + 1) : 0,
				  "heads", &from, &upper, &nupper, err);
	strv_release(&from);
	struct mig_strv *labels = rc ? NULL : effective_labels(g);
	if (!rc && colon && memchr(range, '@', (size_t)(colon - range)))
		rc = on_lower_branch(g, range, (size_t)(colon - range), labels, upper, &nupper,
				     err);
	size_t *order = NULL, n = 0;
	if (!rc)
		rc = mig_plan_history(g, lower, nlower, upper, nupper, &order, &n, err);
	struct mig_buf b = MIG_BUF_INIT;
	for (size_t i = 0; !rc && i < n; i++) {
		if (verbose)
			verbose_entry(&b, g, &g->revs[order[i]], &labels[order[i]]);
		else
			line_entry(&b, &g->revs[order[i]], &labels[order[i]]);
	}
	for (size_t r = 0; labels && r < g->nrevs; r++)
		strv_release(&labels[r]);
	free(labels);
	fputs(buf_str(&b), fp);
	buf_release(&b);
	free(order);
	free(lower);
	free(upper);
	return rc;
}
