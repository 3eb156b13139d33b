/*
 * out.c: output that several programs share: JSON strings, findings as text
 * and JSON, and GitHub Actions annotations, step outputs and summaries
 * (DESIGN.md "Output").
 */
#define _GNU_SOURCE	/* fopencookie: the output gate */
#include "out.h"
#include "findings.h"
#include "json.h"
#include "mig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * The output gate.  Under GitHub Actions the runner obeys any line of a
 * step's output that starts, after leading whitespace, with "::" (and any
 * line holding "##[", the old form): a server message quoting a row, a
 * migration's SQL or a file's contents could forge "::add-mask::",
 * "::warning::" or "::stop-commands::".  So stdout and stderr are replaced
 * by streams that write every byte through, but put "| " before a "::"
 * that starts a line (the runner splits lines at '\r' as well as '\n') and
 * write "##[" as "# #[", except for mig's own commands, which gh_annotate()
 * and gh_mask() write in raw mode.  Every message, whoever prints it and
 * however it was built, passes this one gate; ::stop-commands:: is never
 * needed.  A stdout that is a regular file (mig-upgrade --sql > plan.sql)
 * is not read by the runner and is left exact.
 */
enum gate_state { GATE_LEAD, GATE_COLON, GATE_MID };

struct gate {
	FILE *under;		/* the original stream */
	enum gate_state state;
	int hashes;		/* '#' held back, 0 to 2 */
	unsigned char utf8[4];	/* a multibyte character held back in LEAD */
	size_t nutf8;
};

static struct gate gate_out, gate_err;
static bool gate_raw;

/* The runner trims what .NET calls white space before looking for "::":
 * all of it and more (controls, NBSP, BOM) counts here. */
