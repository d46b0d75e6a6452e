/* schedule: parsing, Amsterdam offsets (against the EU rule and the system
 * tzdata), daily runs across both transitions, intervals. */

/* tm_gmtoff, for the tzdata cross-check, is a BSD field glibc hides under
 * plain POSIX. */
#define _DEFAULT_SOURCE

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pc6risk/schedule.h"

#define HOUR 3600LL
#define DAY 86400LL

/* A UTC instant by counting days, deliberately not the module's algorithm so a
 * shared mistake cannot cancel out. Years from 1970. */
static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long long days = 0;

	for (int yy = 1970; yy < y; yy++)
		days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
	for (int m = 1; m < mo; m++)
		days += mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	days += d - 1;
	return (time_t)(days * DAY + h * HOUR + mi * 60LL + s);
}

/* The UTC calendar fields of t, from the C library. */
static struct tm utc_tm(time_t t)
{
	struct tm tm;

	cr_assert_not_null(gmtime_r(&t, &tm));
	return tm;
}

/* Amsterdam wall time of t as the module reckons it, split by the C library. */
static struct tm local_tm(time_t t)
{
	return utc_tm(t + schedule_amsterdam_offset(t));
}

static struct schedule parse_ok(const char *text)
{
	struct schedule s;
	char why[256] = "";

	cr_assert_eq(schedule_parse(text, &s, why, sizeof why), 0, "\"%s\" rejected: %s", text, why);
	return s;
}

static struct schedule daily(int hour, int minute)
{
	return (struct schedule){.kind = SCHEDULE_DAILY, .hour = hour, .minute = minute};
}

static void expect_time(time_t got, time_t want, const char *what)
{
	char g[32], w[32];

	schedule_format(got, g, sizeof g);
	schedule_format(want, w, sizeof w);
	cr_assert_eq(got, want, "%s: got %lld (%s), want %lld (%s)", what, (long long)got, g, (long long)want, w);
}

/* ---- parsing -------------------------------------------------------------- */

Test(schedule, parse_reads_daily_interval_and_off)
{
	struct schedule s;

	s = parse_ok("02:30");
	cr_assert(s.kind == SCHEDULE_DAILY && s.hour == 2 && s.minute == 30);
	s = parse_ok("daily 23:59");
	cr_assert(s.kind == SCHEDULE_DAILY && s.hour == 23 && s.minute == 59);
	s = parse_ok("  daily\t 00:00 \n");
	cr_assert(s.kind == SCHEDULE_DAILY && s.hour == 0 && s.minute == 0);
	s = parse_ok("every 6h");
	cr_assert(s.kind == SCHEDULE_INTERVAL && s.every == 6 * HOUR);
	s = parse_ok("every 90m");
	cr_assert(s.kind == SCHEDULE_INTERVAL && s.every == 90 * 60);
	s = parse_ok("every 1h30m");
	cr_assert(s.kind == SCHEDULE_INTERVAL && s.every == 90 * 60);
	s = parse_ok("every 90s");
	cr_assert(s.kind == SCHEDULE_INTERVAL && s.every == 90);
	s = parse_ok("every 1d2h3m4s");
	cr_assert(s.kind == SCHEDULE_INTERVAL && s.every == DAY + 2 * HOUR + 3 * 60 + 4);
	s = parse_ok("every 60s");
	cr_assert_eq(s.every, 60);
	s = parse_ok("every 7d");
	cr_assert_eq(s.every, 7 * DAY);
	s = parse_ok("every 0d168h");
	cr_assert_eq(s.every, 7 * DAY);
	s = parse_ok("off");
	cr_assert(s.kind == SCHEDULE_NONE);
	s = parse_ok(" none ");
	cr_assert(s.kind == SCHEDULE_NONE);
}

