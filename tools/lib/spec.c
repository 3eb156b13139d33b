/*
 * spec.c: the YAML spec of a schema (DESIGN.md "The schema model and the
 * spec"), read into the schema model with libyaml's document API and written
 * back with its emitter.
 *
 * The reader is strict on purpose: a spec is a contract checked in CI, so a
 * misspelt key, a duplicate key or an unknown type is an error with the
 * file:line:column, never silently ignored.  YAML aliases, tags and deep
 * nesting are refused by a first pass over the events, before any tree is
 * built, so a "billion laughs" file or a megabyte of "[" costs nothing, and
 * the tree walked afterwards has no shared nodes.
 */
#define _POSIX_C_SOURCE 200809L
#include "spec.h"
#include "mig.h"
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define SPEC_MAX_BYTES (4L << 20)	/* far above any real schema */
#define SPEC_MAX_DEPTH 32	/* a spec nests 6 deep; libyaml slows as n^2 */

/* Where a foreign key's 'references' was written, for the --strict check. */
struct ref_mark {
	size_t table, fk;
	yaml_mark_t mark;
};

struct loader {
	const char *path;
	const char *text;	/* the file, for positions of reader errors */
	size_t len;
	yaml_document_t doc;
	struct mig_schema *out;
	struct ref_mark *refs;
	size_t nrefs, refs_cap;
	struct mig_err *err;
};

static const char *const top_keys[] = { "tables", NULL };
static const char *const table_keys[] = {
	"columns", "primary_key", "foreign_keys", "unique", "indexes", NULL,
};
static const char *const column_keys[] = { "type", "nullable", "default", NULL };
static const char *const fk_keys[] = {
	"columns", "references", "on_delete", "on_update", NULL,
};
static const char *const index_keys[] = {
	"columns", "unique", "method", "where", NULL,
};
static const char *const actions[] = {
	"cascade", "set null", "set default", "restrict", "no action", NULL,
};
/* Canonical types (mig_type_normalize); those marked take "(n)". */
static const struct {
	const char *name;
	int params;		/* 0: none, 1: (n), 2: (p) or (p,s) */
} known_types[] = {
	{ "varchar", 1 }, { "char", 1 }, { "text", 0 }, { "integer", 0 },
	{ "bigint", 0 }, { "smallint", 0 }, { "float", 0 }, { "real", 0 },
	{ "numeric", 2 }, { "boolean", 0 }, { "timestamp", 0 },
	{ "timestamptz", 0 }, { "date", 0 }, { "time", 0 }, { "timetz", 0 },
	{ "interval", 0 }, { "json", 0 }, { "jsonb", 0 }, { "uuid", 0 },
	{ "bytea", 0 }, { NULL, 0 },
};
#define KNOWN_TYPES_HINT "known types: varchar(n), char(n), text, integer, " \
	"bigint, smallint, float, real, numeric, numeric(p), numeric(p,s), " \
	"boolean, timestamp, timestamptz, date, time, timetz, interval, json, " \
	"jsonb, uuid, bytea, and arrays of them such as integer[]"

/* ---- errors ------------------------------------------------------------- */

/*
 * fail_at sets the error "path:line:column: message".  fail() does the same
 * and evaluates to MIG_EINPUT, visibly never MIG_OK: a static analyzer does
 * not follow variadic calls, and took a failed scalar() or name() for a
 * success whose output was unset.
 */
#define fail(ld, m, ...) (fail_at((ld), (m), __VA_ARGS__), MIG_EINPUT)

__attribute__((format(printf, 3, 4)))
static void fail_at(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	size_t size = n > 0 ? (size_t)n + 1 : 1;
	char *what = xmalloc(size);
	va_start(ap, fmt);
	vsnprintf(what, size, fmt, ap);
	va_end(ap);
	mig_err_set(ld->err, MIG_EINPUT, "%s:%zu:%zu: %s", ld->path, m->line + 1,
		    m->column + 1, what);
	free(what);
}

/* The line and column of a byte offset (reader errors carry only that). */
static yaml_mark_t mark_at(const struct loader *ld, size_t offset)
{
	yaml_mark_t m = { offset, 0, 0 };
	for (size_t i = 0; i < offset && i < ld->len; i++) {
		if (ld->text[i] == '\n')
			m.line++, m.column = 0;
		else if (((unsigned char)ld->text[i] & 0xc0) != 0x80)
			m.column++;	/* count characters, as libyaml does */
	}
	return m;
}

