/*
 * out.h: output that leaves the process: JSON string literals, the GitHub
 * Actions workflow commands (annotations, masks, step outputs and
 * summaries) behind the output gate, and findings printed as text, JSON or
 * annotations.
 */
#ifndef MIG_OUT_H
#define MIG_OUT_H

#include "findings.h"
#include "mig.h"

#include <stdbool.h>
#include <stdio.h>

/* JSON string literal of s (quoted, escaped) appended to b. */
void json_str(struct mig_buf *b, const char *s);
/* ["a","b"] */
void json_strv(struct mig_buf *b, const struct mig_strv *sv);
/* True when GITHUB_ACTIONS=true. */
bool gh_active(void);
/* Under GitHub Actions, puts stdout and stderr behind the output gate
 * (out.c), so that no text from outside can forge a workflow command.
 * mig_init() calls it first thing. */
void mig_gate_open(void);
/* Registers a secret with ::add-mask:: so the runner hides it in logs. */
void gh_mask(const char *secret);
/* ::error file=F,line=L,title=mig CODE::msg (escaped as GitHub requires),
 * F relative to $GITHUB_WORKSPACE when it lies inside it; no file: none. */
void gh_annotate(FILE *fp, enum mig_severity sev, const char *file, int line,
		 const char *code, const char *msg);
/* Appends key=value to $GITHUB_OUTPUT (value on one line). */
int gh_output(const char *key, const char *value);
/* Appends markdown to $GITHUB_STEP_SUMMARY. */
int gh_summary(const char *markdown);
/* Prints each finding as "file:line: severity: msg" plus its hint. */
void mig_findings_print(FILE *fp, const struct mig_findings *f, bool warnings);
void mig_findings_json(struct mig_buf *b, const struct mig_findings *f);
void mig_findings_annotate(const struct mig_findings *f);

#endif
