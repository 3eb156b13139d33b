/*
 * graph.c: the revision graph of a migrations folder, built as Alembic's
 * RevisionMap builds it (script/revision.py), so that heads, bases,
 * dependencies and their normalization mean what they mean to Alembic,
 * plus the lint findings of DESIGN.md "Graph findings".
 *
 * Revisions are kept in file-name order; that order breaks ties wherever
 * Alembic would use the order it found the files in.
 */
#define _DEFAULT_SOURCE	/* scandir, openat */
#define _POSIX_C_SOURCE 200809L
#include "graph.h"
#include "alembicini.h"
#include "findings.h"
#include "mig.h"
#include "migfile.h"
#include "pyrev.h"
#include "db.h"	/* mig_sql_skip_trivia */
#include "sum.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the id index ------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void index_build(struct mig_graph *g, struct mig_findings *dups)
{
	g->index_cap = 16;
	while (g->index_cap < g->nrevs * 2)
		g->index_cap *= 2;
	g->index = xmalloc(g->index_cap * sizeof(*g->index));
	for (size_t i = 0; i < g->index_cap; i++)
		g->index[i] = MIG_NONE;
	for (size_t r = 0; r < g->nrevs; r++) {
		size_t slot = hash_str(g->revs[r].id) & (g->index_cap - 1);
		for (; g->index[slot] != MIG_NONE; slot = (slot + 1) & (g->index_cap - 1))
			if (!strcmp(g->revs[g->index[slot]].id, g->revs[r].id))
				break;
		if (g->index[slot] == MIG_NONE) {
			g->index[slot] = r;
			continue;
		}
		const struct mig_rev *first = &g->revs[g->index[slot]];
		mig_findings_add(dups, MIG_SEV_ERROR, "duplicate-revision",
				 g->revs[r].path, g->revs[r].line,
				 "give one of them a new id (mig-new makes one)",
				 "revision '%s' is also declared in %s:%d",
				 g->revs[r].id, first->path, first->line);
	}
}

size_t mig_graph_find(const struct mig_graph *g, const char *id)
{
	if (!g->index_cap)
		return MIG_NONE;
	size_t slot = hash_str(id) & (g->index_cap - 1);
	for (; g->index[slot] != MIG_NONE; slot = (slot + 1) & (g->index_cap - 1))
		if (!strcmp(g->revs[g->index[slot]].id, id))
			return g->index[slot];
	return MIG_NONE;
}

static size_t find_label(const struct mig_graph *g, const char *label)
{
	for (size_t r = 0; r < g->nrevs; r++)
		if (strv_has(&g->revs[r].branch_labels, label))
			return r;
	return MIG_NONE;
}

/* ---- loading the folder ------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void add_parse_finding(struct mig_graph *g, const char *path, int line,
			      const struct mig_err *err)
{
	const char *msg = err->msg ? err->msg : "cannot be read";
	char *prefix = xasprintf("%s:%d: ", path, line);
	if (line && !strncmp(msg, prefix, strlen(prefix)))
		msg += strlen(prefix);
	else if (!strncmp(msg, path, strlen(path)) && msg[strlen(path)] == ':')
		msg += strlen(path) + 2;
	mig_findings_add(&g->findings, MIG_SEV_ERROR, "bad-file", path, line,
			 err->hint, "%s", msg);
	free(prefix);
	g->usable = false;
}

/*
 * One file of versions/.  In a folder of Alembic scripts (alembic_folder),
 * a .sql file without any mig header line is a plain SQL file Alembic
 * ignores too: it is reported and skipped, and the graph is still built.
 * Elsewhere such a file is an error, since a migration whose header was
 * lost must not be skipped.
 */
