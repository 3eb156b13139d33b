/*
 * schema.c: the schema model shared by introspection, specs and every
 * comparison: building it, putting it in canonical order, and the type
 * normalization that makes SQLite's declared types and PostgreSQL's
 * catalog types read alike.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema.h"
#include "mig.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- types ---------------------------------------------------------------- */

/* Declared or catalog spellings and the canonical name they read as. */
static const struct {
	const char *spelling;
	const char *canonical;
} type_names[] = {
	{ "character varying", "varchar" },
	{ "varchar", "varchar" },
	{ "nvarchar", "varchar" },
	{ "character", "char" },
	{ "char", "char" },
	{ "nchar", "char" },
	{ "bpchar", "char" },
	{ "text", "text" },
	{ "clob", "text" },
	{ "integer", "integer" },
	{ "int", "integer" },
	{ "int4", "integer" },
	{ "mediumint", "integer" },
	{ "serial", "integer" },
	{ "bigint", "bigint" },
	{ "int8", "bigint" },
	{ "bigserial", "bigint" },
	{ "smallint", "smallint" },
	{ "int2", "smallint" },
	{ "tinyint", "smallint" },
	{ "smallserial", "smallint" },
	{ "double precision", "float" },
	{ "double", "float" },
	{ "float8", "float" },
	{ "float", "float" },
	{ "real", "real" },
	{ "float4", "real" },
	{ "numeric", "numeric" },
	{ "decimal", "numeric" },
	{ "boolean", "boolean" },
	{ "bool", "boolean" },
	{ "timestamp without time zone", "timestamp" },
	{ "timestamp", "timestamp" },
	{ "datetime", "timestamp" },
	{ "timestamp with time zone", "timestamptz" },
	{ "timestamptz", "timestamptz" },
	{ "date", "date" },
	{ "time without time zone", "time" },
	{ "time", "time" },
	{ "time with time zone", "timetz" },
	{ "timetz", "timetz" },
	{ "interval", "interval" },
	{ "json", "json" },
	{ "jsonb", "jsonb" },
	{ "uuid", "uuid" },
	{ "bytea", "bytea" },
	{ "blob", "bytea" },
	{ NULL, NULL },
};

/* Lowercase, single spaces, no spaces around ( , ). */
static char *squeeze(const char *type)
{
	struct mig_buf b = MIG_BUF_INIT;
	bool space = false;
	for (const char *p = type; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isspace(c)) {
			space = b.len > 0;
			continue;
		}
		if (space && c != '(' && c != ')' && c != ',' && c != '[' &&
		    b.s[b.len - 1] != '(' && b.s[b.len - 1] != ',')
			buf_putc(&b, ' ');
		space = false;
		buf_putc(&b, (char)tolower(c));
	}
	return buf_detach(&b);
}

static void buf_puts_scale0(struct mig_buf *b)
{
	b->len--;	/* before the ')' */
	buf_puts(b, ",0)");
}

char *mig_type_normalize(const char *type)
{
	char *t = squeeze(type ? type : "");
	size_t array = 0, n = strlen(t);
	while (n >= 2 && !strcmp(t + n - 2, "[]"))
		t[n -= 2] = '\0', array++;
	char *paren = strchr(t, '(');
	size_t base_len = paren ? (size_t)(paren - t) : n;
	const char *canon = NULL;
	/* "timestamp(6) with time zone": the zone words follow the precision */
	if (paren && strstr(paren, "with time zone"))
		canon = !strncmp(t, "timestamp", 9) ? (strstr(paren, "without") ? "timestamp"
			: "timestamptz") : (strstr(paren, "without") ? "time" : "timetz");
	for (size_t i = 0; !canon && type_names[i].spelling; i++) {
		const char *sp = type_names[i].spelling;
		if (strlen(sp) == base_len && !strncmp(t, sp, base_len))
			canon = type_names[i].canonical;
	}
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, canon ? canon : t);
	if (paren && (!canon || strcmp(canon, "float") != 0)) {
		const char *close = strchr(paren, ')');
		if (canon && (!strcmp(canon, "timestamp") || !strcmp(canon, "time") ||
			      !strcmp(canon, "timestamptz") || !strcmp(canon, "timetz")))
			close = NULL;	/* precision of times is not compared */
		else if (canon)
			buf_add(&b, paren, close ? (size_t)(close - paren + 1) : strlen(paren));
		/* PostgreSQL reports NUMERIC(p) as numeric(p,0) */
		if (canon && !strcmp(canon, "numeric") && close && !memchr(paren, ',', (size_t)(close - paren)))
			buf_puts_scale0(&b);
	}
	for (size_t i = 0; i < array; i++)
		buf_puts(&b, "[]");
	free(t);
	return buf_detach(&b);
}

