/*
 * pyrev.c: reads an Alembic revision script (*.py) for the graph only,
 * without Python: the module-level assignments of revision, down_revision,
 * branch_labels and depends_on (with or without a type annotation; a
 * string in either quote style, None, or a tuple or list of strings, over
 * one line or several), the docstring's "Revises:" line, and whether
 * upgrade() and downgrade() do anything.
 *
 * Only these literal forms are understood; anything computed is reported
 * as bad input rather than guessed at.
 */
#define _POSIX_C_SOURCE 200809L
#include "pyrev.h"
#include "mig.h"
#include "migfile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct py {
	const char *path;
	const char *s, *p, *end;
	int line;
	int *err_line;
	struct mig_err *err;
};

static int py_fail(struct py *x, int line, const char *what, const char *hint)
{
	*x->err_line = line;
	mig_err_set(x->err, MIG_EINPUT, "%s:%d: %s", x->path, line, what);
	if (hint)
		mig_err_hint(x->err, "%s", hint);
	return MIG_EINPUT;
}

static void advance(struct py *x)
{
	if (x->p < x->end && *x->p == '\n')
		x->line++;
	x->p++;
}

/* Skips spaces, comments and (inside brackets) newlines and backslashes. */
static void skip_space(struct py *x, bool newlines)
{
	while (x->p < x->end) {
		char c = *x->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || (c == '\n' && newlines))
			advance(x);
		else if (c == '\\' && x->p + 1 < x->end && x->p[1] == '\n')
			advance(x), advance(x);
		else if (c == '#')
			while (x->p < x->end && *x->p != '\n')
				advance(x);
		else
			return;
	}
}

static int read_one_string(struct py *x, char **out);

static bool at_string(const struct py *x)
{
	const char *p = x->p;
	while (p < x->end && strchr("rRuUbB", *p))
		p++;
	return p < x->end && (*p == '\'' || *p == '"') && p - x->p <= 2;
}

/* A string literal, and any literals right after it: 'a' "b" is "ab". */
static int read_string(struct py *x, char **out)
{
	*out = NULL;
	int rc = read_one_string(x, out);
	while (!rc) {
		const char *save = x->p;
		int line = x->line;
		skip_space(x, false);
		if (!at_string(x)) {
			x->p = save;
			x->line = line;
			return MIG_OK;
		}
		char *more = NULL;
		rc = read_one_string(x, &more);
		if (!rc) {
			char *joined = xasprintf("%s%s", *out, more);
			free(*out);
			free(more);
			*out = joined;
		}
	}
	free(*out);
	*out = NULL;
	return rc;
}

/* A string literal at x->p ('...', "...", r'...', or triple-quoted). */
static int read_one_string(struct py *x, char **out)
{
	int line = x->line;
	const char *prefix = x->p;
	while (x->p < x->end && strchr("rRuUbBfF", *x->p) && x->p + 1 < x->end &&
	       (x->p[1] == '\'' || x->p[1] == '"' || strchr("rRbB", x->p[1])))
		advance(x);
	if (memchr(prefix, 'f', (size_t)(x->p - prefix)) ||
	    memchr(prefix, 'F', (size_t)(x->p - prefix)))	/* computed */
		return py_fail(x, line, "an f-string is computed; mig reads "
			       "only literal strings", "write the value out as a literal");
	char q = '\0';
	if (x->p < x->end)
		q = *x->p;
	if (q != '\'' && q != '"')
		return py_fail(x, line, "expected a string", NULL);
	bool triple = x->end - x->p >= 3 && x->p[1] == q && x->p[2] == q;
	for (int i = 0; i < (triple ? 3 : 1); i++)
		advance(x);
	struct mig_buf b = MIG_BUF_INIT;
	for (;;) {
		if (x->p >= x->end || (!triple && *x->p == '\n')) {
			buf_release(&b);
			return py_fail(x, line, "unterminated string", NULL);
		}
		if (*x->p == '\\' && x->p + 1 < x->end) {
			advance(x);
			buf_putc(&b, *x->p);
			advance(x);
			continue;
		}
		if (*x->p == q && (!triple || (x->end - x->p >= 3 && x->p[1] == q &&
					       x->p[2] == q))) {
			for (int i = 0; i < (triple ? 3 : 1); i++)
				advance(x);
			break;
		}
		buf_putc(&b, *x->p);
		advance(x);
	}
	*out = buf_detach(&b);
	return MIG_OK;
}

