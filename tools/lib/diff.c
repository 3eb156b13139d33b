/*
 * diff.c: the one walk over two schema models (diff.h).  What counts as a
 * difference is decided here once; compare.c and autogen.c only say or do
 * something about each change.
 */
#include "diff.h"
#include "mig.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	unsigned flags;
	struct mig_changes *out;
	const struct mig_table *from, *to;
};

static bool same_str(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static struct mig_change *add(struct walk *w, enum mig_change_kind kind)
{
	struct mig_changes *c = w->out;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	struct mig_change *ch = &c->v[c->n++];
	*ch = (struct mig_change){ .kind = kind, .from = w->from, .to = w->to };
	return ch;
}

static unsigned column_altered(const struct mig_column *a, const struct mig_column *b)
{
	unsigned d = 0;
	if (b->type && strcmp(a->type, b->type) != 0)
		d |= MIG_ALTERED_TYPE;
	if (b->nullable >= 0 && a->nullable != b->nullable)
		d |= MIG_ALTERED_NULLABLE;
	if (b->has_default && !same_str(a->default_value, b->default_value))
		d |= MIG_ALTERED_DEFAULT;
	return d;
}

static void diff_columns(struct walk *w)
{
	for (size_t i = 0; i < w->to->ncolumns; i++) {
		const struct mig_column *b = &w->to->columns[i];
		const struct mig_column *a = mig_table_find_column(w->from, b->name);
		unsigned d = a ? column_altered(a, b) : 0;
		if (a && !d)
			continue;
		struct mig_change *ch = add(w, a ? MIG_COLUMN_ALTERED : MIG_COLUMN_ADDED);
		ch->from_column = a;
		ch->to_column = b;
		ch->altered = d;
	}
	for (size_t i = 0; (w->flags & MIG_DIFF_ALL) && i < w->from->ncolumns; i++)
		if (!mig_table_find_column(w->to, w->from->columns[i].name))
			add(w, MIG_COLUMN_DROPPED)->from_column = &w->from->columns[i];
}

static void diff_fks(struct walk *w)
{
	for (size_t i = 0; i < w->to->nfks; i++) {
		const struct mig_fk *b = &w->to->fks[i];
		const struct mig_fk *a = mig_table_find_fk(w->from, b);
		unsigned d = 0;
		if (a && !same_str(a->on_delete, b->on_delete))
			d |= MIG_ALTERED_ON_DELETE;
		if (a && !same_str(a->on_update, b->on_update))
			d |= MIG_ALTERED_ON_UPDATE;
		if (a && !d)
			continue;
		struct mig_change *ch = add(w, a ? MIG_FK_ALTERED : MIG_FK_ADDED);
		ch->from_fk = a;
		ch->to_fk = b;
		ch->altered = d;
	}
	for (size_t i = 0; (w->flags & MIG_DIFF_ALL) && i < w->from->nfks; i++)
		if (!mig_table_find_fk(w->to, &w->from->fks[i]))
			add(w, MIG_FK_DROPPED)->from_fk = &w->from->fks[i];
}

static void diff_uniques(struct walk *w)
{
	for (size_t i = 0; i < w->to->nuniques; i++)
		if (!mig_table_has_unique(w->from, &w->to->uniques[i])) {
			struct mig_change *ch = add(w, MIG_UNIQUE_ADDED);
			ch->to_unique = &w->to->uniques[i];
			ch->unique_line = w->to->unique_lines[i];
		}
	for (size_t i = 0; (w->flags & MIG_DIFF_ALL) && i < w->from->nuniques; i++)
		if (!mig_table_has_unique(w->to, &w->from->uniques[i]))
			add(w, MIG_UNIQUE_DROPPED)->from_unique = &w->from->uniques[i];
}

static unsigned index_altered(const struct walk *w, const struct mig_index *a,
			      const struct mig_index *b)
{
	bool spec = w->flags & MIG_DIFF_SPEC;
	unsigned d = 0;
	if (b->columns.n && !strv_equal(&a->columns, &b->columns))
		d |= MIG_ALTERED_COLUMNS;
	if (b->unique >= 0 && a->unique != b->unique)
		d |= MIG_ALTERED_UNIQUE;
	if ((b->method || !spec) && !same_str(a->method, b->method))
		d |= MIG_ALTERED_METHOD;
	if ((b->where || !spec) && !same_str(a->where, b->where))
		d |= MIG_ALTERED_WHERE;
	return d;
}

static void diff_indexes(struct walk *w)
{
	for (size_t i = 0; i < w->to->nindexes; i++) {
		const struct mig_index *b = &w->to->indexes[i];
		const struct mig_index *a = mig_table_find_index(w->from, b->name);
		unsigned d = a ? index_altered(w, a, b) : 0;
		if (a && !d)
			continue;
		struct mig_change *ch = add(w, a ? MIG_INDEX_ALTERED : MIG_INDEX_ADDED);
		ch->from_index = a;
		ch->to_index = b;
		ch->altered = d;
	}
	for (size_t i = 0; (w->flags & MIG_DIFF_ALL) && i < w->from->nindexes; i++)
		if (!mig_table_find_index(w->to, w->from->indexes[i].name))
			add(w, MIG_INDEX_DROPPED)->from_index = &w->from->indexes[i];
}

static void diff_table(struct walk *w)
{
	bool all = w->flags & MIG_DIFF_ALL;
	diff_columns(w);
	if ((w->to->has_primary_key || all) &&
	    !strv_equal(&w->from->primary_key, &w->to->primary_key))
		add(w, MIG_PRIMARY_KEY_CHANGED);
	if (w->to->has_fks || all)
		diff_fks(w);
	if (w->to->has_uniques || all)
		diff_uniques(w);
	if (w->to->has_indexes || all)
		diff_indexes(w);
}

void mig_schema_diff(const struct mig_schema *from, const struct mig_schema *to,
		     unsigned flags, struct mig_changes *out)
{
	struct walk w = { .flags = flags, .out = out };
	for (size_t i = 0; i < to->ntables; i++) {
		w.to = &to->tables[i];
		w.from = mig_schema_find(from, w.to->name);
		if (w.from)
			diff_table(&w);
		else
			add(&w, MIG_TABLE_ADDED);
	}
	w.to = NULL;
	for (size_t i = 0; (flags & MIG_DIFF_ALL) && i < from->ntables; i++) {
		w.from = &from->tables[i];
		if (!mig_schema_find(to, w.from->name))
			add(&w, MIG_TABLE_DROPPED);
	}
}

void mig_changes_release(struct mig_changes *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}
