/*
 * import_driver.c: finds mig-import's Python driver, runs it in the user's
 * Python and reads its JSON answer (contract in import_driver.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "import_driver.h"
#include "mig.h"
#include "out.h"
#include "url.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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



/*
 * The driver runs as one server process for the whole import ("serve"):
 * one request a line on its stdin, one JSON answer a line on its stdout,
 * so Python, SQLAlchemy and Alembic start once instead of once per step.
 *
 * What it prints on its stderr (the user's migrations, Python's warnings)
 * goes out through mig's own stderr, line by line: under GitHub Actions
 * that is the output gate (a "::" line is neutralised), and the password
 * of every URL the driver was given is taken out of each line first.
 */
static char *redacted(const struct mig_import_driver *d, const char *s)
{
	char *out = xstrdup(s);
	for (size_t i = 0; i < d->nurls; i++) {
		char *next = mig_url_redact(&d->urls[i], out);
		free(out);
		out = next;
	}
	return out;
}

static void relay_line(const struct mig_import_driver *d, const char *s, size_t n)
{
	char *text = xstrndup(s, n);
	char *safe = redacted(d, text);
	fputs(safe, stderr);
	free(safe);
	free(text);
}

static void relay_add(struct mig_import_driver *d, const char *p, size_t n)
{
	buf_add(&d->errline, p, n);
	const char *s = buf_str(&d->errline);
	const char *nl, *start = s;
	while ((nl = memchr(start, '\n', d->errline.len - (size_t)(start - s)))) {
		relay_line(d, start, (size_t)(nl - start) + 1);
		start = nl + 1;
	}
	size_t rest = d->errline.len - (size_t)(start - s);
	char *keep = xstrndup(start, rest);
	d->errline.len = 0;
	buf_add(&d->errline, keep, rest);
	free(keep);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

enum pump_until {
	PUMP_READY,	/* only what is there already */
	PUMP_LINE,	/* until d->pending holds a whole line, or stdout ended */
	PUMP_END,	/* until both ended */
};

/* Reads what the server has written: stdout into d->pending, stderr
 * relayed. */
static void pump(struct mig_import_driver *d, enum pump_until until)
{
	char chunk[4096];
	bool want_line = until != PUMP_READY;
	for (;;) {
		if (until == PUMP_LINE && (memchr(buf_str(&d->pending), '\n', d->pending.len) ||
					   d->from_fd < 0))
			return;
		struct pollfd fds[2] = { { .fd = d->from_fd, .events = POLLIN },
					 { .fd = d->err_fd, .events = POLLIN } };
		if (fds[0].fd < 0 && fds[1].fd < 0)
			return;
		int ready = poll(fds, 2, want_line ? -1 : 0);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				close_fd(i == 0 ? &d->from_fd : &d->err_fd);
			else if (i == 0)
				buf_add(&d->pending, chunk, (size_t)n);
			else
				relay_add(d, chunk, (size_t)n);
		}
	}
}

