#include "pc6risk/schedule.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400LL

/* Both EU transitions happen at 01:00 UTC, whatever the local clock says. */
#define SWITCH_UTC 3600LL

#define CET 3600
#define CEST 7200

static long long floor_div(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil: exact for every year, no tables, no library). */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(long long z, long long *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(long long z)
{
	return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

/* Day number of the last Sunday of month m (1..11) of year y. */
static long long last_sunday(long long y, int m)
{
	long long last = days_from_civil(y, m + 1, 1) - 1;

	return last - weekday(last);
}

static int offset_at(long long t)
{
	long long y;
	int m, d;

	/* Both switches are at 01:00 UTC in March and October, far from New
	 * Year, so the UTC year is the local year for this purpose. */
	civil_from_days(floor_div(t, DAY), &y, &m, &d);
	long long start = last_sunday(y, 3) * DAY + SWITCH_UTC;
	long long end = last_sunday(y, 10) * DAY + SWITCH_UTC;

	return t >= start && t < end ? CEST : CET;
}

int schedule_amsterdam_offset(time_t t)
{
	return offset_at((long long)t);
}

/* The instant of the daily run on local date `day`. */
static long long daily_run(const struct schedule *s, long long day)
{
	long long wall = day * DAY + s->hour * 3600LL + s->minute * 60LL;

	/* CEST first: where the wall time occurs twice, the CEST reading is the
	 * earlier one, and only that one counts. */
	if (offset_at(wall - CEST) == CEST)
		return wall - CEST;
	if (offset_at(wall - CET) == CET)
		return wall - CET;
	/* Neither reading exists: the wall time is in the spring gap, which
	 * ends at the switch. */
	return day * DAY + SWITCH_UTC;
}

time_t schedule_next(const struct schedule *s, time_t after, time_t last)
{
	long long a = (long long)after;

	switch (s->kind) {
	case SCHEDULE_DAILY: {
		/* Local dates never run backwards (the autumn fold repeats an
		 * hour within one date), so the run is today's or tomorrow's. */
		long long day = floor_div(a + offset_at(a), DAY);
		long long run = daily_run(s, day);

		return (time_t)(run > a ? run : daily_run(s, day + 1));
	}
	case SCHEDULE_INTERVAL: {
		if (last <= 0)
			return after;
		long long run = (long long)last + s->every;

		return (time_t)(run > a ? run : a);
	}
	case SCHEDULE_NONE:
		break;
	}
	return (time_t)-1;
}

void schedule_format(time_t t, char *buf, size_t n)
{
	int off = offset_at((long long)t);
	long long local = (long long)t + off;
	long long day = floor_div(local, DAY);
	long long sec = local - day * DAY;
	long long y;
	int m, d;

	if (n == 0)
		return;
	civil_from_days(day, &y, &m, &d);
	snprintf(buf, n, "%04lld-%02d-%02d %02lld:%02lld %s", y, m, d, sec / 3600, sec / 60 % 60,
		 off == CEST ? "CEST" : "CET");
}

void schedule_describe(const struct schedule *s, char *buf, size_t n)
{
	static const struct {
		char unit;
		long long sec;
	} units[] = {{'d', DAY}, {'h', 3600}, {'m', 60}, {'s', 1}};

	if (n == 0)
		return;
	switch (s->kind) {
	case SCHEDULE_DAILY:
		snprintf(buf, n, "daily %02d:%02d", s->hour, s->minute);
		return;
	case SCHEDULE_INTERVAL: {
		long long rest = s->every;
		int len = snprintf(buf, n, "every ");

		/* A struct not made by schedule_parse may hold no valid interval;
		 * say what it holds rather than a bare "every". */
		if (rest <= 0) {
			snprintf(buf, n, "every %llds", rest);
			return;
		}
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			long long k = rest / units[i].sec;

			rest -= k * units[i].sec;
			if (k > 0 && (size_t)len < n)
				len += snprintf(buf + len, n - (size_t)len, "%lld%c", k, units[i].unit);
		}
		return;
	}
	case SCHEDULE_NONE:
		break;
	}
	snprintf(buf, n, "off");
}

/* ---- parsing ------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Does [p, end) start with the keyword followed by at least one blank? */
static bool keyword(const char *p, const char *end, const char *kw, const char **rest)
{
	size_t len = strlen(kw);

	if ((size_t)(end - p) <= len || memcmp(p, kw, len) != 0 || !is_blank(p[len]))
		return false;
	p += len;
	while (p < end && is_blank(*p))
		p++;
	*rest = p;
	return true;
}

/* "HH:MM", exactly. */
static bool parse_hhmm(const char *p, const char *end, int *hour, int *minute)
{
	if (end - p != 5 || !is_digit(p[0]) || !is_digit(p[1]) || p[2] != ':' || !is_digit(p[3]) ||
	    !is_digit(p[4]))
		return false;
	*hour = (p[0] - '0') * 10 + (p[1] - '0');
	*minute = (p[3] - '0') * 10 + (p[4] - '0');
	return *hour <= 23 && *minute <= 59;
}

/* "1h30m": numbers with units d h m s, each at most once and in that order.
 * Saturates just above SCHEDULE_EVERY_MAX so huge numbers cannot overflow and
 * still read as "too long". */
static bool parse_every(const char *p, const char *end, long long *every)
{
	static const char order[] = "dhms";
	static const long long unit_sec[] = {DAY, 3600, 60, 1};
	const long long cap = SCHEDULE_EVERY_MAX + 1;
	long long total = 0;
	int next_unit = 0;

	if (p == end)
		return false;
	while (p < end) {
		long long v = 0;
		const char *u;

		if (!is_digit(*p))
			return false;
		while (p < end && is_digit(*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > cap)
				v = cap;
		}
		if (p == end || !(u = memchr(order, *p, 4)) || u - order < next_unit)
			return false;
		next_unit = (int)(u - order) + 1;
		total += v * unit_sec[u - order];
		if (total > cap)
			total = cap;
		p++;
	}
	*every = total;
	return true;
}

/* The text as it can be quoted in a one-line message: control characters as
 * '?', long texts cut (on a UTF-8 character boundary) with "...". */
static void quote(const char *text, char *out, size_t n)
{
	const size_t max = 48;
	size_t len = strlen(text);
	size_t keep = len;
	size_t i;

	if (keep > max) {
		keep = max;
		while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
			keep--;
	}
	for (i = 0; i < keep && i + 1 < n; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = (char)(c < 0x20 || c == 0x7F ? '?' : c);
	}
	out[i] = '\0';
	if (keep < len && i + 4 < n)
		memcpy(out + i, "...", 4);
}

int schedule_parse(const char *text, struct schedule *s, char *why, size_t whylen)
{
	const char *p = text;
	const char *end = text + strlen(text);
	const char *rest;
	char q[64];
	struct schedule out = {.kind = SCHEDULE_NONE};

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	quote(text, q, sizeof q);

	if ((end - p == 3 && memcmp(p, "off", 3) == 0) || (end - p == 4 && memcmp(p, "none", 4) == 0)) {
		*s = out;
		return 0;
	}
	if (keyword(p, end, "every", &rest)) {
		if (!parse_every(rest, end, &out.every)) {
			if (why && whylen)
				snprintf(why, whylen,
					 "expected an interval like \"every 6h\" or \"every 1h30m\" "
					 "(units d h m s, in that order), got \"%s\"",
					 q);
			return -1;
		}
		if (out.every < SCHEDULE_EVERY_MIN || out.every > SCHEDULE_EVERY_MAX) {
			if (why && whylen)
				snprintf(why, whylen, "interval \"%s\" is %s", q,
					 out.every < SCHEDULE_EVERY_MIN ? "shorter than 1 minute"
									: "longer than 7 days");
			return -1;
		}
		out.kind = SCHEDULE_INTERVAL;
		*s = out;
		return 0;
	}
	if (!keyword(p, end, "daily", &rest))
		rest = p;
	if (!parse_hhmm(rest, end, &out.hour, &out.minute)) {
		if (why && whylen)
			snprintf(why, whylen,
				 "expected \"HH:MM\" (daily, Europe/Amsterdam time) or \"every 6h\", got \"%s\"", q);
		return -1;
	}
	out.kind = SCHEDULE_DAILY;
	*s = out;
	return 0;
}
