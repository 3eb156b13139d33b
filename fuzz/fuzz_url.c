/*
 * fuzz_url.c: libFuzzer target for database URLs: mig_url_parse and
 * mig_url_redact.
 *
 * The input, up to its first NUL, is the text given to -d.  Besides what
 * the sanitizers catch, the target aborts when a password escapes: for a
 * PostgreSQL URL that parses, libpq itself is asked what password it would
 * send from the URL's display form (the one every message prints), which
 * must be none or the mask "***"; and the connection string after
 * mig_url_redact must not hold the password, raw or decoded.  (Passwords
 * shorter than 4 characters are not redacted inside messages, by design,
 * so the second check skips them.)
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"
#include "pq.h"
#include "url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The password libpq reads from a connection string: NULL when it has none
 * or cannot parse it; "" when the string sets an empty one.  Caller frees. */
static char *libpq_password(const char *conninfo)
{
	struct mig_err err = MIG_ERR_INIT;
	const struct mig_pq *pq = mig_pq_load(&err);	/* as mig_url_parse did */
	if (!pq)
		abort();
	char *perr = NULL;
	PQconninfoOption *opts = pq->PQconninfoParse(conninfo, &perr);
	pq->PQfreemem(perr);
	if (!opts)
		return NULL;
	char *pw = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val)
			pw = xstrdup(o->val);
	pq->PQconninfoFree(opts);
	return pw;
}

static void check_masked(const char *conninfo)
{
	char *pw = libpq_password(conninfo);
	if (pw && *pw && strcmp(pw, "***"))
		abort();
	free(pw);
}

static void check_postgresql(const struct mig_url *url)
{
	if (!url->conninfo || !url->display || url->path)
		abort();
	check_masked(url->display);
	if (url->password && strlen(url->password) >= 4 &&
	    url->password_decoded && strlen(url->password_decoded) >= 4) {
		char *redacted = mig_url_redact(url, url->conninfo);
		if (strstr(redacted, url->password) ||
		    strstr(redacted, url->password_decoded))
			abort();
		free(redacted);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct mig_url url;
	struct mig_err err = MIG_ERR_INIT;
	int rc = mig_url_parse(&url, text, &err);
	if (rc != MIG_OK) {
		if (rc != MIG_EINPUT || err.code != rc || !err.msg || url.display)
			abort();
	} else if (url.dialect == MIG_SQLITE) {
		if (!url.path || !url.display || url.password)
			abort();
	} else if (url.dialect == MIG_POSTGRESQL) {
		check_postgresql(&url);
	} else {
		abort();
	}
	char *redacted = mig_url_redact(&url, text);
	free(redacted);
	mig_url_release(&url);
	mig_err_release(&err);
	free(text);
	return 0;
}
