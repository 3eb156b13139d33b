/*
 * sum.c: the sum file DIR/mig.sum (contract in sum.h): SHA-256 per
 * migration file, taken with nettle, and the checks that catch a released
 * migration edited after the fact.
 */
#define _DEFAULT_SOURCE	/* scandir */
#define _POSIX_C_SOURCE 200809L
#include "sum.h"
#include "findings.h"
#include "mig.h"
#include "migfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUM_MAGIC "mig-sum 1 "

static const char conflict_hint[] =
	"mig.sum conflicts in git when two branches each add a migration, on "
	"purpose: both new migrations chain to the same parent, so the merged "
	"graph has two heads. Take either side's mig.sum, chain your migration "
	"to the other branch's head (its down_revision, or mig-new --merge), "
	"check with mig-verify, then run mig-verify --update-sum";

void mig_sha256_hex(const void *data, size_t len, char out[MIG_SHA256_HEX])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	base16_encode_update(out, sizeof(digest), digest);
	out[MIG_SHA256_HEX - 1] = '\0';
}

/* ---- the code of a migration, without comments and white space ----------- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static bool space_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The comment lines mig reads: header keys before the first section, and
 * section markers.  Changing one of them changes what runs. */
static bool directive(const char *p, const char *end, bool in_header)
{
	static const char *const keys[] = { "revision", "down_revision", "branch_labels",
					    "depends_on", "message", "create_date",
					    "transactional", NULL };
	p += 2;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '+')
		return true;
	for (size_t i = 0; in_header && keys[i]; i++) {
		size_t n = strlen(keys[i]);
		if ((size_t)(end - p) > n && !strncmp(p, keys[i], n) &&
		    (p[n] == ':' || p[n] == ' ' || p[n] == '\t'))
			return true;
	}
	return false;
}

/* Whether a line of text..end, white space aside, starts with a section
 * marker ("-- +upgrade", "-- +downgrade sqlite", ...). */
static bool marker_inside(const char *text, const char *end)
{
	for (const char *p = text; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *s = p;
		while (s < eol && (*s == ' ' || *s == '\t'))
			s++;
		if (s + 1 < eol && s[0] == '-' && s[1] == '-' && directive(s, eol, false))
			return true;
		p = eol < end ? eol + 1 : end;
	}
	return false;
}

struct code {
	struct mig_buf out;
	bool pending_space;
};

static void emit(struct code *c, const char *p, size_t n)
{
	if (!n)
		return;
	if (c->pending_space && c->out.len && word_char(c->out.s[c->out.len - 1]) &&
	    word_char(p[0]))
		buf_putc(&c->out, ' ');
	c->pending_space = false;
	buf_add(&c->out, p, n);
}

/* Length of the quoted token at p (quote q), to its closing quote or the end. */
static size_t quoted_len(const char *p, const char *end, char q, bool backslash)
{
	const char *s = p + 1;
	while (s < end && *s != q) {
		if (backslash && *s == '\\' && s + 1 < end)
			s++;
		s++;
	}
	return (size_t)((s < end ? s + 1 : end) - p);
}

/* Length of a PostgreSQL dollar-quoted string at p, or 0 if p opens none. */
static size_t dollar_len(const char *p, const char *end)
{
	const char *t = p + 1;
	if (t < end && ((*t >= '0' && *t <= '9')))
		return 0;	/* $1: a parameter */
	while (t < end && *t != '$' && word_char(*t))
		t++;
	if (t >= end || *t != '$')
		return 0;
	size_t tag = (size_t)(t - p) + 1;
	for (const char *s = t + 1; s + tag <= end; s++)
		if (!strncmp(s, p, tag))
			return (size_t)(s + tag - p);
	return (size_t)(end - p);
}