static int syntax_error(struct loader *ld, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return mig_err_set(ld->err, MIG_EINPUT, "%s: out of memory reading the spec",
				   ld->path);
	yaml_mark_t m = p->error == YAML_READER_ERROR ?
		mark_at(ld, p->problem_offset) : p->problem_mark;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	if (!p->context)
		return fail(ld, &m, "%s", problem);
	fail_at(ld, &m, "%s %s (line %zu)", problem, p->context, p->context_mark.line + 1);
	if (strstr(p->context, "flow"))
		mig_err_hint(ld->err, "inside { } and [ ] quote a value that holds a comma, "
			     "brackets or braces, as in { type: 'numeric(20,2)' } or "
			     "{ type: 'text[]' }");
	return MIG_EINPUT;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

static int expect(struct loader *ld, const yaml_node_t *n, yaml_node_type_t type,
		  const char *what)
{
	if (n->type == type)
		return MIG_OK;
	const char *want = type == YAML_MAPPING_NODE ? "a mapping" :
		type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
	return fail(ld, &n->start_mark, "%s must be %s, not %s", what, want,
		    kind_name(n));
}

/* ---- reading the file and the first pass --------------------------------- */

static int read_spec(struct loader *ld, char **text, size_t *len)
{
	struct stat st;
	if (stat(ld->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > SPEC_MAX_BYTES)
		return mig_err_set(ld->err, MIG_EINPUT,
				   "%s: the spec is %lld bytes, more than the limit of 4 MiB",
				   ld->path, (long long)st.st_size);
	int rc = mig_read_file(ld->path, text, len, ld->err);
	if (rc)
		return rc;
	if (*len > (size_t)SPEC_MAX_BYTES)	/* it grew while we read it */
		rc = mig_err_set(ld->err, MIG_EINPUT,
				 "%s: the spec is larger than the limit of 4 MiB", ld->path);
	else if (*len == 0)
		rc = mig_err_set(ld->err, MIG_EINPUT, "%s: the spec is empty", ld->path);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/* What the first pass counts: documents, and how deep collections nest. */
struct pass_state {
	int docs, depth;
};

/* What the first pass refuses in one event: aliases, tags, more documents. */
static int check_event(struct loader *ld, const yaml_event_t *ev,
		       struct pass_state *st)
{
	const yaml_char_t *tag = NULL;
	if (ev->type == YAML_ALIAS_EVENT) {
		fail_at(ld, &ev->start_mark, "YAML aliases are not allowed in a spec");
		return mig_err_hint(ld->err, "write the value out in full instead of *%s",
				    (const char *)ev->data.alias.anchor);
	}
	if (ev->type == YAML_DOCUMENT_START_EVENT && ++st->docs > 1)
		return fail(ld, &ev->start_mark,
			    "a spec is one YAML document, and this starts a second one");
	if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT)
		st->depth--;
	if ((ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) &&
	    ++st->depth > SPEC_MAX_DEPTH)
		return fail(ld, &ev->start_mark, "the spec nests deeper than %d levels",
			    SPEC_MAX_DEPTH);
	if (ev->type == YAML_SCALAR_EVENT)
		tag = ev->data.scalar.tag;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		tag = ev->data.sequence_start.tag;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		tag = ev->data.mapping_start.tag;
	if (tag)
		return fail(ld, &ev->start_mark, "YAML tags such as '%s' are not allowed in a spec",
			    (const char *)tag);
	return MIG_OK;
}

/*
 * Parses the whole stream as events: syntax errors, aliases, tags, depth.
 * Stopping at the first alias or at depth SPEC_MAX_DEPTH bounds the work,
 * since libyaml 0.2 scans deeply nested flow collections in quadratic time.
 */
static int first_pass(struct loader *ld)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct pass_state st = { 0, 0 };
	int rc = MIG_OK;
	if (!yaml_parser_initialize(&p))
		return mig_err_set(ld->err, MIG_EINPUT, "%s: out of memory", ld->path);
	yaml_parser_set_input_string(&p, (const unsigned char *)ld->text, ld->len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(ld, &p);
			break;
		}
		yaml_event_type_t type = ev.type;
		rc = check_event(ld, &ev, &st);
		yaml_event_delete(&ev);
		if (rc || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	if (!rc && !st.docs)
		rc = mig_err_set(ld->err, MIG_EINPUT, "%s: the spec is empty", ld->path);
	return rc;
}

static int load_tree(struct loader *ld)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return mig_err_set(ld->err, MIG_EINPUT, "%s: out of memory", ld->path);
	yaml_parser_set_input_string(&p, (const unsigned char *)ld->text, ld->len);
	int rc = yaml_parser_load(&p, &ld->doc) ? MIG_OK : syntax_error(ld, &p);
	yaml_parser_delete(&p);
	return rc;
}

/* ---- nodes ---------------------------------------------------------------- */

static yaml_node_t *node(struct loader *ld, int index)
{
	return yaml_document_get_node(&ld->doc, index);
}

bool mig_spec_null_text(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcasecmp(s, "null");
}

static bool is_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       mig_spec_null_text((const char *)n->data.scalar.value);
}

