/*
 * targets.c: what a revision target means, as Alembic 1.8 reads it
 * (alembic/script/revision.py: _parse_upgrade_target,
 * _parse_downgrade_target, _walk, _collect_upgrade_revisions,
 * _collect_downgrade_revisions; alembic/script/base.py: _stamp_revs), so
 * that every target a team typed for Alembic moves a database the same
 * way under mig.  Where Alembic refuses, the error says Alembic's reason;
 * where Alembic guesses (downgrade -1 from several rows), mig refuses.
 *
 * Alembic looks up ids and branch labels in one map, so a label may stand
 * wherever an id may, and a unique prefix matches ids and labels alike.
 */
#define _POSIX_C_SOURCE 200809L
#include "targets.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Alembic's walk can end on the string "base" (below a base revision),
 * which is not the same as None (beyond the graph). */
#define REV_BASE (MIG_NONE - 1)

struct ivec {
	size_t *v;
	size_t n, cap;
};

static void iv_push(struct ivec *iv, size_t x)
{
	if (iv->n == iv->cap) {
		iv->cap = iv->cap ? iv->cap * 2 : 8;
		iv->v = xrealloc(iv->v, iv->cap * sizeof(*iv->v));
	}
	iv->v[iv->n++] = x;
}

static bool iv_has(const struct ivec *iv, size_t x)
{
	for (size_t i = 0; i < iv->n; i++)
		if (iv->v[i] == x)
			return true;
	return false;
}

static void iv_release(struct ivec *iv)
{
	free(iv->v);
	memset(iv, 0, sizeof(*iv));
}

void mig_target_release(struct mig_target *t)
{
	free(t->revs);
	t->revs = NULL;
	t->nrevs = 0;
	t->resolved = false;
}

/* ---- walking the graph ------------------------------------------------------ */

static bool *new_marks(const struct mig_graph *g)
{
	return xcalloc(g->nrevs + 1, sizeof(bool));
}

/* Ancestors (with_deps: through dependencies too) or, versioned only,
 * through down_revision, of r, r included. */
static void mark_up(const struct mig_graph *g, size_t r, bool with_deps, bool *mark)
{
	if (with_deps) {
		mig_graph_mark_ancestors(g, &r, 1, mark);
		return;
	}
	struct ivec todo = { 0 };
	iv_push(&todo, r);
	while (todo.n) {
		size_t x = todo.v[--todo.n];
		if (mark[x])
			continue;
		mark[x] = true;
		for (size_t i = 0; i < g->revs[x].nvdown; i++)
			iv_push(&todo, g->revs[x].vdown[i]);
	}
	iv_release(&todo);
}

static void mark_down(const struct mig_graph *g, size_t r, bool with_deps, bool *mark)
{
	if (with_deps) {
		mig_graph_mark_descendants(g, &r, 1, mark);
		return;
	}
	struct ivec todo = { 0 };
	iv_push(&todo, r);
	while (todo.n) {
		size_t x = todo.v[--todo.n];
		if (mark[x])
			continue;
		mark[x] = true;
		for (size_t i = 0; i < g->revs[x].nnext; i++)
			iv_push(&todo, g->revs[x].next[i]);
	}
	iv_release(&todo);
}

/* Is r an ancestor or descendant of (or one of) the revisions in against?
 * Nothing to test against shares with everything. */
static bool shares_lineage(const struct mig_graph *g, size_t r,
			   const struct ivec *against, bool with_deps)
{
	if (!against->n)
		return true;
	/* two marks: each walk stops at what its array has marked */
	bool *up = new_marks(g), *down = new_marks(g);
	mark_up(g, r, with_deps, up);
	mark_down(g, r, with_deps, down);
	bool shares = false;
	for (size_t i = 0; i < against->n && !shares; i++)
		shares = against->v[i] < g->nrevs && (up[against->v[i]] || down[against->v[i]]);
	free(up);
	free(down);
	return shares;
}