static void load_file(struct mig_graph *g, int dirfd, const char *name,
		      const char *path, bool python, bool alembic_folder, size_t *cap)
{
	struct mig_err err = MIG_ERR_INIT;
	char *text = NULL;
	size_t len = 0;
	int line = 0;
	int rc = mig_read_file_at(dirfd, name, path, &text, &len, &err);
	if (rc) {
		add_parse_finding(g, path, 0, &err);
		mig_err_release(&err);
		return;
	}
	if (!python && alembic_folder && !mig_sql_has_header(text, len)) {
		mig_findings_add(&g->findings, MIG_SEV_WARNING, "not-a-migration", path, 0,
				 "a mig migration starts with '-- revision: <id>'; "
				 "move plain SQL files out of versions/ to silence this",
				 "plain SQL without a mig header, among Alembic scripts: "
				 "ignored, as Alembic ignores it");
		free(text);
		return;
	}
	if (g->nrevs == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		g->revs = xrealloc(g->revs, *cap * sizeof(*g->revs));
	}
	struct mig_rev *rev = &g->revs[g->nrevs];
	/* what runs is what is recorded: summed before the SQL parser packs the
	 * text in place */
	char sha256[sizeof(rev->sha256)];
	mig_sha256_hex(text, len, sha256);
	if (python) {
		rc = mig_rev_parse_py(rev, path, text, len, &line, &err);
		free(text);
	} else {	/* the text becomes the revision's: held once, not copied */
		rc = mig_rev_parse_sql_owned(rev, path, text, len, &line, &err);
	}
	memcpy(rev->sha256, sha256, sizeof(sha256));
	if (rc) {
		add_parse_finding(g, path, line, &err);
		mig_rev_release(rev);
	} else {
		g->nrevs++;
	}
	mig_err_release(&err);
}

/* Names that are no migration and not worth a word: hidden files (but not
 * the .py names Alembic loads), caches, compiled Python, backups. */
static bool ignorable(const char *name)
{
	if (mig_alembic_script_name(name))
		return false;
	return name[0] == '.' || !strcmp(name, "__pycache__") ||
	       !strncmp(name, "__init__", 8) || has_suffix(name, ".pyc") ||
	       has_suffix(name, "~");
}

static int load_dir(struct mig_graph *g, const char *dir, struct mig_err *err)
{
	char *versions = xasprintf("%s/versions", dir);
	struct dirent **names = NULL;
	int n = scandir(versions, &names, NULL, cmp_names);
	int dirfd = n < 0 ? -1 : open(versions, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (n < 0 || dirfd < 0) {
		mig_err_set(err, MIG_EINPUT, "%s: %s", versions, strerror(errno));
		mig_err_hint(err, "-m names the folder that holds versions/ "
			     "(default: migrations)");
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		free(versions);
		return MIG_EINPUT;
	}
	bool alembic_folder = false;
	for (int i = 0; i < n && !alembic_folder; i++)
		alembic_folder = mig_alembic_script_name(names[i]->d_name);
	size_t cap = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *path = xasprintf("%s/%s", versions, name);
		/* Whatever a migration's name is on (a dangling link, a loop, a
		 * FIFO, a folder) is read and refused, never skipped: skipping it
		 * would move the heads past a migration that never ran. */
		if (ignorable(name))
			;
		else if (has_suffix(name, ".sql"))
			load_file(g, dirfd, name, path, false, alembic_folder, &cap);
		else if (mig_alembic_script_name(name))
			load_file(g, dirfd, name, path, true, alembic_folder, &cap);
		else
			mig_findings_add(&g->findings, MIG_SEV_WARNING, "not-a-migration",
					 path, 0, "migrations end in .sql (or .py for "
					 "Alembic scripts)", "not a migration; ignored");
		free(path);
		free(names[i]);
	}
	close(dirfd);
	free(names);
	free(versions);
	return MIG_OK;
}

/* ---- edges -------------------------------------------------------------- */

static void push_idx(size_t **v, size_t *n, size_t x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = x;
}

/* A down_revision that names a file instead of a revision: the real
 * incident was 'p7_comprehensive_trust_layer' for 'p7_comprehensive'. */
