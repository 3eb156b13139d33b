/*
 * mig.h: the library every mig-* program is built on (libmig), and the only
 * header the programs include.
 *
 * Conventions, as in git and SQLite:
 * - A function that can fail returns 0 (MIG_OK) or a MIG_E* code and fills
 *   a struct mig_err; the code is also the process exit status, so main()
 *   only has to return it.  Only main() exits.
 * - A struct comes with _init/_release functions; _release frees what the
 *   struct owns and leaves it re-initialised.
 * - Allocation failure aborts the process (xmalloc), as in git: a database
 *   transaction in progress is rolled back by the server when we go away.
 */
#ifndef MIG_H
#define MIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The one place the version is kept: the Makefile, make dist, the Debian
 * package and the action read it from here. */
#define MIG_VERSION "0.1.0"
#define MIG_DEFAULT_VERSION_TABLE "alembic_version"
#define MIG_REVISION_MAX 32	/* alembic_version.version_num is VARCHAR(32) */

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
void strv_sort(struct mig_strv *sv);
char *strv_join(const struct mig_strv *sv, const char *sep);	/* caller frees */
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

/* ---- program frame -------------------------------------------------------- */

enum mig_format { MIG_FORMAT_TEXT, MIG_FORMAT_JSON };

/* How the PostgreSQL migration lock is taken (SQLite has one way: each
 * migration's BEGIN IMMEDIATE). */
enum mig_lock_mode {
	MIG_LOCK_AUTO,		/* a session lock, or a lock in each transaction
				 * when a connection pooler answers */
	MIG_LOCK_SESSION,	/* --lock-mode session: refused behind a pooler */
	MIG_LOCK_TRANSACTION,	/* --lock-mode transaction */
	MIG_LOCK_NONE,		/* --no-lock: no advisory lock at all */
};

/* Flags every program shares (DESIGN.md "Common flags"). */
struct mig_common {
	const char *database_url;	/* -d, else $DATABASE_URL */
	const char *migrations_dir;	/* -m, default "migrations" */
	bool migrations_given;		/* -m seen (twice must agree) */
	const char *version_table;	/* --version-table */
	const char *version_schema;	/* --version-schema (PostgreSQL) */
	enum mig_format format;		/* --format */
	double wait_seconds;		/* --wait: retry connecting this long */
	double lock_timeout;		/* --lock-timeout; < 0 waits forever */
	enum mig_lock_mode lock_mode;	/* --lock-mode, --no-lock */
	int verbosity;			/* -q: -1, -v: +1 */
	bool no_history;		/* --no-history (history.h) */
	const char *label;		/* --label: the database's name in messages */
};

/* Long-option codes shared by every program (short ones are d m q v h). */
enum mig_common_opt {
	MIG_OPT_FORMAT = 256,
	MIG_OPT_WAIT,
	MIG_OPT_VERSION_TABLE,
	MIG_OPT_VERSION_SCHEMA,
	MIG_OPT_LOCK_TIMEOUT,
	MIG_OPT_VERSION,
	MIG_OPT_LOCK_MODE,
	MIG_OPT_NO_LOCK,
	MIG_OPT_LABEL,
	MIG_OPT_FIRST_OWN,	/* programs number their own long options from here */
};
#define MIG_COMMON_SHORTOPTS "d:m:qvh"
#define MIG_COMMON_LONGOPTS \
	{ "database-url", required_argument, NULL, 'd' }, \
	{ "migrations", required_argument, NULL, 'm' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "format", required_argument, NULL, MIG_OPT_FORMAT }, \
	{ "wait", required_argument, NULL, MIG_OPT_WAIT }, \
	{ "version-table", required_argument, NULL, MIG_OPT_VERSION_TABLE }, \
	{ "version-schema", required_argument, NULL, MIG_OPT_VERSION_SCHEMA }, \
	{ "lock-timeout", required_argument, NULL, MIG_OPT_LOCK_TIMEOUT }, \
	{ "lock-mode", required_argument, NULL, MIG_OPT_LOCK_MODE }, \
	{ "no-lock", no_argument, NULL, MIG_OPT_NO_LOCK }, \
	{ "label", required_argument, NULL, MIG_OPT_LABEL }, \
	{ "version", no_argument, NULL, MIG_OPT_VERSION }

extern const char *mig_progname;

/* Sets mig_progname from argv[0] and the defaults of *c. */
void mig_init(const char *argv0, struct mig_common *c);
/*
 * Handles one getopt_long result if it is a common flag.  Returns 1 when
 * handled, 0 when the option is the program's own, and MIG_EINPUT (with err
 * set) for a bad value.  'h' and --version are mig_parse_command_line's.
 */
int mig_common_option(struct mig_common *c, int opt, const char *arg,
		      struct mig_err *err);
/*
 * A program's command line for mig_parse_command_line: its --help text, its
 * long options (MIG_COMMON_LONGOPTS and its own, numbered from
 * MIG_OPT_FIRST_OWN) and the handler of its own options.
 */
struct mig_command_line {
	const char *usage;
	const struct option *longopts;
	/* One own option into *opts: MIG_OK, or a code with err set.  A usage
	 * mistake may end the program with mig_usage_error instead. */
	int (*own_option)(void *opts, int opt, const char *arg, struct mig_err *err);
	void *opts;
	int max_operands;	/* more are refused; -1: the program checks */
	/* Non-NULL: the flags that name a database are refused, with this
	 * reason ("mig-new writes a file and uses no database"). */
	const char *no_database;
};
/*
 * mig_init, then every flag of argv: the common ones into *common, the
 * program's own through cl->own_option.  Returns MIG_OK with *operand the
 * index of the first operand, or a code with err set (a bad value).  Ends
 * the program for --help and --version (exit 0) and for an unknown flag or
 * an extra operand (the usage on stderr, exit 2).
 */