static void sql_code(struct code *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	bool in_header = true;
	while (p < end) {
		if (space_char(*p)) {
			c->pending_space = true;
			p++;
		} else if (p[0] == '-' && p + 1 < end && p[1] == '-') {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			if (!eol)
				eol = end;
			if (directive(p, eol, in_header)) {
				buf_putc(&c->out, '\n');
				for (const char *s = p; s < eol; s++)
					if (!space_char(*s))
						buf_putc(&c->out, *s);
				buf_putc(&c->out, '\n');
				c->pending_space = false;
				const char *s = p + 2;
				while (s < eol && (*s == ' ' || *s == '\t'))
					s++;
				if (s < eol && *s == '+')
					in_header = false;
			} else {
				c->pending_space = true;
			}
			p = eol;
		} else if (p[0] == '/' && p + 1 < end && p[1] == '*') {
			const char *s = p + 2;
			while (s + 1 < end && !(s[0] == '*' && s[1] == '/'))
				s++;
			const char *after = s + 1 < end ? s + 2 : end;
			/* the file's reader is line by line: a section marker
			 * inside a block comment still moves what follows, so
			 * such a comment is code */
			if (marker_inside(p, after))
				emit(c, p, (size_t)(after - p));
			else
				c->pending_space = true;
			p = after;
		} else if (*p == '[' || *p == '`') {
			/* SQLite's quoted names: a "--" inside is no comment */
			const char *close = memchr(p + 1, *p == '[' ? ']' : '`',
						   (size_t)(end - p - 1));
			size_t n = close ? (size_t)(close - p + 1) : (size_t)(end - p);
			emit(c, p, n);
			p += n;
		} else if (*p == '\'' || *p == '"') {
			bool escapes = *p == '\'' && p > text && (p[-1] == 'E' || p[-1] == 'e') &&
				       (p - 1 == text || !word_char(p[-2]));
			size_t n = quoted_len(p, end, *p, escapes);
			emit(c, p, n);
			p += n;
		} else if (*p == '$' && dollar_len(p, end)) {
			size_t n = dollar_len(p, end);
			emit(c, p, n);
			p += n;
		} else {
			emit(c, p, 1);
			p++;
		}
	}
}

static void py_code(struct code *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *first = p, *last = eol;
		while (first < eol && space_char(*first))
			first++;
		while (last > first && space_char(last[-1]))
			last--;
		if (first < last && *first != '#') {
			buf_add(&c->out, p, (size_t)(last - p));
			buf_putc(&c->out, '\n');
		}
		p = eol < end ? eol + 1 : end;
	}
}

void mig_code_sha256(const char *name, const char *text, size_t len,
		     char out[MIG_SHA256_HEX])
{
	struct code c = { MIG_BUF_INIT, false };
	if (has_suffix(name, ".py"))
		py_code(&c, text, len);
	else
		sql_code(&c, text, len);
	mig_sha256_hex(buf_str(&c.out), c.out.len, out);
	buf_release(&c.out);
}

/* ---- the files of versions/ ------------------------------------------------ */

struct sum_entry {
	char *name;			/* relative to DIR: "versions/<file>" */
	char sha[MIG_SHA256_HEX];
	char code[MIG_SHA256_HEX];
	int line;			/* in mig.sum; 0 for a file on disk */
	bool matched;
};

struct sum_list {
	struct sum_entry *v;
	size_t n;
};

static void list_release(struct sum_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct sum_entry *list_add(struct sum_list *l, char *name)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct sum_entry *e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->name = name;
	return e;
}

