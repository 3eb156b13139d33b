/*
 * compare.c: the changes between two schema models (diff.c), one finding
 * each with a path such as "agent_services.agent_id", and the foreign-key
 * type rule.
 *
 * It serves two callers: a live database against a spec (partial
 * unless strict; findings point at the spec's lines, "spec says") and a
 * live database against the schema it should have (round trip, stamp;
 * everything counts, "expected").  In the second, a finding about an
 * object of a model built by replaying migrations points where a migration
 * made it (its 'from', origins.h), and nowhere when that is not known.
 */
#define _POSIX_C_SOURCE 200809L
#include "compare.h"
#include "diff.h"
#include "findings.h"
#include "mig.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

struct cmp {
	const struct mig_schema *live, *want;
	bool strict;
	const char *says;	/* "spec says" or "expected" */
	const char *file;	/* the spec, or NULL */
	struct mig_findings *out;
	const struct mig_origin *at;	/* the finding's object's origin, or NULL */
};

#define FIND(c, code, ln, ...) \
	mig_findings_add((c)->out, MIG_SEV_ERROR, code, (c)->at ? (c)->at->file : (c)->file, \
			 (c)->at ? (c)->at->line : (ln), NULL, __VA_ARGS__)

/* The first of a, b, c that is a known place. */
static const struct mig_origin *known(const struct mig_origin *a, const struct mig_origin *b,
				      const struct mig_origin *c)
{
	if (a && a->file)
		return a;
	if (b && b->file)
		return b;
	return c && c->file ? c : NULL;
}

static const struct mig_origin *column_from(const struct mig_table *t, const struct mig_fk *fk)
{
	const struct mig_column *col = t && fk && fk->columns.n
				       ? mig_table_find_column(t, fk->columns.v[0]) : NULL;
	return col ? &col->from : NULL;
}

#define FROM(x) ((x) ? &(x)->from : NULL)

/* Where a migration made the object a change is about: the expected side's
 * object first, then the live side's, then their tables (an extra column of
 * the database, at the table the migrations made). */
static const struct mig_origin *origin_of(const struct mig_change *ch)
{
	const struct mig_table *t = ch->to, *f = ch->from;
	switch (ch->kind) {
	case MIG_COLUMN_ADDED:
	case MIG_COLUMN_ALTERED:
	case MIG_COLUMN_DROPPED:
		return known(FROM(ch->to_column), FROM(ch->from_column), known(FROM(t), FROM(f), NULL));
	case MIG_FK_ADDED:
	case MIG_FK_ALTERED:
	case MIG_FK_DROPPED:
		return known(column_from(t, ch->to_fk), column_from(f, ch->from_fk),
			     known(FROM(t), FROM(f), NULL));
	case MIG_INDEX_ADDED:
	case MIG_INDEX_ALTERED:
	case MIG_INDEX_DROPPED:
		return known(FROM(ch->to_index), FROM(ch->from_index), known(FROM(t), FROM(f), NULL));
	default:
		return known(FROM(t), FROM(f), NULL);
	}
}

static const char *or_none(const char *s, const char *none)
{
	return s ? s : none;
}

static void column_finding(struct cmp *c, const struct mig_change *ch)
{
	const char *t = ch->to->name, *col = ch->to_column->name;
	const struct mig_column *have = ch->from_column, *want = ch->to_column;
	int line = want->line;
	if (ch->altered & MIG_ALTERED_TYPE)
		FIND(c, "type", line, "%s.%s: type is %s, %s %s", t, col, have->type,
		     c->says, want->type);
	if (ch->altered & MIG_ALTERED_NULLABLE)
		FIND(c, "nullable", line, "%s.%s: column is %s, %s %s", t, col,
		     have->nullable ? "nullable" : "NOT NULL", c->says,
		     want->nullable ? "nullable" : "NOT NULL");
	if (ch->altered & MIG_ALTERED_DEFAULT)
		FIND(c, "default", line, "%s.%s: default is %s, %s %s", t, col,
		     or_none(have->default_value, "none"), c->says,
		     or_none(want->default_value, "none"));
}

static void fk_finding(struct cmp *c, const struct mig_change *ch)
{
	const struct mig_fk *h = ch->from_fk, *w = ch->to_fk;
	const char *t = ch->to->name;
	char *cols = strv_paren(&w->columns), *refs = strv_paren(&w->ref_columns);
	if (ch->kind == MIG_FK_ADDED)
		FIND(c, "missing-foreign-key", w->line, "%s: foreign key %s -> %s%s "
		     "is missing", t, cols, w->ref_table, refs);
	else if (ch->altered & MIG_ALTERED_ON_DELETE)
		FIND(c, "on-delete", w->line, "%s: foreign key %s on_delete is %s, "
		     "%s %s", t, cols, or_none(h->on_delete, "no action"), c->says,
		     or_none(w->on_delete, "no action"));
	else
		FIND(c, "on-update", w->line, "%s: foreign key %s on_update is %s, "
		     "%s %s", t, cols, or_none(h->on_update, "no action"), c->says,
		     or_none(w->on_update, "no action"));
	free(cols);
	free(refs);
}

