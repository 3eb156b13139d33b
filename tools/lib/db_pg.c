/*
 * db_pg.c: the PostgreSQL driver, on libpq; it mirrors db_sqlite.c.
 *
 * A transactional section is sent as one simple query, so the server
 * splits it into statements; one over 1 MB goes in pieces of whole
 * statements (wait_for_piece).  A transactional: false one is split with
 * PostgreSQL's own parser (libpg_query, pgsplit.h) and sent a statement at
 * a time, since the server runs a multi-statement query in one implicit
 * transaction, where CREATE INDEX CONCURRENTLY cannot run.  To name the
 * line of a failing statement we use the error position the server gives;
 * when it gives none, we count the statements that completed (libpq returns
 * one result per statement) and take where the next one begins from the
 * same split, loaded only then.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "mig.h"
#include "out.h"
#include "pg_catalog.h"
#include "pg_commit.h"
#include "pg_watch.h"
#include "pgserver.h"
#include "pgsplit.h"
#include "pq.h"
#include "progress.h"
#include "url.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libpq's functions, loaded by the first pg_connect (pq.h). */
static const struct mig_pq *pq;

static PGconn *H(struct mig_db *db)
{
	return db->handle;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void notice_processor(void *arg, const char *message)
{
	struct mig_db *db = arg;
	if (!db->opts.verbose)
		return;
	char *m = mig_url_redact(&db->url, message);
	fprintf(stderr, "%s: server: %s", mig_progname, m);
	free(m);
}

/* Pings until the server answers or `seconds` have passed since start,
 * the last pause cut to what is left, so the wait is the whole of --wait;
 * returns how long it waited. */
static double wait_for_server(const char *const *kw, const char *const *val,
			      double start, double seconds)
{
	double deadline = start + seconds * 1000.0;
	for (;;) {
		PGPing p = pq->PQpingParams(kw, val, 1);
		double now = mig_now_ms();
		if (p == PQPING_OK || p == PQPING_NO_ATTEMPT || now >= deadline)
			return now - start;
		double left = deadline - now;
		mig_sleep_ms(left < 500 ? (long)left + 1 : 500);
	}
}

/* The password libpq really sent may come from PGPASSWORD or a pgpass
 * file, not the URL: it is redacted from every message too, and masked
 * under GitHub Actions before the first server message is printed. */
static void remember_sent_password(struct mig_db *db, const PGconn *h)
{
	const char *sent = h ? pq->PQpass(h) : NULL;
	if (!sent || !*sent || db->url.sent_password)
		return;
	db->url.sent_password = xstrdup(sent);
	if (strlen(sent) >= 4 && (!db->url.password_decoded ||
				  strcmp(sent, db->url.password_decoded) != 0))
		gh_mask(sent);
}

/* Which connect_timeout ran out, and where it was set, for the message. */
static char *connect_timeout_in_force(const struct mig_db *db)
{
	char *perr = NULL;
	const char *from_url = NULL;
	PQconninfoOption *opts = pq->PQconninfoParse(db->url.conninfo, &perr);
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "connect_timeout") && o->val && *o->val)
			from_url = o->val;
	char *what = from_url
		? xasprintf(" (connect_timeout=%s s, from the URL)", from_url)
		: xstrdup(" (connect_timeout=10 s, mig's default; connect_timeout= in the "
			  "URL sets another)");
	if (opts)
		pq->PQconninfoFree(opts);
	if (perr)
		pq->PQfreemem(perr);
	return what;
}

