/*
 * import_driver.c: finds mig-import's Python driver, runs it in the user's
 * Python and reads its JSON answer (contract in import_driver.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "import_driver.h"
#include "mig.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DRIVER_NAME "mig_import_driver.py"

static char *exe_dir(void)
{
	size_t cap = 256;
	for (;;) {
		char *p = xmalloc(cap);
		ssize_t n = readlink("/proc/self/exe", p, cap);
		if (n < 0) {
			free(p);
			return NULL;
		}
		if ((size_t)n < cap) {
			p[n] = '\0';
			char *slash = strrchr(p, '/');
			char *dir = xstrndup(p, slash ? (size_t)(slash - p) : 0);
			free(p);
			return dir;
		}
		free(p);
		cap *= 2;
	}
}

int mig_driver_find(struct mig_import_driver *d, struct mig_err *err)
{
	const char *env = getenv("MIG_IMPORT_DRIVER");
	if (env && *env) {
		if (access(env, R_OK) == 0) {
			d->script = xstrdup(env);
			return MIG_OK;
		}
		mig_err_set(err, MIG_EINPUT, "MIG_IMPORT_DRIVER=%s: %s", env, strerror(errno));
		return mig_err_hint(err, "point it at mig_import_driver.py, or unset it");
	}
	char *dir = exe_dir();
	char *beside = dir ? xasprintf("%s/" DRIVER_NAME, dir) : NULL;
	char *shared = dir ? xasprintf("%s/../share/mig/" DRIVER_NAME, dir) : NULL;
	int rc = MIG_OK;
	if (beside && access(beside, R_OK) == 0) {
		d->script = beside;
		beside = NULL;
	} else if (shared && access(shared, R_OK) == 0) {
		d->script = shared;
		shared = NULL;
	} else {
		rc = mig_err_set(err, MIG_EINPUT, "cannot find %s (looked in %s and %s)",
				 DRIVER_NAME, beside ? beside : "the program's folder",
				 shared ? shared : "../share/mig");
		mig_err_hint(err, "reinstall mig (make install puts it in PREFIX/share/mig), "
			     "or set MIG_IMPORT_DRIVER");
	}
	free(beside);
	free(shared);
	free(dir);
	return rc;
}

void mig_driver_release(struct mig_import_driver *d)
{
	free(d->script);
	d->script = NULL;
}

/* Runs the driver; its stdout into out, its exit status into *status. */
static int spawn(const struct mig_import_driver *d, const char *url, const char *const *args,
		 struct mig_buf *out, int *status, struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	size_t nargs = 0;
	while (args[nargs])
		nargs++;
	const char **argv = xcalloc(nargs + 3, sizeof(*argv));
	argv[0] = python;
	argv[1] = d->script;
	for (size_t i = 0; i < nargs; i++)
		argv[2 + i] = args[i];
	int fds[2];
	if (pipe(fds) != 0) {
		free(argv);
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(argv);
		return mig_err_set(err, MIG_EINPUT, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		unsetenv("MIG_IMPORT_URL");
		unsetenv("MIG_IMPORT_INI");
		unsetenv("MIG_IMPORT_SCRIPTS");
		if (url)
			setenv("MIG_IMPORT_URL", url, 1);
		if (d->ini)
			setenv("MIG_IMPORT_INI", d->ini, 1);
		else
			setenv("MIG_IMPORT_SCRIPTS", d->scripts, 1);
		/* Unbuffered, and no .pyc files written into the user's project. */
		setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
		execvp(python, (char *const *)argv);
		_exit(127);
	}
	free(argv);
	close(fds[1]);
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return MIG_OK;
}

static int load_json(struct mig_json *j, const struct mig_buf *text, struct mig_err *err)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return mig_err_set(err, MIG_EINPUT, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf_str(text), text->len);
	int ok = yaml_parser_load(&p, &j->doc);
	if (ok) {
		j->loaded = true;
		j->root = yaml_document_get_root_node(&j->doc);
	}
	int rc = MIG_OK;
	if (!ok || !j->root || j->root->type != YAML_MAPPING_NODE)
		rc = mig_err_set(err, MIG_EINPUT, "the import driver's answer is not a JSON "
				 "object (%s)", ok ? "no document" : p.problem ? p.problem : "?");
	yaml_parser_delete(&p);
	return rc;
}