static char *suggest_revision(const struct mig_graph *g, const char *missing)
{
	for (size_t r = 0; r < g->nrevs; r++) {
		const char *base = strrchr(g->revs[r].path, '/');
		base = base ? base + 1 : g->revs[r].path;
		size_t stem = strcspn(base, ".");
		if (strlen(missing) == stem && !strncmp(base, missing, stem))
			return xasprintf("'%s' is the name of the file %s, whose "
					 "revision is '%s': did you mean '%s'?",
					 missing, base, g->revs[r].id, g->revs[r].id);
	}
	for (size_t r = 0; r < g->nrevs; r++) {
		const char *id = g->revs[r].id;
		size_t n = strlen(id);
		if ((n >= 4 && !strncmp(missing, id, n) && missing[n] == '_') ||
		    (strlen(missing) >= 4 && !strncmp(id, missing, strlen(missing))))
			return xasprintf("did you mean '%s'?", id);
	}
	return NULL;
}

static void resolve_refs(struct mig_graph *g, struct mig_rev *rev)
{
	for (size_t i = 0; i < rev->down.n; i++) {
		size_t d = mig_graph_find(g, rev->down.v[i]);
		if (d == MIG_NONE) {
			char *hint = suggest_revision(g, rev->down.v[i]);
			mig_findings_add(&g->findings, MIG_SEV_ERROR, "missing-revision",
					 rev->path, rev->down_line ? rev->down_line : rev->line,
					 hint ? hint : "mig-status lists the revisions there are",
					 "down_revision '%s' of '%s' names no revision",
					 rev->down.v[i], rev->id);
			free(hint);
			g->usable = false;
			continue;
		}
		push_idx(&rev->vdown, &rev->nvdown, d);
	}
	for (size_t i = 0; i < rev->depends_on.n; i++) {
		size_t d = mig_graph_find(g, rev->depends_on.v[i]);
		if (d == MIG_NONE)
			d = find_label(g, rev->depends_on.v[i]);
		if (d == MIG_NONE) {
			char *hint = suggest_revision(g, rev->depends_on.v[i]);
			mig_findings_add(&g->findings, MIG_SEV_ERROR, "missing-revision",
					 rev->path, rev->deps_line ? rev->deps_line : rev->line,
					 hint, "depends_on '%s' of '%s' names no revision",
					 rev->depends_on.v[i], rev->id);
			free(hint);
			g->usable = false;
			continue;
		}
		push_idx(&rev->deps, &rev->ndeps, d);
	}
}

static void link_edges(struct mig_graph *g)
{
	for (size_t self = 0; self < g->nrevs; self++) {
		struct mig_rev *rev = &g->revs[self];
		resolve_refs(g, rev);
		for (size_t i = 0; i < rev->nvdown; i++)
			push_idx(&rev->alldown, &rev->nalldown, rev->vdown[i]);
		for (size_t i = 0; i < rev->ndeps; i++)
			push_idx(&rev->alldown, &rev->nalldown, rev->deps[i]);
		for (size_t i = 0; i < rev->nalldown; i++) {
			struct mig_rev *d = &g->revs[rev->alldown[i]];
			push_idx(&d->allnext, &d->nallnext, self);
		}
		for (size_t i = 0; i < rev->nvdown; i++) {
			struct mig_rev *d = &g->revs[rev->vdown[i]];
			push_idx(&d->next, &d->nnext, self);
		}
	}
}

/* Kahn's algorithm over all edges; what is left over lies on a cycle. */
static void topo_order(struct mig_graph *g)
{
	size_t n = g->nrevs, head = 0;
	size_t *pending = xcalloc(n, sizeof(*pending));
	g->order = xmalloc((n + 1) * sizeof(*g->order));
	g->norder = 0;
	for (size_t r = 0; r < n; r++) {
		pending[r] = g->revs[r].nalldown;
		if (!pending[r])
			g->order[g->norder++] = r;
	}
	while (head < g->norder) {
		size_t r = g->order[head++];
		g->revs[r].topo = head - 1;
		for (size_t i = 0; i < g->revs[r].nallnext; i++) {
			size_t c = g->revs[r].allnext[i];
			if (--pending[c] == 0)
				g->order[g->norder++] = c;
		}
	}
	if (g->norder < n) {
		struct mig_buf ids = MIG_BUF_INIT;
		const struct mig_rev *first = NULL;
		for (size_t r = 0; r < n; r++) {
			if (!pending[r])
				continue;
			if (!first)
				first = &g->revs[r];
			buf_printf(&ids, "%s%s", ids.len ? ", " : "", g->revs[r].id);
		}
		if (!first)	/* cannot happen: norder < n leaves one pending */
			first = &g->revs[0];
		mig_findings_add(&g->findings, MIG_SEV_ERROR, "cycle", first->path,
				 first->down_line ? first->down_line : first->line,
				 "a revision cannot be its own ancestor: fix the "
				 "down_revision lines", "revisions form a cycle: %s",
				 buf_str(&ids));
		buf_release(&ids);
		g->usable = false;
	}
	free(pending);
}

