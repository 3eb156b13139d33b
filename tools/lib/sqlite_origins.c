/*
 * sqlite_origins.c: the SQLite driver's side of origins.h: after each
 * statement that changed the schema, what it made, read from
 * sqlite_schema; only the rows of the objects the statement named when
 * that is enough (sqlite_origins.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sqlite_origins.h"
#include "db.h"
#include "mig.h"
#include "origins.h"
#include "schema.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *H(struct mig_db *db)
{
	return db->handle;
}

/* What a statement names that origins.h must look at again (struct
 * mig_origins' touched): the authorizer's names of tables and indexes of
 * main; anything it cannot follow by name makes the next look a whole one. */
void mig_sqlite_note_touched(struct mig_origins *o, int action, const char *arg1,
			 const char *arg2, const char *schema)
{
	const char *name = arg1, *table = arg2;
	switch (action) {
	case SQLITE_ALTER_TABLE:	/* arg1 is the database, arg2 the table */
		o->touched_alter = true;
		schema = arg1;
		name = arg2;
		table = NULL;
		break;
	case SQLITE_CREATE_TABLE:
	case SQLITE_DROP_TABLE:
		table = NULL;
		break;
	case SQLITE_CREATE_INDEX:
	case SQLITE_DROP_INDEX:
		break;
	case SQLITE_CREATE_VTABLE:	/* its shadow tables */
	case SQLITE_DROP_VTABLE:
		o->touched_all = true;
		return;
	case SQLITE_TRANSACTION:	/* what it undoes is not named */
	case SQLITE_SAVEPOINT:
		if (arg1 && !strcmp(arg1, "ROLLBACK"))
			o->touched_all = true;
		return;
	default:
		return;
	}
	if (schema && strcmp(schema, "main") != 0)
		return;	/* sqlite_schema is main's */
	if (!name) {
		o->touched_all = true;
		return;
	}
	if (!strv_has(&o->touched, name))
		strv_push(&o->touched, name);
	if (table && !strv_has(&o->touched, table))
		strv_push(&o->touched, table);
}

static long schema_version(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;
	long v = -1;
	if (sqlite3_prepare_v2(h, "PRAGMA schema_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void table_columns(sqlite3 *h, const char *table, struct mig_strv *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT name FROM pragma_table_xinfo(?1, 'main')", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			strv_push(out, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
}

/* v is sorted by name (the query's ORDER BY name, BINARY collation: a
 * table and an index never share a name), so a lookup is a bisection: the
 * comparison after every DDL statement stays O(n log n), not O(n^2). */
static const struct mig_origin_seen *seen_find(const struct mig_origin_seen *v, size_t n,
					       const char *name, bool index)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].name, name);
		if (!c)
			return v[mid].index == index ? &v[mid] : NULL;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void set_column(struct mig_origins *o, const char *table, const char *column,
		       const char *file, int line)
{
	char *key = xasprintf("C%s\x1f%s", table, column);
	mig_origins_set(o, key, file, line);
	free(key);
}

/* A table renamed by this statement (one table gone, one new, the same
 * columns or more): its objects keep where they were made. */
static bool carry_rename(struct mig_origins *o, const struct mig_origin_seen *gone,
			 const struct mig_origin_seen *now)
{
	char *key = xasprintf("T%s", gone->name);
	const struct mig_origin *t = mig_origins_latest(o, key);
	free(key);
	if (!t)
		return false;
	char *file = xstrdup(t->file);
	int line = t->line;
	key = xasprintf("T%s", now->name);
	mig_origins_set(o, key, file, line);
	free(key);
	free(file);
	for (size_t c = 0; c < now->columns.n; c++) {
		key = xasprintf("C%s\x1f%s", gone->name, now->columns.v[c]);
		const struct mig_origin *col = strv_has(&gone->columns, now->columns.v[c])
					       ? mig_origins_latest(o, key) : NULL;
		free(key);
		if (col) {
			file = xstrdup(col->file);
			line = col->line;
			set_column(o, now->name, now->columns.v[c], file, line);
			free(file);
		}
	}
	return true;
}

#define SEEN_ROWS "SELECT type = 'index', name, tbl_name, coalesce(sql, '') " \
	"FROM sqlite_schema WHERE type IN ('table', 'index') AND " \
	"name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

/* Appends the rows st yields to *v (n of cap). */
static void read_seen(sqlite3_stmt *st, struct mig_origin_seen **v, size_t *n, size_t *cap)
{
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		struct mig_origin_seen *x = &(*v)[(*n)++];
		memset(x, 0, sizeof(*x));
		x->index = sqlite3_column_int(st, 0);
		x->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		if (x->index)
			x->table = xstrdup((const char *)sqlite3_column_text(st, 2));
		x->sql = xstrdup((const char *)sqlite3_column_text(st, 3));
	}
}

