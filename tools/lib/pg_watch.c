/*
 * pg_watch.c: what a PostgreSQL run waits for, said while it waits
 * (pg_watch.h): the heartbeat of a statement that runs asynchronously, and
 * who holds the migration lock.
 */
#define _POSIX_C_SOURCE 200809L
#include "pg_watch.h"
#include "db.h"
#include "mig.h"
#include "pq.h"
#include "progress.h"
#include "url.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libpq's functions: db_pg.c loaded them before any connection opened. */
static const struct mig_pq *libpq(void)
{
	struct mig_err ignored = MIG_ERR_INIT;
	const struct mig_pq *pq = mig_pq_load(&ignored);
	mig_err_release(&ignored);
	return pq;
}

/*
 * Who a session is, for a heartbeat or a lock wait: the columns pid,
 * application_name, state, seconds in its transaction, seconds connected
 * from column col of row i.  A column the role may not read (another
 * role's session without pg_read_all_stats) is NULL and left out.
 */
static void describe_session(struct mig_buf *b, const struct mig_rows *r, size_t i,
			     size_t col)
{
	const char *pid = mig_rows_cell(r, i, col);
	const char *app = mig_rows_cell(r, i, col + 1);
	const char *state = mig_rows_cell(r, i, col + 2);
	const char *in_tx = mig_rows_cell(r, i, col + 3);
	const char *up = mig_rows_cell(r, i, col + 4);
	buf_printf(b, "pid %s (", pid ? pid : "?");
	if (app && *app)
		buf_printf(b, "application_name '%s'", app);
	else
		buf_puts(b, "no application_name");
	if (state)
		buf_printf(b, ", %s", state);
	if (in_tx)
		buf_printf(b, ", its transaction open for %s s", in_tx);
	if (up)
		buf_printf(b, ", connected %s s ago", up);
	buf_putc(b, ')');
}

#define SESSION_COLUMNS(a) \
	a ".pid, " a ".application_name, " a ".state, " \
	"round(extract(epoch FROM pg_catalog.now() - " a ".xact_start)::numeric, 1), " \
	"round(extract(epoch FROM pg_catalog.now() - " a ".backend_start)::numeric, 1)"

/* What backend pid is doing, asked on the watcher connection: its state,
 * its wait event, and the sessions that block it (pg_blocking_pids);
 * NULL when that cannot be asked (the reason is said once). */
static char *backend_activity(struct mig_db *db, long pid)
{
	if (!db->watcher && !db->watch_error) {
		struct mig_connect_opts o = db->opts;
		o.heartbeat = 0;
		o.wait_seconds = 0;
		o.verbose = false;
		struct mig_err e = MIG_ERR_INIT;
		if (mig_db_open(&db->watcher, db->url_text, &o, &e)) {
			db->watch_error = true;
			mig_progress_say(&db->opts, "the heartbeat cannot ask the server "
					 "what the statement waits for: %s", e.msg);
		}
		mig_err_release(&e);
	}
	if (!db->watcher)
		return NULL;
	char *p = xasprintf("%ld", pid);
	const char *params[1] = { p };
	struct mig_rows r = MIG_ROWS_INIT;
	struct mig_err e = MIG_ERR_INIT;
	int rc = mig_db_query(db->watcher, "SELECT a.state, a.wait_event_type, "
			      "a.wait_event, " SESSION_COLUMNS("b")
			      " FROM pg_catalog.pg_stat_activity a "
			      "LEFT JOIN pg_catalog.pg_stat_activity b "
			      "ON b.pid = ANY (pg_catalog.pg_blocking_pids(a.pid)) "
			      "WHERE a.pid = $1::integer ORDER BY b.pid", 1, params, &r, &e);
	struct mig_buf b = MIG_BUF_INIT;
	if (rc) {
		buf_printf(&b, "backend pid %ld: pg_stat_activity cannot be read: %s",
			   pid, e.msg);
	} else if (!r.nrows) {
		buf_printf(&b, "pg_stat_activity lists no backend pid %ld", pid);
	} else {
		const char *state = mig_rows_cell(&r, 0, 0);
		const char *type = mig_rows_cell(&r, 0, 1);
		const char *event = mig_rows_cell(&r, 0, 2);
		buf_printf(&b, "backend pid %ld %s", pid, state ? state : "(state hidden)");
		if (type)
			buf_printf(&b, ", wait_event %s:%s", type, event ? event : "?");
		for (size_t i = 0; i < r.nrows; i++) {
			if (!mig_rows_cell(&r, i, 3))
				continue;
			buf_puts(&b, i ? "; and by " : ", waiting for a lock held by ");
			describe_session(&b, &r, i, 3);
		}
	}
	mig_rows_release(&r);
	mig_err_release(&e);
	free(p);
	return buf_detach(&b);
}

