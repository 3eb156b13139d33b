/*
 * revwalk.c: revision names and walks as Alembic 1.8 reads them
 * (alembic/script/revision.py: _resolve_revision_number,
 * _revision_for_ident, filter_for_lineage, _add_branches, _walk,
 * get_revisions, get_revision), for targets.c's grammar.
 *
 * Alembic looks up ids and branch labels in one map, so a label may stand
 * wherever an id may, and a unique prefix matches ids and labels alike.
 */
#define _POSIX_C_SOURCE 200809L
#include "revwalk.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- lists of revisions ------------------------------------------------------ */

void mig_revlist_push(struct mig_revlist *iv, size_t x)
{
	if (iv->n == iv->cap) {
		iv->cap = iv->cap ? iv->cap * 2 : 8;
		iv->v = xrealloc(iv->v, iv->cap * sizeof(*iv->v));
	}
	iv->v[iv->n++] = x;
}

bool mig_revlist_has(const struct mig_revlist *iv, size_t x)
{
	for (size_t i = 0; i < iv->n; i++)
		if (iv->v[i] == x)
			return true;
	return false;
}

void mig_revlist_release(struct mig_revlist *iv)
{
	free(iv->v);
	memset(iv, 0, sizeof(*iv));
}

/* ---- walking the graph ------------------------------------------------------ */

bool *mig_revwalk_new_marks(const struct mig_graph *g)
{
	return xcalloc(g->nrevs + 1, sizeof(bool));
}

/* Ancestors (with_deps: through dependencies too) or, versioned only,
 * through down_revision, of r, r included. */
void mig_revwalk_mark_ancestors(const struct mig_graph *g, size_t r, bool with_deps,
				bool *mark)
{
	if (with_deps) {
		mig_graph_mark_ancestors(g, &r, 1, mark);
		return;
	}
	struct mig_revlist todo = { 0 };
	mig_revlist_push(&todo, r);
	while (todo.n) {
		size_t x = todo.v[--todo.n];
		if (mark[x])
			continue;
		mark[x] = true;
		for (size_t i = 0; i < g->revs[x].nvdown; i++)
			mig_revlist_push(&todo, g->revs[x].vdown[i]);
	}
	mig_revlist_release(&todo);
}

static void mark_down(const struct mig_graph *g, size_t r, bool with_deps, bool *mark)
{
	if (with_deps) {
		mig_graph_mark_descendants(g, &r, 1, mark);
		return;
	}
	struct mig_revlist todo = { 0 };
	mig_revlist_push(&todo, r);
	while (todo.n) {
		size_t x = todo.v[--todo.n];
		if (mark[x])
			continue;
		mark[x] = true;
		for (size_t i = 0; i < g->revs[x].nnext; i++)
			mig_revlist_push(&todo, g->revs[x].next[i]);
	}
	mig_revlist_release(&todo);
}

/* Is r an ancestor or descendant of (or one of) the revisions in against?
 * Nothing to test against shares with everything. */
static bool shares_lineage(const struct mig_graph *g, size_t r,
			   const struct mig_revlist *against, bool with_deps)
{
	if (!against->n)
		return true;
	/* two marks: each walk stops at what its array has marked */
	bool *up = mig_revwalk_new_marks(g), *down = mig_revwalk_new_marks(g);
	mig_revwalk_mark_ancestors(g, r, with_deps, up);
	mark_down(g, r, with_deps, down);
	bool shares = false;
	for (size_t i = 0; i < against->n && !shares; i++)
		shares = against->v[i] < g->nrevs && (up[against->v[i]] || down[against->v[i]]);
	free(up);
	free(down);
	return shares;
}

/* Heads through down_revision only ("head" and LABEL@heads use them). */
static void versioned_heads(const struct mig_graph *g, struct mig_revlist *out)
{
	for (size_t i = 0; i < g->nheads; i++)
		mig_revlist_push(out, g->heads[i]);
}

/* "heads": revisions nothing follows or depends on. */
static void real_heads(const struct mig_graph *g, struct mig_revlist *out)
{
	for (size_t r = 0; r < g->nrevs; r++)
		if (!g->revs[r].nallnext)
			mig_revlist_push(out, r);
}

/* ---- names: ids, labels, prefixes ------------------------------------------ */

static size_t label_owner(const struct mig_graph *g, const char *label)
{
	for (size_t r = 0; r < g->nrevs; r++)
		if (strv_has(&g->revs[r].branch_labels, label))
			return r;
	return MIG_NONE;
}

static size_t map_lookup(const struct mig_graph *g, const char *key)
{
	size_t r = mig_graph_find(g, key);
	return r != MIG_NONE ? r : label_owner(g, key);
}

