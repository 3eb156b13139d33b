/*
 * autogen.c: mig-new --autogenerate.  The schema the migrations build up
 * to the head (replayed into an in-memory SQLite, as mig-stamp checks it)
 * is compared with the spec, and the difference becomes a migration, in
 * four stages:
 *
 * 1. diff: the changes from one model to the other (diff.c), each said in
 *    a line of the file's header (here);
 * 2. safety check: a spec that cannot be migrated to, a table SQLite would
 *    rebuild that holds what the model does not carry, changes that
 *    destroy data (here);
 * 3. ordered plan: operations, each with an exact inverse, in phases that
 *    keep PostgreSQL's dependencies satisfied (autogen_plan.c);
 * 4. render: each operation by each dialect's renderer (autogen_render.c,
 *    autogen_pg.c, autogen_sqlite.c), the downgrade being the inverse of
 *    each operation in reverse order, so it brings back the schema the
 *    migrations had (mig-verify --roundtrip checks it).
 */
#define _POSIX_C_SOURCE 200809L
#include "autogen.h"
#include "autogen_plan.h"
#include "autogen_render.h"
#include "autogen_sql.h"
#include "compare.h"
#include "db.h"
#include "diff.h"
#include "findings.h"
#include "graph.h"
#include "mig.h"
#include "migfile.h"
#include "schema.h"
#include "spec.h"
#include "stamp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the model ------------------------------------------------------------------ */

/* A key that a foreign key can reference: primary, unique, unique index. */
static bool is_key(const struct mig_table *t, const struct mig_strv *cols)
{
	if ((t->primary_key.n && strv_equal(&t->primary_key, cols)) ||
	    mig_table_has_unique(t, cols))
		return true;
	for (size_t i = 0; i < t->nindexes; i++)
		if (t->indexes[i].unique == 1 && !t->indexes[i].where &&
		    strv_equal(&t->indexes[i].columns, cols))
			return true;
	return false;
}

static bool in_constraint(const struct mig_table *t, const char *col)
{
	if (strv_has(&t->primary_key, col))
		return true;
	for (size_t i = 0; i < t->nuniques; i++)
		if (strv_has(&t->uniques[i], col))
			return true;
	for (size_t i = 0; i < t->nfks; i++)
		if (strv_has(&t->fks[i].columns, col))
			return true;
	return false;
}

/* SQLite's ALTER TABLE ADD COLUMN takes it: nullable or a constant default
 * (DROP COLUMN is its inverse, so the same test decides both). */
static bool sqlite_addable(const struct mig_table *t, const struct mig_column *c)
{
	const char *d = c->default_value;
	return !in_constraint(t, c->name) && (!d || ag_constant_default(d)) &&
	       (c->nullable || d);
}

/* ---- the spec as the whole schema ---------------------------------------------- */

static int check_columns(struct ag_run *ag, struct mig_table *t)
{
	if (!t->ncolumns) {
		mig_err_set(ag->err, MIG_EINPUT, "%s:%d: table '%s' lists no columns",
			    ag->spec, t->line, t->name);
		return mig_err_hint(ag->err, "--autogenerate reads the spec as the whole "
				    "schema; mig-check-schema --dump writes one");
	}
	for (size_t i = 0; i < t->ncolumns; i++) {
		struct mig_column *c = &t->columns[i];
		if (!c->type) {
			mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' has no type",
				    ag->spec, c->line, t->name, c->name);
			return mig_err_hint(ag->err, "--autogenerate creates what the spec "
					    "says: write it as { type: varchar(36), nullable: false }");
		}
		bool pk = strv_has(&t->primary_key, c->name);
		if (pk && c->nullable == 1)
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' is in "
					   "the primary key, so it cannot be nullable",
					   ag->spec, c->line, t->name, c->name);
		if (c->nullable < 0)	/* unset: SQL's default */
			c->nullable = !pk;
		c->has_default = true;	/* unset: no default */
	}
	for (size_t i = 0; i < t->nindexes; i++)
		if (t->indexes[i].unique < 0)
			t->indexes[i].unique = 0;
	return MIG_OK;
}

