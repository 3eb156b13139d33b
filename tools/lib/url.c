/*
 * url.c: database URLs in SQLAlchemy's forms (DESIGN.md "Database URLs").
 *
 * SQLite URLs are taken apart here because libsqlite has no URL of this
 * shape; PostgreSQL URLs are handed to libpq, which parses them, after the
 * "+driver" part is dropped (reading one is what first loads libpq, pq.h).  The only thing this file looks for in a
 * PostgreSQL URL is the password, so that it can be masked wherever the URL
 * or a message quoting it is printed.
 */
#define _POSIX_C_SOURCE 200809L
#include "pq.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *mig_dialect_name(enum mig_dialect d)
{
	switch (d) {
	case MIG_SQLITE:
		return "sqlite";
	case MIG_POSTGRESQL:
		return "postgresql";
	default:
		return "any";
	}
}

static int parse_sqlite(struct mig_url *url, const char *text, const char *rest,
			struct mig_err *err)
{
	url->dialect = MIG_SQLITE;
	url->display = xstrdup(text);
	if (!*rest || !strcmp(rest, "/:memory:")) {
		url->path = xstrdup(":memory:");
		return MIG_OK;
	}
	if (rest[0] != '/') {
		mig_err_set(err, MIG_EINPUT,
			    "'%s': a SQLite URL has no host part", text);
		return mig_err_hint(err, "use sqlite:///relative/path.db or "
				    "sqlite:////absolute/path.db");
	}
	if (strchr(rest, '?')) {
		mig_err_set(err, MIG_EINPUT,
			    "'%s': query parameters are not supported in SQLite URLs",
			    text);
		return mig_err_hint(err, "name the file alone, e.g. sqlite:///app.db");
	}
	if (!rest[1])
		return mig_err_set(err, MIG_EINPUT, "'%s': no database file named",
				   text);
	url->path = xstrdup(rest + 1);
	return MIG_OK;
}

/*
 * Finds the password in "scheme://user:password@host/...?password=...":
 * sets *start and *len to the raw text (not decoded), or *len = 0.
 */
static void find_password(const char *u, size_t *start, size_t *len)
{
	*start = *len = 0;
	const char *auth = strstr(u, "://");
	if (!auth)
		return;
	auth += 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			*start = (size_t)(colon + 1 - u);
			*len = (size_t)(at - colon - 1);
			return;
		}
	}
	const char *q = strchr(u, '?');
	for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
		if (!strncmp(p + 1, "password=", 9)) {
			*start = (size_t)(p + 10 - u);
			*len = strcspn(p + 10, "&#");
			return;
		}
	}
}

/* The URL as libpq understood it, with every secret option as "***":
 * built from libpq's own parse, so nothing libpq reads is echoed raw. */
static char *display_of(const PQconninfoOption *opts)
{
	const char *user = NULL, *host = NULL, *port = NULL, *db = NULL;
	bool secret = false;
	struct mig_buf query = MIG_BUF_INIT, b = MIG_BUF_INIT;
	for (const PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (!strcmp(o->keyword, "password"))
			secret = true;
		else if (!strcmp(o->keyword, "user"))
			user = o->val;
		else if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "port"))
			port = o->val;
		else if (!strcmp(o->keyword, "dbname"))
			db = o->val;
		else
			buf_printf(&query, "%s%s=%s", query.len ? "&" : "?", o->keyword,
				   strchr(o->dispchar, '*') ? "***" : o->val);
	}
	buf_printf(&b, "postgresql://%s%s%s%s%s%s%s%s", user ? user : "",
		   secret ? ":***" : "", user || secret ? "@" : "", host ? host : "",
		   port ? ":" : "", port ? port : "", db ? "/" : "", db ? db : "");
	buf_puts(&b, buf_str(&query));
	buf_release(&query);
	return buf_detach(&b);
}

/* Every secret libpq found (password, sslpassword, ...), for redaction. */
static void collect_secrets(struct mig_url *url, const PQconninfoOption *opts)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val || !strchr(o->dispchar, '*'))
			continue;
		if (!url->password_decoded)
			url->password_decoded = xstrdup(o->val);
		else if (!url->other_secret)
			url->other_secret = xstrdup(o->val);
	}
}