static int resolve_ident(const struct mig_graph *g, const char *id, const char *branch,
			 size_t *out, struct mig_err *err);

/* The revision a branch name stands for: a label, or an id. */
int mig_revwalk_resolve_branch(const struct mig_graph *g, const char *branch, size_t *out,
			       struct mig_err *err)
{
	*out = map_lookup(g, branch);
	if (*out != MIG_NONE)
		return MIG_OK;
	struct mig_err inner = MIG_ERR_INIT;
	int rc = resolve_ident(g, branch, NULL, out, &inner);
	mig_err_release(&inner);
	if (rc) {
		mig_err_set(err, MIG_EINPUT, "'%s' is not a branch label or a revision",
			    branch);
		return mig_err_hint(err, "mig-status lists the revisions and their labels");
	}
	return MIG_OK;
}

/* Keys of more than three characters (ids and labels) that start with
 * prefix, on the branch's line when one is given. */
static int resolve_prefix(const struct mig_graph *g, const char *prefix, size_t branch_rev,
			  size_t *out, struct mig_err *err)
{
	size_t n = strlen(prefix), matches = 0;
	struct mig_buf names = MIG_BUF_INIT;
	struct mig_revlist on = { 0 };
	if (branch_rev != MIG_NONE)
		mig_revlist_push(&on, branch_rev);
	for (size_t r = 0; r < g->nrevs; r++) {
		const struct mig_rev *rev = &g->revs[r];
		for (size_t k = 0; k <= rev->branch_labels.n; k++) {
			const char *key = k ? rev->branch_labels.v[k - 1] : rev->id;
			if (strlen(key) <= 3 || strncmp(key, prefix, n) != 0)
				continue;
			if (branch_rev != MIG_NONE && !shares_lineage(g, r, &on, false))
				continue;
			if (matches++ < 3)
				buf_printf(&names, "%s'%s'", matches > 1 ? ", " : "", key);
			*out = r;
		}
	}
	mig_revlist_release(&on);
	int rc = MIG_OK;
	if (!matches) {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' is not a revision in %s/versions "
				 "(nor a branch label)", prefix, g->dir);
		mig_err_hint(err, n < 4 ? "a prefix of an id needs the id to be at least "
			     "four characters long; mig-status lists the revisions there are"
			     : "mig-status lists the revisions there are");
	} else if (matches > 1) {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: %zu revisions or "
				 "labels start with it (%s%s)", prefix, matches,
				 buf_str(&names), matches > 3 ? ", ..." : "");
		mig_err_hint(err, "give more characters of the revision id");
	}
	buf_release(&names);
	return rc;
}

/* Alembic's _revision_for_ident: an id, a label or a unique prefix, which
 * must be on branch's line when branch is given. */
static int resolve_ident(const struct mig_graph *g, const char *id, const char *branch,
			 size_t *out, struct mig_err *err)
{
	size_t branch_rev = MIG_NONE;
	*out = MIG_NONE;
	int rc = branch ? mig_revwalk_resolve_branch(g, branch, &branch_rev, err) : MIG_OK;
	if (rc)
		return rc;
	if (!*id) {
		mig_err_set(err, MIG_EINPUT, "an empty revision names nothing");
		return mig_err_hint(err, "give a revision id, head, heads or base");
	}
	*out = map_lookup(g, id);
	if (*out == MIG_NONE && (rc = resolve_prefix(g, id, branch_rev, out, err)))
		return rc;
	if (branch) {
		struct mig_revlist on = { 0 };
		mig_revlist_push(&on, branch_rev);
		bool shares = shares_lineage(g, *out, &on, false);
		mig_revlist_release(&on);
		if (!shares) {
			mig_err_set(err, MIG_EINPUT, "revision '%s' is not on branch '%s'",
				    g->revs[*out].id, branch);
			return mig_err_hint(err, "name a revision of that branch, or "
					    "leave out '%s@'", branch);
		}
	}
	return MIG_OK;
}

/* Which revisions of cands share a line with what check names (a label or
 * an id, or LABEL@... as Alembic's filter_for_lineage reads it). */
static int number_of(const struct mig_graph *g, const char *spec, char **label,
		     struct mig_revlist *ids, char **key, struct mig_err *err);