/* Each name of cols is a column of t. */
static int check_names(struct ag_run *ag, const struct mig_table *t,
		       const struct mig_strv *cols, int line, const char *what)
{
	for (size_t i = 0; i < cols->n; i++)
		if (!mig_table_find_column(t, cols->v[i]))
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: %s of table '%s' names "
					   "'%s', which is not one of its columns", ag->spec,
					   line, what, t->name, cols->v[i]);
	return MIG_OK;
}

static int check_fk(struct ag_run *ag, const struct mig_table *t, const struct mig_fk *f)
{
	const struct mig_table *ref = mig_schema_find(&ag->want, f->ref_table);
	int rc = check_names(ag, t, &f->columns, f->line, "a foreign key");
	if (!rc && ref)
		rc = check_names(ag, ref, &f->ref_columns, f->line, "a foreign key's reference");
	if (rc || !ref || is_key(ref, &f->ref_columns))
		return rc;
	char *cols = strv_join(&f->ref_columns, ", ");
	mig_err_set(ag->err, MIG_EINPUT, "%s:%d: table '%s' references %s(%s), which is "
		    "neither the primary key of '%s' nor unique", ag->spec, f->line,
		    t->name, f->ref_table, cols, f->ref_table);
	free(cols);
	return mig_err_hint(ag->err, "PostgreSQL refuses such a foreign key; make the "
			    "referenced columns a primary key or unique constraint");
}

static int check_keys(struct ag_run *ag, const struct mig_table *t)
{
	int rc = check_names(ag, t, &t->primary_key, t->line, "the primary key");
	for (size_t i = 0; !rc && i < t->nuniques; i++)
		rc = check_names(ag, t, &t->uniques[i], t->unique_lines[i], "a unique constraint");
	for (size_t i = 0; !rc && i < t->nfks; i++)
		rc = check_fk(ag, t, &t->fks[i]);
	for (size_t i = 0; !rc && i < t->nindexes; i++)
		if (!t->indexes[i].columns.n)
			rc = mig_err_set(ag->err, MIG_EINPUT, "%s:%d: index '%s' has no columns",
					 ag->spec, t->indexes[i].line, t->indexes[i].name);
	return rc;
}

/*
 * --autogenerate reads the spec as mig-check-schema --strict does: what it
 * does not list does not exist.  So it must be complete (every column
 * typed), and it must describe a schema PostgreSQL accepts.
 */
static int check_spec(struct ag_run *ag)
{
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < ag->want.ntables; i++) {
		struct mig_table *t = &ag->want.tables[i];
		if (!strcmp(t->name, MIG_DEFAULT_VERSION_TABLE))
			return mig_err_set(ag->err, MIG_EINPUT, "%s:%d: %s is the version "
					   "table, which mig keeps; leave it out of the spec",
					   ag->spec, t->line, t->name);
		rc = check_columns(ag, t);
	}
	for (size_t i = 0; !rc && i < ag->want.ntables; i++)
		rc = check_keys(ag, &ag->want.tables[i]);
	struct mig_findings f = MIG_FINDINGS_INIT;
	if (!rc)
		mig_schema_check_fk_types(&ag->want, &f);
	if (f.n) {
		mig_err_set(ag->err, MIG_EINPUT, "%s: %s", ag->spec, f.v[0].msg);
		mig_err_hint(ag->err, "%s", f.v[0].hint);
		rc = MIG_EINPUT;
	}
	mig_findings_release(&f);
	return rc;
}

/* ---- what SQLite cannot rebuild -------------------------------------------------- */

/* s holds word (uppercase) on word boundaries, followed by next if given. */
static bool has_word(const char *s, const char *word, char next)
{
	size_t n = strlen(word);
	for (const char *p = strstr(s, word); p; p = strstr(p + 1, word)) {
		bool before = p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		const char *q = p + n;
		bool after = isalnum((unsigned char)*q) || *q == '_';
		while (next && *q == ' ')
			q++;
		if (!before && !after && (!next || *q == next))
			return true;
	}
	return false;
}

