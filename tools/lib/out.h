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
/* file relative to $GITHUB_WORKSPACE when it lies inside it, else as
 * given (a new string): the path annotations and summaries show. */
char *gh_workspace_path(const char *file);
/* Appends key=value to $GITHUB_OUTPUT (value on one line). */
int gh_output(const char *key, const char *value);
/* Appends markdown to $GITHUB_STEP_SUMMARY. */
int gh_summary(const char *markdown);
/* Whether this run has appended to $GITHUB_STEP_SUMMARY yet. */
bool gh_summary_written(void);
/* Text from outside (a database identifier, a server message, a migration's
 * message) as Markdown that renders as that text: no HTML, no heading, no
 * table cell break, one line. */
void md_text(struct mig_buf *b, const char *s);
/* A fenced code block holding text exactly, whatever backticks it holds. */
void md_code_block(struct mig_buf *b, const char *lang, const char *text);
/* Under GitHub Actions, when nothing has been written to the step summary
 * yet, writes one for a run that failed with err: the program, the
 * database, the kind of error, the message and its hint.  mig_report_error
 * calls it, so a failed connection leaves a summary too. */
void gh_summary_error(const struct mig_err *err);
/*
 * The database a run is about, for fleets: --label NAME when given, else
 * the masked URL of the first database opened (mig_db_open calls
 * mig_subject_url).  A label is never replaced.  Database errors and
 * refusals name it (mig_report_error), and so do the JSON document and the
 * summaries.
 */
void mig_subject_label(const char *label);
void mig_subject_url(const char *display);
/* The label or masked URL, or NULL before any is known. */
const char *mig_subject(void);
/* The label, or NULL without --label. */
const char *mig_subject_given_label(void);
/* Prints each finding as "file:line: severity: msg" plus its hint. */
void mig_findings_print(FILE *fp, const struct mig_findings *f, bool warnings);
/* The same, every finding, none said more severe than most (a lint error
 * that does not stop the program is printed as the warning it is then). */
void mig_findings_print_as(FILE *fp, const struct mig_findings *f, enum mig_severity most);
void mig_findings_json(struct mig_buf *b, const struct mig_findings *f);
void mig_findings_annotate(const struct mig_findings *f);

#endif
