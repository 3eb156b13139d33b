/*
 * mig.h: what every file of mig needs, and nothing else: the version, the
 * result codes, struct mig_err, memory and string helpers, the program's
 * name and warnings.  Each module has its own header beside its .c file
 * (ARCHITECTURE.md has the map); a file includes the headers of the modules
 * it uses.
 *
 * Conventions, as in git and SQLite:
 * - A function that can fail returns 0 (MIG_OK) or a MIG_E* code and fills
 *   a struct mig_err; the code is also the process exit status, so main()
 *   only has to return it.  Only main() exits.  Unless its header says
 *   otherwise, a function that fails leaves its outputs for the caller to
 *   release as after success, and changes nothing else.
 * - A struct comes with _init/_release functions; _release frees what the
 *   struct owns and leaves it re-initialised.
 * - A returned char * is the caller's to free; a const char * is borrowed.
 * - Allocation failure aborts the process (xmalloc), as in git: a database
 *   transaction in progress is rolled back by the server when we go away.
 */
#ifndef MIG_H
#define MIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The one place the version is kept: the Makefile, make dist, the Debian
 * package and the action read it from here. */
#define MIG_VERSION "0.1.0"
#define MIG_DEFAULT_VERSION_TABLE "alembic_version"

/* Result codes; identical to the exit status of every program. */
enum mig_rc {
	MIG_OK = 0,		/* done, or the check passed */
	MIG_EFOUND = 1,		/* the check ran and found problems */
	MIG_EINPUT = 2,		/* bad usage or bad input */
	MIG_EDB = 3,		/* database error */
	MIG_ESAFETY = 4,	/* refused for safety */
};

struct mig_err;

/* ---- memory, strings ---------------------------------------------------- */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* A growable NUL-terminated string. */
struct mig_buf {
	char *s;		/* always a valid string once anything is added */
	size_t len, cap;
};
#define MIG_BUF_INIT { NULL, 0, 0 }
void buf_add(struct mig_buf *b, const char *s, size_t n);
void buf_puts(struct mig_buf *b, const char *s);
void buf_putc(struct mig_buf *b, char c);
void buf_printf(struct mig_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *buf_str(const struct mig_buf *b);	/* "" when empty */
char *buf_detach(struct mig_buf *b);		/* caller frees */
void buf_reset(struct mig_buf *b);		/* empty, keeps memory */
void buf_release(struct mig_buf *b);

/* A growable vector of owned strings. */
struct mig_strv {
	char **v;
	size_t n, cap;
};
#define MIG_STRV_INIT { NULL, 0, 0 }
void strv_push(struct mig_strv *sv, const char *s);	/* copies s */
void strv_push_owned(struct mig_strv *sv, char *s);	/* takes s */
bool strv_has(const struct mig_strv *sv, const char *s);
/* Same strings in the same order. */
bool strv_equal(const struct mig_strv *a, const struct mig_strv *b);
void strv_sort(struct mig_strv *sv);
char *strv_join(const struct mig_strv *sv, const char *sep);	/* caller frees */
char *strv_paren(const struct mig_strv *sv);	/* "(a, b)"; caller frees */
void strv_release(struct mig_strv *sv);

/* Reads a whole file; returns MIG_EINPUT with the reason on failure. */
int mig_read_file(const char *path, char **out, size_t *len, struct mig_err *err);
/* The same for name in the directory dirfd; path is for messages. */
int mig_read_file_at(int dirfd, const char *name, const char *path, char **out,
		     size_t *len, struct mig_err *err);

/* Monotonic clock in milliseconds. */
double mig_now_ms(void);

/* ---- errors ------------------------------------------------------------- */

struct mig_err {
	int code;		/* MIG_OK while nothing went wrong */
	char *msg;		/* "file:line: what", lowercase, no full stop */
	char *hint;		/* what to do next, or NULL */
};
#define MIG_ERR_INIT { MIG_OK, NULL, NULL }

/* Sets code and message (replacing any earlier one); returns code. */
int mig_err_set(struct mig_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds the advice printed under the message; returns err->code. */
int mig_err_hint(struct mig_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mig_err_release(struct mig_err *err);

/* ---- the program's name, warnings ---------------------------------------- */

/* argv[0] without its directory, set by mig_init (cli.h); "mig" before. */
extern const char *mig_progname;

/* Diagnostics on stderr, prefixed with the program name. */
void mig_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mig_vwarn(const char *fmt, va_list ap);

#endif