void mig_graph_mark_ancestors(const struct mig_graph *g, const size_t *revs,
			      size_t nrevs, bool *mark)
{
	size_t *stack = xmalloc((g->nrevs + nrevs + 1) * sizeof(*stack));
	size_t sp = 0;
	for (size_t i = 0; i < nrevs; i++)
		stack[sp++] = revs[i];
	while (sp) {
		size_t r = stack[--sp];
		if (mark[r])
			continue;
		mark[r] = true;
		const struct mig_rev *rev = &g->revs[r];
		/* normdown reaches the same revisions as alldown; it is set once
		 * the graph is built, alldown while dependencies are normalized */
		const size_t *down = rev->normdown ? rev->normdown : rev->alldown;
		size_t nd = rev->normdown ? rev->nnormdown : rev->nalldown;
		for (size_t i = 0; i < nd; i++)
			if (!mark[down[i]])
				stack[sp++] = down[i];
	}
	free(stack);
}

void mig_graph_mark_descendants(const struct mig_graph *g, const size_t *revs,
				size_t nrevs, bool *mark)
{
	size_t *stack = xmalloc((g->nrevs + nrevs + 1) * sizeof(*stack));
	size_t sp = 0;
	for (size_t i = 0; i < nrevs; i++)
		stack[sp++] = revs[i];
	while (sp) {
		size_t r = stack[--sp];
		if (mark[r])
			continue;
		mark[r] = true;
		for (size_t i = 0; i < g->revs[r].nallnext; i++)
			if (!mark[g->revs[r].allnext[i]])
				stack[sp++] = g->revs[r].allnext[i];
	}
	free(stack);
}

/* Alembic's _normalize_depends_on: drop dependencies that an ancestor
 * (through down_revision only) already depends on. */
static void normalize_deps(struct mig_graph *g)
{
	bool *seen = xcalloc(g->nrevs + 1, sizeof(*seen));
	size_t *stack = xmalloc((g->nrevs + 1) * sizeof(*stack));
	for (size_t r = 0; r < g->nrevs; r++) {
		struct mig_rev *rev = &g->revs[r];
		const size_t ndeps = rev->ndeps;
		bool *drop = ndeps ? xcalloc(ndeps, sizeof(*drop)) : NULL;
		if (ndeps && g->usable) {
			memset(seen, 0, g->nrevs * sizeof(*seen));
			size_t sp = 0;
			for (size_t i = 0; i < rev->nvdown; i++)
				stack[sp++] = rev->vdown[i];
			while (sp) {
				size_t a = stack[--sp];
				if (seen[a])
					continue;
				seen[a] = true;
				for (size_t j = 0; j < ndeps; j++)
					for (size_t k = 0; k < g->revs[a].ndeps; k++)
						drop[j] |= g->revs[a].deps[k] == rev->deps[j];
				for (size_t i = 0; i < g->revs[a].nvdown; i++)
					stack[sp++] = g->revs[a].vdown[i];
			}
		}
		for (size_t i = 0; i < rev->nvdown; i++)
			push_idx(&rev->normdown, &rev->nnormdown, rev->vdown[i]);
		for (size_t j = 0; j < ndeps; j++)
			if (!drop[j])
				push_idx(&rev->normdown, &rev->nnormdown, rev->deps[j]);
		if (!rev->normdown)	/* marks "computed" for mark_ancestors */
			rev->normdown = xmalloc(sizeof(*rev->normdown));
		free(drop);
	}
	free(stack);
	free(seen);
}

/* ---- lint ---------------------------------------------------------------- */

