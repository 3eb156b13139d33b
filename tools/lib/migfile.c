/*
 * migfile.c: reads one migration file of DESIGN.md's format: a header of
 * "-- key: value" lines, then "-- +upgrade [dialect]" and
 * "-- +downgrade [dialect]" sections of SQL.  The SQL itself is not looked
 * at: each section goes to the database whole.
 */
#define _POSIX_C_SOURCE 200809L
#include "migfile.h"
#include "mig.h"
#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct reader {
	const char *path;
	int *err_line;
	const char *p, *end;	/* the rest of the text */
	int lineno;
	const char *line;	/* the current line, without its newline */
	size_t len;
	struct mig_err *err;
};

static bool next_line(struct reader *r)
{
	if (r->p >= r->end)
		return false;
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	r->line = r->p;
	r->len = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	r->p = nl ? nl + 1 : r->end;
	if (r->len && r->line[r->len - 1] == '\r')
		r->len--;
	r->lineno++;
	return true;
}

static int fail(struct reader *r, const char *what, const char *hint)
{
	mig_err_set(r->err, MIG_EINPUT, "%s:%d: %s", r->path, r->lineno, what);
	*r->err_line = r->lineno;
	if (hint)
		mig_err_hint(r->err, "%s", hint);
	return MIG_EINPUT;
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

bool mig_valid_revision_chars(const char *id)
{
	if (!*id)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

bool mig_valid_label(const char *label)
{
	if (!*label)
		return false;
	for (const char *p = label; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			return false;
	return true;
}

/* "a1, b2" or "none" into sv; each item must be a revision id (or, for
 * branch labels and depends_on, a label). */
static int parse_list(struct reader *r, const char *value, struct mig_strv *sv,
		      const char *key)
{
	if (!*value || !strcasecmp(value, "none"))
		return MIG_OK;
	const char *p = value;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *item = trimmed(p, n);
		bool ok = strcmp(key, "down_revision") ? mig_valid_label(item)
						       : mig_valid_revision_chars(item);
		if (!ok) {
			char *m = xasprintf("%s: '%s' is not a revision id (letters, "
					    "digits and _ only)", key, item);
			free(item);
			int rc = fail(r, m, "separate several ids with commas, e.g. "
				      "'down_revision: a1b2, c3d4'");
			free(m);
			return rc;
		}
		if (strv_has(sv, item)) {
			char *m = xasprintf("%s: '%s' is listed twice", key, item);
			free(item);
			int rc = fail(r, m, NULL);
			free(m);
			return rc;
		}
		strv_push_owned(sv, item);
		p += n;
		if (*p == ',')
			p++;
	}
	return MIG_OK;
}

static int parse_bool(struct reader *r, const char *value, bool *out)
{
	if (!strcasecmp(value, "true") || !strcasecmp(value, "yes"))
		*out = true;
	else if (!strcasecmp(value, "false") || !strcasecmp(value, "no"))
		*out = false;
	else
		return fail(r, "transactional: expected true or false", NULL);
	return MIG_OK;
}

static const char *const header_keys[] = {
	"revision", "down_revision", "branch_labels", "depends_on",
	"message", "create_date", "transactional", "unfinished", NULL,
};

static int header_field(struct reader *r, struct mig_rev *rev, const char *key,
			const char *value, unsigned *seen)
{
	size_t k;
	for (k = 0; header_keys[k] && strcmp(header_keys[k], key) != 0; k++)
		;
	if (!header_keys[k]) {
		char *m = xasprintf("unknown header key '%s'", key);
		int rc = fail(r, m, "the keys are revision, down_revision, "
			      "branch_labels, depends_on, message, create_date, "
			      "transactional, unfinished");
		free(m);
		return rc;
	}
	if (*seen & (1u << k)) {
		char *m = xasprintf("header key '%s' given twice", key);
		int rc = fail(r, m, NULL);
		free(m);
		return rc;
	}
	*seen |= 1u << k;
	switch (k) {
	case 0:
		if (!mig_valid_revision_chars(value))
			return fail(r, "revision: an id of letters, digits and _ is needed",
				    "new files get one from mig-new");
		rev->id = xstrdup(value);
		rev->line = r->lineno;
		return MIG_OK;
	case 1:
		rev->down_line = r->lineno;
		return parse_list(r, value, &rev->down, key);
	case 2:
		return parse_list(r, value, &rev->branch_labels, key);
	case 3:
		rev->deps_line = r->lineno;
		return parse_list(r, value, &rev->depends_on, key);
	case 4:
		rev->message = xstrdup(value);
		return MIG_OK;
	case 5:
		rev->create_date = xstrdup(value);
		return MIG_OK;
	case 7:
		/* Kept for the graph's lint, which refuses the file until a
		 * person finishes it and deletes the line (mig-import writes it). */
		rev->unfinished = xstrdup(*value ? value : "marked unfinished");
		rev->unfinished_line = r->lineno;
		return MIG_OK;
	default:
		return parse_bool(r, value, &rev->transactional);
	}
}

/* "-- key: value" with key in [a-z_]; returns false for other comments. */
static bool split_header(const char *s, size_t n, char **key, char **value)
{
	size_t i = 2;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t k0 = i;
	while (i < n && (islower((unsigned char)s[i]) || s[i] == '_'))
		i++;
	if (i == k0 || i >= n || s[i] != ':')
		return false;
	*key = xstrndup(s + k0, i - k0);
	*value = trimmed(s + i + 1, n - i - 1);
	return true;
}

/* "-- +upgrade [dialect]": 1 if a marker, 0 if not, MIG_EINPUT if bad. */
static int section_marker(struct reader *r, bool *upgrade, enum mig_dialect *d)
{
	const char *s = r->line;
	size_t n = r->len, i = 2;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] != '+')
		return 0;
	char *rest = trimmed(s + i + 1, n - i - 1);
	char *sp = strpbrk(rest, " \t");
	char *dialect = NULL;
	if (sp) {
		*sp = '\0';
		dialect = sp + 1 + strspn(sp + 1, " \t");
	}
	int rc = 1;
	if (!strcmp(rest, "upgrade") || !strcmp(rest, "downgrade"))
		*upgrade = rest[0] == 'u';
	else
		rc = fail(r, "unknown section marker; use '-- +upgrade' or "
			  "'-- +downgrade'", NULL);
	*d = MIG_DIALECT_ANY;
	if (rc == 1 && dialect) {
		if (!strcmp(dialect, "sqlite"))
			*d = MIG_SQLITE;
		else if (!strcmp(dialect, "postgresql"))
			*d = MIG_POSTGRESQL;
		else
			rc = fail(r, "unknown dialect in section marker",
				  "the dialects are sqlite and postgresql");
	}
	free(rest);
	return rc;
}