/* What a rebuild from the schema model would lose or break in a table. */
static const char *rebuild_loses(const char *sql, const char *views, long triggers)
{
	if (triggers)
		return "a trigger";
	if (has_word(sql, "CHECK", '('))
		return "a CHECK constraint";
	if (has_word(sql, "AUTOINCREMENT", 0))
		return "AUTOINCREMENT";
	if (has_word(sql, "COLLATE", 0))
		return "a COLLATE clause";
	if (has_word(sql, "GENERATED", 0) || has_word(sql, "AS", '('))
		return "a generated column";
	return views ? "a view that uses it" : NULL;
}

/* Tables of the replayed database that hold what the schema model does not
 * carry, so that rebuilding them from it would lose it. */
static int find_unsafe(struct ag_run *ag, struct mig_db *mem)
{
	static const char sql[] =
		"SELECT m.name, upper(m.sql), (SELECT count(*) FROM sqlite_master t "
		"WHERE t.type = 'trigger' AND t.tbl_name = m.name), (SELECT group_concat("
		"v.name) FROM sqlite_master v WHERE v.type = 'view' AND (' ' || "
		"upper(v.sql) || ' ') GLOB ('*[^A-Z0-9_]' || upper(m.name) || '[^A-Z0-9_]*')) "
		"FROM sqlite_master m WHERE m.type = 'table'";
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(mem, sql, 0, NULL, &r, ag->err);
	for (size_t i = 0; !rc && i < r.nrows; i++) {
		const char *why = rebuild_loses(mig_rows_cell(&r, i, 1) ? mig_rows_cell(&r, i, 1) : "",
						mig_rows_cell(&r, i, 3),
						strtol(mig_rows_cell(&r, i, 2), NULL, 10));
		if (why)
			strv_push_owned(&ag->unsafe, xasprintf("%s\037%s",
				       mig_rows_cell(&r, i, 0), why));
	}
	mig_rows_release(&r);
	return rc;
}

static const char *unsafe_reason(const struct ag_run *ag, const char *table)
{
	size_t n = strlen(table);
	for (size_t i = 0; i < ag->unsafe.n; i++)
		if (!strncmp(ag->unsafe.v[i], table, n) && ag->unsafe.v[i][n] == '\037')
			return ag->unsafe.v[i] + n + 1;
	return NULL;
}

/* ---- the difference, described -------------------------------------------------- */

static char *vformat(const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap);
	for (char *p = s; *p; p++)	/* one line in a comment, whatever the spec held */
		if ((unsigned char)*p < ' ')
			*p = ' ';
	return s;
}

