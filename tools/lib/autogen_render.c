/*
 * autogen_render.c: the last stage of mig-new --autogenerate: each
 * operation written by each dialect's renderer (autogen_render.h), and the
 * sections of the file: SQL both dialects share at the start and the end in
 * plain sections, what lies between in one section per dialect.
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen_render.h"
#include "autogen_plan.h"
#include "autogen_sql.h"
#include "graph.h"
#include "mig.h"
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- what every dialect writes -------------------------------------------- */

static void put_column_def(struct mig_buf *b, const struct mig_column *c,
			   const struct ag_renderer *r)
{
	ag_put_ident(b, c->name);
	buf_putc(b, ' ');
	ag_put_type(b, c->type, r->types);
	if (!c->nullable)
		buf_puts(b, " NOT NULL");
	if (c->default_value) {
		buf_puts(b, " DEFAULT ");
		ag_put_default(b, c->default_value);
	}
}

static void put_action(struct mig_buf *b, const char *what, const char *action)
{
	if (!action)
		return;
	buf_printf(b, " %s ", what);
	for (const char *p = action; *p; p++)
		buf_putc(b, (char)toupper((unsigned char)*p));
}

void ag_put_fk(struct mig_buf *b, const struct mig_fk *f)
{
	buf_puts(b, "FOREIGN KEY ");
	ag_put_list(b, &f->columns, false);
	buf_puts(b, " REFERENCES ");
	ag_put_ident(b, f->ref_table);
	buf_putc(b, ' ');
	ag_put_list(b, &f->ref_columns, false);
	put_action(b, "ON DELETE", f->on_delete);
	put_action(b, "ON UPDATE", f->on_update);
}

static void put_index(struct mig_buf *b, const char *table, const struct mig_index *x,
		      const struct ag_renderer *r)
{
	buf_puts(b, x->unique == 1 ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	ag_put_ident(b, x->name);
	buf_puts(b, " ON ");
	ag_put_ident(b, table);
	if (x->method && r->index_methods)
		buf_printf(b, " USING %s", x->method);
	buf_putc(b, ' ');
	ag_put_list(b, &x->columns, true);
	if (x->where)
		buf_printf(b, " WHERE %s", x->where);
	buf_puts(b, ";\n");
}

/* CREATE TABLE name, with t's columns and keys, then t's indexes. */
void ag_put_create_table(struct mig_buf *b, const struct mig_table *t,
			     const char *name, const struct ag_renderer *r)
{
	buf_puts(b, "CREATE TABLE ");
	ag_put_ident(b, name);
	buf_puts(b, " (");
	for (size_t i = 0; i < t->ncolumns; i++) {
		buf_puts(b, i ? ",\n  " : "\n  ");
		put_column_def(b, &t->columns[i], r);
	}
	if (t->primary_key.n) {
		buf_puts(b, ",\n  PRIMARY KEY ");
		ag_put_list(b, &t->primary_key, false);
	}
	for (size_t i = 0; i < t->nfks; i++) {
		buf_puts(b, ",\n  ");
		ag_put_fk(b, &t->fks[i]);
	}
	for (size_t i = 0; i < t->nuniques; i++) {
		buf_puts(b, ",\n  UNIQUE ");
		ag_put_list(b, &t->uniques[i], false);
	}
	buf_puts(b, "\n);\n");
}

void ag_put_indexes(struct mig_buf *b, const struct mig_table *t, const struct ag_renderer *r)
{
	for (size_t i = 0; i < t->nindexes; i++)
		put_index(b, t->name, &t->indexes[i], r);
}

void ag_alter_table(struct mig_buf *b, const char *table)
{
	buf_puts(b, "ALTER TABLE ");
	ag_put_ident(b, table);
	buf_putc(b, ' ');
}

/* ---- the operations both dialects write alike ---------------------------- */

void ag_render_create_table(struct mig_buf *b, const struct ag_op *o,
			    const struct ag_renderer *r)
{
	ag_put_create_table(b, o->a, o->a->name, r);
	ag_put_indexes(b, o->a, r);
}

void ag_render_drop_table(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r)
{
	(void)r;
	buf_puts(b, "DROP TABLE ");
	ag_put_ident(b, o->table);
	buf_puts(b, ";\n");
}

void ag_render_add_column(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r)
{
	ag_alter_table(b, o->table);
	buf_puts(b, "ADD COLUMN ");
	put_column_def(b, o->col, r);
	buf_puts(b, ";\n");
}

void ag_render_drop_column(struct mig_buf *b, const struct ag_op *o,
			   const struct ag_renderer *r)
{
	(void)r;
	ag_alter_table(b, o->table);
	buf_puts(b, "DROP COLUMN ");
	ag_put_ident(b, o->col->name);
	buf_puts(b, ";\n");
}

void ag_render_create_index(struct mig_buf *b, const struct ag_op *o,
			    const struct ag_renderer *r)
{
	put_index(b, o->table, o->index, r);
}

void ag_render_drop_index(struct mig_buf *b, const struct ag_op *o,
			  const struct ag_renderer *r)
{
	(void)r;
	buf_puts(b, "DROP INDEX ");
	ag_put_ident(b, o->index->name);
	buf_puts(b, ";\n");
}

/* The SQL of o for r's dialect ("" when o is not written for it). */
static void render_op(struct mig_buf *b, const struct ag_op *o, const struct ag_renderer *r)
{
	if ((o->on & r->on) && r->op[o->kind])
		r->op[o->kind](b, o, r);
}

/* ---- the sections ------------------------------------------------------- */

/* The SQL of one direction: a piece per operation, a text per dialect
 * (sql[d][i] is dialect d's text of piece i). */
struct pieces {
	const struct ag_dialects *dialects;
	char ***sql;
	size_t n, cap;
};

/* Takes each dialect's text in bufs as the next piece, unless all are empty. */
static void add_piece(struct pieces *p, struct mig_buf *bufs)
{
	size_t nd = p->dialects->n;
	bool any = false;
	for (size_t d = 0; d < nd; d++)
		any = any || bufs[d].len;
	if (!any)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		for (size_t d = 0; d < nd; d++)
			p->sql[d] = xrealloc(p->sql[d], p->cap * sizeof(*p->sql[d]));
	}
	for (size_t d = 0; d < nd; d++)
		p->sql[d][p->n] = buf_detach(&bufs[d]);
	p->n++;
}