static bool at_word(const struct py *x, const char *w)
{
	size_t n = strlen(w);
	return (size_t)(x->end - x->p) >= n && !strncmp(x->p, w, n) &&
	       (x->p + n == x->end || !(isalnum((unsigned char)x->p[n]) || x->p[n] == '_'));
}

/* The items of a tuple or list of strings, after its opening bracket. */
static int read_sequence(struct py *x, char close, struct mig_strv *out,
			 const char *name)
{
	for (;;) {
		skip_space(x, true);
		if (x->p < x->end && *x->p == close) {
			advance(x);
			return MIG_OK;
		}
		char *item = NULL;
		int rc = read_string(x, &item);
		if (rc) {
			char *m = xasprintf("%s: only strings can be listed", name);
			rc = py_fail(x, x->line, m, NULL);
			free(m);
			return rc;
		}
		strv_push_owned(out, item);
		skip_space(x, true);
		if (x->p < x->end && *x->p == ',') {
			advance(x);
			continue;
		}
		if (x->p < x->end && *x->p == close) {
			advance(x);
			return MIG_OK;
		}
		return py_fail(x, x->line, "expected ',' or the closing bracket", NULL);
	}
}

static int read_value(struct py *x, struct mig_strv *out, const char *name)
{
	skip_space(x, false);
	if (at_word(x, "None")) {
		x->p += 4;
		return MIG_OK;
	}
	if (x->p < x->end && (*x->p == '(' || *x->p == '[')) {
		char close = *x->p == '(' ? ')' : ']';
		advance(x);
		return read_sequence(x, close, out, name);
	}
	char *s = NULL;
	int rc = read_string(x, &s);
	if (rc) {
		char *m = xasprintf("%s: mig reads a string, None, or a tuple or list "
				    "of strings here", name);
		rc = py_fail(x, x->line, m, "write the value as a literal");
		free(m);
		return rc;
	}
	strv_push_owned(out, s);
	for (;;) {	/* a tuple without brackets: 'a', 'b' */
		skip_space(x, false);
		if (x->p >= x->end || *x->p != ',')
			return MIG_OK;
		advance(x);
		skip_space(x, false);
		if (x->p >= x->end || *x->p == '\n' || *x->p == ';')
			return MIG_OK;	/* 'a', is a one-element tuple */
		if (read_string(x, &s))	/* this message replaces its own */
			return py_fail(x, x->line, "expected a string after ','", NULL);
		strv_push_owned(out, s);
	}
}

/* After the literal only a comment, ';' or the end of the line may come:
 * "abc" + "def", 'abc'.upper() or "abc" if X else "def" are computed, and
 * reading only their first literal would give the graph a wrong id. */
static int end_of_statement(struct py *x, const char *name)
{
	skip_space(x, false);
	if (x->p >= x->end || *x->p == '\n' || *x->p == ';')
		return MIG_OK;
	char *m = xasprintf("%s: a computed value ('%c' after the literal); mig reads "
			    "only a literal string, None, or a tuple or list of literal "
			    "strings", name, *x->p);
	int rc = py_fail(x, x->line, m, "write the value out as a literal");
	free(m);
	return rc;
}