int mig_parse_command_line(const struct mig_command_line *cl, struct mig_common *common,
			   int argc, char **argv, int *operand, struct mig_err *err);
/* Prints USAGE on FP and exits with CODE. */
void mig_usage(const char *usage, FILE *fp, int code) __attribute__((noreturn));
/* "prog: message" and USAGE on stderr; exits 2. */
void mig_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Fills database_url from $DATABASE_URL when -d was not given. */
int mig_common_need_url(struct mig_common *c, struct mig_err *err);
/* Strict number parsing for flags: "--wait 5", "--lock-timeout 0.5". */
int mig_parse_seconds(const char *flag, const char *arg, double *out,
		      struct mig_err *err);
int mig_parse_int(const char *flag, const char *arg, long min, long max,
		  long *out, struct mig_err *err);
void mig_print_version(void);
/* Prints "prog: msg" and the hint on stderr, a database error's or a
 * refusal's message naming the database (mig_subject) when one is known and
 * the message does not name it already; under GitHub Actions also the annotation and, when the program
 * wrote none, the step summary (gh_summary_error).  Returns err->code. */
int mig_report_error(const struct mig_err *err);
/* Closes stdout, reporting a write error (full disk) as MIG_EINPUT... */
int mig_close_stdout(int rc);
/*
 * The same for a run that may have changed the database (mig-upgrade,
 * mig-downgrade, mig-stamp, not --sql or --dry-run): when database_written,
 * a report that could not be written (a closed pipe, a full disk) is said
 * on stderr and rc is returned unchanged, so the exit status always says
 * what happened to the database.
 */
int mig_close_report(int rc, bool database_written);