/* Does the docstring's "Revises: a, b" name the same set as the code?
 * Alembic's older merge template wrote the tuple itself, "Revises:
 * ('a', 'b')", so brackets and quotes are not part of the ids. */
static bool revises_agrees(const struct mig_rev *rev)
{
	size_t n = 0;
	bool same = true;
	char *copy = xstrdup(rev->doc_revises);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t()[]'\"", &save); tok;
	     tok = strtok_r(NULL, ", \t()[]'\"", &save)) {
		if (!strcmp(tok, "None"))
			continue;
		n++;
		same = same && strv_has(&rev->down, tok);
	}
	free(copy);
	return same && n == rev->down.n;
}


/* A "-- +downgrade" section with nothing but comments (a mig-new scaffold
 * whose upgrade was filled in and whose downgrade was not) passes every
 * check but the round trip, and a downgrade through it does nothing: said
 * where the section starts. */
static void warn_empty_downgrade(struct mig_graph *g, const struct mig_rev *rev)
{
	int line = 0;
	bool upgrade_does = false;	/* an empty merge undoes nothing, rightly */
	for (size_t i = 0; i < rev->nsections; i++) {
		const struct mig_section *s = &rev->sections[i];
		bool does = s->sql && *mig_sql_skip_trivia(s->sql);
		if (s->upgrade) {
			upgrade_does = upgrade_does || does;
			continue;
		}
		if (does)
			return;
		if (!line)
			line = s->line;
	}
	if (!upgrade_does)
		return;
	mig_findings_add(&g->findings, MIG_SEV_WARNING, "empty-downgrade", rev->path, line,
			 "write the SQL that undoes the upgrade, or drop the section "
			 "to say there is none",
			 "revision '%s': its -- +downgrade section holds only comments, "
			 "so a downgrade through it changes nothing", rev->id);
}

/* Is the file named as its revision's files are: "<rev>..." always, and,
 * for an Alembic script, any name alembic.ini's file_template produces. */
static bool named_for(const struct mig_rev *rev, const char *base,
		      const char *file_template)
{
	if (!strncmp(base, rev->id, strlen(rev->id)))
		return true;
	return rev->kind == MIG_REV_ALEMBIC_PY &&
	       mig_file_template_matches(file_template, base, rev->id);
}

static void lint_revisions(struct mig_graph *g)
{
	char *file_template = NULL;
	bool template_read = false;
	for (size_t r = 0; r < g->nrevs; r++) {
		const struct mig_rev *rev = &g->revs[r];
		const char *base = strrchr(rev->path, '/');
		base = base ? base + 1 : rev->path;
		if (strlen(rev->id) > MIG_REVISION_MAX) {
			mig_findings_add(&g->findings, MIG_SEV_ERROR, "revision-too-long",
					 rev->path, rev->line,
					 "alembic_version.version_num is VARCHAR(32)",
					 "revision '%s' is %zu characters long; at most %d fit",
					 rev->id, strlen(rev->id), MIG_REVISION_MAX);
			g->usable = false;
		}
		if (rev->kind == MIG_REV_ALEMBIC_PY && !template_read) {
			file_template = mig_alembic_file_template(g->dir);
			template_read = true;
		}
		if (!named_for(rev, base, file_template))
			mig_findings_add(&g->findings, MIG_SEV_WARNING, "file-name",
					 rev->path, rev->line, NULL,
					 "file name does not start with its revision '%s'%s",
					 rev->id, rev->kind == MIG_REV_ALEMBIC_PY ?
					 " and is not one alembic.ini's file_template makes"
					 : "");
		if (rev->doc_revises && !revises_agrees(rev)) {
			char *down = strv_join(&rev->down, ", ");
			mig_findings_add(&g->findings, MIG_SEV_WARNING, "docstring-revises",
					 rev->path, rev->doc_revises_line,
					 "make the docstring and the code agree",
					 "the docstring says 'Revises: %s' but down_revision "
					 "is '%s'", rev->doc_revises, rev->down.n ? down : "None");
			free(down);
		}
		if (rev->unfinished) {
			mig_findings_add(&g->findings, MIG_SEV_ERROR, "unfinished",
					 rev->path, rev->unfinished_line,
					 "finish the revision by hand (its REVIEW lines say "
					 "what is missing), then delete the '-- unfinished:' line",
					 "revision '%s' is unfinished: %s", rev->id,
					 rev->unfinished);
			g->usable = false;
		}
		if (rev->doc_revision_id && strcmp(rev->doc_revision_id, rev->id) != 0)
			mig_findings_add(&g->findings, MIG_SEV_WARNING, "docstring-revision-id",
					 rev->path, rev->doc_revision_id_line,
					 "Alembic uses the code's revision; make the docstring "
					 "say the same",
					 "the docstring says 'Revision ID: %s' but revision is '%s'",
					 rev->doc_revision_id, rev->id);
		if (rev->has_upgrade && !rev->has_downgrade)
			mig_findings_add(&g->findings, MIG_SEV_WARNING, "no-downgrade",
					 rev->path, rev->line, NULL,
					 "revision '%s' has no downgrade", rev->id);
		else if (rev->kind == MIG_REV_SQL && rev->has_downgrade)
			warn_empty_downgrade(g, rev);
	}
	free(file_template);
}