static void add_section(struct mig_rev *rev, bool upgrade, enum mig_dialect d,
			int line)
{
	rev->sections = xrealloc(rev->sections,
				 (rev->nsections + 1) * sizeof(*rev->sections));
	struct mig_section *s = &rev->sections[rev->nsections++];
	s->upgrade = upgrade;
	s->dialect = d;
	s->sql = NULL;
	s->line = line;
	if (upgrade)
		rev->has_upgrade = true;
	else
		rev->has_downgrade = true;
}

static int read_header(struct reader *r, struct mig_rev *rev, bool *in_section)
{
	unsigned seen = 0;
	*in_section = false;
	while (next_line(r)) {
		if (is_blank(r->line, r->len))
			continue;
		if (r->len < 2 || r->line[0] != '-' || r->line[1] != '-')
			return fail(r, "SQL before the first '-- +upgrade' marker",
				    "put the statements under '-- +upgrade'");
		bool up;
		enum mig_dialect d;
		int m = section_marker(r, &up, &d);
		if (m < 0 || m > 1)
			return m;
		if (m == 1) {
			add_section(rev, up, d, r->lineno + 1);
			*in_section = true;
			return MIG_OK;
		}
		char *key, *value;
		if (!split_header(r->line, r->len, &key, &value))
			continue;
		int rc = header_field(r, rev, key, value, &seen);
		free(key);
		free(value);
		if (rc)
			return rc;
	}
	return MIG_OK;
}

/*
 * The sections' lines are packed towards the start of the body, each ended
 * by a newline, each section by a NUL where its marker line was: the write
 * position never passes the start of the line being read, since a line
 * loses its '\r' and a marker line is dropped, so nothing unread is
 * overwritten.  (A last line without a newline gets one: the body has a
 * byte to spare for it, see mig_rev_parse_sql_owned.)
 */