static int pg_connect(struct mig_db *db, struct mig_err *err)
{
	/* Keywords before dbname are defaults the URL may override. */
	const char *kw[] = { "connect_timeout", "application_name",
			     "client_encoding", "dbname", NULL };
	const char *val[] = { "10", mig_progname, "UTF8", db->url.conninfo, NULL };
	if (!pq && !(pq = mig_pq_load(err)))
		return err->code;
	/* A ping is a whole connection (and password exchange): --wait pings
	 * only after a failed connection, while time is left, then connects
	 * again; not when the server asked for a password (it is up). */
	double start = mig_now_ms();
	PGconn *h = pq->PQconnectdbParams(kw, val, 1);
	double wait = db->opts.wait_seconds;
	if (wait > 0 && (!h || (pq->PQstatus(h) != CONNECTION_OK &&
				!pq->PQconnectionUsedPassword(h)))) {
		db->waited_ms = mig_now_ms() - start;
		if (db->waited_ms < wait * 1000.0) {
			pq->PQfinish(h);
			db->waited_ms = wait_for_server(kw, val, start, wait);
			h = pq->PQconnectdbParams(kw, val, 1);
		}
	}
	remember_sent_password(db, h);
	if (!h || pq->PQstatus(h) != CONNECTION_OK) {
		char *m = xstrdup(h ? pq->PQerrorMessage(h) : "out of memory");
		trim(m);
		char *in_force = strstr(m, "timeout expired") ? connect_timeout_in_force(db)
							      : xstrdup("");
		char *waited = db->waited_ms > 0	/* (not after a password) */
			? xasprintf(", after waiting %.1f s for the server (--wait %g)",
				    (double)(long)(db->waited_ms / 100.0) / 10.0,
				    db->opts.wait_seconds)
			: xstrdup("");
		mig_err_set(err, MIG_EDB, "cannot connect to %s: %s%s%s", db->url.display, m,
			    in_force, waited);
		free(waited);
		free(in_force);
		free(m);
		pq->PQfinish(h);
		return mig_err_hint(err, "check the URL and that the server is up; "
				    "--wait SECONDS retries while it starts");
	}
	pq->PQsetNoticeProcessor(h, notice_processor, db);
	db->handle = h;
	return MIG_OK;
}

/* The statements of a section, split only when first asked. */
struct split {
	const char *sql;
	bool tried;
	struct mig_stmt *stmts;
	size_t n;
};

static int split_now(struct split *sp, struct mig_err *err)
{
	if (!sp->tried) {
		sp->tried = true;
		return mig_pg_split(sp->sql, &sp->stmts, &sp->n, err);
	}
	return MIG_OK;
}

/* Where statement number k (0-based) of the section begins: its first
 * token, or the section's when libpg_query cannot say. */
static size_t statement_start(struct split *sp, long k)
{
	struct mig_err ignored = MIG_ERR_INIT;
	split_now(sp, &ignored);
	mig_err_release(&ignored);
	if (k >= 0 && (size_t)k < sp->n)
		return sp->stmts[k].first;
	return (size_t)(mig_sql_skip_trivia(sp->sql) - sp->sql);
}

/* res failed in the piece of the section that begins at byte base, after
 * done statements of the section had completed. */
static int script_error(struct split *sp, size_t base, const char *file,
			int first_line, const PGresult *res, long done,
			struct mig_err *err)
{
	const char *primary = pq->PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = pq->PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *pos = pq->PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	size_t off = pos ? base + mig_pg_char_offset(sp->sql + base, strtol(pos, NULL, 10))
			 : statement_start(sp, done);
	int line = mig_sql_line(sp->sql, off, first_line);
	if (!primary)
		primary = pq->PQresultErrorMessage(res);
	if (detail)
		return mig_err_set(err, MIG_EDB, "%s:%d: %s (%s)", file, line,
				   primary, detail);
	return mig_err_set(err, MIG_EDB, "%s:%d: %s", file, line, primary);
}

static int connection_lost(struct mig_db *db, struct mig_err *err)
{
	char *m = xstrdup(pq->PQerrorMessage(H(db)));
	trim(m);
	mig_err_set(err, MIG_EDB, "lost the connection to %s: %s", db->url.display, m);
	free(m);
	return MIG_EDB;
}

static enum mig_tx_state pg_tx_state(struct mig_db *db)
{
	if (db->begin_pending)	/* open for the caller, sent with its next statement */
		return MIG_TX_OPEN;
	switch (pq->PQtransactionStatus(H(db))) {
	case PQTRANS_IDLE:
		return MIG_TX_IDLE;
	case PQTRANS_INTRANS:
		return MIG_TX_OPEN;
	case PQTRANS_INERROR:
		return MIG_TX_FAILED;
	case PQTRANS_ACTIVE:
	case PQTRANS_UNKNOWN:
		break;
	}
	return MIG_TX_UNKNOWN;
}

/*
 * The server runs a section at once, so the transaction state is known
 * only at its end; the statement that changed it is found by its command
 * tag.  ROLLBACK TO SAVEPOINT has the tag ROLLBACK too, so a ROLLBACK is
 * named only when no COMMIT ended the transaction.
 */