/* Alembic refuses to load a folder where two revisions declare one branch
 * label, or a label is a revision id: a label names one revision. */
static void lint_labels(struct mig_graph *g)
{
	/* the revisions do not move while findings are added */
	const struct mig_rev *revs = g->revs;
	const size_t nrevs = g->nrevs;
	for (size_t r = 0; revs && r < nrevs; r++) {
		const struct mig_rev *rev = &revs[r];
		for (size_t i = 0; i < rev->branch_labels.n; i++) {
			const char *label = rev->branch_labels.v[i];
			const struct mig_rev *first = NULL;
			size_t same = mig_graph_find(g, label);
			if (same != MIG_NONE) {
				first = &revs[same];
			} else {
				for (size_t o = 0; o < r && !first; o++)
					if (strv_has(&revs[o].branch_labels, label))
						first = &revs[o];
			}
			if (!first)
				continue;
			mig_findings_add(&g->findings, MIG_SEV_ERROR, "duplicate-branch-label",
					 rev->path, rev->line, "a branch label names one "
					 "revision: rename one of them",
					 same != MIG_NONE ? "branch label '%s' of '%s' is the "
					 "id of the revision in %s:%d" : "branch label '%s' of "
					 "'%s' is also declared in %s:%d", label, rev->id,
					 first->path, first->line);
			g->usable = false;
		}
	}
}

static void collect_ends(struct mig_graph *g)
{
	for (size_t r = 0; r < g->nrevs; r++) {
		if (!g->revs[r].nnext)
			push_idx(&g->heads, &g->nheads, r);
		if (!g->revs[r].down.n)
			push_idx(&g->bases, &g->nbases, r);
	}
}

/* The nearest revision that every head descends from, or MIG_NONE. */
static size_t common_ancestor(const struct mig_graph *g)
{
	size_t *count = xcalloc(g->nrevs + 1, sizeof(*count));
	bool *mark = xcalloc(g->nrevs + 1, sizeof(*mark));
	for (size_t h = 0; h < g->nheads; h++) {
		memset(mark, 0, g->nrevs * sizeof(*mark));
		mig_graph_mark_ancestors(g, &g->heads[h], 1, mark);
		for (size_t r = 0; r < g->nrevs; r++)
			count[r] += mark[r];
	}
	size_t best = MIG_NONE;
	for (size_t r = 0; r < g->nrevs; r++)
		if (count[r] == g->nheads &&
		    (best == MIG_NONE || g->revs[r].topo > g->revs[best].topo))
			best = r;
	free(mark);
	free(count);
	return best;
}