/* The text of a scalar in *out, NULL for a plain null. */
static int scalar(struct loader *ld, const yaml_node_t *n, const char *what,
		  const char **out)
{
	int rc = expect(ld, n, YAML_SCALAR_NODE, what);
	if (rc)
		return rc;
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return fail(ld, &n->start_mark, "%s contains a NUL character", what);
	*out = is_null(n) ? NULL : s;
	return MIG_OK;
}

/* A name: a scalar that is neither null nor empty. */
static int name(struct loader *ld, const yaml_node_t *n, const char *what,
		const char **out)
{
	int rc = scalar(ld, n, what, out);
	if (!rc && !*out)
		rc = fail(ld, &n->start_mark, "%s cannot be empty or null", what);
	return rc;
}

static int boolean(struct loader *ld, const yaml_node_t *n, const char *what,
		   int *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char *s;
	int rc = scalar(ld, n, what, &s);
	if (rc || !s) {
		*out = -1;
		return rc;
	}
	bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	for (size_t i = 0; plain && yes[i]; i++)
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return MIG_OK;
		}
	return fail(ld, &n->start_mark, "%s must be true or false, not '%s'", what, s);
}

/* ---- mappings: key checks ------------------------------------------------- */

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

struct key_pos {
	const char *key;
	yaml_mark_t mark;
};

static int cmp_key_pos(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->mark.index > y->mark.index) - (x->mark.index < y->mark.index);
}

/* Reports the duplicate key that comes first in the file, if any. */
static int check_duplicates(struct loader *ld, struct key_pos *keys, size_t n,
			    const char *noun)
{
	qsort(keys, n, sizeof(*keys), cmp_key_pos);
	const struct key_pos *dup = NULL, *first = NULL, *run = keys;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i].key, run->key) != 0) {
			run = &keys[i];
			continue;
		}
		if (!dup || keys[i].mark.index < dup->mark.index)
			dup = &keys[i], first = run;
	}
	if (!dup)
		return MIG_OK;
	return fail(ld, &dup->mark, "duplicate %s '%s' (first at line %zu)", noun,
		    dup->key, first->mark.line + 1);
}

static int unknown_key(struct loader *ld, const yaml_node_t *k, const char *where,
		       const char *const *allowed)
{
	const char *key = (const char *)k->data.scalar.value;
	fail_at(ld, &k->start_mark, "unknown key '%s' %s", key, where);
	if (strchr(key, ')') && !strchr(key, '('))	/* "numeric(20,2)" split at ',' */
		return mig_err_hint(ld->err, "inside { } a comma ends a value: quote it, as in "
				    "{ type: 'numeric(20,2)' } or references: 'accounts(id, region)'");
	struct mig_buf b = MIG_BUF_INIT;
	for (size_t i = 0; allowed[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
	mig_err_hint(ld->err, "allowed keys: %s", buf_str(&b));
	buf_release(&b);
	return MIG_EINPUT;
}

/*
 * Checks a mapping's keys: names, no duplicates, and only allowed ones when
 * allowed is not NULL.  noun names a key in messages ("table", "key").
 */
static int check_keys(struct loader *ld, const yaml_node_t *map, const char *noun,
		      const char *where, const char *const *allowed)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	struct key_pos *keys = xcalloc(n, sizeof(*keys));
	char *what = xasprintf("a %s name", noun);
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		yaml_node_t *k = node(ld, map->data.mapping.pairs.start[i].key);
		rc = name(ld, k, what, &keys[i].key);
		keys[i].mark = k->start_mark;
		if (!rc && allowed && !in_list(allowed, keys[i].key))
			rc = unknown_key(ld, k, where, allowed);
	}
	if (!rc)
		rc = check_duplicates(ld, keys, n, noun);
	free(what);
	free(keys);
	return rc;
}

