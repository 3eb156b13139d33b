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
#include "url.h"
#include "mig.h"
#include "out.h"
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
	if (!*rest || !strcmp(rest, "/:memory:")) {
		url->display = xstrdup(text);
		url->path = xstrdup(":memory:");
		return MIG_OK;
	}
	if (rest[0] != '/') {
		/* not quoted: "sqlite://user:pass@/x" would show the password */
		mig_err_set(err, MIG_EINPUT, "a SQLite URL has no host, user or "
			    "password part");
		return mig_err_hint(err, "use sqlite:///relative/path.db or "
				    "sqlite:////absolute/path.db");
	}
	if (strchr(rest, '?')) {
		mig_err_set(err, MIG_EINPUT,
			    "query parameters are not supported in SQLite URLs");
		return mig_err_hint(err, "name the file alone, e.g. sqlite:///app.db");
	}
	if (!rest[1])
		return mig_err_set(err, MIG_EINPUT, "'%s': no database file named",
				   text);
	url->path = xstrdup(rest + 1);
	url->display = xstrdup(text);
	return MIG_OK;
}

/*
 * Finds the password in "scheme://user:password@host/...?password=...":
 * sets *start and *len to the raw text (not decoded), or *len = 0.
 *
 * One rule, whatever libpq makes of the URL: the password is everything
 * between "scheme://user:" and the last '@' before the query string, so
 * an unencoded '@' or '/' in it is masked whole, never in pieces.
 */
static void find_password(const char *u, size_t *start, size_t *len)
{
	*start = *len = 0;
	const char *auth = strstr(u, "://");
	if (!auth)
		return;
	auth += 3;
	size_t alen = strcspn(auth, "?");
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

/* A password that holds '@' or '/' unencoded is read by libpq as a host,
 * port or database name and then quoted in its messages: refused before
 * libpq sees it, with the encoding to use (the password is not shown). */
static int check_password_encoding(const char *password, struct mig_err *err)
{
	static const struct {
		char c;
		const char *code;
	} reserved[] = { { '@', "%40" }, { '/', "%2F" } };
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (!strchr(password, reserved[i].c))
			continue;
		mig_err_set(err, MIG_EINPUT, "the password in the database URL holds "
			    "an unencoded '%c'", reserved[i].c);
		return mig_err_hint(err, "percent-encode it: write each '%c' in the "
				    "password as %s (and ':' as %%3A, '%%' as %%25), "
				    "e.g. postgresql://user:pass%s2024@host/db",
				    reserved[i].c, reserved[i].code, reserved[i].code);
	}
	return MIG_OK;
}

/* Percent-encodes what would change the URL's meaning if printed raw (an
 * '@' in a host would read as the end of a password), keeping the
 * characters in keep. */
static void put_component(struct mig_buf *b, const char *s, const char *keep)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) || (*p && strchr(keep, *p)))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* "host1:port1,host2:port2" from libpq's lists "host1,host2" and
 * "port1,port2" (or one port for every host). */