static void lint_ends(struct mig_graph *g)
{
	if (g->nbases > 1) {
		struct mig_buf ids = MIG_BUF_INIT;
		for (size_t i = 0; i < g->nbases; i++)
			buf_printf(&ids, "%s%s", i ? ", " : "", g->revs[g->bases[i]].id);
		const struct mig_rev *second = &g->revs[g->bases[1]];
		mig_findings_add(&g->findings, MIG_SEV_WARNING, "multiple-bases",
				 second->path, second->down_line ? second->down_line
				 : second->line, NULL, "%zu revisions have no "
				 "down_revision: %s", g->nbases, buf_str(&ids));
		buf_release(&ids);
	}
	if (g->nheads < 2 || !g->usable)
		return;
	struct mig_buf ids = MIG_BUF_INIT;
	for (size_t i = 0; i < g->nheads; i++)
		buf_printf(&ids, "%s%s", i ? ", " : "", g->revs[g->heads[i]].id);
	size_t anc = common_ancestor(g);
	char *from = anc == MIG_NONE ? xstrdup("; they share no ancestor")
		     : xasprintf(", which branch from '%s'", g->revs[anc].id);
	const struct mig_rev *last = &g->revs[g->heads[g->nheads - 1]];
	mig_findings_add(&g->findings, MIG_SEV_ERROR, "multiple-heads", last->path,
			 last->down_line ? last->down_line : last->line,
			 "join them with a merge revision: mig-new --merge",
			 "%zu heads: %s%s", g->nheads, buf_str(&ids), from);
	free(from);
	buf_release(&ids);
}

int mig_graph_load(struct mig_graph *g, const char *dir, struct mig_err *err)
{
	memset(g, 0, sizeof(*g));
	g->dir = xstrdup(dir);
	g->usable = true;
	int rc = load_dir(g, dir, err);
	if (rc)
		return rc;
	struct mig_findings dups = MIG_FINDINGS_INIT;
	index_build(g, &dups);
	for (size_t i = 0; i < dups.n; i++) {
		struct mig_finding *f = &dups.v[i];
		mig_findings_add(&g->findings, f->severity, f->code, f->file, f->line,
				 f->hint, "%s", f->msg);
		g->usable = false;
	}
	mig_findings_release(&dups);
	link_edges(g);
	topo_order(g);
	normalize_deps(g);
	collect_ends(g);
	lint_revisions(g);
	lint_labels(g);
	lint_ends(g);
	return MIG_OK;
}

void mig_graph_release(struct mig_graph *g)
{
	for (size_t r = 0; r < g->nrevs; r++)
		mig_rev_release(&g->revs[r]);
	free(g->revs);
	free(g->index);
	free(g->heads);
	free(g->bases);
	free(g->order);
	free(g->dir);
	mig_findings_release(&g->findings);
	memset(g, 0, sizeof(*g));
}

int mig_graph_require_usable(const struct mig_graph *g, struct mig_err *err)
{
	if (g->usable)
		return MIG_OK;
	for (size_t i = 0; i < g->findings.n; i++) {
		const struct mig_finding *f = &g->findings.v[i];
		if (f->severity != MIG_SEV_ERROR || !strcmp(f->code, "multiple-heads"))
			continue;
		if (f->line)
			mig_err_set(err, MIG_EINPUT, "%s:%d: %s", f->file, f->line, f->msg);
		else
			mig_err_set(err, MIG_EINPUT, "%s: %s", f->file ? f->file : g->dir,
				    f->msg);
		if (f->hint)
			mig_err_hint(err, "%s", f->hint);
		return MIG_EINPUT;
	}
	return mig_err_set(err, MIG_EINPUT, "%s: the revision graph is broken", g->dir);
}

/* ---- resolving revision arguments ----------------------------------------- */

static int resolve_head(const struct mig_graph *g, size_t **out, size_t *nout,
			struct mig_err *err)
{
	if (g->nheads == 1) {
		push_idx(out, nout, g->heads[0]);
		return MIG_OK;
	}
	if (!g->nheads)
		return mig_err_set(err, MIG_EINPUT, "%s/versions holds no migrations",
				   g->dir);
	struct mig_buf ids = MIG_BUF_INIT;
	for (size_t i = 0; i < g->nheads; i++)
		buf_printf(&ids, "%s%s", i ? ", " : "", g->revs[g->heads[i]].id);
	mig_err_set(err, MIG_EINPUT, "'head' is ambiguous: the graph has %zu heads (%s)",
		    g->nheads, buf_str(&ids));
	buf_release(&ids);
	return mig_err_hint(err, "name one of them, use 'heads' for all, or merge "
			    "them with mig-new --merge");
}