/* ---- the walk: columns ---------------------------------------------------- */

static const char *key_text(struct loader *ld, const yaml_node_pair_t *p)
{
	return (const char *)node(ld, p->key)->data.scalar.value;
}

static int key_line(struct loader *ld, const yaml_node_pair_t *p)
{
	return (int)node(ld, p->key)->start_mark.line + 1;
}

/* Parses d..., returning false unless 1 to 9 digits with a value >= min. */
static bool digits(const char **p, long min)
{
	long v = 0;
	size_t n = 0;
	while (isdigit((unsigned char)**p) && n < 10)
		v = v * 10 + (*(*p)++ - '0'), n++;
	return n > 0 && n < 10 && v >= min;
}

/* True for a canonical type of the spec format, arrays included. */
static bool known_type(const char *t)
{
	size_t n = strlen(t);
	while (n >= 2 && t[n - 2] == '[' && t[n - 1] == ']')
		n -= 2;
	const char *paren = memchr(t, '(', n);
	size_t base = paren ? (size_t)(paren - t) : n;
	int params = -1;
	for (size_t i = 0; known_types[i].name; i++)
		if (strlen(known_types[i].name) == base &&
		    !strncmp(t, known_types[i].name, base))
			params = known_types[i].params;
	if (params < 0 || !paren)
		return params >= 0;
	const char *p = paren + 1;
	if (!params || !digits(&p, 1))
		return false;
	if (params == 2 && *p == ',' && (p++, !digits(&p, 0)))
		return false;
	return *p == ')' && p + 1 == t + n;
}

static int walk_type(struct loader *ld, const yaml_node_t *n, char **out)
{
	const char *s;
	int rc = scalar(ld, n, "'type'", &s);
	if (rc || !s)
		return rc;
	char *t = mig_type_normalize(s);
	if (known_type(t)) {
		*out = t;
		return MIG_OK;
	}
	free(t);
	fail_at(ld, &n->start_mark, "unknown type '%s'", s);
	return mig_err_hint(ld->err, "%s", KNOWN_TYPES_HINT);
}

static int walk_column(struct loader *ld, const struct mig_table *t,
		       struct mig_column *c, const yaml_node_t *map)
{
	if (is_null(map))
		return MIG_OK;	/* the column must exist; nothing else is checked */
	char *where = xasprintf("in column '%s.%s'", t->name, c->name);
	int rc = expect(ld, map, YAML_MAPPING_NODE, "a column");
	if (rc)
		mig_err_hint(ld->err, "write a column as { type: varchar(36), nullable: false }");
	else
		rc = check_keys(ld, map, "key", where, column_keys);
	free(where);
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p), *s;
		const yaml_node_t *v = node(ld, p->value);
		if (!strcmp(k, "type")) {
			rc = walk_type(ld, v, &c->type);
		} else if (!strcmp(k, "nullable")) {
			rc = boolean(ld, v, "'nullable'", &c->nullable);
		} else if (!(rc = scalar(ld, v, "'default'", &s))) {
			c->has_default = true;	/* null: the column has no default */
			c->default_value = s ? xstrdup(s) : NULL;
		}
	}
	return rc;
}

static int walk_columns(struct loader *ld, struct mig_table *t,
			const yaml_node_t *map)
{
	if (is_null(map))
		return MIG_OK;
	int rc = expect(ld, map, YAML_MAPPING_NODE, "'columns'");
	if (rc)
		mig_err_hint(ld->err, "write columns as a mapping of names: "
			     "id: { type: integer }, or id: ~ to require only the name");
	else
		rc = check_keys(ld, map, "column", NULL, NULL);
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		struct mig_column *c = mig_table_add_column(t, key_text(ld, p));
		c->line = key_line(ld, p);
		rc = walk_column(ld, t, c, node(ld, p->value));
	}
	return rc;
}

