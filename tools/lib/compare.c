/*
 * compare.c: differences between two schema models, one finding each with
 * a path such as "agent_services.agent_id", and the foreign-key type rule.
 *
 * One walk serves two callers: a live database against a spec (partial
 * unless strict; findings point at the spec's lines, "spec says") and a
 * live database against the schema it should have (round trip, stamp;
 * everything counts, "expected").
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"

#include <stdlib.h>
#include <string.h>

struct cmp {
	const struct mig_schema *live, *want;
	bool strict;
	const char *says;	/* "spec says" or "expected" */
	const char *file;	/* the spec, or NULL */
	struct mig_findings *out;
};

#define FIND(c, code, line, ...) \
	mig_findings_add((c)->out, MIG_SEV_ERROR, code, (c)->file, line, NULL, __VA_ARGS__)

static char *list(const struct mig_strv *sv)
{
	char *j = strv_join(sv, ", ");
	char *s = xasprintf("(%s)", j);
	free(j);
	return s;
}

static bool same_list(const struct mig_strv *a, const struct mig_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void compare_column(struct cmp *c, const struct mig_table *t,
			   const struct mig_column *have, const struct mig_column *want)
{
	if (want->type && strcmp(have->type, want->type) != 0)
		FIND(c, "type", want->line, "%s.%s: type is %s, %s %s", t->name,
		     have->name, have->type, c->says, want->type);
	if (want->nullable >= 0 && have->nullable != want->nullable)
		FIND(c, "nullable", want->line, "%s.%s: column is %s, %s %s", t->name,
		     have->name, have->nullable ? "nullable" : "NOT NULL", c->says,
		     want->nullable ? "nullable" : "NOT NULL");
	if (want->has_default && !same_str(have->default_value, want->default_value))
		FIND(c, "default", want->line, "%s.%s: default is %s, %s %s", t->name,
		     have->name, have->default_value ? have->default_value : "none",
		     c->says, want->default_value ? want->default_value : "none");
}

static void compare_columns(struct cmp *c, const struct mig_table *have,
			    const struct mig_table *want)
{
	for (size_t i = 0; i < want->ncolumns; i++) {
		const struct mig_column *w = &want->columns[i];
		const struct mig_column *h = mig_table_find_column(have, w->name);
		if (!h)
			FIND(c, "missing-column", w->line, "%s.%s: column is missing",
			     want->name, w->name);
		else
			compare_column(c, have, h, w);
	}
	for (size_t i = 0; c->strict && i < have->ncolumns; i++)
		if (!mig_table_find_column(want, have->columns[i].name))
			FIND(c, "extra-column", want->line, "%s.%s: column is not %s",
			     have->name, have->columns[i].name,
			     c->file ? "in the spec" : "expected");
}

static const struct mig_fk *find_fk(const struct mig_table *t, const struct mig_fk *f)
{
	for (size_t i = 0; i < t->nfks; i++)
		if (same_list(&t->fks[i].columns, &f->columns) &&
		    same_str(t->fks[i].ref_table, f->ref_table) &&
		    (!f->ref_columns.n || same_list(&t->fks[i].ref_columns, &f->ref_columns)))
			return &t->fks[i];
	return NULL;
}

static void compare_fks(struct cmp *c, const struct mig_table *have,
			const struct mig_table *want)
{
	for (size_t i = 0; i < want->nfks; i++) {
		const struct mig_fk *w = &want->fks[i], *h = find_fk(have, w);
		char *cols = list(&w->columns), *refs = list(&w->ref_columns);
		if (!h)
			FIND(c, "missing-foreign-key", w->line, "%s: foreign key %s -> %s%s "
			     "is missing", want->name, cols, w->ref_table, refs);
		else if (!same_str(h->on_delete, w->on_delete))
			FIND(c, "on-delete", w->line, "%s: foreign key %s on_delete is %s, "
			     "%s %s", want->name, cols, h->on_delete ? h->on_delete : "no action",
			     c->says, w->on_delete ? w->on_delete : "no action");
		else if (!same_str(h->on_update, w->on_update))
			FIND(c, "on-update", w->line, "%s: foreign key %s on_update is %s, "
			     "%s %s", want->name, cols, h->on_update ? h->on_update : "no action",
			     c->says, w->on_update ? w->on_update : "no action");
		free(cols);
		free(refs);
	}
	for (size_t i = 0; c->strict && i < have->nfks; i++) {
		if (find_fk(want, &have->fks[i]))
			continue;
		char *cols = list(&have->fks[i].columns);
		FIND(c, "extra-foreign-key", want->line, "%s: foreign key %s -> %s is not %s",
		     have->name, cols, have->fks[i].ref_table,
		     c->file ? "in the spec" : "expected");
		free(cols);
	}
}

static bool has_unique(const struct mig_table *t, const struct mig_strv *cols)
{
	for (size_t i = 0; i < t->nuniques; i++)
		if (same_list(&t->uniques[i], cols))
			return true;
	return false;
}

static void compare_uniques(struct cmp *c, const struct mig_table *have,
			    const struct mig_table *want)
{
	for (size_t i = 0; i < want->nuniques; i++) {
		if (has_unique(have, &want->uniques[i]))
			continue;
		char *cols = list(&want->uniques[i]);
		FIND(c, "missing-unique", want->unique_lines[i], "%s: unique constraint %s "
		     "is missing", want->name, cols);
		free(cols);
	}
	for (size_t i = 0; c->strict && i < have->nuniques; i++) {
		if (has_unique(want, &have->uniques[i]))
			continue;
		char *cols = list(&have->uniques[i]);
		FIND(c, "extra-unique", want->line, "%s: unique constraint %s is not %s",
		     have->name, cols, c->file ? "in the spec" : "expected");
		free(cols);
	}
}

static const struct mig_index *find_index(const struct mig_table *t, const char *name)
{
	for (size_t i = 0; i < t->nindexes; i++)
		if (!strcmp(t->indexes[i].name, name))
			return &t->indexes[i];
	return NULL;
}

static void compare_index(struct cmp *c, const struct mig_table *t,
			  const struct mig_index *h, const struct mig_index *w)
{
	if (w->columns.n && !same_list(&h->columns, &w->columns)) {
		char *a = list(&h->columns), *b = list(&w->columns);
		FIND(c, "index-columns", w->line, "%s: index %s is on %s, %s %s", t->name,
		     w->name, a, c->says, b);
		free(a);
		free(b);
	}
	if (w->unique >= 0 && h->unique != w->unique)
		FIND(c, "index-unique", w->line, "%s: index %s is %sunique, %s %sunique",
		     t->name, w->name, h->unique ? "" : "not ", c->says,
		     w->unique ? "" : "not ");
	if ((w->method || !c->file) && !same_str(h->method, w->method))
		FIND(c, "index-method", w->line, "%s: index %s uses %s, %s %s", t->name,
		     w->name, h->method ? h->method : "btree", c->says,
		     w->method ? w->method : "btree");
	if ((w->where || !c->file) && !same_str(h->where, w->where))
		FIND(c, "index-where", w->line, "%s: index %s is %s, %s %s", t->name,
		     w->name, h->where ? h->where : "not partial", c->says,
		     w->where ? w->where : "not partial");
}

static void compare_indexes(struct cmp *c, const struct mig_table *have,
			    const struct mig_table *want)
{
	for (size_t i = 0; i < want->nindexes; i++) {
		const struct mig_index *w = &want->indexes[i];
		const struct mig_index *h = find_index(have, w->name);
		if (!h)
			FIND(c, "missing-index", w->line, "%s: index %s is missing",
			     want->name, w->name);
		else
			compare_index(c, have, h, w);
	}
	for (size_t i = 0; c->strict && i < have->nindexes; i++)
		if (!find_index(want, have->indexes[i].name))
			FIND(c, "extra-index", want->line, "%s: index %s is not %s",
			     have->name, have->indexes[i].name,
			     c->file ? "in the spec" : "expected");
}

static void compare_table(struct cmp *c, const struct mig_table *have,
			  const struct mig_table *want)
{
	compare_columns(c, have, want);
	if ((want->has_primary_key || c->strict) &&
	    !same_list(&have->primary_key, &want->primary_key)) {
		char *a = list(&have->primary_key), *b = list(&want->primary_key);
		FIND(c, "primary-key", want->line, "%s: primary key is %s, %s %s",
		     want->name, have->primary_key.n ? a : "none", c->says,
		     want->primary_key.n ? b : "none");
		free(a);
		free(b);
	}
	if (want->has_fks || c->strict)
		compare_fks(c, have, want);
	if (want->has_uniques || c->strict)
		compare_uniques(c, have, want);
	if (want->has_indexes || c->strict)
		compare_indexes(c, have, want);
}

static void compare_all(struct cmp *c)
{
	for (size_t i = 0; i < c->want->ntables; i++) {
		const struct mig_table *w = &c->want->tables[i];
		const struct mig_table *h = mig_schema_find(c->live, w->name);
		if (!h)
			FIND(c, "missing-table", w->line, "%s: table is missing", w->name);
		else
			compare_table(c, h, w);
	}
	for (size_t i = 0; c->strict && i < c->live->ntables; i++)
		if (!mig_schema_find(c->want, c->live->tables[i].name))
			FIND(c, "extra-table", 0, "%s: table is not %s",
			     c->live->tables[i].name, c->file ? "in the spec" : "expected");
}

void mig_schema_compare(const struct mig_schema *live, const struct mig_schema *spec,
			bool strict, struct mig_findings *out)
{
	struct cmp c = { live, spec, strict, "spec says", spec->file, out };
	compare_all(&c);
}

void mig_schema_diff(const struct mig_schema *expected, const struct mig_schema *actual,
		     struct mig_findings *out)
{
	struct cmp c = { actual, expected, true, "expected", NULL, out };
	compare_all(&c);
}

void mig_schema_check_fk_types(const struct mig_schema *live,
			       struct mig_findings *out)
{
	for (size_t i = 0; i < live->ntables; i++) {
		const struct mig_table *t = &live->tables[i];
		for (size_t f = 0; f < t->nfks; f++) {
			const struct mig_fk *fk = &t->fks[f];
			const struct mig_table *ref = mig_schema_find(live, fk->ref_table);
			for (size_t k = 0; ref && k < fk->columns.n && k < fk->ref_columns.n; k++) {
				const struct mig_column *a = mig_table_find_column(t, fk->columns.v[k]);
				const struct mig_column *b = mig_table_find_column(ref, fk->ref_columns.v[k]);
				if (!a || !b || !strcmp(a->type, b->type))
					continue;
				/* where the column was made, when the schema was
				 * built by replaying migrations (origins.h) */
				mig_findings_add(out, MIG_SEV_ERROR, "fk-type", a->from.file,
						 a->from.line,
						 "make both columns the same type; SQLite accepts "
						 "the mismatch, PostgreSQL refuses it (DatatypeMismatch)",
						 "%s.%s: type %s, but its foreign key references "
						 "%s.%s of type %s", t->name, a->name, a->type,
						 ref->name, b->name, b->type);
			}
		}
	}
}