struct tx_tags {
	long begin, end, rollback;	/* statement numbers + 1; 0: none */
};

static void note_tx_tag(struct tx_tags *t, const char *tag, long k)
{
	long *slot = NULL;
	if (!strcmp(tag, "BEGIN") || !strcmp(tag, "START TRANSACTION"))
		slot = &t->begin;
	else if (!strcmp(tag, "COMMIT") || !strcmp(tag, "PREPARE TRANSACTION"))
		slot = &t->end;
	else if (!strcmp(tag, "ROLLBACK"))
		slot = &t->rollback;
	if (slot && !*slot)
		*slot = k + 1;
}

static int pg_query(struct mig_db *db, const char *sql, int nparams,
		    const char *const *params, struct mig_rows *out,
		    struct mig_err *err);

/* The BEGIN that opens mig's transaction and its start time, which tells it
 * from one a migration's COMMIT; BEGIN opens (note_tx_change).  One simple
 * query "BEGIN; SELECT now(); sql" with the transaction's first statement,
 * sql (NULL: none); *out gets sql's rows.  Every statement of ours in it is
 * one statement without parameters.  A COMMIT that waits goes first. */
static int begin_with(struct mig_db *db, const char *sql, struct mig_rows *out,
		      struct mig_err *err);

static int send_pending_begin(struct mig_db *db, struct mig_err *err)
{
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = begin_with(db, NULL, &r, err);
	mig_rows_release(&r);
	return rc;
}

/* Whether the open transaction is the one pg_begin opened: its now() is
 * the start time pg_begin read (microseconds apart at the least, since the
 * section's statements ran in between). */
static bool same_transaction(struct mig_db *db)
{
	struct mig_rows r = MIG_ROWS_INIT;
	struct mig_err ignored = MIG_ERR_INIT;
	int rc = pg_query(db, "SELECT pg_catalog.now()::text", 0, NULL, &r, &ignored);
	const char *now = rc ? NULL : mig_rows_cell(&r, 0, 0);
	bool same = !db->tx_started || (now && !strcmp(now, db->tx_started));
	mig_rows_release(&r);
	mig_err_release(&ignored);
	return same;
}

static void note_tx_change(struct mig_db *db, struct split *sp, int first_line,
			   const struct tx_tags *t)
{
	enum mig_tx_state now = pg_tx_state(db);
	long ended = t->end && t->rollback ? (t->end < t->rollback ? t->end : t->rollback)
				       : t->end ? t->end : t->rollback;
	if (db->in_tx && now == MIG_TX_OPEN && ended && !same_transaction(db)) {
		/* COMMIT; BEGIN (or AND CHAIN): open again, but not mig's; a
		 * ROLLBACK tag alone may be ROLLBACK TO SAVEPOINT, hence the
		 * transaction's start time, not the tag, decides */
		db->tx_replaced = true;
		db->tx_line = mig_sql_line(sp->sql, statement_start(sp, ended - 1), first_line);
		db->tx_change = ended == t->end ? MIG_TX_COMMITTED : MIG_TX_ROLLED_BACK;
		return;
	}
	long k = now == MIG_TX_OPEN ? t->begin : t->end ? t->end : t->rollback;
	if (!k)
		return;
	db->tx_line = mig_sql_line(sp->sql, statement_start(sp, k - 1), first_line);
	db->tx_change = now == MIG_TX_OPEN ? MIG_TX_BEGAN : t->end ? MIG_TX_COMMITTED
			: MIG_TX_ROLLED_BACK;
}

/* Waits for the results of the piece of the section at byte base, just
 * sent; *done counts the section's statements that completed. */
static int piece_results(struct mig_db *db, struct split *sp, size_t base,
			 const char *file, int first_line, struct tx_tags *tags,
			 long *done, struct mig_err *err)
{
	int rc = MIG_OK;
	PGresult *res;
	struct mig_heartbeat hb;
	mig_heartbeat_start(&hb, db->opts.heartbeat);
	while ((res = mig_pg_next_result(db, &hb, sp->sql, base, file, first_line))) {
		ExecStatusType s = pq->PQresultStatus(res);
		if (rc == MIG_OK && (s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE)) {
			rc = script_error(sp, base, file, first_line, res, *done, err);
		} else if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			note_tx_tag(tags, pq->PQcmdStatus(res), *done);
			++*done;
		}
		pq->PQclear(res);
		mig_heartbeat_start(&hb, db->opts.heartbeat);	/* the next statement's */
	}
	if (rc == MIG_OK && pq->PQstatus(H(db)) != CONNECTION_OK)
		return connection_lost(db, err);
	return rc;
}

