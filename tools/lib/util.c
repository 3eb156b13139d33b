/*
 * util.c: memory, growable strings and string vectors, errors, warnings on
 * stderr and file reading, the small pieces every other file of libmig uses.
 */
#define _POSIX_C_SOURCE 200809L
#include "mig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the program's name and warnings -------------------------------------- */

const char *mig_progname = "mig";

/* "prog: message" on stderr. */
void mig_vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", mig_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mig_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mig_vwarn(fmt, ap);
	va_end(ap);
}

static void out_of_memory(size_t n)
{
	fprintf(stderr, "%s: out of memory (%zu bytes)\n",
		mig_progname ? mig_progname : "mig", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	struct mig_buf b = MIG_BUF_INIT;
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	b.cap = (size_t)n + 1;
	b.s = xmalloc(b.cap);
	vsnprintf(b.s, b.cap, fmt, ap);
	return b.s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---- mig_buf ------------------------------------------------------------ */

static void buf_grow(struct mig_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

void buf_add(struct mig_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void buf_puts(struct mig_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(struct mig_buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_printf(struct mig_buf *b, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n > 0) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		b->len += (size_t)n;
	}
	va_end(ap);
}

const char *buf_str(const struct mig_buf *b)
{
	return b->s ? b->s : "";
}

char *buf_detach(struct mig_buf *b)
{
	char *s = b->s ? b->s : xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void buf_reset(struct mig_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void buf_release(struct mig_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ---- mig_strv ----------------------------------------------------------- */

void strv_push_owned(struct mig_strv *sv, char *s)
{
	if (sv->n + 1 >= sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_push(struct mig_strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

bool strv_has(const struct mig_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

char *strv_paren(const struct mig_strv *sv)
{
	char *j = strv_join(sv, ", ");
	char *s = xasprintf("(%s)", j);
	free(j);
	return s;
}

bool strv_equal(const struct mig_strv *a, const struct mig_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct mig_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

char *strv_join(const struct mig_strv *sv, const char *sep)
{
	struct mig_buf b = MIG_BUF_INIT;
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, sv->v[i]);
	}
	return buf_detach(&b);
}

void strv_release(struct mig_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* ---- errors ------------------------------------------------------------- */

int mig_err_set(struct mig_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(err->msg);
	free(err->hint);
	err->msg = msg;
	err->hint = NULL;
	err->code = code;
	return code;
}

int mig_err_hint(struct mig_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *hint = xvasprintf(fmt, ap);
	va_end(ap);
	free(err->hint);
	err->hint = hint;
	return err->code;
}

void mig_err_release(struct mig_err *err)
{
	free(err->msg);
	free(err->hint);
	err->msg = err->hint = NULL;
	err->code = MIG_OK;
}

/* ---- files and time ----------------------------------------------------- */

int mig_read_file_at(int dirfd, const char *name, const char *path, char **out,
		     size_t *len, struct mig_err *err)
{
	/* O_NONBLOCK: a FIFO among the files must not hang us */
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return mig_err_set(err, MIG_EINPUT, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mig_err_set(err, MIG_EINPUT, "%s: not a regular file", path);
	}
	/* one allocation and, for a file that does not change, one read */
	size_t size = (size_t)st.st_size, got = 0;
	char *text = xmalloc(size + 1);
	while (got < size) {
		ssize_t n = read(fd, text + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free(text);
			return mig_err_set(err, MIG_EINPUT, "%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	*len = got;
	*out = text;
	return MIG_OK;
}

int mig_read_file(const char *path, char **out, size_t *len, struct mig_err *err)
{
	return mig_read_file_at(AT_FDCWD, path, path, out, len, err);
}

double mig_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
