/*
 * autogen_sql.c: the SQL text both of mig-new --autogenerate's renderers
 * write (autogen_sql.h): names quoted only where needed, literals, column
 * lists, types by each dialect's names, defaults; and what the types and
 * defaults mean to the safety check (widening, constant defaults).
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen_sql.h"
#include "db.h"
#include "mig.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- SQL text --------------------------------------------------------------- */

/* Words either dialect reserves (PostgreSQL's reserved keywords and the
 * SQLite keywords that cannot name a column), sorted for bsearch. */
static const char *const reserved[] = {
	"add", "all", "alter", "analyse", "analyze", "and", "any", "array", "as",
	"asc", "asymmetric", "authorization", "autoincrement", "between", "binary",
	"both", "case", "cast", "check", "collate", "collation", "column", "commit",
	"concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time",
	"current_timestamp", "current_user", "default", "deferrable", "delete",
	"desc", "distinct", "do", "drop", "else", "end", "escape", "except",
	"exists", "false", "fetch", "for", "foreign", "freeze", "from", "full",
	"grant", "group", "having", "if", "ilike", "in", "index", "initially",
	"inner", "insert", "intersect", "into", "is", "isnull", "join", "lateral",
	"leading", "left", "like", "limit", "localtime", "localtimestamp",
	"natural", "not", "nothing", "notnull", "null", "offset", "on", "only",
	"or", "order", "outer", "overlaps", "placing", "primary", "raise",
	"references", "returning", "right", "rollback", "select", "session_user",
	"set", "similar", "some", "symmetric", "table", "tablesample", "then",
	"to", "trailing", "transaction", "true", "union", "unique", "update",
	"user", "using", "values", "variadic", "verbose", "when", "where",
	"window", "with",
};

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* A name both dialects read unquoted as itself: lowercase, not reserved. */
static bool plain_name(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	return !bsearch(s, reserved, sizeof(reserved) / sizeof(reserved[0]),
			sizeof(reserved[0]), cmp_word);
}

void ag_put_ident(struct mig_buf *b, const char *name)
{
	if (plain_name(name))
		buf_puts(b, name);
	else
		mig_quote_ident(b, name);
}

/* An index key: a column name, or an expression written as it is. */
static void put_key(struct mig_buf *b, const char *key)
{
	bool name = isalpha((unsigned char)*key) || *key == '_';
	for (const char *p = key; name && *p; p++)
		name = isalnum((unsigned char)*p) || *p == '_' || *p == '$';
	if (name)
		ag_put_ident(b, key);
	else
		buf_puts(b, key);
}

void ag_put_list(struct mig_buf *b, const struct mig_strv *cols, bool keys)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < cols->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (keys)
			put_key(b, cols->v[i]);
		else
			ag_put_ident(b, cols->v[i]);
	}
	buf_putc(b, ')');
}

/* ---- types --------------------------------------------------------------------- */

/* A canonical type taken apart: "numeric(20,2)[]" is numeric, 20, 2, array. */
struct type {
	char base[32];
	long p, s;		/* -1 when not given */
	bool array;
};

static void parse_type(const char *t, struct type *out)
{
	size_t n = strcspn(t, "([");
	snprintf(out->base, sizeof(out->base), "%.*s", (int)n, t);
	out->p = out->s = -1;
	out->array = strstr(t, "[]") != NULL;
	if (t[n] == '(') {
		char *end;
		out->p = strtol(t + n + 1, &end, 10);
		if (*end == ',')
			out->s = strtol(end + 1, NULL, 10);
	}
}

void ag_put_type(struct mig_buf *b, const char *canonical, const struct ag_type_name *names)
{
	struct type t;
	parse_type(canonical, &t);
	const char *sql = NULL;
	for (size_t i = 0; !sql && names[i].canonical; i++)
		if (!strcmp(names[i].canonical, t.base))
			sql = names[i].sql;
	if (sql)
		buf_puts(b, sql);
	else	/* a type outside the spec's list, read from a migration */
		for (const char *p = t.base; *p; p++)
			buf_putc(b, (char)toupper((unsigned char)*p));
	if (t.p >= 0 && t.s >= 0)
		buf_printf(b, "(%ld, %ld)", t.p, t.s);
	else if (t.p >= 0)
		buf_printf(b, "(%ld)", t.p);
	if (t.array)
		buf_puts(b, "[]");
}

static bool is(const struct type *t, const char *base)
{
	return !strcmp(t->base, base);
}

static bool stringy(const struct type *t)
{
	return !t->array && (is(t, "varchar") || is(t, "char") || is(t, "text"));
}

