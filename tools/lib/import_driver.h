/*
 * import_driver.h: running mig-import's Python driver
 * (tools/mig_import_driver.py) in the user's Python, and reading its answer.
 *
 * Contract:
 * - The driver is found at run time, in this order: $MIG_IMPORT_DRIVER; beside
 *   the running program (a build tree: make copies it into bin/); and
 *   ../share/mig/ from the program's folder (make install puts it in
 *   PREFIX/share/mig/).
 * - The first call starts "PYTHON DRIVER serve" with the Alembic project
 *   in its environment; each call then sends one request line (the
 *   command and the scratch database's URL: never in argv, where the
 *   process list would show a password) and reads one JSON answer line,
 *   parsed with libyaml (JSON is YAML's flow style).  mig_driver_release
 *   ends the server.
 * - What the driver prints on stderr is relayed through mig's stderr (the
 *   output gate), with the password of every URL it was given redacted;
 *   so is the message of an error it answers.
 * - Nothing is ever installed: a Python that cannot be run, or that has no
 *   Alembic, is MIG_EINPUT with what to install as the hint.
 */
#ifndef MIG_IMPORT_DRIVER_H
#define MIG_IMPORT_DRIVER_H

#include "mig.h"
#include "url.h"

#include <sys/types.h>
#include <yaml.h>

struct mig_import_driver {
	const char *python;	/* NULL: python3 on PATH */
	char *script;		/* the driver, found by mig_driver_find */
	const char *ini;	/* alembic.ini, or NULL */
	const char *scripts;	/* the script folder, when ini is NULL */
	const char *version_table;	/* the one env.py must configure */

	/* The running server (pid 0: none yet); zeroed with the rest. */
	pid_t pid;
	int to_fd, from_fd, err_fd;
	struct mig_buf pending;	/* its stdout after the last answer */
	struct mig_buf errline;	/* a stderr line not yet ended */
	struct mig_url *urls;	/* every URL it was given: redacted from its output */
	size_t nurls;
	struct mig_strv url_texts;
};

/* A parsed JSON answer; every node pointer below points into it. */
struct mig_json {
	yaml_document_t doc;
	bool loaded;
	const yaml_node_t *root;	/* a mapping */
};

/* Finds the driver (see above); MIG_EINPUT naming the places looked in. */
int mig_driver_find(struct mig_import_driver *d, struct mig_err *err);
void mig_driver_release(struct mig_import_driver *d);

/*
 * Runs the driver with args (NULL-terminated) and url (NULL: none) and
 * loads its answer into *out (which the caller releases in any case).  An
 * answer {"ok": false} is MIG_EINPUT for a history Alembic cannot load or
 * a Python without Alembic, and MIG_EFOUND for a migration that raised
 * (the answer is still in *out, with the statements sent until then).
 */
int mig_driver_call(struct mig_import_driver *d, const char *url,
		    const char *const *args, struct mig_json *out,
		    struct mig_err *err);

const yaml_node_t *mig_json_get(const struct mig_json *j, const yaml_node_t *map,
				const char *key);
/* A string value, or NULL for null, a missing key or a non-scalar. */
const char *mig_json_str(const struct mig_json *j, const yaml_node_t *map,
			 const char *key);
bool mig_json_true(const struct mig_json *j, const yaml_node_t *map, const char *key);
/* Appends the strings of the list at key (nothing when missing). */
void mig_json_strv(const struct mig_json *j, const yaml_node_t *map,
		   const char *key, struct mig_strv *out);
size_t mig_json_len(const yaml_node_t *seq);
const yaml_node_t *mig_json_item(const struct mig_json *j, const yaml_node_t *seq,
				 size_t i);
void mig_json_release(struct mig_json *j);

#endif