/* Sends text, that piece, as one simple query and waits for its results. */
static int send_piece(struct mig_db *db, struct split *sp, const char *text,
		      size_t base, const char *file, int first_line,
		      struct tx_tags *tags, long *done, struct mig_err *err)
{
	if (!pq->PQsendQuery(H(db), text))
		return connection_lost(db, err);
	return piece_results(db, sp, base, file, first_line, tags, done, err);
}

/* A big section goes in pieces of whole statements (pgsplit.h), each a
 * simple query in mig's open transaction, so that libpq's two copies of the
 * query hold a piece, not the section.  They run as the whole would, but a
 * syntax error is found only when its piece is sent, after the pieces
 * before it ran: mig's transaction rolls them back.  Each piece is split
 * apart on error, and the last one sent is one that left that transaction. */
struct pieces {
	struct mig_db *db;
	const char *file;
	long *done;
};

static int send_next_piece(void *ctx, const char *text, struct mig_err *err)
{
	struct pieces *p = ctx;
	return pq->PQsendQuery(H(p->db), text) ? MIG_OK : connection_lost(p->db, err);
}

static int wait_for_piece(void *ctx, const char *text, int line, bool *more,
			  struct mig_err *err)
{
	struct pieces *p = ctx;
	struct split piece = { text, false, NULL, 0 };
	struct tx_tags its = { 0, 0, 0 };
	long ran = 0;
	int rc = piece_results(p->db, &piece, 0, p->file, line, &its, &ran, err);
	if (pq->PQstatus(H(p->db)) == CONNECTION_OK)
		note_tx_change(p->db, &piece, line, &its);
	*p->done += ran;
	*more = p->db->tx_change == MIG_TX_SAME && pg_tx_state(p->db) == MIG_TX_OPEN;
	free(piece.stmts);
	return rc;
}

static int pg_exec_script(struct mig_db *db, const char *sql, const char *file,
			  int first_line, struct mig_err *err)
{
	struct split sp = { sql, false, NULL, 0 };
	struct tx_tags tags = { 0, 0, 0 };
	long done = 0;
	int rc = db->begin_pending ? send_pending_begin(db, err) : MIG_OK;
	if (rc) {
		/* mig's BEGIN failed: nothing of the section was sent */
	} else if (db->in_tx && strlen(sql) > MIG_PG_PIECES_FROM) {
		struct pieces p = { db, file, &done };
		struct mig_pg_piece_sender s = { send_next_piece, wait_for_piece, &p };
		rc = mig_pg_for_each_piece(sql, first_line, &s, err);
	} else if (db->in_tx) {
		rc = send_piece(db, &sp, sql, 0, file, first_line, &tags, &done, err);
	} else if ((rc = split_now(&sp, err)) != MIG_OK) {
		char *why = xstrdup(err->msg);
		mig_err_release(err);
		rc = mig_err_set(err, MIG_EDB, "%s:%d: %s", file, first_line, why);
		free(why);
	} else {
		for (size_t i = 0; !rc && i < sp.n; i++) {
			char *text = xstrndup(sql + sp.stmts[i].from,
					      sp.stmts[i].end - sp.stmts[i].from);
			rc = send_piece(db, &sp, text, sp.stmts[i].from, file, first_line,
					&tags, &done, err);
			free(text);
			if (!rc)
				rc = mig_pg_check_lock_kept(db, file, mig_sql_line(sql,
						     sp.stmts[i].first, first_line),
						     "this statement", err);
			if (rc && err->msg && pq->PQstatus(H(db)) == CONNECTION_OK)
				mig_pg_say_what_ran(sql, sp.stmts, i, first_line, err);
		}
	}
	if (pq->PQstatus(H(db)) == CONNECTION_OK)
		note_tx_change(db, &sp, first_line, &tags);
	db->statements_run += (size_t)done;
	free(sp.stmts);
	return rc;
}

