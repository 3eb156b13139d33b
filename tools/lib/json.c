/*
 * json.c: the JSON contract (DESIGN.md "JSON").  With --format json every
 * run writes exactly one document to stdout, also when it fails, and each
 * document carries "ok" and "format": 1.  A program hands its result to
 * mig_json_result(); an error reaches mig_json_error() through
 * mig_report_error() or a usage error; mig_close_report() writes the one
 * document.  So no program has an error path of its own.
 */
#define _POSIX_C_SOURCE 200809L
#include "json.h"
#include "mig.h"
#include "out.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

/* The version of the documents' shape; schemas/ describes it. */
#define MIG_JSON_FORMAT 1

static struct {
	bool active;		/* --format json */
	char *result;		/* the program's object, "{...}" */
	bool failed;		/* an error was recorded */
	int code;
	const char *kind;
	char *message, *hint;
	bool written;
} doc;

void mig_json_enable(bool on)
{
	doc.active = on;
}

bool mig_json_active(void)
{
	return doc.active;
}

void mig_json_result(struct mig_buf *object)
{
	free(doc.result);
	doc.result = buf_detach(object);
}

const char *mig_error_kind(int code)
{
	switch (code) {
	case MIG_EFOUND:
		return "found";
	case MIG_EINPUT:
		return "input";
	case MIG_EDB:
		return "database";
	case MIG_ESAFETY:
		return "safety";
	}
	return "internal";
}

void mig_json_error(int code, const char *kind, const char *message, const char *hint)
{
	if (doc.failed)		/* the first error is the one that stopped the run */
		return;
	doc.failed = true;
	doc.code = code;
	doc.kind = kind ? kind : mig_error_kind(code);
	doc.message = xstrdup(message ? message : "failed");
	doc.hint = hint ? xstrdup(hint) : NULL;
}

/* The members of the program's object, without its braces and the
 * newline after them. */
static void add_members(struct mig_buf *b, const char *object)
{
	const char *open = strchr(object, '{');
	const char *close = strrchr(object, '}');
	if (!open || !close || close <= open)
		return;
	open++;
	while (open < close && (*open == ' ' || *open == '\n'))
		open++;
	if (open < close) {
		buf_putc(b, ',');
		buf_add(b, open, (size_t)(close - open));
	}
}

void mig_json_write(int rc)
{
	if (!doc.active || doc.written)
		return;
	/* A program that prints a document of its own and has not handed it
	 * here yet keeps its output alone; its failures still get theirs. */
	if (!doc.result && !doc.failed && rc < MIG_EINPUT)
		return;
	doc.written = true;
	/* a failure that left no message still says what it was */
	if (rc >= MIG_EINPUT && !doc.failed)
		mig_json_error(rc, NULL, "failed without a message", NULL);
	struct mig_buf b = MIG_BUF_INIT;
	buf_printf(&b, "{\"ok\":%s,\"format\":%d", rc == MIG_OK ? "true" : "false",
		   MIG_JSON_FORMAT);
	if (mig_subject_given_label()) {	/* --label: which database of a fleet */
		buf_puts(&b, ",\"label\":");
		json_str(&b, mig_subject_given_label());
	}
	if (doc.result)
		add_members(&b, doc.result);
	if (doc.failed && rc != MIG_OK) {
		buf_printf(&b, ",\"error\":{\"code\":%d,\"kind\":", rc);
		json_str(&b, doc.kind);
		buf_puts(&b, ",\"message\":");
		json_str(&b, doc.message);
		buf_puts(&b, ",\"hint\":");
		json_str(&b, doc.hint);
		buf_puts(&b, ",\"database\":");
		json_str(&b, mig_subject());
		buf_putc(&b, '}');
	}
	buf_puts(&b, "}\n");
	fputs(buf_str(&b), stdout);
	buf_release(&b);
	free(doc.result);
	free(doc.message);
	free(doc.hint);
	doc.result = doc.message = doc.hint = NULL;
}

/* Column by column, as mig_spec_dump writes YAML: the same keys, so a
 * reader of either finds the same model. */
static void column_json(struct mig_buf *b, const struct mig_column *c)
{
	json_str(b, c->name);
	buf_puts(b, ":{\"type\":");
	json_str(b, c->type);
	if (c->nullable >= 0)
		buf_printf(b, ",\"nullable\":%s", c->nullable ? "true" : "false");
	if (c->default_value) {
		buf_puts(b, ",\"default\":");
		json_str(b, c->default_value);
	}
	buf_putc(b, '}');
}

static void fk_json(struct mig_buf *b, const struct mig_fk *f)
{
	buf_puts(b, "{\"columns\":");
	json_strv(b, &f->columns);
	if (f->ref_table) {
		char *cols = strv_join(&f->ref_columns, ", ");
		char *ref = xasprintf("%s(%s)", f->ref_table, cols);
		buf_puts(b, ",\"references\":");
		json_str(b, ref);
		free(ref);
		free(cols);
	}
	if (f->on_delete) {
		buf_puts(b, ",\"on_delete\":");
		json_str(b, f->on_delete);
	}
	if (f->on_update) {
		buf_puts(b, ",\"on_update\":");
		json_str(b, f->on_update);
	}
	buf_putc(b, '}');
}

static void index_json(struct mig_buf *b, const struct mig_index *x)
{
	json_str(b, x->name);
	buf_puts(b, ":{\"columns\":");
	json_strv(b, &x->columns);
	buf_printf(b, ",\"unique\":%s", x->unique == 1 ? "true" : "false");
	if (x->method) {
		buf_puts(b, ",\"method\":");
		json_str(b, x->method);
	}
	if (x->where) {
		buf_puts(b, ",\"where\":");
		json_str(b, x->where);
	}
	buf_putc(b, '}');
}

void mig_schema_json(struct mig_buf *b, const struct mig_schema *s)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < s->ntables; i++) {
		const struct mig_table *t = &s->tables[i];
		if (i)
			buf_putc(b, ',');
		json_str(b, t->name);
		buf_puts(b, ":{\"columns\":{");
		for (size_t j = 0; j < t->ncolumns; j++) {
			if (j)
				buf_putc(b, ',');
			column_json(b, &t->columns[j]);
		}
		buf_puts(b, "},\"primary_key\":");
		json_strv(b, &t->primary_key);
		buf_puts(b, ",\"foreign_keys\":[");
		for (size_t j = 0; j < t->nfks; j++) {
			if (j)
				buf_putc(b, ',');
			fk_json(b, &t->fks[j]);
		}
		buf_puts(b, "],\"unique\":[");
		for (size_t j = 0; j < t->nuniques; j++) {
			if (j)
				buf_putc(b, ',');
			json_strv(b, &t->uniques[j]);
		}
		buf_puts(b, "],\"indexes\":{");
		for (size_t j = 0; j < t->nindexes; j++) {
			if (j)
				buf_putc(b, ',');
			index_json(b, &t->indexes[j]);
		}
		buf_puts(b, "}}");
	}
	buf_putc(b, '}');
}