__attribute__((format(printf, 2, 3)))
static void change(struct ag_run *ag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(&ag->out->changes, vformat(fmt, ap));
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void destroys(struct ag_run *ag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(&ag->out->destructive, vformat(fmt, ap));
	va_end(ap);
}

static char *summary(const struct mig_column *c)
{
	return xasprintf("%s%s%s%s", c->type, c->nullable ? "" : " NOT NULL",
			 c->default_value ? " default " : "",
			 c->default_value ? c->default_value : "");
}

static int added_column(struct ag_run *ag, struct ag_table *td, const struct mig_column *c)
{
	if (!c->nullable && !c->default_value) {
		mig_err_set(ag->err, MIG_EINPUT, "%s:%d: column '%s.%s' is NOT NULL and has "
			    "no default, so it cannot be added to a table that exists: its "
			    "rows would have no value for it", ag->spec, c->line,
			    td->w->name, c->name);
		return mig_err_hint(ag->err, "give it a default in the spec (default: ...), "
				    "or add it as nullable: true, fill it, and make it NOT "
				    "NULL in a later migration");
	}
	char *s = summary(c);
	change(ag, "add column %s.%s %s", td->w->name, c->name, s);
	free(s);
	if (!sqlite_addable(td->w, c))
		td->rebuild = true;
	return MIG_OK;
}

static void dropped_column(struct ag_run *ag, struct ag_table *td, const struct mig_column *c)
{
	change(ag, "drop column %s.%s", td->c->name, c->name);
	destroys(ag, "drop column %s.%s: its values are lost", td->c->name, c->name);
	if (!sqlite_addable(td->c, c))
		td->rebuild = true;
}

static void altered_column(struct ag_run *ag, struct ag_table *td, const struct mig_change *ch,
			   unsigned d)
{
	const struct mig_column *a = ch->from_column, *b = ch->to_column;
	struct mig_buf s = MIG_BUF_INIT;
	if (d & MIG_ALTERED_TYPE)
		buf_printf(&s, ", type %s -> %s", a->type, b->type);
	if (d & MIG_ALTERED_NULLABLE)
		buf_printf(&s, ", %s", b->nullable ? "NOT NULL -> nullable" :
			   "nullable -> NOT NULL (fails while a row holds NULL)");
	if (d & MIG_ALTERED_DEFAULT)
		buf_printf(&s, ", default %s -> %s", a->default_value ? a->default_value : "none",
			   b->default_value ? b->default_value : "none");
	change(ag, "alter column %s.%s: %s", td->w->name, b->name, buf_str(&s) + 2);
	if ((d & MIG_ALTERED_TYPE) && !ag_type_widens(a->type, b->type))
		destroys(ag, "alter column %s.%s: type %s -> %s can cut or change values",
			 td->w->name, b->name, a->type, b->type);
	td->rebuild = true;
	buf_release(&s);
}

static int describe_columns(struct ag_run *ag, struct ag_table *td)
{
	int rc = MIG_OK;
	for (size_t i = 0; !rc && i < td->nch; i++) {
		const struct mig_change *ch = &td->ch[i];
		unsigned d;
		if (ch->kind == MIG_COLUMN_ADDED)
			rc = added_column(ag, td, ch->to_column);
		else if (ch->kind == MIG_COLUMN_ALTERED && (d = ag_column_change(ch)) != 0)
			altered_column(ag, td, ch, d);
		else if (ch->kind == MIG_COLUMN_DROPPED)
			dropped_column(ag, td, ch->from_column);
	}
	return rc;
}

static void describe_fk(struct ag_run *ag, struct ag_table *td, const struct mig_fk *f,
			const struct mig_fk *g, const char *verb)
{
	char *cols = strv_paren(&f->columns), *refs = strv_paren(&f->ref_columns);
	if (g)
		change(ag, "change foreign key %s %s -> %s%s: on delete %s, on update %s",
		       td->w->name, cols, f->ref_table, refs,
		       g->on_delete ? g->on_delete : "no action",
		       g->on_update ? g->on_update : "no action");
	else
		change(ag, "%s foreign key %s %s -> %s%s%s%s", verb, td->w->name, cols,
		       f->ref_table, refs, f->on_delete ? " on delete " : "",
		       f->on_delete ? f->on_delete : "");
	td->rebuild = true;
	free(cols);
	free(refs);
}

static void describe_unique(struct ag_run *ag, struct ag_table *td, const struct mig_strv *u,
			    const char *verb)
{
	char *cols = strv_paren(u);
	change(ag, "%s unique constraint %s %s", verb, td->w->name, cols);
	td->rebuild = true;
	free(cols);
}

/* Keys in the order the file lists them: the primary key, unique
 * constraints that go and come, foreign keys that go (or change) and
 * come, then indexes. */
static void describe_keys(struct ag_run *ag, struct ag_table *td)
{
	const struct mig_table *c = td->c, *w = td->w;
	if (ag_has_change(td, MIG_PRIMARY_KEY_CHANGED)) {
		char *a = strv_paren(&c->primary_key), *b = strv_paren(&w->primary_key);
		change(ag, "primary key of %s: %s -> %s", w->name, c->primary_key.n ? a : "none",
		       w->primary_key.n ? b : "none");
		td->rebuild = true;
		free(a);
		free(b);
	}
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_UNIQUE_DROPPED)
			describe_unique(ag, td, td->ch[i].from_unique, "drop");
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_UNIQUE_ADDED)
			describe_unique(ag, td, td->ch[i].to_unique, "add");
	for (size_t i = 0; i < c->nfks; i++) {
		const struct mig_change *ch = ag_change_from(td, &c->fks[i]);
		if (ch)
			describe_fk(ag, td, &c->fks[i], ch->to_fk, "drop");
	}
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_FK_ADDED)
			describe_fk(ag, td, td->ch[i].to_fk, NULL, "add");
	for (size_t i = 0; i < td->nch; i++)
		if (td->ch[i].kind == MIG_INDEX_DROPPED)
			change(ag, "drop index %s on %s", td->ch[i].from_index->name, c->name);
	for (size_t i = 0; i < td->nch; i++) {
		const struct mig_change *ch = &td->ch[i];
		if (ch->kind != MIG_INDEX_ADDED && ch->kind != MIG_INDEX_ALTERED)
			continue;
		const struct mig_index *x = ch->to_index;
		char *cols = strv_paren(&x->columns);
		change(ag, "%s %sindex %s on %s %s", ch->from_index ? "remake" : "create",
		       x->unique == 1 ? "unique " : "", x->name, w->name, cols);
		free(cols);
	}
}

