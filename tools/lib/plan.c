/*
 * plan.c: which revisions an upgrade or downgrade runs, in which order, and
 * how each one changes the rows of the version table.
 *
 * Everything here follows Alembic: _collect_upgrade_revisions,
 * _collect_downgrade_revisions and _topological_sort in
 * alembic/script/revision.py, and HeadMaintainer.update_to_step with the
 * RevisionStep rules in alembic/runtime/migration.py, so that a database
 * moved by mig holds the same alembic_version rows as one moved by Alembic.
 */
#define _POSIX_C_SOURCE 200809L
#include "plan.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"

#include <stdlib.h>
#include <string.h>

void mig_plan_release(struct mig_plan *p)
{
	free(p->steps);
	p->steps = NULL;
	p->nsteps = 0;
}

void mig_vt_change_release(struct mig_vt_change *c)
{
	strv_release(&c->del);
	strv_release(&c->ins);
	free(c->upd_from);
	free(c->upd_to);
	c->upd_from = c->upd_to = NULL;
}

static bool *new_marks(const struct mig_graph *g)
{
	return xcalloc(g->nrevs + 1, sizeof(bool));
}

/* Indexes of current head ids; ids not in the graph are left out. */
static size_t *current_indexes(const struct mig_graph *g,
			       const struct mig_strv *current, size_t *n)
{
	size_t *v = xmalloc((current->n + 1) * sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < current->n; i++) {
		size_t r = mig_graph_find(g, current->v[i]);
		if (r != MIG_NONE)
			v[(*n)++] = r;
	}
	return v;
}

/* ---- Alembic's _topological_sort ------------------------------------------ */

/*
 * Alembic keeps, per current head, the set of its ancestors, and walks down
 * the first head that no other head's set holds.  Those sets cost heads x
 * revisions bytes: 100,000 bases ran out of memory.  The same answers come
 * from one count per revision (how many current heads it is an ancestor of,
 * itself included) and, when a candidate is blocked, one walk up from it to
 * find the first head that holds it: memory linear in the graph.
 */
struct topo {
	const struct mig_graph *g;
	size_t *heads;		/* current_heads, in Alembic's order */
	size_t n, cap;
	unsigned *holders;	/* per revision: current heads it is an ancestor of */
	bool *is_head;
	unsigned *seen;		/* walk marks: seen[r] == gen */
	unsigned gen;
	size_t *stack;
	size_t stack_cap;
};

static void topo_stack_push(struct topo *t, size_t *sp, size_t rev)
{
	if (*sp == t->stack_cap) {
		t->stack_cap = t->stack_cap ? t->stack_cap * 2 : 64;
		t->stack = xrealloc(t->stack, t->stack_cap * sizeof(*t->stack));
	}
	t->stack[(*sp)++] = rev;
}

/* Adds delta to the holder count of rev and each of its ancestors (the
 * edges mig_graph_mark_ancestors follows). */
static void topo_count_ancestors(struct topo *t, size_t rev, int delta)
{
	size_t sp = 0;
	t->gen++;
	topo_stack_push(t, &sp, rev);
	while (sp) {
		size_t r = t->stack[--sp];
		if (t->seen[r] == t->gen)
			continue;
		t->seen[r] = t->gen;
		t->holders[r] = (unsigned)((int)t->holders[r] + delta);
		const struct mig_rev *x = &t->g->revs[r];
		for (size_t i = 0; i < x->nnormdown; i++)
			if (t->seen[x->normdown[i]] != t->gen)
				topo_stack_push(t, &sp, x->normdown[i]);
	}
}

/* The first current head other than skip that has rev among its
 * ancestors, found by walking up from rev; t->n when none does. */
static size_t topo_first_holder(struct topo *t, size_t rev, size_t skip)
{
	size_t sp = 0;
	t->gen++;
	topo_stack_push(t, &sp, rev);
	while (sp) {
		size_t r = t->stack[--sp];
		if (t->seen[r] == t->gen)
			continue;
		t->seen[r] = t->gen;
		const struct mig_rev *x = &t->g->revs[r];
		for (size_t i = 0; i < x->nallnext; i++)
			if (t->seen[x->allnext[i]] != t->gen)
				topo_stack_push(t, &sp, x->allnext[i]);
	}
	for (size_t j = 0; j < t->n; j++)
		if (j != skip && t->seen[t->heads[j]] == t->gen)
			return j;
	return t->n;
}