/* Decimal digits an integer type holds, 0 for other types. */
static long int_digits(const struct type *t)
{
	if (t->array)
		return 0;
	return is(t, "smallint") ? 5 : is(t, "integer") ? 10 : is(t, "bigint") ? 19 : 0;
}

static bool numeric_widens(const struct type *a, const struct type *b)
{
	if (b->p < 0)
		return true;	/* numeric without a precision holds anything */
	long ai = int_digits(a);
	long a_int = ai ? ai : a->p < 0 ? -1 : a->p - (a->s < 0 ? 0 : a->s);
	long a_scale = ai ? 0 : a->s < 0 ? 0 : a->s;
	long b_scale = b->s < 0 ? 0 : b->s;
	return a_int >= 0 && b->p - b_scale >= a_int && b_scale >= a_scale;
}

/* True when every value of type from is a value of type to, unchanged. */
bool ag_type_widens(const char *from, const char *to)
{
	struct type a, b;
	parse_type(from, &a);
	parse_type(to, &b);
	if (!strcmp(from, to) || (is(&b, "text") && !b.array && !a.array && !is(&a, "bytea")))
		return true;	/* bytea as text is its hex, not its bytes */
	if (a.array || b.array)
		return false;
	if (stringy(&a) && (is(&b, "varchar") || is(&b, "char")) && !is(&a, "text"))
		return b.p < 0 || (a.p >= 0 && b.p >= a.p);
	if ((int_digits(&a) || is(&a, "numeric")) && is(&b, "numeric"))
		return numeric_widens(&a, &b);
	if (int_digits(&a) && int_digits(&b))
		return int_digits(&b) >= int_digits(&a);
	if (is(&b, "float"))
		return is(&a, "real") || is(&a, "smallint") || is(&a, "integer");
	if (is(&b, "real"))
		return is(&a, "smallint");
	if (is(&a, "timestamp") || is(&a, "timestamptz") || is(&a, "date"))
		return is(&b, "timestamp") || is(&b, "timestamptz");
	return is(&a, "jsonb") && is(&b, "json");
}

/* PostgreSQL converts within these families by assignment; anything else
 * needs ALTER ... TYPE ... USING col::type.  A cast to a string type is
 * left implicit so that a value too long fails instead of being cut. */
bool ag_needs_using(const char *from, const char *to)
{
	struct type a, b;
	parse_type(from, &a);
	parse_type(to, &b);
	if (stringy(&b) || !strcmp(a.base, b.base))
		return a.array != b.array;
	bool a_num = int_digits(&a) || is(&a, "numeric") || is(&a, "real") || is(&a, "float");
	bool b_num = int_digits(&b) || is(&b, "numeric") || is(&b, "real") || is(&b, "float");
	bool a_ts = is(&a, "timestamp") || is(&a, "timestamptz") || is(&a, "date");
	bool b_ts = is(&b, "timestamp") || is(&b, "timestamptz") || is(&b, "date");
	return a.array || b.array || !((a_num && b_num) || (a_ts && b_ts));
}

/* ---- defaults ---------------------------------------------------------------- */

static bool ci_in(const char *s, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static bool number_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t digits = strspn(s, "0123456789");
	if (s[digits] == '.')
		digits += 1 + strspn(s + digits + 1, "0123456789");
	return digits && !s[digits];
}

/* A value SQLite's ALTER TABLE ADD COLUMN accepts as a default. */
bool ag_constant_default(const char *d)
{
	static const char *const words[] = { "null", "true", "false", NULL };
	return (d[0] == '\'' && d[strlen(d) - 1] == '\'') || number_text(d) || ci_in(d, words);
}

/* Literals stand alone after DEFAULT; other expressions go in parentheses,
 * which SQLite requires and PostgreSQL accepts. */
void ag_put_default(struct mig_buf *b, const char *d)
{
	static const char *const words[] = {
		"current_timestamp", "current_date", "current_time", NULL,
	};
	if (ag_constant_default(d) || ci_in(d, words))
		buf_puts(b, d);
	else
		buf_printf(b, "(%s)", d);
}

/* Defaults compared as introspection normalizes them: no enclosing
 * parentheses, keywords in lowercase. */
static char *default_key(const char *d)
{
	if (!d)
		return NULL;
	char *k = xstrdup(d);
	size_t n = strlen(k);
	while (n >= 2 && k[0] == '(' && k[n - 1] == ')') {
		memmove(k, k + 1, n - 2);
		k[n -= 2] = '\0';
	}
	if (k[0] != '\'')
		for (char *p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return k;
}

bool ag_same_default(const char *a, const char *b)
{
	char *x = default_key(a), *y = default_key(b);
	bool same = (!x && !y) || (x && y && !strcmp(x, y));
	free(x);
	free(y);
	return same;
}
