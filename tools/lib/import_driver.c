/*
 * import_driver.c: finds mig-import's Python driver, runs it in the user's
 * Python and reads its JSON answer (contract in import_driver.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "import_driver.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
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

int mig_driver_find(struct mig_driver *d, struct mig_err *err)
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

void mig_driver_release(struct mig_driver *d)
{
	free(d->script);
	d->script = NULL;
}

/*
 * What the driver (the user's migrations, Python's warnings) prints on its
 * stderr goes out through mig's own stderr, line by line: under GitHub
 * Actions that is the output gate (a "::" line is neutralised), and the
 * scratch database's password is taken out of every line first.
 */
struct relay {
	const struct mig_url *url;	/* NULL: nothing to redact */
	struct mig_buf line;
};

static void relay_line(struct relay *r, const char *s, size_t n)
{
	char *text = xstrndup(s, n);
	char *safe = r->url ? mig_url_redact(r->url, text) : xstrdup(text);
	fputs(safe, stderr);
	free(safe);
	free(text);
}

static void relay_add(struct relay *r, const char *p, size_t n)
{
	buf_add(&r->line, p, n);
	const char *s = buf_str(&r->line);
	const char *nl, *start = s;
	while ((nl = memchr(start, '\n', r->line.len - (size_t)(start - s)))) {
		relay_line(r, start, (size_t)(nl - start) + 1);
		start = nl + 1;
	}
	size_t rest = r->line.len - (size_t)(start - s);
	char *keep = xstrndup(start, rest);
	r->line.len = 0;
	buf_add(&r->line, keep, rest);
	free(keep);
}

static void relay_end(struct relay *r)
{
	if (r->line.len)
		relay_line(r, buf_str(&r->line), r->line.len);
	fflush(stderr);
	buf_release(&r->line);
}

/* Reads the driver's stdout into out and relays its stderr until both end. */
static void read_driver(int out_fd, int err_fd, struct mig_buf *out, struct relay *r)
{
	struct pollfd fds[2] = { { .fd = out_fd, .events = POLLIN },
				 { .fd = err_fd, .events = POLLIN } };
	char chunk[4096];
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
			} else if (i == 0) {
				buf_add(out, chunk, (size_t)n);
			} else {
				relay_add(r, chunk, (size_t)n);
			}
		}
	}
	relay_end(r);
}

/* Runs the driver; its stdout into out, its exit status into *status. */
static int spawn(const struct mig_driver *d, const char *url, const struct mig_url *redact,
		 const char *const *args, struct mig_buf *out, int *status,
		 struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	size_t nargs = 0;
	while (args[nargs])
		nargs++;
	int out_pipe[2], err_pipe[2];
	if (pipe(out_pipe) != 0)
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	if (pipe(err_pipe) != 0) {
		close(out_pipe[0]);
		close(out_pipe[1]);
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	}
	const char **argv = xcalloc(nargs + 3, sizeof(*argv));
	argv[0] = python;
	argv[1] = d->script;
	for (size_t i = 0; i < nargs; i++)
		argv[2 + i] = args[i];
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		for (int i = 0; i < 2; i++) {
			close(out_pipe[i]);
			close(err_pipe[i]);
		}
		free(argv);
		return mig_err_set(err, MIG_EINPUT, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(out_pipe[1], STDOUT_FILENO);
		dup2(err_pipe[1], STDERR_FILENO);
		close(out_pipe[0]);
		close(out_pipe[1]);
		close(err_pipe[0]);
		close(err_pipe[1]);
		unsetenv("MIG_IMPORT_URL");
		unsetenv("MIG_IMPORT_INI");
		unsetenv("MIG_IMPORT_SCRIPTS");
		setenv("MIG_IMPORT_VERSION_TABLE", d->version_table ? d->version_table
		       : MIG_DEFAULT_VERSION_TABLE, 1);
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
	close(out_pipe[1]);
	close(err_pipe[1]);
	struct relay r = { .url = redact, .line = MIG_BUF_INIT };
	read_driver(out_pipe[0], err_pipe[0], out, &r);
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

static int answer_error(const char *python, const char *kind, const char *msg,
			struct mig_err *err);

int mig_driver_call(const struct mig_driver *d, const char *url,
		    const char *const *args, struct mig_json *out,
		    struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	struct mig_buf text = MIG_BUF_INIT;
	int status = 0;
	/* The URL was checked before; one that does not parse has nothing the
	 * redaction could find either. */
	struct mig_url parsed = MIG_URL_INIT;
	struct mig_err ignored = MIG_ERR_INIT;
	bool have_url = url && !mig_url_parse(&parsed, url, &ignored);
	mig_err_release(&ignored);
	int rc = spawn(d, url, have_url ? &parsed : NULL, args, &text, &status, err);
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
	if (rc || mig_json_true(out, out->root, "ok")) {
		mig_url_release(&parsed);
		return rc;
	}
	const char *kind = mig_json_str(out, out->root, "kind");
	const char *raw = mig_json_str(out, out->root, "message");
	/* A migration's exception may quote the URL. */
	char *msg = have_url ? mig_url_redact(&parsed, raw ? raw : "no message")
			     : xstrdup(raw ? raw : "no message");
	mig_url_release(&parsed);
	rc = answer_error(python, kind ? kind : "?", msg, err);
	free(msg);
	return rc;
}

/* The error of an {"ok": false} answer. */
static int answer_error(const char *python, const char *kind, const char *msg,
			struct mig_err *err)
{
	if (!strcmp(kind, "no-alembic")) {
		mig_err_set(err, MIG_EINPUT, "no Alembic in %s: %s", python, msg);
		return mig_err_hint(err, "install Alembic and SQLAlchemy in that Python (Debian: "
				    "apt-get install python3-alembic, plus python3-psycopg2 for "
				    "PostgreSQL), or name another one with --python PATH");
	}
	if (!strcmp(kind, "migration"))
		return mig_err_set(err, MIG_EFOUND, "%s", msg);
	if (!strcmp(kind, "version-table")) {
		mig_err_set(err, MIG_EINPUT, "%s", msg);
		return mig_err_hint(err, "give mig-import (and mig) the table env.py uses: "
				    "--version-table NAME");
	}
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