/* Heads through down_revision only ("head" and LABEL@heads use them). */
static void versioned_heads(const struct mig_graph *g, struct ivec *out)
{
	for (size_t i = 0; i < g->nheads; i++)
		iv_push(out, g->heads[i]);
}

/* "heads": revisions nothing follows or depends on. */
static void real_heads(const struct mig_graph *g, struct ivec *out)
{
	for (size_t r = 0; r < g->nrevs; r++)
		if (!g->revs[r].nallnext)
			iv_push(out, r);
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
static int resolve_branch(const struct mig_graph *g, const char *branch, size_t *out,
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
	struct ivec on = { 0 };
	if (branch_rev != MIG_NONE)
		iv_push(&on, branch_rev);
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
	iv_release(&on);
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
	int rc = branch ? resolve_branch(g, branch, &branch_rev, err) : MIG_OK;
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
		struct ivec on = { 0 };
		iv_push(&on, branch_rev);
		bool shares = shares_lineage(g, *out, &on, false);
		iv_release(&on);
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
		     struct ivec *ids, char **key, struct mig_err *err);

static int filter_lineage(const struct mig_graph *g, const struct ivec *cands,
			  const char *check, bool with_deps, struct ivec *out,
			  struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct ivec against = { 0 };
	int rc = MIG_OK;
	if (cands->n) {
		rc = number_of(g, check, &label, &against, &key, err);
		size_t r = MIG_NONE;
		if (!rc && label && !(rc = resolve_ident(g, label, NULL, &r, err)))
			iv_push(&against, r);
		if (!rc && key && !(rc = resolve_ident(g, key, NULL, &r, err)))
			iv_push(&against, r);
	}
	for (size_t i = 0; !rc && i < cands->n; i++)
		if (shares_lineage(g, cands->v[i], &against, with_deps) &&
		    !iv_has(out, cands->v[i]))
			iv_push(out, cands->v[i]);
	free(label);
	free(key);
	iv_release(&against);
	return rc;
}

/* The one head on the label's line (any head with no label). */
static int current_head(const struct mig_graph *g, const char *label, struct ivec *out,
			struct mig_err *err)
{
	struct ivec heads = { 0 }, on = { 0 };
	versioned_heads(g, &heads);
	int rc = label ? filter_lineage(g, &heads, label, false, &on, err) : MIG_OK;
	const struct ivec *pick = label ? &on : &heads;
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
		iv_push(out, pick->v[0]);
	}
	iv_release(&heads);
	iv_release(&on);
	return rc;
}

/* Alembic's _resolve_revision_number: splits LABEL@ off, turns head, heads
 * and base into revisions (*ids), and leaves anything else as *key. */