/* One table in both schemas, with its changes; kept in ag->td when the
 * migration changes it. */
static int describe_table(struct ag_run *ag, const struct mig_table *c, const struct mig_table *w,
			  const struct mig_change *ch, size_t nch)
{
	struct ag_table *td = &ag->td[ag->ntd];
	memset(td, 0, sizeof(*td));
	td->c = c;
	td->w = w;
	td->ch = ch;
	td->nch = nch;
	size_t before = ag->out->changes.n;
	int rc = describe_columns(ag, td);
	if (!rc)
		describe_keys(ag, td);
	if (rc || ag->out->changes.n == before)
		return rc;
	ag->ntd++;
	const char *why = td->rebuild ? unsafe_reason(ag, c->name) : NULL;
	if (!why)
		return MIG_OK;
	mig_err_set(ag->err, MIG_EINPUT, "table '%s' has %s, which the schema model does "
		    "not carry, and SQLite must rebuild the table for this change",
		    c->name, why);
	return mig_err_hint(ag->err, "write this migration by hand: mig-new --message MSG "
			    "writes an empty one");
}

/* The changes from the current schema to the spec (diff.h), each said in
 * ag->out->changes (and in destructive when it loses data). */
static int describe(struct ag_run *ag, struct mig_strv *created, struct mig_strv *dropped)
{
	int rc = MIG_OK;
	const struct mig_changes *all = &ag->changes;
	mig_schema_diff(&ag->cur, &ag->want, MIG_DIFF_ALL, &ag->changes);
	ag->td = xcalloc(ag->cur.ntables + 1, sizeof(*ag->td));
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].kind == MIG_TABLE_ADDED) {
			strv_push(created, all->v[i].to->name);
			change(ag, "create table %s", all->v[i].to->name);
		}
	for (size_t i = 0; !rc && i < ag->cur.ntables; i++) {
		const struct mig_table *c = &ag->cur.tables[i];
		size_t first = 0, n = 0;
		while (first < all->n && (all->v[first].from != c || !all->v[first].to))
			first++;
		while (first + n < all->n && all->v[first + n].from == c)
			n++;
		if (n)
			rc = describe_table(ag, c, all->v[first].to, &all->v[first], n);
	}
	for (size_t i = 0; !rc && i < all->n; i++) {
		if (all->v[i].kind != MIG_TABLE_DROPPED)
			continue;
		const char *name = all->v[i].from->name;
		strv_push(dropped, name);
		change(ag, "drop table %s", name);
		destroys(ag, "drop table %s: its rows are lost", name);
	}
	return rc;
}

/* The text must read back as a migration with both directions; anything
 * else is a bug here, better reported than written. */
static int self_check(struct ag_run *ag)
{
	char *text = xasprintf("-- revision: autogenerate\n-- down_revision: none\n%s\n%s",
			       ag->out->comment, ag->out->sections);
	struct mig_rev rev;
	memset(&rev, 0, sizeof(rev));
	int line = 0;
	int rc = mig_rev_parse_sql(&rev, "(generated migration)", text, strlen(text),
				   &line, ag->err);
	if (!rc && (!rev.has_upgrade || !rev.has_downgrade))
		rc = mig_err_set(ag->err, MIG_EINPUT, "(generated migration): a section is "
				 "missing");
	if (rc)
		mig_err_hint(ag->err, "this is a bug in mig-new --autogenerate; please report "
			     "it with the spec");
	mig_rev_release(&rev);
	free(text);
	return rc;
}