static void set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static int start_server(struct mig_import_driver *d, struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	int in[2], out[2], errp[2];
	if (pipe(in) != 0)
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	}
	if (pipe(errp) != 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return mig_err_set(err, MIG_EINPUT, "pipe: %s", strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int fds[] = { in[0], in[1], out[0], out[1], errp[0], errp[1] };
		for (size_t i = 0; i < 6; i++)
			close(fds[i]);
		return mig_err_set(err, MIG_EINPUT, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		int fds[] = { in[0], in[1], out[0], out[1], errp[0], errp[1] };
		for (size_t i = 0; i < 6; i++)
			close(fds[i]);
		/* The URL comes with each request; a stale one must not. */
		unsetenv("MIG_IMPORT_URL");
		unsetenv("MIG_IMPORT_INI");
		unsetenv("MIG_IMPORT_SCRIPTS");
		if (d->ini)
			setenv("MIG_IMPORT_INI", d->ini, 1);
		else
			setenv("MIG_IMPORT_SCRIPTS", d->scripts, 1);
		setenv("MIG_IMPORT_VERSION_TABLE", d->version_table ? d->version_table
		       : MIG_DEFAULT_VERSION_TABLE, 1);
		/* No .pyc files written into the user's project. */
		setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
		const char *argv[] = { python, d->script, "serve", NULL };
		execvp(python, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	d->pid = pid;
	d->to_fd = in[1];
	d->from_fd = out[0];
	d->err_fd = errp[0];
	set_cloexec(d->to_fd);
	set_cloexec(d->from_fd);
	set_cloexec(d->err_fd);
	return MIG_OK;
}

/* Writes a request; false when the server is gone (its answer, if any, is
 * still read). */
static bool send_request(struct mig_import_driver *d, const char *text, size_t n)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGPIPE, &ignore, &old);
	bool ok = d->to_fd >= 0;
	while (ok && n) {
		ssize_t w = write(d->to_fd, text, n);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		if (ok) {
			text += w;
			n -= (size_t)w;
		}
	}
	sigaction(SIGPIPE, &old, NULL);
	return ok;
}

/* Ends the server: stdin closed, the rest of its output read, reaped. */
static int stop_server(struct mig_import_driver *d)
{
	int status = 0;
	if (!d->pid)
		return 0;
	close_fd(&d->to_fd);
	pump(d, PUMP_END);
	d->pending.len = 0;
	if (d->errline.len)
		relay_line(d, buf_str(&d->errline), d->errline.len);
	d->errline.len = 0;
	fflush(stderr);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	return status;
}

static void remember_url(struct mig_import_driver *d, const char *url)
{
	for (size_t i = 0; i < d->nurls; i++)
		if (!strcmp(d->url_texts.v[i], url))
			return;
	/* The URL was checked before; one that does not parse has nothing
	 * the redaction could find either. */
	struct mig_url parsed = MIG_URL_INIT;
	struct mig_err ignored = MIG_ERR_INIT;
	if (mig_url_parse(&parsed, url, &ignored)) {
		mig_err_release(&ignored);
		mig_url_release(&parsed);
		return;
	}
	d->urls = xrealloc(d->urls, (d->nurls + 1) * sizeof(*d->urls));
	d->urls[d->nurls++] = parsed;
	strv_push(&d->url_texts, url);
}

/* One request and its answer line (without the newline) into *answer;
 * MIG_OK with an empty answer when the server ended without one. */
static int exchange(struct mig_import_driver *d, const char *url, const char *const *args,
		    struct mig_buf *answer, int *status, struct mig_err *err)
{
	if (url)
		remember_url(d, url);
	int rc = d->pid ? MIG_OK : start_server(d, err);
	if (rc)
		return rc;
	struct mig_buf req = MIG_BUF_INIT;
	buf_puts(&req, "{\"url\":");
	json_str(&req, url);
	buf_puts(&req, ",\"args\":[");
	for (size_t i = 0; args[i]; i++) {
		if (i)
			buf_putc(&req, ',');
		json_str(&req, args[i]);
	}
	buf_puts(&req, "]}\n");
	send_request(d, buf_str(&req), req.len);
	buf_release(&req);
	pump(d, PUMP_LINE);
	const char *p = buf_str(&d->pending);
	const char *nl = memchr(p, '\n', d->pending.len);
	if (nl) {
		buf_add(answer, p, (size_t)(nl - p));
		size_t rest = d->pending.len - (size_t)(nl + 1 - p);
		char *keep = xstrndup(nl + 1, rest);
		d->pending.len = 0;
		buf_add(&d->pending, keep, rest);
		free(keep);
		/* What it printed before answering is in the pipe already. */
		pump(d, PUMP_READY);
	} else {
		d->pending.len = 0;
		*status = stop_server(d);
	}
	fflush(stderr);
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

int mig_driver_call(struct mig_import_driver *d, const char *url,
		    const char *const *args, struct mig_json *out,
		    struct mig_err *err)
{
	const char *python = d->python ? d->python : "python3";
	struct mig_buf text = MIG_BUF_INIT;
	int status = 0;
	int rc = exchange(d, url, args, &text, &status, err);
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
	const char *raw = mig_json_str(out, out->root, "message");
	/* A migration's exception may quote the URL. */
	char *msg = redacted(d, raw ? raw : "no message");
	rc = answer_error(python, kind ? kind : "?", msg, err);
	free(msg);
	return rc;
}

void mig_driver_release(struct mig_import_driver *d)
{
	stop_server(d);
	buf_release(&d->pending);
	buf_release(&d->errline);
	for (size_t i = 0; i < d->nurls; i++)
		mig_url_release(&d->urls[i]);
	free(d->urls);
	d->urls = NULL;
	d->nurls = 0;
	strv_release(&d->url_texts);
	free(d->script);
	d->script = NULL;
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