/* The files the graph reads as migrations (graph.c's rule). */
static bool summed(const char *name)
{
	if (mig_alembic_script_name(name))
		return true;
	return name[0] != '.' && has_suffix(name, ".sql");
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Reads and hashes every migration file; one that cannot be read is
 * MIG_EINPUT (the graph reports it as a bad file too). */
static int list_files(const char *dir, struct sum_list *out, struct mig_err *err)
{
	char *versions = xasprintf("%s/versions", dir);
	struct dirent **names = NULL;
	int n = scandir(versions, &names, NULL, cmp_names);
	int dirfd = n < 0 ? -1 : open(versions, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = MIG_OK;
	if (n < 0 || dirfd < 0)
		rc = mig_err_set(err, MIG_EINPUT, "%s: %s", versions, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (!rc && summed(name)) {
			char *path = xasprintf("%s/%s", versions, name);
			char *text = NULL;
			size_t len = 0;
			rc = mig_read_file_at(dirfd, name, path, &text, &len, err);
			if (!rc) {
				struct sum_entry *e = list_add(out, xasprintf("versions/%s", name));
				mig_sha256_hex(text, len, e->sha);
				mig_code_sha256(name, text, len, e->code);
			}
			free(text);
			free(path);
		}
		free(names[i]);
	}
	if (dirfd >= 0)
		close(dirfd);
	free(names);
	free(versions);
	return rc;
}

static char *render(const struct sum_list *l)
{
	struct mig_buf body = MIG_BUF_INIT, all = MIG_BUF_INIT;
	for (size_t i = 0; i < l->n; i++)
		buf_printf(&body, "%s %s %s\n", l->v[i].name, l->v[i].sha, l->v[i].code);
	char total[MIG_SHA256_HEX];
	mig_sha256_hex(buf_str(&body), body.len, total);
	buf_printf(&all, "%s%s\n%s", SUM_MAGIC, total, buf_str(&body));
	buf_release(&body);
	return buf_detach(&all);
}

/* Replaces DIR/mig.sum with text, through a temporary file and rename. */
static int store(const char *dir, const char *text, bool *changed, struct mig_err *err)
{
	char *path = xasprintf("%s/%s", dir, MIG_SUM_FILE);
	char *old = NULL;
	size_t oldlen = 0;
	int rc = MIG_OK;
	struct mig_err ignored = MIG_ERR_INIT;
	*changed = mig_read_file(path, &old, &oldlen, &ignored) || strcmp(old, text) != 0;
	mig_err_release(&ignored);
	free(old);
	char *tmp = xasprintf("%s/.mig.sum.XXXXXX", dir);
	int fd = *changed ? mkstemp(tmp) : -2;
	if (fd == -1) {
		rc = mig_err_set(err, MIG_EINPUT, "cannot write %s: %s", path, strerror(errno));
	} else if (fd >= 0) {
		FILE *fp = fdopen(fd, "w");
		bool ok = fp && fputs(text, fp) >= 0 && fflush(fp) == 0 && fsync(fd) == 0;
		int e = errno;
		ok = (fp ? fclose(fp) == 0 : (close(fd), false)) && ok;
		/* mkstemp makes 0600; a sum file is as public as the migrations */
		ok = ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0;
		if (!ok) {
			rc = mig_err_set(err, MIG_EINPUT, "cannot write %s: %s", path,
					 strerror(e ? e : errno));
			unlink(tmp);
		}
	}
	free(tmp);
	free(path);
	return rc;
}

int mig_sum_write(const char *dir, size_t *nfiles, bool *changed, struct mig_err *err)
{
	struct sum_list files = { NULL, 0 };
	int rc = list_files(dir, &files, err);
	*nfiles = files.n;
	*changed = false;
	char *text = rc ? NULL : render(&files);
	list_release(&files);
	if (!rc)
		rc = store(dir, text, changed, err);
	free(text);
	return rc;
}

/* ---- checking -------------------------------------------------------------- */

static bool hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* One "versions/<file> <sha> <code>" line; false when malformed. */
static bool parse_line(const char *p, size_t n, struct sum_list *out, int line)
{
	if (n < 2 * 65 + 1)
		return false;
	const char *code = p + n - 64, *sha = code - 65;
	if (sha[64] != ' ' || sha[-1] != ' ' || !hex64(sha, 64) || !hex64(code, 64))
		return false;
	size_t name_len = (size_t)(sha - 1 - p);
	if (name_len <= 9 || strncmp(p, "versions/", 9) != 0)
		return false;
	struct sum_entry *e = list_add(out, xstrndup(p, name_len));
	memcpy(e->sha, sha, 64);
	memcpy(e->code, code, 64);
	e->line = line;
	return true;
}

static bool conflict_marker(const char *p, size_t n)
{
	return n >= 7 && (!strncmp(p, "<<<<<<<", 7) || !strncmp(p, "=======", 7) ||
			  !strncmp(p, ">>>>>>>", 7) || !strncmp(p, "|||||||", 7));
}

/* Reads mig.sum into *out; false (with findings) when it cannot be trusted. */
static bool read_sum(const char *path, const char *text, size_t len,
		     struct sum_list *out, struct mig_findings *f)
{
	const char *p = text, *end = text + len;
	const char *body = NULL;
	int line = 0;
	bool ok = true;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);
		line++;
		if (conflict_marker(p, n)) {
			mig_findings_add(f, MIG_SEV_ERROR, "sum-conflict", path, line,
					 conflict_hint, "git conflict markers: two branches "
					 "changed the migrations");
			return false;
		}
		if (line == 1) {
			size_t m = strlen(SUM_MAGIC);
			if (n != m + 64 || strncmp(p, SUM_MAGIC, m) != 0 || !hex64(p + m, 64)) {
				mig_findings_add(f, MIG_SEV_ERROR, "sum-malformed", path, 1,
						 "mig-verify --update-sum writes it anew",
						 "not a mig.sum file (the first line must be "
						 "\"mig-sum 1 <sha256>\")");
				return false;
			}
			body = eol ? eol + 1 : end;
		} else if (!parse_line(p, n, out, line)) {
			mig_findings_add(f, MIG_SEV_ERROR, "sum-malformed", path, line,
					 "mig-verify --update-sum writes it anew",
					 "malformed line (expected \"versions/FILE SHA256 "
					 "CODE-SHA256\")");
			ok = false;
		}
		p = eol ? eol + 1 : end;
	}
	if (!body) {
		mig_findings_add(f, MIG_SEV_ERROR, "sum-malformed", path, 1,
				 "mig-verify --update-sum writes it anew", "empty mig.sum");
		return false;
	}
	char total[MIG_SHA256_HEX];
	mig_sha256_hex(body, (size_t)(end - body), total);
	if (ok && memcmp(total, text + strlen(SUM_MAGIC), 64) != 0)	/* line 1 was checked */
		mig_findings_add(f, MIG_SEV_ERROR, "sum-mismatch", path, 1, conflict_hint,
				 "mig.sum does not match its own sum: its lines were "
				 "edited by hand or merged from two branches");
	return ok;
}