static void collect_rows(const PGresult *res, struct mig_rows *out)
{
	out->nrows = (size_t)pq->PQntuples(res);
	out->ncols = (size_t)pq->PQnfields(res);
	out->cells = xcalloc(out->nrows * out->ncols + 1, sizeof(*out->cells));
	for (size_t r = 0; r < out->nrows; r++)
		for (size_t c = 0; c < out->ncols; c++)
			if (!pq->PQgetisnull(res, (int)r, (int)c))
				out->cells[r * out->ncols + c] =
					xstrdup(pq->PQgetvalue(res, (int)r, (int)c));
}

/* The error of a failed result (NULL: libpq's), as pg_query reports it. */
static int result_error(struct mig_db *db, PGresult *res, struct mig_err *err)
{
	int rc = MIG_EDB;
	const char *state = res ? pq->PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char *m = xstrdup(res ? pq->PQresultErrorMessage(res) : pq->PQerrorMessage(H(db)));
	trim(m);
	if (!*m || pq->PQstatus(H(db)) != CONNECTION_OK)
		rc = connection_lost(db, err);
	else
		mig_err_set(err, rc, "%s", m);
	if (state && !strcmp(state, "55P03"))	/* lock_not_available */
		err->code = rc = MIG_ESAFETY;
	free(m);
	return rc;
}

static int begin_with(struct mig_db *db, const char *sql, struct mig_rows *out,
		      struct mig_err *err)
{
	db->begin_pending = false;
	int commit = mig_pg_commit_waits(db);	/* the last step's, in this round trip */
	char *text = xasprintf("%sBEGIN; SELECT pg_catalog.now()::text%s%s",
			       commit ? "COMMIT; " : "", sql ? "; " : "", sql ? sql : "");
	int sent = pq->PQsendQuery(H(db), text);
	free(text);
	if (!sent)
		return commit ? mig_pg_commit_result(db, NULL, err) : connection_lost(db, err);
	free(db->tx_started);
	db->tx_started = NULL;
	mig_rows_release(out);
	int rc = MIG_OK;
	PGresult *res;
	for (int k = -commit; (res = pq->PQgetResult(H(db))); k++) {
		ExecStatusType s = pq->PQresultStatus(res);
		if (k == -1) {
			rc = mig_pg_commit_result(db, res, err);
		} else if (rc == MIG_OK && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			rc = result_error(db, res, err);
		} else if (rc == MIG_OK && k == 1 && s == PGRES_TUPLES_OK &&
			   pq->PQntuples(res) == 1 && !pq->PQgetisnull(res, 0, 0)) {
			db->tx_started = xstrdup(pq->PQgetvalue(res, 0, 0));
		} else if (rc == MIG_OK && k == 2) {
			if (s == PGRES_TUPLES_OK)
				collect_rows(res, out);
			const char *n = pq->PQcmdTuples(res);
			out->affected = n && *n ? strtol(n, NULL, 10) : 0;
		}
		pq->PQclear(res);
	}
	if (mig_pg_commit_waits(db))	/* no answer to it came */
		rc = mig_pg_commit_result(db, NULL, err);
	if (rc == MIG_OK && pq->PQstatus(H(db)) != CONNECTION_OK)
		rc = connection_lost(db, err);
	return rc;
}

static int pg_query(struct mig_db *db, const char *sql, int nparams,
		    const char *const *params, struct mig_rows *out,
		    struct mig_err *err)
{
	if (mig_pg_commit_waits(db) && (!db->begin_pending || !strcmp(sql, "ROLLBACK"))) {
		int rc = mig_pg_send_waiting_commit(db, err);
		if (rc || !strcmp(sql, "COMMIT"))
			return rc;
	}
	if (db->begin_pending) {
		/* a transaction that ends before anything ran in it: nothing to send */
		if (!strcmp(sql, "ROLLBACK")) {
			db->begin_pending = false;
			mig_rows_release(out);
			return MIG_OK;
		}
		if (!nparams)
			return begin_with(db, sql, out, err);
		int rc = send_pending_begin(db, err);
		if (rc)
			return rc;
	}
	/* Without parameters, the simple protocol: its statement keeps no
	 * portal, and so no snapshot, once it is done (an idle transaction
	 * that keeps one would hold up CREATE INDEX CONCURRENTLY elsewhere). */
	PGresult *res = nparams ? pq->PQexecParams(H(db), sql, nparams, NULL, params,
						   NULL, NULL, 0)
			      : pq->PQexec(H(db), sql);
	ExecStatusType s = pq->PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		int rc = result_error(db, res, err);
		pq->PQclear(res);
		return rc;
	}
	mig_rows_release(out);
	if (s == PGRES_TUPLES_OK)
		collect_rows(res, out);
	const char *n = pq->PQcmdTuples(res);
	out->affected = n && *n ? strtol(n, NULL, 10) : 0;
	pq->PQclear(res);
	return MIG_OK;
}