static bool gate_blank(unsigned long cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

static void gate_put(struct gate *g, const void *p, size_t n)
{
	fwrite(p, 1, n, g->under);
}

static void gate_release_held(struct gate *g)
{
	if (!g->under)
		return;
	if (g->state == GATE_COLON)
		gate_put(g, ":", 1);
	gate_put(g, "##", (size_t)g->hashes);
	gate_put(g, g->utf8, g->nutf8);
	g->hashes = 0;
	g->nutf8 = 0;
	if (g->state == GATE_COLON)
		g->state = GATE_MID;
}

static void gate_byte(struct gate *g, unsigned char c)
{
	if (gate_raw) {
		gate_put(g, &c, 1);
		g->state = c == '\n' ? GATE_LEAD : GATE_MID;
		return;
	}
	if (g->nutf8) {		/* completing a character at the line's start */
		g->utf8[g->nutf8++] = c;
		size_t need = g->utf8[0] >= 0xf0 ? 4 : g->utf8[0] >= 0xe0 ? 3 : 2;
		if ((c & 0xc0) != 0x80) {	/* broken: not white space */
			gate_put(g, g->utf8, g->nutf8);
			g->nutf8 = 0;
			g->state = c == '\n' || c == '\r' ? GATE_LEAD : GATE_MID;
			return;
		}
		if (g->nutf8 < need)
			return;
		unsigned long cp = g->utf8[0] & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
		for (size_t i = 1; i < need; i++)
			cp = cp << 6 | (g->utf8[i] & 0x3f);
		gate_put(g, g->utf8, g->nutf8);
		g->nutf8 = 0;
		g->state = gate_blank(cp) ? GATE_LEAD : GATE_MID;
		return;
	}
	if (c == '#') {
		if (g->state == GATE_COLON) {
			gate_put(g, ":", 1);
			g->state = GATE_MID;
		}
		if (g->hashes < 2) {
			g->hashes++;
			return;
		}
		gate_put(g, "#", 1);	/* "###": the first one goes */
		g->state = GATE_MID;
		return;
	}
	if (g->hashes) {
		bool command = g->hashes == 2 && c == '[';
		gate_put(g, command ? "# #" : "##", (size_t)(command ? 3 : g->hashes));
		g->hashes = 0;
		g->state = GATE_MID;
	}
	if (c == '\n' || c == '\r') {
		if (g->state == GATE_COLON)
			gate_put(g, ":", 1);
		gate_put(g, &c, 1);
		g->state = GATE_LEAD;
		return;
	}
	switch (g->state) {
	case GATE_LEAD:
		if (c == ':') {
			g->state = GATE_COLON;
			return;
		}
		if (c >= 0xc0) {
			g->utf8[g->nutf8++] = c;
			return;
		}
		gate_put(g, &c, 1);
		if (!gate_blank(c))
			g->state = GATE_MID;
		return;
	case GATE_COLON:
		gate_put(g, c == ':' ? "| ::" : ":", c == ':' ? 4 : 1);
		g->state = GATE_MID;
		if (c != ':')
			gate_put(g, &c, 1);
		return;
	case GATE_MID:
		gate_put(g, &c, 1);
		return;
	}
}

static ssize_t gate_write(void *cookie, const char *buf, size_t n)
{
	struct gate *g = cookie;
	for (size_t i = 0; i < n; i++)
		gate_byte(g, (unsigned char)buf[i]);
	if (fflush(g->under) != 0 || ferror(g->under)) {
		clearerr(g->under);
		return -1;
	}
	return (ssize_t)n;
}

static int gate_close(void *cookie)
{
	struct gate *g = cookie;
	gate_release_held(g);
	FILE *under = g->under;
	g->under = NULL;
	return fclose(under);
}

/* What a gate holds back (a ':' or '#' that may start a command) is
 * written when the program exits; a gate closed already has written it. */
static void gate_flush_at_exit(void)
{
	if (gate_out.under) {
		fflush(stdout);
		gate_release_held(&gate_out);
		fflush(gate_out.under);
	}
	if (gate_err.under) {
		fflush(stderr);
		gate_release_held(&gate_err);
		fflush(gate_err.under);
	}
}

static FILE *gate_open(struct gate *g, FILE *under, int mode)
{
	cookie_io_functions_t io = { NULL, gate_write, NULL, gate_close };
	FILE *fp = fopencookie(g, "w", io);
	if (!fp)
		return under;
	memset(g, 0, sizeof(*g));
	g->under = under;
	setvbuf(fp, NULL, mode, 0);
	return fp;
}

void mig_gate_open(void)
{
	static bool open;
	if (open || !gh_active())
		return;
	open = true;
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		stdout = gate_open(&gate_out, stdout, _IOFBF);
	stderr = gate_open(&gate_err, stderr, _IONBF);
	atexit(gate_flush_at_exit);
}

/* mig's own workflow commands pass the gate as they are, on a line of
 * their own. */
static void gate_raw_begin(FILE *fp)
{
	fflush(fp);
	struct gate *g = fp == stderr ? &gate_err : fp == stdout ? &gate_out : NULL;
	if (g && g->under) {
		gate_release_held(g);
		if (g->state != GATE_LEAD)
			gate_put(g, "\n", 1);
	}
	gate_raw = true;
}

static void gate_raw_end(FILE *fp)
{
	fflush(fp);
	gate_raw = false;
}

void gh_mask(const char *secret)
{
	if (!gh_active() || !secret || !*secret)
		return;
	gate_raw_begin(stderr);
	fputs("::add-mask::", stderr);
	gh_escape(stderr, secret, false);
	fputc('\n', stderr);
	gate_raw_end(stderr);
}

/* GitHub puts an annotation on a pull request's file only when its path is
 * relative to the repository's root, $GITHUB_WORKSPACE; mig is often run
 * from a subfolder, or given absolute paths.  A file outside the workspace
 * (or one that cannot be resolved) keeps the path it was named by. */
char *gh_workspace_path(const char *file)
{
	const char *ws = getenv("GITHUB_WORKSPACE");
	char *root = ws && *ws ? realpath(ws, NULL) : NULL;
	char *abs = root ? realpath(file, NULL) : NULL;
	char *out = NULL;
	if (abs) {
		size_t n = strlen(root);
		if (n == 1)	/* the workspace is "/" */
			out = xstrdup(abs + 1);
		else if (!strncmp(abs, root, n) && abs[n] == '/')
			out = xstrdup(abs + n + 1);
	}
	free(abs);
	free(root);
	return out ? out : xstrdup(file);
}

void gh_annotate(FILE *fp, enum mig_severity sev, const char *file, int line,
		 const char *code, const char *msg)
{
	char *path = file ? gh_workspace_path(file) : NULL;
	gate_raw_begin(fp);
	fputs(sev == MIG_SEV_ERROR ? "::error " : "::warning ", fp);
	if (path) {
		fputs("file=", fp);
		gh_escape(fp, path, true);
		if (line > 0)
			fprintf(fp, ",line=%d", line);
		fputc(',', fp);
	}
	fputs("title=", fp);
	gh_escape(fp, "mig ", true);
	gh_escape(fp, code, true);
	fputs("::", fp);
	gh_escape(fp, msg, false);
	fputc('\n', fp);
	gate_raw_end(fp);
	free(path);
}

/* One write(2) with O_APPEND: the runs of a fleet (scripts/fleet.sh) append
 * to the same files at once, and a summary split into several writes could
 * be interleaved with another run's. */
static int gh_append(const char *var, const char *text)
{
	const char *path = getenv(var);
	if (!path || !*path)
		return MIG_OK;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	size_t n = strlen(text), done = 0;
	while (fd >= 0 && done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int e = errno;
	if (fd >= 0 && close(fd) != 0 && done == n) {
		e = errno;
		done = 0;
	}
	if (fd < 0 || done < n) {
		mig_warn("cannot write %s (%s): %s", var, path, strerror(e));
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

static bool summary_written;

int gh_summary(const char *markdown)
{
	if (!gh_active())
		return MIG_OK;
	summary_written = true;
	return gh_append("GITHUB_STEP_SUMMARY", markdown);
}

bool gh_summary_written(void)
{
	return summary_written;
}

/* GitHub renders the summary as GitHub Flavored Markdown with inline HTML:
 * a table name such as "<img ...>|a|b" or "# ok" must not become markup, a
 * cell border or a heading (red-team B5).  Every ASCII punctuation mark may
 * be escaped with a backslash, and those that start markup here are ('$'
 * starts GitHub's math); '<', '>' and '&' become entities, since GitHub's
 * HTML sanitizer acts before a backslash is read. */
void md_text(struct mig_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '<')
			buf_puts(b, "&lt;");
		else if (*p == '>')
			buf_puts(b, "&gt;");
		else if (*p == '&')
			buf_puts(b, "&amp;");
		else if (*p < 0x20 || *p == 0x7f)
			buf_putc(b, ' ');
		else if (strchr("\\`*_{}[]()#+-.!|~$", *p)) {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, (char)*p);
		}
	}
}

void md_code_block(struct mig_buf *b, const char *lang, const char *text)
{
	size_t longest = 0, run = 0;
	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t fence = longest < 3 ? 3 : longest + 1;
	for (size_t i = 0; i < fence; i++)
		buf_putc(b, '`');
	buf_puts(b, lang ? lang : "");
	buf_putc(b, '\n');
	buf_puts(b, text);
	if (!*text || text[strlen(text) - 1] != '\n')
		buf_putc(b, '\n');
	for (size_t i = 0; i < fence; i++)
		buf_putc(b, '`');
	buf_puts(b, "\n\n");
}

void gh_summary_error(const struct mig_err *err)
{
	if (!gh_active() || summary_written || !err->msg)
		return;
	struct mig_buf md = MIG_BUF_INIT;
	buf_printf(&md, "### %s: failed\n\n| | |\n|---|---|\n", mig_progname);
	if (mig_subject()) {
		buf_puts(&md, "| database | ");
		md_text(&md, mig_subject());
		buf_puts(&md, " |\n");
	}
	buf_printf(&md, "| error | %s (exit %d) |\n\n", mig_error_kind(err->code),
		   err->code);
	char *text = err->hint ? xasprintf("%s\nhint: %s", err->msg, err->hint)
			       : xstrdup(err->msg);
	md_code_block(&md, "text", text);
	free(text);
	gh_summary(buf_str(&md));
	buf_release(&md);
}

static char *subject;
static bool subject_is_label;

static void subject_release(void)
{
	free(subject);
	subject = NULL;
}

static void subject_set(const char *name, bool label)
{
	static bool registered;
	if (!registered) {
		atexit(subject_release);
		registered = true;
	}
	free(subject);
	subject = xstrdup(name);
	subject_is_label = label;
}

void mig_subject_label(const char *label)
{
	subject_set(label, true);
}

void mig_subject_url(const char *display)
{
	if (!subject && display)	/* the first database opened is the run's */
		subject_set(display, false);
}

const char *mig_subject(void)
{
	return subject;
}

const char *mig_subject_given_label(void)
{
	return subject_is_label ? subject : NULL;
}

static void findings_print(FILE *fp, const struct mig_findings *f, bool warnings,
			   bool all_warnings)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct mig_finding *x = &f->v[i];
		if (x->severity == MIG_SEV_WARNING && !warnings)
			continue;
		const char *sev = x->severity == MIG_SEV_ERROR && !all_warnings ? "error"
										: "warning";
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

void mig_findings_print(FILE *fp, const struct mig_findings *f, bool warnings)
{
	findings_print(fp, f, warnings, false);
}

void mig_findings_print_as(FILE *fp, const struct mig_findings *f, enum mig_severity most)
{
	findings_print(fp, f, true, most == MIG_SEV_WARNING);
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
		gh_annotate(stderr, x->severity, x->file, x->line, x->code, msg);
		free(msg);
	}
}
