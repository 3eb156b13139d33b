/*
 * json.h: the --format json contract: a run's output is one JSON document,
 * written once at exit, holding the program's result and the error that
 * stopped it (its JSON schemas are in schemas/).
 */
#ifndef MIG_JSON_H
#define MIG_JSON_H

#include "mig.h"

#include <stdbool.h>

struct mig_schema;

/* --format json: from here on, the run's output is one JSON document. */
void mig_json_enable(bool on);
bool mig_json_active(void);
/* The program's result: an object "{...}" whose members go into the
 * document (the caller's buffer is emptied).  A later call replaces it. */
void mig_json_result(struct mig_buf *object);
/* Records the error that stopped the run (the first one counts); kind
 * NULL names it after code: found, input, database, safety. */
void mig_json_error(int code, const char *kind, const char *message, const char *hint);
/* Writes the one document to stdout ({"ok", "format": 1, the result's
 * members, "error"}), once; nothing without --format json.
 * mig_close_report() and the usage errors call it. */
void mig_json_write(int rc);
/* What an exit code means, one word: found, input, database, safety (the
 * "kind" of a JSON error, the title of an error's annotation). */
const char *mig_error_kind(int code);
/* The model as JSON, with the keys of the YAML spec (--dump --format json). */
void mig_schema_json(struct mig_buf *b, const struct mig_schema *s);

#endif