static int resolve_prefix(const struct mig_graph *g, const char *arg,
			  size_t **out, size_t *nout, struct mig_err *err)
{
	size_t found = MIG_NONE, n = strlen(arg), matches = 0;
	struct mig_buf ids = MIG_BUF_INIT;
	for (size_t r = 0; r < g->nrevs; r++) {
		if (strncmp(g->revs[r].id, arg, n) != 0)
			continue;
		found = r;
		if (matches++ < 5)
			buf_printf(&ids, "%s%s", matches > 1 ? ", " : "", g->revs[r].id);
	}
	if (matches == 1) {
		buf_release(&ids);
		push_idx(out, nout, found);
		return MIG_OK;
	}
	if (matches > 1) {
		mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: it starts %zu revisions (%s%s)",
			    arg, matches, buf_str(&ids), matches > 5 ? ", ..." : "");
		buf_release(&ids);
		return mig_err_hint(err, "give more characters of the revision id");
	}
	buf_release(&ids);
	mig_err_set(err, MIG_EINPUT, "'%s' is not a revision in %s/versions", arg, g->dir);
	return mig_err_hint(err, "mig-status lists the revisions there are");
}

/* LABEL@head: the head reached from the label's revision through
 * down_revision links only (dependencies lead to other branches), and, as
 * in Alembic, only if there is one. */
static int resolve_branch_head(const struct mig_graph *g, const char *arg, size_t from,
			       size_t **out, size_t *nout, struct mig_err *err)
{
	bool *seen = xcalloc(g->nrevs + 1, sizeof(*seen));
	size_t *stack = xmalloc((g->nrevs + 1) * sizeof(*stack)), sp = 0, found = 0;
	struct mig_buf ids = MIG_BUF_INIT;
	stack[sp++] = from;
	while (sp) {
		size_t r = stack[--sp];
		if (seen[r])
			continue;
		seen[r] = true;
		if (!g->revs[r].nnext) {
			push_idx(out, nout, r);
			buf_printf(&ids, "%s%s", found++ ? ", " : "", g->revs[r].id);
		}
		for (size_t i = 0; i < g->revs[r].nnext; i++)
			stack[sp++] = g->revs[r].next[i];
	}
	int rc = MIG_OK;
	if (found > 1) {
		rc = mig_err_set(err, MIG_EINPUT, "'%s' is ambiguous: the branch has %zu "
				 "heads (%s)", arg, found, buf_str(&ids));
		mig_err_hint(err, "name one of them, or merge them with mig-new --merge");
	}
	buf_release(&ids);
	free(stack);
	free(seen);
	return rc;
}

int mig_graph_resolve(const struct mig_graph *g, const char *arg,
		      size_t **out, size_t *nout, struct mig_err *err)
{
	if (!*arg) {	/* an unset variable must not select the only revision */
		mig_err_set(err, MIG_EINPUT, "an empty revision names nothing");
		return mig_err_hint(err, "give a revision id, head, heads or base");
	}
	if (!strcmp(arg, "base"))
		return MIG_OK;
	if (!strcmp(arg, "heads")) {
		for (size_t i = 0; i < g->nheads; i++)
			push_idx(out, nout, g->heads[i]);
		return MIG_OK;
	}
	if (!strcmp(arg, "head"))
		return resolve_head(g, out, nout, err);
	size_t r = mig_graph_find(g, arg);
	if (r == MIG_NONE)
		r = find_label(g, arg);
	if (r != MIG_NONE) {
		push_idx(out, nout, r);
		return MIG_OK;
	}
	const char *at = strchr(arg, '@');
	if (at && !strcmp(at, "@head")) {
		char *label = xstrndup(arg, (size_t)(at - arg));
		size_t l = find_label(g, label);
		if (l == MIG_NONE)
			l = mig_graph_find(g, label);
		free(label);
		if (l != MIG_NONE)
			return resolve_branch_head(g, arg, l, out, nout, err);
	}
	return resolve_prefix(g, arg, out, nout, err);
}