/*
 * One heartbeat line for the piece of the section at byte base.  A
 * transactional section goes to the server as one query, and the server
 * sends the results of its statements only at its end (it flushes its
 * output then), so the line names where the section begins, and says so;
 * a transactional: false statement goes alone and is named exactly.
 */
static void heartbeat(struct mig_db *db, const struct mig_heartbeat *hb,
		      const char *sql, size_t base, const char *file, int first_line)
{
	const struct mig_pq *pq = libpq();
	int line = mig_sql_line(sql, (size_t)(mig_sql_skip_trivia(sql + base) - sql),
				first_line);
	char *what = db->pooled ? xstrdup("a connection pooler answers, so which "
					  "server backend runs it is not known")
				: backend_activity(db, (long)pq->PQbackendPID(db->handle));
	char *safe = what ? mig_url_redact(&db->url, what) : NULL;
	mig_progress_still_running(&db->opts, hb, file, line, db->in_tx, safe);
	free(safe);
	free(what);
}

PGresult *mig_pg_next_result(struct mig_db *db, struct mig_heartbeat *hb,
			      const char *sql, size_t base, const char *file,
			      int first_line)
{
	const struct mig_pq *pq = libpq();
	PGconn *h = db->handle;
	while (hb->interval_ms > 0 && pq->PQisBusy(h)) {
		struct pollfd fd = { .fd = pq->PQsocket(h), .events = POLLIN };
		if (fd.fd < 0)
			break;
		int n = poll(&fd, 1, mig_heartbeat_wait_ms(hb));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (!pq->PQconsumeInput(h) || !pq->PQisBusy(h)))
			break;	/* an error to report, or a result: no beat for it */
		if (mig_heartbeat_due(hb)) {
			heartbeat(db, hb, sql, base, file, first_line);
			mig_heartbeat_rest(hb);
		}
	}
	return pq->PQgetResult(h);
}

/* The sessions holding the advisory lock of key, as "pid N (...)", from
 * pg_locks (a bigint key is classid:objid with objsubid 1); NULL when the
 * server shows none (released meanwhile) or cannot be asked. */