static void index_finding(struct cmp *c, const struct mig_change *ch)
{
	const struct mig_index *h = ch->from_index, *w = ch->to_index;
	const char *t = ch->to->name;
	if (ch->altered & MIG_ALTERED_COLUMNS) {
		char *a = strv_paren(&h->columns), *b = strv_paren(&w->columns);
		FIND(c, "index-columns", w->line, "%s: index %s is on %s, %s %s", t,
		     w->name, a, c->says, b);
		free(a);
		free(b);
	}
	if (ch->altered & MIG_ALTERED_UNIQUE)
		FIND(c, "index-unique", w->line, "%s: index %s is %sunique, %s %sunique",
		     t, w->name, h->unique ? "" : "not ", c->says, w->unique ? "" : "not ");
	if (ch->altered & MIG_ALTERED_METHOD)
		FIND(c, "index-method", w->line, "%s: index %s uses %s, %s %s", t,
		     w->name, or_none(h->method, "btree"), c->says, or_none(w->method, "btree"));
	if (ch->altered & MIG_ALTERED_WHERE)
		FIND(c, "index-where", w->line, "%s: index %s is %s, %s %s", t, w->name,
		     or_none(h->where, "not partial"), c->says, or_none(w->where, "not partial"));
}

/* What only the live side has: "is not in the spec", "is not expected". */
static void extra_finding(struct cmp *c, const struct mig_change *ch, const char *absent)
{
	const char *t = ch->from->name;
	int line = ch->to ? ch->to->line : 0;
	char *cols = NULL;
	switch (ch->kind) {
	case MIG_TABLE_DROPPED:
		FIND(c, "extra-table", 0, "%s: table is not %s", t, absent);
		break;
	case MIG_COLUMN_DROPPED:
		FIND(c, "extra-column", line, "%s.%s: column is not %s", t,
		     ch->from_column->name, absent);
		break;
	case MIG_FK_DROPPED:
		cols = strv_paren(&ch->from_fk->columns);
		FIND(c, "extra-foreign-key", line, "%s: foreign key %s -> %s is not %s", t,
		     cols, ch->from_fk->ref_table, absent);
		break;
	case MIG_UNIQUE_DROPPED:
		cols = strv_paren(ch->from_unique);
		FIND(c, "extra-unique", line, "%s: unique constraint %s is not %s", t, cols,
		     absent);
		break;
	case MIG_INDEX_DROPPED:
		FIND(c, "extra-index", line, "%s: index %s is not %s", t,
		     ch->from_index->name, absent);
		break;
	default:
		break;
	}
	free(cols);
}

static void finding(struct cmp *c, const struct mig_change *ch)
{
	const char *absent = c->file ? "in the spec" : "expected";
	char *a = NULL, *b = NULL;
	c->at = c->file ? NULL : origin_of(ch);	/* a spec's findings: its lines */
	switch (ch->kind) {
	case MIG_TABLE_ADDED:
		FIND(c, "missing-table", ch->to->line, "%s: table is missing", ch->to->name);
		break;
	case MIG_COLUMN_ADDED:
		FIND(c, "missing-column", ch->to_column->line, "%s.%s: column is missing",
		     ch->to->name, ch->to_column->name);
		break;
	case MIG_COLUMN_ALTERED:
		column_finding(c, ch);
		break;
	case MIG_PRIMARY_KEY_CHANGED:
		a = strv_paren(&ch->from->primary_key);
		b = strv_paren(&ch->to->primary_key);
		FIND(c, "primary-key", ch->to->line, "%s: primary key is %s, %s %s",
		     ch->to->name, ch->from->primary_key.n ? a : "none", c->says,
		     ch->to->primary_key.n ? b : "none");
		break;
	case MIG_FK_ADDED:
	case MIG_FK_ALTERED:
		fk_finding(c, ch);
		break;
	case MIG_UNIQUE_ADDED:
		a = strv_paren(ch->to_unique);
		FIND(c, "missing-unique", ch->unique_line, "%s: unique constraint %s "
		     "is missing", ch->to->name, a);
		break;
	case MIG_INDEX_ADDED:
		FIND(c, "missing-index", ch->to_index->line, "%s: index %s is missing",
		     ch->to->name, ch->to_index->name);
		break;
	case MIG_INDEX_ALTERED:
		index_finding(c, ch);
		break;
	case MIG_TABLE_DROPPED:
	case MIG_COLUMN_DROPPED:
	case MIG_FK_DROPPED:
	case MIG_UNIQUE_DROPPED:
	case MIG_INDEX_DROPPED:
		extra_finding(c, ch, absent);
		break;
	}
	free(a);
	free(b);
}

/* One finding per change from live to want. */
static void compare_all(struct cmp *c)
{
	struct mig_changes changes = MIG_CHANGES_INIT;
	unsigned flags = (c->strict ? MIG_DIFF_ALL : 0) | (c->file ? MIG_DIFF_SPEC : 0);
	mig_schema_diff(c->live, c->want, flags, &changes);
	for (size_t i = 0; i < changes.n; i++)
		finding(c, &changes.v[i]);
	mig_changes_release(&changes);
}

void mig_schema_compare(const struct mig_schema *live, const struct mig_schema *spec,
			bool strict, struct mig_findings *out)
{
	struct cmp c = { live, spec, strict, "spec says", spec->file, out, NULL };
	compare_all(&c);
}

void mig_schema_compare_expected(const struct mig_schema *expected,
				 const struct mig_schema *actual, struct mig_findings *out)
{
	struct cmp c = { actual, expected, true, "expected", NULL, out, NULL };
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