static struct sum_entry *find(struct sum_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static void compare(const char *dir, const char *sum_path, struct sum_list *sum,
		    struct sum_list *disk, struct mig_findings *f)
{
	for (size_t i = 0; i < disk->n; i++) {
		struct sum_entry *d = &disk->v[i];
		struct sum_entry *s = find(sum, d->name);
		char *path = xasprintf("%s/%s", dir, d->name);
		if (!s)
			mig_findings_add(f, MIG_SEV_ERROR, "sum-unlisted", path, 0,
					 "mig-new adds the files it writes to mig.sum; for "
					 "a file written or copied by hand, run mig-verify "
					 "--update-sum (if mig.sum conflicted in git, two "
					 "branches each added a migration)",
					 "not in %s", sum_path);
		else if (strcmp(s->sha, d->sha) != 0 && !strcmp(s->code, d->code))
			mig_findings_add(f, MIG_SEV_ERROR, "sum-changed", path, 0,
					 "the code is the same, so databases that applied it "
					 "are not affected: accept the edit with mig-verify "
					 "--update-sum",
					 "changed since %s was written: only comments or "
					 "white space", sum_path);
		else if (strcmp(s->sha, d->sha) != 0)
			mig_findings_add(f, MIG_SEV_ERROR, "sum-changed", path, 0,
					 "databases that already applied this migration will "
					 "never run it again, so they and fresh databases would "
					 "differ: undo the edit and write a new migration "
					 "(mig-new). If it was never applied anywhere (a "
					 "migration you are still writing), run mig-verify "
					 "--update-sum",
					 "changed since %s was written: its code changed, not "
					 "only comments or white space", sum_path);
		if (s)
			s->matched = true;
		free(path);
	}
	for (size_t i = 0; i < sum->n; i++)
		if (!sum->v[i].matched)
			mig_findings_add(f, MIG_SEV_ERROR, "sum-missing-file", sum_path,
					 sum->v[i].line, "a migration that may be applied "
					 "was deleted or renamed: restore it. Only if it was "
					 "never applied anywhere, run mig-verify --update-sum",
					 "%s is in mig.sum but not in %s/versions",
					 sum->v[i].name, dir);
}

int mig_sum_check(const char *dir, bool required, struct mig_findings *out,
		  struct mig_err *err)
{
	struct sum_list disk = { NULL, 0 }, sum = { NULL, 0 };
	int rc = list_files(dir, &disk, err);
	if (rc)
		return rc;
	char *path = xasprintf("%s/%s", dir, MIG_SUM_FILE);
	char *text = NULL;
	size_t len = 0;
	struct mig_err rerr = MIG_ERR_INIT;
	if (mig_read_file(path, &text, &len, &rerr)) {
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			if (required)
				mig_findings_add(out, MIG_SEV_ERROR, "sum-absent", path, 0,
						 "mig-verify --update-sum writes it; commit it, "
						 "and edits of released migrations are caught "
						 "from then on", "no mig.sum: edits of applied "
						 "migrations would go unnoticed");
		} else {
			mig_findings_add(out, MIG_SEV_ERROR, "sum-unreadable", path, 0,
					 NULL, "%s", rerr.msg);
		}
	} else if (read_sum(path, text, len, &sum, out)) {
		compare(dir, path, &sum, &disk, out);
	}
	mig_err_release(&rerr);
	free(text);
	free(path);
	list_release(&sum);
	list_release(&disk);
	return MIG_OK;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct sum_entry *)a)->name, ((const struct sum_entry *)b)->name);
}