Test(schedule, parse_rejects_with_a_reason_naming_the_text)
{
	static const char *const bad[] = {
		"",           "   ",         "25:00",      "24:00",         "23:60",      "2:30",
		"02:3",       "02-30",       "0230",       "02:30:00",      "daily",      "daily 2:30",
		"daily02:30", "Daily 02:30", "02:30 daily", "every",        "every ",     "every6h",
		"every 6",    "every h",     "every 6x",   "every 30m1h",   "every 1h1h", "every 1h 30m",
		"every -1h",  "every 1.5h",  "every 6H",   "every 45s",     "every 59s",  "every 0s",
		"every 7d1s", "every 8d",    "every 99999999999999999999999d", "OFF",   "off now",   "never",
	};
	struct schedule s;
	char why[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		cr_assert_eq(schedule_parse(bad[i], &s, why, sizeof why), -1, "\"%s\" accepted", bad[i]);
		cr_assert_neq(strstr(why, bad[i]), NULL, "reason for \"%s\" does not name it: %s", bad[i], why);
		cr_assert(why[0] >= 'a' && why[0] <= 'z', "reason not lowercase: %s", why);
		cr_assert(!strchr(why, '\n') && why[strlen(why) - 1] != '.', "not one line: %s", why);
	}
	schedule_parse("25:00", &s, why, sizeof why);
	cr_assert_str_eq(why, "expected \"HH:MM\" (daily, Europe/Amsterdam time) or \"every 6h\", got \"25:00\"");
	schedule_parse("every 30s", &s, why, sizeof why);
	cr_assert_str_eq(why, "interval \"every 30s\" is shorter than 1 minute");
	schedule_parse("every 8d", &s, why, sizeof why);
	cr_assert_str_eq(why, "interval \"every 8d\" is longer than 7 days");
	cr_assert_eq(schedule_parse("every 6x", &s, NULL, 0), -1, "no reason wanted");
}

Test(schedule, parse_reasons_stay_one_line_and_short)
{
	char text[300];
	char why[256];
	struct schedule s;

	cr_assert_eq(schedule_parse("02:30\nrm -rf /", &s, why, sizeof why), -1);
	cr_assert_str_eq(why, "expected \"HH:MM\" (daily, Europe/Amsterdam time) or \"every 6h\", got \"02:30?rm -rf /\"");
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	cr_assert_eq(schedule_parse(text, &s, why, sizeof why), -1);
	cr_assert_lt(strlen(why), 150, "%s", why);
	cr_assert_neq(strstr(why, "xxx...\""), NULL, "%s", why);
	/* cut on a character boundary: 47 x then a two-byte é straddling 48 */
	memset(text, 'x', 47);
	strcpy(text + 47, "\xc3\xa9zzzzzz");
	schedule_parse(text, &s, why, sizeof why);
	cr_assert_neq(strstr(why, "xxx...\""), NULL, "%s", why);
	schedule_parse("every 6x", &s, why, 8);
	cr_assert_str_eq(why, "expecte", "truncated to the buffer");
}

Test(schedule, describe_round_trips)
{
	static const char *const texts[][2] = {
		{"02:30", "daily 02:30"},         {"daily 00:00", "daily 00:00"}, {"every 6h", "every 6h"},
		{"every 90m", "every 1h30m"},     {"every 1h30m", "every 1h30m"}, {"every 3600s", "every 1h"},
		{"every 1d2h3m4s", "every 1d2h3m4s"}, {"every 7d", "every 7d"},   {"every 60s", "every 1m"},
		{"off", "off"},                   {"none", "off"},
	};
	struct schedule s, back;
	char buf[64];

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		s = parse_ok(texts[i][0]);
		schedule_describe(&s, buf, sizeof buf);
		cr_assert_str_eq(buf, texts[i][1], "describe(parse(\"%s\"))", texts[i][0]);
	}
	for (int h = 0; h < 24; h++)
		for (int m = 0; m < 60; m++) {
			s = daily(h, m);
			schedule_describe(&s, buf, sizeof buf);
			back = parse_ok(buf);
			cr_assert(back.kind == SCHEDULE_DAILY && back.hour == h && back.minute == m, "%s", buf);
		}
	for (long long every = SCHEDULE_EVERY_MIN; every <= SCHEDULE_EVERY_MAX; every += 997) {
		s = (struct schedule){.kind = SCHEDULE_INTERVAL, .every = every};
		schedule_describe(&s, buf, sizeof buf);
		back = parse_ok(buf);
		cr_assert(back.kind == SCHEDULE_INTERVAL && back.every == every, "%lld -> %s", every, buf);
	}
	s = (struct schedule){.kind = SCHEDULE_INTERVAL, .every = 0};
	schedule_describe(&s, buf, sizeof buf);
	cr_assert_str_eq(buf, "every 0s");
	s = parse_ok("every 1d2h3m4s");
	schedule_describe(&s, buf, 10);
	cr_assert_str_eq(buf, "every 1d2");
}