static int number_of(const struct mig_graph *g, const char *spec, char **label,
		     struct ivec *ids, char **key, struct mig_err *err)
{
	const char *at = strchr(spec, '@');
	const char *id = at ? at + 1 : spec;
	*label = at ? xstrndup(spec, (size_t)(at - spec)) : NULL;
	*key = NULL;
	if (!strcmp(id, "heads")) {
		struct ivec all = { 0 };
		if (*label) {
			versioned_heads(g, &all);
			int rc = filter_lineage(g, &all, *label, false, ids, err);
			iv_release(&all);
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
	bool *m = new_marks(g);
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

static int walk(const struct mig_graph *g, size_t start, long steps, const char *label,
		const char *spec, size_t *out, struct mig_err *err)
{
	size_t cur = start;
	int rc = MIG_OK;
	for (long i = 0; !rc && i < labs(steps); i++) {
		struct ivec cands = { 0 }, kept = { 0 };
		if (steps > 0) {
			if (cur == REV_BASE) {
				rc = mig_err_set(err, MIG_EINPUT, "'%s' walks up from below "
						 "base", spec);
				break;
			}
			if (cur == MIG_NONE)
				for (size_t b = 0; b < g->nbases; b++)
					iv_push(&cands, g->bases[b]);
			else
				for (size_t k = 0; k < g->revs[cur].nnext; k++)
					iv_push(&cands, g->revs[cur].next[k]);
			if (label) {
				rc = filter_lineage(g, &cands, label, false, &kept, err);
				iv_release(&cands);
				cands = kept;
			}
		} else if (cur != REV_BASE) {
			if (cur == MIG_NONE)
				versioned_heads(g, &cands);
			else
				for (size_t k = 0; k < g->revs[cur].nvdown; k++)
					iv_push(&cands, g->revs[cur].vdown[k]);
			if (!cands.n)
				iv_push(&cands, REV_BASE);
		}
		if (!rc && !cands.n)
			cur = MIG_NONE, i = labs(steps);	/* walked off the graph */
		else if (!rc && cands.n > 1)
			walk_error(err, g, cur == MIG_NONE ? cands.v[0] : cur, spec), rc = MIG_EINPUT;
		else if (!rc)
			cur = cands.v[0];
		iv_release(&cands);
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
static int get_revisions(const struct mig_graph *g, const char *spec, struct ivec *out,
			 struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct ivec ids = { 0 };
	int rc = number_of(g, spec, &label, &ids, &key, err);
	long back;
	if (!rc && key && negative_number(key, &back)) {
		struct ivec heads = { 0 };
		real_heads(g, &heads);
		bool *on = label ? label_members(g, label) : NULL;
		for (size_t i = 0; !rc && i < heads.n; i++) {
			size_t r = MIG_NONE;
			if (on && !on[heads.v[i]])
				continue;
			rc = walk(g, heads.v[i], back, NULL, spec, &r, err);
			if (!rc)
				iv_push(out, r);
		}
		free(on);
		iv_release(&heads);
	} else if (!rc && key) {
		size_t r = MIG_NONE;
		rc = resolve_ident(g, key, label, &r, err);
		if (!rc)
			iv_push(out, r);
	} else {
		for (size_t i = 0; !rc && i < ids.n; i++)
			iv_push(out, ids.v[i]);
	}
	free(label);
	free(key);
	iv_release(&ids);
	return rc;
}

/* One revision (MIG_NONE for base); several is an error. */
static int get_revision(const struct mig_graph *g, const char *spec, size_t *out,
			struct mig_err *err)
{
	char *label = NULL, *key = NULL;
	struct ivec ids = { 0 };
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
	iv_release(&ids);
	return rc;
}

/* ---- the relative forms ------------------------------------------------------------ */

struct relative {
	char *label;	/* LABEL@, or NULL */
	char *symbol;	/* REV, head, base..., or NULL (relative to the rows) */
	long n;		/* +N or -N */
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* How much of s matches [SYMBOL](+|-)N; 0 when it does not. */
static size_t relative_tail(const char *s, size_t *sym_len)
{
	const char *p = s;
	while (word_char(*p))
		p++;
	*sym_len = (size_t)(p - s);
	if ((*p != '+' && *p != '-') || !isdigit((unsigned char)p[1]))
		return 0;
	p += 2;
	while (isdigit((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

/* [LABEL@][SYMBOL](+|-)N, read as Alembic's _relative_destination (the
 * shortest LABEL that lets the rest match); unlike Alembic, nothing may
 * follow N. */
static int parse_relative(const char *spec, struct relative *rel, bool *is_rel,
			  struct mig_err *err)
{
	memset(rel, 0, sizeof(*rel));
	*is_rel = false;
	size_t label_len = 0, sym_len = 0, len = 0;
	for (const char *at = strchr(spec, '@'); at && !len; at = strchr(at + 1, '@'))
		if (at > spec && (len = relative_tail(at + 1, &sym_len)))
			label_len = (size_t)(at - spec);
	if (!len && !(len = relative_tail(spec, &sym_len)))
		return MIG_OK;
	const char *tail = spec + (label_len ? label_len + 1 : 0);
	if (tail[len]) {
		mig_err_set(err, MIG_EINPUT, "'%s' is not a target: '%s' follows a "
			    "relative step", spec, tail + len);
		return mig_err_hint(err, "relative targets are +N, -N, REV+N, REV-N, "
				    "LABEL@+N, LABEL@-N, LABEL@head-N, base+N");
	}
	errno = 0;
	long n = strtol(tail + sym_len, NULL, 10);
	if (errno || n > 1000000 || n < -1000000) {
		mig_err_set(err, MIG_EINPUT, "'%s': too many steps", spec);
		return mig_err_hint(err, "at most 1000000");
	}
	rel->label = label_len ? xstrndup(spec, label_len) : NULL;
	rel->symbol = sym_len ? xstrndup(tail, sym_len) : NULL;
	rel->n = n;
	*is_rel = true;
	return MIG_OK;
}

static void relative_release(struct relative *rel)
{
	free(rel->label);
	free(rel->symbol);
}

static int zero_steps(struct mig_err *err, const char *spec)
{
	mig_err_set(err, MIG_EINPUT, "'%s' moves by no revision", spec);
	return mig_err_hint(err, "give a number of steps from 1 to 1000000");
}

static int too_far(struct mig_err *err, const char *spec, bool up)
{
	mig_err_set(err, MIG_EINPUT, "'%s' goes beyond %s", spec, up ? "the head" : "base");
	return mig_err_hint(err, up ? "mig-status shows how many revisions are pending"
			    : "mig-status shows how many revisions are applied");
}

static int rows_to_revs(const struct mig_graph *g, const struct mig_strv *rows,
			struct ivec *out)
{
	for (size_t i = 0; i < rows->n; i++) {
		size_t r = mig_graph_find(g, rows->v[i]);
		if (r != MIG_NONE && !iv_has(out, r))
			iv_push(out, r);
	}
	return MIG_OK;
}

/* Where walking up from the rows starts on the label's branch: the rows on
 * it, else the tips of what is applied on it, else base. */
static int upgrade_start(const struct mig_graph *g, const struct ivec *cur,
			 const char *label, struct ivec *start, struct mig_err *err)
{
	int rc = filter_lineage(g, cur, label, false, start, err);
	if (rc || start->n)
		return rc;
	bool *active = new_marks(g);
	struct ivec all = { 0 }, on = { 0 };
	mig_graph_mark_ancestors(g, cur->v, cur->n, active);
	for (size_t r = 0; r < g->nrevs; r++)
		if (active[r])
			iv_push(&all, r);
	rc = filter_lineage(g, &all, label, false, &on, err);
	bool *below = new_marks(g);
	for (size_t i = 0; i < on.n; i++)
		for (size_t k = 0; k < g->revs[on.v[i]].nnormdown; k++)
			below[g->revs[on.v[i]].normdown[k]] = true;
	for (size_t i = 0; i < on.n; i++)
		if (!below[on.v[i]])
			iv_push(start, on.v[i]);
	free(below);
	free(active);
	iv_release(&all);
	iv_release(&on);
	return rc;
}

static int parse_upgrade(const struct mig_graph *g, const struct mig_strv *rows,
			 const char *spec, struct ivec *targets, struct mig_err *err)
{
	struct relative rel;
	bool is_rel;
	int rc = parse_relative(spec, &rel, &is_rel, err);
	if (rc || !is_rel)
		return rc ? rc : get_revisions(g, spec, targets, err);
	size_t to = MIG_NONE;
	if (!rel.n && !rel.symbol) {
		rc = zero_steps(err, spec);
	} else if (rel.n > 0 && !rel.symbol) {
		struct ivec cur = { 0 }, start = { 0 };
		rows_to_revs(g, rows, &cur);
		if (rel.label)
			rc = upgrade_start(g, &cur, rel.label, &start, err);
		else
			start = cur, cur = (struct ivec){ 0 };
		if (!rc && start.n > 1) {
			rc = mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: the database "
					 "is at %zu revisions", spec, start.n);
			mig_err_hint(err, "give the branch to go up: LABEL@+N or REV+N");
		}
		if (!rc)
			rc = walk(g, start.n ? start.v[0] : MIG_NONE, rel.n, rel.label, spec,
				  &to, err);
		if (!rc && to == MIG_NONE)
			rc = too_far(err, spec, true);
		iv_release(&cur);
		iv_release(&start);
	} else if (rel.n > 0 || rel.symbol) {
		size_t from = MIG_NONE;
		char *at = rel.label && rel.n <= 0 ? xasprintf("%s@%s", rel.label, rel.symbol)
			   : NULL;
		rc = get_revision(g, at ? at : rel.symbol, &from, err);
		free(at);
		if (!rc)
			rc = walk(g, from, rel.n, rel.n > 0 ? rel.label : NULL, spec, &to, err);
		if (!rc && (to == MIG_NONE || to == REV_BASE))
			rc = too_far(err, spec, rel.n > 0);
	} else {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' goes down, and this is an upgrade",
				 spec);
		mig_err_hint(err, "mig-downgrade --to %s", spec);
	}
	if (!rc)
		iv_push(targets, to);
	relative_release(&rel);
	return rc;
}

/* Downgrade -N from several rows: Alembic picks whichever row it read
 * first and warns; mig asks which was meant. */
static int refuse_guess(const struct mig_graph *g, const struct ivec *cur,
			const struct relative *rel, const char *spec, struct mig_err *err)
{
	struct mig_buf rows = MIG_BUF_INIT, hint = MIG_BUF_INIT;
	for (size_t i = 0; i < cur->n; i++) {
		const struct mig_rev *rev = &g->revs[cur->v[i]];
		buf_printf(&rows, "%s%s", i ? ", " : "", rev->id);
		if (rev->branch_labels.n)
			buf_printf(&hint, "%s%s@%ld", hint.len ? ", " : "",
				   rev->branch_labels.v[0], rel->n);
		buf_printf(&hint, "%s%s%ld", hint.len ? ", " : "", rev->id, rel->n);
	}
	mig_err_set(err, MIG_ESAFETY, "'%s' is ambiguous: the database is at %zu heads "
		    "(%s), and which of them to go down from is a guess", spec, cur->n,
		    buf_str(&rows));
	mig_err_hint(err, "say which: %s", buf_str(&hint));
	buf_release(&rows);
	buf_release(&hint);
	return MIG_ESAFETY;
}

/* Alembic's _parse_downgrade_target: the revision to keep (MIG_NONE for
 * base) and the branch the downgrade is limited to. */
static int parse_downgrade(const struct mig_graph *g, const struct mig_strv *rows,
			   const char *spec, size_t *to, char **branch, struct mig_err *err)
{
	struct relative rel;
	bool is_rel;
	*branch = NULL;
	*to = MIG_NONE;
	int rc = parse_relative(spec, &rel, &is_rel, err);
	if (rc)
		return rc;
	if (!is_rel) {
		const char *at = strrchr(spec, '@');
		*branch = at && at > spec ? xstrndup(spec, (size_t)(at - spec)) : NULL;
		return get_revision(g, at ? at + 1 : spec, to, err);
	}
	if (!rel.n && !rel.symbol) {
		rc = zero_steps(err, spec);
	} else if (rel.n >= 0 && !rel.symbol) {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' goes up, and this is a downgrade",
				 spec);
		mig_err_hint(err, "mig-upgrade --to %s", spec);
	} else if (rel.n >= 0) {
		size_t from;
		rc = get_revision(g, rel.symbol, &from, err);
		if (!rc)
			rc = walk(g, from, rel.n, rel.label, spec, to, err);
		if (!rc && *to == MIG_NONE)
			rc = too_far(err, spec, true);
		*branch = rel.label ? xstrdup(rel.label) : NULL;
	} else {
		char *symbol = rel.symbol ? xstrdup(rel.symbol) : NULL;
		char *label = rel.label ? xstrdup(rel.label) : NULL;
		struct ivec cur = { 0 }, on = { 0 };
		rows_to_revs(g, rows, &cur);
		if (!symbol && label) {
			rc = filter_lineage(g, &cur, label, false, &on, err);
			if (!rc && !on.n) {
				/* rows on other branches that depend on this one */
				bool *active = new_marks(g);
				struct ivec tops = { 0 };
				mig_graph_mark_ancestors(g, cur.v, cur.n, active);
				for (size_t r = 0; r < g->nrevs; r++) {
					bool top = active[r];
					for (size_t k = 0; top && k < g->revs[r].nnext; k++)
						top = !active[g->revs[r].next[k]];
					if (top)
						iv_push(&tops, r);
				}
				rc = filter_lineage(g, &tops, label, false, &on, err);
				iv_release(&tops);
				free(active);
			}
			if (!rc && on.n != 1) {
				rc = mig_err_set(err, MIG_EINPUT, "'%s': the database is at %s "
						 "revision%s of branch '%s'", spec,
						 on.n ? "several" : "no", on.n ? "s" : "", label);
				mig_err_hint(err, "name the revision to go to");
			}
			if (!rc)
				symbol = xstrdup(g->revs[on.v[0]].id);
		} else if (!symbol) {
			if (!cur.n)
				rc = too_far(err, spec, false);
			else if (cur.n > 1)
				rc = refuse_guess(g, &cur, &rel, spec, err);
			else
				symbol = xstrdup(g->revs[cur.v[0]].id),
				label = xstrdup(symbol);
		}
		size_t from = MIG_NONE;
		if (!rc) {
			char *at = label ? xasprintf("%s@%s", label, symbol) : xstrdup(symbol);
			rc = get_revision(g, at, &from, err);
			free(at);
		}
		if (!rc)
			rc = walk(g, from, rel.n, NULL, spec, to, err);
		if (!rc && *to == MIG_NONE)
			rc = too_far(err, spec, false);
		if (!rc && *to == REV_BASE)
			*to = MIG_NONE;
		*branch = label;
		label = NULL;
		free(label);
		free(symbol);
		iv_release(&cur);
		iv_release(&on);
	}
	relative_release(&rel);
	return rc;
}

/* ---- planning ------------------------------------------------------------------------ */

/* Alembic refuses a set of revisions of which one is an ancestor of another. */
static int refuse_overlap(const struct mig_graph *g, const struct ivec *revs,
			  const char *what, struct mig_err *err)
{
	for (size_t i = 0; i < revs->n; i++) {
		bool *up = new_marks(g);
		mig_graph_mark_ancestors(g, &revs->v[i], 1, up);
		for (size_t j = 0; j < revs->n; j++) {
			if (j == i || revs->v[j] == revs->v[i] || !up[revs->v[j]])
				continue;
			mig_err_set(err, MIG_EINPUT, "%s overlap: '%s' is an ancestor of "
				    "'%s'", what, g->revs[revs->v[j]].id,
				    g->revs[revs->v[i]].id);
			free(up);
			return mig_err_hint(err, "name only the later one");
		}
		free(up);
	}
	return MIG_OK;
}

int mig_target_check(const struct mig_target *t, const struct mig_graph *g,
		     struct mig_err *err)
{
	if (!g->nrevs) {	/* a wrong -m must not look like success */
		mig_err_set(err, MIG_EINPUT, "%s/versions holds no migrations", g->dir);
		return mig_err_hint(err, "-m names the folder that holds versions/ "
				    "(default: migrations)");
	}
	struct relative rel;
	bool is_rel;
	int rc = parse_relative(t->spec, &rel, &is_rel, err);
	relative_release(&rel);
	return rc;
}

static int resolve(struct mig_target *t, const struct mig_graph *g,
		   const struct mig_strv *rows, struct mig_err *err)
{
	int rc = mig_target_check(t, g, err);
	if (rc)
		return rc;
	if (t->upgrade) {
		struct ivec targets = { 0 };
		rc = parse_upgrade(g, rows, t->spec, &targets, err);
		if (!rc)
			rc = refuse_overlap(g, &targets, "the target revisions", err);
		t->revs = targets.v;
		t->nrevs = targets.n;
	} else {
		char *branch = NULL;
		rc = parse_downgrade(g, rows, t->spec, &t->down_to, &branch, err);
		t->branch = MIG_NONE;
		if (!rc && branch)
			rc = resolve_branch(g, branch, &t->branch, err);
		free(branch);
	}
	t->resolved = !rc;
	return rc;
}

static int plan_downgrade(const struct mig_target *t, const struct mig_graph *g,
			  const struct ivec *cur, struct mig_plan *plan,
			  struct mig_err *err)
{
	struct ivec roots = { 0 };
	if (t->down_to == MIG_NONE)
		for (size_t b = 0; b < g->nbases; b++)
			iv_push(&roots, g->bases[b]);
	else
		for (size_t k = 0; k < g->revs[t->down_to].nnext; k++)
			iv_push(&roots, g->revs[t->down_to].next[k]);
	int rc = MIG_OK;
	if (t->branch != MIG_NONE && roots.n > 1) {
		bool *line = new_marks(g);
		mark_up(g, t->branch, false, line);
		size_t kept = 0;
		for (size_t i = 0; i < roots.n; i++)
			if (line[roots.v[i]])
				roots.v[kept++] = roots.v[i];
		roots.n = kept;
		free(line);
		if (!kept) {
			rc = mig_err_set(err, MIG_EINPUT, "'%s' is not a downgrade target "
					 "from the database's revisions", t->spec);
			mig_err_hint(err, "mig-status shows where the database stands");
		}
	}
	bool *drop = new_marks(g), *active = new_marks(g);
	if (!rc) {
		mig_graph_mark_descendants(g, roots.v, roots.n, drop);
		mig_graph_mark_ancestors(g, cur->v, cur->n, active);
	}
	size_t count = 0;
	for (size_t r = 0; r < g->nrevs; r++)
		count += drop[r] = drop[r] && active[r];
	if (!rc && !count && t->down_to != MIG_NONE && !iv_has(cur, t->down_to)) {
		rc = mig_err_set(err, MIG_EINPUT, "nothing to downgrade: '%s' is not below "
				 "the database's revisions", g->revs[t->down_to].id);
		mig_err_hint(err, "mig-status shows where the database stands");
	}
	if (!rc)
		mig_plan_sorted(g, drop, cur->v, cur->n, false, plan);
	free(drop);
	free(active);
	iv_release(&roots);
	return rc;
}

int mig_target_plan(struct mig_target *t, const struct mig_graph *g,
		    const struct mig_strv *current, struct mig_plan *plan,
		    struct mig_err *err)
{
	memset(plan, 0, sizeof(*plan));
	int rc = t->resolved ? MIG_OK : resolve(t, g, current, err);
	struct ivec cur = { 0 };
	rows_to_revs(g, current, &cur);
	if (!rc && t->upgrade)
		rc = refuse_overlap(g, &cur, "the database's revisions", err);
	if (!rc && t->upgrade)
		rc = mig_plan_upgrade(g, current, t->revs, t->nrevs, plan, err);
	else if (!rc)
		rc = plan_downgrade(t, g, &cur, plan, err);
	iv_release(&cur);
	return rc;
}

/* ---- stamping (_stamp_revs and HeadMaintainer) -------------------------------------- */

static int stamp_fail(struct mig_err *err, const char *what, const char *id)
{
	mig_err_set(err, MIG_EINPUT, "these revisions cannot be stamped together: %s '%s'",
		    what, id);
	return mig_err_hint(err, "stamp them one at a time, or start afresh with --purge");
}

static int heads_remove(struct ivec *heads, size_t r, const struct mig_graph *g,
			struct mig_err *err)
{
	for (size_t i = 0; i < heads->n; i++)
		if (heads->v[i] == r) {
			memmove(heads->v + i, heads->v + i + 1,
				(heads->n - i - 1) * sizeof(*heads->v));
			heads->n--;
			return MIG_OK;
		}
	return stamp_fail(err, "a row moved twice:", g->revs[r].id);
}

static int heads_add(struct ivec *heads, size_t r, const struct mig_graph *g,
		     struct mig_err *err)
{
	if (iv_has(heads, r))
		return stamp_fail(err, "a row written twice:", g->revs[r].id);
	iv_push(heads, r);
	return MIG_OK;
}

int mig_target_stamp_rows(const struct mig_graph *g, const struct mig_strv *current,
			  char *const *specs, size_t nspecs, bool purge,
			  struct mig_strv *rows, struct mig_err *err)
{
	struct ivec heads = { 0 }, filtered = { 0 }, dests = { 0 };
	if (!purge)
		rows_to_revs(g, current, &heads);
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < nspecs; i++)
		rc = filter_lineage(g, &heads, specs[i], true, &filtered, err);
	for (size_t i = 0; !rc && i < nspecs; i++)
		rc = get_revisions(g, specs[i], &dests, err);
	if (!rc && !dests.n)
		iv_push(&dests, MIG_NONE);
	for (size_t d = 0; !rc && d < dests.n; d++) {
		size_t dest = dests.v[d];
		if (dest == REV_BASE) {
			rc = mig_err_set(err, MIG_EINPUT, "'%s' goes beyond base",
					 specs[nspecs - 1]);
			break;
		}
		if (dest == MIG_NONE) {		/* base: remove the rows it names */
			for (size_t i = 0; !rc && i < filtered.n; i++)
				rc = heads_remove(&heads, filtered.v[i], g, err);
			continue;
		}
		if (iv_has(&filtered, dest))
			continue;
		bool *up = new_marks(g), *down = new_marks(g);
		mig_graph_mark_ancestors(g, &dest, 1, up);
		mig_graph_mark_descendants(g, &dest, 1, down);
		bool below = false, above = false;	/* rows below dest, above it */
		for (size_t i = 0; i < filtered.n; i++) {
			above = above || down[filtered.v[i]];
			below = below || up[filtered.v[i]];
		}
		free(up);
		free(down);
		bool upgrade = !above;
		bool moved = false;	/* a row this step starts from is gone */
		for (size_t i = 0; i < filtered.n; i++)
			moved = moved || !iv_has(&heads, filtered.v[i]);
		if ((!above && !below) || (upgrade && moved && !iv_has(&heads, dest))) {
			rc = heads_add(&heads, dest, g, err);	/* a branch of its own */
			continue;
		}
		/* the rows collapse into one row, dest */
		if (iv_has(&heads, dest))
			rc = stamp_fail(err, "a row written twice:", g->revs[dest].id);
		for (size_t i = 0; !rc && i < filtered.n; i++)
			rc = heads_remove(&heads, filtered.v[i], g, err);
		if (!rc)
			iv_push(&heads, dest);
	}
	if (!rc && (rc = refuse_overlap(g, &heads, "the rows after the stamp would", err)))
		mig_err_hint(err, "--purge replaces every row: mig-stamp --purge %s",
			     specs[nspecs - 1]);
	for (size_t i = 0; !rc && i < heads.n; i++)
		strv_push(rows, g->revs[heads.v[i]].id);
	iv_release(&heads);
	iv_release(&filtered);
	iv_release(&dests);
	return rc;
}