static void topo_push(struct topo *t, size_t rev)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->heads = xrealloc(t->heads, t->cap * sizeof(*t->heads));
	}
	t->heads[t->n++] = rev;
	t->is_head[rev] = true;
	topo_count_ancestors(t, rev, 1);
}

static void topo_replace(struct topo *t, size_t i, size_t rev)
{
	topo_count_ancestors(t, t->heads[i], -1);
	t->is_head[t->heads[i]] = false;
	t->heads[i] = rev;
	t->is_head[rev] = true;
	topo_count_ancestors(t, rev, 1);
}

static void topo_remove(struct topo *t, size_t i)
{
	topo_count_ancestors(t, t->heads[i], -1);
	t->is_head[t->heads[i]] = false;
	memmove(t->heads + i, t->heads + i + 1, (t->n - i - 1) * sizeof(*t->heads));
	t->n--;
}

/* Emits the revisions marked in todo[] from the given heads downwards. */
static size_t *topological_sort(const struct mig_graph *g, bool *todo,
				const size_t *heads, size_t nheads, size_t *nout)
{
	struct topo t = { .g = g };
	t.holders = xcalloc(g->nrevs + 1, sizeof(*t.holders));
	t.seen = xcalloc(g->nrevs + 1, sizeof(*t.seen));
	t.is_head = new_marks(g);
	bool *wanted = new_marks(g);
	for (size_t i = 0; i < nheads; i++)
		wanted[heads[i]] = true;
	for (size_t r = 0; r < g->nrevs; r++)	/* file order, as Alembic sorts */
		if (wanted[r] && todo[r])
			topo_push(&t, r);
	free(wanted);
	size_t *out = xmalloc((g->nrevs + 1) * sizeof(*out));
	*nout = 0;
	size_t ci = 0;
	while (t.n) {
		size_t cand = t.heads[ci];
		if (t.holders[cand] > 1) {	/* another head descends from it */
			size_t j = topo_first_holder(&t, cand, ci);
			if (j < t.n) {
				ci = j;
				continue;
			}
		}
		if (todo[cand]) {
			out[(*nout)++] = cand;
			todo[cand] = false;
		}
		const struct mig_rev *rev = &g->revs[cand];
		size_t *add = xmalloc((rev->nnormdown + 1) * sizeof(*add)), nadd = 0;
		for (size_t i = 0; i < rev->nnormdown; i++)
			if (todo[rev->normdown[i]] && !t.is_head[rev->normdown[i]])
				add[nadd++] = rev->normdown[i];
		if (!nadd) {
			topo_remove(&t, ci);
			ci = ci ? ci - 1 : 0;
			free(add);
			continue;
		}
		if (rev->nnormdown == rev->nvdown && rev->nvdown == 1) {
			/* down a plain line: the head's ancestors lose only cand */
			t.holders[cand]--;
			t.is_head[cand] = false;
			t.heads[ci] = add[0];
			t.is_head[add[0]] = true;
		} else {
			topo_replace(&t, ci, add[0]);
			for (size_t i = 1; i < nadd; i++)
				topo_push(&t, add[i]);
		}
		free(add);
	}
	free(t.heads);
	free(t.holders);
	free(t.seen);
	free(t.is_head);
	free(t.stack);
	return out;
}

/* ---- upgrade and downgrade plans ------------------------------------------- */

static void plan_from(struct mig_plan *plan, const size_t *order, size_t n,
		      bool upgrade)
{
	plan->steps = xmalloc((n + 1) * sizeof(*plan->steps));
	plan->nsteps = n;
	for (size_t i = 0; i < n; i++) {
		plan->steps[i].rev = upgrade ? order[n - 1 - i] : order[i];
		plan->steps[i].upgrade = upgrade;
	}
}

int mig_plan_upgrade(const struct mig_graph *g, const struct mig_strv *current,
		     const size_t *target, size_t ntarget,
		     struct mig_plan *plan, struct mig_err *err)
{
	(void)err;
	memset(plan, 0, sizeof(*plan));
	size_t ncur;
	size_t *cur = current_indexes(g, current, &ncur);
	bool *needs = new_marks(g), *have = new_marks(g);
	mig_graph_mark_ancestors(g, target, ntarget, needs);
	mig_graph_mark_ancestors(g, cur, ncur, have);
	for (size_t r = 0; r < g->nrevs; r++)
		needs[r] = needs[r] && !have[r];
	size_t n;
	size_t *order = topological_sort(g, needs, target, ntarget, &n);
	plan_from(plan, order, n, true);
	free(order);
	free(needs);
	free(have);
	free(cur);
	return MIG_OK;
}