/* ---- the Amsterdam offset ------------------------------------------------- */

/* The offset just before, at and just after a switch at `at` from `from` to `to`. */
static void expect_switch(time_t at, int from, int to)
{
	char f[32];

	schedule_format(at, f, sizeof f);
	cr_assert_eq(schedule_amsterdam_offset(at - HOUR), from, "an hour before %s", f);
	cr_assert_eq(schedule_amsterdam_offset(at - 1), from, "a second before %s", f);
	cr_assert_eq(schedule_amsterdam_offset(at), to, "at %s", f);
	cr_assert_eq(schedule_amsterdam_offset(at + 1), to, "a second after %s", f);
	cr_assert_eq(schedule_amsterdam_offset(at + HOUR), to, "an hour after %s", f);
}

Test(schedule, offset_switches_at_0100_utc_on_the_last_sundays_of_2026)
{
	expect_switch(utc(2026, 3, 29, 1, 0, 0), 3600, 7200);
	expect_switch(utc(2026, 10, 25, 1, 0, 0), 7200, 3600);
	/* the Sundays before are not the last ones */
	cr_assert_eq(schedule_amsterdam_offset(utc(2026, 3, 22, 12, 0, 0)), 3600);
	cr_assert_eq(schedule_amsterdam_offset(utc(2026, 10, 18, 12, 0, 0)), 7200);
	cr_assert_eq(schedule_amsterdam_offset(utc(2026, 1, 1, 0, 0, 0)), 3600);
	cr_assert_eq(schedule_amsterdam_offset(utc(2026, 7, 1, 0, 0, 0)), 7200);
	cr_assert_eq(schedule_amsterdam_offset(utc(2026, 12, 31, 23, 59, 59)), 3600);
}

Test(schedule, offset_switches_in_other_years)
{
	expect_switch(utc(1996, 3, 31, 1, 0, 0), 3600, 7200);
	expect_switch(utc(1996, 10, 27, 1, 0, 0), 7200, 3600);
	expect_switch(utc(2024, 3, 31, 1, 0, 0), 3600, 7200); /* leap year, 31st a Sunday */
	expect_switch(utc(2024, 10, 27, 1, 0, 0), 7200, 3600);
	expect_switch(utc(2030, 3, 31, 1, 0, 0), 3600, 7200);
	expect_switch(utc(2030, 10, 27, 1, 0, 0), 7200, 3600);
	expect_switch(utc(2037, 3, 29, 1, 0, 0), 3600, 7200);
	expect_switch(utc(2037, 10, 25, 1, 0, 0), 7200, 3600);
	expect_switch(utc(2100, 3, 28, 1, 0, 0), 3600, 7200); /* 2100 is not a leap year */
	expect_switch(utc(2100, 10, 31, 1, 0, 0), 7200, 3600);
}

/* The EU rule spelled out with the C library's weekdays: the offset for every
 * hour (and the second before it) of 1996-2037. */
static void check_against_pure_rule(void)
{
	for (int y = 1996; y <= 2037; y++) {
		time_t start = 0, end = 0;

		for (int d = 31; d >= 25 && !start; d--)
			if (utc_tm(utc(y, 3, d, 0, 0, 0)).tm_wday == 0)
				start = utc(y, 3, d, 1, 0, 0);
		for (int d = 31; d >= 25 && !end; d--)
			if (utc_tm(utc(y, 10, d, 0, 0, 0)).tm_wday == 0)
				end = utc(y, 10, d, 1, 0, 0);
		for (time_t t = utc(y, 1, 1, 0, 0, 0); t < utc(y + 1, 1, 1, 0, 0, 0); t += HOUR) {
			cr_assert_eq(schedule_amsterdam_offset(t), t >= start && t < end ? 7200 : 3600, "at %lld",
				     (long long)t);
			cr_assert_eq(schedule_amsterdam_offset(t - 1), t - 1 >= start && t - 1 < end ? 7200 : 3600,
				     "at %lld", (long long)t - 1);
		}
	}
}

