#include "pc6risk/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static bool progress_shown;
static struct timespec progress_last;
static int stderr_tty = -1; /* unknown until the first progress call */
static unsigned progress_calls;

void log_set_level(enum log_level level)
{
	min_level = level;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warning";
	case LOG_ERROR: return "error";
	}
	return "info";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char stamp[32];
	struct tm tm;
	time_t now;
	va_list ap;

	if (level < min_level)
		return;
	if (progress_shown)
		log_progress_end();
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s ", stamp, level_name(level));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_progress(const char *what, size_t done, size_t total)
{
	struct timespec now;
	double since;

	if (stderr_tty < 0)
		stderr_tty = isatty(STDERR_FILENO);
	if (min_level > LOG_INFO || !stderr_tty)
		return;
	/* look at the clock every 256 calls: callers may call per row */
	if (done != total && (progress_calls++ & 255) != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (double)(now.tv_sec - progress_last.tv_sec) +
		(double)(now.tv_nsec - progress_last.tv_nsec) / 1e9;
	if (progress_shown && since < 0.2 && done != total)
		return;
	progress_last = now;
	if (total > 0)
		fprintf(stderr, "\r\033[K%s  %zu/%zu (%.0f%%)", what, done, total,
			100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r\033[K%s  %zu", what, done);
	fflush(stderr);
	progress_shown = true;
}

void log_progress_end(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}