static int pg_default_schema(struct mig_db *db, char **out, struct mig_err *err)
{
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = pg_query(db, "SELECT current_schema()", 0, NULL, &r, err);
	const char *name = rc ? NULL : mig_rows_cell(&r, 0, 0);
	if (name) {
		*out = xstrdup(name);
	} else if (!rc) {
		rc = mig_err_set(err, MIG_EDB, "%s: no schema to keep the version "
				 "table in: none of the search_path's schemas exists",
				 db->url.display);
		mig_err_hint(err, "create the schema, or fix the search_path "
			     "(ALTER ROLE ... SET search_path, or "
			     "options=-csearch_path%%3D... in the URL)");
	}
	mig_rows_release(&r);
	return rc;
}

/* One index lookup (pg_class_relname_nsp_index); temporary tables are in
 * their own schema, so one of the same name is not found. */
static int pg_table_oid(struct mig_db *db, const char *schema, const char *table,
			unsigned long *oid, struct mig_err *err)
{
	const char *p[2] = { schema, table };
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = pg_query(db, "SELECT c.oid FROM pg_catalog.pg_class c "
			  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			  "WHERE n.nspname = COALESCE($1::text, current_schema()) "
			  "AND c.relname = $2 AND c.relkind IN ('r', 'p')", 2, p, &r, err);
	const char *v = rc ? NULL : mig_rows_cell(&r, 0, 0);
	*oid = v ? strtoul(v, NULL, 10) : 0;
	mig_rows_release(&r);
	return rc;
}

/* FNV-1a: the advisory lock key of a version table, the same in every run. */
static char *lock_key(const char *key)
{
	uint64_t h = 14695981039346656037ULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return xasprintf("%lld", (long long)(int64_t)h);
}

/* Where the lock timeout in force came from, in words for a message. */
static char *lock_timeout_origin(const struct mig_db *db)
{
	static const char *const sources[][2] = {
		{ "client", "the connection's options: the URL's options= or PGOPTIONS" },
		{ "user", "the role's setting (ALTER ROLE ... SET lock_timeout)" },
		{ "database", "the database's setting (ALTER DATABASE ... SET lock_timeout)" },
		{ "database user", "the role's setting in this database" },
		{ "configuration file", "the server's configuration file" },
	};
	if (db->opts.lock_timeout >= 0)
		return xstrdup("--lock-timeout");
	const char *src = db->server_lock_timeout_source ? db->server_lock_timeout_source : "";
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(src, sources[i][0]))
			return xasprintf("lock_timeout from %s", sources[i][1]);
	return xasprintf("the server's lock_timeout, set by %s", *src ? src : "an unknown source");
}

/*
 * Takes an advisory lock (session or transaction scoped), waiting within
 * the lock timeout; MIG_ESAFETY when it expires.  It polls with
 * pg_try_advisory_lock instead of waiting in the server: a backend that
 * waits inside a statement keeps a snapshot, and CREATE INDEX CONCURRENTLY
 * in the holder's migration waits for every older snapshot, so holder and
 * waiter would wait for each other (a deadlock the server reports in
 * session mode, and cannot see in transaction mode, where the holder's
 * lock is kept by a transaction waiting on its client).  Between tries
 * the waiter holds no snapshot.  The pause doubles up to 200 ms.
 */