/* Diagnostics on stderr, prefixed with the program name. */
void mig_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mig_info(const struct mig_common *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- database URLs ------------------------------------------------------ */

enum mig_dialect { MIG_DIALECT_ANY = 0, MIG_SQLITE, MIG_POSTGRESQL };
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

/* ---- databases ---------------------------------------------------------- */

struct mig_db;		/* an open connection; see db.h for drivers */

/* Text rows of a query: cell(r, c) is NULL for SQL NULL. */
struct mig_rows {
	size_t nrows, ncols;
	char **cells;
	long affected;		/* rows changed by INSERT/UPDATE/DELETE */
};
#define MIG_ROWS_INIT { 0, 0, NULL, 0 }
const char *mig_rows_cell(const struct mig_rows *r, size_t row, size_t col);
void mig_rows_release(struct mig_rows *r);

struct mig_connect_opts {
	bool create;		/* SQLite: create the file if missing */
	bool readonly;		/* SQLite: open read-only */
	double wait_seconds;	/* keep retrying while the server is not up */
	double lock_timeout;	/* < 0: wait forever for the migration lock */
	bool verbose;		/* pass server notices to stderr */
	bool scratch;		/* SQLite: a throwaway file, no need to sync */
	enum mig_lock_mode lock_mode;	/* PostgreSQL: how the lock is taken */
	bool quiet;		/* -q: no note that a pooler was detected */
};

/*
 * Opens the database named by url_text.  Returns MIG_EINPUT for a malformed
 * URL and MIG_EDB when the database cannot be reached; *out is NULL then.
 * Error messages never contain the password.
 */
int mig_db_open(struct mig_db **out, const char *url_text,
		const struct mig_connect_opts *opts, struct mig_err *err);
void mig_db_close(struct mig_db *db);
/* A second connection to the same database, with the same options. */
int mig_db_open_twin(struct mig_db *db, struct mig_db **out, struct mig_err *err);
/* Whether the migration lock is taken in each transaction (--lock-mode
 * transaction), so that none is held between them. */
bool mig_db_locks_per_transaction(const struct mig_db *db);
enum mig_dialect mig_db_dialect(const struct mig_db *db);
const struct mig_url *mig_db_url(const struct mig_db *db);
/* How many statements mig_db_exec_script has completed on db, all told (a
 * step's count is the difference; the step summary shows it). */
size_t mig_db_statements_run(const struct mig_db *db);

/*
 * Runs a whole SQL script (a migration section).  On failure returns MIG_EDB
 * with "file:line: message", the line being that of the failing statement
 * counted from first_line.  The caller owns the transaction.
 */
int mig_db_exec_script(struct mig_db *db, const char *sql, const char *file,
		       int first_line, struct mig_err *err);
/* One statement with $1..$n text parameters; out may be NULL. */
int mig_db_query(struct mig_db *db, const char *sql, int nparams,
		 const char *const *params, struct mig_rows *out,
		 struct mig_err *err);
int mig_db_begin(struct mig_db *db, struct mig_err *err);
/* Where the session stands: outside a transaction, inside one, inside a
 * failed one (PostgreSQL), or unknown (the connection is gone). */
enum mig_tx_state { MIG_TX_IDLE, MIG_TX_OPEN, MIG_TX_FAILED, MIG_TX_UNKNOWN };
enum mig_tx_state mig_db_tx_state(struct mig_db *db);
/* What the statement did that changed the state during the last section. */
enum mig_tx_change { MIG_TX_SAME, MIG_TX_BEGAN, MIG_TX_COMMITTED, MIG_TX_ROLLED_BACK };
enum mig_tx_change mig_db_tx_change(const struct mig_db *db, int *line);
/* Whether a section that began or ended a transaction was stopped right
 * after that statement (nothing after it ran). */
bool mig_db_stops_at_tx_change(const struct mig_db *db);
/* The schema a bare table name goes into; the caller frees it. */
int mig_db_default_schema(struct mig_db *db, char **out, struct mig_err *err);
/* One catalog lookup: the table's OID (PostgreSQL), 1 (SQLite), 0 if none. */
int mig_db_table_oid(struct mig_db *db, const char *schema, const char *table,
		     unsigned long *oid, struct mig_err *err);
int mig_db_commit(struct mig_db *db, struct mig_err *err);
void mig_db_rollback(struct mig_db *db);	/* never fails the caller */
/*
 * Takes the migration lock named by key for the rest of the session
 * (PostgreSQL advisory lock); on SQLite the lock is the IMMEDIATE write
 * transaction each migration runs in, so this only sets the busy timeout.
 * MIG_ESAFETY when the lock timeout expires.
 */
int mig_db_lock(struct mig_db *db, const char *key, struct mig_err *err);
void mig_db_unlock(struct mig_db *db, const char *key);
/* Lists the tables of a schema (NULL: the default one), sorted. */
int mig_db_list_tables(struct mig_db *db, const char *schema,
		       struct mig_strv *out, struct mig_err *err);
int mig_db_table_exists(struct mig_db *db, const char *schema,
			const char *table, bool *exists, struct mig_err *err);
/* Appends "name" or "schema"."name", quoted for the database. */
void mig_quote_ident(struct mig_buf *b, const char *name);
void mig_quote_qualified(struct mig_buf *b, const char *schema,
			 const char *name);

/* ---- migration files ---------------------------------------------------- */

enum mig_rev_kind { MIG_REV_SQL, MIG_REV_ALEMBIC_PY };

struct mig_section {
	bool upgrade;			/* else downgrade */
	enum mig_dialect dialect;	/* MIG_DIALECT_ANY for both */
	char *sql;			/* points into the revision's body */
	int line;			/* file line of the section's first SQL line */
};

struct mig_rev {
	char *id;
	struct mig_strv down;		/* down_revision, as written */
	struct mig_strv depends_on;
	struct mig_strv branch_labels;
	char *message, *create_date;
	bool transactional;
	enum mig_rev_kind kind;
	char *path;			/* the file, as found under DIR/versions */
	char sha256[65];		/* SHA-256 of the file read, hex (sum.h) */
	int line;			/* line of "revision:" */
	int down_line;			/* line of "down_revision:" */
	int deps_line;
	struct mig_section *sections;
	size_t nsections;
	char *body;			/* the file's text, its sections' SQL packed
					 * in place: what every section.sql points into */
	bool has_upgrade, has_downgrade;
	char *doc_revises;		/* Alembic docstring "Revises:" */
	int doc_revises_line;

	/* Filled by the graph (indexes into graph->revs). */
	size_t *vdown, nvdown;		/* versioned down revisions */
	size_t *alldown, nalldown;	/* versioned + resolved dependencies */
	size_t *normdown, nnormdown;	/* versioned + normalized dependencies */
	size_t *deps, ndeps;		/* resolved dependencies */
	size_t *next, nnext;		/* revisions whose down_revision is us */
	size_t *allnext, nallnext;
	size_t topo;			/* position in graph->order */
};

/* True for a non-empty string of [A-Za-z0-9_]. */
bool mig_valid_revision_chars(const char *id);
/* Branch labels may also hold - and . */
bool mig_valid_label(const char *label);
/*
 * Parse one migration file's text into *rev (which the caller releases,
 * also after a failure).  MIG_EINPUT with "path:line: what" and err_line
 * set when the file does not follow the format.
 */
int mig_rev_parse_sql(struct mig_rev *rev, const char *path, const char *text,
		      size_t len, int *err_line, struct mig_err *err);
/*
 * The same for a text the caller gives away: text (len bytes and a NUL, from
 * malloc) becomes rev->body, and the sections' SQL is packed inside it rather
 * than copied, so a 50 MB data migration is held once.  text is owned by rev
 * from the call on, whatever the result.
 */
int mig_rev_parse_sql_owned(struct mig_rev *rev, const char *path, char *text,
			    size_t len, int *err_line, struct mig_err *err);
int mig_rev_parse_py(struct mig_rev *rev, const char *path, const char *text,
		     size_t len, int *err_line, struct mig_err *err);
void mig_rev_release(struct mig_rev *rev);

/* ---- findings (graph lint, schema checks) ----------------------------- */

enum mig_severity { MIG_SEV_ERROR, MIG_SEV_WARNING };

struct mig_finding {
	enum mig_severity severity;
	char *code;		/* short kebab-case id, e.g. "missing-revision" */
	char *file;		/* may be NULL */
	int line;		/* 0 when unknown */
	char *msg;
	char *hint;		/* may be NULL */
};
struct mig_findings {
	struct mig_finding *v;
	size_t n, cap;
};
#define MIG_FINDINGS_INIT { NULL, 0, 0 }
void mig_findings_add(struct mig_findings *f, enum mig_severity sev,
		      const char *code, const char *file, int line,
		      const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
size_t mig_findings_count(const struct mig_findings *f, enum mig_severity sev);
void mig_findings_release(struct mig_findings *f);

/* ---- the revision graph ------------------------------------------------- */

struct mig_graph {
	char *dir;			/* DIR (scripts in DIR/versions) */
	struct mig_rev *revs;
	size_t nrevs;
	size_t *index;			/* open-addressing hash of ids */
	size_t index_cap;
	size_t *heads, nheads;		/* no versioned child */
	size_t *bases, nbases;		/* no down_revision */
	size_t *order, norder;		/* topological, bases first */
	struct mig_findings findings;	/* lint results */
	bool usable;			/* no error that stops planning */
};
#define MIG_NONE ((size_t)-1)

/*
 * Loads DIR/versions/ (*.sql migrations; Alembic *.py scripts for the graph
 * only) and builds the graph.  Problems in files and in the graph are added
 * to graph->findings; graph->usable is false when one of them makes
 * migration unsafe.  Returns MIG_EINPUT only when DIR cannot be read.
 */
int mig_graph_load(struct mig_graph *g, const char *dir, struct mig_err *err);
void mig_graph_release(struct mig_graph *g);
size_t mig_graph_find(const struct mig_graph *g, const char *id);
/*
 * Resolves a revision argument: an id, a unique id prefix, a branch label,
 * "head" (the single head), "heads" or "base" (empty set).  Appends indexes
 * to *out.  MIG_EINPUT with advice when it names nothing or is ambiguous.
 */
int mig_graph_resolve(const struct mig_graph *g, const char *arg,
		      size_t **out, size_t *nout, struct mig_err *err);
/* Marks rev and all its ancestors (through dependencies too) in mark[]. */
void mig_graph_mark_ancestors(const struct mig_graph *g, const size_t *revs,
			      size_t nrevs, bool *mark);
void mig_graph_mark_descendants(const struct mig_graph *g, const size_t *revs,
				size_t nrevs, bool *mark);
/* Fails with MIG_EINPUT listing the graph's errors, if it has any. */
int mig_graph_require_usable(const struct mig_graph *g, struct mig_err *err);

/* ---- the version table ------------------------------------------------ */

struct mig_vt {
	const char *schema;	/* --version-schema; NULL: the connection's default */
	const char *table;
	bool no_history;	/* --no-history: write no mig_history rows */
	/* Set once per run by mig_vt_resolve, and used by every read and
	 * write after it, so that neither a migration's SET search_path nor a
	 * temporary table of the same name can redirect them: the schema
	 * (PostgreSQL's current_schema() when not given, SQLite's main). */
	char *resolved_schema;
};
/* Resolves vt to one exact object (see resolved_schema). */
int mig_vt_resolve(struct mig_db *db, struct mig_vt *vt, struct mig_err *err);
void mig_vt_release(struct mig_vt *vt);
/* The application's tables are in the connection's default schema,
 * whatever --version-schema says; *skip is the version table's name when it
 * lies among them (to leave out of counts and introspection), else NULL. */
int mig_vt_app_skip(struct mig_db *db, const struct mig_vt *vt, const char **skip,
		    struct mig_err *err);
/* The migration lock's key: the resolved object, not the flags' spelling. */
char *mig_vt_lock_key(const struct mig_vt *vt);
/* exists is false and heads empty when the table is missing. */
int mig_vt_read(struct mig_db *db, const struct mig_vt *vt, bool *exists,
		struct mig_strv *heads, struct mig_err *err);
/* The rows alone, for a caller that knows the table exists. */
int mig_vt_read_rows(struct mig_db *db, const struct mig_vt *vt,
		     struct mig_strv *heads, struct mig_err *err);
int mig_vt_create(struct mig_db *db, const struct mig_vt *vt,
		  struct mig_err *err);
void mig_vt_create_sql(struct mig_buf *b, const struct mig_vt *vt);
int mig_vt_insert(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err);
int mig_vt_delete(struct mig_db *db, const struct mig_vt *vt, const char *rev,
		  struct mig_err *err);
int mig_vt_update(struct mig_db *db, const struct mig_vt *vt,
		  const char *from, const char *to, struct mig_err *err);

/* ---- plans: which revisions to apply or revert, in order -------------- */

struct mig_step {
	size_t rev;
	bool upgrade;
};

/* How one step changes the rows of the version table (Alembic's rules). */
struct mig_vt_change {
	struct mig_strv del, ins;	/* rows to delete, rows to insert */
	char *upd_from, *upd_to;	/* one row to update, or NULL */
};
void mig_vt_change_release(struct mig_vt_change *c);

struct mig_plan {
	struct mig_step *steps;
	size_t nsteps;
};
void mig_plan_release(struct mig_plan *p);

/*
 * Plans an upgrade from the current heads (ids, all in the graph) to the
 * target revisions; an empty target set means nothing.  Order and version
 * rows follow Alembic.
 */
int mig_plan_upgrade(const struct mig_graph *g, const struct mig_strv *current,
		     const size_t *target, size_t ntarget,
		     struct mig_plan *plan, struct mig_err *err);
/* Plans a downgrade so that only ancestors of target remain (none: base). */
int mig_plan_downgrade(const struct mig_graph *g, const struct mig_strv *current,
		       const size_t *target, size_t ntarget,
		       struct mig_plan *plan, struct mig_err *err);
/* Plans reverting the n most recently applied revisions. */
int mig_plan_downgrade_steps(const struct mig_graph *g,
			     const struct mig_strv *current, long n,
			     struct mig_plan *plan, struct mig_err *err);
/* Computes the version-table change of one step from the current heads. */
void mig_step_vt_change(const struct mig_graph *g, const struct mig_strv *heads,
			const struct mig_step *step, struct mig_vt_change *out);
/* Applies a change to an in-memory set of heads. */
void mig_vt_change_apply(const struct mig_vt_change *c, struct mig_strv *heads);

/* ---- the state of a database ------------------------------------------ */

enum mig_db_state {
	MIG_STATE_EMPTY,	/* no tables at all */
	MIG_STATE_LEGACY,	/* tables but no version table */
	MIG_STATE_UNVERSIONED,	/* version table without rows, no other tables */
	MIG_STATE_UNKNOWN,	/* a recorded revision is not in the graph */
	MIG_STATE_OVERLAP,	/* a recorded revision is an ancestor of another */
	MIG_STATE_CURRENT,	/* at the heads of the graph */
	MIG_STATE_BEHIND,	/* pending migrations exist */
};
const char *mig_db_state_name(enum mig_db_state s);

struct mig_status {
	enum mig_db_state state;
	bool version_table;		/* it exists */
	struct mig_strv current;	/* rows of the version table */
	struct mig_strv unknown;	/* rows not in the graph */
	struct mig_strv overlap;	/* rows that are ancestors of another row */
	struct mig_strv tables;		/* tables other than the version table */
	/* When no revision is recorded: tables that no migration creates
	 * (moved out of tables; they do not make the database legacy). */
	struct mig_strv foreign;
	struct mig_plan pending;	/* upgrade plan to the graph's heads */
};
void mig_status_release(struct mig_status *s);
/* Reads where the database stands relative to the graph. */
int mig_status_read(struct mig_db *db, const struct mig_graph *g,
		    const struct mig_vt *vt, struct mig_status *st,
		    struct mig_err *err);

/* ---- running migrations ------------------------------------------------ */

struct mig_run_hooks {
	void *ctx;
	/* Called after each step is committed. */
	void (*step_done)(void *ctx, const struct mig_graph *g,
			  const struct mig_step *s, double ms);
	/* Called once with the plan made inside the lock. */
	void (*planned)(void *ctx, const struct mig_graph *g,
			const struct mig_strv *heads, const struct mig_plan *p);
	/* Called when another process moved the database while we waited. */
	void (*replanned)(void *ctx, const struct mig_strv *was,
			  const struct mig_strv *heads);
	/* Called when, after this run's last step, the rows are not the ones
	 * it left: another process changed them (information, not an error). */
	void (*moved_after)(void *ctx, const struct mig_strv *heads);
};

/* Where a run goes: up to target, down to target, or down by steps. */
struct mig_goal {
	bool upgrade;
	const size_t *target;	/* none: base (downgrade) or nothing (upgrade) */
	size_t ntarget;
	long steps;		/* downgrade only: revert this many, if > 0 */
	size_t only;		/* MIG_NONE, or the one revision to apply/revert */
};

/*
 * Moves db towards goal under the migration lock, each revision in its own
 * transaction with its version-table change (the version table is created
 * in the first one if missing).  The plan is made inside the first
 * transaction from the rows read there, and each later transaction checks
 * that the rows are still what this run left; if another process moved
 * them, the rest is planned again, so nothing is applied twice.  Refuses
 * (MIG_ESAFETY) legacy and unknown-revision databases, changing nothing.
 * On failure the failing revision is rolled back, earlier ones stay, and
 * err says file:line.
 */
int mig_run(struct mig_db *db, const struct mig_graph *g,
	    const struct mig_vt *vt, const struct mig_goal *goal,
	    const struct mig_run_hooks *hooks, struct mig_err *err);
/* Plans goal from the current heads (as mig_run does inside its lock). */
int mig_plan_goal(const struct mig_graph *g, const struct mig_strv *current,
		  const struct mig_goal *goal, struct mig_plan *plan,
		  struct mig_err *err);
/*
 * Writes the SQL that mig_run would execute (sections for the dialect and
 * version-table statements) to out, without touching a database.
 */
void mig_plan_sql(struct mig_buf *out, const struct mig_graph *g,
		  const struct mig_vt *vt, enum mig_dialect dialect,
		  const struct mig_strv *current, bool vt_exists,
		  const struct mig_plan *plan);
/* Refuses (MIG_ESAFETY, with advice) states that a migration must not touch. */
int mig_check_migratable(const struct mig_status *st, const struct mig_graph *g,
			 struct mig_err *err);

/* ---- the schema model (introspection, specs, comparison) ------------------ */

/*
 * One model for a live database and for a YAML spec.  Types are normalized
 * (mig_type_normalize) so that the same migration reads the same on both
 * dialects.  In a spec, a field that was not written is "unset": NULL for
 * strings, -1 for tristate ints, and has_* false for lists, and comparison
 * skips it unless --strict.  'line' is the spec line (0 for live objects).
 * 'from' is, for a schema built by replaying migrations (origins.h), the
 * migration file and line of the statement that made the object, so that a
 * finding about it points there; file NULL when unknown.
 */
struct mig_origin {
	char *file;		/* owned; NULL: unknown */
	int line;
};

struct mig_column {
	char *name;
	char *type;		/* normalized, e.g. "varchar(36)" */
	int nullable;		/* 1, 0, or -1 unset */
	char *default_value;	/* normalized expression, NULL when none/unset */
	bool has_default;	/* spec: default was written (null = none) */
	int line;
	struct mig_origin from;
};

struct mig_fk {
	struct mig_strv columns;
	char *ref_table;
	struct mig_strv ref_columns;
	char *on_delete;	/* "cascade", "set null", ...; NULL: no action */
	char *on_update;
	int line;
};

struct mig_index {
	char *name;
	struct mig_strv columns;	/* column names or expressions */
	int unique;		/* 1, 0, or -1 unset */
	char *method;		/* PostgreSQL access method other than btree */
	char *where;		/* partial index predicate */
	int line;
	struct mig_origin from;
};

struct mig_table {
	char *name;
	struct mig_column *columns;
	size_t ncolumns;
	struct mig_strv primary_key;
	bool has_primary_key;
	struct mig_fk *fks;
	size_t nfks;
	bool has_fks;
	struct mig_strv *uniques;	/* each a list of columns */
	int *unique_lines;
	size_t nuniques;
	bool has_uniques;
	struct mig_index *indexes;
	size_t nindexes;
	bool has_indexes;
	int line;
	struct mig_origin from;
};

struct mig_schema {
	struct mig_table *tables;
	size_t ntables;
	char *file;		/* the spec's path, for findings */
	/* Name index for mig_schema_find: open addressing, each slot a table's
	 * position + 1 (0 is empty), kept at most half full.  Maintained by
	 * mig_schema_add_table and mig_schema_sort. */
	size_t *slots;
	size_t nslots;
};

/* Returns a new string: the canonical name of a declared or catalog type. */
char *mig_type_normalize(const char *type);
struct mig_table *mig_schema_add_table(struct mig_schema *s, const char *name);
struct mig_table *mig_schema_find(const struct mig_schema *s, const char *name);
/* Removes and releases the table at position i; the others keep their order. */
void mig_schema_remove_table(struct mig_schema *s, size_t i);
struct mig_column *mig_table_add_column(struct mig_table *t, const char *name);
struct mig_column *mig_table_find_column(const struct mig_table *t,
					 const char *name);
struct mig_fk *mig_table_add_fk(struct mig_table *t);
struct mig_index *mig_table_add_index(struct mig_table *t, const char *name);
struct mig_strv *mig_table_add_unique(struct mig_table *t, int line);
/* Sorts tables by name, and keys, uniques and indexes canonically. */
void mig_schema_sort(struct mig_schema *s);
void mig_schema_release(struct mig_schema *s);

/*
 * Reads the schema of a live database in a fixed number of queries:
 * every table of the schema (NULL: SQLite's main / PostgreSQL's
 * current_schema()) except skip_table (the version table, or NULL).
 */
int mig_db_introspect(struct mig_db *db, const char *schema,
		      const char *skip_table, struct mig_schema *out,
		      struct mig_err *err);

/*
 * The schema as the CREATE statements that make it (SQLite's sqlite_master),
 * appended to out in an order that replays.  Equal texts are equal schemas,
 * so a caller can compare two states without building their models.
 * Returns MIG_OK with *supported false, out untouched, where the dialect
 * keeps no such text (PostgreSQL).  On error out may hold some statements;
 * the caller releases it either way.
 */
int mig_db_schema_text(struct mig_db *db, struct mig_strv *out, bool *supported,
		       struct mig_err *err);

/*
 * Loads a YAML spec (the format of DESIGN.md).  MIG_EINPUT with
 * "file:line:column: what" for bad YAML, unknown keys, unknown types,
 * duplicate keys or aliases.  strict also requires foreign keys to name
 * tables the spec defines.
 */
int mig_spec_load(struct mig_schema *out, const char *path, bool strict,
		  struct mig_err *err);
/* Writes s as a spec: stable order, so equal schemas give equal bytes. */
int mig_spec_dump(const struct mig_schema *s, FILE *fp, struct mig_err *err);

/*
 * Compares a live schema with a spec, adding one finding per difference
 * (file and line of the spec).  Partial specs check only what they name;
 * strict reports everything else as extra.
 */
void mig_schema_compare(const struct mig_schema *live, const struct mig_schema *spec,
			bool strict, struct mig_findings *out);
/* The rule that holds whatever a spec says: a foreign key column must have
 * the type of the column it references (PostgreSQL refuses it otherwise). */
void mig_schema_check_fk_types(const struct mig_schema *live,
			       struct mig_findings *out);
/* Differences between two live schemas (stamp check, round trip): each a
 * finding; expected_name and actual_name say what the sides are. */
void mig_schema_diff(const struct mig_schema *expected, const struct mig_schema *actual,
		     struct mig_findings *out);

/* ---- a program's session: graph, database, version table ------------------ */

enum mig_session_flags {
	MIG_NEED_DB = 1,	/* connect to -d / $DATABASE_URL */
	MIG_DB_CREATE = 2,	/* SQLite: create the file if missing */
	MIG_DB_READONLY = 4,	/* SQLite: open read-only */
	MIG_NO_GRAPH = 8,	/* do not load the migrations folder */
	MIG_PRINT_SQL = 16,	/* --sql: the output is SQL, not a report */
};

struct mig_session {
	struct mig_common *common;
	struct mig_graph graph;
	struct mig_db *db;	/* NULL without MIG_NEED_DB */
	struct mig_vt vt;
};

/*
 * Loads the graph of common->migrations_dir and opens the database, in
 * that order, so bad input is reported before a server is contacted.
 * Warnings about the graph are printed with -v.  On failure the session is
 * released.
 */
int mig_session_open(struct mig_session *s, struct mig_common *c,
		     unsigned flags, struct mig_err *err);
void mig_session_close(struct mig_session *s);

/* ---- reporting a run (mig-upgrade, mig-downgrade) ------------------------ */

struct mig_run_report {
	const struct mig_common *c;
	bool upgrade;
	struct mig_run_hooks hooks;	/* pass to mig_run */
	struct mig_buf steps;		/* JSON objects of the steps done */
	size_t nsteps;
	struct mig_strv from;		/* the rows before the run */
	double t0;
	struct mig_db *db;		/* whose statements the steps count */
	size_t statements_seen;		/* mig_db_statements_run before the step */
	const struct mig_graph *g;	/* the plan's, once planned */
	size_t *planned, nplanned;	/* the plan's revisions, in order */
	struct mig_buf rows;		/* the step summary's table rows */
};
void mig_run_report_init(struct mig_run_report *r, const struct mig_common *c,
			 bool upgrade);
/* Prints where the database ended up and writes the step outputs (from,
 * to, applied_count, pending_count, revision) and the step summary: the
 * table of steps done and, when rc is an error (err), the step that failed
 * with its file:line, its statement and the message. */
void mig_run_report_finish(struct mig_run_report *r, struct mig_session *s, int rc,
			   const struct mig_err *err);
void mig_run_report_release(struct mig_run_report *r);
/* Prints the SQL of goal from the database's current rows (--sql). */
int mig_print_goal_sql(struct mig_session *s, const struct mig_goal *goal,
		       struct mig_err *err);
/* Runs goal with the report above, or prints its SQL when sql is true. */
int mig_move(struct mig_session *s, const struct mig_goal *goal, bool sql,
	     struct mig_err *err);

/* ---- mig-verify: the CI migrations job ------------------------------------ */

struct mig_verify_opts {
	const struct mig_common *common;	/* -d: an empty database, else temp SQLite */
	const char *keep;		/* --keep PATH: build the SQLite file there */
	bool lint_only, allow_multiple_heads, roundtrip, strict;
	long expect_tables;		/* -1: not checked */
	struct mig_strv expect_table;
	const char *spec;
};

struct mig_verify {
	struct mig_findings findings;	/* lint, checks and round trip */
	size_t lint_errors;
	struct mig_buf applied;		/* JSON objects of applied migrations */
	size_t napplied;
	double apply_ms;
	struct mig_strv tables;		/* created, sorted */
	struct mig_schema schema;	/* the result */
	size_t spec_findings;		/* differences from --spec */
	const char *roundtrip_failed;	/* the first revision that failed */
	size_t roundtrip_steps;
	char *db_display;
	char *temp_path;
	/* called as each migration is applied */
	void (*on_step)(void *ctx, const struct mig_rev *rev, double ms);
	void *ctx;
};

/*
 * Runs the job: lints g, then (unless lint_only or the graph has errors)
 * applies every migration to a clean database, checks the expectations and
 * the spec, and walks the round trip.  Findings go to v->findings; the
 * return code is for failures to do the job (MIG_EDB, MIG_ESAFETY for a
 * non-empty database, MIG_EINPUT for a bad spec).
 */
int mig_verify_run(struct mig_verify *v, const struct mig_verify_opts *o,
		   const struct mig_graph *g, struct mig_err *err);
void mig_verify_release(struct mig_verify *v);

/* ---- mig-stamp ------------------------------------------------------------- */

struct mig_stamp_opts {
	const char *spec;	/* the expected schema, instead of replaying */
	bool no_verify;		/* stamp without checking the schema */
	bool force;		/* overwrite another or an unknown revision */
	bool dry_run;		/* check and say, change nothing */
	bool no_history;	/* --no-history: no mig_history row */
};

struct mig_stamp {
	struct mig_strv target;		/* the rows to write (none: base) */
	struct mig_strv before, after;	/* the rows read before and after */
	bool already;			/* the database was at target: nothing done */
	const char *checked;		/* "migrations", "spec" or "none" */
	struct mig_findings findings;	/* schema differences (warnings allowed) */
};

/*
 * Stamps db at the revisions target[0..n) (none: base) under the migration
 * lock and in one transaction.  MIG_ESAFETY, changing nothing, for another
 * or an unknown recorded revision (unless force), an empty database, or a
 * schema that lacks what the revision requires (the differences are in
 * st->findings).  st->after is read back from the database.
 */
int mig_stamp_run(struct mig_stamp *st, const struct mig_stamp_opts *o,
		  struct mig_db *db, const struct mig_graph *g,
		  const struct mig_vt *vt, const size_t *target, size_t n,
		  struct mig_err *err);
void mig_stamp_release(struct mig_stamp *st);

/* ---- output --------------------------------------------------------------- */

/* JSON string literal of s (quoted, escaped) appended to b. */
void json_str(struct mig_buf *b, const char *s);
/* ["a","b"] */
void json_strv(struct mig_buf *b, const struct mig_strv *sv);
/* True when GITHUB_ACTIONS=true. */
bool gh_active(void);
/* Under GitHub Actions, puts stdout and stderr behind the output gate
 * (out.c), so that no text from outside can forge a workflow command.
 * mig_init() calls it first thing. */
void mig_gate_open(void);
/* Registers a secret with ::add-mask:: so the runner hides it in logs. */
void gh_mask(const char *secret);
/* ::error file=F,line=L,title=mig CODE::msg (escaped as GitHub requires),
 * F relative to $GITHUB_WORKSPACE when it lies inside it; no file: none. */
void gh_annotate(FILE *fp, enum mig_severity sev, const char *file, int line,
		 const char *code, const char *msg);
/* file relative to $GITHUB_WORKSPACE when it lies inside it, else as
 * given (a new string): the path annotations and summaries show. */
char *gh_workspace_path(const char *file);
/* Appends key=value to $GITHUB_OUTPUT (value on one line). */
int gh_output(const char *key, const char *value);
/* Appends markdown to $GITHUB_STEP_SUMMARY. */
int gh_summary(const char *markdown);
/* Whether this run has appended to $GITHUB_STEP_SUMMARY yet. */
bool gh_summary_written(void);
/* Text from outside (a database identifier, a server message, a migration's
 * message) as Markdown that renders as that text: no HTML, no heading, no
 * table cell break, one line. */
void md_text(struct mig_buf *b, const char *s);
/* A fenced code block holding text exactly, whatever backticks it holds. */
void md_code_block(struct mig_buf *b, const char *lang, const char *text);
/* Under GitHub Actions, when nothing has been written to the step summary
 * yet, writes one for a run that failed with err: the program, the
 * database, the kind of error, the message and its hint.  mig_report_error
 * calls it, so a failed connection leaves a summary too. */
void gh_summary_error(const struct mig_err *err);
/*
 * The database a run is about, for fleets: --label NAME when given, else
 * the masked URL of the first database opened (mig_db_open calls
 * mig_subject_url).  A label is never replaced.  Errors name it
 * (mig_report_error), and so do the JSON document and the summaries.
 */
void mig_subject_label(const char *label);
void mig_subject_url(const char *display);
/* The label or masked URL, or NULL before any is known. */
const char *mig_subject(void);
/* The label, or NULL without --label. */
const char *mig_subject_given_label(void);
/* Prints each finding as "file:line: severity: msg" plus its hint. */
void mig_findings_print(FILE *fp, const struct mig_findings *f, bool warnings);
/* The same, every finding, none said more severe than most (a lint error
 * that does not stop the program is printed as the warning it is then). */
void mig_findings_print_as(FILE *fp, const struct mig_findings *f, enum mig_severity most);
void mig_findings_json(struct mig_buf *b, const struct mig_findings *f);
void mig_findings_annotate(const struct mig_findings *f);

/* ---- the JSON contract (json.c) ------------------------------------------- */

/* --format json: from here on, the run's output is one JSON document. */
void mig_json_enable(bool on);
bool mig_json_active(void);
/* The program's result: an object "{...}" whose members go into the
 * document (the caller's buffer is emptied).  A later call replaces it. */
void mig_json_result(struct mig_buf *object);
/* Records the error that stopped the run (the first one counts); kind
 * NULL names it after code: found, input, database, safety. */
void mig_json_error(int code, const char *kind, const char *message, const char *hint);
/* Writes the one document to stdout ({"ok", "format": 1, the result's
 * members, "error"}), once; nothing without --format json.
 * mig_close_report() and the usage errors call it. */
void mig_json_write(int rc);
/* What an exit code means, one word: found, input, database, safety (the
 * "kind" of a JSON error, the title of an error's annotation). */
const char *mig_error_kind(int code);
/* The model as JSON, with the keys of the YAML spec (--dump --format json). */
void mig_schema_json(struct mig_buf *b, const struct mig_schema *s);

/* ---- mig-new: new migration files (newrev.c) ------------------------------- */

struct mig_newrev_opts {
	const char *message;		/* NULL: "merge heads" for a merge */
	struct mig_strv branch_labels;	/* the caller's; copied */
	bool merge;			/* join every head of the graph */
	const char *comment;		/* "-- " lines after the header, or NULL */
	const char *sections;		/* the sections, or NULL for empty ones */
	bool print_only;		/* render nr->text, write no file */
};

struct mig_newrev {
	char *id;			/* 12 lowercase hex digits */
	char *path;			/* DIR/versions/<id>_<slug>.sql */
	char *message;			/* as written: one line */
	struct mig_strv down;		/* the head(s); empty for a base */
	struct mig_strv branch_labels;
	char *text;			/* the file's text */
};

/*
 * The file name slug of a message: lowercase ASCII letters and digits, runs
 * of anything else as one '_', none at either end, at most 40 characters
 * (cut at a '_' when the cut would split a word).  "" when the message has
 * no letter or digit.  The caller frees it.
 */
char *mig_slugify(const char *message);
/*
 * Writes a new migration file in g's folder, chained to its single head
 * (down_revision none for an empty folder), or with o->merge to all its
 * heads, and fills *nr (which the caller releases, also after a failure).
 * Never replaces a file.  MIG_EINPUT for a broken graph, an empty message,
 * a bad or taken branch label, --merge with fewer than two heads, or a
 * file that cannot be written (nothing is left behind); MIG_ESAFETY for
 * several heads without merge, or a file that exists.
 */
int mig_newrev_create(struct mig_newrev *nr, const struct mig_newrev_opts *o,
		      const struct mig_graph *g, struct mig_err *err);
void mig_newrev_release(struct mig_newrev *nr);
/*
 * The checks mig_newrev_create makes before it draws an id (a usable
 * graph, good branch labels, the heads to chain to), for a caller that
 * has work to do before writing: the same codes, nothing written.
 */
int mig_newrev_check(const struct mig_newrev_opts *o, const struct mig_graph *g,
		     struct mig_err *err);

/*
 * Replays the migrations up to target[0..n) (none: no migration at all)
 * into a new in-memory SQLite database (stamp.c), as mig-upgrade would.
 * On success *out is that database, which the caller closes with
 * mig_db_close; on failure *out is NULL and err names the migration and
 * line that failed (an Alembic script cannot be replayed: MIG_EINPUT).
 */
int mig_replay(const struct mig_graph *g, const size_t *target, size_t n,
	       struct mig_db **out, struct mig_err *err);

/* ---- mig-new --autogenerate: a migration from the spec (autogen.c) ---------- */

struct mig_autogen_opts {
	const char *spec;		/* NULL: DIR/schema.yaml */
	bool allow_destructive;		/* write drops and narrowing changes */
};

struct mig_autogen {
	char *spec;			/* the spec read */
	struct mig_strv changes;	/* what the migration does, a line each */
	struct mig_strv destructive;	/* the changes that lose data */
	char *comment;			/* header comment of the file */
	char *sections;			/* its upgrade and downgrade sections */
};

/*
 * Compares the schema the migrations of g build up to its head (replayed
 * into an in-memory SQLite) with the spec, and renders the migration that
 * takes one to the other, both ways, for SQLite and PostgreSQL.  No
 * difference: MIG_OK with ag->changes empty.  MIG_EINPUT for a spec that
 * cannot be read or migrated to (a NOT NULL column without a default added
 * to a table that exists, a missing type, a key PostgreSQL would refuse,
 * a table SQLite would have to rebuild that holds what the schema model
 * does not know, such as a CHECK constraint or a trigger); MIG_ESAFETY
 * when the change destroys data and o->allow_destructive is false, with
 * the culprits in ag->destructive.  The caller releases *ag in any case.
 */
int mig_autogen_run(struct mig_autogen *ag, const struct mig_autogen_opts *o,
		    const struct mig_graph *g, struct mig_err *err);
void mig_autogen_release(struct mig_autogen *ag);

#endif