/* Skips ": Union[str, Sequence[str], None]" up to the '='. */
static int skip_annotation(struct py *x)
{
	int depth = 0, line = x->line;
	for (; x->p < x->end; advance(x)) {
		char c = *x->p;
		if (c == '[' || c == '(')
			depth++;
		else if (c == ']' || c == ')')
			depth--;
		else if (c == '\n' && depth <= 0)
			break;
		else if (c == '=' && depth <= 0) {
			advance(x);
			return MIG_OK;
		}
	}
	return py_fail(x, line, "an annotation without a value", NULL);
}

static const char *const py_names[] = { "revision", "down_revision",
					"branch_labels", "depends_on", NULL };

static int assignment(struct py *x, struct mig_rev *rev, int which)
{
	int line = x->line;
	x->p += strlen(py_names[which]);
	skip_space(x, false);
	if (x->p < x->end && *x->p == ':') {
		advance(x);
		if (skip_annotation(x))
			return MIG_EINPUT;
	} else if (x->p < x->end && *x->p == '=' && (x->p + 1 >= x->end || x->p[1] != '=')) {
		advance(x);
	} else {
		return MIG_OK;	/* not an assignment: leave it */
	}
	struct mig_strv v = MIG_STRV_INIT;
	int rc = read_value(x, &v, py_names[which]);
	if (!rc)
		rc = end_of_statement(x, py_names[which]);
	if (rc) {
		strv_release(&v);
		return rc;
	}
	if (which == 0) {
		if (v.n != 1 || !mig_valid_revision_chars(v.v[0])) {
			strv_release(&v);
			return py_fail(x, line, "revision: an id of letters, digits and _ "
				       "is needed", NULL);
		}
		free(rev->id);
		rev->id = xstrdup(v.v[0]);
		rev->line = line;
		strv_release(&v);
		return MIG_OK;
	}
	for (size_t i = 0; i < v.n; i++)
		if (which == 1 ? !mig_valid_revision_chars(v.v[i]) : !mig_valid_label(v.v[i])) {
			char *m = xasprintf("%s: '%s' is not a revision id", py_names[which],
					    v.v[i]);
			strv_release(&v);
			rc = py_fail(x, line, m, NULL);
			free(m);
			return rc;
		}
	struct mig_strv *dst = which == 1 ? &rev->down
			       : which == 2 ? &rev->branch_labels : &rev->depends_on;
	strv_release(dst);
	*dst = v;
	if (which == 1)
		rev->down_line = line;
	if (which == 3)
		rev->deps_line = line;
	return MIG_OK;
}

/* The value after "Key:" on a docstring line, trimmed. */
static char *doc_value(const char *t, size_t keylen)
{
	const char *v = t + keylen + strspn(t + keylen, " \t");
	size_t n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	return xstrndup(v, n);
}

/*
 * The module docstring: its "Revises:" and "Revision ID:" lines, and the
 * message, which is what Alembic shows as the script's doc (Script.doc):
 * the docstring stripped, up to its first blank line.
 */
static void read_docstring(struct py *x, struct mig_rev *rev)
{
	skip_space(x, true);
	if (x->end - x->p < 3 || !at_string(x))
		return;
	int line0 = x->line;
	char *doc = NULL;
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_err *keep = x->err;
	int el = 0, *keep_el = x->err_line;
	x->err = &ignored;
	x->err_line = &el;
	int rc = read_string(x, &doc);
	x->err = keep;
	x->err_line = keep_el;
	mig_err_release(&ignored);
	if (rc)
		return;
	const char *d = doc + strspn(doc, " \t\r\n\f\v");
	size_t all = strlen(d);
	while (all && isspace((unsigned char)d[all - 1]))
		all--;
	rev->docstring = xstrndup(d, all);
	const char *para = strstr(rev->docstring, "\n\n");
	rev->message = xstrndup(rev->docstring, para ? (size_t)(para - rev->docstring) : all);
	int line = line0;
	for (char *l = doc; l && *l; line++) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		char *t = l + strspn(l, " \t");
		if (!strncmp(t, "Revises:", 8)) {
			free(rev->doc_revises);	/* the last one counts */
			rev->doc_revises = doc_value(t, 8);
			rev->doc_revises_line = line;
		} else if (!strncmp(t, "Revision ID:", 12)) {
			free(rev->doc_revision_id);
			rev->doc_revision_id = doc_value(t, 12);
			rev->doc_revision_id_line = line;
		}
		l = nl ? nl + 1 : NULL;
	}
	free(doc);
}

