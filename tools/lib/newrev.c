/*
 * newrev.c: new migration files for mig-new.  A random revision id of 12
 * lowercase hex digits (as Alembic's), a file name slug made from the
 * message, and a file chained to the single head of the graph, or joining
 * every head for a merge, whose header and empty sections mig-verify lints
 * clean and mig-upgrade applies (comment-only sections are skipped), or
 * that holds the sections mig-new --autogenerate wrote (autogen.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "newrev.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLUG_MAX 40		/* Alembic's truncate_slug_length */
#define ID_BYTES 6		/* 12 hex digits */

/* ASCII only: the slug of "données" is "donn_es" in every locale. */
static bool ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char *mig_slugify(const char *message)
{
	struct mig_buf b = MIG_BUF_INIT;
	bool gap = false;
	for (const char *p = message; *p; p++) {
		if (!ascii_alnum(*p)) {
			gap = true;
			continue;
		}
		if (gap && b.len)
			buf_putc(&b, '_');
		gap = false;
		buf_putc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
	}
	char *s = buf_detach(&b);
	if (strlen(s) > SLUG_MAX) {
		/* cut at the last word boundary, as Alembic does, unless the
		 * cut already falls on one or there is none */
		bool mid_word = s[SLUG_MAX] != '_';
		s[SLUG_MAX] = '\0';
		char *u = strrchr(s, '_');
		if (mid_word && u)
			*u = '\0';
	}
	return s;
}

/* One line of text: control characters and runs of white space become one
 * space, so the message cannot end the header line or start a section. */
static char *one_line(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;
	bool gap = false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f) {
			gap = true;
			continue;
		}
		if (gap && b.len)
			buf_putc(&b, ' ');
		gap = false;
		buf_putc(&b, (char)*p);
	}
	return buf_detach(&b);
}