static int advisory_lock(struct mig_db *db, const char *key, bool xact,
			 struct mig_err *err)
{
	char *k = lock_key(key);
	const char *params[1] = { k };
	double timeout_s = db->opts.lock_timeout;
	if (timeout_s < 0 && db->server_lock_timeout_ms > 0)
		timeout_s = (double)db->server_lock_timeout_ms / 1000.0;
	double deadline = timeout_s >= 0 ? mig_now_ms() + timeout_s * 1000.0 : -1;
	long pause = 5;
	int rc;
	struct mig_heartbeat hb;
	mig_heartbeat_start(&hb, db->opts.heartbeat);
	for (bool first = true;; first = false) {
		struct mig_rows r = MIG_ROWS_INIT;
		rc = pg_query(db, xact ? "SELECT pg_try_advisory_xact_lock($1::bigint)"
			      : "SELECT pg_try_advisory_lock($1::bigint)", 1, params, &r, err);
		const char *got = rc ? NULL : mig_rows_cell(&r, 0, 0);
		bool taken = got && !strcmp(got, "t");
		mig_rows_release(&r);
		if (rc || taken)
			break;
		/* a transaction lock is waited for outside any transaction */
		if (xact)
			rc = pg_query(db, "ROLLBACK", 0, NULL, &r, err);
		mig_rows_release(&r);
		if (rc)
			break;
		if (first) {
			char *origin = lock_timeout_origin(db);
			mig_pg_say_lock_wait(db, k, &hb, timeout_s, origin);
			free(origin);
		} else {
			mig_pg_say_lock_wait(db, k, &hb, timeout_s, NULL);
		}
		double now = mig_now_ms();
		if (deadline >= 0 && now >= deadline) {
			char *origin = lock_timeout_origin(db);
			rc = mig_err_set(err, MIG_ESAFETY, "timed out after %g s (%s) waiting "
					 "for the migration lock of %s held by another "
					 "process", timeout_s, origin, db->url.display);
			free(origin);
			mig_err_hint(err, "another migration may be running; retry, or "
				     "raise --lock-timeout");
			break;
		}
		long wait = pause;
		if (deadline >= 0 && now + (double)wait > deadline)
			wait = (long)(deadline - now) + 1;
		mig_sleep_ms(wait);
		pause = pause >= 100 ? 200 : pause * 2;
		if (xact)
			rc = pg_query(db, "BEGIN", 0, NULL, &r, err);
		mig_rows_release(&r);
		if (rc)
			break;
	}
	free(k);
	return rc;
}

/*
 * What answers at the other end of the connection, read in one query that
 * the lock path makes once per run (mig-status, which takes no lock, makes
 * none).  A connection pooler (PgBouncer, pgcat, Odyssey, Supavisor) sends
 * the client a cancel key of its own when it connects, so the pid libpq got
 * then is not the pid of the server backend that runs our statements; on a
 * direct connection they are the same number.  This tells a pooler apart
 * at once, where watching pg_backend_pid() change between transactions does
 * not: an idle pooler keeps handing one client the same server connection.
 */

static int read_server_facts(struct mig_db *db, struct mig_pg_server_facts *f,
			     struct mig_err *err)
{
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = pg_query(db, "SELECT pg_catalog.pg_backend_pid(), "
			  "pg_catalog.pg_is_in_recovery(), "
			  "pg_catalog.version(), "
			  "s.setting, s.source FROM pg_catalog.pg_settings s "
			  "WHERE s.name = 'lock_timeout'", 0, NULL, &r, err);
	if (!rc && r.nrows == 1 && r.ncols == 5) {
		const char *ms = mig_rows_cell(&r, 0, 3);
		db->server_lock_timeout_ms = ms ? strtol(ms, NULL, 10) : 0;
		free(db->server_lock_timeout_source);
		db->server_lock_timeout_source = mig_rows_cell(&r, 0, 4)
			? xstrdup(mig_rows_cell(&r, 0, 4)) : NULL;
		const char *pid = mig_rows_cell(&r, 0, 0);
		const char *standby = mig_rows_cell(&r, 0, 1);
		const char *cockroach = mig_rows_cell(&r, 0, 2);	/* version() */
		f->backend_pid = pid ? strtol(pid, NULL, 10) : 0;
		f->pooled = f->backend_pid != (long)pq->PQbackendPID(H(db));
		db->pooled = f->pooled;
		f->standby = standby && !strcmp(standby, "t");
		f->cockroach = mig_pg_version_is_cockroach(cockroach);
	} else if (!rc) {
		rc = mig_err_set(err, MIG_EDB, "%s answered the server check with "
				 "%zu rows of %zu columns, not one of five",
				 db->url.display, r.nrows, r.ncols);
	}
	mig_rows_release(&r);
	return rc;
}