static char *lock_holders(struct mig_db *db, const char *key)
{
	uint64_t h = (uint64_t)strtoll(key, NULL, 10);
	char *hi = xasprintf("%lu", (unsigned long)(uint32_t)(h >> 32));
	char *lo = xasprintf("%lu", (unsigned long)(uint32_t)h);
	const char *params[2] = { hi, lo };
	struct mig_rows r = MIG_ROWS_INIT;
	struct mig_err ignored = MIG_ERR_INIT;
	int rc = mig_db_query(db, "SELECT " SESSION_COLUMNS("b") " FROM pg_catalog.pg_locks l "
			  "JOIN pg_catalog.pg_stat_activity b ON b.pid = l.pid "
			  "WHERE l.locktype = 'advisory' AND l.granted "
			  "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
			  "WHERE datname = pg_catalog.current_database()) "
			  "AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1 "
			  "ORDER BY b.pid", 2, params, &r, &ignored);
	struct mig_buf b = MIG_BUF_INIT;
	for (size_t i = 0; !rc && i < r.nrows; i++) {
		buf_puts(&b, i ? " and " : "");
		describe_session(&b, &r, i, 0);
	}
	mig_rows_release(&r);
	mig_err_release(&ignored);
	free(hi);
	free(lo);
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

void mig_pg_say_lock_wait(struct mig_db *db, const char *k, struct mig_heartbeat *hb,
			  double timeout_s, const char *origin)
{
	bool first = origin != NULL;
	if (db->opts.quiet || (!first && !mig_heartbeat_due(hb)))
		return;
	char *holders = lock_holders(db, k);
	char *who = holders ? xasprintf("held by %s", holders)
		    : xstrdup("held by a session the server does not show (it "
			      "may have just let it go)");
	if (first) {
		char *limit = timeout_s >= 0 ? xasprintf("giving up after %g s (%s)",
							 timeout_s, origin)
				: xstrdup("waiting without limit (--lock-timeout sets one)");
		mig_progress_say(&db->opts, "waiting for the migration lock of %s, %s; %s",
				 db->url.display, who, limit);
		free(limit);
	} else {
		char *waited = mig_duration_text(mig_heartbeat_elapsed(hb) * 1000.0);
		mig_progress_say(&db->opts, "still waiting for the migration lock of %s "
				 "after %s, %s", db->url.display, waited, who);
		free(waited);
	}
	free(who);
	free(holders);
}

/*
 * A migration can release mig's session lock (DISCARD ALL,
 * pg_advisory_unlock_all(), pg_advisory_unlock), and a deploy waiting for
 * it then runs the same migrations at once.  So after each section, and
 * after each statement of a transactional: false one (whose statements
 * commit on their own, so stopping after the section is too late), this
 * backend's hold on the key is looked up in pg_locks.  A transaction-
 * scoped lock cannot be released before its transaction ends, and an end
 * is caught by the transaction check, so it is not looked up.
 */
/* Sets db->lock_lost and says so when the count of this backend's holds
 * on the key, n, is "0". */
static int lock_count_checked(struct mig_db *db, const char *n, const char *file,
			      int line, const char *who, struct mig_err *err)
{
	if (!n || strcmp(n, "0") != 0)
		return MIG_OK;
	db->lock_lost = true;
	db->session_locked = false;	/* nothing to unlock at the end */
	return mig_err_set(err, db->in_tx ? MIG_ESAFETY : MIG_EDB,
			   "%s:%d: %s released mig's migration lock (DISCARD "
			   "ALL, pg_advisory_unlock_all() and pg_advisory_unlock "
			   "do), so another deploy may be running migrations on "
			   "this database now; stopped", file, line, who);
}

#define LOCK_HELD_SQL "SELECT count(*) FROM pg_catalog.pg_locks " \
	"WHERE locktype = 'advisory' AND granted AND objsubid = 1 " \
	"AND pid = pg_catalog.pg_backend_pid() " \
	"AND ((classid::bigint << 32) | objid::bigint) = "

int mig_pg_check_lock_kept(struct mig_db *db, const char *file, int line,
			   const char *who, struct mig_err *err)
{
	if (!db->session_locked || !db->session_lock_key)
		return MIG_OK;
	const char *p[1] = { db->session_lock_key };
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(db, LOCK_HELD_SQL "$1::bigint", 1, p, &r, err);
	if (!rc)
		rc = lock_count_checked(db, mig_rows_cell(&r, 0, 0), file, line, who, err);
	mig_rows_release(&r);
	return rc;
}

/*
 * The session reset and the lock check in one simple query: the RESETs
 * first, so the check (and every later statement of mig's) runs with the
 * connection's own settings and role.  The key goes into the text, since a
 * simple query binds no values: it is mig's own number (lock_key in
 * db_pg.c), printed again from its value so that the text is a number.
 */
int mig_pg_after_section(struct mig_db *db, const char *file, int line, bool last,
			 struct mig_err *err)
{
	/* a transactional: false section was checked after each statement */
	bool check = db->session_locked && db->session_lock_key && db->in_tx;
	if (!last)
		return check ? mig_pg_check_lock_kept(db, file, line, "this section", err)
			     : MIG_OK;
	struct mig_buf q = MIG_BUF_INIT;
	buf_puts(&q, "RESET ALL; RESET SESSION AUTHORIZATION; RESET ROLE");
	if (check)
		buf_printf(&q, "; " LOCK_HELD_SQL "%lld",
			   strtoll(db->session_lock_key, NULL, 10));
	struct mig_rows r = MIG_ROWS_INIT;
	int rc = mig_db_query(db, buf_str(&q), 0, NULL, &r, err);
	if (!rc && check)
		rc = lock_count_checked(db, mig_rows_cell(&r, 0, 0), file, line,
					"this section", err);
	else if (rc)
		mig_err_hint(err, "resetting the session's settings after the "
			     "migration failed, so its step was not recorded");
	mig_rows_release(&r);
	buf_release(&q);
	return rc;
}
