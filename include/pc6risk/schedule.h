/*
 * schedule — when the nightly-refresh daemon runs next: parsing a schedule
 * text, the next due instant, and Amsterdam local time for log lines.
 *
 * Pure functions on values: nothing allocates, outputs go into caller-provided
 * buffers that are always NUL-terminated (when their size is not 0). Local time
 * is Europe/Amsterdam computed by arithmetic alone (no tzdata, no TZ, no
 * localtime), so every function is thread-safe and gives the same answer on
 * every machine.
 */
#ifndef PC6RISK_SCHEDULE_H
#define PC6RISK_SCHEDULE_H

#include <stddef.h>
#include <time.h>

enum schedule_kind { SCHEDULE_NONE, SCHEDULE_DAILY, SCHEDULE_INTERVAL };

/* The shortest and longest interval "every ..." accepts, in seconds. */
#define SCHEDULE_EVERY_MIN 60LL
#define SCHEDULE_EVERY_MAX (7LL * 24 * 3600)

struct schedule {
	enum schedule_kind kind;
	int hour, minute; /* DAILY: Amsterdam wall time, 00:00-23:59 */
	long long every;  /* INTERVAL: seconds, SCHEDULE_EVERY_MIN..SCHEDULE_EVERY_MAX */
};

/* Parse a schedule text, surrounding blanks ignored: "02:30" or "daily 02:30"
 * (Amsterdam wall time, two-digit hour and minute, 00:00-23:59); "every 6h",
 * "every 90m", "every 1h30m", "every 90s" (units d h m s, each at most once and
 * in that order, 60 s to 7 days in total); "off" or "none" for never. Keywords
 * and units are lowercase. Returns 0 with *s filled, or -1 with a one-line
 * lowercase reason naming the text in why (NULL for none), e.g.
 * expected "HH:MM" (daily, Europe/Amsterdam time) or "every 6h", got "25:00". */
int schedule_parse(const char *text, struct schedule *s, char *why, size_t whylen);

/* Seconds east of UTC in Europe/Amsterdam at t: 7200 (CEST) from the last
 * Sunday of March 01:00 UTC up to the last Sunday of October 01:00 UTC, else
 * 3600 (CET). This is the EU rule in force since 1996; it is applied to every
 * year, so instants before 1996 may differ from what the clocks showed. */
int schedule_amsterdam_offset(time_t t);

/* When the next run is due, given the current instant after and the start of
 * the last run (last <= 0: it never ran).
 * DAILY: the first instant strictly later than after at which Amsterdam wall
 * time reads HH:MM; last is not used. When HH:MM falls in the hour skipped in
 * spring (02:00-02:59), the run is at the end of the gap (03:00 CEST, 01:00
 * UTC); when it occurs twice in autumn, only the first (CEST) one counts. So
 * there is exactly one run per local calendar date.
 * INTERVAL: after when it never ran; else last + every, but not earlier than
 * after: a daemon that slept through one or more runs runs once, now, rather
 * than catching up. A result equal to after means "due now".
 * NONE: (time_t)-1, never. */
time_t schedule_next(const struct schedule *s, time_t after, time_t last);

/* t as Amsterdam local time for log lines, "2026-03-29 03:00 CEST"; 32 bytes
 * hold any year from 0 to 9999. */
void schedule_format(time_t t, char *buf, size_t n);

/* The schedule as text schedule_parse reads back to the same value:
 * "daily 02:30", "every 1h30m", "off". */
void schedule_describe(const struct schedule *s, char *buf, size_t n);

#endif