static void put_hosts(struct mig_buf *b, const char *hosts, const char *ports)
{
	const char *h = hosts, *p = ports;
	bool one_port = !strchr(ports, ',');
	for (bool first = true; first || *h || (!one_port && *p); first = false) {
		size_t hn = strcspn(h, ","), pn = strcspn(p, ",");
		if (!first)
			buf_putc(b, ',');
		char *host = xstrndup(h, hn), *port = xstrndup(p, pn);
		if (strchr(host, ':') && !host[strspn(host, "0123456789abcdefABCDEF:.")])
			buf_printf(b, "[%s]", host);	/* an IPv6 address */
		else	/* a socket folder's '/' encoded, so the URL reads back */
			put_component(b, host, "");
		if (*port) {
			buf_putc(b, ':');
			put_component(b, port, "");
		}
		free(host);
		free(port);
		h += hn + (h[hn] == ',');
		if (!one_port)
			p += pn + (p[pn] == ',');
		if (!*h && (one_port || !*p))
			break;
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
		else {
			buf_printf(&query, "%s%s=", query.len ? "&" : "?", o->keyword);
			if (strchr(o->dispchar, '*'))
				buf_puts(&query, "***");
			else
				put_component(&query, o->val, "/:,");
		}
	}
	buf_puts(&b, "postgresql://");
	if (user)
		put_component(&b, user, "");
	if (secret)
		buf_puts(&b, ":***");
	if (user || secret)
		buf_putc(&b, '@');
	put_hosts(&b, host ? host : "", port ? port : "");
	if (db) {
		buf_putc(&b, '/');
		put_component(&b, db, "");
	}
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

/* Whether a piece of the URL that a message would quote may hold (part
 * of) a password too short or too mangled to be redacted: the whole URL,
 * or text that lies before the URL's last '@'. */
static bool maybe_secret(const char *conninfo, const char *piece)
{
	const char *auth = strstr(conninfo, "://");
	auth = auth ? auth + 3 : conninfo;
	const char *at = strrchr(auth, '@');
	size_t userinfo = at ? (size_t)(at - auth) : 0, n = strlen(piece);
	if (strstr(piece, "://"))
		return true;
	for (size_t i = 0; n && i + n <= userinfo; i++)
		if (!memcmp(auth + i, piece, n))
			return true;
	return false;
}

/* libpq checks these values only when it connects, and then reports them
 * as a failure to connect (exit 3); they are mistakes in the URL (exit 2),
 * so they are checked here first, in libpq's words. */
static const struct {
	const char *keyword;
	const char *values;	/* the values libpq 15 accepts, space separated */
} enum_options[] = {
	{ "sslmode", "disable allow prefer require verify-ca verify-full" },
	{ "gssencmode", "disable prefer require" },
	{ "channel_binding", "disable prefer require" },
	{ "target_session_attrs", "any read-write read-only primary standby prefer-standby" },
};

static bool is_word_of(const char *v, const char *words)
{
	size_t n = strlen(v);
	for (const char *w = words; *w; w += strcspn(w, " "), w += *w == ' ') {
		if (n && strcspn(w, " ") == n && !strncmp(w, v, n))
			return true;
	}
	return false;
}

static bool valid_ports(const char *ports)
{
	for (const char *p = ports;; p++) {
		size_t n = strcspn(p, ",");
		long v = 0;
		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)p[i]) || (v = v * 10 + (p[i] - '0')) > 65535)
				return false;
		}
		if (n && v < 1)
			return false;
		p += n;
		if (!*p)
			return true;
	}
}

/* Whether the URL has a "user@" or "user:password@" part. */
static bool has_userinfo(const char *conninfo)
{
	const char *auth = strstr(conninfo, "://");
	auth = auth ? auth + 3 : conninfo;
	size_t n = strcspn(auth, "?");
	return memchr(auth, '@', n) != NULL;
}

static int check_options(const PQconninfoOption *opts, const char *conninfo,
			 struct mig_err *err)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		/* "user:pass/word@host" reads as host "user", port "pass" */
		const char *shown = maybe_secret(conninfo, o->val) ? "***" : o->val;
		if (!strcmp(o->keyword, "port") && !valid_ports(o->val)) {
			/* "user:password" with no "@host" reads as host "user",
			 * port "password": then the port is not quoted */
			if (!has_userinfo(conninfo)) {
				mig_err_set(err, MIG_EINPUT, "malformed PostgreSQL URL: the "
					    "port is not a number from 1 to 65535");
				return mig_err_hint(err, "the form is postgresql://user:password"
						    "@host:port/dbname; without an '@' what "
						    "follows 'user:' reads as the port");
			}
			mig_err_set(err, MIG_EINPUT, "malformed PostgreSQL URL: invalid "
				    "port number: \"%s\"", shown);
			return mig_err_hint(err, "a port is a number from 1 to 65535");
		}
		for (size_t i = 0; i < sizeof(enum_options) / sizeof(enum_options[0]); i++) {
			if (strcmp(o->keyword, enum_options[i].keyword) != 0 ||
			    is_word_of(o->val, enum_options[i].values))
				continue;
			mig_err_set(err, MIG_EINPUT, "malformed PostgreSQL URL: invalid "
				    "%s value: \"%s\"", o->keyword, shown);
			return mig_err_hint(err, "%s is one of: %s", o->keyword,
					    enum_options[i].values);
		}
	}
	return MIG_OK;
}

/* libpq's parse errors quote the URI, or a piece of it: the quotes that
 * maybe_secret() suspects become "***"; the others ("]", an unknown
 * parameter's name) are kept. */
static char *mask_quoted(const char *msg, const char *conninfo)
{
	struct mig_buf b = MIG_BUF_INIT;
	const char *p = msg;
	for (const char *open; (open = strchr(p, '"'));) {
		const char *close = strchr(open + 1, '"');
		if (!close)
			break;
		size_t n = (size_t)(close - open - 1);
		char *piece = xstrndup(open + 1, n);
		buf_add(&b, p, (size_t)(open - p) + 1);
		buf_puts(&b, maybe_secret(conninfo, piece) ? "***" : piece);
		buf_putc(&b, '"');
		free(piece);
		p = close + 1;
	}
	buf_puts(&b, p);
	return buf_detach(&b);
}