/* ---- building ------------------------------------------------------------- */

/* Arrays grow by doubling (capacity is the next power of two of n), so that
 * a table of thousands of columns is built in linear time. */
static void *grow(void *v, size_t n, size_t size)
{
	if (n && (n & (n - 1)))
		return v;	/* room left below the next power of two */
	return xrealloc(v, (n ? n * 2 : 1) * size);
}

/* FNV-1a: table names are short, and a catalog of ten thousand tables must
 * not make every lookup walk the whole list. */
static size_t name_hash(const char *name)
{
	uint64_t h = 14695981039346656037u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	return (size_t)h;
}

static void index_insert(struct mig_schema *s, size_t pos)
{
	size_t mask = s->nslots - 1;
	size_t i = name_hash(s->tables[pos].name) & mask;
	while (s->slots[i])
		i = (i + 1) & mask;
	s->slots[i] = pos + 1;
}

/* Rebuilt in table order, so that of two tables of one name the first
 * added is found first, as a linear search would. */
static void index_rebuild(struct mig_schema *s, size_t nslots)
{
	free(s->slots);
	s->slots = xcalloc(nslots, sizeof(*s->slots));
	s->nslots = nslots;
	for (size_t i = 0; i < s->ntables; i++)
		index_insert(s, i);
}

struct mig_table *mig_schema_add_table(struct mig_schema *s, const char *name)
{
	s->tables = grow(s->tables, s->ntables, sizeof(*s->tables));
	struct mig_table *t = &s->tables[s->ntables++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	if (s->ntables * 2 > s->nslots)
		index_rebuild(s, s->nslots ? s->nslots * 2 : 16);
	else
		index_insert(s, s->ntables - 1);
	return t;
}

struct mig_table *mig_schema_find(const struct mig_schema *s, const char *name)
{
	if (!s->nslots)
		return NULL;
	size_t mask = s->nslots - 1;
	for (size_t i = name_hash(name) & mask; s->slots[i]; i = (i + 1) & mask)
		if (!strcmp(s->tables[s->slots[i] - 1].name, name))
			return &s->tables[s->slots[i] - 1];
	return NULL;
}

void mig_schema_remove_table(struct mig_schema *s, size_t i)
{
	struct mig_schema one = { .tables = xmalloc(sizeof(*s->tables)), .ntables = 1 };
	one.tables[0] = s->tables[i];
	memmove(&s->tables[i], &s->tables[i + 1], (s->ntables - i - 1) * sizeof(*s->tables));
	s->ntables--;
	mig_schema_release(&one);
	index_rebuild(s, s->nslots);
}

struct mig_column *mig_table_add_column(struct mig_table *t, const char *name)
{
	t->columns = grow(t->columns, t->ncolumns, sizeof(*t->columns));
	struct mig_column *c = &t->columns[t->ncolumns++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->nullable = -1;
	return c;
}

struct mig_column *mig_table_find_column(const struct mig_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncolumns; i++)
		if (!strcmp(t->columns[i].name, name))
			return &t->columns[i];
	return NULL;
}

const struct mig_fk *mig_table_find_fk(const struct mig_table *t, const struct mig_fk *f)
{
	for (size_t i = 0; i < t->nfks; i++) {
		const struct mig_fk *k = &t->fks[i];
		bool same_table = k->ref_table && f->ref_table ?
			!strcmp(k->ref_table, f->ref_table) : k->ref_table == f->ref_table;
		if (strv_equal(&k->columns, &f->columns) && same_table &&
		    (!f->ref_columns.n || strv_equal(&k->ref_columns, &f->ref_columns)))
			return k;
	}
	return NULL;
}

bool mig_table_has_unique(const struct mig_table *t, const struct mig_strv *cols)
{
	for (size_t i = 0; i < t->nuniques; i++)
		if (strv_equal(&t->uniques[i], cols))
			return true;
	return false;
}

const struct mig_index *mig_table_find_index(const struct mig_table *t, const char *name)
{
	for (size_t i = 0; i < t->nindexes; i++)
		if (!strcmp(t->indexes[i].name, name))
			return &t->indexes[i];
	return NULL;
}

struct mig_fk *mig_table_add_fk(struct mig_table *t)
{
	t->fks = grow(t->fks, t->nfks, sizeof(*t->fks));
	struct mig_fk *f = &t->fks[t->nfks++];
	memset(f, 0, sizeof(*f));
	t->has_fks = true;
	return f;
}

struct mig_index *mig_table_add_index(struct mig_table *t, const char *name)
{
	t->indexes = grow(t->indexes, t->nindexes, sizeof(*t->indexes));
	struct mig_index *x = &t->indexes[t->nindexes++];
	memset(x, 0, sizeof(*x));
	x->name = xstrdup(name);
	x->unique = -1;
	t->has_indexes = true;
	return x;
}

struct mig_strv *mig_table_add_unique(struct mig_table *t, int line)
{
	t->uniques = grow(t->uniques, t->nuniques, sizeof(*t->uniques));
	t->unique_lines = grow(t->unique_lines, t->nuniques, sizeof(*t->unique_lines));
	struct mig_strv *u = &t->uniques[t->nuniques];
	memset(u, 0, sizeof(*u));
	t->unique_lines[t->nuniques++] = line;
	t->has_uniques = true;
	return u;
}

/* ---- canonical order ------------------------------------------------------- */

static int strv_cmp(const struct mig_strv *a, const struct mig_strv *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int c = strcmp(a->v[i], b->v[i]);
		if (c)
			return c;
	}
	return (a->n > b->n) - (a->n < b->n);
}