int mig_plan_downgrade(const struct mig_graph *g, const struct mig_strv *current,
		       const size_t *target, size_t ntarget,
		       struct mig_plan *plan, struct mig_err *err)
{
	memset(plan, 0, sizeof(*plan));
	size_t ncur;
	size_t *cur = current_indexes(g, current, &ncur);
	bool *drop = new_marks(g), *active = new_marks(g);
	size_t *roots = xmalloc((g->nrevs + 1) * sizeof(*roots)), nroots = 0;
	if (!ntarget) {
		for (size_t i = 0; i < g->nbases; i++)
			roots[nroots++] = g->bases[i];
	} else {
		for (size_t t = 0; t < ntarget; t++)
			for (size_t i = 0; i < g->revs[target[t]].nnext; i++)
				roots[nroots++] = g->revs[target[t]].next[i];
	}
	mig_graph_mark_descendants(g, roots, nroots, drop);
	mig_graph_mark_ancestors(g, cur, ncur, active);
	size_t count = 0;
	for (size_t r = 0; r < g->nrevs; r++)
		count += drop[r] = drop[r] && active[r];
	int rc = MIG_OK;
	if (!count && ntarget && !active[target[0]]) {
		rc = mig_err_set(err, MIG_EINPUT, "nothing to downgrade: '%s' is not "
				 "below the database's revision", g->revs[target[0]].id);
		mig_err_hint(err, "mig-status shows where the database stands");
	} else {
		size_t n;
		size_t *order = topological_sort(g, drop, cur, ncur, &n);
		plan_from(plan, order, n, false);
		free(order);
	}
	free(roots);
	free(drop);
	free(active);
	free(cur);
	return rc;
}

int mig_plan_downgrade_steps(const struct mig_graph *g,
			     const struct mig_strv *current, long n,
			     struct mig_plan *plan, struct mig_err *err)
{
	memset(plan, 0, sizeof(*plan));
	size_t ncur;
	size_t *cur = current_indexes(g, current, &ncur);
	bool *active = new_marks(g);
	mig_graph_mark_ancestors(g, cur, ncur, active);
	size_t count;
	size_t *order = topological_sort(g, active, cur, ncur, &count);
	int rc = MIG_OK;
	if ((size_t)n > count) {
		rc = mig_err_set(err, MIG_EINPUT, "cannot go %ld revisions down: only "
				 "%zu are applied", n, count);
		mig_err_hint(err, "use --to base to revert everything");
	} else {
		plan_from(plan, order, (size_t)n, false);
	}
	free(order);
	free(active);
	free(cur);
	return rc;
}

/* ---- the version rows of one step (HeadMaintainer.update_to_step) ------- */

static bool in_heads(const struct mig_strv *heads, const struct mig_graph *g,
		     size_t r)
{
	return strv_has(heads, g->revs[r].id);
}

/* Marks the ancestors of every head except the one named 'except'. */
static bool *ancestors_of_others(const struct mig_graph *g,
				 const struct mig_strv *heads, const bool *except)
{
	bool *mark = new_marks(g);
	for (size_t i = 0; i < heads->n; i++) {
		size_t r = mig_graph_find(g, heads->v[i]);
		if (r != MIG_NONE && !except[r])
			mig_graph_mark_ancestors(g, &r, 1, mark);
	}
	return mark;
}

static void upgrade_change(const struct mig_graph *g, const struct mig_strv *heads,
			   const struct mig_rev *rev, struct mig_vt_change *c)
{
	size_t present = 0, last = MIG_NONE;
	for (size_t i = 0; i < rev->nnormdown; i++)
		if (in_heads(heads, g, rev->normdown[i]))
			present++, last = rev->normdown[i];
	if (!rev->nnormdown || !present) {		/* should_create_branch */
		strv_push(&c->ins, rev->id);
		return;
	}
	c->upd_to = xstrdup(rev->id);
	if (rev->nnormdown == 1 || present == 1) {	/* a plain update */
		c->upd_from = xstrdup(g->revs[last].id);
		return;
	}
	/* should_merge_branches: our down revisions that are not ancestors of
	 * the other heads collapse into one row */
	bool *ours = new_marks(g);
	for (size_t i = 0; i < rev->nnormdown; i++)
		ours[rev->normdown[i]] = true;
	bool *anc = ancestors_of_others(g, heads, ours);
	struct mig_strv from = MIG_STRV_INIT;
	for (size_t i = 0; i < rev->nnormdown; i++) {
		size_t d = rev->normdown[i];
		if (in_heads(heads, g, d) && !anc[d])
			strv_push(&from, g->revs[d].id);
	}
	for (size_t i = 0; i + 1 < from.n; i++)
		strv_push(&c->del, from.v[i]);
	c->upd_from = xstrdup(from.n ? from.v[from.n - 1] : g->revs[last].id);
	strv_release(&from);
	free(anc);
	free(ours);
}