/*
 * The migration lock.  By default a session lock held for the whole run;
 * in transaction mode, and by default behind a pooler (where a session
 * lock leaks to whichever client gets the server connection next), this
 * only remembers the key and each transaction takes it in pg_begin.
 */
static int pg_lock(struct mig_db *db, const char *key, struct mig_err *err)
{
	struct mig_pg_server_facts f = { 0, false, false, false };
	int rc = read_server_facts(db, &f, err);
	if (!rc)
		rc = mig_pg_refuse_server(db->url.display, db->opts.lock_mode, &f,
					  pq->PQbackendPID(H(db)), err);
	if (rc)
		return rc;
	enum mig_lock_mode mode = db->opts.lock_mode;
	if (mode == MIG_LOCK_NONE) {
		if (!db->opts.quiet)
			fprintf(stderr, "%s: --no-lock: running without the migration "
				"lock; a deploy started meanwhile could apply a "
				"migration twice\n", mig_progname);
		return MIG_OK;
	}
	if (mode == MIG_LOCK_AUTO && f.pooled && !db->opts.quiet)
		fprintf(stderr, "%s: a connection pooler answers at %s; taking the "
			"migration lock in each migration's transaction "
			"(--lock-mode transaction)\n", mig_progname, db->url.display);
	if (mode == MIG_LOCK_TRANSACTION || (mode == MIG_LOCK_AUTO && f.pooled)) {
		free(db->lock_key);
		db->lock_key = xstrdup(key);
		return MIG_OK;
	}
	rc = advisory_lock(db, key, false, err);
	db->session_locked = !rc;
	free(db->session_lock_key);
	db->session_lock_key = rc ? NULL : lock_key(key);
	return rc;
}

/*
 * BEGIN is sent with the transaction's first statement, not on its own: a
 * step's transaction then opens in the round trip that reads the version
 * rows (psql running the same script opens it in a round trip too).  In
 * transaction lock mode the lock is taken at once, after an eager BEGIN.
 */
static int pg_begin(struct mig_db *db, struct mig_err *err)
{
	db->begin_pending = true;
	if (!db->lock_key)
		return MIG_OK;
	int rc = send_pending_begin(db, err);
	if (!rc)
		rc = advisory_lock(db, db->lock_key, true, err);
	return rc;
}

static void pg_unlock(struct mig_db *db, const char *key)
{
	free(db->lock_key);	/* transaction locks end with their transaction */
	db->lock_key = NULL;
	if (!db->session_locked)
		return;
	db->session_locked = false;
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_rows scratch = MIG_ROWS_INIT;
	char *k = lock_key(key);
	const char *params[1] = { k };
	pg_query(db, "SELECT pg_advisory_unlock($1::bigint)", 1, params, &scratch,
		 &ignored);
	mig_rows_release(&scratch);
	mig_err_release(&ignored);
	free(k);
}

static void pg_close(struct mig_db *db)
{
	mig_db_close(db->watcher);
	db->watcher = NULL;
	pq->PQfinish(H(db));
	db->handle = NULL;
}

const struct mig_driver mig_driver_pg = {
	.name        = "postgresql",
	.dialect     = MIG_POSTGRESQL,
	.connect     = pg_connect,	/* --wait pings until the server answers */
	.exec_script = pg_exec_script,	/* one simple query; file:line on error */
	.stops_at_tx_change = false,
	.commits_with_next = true,	/* "COMMIT; BEGIN; ..." (pg_commit.h) */
	.after_section = mig_pg_after_section,	/* lock check + reset, one query */
	.tx_state    = pg_tx_state,	/* PQtransactionStatus */
	.default_schema = pg_default_schema,	/* current_schema() */
	.table_oid   = pg_table_oid,
	.query       = pg_query,	/* PQexecParams, text parameters */
	.begin       = pg_begin,
	.lock        = pg_lock,		/* refuses standbys; session or per-transaction
					 * advisory lock, lock_timeout */
	.unlock      = pg_unlock,
	.list_tables = mig_pg_list_tables,	/* pg_catalog.h */
	.introspect  = mig_pg_introspect,	/* three catalog queries */
	.schema_text = NULL,	/* pg_catalog keeps no CREATE text: models compared */
	.close       = pg_close,
};