/* Reads DIR/mig.sum into *sum when it exists (*exists) and can be trusted:
 * well-formed and matching its own first line. */
static int load_sum(const char *dir, bool *exists, struct sum_list *sum,
		    struct mig_err *err)
{
	char *path = xasprintf("%s/%s", dir, MIG_SUM_FILE);
	*exists = !(access(path, F_OK) != 0 && errno == ENOENT);
	struct mig_findings f = MIG_FINDINGS_INIT;
	char *text = NULL;
	size_t len = 0;
	int rc = *exists ? mig_read_file(path, &text, &len, err) : MIG_OK;
	if (!rc && *exists && (!read_sum(path, text, len, sum, &f) || f.n)) {
		mig_err_set(err, MIG_EINPUT, "%s: %s", path, f.n ? f.v[0].msg :
			    "cannot be read as a sum file");
		rc = mig_err_hint(err, "check the migrations with mig-verify, then run "
				  "mig-verify --update-sum");
	}
	free(text);
	free(path);
	mig_findings_release(&f);
	return rc;
}

int mig_sum_ready(const char *dir, struct mig_err *err)
{
	struct sum_list sum = { NULL, 0 };
	bool exists;
	int rc = load_sum(dir, &exists, &sum, err);
	list_release(&sum);
	return rc;
}

int mig_sum_add(const char *dir, const char *file, struct mig_err *err)
{
	struct sum_list disk = { NULL, 0 }, sum = { NULL, 0 };
	bool exists;
	int rc = load_sum(dir, &exists, &sum, err);
	if (!rc && !exists) {	/* the first sum */
		size_t n;
		bool changed;
		return mig_sum_write(dir, &n, &changed, err);
	}
	if (!rc)
		rc = list_files(dir, &disk, err);
	const char *base = strrchr(file, '/');
	char *name = xasprintf("versions/%s", base ? base + 1 : file);
	struct sum_entry *d = rc ? NULL : find(&disk, name);
	if (!rc && !d)
		rc = mig_err_set(err, MIG_EINPUT, "%s is not a migration file of %s/versions",
				 file, dir);
	if (!rc && d) {
		struct sum_entry *e = find(&sum, name);
		if (!e)
			e = list_add(&sum, xstrdup(name));
		memcpy(e->sha, d->sha, MIG_SHA256_HEX);
		memcpy(e->code, d->code, MIG_SHA256_HEX);
		qsort(sum.v, sum.n, sizeof(*sum.v), cmp_entries);
		char *out = render(&sum);
		bool changed;
		rc = store(dir, out, &changed, err);
		free(out);
	}
	free(name);
	list_release(&sum);
	list_release(&disk);
	return rc;
}