Test(schedule, offset_follows_the_eu_rule_every_hour_1996_2037)
{
	check_against_pure_rule();
}

/* Criterion runs each test in its own process, so setting TZ here leaves the
 * other tests alone. */
Test(schedule, offset_matches_system_tzdata_every_hour_1996_2037)
{
	if (access("/usr/share/zoneinfo/Europe/Amsterdam", R_OK) != 0) {
		cr_log_warn("no /usr/share/zoneinfo/Europe/Amsterdam: checking the EU rule only, not tzdata");
		check_against_pure_rule();
		return;
	}
	cr_assert_eq(setenv("TZ", "Europe/Amsterdam", 1), 0);
	tzset();
	for (time_t t = utc(1996, 1, 1, 0, 0, 0); t < utc(2038, 1, 1, 0, 0, 0); t += HOUR) {
		for (time_t u = t - 1; u <= t; u++) {
			struct tm tm;
			char f[32];

			cr_assert_not_null(localtime_r(&u, &tm));
			schedule_format(u, f, sizeof f);
			cr_assert_eq(schedule_amsterdam_offset(u), tm.tm_gmtoff, "at %lld (%s): tzdata says %ld",
				     (long long)u, f, (long)tm.tm_gmtoff);
		}
	}
}

/* ---- formatting ----------------------------------------------------------- */

Test(schedule, format_shows_amsterdam_wall_time_and_zone)
{
	char buf[32];

	schedule_format(utc(2026, 3, 29, 1, 0, 0), buf, sizeof buf);
	cr_assert_str_eq(buf, "2026-03-29 03:00 CEST");
	schedule_format(utc(2026, 3, 29, 0, 59, 59), buf, sizeof buf);
	cr_assert_str_eq(buf, "2026-03-29 01:59 CET");
	schedule_format(utc(2026, 10, 25, 0, 30, 0), buf, sizeof buf);
	cr_assert_str_eq(buf, "2026-10-25 02:30 CEST");
	schedule_format(utc(2026, 10, 25, 1, 30, 0), buf, sizeof buf);
	cr_assert_str_eq(buf, "2026-10-25 02:30 CET");
	schedule_format(utc(2025, 12, 31, 23, 30, 0), buf, sizeof buf);
	cr_assert_str_eq(buf, "2026-01-01 00:30 CET");
	schedule_format(utc(2024, 2, 28, 23, 0, 0), buf, sizeof buf);
	cr_assert_str_eq(buf, "2024-02-29 00:00 CET");
	schedule_format(0, buf, sizeof buf);
	cr_assert_str_eq(buf, "1970-01-01 01:00 CET");
	schedule_format(utc(2026, 7, 1, 12, 0, 0), buf, 11);
	cr_assert_str_eq(buf, "2026-07-01");
}

/* ---- daily runs ----------------------------------------------------------- */