static void downgrade_change(const struct mig_graph *g,
			     const struct mig_strv *heads, size_t self,
			     struct mig_vt_change *c)
{
	const struct mig_rev *rev = &g->revs[self];
	bool *me = new_marks(g);
	me[self] = true;
	bool *anc = ancestors_of_others(g, heads, me);
	struct mig_strv to = MIG_STRV_INIT;	/* _unmerge_to_revisions */
	for (size_t i = 0; i < rev->nnormdown; i++)
		if (!anc[rev->normdown[i]])
			strv_push(&to, g->revs[rev->normdown[i]].id);
	if (!to.n) {				/* should_delete_branch */
		strv_push(&c->del, rev->id);
	} else {
		c->upd_from = xstrdup(rev->id);
		c->upd_to = xstrdup(to.v[to.n - 1]);
		for (size_t i = 0; i + 1 < to.n; i++)	/* unmerge */
			strv_push(&c->ins, to.v[i]);
	}
	strv_release(&to);
	free(anc);
	free(me);
}

void mig_step_vt_change(const struct mig_graph *g, const struct mig_strv *heads,
			const struct mig_step *step, struct mig_vt_change *out)
{
	memset(out, 0, sizeof(*out));
	if (step->upgrade)
		upgrade_change(g, heads, &g->revs[step->rev], out);
	else
		downgrade_change(g, heads, step->rev, out);
}

static void strv_remove(struct mig_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) != 0)
			continue;
		free(sv->v[i]);
		memmove(sv->v + i, sv->v + i + 1, (sv->n - i) * sizeof(*sv->v));
		sv->n--;
		return;
	}
}

void mig_vt_change_apply(const struct mig_vt_change *c, struct mig_strv *heads)
{
	for (size_t i = 0; i < c->del.n; i++)
		strv_remove(heads, c->del.v[i]);
	if (c->upd_from) {
		strv_remove(heads, c->upd_from);
		strv_push(heads, c->upd_to);
	}
	for (size_t i = 0; i < c->ins.n; i++)
		strv_push(heads, c->ins.v[i]);
}

/* ---- the revisions of a history range ------------------------------------- */

int mig_plan_history(const struct mig_graph *g, const size_t *lower, size_t nlower,
		     const size_t *upper, size_t nupper, size_t **out, size_t *nout,
		     struct mig_err *err)
{
	*out = NULL;
	*nout = 0;
	bool *needs = new_marks(g), *have = new_marks(g);
	mig_graph_mark_ancestors(g, upper, nupper, needs);
	for (size_t i = 0; i < nlower; i++)
		if (!needs[lower[i]]) {	/* Alembic's RangeNotAncestorError */
			free(needs);
			free(have);
			mig_err_set(err, MIG_EINPUT, "revision '%s' is not an ancestor of "
				    "the end of the range", g->revs[lower[i]].id);
			return mig_err_hint(err, "a range goes from an older revision to "
					    "a newer one: START:END");
		}
	mig_graph_mark_ancestors(g, lower, nlower, have);
	for (size_t r = 0; r < g->nrevs; r++)
		needs[r] = needs[r] && !have[r];
	for (size_t i = 0; i < nlower; i++)	/* the range includes its start */
		needs[lower[i]] = true;
	if (nlower) {	/* only what descends from the start, by down_revision */
		bool *below = new_marks(g);
		size_t *stack = xmalloc((g->nrevs + nlower + 1) * sizeof(*stack)), sp = 0;
		for (size_t i = 0; i < nlower; i++)
			stack[sp++] = lower[i];
		while (sp) {
			size_t r = stack[--sp];
			if (below[r])
				continue;
			below[r] = true;
			for (size_t i = 0; i < g->revs[r].nnext; i++)
				stack[sp++] = g->revs[r].next[i];
		}
		for (size_t r = 0; r < g->nrevs; r++)
			needs[r] = needs[r] && below[r];
		free(stack);
		free(below);
	}
	*out = topological_sort(g, needs, upper, nupper, nout);
	free(needs);
	free(have);
	return MIG_OK;
}
