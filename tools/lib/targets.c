/*
 * targets.c: what a revision target means, as Alembic 1.8 reads it
 * (alembic/script/revision.py: _parse_upgrade_target,
 * _parse_downgrade_target, _collect_upgrade_revisions,
 * _collect_downgrade_revisions; alembic/script/base.py: _stamp_revs), so
 * that every target a team typed for Alembic moves a database the same
 * way under mig.  Where Alembic refuses, the error says Alembic's reason;
 * where Alembic guesses (downgrade -1 from several rows), mig refuses.
 *
 * The relative forms, the plans and the stamp are here; the names and the
 * walks they are made of (ids, labels, prefixes, head, heads, _walk) are in
 * revwalk.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "targets.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "plan.h"
#include "revwalk.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mig_target_release(struct mig_target *t)
{
	free(t->revs);
	t->revs = NULL;
	t->nrevs = 0;
	t->resolved = false;
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
			struct mig_revlist *out)
{
	for (size_t i = 0; i < rows->n; i++) {
		size_t r = mig_graph_find(g, rows->v[i]);
		if (r != MIG_NONE && !mig_revlist_has(out, r))
			mig_revlist_push(out, r);
	}
	return MIG_OK;
}

/* Where walking up from the rows starts on the label's branch: the rows on
 * it, else the tips of what is applied on it, else base. */
static int upgrade_start(const struct mig_graph *g, const struct mig_revlist *cur,
			 const char *label, struct mig_revlist *start, struct mig_err *err)
{
	int rc = mig_revwalk_filter_lineage(g, cur, label, false, start, err);
	if (rc || start->n)
		return rc;
	bool *active = mig_revwalk_new_marks(g);
	struct mig_revlist all = { 0 }, on = { 0 };
	mig_graph_mark_ancestors(g, cur->v, cur->n, active);
	for (size_t r = 0; r < g->nrevs; r++)
		if (active[r])
			mig_revlist_push(&all, r);
	rc = mig_revwalk_filter_lineage(g, &all, label, false, &on, err);
	bool *below = mig_revwalk_new_marks(g);
	for (size_t i = 0; i < on.n; i++)
		for (size_t k = 0; k < g->revs[on.v[i]].nnormdown; k++)
			below[g->revs[on.v[i]].normdown[k]] = true;
	for (size_t i = 0; i < on.n; i++)
		if (!below[on.v[i]])
			mig_revlist_push(start, on.v[i]);
	free(below);
	free(active);
	mig_revlist_release(&all);
	mig_revlist_release(&on);
	return rc;
}

static int parse_upgrade(const struct mig_graph *g, const struct mig_strv *rows,
			 const char *spec, struct mig_revlist *targets, struct mig_err *err)
{
	struct relative rel;
	bool is_rel;
	int rc = parse_relative(spec, &rel, &is_rel, err);
	if (rc || !is_rel)
		return rc ? rc : mig_revwalk_get_revisions(g, spec, targets, err);
	size_t to = MIG_NONE;
	if (!rel.n && !rel.symbol) {
		rc = zero_steps(err, spec);
	} else if (rel.n > 0 && !rel.symbol) {
		struct mig_revlist cur = { 0 }, start = { 0 };
		rows_to_revs(g, rows, &cur);
		if (rel.label)
			rc = upgrade_start(g, &cur, rel.label, &start, err);
		else
			start = cur, cur = (struct mig_revlist){ 0 };
		if (!rc && start.n > 1) {
			rc = mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: the database "
					 "is at %zu revisions", spec, start.n);
			mig_err_hint(err, "give the branch to go up: LABEL@+N or REV+N");
		}
		if (!rc)
			rc = mig_revwalk_steps(g, start.n ? start.v[0] : MIG_NONE, rel.n,
					       rel.label, spec, &to, err);
		if (!rc && to == MIG_NONE)
			rc = too_far(err, spec, true);
		mig_revlist_release(&cur);
		mig_revlist_release(&start);
	} else if (rel.n > 0 || rel.symbol) {
		size_t from = MIG_NONE;
		char *at = rel.label && rel.n <= 0 ? xasprintf("%s@%s", rel.label, rel.symbol)
			   : NULL;
		rc = mig_revwalk_get_revision(g, at ? at : rel.symbol, &from, err);
		free(at);
		if (!rc)
			rc = mig_revwalk_steps(g, from, rel.n, rel.n > 0 ? rel.label : NULL,
					       spec, &to, err);
		if (!rc && (to == MIG_NONE || to == MIG_REV_BASE))
			rc = too_far(err, spec, rel.n > 0);
	} else {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' goes down, and this is an upgrade",
				 spec);
		mig_err_hint(err, "mig-downgrade --to %s", spec);
	}
	if (!rc)
		mig_revlist_push(targets, to);
	relative_release(&rel);
	return rc;
}

