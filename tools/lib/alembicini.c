/*
 * alembicini.c: reads the few settings mig honours from an Alembic
 * project's alembic.ini (inih parses the file) and matches file names
 * against Alembic's file_template (POSIX regular expressions).
 */
#define _POSIX_C_SOURCE 200809L
#include "alembicini.h"
#include "mig.h"

#include <ini.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Alembic's default (script/base.py, _default_file_template). */
#define DEFAULT_FILE_TEMPLATE "%(rev)s_%(slug)s"

static int take_template(void *user, const char *section, const char *name,
			 const char *value)
{
	char **out = user;
	if (!strcmp(section, "alembic") && !strcasecmp(name, "file_template")) {
		free(*out);
		*out = xstrdup(value);
	}
	return 1;
}

/* configparser's interpolation, for the part a template uses: "%%" is "%". */
static char *unescape_percent(const char *s)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "");
	for (; *s; s++) {
		buf_putc(&b, *s);
		if (s[0] == '%' && s[1] == '%')
			s++;
	}
	return buf_detach(&b);
}

char *mig_alembic_file_template(const char *dir)
{
	char *paths[2] = { xasprintf("%s/../alembic.ini", dir),
			   xasprintf("%s/alembic.ini", dir) };
	char *raw = NULL;
	for (size_t i = 0; i < 2 && !raw; i++) {
		char *found = NULL;
		if (ini_parse(paths[i], take_template, &found) == 0)
			raw = found;
		else
			free(found);
	}
	free(paths[0]);
	free(paths[1]);
	if (!raw)
		return NULL;
	char *t = unescape_percent(raw);
	free(raw);
	return t;
}

static void put_literal(struct mig_buf *re, char c)
{
	if (strchr(".[]()*+?{}|^$\\", c))
		buf_putc(re, '\\');
	buf_putc(re, c);
}

/* The pattern of one "%(name)..." field. */
static void put_field(struct mig_buf *re, const char *name, size_t n, const char *rev)
{
	static const char *const numeric[] = { "year", "month", "day", "hour",
					       "minute", "second", "epoch", NULL };
	if (n == 3 && !strncmp(name, "rev", 3)) {
		for (const char *p = rev; *p; p++)
			put_literal(re, *p);
		return;
	}
	for (size_t i = 0; numeric[i]; i++)
		if (strlen(numeric[i]) == n && !strncmp(name, numeric[i], n)) {
			buf_puts(re, "[0-9]+");
			return;
		}
	buf_puts(re, ".*");	/* the slug, or a field mig does not know */
}

bool mig_file_template_matches(const char *template, const char *name,
			       const char *rev)
{
	struct mig_buf re = MIG_BUF_INIT;
	buf_putc(&re, '^');
	for (const char *p = template ? template : DEFAULT_FILE_TEMPLATE; *p; p++) {
		if (p[0] == '%' && p[1] == '%') {
			put_literal(&re, '%');
			p++;
		} else if (p[0] == '%' && p[1] == '(' && strchr(p, ')')) {
			const char *close = strchr(p, ')');
			put_field(&re, p + 2, (size_t)(close - p - 2), rev);
			/* the conversion: flags, width, precision, then a letter */
			p = close + 1;
			while (*p && strchr("#0- +.0123456789", *p))
				p++;
			if (!*p)
				break;
		} else {
			put_literal(&re, *p);
		}
	}
	buf_puts(&re, "\\.py$");
	regex_t rx;
	bool match = false;
	if (regcomp(&rx, buf_str(&re), REG_EXTENDED | REG_NOSUB) == 0) {
		match = regexec(&rx, name, 0, NULL, 0) == 0;
		regfree(&rx);
	}
	buf_release(&re);
	return match;
}
