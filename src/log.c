#include "pc6risk/log.h"

#include <pthread.h>
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
/* threads log too (publish writes tiles beside the GeoPackage, the daemon
 * serves requests): one line or progress redraw at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void progress_clear(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}

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
	pthread_mutex_lock(&lock);
	progress_clear();
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s ", stamp, level_name(level));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&lock);
}

void log_progress(const char *what, size_t done, size_t total)
{
	int tty = __atomic_load_n(&stderr_tty, __ATOMIC_RELAXED);
	struct timespec now;
	double since;

	/* callers may call per row: not on a terminal this costs a load */
	if (min_level > LOG_INFO || tty == 0)
		return;
	if (tty < 0) {
		tty = isatty(STDERR_FILENO);
		__atomic_store_n(&stderr_tty, tty, __ATOMIC_RELAXED);
		if (!tty)
			return;
	}
	pthread_mutex_lock(&lock);
	/* look at the clock every 256 calls */
	if (done != total && (progress_calls++ & 255) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (double)(now.tv_sec - progress_last.tv_sec) +
		(double)(now.tv_nsec - progress_last.tv_nsec) / 1e9;
	if (progress_shown && since < 0.2 && done != total)
		goto out;
	progress_last = now;
	if (total > 0)
		fprintf(stderr, "\r\033[K%s  %zu/%zu (%.0f%%)", what, done, total,
			100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r\033[K%s  %zu", what, done);
	fflush(stderr);
	progress_shown = true;
out:
	pthread_mutex_unlock(&lock);
}

void log_progress_end(void)
{
	pthread_mutex_lock(&lock);
	progress_clear();
	pthread_mutex_unlock(&lock);
}

void log_step(struct timespec *t, const char *stage, const char *what)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	log_msg(LOG_DEBUG, "%s step %s took %.2fs", stage, what,
		(double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9);
	*t = now;
}