/* A list of column names (or index expressions); null is an empty list. */
static int walk_names(struct loader *ld, const yaml_node_t *seq, const char *what,
		      struct mig_strv *out)
{
	if (is_null(seq))
		return MIG_OK;
	int rc = expect(ld, seq, YAML_SEQUENCE_NODE, what);
	if (rc && seq->type == YAML_SCALAR_NODE)
		return mig_err_hint(ld->err, "write a list, as in [%s]",
				    (const char *)seq->data.scalar.value);
	const yaml_node_item_t *i = seq->data.sequence.items.start;
	for (; !rc && i < seq->data.sequence.items.top; i++) {
		const char *s;
		rc = name(ld, node(ld, *i), "a column name", &s);
		if (!rc)
			strv_push(out, s);
	}
	return rc;
}

/* ---- the walk: foreign keys ----------------------------------------------- */

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* "a, b" into out; false when a name is empty or holds a parenthesis. */
static bool split_columns(const char *s, size_t n, struct mig_strv *out)
{
	const char *end = s + n;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		char *col = trimmed(s, (size_t)(stop - s));
		if (!*col || strpbrk(col, "()")) {
			free(col);
			return false;
		}
		strv_push_owned(out, col);
		if (!comma)
			return true;
		s = comma + 1;
	}
}

static int walk_references(struct loader *ld, const yaml_node_t *n, struct mig_fk *f)
{
	const char *s;
	int rc = name(ld, n, "'references'", &s);
	if (rc)
		return rc;
	const char *open = strchr(s, '(');
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *table = open ? trimmed(s, (size_t)(open - s)) : NULL;
	if (table && *table && s[len - 1] == ')' &&
	    split_columns(open + 1, (size_t)(s + len - 1 - (open + 1)), &f->ref_columns)) {
		f->ref_table = table;
		return MIG_OK;
	}
	free(table);
	return fail(ld, &n->start_mark, "'references' must be table(column, ...), not '%s'",
		    s);
}

static char *lowercase(const char *s)
{
	char *lower = xstrdup(s);
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return lower;
}

static int walk_action(struct loader *ld, const yaml_node_t *n, const char *what,
		       char **out)
{
	const char *s;
	int rc = scalar(ld, n, what, &s);
	if (rc || !s)
		return rc;
	char *lower = lowercase(s);
	if (!in_list(actions, lower)) {
		free(lower);
		fail_at(ld, &n->start_mark, "unknown action '%s' for %s", s, what);
		return mig_err_hint(ld->err, "one of: cascade, set null, set default, "
				    "restrict, no action");
	}
	if (!strcmp(lower, "no action")) {	/* the default, stored as none */
		free(lower);
		lower = NULL;
	}
	*out = lower;
	return MIG_OK;
}

/* Remembers where 'references' was, for the --strict check at the end. */
static void push_ref(struct loader *ld, const yaml_node_t *n)
{
	if (ld->nrefs == ld->refs_cap) {
		ld->refs_cap = ld->refs_cap ? 2 * ld->refs_cap : 16;
		ld->refs = xrealloc(ld->refs, ld->refs_cap * sizeof(*ld->refs));
	}
	struct mig_table *t = &ld->out->tables[ld->out->ntables - 1];
	ld->refs[ld->nrefs++] = (struct ref_mark){
		ld->out->ntables - 1, t->nfks - 1, n->start_mark,
	};
}

static int walk_fk_keys(struct loader *ld, struct mig_fk *f, const yaml_node_t *map)
{
	int rc = MIG_OK;
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p);
		const yaml_node_t *v = node(ld, p->value);
		if (!strcmp(k, "columns"))
			rc = walk_names(ld, v, "'columns'", &f->columns);
		else if (!strcmp(k, "references") && !(rc = walk_references(ld, v, f)))
			push_ref(ld, v);
		else if (!strcmp(k, "on_delete"))
			rc = walk_action(ld, v, "'on_delete'", &f->on_delete);
		else if (!strcmp(k, "on_update"))
			rc = walk_action(ld, v, "'on_update'", &f->on_update);
	}
	return rc;
}