int mig_revwalk_filter_lineage(const struct mig_graph *g, const struct mig_revlist *cands,
			       const char *check, bool with_deps, struct mig_revlist *out,
			       struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct mig_revlist against = { 0 };
	int rc = MIG_OK;
	if (cands->n) {
		rc = number_of(g, check, &label, &against, &key, err);
		size_t r = MIG_NONE;
		if (!rc && label && !(rc = resolve_ident(g, label, NULL, &r, err)))
			mig_revlist_push(&against, r);
		if (!rc && key && !(rc = resolve_ident(g, key, NULL, &r, err)))
			mig_revlist_push(&against, r);
	}
	for (size_t i = 0; !rc && i < cands->n; i++)
		if (shares_lineage(g, cands->v[i], &against, with_deps) &&
		    !mig_revlist_has(out, cands->v[i]))
			mig_revlist_push(out, cands->v[i]);
	free(label);
	free(key);
	mig_revlist_release(&against);
	return rc;
}

/* The one head on the label's line (any head with no label). */
static int current_head(const struct mig_graph *g, const char *label, struct mig_revlist *out,
			struct mig_err *err)
{
	struct mig_revlist heads = { 0 }, on = { 0 };
	versioned_heads(g, &heads);
	int rc = label ? mig_revwalk_filter_lineage(g, &heads, label, false, &on, err)
		 : MIG_OK;
	const struct mig_revlist *pick = label ? &on : &heads;
	if (!rc && pick->n > 1) {
		struct mig_buf ids = MIG_BUF_INIT;
		for (size_t i = 0; i < pick->n; i++)
			buf_printf(&ids, "%s%s", i ? ", " : "", g->revs[pick->v[i]].id);
		mig_err_set(err, MIG_EINPUT, "'%s%shead' is ambiguous: %zu heads (%s)",
			    label ? label : "", label ? "@" : "", pick->n, buf_str(&ids));
		buf_release(&ids);
		rc = mig_err_hint(err, "name one of them (or LABEL@head), use 'heads' "
				  "for all, or merge them with mig-new --merge");
	} else if (!rc && pick->n) {
		mig_revlist_push(out, pick->v[0]);
	}
	mig_revlist_release(&heads);
	mig_revlist_release(&on);
	return rc;
}

/* Alembic's _resolve_revision_number: splits LABEL@ off, turns head, heads
 * and base into revisions (*ids), and leaves anything else as *key. */
static int number_of(const struct mig_graph *g, const char *spec, char **label,
		     struct mig_revlist *ids, char **key, struct mig_err *err)
{
	const char *at = strchr(spec, '@');
	const char *id = at ? at + 1 : spec;
	*label = at ? xstrndup(spec, (size_t)(at - spec)) : NULL;
	*key = NULL;
	if (!strcmp(id, "heads")) {
		struct mig_revlist all = { 0 };
		if (*label) {
			versioned_heads(g, &all);
			int rc = mig_revwalk_filter_lineage(g, &all, *label, false, ids,
							    err);
			mig_revlist_release(&all);
			return rc;
		}
		real_heads(g, ids);
		return MIG_OK;
	}
	if (!strcmp(id, "head"))
		return current_head(g, *label, ids, err);
	if (!strcmp(id, "base"))
		return MIG_OK;
	*key = xstrdup(id);
	return MIG_OK;
}

/* ---- labels as Alembic spreads them (_add_branches) ----------------------------- */

/* The revisions that carry label: its revision and everything after it
 * through down_revision and, when that is one line, the revisions before
 * it down to the first branch or merge point. */
static bool *label_members(const struct mig_graph *g, const char *label)
{
	bool *m = mig_revwalk_new_marks(g);
	size_t owner = label_owner(g, label);
	if (owner == MIG_NONE)
		return m;
	mark_down(g, owner, false, m);
	size_t leaf = MIG_NONE, leaves = 0;
	bool line = true;
	for (size_t r = 0; r < g->nrevs; r++) {
		if (!m[r])
			continue;
		line = line && g->revs[r].nnext <= 1;
		if (!g->revs[r].nnext)
			leaf = r, leaves++;
	}
	/* Alembic walks down from the last revision it met going up; past
	 * a fork that walk stops at the fork, so only a single line reaches
	 * below the label */
	for (size_t p = line && leaves == 1 ? leaf : MIG_NONE; p != MIG_NONE;) {
		const struct mig_rev *rev = &g->revs[p];
		if (rev->nallnext > 1 || rev->nvdown > 1)
			break;
		m[p] = true;
		p = rev->nvdown ? rev->vdown[0] : MIG_NONE;
	}
	return m;
}

/* ---- Alembic's _walk ------------------------------------------------------------- */

static void walk_error(struct mig_err *err, const struct mig_graph *g, size_t at,
		       const char *spec)
{
	mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: the walk reaches a %s at '%s'",
		    spec, g->revs[at].nnext > 1 && g->revs[at].nvdown <= 1 ?
		    "branch point" : "merge point", g->revs[at].id);
	mig_err_hint(err, "name the revision to go to, or give its branch "
		     "(LABEL@+N, LABEL@-N)");
}