Test(schedule, daily_0230_before_during_and_after_the_2026_transitions)
{
	struct schedule s = parse_ok("02:30");
	time_t run;

	/* an ordinary winter night: 02:30 CET */
	expect_time(schedule_next(&s, utc(2026, 3, 27, 12, 0, 0), 0), utc(2026, 3, 28, 1, 30, 0), "28 march");
	/* spring: 02:30 does not exist; the run is at the end of the gap, once */
	run = schedule_next(&s, utc(2026, 3, 28, 1, 30, 0), 0);
	expect_time(run, utc(2026, 3, 29, 1, 0, 0), "29 march");
	expect_time(schedule_next(&s, run, 0), utc(2026, 3, 30, 0, 30, 0), "after the gap run");
	expect_time(schedule_next(&s, run - 1, 0), run, "a second before the gap run");
	/* autumn: the first 02:30 (CEST) runs, the second (CET) does not */
	run = schedule_next(&s, utc(2026, 10, 24, 12, 0, 0), 0);
	expect_time(run, utc(2026, 10, 25, 0, 30, 0), "25 october");
	expect_time(schedule_next(&s, run, 0), utc(2026, 10, 26, 1, 30, 0), "after the first 02:30");
	expect_time(schedule_next(&s, utc(2026, 10, 25, 1, 29, 59), 0), utc(2026, 10, 26, 1, 30, 0),
		    "just before the second 02:30");
	expect_time(schedule_next(&s, utc(2026, 10, 25, 1, 0, 0), 0), utc(2026, 10, 26, 1, 30, 0),
		    "at the switch");
}

struct edge {
	int hour, minute;
	time_t want;
};

static void expect_day(const struct edge *e, size_t n, time_t local_midnight, const char *night)
{
	for (size_t i = 0; i < n; i++) {
		struct schedule s = daily(e[i].hour, e[i].minute);
		char what[64];
		time_t run = schedule_next(&s, local_midnight - 1, 0);

		snprintf(what, sizeof what, "%02d:%02d on the %s night", e[i].hour, e[i].minute, night);
		expect_time(run, e[i].want, what);
		/* and not again that local day */
		cr_assert_eq(local_tm(schedule_next(&s, run, 0)).tm_mday, local_tm(run).tm_mday + 1, "%s twice", what);
	}
}

Test(schedule, daily_edge_times_on_both_2026_transition_nights)
{
	const struct edge spring[] = {
		{0, 0, utc(2026, 3, 28, 23, 0, 0)}, {1, 59, utc(2026, 3, 29, 0, 59, 0)},
		{2, 0, utc(2026, 3, 29, 1, 0, 0)},  {2, 59, utc(2026, 3, 29, 1, 0, 0)},
		{3, 0, utc(2026, 3, 29, 1, 0, 0)},  {23, 59, utc(2026, 3, 29, 21, 59, 0)},
	};
	const struct edge autumn[] = {
		{0, 0, utc(2026, 10, 24, 22, 0, 0)}, {1, 59, utc(2026, 10, 24, 23, 59, 0)},
		{2, 0, utc(2026, 10, 25, 0, 0, 0)},  {2, 59, utc(2026, 10, 25, 0, 59, 0)},
		{3, 0, utc(2026, 10, 25, 2, 0, 0)},  {23, 59, utc(2026, 10, 25, 22, 59, 0)},
	};

	expect_day(spring, sizeof spring / sizeof spring[0], utc(2026, 3, 28, 23, 0, 0), "spring");
	expect_day(autumn, sizeof autumn / sizeof autumn[0], utc(2026, 10, 24, 22, 0, 0), "autumn");
}

/* Is the local date of tm the last Sunday of March? */
static bool spring_sunday(const struct tm *tm)
{
	return tm->tm_mon == 2 && tm->tm_wday == 0 && tm->tm_mday >= 25;
}