static int walk_fk(struct loader *ld, const struct mig_table *t, struct mig_fk *f,
		   const yaml_node_t *map)
{
	char *where = xasprintf("in a foreign key of table '%s'", t->name);
	int rc = expect(ld, map, YAML_MAPPING_NODE, "a foreign key");
	if (!rc)
		rc = check_keys(ld, map, "key", where, fk_keys);
	free(where);
	if (!rc)
		rc = walk_fk_keys(ld, f, map);
	if (rc)
		return rc;
	if (!f->columns.n || !f->ref_table) {
		fail_at(ld, &map->start_mark, "a foreign key needs 'columns' and 'references'");
		return mig_err_hint(ld->err, "as in { columns: [agent_id], references: agents(id) }");
	}
	if (f->columns.n != f->ref_columns.n)
		return fail(ld, &map->start_mark,
			    "the foreign key has %zu column%s but references %zu",
			    f->columns.n, f->columns.n == 1 ? "" : "s", f->ref_columns.n);
	return MIG_OK;
}

static int walk_fks(struct loader *ld, struct mig_table *t, const yaml_node_t *seq)
{
	if (is_null(seq))
		return MIG_OK;
	int rc = expect(ld, seq, YAML_SEQUENCE_NODE, "'foreign_keys'");
	const yaml_node_item_t *i = seq->data.sequence.items.start;
	for (; !rc && i < seq->data.sequence.items.top; i++) {
		const yaml_node_t *item = node(ld, *i);
		struct mig_fk *f = mig_table_add_fk(t);
		f->line = (int)item->start_mark.line + 1;
		rc = walk_fk(ld, t, f, item);
	}
	return rc;
}

/* ---- the walk: unique constraints, indexes, tables ------------------------- */

static int walk_uniques(struct loader *ld, struct mig_table *t, const yaml_node_t *seq)
{
	if (is_null(seq))
		return MIG_OK;
	int rc = expect(ld, seq, YAML_SEQUENCE_NODE, "'unique'");
	const yaml_node_item_t *i = seq->data.sequence.items.start;
	for (; !rc && i < seq->data.sequence.items.top; i++) {
		const yaml_node_t *item = node(ld, *i);
		struct mig_strv *u = mig_table_add_unique(t, (int)item->start_mark.line + 1);
		rc = expect(ld, item, YAML_SEQUENCE_NODE, "a unique constraint");
		if (rc && item->type == YAML_SCALAR_NODE)
			mig_err_hint(ld->err, "write each constraint as a list, as in - [%s]",
				     (const char *)item->data.scalar.value);
		if (!rc)
			rc = walk_names(ld, item, "a unique constraint", u);
		if (!rc && !u->n)
			rc = fail(ld, &item->start_mark, "a unique constraint needs a column");
	}
	return rc;
}

static int walk_index_keys(struct loader *ld, struct mig_index *x,
			   const yaml_node_t *map)
{
	int rc = MIG_OK;
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p), *s = NULL;
		const yaml_node_t *v = node(ld, p->value);
		if (!strcmp(k, "columns"))
			rc = walk_names(ld, v, "'columns'", &x->columns);
		else if (!strcmp(k, "unique"))
			rc = boolean(ld, v, "'unique'", &x->unique);
		else if (!(rc = scalar(ld, v, !strcmp(k, "where") ? "'where'" : "'method'",
				       &s)) && s) {
			if (!strcmp(k, "where"))
				x->where = xstrdup(s);
			else if (strcasecmp(s, "btree") != 0)	/* the default, stored as none */
				x->method = lowercase(s);
		}
	}
	return rc;
}

static int walk_indexes(struct loader *ld, struct mig_table *t, const yaml_node_t *map)
{
	if (is_null(map))
		return MIG_OK;
	int rc = expect(ld, map, YAML_MAPPING_NODE, "'indexes'");
	if (!rc)
		rc = check_keys(ld, map, "index", NULL, NULL);
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *v = node(ld, p->value);
		struct mig_index *x = mig_table_add_index(t, key_text(ld, p));
		x->line = key_line(ld, p);
		if (is_null(v))
			continue;	/* the index must exist */
		char *where = xasprintf("in index '%s'", x->name);
		rc = expect(ld, v, YAML_MAPPING_NODE, "an index");
		if (!rc)
			rc = check_keys(ld, v, "key", where, index_keys);
		free(where);
		if (!rc)
			rc = walk_index_keys(ld, x, v);
	}
	return rc;
}

