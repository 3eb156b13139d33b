/*
 * progress.c: the clock and the wording of the lines a user watches while
 * a run works (progress.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"
#include "db.h"
#include "mig.h"
#include "migfile.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

void mig_heartbeat_start(struct mig_heartbeat *hb, double seconds)
{
	hb->interval_ms = seconds > 0 ? seconds * 1000.0 : 0;
	hb->start_ms = mig_now_ms();
	hb->next_ms = hb->start_ms + hb->interval_ms;
}

bool mig_heartbeat_due(struct mig_heartbeat *hb)
{
	if (hb->interval_ms <= 0)
		return false;
	double now = mig_now_ms();
	if (now < hb->next_ms)
		return false;
	/* a beat late (a slow server answer) does not make the next ones early */
	while (hb->next_ms <= now)
		hb->next_ms += hb->interval_ms;
	return true;
}

void mig_heartbeat_rest(struct mig_heartbeat *hb)
{
	double now = mig_now_ms();
	if (hb->interval_ms > 0 && hb->next_ms < now + hb->interval_ms)
		hb->next_ms = now + hb->interval_ms;
}

int mig_heartbeat_wait_ms(const struct mig_heartbeat *hb)
{
	if (hb->interval_ms <= 0)
		return -1;
	double left = hb->next_ms - mig_now_ms();
	if (left <= 0)
		return 0;
	return left >= INT_MAX ? INT_MAX : (int)left + 1;
}

double mig_heartbeat_elapsed(const struct mig_heartbeat *hb)
{
	return (mig_now_ms() - hb->start_ms) / 1000.0;
}

char *mig_duration_text(double ms)
{
	if (ms < 1000.0)
		return xasprintf("%.1f ms", ms);
	if (ms < 120000.0)
		return xasprintf("%.1f s", ms / 1000.0);
	long s = (long)(ms / 1000.0);
	return xasprintf("%ld min %02ld s", s / 60, s % 60);
}

bool mig_progress_on(const struct mig_connect_opts *o)
{
	return o->progress && !o->quiet;
}

void mig_progress_step_start(const struct mig_connect_opts *o, bool upgrade,
			     size_t pos, size_t total, const struct mig_rev *rev)
{
	if (!mig_progress_on(o))
		return;
	bool said = rev->message && *rev->message;
	fprintf(stderr, "%s %zu/%zu %s%s%s \xe2\x80\xa6\n", upgrade ? "applying" : "reverting",
		pos, total, rev->id, said ? " " : "", said ? rev->message : "");
	fflush(stderr);
}

void mig_progress_step_done(const struct mig_connect_opts *o, bool upgrade,
			    size_t pos, size_t total, const struct mig_rev *rev,
			    double ms)
{
	if (!mig_progress_on(o))
		return;
	char *took = mig_duration_text(ms);
	fprintf(stderr, "%s %zu/%zu %s in %s\n", upgrade ? "applied" : "reverted", pos,
		total, rev->id, took);
	fflush(stderr);
	free(took);
}

void mig_progress_still_running(const struct mig_connect_opts *o,
				const struct mig_heartbeat *hb, const char *file,
				int line, bool whole_section, const char *what)
{
	if (o->quiet)
		return;
	char *took = mig_duration_text(mig_heartbeat_elapsed(hb) * 1000.0);
	fprintf(stderr, "  still running after %s at %s:%d%s%s%s\n", took, file, line,
		whole_section ? " (the section, sent whole)" : "", what ? ": " : "",
		what ? what : "");
	fflush(stderr);
	free(took);
}

void mig_progress_say(const struct mig_connect_opts *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", mig_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
}
