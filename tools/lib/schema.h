/*
 * schema.h: the schema model, one for a live database (introspection,
 * db.h) and for a YAML spec (spec.h): tables, columns, keys, foreign keys,
 * uniques and indexes, with normalized types.  A struct mig_schema owns all
 * it holds; mig_schema_release frees it.  The add functions return the new
 * element, owned by the schema (never NULL: allocation failure aborts).
 */
#ifndef MIG_SCHEMA_H
#define MIG_SCHEMA_H

#include "mig.h"

/*
 * One model for a live database and for a YAML spec.  Types are normalized
 * (mig_type_normalize) so that the same migration reads the same on both
 * dialects.  In a spec, a field that was not written is "unset": NULL for
 * strings, -1 for tristate ints, and has_* false for lists, and comparison
 * skips it unless --strict.  'line' is the spec line (0 for live objects).
 * 'from' is, for a schema built by replaying migrations (origins.h), the
 * migration file and line of the statement that made the object, so that a
 * finding about it points there; file NULL when unknown.
 */
struct mig_origin {
	char *file;		/* owned; NULL: unknown */
	int line;
};

struct mig_column {
	char *name;
	char *type;		/* normalized, e.g. "varchar(36)" */
	int nullable;		/* 1, 0, or -1 unset */
	char *default_value;	/* normalized expression, NULL when none/unset */
	bool has_default;	/* spec: default was written (null = none) */
	int line;
	struct mig_origin from;
};

struct mig_fk {
	struct mig_strv columns;
	char *ref_table;
	struct mig_strv ref_columns;
	char *on_delete;	/* "cascade", "set null", ...; NULL: no action */
	char *on_update;
	int line;
};

struct mig_index {
	char *name;
	struct mig_strv columns;	/* column names or expressions */
	int unique;		/* 1, 0, or -1 unset */
	char *method;		/* PostgreSQL access method other than btree */
	char *where;		/* partial index predicate */
	int line;
	struct mig_origin from;
};

struct mig_table {
	char *name;
	struct mig_column *columns;
	size_t ncolumns;
	struct mig_strv primary_key;
	bool has_primary_key;
	struct mig_fk *fks;
	size_t nfks;
	bool has_fks;
	struct mig_strv *uniques;	/* each a list of columns */
	int *unique_lines;
	size_t nuniques;
	bool has_uniques;
	struct mig_index *indexes;
	size_t nindexes;
	bool has_indexes;
	int line;
	struct mig_origin from;
};

struct mig_schema {
	struct mig_table *tables;
	size_t ntables;
	char *file;		/* the spec's path, for findings */
	/* Name index for mig_schema_find: open addressing, each slot a table's
	 * position + 1 (0 is empty), kept at most half full.  Maintained by
	 * mig_schema_add_table and mig_schema_sort. */
	size_t *slots;
	size_t nslots;
};

/* Returns a new string: the canonical name of a declared or catalog type. */
char *mig_type_normalize(const char *type);
struct mig_table *mig_schema_add_table(struct mig_schema *s, const char *name);
struct mig_table *mig_schema_find(const struct mig_schema *s, const char *name);
/* Removes and releases the table at position i; the others keep their order. */
void mig_schema_remove_table(struct mig_schema *s, size_t i);
struct mig_column *mig_table_add_column(struct mig_table *t, const char *name);
struct mig_column *mig_table_find_column(const struct mig_table *t,
					 const char *name);
/* The foreign key of t on f's columns to f's table and, when f names them,
 * its columns (a spec may leave them to the referenced primary key). */
const struct mig_fk *mig_table_find_fk(const struct mig_table *t, const struct mig_fk *f);
/* Whether t has a unique constraint on exactly cols. */
bool mig_table_has_unique(const struct mig_table *t, const struct mig_strv *cols);
const struct mig_index *mig_table_find_index(const struct mig_table *t, const char *name);
struct mig_fk *mig_table_add_fk(struct mig_table *t);
struct mig_index *mig_table_add_index(struct mig_table *t, const char *name);
struct mig_strv *mig_table_add_unique(struct mig_table *t, int line);
/* Sorts tables by name, and keys, uniques and indexes canonically. */
void mig_schema_sort(struct mig_schema *s);
void mig_schema_release(struct mig_schema *s);

#endif