static int walk_table(struct loader *ld, struct mig_table *t, const yaml_node_t *map)
{
	if (is_null(map))
		return MIG_OK;	/* the table must exist; nothing else is checked */
	char *where = xasprintf("in table '%s'", t->name);
	int rc = expect(ld, map, YAML_MAPPING_NODE, "a table");
	if (!rc)
		rc = check_keys(ld, map, "key", where, table_keys);
	free(where);
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p);
		const yaml_node_t *v = node(ld, p->value);
		if (!strcmp(k, "columns")) {
			rc = walk_columns(ld, t, v);
		} else if (!strcmp(k, "primary_key")) {
			t->has_primary_key = true;
			rc = walk_names(ld, v, "'primary_key'", &t->primary_key);
		} else if (!strcmp(k, "foreign_keys")) {
			t->has_fks = true;
			rc = walk_fks(ld, t, v);
		} else if (!strcmp(k, "unique")) {
			t->has_uniques = true;
			rc = walk_uniques(ld, t, v);
		} else {
			t->has_indexes = true;
			rc = walk_indexes(ld, t, v);
		}
	}
	return rc;
}

static int walk_tables(struct loader *ld, const yaml_node_t *map)
{
	if (is_null(map))
		return MIG_OK;
	int rc = expect(ld, map, YAML_MAPPING_NODE, "'tables'");
	if (!rc)
		rc = check_keys(ld, map, "table", NULL, NULL);
	const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	for (; !rc && p < map->data.mapping.pairs.top; p++) {
		struct mig_table *t = mig_schema_add_table(ld->out, key_text(ld, p));
		t->line = key_line(ld, p);
		rc = walk_table(ld, t, node(ld, p->value));
	}
	return rc;
}

static int walk_spec(struct loader *ld)
{
	const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	if (!root || is_null(root))
		return mig_err_set(ld->err, MIG_EINPUT, "%s: the spec is empty", ld->path);
	int rc = expect(ld, root, YAML_MAPPING_NODE, "the spec");
	if (!rc)
		rc = check_keys(ld, root, "key", "at the top level", top_keys);
	if (rc)
		return rc;
	const yaml_node_pair_t *p = root->data.mapping.pairs.start;
	if (p == root->data.mapping.pairs.top) {
		fail_at(ld, &root->start_mark, "the spec has no 'tables' key");
		return mig_err_hint(ld->err, "a spec starts with 'tables:'");
	}
	return walk_tables(ld, node(ld, p->value));
}

/* ---- --strict: foreign keys name tables of the spec ----------------------- */

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_references(struct loader *ld)
{
	const struct mig_schema *s = ld->out;
	const char **names = xcalloc(s->ntables, sizeof(*names));
	for (size_t i = 0; i < s->ntables; i++)
		names[i] = s->tables[i].name;
	qsort(names, s->ntables, sizeof(*names), cmp_strp);
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < ld->nrefs; i++) {
		const struct mig_table *t = &s->tables[ld->refs[i].table];
		const char *ref = t->fks[ld->refs[i].fk].ref_table;
		if (bsearch(&ref, names, s->ntables, sizeof(*names), cmp_strp))
			continue;
		fail_at(ld, &ld->refs[i].mark, "table '%s' references table '%s', "
		     "which the spec does not define", t->name, ref);
		rc = mig_err_hint(ld->err, "add it under tables ('%s: ~' requires only "
				  "that it exists), or check without --strict", ref);
	}
	free(names);
	return rc;
}

/*
 * Loads the spec at path into *out, which must be empty (zeroed).  Returns
 * 0, or MIG_EINPUT with "path:line:column: what" (1-based) and often a
 * hint, having released *out.  Files over 4 MiB and empty files are
 * refused as "path: what".  The caller releases *out with
 * mig_schema_release.
 */
int mig_spec_load(struct mig_schema *out, const char *path, bool strict,
		  struct mig_err *err)
{
	struct loader ld = { .path = path, .out = out, .err = err };
	char *text = NULL;
	int rc = read_spec(&ld, &text, &ld.len);
	ld.text = text;
	if (!rc)
		rc = first_pass(&ld);
	bool have_doc = false;
	if (!rc)
		have_doc = !(rc = load_tree(&ld));
	out->file = xstrdup(path);
	if (!rc)
		rc = walk_spec(&ld);
	if (!rc && strict)
		rc = check_references(&ld);
	if (have_doc)
		yaml_document_delete(&ld.doc);
	free(ld.refs);
	free(text);
	if (rc)
		mig_schema_release(out);
	return rc;
}
