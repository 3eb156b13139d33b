/*
 * spec_dump.c: writing a schema model as a YAML spec (DESIGN.md "The schema
 * model and the spec") with libyaml's emitter, so that mig_spec_load
 * (spec.c) reads it back as the same model: mig-check-schema --dump.
 */
#define _POSIX_C_SOURCE 200809L
#include "spec_dump.h"
#include "mig.h"
#include "schema.h"
#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The emitter, and whether any event has failed (later ones are dropped). */
struct emitter {
	yaml_emitter_t y;
	bool failed;
};

static void emit(struct emitter *em, yaml_event_t *ev, int initialized)
{
	if (initialized && em->failed)
		yaml_event_delete(ev);	/* dropped after a failure */
	else if (!initialized || !yaml_emitter_emit(&em->y, ev))	/* takes ev in any case */
		em->failed = true;
}

/* A scalar, plain where YAML allows; quoted when plain would read as null. */
static void put_str(struct emitter *em, const char *s)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = mig_spec_null_text(s) ? YAML_SINGLE_QUOTED_SCALAR_STYLE :
		YAML_ANY_SCALAR_STYLE;
	size_t len = strlen(s);
	int ok = len <= 0x7fffffff && yaml_scalar_event_initialize(&ev, NULL, NULL,
		(const yaml_char_t *)s, (int)len, 1, 1, style);
	emit(em, &ev, ok);
}

static void put_pair(struct emitter *em, const char *key, const char *value)
{
	put_str(em, key);
	put_str(em, value);
}

static void map_start(struct emitter *em, bool flow)
{
	yaml_event_t ev;
	emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct emitter *em)
{
	yaml_event_t ev;
	emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void seq_start(struct emitter *em, bool flow)
{
	yaml_event_t ev;
	emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct emitter *em)
{
	yaml_event_t ev;
	emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void put_list(struct emitter *em, const struct mig_strv *sv)
{
	seq_start(em, true);
	for (size_t i = 0; i < sv->n; i++)
		put_str(em, sv->v[i]);
	seq_end(em);
}

static void dump_column(struct emitter *em, const struct mig_column *c)
{
	put_str(em, c->name);
	map_start(em, true);
	if (c->type)
		put_pair(em, "type", c->type);
	if (c->nullable >= 0)
		put_pair(em, "nullable", c->nullable ? "true" : "false");
	if (c->default_value)
		put_pair(em, "default", c->default_value);
	map_end(em);
}

static void dump_fk(struct emitter *em, const struct mig_fk *f)
{
	map_start(em, true);
	put_str(em, "columns");
	put_list(em, &f->columns);
	if (f->ref_table) {
		char *cols = strv_join(&f->ref_columns, ", ");
		char *ref = xasprintf("%s(%s)", f->ref_table, cols);
		put_pair(em, "references", ref);
		free(ref);
		free(cols);
	}
	if (f->on_delete)
		put_pair(em, "on_delete", f->on_delete);
	if (f->on_update)
		put_pair(em, "on_update", f->on_update);
	map_end(em);
}

static void dump_index(struct emitter *em, const struct mig_index *x)
{
	put_str(em, x->name);
	map_start(em, true);
	put_str(em, "columns");
	put_list(em, &x->columns);
	if (x->unique == 1)
		put_pair(em, "unique", "true");
	if (x->method)
		put_pair(em, "method", x->method);
	if (x->where)
		put_pair(em, "where", x->where);
	map_end(em);
}

static void dump_table(struct emitter *em, const struct mig_table *t)
{
	put_str(em, t->name);
	map_start(em, false);
	put_str(em, "columns");
	map_start(em, false);
	for (size_t i = 0; i < t->ncolumns; i++)
		dump_column(em, &t->columns[i]);
	map_end(em);
	if (t->primary_key.n) {
		put_str(em, "primary_key");
		put_list(em, &t->primary_key);
	}
	if (t->nfks) {
		put_str(em, "foreign_keys");
		seq_start(em, false);
		for (size_t i = 0; i < t->nfks; i++)
			dump_fk(em, &t->fks[i]);
		seq_end(em);
	}
	if (t->nuniques) {
		put_str(em, "unique");
		seq_start(em, false);
		for (size_t i = 0; i < t->nuniques; i++)
			put_list(em, &t->uniques[i]);
		seq_end(em);
	}
	if (t->nindexes) {
		put_str(em, "indexes");
		map_start(em, false);
		for (size_t i = 0; i < t->nindexes; i++)
			dump_index(em, &t->indexes[i]);
		map_end(em);
	}
	map_end(em);
}

static void dump_schema(struct emitter *em, const struct mig_schema *s)
{
	yaml_event_t ev;
	emit(em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_start(em, false);
	put_str(em, "tables");
	map_start(em, false);
	for (size_t i = 0; i < s->ntables; i++)
		dump_table(em, &s->tables[i]);
	map_end(em);
	map_end(em);
	emit(em, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(em, &ev, yaml_stream_end_event_initialize(&ev));
}

/*
 * Writes s to fp as a spec that mig_spec_load reads back as the same
 * model, in the order s has (sort it first with mig_schema_sort for a
 * stable file).  Returns 0, or MIG_EINPUT when the emitter or fp fails;
 * fp stays open either way.
 */
int mig_spec_dump(const struct mig_schema *s, FILE *fp, struct mig_err *err)
{
	struct emitter em = { .failed = false };
	if (!yaml_emitter_initialize(&em.y))
		return mig_err_set(err, MIG_EINPUT, "cannot write the spec: out of memory");
	yaml_emitter_set_output_file(&em.y, fp);
	yaml_emitter_set_width(&em.y, -1);	/* never fold a line */
	yaml_emitter_set_indent(&em.y, 2);
	yaml_emitter_set_unicode(&em.y, 1);
	dump_schema(&em, s);
	if (!em.failed && !yaml_emitter_flush(&em.y))
		em.failed = true;
	int rc = MIG_OK;
	if (em.failed)
		rc = mig_err_set(err, MIG_EINPUT, "cannot write the spec: %s",
				 em.y.problem ? em.y.problem : "YAML emitter failed");
	else if (fflush(fp) == EOF || ferror(fp))
		rc = mig_err_set(err, MIG_EINPUT, "cannot write the spec: %s",
				 strerror(errno ? errno : EIO));
	yaml_emitter_delete(&em.y);
	return rc;
}