/* Every dialect writes piece i, and writes it alike. */
static bool shared(const struct pieces *p, size_t i)
{
	if (!*p->sql[0][i])
		return false;
	for (size_t d = 1; d < p->dialects->n; d++)
		if (strcmp(p->sql[0][i], p->sql[d][i]) != 0)
			return false;
	return true;
}

/* Pieces [from, to) of one dialect as a section (none when all are empty). */
static void section(struct mig_buf *out, const char *dir, const char *dialect,
		    char **sql, size_t from, size_t to)
{
	bool open = false;
	for (size_t i = from; i < to; i++) {
		if (!*sql[i])
			continue;
		if (!open)
			buf_printf(out, "%s-- +%s%s%s\n", out->len ? "\n" : "", dir,
				   dialect ? " " : "", dialect ? dialect : "");
		else
			buf_putc(out, '\n');
		buf_puts(out, sql[i]);
		open = true;
	}
}

/* SQL that every dialect shares at the start and at the end goes in plain
 * sections; what lies between, in one section for each dialect, so that
 * each reads as a whole. */
static void write_pieces(struct mig_buf *out, const char *dir, const struct pieces *p)
{
	size_t head = 0, tail = p->n;
	while (head < p->n && shared(p, head))
		head++;
	while (tail > head && shared(p, tail - 1))
		tail--;
	section(out, dir, NULL, p->sql[0], 0, head);
	for (size_t d = 0; d < p->dialects->n; d++)
		section(out, dir, p->dialects->v[d]->name, p->sql[d], head, tail);
	section(out, dir, NULL, p->sql[0], tail, p->n);
}

void ag_write_direction(const struct ag_run *ag, const struct ag_dialects *dialects,
			struct mig_buf *out, bool up)
{
	size_t nd = dialects->n;
	const struct ag_renderer *const *r = dialects->v;
	struct pieces p = { .dialects = dialects, .sql = xcalloc(nd, sizeof(char **)) };
	struct mig_buf *bufs = xcalloc(nd, sizeof(*bufs));
	for (size_t d = 0; d < nd; d++)
		if (r[d]->begin)
			r[d]->begin(&bufs[d], ag, up);
	add_piece(&p, bufs);
	for (size_t k = 0; k < ag->nops; k++) {
		struct ag_op o = up ? ag->ops[k] : ag_inverse(&ag->ops[ag->nops - 1 - k]);
		for (size_t d = 0; d < nd; d++)
			render_op(&bufs[d], &o, r[d]);
		add_piece(&p, bufs);
	}
	for (size_t d = 0; d < nd; d++)
		if (r[d]->end)
			r[d]->end(&bufs[d], ag, up);
	add_piece(&p, bufs);
	write_pieces(out, up ? "upgrade" : "downgrade", &p);
	for (size_t d = 0; d < nd; d++) {
		for (size_t i = 0; i < p.n; i++)
			free(p.sql[d][i]);
		free(p.sql[d]);
		buf_release(&bufs[d]);
	}
	free(p.sql);
	free(bufs);
}

/* The header comment: where the migration comes from and what it does.
 * No line may read as a header key ("-- word:"), hence the capitals. */
char *ag_write_comment(const struct ag_run *ag)
{
	const struct mig_graph *g = ag->g;
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "--\n-- Generated by mig-new --autogenerate; review it before committing.\n");
	if (g->nheads)
		buf_printf(&b, "-- From: the migrations up to %s\n", g->revs[g->heads[0]].id);
	else
		buf_puts(&b, "-- From: no migrations (an empty database)\n");
	buf_printf(&b, "-- To:   %s\n-- Changes:\n", ag->spec);
	for (size_t i = 0; i < ag->out->changes.n; i++)
		buf_printf(&b, "--   - %s\n", ag->out->changes.v[i]);
	if (ag->out->destructive.n) {
		buf_puts(&b, "--\n-- WARNING: written with --allow-destructive.  These changes destroy\n"
			 "-- data, and their downgrade brings back the schema, not the data:\n");
		for (size_t i = 0; i < ag->out->destructive.n; i++)
			buf_printf(&b, "--   - %s\n", ag->out->destructive.v[i]);
	}
	return buf_detach(&b);
}