static int cmp_table(const void *a, const void *b)
{
	return strcmp(((const struct mig_table *)a)->name,
		      ((const struct mig_table *)b)->name);
}

static int cmp_fk(const void *a, const void *b)
{
	const struct mig_fk *x = a, *y = b;
	int c = strv_cmp(&x->columns, &y->columns);
	return c ? c : strcmp(x->ref_table ? x->ref_table : "",
			      y->ref_table ? y->ref_table : "");
}

static int cmp_index(const void *a, const void *b)
{
	return strcmp(((const struct mig_index *)a)->name,
		      ((const struct mig_index *)b)->name);
}

static void sort_uniques(struct mig_table *t)
{
	for (size_t i = 1; i < t->nuniques; i++)	/* few: insertion sort */
		for (size_t j = i; j > 0 && strv_cmp(&t->uniques[j - 1], &t->uniques[j]) > 0; j--) {
			struct mig_strv u = t->uniques[j];
			int l = t->unique_lines[j];
			t->uniques[j] = t->uniques[j - 1];
			t->unique_lines[j] = t->unique_lines[j - 1];
			t->uniques[j - 1] = u;
			t->unique_lines[j - 1] = l;
		}
}

void mig_schema_sort(struct mig_schema *s)
{
	if (s->ntables > 1) {
		qsort(s->tables, s->ntables, sizeof(*s->tables), cmp_table);
		index_rebuild(s, s->nslots);
	}
	for (size_t i = 0; i < s->ntables; i++) {
		struct mig_table *t = &s->tables[i];
		if (t->nfks > 1)
			qsort(t->fks, t->nfks, sizeof(*t->fks), cmp_fk);
		if (t->nindexes > 1)
			qsort(t->indexes, t->nindexes, sizeof(*t->indexes), cmp_index);
		sort_uniques(t);
	}
}

void mig_schema_release(struct mig_schema *s)
{
	for (size_t i = 0; i < s->ntables; i++) {
		struct mig_table *t = &s->tables[i];
		for (size_t c = 0; c < t->ncolumns; c++) {
			free(t->columns[c].name);
			free(t->columns[c].type);
			free(t->columns[c].default_value);
			free(t->columns[c].from.file);
		}
		free(t->columns);
		strv_release(&t->primary_key);
		for (size_t f = 0; f < t->nfks; f++) {
			strv_release(&t->fks[f].columns);
			strv_release(&t->fks[f].ref_columns);
			free(t->fks[f].ref_table);
			free(t->fks[f].on_delete);
			free(t->fks[f].on_update);
		}
		free(t->fks);
		for (size_t u = 0; u < t->nuniques; u++)
			strv_release(&t->uniques[u]);
		free(t->uniques);
		free(t->unique_lines);
		for (size_t x = 0; x < t->nindexes; x++) {
			free(t->indexes[x].name);
			strv_release(&t->indexes[x].columns);
			free(t->indexes[x].method);
			free(t->indexes[x].where);
			free(t->indexes[x].from.file);
		}
		free(t->indexes);
		free(t->from.file);
		free(t->name);
	}
	free(s->tables);
	free(s->file);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