static int random_id(char id[2 * ID_BYTES + 1], struct mig_err *err)
{
	unsigned char raw[ID_BYTES];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < sizeof(raw)) {
		ssize_t n = read(fd, raw + got, sizeof(raw) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (got < sizeof(raw))
		return mig_err_set(err, MIG_EINPUT, "/dev/urandom: cannot read a "
				   "random revision id: %s",
				   got ? "short read" : strerror(saved));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return MIG_OK;
}

/* A fresh id that no revision of g has. */
static int new_id(const struct mig_graph *g, char **out, struct mig_err *err)
{
	char id[2 * ID_BYTES + 1];
	for (int tries = 0; tries < 16; tries++) {
		int rc = random_id(id, err);
		if (rc)
			return rc;
		if (mig_graph_find(g, id) == MIG_NONE) {
			*out = xstrdup(id);
			return MIG_OK;
		}
	}
	return mig_err_set(err, MIG_EINPUT, "/dev/urandom gives ids the graph "
			   "already has; it is not random");
}

static char *heads_list(const struct mig_graph *g)
{
	struct mig_buf b = MIG_BUF_INIT;
	for (size_t i = 0; i < g->nheads; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", g->revs[g->heads[i]].id);
	return buf_detach(&b);
}

static bool label_taken(const struct mig_graph *g, const char *label)
{
	for (size_t r = 0; r < g->nrevs; r++)
		if (strv_has(&g->revs[r].branch_labels, label))
			return true;
	return false;
}

/* "FLAG: message", keeping the code and the advice. */
static int prefix_err(struct mig_err *err, const char *flag)
{
	char *hint = err->hint ? xstrdup(err->hint) : NULL;
	mig_err_set(err, err->code, "%s: %s", flag, err->msg);
	if (hint)
		mig_err_hint(err, "%s", hint);
	free(hint);
	return err->code;
}

/*
 * --head REV, as "alembic revision --head": the revisions REV names (none
 * for base: a new base), each a head unless splice, since a child of a
 * revision that has one starts a new branch.
 */
static int pick_head(const struct mig_graph *g, const char *head, bool splice,
		     struct mig_strv *down, struct mig_err *err)
{
	size_t *idx = NULL, n = 0;
	int rc = mig_graph_resolve(g, head, &idx, &n, err);
	if (rc) {
		free(idx);
		return prefix_err(err, "--head");
	}
	for (size_t i = 0; !rc && i < n; i++) {
		const struct mig_rev *rev = &g->revs[idx[i]];
		if (strv_has(down, rev->id)) {
			rc = mig_err_set(err, MIG_EINPUT, "--head names '%s' twice", rev->id);
		} else if (!splice && rev->nnext) {
			rc = mig_err_set(err, MIG_ESAFETY, "--head: revision '%s' is not a "
					 "head; a new revision on it starts a new branch",
					 rev->id);
			mig_err_hint(err, "add --splice to start that branch on purpose");
		} else {
			strv_push(down, rev->id);
		}
	}
	free(idx);
	return rc;
}

/* --depends-on, as Alembic writes it: a branch label stays a label, any
 * other name (a prefix too) becomes the full id of its revision. */
static int resolve_depends_on(const struct mig_graph *g, const struct mig_strv *in,
			      struct mig_strv *out, struct mig_err *err)
{
	for (size_t i = 0; i < in->n; i++) {
		size_t *idx = NULL, n = 0;
		int rc = mig_graph_resolve(g, in->v[i], &idx, &n, err);
		if (!rc && n != 1)
			rc = mig_err_set(err, MIG_EINPUT, "'%s' names %zu revisions; a "
					 "dependency is one revision", in->v[i], n);
		const struct mig_rev *rev = rc ? NULL : &g->revs[idx[0]];
		free(idx);
		if (rc)
			return prefix_err(err, "--depends-on");
		const char *name = strv_has(&rev->branch_labels, in->v[i]) ? in->v[i]
				   : rev->id;
		if (strv_has(out, name))
			return mig_err_set(err, MIG_EINPUT, "--depends-on names '%s' twice",
					   name);
		strv_push(out, name);
	}
	return MIG_OK;
}

static int check_rev_id(const struct mig_graph *g, const char *id, struct mig_err *err)
{
	if (!mig_valid_revision_chars(id) || strlen(id) > MIG_REVISION_MAX) {
		mig_err_set(err, MIG_EINPUT, "--rev-id: '%s' is not a revision id", id);
		return mig_err_hint(err, "1 to %d letters, digits and _ (it must fit "
				    "alembic_version.version_num)", MIG_REVISION_MAX);
	}
	if (mig_graph_find(g, id) != MIG_NONE || label_taken(g, id))
		return mig_err_set(err, MIG_EINPUT, "--rev-id: '%s' is already a "
				   "revision or branch label in %s/versions", id, g->dir);
	if (!strcmp(id, "head") || !strcmp(id, "heads") || !strcmp(id, "base"))
		return mig_err_set(err, MIG_EINPUT, "--rev-id: '%s' is a reserved word "
				   "of revision arguments", id);
	return MIG_OK;
}

/* The down_revision of the new file: the head, every head, or none. */
static int pick_parents(const struct mig_graph *g, bool merge,
			struct mig_strv *down, struct mig_err *err)
{
	char *heads = heads_list(g);
	int rc = MIG_OK;
	if (merge && g->nheads < 2) {
		rc = mig_err_set(err, MIG_EINPUT, "nothing to merge: %s/versions has %s",
				 g->dir, g->nheads ? "one head" : "no migrations");
		if (g->nheads)
			mig_err_hint(err, "leave out --merge to chain a new revision to %s",
				     heads);
	} else if (!merge && g->nheads > 1) {
		rc = mig_err_set(err, MIG_ESAFETY, "%s/versions has %zu heads (%s); a "
				 "new revision would continue only one of them",
				 g->dir, g->nheads, heads);
		mig_err_hint(err, "join them first with a merge revision: mig-new "
			     "--merge, then write the new migration on top of it; or "
			     "name the one to continue with --head");
	} else {
		for (size_t i = 0; i < g->nheads; i++)
			strv_push(down, g->revs[g->heads[i]].id);
	}
	free(heads);
	return rc;
}

static int check_labels(const struct mig_graph *g, const struct mig_strv *labels,
			struct mig_err *err)
{
	for (size_t i = 0; i < labels->n; i++) {
		const char *l = labels->v[i];
		if (!mig_valid_label(l))
			return mig_err_set(err, MIG_EINPUT, "--branch-label: '%s' is not a "
					   "label (letters, digits, _, - and . only)", l);
		if (!strcmp(l, "head") || !strcmp(l, "heads") || !strcmp(l, "base"))
			return mig_err_set(err, MIG_EINPUT, "--branch-label: '%s' is a "
					   "reserved word of revision arguments", l);
		if (mig_graph_find(g, l) != MIG_NONE || label_taken(g, l)) {
			mig_err_set(err, MIG_EINPUT, "--branch-label: '%s' is already "
				    "used by a revision in %s/versions", l, g->dir);
			return mig_err_hint(err, "a label names one branch; pick another");
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(labels->v[j], l))
				return mig_err_set(err, MIG_EINPUT, "--branch-label: "
						   "'%s' is given twice", l);
	}
	return MIG_OK;
}

static void now_text(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, 32, "%s", "1970-01-01 00:00:00");
}

/* The file's text: the header of DESIGN.md, then the caller's comment and
 * sections, or two sections that hold only comments, so that the file
 * applies as it is and says what goes where. */
static char *render(const struct mig_newrev *nr, const struct mig_newrev_opts *o)
{
	bool merge = o->merge;
	struct mig_buf b = MIG_BUF_INIT;
	char date[32];
	char *down = strv_join(&nr->down, ", ");
	char *labels = strv_join(&nr->branch_labels, ", ");
	now_text(date);
	buf_printf(&b, "-- revision: %s\n-- down_revision: %s\n", nr->id,
		   nr->down.n ? down : "none");
	if (nr->branch_labels.n)
		buf_printf(&b, "-- branch_labels: %s\n", labels);
	if (nr->depends_on.n) {
		char *deps = strv_join(&nr->depends_on, ", ");
		buf_printf(&b, "-- depends_on: %s\n", deps);
		free(deps);
	}
	buf_printf(&b, "-- message: %s\n-- create_date: %s\n", nr->message, date);
	if (o->comment)
		buf_printf(&b, "%s", o->comment);
	buf_putc(&b, '\n');
	if (o->sections)
		buf_puts(&b, o->sections);
	else if (merge)
		buf_puts(&b, "-- +upgrade\n"
			 "-- A merge usually needs no SQL: it joins the heads so that the\n"
			 "-- graph has one again.  SQL here runs after all of them.\n\n"
			 "-- +downgrade\n"
			 "-- SQL that undoes the upgrade section, if it has any.\n");
	else
		buf_puts(&b, "-- +upgrade\n"
			 "-- SQL that makes the change; it runs on SQLite and PostgreSQL\n"
			 "-- alike.  For one dialect only, add a section of its own:\n"
			 "-- '-- +upgrade postgresql' or '-- +upgrade sqlite'.\n\n"
			 "-- +downgrade\n"
			 "-- SQL that undoes the upgrade section, in reverse order.\n");
	free(labels);
	free(down);
	return buf_detach(&b);
}

/* Creates path with text, never replacing a file; nothing is left behind
 * on failure. */
static int write_new(const char *path, const char *text, struct mig_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		mig_err_set(err, MIG_ESAFETY, "%s already exists; not overwritten", path);
		return mig_err_hint(err, "run mig-new again: it draws a new id");
	}
	if (fd < 0)
		return mig_err_set(err, MIG_EINPUT, "cannot create %s: %s", path,
				   strerror(errno));
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	int saved = errno;
	if (close(fd) != 0 && done == len) {
		saved = errno;
		done = 0;
	}
	if (done == len)
		return MIG_OK;
	unlink(path);
	return mig_err_set(err, MIG_EINPUT, "cannot write %s: %s", path,
			   strerror(saved ? saved : EIO));
}