/* rest: what follows "postgresql://"; or, when keywords, a libpq keyword
 * connection string ("host=db dbname=app"), which libpq parses alike. */
static int parse_postgresql(struct mig_url *url, const char *rest, bool keywords,
			    struct mig_err *err)
{
	const struct mig_pq *pq = mig_pq_load(err);
	if (!pq)
		return err->code;
	url->dialect = MIG_POSTGRESQL;
	url->conninfo = keywords ? xstrdup(rest) : xasprintf("postgresql://%s", rest);
	size_t pstart = 0, plen = 0;
	if (!keywords)	/* a keyword string's password is libpq's to find */
		find_password(url->conninfo, &pstart, &plen);
	if (plen)	/* the raw text too: messages may quote it undecoded */
		url->password = xstrndup(url->conninfo + pstart, plen);
	if (url->password && check_password_encoding(url->password, err)) {
		gh_mask(url->password);	/* it is a secret all the same */
		return err->code;
	}
	char *perr = NULL;
	PQconninfoOption *opts = pq->PQconninfoParse(url->conninfo, &perr);
	if (!opts) {
		char *redacted = perr ? mig_url_redact(url, perr) : xstrdup("malformed");
		char *why = mask_quoted(redacted, url->conninfo);
		free(redacted);
		size_t n = strlen(why);
		while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
			why[--n] = '\0';
		mig_err_set(err, MIG_EINPUT, "malformed PostgreSQL URL: %s", why);
		free(why);
		pq->PQfreemem(perr);
		return mig_err_hint(err, "the form is postgresql://user:password@host:port/dbname"
				    " (percent-encode @ : / %% in the password)");
	}
	int rc = check_options(opts, url->conninfo, err);
	if (!rc) {
		collect_secrets(url, opts);
		url->display = display_of(opts);
	}
	pq->PQconninfoFree(opts);
	return rc;
}

/* The name of control character c, for a message that must not print it. */
static const char *control_name(unsigned char c)
{
	switch (c) {
	case '\n':
		return "a newline";
	case '\r':
		return "a carriage return";
	case '\t':
		return "a tab";
	default:
		return c == 0x7f ? "a DEL character" : "a control character";
	}
}

/* A pasted secret often ends in a newline, and a URL with one would open
 * a new SQLite file "app.db\n" or send a different password: refused,
 * saying where (the URL may hold a password, so it is not printed). */
static int check_characters(const char *text, struct mig_err *err)
{
	size_t n = strlen(text);
	if (n && (text[0] == ' ' || text[n - 1] == ' ')) {
		mig_err_set(err, MIG_EINPUT, "the database URL %s with a space",
			    text[0] == ' ' ? "starts" : "ends");
		return mig_err_hint(err, "remove the surrounding whitespace "
				    "(percent-encode a space inside as %%20)");
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 && c != 0x7f)
			continue;
		if (i + 1 == n)
			mig_err_set(err, MIG_EINPUT, "the database URL ends with %s "
				    "(character %zu of %zu)", control_name(c), i + 1, n);
		else
			mig_err_set(err, MIG_EINPUT, "the database URL holds %s at "
				    "character %zu of %zu", control_name(c), i + 1, n);
		return mig_err_hint(err, "a pasted secret often ends in a newline: "
				    "store the URL without it (percent-encode such "
				    "a character inside a password)");
	}
	return MIG_OK;
}

int mig_url_parse(struct mig_url *url, const char *text, struct mig_err *err)
{
	memset(url, 0, sizeof(*url));
	if (check_characters(text, err))
		return err->code;
	const char *sep = strstr(text, "://");
	if (!sep && strchr(text, '=')) {	/* libpq's "host=db dbname=app" */
		int rc = parse_postgresql(url, text, true, err);
		if (rc)
			mig_url_release(url);
		return rc;
	}
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
		rc = parse_postgresql(url, rest, false, err);
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
	free(url->sent_password);
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
	const char *secrets[4] = { url->password, url->password_decoded,
				   url->other_secret, url->sent_password };
	for (int i = 0; i < 4; i++) {
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

void mig_url_mask_secrets(const struct mig_url *url)
{
	const char *secrets[4] = { url->password, url->password_decoded,
				   url->other_secret, url->sent_password };
	for (int i = 0; i < 4; i++) {
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen = seen || (secrets[j] && secrets[i] &&
					!strcmp(secrets[i], secrets[j]));
		if (secrets[i] && strlen(secrets[i]) >= 4 && !seen)
			gh_mask(secrets[i]);
	}
}
