/*
 * progress.h: the lines that let a user watch a run while it works, all on
 * stderr (through the output gate of out.c, so under GitHub Actions they
 * are plain log lines) and all silenced by -q:
 *
 *   applying 2/3 slow00000002 add index …      before each migration (text mode)
 *   applied 2/3 slow00000002 in 4.0 s           after it
 *     still running after 30 s at …sql:12: …    the heartbeat of a long statement
 *   mig-upgrade: waiting for the migration lock … held by pid N (…)
 *
 * The drivers decide what a heartbeat or a lock wait can say (db_pg.c asks
 * pg_stat_activity; db_sqlite.c knows only the elapsed time); this module
 * keeps the clock and the wording they share.
 */
#ifndef MIG_PROGRESS_H
#define MIG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct mig_connect_opts;	/* db.h */
struct mig_rev;			/* migfile.h */

/* The default of --heartbeat, in seconds. */
#define MIG_HEARTBEAT_DEFAULT 30.0

/* A clock that is due every interval from its start; interval 0 is off. */
struct mig_heartbeat {
	double interval_ms;	/* 0: never due */
	double start_ms;	/* mig_now_ms() when started */
	double next_ms;		/* when it is next due */
};

/* Starts hb now, due every `seconds` (0: never). */
void mig_heartbeat_start(struct mig_heartbeat *hb, double seconds);
/* Whether hb is due now; when it is, the next beat is one interval later. */
bool mig_heartbeat_due(struct mig_heartbeat *hb);
/* After a beat that took long (a slow server answer): the next one is a
 * whole interval from now, not at once. */
void mig_heartbeat_rest(struct mig_heartbeat *hb);
/* Milliseconds until hb is due (0 when it is), for poll(); -1 when off. */
int mig_heartbeat_wait_ms(const struct mig_heartbeat *hb);
/* Seconds since hb started. */
double mig_heartbeat_elapsed(const struct mig_heartbeat *hb);

/* "0.4 ms", "812.0 ms", "4.0 s", "12 min 05 s": a duration for people;
 * the caller frees it. */
char *mig_duration_text(double ms);

/* Whether the progress lines of a run are printed: text mode and not -q. */
bool mig_progress_on(const struct mig_connect_opts *o);
/* "applying 2/3 ID MESSAGE …" (or "reverting") before step pos (1-based)
 * of total, when o's progress lines are on. */
void mig_progress_step_start(const struct mig_connect_opts *o, bool upgrade,
			     size_t pos, size_t total, const struct mig_rev *rev);
/* "applied 2/3 ID in 4.0 s" (or "reverted") once the step is committed. */
void mig_progress_step_done(const struct mig_connect_opts *o, bool upgrade,
			    size_t pos, size_t total, const struct mig_rev *rev,
			    double ms);
/* "  still running after 30 s at FILE:LINE: WHAT" (WHAT may be NULL), the
 * heartbeat of a statement, unless -q.  whole_section: LINE is where a
 * section begins that went to the server in one piece, so which of its
 * statements runs is not known; the line says so. */
void mig_progress_still_running(const struct mig_connect_opts *o,
				const struct mig_heartbeat *hb, const char *file,
				int line, bool whole_section, const char *what);
/* "PROG: MESSAGE", a lock-wait line, unless -q. */
void mig_progress_say(const struct mig_connect_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
