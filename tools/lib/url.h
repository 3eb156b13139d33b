/*
 * url.h: database URLs (SQLAlchemy style, sqlite:/// and postgresql://) and
 * the secrets in them.  Parsing is libpq's (PQconninfoParse) for PostgreSQL.
 * A parsed struct mig_url owns its strings; mig_url_release frees them.
 * mig_url_parse fails with MIG_EINPUT and a message without the password;
 * the caller releases the url after a failure as after success.
 */
#ifndef MIG_URL_H
#define MIG_URL_H

#include "mig.h"

enum mig_dialect { MIG_DIALECT_ANY = 0, MIG_SQLITE, MIG_POSTGRESQL };
/* "sqlite", "postgresql" (a static string). */
const char *mig_dialect_name(enum mig_dialect d);

struct mig_url {
	enum mig_dialect dialect;
	char *path;		/* SQLite: file path or ":memory:" */
	char *conninfo;		/* PostgreSQL: the URL without "+driver" */
	char *display;		/* the URL with any password as "***" */
	char *password;		/* as written in the URL (maybe percent-encoded) */
	char *password_decoded;	/* the password libpq will send */
	char *other_secret;	/* e.g. sslpassword */
	char *sent_password;	/* PQpass() after connecting: from the URL,
				 * PGPASSWORD or a pgpass file; all four are
				 * redacted from every message */
};
#define MIG_URL_INIT { MIG_DIALECT_ANY, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
/* Registers a secret with the GitHub Actions runner (gh_mask), whole: a
 * secret shorter than 4 characters is not registered, since the runner
 * would hide that text everywhere; mig never prints one either way. */
void mig_url_mask_secrets(const struct mig_url *url);
int mig_url_parse(struct mig_url *url, const char *text, struct mig_err *err);
void mig_url_release(struct mig_url *url);
/* Replaces every occurrence of the URL's password in s; returns a new string. */
char *mig_url_redact(const struct mig_url *url, const char *s);

#endif