bool mig_alembic_script_name(const char *name)
{
	size_t n = strlen(name);
	return n >= 3 && !strcmp(name + n - 3, ".py") && strncmp(name, ".#", 2) != 0 &&
	       strncmp(name, "__init__", 8) != 0;
}

/* Alembic 0.1's scripts had no revision variable: the id is the file name
 * when it is hex digits and ".py" (script/base.py, _legacy_rev). */
static char *legacy_revision(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strspn(base, "0123456789abcdef");
	return n && !strcmp(base + n, ".py") ? xstrndup(base, n) : NULL;
}

/* Does "def name(...):" have a body other than pass and docstrings? */
static bool function_does_something(const char *text, const char *name, bool *defined)
{
	char *sig = xasprintf("\ndef %s(", name);
	const char *d = strstr(text, sig);
	free(sig);
	*defined = d != NULL;
	if (!d)
		return false;
	const char *body = strstr(d, ":\n");
	if (!body)
		return true;
	for (const char *l = body + 2; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		size_t ind = strspn(l, " \t");
		if (ind == n || l[ind] == '#') {
			l = nl ? nl + 1 : l + n;
			continue;
		}
		if (!ind)
			return false;	/* the next top-level statement */
		const char *t = l + ind;
		if (!(n - ind == 4 && !strncmp(t, "pass", 4)) && t[0] != '"' && t[0] != '\'')
			return true;
		l = nl ? nl + 1 : l + n;
	}
	return false;
}

int mig_rev_parse_py(struct mig_rev *rev, const char *path, const char *text,
		     size_t len, int *err_line, struct mig_err *err)
{
	memset(rev, 0, sizeof(*rev));
	rev->kind = MIG_REV_ALEMBIC_PY;
	rev->transactional = true;
	rev->path = xstrdup(path);
	struct py x = { path, text, text, text + len, 1, err_line, err };
	if (memchr(text, '\0', len))
		return py_fail(&x, 1, "binary data (a NUL byte) in a revision script", NULL);
	read_docstring(&x, rev);
	bool after_semicolon = false;
	while (x.p < x.end) {
		bool line_start = x.p == x.s || x.p[-1] == '\n' || after_semicolon;
		after_semicolon = false;
		int which = -1;
		for (int i = 0; line_start && py_names[i]; i++)
			if (at_word(&x, py_names[i]))
				which = i;
		if (which >= 0) {
			int rc = assignment(&x, rev, which);
			if (rc)
				return rc;
			continue;
		}
		if (*x.p == '"' || *x.p == '\'') {	/* strings may hold newlines */
			char *ignored = NULL;
			if (read_string(&x, &ignored) == MIG_OK) {
				free(ignored);
				continue;
			}
			mig_err_release(err);
			*err_line = 0;
		}
		if (*x.p == '#') {
			skip_space(&x, false);
		} else if (*x.p == ';') {
			advance(&x);
			skip_space(&x, false);
			after_semicolon = true;
		} else {
			advance(&x);
		}
	}
	if (!rev->id)
		rev->id = legacy_revision(path);
	if (!rev->id)
		return py_fail(&x, 1, "no 'revision = ...' assignment",
			       "an Alembic script sets revision and down_revision "
			       "at module level");
	bool defined;
	rev->has_upgrade = function_does_something(text, "upgrade", &defined);
	rev->has_downgrade = function_does_something(text, "downgrade", &defined);
	return MIG_OK;
}