static int read_sections(struct reader *r, struct mig_rev *rev)
{
	char *w = rev->body + (r->p - rev->body);
	char *start = w;
	while (next_line(r)) {
		bool up;
		enum mig_dialect d;
		int m = 0;
		if (r->len >= 2 && r->line[0] == '-' && r->line[1] == '-')
			m = section_marker(r, &up, &d);
		if (m > 1)
			return m;
		if (m == 1) {
			*w++ = '\0';
			rev->sections[rev->nsections - 1].sql = start;
			start = w;
			add_section(rev, up, d, r->lineno + 1);
			continue;
		}
		memmove(w, r->line, r->len);
		w += r->len;
		*w++ = '\n';
	}
	*w = '\0';
	rev->sections[rev->nsections - 1].sql = start;
	return MIG_OK;
}

int mig_rev_parse_sql(struct mig_rev *rev, const char *path, const char *text,
		      size_t len, int *err_line, struct mig_err *err)
{
	char *copy = xmalloc(len + 2);
	memcpy(copy, text, len);
	copy[len] = '\0';
	return mig_rev_parse_sql_owned(rev, path, copy, len, err_line, err);
}

int mig_rev_parse_sql_owned(struct mig_rev *rev, const char *path, char *text,
			    size_t len, int *err_line, struct mig_err *err)
{
	memset(rev, 0, sizeof(*rev));
	/* room for the newline a last line without one is given */
	if (len && text[len - 1] != '\n')
		text = xrealloc(text, len + 2);
	rev->body = text;
	rev->kind = MIG_REV_SQL;
	rev->transactional = true;
	rev->path = xstrdup(path);
	struct reader r = { path, err_line, text, text + len, 0, NULL, 0, err };
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		r.lineno = 1;
		for (const char *p = text; p < nul; p++)
			r.lineno += *p == '\n';
		return fail(&r, "binary data (a NUL byte) in a migration file", NULL);
	}
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		r.p += 3;
	bool in_section;
	int rc = read_header(&r, rev, &in_section);
	if (!rc && in_section)
		rc = read_sections(&r, rev);
	if (!rc && !rev->id) {
		r.lineno = 1;
		rc = fail(&r, "no '-- revision:' line in the header",
			  "a migration starts with '-- revision: <id>' and "
			  "'-- down_revision: <id>|none'");
	}
	/* A header alone is most often a file whose body was lost; recording
	 * it as applied would skip its SQL for good. */
	if (!rc && !rev->has_upgrade) {
		r.lineno = 1;
		rc = fail(&r, "no '-- +upgrade' section",
			  "put the SQL under '-- +upgrade'; a migration that does "
			  "nothing (a merge) still has the '-- +upgrade' line");
	}
	return rc;
}

void mig_rev_release(struct mig_rev *rev)
{
	free(rev->id);
	strv_release(&rev->down);
	strv_release(&rev->depends_on);
	strv_release(&rev->branch_labels);
	free(rev->message);
	free(rev->create_date);
	free(rev->unfinished);
	free(rev->path);
	free(rev->body);
	free(rev->sections);
	free(rev->doc_revises);
	free(rev->doc_revision_id);
	free(rev->docstring);
	free(rev->vdown);
	free(rev->alldown);
	free(rev->normdown);
	free(rev->deps);
	free(rev->next);
	free(rev->allnext);
	memset(rev, 0, sizeof(*rev));
}

bool mig_sql_has_header(const char *text, size_t len)
{
	struct mig_err ignored = MIG_ERR_INIT;
	int line = 0;
	struct reader r = { "", &line, text, text + len, 0, NULL, 0, &ignored };
	bool found = false;
	while (!found && next_line(&r)) {
		const char *s = r.line + strspn(r.line, " \t");
		size_t n = r.len - (size_t)(s - r.line);
		if (n < 2 || s[0] != '-' || s[1] != '-')
			continue;
		size_t i = 2 + strspn(s + 2, " \t");
		if (i < n && s[i] == '+') {
			size_t w = strcspn(s + i + 1, " \t\n");
			found = (w == 7 && !strncmp(s + i + 1, "upgrade", 7)) ||
				(w == 9 && !strncmp(s + i + 1, "downgrade", 9));
			continue;
		}
		char *key, *value;
		if (!split_header(s, n, &key, &value))
			continue;
		for (size_t k = 0; header_keys[k] && !found; k++)
			found = !strcmp(header_keys[k], key);
		free(key);
		free(value);
	}
	mig_err_release(&ignored);
	return found;
}
