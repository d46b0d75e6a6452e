/*
 * log — one line per event on stderr, and progress on a terminal.
 *
 * Lines read "2026-11-23T04:25:45Z info message key=value ...": time in UTC,
 * level, then the message. Callers put key=value pairs at the end of the
 * message themselves. Progress is drawn only when stderr is a terminal.
 * The module keeps a little global state (level, progress line); it owns no
 * memory the caller sees.
 */
#ifndef PC6RISK_LOG_H
#define PC6RISK_LOG_H

#include <stddef.h>
#include <time.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Events below level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Log one event. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Redraw a progress line "what  done/total (pct%)" when stderr is a terminal
 * and at most a few times a second; total 0 means unknown. Does nothing
 * otherwise. log_progress_end clears the line. */
void log_progress(const char *what, size_t done, size_t total);
void log_progress_end(void);

/* Log at debug level (-v) "<stage> step <what> took N.NNs", the time since *t
 * (CLOCK_MONOTONIC), and set *t to now for the next step. */
void log_step(struct timespec *t, const char *stage, const char *what);

#endif