/* Downgrade -N from several rows: Alembic picks whichever row it read
 * first and warns; mig asks which was meant. */
static int refuse_guess(const struct mig_graph *g, const struct mig_revlist *cur,
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
		return mig_revwalk_get_revision(g, at ? at + 1 : spec, to, err);
	}
	if (!rel.n && !rel.symbol) {
		rc = zero_steps(err, spec);
	} else if (rel.n >= 0 && !rel.symbol) {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' goes up, and this is a downgrade",
				 spec);
		mig_err_hint(err, "mig-upgrade --to %s", spec);
	} else if (rel.n >= 0) {
		size_t from;
		rc = mig_revwalk_get_revision(g, rel.symbol, &from, err);
		if (!rc)
			rc = mig_revwalk_steps(g, from, rel.n, rel.label, spec, to, err);
		if (!rc && *to == MIG_NONE)
			rc = too_far(err, spec, true);
		*branch = rel.label ? xstrdup(rel.label) : NULL;
	} else {
		char *symbol = rel.symbol ? xstrdup(rel.symbol) : NULL;
		char *label = rel.label ? xstrdup(rel.label) : NULL;
		struct mig_revlist cur = { 0 }, on = { 0 };
		rows_to_revs(g, rows, &cur);
		if (!symbol && label) {
			rc = mig_revwalk_filter_lineage(g, &cur, label, false, &on, err);
			if (!rc && !on.n) {
				/* rows on other branches that depend on this one */
				bool *active = mig_revwalk_new_marks(g);
				struct mig_revlist tops = { 0 };
				mig_graph_mark_ancestors(g, cur.v, cur.n, active);
				for (size_t r = 0; r < g->nrevs; r++) {
					bool top = active[r];
					for (size_t k = 0; top && k < g->revs[r].nnext; k++)
						top = !active[g->revs[r].next[k]];
					if (top)
						mig_revlist_push(&tops, r);
				}
				rc = mig_revwalk_filter_lineage(g, &tops, label, false, &on,
								err);
				mig_revlist_release(&tops);
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
			rc = mig_revwalk_get_revision(g, at, &from, err);
			free(at);
		}
		if (!rc)
			rc = mig_revwalk_steps(g, from, rel.n, NULL, spec, to, err);
		if (!rc && *to == MIG_NONE)
			rc = too_far(err, spec, false);
		if (!rc && *to == MIG_REV_BASE)
			*to = MIG_NONE;
		*branch = label;
		label = NULL;
		free(label);
		free(symbol);
		mig_revlist_release(&cur);
		mig_revlist_release(&on);
	}
	relative_release(&rel);
	return rc;
}

/* ---- planning ------------------------------------------------------------------------ */

int mig_target_upgrade_revisions(const struct mig_graph *g, const struct mig_strv *rows,
				 const char *spec, struct mig_revlist *out,
				 struct mig_err *err)
{
	return parse_upgrade(g, rows, spec, out, err);
}

/* Alembic refuses a set of revisions of which one is an ancestor of another. */
static int refuse_overlap(const struct mig_graph *g, const struct mig_revlist *revs,
			  const char *what, struct mig_err *err)
{
	for (size_t i = 0; i < revs->n; i++) {
		bool *up = mig_revwalk_new_marks(g);
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
		struct mig_revlist targets = { 0 };
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
			rc = mig_revwalk_resolve_branch(g, branch, &t->branch, err);
		free(branch);
	}
	t->resolved = !rc;
	return rc;
}