int mig_driver_call(const struct mig_import_driver *d, const char *url,
		    const char *const *args, struct mig_json *out,
		    struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	struct mig_buf text = MIG_BUF_INIT;
	int status = 0;
	int rc = spawn(d, url, args, &text, &status, err);
	if (!rc && WIFEXITED(status) && WEXITSTATUS(status) == 127 && !text.len) {
		rc = mig_err_set(err, MIG_EINPUT, "cannot run %s: not found or not executable",
				 python);
		mig_err_hint(err, "install Python 3 with Alembic (Debian: apt-get install "
			     "python3 python3-alembic), or name your Python with --python PATH");
	} else if (!rc && !text.len) {
		rc = mig_err_set(err, MIG_EINPUT, "%s %s printed nothing (exit status %d); "
				 "its error is above", python, d->script,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	if (!rc)
		rc = load_json(out, &text, err);
	buf_release(&text);
	if (rc || mig_json_true(out, out->root, "ok"))
		return rc;
	const char *kind = mig_json_str(out, out->root, "kind");
	const char *msg = mig_json_str(out, out->root, "message");
	if (!kind)
		kind = "?";
	if (!msg)
		msg = "no message";
	if (!strcmp(kind, "no-alembic")) {
		mig_err_set(err, MIG_EINPUT, "no Alembic in %s: %s", python, msg);
		return mig_err_hint(err, "install Alembic and SQLAlchemy in that Python (Debian: "
				    "apt-get install python3-alembic, plus python3-psycopg2 for "
				    "PostgreSQL), or name another one with --python PATH");
	}
	if (!strcmp(kind, "migration"))
		return mig_err_set(err, MIG_EFOUND, "%s", msg);
	mig_err_set(err, MIG_EINPUT, "Alembic cannot load the history: %s", msg);
	return mig_err_hint(err, "run 'alembic history' in the project to see the same "
			    "error; mig-import converts only a history Alembic can run");
}

const yaml_node_t *mig_json_get(const struct mig_json *j, const yaml_node_t *map,
				const char *key)
{
	if (!j->loaded || !map || map->type != YAML_MAPPING_NODE)
		return NULL;
	yaml_document_t *doc = (yaml_document_t *)&j->doc;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !strcmp((const char *)n->data.scalar.value, "null"))
		return NULL;
	return (const char *)n->data.scalar.value;
}

const char *mig_json_str(const struct mig_json *j, const yaml_node_t *map,
			 const char *key)
{
	return scalar(mig_json_get(j, map, key));
}

bool mig_json_true(const struct mig_json *j, const yaml_node_t *map, const char *key)
{
	const char *s = mig_json_str(j, map, key);
	return s && !strcmp(s, "true");
}

size_t mig_json_len(const yaml_node_t *seq)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

const yaml_node_t *mig_json_item(const struct mig_json *j, const yaml_node_t *seq,
				 size_t i)
{
	if (i >= mig_json_len(seq))
		return NULL;
	return yaml_document_get_node((yaml_document_t *)&j->doc,
				      seq->data.sequence.items.start[i]);
}

void mig_json_strv(const struct mig_json *j, const yaml_node_t *map,
		   const char *key, struct mig_strv *out)
{
	const yaml_node_t *seq = mig_json_get(j, map, key);
	for (size_t i = 0; i < mig_json_len(seq); i++) {
		const char *s = scalar(mig_json_item(j, seq, i));
		if (s)
			strv_push(out, s);
	}
}

void mig_json_release(struct mig_json *j)
{
	if (j->loaded)
		yaml_document_delete(&j->doc);
	j->loaded = false;
	j->root = NULL;
}