static void release_seen(struct mig_origin_seen *x)
{
	free(x->name);
	free(x->table);
	free(x->sql);
	strv_release(&x->columns);
}

/* Compares now (n rows, sorted by name) with was (nwas, the same rows as
 * last seen) and records what the statement at file:line made; file NULL
 * records nothing.  Fills the columns of now's tables, read again only
 * where the CREATE text changed, or always when now has no text (sql "",
 * look_again_at_touched).  Returns the number of tables of was that now
 * lacks. */
static size_t record_changes(struct mig_db *db, const char *file, int line,
			     struct mig_origin_seen *now, size_t n,
			     const struct mig_origin_seen *was_v, size_t nwas)
{
	struct mig_origins *o = db->origins;
	/* the tables that are new or changed, and those gone */
	size_t nnew = 0, ngone = 0;
	const struct mig_origin_seen *only_new = NULL, *only_gone = NULL;
	for (size_t i = 0; i < n; i++) {
		struct mig_origin_seen *x = &now[i];
		const struct mig_origin_seen *was = seen_find(was_v, nwas, x->name, x->index);
		if (x->index)
			continue;
		if (was && *x->sql && !strcmp(was->sql, x->sql)) {
			for (size_t c = 0; c < was->columns.n; c++)
				strv_push(&x->columns, was->columns.v[c]);
			continue;
		}
		table_columns(H(db), x->name, &x->columns);
		if (!was) {
			nnew++;
			only_new = x;
		}
	}
	for (size_t i = 0; i < nwas; i++)
		if (!was_v[i].index && !seen_find(now, n, was_v[i].name, false)) {
			ngone++;
			only_gone = &was_v[i];
		}
	bool renamed = file && nnew == 1 && ngone == 1 && carry_rename(o, only_gone, only_new);
	for (size_t i = 0; file && i < n; i++) {
		struct mig_origin_seen *x = &now[i];
		const struct mig_origin_seen *was = seen_find(was_v, nwas, x->name, x->index);
		if (was && *x->sql && !strcmp(was->sql, x->sql))
			continue;
		if (renamed && x == only_new)
			continue;
		char *key = xasprintf("%c%s", x->index ? 'I' : 'T', x->name);
		if (!was)
			mig_origins_set(o, key, file, line);
		free(key);
		for (size_t c = 0; !x->index && c < x->columns.n; c++)
			if (!was || !strv_has(&was->columns, x->columns.v[c]))
				set_column(o, x->name, x->columns.v[c], file, line);
	}
	return ngone;
}

static void look_again_at_all(struct mig_db *db, const char *file, int line)
{
	struct mig_origins *o = db->origins;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(H(db), SEEN_ROWS " ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return;
	}
	struct mig_origin_seen *now = NULL;
	size_t n = 0, cap = 0;
	read_seen(st, &now, &n, &cap);
	sqlite3_finalize(st);
	record_changes(db, file, line, now, n, o->seen, o->nseen);
	mig_origins_forget_seen(o);
	o->seen = now;
	o->nseen = n;
}

static int cmp_seen_name(const void *a, const void *b)
{
	return strcmp(((const struct mig_origin_seen *)a)->name,
		      ((const struct mig_origin_seen *)b)->name);
}

/* Whether x (a row last seen) is one of the names touched, or an index of
 * one: SQLite's names are case-blind in ASCII, as sqlite3_stricmp is. */