int mig_revwalk_steps(const struct mig_graph *g, size_t start, long steps,
		      const char *label, const char *spec, size_t *out,
		      struct mig_err *err)
{
	size_t cur = start;
	int rc = MIG_OK;
	for (long i = 0; !rc && i < labs(steps); i++) {
		struct mig_revlist cands = { 0 }, kept = { 0 };
		if (steps > 0) {
			if (cur == MIG_REV_BASE) {
				rc = mig_err_set(err, MIG_EINPUT, "'%s' walks up from below "
						 "base", spec);
				break;
			}
			if (cur == MIG_NONE)
				for (size_t b = 0; b < g->nbases; b++)
					mig_revlist_push(&cands, g->bases[b]);
			else
				for (size_t k = 0; k < g->revs[cur].nnext; k++)
					mig_revlist_push(&cands, g->revs[cur].next[k]);
			if (label) {
				rc = mig_revwalk_filter_lineage(g, &cands, label, false,
								&kept, err);
				mig_revlist_release(&cands);
				cands = kept;
			}
		} else if (cur != MIG_REV_BASE) {
			if (cur == MIG_NONE)
				versioned_heads(g, &cands);
			else
				for (size_t k = 0; k < g->revs[cur].nvdown; k++)
					mig_revlist_push(&cands, g->revs[cur].vdown[k]);
			if (!cands.n)
				mig_revlist_push(&cands, MIG_REV_BASE);
		}
		if (!rc && !cands.n)
			cur = MIG_NONE, i = labs(steps);	/* walked off the graph */
		else if (!rc && cands.n > 1)
			walk_error(err, g, cur == MIG_NONE ? cands.v[0] : cur, spec), rc = MIG_EINPUT;
		else if (!rc)
			cur = cands.v[0];
		mig_revlist_release(&cands);
	}
	*out = cur;
	return rc;
}

/* ---- Alembic's get_revisions / get_revision -------------------------------------- */

static bool negative_number(const char *s, long *n)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v >= 0)
		return false;
	*n = v;
	return true;
}

/* Appends the revisions spec names; relative forms inside (LABEL@-N) walk
 * down from the graph's heads. */
int mig_revwalk_get_revisions(const struct mig_graph *g, const char *spec,
			      struct mig_revlist *out, struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct mig_revlist ids = { 0 };
	int rc = number_of(g, spec, &label, &ids, &key, err);
	long back;
	if (!rc && key && negative_number(key, &back)) {
		struct mig_revlist heads = { 0 };
		real_heads(g, &heads);
		bool *on = label ? label_members(g, label) : NULL;
		for (size_t i = 0; !rc && i < heads.n; i++) {
			size_t r = MIG_NONE;
			if (on && !on[heads.v[i]])
				continue;
			rc = mig_revwalk_steps(g, heads.v[i], back, NULL, spec, &r, err);
			if (!rc)
				mig_revlist_push(out, r);
		}
		free(on);
		mig_revlist_release(&heads);
	} else if (!rc && key) {
		size_t r = MIG_NONE;
		rc = resolve_ident(g, key, label, &r, err);
		if (!rc)
			mig_revlist_push(out, r);
	} else {
		for (size_t i = 0; !rc && i < ids.n; i++)
			mig_revlist_push(out, ids.v[i]);
	}
	free(label);
	free(key);
	mig_revlist_release(&ids);
	return rc;
}

/* One revision (MIG_NONE for base); several is an error. */
int mig_revwalk_get_revision(const struct mig_graph *g, const char *spec, size_t *out,
			     struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct mig_revlist ids = { 0 };
	int rc = number_of(g, spec, &label, &ids, &key, err);
	*out = MIG_NONE;
	if (!rc && key) {
		rc = resolve_ident(g, key, label, out, err);
	} else if (!rc && ids.n > 1) {
		struct mig_buf b = MIG_BUF_INIT;
		for (size_t i = 0; i < ids.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", g->revs[ids.v[i]].id);
		rc = mig_err_set(err, MIG_EINPUT, "'%s' names %zu revisions (%s); it must "
				 "name one here", spec, ids.n, buf_str(&b));
		mig_err_hint(err, "name one of them, or give its branch (LABEL@head)");
		buf_release(&b);
	} else if (!rc && ids.n) {
		*out = ids.v[0];
	}
	free(label);
	free(key);
	mig_revlist_release(&ids);
	return rc;
}
