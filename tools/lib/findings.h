/*
 * findings.h: the problems a check found (graph lint, schema comparison,
 * stamp and round-trip checks), each with a severity, a short code, the file
 * and line it concerns, a message and an optional hint.  The list owns every
 * string in it; mig_findings_release frees them all.  Printing them is
 * out.c's.
 */
#ifndef MIG_FINDINGS_H
#define MIG_FINDINGS_H

#include <stddef.h>

enum mig_severity { MIG_SEV_ERROR, MIG_SEV_WARNING };

struct mig_finding {
	enum mig_severity severity;
	char *code;		/* short kebab-case id, e.g. "missing-revision" */
	char *file;		/* may be NULL */
	int line;		/* 0 when unknown */
	char *msg;
	char *hint;		/* may be NULL */
};
struct mig_findings {
	struct mig_finding *v;
	size_t n, cap;
};
#define MIG_FINDINGS_INIT { NULL, 0, 0 }
/* Appends a finding, copying every string; hint and file may be NULL. */
void mig_findings_add(struct mig_findings *f, enum mig_severity sev,
		      const char *code, const char *file, int line,
		      const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* How many findings of that severity f holds. */
size_t mig_findings_count(const struct mig_findings *f, enum mig_severity sev);
void mig_findings_release(struct mig_findings *f);

#endif