static int parse_postgresql(struct mig_url *url, const char *rest, struct mig_err *err)
{
	const struct mig_pq *pq = mig_pq_load(err);
	if (!pq)
		return err->code;
	url->dialect = MIG_POSTGRESQL;
	url->conninfo = xasprintf("postgresql://%s", rest);
	size_t pstart, plen;
	find_password(url->conninfo, &pstart, &plen);
	if (plen)	/* the raw text too: messages may quote it undecoded */
		url->password = xstrndup(url->conninfo + pstart, plen);
	char *perr = NULL;
	PQconninfoOption *opts = pq->PQconninfoParse(url->conninfo, &perr);
	if (!opts) {
		char *why = perr ? mig_url_redact(url, perr) : xstrdup("malformed");
		/* libpq quotes the URI or a token of it: drop the quote, which may
		 * hold a password too short or too mangled to be redacted */
		why[strcspn(why, "\"")] = '\0';
		size_t n = strlen(why);
		while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
			why[--n] = '\0';
		mig_err_set(err, MIG_EINPUT, "malformed PostgreSQL URL: %s", why);
		free(why);
		pq->PQfreemem(perr);
		return mig_err_hint(err, "the form is postgresql://user:password@host:port/dbname"
				    " (percent-encode @ : / %% in the password)");
	}
	collect_secrets(url, opts);
	url->display = display_of(opts);
	pq->PQconninfoFree(opts);
	return MIG_OK;
}

int mig_url_parse(struct mig_url *url, const char *text, struct mig_err *err)
{
	memset(url, 0, sizeof(*url));
	const char *sep = strstr(text, "://");
	if (!sep) {	/* not quoted: it may hold a password */
		mig_err_set(err, MIG_EINPUT, "the database URL has no scheme://");
		return mig_err_hint(err, "use sqlite:///path.db or "
				    "postgresql://user@host/dbname");
	}
	size_t slen = (size_t)(sep - text);
	size_t blen = strcspn(text, "+");
	if (blen > slen)
		blen = slen;
	const char *rest = sep + 3;
	int rc;
	if (blen == 6 && !strncmp(text, "sqlite", 6) && blen == slen)
		rc = parse_sqlite(url, text, rest, err);
	else if ((blen == 10 && !strncmp(text, "postgresql", 10)) ||
		 (blen == 8 && !strncmp(text, "postgres", 8)))
		rc = parse_postgresql(url, rest, err);
	else {
		mig_err_set(err, MIG_EINPUT, "unsupported database URL scheme '%.*s'",
			    (int)slen, text);
		rc = mig_err_hint(err, "mig speaks sqlite:/// and postgresql://");
	}
	if (rc)
		mig_url_release(url);
	return rc;
}

void mig_url_release(struct mig_url *url)
{
	free(url->path);
	free(url->conninfo);
	free(url->display);
	free(url->password);
	free(url->password_decoded);
	free(url->other_secret);
	memset(url, 0, sizeof(*url));
}

static char *replace_all(const char *s, const char *what)
{
	struct mig_buf b = MIG_BUF_INIT;
	size_t wlen = strlen(what);
	const char *p;
	while ((p = strstr(s, what))) {
		buf_add(&b, s, (size_t)(p - s));
		buf_puts(&b, "***");
		s = p + wlen;
	}
	buf_puts(&b, s);
	return buf_detach(&b);
}

char *mig_url_redact(const struct mig_url *url, const char *s)
{
	char *out = xstrdup(s);
	const char *secrets[3] = { url->password, url->password_decoded,
				   url->other_secret };
	for (int i = 0; i < 3; i++) {
		/* shorter ones would turn every message into stars; they are
		 * masked wherever the URL itself is printed all the same */
		if (!secrets[i] || strlen(secrets[i]) < 4)
			continue;
		char *next = replace_all(out, secrets[i]);
		free(out);
		out = next;
	}
	return out;
}
