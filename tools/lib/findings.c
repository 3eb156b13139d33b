/*
 * findings.c: the list of problems a check found (graph lint, schema
 * comparison, stamp checks), each with its severity, code and place.
 */
#include "findings.h"
#include "mig.h"

#include <stdarg.h>
#include <stdlib.h>

void mig_findings_add(struct mig_findings *f, enum mig_severity sev,
		      const char *code, const char *file, int line,
		      const char *hint, const char *fmt, ...)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	va_list ap;
	va_start(ap, fmt);
	struct mig_finding *x = &f->v[f->n++];
	x->severity = sev;
	x->code = xstrdup(code);
	x->file = file ? xstrdup(file) : NULL;
	x->line = line;
	x->msg = xvasprintf(fmt, ap);
	x->hint = hint ? xstrdup(hint) : NULL;
	va_end(ap);
}

size_t mig_findings_count(const struct mig_findings *f, enum mig_severity sev)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].severity == sev;
	return n;
}

void mig_findings_release(struct mig_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].code);
		free(f->v[i].file);
		free(f->v[i].msg);
		free(f->v[i].hint);
	}
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}