static bool is_touched(const struct mig_strv *touched, const struct mig_origin_seen *x)
{
	for (size_t i = 0; i < touched->n; i++)
		if (!sqlite3_stricmp(x->name, touched->v[i]) ||
		    (x->table && !sqlite3_stricmp(x->table, touched->v[i])))
			return true;
	return false;
}

/* Reads again only the rows of the names touched, and their indexes;
 * false (nothing recorded, nothing changed) when the statement may have
 * renamed a table, which only a look at all of them can follow. */
static bool look_again_at_touched(struct mig_db *db, const char *file, int line)
{
	struct mig_origins *o = db->origins;
	sqlite3_stmt *st = NULL;
	/* by the names SQLite keeps in its hash tables, not a scan of
	 * sqlite_schema, which is as long as the schema; the text is left
	 * out ("": the columns are read again instead) */
	if (sqlite3_prepare_v2(H(db), "SELECT 0, ?1, NULL, '' WHERE EXISTS "
			       "(SELECT 1 FROM pragma_table_xinfo(?1, 'main')) "
			       "UNION ALL SELECT 1, name, ?1, '' FROM pragma_index_list(?1, 'main') "
			       "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", -1, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return false;
	}
	struct mig_origin_seen *now = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < o->touched.n; i++) {
		sqlite3_bind_text(st, 1, o->touched.v[i], -1, SQLITE_STATIC);
		read_seen(st, &now, &n, &cap);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (n > 1)
		qsort(now, n, sizeof(*now), cmp_seen_name);
	size_t kept = 0;	/* an index and its table may both be named */
	for (size_t i = 0; i < n; i++)
		if (kept && !strcmp(now[kept - 1].name, now[i].name))
			release_seen(&now[i]);
		else
			now[kept++] = now[i];
	n = kept;
	/* the same rows as last seen (o->seen is sorted by name: so is was) */
	bool *mine = xcalloc(o->nseen + 1, sizeof(*mine));
	struct mig_origin_seen *was = xcalloc(o->nseen + 1, sizeof(*was));
	size_t nwas = 0;
	for (size_t i = 0; i < o->nseen; i++)
		if ((mine[i] = is_touched(&o->touched, &o->seen[i])))
			was[nwas++] = o->seen[i];	/* shared, not copied */
	bool followed = !o->touched_alter;
	if (!followed) {	/* recording nothing yet: a rename needs it all */
		size_t gone = record_changes(db, NULL, 0, now, n, was, nwas);
		followed = gone == 0;
		for (size_t i = 0; i < n; i++)
			strv_release(&now[i].columns);
	}
	if (followed) {
		record_changes(db, file, line, now, n, was, nwas);
		/* o->seen without the touched rows, merged with now */
		struct mig_origin_seen *merged = xmalloc((o->nseen - nwas + n + 1) * sizeof(*merged));
		size_t i = 0, j = 0, out = 0;
		while (i < o->nseen || j < n) {
			if (i < o->nseen && mine[i]) {
				release_seen(&o->seen[i++]);
				continue;
			}
			if (j < n && (i >= o->nseen || strcmp(now[j].name, o->seen[i].name) < 0))
				merged[out++] = now[j++];
			else
				merged[out++] = o->seen[i++];
		}
		free(o->seen);
		o->seen = merged;
		o->nseen = out;
	} else {
		for (size_t i = 0; i < n; i++)
			release_seen(&now[i]);
	}
	free(now);
	free(was);
	free(mine);
	return followed;
}

void mig_sqlite_note_origins(struct mig_db *db, const char *file, int line)
{
	struct mig_origins *o = db->origins;
	long v = schema_version(H(db));
	bool moved = v != o->schema_version || !file || o->touched_all;
	o->schema_version = v;
	/* a pragma set may be writable_schema, and then anything changes */
	if (moved && !(file && o->touched.n && !o->touched_all && !db->sqlite_pragma_set &&
		       look_again_at_touched(db, file, line)))
		look_again_at_all(db, file, line);
	strv_release(&o->touched);
	o->touched_all = false;
	o->touched_alter = false;
}

