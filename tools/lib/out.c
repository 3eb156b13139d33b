/*
 * out.c: output that several programs share: JSON strings, findings as text
 * and JSON, and GitHub Actions annotations, step outputs and summaries
 * (DESIGN.md "Output").
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_sequence(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		lo = p[0] == 0xe0 ? 0xa0 : 0x80;
		hi = p[0] == 0xed ? 0x9f : 0xbf;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		lo = p[0] == 0xf0 ? 0x90 : 0x80;
		hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* File names and headers may be in any encoding; JSON must be UTF-8, so a
 * byte that starts no valid sequence becomes U+FFFD, as Python's
 * errors="replace" does. */
void json_str(struct mig_buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		default:
			if (*p < 0x20) {
				buf_printf(b, "\\u%04x", *p);
			} else if (*p < 0x80) {
				buf_putc(b, (char)*p);
			} else {
				size_t n = utf8_sequence(p);
				if (n) {
					buf_add(b, (const char *)p, n);
					p += n - 1;
				} else {
					buf_puts(b, "\\ufffd");
				}
			}
		}
	}
	buf_putc(b, '"');
}

void json_strv(struct mig_buf *b, const struct mig_strv *sv)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			buf_putc(b, ',');
		json_str(b, sv->v[i]);
	}
	buf_putc(b, ']');
}

bool gh_active(void)
{
	const char *v = getenv("GITHUB_ACTIONS");
	return v && !strcmp(v, "true");
}

/* GitHub's workflow-command escaping: data and property values differ. */
static void gh_escape(FILE *fp, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", fp);
		else if (*s == '\r')
			fputs("%0D", fp);
		else if (*s == '\n')
			fputs("%0A", fp);
		else if (property && *s == ':')
			fputs("%3A", fp);
		else if (property && *s == ',')
			fputs("%2C", fp);
		else
			fputc(*s, fp);
	}
}

void gh_mask(const char *secret)
{
	if (!gh_active() || !secret || !*secret)
		return;
	fputs("::add-mask::", stderr);
	gh_escape(stderr, secret, false);
	fputc('\n', stderr);
}

void gh_annotate(FILE *fp, enum mig_severity sev, const char *file, int line,
		 const char *msg)
{
	fputs(sev == MIG_SEV_ERROR ? "::error" : "::warning", fp);
	if (file) {
		fputs(" file=", fp);
		gh_escape(fp, file, true);
		if (line > 0)
			fprintf(fp, ",line=%d", line);
	}
	fputs("::", fp);
	gh_escape(fp, msg, false);
	fputc('\n', fp);
}

static int gh_append(const char *var, const char *text)
{
	const char *path = getenv(var);
	if (!path || !*path)
		return MIG_OK;
	FILE *fp = fopen(path, "a");
	if (!fp) {
		mig_warn("cannot write %s (%s): %s", var, path, strerror(errno));
		return MIG_EINPUT;
	}
	fputs(text, fp);
	if (fclose(fp) != 0) {
		mig_warn("cannot write %s (%s): %s", var, path, strerror(errno));
		return MIG_EINPUT;
	}
	return MIG_OK;
}

int gh_output(const char *key, const char *value)
{
	if (!gh_active())
		return MIG_OK;
	char *line = xasprintf("%s=%s\n", key, value);
	for (char *p = line + strlen(key) + 1; *p && p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	int rc = gh_append("GITHUB_OUTPUT", line);
	free(line);
	return rc;
}

int gh_summary(const char *markdown)
{
	if (!gh_active())
		return MIG_OK;
	return gh_append("GITHUB_STEP_SUMMARY", markdown);
}

void mig_findings_print(FILE *fp, const struct mig_findings *f, bool warnings)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		if (x->severity == MIG_SEV_WARNING && !warnings)
			continue;
		const char *sev = x->severity == MIG_SEV_ERROR ? "error" : "warning";
		if (x->file && x->line)
			fprintf(fp, "%s:%d: %s: %s\n", x->file, x->line, sev, x->msg);
		else if (x->file)
			fprintf(fp, "%s: %s: %s\n", x->file, sev, x->msg);
		else
			fprintf(fp, "%s: %s\n", sev, x->msg);
		if (x->hint)
			fprintf(fp, "  hint: %s\n", x->hint);
	}
}

void mig_findings_json(struct mig_buf *b, const struct mig_findings *f)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		buf_puts(b, i ? ",{" : "{");
		buf_puts(b, "\"severity\":");
		json_str(b, x->severity == MIG_SEV_ERROR ? "error" : "warning");
		buf_puts(b, ",\"code\":");
		json_str(b, x->code);
		buf_puts(b, ",\"file\":");
		json_str(b, x->file);
		buf_printf(b, ",\"line\":%d,\"message\":", x->line);
		json_str(b, x->msg);
		buf_puts(b, ",\"hint\":");
		json_str(b, x->hint);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

void mig_findings_annotate(const struct mig_findings *f)
{
	if (!gh_active())
		return;
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		char *msg = x->hint ? xasprintf("%s (%s)", x->msg, x->hint)
				    : xstrdup(x->msg);
		gh_annotate(stderr, x->severity, x->file, x->line, msg);
		free(msg);
	}
}