/* The message, labels and parents of the new revision, checked. */
static int plan(struct mig_newrev *nr, const struct mig_newrev_opts *o,
		const struct mig_graph *g, struct mig_err *err)
{
	nr->message = one_line(o->message ? o->message : o->merge ? "merge heads" : "");
	if (!*nr->message)
		return mig_err_set(err, MIG_EINPUT, "the message is empty");
	for (size_t i = 0; i < o->branch_labels.n; i++)
		strv_push(&nr->branch_labels, o->branch_labels.v[i]);
	int rc = mig_graph_require_usable(g, err);
	if (!rc)
		rc = check_labels(g, &nr->branch_labels, err);
	if (!rc && o->rev_id)
		rc = check_rev_id(g, o->rev_id, err);
	if (!rc && o->head)
		rc = pick_head(g, o->head, o->splice, &nr->down, err);
	else if (!rc)
		rc = pick_parents(g, o->merge, &nr->down, err);
	if (!rc)
		rc = resolve_depends_on(g, &o->depends_on, &nr->depends_on, err);
	return rc;
}

int mig_newrev_check(const struct mig_newrev_opts *o, const struct mig_graph *g,
		     struct mig_err *err)
{
	struct mig_newrev nr;
	memset(&nr, 0, sizeof(nr));
	int rc = plan(&nr, o, g, err);
	mig_newrev_release(&nr);
	return rc;
}

int mig_newrev_create(struct mig_newrev *nr, const struct mig_newrev_opts *o,
		      const struct mig_graph *g, struct mig_err *err)
{
	memset(nr, 0, sizeof(*nr));
	int rc = plan(nr, o, g, err);
	if (!rc && o->rev_id)
		nr->id = xstrdup(o->rev_id);
	else if (!rc)
		rc = new_id(g, &nr->id, err);
	if (rc)
		return rc;
	char *slug = mig_slugify(nr->message);
	nr->path = *slug ? xasprintf("%s/versions/%s_%s.sql", g->dir, nr->id, slug)
			 : xasprintf("%s/versions/%s.sql", g->dir, nr->id);
	free(slug);
	nr->text = render(nr, o);
	return o->print_only ? MIG_OK : write_new(nr->path, nr->text, err);
}

void mig_newrev_release(struct mig_newrev *nr)
{
	free(nr->id);
	free(nr->path);
	free(nr->message);
	free(nr->text);
	strv_release(&nr->down);
	strv_release(&nr->branch_labels);
	strv_release(&nr->depends_on);
	memset(nr, 0, sizeof(*nr));
}
