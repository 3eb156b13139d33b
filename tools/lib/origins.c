/*
 * origins.c: the record of where each migrated object was made
 * (origins.h); the SQLite driver feeds it, a schema model reads it.
 */
#define _POSIX_C_SOURCE 200809L
#include "origins.h"
#include "db.h"
#include "mig.h"
#include "schema.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

void mig_origins_init(struct mig_origins *o)
{
	memset(o, 0, sizeof(*o));
	o->schema_version = -1;
}

void mig_origins_forget_seen(struct mig_origins *o)
{
	for (size_t i = 0; i < o->nseen; i++) {
		free(o->seen[i].name);
		free(o->seen[i].table);
		free(o->seen[i].sql);
		strv_release(&o->seen[i].columns);
	}
	free(o->seen);
	o->seen = NULL;
	o->nseen = 0;
}

void mig_origins_release(struct mig_origins *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].key);
		free(o->v[i].at.file);
	}
	free(o->v);
	mig_origins_forget_seen(o);
	strv_release(&o->touched);
	free(o->pg_schema);
	const char *schema = o->schema;
	mig_origins_init(o);
	o->schema = schema;
}

void mig_db_track_origins(struct mig_db *db, struct mig_origins *o)
{
	db->origins = o;
	if (o && db->drv->dialect == MIG_SQLITE)
		mig_sqlite_note_origins(db, NULL, 0);	/* what is there already */
}

void mig_origins_set(struct mig_origins *o, const char *key, const char *file, int line)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = (struct mig_origin_entry){ .key = xstrdup(key), .seq = o->next_seq++,
						  .generation = o->generation,
						  .at = { .file = file ? xstrdup(file) : NULL,
							  .line = file ? line : 0 } };
	o->sorted = false;
}

const struct mig_origin *mig_origins_latest(const struct mig_origins *o, const char *key)
{
	const struct mig_origin_entry *best = NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].key, key) && (!best || o->v[i].seq > best->seq))
			best = &o->v[i];
	return best ? &best->at : NULL;
}

/* By key, and the latest record of a key first. */
static int cmp_entry(const void *a, const void *b)
{
	const struct mig_origin_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static void drop_entry(struct mig_origin_entry *e)
{
	free(e->key);
	free(e->at.file);
}

/* Keeps the latest record of each key, sorted by key for lookups.  The
 * records since the last settle are sorted alone and merged into the
 * settled ones, so that settling after each section costs the new records'
 * sort and one pass, not a sort of all of them. */
static void settle(struct mig_origins *o)
{
	if (o->sorted)
		return;
	size_t k = o->nsorted;
	if (o->n - k > 1)
		qsort(o->v + k, o->n - k, sizeof(*o->v), cmp_entry);
	struct mig_origin_entry *m = xmalloc((o->n + 1) * sizeof(*m));
	size_t i = 0, j = k, out = 0;
	while (i < k || j < o->n) {
		struct mig_origin_entry *e;
		if (j < o->n && (i >= k || strcmp(o->v[j].key, o->v[i].key) <= 0)) {
			e = &o->v[j++];
			if (i < k && !strcmp(e->key, o->v[i].key))
				drop_entry(&o->v[i++]);	/* a newer record of it */
		} else {
			e = &o->v[i++];
		}
		if (out && !strcmp(m[out - 1].key, e->key)) {
			drop_entry(e);	/* an older record of the same key */
			continue;
		}
		m[out++] = *e;
	}
	free(o->v);
	o->v = m;
	o->cap = o->n + 1;
	o->n = out;
	for (size_t x = 0; x < o->n; x++)
		o->v[x].seq = x;
	o->next_seq = o->n;
	o->nsorted = o->n;
	o->sorted = true;
}

/* The first record whose key is not below key (o settled). */
static size_t lower_bound(const struct mig_origins *o, const char *key)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(o->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct mig_origin *lookup(const struct mig_origins *o, const char *key)
{
	size_t i = lower_bound(o, key);
	return i < o->n && !strcmp(o->v[i].key, key) ? &o->v[i].at : NULL;
}

const struct mig_origin_entry *mig_origins_find(struct mig_origins *o, const char *key)
{
	settle(o);
	size_t i = lower_bound(o, key);
	return i < o->n && !strcmp(o->v[i].key, key) ? &o->v[i] : NULL;
}

void mig_origins_carry(struct mig_origins *o, const char *from, const char *to)
{
	settle(o);
	size_t n = strlen(from), first = lower_bound(o, from), last = first;
	while (last < o->n && !strncmp(o->v[last].key, from, n))
		last++;
	/* copied first: each set may move the array */
	struct mig_origin_entry *copy = xcalloc(last - first + 1, sizeof(*copy));
	for (size_t i = first; i < last; i++) {
		copy[i - first].key = xasprintf("%s%s", to, o->v[i].key + n);
		copy[i - first].at.file = o->v[i].at.file ? xstrdup(o->v[i].at.file) : NULL;
		copy[i - first].at.line = o->v[i].at.line;
	}
	for (size_t i = 0; i < last - first; i++) {
		mig_origins_set(o, copy[i].key, copy[i].at.file, copy[i].at.line);
		free(copy[i].key);
		free(copy[i].at.file);
	}
	free(copy);
}

static void put(struct mig_origin *to, const struct mig_origin *from)
{
	if (!from || !from->file)
		return;
	free(to->file);
	to->file = xstrdup(from->file);
	to->line = from->line;
}

void mig_origins_apply(struct mig_origins *o, struct mig_schema *s)
{
	settle(o);
	for (size_t i = 0; i < s->ntables; i++) {
		struct mig_table *t = &s->tables[i];
		char *key = xasprintf("T%s", t->name);
		put(&t->from, lookup(o, key));
		free(key);
		for (size_t c = 0; c < t->ncolumns; c++) {
			key = xasprintf("C%s\x1f%s", t->name, t->columns[c].name);
			put(&t->columns[c].from, lookup(o, key));
			free(key);
		}
		for (size_t x = 0; x < t->nindexes; x++) {
			key = xasprintf("I%s", t->indexes[x].name);
			put(&t->indexes[x].from, lookup(o, key));
			free(key);
		}
	}
}