/* ---- the whole run ------------------------------------------------------------------ */

static int load_spec(struct ag_run *ag)
{
	int rc = mig_spec_load(&ag->want, ag->spec, true, ag->err);
	if (rc == MIG_EINPUT && access(ag->spec, F_OK) != 0)
		mig_err_hint(ag->err, "--autogenerate writes the migration to the schema a spec "
			     "describes: name it with --spec FILE, or write %s (mig-check-schema "
			     "--dump writes one from a database)", ag->spec);
	if (!rc)
		mig_schema_sort(&ag->want);
	return rc;
}

static int load_current(struct ag_run *ag)
{
	struct mig_db *mem = NULL;
	int rc = mig_replay(ag->g, ag->g->heads, ag->g->nheads, &mem, ag->err);
	if (!rc)
		rc = mig_db_introspect(mem, NULL, MIG_DEFAULT_VERSION_TABLE, &ag->cur, ag->err);
	if (!rc)
		rc = find_unsafe(ag, mem);
	mig_db_close(mem);
	if (!rc)
		mig_schema_sort(&ag->cur);
	return rc;
}

static int refuse_destructive(struct ag_run *ag)
{
	size_t n = ag->out->destructive.n;
	mig_err_set(ag->err, MIG_ESAFETY, "the spec asks for %zu change%s that destroy%s "
		    "data; nothing was written", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	return mig_err_hint(ag->err, "if that is meant, run again with --allow-destructive: "
			    "the file then lists them in a WARNING comment");
}

/* The dialects of the file, in the order of their sections: adding one is
 * adding its renderer here. */
static const struct ag_renderer *const renderers[] = { &ag_render_pg, &ag_render_sqlite };
static const struct ag_dialects dialects = {
	renderers, sizeof(renderers) / sizeof(renderers[0]),
};

static int generate(struct ag_run *ag, const struct mig_autogen_opts *o)
{
	struct mig_strv created = MIG_STRV_INIT, dropped = MIG_STRV_INIT;
	int rc = describe(ag, &created, &dropped);
	if (!rc && ag->out->changes.n && ag->out->destructive.n && !o->allow_destructive)
		rc = refuse_destructive(ag);
	if (!rc && ag->out->changes.n)
		rc = ag_plan(ag, &created, &dropped);
	if (!rc && ag->out->changes.n) {
		struct mig_buf b = MIG_BUF_INIT;
		ag_write_direction(ag, &dialects, &b, true);
		ag_write_direction(ag, &dialects, &b, false);
		ag->out->sections = buf_detach(&b);
		ag->out->comment = ag_write_comment(ag);
		rc = self_check(ag);
	}
	strv_release(&created);
	strv_release(&dropped);
	return rc;
}

int mig_autogen_run(struct mig_autogen *out, const struct mig_autogen_opts *o,
		    const struct mig_graph *g, struct mig_err *err)
{
	memset(out, 0, sizeof(*out));
	out->spec = o->spec ? xstrdup(o->spec) : xasprintf("%s/schema.yaml", g->dir);
	struct ag_run ag;
	memset(&ag, 0, sizeof(ag));
	ag.g = g;
	ag.spec = out->spec;
	ag.out = out;
	ag.err = err;
	int rc = load_spec(&ag);
	if (!rc)
		rc = check_spec(&ag);
	if (!rc)
		rc = load_current(&ag);
	if (!rc)
		rc = generate(&ag, o);
	for (size_t i = 0; i < ag.ntd; i++)
		free(ag.td[i].target.columns);
	free(ag.td);
	mig_changes_release(&ag.changes);
	free(ag.ops);
	strv_release(&ag.unsafe);
	mig_schema_release(&ag.cur);
	mig_schema_release(&ag.want);
	return rc;
}

void mig_autogen_release(struct mig_autogen *ag)
{
	free(ag->spec);
	strv_release(&ag->changes);
	strv_release(&ag->destructive);
	free(ag->comment);
	free(ag->sections);
	memset(ag, 0, sizeof(*ag));
}