Test(schedule, daily_runs_once_per_local_date_2020_2040, .timeout = 60)
{
	static const int hhmm[][2] = {{0, 0}, {1, 0}, {1, 59}, {2, 0}, {2, 30}, {2, 59}, {3, 0}, {12, 0}, {23, 59}};
	const time_t from = utc(2019, 12, 31, 12, 0, 0), to = utc(2040, 12, 31, 12, 0, 0);
	/* 2020-01-01 .. 2040-12-31 */
	const long long dates = (utc(2041, 1, 1, 0, 0, 0) - utc(2020, 1, 1, 0, 0, 0)) / DAY;

	for (size_t k = 0; k < sizeof hhmm / sizeof hhmm[0]; k++) {
		struct schedule s = daily(hhmm[k][0], hhmm[k][1]);
		time_t prev = from;
		long long prev_date = -1, runs = 0;

		for (time_t run = schedule_next(&s, from, 0); run <= to + DAY; run = schedule_next(&s, run, 0)) {
			struct tm tm = local_tm(run);
			long long date = ((long long)run + schedule_amsterdam_offset(run)) / DAY;
			char f[32];

			schedule_format(run, f, sizeof f);
			cr_assert_gt(run, prev, "%02d:%02d: %s not after the previous run", s.hour, s.minute, f);
			cr_assert(prev_date < 0 || date == prev_date + 1, "%02d:%02d: %s skips or repeats a date",
				  s.hour, s.minute, f);
			if (spring_sunday(&tm) && s.hour == 2) {
				cr_assert(tm.tm_hour == 3 && tm.tm_min == 0, "%02d:%02d in the gap: %s", s.hour,
					  s.minute, f);
			} else {
				cr_assert(tm.tm_hour == s.hour && tm.tm_min == s.minute && tm.tm_sec == 0,
					  "%02d:%02d: ran at %s", s.hour, s.minute, f);
			}
			/* in the autumn fold, the first (CEST) reading */
			if (s.hour == 2 && tm.tm_mon == 9 && tm.tm_wday == 0 && tm.tm_mday >= 25)
				cr_assert_eq(schedule_amsterdam_offset(run), 7200, "%02d:%02d: %s", s.hour, s.minute, f);
			cr_assert_eq(schedule_next(&s, run - 1, 0), run, "%02d:%02d: %s not found from just before",
				     s.hour, s.minute, f);
			prev = run;
			prev_date = date;
			if (run >= utc(2020, 1, 1, 0, 0, 0) - HOUR && run < utc(2041, 1, 1, 0, 0, 0) - HOUR)
				runs++;
		}
		cr_assert_eq(runs, dates, "%02d:%02d: %lld runs for %lld dates", s.hour, s.minute, runs, dates);
	}
}

Test(schedule, daily_next_from_any_instant_is_the_first_run_after_it)
{
	struct schedule s = daily(2, 30);
	unsigned long long x = 88172645463325252ULL;
	const time_t from = utc(2020, 1, 1, 0, 0, 0), span = utc(2041, 1, 1, 0, 0, 0) - from;

	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		time_t after = from + (time_t)(x % (unsigned long long)span);
		time_t run = schedule_next(&s, after, 0);
		time_t before = schedule_next(&s, run - 1, 0);

		cr_assert_gt(run, after, "at %lld", (long long)after);
		cr_assert_leq(run - after, DAY + HOUR, "at %lld", (long long)after);
		cr_assert_eq(before, run, "at %lld", (long long)after);
		/* Nothing was due between after and run: the run before it is not
		 * later than after. Runs are 23 to 25 hours apart, so the first run
		 * after run - 25h - 1s is the previous one. */
		cr_assert_leq(schedule_next(&s, run - DAY - HOUR - 1, 0), after, "at %lld", (long long)after);
	}
}

/* ---- intervals and off ---------------------------------------------------- */

Test(schedule, interval_runs_after_last_or_now_once)
{
	struct schedule s = parse_ok("every 1h");
	const time_t now = utc(2026, 5, 1, 12, 0, 0);

	expect_time(schedule_next(&s, now, 0), now, "never ran: due now");
	expect_time(schedule_next(&s, now, -5), now, "never ran (negative)");
	expect_time(schedule_next(&s, now, now - 600), now - 600 + HOUR, "ran ten minutes ago");
	expect_time(schedule_next(&s, now, now - HOUR), now, "exactly due");
	expect_time(schedule_next(&s, now, now - 3 * DAY), now, "slept three days: once, now");
	expect_time(schedule_next(&s, now, now), now + HOUR, "just ran");
}

Test(schedule, off_never_runs)
{
	struct schedule s = parse_ok("off");

	cr_assert_eq(schedule_next(&s, utc(2026, 5, 1, 12, 0, 0), 0), (time_t)-1);
	cr_assert_eq(schedule_next(&s, utc(2026, 5, 1, 12, 0, 0), utc(2026, 5, 1, 11, 0, 0)), (time_t)-1);
}