static int plan_downgrade(const struct mig_target *t, const struct mig_graph *g,
			  const struct mig_revlist *cur, struct mig_plan *plan,
			  struct mig_err *err)
{
	struct mig_revlist roots = { 0 };
	if (t->down_to == MIG_NONE)
		for (size_t b = 0; b < g->nbases; b++)
			mig_revlist_push(&roots, g->bases[b]);
	else
		for (size_t k = 0; k < g->revs[t->down_to].nnext; k++)
			mig_revlist_push(&roots, g->revs[t->down_to].next[k]);
	int rc = MIG_OK;
	if (t->branch != MIG_NONE && roots.n > 1) {
		bool *line = mig_revwalk_new_marks(g);
		mig_revwalk_mark_ancestors(g, t->branch, false, line);
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
	bool *drop = mig_revwalk_new_marks(g), *active = mig_revwalk_new_marks(g);
	if (!rc) {
		mig_graph_mark_descendants(g, roots.v, roots.n, drop);
		mig_graph_mark_ancestors(g, cur->v, cur->n, active);
	}
	size_t count = 0;
	for (size_t r = 0; r < g->nrevs; r++)
		count += drop[r] = drop[r] && active[r];
	if (!rc && !count && t->down_to != MIG_NONE && !mig_revlist_has(cur, t->down_to)) {
		rc = mig_err_set(err, MIG_EINPUT, "nothing to downgrade: '%s' is not below "
				 "the database's revisions", g->revs[t->down_to].id);
		mig_err_hint(err, "mig-status shows where the database stands");
	}
	if (!rc)
		mig_plan_sorted(g, drop, cur->v, cur->n, false, plan);
	free(drop);
	free(active);
	mig_revlist_release(&roots);
	return rc;
}

int mig_target_plan(struct mig_target *t, const struct mig_graph *g,
		    const struct mig_strv *current, struct mig_plan *plan,
		    struct mig_err *err)
{
	memset(plan, 0, sizeof(*plan));
	int rc = t->resolved ? MIG_OK : resolve(t, g, current, err);
	struct mig_revlist cur = { 0 };
	rows_to_revs(g, current, &cur);
	if (!rc && t->upgrade)
		rc = refuse_overlap(g, &cur, "the database's revisions", err);
	if (!rc && t->upgrade)
		rc = mig_plan_upgrade(g, current, t->revs, t->nrevs, plan, err);
	else if (!rc)
		rc = plan_downgrade(t, g, &cur, plan, err);
	mig_revlist_release(&cur);
	return rc;
}

/* ---- stamping (_stamp_revs and HeadMaintainer) -------------------------------------- */

static int stamp_fail(struct mig_err *err, const char *what, const char *id)
{
	mig_err_set(err, MIG_EINPUT, "these revisions cannot be stamped together: %s '%s'",
		    what, id);
	return mig_err_hint(err, "stamp them one at a time, or start afresh with --purge");
}

static int heads_remove(struct mig_revlist *heads, size_t r, const struct mig_graph *g,
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

static int heads_add(struct mig_revlist *heads, size_t r, const struct mig_graph *g,
		     struct mig_err *err)
{
	if (mig_revlist_has(heads, r))
		return stamp_fail(err, "a row written twice:", g->revs[r].id);
	mig_revlist_push(heads, r);
	return MIG_OK;
}

int mig_target_stamp_rows(const struct mig_graph *g, const struct mig_strv *current,
			  char *const *specs, size_t nspecs, bool purge,
			  struct mig_strv *rows, struct mig_err *err)
{
	struct mig_revlist heads = { 0 }, filtered = { 0 }, dests = { 0 };
	if (!purge)
		rows_to_revs(g, current, &heads);
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < nspecs; i++)
		rc = mig_revwalk_filter_lineage(g, &heads, specs[i], true, &filtered, err);
	for (size_t i = 0; !rc && i < nspecs; i++)
		rc = mig_revwalk_get_revisions(g, specs[i], &dests, err);
	if (!rc && !dests.n)
		mig_revlist_push(&dests, MIG_NONE);
	for (size_t d = 0; !rc && d < dests.n; d++) {
		size_t dest = dests.v[d];
		if (dest == MIG_REV_BASE) {
			rc = mig_err_set(err, MIG_EINPUT, "'%s' goes beyond base",
					 specs[nspecs - 1]);
			break;
		}
		if (dest == MIG_NONE) {		/* base: remove the rows it names */
			for (size_t i = 0; !rc && i < filtered.n; i++)
				rc = heads_remove(&heads, filtered.v[i], g, err);
			continue;
		}
		if (mig_revlist_has(&filtered, dest))
			continue;
		bool *up = mig_revwalk_new_marks(g), *down = mig_revwalk_new_marks(g);
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
			moved = moved || !mig_revlist_has(&heads, filtered.v[i]);
		if ((!above && !below) ||
		    (upgrade && moved && !mig_revlist_has(&heads, dest))) {
			rc = heads_add(&heads, dest, g, err);	/* a branch of its own */
			continue;
		}
		/* the rows collapse into one row, dest */
		if (mig_revlist_has(&heads, dest))
			rc = stamp_fail(err, "a row written twice:", g->revs[dest].id);
		for (size_t i = 0; !rc && i < filtered.n; i++)
			rc = heads_remove(&heads, filtered.v[i], g, err);
		if (!rc)
			mig_revlist_push(&heads, dest);
	}
	if (!rc && (rc = refuse_overlap(g, &heads, "the rows after the stamp would", err)))
		mig_err_hint(err, "--purge replaces every row: mig-stamp --purge %s",
			     specs[nspecs - 1]);
	for (size_t i = 0; !rc && i < heads.n; i++)
		strv_push(rows, g->revs[heads.v[i]].id);
	mig_revlist_release(&heads);
	mig_revlist_release(&filtered);
	mig_revlist_release(&dests);
	return rc;
}
